/**
 * Socket I/O without Node's stream layer. A net.Socket moves every read
 * through Readable (push, 'data' events) and every write through Writable
 * (buffering state, a nextTick per write); for a server answering one small
 * command per read that machinery costs more CPU than the command. Here the
 * libuv stream handle is used directly, as Node's own net module does:
 * reads land in one shared buffer and arrive in `onread` (the `onread`
 * option of net.Socket works the same way), replies go out with
 * writeBuffer / writev, and
 * libuv keeps the write order (a write only tries the socket at once when
 * nothing is queued before it).
 *
 * This relies on Node's stream_wrap binding (stable across Node 12-22). If
 * it is not there, or a socket has no such handle, the caller keeps the
 * ordinary stream API.
 */

import type { Socket } from 'node:net';
import { LowWaterWait, type ClientIo } from './client-io.js';
import { Spill } from './spill.js';

interface WriteReq {
  handle: StreamHandle;
  oncomplete: (status: number) => void;
  async: boolean;
  bytes: number;
  buffer: Buffer | Buffer[] | null;
}

interface StreamHandle {
  useUserBuffer(buf: Buffer): void;
  writeBuffer(req: WriteReq, data: Buffer): number;
  writev(req: WriteReq, chunks: Buffer[], allBuffers: boolean): number;
  readStart(): number;
  readStop(): number;
  onread: ((buf: ArrayBuffer) => void) | null;
}

interface StreamWrapBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

const binding: StreamWrapBinding | null = (() => {
  try {
    const b = (process as unknown as { binding(name: string): StreamWrapBinding }).binding('stream_wrap');
    if (typeof b.WriteWrap !== 'function' || !(b.streamBaseState instanceof Int32Array)) return null;
    return b;
  } catch {
    return null;
  }
})();

/**
 * Every socket reads into this one buffer (no allocation per read): the
 * data is consumed synchronously in onData, and whatever a client has not
 * parsed yet is copied out by the caller (RequestParser.detach).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);
/**
 * Where a client's partial command and its next read are joined (the
 * parser's feed scratch): every client parses and detaches within one
 * callback, so one buffer serves them all, as READ_BUFFER does.
 */
export const JOIN_BUFFER = Buffer.allocUnsafe(128 * 1024);

/**
 * Views of READ_BUFFER by length, made once: creating a Buffer view costs
 * about as much as parsing a short command, and small reads repeat the
 * same few lengths.
 */
const READ_VIEWS: (Buffer | undefined)[] = new Array(4097);

function readView(n: number): Buffer {
  if (n >= READ_VIEWS.length) return READ_BUFFER.subarray(0, n);
  let v = READ_VIEWS[n];
  if (v === undefined) READ_VIEWS[n] = v = READ_BUFFER.subarray(0, n);
  return v;
}

/** Backlogged chunks up to this size are copied (spill.ts); larger ones wait as they are. */
const SPILL_COPY_MAX = 2048;

/** writeNow copies more than SMALL_CHUNKS chunks averaging under SMALL_CHUNK_BYTES into one buffer. */
const SMALL_CHUNKS = 4;
const SMALL_CHUNK_BYTES = 1024;
const GATHER_BYTES = 16 * 1024;

/** Pause reading while this many written bytes wait for the socket. */
const HIGH_WATER = 64 * 1024 * 1024;

export class DirectIo implements ClientIo {
  /** Bytes handed to libuv that the kernel has not taken yet. */
  pendingBytes = 0;
  /** Writes queued in libuv (CLIENT LIST oll). */
  pendingWrites = 0;
  private readingPaused = false;
  /** Reading stopped by the owner (an I/O thread's flow control), apart from the output high water. */
  private readingHeld = false;
  private spareReq: WriteReq | null = null;
  /** Where many small chunks are copied into one write (reused while writes complete at once). */
  private gatherBuf: Buffer | null = null;
  /**
   * Output gathered while libuv still has writes queued for this socket
   * (a subscriber reading slower than messages arrive): libuv would queue
   * each later write too, one request object per call, so they wait here
   * and go out in one writev once the queue drains (as Redis appends to a
   * client's buffer and writes it when the socket is writable).
   */
  private backlog: Buffer[] = [];
  private backlogBytes = 0;
  /** Where small chunks that join the backlog are copied (made while the backlog lasts). */
  private spill: Spill | null = null;
  /** end() was called while output was gathered: shut down once it is written. */
  private endAfterBacklog = false;
  /** Called after each write libuv completes (an I/O thread reports what went out). */
  onProgress: (() => void) | null = null;
  /** Called once pendingBytes falls below a mark (a streamed reply continues). */
  private readonly lowWater = new LowWaterWait();
  private readonly onComplete: (this: WriteReq, status: number) => void;

  private constructor(
    private readonly socket: Socket,
    private readonly handle: StreamHandle,
    private readonly b: StreamWrapBinding,
    onData: (chunk: Buffer) => void,
  ) {
    const state = b.streamBaseState;
    const kRead = b.kReadBytesOrError;
    handle.useUserBuffer(READ_BUFFER);
    handle.onread = () => {
      const n = state[kRead]!;
      if (n > 0) {
        onData(readView(n));
        return;
      }
      // EOF or a read error: close like net.Socket does ('close' follows).
      if (n < 0) socket.destroy();
    };
    const io = this;
    this.onComplete = function (this: WriteReq) {
      io.pendingBytes -= this.bytes;
      io.pendingWrites--;
      this.buffer = null;
      if (io.pendingWrites === 0 && (io.backlog.length > 0 || io.spill?.open === true)) io.writeBacklog();
      io.lowWater.check(io.pendingBytes);
      io.onProgress?.();
      if (io.readingPaused && io.pendingBytes < HIGH_WATER / 2) {
        io.readingPaused = false;
        if (!socket.destroyed && !io.readingHeld) handle.readStart();
      }
    };
  }

