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
   * FLUSHDB/FLUSHALL/SWAPDB: every watched key of `db` that exists (in `db`,
   * or in `other` for SWAPDB) counts as modified.
   */
  touchAll(db: Db, other: Db | null = null): void {
    const map = this.byDb[db.id]!;
    for (const [key, set] of [...map]) {
      const exists = db.has(key) || (other !== null && other.has(key));
      if (!exists) continue;
      for (const client of [...set]) {
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
