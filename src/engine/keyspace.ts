/**
 * One database: keys split into per-slot tables (DESIGN.md §4).
 *
 * Splitting by hash slot keeps every JS Map far below V8's 2^24 entry
 * limit, gives SCAN a cursor that survives inserts and deletes (a cursor is
 * the next slot; every slot is visited once), and is the unit of sharding
 * for worker threads and cluster mode. TTLs live in parallel per-slot maps
 * that exist only for slots holding keys with a TTL.
 *
 * This is storage only: expiry policy, propagation and notifications are
 * the engine's job.
 */

import { SLOTS, keySlot } from './slot.js';
import type { Value } from '../types/value.js';
import { AccessPolicy, KeyAccess } from './access.js';

/** A walk through one slot's table (eviction sampling). */
interface Sampler {
  iter: IterableIterator<string> | null;
  slot: number;
}

export class Db {
  /** Table writes so far (sets, deletes, TTL changes): the test-mode effect check reads it. */
  writes = 0;
  private tables: (Map<string, Value> | undefined)[] = new Array(SLOTS);
  private expireTables: (Map<string, number> | undefined)[] = new Array(SLOTS);
  /** Keys per slot, for SCAN, RANDOMKEY and CLUSTER COUNTKEYSINSLOT. */
  readonly slotSizes = new Uint32Array(SLOTS);
  /** Number of keys. */
  size = 0;
  /** Number of keys with a TTL. */
  volatileCount = 0;
  /** Slots that hold keys, densely packed for O(1) random choice. */
  private occupied: number[] = [];
  private occupiedPos = new Int32Array(SLOTS).fill(-1);

  /**
   * Called before any change to a key (set, replace, delete, TTL change, or
   * a lookup for writing, after which the value may be mutated in place).
   * A copy-on-write snapshot uses it to save the old value first.
   */
  beforeChange: ((db: Db, slot: number, key: string) => void) | null = null;
  /** Called before the whole database is replaced (FLUSHDB, SWAPDB). */
  beforeBulkChange: ((db: Db) => void) | null = null;

  // One-entry cache: a command looks a key up and then writes it.
  private lastKey = '';
  private lastSlot = keySlot('');

  // Where eviction sampling goes on (sampleKeys), over all keys and over keys with a TTL.
  private mainSampler: Sampler = { iter: null, slot: 0 };
  private volatileSampler: Sampler = { iter: null, slot: 0 };

  /** Each key's access word (OBJECT IDLETIME / FREQ), see access.ts. */
  private access: KeyAccess;

  constructor(
    public readonly id: number,
    /** Shared by all databases: the eviction policy's view of access. */
    readonly policy: AccessPolicy = new AccessPolicy(),
  ) {
    this.access = new KeyAccess(policy);
  }

  /** Record an access to an existing key holding `v` (Redis' lookupKey without LOOKUP_NOTOUCH). */
  touchAccess(key: string, v: Value): void {
    const policy = this.policy;
    if (policy.isShared(v)) policy.setSharedWord(v, policy.touched(policy.sharedWord(v)));
    else this.access.touched(key);
  }

  /** The access word of `key` holding `v` (-1 if the key has none). */
  accessWord(key: string, v: Value): number {
    return this.policy.isShared(v) ? this.policy.sharedWord(v) : this.access.word(key);
  }

  /** Set the access word of an existing key (RESTORE IDLETIME / FREQ, RDB IDLE / FREQ). */
  setAccessWord(key: string, v: Value, word: number): void {
    if (this.policy.isShared(v)) this.policy.setSharedWord(v, word);
    else this.access.set(key, word);
  }

  /** The slot of `key`. A key other than the last one also has its access word fetched. */
  slotOf(key: string): number {
    if (key === this.lastKey) return this.lastSlot;
    const slot = keySlot(key);
    this.lastKey = key;
    this.lastSlot = slot;
    // Nearly every lookup or write is followed by an access stamp: fetching
    // its table slot now overlaps that cache miss with the keyspace table's.
    this.access.warm(key);
    return slot;
  }

  /** The stored value, ignoring TTLs. */
  get(key: string): Value | undefined {
    const t = this.tables[this.slotOf(key)];
    return t === undefined ? undefined : t.get(key);
  }

  has(key: string): boolean {
    const t = this.tables[this.slotOf(key)];
    return t !== undefined && t.has(key);
  }

  /** Absolute expiry in ms, or -1 when the key has no TTL (or does not exist). */
  getExpire(key: string): number {
    if (this.volatileCount === 0) return -1;
    const t = this.expireTables[this.slotOf(key)];
    if (t === undefined) return -1;
    const when = t.get(key);
    return when === undefined ? -1 : when;
  }

