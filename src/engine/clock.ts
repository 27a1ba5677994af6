/**
 * The engine's time source. Reading a clock costs tens of nanoseconds in
 * Node, more than some commands, so one monotonic reading per command is
 * shared: the end of one command marks the start of the next, and
 * wall-clock time (for TTLs) is derived from that mark with an offset that
 * is re-anchored to Date.now() on every cron tick.
 */

const hrtime = process.hrtime;
const START_SECONDS = hrtime()[0];

/**
 * Monotonic milliseconds (fractional) since this module loaded. Not
 * performance.now(): on Node 20 that is a receiver check and a regular C++
 * call, ~100 ns a reading inside the server against ~50 for process.hrtime()
 * (a fast API call), measured per pipelined GET in bench/inproc.mjs (Redis'
 * defaults time every command: latency-tracking, the slow log).
 */
function monotonicMs(): number {
  const t = hrtime();
  return (t[0]! - START_SECONDS) * 1e3 + t[1]! / 1e6;
}

export class Clock {
  /** The latest monotonicMs() reading. */
  mark = monotonicMs();
  private offset = Date.now() - this.mark;

  /** Take a new reading; returns it. */
  tick(): number {
    this.mark = monotonicMs();
    return this.mark;
  }

  /** Wall-clock milliseconds at the last reading. */
  wallMs(): number {
    return Math.floor(this.offset + this.mark);
  }

  /** Re-anchor to the system clock (it may have been adjusted). */
  resync(): void {
    this.mark = monotonicMs();
    this.offset = Date.now() - this.mark;
  }
}
