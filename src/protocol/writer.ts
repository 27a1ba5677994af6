/**
 * Reply encoder for RESP2 and RESP3.
 *
 * Commands describe replies semantically (map, set, double, null, push) and
 * the writer picks the wire form for the client's protocol version, the way
 * Redis' addReply* functions do.
 *
 * All writers of one server share an OutputArena: replies are encoded
 * straight into a large slab and each client keeps the slices that belong to
 * it. Flushing hands those slices to the socket without copying; a slab is
 * never rewritten, a full one is simply dropped for a fresh one and freed by
 * the GC once its writes have completed.
 */

import { formatDouble, int64Text } from '../util/numbers.js';
import { putBulk, putBulkBytes, putString, putUint, uintDigits } from '../util/bytes.js';

/** Replies are encoded into shared slabs of this size (CLIENT LIST rbs). */
export const REPLY_SLAB_SIZE = 256 * 1024;
const SLAB_SIZE = REPLY_SLAB_SIZE;
/** Strings longer than this are written as their own chunk, not into the slab. */
const DIRECT_STRING = 16 * 1024;
/** Bytes bulkArray encodes per reservation. */
const RUN_BYTES = 64 * 1024;

export class OutputArena {
  buf: Buffer = Buffer.allocUnsafe(SLAB_SIZE);
  pos = 0;
  owner: ReplyWriter | null = null;
}

/** Where a writer's finished bytes go. */
export interface ReplySink {
  writeChunks(chunks: Buffer[]): void;
}

const CRLF = Buffer.from('\r\n', 'latin1');
/** Room deferArray keeps for an array header: '*', up to 16 digits (2^53), CRLF. */
const DEFERRED_HEADER = 19;

export class ReplyWriter {
  /** 2 or 3, set by HELLO. */
  resp: 2 | 3 = 2;
  /** Finished slices waiting for flush(). */
  private chunks: Buffer[] = [];
  /** The array takeChunks() returned last time, reused (no allocation per flush). */
  private spareChunks: Buffer[] = [];
  /** Start of this writer's open region in the arena, valid while it owns it. */
  private regionStart = 0;
  /** Bytes encoded since the last flush (for output buffer accounting). */
  pending = 0;
  /** CLIENT REPLY OFF/SKIP: replies are encoded nowhere. */
  muted = false;
  /** Error replies written so far (the dispatcher diffs it to count failed calls). */
  errorCount = 0;
  /** Told about every error reply (errorstats), muted or not. */
  onError: ((msg: string) => void) | null = null;
  /** The slab of each header deferArray() kept room for and setArrayLength() has not written yet. */
  private readonly deferredSlabs: Buffer[] = [];

  constructor(private readonly arena: OutputArena) {}

  /** Make room for n bytes at arena.pos inside this writer's region. */
  private reserve(n: number): Buffer {
    const a = this.arena;
    if (a.owner !== this || a.pos + n > a.buf.length) {
      if (a.owner !== null) a.owner.closeRegion();
      if (a.pos + n > a.buf.length) {
        a.buf = Buffer.allocUnsafe(Math.max(SLAB_SIZE, n));
        a.pos = 0;
      }
      a.owner = this;
      this.regionStart = a.pos;
    }
    return a.buf;
  }

  /** Seal the open region into a chunk (the arena is about to move on). */
  private closeRegion(): void {
    const a = this.arena;
    if (a.pos > this.regionStart) this.chunks.push(a.buf.subarray(this.regionStart, a.pos));
    a.owner = null;
  }

  /** Note where the output stands (a command starts): rollbackTo() returns there. */
  markAt(m: WriterMark): void {
    const a = this.arena;
    m.chunks = this.chunks.length;
    m.owned = a.owner === this;
    m.buf = a.buf;
    m.regionStart = this.regionStart;
    m.pos = a.pos;
    m.pending = this.pending;
    m.deferred = this.deferredSlabs.length;
  }

  /**
   * Drop what was written since markAt(m) (a command that threw halfway
   * through its reply): the error that replaces it must not follow half an
   * array, or the client reads the rest of the stream out of step.
   */
  rollbackTo(m: WriterMark): void {
    const a = this.arena;
    const sameRegion = m.owned && a.owner === this && a.buf === m.buf && this.regionStart === m.regionStart && this.chunks.length === m.chunks;
    if (sameRegion) {
      a.pos = m.pos;
    } else {
      if (a.owner === this) a.owner = null;
      while (this.chunks.length > m.chunks) this.chunks.pop();
      // The region open at the mark was sealed since: keep its part written before the mark.
      if (m.owned && m.pos > m.regionStart) this.chunks.push(m.buf!.subarray(m.regionStart, m.pos));
    }
    this.pending = m.pending;
    while (this.deferredSlabs.length > m.deferred) this.deferredSlabs.pop();
  }

