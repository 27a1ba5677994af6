/**
 * Keys holding a short latin1 string or a number, kept off the JS heap
 * (DESIGN.md §4): the GC has no key string, value string or Map entry to
 * trace per key, and a key costs its bytes plus a few dozen, not the
 * hundred-odd bytes of a Map entry, two strings and an access-table entry.
 *
 * A record (slab.ts) holds one key:
 *   u32 at +0   the key's access word (LRU clock / LFU counter, access.ts)
 *   u32 at +4   the key's insertion number (CLUSTER GETKEYSINSLOT: newest first)
 *   u8  at +8   key length
 *   u8  at +9   kind: 0 latin1 string, 1 number (a double)
 *   u8  at +10  value length (strings; 0 for a number)
 *   u8  at +11  flags: 1 when the key has a TTL
 *   +12         key bytes, then the value's bytes, or the double at the
 *               next multiple of 8
 *   then, with a TTL, the absolute expiry in ms (a double) in the record's
 *   last 8 bytes (the record is 8 bytes longer than without one)
 *
 * Adding or removing a TTL changes the record's size, so it moves the key to
 * a record of the other size (keeping its access word and insertion number).
 *
 * Each hash slot has its own open-addressing index (linear probing over an
 * Int32Array of [hash, ref] pairs, backward-shift deletion, no tombstones),
 * created with the slot's first key and dropped with its last: growing a
 * slot's index moves a few hundred entries even at 10M keys, and SCAN keeps
 * its slot cursor.
 */

import { SLOTS, crc16Step, emptySlotTables, keySlotOfBytes } from './slot.js';
import { BlockPool, SlabAllocator } from './slab.js';
import { DEFERRED_ARG, deferred, escapedPlaceholder } from '../protocol/deferred-arg.js';

/** Longest key kept here (its length is one byte). */
export const STORE_KEY_MAX = 255;
/**
 * Longest string value kept here; longer ones live in the JS Map. Up to it
 * a record costs less than the JS strings and Map entry it replaces (a
 * 16-byte key with a 100-byte value: 140 bytes against about 210), and
 * copying its bytes costs less than the GC's tracing of them.
 */
export const STORE_VALUE_MAX = 128;

const KIND_STRING = 0;
const KIND_NUMBER = 1;
/** Flag at +11: the record ends with an expiry. */
const FLAG_TTL = 1;
const OFFSET_BITS = 17;
const OFFSET_MASK = (1 << OFFSET_BITS) - 1;
/** The TTL counts of every store holding no TTL yet (all zeros, never written). */
const NO_TTLS = new Uint32Array(SLOTS);
/** The index and key counts of every store that never held a key (never written; see keyspace.ts' NO_TABLES). */
const NO_INDEX = emptySlotTables<Int32Array>();
const NO_COUNTS = new Uint32Array(SLOTS);
/** Smallest index: 4 pairs (8 ints, 2^3). Indexes hold a power of two of pairs. */
const MIN_LOG2_INTS = 3;
/**
 * Indexes below 2^7 ints (64 pairs) grow fourfold, larger ones twofold: a
 * load adding keys to every slot copies each index three times on its way
 * to 128 pairs (1M keys) instead of five, and touches less new memory.
 * Sizes an index takes: 2^3, 2^5, 2^7, 2^8, 2^9... ints.
 */
const FOURFOLD_BELOW_LOG2 = 7;
/** compactIndexes packs the indexes when blocks in the free lists hold at least this many bytes... */
const COMPACT_MIN_FREED = 2 * 1024 * 1024;
/** ...and this share of the indexes' slabs. */
const COMPACT_SHARE = 1 / 8;

/** Can `key` holding `value` be kept in a StringStore? (Only a string or a number can.) */
export function storable(key: string, value: unknown): boolean {
  if (key.length > STORE_KEY_MAX) return false;
  if (typeof value === 'number') return isLatin1(key);
  if (typeof value !== 'string' || value.length > STORE_VALUE_MAX) return false;
  // A SET's value still in the query buffer (deferred-arg.ts) is latin1 bytes the parser sized for a record.
  if (value === DEFERRED_ARG) return deferredHeld() && isLatin1(key);
  return isLatin1(key) && isLatin1(value);
}

/** The deferred value's bytes are still there (a placeholder past its command is a bug: refused, never stored). */
function deferredHeld(): boolean {
  if (deferred.argv === null) throw escapedPlaceholder('the keyspace');
  return true;
}

