/**
 * One value in RDB form, both ways: the object serialization shared by RDB
 * files, DUMP/RESTORE payloads and AOF preambles.
 *
 * Writing keeps a compact value compact as Redis 7.0 does (listpack hashes
 * and sorted sets, intsets), so a reload or RESTORE keeps its encoding even
 * when the thresholds changed since; everything else in the plain encodings
 * (string, list, set, zset with binary scores, hash). Reading accepts every encoding
 * up to RDB 11 and rebuilds Vireo's own representations, choosing the
 * compact forms by the configured thresholds as Redis does on load.
 */

import { RDB_TYPE, RdbError, RdbInput, RdbOutput } from './format.js';
import { readIntset, readListpack, readZiplist, readZipmap, writeIntset, writeListpack } from './compact.js';
import { formatDouble } from '../../src/util/numbers.js';
import type { Value } from '../../src/types/value.js';
import { MutableString, encodeString, stringOf } from '../../src/types/string.js';
import { ListValue } from '../../src/types/list.js';
import { HashValue } from '../../src/types/hash.js';
import { SetValue } from '../../src/types/set.js';
import { ZSetValue } from '../../src/types/zset.js';
import { StreamValue } from '../../src/types/stream.js';
import { readStream, writeStream } from './stream.js';
import { EncodingLimits } from '../../src/types/limits.js';

/** The RDB type byte Vireo writes for a value. */
export function valueType(v: Value): number {
  if (typeof v !== 'object' || v instanceof MutableString) return RDB_TYPE.STRING;
  if (v instanceof ListValue) return RDB_TYPE.LIST;
  if (v instanceof SetValue) return v.encoding() === 'intset' ? RDB_TYPE.SET_INTSET : RDB_TYPE.SET;
  if (v instanceof ZSetValue) return v.isPacked ? RDB_TYPE.ZSET_LISTPACK : RDB_TYPE.ZSET_2;
  if (v instanceof HashValue) return v.isPacked ? RDB_TYPE.HASH_LISTPACK : RDB_TYPE.HASH;
  if (v instanceof StreamValue) return RDB_TYPE.STREAM_LISTPACKS_2;
  throw new RdbError(`cannot serialize a ${v.type} value`);
}

/** Write the payload that follows the type byte (and, in files, the key). */
export function writePayload(out: RdbOutput, v: Value, compress: boolean): void {
  if (v instanceof MutableString) {
    out.bytes(v.bytes, compress);
  } else if (typeof v !== 'object') {
    out.string(stringOf(v), compress);
  } else if (v instanceof ListValue) {
    out.len(v.length);
    v.walk(0, false, (s) => {
      out.string(s, compress);
      return true;
    });
  } else if (v instanceof SetValue && v.encoding() === 'intset') {
    out.bytes(writeIntset([...v.members()].map((m) => BigInt(m))), compress);
  } else if (v instanceof ZSetValue && v.isPacked) {
    const flat: string[] = [];
    for (const [m, s] of v.entries()) flat.push(m, formatDouble(s));
    out.bytes(writeListpack(flat), compress);
  } else if (v instanceof HashValue && v.isPacked) {
    out.bytes(writeListpack([...v.entries()].flatMap(([f, val]) => [f, val])), compress);
  } else if (v instanceof SetValue) {
    out.len(v.size);
    for (const m of v.members()) out.string(m, compress);
  } else if (v instanceof ZSetValue) {
    out.len(v.size);
    for (const [m, s] of v.entries()) {
      out.string(m, compress);
      out.binaryDouble(s);
    }
  } else if (v instanceof HashValue) {
    out.len(v.size);
    for (const [f, val] of v.entries()) {
      out.string(f, compress);
      out.string(val, compress);
    }
  } else if (v instanceof StreamValue) {
    writeStream(out, v, compress);
  }
}

/** Write `v` as <type byte><payload> (DUMP payloads). */
export function writeValue(out: RdbOutput, v: Value, compress: boolean): void {
  out.u8(valueType(v));
  writePayload(out, v, compress);
}

