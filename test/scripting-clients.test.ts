/**
 * Lua scripting as client libraries and applications use it, against Vireo
 * and against redis-server (one describe block per server, the same
 * scenarios, test/helpers/targets.ts), then both side by side: every
 * scenario records what the client saw (a transcript) and the two
 * servers' transcripts must be equal.
 *
 *   - ioredis defineCommand: EVAL on a connection's first call, EVALSHA
 *     after, EVAL again when the server answers NOSCRIPT (after SCRIPT
 *     FLUSH); in pipelines, MULTI, with a keyPrefix; commandstats count it;
 *   - node-redis scripts (defineScript: EVALSHA, EVAL on NOSCRIPT), in
 *     MULTI, and what scripts return under RESP2 and RESP3;
 *   - node-redis functions: FUNCTION LOAD [REPLACE] of a library, FCALL and
 *     FCALL_RO through fCall and through the `functions` option, FUNCTION
 *     LIST, STATS, DUMP/RESTORE, DELETE;
 *   - a token-bucket rate limiter script (client clock and server TIME);
 *   - a Redlock-style lock: SET NX PX, compare-and-delete release and
 *     compare-and-pexpire extend scripts, under contention;
 *   - script errors as clients see them.
 *
 * VIREO_E2E_SERVERS=redis|vireo runs one server alone (the side-by-side
 * block then skips).
 */

import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis, type Result } from 'ioredis';
import { createClient, defineScript, RESP_TYPES, type CommandParser } from 'redis';
import { TARGETS, stopChecked, type Target } from './helpers/targets.js';
import type { ProcessHandle } from './helpers/servers.js';
import { useCleanups } from './helpers/cleanups.js';

const { defer } = useCleanups();

/** What a scenario's clients saw, step by step: equal on both servers. */
type Transcript = [step: string, seen: unknown][];

interface Scenario {
  name: string;
  run(port: number): Promise<Transcript>;
}

const sha1 = (s: string) => createHash('sha1').update(s).digest('hex');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The value a promise resolves to, or its error's text. */
async function outcome(p: Promise<unknown>): Promise<unknown> {
  try {
    return await p;
  } catch (e) {
    return { error: (e as Error).message };
  }
}

async function ioredis(port: number, opts: { keyPrefix?: string } = {}): Promise<Redis> {
  const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 0, ...opts });
  r.on('error', () => {});
  defer(() => r.disconnect());
  await r.connect();
  return r;
}

/** An empty server: no keys, no cached scripts, no functions, zeroed commandstats. */
async function fresh(port: number): Promise<Redis> {
  const r = await ioredis(port);
  await r.flushall();
  await r.script('FLUSH');
  await r.function('FLUSH');
  await r.config('RESETSTAT');
  return r;
}

/** ioredis pipeline or MULTI results as values, or error texts. */
function execResults(results: [Error | null, unknown][] | null): unknown[] | null {
  return results === null ? null : results.map(([err, value]) => (err === null ? value : { error: err.message }));
}

/** calls and failed_calls of a command in INFO commandstats. */
async function callStats(r: Redis, command: string): Promise<{ calls: number; failed: number }> {
  const info = await r.info('commandstats');
  const line = info.split('\r\n').find((l) => l.startsWith(`cmdstat_${command}:`));
  if (line === undefined) return { calls: 0, failed: 0 };
  const field = (name: string) => Number(new RegExp(`[:,]${name}=(\\d+)`).exec(line)![1]);
  return { calls: field('calls'), failed: field('failed_calls') };
}

/** INCRBY that refuses to go past a cap: a custom error reply when it would. */
const INCR_CAPPED = `
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local by, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
if current + by > cap then
  return redis.error_reply('CAPPED ' .. KEYS[1] .. ' is at ' .. current)
end
return redis.call('INCRBY', KEYS[1], by)
`;

declare module 'ioredis' {
  interface RedisCommander<Context> {
    incrCapped(key: string, by: number, cap: number): Result<number, Context>;
    whichKey(key: string): Result<string, Context>;
    tokenBucket(key: string, capacity: number, ratePerSec: number, nowMs: number, cost: number): Result<[number, string], Context>;
    tokenBucketServerTime(key: string, capacity: number, ratePerSec: number, cost: number): Result<[number, string], Context>;
    releaseLock(key: string, token: string): Result<number, Context>;
    extendLock(key: string, token: string, ttlMs: number): Result<number, Context>;
  }
}

