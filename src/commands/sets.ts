/**
 * Set commands (Redis 7.2's t_set.c). SPOP is logged as SREM of the popped
 * members (or DEL when it empties the set), so replaying the log removes
 * exactly the members this server chose.
 */

import type { CommandImpl } from './table.js';
import type { Client } from '../server/client.js';
import { ERR, argNonNegative, argRange, eq, lookupTyped, LONG_MAX } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import { SetValue } from '../types/set.js';
import { scanCollection } from './scan.js';
import { distinctPicks, picksHeader, randomDistinctIndexes, replyRepeatedPicks } from './random.js';
import type { ReplyWriter } from '../protocol/writer.js';

const writeBulk = (r: ReplyWriter, m: string) => r.bulk(m);

function sadd(c: Client, argv: string[]): void {
  const key = argv[1]!;
  let set = lookupTyped<SetValue>(c, key, 'set', true);
  if (set === null) return;
  const limits = c.engine.limits;
  const engine = c.engine;
  if (set === undefined) {
    set = SetValue.create(argv[2]!, argv.length - 2, limits);
    engine.setKey(c.db, key, set);
  } else {
    set.maybeConvert(argv.length - 2, limits);
  }
  let added = 0;
  for (let j = 2; j < argv.length; j++) if (set.add(argv[j]!, limits)) added++;
  if (added > 0) {
    engine.modified(c.db, key);
    engine.notify(NOTIFY.SET, 'sadd', key, c.db.id);
    engine.emit(c.db.id, argv, added);
  }
  c.reply.integer(added);
}

/** Delete the key once its set is empty. Returns true if it was deleted. */
function dropIfEmpty(c: Client, key: string, set: SetValue): boolean {
  if (set.size > 0) return false;
  c.engine.deleteKey(c.db, key);
  c.engine.notify(NOTIFY.GENERIC, 'del', key, c.db.id);
  return true;
}

function srem(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const set = lookupTyped<SetValue>(c, key, 'set', true);
  if (set === null) return;
  if (set === undefined) {
    c.reply.integer(0);
    return;
  }
  let deleted = 0;
  for (let j = 2; j < argv.length; j++) {
    if (set.delete(argv[j]!)) {
      deleted++;
      if (set.size === 0) break;
    }
  }
  if (deleted > 0) {
    const engine = c.engine;
    engine.modified(c.db, key);
    engine.notify(NOTIFY.SET, 'srem', key, c.db.id);
    dropIfEmpty(c, key, set);
    engine.emit(c.db.id, argv, deleted);
  }
  c.reply.integer(deleted);
}

function smove(c: Client, argv: string[]): void {
  const [, src, dst, member] = argv as [string, string, string, string];
  const engine = c.engine;
  const from = engine.lookupWrite(c.db, src);
  const to = engine.lookupWrite(c.db, dst);
  if (from === undefined) {
    c.reply.integer(0);
    return;
  }
  if (!(from instanceof SetValue) || (to !== undefined && !(to instanceof SetValue))) {
    c.reply.error(ERR.WRONGTYPE);
    return;
  }
  if (from === to) {
    c.reply.integer(from.has(member) ? 1 : 0);
    return;
  }
  if (!from.delete(member)) {
    c.reply.integer(0);
    return;
  }
  engine.notify(NOTIFY.SET, 'srem', src, c.db.id);
  dropIfEmpty(c, src, from);
  let target = to as SetValue | undefined;
  const limits = engine.limits;
  if (target === undefined) {
    target = SetValue.create(member, 1, limits);
    engine.setKey(c.db, dst, target);
  }
  engine.modified(c.db, src);
  if (target.add(member, limits)) {
    engine.modified(c.db, dst);
    engine.notify(NOTIFY.SET, 'sadd', dst, c.db.id);
  }
  engine.emit(c.db.id, argv);
  c.reply.integer(1);
}

function replySet(c: Client, members: string[]): void {
  c.reply.set(members.length);
  for (const m of members) c.reply.bulk(m);
}

/**
 * Look up the sets of an operation: null after a WRONGTYPE reply,
 * undefined entries for missing keys. Every key is type-checked.
 */
function lookupSets(c: Client, keys: string[]): (SetValue | undefined)[] | null {
  const out: (SetValue | undefined)[] = [];
  for (const k of keys) {
    const s = lookupTyped<SetValue>(c, k, 'set', false);
    if (s === null) return null;
    out.push(s);
  }
  return out;
}

