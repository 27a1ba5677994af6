/**
 * Writing the AOF's open incr file: log bytes arrive through onLogData and
 * are written by writePending() once per event-loop turn; the group
 * committer (persistence/group-commit.ts) then releases the turn's replies,
 * under `appendfsync always` after the fsync that covers them (fsyncAsync,
 * in the thread pool). A failed write is cut back to the last good size
 * (no half record stays in the file), the data is kept, writes are refused
 * with MISCONF, and it is retried. Under `always` the writes go into a
 * preallocated tail of the file (preallocation.ts).
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { CommandLog, LogFollower } from '../../src/log/command-log.js';
import { strerror } from '../errors.js';
import type { AofFile, AofManifest } from './manifest.js';
import { PAD_AHEAD, frameGroup, paddingBlock } from './preallocation.js';

/** Opened for positional writes (no O_APPEND: the group commits overwrite the preallocated tail). */
const OPEN_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT;
/** The padding is extended when less than this is left after a write. */
const PAD_LOW = 1024 * 1024;

export class AofWriter implements LogFollower {
  /** Whether the AOF is on (set by AofStore, which also makes it follow the log). */
  on = false;
  private fd = -1;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Log offset up to which bytes are written / fsynced. */
  writtenOffset = 0;
  fsyncedOffset = 0;
  private pendingEnd = 0;
  lastFsyncAt = Date.now();
  /** How long the last fsync took (ms), on the event loop or in the thread pool, failed or not. */
  lastFsyncMs = 0;
  private fsyncRunning = false;
  /** Told how long writes and fsyncs took (the latency monitor's aof-write and aof-fsync-always). */
  onLatency: ((event: string, ms: number) => void) | null = null;
  lastWriteOk = true;
  lastWriteError = '';
  /** The open incr file's name (the manifest's). */
  private fileName = '';
  /** Bytes of the open incr file up to its last record: a failed write is cut back to it. */
  private incrSize = 0;
  /** Bytes the open incr file holds, its preallocated padding included. */
  private fileEnd = 0;
  /** Writes into this file are framed groups (it has had padding). */
  private framed = false;
  private lastTsSecond = 0;
  /** Called when an fsync advanced fsyncedOffset (the durability gate's listeners). */
  onFsync: (() => void) | null = null;
  /** appendfsync, and whether #TS annotations are written (kept current by onChange). */
  policy = 'everysec';
  private annotate = false;
  private preallocate = true;

  /** Whether records are interleaved with annotations (#TS lines, group frames: the file is then not the log byte for byte). */
  get annotated(): boolean {
    return this.annotate || this.framed || this.preallocate;
  }

  /** The open incr file's name and size without its padding (null when none is open). */
  get openFile(): { name: string; size: number } | null {
    return this.fd < 0 ? null : { name: this.fileName, size: this.incrSize };
  }
  lastRecoveryTry = 0;
  private lastFileCheck = 0;
  /** The files on disk no longer hold the dataset: a recovery rewrite must finish first. */
  recovering = false;

  constructor(
    private readonly log: CommandLog,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly manifest: AofManifest,
  ) {
    this.refreshConfig();
    config.onChange(() => this.refreshConfig());
  }

  private refreshConfig(): void {
    this.policy = this.config.str('appendfsync');
    this.annotate = this.config.bool('aof-timestamp-enabled') || this.config.bool('aof-archive');
    this.preallocate = this.config.bool('aof-preallocate');
  }

  get bufferLength(): number {
    return this.pendingBytes;
  }

  get fsyncInFlight(): boolean {
    return this.fsyncRunning;
  }

  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /** Everything up to `offset` counts as written and fsynced (a fresh or just-loaded AOF). */
  startAt(offset: number): void {
    this.writtenOffset = this.fsyncedOffset = this.pendingEnd = offset;
  }

  /** Drop the unwritten records (a recovery rewrite's new base holds them). */
  dropPending(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.writtenOffset = this.pendingEnd = this.log.offset;
  }

  /** Continue appending to the existing incr file `name` (after loading). */
  openExisting(name: string): void {
    this.fd = fs.openSync(path.join(this.manifest.dir, name), OPEN_FLAGS, 0o644);
    this.fileName = name;
    this.incrSize = this.fileEnd = fs.fstatSync(this.fd).size;
    this.framed = false;
  }

  /** Open a new incr file at the current log offset and record it in the manifest. */
  openNewIncr(): AofFile {
    const m = this.manifest;
    const f: AofFile = { name: m.incrName(m.nextSeq('i')), seq: m.nextSeq('i'), type: 'i' };
    const fd = fs.openSync(path.join(m.dir, f.name), OPEN_FLAGS, 0o644);
    this.closeFile();
    this.fd = fd;
    this.fileName = f.name;
    this.incrSize = this.fileEnd = fs.fstatSync(fd).size;
    this.framed = false;
    m.files.push(f);
    m.setStart(f.name, this.log.offset);
    this.log.resetSelectedDb();
    this.lastTsSecond = 0;
    m.persist();
    return f;
  }

