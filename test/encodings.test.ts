// Redis 7.2's encoding rules, which the 7.0 reference cannot show: small
// lists are `listpack`, sets of strings get a `listpack` encoding, new
// sets and sorted sets are sized from the number of arguments, and
// ZRANK/ZREVRANK take WITHSCORE.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startVireo, type VireoHandle } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';

describe('Redis 7.2 encodings', () => {
  let v: VireoHandle;
  let c: RespClient;
  const enc = async (k: string) => toJs(await c.call('OBJECT', 'ENCODING', k));
  beforeAll(async () => {
    v = await startVireo();
    c = await RespClient.connect(v.port);
  });
  afterAll(async () => {
    c.close();
    await v.stop();
  });
  beforeEach(async () => {
    await c.call('FLUSHALL');
    await c.call('CONFIG', 'SET', 'list-max-listpack-size', '-2');
  });

  it('lists: listpack while one small node, quicklist beyond, back to listpack when shrunk to half', async () => {
    await c.call('RPUSH', 'l', 'a', 'b', 'c');
    expect(await enc('l')).toBe('listpack');
    await c.call('CONFIG', 'SET', 'list-max-listpack-size', '4');
    await c.call('RPUSH', 'm', 'a', 'b', 'c', 'd', 'e');
    expect(await enc('m')).toBe('quicklist');
    await c.call('LPOP', 'm', '3');
    expect(await enc('m')).toBe('quicklist'); // two nodes remain: [d] [e]
    await c.call('LPOP', 'm');
    expect(await enc('m')).toBe('listpack');
    await c.call('CONFIG', 'SET', 'list-max-listpack-size', '-2');
    const many = Array.from({ length: 2000 }, (_, i) => `item-${i}`);
    await c.call('RPUSH', 'big', ...many);
    expect(await enc('big')).toBe('quicklist');
    expect(toJs(await c.call('LINDEX', 'big', '1500'))).toBe('item-1500');
    await c.call('LTRIM', 'big', '0', '9');
    expect(await enc('big')).toBe('listpack');
    await c.call('RPUSH', 'huge', 'x'.repeat(9000));
    expect(await enc('huge')).toBe('quicklist');
    expect(toJs(await c.call('LRANGE', 'l', '0', '-1'))).toEqual(['a', 'b', 'c']);
  });

  it('sets: intset, listpack, hashtable, chosen with the argument count as a hint', async () => {
    await c.call('SADD', 's', '1', '2', '3');
    expect(await enc('s')).toBe('intset');
    expect(toJs(await c.call('SMEMBERS', 's'))).toEqual(['1', '2', '3']);
    await c.call('SADD', 's', 'a');
    expect(await enc('s')).toBe('listpack');
    expect(toJs(await c.call('SMEMBERS', 's'))).toEqual(['1', '2', '3', 'a']);
    await c.call('SADD', 'p', 'x', 'y');
    expect(await enc('p')).toBe('listpack');
    await c.call('SADD', 'p', ...Array.from({ length: 127 }, (_, i) => `m${i}`));
    expect(await enc('p')).toBe('hashtable');
    await c.call('SADD', 'q', ...Array.from({ length: 200 }, () => 'same'));
    expect(await enc('q')).toBe('hashtable'); // 200 arguments > set-max-listpack-entries
    expect(toJs(await c.call('SCARD', 'q'))).toBe('1');
    await c.call('SADD', 'q2', ...Array.from({ length: 200 }, () => '7'));
    expect(await enc('q2')).toBe('intset');
    await c.call('SADD', 'r', 'x'.repeat(65));
    expect(await enc('r')).toBe('hashtable');
    await c.call('SADD', 'ints', ...Array.from({ length: 600 }, (_, i) => String(i)));
    expect(await enc('ints')).toBe('hashtable');
    await c.call('SADD', 'i2', ...Array.from({ length: 512 }, (_, i) => String(i)));
    expect(await enc('i2')).toBe('intset');
    await c.call('SADD', 'i2', '9999');
    expect(await enc('i2')).toBe('hashtable');
  });

  it('sorted sets: sized from the pair count and the first member', async () => {
    await c.call('ZADD', 'z', '1', 'a');
    expect(await enc('z')).toBe('listpack');
    const pairs = Array.from({ length: 129 }, (_, i) => [String(i), `m${i}`]).flat();
    await c.call('ZADD', 'big', ...pairs);
    expect(await enc('big')).toBe('skiplist');
    await c.call('ZADD', 'long', '1', 'x'.repeat(65), '2', 'y');
    expect(await enc('long')).toBe('skiplist');
    await c.call('ZADD', 'z', ...pairs);
    expect(await enc('z')).toBe('skiplist');
  });

  it('hashes: hashtable past 512 fields', async () => {
    await c.call('HSET', 'h', ...Array.from({ length: 512 }, (_, i) => [`f${i}`, 'v']).flat());
    expect(await enc('h')).toBe('listpack');
    await c.call('HSET', 'h', 'one-more', 'v');
    expect(await enc('h')).toBe('hashtable');
  });

  it('ZRANK and ZREVRANK WITHSCORE', async () => {
    await c.call('ZADD', 'z', '1', 'a', '2.5', 'b');
    expect(toJs(await c.call('ZRANK', 'z', 'b', 'WITHSCORE'))).toEqual(['1', '2.5']);
    expect(toJs(await c.call('ZREVRANK', 'z', 'b', 'WITHSCORE'))).toEqual(['0', '2.5']);
    expect(toJs(await c.call('ZRANK', 'z', 'nope', 'WITHSCORE'))).toBe(null);
    expect((await c.call('ZRANK', 'z', 'nope', 'WITHSCORE')).type).toBe('array');
    expect(toJs(await c.call('ZRANK', 'z', 'a', 'WITHSCORES'))).toEqual(new Error('ERR syntax error'));
  });

  it('big collections keep every element and scan completely', async () => {
    const n = 30000;
    for (let i = 0; i < n; i += 1000) {
      const batch = Array.from({ length: 1000 }, (_, j) => i + j);
      await c.call('SADD', 'bigset', ...batch.map((x) => `m${x}`));
      await c.call('ZADD', 'bigz', ...batch.flatMap((x) => [String(x % 997), `m${x}`]));
      await c.call('HSET', 'bigh', ...batch.flatMap((x) => [`f${x}`, String(x)]));
    }
    expect(toJs(await c.call('SCARD', 'bigset'))).toBe(String(n));
    expect(toJs(await c.call('ZCARD', 'bigz'))).toBe(String(n));
    expect(toJs(await c.call('HLEN', 'bigh'))).toBe(String(n));
    // Ranks agree with a sort done here.
    const expected = Array.from({ length: n }, (_, x) => [x % 997, `m${x}`] as [number, string]).sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : 1));
    for (const r of [0, 1, 999, 15000, n - 1]) {
      expect(toJs(await c.call('ZRANGE', 'bigz', String(r), String(r)))).toEqual([expected[r]![1]]);
      expect(toJs(await c.call('ZRANK', 'bigz', expected[r]![1]))).toBe(String(r));
    }
    for (const [cmd, key] of [['SSCAN', 'bigset'], ['HSCAN', 'bigh'], ['ZSCAN', 'bigz']] as const) {
      const seen = new Set<string>();
      let cursor = '0';
      let calls = 0;
      do {
        const [next, items] = toJs(await c.call(cmd, key, cursor, 'COUNT', '100')) as [string, string[]];
        const step = cmd === 'SSCAN' ? 1 : 2;
        for (let i = 0; i < items.length; i += step) seen.add(items[i]!);
        cursor = next;
        calls++;
      } while (cursor !== '0');
      expect(seen.size, cmd).toBe(n);
      expect(calls, cmd).toBeGreaterThan(5);
    }
    await c.call('ZREMRANGEBYRANK', 'bigz', '100', '-100');
    expect(toJs(await c.call('ZCARD', 'bigz'))).toBe('199');
    expect(toJs(await c.call('ZRANGE', 'bigz', '99', '100'))).toEqual([expected[99]![1], expected[n - 99]![1]]);
  });
});