const ioredisDefineCommand: Scenario = {
  name: 'ioredis defineCommand: EVAL first, then EVALSHA, EVAL again after NOSCRIPT; pipelines, MULTI, keyPrefix',
  async run(port) {
    const t: Transcript = [];
    const admin = await fresh(port);
    const r = await ioredis(port);
    r.defineCommand('incrCapped', { numberOfKeys: 1, lua: INCR_CAPPED });
    const sha = sha1(INCR_CAPPED);

    // ioredis sends EVAL for a connection's first use of a script (it caches it), EVALSHA after.
    t.push(['first call (EVAL)', await r.incrCapped('capped', 5, 12)]);
    t.push(['second call (EVALSHA)', await r.incrCapped('capped', 5, 12)]);
    t.push(['over the cap', await outcome(r.incrCapped('capped', 5, 12))]);
    t.push(['cached', await admin.script('EXISTS', sha)]);
    await admin.script('FLUSH');
    t.push(['flushed', await admin.script('EXISTS', sha)]);
    // EVALSHA answers NOSCRIPT: ioredis resends it as EVAL.
    t.push(['after SCRIPT FLUSH (EVALSHA, NOSCRIPT, EVAL)', await r.incrCapped('capped', 1, 12)]);
    t.push(['cached again', await admin.script('EXISTS', sha)]);
    t.push(['EVAL stats', await callStats(admin, 'eval')]);
    t.push(['EVALSHA stats', await callStats(admin, 'evalsha')]);
    expect(t.slice(0, 3)).toEqual([
      ['first call (EVAL)', 5],
      ['second call (EVALSHA)', 10],
      ['over the cap', { error: 'CAPPED capped is at 10' }],
    ]);
    expect(t.find(([s]) => s === 'after SCRIPT FLUSH (EVALSHA, NOSCRIPT, EVAL)')![1]).toBe(11);
    expect(t.find(([s]) => s === 'EVAL stats')![1]).toEqual({ calls: 2, failed: 0 });
    // The over-the-cap call and the NOSCRIPT one failed.
    expect(t.find(([s]) => s === 'EVALSHA stats')![1]).toEqual({ calls: 3, failed: 2 });

    t.push(['pipeline', execResults(await r.pipeline().incrCapped('piped', 2, 5).incrCapped('piped', 2, 5).incrCapped('piped', 2, 5).get('piped').exec())]);
    t.push(['multi', execResults(await r.multi().incrCapped('multi', 3, 100).incrCapped('multi', 3, 100).exec())]);
    expect(t.slice(-2)).toEqual([
      ['pipeline', [2, 4, { error: 'CAPPED piped is at 4' }, '4']],
      ['multi', [3, 6]],
    ]);

    // With a keyPrefix, KEYS[1] arrives prefixed.
    const prefixed = await ioredis(port, { keyPrefix: 'app:' });
    prefixed.defineCommand('whichKey', { numberOfKeys: 1, lua: 'return KEYS[1]' });
    t.push(['keyPrefix', await prefixed.whichKey('x')]);
    expect(t.at(-1)![1]).toBe('app:x');
    return t;
  },
};

/** node-redis' script definition of INCR_CAPPED. */
const incrCappedScript = defineScript({
  NUMBER_OF_KEYS: 1,
  SCRIPT: INCR_CAPPED,
  parseCommand(parser: CommandParser, key: string, by: number, cap: number) {
    parser.pushKey(key);
    parser.push(String(by), String(cap));
  },
  transformReply: (reply: unknown) => reply as number,
});

/** Every kind of value a script can return, for the conversion to RESP2 and RESP3. */
const RETURN_KINDS = `
redis.call('HSET', KEYS[1], 'f', 'v')
if ARGV[1] == '3' then redis.setresp(3) end
return {1, 'two', {3, 'four'}, redis.status_reply('FINE'), false, 3.99, -7, redis.call('HGETALL', KEYS[1]), {double = 2.5}, {map = {a = 1}}}
`;

