/** Small filesystem helpers for crash-safe file replacement. */

import fs from 'node:fs';
import type { Config } from '../src/config.js';

/** The working directory files live in (`dir`; the process cwd when unset). */
export function dataDir(config: Config): string {
  const d = config.str('dir');
  return d === '' ? process.cwd() : d;
}

/**
 * Create `dir` unless it is there (its parent must exist, as with Redis'
 * dirCreateIfMissing). Throws when it cannot be made or is not a directory.
 */
export function mkdirIfMissing(dir: string): void {
  try {
    fs.mkdirSync(dir, 0o755);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST' || !fs.statSync(dir).isDirectory()) throw e;
  }
}

/** fsync a directory so a rename inside it is durable. */
export function fsyncDir(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on directories; the rename itself stands.
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/** fsyncDir in the thread pool: `done` runs once the directory is synced (or could not be). */
export function fsyncDirAsync(dir: string, done: () => void): void {
  fs.open(dir, 'r', (err, fd) => {
    if (err !== null) {
      done();
      return;
    }
    // Some filesystems refuse fsync on directories; the rename itself stands.
    fs.fsync(fd, () => fs.close(fd, () => done()));
  });
}

/** Write `data` to `file` atomically: temp file, fsync, rename, fsync dir. */
export function writeFileAtomic(file: string, data: string | Buffer, dir: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(dir);
}
