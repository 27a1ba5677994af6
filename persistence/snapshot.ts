/**
 * Snapshots without fork (DESIGN.md §6). Node cannot fork, so a snapshot
 * is taken copy-on-write by the engine, the way Dragonfly does it:
 *
 *  - at start (one event-loop turn) it records the log offset and hooks
 *    every database's beforeChange;
 *  - it then serializes the keyspace slot by slot in slices between turns;
 *  - before a write touches a key whose slot has not been serialized yet,
 *    the hook serializes that key's current (old) value first, or notes
 *    that the key did not exist, so the slot pass skips it later.
 *
 * The result is exactly the dataset as of the start, while clients keep
 * being served. A synchronous snapshot (SAVE, shutdown) runs all slices at
 * once.
 */

import type { Engine } from '../src/engine/engine.js';
import type { Db } from '../src/engine/keyspace.js';
import { SLOTS } from '../src/engine/slot.js';
import type { Value } from '../src/types/value.js';
import { threadCpuMicros } from '../src/util/thread-clock.js';

/** What a snapshot writes to (an RDB writer, or the AOF rewriter). */
export interface SnapshotTarget {
  /** Called once per database with keys, before its first key. */
  beginDb(db: number, keys: number, expires: number): void;
  /** `idleSeconds` / `freq`: what the eviction policy saves of the key's access clock, -1 for nothing. */
  entry(db: number, key: string, value: Value, expireMs: number, idleSeconds: number, freq: number): void;
  /**
   * entry() of a string key held in the string store, from its record's
   * bytes: the key at buf[keyStart, keyStart + keyLen), the value after it.
   * Optional: without it such keys come to entry() as strings.
   */
  bytesEntry?(db: number, buf: Buffer, keyStart: number, keyLen: number, valueStart: number, valueLen: number, expireMs: number, idleSeconds: number, freq: number): void;
  /** Give buffered output to its destination (between slices). */
  drain(): void;
}

/**
 * A background slice's time budget (ms): clients wait behind a slice as
 * behind a command. A slice also ends after `sliceKeys` keys (1000: about
 * 1 ms of 100-byte keys), so the budget bounds slow keys (big collections
 * are saved whole) and slow moments; at 2 ms a slice stays well under
 * 5 ms of the event loop's time even with a scavenge inside it.
 */
const SLICE_MS = 2;

export interface SnapshotOptions {
  /** Keys per slice before yielding to the event loop. */
  sliceKeys?: number;
  /** Time budget per slice in ms. */
  sliceMs?: number;
  /**
   * Asked before each background slice: true means "wait", and the snapshot
   * goes on when `resume` is called (a replica's socket is full).
   */
  pace?: (resume: () => void) => boolean;
}

/**
 * Snapshots running in the background, per engine. Db.beforeChange is one
 * slot, so it calls every running snapshot: a BGSAVE and an AOF rewrite (or
 * a replica's full sync) may overlap, and each must see every change.
 */
const running = new WeakMap<Engine, Set<Snapshot>>();

function hook(engine: Engine, s: Snapshot): void {
  let set = running.get(engine);
  if (set === undefined) {
    set = new Set();
    running.set(engine, set);
  }
  set.add(s);
  if (set.size > 1) return;
  const all = set;
  for (const db of engine.dbs) {
    db.beforeChange = (d, slot, key) => {
      for (const snap of all) snap.beforeChange(d, slot, key);
    };
    db.beforeBulkChange = (d) => {
      for (const snap of all) snap.beforeBulkChange(d);
    };
  }
}

function unhook(engine: Engine, s: Snapshot): void {
  const set = running.get(engine);
  if (set === undefined || !set.delete(s) || set.size > 0) return;
  for (const db of engine.dbs) {
    db.beforeChange = null;
    db.beforeBulkChange = null;
  }
}

