/**
 * Lists (Redis 7.2's t_list.c and quicklist.c): a chain of nodes, each
 * holding its elements as packed bytes with room at both ends
 * (list-node.ts), so pushes and pops at either end are O(1) and LINDEX
 * near the ends is cheap. Node boundaries follow Redis' quicklist
 * rules (node size from list-max-listpack-size, measured in Redis' listpack
 * bytes; elements larger than a node get a node of their own), which is
 * what decides when a list is reported as `listpack` (one small node) or
 * `quicklist`.
 */

import { RObject } from './value.js';
import { LP_EMPTY_BYTES } from './packed.js';
import { PackedNode, PlainNode, packedOf, type BulkSink, type QuickNode } from './list-node.js';

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

export class ListValue extends RObject {
  readonly type = 'list' as const;
  private nodes: QuickNode[] = [];
  private count = 0;
  /** `listpack` while the list is one small node, else `quicklist`. */
  private packed = true;
  /**
   * The list-max-listpack-size and list-compress-depth in force when the
   * list last became a quicklist: as Redis' quicklist keeps its own fill and
   * compress, its nodes follow them whatever the configuration says later
   * (the conversions themselves follow the configuration of the moment).
   */
  private qlFill = -2;
  private qlCompress = 0;

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
  prepareGrow(incoming: readonly string[], from: number, to: number, fill: number, compress: number): void {
    if (!this.packed) return;
    let addBytes = 0;
    for (let i = from; i <= to; i++) addBytes += incoming[i]!.length;
    const node = this.nodes[0];
    const bytes = node === undefined ? LP_EMPTY_BYTES : node.bytes;
    if (exceedsLimit(fill, bytes + addBytes, this.count + (to - from + 1))) {
      this.packed = false;
      this.qlFill = fill;
      this.qlCompress = compress;
    }
  }

  /** The fill and compress depth of the list as a quicklist (DEBUG OBJECT's ql_listpack_max, ql_compressed). */
  get quicklistFill(): number {
    return this.qlFill;
  }

  get quicklistCompress(): number {
    return this.qlCompress;
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
  push(s: string, front: boolean): void {
    const fill = this.qlFill;
    this.count++;
    if (this.packed) {
      // A listpack is a single packed node.
      let node = this.nodes[0] as PackedNode | undefined;
      if (node === undefined) {
        node = new PackedNode();
        this.nodes.push(node);
      }
      if (front) node.pushFront(s);
      else node.pushBack(s);
      return;
    }
    if (isLarge(s.length, fill)) {
      const node = new PlainNode(s);
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
    const node = new PackedNode();
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
    const s = node.plain ? node.value : front ? node.popFront() : node.popBack();
    if (node.plain || node.len === 0) this.nodes.splice(idx, 1);
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

  set(i: number, s: string): void {
    const fill = this.qlFill;
    const [n, off] = this.locate(i);
    const node = this.nodes[n]!;
    if (!this.packed && isLarge(s.length, fill)) {
      // A large element moves into a plain node of its own.
      const before = node.toArray();
      const head = before.slice(0, off);
      const tail = before.slice(off + 1);
      const replacement: QuickNode[] = [];
      if (head.length > 0) replacement.push(packedOf(head));
      replacement.push(new PlainNode(s));
      if (tail.length > 0) replacement.push(packedOf(tail));
      this.nodes.splice(n, 1, ...replacement);
      return;
    }
    if (node.plain) this.nodes[n] = packedOf([s]);
    else node.set(off, s);
    if (!this.packed) this.splitIfNeeded(n, fill);
  }

  /** Insert `s` before element i (i === length appends). */
  insertBefore(i: number, s: string): void {
    const fill = this.qlFill;
    if (i === this.count) {
      this.push(s, false);
      return;
    }
    if (i === 0) {
      this.push(s, true);
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
    this.nodes.splice(n, 1, packedOf(items.slice(0, half)), packedOf(items.slice(half)));
  }

  private rebuildNodes(items: string[], fill: number): QuickNode[] {
    const out: QuickNode[] = [];
    let cur: PackedNode | null = null;
    for (const s of items) {
      if (isLarge(s.length, fill)) {
        out.push(new PlainNode(s));
        cur = null;
        continue;
      }
      if (cur === null || exceedsLimit(fill, cur.bytes + s.length + SIZE_ESTIMATE_OVERHEAD, cur.len + 1)) {
        cur = new PackedNode();
        out.push(cur);
      }
      cur.pushBack(s);
    }
    return out;
  }

  removeAt(i: number): string {
    const [n, off] = this.locate(i);
    const node = this.nodes[n]!;
    const s = node.plain ? node.value : node.removeAt(off);
    if (node.plain || node.len === 0) this.nodes.splice(n, 1);
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
      if (node.plain || (off === 0 && take === node.len)) {
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
    this.walk(start, false, (s) => {
      out[k++] = s;
      return k < out.length;
    });
    return out;
  }

  /** Send `count` elements from index `from` forward (or backward) to `sink` as bulk replies, bytes copied from the nodes. */
  emitRange(from: number, count: number, reverse: boolean, sink: BulkSink): void {
    if (count <= 0) return;
    let [ni, off] = this.locate(from);
    for (;;) {
      count -= this.nodes[ni]!.emit(off, reverse, count, sink);
      if (count === 0) return;
      ni += reverse ? -1 : 1;
      if (ni < 0 || ni >= this.nodes.length) return;
      off = reverse ? this.nodes[ni]!.len - 1 : 0;
    }
  }

  /** Visit elements from index `start` forward (or backward) while fn returns true. */
  walk(start: number, reverse: boolean, fn: (s: string, i: number) => boolean): void {
    if (start < 0 || start >= this.count) return;
    let [ni, off] = this.locate(start);
    let i = start;
    const visit = (s: string): boolean => fn(s, reverse ? i-- : i++);
    // Node by node: a packed node is walked entry to entry, not indexed.
    for (;;) {
      if (!this.nodes[ni]!.visit(off, reverse, visit)) return;
      ni += reverse ? -1 : 1;
      if (ni < 0 || ni >= this.nodes.length) return;
      off = reverse ? this.nodes[ni]!.len - 1 : 0;
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
    l.qlFill = this.qlFill;
    l.qlCompress = this.qlCompress;
    l.count = this.count;
    // Plain nodes share their (immutable) string; packed nodes copy their bytes.
    l.nodes = this.nodes.map((n) => (n.plain ? n : n.clone()));
    return l;
  }

  memoryUsage(): number {
    let bytes = 48 + 8 * this.nodes.length;
    for (const n of this.nodes) bytes += n.memory();
    return bytes;
  }
}
