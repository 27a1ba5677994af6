/**
 * The engine's time source. Reading a clock costs tens of nanoseconds in
 * Node, more than some commands, so one monotonic reading per command is
 * shared: the end of one command marks the start of the next, and
 * wall-clock time (for TTLs) is derived from that mark with an offset that
 * is re-anchored to Date.now() on every cron tick.
 */

export class Clock {
  /** The latest performance.now() reading. */
  mark = performance.now();
  private offset = Date.now() - this.mark;

  /** Take a new reading; returns it. */
  tick(): number {
    this.mark = performance.now();
    return this.mark;
  }

  /** Wall-clock milliseconds at the last reading. */
  wallMs(): number {
    return Math.floor(this.offset + this.mark);
  }

  /** Re-anchor to the system clock (it may have been adjusted). */
  resync(): void {
    this.mark = performance.now();
    this.offset = Date.now() - this.mark;
  }
}
