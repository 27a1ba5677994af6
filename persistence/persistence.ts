/**
 * Persistence as the server sees it: start-up loading, group commit, the
 * MISCONF condition, save points and AOF upkeep in the cron, shutdown.
 * The stores themselves are rdb-store.ts (snapshots) and aof.ts (the log
 * on disk); archive.ts keeps retired AOF files for point-in-time recovery.
 *
 * Group commit (DESIGN.md §6): a client whose replies could reveal writes
 * that are not on disk yet holds them (`Waiter`) until the AOF reached the
 * log offset current when they were produced. The AOF is written once per
 * event-loop turn; under `appendfsync always` the fsync runs in the thread
 * pool, and the writes that arrive meanwhile form the next group.
 */

import fs from 'node:fs';
import type { Engine } from '../src/engine/engine.js';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/log.js';
import { RdbStore, type ReplicationInfo } from './rdb-store.js';
import { AofLoadError, AofStore } from './aof.js';
import { Archive } from './archive.js';
import { RdbError } from './rdb/format.js';
import { removeStaleTempFiles } from './temp-files.js';
import path from 'node:path';

/** A client holding replies until the log is durable up to `heldUntil`. */
export interface Waiter {
  heldUntil: number;
  releaseHeld(): void;
}

export interface LoadingState {
  startedAt: number;
  totalBytes: number;
  loadedBytes: number;
  file: string;
  /** Bytes of finished files (a multi-part AOF loads several). */
  doneBytes: number;
}

export class LoadError extends Error {}

export const MISCONF_RDB =
  "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error.";

export interface PersistenceHost {
  engine: Engine;
  config: Config;
  logger: Logger;
  replication(): ReplicationInfo;
  /** Run one command read from an AOF (no reply, no log record of its own). */
  replay(argv: string[]): void;
}

export class Persistence {
  readonly rdb: RdbStore;
  readonly aof: AofStore;
  readonly archive: Archive;
  loading: LoadingState | null = null;
  private readonly waiters = new Set<Waiter>();
  private commitScheduled = false;
  /** WAITAOF asked for an fsync outside the everysec rhythm. */
  private fsyncWanted = false;
  private readonly engine: Engine;
  private readonly config: Config;
  private readonly logger: Logger;
  private lastProgressLog = 0;

  constructor(private readonly host: PersistenceHost) {
    this.engine = host.engine;
    this.config = host.config;
    this.logger = host.logger;
    this.rdb = new RdbStore(this.engine, this.config, this.logger, host.replication);
    this.archive = new Archive(this.config, this.logger);
    this.aof = new AofStore(this.engine, this.config, this.logger, this.rdb);
    this.aof.archive = this.archive;
  }

  // ---- start-up -----------------------------------------------------------------

  /**
   * Load the dataset: the AOF when appendonly is on, else dbfilename.
   * Yields between slices; drive it with runSteps / runStepsAsync.
   */
  *loadSteps(): Generator<void, void> {
    const started = Date.now();
    this.loading = { startedAt: started, totalBytes: 0, loadedBytes: 0, file: '', doneBytes: 0 };
    this.engine.loading = true;
    removeStaleTempFiles([path.dirname(this.rdb.path), this.aof.dir], this.config.str('appendfilename'), this.logger);
    try {
      if (this.config.bool('appendonly')) {
        const found = yield* this.aof.loadSteps((argv) => this.host.replay(argv), (file, bytes, total) => this.progress(file, bytes, total));
        if (!found) {
          // Like Redis 7: an empty dataset gets a base file right away.
          this.aof.rewriteSync();
        } else {
          this.logger.info(`DB loaded from append only file: ${((Date.now() - started) / 1000).toFixed(3)} seconds`);
        }
      } else {
        const file = this.rdb.path;
        if (fs.existsSync(file)) {
          const buf = fs.readFileSync(file);
          this.progress(file, 0, buf.length);
          const r = yield* this.rdb.loadSteps(buf, { preamble: false, onProgress: (b) => this.progress(file, b, buf.length) });
          const offset = Number(r.aux.get('repl-offset') ?? 0);
          this.engine.log.reset(Number.isSafeInteger(offset) && offset > 0 ? offset : 0);
          const l = this.rdb.lastLoad;
          this.logger.info(`Done loading RDB, keys loaded: ${l.keysLoaded}, keys expired: ${l.keysExpired}.`);
          this.logger.info(`DB loaded from disk: ${((Date.now() - started) / 1000).toFixed(3)} seconds`);
        }
      }
    } catch (e) {
      if (e instanceof RdbError) throw new LoadError(`Short read or corrupt RDB ${this.rdb.path}: ${e.message}`);
      if (e instanceof AofLoadError) throw new LoadError(e.message);
      throw e;
    } finally {
      this.engine.loading = false;
      this.engine.dirty = 0;
      this.loading = null;
    }
  }

