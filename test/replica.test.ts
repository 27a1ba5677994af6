/**
 * Vireo as a replica (replication/replica.ts), against a fake primary the
 * test scripts byte by byte: the handshake Redis' replica performs, full
 * sync in both payload framings, the stream applied and logged verbatim
 * (offsets, MULTI/EXEC, PING, REPLCONF GETACK), partial resync, and every
 * way a primary can go wrong (junk, a bad +FULLRESYNC, a truncated or
 * damaged RDB, a stream that breaks the protocol, silence): the replica
 * logs, reconnects, keeps its data, and serves meanwhile.
 * Against a real redis-server primary: test/replica-redis.e2e.test.ts.
 */

import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { useCleanups, js } from './helpers/cleanups.js';
import { RespClient, toJs } from './helpers/resp.js';
import { startVireo, type VireoHandle } from './helpers/servers.js';
import { infoField } from './helpers/info.js';
import { FakePrimary, type FakeLink } from './helpers/replication.js';
import { waitFor } from './helpers/info.js';
import { rdbToBuffer } from '../persistence/rdb/file.js';
import { MasterStreamParser, StreamProtocolError } from '../replication/master-stream.js';
import { RdbTransfer, rdbChecksumOk } from '../replication/rdb-transfer.js';
import { CommandLog } from '../src/log/command-log.js';
import { AofManifest } from '../persistence/aof/manifest.js';
import { Config } from '../src/config.js';
import { testLogger } from '../src/logger.js';

const { track, client } = useCleanups();

const PRIMARY_ID = 'a'.repeat(40);
const NEW_ID = 'b'.repeat(40);

function resp(...argv: string[]): Buffer {
  return Buffer.from(`*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('')}`, 'latin1');
}

/** An RDB image as a primary sends it: `keys` in db 0, the stream left on `streamDb`. */
function primaryRdb(keys: Record<string, string>, streamDb = 0): Buffer {
  return rdbToBuffer((w) => {
    w.header([['redis-ver', '7.0.15'], ['repl-stream-db', String(streamDb)], ['repl-id', PRIMARY_ID], ['repl-offset', '0']]);
    w.selectDb(0, Object.keys(keys).length, 0);
    for (const [k, v] of Object.entries(keys)) w.entry(0, k, v, -1);
    w.end();
  });
}

let fake: FakePrimary;
afterEach(async () => {
  await fake?.close();
});

/** A Vireo with `keys` of its own in db 0, made a replica of a new fake primary. */
async function replicaOfFake(keys: Record<string, string> = {}, params: Record<string, string> = {}): Promise<{ v: VireoHandle; c: RespClient }> {
  fake = await FakePrimary.start();
  const v = track(await startVireo(params));
  const c = await client(v.port);
  for (const [k, val] of Object.entries(keys)) await c.call('SET', k, val);
  expect(await js(c, 'REPLICAOF', '127.0.0.1', String(fake.port))).toBe('OK');
  return { v, c };
}

/** Serve a full sync on `link`: +FULLRESYNC, the payload (split into `pieces` writes), then the stream. */
async function fullSync(link: FakeLink, rdb: Buffer, opts: { offset?: number; mark?: boolean; pieces?: number } = {}): Promise<void> {
  await link.handshake();
  const mark = 'M'.repeat(40);
  const framed = opts.mark
    ? Buffer.concat([Buffer.from(`$EOF:${mark}\r\n`), rdb, Buffer.from(mark)])
    : Buffer.concat([Buffer.from(`$${rdb.length}\r\n`), rdb]);
  link.write(`+FULLRESYNC ${PRIMARY_ID} ${opts.offset ?? 1000}\r\n`);
  const pieces = opts.pieces ?? 1;
  const step = Math.ceil(framed.length / pieces);
  for (let i = 0; i < framed.length; i += step) {
    link.write(framed.subarray(i, i + step));
    await new Promise((r) => setTimeout(r, 2));
  }
}

async function role(c: RespClient): Promise<unknown[]> {
  return (await js(c, 'ROLE')) as unknown[];
}

async function waitState(c: RespClient, state: string): Promise<void> {
  await waitFor(`ROLE state ${state}`, async () => (await role(c))[3] === state);
}

