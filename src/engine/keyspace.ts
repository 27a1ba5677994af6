/**
 * One database: keys split into per-slot tables (DESIGN.md §4).
 *
 * Splitting by hash slot keeps every table small (a JS Map throws past 2^24
 * entries; an index grows by copying only its slot's entries), gives SCAN a
 * cursor that survives inserts and deletes (a cursor is the next slot; every
 * slot is visited once), and is the unit of sharding for worker threads and
 * cluster mode.
 *
 * A key lives in exactly one of two places:
 *  - the string store (string-store.ts), off the JS heap, when its value is
 *    a latin1 string of at most STORE_VALUE_MAX bytes or a number and the
 *    key itself is latin1 and at most STORE_KEY_MAX bytes: the bulk of most
 *    datasets, at a few dozen bytes per key and nothing for the GC to trace;
 *  - the slot's JS Map otherwise (collections, MutableStrings, bigints, long
 *    strings), with its access word in the access table (access.ts).
 * A write that changes a value's kind moves the key across, keeping its
 * access word, insertion number and TTL.
 *
 * A key's TTL (absolute expiry in ms) lives where the key does: in its store
 * record, or for a key in a Map in a parallel per-slot Map that exists only
 * for slots holding such keys.
 *
 * This is storage only: expiry policy, propagation and notifications are
 * the engine's job.
 */

import { DEFERRED_ARG, escapedPlaceholder } from '../protocol/deferred-arg.js';
import { SLOTS, emptySlotTables, keySlot } from './slot.js';
import type { Value } from '../types/value.js';
import { AccessPolicy, KeyAccess } from './access.js';
import { PREFETCH_MAX, StringStore, storable } from './string-store.js';

/** Keys in the string store from which a pipeline's keys are prefetched. */
const PREFETCH_MIN_KEYS = 4096;

// The per-slot arrays of every database that never held a key, shared and
// never written: a database makes its own at its first key. They are 576 KB
// a database with the string store's: 9 MB for 16 mostly empty databases,
// and half a GB (and seconds of start-up) for `databases 1000`.
const NO_TABLES = emptySlotTables<Map<string, Value>>();
const NO_EXPIRE_TABLES = emptySlotTables<Map<string, number>>();
const NO_SIZES = new Uint32Array(SLOTS);
const NO_POSITIONS = noPositions();

/** occupiedPos with no slot occupied. */
function noPositions(): Int32Array {
  return new Int32Array(SLOTS).fill(-1);
}

/**
 * A walk through one slot's keys (eviction sampling): its store index
 * positions, then its Map (a walk over keys with a TTL: the store's keys
 * with one, then the slot's TTL table).
 */
interface Sampler {
  active: boolean;
  slot: number;
  /** Next position in the slot's store index; -1 once the walk is in the Map (or in a TTL table). */
  pos: number;
  iter: IterableIterator<string> | null;
}

/** A resumable walk over the keys with a TTL of one slot at a time (the active expiry cycle, Db.expiresOfSlot). */
export interface ExpireWalk {
  slot: number;
  /** Next position in the slot's store index; -1 once the walk is in the slot's TTL table. */
  pos: number;
  iter: Iterator<[string, number]> | null;
}

export const newExpireWalk = (): ExpireWalk => ({ slot: 0, pos: 0, iter: null });

/** Store index positions an ExpireWalk step looks at per key it may return (bounds its work in a slot of few TTLs). */
const WALK_POSITIONS_PER_KEY = 16;

const newSampler = (): Sampler => ({ active: false, slot: 0, pos: -1, iter: null });

