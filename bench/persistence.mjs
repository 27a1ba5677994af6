#!/usr/bin/env node
// Persistence side by side with redis-server under the same settings:
//  - SET throughput with appendonly yes, appendfsync always and everysec
//    (-c 50, -P 1 and -P 16; group commit lets one fsync cover many clients),
//    on one key and with keys spread over 1M names (-r 1000000, judged);
//  - SAVE time and start-up load time of an RDB with 1M keys;
//  - the longest pause clients see while BGSAVE of those keys runs: a PING
//    probe every millisecond, its slowest reply (Redis pays its fork, Vireo
//    the snapshot's slices on the event loop), the main thread's longest
//    pause as the server's latency monitor records it (wall time), and the
//    event loop's CPU time in its longest slice (judged: below 5 ms; wall
//    times here also count waits for the core, which on this VM reach 5 ms
//    with no save running).
// Prints ratios (vireo/redis for throughput, vireo/redis for times).
//
// Usage: npm run bench -- --suite persistence [--quick] [--rounds 3] [--keys 1000000]
//        [--parts set,rdb,pause] (default: all three) [--pause-rounds 5]
//        [--pause-values json] (the pause part on values of ~2 KB of JSON-like
//        text, which LZF works harder on, instead of DEBUG POPULATE's 100 bytes)
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchOnce, cpuMicros, infoAsync, median, options, probePauses, requireTools, row, startServer, threadCpuMicros } from './servers.mjs';

const args = process.argv.slice(2);
const { opt } = options(args);
const quick = args.includes('--quick');
const rounds = Number(opt('rounds', quick ? '1' : '5'));
const requests = Number(opt('requests', quick ? '20000' : '50000'));
const keys = Number(opt('keys', quick ? '200000' : '1000000'));
const parts = new Set(opt('parts', 'set,rdb,pause').split(','));
const pauseRounds = Number(opt('pause-rounds', quick ? '2' : '5'));
const pauseValues = opt('pause-values', 'populate');

requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);

// Judged on keys spread over 1M names (-r): with one key every SET
// rewrites the same entry, which measures the protocol and the log, not the
// keyspace. The targets for appendfsync always: >= 0.9 at -P 1 and
// >= 1.0 at -P 16, where group commit lets one fsync cover many clients.
const TARGETS = { always: { 1: 0.9, 16: 1.0 }, everysec: { 1: 0.9, 16: 0.9 } };
const RANDOM_KEYS = 1000000;

/** SET at one pipeline depth on both servers, keys spread over `random` names (or one key): a table row. */
function measureSet(redis, vireo, policy, pipeline, random) {
  const spread = random ? { random } : {};
  const best = { redis: 0, vireo: 0 };
  // Per-round ratios (both servers back to back): their median is judged.
  const ratios = [];
  const cpuRatios = [];
  for (const s of [redis, vireo]) benchOnce(s, 'set', pipeline, Math.ceil(requests / 5), spread);
  for (let r = 0; r < rounds; r++) {
    const round = {};
    for (const s of r % 2 === 0 ? [redis, vireo] : [vireo, redis]) {
      const [res] = benchOnce(s, 'set', pipeline, pipeline > 1 ? requests * 4 : requests, spread);
      best[s.kind] = Math.max(best[s.kind], res.rps);
      round[s.kind] = res;
    }
    ratios.push(round.vireo.rps / round.redis.rps);
    cpuRatios.push(round.vireo.cpuUs / round.redis.cpuUs);
  }
  const med = median(ratios);
  const target = TARGETS[policy][pipeline];
  const judgedRow = random !== null;
  return row(
    [
      `appendfsync ${policy}`,
      random ? `${random / 1000000}M` : '1',
      pipeline,
      best.redis.toFixed(0),
      best.vireo.toFixed(0),
      (best.vireo / best.redis).toFixed(2),
      med.toFixed(2) + (!judgedRow || med >= target ? '' : ' *'),
      judgedRow ? `>=${target}` : '(1 key)',
      median(cpuRatios).toFixed(2),
      ratios.map((r) => r.toFixed(2)).join(' '),
    ],
    w,
  );
}

const w = [22, 4, 3, 12, 12, 7, 9, 8, 8, 0];
if (parts.has('set')) {
  console.log(row(['SET with appendonly yes', 'keys', 'P', 'redis best', 'vireo best', 'ratio', 'median', 'target', 'cpu/req', 'rounds'], w));
  for (const policy of ['always', 'everysec']) {
    const extra = ['--appendonly', 'yes', '--appendfsync', policy];
    const redis = await startServer('redis', extra);
    const vireo = await startServer('vireo', extra);
    try {
      for (const random of [null, RANDOM_KEYS]) {
        for (const pipeline of [1, 16]) console.log(measureSet(redis, vireo, policy, pipeline, random));
      }
    } finally {
      await redis.stop();
      await vireo.stop();
    }
}
console.log('(keys: 1 = one key, shown but not judged; 1M = -r over 1M names, judged; median: of the per-round ratios;');
console.log(' cpu/req: median of the per-round ratios of server CPU per request, vireo/redis; rounds: each round\'s throughput ratio, in order)');
}

