/**
 * Consumer groups (stream.h streamCG, streamConsumer, streamNACK): a group's
 * last delivered ID and read counter, its pending entries list (PEL: entry
 * ID -> delivery time, delivery count, owner) and its consumers, each with
 * its own PEL holding the same NACK objects. Times are Redis 7.2's: a
 * consumer's seen-time is its last attempted interaction, its active-time
 * its last successful one (-1 until it has one).
 */

import { IdMap } from './id-map.js';
import type { StreamID, U64 } from './stream-id.js';

/** SCG_INVALID_ENTRIES_READ: the group's read counter is unknown. */
export const INVALID_ENTRIES_READ = -1;

export interface Nack {
  /** Last delivery, ms since the epoch. */
  deliveryTime: number;
  deliveryCount: U64;
  /** Null only while an RDB is being loaded (the owner comes after the group PEL). */
  consumer: Consumer | null;
}

export class Consumer {
  readonly pel = new IdMap<Nack>();
  constructor(
    readonly name: string,
    public seenTime: number,
    public activeTime = -1,
  ) {}
}

export class StreamGroup {
  readonly pel = new IdMap<Nack>();
  readonly consumers = new Map<string, Consumer>();

  constructor(
    public lastId: StreamID,
    /** Entries read, or INVALID_ENTRIES_READ. */
    public entriesRead: U64,
  ) {}

  /** Consumer names in Redis' radix-tree order (byte order). */
  sortedConsumers(): Consumer[] {
    return [...this.consumers.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** streamCreateConsumer: null when it exists already. */
  createConsumer(name: string, now: number): Consumer | null {
    if (this.consumers.has(name)) return null;
    const c = new Consumer(name, now);
    this.consumers.set(name, c);
    return c;
  }

  /** streamDelConsumer: drop the consumer and its pending entries from the group PEL; returns how many it had. */
  deleteConsumer(c: Consumer): number {
    const pending = c.pel.size;
    c.pel.forEachFrom(null, (key) => {
      this.pel.delete(key);
      return true;
    });
    this.consumers.delete(c.name);
    return pending;
  }

  /** Remove a pending entry from the group and its owner; returns whether it was pending. */
  ack(key: string): boolean {
    const nack = this.pel.delete(key);
    if (nack === undefined) return false;
    nack.consumer?.pel.delete(key);
    return true;
  }

  /** Give the pending entry `key` to `to` (from whoever held it). */
  assign(key: string, nack: Nack, to: Consumer): void {
    if (nack.consumer === to) return;
    nack.consumer?.pel.delete(key);
    to.pel.set(key, nack);
    nack.consumer = to;
  }

  /** A deep copy (COPY, snapshots). */
  clone(): StreamGroup {
    const g = new StreamGroup(this.lastId, this.entriesRead);
    const copies = new Map<Nack, Nack>();
    this.pel.forEachFrom(null, (key, nack) => {
      const copy: Nack = { deliveryTime: nack.deliveryTime, deliveryCount: nack.deliveryCount, consumer: null };
      copies.set(nack, copy);
      g.pel.set(key, copy);
      return true;
    });
    for (const c of this.consumers.values()) {
      const nc = new Consumer(c.name, c.seenTime, c.activeTime);
      g.consumers.set(c.name, nc);
      c.pel.forEachFrom(null, (key, nack) => {
        const copy = copies.get(nack)!;
        copy.consumer = nc;
        nc.pel.set(key, copy);
        return true;
      });
    }
    return g;
  }

  memoryUsage(): number {
    let bytes = 128 + this.pel.size * 96;
    for (const c of this.consumers.values()) bytes += 96 + c.name.length + c.pel.size * 24;
    return bytes;
  }
}
