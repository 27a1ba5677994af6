/**
 * Per-key access clock: Redis' 24-bit robj->lru, which OBJECT IDLETIME,
 * OBJECT FREQ, DEBUG OBJECT and RESTORE IDLETIME/FREQ expose. Under an LRU
 * (or no-eviction) policy a key's word is the LRU clock of its last access
 * in seconds; under an LFU policy it is 16 bits of minutes and an 8-bit
 * logarithmic access counter, exactly as in Redis' evict.c.
 *
 * Keys in the off-heap string store (string-store.ts) keep their word in
 * their record. The other keys' values (JS strings too long for the store,
 * bigints, RObjects) are JS values with no spare field for it, so their
 * words live beside the keyspace (KeyAccess, one per database): an
 * open-addressing table of 64-bit key fingerprints, 32-bit words and 32-bit
 * insertion numbers (CLUSTER GETKEYSINSLOT lists a slot newest first),
 * about 20 bytes per key.
 */

/** LRU_CLOCK_MAX: the clock wraps at 24 bits. */
export const LRU_CLOCK_MAX = (1 << 24) - 1;
/** OBJ_SHARED_INTEGERS. */
export const SHARED_INTEGERS = 10000;
/** LFU_INIT_VAL: the counter of a new key under LFU. */
const LFU_INIT_VAL = 5;

/** The eviction-policy side of access tracking, shared by every database. */
export class AccessPolicy {
  /** maxmemory-policy is one of the LFU ones. */
  lfu = false;
  /** maxmemory-policy is one of the LRU ones: RDB files then carry each key's idle time. */
  lru = false;
  lfuLogFactor = 10;
  lfuDecayTime = 1;
  /** Wall-clock ms of the current command (set by the engine). */
  nowMs = Date.now();
  /** A dataset is being loaded: its keys get no entries of their own. */
  loading = false;
  /** The access word of keys without an entry: the time they were loaded. */
  loadWord = 0;
  /**
   * Redis stores the integers 0..9999 as shared objects (unless maxmemory is
   * set with an LRU/LFU policy), and a shared object has ONE access word:
   * every key holding such a value reports the same idle time, starting
   * from server start-up. Reproduced so OBJECT IDLETIME answers as Redis.
   */
  sharedIntegers = true;
  private readonly sharedWords = new Uint32Array(SHARED_INTEGERS).fill(this.lruClock());

  /** Is `v` one of Redis' shared integer objects? */
  isShared(v: unknown): v is number {
    return this.sharedIntegers && typeof v === 'number' && v >= 0 && v < SHARED_INTEGERS && Number.isInteger(v);
  }

  sharedWord(v: number): number {
    return this.sharedWords[v]!;
  }

  setSharedWord(v: number, word: number): void {
    this.sharedWords[v] = word;
  }

  startLoad(nowMs: number): void {
    this.nowMs = nowMs;
    this.loadWord = this.fresh();
    this.loading = true;
  }

  endLoad(): void {
    this.loading = false;
  }

  /** LRU_CLOCK(): seconds, 24 bits. */
  lruClock(): number {
    return Math.floor(this.nowMs / 1000) & LRU_CLOCK_MAX;
  }

  /** LFUGetTimeInMinutes(): 16 bits. */
  private minutes(): number {
    return Math.floor(this.nowMs / 60000) & 65535;
  }

  /** The word of a key created now. */
  fresh(): number {
    return this.lfu ? (this.minutes() << 8) | LFU_INIT_VAL : this.lruClock();
  }

  /** The word after an access (Redis' lookupKey: updateLFU or LRU_CLOCK). */
  touched(word: number): number {
    if (!this.lfu) return this.lruClock();
    let counter = this.lfuDecayed(word);
    // LFULogIncr: the higher the counter, the less likely an increment.
    if (counter < 255) {
      const base = Math.max(0, counter - LFU_INIT_VAL);
      if (Math.random() < 1 / (base * this.lfuLogFactor + 1)) counter++;
    }
    return (this.minutes() << 8) | counter;
  }

  /** LFUDecrAndReturn: the counter less one per lfu-decay-time minutes since the last access. */
  lfuDecayed(word: number): number {
    const last = word >>> 8;
    const counter = word & 255;
    const now = this.minutes();
    const elapsed = now >= last ? now - last : 65535 - last + now;
    const periods = this.lfuDecayTime > 0 ? Math.floor(elapsed / this.lfuDecayTime) : 0;
    return periods > counter ? 0 : counter - periods;
  }

  /** estimateObjectIdleTime in ms (the LRU reading of a word). */
  idleMs(word: number): number {
    const clock = this.lruClock();
    return (clock >= word ? clock - word : clock + (LRU_CLOCK_MAX - word)) * 1000;
  }

  /**
   * What an RDB file records of a key's access word (rdbSaveKeyValuePair):
   * IDLE seconds under an LRU policy, the FREQ counter under an LFU one.
   */
  savedIdle(word: number): number {
    return this.lru ? this.idleSeconds(word) : -1;
  }

  savedFreq(word: number): number {
    return this.lfu ? this.lfuDecayed(word) : -1;
  }

