/**
 * Listpack elements in a byte buffer, encoded exactly as Redis' listpack.c
 * (lpEncodeString / lpEncodeIntegerGetType / lpEncodeBacklen): a string
 * that reads as an int64 takes the smallest integer encoding, any other
 * string a 6-, 12- or 32-bit length, and every element ends with its
 * back-length so it can be walked both ways. Stream nodes keep their
 * entries this way (src/types/stream-node.ts): the bytes Redis would hold,
 * written to RDB files as they are.
 *
 * Decoding reports through the fields of an LpReader so that reading an
 * element allocates nothing; strings are left in the buffer as a range.
 */

import { parseInteger } from '../util/numbers.js';

/** Bytes of a back-length for an element of `n` bytes (lpEncodeBacklen). */
export function backlenBytes(n: number): number {
  return n <= 127 ? 1 : n < 16383 ? 2 : n < 2097151 ? 3 : n < 268435455 ? 4 : 5;
}

/** Encoded bytes (without back-length) of an integer element. */
function intBodyBytes(v: number | bigint): number {
  if (typeof v === 'bigint') return 9;
  if (v >= 0 && v <= 127) return 1;
  if (v >= -4096 && v <= 4095) return 2;
  if (v >= -32768 && v <= 32767) return 3;
  if (v >= -8388608 && v <= 8388607) return 4;
  if (v >= -2147483648 && v <= 2147483647) return 5;
  return 9;
}

/** Total bytes of an integer element. */
export function lpIntBytes(v: number | bigint): number {
  const n = intBodyBytes(v);
  return n + backlenBytes(n);
}

function strBodyBytes(len: number): number {
  return len < 64 ? 1 + len : len < 4096 ? 2 + len : 5 + len;
}

/** The int64 a string stands for in a listpack (lpStringToInt64 is string2ll), or null. */
export function lpIntOf(s: string): number | bigint | null {
  if (s.length === 0 || s.length > 20) return null;
  const c = s.charCodeAt(0);
  if (c !== 45 && (c < 48 || c > 57)) return null;
  return parseInteger(s);
}

/** Total bytes of a string element (an integer-looking string counts as the integer). */
export function lpStringBytes(s: string): number {
  const v = lpIntOf(s);
  if (v !== null) return lpIntBytes(v);
  return lpPlainStringBytes(s);
}

/** Total bytes of a string element stored as a string (lpIntOf found no integer in it). */
export function lpPlainStringBytes(s: string): number {
  const n = strBodyBytes(s.length);
  return n + backlenBytes(n);
}

function writeBacklen(b: Buffer, p: number, l: number): number {
  if (l <= 127) {
    b[p] = l;
    return p + 1;
  }
  const size = backlenBytes(l);
  for (let i = size - 1; i >= 0; i--) {
    const group = Math.floor(l / 2 ** (7 * i)) & 127;
    b[p++] = i === size - 1 ? group : group | 128;
  }
  return p;
}

/** Write an integer element at p; returns the position after it. */
export function writeLpInt(b: Buffer, p: number, v: number | bigint): number {
  const start = p;
  if (typeof v === 'bigint') {
    b[p] = 0xf4;
    b.writeBigInt64LE(v, p + 1);
    p += 9;
  } else if (v >= 0 && v <= 127) {
    b[p++] = v;
  } else if (v >= -4096 && v <= 4095) {
    const u = v < 0 ? 8192 + v : v;
    b[p] = 0xc0 | (u >> 8);
    b[p + 1] = u & 255;
    p += 2;
  } else if (v >= -32768 && v <= 32767) {
    b[p] = 0xf1;
    b.writeInt16LE(v, p + 1);
    p += 3;
  } else if (v >= -8388608 && v <= 8388607) {
    b[p] = 0xf2;
    b.writeIntLE(v, p + 1, 3);
    p += 4;
  } else if (v >= -2147483648 && v <= 2147483647) {
    b[p] = 0xf3;
    b.writeInt32LE(v, p + 1);
    p += 5;
  } else {
    b[p] = 0xf4;
    b.writeBigInt64LE(BigInt(v), p + 1);
    p += 9;
  }
  return writeBacklen(b, p, p - start);
}

/** Write a string element (as an integer when it reads as one); returns the position after it. */
export function writeLpString(b: Buffer, p: number, s: string): number {
  const v = lpIntOf(s);
  if (v !== null) return writeLpInt(b, p, v);
  return writeLpPlainString(b, p, s);
}

