/**
 * The point-in-time recovery archive (Vireo's addition to Redis' AOF).
 *
 * When `aof-archive yes`, every AOF file an AOF rewrite retires (old bases
 * and incr files) is kept, LZ4-frame compressed, under `aof-archive-dir`
 * instead of being deleted, for `aof-archive-retention` seconds. An index
 * line per file records what it is and where it sits in the command log:
 *
 *   <name> <b|i> <start log offset> <snapshot time ms (bases) or 0> <archived at ms>
 *
 * Together with the live appendonlydir this is the whole history since the
 * oldest archived base; pitr.ts rebuilds a dataset as of any moment in it.
 * Archived files are plain `lz4 -d`-able frames of the original bytes.
 */

import fs from 'node:fs';
import path from 'node:path';
import type * as Lz4 from 'lz4-napi';
import { lazyModule } from '../src/util/lazy-module.js';
import { splitArgs } from '../src/protocol/parser.js';
import { dataDir, fsyncDir, writeFileAtomic } from './files.js';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';

const lz4 = lazyModule<typeof Lz4>('lz4-napi');

export interface ArchivedFile {
  name: string;
  type: 'b' | 'i';
  startOffset: number;
  /** For a base: when its snapshot was taken (ms since the epoch). */
  snapshotMs: number;
  archivedMs: number;
}

const INDEX = 'index';

export function quoteName(name: string): string {
  return /^[\x21-\x7e]+$/.test(name) && !/["'\\]/.test(name) ? name : `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Read an archive index (missing index: empty archive). */
export function readArchiveIndex(dir: string): ArchivedFile[] {
  const file = path.join(dir, INDEX);
  if (!fs.existsSync(file)) return [];
  const out: ArchivedFile[] = [];
  for (const line of fs.readFileSync(file, 'latin1').split('\n')) {
    const w = splitArgs(line.trim());
    if (w === null || w.length !== 5 || (w[1] !== 'b' && w[1] !== 'i')) continue;
    out.push({ name: w[0]!, type: w[1], startOffset: Number(w[2]), snapshotMs: Number(w[3]), archivedMs: Number(w[4]) });
  }
  return out;
}

/** The original bytes of an archived file. */
export function readArchived(dir: string, name: string): Buffer {
  return lz4().decompressFrameSync(fs.readFileSync(path.join(dir, `${name}.lz4`)));
}

export class Archive {
  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  get enabled(): boolean {
    return this.config.bool('aof-archive');
  }

  get dir(): string {
    return path.resolve(dataDir(this.config), this.config.str('aof-archive-dir'));
  }

  /** Files handed to storeInBackground and not archived yet (INFO persistence: aof_archive_pending). */
  pending = 0;
  /** The archive jobs, one after the other (each rewrites the index). */
  private jobs: Promise<void> = Promise.resolve();

  /**
   * Keep a retired AOF file, in the background: it is read, LZ4-compressed
   * (lz4-napi's threads), written and fsynced off the event loop, which a
   * base of 100 MB held for a quarter of a second when done inline. `done`
   * runs once the file is in the archive and its index (or with the error).
   * Archived names are made unique with their start offset, since seq
   * numbers restart when an AOF is recreated.
   */
  storeInBackground(fullPath: string, name: string, type: 'b' | 'i', startOffset: number, snapshotMs: number, done: (err: Error | null) => void): void {
    this.pending++;
    this.jobs = this.jobs
      .then(() => this.store(fullPath, name, type, startOffset, snapshotMs))
      .then(
        () => null,
        (e: unknown) => e as Error,
      )
      .then((err) => {
        this.pending--;
        done(err);
      });
  }

  private async store(fullPath: string, name: string, type: 'b' | 'i', startOffset: number, snapshotMs: number): Promise<void> {
    const dir = this.dir;
    await fs.promises.mkdir(dir, { recursive: true });
    const stored = `${startOffset}-${name}`;
    const packed = await lz4().compressFrame(await fs.promises.readFile(fullPath));
    const tmp = path.join(dir, `${stored}.lz4.tmp`);
    const file = await fs.promises.open(tmp, 'w');
    try {
      await file.writeFile(packed);
      await file.sync();
    } finally {
      await file.close();
    }
    await fs.promises.rename(tmp, path.join(dir, `${stored}.lz4`));
    const entries = readArchiveIndex(dir).filter((e) => e.name !== stored);
    entries.push({ name: stored, type, startOffset, snapshotMs, archivedMs: Date.now() });
    this.writeIndex(entries);
    this.prune();
  }

  private writeIndex(entries: ArchivedFile[]): void {
    entries.sort((a, b) => a.startOffset - b.startOffset || (a.type === 'b' ? -1 : 1));
    const text = entries.map((e) => `${quoteName(e.name)} ${e.type} ${e.startOffset} ${e.snapshotMs} ${e.archivedMs}\n`).join('');
    writeFileAtomic(path.join(this.dir, INDEX), text, this.dir);
  }

  /**
   * Drop files past the retention, oldest first, and then any incr files
   * left without an archived base before them (nothing can replay them).
   */
  prune(): void {
    const retention = this.config.int('aof-archive-retention');
    if (retention <= 0) return;
    const dir = this.dir;
    const entries = readArchiveIndex(dir);
    const cutoff = Date.now() - retention * 1000;
    let drop = 0;
    while (drop < entries.length && entries[drop]!.archivedMs < cutoff) drop++;
    while (drop < entries.length && entries[drop]!.type === 'i') drop++;
    if (drop === 0) return;
    const kept = entries.slice(drop);
    this.writeIndex(kept);
    for (const e of entries.slice(0, drop)) {
      fs.rmSync(path.join(dir, `${e.name}.lz4`), { force: true });
      this.logger.info(`AOF archive: ${e.name} is past aof-archive-retention, removed`);
    }
    fsyncDir(dir);
  }
}
