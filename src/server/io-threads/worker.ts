/**
 * An I/O thread (io-threads > 1). It accepts connections on its own copies
 * of the listening sockets, reads them, and hands the bytes to the main
 * thread through its `up` ring; it takes the replies from its `down` ring
 * and writes them out. Commands never run here: the main thread runs every
 * command in one order, so there is one command log.
 *
 * Control messages (listen, unlisten, stop) come by postMessage, packed
 * with msgpackr (messages.ts).
 */

import net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { Kind, Ring } from './ring.js';
import { DirectIo } from '../direct-io.js';
import { Spill } from '../spill.js';
import type { ConnectionInfo, ToWorker, WorkerData } from './messages.js';
import { packMessage, unpackMessage } from '../../util/thread-messages.js';
import { addonFunction } from '../../scripting/lua-addon.js';

/** Pause reading every socket while this much read input waits for ring space (the main thread is behind). */
const BACKLOG_HIGH_WATER = 16 * 1024 * 1024;
/** Written-byte counts are reported at once (waking the main thread) from this size on. */
const EAGER_ACK_BYTES = 64 * 1024;
/** Smaller counts ride with the next message, or go after this long (ms) if none comes. */
const LAZY_ACK_MS = 2;

interface Conn {
  readonly id: number;
  readonly socket: net.Socket;
  /** Reads and writes on the libuv handle (direct-io.ts); null: the stream API. */
  io: DirectIo | null;
  /** Bytes given to socket.write that it has not yet passed to the kernel. */
  unacked: number;
  /** Replies taken from the ring this batch, in order. */
  out: Buffer[] | null;
  /** End (or destroy) once this batch's replies are written. */
  ending: 0 | typeof Kind.End | typeof Kind.Destroy;
  /** The main thread asked to stop reading it (its replies are not read). */
  paused: boolean;
  /** While its output waits (unacked > 0): where its replies are copied, one chunk per drain. */
  spill: Spill | null;
}

const { index, threads, up: upSab, down: downSab } = workerData as WorkerData;
// Named as Redis names its I/O threads, so that top -H and ps -L tell them apart.
addonFunction('setThreadName')?.(`io_thd_${index + 1}`);
const up = new Ring(upSab);
const down = new Ring(downSab);
const conns = new Map<number, Conn>();
const listeners = new Map<number, net.Server>();
/** Connection ids are index + k * threads: unique across the I/O threads. */
let nextConn = index + 1;
let keepaliveMs = 0;

// ---- towards the main thread ------------------------------------------------

/** Messages that found no room in the ring, in order (the main thread is behind). */
let backlog: { conn: number; kind: Kind; bytes: Buffer | null; len: number }[] = [];
let backlogBytes = 0;
let readingPaused = false;
let publishScheduled = false;
/** Something the main thread must act on was pushed since the last wake-up. */
let mustWake = false;
/** Small written-byte counts were published without a wake-up. */
let lazyAcks = false;
const lazyAckTimer = setTimeout(() => {
  if (lazyAcks) publishUp(true);
}, LAZY_ACK_MS);
lazyAckTimer.unref();

/** `transient`: bytes is the shared read buffer, copied if it must wait. */
function sendUp(conn: number, kind: Kind, bytes: Buffer | null, len = bytes === null ? 0 : bytes.length, transient = false): void {
  if (backlog.length > 0 || !up.push(conn, kind, bytes, len)) {
    backlog.push({ conn, kind, bytes: transient && bytes !== null ? Buffer.from(bytes) : bytes, len });
    backlogBytes += bytes === null ? 0 : bytes.length;
    if (!readingPaused && backlogBytes > BACKLOG_HIGH_WATER) setReading(false);
  }
  if (kind !== Kind.Written || len >= EAGER_ACK_BYTES) mustWake = true;
  if (!publishScheduled) {
    publishScheduled = true;
    // Once per event-loop turn: the reads of one poll cross together.
    setImmediate(publishTurn);
  }
}