describe('the stream parser and the payload reader', () => {
  it('MasterStreamParser returns each command with its exact bytes, whatever the chunking', () => {
    const stream = Buffer.concat([resp('SELECT', '1'), Buffer.from('\n'), resp('SET', 'k', 'x'.repeat(300)), resp('PING')]);
    for (const size of [1, 2, 7, 64, stream.length]) {
      const p = new MasterStreamParser();
      const got: [string[], string][] = [];
      for (let i = 0; i < stream.length; i += size) {
        p.feed(stream.subarray(i, i + size));
        for (let c = p.next(); c !== null; c = p.next()) got.push([c.argv, c.buf.latin1Slice(c.start, c.end)]);
      }
      expect(got.map((g) => g[0])).toEqual([['SELECT', '1'], ['SET', 'k', 'x'.repeat(300)], ['PING']]);
      // The keepalive newline is not part of any command.
      expect(got.map((g) => g[1]).join('')).toBe(stream.latin1Slice().replace('\n*3', '*3'));
      expect(p.pendingBytes).toBe(0);
    }
  });

  it('MasterStreamParser refuses what is not the replication protocol', () => {
    for (const junk of ['GET k\r\n', '*2\r\n$3\r\nGET\r\n:1\r\n', '*1\r\n$3\r\nGETxx', '*x\r\n', '*1\r\n$-1\r\n', `*${'9'.repeat(40)}\r\n`, '*99999999999\r\n']) {
      const p = new MasterStreamParser();
      p.feed(Buffer.from(junk, 'latin1'));
      expect(() => p.next(), junk).toThrow(StreamProtocolError);
    }
  });

  it('RdbTransfer finds the EOF mark across chunk boundaries and returns what follows it', async () => {
    const rdb = primaryRdb({ a: '1' });
    const mark = Buffer.from('Z'.repeat(40));
    const framed = Buffer.concat([rdb, mark, resp('PING')]);
    for (const size of [1, 3, 39, 40, 41, 1000]) {
      const t = new RdbTransfer({ kind: 'mark', mark }, { kind: 'memory' });
      let rest: Buffer | null = null;
      for (let i = 0; i < framed.length && rest === null; i += size) rest = t.push(framed.subarray(i, i + size));
      const tail = Buffer.concat([rest!, framed.subarray(Math.min(framed.length, Math.ceil((rdb.length + 40) / size) * size))]);
      expect(t.done).toBe(true);
      expect((await t.payload()).equals(rdb)).toBe(true);
      expect(tail.latin1Slice()).toBe(resp('PING').latin1Slice());
    }
  });

  it('rdbChecksumOk spots a damaged image', () => {
    const rdb = primaryRdb({ a: '1', b: '2' });
    expect(rdbChecksumOk(rdb)).toBe(true);
    const bad = Buffer.from(rdb);
    bad[20] ^= 1;
    expect(rdbChecksumOk(bad)).toBe(false);
    expect(rdbChecksumOk(Buffer.from('not an rdb at all, no'))).toBe(false);
  });

  it('RdbTransfer checks the checksum as the bytes arrive: the same answer as rdbChecksumOk, whatever the chunk sizes', () => {
    const rdb = primaryRdb({ a: '1', b: 'x'.repeat(300) });
    const bad = Buffer.from(rdb);
    bad[20] ^= 1;
    const badTrailer = Buffer.from(rdb);
    badTrailer[badTrailer.length - 3] ^= 1;
    const noChecksum = Buffer.concat([rdb.subarray(0, rdb.length - 8), Buffer.alloc(8)]);
    for (const [image, ok] of [[rdb, true], [bad, false], [badTrailer, false], [noChecksum, true], [Buffer.from('not an rdb at all, no'), false]] as const) {
      expect(rdbChecksumOk(image)).toBe(ok);
      for (const size of [1, 2, 7, 8, 9, 100, 100000]) {
        const t = new RdbTransfer({ kind: 'length', length: image.length }, { kind: 'memory' });
        for (let i = 0; i < image.length; i += size) t.push(image.subarray(i, i + size));
        expect(t.done).toBe(true);
        expect(t.checksumOk(), `chunks of ${size}`).toBe(ok);
      }
    }
  });

  it('CommandLog.appendVerbatim copies the bytes and adds no SELECT', () => {
    const log = new CommandLog();
    const seen: Buffer[] = [];
    log.follow({ onLogData: (chunk) => void seen.push(Buffer.from(chunk)) });
    log.reset(100);
    const bytes = resp('SET', 'k', 'v');
    log.appendVerbatim(bytes, 0, bytes.length, 5);
    log.flush();
    expect(Buffer.concat(seen).equals(bytes)).toBe(true);
    expect(log.offset).toBe(100 + bytes.length);
    expect(log.streamDb).toBe(5);
  });
});