export function isValueType(t: number): boolean {
  return (t >= RDB_TYPE.STRING && t <= RDB_TYPE.MODULE_2) || (t >= RDB_TYPE.HASH_ZIPMAP && t <= RDB_TYPE.STREAM_LISTPACKS_3);
}

/**
 * The limits a compact blob (listpack, ziplist, intset) is loaded under.
 * Redis' rdbLoadObject keeps the blob packed unless it holds more entries
 * than *-max-listpack-entries, without scanning the elements' lengths; an
 * intset past set-max-intset-entries goes straight to a hashtable.
 */
function packedLimits(limits: EncodingLimits, type: number): EncodingLimits {
  const l = Object.assign(new EncodingLimits(), limits);
  switch (type) {
    case RDB_TYPE.HASH_ZIPLIST:
    case RDB_TYPE.HASH_LISTPACK:
      l.hashMaxListpackValue = Infinity;
      break;
    case RDB_TYPE.ZSET_ZIPLIST:
    case RDB_TYPE.ZSET_LISTPACK:
      l.zsetMaxListpackValue = Infinity;
      break;
    case RDB_TYPE.SET_LISTPACK:
      // Stays a listpack even when every member is an integer.
      l.setMaxListpackValue = Infinity;
      l.setMaxIntsetEntries = 0;
      break;
    case RDB_TYPE.SET_INTSET:
      l.setMaxListpackEntries = 0;
      break;
  }
  return l;
}

function listFrom(items: Iterable<string>, limits: EncodingLimits): ListValue {
  const l = new ListValue();
  const arr = [...items];
  const fill = limits.listMaxListpackSize;
  l.prepareGrow(arr, 0, arr.length - 1, fill, limits.listCompressDepth);
  for (const s of arr) l.push(s, false);
  l.afterShrink(fill);
  return l;
}

function setFrom(members: string[], limits: EncodingLimits): SetValue {
  if (new Set(members).size !== members.length) throw new RdbError('duplicate set member');
  const s = SetValue.create(members[0] ?? '', members.length, limits);
  for (const m of members) s.add(m, limits);
  return s;
}

function hashFrom(flat: string[], limits: EncodingLimits): HashValue {
  const fields = new Set<string>();
  for (let i = 0; i < flat.length; i += 2) fields.add(flat[i]!);
  if (fields.size * 2 !== flat.length) throw new RdbError('duplicate hash field');
  const h = new HashValue();
  h.prepareFor(flat, 0, flat.length - 1, limits);
  for (let i = 0; i < flat.length; i += 2) h.set(flat[i]!, flat[i + 1]!, limits);
  return h;
}

function zsetFrom(pairs: [string, number][], limits: EncodingLimits): ZSetValue {
  const maxLen = pairs.reduce((m, [k]) => Math.max(m, k.length), 0);
  const z = ZSetValue.create(pairs.length, maxLen, limits);
  for (const [m, s] of pairs) {
    if (Number.isNaN(s)) throw new RdbError('zset score is NaN');
    if (z.score(m) !== undefined) throw new RdbError('duplicate zset member');
    z.insert(m, s, limits);
  }
  return z;
}

/**
 * A score as Redis' zzlStrtod reads it from a ziplist/listpack entry:
 * strtod() on at most 127 bytes, taking the longest numeric prefix ("inf",
 * "-inf", integers, %.17g texts; anything else reads as its prefix or 0).
 */
function parseScore(t: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)(?:(inf(?:inity)?)|(nan)|((?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?))/i.exec(t.slice(0, 127));
  if (m === null) return 0;
  const neg = m[1] === '-';
  if (m[2] !== undefined) return neg ? -Infinity : Infinity;
  if (m[3] !== undefined) return NaN;
  const v = Number(m[4]!);
  return neg ? -v : v;
}

function pairsOf(flat: string[], what: string): [string, number][] {
  if (flat.length % 2 !== 0) throw new RdbError(`odd number of ${what} entries`);
  const out: [string, number][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, parseScore(flat[i + 1]!)]);
  return out;
}

/** A string value; one longer than a JS string can hold is kept as its bytes (a MutableString). */
function readStringValue(inp: RdbInput): Value {
  const s = inp.stringOrBytes();
  if (typeof s === 'string') return encodeString(s);
  // A view into the file is copied; bytes just decompressed are taken over.
  return s.buffer === inp.buf.buffer ? MutableString.fromBytes(s) : MutableString.adopt(s);
}

