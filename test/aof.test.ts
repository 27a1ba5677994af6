/**
 * The AOF: restart and crash safety (kill -9 under load), torn and corrupt
 * files, rewrites, runtime switching, MISCONF, WAITAOF, and interop with
 * redis-server 7.0 and redis-check-aof in both directions.
 */

import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { useCleanups, js } from './helpers/cleanups.js';
import { RespClient, toJs, type Reply } from './helpers/resp.js';
import { HAVE_REDIS, startRedis, startVireo, startVireoProcess, tempDir, type ProcessHandle, type VireoHandle } from './helpers/servers.js';
import { infoField as parseInfoField, readInfo, waitFor } from './helpers/info.js';
import { pipelineOk } from './helpers/dataset.js';

const DEBUG = ['--enable-debug-command', 'yes'];
const ALWAYS = [...DEBUG, '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''];
/** `always` appending as redis-server does (no preallocated tail): the layout of Redis' files and of everysec. */
const ALWAYS_APPENDING = [...ALWAYS, '--aof-preallocate', 'no'];

const { track, client, defer } = useCleanups();

/** A writer's error that only says the server went away (it was killed under it). */
function isKilledError(e: unknown): boolean {
  return /connection closed|ECONNRESET|ECONNREFUSED|EPIPE/.test(e instanceof Error ? e.message : String(e));
}

function incrFiles(dir: string): string[] {
  const manifest = fs.readFileSync(path.join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1');
  return [...manifest.matchAll(/file (\S+) seq \d+ type i/g)].map((m) => path.join(dir, 'appendonlydir', m[1]!));
}

function copyDir(from: string): string {
  const to = tempDir('vireo-aof-copy-');
  fs.cpSync(from, to, { recursive: true });
  return to;
}

/** A dataset with every type, several databases, TTLs; scores print alike in 7.0's %.17g and 7.2's fpconv. */
async function buildDataset(c: RespClient, tag: string): Promise<void> {
  const cmds: string[][] = [
    ['SELECT', '0'],
    ['SET', `${tag}:s`, 'hello'],
    ['SET', `${tag}:n`, '12345'],
    ['SET', `${tag}:big`, 'x'.repeat(5000)],
    ['SET', `${tag}:bin`, '\x00\xff\r\n'],
    ['SET', `${tag}:ttl`, 'v', 'EX', '100000'],
    ['RPUSH', `${tag}:l`, 'a', 'b', 'c', '1', '2'],
    ['HSET', `${tag}:h`, 'f1', 'v1', 'f2', '2'],
    ['SADD', `${tag}:si`, '1', '2', '3'],
    ['SADD', `${tag}:ss`, 'a', 'b', 'c'],
    ['ZADD', `${tag}:z`, '1', 'a', '1.5', 'b', '-3.75', 'c'],
    ['INCRBYFLOAT', `${tag}:f`, '2.5'],
    ['SELECT', '3'],
    ['SET', `${tag}:db3`, 'three'],
    ['EXPIRE', `${tag}:db3`, '50000'],
  ];
  for (let i = 0; i < 300; i++) cmds.push(['RPUSH', `${tag}:biglist`, `item-${i}`], ['HSET', `${tag}:bighash`, `f${i}`, `v${i}`], ['SADD', `${tag}:bigset`, `m${i}`], ['ZADD', `${tag}:bigz`, String(i), `m${i}`]);
  cmds.push(['MULTI'], ['INCR', `${tag}:tx`], ['LPUSH', `${tag}:l`, 'tx'], ['EXEC'], ['SPOP', `${tag}:bigset`], ['SELECT', '0']);
  // Pipelined: under appendfsync always, 1200 commands sent one at a time
  // wait for 1200 fsyncs (8 s per dataset on a slow disk); together they share a few.
  await pipelineOk(c, cmds);
}

async function digest(c: RespClient): Promise<string> {
  const r = await c.call('DEBUG', 'DIGEST');
  expect(r.type).toBe('simple');
  return r.value as string;
}

const infoField = (c: RespClient, field: string) => readInfo(c, 'persistence', field);

async function rewriteDone(c: RespClient): Promise<void> {
  // Both fields from one INFO: read apart, a scheduled rewrite can start in between.
  await waitFor('AOF rewrite', async () => {
    const info = await c.call('INFO', 'persistence');
    return parseInfoField(info, 'aof_rewrite_in_progress') === '0' && parseInfoField(info, 'aof_rewrite_scheduled') === '0';
  });
}

describe('AOF restart and crash safety', () => {
  it('restarts with every type, database and TTL after a clean stop and after kill -9', async () => {
    const dir = tempDir();
    let p = track(await startVireoProcess(ALWAYS, { dir }));
    let c = await client(p.port);
    await buildDataset(c, 'k');
    const before = await digest(c);
    await p.stop();
    p = track(await startVireoProcess(ALWAYS, { dir }));
    c = await client(p.port);
    expect(await digest(c)).toBe(before);
    await c.call('SET', 'after', 'restart');
    const again = await digest(c);
    await p.kill();
    p = track(await startVireoProcess(ALWAYS, { dir }));
    c = await client(p.port);
    expect(await digest(c)).toBe(again);
    expect(Number(await js(c, 'TTL', 'k:ttl'))).toBeGreaterThan(90000);
  });

  it('kill -9 under concurrent load loses no acknowledged write (appendfsync always, 20 rounds)', async () => {
    const dir = tempDir();
    // Verified lengths of earlier rounds' lists: later crashes must not take anything away.
    const verified = new Map<string, number>();
    const WRITERS = 3;
    let pending: { round: number; sent: number[]; acked: number[]; txAcked: number[] } | null = null;
    const failures: unknown[] = [];
    for (let round = 0; round <= 20; round++) {
      const p = track(await startVireoProcess(ALWAYS, { dir }));
      const c = await client(p.port);
      if (pending !== null) {
        for (let w = 0; w < WRITERS; w++) {
          const key = `list:${pending.round}:${w}`;
          const items = (await js(c, 'LRANGE', key, '0', '-1')) as string[];
          // Everything acknowledged is there, in order, and nothing never sent.
          expect(items.length, key).toBeGreaterThanOrEqual(pending.acked[w]!);
          expect(items.length, key).toBeLessThanOrEqual(pending.sent[w]!);
          expect(items).toEqual(Array.from({ length: items.length }, (_, i) => String(i + 1)));
          // INCR follows its RPUSH: the kill may fall between the two.
          const ctr = Number(await js(c, 'GET', `ctr:${pending.round}:${w}`));
          expect([items.length - 1, items.length]).toContain(ctr);
          // Transactions are all-or-nothing.
          const txLen = Number(await js(c, 'LLEN', `tx:${pending.round}:${w}`));
          expect(Number((await js(c, 'GET', `txc:${pending.round}:${w}`)) ?? 0)).toBe(txLen);
          expect(txLen).toBeGreaterThanOrEqual(pending.txAcked[w]!);
          verified.set(key, items.length);
        }
      }
      for (const [key, len] of verified) expect(Number(await js(c, 'LLEN', key)), key).toBe(len);
      if (round === 20) break;
      const sent = new Array<number>(WRITERS).fill(0);
      const acked = new Array<number>(WRITERS).fill(0);
      const txAcked = new Array<number>(WRITERS).fill(0);
      let stop = false;
      const writers = Array.from({ length: WRITERS }, async (_, w) => {
        const wc = await RespClient.connect(p.port);
        try {
          let tx = 0;
          while (!stop) {
            // Four commands in flight: each RPUSH and INCR pair is acknowledged by its replies.
            const batch: Promise<Reply>[] = [];
            for (let k = 0; k < 4; k++) {
              const seq = ++sent[w]!;
              batch.push(wc.call('RPUSH', `list:${round}:${w}`, String(seq)), wc.call('INCR', `ctr:${round}:${w}`));
            }
            const replies = await Promise.all(batch);
            for (let k = 0; k < replies.length; k += 2) {
              expect(replies[k]!.type).toBe('integer');
              acked[w] = Number(replies[k]!.value);
            }
            if (++tx % 3 === 0) {
              const t = [wc.call('MULTI'), wc.call('RPUSH', `tx:${round}:${w}`, 'x'), wc.call('INCR', `txc:${round}:${w}`), wc.call('EXEC')];
              const [, , , exec] = await Promise.all(t);
              if (exec!.type === 'array') txAcked[w]!++;
            }
          }
        } catch (e) {
          // The server was killed under us; anything else (an error reply) fails the test.
          if (!isKilledError(e)) failures.push(e);
        } finally {
          wc.close();
        }
      });
      // Kill at a random moment once writes are being acknowledged (on a
      // loaded machine the first ones can take longer than the delay alone).
      const ackDeadline = Date.now() + 20_000;
      while (acked.every((n) => n === 0) && Date.now() < ackDeadline) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, Math.random() * 240));
      await p.kill();
      stop = true;
      await Promise.all(writers);
      pending = { round, sent, acked, txAcked };
      expect(failures).toEqual([]);
      expect(acked.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    }
  }, 120_000);

  // A lone client's write is committed in its own read callback (the fsync
  // on the main thread, group-commit.ts commitNow): the reply still follows the fsync.
  it('kill -9 loses nothing a lone client was told was written, one command at a time (appendfsync always)', async () => {
    const dir = tempDir();
    let acked = 0;
    let sent = 0;
    for (let round = 0; round <= 5; round++) {
      const p = track(await startVireoProcess(ALWAYS, { dir }));
      const c = await client(p.port);
      const items = (await js(c, 'LRANGE', 'lone', '0', '-1')) as string[];
      expect(items.length).toBeGreaterThanOrEqual(acked);
      expect(items.length).toBeLessThanOrEqual(sent);
      expect(items).toEqual(Array.from({ length: items.length }, (_, i) => String(i + 1)));
      if (round === 5) break;
      // Carry on from what survived: a write sent but not acknowledged may or may not have.
      sent = acked = items.length;
      const wc = await RespClient.connect(p.port);
      let stop = false;
      const writer = (async () => {
        try {
          while (!stop) {
            const seq = ++sent;
            const reply = await wc.call('RPUSH', 'lone', String(seq));
            expect(reply.type).toBe('integer');
            acked = Number(reply.value);
          }
        } catch (e) {
          if (!isKilledError(e)) throw e;
        } finally {
          wc.close();
        }
      })();
      const ackDeadline = Date.now() + 20_000;
      while (acked === items.length && Date.now() < ackDeadline) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 20 + Math.random() * 200));
      await p.kill();
      stop = true;
      await writer;
      expect(acked).toBeGreaterThan(items.length);
    }
  }, 60_000);

  it('appendfsync everysec: a killed process loses nothing acknowledged (writes reach the file before replies)', async () => {
    const dir = tempDir();
    let lastAcked = 0;
    const failures: unknown[] = [];
    for (let round = 0; round < 3; round++) {
      const p = track(await startVireoProcess([...DEBUG, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', ''], { dir }));
      const c = await client(p.port);
      if (round > 0) {
        const prev = Number(await js(c, 'LLEN', `e:${round - 1}`));
        expect(prev).toBeGreaterThanOrEqual(lastAcked);
      }
      let acked = 0;
      let stop = false;
      const w = (async () => {
        const wc = await RespClient.connect(p.port);
        try {
          let seq = 0;
          while (!stop) {
            const r = await wc.call('RPUSH', `e:${round}`, String(++seq));
            acked = Number(r.value);
          }
        } catch (e) {
          if (!isKilledError(e)) failures.push(e);
        } finally {
          wc.close();
        }
      })();
      const ackDeadline = Date.now() + 20_000;
      while (acked === 0 && Date.now() < ackDeadline) await new Promise((r) => setTimeout(r, 5));
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 300));
      await p.kill();
      stop = true;
      await w;
      lastAcked = acked;
      expect(failures).toEqual([]);
      expect(acked).toBeGreaterThan(0);
    }
  }, 60_000);
});

