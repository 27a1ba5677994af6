/**
 * The command log (DESIGN.md §1): every change to the dataset, as normalized
 * effect records, in order. The log *is* a RESP byte stream, exactly what
 * Redis writes to the AOF and sends to replicas (with SELECT where the
 * database changes), so byte offset N in the log is master_repl_offset N.
 *
 * Records are staged during an event-loop turn and handed to the log's
 * followers (AOF writer, replication backlog, replicas) together by flush():
 * one write, and under `appendfsync always` one fsync, per turn.
 */

/** A follower of the log: AOF, backlog, replica streams, tests. */
export interface LogFollower {
  /** `chunk` holds log bytes [start, start + chunk.length). It must not be kept without copying. */
  onLogData(chunk: Buffer, start: number): void;
}

import { DEFERRED_ARG, escapedPlaceholder } from '../protocol/deferred-arg.js';
import { bulkSize, putBulk, putBulkBytes, putUint, uintDigits } from '../util/bytes.js';
import { argAt, hasBigArgs } from '../protocol/big-args.js';

const STAGING_SIZE = 64 * 1024;

export class CommandLog {
  /** Bytes appended so far: the replication offset of the next byte. */
  offset = 0;
  /**
   * Offset just past the last record that changes the dataset: what a
   * reply may reveal. The primary's PING and REPLCONF GETACK to its
   * replicas advance `offset` but reveal nothing, so no reply waits for them.
   */
  dataEnd = 0;
  /** Offset of the first staged (not yet flushed) byte. */
  private flushedOffset = 0;
  private staging: Buffer = Buffer.allocUnsafe(STAGING_SIZE);
  private stagingLen = 0;
  /** Database the log stream is positioned on (-1: unknown, emit SELECT). */
  private selectedDb = -1;
  /**
   * Database a reader of every byte so far is left on (-1: unknown). Unlike
   * selectedDb it survives resetSelectedDb: a replica's log, which never
   * gets a SELECT of its own, records it as RDB aux `repl-stream-db`.
   */
  streamDb = -1;
  private readonly followers: LogFollower[] = [];

  follow(f: LogFollower): void {
    this.followers.push(f);
  }

  /**
   * Whether records are kept for followers. With none (no AOF, no replica)
   * a record only advances the offset: nobody will read its bytes.
   */
  private get recording(): boolean {
    return this.followers.length > 0;
  }

  unfollow(f: LogFollower): void {
    const i = this.followers.indexOf(f);
    if (i >= 0) this.followers.splice(i, 1);
  }

  /** True when records are staged and not yet handed to followers. */
  get hasPending(): boolean {
    return this.stagingLen > 0;
  }

  /** Forget the current database so the next record starts with SELECT (new AOF file, new replica). */
  resetSelectedDb(): void {
    this.selectedDb = -1;
  }

  /** Drop anything staged and continue at `offset` (after loading a dataset), the stream on `streamDb`. */
  reset(offset: number, streamDb = -1): void {
    this.stagingLen = 0;
    this.offset = offset;
    this.dataEnd = offset;
    this.flushedOffset = offset;
    this.selectedDb = -1;
    this.streamDb = streamDb;
  }

  /** Append one effect record executed against database `db`. */
  append(db: number, argv: readonly string[]): void {
    if (db !== this.selectedDb) this.select(db);
    this.encode(argv);
    this.dataEnd = this.offset;
  }

  /**
   * Append a record that belongs to no database (the primary's PING and
   * REPLCONF GETACK to its replicas): no SELECT before it, as in Redis.
   */
  appendMeta(argv: readonly string[]): void {
    this.encode(argv);
  }

  private select(db: number): void {
    this.encode(['SELECT', String(db)]);
    this.selectedDb = this.streamDb = db;
  }

  /** Append one record given as its RESP bytes src[start, end) (already canonical). */
  appendRaw(db: number, src: Buffer, start: number, end: number): void {
    if (db !== this.selectedDb) this.select(db);
    this.copyIn(src, start, end);
  }

