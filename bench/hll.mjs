#!/usr/bin/env node
// HyperLogLog side by side with redis-server, through redis-benchmark (-c 50):
//  - PFADD of random elements (-r) to one key (dense after the first few
//    thousand), and to 1000 keys that stay mostly sparse;
//  - PFADD creating many small (sparse) HLLs, one per random key;
//  - PFCOUNT of one dense key (the cached cardinality) and of 3 dense keys
//    (a union: merged and estimated on every call).
// Each round runs both servers back to back, alternating which goes first;
// the median of per-round ratios vireo/redis is judged against >= 0.9, with
// the servers' CPU time per request beside it.
//
// Usage: npm run bench -- --suite hll [--quick] [--rounds 5] [--requests 200000]
//        [--pipeline 1] [--pin] [--calibrate]
//        (--pin: servers on CPU 0, redis-benchmark on CPU 1;
//         --calibrate: a second redis-server in Vireo's place, to see the harness' noise)
import { execFileSync } from 'node:child_process';
import { cpuMicros, judged, median, options, pinSelf, pinned, requireTools, row, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const { opt, has } = options(args);
const quick = has('quick');
const rounds = Number(opt('rounds', quick ? '2' : '5'));
const requests = Number(opt('requests', quick ? '50000' : '200000'));
const pipeline = Number(opt('pipeline', '1'));
const TARGET = 0.9;

requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);
pinSelf();

/** Dense HLLs for the PFCOUNT cases: 20000 distinct elements each. */
const DENSE_KEYS = ['hll:dense:a', 'hll:dense:b', 'hll:dense:c'];

const CASES = [
  { name: 'PFADD 1 key', random: 100000000, command: ['PFADD', 'hll:one', 'e:__rand_int__', 'f:__rand_int__', 'g:__rand_int__'] },
  // __rand_int__ is drawn anew for each place: 1000 keys, each growing to a few hundred registers (sparse).
  { name: 'PFADD 1000 keys', random: 1000, command: ['PFADD', 'hll:few:__rand_int__', 'e:__rand_int__', 'f:__rand_int__'] },
  { name: 'PFADD new keys', random: 1000000, command: ['PFADD', 'hll:many:__rand_int__', 'a', 'b', 'c'] },
  { name: 'PFCOUNT 1 dense', command: ['PFCOUNT', DENSE_KEYS[0]] },
  { name: 'PFCOUNT 3 dense', command: ['PFCOUNT', ...DENSE_KEYS] },
];

function redisBenchmark(port, extra) {
  const argv = ['-p', String(port), '-q', '--csv', '-c', '50', '-n', String(requests), '-P', String(pipeline), ...extra];
  const [program, a] = pinned ? ['taskset', ['-c', '1', 'redis-benchmark', ...argv]] : ['redis-benchmark', argv];
  return execFileSync(program, a, { encoding: 'utf8' });
}

/** Fill the dense keys and the few-keys set the same way on a server. */
function load(server) {
  for (const key of DENSE_KEYS) {
    for (let from = 0; from < 20000; from += 1000) {
      server.cli('PFADD', key, ...Array.from({ length: 1000 }, (_, i) => `${key}:${from + i}`));
    }
    server.cli('PFCOUNT', key);
  }
}

/** One run of a case: requests/s and the server's CPU µs per request. */
function once(server, c) {
  const random = c.random;
  const cpu0 = cpuMicros(server.pid);
  const out = redisBenchmark(server.port, [...(random ? ['-r', String(random)] : []), ...c.command]);
  const cpu = cpuMicros(server.pid) - cpu0;
  const rate = Number(out.trim().split('\n')[1].split(',')[1].replace(/"/g, ''));
  return { rate, cpuUs: cpu / requests };
}

const redis = await startServer('redis');
const vireo = await startServer(has('calibrate') ? 'redis' : 'vireo');
if (has('calibrate')) vireo.kind = 'vireo';
try {
  console.log(`${rounds} rounds, ${requests} requests, -c 50 -P ${pipeline}${pinned ? ', pinned' : ''}`);
  for (const s of [redis, vireo]) load(s);
  const w = [16, 12, 12, 7, 8, 8];
  console.log(row(['case', 'redis rps', 'vireo rps', 'ratio', 'target', 'cpu/req'], w));
  for (const c of CASES) {
    once(vireo, c); // warm-up: V8 compiles the paths
    const ratios = [];
    const cpuRatios = [];
    const best = { redis: 0, vireo: 0 };
    for (let r = 0; r < rounds; r++) {
      const round = {};
      for (const s of r % 2 === 0 ? [redis, vireo] : [vireo, redis]) {
        round[s.kind] = once(s, c);
        best[s.kind] = Math.max(best[s.kind], round[s.kind].rate);
      }
      ratios.push(round.vireo.rate / round.redis.rate);
      cpuRatios.push(round.vireo.cpuUs / round.redis.cpuUs);
    }
    console.log(row([c.name, Math.round(best.redis), Math.round(best.vireo), judged(median(ratios), TARGET), TARGET, median(cpuRatios).toFixed(2)], w));
  }
  // Both servers hold the same HLLs after the same commands? Only the deterministic keys can be compared.
  const same = DENSE_KEYS.every((k) => redis.cli('PFCOUNT', k) === vireo.cli('PFCOUNT', k));
  console.log(`dense keys equal on both servers: ${same ? 'yes' : 'NO'}`);
} finally {
  await redis.stop();
  await vireo.stop();
}
