/**
 * Vireo as a replica of a real redis-server 7.0: full sync with the RDB
 * sent from disk and diskless, a seeded write load over every write
 * command (every type, short TTLs, several dbs, MULTI/EXEC) with DEBUG
 * DIGEST equal on both after it, the replica's log byte for byte the
 * primary's stream, partial resync after a killed link and after the
 * replica restarts (kill -9) from its own AOF or RDB, AUTH, READONLY,
 * MASTERDOWN, REPLICAOF NO ONE, INFO/ROLE beside a redis-server replica's,
 * and a primary killed in the middle of the RDB transfer.
 */

import { describe, it, expect } from 'vitest';
import net from 'node:net';
import { useCleanups, js } from './helpers/cleanups.js';
import { RespClient, toJs } from './helpers/resp.js';
import { HAVE_REDIS, startRedis, startVireo, startVireoProcess, tempDir, type ProcessHandle } from './helpers/servers.js';
import { infoField, waitFor } from './helpers/info.js';
import { everyEncodingCommands, pipelineOk } from './helpers/dataset.js';
import { keyDigests, runLoad, settle, waitInSync, writeLoad } from './helpers/replication.js';

const { track, client } = useCleanups();

async function stat(c: RespClient, field: string): Promise<number> {
  return Number(infoField(await c.call('INFO', 'stats'), field));
}

async function offsetOf(c: RespClient, field: 'master_repl_offset' | 'slave_repl_offset'): Promise<string> {
  return infoField(await c.call('INFO', 'replication'), field);
}

/**
 * DEBUG DIGEST equal on both, read at the same offset: the primary's
 * active expiry may delete (and propagate) a key at any time, so a pair
 * of digests counts only when no byte of the stream came in between.
 */
async function expectSameData(primary: RespClient, replica: RespClient): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const at = await offsetOf(primary, 'master_repl_offset');
    const a = toJs(await primary.call('DEBUG', 'DIGEST'));
    if ((await offsetOf(primary, 'master_repl_offset')) !== at) continue;
    await waitInSync(primary, replica);
    const b = toJs(await replica.call('DEBUG', 'DIGEST'));
    if ((await offsetOf(replica, 'slave_repl_offset')) !== at && attempt < 20) continue;
    if (a !== b) expect(await keyDigests(replica)).toEqual(await keyDigests(primary));
    expect(b).toBe(a);
    return;
  }
}

async function startPrimary(params: Record<string, string> = {}): Promise<{ r: ProcessHandle; p: RespClient }> {
  const r = track(await startRedis({ 'repl-diskless-sync-delay': '0', hz: '100', ...params }));
  return { r, p: await client(r.port) };
}

