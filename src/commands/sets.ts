/**
 * Set commands (Redis 7.2's t_set.c). SPOP is logged as SREM of the popped
 * members (or DEL when it empties the set), so replaying the log removes
 * exactly the members this server chose.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argNonNegative, argRange, eq, lookupTyped, LONG_MAX } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import { SetValue } from '../types/set.js';
import { scanCollection } from './scan.js';
import { distinctPicks, picksHeader, randomDistinctIndexes, replyRepeatedPicks } from './random.js';
import type { ReplyWriter } from '../protocol/writer.js';

const writeBulk = (r: ReplyWriter, m: string) => r.bulk(m);

function sadd(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  let set = lookupTyped<SetValue>(ctx, key, 'set', true);
  if (set === null) return;
  const limits = ctx.engine.limits;
  const engine = ctx.engine;
  if (set === undefined) {
    set = SetValue.create(argv[2]!, argv.length - 2, limits);
    engine.setKey(ctx.db, key, set);
  } else {
    set.maybeConvert(argv.length - 2, limits);
  }
  let added = 0;
  for (let j = 2; j < argv.length; j++) if (set.add(argv[j]!, limits)) added++;
  if (added > 0) {
    ctx.changed(key, NOTIFY.SET, 'sadd');
    engine.emit(ctx.db.id, argv, added);
  }
  ctx.reply.integer(added);
}

/** Delete the key once its set is empty. Returns true if it was deleted. */
function dropIfEmpty(ctx: CommandContext, key: string, set: SetValue): boolean {
  if (set.size > 0) return false;
  ctx.engine.deleteKey(ctx.db, key);
  ctx.changed(key, NOTIFY.GENERIC, 'del');
  return true;
}

function srem(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const set = lookupTyped<SetValue>(ctx, key, 'set', true);
  if (set === null) return;
  if (set === undefined) {
    ctx.reply.integer(0);
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
    const engine = ctx.engine;
    ctx.changed(key, NOTIFY.SET, 'srem');
    dropIfEmpty(ctx, key, set);
    engine.emit(ctx.db.id, argv, deleted);
  }
  ctx.reply.integer(deleted);
}

function smove(ctx: CommandContext, argv: string[]): void {
  const [, src, dst, member] = argv as [string, string, string, string];
  const engine = ctx.engine;
  const from = engine.lookupWrite(ctx.db, src);
  const to = engine.lookupWrite(ctx.db, dst);
  if (from === undefined) {
    ctx.reply.integer(0);
    return;
  }
  if (!(from instanceof SetValue) || (to !== undefined && !(to instanceof SetValue))) {
    ctx.reply.error(ERR.WRONGTYPE);
    return;
  }
  if (from === to) {
    ctx.reply.integer(from.has(member) ? 1 : 0);
    return;
  }
  if (!from.delete(member)) {
    ctx.reply.integer(0);
    return;
  }
  ctx.changed(src, NOTIFY.SET, 'srem');
  dropIfEmpty(ctx, src, from);
  let target = to as SetValue | undefined;
  const limits = engine.limits;
  if (target === undefined) {
    target = SetValue.create(member, 1, limits);
    engine.setKey(ctx.db, dst, target);
  }
  if (target.add(member, limits)) {
    ctx.changed(dst, NOTIFY.SET, 'sadd');
  }
  engine.emit(ctx.db.id, argv);
  ctx.reply.integer(1);
}

function replySet(ctx: CommandContext, members: string[]): void {
  ctx.reply.set(members.length);
  for (const m of members) ctx.reply.bulk(m);
}

/**
 * Look up the sets of an operation: null after a WRONGTYPE reply,
 * undefined entries for missing keys. Every key is type-checked.
 */
