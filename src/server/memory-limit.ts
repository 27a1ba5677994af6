/**
 * maxmemory (Redis' performEvictions). Before each command the server asks
 * whether memory is within the limit; when it is not, keys chosen by the
 * policy (src/engine/evict.ts) are deleted until the estimate of what they
 * held covers the excess, within a time limit set by
 * maxmemory-eviction-tenacity (past it, a timer goes on between commands).
 * When nothing can be evicted, commands that may grow memory get -OOM.
 *
 * The measure is V8's heap in use plus off-heap buffers, less the free
 * space in the string stores' slabs (reused by the next keys). Unlike malloc's
 * count in Redis, a V8 heap keeps dead objects until a collection finds
 * them, so three adjustments keep the measure near the live data:
 *   - keys evicted since the last full collection are subtracted (their
 *     estimated bytes): evicting does not shrink the heap at once, and
 *     without this one excess would evict key after key;
 *   - the young generation is left out (it is mostly per-request
 *     garbage), except where a yes cannot be taken back: under noeviction
 *     its survivors count near the limit (withLiveYoung);
 *   - over the limit with much growth the evictions do not explain (values
 *     overwritten or deleted by commands), a full collection runs first,
 *     so live keys are not evicted for garbage.
 */

import { PerformanceObserver, constants as perfConstants, type PerformanceEntry } from 'node:perf_hooks';
import type { Engine } from '../engine/engine.js';
import type { EvictionPolicy } from '../engine/evict.js';
import type { LatencyMonitor } from '../diagnostics/latency-monitor.js';
import { fullGc, heapAndExternalBytes, minorGc, youngBytes } from '../util/gc.js';

export const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

/** performEvictions' answer. */
export const enum Eviction {
  /** Within the limit (or evicting is not allowed now). */
  Ok,
  /** Over the limit, keys are being evicted between commands. */
  Running,
  /** Over the limit and nothing can be evicted. */
  Fail,
}

export interface MemoryLimitHost {
  readonly engine: Engine;
  readonly latencyMonitor: LatencyMonitor;
  /** Bytes Redis leaves out of the measure: replicas' output buffers, the AOF buffer. */
  notCountedBytes(): number;
  /** Evicting must wait: loading, a replica ignoring maxmemory, CLIENT PAUSE, a script past its busy threshold. */
  evictionPaused(): boolean;
  /** Bytes received from clients so far (INFO's total_net_input_bytes). */
  readonly stats: { readonly netInputBytes: number };
}

/** The young generation's size is read again after this long (ms). */
const YOUNG_READ_INTERVAL_MS = 1;
/** Young-generation growth after which a refusal near the limit scavenges again instead of counting it all. */
const YOUNG_SCAVENGE_STEP = 1 << 20;
/** A measure well under the limit holds this long (ms of the engine's clock)... */
const MEASURE_HOLD_MS = 1;
/** ...unless twice the bytes received since, plus this, could have closed the gap. */
const MEASURE_HOLD_MARGIN = 64 * 1024;

export class MemoryLimit {
  /** maxmemory in bytes; 0: no limit. */
  maxmemory = 0;
  tenacity = 10;
  /** Bytes of keys evicted since the last full collection (still in the heap as garbage). */
  private evictedGarbage = 0;
  /** used() right after the last full collection. */
  private afterFullGc = 0;
  /** Keys in all databases at that time. */
  private keysAfterFullGc = 0;
  private gcObserver: PerformanceObserver | null = null;
  /** When memory last went over the limit without coming back (performance.now() ms), or 0. */
  private exceededSince = 0;
  private exceededTotalMs = 0;
  private timer: NodeJS.Immediate | null = null;
  /** The running command started over the limit with nothing to evict (Redis' pre_command_oom_state). */
  oomAtCommandStart = false;
  /** Full collections run because of the limit (INFO). */
  forcedCollections = 0;

  constructor(private readonly host: MemoryLimitHost) {}

  configure(maxmemory: number, policy: EvictionPolicy, samples: number, tenacity: number): void {
    const evictor = this.host.engine.evictor;
    if (policy !== evictor.policy) evictor.clearPool();
    evictor.policy = policy;
    evictor.samples = samples;
    this.tenacity = tenacity;
    this.maxmemory = maxmemory;
    if (maxmemory > 0 && this.gcObserver === null) {
      this.afterFullGc = this.used();
      this.gcObserver = new PerformanceObserver((list) => this.collected(list.getEntries()));
      this.gcObserver.observe({ entryTypes: ['gc'] });
    } else if (maxmemory === 0 && this.gcObserver !== null) {
      this.gcObserver.disconnect();
      this.gcObserver = null;
      this.evictedGarbage = 0;
    }
  }

