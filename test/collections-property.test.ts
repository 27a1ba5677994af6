// Random command sequences per collection type (fast-check), against
// redis-server: replies must match, including encoding conversions in both
// directions (small thresholds force them) and deletion of emptied keys.
import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import { toJs } from './helpers/resp.js';

const runs = Number(process.env.VIREO_FC_RUNS ?? 40);
const key = fc.constantFrom('a', 'b', 'c');
const member = fc.oneof(fc.constantFrom('x', 'y', 'z', 'w', '1', '2', '10', '-3', '', 'long-member-value-over-ten'), fc.integer({ min: -5, max: 30 }).map(String));
const small = fc.integer({ min: -6, max: 6 }).map(String);
const score = fc.oneof(fc.integer({ min: -5, max: 5 }).map(String), fc.constantFrom('1.5', '-0.25', 'inf', '-inf', '2.5', '0'));

async function runSequences(pair: DiffPair, commands: fc.Arbitrary<string[]>, dump: (k: string) => string[][]): Promise<void> {
  await fc.assert(
    fc.asyncProperty(fc.array(commands, { minLength: 5, maxLength: 50 }), async (cmds) => {
      await pair.check('FLUSHALL');
      for (const c of cmds) await pair.check(...c);
      for (const k of ['a', 'b', 'c']) {
        const t = toJs(await pair.check('TYPE', k));
        if (t !== 'none') {
          await pair.check('OBJECT', 'ENCODING', k);
          for (const d of dump(k)) await pair.check(...d);
        }
      }
    }),
    { numRuns: runs },
  );
}

