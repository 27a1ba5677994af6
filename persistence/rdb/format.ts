/**
 * RDB format constants and the primitive encodings shared by the reader
 * and the writer: lengths, strings (integer, LZF), doubles, milliseconds.
 * Layout as in Redis' rdb.h / rdb.c, versions up to 11.
 */

import { lzfCompressInto, lzfDecompress, lzfDecompressInto } from './lzf.js';
import { MAX_STRING_CHARS } from '../../src/types/string.js';
import { decodeLatin1 } from '../../src/protocol/latin1-decode.js';
import { int64Of } from '../../src/util/numbers.js';

export const RDB_VERSION_WRITTEN = 10;
export const RDB_VERSION_MAX_READ = 11;

export const RDB_TYPE = {
  STRING: 0,
  LIST: 1,
  SET: 2,
  ZSET: 3,
  HASH: 4,
  ZSET_2: 5,
  MODULE_PRE_GA: 6,
  MODULE_2: 7,
  HASH_ZIPMAP: 9,
  LIST_ZIPLIST: 10,
  SET_INTSET: 11,
  ZSET_ZIPLIST: 12,
  HASH_ZIPLIST: 13,
  LIST_QUICKLIST: 14,
  STREAM_LISTPACKS: 15,
  HASH_LISTPACK: 16,
  ZSET_LISTPACK: 17,
  LIST_QUICKLIST_2: 18,
  STREAM_LISTPACKS_2: 19,
  SET_LISTPACK: 20,
  STREAM_LISTPACKS_3: 21,
} as const;

export const RDB_OPCODE = {
  FUNCTION2: 245,
  FUNCTION_PRE_GA: 246,
  MODULE_AUX: 247,
  IDLE: 248,
  FREQ: 249,
  AUX: 250,
  RESIZEDB: 251,
  EXPIRETIME_MS: 252,
  EXPIRETIME: 253,
  SELECTDB: 254,
  EOF: 255,
} as const;

const RDB_ENCVAL = 3;
const RDB_ENC_INT8 = 0;
const RDB_ENC_INT16 = 1;
const RDB_ENC_INT32 = 2;
export const RDB_ENC_LZF = 3;
/** The most bytes LZF makes of one input byte: a 3-byte back reference copies at most 264. */
const LZF_MAX_EXPANSION = 88;
/** LZF strings up to this long are decompressed into one reused buffer (RdbInput.lzfString). */
const LZF_SCRATCH_MAX = 64 * 1024;
let lzfScratch = Buffer.allocUnsafe(4096);

export class RdbError extends Error {}

// ---- reading ------------------------------------------------------------------

/** A bounds-checked cursor over an RDB byte buffer. */
export class RdbInput {
  pos = 0;

  constructor(readonly buf: Buffer) {}

