/**
 * The engine: the databases, time, expiry, and the path from a change to
 * the command log. Commands mutate a Db through the engine's helpers and
 * describe what they did as effect records (emit); at the end of the
 * top-level command those records are appended to the log, wrapped in
 * MULTI/EXEC when there is more than one (DESIGN.md §1).
 *
 * An Engine owns all of its state; nothing here is module-global, so
 * several engines can live in one process (DESIGN.md §8).
 */

import { materialize } from '../protocol/deferred-arg.js';
import { Db } from './keyspace.js';
import { WatchRegistry } from './watch.js';
import type { CommandLog } from '../log/command-log.js';
import { ReadyKeys } from './ready-keys.js';
import type { Value } from '../types/value.js';
import { Clock } from './clock.js';
import { AccessPolicy } from './access.js';
import { EncodingLimits } from '../types/limits.js';
import { Evictor } from './evict.js';

/** A request parser's view of the last command's canonical bytes. */
export interface RawSource {
  readonly rawArgv: string[] | null;
  readonly rawBuffer: Buffer;
  readonly rawStart: number;
  readonly rawEnd: number;
}

export interface Effect {
  db: number;
  argv: string[];
}

/** Counters reported by INFO stats / keyspace. */
export class EngineStats {
  keyspaceHits = 0;
  keyspaceMisses = 0;
  expiredKeys = 0;
  expiredStalePerc = 0;
  expiredTimeCapReached = 0;
  expireCycleCpuMs = 0;
  evictedKeys = 0;
}

export interface EngineOptions {
  databases: number;
  log: CommandLog;
}

/** Keyspace event classes (notify-keyspace-events letters). */
export const NOTIFY = {
  GENERIC: 'g',
  STRING: '$',
  LIST: 'l',
  SET: 's',
  HASH: 'h',
  ZSET: 'z',
  EXPIRED: 'x',
  EVICTED: 'e',
  STREAM: 't',
  KEY_MISS: 'm',
  NEW: 'n',
} as const;
export type NotifyClass = (typeof NOTIFY)[keyof typeof NOTIFY];

/**
 * Changes that cannot end a blocked client's wait: a new consumer adds no
 * entry and removes neither the key nor a group. Redis does not mark the
 * key ready for it; waking the stream's waiters would only run their reads
 * again to find nothing (refreshing their consumers' seen-time). Group and
 * consumer changes send their event alone (groupChanged), the group's
 * other bookkeeping nothing at all (groupStateChanged).
 */
const NEVER_ENDS_A_WAIT = new Set(['xgroup-createconsumer']);

/** Receives keyspace events (notifications, client tracking and snapshots subscribe). */
export type KeyspaceListener = (cls: NotifyClass, event: string, key: string, db: number) => void;

/**
 * Client-side caching's view of the change signal (src/tracking/ implements
 * it): Redis' signalModifiedKey and signalFlushedDb. Unlike a keyspace
 * listener it learns which execution context made the change (CLIENT
 * TRACKING ... NOLOOP leaves out the client's own changes).
 */
export interface KeyInvalidator {
  /**
   * `key` (in any database: tracking does not tell them apart) was modified
   * by the command running on context `by`, an identity only compared, or
   * by the server itself (an expiry) when null.
   */
  keyModified(key: string, by: object | null): void;
  /** Databases were emptied or replaced as a whole: every cached key is stale. */
  flushed(): void;
}

