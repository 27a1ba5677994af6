// Hashes, lists, sets, sorted sets and SORT against redis-server: every
// command with its edge cases, bad input, wrong types, and encodings that
// switch in both directions.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import { toJs, type RespClient } from './helpers/resp.js';

describe.skipIf(!HAVE_REDIS)('collections (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });
  beforeEach(async () => {
    await pair.check('FLUSHALL');
  });

  it('list pushes, pops, ranges', async () => {
    await pair.script([
      ['LPUSH', 'l', 'a', 'b', 'c'],
      ['RPUSH', 'l', 'd', 'e'],
      ['LRANGE', 'l', '0', '-1'],
      ['LLEN', 'l'],
      ['LPUSHX', 'nokey', 'x'],
      ['RPUSHX', 'nokey', 'x'],
      ['LPUSHX', 'l', 'z'],
      ['LPOP', 'l'],
      ['RPOP', 'l'],
      ['LPOP', 'l', '2'],
      ['RPOP', 'l', '0'],
      ['RPOP', 'l', '10'],
      ['EXISTS', 'l'],
      ['LPOP', 'l'],
      ['LPOP', 'l', '1'],
      ['LPOP', 'l', '-1'],
      ['LPOP', 'l', 'x'],
      ['LPOP', 'l', '1', '2'],
      ['RPUSH', 'm', '1', '2', '3', '4', '5', '6'],
      ['LRANGE', 'm', '1', '3'],
      ['LRANGE', 'm', '-3', '-1'],
      ['LRANGE', 'm', '-100', '100'],
      ['LRANGE', 'm', '5', '1'],
      ['LRANGE', 'm', '10', '20'],
      ['LRANGE', 'm', 'a', '1'],
      ['LRANGE', 'nokey', '0', '-1'],
      ['LINDEX', 'm', '0'],
      ['LINDEX', 'm', '-1'],
      ['LINDEX', 'm', '100'],
      ['LINDEX', 'm', 'x'],
      ['LINDEX', 'nokey', 'x'],
      ['LSET', 'm', '0', 'first'],
      ['LSET', 'm', '-1', 'last'],
      ['LSET', 'm', '100', 'x'],
      ['LSET', 'nokey', '0', 'x'],
      ['LSET', 'm', 'x', 'x'],
      ['LRANGE', 'm', '0', '-1'],
      ['SET', 's', 'v'],
      ['LPUSH', 's', 'x'],
      ['LRANGE', 's', '0', '1'],
      ['LLEN', 's'],
      ['LPOP', 's'],
    ]);
  });

  it('LINSERT LREM LTRIM LPOS', async () => {
    await pair.script([
      ['RPUSH', 'l', 'a', 'b', 'a', 'c', 'a', 'd'],
      ['LINSERT', 'l', 'BEFORE', 'c', 'X'],
      ['LINSERT', 'l', 'after', 'a', 'Y'],
      ['LINSERT', 'l', 'before', 'nope', 'Z'],
      ['LINSERT', 'l', 'middle', 'a', 'Z'],
      ['LINSERT', 'nokey', 'before', 'a', 'Z'],
      ['LRANGE', 'l', '0', '-1'],
      ['LPOS', 'l', 'a'],
      ['LPOS', 'l', 'a', 'RANK', '2'],
      ['LPOS', 'l', 'a', 'RANK', '-1'],
      ['LPOS', 'l', 'a', 'COUNT', '0'],
      ['LPOS', 'l', 'a', 'COUNT', '2', 'RANK', '-1'],
      ['LPOS', 'l', 'a', 'MAXLEN', '2', 'COUNT', '0'],
      ['LPOS', 'l', 'a', 'RANK', '0'],
      ['LPOS', 'l', 'a', 'RANK', 'x'],
      ['LPOS', 'l', 'a', 'COUNT', '-1'],
      ['LPOS', 'l', 'a', 'MAXLEN', '-1'],
      ['LPOS', 'l', 'a', 'FOO'],
      ['LPOS', 'l', 'nope'],
      ['LPOS', 'l', 'nope', 'COUNT', '1'],
      ['LPOS', 'nokey', 'a'],
      ['LPOS', 'nokey', 'a', 'COUNT', '1'],
      ['LREM', 'l', '1', 'a'],
      ['LREM', 'l', '-1', 'a'],
      ['LRANGE', 'l', '0', '-1'],
      ['LREM', 'l', '0', 'a'],
      ['LREM', 'l', 'x', 'a'],
      ['LREM', 'nokey', '0', 'a'],
      ['LRANGE', 'l', '0', '-1'],
      ['LTRIM', 'l', '1', '-2'],
      ['LRANGE', 'l', '0', '-1'],
      ['LTRIM', 'l', '5', '1'],
      ['EXISTS', 'l'],
      ['LTRIM', 'nokey', '0', '1'],
      ['RPUSH', 't', '1', '2', '3'],
      ['LTRIM', 't', '-100', '100'],
      ['LTRIM', 't', 'x', '1'],
      ['LRANGE', 't', '0', '-1'],
      ['LREM', 't', '0', '2'],
      ['LREM', 't', '0', '1'],
      ['LREM', 't', '0', '3'],
      ['EXISTS', 't'],
    ]);
  });

  it("a quicklist keeps the node size and compress depth it was made with, as Redis' quicklist keeps its fill (DEBUG OBJECT ql_*)", async () => {
    const ql = async (c: RespClient): Promise<string> => {
      const r = await c.call('DEBUG', 'OBJECT', 'l');
      return r.type === 'simple' ? r.value.slice(r.value.indexOf('ql_nodes')) : JSON.stringify(r);
    };
    const same = async () => expect(await ql(pair.vireo)).toBe(await ql(pair.redis));
    try {
      await pair.script([
        ['CONFIG', 'SET', 'list-max-listpack-size', '4'],
        ['CONFIG', 'SET', 'list-compress-depth', '1'],
        ['RPUSH', 'l', '1', '2', '3', '4', '5', '6', '7', '8', '9', '10'],
        // Later configuration: the list's nodes still hold at most 4 elements.
        ['CONFIG', 'SET', 'list-max-listpack-size', '8'],
        ['CONFIG', 'SET', 'list-compress-depth', '0'],
        ['RPUSH', 'l', '11', '12', '13', '14', '15', '16', '17', '18', '19', '20'],
        ['LPUSH', 'l', 'a', 'b', 'c', 'd', 'e', 'f', 'g'],
        ['LINSERT', 'l', 'BEFORE', '15', 'x'],
        ['LSET', 'l', '3', 'y'.repeat(20)],
      ]);
      await same();
      await pair.script([['LRANGE', 'l', '0', '-1'], ['OBJECT', 'ENCODING', 'l']]);
    } finally {
      await pair.script([
        ['CONFIG', 'SET', 'list-max-listpack-size', '-2'],
        ['CONFIG', 'SET', 'list-compress-depth', '0'],
      ]);
    }
  });

  it('LMOVE RPOPLPUSH LMPOP', async () => {
    await pair.script([
      ['RPUSH', 'a', '1', '2', '3'],
      ['LMOVE', 'a', 'b', 'LEFT', 'RIGHT'],
      ['LMOVE', 'a', 'b', 'RIGHT', 'LEFT'],
      ['LMOVE', 'a', 'a', 'LEFT', 'RIGHT'],
      ['LRANGE', 'a', '0', '-1'],
      ['LRANGE', 'b', '0', '-1'],
      ['RPOPLPUSH', 'a', 'b'],
      ['EXISTS', 'a'],
      ['RPOPLPUSH', 'a', 'b'],
      ['LMOVE', 'b', 'c', 'UP', 'LEFT'],
      ['SET', 'str', 'x'],
      ['LMOVE', 'b', 'str', 'LEFT', 'LEFT'],
      ['LMOVE', 'str', 'b', 'LEFT', 'LEFT'],
      ['LRANGE', 'b', '0', '-1'],
      ['LMPOP', '2', 'nokey', 'b', 'LEFT'],
      ['LMPOP', '2', 'nokey', 'b', 'RIGHT', 'COUNT', '10'],
      ['LMPOP', '1', 'nokey', 'LEFT'],
      ['RPUSH', 'c', 'x', 'y'],
      ['LMPOP', '0', 'c', 'LEFT'],
      ['LMPOP', '1', 'c', 'MIDDLE'],
      ['LMPOP', '1', 'c', 'LEFT', 'COUNT', '0'],
      ['LMPOP', '1', 'c', 'LEFT', 'COUNT', '1', 'COUNT', '1'],
      ['LMPOP', '5', 'c', 'LEFT'],
      ['LMPOP', '2', 'str', 'c', 'LEFT'],
      ['LMPOP', '1', 'c', 'left', 'count', '1'],
    ]);
  });

  it('hash commands', async () => {
    await pair.script([
      ['HSET', 'h', 'a', '1', 'b', '2'],
      ['HSET', 'h', 'a', '10', 'c', '3'],
      ['HSET', 'h', 'a'],
      ['HMSET', 'h', 'd', '4'],
      ['HGET', 'h', 'a'],
      ['HGET', 'h', 'nofield'],
      ['HGET', 'nokey', 'a'],
      ['HMGET', 'h', 'a', 'nofield', 'b'],
      ['HMGET', 'nokey', 'a'],
      ['HSETNX', 'h', 'a', 'x'],
      ['HSETNX', 'h', 'e', '5'],
      ['HLEN', 'h'],
      ['HEXISTS', 'h', 'e'],
      ['HEXISTS', 'h', 'z'],
      ['HSTRLEN', 'h', 'a'],
      ['HSTRLEN', 'h', 'z'],
      ['HKEYS', 'h'],
      ['HVALS', 'h'],
      ['HGETALL', 'h'],
      ['HGETALL', 'nokey'],
      ['HDEL', 'h', 'a', 'a', 'z'],
      ['HDEL', 'nokey', 'a'],
      ['HINCRBY', 'h', 'b', '5'],
      ['HINCRBY', 'h', 'new', '-3'],
      ['HINCRBY', 'h', 'b', 'x'],
      ['HSET', 'h', 's', 'abc', 'big', '9223372036854775807'],
      ['HINCRBY', 'h', 's', '1'],
      ['HINCRBY', 'h', 'big', '1'],
      ['HINCRBYFLOAT', 'h', 'f', '1.5'],
      ['HINCRBYFLOAT', 'h', 'f', '0.1'],
      ['HINCRBYFLOAT', 'h', 's', '1'],
      ['HINCRBYFLOAT', 'h', 'f', 'inf'],
      ['HINCRBYFLOAT', 'h', 'f', 'x'],
      ['HINCRBYFLOAT', 'h', 'b', '2.5'],
      ['HGETALL', 'h'],
      ['HDEL', 'h', 'b', 'c', 'd', 'e', 'new', 's', 'big', 'f'],
      ['EXISTS', 'h'],
      ['SET', 'str', 'v'],
      ['HSET', 'str', 'a', '1'],
      ['HGET', 'str', 'a'],
      ['HGETALL', 'str'],
      ['HLEN', 'str'],
      ['HRANDFIELD', 'nokey'],
      ['HRANDFIELD', 'nokey', '5'],
      ['HRANDFIELD', 'str'],
      ['HRANDFIELD', 'nokey', 'x'],
      ['HRANDFIELD', 'nokey', '1', 'FOO'],
      ['HRANDFIELD', 'nokey', '1', 'WITHVALUES', 'x'],
      ['HRANDFIELD', 'nokey', '-9223372036854775807', 'WITHVALUES'],
    ]);
  });

  it('hash encodings convert at hash-max-listpack-entries/value', async () => {
    await pair.check('CONFIG', 'SET', 'hash-max-listpack-entries', '4');
    await pair.check('CONFIG', 'SET', 'hash-max-listpack-value', '8');
    await pair.script([
      ['HSET', 'h1', 'a', '1', 'b', '2', 'c', '3', 'd', '4'],
      ['OBJECT', 'ENCODING', 'h1'],
      ['HSET', 'h1', 'e', '5'],
      ['OBJECT', 'ENCODING', 'h1'],
      ['HDEL', 'h1', 'a', 'b', 'c', 'd'],
      ['OBJECT', 'ENCODING', 'h1'],
      ['HSET', 'h2', 'a', '123456789'],
      ['OBJECT', 'ENCODING', 'h2'],
      ['HSET', 'h3', 'a', '1'],
      ['HINCRBYFLOAT', 'h3', 'longfieldname', '1'],
      ['OBJECT', 'ENCODING', 'h3'],
      ['HSET', 'h4', 'a', '1', 'b', '2', 'c', '3', 'd', '4', 'e', '5'],
      ['OBJECT', 'ENCODING', 'h4'],
      ['HSETNX', 'h5', 'x', '12345678'],
      ['OBJECT', 'ENCODING', 'h5'],
      ['HSETNX', 'h5', 'y', '123456789'],
      ['OBJECT', 'ENCODING', 'h5'],
    ]);
    await pair.check('CONFIG', 'SET', 'hash-max-listpack-entries', '512');
    await pair.check('CONFIG', 'SET', 'hash-max-listpack-value', '64');
  });

  it('HSCAN on listpack and hashtable hashes', async () => {
    const args: string[] = [];
    for (let i = 0; i < 600; i++) args.push(`f${i}`, `v${i}`);
    await pair.check('HSET', 'big', ...args);
    await pair.check('HSET', 'small', 'a', '1', 'b', '2');
    await pair.script([
      ['HSCAN', 'small', '0'],
      ['HSCAN', 'small', '0', 'MATCH', 'a*'],
      ['HSCAN', 'nokey', '0'],
      ['HSCAN', 'small', 'x'],
      ['HSCAN', 'small', '0', 'COUNT', '0'],
      ['HSCAN', 'small', '0', 'FOO', 'bar'],
      ['HSCAN', 'nokey', '0', 'FOO', 'bar'],
      ['OBJECT', 'ENCODING', 'big'],
    ]);
    for (const k of ['big']) {
      const seen = new Set<string>();
      let cursor = '0';
      do {
        const [next, items] = toJs(await pair.vireo.call('HSCAN', k, cursor, 'COUNT', '50')) as [string, string[]];
        for (let i = 0; i < items.length; i += 2) seen.add(items[i]!);
        cursor = next;
      } while (cursor !== '0');
      expect(seen.size).toBe(600);
    }
  });

  it('set commands', async () => {
    await pair.script([
      ['SADD', 's', 'a', 'b', 'c', 'a'],
      ['SADD', 's', 'd'],
      ['SCARD', 's'],
      ['SISMEMBER', 's', 'a'],
      ['SISMEMBER', 's', 'z'],
      ['SISMEMBER', 'nokey', 'a'],
      ['SMISMEMBER', 's', 'a', 'z', 'b'],
      ['SMISMEMBER', 'nokey', 'a'],
      ['SMEMBERS', 's'],
      ['SMEMBERS', 'nokey'],
      ['SREM', 's', 'a', 'z'],
      ['SREM', 'nokey', 'a'],
      ['SMOVE', 's', 't', 'b'],
      ['SMOVE', 's', 't', 'nope'],
      ['SMOVE', 'nokey', 't', 'b'],
      ['SMOVE', 's', 's', 'c'],
      ['SMOVE', 's', 's', 'z'],
      ['SMEMBERS', 't'],
      ['SADD', 'n', '1', '2', '3', '4'],
      ['SMEMBERS', 'n'],
      ['SADD', 'o', '3', '4', '5', 'x'],
      ['SINTER', 'n', 'o'],
      ['SINTER', 'n', 'nokey'],
      ['SUNION', 'n', 'o', 'nokey'],
      ['SDIFF', 'n', 'o'],
      ['SDIFF', 'nokey', 'n'],
      ['SDIFF', 'n', 'n'],
      ['SINTERSTORE', 'd1', 'n', 'o'],
      ['SMEMBERS', 'd1'],
      ['SUNIONSTORE', 'd2', 'n', 'o'],
      ['SCARD', 'd2'],
      ['SDIFFSTORE', 'd3', 'n', 'o'],
      ['SMEMBERS', 'd3'],
      ['SINTERSTORE', 'd1', 'n', 'nokey'],
      ['EXISTS', 'd1'],
      ['SDIFFSTORE', 'd3', 'n', 'n'],
      ['EXISTS', 'd3'],
      ['SINTERCARD', '2', 'n', 'o'],
      ['SINTERCARD', '2', 'n', 'o', 'LIMIT', '1'],
      ['SINTERCARD', '2', 'n', 'o', 'LIMIT', '0'],
      ['SINTERCARD', '0', 'n'],
      ['SINTERCARD', '3', 'n', 'o'],
      ['SINTERCARD', '2', 'n', 'o', 'LIMIT', '-1'],
      ['SINTERCARD', '1', 'n', 'FOO'],
      ['SET', 'str', 'v'],
      ['SADD', 'str', 'a'],
      ['SINTER', 'n', 'str'],
      ['SINTER', 'nokey', 'str'],
      ['SUNION', 'str'],
      ['SMOVE', 'n', 'str', '1'],
      ['SPOP', 'nokey'],
      ['SPOP', 'nokey', '3'],
      ['SPOP', 'n', '-1'],
      ['SPOP', 'n', 'x'],
      ['SPOP', 'n', '0'],
      ['SPOP', 'n', '1', '2'],
      ['SPOP', 'str'],
      ['SRANDMEMBER', 'nokey'],
      ['SRANDMEMBER', 'nokey', '5'],
      ['SRANDMEMBER', 'n', '0'],
      ['SRANDMEMBER', 'n', 'x'],
      ['SRANDMEMBER', 'n', '1', '2'],
      ['SRANDMEMBER', 'str'],
    ]);
  });

  it('SPOP and SRANDMEMBER return members, honour counts, and SPOP removes them', async () => {
    await pair.check('SADD', 's', ...Array.from({ length: 20 }, (_, i) => `m${i}`));
    const members = new Set(Array.from({ length: 20 }, (_, i) => `m${i}`));
    const uniq = toJs(await pair.vireo.call('SRANDMEMBER', 's', '5')) as string[];
    expect(new Set(uniq).size).toBe(5);
    for (const m of uniq) expect(members.has(m)).toBe(true);
    const rep = toJs(await pair.vireo.call('SRANDMEMBER', 's', '-50')) as string[];
    expect(rep).toHaveLength(50);
    expect(toJs(await pair.vireo.call('SRANDMEMBER', 's', '100'))).toHaveLength(20);
    const popped = toJs(await pair.vireo.call('SPOP', 's', '7')) as string[];
    expect(new Set(popped).size).toBe(7);
    expect(toJs(await pair.vireo.call('SCARD', 's'))).toBe('13');
    for (const m of popped) expect(toJs(await pair.vireo.call('SISMEMBER', 's', m))).toBe('0');
    const rest = toJs(await pair.vireo.call('SPOP', 's', '100')) as string[];
    expect(rest).toHaveLength(13);
    expect(toJs(await pair.vireo.call('EXISTS', 's'))).toBe('0');
  });

  it('set encodings: intset, listpack, hashtable', async () => {
    await pair.check('CONFIG', 'SET', 'set-max-intset-entries', '4');
    await pair.script([
      ['SADD', 'i', '1', '2', '3', '4'],
      ['OBJECT', 'ENCODING', 'i'],
      ['SADD', 'i', '5'],
      ['OBJECT', 'ENCODING', 'i'],
      ['SADD', 'j', '1', '-9223372036854775808', '9223372036854775807'],
      ['OBJECT', 'ENCODING', 'j'],
      ['SMEMBERS', 'j'],
      ['SADD', 'j', 'x'],
      ['OBJECT', 'ENCODING', 'j'],
      ['SADD', 'k', 'a'],
      ['OBJECT', 'ENCODING', 'k'],
      ['SADD', 'k', 'x'.repeat(100)],
      ['OBJECT', 'ENCODING', 'k'],
    ]);
    await pair.check('CONFIG', 'SET', 'set-max-intset-entries', '512');
  });

  it('SSCAN', async () => {
    await pair.check('SADD', 'small', '1', '2', '3');
    await pair.check('SADD', 'big', ...Array.from({ length: 1000 }, (_, i) => `m${i}`));
    await pair.script([
      ['SSCAN', 'small', '0'],
      ['SSCAN', 'small', '0', 'MATCH', '2'],
      ['SSCAN', 'nokey', '0'],
    ]);
    const seen = new Set<string>();
    let cursor = '0';
    do {
      const [next, items] = toJs(await pair.vireo.call('SSCAN', 'big', cursor)) as [string, string[]];
      items.forEach((m) => seen.add(m));
      cursor = next;
    } while (cursor !== '0');
    expect(seen.size).toBe(1000);
  });

  it('sorted set basics: ZADD options, ZINCRBY, ZSCORE, ZRANK', async () => {
    await pair.script([
      ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'],
      ['ZADD', 'z', 'NX', '10', 'a', '4', 'd'],
      ['ZADD', 'z', 'XX', '10', 'a', '5', 'e'],
      ['ZADD', 'z', 'XX', 'CH', '11', 'a', '5', 'e'],
      ['ZADD', 'z', 'GT', 'CH', '1', 'a', '20', 'b'],
      ['ZADD', 'z', 'LT', 'CH', '1', 'a', '30', 'c'],
      ['ZADD', 'z', 'NX', 'XX', '1', 'a'],
      ['ZADD', 'z', 'GT', 'LT', '1', 'a'],
      ['ZADD', 'z', 'NX', 'GT', '1', 'a'],
      ['ZADD', 'z', 'INCR', '1', 'a', '2', 'b'],
      ['ZADD', 'z', 'INCR', '5', 'a'],
      ['ZADD', 'z', 'INCR', 'NX', '5', 'a'],
      ['ZADD', 'z', 'INCR', 'XX', '5', 'nope'],
      ['ZADD', 'z', 'INCR', 'GT', '-5', 'a'],
      ['ZADD', 'z', '1'],
      ['ZADD', 'z', 'x', 'a'],
      ['ZADD', 'z', 'nan', 'a'],
      ['ZADD', 'z', '1', 'a', 'x', 'b'],
      ['ZADD', 'z', 'inf', 'pinf', '-inf', 'ninf', '1.5', 'f', '-0', 'zero'],
      ['ZADD', 'nokey', 'XX', '1', 'a'],
      ['EXISTS', 'nokey'],
      ['ZINCRBY', 'z', '2.5', 'f'],
      ['ZINCRBY', 'z', 'x', 'f'],
      ['ZINCRBY', 'z', '-inf', 'pinf'],
      ['ZINCRBY', 'new', '1', 'm'],
      ['ZSCORE', 'z', 'a'],
      ['ZSCORE', 'z', 'pinf'],
      ['ZSCORE', 'z', 'nope'],
      ['ZSCORE', 'nokey', 'a'],
      ['ZMSCORE', 'z', 'a', 'nope', 'ninf'],
      ['ZMSCORE', 'nokey', 'a'],
      ['ZCARD', 'z'],
      ['ZCARD', 'nokey'],
      ['ZRANK', 'z', 'a'],
      ['ZREVRANK', 'z', 'a'],
      ['ZRANK', 'z', 'nope'],
      ['ZRANK', 'nokey', 'a'],
      ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
      ['ZREM', 'z', 'a', 'nope'],
      ['ZREM', 'nokey', 'a'],
      ['SET', 'str', 'x'],
      ['ZADD', 'str', '1', 'a'],
      ['ZSCORE', 'str', 'a'],
      ['ZRANGE', 'str', '0', '-1'],
      ['ZCARD', 'str'],
    ]);
  });

  it('ZRANGE in every form, with LIMIT, REV, BYSCORE, BYLEX', async () => {
    await pair.check('ZADD', 'z', '1', 'a', '2', 'b', '2', 'c', '3', 'd', '4', 'e', '5', 'f');
    await pair.check('ZADD', 'lex', '0', 'a', '0', 'b', '0', 'c', '0', 'd', '0', 'e', '0', 'f', '0', 'g');
    await pair.script([
      ['ZRANGE', 'z', '0', '-1'],
      ['ZRANGE', 'z', '-2', '-1', 'WITHSCORES'],
      ['ZRANGE', 'z', '0', '2', 'REV'],
      ['ZRANGE', 'z', '5', '2'],
      ['ZRANGE', 'z', '(1', '4', 'BYSCORE'],
      ['ZRANGE', 'z', '-inf', '+inf', 'BYSCORE', 'LIMIT', '1', '2'],
      ['ZRANGE', 'z', '+inf', '-inf', 'BYSCORE', 'REV', 'LIMIT', '0', '3', 'WITHSCORES'],
      ['ZRANGE', 'z', '2', '2', 'BYSCORE'],
      ['ZRANGE', 'z', '(2', '2', 'BYSCORE'],
      ['ZRANGE', 'z', '5', '1', 'BYSCORE'],
      ['ZRANGE', 'z', '1', '5', 'BYSCORE', 'LIMIT', '-1', '2'],
      ['ZRANGE', 'z', '1', '5', 'BYSCORE', 'LIMIT', '10', '2'],
      ['ZRANGE', 'z', '1', '5', 'BYSCORE', 'LIMIT', '1', '-1'],
      ['ZRANGE', 'z', '1', '5', 'BYSCORE', 'LIMIT', '1', '0'],
      ['ZRANGE', 'z', '0', '1', 'LIMIT', '0', '1'],
      ['ZRANGE', 'lex', '[b', '[d', 'BYLEX'],
      ['ZRANGE', 'lex', '(b', '(e', 'BYLEX'],
      ['ZRANGE', 'lex', '-', '+', 'BYLEX', 'LIMIT', '2', '3'],
      ['ZRANGE', 'lex', '+', '-', 'BYLEX', 'REV'],
      ['ZRANGE', 'lex', '[d', '[b', 'BYLEX', 'REV'],
      ['ZRANGE', 'lex', 'a', 'c', 'BYLEX'],
      ['ZRANGE', 'lex', '-', '+', 'BYLEX', 'WITHSCORES'],
      ['ZRANGE', 'z', 'a', '1', 'BYSCORE'],
      ['ZRANGE', 'z', 'x', '1'],
      ['ZRANGE', 'z', '0', '1', 'FOO'],
      ['ZRANGE', 'z', '0', '1', 'BYSCORE', 'BYLEX'],
      ['ZRANGE', 'nokey', '0', '-1'],
      ['ZREVRANGE', 'z', '0', '2', 'WITHSCORES'],
      ['ZRANGEBYSCORE', 'z', '2', '4'],
      ['ZRANGEBYSCORE', 'z', '-inf', '(3', 'WITHSCORES', 'LIMIT', '1', '1'],
      ['ZREVRANGEBYSCORE', 'z', '4', '2'],
      ['ZREVRANGEBYSCORE', 'z', '(4', '(1', 'LIMIT', '0', '2'],
      ['ZRANGEBYLEX', 'lex', '[c', '+'],
      ['ZREVRANGEBYLEX', 'lex', '[c', '-', 'LIMIT', '1', '1'],
      ['ZRANGEBYLEX', 'lex', '[c', '+', 'WITHSCORES'],
      ['ZCOUNT', 'z', '2', '4'],
      ['ZCOUNT', 'z', '(2', '+inf'],
      ['ZCOUNT', 'z', 'x', '1'],
      ['ZCOUNT', 'nokey', '0', '1'],
      ['ZLEXCOUNT', 'lex', '[b', '(f'],
      ['ZLEXCOUNT', 'lex', '-', '+'],
      ['ZLEXCOUNT', 'lex', 'b', 'f'],
      ['ZRANGESTORE', 'dst', 'z', '0', '2'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', 'dst', 'z', '2', '4', 'BYSCORE', 'LIMIT', '1', '1'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['ZRANGESTORE', 'dst', 'z', '10', '20'],
      ['EXISTS', 'dst'],
      ['ZRANGESTORE', 'dst', 'nokey', '0', '-1'],
      ['ZRANGESTORE', 'dst', 'z', '0', '-1', 'WITHSCORES'],
    ]);
  });

  it('score and lex range bounds are read as C strings, as zslParseRange does (found by the fuzzer)', async () => {
    await pair.check('ZADD', 'z', '1', 'a', '2', 'b', '0', 'c');
    await pair.script([
      ['ZCOUNT', 'z', '\x00\xff', '5'],
      ['ZCOUNT', 'z', '1\x00junk', '3'],
      ['ZCOUNT', 'z', '(\x00', '(2\x00'],
      ['ZRANGEBYSCORE', 'z', '-inf', '\x00'],
      ['ZRANGESTORE', 'dst', 'nokey', '\x00\xff', '01', 'BYSCORE', 'REV'],
      ['ZREMRANGEBYSCORE', 'z', '5\x00', '6'],
      ['ZCOUNT', 'z', ' \x00', '1'],
      ['ZRANGEBYLEX', 'z', '-\x00', '+\x00x'],
      ['ZRANGEBYLEX', 'z', '+\x00x', '-'],
      ['ZLEXCOUNT', 'z', '[a\x00', '+'],
      ['ZLEXCOUNT', 'z', '-x', '+'],
      ['ZRANGEBYLEX', 'z', '', '+'],
    ]);
  });

  it('ZREMRANGEBY* ZPOPMIN ZPOPMAX ZMPOP', async () => {
    const members = Array.from({ length: 10 }, (_, i) => [String(i), `m${i}`]).flat();
    await pair.script([
      ['ZADD', 'z', ...members],
      ['ZREMRANGEBYRANK', 'z', '0', '1'],
      ['ZREMRANGEBYRANK', 'z', '-1', '-1'],
      ['ZREMRANGEBYRANK', 'z', '5', '1'],
      ['ZREMRANGEBYSCORE', 'z', '(2', '4'],
      ['ZREMRANGEBYSCORE', 'z', 'x', '4'],
      ['ZRANGE', 'z', '0', '-1'],
      ['ZADD', 'lex', '0', 'a', '0', 'b', '0', 'c', '0', 'd'],
      ['ZREMRANGEBYLEX', 'lex', '[b', '(d'],
      ['ZREMRANGEBYLEX', 'lex', 'b', 'd'],
      ['ZRANGE', 'lex', '0', '-1'],
      ['ZPOPMIN', 'z'],
      ['ZPOPMAX', 'z', '2'],
      ['ZPOPMIN', 'z', '0'],
      ['ZPOPMIN', 'z', '-1'],
      ['ZPOPMIN', 'z', '1', '2'],
      ['ZPOPMIN', 'nokey'],
      ['ZPOPMIN', 'nokey', '3'],
      ['ZMPOP', '2', 'nokey', 'z', 'MIN'],
      ['ZMPOP', '1', 'z', 'MAX', 'COUNT', '10'],
      ['EXISTS', 'z'],
      ['ZMPOP', '1', 'z', 'MAX'],
      ['ZMPOP', '0', 'z', 'MAX'],
      ['ZMPOP', '1', 'z', 'MID'],
      ['ZMPOP', '1', 'z', 'MIN', 'COUNT', '0'],
      ['ZMPOP', '3', 'z', 'MIN'],
      ['SET', 'str', 'x'],
      ['ZPOPMIN', 'str'],
      ['ZMPOP', '2', 'nokey', 'str', 'MIN'],
      ['ZREMRANGEBYRANK', 'str', '0', '1'],
    ]);
  });

  it('ZUNION ZINTER ZDIFF and their STORE and CARD forms', async () => {
    await pair.script([
      ['ZADD', 'a', '1', 'x', '2', 'y', '3', 'z'],
      ['ZADD', 'b', '10', 'y', '20', 'z', '30', 'w'],
      ['SADD', 's', 'x', 'w', 'q'],
      ['ZUNION', '2', 'a', 'b', 'WITHSCORES'],
      ['ZUNION', '2', 'a', 'b', 'WEIGHTS', '2', '0.5', 'AGGREGATE', 'MAX', 'WITHSCORES'],
      ['ZUNION', '3', 'a', 'b', 's', 'AGGREGATE', 'MIN', 'WITHSCORES'],
      ['ZINTER', '2', 'a', 'b', 'WITHSCORES'],
      ['ZINTER', '2', 'a', 's'],
      ['ZINTER', '2', 'a', 'a', 'WITHSCORES'],
      ['ZINTER', '2', 'a', 'nokey'],
      ['ZDIFF', '2', 'a', 'b', 'WITHSCORES'],
      ['ZDIFF', '1', 'a'],
      ['ZDIFF', '2', 'a', 'a'],
      ['ZDIFF', '2', 'nokey', 'a'],
      ['ZUNIONSTORE', 'u', '2', 'a', 'b'],
      ['ZRANGE', 'u', '0', '-1', 'WITHSCORES'],
      ['ZINTERSTORE', 'i', '2', 'a', 'b', 'WEIGHTS', '1', '-1'],
      ['ZRANGE', 'i', '0', '-1', 'WITHSCORES'],
      ['ZDIFFSTORE', 'd', '2', 'a', 'b'],
      ['ZRANGE', 'd', '0', '-1', 'WITHSCORES'],
      ['ZINTERSTORE', 'i', '2', 'a', 'nokey'],
      ['EXISTS', 'i'],
      ['ZINTERCARD', '2', 'a', 'b'],
      ['ZINTERCARD', '2', 'a', 'b', 'LIMIT', '1'],
      ['ZINTERCARD', '0', 'a'],
      ['ZINTERCARD', '1', 'a', 'LIMIT', '-1'],
      ['ZUNION', '0', 'a'],
      ['ZUNION', '3', 'a', 'b'],
      ['ZUNION', '2', 'a', 'b', 'WEIGHTS', '1'],
      ['ZUNION', '2', 'a', 'b', 'WEIGHTS', '1', 'x'],
      ['ZUNION', '2', 'a', 'b', 'AGGREGATE', 'AVG'],
      ['ZUNION', 'x', 'a'],
      ['ZDIFF', '2', 'a', 'b', 'WEIGHTS', '1', '2'],
      ['ZUNIONSTORE', 'u', '2', 'a', 'b', 'WITHSCORES'],
      ['SET', 'str', 'v'],
      ['ZUNION', '2', 'a', 'str'],
      ['ZADD', 'inf', 'inf', 'm'],
      ['ZADD', 'ninf', '-inf', 'm'],
      ['ZUNION', '2', 'inf', 'ninf', 'WITHSCORES'],
      ['ZINTER', '2', 'inf', 'ninf', 'WITHSCORES'],
      ['ZUNION', '1', 'inf', 'WEIGHTS', '0', 'WITHSCORES'],
    ]);
  });

  it('sorted set encodings and ZSCAN', async () => {
    await pair.check('CONFIG', 'SET', 'zset-max-listpack-entries', '3');
    await pair.script([
      ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'],
      ['OBJECT', 'ENCODING', 'z'],
      ['ZADD', 'z', '4', 'd'],
      ['OBJECT', 'ENCODING', 'z'],
      ['ZREM', 'z', 'a', 'b'],
      ['OBJECT', 'ENCODING', 'z'],
      ['ZADD', 'w', '1', 'a', '2', 'b', '3', 'c', '4', 'd'],
      ['OBJECT', 'ENCODING', 'w'],
      ['ZUNIONSTORE', 'u', '1', 'z'],
      ['OBJECT', 'ENCODING', 'u'],
      ['ZADD', 'long', '1', 'x'.repeat(65)],
      ['OBJECT', 'ENCODING', 'long'],
      ['ZSCAN', 'w', '0'],
      ['ZSCAN', 'u', '0'],
      ['ZSCAN', 'u', '0', 'MATCH', 'c'],
    ]);
    await pair.check('CONFIG', 'SET', 'zset-max-listpack-entries', '128');
    await pair.check('ZADD', 'f', '1.1', 'a', '0.3', 'b');
    await pair.check('ZSCAN', 'f', '0');
  });

  it('SORT finds * and -> in patterns, and # alone, on the C string as Redis does (found by the fuzzer)', async () => {
    await pair.script([
      ['RPUSH', 'l', 'a', 'b', 'c', '1', '2', 'a', 'm0'],
      ['MSET', 'w_a', '3', 'w_b', '1', 'w_c', '2', 'w_1', '9', 'w_2', '0', 'w_m0', '5', 'o_a', 'A'],
      ['HSET', 'h_a', 'f', '7', 'f\x00', '1'],
      // A NUL before the star: no star, so no sorting.
      ['SORT', 'l', 'BY', '\x00*', 'ASC'],
      ['SORT', 'l', 'BY', 'w\x00_*', 'DESC'],
      // A star before the NUL: the rest of the pattern still counts.
      ['SORT', 'l', 'BY', 'w_*\x00x'],
      ['SORT', 'l', 'BY', 'w_*', 'GET', 'o_*\x00', 'GET', '#\x00x'],
      ['SORT', 'l', 'BY', 'h_*->\x00f', 'GET', 'h_*->f\x00'],
      ['SORT', 'l', 'BY', 'h_*-\x00>f', 'GET', '#'],
      ['SORT', 'l', 'GET', '\x00#'],
    ]);
  });

  it('SORT BY a pattern with LIMIT leaves ties in the order of Redis\' partial quicksort (found by the log-replay property test)', async () => {
    // Elements whose BY keys tie or are missing come out as redis-server's
    // pqsort leaves them; without LIMIT, in their list order (a stable sort).
    let seed = 7;
    const rnd = (n: number): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    for (let t = 0; t < 40; t++) {
      const n = 1 + rnd(90);
      const els = Array.from({ length: n }, () => ['a', 'b', 'c', `d${rnd(5)}`, String(rnd(9))][rnd(5)]!);
      const weights = Array.from({ length: 6 }, () => [`w_${['a', 'b', 'c', 'd0', 'd1', '1', '2', '3'][rnd(8)]}`, String(rnd(4))]).flat();
      const start = String(rnd(n + 3) - 1);
      const count = String(rnd(n + 3) - 1);
      await pair.script([
        ['FLUSHALL'],
        ['RPUSH', 'l', ...els],
        ['MSET', ...weights],
        ['SORT', 'l', 'BY', 'w_*', 'LIMIT', start, count],
        ['SORT', 'l', 'BY', 'w_*', 'LIMIT', start, count, 'ALPHA', 'DESC'],
        ['SORT', 'l', 'BY', 'nokey_*', 'LIMIT', start, count, 'ALPHA'],
        ['SORT', 'l', 'BY', 'w_*', 'ALPHA'],
        ['SORT', 'l', 'BY', 'w_*', 'LIMIT', start, count, 'STORE', 'dst'],
        ['LRANGE', 'dst', '0', '-1'],
      ]);
    }
  });

  it('SORT and SORT_RO convert a listpack sorted set to a skiplist, as Redis does (found by the fuzzer)', async () => {
    await pair.script([
      ['ZADD', 'z1', '1', 'a', '2', 'b'],
      ['ZADD', 'z2', '1', 'a', '2', 'b'],
      ['ZADD', 'z3', '1', 'a', '2', 'b'],
      ['OBJECT', 'ENCODING', 'z1'],
      ['SORT_RO', 'z1', 'BY', 'nosort', 'LIMIT', '0', '1'],
      ['OBJECT', 'ENCODING', 'z1'],
      ['SORT', 'z2', 'ALPHA', 'STORE', 'dst'],
      ['OBJECT', 'ENCODING', 'z2'],
      // Refused before the conversion: a syntax error.
      ['SORT', 'z3', 'NOSUCH'],
      ['OBJECT', 'ENCODING', 'z3'],
      ['ZRANGE', 'z1', '0', '-1', 'WITHSCORES'],
    ]);
  });

  it('SORT and SORT_RO', async () => {
    await pair.script([
      ['RPUSH', 'l', '3', '1', '2', '10'],
      ['SORT', 'l'],
      ['SORT', 'l', 'DESC'],
      ['SORT', 'l', 'ALPHA'],
      ['SORT', 'l', 'LIMIT', '1', '2'],
      ['SORT', 'l', 'LIMIT', '-1', '2'],
      ['SORT', 'l', 'LIMIT', '10', '2'],
      ['MSET', 'w_3', '1', 'w_1', '3', 'w_2', '2', 'w_10', '0', 'o_1', 'one', 'o_2', 'two'],
      ['SORT', 'l', 'BY', 'w_*'],
      ['SORT', 'l', 'BY', 'w_*', 'GET', 'o_*', 'GET', '#'],
      ['SORT', 'l', 'BY', 'nosort'],
      ['SORT', 'l', 'BY', 'nosort', 'DESC', 'LIMIT', '0', '2'],
      ['HSET', 'h_1', 'f', '5'],
      ['HSET', 'h_2', 'f', '1'],
      ['SORT', 'l', 'BY', 'h_*->f', 'GET', 'h_*->f'],
      ['SORT', 'l', 'STORE', 'dst'],
      ['LRANGE', 'dst', '0', '-1'],
      ['SORT', 'l', 'GET', 'nokey_*', 'STORE', 'dst2'],
      ['LRANGE', 'dst2', '0', '-1'],
      ['SORT', 'nokey', 'STORE', 'dst'],
      ['EXISTS', 'dst'],
      ['SADD', 's', 'b', 'a', 'c'],
      ['SORT', 's', 'ALPHA'],
      ['SORT', 's'],
      ['SORT', 's', 'BY', 'nosort', 'STORE', 'sd'],
      ['LRANGE', 'sd', '0', '-1'],
      ['ZADD', 'z', '1', '30', '2', '10', '3', '20'],
      ['SORT', 'z'],
      ['SORT', 'z', 'BY', 'nosort'],
      ['SORT', 'z', 'BY', 'nosort', 'DESC'],
      ['SORT', 'z', 'BY', 'nosort', 'LIMIT', '1', '1'],
      ['SET', 'str', 'x'],
      ['SORT', 'str'],
      ['SORT', 'l', 'FOO'],
      ['SORT', 'l', 'LIMIT', 'x', '1'],
      ['SORT_RO', 'l', 'DESC'],
      ['SORT_RO', 'l', 'STORE', 'x'],
      ['RPUSH', 'bad', 'a', '1'],
      ['SORT', 'bad'],
      ['SORT', 'bad', 'ALPHA', 'DESC'],
      // strtod reads a C string: a score ends at a NUL byte.
      ['RPUSH', 'nul', '12\x00abc', '3', '\x00zz'],
      ['SORT', 'nul'],
      ['MSET', 'wn_3', '7\x00x', 'wn_1', '\x00', 'wn_2', '2'],
      ['SORT', 'l', 'BY', 'wn_*'],
    ]);
  });

  it('empty collections disappear and WRONGTYPE is reported everywhere', async () => {
    await pair.script([
      ['SET', 'str', 'x'],
      ['LPUSH', 'str', 'a'],
      ['RPOP', 'str'],
      ['LINDEX', 'str', '0'],
      ['HSET', 'str', 'a', 'b'],
      ['HINCRBY', 'str', 'a', '1'],
      ['SADD', 'str', 'a'],
      ['SCARD', 'str'],
      ['ZADD', 'str', '1', 'a'],
      ['ZINCRBY', 'str', '1', 'a'],
      ['HSET', 'h', 'a', '1'],
      ['GET', 'h'],
      ['APPEND', 'h', 'x'],
      ['INCR', 'h'],
      ['LPUSH', 'h', 'x'],
      ['TYPE', 'h'],
      ['HDEL', 'h', 'a'],
      ['TYPE', 'h'],
      ['RPUSH', 'l', 'x'],
      ['LPOP', 'l'],
      ['TYPE', 'l'],
      ['SADD', 's', 'x'],
      ['SPOP', 's'],
      ['TYPE', 's'],
      ['ZADD', 'z', '1', 'x'],
      ['ZPOPMIN', 'z'],
      ['TYPE', 'z'],
    ]);
  });

  it('COPY and RENAME carry collections', async () => {
    await pair.script([
      ['RPUSH', 'l', 'a', 'b'],
      ['HSET', 'h', 'f', 'v'],
      ['SADD', 's', '1', 'x'],
      ['ZADD', 'z', '1', 'a'],
      ['COPY', 'l', 'l2'],
      ['COPY', 'h', 'h2'],
      ['COPY', 's', 's2'],
      ['COPY', 'z', 'z2'],
      ['RPUSH', 'l2', 'c'],
      ['LRANGE', 'l', '0', '-1'],
      ['LRANGE', 'l2', '0', '-1'],
      ['HSET', 'h2', 'g', 'w'],
      ['HLEN', 'h'],
      ['SADD', 's2', 'y'],
      ['SCARD', 's'],
      ['ZADD', 'z2', '2', 'b'],
      ['ZCARD', 'z'],
      ['RENAME', 'z2', 'z3'],
      ['ZRANGE', 'z3', '0', '-1'],
    ]);
  });
});
