// SLOWLOG, LATENCY and INFO latencystats against redis-server: the same
// commands on both, then the entries compared field by field where the two
// servers must agree (arguments, client names, counts, reply shapes) and
// checked for sense where they cannot (ids, times, durations, ports).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';
import { infoField, waitFor } from './helpers/info.js';

type Entry = [string, string, string, string[], string, string];

describe.skipIf(!HAVE_REDIS)('SLOWLOG, LATENCY, INFO latencystats (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });
  beforeEach(async () => {
    await pair.check('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
    await pair.check('CONFIG', 'SET', 'slowlog-max-len', '128');
    await pair.check('SLOWLOG', 'RESET');
    await pair.check('LATENCY', 'RESET');
  });

  /** Both servers' SLOWLOG GET -1, as [entries of redis, entries of vireo]. */
  async function entries(): Promise<[Entry[], Entry[]]> {
    const [a, b] = await Promise.all([pair.redis.call('SLOWLOG', 'GET', '-1'), pair.vireo.call('SLOWLOG', 'GET', '-1')]);
    return [toJs(a) as Entry[], toJs(b) as Entry[]];
  }

  /** What both must agree on: the arguments and the client name, newest first. */
  const comparable = (list: Entry[]): [string[], string][] => list.map((e) => [e[3], e[5]]);

  it('logs every command at threshold 0 (not EXEC, yes what it ran), arguments cut as Redis cuts them, passwords redacted', async () => {
    await pair.check('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await pair.check('CLIENT', 'SETNAME', 'logger');
    await pair.check('SET', 'k', 'v'.repeat(300));
    await pair.check('RPUSH', 'list', ...Array.from({ length: 40 }, (_, i) => `e${i}`));
    await pair.check('AUTH', 'user', 'secret');
    await pair.check('HELLO', '2', 'AUTH', 'default', 'pw', 'SETNAME', 'again');
    await pair.check('ACL', 'SETUSER', 'someone', 'on', '>hunter2', '~*', '+get');
    // Parameters Redis marks sensitive show (redacted) in place of their values.
    await pair.check('CONFIG', 'SET', 'masterauth', 'secret', 'hz', '10');
    await pair.check('MULTI');
    await pair.check('INCR', 'n');
    await pair.check('GET', 'k');
    await pair.check('EXEC');
    await pair.check('CLIENT', 'SETNAME', 'logger');
    const [a, b] = await entries();
    expect(comparable(b)).toEqual(comparable(a));
    expect(b.length).toBeGreaterThan(8);
    // What the comparison relies on, stated plainly.
    const flat = JSON.stringify(b);
    expect(flat).toContain(`${'v'.repeat(128)}... (172 more bytes)`);
    expect(flat).toContain('... (11 more arguments)');
    expect(flat).not.toContain('secret');
    expect(flat).not.toContain('"pw"');
    expect(flat).not.toContain('hunter2');
    for (const e of b) {
      expect(Number(e[0])).toBeGreaterThanOrEqual(0);
      expect(Math.abs(Number(e[1]) - Date.now() / 1000)).toBeLessThan(60);
      expect(Number(e[2])).toBeGreaterThanOrEqual(0);
      expect(e[4]).toMatch(/^127\.0\.0\.1:\d+$/);
    }
    // Ids grow with time: newest first.
    expect(b.map((e) => Number(e[0]))).toEqual([...b.map((e) => Number(e[0]))].sort((x, y) => y - x));
  });

  it('the commands a script runs are logged too, from the script client (?:0, no name), before the script', async () => {
    await pair.check('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await pair.check('EVAL', "redis.call('set', KEYS[1], '1') return redis.pcall('get', KEYS[1])", '1', 'e');
    await pair.check('FUNCTION', 'LOAD', 'REPLACE', "#!lua name=slow\nredis.register_function('f', function(keys) return redis.call('incr', keys[1]) end)");
    await pair.check('FCALL', 'f', '1', 'cnt');
    const [a, b] = await entries();
    expect(comparable(b)).toEqual(comparable(a));
    expect(b.filter((e) => e[4] === '?:0').map((e) => e[3][0])).toEqual(['incr', 'get', 'set']);
  });

  it('SLOWLOG GET count, LEN, RESET, max-len, a negative threshold, HELP and errors', async () => {
    await pair.check('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    for (let i = 0; i < 5; i++) await pair.check('SET', `k${i}`, 'v');
    await pair.check('CONFIG', 'SET', 'slowlog-max-len', '3');
    await pair.check('PING');
    await pair.check('SLOWLOG', 'LEN');
    const [a, b] = await Promise.all([pair.redis.call('SLOWLOG', 'GET', '2'), pair.vireo.call('SLOWLOG', 'GET', '2')]);
    expect(comparable(toJs(b) as Entry[])).toEqual(comparable(toJs(a) as Entry[]));
    await pair.check('SLOWLOG', 'GET', '0');
    await pair.check('SLOWLOG', 'GET', '-2');
    await pair.check('SLOWLOG', 'GET', 'x');
    await pair.check('SLOWLOG', 'GET', '1', '2');
    await pair.check('SLOWLOG', 'LEN', 'x');
    await pair.check('SLOWLOG', 'RESET');
    await pair.check('SLOWLOG', 'LEN');
    await pair.check('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
    await pair.check('SET', 'x', 'y');
    await pair.check('SLOWLOG', 'LEN');
    await pair.check('SLOWLOG', 'HELP');
    await pair.check('SLOWLOG', 'NOSUCH');
  });

  it('the default threshold (10 ms) keeps quick commands out; a slow one is logged with its duration', async () => {
    await pair.check('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    await pair.check('SET', 'quick', '1');
    await pair.check('DEBUG', 'SLEEP', '0.03');
    const [a, b] = await entries();
    expect(comparable(b)).toEqual(comparable(a));
    expect(b).toHaveLength(1);
    expect(Number(b[0]![2])).toBeGreaterThanOrEqual(30000);
  });

  it('LATENCY: the monitor records a slow command event; LATEST, HISTORY, RESET; HELP and errors', async () => {
    await pair.check('LATENCY', 'LATEST');
    await pair.check('LATENCY', 'HISTORY', 'command');
    await pair.check('CONFIG', 'SET', 'latency-monitor-threshold', '10');
    await pair.check('DEBUG', 'SLEEP', '0.02');
    const [a, b] = await Promise.all([pair.redis.call('LATENCY', 'LATEST'), pair.vireo.call('LATENCY', 'LATEST')]);
    const latest = (r: unknown) => (r as [string, string, string, string][]).map((e) => e[0]);
    expect(latest(toJs(b))).toEqual(latest(toJs(a)));
    const [event, time, ms, max] = (toJs(b) as string[][])[0]!;
    expect(event).toBe('command');
    expect(Math.abs(Number(time) - Date.now() / 1000)).toBeLessThan(60);
    expect(Number(ms)).toBeGreaterThanOrEqual(20);
    expect(Number(max)).toBe(Number(ms));
    const history = toJs(await pair.vireo.call('LATENCY', 'HISTORY', 'command')) as string[][];
    expect(history).toHaveLength(1);
    expect(history[0]![1]).toBe(ms);
    await pair.check('LATENCY', 'RESET', 'nosuch', 'command');
    await pair.check('LATENCY', 'LATEST');
    await pair.check('LATENCY', 'RESET');
    await pair.check('CONFIG', 'SET', 'latency-monitor-threshold', '0');
    await pair.check('LATENCY', 'HELP');
    await pair.check('LATENCY', 'HISTORY');
    await pair.check('LATENCY', 'NOSUCH');
  });

  it('LATENCY HISTOGRAM: calls and cumulative power-of-two buckets per command, subcommands of a container', async () => {
    await pair.check('CONFIG', 'RESETSTAT');
    for (let i = 0; i < 20; i++) await pair.check('SET', `h${i}`, 'v');
    await pair.check('CONFIG', 'GET', 'maxmemory');
    await pair.check('LATENCY', 'HISTOGRAM', 'nosuch');
    const [a, b] = await Promise.all([pair.redis.call('LATENCY', 'HISTOGRAM', 'set', 'config', 'nosuch'), pair.vireo.call('LATENCY', 'HISTOGRAM', 'set', 'config', 'nosuch')]);
    const shape = (r: unknown) => {
      const flat = r as (string | (string | string[])[])[];
      const out: Record<string, { calls: string; buckets: number[][] }> = {};
      for (let i = 0; i < flat.length; i += 2) {
        const body = flat[i + 1] as (string | string[])[];
        const hist = body[3] as string[];
        const buckets: number[][] = [];
        for (let j = 0; j < hist.length; j += 2) buckets.push([Number(hist[j]), Number(hist[j + 1])]);
        out[flat[i] as string] = { calls: body[1] as string, buckets };
      }
      return out;
    };
    const ra = shape(toJs(a));
    const rb = shape(toJs(b));
    expect(Object.keys(rb).sort()).toEqual(Object.keys(ra).sort());
    // RESETSTAT itself is timed after it cleared the histograms.
    expect(Object.keys(rb).sort()).toEqual(['config|get', 'config|resetstat', 'set']);
    for (const [name, h] of Object.entries(rb)) {
      expect(h.calls).toBe(ra[name]!.calls);
      // Bounds grow (powers of two in ns from 1024, printed in µs: 1, 2, 4, ... 33, 66), counts grow, the last is every call.
      for (let i = 1; i < h.buckets.length; i++) {
        expect(h.buckets[i]![0]).toBeGreaterThan(h.buckets[i - 1]![0]!);
        expect(h.buckets[i]![1]).toBeGreaterThan(h.buckets[i - 1]![1]!);
      }
      expect(String(h.buckets.at(-1)![1])).toBe(h.calls);
    }
  });

  it('INFO latencystats: a line per command run, the configured percentiles; latency-tracking no stops it', async () => {
    await pair.check('CONFIG', 'RESETSTAT');
    await pair.check('SET', 'a', '1');
    await pair.check('GET', 'a');
    await pair.check('CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99.99 100');
    const lines = async (c: RespClient) =>
      (toJs(await c.call('INFO', 'latencystats')) as string)
        .split('\r\n')
        .filter((l) => l.startsWith('latency_percentiles_usec_'))
        .map((l) => l.split(':'));
    const [a, b] = await Promise.all([lines(pair.redis), lines(pair.vireo)]);
    expect(b.map((l) => l[0]).sort()).toEqual(a.map((l) => l[0]).sort());
    for (const [, value] of b) expect(value).toMatch(/^p50=\d+\.\d{3},p99\.99=\d+\.\d{3},p100=\d+\.\d{3}$/);
    await pair.check('CONFIG', 'SET', 'latency-tracking', 'no');
    await pair.check('CONFIG', 'RESETSTAT');
    await pair.check('GET', 'a');
    expect(await lines(pair.vireo)).toEqual(await lines(pair.redis));
    await pair.check('CONFIG', 'SET', 'latency-tracking', 'yes');
    await pair.check('CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9');
  });

  it("Vireo's own event: V8 collector pauses as `gc` (observed only while the monitor is on)", async () => {
    const v = pair.vireo;
    await v.call('CONFIG', 'SET', 'latency-monitor-threshold', '1');
    let events: string[] = [];
    for (let i = 0; i < 10 && !events.includes('gc'); i++) {
      await v.call('DEBUG', 'POPULATE', '200000', `gc${i}:`, '100');
      await v.call('FLUSHALL');
      events = (toJs(await v.call('LATENCY', 'LATEST')) as string[][]).map((e) => e[0]!);
    }
    expect(events).toContain('gc');
    expect(events).toContain('command');
    await v.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
    await v.call('LATENCY', 'RESET');
  });

  it("Vireo's own event: each slice of a background snapshot as `snapshot-slice`", async () => {
    const v = pair.vireo;
    await v.call('CONFIG', 'SET', 'latency-monitor-threshold', '1');
    await v.call('DEBUG', 'POPULATE', '300000', 'snap:', '100');
    // Slices run up to 5 ms each: a dataset this size takes many, some of them at least 1 ms.
    await v.call('BGSAVE');
    await waitFor('the background save', async () => infoField(await v.call('INFO', 'persistence'), 'rdb_bgsave_in_progress') === '0');
    const events = (toJs(await v.call('LATENCY', 'LATEST')) as string[][]).map((e) => e[0]!);
    expect(events).toContain('snapshot-slice');
    const history = toJs(await v.call('LATENCY', 'HISTORY', 'snapshot-slice')) as number[][];
    expect(history.length).toBeGreaterThan(0);
    await v.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
    await v.call('LATENCY', 'RESET');
    await v.call('FLUSHALL');
  });
});