/** A character a latin1 string cannot hold. */
const WIDE_CHAR = /[^\x00-\xff]/;

function isLatin1(s: string): boolean {
  // V8 answers this regex on its one-byte strings (all a client sends) without a scan: 5-8x a charCodeAt loop.
  return !WIDE_CHAR.test(s);
}

/** The string of `len` latin1 bytes at `start`. */
function latin1(u8: Buffer, start: number, len: number): string {
  switch (len) {
    case 0:
      return '';
    case 1:
      return String.fromCharCode(u8[start]!);
    case 2:
      return String.fromCharCode(u8[start]!, u8[start + 1]!);
    case 3:
      return String.fromCharCode(u8[start]!, u8[start + 1]!, u8[start + 2]!);
    case 4:
      return String.fromCharCode(u8[start]!, u8[start + 1]!, u8[start + 2]!, u8[start + 3]!);
  }
  // V8 copies concatenations shorter than 13 characters into flat strings, faster than a native call.
  if (len < 13) {
    let s = '';
    for (let i = start; i < start + len; i++) s += String.fromCharCode(u8[i]!);
    return s;
  }
  return u8.latin1Slice(start, start + len);
}

export class StringStore {
  private alloc = new SlabAllocator();
  /** Where the indexes are cut from. */
  private blocks = new BlockPool();
  /** Per slot: [hash, ref] pairs, or undefined when the slot holds no key here (NO_INDEX until the first key). */
  private index = NO_INDEX;
  /** Keys per slot, to read only (NO_COUNTS until the first key). */
  counts = NO_COUNTS;
  /** Number of keys. */
  size = 0;
  /**
   * Keys with a TTL per slot (walks of volatile keys skip slots holding
   * none). NO_TTLS, shared and never written, until the first TTL: 16
   * databases would otherwise start with 1 MiB of zeros.
   */
  ttlCounts: Uint32Array = NO_TTLS;
  /** Number of keys with a TTL. */
  ttlSize = 0;
  // The key last hashed and its hash: a command looks a key up, then writes it.
  private lastKey: string | null = null;
  private lastHash = 0;
  /** What warm() read: stored, so the compiler cannot drop the read as unused. */
  warmed = 0;
  // The key last found and its record: a lookup is followed by an access stamp.
  // Forgotten by every delete (its record may be reused) and clear.
  private hitKey: string | null = null;
  private hitRef = 0;
  /** prefetch()'s working arrays, made by its first call. */
  private scratch: PrefetchScratch | null = null;

  /** Bytes of slabs and indexes (their ArrayBuffers, counted by process.memoryUsage().arrayBuffers). */
  bytes(): number {
    return this.alloc.slabBytes + this.blocks.bytes;
  }

  /** Bytes of slabs holding no record or index (freed ones waiting for reuse, the unfilled end of slabs). */
  freeBytes(): number {
    return this.alloc.slabBytes - this.alloc.liveBytes + this.blocks.bytes - this.blocks.liveBytes;
  }

  private hash(key: string): number {
    if (key === this.lastKey) return this.lastHash;
    const a = keyHash(key);
    this.lastKey = key;
    this.lastHash = a;
    return a;
  }