  private progress(file: string, bytes: number, total: number): void {
    const l = this.loading;
    if (l === null) return;
    if (l.file !== file) {
      if (l.file !== '') l.doneBytes = l.totalBytes;
      l.file = file;
      l.totalBytes = l.doneBytes + total;
    }
    l.loadedBytes = l.doneBytes + bytes;
    const now = Date.now();
    if (now - this.lastProgressLog >= 5000 && now - l.startedAt >= 5000) {
      this.lastProgressLog = now;
      this.logger.info(`Loading ${file}: ${((100 * bytes) / Math.max(1, total)).toFixed(2)}% (${bytes} of ${total} bytes)`);
    }
  }

  // ---- group commit --------------------------------------------------------------

  /** True when replies produced now must wait for the AOF. */
  mustWait(): boolean {
    return this.aof.on && this.engine.log.offset > this.durableOffset();
  }

  /** The log offset replies may reveal. */
  private durableOffset(): number {
    const aof = this.aof;
    if (!aof.on) return Infinity;
    if (this.aof.policy === 'always') return aof.fsyncedOffset;
    // Like Redis under everysec/no: a failed write is retried, replies still go out.
    return aof.lastWriteOk ? aof.writtenOffset : Infinity;
  }

  hold(w: Waiter): void {
    w.heldUntil = this.engine.log.offset;
    this.waiters.add(w);
    this.scheduleCommit();
  }

