/**
 * Consumer group commands (t_stream.c): XGROUP CREATE/SETID/DESTROY/
 * CREATECONSUMER/DELCONSUMER/HELP, XACK, XACKDEL (Redis 8.2), XPENDING,
 * XCLAIM and XAUTOCLAIM.
 *
 * XCLAIM and XAUTOCLAIM are logged as Redis propagates them: one
 * `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID
 * last` per entry claimed, and the same for each pending entry they drop
 * because its stream entry is gone (the replay finds it gone too and
 * drops it), plus XGROUP SETID when only LASTID moved the group.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argLong, cstr, eq, replyHelp } from './util.js';
import { parseInt64 } from '../util/numbers.js';
import { NOTIFY } from '../engine/engine.js';
import { StreamValue } from '../types/stream.js';
import { INVALID_ENTRIES_READ, type Consumer, type Nack, type StreamGroup } from '../types/stream-group.js';
import { MIN_ID, asInt64, compareIds, formatId, idFromKey, idKey, parseId, type StreamID, type U64 } from '../types/stream-id.js';
import { argId, argRangeBound, parsePolicyAndIds } from './stream-args.js';
import { replyId, writeEntryById } from './stream-reply.js';
import { argInt64, streamForRead, streamForWrite, subcommandSyntaxError } from './streams.js';

const NO_KEY_FOR_XGROUP =
  'ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.';

function noGroupForKey(group: string, key: string): string {
  return `NOGROUP No such consumer group '${cstr(group)}' for key name '${cstr(key)}'`;
}

function noKeyOrGroup(key: string, group: string): string {
  return `NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(group)}'`;
}

// ---- XGROUP -------------------------------------------------------------------------

interface XgroupTarget {
  s: StreamValue | undefined;
  mkstream: boolean;
  entriesRead: U64;
}

/**
 * What every XGROUP subcommand with a key does first (xgroupCommand): the
 * CREATE/SETID options from argv[5], the key looked up for writing, and
 * unless MKSTREAM the key must exist. Null after replying.
 */
function xgroupTarget(ctx: CommandContext, argv: string[], sub: string): XgroupTarget | null {
  const t: XgroupTarget = { s: undefined, mkstream: false, entriesRead: INVALID_ENTRIES_READ };
  for (let i = 5; i < argv.length; ) {
    const opt = argv[i]!;
    if (sub === 'create' && eq(opt, 'mkstream')) {
      t.mkstream = true;
      i++;
    } else if ((sub === 'create' || sub === 'setid') && eq(opt, 'entriesread') && i + 1 < argv.length) {
      const n = argInt64(ctx, argv[i + 1]!);
      if (n === null) return null;
      if (n < 0 && n !== INVALID_ENTRIES_READ) {
        ctx.reply.error('ERR value for ENTRIESREAD must be positive or -1');
        return null;
      }
      t.entriesRead = n;
      i += 2;
    } else {
      subcommandSyntaxError(ctx, argv);
      return null;
    }
  }
  const s = streamForWrite(ctx, argv[2]!);
  if (s === null) return null;
  t.s = s;
  if (!t.mkstream && s === undefined) {
    ctx.reply.error(NO_KEY_FOR_XGROUP);
    return null;
  }
  return t;
}

/** The group the subcommand names, or null after NOGROUP. */
function existingGroup(ctx: CommandContext, argv: string[], s: StreamValue): StreamGroup | null {
  const g = s.group(argv[3]!);
  if (g === undefined) {
    ctx.reply.error(noGroupForKey(argv[3]!, argv[2]!));
    return null;
  }
  return g;
}

