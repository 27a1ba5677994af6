/**
 * Readers for the compact blobs older and current RDB files embed: ziplist,
 * listpack, intset and zipmap (and writers for the listpack and intset that
 * Vireo itself writes). Each returns the elements as latin1 strings
 * (integers in decimal) and throws RdbError on anything malformed, so a
 * damaged file fails loudly instead of loading garbage.
 */

import { RdbError } from './format.js';
import { backlenBytes, lpStringBytes, writeLpString } from '../../src/types/lp-codec.js';

function fail(what: string, pos: number): never {
  throw new RdbError(`corrupt ${what} at byte ${pos}`);
}

/**
 * Entries of a ziplist (Redis < 7), validated like Redis'
 * ziplistValidateIntegrity with deep checks: header, tail offset, every
 * entry's prevlen, encodings, bounds, count and end marker.
 */
export function readZiplist(b: Buffer): string[] {
  if (b.length < 11) fail('ziplist header', 0);
  const total = b.readUInt32LE(0);
  if (total !== b.length) fail('ziplist length', 0);
  const tail = b.readUInt32LE(4);
  if (tail > b.length - 1) fail('ziplist tail offset', 4);
  if (b[b.length - 1] !== 0xff) fail('ziplist (missing end marker)', b.length - 1);
  const count = b.readUInt16LE(8);
  const out: string[] = [];
  let p = 10;
  let prevSize = 0;
  let last = -1;
  for (;;) {
    if (p >= b.length) fail('ziplist (missing end marker)', p);
    if (b[p] === 0xff) break;
    const start = p;
    // prevlen: the previous entry's size, in 1 or 5 bytes
    let prevlen: number;
    if (b[p] === 0xfe) {
      if (p + 5 > b.length) fail('ziplist entry', p);
      prevlen = b.readUInt32LE(p + 1);
      p += 5;
    } else {
      prevlen = b[p]!;
      p += 1;
    }
    if (prevlen !== prevSize) fail('ziplist entry (prevlen)', start);
    if (p >= b.length) fail('ziplist entry', p);
    const enc = b[p]!;
    const kind = enc >> 6;
    if (kind === 0) {
      const len = enc & 0x3f;
      p += 1;
      out.push(slice(b, p, len, 'ziplist string'));
      p += len;
    } else if (kind === 1) {
      if (p + 1 >= b.length) fail('ziplist entry', p);
      const len = ((enc & 0x3f) << 8) | b[p + 1]!;
      p += 2;
      out.push(slice(b, p, len, 'ziplist string'));
      p += len;
    } else if (kind === 2) {
      if (p + 4 >= b.length) fail('ziplist entry', p);
      const len = b.readUInt32BE(p + 1);
      p += 5;
      out.push(slice(b, p, len, 'ziplist string'));
      p += len;
    } else {
      p += 1;
      const need = (n: number) => {
        if (p + n > b.length - 1) fail('ziplist integer', p);
      };
      if (enc === 0xc0) {
        need(2);
        out.push(String(b.readInt16LE(p)));
        p += 2;
      } else if (enc === 0xd0) {
        need(4);
        out.push(String(b.readInt32LE(p)));
        p += 4;
      } else if (enc === 0xe0) {
        need(8);
        out.push(b.readBigInt64LE(p).toString());
        p += 8;
      } else if (enc === 0xf0) {
        need(3);
        out.push(String(b.readIntLE(p, 3)));
        p += 3;
      } else if (enc === 0xfe) {
        need(1);
        out.push(String(b.readInt8(p)));
        p += 1;
      } else if (enc >= 0xf1 && enc <= 0xfd) {
        out.push(String((enc & 0x0f) - 1));
      } else fail('ziplist encoding', p - 1);
    }
    if (p > b.length - 1) fail('ziplist entry (out of bounds)', start);
    prevSize = p - start;
    last = start;
  }
  if (p !== b.length - 1) fail('ziplist (data after end marker)', p);
  // The tail offset points at the last entry.
  if (last >= 0 && tail !== last) fail('ziplist tail offset', 4);
  if (count !== 0xffff && count !== out.length) fail('ziplist entry count', 8);
  return out;
}

