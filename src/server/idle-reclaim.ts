/**
 * Giving memory back once the server is quiet, from the cron (as Redis'
 * active defrag runs from serverCron). V8 collects garbage only when
 * allocation asks for room: a server that goes quiet after a bulk load
 * keeps the load's garbage, the old-generation pages it grew into, and a
 * young generation grown to its maximum (2 x --max-semi-space-size, all of
 * it resident), for as long as it stays quiet; after a FLUSHALL the young
 * generation alone is most of the RSS above an empty server's.
 *
 * Two steps, each at most once per quiet spell (traffic starts a new one):
 *   1. quiet for QUIET_MS, and the old generation plus off-heap buffers
 *      hold a good share more than after the last collection, or the RSS
 *      (less the Node runtime's own) is over 1.3x used_memory: a full
 *      collection (V8 returns its pages as it sweeps them, and those an
 *      earlier collection emptied, which it keeps pooled until the next);
 *   2. quiet for YOUNG_QUIET_MS since the last collection: a scavenge if
 *      the young generation is larger than an idle server needs (V8 shrinks
 *      it at a collection that finds allocation below 1 KB/ms over its last
 *      5 s, which only a quiet spell gives), and if step 1 freed much, a
 *      second full collection at the next tick (V8 keeps the pages the
 *      first one emptied pooled until the next: tens of MB after a large
 *      load).
 *      Then malloc_trim, on a worker thread (it walks all of malloc's free
 *      blocks, ~0.1 s at 5M keys): the buffers those collections freed went
 *      back to malloc, which keeps their pages (FLUSHALL trims too, in the
 *      command).
 *   3. once the steps above are done, and again every FILE_PAGES_EVERY_MS
 *      of the quiet spell: the node binary's file pages out of the RSS, on
 *      a worker thread (src/util/gc.ts dropFilePages, which runs only when
 *      4 MB came back since its last run): the code the traffic ran (and
 *      the collections above) maps back 64 KB at a time, 10-20 MB of it,
 *      and on a quiet server each monitoring poll (an INFO maps back
 *      ~5 MB); what the next traffic needs maps back on its first run.
 * The pauses (a scavenge ~10 ms; a full collection 25-50 ms at 1M-5M keys,
 * up to ~100 ms on a loaded machine) fall where no command is waiting;
 * latency event `idle-gc`.
 */

import v8 from 'node:v8';
import { dropFilePagesInBackground, majorGc, minorGc, trimMallocInBackground } from '../util/gc.js';

/** Quiet for this long (ms) before the full collection. */
export const QUIET_MS = 5000;
/** ...and this long since the last collection before the scavenge: V8 judges allocation over its last 5 s. */
export const YOUNG_QUIET_MS = 6000;
/**
 * Traffic is counted over windows of WINDOW_MS: one with more commands per
 * second than this, or more input, ends a quiet spell, as does a cron tick
 * coming late (a long command held the event loop).
 */
const WINDOW_MS = 1000;
const BUSY_COMMANDS_PER_S = 10;
const BUSY_INPUT_PER_S = 64 * 1024;
/** Old generation + buffers over their size after the last collection by this share (and MIN bytes): collect. */
const SLACK_SHARE = 0.25;
const SLACK_MIN = 8 << 20;
/** RSS less the runtime's over used_memory past this: collect even if the heap did not grow. */
const OVERHEAD_HIGH = 1.3;
/** A young generation committed past this is shrunk when quiet (an idle server's is 1-2 MB). */
const YOUNG_IDLE_BYTES = 4 << 20;
/** Step 3 again this often (ms) in a quiet spell. */
export const FILE_PAGES_EVERY_MS = 10_000;
/** Step 1 freeing this much of the heap is followed by a second full collection in step 2. */
const FREED_POOLED_BYTES = 16 << 20;

/** What the reclaim runs (the tests count the calls). */
export interface IdleCollector {
  major(): void;
  minor(): void;
  /** malloc_trim, in the background. */
  trim(): void;
  /** The binary's file pages out of the RSS, in the background. */
  dropFilePages(): void;
}

export interface IdleReclaimHost {
  readonly stats: { readonly commandsProcessed: number; readonly netInputBytes: number };
  /** The server must not pause now (loading a dataset, shutting down). */
  reclaimPaused(): boolean;
  /** A pause taken (ms), for the latency monitor. */
  paused(ms: number): void;
  /** The RSS, less the Node runtime's own, over used_memory (INFO's mem_fragmentation_ratio). */
  overheadRatio(): number;
  /** Pack the string stores' indexes into fewer slabs (Engine.compactIndexes); the bytes left to the collection. */
  compactIndexes(): number;
}

/** Heap figures the decision reads (bytes). */
export interface HeapFigures {
  /** Committed pages outside the young generation, plus off-heap buffers. */
  held: number;
  /** Committed young generation. */
  young: number;
  /** The heap's objects, live and garbage. */
  used: number;
}