const nodeRedisScripts: Scenario = {
  name: 'node-redis defineScript: EVALSHA, EVAL on NOSCRIPT, in MULTI; returned values under RESP2 and RESP3',
  async run(port) {
    const t: Transcript = [];
    const admin = await fresh(port);
    const connect = async (RESP: 2 | 3) => {
      const c = createClient({ socket: { host: '127.0.0.1', port }, RESP, scripts: { incrCapped: incrCappedScript } });
      c.on('error', () => {});
      await c.connect();
      defer(() => c.destroy());
      return c;
    };
    const c = await connect(2);
    t.push(['first call (EVALSHA, NOSCRIPT, EVAL)', await c.incrCapped('nr', 4, 10)]);
    t.push(['second call (EVALSHA)', await c.incrCapped('nr', 4, 10)]);
    t.push(['over the cap', await outcome(c.incrCapped('nr', 4, 10))]);
    t.push(['EVAL stats', await callStats(admin, 'eval')]);
    t.push(['EVALSHA stats', await callStats(admin, 'evalsha')]);
    expect(t).toEqual([
      ['first call (EVALSHA, NOSCRIPT, EVAL)', 4],
      ['second call (EVALSHA)', 8],
      ['over the cap', { error: 'CAPPED nr is at 8' }],
      ['EVAL stats', { calls: 1, failed: 0 }],
      ['EVALSHA stats', { calls: 3, failed: 2 }],
    ]);
    t.push(['multi', await c.multi().incrCapped('nr-multi', 1, 10).incrCapped('nr-multi', 1, 10).get('nr-multi').exec()]);
    expect(t.at(-1)![1]).toEqual([1, 2, '2']);

    for (const resp of [2, 3] as const) {
      const client = resp === 2 ? c : await connect(3);
      // Maps come back as Maps under RESP3: make them comparable.
      const reply = await client.eval(RETURN_KINDS, { keys: [`kinds-${resp}`], arguments: [String(resp)] });
      t.push([`returned values, RESP${resp}`, JSON.parse(JSON.stringify(reply, (_k, v) => (v instanceof Map ? Object.fromEntries(v) : v)))]);
    }
    // RESP2: truncated numbers, false as nil, the hash and the map as flat arrays, the double as a bulk string.
    expect(t.at(-2)![1]).toEqual([1, 'two', [3, 'four'], 'FINE', null, 3, -7, ['f', 'v'], '2.5', ['a', 1]]);
    return t;
  },
};

const LIBRARY = `#!lua name=vireoclients
local function incr_capped(keys, args)
  local current = tonumber(redis.call('GET', keys[1]) or '0')
  local by, cap = tonumber(args[1]), tonumber(args[2])
  if current + by > cap then
    return redis.error_reply('CAPPED ' .. keys[1] .. ' is at ' .. current)
  end
  return redis.call('INCRBY', keys[1], by)
end
redis.register_function('incr_capped', incr_capped)
redis.register_function{
  function_name = 'read_value',
  callback = function(keys, args) return redis.call('GET', keys[1]) end,
  flags = { 'no-writes' },
  description = 'reads one key',
}
`;

/** FUNCTION LIST with each library's functions in name order (Redis lists them in hash order). */
function sortedFunctions(list: unknown): unknown {
  return (list as { functions: { name: string }[] }[]).map((lib) => ({ ...lib, functions: [...lib.functions].sort((a, b) => a.name.localeCompare(b.name)) }));
}

