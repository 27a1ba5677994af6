/**
 * An ordered map keyed by stream IDs in their 16-byte form (stream-id.ts
 * idKey), for pending entries lists: Redis keeps each PEL in a radix tree
 * and reads it in ID order (XPENDING ranges, XAUTOCLAIM's cursor, XINFO).
 *
 * Keys live in sorted chunks of at most CHUNK_MAX (binary search over the
 * chunks' first keys, then within one chunk), with the values in a parallel
 * array: O(log n) lookups, inserts and deletes, ordered walks from any key,
 * and no node object per entry. PELs grow at their end (new deliveries have
 * growing IDs), which appends to the last chunk.
 */

const CHUNK_MAX = 256;

/**
 * Remove a[i] in place. splice(i, 1) would return a new array of the
 * removed element: an allocation per acknowledged entry, twice (group and
 * consumer PEL) and for keys and values each.
 */
function removeAt<T>(a: T[], i: number): void {
  if (i === 0) {
    a.shift();
    return;
  }
  const last = a.length - 1;
  for (let j = i; j < last; j++) a[j] = a[j + 1]!;
  a.pop();
}

interface Chunk<V> {
  keys: string[];
  vals: V[];
}

export class IdMap<V> {
  private chunks: Chunk<V>[] = [];
  size = 0;

  /** Index of the chunk that holds `key` or would hold it. */
  private chunkFor(key: string): number {
    const cs = this.chunks;
    let lo = 0;
    let hi = cs.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (cs[mid]!.keys[0]! <= key) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** First index in `keys` with keys[i] >= key. */
  private static lowerBound(keys: string[], key: string): number {
    let lo = 0;
    let hi = keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (keys[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  get(key: string): V | undefined {
    if (this.size === 0) return undefined;
    const c = this.chunks[this.chunkFor(key)]!;
    const i = IdMap.lowerBound(c.keys, key);
    return c.keys[i] === key ? c.vals[i] : undefined;
  }

  has(key: string): boolean {
    return this.get(key) !== undefined;
  }

  /** Insert or replace; returns true when the key is new. */
  set(key: string, val: V): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push({ keys: [key], vals: [val] });
      this.size = 1;
      return true;
    }
    const ci = this.chunkFor(key);
    const c = this.chunks[ci]!;
    const n = c.keys.length;
    // Appends (the common case) skip the search.
    const i = c.keys[n - 1]! < key ? n : IdMap.lowerBound(c.keys, key);
    if (i < n && c.keys[i] === key) {
      c.vals[i] = val;
      return false;
    }
    if (i === n) {
      c.keys.push(key);
      c.vals.push(val);
    } else {
      c.keys.splice(i, 0, key);
      c.vals.splice(i, 0, val);
    }
    this.size++;
    if (c.keys.length > CHUNK_MAX) {
      const half = c.keys.length >> 1;
      this.chunks.splice(ci + 1, 0, { keys: c.keys.splice(half), vals: c.vals.splice(half) });
    }
    return true;
  }

  /** Remove a key; returns its value, or undefined when absent. */
  delete(key: string): V | undefined {
    if (this.size === 0) return undefined;
    const ci = this.chunkFor(key);
    const c = this.chunks[ci]!;
    const i = IdMap.lowerBound(c.keys, key);
    if (c.keys[i] !== key) return undefined;
    const val = c.vals[i]!;
    removeAt(c.keys, i);
    removeAt(c.vals, i);
    this.size--;
    if (c.keys.length === 0) this.chunks.splice(ci, 1);
    return val;
  }

  firstKey(): string | undefined {
    return this.chunks[0]?.keys[0];
  }

  lastKey(): string | undefined {
    const c = this.chunks[this.chunks.length - 1];
    return c?.keys[c.keys.length - 1];
  }

  /**
   * Visit entries with key >= from (all when from is null) in order until
   * cb returns false. cb must not change the map; collect keys first.
   */
  forEachFrom(from: string | null, cb: (key: string, val: V) => boolean): void {
    if (this.size === 0) return;
    let ci = from === null ? 0 : this.chunkFor(from);
    let i = from === null ? 0 : IdMap.lowerBound(this.chunks[ci]!.keys, from);
    for (; ci < this.chunks.length; ci++, i = 0) {
      const c = this.chunks[ci]!;
      for (; i < c.keys.length; i++) if (!cb(c.keys[i]!, c.vals[i]!)) return;
    }
  }

  /** The first key >= from, or undefined. */
  ceilingKey(from: string): string | undefined {
    let found: string | undefined;
    this.forEachFrom(from, (k) => {
      found = k;
      return false;
    });
    return found;
  }
}