  forget(w: Waiter): void {
    this.waiters.delete(w);
  }

  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => this.commit());
  }

  /** Once per turn with writes: write the AOF, start the group's fsync, release what is durable. */
  commit(): void {
    this.commitScheduled = false;
    // Gathering the next group (afterFsync): it commits when that ends.
    if (this.gatherUntil !== 0) return;
    this.engine.log.flush();
    const aof = this.aof;
    // Under `always` nothing is released before the next fsync anyway: while
    // one runs, the group keeps growing in memory and is written in one go.
    if (aof.policy === 'always' && aof.fsyncInFlight) return;
    const wrote = aof.writePending();
    if (wrote && (this.fsyncWanted || this.aof.policy === 'always') && aof.fsyncedOffset < aof.writtenOffset && !aof.fsyncInFlight) {
      this.fsyncWanted = false;
      this.startFsync();
    }
    this.release();
  }

  // Group commit under `always`: while one fsync runs, the next group
  // forms. Started the moment the fsync ends, that group would hold only
  // the clients that wrote during it, while the clients just answered come
  // back a round trip later and wait for the group after: two cohorts
  // alternate, each fsync covering half the writers. Instead the next fsync
  // waits, for at most half the last fsync's duration, until most of the
  // clients just answered have written again: one full group per fsync, as
  // Redis gets from its blocking fsync, with the fsync still off the main thread.
  private gatherUntil = 0;
  private gatherTarget = 0;
  private fsyncStartedAt = 0;

  private readonly gatherTick = (): void => {
    if (this.waiters.size < this.gatherTarget && performance.now() < this.gatherUntil) {
      setImmediate(this.gatherTick);
      return;
    }
    this.gatherUntil = 0;
    this.commit();
  };

  /** Have the AOF fsynced soon (WAITAOF under everysec / no). */
  requestFsync(): void {
    if (!this.aof.on) return;
    this.fsyncWanted = true;
    this.scheduleCommit();
  }

  /**
   * DEBUG LOADAOF: load the AOF files again into the (emptied) engine. With
   * the AOF off, the files a BGREWRITEAOF wrote are loaded, as Redis does.
   * Returns false when there is no AOF to load.
   */
  *reloadAofSteps(): Generator<void, boolean> {
    this.engine.loading = true;
    try {
      const replay = (argv: string[]) => this.host.replay(argv);
      if (!this.aof.on) return yield* this.aof.replayOnlySteps(replay);
      this.aof.close();
      const found = yield* this.aof.loadSteps(replay, () => {});
      // Its files are gone: give the (now empty) dataset new ones, as start-up does.
      if (!found) this.aof.rewriteSync();
      return found;
    } finally {
      this.engine.loading = false;
    }
  }

  /** Start the group's fsync in the thread pool, noting when (afterFsync sizes the gathering by it). */
  private startFsync(): void {
    this.fsyncStartedAt = performance.now();
    this.aof.fsyncAsync(() => this.afterFsync());
  }

  private afterFsync(): void {
    const fsyncMs = performance.now() - this.fsyncStartedAt;
    const released = this.release();
    if (this.aof.fsyncedOffset >= this.engine.log.offset || !(this.fsyncWanted || this.aof.policy === 'always')) return;
    if (this.aof.policy === 'always' && released > 1) {
      this.gatherUntil = performance.now() + Math.min(2, fsyncMs / 2);
      this.gatherTarget = this.waiters.size + Math.ceil(released * 0.75);
      setImmediate(this.gatherTick);
      return;
    }
    this.commit();
  }

  /** Send the replies the AOF now covers; returns how many clients were released. */
  private release(): number {
    if (this.waiters.size === 0) return 0;
    const durable = this.durableOffset();
    let released = 0;
    for (const w of this.waiters) {
      if (w.heldUntil > durable) continue;
      this.waiters.delete(w);
      w.releaseHeld();
      released++;
    }
    return released;
  }

  /** Release everyone (AOF switched off). */
  releaseAll(): void {
    const all = [...this.waiters];
    this.waiters.clear();
    for (const w of all) w.releaseHeld();
  }

  // ---- refusing writes --------------------------------------------------------------

  /** Redis' writeCommandsDeniedByDiskError: the MISCONF error, or null. */
  misconf(): string | null {
    if (this.rdb.blocksWrites) return MISCONF_RDB;
    if (this.aof.on && !this.aof.lastWriteOk) return `MISCONF Errors writing to the AOF file: ${this.aof.lastWriteError}`;
    return null;
  }

  // ---- cron ---------------------------------------------------------------------------

  cron(): void {
    if (this.loading !== null) return;
    const aof = this.aof;
    if (aof.on) {
      if (!aof.lastWriteOk || aof.bufferLength > 0) {
        this.engine.log.flush();
        if (aof.writePending() && this.aof.policy === 'always' && aof.fsyncedOffset < aof.writtenOffset && !aof.fsyncInFlight) {
          this.startFsync();
        }
        this.release();
      }
      aof.cron(() => this.release());
    }
    if (!this.rdb.inProgress && !aof.rewriteInProgress) {
      if (this.rdb.scheduled) {
        this.rdb.scheduled = false;
        this.rdb.bgsave();
      } else if (this.rdb.savePointDue()) {
        this.logger.info(`${this.engine.dirty} changes in a while. Saving...`);
        this.rdb.bgsave();
      }
    }
  }

  // ---- commands ----------------------------------------------------------------------

  /** CONFIG SET appendonly. */
  setAppendonly(on: boolean): void {
    if (on) {
      this.engine.log.flush();
      this.aof.enable();
    } else {
      this.engine.log.flush();
      this.aof.disable();
      this.releaseAll();
    }
  }

  /** Shutdown: flush the AOF, save when asked to. Returns false if saving failed. */
  shutdown(save: boolean): boolean {
    this.rdb.abort();
    this.aof.abortRewrite();
    this.engine.log.flush();
    let ok = true;
    if (this.aof.on) {
      this.logger.info('Calling fsync() on the AOF file.');
      ok = this.aof.flushAll();
      this.releaseAll();
    }
    if (save) {
      this.logger.info('Saving the final RDB snapshot before exiting.');
      if (!this.rdb.save()) {
        this.logger.warn('Error trying to save the DB, can\'t exit.');
        return false;
      }
    }
    return ok || !this.aof.on;
  }

  close(): void {
    this.aof.close();
  }
}

/** Drive a step generator to completion now. */
export function runSteps<T>(gen: Generator<void, T>): T {
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
  }
}

/** Drive a step generator, yielding to the event loop between steps. */
export async function runStepsAsync<T>(gen: Generator<void, T>): Promise<T> {
  for (;;) {
    const r = gen.next();
    if (r.done) return r.value;
    await new Promise((resolve) => setImmediate(resolve));
  }
}
