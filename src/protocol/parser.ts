/**
 * Incremental RESP request parser (multibulk and inline), following Redis'
 * networking.c rules byte for byte so that malformed input gets the same
 * `Protocol error` text Redis sends.
 *
 * It is a pull parser: the connection feeds chunks and then asks for one
 * command at a time, so a client that blocks (BLPOP, CLIENT PAUSE, MULTI
 * waiting on a gate) simply stops pulling and the rest stays buffered.
 *
 * Arguments are returned as latin1 strings: one JS char per byte, so they
 * are binary safe and cheap to use as Map keys.
 */

import { decodeLatin1 } from './latin1-decode.js';
import { MAX_ARG_CHARS, attachBigArg } from './big-args.js';
import { DEFER_KEY_MAX, DEFER_VALUE_MAX, DEFER_VALUE_MIN, deferArg } from './deferred-arg.js';

const CR = 13;
const LF = 10;
const STAR = 42;
const DOLLAR = 36;

/** Redis' PROTO_INLINE_MAX_SIZE: the longest inline line or count line. */
export const PROTO_INLINE_MAX_SIZE = 64 * 1024;
/** Arguments at least this long are collected in one exact-size buffer. */
const BIG_ARG = 32 * 1024;

export class ProtocolError extends Error {}

/** Is `name` SET, in any case? (The parser hands back the same name string for a pipeline's repeats: the first test usually answers.) */
function isSet(name: string): boolean {
  return name === 'SET' || name === 'set' || (name.length === 3 && name.toUpperCase() === 'SET');
}

export interface ParserLimits {
  /** proto-max-bulk-len */
  maxBulkLen: number;
  /** false until AUTH succeeds when a password is required */
  authenticated: boolean;
}

/** Parse a decimal like Redis' string2ll: no '+', no leading zeros, no spaces. */
function parseLongLong(buf: Buffer, start: number, end: number): number | null {
  const len = end - start;
  if (len <= 0 || len > 20) return null;
  let p = start;
  if (len === 1 && buf[p] === 48) return 0;
  let negative = false;
  if (buf[p] === 45) {
    negative = true;
    p++;
    if (p === end) return null;
  }
  const digitsStart = p;
  const first = buf[p]! - 48;
  if (first < 1 || first > 9) return null;
  let v = first;
  p++;
  while (p < end) {
    const d = buf[p]! - 48;
    if (d < 0 || d > 9) return null;
    v = v * 10 + d;
    p++;
  }
  // Doubles cannot tell -2^63 from -2^63-1: outside the long long range
  // (Redis' string2ll fails there) is decided on the digits. Found by the
  // fuzzer: `*-9223372036854775809` was taken for an empty request.
  if (end - digitsStart >= 19 && beyondLongLong(buf, digitsStart, end, negative)) return null;
  return negative ? -v : v;
}

/** |LLONG_MIN| and LLONG_MAX, as digits. */
const LLONG_MIN_DIGITS = '9223372036854775808';
const LLONG_MAX_DIGITS = '9223372036854775807';

/** Whether the digits buf[from, end) (no sign, no leading zero) are beyond the long long range. */
function beyondLongLong(buf: Buffer, from: number, end: number, negative: boolean): boolean {
  const limit = negative ? LLONG_MIN_DIGITS : LLONG_MAX_DIGITS;
  if (end - from !== limit.length) return end - from > limit.length;
  for (let i = 0; i < limit.length; i++) {
    const d = buf[from + i]!;
    const l = limit.charCodeAt(i);
    if (d !== l) return d > l;
  }
  return false;
}

const EMPTY = Buffer.alloc(0);

/**
 * Where a `*` or `$` count line ends (its CR), as Redis finds it with
 * strchr: a NUL byte before the CR hides it, so the line is not complete
 * (until PROTO_INLINE_MAX_SIZE says it is too big). -1 when not found.
 */
function countLineEnd(buf: Buffer, from: number): number {
  const cr = buf.indexOf(CR, from);
  if (cr < 0) return -1;
  for (let i = from; i < cr; i++) if (buf[i] === 0) return -1;
  return cr;
}