const nodeRedisFunctions: Scenario = {
  name: 'node-redis functions: FUNCTION LOAD a library, fCall/fCallRo and the functions option, LIST, STATS, DUMP/RESTORE, DELETE',
  async run(port) {
    const t: Transcript = [];
    await fresh(port);
    const c = createClient({
      socket: { host: '127.0.0.1', port },
      functions: {
        vireoclients: {
          incr_capped: {
            NUMBER_OF_KEYS: 1,
            parseCommand(parser: CommandParser, key: string, by: number, cap: number) {
              parser.pushKey(key);
              parser.push(String(by), String(cap));
            },
            transformReply: (reply: unknown) => reply as number,
          },
          read_value: {
            NUMBER_OF_KEYS: 1,
            IS_READ_ONLY: true,
            parseCommand(parser: CommandParser, key: string) {
              parser.pushKey(key);
            },
            transformReply: (reply: unknown) => reply as string | null,
          },
        },
      },
    });
    c.on('error', () => {});
    await c.connect();
    defer(() => c.destroy());

    t.push(['load', await c.functionLoad(LIBRARY)]);
    t.push(['load again', await outcome(c.functionLoad(LIBRARY))]);
    t.push(['load with REPLACE', await c.functionLoad(LIBRARY, { REPLACE: true })]);
    t.push(['fCall', await c.fCall('incr_capped', { keys: ['fn'], arguments: ['3', '10'] })]);
    t.push(['fCallRo of a no-writes function', await c.fCallRo('read_value', { keys: ['fn'], arguments: [] })]);
    t.push(['fCallRo of a writing function', await outcome(c.fCallRo('incr_capped', { keys: ['fn'], arguments: ['1', '10'] }))]);
    t.push(['functions option (FCALL)', await c.vireoclients.incr_capped('fn', 4, 10)]);
    t.push(['functions option, capped', await outcome(c.vireoclients.incr_capped('fn', 4, 10))]);
    t.push(['functions option (FCALL_RO)', await c.vireoclients.read_value('fn')]);
    t.push(['list', sortedFunctions(await c.functionList())]);
    const stats = (await c.functionStats()) as unknown as { engines: unknown };
    t.push(['stats', stats.engines]);
    expect(t.slice(0, 9)).toEqual([
      ['load', 'vireoclients'],
      ['load again', { error: "ERR Library 'vireoclients' already exists" }],
      ['load with REPLACE', 'vireoclients'],
      ['fCall', 3],
      ['fCallRo of a no-writes function', '3'],
      ['fCallRo of a writing function', { error: 'ERR Can not execute a script with write flag using *_ro command.' }],
      ['functions option (FCALL)', 7],
      ['functions option, capped', { error: 'CAPPED fn is at 7' }],
      ['functions option (FCALL_RO)', '7'],
    ]);

    // DUMP, FLUSH, RESTORE: the library comes back and runs (the payload itself names the RDB version, so it differs).
    const dump = await c.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }).functionDump();
    await c.functionFlush();
    t.push(['after flush', await outcome(c.fCall('incr_capped', { keys: ['fn'], arguments: ['1', '10'] }))]);
    t.push(['restore', await c.functionRestore(dump)]);
    t.push(['after restore', await c.fCall('incr_capped', { keys: ['fn'], arguments: ['1', '10'] })]);
    t.push(['restore again (APPEND, the default)', await outcome(c.functionRestore(dump))]);
    t.push(['delete', await c.functionDelete('vireoclients')]);
    t.push(['after delete', await outcome(c.fCall('read_value', { keys: ['fn'], arguments: [] }))]);
    t.push(['list after delete', await c.functionList()]);
    expect(t.find(([s]) => s === 'after restore')![1]).toBe(8);
    expect(t.find(([s]) => s === 'after delete')![1]).toEqual({ error: 'ERR Function not found' });
    return t;
  },
};

/**
 * A token bucket: `capacity` tokens, refilled at `rate` per second, a
 * request taking `cost`. Returns {allowed (1/0), tokens left}. The clock
 * comes from the caller (ARGV[3], milliseconds) so the results are exact.
 */
const TOKEN_BUCKET = `
local capacity, rate, now, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local last = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - last) / 1000 * rate)
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate * 1000))
return {allowed, tostring(tokens)}
`;

