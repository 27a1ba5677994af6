/**
 * BGREWRITEAOF: switch to a new incr file, write a new base from a
 * copy-on-write snapshot, then swap the manifest atomically; the old files
 * become history and are deleted (or archived for point-in-time recovery,
 * see archive.ts). Also the synchronous base of an empty start.
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../../src/engine/engine.js';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import { RdbWriter } from '../rdb/file.js';
import { Snapshot, type SnapshotTarget } from '../snapshot.js';
import { RdbSnapshotTarget, type RdbStore, writeAll } from '../rdb-store.js';
import { fsyncDir, mkdirIfMissing } from '../files.js';
import { BackgroundFile, closeTempFile, type JobFile } from '../background-file.js';
import type { Archive } from '../archive.js';
import { strerror } from '../errors.js';
import type { AofFile, AofManifest } from './manifest.js';
import type { AofWriter } from './writer.js';
import { AofTextTarget } from './value-commands.js';

interface Rewrite {
  /** null when the temp file could not be opened. */
  snapshot: Snapshot | null;
  tmp: string;
  /** The temp file, -1 once closed (or never opened). */
  fd: number;
  /** Writes the temp file off the event loop (and closes fd); null once closed. */
  file: JobFile | null;
  /** The deferred failure of a rewrite whose temp file could not be opened. */
  timer: NodeJS.Immediate | null;
  start: number;
  /** The incr file that starts at the snapshot's log offset (none when the AOF is off). */
  incr: AofFile | null;
}

export class AofRewriter {
  private rewriting: Rewrite | null = null;
  rewriteScheduled = false;
  rewrites = 0;
  rewriteFailures = 0;
  lastRewriteTimeSec = -1;
  lastRewriteStatus: 'ok' | 'err' = 'ok';

  constructor(
    private readonly engine: Engine,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly rdb: RdbStore,
    private readonly manifest: AofManifest,
    private readonly writer: AofWriter,
    private readonly archive: () => Archive | null,
  ) {}

  get inProgress(): boolean {
    return this.rewriting !== null;
  }

