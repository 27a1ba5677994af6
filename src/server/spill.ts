/**
 * Where a connection's output is copied while earlier output still waits
 * for its socket (a client that does not read, or reads slower than its
 * messages arrive). Holding each waiting reply as it came costs more than
 * its bytes: a Buffer object per reply (a Pub/Sub frame is often shared
 * with every subscriber, so it stays alive for the slowest), or, on an I/O
 * thread, a view that keeps a whole shared slab alive with every other
 * connection's replies in it. Copies go into buffers of the connection's
 * own, growing from MIN_BYTES to MAX_BYTES so that the many clients a
 * little behind hold little; each run of copies becomes one chunk.
 */

const MIN_BYTES = 4 * 1024;
const MAX_BYTES = 256 * 1024;

export class Spill {
  private buf: Buffer | null = null;
  private nextSize = MIN_BYTES;
  /** The run copied since the last close: buf[from, to). */
  private from = 0;
  private to = 0;

  /** Copy `chunk` in; when a new buffer is needed, the open run is closed into `out` first. */
  copy(chunk: Uint8Array, out: Buffer[]): void {
    let buf = this.buf;
    if (buf === null || this.to + chunk.length > buf.length) {
      this.close(out);
      buf = this.buf = Buffer.allocUnsafeSlow(Math.max(this.nextSize, chunk.length));
      this.nextSize = Math.min(MAX_BYTES, this.nextSize * 2);
      this.from = this.to = 0;
    }
    buf.set(chunk, this.to);
    this.to += chunk.length;
  }

  /** The bytes copied since the last close join `out` as one chunk (a view; later copies go after it). */
  close(out: Buffer[]): void {
    if (this.to === this.from) return;
    out.push(this.buf!.subarray(this.from, this.to));
    this.from = this.to;
  }

  /** Copies not yet closed into a chunk. */
  get open(): boolean {
    return this.to > this.from;
  }
}
