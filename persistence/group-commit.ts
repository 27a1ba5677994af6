/**
 * Group commit for the AOF (DESIGN.md §6). Clients whose replies could
 * reveal writes that are not on disk yet wait in the durability gate
 * (src/log/gate.ts); this committer writes the log to the AOF once per
 * event-loop turn with writes, starts the fsync under `appendfsync always`
 * (in the thread pool; the writes that arrive meanwhile form the next
 * group), and asks the gate to release what became durable.
 */

import type { CommandLog } from '../src/log/command-log.js';
import type { DurabilityGate, Waiter } from '../src/log/gate.js';
import type { AofStore } from './aof/store.js';

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
   * Under `always`, a client alone is committed at once: the AOF written
   * and fsynced on the main thread and its reply released, all in the read
   * callback that brought its command, as Redis' blocking fsync does. In
   * the thread pool the same fsync costs two more wake-ups (the pool's
   * thread, then the loop to release the reply) and a turn's setImmediate:
   * one client writing one command at a time (bench/one-client.mjs) went
   * from p50 199 to 159 us (redis-server 151) and from 1.75x to 1.32x
   * redis-server's CPU per request. Under load the loop does not sleep
   * between turns, and the thread pool keeps serving clients while a
   * group's fsync runs.
   */
  private commitNowPays(): boolean {
    const aof = this.aof;
    return aof.on && aof.policy === 'always' && !aof.fsyncInFlight && this.gathering === null && !this.commitScheduled;
  }

  private commitNow(): void {
    this.log.flush();
    const aof = this.aof;
    if (aof.writePending() && aof.fsyncedOffset < aof.writtenOffset) aof.syncNow();
    this.gate.release();
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
  // Redis gets from its blocking fsync, with the fsync still off the main thread.
  // The wait is event driven (hold() counts the clients back, a timer ends
  // it): the main thread sleeps in the poll meanwhile rather than spinning
  // through turns, which on one core took CPU from the fsync's own thread.
  /** The timer that ends the gathering at its deadline; null when not gathering. */
  private gathering: NodeJS.Timeout | null = null;
  private gatherTarget = 0;
  private gatherUntil = 0;
  private fsyncStartedAt = 0;

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

  /** Start the group's fsync in the thread pool, noting when (afterFsync sizes the gathering by it). */
  private startFsync(): void {
    this.fsyncStartedAt = performance.now();
    this.aof.fsyncAsync(() => this.afterFsync());
  }

  private afterFsync(): void {
    const fsyncMs = performance.now() - this.fsyncStartedAt;
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
