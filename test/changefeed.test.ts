/**
 * The durable change feed (changefeed-* parameters, README "Change feed"):
 * keyspace events appended to a stream key that consumers read with
 * XREADGROUP, surviving their restarts and the server's (kill -9 under
 * appendfsync always), replicated, capped, and never fed back into itself.
 */

import { describe, expect, it } from 'vitest';
import { useCleanups, js } from './helpers/cleanups.js';
import { RespClient, toJs } from './helpers/resp.js';
import { HAVE_REDIS, startRedis, startVireo, startVireoProcess } from './helpers/servers.js';
import { waitInSync } from './helpers/replication.js';

const { track, client } = useCleanups();

type Entry = [id: string, fields: string[]];

/** The feed's entries as [db, key, event] triples. */
async function feedEvents(c: RespClient, key = 'feed'): Promise<string[][]> {
  const entries = (await js(c, 'XRANGE', key, '-', '+')) as Entry[];
  return entries.map(([, f]) => {
    expect(f.filter((_, i) => i % 2 === 0)).toEqual(['db', 'key', 'event']);
    return [f[1]!, f[3]!, f[5]!];
  });
}

/** A mixed workload over several types and databases, with an expiry. */
const WORKLOAD: string[][] = [
  ['SET', 'a', '1'],
  ['INCR', 'a'],
  ['SELECT', '2'],
  ['LPUSH', 'l', 'x', 'y'],
  ['EXPIRE', 'l', '100'],
  ['LPOP', 'l', '2'],
  ['SELECT', '0'],
  ['HSET', 'h', 'f', 'v', 'g', 'w'],
  ['HDEL', 'h', 'f'],
  ['SADD', 's', 'm'],
  ['ZADD', 'z', '1', 'm'],
  ['RENAME', 'a', 'b'],
  ['SET', 'short', 'v', 'PX', '1'],
  ['XADD', 'st', '*', 'f', 'v'],
  ['DEL', 'h', 'b', 'missing'],
  ['MULTI'],
  ['SET', 'in-tx', '1'],
  ['APPEND', 'in-tx', '2'],
  ['EXEC'],
  ['EVAL', "redis.call('set', KEYS[1], 'x') return redis.call('del', KEYS[1])", '1', 'scripted'],
];

async function runWorkload(c: RespClient): Promise<void> {
  for (const argv of WORKLOAD) {
    await c.call(...argv);
    if (!argv.includes('PX')) continue;
    // Expired by now: the next command (or the active expiry before it) deletes it.
    await new Promise((r) => setTimeout(r, 20));
    await c.call('GET', argv[1]!);
  }
}

