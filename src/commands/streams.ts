/**
 * Stream commands without consumer groups (t_stream.c): XADD, XTRIM, XDEL,
 * XDELEX (Redis 8.2), XRANGE, XREVRANGE, XLEN, XSETID and XINFO. XREAD and
 * XREADGROUP are in stream-read.ts, the group commands in stream-groups.ts.
 *
 * Effects are logged as Redis propagates them: XADD with the ID it
 * assigned in place of `*` or `<ms>-*`, and XADD/XTRIM with `~` as `=` and
 * the exact threshold the trimming reached, so a replay does exactly the
 * same.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argLong, cstr, eq, lookupTyped, replyHelp } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import { StreamValue, STREAM_LISTPACK_MAX_SIZE, type TrimArgs } from '../types/stream.js';
import { INVALID_ENTRIES_READ, type Nack } from '../types/stream-group.js';
import type { IdMap } from '../types/id-map.js';
import {
  MAX_ID, MIN_ID, U64_MAX, asInt64, compareIds, formatId, idFromKey, incrId, isZeroId, type StreamID, type U64,
} from '../types/stream-id.js';
import { argId, argRangeBound, mustObey, parseAddTrimArgs, parsePolicyAndIds, type AddTrimArgs } from './stream-args.js';
import { replyId, writeEntry, writeRange } from './stream-reply.js';
import { parseInteger } from '../util/numbers.js';

/** A stream for reading: the value, undefined when missing, null after WRONGTYPE. */
export function streamForRead(ctx: CommandContext, key: string): StreamValue | undefined | null {
  return lookupTyped<StreamValue>(ctx, key, 'stream', false);
}

export function streamForWrite(ctx: CommandContext, key: string): StreamValue | undefined | null {
  return lookupTyped<StreamValue>(ctx, key, 'stream', true);
}

/** getLongLongFromObjectOrReply with the exact int64 (counters that are printed back). */
export function argInt64(ctx: CommandContext, s: string, msg: string = ERR.NOT_INTEGER): number | bigint | null {
  const v = parseInteger(s);
  if (v === null) ctx.reply.error(msg);
  return v;
}

// ---- XADD / XTRIM -------------------------------------------------------------------

function trimArgsOf(a: AddTrimArgs): TrimArgs {
  return { strategy: a.strategy!, maxlen: a.maxlen, minid: a.minid, approx: a.approx, limit: a.limit, policy: a.policy };
}

/**
 * The command as it is logged: `~` becomes `=` with the exact result of the
 * trimming (streamRewriteTrimArgument), and an explicit KEEPREF, the
 * default, is dropped (so the record replays on servers before 8.2 too).
 */
function loggedTrimArgv(argv: string[], a: AddTrimArgs, s: StreamValue, idIndex: number, id: string | null): string[] {
  const out = argv.slice();
  if (a.strategy !== null && a.approx) {
    out[a.thresholdIndex - 1] = '=';
    out[a.thresholdIndex] = a.strategy === 'maxlen' ? String(s.length) : formatId(s.edgeId(true, false));
  }
  if (id !== null) out[idIndex] = id;
  if (a.policyIndex >= 0 && a.policy === 'keepref') out.splice(a.policyIndex, 1);
  return out;
}

/** streamAppendItem's ID choice: the ID to add, or null (and the error replied). */
function newEntryId(ctx: CommandContext, s: StreamValue, a: AddTrimArgs): StreamID | null {
  const last = s.lastId;
  let id: StreamID | null;
  if (a.id !== null && a.seqGiven) id = a.id;
  else if (a.id !== null) {
    // <ms>-*: the next sequence of that millisecond, or 0 for a later one.
    if (a.id.ms === last.ms) id = last.seq === U64_MAX ? null : incrId(last);
    else id = { ms: a.id.ms, seq: 0 };
  } else {
    const now = ctx.engine.now;
    id = now > last.ms ? { ms: now, seq: 0 } : incrId(last);
  }
  if (id === null || compareIds(id, last) <= 0) {
    ctx.reply.error('ERR The ID specified in XADD is equal or smaller than the target stream top item');
    return null;
  }
  return id;
}

