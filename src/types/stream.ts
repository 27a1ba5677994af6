/**
 * The stream value (t_stream.c): entries in nodes of Redis' listpack layout
 * (stream-node.ts), found by binary search over the nodes' master IDs (as
 * Redis seeks its radix tree), so a range read costs O(log n + k); the
 * stream's counters (last ID, entries added, max deleted ID, first ID) and
 * its consumer groups (stream-group.ts). Node sizes follow
 * stream-node-max-bytes / stream-node-max-entries exactly as Redis splits
 * its listpacks, so `~` trimming, which removes whole nodes only, removes
 * what Redis removes, and RDB files carry the nodes byte for byte.
 *
 * Nodes are kept in an array with a moving head: trimming (which removes
 * from the front) is O(1) per node, and the array is compacted now and then.
 */

import { RObject } from './value.js';
import { NodeCursor, StreamNode, FLAG_DELETED } from './stream-node.js';
import { StreamGroup, INVALID_ENTRIES_READ } from './stream-group.js';
import {
  MAX_ID, MIN_ID, addInt, compareIds, idKey, isZeroId, u64,
  type StreamID, type U64,
} from './stream-id.js';

/** Redis' STREAM_LISTPACK_MAX_SIZE: a node never grows past 1 GB whatever the configuration. */
export const STREAM_LISTPACK_MAX_SIZE = 1 << 30;

export type TrimStrategy = 'maxlen' | 'minid';
/** How trimming and deletes treat consumer group references (Redis 8.2). */
export type RefPolicy = 'keepref' | 'delref' | 'acked';

export interface TrimArgs {
  strategy: TrimStrategy;
  maxlen: number;
  minid: StreamID;
  approx: boolean;
  /** Most entries to remove (0: no limit). */
  limit: number;
  policy: RefPolicy;
}

/** Most bytes a new node reserves up front (see append). */
const NODE_PREALLOC_MAX = 16 * 1024;

export class StreamValue extends RObject {
  readonly type = 'stream' as const;
  /** Nodes in master-ID order; the live ones are nodes[head...]. */
  private nodes: StreamNode[] = [];
  private head = 0;
  length = 0;
  lastId: StreamID = MIN_ID;
  firstId: StreamID = MIN_ID;
  maxDeletedId: StreamID = MIN_ID;
  entriesAdded: U64 = 0;
  /** Consumer groups by name; null until the first is created (as Redis). */
  groups: Map<string, StreamGroup> | null = null;

  encoding(): string {
    return 'stream';
  }

  // ---- nodes ------------------------------------------------------------------------

  get nodeCount(): number {
    return this.nodes.length - this.head;
  }

  /** Live nodes in order (RDB writers, digests). */
  *allNodes(): IterableIterator<StreamNode> {
    for (let i = this.head; i < this.nodes.length; i++) yield this.nodes[i]!;
  }

  /** Add a node loaded from a file (after the ones loaded before it). */
  pushNode(node: StreamNode): void {
    this.nodes.push(node);
  }

  private removeNodeAt(i: number): void {
    if (i === this.head) {
      this.nodes[i] = undefined as unknown as StreamNode;
      this.head++;
      if (this.head === this.nodes.length) {
        this.nodes = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.nodes.length) {
        this.nodes = this.nodes.slice(this.head);
        this.head = 0;
      }
    } else {
      this.nodes.splice(i, 1);
    }
  }

