/**
 * Vireo's "listpack": the compact form of small hashes, sets and sorted
 * sets. Entries are stored back to back in ONE latin1 string, each one a
 * length prefix (LEB128-style varint in chars) followed by its bytes.
 *
 * One string per collection keeps small collections near Redis' memory
 * use (a JS Map or array per small hash costs 3-4x more: every element
 * would be its own heap object). Lookups scan, as Redis' listpack does;
 * the thresholds (hash-max-listpack-entries etc.) keep these short.
 */

import { parseLong } from '../util/numbers.js';

/** The varint prefix for a length. */
function lengthPrefix(n: number): string {
  if (n < 0x80) return String.fromCharCode(n);
  let s = '';
  while (n >= 0x80) {
    s += String.fromCharCode((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  return s + String.fromCharCode(n);
}

/** One entry, ready to concatenate. */
export function packEntry(s: string): string {
  return lengthPrefix(s.length) + s;
}

/**
 * Concatenate into a FLAT string. `a + b` makes a V8 ConsString (a rope
 * node) that stays a tree until read, and a packed collection built by
 * appends would cost 5x its size. Reading a character flattens the rope in
 * place (the GC then drops the rope node): 4x cheaper than Array#join, and
 * the slices passed in are copied, so they pin no older string.
 */
export function cat(a: string, b: string, c = ''): string {
  const s = a + b + c;
  s.charCodeAt(0);
  return s;
}

/** Pack a list of entries. */
export function packAll(items: readonly string[]): string {
  const parts = new Array<string>(items.length * 2);
  for (let i = 0; i < items.length; i++) {
    parts[2 * i] = lengthPrefix(items[i]!.length);
    parts[2 * i + 1] = items[i]!;
  }
  return parts.join('');
}

/**
 * Walks the entries of a packed string. After next() returns true,
 * [start, start + len) is the entry and [entryStart, end) its encoded form.
 */
export class PackedReader {
  /** Offset of the next entry's prefix. */
  pos = 0;
  /** Offset of the current entry's prefix. */
  entryStart = 0;
  start = 0;
  len = 0;

  constructor(public p: string) {}

  next(): boolean {
    const p = this.p;
    let pos = this.pos;
    if (pos >= p.length) return false;
    this.entryStart = pos;
    let c = p.charCodeAt(pos++);
    let len = c & 0x7f;
    let mul = 128;
    while (c >= 0x80) {
      c = p.charCodeAt(pos++);
      len += (c & 0x7f) * mul;
      mul *= 128;
    }
    this.start = pos;
    this.len = len;
    this.pos = pos + len;
    return true;
  }

  /** End offset of the current entry (exclusive). */
  get end(): number {
    return this.start + this.len;
  }

  value(): string {
    return this.p.slice(this.start, this.start + this.len);
  }

  equals(s: string): boolean {
    const n = s.length;
    if (this.len !== n) return false;
    const p = this.p;
    const at = this.start;
    // Measured: tiny entries compare fastest char by char; from 8 chars a
    // slice compared with === (a memcmp) beats both that and startsWith.
    // From 13 chars the slice is a V8 SlicedString and === a runtime call
    // (~80 ns here): entries of one length usually differ at an end
    // (field:0001, field:0002), so look at both ends first.
    if (n >= 13 && (p.charCodeAt(at + n - 1) !== s.charCodeAt(n - 1) || p.charCodeAt(at) !== s.charCodeAt(0))) return false;
    if (n >= 8) return p.slice(at, at + n) === s;
    for (let i = 0; i < n; i++) if (p.charCodeAt(at + i) !== s.charCodeAt(i)) return false;
    return true;
  }

  /** Skip the next entry; false at the end. */
  skip(): boolean {
    return this.next();
  }
}

/** All entries as strings. */
export function unpackAll(p: string): string[] {
  const out: string[] = [];
  const r = new PackedReader(p);
  while (r.next()) out.push(r.value());
  return out;
}

/** Replace p[from, to) with `insert` (flat result). */
export function splice(p: string, from: number, to: number, insert: string): string {
  return cat(p.slice(0, from), insert, p.slice(to));
}

// ---- Redis listpack byte sizes (for conversion thresholds) --------------------
// Encoding choices depend on Redis' listpack sizes (e.g. a list stays a
// listpack while it fits in 8 KB), so those sizes are computed exactly.

/** Bytes of the encoding+data part of a listpack entry. */
function lpEncodedSize(s: string): number {
  // Redis' lpStringToInt64 accepts exactly what string2ll does.
  const v = parseLong(s);
  if (v !== null) {
    if (v >= 0 && v <= 127) return 1;
    if (v >= -4096 && v <= 4095) return 2;
    if (v >= -32768 && v <= 32767) return 3;
    if (v >= -8388608 && v <= 8388607) return 4;
    if (v >= -2147483648 && v <= 2147483647) return 5;
    return 9;
  }
  const n = s.length;
  if (n < 64) return 1 + n;
  if (n < 4096) return 2 + n;
  return 5 + n;
}

function backlenSize(n: number): number {
  if (n <= 127) return 1;
  if (n < 16383) return 2;
  if (n < 2097151) return 3;
  if (n < 268435455) return 4;
  return 5;
}

/** Bytes one element takes in a Redis listpack. */
export function lpEntryBytes(s: string): number {
  const e = lpEncodedSize(s);
  return e + backlenSize(e);
}

/** Header (6) + terminator (1) of a listpack. */
export const LP_EMPTY_BYTES = 7;

/** Redis' lpSafeToAdd: a listpack may not grow past 1 GB. */
export function lpSafeToAdd(currentBytes: number, add: number): boolean {
  return currentBytes + add <= 1024 * 1024 * 1024;
}
