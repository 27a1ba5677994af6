/**
 * XREAD and XREADGROUP (t_stream.c xreadCommand), blocking included.
 *
 * XREADGROUP delivers entries to a consumer: new ones (`>`) move the
 * group's last ID and read counter and enter the PELs; an explicit ID
 * serves the consumer's own history from its PEL. It is logged as Redis
 * propagates it: XGROUP CREATECONSUMER for a consumer it created, one
 * `XCLAIM key group consumer 0 id TIME t RETRYCOUNT n FORCE JUSTID LASTID
 * last` per entry delivered (none with NOACK), then `XGROUP SETID key group
 * last ENTRIESREAD n` when the group moved on.
 *
 * Blocking is Redis 7.2's: when nothing can be served the command waits for
 * its keys and runs again when one changes; `$` is first replaced in argv by
 * the stream's last ID so entries added meanwhile are not missed. A
 * blocked XREADGROUP also runs again when its key is deleted or replaced,
 * and then answers that run's error (NOGROUP, WRONGTYPE).
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argLong, argTimeout, cstr, eq } from './util.js';
import { waitForKeys } from './blocking.js';
import type { StreamValue } from '../types/stream.js';
import type { Consumer, Nack, StreamGroup } from '../types/stream-group.js';
import { INVALID_ENTRIES_READ } from '../types/stream-group.js';
import { MAX_ID, MIN_ID, addInt, asInt64, compareIds, formatId, idEquals, idFromKey, idKey, incrId, type StreamID } from '../types/stream-id.js';
import { argId } from './stream-args.js';
import { collectRange, emptyRefs, writeEntries, writeEntry, type EntryRefs } from './stream-reply.js';
import { streamForRead } from './streams.js';

interface ReadArgs {
  /** Deadline for BLOCK (0: forever), or -1 without BLOCK. */
  deadline: number;
  count: number;
  group: string | null;
  consumer: string | null;
  noack: boolean;
  /** Index of the first key in argv, and how many streams. */
  keysAt: number;
  streams: number;
}

function parseReadArgs(ctx: CommandContext, argv: string[], isGroup: boolean): ReadArgs | null {
  const a: ReadArgs = { deadline: -1, count: 0, group: null, consumer: null, noack: false, keysAt: 0, streams: 0 };
  for (let i = 1; i < argv.length; i++) {
    const more = argv.length - i - 1;
    const o = argv[i]!;
    if (eq(o, 'block') && more > 0) {
      const d = argTimeout(ctx, argv[++i]!, 'milliseconds');
      if (d === null) return null;
      a.deadline = d;
    } else if (eq(o, 'count') && more > 0) {
      const n = argLong(ctx, argv[++i]!);
      if (n === null) return null;
      a.count = n < 0 ? 0 : n;
    } else if (eq(o, 'streams') && more > 0) {
      a.keysAt = i + 1;
      const n = argv.length - a.keysAt;
      if (n % 2 !== 0) {
        const name = isGroup ? 'xreadgroup' : 'xread';
        ctx.reply.error(`ERR Unbalanced '${name}' list of streams: for each stream key an ID or '${isGroup ? '>' : '$'}' must be specified.`);
        return null;
      }
      a.streams = n / 2;
      break;
    } else if (eq(o, 'group') && more >= 2) {
      if (!isGroup) {
        ctx.reply.error('ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.');
        return null;
      }
      a.group = argv[i + 1]!;
      a.consumer = argv[i + 2]!;
      i += 2;
    } else if (eq(o, 'noack')) {
      if (!isGroup) {
        ctx.reply.error('ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.');
        return null;
      }
      a.noack = true;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return null;
    }
  }
  if (a.keysAt === 0) {
    ctx.reply.error(ERR.SYNTAX);
    return null;
  }
  if (isGroup && a.group === null) {
    ctx.reply.error('ERR Missing GROUP option for XREADGROUP');
    return null;
  }
  return a;
}

/**
 * Up to `count` (0: all) live entries after `id`, or null when there is
 * none (Redis compares the last live ID first; the range itself answers
 * that, and the stream's last ID, which bounds it, settles most reads that
 * find nothing).
 */
function entriesAfter(s: StreamValue, id: StreamID, count: number): EntryRefs | null {
  if (s.length === 0 || compareIds(s.lastId, id) <= 0) return null;
  const start = incrId(id);
  if (start === null) return null;
  const refs = collectRange(s, start, MAX_ID, false, count);
  return refs.ids.length > 0 ? refs : null;
}

/** `>`: the group's undelivered entries (stands for MAX_ID, as in Redis). */
const NEW_ENTRIES = MAX_ID;

