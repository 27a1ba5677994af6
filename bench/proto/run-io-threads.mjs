#!/usr/bin/env node
// Measures the two threading prototypes, the I/O-thread model
// (io-threads.mjs) and the shard-per-thread model (shards.mjs), beside the
// real, single-threaded Vireo server and redis-server (with io-threads 1 and
// 4, its I/O threads doing reads too): redis-benchmark SET and GET over 1M
// names (-r 1000000, -c 50) at -P 1 and -P 16, the benchmark pinned to core 1.
// Per layout: throughput, the server's CPU per request split by thread, and
// requests per CPU-second of the server (per-core efficiency). The main
// thread's CPU per request bounds what any number of I/O threads can reach;
// for the shard layouts every thread runs commands ("io" is all of them),
// and the rows add how many commands hopped to another thread and the
// round trip of a hop (p50/p99). A last table times a hop with one client
// (-c 1 -P 1): the latency a hop adds when nothing queues.
//
// Usage: node bench/proto/run-io-threads.mjs [--requests 400000] [--redis-io-threads] [--only shards|io]
//        npm run bench -- --threads-proto
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { benchmarkWithThreadCpu, freePort, options, root } from '../servers.mjs';

const { opt } = options(process.argv.slice(2));
const REQUESTS = Number(opt('requests', '400000'));
const only = opt('only', undefined);