export class Db {
  /** Table writes so far (sets, deletes, TTL changes): the test-mode effect check reads it. */
  writes = 0;
  /** Keys holding short strings and numbers (see the file comment). */
  private store = new StringStore();
  /** Every other key, per slot (NO_TABLES until the first Map). */
  private tables = NO_TABLES;
  /** TTLs of the keys in the Maps, per slot (keys in the store keep theirs in their record; NO_EXPIRE_TABLES until the first). */
  private expireTables = NO_EXPIRE_TABLES;
  /** Number of keys in the Maps with a TTL. */
  private mapVolatile = 0;
  /** Keys per slot (both places), for SCAN, RANDOMKEY and CLUSTER COUNTKEYSINSLOT (NO_SIZES until the first key). */
  private sizes = NO_SIZES;
  /** Keys per slot, to read only (a database that never held a key shares its zeros). */
  get slotSizes(): Uint32Array {
    return this.sizes;
  }
  /** Number of keys. */
  size = 0;

  /** A bulk load is about to add about `keys` keys, 0 when it ended (StringStore.expectKeys). */
  expectKeys(keys: number): void {
    this.store.expectKeys(keys);
  }
  /** Number of keys with a TTL. */
  get volatileCount(): number {
    return this.mapVolatile + this.store.ttlSize;
  }

  /** Of those, the keys of the string store (their TTL is in their record). */
  get storeVolatileCount(): number {
    return this.store.ttlSize;
  }
  /** Slots that hold keys, densely packed for O(1) random choice. */
  private occupied: number[] = [];
  private occupiedPos = NO_POSITIONS;
  /** Insertion number of the next new key (wraps at 2^32; CLUSTER GETKEYSINSLOT orders by it). */
  private nextSeq = 1;

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
  private mainSampler: Sampler = newSampler();
  private volatileSampler: Sampler = newSampler();

  /** The access words of keys in the Maps, see access.ts. */
  private access: KeyAccess;

  constructor(
    public readonly id: number,
    /** Shared by all databases: the eviction policy's view of access. */
    readonly policy: AccessPolicy = new AccessPolicy(),
  ) {
    this.access = new KeyAccess(policy);
  }

  /** Bytes of the string store's slabs that hold no key (memory in use less them is what the keys hold). */
  storeFreeBytes(): number {
    return this.store.freeBytes();
  }

  /** StringStore.compactIndexes: the bytes of outgrown index blocks left to the next collection (0: nothing done). */
  compactIndexes(): number {
    return this.store.compactIndexes();
  }

  /** The store record of `key` holding `v`, or 0 when the key is in a Map. */
  private storeRef(key: string, v: Value): number {
    if (typeof v !== 'string' && typeof v !== 'number') return 0;
    return this.store.ref(this.slotOf(key), key);
  }

  /** Record an access to an existing key holding `v` (Redis' lookupKey without LOOKUP_NOTOUCH). */
  touchAccess(key: string, v: Value): void {
    const policy = this.policy;
    if (policy.isShared(v)) {
      policy.setSharedWord(v, policy.touched(policy.sharedWord(v)));
      return;
    }
    const ref = this.storeRef(key, v);
    if (ref === 0) this.access.touched(key);
    else this.touchRecord(ref);
  }

  /** The string store, for replies copied from a record (stringRecordOf, StringStore.stringSpan). */
  get records(): StringStore {
    return this.store;
  }

  /** The store record of `key` when it holds a string there (not a number), else 0. */
  stringRecordOf(key: string): number {
    const ref = this.store.ref(this.slotOf(key), key);
    return ref !== 0 && this.store.stringSpan(ref) >= 0 ? ref : 0;
  }

  /** touchAccess of a key held in store record `ref` (stringRecordOf's: a string is never a shared value). */
  touchRecord(ref: number): void {
    const policy = this.policy;
    if (policy.loading) return;
    this.store.setWord(ref, policy.lfu ? policy.touched(this.store.word(ref)) : policy.lruClock());
  }

  /** The access word of `key` holding `v` (-1 if the key has none). */
  accessWord(key: string, v: Value): number {
    if (this.policy.isShared(v)) return this.policy.sharedWord(v);
    const ref = this.storeRef(key, v);
    return ref === 0 ? this.access.word(key) : this.store.word(ref);
  }

