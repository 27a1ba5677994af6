/**
 * The append-only file: the command log on disk (DESIGN.md §6), in Redis
 * 7's multi-part layout so redis-server, redis-check-aof and existing
 * habits work with it. AofStore ties the parts together and is what
 * persistence.ts, INFO and the commands see:
 *
 *   manifest.ts        the list of files, their log offsets and sizes
 *   writer.ts          appending log bytes, fsync, write errors
 *   rewrite.ts         BGREWRITEAOF (new incr file, new base, manifest swap)
 *   loader.ts          replaying the files at start-up and DEBUG LOADAOF
 *   value-commands.ts  a snapshot as commands (the RESP base)
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../../src/engine/engine.js';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { RdbStore } from '../rdb-store.js';
import { dataDir } from '../files.js';
import { readArchiveIndex, type Archive } from '../archive.js';
import { AofManifest } from './manifest.js';
import { AofWriter } from './writer.js';
import { AofRewriter } from './rewrite.js';
import { AofLoader, type LoadProgress, type Replay } from './loader.js';

export { AofLoadError } from './manifest.js';

/** An incr file as a stretch of the command log (replication's disk feed reads them). */
export interface LogSegmentFile {
  file: string;
  /** Log offset of its first log byte. */
  start: number;
  /** Size on disk. */
  size: number;
  form: 'plain' | 'annotated' | 'lz4';
}

