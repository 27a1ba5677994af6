/**
 * DEBUG DIGEST / DIGEST-VALUE with Redis' algorithm (debug.c), so a dataset
 * held by Vireo and by redis-server gives the same 40 hex digits: order-free
 * parts are XORed, ordered parts are mixed (digest = SHA1(digest ^ SHA1(x))).
 *
 * A digest hashes every element twice, so SHA-1 is done here in plain JS on
 * preallocated buffers: for the short inputs involved that is several times
 * faster than a node:crypto Hash object per element.
 */

import { createHash } from 'node:crypto';
import type { Engine } from '../src/engine/engine.js';
import type { Db } from '../src/engine/keyspace.js';
import type { Value } from '../src/types/value.js';
import { MutableString, stringOf } from '../src/types/string.js';
import { ListValue } from '../src/types/list.js';
import { SetValue } from '../src/types/set.js';
import { ZSetValue } from '../src/types/zset.js';
import { HashValue } from '../src/types/hash.js';
import { StreamValue } from '../src/types/stream.js';
import { MAX_ID, MIN_ID } from '../src/types/stream-id.js';
import { formatFpconv } from '../src/util/numbers.js';

// ---- SHA-1 -----------------------------------------------------------------------

const W = new Int32Array(80);
const PAD = new Uint8Array(128);
/** Running state h0..h4 between blocks. */
const H = new Int32Array(5);