describe('loading an AOF while clients are connected', () => {
  it('replayed records are not written to the AOF again (no doubled data after two restarts)', async () => {
    const dir = tempDir();
    const p = track(await startVireoProcess(ALWAYS, { dir }));
    const c = await client(p.port);
    // One big pipelined batch: 200k records to replay.
    const batch = Array.from({ length: 200_000 }, () => '*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$1\r\nx\r\n').join('');
    c.writeRaw(batch);
    for (let i = 0; i < 200_000; i++) await c.read();
    await p.kill();
    const incr = incrFiles(dir).at(-1)!;
    const before = fs.readFileSync(incr);
    // Restart with a client pinging throughout the load (it gets -LOADING replies).
    const restarting = startVireoProcess(ALWAYS, { dir, port: p.port });
    let pinging = true;
    const pinger = (async () => {
      while (pinging) {
        const pc = await RespClient.connect(p.port).catch(() => null);
        if (pc !== null) {
          await pc.call('PING').catch(() => null);
          pc.close();
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const p2 = track(await restarting.catch(async (e) => {
      pinging = false;
      throw e;
    }));
    pinging = false;
    await pinger;
    // Loading wrote nothing: it only cut off the preallocated padding the kill left.
    const after = fs.readFileSync(incr);
    expect(after.length).toBeLessThanOrEqual(before.length);
    expect(after.equals(before.subarray(0, after.length))).toBe(true);
    expect(/^[# \r\n]*$/.test(before.latin1Slice(after.length))).toBe(true);
    await p2.kill();
    const p3 = track(await startVireoProcess(ALWAYS, { dir }));
    expect(Number(await js(await client(p3.port), 'LLEN', 'l'))).toBe(200_000);
  }, 60_000);
});

describe('damaged AOF files', () => {
  /** An AOF of fixed-size RPUSH records, so the records before any cut are known. */
  async function aofWithRecords(n: number): Promise<{ dir: string; incr: string; header: number; record: number }> {
    const dir = tempDir();
    const p = track(await startVireoProcess(ALWAYS_APPENDING, { dir }));
    const c = await client(p.port);
    for (let i = 1; i <= n; i++) await c.call('RPUSH', 'l', String(i).padStart(6, '0'));
    await p.stop();
    const incr = incrFiles(dir).at(-1)!;
    const record = '*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$6\r\n000001\r\n'.length;
    const header = fs.statSync(incr).size - n * record;
    return { dir, incr, header, record };
  }

  it('a file cut at a random byte loses only the torn record, with a warning naming file and offset', async () => {
    const { dir, incr, header, record } = await aofWithRecords(60);
    const size = fs.statSync(incr).size;
    for (let t = 0; t < 5; t++) {
      const cut = header + Math.floor(Math.random() * (size - header));
      const copy = copyDir(dir);
      const copyIncr = path.join(copy, 'appendonlydir', path.basename(incr));
      fs.truncateSync(copyIncr, cut);
      const p = track(await startVireoProcess(ALWAYS, { dir: copy }));
      const c = await client(p.port);
      const expected = Math.floor((cut - header) / record);
      const items = (await js(c, 'LRANGE', 'l', '0', '-1')) as string[];
      expect(items.length).toBe(expected);
      if (expected > 0) expect(items.at(-1)).toBe(String(expected).padStart(6, '0'));
      if ((cut - header) % record !== 0) {
        // The log line may still be on its way through the child's stderr pipe.
        const line = `Truncating the AOF ${path.basename(incr)} at offset ${header + expected * record}`;
        await waitFor('the truncation warning', async () => p.output().includes(line), 5000);
        expect(p.output()).toContain(line);
        // The torn bytes are gone from the file, so new records follow whole ones.
        expect(fs.statSync(copyIncr).size).toBe(header + expected * record);
      }
      await c.call('RPUSH', 'l', 'after');
      await p.stop();
      const again = track(await startVireoProcess(ALWAYS, { dir: copy }));
      const c2 = await client(again.port);
      expect(Number(await js(c2, 'LLEN', 'l'))).toBe(expected + 1);
      await again.stop();
    }
  }, 60_000);

  it('refuses to start on a torn file with aof-load-truncated no, and on damage in the middle', async () => {
    const { dir, incr, header, record } = await aofWithRecords(20);
    const torn = copyDir(dir);
    fs.truncateSync(path.join(torn, 'appendonlydir', path.basename(incr)), header + 5 * record + 7);
    await expect(startVireoProcess([...ALWAYS, '--aof-load-truncated', 'no'], { dir: torn })).rejects.toThrow(/Unexpected end of file reading the append only file appendonly\.aof\.1\.incr\.aof/);

    const garbled = copyDir(dir);
    const file = path.join(garbled, 'appendonlydir', path.basename(incr));
    const bytes = fs.readFileSync(file);
    bytes.write('!', header + 3 * record);
    fs.writeFileSync(file, bytes);
    await expect(startVireoProcess(ALWAYS, { dir: garbled })).rejects.toThrow(new RegExp(`Bad file format reading the append only file appendonly\\.aof\\.1\\.incr\\.aof at offset ${header + 3 * record}`));

    const missing = copyDir(dir);
    fs.rmSync(path.join(missing, 'appendonlydir', path.basename(incr)));
    await expect(startVireoProcess(ALWAYS, { dir: missing })).rejects.toThrow(/appendonly\.aof\.1\.incr\.aof doesn't exist/);
  }, 60_000);

  it('reverts a transaction cut short at the end of the file', async () => {
    const dir = tempDir();
    const p = track(await startVireoProcess(ALWAYS_APPENDING, { dir }));
    const c = await client(p.port);
    await c.call('SET', 'before', '1');
    await c.call('MULTI');
    await c.call('SET', 'a', '1');
    await c.call('SET', 'b', '2');
    await c.call('EXEC');
    await p.stop();
    const incr = incrFiles(dir).at(-1)!;
    const text = fs.readFileSync(incr, 'latin1');
    // Cut just before EXEC: MULTI and both SETs are whole, the transaction is not.
    fs.truncateSync(incr, text.lastIndexOf('*1\r\n$4\r\nEXEC'));
    const p2 = track(await startVireoProcess(ALWAYS, { dir }));
    const c2 = await client(p2.port);
    expect(await js(c2, 'MGET', 'before', 'a', 'b')).toEqual(['1', null, null]);
    expect(p2.output()).toContain('Revert incomplete MULTI/EXEC transaction');
  });
});

describe('the preallocated tail under appendfsync always', () => {
  const PAD_LINE = `#${' '.repeat(61)}\r\n`;
  const RECORD = (i: number) => `*3\r\n$5\r\nRPUSH\r\n$1\r\nl\r\n$6\r\n${String(i).padStart(6, '0')}\r\n`;

  /** A killed server's files: `n` RPUSHes sent one at a time, so each is a group of its own. */
  async function killedWithGroups(n: number): Promise<{ dir: string; incr: string; groups: { at: number; body: number; length: number }[] }> {
    const dir = tempDir();
    const p = track(await startVireoProcess(ALWAYS, { dir }));
    const c = await client(p.port);
    for (let i = 1; i <= n; i++) await c.call('RPUSH', 'l', String(i).padStart(6, '0'));
    await p.kill();
    const incr = incrFiles(dir).at(-1)!;
    const text = fs.readFileSync(incr, 'latin1');
    const groups = [...text.matchAll(/#CRC:(\d+):[0-9a-f]{8}\r\n/g)].map((m) => ({ at: m.index, body: m.index + m[0].length, length: Number(m[1]) }));
    return { dir, incr, groups };
  }

  async function listAfterRestart(dir: string, args = ALWAYS): Promise<{ items: string[]; output: () => string }> {
    const p = track(await startVireoProcess(args, { dir }));
    const items = (await js(await client(p.port), 'LRANGE', 'l', '0', '-1')) as string[];
    return { items, output: () => p.output() };
  }

  const upTo = (n: number) => Array.from({ length: n }, (_, i) => String(i + 1).padStart(6, '0'));

  it('a kill -9 leaves comment-line padding after checksummed groups; a restart keeps every write and cuts the padding', async () => {
    const { dir, incr, groups } = await killedWithGroups(30);
    const text = fs.readFileSync(incr, 'latin1');
    expect(groups.length).toBeGreaterThanOrEqual(30);
    expect(text.slice(groups.at(-1)!.body, groups.at(-1)!.body + groups.at(-1)!.length)).toContain(RECORD(30));
    expect(text.endsWith(PAD_LINE)).toBe(true);
    const end = groups.at(-1)!.body + groups.at(-1)!.length;
    const { items } = await listAfterRestart(dir);
    expect(items).toEqual(upTo(30));
    // Cut at the last record: new writes follow it.
    expect(fs.readFileSync(incr, 'latin1')).toBe(text.slice(0, end));
  }, 30_000);

  it('a clean shutdown leaves no padding', async () => {
    const dir = tempDir();
    const p = track(await startVireoProcess(ALWAYS, { dir }));
    const c = await client(p.port);
    await c.call('SET', 'k', 'v');
    await p.stop();
    const text = fs.readFileSync(incrFiles(dir).at(-1)!, 'latin1');
    expect(text).toMatch(/#CRC:\d+:[0-9a-f]{8}\r\n/);
    expect(text.endsWith('$1\r\nv\r\n')).toBe(true);
  });

  it('the torn write of the last group (a checksum that does not match) is cut off; damage before a good group stops loading', async () => {
    const { dir, incr, groups } = await killedWithGroups(20);
    const last = groups.at(-1)!;
    // A sector of the last group that never reached the disk: padding bytes where its records were.
    const torn = copyDir(dir);
    const tornFile = path.join(torn, 'appendonlydir', path.basename(incr));
    const bytes = fs.readFileSync(tornFile);
    bytes.write(' '.repeat(8), last.body + 10, 'latin1');
    fs.writeFileSync(tornFile, bytes);
    const r = await listAfterRestart(torn);
    expect(r.items).toEqual(upTo(19));
    await waitFor('the torn-write warning', async () => r.output().includes(`Truncating the AOF ${path.basename(incr)} at offset ${last.at}`), 5000);
    expect(fs.statSync(tornFile).size).toBe(last.at);

    // Its header lost instead: the records show up inside the padding.
    const headless = copyDir(dir);
    const headlessFile = path.join(headless, 'appendonlydir', path.basename(incr));
    const h = fs.readFileSync(headlessFile);
    h.write(PAD_LINE.slice(0, last.body - last.at), last.at, 'latin1');
    fs.writeFileSync(headlessFile, h);
    expect((await listAfterRestart(headless)).items).toEqual(upTo(19));

    // Not a torn tail: good groups follow the damaged one.
    const middle = copyDir(dir);
    const middleFile = path.join(middle, 'appendonlydir', path.basename(incr));
    const m = fs.readFileSync(middleFile);
    m.write('X', groups[5]!.body + 12, 'latin1');
    fs.writeFileSync(middleFile, m);
    await expect(startVireoProcess(ALWAYS, { dir: middle })).rejects.toThrow(new RegExp(`Bad file format reading the append only file appendonly\\.aof\\.1\\.incr\\.aof at offset ${groups[5]!.at}`));

    // And with aof-load-truncated no, a torn tail is refused as a truncated file is.
    const strict = copyDir(dir);
    const strictFile = path.join(strict, 'appendonlydir', path.basename(incr));
    fs.writeFileSync(strictFile, bytes);
    await expect(startVireoProcess([...ALWAYS, '--aof-load-truncated', 'no'], { dir: strict })).rejects.toThrow(/Bad file format reading the append only file/);
  }, 60_000);

  it('a power loss in the middle of a group fsync (random sectors of the last group never written) loses that group only', async () => {
    const dir = tempDir();
    const p = track(await startVireoProcess(ALWAYS, { dir }));
    const c = await client(p.port);
    for (let i = 1; i <= 10; i++) await c.call('RPUSH', 'l', String(i).padStart(6, '0'));
    // One pipelined write: 200 records in one group, about 16 sectors of 512 bytes.
    c.writeRaw(Array.from({ length: 200 }, (_, i) => RECORD(11 + i)).join(''));
    for (let i = 0; i < 200; i++) await c.read();
    await p.kill();
    const incr = incrFiles(dir).at(-1)!;
    const text = fs.readFileSync(incr, 'latin1');
    const last = [...text.matchAll(/#CRC:(\d+):[0-9a-f]{8}\r\n/g)].at(-1)!;
    const from = last.index;
    const to = last.index + last[0].length + Number(last[1]) + 1; // the records and the terminator
    expect(Number(last[1])).toBeGreaterThan(200 * 30);
    for (let trial = 0; trial < 6; trial++) {
      // The file was preallocated from offset 0, so the padding byte at offset o is PAD_LINE[o % 64].
      const bytes = Buffer.from(text, 'latin1');
      const first = Math.floor(from / 512);
      const count = Math.floor((to - 1) / 512) - first + 1;
      const lost = new Set([first + Math.floor(Math.random() * count), first + Math.floor(Math.random() * count)]);
      // Bytes before the group were on disk already (an earlier fsync): only the group's own are lost.
      for (const sector of lost) {
        for (let o = Math.max(from, sector * 512); o < Math.min(to, (sector + 1) * 512); o++) bytes[o] = PAD_LINE.charCodeAt(o % 64);
      }
      const copy = copyDir(dir);
      fs.writeFileSync(path.join(copy, 'appendonlydir', path.basename(incr)), bytes);
      const r = await listAfterRestart(copy);
      expect(r.items).toEqual(upTo(10));
    }
  }, 60_000);

  it('a file that ends inside a group is a truncated file: the group is cut off', async () => {
    const { dir, incr, groups } = await killedWithGroups(10);
    const last = groups.at(-1)!;
    fs.truncateSync(incr, last.body + 7);
    const r = await listAfterRestart(dir);
    expect(r.items).toEqual(upTo(9));
    await waitFor('the truncation warning', async () => r.output().includes(`Truncating the AOF ${path.basename(incr)} at offset ${last.at}`), 5000);
  }, 30_000);

  it.skipIf(!HAVE_REDIS)("redis-check-aof accepts a killed server's padded files and redis-server loads them with the same digest", async () => {
    const dir = tempDir();
    const p = track(await startVireoProcess(ALWAYS, { dir }));
    const c = await client(p.port);
    await buildDataset(c, 'p');
    const want = await digest(c);
    await p.kill();
    expect(fs.readFileSync(incrFiles(dir).at(-1)!, 'latin1').endsWith(PAD_LINE)).toBe(true);
    const check = spawnSync('redis-check-aof', [path.join(dir, 'appendonlydir', 'appendonly.aof.manifest')]);
    expect(check.status, check.stdout.toString()).toBe(0);
    const ref = await startRedis({ dir: copyDir(dir), appendonly: 'yes' });
    try {
      expect(await digest(await client(ref.port))).toBe(want);
    } finally {
      await ref.kill();
    }
    const again = track(await startVireoProcess(ALWAYS, { dir }));
    expect(await digest(await client(again.port))).toBe(want);
  }, 30_000);
});

describe('AOF rewrite and runtime switching', () => {
  let v: VireoHandle | null = null;
  afterEach(async () => {
    await v?.stop();
    v = null;
  });

  it('BGREWRITEAOF under writes keeps every write, swaps the manifest and removes history', async () => {
    for (const preamble of ['yes', 'no']) {
      const dir = tempDir();
      const p = track(await startVireoProcess([...ALWAYS, '--aof-use-rdb-preamble', preamble], { dir }));
      const c = await client(p.port);
      await buildDataset(c, 'r');
      expect(await js(c, 'BGREWRITEAOF')).toBe('Background append only file rewriting started');
      // Writes while the rewrite runs land in the new incr file.
      for (let i = 0; i < 200; i++) await c.call('RPUSH', 'during', String(i));
      await rewriteDone(c);
      await c.call('SET', 'after-rewrite', '1');
      const want = await digest(c);
      // The history files are unlinked in the background (as Redis' bio does): gone soon after.
      const onDisk = () => fs.readdirSync(path.join(dir, 'appendonlydir')).sort();
      const only = [`appendonly.aof.2.base.${preamble === 'yes' ? 'rdb' : 'aof'}`, 'appendonly.aof.2.incr.aof'];
      await waitFor('the history files to be removed', async () => onDisk().filter((f) => f.includes('.base.') || f.includes('.incr.')).join() === only.join(), 5000);
      const files = onDisk();
      expect(files.filter((f) => f.includes('.base.'))).toEqual([only[0]]);
      expect(files.filter((f) => f.includes('.incr.'))).toEqual([only[1]]);
      await p.kill();
      const p2 = track(await startVireoProcess(ALWAYS, { dir }));
      const c2 = await client(p2.port);
      expect(await digest(c2)).toBe(want);
      await p2.stop();
    }
  }, 30_000);

  it('rewrites automatically past auto-aof-rewrite-percentage', async () => {
    v = await startVireo({ appendonly: 'yes', save: '', 'auto-aof-rewrite-min-size': '1mb', 'auto-aof-rewrite-percentage': '100' });
    const c = await client(v.port);
    const value = 'v'.repeat(1000);
    for (let i = 0; i < 2500; i++) await c.call('SET', `k${i % 50}`, value);
    await waitFor('automatic rewrite', async () => Number(await infoField(c, 'aof_rewrites')) >= 1);
    await rewriteDone(c);
    // 50 keys of 1 kB: the new base is small.
    expect(Number(await infoField(c, 'aof_base_size'))).toBeLessThan(200_000);
  });

  it('BGREWRITEAOF with appendonly no, then DEBUG LOADAOF, gives back the rewritten keys and TTLs (as redis-server 7.0)', async () => {
    const servers: { port: number; stop: () => Promise<void> }[] = [];
    v = await startVireo({ save: '' });
    servers.push(v);
    if (HAVE_REDIS) servers.push(track(await startRedis()));
    const outcomes: unknown[] = [];
    for (const s of servers) {
      const c = await client(s.port);
      await buildDataset(c, 'off');
      expect(await js(c, 'BGREWRITEAOF')).toBe('Background append only file rewriting started');
      await rewriteDone(c);
      const want = await digest(c);
      // Written after the rewrite: not in the files, so gone after loading them.
      await c.call('SET', 'after-rewrite', '1');
      expect(await js(c, 'DEBUG', 'LOADAOF')).toBe('OK');
      expect(await digest(c)).toBe(want);
      const ttl = Number(await js(c, 'TTL', 'off:ttl'));
      expect(ttl).toBeGreaterThan(99_000);
      // (SPOP in the dataset makes the digests differ between the two servers.)
      outcomes.push([await js(c, 'EXISTS', 'after-rewrite'), await js(c, 'DBSIZE'), await js(c, 'CONFIG', 'GET', 'appendonly')]);
    }
    if (outcomes.length === 2) expect(outcomes[0]).toEqual(outcomes[1]);
    // With the AOF on, the incr file counts too.
    const c = await client(v.port);
    await c.call('CONFIG', 'SET', 'appendonly', 'yes');
    await rewriteDone(c);
    await c.call('SET', 'logged', '1');
    const want = await digest(c);
    expect(await js(c, 'DEBUG', 'LOADAOF')).toBe('OK');
    expect(await digest(c)).toBe(want);
  });

  it('a BGREWRITEAOF scheduled behind a BGSAVE starts once it ends, with appendonly no too (as redis-server 7.0; found by the fuzzer)', async () => {
    const servers: { port: number }[] = [track(await startVireoProcess([...DEBUG, '--save', '']))];
    if (HAVE_REDIS) servers.push(track(await startRedis()));
    for (const s of servers) {
      const c = await client(s.port);
      await c.call('DEBUG', 'POPULATE', '20000', 'sched', '100');
      c.writeRaw('*1\r\n$6\r\nBGSAVE\r\n*1\r\n$12\r\nBGREWRITEAOF\r\n');
      expect(toJs((await c.read()).reply)).toBe('Background saving started');
      expect(toJs((await c.read()).reply)).toBe('Background append only file rewriting scheduled');
      await rewriteDone(c);
      expect(await infoField(c, 'aof_last_bgrewrite_status')).toBe('ok');
      const want = await digest(c);
      expect(await js(c, 'DEBUG', 'LOADAOF')).toBe('OK');
      expect(await digest(c)).toBe(want);
    }
  });

  it('CONFIG SET appendonly yes writes the current data as a base; no stops appending', async () => {
    const dir = tempDir();
    const p = track(await startVireoProcess([...DEBUG, '--save', ''], { dir }));
    const c = await client(p.port);
    await buildDataset(c, 'c');
    expect(await js(c, 'CONFIG', 'SET', 'appendonly', 'yes')).toBe('OK');
    await rewriteDone(c);
    await c.call('SET', 'later', '1');
    const want = await digest(c);
    await p.kill();
    const p2 = track(await startVireoProcess([...DEBUG, '--save', '', '--appendonly', 'yes'], { dir }));
    const c2 = await client(p2.port);
    expect(await digest(c2)).toBe(want);
    expect(await js(c2, 'CONFIG', 'SET', 'appendonly', 'no')).toBe('OK');
    await c2.call('SET', 'not-logged', '1');
    await p2.kill();
    const p3 = track(await startVireoProcess([...DEBUG, '--save', '', '--appendonly', 'yes'], { dir }));
    const c3 = await client(p3.port);
    expect(await digest(c3)).toBe(want);
  }, 30_000);
});

describe('refusing writes when persistence fails (MISCONF)', () => {
  let v: VireoHandle | null = null;
  afterEach(async () => {
    await v?.stop();
    v = null;
  });

  it('a failed BGSAVE refuses writes and PING with MISCONF until a save works again', async () => {
    v = await startVireo({ save: '3600 1' });
    const c = await client(v.port);
    await c.call('SET', 'k', 'v');
    // dump.rdb is a directory: the rename of the finished file fails.
    fs.mkdirSync(path.join(v.dir, 'dump.rdb'));
    fs.writeFileSync(path.join(v.dir, 'dump.rdb', 'x'), 'x');
    expect(await js(c, 'BGSAVE')).toBe('Background saving started');
    await waitFor('bgsave', async () => (await infoField(c, 'rdb_bgsave_in_progress')) === '0');
    expect(await infoField(c, 'rdb_last_bgsave_status')).toBe('err');
    const misconf = (await c.call('SET', 'k', 'w')) as Reply;
    expect(misconf).toEqual({ type: 'error', value: expect.stringMatching(/^MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk\./) });
    expect((await c.call('PING')).type).toBe('error');
    expect(await js(c, 'GET', 'k')).toBe('v');
    // Queued inside MULTI: the transaction is refused as a whole.
    await c.call('MULTI');
    expect((await c.call('SET', 'k', 'x')).type).toBe('error');
    expect((await c.call('EXEC')).value).toMatch(/^EXECABORT/);
    fs.rmSync(path.join(v.dir, 'dump.rdb'), { recursive: true });
    expect(await js(c, 'BGSAVE')).toBe('Background saving started');
    await waitFor('bgsave', async () => (await infoField(c, 'rdb_bgsave_in_progress')) === '0');
    expect(await js(c, 'SET', 'k', 'w')).toBe('OK');
    expect(fs.statSync(path.join(v.dir, 'dump.rdb')).isFile()).toBe(true);
  });

  it('a deleted appendonlydir is detected (MISCONF) and rebuilt from memory; nothing is lost', async () => {
    const dir = tempDir();
    const p = track(await startVireoProcess(ALWAYS, { dir }));
    const c = await client(p.port);
    await buildDataset(c, 'm');
    const aofDir = path.join(dir, 'appendonlydir');
    fs.rmSync(aofDir, { recursive: true });
    // A file where the directory was: the AOF cannot be recreated yet.
    fs.writeFileSync(aofDir, 'in the way');
    await waitFor('MISCONF', async () => (await c.call('SET', 'probe', '1')).type === 'error', 5000);
    // The first error is the lost file; the failed attempts to recreate the directory follow.
    expect((await c.call('SET', 'probe', '1')).value).toMatch(/^MISCONF Errors writing to the AOF file: (No such file or directory|File exists)$/);
    expect(await infoField(c, 'aof_last_write_status')).toBe('err');
    expect(await js(c, 'GET', 'm:s')).toBe('hello');
    fs.rmSync(aofDir);
    await waitFor('recovery', async () => (await c.call('SET', 'probe', '1')).type !== 'error', 15000);
    await c.call('SET', 'after', 'recovery');
    const want = await digest(c);
    await p.kill();
    const p2 = track(await startVireoProcess(ALWAYS, { dir }));
    const c2 = await client(p2.port);
    expect(await digest(c2)).toBe(want);
  }, 40_000);
});

describe('WAITAOF', () => {
  let v: VireoHandle | null = null;
  afterEach(async () => {
    await v?.stop();
    v = null;
  });

  it('answers once the write is fsynced; refuses numlocal without appendonly', async () => {
    v = await startVireo({ save: '' });
    const c = await client(v.port);
    expect(await js(c, 'WAITAOF', '0', '0', '0')).toEqual(['0', '0']);
    expect((await c.call('WAITAOF', '1', '0', '0')).value).toBe('ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.');
    expect((await c.call('WAITAOF', '1', '0', '-1')).value).toBe('ERR timeout is negative');
    await c.call('CONFIG', 'SET', 'appendonly', 'yes');
    await rewriteDone(c);
    await c.call('SET', 'k', 'v');
    // everysec would fsync within a second; WAITAOF asks for it at once.
    expect(await js(c, 'WAITAOF', '1', '0', '0')).toEqual(['1', '0']);
    // No replica will ever acknowledge: the timeout answers with what is there.
    await c.call('SET', 'k', 'w');
    const started = Date.now();
    expect(await js(c, 'WAITAOF', '1', '1', '200')).toEqual(['1', '0']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
  });
});

describe.skipIf(!HAVE_REDIS)('AOF interop with redis-server 7.0', () => {
  let ref: ProcessHandle | null = null;
  afterEach(async () => {
    await ref?.kill();
    ref = null;
  });

  it("redis-check-aof accepts Vireo's AOF and redis-server loads it with the same digest", async () => {
    for (const preamble of ['yes', 'no']) {
      const dir = tempDir();
      const p = track(await startVireoProcess([...ALWAYS, '--aof-use-rdb-preamble', preamble, '--aof-timestamp-enabled', 'yes'], { dir }));
      const c = await client(p.port);
      await buildDataset(c, 'a');
      await c.call('BGREWRITEAOF');
      await rewriteDone(c);
      await buildDataset(c, 'b');
      const want = await digest(c);
      await p.stop();
      const check = spawnSync('redis-check-aof', [path.join(dir, 'appendonlydir', 'appendonly.aof.manifest')]);
      expect(check.status, check.stdout.toString()).toBe(0);
      ref = await startRedis({ dir, appendonly: 'yes' });
      const r = await client(ref.port);
      expect(await digest(r)).toBe(want);
      await ref.kill();
      ref = null;
    }
  }, 30_000);

  it("Vireo loads redis-server's multi-part AOF (RDB preamble base plus incr) with the same digest", async () => {
    const dir = tempDir();
    ref = await startRedis({ dir, appendonly: 'yes', appendfsync: 'always' });
    const r = await client(ref.port);
    await buildDataset(r, 'x');
    await r.call('BGREWRITEAOF');
    await waitFor('redis rewrite', async () => (await infoField(r, 'aof_rewrite_in_progress')) === '0' && (await infoField(r, 'aof_rewrite_scheduled')) === '0');
    await buildDataset(r, 'y');
    const want = await digest(r);
    await r.call('SHUTDOWN', 'NOSAVE').catch(() => null);
    await ref.kill();
    ref = null;
    const p = track(await startVireoProcess(ALWAYS, { dir }));
    const c = await client(p.port);
    expect(await digest(c)).toBe(want);
    // And Vireo keeps appending to Redis' files in a way Redis still reads.
    await c.call('SET', 'from-vireo', '1');
    const next = await digest(c);
    await p.stop();
    ref = await startRedis({ dir, appendonly: 'yes' });
    expect(await digest(await client(ref.port))).toBe(next);
  }, 30_000);
});
