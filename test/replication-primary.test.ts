// Vireo as a primary: redis-server 7.0 replicas attach to it (full sync from
// disk and diskless, partial resync from the backlog), redis-cli --rdb reads
// it, WAIT counts acknowledgements, min-replicas-to-write refuses writes, and
// PSYNC / REPLCONF answer bad input as Redis does.

import { describe, expect, it } from 'vitest';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { HAVE_REDIS, startRedis, startVireo, tempDir, type ProcessHandle } from './helpers/servers.js';
import { useCleanups } from './helpers/cleanups.js';
import { call, everyEncodingCommands, expectSameDigest, pipelineOk, type Cmd } from './helpers/dataset.js';
import { infoField, infoNumber, waitFor } from './helpers/info.js';
import { replOffset, waitInSync } from './helpers/replication.js';
import { toJs, type RespClient } from './helpers/resp.js';

const cleanups = useCleanups();

/** Writes over every type, several dbs, TTLs (some expiring during the test), transactions and streams with a group. */
function workload(round: number): Cmd[] {
  const cmds: Cmd[] = [['SELECT', '0']];
  for (let i = 0; i < 200; i++) {
    const k = `r${round}:${i}`;
    cmds.push(['SET', `${k}:s`, `v${i}`]);
    cmds.push(['INCRBY', `${k}:n`, String(i)]);
    cmds.push(['RPUSH', `${k}:l`, 'a', 'b', String(i)]);
    cmds.push(['HSET', `${k}:h`, 'f', String(i), 'g', 'x'.repeat(i % 90)]);
    cmds.push(['SADD', `${k}:set`, String(i), 'm']);
    cmds.push(['ZADD', `${k}:z`, String(i / 4), 'a', '-1.5', 'b']);
    if (i % 10 === 0) cmds.push(['SET', `${k}:short`, 'gone soon', 'PX', '30']);
    if (i % 7 === 0) cmds.push(['EXPIRE', `${k}:l`, '1000']);
  }
  cmds.push(['XADD', `stream:${round}`, '*', 'a', '1', 'b', '2']);
  cmds.push(['XADD', `stream:${round}`, '*', 'a', '3']);
  cmds.push(['XGROUP', 'CREATE', `stream:${round}`, 'g', '0']);
  cmds.push(['XREADGROUP', 'GROUP', 'g', 'c1', 'COUNT', '1', 'STREAMS', `stream:${round}`, '>']);
  cmds.push(['MULTI']);
  cmds.push(['LPUSH', `tx:${round}`, 'x']);
  cmds.push(['SELECT', '5']);
  cmds.push(['SET', `tx:${round}`, 'in db 5']);
  cmds.push(['EXEC']);
  cmds.push(['SELECT', '0']);
  cmds.push(['DEL', `r${round}:0:s`]);
  cmds.push(['LPOP', `r${round}:1:l`]);
  return cmds;
}

/**
 * Let workload()'s 30 ms TTLs run out and have the primary delete each
 * expired key (EXISTS expires it lazily and propagates the DEL), so the
 * replica has the same keys when digests are compared.
 */
async function settle(p: RespClient): Promise<void> {
  await new Promise((res) => setTimeout(res, 60));
  await call(p, 'SELECT', '0');
  for (let round = 1; round <= 3; round++) {
    const keys: string[] = [];
    for (let i = 0; i < 200; i += 10) keys.push(`r${round}:${i}:short`);
    await call(p, 'EXISTS', ...keys);
  }
}

/** `n` SETs of 1000-byte values: enough bytes to run past a small backlog. */
function bigWrites(n: number): Cmd[] {
  return Array.from({ length: n }, (_, i): Cmd => ['SET', `big:${i}`, 'y'.repeat(1000)]);
}

async function attachRedisReplica(primaryPort: number): Promise<{ handle: ProcessHandle; client: RespClient }> {
  const replica = cleanups.track(await startRedis({ replicaof: `127.0.0.1 ${primaryPort}` }));
  cleanups.defer(() => {
    if (process.env.SHOWLOG) console.log(replica.output());
  });
  return { handle: replica, client: await cleanups.client(replica.port) };
}