export class RequestParser {
  private buf: Buffer = Buffer.alloc(0);
  private pos = 0;
  /** Remaining bulk arguments of the multibulk being read; 0 = between commands. */
  private multibulkLen = 0;
  /** Length of the bulk being read, or -1 while its `$` line is pending. */
  private bulkLen = -1;
  private argv: string[] = [];
  /** Arguments stored in argv so far. */
  private argc = 0;
  /** Exact-size buffer for a large argument being received across chunks. */
  private bigArg: Buffer | null = null;
  private bigFilled = 0;
  /** A command whose last (large) argument was completed inside feed(). */
  private completedBig: string[] | null = null;

  constructor(public limits: ParserLimits) {}

  /** Bytes received but not yet parsed into commands (client query buffer). */
  get pendingBytes(): number {
    return this.buf.length - this.pos + this.bigFilled;
  }

  /** The first `n` unparsed bytes, as latin1 (for logs). */
  peek(n: number): string {
    return this.buf.latin1Slice(this.pos, Math.min(this.buf.length, this.pos + n));
  }

  /** Bytes of the arguments of a partially received command (CLIENT LIST argv-mem). */
  get partialArgBytes(): number {
    let n = 0;
    for (let i = 0; i < this.argc; i++) n += this.argv[i]!.length;
    return n;
  }

  /** Room left in the buffer of a large argument being received (CLIENT LIST qbuf-free). */
  get bufferFree(): number {
    return this.bigArg === null ? 0 : this.bigArg.length - this.bigFilled;
  }

  /**
   * Where the next command starts in rawBuffer, when the parser stands
   * between commands (key-peek.ts reads ahead from there); -1 mid-command.
   */
  get commandBoundary(): number {
    return this.multibulkLen === 0 && this.bigArg === null && this.completedBig === null ? this.pos : -1;
  }

  /** True while a command is partially received. */
  get midCommand(): boolean {
    return this.multibulkLen > 0 || this.pos < this.buf.length;
  }

  /**
   * Add received bytes. `scratch`: a buffer the caller lends until its next
   * detach() (direct I/O's clients share one): the end of a partial command
   * and the chunk are joined there instead of in a new allocation per read.
   */
  feed(chunk: Buffer, scratch: Buffer | null = null): void {
    this.rawArgv = null;
    if (this.bigArg !== null) {
      chunk = this.fillBigArg(chunk);
      if (chunk.length === 0) return;
    }
    if (this.pos >= this.buf.length && this.multibulkLen === 0) {
      this.buf = chunk;
      this.pos = 0;
      return;
    }
    // Keep the start of a partial command so its raw bytes stay contiguous.
    const from = this.multibulkLen > 0 && this.cmdStart >= 0 ? this.cmdStart : this.pos;
    const rest = this.buf.length - from;
    if (rest <= 0) this.buf = chunk;
    else if (scratch !== null && rest + chunk.length <= scratch.length && this.buf.buffer !== scratch.buffer) {
      this.buf.copy(scratch, 0, from);
      chunk.copy(scratch, rest);
      this.buf = scratch.subarray(0, rest + chunk.length);
    } else this.buf = Buffer.concat([this.buf.subarray(from), chunk]);
    this.pos -= from;
    if (this.cmdStart >= 0) this.cmdStart -= from;
  }

  // ---- raw bytes of the last command ----------------------------------------
  // When a command arrived in canonical RESP (exact counts, CRLF everywhere),
  // its bytes are exactly the log encoding of its argv, so the command log can
  // copy them instead of re-encoding (most writes are logged as sent).

  /** Start of the multibulk command being parsed, or -1 if its bytes are not usable. */
  private cmdStart = -1;
  /** The argv whose canonical bytes are buf[rawStart, rawEnd), until the next feed(). */
  rawArgv: string[] | null = null;
  rawStart = 0;
  rawEnd = 0;

  /** The buffer rawStart/rawEnd refer to. */
  get rawBuffer(): Buffer {
    return this.buf;
  }

