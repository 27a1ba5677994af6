/**
 * BullMQ, unchanged, against Vireo and against redis-server (the same tests
 * in one describe block per server, test/helpers/targets.ts). BullMQ is the
 * heaviest user of Lua scripting among Node clients: every queue operation is
 * an EVALSHA of one of its ~60 scripts (ioredis defineCommand, EVAL on
 * NOSCRIPT), plus BZPOPMIN on a marker key, XREAD BLOCK for QueueEvents,
 * CLIENT SETNAME/LIST for worker discovery and INFO for the version check.
 *
 * Covered: plain jobs (return values, progress, logs, worker discovery),
 * delayed and promoted jobs, priorities, retries with backoff, failures and
 * manual retry, job schedulers (every, limit, cron pattern), flows
 * (FlowProducer, children values, a failing child failing its parent), a
 * rate-limited worker, QueueEvents, and a few thousand jobs on concurrent
 * workers, each completed exactly once with consistent counts and nothing
 * left after obliterate.
 *
 * No assertion is on speed: only lower bounds BullMQ itself guarantees
 * (a delayed job never runs before its delay, a rate-limited worker never
 * takes more than `max` jobs per window).
 *
 * VIREO_E2E_SERVERS=redis|vireo runs one server alone; VIREO_BULLMQ_JOBS
 * (default 5000) sets the size of the bulk test.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { FlowProducer, Job, Queue, QueueEvents, UnrecoverableError, Worker, type ConnectionOptions, type Processor, type WorkerOptions } from 'bullmq';
import { useCleanups } from './helpers/cleanups.js';
import { TARGETS, stopChecked } from './helpers/targets.js';
import type { ProcessHandle } from './helpers/servers.js';
import { waitFor } from './helpers/info.js';

const BULK_JOBS = Number(process.env.VIREO_BULLMQ_JOBS ?? 5000);
const BULK_WORKERS = 4;
const BULK_CONCURRENCY = 10;

const { defer } = useCleanups();

/** Something BullMQ made that holds connections. */
interface Closable {
  close(): Promise<void>;
}

