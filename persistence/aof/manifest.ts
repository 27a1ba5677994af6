/**
 * The AOF's list of files (Redis 7's multi-part layout):
 *
 *   <dir>/<appenddirname>/
 *     <appendfilename>.<n>.base.rdb|aof   a snapshot (RDB preamble or commands)
 *     <appendfilename>.<n>.incr.aof       log records written after it
 *     <appendfilename>.manifest           which files, in which order
 *
 * plus Vireo's sidecar (<appendfilename>.vireo-offsets): where each file
 * starts in the command log and, for bases, when their snapshot was taken
 * (point-in-time recovery). Also the sizes INFO and auto-rewrite read.
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { splitArgs } from '../../src/protocol/parser.js';
import { dataDir, writeFileAtomic } from '../files.js';
import { quoteName, type Archive } from '../archive.js';

export type AofFileType = 'b' | 'h' | 'i';

export interface AofFile {
  name: string;
  seq: number;
  type: AofFileType;
}

/** The AOF on disk cannot be loaded (bad manifest, missing or damaged file). */
export class AofLoadError extends Error {}

/** Parse a manifest ("file <name> seq <n> type <b|h|i>" per line). */
export function parseManifest(text: string): AofFile[] {
  const out: AofFile[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const words = splitArgs(t);
    if (words === null || words.length % 2 !== 0) throw new AofLoadError(`Invalid AOF manifest file format (line ${i + 1})`);
    const kv = new Map<string, string>();
    for (let j = 0; j < words.length; j += 2) kv.set(words[j]!.toLowerCase(), words[j + 1]!);
    const name = kv.get('file');
    const seq = Number(kv.get('seq'));
    const type = kv.get('type');
    if (name === undefined || !Number.isInteger(seq) || (type !== 'b' && type !== 'h' && type !== 'i')) {
      throw new AofLoadError(`Invalid AOF manifest file format (line ${i + 1})`);
    }
    out.push({ name, seq, type });
  }
  return out;
}

export function formatManifest(files: AofFile[]): string {
  return files.map((f) => `file ${quoteName(f.name)} seq ${f.seq} type ${f.type}\n`).join('');
}

