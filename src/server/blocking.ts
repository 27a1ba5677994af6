/**
 * Clients parked inside a blocking command, grouped by what they wait for:
 * waking a kind checks only the clients of that kind (WAITAOF, CONFIG SET
 * during a rebind). Clients waiting for keys (BLPOP and friends) are parked
 * here too, for their deadline, CLIENT UNBLOCK and disconnection, while the
 * engine's ready keys (engine/ready-keys.ts) decide when to serve them.
 */

import type { BlockRequest } from '../commands/context.js';
import type { BlockState, Client } from './client.js';
import type { CommandStats } from '../commands/table.js';

/** setTimeout's longest delay; longer waits re-arm (a bigger delay would fire at once). */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class BlockedClients {
  private readonly byKind = new Map<string, Set<Client>>();
  private count = 0;

  constructor(
    /** A woken client replied: go on with its buffered input. */
    private readonly resume: (c: Client) => void,
  ) {}

  /** Clients inside a blocking command. */
  get size(): number {
    return this.count;
  }

  /**
   * Park `c` until `req.ready()` holds when its kind is woken, or
   * `deadline` (epoch ms; 0: never) passes. `release` runs whenever it
   * stops waiting (served, timed out, unblocked, disconnected).
   */
  block(c: Client, req: BlockRequest, deadline: number, release: (() => void) | null = null, stats: CommandStats | null = null): void {
    // Called while the blocking command runs: its reply mode (CLIENT REPLY OFF/SKIP) holds for its late reply.
    const b: BlockState = { kind: req.kind, ready: req.ready, wake: req.wake, internal: req.internal, timer: null, release, muted: c.reply.muted, stats };
    c.blocked = b;
    if (deadline > 0) this.arm(c, b, deadline);
    let set = this.byKind.get(req.kind);
    if (set === undefined) {
      set = new Set();
      this.byKind.set(req.kind, set);
    }
    set.add(c);
    this.count++;
  }

  private arm(c: Client, b: BlockState, deadline: number): void {
    const delay = deadline - Date.now();
    if (delay > MAX_TIMER_MS) b.timer = setTimeout(() => this.arm(c, b, deadline), MAX_TIMER_MS);
    else b.timer = setTimeout(() => this.unblock(c, true), Math.max(delay, 0));
  }

  /** Wake a blocked client: it replies, then goes on with its buffered input. */
  unblock(c: Client, timedOut: boolean): void {
    const b = c.blocked;
    if (b === null) return;
    this.forget(c);
    if (c.closed) return;
    replyAs(c, b, () => b.wake(timedOut));
    this.resume(c);
  }

  /** CLIENT UNBLOCK ... ERROR: the client answers `msg` instead of its reply. */
  unblockWithError(c: Client, msg: string): void {
    const b = c.blocked;
    if (b === null) return;
    this.forget(c);
    if (b.stats !== null) b.stats.failed++;
    if (c.closed) return;
    replyAs(c, b, () => c.reply.error(msg));
    this.resume(c);
  }

  /**
   * A key waiter was served (it already replied): it stops waiting now, and
   * goes on with its input once the command that filled the key completed.
   */
  served(c: Client): void {
    this.forget(c);
    queueMicrotask(() => {
      if (!c.closed && c.blocked === null) this.resume(c);
    });
  }

  /** Something clients of `kind` wait for happened: wake those now ready, in the order they blocked. */
  wakeReady(kind: string): void {
    const set = this.byKind.get(kind);
    if (set === undefined || set.size === 0) return;
    for (const c of [...set]) {
      if (c.blocked !== null && c.blocked.ready()) this.unblock(c, false);
    }
  }

  /** Take `c` out without waking it (it disconnected, or it is being woken). */
  forget(c: Client): void {
    const b = c.blocked;
    if (b === null) return;
    if (b.timer !== null) clearTimeout(b.timer);
    c.blocked = null;
    b.release?.();
    if (this.byKind.get(b.kind)?.delete(c)) this.count--;
  }
}

/** Write a blocked client's late reply with the reply mode its command had. */
export function replyAs(c: Client, b: BlockState, write: () => void): void {
  c.reply.muted = b.muted;
  const account = c.lateReplyAccount;
  const outBefore = c.reply.pending;
  const started = account !== null ? performance.now() : 0;
  try {
    write();
  } finally {
    c.reply.muted = false;
  }
  // A rerun that still finds nothing writes nothing and keeps waiting.
  if (account !== null && c.reply.pending > outBefore) {
    c.lateReplyAccount = null;
    account((performance.now() - started) * 1000, c.reply.pending - outBefore);
  }
}
