/**
 * Quicklist nodes. A PackedNode keeps its elements as bytes in one buffer,
 * as a Redis listpack does, with free room at both ends so pushes and pops
 * at either end are O(1) and write no heap objects: a list used as a queue
 * costs its bytes plus a few per element, and the garbage collector never
 * has to trace or move its elements (one string object per element made
 * long queues the collector's main work). Elements become strings again
 * when read. A PlainNode holds one element too large for a packed node
 * (Redis' PLAIN container) as the string it arrived as.
 *
 * Entry layout: header, bytes, trailer; header and trailer both give the
 * length so entries can be walked from either end: one byte (< 0x80) for
 * lengths up to 127, else 0x80 plus a 32-bit length (header: marker first;
 * trailer: marker last).
 */

import { decodeLatin1 } from '../protocol/latin1-decode.js';
import { lpEntryBytes, LP_EMPTY_BYTES } from './packed.js';

const BIG = 0x80;

/** Where elements go as bulk replies (the reply writer), bytes copied straight from a node. */
export interface BulkSink {
  bulkBytes(src: Buffer, start: number, end: number): void;
  bulk(s: string): void;
}

/** Bytes an element of length n takes in a PackedNode. */
function entrySize(n: number): number {
  return n < BIG ? n + 2 : n + 10;
}

export class PackedNode {
  readonly plain = false;
  private data: Buffer;
  /** Offset of the first entry and the offset past the last one. */
  private start: number;
  private end: number;
  len = 0;
  /** Bytes of this node as a Redis listpack (node size limits use these). */
  bytes = LP_EMPTY_BYTES;

  constructor(capacity = 32) {
    this.data = Buffer.allocUnsafe(capacity);
    this.start = this.end = capacity >> 1;
  }

  /** Make room for `need` more bytes at the front or the back. */
  private room(need: number, front: boolean): void {
    const used = this.end - this.start;
    const cap = this.data.length;
    if (front ? this.start >= need : cap - this.end >= need) return;
    // Recentre in place when the buffer is mostly free, else grow: either
    // way the side that ran out gets half the free space.
    let next = this.data;
    if (used + need > cap / 2) {
      let size = Math.max(32, cap * 2);
      while (size < (used + need) * 2) size *= 2;
      next = Buffer.allocUnsafe(size);
    }
    const free = next.length - used;
    const at = front ? free - (free >> 1) : free >> 1;
    this.data.copy(next, at, this.start, this.end);
    this.data = next;
    this.start = at;
    this.end = at + used;
  }

  private write(p: number, s: string): void {
    const n = s.length;
    const d = this.data;
    let q = p;
    if (n < BIG) d[q++] = n;
    else {
      d[q] = BIG;
      d.writeUInt32LE(n, q + 1);
      q += 5;
    }
    if (n <= 16) for (let i = 0; i < n; i++) d[q + i] = s.charCodeAt(i);
    else d.latin1Write(s, q, n);
    q += n;
    if (n < BIG) d[q] = n;
    else {
      d.writeUInt32LE(n, q);
      d[q + 4] = BIG;
    }
  }

  /** The element of the entry starting at p. */
  private readAt(p: number): string {
    const d = this.data;
    const h = d[p]!;
    if (h !== BIG) return decodeLatin1(d, p + 1, p + 1 + h);
    const n = d.readUInt32LE(p + 1);
    return d.latin1Slice(p + 5, p + 5 + n);
  }

  /** Size of the entry starting at p. */
  private sizeAt(p: number): number {
    const h = this.data[p]!;
    return h !== BIG ? h + 2 : this.data.readUInt32LE(p + 1) + 10;
  }

  /** Size of the entry ending at p (exclusive). */
  private sizeBefore(p: number): number {
    const t = this.data[p - 1]!;
    return t !== BIG ? t + 2 : this.data.readUInt32LE(p - 5) + 10;
  }

  /** Offset of entry i, walking from the nearer end. */
  private offsetOf(i: number): number {
    if (i <= this.len >> 1) {
      let p = this.start;
      for (let k = 0; k < i; k++) p += this.sizeAt(p);
      return p;
    }
    let p = this.end;
    for (let k = this.len; k > i; k--) p -= this.sizeBefore(p);
    return p;
  }

  get(i: number): string {
    return this.readAt(this.offsetOf(i));
  }

  set(i: number, s: string): void {
    const items = this.toArray();
    items[i] = s;
    this.reset(items);
  }

  pushBack(s: string): void {
    const need = entrySize(s.length);
    this.room(need, false);
    this.write(this.end, s);
    this.end += need;
    this.len++;
    this.bytes += lpEntryBytes(s);
  }

  pushFront(s: string): void {
    const need = entrySize(s.length);
    this.room(need, true);
    this.start -= need;
    this.write(this.start, s);
    this.len++;
    this.bytes += lpEntryBytes(s);
  }