function xgroupCreate(ctx: CommandContext, argv: string[]): void {
  const t = xgroupTarget(ctx, argv, 'create');
  if (t === null) return;
  if (argv.length > 8) {
    subcommandSyntaxError(ctx, argv);
    return;
  }
  const key = argv[2]!;
  let id: StreamID;
  if (argv[4] === '$') id = t.s?.lastId ?? MIN_ID;
  else {
    const parsed = argId(ctx, argv[4]!);
    if (parsed === null) return;
    id = parsed;
  }
  let s = t.s;
  const made = s === undefined;
  if (s === undefined) {
    s = new StreamValue();
    ctx.engine.setKey(ctx.db, key, s);
  }
  if (s.createGroup(argv[3]!, id, t.entriesRead) === null) {
    ctx.reply.error('BUSYGROUP Consumer Group name already exists');
    return;
  }
  ctx.reply.ok();
  // MKSTREAM making the key is a change of the key (WATCH, caches); a group alone is not.
  if (made) ctx.changed(key, NOTIFY.STREAM, 'xgroup-create');
  else ctx.engine.groupChanged(ctx.db, key, 'xgroup-create');
  ctx.engine.emit(ctx.db.id, argv);
}

function xgroupSetid(ctx: CommandContext, argv: string[]): void {
  const t = xgroupTarget(ctx, argv, 'setid');
  if (t === null) return;
  const g = existingGroup(ctx, argv, t.s!);
  if (g === null) return;
  if (argv.length !== 5 && argv.length !== 7) {
    subcommandSyntaxError(ctx, argv);
    return;
  }
  let id: StreamID;
  if (argv[4] === '$') id = t.s!.lastId;
  else {
    const parsed = argId(ctx, argv[4]!, 0, false);
    if (parsed === null) return;
    id = parsed;
  }
  g.lastId = id;
  g.entriesRead = t.entriesRead;
  ctx.reply.ok();
  ctx.engine.groupChanged(ctx.db, argv[2]!, 'xgroup-setid');
  ctx.engine.emit(ctx.db.id, argv);
}

function xgroupDestroy(ctx: CommandContext, argv: string[]): void {
  const t = xgroupTarget(ctx, argv, 'destroy');
  if (t === null) return;
  const s = t.s!;
  if (s.group(argv[3]!) === undefined) {
    ctx.reply.integer(0);
    return;
  }
  s.groups!.delete(argv[3]!);
  ctx.reply.integer(1);
  // XREADGROUP clients blocked on the group are woken: they answer NOGROUP.
  ctx.engine.groupChanged(ctx.db, argv[2]!, 'xgroup-destroy', true);
  ctx.engine.emit(ctx.db.id, argv);
}

function xgroupCreateConsumer(ctx: CommandContext, argv: string[]): void {
  const t = xgroupTarget(ctx, argv, 'createconsumer');
  if (t === null) return;
  const g = existingGroup(ctx, argv, t.s!);
  if (g === null) return;
  const created = g.createConsumer(argv[4]!, ctx.engine.now);
  ctx.reply.integer(created === null ? 0 : 1);
  if (created === null) return;
  ctx.engine.groupChanged(ctx.db, argv[2]!, 'xgroup-createconsumer');
  ctx.engine.emit(ctx.db.id, argv);
}

function xgroupDelConsumer(ctx: CommandContext, argv: string[]): void {
  const t = xgroupTarget(ctx, argv, 'delconsumer');
  if (t === null) return;
  const g = existingGroup(ctx, argv, t.s!);
  if (g === null) return;
  const c = g.consumers.get(argv[4]!);
  if (c === undefined) {
    ctx.reply.integer(0);
    return;
  }
  ctx.reply.integer(g.deleteConsumer(c));
  ctx.engine.groupChanged(ctx.db, argv[2]!, 'xgroup-delconsumer');
  ctx.engine.emit(ctx.db.id, argv);
}

// ---- XACK / XACKDEL -----------------------------------------------------------------

function xack(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const s = streamForRead(ctx, key);
  if (s === null) return;
  const g = s?.group(argv[2]!);
  if (g === undefined) {
    ctx.reply.integer(0);
    return;
  }
  const keys: string[] = [];
  for (let j = 3; j < argv.length; j++) {
    const id = argId(ctx, argv[j]!);
    if (id === null) return;
    keys.push(idKey(id));
  }
  let acked = 0;
  for (const k of keys) if (g.ack(k)) acked++;
  ctx.reply.integer(acked);
  if (acked === 0) return;
  ctx.engine.groupStateChanged();
  ctx.engine.emit(ctx.db.id, argv, acked);
}