  /** Idle time in whole seconds, as OBJECT IDLETIME and DEBUG OBJECT report it. */
  idleSeconds(word: number): number {
    return Math.floor(this.idleMs(word) / 1000);
  }

  /**
   * objectSetLRUOrLFU: the word for RESTORE / RDB IDLE and FREQ, or -1 when
   * the policy ignores it. RESTORE gives its IDLETIME exactly (a bigint):
   * Redis scales it as lru_idle*1000/1000 in a long long, which wraps past
   * 2^63 / 1000 seconds.
   */
  restored(freq: number, idleSeconds: number | bigint): number {
    if (this.lfu) return freq >= 0 ? (this.minutes() << 8) | freq : -1;
    if (typeof idleSeconds === 'bigint') {
      if (idleSeconds < 0n) return -1;
      let exact = BigInt(this.lruClock()) - BigInt.asIntN(64, idleSeconds * 1000n) / 1000n;
      if (exact < 0n) exact += BigInt(LRU_CLOCK_MAX);
      return Number(BigInt.asUintN(24, exact));
    }
    if (idleSeconds < 0) return -1;
    let abs = this.lruClock() - idleSeconds;
    if (abs < 0) abs += LRU_CLOCK_MAX;
    // Redis stores it in the 24-bit robj->lru field: an idle time past the clock's range wraps.
    return abs & LRU_CLOCK_MAX;
  }
}

/**
 * Key -> access word, open addressing with linear probing over typed
 * arrays. A key is represented by a 64-bit fingerprint (two independent
 * 32-bit hashes of all its bytes) rather than a pointer to its string:
 * probing then touches no string (no cache miss per probe), the GC has
 * nothing to scan, and two live keys would have to agree on 64 bits to be
 * confused (about 1 in 10^7 for a billion keys).
 */
export class AccessTable {
  /** Slot i is [4i]: first hash, [4i+1]: second hash (0: empty), [4i+2]: word, [4i+3]: insertion number. */
  private slots: Int32Array;
  private capacity: number;
  size = 0;
  // The key last given to hash() and its fingerprint.
  private lastKey: string | null = null;
  private h1 = 0;
  private h2 = 0;

  constructor(capacity = 16) {
    this.capacity = capacity;
    this.slots = new Int32Array(capacity * 4);
  }

  /** Fingerprint `key` into h1/h2 (h2 is never 0: 0 marks an empty slot). */
  private hash(key: string): void {
    // A command looks a key up and then writes it: hash that string once.
    if (key === this.lastKey) return;
    this.lastKey = key;
    let a = 0x811c9dc5 ^ key.length;
    let b = 0x9747b28c;
    for (let i = 0; i < key.length; i++) {
      const c = key.charCodeAt(i);
      a = Math.imul(a ^ c, 0x01000193);
      b = Math.imul(b + c, 0x5bd1e995);
    }
    // fmix32 from MurmurHash3: every input bit reaches every output bit.
    a ^= a >>> 16;
    a = Math.imul(a, 0x85ebca6b);
    a ^= a >>> 13;
    a = Math.imul(a, 0xc2b2ae35);
    a ^= a >>> 16;
    b ^= b >>> 16;
    b = Math.imul(b, 0x85ebca6b);
    b ^= b >>> 13;
    b = Math.imul(b, 0xc2b2ae35);
    b ^= b >>> 16;
    this.h1 = a;
    this.h2 = b | 1;
  }

  /** Home slot of a fingerprint: its first hash mapped onto [0, capacity). */
  private home(h1: number): number {
    return Math.floor(((h1 >>> 0) * this.capacity) / 4294967296);
  }

  /** Offset (4 * slot) of the last hashed key, or -1. */
  private find(): number {
    const slots = this.slots;
    const h1 = this.h1;
    const h2 = this.h2;
    const end = this.capacity * 4;
    let o = this.home(h1) * 4;
    for (;;) {
      const f2 = slots[o + 1]!;
      if (f2 === 0) return -1;
      if (f2 === h2 && slots[o] === h1) return o;
      o += 4;
      if (o === end) o = 0;
    }
  }

  /** What warm() read: stored, so the compiler cannot drop the read as unused. */
  warmed = 0;

  /**
   * Hash `key` and read its home slot, so that the cache line is on its
   * way while the caller looks the key up in the keyspace (several
   * dependent cache misses at millions of keys): the get or set that
   * follows then finds the fingerprint computed and the slot in cache.
   */
  warm(key: string): void {
    this.hash(key);
    this.warmed = this.slots[this.home(this.h1) * 4 + 1]!;
  }

  /** The key's word, or -1 when it has none. */
  get(key: string): number {
    this.hash(key);
    const o = this.find();
    return o < 0 ? -1 : this.slots[o + 2]! >>> 0;
  }

  /** The key's insertion number, or 0 when it has none. */
  seq(key: string): number {
    this.hash(key);
    const o = this.find();
    return o < 0 ? 0 : this.slots[o + 3]! >>> 0;
  }

