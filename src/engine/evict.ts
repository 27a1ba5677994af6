/**
 * Choosing keys to evict under maxmemory (Redis' evict.c). The LRU, LFU
 * and TTL policies sample `maxmemory-samples` keys of each database and
 * keep the best candidates seen so far in a pool of 16, sorted by how
 * evictable they are; the random policies take any key. Only the choice
 * and the deletion live here: when to evict (the memory measure, time
 * limits, the OOM error) is the server's job (src/server/memory-limit.ts).
 *
 * Beyond Redis: keys can be protected from eviction by type or by glob
 * pattern (queues kept in streams and lists, BullMQ's `bull:*` keys),
 * since a queue that loses a key loses jobs.
 */

import type { Db } from './keyspace.js';
import type { AccessPolicy } from './access.js';
import { typeOf, type TypeName, type Value } from '../types/value.js';
import { keyMemoryUsage } from '../types/memory.js';
import { storable } from './string-store.js';
import { globMatcher } from '../util/glob.js';

export type EvictionPolicy =
  | 'noeviction'
  | 'allkeys-lru'
  | 'allkeys-lfu'
  | 'allkeys-random'
  | 'volatile-lru'
  | 'volatile-lfu'
  | 'volatile-random'
  | 'volatile-ttl';

/** EVPOOL_SIZE. */
const POOL_SIZE = 16;
/** Sampling rounds that found no evictable key before a call gives up (every sampled key protected). */
const MAX_EMPTY_ROUNDS = 16;

/** Which keys must never be evicted. */
export class EvictionProtection {
  private types = new Set<TypeName>();
  private patterns: ((key: string) => boolean)[] = [];

  /** Types by name (string list set hash zset stream). Unknown names are the caller's to reject. */
  setTypes(names: readonly TypeName[]): void {
    this.types = new Set(names);
  }

  setPatterns(globs: readonly string[]): void {
    this.patterns = globs.map((g) => globMatcher(g));
  }

  get active(): boolean {
    return this.types.size > 0 || this.patterns.length > 0;
  }

  covers(key: string, v: Value): boolean {
    if (this.types.size > 0 && this.types.has(typeOf(v))) return true;
    for (const match of this.patterns) if (match(key)) return true;
    return false;
  }
}

/** What eviction needs of the engine. */
export interface EvictionHost {
  readonly dbs: readonly Db[];
  readonly access: AccessPolicy;
  /** Delete the key and propagate it as Redis does an evicted key (DEL, `evicted` event, counted). */
  deleteEvicted(db: Db, key: string): void;
}

export class Evictor {
  policy: EvictionPolicy = 'noeviction';
  samples = 5;
  readonly protection = new EvictionProtection();
  // The pool, sorted by score ascending: the best candidate is the last.
  private readonly poolScores = new Float64Array(POOL_SIZE);
  private readonly poolKeys: string[] = new Array<string>(POOL_SIZE).fill('');
  private readonly poolDbs = new Int32Array(POOL_SIZE);
  private poolSize = 0;
  private readonly sampled: string[] = [];
  private readonly sampledValues: Value[] = [];
  /** Round robin over databases for the random policies (Redis' static next_db). */
  private nextDb = 0;

  /** Of what the last evictOne() freed, the bytes that stay in the heap as garbage until a full collection. */
  lastHeapBytes = 0;

  constructor(private readonly engine: EvictionHost) {}

  private get volatileOnly(): boolean {
    return this.policy.startsWith('volatile-');
  }

  /**
   * Evict one key chosen by the policy. Returns the estimated bytes it
   * held, or -1 when no key can be evicted (noeviction, nothing left that
   * the policy may take, or only protected keys found).
   */
  evictOne(): number {
    if (this.policy === 'noeviction') return -1;
    const victim = this.policy.endsWith('-random') ? this.randomVictim() : this.pooledVictim();
    if (victim === null) return -1;
    const db = this.engine.dbs[victim.db]!;
    const v = db.get(victim.key)!;
    const bytes = keyMemoryUsage(victim.key, v);
    // A key of the string store frees its record at once (Db.storeFreeBytes counts it); a heap key's bytes wait for a collection.
    this.lastHeapBytes = storable(victim.key, v) ? 0 : bytes;
    this.engine.deleteEvicted(db, victim.key);
    return bytes;
  }