  /** Set the access word of an existing key (RESTORE IDLETIME / FREQ, RDB IDLE / FREQ). */
  setAccessWord(key: string, v: Value, word: number): void {
    if (this.policy.isShared(v)) {
      this.policy.setSharedWord(v, word);
      return;
    }
    const ref = this.storeRef(key, v);
    if (ref === 0) this.access.set(key, word);
    else this.store.setWord(ref, word);
  }

  /** The slot of `key`. A key other than the last one also has its index position fetched. */
  slotOf(key: string): number {
    if (key === this.lastKey) return this.lastSlot;
    const slot = keySlot(key);
    this.lastKey = key;
    this.lastSlot = slot;
    // Nearly every lookup or write probes the slot's store index: fetching
    // its position now overlaps that cache miss with the slot's own.
    this.store.warm(slot, key);
    return slot;
  }

  /**
   * Is reading keys ahead worth it here? A few thousand keys stay in the
   * CPU's caches anyway: the scan would cost without saving a miss.
   */
  get prefetchWorthwhile(): boolean {
    return this.store.size >= PREFETCH_MIN_KEYS;
  }

  /** Warm the cache for keys about to be looked up (StringStore.prefetch; it leaves their hashes and slots in `hashes` and `slots`). */
  prefetch(buf: Uint8Array, ranges: Int32Array, n: number, hashes: Int32Array, slots: Int32Array): void {
    if (n <= PREFETCH_MAX) this.store.prefetch(buf, ranges, n, hashes, slots);
  }

  /**
   * `hash` and `slot` are keyHash(key) and keySlot(key), computed by a
   * prefetch from the key's bytes: the one-entry caches take them, so the
   * command naming `key` computes neither again.
   */
  seed(key: string, hash: number, slot: number): void {
    this.store.seed(key, hash);
    this.lastKey = key;
    this.lastSlot = slot;
  }

  /** The stored value, ignoring TTLs. */
  get(key: string): Value | undefined {
    const slot = this.slotOf(key);
    const v = this.store.get(slot, key);
    if (v !== undefined) return v;
    const t = this.tables[slot];
    return t === undefined ? undefined : t.get(key);
  }

  has(key: string): boolean {
    const slot = this.slotOf(key);
    if (this.store.has(slot, key)) return true;
    const t = this.tables[slot];
    return t !== undefined && t.has(key);
  }

  /** Absolute expiry in ms, or -1 when the key has no TTL (or does not exist). */
  getExpire(key: string): number {
    if (this.volatileCount === 0) return -1;
    const slot = this.slotOf(key);
    const store = this.store;
    if (store.ttlCounts[slot] !== 0) {
      const ref = store.ref(slot, key);
      if (ref !== 0) return store.expireOf(ref);
    }
    if (this.mapVolatile === 0) return -1;
    const t = this.expireTables[slot];
    if (t === undefined) return -1;
    const when = t.get(key);
    return when === undefined ? -1 : when;
  }

  /** Insert or overwrite a value; the TTL is left as it is. Returns true if the key is new. */
  set(key: string, value: Value): boolean {
    this.writes++;
    const slot = this.slotOf(key);
    if (this.beforeChange !== null) this.beforeChange(this, slot, key);
    const policy = this.policy;
    if (storable(key, value)) {
      const v = value as string | number;
      const store = this.store;
      if (!this.moveToStore(slot, key, v) && store.set(slot, key, v, policy.loading ? policy.loadWord : policy.fresh(), this.nextSeq)) {
        this.nextSeq = (this.nextSeq + 1) >>> 0;
        this.added(slot);
        return true;
      }
      // An overwrite: a fresh LRU time; LFU keeps its counter (dbSetValue).
      if (!policy.lfu && !policy.loading) store.setWord(store.lastRef, policy.lruClock());
      return false;
    }
    if (value === DEFERRED_ARG) throw escapedPlaceholder('a Map');
    const t = this.mapOf(slot);
    if (this.takeFromStore(slot, key)) {
      t.set(key, value);
      this.access.overwritten(key);
      return false;
    }
    const before = t.size;
    t.set(key, value);
    if (t.size === before) {
      this.access.overwritten(key);
      return false;
    }
    this.access.created(key, this.nextSeq);
    this.nextSeq = (this.nextSeq + 1) >>> 0;
    this.added(slot);
    return true;
  }

