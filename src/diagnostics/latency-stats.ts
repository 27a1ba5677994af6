/**
 * Per-command latency histograms (Redis 7's latency-tracking): what INFO
 * latencystats reports as percentiles and LATENCY HISTOGRAM as a
 * cumulative distribution. Redis' bounds: 1 ns to 1 s, 2 significant
 * digits, values in nanoseconds.
 */

import { Int32Histogram } from 'hdr-histogram-js';
import { createRequire } from 'node:module';
import type RecordedValuesIteratorClass from 'hdr-histogram-js/dist/RecordedValuesIterator.js';

// Its iterator over recorded values is not re-exported by the package's
// index; required as the CommonJS module it is (the class is its `default`),
// which reads the same under Node and under the test runner's ESM interop.
const RecordedValuesIterator = (createRequire(import.meta.url)('hdr-histogram-js/dist/RecordedValuesIterator.js') as { default: typeof RecordedValuesIteratorClass.default })
  .default;

const MIN_NS = 1;
const MAX_NS = 1_000_000_000;
/** LATENCY HISTOGRAM's first bucket (1024 ns) and its factor (Redis' hdr_iter_log_init(.., 1024, 2)). */
const FIRST_BUCKET_NS = 1024;

export class CommandLatency {
  private readonly histogram = new Int32Histogram(MIN_NS, MAX_NS, 2);
  /**
   * Fast commands take the same whole number of microseconds again and
   * again: repeats are counted here and recorded in one call (a record
   * costs more than the command's clock reading).
   */
  private repeatedNs = -1;
  private repeats = 0;

  record(durationUs: number): void {
    // Redis reads whole microseconds; Node's clock sees sub-microsecond
    // commands: keep 100 ns steps below 10 µs (about the histogram's own
    // precision there), whole microseconds above.
    const raw = durationUs * 1000;
    let ns = raw < 10_000 ? Math.floor(raw / 100) * 100 : Math.floor(durationUs) * 1000;
    if (ns < MIN_NS) ns = MIN_NS;
    else if (ns > MAX_NS) ns = MAX_NS;
    if (ns === this.repeatedNs) {
      this.repeats++;
      return;
    }
    this.flush();
    this.repeatedNs = ns;
    this.repeats = 1;
  }

  private flush(): void {
    if (this.repeats > 0) {
      this.histogram.recordValueWithCount(this.repeatedNs, this.repeats);
      this.repeats = 0;
    }
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
    this.repeats = 0;
    this.repeatedNs = -1;
    this.histogram.reset();
  }
}
