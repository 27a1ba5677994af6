#!/usr/bin/env node
// io-threads, measured: redis-benchmark SET and GET over 1M names
// (-r 1000000, -c 50; GET after all 1M names were loaded, so that it finds
// what it reads) at -P 1 and -P 16 against Vireo with io-threads 1, 2
// and 4 and against redis-server (io-threads 1, and 4 with --redis-io-threads),
// in the same run: every layout's server up at once, each test run on
// each of them back to back, for --rounds rounds (default 3, alternating
// the order), medians reported. A server is pinned to the cores its
// layout names, the benchmark to core 1.
//
// Per row: throughput, p50/p99 latency, the server's CPU per request split
// into its main thread and every other thread (I/O threads, and V8's and
// libuv's helpers), and requests per CPU-second of the whole server (the
// per-core efficiency). The main thread's CPU per request bounds what any
// number of I/O threads can reach: the last lines project that to 8 cores.
//
// Usage: node bench/io-threads.mjs [--requests 400000] [--rounds 3] [--redis-io-threads] [--only 'io-threads 2']
//        npm run bench -- --threads
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadDataset } from './datasets.mjs';
import { benchKeySets, benchmarkWithThreadCpu, freePort, median, options, root } from './servers.mjs';

const args = process.argv.slice(2);
const { opt } = options(args);
const REQUESTS = Number(opt('requests', '400000'));
/** GET reads a loaded keyspace: every name -r 1000000 can draw holds a 3-byte value (as redis-benchmark's SET writes). */
const KEYSPACE = 1000000;