export class Engine {
  readonly dbs: Db[];
  readonly log: CommandLog;
  readonly watches: WatchRegistry;
  readonly stats = new EngineStats();
  /** Encoding thresholds (hash-max-listpack-entries and friends). */
  readonly limits = new EncodingLimits();
  /** Per-key access tracking under the eviction policy (OBJECT IDLETIME / FREQ). */
  readonly access = new AccessPolicy();
  /** Chooses and deletes keys under maxmemory (evict.ts); the server decides when. */
  readonly evictor: Evictor = new Evictor(this);
  /** The running command must not update access times (CLIENT NO-TOUCH). */
  noTouch = false;
  /** Changes since the last successful save (rdb_changes_since_last_save). */
  dirty = 0;
  /** Time snapshot of the running command, ms since the epoch. */
  now = Date.now();
  readonly clock = new Clock();
  /**
   * A replica hides expired keys but never deletes them itself, and logs
   * no effect of its own (its log holds the primary's stream).
   */
  isReplica = false;
  /**
   * Applying the primary's stream: a key exists until the primary deletes
   * it, whatever its TTL says here (Redis' expireIfNeeded for the master
   * client). The primary sends the DEL before it acts on an expired key.
   */
  obeyingPrimary = false;
  /**
   * While true (CLIENT PAUSE), expired keys are hidden but not deleted: a
   * paused primary must not write, and its replicas must not diverge.
   */
  expiryPaused = false;
  /** Loading a dataset: nothing expires, past TTLs are kept (Redis' server.loading). */
  get loading(): boolean {
    return this.access.loading;
  }
  set loading(on: boolean) {
    // Loaded keys are created "now" as a group: they share one access word.
    if (on) this.access.startLoad(this.clock.wallMs());
    else this.access.endLoad();
  }
  /**
   * Where work the engine's users do between commands reports its duration
   * (a snapshot slice: Vireo's `snapshot-slice` latency event); the server
   * points it at the latency monitor.
   */
  latencySink: ((event: string, ms: number) => void) | null = null;
  /**
   * Run `work` (a background slice: a snapshot's) once the replies of this
   * event-loop turn have gone out. Called from a setImmediate: the server
   * queues its replies in one too, and a slice queued earlier would run
   * first and hold a reply back by a whole slice. Default: at once.
   */
  afterReplies: (work: () => void) => void = (work) => work();
  /** Keyspace listeners: every change signal reaches each of them. */
  readonly keyspaceListeners: KeyspaceListener[] = [];
  /** Client-side caching (CLIENT TRACKING), told of every modified key and flush. */
  invalidator: KeyInvalidator | null = null;
  /** Keys blocked clients wait on, and those filled by the running command. */
  readonly readyKeys: ReadyKeys;
  /** Change signals and effects so far (the test-mode check compares them per command). */
  changeCount = 0;
  effectCount = 0;

  // Effects of the running unit. The first one is kept in fields so the
  // common single-write command allocates nothing extra.
  private firstDb = -1;
  private firstArgv: string[] | null = null;
  private moreEffects: Effect[] | null = null;
  private depth = 0;
  private hasFirst = false;
  // Where the running command came from when it arrived as canonical RESP:
  // an effect equal to its argv is logged by copying those bytes (and the
  // argv itself is not even stored: fewer old-to-young pointers per write).
  private src: RawSource | null = null;
  private firstRaw = false;

  constructor(opts: EngineOptions) {
    this.dbs = Array.from({ length: opts.databases }, (_, i) => new Db(i, this.access));
    this.log = opts.log;
    this.watches = new WatchRegistry(opts.databases);
    this.readyKeys = new ReadyKeys(opts.databases);
  }

  /** Db.compactIndexes over every database; returns the bytes left to the next collection. */
  compactIndexes(): number {
    let freed = 0;
    for (const db of this.dbs) freed += db.compactIndexes();
    return freed;
  }

  // ---- command boundaries ---------------------------------------------

  /** Start a top-level execution unit (a command, EXEC, a script). */
  begin(): void {
    if (this.depth++ === 0) this.now = this.access.nowMs = this.clock.wallMs();
  }

  /** Inside an execution unit (a command, EXEC, a script) right now. */
  get inUnit(): boolean {
    return this.depth > 0;
  }

  /** Tell the engine where the command about to run came from (see src). */
  setSource(src: RawSource): void {
    this.src = src;
  }

  /**
   * Called as the outermost unit is about to end, while it is still open:
   * what it does joins the unit's record (the change feed appends there).
   */
  beforeCommit: (() => void) | null = null;