describe('Vireo following a fake primary', () => {
  it('performs the handshake as Redis does, loads the RDB, then applies and logs the stream byte for byte', async () => {
    const { v, c } = await replicaOfFake({ old: 'gone after the sync' }, { 'replica-announce-ip': '10.0.0.9' });
    const link = await fake.link(1);
    const ownId = v.server.replIds.replId;
    const ownOffset = v.server.engine.log.offset;
    const logged: Buffer[] = [];
    v.server.engine.log.follow({ onLogData: (chunk) => void logged.push(Buffer.from(chunk)) });
    await fullSync(link, primaryRdb({ a: '1', b: '2' }, 2));
    const cmds = link.commands();
    expect(cmds[0]).toEqual(['PING']);
    expect(cmds[1]).toEqual(['REPLCONF', 'listening-port', String(v.port)]);
    expect(cmds[2]).toEqual(['REPLCONF', 'ip-address', '10.0.0.9']);
    expect(cmds[3]).toEqual(['REPLCONF', 'capa', 'eof', 'capa', 'psync2']);
    // A server with a history of its own asks to continue it.
    expect(cmds[4]).toEqual(['PSYNC', ownId, String(ownOffset + 1)]);
    // After the load: an ACK at the primary's offset.
    expect(await link.ack(1000)).toEqual(['REPLCONF', 'ACK', '1000', 'FACK', '1000']);
    expect(await js(c, 'GET', 'a')).toBe('1');
    expect(await js(c, 'EXISTS', 'old')).toBe('0');
    const info = await c.call('INFO', 'replication');
    expect(infoField(info, 'master_replid')).toBe(PRIMARY_ID);
    expect(infoField(info, 'slave_repl_offset')).toBe('1000');

    // The stream is left on db 2 by the RDB (repl-stream-db): no SELECT needed before the first SET.
    const before = Buffer.concat([
      resp('SET', 'in2', 'x'),
      resp('SELECT', '3'),
      resp('MULTI'),
      resp('INCR', 'n'),
      resp('INCR', 'n'),
      resp('EXEC'),
      resp('PING'),
    ]);
    const getack = resp('REPLCONF', 'GETACK', '*');
    const after = resp('SET', 'last', 'y');
    // Sent in awkward pieces: the transaction is split between writes.
    const all = Buffer.concat([before, getack, after]);
    for (let i = 0; i < all.length; i += 13) link.write(all.subarray(i, i + 13));
    // GETACK is answered with the offset before it (Redis' replicationSendAck runs before it is counted).
    expect(await link.ack(1000 + before.length)).toEqual(['REPLCONF', 'ACK', String(1000 + before.length), 'FACK', String(1000 + before.length)]);
    await waitFor('stream applied', async () => (await js(c, 'INFO', 'replication') as string).includes(`slave_repl_offset:${1000 + all.length}`));
    v.server.engine.log.flush();
    expect(Buffer.concat(logged).latin1Slice()).toBe(all.latin1Slice());
    await c.call('SELECT', '2');
    expect(await js(c, 'GET', 'in2')).toBe('x');
    await c.call('SELECT', '3');
    expect(await js(c, 'GET', 'n')).toBe('2');
    expect(await js(c, 'GET', 'last')).toBe('y');
    expect(await role(c)).toEqual(['slave', '127.0.0.1', String(fake.port), 'connected', String(1000 + all.length)]);
    // A client of a read-only replica may not write.
    const w = await c.call('SET', 'x', '1');
    expect(w).toEqual({ type: 'error', value: "READONLY You can't write against a read only replica." });
  });

  it('loads a diskless payload ($EOF:<mark>), into memory with swapdb, and continues with the new id on +CONTINUE', async () => {
    const { c } = await replicaOfFake({}, { 'repl-diskless-load': 'swapdb' });
    const first = await fake.link(1);
    await fullSync(first, primaryRdb({ k: 'v' }), { mark: true, pieces: 7 });
    await waitState(c, 'connected');
    expect(await js(c, 'GET', 'k')).toBe('v');
    first.write(resp('SELECT', '0'));
    first.write(resp('SET', 'k2', 'v2'));
    await waitFor('k2', async () => (await js(c, 'GET', 'k2')) === 'v2');
    const offset = 1000 + resp('SELECT', '0').length + resp('SET', 'k2', 'v2').length;
    first.destroy();
    // Reconnect: PSYNC from the next byte; the primary answers +CONTINUE with a new id (it was promoted).
    const second = await fake.link(2);
    const psync = await second.handshake();
    expect(psync).toEqual(['PSYNC', PRIMARY_ID, String(offset + 1)]);
    second.write(`+CONTINUE ${NEW_ID}\r\n`);
    second.write(resp('SET', 'k3', 'v3'));
    await waitFor('k3', async () => (await js(c, 'GET', 'k3')) === 'v3');
    const info = await c.call('INFO', 'replication');
    expect(infoField(info, 'master_replid')).toBe(NEW_ID);
    expect(await js(c, 'GET', 'k')).toBe('v');
  });

  it("applies the primary's writes to keys whose TTL passed here: the primary decides when a key is gone", async () => {
    const { c } = await replicaOfFake();
    const link = await fake.link(1);
    await fullSync(link, primaryRdb({}));
    await waitState(c, 'connected');
    const past = String(Date.now() - 1000);
    // The primary saw these keys alive (its clock, or the TTL ran out in transit): its DEL is what removes them.
    link.write(Buffer.concat([resp('SELECT', '0'), resp('SET', 'a', 'v', 'PXAT', past), resp('SET', 'b', 'v', 'PXAT', past), resp('APPEND', 'b', 'x'), resp('DEL', 'a')]));
    await waitFor('DEL applied', async () => (await js(c, 'DBSIZE')) === '1');
    // Hidden from clients while expired, but still there with the primary's value.
    expect(await js(c, 'GET', 'b')).toBe(null);
    link.write(resp('PERSIST', 'b'));
    await waitFor('PERSIST applied', async () => (await js(c, 'GET', 'b')) === 'vx');
  });
});

