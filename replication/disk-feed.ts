/**
 * The log on disk as a second, much longer backlog (Vireo's addition to
 * Redis). The AOF's incr files hold the command log, each from a known log
 * offset (byte for byte, or with #TS annotation lines between records when
 * aof-timestamp-enabled or aof-archive is on), and with aof-archive the
 * retired ones are kept too (LZ4 frames), so a replica can be fed from them:
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
import type * as Lz4 from 'lz4-napi';
import { lazyModule } from '../src/util/lazy-module.js';
import type { ReplicaLink } from './replica-link.js';
import { readAofCommand } from '../persistence/resp.js';
import type { LogSegmentFile } from '../persistence/aof/store.js';

const lz4 = lazyModule<typeof Lz4>('lz4-napi');

/** What the feed reads of the AOF. */
export interface LogFiles {
  /** Incr files, live and archived, as stretches of the log (AofStore.logSegments). */
  logSegments(): LogSegmentFile[];
  /** Log offset up to which the files hold the log. */
  readonly writtenOffset: number;
  /** Log bytes handed to the AOF and not written yet. */
  readonly bufferLength: number;
}

/** Bytes read from the files per slice. */
const SLICE = 256 * 1024;
/** Socket backlog above which the feed waits for the replica to read. */
const HIGH_WATER = 1024 * 1024;

/**
 * The log bytes of annotated and archived files, which must be read whole
 * (decompressed, #TS lines dropped), by file: the last two are kept, since
 * a replica catching up reads one file many slices in a row. A live file
 * grows meanwhile: what was read is used while it holds the bytes asked for.
 */
const unpacked = new Map<string, { size: number; bytes: Buffer }>();

/** `upTo`: a log length the bytes must reach, or else the file is read again if it grew. */
function logBytesOf(seg: LogSegmentFile, upTo: number): Buffer {
  const hit = unpacked.get(seg.file);
  if (hit !== undefined && (hit.bytes.length >= upTo || hit.size === seg.size)) return hit.bytes;
  const raw = fs.readFileSync(seg.file);
  const bytes = stripAnnotations(seg.form === 'lz4' ? lz4().decompressFrameSync(raw) : raw);
  unpacked.delete(seg.file);
  unpacked.set(seg.file, { size: seg.size, bytes });
  if (unpacked.size > 2) unpacked.delete(unpacked.keys().next().value!);
  return bytes;
}

/** The records of an AOF file without its annotation lines; a torn last record is left out. */
export function stripAnnotations(file: Buffer): Buffer {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos < file.length) {
    if (file[pos] === 35) {
      const nl = file.indexOf(10, pos);
      if (nl < 0) break;
      pos = nl + 1;
      continue;
    }
    let cmd;
    try {
      cmd = readAofCommand(file, pos);
    } catch {
      break;
    }
    if (cmd === null) break;
    parts.push(file.subarray(pos, cmd.end));
    pos = cmd.end;
  }
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

export class DiskFeed {
  constructor(private readonly files: LogFiles) {}

  /** Log bytes a segment holds (reads annotated and archived ones whole). */
  private lengthOf(seg: LogSegmentFile): number {
    return seg.form === 'plain' ? seg.size : logBytesOf(seg, Infinity).length;
  }

  /** Whether the files hold the log from `offset` up to what they have written, without gaps. */
  covers(offset: number): boolean {
    const end = this.files.writtenOffset;
    if (offset > end) return false;
    const segs = this.files.logSegments();
    // The stretch that holds `offset`, then each next one must start where the last ended.
    let i = segs.length - 1;
    while (i >= 0 && segs[i]!.start > offset) i--;
    if (i < 0) return offset === end && segs.length > 0 && segs[0]!.start === end;
    let at = segs[i]!.start;
    for (; i < segs.length; i++) {
      const s = segs[i]!;
      if (s.start !== at && !(s.start < at)) return false;
      at = Math.max(at, s.start + this.lengthOf(s));
      if (at >= end) return true;
    }
    return at >= end;
  }

  /** Read log bytes from `offset`, at most `max`; an empty buffer when the files do not hold it. */
  read(offset: number, max: number): Buffer {
    const segs = this.files.logSegments();
    for (let i = segs.length - 1; i >= 0; i--) {
      const s = segs[i]!;
      if (s.start > offset) continue;
      if (s.form !== 'plain') {
        const from = offset - s.start;
        const bytes = logBytesOf(s, from + 1);
        return from < bytes.length ? bytes.subarray(from, Math.min(bytes.length, from + max)) : Buffer.alloc(0);
      }
      if (offset >= s.start + s.size) return Buffer.alloc(0);
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