  need(n: number): void {
    if (this.pos + n > this.buf.length) throw new RdbError(`unexpected end of data at offset ${this.pos} (need ${n} bytes)`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  bytes(n: number): Buffer {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  /** rdbLoadLenByRef: [length, isEncoded]. */
  lenWithEncoding(): [number, boolean] {
    const first = this.u8();
    const type = (first & 0xc0) >> 6;
    if (type === RDB_ENCVAL) return [first & 0x3f, true];
    if (type === 0) return [first & 0x3f, false];
    if (type === 1) return [((first & 0x3f) << 8) | this.u8(), false];
    if (first === 0x80) {
      this.need(4);
      const v = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return [v, false];
    }
    if (first === 0x81) {
      this.need(8);
      const v = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RdbError(`length too large at offset ${this.pos - 9}`);
      return [Number(v), false];
    }
    throw new RdbError(`unknown length encoding 0x${first.toString(16)} at offset ${this.pos - 1}`);
  }

  /**
   * A length field that may use all 64 bits (stream IDs and counters, where
   * Redis stores -1 as 2^64-1): returned as a bigint, never rejected.
   */
  len64(): bigint {
    const first = this.u8();
    const type = (first & 0xc0) >> 6;
    if (type === 0) return BigInt(first & 0x3f);
    if (type === 1) return BigInt(((first & 0x3f) << 8) | this.u8());
    if (first === 0x80) {
      this.need(4);
      const v = this.buf.readUInt32BE(this.pos);
      this.pos += 4;
      return BigInt(v);
    }
    if (first === 0x81) {
      this.need(8);
      const v = this.buf.readBigUInt64BE(this.pos);
      this.pos += 8;
      return v;
    }
    throw new RdbError(`unknown length encoding 0x${first.toString(16)} at offset ${this.pos - 1}`);
  }

  len(): number {
    // Redis' rdbLoadLen(rdb, NULL): a byte 0xC0-0xFF (the marker of an
    // encoded string) where a length is expected is read as its low 6 bits.
    return this.lenWithEncoding()[0];
  }

  /** rdbGenericLoadStringObject, as raw bytes. */
  stringBytes(): Buffer {
    const [len, encoded] = this.lenWithEncoding();
    if (!encoded) return this.bytes(len);
    switch (len) {
      case RDB_ENC_INT8:
        return Buffer.from(String(this.bytes(1).readInt8(0)), 'latin1');
      case RDB_ENC_INT16:
        return Buffer.from(String(this.bytes(2).readInt16LE(0)), 'latin1');
      case RDB_ENC_INT32:
        return Buffer.from(String(this.bytes(4).readInt32LE(0)), 'latin1');
      case RDB_ENC_LZF: {
        const clen = this.len();
        const ulen = this.len();
        const data = this.bytes(clen);
        // Redis checks lzf_decompress(...) != len, and lzf_decompress answers
        // 0 on any error: an uncompressed length of 0 is "" whatever follows.
        if (ulen === 0) return Buffer.alloc(0);
        // Checked before the output is allocated: the length comes from the file (or a RESTORE payload).
        if (ulen > clen * LZF_MAX_EXPANSION) throw new RdbError(`LZF: uncompressed length ${ulen} out of bounds at offset ${this.pos - clen}`);
        try {
          return lzfDecompress(data, ulen);
        } catch (e) {
          throw new RdbError(`${(e as Error).message} at offset ${this.pos - clen}`);
        }
      }
      default:
        throw new RdbError(`unknown string encoding ${len} at offset ${this.pos - 1}`);
    }
  }

  /** A string (a key, an element, an AUX field): refused when longer than a JS string can be. */
  string(): string {
    const at = this.pos;
    const s = this.stringOrBytes();
    if (typeof s !== 'string') {
      throw new RdbError(`a string of ${s.length} bytes at offset ${at} is longer than Vireo can hold anywhere but in a string value`);
    }
    return s;
  }

  /** A string, or its bytes when it is longer than a JS string (string values: MutableString). */
  stringOrBytes(): string | Buffer {
    // Fast path for plain strings: no intermediate Buffer view.
    const buf = this.buf;
    const pos = this.pos;
    if (pos < buf.length) {
      const first = buf[pos]!;
      let len = -1;
      let start = 0;
      if (first < 0x40) {
        len = first;
        start = pos + 1;
      } else if (first < 0x80 && pos + 1 < buf.length) {
        len = ((first & 0x3f) << 8) | buf[pos + 1]!;
        start = pos + 2;
      }
      if (len >= 0 && start + len <= buf.length) {
        this.pos = start + len;
        return decodeLatin1(buf, start, start + len);
      }
    }
    if (pos < buf.length && buf[pos] === 0xc0 + RDB_ENC_LZF) {
      const s = this.lzfString();
      if (s !== null) return s;
    }
    const bytes = this.stringBytes();
    return bytes.length > MAX_STRING_CHARS ? bytes : bytes.latin1Slice();
  }

  /**
   * An LZF-compressed string of up to LZF_SCRATCH_MAX bytes, decompressed
   * into a reused buffer: no Buffer made per value, which loading 1M
   * compressed values paid twice (the input's view and the output). Null,
   * with nothing consumed, for the other cases (stringBytes takes them).
   */
  private lzfString(): string | null {
    const start = this.pos;
    this.pos++;
    const clen = this.len();
    const ulen = this.len();
    if (ulen === 0 || ulen > LZF_SCRATCH_MAX) {
      this.pos = start;
      return null;
    }
    this.need(clen);
    const at = this.pos;
    if (lzfScratch.length < ulen) lzfScratch = Buffer.allocUnsafe(Math.max(ulen, lzfScratch.length * 2));
    try {
      lzfDecompressInto(this.buf, at, at + clen, lzfScratch, ulen);
    } catch (e) {
      throw new RdbError(`${(e as Error).message} at offset ${at}`);
    }
    this.pos = at + clen;
    return decodeLatin1(lzfScratch, 0, ulen);
  }

  /** Binary double (RDB_TYPE_ZSET_2, 8 bytes little endian). */
  binaryDouble(): number {
    this.need(8);
    const v = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return v;
  }

  /** Old string-form double (RDB_TYPE_ZSET). */
  textDouble(): number {
    const len = this.u8();
    if (len === 253) return NaN;
    if (len === 254) return Infinity;
    if (len === 255) return -Infinity;
    const v = Number(this.bytes(len).latin1Slice());
    if (Number.isNaN(v)) throw new RdbError(`bad double at offset ${this.pos - len}`);
    return v;
  }

  millis(): number {
    this.need(8);
    const v = Number(this.buf.readBigInt64LE(this.pos));
    this.pos += 8;
    return v;
  }
}

// ---- writing --------------------------------------------------------------------

/** Scratch copy of a string being compressed. */
let lzfInput = Buffer.allocUnsafe(64 * 1024);

/** takeBuffer's buffers: at least this large (none from Node's shared pool), at most this many kept. */
const RECYCLED_MIN = 64 * 1024;
const RECYCLED_MAX = 16;

/** Strings at least this long are written through `spill` (when set) rather than copied into the buffer. */
export const SPILL_BYTES = 1024 * 1024;

/** Values at least this long are LZF-compressed only if samples of them compress. */
export const SAMPLED_LZF_BYTES = 16 * 1024 * 1024;
const SAMPLE_WINDOWS = 16;
const SAMPLE_BYTES = 64 * 1024;
const sampleOut = Buffer.allocUnsafe(SAMPLE_BYTES);

/**
 * Whether LZF is worth trying on `b`. Compressing hundreds of MB of data
 * that does not compress (already compressed, encrypted, random) takes
 * seconds of JS, all of it while the event loop waits, only for LZF to give
 * up at the end: a long value is compressed only if one of 16 windows
 * spread over it saves at least 1/32 of its bytes. The file stays valid
 * either way (the value is then stored plain, as Redis stores what LZF cannot shrink).
 */
export function looksCompressible(b: Uint8Array): boolean {
  if (b.length < SAMPLED_LZF_BYTES) return true;
  const step = Math.floor((b.length - SAMPLE_BYTES) / (SAMPLE_WINDOWS - 1));
  for (let i = 0; i < SAMPLE_WINDOWS; i++) {
    const window = b.subarray(i * step, i * step + SAMPLE_BYTES);
    if (lzfCompressInto(window, SAMPLE_BYTES, sampleOut, 0, SAMPLE_BYTES - SAMPLE_BYTES / 32) > 0) return true;
  }
  return false;
}

/**
 * Where a deferring RdbOutput's bytes go (deferLzf): compression happens
 * later, elsewhere (a worker thread: lzf-spans.ts), from the spans marked.
 */
export interface DeferredLzfSink {
  /** Hand over the buffered bytes and their spans (before a long string's chunk). */
  flush(): void;
  /** A long string as a chunk of its own, a fresh buffer: its length header, then its bytes, one span (none without compression). */
  long(chunk: Buffer, spans: Int32Array): void;
}

/**
 * Copy from[start, start + len) to to[at]. Buffer.copy and subarray with
 * an offset make a view per call (garbage, and about 200 ns: a Buffer's
 * subarray runs Buffer's JS constructor): runs shorter than what a loop
 * copies in that time (4 ns a byte) are copied by a loop instead. (Caching
 * a plain Uint8Array view of the source helped only while one source
 * repeats; a snapshot reads its records from slabs all over.)
 */
export function copyBytes(from: Uint8Array, start: number, len: number, to: Uint8Array, at: number): void {
  if (len <= 48) {
    for (let i = 0; i < len; i++) to[at + i] = from[start + i]!;
  } else {
    to.set(from.subarray(start, start + len), at);
  }
}

/** RDB's length encoding of `n` at buf[at]; returns the position after it (at most 9 bytes). */
export function writeLen(buf: Buffer, at: number, n: number): number {
  if (n < 1 << 6) buf[at++] = n;
  else if (n < 1 << 14) {
    buf[at++] = (n >> 8) | 0x40;
    buf[at++] = n & 0xff;
  } else if (n <= 0xffffffff) {
    buf[at++] = 0x80;
    buf.writeUInt32BE(n, at);
    at += 4;
  } else {
    buf[at++] = 0x81;
    buf.writeBigUInt64BE(BigInt(n), at);
    at += 8;
  }
  return at;
}

/** RdbOutput's span table until its first span. */
const NO_SPANS = new Int32Array(0);

/** A growable output buffer with the RDB primitives. */
export class RdbOutput {
  buf: Buffer;
  pos = 0;
  /**
   * Null: strings are LZF-compressed here, as they are written. Set: they
   * are written plain, and each one LZF may shrink is recorded as a span
   * (header start, body start, body length) for compression elsewhere,
   * which replaces header and body with Redis' LZF form when that saves
   * 4 bytes: the result is byte for byte what compressing here gives.
   */
  deferLzf: DeferredLzfSink | null = null;
  /**
   * The spans of the buffered bytes (deferLzf): three int32 per string,
   * positions in `buf`. Made at the first span: a DUMP payload (one per key
   * for MIGRATE) never defers, and 12 KB zeroed per output was most of its cost.
   */
  private spans = NO_SPANS;
  private spanInts = 0;
  /**
   * Where the bytes of a long string go (after the bytes buffered before
   * it), so a value of hundreds of MB is never copied into this buffer:
   * null to copy everything in. A chunk is only valid during the call.
   */
  spill: ((chunk: Buffer) => void) | null = null;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Bytes written so far (a view, valid until the next write). */
  view(): Buffer {
    return this.buf.subarray(0, this.pos);
  }

  /**
   * Hand the buffered bytes and their spans (deferLzf) to `use`, as views
   * valid only during the call, and start over in the same buffer.
   */
  handOver(use: (bytes: Buffer, spans: Int32Array) => void): void {
    use(this.buf.subarray(0, this.pos), this.spans.subarray(0, this.spanInts));
    this.pos = 0;
    this.spanInts = 0;
  }

  private span(header: number, body: number, len: number): void {
    if (this.spanInts + 3 > this.spans.length) {
      const next = new Int32Array(Math.max(3 * 1024, this.spans.length * 2));
      next.set(this.spans);
      this.spans = next;
    }
    const sp = this.spans;
    const i = this.spanInts;
    sp[i] = header;
    sp[i + 1] = body;
    sp[i + 2] = len;
    this.spanInts = i + 3;
  }

  /** Take the bytes written so far and start over. */
  take(): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos));
    this.pos = 0;
    return out;
  }

