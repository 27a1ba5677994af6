/**
 * Group commit for the AOF (DESIGN.md §6). Clients whose replies could
 * reveal writes that are not on disk yet wait in the durability gate
 * (src/log/gate.ts); this committer writes the log to the AOF once per
 * event-loop turn with writes, fsyncs it under `appendfsync always` (on
 * the event loop while fsyncs are fast, as Redis does; in the thread pool
 * when the disk is slow, the writes that arrive meanwhile forming the next
 * group), and asks the gate to release what became durable.
 */

import type { CommandLog } from '../src/log/command-log.js';
import type { DurabilityGate, Waiter } from '../src/log/gate.js';
import type { AofStore } from './aof/store.js';

/** Under `always`, fsyncs averaging longer than this run in the thread pool instead of on the event loop. */
const FSYNC_ON_LOOP_MAX_MS = 1;

export class GroupCommit {
  private commitScheduled = false;
  /** WAITAOF asked for an fsync outside the everysec rhythm. */
  private fsyncWanted = false;

  constructor(
    private readonly log: CommandLog,
    private readonly aof: AofStore,
    private readonly gate: DurabilityGate,
  ) {}

  /**
   * Hold `w`'s replies until the AOF has what they may reveal; commit at
   * the end of this turn. `alone`: `w` is the only client this turn serves
   * as far as the server can tell (the event loop slept before its input).
   */
  hold(w: Waiter, alone = false): void {
    this.gate.hold(w);
    if (alone && this.commitNowPays()) {
      this.commitNow();
      return;
    }
    // Gathering the next group: it is complete once enough clients are back
    // or its time is up (the timer only has millisecond resolution).
    if (this.gathering !== null && (this.gate.waiting >= this.gatherTarget || performance.now() >= this.gatherUntil)) this.endGathering();
    this.scheduleCommit();
  }

