/**
 * The V8 heap's own ceiling. Whatever maxmemory says, a V8 heap that
 * reaches its limit (node --max-old-space-size; the start command sets it
 * from the machine's memory, scripts/node-flags.mjs) ends the process with
 * a fatal allocation failure: every client loses its server and everything
 * not yet on disk. So past a fraction of that limit, commands that may grow
 * memory get -OOM, as they would over maxmemory under noeviction, and reads,
 * deletes and FLUSHALL still run to bring memory down.
 *
 * Reading the heap's size costs ~0.3 us, so it is read when the bytes
 * received since the last reading (what writes can add) pass a step, or a
 * few ms of the engine's clock went by. Near the limit garbage is collected
 * before deciding, so it is not mistaken for data: the young generation's
 * first (a scavenge, ~1 ms, at most every 100 ms), then the whole heap (at
 * most once a second). Once refusing, writes are accepted again only a
 * quarter of the margin below the threshold, so one DEL, or garbage freed
 * by V8's own collections, does not flip the answer back and forth.
 */

import v8 from 'node:v8';
import { fullGc, heapUsedBytes, minorGc } from '../util/gc.js';

export const HEAP_OOM_ERROR = "OOM command not allowed when used memory is near the server's heap limit (node --max-old-space-size).";

/** Deny-oom commands are refused this far below the old generation's limit: a tenth of it, within bounds. */
const MARGIN_SHARE = 0.1;
const MARGIN_MIN = 16 << 20;
const MARGIN_MAX = 1 << 30;
/** Node 20's default --max-semi-space-size (MB) on 64-bit. */
const DEFAULT_SEMI_SPACE_MB = 16;
/** The heap is read again once this many bytes were received since... */
const INPUT_STEP = 1 << 20;
/** ...or this many ms passed. */
const TIME_STEP_MS = 10;
/** Full collections forced by the guard are this far apart at least (ms). */
const GC_INTERVAL_MS = 1000;
/** Scavenges forced by the guard are this far apart at least (ms). */
const MINOR_GC_INTERVAL_MS = 100;
/** Once refusing, the heap must fall this share of the margin below the threshold. */
const RELEASE_SHARE = 0.25;

export interface HeapGuardHost {
  readonly engine: { readonly clock: { readonly mark: number } };
  readonly stats: { readonly netInputBytes: number };
}

/**
 * The most the old generation may hold: V8's heap_size_limit counts the
 * young generation's reserve too (three semi-spaces), which data never fills.
 */
export function oldGenerationLimit(heapSizeLimit = v8.getHeapStatistics().heap_size_limit, execArgv = process.execArgv): number {
  let semiMb = DEFAULT_SEMI_SPACE_MB;
  for (const a of [...execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)]) {
    const m = /^--max-semi-space-size=(\d+)$/.exec(a);
    if (m !== null) semiMb = Number(m[1]);
  }
  return heapSizeLimit - 3 * semiMb * 2 ** 20;
}

export class HeapGuard {
  /** Commands that may grow memory are refused. */
  near = false;
  /** The old generation's limit in bytes. */
  readonly limit: number;
  private readonly refuseAt: number;
  private readonly releaseAt: number;
  private checkedAt = -Infinity;
  private inputAtCheck = -Infinity;
  private collectedAt = -Infinity;
  private scavengedAt = -Infinity;

  constructor(
    private readonly host: HeapGuardHost,
    limit = oldGenerationLimit(),
  ) {
    this.limit = limit;
    const margin = Math.min(MARGIN_MAX, Math.max(MARGIN_MIN, limit * MARGIN_SHARE));
    this.refuseAt = limit - margin;
    this.releaseAt = this.refuseAt - margin * RELEASE_SHARE;
  }

  /** Before a command: is the heap near its limit? Cheap unless a reading is due. */
  check(): boolean {
    const mark = this.host.engine.clock.mark;
    const input = this.host.stats.netInputBytes;
    if (mark - this.checkedAt < TIME_STEP_MS && input - this.inputAtCheck < INPUT_STEP) return this.near;
    this.checkedAt = mark;
    this.inputAtCheck = input;
    this.near = this.measure(mark);
    return this.near;
  }

  private measure(mark: number): boolean {
    const threshold = this.near ? this.releaseAt : this.refuseAt;
    if (heapUsedBytes() < threshold) return false;
    if (mark - this.scavengedAt >= MINOR_GC_INTERVAL_MS) {
      this.scavengedAt = mark;
      minorGc();
      if (heapUsedBytes() < threshold) return false;
    }
    if (mark - this.collectedAt >= GC_INTERVAL_MS) {
      this.collectedAt = mark;
      fullGc();
      return heapUsedBytes() >= threshold;
    }
    return true;
  }
}
