/**
 * WATCH bookkeeping: which clients watch which keys, and marking their
 * transactions dirty when a watched key changes (Redis' multi.c).
 */

import type { Db } from './keyspace.js';

export interface WatchedKey {
  db: Db;
  key: string;
  /** The key was already logically expired when WATCH ran. */
  expired: boolean;
}

/** The part of a client WATCH needs. */
export interface Watcher {
  watched: WatchedKey[];
  /** Set when a watched key changed: EXEC will fail. */
  casDirty: boolean;
}

export class WatchRegistry {
  /** Per db id: key -> clients watching it. */
  private readonly byDb: Map<string, Set<Watcher>>[];
  /** Watched (db, key) pairs in all databases: lets touch() return at once when nobody watches. */
  private watchedPairs = 0;

  constructor(databases: number) {
    this.byDb = Array.from({ length: databases }, () => new Map());
  }

  get totalKeys(): number {
    return this.watchedPairs;
  }

  watch(client: Watcher, db: Db, key: string, expired: boolean): void {
    if (client.watched.some((w) => w.db === db && w.key === key)) return;
    const map = this.byDb[db.id]!;
    let set = map.get(key);
    if (set === undefined) {
      set = new Set();
      map.set(key, set);
      this.watchedPairs++;
    }
    set.add(client);
    client.watched.push({ db, key, expired });
  }

  unwatchAll(client: Watcher): void {
    for (const w of client.watched) {
      const map = this.byDb[w.db.id]!;
      const set = map.get(w.key);
      if (set === undefined) continue;
      set.delete(client);
      if (set.size === 0) {
        map.delete(w.key);
        this.watchedPairs--;
      }
    }
    client.watched = [];
  }

  /** A key changed (signalModifiedKey): watchers' transactions will fail. */
  touch(db: Db, key: string): void {
    if (this.watchedPairs === 0) return;
    const map = this.byDb[db.id]!;
    if (map.size === 0) return;
    const set = map.get(key);
    if (set === undefined) return;
    for (const client of [...set]) {
      const wk = client.watched.find((w) => w.db === db && w.key === key);
      if (wk !== undefined && wk.expired && !db.has(key)) {
        // An already expired key being deleted is not a logical change.
        wk.expired = false;
        continue;
      }
      client.casDirty = true;
      this.unwatchAll(client);
    }
  }

  /**
   * FLUSHDB/FLUSHALL/SWAPDB (Redis' touchAllWatchedKeysInDb): `db` is
   * emptied, or for SWAPDB replaced with `other`'s contents. A watched key
   * present in either counts as modified, except where nothing changes
   * logically: a key that was already stale at WATCH time and is now gone
   * or replaced by another stale key, or a missing key replaced by a stale one.
   */
  touchAll(db: Db, other: Db | null, isStale: (db: Db, key: string) => boolean): void {
    const map = this.byDb[db.id]!;
    for (const [key, set] of [...map]) {
      const inEmptied = db.has(key);
      const inReplacement = other !== null && other.has(key);
      if (!inEmptied && !inReplacement) continue;
      for (const client of [...set]) {
        const wk = client.watched.find((w) => w.db === db && w.key === key);
        if (wk !== undefined && wk.expired) {
          // A stale key deleted: no logical change, and it is not stale any more.
          if (!inReplacement) {
            wk.expired = false;
            continue;
          }
          if (isStale(other!, key)) continue;
        } else if (wk !== undefined && !inEmptied && isStale(other!, key)) {
          // Nothing replaced with a stale key: still logically missing.
          wk.expired = true;
          continue;
        }
        client.casDirty = true;
        this.unwatchAll(client);
      }
    }
  }

  /** Databases whose contents moved (SWAPDB) keep their watchers by db id. */
  watchersOf(db: Db, key: string): ReadonlySet<Watcher> | undefined {
    return this.byDb[db.id]!.get(key);
  }
}
