/**
 * The append-only file: the command log on disk (DESIGN.md §6), in Redis
 * 7's multi-part layout so redis-server, redis-check-aof and existing
 * habits work with it:
 *
 *   <dir>/<appenddirname>/
 *     <appendfilename>.<n>.base.rdb|aof   a snapshot (RDB preamble or commands)
 *     <appendfilename>.<n>.incr.aof       log records written after it
 *     <appendfilename>.manifest           which files, in which order
 *
 * Log bytes arrive through onLogData and are written by writePending()
 * once per event-loop turn; the group committer (durability.ts) releases
 * the turn's replies after the write, and under `appendfsync always` after
 * the fsync that covers it. A failed write is
 * cut back to the last good size (no half record stays in the file), the
 * data is kept, writes are refused with MISCONF, and it is retried.
 *
 * A rewrite (BGREWRITEAOF) switches to a new incr file, writes a new base
 * from a copy-on-write snapshot, then swaps the manifest atomically; the
 * old files become history and are deleted (or archived for point-in-time
 * recovery, see archive.ts).
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../src/engine/engine.js';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/log.js';
import type { LogFollower } from '../src/log/command-log.js';
import { RdbWriter } from './rdb/file.js';
import { Snapshot, type SnapshotTarget } from './snapshot.js';
import { RdbSnapshotTarget, type RdbStore, writeAll } from './rdb-store.js';
import { dataDir, fsyncDir, mkdirIfMissing, writeFileAtomic } from './files.js';
import { AofFormatError, AofTruncatedError, encodeRespCommand, encodeRespCommandHead, readAofCommand } from './resp.js';
import { splitArgs } from '../src/protocol/parser.js';
import { argLength, hasBigArgs } from '../src/protocol/big-args.js';
import type { Value } from '../src/types/value.js';
import { MutableString, stringOf } from '../src/types/string.js';
import { ListValue } from '../src/types/list.js';
import { SetValue } from '../src/types/set.js';
import { ZSetValue } from '../src/types/zset.js';
import { HashValue } from '../src/types/hash.js';
import { OpaqueValue } from '../src/types/opaque.js';
import { formatDouble } from '../src/util/numbers.js';
import { dumpPayload } from './rdb/file.js';
import { RdbError, SPILL_BYTES } from './rdb/format.js';
import { quoteName, type Archive } from './archive.js';
import { strerror } from './errors.js';

export type AofFileType = 'b' | 'h' | 'i';

export interface AofFile {
  name: string;
  seq: number;
  type: AofFileType;
}

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

const CRLF = Buffer.from('\r\n', 'latin1');

/** AOF-text snapshot target: one command per key (aof-use-rdb-preamble no). */
class AofTextTarget implements SnapshotTarget {
  private chunks: Buffer[] = [];
  private db = -1;

  constructor(private readonly fd: number) {}

  private cmd(argv: readonly (string | Uint8Array)[]): void {
    this.chunks.push(encodeRespCommand(argv));
  }

  /**
   * SET of a MutableString: a long one goes to the file at once from the
   * value's own bytes (never copied into a command buffer, and written
   * before a client's write may change them).
   */
  private setBytes(key: string, bytes: Buffer): void {
    if (bytes.length < SPILL_BYTES) {
      this.cmd(['SET', key, bytes]);
      return;
    }
    this.chunks.push(encodeRespCommandHead(['SET', key], bytes.length));
    this.drain();
    writeAll(this.fd, bytes);
    this.chunks.push(CRLF);
  }

  beginDb(db: number): void {
    this.db = db;
    this.cmd(['SELECT', String(db)]);
  }

  entry(db: number, key: string, v: Value, expireMs: number): void {
    if (db !== this.db) this.beginDb(db);
    const batch = (head: string[], items: string[], step: number) => {
      for (let i = 0; i < items.length; i += 64 * step) this.cmd([...head, ...items.slice(i, i + 64 * step)]);
    };
    if (v instanceof MutableString) this.setBytes(key, v.bytes);
    else if (typeof v !== 'object') this.cmd(['SET', key, stringOf(v)]);
    else if (v instanceof ListValue) batch(['RPUSH', key], v.toArray(), 1);
    else if (v instanceof SetValue) batch(['SADD', key], v.toArray(), 1);
    else if (v instanceof ZSetValue) batch(['ZADD', key], [...v.entries()].flatMap(([m, s]) => [formatDouble(s), m]), 2);
    else if (v instanceof HashValue) batch(['HSET', key], [...v.entries()].flat(), 2);
    else if (v instanceof OpaqueValue) this.cmd(['RESTORE', key, '0', dumpPayload(v), 'REPLACE']);
    if (expireMs >= 0) this.cmd(['PEXPIREAT', key, String(expireMs)]);
  }