describe("the replica's own files", () => {
  it('a new AOF incr file never takes the name of a retired one still listed (removing the history would delete it)', () => {
    const m = new AofManifest(new Config(), testLogger('nothing'));
    m.files = [
      { name: 'appendonly.aof.1.base.rdb', seq: 1, type: 'h' },
      { name: 'appendonly.aof.1.incr.aof', seq: 1, type: 'h' },
      { name: 'appendonly.aof.2.base.rdb', seq: 2, type: 'b' },
    ];
    expect(m.nextSeq('i')).toBe(2);
    expect(m.nextSeq('b')).toBe(3);
  });

  it('with appendonly yes a full sync starts a new AOF at the primary offset; a restart from it asks to continue from there', async () => {
    const { v, c } = await replicaOfFake({ old: '1' }, { appendonly: 'yes' });
    const dir = v.dir;
    const first = await fake.link(1);
    await fullSync(first, primaryRdb({ a: '1' }, 1), { offset: 500 });
    await waitState(c, 'connected');
    const stream = Buffer.concat([resp('SET', 'in1', 'x'), resp('SELECT', '2'), resp('SET', 'in2', 'y'), resp('PING'), resp('REPLCONF', 'GETACK', '*')]);
    first.write(stream);
    await waitFor('stream applied', async () => infoField(await c.call('INFO', 'replication'), 'slave_repl_offset') === String(500 + stream.length));
    const manifest = fs.readFileSync(path.join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1');
    const files = [...manifest.matchAll(/^file (\S+) seq \d+ type ([bi])$/gm)].map((m) => m[1]!);
    expect(files.length).toBe(2);
    for (const f of files) expect(fs.existsSync(path.join(dir, 'appendonlydir', f)), f).toBe(true);
    // The incr file holds the stream as received: no SELECT of its own (the base says the stream is on db 1).
    const incr = files.find((f) => f.includes('.incr.'))!;
    await v.stop();
    expect(fs.readFileSync(path.join(dir, 'appendonlydir', incr)).latin1Slice()).toBe(stream.latin1Slice());

    const again = track(await startVireo({ dir, appendonly: 'yes', replicaof: `127.0.0.1 ${fake.port}` }));
    const c2 = await client(again.port);
    expect(await js(c2, 'GET', 'in1')).toBe(null);
    await c2.call('SELECT', '1');
    expect(await js(c2, 'GET', 'in1')).toBe('x');
    expect(await js(c2, 'GET', 'a')).toBe(null);
    await c2.call('SELECT', '0');
    expect(await js(c2, 'GET', 'a')).toBe('1');
    await c2.call('SELECT', '2');
    expect(await js(c2, 'GET', 'in2')).toBe('y');
    const second = await fake.link(2);
    expect(await second.handshake()).toEqual(['PSYNC', PRIMARY_ID, String(500 + stream.length + 1)]);
    // It continues on db 2, where the stream was.
    second.write('+CONTINUE\r\n');
    second.write(resp('SET', 'in2', 'z'));
    await waitFor('continued', async () => (await js(c2, 'GET', 'in2')) === 'z');
  });
});

describe('clients of a replica while it syncs and follows', () => {
  it('a client blocked on the replica (XREAD BLOCK) is served when the primary writes', async () => {
    const { v, c } = await replicaOfFake();
    const link = await fake.link(1);
    await fullSync(link, primaryRdb({}));
    await waitState(c, 'connected');
    const reader = await client(v.port);
    const pending = reader.call('XREAD', 'BLOCK', '0', 'STREAMS', 's', '$');
    await waitFor('reader blocked', async () => ((await js(c, 'INFO', 'clients')) as string).includes('blocked_clients:1'));
    link.write(Buffer.concat([resp('SELECT', '0'), resp('XADD', 's', '1-1', 'f', 'v')]));
    expect(toJs(await pending)).toEqual([['s', [['1-1', ['f', 'v']]]]]);
  });

  it('while a sync loads its RDB, INFO answers and other commands get -LOADING', async () => {
    const v = track(await startVireo());
    const c = await client(v.port);
    const keys: Record<string, string> = {};
    for (let i = 0; i < 30000; i++) keys[`k${i}`] = `v${i}`;
    const load = v.server.persistence.loadSyncSteps(primaryRdb(keys), null, 'the replication stream');
    // The first slice of keys is in; the load waits for its next turn.
    expect(load.next().done).toBe(false);
    expect(await c.call('GET', 'k1')).toEqual({ type: 'error', value: 'LOADING Redis is loading the dataset in memory' });
    expect(infoField(await c.call('INFO', 'persistence'), 'loading')).toBe('1');
    while (!load.next().done);
    expect(await js(c, 'GET', 'k29999')).toBe('v29999');
    expect(infoField(await c.call('INFO', 'persistence'), 'loading')).toBe('0');
  });
});

describe('a primary that goes wrong', () => {
  /** The replica keeps `keys` and keeps serving while the primary misbehaves. */
  async function stillServes(c: RespClient, keys: Record<string, string>): Promise<void> {
    expect(await js(c, 'PING')).toBe('PONG');
    for (const [k, val] of Object.entries(keys)) expect(await js(c, 'GET', k)).toBe(val);
  }

  it('junk instead of PONG: logged, dropped, tried again', async () => {
    const { c } = await replicaOfFake({ mine: '1' });
    const first = await fake.link(1);
    await first.command('PING');
    first.write('\x00\x01garbage that is not a reply\r\n');
    const second = await fake.link(2);
    await second.command('PING');
    second.write(Buffer.alloc(5000, 'x'));
    await fake.link(3);
    await stillServes(c, { mine: '1' });
  });

  it('a bad +FULLRESYNC line: nothing loaded, tried again', async () => {
    const { c } = await replicaOfFake({ mine: '1' });
    const first = await fake.link(1);
    await first.handshake();
    first.write('+FULLRESYNC short 12\r\n');
    const second = await fake.link(2);
    await second.handshake();
    second.write(`+FULLRESYNC ${PRIMARY_ID} notanumber\r\n`);
    await fake.link(3);
    await stillServes(c, { mine: '1' });
  });

  it('an RDB cut short by the primary dying (both framings): the old dataset stays, nothing half-loaded', async () => {
    const { c } = await replicaOfFake({ mine: '1' });
    const many: Record<string, string> = {};
    for (let i = 0; i < 500; i++) many[`k${i}`] = `v${i}`;
    const rdb = primaryRdb(many);
    const first = await fake.link(1);
    await first.handshake();
    first.write(`+FULLRESYNC ${PRIMARY_ID} 5\r\n$${rdb.length}\r\n`);
    first.write(rdb.subarray(0, rdb.length >> 1));
    await waitFor('half the payload', async () => infoField(await c.call('INFO', 'replication'), 'master_sync_read_bytes') === String(rdb.length >> 1));
    const info = await c.call('INFO', 'replication');
    expect(infoField(info, 'master_sync_in_progress')).toBe('1');
    expect(infoField(info, 'master_sync_total_bytes')).toBe(String(rdb.length));
    expect(infoField(info, 'master_sync_left_bytes')).toBe(String(rdb.length - (rdb.length >> 1)));
    expect((await role(c))[3]).toBe('sync');
    first.destroy();
    const second = await fake.link(2);
    await second.handshake();
    second.write(`+FULLRESYNC ${PRIMARY_ID} 5\r\n$EOF:${'E'.repeat(40)}\r\n`);
    second.write(rdb);
    second.end();
    await fake.link(3);
    await stillServes(c, { mine: '1' });
    expect(await js(c, 'DBSIZE')).toBe('1');
  });

  it('a complete but damaged RDB is refused before the dataset is touched', async () => {
    const { c } = await replicaOfFake({ mine: '1' });
    const bad = Buffer.from(primaryRdb({ a: '1', b: '2' }));
    bad[bad.length - 12] ^= 0xff;
    const first = await fake.link(1);
    await fullSync(first, bad);
    await fake.link(2);
    await stillServes(c, { mine: '1' });
    expect(await js(c, 'DBSIZE')).toBe('1');
  });

  it('a stream that breaks the protocol drops the link; the next sync is a full one (PSYNC ? -1)', async () => {
    const { c } = await replicaOfFake();
    const first = await fake.link(1);
    await fullSync(first, primaryRdb({ a: '1' }));
    await waitState(c, 'connected');
    first.write(resp('SET', 'b', '2'));
    first.write('this is not RESP\r\n');
    const second = await fake.link(2);
    expect(await second.handshake()).toEqual(['PSYNC', '?', '-1']);
    // What came before the junk was applied.
    expect(await js(c, 'GET', 'b')).toBe('2');
  });

  it('a primary that says nothing is dropped after repl-timeout', async () => {
    const { c } = await replicaOfFake({ mine: '1' }, { 'repl-timeout': '1' });
    const first = await fake.link(1);
    await first.command('PING');
    // Silence: after about a second and a cron tick the replica gives up and connects again.
    await fake.link(2, 5000);
    expect(first.closed || (await new Promise((r) => setTimeout(() => r(first.closed), 500)))).toBe(true);
    await stillServes(c, { mine: '1' });
  });

  it('a connected primary that goes silent is timed out too, and answered with a partial resync request', async () => {
    const { c } = await replicaOfFake({}, { 'repl-timeout': '1' });
    const first = await fake.link(1);
    await fullSync(first, primaryRdb({ a: '1' }), { offset: 77 });
    await waitState(c, 'connected');
    const second = await fake.link(2, 5000);
    expect(await second.handshake()).toEqual(['PSYNC', PRIMARY_ID, '78']);
    const info = await c.call('INFO', 'replication');
    expect(infoField(info, 'master_link_status')).toBe('down');
  });
});

describe('REPLICAOF and the replica state clients see', () => {
  it('answers like Redis 7.2 for errors, the same primary twice, and NO ONE', async () => {
    const { v, c } = await replicaOfFake({ mine: '1' });
    expect(await js(c, 'REPLICAOF', '127.0.0.1', String(fake.port))).toBe('OK Already connected to specified master');
    expect(await c.call('REPLICAOF', '127.0.0.1', '70000')).toEqual({ type: 'error', value: 'ERR Invalid master port' });
    expect(await c.call('REPLICAOF', '127.0.0.1', 'abc')).toEqual({ type: 'error', value: 'ERR Invalid master port' });
    expect(await js(c, 'CONFIG', 'GET', 'replicaof')).toEqual(['replicaof', `127.0.0.1 ${fake.port}`]);
    // As in Redis: the primary changes with REPLICAOF, not CONFIG SET.
    expect(await c.call('CONFIG', 'SET', 'replicaof', '127.0.0.1 1')).toEqual({
      type: 'error',
      value: "ERR CONFIG SET failed (possibly related to argument 'replicaof') - can't set immutable config",
    });
    const idBefore = infoField(await c.call('INFO', 'replication'), 'master_replid');
    expect(await js(c, 'SLAVEOF', 'NO', 'ONE')).toBe('OK');
    expect(await role(c)).toEqual(['master', String(v.server.engine.log.offset), []]);
    expect(infoField(await c.call('INFO', 'replication'), 'role')).toBe('master');
    // A new history: the old id is the second one now.
    expect(v.server.replIds.replId2).toBe(idBefore);
    expect(await js(c, 'SET', 'w', '1')).toBe('OK');
    expect(await js(c, 'GET', 'mine')).toBe('1');
    expect(await js(c, 'REPLICAOF', 'no', 'one')).toBe('OK');
    expect(await js(c, 'CONFIG', 'GET', 'replicaof')).toEqual(['replicaof', '']);
  });

  it('a primary whose name does not resolve leaves the link in state connect, as Redis (its getaddrinfo fails at once)', async () => {
    const v = track(await startVireo());
    const c = await client(v.port);
    expect(await js(c, 'REPLICAOF', 'no-such-host.invalid', '6379')).toBe('OK');
    expect(await role(c)).toEqual(['slave', 'no-such-host.invalid', '6379', 'connect', '-1']);
    await new Promise((r) => setTimeout(r, 300));
    expect(await role(c)).toEqual(['slave', 'no-such-host.invalid', '6379', 'connect', '-1']);
    expect(await js(c, 'GET', 'k')).toBe(null);
  });

  it('replica-serve-stale-data no: MASTERDOWN while the link is down, except for commands flagged stale', async () => {
    const { c } = await replicaOfFake({ mine: '1' }, { 'replica-serve-stale-data': 'no' });
    await fake.link(1);
    const masterdown = { type: 'error', value: "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'." };
    expect(await c.call('GET', 'mine')).toEqual(masterdown);
    expect(await c.call('PING')).toEqual(masterdown);
    expect((await c.call('INFO', 'replication')).type).toBe('bulk');
    // READONLY comes first for a write, as in Redis' processCommand.
    expect(await c.call('SET', 'a', '1')).toEqual({ type: 'error', value: "READONLY You can't write against a read only replica." });
    expect(await js(c, 'CONFIG', 'SET', 'replica-read-only', 'no')).toBe('OK');
    expect(await c.call('SET', 'a', '1')).toEqual(masterdown);
    // Queued commands are judged when queued; EXEC is judged by what it holds.
    expect(await js(c, 'MULTI')).toBe('OK');
    expect(await c.call('GET', 'mine')).toEqual(masterdown);
    expect((await c.call('EXEC')).type).toBe('error');
  });

  it('INFO replication lists the replica fields in Redis order, with the link down', async () => {
    const { c } = await replicaOfFake();
    await fake.link(1);
    const text = (await js(c, 'INFO', 'replication')) as string;
    const names = text.split('\r\n').filter((l) => l.includes(':')).map((l) => l.slice(0, l.indexOf(':')));
    expect(names.slice(0, 12)).toEqual([
      'role', 'master_host', 'master_port', 'master_link_status', 'master_last_io_seconds_ago', 'master_sync_in_progress',
      'slave_read_repl_offset', 'slave_repl_offset', 'master_link_down_since_seconds', 'slave_priority', 'slave_read_only', 'replica_announced',
    ]);
    expect(infoField(await c.call('INFO', 'replication'), 'master_link_down_since_seconds')).toBe('-1');
  });
});