  get currentSeconds(): number {
    return this.rewriting === null ? -1 : Math.floor((Date.now() - this.rewriting.start) / 1000);
  }

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
    const writer = this.writer;
    const dir = this.manifest.dir;
    // Everything before the snapshot point goes to the old incr file: the
    // new incr file must start exactly at the snapshot's log offset.
    this.engine.log.flush();
    const recovering = writer.on && (!writer.flushAll() || writer.recovering);
    if (recovering) {
      writer.recovering = true;
      // The unwritten records need not reach the old files: the new base
      // is taken now and holds them. Files lost with their directory go.
      this.logger.warn('AOF write error: rewriting the AOF into new files to recover');
      writer.dropPending();
      this.manifest.files = this.manifest.files.filter((f) => fs.existsSync(path.join(dir, f.name)));
    }
    try {
      // Like Redis' dirCreateIfMissing: the data directory itself is not recreated.
      mkdirIfMissing(dir);
    } catch (e) {
      this.logger.warn(`Can't open or create append-only dir ${path.basename(dir)}: ${strerror(e)}`);
      if (recovering) writer.writeFailed(e as Error);
      throw e;
    }
    let incr: AofFile | null = null;
    try {
      if (writer.on) incr = writer.openNewIncr();
    } catch (e) {
      writer.writeFailed(e as Error);
      throw e;
    }
    const preamble = this.config.bool('aof-use-rdb-preamble');
    const tmp = path.join(dir, `temp-rewriteaof-bg-${process.pid}-${Date.now()}.${preamble ? 'rdb' : 'aof'}`);
    const job: Rewrite = { snapshot: null, file: null, tmp, fd: -1, start: Date.now(), incr, timer: null };
    this.rewriting = job;
    if (incr !== null) this.logger.info(`Creating AOF incr file ${incr.name} on background rewrite`);
    this.logger.info(`Background append only file rewriting started by pid ${process.pid}`);
    try {
      job.fd = fs.openSync(tmp, 'w', 0o644);
    } catch (e) {
      // As in a forked Redis child: the rewrite has started, and fails.
      this.logger.warn(`Opening the temp file for AOF rewrite in rewriteAppendOnlyFile(): ${strerror(e)}`);
      job.timer = setImmediate(() => this.endRewrite(job, e as Error, () => {}));
      return;
    }
    const incrementalFsync = this.config.bool('aof-rewrite-incremental-fsync');
    let file: JobFile;
    let target: SnapshotTarget;
    let rdbWriter: RdbWriter | null = null;
    if (preamble) {
      ({ writer: rdbWriter, file } = this.rdb.backgroundWriter(job.fd, true, incrementalFsync));
      target = new RdbSnapshotTarget(rdbWriter);
    } else {
      const text = new BackgroundFile(job.fd, incrementalFsync);
      target = new AofTextTarget((c) => text.write(c), this.rdb.functions.codes(), (c) => text.writeNow(c));
      file = text;
    }
    job.file = file;
    const snapshot = new Snapshot(this.engine, target, { pace: file.pace });
    job.snapshot = snapshot;
    snapshot.runAsync((err) => {
      if (err === null) {
        try {
          rdbWriter?.end();
        } catch (e) {
          err = e as Error;
        }
      }
      if (err !== null) {
        this.endRewrite(job, err, () => {});
        return;
      }
      // The rest of the file and its fsync go through the thread pool; the event loop goes on.
      file.finish((fsyncErr) =>
        this.endRewrite(job, fsyncErr, () => {
          closeTempFile(job);
          // Redis' child, then its parent seeing the child exit.
          this.logger.info(`Successfully created the temporary AOF base file ${path.basename(job.tmp)}`);
          this.logger.info('Background AOF rewrite terminated with success');
          this.finishRewrite(job, snapshot, preamble);
        }),
      );
    });
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
      closeTempFile(job);
      fs.rmSync(job.tmp, { force: true });
      this.lastRewriteStatus = 'err';
      this.rewriteFailures++;
      this.logger.warn({ err: e }, 'Background AOF rewrite terminated with error');
    }
    this.lastRewriteTimeSec = Math.round((Date.now() - job.start) / 1000);
    this.rewriting = null;
  }

  private finishRewrite(job: Rewrite, snapshot: Snapshot, preamble: boolean): void {
    const m = this.manifest;
    const dir = m.dir;
    if (!fs.existsSync(path.join(dir, m.prefix + '.manifest')) && job.incr !== null && !fs.existsSync(path.join(dir, job.incr.name))) {
      throw new Error('the AOF directory vanished during the rewrite');
    }
    const seq = m.nextSeq('b');
    const baseName = m.baseName(seq, preamble);
    fs.renameSync(job.tmp, path.join(dir, baseName));
    this.logger.info(`Successfully renamed the temporary AOF base file ${path.basename(job.tmp)} into ${baseName}`);
    const history: AofFile[] = [];
    const keep: AofFile[] = [];
    const from = job.incr;
    for (const f of m.files) {
      if (from !== null && (f === from || (f.type === 'i' && f.seq > from.seq))) keep.push(f);
      else if (f.type !== 'h') history.push({ ...f, type: 'h' });
      else history.push(f);
    }
    m.setStart(baseName, snapshot.offset, job.start);
    m.files = [...history, { name: baseName, seq, type: 'b' }, ...keep];
    m.persist();
    m.baseSize = fs.statSync(path.join(dir, baseName)).size;
    m.recomputeSize(this.writer.openFile);
    m.rewriteBaseSize = m.currentSize;
    m.removeHistory(this.archive());
    // The base is durable and holds everything up to the snapshot: a
    // recovery rewrite has made those records safe.
    this.writer.recovering = false;
    if (snapshot.offset > this.writer.fsyncedOffset) this.writer.fsynced(snapshot.offset);
    else this.writer.writeRecovered();
  }

  abort(): void {
    const job = this.rewriting;
    if (job === null) return;
    job.snapshot?.abort();
    if (job.timer !== null) clearImmediate(job.timer);
    closeTempFile(job);
    fs.rmSync(job.tmp, { force: true });
    this.rewriting = null;
    this.logger.info('Background AOF rewrite aborted');
  }

  /**
   * Write a base file synchronously (empty start, tests, a replica's full
   * sync). `rdbImage`: an RDB of exactly the current dataset (what a replica
   * just loaded from its primary), written as the base as it is instead of
   * serializing the dataset again.
   */
  rewriteSync(rdbImage: Buffer | null = null): void {
    const m = this.manifest;
    const dir = m.dir;
    fs.mkdirSync(dir, { recursive: true });
    const seq = m.nextSeq('b');
    const preamble = this.config.bool('aof-use-rdb-preamble');
    const baseName = m.baseName(seq, preamble);
    const full = path.join(dir, baseName);
    if (preamble && rdbImage !== null) writeImage(full, rdbImage);
    else if (preamble) this.rdb.writeSync(full, true);
    else {
      const fd = fs.openSync(full, 'w', 0o644);
      const target = new AofTextTarget((c) => writeAll(fd, c), this.rdb.functions.codes());
      new Snapshot(this.engine, target).runSync();
      target.drain();
      fs.fsyncSync(fd);
      fs.closeSync(fd);
    }
    for (const f of m.files) if (f.type !== 'h') f.type = 'h';
    m.files.push({ name: baseName, seq, type: 'b' });
    m.setStart(baseName, this.engine.log.offset, Date.now());
    this.writer.openNewIncr();
    m.baseSize = fs.statSync(full).size;
    m.recomputeSize(this.writer.openFile);
    m.rewriteBaseSize = m.currentSize;
    m.removeHistory(this.archive());
    fsyncDir(dir);
  }
}

/** Write `image` to `file` atomically: a temp file, fsync, rename. */
function writeImage(file: string, image: Buffer): void {
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    let off = 0;
    while (off < image.length) off += fs.writeSync(fd, image, off, image.length - off);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}