  /** Index of the last node whose master ID is <= id, or -1. */
  private nodeAtOrBefore(id: StreamID): number {
    let lo = this.head;
    let hi = this.nodes.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const n = this.nodes[mid]!;
      const c = n.masterMs !== id.ms ? (n.masterMs < id.ms ? -1 : 1) : n.masterSeq < id.seq ? -1 : n.masterSeq > id.seq ? 1 : 0;
      if (c <= 0) {
        found = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return found;
  }

  // ---- adding ---------------------------------------------------------------------

  /**
   * streamAppendItem with the ID already checked: `n` field/value pairs at
   * argv[from...] become an entry of the tail node, or of a new node when
   * the tail is full by the node limits (stream-node-max-bytes and
   * stream-node-max-entries).
   */
  append(id: StreamID, argv: readonly string[], from: number, n: number, nodeMaxBytes: number, nodeMaxEntries: number): void {
    let tail = this.nodes.length > this.head ? this.nodes[this.nodes.length - 1]! : null;
    if (tail !== null) {
      let elementBytes = 0;
      for (let i = 0; i < 2 * n; i++) elementBytes += argv[from + i]!.length;
      let maxBytes = nodeMaxBytes;
      if (maxBytes === 0 || maxBytes > STREAM_LISTPACK_MAX_SIZE) maxBytes = STREAM_LISTPACK_MAX_SIZE;
      const full =
        tail.lpBytes + elementBytes >= maxBytes || (nodeMaxEntries > 0 && tail.valid + tail.deleted >= nodeMaxEntries);
      if (full) {
        tail.shrink();
        tail = null;
      }
    }
    if (tail === null) {
      const fields: string[] = [];
      for (let i = 0; i < n; i++) fields.push(argv[from + 2 * i]!);
      // Entries are mostly alike: room for as many bytes as the node before filled, and a little
      // more, saves growing from 64 bytes by copies (each buffer is a fresh allocation, see
      // StreamNode.buf). Bounded: one entry in a node after huge ones must not hold megabytes.
      const before = this.nodes.length > this.head ? this.nodes[this.nodes.length - 1]!.end : 0;
      tail = new StreamNode(id.ms, id.seq, fields, Math.min(Math.max(64, before + (before >> 4)), NODE_PREALLOC_MAX));
      this.nodes.push(tail);
    }
    tail.append(id, argv, from, n);
    this.length++;
    this.entriesAdded = addInt(this.entriesAdded, 1);
    this.lastId = id;
    if (this.length === 1) this.firstId = id;
  }

  // ---- reading ------------------------------------------------------------------

  /** Entries with start <= ID <= end, forwards or backwards (tombstones skipped unless asked). */
  iterate(start: StreamID, end: StreamID, rev: boolean, skipTombstones = true): StreamIterator {
    return new StreamIterator(this, start, end, rev, skipTombstones);
  }

  /** @internal for StreamIterator */
  nodeIndexFor(id: StreamID, rev: boolean): number {
    const i = isZeroId(id) ? -1 : this.nodeAtOrBefore(id);
    if (i >= 0) return i;
    return rev ? this.nodes.length - 1 : this.head;
  }

  /** @internal */
  nodeAt(i: number): StreamNode | undefined {
    return i >= this.head && i < this.nodes.length ? this.nodes[i] : undefined;
  }

  /** streamEntryExists: a live entry with this ID. */
  has(id: StreamID): boolean {
    const it = this.iterate(id, id, false);
    return it.next();
  }

  /** streamGetEdgeID: the first or last entry's ID; with no entry, MAX_ID (first) or MIN_ID (last). */
  edgeId(first: boolean, skipTombstones: boolean): StreamID {
    const it = this.iterate(MIN_ID, MAX_ID, !first, skipTombstones);
    if (it.next()) return it.cursor.id;
    return first ? MAX_ID : MIN_ID;
  }

  /** streamLastValidID (the stream is not empty). */
  lastValidId(): StreamID {
    return this.edgeId(false, true);
  }

  // ---- removing -------------------------------------------------------------------

  /** streamDeleteItem: mark the entry deleted (dropping its node when it was the node's last); false if absent. */
  delete(id: StreamID): boolean {
    const it = this.iterate(id, id, false);
    if (!it.next()) return false;
    this.deleteCurrent(it);
    return true;
  }

  /** @internal the entry the iterator stands on becomes a tombstone. */
  deleteCurrent(it: StreamIterator): void {
    const node = it.cursor.node;
    if (node.valid === 1) this.removeNodeAt(it.nodeIndex);
    else {
      it.cursor.markDeleted();
      node.valid--;
      node.deleted++;
    }
    this.length--;
  }

  /**
   * streamTrim: remove entries from the head by MAXLEN or MINID; `~` only
   * removes whole nodes. With the ACKED policy an entry some group still
   * references stays (a node holding one is not removed whole); with DELREF
   * the removed entries leave every PEL too. Returns the entries removed.
   */
  trim(args: TrimArgs): number {
    const { strategy, maxlen, minid, approx, limit, policy } = args;
    let deleted = 0;
    while (this.nodes.length > this.head) {
      if (strategy === 'maxlen' && this.length <= maxlen) break;
      const i = this.head;
      const node = this.nodes[i]!;
      const entries = node.valid;
      if (limit > 0 && deleted + entries > limit) break;
      let removeNode =
        strategy === 'maxlen' ? this.length - entries >= maxlen : compareIds(lastEntryId(node), minid) < 0;
      if (removeNode && policy === 'acked') removeNode = !this.nodeHasReferences(node);
      if (removeNode) {
        if (policy === 'delref') this.forEachLiveEntry(node, (id) => this.deleteReferences(id));
        this.removeNodeAt(i);
        this.length -= entries;
        deleted += entries;
        continue;
      }
      if (approx) break;
      deleted += this.trimWithinNode(node, args);
      break;
    }
    if (this.length === 0) this.firstId = MIN_ID;
    else if (deleted > 0) this.firstId = this.edgeId(true, true);
    return deleted;
  }

  /** Mark the node's leading entries deleted as the strategy asks (the node itself stays). */
  private trimWithinNode(node: StreamNode, args: TrimArgs): number {
    const cur = new NodeCursor(node);
    let removed = 0;
    for (let p = 0; p < node.end; p = cur.entryEnd) {
      cur.decodeAt(p);
      const stop = args.strategy === 'maxlen' ? this.length <= args.maxlen : compareIds(cur.id, args.minid) >= 0;
      if (stop) break;
      if (cur.isDeleted) continue;
      if (args.policy === 'acked' && this.isReferenced(cur.id)) continue;
      if (args.policy === 'delref') this.deleteReferences(cur.id);
      cur.markDeleted();
      node.valid--;
      node.deleted++;
      this.length--;
      removed++;
    }
    return removed;
  }

  private forEachLiveEntry(node: StreamNode, cb: (id: StreamID) => void): void {
    const cur = new NodeCursor(node);
    for (let p = 0; p < node.end; p = cur.entryEnd) {
      cur.decodeAt(p);
      if (!cur.isDeleted) cb(cur.id);
    }
  }

  private nodeHasReferences(node: StreamNode): boolean {
    if (this.groups === null || this.groups.size === 0) return false;
    let referenced = false;
    this.forEachLiveEntry(node, (id) => {
      if (!referenced && this.isReferenced(id)) referenced = true;
    });
    return referenced;
  }

  // ---- consumer group references (Redis 8.2's KEEPREF / DELREF / ACKED) -----------------

  /** Some group has not delivered the entry yet, or holds it pending. */
  isReferenced(id: StreamID): boolean {
    if (this.groups === null) return false;
    const key = idKey(id);
    for (const g of this.groups.values()) {
      if (compareIds(id, g.lastId) > 0 || g.pel.has(key)) return true;
    }
    return false;
  }

  /** Remove the entry from every group's PEL (and its owner's); true if any held it. */
  deleteReferences(id: StreamID): boolean {
    if (this.groups === null) return false;
    const key = idKey(id);
    let any = false;
    for (const g of this.groups.values()) if (g.ack(key)) any = true;
    return any;
  }

  // ---- counters of consumer groups ------------------------------------------------------

  /** streamRangeHasTombstones: a deleted entry may lie in [start, end] (end null: to the end). */
  rangeHasTombstones(start: StreamID, end: StreamID | null): boolean {
    if (this.length === 0 || isZeroId(this.maxDeletedId)) return false;
    if (compareIds(this.firstId, this.maxDeletedId) > 0) return false;
    return compareIds(start, this.maxDeletedId) <= 0 && (end === null || compareIds(this.maxDeletedId, end) <= 0);
  }

  /**
   * streamEstimateDistanceFromFirstEverEntry: the ID's logical read counter
   * when it can be known, else INVALID_ENTRIES_READ.
   */
  estimateDistance(id: StreamID): U64 {
    if (this.entriesAdded === 0) return 0;
    if (this.length === 0 && compareIds(id, this.lastId) < 1) return this.entriesAdded;
    const cmpLast = compareIds(id, this.lastId);
    if (cmpLast === 0) return this.entriesAdded;
    if (cmpLast > 0) return INVALID_ENTRIES_READ;
    const cmpFirst = compareIds(id, this.firstId);
    if (isZeroId(this.maxDeletedId) || compareIds(this.maxDeletedId, this.firstId) < 0) {
      if (cmpFirst < 0) return subInt(this.entriesAdded, this.length);
      if (cmpFirst === 0) return addInt(subInt(this.entriesAdded, this.length), 1);
    }
    return INVALID_ENTRIES_READ;
  }

  /** streamReplyWithCGLag: the group's lag, or null when it cannot be known. */
  lag(g: StreamGroup): U64 | null {
    if (this.entriesAdded === 0) return 0;
    if (g.entriesRead !== INVALID_ENTRIES_READ && !this.rangeHasTombstones(g.lastId, null)) {
      return subInt(this.entriesAdded, g.entriesRead);
    }
    const read = this.estimateDistance(g.lastId);
    return read === INVALID_ENTRIES_READ ? null : subInt(this.entriesAdded, read);
  }

  // ---- groups ---------------------------------------------------------------------------

  group(name: string): StreamGroup | undefined {
    return this.groups?.get(name);
  }

  /** streamCreateCG: null if the name is taken. */
  createGroup(name: string, lastId: StreamID, entriesRead: U64): StreamGroup | null {
    if (this.groups === null) this.groups = new Map();
    if (this.groups.has(name)) return null;
    const g = new StreamGroup(lastId, entriesRead);
    this.groups.set(name, g);
    return g;
  }

  /** Groups in Redis' radix-tree order (byte order of their names). */
  sortedGroups(): [string, StreamGroup][] {
    if (this.groups === null) return [];
    return [...this.groups.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  // ---- introspection --------------------------------------------------------------------

  /**
   * rax->numnodes of Redis' radix tree over the node keys (XINFO STREAM
   * radix-tree-nodes): the tree of the 16-byte master IDs with every chain
   * of single children compressed into one node, plus a leaf per key.
   */
  radixTreeNodes(): number {
    const keys: string[] = [];
    for (const n of this.allNodes()) keys.push(idKey(n.masterId));
    if (keys.length === 0) return 1;
    return raxNodes(keys, 0, keys.length, 0);
  }

  clone(): StreamValue {
    const s = new StreamValue();
    for (const n of this.allNodes()) s.nodes.push(n.clone());
    s.length = this.length;
    s.lastId = this.lastId;
    s.firstId = this.firstId;
    s.maxDeletedId = this.maxDeletedId;
    s.entriesAdded = this.entriesAdded;
    if (this.groups !== null) {
      s.groups = new Map();
      for (const [name, g] of this.groups) s.groups.set(name, g.clone());
    }
    return s;
  }

  memoryUsage(): number {
    let bytes = 160 + (this.nodes.length - this.head) * 8;
    for (const n of this.allNodes()) bytes += n.memoryUsage();
    if (this.groups !== null) for (const [name, g] of this.groups) bytes += name.length + g.memoryUsage();
    return bytes;
  }
}

/** a - b for counters (entries added minus read or length), wrapping as Redis' 64-bit arithmetic does. */
function subInt(a: U64, b: U64 | number): U64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a - b;
    if (r <= 9007199254740991 && r >= -9007199254740991) return r;
  }
  return u64(BigInt.asIntN(64, BigInt(a) - BigInt(b)));
}

/** The ID of the node's last entry, tombstones included (lpGetEdgeStreamID). */
function lastEntryId(node: StreamNode): StreamID {
  const cur = new NodeCursor(node);
  cur.decodeAt(cur.entryBefore(node.end));
  return cur.id;
}

/** Nodes of the compressed trie over sorted keys[lo, hi) below depth d (see radixTreeNodes). */
function raxNodes(keys: string[], lo: number, hi: number, d: number): number {
  if (hi - lo === 1) return d < 16 ? 2 : 1;
  const a = keys[lo]!;
  const b = keys[hi - 1]!;
  let p = d;
  while (p < 16 && a.charCodeAt(p) === b.charCodeAt(p)) p++;
  if (p > d) return 1 + raxNodes(keys, lo, hi, p);
  let total = 1;
  for (let i = lo; i < hi; ) {
    const c = keys[i]!.charCodeAt(d);
    let j = i + 1;
    while (j < hi && keys[j]!.charCodeAt(d) === c) j++;
    total += raxNodes(keys, i, j, d + 1);
    i = j;
  }
  return total;
}

/**
 * streamIterator: entries of [start, end] in ID order (or reverse). After
 * next() returns true, `cursor` describes the entry; the stream must not
 * change until the next call, except through StreamValue.deleteCurrent.
 */
export class StreamIterator {
  nodeIndex: number;
  cursor!: NodeCursor;
  private pos = -1;
  private done = false;

