/**
 * The replication backlog: the last repl-backlog-size bytes of the command
 * log, kept in memory so a replica that lost its link can continue
 * (`+CONTINUE`) instead of loading a whole new RDB. It is one more
 * follower of the log (src/log/command-log.ts): the bytes it holds are
 * log bytes [firstOffset, endOffset), the offsets Redis reports as
 * repl_backlog_first_byte_offset (firstOffset + 1) and master_repl_offset.
 */

import type { LogFollower } from '../src/log/command-log.js';

export class Backlog implements LogFollower {
  private buf: Buffer;
  /** Where the next byte goes in buf. */
  private head = 0;
  /** Bytes held (<= buf.length). */
  histlen = 0;
  /** Log offset just past the last byte held. */
  endOffset: number;

  constructor(size: number, offset: number) {
    this.buf = Buffer.allocUnsafe(clampSize(size));
    this.endOffset = offset;
  }

  get size(): number {
    return this.buf.length;
  }

  /** Log offset of the first byte held. */
  get firstOffset(): number {
    return this.endOffset - this.histlen;
  }

  onLogData(chunk: Buffer, start: number): void {
    // A gap (the log was reset under us: a new dataset) starts the history again.
    if (start !== this.endOffset) this.restart(start);
    this.append(chunk);
  }

  /** Forget the history and continue at `offset` (a new dataset was loaded). */
  restart(offset: number): void {
    this.head = 0;
    this.histlen = 0;
    this.endOffset = offset;
  }

  private append(chunk: Buffer): void {
    const size = this.buf.length;
    let data = chunk;
    if (data.length >= size) data = data.subarray(data.length - size);
    const first = Math.min(data.length, size - this.head);
    data.copy(this.buf, this.head, 0, first);
    if (first < data.length) data.copy(this.buf, 0, first);
    this.head = (this.head + data.length) % size;
    this.histlen = Math.min(size, this.histlen + data.length);
    this.endOffset += chunk.length;
  }

  /** Whether log bytes from `offset` to the end are all held. */
  covers(offset: number): boolean {
    return offset >= this.firstOffset && offset <= this.endOffset;
  }

  /** Copies of the bytes [offset, endOffset), in order (covers(offset) must hold). */
  readFrom(offset: number): Buffer[] {
    const n = this.endOffset - offset;
    if (n <= 0) return [];
    const size = this.buf.length;
    const startPos = (this.head - n + size) % size;
    if (startPos + n <= size) return [Buffer.from(this.buf.subarray(startPos, startPos + n))];
    return [Buffer.from(this.buf.subarray(startPos)), Buffer.from(this.buf.subarray(0, n - (size - startPos)))];
  }

  /** CONFIG SET repl-backlog-size: keep what still fits. */
  resize(size: number): void {
    const next = clampSize(size);
    if (next === this.buf.length) return;
    const keep = Math.min(this.histlen, next);
    const held = Buffer.concat(this.readFrom(this.endOffset - keep));
    this.buf = Buffer.allocUnsafe(next);
    held.copy(this.buf, 0);
    this.head = keep % next;
    this.histlen = keep;
  }
}

/** Redis' CONFIG_REPL_BACKLOG_MIN_SIZE is 16 KiB; the top bound keeps one Buffer allocatable. */
function clampSize(size: number): number {
  return Math.min(Math.max(size, 16 * 1024), 2 ** 31);
}
