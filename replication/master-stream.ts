/**
 * Reading the replication stream a primary sends once the sync is done:
 * RESP arrays of bulk strings, nothing else (what Redis propagates). Each
 * command comes with the bytes it occupied, which the replica's command
 * log copies verbatim so its offsets stay its primary's.
 *
 * Incremental without quadratic copying: received chunks are only joined
 * once enough bytes are there for the command being read to complete.
 */

import { constants } from 'node:buffer';
import { MAX_ARG_CHARS, attachBigArg } from '../src/protocol/big-args.js';
import { decodeLatin1 } from '../src/protocol/latin1-decode.js';

/** One command of the stream; its bytes are buf[start, end). */
export interface StreamCommand {
  argv: string[];
  buf: Buffer;
  start: number;
  end: number;
}

/** The primary sent something that is not the replication protocol: the link must be dropped. */
export class StreamProtocolError extends Error {}

/** More arguments than any propagated command has; a count beyond it is garbage, not a command. */
const MAX_ARGS = 1 << 24;
/** Count and length lines are a few digits: a longer line is garbage. */
const MAX_LINE = 32;
/** The largest argument a Buffer can hold (with room for the rest of its command). */
const MAX_BULK = constants.MAX_LENGTH - 1024 * 1024;

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;

/** Result of reading a count line: its value and where the line ends, or how many bytes are missing. */
type Line = { value: number; next: number } | { missing: number };

export class MasterStreamParser {
  /** The bytes being parsed (unparsed from `pos` on). */
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Chunks received after `buf`, not joined yet. */
  private later: Buffer[] = [];
  private laterBytes = 0;
  /** Unparsed bytes needed before parsing can make progress. */
  private need = 1;

  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.later.push(chunk);
    this.laterBytes += chunk.length;
  }

  /** Bytes received and not yet returned as commands. */
  get pendingBytes(): number {
    return this.buf.length - this.pos + this.laterBytes;
  }

  /** The next complete command, or null until more bytes arrive. Throws StreamProtocolError. */
  next(): StreamCommand | null {
    for (;;) {
      if (this.pendingBytes < this.need) return null;
      this.join();
      const buf = this.buf;
      const p = this.pos;
      const c = buf[p]!;
      // A bare newline is a keepalive (a primary whose own link is down): not part of the stream.
      if (c === LF) {
        this.skip(1);
        continue;
      }
      if (c === CR) {
        if (p + 1 >= buf.length) return this.wait(2);
        if (buf[p + 1] !== LF) throw new StreamProtocolError(`expected a command, got ${describe(buf, p)}`);
        this.skip(2);
        continue;
      }
      if (c !== STAR) throw new StreamProtocolError(`expected '*', got ${describe(buf, p)}`);
      return this.command();
    }
  }

  private skip(n: number): void {
    this.pos += n;
    this.need = 1;
  }

  /** Wait until `n` unparsed bytes are there. */
  private wait(n: number): null {
    this.need = n;
    return null;
  }

  /** Make buf hold every received byte from pos on. */
  private join(): void {
    if (this.laterBytes === 0) return;
    const parts = this.pos < this.buf.length ? [this.buf.subarray(this.pos), ...this.later] : this.later;
    this.buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    this.pos = 0;
    this.later = [];
    this.laterBytes = 0;
  }

  /** Read the array at pos, or note how many bytes it needs. */
  private command(): StreamCommand | null {
    const buf = this.buf;
    const start = this.pos;
    const head = readCount(buf, start + 1, MAX_ARGS);
    if ('missing' in head) return this.wait(buf.length - start + head.missing);
    const argc = head.value;
    if (argc < 1) throw new StreamProtocolError(`invalid multibulk length at stream byte ${start}`);
    const argv: string[] = [];
    let p = head.next;
    for (let i = 0; i < argc; i++) {
      if (p >= buf.length) return this.wait(buf.length - start + 1);
      if (buf[p] !== DOLLAR) throw new StreamProtocolError(`expected '$', got ${describe(buf, p)}`);
      const len = readCount(buf, p + 1, MAX_BULK);
      if ('missing' in len) return this.wait(buf.length - start + len.missing);
      const from = len.next;
      const to = from + len.value;
      if (to + 2 > buf.length) return this.wait(to + 2 - start);
      if (buf[to] !== CR || buf[to + 1] !== LF) throw new StreamProtocolError(`bulk not followed by CRLF at stream byte ${to}`);
      if (len.value > MAX_ARG_CHARS) attachBigArg(argv, argv.push('') - 1, buf.subarray(from, to));
      else argv.push(decodeLatin1(buf, from, to));
      p = to + 2;
    }
    this.pos = p;
    this.need = 1;
    return { argv, buf, start, end: p };
  }
}

/** A "<digits>\r\n" count at `from` (the prefix byte is checked by the caller), at most `max`. */
function readCount(buf: Buffer, from: number, max: number): Line {
  let v = 0;
  let p = from;
  for (; p < buf.length && p - from <= MAX_LINE; p++) {
    const c = buf[p]!;
    if (c >= 48 && c <= 57) {
      v = v * 10 + (c - 48);
      continue;
    }
    if (c !== CR || p === from) break;
    if (p + 1 >= buf.length) return { missing: 1 };
    if (buf[p + 1] !== LF || v > max) break;
    return { value: v, next: p + 2 };
  }
  if (p >= buf.length && p - from <= MAX_LINE) return { missing: 1 };
  throw new StreamProtocolError(`invalid count line at stream byte ${from}`);
}

/** A few bytes at `p` for a log line. */
function describe(buf: Buffer, p: number): string {
  return JSON.stringify(buf.latin1Slice(p, Math.min(buf.length, p + 16)));
}