  /**
   * Take over a connected socket's I/O, or null to keep the stream API.
   * A TLS socket's handle (TLSWrap) has the same methods but its reads and
   * writes are the TLS layer's: it keeps the stream API.
   */
  static attach(socket: Socket, onData: (chunk: Buffer) => void): DirectIo | null {
    if ((socket as Socket & { encrypted?: boolean }).encrypted === true) return null;
    const handle = (socket as unknown as { _handle: StreamHandle | null })._handle;
    if (binding === null || handle === null || typeof handle.writeBuffer !== 'function' || typeof handle.writev !== 'function' || typeof handle.useUserBuffer !== 'function') return null;
    return new DirectIo(socket, handle, binding, onData);
  }

  /** Call `cb` once fewer than `bytes` wait for the socket (now, if that is already so). */
  onLowWater(bytes: number, cb: () => void): void {
    this.lowWater.arm(this.pendingBytes, bytes, cb);
  }

  /** Write chunks in order; returns false if the socket is gone. */
  write(chunks: Buffer[]): boolean {
    if (this.socket.destroyed) return false;
    if (this.pendingWrites > 0) {
      let bytes = 0;
      for (const c of chunks) {
        if (c.length <= SPILL_COPY_MAX) (this.spill ??= new Spill()).copy(c, this.backlog);
        else {
          this.spill?.close(this.backlog);
          this.backlog.push(c);
        }
        bytes += c.length;
      }
      this.backlogBytes += bytes;
      this.pendingBytes += bytes;
      this.pauseReadingIfFull();
      return true;
    }
    return this.writeNow(chunks);
  }

  /** Shut the socket down for writing once everything written so far has gone out. */
  end(): void {
    this.spill?.close(this.backlog);
    if (this.backlog.length > 0) this.endAfterBacklog = true;
    else this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /** Stop reading (true) or read again (false), whatever the output high water says meanwhile. */
  holdReading(hold: boolean): void {
    if (this.readingHeld === hold || this.socket.destroyed) return;
    this.readingHeld = hold;
    if (hold) this.handle.readStop();
    else if (!this.readingPaused) this.handle.readStart();
  }

  /** libuv's queue drained: hand it what gathered meanwhile, in one call. */
  private writeBacklog(): void {
    this.spill?.close(this.backlog);
    const chunks = this.backlog;
    const bytes = this.backlogBytes;
    this.backlog = [];
    this.backlogBytes = 0;
    this.pendingBytes -= bytes;
    const written = this.writeNow(chunks);
    // Caught up with the client: a later backlog starts again from a small spill.
    if (this.pendingWrites === 0) this.spill = null;
    if (written && this.endAfterBacklog && this.backlog.length === 0) {
      this.endAfterBacklog = false;
      this.socket.end();
    }
  }

  private writeNow(chunks: Buffer[]): boolean {
    // libuv only takes the request object when the write cannot complete at
    // once; until then one object serves every write of this socket.
    let req = this.spareReq;
    if (req === null) {
      req = new this.b.WriteWrap();
      req.handle = this.handle;
      req.oncomplete = this.onComplete;
      req.async = false;
      req.bytes = 0;
      req.buffer = null;
      this.spareReq = req;
    }
    let bytes = 0;
    for (const c of chunks) bytes += c.length;
    // Many small chunks (Pub/Sub frames, one per message) cost more as iovec
    // entries, each fetched from the array by the binding, than copied once.
    const gathered = chunks.length > SMALL_CHUNKS && bytes <= GATHER_BYTES && bytes < chunks.length * SMALL_CHUNK_BYTES ? this.gather(chunks, bytes) : null;
    // One buffer to write (the gathered copy, or the only chunk), or null for a writev.
    const one = gathered ?? (chunks.length === 1 ? chunks[0]! : null);
    const err = one !== null ? this.handle.writeBuffer(req, one) : this.handle.writev(req, chunks, true);
    if (err !== 0) {
      this.socket.destroy();
      return false;
    }
    if (this.b.streamBaseState[this.b.kLastWriteWasAsync]) {
      // Queued in libuv: the request is libuv's now; keep the data alive
      // (the caller reuses its array) and count it until oncomplete.
      this.spareReq = null;
      req.bytes = bytes;
      // libuv holds the gather buffer now: the next gather takes a new one.
      if (gathered !== null) this.gatherBuf = null;
      req.buffer = one ?? chunks.slice();
      this.pendingBytes += bytes;
      this.pendingWrites++;
      this.pauseReadingIfFull();
    }
    return true;
  }

  /** Copy `chunks` (`bytes` in all) into this socket's gather buffer; returns the filled part. */
  private gather(chunks: Buffer[], bytes: number): Buffer {
    let buf = this.gatherBuf;
    if (buf === null) this.gatherBuf = buf = Buffer.allocUnsafeSlow(GATHER_BYTES);
    let at = 0;
    for (const c of chunks) {
      buf.set(c, at);
      at += c.length;
    }
    return buf.subarray(0, bytes);
  }

  /** A client that does not read its replies stops being read (Redis would close it at its output limit). */
  private pauseReadingIfFull(): void {
    if (!this.readingPaused && this.pendingBytes > HIGH_WATER) {
      this.readingPaused = true;
      this.handle.readStop();
    }
  }
}