function publishTurn(): void {
  publishScheduled = false;
  while (backlog.length > 0) {
    const m = backlog[0]!;
    if (!up.push(m.conn, m.kind, m.bytes, m.len)) break;
    backlog.shift();
    backlogBytes -= m.bytes === null ? 0 : m.bytes.length;
  }
  if (backlog.length === 0 && readingPaused) setReading(true);
  publishUp(mustWake);
  if (backlog.length > 0) {
    publishScheduled = true;
    setTimeout(publishTurn, 1);
  }
}

function publishUp(wake: boolean): void {
  up.publish(wake);
  if (wake) {
    mustWake = false;
    lazyAcks = false;
  } else if (!lazyAcks) {
    lazyAcks = true;
    lazyAckTimer.refresh();
  }
}

function setReading(on: boolean): void {
  readingPaused = !on;
  for (const c of conns.values()) applyReading(c);
}

/** Read c while neither the ring's backlog nor the main thread (c's replies unread) says stop. */
function applyReading(c: Conn): void {
  const hold = readingPaused || c.paused;
  if (c.io !== null) c.io.holdReading(hold);
  else if (hold) c.socket.pause();
  else c.socket.resume();
}

/**
 * Some of c's queued output went out: say how much. With DirectIo what
 * still waits is its pendingBytes (each write is reported as libuv
 * completes it, so a client that reads slowly but steadily is not taken
 * for one that does not read); with the stream API, all of it at 'drain'.
 */
function ackQueued(c: Conn): void {
  const left = c.io !== null ? c.io.pendingBytes : 0;
  const n = c.unacked - left;
  if (n <= 0) return;
  c.unacked = left;
  // Caught up: its later replies go through the shared slab again.
  if (left === 0) c.spill = null;
  sendUp(c.id, Kind.Written, null, n);
}

// ---- connections ---------------------------------------------------------------

function accept(socket: net.Socket): void {
  let conn = nextConn;
  while (conns.has(conn)) conn = (conn + threads) % 0xffffffff;
  nextConn = (conn + threads) % 0xffffffff;
  const c: Conn = { id: conn, socket, io: null, unacked: 0, out: null, ending: 0, paused: false, spill: null };
  conns.set(conn, c);
  if (keepaliveMs > 0) socket.setKeepAlive(true, keepaliveMs);
  const info: ConnectionInfo = {
    remoteAddress: socket.remoteAddress ?? '',
    remotePort: socket.remotePort ?? 0,
    localAddress: socket.localAddress ?? '',
    localPort: socket.localPort ?? 0,
    fd: (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1,
  };
  sendUp(conn, Kind.Open, packMessage(info));
  c.io = DirectIo.attach(socket, (chunk) => sendUp(conn, Kind.Data, chunk, chunk.length, true));
  if (c.io !== null) c.io.onProgress = () => ackQueued(c);
  else {
    socket.on('data', (chunk: Buffer) => sendUp(conn, Kind.Data, chunk));
    socket.on('drain', () => ackQueued(c));
  }
  if (readingPaused) applyReading(c);
  socket.on('error', () => {
    /* reset by peer etc.: 'close' follows */
  });
  socket.on('close', () => {
    conns.delete(conn);
    sendUp(conn, Kind.Closed, null);
  });
}

// ---- from the main thread --------------------------------------------------------

/**
 * Where replies are copied out of the ring: one slab reused from drain to
 * drain while every write completes at once (the usual case), so replies
 * make no garbage; a write that waits keeps its slab, and the next drain
 * takes a new one.
 */
const SLAB_BYTES = 1024 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
let slabUsed = 0;
/** A write of this drain kept its bytes (they wait in libuv or the stream). */
let slabKept = false;

function copyOut(bytes: Buffer): Buffer {
  if (bytes.length > SLAB_BYTES / 4) return Buffer.from(bytes);
  if (slabUsed + bytes.length > SLAB_BYTES) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabUsed = 0;
  }
  const view = slab.subarray(slabUsed, slabUsed + bytes.length);
  view.set(bytes);
  slabUsed += bytes.length;
  return view;
}

/** Connections with replies taken in this drain. */
const touched: Conn[] = [];