function slice(b: Buffer, at: number, len: number, what: string): string {
  if (at + len > b.length) fail(what, at);
  return b.latin1Slice(at, at + len);
}

/** Entries of a listpack (Redis 7). */
export function readListpack(b: Buffer): string[] {
  if (b.length < 7) fail('listpack header', 0);
  const total = b.readUInt32LE(0);
  if (total !== b.length) fail('listpack length', 0);
  const count = b.readUInt16LE(4);
  const out: string[] = [];
  let p = 6;
  for (;;) {
    if (p >= b.length) fail('listpack (missing end marker)', p);
    const enc = b[p]!;
    if (enc === 0xff) break;
    let entryLen: number;
    if ((enc & 0x80) === 0) {
      out.push(String(enc & 0x7f));
      entryLen = 1;
    } else if ((enc & 0xc0) === 0x80) {
      const len = enc & 0x3f;
      out.push(slice(b, p + 1, len, 'listpack string'));
      entryLen = 1 + len;
    } else if ((enc & 0xe0) === 0xc0) {
      if (p + 1 >= b.length) fail('listpack entry', p);
      let v = ((enc & 0x1f) << 8) | b[p + 1]!;
      if (v >= 1 << 12) v -= 1 << 13;
      out.push(String(v));
      entryLen = 2;
    } else if ((enc & 0xf0) === 0xe0) {
      if (p + 1 >= b.length) fail('listpack entry', p);
      const len = ((enc & 0x0f) << 8) | b[p + 1]!;
      out.push(slice(b, p + 2, len, 'listpack string'));
      entryLen = 2 + len;
    } else if (enc === 0xf0) {
      if (p + 4 >= b.length) fail('listpack entry', p);
      const len = b.readUInt32LE(p + 1);
      out.push(slice(b, p + 5, len, 'listpack string'));
      entryLen = 5 + len;
    } else if (enc === 0xf1) {
      if (p + 2 >= b.length) fail('listpack entry', p);
      out.push(String(b.readInt16LE(p + 1)));
      entryLen = 3;
    } else if (enc === 0xf2) {
      if (p + 3 >= b.length) fail('listpack entry', p);
      out.push(String(b.readIntLE(p + 1, 3)));
      entryLen = 4;
    } else if (enc === 0xf3) {
      if (p + 4 >= b.length) fail('listpack entry', p);
      out.push(String(b.readInt32LE(p + 1)));
      entryLen = 5;
    } else if (enc === 0xf4) {
      if (p + 8 >= b.length) fail('listpack entry', p);
      out.push(b.readBigInt64LE(p + 1).toString());
      entryLen = 9;
    } else fail('listpack encoding', p);
    const backlen = backlenBytes(entryLen);
    if (p + entryLen + backlen > b.length - 1) fail('listpack entry (out of bounds)', p);
    // The back-length at the end of the entry must encode the entry's size (lpValidateNext).
    if (decodeBacklen(b, p + entryLen + backlen - 1) !== entryLen) fail('listpack entry (back-length)', p);
    p += entryLen + backlen;
  }
  if (p !== b.length - 1) fail('listpack (data after end marker)', p);
  if (count !== 65535 && count !== out.length) fail('listpack entry count', 4);
  return out;
}

/** lpDecodeBacklen: read a back-length ending at `at`, walking backwards. */
function decodeBacklen(b: Buffer, at: number): number {
  let val = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++, at--) {
    const byte = b[at]!;
    val += (byte & 127) * 2 ** shift;
    if ((byte & 128) === 0) return val;
    shift += 7;
  }
  return -1;
}

/**
 * Members of an intset, validated like Redis' intsetValidateIntegrity with
 * deep checks: a known width, the right size, not empty, strictly ascending.
 */
