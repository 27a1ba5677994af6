/**
 * The active expire cycle (DESIGN.md §5). Redis samples random keys with a
 * TTL; here each database keeps a rolling cursor over its per-slot TTL
 * tables instead, which visits every volatile key in turn and needs no
 * random access into a JS Map (Db.expiresOfSlot: keys of the string store
 * carry their TTL in their record, the others are in per-slot TTL Maps). Like Redis, a database is worked on in
 * batches while more than 10% of the sampled keys turned out expired, and
 * the whole cycle stops at its time budget.
 */

import type { Engine } from './engine.js';
import { newExpireWalk, type Db, type ExpireWalk } from './keyspace.js';
import { SLOTS } from './slot.js';

const KEYS_PER_BATCH = 20;
const ACCEPTABLE_STALE_PERCENT = 10;

export class ActiveExpire {
  private cursors: ExpireWalk[];
  private nextDb = 0;
  // A batch's keys and expiries (reused).
  private keys: string[] = [];
  private whens: number[] = [];

  constructor(private readonly engine: Engine) {
    this.cursors = engine.dbs.map(() => newExpireWalk());
  }

  /** Run for at most `budgetMs`. Returns the number of keys deleted. */
  run(budgetMs: number): number {
    const engine = this.engine;
    const start = performance.now();
    const deadline = start + budgetMs;
    engine.begin();
    let deleted = 0;
    let sampledTotal = 0;
    let expiredTotal = 0;
    let timedOut = false;
    try {
      const dbs = engine.dbs;
      for (let n = 0; n < dbs.length && !timedOut; n++) {
        const db = dbs[this.nextDb]!;
        const cursor = this.cursors[this.nextDb]!;
        this.nextDb = (this.nextDb + 1) % dbs.length;
        if (db.volatileCount === 0) continue;
        for (;;) {
          const { sampled, expired } = this.batch(db, cursor);
          sampledTotal += sampled;
          expiredTotal += expired;
          deleted += expired;
          if (performance.now() > deadline) {
            timedOut = true;
            break;
          }
          if (sampled === 0 || expired * 100 <= sampled * ACCEPTABLE_STALE_PERCENT) break;
        }
      }
    } finally {
      engine.end();
    }
    const stats = engine.stats;
    if (timedOut) stats.expiredTimeCapReached++;
    stats.expireCycleCpuMs += performance.now() - start;
    if (sampledTotal > 0) {
      // Running average like Redis' stat_expired_stale_perc.
      const current = expiredTotal / sampledTotal;
      stats.expiredStalePerc = current * 0.05 + stats.expiredStalePerc * 0.95;
    }
    return deleted;
  }

  /** Check up to KEYS_PER_BATCH volatile keys of `db` from its cursor. */
  private batch(db: Db, cursor: ExpireWalk): { sampled: number; expired: number } {
    const engine = this.engine;
    const now = Date.now();
    engine.now = now;
    const keys = this.keys;
    const whens = this.whens;
    let sampled = 0;
    let expired = 0;
    let slotsVisited = 0;
    // Each step looks at a bounded part of a slot; a batch ends with its keys or after one round of the slots.
    while (sampled < KEYS_PER_BATCH && slotsVisited <= SLOTS) {
      keys.length = 0;
      whens.length = 0;
      if (db.expiresOfSlot(cursor, KEYS_PER_BATCH - sampled, keys, whens)) {
        cursor.slot = (cursor.slot + 1) % SLOTS;
        slotsVisited++;
      }
      // The keys are gathered before any is deleted: a deletion may reorder the slot's index.
      for (let i = 0; i < keys.length; i++) {
        sampled++;
        const key = keys[i]!;
        const when = whens[i]!;
        if (now > when && db.getExpire(key) === when) {
          engine.deleteExpired(db, key);
          expired++;
        }
      }
    }
    return { sampled, expired };
  }
}
