#!/usr/bin/env node
// Lua scripting side by side with redis-server:
//  - EVALSHA of a small read-modify-write script (GET a counter, SET it
//    increased) through redis-benchmark, -c 50, keys spread with
//    -r 1000000, at -P 1 and -P 16 (COMMAND_TESTS.evalsha_rmw);
//  - BullMQ: add --jobs jobs (queue.add, --window of them in flight), then
//    process them with one worker (--concurrency); jobs/s of each phase.
// Prints the median of per-round ratios vireo/redis (each round runs both
// servers back to back, alternating which goes first), judged against
// >= 0.8, and the server CPU time per request or job from /proc.
//
// Usage: npm run bench -- --suite scripting [--quick] [--rounds 5] [--requests 100000]
//        [--jobs 20000] [--concurrency 50] [--window 50] [--bullmq-rounds 4]
//        [--no-evalsha] [--no-bullmq] [--pin] [--calibrate] [--verbose]
//        (--pin: servers on CPU 0, redis-benchmark and the BullMQ clients on CPU 1;
//         --calibrate: a second redis-server in Vireo's place, to see the harness' noise;
//         --verbose: every BullMQ round's figures)
import { Queue, Worker } from 'bullmq';
import Redis from 'ioredis';
import { RMW_SCRIPT, RMW_SHA, benchOnce, cpuMicros, judged, median, options, pinSelf, requireTools, row, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const { opt, has } = options(args);
const quick = has('quick');
const rounds = Number(opt('rounds', quick ? '1' : '5'));
const requests = Number(opt('requests', quick ? '50000' : '100000'));
const jobs = Number(opt('jobs', quick ? '5000' : '20000'));
const concurrency = Number(opt('concurrency', '50'));
const windowSize = Number(opt('window', '50'));
// An even number: each server goes first in half of the rounds.
const bullmqRounds = Number(opt('bullmq-rounds', quick ? '2' : '4'));
const TARGET = 0.8;

requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);
pinSelf();

/** Why `server` cannot run the benchmark's script, or null when it answers it right. */
async function scriptingProblem(server) {
  const r = new Redis(server.port, '127.0.0.1', { maxRetriesPerRequest: 0 });
  try {
    await r.script('LOAD', RMW_SCRIPT);
    const got = await r.evalsha(RMW_SHA, 1, 'probe', 41);
    await r.del('probe');
    return got === 41 ? null : `EVALSHA answered ${JSON.stringify(got)} instead of 41`;
  } catch (e) {
    return e.message;
  } finally {
    r.disconnect();
  }
}

/** failed_calls of EVALSHA so far (redis-benchmark counts error replies as served requests). */
function evalshaFailures(server) {
  const m = /cmdstat_evalsha:.*failed_calls=(\d+)/.exec(server.cli('INFO', 'commandstats'));
  return m === null ? 0 : Number(m[1]);
}

/** EVALSHA through redis-benchmark: rows of the table, or null when a server failed a request. */
function benchEvalsha(redis, vireo) {
  const w = [14, 3, 12, 12, 7, 9, 8, 8];
  console.log(row(['EVALSHA (rmw)', 'P', 'redis best', 'vireo best', 'ratio', 'median', 'target', 'cpu/req'], w));
  for (const pipeline of [1, 16]) {
    const n = pipeline > 1 ? requests * 4 : requests;
    const best = { redis: 0, vireo: 0 };
    const ratios = [];
    const cpuRatios = [];
    // An uncounted warm-up each: V8 compiles Vireo's paths on the first requests.
    for (const s of [redis, vireo]) benchOnce(s, 'evalsha_rmw', pipeline, Math.ceil(requests / 5));
    const failures0 = { redis: evalshaFailures(redis), vireo: evalshaFailures(vireo) };
    for (let r = 0; r < rounds; r++) {
      const round = {};
      for (const s of r % 2 === 0 ? [redis, vireo] : [vireo, redis]) {
        const [res] = benchOnce(s, 'evalsha_rmw', pipeline, n);
        best[s.kind] = Math.max(best[s.kind], res.rps);
        round[s.kind] = res;
        s.cli('FLUSHALL');
      }
      ratios.push(round.vireo.rps / round.redis.rps);
      cpuRatios.push(round.vireo.cpuUs / round.redis.cpuUs);
    }
    for (const s of [redis, vireo]) {
      const failed = evalshaFailures(s) - failures0[s.kind];
      if (failed > 0) {
        console.log(`${s.kind}: ${failed} EVALSHA calls answered an error: the figures are not comparable`);
        return false;
      }
    }
    console.log(row(['EVALSHA_RMW', pipeline, best.redis.toFixed(0), best.vireo.toFixed(0), (best.vireo / best.redis).toFixed(2), judged(median(ratios), TARGET), `>=${TARGET}`, median(cpuRatios).toFixed(2)], w));
  }
  console.log('(ratio: best round of each; median: median of the per-round ratios, judged; * below target;');
  console.log(' cpu/req: median of the per-round ratios of server CPU time per request, vireo/redis, lower is better)\n');
  return true;
}

