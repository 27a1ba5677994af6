/**
 * Ready keys (Redis' signalKeyAsReady / handleClientsBlockedOnKeys): which
 * keys blocked clients wait on, and which of them were created or filled by
 * the running command. The keys are served once the command (or the whole
 * EXEC) has completed, so a client never sees a half-done transaction; the
 * clients blocked on one key are served in the order they blocked.
 */

import type { Db } from './keyspace.js';

/** A client waiting for keys to be filled (BLPOP and friends; tests). */
export interface KeyWaiter {
  /** Try to serve it now that `key` in `db` may hold data; true when it was served (it then unblocks). */
  tryServe(db: Db, key: string): boolean;
  /** It also wants to know when the key is deleted (XREADGROUP): INFO total_blocking_keys_on_nokey. */
  readonly onNoKey?: boolean;
}

export class ReadyKeys {
  /** Per db id: key -> waiters, in the order they blocked. */
  private readonly waiting: Map<string, KeyWaiter[]>[];
  private readonly ready: { db: Db; key: string }[] = [];
  /** "db\0key" already queued in `ready` during this unit. */
  private readonly queued = new Set<string>();
  private blockedKeys = 0;

  constructor(databases: number) {
    this.waiting = Array.from({ length: databases }, () => new Map());
  }

  /** Keys with at least one waiter (INFO total_blocking_keys). */
  get totalBlockingKeys(): number {
    return this.blockedKeys;
  }

  /** Keys with at least one waiter that also wakes on their deletion (INFO total_blocking_keys_on_nokey). */
  get totalBlockingKeysOnNoKey(): number {
    let n = 0;
    for (const map of this.waiting) for (const list of map.values()) if (list.some((w) => w.onNoKey === true)) n++;
    return n;
  }

  get hasReady(): boolean {
    return this.ready.length > 0;
  }

  /** `w` waits on `key` in `db`, after everyone already waiting there. */
  block(db: Db, key: string, w: KeyWaiter): void {
    const map = this.waiting[db.id]!;
    const list = map.get(key);
    if (list === undefined) {
      map.set(key, [w]);
      this.blockedKeys++;
    } else if (!list.includes(w)) list.push(w);
  }

  /** `w` no longer waits on `key` (served, timed out, disconnected). */
  unblock(db: Db, key: string, w: KeyWaiter): void {
    const map = this.waiting[db.id]!;
    const list = map.get(key);
    if (list === undefined) return;
    const i = list.indexOf(w);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) {
      map.delete(key);
      this.blockedKeys--;
    }
  }

  /** The change signal's part: a key somebody waits on changed; serve them later. */
  signal(db: Db, key: string): void {
    if (this.blockedKeys === 0) return;
    if (!this.waiting[db.id]!.has(key)) return;
    const id = `${db.id}\0${key}`;
    if (this.queued.has(id)) return;
    this.queued.add(id);
    this.ready.push({ db, key });
  }

  /**
   * Serve the waiters of every ready key, first come first served. A waiter
   * that is served may write and so make more keys ready: they are handled
   * in the same call, as Redis loops until the list is empty.
   */
  serve(): void {
    while (this.ready.length > 0) {
      const batch = this.ready.splice(0);
      this.queued.clear();
      for (const { db, key } of batch) {
        const list = this.waiting[db.id]!.get(key);
        if (list === undefined) continue;
        // Each waiter in turn, in the order they blocked. A served waiter
        // unblocks itself (removing it from `list`); one that is not served
        // (the key is empty again, or of another type) keeps waiting.
        for (const w of [...list]) {
          if (list.includes(w)) w.tryServe(db, key);
        }
      }
    }
  }

  /** Every key anybody waits on, in every db (a pause that held serving ended). */
  signalEveryWaitedKey(dbs: readonly Db[]): void {
    for (const db of dbs) this.signalAll(db);
  }

  /** FLUSHALL/SWAPDB and friends: every key of `db` may have changed. */
  signalAll(db: Db): void {
    for (const key of this.waiting[db.id]!.keys()) this.signal(db, key);
  }
}