  /**
   * set() then setExpire(): a new key of the string store is written with
   * its TTL at once. Returns true if the key is new.
   */
  setWithExpire(key: string, value: Value, when: number): boolean {
    const slot = this.slotOf(key);
    const t = this.tables[slot];
    // An existing key (a renewal: the store's lookup cache holds it) takes the general path.
    if (this.store.ref(slot, key) !== 0 || (t !== undefined && t.has(key)) || !storable(key, value)) {
      const isNew = this.set(key, value);
      this.setExpire(key, when);
      return isNew;
    }
    this.writes += 2;
    if (this.beforeChange !== null) this.beforeChange(this, slot, key);
    const policy = this.policy;
    this.store.insertWithExpire(slot, key, value as string | number, policy.loading ? policy.loadWord : policy.fresh(), this.nextSeq, when);
    this.nextSeq = (this.nextSeq + 1) >>> 0;
    this.added(slot);
    return true;
  }

  /** Replace the value of an existing key without touching anything else. */
  replace(key: string, value: Value): void {
    this.writes++;
    const slot = this.slotOf(key);
    if (this.beforeChange !== null) this.beforeChange(this, slot, key);
    if (typeof value === 'number' && this.store.overwriteNumber(key, value)) return;
    if (storable(key, value)) {
      const v = value as string | number;
      if (!this.moveToStore(slot, key, v)) this.store.set(slot, key, v, 0, 0);
      return;
    }
    if (value === DEFERRED_ARG) throw escapedPlaceholder('a Map');
    const t = this.mapOf(slot);
    this.takeFromStore(slot, key);
    t.set(key, value);
  }

  /** The slot's Map, created when it has none. */
  private mapOf(slot: number): Map<string, Value> {
    let t = this.tables[slot];
    if (t === undefined) {
      if (this.tables === NO_TABLES) this.tables = emptySlotTables();
      t = new Map();
      this.tables[slot] = t;
    }
    return t;
  }

  /**
   * A key held in its slot's Map takes `v` in the store instead, keeping
   * its access word and insertion number. False when the Map does not hold it.
   */
  private moveToStore(slot: number, key: string, v: string | number): boolean {
    // No key in any Map (a cache's keyspace): the slot's table is not read, a cache miss per write over millions of keys.
    if (this.size === this.store.size) return false;
    const t = this.tables[slot];
    if (t === undefined || !t.has(key)) return false;
    const word = this.access.word(key);
    const seq = this.access.seq(key);
    this.dropFromMap(slot, t, key);
    this.store.set(slot, key, v, word, seq);
    const when = this.mapVolatile === 0 ? undefined : this.expireTables[slot]?.get(key);
    if (when !== undefined) {
      this.removeExpireInSlot(slot, key);
      this.store.setExpire(slot, key, when);
    }
    return true;
  }

  /**
   * A key held in the store leaves it for the Map: its access word and
   * insertion number go to the access table. False when the store does not hold it.
   */
  private takeFromStore(slot: number, key: string): boolean {
    const store = this.store;
    if (store.counts[slot] === 0) return false;
    const word = store.delete(slot, key);
    if (word < 0) return false;
    this.access.adopt(key, word, store.deletedSeq);
    if (store.deletedHasExpire) this.setMapExpire(slot, key, store.deletedExpire);
    return true;
  }

  /** Take `key` out of its slot's Map (it moves to the store). */
  private dropFromMap(slot: number, t: Map<string, Value>, key: string): void {
    t.delete(key);
    this.access.deleted(key);
    if (t.size === 0) this.tables[slot] = undefined;
  }