if (parts.has('rdb')) {
  console.log('');
  const w2 = [28, 12, 12, 7, 8];
  console.log(row([`RDB, ${keys} keys (ms)`, 'redis', 'vireo', 'ratio', 'target'], w2));
  const times = { redis: {}, vireo: {} };
  for (const kind of ['redis', 'vireo']) {
    const s = await startServer(kind);
    s.cli('DEBUG', 'POPULATE', String(keys));
    const t0 = performance.now();
    const reply = s.cli('SAVE');
    if (reply !== 'OK') throw new Error(`${kind} SAVE: ${reply}`);
    times[kind].save = performance.now() - t0;
    await s.stop({ keepDir: true });
    // Start-up time with the file, less the start-up time of an empty server.
    const empty = await startServer(kind);
    await empty.stop();
    const loaded = await startServer(kind, [], s.dir);
    const n = Number(/keys=(\d+)/.exec(loaded.cli('INFO', 'keyspace'))?.[1] ?? 0);
    if (n !== keys) throw new Error(`${kind} loaded ${n} keys, expected ${keys}`);
    times[kind].load = Math.max(1, loaded.readyMs - empty.readyMs);
    await loaded.stop();
}
for (const what of ['save', 'load']) {
  const ratio = times.vireo[what] / times.redis[what];
  console.log(row([what, times.redis[what].toFixed(0), times.vireo[what].toFixed(0), ratio.toFixed(2) + (ratio <= 2 ? '' : ' *'), '<=2'], w2));
}
}

if (parts.has('pause')) {
  // A pause depends on what else the core does at that moment (the save's
  // own disk writes, other processes): several BGSAVEs per server, and the
  // median and the worst of their longest replies.
  console.log('');
  const w3 = [34, 12, 12, 8];
  console.log(row([`BGSAVE of ${keys} keys${pauseValues === 'json' ? ' (2 KB JSON)' : ''}: PING (ms), ${pauseRounds} saves`, 'redis', 'vireo', 'target'], w3));
  const pauses = { redis: [], vireo: [] };
  const idle = {};
  for (const kind of ['redis', 'vireo']) {
    const s = await startServer(kind);
    if (pauseValues === 'json') execFileSync('sh', ['-c', `redis-cli -p ${s.port} --pipe < ${jsonDataset(keys)} > /dev/null`]);
    else s.cli('DEBUG', 'POPULATE', String(keys), 'key', '100');
    const saved = async () => /rdb_bgsave_in_progress:0/.test(await infoAsync(s.port, 'persistence'));
    // A first BGSAVE warms the code up (and leaves a dump.rdb to replace, as a save point does).
    s.cli('BGSAVE');
    while (!(await saved())) await new Promise((r) => setTimeout(r, 20));
    // The main thread's own longest pause, from the server's latency monitor
    // (every event of 1 ms or more: Redis' fork inside BGSAVE, Vireo's slices).
    s.cli('CONFIG', 'SET', 'latency-monitor-threshold', '1');
    for (let i = 0; i < pauseRounds; i++) {
      s.cli('LATENCY', 'RESET');
      // What the save costs the main thread (the event loop; Redis' parent, which forks) and the whole server.
      const cpu0 = [threadCpuMicros(s.pid), cpuMicros(s.pid)];
      const t0 = performance.now();
      const probe = await probePauses(s.port, () => s.cli('BGSAVE'), saved);
      probe.wallMs = performance.now() - t0;
      probe.mainCpuMs = (threadCpuMicros(s.pid) - cpu0[0]) / 1000;
      probe.processCpuMs = (cpuMicros(s.pid) - cpu0[1]) / 1000;
      probe.mainThread = longestLatencyEvent(s);
      probe.sliceCpuMs = kind === 'vireo' ? longestSliceCpu(s) : null;
      pauses[kind].push(probe);
    }
    // The floor: as many pings with no save running (the machine's own hiccups, the server's cron).
    const pings = Math.round(median(pauses[kind].map((p) => p.samples)));
    let sent = 0;
    idle[kind] = await probePauses(s.port, () => {}, async () => (sent += 20) >= pings);
    await s.stop();
  }
  const stat = (kind, pick) => pick(pauses[kind].map((p) => p.max));
  const mainThread = (kind, pick) => pick(pauses[kind].map((p) => p.mainThread.ms));
  for (const [label, pick] of [
    ['main thread, longest pause: median', median],
    ['main thread, longest pause: worst', (xs) => Math.max(...xs)],
  ]) {
    console.log(row([label, mainThread('redis', pick).toFixed(1), mainThread('vireo', pick).toFixed(1), ''], w3));
  }
  console.log(row(['  (events: ' + ['redis', 'vireo'].map((k) => [...new Set(pauses[k].map((p) => p.mainThread.event))].join('/')).join(' | ') + ')'], [60]));
  // Judged: the event loop's own work in its longest slice. Wall times on
  // this VM also carry waits for the core (the rows above; the no-save rows
  // below show the machine's own hiccups, which reach 5 ms and more).
  const sliceCpu = pauses.vireo.map((p) => p.sliceCpuMs);
  if (sliceCpu.every((ms) => ms >= 0)) {
    const v = median(sliceCpu);
    console.log(row(['longest slice, event-loop CPU: median', '-', v.toFixed(2) + (v < 5 ? '' : ' *'), '<5'], w3));
    console.log(row(['longest slice, event-loop CPU: worst', '-', Math.max(...sliceCpu).toFixed(2), ''], w3));
  } else {
    console.log(row(['longest slice, event-loop CPU: no thread clock (native addon not built)'], [60]));
  }
  const rows = [
    ['PING: longest reply, median of saves', (xs) => median(xs), false],
    ['PING: longest reply, worst save', (xs) => Math.max(...xs), false],
    ['PING: 99th percentile, median of saves', null, false],
  ];
  for (const [label, pick, judgedRow] of rows) {
    const r = pick === null ? median(pauses.redis.map((p) => p.p99)) : stat('redis', pick);
    const v = pick === null ? median(pauses.vireo.map((p) => p.p99)) : stat('vireo', pick);
    console.log(row([label, r.toFixed(2), v.toFixed(2) + (!judgedRow || v < 5 ? '' : ' *'), judgedRow ? '<5' : ''], w3));
  }
  for (const [label, pick] of [
    ['save: wall time (ms), median', (p) => p.wallMs],
    ['save: main thread CPU (ms), median', (p) => p.mainCpuMs],
    ['save: server process CPU (ms), median', (p) => p.processCpuMs],
  ]) {
    console.log(row([label, median(pauses.redis.map(pick)).toFixed(0), median(pauses.vireo.map(pick)).toFixed(0), ''], w3));
  }
  console.log(row(['  (redis-server: its fork child is another process, not counted)'], [60]));
  console.log(row(['no save: longest reply', idle.redis.max.toFixed(2), idle.vireo.max.toFixed(2), ''], w3));
  console.log(row(['no save: 99th percentile', idle.redis.p99.toFixed(2), idle.vireo.p99.toFixed(2), ''], w3));
}
console.log('(* outside target)');