  private scheduleCommit(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() => this.commit());
  }

  /**
   * Under `always`, while fsyncs are fast (fsyncOnLoop), a client alone
   * is committed at once: the AOF written and fsynced and its reply
   * released, all in the read callback that brought its command, without
   * waiting for the turn's setImmediate. One client writing one command at
   * a time (bench/one-client.mjs) went from p50 199 to 159 us (redis-server
   * 151) and from 1.75x to 1.32x redis-server's CPU per request, against
   * the fsync in the thread pool at the end of the turn.
   */
  commitNowPays(): boolean {
    const aof = this.aof;
    return aof.on && this.fsyncOnLoop() && !aof.fsyncInFlight && this.gathering === null && !this.commitScheduled;
  }

  private commitNow(): void {
    this.log.flush();
    const aof = this.aof;
    if (aof.writePending() && aof.fsyncedOffset < aof.writtenOffset) this.fsyncNow();
    this.gate.release();
  }

  /**
   * The fsyncs' recent duration (ms): an average that follows the last few
   * (each new one weighs a fifth), whichever thread ran them.
   */
  private fsyncMsAverage = 0;

  /**
   * Under `always`, is the group's fsync run on the event loop (blocking
   * it, as Redis' is) rather than in the thread pool? Yes while fsyncs are
   * fast. The pool's fsync costs a wake-up of its thread and another of the
   * loop, and the loop, free meanwhile, wakes for each client that writes
   * again during the fsync: 30.2 against 24.6 us of server CPU per SET
   * (redis-benchmark -c 50 -P 1 over 1M keys, one core), 5.25 against 3.90
   * at -P 16, throughput 1.09-1.19x on the event loop. A slow disk (fsyncs
   * of milliseconds) would stall every client for that long each time: the
   * pool takes the fsyncs then, and the loop keeps serving reads.
   */
  private fsyncOnLoop(): boolean {
    return this.aof.policy === 'always' && this.fsyncMsAverage < FSYNC_ON_LOOP_MAX_MS;
  }

  /** fsync on the event loop; false when it failed (the cron tries again: at once it would fail again). */
  private fsyncNow(): boolean {
    const ok = this.aof.syncNow();
    this.noteFsync();
    return ok;
  }

  /** Fold the fsync that just ended (the writer timed it) into the average. */
  private noteFsync(): void {
    const ms = this.aof.lastFsyncMs;
    this.fsyncMsAverage = this.fsyncMsAverage === 0 ? ms : this.fsyncMsAverage * 0.8 + ms * 0.2;
  }

  /** Once per turn with writes: write the AOF, start the group's fsync, release what is durable. */
  commit(): void {
    this.commitScheduled = false;
    // Gathering the next group (afterFsync): it commits when that ends.
    if (this.gathering !== null) return;
    this.log.flush();
    const aof = this.aof;
    // Under `always` nothing is released before the next fsync anyway: while
    // one runs, the group keeps growing in memory and is written in one go.
    if (aof.policy === 'always' && aof.fsyncInFlight) return;
    const wrote = aof.writePending();
    if (wrote && (this.fsyncWanted || aof.policy === 'always') && aof.fsyncedOffset < aof.writtenOffset && !aof.fsyncInFlight) {
      this.fsyncWanted = false;
      this.startFsync();
    }
    this.gate.release();
  }

  /**
   * The server's end-of-turn write of replies: under everysec and no a
   * reply waits only for the AOF write of the log before it, so the log is
   * written here, before the replies go out, as Redis' beforeSleep writes
   * the AOF before the clients' replies; such replies are not held in the
   * gate. Under `always` the committer keeps its own rhythm (one write per
   * fsync while one runs).
   */
  writeBeforeReplies(): void {
    const aof = this.aof;
    if (!aof.on || aof.policy === 'always') return;
    this.log.flush();
    if (aof.bufferLength > 0) aof.writePending();
  }

  /** Cron: retry a failed write, write what is buffered, release what is durable. */
  cron(): void {
    const aof = this.aof;
    if (aof.on && (!aof.lastWriteOk || aof.bufferLength > 0)) {
      this.log.flush();
      if (aof.writePending() && aof.policy === 'always' && aof.fsyncedOffset < aof.writtenOffset && !aof.fsyncInFlight) {
        this.startFsync();
      }
      this.gate.release();
    }
  }

  // Group commit under `always`: while one fsync runs, the next group
  // forms. Started the moment the fsync ends, that group would hold only
  // the clients that wrote during it, while the clients just answered come
  // back a round trip later and wait for the group after: two cohorts
  // alternate, each fsync covering half the writers. Instead the next fsync
  // waits, for at most half the last fsync's duration, until most of the
  // clients just answered have written again: one full group per fsync, as
  // Redis gets from its blocking fsync (the gathering matters most when the
  // fsync runs in the thread pool; on the loop the clients that write during
  // it are read only after it, all at once).
  // The wait is event driven (hold() counts the clients back, a timer ends
  // it): the main thread sleeps in the poll meanwhile rather than spinning
  // through turns, which on one core took CPU from the fsync's own thread.
  /** The timer that ends the gathering at its deadline; null when not gathering. */
  private gathering: NodeJS.Timeout | null = null;
  private gatherTarget = 0;
  private gatherUntil = 0;

  /** The group is complete (or its time is up): commit it at the end of this turn. */
  private endGathering(): void {
    clearTimeout(this.gathering!);
    this.gathering = null;
    this.scheduleCommit();
  }

  private readonly gatherDeadline = (): void => {
    if (this.gathering !== null) this.endGathering();
  };

  /** Have the AOF fsynced soon (WAITAOF under everysec / no). */
  requestFsync(): void {
    if (!this.aof.on) return;
    this.fsyncWanted = true;
    this.scheduleCommit();
  }

  /**
   * Start the group's fsync, on the event loop while fsyncs are fast
   * (fsyncOnLoop), else in the thread pool (afterFsync sizes the gathering
   * by the time the writer measured).
   */
  private startFsync(): void {
    if (this.fsyncOnLoop()) {
      if (this.fsyncNow()) this.afterFsync();
      return;
    }
    this.aof.fsyncAsync(() => {
      this.noteFsync();
      this.afterFsync();
    });
  }

  private afterFsync(): void {
    const fsyncMs = this.aof.lastFsyncMs;
    const released = this.gate.release();
    if (this.aof.fsyncedOffset >= this.log.offset || !(this.fsyncWanted || this.aof.policy === 'always')) return;
    if (this.aof.policy === 'always' && released > 1) {
      this.gatherTarget = this.gate.waiting + Math.ceil(released * 0.75);
      const ms = Math.min(2, fsyncMs / 2);
      this.gatherUntil = performance.now() + ms;
      // Ends it if no client comes back by then (hold() checks the deadline too).
      this.gathering = setTimeout(this.gatherDeadline, Math.max(1, Math.round(ms)));
      return;
    }
    this.commit();
  }
}
