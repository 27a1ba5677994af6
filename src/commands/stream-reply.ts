/**
 * Writing stream entries into replies (streamReplyWithRange's output): each
 * entry is [id, [field, value, ...]], fields and values copied straight
 * from the node's bytes. A range is collected first (node and offset per
 * entry, at most `count` and at most what the stream holds) so the array
 * length is known before anything is written.
 */

import type { ReplySink } from '../engine/context.js';
import type { LpReader } from '../types/lp-codec.js';
import { putUint } from '../util/bytes.js';
import { FLAG_SAMEFIELDS, NodeCursor, type StreamNode } from '../types/stream-node.js';
import type { StreamValue } from '../types/stream.js';
import { addWrapping, type StreamID, type U64 } from '../types/stream-id.js';

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

/** The entry at `offset` of `node` as [id, [field, value...]], read in one pass over its elements. */
export function writeEntry(reply: ReplySink, node: StreamNode, offset: number, cursor: NodeCursor = new NodeCursor(node)): void {
  const r = cursor.r;
  r.read(offset);
  const same = ((r.int as number) & FLAG_SAMEFIELDS) !== 0;
  r.read(r.next);
  const ms = addWrapping(node.masterMs, r.int);
  r.read(r.next);
  const seq = addWrapping(node.masterSeq, r.int);
  let q = r.next;
  let n = node.fields.length;
  if (!same) {
    r.read(q);
    n = r.int as number;
    q = r.next;
  }
  reply.array(2);
  writeId(reply, ms, seq);
  reply.array(2 * n);
  for (let i = 0; i < n; i++) {
    if (same) reply.bulk(node.fields[i]!);
    else {
      r.read(q);
      writeElement(reply, r);
      q = r.next;
    }
    r.read(q);
    writeElement(reply, r);
    q = r.next;
  }
}

/** The listpack element `r` has just read, as a bulk string. */
function writeElement(reply: ReplySink, r: LpReader): void {
  if (r.isInt) reply.bulk(String(r.int));
  else reply.bulkBytes(r.buf, r.strStart, r.strStart + r.strLen);
}

/**
 * An ID's text bytes, written into a scratch buffer: a 15+ character
 * string built by concatenation is a rope V8 must flatten before its bytes
 * are copied, which costs more than the rest of the entry. Neighbouring
 * entries mostly share their ms part, whose digits stay in place.
 */
const idScratch = Buffer.allocUnsafe(48);
let lastMs: U64 = -1;
let seqAt = 0;

function writeId(reply: ReplySink, ms: U64, seq: U64): void {
  if (typeof ms !== 'number' || typeof seq !== 'number') {
    reply.bulk(`${ms}-${seq}`);
    return;
  }
  if (ms !== lastMs) {
    lastMs = ms;
    seqAt = putUint(idScratch, 0, ms);
    idScratch[seqAt++] = 45; // '-'
  }
  reply.bulkBytes(idScratch, 0, putUint(idScratch, seqAt, seq));
}

/** The collected entries, without an array header of their own. */
export function writeEntries(reply: ReplySink, refs: EntryRefs): void {
  let cursor: NodeCursor | null = null;
  for (let i = 0; i < refs.nodes.length; i++) {
    const node = refs.nodes[i]!;
    if (cursor === null || cursor.node !== node) cursor = new NodeCursor(node);
    writeEntry(reply, node, refs.offsets[i]!, cursor);
  }
}

/** The single live entry with this ID, as writeEntry does; false if there is none. */
export function writeEntryById(reply: ReplySink, s: StreamValue, id: StreamID): boolean {
  const it = s.iterate(id, id, false);
  if (!it.next()) return false;
  writeEntry(reply, it.cursor.node, it.cursor.entryStart);
  return true;
}

export function replyId(reply: ReplySink, id: StreamID): void {
  writeId(reply, id.ms, id.seq);
}
