/**
 * A stream consumer-group work queue end to end with a real client
 * (ioredis), as event-processing users run one: a producer, four consumers
 * in one group reading with XREADGROUP BLOCK and acknowledging with XACK, a
 * consumer that dies with messages in flight, and XAUTOCLAIM handing them
 * to the survivors. Then the same queue under `appendfsync always` with the
 * server killed (-9) mid-run: no acknowledged XADD or XACK may be lost.
 *
 * VIREO_E2E_MESSAGES sets the message count (default 100000).
 */

import { afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { startVireo, startVireoProcess, type ProcessHandle } from './helpers/servers.js';

const MESSAGES = Number(process.env.VIREO_E2E_MESSAGES ?? 100000);
const CONSUMERS = 4;

type Entries = [string, [string, string[]][]][] | null;

const handles: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const h of handles.splice(0).reverse()) await h.stop();
});

/** Message ids of an XREADGROUP/XAUTOCLAIM entry list. */
const idsOf = (entries: [string, string[]][]) => entries.map(([id]) => id);

describe('a consumer-group work queue on a stream (ioredis)', () => {
  it(`${MESSAGES} messages, 4 consumers, one dies mid-run: every message processed, acknowledged exactly once, nothing left pending`, async () => {
    const v = await startVireo();
    handles.push(v);
    const admin = new Redis(v.port, '127.0.0.1');
    handles.push({ stop: async () => void admin.disconnect() });
    await admin.xgroup('CREATE', 'jobs', 'workers', '$', 'MKSTREAM');

    const processed = new Map<string, number>();
    /** How many XACKs of each id answered 1: exactly one may. */
    const ackCount = new Map<string, number>();
    const ackEach = async (r: Redis, ids: string[]) => {
      const pipe = r.pipeline();
      for (const id of ids) pipe.xack('jobs', 'workers', id);
      const replies = (await pipe.exec())!;
      let n = 0;
      replies.forEach(([err, one], i) => {
        expect(err).toBeNull();
        if (one === 1) {
          ackCount.set(ids[i]!, (ackCount.get(ids[i]!) ?? 0) + 1);
          n++;
        }
      });
      return n;
    };
    /** What the dying consumer held unacknowledged. */
    const held: string[] = [];
    let acked = 0;
    let producerDone = false;
    // The consumer that dies reads but never acknowledges after its first few messages.
    const doomed = 'c0';
    let doomedStop = false;

    const consume = async (name: string) => {
      const r = new Redis(v.port, '127.0.0.1');
      try {
        for (;;) {
          if (name === doomed && doomedStop) return;
          if (producerDone && acked >= MESSAGES) return;
          const res = (await r.xreadgroup('GROUP', 'workers', name, 'COUNT', 50, 'BLOCK', 100, 'STREAMS', 'jobs', '>')) as Entries;
          if (res === null) continue;
          const ids = idsOf(res[0]![1]);
          for (const id of ids) processed.set(id, (processed.get(id) ?? 0) + 1);
          if (name === doomed && processed.size > MESSAGES / 10) {
            held.push(...ids);
            doomedStop = true; // dies holding these messages unacknowledged
            return;
          }
          const n = await ackEach(r, ids); // read `acked` after the await: the loops run concurrently
          acked += n;
        }
      } finally {
        r.disconnect();
      }
    };

    const producer = (async () => {
      const p = new Redis(v.port, '127.0.0.1');
      const batch = 500;
      for (let i = 0; i < MESSAGES; i += batch) {
        const pipe = p.pipeline();
        for (let j = i; j < Math.min(MESSAGES, i + batch); j++) pipe.xadd('jobs', '*', 'n', String(j), 'task', 'resize');
        await pipe.exec();
      }
      producerDone = true;
      p.disconnect();
    })();

    // A reclaimer takes over whatever the dead consumer held, as a supervisor would.
    const reclaim = (async () => {
      const r = new Redis(v.port, '127.0.0.1');
      try {
        while (!(producerDone && acked >= MESSAGES)) {
          await new Promise((res) => setTimeout(res, 50));
          if (!doomedStop) continue;
          let cursor = '0-0';
          do {
            // Only messages idle for a second: the live consumers acknowledge theirs at once.
            const [next, entries] = (await r.xautoclaim('jobs', 'workers', 'reclaimer', 1000, cursor, 'COUNT', 200)) as [string, [string, string[]][], string[]];
            cursor = next;
            const ids = idsOf(entries);
            if (ids.length === 0) continue;
            for (const id of ids) processed.set(id, (processed.get(id) ?? 0) + 1);
            const n = await ackEach(r, ids); // read `acked` after the await: the loops run concurrently
            acked += n;
          } while (cursor !== '0-0');
        }
      } finally {
        r.disconnect();
      }
    })();

    await Promise.all([producer, reclaim, ...Array.from({ length: CONSUMERS }, (_, i) => consume(`c${i}`))]);

    expect(await admin.xlen('jobs')).toBe(MESSAGES);
    expect(processed.size).toBe(MESSAGES);
    // Acknowledged exactly once: each XACK of an id counted 1 once.
    expect(acked).toBe(MESSAGES);
    expect([...ackCount.values()].every((n) => n === 1)).toBe(true);
    const summary = (await admin.xpending('jobs', 'workers')) as [number, ...unknown[]];
    expect(summary[0]).toBe(0);
    // The dead consumer's messages were delivered again, to the reclaimer.
    expect(held.length).toBeGreaterThan(0);
    for (const id of held) expect(processed.get(id)).toBeGreaterThanOrEqual(2);
  }, 300_000);
});

