/**
 * Sets (Redis 7.2's t_set.c): `intset` while every member is an integer
 * (sorted, fixed-width, SMEMBERS in ascending order), `listpack` for small
 * sets of short strings (insertion order), `hashtable` (a JS Set) beyond
 * set-max-intset-entries / set-max-listpack-entries / -value.
 */

import { RObject } from './value.js';
import { PackedReader, packEntry, packAll, lpSafeToAdd, cat, splice } from './packed.js';
import { ScanSet } from '../util/bigmap.js';
import type { EncodingLimits } from './limits.js';

const INTSET_MAX = 1 << 30;

/** Redis' string2ll test for intset membership: the value, or null. */
export function intsetValue(s: string): number | bigint | null {
  const n = s.length;
  if (n === 0 || n > 20) return null;
  const c0 = s.charCodeAt(0);
  if (c0 !== 45 && (c0 < 48 || c0 > 57)) return null;
  if (!/^(0|-?[1-9][0-9]*)$/.test(s)) return null;
  if (n < 16) return Number(s);
  const b = BigInt(s);
  if (b > 9223372036854775807n || b < -9223372036854775808n) return null;
  return b >= -9007199254740991n && b <= 9007199254740991n ? Number(b) : b;
}

function widthOf(v: number | bigint): 2 | 4 | 8 {
  if (v >= -32768 && v <= 32767) return 2;
  if (v >= -2147483648 && v <= 2147483647) return 4;
  return 8;
}

/** Fixed-width, sign-biased, big-endian bytes: byte order equals numeric order. */
function encodeInt(v: number | bigint, w: 2 | 4 | 8): string {
  if (w === 8) {
    let b = BigInt(v) + 0x8000000000000000n;
    let s = '';
    for (let i = 0; i < 8; i++) {
      s = String.fromCharCode(Number(b & 0xffn)) + s;
      b >>= 8n;
    }
    return s;
  }
  let u = Number(v) + (w === 2 ? 0x8000 : 0x80000000);
  let s = '';
  for (let i = 0; i < w; i++) {
    s = String.fromCharCode(u % 256) + s;
    u = Math.floor(u / 256);
  }
  return s;
}

function decodeInt(p: string, at: number, w: 2 | 4 | 8): number | bigint {
  if (w === 8) {
    let b = 0n;
    for (let i = 0; i < 8; i++) b = (b << 8n) | BigInt(p.charCodeAt(at + i));
    const v = b - 0x8000000000000000n;
    return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
  }
  let u = 0;
  for (let i = 0; i < w; i++) u = u * 256 + p.charCodeAt(at + i);
  return u - (w === 2 ? 0x8000 : 0x80000000);
}

/** Compare the encoded entry at `at` with encoded probe `e` (same width). */
function compareAt(p: string, at: number, e: string): number {
  for (let i = 0; i < e.length; i++) {
    const d = p.charCodeAt(at + i) - e.charCodeAt(i);
    if (d !== 0) return d;
  }
  return 0;
}

type Encoding = 'intset' | 'listpack' | 'hashtable';

export class SetValue extends RObject {
  readonly type = 'set' as const;
  private enc: Encoding;
  /** intset: fixed-width sorted ints; listpack: packed members. */
  private packed = '';
  private width: 2 | 4 | 8 = 2;
  private count = 0;
  private table: ScanSet | null = null;

  private constructor(enc: Encoding) {
    super();
    this.enc = enc;
    if (enc === 'hashtable') this.table = new ScanSet();
  }

  /** Redis' setTypeCreate: the encoding that can hold `first` given how many members are coming. */
  static create(first: string, sizeHint: number, limits: EncodingLimits): SetValue {
    if (intsetValue(first) !== null && sizeHint <= limits.setMaxIntsetEntries) return new SetValue('intset');
    if (sizeHint <= limits.setMaxListpackEntries) return new SetValue('listpack');
    return new SetValue('hashtable');
  }

  /** An empty set in the most compact encoding (store targets start here). */
  static empty(): SetValue {
    return new SetValue('intset');
  }

  encoding(): string {
    return this.enc;
  }

  get size(): number {
    return this.table !== null ? this.table.size : this.count;
  }

  /** Redis' setTypeMaybeConvert: a big batch goes straight to a hashtable. */
  maybeConvert(sizeHint: number, limits: EncodingLimits): void {
    if ((this.enc === 'listpack' && sizeHint > limits.setMaxListpackEntries) || (this.enc === 'intset' && sizeHint > limits.setMaxIntsetEntries)) {
      this.convertTo('hashtable');
    }
  }

  // ---- intset helpers --------------------------------------------------------

  /** Index of v in the intset, or -(insertion point) - 1. */
  private intsetSearch(v: number | bigint): number {
    if (widthOf(v) > this.width) return v < 0 ? -1 : -this.count - 1;
    const e = encodeInt(v, this.width);
    const w = this.width;
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = compareAt(this.packed, mid * w, e);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -lo - 1;
  }

  private intsetAt(i: number): number | bigint {
    return decodeInt(this.packed, i * this.width, this.width);
  }

  private intsetWiden(w: 2 | 4 | 8): void {
    const out: string[] = [];
    for (let i = 0; i < this.count; i++) out.push(encodeInt(this.intsetAt(i), w));
    this.packed = out.join('');
    this.width = w;
  }

