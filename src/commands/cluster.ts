/**
 * CLUSTER in standalone mode: what a single node can answer about hash
 * slots (KEYSLOT, COUNTKEYSINSLOT, GETKEYSINSLOT as Redis' cluster.c; Valkey
 * 8's SLOT-STATS), and Redis' standalone reply for every subcommand about
 * the cluster itself (nodes, topology, slot ownership): Vireo has no
 * cluster, and says so as redis-server does without cluster-enabled.
 *
 * A standalone Vireo serves all 16384 slots, so SLOT-STATS lists each of
 * them. Keys are counted in the client's selected database (Valkey in
 * cluster mode has database 0 only).
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import type { Db } from '../engine/keyspace.js';
import { SLOTS, keySlot } from '../engine/slot.js';
import { ERR, argLong, argRange, cstr, eq, replyHelp } from './util.js';
import type { SlotStats } from '../diagnostics/slot-stats.js';

const CLUSTER_DISABLED = 'ERR This instance has cluster support disabled';

const CLUSTER_HELP = [
  'COUNTKEYSINSLOT <slot>',
  '    Return the number of keys in <slot>.',
  'GETKEYSINSLOT <slot> <count>',
  '    Return key names stored by current node in a slot.',
  'KEYSLOT <key>',
  '    Return the hash slot for <key>.',
  'SLOT-STATS SLOTSRANGE <start-slot> <end-slot> | ORDERBY <metric> [LIMIT <limit>] [ASC|DESC]',
  '    Return usage statistics of the slots in a range, or of the first <limit> slots',
  '    ordered by <metric>: key-count, and with cluster-slot-stats-enabled also',
  '    cpu-usec, network-bytes-in and network-bytes-out.',
  'Every other subcommand answers that cluster support is disabled (Vireo runs standalone).',
];

/** Subcommands about the cluster itself: a standalone node answers Redis' standalone error. */
const TOPOLOGY_SUBCOMMANDS = [
  'addslots', 'addslotsrange', 'bumpepoch', 'count-failure-reports', 'delslots', 'delslotsrange', 'failover',
  'flushslots', 'forget', 'info', 'links', 'meet', 'myid', 'myshardid', 'nodes', 'replicas', 'replicate', 'reset',
  'saveconfig', 'set-config-epoch', 'setslot', 'shards', 'slaves', 'slots',
];

function countKeysInSlot(ctx: CommandContext, argv: string[]): void {
  const slot = argLong(ctx, argv[2]!);
  if (slot === null) return;
  if (slot < 0 || slot >= SLOTS) {
    ctx.reply.error('ERR Invalid slot');
    return;
  }
  ctx.reply.integer(ctx.db.slotSizes[slot]!);
}

function getKeysInSlot(ctx: CommandContext, argv: string[]): void {
  const slot = argLong(ctx, argv[2]!);
  if (slot === null) return;
  const maxKeys = argLong(ctx, argv[3]!);
  if (maxKeys === null) return;
  if (slot < 0 || slot >= SLOTS || maxKeys < 0) {
    ctx.reply.error('ERR Invalid slot or number of keys');
    return;
  }
  ctx.reply.bulkArray(newestKeysInSlot(ctx.db, slot, Math.min(maxKeys, ctx.db.slotSizes[slot]!)));
}

/**
 * The `n` most recently added keys of a slot, newest first: Redis 7 keeps
 * each slot's keys in a list it prepends to, and a slot's Map iterates
 * oldest first. A ring of `n` entries keeps the memory to the reply's size.
 */
function newestKeysInSlot(db: Db, slot: number, n: number): string[] {
  const keys = db.slotKeys(slot);
  if (keys === undefined || n === 0) return [];
  const ring = new Array<string>(n);
  let seen = 0;
  for (const k of keys) ring[seen++ % n] = k;
  const out = new Array<string>(n);
  for (let i = 0; i < n; i++) out[i] = ring[(seen - 1 - i) % n]!;
  return out;
}

// ---- SLOT-STATS (Valkey 8's cluster_slot_stats.c) ---------------------------------

type SlotMetric = 'key-count' | 'cpu-usec' | 'network-bytes-in' | 'network-bytes-out';

const EXTRA_METRICS: readonly SlotMetric[] = ['cpu-usec', 'network-bytes-in', 'network-bytes-out'];

function metricOf(db: Db, stats: SlotStats, metric: SlotMetric, slot: number): number {
  switch (metric) {
    case 'key-count':
      return db.slotSizes[slot]!;
    case 'cpu-usec':
      return Math.round(stats.cpuUsec[slot]!);
    case 'network-bytes-in':
      return stats.bytesIn[slot]!;
    case 'network-bytes-out':
      return stats.bytesOut[slot]!;
  }
}

/** One entry: [slot, {key-count, and with the accounting on cpu-usec, network-bytes-in, network-bytes-out}]. */
function replySlotStat(ctx: CommandContext, slot: number): void {
  const r = ctx.reply;
  const stats = ctx.host.slotStats;
  r.array(2);
  r.integer(slot);
  r.map(stats.enabled ? 4 : 1);
  r.bulk('key-count');
  r.integer(ctx.db.slotSizes[slot]!);
  if (!stats.enabled) return;
  for (const metric of EXTRA_METRICS) {
    r.bulk(metric);
    r.integer(metricOf(ctx.db, stats, metric, slot));
  }
}