  /** Set the word of `key`, inserting it (with insertion number `seq`) when new. */
  set(key: string, word: number, seq = 0): void {
    this.hash(key);
    const o = this.find();
    if (o >= 0) {
      this.slots[o + 2] = word;
      return;
    }
    this.insert(this.h1, this.h2, word, seq);
    if (++this.size * 5 > this.capacity * 4) this.resize(Math.ceil(this.capacity * 1.5));
  }

  /** Set both the word and the insertion number of `key`. */
  put(key: string, word: number, seq: number): void {
    this.set(key, word, seq);
    this.slots[this.find() + 3] = seq;
  }

  private insert(h1: number, h2: number, word: number, seq: number): void {
    const slots = this.slots;
    const end = this.capacity * 4;
    let o = this.home(h1) * 4;
    while (slots[o + 1] !== 0) {
      o += 4;
      if (o === end) o = 0;
    }
    slots[o] = h1;
    slots[o + 1] = h2;
    slots[o + 2] = word;
    slots[o + 3] = seq;
  }

  delete(key: string): void {
    this.hash(key);
    const found = this.find();
    if (found < 0) return;
    const slots = this.slots;
    const cap = this.capacity;
    // Backward-shift deletion: move later entries of the run into the hole
    // when their home position allows it, so lookups never need tombstones.
    let i = found / 4;
    let j = i;
    for (;;) {
      if (++j === cap) j = 0;
      if (slots[j * 4 + 1] === 0) break;
      const h = this.home(slots[j * 4]!);
      const movable = i <= j ? h <= i || h > j : h <= i && h > j;
      if (movable) {
        slots.copyWithin(i * 4, j * 4, j * 4 + 4);
        i = j;
      }
    }
    slots[i * 4 + 1] = 0;
    this.size--;
    // Give memory back once mostly empty (as Redis shrinks its dicts).
    if (cap > 64 && this.size * 8 < cap) this.resize(Math.max(16, Math.ceil(this.size * 2)));
  }

  clear(): void {
    this.capacity = 16;
    this.slots = new Int32Array(64);
    this.size = 0;
  }

  private resize(capacity: number): void {
    const old = this.slots;
    this.capacity = capacity;
    this.slots = new Int32Array(capacity * 4);
    for (let o = 0; o < old.length; o += 4) if (old[o + 1] !== 0) this.insert(old[o]!, old[o + 1]!, old[o + 2]!, old[o + 3]!);
  }
}

/**
 * The access words of one database, written straight into the fingerprint
 * table. (A map of pending words folded in by the cron used to sit in
 * front of it: with keys spread over a large keyspace every access then
 * cost a Map insert, and the fold hashed each key again, long after its
 * string had left the cache, and missed in the table anyway.)
 */
export class KeyAccess {
  private table = new AccessTable();
  // The last LRU stamp recorded: the same key stamped again within the
  // same second (GET then SET, MSET of one key, a hot key) changes nothing.
  private lastKey: string | null = null;
  private lastWord = -1;

  constructor(private readonly policy: AccessPolicy) {}

  /** `key` is about to be looked up in the keyspace: start fetching its word (AccessTable.warm). */
  warm(key: string): void {
    this.table.warm(key);
  }

  /** The word of an existing key (one loaded from a file may have no entry: it has the load's word). */
  word(key: string): number {
    const t = this.table.get(key);
    return t >= 0 ? t : this.policy.loadWord;
  }

  /** A new key, the `seq`th inserted in its database. */
  created(key: string, seq: number): void {
    const policy = this.policy;
    // Loading: the key gets the load's word (RDB IDLE/FREQ may set another).
    this.lastKey = null;
    this.table.put(key, policy.loading ? policy.loadWord : policy.fresh(), seq);
  }

  /** The insertion number of an existing key (0 if it has none). */
  seq(key: string): number {
    return this.table.seq(key);
  }

  /** A key moved here from the string store keeps its word and insertion number. */
  adopt(key: string, word: number, seq: number): void {
    this.lastKey = null;
    this.table.put(key, word, seq);
  }

  /** Stamp the key with the LRU clock. */
  private stamp(key: string): void {
    const word = this.policy.lruClock();
    // Equal strings compare by their cached hashes first: a miss is cheap.
    if (key === this.lastKey && word === this.lastWord) return;
    this.lastKey = key;
    this.lastWord = word;
    this.table.set(key, word);
  }

  /** An existing key got a new value: a fresh LRU time; LFU keeps its counter (dbSetValue). */
  overwritten(key: string): void {
    if (!this.policy.lfu && !this.policy.loading) this.stamp(key);
  }

  /** An access to an existing key. */
  touched(key: string): void {
    const policy = this.policy;
    if (policy.loading) return;
    if (!policy.lfu) {
      this.stamp(key);
      return;
    }
    this.table.set(key, policy.touched(this.word(key)));
  }

  /** Set the word of an existing key (RESTORE / RDB IDLE and FREQ). */
  set(key: string, word: number): void {
    this.lastKey = null;
    this.table.set(key, word);
  }

  deleted(key: string): void {
    this.lastKey = null;
    this.table.delete(key);
  }

  clear(): void {
    this.table = new AccessTable();
    this.lastKey = null;
  }
}
