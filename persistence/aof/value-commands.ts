/**
 * A dataset snapshot as commands (the RESP base of an AOF with
 * aof-use-rdb-preamble no): a FUNCTION LOAD per function library first (as
 * Redis' rewriteFunctions), then one SET / RPUSH / SADD / ZADD / HSET per
 * key (collections in batches of 64 items), a stream as Redis'
 * rewriteStreamObject writes it, and PEXPIREAT for a TTL.
 */

import type { SnapshotTarget } from '../snapshot.js';
import { encodeRespCommand, encodeRespCommandHead } from '../resp.js';
import type { Value } from '../../src/types/value.js';
import { MutableString, stringOf } from '../../src/types/string.js';
import { ListValue } from '../../src/types/list.js';
import { SetValue } from '../../src/types/set.js';
import { ZSetValue } from '../../src/types/zset.js';
import { HashValue } from '../../src/types/hash.js';
import { StreamValue } from '../../src/types/stream.js';
import { MAX_ID, MIN_ID, asInt64, formatId, idFromKey } from '../../src/types/stream-id.js';
import { formatDouble, int64Text } from '../../src/util/numbers.js';
import { SPILL_BYTES } from '../rdb/format.js';

const CRLF = Buffer.from('\r\n', 'latin1');

/** AOF-text snapshot target: one command per key (aof-use-rdb-preamble no). */
export class AofTextTarget implements SnapshotTarget {
  private chunks: Buffer[] = [];
  private db = -1;

  constructor(
    /** Where the bytes go: written at once, or queued (then `keepsChunks`). */
    private readonly write: (chunk: Buffer) => void,
    /** The function libraries' code, written before the keys. */
    libraries: readonly string[],
    /** Where a long value's own bytes go, when `write` keeps its chunks past its return: done with them when it returns. */
    private readonly writeNow: (chunk: Buffer) => void = write,
  ) {
    for (const code of libraries) this.cmd(['FUNCTION', 'LOAD', code]);
  }

  private cmd(argv: readonly (string | Uint8Array)[]): void {
    this.chunks.push(encodeRespCommand(argv));
  }

  /**
   * SET of a MutableString: a long one goes to the file at once from the
   * value's own bytes (never copied into a command buffer, and written
   * before a client's write may change them).
   */
  private setBytes(key: string, bytes: Buffer): void {
    if (bytes.length < SPILL_BYTES) {
      this.cmd(['SET', key, bytes]);
      return;
    }
    this.chunks.push(encodeRespCommandHead(['SET', key], bytes.length));
    this.drain();
    this.writeNow(bytes);
    this.chunks.push(CRLF);
  }

  beginDb(db: number): void {
    this.db = db;
    this.cmd(['SELECT', String(db)]);
  }

  entry(db: number, key: string, v: Value, expireMs: number): void {
    if (db !== this.db) this.beginDb(db);
    const batch = (head: string[], items: string[], step: number) => {
      for (let i = 0; i < items.length; i += 64 * step) this.cmd([...head, ...items.slice(i, i + 64 * step)]);
    };
    if (v instanceof MutableString) this.setBytes(key, v.bytes);
    else if (typeof v !== 'object') this.cmd(['SET', key, stringOf(v)]);
    else if (v instanceof ListValue) batch(['RPUSH', key], v.toArray(), 1);
    else if (v instanceof SetValue) batch(['SADD', key], v.toArray(), 1);
    else if (v instanceof ZSetValue) batch(['ZADD', key], [...v.entries()].flatMap(([m, s]) => [formatDouble(s), m]), 2);
    else if (v instanceof HashValue) batch(['HSET', key], [...v.entries()].flat(), 2);
    else if (v instanceof StreamValue) this.stream(key, v);
    if (expireMs >= 0) this.cmd(['PEXPIREAT', key, int64Text(expireMs)]);
  }

  /**
   * rewriteStreamObject: XADD per entry (an empty stream by XADD MAXLEN 0 of
   * a dummy entry), XSETID with the counters, then per group XGROUP CREATE
   * ... ENTRIESREAD, XCLAIM ... FORCE JUSTID for each pending entry and
   * XGROUP CREATECONSUMER for consumers without any.
   */
  private stream(key: string, s: StreamValue): void {
    if (s.length > 0) {
      const it = s.iterate(MIN_ID, MAX_ID, false);
      while (it.next()) this.cmd(['XADD', key, formatId(it.cursor.id), ...it.cursor.pairs()]);
    } else {
      this.cmd(['XADD', key, 'MAXLEN', '0', '0-1', 'x', 'y']);
    }
    this.cmd(['XSETID', key, formatId(s.lastId), 'ENTRIESADDED', String(asInt64(s.entriesAdded)), 'MAXDELETEDID', formatId(s.maxDeletedId)]);
    for (const [name, g] of s.sortedGroups()) {
      this.cmd(['XGROUP', 'CREATE', key, name, formatId(g.lastId), 'ENTRIESREAD', String(asInt64(g.entriesRead))]);
      for (const c of g.sortedConsumers()) {
        if (c.pel.size === 0) {
          this.cmd(['XGROUP', 'CREATECONSUMER', key, name, c.name]);
          continue;
        }
        c.pel.forEachFrom(null, (pkey, nack) => {
          const id = formatId(idFromKey(pkey));
          this.cmd(['XCLAIM', key, name, c.name, '0', id, 'TIME', String(nack.deliveryTime), 'RETRYCOUNT', String(asInt64(nack.deliveryCount)), 'JUSTID', 'FORCE']);
          return true;
        });
      }
    }
  }

  drain(): void {
    if (this.chunks.length === 0) return;
    this.write(Buffer.concat(this.chunks));
    this.chunks = [];
  }
}