/** Valkey's getSlotOrReply. */
function argSlot(ctx: CommandContext, s: string): number | null {
  return argRange(ctx, s, 0, SLOTS - 1, 'ERR Invalid or out of range slot');
}

function slotStats(ctx: CommandContext, argv: string[]): void {
  if (argv.length === 5 && eq(argv[2]!, 'slotsrange')) {
    slotStatsRange(ctx, argv);
  } else if (argv.length >= 4 && eq(argv[2]!, 'orderby')) {
    slotStatsOrdered(ctx, argv);
  } else {
    ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv[1]!).slice(0, 128)}'. Try CLUSTER HELP.`);
  }
}

function slotStatsRange(ctx: CommandContext, argv: string[]): void {
  const start = argSlot(ctx, argv[3]!);
  if (start === null) return;
  const end = argSlot(ctx, argv[4]!);
  if (end === null) return;
  if (start > end) {
    ctx.reply.error(`ERR Start slot number ${start} is greater than end slot number ${end}`);
    return;
  }
  ctx.reply.array(end - start + 1);
  for (let slot = start; slot <= end; slot++) replySlotStat(ctx, slot);
}

function parseMetric(name: string, extrasOn: boolean): SlotMetric | null {
  if (eq(name, 'key-count')) return 'key-count';
  if (!extrasOn) return null;
  for (const metric of EXTRA_METRICS) if (eq(name, metric)) return metric;
  return null;
}

function slotStatsOrdered(ctx: CommandContext, argv: string[]): void {
  const stats = ctx.host.slotStats;
  const metric = parseMetric(argv[3]!, stats.enabled);
  if (metric === null) {
    ctx.reply.error('ERR Unrecognized sort metric for ORDERBY.');
    return;
  }
  let desc = true;
  let limit = SLOTS;
  let limits = 0;
  let orders = 0;
  for (let i = 4; i < argv.length; i++) {
    const arg = argv[i]!;
    if (eq(arg, 'limit') && i + 1 < argv.length) {
      const n = argRange(ctx, argv[++i]!, 1, SLOTS, 'ERR Limit has to lie in between 1 and 16384 (maximum number of slots).');
      if (n === null) return;
      limit = n;
      limits++;
    } else if (eq(arg, 'asc')) {
      desc = false;
      orders++;
    } else if (eq(arg, 'desc')) {
      desc = true;
      orders++;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
    if (limits > 1 || orders > 1) {
      ctx.reply.error('ERR Multiple filters of the same type are disallowed.');
      return;
    }
  }
  const slots = orderedSlots(ctx.db, stats, metric, desc);
  ctx.reply.array(limit);
  for (let i = 0; i < limit; i++) replySlotStat(ctx, slots[i]!);
}

/** Every slot ordered by `metric` (ties: lower slot first, in either direction, as Valkey sorts). */
function orderedSlots(db: Db, stats: SlotStats, metric: SlotMetric, desc: boolean): Int32Array {
  const values = new Float64Array(SLOTS);
  for (let slot = 0; slot < SLOTS; slot++) values[slot] = metricOf(db, stats, metric, slot);
  const slots = new Int32Array(SLOTS);
  for (let slot = 0; slot < SLOTS; slot++) slots[slot] = slot;
  return slots.sort((a, b) => (desc ? values[b]! - values[a]! : values[a]! - values[b]!) || a - b);
}

/** Redis' answer, without cluster-enabled, to what only a cluster node does. */
function clusterDisabled(ctx: CommandContext): void {
  ctx.reply.error(CLUSTER_DISABLED);
}

export const clusterCommands: CommandImpl[] = [
  { name: 'cluster|keyslot', run: (ctx, argv) => ctx.reply.integer(keySlot(argv[2]!)) },
  { name: 'cluster|countkeysinslot', run: countKeysInSlot },
  { name: 'cluster|getkeysinslot', run: getKeysInSlot },
  { name: 'cluster|slot-stats', run: slotStats },
  { name: 'cluster|help', run: (ctx) => replyHelp(ctx, 'CLUSTER', CLUSTER_HELP) },
  ...TOPOLOGY_SUBCOMMANDS.map((sub) => ({ name: `cluster|${sub}`, run: clusterDisabled })),
  // What cluster clients send a node (reads from replicas, a slot being
  // migrated): a standalone redis-server refuses them with the same error.
  // READONLY and READWRITE answer a client that declared CLIENT CAPA
  // redirect, as Valkey 8 does: READONLY keeps its reads on a replica.
  { name: 'readonly', run: (ctx) => setReadonlyMode(ctx, true) },
  { name: 'readwrite', run: (ctx) => setReadonlyMode(ctx, false) },
  { name: 'asking', run: clusterDisabled },
];

function setReadonlyMode(ctx: CommandContext, on: boolean): void {
  const conn = ctx.conn;
  if (conn === null || !conn.capaRedirect) {
    clusterDisabled(ctx);
    return;
  }
  conn.readonlyMode = on;
  ctx.reply.ok();
}