async function start(layout) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothreads-'));
  const cores = layout.cores ?? '0';
  let proc;
  if (layout.redis !== undefined) {
    const io = layout.redis > 1 ? ['--io-threads', String(layout.redis), '--io-threads-do-reads', 'yes'] : [];
    proc = spawn('taskset', ['-c', cores, 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...io], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  } else {
    const flags = ['--max-semi-space-size=32'];
    proc = spawn('taskset', ['-c', cores, 'node', ...flags, 'dist/src/main.js', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning', '--io-threads', String(layout.threads)], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  }
  let up = false;
  for (let i = 0; i < 100 && !up; i++) {
    await new Promise((r) => setTimeout(r, 100));
    up = spawnSync('redis-cli', ['-p', String(port), 'PING']).stdout?.toString().includes('PONG') === true;
  }
  // redis-benchmark spins forever on a port nobody answers.
  if (!up) {
    proc.kill('SIGKILL');
    throw new Error(`${layout.name} did not start on port ${port}`);
  }
  // The I/O threads (named io_thd_N, as Redis names its own) to their own cores.
  if (layout.ioCores !== undefined) {
    const tids = fs.readdirSync(`/proc/${proc.pid}/task`).filter((tid) => fs.readFileSync(`/proc/${proc.pid}/task/${tid}/comm`, 'utf8').startsWith('io_thd_'));
    if (tids.length !== layout.threads - 1) throw new Error(`${layout.name}: found ${tids.length} I/O threads by name`);
    for (const tid of tids) spawnSync('taskset', ['-p', '-c', layout.ioCores, tid]);
  }
  // taskset execs the server: same pid.
  return {
    port,
    pid: proc.pid,
    stop: async () => {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

const layouts = [
  { name: 'redis-server', redis: 1 },
  // redis-server's I/O threads spin waiting for work: on the server's one
  // core they starve its main thread (about 1.5k req/s measured).
  ...(args.includes('--redis-io-threads') ? [{ name: 'redis io-threads 4', redis: 4 }] : []),
  { name: 'vireo io-threads 1', threads: 1 },
  { name: 'vireo io-threads 2', threads: 2 },
  { name: 'vireo io-threads 4', threads: 4 },
  // The I/O thread on the benchmark's core: the main thread then has a core
  // of its own, as on a machine with cores to spare, and its CPU per request
  // is the figure the 8-core projection wants (the throughput is the shared
  // core's).
  { name: 'vireo io-threads 2 io@c1', threads: 2, ioCores: '1' },
];
// --only <text>: the layouts whose name contains it (redis-server always runs, for the ratios).
const only = opt('only', null);
if (only !== null) layouts.splice(0, layouts.length, ...layouts.filter((l) => l.redis === 1 || l.name.includes(only)));
// Every layout runs at once, each loaded with the 1M names (idle servers
// take no CPU); then each test runs on every layout back to back, the
// order reversed every other round. The machine's speed drifts within
// minutes (a neighbour's load): a ratio taken within one round is what that
// disturbs least, so the medians of the per-round figures are reported,
// as the other suites do.
const ROUNDS = Number(opt('rounds', '3'));
const TESTS = [
  { test: 'get', pipeline: 1 },
  { test: 'set', pipeline: 1 },
  { test: 'get', pipeline: 16 },
  { test: 'set', pipeline: 16 },
];
/** runs[layout name][test key] = one measurement per round. */
const runs = new Map(layouts.map((l) => [l.name, new Map()]));
const keyOf = (t) => `${t.test} ${t.pipeline}`;
const servers = [];
try {
  for (const layout of layouts) {
    const s = await start(layout);
    servers.push({ layout, s });
    // GET reads a loaded keyspace; SET overwrites the same names with values of the same size.
    await loadDataset(s.port, benchKeySets(KEYSPACE, 3));
  }
  for (let round = 0; round < ROUNDS; round++) {
    for (const t of TESTS) {
      const order = round % 2 === 0 ? servers : [...servers].reverse();
      for (const { layout, s } of order) {
        const n = t.pipeline === 1 ? REQUESTS / 4 : REQUESTS;
        const r = benchmarkWithThreadCpu(s.pid, s.port, t.test, t.pipeline, n, (tid) => (tid === s.pid ? 'main' : 'other'));
        const main = r.cpu.main ?? 0;
        const other = r.cpu.other ?? 0;
        const byTest = runs.get(layout.name);
        if (!byTest.has(keyOf(t))) byTest.set(keyOf(t), []);
        byTest.get(keyOf(t)).push({ rps: r.rps, p50: r.p50, p99: r.p99, main: (main * 1e6) / n, other: (other * 1e6) / n, perCpuSecond: n / (main + other) });
      }
    }
  }
} finally {
  for (const { s } of servers) await s.stop();
}

const rows = [];
console.log(`layout                    test  P     req/s   p50    p99  main us/req  other us/req  req per server CPU-s   (medians of ${ROUNDS} rounds)`);
for (const layout of layouts) {
  for (const t of TESTS) {
    const list = runs.get(layout.name).get(keyOf(t));
    const m = (field) => median(list.map((x) => x[field]));
    const row = { layout: layout.name, test: t.test, pipeline: t.pipeline, list, rps: m('rps'), p50: m('p50'), p99: m('p99'), main: m('main'), other: m('other'), perCpuSecond: m('perCpuSecond') };
    rows.push(row);
    console.log(
      `${layout.name.padEnd(24)} ${t.test.padEnd(4)} ${String(t.pipeline).padStart(2)} ${row.rps.toFixed(0).padStart(9)} ${row.p50.toFixed(2).padStart(5)} ${row.p99.toFixed(2).padStart(6)} ${row.main.toFixed(2).padStart(12)} ${row.other.toFixed(2).padStart(13)} ${row.perCpuSecond.toFixed(0).padStart(21)}`,
    );
  }
}
console.log('(main/other us/req: CPU of the main thread / of every other thread per request)');

// Ratios beside redis-server, and the projection to 8 cores: with enough
// I/O threads the main thread's CPU per request is the ceiling, and each
// I/O thread carries (other us/req) of every request.
const redis = (test, pipeline) => rows.find((x) => x.layout === 'redis-server' && x.test === test && x.pipeline === pipeline);
console.log('\nvireo / redis-server throughput (median of the per-round ratios), and the 8-core projection for Vireo with I/O threads (main-thread bound)');
for (const layoutName of ['vireo io-threads 1', 'vireo io-threads 2', 'vireo io-threads 4', 'vireo io-threads 2 io@c1']) {
  for (const pipeline of [1, 16]) {
    for (const test of ['set', 'get']) {
      const v = rows.find((x) => x.layout === layoutName && x.test === test && x.pipeline === pipeline);
      const ref = redis(test, pipeline);
      if (v === undefined || ref === undefined) continue;
      let projection = '';
      if (layoutName === 'vireo io-threads 2' || layoutName === 'vireo io-threads 2 io@c1') {
        // 8 cores: the main thread on one, I/O threads on the other seven.
        const byMain = 1e6 / v.main;
        const byIo = (7 * 1e6) / v.other;
        projection = `   8 cores: ~${(Math.min(byMain, byIo) / 1000).toFixed(0)}k req/s (${byMain < byIo ? 'main thread' : 'I/O threads'} bound; redis-server 1 thread here ${(ref.rps / 1000).toFixed(0)}k)`;
      }
      const perRound = median(v.list.map((x, i) => x.rps / ref.list[i].rps));
      const each = v.list.map((x, i) => (x.rps / ref.list[i].rps).toFixed(2)).join(' ');
      console.log(`${layoutName.padEnd(24)} ${test.padEnd(4)} P${String(pipeline).padEnd(3)} ${perRound.toFixed(2)} (rounds: ${each})${projection}`);
    }
  }
}