  /** Buffers given back after use, for takeBuffer() to write into next. */
  private spares: ArrayBuffer[] = [];

  /**
   * take() without a copy: the buffer itself is handed over, and writing
   * goes on in one given back by giveBack(), or a new one. A snapshot's
   * chunks then reuse a few buffers instead of allocating hundreds of MB of
   * them, whose external-memory growth made V8 collect in the middle of
   * slices.
   */
  takeBuffer(): Buffer {
    const out = this.buf.subarray(0, this.pos);
    const size = this.buf.length;
    const spare = this.spares.pop();
    this.buf = spare !== undefined && spare.byteLength === size ? Buffer.from(spare) : Buffer.allocUnsafe(size);
    this.pos = 0;
    return out;
  }

  /** A chunk from takeBuffer() that is no longer used (written out): its buffer may be written into again. */
  giveBack(chunk: Buffer): void {
    // Only whole buffers of their own (Node's 8 KB pool is shared by other Buffers).
    if (chunk.byteOffset !== 0 || chunk.buffer.byteLength < RECYCLED_MIN || this.spares.length >= RECYCLED_MAX) return;
    this.spares.push(chunk.buffer as ArrayBuffer);
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  len(n: number): void {
    this.ensure(9);
    this.pos = writeLen(this.buf, this.pos, n);
  }

  /**
   * rdbSaveRawString: small canonical integers use the integer encodings,
   * long strings are LZF-compressed when that saves space (rdbcompression).
   */
  string(s: string, compress: boolean): void {
    const len = s.length;
    if (len <= 11 && len > 0) {
      const c0 = s.charCodeAt(0);
      if ((c0 >= 48 && c0 <= 57) || c0 === 45) {
        const v = Number(s);
        if (Number.isInteger(v) && String(v) === s && v >= -2147483648 && v <= 2147483647) {
          this.ensure(5);
          if (v >= -128 && v <= 127) {
            this.buf[this.pos++] = 0xc0 | RDB_ENC_INT8;
            this.buf.writeInt8(v, this.pos);
            this.pos += 1;
          } else if (v >= -32768 && v <= 32767) {
            this.buf[this.pos++] = 0xc0 | RDB_ENC_INT16;
            this.buf.writeInt16LE(v, this.pos);
            this.pos += 2;
          } else {
            this.buf[this.pos++] = 0xc0 | RDB_ENC_INT32;
            this.buf.writeInt32LE(v, this.pos);
            this.pos += 4;
          }
          return;
        }
      }
    }
    if (this.spill !== null && len >= SPILL_BYTES) {
      // A long string goes the way of long bytes (sampled LZF, not copied into the buffer).
      if (this.deferLzf !== null) this.deferLong(this.deferLzf, len, compress, (chunk, at) => chunk.latin1Write(s, at));
      else this.spilledBytes(Buffer.from(s, 'latin1'), compress);
      return;
    }
    if (compress && len > 20 && this.deferLzf !== null) {
      const header = this.pos;
      this.len(len);
      this.ensure(len);
      const body = this.pos;
      this.pos += this.buf.latin1Write(s, body);
      this.span(header, body, len);
      return;
    }
    if (compress && len > 20) {
      // Compress from a scratch copy straight into the output: no allocation per string.
      if (lzfInput.length < len) lzfInput = Buffer.allocUnsafe(Math.max(len, lzfInput.length * 2));
      lzfInput.latin1Write(s, 0);
      if (this.lzfInPlace(lzfInput, len)) return;
    }
    this.len(len);
    this.ensure(len);
    this.pos += this.buf.latin1Write(s, this.pos);
  }

  /**
   * rdbSaveRawString of buf[start, start + len), a string-store record's
   * key or value: no JS string is made, except for the few bytes of a
   * string that may take an integer encoding.
   */
  bytesAt(buf: Buffer, start: number, len: number, compress: boolean): void {
    if (len <= 11) {
      const c0 = buf[start];
      if (len > 0 && ((c0! >= 48 && c0! <= 57) || c0 === 45)) {
        this.string(buf.latin1Slice(start, start + len), compress);
        return;
      }
    } else if (compress && len > 20 && this.lzfInPlace(buf, len, start)) {
      return;
    }
    this.len(len);
    this.ensure(len);
    copyBytes(buf, start, len, this.buf, this.pos);
    this.pos += len;
  }

  /** rdbSaveRawString of bytes (a MutableString's value, possibly longer than a JS string). */
  bytes(b: Uint8Array, compress: boolean): void {
    const len = b.length;
    // Only strings of up to 11 bytes can take an integer encoding.
    if (len <= 11) {
      this.string(Buffer.from(b.buffer, b.byteOffset, len).latin1Slice(), compress);
      return;
    }
    if (this.spill !== null && len >= SPILL_BYTES) {
      this.spilledBytes(b, compress);
      return;
    }
    if (compress && len > 20 && this.lzfInPlace(b, len)) return;
    this.len(len);
    this.raw(b);
  }

  /**
   * LZF-compress input[inStart, inStart + len) straight into the output behind its header;
   * false (nothing written) when it does not save at least 4 bytes.
   */
  private lzfInPlace(input: Uint8Array, len: number, inStart = 0): boolean {
    if (this.deferLzf !== null) {
      const header = this.pos;
      this.len(len);
      this.ensure(len);
      const body = this.pos;
      copyBytes(input, inStart, len, this.buf, body);
      this.pos += len;
      this.span(header, body, len);
      return true;
    }
    this.ensure(len + 12);
    const headerRoom = 11; // type byte + two lengths
    const clen = lzfCompressInto(input, len, this.buf, this.pos + headerRoom, len - 4, inStart);
    if (clen === 0) return false;
    const body = this.pos + headerRoom;
    this.buf[this.pos++] = 0xc0 | RDB_ENC_LZF;
    this.len(clen);
    this.len(len);
    this.buf.copyWithin(this.pos, body, body + clen);
    this.pos += clen;
    return true;
  }

  /** A long string: its header here, its body (compressed or not) handed to spill. */
  private spilledBytes(b: Uint8Array, compress: boolean): void {
    const len = b.length;
    if (this.deferLzf !== null) {
      // A copy: the value may change once this slice has returned, before it is compressed and written.
      this.deferLong(this.deferLzf, len, compress, (chunk, at) => chunk.set(b, at));
      return;
    }
    if (compress && looksCompressible(b)) {
      // Like Redis: the compressed form must save 4 bytes, into a buffer of len-4.
      const packed = Buffer.allocUnsafe(len - 4);
      const clen = lzfCompressInto(b, len, packed, 0, len - 4);
      if (clen > 0) {
        this.u8(0xc0 | RDB_ENC_LZF);
        this.len(clen);
        this.len(len);
        this.spillRun(packed.subarray(0, clen));
        return;
      }
    }
    this.len(len);
    this.spillRun(Buffer.from(b.buffer, b.byteOffset, len));
  }

  /** A long string as its own chunk for the deferring sink: its length header, then the bytes `fill` writes at `at`. */
  private deferLong(sink: DeferredLzfSink, len: number, compress: boolean, fill: (chunk: Buffer, at: number) => void): void {
    const chunk = Buffer.allocUnsafe(9 + len);
    const h = writeLen(chunk, 0, len);
    fill(chunk, h);
    if (this.pos > 0) sink.flush();
    sink.long(chunk.subarray(0, h + len), compress ? Int32Array.of(0, h, len) : new Int32Array(0));
  }

  private spillRun(chunk: Buffer): void {
    const spill = this.spill!;
    if (this.pos > 0) spill(this.take());
    spill(chunk);
  }

  binaryDouble(d: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(d, this.pos);
    this.pos += 8;
  }

  millis(ms: number): void {
    this.ensure(8);
    this.buf.writeBigInt64LE(int64Of(ms), this.pos);
    this.pos += 8;
  }
}
