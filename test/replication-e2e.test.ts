// Vireo replicating from Vireo, as separate processes: a primary, a replica
// and a chained replica under a write load over every write command;
// restarts (kill -9) of a replica and of the primary continue with partial
// resyncs; WAIT; and synchronous replication losing no acknowledged write
// when the primary is killed and a replica promoted.

import { describe, expect, it } from 'vitest';
import { startVireoProcess, type ProcessHandle } from './helpers/servers.js';
import { useCleanups } from './helpers/cleanups.js';
import { RespClient, toJs } from './helpers/resp.js';
import { infoField, infoNumber, waitFor } from './helpers/info.js';
import { runLoad, settle, waitInSync, writeLoad } from './helpers/replication.js';
import { digest, expectSameDigest } from './helpers/dataset.js';

const cleanups = useCleanups();

async function vireo(args: string[], dir?: string, port?: number): Promise<{ h: ProcessHandle; c: RespClient }> {
  const h = cleanups.track(await startVireoProcess(['--repl-diskless-sync-delay', '0', '--appendonly', 'yes', '--enable-debug-command', 'yes', ...args], { dir, port }));
  const c = await cleanups.client(h.port);
  return { h, c };
}

const replicaOf = (p: ProcessHandle) => ['--replicaof', '127.0.0.1', String(p.port)];

async function stats(c: RespClient): Promise<{ full: number; partialOk: number }> {
  const info = await c.call('INFO', 'stats');
  return { full: infoNumber(info, 'sync_full'), partialOk: infoNumber(info, 'sync_partial_ok') };
}

