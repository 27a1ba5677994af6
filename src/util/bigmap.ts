/**
 * Maps and sets for the `hashtable` encodings of big collections.
 *
 * Elements live in 2^k shards (JS Maps/Sets) chosen by a string hash, and
 * k grows as the collection does. That gives:
 *  - no V8 limit: a single Map or Set throws at 2^24 entries, Redis allows
 *    2^32 elements per collection;
 *  - a SCAN cursor with Redis' guarantee (every element present for the
 *    whole scan is returned at least once, even while the table grows): the
 *    cursor walks shards in reverse-binary order, exactly like dictScan.
 * With one shard (small tables) no hash is computed at all.
 */

const TARGET_PER_SHARD = 256;

function hashString(k: string): number {
  // FNV-1a over the chars (one byte each for latin1 strings).
  let h = 0x811c9dc5;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** Redis' dictScan cursor step: increment the reversed bits under the mask. */
export function nextScanCursor(v: number, mask: number): number {
  v |= ~mask >>> 0;
  v = reverseBits(v);
  v = (v + 1) >>> 0;
  return reverseBits(v);
}

function reverseBits(v: number): number {
  v = ((v >>> 1) & 0x55555555) | ((v & 0x55555555) << 1);
  v = ((v >>> 2) & 0x33333333) | ((v & 0x33333333) << 2);
  v = ((v >>> 4) & 0x0f0f0f0f) | ((v & 0x0f0f0f0f) << 4);
  v = ((v >>> 8) & 0x00ff00ff) | ((v & 0x00ff00ff) << 8);
  return ((v >>> 16) | (v << 16)) >>> 0;
}

abstract class Sharded<T extends Map<string, unknown> | Set<string>> {
  protected shards: T[];
  protected mask = 0;
  size = 0;

  constructor(protected readonly make: () => T) {
    this.shards = [make()];
  }

  protected shard(k: string): T {
    return this.mask === 0 ? this.shards[0]! : this.shards[hashString(k) & this.mask]!;
  }

  /** Add more shards once they hold TARGET_PER_SHARD elements on average. */
  protected maybeGrow(): void {
    if (this.size <= TARGET_PER_SHARD * this.shards.length) return;
    const n = this.shards.length * 4;
    const next: T[] = Array.from({ length: n }, () => this.make());
    const mask = n - 1;
    for (const s of this.shards) this.moveAll(s, next, mask);
    this.shards = next;
    this.mask = mask;
  }

  protected abstract moveAll(from: T, to: T[], mask: number): void;

  /**
   * One SCAN step from `cursor`: whole shards are visited until at least
   * `count` elements were seen; returns the next cursor (0 at the end).
   */
  scanShards(cursor: number, count: number, visit: (shard: T) => void): number {
    let v = cursor >>> 0;
    let seen = 0;
    do {
      const s = this.shards[v & this.mask]!;
      visit(s);
      seen += s.size;
      v = nextScanCursor(v, this.mask);
    } while (v !== 0 && seen < count);
    return v;
  }

  /** A random non-empty shard, weighted roughly by trying a few. */
  protected randomShard(random: () => number): T {
    for (let i = 0; i < 8; i++) {
      const s = this.shards[Math.floor(random() * this.shards.length)]!;
      if (s.size > 0) return s;
    }
    for (const s of this.shards) if (s.size > 0) return s;
    return this.shards[0]!;
  }
}

/** A Map<string, V> that scales and scans like a Redis dict. */
export class ScanMap<V> extends Sharded<Map<string, V>> {
  constructor(from?: Iterable<[string, V]>) {
    super(() => new Map<string, V>());
    if (from !== undefined) for (const [k, v] of from) this.set(k, v);
  }

  protected moveAll(from: Map<string, V>, to: Map<string, V>[], mask: number): void {
    for (const [k, v] of from) to[hashString(k) & mask]!.set(k, v);
  }

  get(k: string): V | undefined {
    return this.shard(k).get(k);
  }
  has(k: string): boolean {
    return this.shard(k).has(k);
  }
  /** Set; returns true if the key is new. */
  set(k: string, v: V): boolean {
    const s = this.shard(k);
    const before = s.size;
    s.set(k, v);
    if (s.size === before) return false;
    this.size++;
    this.maybeGrow();
    return true;
  }
  delete(k: string): boolean {
    if (!this.shard(k).delete(k)) return false;
    this.size--;
    return true;
  }
  *keys(): IterableIterator<string> {
    for (const s of this.shards) yield* s.keys();
  }
  *entries(): IterableIterator<[string, V]> {
    for (const s of this.shards) yield* s.entries();
  }
  randomEntry(random: () => number = Math.random): [string, V] | undefined {
    const s = this.randomShard(random);
    let skip = Math.floor(random() * s.size);
    for (const e of s) if (skip-- === 0) return e;
    return undefined;
  }
}

/** A Set<string> that scales and scans like a Redis dict. */
export class ScanSet extends Sharded<Set<string>> {
  constructor(from?: Iterable<string>) {
    super(() => new Set<string>());
    if (from !== undefined) for (const k of from) this.add(k);
  }

  protected moveAll(from: Set<string>, to: Set<string>[], mask: number): void {
    for (const k of from) to[hashString(k) & mask]!.add(k);
  }

  has(k: string): boolean {
    return this.shard(k).has(k);
  }
  /** Add; returns true if the member is new. */
  add(k: string): boolean {
    const s = this.shard(k);
    const before = s.size;
    s.add(k);
    if (s.size === before) return false;
    this.size++;
    this.maybeGrow();
    return true;
  }
  delete(k: string): boolean {
    if (!this.shard(k).delete(k)) return false;
    this.size--;
    return true;
  }
  *values(): IterableIterator<string> {
    for (const s of this.shards) yield* s.values();
  }
  random(rand: () => number = Math.random): string | undefined {
    const s = this.randomShard(rand);
    let skip = Math.floor(rand() * s.size);
    for (const k of s) if (skip-- === 0) return k;
    return undefined;
  }
}