function xadd(ctx: CommandContext, argv: string[]): void {
  const a = parseAddTrimArgs(ctx, argv, true, mustObey(ctx), ctx.engine.limits.streamNodeMaxEntries);
  if (a === null) return;
  const fieldPos = a.idIndex + 1;
  const pairs = argv.length - fieldPos;
  if (pairs < 2 || pairs % 2 === 1) {
    ctx.reply.error(`ERR wrong number of arguments for 'xadd' command`);
    return;
  }
  if (a.id !== null && a.seqGiven && isZeroId(a.id)) {
    ctx.reply.error('ERR The ID specified in XADD must be greater than 0-0');
    return;
  }
  const key = argv[1]!;
  let s = streamForWrite(ctx, key);
  if (s === null) return;
  if (s === undefined && a.noMkStream) {
    ctx.reply.nullBulk();
    return;
  }
  let elementBytes = 0;
  for (let i = fieldPos; i < argv.length; i++) elementBytes += argv[i]!.length;
  const probe = s ?? new StreamValue();
  if (compareIds(probe.lastId, MAX_ID) === 0) {
    ctx.reply.error('ERR The stream has exhausted the last possible ID, unable to add more items');
    return;
  }
  const id = newEntryId(ctx, probe, a);
  if (id === null) return;
  if (elementBytes > STREAM_LISTPACK_MAX_SIZE) {
    ctx.reply.error('ERR Elements are too large to be stored');
    return;
  }
  if (s === undefined) {
    s = probe;
    ctx.engine.setKey(ctx.db, key, s);
  }
  const limits = ctx.engine.limits;
  s.append(id, argv, fieldPos, pairs / 2, limits.streamNodeMaxBytes, limits.streamNodeMaxEntries);
  replyId(ctx.reply, id);
  ctx.changed(key, NOTIFY.STREAM, 'xadd');
  if (a.strategy !== null && s.trim(trimArgsOf(a)) > 0) ctx.changed(key, NOTIFY.STREAM, 'xtrim');
  const generated = a.id === null || !a.seqGiven;
  ctx.engine.emit(ctx.db.id, loggedTrimArgv(argv, a, s, a.idIndex, generated ? formatId(id) : null));
}

function xtrim(ctx: CommandContext, argv: string[]): void {
  const a = parseAddTrimArgs(ctx, argv, false, mustObey(ctx), ctx.engine.limits.streamNodeMaxEntries);
  if (a === null) return;
  const key = argv[1]!;
  const s = streamForWrite(ctx, key);
  if (s === null) return;
  if (s === undefined) {
    ctx.reply.integer(0);
    return;
  }
  const deleted = s.trim(trimArgsOf(a));
  if (deleted > 0) {
    ctx.changed(key, NOTIFY.STREAM, 'xtrim');
    ctx.engine.emit(ctx.db.id, loggedTrimArgv(argv, a, s, -1, null), deleted);
  }
  ctx.reply.integer(deleted);
}

// ---- XDEL / XDELEX --------------------------------------------------------------

/** After deletes: the first ID, and the largest deleted ID (XDEL's bookkeeping). */
function afterDeletes(s: StreamValue, deletedIds: StreamID[]): void {
  if (deletedIds.length === 0) return;
  let firstDeleted = false;
  for (const id of deletedIds) {
    if (compareIds(id, s.firstId) === 0) firstDeleted = true;
    if (compareIds(id, s.maxDeletedId) > 0) s.maxDeletedId = id;
  }
  if (s.length === 0) s.firstId = MIN_ID;
  else if (firstDeleted) s.firstId = s.edgeId(true, true);
}

function xdel(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const s = streamForWrite(ctx, key);
  if (s === null) return;
  if (s === undefined) {
    ctx.reply.integer(0);
    return;
  }
  const ids: StreamID[] = [];
  for (let j = 2; j < argv.length; j++) {
    const id = argId(ctx, argv[j]!);
    if (id === null) return;
    ids.push(id);
  }
  const deleted: StreamID[] = [];
  for (const id of ids) if (s.delete(id)) deleted.push(id);
  afterDeletes(s, deleted);
  if (deleted.length > 0) {
    ctx.changed(key, NOTIFY.STREAM, 'xdel');
    ctx.engine.emit(ctx.db.id, argv, deleted.length);
  }
  ctx.reply.integer(deleted.length);
}

