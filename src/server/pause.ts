/**
 * CLIENT PAUSE: while a pause lasts, the commands it covers (all, or
 * writes) are held with their clients, and expired keys are hidden but not
 * deleted (a paused primary must not write). When it ends the held clients
 * go on with their input.
 */

import type { Engine } from '../engine/engine.js';
import type { Client } from './client.js';

/** Node's timers wrap past 2^31-1 ms: longer pauses re-arm. */
const MAX_TIMER_MS = 2147483647;

interface PauseState {
  mode: 'all' | 'write';
  until: number;
  timer: NodeJS.Timeout;
}

export class ClientPause {
  private state: PauseState | null = null;
  /** Clients holding a command back until the pause ends. */
  private readonly held = new Set<Client>();

  constructor(
    private readonly engine: Engine,
    /** The pause ended: a held client goes on with its input. */
    private readonly resume: (c: Client) => void,
    /** The pause ended (before the held clients go on). */
    private readonly ended: () => void = () => {},
  ) {}

  get active(): boolean {
    return this.state !== null;
  }

  /** 'all' pauses every command; 'write' only those that may write (the caller decides which). */
  get mode(): 'all' | 'write' | null {
    return this.state?.mode ?? null;
  }

  get heldCount(): number {
    return this.held.size;
  }

  isHolding(c: Client): boolean {
    return this.held.has(c);
  }

  hold(c: Client): void {
    this.held.add(c);
  }

  forget(c: Client): void {
    this.held.delete(c);
  }

  start(mode: 'all' | 'write', ms: number): void {
    const until = Date.now() + ms;
    if (this.state !== null) {
      clearTimeout(this.state.timer);
      // A later deadline or a stricter mode wins.
      if (this.state.mode === 'all') mode = 'all';
      if (this.state.until > until) ms = this.state.until - Date.now();
    }
    const end = Date.now() + ms;
    this.state = { mode, until: end, timer: this.timer(end) };
    this.engine.expiryPaused = true;
  }

  end(): void {
    if (this.state === null) return;
    clearTimeout(this.state.timer);
    this.state = null;
    this.engine.expiryPaused = false;
    this.ended();
    const held = [...this.held];
    this.held.clear();
    for (const c of held) if (!c.closed) this.resume(c);
  }

  /** Stop the timer for good (shutdown). */
  stop(): void {
    if (this.state !== null) clearTimeout(this.state.timer);
  }

  private timer(until: number): NodeJS.Timeout {
    const left = Math.max(0, until - Date.now());
    return setTimeout(() => {
      if (this.state === null) return;
      if (until - Date.now() > 0) this.state.timer = this.timer(until);
      else this.end();
    }, Math.min(left, MAX_TIMER_MS));
  }
}