function intersect(sets: SetValue[], limit: number): string[] {
  const sorted = [...sets].sort((a, b) => a.size - b.size);
  const out: string[] = [];
  for (const m of sorted[0]!.members()) {
    let inAll = true;
    for (let i = 1; i < sorted.length; i++) {
      if (!sorted[i]!.has(m)) {
        inAll = false;
        break;
      }
    }
    if (inAll) {
      out.push(m);
      if (limit > 0 && out.length >= limit) break;
    }
  }
  return out;
}

/** Store a computed set at `dst` (or delete it when empty); replies with the size. */
function storeResult(c: Client, argv: string[], dst: string, members: string[], event: string): void {
  const engine = c.engine;
  const limits = engine.limits;
  if (members.length === 0) {
    if (engine.lookupWrite(c.db, dst) !== undefined) {
      engine.deleteKey(c.db, dst);
      engine.notify(NOTIFY.GENERIC, 'del', dst, c.db.id);
      engine.emit(c.db.id, argv);
    }
    c.reply.integer(0);
    return;
  }
  const set = SetValue.empty();
  for (const m of members) set.add(m, limits);
  engine.setKey(c.db, dst, set);
  engine.notify(NOTIFY.SET, event, dst, c.db.id);
  engine.emit(c.db.id, argv);
  c.reply.integer(set.size);
}

function sinterGeneric(c: Client, argv: string[], keys: string[], dst: string | null): void {
  const sets = lookupSets(c, keys);
  if (sets === null) return;
  const present = sets.filter((s): s is SetValue => s !== undefined);
  const result = present.length < sets.length ? [] : intersect(present, 0);
  if (dst !== null) storeResult(c, argv, dst, result, 'sinterstore');
  else replySet(c, result);
}

function sunionDiffGeneric(c: Client, argv: string[], keys: string[], dst: string | null, diff: boolean): void {
  const sets = lookupSets(c, keys);
  if (sets === null) return;
  const result = SetValue.empty();
  const limits = c.engine.limits;
  if (diff) {
    const first = sets[0];
    if (first !== undefined) {
      for (const m of first.members()) {
        let keep = true;
        for (let i = 1; i < sets.length; i++) {
          const s = sets[i];
          if (s === first || (s !== undefined && s.has(m))) {
            keep = false;
            break;
          }
        }
        if (keep) result.add(m, limits);
      }
    }
  } else {
    for (const s of sets) if (s !== undefined) for (const m of s.members()) result.add(m, limits);
  }
  const members = result.toArray();
  if (dst !== null) storeResult(c, argv, dst, members, diff ? 'sdiffstore' : 'sunionstore');
  else replySet(c, members);
}