  /** Forget pooled candidates (FLUSHALL, a policy change). */
  clearPool(): void {
    this.poolSize = 0;
    this.poolKeys.fill('');
  }

  private randomVictim(): { db: number; key: string } | null {
    const dbs = this.engine.dbs;
    const volatile = this.volatileOnly;
    const out = this.sampled;
    for (let round = 0; round < MAX_EMPTY_ROUNDS; round++) {
      let anyKeys = false;
      for (let n = 0; n < dbs.length; n++) {
        const db = dbs[this.nextDb]!;
        this.nextDb = (this.nextDb + 1) % dbs.length;
        if ((volatile ? db.volatileCount : db.size) === 0) continue;
        anyKeys = true;
        out.length = 0;
        this.sampledValues.length = 0;
        db.sampleKeys(volatile, 1, out, this.sampledValues, true);
        const key = out[0];
        if (key !== undefined && !this.protection.covers(key, this.sampledValues[0]!)) return { db: db.id, key };
      }
      if (!anyKeys) return null;
    }
    return null;
  }

  private pooledVictim(): { db: number; key: string } | null {
    const dbs = this.engine.dbs;
    const volatile = this.volatileOnly;
    for (let round = 0; round < MAX_EMPTY_ROUNDS; round++) {
      let sampledTotal = 0;
      for (const db of dbs) {
        if ((volatile ? db.volatileCount : db.size) === 0) continue;
        sampledTotal += this.populate(db, volatile);
      }
      if (sampledTotal === 0) return null;
      // The best candidate that still qualifies (the pool may hold keys deleted since).
      while (this.poolSize > 0) {
        const i = --this.poolSize;
        const key = this.poolKeys[i]!;
        const dbId = this.poolDbs[i]!;
        this.poolKeys[i] = '';
        const db = dbs[dbId]!;
        const v = db.get(key);
        if (v === undefined || (volatile && db.getExpire(key) < 0)) continue;
        return { db: dbId, key };
      }
    }
    return null;
  }

  /** evictionPoolPopulate: sample keys of `db` into the pool. Returns how many were sampled. */
  private populate(db: Db, volatile: boolean): number {
    const keys = this.sampled;
    const values = this.sampledValues;
    keys.length = 0;
    values.length = 0;
    db.sampleKeys(volatile, this.samples, keys, values, false);
    const protection = this.protection;
    const guarded = protection.active;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i]!;
      const v = values[i]!;
      if (guarded && protection.covers(key, v)) continue;
      this.offer(db, key, this.score(db, key, v));
    }
    return keys.length;
  }

  /** Higher is more evictable: idle time (LRU), 255 - frequency (LFU), closeness of the expiry (TTL). */
  private score(db: Db, key: string, v: Value): number {
    const access = this.engine.access;
    switch (this.policy) {
      case 'allkeys-lru':
      case 'volatile-lru':
        return access.idleMs(db.accessWord(key, v));
      case 'allkeys-lfu':
      case 'volatile-lfu':
        return 255 - access.lfuDecayed(db.accessWord(key, v));
      default:
        return Number.MAX_SAFE_INTEGER - db.getExpire(key);
    }
  }

  /** Insert a candidate into the sorted pool if it beats the worst one there (or there is room). */
  private offer(db: Db, key: string, score: number): void {
    const scores = this.poolScores;
    const keys = this.poolKeys;
    const dbs = this.poolDbs;
    let size = this.poolSize;
    // No check for a key already pooled (comparing 16 keys costs more than the rest of a sample):
    // as in Redis, a duplicate is found gone when popped after the first copy was evicted.
    // First position whose score is not below ours.
    let at = 0;
    while (at < size && scores[at]! < score) at++;
    if (at === 0 && size === POOL_SIZE) return;
    if (size < POOL_SIZE) {
      // Room: shift the better ones right.
      for (let i = size; i > at; i--) {
        scores[i] = scores[i - 1]!;
        keys[i] = keys[i - 1]!;
        dbs[i] = dbs[i - 1]!;
      }
      size++;
    } else {
      // Full: drop the worst (index 0), shift the worse ones left.
      at--;
      for (let i = 0; i < at; i++) {
        scores[i] = scores[i + 1]!;
        keys[i] = keys[i + 1]!;
        dbs[i] = dbs[i + 1]!;
      }
    }
    scores[at] = score;
    keys[at] = key;
    dbs[at] = db.id;
    this.poolSize = size;
  }
}