/** Write a string element as a string (lpIntOf found no integer in it); returns the position after it. */
export function writeLpPlainString(b: Buffer, p: number, s: string): number {
  const start = p;
  const len = s.length;
  if (len < 64) b[p++] = 0x80 | len;
  else if (len < 4096) {
    b[p] = 0xe0 | (len >> 8);
    b[p + 1] = len & 255;
    p += 2;
  } else {
    b[p] = 0xf0;
    b.writeUInt32LE(len, p + 1);
    p += 5;
  }
  if (len <= 16) for (let i = 0; i < len; i++) b[p + i] = s.charCodeAt(i);
  else b.latin1Write(s, p, len);
  p += len;
  return writeBacklen(b, p, p - start);
}

/**
 * Reads one element at a time. After read(p): `isInt` and `int` for an
 * integer element, else the string is buf[strStart, strStart + strLen);
 * `next` is where the following element starts.
 */
export class LpReader {
  isInt = false;
  int: number | bigint = 0;
  strStart = 0;
  strLen = 0;
  next = 0;

  constructor(public buf: Buffer) {}

  read(p: number): void {
    const b = this.buf;
    const enc = b[p]!;
    let body: number;
    if (enc < 0x80) {
      this.isInt = true;
      this.int = enc;
      body = 1;
    } else if (enc < 0xc0) {
      this.isInt = false;
      this.strStart = p + 1;
      this.strLen = enc & 0x3f;
      body = 1 + this.strLen;
    } else if (enc < 0xe0) {
      this.isInt = true;
      const u = ((enc & 0x1f) << 8) | b[p + 1]!;
      this.int = u >= 4096 ? u - 8192 : u;
      body = 2;
    } else if (enc < 0xf0) {
      this.isInt = false;
      this.strStart = p + 2;
      this.strLen = ((enc & 0x0f) << 8) | b[p + 1]!;
      body = 2 + this.strLen;
    } else if (enc === 0xf0) {
      this.isInt = false;
      this.strStart = p + 5;
      this.strLen = b.readUInt32LE(p + 1);
      body = 5 + this.strLen;
    } else if (enc === 0xf1) {
      this.isInt = true;
      this.int = b.readInt16LE(p + 1);
      body = 3;
    } else if (enc === 0xf2) {
      this.isInt = true;
      this.int = b.readIntLE(p + 1, 3);
      body = 4;
    } else if (enc === 0xf3) {
      this.isInt = true;
      this.int = b.readInt32LE(p + 1);
      body = 5;
    } else {
      this.isInt = true;
      const v = b.readBigInt64LE(p + 1);
      this.int = v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
      body = 9;
    }
    this.next = p + body + backlenBytes(body);
  }

  /** Where the element after the one at p starts, without decoding it. */
  skip(p: number): number {
    const b = this.buf;
    const enc = b[p]!;
    let body: number;
    if (enc < 0x80) body = 1;
    else if (enc < 0xc0) body = 1 + (enc & 0x3f);
    else if (enc < 0xe0) body = 2;
    else if (enc < 0xf0) body = 2 + (((enc & 0x0f) << 8) | b[p + 1]!);
    else if (enc === 0xf0) body = 5 + b.readUInt32LE(p + 1);
    else if (enc === 0xf1) body = 3;
    else if (enc === 0xf2) body = 4;
    else if (enc === 0xf3) body = 5;
    else body = 9;
    return p + body + backlenBytes(body);
  }

  /** The integer element at p (the caller knows it is one). */
  intAt(p: number): number {
    this.read(p);
    return Number(this.int);
  }

  /** The element's text (an integer in decimal), as a latin1 string. */
  text(): string {
    return this.isInt ? String(this.int) : this.buf.latin1Slice(this.strStart, this.strStart + this.strLen);
  }

  /** Where the element ending at p (exclusive) starts: read its back-length backwards. */
  startBefore(p: number): number {
    const b = this.buf;
    let at = p - 1;
    let val = 0;
    let shift = 1;
    for (;;) {
      const byte = b[at]!;
      val += (byte & 127) * shift;
      if ((byte & 128) === 0) break;
      shift *= 128;
      at--;
    }
    return at - val;
  }
}
