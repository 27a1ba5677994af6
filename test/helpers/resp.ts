/**
 * A small RESP client for tests: sends commands (or raw bytes) and returns
 * replies both as raw bytes and parsed, so differential tests can compare
 * exactly what two servers sent.
 */

import net from 'node:net';
import tls from 'node:tls';

export type Reply =
  | { type: 'simple'; value: string }
  | { type: 'error'; value: string }
  | { type: 'integer'; value: string }
  | { type: 'bulk'; value: string | null }
  | { type: 'array'; value: Reply[] | null }
  | { type: 'map'; value: [Reply, Reply][] }
  | { type: 'set'; value: Reply[] }
  | { type: 'push'; value: Reply[] }
  | { type: 'double'; value: string }
  | { type: 'bool'; value: boolean }
  | { type: 'null' }
  | { type: 'verbatim'; value: string }
  | { type: 'bignum'; value: string }
  | { type: 'attribute'; value: [Reply, Reply][] };

/** Parse one reply from buf at pos; returns [reply, next] or null if incomplete. */
export function parseReply(buf: Buffer, pos: number): [Reply, number] | null {
  if (pos >= buf.length) return null;
  const nl = buf.indexOf('\r\n', pos);
  if (nl < 0) return null;
  const t = String.fromCharCode(buf[pos]!);
  const line = buf.latin1Slice(pos + 1, nl);
  const next = nl + 2;
  const aggregate = (n: number, from: number): [Reply[], number] | null => {
    const items: Reply[] = [];
    let p = from;
    for (let i = 0; i < n; i++) {
      const r = parseReply(buf, p);
      if (r === null) return null;
      items.push(r[0]);
      p = r[1];
    }
    return [items, p];
  };
  switch (t) {
    case '+':
      return [{ type: 'simple', value: line }, next];
    case '-':
      return [{ type: 'error', value: line }, next];
    case ':':
      return [{ type: 'integer', value: line }, next];
    case ',':
      return [{ type: 'double', value: line }, next];
    case '#':
      return [{ type: 'bool', value: line === 't' }, next];
    case '_':
      return [{ type: 'null' }, next];
    case '(':
      return [{ type: 'bignum', value: line }, next];
    case '$':
    case '=': {
      const n = Number(line);
      if (n < 0) return [{ type: 'bulk', value: null }, next];
      if (buf.length < next + n + 2) return null;
      const s = buf.latin1Slice(next, next + n);
      return [t === '$' ? { type: 'bulk', value: s } : { type: 'verbatim', value: s }, next + n + 2];
    }
    case '*':
    case '~':
    case '>': {
      const n = Number(line);
      if (n < 0) return [{ type: 'array', value: null }, next];
      const r = aggregate(n, next);
      if (r === null) return null;
      const type = t === '*' ? 'array' : t === '~' ? 'set' : 'push';
      return [{ type, value: r[0] } as Reply, r[1]];
    }
    case '%':
    case '|': {
      const n = Number(line);
      const r = aggregate(n * 2, next);
      if (r === null) return null;
      const pairs: [Reply, Reply][] = [];
      for (let i = 0; i < r[0].length; i += 2) pairs.push([r[0][i]!, r[0][i + 1]!]);
      return [{ type: t === '%' ? 'map' : 'attribute', value: pairs }, r[1]];
    }
    default:
      throw new Error(`bad reply type byte ${JSON.stringify(t)} at ${pos}: ${buf.latin1Slice(pos, pos + 40)}`);
  }
}

export function encodeCommand(args: (string | Buffer)[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = typeof a === 'string' ? Buffer.from(a, 'latin1') : a;
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

/** Plain-JS view of a reply, handy for assertions. */
export function toJs(r: Reply): unknown {
  switch (r.type) {
    case 'array':
    case 'set':
    case 'push':
      return r.value === null ? null : r.value.map(toJs);
    case 'map':
    case 'attribute':
      return r.value.map(([k, v]) => [toJs(k), toJs(v)]);
    case 'null':
      return null;
    case 'error':
      return new Error(r.value);
    default:
      return r.value;
  }
}

/** Where a bulk string reply at the start of `buf` ends, when its header is there (else 0). */
function bulkReplyEnd(buf: Buffer): number {
  if (buf.length === 0 || buf[0] !== 0x24) return 0;
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return 0;
  const n = Number(buf.toString('latin1', 1, eol));
  return n >= 0 ? eol + 2 + n + 2 : 0;
}

export class RespClient {
  private buf = Buffer.alloc(0);
  // Chunks received and not yet joined to buf, and the end of the bulk reply they belong to.
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private bulkEnd = 0;
  private waiters: { resolve: (v: { reply: Reply; raw: Buffer }) => void; reject: (e: Error) => void }[] = [];
  private closedError: Error | null = null;
  closed = false;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (d) => {
      this.pending.push(d);
      this.pendingBytes += d.length;
      // A big bulk reply arrives in many chunks: join and parse once it is whole, not per chunk.
      if (this.buf.length + this.pendingBytes < this.bulkEnd) return;
      this.drain();
    });
    const onClose = () => {
      this.closed = true;
      this.closedError = new Error('connection closed');
      for (const w of this.waiters.splice(0)) w.reject(this.closedError);
    };
    socket.on('close', onClose);
    socket.on('error', () => {});
  }

  static connect(port: number, host = '127.0.0.1'): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ port, host }, () => resolve(new RespClient(s)));
      s.setNoDelay(true);
      s.once('error', reject);
    });
  }

  /** A TLS connection (the handshake done before it resolves). */
  static connectTls(port: number, options: tls.ConnectionOptions): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ port, host: '127.0.0.1', ...options }, () => resolve(new RespClient(s)));
      s.setNoDelay(true);
      s.once('error', reject);
    });
  }

  static connectPath(path: string): Promise<RespClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ path }, () => resolve(new RespClient(s)));
      s.once('error', reject);
    });
  }

  private drain(): void {
    if (this.pendingBytes > 0) {
      this.buf = Buffer.concat([this.buf, ...this.pending]);
      this.pending = [];
      this.pendingBytes = 0;
    }
    this.bulkEnd = bulkReplyEnd(this.buf);
    while (this.waiters.length > 0) {
      const r = parseReply(this.buf, 0);
      if (r === null) return;
      const raw = this.buf.subarray(0, r[1]);
      this.buf = this.buf.subarray(r[1]);
      this.waiters.shift()!.resolve({ reply: r[0], raw: Buffer.from(raw) });
      this.bulkEnd = bulkReplyEnd(this.buf);
    }
  }

  /** Next reply (raw bytes and parsed). */
  read(): Promise<{ reply: Reply; raw: Buffer }> {
    if (this.closedError !== null && this.buf.length === 0 && this.pendingBytes === 0) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.drain();
    });
  }

  writeRaw(data: Buffer | string): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  async call(...args: (string | Buffer)[]): Promise<Reply> {
    this.writeRaw(encodeCommand(args));
    return (await this.read()).reply;
  }

  async callRaw(...args: (string | Buffer)[]): Promise<Buffer> {
    this.writeRaw(encodeCommand(args));
    return (await this.read()).raw;
  }

  /** Resolves when the server closes the connection. */
  waitClosed(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((r) => this.socket.once('close', () => r()));
  }

  /** Bytes received but not consumed as replies. */
  get leftover(): Buffer {
    return this.pendingBytes === 0 ? this.buf : Buffer.concat([this.buf, ...this.pending]);
  }

  close(): void {
    this.socket.destroy();
  }
}
