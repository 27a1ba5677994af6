/**
 * Receiving the RDB a primary sends after +FULLRESYNC, in either framing:
 * `$<length>\r\n<bytes>` (the primary saved it to disk first) or
 * `$EOF:<40-byte mark>\r\n<bytes><mark>` (diskless: the length is not known
 * in advance). The bytes go to a temp file in the data directory
 * (repl-diskless-load disabled: memory stays bounded while they arrive) or
 * are kept in memory (on-empty-db, swapdb).
 *
 * Nothing is loaded from here: a transfer that ends early (the primary
 * died, a truncated payload) is simply discarded, the dataset untouched.
 */

import fs from 'node:fs';
import path from 'node:path';
import { constants } from 'node:buffer';
import { writeAll } from '../persistence/rdb-store.js';
import { Crc64 } from '../persistence/rdb/crc64.js';
import { REPL_ID_LENGTH } from './ids.js';

/** Where the payload goes while it arrives. */
export type TransferTarget = { kind: 'disk'; dir: string } | { kind: 'memory' };

/** The payload's framing, from its `$` line. */
export type PayloadHeader = { kind: 'length'; length: number } | { kind: 'mark'; mark: Buffer };

/** The `$` line that starts the payload, or an Error saying what is wrong with it. */
export function parsePayloadHeader(line: string): PayloadHeader | Error {
  if (line.startsWith('$EOF:')) {
    const mark = line.slice(5);
    if (mark.length < REPL_ID_LENGTH) return new Error(`EOF mark too short in '${line.slice(0, 64)}'`);
    return { kind: 'mark', mark: Buffer.from(mark.slice(0, REPL_ID_LENGTH), 'latin1') };
  }
  if (!/^\$[0-9]{1,16}$/.test(line)) return new Error(`bad payload length line '${line.slice(0, 64)}'`);
  const length = Number(line.slice(1));
  // One Buffer must be able to hold it when it is loaded.
  if (length > constants.MAX_LENGTH) return new Error(`payload of ${length} bytes is more than this process can load`);
  return { kind: 'length', length };
}

/** Our temp file names for a transfer (persistence/temp-files.ts removes stale ones at start-up). */
export function transferTempName(): string {
  return `temp-sync-${process.pid}-${Date.now()}.rdb`;
}

export class RdbTransfer {
  /** Payload bytes received so far (the EOF mark not counted). */
  received = 0;
  /** The whole payload has arrived. */
  done = false;
  /** Temp file path (disk target). */
  readonly file: string | null;
  private fd = -1;
  private readonly chunks: Buffer[] = [];
  /** Last bytes of a marked payload, held back: they may be the start of the mark. */
  private tail: Buffer = Buffer.alloc(0);
  /** The payload's checksum, computed as its bytes arrive (a check of 100 MB at the end held the event loop for hundreds of ms). */
  private readonly checksum = new RdbChecksum();

  constructor(
    readonly header: PayloadHeader,
    target: TransferTarget,
  ) {
    if (target.kind === 'disk') {
      this.file = path.join(target.dir, transferTempName());
      this.fd = fs.openSync(this.file, 'w', 0o644);
    } else {
      this.file = null;
    }
  }

  /** Bytes expected in all (-1: unknown until the mark arrives), as INFO's master_sync_total_bytes. */
  get total(): number {
    return this.header.kind === 'length' ? this.header.length : 0;
  }

  /**
   * Take bytes from the socket. Returns what follows the payload (the
   * start of the replication stream) once it is complete, else null.
   */
  push(chunk: Buffer): Buffer | null {
    if (this.done) return chunk;
    const h = this.header;
    if (h.kind === 'length') {
      const take = Math.min(h.length - this.received, chunk.length);
      this.store(chunk.subarray(0, take));
      if (this.received < h.length) return null;
      this.done = true;
      return chunk.subarray(take);
    }
    const data = this.tail.length === 0 ? chunk : Buffer.concat([this.tail, chunk]);
    const at = data.indexOf(h.mark);
    if (at >= 0) {
      this.store(data.subarray(0, at));
      this.done = true;
      return data.subarray(at + h.mark.length);
    }
    const keep = Math.min(h.mark.length - 1, data.length);
    this.store(data.subarray(0, data.length - keep));
    this.tail = Buffer.from(data.subarray(data.length - keep));
    return null;
  }

  private store(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (this.fd >= 0) writeAll(this.fd, bytes);
    else this.chunks.push(bytes);
    this.received += bytes.length;
    this.checksum.push(bytes);
  }

  /** rdbChecksumOk of the complete payload, from what was computed while it arrived. */
  checksumOk(): boolean {
    return this.checksum.ok();
  }

  /** The complete payload (read back from the temp file when it went to disk; its fdatasync and read in the thread pool). */
  async payload(): Promise<Buffer> {
    if (!this.done) throw new Error('the RDB transfer is not complete');
    if (this.fd < 0) return this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const fd = this.fd;
    this.fd = -1;
    try {
      await new Promise<void>((resolve, reject) => fs.fdatasync(fd, (e) => (e === null ? resolve() : reject(e))));
    } finally {
      fs.closeSync(fd);
    }
    return fs.promises.readFile(this.file!);
  }

  /** Keep the temp file as `dest` (the replica's dump.rdb, as Redis does after a disk-based sync). */
  keepAs(dest: string): void {
    if (this.file === null) return;
    fs.renameSync(this.file, dest);
  }

  /** Drop what was received (and the temp file). */
  discard(): void {
    if (this.fd >= 0) fs.closeSync(this.fd);
    this.fd = -1;
    if (this.file !== null) fs.rmSync(this.file, { force: true });
    this.chunks.length = 0;
  }
}

/**
 * Whether an RDB image's CRC-64 trailer matches its bytes (an image that
 * carries none, or from before RDB 5, passes), fed as they come: all but
 * the last 8 bytes seen so far go into the CRC, those 8 are the trailer
 * once the image is whole. Checked before a full sync empties the dataset,
 * so a damaged transfer leaves the old data in place.
 */
export class RdbChecksum {
  private readonly crc = new Crc64();
  private trailer: Buffer = Buffer.alloc(0);
  /** The image's first bytes ("REDIS" and the version). */
  private head: Buffer = Buffer.alloc(0);
  private length = 0;

  push(bytes: Buffer): this {
    this.length += bytes.length;
    if (this.head.length < 9) this.head = Buffer.concat([this.head, bytes.subarray(0, 9 - this.head.length)]);
    if (bytes.length >= 8) {
      this.crc.update(this.trailer);
      this.crc.update(bytes, 0, bytes.length - 8);
      this.trailer = Buffer.from(bytes.subarray(bytes.length - 8));
      return this;
    }
    const held = Buffer.concat([this.trailer, bytes]);
    if (held.length > 8) this.crc.update(held, 0, held.length - 8);
    this.trailer = held.length > 8 ? held.subarray(held.length - 8) : held;
    return this;
  }

  ok(): boolean {
    if (this.length < 9 + 8 || this.head.latin1Slice(0, 5) !== 'REDIS') return false;
    const version = Number(this.head.latin1Slice(5, 9));
    if (!(version >= 5)) return true;
    if (this.trailer.every((b) => b === 0)) return true;
    return this.crc.digestLE().equals(this.trailer);
  }
}

/** RdbChecksum of a whole image. */
export function rdbChecksumOk(rdb: Buffer): boolean {
  return new RdbChecksum().push(rdb).ok();
}