/** XACKDEL key group [KEEPREF|DELREF|ACKED] IDS n id...: ack in the group, then delete as the policy allows. */
function xackdel(ctx: CommandContext, argv: string[]): void {
  const parsed = parsePolicyAndIds(ctx, argv, 3);
  if (parsed === null) return;
  const key = argv[1]!;
  const s = streamForWrite(ctx, key);
  if (s === null) return;
  const { policy, ids } = parsed;
  const g = s?.group(argv[2]!);
  ctx.reply.array(ids.length);
  if (s === undefined || g === undefined) {
    for (let i = 0; i < ids.length; i++) ctx.reply.integer(-1);
    return;
  }
  let changed = false;
  let deleted = 0;
  let firstDeleted = false;
  for (const id of ids) {
    if (g.ack(idKey(id))) changed = true;
    if (policy === 'acked' && s.has(id) && s.isReferenced(id)) {
      ctx.reply.integer(2);
      continue;
    }
    if (policy === 'delref' && s.deleteReferences(id)) changed = true;
    if (!s.delete(id)) {
      ctx.reply.integer(-1);
      continue;
    }
    ctx.reply.integer(1);
    deleted++;
    if (compareIds(id, s.firstId) === 0) firstDeleted = true;
    if (compareIds(id, s.maxDeletedId) > 0) s.maxDeletedId = id;
  }
  if (deleted > 0) {
    if (s.length === 0) s.firstId = MIN_ID;
    else if (firstDeleted) s.firstId = s.edgeId(true, true);
  }
  if (!changed && deleted === 0) return;
  if (deleted > 0) ctx.changed(key, NOTIFY.STREAM, 'xdel');
  else ctx.engine.groupStateChanged();
  ctx.engine.emit(ctx.db.id, argv, Math.max(1, deleted));
}

// ---- XPENDING -----------------------------------------------------------------------

function xpending(ctx: CommandContext, argv: string[]): void {
  const argc = argv.length;
  if (argc !== 3 && (argc < 6 || argc > 9)) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  let minIdle = 0;
  let count = 0;
  let start: StreamID = MIN_ID;
  let end: StreamID = MIN_ID;
  let consumerName: string | null = null;
  if (argc >= 6) {
    let at = 3;
    if (eq(argv[3]!, 'idle')) {
      const n = argLong(ctx, argv[4]!);
      if (n === null) return;
      minIdle = n;
      if (argc < 8) {
        ctx.reply.error(ERR.SYNTAX);
        return;
      }
      at += 2;
    }
    const n = argLong(ctx, argv[at + 2]!);
    if (n === null) return;
    count = n < 0 ? 0 : n;
    const s0 = argRangeBound(ctx, argv[at]!, true);
    if (s0 === null) return;
    const e0 = argRangeBound(ctx, argv[at + 1]!, false);
    if (e0 === null) return;
    start = s0;
    end = e0;
    if (at + 3 < argc) consumerName = argv[at + 3]!;
  }
  const s = streamForRead(ctx, argv[1]!);
  if (s === null) return;
  const g = s?.group(argv[2]!);
  if (g === undefined) {
    ctx.reply.error(noKeyOrGroup(argv[1]!, argv[2]!));
    return;
  }
  const r = ctx.reply;
  if (argc === 3) {
    r.array(4);
    r.integer(g.pel.size);
    if (g.pel.size === 0) {
      r.nullBulk();
      r.nullBulk();
      r.nullArray();
      return;
    }
    replyId(r, idFromKey(g.pel.firstKey()!));
    replyId(r, idFromKey(g.pel.lastKey()!));
    const owners = g.sortedConsumers().filter((c) => c.pel.size > 0);
    r.array(owners.length);
    for (const c of owners) {
      r.array(2);
      r.bulk(c.name);
      r.bulk(String(c.pel.size));
    }
    return;
  }
  let pel = g.pel;
  if (consumerName !== null) {
    const c = g.consumers.get(consumerName);
    if (c === undefined) {
      r.array(0);
      return;
    }
    pel = c.pel;
  }
  const now = ctx.engine.now;
  const endKey = idKey(end);
  const rows: [string, Nack][] = [];
  pel.forEachFrom(idKey(start), (k, nack) => {
    if (rows.length >= count || k > endKey) return false;
    if (minIdle !== 0 && now - nack.deliveryTime < minIdle) return true;
    rows.push([k, nack]);
    return true;
  });
  r.array(rows.length);
  for (const [k, nack] of rows) {
    r.array(4);
    replyId(r, idFromKey(k));
    r.bulk(nack.consumer!.name);
    r.integer(Math.max(0, now - nack.deliveryTime));
    r.integer(asInt64(nack.deliveryCount));
  }
}