export class Snapshot {
  /** Log offset the snapshot corresponds to. */
  readonly offset: number;
  readonly startedAt = Date.now();
  keysWritten = 0;
  private dbIndex = 0;
  /** Per db: slots below this are serialized. */
  private readonly nextSlot: number[];
  /** Per db: keys already handled out of order (saved early, or created later). */
  private readonly handled: Set<string>[];
  private readonly begun: boolean[];
  private finished = false;
  private aborted = false;
  /** A failure of the target (a write error) seen while saving a key for a client's write. */
  private error: Error | null = null;
  private timer: NodeJS.Immediate | null = null;
  private readonly sliceKeys: number;
  private readonly sliceMs: number;
  /**
   * The longest slice so far: its wall time (what a client waiting behind
   * it saw) and the event loop's CPU time in it (its own work: the wall
   * time less the time the thread waited for its core). -1: no CPU clock.
   */
  readonly longestSlice = { ms: 0, cpuMs: threadCpuMicros === null ? -1 : 0 };
  private readonly pace: ((resume: () => void) => boolean) | null;

  constructor(
    private readonly engine: Engine,
    private readonly target: SnapshotTarget,
    opts: SnapshotOptions = {},
  ) {
    this.offset = engine.log.offset;
    const n = engine.dbs.length;
    this.nextSlot = new Array(n).fill(0);
    this.handled = Array.from({ length: n }, () => new Set<string>());
    this.begun = new Array(n).fill(false);
    this.sliceKeys = opts.sliceKeys ?? 1000;
    this.sliceMs = opts.sliceMs ?? SLICE_MS;
    this.pace = opts.pace ?? null;
  }

  get done(): boolean {
    return this.finished;
  }

  /** Serialize everything now (SAVE, shutdown, DEBUG RELOAD). */
  runSync(): void {
    while (!this.finished) this.step(Infinity, Infinity);
  }

  /** Start serializing in the background; `onDone` runs after the last slice. */
  runAsync(onDone: (err: Error | null) => void): void {
    hook(this.engine, this);
    const tick = () => {
      this.timer = null;
      if (this.aborted) return;
      if (this.error === null) {
        const started = performance.now();
        const cpuStarted = threadCpuMicros === null ? 0 : threadCpuMicros();
        try {
          this.step(this.sliceKeys, this.sliceMs);
        } catch (e) {
          this.error = e as Error;
        }
        const ms = performance.now() - started;
        if (ms > this.longestSlice.ms) this.longestSlice.ms = ms;
        if (threadCpuMicros !== null) {
          const cpuMs = (threadCpuMicros() - cpuStarted) / 1000;
          if (cpuMs > this.longestSlice.cpuMs) this.longestSlice.cpuMs = cpuMs;
        }
        // A slice holds the event loop like a command: the latency monitor sees it.
        this.engine.latencySink?.('snapshot-slice', ms);
      }
      if (this.error !== null) {
        this.unhook();
        onDone(this.error);
      } else if (this.finished) {
        this.unhook();
        onDone(null);
      } else if (this.pace === null || !this.pace(() => this.resumeAfterPause(tick))) {
        this.later(tick);
      }
    };
    this.later(tick);
  }

  /** Queue the next slice: in a later turn, behind that turn's replies (a client waits at most one slice). */
  private later(tick: () => void): void {
    this.timer = setImmediate(() => this.engine.afterReplies(tick));
  }

  private resumeAfterPause(tick: () => void): void {
    if (this.aborted || this.finished || this.timer !== null) return;
    this.later(tick);
  }

  abort(): void {
    this.aborted = true;
    if (this.timer !== null) clearImmediate(this.timer);
    this.unhook();
  }

  private unhook(): void {
    unhook(this.engine, this);
  }

  private beginDb(db: Db): void {
    if (this.begun[db.id]) return;
    this.begun[db.id] = true;
    this.target.beginDb(db.id, db.size, db.volatileCount);
  }

  private write(db: Db, key: string, value: Value, expireMs: number): void {
    this.beginDb(db);
    const policy = db.policy;
    let idle = -1;
    let freq = -1;
    if (policy.lru || policy.lfu) {
      const word = db.accessWord(key, value);
      idle = policy.savedIdle(word);
      freq = policy.savedFreq(word);
    }
    this.target.entry(db.id, key, value, expireMs, idle, freq);
    this.keysWritten++;
  }

  /** Copy-on-write: save the key as it is before it changes. */
  beforeChange(db: Db, slot: number, key: string): void {
    if (slot < this.nextSlot[db.id]! || this.error !== null) return;
    const handled = this.handled[db.id]!;
    if (handled.has(key)) return;
    handled.add(key);
    const v = db.get(key);
    // Values are serialized right away, so no copy of them is needed.
    if (v !== undefined) this.guard(() => this.write(db, key, v, db.getExpire(key)));
  }