function sintercard(c: Client, argv: string[]): void {
  const numkeys = argRange(c, argv[1]!, 1, LONG_MAX, 'ERR numkeys should be greater than 0');
  if (numkeys === null) return;
  if (numkeys > argv.length - 2) {
    c.reply.error("ERR Number of keys can't be greater than number of args");
    return;
  }
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    const moreArgs = argv.length - 1 - j;
    if (eq(argv[j]!, 'limit') && moreArgs > 0) {
      const n = argNonNegative(c, argv[++j]!, "ERR LIMIT can't be negative");
      if (n === null) return;
      limit = n;
    } else {
      c.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const sets = lookupSets(c, argv.slice(2, 2 + numkeys));
  if (sets === null) return;
  const present = sets.filter((s): s is SetValue => s !== undefined);
  c.reply.integer(present.length < sets.length ? 0 : intersect(present, limit).length);
}

function spop(c: Client, argv: string[]): void {
  if (argv.length > 3) {
    c.reply.error(ERR.SYNTAX);
    return;
  }
  const key = argv[1]!;
  const engine = c.engine;
  if (argv.length === 2) {
    const set = lookupTyped<SetValue>(c, key, 'set', true);
    if (set === null) return;
    if (set === undefined) {
      c.reply.nullBulk();
      return;
    }
    const m = set.randomMember();
    set.delete(m);
    c.reply.bulk(m);
    engine.notify(NOTIFY.SET, 'spop', key, c.db.id);
    engine.modified(c.db, key);
    dropIfEmpty(c, key, set);
    engine.emit(c.db.id, ['SREM', key, m]);
    return;
  }
  const count = argNonNegative(c, argv[2]!);
  if (count === null) return;
  const set = lookupTyped<SetValue>(c, key, 'set', true);
  if (set === null) return;
  if (set === undefined || count === 0) {
    c.reply.set(0);
    return;
  }
  engine.notify(NOTIFY.SET, 'spop', key, c.db.id);
  if (count >= set.size) {
    const all = set.toArray();
    replySet(c, all);
    engine.deleteKey(c.db, key);
    engine.notify(NOTIFY.GENERIC, 'del', key, c.db.id);
    engine.emit(c.db.id, ['DEL', key], all.length);
    return;
  }
  const all = set.toArray();
  const popped = randomDistinctIndexes(all.length, count).map((i) => all[i]!);
  for (const m of popped) set.delete(m);
  replySet(c, popped);
  engine.modified(c.db, key);
  engine.emit(c.db.id, ['SREM', key, ...popped], popped.length);
}

function srandmember(c: Client, argv: string[]): void {
  if (argv.length > 3) {
    c.reply.error(ERR.SYNTAX);
    return;
  }
  if (argv.length === 2) {
    const set = lookupTyped<SetValue>(c, argv[1]!, 'set', false);
    if (set === null) return;
    if (set === undefined) {
      c.reply.nullBulk();
      return;
    }
    c.reply.bulk(set.randomMember());
    return;
  }
  const l = argRange(c, argv[2]!, -LONG_MAX, LONG_MAX);
  if (l === null) return;
  const set = lookupTyped<SetValue>(c, argv[1]!, 'set', false);
  if (set === null) return;
  if (set === undefined || l === 0) {
    c.reply.array(0);
    return;
  }
  const source = { size: set.size, pick: () => set.randomMember(), all: () => set.toArray() };
  if (l < 0) {
    picksHeader(c.reply, argv[2]!, -l, 1);
    replyRepeatedPicks(c.reply, (s) => c.startStream(s), source, -l, writeBulk);
    return;
  }
  c.reply.bulkArray(distinctPicks(source, l, (m) => m));
}

export const setCommands: CommandImpl[] = [
  { name: 'sadd', run: sadd },
  { name: 'srem', run: srem },
  { name: 'smove', run: smove },
  {
    name: 'sismember',
    run(c, argv) {
      const set = lookupTyped<SetValue>(c, argv[1]!, 'set', false);
      if (set !== null) c.reply.integer(set !== undefined && set.has(argv[2]!) ? 1 : 0);
    },
  },
  {
    name: 'smismember',
    run(c, argv) {
      const set = lookupTyped<SetValue>(c, argv[1]!, 'set', false);
      if (set === null) return;
      c.reply.array(argv.length - 2);
      for (let j = 2; j < argv.length; j++) c.reply.integer(set !== undefined && set.has(argv[j]!) ? 1 : 0);
    },
  },
  {
    name: 'scard',
    run(c, argv) {
      const set = lookupTyped<SetValue>(c, argv[1]!, 'set', false);
      if (set !== null) c.reply.integer(set === undefined ? 0 : set.size);
    },
  },
  {
    name: 'smembers',
    run(c, argv) {
      const set = lookupTyped<SetValue>(c, argv[1]!, 'set', false);
      if (set !== null) replySet(c, set === undefined ? [] : set.toArray());
    },
  },
  { name: 'spop', run: spop },
  { name: 'srandmember', run: srandmember },
  { name: 'sinter', run: (c, argv) => sinterGeneric(c, argv, argv.slice(1), null) },
  { name: 'sinterstore', run: (c, argv) => sinterGeneric(c, argv, argv.slice(2), argv[1]!) },
  { name: 'sintercard', run: sintercard },
  { name: 'sunion', run: (c, argv) => sunionDiffGeneric(c, argv, argv.slice(1), null, false) },
  { name: 'sunionstore', run: (c, argv) => sunionDiffGeneric(c, argv, argv.slice(2), argv[1]!, false) },
  { name: 'sdiff', run: (c, argv) => sunionDiffGeneric(c, argv, argv.slice(1), null, true) },
  { name: 'sdiffstore', run: (c, argv) => sunionDiffGeneric(c, argv, argv.slice(2), argv[1]!, true) },
  {
    name: 'sscan',
    run(c, argv) {
      scanCollection(c, argv, () => {
        const s = lookupTyped<SetValue>(c, argv[1]!, 'set', false);
        if (s === null || s === undefined) return s;
        const table = s.hashtable;
        return {
          all: () => (table === null ? s.toArray().map((m): [string, null] => [m, null]) : null),
          step: (cursor, count, out) =>
            table!.scanShards(cursor, count, (shard) => {
              for (const m of shard) out.push([m, null]);
            }),
        };
      });
    },
  },
];
