/**
 * Clients parked inside a blocking command (WAITAOF, CONFIG SET during a
 * rebind; BLPOP and friends next), grouped by what they wait for: waking a
 * kind checks only the clients of that kind. Key-based waits go through the
 * engine's ready keys (engine/ready-keys.ts) instead.
 */

import type { BlockRequest } from '../commands/context.js';
import type { BlockState, Client } from './client.js';

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

  /** Park `c` until `req.ready()` holds when its kind is woken, or `timeoutMs` (0: forever) passes. */
  block(c: Client, req: BlockRequest, timeoutMs: number): void {
    const b: BlockState = { kind: req.kind, ready: req.ready, wake: req.wake, timer: null };
    if (timeoutMs > 0) b.timer = setTimeout(() => this.unblock(c, true), timeoutMs);
    c.blocked = b;
    let set = this.byKind.get(req.kind);
    if (set === undefined) {
      set = new Set();
      this.byKind.set(req.kind, set);
    }
    set.add(c);
    this.count++;
  }

  /** Wake a blocked client: it replies, then goes on with its buffered input. */
  unblock(c: Client, timedOut: boolean): void {
    const b = c.blocked;
    if (b === null) return;
    this.forget(c);
    if (c.closed) return;
    b.wake(timedOut);
    this.resume(c);
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
    if (this.byKind.get(b.kind)?.delete(c)) this.count--;
  }
}