  // ---- membership ---------------------------------------------------------------

  has(m: string): boolean {
    if (this.table !== null) return this.table.has(m);
    if (this.enc === 'intset') {
      const v = intsetValue(m);
      return v !== null && this.intsetSearch(v) >= 0;
    }
    const r = new PackedReader(this.packed);
    while (r.next()) if (r.equals(m)) return true;
    return false;
  }

  /** Add a member (Redis' setTypeAddAux); true if it was not there. */
  add(m: string, limits: EncodingLimits): boolean {
    if (this.enc === 'hashtable') return this.table!.add(m);
    if (this.enc === 'listpack') {
      if (this.has(m)) return false;
      if (this.count < limits.setMaxListpackEntries && m.length <= limits.setMaxListpackValue && lpSafeToAdd(this.packed.length, m.length)) {
        this.packed = cat(this.packed, packEntry(m));
        this.count++;
      } else {
        this.convertTo('hashtable');
        this.table!.add(m);
      }
      return true;
    }
    const v = intsetValue(m);
    if (v !== null) {
      const idx = this.intsetSearch(v);
      if (idx >= 0) return false;
      const w = widthOf(v);
      if (w > this.width) this.intsetWiden(w);
      const at = this.intsetSearch(v);
      const pos = (-at - 1) * this.width;
      this.packed = splice(this.packed, pos, pos, encodeInt(v, this.width));
      this.count++;
      if (this.count > Math.min(limits.setMaxIntsetEntries, INTSET_MAX)) this.convertTo('hashtable');
      return true;
    }
    // A non-integer member: listpack if everything still fits, else hashtable.
    let maxLen = 0;
    for (const s of this.members()) maxLen = Math.max(maxLen, s.length);
    if (this.count < limits.setMaxListpackEntries && m.length <= limits.setMaxListpackValue && maxLen <= limits.setMaxListpackValue) {
      this.convertTo('listpack');
      this.packed = cat(this.packed, packEntry(m));
      this.count++;
    } else {
      this.convertTo('hashtable');
      this.table!.add(m);
    }
    return true;
  }

  delete(m: string): boolean {
    if (this.table !== null) return this.table.delete(m);
    if (this.enc === 'intset') {
      const v = intsetValue(m);
      if (v === null) return false;
      const idx = this.intsetSearch(v);
      if (idx < 0) return false;
      const w = this.width;
      this.packed = splice(this.packed, idx * w, (idx + 1) * w, '');
      this.count--;
      return true;
    }
    const r = new PackedReader(this.packed);
    while (r.next()) {
      if (r.equals(m)) {
        this.packed = splice(this.packed, r.entryStart, r.end, '');
        this.count--;
        return true;
      }
    }
    return false;
  }

  /** Members in encoding order (ascending for intset, insertion order for listpack). */
  *members(): IterableIterator<string> {
    if (this.table !== null) {
      yield* this.table.values();
      return;
    }
    if (this.enc === 'intset') {
      for (let i = 0; i < this.count; i++) yield String(this.intsetAt(i));
      return;
    }
    const r = new PackedReader(this.packed);
    while (r.next()) yield r.value();
  }

  toArray(): string[] {
    return [...this.members()];
  }

  /** True if every member is an integer (intset-compatible). */
  get allIntegers(): boolean {
    if (this.enc === 'intset') return true;
    for (const m of this.members()) if (intsetValue(m) === null) return false;
    return true;
  }

  convertTo(enc: Encoding): void {
    if (enc === this.enc) return;
    const items = this.toArray();
    this.packed = '';
    this.count = 0;
    this.table = null;
    this.enc = enc;
    if (enc === 'hashtable') {
      this.table = new ScanSet(items);
    } else if (enc === 'listpack') {
      this.packed = packAll(items);
      this.count = items.length;
    } else {
      this.width = 2;
      const vals = items.map((m) => intsetValue(m)!).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      for (const v of vals) if (widthOf(v) > this.width) this.width = widthOf(v);
      this.packed = vals.map((v) => encodeInt(v, this.width)).join('');
      this.count = vals.length;
    }
  }

  /** Redis' maybeConvertToIntset, used for stored set-operation results. */
  maybeToIntset(limits: EncodingLimits): void {
    if (this.enc !== 'intset' && this.size <= Math.min(limits.setMaxIntsetEntries, INTSET_MAX) && this.allIntegers) this.convertTo('intset');
  }

  clone(): SetValue {
    const s = new SetValue(this.enc);
    s.packed = this.packed;
    s.width = this.width;
    s.count = this.count;
    if (this.table !== null) s.table = new ScanSet(this.table.values());
    return s;
  }

  /** One random member (the set is not empty): no copy of a big set. */
  randomMember(): string {
    if (this.table !== null) return this.table.random()!;
    const all = this.toArray();
    return all[Math.floor(Math.random() * all.length)]!;
  }

  /** The hashtable, for SCAN and random picks (null while compact). */
  get hashtable(): ScanSet | null {
    return this.table;
  }

  memoryUsage(): number {
    if (this.table === null) return 48 + this.packed.length;
    let bytes = 64;
    for (const m of this.table.values()) bytes += 24 + 24 + m.length;
    return bytes;
  }
}