  /** A key was added to `slot`. */
  private added(slot: number): void {
    if (this.sizes === NO_SIZES) {
      this.sizes = new Uint32Array(SLOTS);
      this.occupiedPos = noPositions();
    }
    this.size++;
    if (this.sizes[slot]++ === 0) this.markOccupied(slot);
  }

  delete(key: string): boolean {
    const slot = this.slotOf(key);
    if (this.beforeChange !== null) this.beforeChange(this, slot, key);
    if (this.store.counts[slot] === 0 || this.store.delete(slot, key) < 0) {
      const t = this.tables[slot];
      if (t === undefined || !t.delete(key)) return false;
      this.access.deleted(key);
      if (t.size === 0) this.tables[slot] = undefined;
      if (this.mapVolatile > 0) this.removeExpireInSlot(slot, key);
    }
    this.writes++;
    this.size--;
    if (--this.sizes[slot]! === 0) this.markEmpty(slot);
    return true;
  }

  setExpire(key: string, when: number): void {
    this.writes++;
    const slot = this.slotOf(key);
    if (this.beforeChange !== null) this.beforeChange(this, slot, key);
    if (this.store.counts[slot] !== 0 && this.store.setExpire(slot, key, when) >= 0) return;
    this.setMapExpire(slot, key, when);
  }

  /** Set the TTL of a key held in a Map (or of a key not held at all, as before). */
  private setMapExpire(slot: number, key: string, when: number): void {
    let t = this.expireTables[slot];
    if (t === undefined) {
      if (this.expireTables === NO_EXPIRE_TABLES) this.expireTables = emptySlotTables();
      t = new Map();
      this.expireTables[slot] = t;
    }
    const before = t.size;
    t.set(key, when);
    if (t.size !== before) this.mapVolatile++;
  }

  /** Remove the TTL. Returns true if there was one. */
  removeExpire(key: string): boolean {
    if (this.volatileCount === 0) return false;
    const slot = this.slotOf(key);
    if (this.beforeChange !== null) this.beforeChange(this, slot, key);
    const inStore = this.store.ttlSize === 0 ? -1 : this.store.removeExpire(slot, key);
    if (inStore === 0) return false;
    if (inStore < 0 && !this.removeExpireInSlot(slot, key)) return false;
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
    this.mapVolatile--;
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
    // Slabs and indexes are dropped whole: their memory goes back at the next GC.
    this.store.clear();
    // Emptied in place: a new 16384-entry array is a large-object allocation (128 KB), milliseconds each.
    // (The shared arrays of a database that never held a key are empty already, and not ours to write.)
    if (this.tables !== NO_TABLES) this.tables.fill(undefined);
    if (this.expireTables !== NO_EXPIRE_TABLES) this.expireTables.fill(undefined);
    if (this.sizes !== NO_SIZES) this.sizes.fill(0);
    this.size = 0;
    this.mapVolatile = 0;
    this.occupied = [];
    if (this.occupiedPos !== NO_POSITIONS) this.occupiedPos.fill(-1);
    this.access.clear();
    this.mainSampler.active = false;
    this.volatileSampler.active = false;
    this.forgetLastKey();
  }

  /** Exchange contents with another db (SWAPDB); ids stay. */
  swapWith(other: Db): void {
    this.writes++;
    if (this.beforeBulkChange !== null) this.beforeBulkChange(this);
    if (other.beforeBulkChange !== null) other.beforeBulkChange(other);
    [this.store, other.store] = [other.store, this.store];
    [this.tables, other.tables] = [other.tables, this.tables];
    [this.expireTables, other.expireTables] = [other.expireTables, this.expireTables];
    [this.size, other.size] = [other.size, this.size];
    [this.mapVolatile, other.mapVolatile] = [other.mapVolatile, this.mapVolatile];
    [this.occupied, other.occupied] = [other.occupied, this.occupied];
    [this.access, other.access] = [other.access, this.access];
    [this.nextSeq, other.nextSeq] = [other.nextSeq, this.nextSeq];
    [this.mainSampler, other.mainSampler] = [other.mainSampler, this.mainSampler];
    [this.volatileSampler, other.volatileSampler] = [other.volatileSampler, this.volatileSampler];
    [this.sizes, other.sizes] = [other.sizes, this.sizes];
    [this.occupiedPos, other.occupiedPos] = [other.occupiedPos, this.occupiedPos];
    // The one-entry slot cache is only a key's slot (the same in every db), but the store warmed by it changed.
    this.forgetLastKey();
    other.forgetLastKey();
  }

