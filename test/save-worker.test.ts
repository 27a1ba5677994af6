// Background RDB files are compressed, checksummed and written by the save
// worker (persistence/save-worker.ts): the event loop writes strings plain
// and marks them, the worker compresses the marked ones. The file must be
// byte for byte the one compressing on the event loop writes (which the
// interop tests load into redis-server), and a write error must reach the
// save as it did before.
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { RdbWriter } from '../persistence/rdb/file.js';
import { WorkerFile, killSaveWorker } from '../persistence/save-worker.js';
import { MutableString } from '../src/types/string.js';
import { removeTempDirs, tempDir } from './helpers/servers.js';

afterAll(removeTempDirs);

type Entry = { kind: 'string' | 'bytes' | 'mutable'; key: string; value: string; expireMs: number };

/** Values LZF shrinks (runs of a few letters), values it cannot (random bytes), integers, and lengths around its thresholds. */
const valueArb = fc.oneof(
  fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c', '\u00ff', '\u0000'), fc.integer({ min: 1, max: 40 })), { maxLength: 80 }).map((runs) => runs.map(([c, n]) => c.repeat(n)).join('')),
  fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a).toString('latin1')),
  fc.integer().map(String),
  fc.integer({ min: 15, max: 30 }).map((n) => 'x'.repeat(n)),
);
const entryArb = fc.record({
  kind: fc.constantFrom<Entry['kind']>('string', 'bytes', 'mutable'),
  key: fc.oneof(fc.string({ maxLength: 30 }), fc.integer({ min: 0, max: 40 }).map((n) => 'k'.repeat(n))),
  value: valueArb,
  expireMs: fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 2 ** 40 })),
});

function writeEntries(w: RdbWriter, entries: Entry[]): void {
  w.header([['redis-ver', '7.2.0']]);
  w.functions(["#!lua name=lib\nredis.register_function('f', function() return 'a long enough body to compress, compress, compress' end)"]);
  w.selectDb(0, entries.length, 0);
  for (const e of entries) {
    if (e.kind === 'string') w.entry(0, e.key, e.value, e.expireMs);
    else if (e.kind === 'mutable') w.entry(0, e.key, new MutableString(e.value), e.expireMs);
    else {
      // A string-store record: key and value bytes inside a larger buffer.
      const slab = Buffer.from(`##${e.key}${e.value}##`, 'latin1');
      w.bytesEntry(0, slab, 2, e.key.length, 2 + e.key.length, e.value.length, e.expireMs, -1, -1);
    }
  }
  w.end();
}

function inline(entries: Entry[], compress: boolean, checksum: boolean): Buffer {
  const chunks: Buffer[] = [];
  writeEntries(new RdbWriter({ compress, checksum, sink: (c) => chunks.push(Buffer.from(c)) }), entries);
  return Buffer.concat(chunks);
}

/** The same entries through the save worker into a file; its bytes. */
async function throughWorker(entries: Entry[], compress: boolean, checksum: boolean): Promise<Buffer> {
  const file = path.join(tempDir(), 'out.rdb');
  const fd = fs.openSync(file, 'w');
  const wf = new WorkerFile(fd, true, checksum);
  writeEntries(new RdbWriter({ compress, checksum, sink: () => {}, deferred: wf }), entries);
  const err = await new Promise<Error | null>((resolve) => wf.finish(resolve));
  expect(err).toBeNull();
  wf.close();
  return fs.readFileSync(file);
}