  /**
   * Bring the index entries and records of a batch of keys (latin1 bytes at
   * buf[ranges[2i], ranges[2i+1]) ) into the cache before the commands that
   * name them run. Each phase is a short loop of independent loads, so the
   * CPU has many cache misses in flight at once instead of one per command.
   * Each key's hash (keyHash) and slot (keySlot) are left in `hashes` and
   * `slots`: the command naming the key need not compute them again (seed).
   * Returns how many records it reached (keys found within PREFETCH_PROBES pairs of their home).
   */
  prefetch(buf: Uint8Array, ranges: Int32Array, n: number, hashes: Int32Array, slots: Int32Array): number {
    const scratch = (this.scratch ??= new PrefetchScratch());
    for (let i = 0; i < n; i++) {
      const start = ranges[2 * i]!;
      const end = ranges[2 * i + 1]!;
      // keyHash and the slot's CRC16 in one pass over the bytes; a key with a '{' takes keySlotOfBytes for its hash tag.
      let a = FNV_BASIS ^ (end - start);
      let crc = 0;
      let brace = false;
      for (let j = start; j < end; j++) {
        const b = buf[j]!;
        a = Math.imul(a ^ b, FNV_PRIME);
        crc = crc16Step(crc, b);
        if (b === 0x7b) brace = true;
      }
      hashes[i] = fmix32(a);
      slots[i] = brace ? keySlotOfBytes(buf, start, end) : crc & 0x3fff;
    }
    const indexes = scratch.indexes;
    const index = this.index;
    for (let i = 0; i < n; i++) indexes[i] = index[slots[i]!];
    const refs = scratch.refs;
    for (let i = 0; i < n; i++) {
      const idx = indexes[i];
      refs[i] = idx === undefined ? 0 : probeRef(idx, hashes[i]!);
    }
    const u8s = this.alloc.u8;
    let w = 0;
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const ref = refs[i]!;
      if (ref === 0) continue;
      const u8 = u8s[ref >>> OFFSET_BITS]!;
      const off = (ref & OFFSET_MASK) << 3;
      // The record's header, and its last byte: a 100-byte value spans two or three cache lines.
      w ^= u8[off + 11 + u8[off + 8]! + u8[off + 10]!]!;
      hits++;
    }
    // The indexes are not kept alive by this scratch array.
    for (let i = 0; i < n; i++) indexes[i] = undefined;
    this.warmed = w;
    return hits;
  }

  /** `hash` is keyHash(key), computed elsewhere (by prefetch, from the key's bytes): the next lookup of `key` uses it. */
  seed(key: string, hash: number): void {
    this.lastKey = key;
    this.lastHash = hash;
  }

  /** Hash `key` and read its home position in `slot`, so its cache line is on its way. */
  warm(slot: number, key: string): void {
    const idx = this.index[slot];
    if (idx === undefined) return;
    this.warmed = idx[home(this.hash(key), idx.length >>> 1) << 1]!;
  }

  /** Position of `key`'s pair in its slot's index, or -1. */
  private find(idx: Int32Array, key: string): number {
    const h = this.hash(key);
    const end = idx.length;
    let p = home(h, end >>> 1) << 1;
    for (;;) {
      const ref = idx[p + 1]!;
      if (ref === 0) return -1;
      if (idx[p] === h && this.keyIs(ref, key)) return p;
      p += 2;
      if (p === end) p = 0;
    }
  }

  private keyIs(ref: number, key: string): boolean {
    const u8 = this.alloc.u8[ref >>> OFFSET_BITS]!;
    const off = (ref & OFFSET_MASK) << 3;
    const n = key.length;
    if (u8[off + 8] !== n) return false;
    const k = off + 12;
    for (let i = 0; i < n; i++) if (u8[k + i] !== key.charCodeAt(i)) return false;
    return true;
  }

  /** The record of `key` in `slot`, or 0. */
  ref(slot: number, key: string): number {
    if (key === this.hitKey) return this.hitRef;
    const idx = this.index[slot];
    if (idx === undefined) return 0;
    const p = this.find(idx, key);
    if (p < 0) return 0;
    this.hitKey = key;
    return (this.hitRef = idx[p + 1]!);
  }

  /** The value of `key`, or undefined. */
  get(slot: number, key: string): string | number | undefined {
    const ref = this.ref(slot, key);
    return ref === 0 ? undefined : this.value(ref);
  }

  has(slot: number, key: string): boolean {
    const idx = this.index[slot];
    return idx !== undefined && this.find(idx, key) >= 0;
  }

  /** The value held by record `ref`. */
  value(ref: number): string | number {
    const s = ref >>> OFFSET_BITS;
    const off = (ref & OFFSET_MASK) << 3;
    const u8 = this.alloc.u8[s]!;
    const klen = u8[off + 8]!;
    if (u8[off + 9] === KIND_NUMBER) return this.alloc.f64[s]![(off + 19 + klen) >>> 3]!;
    return latin1(u8, off + 12 + klen, u8[off + 10]!);
  }

  /** Set by stringSpan(): the slab holding the string's bytes, and where they start. */
  spanBuf: Buffer = Buffer.alloc(0);
  spanStart = 0;

  /**
   * The length of the string held by record `ref`, its bytes left at
   * spanBuf[spanStart...] (a reply copies them from the slab, no JS string
   * made); -1 when the record holds a number.
   */
  stringSpan(ref: number): number {
    const off = (ref & OFFSET_MASK) << 3;
    const u8 = this.alloc.u8[ref >>> OFFSET_BITS]!;
    if (u8[off + 9] === KIND_NUMBER) return -1;
    this.spanBuf = u8;
    this.spanStart = off + 12 + u8[off + 8]!;
    return u8[off + 10]!;
  }

  /** The length of record `ref`'s key. In a record the value's bytes follow the key's: after stringSpan(ref) the key starts at spanStart minus this. */
  keyLength(ref: number): number {
    return this.alloc.u8[ref >>> OFFSET_BITS]![((ref & OFFSET_MASK) << 3) + 8]!;
  }

  /** The key of record `ref`. */
  key(ref: number): string {
    const u8 = this.alloc.u8[ref >>> OFFSET_BITS]!;
    const off = (ref & OFFSET_MASK) << 3;
    return latin1(u8, off + 12, u8[off + 8]!);
  }

  /** The access word of record `ref`. */
  word(ref: number): number {
    return this.alloc.u32[ref >>> OFFSET_BITS]![(ref & OFFSET_MASK) << 1]!;
  }

  setWord(ref: number, word: number): void {
    this.alloc.u32[ref >>> OFFSET_BITS]![(ref & OFFSET_MASK) << 1] = word;
  }

  /** The insertion number of record `ref`. */
  seq(ref: number): number {
    return this.alloc.u32[ref >>> OFFSET_BITS]![((ref & OFFSET_MASK) << 1) + 1]!;
  }

  /**
   * Overwrite in place the number held by `key` when it is the key last
   * found and holds a number (INCR writes right after its read): no second
   * probe, no record change. False when that does not apply.
   */
  overwriteNumber(key: string, value: number): boolean {
    if (key !== this.hitKey) return false;
    const ref = this.hitRef;
    const s = ref >>> OFFSET_BITS;
    const off = (ref & OFFSET_MASK) << 3;
    const u8 = this.alloc.u8[s]!;
    if (u8[off + 9] !== KIND_NUMBER) return false;
    this.alloc.f64[s]![(off + 19 + u8[off + 8]!) >>> 3] = value;
    this.lastRef = ref;
    return true;
  }

  /** Does record `ref` have a TTL? */
  hasExpire(ref: number): boolean {
    return (this.alloc.u8[ref >>> OFFSET_BITS]![((ref & OFFSET_MASK) << 3) + 11]! & FLAG_TTL) !== 0;
  }

  /** The absolute expiry (ms) of record `ref`, or -1 when it has no TTL (an expiry may itself be negative: hasExpire tells). */
  expireOf(ref: number): number {
    const s = ref >>> OFFSET_BITS;
    const off = (ref & OFFSET_MASK) << 3;
    const u8 = this.alloc.u8[s]!;
    if ((u8[off + 11]! & FLAG_TTL) === 0) return -1;
    return this.alloc.f64[s]![(off + this.recordSizeOf(ref) - 8) >>> 3]!;
  }

  /**
   * Give `key` the expiry `when` (ms, >= 0). Returns -1 when the key is not
   * here, 0 when it had a TTL (overwritten in place), 1 when it had none
   * (the key moves to a record 8 bytes longer).
   */
  setExpire(slot: number, key: string, when: number): number {
    const ref = this.ref(slot, key);
    if (ref === 0) return -1;
    const size = this.recordSizeOf(ref);
    const s = ref >>> OFFSET_BITS;
    const off = (ref & OFFSET_MASK) << 3;
    if ((this.alloc.u8[s]![off + 11]! & FLAG_TTL) !== 0) {
      this.alloc.f64[s]![(off + size - 8) >>> 3] = when;
      return 0;
    }
    const moved = this.alloc.alloc(size + 8);
    this.copyRecord(ref, moved, size);
    this.writeExpire(moved, size + 8, when);
    this.alloc.release(ref, size);
    this.repoint(slot, key, ref, moved);
    this.ownTtlCounts()[slot]!++;
    this.ttlSize++;
    return 1;
  }

  /**
   * Remove `key`'s TTL. Returns -1 when the key is not here, 0 when it had
   * no TTL, 1 when it had one (the key moves to a record 8 bytes shorter).
   */
  removeExpire(slot: number, key: string): number {
    const ref = this.ref(slot, key);
    if (ref === 0) return -1;
    const s = ref >>> OFFSET_BITS;
    const off = (ref & OFFSET_MASK) << 3;
    if ((this.alloc.u8[s]![off + 11]! & FLAG_TTL) === 0) return 0;
    const size = this.recordSizeOf(ref);
    const moved = this.alloc.alloc(size - 8);
    this.copyRecord(ref, moved, size - 8);
    this.alloc.u8[moved >>> OFFSET_BITS]![((moved & OFFSET_MASK) << 3) + 11] = 0;
    this.alloc.release(ref, size);
    this.repoint(slot, key, ref, moved);
    this.ttlCounts[slot]!--;
    this.ttlSize--;
    return 1;
  }

  /** The record written by the last set(). */
  lastRef = 0;

  /**
   * Set `key` (storable) to `value`. A new key gets access word `word` and
   * insertion number `seq`; an existing one keeps both. Returns true if the
   * key is new.
   */
  set(slot: number, key: string, value: string | number, word: number, seq: number): boolean {
    const idx = this.indexOf(slot);
    let size = recordSize(key.length, value);
    const p = this.find(idx, key);
    if (p >= 0) {
      // An overwrite keeps the key's TTL.
      const old = idx[p + 1]!;
      const oldSize = this.recordSizeOf(old);
      const ttl = this.hasExpire(old);
      const when = ttl ? this.expireOf(old) : 0;
      if (ttl) size += 8;
      if (oldSize === size) {
        this.writeValue(old, key.length, value);
        this.lastRef = old;
        return false;
      }
      const ref = this.alloc.alloc(size);
      this.writeRecord(ref, key, value, this.word(old), this.seq(old));
      if (ttl) this.writeExpire(ref, size, when);
      this.alloc.release(old, oldSize);
      idx[p + 1] = ref;
      this.lastRef = ref;
      // The old record is free now: it must not be found through the cache.
      this.hitKey = key;
      this.hitRef = ref;
      return false;
    }
    this.insertNew(slot, idx, key, value, word, seq, size);
    return true;
  }

  /**
   * Add `key` (storable, not here: the caller knows) holding `value` with
   * expiry `when`, in one record of the size with a TTL (set() then
   * setExpire() would write a record and move it at once).
   */
  insertWithExpire(slot: number, key: string, value: string | number, word: number, seq: number, when: number): void {
    const idx = this.indexOf(slot);
    this.hash(key);
    const size = recordSize(key.length, value) + 8;
    const ref = this.insertNew(slot, idx, key, value, word, seq, size);
    this.writeExpire(ref, size, when);
    this.ownTtlCounts()[slot]!++;
    this.ttlSize++;
  }

  /** Write a record of `size` bytes for the new key `key` (hashed last) and index it. Returns its ref. */
  private insertNew(slot: number, idx: Int32Array, key: string, value: string | number, word: number, seq: number, size: number): number {
    const ref = this.alloc.alloc(size);
    this.writeRecord(ref, key, value, word, seq);
    this.lastRef = ref;
    this.hitKey = key;
    this.hitRef = ref;
    this.insert(idx, this.lastHash, ref);
    this.size++;
    const n = ++this.counts[slot]!;
    // Up to 3/4 full: a miss then probes a few pairs on average.
    if (n * 8 > idx.length * 3) {
      this.resize(slot, grownLog2(31 - Math.clz32(idx.length)));
    }
    return ref;
  }

  /** The insertion number of the key delete() last removed. */
  deletedSeq = 0;
  /** Whether the key delete() last removed had a TTL, and which. */
  deletedHasExpire = false;
  deletedExpire = -1;

  /** Remove `key`; returns its access word, or -1 when it was not here. */
  delete(slot: number, key: string): number {
    const idx = this.index[slot];
    if (idx === undefined) return -1;
    const found = this.find(idx, key);
    if (found < 0) return -1;
    this.hitKey = null;
    const ref = idx[found + 1]!;
    const word = this.word(ref);
    this.deletedSeq = this.seq(ref);
    const ttl = this.hasExpire(ref);
    this.deletedHasExpire = ttl;
    this.deletedExpire = this.expireOf(ref);
    if (ttl) {
      this.ttlCounts[slot]!--;
      this.ttlSize--;
    }
    this.alloc.release(ref, this.recordSizeOf(ref));
    this.size--;
    const n = --this.counts[slot]!;
    if (n === 0) {
      this.blocks.release(idx);
      this.index[slot] = undefined;
      return word;
    }
    // Backward-shift deletion: move later pairs of the run into the hole
    // when their home position allows it, so lookups never meet tombstones.
    const cap = idx.length >>> 1;
    let i = found >>> 1;
    let j = i;
    for (;;) {
      if (++j === cap) j = 0;
      if (idx[j * 2 + 1] === 0) break;
      const h = home(idx[j * 2]!, cap);
      const movable = i <= j ? h <= i || h > j : h <= i && h > j;
      if (movable) {
        idx[i * 2] = idx[j * 2]!;
        idx[i * 2 + 1] = idx[j * 2 + 1]!;
        i = j;
      }
    }
    idx[i * 2] = 0;
    idx[i * 2 + 1] = 0;
    // Give memory back once mostly empty: an eighth full, down to a quarter.
    if (cap > 16 && n * 8 < cap) this.resize(slot, 31 - Math.clz32(idx.length) - 2);
    return word;
  }

  /** Refs of the keys of `slot`, appended to `out`. */
  refsOfSlot(slot: number, out: number[]): void {
    const idx = this.index[slot];
    if (idx === undefined) return;
    for (let p = 1; p < idx.length; p += 2) if (idx[p] !== 0) out.push(idx[p]!);
  }

  /** Positions in `slot`'s index (for walks that resume: sampling). */
  capacityOf(slot: number): number {
    const idx = this.index[slot];
    return idx === undefined ? 0 : idx.length >>> 1;
  }

  /** The ref at position `pos` of `slot`'s index, or 0 when empty (or past the end). */
  refAt(slot: number, pos: number): number {
    const idx = this.index[slot];
    if (idx === undefined || pos * 2 >= idx.length) return 0;
    return idx[pos * 2 + 1]!;
  }

  clear(): void {
    this.alloc.clear();
    this.blocks.clear();
    if (this.index !== NO_INDEX) this.index.fill(undefined);
    if (this.counts !== NO_COUNTS) this.counts.fill(0);
    // A load's index sizing (expectKeys) does not outlive what it was for.
    this.firstLog2Ints = MIN_LOG2_INTS;
    this.size = 0;
    this.ttlCounts = NO_TTLS;
    this.ttlSize = 0;
    this.lastKey = null;
    this.hitKey = null;
  }

  private insert(idx: Int32Array, h: number, ref: number): void {
    const end = idx.length;
    let p = home(h, end >>> 1) << 1;
    while (idx[p + 1] !== 0) {
      p += 2;
      if (p === end) p = 0;
    }
    idx[p] = h;
    idx[p + 1] = ref;
  }

  /** Move `slot`'s index to one of 2^log2Ints ints. */
  private resize(slot: number, log2Ints: number): void {
    const old = this.index[slot]!;
    const idx = this.blocks.alloc(log2Ints);
    for (let p = 0; p < old.length; p += 2) if (old[p + 1] !== 0) this.insert(idx, old[p]!, old[p + 1]!);
    this.blocks.release(old);
    this.index[slot] = idx;
  }

  private recordSizeOf(ref: number): number {
    const u8 = this.alloc.u8[ref >>> OFFSET_BITS]!;
    const off = (ref & OFFSET_MASK) << 3;
    const klen = u8[off + 8]!;
    const size = u8[off + 9] === KIND_NUMBER ? SlabAllocator.roundUp(((19 + klen) & ~7) + 8) : SlabAllocator.roundUp(12 + klen + u8[off + 10]!);
    return (u8[off + 11]! & FLAG_TTL) === 0 ? size : size + 8;
  }

  /**
   * Pack the indexes into fewer slabs when the blocks left free by index
   * growth are a large share of them. A load that adds keys doubles each
   * slot's index five or six times; each outgrown block goes to a free
   * list, but it sits in a slab among the blocks of slots that have not
   * outgrown theirs yet, so the slab stays, and the block was written, so
   * it is resident: 6 MB of 26 at 1M keys, RSS that holds nothing (Redis'
   * active defrag moves allocations for the same reason). Positions within
   * an index do not change (SCAN cursors hold). Returns the bytes of the
   * slabs let go (they return at the next collection); 0: not worth it.
   */
  compactIndexes(): number {
    const freed = this.blocks.freedBytes();
    if (freed < COMPACT_MIN_FREED || freed < this.blocks.bytes * COMPACT_SHARE) return 0;
    return this.blocks.compact(this.index);
  }

  /**
   * A bulk load is about to add `keys` keys (an RDB's RESIZEDB): each slot's
   * index is made at the size that many keys spread over the slots need,
   * rather than grown there through five or six copies (a tenth of the load
   * of 1M keys). 0 ends the hint and brings indexes sized for keys that went
   * elsewhere (collections) back to the size their keys need.
   */
  expectKeys(keys: number): void {
    if (keys > 0) {
      this.firstLog2Ints = log2IntsFor(Math.ceil(keys / SLOTS));
      return;
    }
    if (this.firstLog2Ints === MIN_LOG2_INTS) return;
    this.firstLog2Ints = MIN_LOG2_INTS;
    for (let slot = 0; slot < SLOTS; slot++) {
      const idx = this.index[slot];
      if (idx === undefined) continue;
      const fits = log2IntsFor(this.counts[slot]!);
      if (fits < 31 - Math.clz32(idx.length)) this.resize(slot, fits);
    }
  }

  /** log2 of the ints a slot's first index gets (expectKeys). */
  private firstLog2Ints = MIN_LOG2_INTS;

  /** `slot`'s index, created when the slot has none (smallest size, or as expectKeys said). */
  private indexOf(slot: number): Int32Array {
    let idx = this.index[slot];
    if (idx === undefined) {
      if (this.index === NO_INDEX) {
        this.index = emptySlotTables();
        this.counts = new Uint32Array(SLOTS);
      }
      idx = this.blocks.alloc(this.firstLog2Ints);
      this.index[slot] = idx;
    }
    return idx;
  }

  /** ttlCounts, made this store's own before its first count is written. */
  private ownTtlCounts(): Uint32Array {
    if (this.ttlCounts === NO_TTLS) this.ttlCounts = new Uint32Array(SLOTS);
    return this.ttlCounts;
  }

  /** Write `when` as the expiry of record `ref` of `size` bytes (its last 8) and flag it. */
  private writeExpire(ref: number, size: number, when: number): void {
    const s = ref >>> OFFSET_BITS;
    const off = (ref & OFFSET_MASK) << 3;
    this.alloc.u8[s]![off + 11] = FLAG_TTL;
    this.alloc.f64[s]![(off + size - 8) >>> 3] = when;
  }

  /** Copy the first `bytes` bytes of record `from` to record `to` (multiples of 8). */
  private copyRecord(from: number, to: number, bytes: number): void {
    const a = this.alloc.u32[from >>> OFFSET_BITS]!;
    const b = this.alloc.u32[to >>> OFFSET_BITS]!;
    const i = (from & OFFSET_MASK) << 1;
    const j = (to & OFFSET_MASK) << 1;
    for (let n = 0; n < bytes >>> 2; n++) b[j + n] = a[i + n]!;
  }

  /** Point `key`'s index pair at its new record `ref` (moved from `old`), and the caches too. */
  private repoint(slot: number, key: string, old: number, ref: number): void {
    const idx = this.index[slot]!;
    idx[this.find(idx, key) + 1] = ref;
    this.hitKey = key;
    this.hitRef = ref;
    // The old record is free: a write through lastRef would break its size's free list.
    if (this.lastRef === old) this.lastRef = ref;
  }

  private writeRecord(ref: number, key: string, value: string | number, word: number, seq: number): void {
    const s = ref >>> OFFSET_BITS;
    const off = (ref & OFFSET_MASK) << 3;
    const u8 = this.alloc.u8[s]!;
    const u32 = this.alloc.u32[s]!;
    u32[off >>> 2] = word;
    u32[(off >>> 2) + 1] = seq;
    const n = key.length;
    u8[off + 8] = n;
    u8[off + 11] = 0;
    const k = off + 12;
    for (let i = 0; i < n; i++) u8[k + i] = key.charCodeAt(i);
    this.writeValue(ref, n, value);
  }

  private writeValue(ref: number, klen: number, value: string | number): void {
    const s = ref >>> OFFSET_BITS;
    const off = (ref & OFFSET_MASK) << 3;
    const u8 = this.alloc.u8[s]!;
    if (typeof value === 'number') {
      u8[off + 9] = KIND_NUMBER;
      // No string length: prefetch() reads the byte at +11 + key length + this one, which must stay in the record.
      u8[off + 10] = 0;
      this.alloc.f64[s]![(off + 19 + klen) >>> 3] = value;
      return;
    }
    u8[off + 9] = KIND_STRING;
    const v = off + 12 + klen;
    if (value === DEFERRED_ARG) {
      // A SET's value copied from the query buffer: it never was a string.
      u8[off + 10] = deferred.end - deferred.start;
      deferred.buf.copy(u8, v, deferred.start, deferred.end);
      return;
    }
    const n = value.length;
    u8[off + 10] = n;
    // A native copy pays for its call from a few dozen bytes on.
    if (n > 32) u8.latin1Write(value, v, n);
    else for (let i = 0; i < n; i++) u8[v + i] = value.charCodeAt(i);
  }
}

