/**
 * COMMAND DOCS: each command's documentation map, as Redis answers it.
 * redis-cli builds its `help` and the argument hints it shows while typing
 * from this reply, so it carries Redis' own text (docs-data.ts, generated
 * from the reference redis-server) for the commands Redis has, and a
 * summary of Vireo's own for those it added later (Redis 7.2 and 8,
 * Valkey 8, VIREO).
 */

import type { ReplyWriter } from '../protocol/writer.js';
import type { Command } from './table.js';
import { REDIS_COMMAND_DOCS } from './docs-data.js';

/** A doc map's value as docs-data.ts holds it (see there). */
type DocValue = string | number | DocValue[] | { '%': [string, DocValue][] } | { '~': DocValue[] } | { '+': string };
type DocMap = { '%': [string, DocValue][] };

/** Summary and complexity of what Redis 7.0's reference does not document (argument hints stay empty). */
const LATER_DOCS: Readonly<Record<string, readonly [summary: string, complexity: string]>> = {
  waitaof: ['Blocks until all of the preceding write commands sent by the connection are written to the append-only file of the primary and/or replicas.', 'O(1)'],
  'client|no-touch': ['Controls whether commands sent by the client affect the LRU/LFU of accessed keys.', 'O(1)'],
  'client|setinfo': ['Sets information specific to the client or connection.', 'O(1)'],
  'client|capa': ['Declares the client capabilities (redirect: -REDIRECT from a replica to its primary).', 'O(1)'],
  'cluster|myshardid': ['Returns the shard ID of a node.', 'O(1)'],
  'cluster|slot-stats': ['Returns statistics of hash slots: key counts, CPU time, network bytes.', 'O(N) where N is the number of slots'],
  'script|show': ['Returns the original source code of a script in the script cache.', 'O(1)'],
  xackdel: ['Acknowledges and deletes one or multiple messages of a stream consumer group.', 'O(1) for each entry ID processed.'],
  xdelex: ['Deletes one or multiple entries from a stream, with control over consumer group references.', 'O(1) for each entry ID processed.'],
  vireo: ['Vireo\'s own commands.', 'Depends on subcommand.'],
  'vireo|help': ['Returns helpful text about the different subcommands.', 'O(1)'],
  'vireo|hotkeys': ['Returns the most accessed keys seen by hot-key sampling.', 'O(N) where N is the number of keys returned'],
};

const parsed = new Map<string, DocMap>();

function docsOf(name: string): DocMap | undefined {
  let doc = parsed.get(name);
  if (doc === undefined) {
    const text = REDIS_COMMAND_DOCS[name];
    if (text === undefined) return undefined;
    doc = JSON.parse(text) as DocMap;
    parsed.set(name, doc);
  }
  return doc;
}

function writeValue(r: ReplyWriter, v: DocValue): void {
  if (typeof v === 'string') r.bulk(v);
  else if (typeof v === 'number') r.integer(v);
  else if (Array.isArray(v)) {
    r.array(v.length);
    for (const x of v) writeValue(r, x);
  } else if ('%' in v) {
    r.map(v['%'].length);
    for (const [k, x] of v['%']) {
      r.bulk(k);
      writeValue(r, x);
    }
  } else if ('~' in v) {
    r.set(v['~'].length);
    for (const x of v['~']) writeValue(r, x);
  } else r.simple(v['+']);
}

/** One command's doc map, with `subs` (the subcommands Vireo implements) under `subcommands`. */
export function replyCommandDocs(r: ReplyWriter, cmd: Command, subs: readonly Command[]): void {
  const extra = subs.length > 0 ? 1 : 0;
  const doc = docsOf(cmd.name);
  if (doc !== undefined) {
    r.map(doc['%'].length + extra);
    for (const [k, v] of doc['%']) {
      r.bulk(k);
      writeValue(r, v);
    }
  } else {
    const later = LATER_DOCS[cmd.name];
    r.map((later === undefined ? 2 : 4) + extra);
    if (later !== undefined) {
      r.bulk('summary');
      r.bulk(later[0]);
    }
    r.bulk('since');
    r.bulk(cmd.since);
    r.bulk('group');
    r.bulk(cmd.group);
    if (later !== undefined) {
      r.bulk('complexity');
      r.bulk(later[1]);
    }
  }
  if (extra === 0) return;
  r.bulk('subcommands');
  r.map(subs.length);
  for (const s of subs) {
    r.bulk(s.name);
    replyCommandDocs(r, s, []);
  }
}
