/**
 * DEBUG DIGEST / DIGEST-VALUE with Redis' algorithm (debug.c), so a dataset
 * held by Vireo and by redis-server gives the same 40 hex digits: order-free
 * parts are XORed, ordered parts are mixed (digest = SHA1(digest ^ SHA1(x))).
 */

import crypto from 'node:crypto';
import type { Engine } from '../src/engine/engine.js';
import type { Db } from '../src/engine/keyspace.js';
import type { Value } from '../src/types/value.js';
import { MutableString, stringOf } from '../src/types/string.js';
import { ListValue } from '../src/types/list.js';
import { SetValue } from '../src/types/set.js';
import { ZSetValue } from '../src/types/zset.js';
import { HashValue } from '../src/types/hash.js';
import { OpaqueValue } from '../src/types/opaque.js';
import { formatFpconv } from '../src/util/numbers.js';

function sha1(data: Buffer): Buffer {
  return crypto.createHash('sha1').update(data).digest();
}

function xorDigest(digest: Buffer, data: Buffer): void {
  const h = sha1(data);
  for (let i = 0; i < 20; i++) digest[i]! ^= h[i]!;
}

function mixDigest(digest: Buffer, data: Buffer): void {
  xorDigest(digest, data);
  sha1(digest).copy(digest);
}

const bytes = (s: string) => Buffer.from(s, 'latin1');

/** Redis' object type numbers, hashed in network order. */
const TYPE_IDS: Record<string, number> = { string: 0, list: 1, set: 2, zset: 3, hash: 4, stream: 6 };

/** xorObjectDigest: the value's digest mixed into `digest`. */
function objectDigest(db: Db, key: string, v: Value, digest: Buffer): void {
  const type = typeof v === 'object' ? v.type : 'string';
  const aux = Buffer.alloc(4);
  aux.writeUInt32BE(TYPE_IDS[type] ?? 0);
  mixDigest(digest, aux);
  if (typeof v !== 'object' || v instanceof MutableString) {
    mixDigest(digest, bytes(stringOf(v)));
  } else if (v instanceof ListValue) {
    v.walk(0, false, (s) => {
      mixDigest(digest, bytes(s));
      return true;
    });
  } else if (v instanceof SetValue) {
    for (const m of v.members()) xorDigest(digest, bytes(m));
  } else if (v instanceof ZSetValue) {
    for (const [m, s] of v.entries()) {
      const ele = Buffer.alloc(20);
      mixDigest(ele, bytes(m));
      mixDigest(ele, bytes(formatFpconv(s)));
      xorDigest(digest, ele);
    }
  } else if (v instanceof HashValue) {
    for (const [f, val] of v.entries()) {
      const ele = Buffer.alloc(20);
      mixDigest(ele, bytes(f));
      mixDigest(ele, bytes(val));
      xorDigest(digest, ele);
    }
  } else if (v instanceof OpaqueValue) {
    mixDigest(digest, v.payload);
  }
  if (db.getExpire(key) !== -1) xorDigest(digest, bytes('!!expire!!'));
}

/** DEBUG DIGEST: 40 hex digits for the whole dataset ('0' * 40 when empty). */
export function datasetDigest(engine: Engine): string {
  const final = Buffer.alloc(20);
  for (const db of engine.dbs) {
    if (db.size === 0) continue;
    const aux = Buffer.alloc(4);
    aux.writeUInt32BE(db.id);
    mixDigest(final, aux);
    for (const [key, v] of db.entries()) {
      const digest = Buffer.alloc(20);
      mixDigest(digest, bytes(key));
      objectDigest(db, key, v, digest);
      xorDigest(final, digest);
    }
  }
  return final.toString('hex');
}

/** DEBUG DIGEST-VALUE: per key, the digest of its value alone. */
export function valueDigest(db: Db, key: string): string {
  const digest = Buffer.alloc(20);
  const v = db.get(key);
  if (v !== undefined) objectDigest(db, key, v, digest);
  return digest.toString('hex');
}