describe('the stream queue survives kill -9 under appendfsync always', () => {
  it('no acknowledged XADD or XACK is lost, no message duplicated', async () => {
    let p: ProcessHandle = await startVireoProcess(['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']);
    const dir = p.dir;
    handles.push({ stop: () => p.kill() });
    const admin = new Redis(p.port, '127.0.0.1', { maxRetriesPerRequest: 0, retryStrategy: () => null });
    await admin.xgroup('CREATE', 'jobs', 'workers', '$', 'MKSTREAM');
    admin.disconnect();

    const added: string[] = [];
    const ackedIds = new Set<string>();
    let stop = false;
    const opts = { maxRetriesPerRequest: 0, retryStrategy: () => null, enableOfflineQueue: false } as const;
    /** A client that does not queue or retry (so nothing is sent twice), once connected. */
    const connect = async () => {
      const r = new Redis(p.port, '127.0.0.1', opts);
      await new Promise((res, rej) => {
        r.once('ready', res);
        r.once('error', rej);
      });
      return r;
    };

    const producer = (async () => {
      const r = await connect();
      try {
        for (let i = 0; !stop; i++) added.push((await r.xadd('jobs', '*', 'n', String(i)))!);
      } catch {
        // killed under us
      } finally {
        r.disconnect();
      }
    })();
    const consumers = Array.from({ length: CONSUMERS }, async (_, c) => {
      const r = await connect();
      try {
        while (!stop) {
          const res = (await r.xreadgroup('GROUP', 'workers', `c${c}`, 'COUNT', 20, 'BLOCK', 50, 'STREAMS', 'jobs', '>')) as Entries;
          if (res === null) continue;
          const ids = idsOf(res[0]![1]);
          await r.xack('jobs', 'workers', ...ids);
          for (const id of ids) ackedIds.add(id);
        }
      } catch {
        // killed under us
      } finally {
        r.disconnect();
      }
    });
    // Kill once both adds and acks are being acknowledged.
    const deadline = Date.now() + 30_000;
    while ((added.length < 500 || ackedIds.size < 200) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, Math.random() * 200));
    await p.kill();
    stop = true;
    await Promise.all([producer, ...consumers]);
    expect(added.length).toBeGreaterThan(0);

    p = await startVireoProcess(['--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { dir });
    const r = new Redis(p.port, '127.0.0.1');
    try {
      const entries = (await r.xrange('jobs', '-', '+')) as [string, string[]][];
      const ids = entries.map(([id]) => id);
      expect(new Set(ids).size).toBe(ids.length);
      const present = new Set(ids);
      for (const id of added) expect(present.has(id), `acknowledged XADD ${id}`).toBe(true);
      // Sequence fields are 0..n-1 in order: nothing duplicated, nothing out of order.
      expect(entries.map(([, f]) => Number(f[1]))).toEqual(entries.map((_, i) => i));
      const pending = (await r.xpending('jobs', 'workers', '-', '+', 1_000_000)) as [string, string, number, number][];
      const stillPending = new Set(pending.map(([id]) => id));
      for (const id of ackedIds) expect(stillPending.has(id), `acknowledged XACK ${id}`).toBe(false);
    } finally {
      r.disconnect();
    }
  }, 120_000);
});
