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

/** What a snapshot writes to (an RDB writer, or the AOF rewriter). */
export interface SnapshotTarget {
  /** Called once per database with keys, before its first key. */
  beginDb(db: number, keys: number, expires: number): void;
  entry(db: number, key: string, value: Value, expireMs: number): void;
  /** Give buffered output to its destination (between slices). */
  drain(): void;
}

export interface SnapshotOptions {
  /** Keys per slice before yielding to the event loop. */
  sliceKeys?: number;
  /** Time budget per slice in ms. */
  sliceMs?: number;
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
  private timer: NodeJS.Immediate | null = null;
  private readonly sliceKeys: number;
  private readonly sliceMs: number;

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
    this.sliceKeys = opts.sliceKeys ?? 2000;
    this.sliceMs = opts.sliceMs ?? 5;
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
    for (const db of this.engine.dbs) {
      db.beforeChange = (d, slot, key) => this.beforeChange(d, slot, key);
      db.beforeBulkChange = (d) => this.beforeBulkChange(d);
    }
    const tick = () => {
      this.timer = null;
      if (this.aborted) return;
      try {
        this.step(this.sliceKeys, this.sliceMs);
      } catch (e) {
        this.unhook();
        onDone(e as Error);
        return;
      }
      if (this.finished) {
        this.unhook();
        onDone(null);
      } else {
        this.timer = setImmediate(tick);
      }
    };
    this.timer = setImmediate(tick);
  }

  abort(): void {
    this.aborted = true;
    if (this.timer !== null) clearImmediate(this.timer);
    this.unhook();
  }

  private unhook(): void {
    for (const db of this.engine.dbs) {
      db.beforeChange = null;
      db.beforeBulkChange = null;
    }
  }

  private beginDb(db: Db): void {
    if (this.begun[db.id]) return;
    this.begun[db.id] = true;
    this.target.beginDb(db.id, db.size, db.volatileCount);
  }

  private write(db: Db, key: string, value: Value, expireMs: number): void {
    this.beginDb(db);
    this.target.entry(db.id, key, value, expireMs);
    this.keysWritten++;
  }

  /** Copy-on-write: save the key as it is before it changes. */
  private beforeChange(db: Db, slot: number, key: string): void {
    if (slot < this.nextSlot[db.id]!) return;
    const handled = this.handled[db.id]!;
    if (handled.has(key)) return;
    handled.add(key);
    const v = db.get(key);
    // Values are serialized right away, so no copy of them is needed.
    if (v !== undefined) this.write(db, key, v, db.getExpire(key));
  }

  /** The whole database is about to be replaced: finish it first. */
  private beforeBulkChange(db: Db): void {
    while (this.nextSlot[db.id]! < SLOTS) this.serializeSlot(db, this.nextSlot[db.id]!);
  }

  private serializeSlot(db: Db, slot: number): number {
    const entries = db.slotEntries(slot);
    let n = 0;
    if (entries !== undefined) {
      const handled = this.handled[db.id]!;
      for (const [key, value] of entries) {
        if (handled.size > 0 && handled.has(key)) continue;
        this.write(db, key, value, db.getExpire(key));
        n++;
      }
    }
    this.nextSlot[db.id] = slot + 1;
    return n;
  }

  /** Serialize whole slots until the key or time budget is used. */
  private step(maxKeys: number, maxMs: number): void {
    const deadline = performance.now() + maxMs;
    let keys = 0;
    const dbs = this.engine.dbs;
    while (this.dbIndex < dbs.length) {
      const db = dbs[this.dbIndex]!;
      let slot = this.nextSlot[db.id]!;
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

