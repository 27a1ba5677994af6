/**
 * The main thread's side of the I/O threads (io-threads N starts N - 1 of
 * them; the main thread is the Nth, as in Redis). Each I/O thread owns the
 * sockets it accepts; the main thread keeps one Client per connection and
 * runs every command, so the command log keeps one order. Bytes cross in
 * two SharedArrayBuffer rings per thread (ring.ts): reads come up, batched
 * per event-loop turn; replies go down, published once per main-thread turn.
 *
 * A listening socket is bound on the main thread (Listeners: the same
 * errors, port 0, rebinding), then each I/O thread listens on its own
 * dup(2) of it and the main thread's copy is closed: the kernel hands each
 * new connection to one of the threads waiting in accept.
 */

import fs from 'node:fs';
import net from 'node:net';
import { Worker } from 'node:worker_threads';
import { Kind, Ring, createRing } from './ring.js';
import type { ConnectionInfo, FromWorker, ToWorker } from './messages.js';
import { packMessage, unpackMessage } from '../../util/thread-messages.js';
import { LowWaterWait, type ClientIo } from '../client-io.js';
import type { Listening } from '../listeners.js';
import { addonFunction } from '../../scripting/lua-addon.js';
import { builtScript } from '../../util/built-script.js';
import { KeyPeek } from '../../protocol/key-peek.js';
import { PREFETCH_MAX } from '../../engine/string-store.js';

/** Bytes of each ring (one each way per I/O thread). */
const RING_BYTES = 4 * 1024 * 1024;
/**
 * Input taken from a thread's ring per main-thread turn: a read of cheap
 * commands can make a hundred times its size in replies, which must go out
 * (and other threads' input come in) before the next.
 */
const DRAIN_BUDGET = 256 * 1024;

/** What the server does with the I/O threads' connections. */
export interface ThreadedConnections {
  /** A connection was accepted: its handler, or null when it is refused (the io is ended by then). */
  open(info: ConnectionInfo, io: ThreadIo): ThreadedConnection | null;
  /** Keys read ahead together at most (prefetch-batch-max-size; below 2: none). */
  prefetchBatch(): number;
}

export interface ThreadedConnection {
  /** Bytes read; a view into the ring, valid only during the call. */
  onData(chunk: Buffer): void;
  onClose(): void;
  /**
   * Where the first key of the bytes it gets next is worth reading ahead
   * (the keyspace its next command uses), or null: not at a command's start,
   * or nothing to gain there.
   */
  readAheadTarget(): ReadAheadTarget | null;
}

/** A keyspace, as the read-ahead across connections uses it (Db.prefetch). */
export interface ReadAheadTarget {
  prefetch(buf: Uint8Array, ranges: Int32Array, n: number, hashes: Int32Array, slots: Int32Array): void;
}

/** Stop reading a connection while this much of its output waits (as DirectIo does), read again below half. */
const READ_PAUSE_BYTES = 64 * 1024 * 1024;

/** One connection's output path through its I/O thread (Client.io). */
export class ThreadIo implements ClientIo {
  /** Bytes sent down that the I/O thread has not reported written. */
  pendingBytes = 0;
  private state: 'open' | 'ending' | 'destroyed' = 'open';
  private readingPaused = false;
  private readonly lowWater = new LowWaterWait();

  constructor(
    private readonly thread: IoThread,
    readonly conn: number,
  ) {}

  get pendingWrites(): number {
    return this.pendingBytes > 0 ? 1 : 0;
  }

  write(chunks: Buffer[]): boolean {
    if (this.state !== 'open') return false;
    this.thread.pool.writesProcessed++;
    for (const c of chunks) {
      this.pendingBytes += c.length;
      this.thread.send(this.conn, Kind.Data, c);
    }
    if (!this.readingPaused && this.pendingBytes > READ_PAUSE_BYTES) {
      // A client that does not read its replies stops being read (Redis would close it at its output limit).
      this.readingPaused = true;
      this.thread.send(this.conn, Kind.Pause, null);
    }
    return true;
  }

  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ending';
    this.thread.send(this.conn, Kind.End, null);
    this.thread.detach(this.conn);
  }

  destroy(): void {
    if (this.state === 'destroyed') return;
    this.state = 'destroyed';
    // What still waits for the ring is dropped here, not carried to the thread.
    this.thread.discard(this.conn);
    this.thread.send(this.conn, Kind.Destroy, null);
    this.thread.detach(this.conn);
  }

  onLowWater(bytes: number, cb: () => void): void {
    this.lowWater.arm(this.pendingBytes, bytes, cb);
  }

  /** The I/O thread wrote `n` more bytes to the socket. */
  written(n: number): void {
    this.pendingBytes -= n;
    if (this.readingPaused && this.pendingBytes < READ_PAUSE_BYTES / 2 && this.state === 'open') {
      this.readingPaused = false;
      this.thread.send(this.conn, Kind.Resume, null);
    }
    this.lowWater.check(this.pendingBytes);
  }
}