  /** Empty the one-entry slot cache: it then holds '' with its own slot (the pair must stay true). */
  private forgetLastKey(): void {
    this.lastKey = '';
    this.lastSlot = keySlot('');
  }

  /** A random key (TTLs ignored), or undefined when empty. */
  randomKey(random: () => number = Math.random): string | undefined {
    if (this.size === 0) return undefined;
    const slot = this.occupied[Math.floor(random() * this.occupied.length)]!;
    const inStore = this.store.counts[slot]!;
    let skip = Math.floor(random() * this.sizes[slot]!);
    if (skip < inStore) {
      // A random position of the slot's index, then the next key from there.
      const cap = this.store.capacityOf(slot);
      let pos = Math.floor(random() * cap);
      for (let i = 0; i < cap; i++, pos = pos + 1 === cap ? 0 : pos + 1) {
        const ref = this.store.refAt(slot, pos);
        if (ref !== 0) return this.store.key(ref);
      }
      return undefined;
    }
    skip -= inStore;
    const t = this.tables[slot];
    if (t === undefined) return undefined;
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
    if (jump) cursor.active = false;
    const store = this.store;
    let misses = 0;
    while (keys.length < count) {
      if (!cursor.active) {
        const slot = volatile ? this.randomExpireSlot(misses++, random) : this.occupied[Math.floor(random() * this.occupied.length)]!;
        if (volatile) {
          if (store.ttlCounts[slot] !== 0) {
            cursor.iter = null;
            cursor.pos = 0;
          } else {
            const table = this.expireTables[slot];
            if (table === undefined) continue;
            cursor.iter = table.keys();
            cursor.pos = -1;
          }
        } else {
          cursor.iter = null;
          cursor.pos = 0;
        }
        cursor.slot = slot;
        cursor.active = true;
      }
      const slot = cursor.slot;
      if (cursor.pos >= 0) {
        // The store's keys of the slot, by index position (the index may have been resized since: positions stay in range).
        if (cursor.pos < store.capacityOf(slot)) {
          const ref = store.refAt(slot, cursor.pos++);
          if (ref !== 0 && (!volatile || store.hasExpire(ref))) {
            keys.push(store.key(ref));
            values.push(store.value(ref));
          }
          continue;
        }
        cursor.pos = -1;
        cursor.iter = (volatile ? this.expireTables[slot]?.keys() : this.tables[slot]?.keys()) ?? null;
      }
      const next = cursor.iter === null ? null : cursor.iter.next();
      if (next === null || next.done === true) {
        cursor.active = false;
        // Every key visited in this call: do not go round again.
        if (++misses > count + 16) return;
        continue;
      }
      // The key's value as it is now (the walk may be over a table emptied and replaced since).
      const v = volatile ? this.valueIn(slot, next.value) : this.tables[slot]?.get(next.value);
      if (v === undefined) continue;
      keys.push(next.value);
      values.push(v);
    }
  }

  /** The value of `key` in `slot` (either place), without the one-entry cache. */
  private valueIn(slot: number, key: string): Value | undefined {
    const v = this.store.get(slot, key);
    return v !== undefined ? v : this.tables[slot]?.get(key);
  }

  /** Does `slot` hold keys with a TTL (in the store or its TTL table)? */
  private hasExpires(slot: number): boolean {
    return this.store.ttlCounts[slot] !== 0 || this.expireTables[slot] !== undefined;
  }

