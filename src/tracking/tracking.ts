/**
 * Client-side caching (CLIENT TRACKING), as Redis 7.2's tracking.c:
 *
 * - Default mode: after a read-only command of a tracking client, the keys
 *   it read (Redis' getKeysFromCommand: the command's getkeys procedure,
 *   else its legacy key range) are remembered in the tracking table. The
 *   first change of such a key sends each of those clients one
 *   invalidation and forgets the key. OPTIN / OPTOUT with CLIENT CACHING
 *   choose which reads are remembered; NOLOOP leaves out the client's own
 *   changes.
 * - BCAST: nothing is remembered; every change of a key under a prefix is
 *   collected and broadcast once per event-loop turn (Redis' beforeSleep).
 * - A flush (FLUSHALL, FLUSHDB, a replica's new dataset) sends every
 *   tracking client a null invalidation and empties the table.
 * - Messages are RESP3 pushes (`invalidate`), or with REDIRECT go to
 *   another client: a push if it speaks RESP3, a Pub/Sub `message` on
 *   __redis__:invalidate if it is a RESP2 client in Pub/Sub mode, else
 *   nothing (sendTrackingMessage).
 * - A client's own invalidations wait until the reply of the command that
 *   caused them (Redis' tracking_pending_keys), so they never land inside it.
 */

import type { KeyInvalidator } from '../engine/engine.js';
import type { Connection, TrackingControl, TrackingOptions } from '../commands/context.js';
import { F, type Command } from '../commands/table.js';
import { ClientTracking, type TrackingClient, type TrackingHost } from './client.js';
import { PrefixTable } from './prefixes.js';
import { TRACKING_TABLE_HARD_LIMIT, TrackingTable, idsInRedisOrder } from './table.js';

/** Read-only commands whose keys are not remembered: the commands their script runs are. */
const SCRIPT_RUNNERS = new Set(['eval_ro', 'evalsha_ro', 'fcall_ro']);

const INVALIDATION_CHANNEL = '__redis__:invalidate';
const NULL_RESP2 = Buffer.from('$-1\r\n', 'latin1');
const NULL_RESP3 = Buffer.from('_\r\n', 'latin1');

/** What one invalidation message carries: a key, keys (BCAST), or null (everything: a flush). */
type Invalidated = string | readonly string[] | null;

/** An invalidation held until the command running now has replied. */
interface Deferred {
  tracker: TrackingClient;
  keys: Invalidated;
}

export class Tracking implements KeyInvalidator, TrackingControl {
  private readonly table = new TrackingTable();
  private readonly prefixes = new PrefixTable();
  /** Clients with tracking on. */
  private readonly trackers = new Set<TrackingClient>();
  /**
   * Redis' server.current_client: the client whose command is being
   * processed (set by the server around each command), else null.
   */
  current: TrackingClient | null = null;
  /** `current` is inside its command: invalidations addressed to it wait (Redis' CLIENT_EXECUTING_COMMAND). */
  executing = false;
  private readonly deferred: Deferred[] = [];
  /** Consecutive limit checks that ended over tracking-table-max-keys (Redis' timeout_counter). */
  private overLimitRuns = 0;

  constructor(private readonly host: TrackingHost) {}

  // ---- INFO -------------------------------------------------------------------

  /** tracking_clients */
  get clientCount(): number {
    return this.trackers.size;
  }

  /** tracking_total_keys */
  get totalKeys(): number {
    return this.table.size;
  }

  /** tracking_total_items */
  get totalItems(): number {
    return this.table.items;
  }

  /** tracking_total_prefixes */
  get totalPrefixes(): number {
    return this.prefixes.size;
  }

  // ---- CLIENT TRACKING (TrackingControl) -----------------------------------------------

  stateOf(conn: Connection): ClientTracking | null {
    return this.host.clientById(conn.id)?.tracking ?? null;
  }

  enable(conn: Connection, opts: TrackingOptions): void {
    const c = this.host.clientById(conn.id);
    if (c === undefined) return;
    let t = c.tracking;
    if (t === null) {
      t = new ClientTracking();
      c.tracking = t;
      this.trackers.add(c);
    }
    t.redirect = opts.redirect;
    t.brokenRedirect = false;
    t.bcast = opts.bcast;
    t.optin = opts.optin;
    t.optout = opts.optout;
    t.noloop = opts.noloop;
    if (!opts.bcast) return;
    // Prefixes given before stay (switching BCAST needs tracking off first).
    for (const prefix of opts.prefixes.length === 0 ? [''] : opts.prefixes) {
      if (t.prefixes.has(prefix)) continue;
      t.prefixes.add(prefix);
      this.prefixes.subscribe(prefix, c);
    }
  }