describe.skipIf(!HAVE_REDIS)('Vireo replicating from redis-server 7.0', () => {
  for (const [sync, load] of [['no', 'disabled'], ['yes', 'swapdb'], ['yes', 'disabled'], ['no', 'on-empty-db']] as const) {
    it(`full sync (repl-diskless-sync ${sync} on the primary, repl-diskless-load ${load} here), then a write load: same digest, same offset`, async () => {
      const { p } = await startPrimary({ 'repl-diskless-sync': sync });
      await pipelineOk(p, everyEncodingCommands());
      const v = track(await startVireo({ 'repl-diskless-load': load }));
      const c = await client(v.port);
      // on-empty-db loads into memory only into an empty dataset.
      if (load !== 'on-empty-db') await c.call('SET', 'mine', 'replaced by the sync');
      expect(await js(c, 'REPLICAOF', '127.0.0.1', String(await portOf(p)))).toBe('OK');
      await waitInSync(p, c);
      await expectSameData(p, c);
      expect(await js(c, 'EXISTS', 'mine')).toBe('0');
      await runLoad(p, writeLoad(sync === 'no' ? 1 : 2, 400));
      await settle(p);
      await waitInSync(p, c);
      await expectSameData(p, c);
      expect(infoField(await c.call('INFO', 'replication'), 'master_replid')).toBe(infoField(await p.call('INFO', 'replication'), 'master_replid'));
    });
  }

  it("the replica's log is byte for byte the primary's replication stream", async () => {
    const { p } = await startPrimary();
    const v = track(await startVireo());
    const c = await client(v.port);
    await c.call('REPLICAOF', '127.0.0.1', String(await portOf(p)));
    await p.call('SET', 'first', '1');
    const from = await waitInSync(p, c);
    const logged: Buffer[] = [];
    v.server.engine.log.follow({ onLogData: (chunk) => void logged.push(Buffer.from(chunk)) });
    // A second reader of the same stream, from the same offset.
    const replId = infoField(await p.call('INFO', 'replication'), 'master_replid');
    const raw = await rawPsync(await portOf(p), replId, from + 1);
    await runLoad(p, writeLoad(3, 200));
    const to = await waitInSync(p, c);
    v.server.engine.log.flush();
    const stream = await raw.bytes(to - from);
    expect(Buffer.concat(logged).latin1Slice()).toBe(stream.latin1Slice());
    raw.close();
  });

  it('a killed link resumes with a partial resync (sync_partial_ok), writes made meanwhile included', async () => {
    const { p } = await startPrimary();
    await pipelineOk(p, everyEncodingCommands());
    const v = track(await startVireo());
    const c = await client(v.port);
    await c.call('REPLICAOF', '127.0.0.1', String(await portOf(p)));
    await waitInSync(p, c);
    const [full, partial] = [await stat(p, 'sync_full'), await stat(p, 'sync_partial_ok')];
    for (let round = 0; round < 3; round++) {
      expect(await js(p, 'CLIENT', 'KILL', 'TYPE', 'replica')).toBe('1');
      await runLoad(p, writeLoad(10 + round, 60));
      await waitInSync(p, c);
    }
    expect(await stat(p, 'sync_partial_ok')).toBe(partial + 3);
    expect(await stat(p, 'sync_full')).toBe(full);
    await settle(p);
    await waitInSync(p, c);
    await expectSameData(p, c);
  });

  for (const files of ['aof', 'rdb'] as const) {
    it(`a replica restarted from its own ${files === 'aof' ? 'AOF (kill -9)' : 'RDB (SHUTDOWN)'} continues with a partial resync`, async () => {
      const { p } = await startPrimary();
      await pipelineOk(p, everyEncodingCommands());
      const port = await portOf(p);
      const dir = tempDir('vireo-replica-');
      const args = ['--enable-debug-command', 'yes', '--replicaof', `127.0.0.1 ${port}`, ...(files === 'aof' ? ['--appendonly', 'yes'] : ['--save', ''])];
      let v = track(await startVireoProcess(args, { dir }));
      let c = await client(v.port);
      await waitInSync(p, c);
      await runLoad(p, writeLoad(20, 200));
      await waitInSync(p, c);
      if (files === 'aof') {
        // Everything is in the AOF's page cache by now (appendfsync everysec; kill -9 does not lose it).
        await v.kill();
      } else {
        await c.call('SHUTDOWN', 'SAVE').catch(() => undefined);
        await v.stop();
      }
      await runLoad(p, writeLoad(21, 100));
      const [full, partial] = [await stat(p, 'sync_full'), await stat(p, 'sync_partial_ok')];
      v = track(await startVireoProcess(args, { dir, port: v.port }));
      c = await client(v.port);
      await waitInSync(p, c);
      expect(await stat(p, 'sync_full')).toBe(full);
      expect(await stat(p, 'sync_partial_ok')).toBe(partial + 1);
      await settle(p);
      await waitInSync(p, c);
      await expectSameData(p, c);
    });
  }

  it('masterauth: AUTH in the handshake; READONLY for clients; NO ONE keeps the data and writes again', async () => {
    const { p } = await startPrimary({ requirepass: 'sesame' });
    await p.call('AUTH', 'sesame');
    await p.call('SET', 'k', 'v');
    const v = track(await startVireo({ masterauth: 'sesame' }));
    const c = await client(v.port);
    await c.call('REPLICAOF', '127.0.0.1', String(await portOf(p)));
    await waitInSync(p, c);
    expect(await c.call('SET', 'x', '1')).toEqual({ type: 'error', value: "READONLY You can't write against a read only replica." });
    expect(await c.call('INCR', 'k')).toEqual({ type: 'error', value: "READONLY You can't write against a read only replica." });
    expect(await js(c, 'REPLICAOF', 'NO', 'ONE')).toBe('OK');
    expect(await js(c, 'GET', 'k')).toBe('v');
    expect(await js(c, 'SET', 'x', '1')).toBe('OK');
    expect(((await js(c, 'ROLE')) as unknown[])[0]).toBe('master');
  });

  it('INFO replication and ROLE name the same fields as a redis-server replica, link up and down; MASTERDOWN once the primary is gone', async () => {
    const { r, p } = await startPrimary();
    await p.call('SET', 'k', 'v');
    const port = await portOf(p);
    const theirs = track(await startRedis({ 'replica-serve-stale-data': 'no' }));
    const t = await client(theirs.port);
    const v = track(await startVireo({ 'replica-serve-stale-data': 'no' }));
    const c = await client(v.port);
    await t.call('REPLICAOF', '127.0.0.1', String(port));
    await c.call('REPLICAOF', '127.0.0.1', String(port));
    await waitInSync(p, t);
    await waitInSync(p, c);
    const fields = async (x: RespClient) => ((await js(x, 'INFO', 'replication')) as string).split('\r\n').filter((l) => l.includes(':')).map((l) => l.slice(0, l.indexOf(':')));
    expect(await fields(c)).toEqual(await fields(t));
    const shape = (role: unknown[]) => [role[0], role[1], role[2], role[3], typeof role[4]];
    expect(shape((await js(c, 'ROLE')) as unknown[])).toEqual(shape((await js(t, 'ROLE')) as unknown[]));
    await r.kill();
    for (const x of [t, c]) await waitFor('link down', async () => infoField(await x.call('INFO', 'replication'), 'master_link_status') === 'down');
    expect(await fields(c)).toEqual(await fields(t));
    expect(await js(c, 'ROLE')).toEqual(['slave', '127.0.0.1', String(port), expect.stringMatching(/^connect/), '-1']);
    for (const cmd of [['GET', 'k'], ['PING'], ['DBSIZE']]) expect(await c.call(...cmd)).toEqual(await t.call(...cmd));
    expect((await c.call('INFO', 'server')).type).toBe('bulk');
  });

  it('the link with the primary is a client, as on a redis-server replica: CLIENT LIST (TYPE master, ID), connected_clients, CLIENT KILL TYPE master resumes with a partial resync', async () => {
    const { p } = await startPrimary();
    const port = await portOf(p);
    const theirs = track(await startRedis());
    const t = await client(theirs.port);
    const v = track(await startVireo());
    const c = await client(v.port);
    for (const x of [t, c]) await x.call('REPLICAOF', '127.0.0.1', String(port));
    await waitInSync(p, t);
    await waitInSync(p, c);
    await p.call('SET', 'k', 'v');
    await waitInSync(p, t);
    await waitInSync(p, c);
    const fieldsOf = (line: string) => Object.fromEntries(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const masterLine = async (x: RespClient) => {
      const lines = ((await js(x, 'CLIENT', 'LIST', 'TYPE', 'master')) as string).split('\n').filter(Boolean);
      expect(lines).toHaveLength(1);
      return fieldsOf(lines[0]!);
    };
    const ours = await masterLine(c);
    const ref = await masterLine(t);
    // Redis 7.2 adds lib-name and lib-ver to the 7.0 reference's fields.
    expect(Object.keys(ours).filter((k) => !k.startsWith('lib-'))).toEqual(Object.keys(ref));
    for (const field of ['flags', 'db', 'multi', 'cmd', 'user', 'sub', 'psub', 'ssub', 'name', 'resp', 'redir']) expect(ours[field], field).toBe(ref[field]);
    expect(ours.addr!.endsWith(`:${port}`)).toBe(true);
    // Listed among the clients by ID, counted in connected_clients, not a normal client.
    expect((await js(c, 'CLIENT', 'LIST', 'ID', ours.id!)) as string).toContain('flags=M');
    expect((await js(c, 'CLIENT', 'LIST', 'TYPE', 'normal')) as string).not.toContain('flags=M');
    expect(((await js(c, 'CLIENT', 'LIST')) as string).split('\n').filter(Boolean)).toHaveLength(2);
    for (const x of [t, c]) expect(infoField(await x.call('INFO', 'clients'), 'connected_clients')).toBe('2');
    // Killed, the link comes back with a partial resync, and what was written meanwhile arrives.
    const partial = await stat(p, 'sync_partial_ok');
    expect(await js(c, 'CLIENT', 'KILL', 'TYPE', 'master')).toBe(await js(t, 'CLIENT', 'KILL', 'TYPE', 'master'));
    await p.call('SET', 'k', 'after');
    for (const x of [t, c]) await waitFor('link up again', async () => infoField(await x.call('INFO', 'replication'), 'master_link_status') === 'up');
    await waitInSync(p, c);
    expect(await js(c, 'GET', 'k')).toBe('after');
    expect(await stat(p, 'sync_partial_ok')).toBe(partial + 2);
    // A new master client, with a new ID.
    expect(Number((await masterLine(c)).id)).toBeGreaterThan(Number(ours.id));
    expect(await js(c, 'CLIENT', 'KILL', 'ID', (await masterLine(c)).id!)).toBe('1');
  });

  it('repl-diskless-load swapdb, a full sync of the history it follows: reads are served from the old data while the new loads (async loading)', async () => {
    // A 16 KB backlog: a write larger than it while the link is down forces a full sync under the same replid.
    const { p } = await startPrimary({ 'repl-backlog-size': '16384' });
    await p.call('DEBUG', 'POPULATE', '300000', 'key', '20');
    const v = track(await startVireo({ 'repl-diskless-load': 'swapdb' }));
    const c = await client(v.port);
    await c.call('REPLICAOF', '127.0.0.1', String(await portOf(p)));
    await waitInSync(p, c);
    const oldValue = await js(c, 'GET', 'key:7');
    const full = await stat(p, 'sync_full');
    // The link dropped and 64 KB written in the same transaction: the replica cannot continue from the backlog.
    await p.call('MULTI');
    await p.call('CLIENT', 'KILL', 'TYPE', 'replica');
    await p.call('SET', 'key:7', 'x'.repeat(65536));
    await p.call('EXEC');
    const seen = { asyncLoading: 0, servedOld: 0, refusedSave: 0 };
    const loadingNow = async () => {
      const persistence = await c.call('INFO', 'persistence');
      if (infoField(persistence, 'async_loading') !== '1') return false;
      expect(infoField(persistence, 'loading')).toBe('0');
      return true;
    };
    const poll = async () => {
      if (!(await loadingNow())) return false;
      // The old data, as it was; what would act on the whole dataset waits for the load.
      const old = (await js(c, 'GET', 'key:7')) === oldValue;
      const save = await c.call('BGSAVE');
      // Counted only if the load still ran after both (it may end between two commands).
      if (!(await loadingNow())) return false;
      seen.asyncLoading++;
      if (old) seen.servedOld++;
      if (save.type === 'error' && String(save.value).startsWith('LOADING')) seen.refusedSave++;
      return false;
    };
    await waitFor('the full sync to end', async () => (await poll()) || ((await stat(p, 'sync_full')) > full && infoField(await c.call('INFO', 'persistence'), 'async_loading') === '0' && infoField(await c.call('INFO', 'replication'), 'master_link_status') === 'up'), 20000);
    expect(seen.asyncLoading).toBeGreaterThan(0);
    expect(seen.servedOld).toBe(seen.asyncLoading);
    expect(seen.refusedSave).toBe(seen.asyncLoading);
    await waitInSync(p, c);
    expect(((await js(c, 'GET', 'key:7')) as string).length).toBe(65536);
    expect(await js(c, 'DBSIZE')).toBe('300000');
  });

  it('a primary killed in the middle of the RDB transfer: the old dataset stays, the replica syncs with the next primary', async () => {
    // About a millisecond per key: the transfer takes seconds.
    const { r, p } = await startPrimary({ 'repl-diskless-sync': 'yes', 'rdb-key-save-delay': '1000' });
    await p.call('DEBUG', 'POPULATE', '5000');
    const port = await portOf(p);
    const v = track(await startVireo());
    const c = await client(v.port);
    await c.call('SET', 'mine', '1');
    await c.call('REPLICAOF', '127.0.0.1', String(port));
    // The sync fields are there only while the transfer runs.
    await waitFor('transfer under way', async () => Number(/master_sync_read_bytes:(\d+)/.exec((await js(c, 'INFO', 'replication')) as string)?.[1] ?? 0) > 0, 15000);
    await r.kill();
    await waitFor('link given up', async () => ((await js(c, 'ROLE')) as unknown[])[3] !== 'sync');
    expect(await js(c, 'GET', 'mine')).toBe('1');
    expect(await js(c, 'DBSIZE')).toBe('1');
    // The next primary on the same port: the replica, still trying, gets its data.
    const next = track(await startRedis({ port: String(port) }));
    const n = await client(next.port);
    await n.call('SET', 'theirs', '2');
    await waitInSync(n, c);
    expect(await js(c, 'GET', 'theirs')).toBe('2');
    expect(await js(c, 'EXISTS', 'mine')).toBe('0');
  });
});

/** The TCP port a client is connected to. */
async function portOf(c: RespClient): Promise<number> {
  const info = await c.call('INFO', 'server');
  return Number(infoField(info, 'tcp_port'));
}

/** A bare PSYNC reader: `PSYNC replId from`, expects +CONTINUE, collects the stream's bytes. */
async function rawPsync(port: number, replId: string, from: number): Promise<{ bytes(n: number): Promise<Buffer>; close(): void }> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  let received = Buffer.alloc(0);
  socket.on('data', (d: Buffer) => (received = Buffer.concat([received, d])));
  await new Promise((r) => socket.once('connect', r));
  socket.write(`PSYNC ${replId} ${from}\r\n`);
  await waitFor('+CONTINUE', async () => received.includes('\r\n'));
  const line = received.latin1Slice(0, received.indexOf('\r\n'));
  expect(line).toMatch(/^\+CONTINUE/);
  const start = received.indexOf('\r\n') + 2;
  return {
    async bytes(n: number) {
      await waitFor(`${n} stream bytes`, async () => received.length - start >= n);
      return received.subarray(start, start + n);
    },
    close: () => socket.destroy(),
  };
}