export function heapFigures(): HeapFigures {
  const h = v8.getHeapStatistics();
  let young = 0;
  for (const s of v8.getHeapSpaceStatistics()) {
    if (s.space_name === 'new_space' || s.space_name === 'new_large_object_space') young += s.space_size;
  }
  return { held: h.total_heap_size - young + h.external_memory, young, used: h.used_heap_size };
}

export class IdleReclaim {
  /** Full collections run (INFO vireo_idle_collections). */
  collections = 0;
  /** Scavenges run to shrink the young generation (INFO vireo_idle_scavenges). */
  scavenges = 0;
  /** Longest pause taken by one tick, ms (INFO vireo_idle_gc_max_ms). */
  maxPauseMs = 0;
  private quietSince: number;
  private lastGcAt = -Infinity;
  private lastTick: number;
  private windowStart: number;
  private commandsAtWindow: number;
  private inputAtWindow: number;
  /** `held` right after the last collection (or the lowest seen since: V8's own collections lower it). */
  private heldAfterGc: number;
  private fullDone = false;
  private youngDone = false;
  /** When step 3 last ran in this quiet spell (-Infinity: not yet). */
  private filePagesAt = -Infinity;
  /** Bytes step 1 freed in this quiet spell. */
  private freed = 0;

  constructor(
    private readonly host: IdleReclaimHost,
    now: number,
    private readonly figures: () => HeapFigures = heapFigures,
    private readonly gc: IdleCollector = { major: majorGc, minor: minorGc, trim: trimMallocInBackground, dropFilePages: dropFilePagesInBackground },
  ) {
    this.quietSince = now;
    this.lastTick = now;
    this.windowStart = now;
    this.commandsAtWindow = host.stats.commandsProcessed;
    this.inputAtWindow = host.stats.netInputBytes;
    this.heldAfterGc = figures().held;
  }

  /** From the cron; `now`: a monotonic ms clock (performance.now()); `periodMs`: the cron's period. */
  tick(now: number, periodMs: number): void {
    if (this.busy(now, periodMs)) {
      this.quietSince = now;
      this.fullDone = this.youngDone = false;
      this.filePagesAt = -Infinity;
      this.freed = 0;
      return;
    }
    if (now - this.quietSince < QUIET_MS || this.host.reclaimPaused()) return;
    const f = this.figures();
    if (f.held < this.heldAfterGc) this.heldAfterGc = f.held;
    if (!this.fullDone) {
      this.fullDone = true;
      const grown = f.held > this.heldAfterGc + Math.max(SLACK_MIN, this.heldAfterGc * SLACK_SHARE);
      if (grown || this.host.overheadRatio() > OVERHEAD_HIGH) {
        this.collect(now);
        const after = this.figures();
        this.heldAfterGc = after.held;
        this.freed = f.used - after.used;
        return;
      }
    }
    if (!this.youngDone) {
      if (now - Math.max(this.quietSince, this.lastGcAt) < YOUNG_QUIET_MS) return;
      this.youngDone = true;
      if (f.young > YOUNG_IDLE_BYTES) {
        this.pause(() => this.gc.minor());
        this.scavenges++;
        // The second full collection, if any, at the next tick: two shorter pauses.
        return;
      }
    }
    if (this.freed > FREED_POOLED_BYTES) {
      this.freed = 0;
      this.collect(now);
      this.gc.trim();
    }
    if (now - this.filePagesAt >= FILE_PAGES_EVERY_MS) {
      this.filePagesAt = now;
      this.gc.dropFilePages();
    }
  }

  /** Did traffic come since the last tick (judged once a window closes), or was the tick late? */
  private busy(now: number, periodMs: number): boolean {
    const late = now - this.lastTick > 1000 + 2 * periodMs;
    this.lastTick = now;
    const span = now - this.windowStart;
    if (!late && span < WINDOW_MS) return false;
    const s = this.host.stats;
    const commands = s.commandsProcessed - this.commandsAtWindow;
    const input = s.netInputBytes - this.inputAtWindow;
    this.windowStart = now;
    this.commandsAtWindow = s.commandsProcessed;
    this.inputAtWindow = s.netInputBytes;
    return late || (commands * 1000) / span > BUSY_COMMANDS_PER_S || (input * 1000) / span > BUSY_INPUT_PER_S;
  }

  /** A full collection, counted and timed; the string stores' indexes compacted first, so their old slabs go with it. */
  private collect(now: number): void {
    this.pause(() => {
      this.host.compactIndexes();
      this.gc.major();
    });
    this.collections++;
    this.lastGcAt = now;
  }

  /** Run `work`, timing its pause. */
  private pause(work: () => void): void {
    const started = performance.now();
    work();
    const ms = performance.now() - started;
    if (ms > this.maxPauseMs) this.maxPauseMs = ms;
    this.host.paused(ms);
  }
}