interface Live {
  io: ThreadIo;
  handler: ThreadedConnection | null;
}

/** One I/O thread, seen from the main thread. */
class IoThread {
  readonly worker: Worker;
  private readonly up: Ring;
  private readonly down: Ring;
  /** Messages that found no room in the down ring yet, in order. */
  private backlog: { conn: number; kind: Kind; bytes: Buffer | null }[] = [];
  private publishQueued = false;
  private stopped = false;
  private readonly conns = new Map<number, Live>();
  private readonly replies = new Map<string, (m: FromWorker) => void>();
  /** Settles once the thread runs (it announces itself). */
  readonly ready: Promise<unknown>;

  constructor(
    readonly index: number,
    threads: number,
    readonly pool: IoThreads,
  ) {
    const up = createRing(RING_BYTES);
    const down = createRing(RING_BYTES);
    this.up = new Ring(up);
    this.down = new Ring(down);
    this.worker = new Worker(builtScript(import.meta.url, 'worker'), { workerData: { index, threads, up, down } });
    this.worker.on('message', (raw: Uint8Array) => {
      const m = unpackMessage(raw) as FromWorker;
      const key = 'id' in m ? `${m.op}:${m.id}` : m.op;
      const waiter = this.replies.get(key);
      if (waiter !== undefined) {
        this.replies.delete(key);
        waiter(m);
      }
    });
    this.ready = new Promise((resolve) => this.replies.set('ready', resolve));
    // A thread that dies (a bug in it) takes its connections with it; the server goes on.
    this.worker.on('error', (e) => pool.failed(this, e));
    this.worker.on('exit', () => this.died());
    void this.readLoop();
  }

  control(msg: ToWorker, expect: string | null): Promise<FromWorker | null> {
    if (this.stopped) return Promise.resolve(null);
    this.worker.postMessage(packMessage(msg));
    if (expect === null) return Promise.resolve(null);
    return new Promise((resolve) => this.replies.set(expect, resolve));
  }

  /** Queue a message to the thread; it goes with this turn's batch. */
  send(conn: number, kind: Kind, bytes: Buffer | null): void {
    if (bytes !== null && bytes.length > this.down.maxPayload) {
      // Larger than a ring message may be: in pieces (views, no copy).
      const step = this.down.maxPayload;
      for (let at = 0; at < bytes.length; at += step) this.send(conn, kind, bytes.subarray(at, Math.min(bytes.length, at + step)));
      return;
    }
    if (this.backlog.length > 0 || !this.down.push(conn, kind, bytes)) this.backlog.push({ conn, kind, bytes });
    if (!this.publishQueued) {
      this.publishQueued = true;
      queueMicrotask(this.publish);
    }
  }

  /** The connection was closed by the server: its input is no longer wanted, its Client no longer held. */
  detach(conn: number): void {
    const live = this.conns.get(conn);
    if (live !== undefined) live.handler = null;
  }

  /** Drop the messages for `conn` that wait for room in the ring (it is being destroyed). */
  discard(conn: number): void {
    if (this.backlog.length === 0) return;
    const kept = this.backlog.filter((m) => m.conn !== conn);
    const live = this.conns.get(conn);
    if (live !== undefined) for (const m of this.backlog) if (m.conn === conn && m.kind === Kind.Data) live.io.written(m.bytes!.length);
    this.backlog = kept;
  }

  private readonly publish = (): void => {
    this.publishQueued = false;
    while (this.backlog.length > 0) {
      const m = this.backlog[0]!;
      if (!this.down.push(m.conn, m.kind, m.bytes)) break;
      this.backlog.shift();
    }
    this.down.publish(true);
    // The thread is behind: try again once it has drained some.
    if (this.backlog.length > 0 && !this.stopped) {
      this.publishQueued = true;
      setTimeout(this.publish, 1);
    }
  };