/** What one stream gives the reply. */
interface Served {
  key: string;
  /** Entries to write (new ones, or history entries still in the stream). */
  refs: EntryRefs;
  /** History reads: every PEL ID in order, and for each whether it is in refs (else [id, nil]). */
  history: StreamID[] | null;
  historyFound: boolean[] | null;
}

/** Logs the changes a consumer group read makes (Redis' streamPropagate*), for the stream `key` at hand. */
class GroupEffects {
  readonly records: string[][] = [];
  key = '';
  constructor(private readonly groupName: string) {}

  consumerCreated(consumer: string): void {
    this.records.push(['XGROUP', 'CREATECONSUMER', this.key, this.groupName, consumer]);
  }

  claimed(id: StreamID, nack: Nack, g: StreamGroup): void {
    const idText = formatId(id);
    this.records.push([
      'XCLAIM', this.key, this.groupName, nack.consumer!.name, '0', idText, 'TIME', String(nack.deliveryTime),
      'RETRYCOUNT', String(asInt64(nack.deliveryCount)), 'FORCE', 'JUSTID', 'LASTID', g.lastId === id ? idText : formatId(g.lastId),
    ]);
  }

  movedOn(g: StreamGroup): void {
    this.records.push(['XGROUP', 'SETID', this.key, this.groupName, formatId(g.lastId), 'ENTRIESREAD', String(asInt64(g.entriesRead))]);
  }
}

/**
 * streamReplyWithRange with a group: deliver the new entries `refs` to
 * `consumer`, moving the group's last ID and read counter and (without
 * NOACK) recording each in the PELs.
 */
function deliverNew(ctx: CommandContext, s: StreamValue, g: StreamGroup, consumer: Consumer, refs: EntryRefs, noack: boolean, fx: GroupEffects): void {
  const now = ctx.engine.now;
  let movedOn = false;
  for (const id of refs.ids) {
    if (compareIds(id, g.lastId) > 0) {
      if (g.entriesRead !== INVALID_ENTRIES_READ && !s.rangeHasTombstones(id, null)) g.entriesRead = addInt(g.entriesRead, 1);
      else if (s.entriesAdded !== 0) g.entriesRead = s.estimateDistance(id);
      g.lastId = id;
      movedOn = true;
    }
    if (noack) continue;
    const key = idKey(id);
    let nack = g.pel.get(key);
    if (nack === undefined) {
      nack = { deliveryTime: now, deliveryCount: 1, consumer };
      g.pel.set(key, nack);
      consumer.pel.set(key, nack);
    } else {
      // Already pending (XGROUP SETID moved the group back): it changes hands and starts over.
      g.assign(key, nack, consumer);
      nack.deliveryTime = now;
      nack.deliveryCount = 1;
    }
    consumer.activeTime = now;
    fx.claimed(id, nack, g);
  }
  if (movedOn) fx.movedOn(g);
}

/** streamReplyWithRangeFromConsumerPEL: the consumer's pending entries from `start`, each delivered again. */
function deliverHistory(ctx: CommandContext, s: StreamValue, consumer: Consumer, start: StreamID, count: number, served: Served): void {
  const ids: StreamID[] = [];
  const found: boolean[] = [];
  const nacks: Nack[] = [];
  consumer.pel.forEachFrom(idKey(start), (k, nack) => {
    if (count !== 0 && ids.length >= count) return false;
    ids.push(idFromKey(k));
    nacks.push(nack);
    return true;
  });
  const now = ctx.engine.now;
  for (let i = 0; i < ids.length; i++) {
    const it = s.iterate(ids[i]!, ids[i]!, false);
    const present = it.next();
    found.push(present);
    if (!present) continue;
    served.refs.nodes.push(it.cursor.node);
    served.refs.offsets.push(it.cursor.entryStart);
    served.refs.ids.push(ids[i]!);
    nacks[i]!.deliveryTime = now;
    nacks[i]!.deliveryCount = addInt(nacks[i]!.deliveryCount, 1);
  }
  served.history = ids;
  served.historyFound = found;
}

function writeServed(ctx: CommandContext, served: Served[]): void {
  const r = ctx.reply;
  const resp3 = r.resp === 3;
  if (resp3) r.map(served.length);
  else r.array(served.length);
  for (const sv of served) {
    if (!resp3) r.array(2);
    r.bulk(sv.key);
    if (sv.history === null) {
      r.array(sv.refs.ids.length);
      writeEntries(r, sv.refs);
      continue;
    }
    r.array(sv.history.length);
    let k = 0;
    for (let i = 0; i < sv.history.length; i++) {
      if (sv.historyFound![i]) {
        writeEntry(r, sv.refs.nodes[k]!, sv.refs.offsets[k]!);
        k++;
      } else {
        // An entry deleted while pending: its ID with a null in place of the fields.
        r.array(2);
        r.bulk(formatId(sv.history[i]!));
        r.nullArray();
      }
    }
  }
}

