// RDB interop: files written by old and current Redis versions load into
// Vireo with the same dataset and DEBUG DIGEST; files Vireo writes (SAVE,
// BGSAVE, with and without compression and checksum) load into
// redis-server and pass redis-check-rdb; damaged files stop start-up with a
// clear message; a BGSAVE taken under write load holds exactly the dataset
// of its start; streams survive Redis -> Vireo -> Redis untouched.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOTS } from '../src/engine/slot.js';
import { HAVE_REDIS, ROOT, freePort, startRedis, startVireo, tempDir, type ProcessHandle, type VireoHandle } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';
import { EncodingLimits } from '../src/types/limits.js';
import type { Value } from '../src/types/value.js';
import type { Engine } from '../src/engine/engine.js';
import { Snapshot, type SnapshotTarget } from '../persistence/snapshot.js';
import { RdbParser, RdbWriter, dumpPayload, readRdb, restorePayload } from '../persistence/rdb/file.js';
import { Client } from '../src/server/client.js';
import type { Socket } from 'node:net';
import { RdbError } from '../persistence/rdb/format.js';
import { Crc64 } from '../persistence/rdb/crc64.js';
import { call, checkRdb, contents, digest, digestIncomparable, dirWith, expectSameDigest, everyEncodingCommands, pipeline, pipelineOk, waitBgsave, type Cmd, type KeyDump } from './helpers/dataset.js';

// Copied from ../shared/fixtures/rdb (see its README.md) so a clone runs on its own.
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'rdb');
const fixture = (name: string) => path.join(FIXTURES, name);