describe.skipIf(!HAVE_REDIS)('redis-server 7.0 replicating from Vireo', () => {
  for (const diskless of ['yes', 'no']) {
    it(`full sync (repl-diskless-sync ${diskless}) then the stream: digests equal`, async () => {
      const v = cleanups.track(await startVireo({ 'repl-diskless-sync': diskless, 'repl-diskless-sync-delay': '0' }));
      const p = await cleanups.client(v.port);
      await pipelineOk(p, everyEncodingCommands());
      await pipelineOk(p, workload(1));
      const { client: r, handle } = await attachRedisReplica(v.port);
      // Writes while the replica syncs and after.
      await pipelineOk(p, workload(2));
      await waitInSync(p, r).catch(async (e) => { console.log(handle.output(), toJs(await p.call('INFO','replication')), toJs(await r.call('INFO','replication'))); throw e; });
      await pipelineOk(p, workload(3));
      await waitInSync(p, r);
      // The short TTLs expire on the primary; the replica deletes them when the DELs arrive.
      await settle(p);
      await waitInSync(p, r);
      await expectSameDigest(r, p);
      const info = await p.call('INFO', 'replication');
      expect(infoNumber(info, 'connected_slaves')).toBe(1);
      // As Redis counts them: the replica is not one of the connected clients (this test's connection is).
      expect(infoNumber(await p.call('INFO', 'clients'), 'connected_clients')).toBe(1);
      expect(infoField(info, 'slave0')).toMatch(/^ip=127\.0\.0\.1,port=\d+,state=online,offset=\d+,lag=\d+$/);
      expect(infoNumber(await p.call('INFO', 'stats'), 'sync_full')).toBe(1);
    });
  }

  it('continues from the backlog after the link drops (+CONTINUE, sync_partial_ok)', async () => {
    const v = cleanups.track(await startVireo({ 'repl-diskless-sync-delay': '0' }));
    const p = await cleanups.client(v.port);
    await pipelineOk(p, workload(1));
    const { client: r } = await attachRedisReplica(v.port);
    await waitInSync(p, r);
    expect(Number(toJs(await p.call('CLIENT', 'KILL', 'TYPE', 'replica')))).toBe(1);
    await pipelineOk(p, workload(2));
    await settle(p);
    await waitInSync(p, r);
    const stats = await p.call('INFO', 'stats');
    expect(infoNumber(stats, 'sync_full')).toBe(1);
    expect(infoNumber(stats, 'sync_partial_ok')).toBe(1);
    await expectSameDigest(r, p);
  });

  it('falls back to a full sync when the backlog no longer covers the replica', async () => {
    const v = cleanups.track(await startVireo({ 'repl-diskless-sync-delay': '0', 'repl-backlog-size': '16384' }));
    const p = await cleanups.client(v.port);
    const { client: r } = await attachRedisReplica(v.port);
    await waitInSync(p, r);
    // The replica reconnects within a second: by then the primary wrote 6x its backlog.
    await call(p, 'CLIENT', 'KILL', 'TYPE', 'replica');
    await pipelineOk(p, bigWrites(100));
    await waitInSync(p, r);
    const stats = await p.call('INFO', 'stats');
    expect(infoNumber(stats, 'sync_full')).toBe(2);
    expect(infoNumber(stats, 'sync_partial_err')).toBe(1);
    await expectSameDigest(r, p);
  });

  it('WAIT counts the replicas that acknowledged the client\'s last write', async () => {
    const v = cleanups.track(await startVireo({ 'repl-diskless-sync-delay': '0' }));
    const p = await cleanups.client(v.port);
    expect(Number(toJs(await p.call('WAIT', '0', '0')))).toBe(0);
    const { client: r } = await attachRedisReplica(v.port);
    await waitInSync(p, r);
    await call(p, 'SET', 'k', 'v');
    expect(Number(toJs(await p.call('WAIT', '1', '5000')))).toBe(1);
    // Two are asked for, one exists: the timeout answers with the one.
    const started = Date.now();
    expect(Number(toJs(await p.call('WAIT', '2', '150')))).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    // Inside MULTI it answers at once.
    await call(p, 'MULTI');
    await p.call('WAIT', '2', '0');
    expect((toJs(await p.call('EXEC')) as unknown[]).map(Number)).toEqual([1]);
    expect((await p.call('WAIT', '1', '-1')).value).toBe('ERR timeout is negative');
    // ROLE lists the replica with its acknowledged offset.
    const role = toJs(await p.call('ROLE')) as [string, number, string[][]];
    expect(role[0]).toBe('master');
    expect(Number(role[1])).toBe(await replOffset(p));
    expect(role[2]).toHaveLength(1);
    expect(role[2]![0]![0]).toBe('127.0.0.1');
  });

  it('min-replicas-to-write refuses writes until enough replicas are in reach', async () => {
    const v = cleanups.track(await startVireo({ 'repl-diskless-sync-delay': '0' }));
    const p = await cleanups.client(v.port);
    await call(p, 'CONFIG', 'SET', 'min-replicas-to-write', '1');
    expect((await p.call('SET', 'k', 'v')).value).toBe('NOREPLICAS Not enough good replicas to write.');
    await call(p, 'MULTI');
    await p.call('SET', 'k', 'v');
    expect((await p.call('EXEC')).value).toBe('EXECABORT Transaction discarded because of previous errors.');
    expect(toJs(await p.call('GET', 'k'))).toBe(null);
    const { client: r } = await attachRedisReplica(v.port);
    await waitInSync(p, r);
    await waitFor('a good replica', async () => (await p.call('SET', 'k', 'v')).type !== 'error');
    expect(infoNumber(await p.call('INFO', 'replication'), 'min_slaves_good_slaves')).toBe(1);
  });

  it('redis-cli --rdb saves a file redis-server loads with the same digest; redis-cli --replica prints the stream', async () => {
    const v = cleanups.track(await startVireo({ 'repl-diskless-sync-delay': '0' }));
    const p = await cleanups.client(v.port);
    await pipelineOk(p, everyEncodingCommands());
    for (const diskless of ['yes', 'no']) {
      await call(p, 'CONFIG', 'SET', 'repl-diskless-sync', diskless);
      const dir = tempDir('redis-cli-rdb-');
      const file = path.join(dir, 'dump.rdb');
      // Not spawnSync: the server under test runs in this process.
      const out = await run('redis-cli', ['-p', String(v.port), '--rdb', file]);
      expect(out.status, out.output).toBe(0);
      expect(fs.statSync(file).size).toBeGreaterThan(0);
      const loaded = cleanups.track(await startRedis({ dir, dbfilename: 'dump.rdb' }));
      const c = await cleanups.client(loaded.port);
      await expectSameDigest(c, p);
    }
    // redis-cli --functions-rdb (REPLCONF rdb-filter-only functions): the functions without the keys.
    await call(p, 'FUNCTION', 'LOAD', "#!lua name=cli\nredis.register_function('f', function() return 1 end)");
    const fdir = tempDir('redis-cli-functions-rdb-');
    const fout = await run('redis-cli', ['-p', String(v.port), '--functions-rdb', path.join(fdir, 'dump.rdb')]);
    expect(fout.status, fout.output).toBe(0);
    const fn = await cleanups.client(cleanups.track(await startRedis({ dir: fdir, dbfilename: 'dump.rdb' })).port);
    expect(Number(toJs(await fn.call('DBSIZE')))).toBe(0);
    expect(Number(toJs(await fn.call('FCALL', 'f', '0')))).toBe(1);
    // redis-cli --replica: SYNC, then the stream printed command by command.
    // stdbuf: redis-cli's stdout is a pipe here, which the C library would buffer.
    const replica = spawn('stdbuf', ['-o0', 'redis-cli', '-p', String(v.port), '--replica'], { stdio: ['ignore', 'pipe', 'pipe'] });
    cleanups.defer(() => void replica.kill('SIGKILL'));
    let printed = '';
    replica.stdout.on('data', (d) => (printed += d));
    replica.stderr.on('data', (d) => (printed += d));
    await waitFor('redis-cli to sync', async () => printed.includes('SYNC done'));
    await call(p, 'SET', 'seen-by', 'redis-cli');
    await waitFor('the SET in the stream', async () => printed.includes('"SET","seen-by","redis-cli"'));
    replica.kill('SIGKILL');
    // The readers were rdb-only or gone: none left.
    await waitFor('rdb-only readers to go', async () => infoNumber(await p.call('INFO', 'replication'), 'connected_slaves') === 0);
  });
});