  popBack(): string {
    this.end -= this.sizeBefore(this.end);
    const s = this.readAt(this.end);
    this.dropped(s);
    return s;
  }

  popFront(): string {
    const p = this.start;
    const s = this.readAt(p);
    this.start += this.sizeAt(p);
    this.dropped(s);
    return s;
  }

  private dropped(s: string): void {
    this.len--;
    this.bytes -= lpEntryBytes(s);
    // An emptied node starts again from the middle (a queue that drains and refills stays put).
    if (this.len === 0) this.start = this.end = this.data.length >> 1;
  }

  /** Insert at position i (0..len), shifting later elements. */
  insertAt(i: number, s: string): void {
    if (i === 0) return this.pushFront(s);
    if (i === this.len) return this.pushBack(s);
    const items = this.toArray();
    items.splice(i, 0, s);
    this.reset(items);
  }

  removeAt(i: number): string {
    if (i === 0) return this.popFront();
    if (i === this.len - 1) return this.popBack();
    const items = this.toArray();
    const [s] = items.splice(i, 1);
    this.reset(items);
    return s!;
  }

  /** Remove elements [from, from + n). */
  removeRange(from: number, n: number): void {
    const items = this.toArray();
    items.splice(from, n);
    this.reset(items);
  }

  reset(items: readonly string[]): void {
    let size = 0;
    for (const s of items) size += entrySize(s.length);
    // Some room at both ends for the pushes that usually follow.
    const cap = Math.max(32, size + (size >> 1));
    this.data = Buffer.allocUnsafe(cap);
    this.start = this.end = (cap - size) >> 1;
    this.len = 0;
    this.bytes = LP_EMPTY_BYTES;
    for (const s of items) this.pushBack(s);
  }

  toArray(): string[] {
    const out = new Array<string>(this.len);
    let p = this.start;
    for (let k = 0; k < this.len; k++) {
      out[k] = this.readAt(p);
      p += this.sizeAt(p);
    }
    return out;
  }

  /** Visit elements from offset `off` forward (or backward) while fn returns true; false if fn stopped it. */
  visit(off: number, reverse: boolean, fn: (s: string) => boolean): boolean {
    let p = this.offsetOf(off);
    if (reverse) {
      for (let k = off; k >= 0; k--) {
        if (!fn(this.readAt(p))) return false;
        if (k > 0) p -= this.sizeBefore(p);
      }
    } else {
      for (let k = off; k < this.len; k++) {
        if (!fn(this.readAt(p))) return false;
        p += this.sizeAt(p);
      }
    }
    return true;
  }

  /** Send up to `max` elements from offset `off` forward (or backward) to `sink`; returns how many. */
  emit(off: number, reverse: boolean, max: number, sink: BulkSink): number {
    const d = this.data;
    let p = this.offsetOf(off);
    const n = reverse ? Math.min(max, off + 1) : Math.min(max, this.len - off);
    for (let k = 0; k < n; k++) {
      const h = d[p]!;
      const at = h !== BIG ? p + 1 : p + 5;
      const len = h !== BIG ? h : d.readUInt32LE(p + 1);
      sink.bulkBytes(d, at, at + len);
      if (reverse) {
        if (k + 1 < n) p -= this.sizeBefore(p);
      } else p += entrySize(len);
    }
    return n;
  }

  /** A copy with its own bytes. */
  clone(): PackedNode {
    const c = new PackedNode(0);
    c.data = Buffer.from(this.data.subarray(this.start, this.end));
    c.start = 0;
    c.end = c.data.length;
    c.len = this.len;
    c.bytes = this.bytes;
    return c;
  }

  /** Estimated heap bytes (MEMORY USAGE): the buffer and its object. */
  memory(): number {
    return 96 + this.data.length;
  }
}

export class PlainNode {
  readonly plain = true;
  readonly len = 1;
  readonly bytes: number;

  constructor(readonly value: string) {
    this.bytes = LP_EMPTY_BYTES + lpEntryBytes(value);
  }

  get(): string {
    return this.value;
  }

  toArray(): string[] {
    return [this.value];
  }

  visit(_off: number, _reverse: boolean, fn: (s: string) => boolean): boolean {
    return fn(this.value);
  }

  emit(_off: number, _reverse: boolean, max: number, sink: BulkSink): number {
    if (max < 1) return 0;
    sink.bulk(this.value);
    return 1;
  }

  memory(): number {
    return 48 + 24 + this.value.length;
  }
}

export type QuickNode = PackedNode | PlainNode;

/** A packed node holding `items`. */
export function packedOf(items: readonly string[]): PackedNode {
  const n = new PackedNode();
  n.reset(items);
  return n;
}
