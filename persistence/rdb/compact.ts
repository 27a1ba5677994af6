/**
 * Readers for the compact blobs older and current RDB files embed: ziplist,
 * listpack, intset and zipmap. Each returns the elements as latin1 strings
 * (integers in decimal) and throws RdbError on anything malformed, so a
 * damaged file fails loudly instead of loading garbage.
 */

import { RdbError } from './format.js';

function fail(what: string, pos: number): never {
  throw new RdbError(`corrupt ${what} at byte ${pos}`);
}

/** Entries of a ziplist (Redis < 7). */
export function readZiplist(b: Buffer): string[] {
  if (b.length < 11) fail('ziplist header', 0);
  const total = b.readUInt32LE(0);
  if (total !== b.length) fail('ziplist length', 0);
  const count = b.readUInt16LE(8);
  const out: string[] = [];
  let p = 10;
  for (;;) {
    if (p >= b.length) fail('ziplist (missing end marker)', p);
    if (b[p] === 0xff) break;
    // prevlen
    if (b[p] === 0xfe) p += 5;
    else p += 1;
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
        if (p + n > b.length) fail('ziplist integer', p);
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
  }
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
    const backlen = entryLen <= 127 ? 1 : entryLen < 16383 ? 2 : entryLen < 2097151 ? 3 : entryLen < 268435455 ? 4 : 5;
    p += entryLen + backlen;
  }
  if (p !== b.length - 1) fail('listpack (data after end marker)', p);
  if (count !== 65535 && count !== out.length) fail('listpack entry count', 4);
  return out;
}

/** Members of an intset. */
export function readIntset(b: Buffer): string[] {
  if (b.length < 8) fail('intset header', 0);
  const width = b.readUInt32LE(0);
  const count = b.readUInt32LE(4);
  if (width !== 2 && width !== 4 && width !== 8) fail('intset encoding', 0);
  if (8 + width * count !== b.length) fail('intset length', 4);
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const at = 8 + i * width;
    out.push(width === 2 ? String(b.readInt16LE(at)) : width === 4 ? String(b.readInt32LE(at)) : b.readBigInt64LE(at).toString());
  }
  return out;
}

/** Field/value pairs of a zipmap (hashes in very old RDB files). */
export function readZipmap(b: Buffer): string[] {
  const out: string[] = [];
  let p = 1;
  const readLen = (): number => {
    if (p >= b.length) fail('zipmap', p);
    const first = b[p]!;
    if (first < 254) {
      p += 1;
      return first;
    }
    if (first === 254) {
      if (p + 4 >= b.length) fail('zipmap length', p);
      const v = b.readUInt32LE(p + 1);
      p += 5;
      return v;
    }
    return -1;
  };
  for (;;) {
    const klen = readLen();
    if (klen < 0) break;
    out.push(slice(b, p, klen, 'zipmap key'));
    p += klen;
    const vlen = readLen();
    if (vlen < 0) fail('zipmap value', p);
    if (p >= b.length) fail('zipmap', p);
    const free = b[p]!;
    p += 1;
    out.push(slice(b, p, vlen, 'zipmap value'));
    p += vlen + free;
  }
  if (out.length % 2 !== 0) fail('zipmap pairs', p);
  return out;
}