  /**
   * Copy pending bytes out of a buffer the caller is about to reuse
   * (for sockets reading into one static buffer).
   */
  detach(): void {
    // Raw bytes of a parsed command are only valid until now.
    this.rawArgv = null;
    const from = this.multibulkLen > 0 && this.cmdStart >= 0 ? this.cmdStart : this.pos;
    if (from < this.buf.length) {
      this.buf = Buffer.from(this.buf.subarray(from));
      this.pos -= from;
      if (this.cmdStart >= 0) this.cmdStart -= from;
    } else {
      this.buf = EMPTY;
      this.pos = 0;
      this.cmdStart = -1;
    }
  }

  /** Next complete command, or null when more bytes are needed. Throws ProtocolError. */
  next(): string[] | null {
    if (this.completedBig !== null) {
      const argv = this.completedBig;
      this.completedBig = null;
      this.argv = [];
      this.argc = 0;
      this.rawArgv = null;
      return argv;
    }
    for (;;) {
      if (this.bigArg !== null) return null;
      if (this.multibulkLen === 0) {
        if (this.pos >= this.buf.length) return null;
        if (this.buf[this.pos] === STAR) {
          const whole = this.wholeCommand();
          if (whole !== null) return whole;
          if (!this.readMultibulkHeader()) return null;
          if (this.multibulkLen === 0) continue; // "*0" / "*-1": nothing to run
        } else {
          const inline = this.readInline();
          if (inline === null) return null;
          if (inline.length === 0) continue;
          return inline;
        }
      }
      const argv = this.readBulks();
      if (argv !== null) return argv;
      return null;
    }
  }

  /**
   * Fast path for a "<prefix>digits\r\n" line at `pos` (the prefix byte is
   * already checked): returns the number and sets `lineEnd` past the LF, or
   * -1 when the line is incomplete or not plain digits (the slow path then
   * applies Redis' exact rules and errors).
   */
  private lineEnd = 0;
  /**
   * Fast path: a whole canonical command already in the buffer, parsed with
   * locals only (no parser state written per argument). Anything unusual
   * (partial data, big or zero-padded lengths, limits, bad framing) returns
   * null before consuming anything, and the exact path below takes over.
   */
  private wholeCommand(): string[] | null {
    const buf = this.buf;
    const len = buf.length;
    const start = this.pos;
    let p = start + 1;
    let c = buf[p];
    if (c === undefined || c < 49 || c > 57) return null;
    let n = 0;
    while (c !== undefined && c >= 48 && c <= 57) {
      n = n * 10 + (c - 48);
      c = buf[++p];
    }
    if (c !== CR || buf[p + 1] !== LF || n > 1024 || (n > 10 && !this.limits.authenticated)) return null;
    p += 2;
    const argv = new Array<string>(n);
    const maxArg = this.limits.authenticated ? BIG_ARG - 1 : 16384;
    // `SET key value`: its value may stay in the buffer (deferred-arg.ts).
    const maybeSet = n === 3 && this.deferSetValues;
    for (let i = 0; i < n; i++) {
      if (buf[p] !== DOLLAR) return null;
      c = buf[++p];
      if (c === undefined || c < 48 || c > 57) return null;
      let blen = c - 48;
      c = buf[++p];
      // "$0" is fine, "$01" is left to the exact path.
      if (blen === 0 && c !== CR) return null;
      while (c !== undefined && c >= 48 && c <= 57) {
        blen = blen * 10 + (c - 48);
        if (blen > maxArg) return null;
        c = buf[++p];
      }
      if (c !== CR || buf[p + 1] !== LF) return null;
      p += 2;
      const end = p + blen;
      if (end + 2 > len || buf[end] !== CR || buf[end + 1] !== LF) return null;
      if (i === 2 && maybeSet && blen >= DEFER_VALUE_MIN && blen <= DEFER_VALUE_MAX && argv[1]!.length <= DEFER_KEY_MAX && isSet(argv[0]!)) {
        deferArg(argv, buf, p, end);
      } else {
        argv[i] = i === 0 ? this.commandName(buf, p, end) : decodeLatin1(buf, p, end);
      }
      p = end + 2;
    }
    this.pos = p;
    this.rawArgv = argv;
    this.rawStart = start;
    this.rawEnd = p;
    return argv;
  }

