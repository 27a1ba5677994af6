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