export class AofManifest {
  files: AofFile[] = [];
  /** Where each file starts in the command log. */
  private offsets = new Map<string, number>();
  /** When each base's snapshot was taken (ms). */
  private snapshotTimes = new Map<string, number>();
  baseSize = 0;
  currentSize = 0;
  /** Size when the last rewrite finished (auto-aof-rewrite base). */
  rewriteBaseSize = 0;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
  ) {}

  get dir(): string {
    return path.resolve(dataDir(this.config), this.config.str('appenddirname'));
  }

  get prefix(): string {
    return this.config.str('appendfilename');
  }

  get manifestPath(): string {
    return path.join(this.dir, `${this.prefix}.manifest`);
  }

  private get offsetsPath(): string {
    return path.join(this.dir, `${this.prefix}.vireo-offsets`);
  }

  exists(): boolean {
    return fs.existsSync(this.manifestPath);
  }

  /** Write the manifest and the offsets sidecar (atomically). */
  persist(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(this.manifestPath, formatManifest(this.files), this.dir);
    const lines = [...this.offsets].filter(([name]) => this.files.some((f) => f.name === name)).map(([n, o]) => `${quoteName(n)} ${o} ${this.snapshotTimes.get(n) ?? 0}`);
    writeFileAtomic(this.offsetsPath, lines.join('\n') + '\n', this.dir);
  }

  /** Read the manifest and the offsets sidecar from disk. */
  read(): void {
    this.files = parseManifest(fs.readFileSync(this.manifestPath, 'latin1'));
    this.loadOffsets();
  }

  private loadOffsets(): void {
    this.offsets.clear();
    if (!fs.existsSync(this.offsetsPath)) return;
    for (const line of fs.readFileSync(this.offsetsPath, 'latin1').split('\n')) {
      const w = splitArgs(line.trim());
      if (w === null || w.length < 2) continue;
      this.offsets.set(w[0]!, Number(w[1]));
      if (w.length > 2 && Number(w[2]) > 0) this.snapshotTimes.set(w[0]!, Number(w[2]));
    }
  }

  startOffsetOf(name: string): number | undefined {
    return this.offsets.get(name);
  }

  /** Note where `name` starts in the log (and, for a base, when its snapshot was taken). */
  setStart(name: string, offset: number, snapshotTime?: number): void {
    this.offsets.set(name, offset);
    if (snapshotTime !== undefined) this.snapshotTimes.set(name, snapshotTime);
  }

  nextSeq(type: AofFileType): number {
    let max = 0;
    // A new incr file must not take the name of a retired one that is still listed (removeHistory would delete it).
    const counts = (f: AofFile) => f.type === type || (f.type === 'h' && (type === 'b' || f.name.endsWith('.incr.aof')));
    for (const f of this.files) if (counts(f)) max = Math.max(max, f.seq);
    return max + 1;
  }

  incrName(seq: number): string {
    return `${this.prefix}.${seq}.incr.aof`;
  }

  baseName(seq: number, preamble: boolean): string {
    return `${this.prefix}.${seq}.base.${preamble ? 'rdb' : 'aof'}`;
  }

  liveIncrs(): AofFile[] {
    return this.files.filter((f) => f.type === 'i').sort((a, b) => a.seq - b.seq);
  }

  /** History files being archived in the background: listed until they are. */
  private readonly archiving = new Set<string>();

  /**
   * Archive (aof-archive) and delete history files and drop them from the
   * manifest, all off the event loop: deletions are unlinks in the thread
   * pool, archived files are dropped once in the archive (listed as history
   * until then, so a crash meanwhile loses none: they are archived at the
   * next start). With aof-disable-auto-gc they stay listed.
   */
  removeHistory(archive: Archive | null): void {
    const keep = this.config.bool('aof-disable-auto-gc');
    let dropped = false;
    // A copy: drop() takes files out of the list.
    for (const f of [...this.files]) {
      if (f.type !== 'h' || this.archiving.has(f.name)) continue;
      const start = this.offsets.get(f.name);
      if (archive !== null && archive.enabled && start !== undefined) {
        this.archiving.add(f.name);
        const full = path.join(this.dir, f.name);
        archive.storeInBackground(full, f.name, f.name.includes('.base.') ? 'b' : 'i', start, this.snapshotTimes.get(f.name) ?? 0, (err) => {
          if (err !== null) {
            // Still listed as history: tried again at the next rewrite or start.
            this.archiving.delete(f.name);
            this.logger.warn({ err, file: f.name }, 'could not archive AOF history file');
            return;
          }
          if (keep) return; // archived; it stays listed, and archiving marks it done
          this.archiving.delete(f.name);
          if (this.drop(f)) this.persist();
        });
        continue;
      }
      if (!keep) dropped = this.drop(f) || dropped;
    }
    if (dropped) this.persist();
  }

  /** Delete history file `f` in the background and forget it; false when it was no longer listed. */
  private drop(f: AofFile): boolean {
    const i = this.files.indexOf(f);
    if (i < 0) return false;
    this.logger.info(`Removing the history file ${f.name} in the background`);
    fs.rm(path.join(this.dir, f.name), { force: true }, (e) => {
      if (e !== null) this.logger.warn({ err: e, file: f.name }, 'could not remove AOF history file');
    });
    this.files.splice(i, 1);
    this.offsets.delete(f.name);
    this.snapshotTimes.delete(f.name);
    return true;
  }

  /** Sum the sizes of the live files (INFO aof_current_size); `open`: the file being written, counted without its padding. */
  recomputeSize(open: { name: string; size: number } | null = null): void {
    let size = 0;
    for (const f of this.files) {
      if (f.type === 'h') continue;
      if (f.name === open?.name) {
        size += open.size;
        continue;
      }
      try {
        size += fs.statSync(path.join(this.dir, f.name)).size;
      } catch {
        /* missing file: loading reports it */
      }
    }
    this.currentSize = size;
  }
}