/** Run a program to its end without blocking this process's event loop. */
function run(cmd: string, args: string[]): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    child.on('exit', (status) => resolve({ status, output }));
  });
}

/** A raw connection that reads the replication stream as bytes. */
async function rawConnect(port: number): Promise<{ sock: net.Socket; data: () => Buffer; waitFor: (pred: (b: Buffer) => boolean) => Promise<void> }> {
  const sock = await new Promise<net.Socket>((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
  cleanups.defer(() => void sock.destroy());
  // Chunks are joined when read, not per chunk: a stream of tens of MB copied per 64 KB chunk took seconds per poll.
  let buf = Buffer.alloc(0);
  let chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => chunks.push(d));
  const data = (): Buffer => {
    if (chunks.length > 0) {
      buf = Buffer.concat([buf, ...chunks]);
      chunks = [];
    }
    return buf;
  };
  return {
    sock,
    data,
    waitFor: async (pred) => {
      const deadline = Date.now() + 10000;
      while (!pred(data())) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(data().toString('latin1').slice(0, 300))}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

describe('PSYNC and the replication stream as a reader sees it', () => {
  it('PSYNC with an unknown replid or an impossible offset gets a full resync', async () => {
    const v = cleanups.track(await startVireo({ 'repl-diskless-sync': 'no' }));
    const p = await cleanups.client(v.port);
    await call(p, 'SET', 'a', '1');
    for (const [id, offset] of [
      ['0123456789012345678901234567890123456789', '1'],
      [null, '99999999'],
    ] as const) {
      const replId = id ?? (infoField(await p.call('INFO', 'replication'), 'master_replid'));
      const raw = await rawConnect(v.port);
      raw.sock.write(`PSYNC ${replId} ${offset}\r\n`);
      await raw.waitFor((b) => /^\+FULLRESYNC [0-9a-f]{40} \d+\r\n\$\d+\r\n/.test(b.toString('latin1')));
      const m = /^\+FULLRESYNC ([0-9a-f]{40}) (\d+)\r\n\$(\d+)\r\n/.exec(raw.data().toString('latin1'))!;
      const header = m[0].length;
      await raw.waitFor((b) => b.length >= header + Number(m[3]));
      expect(raw.data().subarray(header, header + 5).toString()).toBe('REDIS');
      raw.sock.destroy();
    }
    expect(infoNumber(await p.call('INFO', 'stats'), 'sync_partial_err')).toBe(2);
    // A malformed offset is refused without a sync.
    expect((await p.call('PSYNC', '?', 'abc')).value).toBe('ERR value is not an integer or out of range');
    expect(infoNumber(await p.call('INFO', 'stats'), 'sync_full')).toBe(2);
  });

  it('the stream after a sync holds the effects with SELECT and MULTI/EXEC, from the acknowledged offset', async () => {
    const v = cleanups.track(await startVireo({ 'repl-diskless-sync-delay': '0' }));
    const p = await cleanups.client(v.port);
    const raw = await rawConnect(v.port);
    raw.sock.write('REPLCONF capa eof capa psync2\r\nPSYNC ? -1\r\n');
    await raw.waitFor((b) => b.includes('$EOF:'));
    const text = () => raw.data().toString('latin1');
    const mark = /\$EOF:([0-9a-f]{40})\r\n/.exec(text())![1]!;
    await raw.waitFor((b) => b.lastIndexOf(mark) > b.indexOf(mark));
    const start = raw.data().lastIndexOf(mark) + 40;
    // After a diskless RDB the stream starts at the replica's first ACK (it must find the end mark last).
    const synced = Number(/\+FULLRESYNC [0-9a-f]{40} (\d+)/.exec(text())![1]);
    raw.sock.write(`REPLCONF ACK ${synced}\r\n`);
    await call(p, 'SELECT', '3');
    await call(p, 'INCR', 'n');
    await call(p, 'MULTI');
    await call(p, 'SET', 'a', 'x', 'EX', '100');
    await call(p, 'LPUSH', 'l', '1');
    await call(p, 'EXEC');
    await raw.waitFor((b) => b.subarray(start).includes('EXEC'));
    const stream = raw.data().subarray(start).toString('latin1');
    expect(stream).toBe(
      '*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n' +
        '*2\r\n$4\r\nINCR\r\n$1\r\nn\r\n' +
        '*1\r\n$5\r\nMULTI\r\n' +
        stream.slice(stream.indexOf('*5\r\n$3\r\nSET'), stream.indexOf('*3\r\n$5\r\nLPUSH')) +
        '*3\r\n$5\r\nLPUSH\r\n$1\r\nl\r\n$1\r\n1\r\n' +
        '*1\r\n$4\r\nEXEC\r\n',
    );
    // SET ... EX is propagated with an absolute time, as Redis does.
    expect(stream).toMatch(/\*5\r\n\$3\r\nSET\r\n\$1\r\na\r\n\$1\r\nx\r\n\$4\r\nPXAT\r\n\$13\r\n\d{13}\r\n/);
    // The reader's ACK shows in INFO and ROLE.
    const offset = await replOffset(p);
    raw.sock.write(`REPLCONF ACK ${offset}\r\n`);
    await waitFor('the ACK', async () => infoField(await p.call('INFO', 'replication'), 'slave0').includes(`offset=${offset},`));
    // Replies to a replica are muted: the ACK got none.
    expect(raw.data().subarray(start).toString('latin1')).toBe(stream);
  });

  it('a replica that sends junk is disconnected alone; the primary and its clients go on', async () => {
    const v = cleanups.track(await startVireo({ 'repl-diskless-sync-delay': '0' }));
    const p = await cleanups.client(v.port);
    const raw = await rawConnect(v.port);
    raw.sock.write('REPLCONF capa eof\r\nPSYNC ? -1\r\n');
    await raw.waitFor((b) => b.toString('latin1').includes('$EOF:'));
    await waitFor('the replica attached', async () => infoNumber(await p.call('INFO', 'replication'), 'connected_slaves') === 1);
    const closed = new Promise<void>((res) => raw.sock.once('close', () => res()));
    raw.sock.write('*2\r\n$3\r\nfoo\r\n$-5\r\n');
    await closed;
    await waitFor('the replica forgotten', async () => infoNumber(await p.call('INFO', 'replication'), 'connected_slaves') === 0);
    expect(toJs(await p.call('SET', 'still', 'here'))).toBe('OK');
  });

  it('REPLCONF answers bad options as Redis does', async () => {
    const v = cleanups.track(await startVireo());
    const p = await cleanups.client(v.port);
    const expectations: [string[], string][] = [
      [['REPLCONF', 'foo', 'bar'], 'ERR Unrecognized REPLCONF option: foo'],
      [['REPLCONF', 'listening-port'], 'ERR syntax error'],
      [['REPLCONF', 'listening-port', 'abc'], 'ERR value is not an integer or out of range'],
      [['REPLCONF', 'ip-address', 'x'.repeat(300)], 'ERR REPLCONF ip-address provided by replica instance is too long: 300 bytes'],
    ];
    for (const [args, err] of expectations) expect((await p.call(...args)).value).toBe(err);
    expect(toJs(await p.call('REPLCONF', 'listening-port', '1234', 'capa', 'eof', 'capa', 'unknown'))).toBe('OK');
    // An ACK from a client that is not a replica is ignored without a reply.
    p.writeRaw('REPLCONF ACK 10\r\nPING\r\n');
    expect(toJs((await p.read()).reply)).toBe('PONG');
  });
});

describe.skipIf(!HAVE_REDIS)('REPLCONF and WAIT errors match redis-server', () => {
  it('same replies', async () => {
    const r = cleanups.track(await startRedis());
    const v = cleanups.track(await startVireo());
    const rc = await cleanups.client(r.port);
    const vc = await cleanups.client(v.port);
    const cases: string[][] = [
      ['REPLCONF', 'foo', 'bar'],
      ['REPLCONF', 'a'],
      ['REPLCONF', 'listening-port', 'x'],
      ['REPLCONF', 'capa', 'eof'],
      ['REPLCONF', 'rdb-only', '2'],
      ['REPLCONF', 'rdb-filter-only', 'functions'],
      ['REPLCONF', 'rdb-filter-only', 'FUNCTIONS keys'],
      ['REPLCONF', 'rdb-filter-only', '"functions'],
      ['REPLCONF', 'rdb-filter-only', ''],
      ['REPLCONF'],
      ['WAIT', 'x', '0'],
      ['WAIT', '0', 'x'],
      ['WAIT', '0', '-5'],
      ['WAIT', '0', '0'],
      ['WAIT', '1', '10'],
      ['ROLE'],
      ['FAILOVER'],
      ['FAILOVER', 'ABORT'],
      ['FAILOVER', 'FORCE'],
      ['FAILOVER', 'TIMEOUT', '0'],
      ['FAILOVER', 'TIMEOUT', 'x'],
      ['FAILOVER', 'TO', 'x'],
      ['FAILOVER', 'TO', '127.0.0.1', '1', 'FORCE'],
      ['FAILOVER', 'TO', '127.0.0.1', '1', 'TIMEOUT', '10', 'FORCE'],
      ['FAILOVER', 'ABORT', 'TIMEOUT', '10'],
      ['FAILOVER', 'BOGUS'],
      ['FAILOVER', 'TIMEOUT', '-1'],
      ['FAILOVER', 'TO', '127.0.0.1', 'x'],
      ['FAILOVER', 'TIMEOUT', '10', 'TIMEOUT', '20'],
      ['FAILOVER', 'FORCE', 'FORCE'],
    ];
    for (const args of cases) expect(await vc.call(...args), args.join(' ')).toEqual(await rc.call(...args));
  });
});

export type { RespClient };

describe.skipIf(!HAVE_REDIS)('the AOF files as a longer backlog', () => {
  it('a replica whose offset left the in-memory backlog continues from the AOF files (+CONTINUE, no full sync)', async () => {
    const v = cleanups.track(await startVireo({ appendonly: 'yes', 'repl-diskless-sync-delay': '0', 'repl-backlog-size': '16384' }));
    const p = await cleanups.client(v.port);
    await pipelineOk(p, workload(1));
    const { client: r } = await attachRedisReplica(v.port);
    await waitInSync(p, r);
    await call(p, 'CLIENT', 'KILL', 'TYPE', 'replica');
    await pipelineOk(p, bigWrites(200));
    await settle(p);
    await waitInSync(p, r);
    const stats = await p.call('INFO', 'stats');
    expect(infoNumber(stats, 'sync_full')).toBe(1);
    expect(infoNumber(stats, 'sync_partial_ok')).toBe(1);
    await expectSameDigest(r, p);
  });
});

describe.skipIf(!HAVE_REDIS)('the AOF files as backlog, annotated, archived and preallocated', () => {
  for (const setup of ['aof-timestamp-enabled', 'aof-archive with a rewrite meanwhile', 'appendfsync always (checksummed groups in a preallocated tail)'] as const) {
    it(`+CONTINUE from the files with ${setup}`, async () => {
      const params: Record<string, string> = { appendonly: 'yes', 'repl-diskless-sync-delay': '0', 'repl-backlog-size': '16384' };
      if (setup === 'aof-timestamp-enabled') params['aof-timestamp-enabled'] = 'yes';
      else if (setup === 'aof-archive with a rewrite meanwhile') params['aof-archive'] = 'yes';
      else params.appendfsync = 'always';
      const v = cleanups.track(await startVireo(params));
      const p = await cleanups.client(v.port);
      await pipelineOk(p, workload(1));
      const { handle, client: r } = await attachRedisReplica(v.port);
      await waitInSync(p, r);
      // The replica freezes; its link is cut; the primary writes 20x its backlog (and retires its incr file).
      process.kill(handle.proc.pid!, 'SIGSTOP');
      cleanups.defer(() => void process.kill(handle.proc.pid!, 'SIGCONT'));
      await call(p, 'CLIENT', 'KILL', 'TYPE', 'replica');
      await pipelineOk(p, bigWrites(300));
      if (setup === 'aof-archive with a rewrite meanwhile') {
        await call(p, 'BGREWRITEAOF');
        await waitFor('the rewrite', async () => infoNumber(await p.call('INFO', 'persistence'), 'aof_rewrite_in_progress') === 0);
        await pipelineOk(p, workload(2));
      }
      process.kill(handle.proc.pid!, 'SIGCONT');
      await settle(p);
      await waitInSync(p, r);
      const stats = await p.call('INFO', 'stats');
      expect(infoNumber(stats, 'sync_full')).toBe(1);
      expect(infoNumber(stats, 'sync_partial_ok')).toBe(1);
      await expectSameDigest(r, p);
    });
  }
});

describe('a replica that reads slowly', () => {
  it('is fed from the AOF files instead of memory, and gets every byte in order', async () => {
    const v = cleanups.track(
      await startVireo({ appendonly: 'yes', 'repl-diskless-sync-delay': '0', 'client-output-buffer-limit': 'replica 8mb 1mb 60' }),
    );
    const p = await cleanups.client(v.port);
    const raw = await rawConnect(v.port);
    raw.sock.write('REPLCONF capa eof\r\nPSYNC ? -1\r\n');
    await raw.waitFor((b) => /\$EOF:[0-9a-f]{40}\r\n/.test(b.toString('latin1')));
    const mark = /\$EOF:([0-9a-f]{40})\r\n/.exec(raw.data().toString('latin1'))![1]!;
    await raw.waitFor((b) => b.lastIndexOf(mark) > b.indexOf(mark));
    const start = raw.data().lastIndexOf(mark) + 40;
    const offsetAtSync = Number(/\+FULLRESYNC [0-9a-f]{40} (\d+)/.exec(raw.data().toString('latin1'))![1]);
    raw.sock.write(`REPLCONF ACK ${offsetAtSync}\r\n`);
    raw.sock.pause();
    const n = 3000;
    const value = 'z'.repeat(10000);
    for (let i = 0; i < n; i += 500) {
      const batch: Cmd[] = [];
      for (let j = i; j < i + 500; j++) batch.push(['SET', `k:${j}`, value]);
      await pipelineOk(p, batch);
    }
    raw.sock.resume();
    // Everything up to the primary's offset arrives (the pings of the primary included).
    await waitFor('the whole stream', async () => raw.data().length - start === (await replOffset(p)) - offsetAtSync, 20000);
    const stream = raw.data().subarray(start).toString('latin1');
    // Every SET, in order, whole.
    const keys = [...stream.matchAll(/\*3\r\n\$3\r\nSET\r\n\$\d+\r\n(k:\d+)\r\n\$10000\r\nz{10000}\r\n/g)].map((m) => m[1]);
    expect(keys).toEqual(Array.from({ length: n }, (_, i) => `k:${i}`));
    // Still connected: fed from disk, not dropped for its output buffer.
    expect(infoNumber(await p.call('INFO', 'replication'), 'connected_slaves')).toBe(1);
    expect(infoNumber(await p.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections')).toBe(0);
  });
});

describe.skipIf(!HAVE_REDIS)('synchronous replication (sync-replicas)', () => {
  it('a write is answered only once enough replicas acknowledged it', async () => {
    const v = cleanups.track(await startVireo({ 'repl-diskless-sync-delay': '0' }));
    const p = await cleanups.client(v.port);
    expect(toJs(await p.call('CONFIG', 'GET', 'sync-replicas'))).toEqual(['sync-replicas', '0']);
    const { client: r } = await attachRedisReplica(v.port);
    await waitInSync(p, r);
    await call(p, 'CONFIG', 'SET', 'sync-replicas', '1');
    await call(p, 'SET', 'a', '1');
    // The reply came after the replica had the write.
    expect(toJs(await r.call('GET', 'a'))).toBe('1');
    // A replica that cannot acknowledge holds the reply back.
    const sleeping = r.call('DEBUG', 'SLEEP', '0.5');
    await new Promise((res) => setTimeout(res, 50));
    const started = Date.now();
    await call(p, 'SET', 'b', '2');
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    await sleeping;
    // Two asked for, one attached: a write could not be acknowledged, so it is refused up front; reads go on.
    await call(p, 'CONFIG', 'SET', 'sync-replicas', '2');
    expect((await p.call('SET', 'c', '3')).value).toBe('NOREPLICAS Not enough good replicas to write.');
    expect(toJs(await p.call('GET', 'b'))).toBe('2');
    await call(p, 'CONFIG', 'SET', 'sync-replicas', '1');
    await call(p, 'SET', 'c', '3');
    expect(toJs(await r.call('GET', 'c'))).toBe('3');
  });
});

describe.skipIf(!HAVE_REDIS)('SHUTDOWN with replicas', () => {
  it('waits for a lagging replica to catch up (shutdown-timeout), and SHUTDOWN ABORT cancels the wait', async () => {
    const v = await startVireo({ 'repl-diskless-sync-delay': '0' });
    let stopped = false;
    cleanups.defer(async () => {
      if (!stopped) await v.stop();
    });
    const p = await cleanups.client(v.port);
    const { client: r } = await attachRedisReplica(v.port);
    await waitInSync(p, r);
    // The replica stops reading for a while; the write reaches it only when it wakes.
    const sleeping = r.call('DEBUG', 'SLEEP', '0.4');
    await new Promise((res) => setTimeout(res, 50));
    await call(p, 'SET', 'last', 'write');
    const admin = await cleanups.client(v.port);
    const shutdown = p.call('SHUTDOWN', 'NOSAVE');
    await new Promise((res) => setTimeout(res, 100));
    // Waiting: ABORT cancels it, the server stays up.
    expect(toJs(await admin.call('SHUTDOWN', 'ABORT'))).toBe('OK');
    expect((await shutdown).value).toBe('ERR Errors trying to SHUTDOWN. Check logs.');
    expect(toJs(await admin.call('PING'))).toBe('PONG');
    await sleeping;
    await waitInSync(p, r);
    // Again: this time it waits, and the replica has every write when the primary is gone.
    const sleeping2 = r.call('DEBUG', 'SLEEP', '0.3');
    await new Promise((res) => setTimeout(res, 50));
    await call(p, 'SET', 'very-last', 'write');
    const gone = p.call('SHUTDOWN', 'NOSAVE').catch(() => null);
    await sleeping2;
    await gone;
    stopped = true;
    await v.stop();
    expect(toJs(await r.call('GET', 'very-last'))).toBe('write');
  });
});

describe.skipIf(!HAVE_REDIS)('a primary turning replica', () => {
  it('releases its blocked clients with the error redis-server gives', async () => {
    const r = cleanups.track(await startRedis());
    const v = cleanups.track(await startVireo());
    const replies = [];
    for (const port of [r.port, v.port]) {
      const blocked = await cleanups.client(port);
      const admin = await cleanups.client(port);
      const pending = blocked.call('BLPOP', 'q', '0');
      await waitFor('the client to block', async () => infoNumber(await admin.call('INFO', 'clients'), 'blocked_clients') === 1);
      await call(admin, 'REPLICAOF', '127.0.0.1', '1');
      replies.push(await pending);
      await call(admin, 'REPLICAOF', 'NO', 'ONE');
    }
    expect(replies[1]).toEqual(replies[0]);
    expect(replies[1]!.type).toBe('error');
  });
});
