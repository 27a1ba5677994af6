/**
 * A file the thread pool writes while the main thread goes on serving
 * clients: a background snapshot (BGSAVE, BGREWRITEAOF) queues its chunks
 * here and they reach the disk in order through fs.writev on libuv's
 * threads, so the main thread pays a copy into the queue, not the disk.
 *
 * Like Redis' rdb-save-incremental-fsync, an fdatasync follows every 4 MB
 * written: dirty pages do not pile up in the page cache, and the final
 * fsync (also in the thread pool) has little left to flush. Measured with
 * 1M keys, a synchronous final fsync held the event loop for 35 ms.
 *
 * The descriptor is closed only when no write is in flight: closed under a
 * pending write, its number could be reused by another file and receive
 * the rest of this one's bytes.
 */

import fs from 'node:fs';

/** Bytes written between two fdatasyncs (Redis' REDIS_AUTOSYNC_BYTES). */
export const INCREMENTAL_FSYNC_BYTES = 4 * 1024 * 1024;
/** Queued bytes past which the snapshot waits for the disk (pace), and below which it goes on. */
const QUEUE_HIGH = 32 * 1024 * 1024;
const QUEUE_LOW = 8 * 1024 * 1024;

/** Queued chunks that go to one place in the file, one after the other. */
interface Run {
  at: number;
  bytes: number;
  bufs: Buffer[];
}

export class BackgroundFile implements JobFile {
  /** Runs of queued chunks, in file order; a writeNow() between two chunks starts a new run. */
  private queue: Run[] = [];
  /** Bytes queued or being written. */
  pending = 0;
  /** Bytes on disk (written, maybe not fsynced yet). */
  written = 0;
  /** Where the next chunk goes in the file: every chunk has its place, so writeNow() needs no wait for the queue. */
  private end = 0;
  /** A write or fsync is running in the thread pool. */
  private busy = false;
  private unsynced = 0;
  private error: Error | null = null;
  private closeWanted = false;
  private closed = false;
  private resume: (() => void) | null = null;
  private finisher: ((err: Error | null) => void) | null = null;
  /** Called with the chunks of each write that went out: their buffers may be reused. */
  onWritten: ((chunks: Buffer[]) => void) | null = null;

  constructor(
    readonly fd: number,
    /** fdatasync every INCREMENTAL_FSYNC_BYTES (rdb-save-incremental-fsync, aof-rewrite-incremental-fsync). */
    private readonly incrementalFsync: boolean,
  ) {}

  /**
   * Queue `chunk`, which the file keeps until it is written: the caller
   * must not change it. Throws the first write error, so a snapshot
   * writing here ends with it.
   */
  write(chunk: Buffer): void {
    if (this.error !== null) throw this.error;
    if (this.closeWanted) throw new Error('write to a closed background file');
    if (chunk.length === 0) return;
    const last = this.queue[this.queue.length - 1];
    if (last !== undefined && last.at + last.bytes === this.end) {
      last.bufs.push(chunk);
      last.bytes += chunk.length;
    } else {
      this.queue.push({ at: this.end, bytes: chunk.length, bufs: [chunk] });
    }
    this.end += chunk.length;
    this.pending += chunk.length;
    this.pump();
  }

  /**
   * Write `chunk` at its place in the file before returning, for bytes the
   * caller cannot hand over (a long value's own buffer, which a client may
   * change next): no copy of it is made. Throws the first write error.
   */
  writeNow(chunk: Buffer): void {
    if (this.error !== null) throw this.error;
    if (this.closeWanted) throw new Error('write to a closed background file');
    let off = 0;
    try {
      while (off < chunk.length) off += fs.writeSync(this.fd, chunk, off, chunk.length - off, this.end + off);
    } catch (e) {
      this.error = e as Error;
      throw e;
    }
    this.end += chunk.length;
    this.written += chunk.length;
    this.unsynced += chunk.length;
  }

  /** A Snapshot's pace: true while the disk is far behind, and `resume` is called once it caught up. */
  readonly pace = (resume: () => void): boolean => {
    if (this.pending < QUEUE_HIGH || this.error !== null) return false;
    this.resume = resume;
    return true;
  };

  /** Write out what is queued, fsync the file, then call `done` with the first error (or null). */
  finish(done: (err: Error | null) => void): void {
    this.finisher = done;
    this.pump();
  }

  /** Close the descriptor once no write is in flight (what is still queued is dropped). */
  close(): void {
    this.closeWanted = true;
    this.queue = [];
    this.pending = 0;
    this.wakeSnapshot();
    this.pump();
  }

  private wakeSnapshot(): void {
    const resume = this.resume;
    if (resume === null) return;
    this.resume = null;
    resume();
  }

  private pump(): void {
    if (this.busy || this.closed) return;
    if (this.closeWanted) {
      this.closed = true;
      fs.close(this.fd, () => {});
      return;
    }
    if (this.error === null && this.queue.length > 0) {
      this.writeQueued();
      return;
    }
    const done = this.finisher;
    if (done === null) return;
    this.finisher = null;
    if (this.error !== null) {
      done(this.error);
      return;
    }
    this.busy = true;
    fs.fsync(this.fd, (err) => {
      this.busy = false;
      done(err);
      this.pump();
    });
  }

  private writeQueued(): void {
    const { at, bytes, bufs } = this.queue.shift()!;
    this.busy = true;
    // libuv writes every buffer (it loops over short writes) or fails.
    fs.writev(this.fd, bufs, at, (err, n) => {
      this.busy = false;
      if (this.closeWanted) {
        this.pump();
        return;
      }
      this.pending -= bytes;
      if (err === null && n !== bytes) err = Object.assign(new Error(`short write: ${n} of ${bytes} bytes`), { code: 'EIO' });
      if (err !== null) {
        this.error ??= err;
        this.queue = [];
        this.pending = 0;
      } else {
        this.written += n;
        this.unsynced += n;
        this.onWritten?.(bufs);
      }
      if (this.pending < QUEUE_LOW || this.error !== null) this.wakeSnapshot();
      if (this.error === null && this.incrementalFsync && this.unsynced >= INCREMENTAL_FSYNC_BYTES) {
        this.unsynced = 0;
        this.busy = true;
        fs.fdatasync(this.fd, (e) => {
          this.busy = false;
          if (e !== null) this.error ??= e;
          this.pump();
        });
        return;
      }
      this.pump();
    });
  }
}

/** What a background job writes its file through: a BackgroundFile, or the save worker's WorkerFile. */
export interface JobFile {
  /** A Snapshot's pace (SnapshotOptions.pace). */
  readonly pace: (resume: () => void) => boolean;
  /** Once everything queued is written and fsynced, `done` with the first error. */
  finish(done: (err: Error | null) => void): void;
  /** Close the descriptor once no write is in flight. */
  close(): void;
}

/** A background job's temp file: its descriptor, and what writes it (null when writes are synchronous or it is closed). */
export interface TempFile {
  fd: number;
  file: JobFile | null;
}

/** Close a job's temp file: through its BackgroundFile (after any write in flight), or at once. */
export function closeTempFile(job: TempFile): void {
  if (job.file !== null) job.file.close();
  else if (job.fd >= 0) fs.closeSync(job.fd);
  job.file = null;
  job.fd = -1;
}