// ---- XCLAIM / XAUTOCLAIM ----------------------------------------------------------

/** streamPropagateXCLAIM: the record that gives `id` to the NACK's owner with its time and count (or drops it on replay when the entry is gone). */
function claimRecord(key: string, groupName: string, g: StreamGroup, id: StreamID, nack: Nack): string[] {
  return [
    'XCLAIM', key, groupName, nack.consumer!.name, '0', formatId(id), 'TIME', String(nack.deliveryTime),
    'RETRYCOUNT', String(asInt64(nack.deliveryCount)), 'FORCE', 'JUSTID', 'LASTID', formatId(g.lastId),
  ];
}

/** The named consumer, created if missing (with its effect and signal), its seen-time now. */
function claimingConsumer(ctx: CommandContext, key: string, groupName: string, g: StreamGroup, name: string): Consumer {
  let c = g.consumers.get(name);
  if (c === undefined) {
    c = g.createConsumer(name, ctx.engine.now)!;
    ctx.engine.groupChanged(ctx.db, key, 'xgroup-createconsumer');
    ctx.engine.emit(ctx.db.id, ['XGROUP', 'CREATECONSUMER', key, groupName, name]);
  }
  c.seenTime = ctx.engine.now;
  return c;
}

function xclaim(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const groupName = argv[2]!;
  const s = streamForRead(ctx, key);
  if (s === null) return;
  const g = s?.group(groupName);
  if (s === undefined || g === undefined) {
    ctx.reply.error(noKeyOrGroup(key, groupName));
    return;
  }
  let minIdle = argLong(ctx, argv[4]!, 'ERR Invalid min-idle-time argument for XCLAIM');
  if (minIdle === null) return;
  if (minIdle < 0) minIdle = 0;
  // IDs until the first argument that is not one; the options follow.
  const ids: StreamID[] = [];
  let j = 5;
  for (; j < argv.length; j++) {
    const parsed = parseId(argv[j]!, 0, true);
    if (parsed === null) break;
    ids.push(parsed.id);
  }
  const now = ctx.engine.now;
  let force = false;
  let justId = false;
  let deliveryTime = -1;
  let retryCount: U64 = -1;
  let lastId: StreamID = MIN_ID;
  for (; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j]!;
    if (eq(opt, 'force')) force = true;
    else if (eq(opt, 'justid')) justId = true;
    else if (eq(opt, 'idle') && more > 0) {
      const n = argLong(ctx, argv[++j]!, 'ERR Invalid IDLE option argument for XCLAIM');
      if (n === null) return;
      deliveryTime = now - n;
    } else if (eq(opt, 'time') && more > 0) {
      const n = argLong(ctx, argv[++j]!, 'ERR Invalid TIME option argument for XCLAIM');
      if (n === null) return;
      deliveryTime = n;
    } else if (eq(opt, 'retrycount') && more > 0) {
      const n = argInt64(ctx, argv[++j]!, 'ERR Invalid RETRYCOUNT option argument for XCLAIM');
      if (n === null) return;
      retryCount = n;
    } else if (eq(opt, 'lastid') && more > 0) {
      const id = argId(ctx, argv[++j]!);
      if (id === null) return;
      lastId = id;
    } else {
      ctx.reply.error(`ERR Unrecognized XCLAIM option '${cstr(opt)}'`);
      return;
    }
  }
  let groupMoved = false;
  if (compareIds(lastId, g.lastId) > 0) {
    g.lastId = lastId;
    groupMoved = true;
  }
  // A bogus time (in the future, or negative) means now, as Redis takes it.
  if (deliveryTime === -1 || deliveryTime < 0 || deliveryTime > now) deliveryTime = now;
  const consumer = claimingConsumer(ctx, key, groupName, g, argv[3]!);
  const effects: string[][] = [];
  const claimed: StreamID[] = [];
  for (const id of ids) {
    const k = idKey(id);
    let nack = g.pel.get(k);
    if (!s.has(id)) {
      // The entry is gone: its pending entry goes too.
      if (nack !== undefined) {
        effects.push(claimRecord(key, groupName, g, id, nack));
        g.ack(k);
      }
      continue;
    }
    if (force && nack === undefined) {
      nack = { deliveryTime: now, deliveryCount: 1, consumer: null };
      g.pel.set(k, nack);
    }
    if (nack === undefined) continue;
    if (nack.consumer !== null && minIdle !== 0 && now - nack.deliveryTime < minIdle) continue;
    g.assign(k, nack, consumer);
    nack.deliveryTime = deliveryTime;
    if (retryCount >= 0) nack.deliveryCount = retryCount;
    else if (!justId) nack.deliveryCount = incrCount(nack.deliveryCount);
    claimed.push(id);
    consumer.activeTime = now;
    effects.push(claimRecord(key, groupName, g, id, nack));
  }
  if (effects.length > 0) groupMoved = false;
  if (groupMoved) effects.push(['XGROUP', 'SETID', key, groupName, formatId(g.lastId), 'ENTRIESREAD', String(asInt64(g.entriesRead))]);
  ctx.reply.array(claimed.length);
  for (const id of claimed) {
    if (justId) replyId(ctx.reply, id);
    else writeEntryById(ctx.reply, s, id);
  }
  if (effects.length === 0) return;
  ctx.engine.groupStateChanged();
  for (const e of effects) ctx.engine.emit(ctx.db.id, e);
}

