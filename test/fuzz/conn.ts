/**
 * Connections for the fuzzers. RawConn keeps every byte a server sends
 * (the protocol fuzzer compares them); ReplyConn parses replies
 * incrementally, so a 16 MB bulk arriving in 64 KB pieces is joined once,
 * not once per piece.
 */

import net from 'node:net';
import type { Reply } from '../helpers/resp.js';

function connectSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1' }, () => {
      s.off('error', reject);
      resolve(s);
    });
    s.setNoDelay(true);
    s.once('error', reject);
  });
}

/** Every byte received, and whether the server closed the connection. */
export class RawConn {
  private chunks: Buffer[] = [];
  received = 0;
  closed = false;
  /** When data last arrived or was last written: quiet is measured from here. */
  private lastActivity = Date.now();
  private wake: (() => void) | null = null;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.received += d.length;
      this.lastActivity = Date.now();
      this.poke();
    });
    socket.on('close', () => {
      this.closed = true;
      this.poke();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<RawConn> {
    return new RawConn(await connectSocket(port));
  }

  private poke(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.wake = null;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  write(data: Buffer): Promise<void> {
    if (this.closed || this.socket.destroyed) return Promise.resolve();
    this.lastActivity = Date.now();
    return new Promise((resolve) => this.socket.write(data, () => resolve()));
  }

  /** Wait until nothing arrived for idleMs since the last write or data (or the connection closed). */
  async settle(idleMs: number, maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (!this.closed && Date.now() < deadline) {
      const quiet = Date.now() - this.lastActivity;
      if (quiet >= idleMs) return;
      await this.changed(idleMs - quiet);
    }
  }

  /** Wait until at least n bytes arrived or the connection closed, for at most maxMs. */
  async until(n: number, maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (!this.closed && this.received < n && Date.now() < deadline) await this.changed(deadline - Date.now());
  }

  /** Forget what arrived so far (the replies to the harness' own setup commands). */
  clear(): void {
    this.chunks = [];
    this.received = 0;
  }

  bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Parse one reply at pos: the reply and where it ends, or how long buf must be at least before it can. */
export function parseAt(buf: Buffer, pos: number): { reply: Reply; next: number } | { need: number } {
  const nl = buf.indexOf(13, pos);
  if (nl < 0 || nl + 1 >= buf.length) return { need: Math.max(buf.length + 1, pos + 3) };
  const t = buf[pos]!;
  const line = buf.latin1Slice(pos + 1, nl);
  const next = nl + 2;
  switch (t) {
    case 0x2b: // +
      return { reply: { type: 'simple', value: line }, next };
    case 0x2d: // -
      return { reply: { type: 'error', value: line }, next };
    case 0x3a: // :
      return { reply: { type: 'integer', value: line }, next };
    case 0x2c: // ,
      return { reply: { type: 'double', value: line }, next };
    case 0x23: // #
      return { reply: { type: 'bool', value: line === 't' }, next };
    case 0x5f: // _
      return { reply: { type: 'null' }, next };
    case 0x28: // (
      return { reply: { type: 'bignum', value: line }, next };
    case 0x24: // $
    case 0x3d: {
      // =
      const n = Number(line);
      if (n < 0) return { reply: { type: 'bulk', value: null }, next };
      if (buf.length < next + n + 2) return { need: next + n + 2 };
      const value = buf.latin1Slice(next, next + n);
      return { reply: t === 0x24 ? { type: 'bulk', value } : { type: 'verbatim', value }, next: next + n + 2 };
    }
    case 0x2a: // *
    case 0x7e: // ~
    case 0x3e: {
      // >
      const n = Number(line);
      if (n < 0) return { reply: { type: 'array', value: null }, next };
      const items: Reply[] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const r = parseAt(buf, p);
        if ('need' in r) return r;
        items.push(r.reply);
        p = r.next;
      }
      const type = t === 0x2a ? 'array' : t === 0x7e ? 'set' : 'push';
      return { reply: { type, value: items } as Reply, next: p };
    }
    case 0x25: // %
    case 0x7c: {
      // |
      const n = Number(line);
      const pairs: [Reply, Reply][] = [];
      let p = next;
      for (let i = 0; i < n; i++) {
        const k = parseAt(buf, p);
        if ('need' in k) return k;
        const v = parseAt(buf, k.next);
        if ('need' in v) return v;
        pairs.push([k.reply, v.reply]);
        p = v.next;
      }
      if (t === 0x7c) {
        // An attribute precedes the reply it describes: return that reply.
        return parseAt(buf, p);
      }
      return { reply: { type: 'map', value: pairs }, next: p };
    }
    default:
      throw new Error(`bad reply type byte ${t} at ${pos}: ${JSON.stringify(buf.latin1Slice(pos, pos + 40))}`);
  }
}

export class ConnectionClosed extends Error {}
export class ReplyTimeout extends Error {}

/** Replies in order; a reply that takes longer than the caller's timeout is an error. */
export class ReplyConn {
  private chunks: Buffer[] = [];
  private total = 0;
  private need = 1;
  private ready: Reply[] = [];
  private waiter: { resolve: () => void } | null = null;
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.chunks.push(d);
      this.total += d.length;
      if (this.total >= this.need) this.parse();
    });
    socket.on('close', () => {
      this.closed = true;
      this.poke();
    });
    socket.on('error', () => {});
  }

  static async connect(port: number): Promise<ReplyConn> {
    return new ReplyConn(await connectSocket(port));
  }

  private poke(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.resolve();
  }

  private parse(): void {
    let buf = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    let pos = 0;
    for (;;) {
      const r = parseAt(buf, pos);
      if ('need' in r) {
        this.need = r.need - pos;
        break;
      }
      // RESP3 push messages are out of band (DEBUG PROTOCOL push sends one before its reply): not a reply.
      if (r.reply.type !== 'push') this.ready.push(r.reply);
      pos = r.next;
    }
    buf = buf.subarray(pos);
    this.chunks = buf.length > 0 ? [buf] : [];
    this.total = buf.length;
    this.poke();
  }

  write(data: Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** The next reply; throws ConnectionClosed or ReplyTimeout. */
  async next(timeoutMs: number): Promise<Reply> {
    const deadline = Date.now() + timeoutMs;
    while (this.ready.length === 0) {
      if (this.closed) throw new ConnectionClosed('connection closed');
      const left = deadline - Date.now();
      if (left <= 0) throw new ReplyTimeout(`no reply within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiter = {
          resolve: () => {
            clearTimeout(t);
            resolve();
          },
        };
      });
    }
    return this.ready.shift()!;
  }

  close(): void {
    this.socket.destroy();
  }
}
