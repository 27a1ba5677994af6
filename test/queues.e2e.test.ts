/**
 * Queues built on the blocking commands, end to end with ioredis, as
 * applications build them:
 *   - a reliable list queue: a producer LPUSHes jobs, workers BLMOVE them
 *     from `jobs` to `processing` and LREM them from `processing` once done
 *     (the ack); a worker dies holding a job, which is recovered from
 *     `processing`;
 *   - a priority queue on a sorted set: workers BZPOPMIN;
 *   - the reliable queue under kill -9 of a Vireo process with appendonly
 *     yes and appendfsync always (at a random moment, or the moment a pop
 *     served by a push is acknowledged): after a restart on the same
 *     directory no acknowledged push, pop or ack is lost or duplicated;
 *   - the BZPOPMIN priority queue under kill -9 the same way: no acknowledged
 *     ZADD lost, no acknowledged pop undone.
 *
 * VIREO_QUEUE_JOBS (default 20000) sets the number of jobs of the first two,
 * VIREO_QUEUE_CRASH_ROUNDS (default 3) the number of kills of the third.
 */

import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startVireo, startVireoProcess, tempDir } from './helpers/servers.js';
import { useCleanups } from './helpers/cleanups.js';

const JOBS = Number(process.env.VIREO_QUEUE_JOBS ?? 20_000);
const CRASH_ROUNDS = Number(process.env.VIREO_QUEUE_CRASH_ROUNDS ?? 3);
const WORKERS = 4;

const { defer, track } = useCleanups();

/** An ioredis connection that never retries or queues behind the server's back (a killed server must surface as an error). */
function connect(port: number): Redis {
  const r = new Redis({
    port,
    host: '127.0.0.1',
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    lazyConnect: true,
  });
  r.on('error', () => {});
  defer(() => r.disconnect());
  return r;
}

async function connected(port: number): Promise<Redis> {
  const r = connect(port);
  await r.connect();
  return r;
}

const jobName = (i: number) => `job-${String(i).padStart(6, '0')}`;
const jobIndex = (job: string) => Number(job.slice(4));
const STOP = 'STOP';

describe('a reliable list queue (BLMOVE jobs -> processing, LREM as ack)', () => {
  it(`${JOBS} jobs, ${WORKERS} workers, one killed holding a job: every job processed, acked exactly once, queues empty`, async () => {
    const v = await startVireo();
    defer(() => v.stop());
    const producer = await connected(v.port);
    const processed = new Map<string, number>();
    const acks = new Map<string, number>();
    const seenBy: string[][] = [];
    let killedHolding: string | null = null;

    /** A worker: move a job to `processing`, process it, ack it; a STOP pill ends it. `dieAt`: crash after that many jobs, holding the next one. */
    async function worker(w: number, dieAt = Infinity): Promise<void> {
      const r = await connected(v.port);
      const mine: string[] = [];
      seenBy[w] = mine;
      for (;;) {
        const job = (await r.call('BLMOVE', 'jobs', 'processing', 'RIGHT', 'LEFT', '0')) as string;
        if (job === STOP) {
          expect(await r.lrem('processing', 1, STOP)).toBe(1);
          r.disconnect();
          return;
        }
        processed.set(job, (processed.get(job) ?? 0) + 1);
        if (mine.length === dieAt) {
          // Crash before the ack: the job stays in `processing`.
          killedHolding = job;
          r.disconnect();
          return;
        }
        mine.push(job);
        const removed = await r.lrem('processing', 1, job);
        if (removed === 1) acks.set(job, (acks.get(job) ?? 0) + 1);
      }
    }

    const workers = [worker(0, Math.min(300, Math.floor(JOBS / 10))), worker(1), worker(2), worker(3)];
    // The producer pushes while the workers run, a pipeline of 1000 LPUSHes at a time.
    for (let i = 0; i < JOBS; i += 1000) {
      const p = producer.pipeline();
      for (let j = i; j < Math.min(JOBS, i + 1000); j++) p.lpush('jobs', jobName(j));
      const res = await p.exec();
      expect(res!.every(([err]) => err === null)).toBe(true);
    }
    // One STOP pill per live worker, behind every job.
    await producer.lpush('jobs', STOP, STOP, STOP);
    await Promise.all(workers);

    // The dead worker's job is all that is left in `processing`: recover it and let a worker finish it.
    expect(killedHolding).not.toBeNull();
    expect(await producer.lrange('processing', 0, -1)).toEqual([killedHolding]);
    expect(await producer.llen('jobs')).toBe(0);
    expect(await producer.lmove('processing', 'jobs', 'RIGHT', 'LEFT')).toBe(killedHolding);
    await producer.lpush('jobs', STOP);
    await worker(4);

    for (let i = 0; i < JOBS; i++) {
      const job = jobName(i);
      expect(processed.get(job) ?? 0, job).toBeGreaterThanOrEqual(1);
      expect(acks.get(job), job).toBe(1);
    }
    expect(processed.get(killedHolding!)).toBe(2);
    expect(await producer.exists('jobs', 'processing')).toBe(0);
    // FIFO: each worker got its jobs in the order they were pushed.
    for (const mine of seenBy) {
      const idx = mine.map(jobIndex);
      expect(idx.every((x, k) => k === 0 || x > idx[k - 1]!)).toBe(true);
    }
    // Every live worker did some of the work.
    expect(seenBy.slice(1, 4).every((m) => m.length > 0)).toBe(true);
    const info = await producer.info('clients');
    expect(info).toMatch(/blocked_clients:0\r\n/);
    expect(info).toMatch(/total_blocking_keys:0\r\n/);
  }, 120_000);
});