/** Start Vireo's built entry point and expect it to exit at start-up: [status, output]. */
function vireoStartupFailure(dir: string, extra: string[] = []): { status: number | null; output: string } {
  const main = path.join(ROOT, 'dist', 'src', 'main.js');
  if (!fs.existsSync(main)) throw new Error('dist/ is missing: run npm run build');
  const r = spawnSync(process.execPath, [main, '--port', '0', '--bind', '127.0.0.1', '--dir', dir, '--save', '', ...extra], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 15000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A JS stack trace or an internal exception name leaking out of start-up. */
const STACK = /\n\s+at |TypeError|RangeError|ReferenceError|SyntaxError|Cannot read propert/;

async function withPair<T>(redisDir: string, vireoParams: Record<string, string>, fn: (r: RespClient, v: RespClient, h: { redis: ProcessHandle; vireo: VireoHandle }) => Promise<T>): Promise<T> {
  const redis = await startRedis({ dir: redisDir, dbfilename: 'dump.rdb' });
  let vireo: VireoHandle | null = null;
  let r: RespClient | null = null;
  let v: RespClient | null = null;
  try {
    vireo = await startVireo({ save: '', dbfilename: 'dump.rdb', ...vireoParams });
    r = await RespClient.connect(redis.port);
    v = await RespClient.connect(vireo.port);
    return await fn(r, v, { redis, vireo });
  } finally {
    r?.close();
    v?.close();
    await redis.kill();
    await vireo?.stop();
  }
}

/**
 * Compare DEBUG DIGEST between the 7.0 reference and Vireo: per key with
 * DIGEST-VALUE, then for the whole dataset once the sorted sets whose
 * scores 7.0 and 7.2 print differently in digests are dropped on both sides.
 */
async function compareDigests(r: RespClient, v: RespClient, c: Record<string, KeyDump>): Promise<void> {
  const skip = new Set(digestIncomparable(c));
  for (const dbKey of Object.keys(c)) {
    const at = dbKey.indexOf(':');
    const [db, key] = [dbKey.slice(0, at), dbKey.slice(at + 1)];
    await call(r, 'SELECT', db);
    await call(v, 'SELECT', db);
    if (skip.has(dbKey)) {
      await call(r, 'DEL', key);
      await call(v, 'DEL', key);
      continue;
    }
    expect(await call(v, 'DEBUG', 'DIGEST-VALUE', key), dbKey).toEqual(await call(r, 'DEBUG', 'DIGEST-VALUE', key));
  }
  await call(r, 'SELECT', '0');
  await call(v, 'SELECT', '0');
  await expectSameDigest(v, r);
}

/** Load `file` into redis-server and into Vireo; both must hold the same dataset. Returns the dataset. */
async function compareLoaded(file: string, check?: (r: RespClient, v: RespClient, vireoDir: string) => Promise<void>): Promise<Record<string, KeyDump>> {
  return withPair(dirWith(file), { dir: dirWith(file) }, async (r, v, h) => {
    const [cr, cv] = [await contents(r), await contents(v)];
    expect(Object.keys(cr).length).toBeGreaterThan(0);
    expect(cv).toEqual(cr);
    expect(await call(v, 'DBSIZE')).toBe(await call(r, 'DBSIZE'));
    await check?.(r, v, h.vireo.dir);
    await compareDigests(r, v, cr);
    return cr;
  });
}

/** Start redis-server on a copy of `file` and return its digest and contents. */
async function redisView(file: string): Promise<{ digest: string; contents: Record<string, unknown> }> {
  const redis = await startRedis({ dir: dirWith(file), dbfilename: 'dump.rdb' });
  const c = await RespClient.connect(redis.port);
  try {
    return { digest: await digest(c), contents: await contents(c) };
  } finally {
    c.close();
    await redis.kill();
  }
}

describe.skipIf(!HAVE_REDIS)('RDB fixtures written by older Redis versions', () => {
  for (const name of ['encodings.rdb', 'hash-zipmap.rdb', 'hash-ziplist.rdb', 'list-quicklist.rdb', 'zset-ziplist.rdb']) {
    it(`${name}: same keys, types, values, TTLs and DEBUG DIGEST as redis-server; Vireo's re-save loads back into Redis`, async () => {
      await compareLoaded(fixture(name), async (r, v, vireoDir) => {
        // Vireo writes the dataset again in its own (plain) encodings; Redis reads the same data from it.
        expect(await call(v, 'SAVE')).toBe('OK');
        const saved = path.join(vireoDir, 'dump.rdb');
        expect(checkRdb(saved)).toEqual([0, expect.stringMatching(/RDB looks OK/)]);
        const back = await redisView(saved);
        expect(back.digest).toBe(await digest(r));
        expect(back.contents).toEqual(await contents(r));
      });
    });
  }

  it('encodings.rdb holds what its README says (zipmap hash, intset and ziplist sets, ziplist zset and list, ints, LZF strings)', async () => {
    const c = await compareLoaded(fixture('encodings.rdb'));
    expect(Object.keys(c).sort()).toEqual(
      ['compressible', 'hash', 'hash_zipped', 'list', 'list_zipped', 'number', 'set', 'set_zipped_1', 'set_zipped_2', 'set_zipped_3', 'string', 'zset', 'zset_zipped'].map((k) => `0:${k}`),
    );
    expect((c['0:compressible'] as { value: string }).value.length).toBeGreaterThan(20);
  });

  it('corrupt_ziplist.rdb: Redis and Vireo both refuse to start; Vireo exits non-zero naming the file and the damage, no stack trace', async () => {
    const dir = dirWith(fixture('corrupt_ziplist.rdb'));
    const res = vireoStartupFailure(dir);
    expect(res.status).toBe(1);
    expect(res.output).toMatch(/corrupt RDB .*dump\.rdb.*ziplist/i);
    expect(res.output).not.toMatch(STACK);
    // The reference agrees that the file cannot be loaded.
    const port = await freePort();
    const redis = spawnSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--dir', dirWith(fixture('corrupt_ziplist.rdb')), '--save', ''], { encoding: 'utf8', timeout: 15000 });
    expect(redis.status).not.toBe(0);
    expect(redis.stdout).toMatch(/integrity check failed/);
  });

  it('corrupt_empty_keys.rdb: empty collections are skipped as redis-server skips them (empty dataset, no error)', async () => {
    await withPair(dirWith(fixture('corrupt_empty_keys.rdb')), { dir: dirWith(fixture('corrupt_empty_keys.rdb')) }, async (r, v) => {
      expect(await call(r, 'DBSIZE')).toBe('0');
      expect(await call(v, 'DBSIZE')).toBe('0');
      expect(await contents(v)).toEqual(await contents(r));
      await expectSameDigest(v, r);
      // The server serves normally afterwards.
      expect(await call(v, 'SET', 'k', 'v')).toBe('OK');
    });
  });

  it('rdb-preamble.aof: a pre-7 single-file AOF with an RDB preamble loads like in redis-server and is upgraded to the multi-part layout', async () => {
    const rdir = dirWith(fixture('rdb-preamble.aof'), 'appendonly.aof');
    const vdir = dirWith(fixture('rdb-preamble.aof'), 'appendonly.aof');
    const redis = await startRedis({ dir: rdir, appendonly: 'yes' });
    const vireo = await startVireo({ dir: vdir, appendonly: 'yes', save: '' });
    const r = await RespClient.connect(redis.port);
    const v = await RespClient.connect(vireo.port);
    try {
      const cr = await contents(r);
      expect(Object.keys(cr).length).toBeGreaterThan(0);
      expect(await contents(v)).toEqual(cr);
      await expectSameDigest(v, r);
      // Both moved the old file into appendonlydir/ with a manifest naming it as the base.
      for (const dir of [rdir, vdir]) {
        const manifest = fs.readFileSync(path.join(dir, 'appendonlydir', 'appendonly.aof.manifest'), 'latin1');
        expect(manifest).toMatch(/file appendonly\.aof seq 1 type b/);
        expect(fs.existsSync(path.join(dir, 'appendonly.aof'))).toBe(false);
      }
    } finally {
      r.close();
      v.close();
      await redis.kill();
      await vireo.stop();
    }
  });
});

describe('damaged RDB files stop start-up cleanly', () => {
  let good: Buffer;
  beforeAll(async () => {
    const vireo = await startVireo({ save: '' });
    const c = await RespClient.connect(vireo.port);
    await pipelineOk(c, everyEncodingCommands());
    await call(c, 'SAVE');
    good = fs.readFileSync(path.join(vireo.dir, 'dump.rdb'));
    c.close();
    await vireo.stop();
  });

  const cases: [string, (b: Buffer) => Buffer, RegExp][] = [
    ['truncated in the middle', (b) => b.subarray(0, Math.floor(b.length / 2)), /unexpected end of data|corrupt/i],
    ['truncated before the checksum', (b) => b.subarray(0, b.length - 4), /unexpected end of data/i],
    ['a flipped byte (checksum)', (b) => flip(b, Math.floor(b.length * 0.7)), /checksum|corrupt|unexpected|bad|unknown|duplicate/i],
    ['a wrong signature', (b) => Buffer.concat([Buffer.from('RODIS'), b.subarray(5)]), /wrong signature/i],
    ['a future RDB version', (b) => Buffer.concat([Buffer.from('REDIS0099'), b.subarray(9)]), /can't handle RDB format version 0099/],
    ['garbage', () => Buffer.from('this is not an rdb file at all, just text'), /wrong signature/i],
  ];
  for (const [what, damage, message] of cases) {
    it(`${what}: exit status 1, a message naming dump.rdb and the problem, no stack trace`, () => {
      const dir = tempDir('vireo-rdb-bad-');
      fs.writeFileSync(path.join(dir, 'dump.rdb'), damage(good));
      const res = vireoStartupFailure(dir);
      expect(res.status).toBe(1);
      expect(res.output).toMatch(/dump\.rdb/);
      expect(res.output).toMatch(message);
      expect(res.output).not.toMatch(STACK);
    });
  }
});

describe('loading sizes the string indexes from RESIZEDB', () => {
  it('a reload leaves every slot\'s index as growing key by key did, strings and collections mixed', async () => {
    const vireo = await startVireo({ save: '' });
    const c = await RespClient.connect(vireo.port);
    try {
      // Strings in the store, and as many hashes (RESIZEDB counts them too: the hint is twice the strings).
      expect(await call(c, 'DEBUG', 'POPULATE', '40000', 's')).toBe('OK');
      const hashes: string[][] = [];
      for (let i = 0; i < 40000; i++) hashes.push(['HSET', `h:${i}`, 'f', 'v']);
      await pipelineOk(c, hashes);
      const store = () => vireo.server.engine.dbs[0]!.records;
      const before = Array.from({ length: SLOTS }, (_, slot) => store().capacityOf(slot));
      expect(await call(c, 'DEBUG', 'RELOAD')).toBe('OK');
      expect(Number(await call(c, 'DBSIZE'))).toBe(80000);
      const after = Array.from({ length: SLOTS }, (_, slot) => store().capacityOf(slot));
      expect(after).toEqual(before);
    } finally {
      c.close();
      await vireo.stop();
    }
  });
});

function flip(b: Buffer, at: number): Buffer {
  const c = Buffer.from(b);
  c[at] = c[at]! ^ 0x5a;
  return c;
}

describe('the RDB reader never fails with anything but a clear RdbError', () => {
  const limits = new EncodingLimits();
  const files = ['encodings.rdb', 'hash-zipmap.rdb', 'hash-ziplist.rdb', 'list-quicklist.rdb', 'zset-ziplist.rdb', 'corrupt_ziplist.rdb', 'corrupt_empty_keys.rdb'];

  /** Parse; returns 'ok' or the RdbError message, and fails the test on any other exception. */
  function tryParse(buf: Buffer, what: string): string {
    try {
      readRdb(buf, { limits, checksum: false, onKey: () => {} });
      return 'ok';
    } catch (e) {
      if (!(e instanceof RdbError)) throw new Error(`${what}: ${(e as Error).stack}`);
      return e.message;
    }
  }

  it('every truncation and every damaged byte of the fixture files', () => {
    let errors = 0;
    for (const name of files) {
      const good = fs.readFileSync(fixture(name));
      for (let cut = 0; cut < good.length; cut++) {
        const m = tryParse(good.subarray(0, cut), `${name} cut at ${cut}`);
        expect(m, `${name} cut at ${cut}`).not.toBe('ok');
      }
      for (let at = 9; at < good.length; at++) {
        for (const x of [0x01, 0x40, 0xff]) {
          const b = Buffer.from(good);
          b[at]! ^= x;
          if (tryParse(b, `${name} byte ${at} ^ ${x}`) !== 'ok') errors++;
        }
      }
    }
    expect(errors).toBeGreaterThan(1000);
  });

  it('a DUMP payload whose LZF string claims more bytes than its data can make is refused before that output is allocated', () => {
    // A string value: LZF marker, compressed length 4, uncompressed length 0xffffffff (32-bit form), 4 data bytes.
    const body = Buffer.from([0x00, 0xc3, 0x04, 0x80, 0xff, 0xff, 0xff, 0xff, 0x01, 0x61, 0x62, 0x00, 0x0a, 0x00]);
    const payload = Buffer.concat([body, new Crc64().update(body).digestLE()]);
    expect(() => restorePayload(payload, limits)).toThrow('LZF: uncompressed length 4294967295 out of bounds at offset 8');
    // 88 bytes per compressed byte is the most LZF makes; a length within it goes on to the decompression.
    body.writeUInt32BE(4 * 88, 4);
    expect(() => restorePayload(Buffer.concat([body, new Crc64().update(body).digestLE()]), limits)).toThrow('LZF: literal run out of bounds');
  });

  it('every damaged byte of every DUMP payload type, with a right checksum', async () => {
    const vireo = await startVireo({ save: '' });
    const v = await RespClient.connect(vireo.port);
    try {
      await pipelineOk(v, everyEncodingCommands());
      for (const k of (await call(v, 'KEYS', '*')) as string[]) {
        const payload = Buffer.from((await call(v, 'DUMP', k)) as string, 'latin1');
        if (payload.length > 1200) continue;
        for (let at = 0; at < payload.length - 10; at++) {
          for (const x of [0x01, 0x80]) {
            const b = Buffer.from(payload);
            b[at]! ^= x;
            const body = b.subarray(0, b.length - 8);
            const fixed = Buffer.concat([body, new Crc64().update(body).digestLE()]);
            try {
              restorePayload(fixed, limits);
            } catch (e) {
              if (!(e instanceof RdbError)) throw new Error(`${k} byte ${at} ^ ${x}: ${(e as Error).stack}`);
            }
          }
        }
      }
    } finally {
      v.close();
      await vireo.stop();
    }
  });
});

describe.skipIf(!HAVE_REDIS)('RDB round trips with every encoding', () => {
  let redis: ProcessHandle;
  let r: RespClient;
  let redisDigest: string;
  let redisContents: Record<string, unknown>;
  let redisFile: string;

  beforeAll(async () => {
    redis = await startRedis();
    r = await RespClient.connect(redis.port);
    await pipelineOk(r, everyEncodingCommands());
    redisDigest = await digest(r);
    redisContents = await contents(r);
    expect(await call(r, 'SAVE')).toBe('OK');
    redisFile = path.join(redis.dir, 'dump.rdb');
  });
  afterAll(async () => {
    r?.close();
    await redis?.kill();
  });

  it('the dataset really uses every encoding in Redis 7.0', async () => {
    const enc = async (k: string | Buffer) => call(r, 'OBJECT', 'ENCODING', k);
    expect(await enc('int8')).toBe('int');
    expect(await enc('str')).toBe('embstr');
    expect(await enc('lzf')).toBe('raw');
    expect(await enc('hash-small')).toBe('listpack');
    expect(await enc('hash-big')).toBe('hashtable');
    expect(await enc('hash-longval')).toBe('hashtable');
    expect(await enc('list-big')).toBe('quicklist');
    expect(await enc('set-intset')).toBe('intset');
    expect(await enc('set-int-big')).toBe('hashtable');
    expect(await enc('set-big')).toBe('hashtable');
    expect(await enc('zset-small')).toBe('listpack');
    expect(await enc('zset-big')).toBe('skiplist');
    expect(await enc('zset-longmember')).toBe('skiplist');
  });

  it('Redis SAVE -> Vireo loads: same contents and DEBUG DIGEST', async () => {
    const vireo = await startVireo({ dir: dirWith(redisFile), save: '' });
    const v = await RespClient.connect(vireo.port);
    try {
      expect(await contents(v)).toEqual(redisContents);
      expect(await digest(v)).toBe(redisDigest);
      // Vireo picks its encodings by its own (7.2) thresholds on load.
      expect(await call(v, 'OBJECT', 'ENCODING', 'hash-small')).toBe('listpack');
      expect(await call(v, 'OBJECT', 'ENCODING', 'hash-big')).toBe('hashtable');
      expect(await call(v, 'OBJECT', 'ENCODING', 'set-intset')).toBe('intset');
      expect(await call(v, 'OBJECT', 'ENCODING', 'set-small')).toBe('listpack');
      expect(await call(v, 'OBJECT', 'ENCODING', 'zset-big')).toBe('skiplist');
      expect(await call(v, 'OBJECT', 'ENCODING', 'int8')).toBe('int');
    } finally {
      v.close();
      await vireo.stop();
    }
  });

  const variants: [string, Record<string, string>, 'SAVE' | 'BGSAVE'][] = [
    ['SAVE', {}, 'SAVE'],
    ['BGSAVE', {}, 'BGSAVE'],
    ['SAVE with rdbcompression no', { rdbcompression: 'no' }, 'SAVE'],
    ['BGSAVE with rdbchecksum no', { rdbchecksum: 'no' }, 'BGSAVE'],
    ['SAVE with rdbcompression no and rdbchecksum no', { rdbcompression: 'no', rdbchecksum: 'no' }, 'SAVE'],
  ];
  for (const [what, params, cmd] of variants) {
    it(`Vireo ${what} -> redis-check-rdb passes and redis-server loads the same dataset`, async () => {
      const vireo = await startVireo({ save: '', ...params });
      const v = await RespClient.connect(vireo.port);
      try {
        await pipelineOk(v, everyEncodingCommands());
        expect(await digest(v)).toBe(redisDigest);
        if (cmd === 'SAVE') expect(await call(v, 'SAVE')).toBe('OK');
        else {
          expect(await call(v, 'BGSAVE')).toBe('Background saving started');
          await waitBgsave(v);
        }
        const file = path.join(vireo.dir, 'dump.rdb');
        const bytes = fs.readFileSync(file);
        expect(bytes.subarray(0, 9).latin1Slice()).toBe('REDIS0010');
        if (params.rdbchecksum === 'no') expect(bytes.subarray(-8).equals(Buffer.alloc(8))).toBe(true);
        else expect(bytes.subarray(-8).equals(Buffer.alloc(8))).toBe(false);
        // Compression: the 4000-byte repetitive string is stored LZF-compressed only when asked.
        const lzfMarker = bytes.indexOf(Buffer.from('abcdefgh'.repeat(8)));
        if (params.rdbcompression === 'no') expect(lzfMarker).toBeGreaterThan(0);
        else expect(lzfMarker).toBe(-1);
        const [status, out] = checkRdb(file);
        expect(out).toMatch(/RDB looks OK/);
        expect(status).toBe(0);
        const back = await redisView(file);
        expect(back.digest).toBe(redisDigest);
        expect(back.contents).toEqual(redisContents);
      } finally {
        v.close();
        await vireo.stop();
      }
    });
  }

  it('Vireo re-loads its own file (restart) with the same digest, and DEBUG RELOAD keeps it', async () => {
    const vireo = await startVireo({ save: '' });
    const v = await RespClient.connect(vireo.port);
    let file: string;
    try {
      await pipelineOk(v, everyEncodingCommands());
      expect(await call(v, 'DEBUG', 'RELOAD')).toBe('OK');
      expect(await digest(v)).toBe(redisDigest);
      expect(await contents(v)).toEqual(redisContents);
      await call(v, 'SAVE');
      file = path.join(vireo.dir, 'dump.rdb');
    } finally {
      v.close();
      await vireo.stop();
    }
    const again = await startVireo({ dir: dirWith(file), save: '' });
    const a = await RespClient.connect(again.port);
    try {
      expect(await digest(a)).toBe(redisDigest);
    } finally {
      a.close();
      await again.stop();
    }
  });

  for (const policy of ['allkeys-lru', 'allkeys-lfu']) {
    it(`Redis with maxmemory-policy ${policy} (per-key ${policy.endsWith('lru') ? 'IDLE' : 'FREQ'} opcodes) -> Vireo loads the same dataset`, async () => {
      const ref = await startRedis({ 'maxmemory-policy': policy });
      const c = await RespClient.connect(ref.port);
      let file: string;
      try {
        await pipelineOk(c, everyEncodingCommands());
        await call(c, 'SAVE');
        file = path.join(ref.dir, 'dump.rdb');
        const opcode = policy.endsWith('lru') ? 0xf8 : 0xf9;
        expect(fs.readFileSync(file).includes(Buffer.from([opcode]))).toBe(true);
      } finally {
        c.close();
        await ref.kill();
      }
      const vireo = await startVireo({ dir: dirWith(file), save: '' });
      const v = await RespClient.connect(vireo.port);
      try {
        expect(await contents(v)).toEqual(redisContents);
        expect(await digest(v)).toBe(redisDigest);
      } finally {
        v.close();
        await vireo.stop();
      }
    });
  }

  for (const policy of ['allkeys-lru', 'allkeys-lfu']) {
    const lru = policy.endsWith('lru');
    it(`a key's ${lru ? 'idle time' : 'access frequency'} survives RDB files Redis -> Vireo -> Redis under ${policy}`, async () => {
      const read = async (c: RespClient) => Number(await call(c, 'OBJECT', lru ? 'IDLETIME' : 'FREQ', 'm'));
      const ref = await startRedis({ 'maxmemory-policy': policy });
      const c = await RespClient.connect(ref.port);
      let file: string;
      try {
        await call(c, 'SET', 'k', 'some value');
        const payload = (await call(c, 'DUMP', 'k')) as string;
        await call(c, 'RESTORE', 'm', '0', payload, lru ? 'IDLETIME' : 'FREQ', lru ? '5000' : '100');
        await call(c, 'SAVE');
        file = path.join(ref.dir, 'dump.rdb');
      } finally {
        c.close();
        await ref.kill();
      }
      const vireo = await startVireo({ dir: dirWith(file), save: '', 'maxmemory-policy': policy });
      const v = await RespClient.connect(vireo.port);
      let saved: string;
      try {
        const got = await read(v);
        if (lru) expect(got >= 5000 && got <= 5003, `idle ${got}`).toBe(true);
        else expect(got).toBe(100);
        await call(v, 'SAVE');
        saved = path.join(vireo.dir, 'dump.rdb');
      } finally {
        v.close();
        await vireo.stop();
      }
      const back = await startRedis({ dir: dirWith(saved), dbfilename: 'dump.rdb', 'maxmemory-policy': policy });
      const b = await RespClient.connect(back.port);
      try {
        const got = await read(b);
        if (lru) expect(got >= 5000 && got <= 5006, `idle ${got}`).toBe(true);
        else expect(got).toBe(100);
      } finally {
        b.close();
        await back.kill();
      }
    });
  }

  it('function libraries in an RDB go Redis -> Vireo -> Redis unchanged', async () => {
    const code = "#!lua name=vireolib\nredis.register_function('echo1', function(keys, args) return args[1] end)";
    const ref = await startRedis();
    const c = await RespClient.connect(ref.port);
    let file: string;
    let listed: unknown;
    try {
      expect(await call(c, 'FUNCTION', 'LOAD', code)).toBe('vireolib');
      await call(c, 'SET', 'k', 'v');
      listed = await call(c, 'FUNCTION', 'LIST', 'WITHCODE');
      await call(c, 'SAVE');
      file = path.join(ref.dir, 'dump.rdb');
    } finally {
      c.close();
      await ref.kill();
    }
    const vireo = await startVireo({ dir: dirWith(file), save: '' });
    const v = await RespClient.connect(vireo.port);
    try {
      expect(await call(v, 'GET', 'k')).toBe('v');
      await call(v, 'SAVE');
      file = path.join(vireo.dir, 'dump.rdb');
    } finally {
      v.close();
      await vireo.stop();
    }
    const back = await startRedis({ dir: dirWith(file), dbfilename: 'dump.rdb' });
    const b = await RespClient.connect(back.port);
    try {
      expect(await call(b, 'FUNCTION', 'LIST', 'WITHCODE')).toEqual(listed);
      expect(await call(b, 'FCALL', 'echo1', '0', 'hi')).toBe('hi');
    } finally {
      b.close();
      await back.kill();
    }
  });

  it('an RDB with keys in more databases than configured stops start-up with Redis\' message', async () => {
    const ref = await startRedis({ databases: '32' });
    const c = await RespClient.connect(ref.port);
    try {
      await pipelineOk(c, [['SELECT', '20'], ['SET', 'far', '1']]);
      await call(c, 'SAVE');
    } finally {
      c.close();
      await ref.kill();
    }
    const res = vireoStartupFailure(dirWith(path.join(ref.dir, 'dump.rdb')));
    expect(res.status).toBe(1);
    expect(res.output).toMatch(/configured to handle more than 16 databases/);
    expect(res.output).not.toMatch(STACK);
  });

  it('old-style second-precision expiries (opcode 253) load like in Redis', async () => {
    // REDIS0006, SELECTDB 0, EXPIRETIME <now + 1h in s>, "sec" -> "v", a key already expired, EOF, no checksum.
    const when = Buffer.alloc(4);
    when.writeInt32LE(Math.floor(Date.now() / 1000) + 3600);
    const past = Buffer.alloc(4);
    past.writeInt32LE(1000);
    const file = Buffer.concat([
      Buffer.from('REDIS0006', 'latin1'),
      Buffer.from([0xfe, 0x00, 0xfd]), when, Buffer.from([0x00, 0x03]), Buffer.from('sec'), Buffer.from([0x01]), Buffer.from('v'),
      Buffer.from([0xfd]), past, Buffer.from([0x00, 0x04]), Buffer.from('gone'), Buffer.from([0x01]), Buffer.from('v'),
      Buffer.from([0x00, 0x05]), Buffer.from('plain'), Buffer.from([0x01]), Buffer.from('p'),
      Buffer.from([0xff]), Buffer.alloc(8),
    ]);
    const tmp = path.join(tempDir('vireo-rdb-'), 'dump.rdb');
    fs.writeFileSync(tmp, file);
    await withPair(dirWith(tmp), { dir: dirWith(tmp) }, async (rc, vc) => {
      expect(((await call(rc, 'KEYS', '*')) as string[]).sort()).toEqual(['plain', 'sec']);
      expect(await contents(vc)).toEqual(await contents(rc));
      await expectSameDigest(vc, rc);
    });
  });

  it('keys whose TTL passed are not loaded (by Redis or by Vireo)', async () => {
    const vireo = await startVireo({ save: '' });
    const v = await RespClient.connect(vireo.port);
    let file: string;
    try {
      await pipelineOk(v, [
        ['SET', 'keep', '1'],
        ['SET', 'gone', '1', 'PX', '30'],
        ['HSET', 'gone-hash', 'f', 'v'],
        ['PEXPIRE', 'gone-hash', '30'],
        ['SET', 'later', '1', 'EX', '1000'],
      ]);
      await call(v, 'SAVE');
      file = path.join(vireo.dir, 'dump.rdb');
    } finally {
      v.close();
      await vireo.stop();
    }
    await new Promise((res) => setTimeout(res, 60));
    await withPair(dirWith(file), { dir: dirWith(file) }, async (rc, vc) => {
      expect(((await call(vc, 'KEYS', '*')) as string[]).sort()).toEqual(['keep', 'later']);
      expect(await contents(vc)).toEqual(await contents(rc));
      await expectSameDigest(vc, rc);
    });
  });
});

/** Deterministic pseudo-random numbers (the test must be repeatable). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('BGSAVE is a consistent copy-on-write snapshot under concurrent writes', () => {
  it('the file written holds exactly the dataset of the moment BGSAVE started', async () => {
    const vireo = await startVireo({ save: '' });
    const v = await RespClient.connect(vireo.port);
    const v2 = await RespClient.connect(vireo.port);
    try {
      const N = 12000;
      const setup: Cmd[] = [['DEBUG', 'POPULATE', String(N * 3), 'str', '20']];
      for (let i = 0; i < N; i++) {
        const k = `k${i}`;
        switch (i % 6) {
          case 0:
            setup.push(['HSET', `h:${k}`, 'a', String(i), 'b', `v${i}`, ...(i % 60 === 0 ? Array.from({ length: 300 }, (_, j) => `f${j}`) : [])]);
            break;
          case 1:
            setup.push(['RPUSH', `l:${k}`, 'x', String(i), 'y', ...(i % 60 === 1 ? Array.from({ length: 300 }, (_, j) => `e${j}`) : [])]);
            break;
          case 2:
            setup.push(['SADD', `s:${k}`, String(i), String(i + 1), ...(i % 60 === 2 ? ['str', 'x'] : [])]);
            break;
          case 3:
            setup.push(['ZADD', `z:${k}`, '1', 'a', '2.5', String(i), ...(i % 60 === 3 ? Array.from({ length: 300 }, (_, j) => [String(j), `m${j}`]).flat() : [])]);
            break;
          case 4:
            setup.push(['SET', `n:${k}`, String(i)]);
            break;
          default:
            setup.push(['SET', `t:${k}`, `v${i}`, 'EX', '100000']);
        }
      }
      setup.push(['SELECT', '3'], ['DEBUG', 'POPULATE', '5000', 'db3', '10'], ['SELECT', '5'], ['DEBUG', 'POPULATE', '5000', 'db5', '10'], ['HSET', 'db5hash', 'x', 'y'], ['SELECT', '0']);
      await pipelineOk(v, setup);
      await call(v2, 'SELECT', '0');
      const before = await digest(v);
      expect(Number(await call(v, 'DBSIZE'))).toBeGreaterThan(45000);

      const rand = rng(12345);
      const pick = (n: number) => Math.floor(rand() * n);
      const someKey = () => {
        const i = pick(N);
        return [`h:k${i - (i % 6)}`, `l:k${i - (i % 6) + 1}`, `s:k${i - (i % 6) + 2}`, `z:k${i - (i % 6) + 3}`, `n:k${i - (i % 6) + 4}`, `t:k${i - (i % 6) + 5}`, `str:${pick(N * 3)}`][pick(7)]!;
      };
      const writes: Cmd[] = [];
      for (let i = 0; i < 3000; i++) {
        const i6 = pick(N) - (pick(N) % 6);
        switch (pick(30)) {
          case 0: writes.push(['SET', someKey(), `new${i}`]); break;
          case 1: writes.push(['DEL', someKey(), someKey()]); break;
          case 2: writes.push(['HSET', `h:k${i6}`, 'a', `changed${i}`, `new${i}`, 'x']); break;
          case 3: writes.push(['HDEL', `h:k${i6}`, 'a', 'b']); break;
          case 4: writes.push(['HINCRBY', `h:k${i6}`, 'cnt', '1']); break;
          case 5: writes.push(['LPUSH', `l:k${i6 + 1}`, `p${i}`]); break;
          case 6: writes.push(['RPOP', `l:k${i6 + 1}`]); break;
          case 7: writes.push(['LSET', `l:k${i6 + 1}`, '0', `set${i}`]); break;
          case 8: writes.push(['LTRIM', `l:k${i6 + 1}`, '1', '-1']); break;
          case 9: writes.push(['SADD', `s:k${i6 + 2}`, `m${i}`]); break;
          case 10: writes.push(['SREM', `s:k${i6 + 2}`, String(i6 + 2)]); break;
          case 11: writes.push(['SPOP', `s:k${i6 + 2}`]); break;
          case 12: writes.push(['ZADD', `z:k${i6 + 3}`, String(i), `zm${i}`]); break;
          case 13: writes.push(['ZINCRBY', `z:k${i6 + 3}`, '10', 'a']); break;
          case 14: writes.push(['ZPOPMIN', `z:k${i6 + 3}`]); break;
          case 15: writes.push(['INCR', `n:k${i6 + 4}`]); break;
          case 16: writes.push(['APPEND', someKey(), 'tail']); break;
          case 17: writes.push(['SETRANGE', `str:${pick(N * 3)}`, '2', 'XY']); break;
          case 18: writes.push(['EXPIRE', someKey(), '5000']); break;
          case 19: writes.push(['PERSIST', `t:k${i6 + 5}`]); break;
          case 20: writes.push(['RENAME', `str:${pick(N * 3)}`, `renamed:${i}`]); break;
          case 21: writes.push(['MOVE', someKey(), '9']); break;
          case 22: writes.push(['COPY', someKey(), `copy:${i}`]); break;
          case 23: writes.push(['LMOVE', `l:k${i6 + 1}`, `l:k${i6 + 7}`, 'LEFT', 'RIGHT']); break;
          case 24: writes.push(['SINTERSTORE', `s:k${i6 + 2}`, `s:k${i6 + 2}`, `s:k${i6 + 8}`]); break;
          case 25: writes.push(['ZUNIONSTORE', `z:k${i6 + 3}`, '2', `z:k${i6 + 3}`, `z:k${i6 + 9}`]); break;
          case 26: writes.push(['INCRBYFLOAT', `n:k${i6 + 4}`, '0.5']); break;
          case 27: writes.push(['GETDEL', someKey()]); break;
          case 28: writes.push(['HINCRBYFLOAT', `h:k${i6}`, 'f', '1.5']); break;
          default: writes.push(['SMOVE', `s:k${i6 + 2}`, `s:k${i6 + 8}`, String(i6 + 2)]);
        }
      }
      // Whole-database changes in the middle of the run.
      const bulk: Cmd[][] = [
        [['SELECT', '3'], ['FLUSHDB'], ['SET', 'after-flush', '1'], ['SELECT', '0']],
        [['SWAPDB', '5', '6']],
        [['SELECT', '6'], ['HSET', 'db5hash', 'x', 'changed'], ['SELECT', '0']],
      ];

      const rdb = vireo.server.persistence.rdb;
      // BGSAVE and a first burst of writes in one pipeline: those run before
      // the first slice, when nothing is serialized yet (FLUSHDB of a db not
      // reached yet among them).
      const FIRST = 600;
      const first = await pipeline(v, [['BGSAVE'], ...writes.slice(0, FIRST), ...bulk[0]!]);
      expect(toJs(first[0]!)).toBe('Background saving started');
      expect(rdb.inProgress).toBe(true);
      // Then small batches while the slices run between them, with SWAPDB in the middle.
      const progress = new Set<number>();
      let i = FIRST;
      let batchNo = 0;
      while (rdb.inProgress && i < writes.length) {
        progress.add(rdb.currentKeysProcessed);
        await pipeline(v, writes.slice(i, i + 40));
        i += 40;
        batchNo++;
        if (batchNo === 4) await pipelineOk(v, bulk[1]!);
        if (batchNo === 8) await pipelineOk(v, bulk[2]!);
      }
      const during = i;
      await waitBgsave(v2);
      // The writes really raced the snapshot, at many points of its progress.
      expect(batchNo).toBeGreaterThan(8);
      expect(during).toBeGreaterThan(FIRST + 300);
      expect(progress.size).toBeGreaterThan(5);
      expect(await digest(v)).not.toBe(before);

      const file = path.join(vireo.dir, 'dump.rdb');
      const loaded = await startVireo({ dir: dirWith(file), save: '' });
      const l = await RespClient.connect(loaded.port);
      try {
        expect(await digest(l)).toBe(before);
      } finally {
        l.close();
        await loaded.stop();
      }
    } finally {
      v.close();
      v2.close();
      await vireo.stop();
    }
  });
});

/**
 * One case per write path: the command runs right after BGSAVE in the same
 * pipeline, before the snapshot serialized anything, so a command that
 * changes a value without announcing it (Db.beforeChange through
 * Engine.lookupWrite / Db.set / Db.delete ...) leaks into the file.
 */
const COW_CASES: [string, Cmd[]][] = [
  ['SET', [['SET', 's', 'new']]],
  ['SET KEEPTTL / GET', [['SET', 'ttl', 'new', 'KEEPTTL', 'GET']]],
  ['SETNX SETEX PSETEX', [['SETNX', 'fresh', '1'], ['SETEX', 's', '100', 'x'], ['PSETEX', 'n', '100000', 'y']]],
  ['GETEX', [['GETEX', 's', 'EX', '100'], ['GETEX', 'ttl', 'PERSIST']]],
  ['GETDEL GETSET', [['GETDEL', 's'], ['GETSET', 'n', 'z']]],
  ['MSET MSETNX', [['MSET', 's', '1', 'n', '2'], ['MSETNX', 'new1', '1', 'new2', '2']]],
  ['APPEND', [['APPEND', 's', '-tail'], ['APPEND', 'raw', 'more'], ['APPEND', 'n', '5']]],
  ['SETRANGE', [['SETRANGE', 's', '1', 'EY'], ['SETRANGE', 'raw', '3', 'XYZ'], ['SETRANGE', 'n', '5', 'x']]],
  ['INCR family', [['INCR', 'n'], ['DECR', 'n'], ['INCRBY', 'n', '5'], ['DECRBY', 'big-n', '3'], ['INCRBYFLOAT', 'f', '0.25']]],
  ['DEL UNLINK', [['DEL', 's', 'hs'], ['UNLINK', 'zb', 'lb']]],
  ['RENAME RENAMENX', [['RENAME', 's', 's2'], ['RENAME', 'hb', 'hs'], ['RENAMENX', 'zs', 'zs2']]],
  ['COPY', [['COPY', 'hb', 'hb2'], ['COPY', 'ls', 'lb', 'REPLACE'], ['COPY', 'zs', 'zz', 'DB', '1']]],
  ['MOVE', [['MOVE', 'hs', '1'], ['MOVE', 'ttl', '2']]],
  ['EXPIRE family', [['EXPIRE', 's', '100'], ['PEXPIRE', 'hs', '100000'], ['EXPIREAT', 'lb', '99999999999'], ['PEXPIREAT', 'zb', '99999999999999']]],
  ['EXPIRE in the past', [['PEXPIREAT', 'hb', '1'], ['EXPIRE', 'ls', '-1']]],
  ['PERSIST', [['PERSIST', 'ttl']]],
  ['LPUSH RPUSH', [['LPUSH', 'ls', 'a'], ['RPUSH', 'lb', 'z'], ['LPUSHX', 'lb', 'q'], ['RPUSHX', 'ls', 'q']]],
  ['LPOP RPOP', [['LPOP', 'ls'], ['RPOP', 'lb', '3']]],
  ['LSET', [['LSET', 'ls', '0', 'X'], ['LSET', 'lb', '150', 'Y']]],
  ['LTRIM', [['LTRIM', 'ls', '1', '-1'], ['LTRIM', 'lb', '10', '-10']]],
  ['LINSERT LREM', [['LINSERT', 'ls', 'BEFORE', 'b', 'ins'], ['LREM', 'lb', '0', 'e5'], ['LINSERT', 'lb', 'AFTER', 'e7', 'ins']]],
  ['LMOVE RPOPLPUSH LMPOP', [['LMOVE', 'ls', 'lb', 'LEFT', 'RIGHT'], ['RPOPLPUSH', 'lb', 'ls'], ['LMPOP', '2', 'nolist', 'lb', 'LEFT', 'COUNT', '2']]],
  ['HSET HMSET HSETNX', [['HSET', 'hs', 'a', 'changed'], ['HMSET', 'hb', 'f1', 'x', 'new', 'y'], ['HSETNX', 'hs', 'newf', 'v']]],
  ['HDEL', [['HDEL', 'hs', 'a'], ['HDEL', 'hb', 'f1', 'f2']]],
  ['HINCRBY HINCRBYFLOAT', [['HINCRBY', 'hs', 'n', '5'], ['HINCRBYFLOAT', 'hb', 'x3', '1.5'], ['HINCRBY', 'hb', 'cnt', '1']]],
  ['SADD SREM', [['SADD', 'ss', 'new'], ['SADD', 'si', '1000'], ['SADD', 'si', 'notint'], ['SREM', 'sb', 'm1'], ['SADD', 'sb', 'mm']]],
  ['SPOP SMOVE', [['SPOP', 'ss'], ['SPOP', 'sb', '3'], ['SMOVE', 'si', 'ss', '1']]],
  ['SINTERSTORE SUNIONSTORE SDIFFSTORE', [['SUNIONSTORE', 'ss', 'ss', 'si'], ['SINTERSTORE', 'sb', 'sb', 'ss'], ['SDIFFSTORE', 'si', 'si', 'ss']]],
  ['ZADD ZINCRBY ZREM', [['ZADD', 'zs', '9', 'a'], ['ZADD', 'zb', 'INCR', '1', 'm1'], ['ZINCRBY', 'zs', '2', 'b'], ['ZREM', 'zb', 'm2']]],
  ['ZREMRANGEBY*', [['ZREMRANGEBYRANK', 'zs', '0', '0'], ['ZREMRANGEBYSCORE', 'zb', '0', '10'], ['ZREMRANGEBYLEX', 'zlex', '[a', '[c']]],
  ['ZPOPMIN ZPOPMAX ZMPOP', [['ZPOPMIN', 'zs'], ['ZPOPMAX', 'zb', '2'], ['ZMPOP', '1', 'zs', 'MAX']]],
  ['ZRANGESTORE Z*STORE', [['ZRANGESTORE', 'zs', 'zb', '0', '5'], ['ZUNIONSTORE', 'zb', '2', 'zb', 'zs'], ['ZINTERSTORE', 'zlex', '1', 'zb'], ['ZDIFFSTORE', 'zz', '1', 'zb']]],
  ['SORT STORE', [['SORT', 'lb', 'ALPHA', 'STORE', 'ls'], ['SORT', 'si', 'STORE', 'si']]],
  ['RESTORE REPLACE', [['RESTORE', 'hs', '0', '$DUMP:lb', 'REPLACE'], ['RESTORE', 'restored', '0', '$DUMP:zb']]],
  ['FLUSHDB', [['FLUSHDB']]],
  ['SWAPDB', [['SWAPDB', '0', '1'], ['SET', 'after-swap', '1']]],
  ['SELECT + writes in another db', [['SELECT', '1'], ['SET', 'one', 'changed'], ['DEL', 'h1'], ['SELECT', '0']]],
  ['same-key moves and renames', [['LMOVE', 'lb', 'lb', 'LEFT', 'RIGHT'], ['RPOPLPUSH', 'ls', 'ls'], ['SMOVE', 'ss', 'ss', 'x'], ['RENAME', 's', 's'], ['SORT', 'zs', 'BY', 'nosort', 'STORE', 'zs']]],
  ['packed values changed in place', [['HINCRBYFLOAT', 'hs', 'n', '0.5'], ['ZINCRBY', 'zs', '0.5', 'a'], ['LSET', 'ls', '-1', 'z'], ['SETRANGE', 'raw', '0', 'R']]],
  ['MULTI/EXEC', [['MULTI'], ['APPEND', 's', 'x'], ['HSET', 'hb', 'f1', 'm'], ['LPUSH', 'lb', 'm'], ['ZADD', 'zb', '5', 'm'], ['SADD', 'sb', 'm'], ['EXEC']]],
];

describe('every write path saves the old value first while a BGSAVE runs', () => {
  let vireo: VireoHandle;
  let v: RespClient;
  beforeAll(async () => {
    vireo = await startVireo({ save: '' });
    v = await RespClient.connect(vireo.port);
  });
  afterAll(async () => {
    v?.close();
    await vireo?.stop();
  });

  const dataset: Cmd[] = [
    ['FLUSHALL'],
    ['SET', 's', 'hello'],
    ['SET', 'n', '10'],
    ['SET', 'big-n', '100000000000'],
    ['SET', 'f', '1.5'],
    ['SET', 'raw', 'r'.repeat(100)],
    ['APPEND', 'raw', 'appended'],
    ['SET', 'ttl', 'v', 'EX', '10000'],
    ['HSET', 'hs', 'a', '1', 'b', '2', 'n', '7'],
    ['HSET', 'hb', ...Array.from({ length: 200 }, (_, i) => [`f${i}`, `v${i}`]).flat()],
    ['RPUSH', 'ls', 'a', 'b', 'c'],
    ['RPUSH', 'lb', ...Array.from({ length: 300 }, (_, i) => `e${i}`)],
    ['SADD', 'ss', 'x', 'y', 'z'],
    ['SADD', 'si', '1', '2', '3'],
    ['SADD', 'sb', ...Array.from({ length: 200 }, (_, i) => `m${i}`)],
    ['ZADD', 'zs', '1', 'a', '2', 'b', '3', 'c'],
    ['ZADD', 'zb', ...Array.from({ length: 200 }, (_, i) => [String(i), `m${i}`]).flat()],
    ['ZADD', 'zlex', '0', 'a', '0', 'b', '0', 'c', '0', 'd'],
    ['SELECT', '1'],
    ['SET', 'one', '1'],
    ['HSET', 'h1', 'f', 'v'],
    ['SELECT', '0'],
  ];

  it('FLUSHALL aborts a running BGSAVE (Redis kills the child) and leaves no temp file behind', async () => {
    await pipelineOk(v, dataset);
    const file = path.join(vireo.dir, 'dump.rdb');
    fs.rmSync(file, { force: true });
    const replies = await pipeline(v, [['BGSAVE'], ['FLUSHALL'], ['INFO', 'persistence']]);
    expect(toJs(replies[0]!)).toBe('Background saving started');
    expect(toJs(replies[2]!)).toMatch(/rdb_bgsave_in_progress:0/);
    expect(toJs(replies[2]!)).toMatch(/rdb_last_bgsave_status:ok/);
    await new Promise((r) => setTimeout(r, 20));
    expect(fs.readdirSync(vireo.dir).filter((f) => f.endsWith('.rdb'))).toEqual([]);
  });

  it("INFO persistence reports the last BGSAVE's longest slice on the event loop, in wall and CPU time", async () => {
    const fields = async () => {
      const info = toJs(await v.call('INFO', 'persistence')) as string;
      const read = (name: string) => Number(new RegExp(`^${name}:(\\S+)`, 'm').exec(info)?.[1]);
      return { ms: read('vireo_rdb_last_bgsave_longest_slice_ms'), cpuMs: read('vireo_rdb_last_bgsave_longest_slice_cpu_ms') };
    };
    await pipelineOk(v, [['FLUSHALL'], ['DEBUG', 'POPULATE', '20000', 'k', '50']]);
    expect(toJs(await v.call('BGSAVE'))).toBe('Background saving started');
    await waitBgsave(v);
    const after = await fields();
    expect(after.ms).toBeGreaterThan(0);
    expect(after.cpuMs).toBeGreaterThan(0);
    // The thread's CPU time in a slice is part of its wall time (clock granularity aside).
    expect(after.cpuMs).toBeLessThanOrEqual(after.ms + 0.5);
  });

  for (const [what, cmds] of COW_CASES) {
    it(what, async () => {
      await pipelineOk(v, dataset);
      const before = await digest(v);
      // '$DUMP:key' stands for the DUMP payload of key.
      const args: Cmd[] = [];
      for (const c of cmds) args.push(await Promise.all(c.map(async (a) => (typeof a === 'string' && a.startsWith('$DUMP:') ? ((await call(v, 'DUMP', a.slice(6))) as string) : a))));
      const replies = await pipeline(v, [['BGSAVE'], ...args, ['INFO', 'persistence']]);
      expect(toJs(replies[0]!)).toBe('Background saving started');
      for (const [i, r] of replies.slice(0, -1).entries()) if (r.type === 'error') throw new Error(`${cmds[i - 1]!.join(' ')}: ${r.value}`);
      // The writes ran before the first slice: nothing was serialized yet (but what they saved first).
      const info = toJs(replies[replies.length - 1]!) as string;
      expect(info).toMatch(/rdb_bgsave_in_progress:1/);
      expect(info).toMatch(/current_save_keys_processed:(\d+)/);
      expect(Number(/current_save_keys_processed:(\d+)/.exec(info)![1])).toBeLessThan(50);
      expect(await digest(v)).not.toBe(before);
      await waitBgsave(v);
      expect(await call(v, 'DEBUG', 'RELOAD', 'NOSAVE')).toBe('OK');
      expect(await digest(v)).toBe(before);
    });
  }
});

/** A snapshot target that keeps each entry as its DUMP payload (taken at once, as a file would). */
class MemoryTarget implements SnapshotTarget {
  readonly entries = new Map<string, string>();
  failAfter = Infinity;
  beginDb(): void {}
  entry(db: number, key: string, value: Value, expireMs: number): void {
    if (this.entries.size >= this.failAfter) throw new Error('No space left on device');
    const k = `${db}:${key}`;
    if (this.entries.has(k)) throw new Error(`${k} written twice`);
    this.entries.set(k, `${dumpPayload(value).toString('hex')}@${expireMs}`);
  }
  drain(): void {}
}

/** MemoryTarget taking the string store's keys from their records' bytes, as the RDB writer does (Snapshot.serializeRecords). */
class RecordsMemoryTarget extends MemoryTarget {
  bytesEntry(db: number, buf: Buffer, keyStart: number, keyLen: number, valueStart: number, valueLen: number, expireMs: number): void {
    this.entry(db, buf.latin1Slice(keyStart, keyStart + keyLen), buf.latin1Slice(valueStart, valueStart + valueLen), expireMs);
  }
}

/** The engine's dataset in MemoryTarget's form. */
function datasetNow(engine: Engine): Map<string, string> {
  const out = new Map<string, string>();
  for (const db of engine.dbs) for (const [k, v] of db.entries()) out.set(`${db.id}:${k}`, `${dumpPayload(v).toString('hex')}@${db.getExpire(k)}`);
  return out;
}

describe('snapshots beside clients: overlapping runs, write errors, the event loop', () => {
  let vireo: VireoHandle;
  let v: RespClient;
  beforeAll(async () => {
    vireo = await startVireo({ save: '' });
    v = await RespClient.connect(vireo.port);
  });
  afterAll(async () => {
    v?.close();
    await vireo?.stop();
  });

  const writes = (n: number, tag: string, from = 0): Cmd[] =>
    Array.from({ length: n }, (_, j) => j + from).map((i) => [
      ['SET', `key:${(i * 7919) % 3000}`, `${tag}${i}`],
      ['HSET', `h:${(i * 31) % 200}`, 'f', `${tag}${i}`],
      ['DEL', `key:${(i * 104729) % 3000}`],
      ['RPUSH', `l:${i % 50}`, tag],
    ][i % 4]!);

  it('two snapshots running at once each hold the dataset of their own start', async () => {
    const engine = vireo.server.engine;
    await pipelineOk(v, [['FLUSHALL'], ['DEBUG', 'POPULATE', '3000', 'key'], ...writes(800, 'setup')]);
    // One reads the string store's records as bytes (as BGSAVE does), the other as values (as a target without bytesEntry).
    const a = new RecordsMemoryTarget();
    const expectA = datasetNow(engine);
    const done: Promise<Error | null>[] = [];
    const snapA = new Snapshot(engine, a, { sliceKeys: 10 });
    done.push(new Promise((r) => snapA.runAsync(r)));
    await pipelineOk(v, writes(300, 'between'));
    const b = new MemoryTarget();
    const expectB = datasetNow(engine);
    const snapB = new Snapshot(engine, b, { sliceKeys: 10 });
    done.push(new Promise((r) => snapB.runAsync(r)));
    for (let i = 0; i < 10; i++) await pipelineOk(v, writes(100, `after${i}-`, 300 + i * 100));
    // Both were still running under those writes.
    expect(snapA.done).toBe(false);
    expect(snapB.done).toBe(false);
    expect(await Promise.all(done)).toEqual([null, null]);
    expect(a.entries).toEqual(expectA);
    expect(b.entries).toEqual(expectB);
    expect(engine.dbs[0]!.beforeChange).toBe(null);
  });

  it('a target failing while saving a key for a client write fails the snapshot, not the write', async () => {
    const engine = vireo.server.engine;
    await pipelineOk(v, [['FLUSHALL'], ['DEBUG', 'POPULATE', '3000', 'key']]);
    const t = new MemoryTarget();
    t.failAfter = 10;
    const snap = new Snapshot(engine, t, { sliceKeys: 5 });
    const done = new Promise<Error | null>((r) => snap.runAsync(r));
    // These writes all reach keys not serialized yet: the target fails under them.
    const replies = await pipelineOk(v, writes(200, 'w'));
    expect(replies.length).toBe(200);
    expect((await done)?.message).toBe('No space left on device');
    expect(engine.dbs[0]!.beforeChange).toBe(null);
    expect(await call(v, 'GET', 'key:0')).toBe('w0');
  });

  it('a reply read while a slice is queued goes out before that slice runs', async () => {
    const server = vireo.server;
    const written: string[] = [];
    // Delivered in a microtask, as an I/O thread's ring is published (ThreadIo): the slice must wait for that too.
    const deliver = (b: Uint8Array): boolean => {
      const copy = Buffer.from(b).toString('latin1');
      queueMicrotask(() => written.push(copy));
      return true;
    };
    const sink = { write: deliver, cork() {}, uncork() {}, writableLength: 0, isPaused: () => false, end() {}, remoteAddress: '127.0.0.1' };
    const client = new Client(server, 999_001, sink as unknown as Socket, server.arena, '127.0.0.1:1', '127.0.0.1:2', -1);
    server.clients.set(client.id, client);
    try {
      // A slice queued in an earlier turn, as a running snapshot queues its next one...
      let seenBySlice: string | null = null;
      setImmediate(() => server.engine.afterReplies(() => (seenBySlice = written.join(''))));
      // ...then a command arrives: its reply is queued behind that slice in the same turn.
      client.onData(Buffer.from('*1\r\n$4\r\nPING\r\n', 'latin1'));
      await new Promise((r) => setTimeout(r, 20));
      expect(seenBySlice).toBe('+PONG\r\n');
    } finally {
      server.clients.delete(client.id);
    }
  });

  it('databases empty at the start stay out; one emptied during the snapshot keeps its keys', async () => {
    const engine = vireo.server.engine;
    await pipelineOk(v, [['FLUSHALL'], ['DEBUG', 'POPULATE', '3000', 'key'], ['SELECT', '2'], ['SET', 'only', 'x'], ['HSET', 'h', 'f', 'v'], ['SELECT', '0']]);
    const target = new RecordsMemoryTarget();
    const expected = datasetNow(engine);
    const snap = new Snapshot(engine, target, { sliceKeys: 10 });
    const done = new Promise<Error | null>((r) => snap.runAsync(r));
    // Database 1 gets keys and database 2 loses all of its keys while database 0 is still being saved.
    await pipelineOk(v, [['SELECT', '1'], ['SET', 'late', 'y'], ['SELECT', '2'], ['DEL', 'only', 'h'], ['SELECT', '0']]);
    expect(snap.done).toBe(false);
    expect(await done).toBe(null);
    expect(target.entries).toEqual(expected);
    expect(target.entries.has('2:only')).toBe(true);
    expect(target.entries.has('1:late')).toBe(false);
  });
});

describe('LZF-compressed string values', () => {
  const image = (value: string): Buffer => {
    const chunks: Buffer[] = [];
    const w = new RdbWriter({ compress: true, checksum: false, sink: (c) => chunks.push(Buffer.from(c)) });
    w.header([['redis-ver', '7.2.0']]);
    w.selectDb(0, 2, 0);
    w.entry(0, 'k', value, -1);
    w.entry(0, 'after', 'x', -1);
    w.end();
    return Buffer.concat(chunks);
  };
  const load = (buf: Buffer): Map<string, string> => {
    const out = new Map<string, string>();
    readRdb(buf, { limits: new EncodingLimits(), checksum: false, onKey: (_db, key, value) => out.set(key, String(value)) });
    return out;
  };

  it('load exactly, one after the other (values of every size through the reused buffer and past it)', () => {
    for (const value of ['ab'.repeat(20), 'x'.repeat(5000) + 'y', 'z'.repeat(70_000), 'q'.repeat(30) + '\u00ff\u0000'.repeat(10)]) {
      expect(load(image(value))).toEqual(new Map([['k', value], ['after', 'x']]));
    }
  });

  it('a damaged one is a clear RdbError naming its offset', () => {
    const buf = image('ab'.repeat(50));
    // After the LZF marker (0xC3), the compressed and the uncompressed lengths: the first control byte of the data.
    const marker = buf.indexOf(0xc3, buf.indexOf('k', 9) + 1);
    const data = marker + 1 + 1 + 2;
    const bad = Buffer.from(buf);
    bad[data] = 0xe0; // a back reference before the start of the output
    expect(() => load(bad)).toThrow(RdbError);
    expect(() => load(bad)).toThrow(`LZF: back reference out of bounds at offset ${data} (key at offset`);
  });
});

describe('loading stops at its slice deadline and resumes where it stopped', () => {
  it('a step past its deadline stops after 64 keys; the next steps load the rest, in order', () => {
    const chunks: Buffer[] = [];
    const w = new RdbWriter({ compress: true, checksum: true, sink: (c) => chunks.push(Buffer.from(c)) });
    w.header([['redis-ver', '7.2.0']]);
    w.selectDb(0, 1000, 0);
    for (let i = 0; i < 1000; i++) w.entry(0, `key:${i}`, `value-${i}-${'x'.repeat(i % 50)}`, i % 7 === 0 ? 4_000_000_000_000 + i : -1);
    w.end();
    const image = Buffer.concat(chunks);
    const seen: string[] = [];
    const parser = new RdbParser(image, { limits: new EncodingLimits(), checksum: true, onKey: (db, key, value, expireMs) => seen.push(`${db}:${key}=${String(value)}@${expireMs}`) });
    expect(parser.step(Infinity, 0)).toBe(false);
    expect(seen.length).toBe(64);
    let steps = 1;
    while (!parser.step(100)) steps++;
    expect(steps).toBe(10);
    const whole: string[] = [];
    readRdb(image, { limits: new EncodingLimits(), checksum: true, onKey: (db, key, value, expireMs) => whole.push(`${db}:${key}=${String(value)}@${expireMs}`) });
    expect(seen).toEqual(whole);
    expect(whole.length).toBe(1000);
  });

  it('the checksum, summed step by step, accepts the image and catches a changed value byte whatever the step sizes', () => {
    const chunks: Buffer[] = [];
    const w = new RdbWriter({ compress: false, checksum: true, sink: (c) => chunks.push(Buffer.from(c)) });
    w.header([['redis-ver', '7.2.0']]);
    w.selectDb(0, 500, 0);
    for (let i = 0; i < 500; i++) w.entry(0, `key:${i}`, `value-${i}`, -1);
    w.end();
    const image = Buffer.concat(chunks);
    // A byte of a value that still parses: only the checksum can see it changed.
    const damaged = Buffer.from(image);
    damaged[damaged.indexOf('value-321') + 6] = '9'.charCodeAt(0);
    const loadInSteps = (buf: Buffer, keysPerStep: number): number => {
      let keys = 0;
      const parser = new RdbParser(buf, { limits: new EncodingLimits(), checksum: true, onKey: () => keys++ });
      while (!parser.step(keysPerStep));
      return keys;
    };
    for (const keysPerStep of [1, 7, 64, 499, Infinity]) {
      expect(loadInSteps(image, keysPerStep)).toBe(500);
      expect(() => loadInSteps(damaged, keysPerStep)).toThrow(/wrong RDB checksum/);
    }
    // With rdbchecksum no the same image loads.
    let keys = 0;
    readRdb(damaged, { limits: new EncodingLimits(), checksum: false, onKey: () => keys++ });
    expect(keys).toBe(500);
  });
});

describe.skipIf(!HAVE_REDIS)('streams are carried through Vireo unchanged', () => {
  it('Redis (stream + consumer groups + PEL) -> SAVE -> Vireo loads -> Vireo SAVE -> Redis loads: XINFO STREAM FULL equal', async () => {
    const redis = await startRedis();
    const r = await RespClient.connect(redis.port);
    let original: unknown;
    let originalGroups: unknown;
    let originalDigest: string;
    let dumpR: unknown;
    try {
      const cmds: Cmd[] = [];
      for (let i = 0; i < 250; i++) cmds.push(['XADD', 'st', `${1000 + i}-${i % 3}`, 'field', `v${i}`, ...(i % 10 === 0 ? ['extra', String(i)] : [])]);
      cmds.push(['XDEL', 'st', '1005-2', '1100-1']);
      cmds.push(['XGROUP', 'CREATE', 'st', 'g1', '0']);
      cmds.push(['XGROUP', 'CREATE', 'st', 'g2', '$']);
      cmds.push(['XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '5', 'STREAMS', 'st', '>']);
      cmds.push(['XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '3', 'STREAMS', 'st', '>']);
      cmds.push(['XACK', 'st', 'g1', '1001-1']);
      cmds.push(['XADD', 'empty-stream', 'MAXLEN', '0', '*', 'f', 'v']);
      cmds.push(['XADD', 'small', '*', 'a', '1']);
      cmds.push(['SET', 'plain', 'x']);
      await pipelineOk(r, cmds);
      original = toJs(await r.call('XINFO', 'STREAM', 'st', 'FULL'));
      originalGroups = toJs(await r.call('XINFO', 'GROUPS', 'st'));
      originalDigest = await digest(r);
      dumpR = await call(r, 'DUMP', 'st');
      await call(r, 'SAVE');
    } finally {
      r.close();
      await redis.kill();
    }

    const vireo = await startVireo({ dir: dirWith(path.join(redis.dir, 'dump.rdb')), save: '' });
    const v = await RespClient.connect(vireo.port);
    let file: string;
    try {
      expect(await call(v, 'TYPE', 'st')).toBe('stream');
      expect(await call(v, 'TYPE', 'empty-stream')).toBe('stream');
      expect(await call(v, 'DBSIZE')).toBe('4');
      // Same serialization, so DUMP is byte-identical to Redis'.
      expect(await call(v, 'DUMP', 'st')).toBe(dumpR);
      expect(await digest(v)).toBe(originalDigest);
      expect(await call(v, 'DEBUG', 'RELOAD')).toBe('OK');
      expect(await digest(v)).toBe(originalDigest);
      expect(await call(v, 'DUMP', 'st')).toBe(dumpR);
      await call(v, 'SAVE');
      file = path.join(vireo.dir, 'dump.rdb');
      expect(checkRdb(file)[0]).toBe(0);
    } finally {
      v.close();
      await vireo.stop();
    }

    // Damaged stream payloads (checksum right) are refused with an RdbError, never a JS exception.
    const payload = Buffer.from(dumpR as string, 'latin1');
    let refused = 0;
    for (let at = 1; at < payload.length - 10; at += 3) {
      for (const x of [0x01, 0x80]) {
        const b = Buffer.from(payload);
        b[at]! ^= x;
        const body = b.subarray(0, b.length - 8);
        try {
          restorePayload(Buffer.concat([body, new Crc64().update(body).digestLE()]), new EncodingLimits());
        } catch (e) {
          if (!(e instanceof RdbError)) throw new Error(`stream byte ${at} ^ ${x}: ${(e as Error).stack}`);
          refused++;
        }
      }
    }
    expect(refused).toBeGreaterThan(100);

    const back = await startRedis({ dir: dirWith(file), dbfilename: 'dump.rdb' });
    const b = await RespClient.connect(back.port);
    try {
      expect(toJs(await b.call('XINFO', 'STREAM', 'st', 'FULL'))).toEqual(original);
      expect(toJs(await b.call('XINFO', 'GROUPS', 'st'))).toEqual(originalGroups);
      expect(await digest(b)).toBe(originalDigest);
      expect(await call(b, 'XLEN', 'empty-stream')).toBe('0');
    } finally {
      b.close();
      await back.kill();
    }
  });
});