describe('Vireo replicating from Vireo', () => {
  it('a primary, a replica and a chained replica end with equal digests; restarts resync partially', async () => {
    const p = await vireo([]);
    const r1 = await vireo(replicaOf(p.h));
    const r2 = await vireo(replicaOf(r1.h));
    await runLoad(p.c, writeLoad(1201, 1500));
    await settle(p.c);
    await waitInSync(p.c, r1.c);
    await waitInSync(p.c, r2.c);
    const want = await digest(p.c);
    expect(await digest(r1.c)).toBe(want);
    expect(await digest(r2.c)).toBe(want);
    // The chained replica shares the primary's history.
    const replid = infoField(await p.c.call('INFO', 'replication'), 'master_replid');
    expect(infoField(await r2.c.call('INFO', 'replication'), 'master_replid')).toBe(replid);
    expect(infoNumber(await p.c.call('INFO', 'replication'), 'connected_slaves')).toBe(1);
    expect(infoNumber(await r1.c.call('INFO', 'replication'), 'connected_slaves')).toBe(1);

    // kill -9 the first replica and restart it on its own files: a partial resync.
    const before = await stats(p.c);
    await r1.h.kill();
    await runLoad(p.c, writeLoad(1202, 300));
    const r1b = await vireo(replicaOf(p.h), r1.h.dir, r1.h.port);
    await settle(p.c);
    await waitInSync(p.c, r1b.c);
    await waitInSync(p.c, r2.c);
    const after = await stats(p.c);
    expect(after.full).toBe(before.full);
    expect(after.partialOk).toBeGreaterThan(before.partialOk);
    await expectSameDigest(r1b.c, p.c);
    await expectSameDigest(r2.c, p.c);

    // Restart the primary from its AOF: its replica continues without a full sync.
    await p.h.kill();
    const pb = await vireo([], p.h.dir, p.h.port);
    await runLoad(pb.c, writeLoad(1203, 300));
    await settle(pb.c);
    await waitInSync(pb.c, r1b.c, 30000);
    await waitInSync(pb.c, r2.c, 30000);
    const restarted = await stats(pb.c);
    expect(restarted.full).toBe(0);
    expect(restarted.partialOk).toBe(1);
    await expectSameDigest(r1b.c, pb.c);
    await expectSameDigest(r2.c, pb.c);
  });

  it('FAILOVER TO a replica: it takes over, the old primary follows it with a partial resync, no write lost', async () => {
    const p = await vireo([]);
    const r1 = await vireo(replicaOf(p.h));
    const r2 = await vireo(replicaOf(p.h));
    await runLoad(p.c, writeLoad(1301, 500));
    await waitInSync(p.c, r1.c);
    await waitInSync(p.c, r2.c);
    expect(toJs(await p.c.call('FAILOVER', 'TO', '127.0.0.1', String(r1.h.port), 'TIMEOUT', '5000'))).toBe('OK');
    await waitFor('the roles to switch', async () => infoField(await r1.c.call('INFO', 'replication'), 'role') === 'master' && infoField(await p.c.call('INFO', 'replication'), 'master_link_status') === 'up', 20000);
    await waitFor('the failover to end', async () => infoField(await p.c.call('INFO', 'replication'), 'master_failover_state') === 'no-failover');
    // The old primary continued from the new one's backlog: no full sync there.
    const s = await stats(r1.c);
    expect(s.full).toBe(0);
    expect(s.partialOk).toBeGreaterThanOrEqual(1);
    expect((await p.c.call('SET', 'x', '1')).value).toBe("READONLY You can't write against a read only replica.");
    // Writes go on at the new primary; everyone ends with its data.
    await runLoad(r1.c, writeLoad(1302, 300));
    await settle(r1.c);
    await waitInSync(r1.c, p.c);
    await waitFor('the other replica to follow the new history', async () => {
      const info = await r2.c.call('INFO', 'replication');
      return infoField(info, 'master_link_status') === 'up' && infoField(info, 'master_replid') === infoField(await r1.c.call('INFO', 'replication'), 'master_replid');
    }, 20000);
    await waitFor('the other replica in sync', async () => Number(infoField(await r2.c.call('INFO', 'replication'), 'slave_repl_offset')) === Number(infoField(await r1.c.call('INFO', 'replication'), 'master_repl_offset')), 20000);
    await expectSameDigest(p.c, r1.c);
    await expectSameDigest(r2.c, r1.c);
  });

  it('WAIT 2 returns 2 once both replicas have the write', async () => {
    const p = await vireo([]);
    const r1 = await vireo(replicaOf(p.h));
    const r2 = await vireo(replicaOf(p.h));
    await waitInSync(p.c, r1.c);
    await waitInSync(p.c, r2.c);
    await p.c.call('SET', 'k', 'v');
    expect(Number(toJs(await p.c.call('WAIT', '2', '5000')))).toBe(2);
    // WAITAOF counts the replicas whose AOF has it on disk (their REPLCONF ACK ... FACK).
    await p.c.call('SET', 'k2', 'v');
    expect((toJs(await p.c.call('WAITAOF', '1', '2', '5000')) as unknown[]).map(Number)).toEqual([1, 2]);
    expect(toJs(await r1.c.call('GET', 'k'))).toBe('v');
    expect(toJs(await r2.c.call('GET', 'k'))).toBe('v');
  });

  it('with sync-replicas 1, kill -9 of the primary and promotion of the replica lose no acknowledged write', async () => {
    const p = await vireo(['--sync-replicas', '1']);
    const r = await vireo(replicaOf(p.h));
    await waitFor('the replica online', async () => (await p.c.call('SET', 'ready', '1')).type !== 'error', 20000);
    const acknowledged: string[] = [];
    const writers = Array.from({ length: 4 }, async (_, w) => {
      const c = await RespClient.connect(p.h.port);
      cleanups.defer(() => c.close());
      for (let i = 0; ; i++) {
        const key = `w${w}:${i}`;
        let reply;
        try {
          reply = await c.call('SET', key, String(i));
        } catch {
          return;
        }
        if (reply.type === 'error') return;
        acknowledged.push(key);
      }
    });
    await waitFor('some acknowledged writes', async () => acknowledged.length > 500, 20000);
    await p.h.kill();
    await Promise.all(writers);
    expect(toJs(await r.c.call('REPLICAOF', 'NO', 'ONE'))).toBe('OK');
    const missing: string[] = [];
    for (const key of acknowledged) if (Number(toJs(await r.c.call('EXISTS', key))) !== 1) missing.push(key);
    expect(missing).toEqual([]);
    // The promoted replica takes writes.
    expect(toJs(await r.c.call('SET', 'after', 'promotion'))).toBe('OK');
  });
});

