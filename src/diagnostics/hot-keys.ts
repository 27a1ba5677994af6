/**
 * The hottest keys by sampled accesses (VIREO HOTKEYS), without an LFU
 * maxmemory policy: one command in `sampleRate` has its keys counted into a
 * Space-Saving summary (Metwally et al.) of at most CAPACITY entries.
 *
 * Space-Saving keeps the k most frequent items of a stream within a known
 * error: a key not in the summary replaces the entry with the smallest
 * count and inherits that count as its possible overestimate. Any key
 * accessed more than total/CAPACITY times (in the sample) is in it.
 */

/** Entries kept; VIREO HOTKEYS COUNT takes at most this many. */
export const HOTKEYS_CAPACITY = 128;

export interface HotKey {
  readonly db: number;
  readonly key: string;
  /** Sampled accesses counted (an overestimate by at most `error`). */
  count: number;
  /** The count it inherited when it took a colder key's place. */
  error: number;
}

export class HotKeys {
  /** vireo-hotkeys-sample-rate: one command in this many is sampled; 0 is off. */
  private rate = 0;
  /** Commands left before the next sample. */
  private countdown = 0;
  /** Entries by db and key ('<db>:<key>'). */
  private entries = new Map<string, HotKey>();
  /** Key accesses counted since the last reset. */
  sampled = 0;

  get sampleRate(): number {
    return this.rate;
  }

  /** Change the sampling rate; counts so far are kept. */
  configure(rate: number): void {
    this.rate = rate;
    this.countdown = rate;
  }

  get on(): boolean {
    return this.rate !== 0;
  }

  /** A command ran: is it the one in `sampleRate` whose keys are counted? */
  due(): boolean {
    if (--this.countdown > 0) return false;
    this.countdown = this.rate;
    return true;
  }

  /** Count one sampled command's keys, on database `db`. */
  countKeys(db: number, keys: readonly string[]): void {
    for (const key of keys) this.count(db, key);
  }

  private count(db: number, key: string): void {
    this.sampled++;
    const id = `${db}:${key}`;
    const hit = this.entries.get(id);
    if (hit !== undefined) {
      hit.count++;
      return;
    }
    if (this.entries.size < HOTKEYS_CAPACITY) {
      this.entries.set(id, { db, key, count: 1, error: 0 });
      return;
    }
    const [coldestId, coldest] = this.coldest();
    this.entries.delete(coldestId);
    this.entries.set(id, { db, key, count: coldest.count + 1, error: coldest.count });
  }

  /** The entry with the smallest count (a linear pass: CAPACITY is small and this runs on sampled misses only). */
  private coldest(): [string, HotKey] {
    let bestId = '';
    let best: HotKey | null = null;
    for (const [id, e] of this.entries) {
      if (best === null || e.count < best.count) {
        best = e;
        bestId = id;
      }
    }
    return [bestId, best!];
  }

  /** The `n` hottest entries, most accessed first (ties: lower db, then key order). */
  top(n: number): HotKey[] {
    const all = [...this.entries.values()];
    all.sort((a, b) => b.count - a.count || a.db - b.db || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return all.slice(0, n);
  }

  reset(): void {
    this.entries = new Map();
    this.sampled = 0;
    this.countdown = this.rate;
  }
}
