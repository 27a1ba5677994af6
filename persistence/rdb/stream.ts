/**
 * Streams in RDB form (rdb.c RDB_TYPE_STREAM_LISTPACKS*): the nodes as
 * (16-byte master ID, listpack) pairs, the stream's counters, then each
 * consumer group with its PEL and consumers. Vireo writes type 19
 * (STREAM_LISTPACKS_2, what Redis 7.0 reads) and reads 15, 19 and 21.
 *
 * Loading validates what Redis validates with deep sanitization
 * (streamValidateListpackIntegrity, duplicate keys, groups, PEL entries
 * without an owner) and that the stream's length matches its entries, so
 * a damaged payload is refused rather than held half-consistent.
 */

import { RDB_TYPE, RdbError, RdbOutput, type RdbInput } from './format.js';
import { readListpack } from './compact.js';
import { StreamValue } from '../../src/types/stream.js';
import { StreamNode, NodeCursor, FLAG_SAMEFIELDS } from '../../src/types/stream-node.js';
import { LpReader, lpIntBytes } from '../../src/types/lp-codec.js';
import { INVALID_ENTRIES_READ, type Nack } from '../../src/types/stream-group.js';
import { addWrapping, compareIds, idBytes, idFromBytes, idKey, u64, type StreamID, type U64 } from '../../src/types/stream-id.js';

// ---- writing -----------------------------------------------------------------------

/** rdbSaveLen of a 64-bit value (Redis writes -1 counters as 2^64-1). */
function writeLen64(out: RdbOutput, v: U64): void {
  if (typeof v === 'number' && v >= 0) {
    out.len(v);
    return;
  }
  let b = BigInt(v);
  if (b < 0n) b += 1n << 64n;
  const buf = Buffer.allocUnsafe(9);
  buf[0] = 0x81;
  buf.writeBigUInt64BE(b, 1);
  out.raw(buf);
}

function writeId(out: RdbOutput, id: StreamID): void {
  writeLen64(out, id.ms);
  writeLen64(out, id.seq);
}

const MILLIS = Buffer.allocUnsafe(8);

/** The payload of a stream as RDB_TYPE_STREAM_LISTPACKS_2. */
export function writeStream(out: RdbOutput, s: StreamValue, compress: boolean): void {
  out.len(s.nodeCount);
  for (const node of s.allNodes()) {
    out.bytes(idBytes(node.masterId), compress);
    if (node.rdbBlob !== null && compress) out.raw(node.rdbBlob);
    else out.bytes(node.toListpack(), compress);
  }
  writeLen64(out, s.length);
  writeId(out, s.lastId);
  writeId(out, s.firstId);
  writeId(out, s.maxDeletedId);
  writeLen64(out, s.entriesAdded);
  const groups = s.sortedGroups();
  out.len(groups.length);
  for (const [name, g] of groups) {
    out.string(name, compress);
    writeId(out, g.lastId);
    writeLen64(out, g.entriesRead);
    out.len(g.pel.size);
    g.pel.forEachFrom(null, (key, nack) => {
      out.raw(Buffer.from(key, 'latin1'));
      MILLIS.writeBigInt64LE(BigInt(nack.deliveryTime), 0);
      out.raw(MILLIS);
      writeLen64(out, nack.deliveryCount);
      return true;
    });
    const consumers = g.sortedConsumers();
    out.len(consumers.length);
    for (const c of consumers) {
      out.string(c.name, compress);
      MILLIS.writeBigInt64LE(BigInt(c.seenTime), 0);
      out.raw(MILLIS);
      out.len(c.pel.size);
      c.pel.forEachFrom(null, (key) => {
        out.raw(Buffer.from(key, 'latin1'));
        return true;
      });
    }
  }
}

// ---- reading -----------------------------------------------------------------------

function intOf(t: string | undefined, what: string): number {
  if (t === undefined) throw new RdbError('truncated stream listpack');
  if (!/^-?\d+$/.test(t)) throw new RdbError(`bad ${what} in stream listpack`);
  const v = Number(t);
  if (!Number.isSafeInteger(v)) throw new RdbError(`bad ${what} in stream listpack`);
  return v;
}