/** Process `blocks` 64-byte blocks of m from offset o into H. */
function sha1Blocks(m: Uint8Array, o: number, blocks: number): void {
  let h0 = H[0]!;
  let h1 = H[1]!;
  let h2 = H[2]!;
  let h3 = H[3]!;
  let h4 = H[4]!;
  const w = W;
  for (let blk = 0; blk < blocks; blk++, o += 64) {
    for (let i = 0, p = o; i < 16; i++, p += 4) w[i] = (m[p]! << 24) | (m[p + 1]! << 16) | (m[p + 2]! << 8) | m[p + 3]!;
    for (let i = 16; i < 80; i++) {
      const x = w[i - 3]! ^ w[i - 8]! ^ w[i - 14]! ^ w[i - 16]!;
      w[i] = (x << 1) | (x >>> 31);
    }
    let a = h0;
    let b = h1;
    let c = h2;
    let d = h3;
    let e = h4;
    let t: number;
    for (let i = 0; i < 20; i++) {
      t = (((a << 5) | (a >>> 27)) + ((b & c) | (~b & d)) + e + 0x5a827999 + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 20; i < 40; i++) {
      t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e + 0x6ed9eba1 + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 40; i < 60; i++) {
      t = (((a << 5) | (a >>> 27)) + ((b & c) | (b & d) | (c & d)) + e - 0x70e44324 + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    for (let i = 60; i < 80; i++) {
      t = (((a << 5) | (a >>> 27)) + (b ^ c ^ d) + e - 0x359d3e2a + w[i]!) | 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = t;
    }
    h0 = (h0 + a) | 0;
    h1 = (h1 + b) | 0;
    h2 = (h2 + c) | 0;
    h3 = (h3 + d) | 0;
    h4 = (h4 + e) | 0;
  }
  H[0] = h0;
  H[1] = h1;
  H[2] = h2;
  H[3] = h3;
  H[4] = h4;
}

/** Inputs at least this long are hashed by node:crypto (native, much faster per byte). */
const NATIVE_SHA1_BYTES = 64 * 1024;

/** SHA-1 of data[start, start+len) into out[0..20). `out` may be the input. */
export function sha1Into(data: Uint8Array, start: number, len: number, out: Uint8Array): void {
  if (len >= NATIVE_SHA1_BYTES) {
    out.set(createHash('sha1').update(data.subarray(start, start + len)).digest());
    return;
  }
  H[0] = 0x67452301;
  H[1] = 0xefcdab89 | 0;
  H[2] = 0x98badcfe | 0;
  H[3] = 0x10325476;
  H[4] = 0xc3d2e1f0 | 0;
  const rem = len % 64;
  const full = len - rem;
  if (full > 0) sha1Blocks(data, start, full / 64);
  PAD.fill(0);
  for (let i = 0; i < rem; i++) PAD[i] = data[start + full + i]!;
  PAD[rem] = 0x80;
  const total = rem + 9 <= 64 ? 64 : 128;
  const hi = Math.floor(len / 0x20000000);
  const lo = (len * 8) >>> 0;
  PAD[total - 8] = hi >>> 24;
  PAD[total - 7] = (hi >>> 16) & 0xff;
  PAD[total - 6] = (hi >>> 8) & 0xff;
  PAD[total - 5] = hi & 0xff;
  PAD[total - 4] = lo >>> 24;
  PAD[total - 3] = (lo >>> 16) & 0xff;
  PAD[total - 2] = (lo >>> 8) & 0xff;
  PAD[total - 1] = lo & 0xff;
  sha1Blocks(PAD, 0, total / 64);
  for (let i = 0; i < 5; i++) {
    const h = H[i]!;
    out[i * 4] = h >>> 24;
    out[i * 4 + 1] = (h >>> 16) & 0xff;
    out[i * 4 + 2] = (h >>> 8) & 0xff;
    out[i * 4 + 3] = h & 0xff;
  }
}

// ---- Redis' digest primitives -------------------------------------------------------

const HASH = new Uint8Array(20);
let scratch = Buffer.allocUnsafe(4096);

/** digest ^= SHA1(data) */
function xorBytes(digest: Uint8Array, data: Uint8Array, start = 0, len = data.length): void {
  sha1Into(data, start, len, HASH);
  for (let i = 0; i < 20; i++) digest[i]! ^= HASH[i]!;
}

/** digest = SHA1(digest ^ SHA1(data)) */
function mixBytes(digest: Uint8Array, data: Uint8Array, start = 0, len = data.length): void {
  xorBytes(digest, data, start, len);
  sha1Into(digest, 0, 20, digest);
}

/** A latin1 string's bytes in the scratch buffer; returns the length. */
function toScratch(s: string): number {
  if (s.length > scratch.length) scratch = Buffer.allocUnsafe(Math.max(s.length, scratch.length * 2));
  return scratch.latin1Write(s, 0);
}

function xorString(digest: Uint8Array, s: string): void {
  const len = toScratch(s); // may replace `scratch`
  xorBytes(digest, scratch, 0, len);
}

function mixString(digest: Uint8Array, s: string): void {
  const len = toScratch(s); // may replace `scratch`
  mixBytes(digest, scratch, 0, len);
}

const U32 = new Uint8Array(4);
function mixU32(digest: Uint8Array, n: number): void {
  U32[0] = n >>> 24;
  U32[1] = (n >>> 16) & 0xff;
  U32[2] = (n >>> 8) & 0xff;
  U32[3] = n & 0xff;
  mixBytes(digest, U32);
}

/** Redis' object type numbers, hashed in network order. */
const TYPE_IDS: Record<string, number> = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 6 };

/** xorObjectDigest: the value's digest mixed into `digest`. */
function objectDigest(db: Db, key: string, v: Value, digest: Uint8Array): void {
  const type = typeof v === 'object' ? v.type : 'string';
  mixU32(digest, TYPE_IDS[type] ?? 0);
  if (v instanceof MutableString) {
    mixBytes(digest, v.bytes);
  } else if (typeof v !== 'object') {
    mixString(digest, stringOf(v));
  } else if (v instanceof ListValue) {
    v.walk(0, false, (s) => {
      mixString(digest, s);
      return true;
    });
  } else if (v instanceof SetValue) {
    for (const m of v.members()) xorString(digest, m);
  } else if (v instanceof ZSetValue) {
    const ele = new Uint8Array(20);
    for (const [m, s] of v.entries()) {
      ele.fill(0);
      mixString(ele, m);
      mixString(ele, formatFpconv(s));
      xorBytes(digest, ele);
    }
  } else if (v instanceof HashValue) {
    const ele = new Uint8Array(20);
    for (const [f, val] of v.entries()) {
      ele.fill(0);
      mixString(ele, f);
      mixString(ele, val);
      xorBytes(digest, ele);
    }
  } else if (v instanceof StreamValue) {
    // Like Redis: each live entry's "ms.seq" ID, then its fields and values, in order.
    const it = v.iterate(MIN_ID, MAX_ID, false);
    while (it.next()) {
      const c = it.cursor;
      mixString(digest, `${c.ms}.${c.seq}`);
      c.forEachPair((field, r) => {
        mixString(digest, field);
        if (r.isInt) mixString(digest, String(r.int));
        else mixBytes(digest, r.buf, r.strStart, r.strLen);
      });
    }
  }
  if (db.getExpire(key) !== -1) xorString(digest, '!!expire!!');
}

/** DEBUG DIGEST: 40 hex digits for the whole dataset ('0' * 40 when empty). */
export function datasetDigest(engine: Engine): string {
  const final = new Uint8Array(20);
  const digest = new Uint8Array(20);
  for (const db of engine.dbs) {
    if (db.size === 0) continue;
    mixU32(final, db.id);
    for (const [key, v] of db.entries()) {
      digest.fill(0);
      mixString(digest, key);
      objectDigest(db, key, v, digest);
      xorBytes(final, digest);
    }
  }
  return Buffer.from(final).toString('hex');
}

/** DEBUG DIGEST-VALUE: per key, the digest of its value alone. */
export function valueDigest(db: Db, key: string): string {
  const digest = new Uint8Array(20);
  const v = db.get(key);
  if (v !== undefined) objectDigest(db, key, v, digest);
  return Buffer.from(digest).toString('hex');
}