/** A promise resolved by hand: `until(n)` waits for n calls of `tick`. */
function counter(): { tick(): void; until(n: number): Promise<void>; get count(): number } {
  let count = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    tick() {
      count++;
      for (const w of waiters.filter((w) => count >= w.n)) w.resolve();
    },
    until(n) {
      if (count >= n) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
    get count() {
      return count;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `probe` until it returns something (the test's timeout bounds the wait). */
async function eventually<T>(probe: () => Promise<T | null>): Promise<T> {
  for (;;) {
    const got = await probe();
    if (got !== null) return got;
    await sleep(50);
  }
}

/** Every count getJobCounts reports, zero unless listed in `nonZero`. */
function countsOf(nonZero: Record<string, number>): Record<string, number> {
  const all = ['active', 'completed', 'delayed', 'failed', 'prioritized', 'waiting', 'waiting-children'];
  return Object.fromEntries(all.map((state) => [state, nonZero[state] ?? 0]));
}

for (const target of TARGETS) {
  describe.skipIf(!target.enabled)(`BullMQ against ${target.label}`, () => {
    let server: ProcessHandle | undefined;
    let queueSeq = 0;

    beforeAll(async () => {
      server = await target.start();
    }, 30_000);
    afterAll(async () => {
      if (server !== undefined) await stopChecked(server);
    });

    const connection = (): ConnectionOptions => ({ host: '127.0.0.1', port: server!.port, maxRetriesPerRequest: null });
    /** A queue name no other test uses. */
    const queueName = (what: string) => `${what}-${++queueSeq}`;
    /** `thing`, closed after the test (newest first: workers before their queue). */
    function open<T extends Closable>(thing: T): T {
      defer(() => thing.close());
      return thing;
    }
    const queue = (name: string) => open(new Queue(name, { connection: connection() }));
    const worker = <D = unknown, R = unknown>(name: string, processor: Processor<D, R>, opts: Partial<WorkerOptions> = {}) =>
      open(new Worker<D, R>(name, processor, { connection: connection(), ...opts }));
    /** QueueEvents reading the queue's event stream from its start, so no event is missed however late it is ready. */
    async function queueEvents(name: string): Promise<QueueEvents> {
      const events = open(new QueueEvents(name, { connection: connection(), lastEventId: '0-0' }));
      await events.waitUntilReady();
      return events;
    }
    /** A plain ioredis connection for looking at keys behind BullMQ's back. */
    function raw(): Redis {
      const r = new Redis({ host: '127.0.0.1', port: server!.port, lazyConnect: true });
      defer(() => r.disconnect());
      return r;
    }

    it('plain jobs: processed once, return values, progress and logs stored, the named worker listed', async () => {
      const name = queueName('plain');
      const q = queue(name);
      for (let n = 0; n < 10; n++) await q.add('double', { n });
      expect(await q.getJobCounts()).toEqual(countsOf({ waiting: 10 }));

      const done = counter();
      const w = worker<{ n: number }, { doubled: number }>(
        name,
        async (job) => {
          await job.updateProgress(50);
          await job.log(`doubling ${job.data.n}`);
          return { doubled: job.data.n * 2 };
        },
        { name: 'doubler' },
      );
      w.on('completed', () => done.tick());
      await done.until(10);

      const jobs = await q.getJobs(['completed']);
      expect(jobs.map((j) => Number(j.id)).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      for (const job of jobs) {
        const data = job.data as { n: number };
        expect(job.returnvalue).toEqual({ doubled: data.n * 2 });
        expect(job.progress).toBe(50);
        expect(job.attemptsMade).toBe(1);
        expect(job.finishedOn).toBeGreaterThanOrEqual(job.processedOn!);
        expect(await job.getState()).toBe('completed');
        expect(await q.getJobLogs(job.id!)).toEqual({ logs: [`doubling ${data.n}`], count: 1 });
      }
      expect(await q.getJobCounts()).toEqual(countsOf({ completed: 10 }));
      // CLIENT SETNAME and CLIENT LIST: the worker is found by its connection's name.
      const workers = await q.getWorkers();
      expect(workers.length).toBeGreaterThanOrEqual(1);
      // BullMQ names the worker's connections bull:<queue name in base64>:w:<worker name>.
      const clientName = `bull:${Buffer.from(name).toString('base64')}:w:doubler`;
      expect(workers.every((c) => c.name === name && c.rawname === clientName)).toBe(true);
    });

    it('custom job ids and deduplication: a second add of the same id or deduplication id adds nothing', async () => {
      const name = queueName('dedup');
      const q = queue(name);
      const a = await q.add('j', { v: 1 }, { jobId: 'fixed' });
      const b = await q.add('j', { v: 2 }, { jobId: 'fixed' });
      expect([a.id, b.id]).toEqual(['fixed', 'fixed']);
      const c = await q.add('j', { v: 3 }, { deduplication: { id: 'd1' } });
      const d = await q.add('j', { v: 4 }, { deduplication: { id: 'd1' } });
      expect(d.id).toBe(c.id);
      expect(await q.getDeduplicationJobId('d1')).toBe(c.id);
      expect(await q.getJobCounts()).toEqual(countsOf({ waiting: 2 }));
      expect((await Job.fromId(q, 'fixed'))!.data).toEqual({ v: 1 });
    });

    it('delayed jobs wait in the delayed set until due; a promoted job runs at once', async () => {
      const name = queueName('delayed');
      const q = queue(name);
      const soon = await q.add('soon', {}, { delay: 800 });
      const later = await q.add('later', {}, { delay: 3_600_000 });
      expect(await soon.getState()).toBe('delayed');
      expect(await q.getJobCounts()).toEqual(countsOf({ delayed: 2 }));

      const done = counter();
      const ran: string[] = [];
      const w = worker(name, async (job) => void ran.push(job.name));
      w.on('completed', () => done.tick());
      await done.until(1);
      expect(ran).toEqual(['soon']);
      const finished = (await Job.fromId(q, soon.id!))!;
      // BullMQ promotes a delayed job only once its time has come.
      expect(finished.processedOn!).toBeGreaterThanOrEqual(soon.timestamp + 800);

      await later.promote();
      await done.until(2);
      expect(ran).toEqual(['soon', 'later']);
      expect(await q.getJobCounts()).toEqual(countsOf({ completed: 2 }));
    });

    it('prioritized jobs run lowest number first, in insertion order within a priority; changePriority moves a job', async () => {
      const name = queueName('prio');
      const q = queue(name);
      const priorities = [3, 1, 2, 3, 1, 2, 3, 1];
      const jobs: Job[] = [];
      for (const [i, priority] of priorities.entries()) jobs.push(await q.add(`p${priority}-${i}`, {}, { priority }));
      expect(await q.getJobCounts()).toEqual(countsOf({ prioritized: priorities.length }));
      // The first priority-3 job becomes priority 1: it goes after the priority-1 jobs already there.
      await jobs[0]!.changePriority({ priority: 1 });

      const order: string[] = [];
      const done = counter();
      const w = worker(name, async (job) => void order.push(job.name), { concurrency: 1 });
      w.on('completed', () => done.tick());
      await done.until(priorities.length);
      expect(order).toEqual(['p1-1', 'p1-4', 'p1-7', 'p3-0', 'p2-2', 'p2-5', 'p3-3', 'p3-6']);
      expect(await q.getJobCounts()).toEqual(countsOf({ completed: priorities.length }));
    });

    it('retries with backoff until success; exhausted attempts and UnrecoverableError fail; a failed job is retried by hand', async () => {
      const name = queueName('retry');
      const q = queue(name);
      const attemptsAt = new Map<string, number[]>();
      let recovered = false;
      const finished = counter();
      const w = worker(name, async (job) => {
        attemptsAt.set(job.name, [...(attemptsAt.get(job.name) ?? []), Date.now()]);
        if (job.name === 'flaky' && job.attemptsMade < 2) throw new Error(`flaky attempt ${job.attemptsMade + 1}`);
        if (job.name === 'doomed') throw new Error('boom');
        if (job.name === 'fatal' && !recovered) throw new UnrecoverableError('fatal error');
        return `${job.name} ok`;
      });
      w.on('completed', () => finished.tick());
      w.on('failed', (job) => {
        if (job !== undefined && job.finishedOn !== undefined) finished.tick();
      });
      const flaky = await q.add('flaky', {}, { attempts: 3, backoff: { type: 'fixed', delay: 200 } });
      const doomed = await q.add('doomed', {}, { attempts: 2, backoff: { type: 'exponential', delay: 100 } });
      const fatal = await q.add('fatal', {}, { attempts: 5 });
      await finished.until(3);

      const f = (await Job.fromId(q, flaky.id!))!;
      expect(await f.getState()).toBe('completed');
      expect(f.returnvalue).toBe('flaky ok');
      expect(f.attemptsMade).toBe(3);
      const times = attemptsAt.get('flaky')!;
      expect(times).toHaveLength(3);
      // A retry waits for its backoff: never earlier.
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(200);

      const d = (await Job.fromId(q, doomed.id!))!;
      expect(await d.getState()).toBe('failed');
      expect(d.failedReason).toBe('boom');
      expect(d.attemptsMade).toBe(2);
      expect(d.stacktrace).toHaveLength(2);
      expect(attemptsAt.get('doomed')).toHaveLength(2);

      const x = (await Job.fromId(q, fatal.id!))!;
      expect(await x.getState()).toBe('failed');
      expect(x.failedReason).toBe('fatal error');
      expect(attemptsAt.get('fatal')).toHaveLength(1);
      expect(await q.getJobCounts()).toEqual(countsOf({ completed: 1, failed: 2 }));

      recovered = true;
      await x.retry();
      await finished.until(4);
      expect(await (await Job.fromId(q, fatal.id!))!.getState()).toBe('completed');
      expect(await q.getJobCounts()).toEqual(countsOf({ completed: 2, failed: 1 }));
    });

    it('job schedulers: every N ms, a limit, a cron pattern; removing one stops it', async () => {
      const name = queueName('sched');
      const q = queue(name);
      const byScheduler = new Map<string, Job[]>();
      const seen = counter();
      worker(name, async (job) => {
        const id = job.repeatJobKey ?? '(none)';
        byScheduler.set(id, [...(byScheduler.get(id) ?? []), job]);
        seen.tick();
      });

      const first = await q.upsertJobScheduler('every-250', { every: 250 }, { name: 'tick', data: { kind: 'every' } });
      expect(first!.name).toBe('tick');
      await q.upsertJobScheduler('limited', { every: 150, limit: 2 }, { name: 'limited', data: {} });
      await q.upsertJobScheduler('cron', { pattern: '* * * * * *' }, { name: 'cron', data: {} });
      const schedulers = await q.getJobSchedulers();
      expect(schedulers.map((s) => s.key).sort()).toEqual(['cron', 'every-250', 'limited']);
      expect(schedulers.find((s) => s.key === 'every-250')!.every).toBe(250);
      expect(schedulers.find((s) => s.key === 'cron')!.pattern).toBe('* * * * * *');

      // Wait for three ticks of each unlimited scheduler.
      while ((byScheduler.get('every-250')?.length ?? 0) < 3 || (byScheduler.get('cron')?.length ?? 0) < 3) await seen.until(seen.count + 1);
      expect(await q.removeJobScheduler('every-250')).toBe(true);
      expect(await q.removeJobScheduler('cron')).toBe(true);
      expect(await q.getJobSchedulersCount()).toBeLessThanOrEqual(1);
      expect(byScheduler.get('every-250')!.every((j) => j.name === 'tick' && (j.data as { kind: string }).kind === 'every')).toBe(true);
      // The cron jobs ran on distinct seconds.
      const cronSeconds = byScheduler.get('cron')!.map((j) => Math.floor(j.opts.prevMillis! / 1000));
      expect(new Set(cronSeconds).size).toBe(cronSeconds.length);

      // A job already taken from the delayed set may still run; then nothing more does:
      // a removed scheduler leaves no delayed job behind, and the limited one made exactly 2 jobs.
      await eventually(async () => {
        const pending = await q.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
        return Object.values(pending).every((n) => n === 0) ? true : null;
      });
      const ran = seen.count;
      await sleep(700);
      expect(seen.count).toBe(ran);
      expect(byScheduler.get('limited')).toHaveLength(2);
      expect(await q.getJobCounts()).toEqual(countsOf({ completed: ran }));
    });

    it('flows: the parent waits for its children (and a grandchild), then reads their values; a failing child fails its parent', async () => {
      const parents = queueName('flow-parent');
      const children = queueName('flow-child');
      const flow = open(new FlowProducer({ connection: connection() }));
      const tree = await flow.add({
        name: 'sum',
        queueName: parents,
        children: [
          { name: 'leaf', queueName: children, data: { n: 1 } },
          { name: 'leaf', queueName: children, data: { n: 2 } },
          { name: 'branch', queueName: children, data: { n: 3 }, children: [{ name: 'leaf', queueName: children, data: { n: 4 } }] },
        ],
      });
      expect(await tree.job.getState()).toBe('waiting-children');
      const parentQueue = queue(parents);
      const childQueue = queue(children);
      expect(await parentQueue.getJobCounts()).toEqual(countsOf({ 'waiting-children': 1 }));
      expect(await childQueue.getJobCounts()).toEqual(countsOf({ waiting: 3, 'waiting-children': 1 }));

      // What the parent saw of its children when it ran.
      let seenByParent: { values: Record<string, number>; states: string[]; pending: number } | null = null;
      const parentDone = counter();
      let parentRuns = 0;
      const pw = worker(parents, async (job) => {
        parentRuns++;
        const values = await job.getChildrenValues<number>();
        const deps = await job.getDependencies();
        const states = await Promise.all(Object.keys(deps.processed ?? {}).map(async (key) => (await Job.fromId(childQueue, key.split(':').pop()!))!.getState()));
        const counts = await job.getDependenciesCount();
        seenByParent = { values, states, pending: counts.unprocessed ?? -1 };
        return Object.values(values).reduce((a, b) => a + b, 0);
      });
      pw.on('completed', () => parentDone.tick());
      pw.on('failed', () => parentDone.tick());
      worker<{ n: number }, number>(
        children,
        async (job) => {
          if (job.name === 'bad') throw new Error('bad child');
          if (job.name === 'branch') {
            const below = Object.values(await job.getChildrenValues<number>());
            return job.data.n * 10 + below.reduce((a, b) => a + b, 0);
          }
          return job.data.n * 10;
        },
        { concurrency: 3 },
      );
      await parentDone.until(1);
      const parent = (await Job.fromId(parentQueue, tree.job.id!))!;
      expect(await parent.getState()).toBe('completed');
      expect(parent.returnvalue).toBe(10 + 20 + (30 + 40));
      expect(seenByParent).not.toBeNull();
      const seen = seenByParent!;
      expect(Object.values(seen.values).sort((a, b) => a - b)).toEqual([10, 20, 70]);
      expect(Object.keys(seen.values).every((k) => k.startsWith(`bull:${children}:`))).toBe(true);
      expect(seen.states).toEqual(['completed', 'completed', 'completed']);
      expect(seen.pending).toBe(0);
      expect(await childQueue.getJobCounts()).toEqual(countsOf({ completed: 4 }));

      // failParentOnFailure: the child fails after its only attempt and takes the parent with it.
      const failing = await flow.add({
        name: 'doomed-parent',
        queueName: parents,
        children: [{ name: 'bad', queueName: children, data: { n: 0 }, opts: { failParentOnFailure: true } }],
      });
      // The state first, then the job: a job read before the state check may predate the failure (no failedReason yet).
      const failedParent = (await eventually(async () =>
        (await parentQueue.getJobState(failing.job.id!)) === 'failed' ? ((await Job.fromId(parentQueue, failing.job.id!)) ?? null) : null,
      ))!;
      expect(failedParent.failedReason).toContain(`child bull:${children}:${failing.children![0]!.job.id} failed`);
      expect(await (await Job.fromId(childQueue, failing.children![0]!.job.id!))!.getState()).toBe('failed');
      // The parent fails through its worker (a deferred failure), never running its processor.
      await parentDone.until(2);
      expect(parentRuns).toBe(1);
    });

    it('a rate-limited worker takes at most `max` jobs per `duration` window', async () => {
      const name = queueName('limited');
      const q = queue(name);
      const max = 4;
      const duration = 1000;
      const jobs = 12;
      const startedAt: number[] = [];
      const done = counter();
      await q.addBulk(Array.from({ length: jobs }, (_, i) => ({ name: 'limited', data: { i } })));
      const w = worker(name, async (job) => void startedAt.push(job.processedOn!), { concurrency: 8, limiter: { max, duration } });
      w.on('completed', () => done.tick());
      await done.until(jobs);
      expect(await q.getJobCounts()).toEqual(countsOf({ completed: jobs }));
      // Each window opens at its first job and lasts `duration`, so job k+2*max
      // starts at least `duration` after job k. A job's processedOn is the
      // worker's clock when it asked for the job, before the server counted
      // it: allow half a window for that lag (without the limiter all 12 jobs
      // would start within a few milliseconds).
      const lag = duration / 2;
      startedAt.sort((a, b) => a - b);
      for (let k = 0; k + 2 * max < jobs; k++) expect(startedAt[k + 2 * max]! - startedAt[k]!).toBeGreaterThanOrEqual(duration - lag);
      expect(startedAt[jobs - 1]! - startedAt[0]!).toBeGreaterThanOrEqual((jobs / max - 1) * duration - lag);
    });

    it('QueueEvents: added, active, progress, completed and failed events arrive; waitUntilFinished resolves and rejects', async () => {
      const name = queueName('events');
      const q = queue(name);
      const events = await queueEvents(name);
      const seen: Record<string, string[]> = { added: [], active: [], progress: [], completed: [], failed: [] };
      const returnValues = new Map<string, unknown>();
      const reasons = new Map<string, string>();
      events.on('added', ({ jobId }) => seen.added!.push(jobId));
      events.on('active', ({ jobId }) => seen.active!.push(jobId));
      events.on('progress', ({ jobId }) => seen.progress!.push(jobId));
      events.on('completed', ({ jobId, returnvalue }) => {
        seen.completed!.push(jobId);
        returnValues.set(jobId, returnvalue);
      });
      events.on('failed', ({ jobId, failedReason }) => {
        seen.failed!.push(jobId);
        reasons.set(jobId, failedReason);
      });
      worker<{ ok: boolean }, string>(name, async (job) => {
        await job.updateProgress({ step: 1 });
        if (!job.data.ok) throw new Error(`job ${job.id} refused`);
        return `job ${job.id} done`;
      });
      const good = await q.add('good', { ok: true });
      const bad = await q.add('bad', { ok: false });
      expect(await good.waitUntilFinished(events, 30_000)).toBe(`job ${good.id} done`);
      await expect(bad.waitUntilFinished(events, 30_000)).rejects.toThrow(`job ${bad.id} refused`);
      // waitUntilFinished may answer from the job's stored state before QueueEvents read the
      // stream that far: wait for the last event (the stream keeps them in order, so the
      // earlier ones of both jobs have been delivered by then).
      await waitFor('the failed event', async () => seen.failed!.includes(bad.id!) && seen.completed!.includes(good.id!), 30_000);
      expect(seen.added).toEqual([good.id, bad.id]);
      expect([...seen.active!].sort()).toEqual([good.id, bad.id].sort());
      expect([...seen.progress!].sort()).toEqual([good.id, bad.id].sort());
      expect(seen.completed).toEqual([good.id]);
      expect(returnValues.get(good.id!)).toBe(`job ${good.id} done`);
      expect(seen.failed).toEqual([bad.id]);
      expect(reasons.get(bad.id!)).toBe(`job ${bad.id} refused`);
    });

    it(`${BULK_JOBS} jobs on ${BULK_WORKERS} workers x ${BULK_CONCURRENCY}: each completed exactly once, counts consistent, nothing left after obliterate`, async () => {
      const name = queueName('bulk');
      const q = queue(name);
      const processed = new Map<string, number>();
      const completedEvents = new Map<string, number>();
      const done = counter();
      for (let w = 0; w < BULK_WORKERS; w++) {
        const wk = worker(
          name,
          async (job) => {
            processed.set(job.id!, (processed.get(job.id!) ?? 0) + 1);
            // Some jobs yield to the event loop, so jobs finish out of order.
            if (Number(job.id) % 7 === 0) await sleep(1);
            return (job.data as { i: number }).i;
          },
          { concurrency: BULK_CONCURRENCY },
        );
        wk.on('completed', (job) => {
          completedEvents.set(job.id!, (completedEvents.get(job.id!) ?? 0) + 1);
          done.tick();
        });
      }
      // Added while the workers run: half by addBulk (MULTI of EVALSHAs), half one at a time.
      const ids: string[] = [];
      for (let i = 0; i < BULK_JOBS / 2; i += 250) {
        const batch = Array.from({ length: Math.min(250, BULK_JOBS / 2 - i) }, (_, k) => ({ name: 'bulk', data: { i: i + k } }));
        ids.push(...(await q.addBulk(batch)).map((j) => j.id!));
      }
      for (let i = BULK_JOBS / 2; i < BULK_JOBS; i += 50) {
        const adds = Array.from({ length: Math.min(50, BULK_JOBS - i) }, (_, k) => q.add('bulk', { i: i + k }));
        ids.push(...(await Promise.all(adds)).map((j) => j.id!));
      }
      expect(new Set(ids).size).toBe(BULK_JOBS);
      await done.until(BULK_JOBS);

      const twice = [...processed].filter(([, n]) => n !== 1);
      expect(twice).toEqual([]);
      expect(processed.size).toBe(BULK_JOBS);
      expect([...completedEvents.values()].every((n) => n === 1)).toBe(true);
      expect(completedEvents.size).toBe(BULK_JOBS);
      expect([...processed.keys()].sort()).toEqual([...ids].sort());
      expect(await q.getJobCounts()).toEqual(countsOf({ completed: BULK_JOBS }));
      expect(await q.count()).toBe(0);
      expect(await q.getCompletedCount()).toBe(BULK_JOBS);
      const sample = (await q.getJobs(['completed'], 0, 99)) as Job[];
      expect(sample).toHaveLength(100);
      for (const job of sample) expect(job.returnvalue).toBe((job.data as { i: number }).i);

      // Obliterate (pause first: BullMQ refuses to obliterate a running queue without force).
      await q.pause();
      await q.obliterate({ force: true });
      const r = raw();
      await r.connect();
      expect(await r.keys(`bull:${name}:*`)).toEqual([]);
    }, 120_000);
  });
}
