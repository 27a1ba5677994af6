// LATENCY DOCTOR and LATENCY GRAPH against redis-server: the same slow
// commands on both, then the texts compared with only the measured numbers
// (milliseconds, ages) masked; the advice for Vireo's own events (gc,
// aof-write) and the graph's layout for long series checked on Vireo.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import { toJs, type Reply } from './helpers/resp.js';
import { LatencyMonitor, LatencySeries } from '../src/diagnostics/latency-monitor.js';
import { latencyDoctorReport, latencyGraph } from '../src/diagnostics/latency-report.js';

function text(r: Reply): string {
  const v = toJs(r);
  if (typeof v !== 'string') throw new Error(`not a text reply: ${JSON.stringify(r)}`);
  return v;
}

/** The doctor's report with its measured numbers masked. */
const maskDoctor = (s: string) => s.replace(/\d+ms/g, 'Nms').replace(/period [\d.]+ sec/g, 'period N sec');

/**
 * Vireo's report without its own `gc` event: Vireo runs in this process,
 * and a collection of the test process past the threshold (under a loaded
 * CI machine) is a spike redis-server has no counterpart for. Its entry and
 * its advice go, the other entries are numbered again.
 */
function withoutGcEvent(s: string): string {
  let n = 0;
  return s
    .split('\n')
    .filter((l) => !/^\d+\. gc: /.test(l) && !l.startsWith("- V8's garbage collector paused the server"))
    .map((l) => l.replace(/^\d+\. /, () => `${++n}. `))
    .join('\n');
}

/** The graph with its header's milliseconds and the age labels' digits masked (the layout stays). */
function maskGraph(s: string): string {
  const lines = s.split('\n');
  lines[0] = lines[0]!.replace(/\d+ ms/g, 'N ms');
  return lines.map((l, i) => (i < 7 ? l : l.replace(/\d/g, '9'))).join('\n');
}

describe.skipIf(!HAVE_REDIS)('LATENCY DOCTOR / GRAPH (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });
  beforeEach(async () => {
    await pair.check('CONFIG', 'SET', 'latency-monitor-threshold', '0');
    await pair.check('CONFIG', 'SET', 'slowlog-log-slower-than', '10000');
    // Not compared: an earlier test's command may have passed the threshold on one server only
    // (Vireo runs in this process, whose own pauses and first-run compilations it measures).
    await Promise.all([pair.redis.call('LATENCY', 'RESET'), pair.vireo.call('LATENCY', 'RESET')]);
  });

  it('answers as Redis with the monitor off, with no spikes, and for unknown events', async () => {
    await pair.check('LATENCY', 'DOCTOR');
    await pair.check('CONFIG', 'SET', 'latency-monitor-threshold', '10');
    await pair.check('LATENCY', 'DOCTOR');
    await pair.check('LATENCY', 'GRAPH', 'command');
    await pair.check('LATENCY', 'GRAPH');
    await pair.check('LATENCY', 'GRAPH', 'a', 'b');
    await pair.check('LATENCY', 'DOCTOR', 'extra');
  });

  it('reports slow commands and graphs them with the layout of Redis', async () => {
    // 15 ms: the two sleeps pass it; the in-process Vireo's other commands, slowed by a loaded CI machine, should not.
    await pair.check('CONFIG', 'SET', 'latency-monitor-threshold', '15');
    await pair.check('DEBUG', 'SLEEP', '0.02');
    // The next sample in another second: a new point of the graph.
    await new Promise((r) => setTimeout(r, 1100));
    await pair.check('DEBUG', 'SLEEP', '0.08');
    for (const slowlog of ['10000', '-1', '1000']) {
      await pair.check('CONFIG', 'SET', 'slowlog-log-slower-than', slowlog);
      const [a, b] = await Promise.all([pair.redis.call('LATENCY', 'DOCTOR'), pair.vireo.call('LATENCY', 'DOCTOR')]);
      expect(maskDoctor(withoutGcEvent(text(b)))).toBe(maskDoctor(text(a)));
    }
    const [a, b] = await Promise.all([pair.redis.call('LATENCY', 'GRAPH', 'command'), pair.vireo.call('LATENCY', 'GRAPH', 'command')]);
    expect(b.type).toBe(a.type);
    expect(maskGraph(text(b))).toBe(maskGraph(text(a)));
    expect(text(b).split('\n').slice(2, 6)).toEqual(['#', '|', '|', '_|'].map((l) => l.padStart(2, ' ').padEnd(2, ' ')));
  });

  it("advises in V8 terms on Vireo's gc event, and as Redis on aof-fsync-always and expire-cycle", async () => {
    const monitor = pair.vireoServer.server.latencyMonitor;
    const v = pair.vireo;
    await v.call('CONFIG', 'SET', 'latency-monitor-threshold', '5');
    monitor.add('gc', 42);
    let report = text(await v.call('LATENCY', 'DOCTOR'));
    // Entries are matched by event, not by number: a real command of the in-process server may pass the threshold too under load.
    expect(report).toMatch(/^Dave, I have observed latency spikes in this Redis instance\. You don't mind talking about it, do you Dave\?\n\n/);
    expect(report).toMatch(/\n\d+\. gc: 1 latency spikes \(average 42ms, mean deviation 0ms, period 1\.00 sec\)\. Worst all time event 42ms\.\n/);
    expect(report).toContain("\nI have a few advices for you:\n\n- V8's garbage collector paused the server (the 'gc' event).");
    expect(report).toContain('--max-semi-space-size');
    monitor.add('aof-fsync-always', 12);
    report = text(await v.call('LATENCY', 'DOCTOR'));
    expect(report).not.toContain("Your fsync policy is set to 'always'");
    await v.call('CONFIG', 'SET', 'appendfsync', 'always');
    report = text(await v.call('LATENCY', 'DOCTOR'));
    expect(report).toContain("- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n");
    await v.call('CONFIG', 'SET', 'appendfsync', 'everysec');
    monitor.add('expire-cycle', 30);
    report = text(await v.call('LATENCY', 'DOCTOR'));
    expect(report).toMatch(/\n\d+\. expire-cycle: 1 latency spikes/);
    expect(report).toContain("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n");
    await v.call('CONFIG', 'SET', 'hz', '100');
    report = text(await v.call('LATENCY', 'DOCTOR'));
    expect(report).not.toContain("'CONFIG SET hz 100'");
    await v.call('CONFIG', 'SET', 'hz', '10');
  });
});

