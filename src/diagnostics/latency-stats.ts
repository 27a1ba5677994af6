/**
 * Per-command latency histograms (Redis 7's latency-tracking): what INFO
 * latencystats reports as percentiles and LATENCY HISTOGRAM as a
 * cumulative distribution. Redis' bounds: 1 ns to 1 s, 2 significant
 * digits, values in nanoseconds.
 */

import { createRequire } from 'node:module';
import type Int32HistogramClass from 'hdr-histogram-js/dist/Int32Histogram.js';
import type RecordedValuesIteratorClass from 'hdr-histogram-js/dist/RecordedValuesIterator.js';

// The two modules used, required as the CommonJS modules they are (the
// class is each one's `default`, which reads the same under Node and under
// the test runner's ESM interop). Not the package's index: it also loads
// the WebAssembly histogram (a base64 module decoded at load) and the log
// writer, whose module-level Intl.NumberFormat maps ICU's data. Without
// them an empty server's RSS went from 85 to 76 MB and its start-up (to
// the first PONG) from 790 to 735 ms, for code Vireo never ran.
const requireCjs = createRequire(import.meta.url);
const Int32Histogram = (requireCjs('hdr-histogram-js/dist/Int32Histogram.js') as { default: typeof Int32HistogramClass.default }).default;
const RecordedValuesIterator = (requireCjs('hdr-histogram-js/dist/RecordedValuesIterator.js') as { default: typeof RecordedValuesIteratorClass.default }).default;

const MIN_NS = 1;
const MAX_NS = 1_000_000_000;
/** LATENCY HISTOGRAM's first bucket (1024 ns) and its factor (Redis' hdr_iter_log_init(.., 1024, 2)). */
const FIRST_BUCKET_NS = 1024;
/** Durations under 10 µs are counted in 100 ns steps before they reach the histogram. */
const FAST_STEPS = 100;

export class CommandLatency {
  private readonly histogram = new Int32Histogram(MIN_NS, MAX_NS, 2);
  /**
   * Counts of durations under 10 µs by 100 ns step, moved into the
   * histogram when it is read: a record in hdr-histogram-js costs more
   * than a fast command's clock reading, an array increment does not.
   */
  private readonly fast = new Uint32Array(FAST_STEPS);
  private fastCount = 0;

  record(durationUs: number): void {
    // Redis reads whole microseconds; Node's clock sees sub-microsecond
    // commands: 100 ns steps below 10 µs (about the histogram's own
    // precision there), whole microseconds above.
    const step = Math.floor(durationUs * 10);
    if (step < FAST_STEPS) {
      this.fast[step]!++;
      this.fastCount++;
      return;
    }
    const ns = Math.floor(durationUs) * 1000;
    this.histogram.recordValue(ns > MAX_NS ? MAX_NS : ns);
  }

  private flush(): void {
    if (this.fastCount === 0) return;
    const fast = this.fast;
    for (let i = 0; i < FAST_STEPS; i++) {
      const n = fast[i]!;
      if (n === 0) continue;
      this.histogram.recordValueWithCount(i === 0 ? MIN_NS : i * 100, n);
      fast[i] = 0;
    }
    this.fastCount = 0;
  }

  get calls(): number {
    this.flush();
    return this.histogram.totalCount;
  }

  /** The value at `percentile` in microseconds (INFO latencystats). */
  percentileUs(percentile: number): number {
    this.flush();
    return this.histogram.getValueAtPercentile(percentile) / 1000;
  }

  /**
   * LATENCY HISTOGRAM's buckets: [upper bound in µs, calls at or below it],
   * for power-of-two bounds from 1024 ns, only where the count grows.
   */
  cumulativeBuckets(): [number, number][] {
    this.flush();
    const h = this.histogram;
    const out: [number, number][] = [];
    let bound = FIRST_BUCKET_NS;
    let boundTop = h.highestEquivalentValue(bound);
    let cumulative = 0;
    let reported = 0;
    const values = new RecordedValuesIterator(h);
    while (values.hasNext()) {
      const step = values.next();
      while (step.valueIteratedTo > boundTop) {
        if (cumulative > reported) out.push([Math.floor(boundTop / 1000), (reported = cumulative)]);
        bound *= 2;
        boundTop = h.highestEquivalentValue(bound);
      }
      cumulative += step.countAtValueIteratedTo;
    }
    if (cumulative > reported) out.push([Math.floor(boundTop / 1000), cumulative]);
    return out;
  }

  reset(): void {
    this.fast.fill(0);
    this.fastCount = 0;
    this.histogram.reset();
  }
}
