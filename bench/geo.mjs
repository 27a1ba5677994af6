#!/usr/bin/env node
// Geo commands side by side with redis-server (redis-benchmark -c 50):
//  - GEOADD of random points: new members into a fresh key, and loaded
//    members moved (a location-update workload);
//  - GEOSEARCH FROMLONLAT BYRADIUS over 100k loaded members (a 1 x 1 degree
//    square near Palermo, ~8 points per km2): a 1.5 km radius returns ~55 of
//    them; plain, and ASC WITHDIST WITHCOORD;
//  - GEODIST between two loaded members.
// Each round runs both servers back to back, alternating which goes first;
// the median of per-round ratios vireo/redis is judged against >= 0.9, next to
// the ratio of the servers' CPU time per request.
//
// Usage: npm run bench -- --suite geo [--quick] [--rounds 5] [--requests 100000]
//        [--pipeline 1] [--members 100000] [--pin]
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { cpuMicros, judged, median, options, pinSelf, pinned, requireTools, row, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const { opt, has } = options(args);
const quick = has('quick');
const rounds = Number(opt('rounds', quick ? '2' : '5'));
const requests = Number(opt('requests', quick ? '20000' : '100000'));
const pipeline = Number(opt('pipeline', '1'));
const members = Number(opt('members', '100000'));
const TARGET = 0.9;
const KEY = 'geo:big';

requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);
pinSelf();

/** Deterministic points: both servers load the same set. */
function* points(n) {
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  // Named like redis-benchmark's __rand_int__ (12 digits), so GEOADD can move loaded members.
  for (let i = 0; i < n; i++) yield [(13 + next()).toFixed(6), (38 + next()).toFixed(6), `p${String(i).padStart(12, '0')}`];
}

function resp(argv) {
  return `*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}

/** GEOADD the points in batches of 500 over one connection; resolves when every reply arrived. */
function load(port) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const batches = [];
    let batch = [];
    for (const p of points(members)) {
      batch.push(...p);
      if (batch.length === 1500) {
        batches.push(resp(['GEOADD', KEY, ...batch]));
        batch = [];
      }
    }
    if (batch.length) batches.push(resp(['GEOADD', KEY, ...batch]));
    let lines = 0;
    sock.on('data', (d) => {
      for (const b of d) if (b === 10) lines++;
      if (lines >= batches.length) {
        sock.end();
        resolve();
      }
    });
    sock.on('error', reject);
    sock.write(batches.join(''));
  });
}

const TESTS = [
  { name: 'GEOADD new members', random: 1000000, command: ['GEOADD', 'geo:add', '13.__rand_int__', '38.__rand_int__', 'm:__rand_int__'] },
  { name: 'GEOSEARCH r=1.5km', command: ['GEOSEARCH', KEY, 'FROMLONLAT', '13.5', '38.5', 'BYRADIUS', '1.5', 'km'] },
  { name: 'GEOSEARCH ASC WITHDIST WITHCOORD', command: ['GEOSEARCH', KEY, 'FROMLONLAT', '13.5', '38.5', 'BYRADIUS', '1.5', 'km', 'ASC', 'WITHDIST', 'WITHCOORD'] },
  { name: 'GEORADIUS COUNT 10', command: ['GEORADIUS', KEY, '13.25', '38.75', '2', 'km', 'COUNT', '10'] },
  { name: 'GEODIST', command: ['GEODIST', KEY, 'p000000000001', 'p000000000002', 'km'] },
  // Last: it moves the loaded points out of the searched area.
  { name: 'GEOADD moving loaded members', random: members, command: ['GEOADD', KEY, '13.__rand_int__', '38.__rand_int__', 'p__rand_int__'] },
];

/** One redis-benchmark run of a test: requests/s and the server's CPU µs per request. */
function once(server, test) {
  const base = ['-p', String(server.port), '-q', '--csv', '-c', '50', '-n', String(requests), '-P', String(pipeline), ...(test.random ? ['-r', String(test.random)] : [])];
  const argv = [...base, ...test.command];
  const [program, a] = pinned ? ['taskset', ['-c', '1', 'redis-benchmark', ...argv]] : ['redis-benchmark', argv];
  const cpu0 = cpuMicros(server.pid);
  const out = execFileSync(program, a, { encoding: 'utf8' });
  const rate = Number(out.trim().split('\n')[1].split(',')[1].replace(/"/g, ''));
  return { rate, cpuUs: (cpuMicros(server.pid) - cpu0) / requests };
}

const redis = await startServer('redis');
const vireo = await startServer('vireo');
try {
  await Promise.all([load(redis.port), load(vireo.port)]);
  const found = redis.cli('GEOSEARCH', KEY, 'FROMLONLAT', '13.5', '38.5', 'BYRADIUS', '1.5', 'km').split('\n').length;
  if (vireo.cli('ZCARD', KEY) !== redis.cli('ZCARD', KEY)) throw new Error('the servers loaded different sets');
  console.log(`${rounds} rounds, ${requests} requests, -c 50 -P ${pipeline}, ${members} members (a 1.5 km search finds ${found})${pinned ? ', pinned' : ''}`);
  const w = [34, 12, 12, 7, 8, 8];
  console.log(row(['command', 'redis rps', 'vireo rps', 'ratio', 'target', 'cpu/req'], w));
  for (const test of TESTS) {
    once(vireo, test); // warm-up: V8 compiles the paths
    const ratios = [];
    const cpuRatios = [];
    const best = { redis: 0, vireo: 0 };
    for (let r = 0; r < rounds; r++) {
      const round = {};
      for (const s of r % 2 === 0 ? [redis, vireo] : [vireo, redis]) {
        round[s.kind] = once(s, test);
        best[s.kind] = Math.max(best[s.kind], round[s.kind].rate);
      }
      ratios.push(round.vireo.rate / round.redis.rate);
      cpuRatios.push(round.vireo.cpuUs / round.redis.cpuUs);
    }
    const ratio = median(ratios);
    console.log(row([test.name, Math.round(best.redis), Math.round(best.vireo), judged(ratio, TARGET), TARGET, median(cpuRatios).toFixed(2)], w));
  }
} finally {
  await redis.stop();
  await vireo.stop();
}