describe('LATENCY GRAPH layout', () => {
  const NOW = 1_000_000;

  function seriesOf(points: [age: number, ms: number][]): LatencySeries {
    const s = new LatencySeries();
    for (const [age, ms] of points) s.add(NOW - age, ms);
    return s;
  }

  it('labels ages in seconds, minutes, hours and days, written downwards under a blank line', () => {
    const g = latencyGraph('ev', seriesOf([[2 * 86400, 10], [3 * 3600, 20], [5 * 60, 30], [7, 40]]), NOW);
    expect(g).toBe(
      'ev - high 40 ms, low 10 ms (all time high 40 ms)\n' +
        '-'.repeat(80) +
        '\n' +
        // Steps 0, 4, 8, 11 of 12 over four rows of "_o#" with '|' below a bar's top.
        '   #\n' +
        '  #|\n' +
        ' o||\n' +
        '_|||\n' +
        '    \n' +
        '2357\n' +
        'dhms\n',
    );
  });

  it('splits more than 80 samples into bands of 80 columns separated by a blank line', () => {
    const points: [number, number][] = [];
    for (let i = 0; i < 85; i++) points.push([85 - i, i]);
    const lines = latencyGraph('ev', seriesOf(points), NOW).split('\n');
    expect(lines[0]).toBe('ev - high 84 ms, low 0 ms (all time high 84 ms)');
    // Four rows of bars, the blank line, three rows of labels ("1m" for 85 to 60 seconds ago, "59s" ... "10s", "9s" ... "6s").
    const first = lines.slice(2, 10);
    expect(first.every((l) => l.length === 80)).toBe(true);
    expect(first[5]).toBe('1'.repeat(26) + '5'.repeat(10) + '4'.repeat(10) + '3'.repeat(10) + '2'.repeat(10) + '1'.repeat(10) + '9876');
    expect(first[7]).toBe(' '.repeat(26) + 's'.repeat(50) + ' '.repeat(4));
    expect(lines[10]).toBe('');
    const second = lines.slice(11, 18);
    expect(second.every((l) => l.length === 5)).toBe(true);
    expect(second.slice(5)).toEqual(['54321', 'sssss']);
    expect(lines.slice(18)).toEqual(['']);
  });

  it('the doctor without events but with the monitor on says so; a disabled monitor asks to enable it', () => {
    const m = new LatencyMonitor();
    const cfg = { thresholdMs: 0, slowlogSlowerThanUs: 10000, appendfsync: 'everysec', hz: 10 };
    expect(latencyDoctorReport(m, cfg)).toMatch(/^I'm sorry, Dave, I can't do that\./);
    expect(latencyDoctorReport(m, { ...cfg, thresholdMs: 1 })).toMatch(/^Dave, no latency spike was observed/);
    m.add('unknown-event', 3);
    expect(latencyDoctorReport(m, cfg)).toContain("\nWhile there are latency events logged, I'm not able to suggest any easy fix.");
  });
});
