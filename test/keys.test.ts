// Generic keyspace commands against redis-server: DEL/EXISTS/TYPE/KEYS
// (glob semantics), RENAME/COPY/MOVE, SELECT/SWAPDB/FLUSH*, expiry family.
import { afterAll, beforeAll, beforeEach, describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import { toJs } from './helpers/resp.js';

describe.skipIf(!HAVE_REDIS)('keys (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });
  beforeEach(async () => {
    await pair.check('FLUSHALL');
    await pair.check('SELECT', '0');
  });

  it('DEL UNLINK EXISTS TYPE TOUCH', async () => {
    await pair.script([
      ['MSET', 'a', '1', 'b', '2', 'c', '3'],
      ['EXISTS', 'a', 'a', 'b', 'zz'],
      ['DEL', 'a', 'zz', 'a'],
      ['UNLINK', 'b', 'c', 'd'],
      ['EXISTS', 'a', 'b', 'c'],
      ['TYPE', 'a'],
      ['SET', 'a', 'x'],
      ['TYPE', 'a'],
      ['TOUCH', 'a', 'b', 'a'],
      ['DEL'],
      ['DBSIZE'],
    ]);
  });

  it('KEYS with glob patterns', async () => {
    const keys = ['hello', 'hallo', 'hxllo', 'hllo', 'heeeello', 'h*llo', 'h?llo', 'h[a]llo', 'h\\llo', 'a-b', 'x]y', 'A', 'é', 'k\x00z'];
    for (const k of keys) await pair.check('SET', k, '1');
    const patterns = ['*', 'h?llo', 'h*llo', 'h[ae]llo', 'h[^e]llo', 'h[a-b]llo', 'h\\*llo', 'h\\?llo', 'h[\\]]llo', '*[', '[', '[]', '[^]', 'h[a-', '\\', '*\\', 'x]y', '[z-a]', '[A-Z]', 'k*z', '*l*l*o', '**', '?', 'h[\\a]llo', '[a-\\]', '\\\\*'];
    for (const p of patterns) {
      const [a, b] = await Promise.all([pair.redis.call('KEYS', p), pair.vireo.call('KEYS', p)]);
      const sort = (r: unknown) => (Array.isArray(r) ? [...(r as string[])].sort() : r);
      expect(sort(toJs(b)), `KEYS ${p}`).toEqual(sort(toJs(a)));
    }
  });

  it('KEYS agrees with Redis on random patterns (fast-check)', async () => {
    const alphabet = fc.constantFrom('a', 'b', '*', '?', '[', ']', '^', '-', '\\', 'c');
    const keys = ['a', 'b', 'ab', 'ba', 'abc', 'a*b', 'a?c', '[a]', 'a\\b', 'a-c', 'b]', '^a', 'cab', ''];
    for (const k of keys) if (k !== '') await pair.check('SET', k, '1');
    await fc.assert(
      fc.asyncProperty(fc.array(alphabet, { maxLength: 8 }).map((a) => a.join('')), async (pattern) => {
        const [a, b] = await Promise.all([pair.redis.call('KEYS', pattern), pair.vireo.call('KEYS', pattern)]);
        const sort = (r: unknown) => (Array.isArray(r) ? [...(r as string[])].sort() : r);
        expect(sort(toJs(b))).toEqual(sort(toJs(a)));
      }),
      { numRuns: 300 },
    );
  });

  it('RENAME RENAMENX', async () => {
    await pair.script([
      ['SET', 'a', '1'],
      ['EXPIRE', 'a', '100'],
      ['RENAME', 'a', 'b'],
      ['TTL', 'b'],
      ['EXISTS', 'a'],
      ['RENAME', 'nokey', 'x'],
      ['RENAME', 'b', 'b'],
      ['RENAMENX', 'b', 'b'],
      ['SET', 'c', '2'],
      ['RENAMENX', 'b', 'c'],
      ['RENAMENX', 'b', 'd'],
      ['RENAME', 'd', 'c'],
      ['GET', 'c'],
      ['TTL', 'c'],
      ['RENAMENX', 'nokey', 'x'],
    ]);
  });

  it('COPY and MOVE across databases', async () => {
    await pair.script([
      ['SET', 'a', 'v'],
      ['PEXPIRE', 'a', '100000'],
      ['COPY', 'a', 'b'],
      ['PTTL', 'b'],
      ['COPY', 'a', 'b'],
      ['COPY', 'a', 'b', 'REPLACE'],
      ['COPY', 'a', 'a'],
      ['COPY', 'a', 'a', 'DB', '1'],
      ['COPY', 'a', 'x', 'DB', '16'],
      ['COPY', 'a', 'x', 'DB', 'abc'],
      ['COPY', 'a', 'x', 'DB'],
      ['COPY', 'a', 'x', 'FOO'],
      ['COPY', 'nokey', 'x'],
      ['MOVE', 'a', '1'],
      ['MOVE', 'a', '1'],
      ['MOVE', 'b', '0'],
      ['MOVE', 'b', '16'],
      ['MOVE', 'b', '-1'],
      ['MOVE', 'b', 'x'],
      ['SELECT', '1'],
      ['GET', 'a'],
      ['PTTL', 'a'],
      ['SET', 'b', 'other'],
      ['SELECT', '0'],
      ['MOVE', 'b', '1'],
      ['SELECT', '16'],
      ['SELECT', '-1'],
      ['SELECT', 'x'],
      ['SELECT', '99999999999'],
    ]);
  });

  it('SWAPDB FLUSHDB FLUSHALL DBSIZE', async () => {
    await pair.script([
      ['SET', 'a', '0'],
      ['SELECT', '1'],
      ['SET', 'b', '1'],
      ['SET', 'c', '1'],
      ['SWAPDB', '0', '1'],
      ['DBSIZE'],
      ['SELECT', '0'],
      ['DBSIZE'],
      ['GET', 'b'],
      ['SWAPDB', '0', '16'],
      ['SWAPDB', 'x', '1'],
      ['SWAPDB', '1', 'x'],
      ['SWAPDB', '0', '0'],
      ['FLUSHDB', 'ASYNC'],
      ['DBSIZE'],
      ['FLUSHDB', 'FOO'],
      ['FLUSHDB', 'SYNC', 'SYNC'],
      ['FLUSHALL', 'SYNC'],
      ['SELECT', '1'],
      ['DBSIZE'],
    ]);
  });

  // Redis' keyspace.tcl MOVE / multi-db tests, run on db 9 and 10 as there.
  it('MOVE as keyspace.tcl checks it (basic, existing target, non-integer db, TTL kept, no TTL created)', async () => {
    await pair.script([
      ['SELECT', '9'],
      ['SET', 'mykey', 'foobar'],
      ['MOVE', 'mykey', '10'],
      ['EXISTS', 'mykey'],
      ['DBSIZE'],
      ['SELECT', '10'],
      ['GET', 'mykey'],
      ['DBSIZE'],
      ['SELECT', '9'],
      ['SET', 'mykey', 'hello'],
      ['MOVE', 'mykey', '10'],
      ['GET', 'mykey'],
      ['MOVE', 'mykey', 'notanumber'],
      ['SELECT', '10'],
      ['FLUSHDB'],
      ['SELECT', '9'],
      ['SET', 'mykey', 'foo', 'EX', '100'],
      ['MOVE', 'mykey', '10'],
      ['TTL', 'mykey'],
      ['SELECT', '10'],
      ['TTL', 'mykey'],
      ['GET', 'mykey'],
      ['FLUSHDB'],
      ['SELECT', '9'],
      ['SET', 'mykey', 'foo'],
      ['MOVE', 'mykey', '10'],
      ['TTL', 'mykey'],
      ['SELECT', '10'],
      ['TTL', 'mykey'],
      ['GET', 'mykey'],
    ]);
  });

  it('SET/GET keys in different DBs', async () => {
    await pair.script([
      ['SELECT', '9'],
      ['SET', 'a', 'hello'],
      ['SET', 'b', 'world'],
      ['SELECT', '10'],
      ['SET', 'a', 'foo'],
      ['SET', 'b', 'bared'],
      ['SELECT', '9'],
      ['MGET', 'a', 'b'],
      ['SELECT', '10'],
      ['MGET', 'a', 'b'],
    ]);
  });

  it('MOVE edge cases: range, same db, stale keys, types, inside MULTI', async () => {
    await pair.script([
      ['SET', 'k', 'v'],
      ['MOVE', 'k', '0'],
      ['MOVE', 'k', '16'],
      ['MOVE', 'k', '-1'],
      ['MOVE', 'k', '2147483648'],
      ['MOVE', 'k', '99999999999999999999'],
      ['MOVE', 'k', ' 1'],
      ['MOVE', 'k', '1.0'],
      ['MOVE', 'k', ''],
      ['MOVE', 'nokey', '1'],
      ['MOVE', 'nokey', '0'],
      ['MOVE', 'k'],
      ['MOVE', 'k', '1', 'extra'],
      ['RPUSH', 'l', 'a', 'b'],
      ['HSET', 'h', 'f', 'v'],
      ['ZADD', 'z', '1', 'm'],
      ['SADD', 's', 'm'],
      ['MOVE', 'l', '3'],
      ['MOVE', 'h', '3'],
      ['MOVE', 'z', '3'],
      ['MOVE', 's', '3'],
      ['SELECT', '3'],
      ['LRANGE', 'l', '0', '-1'],
      ['HGETALL', 'h'],
      ['ZRANGE', 'z', '0', '-1', 'WITHSCORES'],
      ['SMEMBERS', 's'],
      ['DBSIZE'],
      ['SELECT', '0'],
      ['DBSIZE'],
      ['MULTI'],
      ['SET', 'm', '1'],
      ['MOVE', 'm', '4'],
      ['MOVE', 'm', '4'],
      ['MOVE', 'm', 'x'],
      ['EXEC'],
      ['SELECT', '4'],
      ['GET', 'm'],
      ['SELECT', '0'],
    ]);
    // A stale key in the target does not block the move; a stale source is missing.
    await pair.check('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    try {
      await pair.script([['SELECT', '5'], ['SET', 'sk', 'old', 'PX', '1'], ['SELECT', '0'], ['SET', 'sk', 'new'], ['SET', 'gone', 'x', 'PX', '1']]);
      await new Promise((r) => setTimeout(r, 5));
      await pair.script([['MOVE', 'sk', '5'], ['MOVE', 'gone', '5'], ['DBSIZE'], ['SELECT', '5'], ['GET', 'sk'], ['TTL', 'sk'], ['DBSIZE'], ['SELECT', '0']]);
    } finally {
      await pair.check('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    }
  });

  it('MOVE of a WATCHed key fails EXEC in the source and target db', async () => {
    const other = await pair.connect();
    try {
      await pair.script([['SET', 'w', '1'], ['WATCH', 'w']]);
      await other.check('MOVE', 'w', '1');
      await pair.script([['MULTI'], ['PING'], ['EXEC']]);
      await pair.script([['SELECT', '1'], ['WATCH', 'w']]);
      await other.script([['SELECT', '1'], ['MOVE', 'w', '0'], ['SELECT', '0'], ['MOVE', 'w', '1']]);
      await pair.script([['MULTI'], ['PING'], ['EXEC'], ['SELECT', '0']]);
    } finally {
      other.close();
    }
  });

  it('SWAPDB argument errors: each index is parsed before either is range-checked', async () => {
    await pair.script([
      ['SWAPDB', '16', 'x'],
      ['SWAPDB', '-1', 'x'],
      ['SWAPDB', 'x', '16'],
      ['SWAPDB', 'x', 'y'],
      ['SWAPDB', '0', '16'],
      ['SWAPDB', '16', '0'],
      ['SWAPDB', '0', '-1'],
      ['SWAPDB', '0', '2147483648'],
      ['SWAPDB', '0', '1.5'],
      ['SWAPDB', '0', ''],
      ['SWAPDB', '0'],
      ['SWAPDB', '0', '1', '2'],
      ['SWAPDB', '15', '0'],
    ]);
  });

  it('EXPIRE family with NX XX GT LT, TTL, PERSIST', async () => {
    await pair.script([
      ['SET', 'k', 'v'],
      ['EXPIRE', 'k', '100', 'XX'],
      ['EXPIRE', 'k', '100', 'NX'],
      ['EXPIRE', 'k', '200', 'NX'],
      ['EXPIRE', 'k', '50', 'GT'],
      ['EXPIRE', 'k', '500', 'GT'],
      ['EXPIRE', 'k', '600', 'LT'],
      ['EXPIRE', 'k', '10', 'LT'],
      ['TTL', 'k'],
      ['EXPIRE', 'k', '10', 'NX', 'XX'],
      ['EXPIRE', 'k', '10', 'GT', 'LT'],
      ['EXPIRE', 'k', '10', 'FOO'],
      ['EXPIRE', 'k', 'abc'],
      ['EXPIRE', 'k', '9223372036854775807'],
      ['PEXPIRE', 'k', '9223372036854775807'],
      ['EXPIREAT', 'k', '9223372036854775807'],
      ['PEXPIREAT', 'k', '9223372036854775807'],
      ['TTL', 'k'],
      ['PERSIST', 'k'],
      ['PERSIST', 'k'],
      ['TTL', 'k'],
      ['PTTL', 'k'],
      ['EXPIRETIME', 'k'],
      ['PEXPIRETIME', 'k'],
      ['EXPIREAT', 'k', '4000000000'],
      ['EXPIRETIME', 'k'],
      ['PEXPIRETIME', 'k'],
      ['PEXPIREAT', 'k', '4000000000123'],
      ['PEXPIRETIME', 'k'],
      ['EXPIRETIME', 'k'],
      ['TTL', 'nokey'],
      ['PTTL', 'nokey'],
      ['EXPIRETIME', 'nokey'],
      ['EXPIRE', 'nokey', '10'],
      ['PERSIST', 'nokey'],
      ['SET', 'gone', 'v'],
      ['EXPIRE', 'gone', '-1'],
      ['EXISTS', 'gone'],
      ['SET', 'gone', 'v'],
      ['PEXPIREAT', 'gone', '1'],
      ['EXISTS', 'gone'],
      ['SET', 'lt', 'v'],
      ['EXPIRE', 'lt', '100', 'LT'],
      ['TTL', 'lt'],
    ]);
  });

  it('expire times up to INT64_MAX ms: replies, SAVE, DEBUG RELOAD, an AOF rewrite and a restore keep them', async () => {
    // Vireo holds expire times as doubles: INT64_MAX must still be written
    // and replied as INT64_MAX (it once broke every later SAVE, and replies
    // went out as integers past int64 that clients refuse).
    const far = '9223372036854775807';
    await pair.script([
      ['SET', 'far', 'v', 'PXAT', far],
      ['PEXPIRETIME', 'far'],
      ['EXPIRETIME', 'far'],
      ['SET', 'far2', 'v'],
      ['PEXPIREAT', 'far2', far],
      ['PEXPIRETIME', 'far2'],
      ['GETEX', 'far2', 'PXAT', far],
      ['PEXPIRETIME', 'far2'],
      ['SAVE'],
      ['DEBUG', 'RELOAD'],
      ['PEXPIRETIME', 'far'],
      ['PEXPIRETIME', 'far2'],
      ['CONFIG', 'SET', 'appendonly', 'yes'],
    ]);
    for (const c of [pair.redis, pair.vireo]) {
      // TTL and PTTL count from each server's own clock: a well-formed int64 near INT64_MAX.
      for (const cmd of ['PTTL', 'TTL']) {
        const r = await c.call(cmd, 'far');
        expect(r.type).toBe('integer');
        expect(String(toJs(r))).toMatch(/^9223\d{12}(\d{3})?$/);
      }
    }
    // The AOF rewrite (CONFIG SET appendonly yes starts one), then a restart from that AOF.
    for (const c of [pair.redis, pair.vireo]) {
      for (let i = 0; i < 200 && String(toJs(await c.call('INFO', 'persistence'))).includes('aof_rewrite_in_progress:1'); i++) await new Promise((r) => setTimeout(r, 25));
    }
    await pair.script([['DEBUG', 'LOADAOF'], ['PEXPIRETIME', 'far'], ['PEXPIRETIME', 'far2'], ['CONFIG', 'SET', 'appendonly', 'no']]);
    // RESTORE ... ABSTTL carries it too (each server restoring its own DUMP).
    const restored: unknown[] = [];
    for (const c of [pair.redis, pair.vireo]) {
      const dump = await c.call('DUMP', 'far');
      if (dump.type !== 'bulk' || dump.value === null) throw new Error('DUMP gave no payload');
      expect(toJs(await c.call('RESTORE', 'far3', far, dump.value, 'ABSTTL'))).toBe('OK');
      restored.push(toJs(await c.call('PEXPIRETIME', 'far3')));
    }
    expect(restored).toEqual([far, far]);
  });

  it('keys expire lazily and actively', async () => {
    await pair.script([
      ['SET', 'a', 'v', 'PX', '50'],
      ['SET', 'b', 'v', 'PX', '50'],
      ['SET', 'c', 'v'],
    ]);
    await new Promise((r) => setTimeout(r, 120));
    await pair.script([
      ['GET', 'a'],
      ['EXISTS', 'a'],
      ['TTL', 'b'],
    ]);
    // Active expiry removes keys nobody reads.
    for (let i = 0; i < 100; i++) await pair.check('SET', `k${i}`, 'v', 'PX', '30');
    await new Promise((r) => setTimeout(r, 1500));
    await pair.check('DBSIZE');
  });

  it('SCAN returns every key present for the whole scan, with MATCH COUNT TYPE', async () => {
    for (let i = 0; i < 500; i++) await pair.vireo.call('SET', `key:${i}`, String(i));
    const seen = new Set<string>();
    let cursor = '0';
    let round = 0;
    do {
      const r = toJs(await pair.vireo.call('SCAN', cursor, 'COUNT', '20')) as [string, string[]];
      cursor = r[0];
      for (const k of r[1]) seen.add(k);
      // Churn during the scan: add new keys and delete keys not in the stable set.
      await pair.vireo.call('SET', `tmp:${round}`, 'x');
      if (round > 2) await pair.vireo.call('DEL', `tmp:${round - 2}`);
      round++;
    } while (cursor !== '0');
    for (let i = 0; i < 500; i++) expect(seen.has(`key:${i}`)).toBe(true);
    const m = toJs(await pair.vireo.call('SCAN', '0', 'MATCH', 'key:1?', 'COUNT', '100000')) as [string, string[]];
    expect(m[0]).toBe('0');
    expect([...m[1]].sort()).toEqual(Array.from({ length: 10 }, (_, i) => `key:1${i}`).sort());
    await pair.script([
      ['SCAN', 'abc'],
      ['SCAN', '0', 'COUNT', '0'],
      ['SCAN', '0', 'COUNT', 'x'],
      ['SCAN', '0', 'FOO', 'x'],
      ['SCAN', '18446744073709551616'],
      ['SCAN', '-1'],
    ]);
    const t = toJs(await pair.vireo.call('SCAN', '0', 'TYPE', 'string', 'COUNT', '100000')) as [string, string[]];
    expect(t[1].length).toBeGreaterThanOrEqual(500);
    const h = toJs(await pair.vireo.call('SCAN', '0', 'TYPE', 'hash', 'COUNT', '100000')) as [string, string[]];
    expect(h[1]).toEqual([]);
  });

  it('RANDOMKEY', async () => {
    await pair.check('RANDOMKEY');
    await pair.check('SET', 'only', '1');
    await pair.check('RANDOMKEY');
  });

  it('OBJECT IDLETIME / FREQ and DEBUG OBJECT follow key accesses as in Redis', async () => {
    /** The same integer reply from both servers, give or take a second boundary. */
    const both = async (...args: string[]): Promise<number> => {
      const [a, b] = await Promise.all([pair.redis.call(...args), pair.vireo.call(...args)]);
      expect(b.type).toBe(a.type);
      const [x, y] = [Number(toJs(a)), Number(toJs(b))];
      expect(Math.abs(x - y), `${args.join(' ')}: redis ${x}, vireo ${y}`).toBeLessThanOrEqual(1);
      return y;
    };
    const idleField = (r: unknown) => Number(/lru_seconds_idle:(\d+)/.exec(String(r))![1]);
    await pair.script([
      ['SET', 'k', 'hello'],
      ['SET', 'j', 'world'],
      ['RPUSH', 'l', 'a', 'b'],
      ['OBJECT', 'REFCOUNT', 'k'],
      ['SET', 'n', '42'],
      ['OBJECT', 'REFCOUNT', 'n'],
    ]);
    // "Just touched" reads 0, or 1 when a second boundary falls in between (Redis too).
    expect(await both('OBJECT', 'IDLETIME', 'k')).toBeLessThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 2100));
    // Reads touch; EXISTS, TYPE, TTL and OBJECT itself do not.
    await pair.script([['GET', 'j'], ['LRANGE', 'l', '0', '-1'], ['EXISTS', 'k'], ['TYPE', 'k'], ['TTL', 'k'], ['OBJECT', 'ENCODING', 'k']]);
    expect(await both('OBJECT', 'IDLETIME', 'k')).toBeGreaterThanOrEqual(2);
    expect(await both('OBJECT', 'IDLETIME', 'j')).toBeLessThanOrEqual(1);
    expect(await both('OBJECT', 'IDLETIME', 'l')).toBeLessThanOrEqual(1);
    const [dr, dv] = await Promise.all([pair.redis.call('DEBUG', 'OBJECT', 'k'), pair.vireo.call('DEBUG', 'OBJECT', 'k')]);
    expect(Math.abs(idleField(toJs(dr)) - idleField(toJs(dv)))).toBeLessThanOrEqual(1);
    // CLIENT NO-TOUCH (Redis 7.2; the 7.0 reference lacks it): reads leave the clock alone, TOUCH still touches.
    const v = pair.vireo;
    expect(toJs(await v.call('CLIENT', 'NO-TOUCH', 'ON'))).toBe('OK');
    await v.call('GET', 'k');
    expect(Number(toJs(await v.call('OBJECT', 'IDLETIME', 'k')))).toBeGreaterThanOrEqual(2);
    await v.call('TOUCH', 'k');
    expect(Number(toJs(await v.call('OBJECT', 'IDLETIME', 'k')))).toBeLessThanOrEqual(1);
    await v.call('CLIENT', 'NO-TOUCH', 'OFF');
    await pair.check('TOUCH', 'k');
    expect(await both('OBJECT', 'IDLETIME', 'k')).toBeLessThanOrEqual(1);
    // Writes touch too; RESTORE IDLETIME sets it.
    const payload = toJs(await pair.vireo.call('DUMP', 'k')) as string;
    await pair.script([['OBJECT', 'FREQ', 'k'], ['RESTORE', 'r', '0', payload, 'IDLETIME', '1000']]);
    expect(await both('OBJECT', 'IDLETIME', 'r')).toBeGreaterThanOrEqual(1000);
    expect(await both('OBJECT', 'IDLETIME', 'r')).toBeLessThanOrEqual(1001);
    // Under an LFU policy: a new key starts at 5, the first access always counts, FREQ on RESTORE.
    await pair.script([
      ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'],
      ['SET', 'f', 'v'],
      ['OBJECT', 'FREQ', 'f'],
      ['GET', 'f'],
      ['OBJECT', 'FREQ', 'f'],
      ['OBJECT', 'IDLETIME', 'f'],
      ['RESTORE', 'g', '0', payload, 'FREQ', '100'],
      ['OBJECT', 'FREQ', 'g'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
    ]);
  });
});
