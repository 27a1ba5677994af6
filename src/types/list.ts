/**
 * Lists (Redis 7.2's t_list.c and quicklist.c): a chain of nodes, each a
 * ring buffer of elements, so pushes and pops at either end are O(1) and
 * LINDEX near the ends is cheap. Node boundaries follow Redis' quicklist
 * rules (node size from list-max-listpack-size, measured in Redis' listpack
 * bytes; elements larger than a node get a node of their own), which is
 * what decides when a list is reported as `listpack` (one small node) or
 * `quicklist`.
 */

import { RObject } from './value.js';
import { lpEntryBytes, LP_EMPTY_BYTES } from './packed.js';

const SIZE_SAFETY_LIMIT = 8192;
const SIZE_ESTIMATE_OVERHEAD = 8;
const OPTIMIZATION_LEVEL = [4096, 8192, 16384, 32768, 65536];

/** quicklistNodeLimit: [size limit, count limit] for a fill factor. */
function nodeLimit(fill: number): [number, number] {
  if (fill >= 0) return [Infinity, fill === 0 ? 1 : fill];
  const offset = Math.min(-fill - 1, OPTIMIZATION_LEVEL.length - 1);
  return [OPTIMIZATION_LEVEL[offset]!, Infinity];
}

/** quicklistNodeExceedsLimit. */
function exceedsLimit(fill: number, newSize: number, newCount: number): boolean {
  const [sz, count] = nodeLimit(fill);
  if (sz !== Infinity) return newSize > sz;
  if (newSize > SIZE_SAFETY_LIMIT) return true;
  return newCount > count;
}

/** isLargeElement: such an element is stored in a node of its own. */
function isLarge(len: number, fill: number): boolean {
  if (fill >= 0) return len > SIZE_SAFETY_LIMIT;
  return len > nodeLimit(fill)[0];
}

class ListNode {
  private buf: (string | undefined)[];
  private head = 0;
  len = 0;
  /** Bytes of this node as a Redis listpack. */
  bytes = LP_EMPTY_BYTES;
  /** A node holding one large element (Redis' PLAIN container). */
  plain = false;

  constructor(capacity = 8) {
    this.buf = new Array(capacity);
  }

  private get mask(): number {
    return this.buf.length - 1;
  }

  private grow(): void {
    const next = new Array<string | undefined>(this.buf.length * 2);
    for (let i = 0; i < this.len; i++) next[i] = this.buf[(this.head + i) & this.mask];
    this.buf = next;
    this.head = 0;
  }

  get(i: number): string {
    return this.buf[(this.head + i) & this.mask]!;
  }

  set(i: number, s: string): void {
    const at = (this.head + i) & this.mask;
    this.bytes += lpEntryBytes(s) - lpEntryBytes(this.buf[at]!);
    this.buf[at] = s;
  }

  pushBack(s: string): void {
    if (this.len === this.buf.length) this.grow();
    this.buf[(this.head + this.len) & this.mask] = s;
    this.len++;
    this.bytes += lpEntryBytes(s);
  }

  pushFront(s: string): void {
    if (this.len === this.buf.length) this.grow();
    this.head = (this.head - 1) & this.mask;
    this.buf[this.head] = s;
    this.len++;
    this.bytes += lpEntryBytes(s);
  }

  popBack(): string {
    const at = (this.head + this.len - 1) & this.mask;
    const s = this.buf[at]!;
    this.buf[at] = undefined;
    this.len--;
    this.bytes -= lpEntryBytes(s);
    return s;
  }

  popFront(): string {
    const s = this.buf[this.head]!;
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    this.len--;
    this.bytes -= lpEntryBytes(s);
    return s;
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

  reset(items: string[]): void {
    let cap = 8;
    while (cap < items.length) cap *= 2;
    this.buf = new Array(cap);
    this.head = 0;
    this.len = 0;
    this.bytes = LP_EMPTY_BYTES;
    for (const s of items) this.pushBack(s);
  }

  toArray(): string[] {
    const out = new Array<string>(this.len);
    for (let i = 0; i < this.len; i++) out[i] = this.get(i);
    return out;
  }
}

export class ListValue extends RObject {
  readonly type = 'list' as const;
  private nodes: ListNode[] = [];
  private count = 0;
  /** `listpack` while the list is one small node, else `quicklist`. */
  private packed = true;

  encoding(): string {
    return this.packed ? 'listpack' : 'quicklist';
  }

  get length(): number {
    return this.count;
  }

  // ---- conversions (listTypeTryConvert*) ----------------------------------------

