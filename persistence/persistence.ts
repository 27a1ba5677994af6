/**
 * Persistence as the server sees it: start-up loading, the MISCONF
 * condition, save points and AOF upkeep in the cron, shutdown, and a
 * façade over the group commit (group-commit.ts) and the durability gate
 * (src/log/gate.ts) that decide when held replies go out.
 * The stores themselves are rdb-store.ts (snapshots) and aof/ (the log
 * on disk); archive.ts keeps retired AOF files for point-in-time recovery.
 */

import fs from 'node:fs';
import type { Engine } from '../src/engine/engine.js';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import { RdbStore, type FunctionLibraries, type ReplicationInfo } from './rdb-store.js';
import type { RdbLoadResult } from './rdb/file.js';
import type { Db } from '../src/engine/keyspace.js';
import { AofLoadError, AofStore } from './aof/store.js';
import { Archive } from './archive.js';
import { RdbError } from './rdb/format.js';
import { removeStaleTempFiles } from './temp-files.js';
import path from 'node:path';
import { DurabilityGate, localFileFollower, type Waiter } from '../src/log/gate.js';
import { GroupCommit } from './group-commit.js';

export type { Waiter };

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
  /** The function libraries, saved and loaded with the keys. */
  functions: FunctionLibraries;
}

export class Persistence {
  readonly rdb: RdbStore;
  readonly aof: AofStore;
  readonly archive: Archive;
  loading: LoadingState | null = null;
  /**
   * The load under way runs beside the dataset in use (a replica's swapdb
   * load of a history it already holds: Redis' async loading): commands go
   * on against the old data, only those flagged no-async-loading get -LOADING.
   */
  asyncLoading = false;
  /** The replication id the loaded files carry (RDB aux repl-id), for a replica to continue its history. */
  loadedReplId: string | null = null;
  /** Which log offset replies may reveal, and who waits for more (src/log/gate.ts). */
  readonly gate: DurabilityGate;
  private readonly groupCommit: GroupCommit;
  private readonly engine: Engine;
  private readonly config: Config;
  private readonly logger: Logger;
  private lastProgressLog = 0;

  constructor(private readonly host: PersistenceHost) {
    this.engine = host.engine;
    this.config = host.config;
    this.logger = host.logger;
    this.rdb = new RdbStore(this.engine, this.config, this.logger, host.replication, host.functions);
    this.archive = new Archive(this.config, this.logger);
    this.aof = new AofStore(this.engine, this.config, this.logger, this.rdb);
    this.aof.archive = this.archive;
    const log = this.engine.log;
    // Replies wait for the records that change data, not for the replication pings after them.
    this.gate = new DurabilityGate({
      get offset() {
        return log.dataEnd;
      },
    });
    this.gate.addFollower(localFileFollower(this.aof));
    this.aof.onFsync = () => this.gate.advanced();
    this.groupCommit = new GroupCommit(this.engine.log, this.aof, this.gate);
  }

  // ---- start-up -----------------------------------------------------------------

  /**
   * The server listens before it loads (as Redis does): from then until the
   * load ends, commands are answered -LOADING, not run on an empty dataset
   * whose writes no AOF would keep yet.
   */
  startLoading(): void {
    if (this.loading === null) this.beginLoading(Date.now());
  }

  /** Loading from `startedAt` on: commands get -LOADING, INFO shows its progress. */
  private beginLoading(startedAt: number): void {
    this.loading = { startedAt, totalBytes: 0, loadedBytes: 0, file: '', doneBytes: 0 };
    this.engine.loading = true;
  }

