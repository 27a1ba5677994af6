/**
 * Hash commands (Redis 7.2's t_hash.c). HINCRBYFLOAT is logged as HSET
 * with the resulting value, as Redis propagates it.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argRange, eq, lookupTyped, LONG_MAX, doublesWithoutOverflow } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import { HashValue } from '../types/hash.js';
import { parseInteger, INT64_MAX, INT64_MIN } from '../util/numbers.js';
import { parseLongDouble, addLongDouble, formatLongDoubleHuman } from '../util/longdouble.js';
import { scanCollection } from './scan.js';
import { distinctPicks, picksHeader, replyRepeatedPicks } from './random.js';
import type { ReplyWriter } from '../protocol/writer.js';

/** hashTypeLookupWriteOrCreate. */
function hashForWrite(ctx: CommandContext, key: string): HashValue | null {
  const h = lookupTyped<HashValue>(ctx, key, 'hash', true);
  if (h === null) return null;
  if (h !== undefined) return h;
  const created = new HashValue();
  ctx.engine.setKey(ctx.db, key, created);
  return created;
}

function hset(ctx: CommandContext, argv: string[], isHmset: boolean): void {
  if (argv.length % 2 === 1) {
    ctx.reply.error(`ERR wrong number of arguments for '${ctx.current!.name}' command`);
    return;
  }
  const key = argv[1]!;
  const h = hashForWrite(ctx, key);
  if (h === null) return;
  const limits = ctx.engine.limits;
  h.prepareFor(argv, 2, argv.length - 1, limits);
  let created = 0;
  for (let i = 2; i < argv.length; i += 2) if (h.set(argv[i]!, argv[i + 1]!, limits)) created++;
  if (isHmset) ctx.reply.ok();
  else ctx.reply.integer(created);
  const engine = ctx.engine;
  ctx.changed(key, NOTIFY.HASH, 'hset');
  engine.emit(ctx.db.id, argv, (argv.length - 2) / 2);
}

function hsetnx(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const h = hashForWrite(ctx, key);
  if (h === null) return;
  if (h.has(argv[2]!)) {
    ctx.reply.integer(0);
    return;
  }
  const limits = ctx.engine.limits;
  h.prepareFor(argv, 2, 3, limits);
  h.set(argv[2]!, argv[3]!, limits);
  ctx.reply.integer(1);
  ctx.changed(key, NOTIFY.HASH, 'hset');
  ctx.engine.emit(ctx.db.id, argv);
}

function readHash(ctx: CommandContext, key: string, ifMissing: () => void): HashValue | null {
  const h = lookupTyped<HashValue>(ctx, key, 'hash', false);
  if (h === null) return null;
  if (h === undefined) {
    ifMissing();
    return null;
  }
  return h;
}

function hdel(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const h = lookupTyped<HashValue>(ctx, key, 'hash', true);
  if (h === null) return;
  if (h === undefined) {
    ctx.reply.integer(0);
    return;
  }
  const engine = ctx.engine;
  let deleted = 0;
  let keyRemoved = false;
  for (let i = 2; i < argv.length; i++) {
    if (!h.delete(argv[i]!)) continue;
    deleted++;
    if (h.size === 0) {
      engine.deleteKey(ctx.db, key);
      keyRemoved = true;
      break;
    }
  }
  if (deleted > 0) {
    ctx.changed(key, NOTIFY.HASH, 'hdel');
    if (keyRemoved) ctx.changed(key, NOTIFY.GENERIC, 'del');
    engine.emit(ctx.db.id, argv, deleted);
  }
  ctx.reply.integer(deleted);
}

function hgetall(ctx: CommandContext, argv: string[], fields: boolean, values: boolean): void {
  const h = lookupTyped<HashValue>(ctx, argv[1]!, 'hash', false);
  if (h === null) return;
  const both = fields && values;
  if (h === undefined) {
    if (both) ctx.reply.map(0);
    else ctx.reply.array(0);
    return;
  }
  if (both) ctx.reply.map(h.size);
  else ctx.reply.array(h.size);
  for (const [f, v] of h.entries()) {
    if (fields) ctx.reply.bulk(f);
    if (values) ctx.reply.bulk(v);
  }
}

function hincrby(ctx: CommandContext, argv: string[]): void {
  const incr = parseInteger(argv[3]!);
  if (incr === null) {
    ctx.reply.error(ERR.NOT_INTEGER);
    return;
  }
  const key = argv[1]!;
  const h = hashForWrite(ctx, key);
  if (h === null) return;
  const field = argv[2]!;
  const cur = h.get(field);
  let value: number | bigint = 0;
  if (cur !== undefined) {
    const n = parseInteger(cur);
    if (n === null) {
      ctx.reply.error('ERR hash value is not an integer');
      return;
    }
    value = n;
  }
  let result: number | bigint;
  if (typeof value === 'number' && typeof incr === 'number' && Number.isSafeInteger(value + incr)) result = value + incr;
  else {
    const big = BigInt(value) + BigInt(incr);
    if (big > INT64_MAX || big < INT64_MIN) {
      ctx.reply.error(ERR.OVERFLOW);
      return;
    }
    result = big;
  }
  h.set(field, String(result), ctx.engine.limits);
  ctx.reply.integer(typeof result === 'bigint' && result >= -9007199254740991n && result <= 9007199254740991n ? Number(result) : result);
  ctx.changed(key, NOTIFY.HASH, 'hincrby');
  ctx.engine.emit(ctx.db.id, argv);
}

