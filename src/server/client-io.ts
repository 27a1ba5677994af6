/**
 * How a Client's output leaves the process when it does not use the
 * socket's stream API: straight on the libuv handle (DirectIo) or through
 * an I/O thread (io-threads/pool.ts ThreadIo).
 */
export interface ClientIo {
  /** Bytes handed over that have not reached the kernel yet (omem, pacing). */
  readonly pendingBytes: number;
  /** Writes waiting (CLIENT LIST oll). */
  readonly pendingWrites: number;
  /** Write chunks in order; false when the connection is gone. */
  write(chunks: Buffer[]): boolean;
  /** Close once what was written so far has gone out. */
  end(): void;
  /** Close now, dropping what waits. */
  destroy(): void;
  /** Call `cb` once fewer than `bytes` wait (now, if that is already so). */
  onLowWater(bytes: number, cb: () => void): void;
}

/**
 * A wait for a connection's pending output to fall below a mark: a
 * streamed reply, a replica's feed go on then. One callback at a time.
 */
export class LowWaterWait {
  private mark = 0;
  private callback: (() => void) | null = null;

  /** Call `cb` once `pending` falls below `bytes` (now, if it already is). */
  arm(pending: number, bytes: number, cb: () => void): void {
    if (pending < bytes) {
      cb();
      return;
    }
    this.mark = bytes;
    this.callback = cb;
  }

  /** The pending bytes are `pending` now: run the waiting callback if that is below its mark. */
  check(pending: number): void {
    const cb = this.callback;
    if (cb !== null && pending < this.mark) {
      this.callback = null;
      cb();
    }
  }
}