  /** A full collection ran (V8's own or ours): evicted keys are no longer in the heap. */
  private collected(entries: PerformanceEntry[]): void {
    for (const e of entries) {
      const kind = (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) {
        this.evictedGarbage = 0;
        this.afterFullGc = this.used();
        this.keysAfterFullGc = this.host.engine.totalKeys;
      }
    }
  }

  /**
   * used_memory as eviction counts it (and INFO reports it): the heap less
   * the young generation, plus off-heap buffers, less keys evicted since the
   * last full collection. The young generation is the scratch space of
   * requests (a scavenge empties it every few MB of allocation); what
   * survives there is promoted within two scavenges and counted then.
   */
  used(): number {
    return this.usedWith(youngBytes());
  }

  private usedWith(young: number): number {
    return Math.max(0, heapAndExternalBytes() - young - this.evictedGarbage - this.storeFreeBytes());
  }

  /** Slab bytes of the string stores holding no key: allocated, but free for the next keys (as malloc's free memory in Redis). */
  private storeFreeBytes(): number {
    // The server measures memory once while it is being built, before its engine exists.
    const engine = this.host.engine as Engine | undefined;
    if (engine === undefined) return 0;
    let n = 0;
    for (const db of engine.dbs) n += db.storeFreeBytes();
    return n;
  }

  // Reading the young generation's size costs ~0.4 us: per command it is read at most once a millisecond.
  private youngCached = 0;
  private youngReadAt = -Infinity;

  /** Bytes the limit counts: used() less replica and AOF buffers. */
  private counted(): number {
    const now = performance.now();
    if (now - this.youngReadAt >= YOUNG_READ_INTERVAL_MS) {
      this.youngCached = youngBytes();
      this.youngReadAt = now;
    }
    return this.usedWith(this.youngCached) - this.host.notCountedBytes();
  }

  /** Redis' evictionTimeLimitUs, in ms (Infinity: no limit). */
  private timeLimitMs(): number {
    const t = this.tenacity;
    if (t <= 10) return (50 * t) / 1000;
    if (t < 100) return (500 * Math.pow(1.15, t - 10)) / 1000;
    return Infinity;
  }

  // The last measure taken before a command: when, its value, and the input received by then.
  private measuredAt = -Infinity;
  private measured = 0;
  private inputAtMeasure = 0;

  /**
   * Reading V8's heap statistics costs ~0.3 us, as much as a small command:
   * far enough under the limit, a measure holds for a millisecond, unless
   * the bytes received since (what writes can add, twice over) could reach it.
   */
  private recentlyUnder(): boolean {
    const mark = this.host.engine.clock.mark;
    if (mark - this.measuredAt > MEASURE_HOLD_MS) return false;
    const received = this.host.stats.netInputBytes - this.inputAtMeasure;
    return this.measured + 2 * received + MEASURE_HOLD_MARGIN < this.maxmemory;
  }

  /** Evict until within the limit (or the time limit passes). Called before each command. */
  perform(): Eviction {
    if (this.maxmemory === 0 || this.recentlyUnder() || this.host.evictionPaused()) return Eviction.Ok;
    let counted = this.counted();
    if (counted <= this.maxmemory && this.host.engine.evictor.policy === 'noeviction') counted = this.withLiveYoung(counted);
    this.measuredAt = this.host.engine.clock.mark;
    this.measured = counted;
    this.inputAtMeasure = this.host.stats.netInputBytes;
    if (counted > this.maxmemory) counted = this.reclaim(counted, false);
    if (counted <= this.maxmemory) return this.finished(Eviction.Ok);
    const started = performance.now();
    const engine = this.host.engine;
    // Evictions are the server's own writes: their time is now, not the last command's.
    engine.now = engine.access.nowMs = engine.clock.wallMs();
    const toFree = counted - this.maxmemory;
    const limitMs = this.timeLimitMs();
    let freed = 0;
    let keys = 0;
    let result = Eviction.Ok;
    const monitor = this.host.latencyMonitor;
    while (freed < toFree) {
      const delStart = monitor.thresholdMs > 0 ? performance.now() : 0;
      const bytes = engine.evictor.evictOne();
      if (bytes < 0) {
        // Nothing left to evict: garbage may still be what holds the memory.
        if (this.reclaim(counted - freed, true) <= this.maxmemory) break;
        result = this.timer !== null ? Eviction.Running : Eviction.Fail;
        break;
      }
      if (delStart > 0) monitor.addIfNeeded('eviction-del', performance.now() - delStart);
      this.evictedGarbage += engine.evictor.lastHeapBytes;
      freed += bytes;
      keys++;
      if (keys % 16 === 0 && performance.now() - started > limitMs) {
        this.startTimer();
        result = Eviction.Running;
        break;
      }
    }
    monitor.addIfNeeded('eviction-cycle', performance.now() - started);
    if (result === Eviction.Ok && this.timer !== null) result = Eviction.Running;
    return this.finished(result);
  }