function hincrbyfloat(ctx: CommandContext, argv: string[]): void {
  const incr = parseLongDouble(argv[3]!);
  if (incr === null) {
    ctx.reply.error(ERR.NOT_FLOAT);
    return;
  }
  if (incr.inf) {
    ctx.reply.error('ERR value is NaN or Infinity');
    return;
  }
  const key = argv[1]!;
  const h = hashForWrite(ctx, key);
  if (h === null) return;
  const field = argv[2]!;
  const cur = h.get(field);
  const value = cur === undefined ? parseLongDouble('0')! : parseLongDouble(cur);
  if (value === null) {
    ctx.reply.error('ERR hash value is not a float');
    return;
  }
  const sum = addLongDouble(value, incr);
  if (sum === null || sum.inf) {
    ctx.reply.error('ERR increment would produce NaN or Infinity');
    return;
  }
  const text = formatLongDoubleHuman(sum);
  h.set(field, text, ctx.engine.limits);
  ctx.reply.bulk(text);
  ctx.changed(key, NOTIFY.HASH, 'hincrbyfloat');
  ctx.engine.emit(ctx.db.id, ['HSET', key, field, text]);
}

function hrandfield(ctx: CommandContext, argv: string[]): void {
  if (argv.length >= 3) {
    const l = argRange(ctx, argv[2]!, -LONG_MAX, LONG_MAX);
    if (l === null) return;
    let withValues = false;
    if (argv.length > 4 || (argv.length === 4 && !eq(argv[3]!, 'withvalues'))) {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
    if (argv.length === 4) {
      withValues = true;
      if (!doublesWithoutOverflow(argv[2]!)) {
        ctx.reply.error('ERR value is out of range');
        return;
      }
    }
    hrandfieldWithCount(ctx, argv[1]!, l, argv[2]!, withValues);
    return;
  }
  const h = readHash(ctx, argv[1]!, () => ctx.reply.nullBulk());
  if (h === null) return;
  ctx.reply.bulk(h.randomEntry()[0]);
}

function hrandfieldWithCount(ctx: CommandContext, key: string, l: number, countArg: string, withValues: boolean): void {
  const h = readHash(ctx, key, () => ctx.reply.array(0));
  if (h === null) return;
  const r = ctx.reply;
  const unique = l >= 0;
  const count = Math.abs(l);
  if (count === 0) {
    r.array(0);
    return;
  }
  const resp3Pairs = withValues && r.resp === 3;
  const write = (w: ReplyWriter, [f, v]: [string, string]) => {
    if (resp3Pairs) w.array(2);
    w.bulk(f);
    if (withValues) w.bulk(v);
  };
  const source = { size: h.size, pick: () => h.randomEntry(), all: () => h.toArray() };
  if (!unique) {
    picksHeader(r, countArg, count, withValues && !resp3Pairs ? 2 : 1);
    replyRepeatedPicks(r, (s) => ctx.startStream(s), source, count, write);
    return;
  }
  const entries = distinctPicks(source, count, (e) => e[0]);
  r.array(withValues && !resp3Pairs ? entries.length * 2 : entries.length);
  for (const e of entries) write(r, e);
}

export const hashCommands: CommandImpl[] = [
  { name: 'hset', run: (ctx, argv) => hset(ctx, argv, false) },
  { name: 'hmset', run: (ctx, argv) => hset(ctx, argv, true) },
  { name: 'hsetnx', run: hsetnx },
  {
    name: 'hget',
    run(ctx, argv) {
      const h = readHash(ctx, argv[1]!, () => ctx.reply.nullBulk());
      if (h === null) return;
      const v = h.get(argv[2]!);
      if (v === undefined) ctx.reply.nullBulk();
      else ctx.reply.bulk(v);
    },
  },
  {
    name: 'hmget',
    run(ctx, argv) {
      const h = lookupTyped<HashValue>(ctx, argv[1]!, 'hash', false);
      if (h === null) return;
      ctx.reply.array(argv.length - 2);
      for (let i = 2; i < argv.length; i++) {
        const v = h === undefined ? undefined : h.get(argv[i]!);
        if (v === undefined) ctx.reply.nullBulk();
        else ctx.reply.bulk(v);
      }
    },
  },
  { name: 'hdel', run: hdel },
  {
    name: 'hexists',
    run(ctx, argv) {
      const h = readHash(ctx, argv[1]!, () => ctx.reply.integer(0));
      if (h !== null) ctx.reply.integer(h.has(argv[2]!) ? 1 : 0);
    },
  },
  {
    name: 'hlen',
    run(ctx, argv) {
      const h = readHash(ctx, argv[1]!, () => ctx.reply.integer(0));
      if (h !== null) ctx.reply.integer(h.size);
    },
  },
  {
    name: 'hstrlen',
    run(ctx, argv) {
      const h = readHash(ctx, argv[1]!, () => ctx.reply.integer(0));
      if (h !== null) ctx.reply.integer(h.get(argv[2]!)?.length ?? 0);
    },
  },
  { name: 'hkeys', run: (ctx, argv) => hgetall(ctx, argv, true, false) },
  { name: 'hvals', run: (ctx, argv) => hgetall(ctx, argv, false, true) },
  { name: 'hgetall', run: (ctx, argv) => hgetall(ctx, argv, true, true) },
  { name: 'hincrby', run: hincrby },
  { name: 'hincrbyfloat', run: hincrbyfloat },
  { name: 'hrandfield', run: hrandfield },
  {
    name: 'hscan',
    run(ctx, argv) {
      scanCollection(ctx, argv, () => {
        const h = lookupTyped<HashValue>(ctx, argv[1]!, 'hash', false);
        if (h === null || h === undefined) return h;
        const table = h.hashtable;
        return {
          all: () => (table === null ? h.toArray() : null),
          step: (cursor, count, out) => table!.scanShards(cursor, count, (shard) => {
            for (const e of shard) out.push(e);
          }),
        };
      });
    },
  },
];