  /**
   * Take everything written since the last call. The array is reused by
   * the next call: keep its elements, not the array.
   */
  takeChunks(): Buffer[] | null {
    if (this.arena.owner === this) this.closeRegion();
    const out = this.chunks;
    if (out.length === 0) return null;
    this.chunks = this.spareChunks;
    this.spareChunks = out;
    // pop() is inlined; assigning length = 0 is a runtime call.
    while (this.chunks.length > 0) this.chunks.pop();
    this.pending = 0;
    return out;
  }

  get hasOutput(): boolean {
    return this.chunks.length > 0 || (this.arena.owner === this && this.arena.pos > this.regionStart);
  }

  // ---- low level -------------------------------------------------------

  /** Write an ASCII/latin1 string that fits the slab. */
  private raw(s: string): void {
    const buf = this.reserve(s.length);
    const a = this.arena;
    a.pos = putString(buf, a.pos, s);
    this.pending += s.length;
  }

  /** prefix + decimal integer + CRLF, without an intermediate string. */
  private prefixedInt(prefix: number, n: number): void {
    if (!Number.isSafeInteger(n)) {
      // An int64 beyond 2^53 held as a double: its digits, never an exponent or a value past int64.
      this.raw(String.fromCharCode(prefix) + int64Text(n) + '\r\n');
      return;
    }
    const buf = this.reserve(24);
    const a = this.arena;
    let p = a.pos;
    buf[p++] = prefix;
    if (n < 0) {
      buf[p++] = 45;
      n = -n;
    }
    p = putUint(buf, p, n);
    buf[p++] = 13;
    buf[p++] = 10;
    this.pending += p - a.pos;
    a.pos = p;
  }

  private crlf(): void {
    const buf = this.reserve(2);
    const a = this.arena;
    buf[a.pos++] = 13;
    buf[a.pos++] = 10;
    this.pending += 2;
  }

  // ---- RESP types ------------------------------------------------------

  /** +OK style status reply. */
  simple(s: string): void {
    if (this.muted) return;
    this.raw('+' + s + '\r\n');
  }

  ok(): void {
    if (this.muted) return;
    this.raw('+OK\r\n');
  }

  /**
   * An error reply; `msg` starts with its code (ERR, WRONGTYPE, ...).
   * `counted` false: the error was already counted in errorstats where it
   * arose (a script returning the error of a command it ran).
   */
  error(msg: string, counted = true): void {
    this.errorCount++;
    if (counted && this.onError !== null) this.onError(msg);
    if (this.muted) return;
    // Newlines would break the protocol; Redis trims them at the end (sdstrim) and turns the rest into spaces.
    if (msg.includes('\n') || msg.includes('\r')) msg = msg.replace(/[\r\n]+$/, '').replace(/[\r\n]/g, ' ');
    this.raw('-' + msg + '\r\n');
  }

  integer(n: number | bigint): void {
    if (this.muted) return;
    if (typeof n === 'bigint') this.raw(':' + n.toString() + '\r\n');
    else this.prefixedInt(58, n);
  }

  /** A bulk string holding a latin1 (byte) string. */
  bulk(s: string): void {
    if (this.muted) return;
    const len = s.length;
    if (len > DIRECT_STRING) {
      this.prefixedInt(36, len);
      this.direct(Buffer.from(s, 'latin1'));
      this.crlf();
      return;
    }
    const buf = this.reserve(len + 24);
    const a = this.arena;
    const p = putBulk(buf, a.pos, s);
    this.pending += p - a.pos;
    a.pos = p;
  }

  /** A bulk string from raw bytes. */
  bulkBuffer(b: Buffer): void {
    if (this.muted) return;
    this.prefixedInt(36, b.length);
    this.payload(b, false);
    this.crlf();
  }

  /**
   * The bytes of a bulk or verbatim string: copied into the arena, or when
   * large kept as a chunk of their own, copied first unless `handOver` (the
   * caller gives the buffer up and will not change it).
   */
  private payload(b: Buffer, handOver: boolean): void {
    if (b.length > DIRECT_STRING) {
      this.direct(handOver ? b : Buffer.from(b));
      return;
    }
    const buf = this.reserve(b.length);
    b.copy(buf, this.arena.pos);
    this.arena.pos += b.length;
    this.pending += b.length;
  }

