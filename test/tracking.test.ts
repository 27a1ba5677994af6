// Client-side caching (CLIENT TRACKING) against redis-server: the replies
// and errors of CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO in RESP2
// and RESP3, and the invalidation messages each connection receives, in
// order, for scripted cases and for fast-check sequences of reads and
// writes over three connections in every tracking mode (default, NOLOOP,
// OPTIN, OPTOUT, BCAST with and without prefixes, REDIRECT). Then what the
// reference cannot show: Redis 7.2's script reads, a replica's
// invalidations, the table's limits, and node-redis' client-side cache.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createClient, BasicClientSideCache } from 'redis';
import { DiffPair } from './helpers/differential.js';
import { RespClient, encodeCommand, toJs, type Reply } from './helpers/resp.js';
import { HAVE_REDIS, startVireo, type VireoHandle } from './helpers/servers.js';
import { Twins } from './helpers/twins.js';
import { infoField, waitFor } from './helpers/info.js';
import { waitInSync } from './helpers/replication.js';
import { TrackingTable } from '../src/tracking/table.js';
import { prefixCollision } from '../src/commands/tracking-prefixes.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** The INFO fields of client tracking. */
const TRACKING_FIELDS = ['tracking_clients', 'tracking_total_keys', 'tracking_total_items', 'tracking_total_prefixes'];

async function trackingInfo(c: RespClient): Promise<Record<string, string>> {
  const info = await c.call('INFO', 'everything');
  return Object.fromEntries(TRACKING_FIELDS.map((f) => [f, infoField(info, f)]));
}

/** An invalidation push as the logs show it. */
const invalidate = (...keys: string[]): string =>
  'push ' + JSON.stringify({ type: 'push', value: [{ type: 'bulk', value: 'invalidate' }, { type: 'array', value: keys.map((k) => ({ type: 'bulk', value: k })) }] });
const invalidateAll = 'push ' + JSON.stringify({ type: 'push', value: [{ type: 'bulk', value: 'invalidate' }, { type: 'null' }] });

/** PING `c` and return the pushes that arrive before its PONG. */
async function pushesBeforePong(c: RespClient): Promise<unknown[]> {
  c.writeRaw('*1\r\n$4\r\nPING\r\n');
  const pushes: unknown[] = [];
  for (;;) {
    const { reply } = await c.read();
    if (reply.type !== 'push') return pushes;
    pushes.push(toJs(reply));
  }
}

/** Whether the server on `port` implements a command (Pub/Sub lands in another branch). */
async function implemented(port: number, name: string): Promise<boolean> {
  const c = await RespClient.connect(port);
  try {
    const info = await c.call('COMMAND', 'INFO', name);
    const entry = info.type === 'array' && info.value !== null ? info.value[0] : undefined;
    return entry !== undefined && entry.type === 'array' && entry.value !== null;
  } finally {
    c.close();
  }
}

