/**
 * Writing stream entries into replies (streamReplyWithRange's output): each
 * entry is [id, [field, value, ...]], fields and values copied straight
 * from the node's bytes. A range is written in one pass, its array length
 * filled in at the end as Redis does (addReplyDeferredLen); consumer group
 * reads collect their entries first (node and offset per entry, at most
 * `count` and at most what the stream holds), as they record each one.
 */

import type { ReplySink } from '../engine/context.js';
import { putBulk, putBulkBytes, putUint, uintDigits } from '../util/bytes.js';
import { FLAG_SAMEFIELDS, NodeCursor, type StreamNode } from '../types/stream-node.js';
import type { StreamValue } from '../types/stream.js';
import type { StreamID, U64 } from '../types/stream-id.js';

/** Entries picked for a reply: parallel arrays of node and entry offset. */
export interface EntryRefs {
  nodes: StreamNode[];
  offsets: number[];
  ids: StreamID[];
}

export function emptyRefs(): EntryRefs {
  return { nodes: [], offsets: [], ids: [] };
}

/** Up to `count` (0: no limit) live entries of [start, end], in order or reversed. */
export function collectRange(s: StreamValue, start: StreamID, end: StreamID, rev: boolean, count: number): EntryRefs {
  const refs = emptyRefs();
  const it = s.iterate(start, end, rev);
  while ((count === 0 || refs.ids.length < count) && it.next()) {
    const c = it.cursor;
    refs.nodes.push(c.node);
    refs.offsets.push(c.entryStart);
    refs.ids.push(c.id);
  }
  return refs;
}

/**
 * Up to `count` (0: no limit) live entries of [start, end] as an array,
 * read and written in one pass; returns how many.
 */
export function writeRange(reply: ReplySink, s: StreamValue, start: StreamID, end: StreamID, rev: boolean, count: number): number {
  const header = reply.deferArray();
  const it = s.iterate(start, end, rev);
  let n = 0;
  while ((count === 0 || n < count) && it.next()) {
    writeCurrent(reply, it.cursor);
    n++;
  }
  reply.setArrayLength(header, n);
  return n;
}

/** The entry at `offset` of `node` as [id, [field, value...]]. */
export function writeEntry(reply: ReplySink, node: StreamNode, offset: number, cursor: NodeCursor = new NodeCursor(node)): void {
  cursor.decodeAt(offset);
  writeCurrent(reply, cursor);
}

/** The collected entries, without an array header of their own. */
export function writeEntries(reply: ReplySink, refs: EntryRefs): void {
  let cursor: NodeCursor | null = null;
  for (let i = 0; i < refs.nodes.length; i++) {
    const node = refs.nodes[i]!;
    if (cursor === null) cursor = new NodeCursor(node);
    else if (cursor.node !== node) cursor.reset(node);
    writeEntry(reply, node, refs.offsets[i]!, cursor);
  }
}

/** The single live entry with this ID, as writeEntry does; false if there is none. */
export function writeEntryById(reply: ReplySink, s: StreamValue, id: StreamID): boolean {
  const it = s.iterate(id, id, false);
  if (!it.next()) return false;
  writeCurrent(reply, it.cursor);
  return true;
}

export function replyId(reply: ReplySink, id: StreamID): void {
  if (reply.muted) return;
  const buf = reply.reserveRaw(MAX_ID_BULK);
  reply.advanceRaw(putIdBulk(buf, reply.rawPosition, id.ms, id.seq));
}

// ---- encoding ------------------------------------------------------------------------

/** Most bytes of an ID as a bulk string: `$41` CRLF, 20 digits, '-', 20 digits, CRLF. */
const MAX_ID_BULK = 48;
/**
 * Entries whose reply may exceed this are written element by element
 * (through the writer's own checks for big strings); others are encoded
 * into one reservation.
 */
const MAX_DIRECT_ENTRY = 16 * 1024;

/**
 * The entry `c` has just decoded, as [id, [field, value...]]. Its reply is
 * bounded by its size in the node: an element of k bytes there (k >= 2)
 * becomes at most 13 + k bytes of bulk string, or 27 for an integer.
 */