  /** A bulk string of the bytes src[start, end) (packed list entries, copied without a string). */
  bulkBytes(src: Buffer, start: number, end: number): void {
    if (this.muted) return;
    const n = end - start;
    if (n > DIRECT_STRING) {
      this.prefixedInt(36, n);
      this.direct(Buffer.from(src.subarray(start, end)));
      this.crlf();
      return;
    }
    const buf = this.reserve(n + 24);
    const a = this.arena;
    const p = putBulkBytes(buf, a.pos, src, start, end);
    this.pending += p - a.pos;
    a.pos = p;
  }

  /** An integer value sent as a bulk string (GET of an int-encoded value). */
  bulkNumber(n: number | bigint): void {
    if (this.muted) return;
    this.bulk(typeof n === 'bigint' ? n.toString() : String(n));
  }

  /** Append a whole buffer as its own chunk. */
  private direct(b: Buffer): void {
    if (this.arena.owner === this) this.closeRegion();
    this.chunks.push(b);
    this.pending += b.length;
  }

  /** The null of a missing bulk string: `$-1` / `_`. */
  nullBulk(): void {
    if (this.muted) return;
    this.raw(this.resp === 3 ? '_\r\n' : '$-1\r\n');
  }

  /** The null of a missing array: `*-1` / `_`. */
  nullArray(): void {
    if (this.muted) return;
    this.raw(this.resp === 3 ? '_\r\n' : '*-1\r\n');
  }

  array(n: number): void {
    if (this.muted) return;
    this.prefixedInt(42, n);
  }

  /** An array header for a length beyond 2^53 (streamed replies of a client-given count). */
  bigArray(n: bigint): void {
    if (this.muted) return;
    this.raw('*' + n.toString() + '\r\n');
  }

  /** A map of n pairs: `%n` in RESP3, a flat array of 2n in RESP2. */
  map(n: number): void {
    if (this.muted) return;
    if (this.resp === 3) this.prefixedInt(37, n);
    else this.prefixedInt(42, n * 2);
  }

  /** A set: `~n` in RESP3, an array in RESP2. */
  set(n: number): void {
    if (this.muted) return;
    this.prefixedInt(this.resp === 3 ? 126 : 42, n);
  }

  /** An attribute-free push message: `>n` in RESP3, an array in RESP2. */
  push(n: number): void {
    if (this.muted) return;
    this.prefixedInt(this.resp === 3 ? 62 : 42, n);
  }

  /** A double: `,` in RESP3, a bulk string in RESP2, formatted as Redis does. */
  double(d: number): void {
    if (this.muted) return;
    if (this.resp === 3) {
      const s = Number.isNaN(d) ? 'nan' : d === Infinity ? 'inf' : d === -Infinity ? '-inf' : formatDouble(d);
      this.raw(',' + s + '\r\n');
    } else {
      this.bulk(formatDouble(d));
    }
  }

  /** A double the caller formatted (Redis' addReplyHumanLongDouble): `,` in RESP3, a bulk string in RESP2. */
  doubleText(s: string): void {
    if (this.muted) return;
    if (this.resp === 3) this.raw(',' + s + '\r\n');
    else this.bulk(s);
  }

  bool(b: boolean): void {
    if (this.muted) return;
    if (this.resp === 3) this.raw(b ? '#t\r\n' : '#f\r\n');
    else this.raw(b ? ':1\r\n' : ':0\r\n');
  }

  /** Verbatim text (`=len\r\ntxt:...`) in RESP3, a bulk string in RESP2. */
  verbatim(s: string, format = 'txt'): void {
    if (this.muted) return;
    if (this.resp === 3) {
      this.prefixedInt(61, s.length + 4);
      this.raw(format + ':');
      this.raw(s);
      this.crlf();
    } else {
      this.bulk(s);
    }
  }

  /**
   * Verbatim text held in bytes (a reply built in a Buffer: LOLWUT's art can
   * be hundreds of MB). A large buffer is handed over, not copied: the
   * caller must not change it afterwards.
   */
  verbatimBytes(b: Buffer, format = 'txt'): void {
    if (this.muted) return;
    if (this.resp === 3) {
      this.prefixedInt(61, b.length + 4);
      this.raw(format + ':');
    } else {
      this.prefixedInt(36, b.length);
    }
    this.payload(b, true);
    this.crlf();
  }

  /** Big number: `(` in RESP3, a bulk string in RESP2. */
  bigNumber(s: string): void {
    if (this.muted) return;
    if (this.resp === 3) this.raw('(' + s + '\r\n');
    else this.bulk(s);
  }