describe.skipIf(!HAVE_REDIS)('client tracking (differential)', () => {
  let pair: DiffPair;
  let twins: Twins | null = null;
  beforeAll(async () => {
    pair = await DiffPair.start();
    // Keys expire when read, not when the cron's cycle happens to run.
    await pair.check('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  });
  afterAll(async () => {
    await pair?.stop();
  });
  afterEach(async () => {
    twins?.close();
    twins = null;
    await pair.check('CONFIG', 'SET', 'tracking-table-max-keys', '1000000');
    await pair.check('FLUSHALL');
  });

  /** Twin connections; those in resp3 speak RESP3. */
  async function open(n: number, resp3: number[]): Promise<Twins> {
    twins = await Twins.open(pair, n, resp3);
    return twins;
  }

  /** Run commands on twins, each as [connection, ...argv]. */
  async function steps(t: Twins, list: [number, ...string[]][]): Promise<void> {
    for (const [i, ...args] of list) await t.run(i, args);
  }

  describe('CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO replies', () => {
    const CASES: string[][] = [
      ['CLIENT', 'TRACKING'],
      ['CLIENT', 'TRACKING', 'maybe'],
      ['CLIENT', 'TRACKING', 'on', 'redirect'],
      ['CLIENT', 'TRACKING', 'on', 'redirect', 'x'],
      ['CLIENT', 'TRACKING', 'on', 'redirect', '0'],
      ['CLIENT', 'TRACKING', 'on', 'redirect', '-1'],
      ['CLIENT', 'TRACKING', 'on', 'redirect', '99999999', 'bogus'],
      ['CLIENT', 'TRACKING', 'on', 'redirect', '$ID1', 'redirect', '$ID1'],
      ['CLIENT', 'TRACKING', 'off', 'redirect', '99999999'],
      ['CLIENT', 'TRACKING', 'on', 'prefix', 'a'],
      ['CLIENT', 'TRACKING', 'on', 'prefix'],
      ['CLIENT', 'TRACKING', 'on', 'bogus'],
      ['CLIENT', 'TRACKING', 'on', 'optin', 'optout'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'optin'],
      ['CLIENT', 'TRACKING', 'on', 'BCAST', 'OPTOUT'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'a', 'prefix', 'a'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'ab', 'prefix', 'a'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', '', 'prefix', 'a'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'x\0y', 'prefix', 'x'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'TRACKINGINFO', 'x'],
      ['CLIENT', 'GETREDIR'],
      ['CLIENT', 'GETREDIR', 'x'],
      ['CLIENT', 'CACHING'],
      ['CLIENT', 'CACHING', 'yes'],
      ['CLIENT', 'CACHING', 'no'],
      ['CLIENT', 'CACHING', 'maybe'],
      ['CLIENT', 'TRACKING', 'off'],
      ['CLIENT', 'TRACKING', 'On', 'optin', 'noloop'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'CACHING', 'no'],
      ['CLIENT', 'CACHING', 'maybe'],
      ['CLIENT', 'CACHING', 'YES'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'TRACKING', 'on', 'optout'],
      ['CLIENT', 'TRACKING', 'on', 'bcast'],
      ['CLIENT', 'TRACKING', 'on', 'redirect', '$ID1'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'GETREDIR'],
      ['CLIENT', 'TRACKING', 'on', 'optin'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'GETREDIR'],
      ['CLIENT', 'TRACKING', 'OFF'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'TRACKING', 'on', 'optout'],
      ['CLIENT', 'CACHING', 'yes'],
      ['CLIENT', 'CACHING', 'no'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'TRACKING', 'off'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'b', 'prefix', 'a', 'noloop'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'abc'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'c', 'prefix', 'd'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'c'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'TRACKING', 'on'],
      ['CLIENT', 'TRACKING', 'on', 'optin'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'optin'],
      ['CLIENT', 'TRACKING', 'on', 'bcast'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'z'],
      ['CLIENT', 'CACHING', 'yes'],
      ['CLIENT', 'TRACKING', 'off'],
      ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'z', 'redirect', '$ID1'],
      ['CLIENT', 'TRACKINGINFO'],
      ['RESET'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'GETREDIR'],
    ];

    for (const resp of [2, 3]) {
      it(`answer as Redis in RESP${resp}`, async () => {
        const t = await open(2, resp === 3 ? [0] : []);
        for (const args of CASES) {
          await t.run(0, args);
          // RESET goes back to RESP2.
          if (args[0] === 'RESET' && resp === 3) await t.run(0, ['HELLO', '3']);
        }
      });
    }

    it('CLIENT INFO shows the tracking flags (t, B, R) and the redirection as Redis', async () => {
      const t = await open(3, [0]);
      const idNames = (side: 0 | 1) => new Map(t.ids(side === 0 ? 'redis' : 'vireo').map((id, i) => [String(id), `<ID ${i}>`]));
      const fields = async (): Promise<void> => {
        const replies = await t.both(0, ['CLIENT', 'INFO']);
        const [a, b] = replies.map((r, side) => {
          const line = String(toJs(r));
          const redir = line.match(/ redir=(\S+) /)![1]!;
          return `${line.match(/ (flags=\S+) /)![1]} redir=${idNames(side as 0 | 1).get(redir) ?? redir}`;
        });
        expect(b).toBe(a);
      };
      await fields();
      await t.run(0, ['CLIENT', 'TRACKING', 'on']);
      await fields();
      await t.run(0, ['CLIENT', 'TRACKING', 'on', 'redirect', '$ID2']);
      await fields();
      await t.run(0, ['GET', 'k']);
      await t.run(2, ['QUIT']);
      await t.run(1, ['SET', 'k', '1']);
      await fields();
      await t.run(0, ['CLIENT', 'TRACKING', 'off']);
      await t.run(0, ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'a']);
      await fields();
    });
  });

  describe('invalidation messages', () => {
    it('default mode: one invalidation per tracked key, after the reply of a client own write; keys of any database', async () => {
      const t = await open(3, [0, 1]);
      await steps(t, [
        [0, 'CLIENT', 'TRACKING', 'on'],
        [0, 'GET', 'a'],
        [1, 'SET', 'a', '1'],
        [1, 'SET', 'a', '2'],
        [0, 'MGET', 'a', 'b', 'c'],
        [2, 'MSET', 'a', '1', 'b', '2', 'c', '3'],
        [0, 'GET', 'a'],
        [0, 'SET', 'a', '3'],
        [0, 'SELECT', '1'],
        [0, 'EXISTS', 'a', 'b'],
        [2, 'DEL', 'a', 'b'],
        [0, 'HGET', 'h', 'f'],
        [0, 'SELECT', '0'],
        [1, 'HSET', 'h', 'f', 'v'],
        [0, 'STRLEN', 'h'],
        [0, 'TYPE', 'h'],
        [2, 'EXPIRE', 'h', '1000'],
        [0, 'LRANGE', 'l', '0', '-1'],
        [1, 'LPUSH', 'l', 'x'],
        [0, 'LRANGE', 'l', '0', '-1'],
        // INCR on a list fails: nothing changed, nothing sent.
        [1, 'INCR', 'l'],
        [1, 'RENAME', 'l', 'm'],
        [0, 'GET', 'm'],
        [1, 'SWAPDB', '0', '1'],
        [1, 'SWAPDB', '0', '1'],
        [1, 'FLUSHDB'],
      ]);
      expect(t.log(0)).toContain(invalidate('a'));
      expect(t.log(0)).toContain(invalidateAll);
    });

    it('a client own invalidations come after the whole reply: MULTI/EXEC, FLUSHALL, a read that finds its key expired', async () => {
      const t = await open(2, [0, 1]);
      await steps(t, [
        [0, 'CLIENT', 'TRACKING', 'on'],
        [0, 'MGET', 'a', 'b'],
        [0, 'MULTI'],
        [0, 'SET', 'a', '1'],
        [0, 'GET', 'a'],
        [0, 'SET', 'b', '1'],
        [0, 'EXEC'],
        [0, 'GET', 'a'],
        [0, 'FLUSHALL'],
        [0, 'SET', 'e', 'v', 'PX', '50'],
        [0, 'GET', 'e'],
      ]);
      await sleep(100);
      await steps(t, [
        [0, 'GET', 'e'],
        [0, 'GET', 'e'],
        [0, 'SET', 'e', 'v', 'PX', '50'],
        [0, 'GET', 'e'],
      ]);
      await sleep(100);
      // Expired by another client's read.
      await steps(t, [[1, 'EXISTS', 'e']]);
      expect(t.log(0)).toEqual(expect.arrayContaining([invalidate('e'), invalidateAll]));
    });

    it('NOLOOP leaves out the client own changes, in default and BCAST mode', async () => {
      const t = await open(2, [0, 1]);
      await steps(t, [
        [0, 'CLIENT', 'TRACKING', 'on', 'noloop'],
        [0, 'MGET', 'a', 'b'],
        [0, 'SET', 'a', '1'],
        [1, 'SET', 'b', '1'],
        [0, 'GET', 'a'],
        [1, 'DEL', 'a'],
        [0, 'GET', 'a'],
        [0, 'FLUSHALL'],
        [0, 'CLIENT', 'TRACKING', 'off'],
        [0, 'CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'a', 'noloop'],
        [0, 'SET', 'a1', '1'],
        [1, 'SET', 'a2', '1'],
        [0, 'MSET', 'a3', '1', 'b', '2'],
        [1, 'SET', 'a3', '2'],
      ]);
      // Both change a3 in one transaction: the last change is not the tracking client's own.
      await t.pipeline(1, [['MULTI'], ['SET', 'a4', '1'], ['SET', 'a5', '1'], ['EXEC']]);
    });

    it('BCAST: one message per prefix and turn, keys sorted, a pipeline or transaction batched', async () => {
      const t = await open(3, [0, 1]);
      await steps(t, [
        [0, 'CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'user:', 'prefix', 'acct:'],
        [1, 'CLIENT', 'TRACKING', 'on', 'bcast'],
        [2, 'MSET', 'user:2', 'a', 'acct:1', 'b', 'user:1', 'c', 'other', 'd'],
        [2, 'SET', 'other', 'e'],
        [2, 'DEL', 'user:2', 'nosuch'],
        [0, 'GET', 'user:1'],
        [0, 'CLIENT', 'TRACKINGINFO'],
        [2, 'FLUSHDB'],
      ]);
      await t.pipeline(2, [['SET', 'user:9', '1'], ['SET', 'user:3', '1'], ['SET', 'user:9', '2'], ['INCR', 'acct:7']]);
      await t.pipeline(2, [['MULTI'], ['SET', 'acct:2', '1'], ['SET', 'user:5', 'x'], ['EXEC']]);
      await t.run(0, ['CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'zz']);
      await t.run(2, ['MSET', 'zz1', '1', 'user:4', '1']);
      expect(t.log(0)).toContain(invalidate('user:3', 'user:9'));
    });

    it('OPTIN and OPTOUT: CLIENT CACHING covers the next command, or the next transaction, and survives other CLIENT subcommands', async () => {
      const t = await open(2, [0, 1]);
      await steps(t, [
        [0, 'CLIENT', 'TRACKING', 'on', 'optin'],
        [0, 'GET', 'a'],
        [1, 'SET', 'a', '1'],
        [0, 'CLIENT', 'CACHING', 'yes'],
        [0, 'GET', 'a'],
        [0, 'GET', 'b'],
        [1, 'MSET', 'a', '2', 'b', '2'],
        [0, 'CLIENT', 'CACHING', 'yes'],
        [0, 'CLIENT', 'ID'],
        [0, 'CLIENT', 'TRACKINGINFO'],
        [0, 'GET', 'a'],
        [1, 'SET', 'a', '3'],
        [0, 'CLIENT', 'CACHING', 'yes'],
        [0, 'NOSUCHCOMMAND'],
        [0, 'GET', 'a'],
        [1, 'SET', 'a', '4'],
        [0, 'CLIENT', 'CACHING', 'yes'],
        [0, 'MULTI'],
        [0, 'GET', 'a'],
        [0, 'GET', 'b'],
        [0, 'EXEC'],
        [0, 'GET', 'c'],
        [1, 'MSET', 'a', '5', 'b', '5', 'c', '5'],
        [0, 'MULTI'],
        [0, 'CLIENT', 'CACHING', 'yes'],
        [0, 'GET', 'a'],
        [0, 'EXEC'],
        [1, 'SET', 'a', '6'],
        [0, 'CLIENT', 'TRACKING', 'off'],
        [0, 'CLIENT', 'TRACKING', 'on', 'optout'],
        [0, 'GET', 'a'],
        [0, 'CLIENT', 'CACHING', 'no'],
        [0, 'GET', 'b'],
        [0, 'GET', 'c'],
        [1, 'MSET', 'a', '7', 'b', '7', 'c', '7'],
      ]);
    });

    it('XREAD remembers the keys of Redis getkeys procedure (an option value named STREAMS is skipped)', async () => {
      const t = await open(2, [0]);
      await steps(t, [
        [0, 'CLIENT', 'TRACKING', 'on'],
        [0, 'XREAD', 'COUNT', '1', 'STREAMS', 's1', 's2', '0', '0'],
        [0, 'XREAD', 'BLOCK', 'streams', 'STREAMS', 's3', '0'],
        [1, 'MSET', 's1', '1', 's2', '2', 's3', '3', 'streams', '4'],
      ]);
    });

    it('REDIRECT: to a RESP3 client, to a RESP2 client not in Pub/Sub mode (nothing), and broken when it disconnects', async () => {
      const t = await open(4, [0, 2]);
      await steps(t, [
        [0, 'CLIENT', 'TRACKING', 'on', 'redirect', '$ID2'],
        [1, 'CLIENT', 'TRACKING', 'on', 'bcast', 'redirect', '$ID3'],
        [0, 'GET', 'a'],
        [3, 'SET', 'a', '1'],
        [0, 'GET', 'a'],
        [3, 'DEL', 'a'],
        [0, 'CLIENT', 'GETREDIR'],
        [0, 'GET', 'a'],
        [3, 'FLUSHALL'],
        [0, 'CLIENT', 'TRACKING', 'on', 'redirect', '$ID3'],
        [0, 'GET', 'a'],
        [1, 'SET', 'a', '1'],
        [0, 'CLIENT', 'TRACKING', 'on', 'redirect', '$ID2'],
        [0, 'GET', 'a'],
        [2, 'QUIT'],
        [0, 'CLIENT', 'TRACKINGINFO'],
        [1, 'SET', 'a', '2'],
        [0, 'CLIENT', 'TRACKINGINFO'],
        [0, 'GET', 'a'],
        [0, 'SET', 'a', '3'],
        [1, 'FLUSHALL'],
        [0, 'CLIENT', 'TRACKING', 'on'],
        [0, 'CLIENT', 'TRACKINGINFO'],
      ]);
    });

    it('a RESP2 client tracking without redirection gets nothing, but its keys are in the table', async () => {
      const t = await open(2, []);
      await steps(t, [
        [0, 'CLIENT', 'TRACKING', 'on'],
        [0, 'MGET', 'a', 'b'],
        [1, 'SET', 'a', '1'],
        [1, 'FLUSHALL'],
        [0, 'GET', 'c'],
      ]);
      const [a, b] = await Promise.all([trackingInfo(pair.redis), trackingInfo(pair.vireo)]);
      expect(b).toEqual(a);
      expect(b.tracking_total_keys).toBe('1');
    });

    it('tracking-table-max-keys: the table is cut back (at the next command or by the cron), each evicted key invalidated', async () => {
      const t = await open(2, [0]);
      await steps(t, [
        [0, 'CLIENT', 'TRACKING', 'on'],
        [0, 'MGET', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6'],
      ]);
      await t.both(1, ['CONFIG', 'SET', 'tracking-table-max-keys', '2']);
      // Which keys go is random: compare how many went and what is left.
      await sleep(300);
      for (const side of ['redis', 'vireo'] as const) {
        const pushes = await pushesBeforePong(t.side(side)[0]!);
        expect(pushes).toHaveLength(4);
        const keys = pushes.map((p) => (p as [string, string[]])[1][0]);
        expect(new Set(keys).size).toBe(4);
        for (const k of keys) expect(['k1', 'k2', 'k3', 'k4', 'k5', 'k6']).toContain(k);
      }
      const [a, b] = await Promise.all([trackingInfo(pair.redis), trackingInfo(pair.vireo)]);
      expect(b).toEqual(a);
      expect(b.tracking_total_keys).toBe('2');
    });

    it('INFO counts tracking clients, keys, items and prefixes as Redis (keys of clients gone stay until they change)', async () => {
      const t = await open(3, [0, 1, 2]);
      await steps(t, [
        [0, 'CLIENT', 'TRACKING', 'on'],
        [1, 'CLIENT', 'TRACKING', 'on', 'optout'],
        [2, 'CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'p', 'prefix', 'q'],
        [0, 'MGET', 'a', 'b', 'c'],
        [1, 'MGET', 'b', 'c', 'd'],
        [1, 'SET', 'c', '1'],
        [0, 'CLIENT', 'TRACKING', 'off'],
      ]);
      let [a, b] = await Promise.all([trackingInfo(pair.redis), trackingInfo(pair.vireo)]);
      expect(b).toEqual(a);
      await steps(t, [[2, 'CLIENT', 'TRACKING', 'off'], [1, 'QUIT']]);
      [a, b] = await Promise.all([trackingInfo(pair.redis), trackingInfo(pair.vireo)]);
      expect(b).toEqual(a);
      expect(b).toEqual({ tracking_clients: '0', tracking_total_keys: '3', tracking_total_items: '4', tracking_total_prefixes: '0' });
    });
  });

  describe('random reads and writes on three connections (fast-check)', () => {
    const KEYS = ['user:1', 'user:2', 'user:10', 'acct:1', 'x', 'k'];
    const key = fc.constantFrom(...KEYS);
    const value = fc.constantFrom('1', '2', 'v', '');
    const read: fc.Arbitrary<string[]> = fc.oneof(
      key.map((k) => ['GET', k]),
      fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ['MGET', ...ks]),
      fc.array(key, { minLength: 1, maxLength: 2 }).map((ks) => ['EXISTS', ...ks]),
      key.map((k) => ['STRLEN', k]),
      key.map((k) => ['TYPE', k]),
      fc.tuple(key, fc.constantFrom('f', 'g')).map(([k, f]) => ['HGET', k, f]),
      key.map((k) => ['LRANGE', k, '0', '-1']),
      fc.tuple(key, key).map(([a, b]) => ['XREAD', 'STREAMS', a, b, '0', '0']),
    );
    const write: fc.Arbitrary<string[]> = fc.oneof(
      fc.tuple(key, value).map(([k, v]) => ['SET', k, v]),
      fc.tuple(key, value, key, value).map(([a, x, b, y]) => ['MSET', a, x, b, y]),
      fc.array(key, { minLength: 1, maxLength: 2 }).map((ks) => ['DEL', ...ks]),
      key.map((k) => ['INCR', k]),
      fc.tuple(key, fc.constantFrom('f', 'g'), value).map(([k, f, v]) => ['HSET', k, f, v]),
      fc.tuple(key, value).map(([k, v]) => ['APPEND', k, v]),
      key.map((k) => ['EXPIRE', k, '1000']),
      fc.tuple(key, key).map(([a, b]) => ['RENAME', a, b]),
      fc.tuple(key, value).map(([k, v]) => ['LPUSH', k, v]),
      fc.tuple(key, value).map(([k, v]) => ['SET', k, v, 'NX']),
    );
    const other: fc.Arbitrary<string[]> = fc.constantFrom(
      ['CLIENT', 'CACHING', 'YES'],
      ['CLIENT', 'CACHING', 'NO'],
      ['CLIENT', 'TRACKINGINFO'],
      ['CLIENT', 'GETREDIR'],
      ['FLUSHDB'],
      ['FLUSHALL'],
      ['SELECT', '1'],
      ['SELECT', '0'],
      ['PING'],
    );
    const MODES: string[][] = [
      [],
      ['ON'],
      ['ON', 'NOLOOP'],
      ['ON', 'OPTIN'],
      ['ON', 'OPTOUT'],
      ['ON', 'OPTIN', 'NOLOOP'],
      ['ON', 'BCAST'],
      ['ON', 'BCAST', 'PREFIX', 'user:'],
      ['ON', 'BCAST', 'PREFIX', 'user:', 'PREFIX', 'acct:', 'NOLOOP'],
      ['ON', 'BCAST', 'PREFIX', 'user:1', 'PREFIX', 'x'],
      ['ON', 'REDIRECT', '$ID3'],
      ['ON', 'OPTOUT', 'REDIRECT', '$ID3', 'NOLOOP'],
      ['ON', 'BCAST', 'PREFIX', 'k', 'REDIRECT', '$ID3'],
      ['OFF'],
    ];
    const mode = fc.constantFrom(...MODES);
    const conn = fc.constantFrom(0, 1, 2);
    const step: fc.Arbitrary<[number, ...string[]][]> = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(conn, read).map(([c, cmd]) => [[c, ...cmd]]) },
      { weight: 6, arbitrary: fc.tuple(conn, write).map(([c, cmd]) => [[c, ...cmd]]) },
      { weight: 2, arbitrary: fc.tuple(conn, other).map(([c, cmd]) => [[c, ...cmd]]) },
      { weight: 1, arbitrary: fc.tuple(fc.constantFrom(0, 1), mode.filter((m) => m.length > 0)).map(([c, m]) => [[c, 'CLIENT', 'TRACKING', ...m]]) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(conn, fc.array(fc.oneof(read, write), { minLength: 1, maxLength: 3 }))
          .map(([c, cmds]) => [[c, 'MULTI'] as [number, ...string[]], ...cmds.map((cmd) => [c, ...cmd] as [number, ...string[]]), [c, 'EXEC']]),
      },
    );

    it('every connection receives what Redis sends it, in every tracking mode', async () => {
      // Connection 3 only receives what is redirected to it.
      const t = await open(4, [0, 1, 2, 3]);
      const runs = Number(process.env.VIREO_FC_RUNS ?? 100);
      let pushes = 0;
      await fc.assert(
        fc.asyncProperty(mode, mode, fc.array(step, { minLength: 5, maxLength: 25 }), async (m0, m1, list) => {
          for (const c of [0, 1, 2, 3]) pushes += t.log(c).filter((l) => l.startsWith('push ')).length;
          for (const c of [0, 1, 2]) {
            await t.run(c, ['CLIENT', 'TRACKING', 'OFF']);
            await t.run(c, ['SELECT', '0']);
          }
          await t.run(2, ['FLUSHALL']);
          t.clear();
          if (m0.length > 0) await t.run(0, ['CLIENT', 'TRACKING', ...m0]);
          if (m1.length > 0) await t.run(1, ['CLIENT', 'TRACKING', ...m1]);
          for (const s of list) await steps(t, s);
          const [a, b] = await Promise.all([trackingInfo(pair.redis), trackingInfo(pair.vireo)]);
          expect(b).toEqual(a);
        }),
        { numRuns: runs },
      );
      // The runs did send invalidations (not only replies) to compare.
      expect(pushes).toBeGreaterThan(runs);
    });
  });

  describe('RESP2 redirection to a client in Pub/Sub mode', () => {
    it('the invalidations arrive as messages on __redis__:invalidate (runs once Pub/Sub exists)', async (ctx) => {
      if (!(await implemented(pair.ports[1], 'subscribe'))) {
        ctx.skip();
        return;
      }
      const t = await open(3, [1]);
      await steps(t, [
        [2, 'SUBSCRIBE', '__redis__:invalidate'],
        [0, 'CLIENT', 'TRACKING', 'on', 'redirect', '$ID2'],
        [1, 'CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'b', 'redirect', '$ID2'],
        [0, 'MGET', 'a', 'b'],
        [0, 'SET', 'a', '1'],
        [1, 'MSET', 'b1', '1', 'b2', '2'],
        [0, 'GET', 'a'],
        // Not FLUSHALL: its null invalidation reaches this RESP2 subscriber as RESP3's `_` from
        // Redis and as `$-1` from Vireo (KNOWN_DIFFERENCES).
      ]);
    });
  });

  it.skipIf(DiffPair.referenceOnly)('Vireo answers only the error when later PREFIX arguments overlap (Redis 7.2 also enables tracking and adds +OK)', async () => {
    const v = await RespClient.connect(pair.ports[1]);
    try {
      expect(toJs(await v.call('CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'a', 'prefix', 'b', 'prefix', 'bc'))).toEqual(
        new Error("ERR Prefix 'b' overlaps with another provided prefix 'bc'. Prefixes for a single client must not overlap."),
      );
      expect(toJs(await v.call('CLIENT', 'TRACKINGINFO'))).toEqual(['flags', ['off'], 'redirect', '-1', 'prefixes', []]);
      expect(toJs(await v.call('PING'))).toBe('PONG');
    } finally {
      v.close();
    }
  });
});

describe('client tracking (Vireo)', () => {
  let h: VireoHandle;
  let clients: RespClient[] = [];
  beforeAll(async () => {
    h = await startVireo();
  });
  afterAll(async () => {
    await h?.stop();
  });
  afterEach(async () => {
    for (const c of clients) c.close();
    clients = [];
    await h.server.config.setMany([['tracking-table-max-keys', '1000000']], { startup: false });
  });

  async function connect(resp3 = true): Promise<RespClient> {
    const c = await RespClient.connect(h.port);
    if (resp3) await c.call('HELLO', '3');
    clients.push(c);
    return c;
  }

  /** The next frame `c` receives, within a second. */
  async function next(c: RespClient): Promise<unknown> {
    return toJs(
      await Promise.race([
        c.read().then((r) => r.reply),
        sleep(1000).then(() => {
          throw new Error('nothing arrived');
        }),
      ]),
    );
  }

  it("scripts: the keys their read-only commands read are remembered (Redis 7.2), not the script's declared keys", async () => {
    const reader = await connect();
    const writer = await connect();
    await reader.call('CLIENT', 'TRACKING', 'on');
    await reader.call('EVAL', "return redis.call('get', 'inside')", '1', 'declared');
    await reader.call('EVAL_RO', "return redis.call('exists', 'ro')", '1', 'declared2');
    await writer.call('MSET', 'declared', '1', 'declared2', '1', 'inside', '1', 'ro', '1');
    expect(await next(reader)).toEqual(['invalidate', ['inside']]);
    expect(await next(reader)).toEqual(['invalidate', ['ro']]);
    expect(toJs(await reader.call('PING'))).toBe('PONG');
  });

  it("a script's writes: the caller's own invalidations follow the script's reply; NOLOOP leaves them out", async () => {
    const c = await connect();
    await c.call('CLIENT', 'TRACKING', 'on');
    await c.call('GET', 'a');
    expect(toJs(await c.call('EVAL', "redis.call('set', 'a', '1') return 'done'", '0'))).toBe('done');
    expect(await next(c)).toEqual(['invalidate', ['a']]);
    await c.call('CLIENT', 'TRACKING', 'on', 'noloop');
    await c.call('GET', 'a');
    await c.call('EVAL', "redis.call('set', 'a', '2')", '0');
    expect(toJs(await c.call('PING'))).toBe('PONG');
  });

  it('a redirect client whose own command changes a key gets the invalidation after its reply (KNOWN_DIFFERENCES)', async () => {
    const tracker = await connect();
    const target = await connect();
    const targetId = String(toJs(await target.call('CLIENT', 'ID')));
    await tracker.call('CLIENT', 'TRACKING', 'on', 'redirect', targetId);
    await tracker.call('MGET', 'a', 'b');
    expect(toJs(await target.call('MULTI'))).toBe('OK');
    await target.call('SET', 'a', '1');
    await target.call('SET', 'b', '1');
    expect(toJs(await target.call('EXEC'))).toEqual(['OK', 'OK']);
    expect(await next(target)).toEqual(['invalidate', ['a']]);
    expect(await next(target)).toEqual(['invalidate', ['b']]);
    await tracker.call('GET', 'a');
    expect(toJs(await target.call('DEL', 'a'))).toBe('1');
    expect(await next(target)).toEqual(['invalidate', ['a']]);
  });

  it('invalidation pushes reach a client under CLIENT REPLY OFF', async () => {
    const reader = await connect();
    const writer = await connect();
    await reader.call('CLIENT', 'TRACKING', 'on');
    await reader.call('GET', 'a');
    reader.writeRaw('*3\r\n$6\r\nCLIENT\r\n$5\r\nREPLY\r\n$3\r\nOFF\r\n');
    await sleep(20);
    await writer.call('SET', 'a', '1');
    expect(await next(reader)).toEqual(['invalidate', ['a']]);
  });

  it('expired keys are invalidated by the active expiry cycle too', async () => {
    const reader = await connect();
    const writer = await connect();
    await reader.call('CLIENT', 'TRACKING', 'on');
    await writer.call('SET', 'short', 'v', 'PX', '20');
    await reader.call('GET', 'short');
    // Nobody touches the key: the cron's cycle deletes it.
    expect(await next(reader)).toEqual(['invalidate', ['short']]);
  });

  it('BCAST: a change made outside any command (expiry) is broadcast', async () => {
    const reader = await connect();
    const writer = await connect();
    await reader.call('CLIENT', 'TRACKING', 'on', 'bcast', 'prefix', 'tmp:');
    await writer.call('SET', 'tmp:1', 'v', 'PX', '20');
    expect(await next(reader)).toEqual(['invalidate', ['tmp:1']]);
    expect(await next(reader)).toEqual(['invalidate', ['tmp:1']]);
  });

  it('CLIENT LIST shows t, R and B and redir= as Redis', async () => {
    const c = await connect();
    const target = await connect(false);
    const targetId = String(toJs(await target.call('CLIENT', 'ID')));
    const line = async () => String(toJs(await c.call('CLIENT', 'INFO')));
    expect(await line()).toMatch(/ flags=N .* redir=-1 /);
    await c.call('CLIENT', 'TRACKING', 'on', 'redirect', targetId);
    expect(await line()).toMatch(new RegExp(` flags=t .* redir=${targetId} `));
    target.close();
    await waitFor('the redirect client to go', async () => !String(toJs(await c.call('CLIENT', 'LIST'))).includes(`id=${targetId} `));
    await c.call('GET', 'k');
    await c.call('SET', 'k', '1');
    expect(await next(c)).toEqual(['tracking-redir-broken', targetId]);
    expect(await line()).toMatch(new RegExp(` flags=tR .* redir=${targetId} `));
    await c.call('CLIENT', 'TRACKING', 'off');
    await c.call('CLIENT', 'TRACKING', 'on', 'bcast');
    expect(await line()).toMatch(/ flags=tB .* redir=0 /);
  });

  it('tracking-table-max-keys: the cron keeps the table within the limit when no command comes', async () => {
    const c = await connect();
    await c.call('CLIENT', 'TRACKING', 'on');
    await c.call('MGET', 'a', 'b', 'c', 'd');
    await h.server.config.setMany([['tracking-table-max-keys', '1']], { startup: false });
    const got: unknown[] = [];
    for (let i = 0; i < 3; i++) got.push(await next(c));
    for (const m of got) expect(m).toEqual(['invalidate', [expect.stringMatching(/^[abcd]$/)]]);
    const plain = await connect(false);
    expect(infoField(await plain.call('INFO', 'stats'), 'tracking_total_keys')).toBe('1');
  });

  it('a replica invalidates its own tracking clients for the writes its primary sends', async () => {
    const replicaHandle = await startVireo();
    try {
      const replica = await RespClient.connect(replicaHandle.port);
      const primary = await connect(false);
      clients.push(replica);
      await replica.call('REPLICAOF', '127.0.0.1', String(h.port));
      await primary.call('SET', 'shared', 'v1');
      await waitInSync(primary, replica);
      await replica.call('HELLO', '3');
      await replica.call('CLIENT', 'TRACKING', 'on');
      expect(toJs(await replica.call('GET', 'shared'))).toBe('v1');
      await primary.call('SET', 'shared', 'v2');
      expect(await next(replica)).toEqual(['invalidate', ['shared']]);
      await replica.call('GET', 'shared');
      await primary.call('FLUSHALL');
      expect(await next(replica)).toEqual(['invalidate', null]);
    } finally {
      await replicaHandle.stop();
    }
  });

  it('node-redis client-side caching (RESP3) serves a cached read and drops it on invalidation', async () => {
    const cache = new BasicClientSideCache({ ttl: 0, maxEntries: 0 });
    const client = createClient({ url: `redis://127.0.0.1:${h.port}`, RESP: 3, clientSideCache: cache });
    const writer = await connect(false);
    await client.connect();
    try {
      await writer.call('SET', 'cached', 'one');
      expect(await client.get('cached')).toBe('one');
      const hitsBefore = cache.stats().hitCount;
      // Served from the cache: the server does not see it.
      const processedBefore = Number(infoField(await writer.call('INFO', 'stats'), 'total_commands_processed'));
      expect(await client.get('cached')).toBe('one');
      expect(cache.stats().hitCount).toBe(hitsBefore + 1);
      const processedAfter = Number(infoField(await writer.call('INFO', 'stats'), 'total_commands_processed'));
      expect(processedAfter).toBe(processedBefore + 1);
      await writer.call('SET', 'cached', 'two');
      await waitFor('the invalidation to reach node-redis', async () => cache.size() === 0);
      expect(await client.get('cached')).toBe('two');
    } finally {
      await client.quit();
    }
  });
});

/** Redis' checkPrefixCollisionsOrReply as written: every pair, the client's prefixes in byte order. */
function naiveCollision(existing: ReadonlySet<string>, prefixes: readonly string[]): string | null {
  const overlap = (a: string, b: string) => a.startsWith(b) || b.startsWith(a);
  const sorted = [...existing].sort();
  for (let i = 0; i < prefixes.length; i++) {
    const old = sorted.find((e) => overlap(e, prefixes[i]!));
    if (old !== undefined) return `ERR Prefix '${prefixes[i]}' overlaps with an existing prefix '${old}'. Prefixes for a single client must not overlap.`;
    for (let j = i + 1; j < prefixes.length; j++) {
      if (overlap(prefixes[i]!, prefixes[j]!)) return `ERR Prefix '${prefixes[i]}' overlaps with another provided prefix '${prefixes[j]}'. Prefixes for a single client must not overlap.`;
    }
  }
  return null;
}

describe('BCAST prefix collisions', () => {
  it("name the same collision as Redis' pairwise check (fast-check)", () => {
    const text = fc.stringMatching(/^[ab]{0,4}$/);
    // The client's prefixes never overlap one another, except '' (BCAST without PREFIX) beside others.
    const existing = fc.tuple(fc.uniqueArray(text.filter((x) => x !== ''), { maxLength: 4 }), fc.boolean()).map(([list, empty]) => {
      const kept: string[] = [];
      for (const e of list) if (!kept.some((k) => k.startsWith(e) || e.startsWith(k))) kept.push(e);
      return new Set(empty ? ['', ...kept] : kept);
    });
    fc.assert(
      fc.property(existing, fc.array(text, { maxLength: 7 }), (old, given) => {
        expect(prefixCollision(old, given)).toBe(naiveCollision(old, given));
      }),
      { numRuns: 2000 },
    );
  });

  it('a command with 200000 prefixes is checked, and a write matched against them, without comparing every pair', async () => {
    const h = await startVireo();
    try {
      const c = await RespClient.connect(h.port);
      const many = Array.from({ length: 200000 }, (_, i) => ['PREFIX', `p${i}:`]).flat();
      // Too many arguments for a spread call: the command is encoded from an array.
      const send = async (args: string[]) => {
        c.writeRaw(encodeCommand(args));
        return toJs((await c.read()).reply);
      };
      expect(await send(['CLIENT', 'TRACKING', 'on', 'BCAST', ...many, 'PREFIX', 'p199999'])).toEqual(
        new Error("ERR Prefix 'p199999:' overlaps with another provided prefix 'p199999'. Prefixes for a single client must not overlap."),
      );
      expect(await send(['CLIENT', 'TRACKING', 'on', 'BCAST', ...many])).toBe('OK');
      expect(infoField(await c.call('INFO', 'stats'), 'tracking_total_prefixes')).toBe('200000');
      await c.call('HELLO', '3');
      await c.call('SET', 'p123:x', '1');
      expect(toJs((await c.read()).reply)).toEqual(['invalidate', ['p123:x']]);
      c.close();
    } finally {
      await h.stop();
    }
  });
});

describe('TrackingTable', () => {
  it('remembers client IDs per key, counts items, forgets a key on take, and picks random keys among those present', () => {
    const t = new TrackingTable();
    t.remember('a', 1);
    t.remember('a', 1);
    t.remember('a', 2);
    t.remember('b', 1);
    t.remember('c', 3);
    expect([t.size, t.items]).toEqual([3, 4]);
    expect(t.take('a')).toEqual(new Set([1, 2]));
    expect(t.take('a')).toBeUndefined();
    expect([t.size, t.items]).toEqual([2, 2]);
    expect(t.take('b')).toBe(1);
    for (let i = 0; i < 20; i++) expect(t.randomKey()).toBe('c');
    t.clear();
    expect([t.size, t.items, t.randomKey()]).toEqual([0, 0, undefined]);
  });
});