/** An ID delta of an entry: any int64. */
function deltaOf(t: string | undefined): number | bigint {
  if (t === undefined) throw new RdbError('truncated stream listpack');
  if (!/^-?\d+$/.test(t)) throw new RdbError('bad ID delta in stream listpack');
  const v = BigInt(t);
  if (v < -(1n << 63n) || v >= 1n << 63n) throw new RdbError('bad ID delta in stream listpack');
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/** Bytes of an element's encoding byte(s) and integer body: what must lie inside the listpack before it is read. */
function headerBytes(enc: number): number {
  if (enc < 0xc0) return 1;
  if (enc < 0xf0) return 2;
  return [5, 3, 4, 5, 9][enc - 0xf0]!;
}

/**
 * Walks a listpack's elements without making strings, with the bounds and
 * back-length checks readListpack makes (lpValidateNext). `r` describes
 * the element at `pos` after each step.
 */
class CheckedWalk {
  readonly r: LpReader;
  pos = 6;
  elements = 0;

  constructor(readonly lp: Buffer) {
    if (lp.length < 7 || lp.readUInt32LE(0) !== lp.length) throw new RdbError('bad stream listpack header');
    if (lp[lp.length - 1] !== 0xff) throw new RdbError('stream listpack without its end marker');
    this.r = new LpReader(lp);
  }

  /** Read the element at pos and move past it. */
  step(): LpReader {
    const lp = this.lp;
    const p = this.pos;
    const enc = lp[p]!;
    // 0xff is the end marker; 0xf5-0xfe are no encoding.
    if (p >= lp.length - 1 || enc > 0xf4 || p + headerBytes(enc) > lp.length - 1) throw new RdbError('truncated stream listpack');
    const r = this.r;
    r.read(p);
    if (r.next > lp.length - 1 || r.startBefore(r.next) !== p) throw new RdbError('bad stream listpack entry');
    this.pos = r.next;
    this.elements++;
    return r;
  }

  /** The next element as an integer (a string one must read as an integer, as lpGetIntegerIfValid reads it). */
  int(what: string): number | bigint {
    const r = this.step();
    if (r.isInt) return r.int;
    const t = r.text();
    if (!/^-?\d+$/.test(t)) throw new RdbError(`bad ${what} in stream listpack`);
    const v = BigInt(t);
    if (v < -(1n << 63n) || v >= 1n << 63n) throw new RdbError(`bad ${what} in stream listpack`);
    return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
  }

  /** The next element as a count or flag: a safe non-negative integer. */
  small(what: string): number {
    const v = this.int(what);
    if (typeof v !== 'number' || v < 0) throw new RdbError(`bad ${what} in stream listpack`);
    return v;
  }
}

/**
 * A node whose listpack holds what Vireo would have written (every entry's
 * flags in one byte, the master entry in the smallest encodings, as Redis
 * writes them), checked as nodeFromListpack checks it, its entries taken
 * as they are. Null when the listpack is valid but encoded otherwise.
 */
function adoptListpack(master: StreamID, lp: Buffer): StreamNode | null {
  const w = new CheckedWalk(lp);
  const valid = w.small('entry count');
  const deleted = w.small('deleted count');
  const masterFields = w.small('master field count');
  if (masterFields > lp.length) throw new RdbError('bad stream master entry');
  const fields: string[] = [];
  for (let f = 0; f < masterFields; f++) fields.push(w.step().text());
  if (w.int('master terminator') !== 0) throw new RdbError('bad stream master entry terminator');
  const node = new StreamNode(master.ms, master.seq, fields, 0);
  const entriesStart = w.pos;
  const masterElements = w.elements;
  let canonical = true;
  let prev: StreamID | null = null;
  for (let e = 0; e < valid + deleted; e++) {
    const flagsAt = w.pos;
    const flags = w.small('entry flags');
    if (flags > 3) throw new RdbError('bad stream entry flags');
    if (w.pos - flagsAt !== 2) canonical = false; // markDeleted rewrites the flags byte in place
    const msDelta = w.int('ID delta');
    const seqDelta = w.int('ID delta');
    // Vireo finds entries by binary search: they must ascend from the master ID.
    const id = { ms: addWrapping(master.ms, msDelta), seq: addWrapping(master.seq, seqDelta) };
    if (compareIds(id, prev ?? master) < (prev === null ? 0 : 1)) throw new RdbError('stream entries out of order');
    prev = id;
    let expected: number;
    if ((flags & FLAG_SAMEFIELDS) !== 0) {
      for (let f = 0; f < masterFields; f++) w.step();
      expected = masterFields + 3;
    } else {
      const count = w.small('entry field count');
      if (2 * count > lp.length) throw new RdbError('bad stream entry field count');
      for (let f = 0; f < 2 * count; f++) w.step();
      expected = 2 * count + 4;
    }
    if (w.int('entry lp-count') !== expected) throw new RdbError('bad stream entry lp-count');
  }
  if (w.pos !== lp.length - 1) throw new RdbError('stream listpack holds more entries than its master entry says');
  const count = lp.readUInt16LE(4);
  if (count !== 65535 && count !== w.elements) throw new RdbError('bad stream listpack entry count');
  // The master entry's bytes must be what Vireo counts for them (node sizes, DUMP output).
  if (entriesStart - 6 - lpIntBytes(valid) - lpIntBytes(deleted) !== node.masterEntryBytes) canonical = false;
  if (!canonical) return null;
  node.adoptEntries(lp.subarray(entriesStart, lp.length - 1), valid, deleted, w.elements - masterElements);
  return node;
}

/**
 * A node from its RDB listpack, checked as Redis' deep
 * streamValidateListpackIntegrity does (master entry, terminator, entry
 * count, each entry's lp-count), and re-encoded element by element (the
 * bytes of a listpack Redis wrote come out the same).
 */
export function nodeFromListpack(master: StreamID, lp: Buffer): StreamNode {
  const adopted = adoptListpack(master, lp);
  if (adopted !== null) return adopted;
  const el = readListpack(lp);
  if (el.length === 0) throw new RdbError('Empty listpack inside stream');
  let i = 0;
  const next = (): string => {
    if (i >= el.length) throw new RdbError('truncated stream listpack');
    return el[i++]!;
  };
  const valid = intOf(next(), 'entry count');
  const deleted = intOf(next(), 'deleted count');
  const masterFields = intOf(next(), 'master field count');
  if (valid < 0 || deleted < 0 || masterFields < 0 || masterFields > el.length) throw new RdbError('bad stream master entry');
  const fields: string[] = [];
  for (let f = 0; f < masterFields; f++) fields.push(next());
  if (intOf(next(), 'master terminator') !== 0) throw new RdbError('bad stream master entry terminator');
  const node = new StreamNode(master.ms, master.seq, fields, 0);
  const entries = valid + deleted;
  if (entries > el.length) throw new RdbError('stream master entry counts more entries than the listpack holds');
  let prev: StreamID | null = null;
  for (let e = 0; e < entries; e++) {
    const flags = intOf(next(), 'entry flags');
    if (flags < 0 || flags > 3) throw new RdbError('bad stream entry flags');
    const msDelta = deltaOf(next());
    const seqDelta = deltaOf(next());
    // Vireo finds entries by binary search: they must ascend from the master ID.
    const id = { ms: addWrapping(master.ms, msDelta), seq: addWrapping(master.seq, seqDelta) };
    if (compareIds(id, prev ?? master) < (prev === null ? 0 : 1)) throw new RdbError('stream entries out of order');
    prev = id;
    let pairs: string[];
    let expected: number;
    if ((flags & FLAG_SAMEFIELDS) !== 0) {
      pairs = [];
      for (const f of fields) pairs.push(f, next());
      expected = masterFields + 3;
    } else {
      const count = intOf(next(), 'entry field count');
      if (count < 0 || 2 * count > el.length - i) throw new RdbError('bad stream entry field count');
      pairs = [];
      for (let f = 0; f < 2 * count; f++) pairs.push(next());
      expected = 2 * count + 4;
    }
    if (intOf(next(), 'entry lp-count') !== expected) throw new RdbError('bad stream entry lp-count');
    node.appendLoaded(flags, msDelta, seqDelta, pairs);
  }
  if (i !== el.length) throw new RdbError('stream listpack holds more entries than its master entry says');
  node.shrink();
  return node;
}

/** RDB string encoding byte of an LZF-compressed string. */
const LZF_STRING = 0xc3;

/**
 * A node that came LZF-compressed keeps those bytes when Vireo's compressor
 * would choose differently (another server wrote them): saving it again
 * then gives the same file, byte for byte, until the node changes.
 */
function keepForeignCompression(node: StreamNode, raw: Buffer): void {
  if (raw[0] !== LZF_STRING) return;
  const own = new RdbOutput(raw.length + 64);
  own.bytes(node.toListpack(), true);
  if (own.view().equals(raw)) return;
  // A copy with its own memory: a slice of the file, or of Node's buffer pool, would keep all of it alive.
  node.rdbBlob = Buffer.allocUnsafeSlow(raw.length);
  raw.copy(node.rdbBlob);
}

function readId(inp: RdbInput): StreamID {
  const ms = u64(inp.len64());
  const seq = u64(inp.len64());
  return { ms, seq };
}

/** A 64-bit counter where 2^64-1 means -1 (entries_read). */
function readSignedCounter(inp: RdbInput): U64 {
  const v = inp.len64();
  return v === (1n << 64n) - 1n ? INVALID_ENTRIES_READ : u64(v >= 1n << 63n ? v - (1n << 64n) : v);
}

/** The payload of a stream of RDB type `type` (15, 19 or 21). */
export function readStream(inp: RdbInput, type: number): StreamValue {
  const s = new StreamValue();
  const nodeCount = inp.len();
  const nodes: [string, StreamNode][] = [];
  for (let n = 0; n < nodeCount; n++) {
    const key = inp.stringBytes();
    if (key.length !== 16) throw new RdbError('Stream node key entry is not the size of a stream ID');
    const master = idFromBytes(key);
    const at = inp.pos;
    const node = nodeFromListpack(master, inp.stringBytes());
    keepForeignCompression(node, inp.buf.subarray(at, inp.pos));
    nodes.push([idKey(master), node]);
  }
  // Redis inserts the nodes into a radix tree: order by key, a key twice is corrupt.
  nodes.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  let live = 0;
  for (let n = 0; n < nodes.length; n++) {
    if (n > 0 && nodes[n]![0] === nodes[n - 1]![0]) throw new RdbError('Listpack re-added with existing key');
    const node = nodes[n]![1];
    if (n > 0) checkAfter(nodes[n - 1]![1], node);
    s.pushNode(node);
    live += node.valid;
  }
  const length = u64(inp.len64());
  if (length !== live) throw new RdbError(`stream length ${length} does not match its ${live} entries`);
  s.length = live;
  s.lastId = readId(inp);
  if (type >= RDB_TYPE.STREAM_LISTPACKS_2) {
    s.firstId = readId(inp);
    s.maxDeletedId = readId(inp);
    s.entriesAdded = u64(inp.len64());
  } else {
    // Files before 7.0: as Redis, the counter starts at the length and the first ID is looked up.
    s.entriesAdded = s.length;
    s.firstId = s.length === 0 ? { ms: 0, seq: 0 } : s.edgeId(true, true);
  }
  readGroups(inp, type, s);
  return s;
}

/** Entries of a node must all come before the next node's master ID. */
function checkAfter(prev: StreamNode, node: StreamNode): void {
  if (prev.end === 0) return;
  const cur = new NodeCursor(prev);
  cur.decodeAt(cur.entryBefore(prev.end));
  const last = cur.id;
  if (last.ms > node.masterMs || (last.ms === node.masterMs && last.seq >= node.masterSeq)) {
    throw new RdbError('stream entries overlap the next node');
  }
}

function readGroups(inp: RdbInput, type: number, s: StreamValue): void {
  const count = inp.len();
  for (let g = 0; g < count; g++) {
    const name = inp.string();
    const lastId = readId(inp);
    const entriesRead = type >= RDB_TYPE.STREAM_LISTPACKS_2 ? readSignedCounter(inp) : s.estimateDistance(lastId);
    const group = s.createGroup(name, lastId, entriesRead);
    if (group === null) throw new RdbError(`Duplicated consumer group name ${name}`);
    const pelSize = inp.len();
    for (let i = 0; i < pelSize; i++) {
      const key = inp.bytes(16).latin1Slice();
      const deliveryTime = inp.millis();
      const nack: Nack = { deliveryTime, deliveryCount: u64(inp.len64()), consumer: null };
      if (!group.pel.set(key, nack)) throw new RdbError('Duplicated global PEL entry loading stream consumer group');
    }
    const consumers = inp.len();
    for (let c = 0; c < consumers; c++) {
      const cname = inp.string();
      const seen = inp.millis();
      const consumer = group.createConsumer(cname, seen);
      if (consumer === null) throw new RdbError('Duplicate stream consumer detected.');
      // Before 7.2 files had no active-time: Redis takes the seen-time as the best estimate.
      consumer.activeTime = type >= RDB_TYPE.STREAM_LISTPACKS_3 ? inp.millis() : seen;
      const owned = inp.len();
      for (let i = 0; i < owned; i++) {
        const key = inp.bytes(16).latin1Slice();
        const nack = group.pel.get(key);
        if (nack === undefined) throw new RdbError('Consumer entry not found in group global PEL');
        if (nack.consumer !== null) throw new RdbError('Duplicated consumer PEL entry loading a stream consumer group');
        nack.consumer = consumer;
        consumer.pel.set(key, nack);
      }
    }
    group.pel.forEachFrom(null, (_key, nack) => {
      if (nack.consumer === null) throw new RdbError('Stream CG PEL entry without consumer');
      return true;
    });
  }
}