describe('a priority queue on a sorted set (BZPOPMIN)', () => {
  it(`${JOBS} jobs, ${WORKERS} workers: every job popped once, each worker in priority order`, async () => {
    const v = await startVireo();
    defer(() => v.stop());
    const producer = await connected(v.port);
    const popped: [string, number][][] = [];

    async function worker(w: number): Promise<void> {
      const r = await connected(v.port);
      const mine: [string, number][] = [];
      popped[w] = mine;
      for (;;) {
        const res = (await r.call('BZPOPMIN', 'pq', '0')) as [string, string, string];
        expect(res[0]).toBe('pq');
        if (res[1].startsWith(STOP)) return;
        mine.push([res[1], Number(res[2])]);
      }
    }

    const workers = Array.from({ length: WORKERS }, (_, w) => worker(w));
    // Batches of 500 jobs, each batch of lower priority (higher score) than the one before,
    // in random order within the batch: a worker must never see a score lower than its last.
    const scoreOf = new Map<string, number>();
    const BATCH = 500;
    for (let i = 0; i < JOBS; i += BATCH) {
      const args: (string | number)[] = [];
      for (let j = i; j < Math.min(JOBS, i + BATCH); j++) {
        const score = i * 10 + Math.floor(Math.random() * BATCH * 10);
        scoreOf.set(jobName(j), score);
        args.push(score, jobName(j));
      }
      expect(await producer.zadd('pq', ...args)).toBe(args.length / 2);
    }
    // The pills come last: the highest score.
    await producer.zadd('pq', ...Array.from({ length: WORKERS }, (_, w) => [1e15, `${STOP}-${w}`]).flat());
    await Promise.all(workers);

    const all = popped.flat();
    expect(all.length).toBe(JOBS);
    expect(new Set(all.map(([job]) => job)).size).toBe(JOBS);
    for (const [job, score] of all) expect(score, job).toBe(scoreOf.get(job));
    for (const mine of popped) {
      for (let k = 1; k < mine.length; k++) expect(mine[k]![1], `${mine[k]![0]} after ${mine[k - 1]![0]}`).toBeGreaterThanOrEqual(mine[k - 1]![1]);
    }
    expect(popped.filter((m) => m.length > 0).length).toBeGreaterThan(1);
    expect(await producer.exists('pq')).toBe(0);
  }, 120_000);
});