  /** An array of bulk strings. */
  bulkArray(items: readonly string[]): void {
    if (this.muted) return;
    const n = items.length;
    this.array(n);
    let i = 0;
    while (i < n) {
      // A run of elements whose total fits one reservation is encoded in a
      // tight loop (LRANGE, HGETALL, SMEMBERS...): no per-element bookkeeping.
      let bytes = 0;
      let j = i;
      for (; j < n && bytes < RUN_BYTES; j++) {
        const len = items[j]!.length;
        if (len > DIRECT_STRING) break;
        bytes += len + 10; // '$', at most 5 digits, two CRLFs
      }
      if (j === i) {
        this.bulk(items[i++]!);
        continue;
      }
      const buf = this.reserve(bytes);
      const a = this.arena;
      const start = a.pos;
      let p = start;
      for (; i < j; i++) p = putBulk(buf, p, items[i]!);
      this.pending += p - start;
      a.pos = p;
    }
  }

  /**
   * An array header whose length is only known after its elements are
   * written (Redis' addReplyDeferredLen): room for the longest header is
   * kept in place, and setArrayLength, which must follow before the reply
   * is flushed, writes the header at the end of that room. Returns a handle
   * for setArrayLength (-1 while muted).
   */
  deferArray(): number {
    if (this.muted) return -1;
    const buf = this.reserve(DEFERRED_HEADER);
    const a = this.arena;
    const at = a.pos;
    a.pos += DEFERRED_HEADER;
    this.deferredSlabs.push(buf);
    return at;
  }

  /** Write the header deferArray() kept room for; the unused front of the room is left out of the reply. */
  setArrayLength(handle: number, n: number): void {
    if (handle < 0) return;
    const slab = this.deferredSlabs.pop()!;
    const roomEnd = handle + DEFERRED_HEADER;
    let p = roomEnd - 3 - uintDigits(n);
    const start = p;
    slab[p++] = 42; // '*'
    p = putUint(slab, p, n);
    slab[p++] = 13;
    slab[p] = 10;
    this.pending += roomEnd - start;
    const a = this.arena;
    if (a.owner === this && a.buf === slab && this.regionStart <= handle) {
      // The room is in the open region: what came before it becomes a chunk, the region goes on from the header.
      if (this.regionStart < handle) this.chunks.push(slab.subarray(this.regionStart, handle));
      this.regionStart = start;
      return;
    }
    // The region was sealed since (its slab filled up, a big string went out on its own): cut the room out of its chunk.
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const c = this.chunks[i]!;
      const from = c.byteOffset - slab.byteOffset;
      if (c.buffer !== slab.buffer || handle < from || handle >= from + c.length) continue;
      const after = slab.subarray(start, from + c.length);
      if (handle > from) this.chunks.splice(i, 1, slab.subarray(from, handle), after);
      else this.chunks[i] = after;
      return;
    }
    throw new Error('setArrayLength: the deferred header is not in this reply');
  }

  /**
   * Raw access for an encoder of its own (stream entries): room for `n`
   * bytes in the returned buffer from `rawPosition`; the encoder then calls
   * advanceRaw with the position after what it wrote. Not while muted.
   */
  reserveRaw(n: number): Buffer {
    return this.reserve(n);
  }

  get rawPosition(): number {
    return this.arena.pos;
  }

  advanceRaw(end: number): void {
    this.pending += end - this.arena.pos;
    this.arena.pos = end;
  }

  /** Pre-encoded protocol bytes (replies relayed verbatim). */
  rawBytes(b: Buffer): void {
    if (this.muted) return;
    if (b.length > DIRECT_STRING) {
      this.direct(b);
      return;
    }
    const buf = this.reserve(b.length);
    b.copy(buf, this.arena.pos);
    this.arena.pos += b.length;
    this.pending += b.length;
  }

  /**
   * Bytes shared with other clients (a Pub/Sub frame), appended as their
   * own chunk without a copy: the caller never changes them. Not muted:
   * a push is not a reply (CLIENT REPLY OFF silences replies only).
   */
  shared(b: Buffer): void {
    this.direct(b);
  }

  /**
   * The header of an attribute map of n pairs (`|n`), followed by its pairs
   * and then the reply it describes. RESP3 only: RESP2 has no attributes,
   * so callers send neither the header nor the pairs to a RESP2 client.
   */
  attribute(n: number): void {
    if (this.muted || this.resp !== 3) return;
    this.prefixedInt(124, n);
  }
}

/** Where a writer's output stood (markAt / rollbackTo). */
export class WriterMark {
  chunks = 0;
  owned = false;
  buf: Buffer | null = null;
  regionStart = 0;
  pos = 0;
  pending = 0;
  deferred = 0;
}

export { CRLF };