export class AofStore {
  private readonly manifest: AofManifest;
  readonly writer: AofWriter;
  private readonly rewriter: AofRewriter;
  private readonly loader: AofLoader;
  archive: Archive | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly rdb: RdbStore,
  ) {
    this.manifest = new AofManifest(config, logger);
    this.writer = new AofWriter(engine.log, config, logger, this.manifest);
    this.rewriter = new AofRewriter(engine, config, logger, rdb, this.manifest, this.writer, () => this.archive);
    this.loader = new AofLoader(config, logger, rdb, this.manifest);
  }

  /** Whether the AOF is on: only then does it follow the command log. */
  get on(): boolean {
    return this.writer.on;
  }
  set on(value: boolean) {
    if (value === this.writer.on) return;
    this.writer.on = value;
    if (value) this.engine.log.follow(this.writer);
    else this.engine.log.unfollow(this.writer);
  }

  // ---- what the durability gate, INFO and the commands read --------------------------

  /** appendfsync. */
  get policy(): string {
    return this.writer.policy;
  }
  /** Log offset up to which bytes are written / fsynced. */
  get writtenOffset(): number {
    return this.writer.writtenOffset;
  }
  get fsyncedOffset(): number {
    return this.writer.fsyncedOffset;
  }
  get lastWriteOk(): boolean {
    return this.writer.lastWriteOk;
  }
  get lastWriteError(): string {
    return this.writer.lastWriteError;
  }
  get bufferLength(): number {
    return this.writer.bufferLength;
  }
  get fsyncInFlight(): boolean {
    return this.writer.fsyncInFlight;
  }
  /** How long the last fsync took (ms). */
  get lastFsyncMs(): number {
    return this.writer.lastFsyncMs;
  }
  /** Called when an fsync advanced fsyncedOffset (the durability gate). */
  get onFsync(): (() => void) | null {
    return this.writer.onFsync;
  }
  set onFsync(f: (() => void) | null) {
    this.writer.onFsync = f;
  }
  get dir(): string {
    return this.manifest.dir;
  }
  get baseSize(): number {
    return this.manifest.baseSize;
  }
  get currentSize(): number {
    return this.manifest.currentSize;
  }
  /** AUX fields of the RDB preamble of the last AOF loaded, or null. */
  /** The files the AOF appends to now and starts from (start-up's log lines). */
  get currentFiles(): { base: string | null; incr: string | null } {
    const live = this.manifest.liveIncrs();
    return { base: this.manifest.files.find((f) => f.type === 'b')?.name ?? null, incr: live[live.length - 1]?.name ?? null };
  }

  get baseAux(): ReadonlyMap<string, string> | null {
    return this.loader.baseAux;
  }
  startOffsetOf(name: string): number | undefined {
    return this.manifest.startOffsetOf(name);
  }

  /**
   * The incr files on disk as stretches of the command log, by start
   * offset: the live ones and, with `aof-archive`, the archived ones. A
   * `plain` file is the log byte for byte (byte N is log byte start + N);
   * an `annotated` one carries #TS lines between records; an `lz4` one is
   * an archived frame of an annotated file.
   */
  logSegments(): LogSegmentFile[] {
    if (!this.on) return [];
    const form = this.writer.annotated ? 'annotated' : 'plain';
    const out: LogSegmentFile[] = [];
    for (const f of this.manifest.files) {
      if (f.type === 'b' || f.name.includes('.base.')) continue;
      const start = this.manifest.startOffsetOf(f.name);
      if (start === undefined) continue;
      const file = path.join(this.manifest.dir, f.name);
      // The file being written counts without its preallocated padding.
      const open = this.writer.openFile;
      try {
        out.push({ file, start, size: open?.name === f.name ? open.size : fs.statSync(file).size, form });
      } catch {
        /* removed meanwhile */
      }
    }
    const archive = this.archive;
    if (archive !== null && archive.enabled) {
      for (const e of readArchiveIndex(archive.dir)) {
        if (e.type !== 'i' || out.some((o) => o.start === e.startOffset)) continue;
        const file = path.join(archive.dir, `${e.name}.lz4`);
        try {
          out.push({ file, start: e.startOffset, size: fs.statSync(file).size, form: 'lz4' });
        } catch {
          /* pruned meanwhile */
        }
      }
    }
    return out.sort((x, y) => x.start - y.start);
  }

  get rewriteInProgress(): boolean {
    return this.rewriter.inProgress;
  }
  get currentRewriteSeconds(): number {
    return this.rewriter.currentSeconds;
  }
  get rewriteScheduled(): boolean {
    return this.rewriter.rewriteScheduled;
  }
  set rewriteScheduled(v: boolean) {
    this.rewriter.rewriteScheduled = v;
  }
  get rewrites(): number {
    return this.rewriter.rewrites;
  }
  get rewriteFailures(): number {
    return this.rewriter.rewriteFailures;
  }
  set rewriteFailures(n: number) {
    this.rewriter.rewriteFailures = n;
  }
  get lastRewriteTimeSec(): number {
    return this.rewriter.lastRewriteTimeSec;
  }
  get lastRewriteStatus(): 'ok' | 'err' {
    return this.rewriter.lastRewriteStatus;
  }

  // ---- writing (writer.ts) ---------------------------------------------------------------

  writePending(): boolean {
    return this.writer.writePending();
  }

  syncNow(): boolean {
    return this.writer.syncNow();
  }

  fsyncAsync(done: (ok: boolean) => void): void {
    this.writer.fsyncAsync(done);
  }

  /** Write and fsync everything (shutdown, appendonly no). */
  flushAll(): boolean {
    return this.writer.flushAll();
  }

  /** Once per cron tick: everysec fsync, retries, automatic rewrite. */
  cron(onFsync: () => void): void {
    const writer = this.writer;
    // A BGREWRITEAOF scheduled behind a BGSAVE starts whatever the AOF
    // state, as in Redis' serverCron (with appendonly no it writes the files
    // DEBUG LOADAOF reads).
    if (this.rewriter.rewriteScheduled && !this.rdb.inProgress && !this.rewriter.inProgress) {
      this.rewriter.rewriteScheduled = false;
      this.rewrite();
    }
    if (!this.on) return;
    if (!writer.lastWriteOk || writer.bufferLength > 0) writer.writePending();
    writer.checkFileStillThere();
    if (!writer.lastWriteOk && !this.rewriter.inProgress && !this.rdb.inProgress && Date.now() - writer.lastRecoveryTry >= 5000) {
      // Writing keeps failing: try to move to new files (a new base holds everything).
      writer.lastRecoveryTry = Date.now();
      this.rewrite();
    }
    if (writer.policy === 'everysec' && writer.fsyncedOffset < writer.writtenOffset && Date.now() - writer.lastFsyncAt >= 1000) {
      writer.fsyncAsync(onFsync);
    }
    const perc = this.config.int('auto-aof-rewrite-percentage');
    const m = this.manifest;
    if (perc > 0 && !this.rewriter.inProgress && !this.rdb.inProgress && m.currentSize > this.config.int('auto-aof-rewrite-min-size')) {
      const base = m.rewriteBaseSize > 0 ? m.rewriteBaseSize : 1;
      const growth = Math.floor((m.currentSize * 100) / base) - 100;
      if (growth >= perc) {
        this.logger.info(`Starting automatic rewriting of AOF on ${growth}% growth`);
        this.rewrite();
      }
    }
  }

  // ---- rewrite (rewrite.ts) ------------------------------------------------------------------

  /** BGREWRITEAOF. Returns 'started', 'scheduled', 'in-progress' or 'failed'. */
  rewrite(): 'started' | 'scheduled' | 'in-progress' | 'failed' {
    return this.rewriter.rewrite();
  }

  abortRewrite(): void {
    this.rewriter.abort();
  }

  /** Write a base file synchronously (empty start, or tests). */
  rewriteSync(): void {
    this.rewriter.rewriteSync();
  }

  /**
   * The dataset was replaced and the log moved to another offset (a
   * replica's full sync): a new base of it, synchronously, and a new incr
   * file from the log's offset; every older file becomes history.
   */
  restartFromDataset(rdbImage: Buffer | null = null): void {
    this.rewriter.abort();
    this.writer.dropPending();
    this.writer.startAt(this.engine.log.offset);
    this.rewriter.rewriteSync(rdbImage);
  }

  // ---- enable / disable ---------------------------------------------------------------------

  /** CONFIG SET appendonly yes at runtime: write a base from the current data. */
  enable(): void {
    if (this.on) return;
    this.on = true;
    fs.mkdirSync(this.dir, { recursive: true });
    if (this.manifest.exists()) this.manifest.read();
    this.writer.startAt(this.engine.log.offset);
    this.rewrite();
  }

  disable(): void {
    if (!this.on) return;
    this.flushAll();
    this.abortRewrite();
    this.writer.closeFile();
    this.on = false;
  }

  close(): void {
    this.flushAll();
    this.writer.closeFile();
  }

  // ---- loading (loader.ts) ------------------------------------------------------------------

  /**
   * Load the AOF at start-up (appendonly yes). Returns false if there is
   * no AOF yet (the caller starts empty and a base is written).
   */
  *loadSteps(replay: Replay, progress: LoadProgress): Generator<void, boolean> {
    this.on = true;
    const m = this.manifest;
    const dir = m.dir;
    let legacy: string | null = null;
    if (!m.exists()) {
      const old = path.resolve(dataDir(this.config), m.prefix);
      if (fs.existsSync(old)) legacy = old;
      else {
        fs.mkdirSync(dir, { recursive: true });
        m.files = [];
        this.writer.startAt(this.engine.log.offset);
        return false;
      }
    }
    if (legacy !== null) {
      // A single-file AOF from Redis < 7: it becomes the base of a multi-part AOF.
      fs.mkdirSync(dir, { recursive: true });
      const name = path.basename(legacy);
      fs.renameSync(legacy, path.join(dir, name));
      m.files = [{ name, seq: 1, type: 'b' }];
      m.persist();
      this.logger.warn(`Upgraded single-file AOF ${name} to the multi-part layout`);
    } else {
      m.read();
    }
    const offset = yield* this.loader.replayFiles(replay, progress);
    this.engine.log.reset(offset);
    // Continue appending to the last incr file (or start one after a lone base).
    const incrs = m.liveIncrs();
    const last = incrs[incrs.length - 1];
    if (last !== undefined) {
      this.writer.openExisting(last.name);
      if (m.startOffsetOf(last.name) === undefined) m.setStart(last.name, offset - this.loader.fileLogBytes);
    } else {
      this.writer.openNewIncr();
    }
    this.writer.startAt(offset);
    m.removeHistory(this.archive);
    return true;
  }

  /**
   * DEBUG LOADAOF while the AOF is off: replay the files the manifest on
   * disk names (a BGREWRITEAOF wrote them) without following the log.
   * Returns false when there is no AOF to load.
   */
  *replayOnlySteps(replay: Replay): Generator<void, boolean> {
    if (this.on) throw new Error('replayOnlySteps is for an AOF that is off');
    const m = this.manifest;
    if (!m.exists()) return false;
    m.read();
    if (!m.files.some((f) => f.type !== 'h')) return false;
    yield* this.loader.replayFiles(replay, () => {});
    m.removeHistory(this.archive);
    return true;
  }
}