/** Read the payload of a value of RDB type `type`. */
export function readValue(inp: RdbInput, type: number, limits: EncodingLimits): Value {
  switch (type) {
    case RDB_TYPE.STRING:
      return readStringValue(inp);
    case RDB_TYPE.LIST: {
      const n = inp.len();
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(inp.string());
      return listFrom(items, limits);
    }
    case RDB_TYPE.SET: {
      const n = inp.len();
      const items: string[] = [];
      for (let i = 0; i < n; i++) items.push(inp.string());
      return setFrom(items, limits);
    }
    case RDB_TYPE.ZSET:
    case RDB_TYPE.ZSET_2: {
      const n = inp.len();
      const pairs: [string, number][] = [];
      for (let i = 0; i < n; i++) {
        const m = inp.string();
        pairs.push([m, type === RDB_TYPE.ZSET_2 ? inp.binaryDouble() : inp.textDouble()]);
      }
      return zsetFrom(pairs, limits);
    }
    case RDB_TYPE.HASH: {
      const n = inp.len();
      const flat: string[] = [];
      for (let i = 0; i < n; i++) flat.push(inp.string(), inp.string());
      return hashFrom(flat, limits);
    }
    case RDB_TYPE.HASH_ZIPMAP:
      return hashFrom(readZipmap(inp.stringBytes()), limits);
    case RDB_TYPE.LIST_ZIPLIST:
      return listFrom(readZiplist(inp.stringBytes()), limits);
    case RDB_TYPE.SET_INTSET:
      return setFrom(readIntset(inp.stringBytes()), packedLimits(limits, type));
    case RDB_TYPE.SET_LISTPACK:
      return setFrom(readListpack(inp.stringBytes()), packedLimits(limits, type));
    case RDB_TYPE.ZSET_ZIPLIST:
      return zsetFrom(pairsOf(readZiplist(inp.stringBytes()), 'zset ziplist'), packedLimits(limits, type));
    case RDB_TYPE.ZSET_LISTPACK:
      return zsetFrom(pairsOf(readListpack(inp.stringBytes()), 'zset listpack'), packedLimits(limits, type));
    case RDB_TYPE.HASH_ZIPLIST:
    case RDB_TYPE.HASH_LISTPACK: {
      const flat = type === RDB_TYPE.HASH_ZIPLIST ? readZiplist(inp.stringBytes()) : readListpack(inp.stringBytes());
      if (flat.length % 2 !== 0) throw new RdbError('odd number of hash entries');
      return hashFrom(flat, packedLimits(limits, type));
    }
    case RDB_TYPE.LIST_QUICKLIST:
    case RDB_TYPE.LIST_QUICKLIST_2: {
      const nodes = inp.len();
      const items: string[] = [];
      for (let i = 0; i < nodes; i++) {
        if (type === RDB_TYPE.LIST_QUICKLIST) {
          items.push(...readZiplist(inp.stringBytes()));
          continue;
        }
        const container = inp.len();
        if (container !== 1 && container !== 2) throw new RdbError(`unknown quicklist container ${container}`);
        const node = container === 1 ? inp.string() : inp.stringBytes();
        // Redis refuses a node of 0 bytes, plain ones included (rdbLoadObject: encoded_len == 0).
        if (node.length === 0) throw new RdbError('empty quicklist node');
        if (typeof node === 'string') items.push(node);
        else items.push(...readListpack(node));
      }
      return listFrom(items, limits);
    }
    case RDB_TYPE.STREAM_LISTPACKS:
    case RDB_TYPE.STREAM_LISTPACKS_2:
    case RDB_TYPE.STREAM_LISTPACKS_3:
      return readStream(inp, type);
    case RDB_TYPE.MODULE_PRE_GA:
    case RDB_TYPE.MODULE_2:
      throw new RdbError('the file holds a module data type, which Vireo cannot load');
    default:
      throw new RdbError(`unknown RDB object type ${type}`);
  }
}