/** The same bucket on the server's clock (TIME inside the script). */
const TOKEN_BUCKET_SERVER_TIME = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local capacity, rate, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or capacity
local last = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - last) / 1000 * rate)
local allowed = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', tostring(now))
return {allowed, tostring(tokens)}
`;

const tokenBucket: Scenario = {
  name: 'a token-bucket rate limiter script: refills by the clock, allows exactly the capacity under concurrent callers',
  async run(port) {
    const t: Transcript = [];
    await fresh(port);
    const r = await ioredis(port);
    r.defineCommand('tokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET });
    r.defineCommand('tokenBucketServerTime', { numberOfKeys: 1, lua: TOKEN_BUCKET_SERVER_TIME });
    const t0 = 1_700_000_000_000;
    // Capacity 5, 2 tokens a second.
    const burst: [number, string][] = [];
    for (let i = 0; i < 7; i++) burst.push(await r.tokenBucket('bucket', 5, 2, t0, 1));
    t.push(['burst of 7', burst]);
    t.push(['250 ms later', await r.tokenBucket('bucket', 5, 2, t0 + 250, 1)]);
    t.push(['500 ms later', await r.tokenBucket('bucket', 5, 2, t0 + 500, 1)]);
    t.push(['750 ms later, cost 2', await r.tokenBucket('bucket', 5, 2, t0 + 750, 2)]);
    t.push(['10 s later, cost 3', await r.tokenBucket('bucket', 5, 2, t0 + 10_000, 3)]);
    t.push(['state', await r.hgetall('bucket')]);
    const pttl = await r.pttl('bucket');
    t.push(['expires', pttl > 0 && pttl <= 2500]);
    expect(t).toEqual([
      ['burst of 7', [[1, '4'], [1, '3'], [1, '2'], [1, '1'], [1, '0'], [0, '0'], [0, '0']]],
      ['250 ms later', [0, '0.5']],
      ['500 ms later', [1, '0']],
      ['750 ms later, cost 2', [0, '0.5']],
      ['10 s later, cost 3', [1, '2']],
      ['state', { tokens: '2', ts: String(t0 + 10_000) }],
      ['expires', true],
    ]);

    // 40 callers on 8 connections at the same instant: exactly the capacity gets through.
    const conns = await Promise.all(Array.from({ length: 8 }, () => ioredis(port)));
    for (const c of conns) c.defineCommand('tokenBucket', { numberOfKeys: 1, lua: TOKEN_BUCKET });
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => conns[i % conns.length]!.tokenBucket('shared', 10, 1, t0, 1)));
    t.push(['concurrent: allowed', results.filter(([allowed]) => allowed === 1).length]);
    t.push(['concurrent: tokens left as seen', results.map(([, left]) => Number(left)).sort((a, b) => a - b)]);
    expect(t.at(-2)![1]).toBe(10);

    // On the server's clock: 3 tokens, a refill of one token every 1000 s, 5 requests.
    const served: number[] = [];
    for (let i = 0; i < 5; i++) served.push((await r.tokenBucketServerTime('server-clock', 3, 0.001, 1))[0]);
    t.push(['server clock', served]);
    expect(served).toEqual([1, 1, 1, 0, 0]);
    return t;
  },
};

/** Redlock's release: delete the lock only if it still holds our token. */
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`;

