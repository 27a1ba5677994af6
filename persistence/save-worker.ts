/**
 * The main thread's side of the save worker (save-worker-thread.ts): a
 * background RDB file (BGSAVE, an AOF rewrite's RDB base) whose chunks the
 * worker compresses, checksums and writes. It stands where BackgroundFile
 * stands for files written as they are: the same pace, finish and close.
 *
 * One worker serves every save of the process; it starts with the first
 * background save (about 100 ms, off the event loop) and stops after
 * IDLE_MS without one, giving back its 12 MB or so of memory; it never
 * keeps the process alive. A worker that dies fails the saves it held,
 * and the next save starts another one.
 */

import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { DeferredRdbSink } from './rdb/file.js';
import {
  SLOTS,
  SLOT_BYTES,
  SLOT_SPAN_INTS,
  SLOT_STRIDE,
  type FromSaveWorker,
  type SaveWorkerData,
  type SaveWorkerPost,
  type ToSaveWorker,
} from './save-worker-messages.js';
import { builtScript } from '../src/util/built-script.js';
import { packMessage, unpackMessage } from '../src/util/thread-messages.js';

/** Background RDB files (and full syncs) go through the save worker; VIREO_SAVE_WORKER=0 keeps compression on the event loop (for comparison). */
export const SAVE_WORKER = process.env.VIREO_SAVE_WORKER !== '0';

/** Bytes in flight past which the snapshot waits for the worker (pace), and below which it goes on (as BackgroundFile). */
const QUEUE_HIGH = 32 * 1024 * 1024;
const QUEUE_LOW = 8 * 1024 * 1024;
/** Free slots below which the snapshot waits, and from which it goes on. */
const SLOTS_LOW = 4;
const SLOTS_RESUME = SLOTS / 2;

/** A worker with no save to do for this long stops. */
const IDLE_MS = 30_000;

interface Running {
  worker: Worker;
  slots: SharedArrayBuffer;
  free: number[];
  /** Stops the worker once no save has used it for IDLE_MS. */
  idle: NodeJS.Timeout | null;
}

let running: Running | null = null;
let nextJob = 1;
const files = new Map<number, WorkerFile>();

function start(): Running {
  const slots = new SharedArrayBuffer(SLOTS * SLOT_STRIDE);
  const worker = new Worker(builtScript(import.meta.url, 'save-worker-thread'), { workerData: { slots } satisfies SaveWorkerData });
  worker.unref();
  const r: Running = { worker, slots, free: Array.from({ length: SLOTS }, (_, i) => SLOTS - 1 - i), idle: null };
  worker.on('message', (post: SaveWorkerPost) => {
    const msg = unpackMessage(post.head) as FromSaveWorker;
    if (msg.op === 'written' && msg.slot >= 0) r.free.push(msg.slot);
    files.get(msg.job)?.receive(msg, post.bytes);
    // A freed slot may be what another save waits for.
    if (msg.op === 'written') for (const f of files.values()) f.maybeResume();
  });
  const died = (e: Error): void => {
    if (running !== r) return;
    running = null;
    for (const f of [...files.values()]) f.lost(e);
  };
  worker.on('error', died);
  worker.on('exit', (code) => died(new Error(`the save worker exited (code ${code})`)));
  return r;
}

/** A job ended: with none left, stop the worker once it has been idle for IDLE_MS. */
function jobEnded(): void {
  const r = running;
  if (r === null || files.size > 0) return;
  if (r.idle !== null) clearTimeout(r.idle);
  r.idle = setTimeout(() => {
    if (running !== r || files.size > 0) return;
    running = null;
    void r.worker.terminate();
  }, IDLE_MS);
  r.idle.unref();
}

/** Stop the worker as if it had died (tests: the saves it held fail, the next one starts another). */
export async function killSaveWorker(): Promise<void> {
  await running?.worker.terminate();
}

function post(msg: ToSaveWorker, bytes?: Uint8Array, spans?: Int32Array): void {
  const r = (running ??= start());
  const head = packMessage(msg);
  if (bytes === undefined || spans === undefined) {
    r.worker.postMessage({ head } satisfies SaveWorkerPost);
    return;
  }
  r.worker.postMessage({ head, bytes, spans } satisfies SaveWorkerPost, [bytes.buffer as ArrayBuffer, spans.buffer as ArrayBuffer]);
}

function errnoError(message: string, code: string | null): NodeJS.ErrnoException {
  const e: NodeJS.ErrnoException = new Error(message);
  if (code !== null) e.code = code;
  return e;
}

export class WorkerFile implements DeferredRdbSink {
  private readonly job = nextJob++;
  /** Bytes posted that the worker has not reported handled. */
  pending = 0;
  private error: Error | null = null;
  private closed = false;
  private resume: (() => void) | null = null;
  private finisher: ((err: Error | null) => void) | null = null;

