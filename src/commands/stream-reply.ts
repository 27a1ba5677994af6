/**
 * Writing stream entries into replies (streamReplyWithRange's output): each
 * entry is [id, [field, value, ...]], fields and values copied straight
 * from the node's bytes. A range is collected first (node and offset per
 * entry, at most `count` and at most what the stream holds) so the array
 * length is known before anything is written.
 */

import type { ReplySink } from '../engine/context.js';
import { NodeCursor, type StreamNode } from '../types/stream-node.js';
import type { StreamValue } from '../types/stream.js';
import { formatId, type StreamID } from '../types/stream-id.js';

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

/** The entry at `offset` of `node` as [id, [field, value...]]. */
export function writeEntry(reply: ReplySink, node: StreamNode, offset: number, cursor: NodeCursor = new NodeCursor(node)): void {
  cursor.decodeAt(offset);
  reply.array(2);
  reply.bulk(`${cursor.ms}-${cursor.seq}`);
  reply.array(cursor.numFields * 2);
  cursor.forEachPair((field, r) => {
    reply.bulk(field);
    if (r.isInt) reply.bulk(String(r.int));
    else reply.bulkBytes(r.buf, r.strStart, r.strStart + r.strLen);
  });
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
  reply.bulk(formatId(id));
}