  constructor(
    private readonly s: StreamValue,
    private readonly start: StreamID,
    private readonly end: StreamID,
    private readonly rev: boolean,
    private readonly skipTombstones: boolean,
  ) {
    this.nodeIndex = s.nodeIndexFor(rev ? end : start, rev);
    if (this.openNode() && !rev) this.seek();
  }

  private openNode(): boolean {
    const node = this.s.nodeAt(this.nodeIndex);
    if (node === undefined) {
      this.done = true;
      return false;
    }
    if (this.cursor === undefined) this.cursor = new NodeCursor(node);
    else this.cursor.reset(node);
    this.pos = this.rev ? node.end : 0;
    return true;
  }

  /** Forwards, start at the node's seek point when it is not past `start` (the entries before it are all smaller). */
  private seek(): void {
    const node = this.cursor.node;
    if (node.seekPos > 0 && compareParts(node.seekMs, node.seekSeq, this.start) <= 0) this.pos = node.seekPos;
  }

  next(): boolean {
    while (!this.done) {
      const node = this.cursor.node;
      if (this.rev ? this.pos <= 0 : this.pos >= node.end) {
        this.nodeIndex += this.rev ? -1 : 1;
        if (!this.openNode()) return false;
        continue;
      }
      const c = this.cursor;
      if (this.rev) {
        const at = c.entryBefore(this.pos);
        c.decodeAt(at);
        this.pos = at;
      } else {
        c.decodeAt(this.pos);
        this.pos = c.entryEnd;
      }
      if (this.skipTombstones && (c.flags & FLAG_DELETED) !== 0) continue;
      if (this.rev) {
        if (compareParts(c.ms, c.seq, this.end) > 0) continue;
        if (compareParts(c.ms, c.seq, this.start) < 0) return this.finish();
      } else {
        if (compareParts(c.ms, c.seq, this.start) < 0) continue;
        if (compareParts(c.ms, c.seq, this.end) > 0) return this.finish();
        node.seekPos = c.entryStart;
        node.seekMs = c.ms;
        node.seekSeq = c.seq;
      }
      return true;
    }
    return false;
  }

  private finish(): false {
    this.done = true;
    return false;
  }

  /** Delete the entry just returned (XDEL inside an iteration): the walk goes on after it. */
  deleteCurrent(): void {
    const node = this.cursor.node;
    const removesNode = node.valid === 1;
    this.s.deleteCurrent(this);
    if (removesNode) {
      // The node is gone: the next one (forwards) now sits at the same index.
      if (!this.rev) this.nodeIndex--;
      this.pos = this.rev ? 0 : node.end;
    }
  }
}

/** compareIds of the ID ms-seq with `id`, without making an ID object. */
function compareParts(ms: U64, seq: U64, id: StreamID): number {
  if (ms !== id.ms) return ms < id.ms ? -1 : 1;
  if (seq !== id.seq) return seq < id.seq ? -1 : 1;
  return 0;
}
