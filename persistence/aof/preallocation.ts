/**
 * The AOF's preallocated tail (`aof-preallocate`, under `appendfsync always`).
 *
 * An fdatasync after an append must also commit the file's new size (an
 * ext4 journal commit, a second device write and flush); overwriting bytes
 * the file already has needs the data write only: 95 against 140 us per
 * write + fdatasync on this machine's disk. So the open incr file is
 * extended ahead of the writes with padding, and the group commits write
 * into it. The padding is made of comment lines (`#` ... CRLF), which
 * Redis' loader and redis-check-aof skip as annotations (like `#TS:`), so
 * the files stay loadable by redis-server 7 at every moment, a crash
 * included; a clean close (shutdown, rewrite) cuts the padding off.
 *
 * An overwrite is not atomic the way an append is: after a power loss
 * during a group's fdatasync, some sectors of the group may hold their new
 * bytes and others still the padding, where an append is cut at the file's
 * last committed size. So each group written into the padding is framed:
 *
 *   #CRC:<length>:<crc32 hex>\r\n <length bytes of records> #
 *
 * and the loader replays a group only when its checksum matches. A
 * mismatch (or an unparsable stretch) after the last good group, with no
 * good group after it, is the torn write of a group that was never
 * acknowledged: it is cut off as a torn record is (aof-load-truncated).
 * The single `#` after the records turns the rest of the padding line it
 * lands in into a comment line; the next group overwrites it.
 */

import zlib from 'node:zlib';

/** One padding line: 64 bytes, a comment to any AOF reader. */
const PAD_LINE = `#${' '.repeat(61)}\r\n`;

/** How far ahead of the last record the padding reaches after an extension. */
export const PAD_AHEAD = 4 * 1024 * 1024;

let padBlock: Buffer | null = null;

/** 256 KB of padding lines (made once), written as many times as an extension needs. */
export function paddingBlock(): Buffer {
  padBlock ??= Buffer.from(PAD_LINE.repeat((256 * 1024) / PAD_LINE.length), 'latin1');
  return padBlock;
}

const HEADER_PREFIX = '#CRC:';

/**
 * The frame of a group of records written at `at` of a file whose bytes end
 * at `fileEnd`: the header, the records, and the terminator that keeps the
 * padding after them a comment line. `size`: the bytes up to the end of the
 * records (the terminator is overwritten by the next group).
 */
export function frameGroup(records: Buffer, at: number, fileEnd: number): { bytes: Buffer; size: number } {
  const header = `${HEADER_PREFIX}${records.length}:${crc32(records).toString(16).padStart(8, '0')}\r\n`;
  const size = header.length + records.length;
  // `#` heads the rest of the padding line it lands in; at the end of the file a whole comment line.
  const terminator = at + size + 3 >= fileEnd ? '#\r\n' : '#';
  const bytes = Buffer.allocUnsafe(size + terminator.length);
  bytes.latin1Write(header, 0);
  records.copy(bytes, header.length);
  bytes.latin1Write(terminator, size);
  return { bytes, size };
}

/** Whether a whole padding line lies at or after `from`: the tail there was preallocated by Vireo. */
export function paddedAfter(buf: Buffer, from: number): boolean {
  return buf.indexOf(PAD_LINE, from, 'latin1') >= 0;
}

/** A group header line at `pos`: where its records start, how long they are, and whether they are whole. */
export interface GroupHeader {
  /** Offset of the first record byte. */
  body: number;
  length: number;
  /** `short`: the file ends inside the group (a truncated file); `damaged`: the header or the checksum does not match. */
  state: 'intact' | 'short' | 'damaged';
}

/** Parse a `#CRC:` line at `pos` (null when the line is another annotation). */
export function readGroupHeader(buf: Buffer, pos: number): GroupHeader | null {
  if (buf.latin1Slice(pos, pos + HEADER_PREFIX.length) !== HEADER_PREFIX) return null;
  const nl = buf.indexOf(10, pos);
  if (nl < 0) return { body: buf.length, length: 0, state: 'short' };
  const m = /^([0-9]{1,15}):([0-9a-f]{8})\r?$/.exec(buf.latin1Slice(pos + HEADER_PREFIX.length, nl));
  const body = nl + 1;
  if (m === null) return { body, length: 0, state: 'damaged' };
  const length = Number(m[1]);
  if (body + length > buf.length) return { body, length, state: 'short' };
  return { body, length, state: crc32(buf.subarray(body, body + length)) === parseInt(m[2]!, 16) ? 'intact' : 'damaged' };
}

/** Whether an intact group header appears anywhere at or after `from` (damage before it is not a torn tail). */
export function intactGroupAfter(buf: Buffer, from: number): boolean {
  for (let at = buf.indexOf(HEADER_PREFIX, from, 'latin1'); at >= 0; at = buf.indexOf(HEADER_PREFIX, at + 1, 'latin1')) {
    if (readGroupHeader(buf, at)?.state === 'intact') return true;
  }
  return false;
}

const nativeCrc32 = (zlib as unknown as { crc32?: (data: Uint8Array) => number }).crc32;
let crcTable: Uint32Array | null = null;

/** CRC-32 (zlib's polynomial): Node's own where it has one (20.15+), else a table. */
export function crc32(data: Uint8Array): number {
  if (nativeCrc32 !== undefined) return nativeCrc32(data);
  if (crcTable === null) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < data.length; i++) crc = crcTable[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
