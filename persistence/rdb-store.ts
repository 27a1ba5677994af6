/**
 * RDB snapshots on disk: SAVE, BGSAVE (copy-on-write, no fork), save
 * points, loading at start-up, and the state INFO persistence reports.
 * Files are written to a temp file, fsynced, renamed over dbfilename and the
 * directory fsynced, so a crash never leaves a half-written dump.rdb.
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Engine } from '../src/engine/engine.js';
import type { Db } from '../src/engine/keyspace.js';
import type { Logger } from '../src/logger.js';
import type { Config } from '../src/config.js';
import { RdbWriter, RdbParser, type RdbLoadResult } from './rdb/file.js';
import { RdbError } from './rdb/format.js';
import { Snapshot, type SnapshotTarget } from './snapshot.js';
import { REDIS_VERSION, VERSION } from '../src/version.js';
import { dataDir, fsyncDir, fsyncDirAsync } from './files.js';
import { BackgroundFile, closeTempFile, type JobFile } from './background-file.js';
import { SAVE_WORKER, WorkerFile } from './save-worker.js';
import { strerror } from './errors.js';

export type SaveStatus = 'ok' | 'err';

export interface ReplicationInfo {
  replId: string;
  offset: number;
  /** The database the replication stream is on at `offset` (aux repl-stream-db). */
  streamDb: number;
}

/** Adapts an RdbWriter to the snapshot target interface. */
export class RdbSnapshotTarget implements SnapshotTarget {
  constructor(readonly writer: RdbWriter) {}
  beginDb(db: number, keys: number, expires: number): void {
    this.writer.selectDb(db, keys, expires);
  }
  entry(db: number, key: string, value: Parameters<RdbWriter['entry']>[2], expireMs: number, idleSeconds: number, freq: number): void {
    this.writer.entry(db, key, value, expireMs, idleSeconds, freq);
  }
  bytesEntry(db: number, buf: Buffer, keyStart: number, keyLen: number, valueStart: number, valueLen: number, expireMs: number, idleSeconds: number, freq: number): void {
    this.writer.bytesEntry(db, buf, keyStart, keyLen, valueStart, valueLen, expireMs, idleSeconds, freq);
  }
  drain(): void {
    this.writer.drain();
  }
}

/**
 * The function libraries a dataset holds beside its keys (Redis 7
 * functions): snapshots write each library's code as RDB opcode 245, and
 * loading a file installs the libraries it holds.
 */
export interface FunctionLibraries {
  /** Each library's code, in load order. */
  codes(): string[];
  /**
   * Install libraries read from a file, all or none: `flush` replaces
   * every library, `append` refuses a name already loaded, `replace`
   * replaces libraries of the same name. Null, or why a library could not
   * be loaded.
   */
  restore(codes: readonly string[], policy: FunctionPolicy): string | null;
}

export type FunctionPolicy = 'flush' | 'append' | 'replace';

export interface LoadStats {
  keysLoaded: number;
  keysExpired: number;
}

interface Bgsave {
  /** null when the temp file could not even be opened. */
  snapshot: Snapshot | null;
  tmp: string;
  /** The temp file, -1 once closed (or never opened). */
  fd: number;
  /** Writes the temp file off the event loop (and closes fd); null once closed. */
  file: JobFile | null;
  start: number;
  dirtyAtStart: number;
  /** The deferred failure of a save whose file could not be opened. */
  timer: NodeJS.Immediate | null;
}

/** A failed save; the message is the line Redis logs for the step that failed. */
export class SaveError extends Error {}

/** Run one step of a save, turning its failure into a SaveError described by `describe(strerror)`. */
function saveStage<T>(describe: (why: string) => string, work: () => T): T {
  try {
    return work();
  } catch (e) {
    if (e instanceof SaveError) throw e;
    throw new SaveError(describe(strerror(e)), { cause: e });
  }
}