async function start(layout) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'iothreads-'));
  let proc;
  if (layout.redis !== undefined) {
    const io = layout.redis > 1 ? ['--io-threads', String(layout.redis), '--io-threads-do-reads', 'yes'] : [];
    proc = spawn('taskset', ['-c', layout.redisCores ?? '0', 'redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...io], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  } else if (layout.threads === 0) {
    proc = spawn('taskset', ['-c', '0', 'node', '--max-semi-space-size=32', 'dist/src/main.js', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  } else {
    const script = layout.shards ? 'bench/proto/shards.mjs' : 'bench/proto/io-threads.mjs';
    proc = spawn('taskset', ['-c', '0', 'node', '--max-semi-space-size=32', script, '--port', String(port), '--threads', String(layout.threads)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  }
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  const ioTids = [];
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 100));
    if (layout.threads > 0 && layout.redis === undefined) {
      const m = /ready ([\d ]+)/.exec(out);
      if (m !== null) {
        ioTids.push(...m[1].trim().split(' ').map(Number));
        break;
      }
    } else if (spawnSync('redis-cli', ['-p', String(port), 'PING']).stdout?.toString().includes('PONG')) break;
  }
  // The node process is the child of taskset's exec: same pid.
  const pid = proc.pid;
  // I/O threads placed on core 1 (beside the benchmark) when the layout says so.
  if (layout.ioCore !== undefined) for (const tid of ioTids.slice(layout.shards ? 1 : 0)) spawnSync('taskset', ['-p', '-c', String(layout.ioCore), String(tid)]);
  /** SIGINT: the prototypes print their statistics ("stats [...]", shards.mjs) before they exit. */
  const stop = async () => {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGINT');
    await exited;
    fs.rmSync(dir, { recursive: true, force: true });
    const m = /stats (.*)/.exec(out);
    return m === null ? null : JSON.parse(m[1]);
  };
  return { port, pid, ioTids, stop };
}

/** Hops and their round trip over a shard prototype's threads (from its stats). */
function hopSummary(stats) {
  if (stats === null) return '';
  const commands = stats.reduce((a, t) => a + t.commands, 0);
  const hops = stats.reduce((a, t) => a + t.hops, 0);
  const p50 = Math.max(...stats.map((t) => t.hopP50));
  const p99 = Math.max(...stats.map((t) => t.hopP99));
  return `  hops ${((100 * hops) / Math.max(1, commands)).toFixed(0)}%, round trip p50 ${p50.toFixed(3)} p99 ${p99.toFixed(3)} ms`;
}

const layouts = [
  { name: 'redis-server', threads: 0, redis: 1 },
  // redis-server with io-threads 4 pinned to the server's one core: its I/O
  // threads spin waiting for work and starve the main thread (1.5k req/s,
  // measured); it needs cores of its own, which this 2-core machine lacks.
  ...(process.argv.includes('--redis-io-threads') ? [{ name: 'redis io-threads 4, core 0', threads: 0, redis: 4 }] : []),
  { name: 'vireo (1 thread)', threads: 0 },
  { name: 'proto 1 io, core 0', threads: 1 },
  { name: 'proto 2 io, core 0', threads: 2 },
  { name: 'proto 1 io on core 1', threads: 1, ioCore: 1 },
  { name: 'shards 1, core 0', threads: 1, shards: true },
  { name: 'shards 2, core 0', threads: 2, shards: true },
  { name: 'shards 4, core 0', threads: 4, shards: true },
  { name: 'shards 2, one on core 1', threads: 2, shards: true, ioCore: 1 },
].filter((l) => only === undefined || (only === 'shards') === (l.shards === true) || (l.threads === 0 && l.redis === undefined) || l.redis === 1);
console.log('layout                    test  P     req/s  main us/req  io us/req  req per server CPU-s');
for (const layout of layouts) {
  for (const pipeline of [1, 16]) {
    for (const test of ['set', 'get']) {
      const s = await start(layout);
      const n = pipeline === 1 ? REQUESTS / 4 : REQUESTS;
      const classOf = (tid) => (tid === s.pid ? 'main' : s.ioTids.includes(tid) || layout.redis > 1 ? 'io' : 'other');
      const { rps, cpu } = benchmarkWithThreadCpu(s.pid, s.port, test, pipeline, n, classOf);
      const main = cpu.main ?? 0;
      const io = cpu.io ?? 0;
      const other = cpu.other ?? 0;
      const stats = await s.stop();
      const total = main + io + other;
      console.log(
        `${layout.name.padEnd(24)} ${test.padEnd(4)} ${String(pipeline).padStart(2)} ${rps.toFixed(0).padStart(9)} ${((main * 1e6) / n).toFixed(2).padStart(12)} ${((io * 1e6) / n).toFixed(2).padStart(10)} ${(n / total).toFixed(0).padStart(21)}${hopSummary(stats)}`,
      );
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}
console.log('(main/io us/req: CPU of the main thread / of the I/O threads per request; the rest of the server CPU (GC helpers, libuv) counts in the last column)');

// The latency one hop adds when nothing queues: one client, one request at a
// time (GET over 1M names), on one shard and on two.
if (only !== 'io') {
  console.log('');
  console.log('one client (-c 1 -P 1), GET   req/s   p50 ms   p99 ms  hop round trip p50/p99 ms');
  for (const layout of [
    { name: 'shards 1, core 0', threads: 1, shards: true },
    { name: 'shards 2, core 0', threads: 2, shards: true },
    { name: 'shards 2, one on core 1', threads: 2, shards: true, ioCore: 1 },
  ]) {
    const s = await start(layout);
    const r = spawnSync('taskset', ['-c', '1', 'redis-benchmark', '-p', String(s.port), '-q', '--csv', '-r', '1000000', '-c', '1', '-n', '20000', '-P', '1', '-t', 'get'], { encoding: 'utf8', timeout: 300_000 });
    const f = r.stdout.trim().split('\n').pop().split(',').map((x) => Number(x.replaceAll('"', '')));
    const stats = await s.stop();
    const hops = stats.filter((t) => t.hops > 0);
    const hop = hops.length === 0 ? '-' : `${Math.max(...hops.map((t) => t.hopP50)).toFixed(3)} / ${Math.max(...hops.map((t) => t.hopP99)).toFixed(3)}`;
    console.log(`${layout.name.padEnd(28)} ${f[1].toFixed(0).padStart(7)} ${f[4].toFixed(3).padStart(8)} ${f[6].toFixed(3).padStart(8)}  ${hop}`);
  }
}