  /** A job without a file: its output, in order (the RDB's bytes, trailer included). */
  onOutput: ((bytes: Buffer) => void) | null = null;

  /**
   * The worker writes `fd` from here on, and close() closes it once the
   * worker is done with it; fd null: no file, the output comes to onOutput.
   */
  constructor(
    private readonly fd: number | null,
    incrementalFsync: boolean,
    checksum: boolean,
  ) {
    const r = (running ??= start());
    if (r.idle !== null) {
      clearTimeout(r.idle);
      r.idle = null;
    }
    files.set(this.job, this);
    post({ op: 'open', job: this.job, fd: fd ?? -1, incrementalFsync, checksum });
  }

  /** A chunk and its spans, copied into a free slot; throws the first failure, so the snapshot writing here ends with it. */
  chunk(bytes: Buffer, spans: Int32Array): void {
    this.check();
    if (bytes.length === 0) return;
    const r = (running ??= start());
    const slot = bytes.length <= SLOT_BYTES && spans.length <= SLOT_SPAN_INTS ? r.free.pop() : undefined;
    this.pending += bytes.length;
    if (slot === undefined) {
      // Larger than a slot, or every slot in use: a copy of its own goes beside the message.
      const copy = Buffer.from(new ArrayBuffer(bytes.length));
      bytes.copy(copy);
      post({ op: 'chunk', job: this.job, slot: -1, length: bytes.length, spans: spans.length }, copy, spans.slice());
      return;
    }
    const at = slot * SLOT_STRIDE;
    new Uint8Array(r.slots, at, bytes.length).set(bytes);
    new Int32Array(r.slots, at + SLOT_BYTES, spans.length).set(spans);
    post({ op: 'chunk', job: this.job, slot, length: bytes.length, spans: spans.length });
  }

  /** A long value's own chunk: handed over as it is. */
  long(bytes: Buffer, spans: Int32Array): void {
    this.check();
    this.pending += bytes.length;
    const own = bytes.byteOffset === 0 && bytes.buffer.byteLength > Buffer.poolSize;
    const sent = own ? bytes : Buffer.from(bytes);
    post({ op: 'chunk', job: this.job, slot: -1, length: sent.length, spans: spans.length }, sent, spans);
  }

  private check(): void {
    if (this.error !== null) throw this.error;
    if (this.closed) throw new Error('write to a closed background file');
  }

  end(): void {
    this.check();
    post({ op: 'end', job: this.job });
  }

  /** A Snapshot's pace: true while the worker is far behind, and `resume` is called once it caught up. */
  readonly pace = (resume: () => void): boolean => {
    if (this.error !== null) return false;
    if (this.pending < QUEUE_HIGH && (running === null || running.free.length >= SLOTS_LOW)) return false;
    this.resume = resume;
    return true;
  };

  /** Once everything posted is written and fsynced (unless `fsync` is false), call `done` with the first error (or null). */
  finish(done: (err: Error | null) => void, fsync = true): void {
    if (this.closed) {
      // Lost with its worker (or closed): there is nothing left to finish.
      const err = this.error ?? new Error('finish of a closed background file');
      setImmediate(() => done(err));
      return;
    }
    this.finisher = done;
    post({ op: 'finish', job: this.job, fsync });
  }

  /**
   * Close the descriptor once the worker has dropped the job (after what is
   * in flight): the main thread opened it, so the main thread closes it.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.pending = 0;
    this.wake();
    post({ op: 'drop', job: this.job });
  }

  receive(msg: FromSaveWorker, bytes: Uint8Array | undefined): void {
    if (msg.op === 'written') {
      this.pending -= msg.bytes;
      if (bytes !== undefined && !this.closed) this.onOutput?.(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    } else if (msg.op === 'dropped') {
      files.delete(this.job);
      this.closeFd();
      jobEnded();
    } else if (msg.op === 'failed') {
      this.error ??= errnoError(msg.message, msg.code);
      this.wake();
    } else {
      const done = this.finisher;
      this.finisher = null;
      done?.(msg.message === null ? null : errnoError(msg.message, msg.code));
    }
  }

  /** Resume a paused snapshot once the worker has caught up. */
  maybeResume(): void {
    if (this.resume === null) return;
    if (this.pending < QUEUE_LOW && (running === null || running.free.length >= SLOTS_RESUME)) this.wake();
  }

  /** The worker died: whatever it held of this file is lost. */
  lost(e: Error): void {
    this.error ??= e;
    files.delete(this.job);
    this.closeFd();
    this.closed = true;
    this.wake();
    const done = this.finisher;
    this.finisher = null;
    done?.(this.error);
  }

  private closeFd(): void {
    if (this.fd !== null) fs.close(this.fd, () => {});
  }

  private wake(): void {
    const resume = this.resume;
    if (resume === null) return;
    this.resume = null;
    resume();
  }
}