/** FNV-1a's 32-bit offset basis and prime (keyHash, and prefetch() over a key's bytes). */
const FNV_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** The index hash of a key: FNV-1a over its latin1 bytes, then MurmurHash3's fmix32 (every input bit reaches every output bit). */
export function keyHash(key: string): number {
  let a = FNV_BASIS ^ key.length;
  for (let i = 0; i < key.length; i++) a = Math.imul(a ^ key.charCodeAt(i), FNV_PRIME);
  return fmix32(a);
}

function fmix32(a: number): number {
  a ^= a >>> 16;
  a = Math.imul(a, 0x85ebca6b);
  a ^= a >>> 13;
  a = Math.imul(a, 0xc2b2ae35);
  return a ^ (a >>> 16);
}

/** Most keys prefetch() takes at once. */
export const PREFETCH_MAX = 128;

/** prefetch()'s per-phase results, one entry per key. */
class PrefetchScratch {
  readonly refs = new Int32Array(PREFETCH_MAX);
  readonly indexes: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(PREFETCH_MAX).fill(undefined);
}

/** log2 of the ints of the index that `n` keys added one by one end in (at most 3/4 of its pairs used: insertNew's growth rule). */
function log2IntsFor(n: number): number {
  const needed = 32 - Math.clz32(Math.max(1, Math.ceil((n * 8) / 3) - 1));
  // Only sizes growth reaches: a loaded slot's index is the one its keys added one by one make.
  let log2 = MIN_LOG2_INTS;
  while (log2 < needed) log2 = grownLog2(log2);
  return log2;
}