  /** Close the open incr file, cutting off its padding (a crash leaves it: loaders skip it). */
  closeFile(): void {
    if (this.fd < 0) return;
    if (this.fileEnd > this.incrSize) {
      try {
        fs.ftruncateSync(this.fd, this.incrSize);
      } catch {
        /* comment lines: harmless where they stay */
      }
    }
    fs.closeSync(this.fd);
    this.fd = -1;
  }

  onLogData(chunk: Buffer, start: number): void {
    if (!this.on) return;
    if (this.annotate) {
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

  /**
   * Write what the log handed over since the last call. On failure the
   * file is cut back to its last good size (never half a record), the data
   * stays buffered for the retry, and false is returned.
   */
  writePending(): boolean {
    if (!this.on || this.fd < 0) return true;
    if (this.pendingBytes === 0) return this.lastWriteOk || this.retryFsyncOnly();
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    const started = performance.now();
    try {
      if (this.preallocate && this.policy === 'always') this.extendPadding(data.length);
      const at = this.incrSize;
      let bytes = data;
      let size = data.length;
      if (this.framed) ({ bytes, size } = frameGroup(data, at, this.fileEnd));
      writeAllAt(this.fd, bytes, at);
      this.incrSize = at + size;
      this.fileEnd = Math.max(this.fileEnd, at + bytes.length);
      this.onLatency?.('aof-write', performance.now() - started);
    } catch (e) {
      try {
        fs.ftruncateSync(this.fd, this.incrSize);
        this.fileEnd = this.incrSize;
      } catch {
        /* the retry cuts again */
      }
      this.writeFailed(e as Error);
      return false;
    }
    this.manifest.currentSize += data.length;
    this.pending = [];
    this.pendingBytes = 0;
    this.writtenOffset = this.pendingEnd;
    this.writeRecovered();
    return true;
  }

  /**
   * Keep at least PAD_LOW bytes of padding past the next `bytes` of records
   * (when less is left, extend it to PAD_AHEAD). The padding is written on
   * the event loop (a memory copy into the page cache, once per few MB)
   * and fsynced in the thread pool, so the group fsyncs find it on disk
   * already. A file that cannot grow (ENOSPC) keeps what it has: the
   * groups then extend it as appends do.
   */
  private extendPadding(bytes: number): void {
    if (this.fileEnd - this.incrSize >= bytes + PAD_LOW) return;
    const block = paddingBlock();
    const before = this.fileEnd;
    try {
      while (this.fileEnd < this.incrSize + bytes + PAD_AHEAD) {
        writeAllAt(this.fd, block, this.fileEnd);
        this.fileEnd += block.length;
      }
    } catch {
      try {
        fs.ftruncateSync(this.fd, before);
      } catch {
        /* a partial padding line at the end reads as a torn annotation */
      }
      this.fileEnd = before;
      return;
    }
    this.framed = true;
    fs.fdatasync(this.fd, () => {
      /* a group's fsync covers it otherwise */
    });
  }

  /** After a failed fsync with nothing left to write, success needs an fsync. */
  private retryFsyncOnly(): boolean {
    return this.syncNow();
  }

  writeRecovered(): void {
    // After lost files, only a finished recovery rewrite makes the AOF whole again.
    if (this.lastWriteOk || this.recovering) return;
    this.lastWriteOk = true;
    this.lastWriteError = '';
    this.logger.warn('AOF write error looks solved, Vireo can write again.');
  }

  /**
   * An AOF whose file (or directory) was deleted accepts writes that no
   * restart will ever see: treat it as a write error (MISCONF) until a
   * recovery rewrite has written new files.
   */
  checkFileStillThere(): void {
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
    const started = performance.now();
    try {
      fs.fdatasyncSync(this.fd);
    } catch (e) {
      this.writeFailed(e as Error);
      return false;
    } finally {
      this.lastFsyncMs = performance.now() - started;
    }
    if (this.policy === 'always') this.onLatency?.('aof-fsync-always', this.lastFsyncMs);
    this.fsynced(target);
    return true;
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
    const started = performance.now();
    fs.fdatasync(fd, (err) => {
      this.fsyncRunning = false;
      this.lastFsyncMs = performance.now() - started;
      // In the thread pool, not on the loop; under `always` it is what the held replies waited for.
      if (this.policy === 'always') this.onLatency?.('aof-fsync-always', this.lastFsyncMs);
      if (err) {
        this.writeFailed(err);
        done(false);
        return;
      }
      this.fsynced(target);
      done(true);
    });
  }

  /** The log is on disk up to `target`. */
  fsynced(target: number): void {
    this.lastFsyncAt = Date.now();
    if (target > this.fsyncedOffset) this.fsyncedOffset = target;
    this.writeRecovered();
    this.onFsync?.();
  }

  writeFailed(e: Error): void {
    if (this.lastWriteOk) this.logger.warn({ err: e }, 'Error writing to the AOF file');
    this.lastWriteOk = false;
    this.lastWriteError = strerror(e);
  }

  /** Write and fsync everything (shutdown, appendonly no). */
  flushAll(): boolean {
    if (!this.on || this.fd < 0) return true;
    return this.writePending() && this.syncNow();
  }
}

/** Write a whole buffer at `position` (handles short writes). */
function writeAllAt(fd: number, buf: Buffer, position: number): void {
  let off = 0;
  while (off < buf.length) off += fs.writeSync(fd, buf, off, buf.length - off, position + off);
}
