#!/usr/bin/env node
// Throughput and memory of Vireo beside redis-server, in the same run.
//
// Starts redis-server and the built Vireo on spare loopback ports, runs
// redis-benchmark against each in turn (alternating, several rounds, best
// round kept) at -P 1 and -P 16, then loads keys with DEBUG POPULATE into
// each and compares memory per key. Prints ratios: on a shared machine
// absolute numbers mean little, ratios measured side by side do.
//
// Usage: npm run bench [-- --quick] [-- --suite strings|collections]
//        (collections includes XADD and XRANGE, and a stream's memory)
//        [-- --tests set,get] [-- --rounds 3] [-- --no-bench] [-- --no-memory]
//        [-- --datasets hashes,streams] [-- --pin]
//        (--pin: servers on CPU 0, redis-benchmark on CPU 1)
import { loadDataset, DATASETS } from './datasets.mjs';
import { benchOnce, median, options, requireTools, row, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const { opt } = options(args);
const quick = args.includes('--quick');
const suite = opt('suite', 'strings');
const SUITES = {
  strings: 'ping_inline,ping_mbulk,set,get,incr,mset',
  collections: 'lpush,rpush,lpop,rpop,sadd,spop,hset,zadd,zpopmin,lrange_100,lrange_600,xadd,xrange_10,xrange_100',
};
const tests = opt('tests', SUITES[suite] ?? suite).split(',');
// Many short rounds rather than a few long ones: on a shared machine the
// load of its neighbours shifts within seconds, and the median of many
// back-to-back ratios is what that disturbs least.
const rounds = Number(opt('rounds', quick ? '1' : '5'));
const requests = Number(opt('requests', quick ? '50000' : '100000'));
const targets = { 1: 0.9, 16: 0.8 };

requireTools(['redis-server', 'redis-benchmark']);

const redis = await startServer('redis');
const vireo = await startServer('vireo');
const results = [];
try {
  for (const pipeline of args.includes('--no-bench') ? [] : [1, 16]) {
    for (const test of tests) {
      const best = { redis: new Map(), vireo: new Map() };
      // Each round runs both servers back to back: the ratio within a round
      // is what machine drift disturbs least, so the median of those is
      // reported beside the ratio of the best rounds.
      const roundRatios = new Map();
      // Server CPU per request, vireo/redis, per round (rows measured alone only).
      const cpuRatios = new Map();
      // A warm-up run on each, not counted: V8 compiles Vireo's hot paths
      // during its first thousands of requests.
      for (const s of [redis, vireo]) {
        benchOnce(s, test, pipeline, Math.ceil(requests / 5));
        s.cli('FLUSHALL');
      }
      for (let r = 0; r < rounds; r++) {
        // Alternate which server goes first so drift in machine load hits both.
        const order = r % 2 === 0 ? [redis, vireo] : [vireo, redis];
        const thisRound = { redis: new Map(), vireo: new Map() };
        const cpuRound = { redis: new Map(), vireo: new Map() };
        for (const s of order) {
          for (const { name, rps, cpuUs } of benchOnce(s, test, pipeline, pipeline > 1 ? requests * 4 : requests)) {
            best[s.kind].set(name, Math.max(best[s.kind].get(name) ?? 0, rps));
            thisRound[s.kind].set(name, rps);
            if (cpuUs !== null) cpuRound[s.kind].set(name, cpuUs);
          }
          s.cli('FLUSHALL');
        }
        for (const [name, rps] of thisRound.redis) {
          if (!roundRatios.has(name)) roundRatios.set(name, []);
          roundRatios.get(name).push((thisRound.vireo.get(name) ?? 0) / rps);
          const cpuRedis = cpuRound.redis.get(name);
          const cpuVireo = cpuRound.vireo.get(name);
          if (cpuRedis > 0 && cpuVireo !== undefined) {
            if (!cpuRatios.has(name)) cpuRatios.set(name, []);
            cpuRatios.get(name).push(cpuVireo / cpuRedis);
          }
        }
      }
      for (const [name, rps] of best.redis) {
        const v = best.vireo.get(name) ?? 0;
        const cpu = cpuRatios.get(name);
        results.push({ name, pipeline, redis: rps, vireo: v, ratio: v / rps, median: median(roundRatios.get(name)), cpu: cpu ? median(cpu) : null });
      }
    }
  }
  const w = [16, 3, 12, 12, 7, 9, 8, 8];
  if (results.length > 0) console.log(row(['test', 'P', 'redis best', 'vireo best', 'ratio', 'median', 'target', 'cpu/req'], w));
  for (const r of results) {
    // redis-benchmark fills the list for LRANGE with an LPUSH run of its
    // own and reports it: shown, but the LPUSH row is the one judged.
    const setup = r.name.includes('needed to benchmark');
    const target = targets[r.pipeline];
    const mark = setup || r.median >= target ? '' : ' *';
    const cpu = r.cpu === null ? '' : r.cpu.toFixed(2);
    console.log(row([r.name, r.pipeline, r.redis.toFixed(0), r.vireo.toFixed(0), r.ratio.toFixed(2), r.median.toFixed(2) + mark, setup ? '(setup)' : `>=${target}`, cpu], w));
  }
  if (results.length > 0) {
    console.log('(ratio: best round of each; median: median of the per-round ratios, judged against the target; * below target;');
    console.log(' cpu/req: median of the per-round ratios of server CPU time per request, vireo/redis, lower is better)\n');
  }

  if (!args.includes('--no-memory')) {
    const usedMemory = (s) => Number(/used_memory:(\d+)/.exec(s.cli('INFO', 'memory'))[1]);
    const rss = (s) => Number(/used_memory_rss:(\d+)/.exec(s.cli('INFO', 'memory'))[1]);
    const datasets = opt('datasets', suite === 'collections' ? 'hashes,sets,zsets,streams' : 'strings').split(',');
    const w2 = [44, 12, 12, 7, 9];
    console.log(row(['memory (used_memory growth, after a full GC)', 'redis', 'vireo', 'ratio', 'target'], w2));
    for (const name of datasets) {
      const ds = DATASETS[name](quick);
      const mem = {};
      for (const s of [redis, vireo]) {
        s.cli('FLUSHALL');
        s.cli('MEMORY', 'PURGE');
        const before = usedMemory(s);
        const rssBefore = rss(s);
        if (ds.populate) s.cli('DEBUG', 'POPULATE', String(ds.populate));
        else await loadDataset(s.port, ds.commands());
        s.cli('MEMORY', 'PURGE');
        mem[s.kind] = { per: (usedMemory(s) - before) / ds.units, rssPer: (rss(s) - rssBefore) / ds.units };
      }
      const ratio = mem.vireo.per / mem.redis.per;
      console.log(row([`${ds.label} (B/${ds.unit})`, mem.redis.per.toFixed(1), mem.vireo.per.toFixed(1), ratio.toFixed(2) + (ratio <= 1.5 ? '' : ' *'), '<=1.5'], w2));
      console.log(row([`  rss growth (B/${ds.unit})`, mem.redis.rssPer.toFixed(1), mem.vireo.rssPer.toFixed(1), '', ''], w2));
    }
  }
} finally {
  await redis.stop();
  await vireo.stop();
}
