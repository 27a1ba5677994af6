// What running in production costs, side by side with redis-server:
//  1. SET at maxmemory with allkeys-lru evicting: each server gets the same
//     data budget (its own empty used_memory plus --budget MB), is filled
//     until it evicts, then redis-benchmark SETs 100-byte values over
//     -r 1000000 keys, so most SETs create a key and evict one. Target >= 0.8.
//  2. The slow log and latency tracking: GET and SET over 1M keys with
//     slowlog-log-slower-than 10000 + latency-tracking yes (Redis' defaults)
//     against both off, on each server. Target: Vireo loses <= 3%.
// Rounds alternate the servers (and on/off); ratios are medians of per-round ratios.
//
//   node bench/operations.mjs [--requests 200000] [--rounds 3] [--budget 64] [--pin] [--only eviction|timing]
import { execFileSync } from 'node:child_process';
import { cpuMicros, judged, median, options, pinSelf, requireTools, row, startServer } from './servers.mjs';

const { opt } = options(process.argv.slice(2));
const requests = Number(opt('requests', '200000'));
const rounds = Number(opt('rounds', '3'));
const budgetMb = Number(opt('budget', '64'));
const only = opt('only', null);

/** One redis-benchmark run: requests/s and the server's CPU µs per request. */
function run(server, test, pipeline, extra = []) {
  const args = ['-p', String(server.port), '-q', '--csv', '-r', '1000000', '-c', '50', '-n', String(requests), '-P', String(pipeline), ...extra, '-t', test];
  const cpu0 = cpuMicros(server.pid);
  const out = execFileSync('redis-benchmark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const cpu = cpuMicros(server.pid) - cpu0;
  const cols = out.trim().split('\n')[1].split(',').map((c) => c.replace(/"/g, ''));
  return { rps: Number(cols[1]), cpuUs: cpu / requests };
}

const info = (s, section, field) => Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(s.cli('INFO', section))?.[1] ?? NaN);

async function eviction() {
  const redis = await startServer('redis', ['--maxmemory-policy', 'allkeys-lru']);
  const vireo = await startServer('vireo', ['--maxmemory-policy', 'allkeys-lru']);
  try {
    for (const s of [redis, vireo]) {
      s.cli('MEMORY', 'PURGE');
      s.cli('CONFIG', 'SET', 'maxmemory', String(info(s, 'memory', 'used_memory') + budgetMb * 1024 * 1024));
      // Fill until the server evicts: the measured runs all replace keys.
      while (info(s, 'stats', 'evicted_keys') === 0) run(s, 'set', 16, ['-d', '100']);
    }
    const widths = [10, 11, 11, 7, 11, 11, 8, 11, 11];
    console.log(row(['SET at max', 'redis rps', 'vireo rps', 'v/r', 'redis us/r', 'vireo us/r', 'cpu v/r', 'redis keys', 'vireo keys'], widths));
    for (const pipeline of [1, 16]) {
      const rate = [];
      const cpu = [];
      let last = null;
      run(vireo, 'set', pipeline, ['-d', '100']);
      for (let i = 0; i < rounds; i++) {
        const a = run(redis, 'set', pipeline, ['-d', '100']);
        const b = run(vireo, 'set', pipeline, ['-d', '100']);
        rate.push(b.rps / a.rps);
        cpu.push(b.cpuUs / a.cpuUs);
        last = { a, b };
      }
      const keys = (s) => Number(/keys=(\d+)/.exec(s.cli('INFO', 'keyspace'))?.[1] ?? 0);
      console.log(row([`-P ${pipeline}`, Math.round(last.a.rps), Math.round(last.b.rps), judged(median(rate), 0.8), last.a.cpuUs.toFixed(2), last.b.cpuUs.toFixed(2), median(cpu).toFixed(2), keys(redis), keys(vireo)], widths));
    }
    const gcs = info(vireo, 'stats', 'eviction_full_collections');
    console.log(`(allkeys-lru, ${budgetMb} MB above each server's empty used_memory, SET -d 100 -r 1000000 -c 50; Vireo ran ${gcs} full collections before evicting; target v/r >= 0.8)`);
  } finally {
    await redis.stop();
    await vireo.stop();
  }
}

const TIMING_ON = [['slowlog-log-slower-than', '10000'], ['latency-tracking', 'yes']];
const TIMING_OFF = [['slowlog-log-slower-than', '-1'], ['latency-tracking', 'no']];

function setAll(s, params) {
  for (const [k, v] of params) s.cli('CONFIG', 'SET', k, v);
}

async function timing() {
  const redis = await startServer('redis');
  const vireo = await startServer('vireo');
  try {
    for (const s of [redis, vireo]) execFileSync('redis-benchmark', ['-p', String(s.port), '-q', '-r', '1000000', '-n', '1000000', '-P', '100', '-t', 'set'], { stdio: 'ignore' });
    const widths = [8, 13, 13, 12, 12, 12];
    console.log(row(['test', 'redis on/off', 'vireo on/off', 'vireo cpu', 'redis rps on', 'vireo rps on'], widths));
    for (const [test, pipeline] of [['get', 1], ['set', 1], ['get', 16], ['set', 16]]) {
      const ratio = { redis: [], vireo: [], vireoCpu: [] };
      const rps = {};
      for (const s of [redis, vireo]) run(s, test, pipeline);
      for (let i = 0; i < rounds; i++) {
        for (const s of [redis, vireo]) {
          setAll(s, TIMING_OFF);
          const off = run(s, test, pipeline);
          setAll(s, TIMING_ON);
          const on = run(s, test, pipeline);
          ratio[s.kind].push(on.rps / off.rps);
          if (s.kind === 'vireo') ratio.vireoCpu.push(on.cpuUs / off.cpuUs);
          rps[s.kind] = on.rps;
        }
      }
      const loss = median(ratio.vireo);
      console.log(row([`${test} -P ${pipeline}`, median(ratio.redis).toFixed(3), loss.toFixed(3) + (loss >= 0.97 ? '' : ' *'), median(ratio.vireoCpu).toFixed(3), Math.round(rps.redis), Math.round(rps.vireo)], widths));
    }
    console.log('(on: slowlog-log-slower-than 10000 + latency-tracking yes, off: -1 + no; -r 1000000 over 1M loaded keys; target vireo on/off >= 0.97)');
  } finally {
    await redis.stop();
    await vireo.stop();
  }
}

requireTools(['redis-server', 'redis-cli', 'redis-benchmark']);
pinSelf();
if (only === null || only === 'eviction') await eviction();
if (only === null || only === 'timing') await timing();
