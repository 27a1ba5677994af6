/**
 * Per-slot usage, as Valkey 8's CLUSTER SLOT-STATS reports it: the CPU
 * time, request bytes and reply bytes of the commands whose keys all hash
 * to one slot (`cluster-slot-stats-enabled yes`). key-count is not kept
 * here: the keyspace counts keys per slot already (Db.slotSizes).
 *
 * The unit of attribution is a top-level command: EXEC and scripts take
 * the slot their commands' keys share (their nested commands are not
 * counted again), and a command whose keys span several slots, or that has
 * none, is counted nowhere, as Valkey skips every command without
 * c->slot.
 */

import { SLOTS } from '../engine/slot.js';
import { argLength } from '../protocol/big-args.js';
import { bulkSize, uintDigits } from '../util/bytes.js';

/** A unit that has touched no key yet. */
export const NO_KEYS = -2;
/** A unit whose keys span several slots. */
export const CROSS_SLOT = -1;

/** Bytes of the MULTI that opened a transaction (`*1\r\n$5\r\nmulti\r\n`): Valkey adds them to EXEC's. */
export const MULTI_REQUEST_BYTES = 15;

export class SlotStats {
  /** cluster-slot-stats-enabled: accounting on (the dispatcher checks this once per command). */
  enabled = false;
  readonly cpuUsec = new Float64Array(SLOTS);
  readonly bytesIn = new Float64Array(SLOTS);
  readonly bytesOut = new Float64Array(SLOTS);
  /** The slot of the unit running now: NO_KEYS, CROSS_SLOT or a slot. */
  private unitSlot = NO_KEYS;

  /** CONFIG RESETSTAT. */
  reset(): void {
    this.cpuUsec.fill(0);
    this.bytesIn.fill(0);
    this.bytesOut.fill(0);
  }

  /** A top-level command starts. */
  beginUnit(): void {
    this.unitSlot = NO_KEYS;
  }

  /** A command ran inside the current unit (the top-level one too): merge the slot of its keys (commands/command-slot.ts). */
  noteSlot(slot: number): void {
    if (this.unitSlot !== CROSS_SLOT) this.unitSlot = mergeSlot(this.unitSlot, slot);
  }

  /** The top-level command ended: charge its slot, if it has exactly one. */
  endUnit(usec: number, requestBytes: number, replyBytes: number): void {
    this.charge(this.takeUnitSlot(), usec, requestBytes, replyBytes);
  }

  /** The current unit's slot (NO_KEYS, CROSS_SLOT or a slot), ending the unit: a blocked command is charged later. */
  takeUnitSlot(): number {
    const slot = this.unitSlot;
    this.unitSlot = NO_KEYS;
    return slot;
  }

  /** Add a finished command's time and bytes to `slot` (nothing when it is not one slot). */
  charge(slot: number, usec: number, requestBytes: number, replyBytes: number): void {
    if (slot < 0 || !this.enabled) return;
    this.cpuUsec[slot] += usec;
    this.bytesIn[slot] += requestBytes;
    this.bytesOut[slot] += replyBytes;
  }

  /** A command was queued by MULTI: its request bytes count now, for its own slot (EXEC runs it later). */
  queued(slot: number, requestBytes: number): void {
    if (slot >= 0) this.bytesIn[slot] += requestBytes;
  }

  /** Bytes sent to others on a slot's behalf (SPUBLISH's messages to the shard channel's subscribers). */
  addBytesOut(slot: number, bytes: number): void {
    this.bytesOut[slot] += bytes;
  }
}

/** The slot of keys seen so far combined with one more command's. */
export function mergeSlot(unit: number, slot: number): number {
  if (slot === NO_KEYS) return unit;
  if (unit === NO_KEYS) return slot;
  return unit === slot ? unit : CROSS_SLOT;
}

/** The bytes of `argv` sent as a canonical RESP multibulk (`*N\r\n` then `$len\r\n<arg>\r\n` each). */
export function multibulkBytes(argv: readonly string[]): number {
  let n = 3 + uintDigits(argv.length);
  for (let i = 0; i < argv.length; i++) n += bulkSize(argLength(argv, i));
  return n;
}