/** XDELEX key [KEEPREF|DELREF|ACKED] IDS numids id... (Redis 8.2): per ID 1 deleted, -1 absent, 2 still referenced. */
function xdelex(ctx: CommandContext, argv: string[]): void {
  const parsed = parsePolicyAndIds(ctx, argv, 2);
  if (parsed === null) return;
  const key = argv[1]!;
  const s = streamForWrite(ctx, key);
  if (s === null) return;
  const { policy, ids } = parsed;
  ctx.reply.array(ids.length);
  if (s === undefined) {
    for (let i = 0; i < ids.length; i++) ctx.reply.integer(-1);
    return;
  }
  const deleted: StreamID[] = [];
  let changed = false;
  for (const id of ids) {
    if (policy === 'acked' && s.has(id) && s.isReferenced(id)) {
      ctx.reply.integer(2);
      continue;
    }
    if (policy === 'delref' && s.deleteReferences(id)) changed = true;
    if (s.delete(id)) {
      deleted.push(id);
      ctx.reply.integer(1);
    } else {
      ctx.reply.integer(-1);
    }
  }
  afterDeletes(s, deleted);
  if (deleted.length > 0 || changed) {
    ctx.changed(key, NOTIFY.STREAM, 'xdel');
    ctx.engine.emit(ctx.db.id, argv, Math.max(1, deleted.length));
  }
}

// ---- XRANGE / XREVRANGE / XLEN ----------------------------------------------------

