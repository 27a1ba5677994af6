/**
 * Hash commands (Redis 7.2's t_hash.c). HINCRBYFLOAT is logged as HSET
 * with the resulting value, as Redis propagates it.
 */

import type { CommandImpl } from './table.js';
import type { Client } from '../server/client.js';
import { ERR, argRange, eq, lookupTyped, LONG_MAX, doublesWithoutOverflow } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import { HashValue } from '../types/hash.js';
import { parseInteger, INT64_MAX, INT64_MIN } from '../util/numbers.js';
import { parseLongDouble, addLongDouble, formatLongDoubleHuman } from '../util/longdouble.js';
import { scanCollection } from './scan.js';
import { distinctPicks, picksHeader, replyRepeatedPicks } from './random.js';
import type { ReplyWriter } from '../protocol/writer.js';

/** hashTypeLookupWriteOrCreate. */
function hashForWrite(c: Client, key: string): HashValue | null {
  const h = lookupTyped<HashValue>(c, key, 'hash', true);
  if (h === null) return null;
  if (h !== undefined) return h;
  const created = new HashValue();
  c.engine.setKey(c.db, key, created);
  return created;
}

function hset(c: Client, argv: string[], isHmset: boolean): void {
  if (argv.length % 2 === 1) {
    c.reply.error(`ERR wrong number of arguments for '${c.current!.name}' command`);
    return;
  }
  const key = argv[1]!;
  const h = hashForWrite(c, key);
  if (h === null) return;
  const limits = c.engine.limits;
  h.prepareFor(argv, 2, argv.length - 1, limits);
  let created = 0;
  for (let i = 2; i < argv.length; i += 2) if (h.set(argv[i]!, argv[i + 1]!, limits)) created++;
  if (isHmset) c.reply.ok();
  else c.reply.integer(created);
  const engine = c.engine;
  engine.modified(c.db, key);
  engine.notify(NOTIFY.HASH, 'hset', key, c.db.id);
  engine.emit(c.db.id, argv, (argv.length - 2) / 2);
}

function hsetnx(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const h = hashForWrite(c, key);
  if (h === null) return;
  if (h.has(argv[2]!)) {
    c.reply.integer(0);
    return;
  }
  const limits = c.engine.limits;
  h.prepareFor(argv, 2, 3, limits);
  h.set(argv[2]!, argv[3]!, limits);
  c.reply.integer(1);
  c.engine.modified(c.db, key);
  c.engine.notify(NOTIFY.HASH, 'hset', key, c.db.id);
  c.engine.emit(c.db.id, argv);
}

function readHash(c: Client, key: string, ifMissing: () => void): HashValue | null {
  const h = lookupTyped<HashValue>(c, key, 'hash', false);
  if (h === null) return null;
  if (h === undefined) {
    ifMissing();
    return null;
  }
  return h;
}

function hdel(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const h = lookupTyped<HashValue>(c, key, 'hash', true);
  if (h === null) return;
  if (h === undefined) {
    c.reply.integer(0);
    return;
  }
  const engine = c.engine;
  let deleted = 0;
  let keyRemoved = false;
  for (let i = 2; i < argv.length; i++) {
    if (!h.delete(argv[i]!)) continue;
    deleted++;
    if (h.size === 0) {
      engine.deleteKey(c.db, key);
      keyRemoved = true;
      break;
    }
  }
  if (deleted > 0) {
    engine.modified(c.db, key);
    engine.notify(NOTIFY.HASH, 'hdel', key, c.db.id);
    if (keyRemoved) engine.notify(NOTIFY.GENERIC, 'del', key, c.db.id);
    engine.emit(c.db.id, argv, deleted);
  }
  c.reply.integer(deleted);
}

function hgetall(c: Client, argv: string[], fields: boolean, values: boolean): void {
  const h = lookupTyped<HashValue>(c, argv[1]!, 'hash', false);
  if (h === null) return;
  const both = fields && values;
  if (h === undefined) {
    if (both) c.reply.map(0);
    else c.reply.array(0);
    return;
  }
  if (both) c.reply.map(h.size);
  else c.reply.array(h.size);
  for (const [f, v] of h.entries()) {
    if (fields) c.reply.bulk(f);
    if (values) c.reply.bulk(v);
  }
}

function hincrby(c: Client, argv: string[]): void {
  const incr = parseInteger(argv[3]!);
  if (incr === null) {
    c.reply.error(ERR.NOT_INTEGER);
    return;
  }
  const key = argv[1]!;
  const h = hashForWrite(c, key);
  if (h === null) return;
  const field = argv[2]!;
  const cur = h.get(field);
  let value: number | bigint = 0;
  if (cur !== undefined) {
    const n = parseInteger(cur);
    if (n === null) {
      c.reply.error('ERR hash value is not an integer');
      return;
    }
    value = n;
  }
  let result: number | bigint;
  if (typeof value === 'number' && typeof incr === 'number' && Number.isSafeInteger(value + incr)) result = value + incr;
  else {
    const big = BigInt(value) + BigInt(incr);
    if (big > INT64_MAX || big < INT64_MIN) {
      c.reply.error(ERR.OVERFLOW);
      return;
    }
    result = big;
  }
  h.set(field, String(result), c.engine.limits);
  c.reply.integer(typeof result === 'bigint' && result >= -9007199254740991n && result <= 9007199254740991n ? Number(result) : result);
  c.engine.modified(c.db, key);
  c.engine.notify(NOTIFY.HASH, 'hincrby', key, c.db.id);
  c.engine.emit(c.db.id, argv);
}

