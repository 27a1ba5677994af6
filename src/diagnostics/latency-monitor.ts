/**
 * The latency monitor (Redis' latency.c): for each event that took at least
 * `latency-monitor-threshold` milliseconds, the last 160 seconds that had a
 * sample (the worst sample of each second) and the all-time maximum.
 * LATENCY LATEST, HISTORY and RESET read it.
 */

/** Samples kept per event (Redis' LATENCY_TS_LEN). */
const SERIES_LEN = 160;

export interface LatencySample {
  /** Unix time in seconds. */
  time: number;
  ms: number;
}

export class LatencySeries {
  /** A ring: `next` is where the next second's sample goes. */
  readonly samples: LatencySample[] = [];
  next = 0;
  max = 0;

  add(time: number, ms: number): void {
    if (ms > this.max) this.max = ms;
    const prev = this.samples[(this.next + SERIES_LEN - 1) % SERIES_LEN];
    if (prev !== undefined && prev.time === time) {
      if (ms > prev.ms) prev.ms = ms;
      return;
    }
    this.samples[this.next] = { time, ms };
    this.next = (this.next + 1) % SERIES_LEN;
  }

  /** The newest sample. */
  get latest(): LatencySample {
    return this.samples[(this.next + SERIES_LEN - 1) % SERIES_LEN]!;
  }

  /** Oldest first. */
  history(): LatencySample[] {
    const out: LatencySample[] = [];
    for (let j = 0; j < SERIES_LEN; j++) {
      const s = this.samples[(this.next + j) % SERIES_LEN];
      if (s !== undefined) out.push(s);
    }
    return out;
  }
}

export class LatencyMonitor {
  /** latency-monitor-threshold in ms; 0: off. */
  thresholdMs = 0;
  readonly events = new Map<string, LatencySeries>();

  /** Record `ms` for `event` if it reaches the threshold (Redis' latencyAddSampleIfNeeded). */
  addIfNeeded(event: string, ms: number): void {
    if (this.thresholdMs > 0 && ms >= this.thresholdMs) this.add(event, ms);
  }

  add(event: string, ms: number): void {
    let series = this.events.get(event);
    if (series === undefined) this.events.set(event, (series = new LatencySeries()));
    series.add(Math.floor(Date.now() / 1000), Math.floor(ms));
  }

  /** Forget the named events (all of them without names); returns how many were forgotten. */
  reset(names: readonly string[]): number {
    if (names.length === 0) {
      const n = this.events.size;
      this.events.clear();
      return n;
    }
    let n = 0;
    for (const name of names) if (this.events.delete(name)) n++;
    return n;
  }
}