// Redis' rdbSave log lines.
function openFailure(tmp: string, why: string): string {
  return `Failed opening the temp RDB file ${path.basename(tmp)} (in server root dir ${path.dirname(tmp)}) for saving: ${why}`;
}

function writeFailure(why: string): string {
  return `Write error saving DB on disk: ${why}`;
}

function moveFailure(tmp: string, file: string, why: string): string {
  return `Error moving temp DB file ${path.basename(tmp)} on the final destination ${path.basename(file)} (in server root dir ${path.dirname(file)}): ${why}`;
}

export class RdbStore {
  lastSave = Math.floor(Date.now() / 1000);
  lastBgsaveStatus: SaveStatus = 'ok';
  lastBgsaveTimeSec = -1;
  /** The last BGSAVE's longest slice on the event loop: wall and CPU ms (INFO persistence; -1: none yet / no CPU clock). */
  lastBgsaveLongestSlice = { ms: -1, cpuMs: -1 };
  lastBgsaveTry = 0;
  saves = 0;
  scheduled = false;
  lastLoad: LoadStats = { keysLoaded: 0, keysExpired: 0 };
  private current: Bgsave | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly replication: () => ReplicationInfo,
    /** The server's function libraries (every RDB carries them). */
    readonly functions: FunctionLibraries,
  ) {}

  get path(): string {
    return path.resolve(dataDir(this.config), this.config.str('dbfilename'));
  }

  get inProgress(): boolean {
    return this.current !== null;
  }

  get currentKeysProcessed(): number {
    return this.current?.snapshot?.keysWritten ?? 0;
  }

  get currentSeconds(): number {
    return this.current === null ? -1 : Math.floor((Date.now() - this.current.start) / 1000);
  }

  /** The RDB AUX fields Redis writes. */
  aux(aofBase: boolean): [string, string][] {
    const m = process.memoryUsage();
    const repl = this.replication();
    return [
      ['redis-ver', REDIS_VERSION],
      ['redis-bits', '64'],
      ['ctime', String(Math.floor(Date.now() / 1000))],
      ['used-mem', String(m.heapUsed + m.external)],
      ['repl-stream-db', String(Math.max(0, repl.streamDb))],
      ['repl-id', repl.replId],
      ['repl-offset', String(repl.offset)],
      ['aof-base', aofBase ? '1' : '0'],
      ['vireo-ver', VERSION],
    ];
  }

  /** An RdbWriter with the header written (`aofBase`: the AOF's RDB preamble), writing to `fd` at once. */
  writerFor(fd: number, aofBase: boolean): RdbWriter {
    const w = new RdbWriter({ compress: this.config.bool('rdbcompression'), checksum: this.config.bool('rdbchecksum'), sink: (chunk) => writeAll(fd, chunk) });
    this.writeHeader(w, aofBase);
    return w;
  }

  /**
   * An RdbWriter with the header written, for a background save to `fd`
   * (BGSAVE, BGREWRITEAOF), and the file writing it off the event loop:
   * the save worker, which also compresses and checksums (save-worker.ts),
   * or with VIREO_SAVE_WORKER=0 libuv's thread pool, writing what the
   * event loop compressed. Either closes `fd`.
   */
  backgroundWriter(fd: number, aofBase: boolean, incrementalFsync: boolean): { writer: RdbWriter; file: JobFile } {
    const compress = this.config.bool('rdbcompression');
    const checksum = this.config.bool('rdbchecksum');
    let w: RdbWriter;
    let file: JobFile;
    if (SAVE_WORKER) {
      const wf = new WorkerFile(fd, incrementalFsync, checksum);
      w = new RdbWriter({ compress, checksum, sink: () => {}, deferred: wf });
      file = wf;
    } else {
      const bf = new BackgroundFile(fd, incrementalFsync);
      w = new RdbWriter({ compress, checksum, sink: (chunk) => bf.write(chunk), spill: (chunk) => bf.writeNow(chunk), sinkGivesBack: true });
      bf.onWritten = (chunks) => chunks.forEach((c) => w.giveBack(c));
      file = bf;
    }
    this.writeHeader(w, aofBase);
    return { writer: w, file };
  }

  /**
   * The header every RDB starts with: aux fields and function libraries
   * (also a replica's full sync, whose REPLCONF rdb-filter-only may leave
   * the functions out).
   */
  writeHeader(w: RdbWriter, aofBase = false, functions = true): void {
    w.header(this.aux(aofBase));
    if (functions) w.functions(this.functions.codes());
  }

  /** Serialize the dataset synchronously into `file` (atomically). Throws SaveError. */
  writeSync(file: string, aofBase = false): void {
    const dir = path.dirname(file);
    const tmp = path.join(dir, `temp-${process.pid}-${Date.now()}.rdb`);
    const fd = saveStage((why) => openFailure(tmp, why), () => fs.openSync(tmp, 'w', 0o644));
    try {
      saveStage(writeFailure, () => {
        const w = this.writerFor(fd, aofBase);
        new Snapshot(this.engine, new RdbSnapshotTarget(w)).runSync();
        w.end();
        fs.fsyncSync(fd);
      });
    } catch (e) {
      fs.closeSync(fd);
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    fs.closeSync(fd);
    try {
      saveStage((why) => moveFailure(tmp, file, why), () => fs.renameSync(tmp, file));
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw e;
    }
    fsyncDir(dir);
  }

  /** SAVE: synchronous, resets dirty. Returns false (and logs why, as Redis does) on failure. */
  save(): boolean {
    const dirty = this.engine.dirty;
    try {
      this.writeSync(this.path);
    } catch (e) {
      if (e instanceof SaveError) this.logger.warn(e.message);
      else this.logger.warn({ err: e }, 'Failed saving the DB');
      this.lastBgsaveStatus = 'err';
      return false;
    }
    this.engine.dirty -= dirty;
    this.lastSave = Math.floor(Date.now() / 1000);
    this.lastBgsaveStatus = 'ok';
    this.saves++;
    this.logger.info('DB saved on disk');
    return true;
  }

  /**
   * BGSAVE: a copy-on-write snapshot written between event-loop turns. Like
   * a forked Redis child, it has started once called: a file that cannot be
   * opened or written fails it afterwards (rdb_last_bgsave_status, the log).
   */
  bgsave(onDone?: (ok: boolean) => void): void {
    const dest = this.path;
    const tmp = path.join(path.dirname(dest), `temp-bg-${process.pid}-${Date.now()}.rdb`);
    this.lastBgsaveTry = Date.now();
    const job: Bgsave = { snapshot: null, file: null, tmp, fd: -1, start: Date.now(), dirtyAtStart: this.engine.dirty, timer: null };
    this.current = job;
    this.logger.info(`Background saving started by pid ${process.pid}`);
    try {
      job.fd = saveStage((why) => openFailure(tmp, why), () => fs.openSync(tmp, 'w', 0o644));
    } catch (e) {
      job.timer = setImmediate(() => this.finishBgsave(job, dest, e as Error, onDone));
      return;
    }
    const { writer: w, file } = this.backgroundWriter(job.fd, false, this.config.bool('rdb-save-incremental-fsync'));
    job.file = file;
    job.snapshot = new Snapshot(this.engine, new RdbSnapshotTarget(w), { pace: file.pace });
    job.snapshot.runAsync((err) => {
      try {
        if (err !== null) throw err;
        saveStage(writeFailure, () => w.end());
      } catch (e) {
        this.failBgsave(job, dest, e, onDone);
        return;
      }
      // The rest of the file and its fsync happen off the event loop, which goes on.
      file.finish((err) => {
        if (this.current !== job) return; // aborted meanwhile
        if (err !== null) {
          this.failBgsave(job, dest, err, onDone);
          return;
        }
        closeTempFile(job);
        // In the thread pool too: renaming over the last dump unlinks it, which took 12 ms for 100 MB.
        fs.rename(tmp, dest, (renameErr) => {
          if (this.current !== job) return;
          if (renameErr !== null) {
            this.failBgsave(job, dest, new SaveError(moveFailure(tmp, dest, strerror(renameErr)), { cause: renameErr }), onDone);
            return;
          }
          fsyncDirAsync(path.dirname(dest), () => {
            // What Redis' saving child logs before it exits.
            this.logger.info('DB saved on disk');
            this.finishBgsave(job, dest, null, onDone);
          });
        });
      });
    });
  }

  private failBgsave(job: Bgsave, file: string, e: unknown, onDone?: (ok: boolean) => void): void {
    this.finishBgsave(job, file, e instanceof SaveError ? e : new SaveError(writeFailure(strerror(e)), { cause: e }), onDone);
  }

  private finishBgsave(job: Bgsave, file: string, err: Error | null, onDone?: (ok: boolean) => void): void {
    if (this.current !== job) return; // aborted meanwhile
    this.current = null;
    closeTempFile(job);
    this.lastBgsaveTimeSec = Math.round((Date.now() - job.start) / 1000);
    if (job.snapshot !== null) this.lastBgsaveLongestSlice = { ...job.snapshot.longestSlice };
    if (err === null) {
      this.engine.dirty -= job.dirtyAtStart;
      this.lastSave = Math.floor(Date.now() / 1000);
      this.lastBgsaveStatus = 'ok';
      this.saves++;
      this.logger.info('Background saving terminated with success');
    } else {
      fs.rmSync(job.tmp, { force: true });
      this.lastBgsaveStatus = 'err';
      this.logger.warn(err.message);
      this.logger.warn("Background saving error");
    }
    onDone?.(err === null);
  }

  abort(): void {
    const job = this.current;
    if (job === null) return;
    job.snapshot?.abort();
    if (job.timer !== null) clearImmediate(job.timer);
    closeTempFile(job);
    fs.rmSync(job.tmp, { force: true });
    this.current = null;
  }

  /** Save points: `save <seconds> <changes> ...`; returns true if a BGSAVE should start. */
  savePointDue(): boolean {
    const params = this.config.str('save').split(' ').filter((x) => x !== '').map(Number);
    const now = Date.now();
    // After a failure, retry only every 5 seconds (CONFIG_BGSAVE_RETRY_DELAY).
    if (this.lastBgsaveStatus === 'err' && now - this.lastBgsaveTry < 5000) return false;
    for (let i = 0; i + 1 < params.length; i += 2) {
      const seconds = params[i]!;
      const changes = params[i + 1]!;
      if (this.engine.dirty >= changes && now / 1000 - this.lastSave > seconds) return true;
    }
    return false;
  }

  get savePointsConfigured(): boolean {
    return this.config.str('save').trim() !== '';
  }

  /** The MISCONF condition of a failed background save. */
  get blocksWrites(): boolean {
    return this.lastBgsaveStatus === 'err' && this.config.bool('stop-writes-on-bgsave-error') && this.savePointsConfigured;
  }

  /**
   * Load an RDB image into the (empty) engine, a slice of keys per step
   * (the caller decides whether to yield to the event loop in between).
   * Keys whose TTL has passed are skipped, except in an AOF preamble.
   * The file's function libraries are installed once it is read whole, by
   * `opts.functions` (default flush: they replace those loaded before).
   */
  *loadSteps(
    buf: Buffer,
    opts: { preamble: boolean; merge?: boolean; onProgress?: (bytes: number) => void; into?: readonly Db[]; functions?: FunctionPolicy },
  ): Generator<void, RdbLoadResult> {
    const engine = this.engine;
    // A replica's swapdb load fills databases of its own, swapped in once whole.
    const dbs = opts.into ?? engine.dbs;
    const now = Date.now();
    const stats: LoadStats = { keysLoaded: 0, keysExpired: 0 };
    // Databases whose string indexes a RESIZEDB sized: the sizing ends with the load.
    const sized = new Set<Db>();
    const parser = new RdbParser(buf, {
      limits: engine.limits,
      checksum: this.config.bool('rdbchecksum'),
      onKey: (db, key, value, expireMs, idleSeconds, freq) => {
        if (!opts.preamble && expireMs !== -1 && expireMs < now && !engine.isReplica) {
          stats.keysExpired++;
          return;
        }
        const d = dbs[db];
        if (d === undefined) throw new RdbError(`FATAL: Data file was created with a Redis server configured to handle more than ${dbs.length} databases. Exiting`);
        if (d.set(key, value) === false && opts.merge !== true) throw new RdbError(`Duplicate key '${key.slice(0, 128)}' found in RDB file`);
        if (expireMs !== -1) d.setExpire(key, expireMs);
        const word = engine.access.restored(freq, idleSeconds);
        if (word >= 0) d.setAccessWord(key, value, word);
        stats.keysLoaded++;
      },
      onAux: (k, v) => this.logAux(k, v),
      // An empty database's string indexes made at their final size (a merge load adds to what is there).
      onResizeDb: (db, keys) => {
        const d = dbs[db];
        if (d === undefined || d.size !== 0) return;
        d.expectKeys(Math.min(keys, Math.floor(buf.length / MIN_KEY_BYTES), MAX_EXPECTED_KEYS));
        sized.add(d);
      },
    });
    try {
      while (!parser.step(LOAD_SLICE_KEYS, performance.now() + LOAD_SLICE_MS)) {
        opts.onProgress?.(parser.position);
        yield;
      }
    } finally {
      for (const d of sized) d.expectKeys(0);
    }
    opts.onProgress?.(parser.position);
    const failed = this.functions.restore(parser.result.functions, opts.functions ?? 'flush');
    if (failed !== null) throw new RdbError(`Failed loading library, ${failed}`);
    this.lastLoad = stats;
    this.logger.info(`Done loading RDB, keys loaded: ${stats.keysLoaded}, keys expired: ${stats.keysExpired}.`);
    return parser.result;
  }

  /** The AUX fields Redis' rdbLoad logs, with its texts. */
  private logAux(key: string, value: string): void {
    if (key === 'redis-ver') this.logger.info(`Loading RDB produced by version ${value}`);
    else if (key === 'ctime') this.logger.info(`RDB age ${Math.max(0, Math.floor(Date.now() / 1000) - (parseInt(value, 10) || 0))} seconds`);
    else if (key === 'used-mem') this.logger.info(`RDB memory usage when created ${((parseInt(value, 10) || 0) / (1024 * 1024)).toFixed(2)} Mb`);
    else if (key === 'aof-base' && (parseInt(value, 10) || 0) !== 0) this.logger.info('RDB is base AOF');
  }
}

/**
 * A RESIZEDB count is the file's word, read before its keys: it is taken
 * as at most one key per MIN_KEY_BYTES of the file (a key's smallest
 * record: type, key length, value length) and at most MAX_EXPECTED_KEYS,
 * so a damaged count cannot size indexes for keys that are not there.
 */
const MIN_KEY_BYTES = 4;
const MAX_EXPECTED_KEYS = 2 ** 27;

/** Keys loaded per step before the loader may yield: about 3 ms of 100-byte strings (20000 held a replica's event loop for 30 ms at a time). */
const LOAD_SLICE_KEYS = 2000;
/**
 * ...and at most this long (ms): code still cold, or values larger than
 * 100 bytes, made a step of 2000 keys take 10-35 ms on a replica.
 */
const LOAD_SLICE_MS = 3;

/** Write a whole buffer with writeSync (handles short writes). */
export function writeAll(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off);
}