  // New space right after the last scavenge this class forced (its survivors), or -1.
  private youngAfterScavenge = -1;

  /**
   * The measure leaves out the young generation, where the keys written in
   * the last few MB of traffic still are: evicting policies catch up once
   * they are promoted, but a refusal (noeviction) cannot be taken back. So
   * before saying yes near the limit, the young generation counts: whole
   * while it is small, and after a scavenge (about a millisecond, forced at
   * most once per MB allocated since) only its survivors.
   */
  private withLiveYoung(counted: number): number {
    const young = youngBytes();
    if (counted + young <= this.maxmemory) return counted;
    if (this.youngAfterScavenge < 0 || young - this.youngAfterScavenge > YOUNG_SCAVENGE_STEP) {
      minorGc();
      this.youngReadAt = -Infinity;
      const survivors = youngBytes();
      this.youngAfterScavenge = survivors;
      return this.counted() + survivors;
    }
    return counted + young;
  }

  /**
   * Over the limit: collect garbage before evicting live keys for it, when
   * the heap grew since the last full collection by more than the evicted
   * keys explain (values overwritten or deleted by commands), or when the
   * keyspace shrank by a tenth since and memory is still over (garbage the
   * estimates do not see is being paid for with live keys). `failing`:
   * nothing is left to evict, so any growth counts. Returns the counted
   * bytes afterwards.
   */
  private reclaim(counted: number, failing: boolean): number {
    const growth = counted - this.afterFullGc;
    const growthSlack = failing ? 1 << 20 : Math.max(1 << 20, this.maxmemory / 4);
    const shrunk = this.host.engine.totalKeys * 10 < this.keysAfterFullGc * 9;
    if (growth <= growthSlack && !shrunk && !(failing && this.evictedGarbage > 0)) return counted;
    const started = performance.now();
    fullGc();
    this.forcedCollections++;
    this.evictedGarbage = 0;
    this.youngReadAt = -Infinity;
    counted = this.counted();
    this.afterFullGc = counted;
    this.keysAfterFullGc = this.host.engine.totalKeys;
    this.host.latencyMonitor.addIfNeeded('eviction-gc', performance.now() - started);
    return counted;
  }

  /** Keep the over-the-limit time (total_eviction_exceeded_time) and pass the result on. */
  private finished(result: Eviction): Eviction {
    if (result === Eviction.Ok) {
      if (this.exceededSince !== 0) {
        this.exceededTotalMs += performance.now() - this.exceededSince;
        this.exceededSince = 0;
      }
    } else if (this.exceededSince === 0) {
      this.exceededSince = performance.now();
    }
    return result;
  }

  /** Redis' evictionTimeProc: go on evicting between commands until within the limit. */
  private startTimer(): void {
    if (this.timer !== null) return;
    const tick = (): void => {
      this.timer = null;
      if (this.perform() === Eviction.Running && this.timer === null) this.startTimer();
    };
    this.timer = setImmediate(tick);
  }

  /** current_eviction_exceeded_time in ms. */
  get currentExceededMs(): number {
    return this.exceededSince === 0 ? 0 : Math.floor(performance.now() - this.exceededSince);
  }

  /** total_eviction_exceeded_time in ms. */
  get totalExceededMs(): number {
    return Math.floor(this.exceededTotalMs) + this.currentExceededMs;
  }

  resetStats(): void {
    this.exceededTotalMs = 0;
    if (this.exceededSince !== 0) this.exceededSince = performance.now();
  }

  close(): void {
    if (this.timer !== null) clearImmediate(this.timer);
    this.timer = null;
    this.gcObserver?.disconnect();
    this.gcObserver = null;
  }
}