function writeCurrent(reply: ReplySink, c: NodeCursor): void {
  if (reply.muted) return;
  const node = c.node;
  const same = (c.flags & FLAG_SAMEFIELDS) !== 0;
  const bound = 14 * (c.entryEnd - c.entryStart) + (same ? node.fieldChars + 16 * c.numFields : 0) + MAX_ID_BULK + 32;
  if (bound > MAX_DIRECT_ENTRY) {
    writeCurrentByElement(reply, c);
    return;
  }
  const buf = reply.reserveRaw(bound);
  const start = reply.rawPosition;
  let p = putArrayHeader(buf, start, 2);
  p = putIdBulk(buf, p, c.ms, c.seq);
  p = putArrayHeader(buf, p, 2 * c.numFields);
  const r = c.r;
  const fields = node.fields;
  let q = c.fieldsStart;
  for (let i = 0; i < c.numFields; i++) {
    if (same) p = putBulk(buf, p, fields[i]!);
    else {
      r.read(q);
      p = putElement(buf, p, c);
      q = r.next;
    }
    r.read(q);
    p = putElement(buf, p, c);
    q = r.next;
  }
  // Bytes past the reservation would be lost at a slab's end, or overwrite another reply's: fail loudly instead.
  if (p - start > bound) throw new Error(`stream reply: an entry overran its reservation (${p - start} > ${bound})`);
  reply.advanceRaw(p);
}

/** writeCurrent through the writer's methods, for entries with big fields or values. */
function writeCurrentByElement(reply: ReplySink, c: NodeCursor): void {
  const same = (c.flags & FLAG_SAMEFIELDS) !== 0;
  const r = c.r;
  reply.array(2);
  replyId(reply, c);
  reply.array(2 * c.numFields);
  let q = c.fieldsStart;
  for (let i = 0; i < c.numFields; i++) {
    if (same) reply.bulk(c.node.fields[i]!);
    else {
      r.read(q);
      if (r.isInt) reply.bulk(String(r.int));
      else reply.bulkBytes(r.buf, r.strStart, r.strStart + r.strLen);
      q = r.next;
    }
    r.read(q);
    if (r.isInt) reply.bulk(String(r.int));
    else reply.bulkBytes(r.buf, r.strStart, r.strStart + r.strLen);
    q = r.next;
  }
}

function putArrayHeader(buf: Buffer, p: number, n: number): number {
  buf[p] = 42; // '*'
  p = putUint(buf, p + 1, n);
  buf[p] = 13;
  buf[p + 1] = 10;
  return p + 2;
}

/** The listpack element the cursor's reader has just read, as a bulk string. */
function putElement(buf: Buffer, p: number, c: NodeCursor): number {
  const r = c.r;
  if (!r.isInt) return putBulkBytes(buf, p, r.buf, r.strStart, r.strStart + r.strLen);
  const v = r.int;
  if (typeof v !== 'number') return putBulk(buf, p, String(v));
  const digits = v < 0 ? 1 + uintDigits(-v) : uintDigits(v);
  buf[p] = 36; // '$'
  p = putUint(buf, p + 1, digits);
  buf[p++] = 13;
  buf[p++] = 10;
  if (v < 0) {
    buf[p++] = 45; // '-'
    p = putUint(buf, p, -v);
  } else p = putUint(buf, p, v);
  buf[p] = 13;
  buf[p + 1] = 10;
  return p + 2;
}

/**
 * An ID's digits are kept in a scratch buffer between calls: the ms part
 * of neighbouring entries is mostly the same, and writing a 13-digit
 * number costs float divisions (it is past 2^31) where copying its digits
 * does not. A string built by concatenation would be a rope V8 must
 * flatten before copying its bytes.
 */
const idScratch = Buffer.allocUnsafe(24);
let scratchMs: U64 = -1;
/** Bytes of scratchMs's digits and the '-' after them. */
let scratchLen = 0;

/** The ID ms-seq as a bulk string at p (the buffer has MAX_ID_BULK bytes free); returns the position after it. */
function putIdBulk(buf: Buffer, p: number, ms: U64, seq: U64): number {
  if (typeof ms !== 'number' || typeof seq !== 'number') return putBulk(buf, p, `${ms}-${seq}`);
  if (ms !== scratchMs) {
    scratchMs = ms;
    scratchLen = putUint(idScratch, 0, ms);
    idScratch[scratchLen++] = 45; // '-'
  }
  const n = scratchLen;
  buf[p] = 36; // '$'
  p = putUint(buf, p + 1, n + uintDigits(seq));
  buf[p++] = 13;
  buf[p++] = 10;
  for (let i = 0; i < n; i++) buf[p + i] = idScratch[i]!;
  p = putUint(buf, p + n, seq);
  buf[p] = 13;
  buf[p + 1] = 10;
  return p + 2;
}
