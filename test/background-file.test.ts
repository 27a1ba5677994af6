// A background save's file (persistence/background-file.ts): chunks queued
// by the main thread reach the disk in order through the thread pool, a
// snapshot far ahead of the disk is paced, and a write error fails the
// save instead of being lost.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BackgroundFile, INCREMENTAL_FSYNC_BYTES } from '../persistence/background-file.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vireo-bgfile-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const finish = (f: BackgroundFile) => new Promise<Error | null>((resolve) => f.finish(resolve));

describe('BackgroundFile', () => {
  it('writes every chunk in order, across incremental fsyncs, and the file is complete once finish reports', async () => {
    const file = path.join(dir, 'out');
    const fd = fs.openSync(file, 'w');
    const f = new BackgroundFile(fd, true);
    const expected: Buffer[] = [];
    // Chunks of varied sizes, 3 incremental fsync steps' worth, each tagged with its number.
    let total = 0;
    for (let i = 0; total < 3 * INCREMENTAL_FSYNC_BYTES; i++) {
      const chunk = Buffer.alloc(1 + ((i * 7919) % 100_000), i & 0xff);
      expected.push(chunk);
      total += chunk.length;
      f.write(chunk);
    }
    expect(await finish(f)).toBeNull();
    f.close();
    expect(fs.readFileSync(file).equals(Buffer.concat(expected))).toBe(true);
    expect(f.written).toBe(total);
  });

  it('writeNow() puts a chunk at its place before returning, between queued chunks still being written', async () => {
    const file = path.join(dir, 'out');
    const f = new BackgroundFile(fs.openSync(file, 'w'), true);
    const expected: Buffer[] = [];
    for (let i = 0; i < 60; i++) {
      const chunk = Buffer.alloc(50_000 + i, i);
      expected.push(chunk);
      if (i % 3 === 2) {
        f.writeNow(chunk);
        // Its bytes are on disk already: the caller may change its buffer now.
        chunk.fill(0xee);
        expected[i] = Buffer.alloc(50_000 + i, i);
      } else {
        f.write(chunk);
      }
    }
    expect(await finish(f)).toBeNull();
    f.close();
    expect(fs.readFileSync(file).equals(Buffer.concat(expected))).toBe(true);
  });

  it('paces a snapshot that runs far ahead of the disk, and resumes it once the queue drained', async () => {
    const fd = fs.openSync(path.join(dir, 'out'), 'w');
    const f = new BackgroundFile(fd, false);
    let resumed = false;
    expect(f.pace(() => (resumed = true))).toBe(false);
    for (let i = 0; i < 40; i++) f.write(Buffer.alloc(1 << 20, i));
    expect(f.pace(() => (resumed = true))).toBe(true);
    expect(await finish(f)).toBeNull();
    expect(resumed).toBe(true);
    f.close();
  });

  it('a write error fails the save: finish reports it and later writes throw it', async () => {
    const file = path.join(dir, 'ro');
    fs.writeFileSync(file, '');
    // Opened read-only: every write fails with EBADF.
    const f = new BackgroundFile(fs.openSync(file, 'r'), true);
    f.write(Buffer.from('lost'));
    const err = await finish(f);
    expect((err as NodeJS.ErrnoException | null)?.code).toBe('EBADF');
    expect(() => f.write(Buffer.from('more'))).toThrow(/EBADF/);
    f.close();
  });

  it('close() while a write is in flight leaves the descriptor open until that write is done', async () => {
    const file = path.join(dir, 'out');
    const fd = fs.openSync(file, 'w');
    const f = new BackgroundFile(fd, false);
    f.write(Buffer.alloc(8 << 20, 1));
    f.close();
    // Still open right after close(): the thread pool may be writing through it.
    expect(() => fs.fstatSync(fd)).not.toThrow();
    // The write in flight completes whole.
    for (let i = 0; i < 200 && fs.statSync(file).size < 8 << 20; i++) await new Promise((r) => setTimeout(r, 10));
    expect(fs.statSync(file).size).toBe(8 << 20);
  });
});