  /** The whole database is about to be replaced: finish it first. */
  beforeBulkChange(db: Db): void {
    if (this.error !== null) return;
    this.guard(() => {
      while (this.nextSlot[db.id]! < SLOTS) this.serializeSlot(db, this.nextSlot[db.id]!);
    });
  }

  /**
   * Run target work on behalf of a client's write: a failure (say, the
   * disk is full) fails this snapshot at its next slice, never the write.
   */
  private guard(work: () => void): void {
    try {
      work();
    } catch (e) {
      this.error = e as Error;
      this.unhook();
    }
  }

  private serializeSlot(db: Db, slot: number): number {
    const handled = this.handled[db.id]!;
    let n = 0;
    // The string store's keys go from their records' bytes (no key or value
    // string made), then the slot's other keys; without bytesEntry, all as entries.
    let entries: Iterable<[string, Value]> | undefined;
    if (this.target.bytesEntry !== undefined) {
      n = this.serializeRecords(db, slot, handled);
      entries = db.slotTable(slot);
    } else {
      entries = db.slotEntries(slot);
    }
    if (entries !== undefined) {
      for (const [key, value] of entries) {
        if (handled.size > 0 && handled.has(key)) continue;
        this.write(db, key, value, db.getExpire(key));
        n++;
      }
    }
    this.nextSlot[db.id] = slot + 1;
    return n;
  }

  /**
   * Write the string-store keys of `slot` through target.bytesEntry
   * (numbers through entry()). It walks the slot's index in place: writing
   * changes no key, and collecting the refs into an array first made that
   * array's backing store again for every slot (16 MB of garbage per 1M keys).
   */
  private serializeRecords(db: Db, slot: number, handled: Set<string>): number {
    const store = db.records;
    const capacity = store.capacityOf(slot);
    if (capacity === 0) return 0;
    const policy = db.policy;
    const saveClock = policy.lru || policy.lfu;
    const target = this.target;
    let n = 0;
    for (let pos = 0; pos < capacity; pos++) {
      const ref = store.refAt(slot, pos);
      if (ref === 0) continue;
      if (n === 0) this.beginDb(db);
      if (handled.size > 0 && handled.has(store.key(ref))) continue;
      n++;
      const valueLen = store.stringSpan(ref);
      if (valueLen < 0) {
        this.write(db, store.key(ref), store.value(ref), store.expireOf(ref));
        continue;
      }
      const word = saveClock ? store.word(ref) : 0;
      const keyLen = store.keyLength(ref);
      const valueStart = store.spanStart;
      target.bytesEntry!(db.id, store.spanBuf, valueStart - keyLen, keyLen, valueStart, valueLen, store.expireOf(ref), saveClock ? policy.savedIdle(word) : -1, saveClock ? policy.savedFreq(word) : -1);
      this.keysWritten++;
    }
    return n;
  }

  /** Serialize whole slots until the key or time budget is used. */
  private step(maxKeys: number, maxMs: number): void {
    const deadline = performance.now() + maxMs;
    let keys = 0;
    const dbs = this.engine.dbs;
    while (this.dbIndex < dbs.length) {
      const db = dbs[this.dbIndex]!;
      // An empty database has nothing left to save (a key deleted since the
      // start was saved before it went): no walk over its 16384 slots,
      // which the last slice, in code still cold, took 8 ms for 15 of them.
      let slot = db.size === 0 ? SLOTS : this.nextSlot[db.id]!;
      while (slot < SLOTS) {
        if (db.slotSizes[slot] === 0) {
          slot++;
          continue;
        }
        keys += this.serializeSlot(db, slot);
        slot = this.nextSlot[db.id]!;
        if (keys >= maxKeys || performance.now() > deadline) {
          this.nextSlot[db.id] = slot;
          this.target.drain();
          return;
        }
      }
      this.nextSlot[db.id] = SLOTS;
      this.handled[db.id]!.clear();
      this.dbIndex++;
    }
    this.finished = true;
    this.target.drain();
  }
}