  private readonly onMessage = (conn: number, kind: Kind, bytes: Buffer | null, len: number): void => {
    switch (kind) {
      case Kind.Data: {
        const live = this.conns.get(conn);
        if (live?.handler != null) {
          this.pool.readsProcessed++;
          live.handler.onData(bytes!);
        }
        break;
      }
      case Kind.Written:
        this.conns.get(conn)?.io.written(len);
        break;
      case Kind.Open: {
        const info = unpackMessage(bytes!) as ConnectionInfo;
        const io = new ThreadIo(this, conn);
        const live: Live = { io, handler: null };
        this.conns.set(conn, live);
        live.handler = this.pool.host.open(info, io);
        break;
      }
      case Kind.Closed: {
        const live = this.conns.get(conn);
        this.conns.delete(conn);
        live?.handler?.onClose();
        break;
      }
    }
  };

  /**
   * Read ahead the first key of every connection's input in the coming
   * drain, across connections, in batches of prefetch-batch-max-size (as
   * Valkey 8 batches the commands its I/O threads hand over). A client
   * sending one command at a time (-P 1) has no pipeline of its own to read
   * ahead in (Client.prefetchAhead), but a drain carries one command each
   * from many clients: their lookups' cache misses then overlap instead of
   * coming one per command. Reading ahead only warms the cache; a guess
   * that is no key costs a wasted probe.
   */
  private readAhead(): void {
    const batch = Math.min(this.pool.host.prefetchBatch(), PREFETCH_MAX);
    if (batch < 2) return;
    this.aheadLimit = batch;
    this.up.peek(this.noteFirstKey, DRAIN_BUDGET);
    this.flushAhead();
  }

  /** Off once reading ahead failed: it only warms the cache, and must never keep a drain from running. */
  private readingAhead = true;

  private readAheadSafely(): void {
    try {
      this.readAhead();
    } catch (e) {
      this.readingAhead = false;
      this.aheadKeys = 0;
      this.aheadTarget = null;
      this.pool.onError(e);
    }
  }

  private readonly firstKey = new KeyPeek(1);
  private readonly ahead = new KeyPeek(PREFETCH_MAX);
  private aheadKeys = 0;
  private aheadLimit = 0;
  private aheadTarget: ReadAheadTarget | null = null;

  private readonly noteFirstKey = (conn: number, kind: Kind, start: number, length: number): void => {
    if (kind !== Kind.Data) return;
    const target = this.conns.get(conn)?.handler?.readAheadTarget() ?? null;
    if (target === null) return;
    const first = this.firstKey;
    first.scan(this.up.data, start, 1, start + length);
    if (first.keys === 0) return;
    // One batch per keyspace (clients of other databases start their own).
    if (target !== this.aheadTarget || this.aheadKeys === this.aheadLimit) this.flushAhead();
    this.aheadTarget = target;
    const k = this.aheadKeys++;
    this.ahead.ranges[2 * k] = first.ranges[0]!;
    this.ahead.ranges[2 * k + 1] = first.ranges[1]!;
  };

  private flushAhead(): void {
    const a = this.ahead;
    // One key alone has no other miss to overlap with.
    if (this.aheadKeys > 1) {
      this.aheadTarget!.prefetch(this.up.data, a.ranges, this.aheadKeys, a.hashes, a.slots);
      this.pool.prefetchBatches++;
      this.pool.prefetchEntries += this.aheadKeys;
    }
    this.aheadKeys = 0;
    this.aheadTarget = null;
  }

  private async readLoop(): Promise<void> {
    while (!this.stopped) {
      const seen = this.up.wakeCount;
      if (this.readingAhead) this.readAheadSafely();
      try {
        this.up.drain(this.onMessage, DRAIN_BUDGET);
      } catch (e) {
        // A handler's bug (they catch their own): the ring has moved past that message.
        this.pool.onError(e);
      }
      if (this.up.more) {
        // Let this batch's replies go out (and other threads' input in) before the next.
        await new Promise((r) => setImmediate(r));
        continue;
      }
      await this.up.sleep(seen);
    }
  }

  /** The thread is gone (stopped, or failed): its connections are closed, waiters released. */
  get alive(): boolean {
    return !this.stopped;
  }

