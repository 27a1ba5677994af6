/**
 * The durability gate (DESIGN.md §6): which prefix of the command log
 * replies may reveal, given the followers that keep the log (the AOF now,
 * replicas next), and who waits for more of it.
 *
 * - Group commit: a client whose replies could reveal writes that are not
 *   durable yet holds them (`hold`) until every required follower has the
 *   log up to the offset current when they were produced (`release`).
 * - WAIT and WAITAOF count followers whose offset reached a target
 *   (`count`), and subscribe to `onAdvance` to be woken when one moves
 *   instead of polling.
 *
 * The gate does no I/O and keeps no timers: the followers (the AOF's
 * group committer, a replica link on an ACK) call `release()` and
 * `advanced()` when their offsets move.
 */

/** A client holding replies until the log is durable up to `heldUntil`. */
export interface Waiter {
  heldUntil: number;
  /** Its place in the gate's list of held clients, -1 when it holds nothing (the gate keeps it). */
  gateSlot: number;
  releaseHeld(): void;
}

/** What the gate reads from a follower of the log. */
export interface DurableFollower {
  /** 'aof': the local append-only file (WAITAOF numlocal); 'replica': a replica link (WAIT, WAITAOF numreplicas). */
  readonly kind: 'aof' | 'replica';
  /** Whether replies wait for this follower (an AOF that is on; a replica when writes must reach it first). */
  readonly required: boolean;
  /** Log offset up to which replies may reveal writes as far as this follower goes (Infinity: holds nothing back). */
  durableOffset(): number;
  /** Log offset the follower has on disk: the AOF's fsynced offset, a replica's acknowledged AOF offset. */
  fsyncedOffset(): number;
  /** Log offset the follower acknowledged having (WAIT): the AOF's written offset, a replica's ACK. */
  ackedOffset(): number;
  /**
   * Whether writing the log to it, as the end of every turn does before
   * any reply goes out, makes the log durable as far as it goes (the AOF
   * under everysec or no): replies then need not be held for it.
   */
  readonly durableOnWrite: boolean;
}

/** What a local log file (the AOF) tells the gate about itself. */
export interface LocalFileState {
  readonly on: boolean;
  /** appendfsync: 'always', 'everysec' or 'no'. */
  readonly policy: string;
  readonly writtenOffset: number;
  readonly fsyncedOffset: number;
  readonly lastWriteOk: boolean;
}

/**
 * The follower for a local log file. Under `appendfsync always` replies
 * wait for the fsync; under everysec and no for the write, and, as in
 * Redis, a failed write (retried, refused with MISCONF) holds no reply.
 */
export function localFileFollower(file: LocalFileState): DurableFollower {
  return {
    kind: 'aof',
    get required() {
      return file.on;
    },
    durableOffset() {
      if (!file.on) return Infinity;
      if (file.policy === 'always') return file.fsyncedOffset;
      return file.lastWriteOk ? file.writtenOffset : Infinity;
    },
    fsyncedOffset: () => (file.on ? file.fsyncedOffset : 0),
    ackedOffset: () => (file.on ? file.writtenOffset : 0),
    get durableOnWrite() {
      return file.policy !== 'always';
    },
  };
}

/** Which of a follower's offsets `count` compares. */
export type FollowerMeasure = 'fsynced' | 'acked';

export class DurabilityGate {
  private readonly followers: DurableFollower[] = [];
  /**
   * The clients holding replies, in the order they were held. An array
   * rather than a Set: under `appendfsync always` every served client is
   * added and removed once per fsync, and a Set grew and shrank its hash
   * table with each group (3-4% of the server's user CPU at -P 1).
   */
  private readonly waiters: Waiter[] = [];
  private readonly listeners: (() => void)[] = [];

  /** `log` is the command log (its `offset` is where the next record starts). */
  constructor(private readonly log: { readonly offset: number }) {}

  /** Register a follower; returns the function that removes it. */
  addFollower(f: DurableFollower): () => void {
    this.followers.push(f);
    return () => this.removeFollower(f);
  }

  removeFollower(f: DurableFollower): void {
    const i = this.followers.indexOf(f);
    if (i >= 0) this.followers.splice(i, 1);
  }

  /** The log offset replies may reveal: the least durable offset of the required followers. */
  durableOffset(): number {
    let min = Infinity;
    const fs = this.followers;
    for (let i = 0; i < fs.length; i++) {
      const f = fs[i]!;
      if (!f.required) continue;
      const d = f.durableOffset();
      if (d < min) min = d;
    }
    return min;
  }

  /** True when replies produced now must wait (hot path: one call per served client). */
  mustWait(): boolean {
    return this.log.offset > this.durableOffset();
  }

  /**
   * True when every required follower is durableOnWrite: a reply produced
   * now waits only for the write at the end of the turn, not for an fsync
   * or an acknowledgement, so it is not held (see Server.releaseOutput).
   */
  durableOnWrite(): boolean {
    const fs = this.followers;
    for (let i = 0; i < fs.length; i++) {
      const f = fs[i]!;
      if (f.required && !f.durableOnWrite) return false;
    }
    return true;
  }

  /** Hold `w`'s replies until the log is durable up to the current offset. */
  hold(w: Waiter): void {
    w.heldUntil = this.log.offset;
    // Held already: it keeps its place, now waiting for the later offset.
    if (w.gateSlot >= 0) return;
    w.gateSlot = this.waiters.length;
    this.waiters.push(w);
  }

  /** Drop a waiter without releasing it (its connection closed). */
  forget(w: Waiter): void {
    const i = w.gateSlot;
    if (i < 0) return;
    w.gateSlot = -1;
    const ws = this.waiters;
    ws.splice(i, 1);
    for (let j = i; j < ws.length; j++) ws[j]!.gateSlot = j;
  }

  /** Clients holding replies. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Release the waiters the durable offset now covers, in the order they were held; returns how many. */
  release(): number {
    const ws = this.waiters;
    if (ws.length === 0) return 0;
    const durable = this.durableOffset();
    // Those still waiting close up in place; the released are answered once
    // the list is consistent again (answering one may close another).
    const released: Waiter[] = [];
    let kept = 0;
    for (let i = 0; i < ws.length; i++) {
      const w = ws[i]!;
      if (w.heldUntil > durable) {
        ws[kept] = w;
        w.gateSlot = kept++;
      } else {
        w.gateSlot = -1;
        released.push(w);
      }
    }
    ws.length = kept;
    for (let i = 0; i < released.length; i++) released[i]!.releaseHeld();
    return released.length;
  }

  /** Release everyone (the followers that held them went away: AOF switched off, shutdown). */
  releaseAll(): void {
    const all = this.waiters.splice(0);
    for (const w of all) w.gateSlot = -1;
    for (const w of all) w.releaseHeld();
  }

  /** How many followers of `kind` have the log up to `offset` by `measure` (WAITAOF: 'aof', 'fsynced'; WAIT: 'replica', 'acked'). */
  count(kind: DurableFollower['kind'], measure: FollowerMeasure, offset: number): number {
    let n = 0;
    for (const f of this.followers) {
      if (f.kind !== kind) continue;
      if ((measure === 'fsynced' ? f.fsyncedOffset() : f.ackedOffset()) >= offset) n++;
    }
    return n;
  }

  /** Call `listener` whenever a follower's offset advanced; returns the function that unsubscribes. */
  onAdvance(listener: () => void): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  /** A follower's offset moved (an fsync ended, a replica acknowledged): tell the listeners. */
  advanced(): void {
    for (const l of [...this.listeners]) l();
  }
}