  /**
   * Leave the value of a plain `SET key value` in the buffer, argv[2] being
   * DEFERRED_ARG (deferred-arg.ts). Only for a caller that materializes
   * argv wherever it keeps or shows it, and forgets the deferral once the
   * command has run (Client.processInput).
   */
  deferSetValues = false;

  /** The previous command's name, as a string and as its bytes. */
  private lastName = '';
  private readonly lastNameBytes = new Uint8Array(16);

  /**
   * argv[0] of a pipelined command is usually the same name again: hand
   * back the same string, so no new string is made and the dispatcher's
   * comparison with its cached name is an identity check.
   */
  private commandName(buf: Buffer, s: number, e: number): string {
    const n = e - s;
    const last = this.lastName;
    if (n === last.length) {
      const bytes = this.lastNameBytes;
      let i = 0;
      while (i < n && buf[s + i] === bytes[i]) i++;
      if (i === n) return last;
    }
    const name = decodeLatin1(buf, s, e);
    if (n <= 16) {
      for (let i = 0; i < n; i++) this.lastNameBytes[i] = buf[s + i]!;
      this.lastName = name;
    }
    return name;
  }

  private fastNumber(buf: Buffer, pos: number): number {
    const len = buf.length;
    let p = pos + 1;
    let n = 0;
    const start = p;
    while (p < len) {
      const c = buf[p]!;
      if (c >= 48 && c <= 57) {
        n = n * 10 + (c - 48);
        p++;
        continue;
      }
      // Leading zeros and empty counts are left to the exact path.
      if (c !== CR || p === start || p - start > 15 || (buf[start] === 48 && p - start > 1)) return -1;
      if (p + 1 >= len || buf[p + 1] !== LF) return -1;
      this.lineEnd = p + 2;
      return n;
    }
    return -1;
  }

  private readMultibulkHeader(): boolean {
    const buf = this.buf;
    const start = this.pos;
    let n = this.fastNumber(buf, this.pos);
    if (n >= 0) {
      this.cmdStart = start;
      this.pos = this.lineEnd;
    } else {
      const nl = countLineEnd(buf, this.pos);
      if (nl < 0 || nl + 1 >= buf.length) {
        if (buf.length - this.pos > PROTO_INLINE_MAX_SIZE)
          throw new ProtocolError('Protocol error: too big mbulk count string');
        return false;
      }
      const parsed = parseLongLong(buf, this.pos + 1, nl);
      if (parsed === null || parsed > 2147483647) throw new ProtocolError('Protocol error: invalid multibulk length');
      n = parsed;
      this.cmdStart = buf[nl + 1] === LF ? start : -1;
      this.pos = nl + 2;
    }
    if (n > 2147483647) throw new ProtocolError('Protocol error: invalid multibulk length');
    if (!this.limits.authenticated && n > 10)
      throw new ProtocolError('Protocol error: unauthenticated multibulk length');
    if (n > 0) {
      this.multibulkLen = n;
      // Preallocate small argv arrays; huge counts grow as arguments arrive.
      this.argv = n <= 1024 ? new Array(n) : [];
      this.argc = 0;
    }
    return true;
  }

