/**
 * The save worker: a thread that finishes background RDB files (BGSAVE,
 * an AOF rewrite's RDB base) for the main thread. It receives chunks whose
 * compressible strings are still plain (RdbOutput.deferLzf), compresses
 * them (lzf-spans.ts), keeps the CRC-64 over what it writes, writes in
 * order with an fdatasync every 4 MB (rdb-save-incremental-fsync), and
 * writes the trailer and the final fsync. LZF was 40% of a save's CPU on
 * the event loop. A job without a file (a diskless full sync) gets its
 * compressed bytes back instead, in order, for the replicas' sockets.
 *
 * Its priority is lowered (nice 10; on Linux setpriority of "process 0"
 * applies to the calling thread only): on a server given one core the
 * event loop then keeps the core, and the save takes the idle time. The
 * main thread never waits for this thread's work, only stops serializing
 * while too much of it is queued, so nothing here can hold a client.
 */

import fs from 'node:fs';
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { Crc64 } from './rdb/crc64.js';
import { compressSpans, spansOutputBytes } from './rdb/lzf-spans.js';
import { INCREMENTAL_FSYNC_BYTES } from './background-file.js';
import { packMessage, unpackMessage } from '../src/util/thread-messages.js';
import { SLOT_BYTES, SLOT_STRIDE, type FromSaveWorker, type SaveWorkerData, type SaveWorkerPost, type ToSaveWorker } from './save-worker-messages.js';

interface Job {
  /** -1: no file, the bytes go back to the main thread (a diskless full sync sends them to replicas). */
  fd: number;
  /** Where the next bytes go. */
  at: number;
  unsynced: number;
  incrementalFsync: boolean;
  crc: Crc64 | null;
  error: NodeJS.ErrnoException | null;
}

const port = parentPort!;
const { slots } = workerData as SaveWorkerData;
const jobs = new Map<number, Job>();
let out = Buffer.allocUnsafe(512 * 1024);
/** Bytes for the main thread (relayed jobs), a copy of their own for each chunk, posted with its 'written'. */
let relayed: Uint8Array | undefined;

try {
  os.setPriority(0, 10);
} catch {
  // Not allowed here (a container without the capability to renice): run at the same priority.
}

function reply(msg: FromSaveWorker, bytes?: Uint8Array): void {
  if (bytes === undefined) port.postMessage({ head: packMessage(msg) } satisfies SaveWorkerPost);
  else port.postMessage({ head: packMessage(msg), bytes } satisfies SaveWorkerPost, [bytes.buffer as ArrayBuffer]);
}

/** The relayed bytes made since the last call (none for a file job). */
function takeRelayed(): Uint8Array | undefined {
  const out = relayed;
  relayed = undefined;
  return out;
}

function fail(id: number, job: Job, e: unknown): void {
  const err = e as NodeJS.ErrnoException;
  if (job.error !== null) return;
  job.error = err;
  reply({ op: 'failed', job: id, message: err.message, code: err.code ?? null });
}

function writeOut(job: Job, bytes: Buffer, length: number): void {
  if (job.fd < 0) {
    job.crc?.update(bytes, 0, length);
    const copy = new Uint8Array(length);
    copy.set(bytes.subarray(0, length));
    relayed = copy;
    return;
  }
  let off = 0;
  while (off < length) off += fs.writeSync(job.fd, bytes, off, length - off, job.at + off);
  job.at += length;
  job.crc?.update(bytes, 0, length);
  job.unsynced += length;
  if (job.incrementalFsync && job.unsynced >= INCREMENTAL_FSYNC_BYTES) {
    job.unsynced = 0;
    fs.fdatasyncSync(job.fd);
  }
}

function chunk(id: number, job: Job, bytes: Buffer, spans: Int32Array): void {
  if (job.error !== null) return;
  try {
    if (spans.length === 0) {
      writeOut(job, bytes, bytes.length);
      return;
    }
    const need = spansOutputBytes(bytes.length);
    if (out.length < need) out = Buffer.allocUnsafe(Math.max(need, out.length * 2));
    const n = compressSpans(bytes, spans, out);
    writeOut(job, out, n);
    // A long value's scratch goes with it (the next save's chunks are small again).
    if (out.length > 4 * 1024 * 1024) out = Buffer.allocUnsafe(512 * 1024);
  } catch (e) {
    fail(id, job, e);
  }
}

function handle(post: SaveWorkerPost): void {
  const msg = unpackMessage(post.head) as ToSaveWorker;
  if (msg.op === 'open') {
    jobs.set(msg.job, { fd: msg.fd, at: 0, unsynced: 0, incrementalFsync: msg.incrementalFsync, crc: msg.checksum ? new Crc64() : null, error: null });
    return;
  }
  if (msg.op === 'drop') {
    jobs.delete(msg.job);
    reply({ op: 'dropped', job: msg.job });
    return;
  }
  const job = jobs.get(msg.job);
  if (job === undefined) return;
  switch (msg.op) {
    case 'chunk': {
      if (msg.slot >= 0) {
        const at = msg.slot * SLOT_STRIDE;
        chunk(msg.job, job, Buffer.from(slots, at, msg.length), new Int32Array(slots, at + SLOT_BYTES, msg.spans));
      } else {
        const bytes = post.bytes!;
        chunk(msg.job, job, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), post.spans!);
      }
      reply({ op: 'written', job: msg.job, bytes: msg.length, slot: msg.slot }, takeRelayed());
      return;
    }
    case 'end':
      if (job.error === null) {
        try {
          writeOut(job, job.crc !== null ? job.crc.digestLE() : Buffer.alloc(8), 8);
        } catch (e) {
          fail(msg.job, job, e);
        }
      }
      // The trailer of a relayed job goes back as the output of no input chunk.
      relay(msg.job);
      return;
    case 'finish': {
      let err = job.error;
      if (err === null && job.fd >= 0 && msg.fsync) {
        try {
          fs.fsyncSync(job.fd);
        } catch (e) {
          err = e as NodeJS.ErrnoException;
        }
      }
      reply({ op: 'finished', job: msg.job, message: err === null ? null : err.message, code: err?.code ?? null });
      return;
    }
  }
}

function relay(id: number): void {
  const bytes = takeRelayed();
  if (bytes !== undefined) reply({ op: 'written', job: id, bytes: 0, slot: -1 }, bytes);
}

port.on('message', handle);