  /** Insert or overwrite a value; the TTL is left as it is. Returns true if the key is new. */
  set(key: string, value: Value): boolean {
    this.writes++;
    const slot = this.slotOf(key);
    if (this.beforeChange !== null) this.beforeChange(this, slot, key);
    let t = this.tables[slot];
    if (t === undefined) {
      t = new Map();
      this.tables[slot] = t;
    }
    const before = t.size;
    t.set(key, value);
    if (t.size === before) {
      this.access.overwritten(key);
      return false;
    }
    this.access.created(key);
    this.size++;
    if (this.slotSizes[slot]++ === 0) this.markOccupied(slot);
    return true;
  }

  /** Replace the value of an existing key without touching anything else. */
  replace(key: string, value: Value): void {
    this.writes++;
    const slot = this.slotOf(key);
    if (this.beforeChange !== null) this.beforeChange(this, slot, key);
    this.tables[slot]!.set(key, value);
  }

  delete(key: string): boolean {
    const slot = this.slotOf(key);
    if (this.beforeChange !== null) this.beforeChange(this, slot, key);
    const t = this.tables[slot];
    if (t === undefined || !t.delete(key)) return false;
    this.writes++;
    this.access.deleted(key);
    this.size--;
    if (--this.slotSizes[slot]! === 0) {
      this.markEmpty(slot);
      this.tables[slot] = undefined;
    }
    if (this.volatileCount > 0) this.removeExpireInSlot(slot, key);
    return true;
  }

  setExpire(key: string, when: number): void {
    this.writes++;
    const slot = this.slotOf(key);
    if (this.beforeChange !== null) this.beforeChange(this, slot, key);
    let t = this.expireTables[slot];
    if (t === undefined) {
      t = new Map();
      this.expireTables[slot] = t;
    }
    const before = t.size;
    t.set(key, when);
    if (t.size !== before) this.volatileCount++;
  }

  /** Remove the TTL. Returns true if there was one. */
  removeExpire(key: string): boolean {
    if (this.volatileCount === 0) return false;
    const slot = this.slotOf(key);
    if (this.beforeChange !== null) this.beforeChange(this, slot, key);
    if (!this.removeExpireInSlot(slot, key)) return false;
    this.writes++;
    return true;
  }

  /** Announce an in-place mutation of `key`'s value (lookups for writing). */
  touchForWrite(key: string): void {
    if (this.beforeChange !== null) this.beforeChange(this, this.slotOf(key), key);
  }

  private removeExpireInSlot(slot: number, key: string): boolean {
    const t = this.expireTables[slot];
    if (t === undefined || !t.delete(key)) return false;
    this.volatileCount--;
    if (t.size === 0) this.expireTables[slot] = undefined;
    return true;
  }

  private markOccupied(slot: number): void {
    this.occupiedPos[slot] = this.occupied.length;
    this.occupied.push(slot);
  }

  private markEmpty(slot: number): void {
    const pos = this.occupiedPos[slot]!;
    const last = this.occupied.pop()!;
    if (last !== slot) {
      this.occupied[pos] = last;
      this.occupiedPos[last] = pos;
    }
    this.occupiedPos[slot] = -1;
  }

  /** Drop everything. */
  clear(): void {
    if (this.size > 0) this.writes++;
    if (this.beforeBulkChange !== null) this.beforeBulkChange(this);
    this.tables = new Array(SLOTS);
    this.expireTables = new Array(SLOTS);
    this.slotSizes.fill(0);
    this.size = 0;
    this.volatileCount = 0;
    this.occupied = [];
    this.occupiedPos.fill(-1);
    this.access.clear();
    this.mainSampler.iter = null;
    this.volatileSampler.iter = null;
    this.lastKey = '';
    this.lastSlot = keySlot('');
  }

  /** Exchange contents with another db (SWAPDB); ids stay. */
  swapWith(other: Db): void {
    this.writes++;
    if (this.beforeBulkChange !== null) this.beforeBulkChange(this);
    if (other.beforeBulkChange !== null) other.beforeBulkChange(other);
    [this.tables, other.tables] = [other.tables, this.tables];
    [this.expireTables, other.expireTables] = [other.expireTables, this.expireTables];
    [this.size, other.size] = [other.size, this.size];
    [this.volatileCount, other.volatileCount] = [other.volatileCount, this.volatileCount];
    [this.occupied, other.occupied] = [other.occupied, this.occupied];
    [this.access, other.access] = [other.access, this.access];
    [this.mainSampler, other.mainSampler] = [other.mainSampler, this.mainSampler];
    [this.volatileSampler, other.volatileSampler] = [other.volatileSampler, this.volatileSampler];
    const sizes = Uint32Array.from(this.slotSizes);
    this.slotSizes.set(other.slotSizes);
    other.slotSizes.set(sizes);
    const pos = Int32Array.from(this.occupiedPos);
    this.occupiedPos.set(other.occupiedPos);
    other.occupiedPos.set(pos);
  }