  private readBulks(): string[] | null {
    const buf = this.buf;
    const argv = this.argv;
    while (this.multibulkLen > 0) {
      if (this.bulkLen === -1) {
        if (this.pos >= buf.length) return null;
        if (buf[this.pos] !== DOLLAR) {
          // Find the line first: an incomplete line waits, a complete one is an error.
          const nl = countLineEnd(buf, this.pos);
          if (nl < 0 || nl + 1 >= buf.length) {
            if (buf.length - this.pos > PROTO_INLINE_MAX_SIZE)
              throw new ProtocolError('Protocol error: too big bulk count string');
            return null;
          }
          throw new ProtocolError(`Protocol error: expected '$', got '${String.fromCharCode(buf[this.pos]!)}'`);
        }
        let n = this.fastNumber(buf, this.pos);
        if (n >= 0) {
          this.pos = this.lineEnd;
        } else {
          const nl = countLineEnd(buf, this.pos);
          if (nl < 0 || nl + 1 >= buf.length) {
            if (buf.length - this.pos > PROTO_INLINE_MAX_SIZE)
              throw new ProtocolError('Protocol error: too big bulk count string');
            return null;
          }
          const parsed = parseLongLong(buf, this.pos + 1, nl);
          if (parsed === null || parsed < 0) throw new ProtocolError('Protocol error: invalid bulk length');
          n = parsed;
          if (buf[nl + 1] !== LF) this.cmdStart = -1;
          this.pos = nl + 2;
        }
        if (n > this.limits.maxBulkLen) throw new ProtocolError('Protocol error: invalid bulk length');
        if (!this.limits.authenticated && n > 16384)
          throw new ProtocolError('Protocol error: unauthenticated bulk length');
        this.bulkLen = n;
      }
      const need = this.bulkLen + 2;
      if (buf.length - this.pos < need) {
        if (this.bulkLen >= BIG_ARG) this.startBigArg();
        return null;
      }
      const end = this.pos + this.bulkLen;
      if (this.bulkLen > MAX_ARG_CHARS) attachBigArg(argv, this.argc++, Buffer.from(buf.subarray(this.pos, end)));
      else argv[this.argc++] = decodeLatin1(buf, this.pos, end);
      // Like Redis, the two bytes after the payload are skipped, not checked
      // (but then the raw bytes are not a canonical log record).
      if (buf[end] !== CR || buf[end + 1] !== LF) this.cmdStart = -1;
      this.pos += need;
      this.bulkLen = -1;
      this.multibulkLen--;
    }
    this.argv = [];
    this.argc = 0;
    if (this.cmdStart >= 0) {
      this.rawArgv = argv;
      this.rawStart = this.cmdStart;
      this.rawEnd = this.pos;
    } else {
      this.rawArgv = null;
    }
    this.cmdStart = -1;
    return argv;
  }

  /** Move a partially received large argument into an exact-size buffer. */
  private startBigArg(): void {
    this.cmdStart = -1;
    let big: Buffer;
    try {
      big = Buffer.allocUnsafe(this.bulkLen + 2);
    } catch {
      // Over Node's 4 GB buffers (proto-max-bulk-len raised past them), or no memory left.
      throw new ProtocolError('Protocol error: invalid bulk length');
    }
    const have = this.buf.length - this.pos;
    this.buf.copy(big, 0, this.pos);
    this.bigArg = big;
    this.bigFilled = have;
    this.buf = Buffer.alloc(0);
    this.pos = 0;
  }

  /** Returns the part of the chunk after the large argument. */
  private fillBigArg(chunk: Buffer): Buffer {
    const big = this.bigArg!;
    const take = Math.min(big.length - this.bigFilled, chunk.length);
    chunk.copy(big, this.bigFilled, 0, take);
    this.bigFilled += take;
    if (this.bigFilled < big.length) return chunk.subarray(chunk.length);
    const len = big.length - 2;
    // Longer than a JS string can be: the bytes travel beside argv (big-args.ts).
    if (len > MAX_ARG_CHARS) attachBigArg(this.argv, this.argc++, big.subarray(0, len));
    else this.argv[this.argc++] = big.latin1Slice(0, len);
    this.bigArg = null;
    this.bigFilled = 0;
    this.bulkLen = -1;
    this.multibulkLen--;
    if (this.multibulkLen === 0) this.completedBig = this.argv;
    return chunk.subarray(take);
  }


  /** The last inline command and the bytes its line took (CLUSTER SLOT-STATS network-bytes-in). */
  inlineArgv: string[] | null = null;
  inlineBytes = 0;

  private readInline(): string[] | null {
    const start = this.pos;
    const argv = this.plainInline() ?? this.quotedInline();
    if (argv !== null) {
      this.inlineArgv = argv;
      this.inlineBytes = this.pos - start;
    }
    return argv;
  }

