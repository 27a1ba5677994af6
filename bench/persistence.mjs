#!/usr/bin/env node
// Persistence side by side with redis-server under the same settings:
//  - SET throughput with appendonly yes, appendfsync always and everysec
//    (-c 50, -P 1 and -P 16; group commit lets one fsync cover many clients);
//  - SAVE time and start-up load time of an RDB with 1M keys.
// Prints ratios (vireo/redis for throughput, vireo/redis for times).
//
// Usage: npm run bench -- --suite persistence [--quick] [--rounds 3] [--keys 1000000]
import { benchOnce, median, options, requireTools, row, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const { opt } = options(args);
const quick = args.includes('--quick');
const rounds = Number(opt('rounds', quick ? '1' : '5'));
const requests = Number(opt('requests', quick ? '20000' : '50000'));
const keys = Number(opt('keys', quick ? '200000' : '1000000'));

requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);

const w = [28, 3, 12, 12, 7, 9, 8];
console.log(row(['SET with appendonly yes', 'P', 'redis best', 'vireo best', 'ratio', 'median', 'target'], w));
for (const policy of ['always', 'everysec']) {
  const extra = ['--appendonly', 'yes', '--appendfsync', policy];
  const redis = await startServer('redis', extra);
  const vireo = await startServer('vireo', extra);
  try {
    for (const pipeline of [1, 16]) {
      const best = { redis: 0, vireo: 0 };
      // Per-round ratios (both servers back to back): their median is judged.
      const ratios = [];
      for (const s of [redis, vireo]) benchOnce(s, 'set', pipeline, Math.ceil(requests / 5));
      for (let r = 0; r < rounds; r++) {
        const round = {};
        for (const s of r % 2 === 0 ? [redis, vireo] : [vireo, redis]) {
          const [res] = benchOnce(s, 'set', pipeline, pipeline > 1 ? requests * 4 : requests);
          best[s.kind] = Math.max(best[s.kind], res.rps);
          round[s.kind] = res.rps;
        }
        ratios.push(round.vireo / round.redis);
      }
      const ratio = best.vireo / best.redis;
      const med = median(ratios);
      console.log(
        row([`appendfsync ${policy}`, pipeline, best.redis.toFixed(0), best.vireo.toFixed(0), ratio.toFixed(2), med.toFixed(2) + (med >= 0.9 ? '' : ' *'), '>=0.9'], w),
      );
    }
  } finally {
    await redis.stop();
    await vireo.stop();
  }
}

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
console.log('(* outside target)');