function hincrbyfloat(c: Client, argv: string[]): void {
  const incr = parseLongDouble(argv[3]!);
  if (incr === null) {
    c.reply.error(ERR.NOT_FLOAT);
    return;
  }
  if (incr.inf) {
    c.reply.error('ERR value is NaN or Infinity');
    return;
  }
  const key = argv[1]!;
  const h = hashForWrite(c, key);
  if (h === null) return;
  const field = argv[2]!;
  const cur = h.get(field);
  const value = cur === undefined ? parseLongDouble('0')! : parseLongDouble(cur);
  if (value === null) {
    c.reply.error('ERR hash value is not a float');
    return;
  }
  const sum = addLongDouble(value, incr);
  if (sum === null || sum.inf) {
    c.reply.error('ERR increment would produce NaN or Infinity');
    return;
  }
  const text = formatLongDoubleHuman(sum);
  h.set(field, text, c.engine.limits);
  c.reply.bulk(text);
  c.engine.modified(c.db, key);
  c.engine.notify(NOTIFY.HASH, 'hincrbyfloat', key, c.db.id);
  c.engine.emit(c.db.id, ['HSET', key, field, text]);
}

function hrandfield(c: Client, argv: string[]): void {
  if (argv.length >= 3) {
    const l = argRange(c, argv[2]!, -LONG_MAX, LONG_MAX);
    if (l === null) return;
    let withValues = false;
    if (argv.length > 4 || (argv.length === 4 && !eq(argv[3]!, 'withvalues'))) {
      c.reply.error(ERR.SYNTAX);
      return;
    }
    if (argv.length === 4) {
      withValues = true;
      if (!doublesWithoutOverflow(argv[2]!)) {
        c.reply.error('ERR value is out of range');
        return;
      }
    }
    hrandfieldWithCount(c, argv[1]!, l, argv[2]!, withValues);
    return;
  }
  const h = readHash(c, argv[1]!, () => c.reply.nullBulk());
  if (h === null) return;
  c.reply.bulk(h.randomEntry()[0]);
}

function hrandfieldWithCount(c: Client, key: string, l: number, countArg: string, withValues: boolean): void {
  const h = readHash(c, key, () => c.reply.array(0));
  if (h === null) return;
  const r = c.reply;
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
    replyRepeatedPicks(r, (s) => c.startStream(s), source, count, write);
    return;
  }
  const entries = distinctPicks(source, count, (e) => e[0]);
  r.array(withValues && !resp3Pairs ? entries.length * 2 : entries.length);
  for (const e of entries) write(r, e);
}

export const hashCommands: CommandImpl[] = [
  { name: 'hset', run: (c, argv) => hset(c, argv, false) },
  { name: 'hmset', run: (c, argv) => hset(c, argv, true) },
  { name: 'hsetnx', run: hsetnx },
  {
    name: 'hget',
    run(c, argv) {
      const h = readHash(c, argv[1]!, () => c.reply.nullBulk());
      if (h === null) return;
      const v = h.get(argv[2]!);
      if (v === undefined) c.reply.nullBulk();
      else c.reply.bulk(v);
    },
  },
  {
    name: 'hmget',
    run(c, argv) {
      const h = lookupTyped<HashValue>(c, argv[1]!, 'hash', false);
      if (h === null) return;
      c.reply.array(argv.length - 2);
      for (let i = 2; i < argv.length; i++) {
        const v = h === undefined ? undefined : h.get(argv[i]!);
        if (v === undefined) c.reply.nullBulk();
        else c.reply.bulk(v);
      }
    },
  },
  { name: 'hdel', run: hdel },
  {
    name: 'hexists',
    run(c, argv) {
      const h = readHash(c, argv[1]!, () => c.reply.integer(0));
      if (h !== null) c.reply.integer(h.has(argv[2]!) ? 1 : 0);
    },
  },
  {
    name: 'hlen',
    run(c, argv) {
      const h = readHash(c, argv[1]!, () => c.reply.integer(0));
      if (h !== null) c.reply.integer(h.size);
    },
  },
  {
    name: 'hstrlen',
    run(c, argv) {
      const h = readHash(c, argv[1]!, () => c.reply.integer(0));
      if (h !== null) c.reply.integer(h.get(argv[2]!)?.length ?? 0);
    },
  },
  { name: 'hkeys', run: (c, argv) => hgetall(c, argv, true, false) },
  { name: 'hvals', run: (c, argv) => hgetall(c, argv, false, true) },
  { name: 'hgetall', run: (c, argv) => hgetall(c, argv, true, true) },
  { name: 'hincrby', run: hincrby },
  { name: 'hincrbyfloat', run: hincrbyfloat },
  { name: 'hrandfield', run: hrandfield },
  {
    name: 'hscan',
    run(c, argv) {
      scanCollection(c, argv, () => {
        const h = lookupTyped<HashValue>(c, argv[1]!, 'hash', false);
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
