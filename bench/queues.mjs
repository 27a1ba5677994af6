// Queue round trips side by side with redis-server: one producer pushes
// jobs, consumers take them with a blocking pop, so every job is one push,
// one wake-up and one served blocked client. Prints jobs/s and the server's
// CPU time per job for both, and their ratio (medians of per-round ratios).
//
//   node bench/queues.mjs [--jobs 50000] [--consumers 4] [--window 64] [--rounds 5]
//                         [--tests brpop,blmove,bzpopmin,xreadgroup] [--pin]
//   --pin: servers on CPU 0, this process (the clients) on CPU 1
import Redis from 'ioredis';
import { cpuMicros, median, options, pinSelf, requireTools, row, startServer } from './servers.mjs';

const { opt } = options(process.argv.slice(2));
const jobs = Number(opt('jobs', '50000'));
const consumers = Number(opt('consumers', '4'));
const windowSize = Number(opt('window', '64'));
const rounds = Number(opt('rounds', '5'));
const tests = opt('tests', 'brpop,blmove,bzpopmin,xreadgroup').split(',');

/** How each test pushes and takes a job. */
const WORKLOADS = {
  brpop: { push: (r, i) => r.lpush('q', `job:${i}`), take: (r) => r.brpop('q', 0) },
  blmove: { push: (r, i) => r.lpush('q', `job:${i}`), take: (r, id) => r.blmove('q', `processing:${id}`, 'RIGHT', 'LEFT', 0) },
  bzpopmin: { push: (r, i) => r.zadd('pq', i % 1000, `job:${i}`), take: (r) => r.bzpopmin('pq', 0) },
  // A consumer group: read one message, acknowledge it.
  xreadgroup: {
    setup: (r) => r.xgroup('CREATE', 's', 'g', '$', 'MKSTREAM'),
    push: (r, i) => r.xadd('s', '*', 'job', String(i)),
    take: async (r, id) => {
      const got = await r.xreadgroup('GROUP', 'g', `c${id}`, 'COUNT', 1, 'BLOCK', 0, 'STREAMS', 's', '>');
      if (got !== null) await r.xack('s', 'g', got[0][1][0][0]);
      return got;
    },
  },
};

async function runOnce(server, test) {
  const w = WORKLOADS[test];
  const producer = new Redis(server.port, '127.0.0.1');
  const workers = Array.from({ length: consumers }, () => new Redis(server.port, '127.0.0.1'));
  await producer.flushall();
  await w.setup?.(producer);
  let taken = 0;
  let done;
  const finished = new Promise((r) => (done = r));
  const loops = workers.map(async (r, id) => {
    while (taken < jobs) {
      const got = await w.take(r, id);
      if (got !== null && ++taken === jobs) done();
    }
  });
  await new Promise((r) => setTimeout(r, 50)); // every worker is blocked before the first push
  const pid = server.pid;
  const cpu0 = cpuMicros(pid);
  const t0 = performance.now();
  let inFlight = 0;
  for (let i = 0; i < jobs; i++) {
    inFlight++;
    w.push(producer, i).then(() => inFlight--);
    while (inFlight >= windowSize) await new Promise((r) => setImmediate(r));
  }
  await finished;
  const secs = (performance.now() - t0) / 1000;
  const cpu = cpuMicros(pid) - cpu0;
  for (const r of workers) r.disconnect();
  await Promise.allSettled(loops);
  producer.disconnect();
  return { jobsPerSec: jobs / secs, cpuPerJob: cpu / jobs };
}

requireTools(['redis-server', 'redis-cli']);
pinSelf();
const redis = await startServer('redis');
const vireo = await startServer('vireo');
try {
  const widths = [10, 14, 14, 8, 14, 14, 8];
  console.log(row(['test', 'redis jobs/s', 'vireo jobs/s', 'median', 'redis us/job', 'vireo us/job', 'median'], widths));
  for (const test of tests) {
    // One uncounted warm-up each: V8 compiles Vireo's paths on the first requests.
    await runOnce(redis, test);
    await runOnce(vireo, test);
    const rate = [];
    const cpu = [];
    const last = {};
    for (let i = 0; i < rounds; i++) {
      const a = await runOnce(redis, test);
      const b = await runOnce(vireo, test);
      rate.push(b.jobsPerSec / a.jobsPerSec);
      cpu.push(b.cpuPerJob / a.cpuPerJob);
      Object.assign(last, { a, b });
    }
    console.log(
      row(
        [test, Math.round(last.a.jobsPerSec), Math.round(last.b.jobsPerSec), median(rate).toFixed(2), last.a.cpuPerJob.toFixed(1), last.b.cpuPerJob.toFixed(1), median(cpu).toFixed(2)],
        widths,
      ),
    );
  }
  console.log(`(${jobs} jobs, ${consumers} consumers, ${windowSize} pushes in flight; throughput median is vireo/redis, >= 0.9 is the target; CPU median is vireo/redis per job, lower is better)`);
} finally {
  await redis.stop();
  await vireo.stop();
}