  /** A slot with keys with a TTL: a random occupied one for the first tries, then the next one found from a random slot. */
  private randomExpireSlot(tries: number, random: () => number): number {
    const guess = this.occupied[Math.floor(random() * this.occupied.length)]!;
    if (tries < 16) return guess;
    const start = Math.floor(random() * SLOTS);
    for (let i = 0; i < SLOTS; i++) {
      const slot = (start + i) % SLOTS;
      if (this.hasExpires(slot)) return slot;
    }
    return guess;
  }

  /** A random key that has a TTL, or undefined. */
  randomVolatileKey(random: () => number = Math.random): string | undefined {
    if (this.volatileCount === 0) return undefined;
    // Volatile keys may be sparse across occupied slots: probe a few, then walk.
    for (let tries = 0; tries < 16; tries++) {
      const slot = this.occupied[Math.floor(random() * this.occupied.length)]!;
      if (!this.hasExpires(slot)) continue;
      const k = this.volatileKeyOfSlot(slot, random);
      if (k !== undefined) return k;
    }
    const start = Math.floor(random() * SLOTS);
    for (let i = 0; i < SLOTS; i++) {
      const slot = (start + i) % SLOTS;
      if (!this.hasExpires(slot)) continue;
      const k = this.volatileKeyOfSlot(slot, random);
      if (k !== undefined) return k;
    }
    return undefined;
  }

  /** A random key with a TTL of `slot`: the store's or the TTL table's in proportion to their counts. */
  private volatileKeyOfSlot(slot: number, random: () => number): string | undefined {
    const store = this.store;
    const inStore = store.ttlCounts[slot]!;
    const t = this.expireTables[slot];
    let skip = Math.floor(random() * (inStore + (t === undefined ? 0 : t.size)));
    if (skip < inStore) {
      // A random position of the slot's index, then the next key with a TTL from there.
      const cap = store.capacityOf(slot);
      let pos = Math.floor(random() * cap);
      for (let i = 0; i < cap; i++, pos = pos + 1 === cap ? 0 : pos + 1) {
        const ref = store.refAt(slot, pos);
        if (ref !== 0 && store.hasExpire(ref)) return store.key(ref);
      }
      return undefined;
    }
    skip -= inStore;
    if (t !== undefined) for (const k of t.keys()) if (skip-- === 0) return k;
    return undefined;
  }

  /** Keys of one slot with their values (a snapshot slice), or undefined when it holds none. */
  slotEntries(slot: number): [string, Value][] | undefined {
    if (this.sizes[slot] === 0) return undefined;
    const out: [string, Value][] = [];
    const refs: number[] = [];
    this.store.refsOfSlot(slot, refs);
    for (const ref of refs) out.push([this.store.key(ref), this.store.value(ref)]);
    const t = this.tables[slot];
    if (t !== undefined) for (const e of t) out.push(e);
    return out;
  }

  /**
   * The keys of `slot` held outside the string store (collections, long
   * strings), read-only: a snapshot walks the store's records of the slot
   * itself (StringStore.refsOfSlot) and these beside them.
   */
  slotTable(slot: number): ReadonlyMap<string, Value> | undefined {
    return this.tables[slot];
  }

  /** Keys of one slot (a copy: the caller may change the keyspace while it walks them). */
  private keysOfSlot(slot: number, out: string[]): void {
    const refs: number[] = [];
    this.store.refsOfSlot(slot, refs);
    for (const ref of refs) out.push(this.store.key(ref));
    const t = this.tables[slot];
    if (t !== undefined) for (const k of t.keys()) out.push(k);
  }

  /** Every key (TTLs ignored), slot by slot. */
  *keys(): IterableIterator<string> {
    const keys: string[] = [];
    for (let slot = 0; slot < SLOTS; slot++) {
      if (this.sizes[slot] === 0) continue;
      keys.length = 0;
      this.keysOfSlot(slot, keys);
      yield* keys;
    }
  }

