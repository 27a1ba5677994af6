/**
 * The log on disk as a second, much longer backlog (Vireo's addition to
 * Redis). The AOF's incr files are the command log byte for byte, each
 * starting at a known log offset, so a replica can be fed from them:
 *
 * - PSYNC for an offset the in-memory backlog no longer holds (a replica
 *   away for an hour, a primary restarted from its AOF) continues from the
 *   files instead of a full sync;
 * - a replica that reads too slowly stops costing memory: instead of
 *   buffering the live stream for it, the primary reads what it needs from
 *   the files as its socket drains.
 *
 * A link fed from disk ignores the live stream; once it has read up to
 * what the AOF has written (and nothing flushed waits to be written) it
 * switches back to the live stream at exactly that offset.
 */

import fs from 'node:fs';
import type { ReplicaLink } from './replica-link.js';

/** What the feed reads of the AOF. */
export interface LogFiles {
  /** Incr files as stretches of the log (AofStore.logSegments). */
  logSegments(): { file: string; start: number; size: number }[];
  /** Log offset up to which the files hold the log. */
  readonly writtenOffset: number;
  /** Log bytes handed to the AOF and not written yet. */
  readonly bufferLength: number;
}

/** Bytes read from the files per slice. */
const SLICE = 256 * 1024;
/** Socket backlog above which the feed waits for the replica to read. */
const HIGH_WATER = 1024 * 1024;

export class DiskFeed {
  constructor(private readonly files: LogFiles) {}

  /** Whether the files hold the log from `offset` up to what they have written, without gaps. */
  covers(offset: number): boolean {
    const segs = this.files.logSegments();
    let at = offset;
    const end = this.files.writtenOffset;
    if (at > end) return false;
    for (const s of segs) {
      if (at >= end) break;
      if (s.start > at) return false;
      if (s.start + s.size > at) at = s.start + s.size;
    }
    return at >= end;
  }

  /** Read log bytes from `offset`, at most `max`; an empty buffer when the files do not hold it. */
  read(offset: number, max: number): Buffer {
    for (const s of this.files.logSegments()) {
      if (offset < s.start || offset >= s.start + s.size) continue;
      const n = Math.min(max, s.start + s.size - offset);
      const buf = Buffer.allocUnsafe(n);
      let fd = -1;
      try {
        fd = fs.openSync(s.file, 'r');
        const got = fs.readSync(fd, buf, 0, n, offset - s.start);
        return buf.subarray(0, got);
      } catch {
        return Buffer.alloc(0);
      } finally {
        if (fd >= 0) fs.closeSync(fd);
      }
    }
    return Buffer.alloc(0);
  }

  /**
   * Feed `link` from the files from its nextOffset on, as its socket takes
   * the bytes, until it is level with the live stream; then `live()`.
   * A gap (files removed by a rewrite meanwhile) closes the link: it
   * reconnects and gets a full sync.
   */
  pump(link: ReplicaLink, live: () => void): void {
    const conn = link.conn;
    while (!conn.closed) {
      if (conn.socketPending > HIGH_WATER) {
        conn.whenWritable(() => this.pump(link, live));
        return;
      }
      const end = this.files.writtenOffset;
      if (link.nextOffset >= end) {
        if (this.files.bufferLength === 0) {
          live();
          return;
        }
        // Bytes the log handed over wait to be written: look again next turn.
        setImmediate(() => this.pump(link, live));
        return;
      }
      const chunk = this.read(link.nextOffset, Math.min(SLICE, end - link.nextOffset));
      if (chunk.length === 0) {
        conn.close();
        return;
      }
      conn.sendRaw([chunk]);
      link.nextOffset += chunk.length;
    }
  }
}