  drain(): void {
    if (this.chunks.length === 0) return;
    writeAll(this.fd, Buffer.concat(this.chunks));
    this.chunks = [];
  }
}

interface Rewrite {
  /** null when the temp file could not be opened. */
  snapshot: Snapshot | null;
  tmp: string;
  /** The temp file, -1 once closed (or never opened). */
  fd: number;
  /** The deferred failure of a rewrite whose temp file could not be opened. */
  timer: NodeJS.Immediate | null;
  start: number;
  /** The incr file that starts at the snapshot's log offset (none when the AOF is off). */
  incr: AofFile | null;
}

export class AofStore implements LogFollower {
  private enabled = false;
  /** Whether the AOF is on: only then does it follow the command log. */
  get on(): boolean {
    return this.enabled;
  }
  set on(value: boolean) {
    if (value === this.enabled) return;
    this.enabled = value;
    if (value) this.engine.log.follow(this);
    else this.engine.log.unfollow(this);
  }
  files: AofFile[] = [];
  private fd = -1;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Log offset up to which bytes are written / fsynced. */
  writtenOffset = 0;
  fsyncedOffset = 0;
  private pendingEnd = 0;
  private lastFsyncAt = Date.now();
  private fsyncRunning = false;
  lastWriteOk = true;
  lastWriteError = '';
  baseSize = 0;
  currentSize = 0;
  /** Size when the last rewrite finished (auto-aof-rewrite base). */
  rewriteBaseSize = 0;
  private rewriting: Rewrite | null = null;
  rewriteScheduled = false;
  rewrites = 0;
  rewriteFailures = 0;
  lastRewriteTimeSec = -1;
  lastRewriteStatus: 'ok' | 'err' = 'ok';
  private lastTsSecond = 0;
  /**
   * Vireo's sidecar to the manifest: where each file starts in the command
   * log and, for bases, when their snapshot was taken (point-in-time recovery).
   */
  private offsets = new Map<string, number>();
  private snapshotTimes = new Map<string, number>();
  archive: Archive | null = null;
  /** Called when an fsync advanced fsyncedOffset (WAITAOF). */
  onFsync: (() => void) | null = null;

  /** appendfsync, and whether #TS annotations are written (kept current by onChange). */
  policy = 'everysec';
  private annotate = false;

  constructor(
    private readonly engine: Engine,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly rdb: RdbStore,
  ) {
    this.refreshConfig();
    config.onChange(() => this.refreshConfig());
  }

  private refreshConfig(): void {
    this.policy = this.config.str('appendfsync');
    this.annotate = this.config.bool('aof-timestamp-enabled') || this.config.bool('aof-archive');
  }

  get dir(): string {
    return path.resolve(dataDir(this.config), this.config.str('appenddirname'));
  }

  private get prefix(): string {
    return this.config.str('appendfilename');
  }

  private get manifestPath(): string {
    return path.join(this.dir, `${this.prefix}.manifest`);
  }

  private get offsetsPath(): string {
    return path.join(this.dir, `${this.prefix}.vireo-offsets`);
  }

  get rewriteInProgress(): boolean {
    return this.rewriting !== null;
  }

  get currentRewriteSeconds(): number {
    return this.rewriting === null ? -1 : Math.floor((Date.now() - this.rewriting.start) / 1000);
  }

  get bufferLength(): number {
    return this.pendingBytes;
  }

  private timestamps(): boolean {
    return this.annotate;
  }

  // ---- manifest ------------------------------------------------------------------