describe('the save worker writes the file compressing on the event loop writes', () => {
  it('byte for byte, with and without rdbcompression and rdbchecksum, for strings of every shape', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(entryArb, { maxLength: 60 }), fc.boolean(), fc.boolean(), async (entries, compress, checksum) => {
        const bytes = await throughWorker(entries, compress, checksum);
        expect(bytes.equals(inline(entries, compress, checksum))).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('values past a megabyte (their own chunk), chunks larger than a slot, more chunks than slots', async () => {
    const entries: Entry[] = [
      { kind: 'string', key: 'big-text', value: 'abcdefgh'.repeat(200_000), expireMs: -1 },
      { kind: 'bytes', key: 'past-a-slot', value: 'slot'.repeat(100_000), expireMs: -1 },
      { kind: 'mutable', key: 'big-random', value: Buffer.from(Array.from({ length: 1_300_000 }, (_, i) => (i * 2654435761) >>> 24)).toString('latin1'), expireMs: 5 },
      { kind: 'mutable', key: 'big-runs', value: 'xyz'.repeat(500_000), expireMs: -1 },
    ];
    for (let i = 0; i < 20_000; i++) entries.push({ kind: i % 2 === 0 ? 'bytes' : 'string', key: `key:${i}`, value: `value-${i}-${'v'.repeat(i % 120)}`, expireMs: -1 });
    for (let i = 0; i < 20_000; i++) entries.push({ kind: 'string', key: `random:${i}`, value: Buffer.from(Array.from({ length: 60 }, (_, j) => (i * 31 + j * 2654435761) >>> 24)).toString('latin1'), expireMs: -1 });
    for (const [compress, checksum] of [[true, true], [false, true], [true, false]] as const) {
      const bytes = await throughWorker(entries, compress, checksum);
      expect(bytes.equals(inline(entries, compress, checksum))).toBe(true);
    }
  });
});

describe('a save worker job without a file (a diskless full sync)', () => {
  it('hands the compressed bytes back in order, trailer included: the same file', async () => {
    const entries: Entry[] = [];
    for (let i = 0; i < 5000; i++) entries.push({ kind: i % 3 === 0 ? 'bytes' : 'string', key: `k${i}`, value: `${'doc'.repeat(i % 40)}-${i}`, expireMs: -1 });
    entries.push({ kind: 'mutable', key: 'long', value: 'long value '.repeat(120_000), expireMs: -1 });
    const wf = new WorkerFile(null, false, true);
    const got: Buffer[] = [];
    wf.onOutput = (b) => got.push(b);
    writeEntries(new RdbWriter({ compress: true, checksum: true, sink: () => {}, deferred: wf }), entries);
    expect(await new Promise<Error | null>((resolve) => wf.finish(resolve, false))).toBeNull();
    wf.close();
    expect(Buffer.concat(got).equals(inline(entries, true, true))).toBe(true);
  });
});

describe('a write error in the save worker', () => {
  it.skipIf(!fs.existsSync('/dev/full'))('(ENOSPC) fails finish() and the next chunk, as BackgroundFile does', async () => {
    const fd = fs.openSync('/dev/full', 'w');
    const wf = new WorkerFile(fd, false, true);
    const w = new RdbWriter({ compress: true, checksum: true, sink: () => {}, deferred: wf });
    w.header([['redis-ver', '7.2.0']]);
    w.drain();
    const err = await new Promise<Error | null>((resolve) => wf.finish(resolve));
    expect((err as NodeJS.ErrnoException | null)?.code).toBe('ENOSPC');
    expect(() => w.entry(0, 'k', 'v'.repeat(200_000), -1)).toThrow(/no space/i);
    wf.close();
  });
});

describe('a save worker that dies', () => {
  it('fails the saves it held (finish answers, the next chunk throws); the next save starts another worker', async () => {
    const dir = tempDir();
    const fd = fs.openSync(path.join(dir, 'lost.rdb'), 'w');
    const wf = new WorkerFile(fd, false, true);
    const w = new RdbWriter({ compress: true, checksum: true, sink: () => {}, deferred: wf });
    w.header([['redis-ver', '7.2.0']]);
    w.drain();
    await killSaveWorker();
    const err = await new Promise<Error | null>((resolve) => wf.finish(resolve));
    expect(err?.message).toMatch(/save worker exited/);
    expect(() => w.entry(0, 'k', 'v'.repeat(200_000), -1)).toThrow(/save worker exited/);
    const entries: Entry[] = [{ kind: 'string', key: 'after', value: 'a'.repeat(100), expireMs: -1 }];
    expect((await throughWorker(entries, true, true)).equals(inline(entries, true, true))).toBe(true);
  });
});