function incrCount(n: U64): U64 {
  return typeof n === 'number' && n < Number.MAX_SAFE_INTEGER ? n + 1 : BigInt(n) + 1n;
}

/** COUNT's upper bound: LONG_MAX / max(sizeof(streamID), attempts factor 10). */
const AUTOCLAIM_MAX_COUNT = 576460752303423487n;
/**
 * Redis allocates COUNT stream IDs (16 bytes each) up front and answers
 * "Insufficient memory" when that fails: on a 64-bit host a request past
 * 64 TB always does. Vireo allocates nothing by COUNT; it answers the same
 * error from that size on.
 */
const AUTOCLAIM_ALLOC_LIMIT = 2 ** 42;

function xautoclaim(ctx: CommandContext, argv: string[]): void {
  let minIdle = argLong(ctx, argv[4]!, 'ERR Invalid min-idle-time argument for XAUTOCLAIM');
  if (minIdle === null) return;
  if (minIdle < 0) minIdle = 0;
  const start = argRangeBound(ctx, argv[5]!, true);
  if (start === null) return;
  let count = 100;
  let justId = false;
  for (let j = 6; j < argv.length; j++) {
    const opt = argv[j]!;
    if (eq(opt, 'count') && j + 1 < argv.length) {
      // getRangeLongFromObjectOrReply: the bound is checked on the exact int64.
      const n = parseInt64(argv[++j]!);
      if (n === null || n < 1n || n > AUTOCLAIM_MAX_COUNT) {
        ctx.reply.error('ERR COUNT must be > 0');
        return;
      }
      count = Number(n);
    } else if (eq(opt, 'justid')) justId = true;
    else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const key = argv[1]!;
  const groupName = argv[2]!;
  const s = streamForRead(ctx, key);
  if (s === null) return;
  const g = s?.group(groupName);
  if (s === undefined || g === undefined) {
    ctx.reply.error(noKeyOrGroup(key, groupName));
    return;
  }
  if (count >= AUTOCLAIM_ALLOC_LIMIT) {
    ctx.reply.error('ERR Insufficient memory, failed allocating transient memory, COUNT too high.');
    return;
  }
  const consumer = claimingConsumer(ctx, key, groupName, g, argv[3]!);
  const now = ctx.engine.now;
  let attempts = count * 10;
  const effects: string[][] = [];
  const claimed: StreamID[] = [];
  const deleted: StreamID[] = [];
  // Walk the PEL from start; each step looks up the next key, so entries can be dropped on the way.
  let k = g.pel.ceilingKey(idKey(start));
  while (attempts-- > 0 && count > 0 && k !== undefined) {
    const cur = k;
    const nack = g.pel.get(cur)!;
    const id = idFromKey(cur);
    // The next key (+ '\0' sorts right after this one): taken now, as this one may be dropped.
    k = g.pel.ceilingKey(cur + '\0');
    if (!s.has(id)) {
      effects.push(claimRecord(key, groupName, g, id, nack));
      g.ack(cur);
      deleted.push(id);
      count--;
      continue;
    }
    if (minIdle !== 0 && now - nack.deliveryTime < minIdle) continue;
    g.assign(cur, nack, consumer);
    nack.deliveryTime = now;
    if (!justId) nack.deliveryCount = incrCount(nack.deliveryCount);
    claimed.push(id);
    count--;
    consumer.activeTime = now;
    effects.push(claimRecord(key, groupName, g, id, nack));
  }
  const r = ctx.reply;
  r.array(3);
  replyId(r, k === undefined ? MIN_ID : idFromKey(k));
  r.array(claimed.length);
  for (const id of claimed) {
    if (justId) replyId(r, id);
    else writeEntryById(r, s, id);
  }
  r.array(deleted.length);
  for (const id of deleted) replyId(r, id);
  if (effects.length === 0) return;
  ctx.engine.groupStateChanged();
  for (const e of effects) ctx.engine.emit(ctx.db.id, e);
}

export const streamGroupCommands: CommandImpl[] = [
  { name: 'xgroup|create', run: xgroupCreate },
  { name: 'xgroup|setid', run: xgroupSetid },
  { name: 'xgroup|destroy', run: xgroupDestroy },
  { name: 'xgroup|createconsumer', run: xgroupCreateConsumer },
  { name: 'xgroup|delconsumer', run: xgroupDelConsumer },
  {
    name: 'xgroup|help',
    run: (ctx) =>
      replyHelp(ctx, 'XGROUP', [
        'CREATE <key> <groupname> <id|$> [option]',
        '    Create a new consumer group. Options are:',
        '    * MKSTREAM',
        '      Create the empty stream if it does not exist.',
        '    * ENTRIESREAD entries_read',
        "      Set the group's entries_read counter (internal use).",
        'CREATECONSUMER <key> <groupname> <consumer>',
        '    Create a new consumer in the specified group.',
        'DELCONSUMER <key> <groupname> <consumer>',
        '    Remove the specified consumer.',
        'DESTROY <key> <groupname>',
        '    Remove the specified group.',
        'SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]',
        '    Set the current group ID and entries_read counter.',
      ]),
  },
  { name: 'xack', run: xack },
  { name: 'xackdel', run: xackdel },
  { name: 'xpending', run: xpending },
  { name: 'xclaim', run: xclaim },
  { name: 'xautoclaim', run: xautoclaim },
];

