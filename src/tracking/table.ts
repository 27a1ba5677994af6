/**
 * The tracking table of client-side caching (Redis' TrackingTable): for
 * each key a tracking client has read, the IDs of the clients that may
 * cache it. Key names only: the databases share it, as in Redis.
 *
 * Entries live in two parallel arrays (key, IDs) found by a Map from key
 * to slot. That makes Redis' random eviction (tracking-table-max-keys) O(1)
 * and costs no object per key: a key read by one client holds that
 * client's ID as a plain number; a Set appears only when a second client
 * reads the same key.
 */

/** One client ID, or the Set of them once several clients track the key. */
export type TrackedIds = number | Set<number>;

/**
 * A V8 Map throws past 2^24 entries: the table never grows beyond this,
 * whatever tracking-table-max-keys says (0, "no limit", included).
 */
export const TRACKING_TABLE_HARD_LIMIT = 16_000_000;

export class TrackingTable {
  private readonly slotOf = new Map<string, number>();
  private readonly keys: string[] = [];
  private readonly ids: TrackedIds[] = [];
  /** Client IDs stored over all keys (INFO tracking_total_items). */
  items = 0;

  /** Keys tracked (INFO tracking_total_keys). */
  get size(): number {
    return this.keys.length;
  }

  /** Remember that client `id` may cache `key`. */
  remember(key: string, id: number): void {
    const slot = this.slotOf.get(key);
    if (slot === undefined) {
      this.slotOf.set(key, this.keys.length);
      this.keys.push(key);
      this.ids.push(id);
      this.items++;
      return;
    }
    const held = this.ids[slot]!;
    if (typeof held === 'number') {
      if (held === id) return;
      this.ids[slot] = new Set([held, id]);
      this.items++;
    } else if (!held.has(id)) {
      held.add(id);
      this.items++;
    }
  }

  /** Forget `key` and return the clients that tracked it (undefined: none did). */
  take(key: string): TrackedIds | undefined {
    const slot = this.slotOf.get(key);
    if (slot === undefined) return undefined;
    const held = this.ids[slot]!;
    this.items -= typeof held === 'number' ? 1 : held.size;
    // Move the last entry into the freed slot.
    const last = this.keys.length - 1;
    const lastKey = this.keys.pop()!;
    const lastIds = this.ids.pop()!;
    this.slotOf.delete(key);
    if (slot !== last) {
      this.keys[slot] = lastKey;
      this.ids[slot] = lastIds;
      this.slotOf.set(lastKey, slot);
    }
    return held;
  }

  /** A key chosen at random (eviction), or undefined when the table is empty. */
  randomKey(): string | undefined {
    const n = this.keys.length;
    return n === 0 ? undefined : this.keys[Math.floor(Math.random() * n)];
  }

  /** Forget everything (FLUSHALL, FLUSHDB: Redis frees the whole table). */
  clear(): void {
    this.slotOf.clear();
    this.keys.length = 0;
    this.ids.length = 0;
    this.items = 0;
  }
}

/**
 * The IDs in the order Redis visits them: its per-key radix tree is keyed by
 * the ID's 8 bytes in memory (little-endian), so the lowest byte sorts first.
 */
export function idsInRedisOrder(ids: Set<number>): number[] {
  return [...ids].sort(compareLittleEndian);
}

function compareLittleEndian(a: number, b: number): number {
  for (let shift = 0; shift < 53; shift += 8) {
    const x = Math.floor(a / 2 ** shift) % 256;
    const y = Math.floor(b / 2 ** shift) % 256;
    if (x !== y) return x - y;
  }
  return 0;
}