  /** End it: its effects enter the log as one atomic record. */
  end(): void {
    if (this.depth === 1 && this.beforeCommit !== null) this.beforeCommit();
    if (--this.depth > 0) return;
    const src = this.src;
    this.src = null;
    if (!this.hasFirst) return;
    this.hasFirst = false;
    const first = this.firstRaw ? src!.rawArgv! : this.firstArgv!;
    const more = this.moreEffects;
    if (!this.firstRaw) this.firstArgv = null;
    if (more !== null) this.moreEffects = null;
    // Replaying a file: its records are already on disk, they must not be logged again.
    if (this.loading) return;
    if (more === null && this.firstRaw) {
      this.log.appendRaw(this.firstDb, src!.rawBuffer, src!.rawStart, src!.rawEnd);
      return;
    }
    // Re-encoded (with other effects: an expired key's DEL before it): a SET's value left in the query buffer becomes a string.
    if (src !== null && src.rawArgv !== null) materialize(src.rawArgv);
    if (more === null) this.log.append(this.firstDb, first);
    else this.log.appendAtomic([{ db: this.firstDb, argv: first }, ...more]);
  }

  /** Record an effect of the running command and count `changes` toward dirty. */
  emit(db: number, argv: string[], changes = 1): void {
    // Replaying a file (start-up, DEBUG LOADAOF inside a command): its
    // records are on disk already and must not be logged again.
    if (this.loading) return;
    this.dirty += changes;
    this.effectCount++;
    // A replica's log is its primary's stream byte for byte: nothing of its own enters it.
    if (this.isReplica) return;
    if (!this.hasFirst) {
      this.hasFirst = true;
      this.firstDb = db;
      const src = this.src;
      if (src !== null && argv === src.rawArgv) this.firstRaw = true;
      else {
        this.firstRaw = false;
        this.firstArgv = argv;
      }
    } else if (this.moreEffects === null) {
      this.moreEffects = [{ db, argv }];
    } else {
      this.moreEffects.push({ db, argv });
    }
  }

  /**
   * Record an effect that needs no atomicity with the rest of its command
   * (DEBUG POPULATE's SETs): while the command is a unit of its own that has
   * recorded nothing else, it goes to the log at once, so a populate of
   * millions of keys does not hold millions of effects (promoted to the old
   * generation, a gigabyte at 5M keys) until it ends. Elsewhere (inside
   * EXEC or a script), an ordinary effect of the unit.
   */
  emitStandalone(db: number, argv: string[]): void {
    if (this.depth === 1 && !this.hasFirst && !this.loading && !this.isReplica) this.appendNow(db, argv);
    else this.emit(db, argv);
  }

  /**
   * An effect the engine itself causes (an expired key's DEL): inside a
   * unit it joins the unit's record where it happened, so a transaction
   * replays in order (Redis propagates it inside the MULTI/EXEC too);
   * outside one (the active expire cycle) it is appended at once.
   */
  private emitOwn(db: number, argv: string[]): void {
    if (this.depth > 0) {
      this.emit(db, argv);
      return;
    }
    if (this.loading || this.isReplica) return;
    this.appendNow(db, argv);
  }

  /** An effect that is a log record of its own: appended now, counted toward dirty. */
  private appendNow(db: number, argv: string[]): void {
    this.log.append(db, argv);
    this.dirty++;
    this.effectCount++;
  }

  /** A TTL already in the past is stored rather than deleting the key (replicas, loading). */
  get keepsPastTtl(): boolean {
    return this.isReplica || this.loading;
  }

  // ---- lookups ----------------------------------------------------------

  /** True if the key exists but its TTL has passed. */
  isExpired(db: Db, key: string): boolean {
    if (db.volatileCount === 0 || this.loading || this.obeyingPrimary) return false;
    const when = db.getExpire(key);
    return when >= 0 && this.now > when;
  }

  /** isExpired as a callback for the WATCH registry. */
  private readonly isStaleForWatch = (db: Db, key: string): boolean => this.isExpired(db, key);

  /**
   * Lazy expiry: if the key's TTL passed, delete it (on a primary) and log
   * the DEL. Returns true if the key is logically gone.
   */
  expireIfNeeded(db: Db, key: string): boolean {
    if (!this.isExpired(db, key)) return false;
    if (this.isReplica || this.expiryPaused) return true;
    this.deleteExpired(db, key);
    return true;
  }