  private persistManifest(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(this.manifestPath, formatManifest(this.files), this.dir);
    const lines = [...this.offsets].filter(([name]) => this.files.some((f) => f.name === name)).map(([n, o]) => `${quoteName(n)} ${o} ${this.snapshotTimes.get(n) ?? 0}`);
    writeFileAtomic(this.offsetsPath, lines.join('\n') + '\n', this.dir);
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

  private nextSeq(type: AofFileType): number {
    let max = 0;
    for (const f of this.files) if (f.type === type || (type === 'b' && f.type === 'h')) max = Math.max(max, f.seq);
    return max + 1;
  }

  private incrName(seq: number): string {
    return `${this.prefix}.${seq}.incr.aof`;
  }

  /** Open a new incr file at the current log offset and record it in the manifest. */
  private openNewIncr(): AofFile {
    const f: AofFile = { name: this.incrName(this.nextSeq('i')), seq: this.nextSeq('i'), type: 'i' };
    const fd = fs.openSync(path.join(this.dir, f.name), 'a', 0o644);
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = fd;
    this.incrSize = 0;
    this.files.push(f);
    this.offsets.set(f.name, this.engine.log.offset);
    this.engine.log.resetSelectedDb();
    this.lastTsSecond = 0;
    this.persistManifest();
    return f;
  }

  // ---- writing ------------------------------------------------------------------------

  onLogData(chunk: Buffer, start: number): void {
    if (!this.on) return;
    if (this.timestamps()) {
      const sec = Math.floor(Date.now() / 1000);
      if (sec !== this.lastTsSecond) {
        this.lastTsSecond = sec;
        const ts = Buffer.from(`#TS:${sec}\r\n`, 'latin1');
        this.pending.push(ts);
        this.pendingBytes += ts.length;
      }
    }
    this.pending.push(Buffer.from(chunk));
    this.pendingBytes += chunk.length;
    this.pendingEnd = start + chunk.length;
  }

  /** Size of the open incr file: a failed write is cut back to it. */
  private incrSize = 0;

  /** Log offset the durable prefix must reach before replies are released. */
  get durableOffset(): number {
    return this.policy === 'always' ? this.fsyncedOffset : this.writtenOffset;
  }

  /**
   * Write what the log handed over since the last call. On failure the
   * file is cut back to its last good size (never half a record), the data
   * stays buffered for the retry, and false is returned.
   */
  writePending(): boolean {
    if (!this.on || this.fd < 0) return true;
    if (this.pendingBytes === 0) return this.lastWriteOk || this.retryFsyncOnly();
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    try {
      writeAll(this.fd, data);
    } catch (e) {
      try {
        fs.ftruncateSync(this.fd, this.incrSize);
      } catch {
        /* the retry cuts again */
      }
      this.writeFailed(e as Error);
      return false;
    }
    this.incrSize += data.length;
    this.currentSize += data.length;
    this.pending = [];
    this.pendingBytes = 0;
    this.writtenOffset = this.pendingEnd;
    this.writeRecovered();
    return true;
  }

  /** After a failed fsync with nothing left to write, success needs an fsync. */
  private retryFsyncOnly(): boolean {
    return this.syncNow();
  }

  private writeRecovered(): void {
    // After lost files, only a finished recovery rewrite makes the AOF whole again.
    if (this.lastWriteOk || this.recovering) return;
    this.lastWriteOk = true;
    this.lastWriteError = '';
    this.logger.warn('AOF write error looks solved, Vireo can write again.');
  }

  private lastRecoveryTry = 0;
  private lastFileCheck = 0;
  /** The files on disk no longer hold the dataset: a recovery rewrite must finish first. */
  private recovering = false;

  /**
   * An AOF whose file (or directory) was deleted accepts writes that no
   * restart will ever see: treat it as a write error (MISCONF) until a
   * recovery rewrite has written new files.
   */
  private checkFileStillThere(): void {
    const now = Date.now();
    if (this.fd < 0 || now - this.lastFileCheck < 1000) return;
    this.lastFileCheck = now;
    try {
      if (fs.fstatSync(this.fd).nlink > 0) return;
    } catch {
      /* reported below */
    }
    if (this.recovering) return;
    this.writeFailed(Object.assign(new Error('the AOF file was deleted'), { code: 'ENOENT' }));
    this.recovering = true;
    this.lastRecoveryTry = 0;
  }

  /** fsync now (synchronously). */
  syncNow(): boolean {
    if (!this.on || this.fd < 0) return true;
    const target = this.writtenOffset;
    try {
      fs.fdatasyncSync(this.fd);
    } catch (e) {
      this.writeFailed(e as Error);
      return false;
    }
    this.fsynced(target);
    return true;
  }

  get fsyncInFlight(): boolean {
    return this.fsyncRunning;
  }

  /**
   * fsync in the thread pool, so the event loop keeps serving (and
   * collecting the next group) meanwhile. `done` runs when it finished.
   */
  fsyncAsync(done: (ok: boolean) => void): void {
    if (this.fsyncRunning || this.fd < 0) return;
    const target = this.writtenOffset;
    const fd = this.fd;
    this.fsyncRunning = true;
    fs.fdatasync(fd, (err) => {
      this.fsyncRunning = false;
      if (err) {
        this.writeFailed(err);
        done(false);
        return;
      }
      this.fsynced(target);
      done(true);
    });
  }

  private fsynced(target: number): void {
    this.lastFsyncAt = Date.now();
    if (target > this.fsyncedOffset) this.fsyncedOffset = target;
    this.writeRecovered();
    this.onFsync?.();
  }

  private writeFailed(e: Error): void {
    if (this.lastWriteOk) this.logger.warn({ err: e }, 'Error writing to the AOF file');
    this.lastWriteOk = false;
    this.lastWriteError = strerror(e);
  }

  /** Once per cron tick: everysec fsync, retries, automatic rewrite. */
  cron(onFsync: () => void): void {
    // A BGREWRITEAOF scheduled behind a BGSAVE starts whatever the AOF
    // state, as in Redis' serverCron (with appendonly no it writes the files
    // DEBUG LOADAOF reads).
    if (this.rewriteScheduled && !this.rdb.inProgress && this.rewriting === null) {
      this.rewriteScheduled = false;
      this.rewrite();
    }
    if (!this.on) return;
    if (!this.lastWriteOk || this.pendingBytes > 0) this.writePending();
    this.checkFileStillThere();
    if (!this.lastWriteOk && this.rewriting === null && !this.rdb.inProgress && Date.now() - this.lastRecoveryTry >= 5000) {
      // Writing keeps failing: try to move to new files (a new base holds everything).
      this.lastRecoveryTry = Date.now();
      this.rewrite();
    }
    if (this.policy === 'everysec' && this.fsyncedOffset < this.writtenOffset && Date.now() - this.lastFsyncAt >= 1000) {
      this.fsyncAsync(onFsync);
    }
    const perc = this.config.int('auto-aof-rewrite-percentage');
    if (perc > 0 && this.rewriting === null && !this.rdb.inProgress && this.currentSize > this.config.int('auto-aof-rewrite-min-size')) {
      const base = this.rewriteBaseSize > 0 ? this.rewriteBaseSize : 1;
      const growth = Math.floor((this.currentSize * 100) / base) - 100;
      if (growth >= perc) {
        this.logger.info(`Starting automatic rewriting of AOF on ${growth}% growth`);
        this.rewrite();
      }
    }
  }

  /** Write and fsync everything (shutdown, appendonly no). */
  flushAll(): boolean {
    if (!this.on || this.fd < 0) return true;
    return this.writePending() && this.syncNow();
  }

  // ---- rewrite -------------------------------------------------------------------------

  /** BGREWRITEAOF. Returns 'started', 'scheduled', 'in-progress' or 'failed'. */
  rewrite(): 'started' | 'scheduled' | 'in-progress' | 'failed' {
    if (this.rewriting !== null) return 'in-progress';
    if (this.rdb.inProgress) {
      this.rewriteScheduled = true;
      return 'scheduled';
    }
    try {
      this.startRewrite();
      return 'started';
    } catch (e) {
      this.lastRewriteStatus = 'err';
      this.rewriteFailures++;
      this.logger.warn({ err: e }, "Can't rewrite append only file in background");
      return 'failed';
    }
  }

  private startRewrite(): void {
    // Everything before the snapshot point goes to the old incr file: the
    // new incr file must start exactly at the snapshot's log offset.
    this.engine.log.flush();
    const recovering = this.on && (!this.flushAll() || this.recovering);
    if (recovering) {
      this.recovering = true;
      // The unwritten records need not reach the old files: the new base
      // is taken now and holds them. Files lost with their directory go.
      this.logger.warn('AOF write error: rewriting the AOF into new files to recover');
      this.pending = [];
      this.pendingBytes = 0;
      this.writtenOffset = this.pendingEnd = this.engine.log.offset;
      this.files = this.files.filter((f) => fs.existsSync(path.join(this.dir, f.name)));
    }
    try {
      // Like Redis' dirCreateIfMissing: the data directory itself is not recreated.
      mkdirIfMissing(this.dir);
    } catch (e) {
      this.logger.warn(`Can't open or create append-only dir ${path.basename(this.dir)}: ${strerror(e)}`);
      if (recovering) this.writeFailed(e as Error);
      throw e;
    }
    let incr: AofFile | null = null;
    try {
      if (this.on) incr = this.openNewIncr();
    } catch (e) {
      this.writeFailed(e as Error);
      throw e;
    }
    const preamble = this.config.bool('aof-use-rdb-preamble');
    const tmp = path.join(this.dir, `temp-rewriteaof-bg-${process.pid}-${Date.now()}.${preamble ? 'rdb' : 'aof'}`);
    const job: Rewrite = { snapshot: null, tmp, fd: -1, start: Date.now(), incr, timer: null };
    this.rewriting = job;
    this.logger.info('Background append only file rewriting started');
    try {
      job.fd = fs.openSync(tmp, 'w', 0o644);
    } catch (e) {
      // As in a forked Redis child: the rewrite has started, and fails.
      this.logger.warn(`Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): ${strerror(e)}`);
      job.timer = setImmediate(() => this.endRewrite(job, e as Error, () => {}));
      return;
    }
    const fd = job.fd;
    let target: SnapshotTarget;
    let writer: RdbWriter | null = null;
    if (preamble) {
      writer = new RdbWriter({ compress: this.config.bool('rdbcompression'), checksum: this.config.bool('rdbchecksum'), sink: (c) => writeAll(fd, c) });
      writer.header(this.rdb.aux(true));
      writer.functions(this.rdb.functions);
      target = new RdbSnapshotTarget(writer);
    } else {
      target = new AofTextTarget(fd);
    }
    const snapshot = new Snapshot(this.engine, target);
    job.snapshot = snapshot;
    snapshot.runAsync((err) =>
      this.endRewrite(job, err, () => {
        writer?.end();
        fs.fsyncSync(fd);
        fs.closeSync(fd);
        job.fd = -1;
        this.finishRewrite(job, snapshot, preamble);
      }),
    );
  }

  /** The rewrite's snapshot ended (err: it failed): `install` the new base, or clean up. */
  private endRewrite(job: Rewrite, err: Error | null, install: () => void): void {
    if (this.rewriting !== job) return; // aborted meanwhile
    try {
      if (err !== null) throw err;
      install();
      this.lastRewriteStatus = 'ok';
      this.rewriteFailures = 0;
      this.rewrites++;
      this.logger.info('Background AOF rewrite finished successfully');
    } catch (e) {
      if (job.fd >= 0) fs.closeSync(job.fd);
      job.fd = -1;
      fs.rmSync(job.tmp, { force: true });
      this.lastRewriteStatus = 'err';
      this.rewriteFailures++;
      this.logger.warn({ err: e }, 'Background AOF rewrite terminated with error');
    }
    this.lastRewriteTimeSec = Math.round((Date.now() - job.start) / 1000);
    this.rewriting = null;
  }

  private finishRewrite(job: Rewrite, snapshot: Snapshot, preamble: boolean): void {
    if (!fs.existsSync(path.join(this.dir, this.prefix + '.manifest')) && job.incr !== null && !fs.existsSync(path.join(this.dir, job.incr.name))) {
      throw new Error('the AOF directory vanished during the rewrite');
    }
    const seq = this.nextSeq('b');
    const baseName = `${this.prefix}.${seq}.base.${preamble ? 'rdb' : 'aof'}`;
    fs.renameSync(job.tmp, path.join(this.dir, baseName));
    const history: AofFile[] = [];
    const keep: AofFile[] = [];
    const from = job.incr;
    for (const f of this.files) {
      if (from !== null && (f === from || (f.type === 'i' && f.seq > from.seq))) keep.push(f);
      else if (f.type !== 'h') history.push({ ...f, type: 'h' });
      else history.push(f);
    }
    this.offsets.set(baseName, snapshot.offset);
    this.snapshotTimes.set(baseName, job.start);
    this.files = [...history, { name: baseName, seq, type: 'b' }, ...keep];
    this.persistManifest();
    this.baseSize = fs.statSync(path.join(this.dir, baseName)).size;
    this.recomputeSize();
    this.rewriteBaseSize = this.currentSize;
    this.removeHistory();
    // The base is durable and holds everything up to the snapshot: a
    // recovery rewrite has made those records safe.
    this.recovering = false;
    if (snapshot.offset > this.fsyncedOffset) this.fsynced(snapshot.offset);
    else this.writeRecovered();
  }

  /** Delete (or archive) history files and drop them from the manifest. */
  private removeHistory(): void {
    const history = this.files.filter((f) => f.type === 'h');
    if (history.length === 0) return;
    for (const f of history) {
      const full = path.join(this.dir, f.name);
      try {
        const start = this.offsets.get(f.name);
        if (this.archive !== null && this.archive.enabled && start !== undefined) {
          this.archive.store(full, f.name, f.name.includes('.base.') ? 'b' : 'i', start, this.snapshotTimes.get(f.name) ?? 0);
        }
        if (this.config.bool('aof-disable-auto-gc')) continue;
        fs.rmSync(full, { force: true });
      } catch (e) {
        this.logger.warn({ err: e, file: f.name }, 'could not remove AOF history file');
      }
      this.offsets.delete(f.name);
      this.snapshotTimes.delete(f.name);
    }
    if (this.config.bool('aof-disable-auto-gc')) return;
    this.files = this.files.filter((f) => f.type !== 'h');
    this.persistManifest();
  }

  private recomputeSize(): void {
    let size = 0;
    for (const f of this.files) {
      if (f.type === 'h') continue;
      try {
        size += fs.statSync(path.join(this.dir, f.name)).size;
      } catch {
        /* missing file: loading reports it */
      }
    }
    this.currentSize = size;
  }

  abortRewrite(): void {
    const job = this.rewriting;
    if (job === null) return;
    job.snapshot?.abort();
    if (job.timer !== null) clearImmediate(job.timer);
    if (job.fd >= 0) fs.closeSync(job.fd);
    fs.rmSync(job.tmp, { force: true });
    this.rewriting = null;
    this.logger.info('Background AOF rewrite aborted');
  }

  // ---- enable / disable ---------------------------------------------------------------------

  /** CONFIG SET appendonly yes at runtime: write a base from the current data. */
  enable(): void {
    if (this.on) return;
    this.on = true;
    fs.mkdirSync(this.dir, { recursive: true });
    if (fs.existsSync(this.manifestPath)) {
      this.files = parseManifest(fs.readFileSync(this.manifestPath, 'latin1'));
      this.loadOffsets();
    }
    this.writtenOffset = this.fsyncedOffset = this.pendingEnd = this.engine.log.offset;
    this.rewrite();
  }

  disable(): void {
    if (!this.on) return;
    this.flushAll();
    this.abortRewrite();
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    this.on = false;
  }

  close(): void {
    this.flushAll();
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
  }

  // ---- loading ----------------------------------------------------------------------------------

  /**
   * Load the AOF at start-up (appendonly yes). Returns false if there is
   * no AOF yet (the caller starts empty and a base is written).
   */
  *loadSteps(replay: (argv: string[]) => void, progress: (file: string, bytes: number, total: number) => void): Generator<void, boolean> {
    this.on = true;
    const dir = this.dir;
    let legacy: string | null = null;
    if (!fs.existsSync(this.manifestPath)) {
      const old = path.resolve(dataDir(this.config), this.prefix);
      if (fs.existsSync(old)) legacy = old;
      else {
        fs.mkdirSync(dir, { recursive: true });
        this.files = [];
        this.writtenOffset = this.fsyncedOffset = this.pendingEnd = this.engine.log.offset;
        return false;
      }
    }
    if (legacy !== null) {
      // A single-file AOF from Redis < 7: it becomes the base of a multi-part AOF.
      fs.mkdirSync(dir, { recursive: true });
      const name = path.basename(legacy);
      fs.renameSync(legacy, path.join(dir, name));
      this.files = [{ name, seq: 1, type: 'b' }];
      this.persistManifest();
      this.logger.warn(`Upgraded single-file AOF ${name} to the multi-part layout`);
    } else {
      this.readManifest();
    }
    const offset = yield* this.replayFiles(replay, progress);
    this.engine.log.reset(offset);
    // Continue appending to the last incr file (or start one after a lone base).
    const incrs = this.liveIncrs();
    const last = incrs[incrs.length - 1];
    if (last !== undefined) {
      this.fd = fs.openSync(path.join(dir, last.name), 'a', 0o644);
      this.incrSize = fs.fstatSync(this.fd).size;
      if (!this.offsets.has(last.name)) this.offsets.set(last.name, offset - this.fileLogBytes);
    } else {
      this.openNewIncr();
    }
    this.writtenOffset = this.fsyncedOffset = this.pendingEnd = offset;
    this.removeHistory();
    return true;
  }

  /**
   * DEBUG LOADAOF while the AOF is off: replay the files the manifest on
   * disk names (a BGREWRITEAOF wrote them) without following the log.
   * Returns false when there is no AOF to load.
   */
  *replayOnlySteps(replay: (argv: string[]) => void): Generator<void, boolean> {
    if (this.on) throw new Error('replayOnlySteps is for an AOF that is off');
    if (!fs.existsSync(this.manifestPath)) return false;
    this.readManifest();
    if (!this.files.some((f) => f.type !== 'h')) return false;
    yield* this.replayFiles(replay, () => {});
    this.removeHistory();
    return true;
  }

  private readManifest(): void {
    this.files = parseManifest(fs.readFileSync(this.manifestPath, 'latin1'));
    this.loadOffsets();
  }

  private liveIncrs(): AofFile[] {
    return this.files.filter((f) => f.type === 'i').sort((a, b) => a.seq - b.seq);
  }

  /** Replay the base and incr files of the manifest in order; returns the log offset after them. */
  private *replayFiles(replay: (argv: string[]) => void, progress: (file: string, bytes: number, total: number) => void): Generator<void, number> {
    const dir = this.dir;
    const base = this.files.find((f) => f.type === 'b');
    const order = [...(base ? [base] : []), ...this.liveIncrs()];
    let offset = 0;
    for (const [i, f] of order.entries()) {
      const full = path.join(dir, f.name);
      if (!fs.existsSync(full)) throw new AofLoadError(`The AOF file ${f.name} doesn't exist`);
      const isLast = i === order.length - 1;
      const start = this.offsets.get(f.name);
      if (start !== undefined) offset = start;
      offset += yield* this.loadFile(full, f.name, f.type === 'b', isLast, replay, progress);
    }
    this.baseSize = base ? fs.statSync(path.join(dir, base.name)).size : 0;
    this.recomputeSize();
    this.rewriteBaseSize = this.currentSize;
    return offset;
  }

  /** Log bytes replayed from the last loaded file. */
  private fileLogBytes = 0;

  /** Replay one file; returns the log bytes it holds (commands, not annotations). */
  private *loadFile(full: string, name: string, isBase: boolean, isLast: boolean, replay: (argv: string[]) => void, progress: (file: string, bytes: number, total: number) => void): Generator<void, number> {
    let buf = fs.readFileSync(full);
    let pos = 0;
    let logBytes = 0;
    progress(name, 0, buf.length);
    if (buf.length >= 5 && buf.latin1Slice(0, 5) === 'REDIS') {
      let r;
      try {
        r = yield* this.rdb.loadSteps(buf, { preamble: true, onProgress: (b) => progress(name, b, buf.length) });
      } catch (e) {
        if (e instanceof RdbError) throw new AofLoadError(`Bad RDB preamble in the append only file ${name}: ${e.message}`);
        throw e;
      }
      pos = r.end;
    }
    let commands = 0;
    let multiStart = -1;
    let multiLogBytes = 0;
    const queued: { argv: string[]; at: number }[] = [];
    // A command the server refuses (unknown, too long...) stops loading: say where it is.
    const replayAt = (argv: string[], at: number) => {
      try {
        replay(argv);
      } catch (e) {
        if (e instanceof AofLoadError) throw new AofLoadError(`${e.message}: ${name} at offset ${at}`);
        throw e;
      }
    };
    for (;;) {
      let cmd;
      try {
        cmd = readAofCommand(buf, pos);
      } catch (e) {
        if (e instanceof AofTruncatedError) {
          const cut = multiStart >= 0 ? multiStart : e.offset;
          if (!isLast || !this.config.bool('aof-load-truncated')) {
            throw new AofLoadError(`Unexpected end of file reading the append only file ${name} at offset ${e.offset}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`);
          }
          this.logger.warn(`!!! Warning: short read while loading the AOF file ${name}!!!`);
          this.logger.warn(`!!! Truncating the AOF ${name} at offset ${cut} !!!`);
          fs.truncateSync(full, cut);
          buf = buf.subarray(0, cut);
          this.logger.warn(`AOF ${name} loaded anyway because aof-load-truncated is enabled`);
          if (multiStart >= 0) logBytes = multiLogBytes;
          break;
        }
        if (e instanceof AofFormatError) {
          throw new AofLoadError(`Bad file format reading the append only file ${name} at offset ${e.offset}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`);
        }
        throw e;
      }
      if (cmd === null) break;
      const name0 = cmd.argv[0]!.toLowerCase();
      const size = encodedSize(cmd.argv);
      if (name0 === 'multi') {
        multiStart = pos;
        multiLogBytes = logBytes;
        queued.length = 0;
      } else if (name0 === 'exec' && multiStart >= 0) {
        // Apply a transaction only once it is complete.
        replay(['MULTI']);
        for (const q of queued) replayAt(q.argv, q.at);
        replay(['EXEC']);
        multiStart = -1;
      } else if (multiStart >= 0) {
        queued.push({ argv: cmd.argv, at: pos });
      } else {
        replayAt(cmd.argv, pos);
      }
      logBytes += size;
      pos = cmd.end;
      if (++commands % 10000 === 0) {
        progress(name, pos, buf.length);
        yield;
      }
    }
    if (multiStart >= 0 && isLast) {
      this.logger.warn(`Revert incomplete MULTI/EXEC transaction in AOF file ${name}`);
      fs.truncateSync(full, multiStart);
      logBytes = multiLogBytes;
    } else if (multiStart >= 0) {
      throw new AofLoadError(`Unexpected end of file reading the append only file ${name}: incomplete MULTI/EXEC`);
    }
    this.fileLogBytes = logBytes;
    return logBytes;
  }

  /** Write a base file synchronously (empty start, or tests). */
  rewriteSync(): void {
    fs.mkdirSync(this.dir, { recursive: true });
    const seq = this.nextSeq('b');
    const preamble = this.config.bool('aof-use-rdb-preamble');
    const baseName = `${this.prefix}.${seq}.base.${preamble ? 'rdb' : 'aof'}`;
    const full = path.join(this.dir, baseName);
    if (preamble) this.rdb.writeSync(full, true);
    else {
      const fd = fs.openSync(full, 'w', 0o644);
      const target = new AofTextTarget(fd);
      new Snapshot(this.engine, target).runSync();
      target.drain();
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
    for (const f of this.files) if (f.type !== 'h') f.type = 'h';
    this.files.push({ name: baseName, seq, type: 'b' });
    this.offsets.set(baseName, this.engine.log.offset);
    this.snapshotTimes.set(baseName, Date.now());
    this.openNewIncr();
    this.baseSize = fs.statSync(full).size;
    this.recomputeSize();
    this.rewriteBaseSize = this.currentSize;
    this.removeHistory();
    fsyncDir(this.dir);
  }
}

function encodedSize(argv: readonly string[]): number {
  const big = hasBigArgs(argv);
  let n = 3 + String(argv.length).length;
  for (let i = 0; i < argv.length; i++) {
    const len = big ? argLength(argv, i) : argv[i]!.length;
    n += 1 + String(len).length + 2 + len + 2;
  }
  return n;
}