describe.skipIf(!HAVE_REDIS)('collections, random sequences (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start({
      'hash-max-listpack-entries': '4',
      'hash-max-listpack-value': '8',
      'set-max-intset-entries': '4',
      'zset-max-listpack-entries': '4',
      'zset-max-listpack-value': '8',
      'list-max-listpack-size': '4',
    });
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('lists', async () => {
    const cmd: fc.Arbitrary<string[]> = fc.oneof(
      fc.tuple(fc.constantFrom('LPUSH', 'RPUSH', 'LPUSHX', 'RPUSHX'), key, fc.array(member, { minLength: 1, maxLength: 6 })).map(([c, k, m]) => [c, k, ...m]),
      fc.tuple(fc.constantFrom('LPOP', 'RPOP'), key).map(([c, k]) => [c, k]),
      fc.tuple(fc.constantFrom('LPOP', 'RPOP'), key, fc.integer({ min: 0, max: 4 })).map(([c, k, n]) => [c, k, String(n)]),
      fc.tuple(key, small, small).map(([k, a, b]) => ['LRANGE', k, a, b]),
      fc.tuple(key, small, small).map(([k, a, b]) => ['LTRIM', k, a, b]),
      fc.tuple(key, small).map(([k, i]) => ['LINDEX', k, i]),
      fc.tuple(key, small, member).map(([k, i, m]) => ['LSET', k, i, m]),
      fc.tuple(key, fc.constantFrom('BEFORE', 'AFTER'), member, member).map(([k, w, p, m]) => ['LINSERT', k, w, p, m]),
      fc.tuple(key, small, member).map(([k, n, m]) => ['LREM', k, n, m]),
      fc.tuple(key, member, fc.constantFrom([], ['RANK', '-1'], ['COUNT', '0'], ['RANK', '2', 'COUNT', '2'], ['MAXLEN', '3'])).map(([k, m, o]) => ['LPOS', k, m, ...o]),
      fc.tuple(key, key, fc.constantFrom('LEFT', 'RIGHT'), fc.constantFrom('LEFT', 'RIGHT')).map(([a, b, x, y]) => ['LMOVE', a, b, x, y]),
      fc.tuple(key, key).map(([a, b]) => ['RPOPLPUSH', a, b]),
      fc.tuple(key, key, fc.constantFrom('LEFT', 'RIGHT'), fc.integer({ min: 1, max: 5 })).map(([a, b, w, n]) => ['LMPOP', '2', a, b, w, 'COUNT', String(n)]),
      key.map((k) => ['LLEN', k]),
    );
    await runSequences(pair, cmd, (k) => [['LRANGE', k, '0', '-1']]);
  });

  it('hashes', async () => {
    const cmd: fc.Arbitrary<string[]> = fc.oneof(
      fc.tuple(key, fc.array(fc.tuple(member, member), { minLength: 1, maxLength: 4 })).map(([k, p]) => ['HSET', k, ...p.flat()]),
      fc.tuple(key, member, member).map(([k, f, v]) => ['HSETNX', k, f, v]),
      fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, f]) => ['HDEL', k, ...f]),
      fc.tuple(key, member).map(([k, f]) => ['HGET', k, f]),
      fc.tuple(key, member, member).map(([k, f, g]) => ['HMGET', k, f, g]),
      fc.tuple(key, member, small).map(([k, f, n]) => ['HINCRBY', k, f, n]),
      fc.tuple(key, member, fc.constantFrom('0.5', '-1.25', '3')).map(([k, f, n]) => ['HINCRBYFLOAT', k, f, n]),
      fc.tuple(key, member).map(([k, f]) => ['HEXISTS', k, f]),
      fc.tuple(key, member).map(([k, f]) => ['HSTRLEN', k, f]),
      key.map((k) => ['HLEN', k]),
      key.map((k) => ['HKEYS', k]),
    );
    await runSequences(pair, cmd, (k) => [['HGETALL', k]]);
  });

  it('sets', async () => {
    const cmd: fc.Arbitrary<string[]> = fc.oneof(
      fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 6 })).map(([k, m]) => ['SADD', k, ...m]),
      fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, m]) => ['SREM', k, ...m]),
      fc.tuple(key, member).map(([k, m]) => ['SISMEMBER', k, m]),
      fc.tuple(key, member, member).map(([k, m, n]) => ['SMISMEMBER', k, m, n]),
      fc.tuple(key, key, member).map(([a, b, m]) => ['SMOVE', a, b, m]),
      fc.tuple(key, key).map(([a, b]) => ['SINTER', a, b]),
      fc.tuple(key, key).map(([a, b]) => ['SUNION', a, b]),
      fc.tuple(key, key).map(([a, b]) => ['SDIFF', a, b]),
      fc.tuple(key, key, key, fc.constantFrom('SINTERSTORE', 'SUNIONSTORE', 'SDIFFSTORE')).map(([d, a, b, c]) => [c, d, a, b]),
      fc.tuple(key, key).map(([a, b]) => ['SINTERCARD', '2', a, b]),
      key.map((k) => ['SCARD', k]),
    );
    await runSequences(pair, cmd, (k) => [['SMEMBERS', k]]);
  });

  it('sorted sets', async () => {
    const cmd: fc.Arbitrary<string[]> = fc.oneof(
      fc.tuple(key, fc.constantFrom([], ['NX'], ['XX'], ['GT'], ['LT', 'CH'], ['XX', 'GT']), fc.array(fc.tuple(score, member), { minLength: 1, maxLength: 4 })).map(([k, o, p]) => ['ZADD', k, ...o, ...p.flat()]),
      fc.tuple(key, score, member).map(([k, s, m]) => ['ZINCRBY', k, s, m]),
      fc.tuple(key, fc.array(member, { minLength: 1, maxLength: 3 })).map(([k, m]) => ['ZREM', k, ...m]),
      fc.tuple(key, member).map(([k, m]) => ['ZSCORE', k, m]),
      fc.tuple(key, member).map(([k, m]) => ['ZRANK', k, m]),
      fc.tuple(key, member).map(([k, m]) => ['ZREVRANK', k, m]),
      fc.tuple(key, small, small, fc.constantFrom([], ['REV'], ['WITHSCORES'])).map(([k, a, b, o]) => ['ZRANGE', k, a, b, ...o]),
      fc.tuple(key, score, score, fc.constantFrom([], ['LIMIT', '1', '2'])).map(([k, a, b, o]) => ['ZRANGEBYSCORE', k, a, `(${b}`, ...o]),
      fc.tuple(key, score, score).map(([k, a, b]) => ['ZCOUNT', k, a, b]),
      fc.tuple(key, small, small).map(([k, a, b]) => ['ZREMRANGEBYRANK', k, a, b]),
      fc.tuple(key, score, score).map(([k, a, b]) => ['ZREMRANGEBYSCORE', k, a, b]),
      fc.tuple(key, fc.constantFrom('ZPOPMIN', 'ZPOPMAX'), fc.integer({ min: 1, max: 3 })).map(([k, c, n]) => [c, k, String(n)]),
      fc.tuple(key, key, fc.constantFrom('MIN', 'MAX')).map(([a, b, w]) => ['ZMPOP', '2', a, b, w, 'COUNT', '2']),
      fc.tuple(key, key, key, fc.constantFrom('ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE')).map(([d, a, b, c]) => [c, d, '2', a, b]),
      fc.tuple(key, key).map(([a, b]) => ['ZUNION', '2', a, b, 'WITHSCORES']),
      fc.tuple(key, key, small, small).map(([d, s, a, b]) => ['ZRANGESTORE', d, s, a, b]),
      key.map((k) => ['ZCARD', k]),
    );
    await runSequences(pair, cmd, (k) => [['ZRANGE', k, '0', '-1', 'WITHSCORES']]);
  });
});