  /** Delete an expired key and propagate the deletion. */
  deleteExpired(db: Db, key: string): void {
    db.delete(key);
    this.stats.expiredKeys++;
    this.changed(db, key, NOTIFY.EXPIRED, 'expired');
    this.emitOwn(db.id, ['DEL', key]);
  }

  /** Delete a key chosen by eviction and propagate the deletion (Redis' deleteEvictedKeyAndPropagate). */
  deleteEvicted(db: Db, key: string): void {
    db.delete(key);
    this.stats.evictedKeys++;
    this.changed(db, key, NOTIFY.EVICTED, 'evicted');
    this.emitOwn(db.id, ['DEL', key]);
  }

  /**
   * Look a key up for reading: expiry applied, hit/miss counted, access
   * time updated unless `touch` is false (Redis' LOOKUP_NOTOUCH: EXISTS,
   * TYPE, TTL) or the client is in CLIENT NO-TOUCH mode.
   */
  lookupRead(db: Db, key: string, touch = true): Value | undefined {
    const v = db.get(key);
    if (v === undefined) {
      this.keyMissed(db, key);
      return undefined;
    }
    if (db.volatileCount > 0 && this.expireIfNeeded(db, key)) {
      this.keyMissed(db, key);
      return undefined;
    }
    this.stats.keyspaceHits++;
    if (touch && !this.noTouch) db.touchAccess(key, v);
    return v;
  }

  /**
   * lookupRead of a key holding a string in the string store: its record
   * (GET copies the reply from there, no JS string made), or 0 when the key
   * is not such a one, or has expired; lookupRead then answers for it.
   */
  lookupReadRecord(db: Db, key: string): number {
    const ref = db.stringRecordOf(key);
    if (ref === 0) return 0;
    if (db.volatileCount > 0 && this.expireIfNeeded(db, key)) return 0;
    this.stats.keyspaceHits++;
    if (!this.noTouch) db.touchRecord(ref);
    return ref;
  }

  /** Look a key up for writing: expiry applied, no stats, access time updated (unless CLIENT NO-TOUCH). */
  lookupWrite(db: Db, key: string): Value | undefined {
    const v = db.get(key);
    if (v === undefined) return undefined;
    if (db.beforeChange !== null) db.touchForWrite(key);
    if (db.volatileCount > 0 && this.expireIfNeeded(db, key)) return undefined;
    if (!this.noTouch) db.touchAccess(key, v);
    return v;
  }

  /** Existence without touching stats (EXISTS, TYPE use their own rules). */
  exists(db: Db, key: string): boolean {
    return this.lookupWrite(db, key) !== undefined;
  }

  // ---- mutations --------------------------------------------------------

  // Mutations change the tables only: the command signals each change
  // once, through its context (ExecContext.changed), beside its effect.

  /**
   * Store a value (Redis setKey): overwrites, clears the TTL unless keepTtl.
   * A key that did not exist (or had expired) raises the `new` keyspace
   * event (Redis' dbAdd).
   */
  setKey(db: Db, key: string, value: Value, keepTtl = false): void {
    // Redis' setKey looks the key up for writing first: an expired one is deleted (`expired`), then added (`new`).
    if (db.volatileCount > 0) this.expireIfNeeded(db, key);
    if (db.set(key, value)) this.keyAdded(db, key);
    else if (!keepTtl && db.volatileCount > 0) db.removeExpire(key);
  }

  /** setKey with a TTL: store `value` with absolute expiry `when` (ms). */
  setKeyWithExpire(db: Db, key: string, value: Value, when: number): void {
    if (db.volatileCount > 0) this.expireIfNeeded(db, key);
    if (db.setWithExpire(key, value, when)) this.keyAdded(db, key);
  }

  /** A read found no key: counted, and the `keymiss` event (a notification only). */
  private keyMissed(db: Db, key: string): void {
    this.stats.keyspaceMisses++;
    this.tellListeners(NOTIFY.KEY_MISS, 'keymiss', key, db);
  }

  /** The `new` event: a notification only (the command's own change signal follows it). */
  private keyAdded(db: Db, key: string): void {
    this.tellListeners(NOTIFY.NEW, 'new', key, db);
  }