  /**
   * Append bytes of a primary's replication stream exactly as received (a
   * replica's log is byte for byte its primary's, so the offsets agree):
   * no SELECT is added; `dbAfter` is the database the stream is on after them.
   */
  appendVerbatim(src: Buffer, start: number, end: number, dbAfter: number): void {
    this.copyIn(src, start, end);
    this.selectedDb = this.streamDb = dbAfter;
  }

  private copyIn(src: Buffer, start: number, end: number): void {
    const n = end - start;
    if (!this.recording) {
      this.skip(n);
      this.dataEnd = this.offset;
      return;
    }
    this.ensure(n);
    const buf = this.staging;
    const p = this.stagingLen;
    if (n <= 64) for (let i = 0; i < n; i++) buf[p + i] = src[start + i]!;
    else src.copy(buf, p, start, end);
    this.stagingLen = p + n;
    this.offset += n;
    this.dataEnd = this.offset;
  }

  /** Append records that must apply atomically: MULTI, records, EXEC. */
  appendAtomic(records: readonly { db: number; argv: readonly string[] }[]): void {
    if (records.length === 0) return;
    if (records.length === 1) {
      this.append(records[0]!.db, records[0]!.argv);
      return;
    }
    this.append(records[0]!.db, ['MULTI']);
    for (const r of records) this.append(r.db, r.argv);
    this.append(this.selectedDb, ['EXEC']);
  }

  private ensure(n: number): void {
    if (this.stagingLen + n <= this.staging.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.staging.length * 2, this.stagingLen + n));
    this.staging.copy(next, 0, 0, this.stagingLen);
    this.staging = next;
  }

  /** Count n bytes of a record nobody follows. */
  private skip(n: number): void {
    this.offset += n;
    this.flushedOffset = this.offset;
  }

  private encode(argv: readonly string[]): void {
    // A SET's value still in the query buffer must have been materialized (engine.end): never log its placeholder.
    for (let i = 2; i < argv.length; i++) if (argv[i] === DEFERRED_ARG) throw escapedPlaceholder('the command log');
    if (hasBigArgs(argv)) {
      this.encodeParts(argv.map((_, i) => argAt(argv, i)));
      return;
    }
    if (!this.recording) {
      let n = 3 + uintDigits(argv.length);
      for (let i = 0; i < argv.length; i++) n += bulkSize(argv[i]!.length);
      this.skip(n);
      return;
    }
    let size = 16;
    for (let i = 0; i < argv.length; i++) size += argv[i]!.length + 16;
    this.ensure(size);
    const buf = this.staging;
    let p = this.stagingLen;
    buf[p++] = 42; // '*'
    p = putUint(buf, p, argv.length);
    buf[p++] = 13;
    buf[p++] = 10;
    for (let i = 0; i < argv.length; i++) p = putBulk(buf, p, argv[i]!);
    this.offset += p - this.stagingLen;
    this.stagingLen = p;
  }

  /** A record some of whose arguments are bytes (too long for JS strings). */
  private encodeParts(parts: readonly (string | Buffer)[]): void {
    let n = 3 + uintDigits(parts.length);
    for (const a of parts) n += bulkSize(a.length);
    if (!this.recording) {
      this.skip(n);
      return;
    }
    this.ensure(n);
    const buf = this.staging;
    let p = this.stagingLen;
    buf[p++] = 42; // '*'
    p = putUint(buf, p, parts.length);
    buf[p++] = 13;
    buf[p++] = 10;
    for (const a of parts) p = typeof a === 'string' ? putBulk(buf, p, a) : putBulkBytes(buf, p, a, 0, a.length);
    this.offset += p - this.stagingLen;
    this.stagingLen = p;
  }

  /** Hand staged records to the followers. */
  flush(): void {
    if (this.stagingLen === 0) return;
    const chunk = this.staging.subarray(0, this.stagingLen);
    const start = this.flushedOffset;
    this.flushedOffset = this.offset;
    for (const f of this.followers) f.onLogData(chunk, start);
    this.stagingLen = 0;
    if (this.staging.length > 4 * STAGING_SIZE) this.staging = Buffer.allocUnsafe(STAGING_SIZE);
  }
}