export function readIntset(b: Buffer): string[] {
  if (b.length < 8) fail('intset header', 0);
  const width = b.readUInt32LE(0);
  const count = b.readUInt32LE(4);
  if (width !== 2 && width !== 4 && width !== 8) fail('intset encoding', 0);
  if (8 + width * count !== b.length) fail('intset length', 4);
  if (count === 0) fail('intset (empty)', 4);
  const out: string[] = [];
  let prev: bigint | null = null;
  for (let i = 0; i < count; i++) {
    const at = 8 + i * width;
    const v = width === 2 ? BigInt(b.readInt16LE(at)) : width === 4 ? BigInt(b.readInt32LE(at)) : b.readBigInt64LE(at);
    if (prev !== null && v <= prev) fail('intset (unsorted or duplicate members)', at);
    prev = v;
    out.push(v.toString());
  }
  return out;
}

/**
 * Field/value pairs of a zipmap (hashes in very old RDB files), validated
 * like Redis' zipmapValidateIntegrity (always deep): end marker, bounds,
 * a non-empty map and the header's count (unless it says 254+).
 */
export function readZipmap(b: Buffer): string[] {
  if (b.length < 2) fail('zipmap header', 0);
  const last = b.length - 1;
  if (b[last] !== 0xff) fail('zipmap (missing end marker)', last);
  const headerCount = b[0]!;
  const outOfRange = (q: number) => q < 2 || q > last;
  const lenSize = (q: number) => (b[q]! < 254 ? 1 : 5);
  const decodeLen = (q: number) => (b[q]! < 254 ? b[q]! : b.readUInt32LE(q + 1));
  const out: string[] = [];
  let count = 0;
  let p = 1;
  while (b[p] !== 0xff) {
    let s = lenSize(p);
    if (outOfRange(p + s)) fail('zipmap key length', p);
    const keyLen = decodeLen(p);
    const key = p + s;
    p = key + keyLen;
    if (outOfRange(p)) fail('zipmap key', key);
    s = lenSize(p);
    if (outOfRange(p + s)) fail('zipmap value length', p);
    const l = decodeLen(p);
    p += s;
    const free = b[p++]!;
    const value = p;
    p += l + free;
    if (outOfRange(p)) fail('zipmap value', value);
    out.push(b.latin1Slice(key, key + keyLen), b.latin1Slice(value, value + l));
    count++;
  }
  if (count === 0) fail('zipmap (empty)', 0);
  if (headerCount !== 254 && headerCount !== count) fail('zipmap entry count', 0);
  return out;
}

// ---- writers ------------------------------------------------------------------------

/** A listpack holding `entries` (integers in their integer encodings), as Redis 7 lays it out. */
export function writeListpack(entries: readonly string[]): Buffer {
  let total = 6 + 1;
  for (const e of entries) total += lpStringBytes(e);
  const out = Buffer.alloc(total);
  out.writeUInt32LE(total, 0);
  out.writeUInt16LE(Math.min(entries.length, 65535), 4);
  let at = 6;
  for (const e of entries) at = writeLpString(out, at, e);
  out[at] = 0xff;
  return out;
}

/** An intset of these integers (ascending, distinct), in the narrowest width that holds them all. */
export function writeIntset(members: readonly bigint[]): Buffer {
  let width = 2;
  for (const v of members) {
    if (v < -(1n << 31n) || v >= 1n << 31n) width = 8;
    else if (width < 4 && (v < -32768n || v > 32767n)) width = 4;
  }
  const out = Buffer.alloc(8 + width * members.length);
  out.writeUInt32LE(width, 0);
  out.writeUInt32LE(members.length, 4);
  members.forEach((v, i) => {
    const at = 8 + i * width;
    if (width === 2) out.writeInt16LE(Number(v), at);
    else if (width === 4) out.writeInt32LE(Number(v), at);
    else out.writeBigInt64LE(v, at);
  });
  return out;
}