describe('change feed', () => {
  it.skipIf(!HAVE_REDIS)("records the events redis-server notifies, in its order, as db/key/event entries", async () => {
    const redis = track(await startRedis({ 'notify-keyspace-events': 'EA' }));
    const v = track(await startVireo({ 'changefeed-key': 'feed' }));
    const sub = await client(redis.port);
    await sub.call('PSUBSCRIBE', '__keyevent@*__:*');
    await runWorkload(await client(redis.port));
    // The redis-server side: its keyevent notifications, up to the script's last one.
    const expected: string[][] = [];
    for (;;) {
      const r = toJs((await sub.read()).reply) as string[];
      if (r[0] !== 'pmessage') continue;
      const m = /^__keyevent@(\d+)__:(.+)$/.exec(r[2]!)!;
      expected.push([m[1]!, r[3]!, m[2]!]);
      if (r[3] === 'scripted' && m[2] === 'del') break;
    }
    const c = await client(v.port);
    await runWorkload(c);
    expect(expected.length).toBeGreaterThan(15);
    expect(await feedEvents(c)).toEqual(expected);
  });

  it('a consumer group misses nothing across its own restart and a kill -9 of the server', async () => {
    const s = track(await startVireoProcess(['--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--changefeed-key', 'feed']));
    let c = await client(s.port);
    expect(await js(c, 'XGROUP', 'CREATE', 'feed', 'g', '$', 'MKSTREAM')).toBe('OK');
    for (let i = 0; i < 10; i++) await c.call('SET', `k${i}`, 'v');
    // The consumer reads four, acknowledges two, then dies with the server.
    const first = (await js(c, 'XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '4', 'STREAMS', 'feed', '>')) as [string, Entry[]][];
    const ids = first[0]![1].map(([id]) => id);
    expect(await js(c, 'XACK', 'feed', 'g', ids[0]!, ids[1]!)).toBe('2');
    await s.kill();
    const again = track(await startVireoProcess(['--appendonly', 'yes', '--appendfsync', 'always', '--save', '', '--changefeed-key', 'feed'], { dir: s.dir }));
    c = await client(again.port);
    // Replaying the log did not feed the events a second time.
    expect(await js(c, 'XLEN', 'feed')).toBe('10');
    const pending = (await js(c, 'XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'feed', '0')) as [string, Entry[]][];
    expect(pending[0]![1].map(([id]) => id)).toEqual([ids[2], ids[3]]);
    await c.call('DEL', 'k0');
    const rest = (await js(c, 'XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'feed', '>')) as [string, Entry[]][];
    const keys = rest[0]![1].map(([, f]) => `${f[3]} ${f[5]}`);
    expect(keys).toEqual(['k4 set', 'k5 set', 'k6 set', 'k7 set', 'k8 set', 'k9 set', 'k0 del']);
  });

  it('wakes a consumer blocked on the feed, and never records its own entries', async () => {
    const v = track(await startVireo({ 'changefeed-key': 'feed' }));
    const c = await client(v.port);
    const waiter = await client(v.port);
    await c.call('XGROUP', 'CREATE', 'feed', 'g', '$', 'MKSTREAM');
    const blocked = waiter.call('XREADGROUP', 'GROUP', 'g', 'w', 'BLOCK', '0', 'STREAMS', 'feed', '>');
    await new Promise((r) => setTimeout(r, 50));
    await c.call('SADD', 'set', 'a');
    const got = toJs(await blocked) as [string, Entry[]][];
    expect(got[0]![1][0]![1]).toEqual(['db', '0', 'key', 'set', 'event', 'sadd']);
    // Reading and acknowledging the feed changes it: none of that is fed back.
    await c.call('XACK', 'feed', 'g', got[0]![1][0]![0]);
    await c.call('XADD', 'feed', '*', 'by', 'hand');
    expect(await feedEvents(c).catch(() => null)).toBe(null); // the hand-made entry has other fields
    expect(await js(c, 'XLEN', 'feed')).toBe('2');
  });

  it('stays near changefeed-maxlen, and refuses bad parameters', async () => {
    const v = track(await startVireo({ 'changefeed-key': 'feed', 'changefeed-maxlen': '50', 'stream-node-max-entries': '10' }));
    const c = await client(v.port);
    for (let i = 0; i < 500; i++) await c.call('SET', `k${i % 7}`, String(i));
    const len = Number(await js(c, 'XLEN', 'feed'));
    expect(len).toBeGreaterThanOrEqual(50);
    expect(len).toBeLessThanOrEqual(60);
    expect(await js(c, 'CONFIG', 'SET', 'changefeed-events', 'Km')).toBeInstanceOf(Error);
    expect(await js(c, 'CONFIG', 'SET', 'changefeed-db', '16')).toBeInstanceOf(Error);
    expect(await js(c, 'CONFIG', 'SET', 'changefeed-events', 'g')).toBe('OK');
    expect(await js(c, 'CONFIG', 'GET', 'changefeed-events')).toEqual(['changefeed-events', 'g']);
    await c.call('SET', 'k0', 'only-generic-events-now');
    await c.call('DEL', 'k0');
    const last = (await feedEvents(c)).at(-1);
    expect(last).toEqual(['0', 'k0', 'del']);
    // Off: nothing more is added.
    expect(await js(c, 'CONFIG', 'SET', 'changefeed-key', '')).toBe('OK');
    const before = await js(c, 'XLEN', 'feed');
    await c.call('DEL', 'k1');
    expect(await js(c, 'XLEN', 'feed')).toBe(before);
  });

  it('a feed key holding another type loses the entries (counted in INFO), not the writes', async () => {
    const v = track(await startVireo({ 'changefeed-key': 'feed' }));
    const c = await client(v.port);
    await c.call('SET', 'feed', 'not a stream');
    expect(await js(c, 'SET', 'x', '1')).toBe('OK');
    expect(await js(c, 'GET', 'x')).toBe('1');
    const info = (await js(c, 'INFO', 'stats')) as string;
    expect(info).toMatch(/vireo_changefeed_entries_lost:1\r\n/);
  });

  it("a replica holds the primary's feed and adds nothing of its own", async () => {
    const primary = track(await startVireoProcess(['--save', '', '--changefeed-key', 'feed']));
    const replica = track(await startVireoProcess(['--save', '', '--changefeed-key', 'feed', '--replicaof', '127.0.0.1', String(primary.port)]));
    const p = await client(primary.port);
    const r = await client(replica.port);
    for (let i = 0; i < 20; i++) await p.call('SET', `k${i}`, 'v', ...(i % 5 === 0 ? ['PX', '1'] : []));
    await new Promise((res) => setTimeout(res, 20));
    await p.call('MGET', 'k0', 'k5'); // the primary expires them and feeds `expired`
    await waitInSync(p, r);
    const primaryFeed = await js(p, 'XRANGE', 'feed', '-', '+');
    const events = await feedEvents(p);
    expect(events.filter(([, , e]) => e === 'set').length).toBe(20);
    expect(events.filter(([, , e]) => e === 'expire').length).toBe(4);
    expect(events).toContainEqual(['0', 'k0', 'expired']);
    expect(events).toContainEqual(['0', 'k5', 'expired']);
    expect(await js(r, 'XRANGE', 'feed', '-', '+')).toEqual(primaryFeed);
  });
});