let queueSeq = 0;

/** One BullMQ round on `server`: jobs/s and server CPU us/job of adding, then of processing. */
async function bullmqOnce(server) {
  const connection = { host: '127.0.0.1', port: server.port, maxRetriesPerRequest: null };
  const name = `bench-${++queueSeq}`;
  const queue = new Queue(name, { connection });
  await queue.waitUntilReady();

  let cpu0 = cpuMicros(server.pid);
  let t0 = performance.now();
  let inFlight = 0;
  let failure = null;
  for (let i = 0; i < jobs && failure === null; i++) {
    inFlight++;
    queue.add('job', { i }).then(
      () => inFlight--,
      (e) => (failure = e),
    );
    while (inFlight >= windowSize && failure === null) await new Promise((r) => setImmediate(r));
  }
  while (inFlight > 0 && failure === null) await new Promise((r) => setImmediate(r));
  if (failure !== null) {
    await queue.close();
    throw failure;
  }
  const add = { jobsPerSec: jobs / ((performance.now() - t0) / 1000), cpuPerJob: (cpuMicros(server.pid) - cpu0) / jobs };

  const worker = new Worker(name, async () => 'done', { connection, concurrency, autorun: false });
  let completed = 0;
  const finished = new Promise((resolve, reject) => {
    worker.on('completed', () => ++completed === jobs && resolve());
    worker.on('error', reject);
  });
  await worker.waitUntilReady();
  cpu0 = cpuMicros(server.pid);
  t0 = performance.now();
  void worker.run();
  await finished;
  const processing = { jobsPerSec: jobs / ((performance.now() - t0) / 1000), cpuPerJob: (cpuMicros(server.pid) - cpu0) / jobs };
  await worker.close();
  await queue.close();
  server.cli('FLUSHALL');
  return { add, process: processing };
}

async function benchBullmq(redis, vireo) {
  // An uncounted warm-up round on each (a tenth of the jobs would do, but the phases must both run).
  for (const s of [redis, vireo]) await bullmqOnce(s);
  const ratios = { add: [], process: [] };
  const cpuRatios = { add: [], process: [] };
  const last = {};
  for (let r = 0; r < bullmqRounds; r++) {
    const round = {};
    for (const s of r % 2 === 0 ? [redis, vireo] : [vireo, redis]) round[s.kind] = await bullmqOnce(s);
    if (has('verbose')) console.log(`round ${r + 1}: ${JSON.stringify(round)}`);
    for (const phase of ['add', 'process']) {
      ratios[phase].push(round.vireo[phase].jobsPerSec / round.redis[phase].jobsPerSec);
      cpuRatios[phase].push(round.vireo[phase].cpuPerJob / round.redis[phase].cpuPerJob);
    }
    Object.assign(last, round);
  }
  const w = [30, 13, 13, 8, 8, 13, 13, 8];
  console.log(row(['BullMQ', 'redis jobs/s', 'vireo jobs/s', 'median', 'target', 'redis us/job', 'vireo us/job', 'median'], w));
  const labels = { add: `add (queue.add, ${windowSize} in flight)`, process: `process (1 worker x ${concurrency})` };
  for (const phase of ['add', 'process']) {
    const a = last.redis[phase];
    const b = last.vireo[phase];
    console.log(row([labels[phase], Math.round(a.jobsPerSec), Math.round(b.jobsPerSec), judged(median(ratios[phase]), TARGET), `>=${TARGET}`, a.cpuPerJob.toFixed(1), b.cpuPerJob.toFixed(1), median(cpuRatios[phase]).toFixed(2)], w));
  }
  console.log(`(${jobs} jobs, ${bullmqRounds} rounds; jobs/s of the last round, median of the per-round ratios vireo/redis, * below target;`);
  console.log(' us/job: server CPU time per job from /proc, last round; its median ratio vireo/redis, lower is better)');
}

const redis = await startServer('redis');
// Rows are keyed by `kind`: a calibration's second redis-server stands in as 'vireo'.
const vireo = { ...(await startServer(has('calibrate') ? 'redis' : 'vireo')), kind: 'vireo' };
let status = 0;
try {
  const problem = await scriptingProblem(vireo);
  const redisProblem = await scriptingProblem(redis);
  if (redisProblem !== null) throw new Error(`redis-server cannot run the benchmark script: ${redisProblem}`);
  if (problem !== null) {
    console.log(`Vireo cannot run scripts yet (${problem}): no figures.`);
    status = 1;
  } else {
    if (!has('no-evalsha') && !benchEvalsha(redis, vireo)) status = 1;
    if (!has('no-bullmq')) await benchBullmq(redis, vireo);
  }
} finally {
  await redis.stop();
  await vireo.stop();
}
process.exit(status);