describe('the reliable queue survives kill -9 (appendonly yes, appendfsync always)', () => {
  it(`${CRASH_ROUNDS} kills under load: no acknowledged push, pop or ack is lost or duplicated`, async () => {
    const dir = tempDir();
    const ARGS = ['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];
    /** Jobs still in the queues after the previous round (they must stay there, or be popped later). */
    let carried = new Set<string>();
    for (let round = 0; round < CRASH_ROUNDS; round++) {
      const p = track(await startVireoProcess(ARGS, { dir }));
      const ctl = await connected(p.port);
      const before = new Set([...(await ctl.lrange('jobs', 0, -1)), ...(await ctl.lrange('processing', 0, -1))]);
      expect(before).toEqual(carried);

      const pushSent = new Set<string>();
      const pushAcked = new Set<string>();
      const popAcked = new Set<string>();
      const ackSent = new Set<string>();
      const ackAcked = new Set<string>();
      const failures: unknown[] = [];
      let stop = false;
      /** Trickle pushes that found workers blocked, or none (the workers must block often for the test to mean anything). */
      let servedAfterBlocking = 0;
      let idle = 0;
      let killOnPop = round % 2 === 1;
      /** The producer is in a trickle phase (the workers wait for each push). */
      let trickle = false;
      const serverGone = (e: unknown) => /Connection is closed|ECONNRESET|ECONNREFUSED|EPIPE|Stream isn't writeable|connection/i.test(String(e));

      const producer = (async () => {
        const r = await connected(p.port);
        let i = 0;
        try {
          while (!stop) {
            // Bursts of eight pushes in flight (the queue fills up) alternate with single pushes
            // far apart, which the workers wait for: blocked in BLMOVE, served by the push.
            const burst = Math.floor(i / 64) % 2 === 0;
            trickle = !burst;
            const batch: Promise<void>[] = [];
            for (let k = 0; k < (burst ? 8 : 1); k++) {
              const job = `r${round}-${jobName(i++)}`;
              pushSent.add(job);
              batch.push(r.lpush('jobs', job).then(() => void pushAcked.add(job)));
            }
            await Promise.all(batch);
            if (!burst) {
              await new Promise((res) => setTimeout(res, 3));
              if ((await r.info('clients')).includes('blocked_clients:0')) idle++;
              else servedAfterBlocking++;
            }
          }
        } catch (e) {
          if (!serverGone(e)) failures.push(e);
        }
      })();
      const workers = Array.from({ length: 3 }, async () => {
        const r = await connected(p.port);
        try {
          while (!stop) {
            const job = (await r.call('BLMOVE', 'jobs', 'processing', 'RIGHT', 'LEFT', '0')) as string;
            popAcked.add(job);
            // Odd rounds kill the server the moment a pop served by a trickle push is acknowledged:
            // had its reply gone out before its LMOVE was on disk, the job would be back in `jobs`.
            if (killOnPop && trickle && ackAcked.size >= 200) {
              killOnPop = false;
              process.kill(p.proc.pid!, 'SIGKILL');
            }
            ackSent.add(job);
            if ((await r.lrem('processing', 1, job)) === 1) ackAcked.add(job);
            else failures.push(new Error(`${job} was not in processing`));
          }
        } catch (e) {
          if (!serverGone(e)) failures.push(e);
        }
      });
      // Even rounds kill once acks are flowing, at a random moment; odd ones at a served pop (above).
      const deadline = Date.now() + 30_000;
      while (ackAcked.size < 200 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
      if (round % 2 === 0) await new Promise((res) => setTimeout(res, Math.random() * 100));
      else while (killOnPop && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
      await p.kill();
      stop = true;
      await Promise.all([producer, ...workers]);
      expect(failures).toEqual([]);
      expect(ackAcked.size).toBeGreaterThan(0);
      expect(servedAfterBlocking, `pushes that found no worker blocked: ${idle}`).toBeGreaterThan(10);

      const q = track(await startVireoProcess(ARGS, { dir }));
      const c = await connected(q.port);
      const jobs = await c.lrange('jobs', 0, -1);
      const processing = await c.lrange('processing', 0, -1);
      const present = [...jobs, ...processing];
      // Nothing twice, nothing never pushed.
      expect(new Set(present).size).toBe(present.length);
      for (const job of present) expect(pushSent.has(job) || carried.has(job), job).toBe(true);
      // The queue keeps its order: newest first.
      const ours = jobs.filter((j) => j.startsWith(`r${round}-`)).map((j) => jobIndex(j.slice(j.indexOf('-') + 1)));
      expect(ours.every((x, k) => k === 0 || x < ours[k - 1]!)).toBe(true);
      const inJobs = new Set(jobs);
      const inProcessing = new Set(processing);
      for (const job of [...pushAcked, ...carried]) {
        // An acknowledged push is still queued, or was popped (its ack may have run without its reply).
        if (!ackSent.has(job)) expect(inJobs.has(job) || inProcessing.has(job), `pushed ${job}`).toBe(true);
      }
      for (const job of popAcked) {
        // An acknowledged pop is out of `jobs`; until its LREM was sent it is in `processing`.
        expect(inJobs.has(job), `popped ${job}`).toBe(false);
        if (!ackSent.has(job)) expect(inProcessing.has(job), `popped ${job}`).toBe(true);
      }
      for (const job of ackAcked) expect(inJobs.has(job) || inProcessing.has(job), `acked ${job}`).toBe(false);
      carried = new Set(present);
      await q.stop();
    }
  }, 120_000);
});

describe('the priority queue survives kill -9 (appendonly yes, appendfsync always)', () => {
  it('no acknowledged ZADD or BZPOPMIN is lost or undone; only pops in flight at the kill may be missing', async () => {
    const ARGS = ['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];
    const p = track(await startVireoProcess(ARGS));
    const pushAcked = new Set<string>();
    const popAcked = new Set<string>();
    const failures: unknown[] = [];
    const serverGone = (e: unknown) => /Connection is closed|ECONNRESET|ECONNREFUSED|EPIPE|Stream isn't writeable|connection/i.test(String(e));
    let stop = false;
    const WORKERS_HERE = 3;
    const producer = (async () => {
      const r = await connected(p.port);
      try {
        for (let i = 0; !stop; i++) {
          const job = jobName(i);
          // Priorities cycle so the queue is served out of insertion order.
          await r.zadd('pq', String(i % 97), job);
          pushAcked.add(job);
          if (i % 16 === 15) await new Promise((res) => setTimeout(res, 2)); // let the workers drain it and block
        }
      } catch (e) {
        if (!serverGone(e)) failures.push(e);
      }
    })();
    const workers = Array.from({ length: WORKERS_HERE }, async () => {
      const r = await connected(p.port);
      try {
        while (!stop) {
          const got = (await r.bzpopmin('pq', 0)) as [string, string, string] | null;
          if (got !== null) popAcked.add(got[1]);
        }
      } catch (e) {
        if (!serverGone(e)) failures.push(e);
      }
    });
    const deadline = Date.now() + 30_000;
    while (popAcked.size < 300 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 5));
    await new Promise((res) => setTimeout(res, Math.random() * 100));
    await p.kill();
    stop = true;
    await Promise.all([producer, ...workers]);
    expect(failures).toEqual([]);
    expect(popAcked.size).toBeGreaterThan(0);

    const q = track(await startVireoProcess(ARGS, { dir: p.dir }));
    const c = await connected(q.port);
    const queued = new Set(await c.zrange('pq', 0, -1));
    // A pop whose reply arrived is never undone.
    for (const job of popAcked) expect(queued.has(job), `popped ${job}`).toBe(false);
    // An acknowledged push is still queued or was popped; the only exceptions are pops that
    // were on disk when the server died but whose replies never left it (one per worker at most).
    const missing = [...pushAcked].filter((job) => !queued.has(job) && !popAcked.has(job));
    expect(missing.length).toBeLessThanOrEqual(WORKERS_HERE);
    await q.stop();
  }, 60_000);
});