function lookupSets(ctx: CommandContext, keys: string[]): (SetValue | undefined)[] | null {
  const out: (SetValue | undefined)[] = [];
  for (const k of keys) {
    const s = lookupTyped<SetValue>(ctx, k, 'set', false);
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
function storeResult(ctx: CommandContext, argv: string[], dst: string, members: string[], event: string): void {
  const engine = ctx.engine;
  const limits = engine.limits;
  if (members.length === 0) {
    // Redis' dbDelete: an expired dst is deleted as it is (a `del` event, not `expired`).
    if (engine.deleteKey(ctx.db, dst)) {
      ctx.changed(dst, NOTIFY.GENERIC, 'del');
      engine.emit(ctx.db.id, argv);
    }
    ctx.reply.integer(0);
    return;
  }
  const set = SetValue.empty();
  for (const m of members) set.add(m, limits);
  engine.setKey(ctx.db, dst, set);
  ctx.changed(dst, NOTIFY.SET, event);
  engine.emit(ctx.db.id, argv);
  ctx.reply.integer(set.size);
}

function sinterGeneric(ctx: CommandContext, argv: string[], keys: string[], dst: string | null): void {
  const sets = lookupSets(ctx, keys);
  if (sets === null) return;
  const present = sets.filter((s): s is SetValue => s !== undefined);
  const result = present.length < sets.length ? [] : intersect(present, 0);
  if (dst !== null) storeResult(ctx, argv, dst, result, 'sinterstore');
  else replySet(ctx, result);
}

function sunionDiffGeneric(ctx: CommandContext, argv: string[], keys: string[], dst: string | null, diff: boolean): void {
  const sets = lookupSets(ctx, keys);
  if (sets === null) return;
  const result = SetValue.empty();
  const limits = ctx.engine.limits;
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
  if (dst !== null) storeResult(ctx, argv, dst, members, diff ? 'sdiffstore' : 'sunionstore');
  else replySet(ctx, members);
}

function sintercard(ctx: CommandContext, argv: string[]): void {
  const numkeys = argRange(ctx, argv[1]!, 1, LONG_MAX, 'ERR numkeys should be greater than 0');
  if (numkeys === null) return;
  if (numkeys > argv.length - 2) {
    ctx.reply.error("ERR Number of keys can't be greater than number of args");
    return;
  }
  let limit = 0;
  for (let j = 2 + numkeys; j < argv.length; j++) {
    const moreArgs = argv.length - 1 - j;
    if (eq(argv[j]!, 'limit') && moreArgs > 0) {
      const n = argNonNegative(ctx, argv[++j]!, "ERR LIMIT can't be negative");
      if (n === null) return;
      limit = n;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const sets = lookupSets(ctx, argv.slice(2, 2 + numkeys));
  if (sets === null) return;
  const present = sets.filter((s): s is SetValue => s !== undefined);
  ctx.reply.integer(present.length < sets.length ? 0 : intersect(present, limit).length);
}

function spop(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 3) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  const key = argv[1]!;
  const engine = ctx.engine;
  if (argv.length === 2) {
    const set = lookupTyped<SetValue>(ctx, key, 'set', true);
    if (set === null) return;
    if (set === undefined) {
      ctx.reply.nullBulk();
      return;
    }
    const m = set.randomMember();
    set.delete(m);
    ctx.reply.bulk(m);
    ctx.changed(key, NOTIFY.SET, 'spop');
    dropIfEmpty(ctx, key, set);
    engine.emit(ctx.db.id, ['SREM', key, m]);
    return;
  }
  const count = argNonNegative(ctx, argv[2]!);
  if (count === null) return;
  const set = lookupTyped<SetValue>(ctx, key, 'set', true);
  if (set === null) return;
  if (set === undefined || count === 0) {
    ctx.reply.set(0);
    return;
  }
  ctx.changed(key, NOTIFY.SET, 'spop');
  if (count >= set.size) {
    const all = set.toArray();
    replySet(ctx, all);
    engine.deleteKey(ctx.db, key);
    ctx.changed(key, NOTIFY.GENERIC, 'del');
    engine.emit(ctx.db.id, ['DEL', key], all.length);
    return;
  }
  const all = set.toArray();
  const popped = randomDistinctIndexes(all.length, count).map((i) => all[i]!);
  for (const m of popped) set.delete(m);
  replySet(ctx, popped);
  engine.emit(ctx.db.id, ['SREM', key, ...popped], popped.length);
}

function srandmember(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 3) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  if (argv.length === 2) {
    const set = lookupTyped<SetValue>(ctx, argv[1]!, 'set', false);
    if (set === null) return;
    if (set === undefined) {
      ctx.reply.nullBulk();
      return;
    }
    ctx.reply.bulk(set.randomMember());
    return;
  }
  const l = argRange(ctx, argv[2]!, -LONG_MAX, LONG_MAX);
  if (l === null) return;
  const set = lookupTyped<SetValue>(ctx, argv[1]!, 'set', false);
  if (set === null) return;
  if (set === undefined || l === 0) {
    ctx.reply.array(0);
    return;
  }
  const source = { size: set.size, pick: () => set.randomMember(), all: () => set.toArray() };
  if (l < 0) {
    picksHeader(ctx.reply, argv[2]!, -l, 1);
    replyRepeatedPicks(ctx.reply, (s) => ctx.startStream(s), source, -l, writeBulk);
    return;
  }
  ctx.reply.bulkArray(distinctPicks(source, l, (m) => m));
}

export const setCommands: CommandImpl[] = [
  { name: 'sadd', run: sadd },
  { name: 'srem', run: srem },
  { name: 'smove', run: smove },
  {
    name: 'sismember',
    run(ctx, argv) {
      const set = lookupTyped<SetValue>(ctx, argv[1]!, 'set', false);
      if (set !== null) ctx.reply.integer(set !== undefined && set.has(argv[2]!) ? 1 : 0);
    },
  },
  {
    name: 'smismember',
    run(ctx, argv) {
      const set = lookupTyped<SetValue>(ctx, argv[1]!, 'set', false);
      if (set === null) return;
      ctx.reply.array(argv.length - 2);
      for (let j = 2; j < argv.length; j++) ctx.reply.integer(set !== undefined && set.has(argv[j]!) ? 1 : 0);
    },
  },
  {
    name: 'scard',
    run(ctx, argv) {
      const set = lookupTyped<SetValue>(ctx, argv[1]!, 'set', false);
      if (set !== null) ctx.reply.integer(set === undefined ? 0 : set.size);
    },
  },
  {
    name: 'smembers',
    run(ctx, argv) {
      const set = lookupTyped<SetValue>(ctx, argv[1]!, 'set', false);
      if (set !== null) replySet(ctx, set === undefined ? [] : set.toArray());
    },
  },
  { name: 'spop', run: spop },
  { name: 'srandmember', run: srandmember },
  { name: 'sinter', run: (ctx, argv) => sinterGeneric(ctx, argv, argv.slice(1), null) },
  { name: 'sinterstore', run: (ctx, argv) => sinterGeneric(ctx, argv, argv.slice(2), argv[1]!) },
  { name: 'sintercard', run: sintercard },
  { name: 'sunion', run: (ctx, argv) => sunionDiffGeneric(ctx, argv, argv.slice(1), null, false) },
  { name: 'sunionstore', run: (ctx, argv) => sunionDiffGeneric(ctx, argv, argv.slice(2), argv[1]!, false) },
  { name: 'sdiff', run: (ctx, argv) => sunionDiffGeneric(ctx, argv, argv.slice(1), null, true) },
  { name: 'sdiffstore', run: (ctx, argv) => sunionDiffGeneric(ctx, argv, argv.slice(2), argv[1]!, true) },
  {
    name: 'sscan',
    run(ctx, argv) {
      scanCollection(ctx, argv, () => {
        const s = lookupTyped<SetValue>(ctx, argv[1]!, 'set', false);
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