  /**
   * Load the dataset: the AOF when appendonly is on, else dbfilename.
   * Yields between slices; drive it with runSteps / runStepsAsync.
   */
  *loadSteps(): Generator<void, void> {
    const started = Date.now();
    this.beginLoading(started);
    removeStaleTempFiles([path.dirname(this.rdb.path), this.aof.dir], this.config.str('appendfilename'), this.logger);
    try {
      if (this.config.bool('appendonly')) {
        const found = yield* this.aof.loadSteps((argv) => this.host.replay(argv), (file, bytes, total) => this.progress(file, bytes, total));
        if (!found) {
          // Like Redis 7: an empty dataset gets a base file right away.
          this.aof.rewriteSync();
          const files = this.aof.currentFiles;
          this.logger.info(`Creating AOF base file ${files.base} on server start`);
          this.logger.info(`Creating AOF incr file ${files.incr} on server start`);
        } else {
          this.loadedReplId = this.aof.baseAux?.get('repl-id') ?? null;
          this.logger.info(`DB loaded from append only file: ${((Date.now() - started) / 1000).toFixed(3)} seconds`);
          this.logger.info(`Opening AOF incr file ${this.aof.currentFiles.incr} on server start`);
        }
      } else {
        const file = this.rdb.path;
        if (fs.existsSync(file)) {
          const buf = fs.readFileSync(file);
          this.progress(file, 0, buf.length);
          const r = yield* this.rdb.loadSteps(buf, { preamble: false, onProgress: (b) => this.progress(file, b, buf.length) });
          const offset = Number(r.aux.get('repl-offset') ?? 0);
          this.engine.log.reset(Number.isSafeInteger(offset) && offset > 0 ? offset : 0);
          this.loadedReplId = r.aux.get('repl-id') ?? null;
          // The database a replica's stream continues on (its log never adds a SELECT of its own).
          const streamDb = r.aux.get('repl-stream-db');
          if (streamDb !== undefined && /^[0-9]{1,9}$/.test(streamDb)) this.host.replay(['SELECT', streamDb]);
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

  /**
   * A replica's full sync: load its primary's RDB image into `into` (fresh
   * databases the caller swaps in: repl-diskless-load swapdb) or into the
   * dataset the caller emptied, answering -LOADING meanwhile. Yields between
   * slices; throws RdbError on a damaged image.
   */
  *loadSyncSteps(rdb: Buffer, into: readonly Db[] | null, file: string, background = false): Generator<void, RdbLoadResult> {
    // A snapshot or rewrite running now would mix the old dataset with the new one (Redis kills its child).
    this.rdb.abort();
    this.aof.abortRewrite();
    this.engine.log.flush();
    this.beginLoading(Date.now());
    this.asyncLoading = background && into !== null;
    try {
      this.progress(file, 0, rdb.length);
      const onProgress = (b: number) => this.progress(file, b, rdb.length);
      const steps = this.rdb.loadSteps(rdb, { preamble: false, onProgress, ...(into === null ? {} : { into }) });
      if (!this.asyncLoading) return yield* steps;
      // In the background the engine is in its loading mode only while a
      // slice of keys goes in: between slices the commands served from the
      // old data see it as usual (expired keys hidden, access times kept).
      try {
        for (;;) {
          this.engine.loading = true;
          let r: IteratorResult<void, RdbLoadResult>;
          try {
            r = steps.next();
          } finally {
            this.engine.loading = false;
          }
          if (r.done === true) return r.value;
          yield;
        }
      } finally {
        // Abandoned half way (the link dropped): the load's own clean-up runs.
        steps.return(undefined as never);
      }
    } finally {
      this.engine.loading = false;
      this.loading = null;
      this.asyncLoading = false;
    }
  }

  /**
   * After a replica's full sync: the AOF (when on) starts over from the
   * loaded dataset at the log's new offset, as Redis' restartAOFAfterSYNC,
   * and nobody waits any longer for offsets of the history that was dropped.
   */
  restartAfterSync(rdbImage: Buffer | null = null): void {
    if (this.aof.on) this.aof.restartFromDataset(rdbImage);
    this.releaseAll();
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

  // ---- group commit (group-commit.ts, the gate in src/log/gate.ts) -------------

  /** True when replies produced now must wait for the AOF. */
  mustWait(): boolean {
    return this.gate.mustWait();
  }

  /** Hold `w`'s replies until the AOF has what they may reveal (`alone`: see GroupCommit.hold). */
  hold(w: Waiter, alone = false): void {
    this.groupCommit.hold(w, alone);
  }

  /** Would a client alone be committed at once (GroupCommit.commitNowPays)? */
  mayCommitAlone(): boolean {
    return this.groupCommit.commitNowPays();
  }

  /** Replies wait only for the AOF write at the end of the turn (appendfsync everysec or no): nothing is held. */
  durableOnWrite(): boolean {
    return this.gate.durableOnWrite();
  }

  /** The end of a turn, before its replies go out: write the log to the AOF (see GroupCommit.writeBeforeReplies). */
  writeBeforeReplies(): void {
    this.groupCommit.writeBeforeReplies();
  }

  forget(w: Waiter): void {
    this.gate.forget(w);
  }

  /** Have the AOF fsynced soon (WAITAOF under everysec / no). */
  requestFsync(): void {
    this.groupCommit.requestFsync();
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

  /** Release everyone (AOF switched off). */
  releaseAll(): void {
    this.gate.releaseAll();
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
    this.groupCommit.cron();
    aof.cron(() => this.gate.release());
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