  /**
   * Fast path for a whole inline line of plain words (no quotes, no NUL):
   * split straight from the bytes, as splitArgs would. Any other line, or
   * one not complete yet, returns null untouched.
   */
  private plainInline(): string[] | null {
    const buf = this.buf;
    const len = buf.length;
    const argv: string[] = [];
    let word = -1;
    let p = this.pos;
    for (; p < len; p++) {
      const c = buf[p]!;
      if (c === LF) break;
      if (c === 34 || c === 39 || c === 0) return null;
      if (word >= 0) {
        // Inside a word only space, \t and \r end it (\v and \f are part of it).
        if (c === 32 || c === 9 || c === 13) {
          argv.push(decodeLatin1(buf, word, p));
          word = -1;
        }
      } else if (c !== 32 && (c < 9 || c > 13)) {
        // Between words every isspace() byte is skipped.
        word = p;
      }
    }
    if (p >= len) return null;
    if (word >= 0) argv.push(decodeLatin1(buf, word, p));
    this.pos = p + 1;
    return argv;
  }

  /** Any inline line: Redis' sdssplitargs rules (splitArgs), quotes included. */
  private quotedInline(): string[] | null {
    const buf = this.buf;
    let nl = buf.indexOf(LF, this.pos);
    // Redis finds the line end with strchr: a NUL byte before the newline
    // hides it, so such a line never completes (until the size limit).
    if (nl >= 0) {
      const nul = buf.indexOf(0, this.pos);
      if (nul >= 0 && nul < nl) nl = -1;
    }
    if (nl < 0) {
      if (buf.length - this.pos > PROTO_INLINE_MAX_SIZE)
        throw new ProtocolError('Protocol error: too big inline request');
      return null;
    }
    const next = nl + 1;
    if (nl > this.pos && buf[nl - 1] === CR) nl--;
    const line = buf.latin1Slice(this.pos, nl);
    this.pos = next;
    const argv = splitArgs(line);
    if (argv === null) throw new ProtocolError('Protocol error: unbalanced quotes in request');
    return argv;
  }
}

function isHex(c: string): boolean {
  return /^[0-9a-fA-F]$/.test(c);
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\n' || c === '\r' || c === '\t' || c === '\v' || c === '\f';
}

/**
 * Redis' sdssplitargs: whitespace-separated words, "double quoted" with
 * C escapes and \xHH, 'single quoted' with only \'. A closing quote must be
 * followed by a space or the end. Returns null on unbalanced quotes.
 */
export function splitArgs(line: string): string[] | null {
  // Redis works on a C string here: a NUL byte ends the line.
  const nul = line.indexOf('\0');
  if (nul >= 0) line = line.slice(0, nul);
  const out: string[] = [];
  let i = 0;
  const n = line.length;
  for (;;) {
    while (i < n && isSpace(line[i]!)) i++;
    if (i >= n) return out;
    let inq = false;
    let insq = false;
    let cur = '';
    for (;;) {
      if (inq) {
        if (i >= n) return null;
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === 'x' && i + 3 < n && isHex(line[i + 2]!) && isHex(line[i + 3]!)) {
          cur += String.fromCharCode(parseInt(line.slice(i + 2, i + 4), 16));
          i += 3;
        } else if (c === '\\' && i + 1 < n) {
          i++;
          const e = line[i]!;
          cur += e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : e === 'b' ? '\b' : e === 'a' ? '\x07' : e;
        } else if (c === '"') {
          if (i + 1 < n && !isSpace(line[i + 1]!)) return null;
          i++;
          break;
        } else {
          cur += c;
        }
      } else if (insq) {
        if (i >= n) return null;
        const c = line[i]!;
        if (c === '\\' && line[i + 1] === "'") {
          i++;
          cur += "'";
        } else if (c === "'") {
          if (i + 1 < n && !isSpace(line[i + 1]!)) return null;
          i++;
          break;
        } else {
          cur += c;
        }
      } else {
        if (i >= n) break;
        const c = line[i]!;
        // sdssplitargs ends an unquoted word only at space, \n, \r, \t.
        if (c === ' ' || c === '\n' || c === '\r' || c === '\t') break;
        if (c === '"') inq = true;
        else if (c === "'") insq = true;
        else cur += c;
      }
      i++;
    }
    out.push(cur);
  }
}