  /** Every key with its value, slot by slot. */
  *entries(): IterableIterator<[string, Value]> {
    for (let slot = 0; slot < SLOTS; slot++) {
      const entries = this.slotEntries(slot);
      if (entries !== undefined) yield* entries;
    }
  }

  /** Every (key, absolute expiry) pair, slot by slot (a slot's pairs are copied before they are yielded). */
  *expireEntries(): IterableIterator<[string, number]> {
    const store = this.store;
    const refs: number[] = [];
    const out: [string, number][] = [];
    for (let slot = 0; slot < SLOTS; slot++) {
      if (!this.hasExpires(slot)) continue;
      out.length = 0;
      if (store.ttlCounts[slot] !== 0) {
        refs.length = 0;
        store.refsOfSlot(slot, refs);
        for (const ref of refs) if (store.hasExpire(ref)) out.push([store.key(ref), store.expireOf(ref)]);
      }
      const t = this.expireTables[slot];
      if (t !== undefined) for (const e of t) out.push(e);
      yield* out;
    }
  }

  /**
   * The next keys with a TTL of `walk.slot` with their expiries, appended
   * to `keys` and `whens`: at most `max`, after looking at no more than
   * WALK_POSITIONS_PER_KEY store index positions per key asked for. Goes on
   * where the last call on `walk` stopped (the keyspace may have changed
   * since: a key may then be skipped or returned twice). Returns true when
   * the slot is done: `walk` is then reset for the next slot, which the
   * caller sets.
   */
  expiresOfSlot(walk: ExpireWalk, max: number, keys: string[], whens: number[]): boolean {
    const slot = walk.slot;
    const store = this.store;
    let found = 0;
    if (walk.pos >= 0) {
      if (store.ttlCounts[slot] !== 0) {
        const cap = store.capacityOf(slot);
        let budget = max * WALK_POSITIONS_PER_KEY;
        while (walk.pos < cap && found < max) {
          if (budget-- === 0) return false;
          const ref = store.refAt(slot, walk.pos++);
          if (ref === 0 || !store.hasExpire(ref)) continue;
          keys.push(store.key(ref));
          whens.push(store.expireOf(ref));
          found++;
        }
        if (found === max && walk.pos < cap) return false;
      }
      walk.pos = -1;
      walk.iter = this.expireTables[slot]?.entries() ?? null;
    }
    const iter = walk.iter;
    if (iter !== null) {
      while (found < max) {
        const next = iter.next();
        if (next.done === true) break;
        keys.push(next.value[0]);
        whens.push(next.value[1]);
        found++;
      }
      if (found === max) return false;
    }
    walk.pos = 0;
    walk.iter = null;
    return true;
  }

  /** Keys of one slot, oldest first (CLUSTER GETKEYSINSLOT lists them newest first, as Redis 7). */
  slotKeys(slot: number): IterableIterator<string> | undefined {
    if (this.sizes[slot] === 0) return undefined;
    const aged: { key: string; age: number }[] = [];
    const refs: number[] = [];
    this.store.refsOfSlot(slot, refs);
    // Ages count back from the next insertion number, so its wrapping at 2^32 does not reorder keys.
    for (const ref of refs) aged.push({ key: this.store.key(ref), age: (this.nextSeq - this.store.seq(ref)) >>> 0 });
    const t = this.tables[slot];
    if (t !== undefined) for (const key of t.keys()) aged.push({ key, age: (this.nextSeq - this.access.seq(key)) >>> 0 });
    aged.sort((a, b) => b.age - a.age);
    return aged.map((e) => e.key).values();
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
      const n = this.sizes[slot]!;
      if (n > 0) {
        this.keysOfSlot(slot, out);
        gathered += n;
      }
      slot++;
    }
    while (slot < SLOTS && this.sizes[slot] === 0) slot++;
    return slot >= SLOTS ? 0 : slot;
  }
}