  /** A random key (TTLs ignored), or undefined when empty. */
  randomKey(random: () => number = Math.random): string | undefined {
    if (this.size === 0) return undefined;
    const slot = this.occupied[Math.floor(random() * this.occupied.length)]!;
    const t = this.tables[slot]!;
    let skip = Math.floor(random() * t.size);
    for (const k of t.keys()) {
      if (skip-- === 0) return k;
    }
    return undefined;
  }

  /**
   * Up to `count` keys with their values for eviction sampling (Redis'
   * dictGetSomeKeys): taken in a row from a position kept between calls,
   * which jumps to a random occupied slot when its slot is used up (or at
   * once when `jump`). A slot is never walked from its start to a random
   * offset, so a huge slot (keys sharing a hash tag) costs no more per call
   * than a small one. Keys may repeat from one call to the next.
   */
  sampleKeys(volatile: boolean, count: number, keys: string[], values: Value[], jump: boolean, random: () => number = Math.random): void {
    if ((volatile ? this.volatileCount : this.size) === 0) return;
    const cursor = volatile ? this.volatileSampler : this.mainSampler;
    if (jump) cursor.iter = null;
    let misses = 0;
    while (keys.length < count) {
      if (cursor.iter === null) {
        const slot = volatile ? this.randomExpireSlot(misses++, random) : this.occupied[Math.floor(random() * this.occupied.length)]!;
        const table = volatile ? this.expireTables[slot] : this.tables[slot];
        if (table === undefined) continue;
        cursor.iter = table.keys();
        cursor.slot = slot;
      }
      const next = cursor.iter.next();
      if (next.done === true) {
        cursor.iter = null;
        // Every key visited in this call: do not go round again.
        if (++misses > count + 16) return;
        continue;
      }
      // The slot's table as it is now (the walk may be over one emptied and replaced since).
      const v = this.tables[cursor.slot]?.get(next.value);
      if (v === undefined) continue;
      keys.push(next.value);
      values.push(v);
    }
  }

  /** A slot with a TTL table: a random occupied one for the first tries, then the next one found from a random slot. */
  private randomExpireSlot(tries: number, random: () => number): number {
    const guess = this.occupied[Math.floor(random() * this.occupied.length)]!;
    if (tries < 16) return guess;
    const start = Math.floor(random() * SLOTS);
    for (let i = 0; i < SLOTS; i++) {
      const slot = (start + i) % SLOTS;
      if (this.expireTables[slot] !== undefined) return slot;
    }
    return guess;
  }

  /** A random key that has a TTL, or undefined. */
  randomVolatileKey(random: () => number = Math.random): string | undefined {
    if (this.volatileCount === 0) return undefined;
    // Volatile keys may be sparse across occupied slots: probe a few, then walk.
    for (let tries = 0; tries < 16; tries++) {
      const slot = this.occupied[Math.floor(random() * this.occupied.length)]!;
      const t = this.expireTables[slot];
      if (t === undefined) continue;
      let skip = Math.floor(random() * t.size);
      for (const k of t.keys()) if (skip-- === 0) return k;
    }
    for (const t of this.expireTables) if (t !== undefined) for (const k of t.keys()) return k;
    return undefined;
  }

  /** Keys of one slot with their values (a snapshot slice). */
  slotEntries(slot: number): Map<string, Value> | undefined {
    return this.tables[slot];
  }

  /** Every key (TTLs ignored), slot by slot. */
  *keys(): IterableIterator<string> {
    for (const t of this.tables) if (t !== undefined) yield* t.keys();
  }

  /** Every key with its value, slot by slot. */
  *entries(): IterableIterator<[string, Value]> {
    for (const t of this.tables) if (t !== undefined) yield* t.entries();
  }

  /** Every (key, absolute expiry) pair. */
  *expireEntries(): IterableIterator<[string, number]> {
    for (const t of this.expireTables) if (t !== undefined) yield* t.entries();
  }

  /** The TTL table of one slot (for the active expiry cycle). */
  expiresOfSlot(slot: number): Map<string, number> | undefined {
    return this.expireTables[slot];
  }

  /** Keys of one slot. */
  slotKeys(slot: number): IterableIterator<string> | undefined {
    return this.tables[slot]?.keys();
  }

  /**
   * One SCAN step. `cursor` is the first slot to visit; whole slots are
   * returned until at least `count` keys were gathered. Returns the next
   * cursor (0 when done).
   */
  scan(cursor: number, count: number, out: string[]): number {
    let slot = cursor;
    let gathered = 0;
    // Skipping an empty slot costs one array read, so empty slots are not budgeted.
    while (slot < SLOTS && gathered < count) {
      const n = this.slotSizes[slot]!;
      if (n > 0) {
        for (const k of this.tables[slot]!.keys()) out.push(k);
        gathered += n;
      }
      slot++;
    }
    while (slot < SLOTS && this.slotSizes[slot] === 0) slot++;
    return slot >= SLOTS ? 0 : slot;
  }
}