function xread(ctx: CommandContext, argv: string[], isGroup: boolean): void {
  const a = parseReadArgs(ctx, argv, isGroup);
  if (a === null) return;
  const { keysAt, streams } = a;
  // Sized arrays filled by index: most reads name one stream, and a pushed-to empty array reserves 17 slots.
  const ids = new Array<StreamID>(streams);
  const groups = isGroup ? new Array<StreamGroup>(streams) : null;
  const values = new Array<StreamValue | undefined>(streams);
  for (let k = 0; k < streams; k++) {
    const key = argv[keysAt + k]!;
    const arg = argv[keysAt + streams + k]!;
    const s = streamForRead(ctx, key);
    if (s === null) return;
    values[k] = s;
    if (groups !== null) {
      const g = s?.group(a.group!);
      if (g === undefined) {
        ctx.reply.error(`NOGROUP No such key '${cstr(key)}' or consumer group '${cstr(a.group!)}' in XREADGROUP with GROUP option`);
        return;
      }
      groups[k] = g;
    }
    if (arg === '$') {
      if (isGroup) {
        ctx.reply.error(
          'ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the history of this consumer by specifying a proper ID, or use the > ID to get new messages. The $ ID would just return an empty result set.',
        );
        return;
      }
      ids[k] = s === undefined ? MIN_ID : s.lastId;
      continue;
    }
    if (arg === '>') {
      if (!isGroup) {
        ctx.reply.error('ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.');
        return;
      }
      ids[k] = NEW_ENTRIES;
      continue;
    }
    const id = argId(ctx, arg);
    if (id === null) return;
    ids[k] = id;
  }

  const served: Served[] = [];
  const fx = groups !== null ? new GroupEffects(a.group!) : null;
  for (let k = 0; k < streams; k++) {
    const key = argv[keysAt + k]!;
    const s = values[k];
    if (s === undefined) continue;
    const gt = ids[k]!;
    if (groups !== null && fx !== null) {
      const g = groups[k]!;
      const history = !idEquals(gt, NEW_ENTRIES);
      const fresh = history ? null : entriesAfter(s, g.lastId, a.count);
      fx.key = key;
      let consumer = g.consumers.get(a.consumer!);
      if (consumer === undefined) {
        consumer = g.createConsumer(a.consumer!, ctx.engine.now)!;
        fx.consumerCreated(consumer.name);
        ctx.engine.groupChanged(ctx.db, key, 'xgroup-createconsumer');
      }
      consumer.seenTime = ctx.engine.now;
      if (history) {
        // The start is the ID after gt (incrId wraps past the maximum as streamIncrID does).
        const sv: Served = { key, refs: emptyRefs(), history: null, historyFound: null };
        deliverHistory(ctx, s, consumer, incrId(gt) ?? MIN_ID, a.count, sv);
        served.push(sv);
      } else if (fresh !== null) {
        deliverNew(ctx, s, g, consumer, fresh, a.noack, fx);
        served.push({ key, refs: fresh, history: null, historyFound: null });
        ctx.engine.groupStateChanged();
      }
    } else {
      const fresh = entriesAfter(s, gt, a.count);
      if (fresh !== null) served.push({ key, refs: fresh, history: null, historyFound: null });
    }
  }
  if (fx !== null) for (const e of fx.records) ctx.engine.emit(ctx.db.id, e);

  if (served.length > 0) {
    writeServed(ctx, served);
    return;
  }
  if (a.deadline === -1) {
    ctx.reply.nullArray();
    return;
  }
  if (ctx.canBlock()) {
    // Wait from the IDs of now: a rerun must not read `$` as the stream's last ID of then.
    for (let k = 0; k < streams; k++) if (argv[keysAt + streams + k] === '$') argv[keysAt + streams + k] = formatId(ids[k]!);
  }
  const keys = argv.slice(keysAt, keysAt + streams);
  waitForKeys(ctx, { keys, type: 'stream', rerunOnDelete: isGroup, timedOut: () => ctx.reply.nullArray() }, a.deadline);
}

export const streamReadCommands: CommandImpl[] = [
  { name: 'xread', run: (ctx, argv) => xread(ctx, argv, false) },
  { name: 'xreadgroup', run: (ctx, argv) => xread(ctx, argv, true) },
];