/** Redlock's extend: push the expiry out only if the lock still holds our token. */
const EXTEND_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`;

async function lockClient(port: number): Promise<Redis> {
  const r = await ioredis(port);
  r.defineCommand('releaseLock', { numberOfKeys: 1, lua: RELEASE_LOCK });
  r.defineCommand('extendLock', { numberOfKeys: 1, lua: EXTEND_LOCK });
  return r;
}

const redlock: Scenario = {
  name: 'a Redlock-style lock: SET NX PX to acquire, compare-and-delete release, compare-and-pexpire extend, mutual exclusion',
  async run(port) {
    const t: Transcript = [];
    await fresh(port);
    const a = await lockClient(port);
    const b = await lockClient(port);
    t.push(['A acquires', await a.set('lock:res', 'token-a', 'PX', 10_000, 'NX')]);
    t.push(['B cannot', await b.set('lock:res', 'token-b', 'PX', 10_000, 'NX')]);
    t.push(['B cannot release it', await b.releaseLock('lock:res', 'token-b')]);
    t.push(['B cannot extend it', await b.extendLock('lock:res', 'token-b', 60_000)]);
    t.push(['still A', await a.get('lock:res')]);
    t.push(['A extends', await a.extendLock('lock:res', 'token-a', 30_000)]);
    const pttl = await a.pttl('lock:res');
    t.push(['extended', pttl > 10_000 && pttl <= 30_000]);
    t.push(['A releases', await a.releaseLock('lock:res', 'token-a')]);
    t.push(['gone', await a.exists('lock:res')]);
    t.push(['B acquires', await b.set('lock:res', 'token-b', 'PX', 10_000, 'NX')]);
    expect(t.map(([, seen]) => seen)).toEqual(['OK', null, 0, 0, 'token-a', 1, true, 1, 0, 'OK']);

    // A lock that expired is no longer its holder's: extend and release fail, another client takes it.
    t.push(['C acquires for 50 ms', await a.set('lock:short', 'token-c', 'PX', 50, 'NX')]);
    await sleep(150);
    t.push(['C extends too late', await a.extendLock('lock:short', 'token-c', 10_000)]);
    t.push(['D acquires', await b.set('lock:short', 'token-d', 'PX', 10_000, 'NX')]);
    t.push(['C releases too late', await a.releaseLock('lock:short', 'token-c')]);
    t.push(['held by D', await b.get('lock:short')]);
    expect(t.slice(-5).map(([, seen]) => seen)).toEqual(['OK', 0, 'OK', 0, 'token-d']);

    // Mutual exclusion: 8 clients each take the lock 15 times and do a read-modify-write under it.
    const clients = await Promise.all(Array.from({ length: 8 }, () => lockClient(port)));
    const releases: number[] = [];
    await Promise.all(
      clients.map(async (c, id) => {
        for (let round = 0; round < 15; round++) {
          const token = `client-${id}-${round}`;
          while ((await c.set('lock:counter', token, 'PX', 10_000, 'NX')) !== 'OK') await sleep(1);
          const value = Number((await c.get('counter')) ?? '0');
          await sleep(0);
          await c.set('counter', String(value + 1));
          releases.push(await c.releaseLock('lock:counter', token));
        }
      }),
    );
    t.push(['counter', await a.get('counter')]);
    t.push(['every release succeeded', releases.length === 120 && releases.every((n) => n === 1)]);
    t.push(['lock free', await a.exists('lock:counter')]);
    expect(t.slice(-3).map(([, seen]) => seen)).toEqual(['120', true, 0]);
    return t;
  },
};

const scriptErrors: Scenario = {
  name: 'script errors as clients see them: a command error inside, error_reply, pcall, a Lua runtime error, NOSCRIPT, a bad numkeys',
  async run(port) {
    const t: Transcript = [];
    await fresh(port);
    const r = await ioredis(port);
    await r.rpush('a-list', 'x');
    t.push(['wrong type inside', await outcome(r.eval("return redis.call('INCR', KEYS[1])", 1, 'a-list'))]);
    t.push(['error_reply', await outcome(r.eval("return redis.error_reply('MYERR custom failure')", 0))]);
    t.push(['error_reply without a code', await outcome(r.eval("return redis.error_reply('no code here')", 0))]);
    t.push(['pcall catches it', await r.eval("local ok = redis.pcall('INCR', KEYS[1]); return ok['err']", 1, 'a-list')]);
    t.push(['runtime error', await outcome(r.eval('return nope()', 0))]);
    t.push(['unknown command inside', await outcome(r.eval("return redis.call('NOSUCHCOMMAND')", 0))]);
    t.push(['NOSCRIPT', await outcome(r.evalsha('ffffffffffffffffffffffffffffffffffffffff', 0))]);
    t.push(['numkeys too large', await outcome(r.eval('return 1', 3, 'k'))]);
    t.push(['numkeys negative', await outcome(r.eval('return 1', -1))]);
    t.push(['syntax error', await outcome(r.eval('return (', 0))]);
    t.push(['list untouched', await r.lrange('a-list', 0, -1)]);
    expect(t.find(([s]) => s === 'error_reply')![1]).toEqual({ error: 'MYERR custom failure' });
    expect(t.find(([s]) => s === 'NOSCRIPT')![1]).toEqual({ error: 'NOSCRIPT No matching script. Please use EVAL.' });
    expect(t.find(([s]) => s === 'pcall catches it')![1]).toBe('WRONGTYPE Operation against a key holding the wrong kind of value');
    return t;
  },
};

const SCENARIOS: Scenario[] = [ioredisDefineCommand, nodeRedisScripts, nodeRedisFunctions, tokenBucket, redlock, scriptErrors];

/** Start `target` for a describe block; stopped (and Vireo's effect check read) after it. */
function serverFor(target: Target): () => ProcessHandle {
  let server: ProcessHandle | undefined;
  beforeAll(async () => {
    server = await target.start();
  }, 30_000);
  afterAll(async () => {
    if (server !== undefined) await stopChecked(server);
  });
  return () => server!;
}

for (const target of TARGETS) {
  describe.skipIf(!target.enabled)(`script clients against ${target.label}`, () => {
    const server = serverFor(target);
    for (const scenario of SCENARIOS) it(scenario.name, async () => void (await scenario.run(server().port)));
  });
}

describe.skipIf(!TARGETS.every((t) => t.enabled))('script clients: Vireo and redis-server see the same', () => {
  const vireo = serverFor(TARGETS.find((t) => t.name === 'vireo')!);
  const redis = serverFor(TARGETS.find((t) => t.name === 'redis')!);
  for (const scenario of SCENARIOS) {
    it(scenario.name, async () => {
      const reference = await scenario.run(redis().port);
      const seen = await scenario.run(vireo().port);
      expect(seen).toEqual(reference);
    });
  }
});