function onReply(conn: number, kind: Kind, bytes: Buffer | null): void {
  const c = conns.get(conn);
  if (c === undefined) return;
  if (kind === Kind.Data) {
    // A copy: the ring's space is reused once this drain ends.
    if (c.out === null) {
      c.out = [];
      touched.push(c);
    }
    // A connection whose output waits gets copies of its own (spill.ts): in the shared slab,
    // what waits for it would keep the other connections' replies of that slab alive too.
    if (c.unacked > 0) (c.spill ??= new Spill()).copy(bytes!, c.out);
    else c.out.push(copyOut(bytes!));
  } else if (kind === Kind.Pause || kind === Kind.Resume) {
    c.paused = kind === Kind.Pause;
    applyReading(c);
  } else if (kind === Kind.End || kind === Kind.Destroy) {
    if (c.out === null) {
      c.out = [];
      touched.push(c);
    }
    c.ending = kind;
  }
}

function writeReplies(): void {
  for (const c of touched) {
    c.spill?.close(c.out!);
    const out = c.out!;
    c.out = null;
    const socket = c.socket;
    if (c.ending === Kind.Destroy) {
      socket.destroy();
      continue;
    }
    if (out.length > 0 && !socket.destroyed) {
      let bytes = 0;
      for (const b of out) bytes += b.length;
      const io = c.io;
      if (io !== null) {
        const before = io.pendingBytes;
        io.write(out);
        const queued = io.pendingBytes - before;
        // Written at once (the usual case): say so with the next message; the rest once libuv has written it.
        if (bytes > queued) sendUp(c.id, Kind.Written, null, bytes - queued);
        if (queued > 0) {
          slabKept = true;
          c.unacked += queued;
        }
      } else {
        slabKept = true;
        if (out.length === 1) socket.write(out[0]!);
        else {
          socket.cork();
          for (const b of out) socket.write(b);
          socket.uncork();
        }
        if (socket.writableLength === 0) sendUp(c.id, Kind.Written, null, bytes);
        else c.unacked += bytes;
      }
    }
    if (c.ending === Kind.End) {
      if (c.io !== null) c.io.end();
      else socket.end();
    }
  }
  touched.length = 0;
  if (slabKept) {
    slab = Buffer.allocUnsafeSlow(SLAB_BYTES);
    slabKept = false;
  }
  slabUsed = 0;
}

async function serveReplies(): Promise<void> {
  for (;;) {
    const seen = down.wakeCount;
    if (down.drain(onReply) > 0) writeReplies();
    await down.sleep(seen);
  }
}

// ---- control ---------------------------------------------------------------------

function reply(msg: unknown): void {
  parentPort!.postMessage(packMessage(msg));
}

parentPort!.on('message', (raw: Uint8Array) => {
  const msg = unpackMessage(raw) as ToWorker;
  switch (msg.op) {
    case 'listen': {
      keepaliveMs = msg.keepaliveMs;
      const srv = net.createServer({ noDelay: true }, accept);
      srv.once('error', (e) => reply({ op: 'listening', id: msg.id, error: e.message }));
      srv.listen({ fd: msg.fd }, () => {
        listeners.set(msg.id, srv);
        reply({ op: 'listening', id: msg.id, error: null });
      });
      break;
    }
    case 'unlisten': {
      const srv = listeners.get(msg.id);
      listeners.delete(msg.id);
      // close() releases the listening socket at once; its callback would wait for every connection to end.
      srv?.close();
      reply({ op: 'unlistened', id: msg.id });
      break;
    }
    case 'keepalive':
      keepaliveMs = msg.keepaliveMs;
      break;
    case 'stop':
      for (const srv of listeners.values()) srv.close();
      listeners.clear();
      // What the main thread sent before 'stop' is written first.
      if (down.drain(onReply) > 0) writeReplies();
      for (const c of conns.values()) {
        if (c.io !== null) c.io.end();
        else c.socket.end();
      }
      reply({ op: 'stopped' });
      break;
  }
});

void serveReplies();
reply({ op: 'ready' });