  private died(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.up.wake();
    for (const waiter of this.replies.values()) waiter({ op: 'stopped' });
    this.replies.clear();
    const lost = [...this.conns.values()];
    this.conns.clear();
    for (const live of lost) live.handler?.onClose();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    // Let this turn's replies go first.
    this.publish();
    const timeout = new Promise<null>((r) => setTimeout(() => r(null), 1000).unref());
    await Promise.race([this.control({ op: 'stop' }, 'stopped'), timeout]);
    this.stopped = true;
    this.up.wake(); // the read loop sees `stopped` and ends
    await this.worker.terminate();
  }
}

/** A listening socket handed to the I/O threads (Listeners keeps it as one of its listeners). */
class ThreadedListener implements Listening {
  maxConnections = 0;
  private closed = false;

  constructor(
    private readonly pool: IoThreads,
    private readonly id: number,
    private readonly addr: net.AddressInfo | string | null,
  ) {}

  address(): net.AddressInfo | string | null {
    return this.closed ? null : this.addr;
  }

  close(cb?: () => void): this {
    if (!this.closed) {
      this.closed = true;
      void this.pool.unlisten(this.id).then(() => cb?.());
    } else cb?.();
    return this;
  }
}

export class IoThreads {
  private readonly threads: IoThread[] = [];
  private nextListener = 1;
  readsProcessed = 0;
  writesProcessed = 0;
  /** Batches of keys read ahead across connections, and the keys in them (INFO: Valkey's io_threaded_total_prefetch_*). */
  prefetchBatches = 0;
  prefetchEntries = 0;
  private keepaliveMs = 0;

  constructor(
    count: number,
    readonly host: ThreadedConnections,
    readonly onError: (e: unknown) => void,
  ) {
    for (let i = 0; i < count; i++) this.threads.push(new IoThread(i, count, this));
    this.ready = Promise.all(this.threads.map((t) => t.ready));
  }

  /** Settles once every thread runs (or has failed to: see allAlive). */
  readonly ready: Promise<unknown>;

  get allAlive(): boolean {
    return this.threads.every((t) => t.alive);
  }

  /** Whether listening sockets can be shared with threads here (dup(2) comes from the native addon). */
  static available(): boolean {
    return addonFunction('dupFd') !== null;
  }

  setKeepalive(seconds: number): void {
    this.keepaliveMs = seconds * 1000;
    for (const t of this.threads) void t.control({ op: 'keepalive', keepaliveMs: this.keepaliveMs }, null);
  }

  /**
   * Give a bound listener to the I/O threads: each listens on its own
   * duplicate of the socket, then `srv` is closed. Connections `srv` accepts
   * before that are served on the main thread as usual.
   */
  async adopt(srv: net.Server): Promise<Listening> {
    const fd = (srv as unknown as { _handle?: { fd?: number } })._handle?.fd;
    const dupFd = addonFunction('dupFd');
    if (fd === undefined || fd < 0 || dupFd === null) return srv;
    const id = this.nextListener++;
    const addr = srv.address();
    const copies = this.threads.map(() => dupFd(fd));
    const results = await Promise.all(this.threads.map((t, i) => t.control({ op: 'listen', id, fd: copies[i]!, keepaliveMs: this.keepaliveMs }, `listening:${id}`)));
    const failed = results.find((r) => r !== null && r.op === 'listening' && r.error !== null);
    if (failed !== undefined) {
      // Keep serving from the main thread; the copies that listen are closed with their listeners.
      await this.unlisten(id);
      results.forEach((r, i) => {
        if (r !== null && r.op === 'listening' && r.error !== null) fs.closeSync(copies[i]!);
      });
      this.onError(new Error(`an I/O thread could not listen: ${(failed as { error: string }).error}`));
      return srv;
    }
    await new Promise<void>((r) => srv.close(() => r()));
    return new ThreadedListener(this, id, addr);
  }

  async unlisten(id: number): Promise<void> {
    await Promise.all(this.threads.map((t) => t.control({ op: 'unlisten', id }, `unlistened:${id}`)));
  }

  failed(t: IoThread, e: unknown): void {
    this.onError(new Error(`I/O thread ${t.index} failed: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** End every connection once its replies are written, and stop the threads. */
  async stop(): Promise<void> {
    await Promise.all(this.threads.map((t) => t.stop()));
    this.threads.length = 0;
  }
}