/**
 * The longest event the server's latency monitor recorded since the last
 * LATENCY RESET (whole ms, as the monitor keeps them; 0 when nothing took 1 ms).
 */
function longestLatencyEvent(s) {
  const lines = s.cli('LATENCY', 'LATEST').split('\n').filter(Boolean);
  let best = { event: '-', ms: 0 };
  for (let i = 0; i + 3 < lines.length; i += 4) {
    const ms = Number(lines[i + 3]);
    if (ms > best.ms) best = { event: lines[i], ms };
  }
  return best;
}

/** The last BGSAVE's longest slice in event-loop CPU ms (Vireo's INFO persistence; -1 without the native addon). */
function longestSliceCpu(s) {
  return Number(/vireo_rdb_last_bgsave_longest_slice_cpu_ms:([\d.-]+)/.exec(s.cli('INFO', 'persistence'))?.[1] ?? -1);
}

/**
 * A file of SET commands (RESP, for redis-cli --pipe): `n` keys `doc:<i>`,
 * each a ~2 KB JSON-like object of random words and numbers from a fixed
 * seed (both servers get the same bytes). Written once per run.
 */
function jsonDataset(n) {
  const file = path.join(os.tmpdir(), `bench-json-${n}-${process.pid}.resp`);
  if (fs.existsSync(file)) return file;
  const words = ['alpha', 'beta', 'gamma', 'delta', 'user', 'order', 'status', 'shipped', 'pending', 'price', 'quantity', 'address', 'street', 'city', 'zip'];
  let seed = 1;
  const rnd = (m) => Math.floor(((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000) * m);
  const out = fs.openSync(file, 'w');
  let batch = [];
  for (let i = 0; i < n; i++) {
    const fields = [];
    let len = 2;
    while (len < 2000) {
      const f = `"${words[rnd(words.length)]}_${rnd(1000)}":"${words[rnd(words.length)]}${rnd(100000)}"`;
      fields.push(f);
      len += f.length + 1;
    }
    const v = `{${fields.join(',')}}`;
    const k = `doc:${i}`;
    batch.push(`*3\r\n$3\r\nSET\r\n$${k.length}\r\n${k}\r\n$${v.length}\r\n${v}\r\n`);
    if (batch.length === 10000) {
      fs.writeSync(out, batch.join(''));
      batch = [];
    }
  }
  fs.writeSync(out, batch.join(''));
  fs.closeSync(out);
  process.once('exit', () => fs.rmSync(file, { force: true }));
  return file;
}