/** log2 of the ints of an index grown from 2^log2 ints (FOURFOLD_BELOW_LOG2). */
function grownLog2(log2: number): number {
  return log2 < FOURFOLD_BELOW_LOG2 ? log2 + 2 : log2 + 1;
}

/** Home position of hash `h` in an index of `capacity` pairs. */
function home(h: number, capacity: number): number {
  return Math.floor(((h >>> 0) * capacity) / 4294967296);
}

/**
 * Pairs the read-ahead looks at from a key's home position: a key displaced
 * by linear probing sits a few pairs on (in the same or the next cache
 * line), and a read-ahead that stopped at home would leave its record to
 * miss the cache when the command runs.
 */
const PREFETCH_PROBES = 8;

/** The ref of the first pair from `h`'s home holding hash `h` (the key's, barring a hash collision), or 0. */
function probeRef(idx: Int32Array, h: number): number {
  const end = idx.length;
  let p = home(h, end >>> 1) << 1;
  for (let probes = 0; probes < PREFETCH_PROBES; probes++) {
    const ref = idx[p + 1]!;
    if (ref === 0) return 0;
    if (idx[p] === h) return ref;
    p += 2;
    if (p === end) p = 0;
  }
  return 0;
}

/**
 * Bytes a key of the store costs: its record and its share of the slot's
 * index (8 bytes a pair, indexes between 3/8 and 3/4 full from 64 pairs
 * on, from 3/16 below: a typical share, not this key's).
 */
export function storeKeyBytes(key: string, value: string | number): number {
  return recordSize(key.length, value) + 14;
}

/** Bytes of the record of a key of `klen` bytes holding `value`. */
function recordSize(klen: number, value: string | number): number {
  if (typeof value === 'number') return SlabAllocator.roundUp(((19 + klen) & ~7) + 8);
  return SlabAllocator.roundUp(12 + klen + (value === DEFERRED_ARG ? deferred.end - deferred.start : value.length));
}