  /**
   * Before adding `incoming` elements: a listpack that would outgrow one
   * node becomes a quicklist (Redis checks with the raw element lengths).
   */
  prepareGrow(incoming: readonly string[], from: number, to: number, fill: number): void {
    if (!this.packed) return;
    let addBytes = 0;
    for (let i = from; i <= to; i++) addBytes += incoming[i]!.length;
    const node = this.nodes[0];
    const bytes = node === undefined ? LP_EMPTY_BYTES : node.bytes;
    if (exceedsLimit(fill, bytes + addBytes, this.count + (to - from + 1))) this.packed = false;
  }

  /** After removals: a quicklist of one small node becomes a listpack again. */
  afterShrink(fill: number): void {
    if (this.packed || this.nodes.length !== 1 || this.nodes[0]!.plain) return;
    const [sz, count] = nodeLimit(fill);
    const node = this.nodes[0]!;
    if (node.bytes > sz / 2 || node.len > count / 2) return;
    this.packed = true;
  }

  // ---- ends -------------------------------------------------------------------------

  /** quicklistPush at the head (front) or tail. */
  push(s: string, front: boolean, fill: number): void {
    this.count++;
    if (this.packed) {
      let node = this.nodes[0];
      if (node === undefined) {
        node = new ListNode();
        this.nodes.push(node);
      }
      if (front) node.pushFront(s);
      else node.pushBack(s);
      return;
    }
    if (isLarge(s.length, fill)) {
      const node = new ListNode(1);
      node.plain = true;
      node.pushBack(s);
      if (front) this.nodes.unshift(node);
      else this.nodes.push(node);
      return;
    }
    const edge = front ? this.nodes[0] : this.nodes[this.nodes.length - 1];
    if (edge !== undefined && !edge.plain && !exceedsLimit(fill, edge.bytes + s.length + SIZE_ESTIMATE_OVERHEAD, edge.len + 1)) {
      if (front) edge.pushFront(s);
      else edge.pushBack(s);
      return;
    }
    const node = new ListNode();
    if (front) {
      node.pushFront(s);
      this.nodes.unshift(node);
    } else {
      node.pushBack(s);
      this.nodes.push(node);
    }
  }

  pop(front: boolean): string | undefined {
    if (this.count === 0) return undefined;
    const idx = front ? 0 : this.nodes.length - 1;
    const node = this.nodes[idx]!;
    const s = front ? node.popFront() : node.popBack();
    if (node.len === 0) this.nodes.splice(idx, 1);
    this.count--;
    return s;
  }

  // ---- positions ---------------------------------------------------------------------

  /** Node index and offset of element i (0 <= i < length), walking from the nearer end. */
  private locate(i: number): [number, number] {
    if (i < this.count / 2) {
      for (let n = 0; n < this.nodes.length; n++) {
        const len = this.nodes[n]!.len;
        if (i < len) return [n, i];
        i -= len;
      }
    } else {
      let rest = this.count - 1 - i;
      for (let n = this.nodes.length - 1; n >= 0; n--) {
        const len = this.nodes[n]!.len;
        if (rest < len) return [n, len - 1 - rest];
        rest -= len;
      }
    }
    throw new RangeError('list index out of range');
  }

  get(i: number): string {
    const [n, off] = this.locate(i);
    return this.nodes[n]!.get(off);
  }

  set(i: number, s: string, fill: number): void {
    const [n, off] = this.locate(i);
    const node = this.nodes[n]!;
    if (!this.packed && isLarge(s.length, fill)) {
      // A large element moves into a plain node of its own.
      const before = node.toArray();
      const head = before.slice(0, off);
      const tail = before.slice(off + 1);
      const replacement: ListNode[] = [];
      if (head.length > 0) replacement.push(nodeOf(head));
      const big = new ListNode(1);
      big.plain = true;
      big.pushBack(s);
      replacement.push(big);
      if (tail.length > 0) replacement.push(nodeOf(tail));
      this.nodes.splice(n, 1, ...replacement);
      return;
    }
    node.set(off, s);
    if (node.plain && !isLarge(s.length, fill)) node.plain = false;
    if (!this.packed) this.splitIfNeeded(n, fill);
  }