function xrange(ctx: CommandContext, argv: string[], rev: boolean): void {
  const start = argRangeBound(ctx, rev ? argv[3]! : argv[2]!, true);
  if (start === null) return;
  const end = argRangeBound(ctx, rev ? argv[2]! : argv[3]!, false);
  if (end === null) return;
  let count = -1;
  for (let j = 4; j < argv.length; j++) {
    if (eq(argv[j]!, 'count') && j + 1 < argv.length) {
      const n = argLong(ctx, argv[++j]!);
      if (n === null) return;
      count = n < 0 ? 0 : n;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const s = streamForRead(ctx, argv[1]!);
  if (s === null) return;
  if (s === undefined) {
    ctx.reply.array(0);
    return;
  }
  if (count === 0) {
    ctx.reply.nullArray();
    return;
  }
  writeRange(ctx.reply, s, start, end, rev, count === -1 ? 0 : count);
}

// ---- XSETID -------------------------------------------------------------------

function xsetid(ctx: CommandContext, argv: string[]): void {
  const id = argId(ctx, argv[2]!);
  if (id === null) return;
  let entriesAdded: U64 | -1 = -1;
  let maxDeleted: StreamID = MIN_ID;
  for (let i = 3; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i]!;
    if (eq(opt, 'entriesadded') && more > 0) {
      const n = argInt64(ctx, argv[++i]!);
      if (n === null) return;
      if (n < 0) {
        ctx.reply.error('ERR entries_added must be positive');
        return;
      }
      entriesAdded = n;
    } else if (eq(opt, 'maxdeletedid') && more > 0) {
      const m = argId(ctx, argv[++i]!);
      if (m === null) return;
      if (compareIds(id, m) < 0) {
        ctx.reply.error('ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id');
        return;
      }
      maxDeleted = m;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const key = argv[1]!;
  const s = streamForWrite(ctx, key);
  if (s === null) return;
  if (s === undefined) {
    ctx.reply.error(ERR.NO_SUCH_KEY);
    return;
  }
  if (compareIds(id, s.maxDeletedId) < 0) {
    ctx.reply.error('ERR The ID specified in XSETID is smaller than current max_deleted_entry_id');
    return;
  }
  if (s.length > 0) {
    if (compareIds(id, s.lastValidId()) < 0) {
      ctx.reply.error('ERR The ID specified in XSETID is smaller than the target stream top item');
      return;
    }
    if (entriesAdded !== -1 && s.length > entriesAdded) {
      ctx.reply.error('ERR The entries_added specified in XSETID is smaller than the target stream length');
      return;
    }
  }
  s.lastId = id;
  if (entriesAdded !== -1) s.entriesAdded = entriesAdded;
  if (!isZeroId(maxDeleted)) s.maxDeletedId = maxDeleted;
  ctx.reply.ok();
  // Redis marks no change of the key (no WATCH break, no wake-up): the event alone.
  ctx.engine.groupChanged(ctx.db, key, 'xsetid');
  ctx.engine.emit(ctx.db.id, argv);
}

// ---- XINFO ------------------------------------------------------------------------

/** A group's entries-read: an integer, or null when unknown. */
function replyEntriesRead(ctx: CommandContext, v: U64): void {
  if (v === INVALID_ENTRIES_READ) ctx.reply.nullBulk();
  else ctx.reply.integer(asInt64(v));
}

/** A group's lag: an integer, or null when it cannot be known. */
function replyLag(ctx: CommandContext, v: U64 | null): void {
  if (v === null) ctx.reply.nullBulk();
  else ctx.reply.integer(asInt64(v));
}

function xinfoStreamHead(ctx: CommandContext, s: StreamValue): void {
  const r = ctx.reply;
  r.bulk('length');
  r.integer(s.length);
  r.bulk('radix-tree-keys');
  r.integer(s.nodeCount);
  r.bulk('radix-tree-nodes');
  r.integer(s.radixTreeNodes());
  r.bulk('last-generated-id');
  replyId(r, s.lastId);
  r.bulk('max-deleted-entry-id');
  replyId(r, s.maxDeletedId);
  r.bulk('entries-added');
  r.integer(asInt64(s.entriesAdded));
  r.bulk('recorded-first-entry-id');
  replyId(r, s.firstId);
}

/** The first `count` (0: all) entries of a pending list, as XINFO STREAM FULL shows them. */
function firstPending(pel: IdMap<Nack>, count: number): [string, Nack][] {
  const out: [string, Nack][] = [];
  pel.forEachFrom(null, (k, nack) => (count === 0 || out.length < count) && out.push([k, nack]) > 0);
  return out;
}

function xinfoStream(ctx: CommandContext, argv: string[], s: StreamValue): void {
  const opts = argv.slice(3);
  let full = false;
  let count = 10;
  if (opts.length > 0) {
    if ((opts.length !== 1 && opts.length !== 3) || !eq(opts[0]!, 'full') || (opts.length === 3 && !eq(opts[1]!, 'count'))) {
      subcommandSyntaxError(ctx, argv);
      return;
    }
    full = true;
    if (opts.length === 3) {
      const n = argLong(ctx, opts[2]!);
      if (n === null) return;
      count = n < 0 ? 10 : n;
    }
  }
  const r = ctx.reply;
  r.map(full ? 9 : 10);
  xinfoStreamHead(ctx, s);
  if (!full) {
    r.bulk('groups');
    r.integer(s.groups?.size ?? 0);
    for (const [name, rev] of [['first-entry', false], ['last-entry', true]] as const) {
      r.bulk(name);
      if (!writeEntryOrNull(ctx, s, rev)) r.nullBulk();
    }
    return;
  }
  r.bulk('entries');
  writeRange(r, s, MIN_ID, MAX_ID, false, count);
  r.bulk('groups');
  const groups = s.sortedGroups();
  r.array(groups.length);
  for (const [name, g] of groups) {
    r.map(7);
    r.bulk('name');
    r.bulk(name);
    r.bulk('last-delivered-id');
    replyId(r, g.lastId);
    r.bulk('entries-read');
    replyEntriesRead(ctx, g.entriesRead);
    r.bulk('lag');
    replyLag(ctx, s.lag(g));
    r.bulk('pel-count');
    r.integer(g.pel.size);
    r.bulk('pending');
    const pending = firstPending(g.pel, count);
    r.array(pending.length);
    for (const [k, nack] of pending) {
      r.array(4);
      replyId(r, idFromKey(k));
      r.bulk(nack.consumer!.name);
      r.integer(nack.deliveryTime);
      r.integer(asInt64(nack.deliveryCount));
    }
    r.bulk('consumers');
    const consumers = g.sortedConsumers();
    r.array(consumers.length);
    for (const c of consumers) {
      r.map(5);
      r.bulk('name');
      r.bulk(c.name);
      r.bulk('seen-time');
      r.integer(c.seenTime);
      r.bulk('active-time');
      r.integer(c.activeTime);
      r.bulk('pel-count');
      r.integer(c.pel.size);
      r.bulk('pending');
      const own = firstPending(c.pel, count);
      r.array(own.length);
      for (const [k, nack] of own) {
        r.array(3);
        replyId(r, idFromKey(k));
        r.integer(nack.deliveryTime);
        r.integer(asInt64(nack.deliveryCount));
      }
    }
  }
}

/** XINFO STREAM's first-entry / last-entry: false when the stream has no entry. */
function writeEntryOrNull(ctx: CommandContext, s: StreamValue, last: boolean): boolean {
  const it = s.iterate(MIN_ID, MAX_ID, last);
  if (!it.next()) return false;
  writeEntry(ctx.reply, it.cursor.node, it.cursor.entryStart);
  return true;
}

/** addReplySubcommandSyntaxError. */
export function subcommandSyntaxError(ctx: CommandContext, argv: string[]): void {
  ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv[1]!).slice(0, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`);
}

function xinfoGroups(ctx: CommandContext, s: StreamValue): void {
  const r = ctx.reply;
  const groups = s.sortedGroups();
  r.array(groups.length);
  for (const [name, g] of groups) {
    r.map(6);
    r.bulk('name');
    r.bulk(name);
    r.bulk('consumers');
    r.integer(g.consumers.size);
    r.bulk('pending');
    r.integer(g.pel.size);
    r.bulk('last-delivered-id');
    replyId(r, g.lastId);
    r.bulk('entries-read');
    replyEntriesRead(ctx, g.entriesRead);
    r.bulk('lag');
    replyLag(ctx, s.lag(g));
  }
}

function xinfoConsumers(ctx: CommandContext, argv: string[], s: StreamValue): void {
  const g = s.group(argv[3]!);
  if (g === undefined) {
    ctx.reply.error(`NOGROUP No such consumer group '${cstr(argv[3]!)}' for key name '${cstr(argv[2]!)}'`);
    return;
  }
  const r = ctx.reply;
  const now = ctx.engine.now;
  const consumers = g.sortedConsumers();
  r.array(consumers.length);
  for (const c of consumers) {
    r.map(4);
    r.bulk('name');
    r.bulk(c.name);
    r.bulk('pending');
    r.integer(c.pel.size);
    r.bulk('idle');
    r.integer(Math.max(0, now - c.seenTime));
    r.bulk('inactive');
    r.integer(c.activeTime !== -1 ? now - c.activeTime : -1);
  }
}

/** XINFO <sub> key ...: the key must exist (ERR no such key) and be a stream. */
function xinfo(ctx: CommandContext, argv: string[], sub: 'stream' | 'groups' | 'consumers'): void {
  const s = streamForRead(ctx, argv[2]!);
  if (s === null) return;
  if (s === undefined) {
    ctx.reply.error(ERR.NO_SUCH_KEY);
    return;
  }
  if (sub === 'stream') xinfoStream(ctx, argv, s);
  else if (sub === 'groups') xinfoGroups(ctx, s);
  else xinfoConsumers(ctx, argv, s);
}

export const streamCommands: CommandImpl[] = [
  { name: 'xadd', run: xadd },
  { name: 'xtrim', run: xtrim },
  { name: 'xdel', run: xdel },
  { name: 'xdelex', run: xdelex },
  { name: 'xrange', run: (ctx, argv) => xrange(ctx, argv, false) },
  { name: 'xrevrange', run: (ctx, argv) => xrange(ctx, argv, true) },
  {
    name: 'xlen',
    run(ctx, argv) {
      const s = streamForRead(ctx, argv[1]!);
      if (s !== null) ctx.reply.integer(s === undefined ? 0 : s.length);
    },
  },
  { name: 'xsetid', run: xsetid },
  { name: 'xinfo|stream', run: (ctx, argv) => xinfo(ctx, argv, 'stream') },
  { name: 'xinfo|groups', run: (ctx, argv) => xinfo(ctx, argv, 'groups') },
  { name: 'xinfo|consumers', run: (ctx, argv) => xinfo(ctx, argv, 'consumers') },
  {
    name: 'xinfo|help',
    run: (ctx) =>
      replyHelp(ctx, 'XINFO', [
        'CONSUMERS <key> <groupname>',
        '    Show consumers of <groupname>.',
        'GROUPS <key>',
        '    Show the stream consumer groups.',
        'STREAM <key> [FULL [COUNT <count>]',
        '    Show information about the stream.',
      ]),
  },
];
