#!/usr/bin/env node
// One client at a time: the round trip of an application that sends a
// command and waits for its reply before the next (most request handlers
// do), side by side with redis-server. redis-benchmark -c 1 runs GET and
// SET over 1M loaded keys (100-byte values); each round runs both servers
// back to back, alternating which goes first. Prints the median per-round
// ratio of throughput (vireo/redis: higher is better) and of p50 and p99
// latency (lower is better), the medians of those latencies (µs, to
// redis-benchmark's 3 significant digits), and the server CPU per request.
//
// Here the server sleeps between requests: what a request costs is mostly
// the wake-up, the socket calls and the event loop's own turn, not the
// command.
//
// `--appendfsync always|everysec` runs both servers with the AOF on (Vireo
// then commits a lone client's write in its read callback, fsync included).
//
// Usage: npm run bench -- --suite one-client [--rounds 7] [--requests 20000] [--keys 1000000] [--pin]
//        [--appendfsync always]
import { execFileSync } from 'node:child_process';
import { loadDataset } from './datasets.mjs';
import { benchKeySets, benchmarkPercentile as percentile, cpuMicros, median, onClientCpu, options, requireTools, row, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const { opt } = options(args);
const rounds = Number(opt('rounds', '7'));
const requests = Number(opt('requests', '20000'));
const keys = Number(opt('keys', '1000000'));
const VALUE_SIZE = 100;
const fsyncPolicy = opt('appendfsync', null);
const aofArgs = fsyncPolicy === null ? [] : ['--appendonly', 'yes', '--appendfsync', fsyncPolicy];

requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);

function measure(server, test, n) {
  const cpu0 = cpuMicros(server.pid);
  const out = execFileSync(
    ...onClientCpu('redis-benchmark', ['-p', String(server.port), '-c', '1', '-P', '1', '-n', String(n), '-r', String(keys), '-d', String(VALUE_SIZE), '--precision', '3', '-t', test]),
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  return {
    rps: Number(/throughput summary: ([\d.]+) requests per second/.exec(out)?.[1] ?? NaN),
    cpuUs: (cpuMicros(server.pid) - cpu0) / n,
    p50: percentile(out, 50) * 1000,
    p99: percentile(out, 99) * 1000,
  };
}

const servers = [await startServer('redis', aofArgs), await startServer('vireo', aofArgs)];
try {
  for (const s of servers) await loadDataset(s.port, benchKeySets(keys, VALUE_SIZE));
  const tests = ['get', 'set'];
  // A warm-up run each, not counted: V8 compiles Vireo's hot paths in its first thousands of requests.
  for (const s of servers) for (const t of tests) measure(s, t, Math.ceil(requests / 2));
  const runs = new Map(tests.map((t) => [t, { redis: [], vireo: [] }]));
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? servers : [...servers].reverse();
    for (const t of tests) for (const s of order) runs.get(t)[s.kind].push(measure(s, t, requests));
  }
  const widths = [6, 12, 12, 10, 10, 10, 10, 12];
  console.log(row(['test', 'rps v/r', 'p50 v/r', 'p99 v/r', 'p50 us r', 'p50 us v', 'p99 us r', 'p99 us v', 'cpu/req v/r'], [6, ...widths]));
  for (const t of tests) {
    const { redis, vireo } = runs.get(t);
    const ratio = (field) => median(vireo.map((v, i) => v[field] / redis[i][field]));
    const med = (list, field) => median(list.map((x) => x[field]));
    console.log(
      row(
        [t.toUpperCase(), ratio('rps').toFixed(2), ratio('p50').toFixed(2), ratio('p99').toFixed(2), med(redis, 'p50').toFixed(0), med(vireo, 'p50').toFixed(0), med(redis, 'p99').toFixed(0), med(vireo, 'p99').toFixed(0), ratio('cpuUs').toFixed(2)],
        [6, ...widths],
      ),
    );
  }
  console.log(`(redis-benchmark -c 1 -r ${keys} -d ${VALUE_SIZE}, ${requests} requests a run, ${rounds} rounds${fsyncPolicy === null ? '' : `, appendfsync ${fsyncPolicy}`}; ratios: median of the per-round vireo/redis ratios)`);
} finally {
  for (const s of servers) await s.stop();
}
