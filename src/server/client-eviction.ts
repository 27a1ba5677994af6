/**
 * maxmemory-clients (Redis 7's client eviction): when the memory of all
 * normal and Pub/Sub clients together (each one's tot-mem in CLIENT LIST:
 * query buffer, arguments, queued transaction, output waiting) reaches the
 * limit, clients are disconnected, the largest first, until the sum is
 * below it. Replicas and the link to a primary are never evicted, nor are
 * clients with CLIENT NO-EVICT on (their memory still counts).
 *
 * Redis keeps each client's usage current in power-of-two buckets as it
 * changes; here the sum is taken by walking the clients, from the cron
 * (hz times a second) and whenever one client's own usage reaches the limit
 * after a read or a write. Nothing is walked while the limit is 0.
 */

import type { ClientKind } from '../commands/context.js';

/** Redis' floor: a smaller limit would leave no room to talk to the server at all. */
const MIN_LIMIT = 128 * 1024;

/**
 * The limit in bytes (0: off) for the normalized maxmemory-clients value:
 * a byte count, or a percentage of maxmemory (off while maxmemory is 0).
 */
export function clientEvictionLimit(setting: string, maxmemory: number): number {
  let bytes: number;
  if (setting.endsWith('%')) {
    if (maxmemory === 0) return 0;
    bytes = Math.floor((maxmemory * Number(setting.slice(0, -1))) / 100);
  } else {
    bytes = Number(setting);
    if (bytes === 0) return 0;
  }
  return Math.max(bytes, MIN_LIMIT);
}

/** What eviction reads of a client. */
export interface EvictionCandidate {
  readonly closed: boolean;
  readonly noEvict: boolean;
  readonly ctx: { readonly kind: ClientKind };
  memoryReport(): { totMem: number };
}

/** Only these kinds count and may be evicted (Redis' CLIENT_TYPE_NORMAL and CLIENT_TYPE_PUBSUB). */
export function countedForEviction(kind: ClientKind): boolean {
  return kind === 'normal' || kind === 'pubsub';
}

/**
 * The clients to disconnect, largest first, so that the others' memory is
 * below `limit`; `overAfterAll` is set when even all of them are not enough.
 */
export function clientsToEvict<C extends EvictionCandidate>(clients: Iterable<C>, limit: number): { evict: C[]; overAfterAll: boolean } {
  let total = 0;
  const candidates: { client: C; mem: number }[] = [];
  for (const c of clients) {
    if (c.closed || !countedForEviction(c.ctx.kind)) continue;
    const mem = c.memoryReport().totMem;
    total += mem;
    if (!c.noEvict) candidates.push({ client: c, mem });
  }
  const evict: C[] = [];
  if (total < limit) return { evict, overAfterAll: false };
  candidates.sort((a, b) => b.mem - a.mem);
  for (const { client, mem } of candidates) {
    evict.push(client);
    total -= mem;
    if (total < limit) return { evict, overAfterAll: false };
  }
  return { evict, overAfterAll: true };
}