  /** Insert `s` before element i (i === length appends). */
  insertBefore(i: number, s: string, fill: number): void {
    if (i === this.count) {
      this.push(s, false, fill);
      return;
    }
    if (i === 0) {
      this.push(s, true, fill);
      return;
    }
    const [n, off] = this.locate(i);
    this.count++;
    const node = this.nodes[n]!;
    if (node.plain || (!this.packed && isLarge(s.length, fill))) {
      // Split around the position and give the element its own node when large.
      const items = node.toArray();
      items.splice(off, 0, s);
      this.nodes.splice(n, 1, ...this.rebuildNodes(items, fill));
      return;
    }
    node.insertAt(off, s);
    if (!this.packed) this.splitIfNeeded(n, fill);
  }

  /** A node that grew past the limit is split in two halves. */
  private splitIfNeeded(n: number, fill: number): void {
    const node = this.nodes[n]!;
    if (node.plain || !exceedsLimit(fill, node.bytes, node.len) || node.len < 2) return;
    const items = node.toArray();
    const half = items.length >> 1;
    this.nodes.splice(n, 1, nodeOf(items.slice(0, half)), nodeOf(items.slice(half)));
  }

  private rebuildNodes(items: string[], fill: number): ListNode[] {
    const out: ListNode[] = [];
    let cur: ListNode | null = null;
    for (const s of items) {
      if (isLarge(s.length, fill)) {
        const big = new ListNode(1);
        big.plain = true;
        big.pushBack(s);
        out.push(big);
        cur = null;
        continue;
      }
      if (cur === null || exceedsLimit(fill, cur.bytes + s.length + SIZE_ESTIMATE_OVERHEAD, cur.len + 1)) {
        cur = new ListNode();
        out.push(cur);
      }
      cur.pushBack(s);
    }
    return out;
  }

  removeAt(i: number): string {
    const [n, off] = this.locate(i);
    const node = this.nodes[n]!;
    const s = node.removeAt(off);
    if (node.len === 0) this.nodes.splice(n, 1);
    this.count--;
    return s;
  }

  /** Remove elements [start, start + n). */
  removeRange(start: number, n: number): void {
    if (n <= 0) return;
    let [ni, off] = this.locate(start);
    let left = n;
    this.count -= n;
    while (left > 0) {
      const node = this.nodes[ni]!;
      const take = Math.min(left, node.len - off);
      if (off === 0 && take === node.len) {
        this.nodes.splice(ni, 1);
      } else {
        node.removeRange(off, take);
        ni++;
      }
      left -= take;
      off = 0;
    }
  }

  /** Elements [start, end] inclusive, in order. */
  range(start: number, end: number): string[] {
    if (start > end) return [];
    const out = new Array<string>(end - start + 1);
    let k = 0;
    let [ni, off] = this.locate(start);
    let left = end - start + 1;
    while (left > 0) {
      const node = this.nodes[ni]!;
      for (; off < node.len && left > 0; off++, left--) out[k++] = node.get(off);
      ni++;
      off = 0;
    }
    return out;
  }

  /** Visit elements from index `start` forward (or backward) while fn returns true. */
  walk(start: number, reverse: boolean, fn: (s: string, i: number) => boolean): void {
    if (start < 0 || start >= this.count) return;
    let [ni, off] = this.locate(start);
    let i = start;
    for (;;) {
      const node = this.nodes[ni]!;
      if (!fn(node.get(off), i)) return;
      if (reverse) {
        i--;
        if (--off < 0) {
          if (--ni < 0) return;
          off = this.nodes[ni]!.len - 1;
        }
      } else {
        i++;
        if (++off >= node.len) {
          if (++ni >= this.nodes.length) return;
          off = 0;
        }
      }
    }
  }

  toArray(): string[] {
    return this.count === 0 ? [] : this.range(0, this.count - 1);
  }

  /** Node count and the nodes' listpack bytes (DEBUG OBJECT's ql_* fields). */
  nodeStats(): { nodes: number; bytes: number } {
    let bytes = 0;
    for (const n of this.nodes) bytes += n.bytes;
    return { nodes: this.nodes.length, bytes };
  }

  clone(): ListValue {
    const l = new ListValue();
    l.packed = this.packed;
    l.count = this.count;
    l.nodes = this.nodes.map((n) => {
      const c = nodeOf(n.toArray());
      c.plain = n.plain;
      return c;
    });
    return l;
  }

  memoryUsage(): number {
    let bytes = 48;
    for (const n of this.nodes) {
      bytes += 48 + 8 * n.len;
      for (let i = 0; i < n.len; i++) bytes += 24 + n.get(i).length;
    }
    return bytes;
  }
}

function nodeOf(items: string[]): ListNode {
  const n = new ListNode();
  n.reset(items);
  return n;
}
