#!/usr/bin/env node
// Latency at size: GET and SET latency percentiles with 10M keys loaded,
// side by side with redis-server. This is where V8's collections show:
// every key is a few heap objects that a major GC marks, and a young
// generation that fills with fresh keys is copied by every scavenge.
//
// Each server is loaded with `--keys` keys (named as redis-benchmark -r
// names them, so every GET hits; 10-byte values), then redis-benchmark
// -c 50 -P 1 -r <keys> runs GET and SET over all of them. Prints p50, p99,
// p99.9 and max latency (ms) and the vireo/redis ratio of p99 (target
// <= 1.5), with throughput and the server's RSS beside them.
//
// `--vireo-flags "A|B"` runs Vireo once per set of node flags (the V8
// options the start command sets are the default, see scripts/node-flags.mjs),
// so the flags can be chosen by measurement.
//
// Usage: npm run bench -- --suite latency-size [--keys 10000000] [--requests 2000000] [--pin]
//        [--vireo-flags "--max-semi-space-size=16|--max-semi-space-size=64"]
import { execFileSync } from 'node:child_process';
import { loadDataset } from './datasets.mjs';
import { benchKeySets, benchmarkPercentile as percentile, cpuMicros, infoNumber, onClientCpu, options, requireTools, row, startServer } from './servers.mjs';
import { serverNodeFlags } from '../scripts/node-flags.mjs';

const args = process.argv.slice(2);
const { opt } = options(args);
const quick = args.includes('--quick');
const keys = Number(opt('keys', quick ? '1000000' : '10000000'));
const requests = Number(opt('requests', quick ? '200000' : '2000000'));
const VALUE_SIZE = 10;
const P99_TARGET = 1.5;
const flagSets = (opt('vireo-flags', null) ?? serverNodeFlags().join(' ')).split('|').map((s) => s.trim());

requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);

/** One redis-benchmark run of `test` over all keys: throughput, percentiles, server CPU per request. */
function measure(server, test) {
  const cpu0 = cpuMicros(server.pid);
  const out = execFileSync(
    ...onClientCpu('redis-benchmark', ['-p', String(server.port), '-c', '50', '-P', '1', '-n', String(requests), '-r', String(keys), '-d', String(VALUE_SIZE), '--precision', '3', '-t', test]),
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  const cpuUs = (cpuMicros(server.pid) - cpu0) / requests;
  const rps = Number(/throughput summary: ([\d.]+) requests per second/.exec(out)?.[1] ?? NaN);
  return { rps, cpuUs, p50: percentile(out, 50), p99: percentile(out, 99), p999: percentile(out, 99.9), max: percentile(out, 100) };
}

/** Start, load, measure GET then SET, stop. */
async function run(kind, label, flags) {
  if (flags !== undefined) process.env.VIREO_BENCH_NODE_FLAGS = flags;
  const server = await startServer(kind);
  try {
    const t0 = performance.now();
    await loadDataset(server.port, benchKeySets(keys, VALUE_SIZE));
    const loadS = (performance.now() - t0) / 1000;
    const held = infoNumber(server, 'keyspace', 'keys');
    if (held !== keys) throw new Error(`${label} holds ${held} keys after loading ${keys}`);
    const rssMb = infoNumber(server, 'memory', 'used_memory_rss') / 2 ** 20;
    const get = measure(server, 'get');
    const set = measure(server, 'set');
    return { label, loadS, rssMb, get, set };
  } finally {
    await server.stop();
  }
}

const results = [];
results.push(await run('redis', 'redis-server'));
for (const flags of flagSets) results.push(await run('vireo', `vireo ${flags || '(no flags)'}`, flags));

const widths = [44, 7, 8, 9, 9, 9, 9, 9, 8, 9];
console.log(`latency at size: ${keys} keys of ${VALUE_SIZE} bytes, redis-benchmark -c 50 -P 1 -r ${keys}, ${requests} requests per test (ms)`);
console.log(row(['server', 'test', 'rps', 'p50', 'p99', 'p99.9', 'max', 'cpu us/r', 'RSS MB', 'p99 ratio'], widths));
const redis = results[0];
for (const r of results) {
  for (const test of ['get', 'set']) {
    const m = r[test];
    const ratio = r === redis ? '' : (m.p99 / redis[test].p99).toFixed(2) + (m.p99 / redis[test].p99 <= P99_TARGET ? '' : ' *');
    console.log(row([r.label, test.toUpperCase(), Math.round(m.rps), m.p50, m.p99, m.p999, m.max, m.cpuUs.toFixed(2), Math.round(r.rssMb), ratio], widths));
  }
}
console.log(`load times (s): ${results.map((r) => `${r.label} ${r.loadS.toFixed(1)}`).join(', ')}`);
console.log(`p99 ratio target: <= ${P99_TARGET} of redis-server's (* marks a miss)`);
