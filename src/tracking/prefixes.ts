/**
 * The BCAST side of client-side caching (Redis' PrefixTable): for each
 * prefix, the clients that subscribed to it and the keys under it modified
 * since the last broadcast, with who modified each last (for NOLOOP).
 * Broadcasts go out once per event-loop turn, prefix by prefix in byte
 * order, each listing its keys in byte order, as Redis' radix trees do.
 *
 * A modified key is matched by looking up its own first n bytes for each
 * length n that some prefix has (Redis walks every prefix instead): a
 * client with a million prefixes costs each write a few lookups, not a
 * million comparisons.
 */

import type { TrackingClient } from './client.js';

export interface BroadcastPrefix {
  readonly clients: Set<TrackingClient>;
  /** Key -> the context that modified it last (null: the server, e.g. an expiry). */
  readonly pending: Map<string, object | null>;
}

export class PrefixTable {
  private readonly byPrefix = new Map<string, BroadcastPrefix>();
  /** How many prefixes have each length. */
  private readonly lengthCounts = new Map<number, number>();
  /** The lengths of lengthCounts, ascending. */
  private lengths: number[] = [];
  /** Prefixes with keys waiting for the next broadcast. */
  private readonly waiting = new Set<string>();

  /** Prefixes with at least one client (INFO tracking_total_prefixes). */
  get size(): number {
    return this.byPrefix.size;
  }

  /** Some prefix has keys waiting to be broadcast. */
  get hasPending(): boolean {
    return this.waiting.size > 0;
  }

  /** Subscribe `c` to `prefix` (nothing if it already is). */
  subscribe(prefix: string, c: TrackingClient): void {
    let p = this.byPrefix.get(prefix);
    if (p === undefined) {
      p = { clients: new Set(), pending: new Map() };
      this.byPrefix.set(prefix, p);
      this.countLength(prefix.length, 1);
    }
    p.clients.add(c);
  }

  /** Unsubscribe `c`; a prefix left without clients goes, with its waiting keys. */
  unsubscribe(prefix: string, c: TrackingClient): void {
    const p = this.byPrefix.get(prefix);
    if (p === undefined) return;
    p.clients.delete(c);
    if (p.clients.size > 0) return;
    this.byPrefix.delete(prefix);
    this.waiting.delete(prefix);
    this.countLength(prefix.length, -1);
  }

  private countLength(length: number, delta: number): void {
    const n = (this.lengthCounts.get(length) ?? 0) + delta;
    if (n > 0) this.lengthCounts.set(length, n);
    else this.lengthCounts.delete(length);
    if (n === 0 || n === delta) this.lengths = [...this.lengthCounts.keys()].sort((a, b) => a - b);
  }

  /** `key` was modified by `by`: queue it under every prefix it starts with. True if one matched. */
  keyModified(key: string, by: object | null): boolean {
    let matched = false;
    const lengths = this.lengths;
    for (let i = 0; i < lengths.length; i++) {
      const n = lengths[i]!;
      if (n > key.length) break;
      const prefix = n === key.length ? key : key.slice(0, n);
      const p = this.byPrefix.get(prefix);
      if (p === undefined) continue;
      p.pending.set(key, by);
      this.waiting.add(prefix);
      matched = true;
    }
    return matched;
  }

  /** Each prefix with waiting keys, in byte order; its keys are forgotten once visited. */
  *drain(): IterableIterator<BroadcastPrefix> {
    const prefixes = [...this.waiting].sort();
    this.waiting.clear();
    for (const prefix of prefixes) {
      const p = this.byPrefix.get(prefix);
      if (p === undefined || p.pending.size === 0) continue;
      yield p;
      p.pending.clear();
    }
  }
}
