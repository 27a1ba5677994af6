/**
 * The active expire cycle (DESIGN.md §5). Redis samples random keys with a
 * TTL; here each database keeps a rolling cursor over its per-slot TTL
 * tables instead, which visits every volatile key in turn and needs no
 * random access into a JS Map. Like Redis, a database is worked on in
 * batches while more than 10% of the sampled keys turned out expired, and
 * the whole cycle stops at its time budget.
 */

import type { Engine } from './engine.js';
import type { Db } from './keyspace.js';
import { SLOTS } from './slot.js';

const KEYS_PER_BATCH = 20;
const ACCEPTABLE_STALE_PERCENT = 10;

interface Cursor {
  slot: number;
  iter: Iterator<[string, number]> | null;
}

export class ActiveExpire {
  private cursors: Cursor[];
  private nextDb = 0;

  constructor(private readonly engine: Engine) {
    this.cursors = engine.dbs.map(() => ({ slot: 0, iter: null }));
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
  private batch(db: Db, cursor: Cursor): { sampled: number; expired: number } {
    const engine = this.engine;
    const now = Date.now();
    engine.now = now;
    let sampled = 0;
    let expired = 0;
    let slotsVisited = 0;
    while (sampled < KEYS_PER_BATCH && slotsVisited <= SLOTS) {
      if (cursor.iter === null) {
        const table = db.expiresOfSlot(cursor.slot);
        if (table === undefined) {
          cursor.slot = (cursor.slot + 1) % SLOTS;
          slotsVisited++;
          continue;
        }
        cursor.iter = table.entries();
      }
      const next = cursor.iter.next();
      if (next.done) {
        cursor.iter = null;
        cursor.slot = (cursor.slot + 1) % SLOTS;
        slotsVisited++;
        continue;
      }
      sampled++;
      const [key, when] = next.value;
      if (now > when && db.getExpire(key) === when) {
        engine.deleteExpired(db, key);
        expired++;
      }
    }
    return { sampled, expired };
  }
}
