/**
 * Which hash slot a command line works on, as cluster routing decides it
 * (Valkey's c->slot): the per-slot stats (diagnostics/slot-stats.ts) charge
 * a command to it, and hot-key sampling (diagnostics/hot-keys.ts) counts
 * its keys.
 */

import { F, commandKeys, type Command } from './table.js';
import { keySlot } from '../engine/slot.js';
import { NO_KEYS, mergeSlot } from '../diagnostics/slot-stats.js';

/** Sharded Pub/Sub commands: their shard channels route like keys (NOT_KEY specs). */
const SHARD_CHANNEL_COMMANDS = new Set(['spublish', 'ssubscribe', 'sunsubscribe']);

/**
 * The one slot all of a command's keys hash to: NO_KEYS when it has none,
 * CROSS_SLOT when they span several. Shard channels count as keys, as
 * cluster routing treats them.
 */
export function commandSlot(cmd: Command, argv: readonly string[]): number {
  let slot = NO_KEYS;
  if (cmd.flags & F.PUBSUB) {
    if (!SHARD_CHANNEL_COMMANDS.has(cmd.name)) return NO_KEYS;
    const last = cmd.name === 'spublish' ? Math.min(1, argv.length - 1) : argv.length - 1;
    for (let i = 1; i <= last; i++) slot = mergeSlot(slot, keySlot(argv[i]!));
    return slot;
  }
  for (const ref of commandKeys(cmd, argv)) slot = mergeSlot(slot, keySlot(argv[ref.pos]!));
  return slot;
}

/** The keys a command line names (for hot-key sampling). */
export function commandKeyNames(cmd: Command, argv: readonly string[]): string[] {
  return commandKeys(cmd, argv).map((ref) => argv[ref.pos]!);
}