  /**
   * Tracking off (CLIENT TRACKING OFF, RESET, disconnection). The table
   * keeps the client's ID under the keys it read: Redis forgets them lazily,
   * when the key changes.
   */
  disable(conn: Connection): void {
    const c = this.host.clientById(conn.id);
    if (c !== undefined) this.forget(c);
  }

  /** Tracking off for `c` (also once it is no longer among the server's clients). */
  forget(c: TrackingClient): void {
    const t = c.tracking;
    if (t === null) return;
    for (const prefix of t.prefixes) this.prefixes.unsubscribe(prefix, c);
    this.trackers.delete(c);
    c.tracking = null;
  }

  setCaching(conn: Connection): void {
    const t = this.stateOf(conn);
    if (t !== null) t.caching = true;
  }

  // ---- reads (the server calls these around commands) ----------------------------------

  /**
   * A read-only command ran for `c` (or for its script): remember the keys
   * it read, unless OPTIN without CLIENT CACHING YES or OPTOUT with CLIENT
   * CACHING NO. The caller checks the READONLY flag and that `c` tracks.
   */
  rememberKeys(c: TrackingClient, cmd: Command, argv: readonly string[]): void {
    const t = c.tracking;
    if (t === null || t.bcast) return;
    if (t.optin ? !t.caching : t.optout && t.caching) return;
    // Shard channels of SSUBSCRIBE-like commands are keys only for routing.
    if (cmd.flags & F.PUBSUB || SCRIPT_RUNNERS.has(cmd.name)) return;
    if (cmd.getKeys !== null) {
      for (const ref of cmd.getKeys(argv)) this.remember(argv[ref.pos]!, c.id);
      return;
    }
    // Redis' getKeysUsingLegacyRangeSpec: no key at all when the range runs past the arguments.
    const { first, step } = cmd.legacy;
    if (first === 0 || step < 1) return;
    const last = cmd.legacy.last < 0 ? argv.length + cmd.legacy.last : cmd.legacy.last;
    if (first >= argv.length || last >= argv.length) return;
    for (let i = first; i <= last; i += step) this.remember(argv[i]!, c.id);
  }

  private remember(key: string, id: number): void {
    // The table must not outgrow a V8 Map: make room as the limit would.
    if (this.table.size >= TRACKING_TABLE_HARD_LIMIT) this.evictOne();
    this.table.remember(key, id);
  }

  /**
   * After a command was processed (run, queued or refused): CLIENT CACHING
   * applies to the next command only, or to the next transaction when
   * given before MULTI, as Redis' resetClient clears it.
   */
  commandProcessed(c: TrackingClient, inTransaction: boolean, wasClientCommand: boolean): void {
    const t = c.tracking;
    if (t !== null && !inTransaction && !wasClientCommand) t.caching = false;
  }

  // ---- changes (the engine's change signal, KeyInvalidator) ---------------------------------

  keyModified(key: string, by: object | null): void {
    if (this.prefixes.size > 0 && this.prefixes.keyModified(key, by)) this.host.scheduleBroadcast();
    if (this.table.size > 0) this.invalidate(key);
  }

  flushed(): void {
    for (const c of this.trackers) this.sendOrDefer(c, null);
    this.table.clear();
  }

  /** Send the invalidation of `key` to every client that tracked it, and forget it (trackingInvalidateKey). */
  private invalidate(key: string): void {
    const ids = this.table.take(key);
    if (ids === undefined) return;
    if (typeof ids === 'number') this.invalidateFor(ids, key);
    else for (const id of idsInRedisOrder(ids)) this.invalidateFor(id, key);
  }

  private invalidateFor(id: number, key: string): void {
    const c = this.host.clientById(id);
    // A client that turned tracking off, or to BCAST, since it read the key gets nothing.
    if (c === undefined || c.tracking === null || c.tracking.bcast) return;
    if (c.tracking.noloop && c === this.current) return;
    this.sendOrDefer(c, key);
  }