  /** Hand one keyspace event to every listener (notifications, the change feed). */
  private tellListeners(cls: NotifyClass, event: string, key: string, db: Db): void {
    const listeners = this.keyspaceListeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]!(cls, event, key, db.id);
  }

  /** Delete a key; returns false if it did not exist. */
  deleteKey(db: Db, key: string): boolean {
    return db.delete(key);
  }

  /**
   * The change signal (Redis' signalModifiedKey plus notifyKeyspaceEvent):
   * breaks WATCHes, marks the key ready for clients blocked on it (unless
   * the change cannot end a wait), invalidates the key for client-side
   * caching, and tells every keyspace listener. Reached through
   * ExecContext.changed (`by`: that context), or with null for the
   * server's own changes (expiry).
   */
  changed(db: Db, key: string, cls: NotifyClass, event: string, by: object | null = null): void {
    this.changeCount++;
    this.watches.touch(db, key);
    // The event is looked up only while some client waits on a key (a Set lookup on every write otherwise).
    if (this.readyKeys.totalBlockingKeys > 0 && !NEVER_ENDS_A_WAIT.has(event)) this.readyKeys.signal(db, key);
    // A key-miss event reports a read, not a change.
    if (this.invalidator !== null && cls !== NOTIFY.KEY_MISS) this.invalidator.keyModified(key, by);
    this.tellListeners(cls, event, key, db);
  }

  /**
   * Redis' signalModifiedKey alone: breaks WATCHes and invalidates
   * client-side caches, with no keyspace event (PFCOUNT refreshing the
   * cardinality it caches inside the value).
   */
  modified(db: Db, key: string, by: object | null = null): void {
    this.changeCount++;
    this.watches.touch(db, key);
    if (this.invalidator !== null) this.invalidator.keyModified(key, by);
  }

  /**
   * A consumer group or consumer was made, moved or removed (XGROUP
   * CREATE/SETID/DESTROY/CREATECONSUMER/DELCONSUMER, XSETID, a consumer
   * made by XREADGROUP or XCLAIM): Redis sends the keyspace event but no
   * signalModifiedKey, so WATCH and client-side caches are not told (a
   * transaction watching the stream still runs). `wake`: mark the key ready
   * (XGROUP DESTROY: readers blocked on the group answer NOGROUP).
   */
  groupChanged(db: Db, key: string, event: string, wake = false): void {
    this.changeCount++;
    if (wake) this.readyKeys.signal(db, key);
    this.tellListeners(NOTIFY.STREAM, event, key, db);
  }

  /**
   * A consumer group's own state changed (XREADGROUP delivering, XACK,
   * XCLAIM, XAUTOCLAIM): a write, but Redis signals nothing for it: no
   * keyspace event, no WATCH or client-side cache invalidation.
   */
  groupStateChanged(): void {
    this.changeCount++;
  }

  /** Empty one database (FLUSHDB) or all (FLUSHALL). Returns keys removed. */
  flush(db: Db | null): number {
    this.changeCount++;
    this.signalFlushed();
    let removed = 0;
    for (const d of db === null ? this.dbs : [db]) {
      this.watches.touchAll(d, null, this.isStaleForWatch);
      removed += d.size;
      d.clear();
    }
    return removed;
  }

  /**
   * Every key a client may cache is stale: a database was emptied or
   * replaced as a whole (Redis sends tracking clients a null invalidation).
   */
  signalFlushed(): void {
    if (this.invalidator !== null) this.invalidator.flushed();
  }

  swapDbs(a: Db, b: Db): void {
    this.watches.touchAll(a, b, this.isStaleForWatch);
    this.watches.touchAll(b, a, this.isStaleForWatch);
    a.swapWith(b);
    this.changeCount++;
    // Clients blocked in either db may find their keys filled now (Redis' scanDatabaseForReadyKeys).
    this.readyKeys.signalAll(a);
    this.readyKeys.signalAll(b);
  }

  /** Total keys over all databases. */
  get totalKeys(): number {
    let n = 0;
    for (const d of this.dbs) n += d.size;
    return n;
  }
}