  /** The table holds more keys than tracking-table-max-keys: invalidate random keys (trackingLimitUsedSlots). */
  enforceLimit(): void {
    const max = this.host.trackingTableMaxKeys;
    if (max === 0) return;
    if (this.table.size <= max) {
      this.overLimitRuns = 0;
      return;
    }
    // The effort grows while the table stays over the limit, as in Redis.
    for (let effort = 100 * (this.overLimitRuns + 1); effort > 0; effort--) {
      if (!this.evictOne()) break;
      if (this.table.size <= max) {
        this.overLimitRuns = 0;
        return;
      }
    }
    this.overLimitRuns++;
  }

  /** Invalidate one random key of the table, as if it changed (no BCAST). False when empty. */
  private evictOne(): boolean {
    const key = this.table.randomKey();
    if (key === undefined) return false;
    this.invalidate(key);
    return true;
  }

  // ---- BCAST ---------------------------------------------------------------------------------

  /** Send what BCAST clients wait for: each prefix's keys changed since the last turn. */
  broadcast(): void {
    if (!this.prefixes.hasPending) return;
    for (const p of this.prefixes.drain()) {
      const keys = [...p.pending.keys()].sort();
      for (const c of p.clients) {
        const t = c.tracking;
        if (t === null) continue;
        if (!t.noloop) {
          this.sendOrDefer(c, keys);
          continue;
        }
        // NOLOOP: not the keys this client itself changed last.
        const others = keys.filter((k) => p.pending.get(k) !== c.ctx);
        if (others.length > 0) this.sendOrDefer(c, others);
      }
    }
  }

  // ---- delivery ---------------------------------------------------------------------------------

  /** Send now, or after the running command's reply when it concerns the client running it. */
  private sendOrDefer(tracker: TrackingClient, keys: Invalidated): void {
    if (this.executing && tracker === this.current) this.deferred.push({ tracker, keys });
    else this.send(tracker, keys);
  }

  /** The running command replied: send the invalidations that waited for it. */
  sendDeferred(): void {
    const list = this.deferred;
    for (let i = 0; i < list.length; i++) this.send(list[i]!.tracker, list[i]!.keys);
    list.length = 0;
  }

  /** Invalidations wait for the running command's reply. */
  get hasDeferred(): boolean {
    return this.deferred.length > 0;
  }

  /** sendTrackingMessage: write the message where `tracker`'s invalidations go. */
  private send(tracker: TrackingClient, keys: Invalidated): void {
    const redirect = tracker.tracking?.redirect ?? 0;
    let to = tracker;
    if (redirect !== 0) {
      const target = this.host.clientById(redirect);
      if (target === undefined) {
        this.redirectBroken(tracker, redirect);
        return;
      }
      to = target;
      // Never inside the reply of a command the receiving client is running.
      if (this.executing && to === this.current) {
        this.deferred.push({ tracker, keys });
        return;
      }
    }
    const w = to.reply;
    const muted = w.muted;
    // Pushes reach a client even under CLIENT REPLY OFF (Redis' CLIENT_PUSHING).
    w.muted = false;
    if (w.resp === 3) {
      w.push(2);
      w.bulk('invalidate');
    } else if (redirect !== 0 && to.inPubSubMode()) {
      w.array(3);
      w.bulk('message');
      w.bulk(INVALIDATION_CHANNEL);
    } else {
      // RESP2 without redirection (or to a client not in Pub/Sub mode): nowhere to say it.
      w.muted = muted;
      return;
    }
    if (keys === null) {
      // Redis writes the null of the tracking client's protocol; a RESP2 connection never gets RESP3's.
      w.rawBytes(tracker.reply.resp === 3 && w.resp === 3 ? NULL_RESP3 : NULL_RESP2);
    } else if (typeof keys === 'string') {
      w.array(1);
      w.bulk(keys);
    } else {
      w.array(keys.length);
      for (let i = 0; i < keys.length; i++) w.bulk(keys[i]!);
    }
    w.muted = muted;
    if (to !== this.current) this.host.outputReady(to);
  }

  /** The redirect client is gone: say so to a RESP3 tracking client, each time a message is lost. */
  private redirectBroken(tracker: TrackingClient, redirect: number): void {
    tracker.tracking!.brokenRedirect = true;
    const w = tracker.reply;
    if (w.resp !== 3) return;
    const muted = w.muted;
    w.muted = false;
    w.push(2);
    w.bulk('tracking-redir-broken');
    w.integer(redirect);
    w.muted = muted;
    if (tracker !== this.current) this.host.outputReady(tracker);
  }
}
