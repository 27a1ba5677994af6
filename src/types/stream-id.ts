/**
 * Stream IDs: two unsigned 64-bit halves, `<ms>-<seq>`, compared as one
 * 128-bit number (stream.h streamID).
 *
 * A U64 is a JS number while it is a safe integer and a bigint beyond
 * (always that way round, so === compares two U64s). IDs of real traffic
 * (a ms timestamp, a small sequence) never leave the number path; an ID up
 * to 18446744073709551615-18446744073709551615 still round-trips exactly.
 * Relational operators compare a number with a bigint exactly, so `<` and
 * `>` work across the two forms.
 */

/** An unsigned 64-bit integer: a number when safe, else a bigint. */
export type U64 = number | bigint;

export interface StreamID {
  readonly ms: U64;
  readonly seq: U64;
}

export const U64_MAX = 18446744073709551615n;
const TWO_64 = 18446744073709551616n;

export const MIN_ID: StreamID = { ms: 0, seq: 0 };
export const MAX_ID: StreamID = { ms: U64_MAX, seq: U64_MAX };

/** The canonical form of an integer: a number when it is a safe integer, else a bigint. */
export function u64(v: bigint | number): U64 {
  if (typeof v === 'number') return v;
  return v <= 9007199254740991n && v >= -9007199254740991n ? Number(v) : v;
}

/** A counter as Redis replies with it (addReplyLongLong of a 64-bit value): its int64 reading. */
export function asInt64(v: U64): U64 {
  if (typeof v === 'number') return v;
  return u64(BigInt.asIntN(64, v));
}

/** a + b for integers of either form (the caller keeps the result in range). */
export function addInt(a: U64, b: number | bigint): U64 {
  if (typeof a === 'number' && typeof b === 'number') {
    const r = a + b;
    // Two safe integers add exactly whenever the exact sum is safe.
    if (r <= 9007199254740991 && r >= -9007199254740991) return r;
  }
  return u64(BigInt(a) + BigInt(b));
}

/** (base + delta) mod 2^64: an entry ID from its node's master ID and a listpack delta (int64). */
export function addWrapping(base: U64, delta: number | bigint): U64 {
  if (typeof base === 'number' && typeof delta === 'number') {
    const r = base + delta;
    if (r <= 9007199254740991 && r >= 0) return r;
  }
  let r = BigInt(base) + BigInt(delta);
  if (r < 0n) r += TWO_64;
  else if (r >= TWO_64) r -= TWO_64;
  return u64(r);
}

/** (a - b) mod 2^64 read as an int64: the delta Redis stores for an entry (lpAppendInteger of a uint64 difference). */
export function deltaInt64(a: U64, b: U64): number | bigint {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  let d = BigInt(a) - BigInt(b);
  if (d < 0n) d += TWO_64;
  if (d >= 1n << 63n) d -= TWO_64;
  return d >= -9007199254740991n && d <= 9007199254740991n ? Number(d) : d;
}

export function compareIds(a: StreamID, b: StreamID): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.seq !== b.seq) return a.seq < b.seq ? -1 : 1;
  return 0;
}

export function idEquals(a: StreamID, b: StreamID): boolean {
  return a.ms === b.ms && a.seq === b.seq;
}

export function isZeroId(id: StreamID): boolean {
  return id.ms === 0 && id.seq === 0;
}

export function formatId(id: StreamID): string {
  return `${id.ms}-${id.seq}`;
}

/** streamIncrID: the next ID, or null past the maximum. */
export function incrId(id: StreamID): StreamID | null {
  if (id.seq !== U64_MAX) return { ms: id.ms, seq: addInt(id.seq, 1) };
  if (id.ms === U64_MAX) return null;
  return { ms: addInt(id.ms, 1), seq: 0 };
}

/** streamDecrID: the previous ID, or null before 0-0. */
export function decrId(id: StreamID): StreamID | null {
  if (id.seq !== 0) return { ms: id.ms, seq: addInt(id.seq, -1) };
  if (id.ms === 0) return null;
  return { ms: addInt(id.ms, -1), seq: U64_MAX };
}

// ---- 128-bit keys ------------------------------------------------------------------
// The ID as 16 big-endian bytes in a latin1 string (streamEncodeID): string
// order is ID order, so keys sort and compare without decoding.

function high(v: U64): number {
  return typeof v === 'number' ? Math.floor(v / 4294967296) : Number(v >> 32n);
}

function low(v: U64): number {
  return typeof v === 'number' ? v >>> 0 : Number(v & 0xffffffffn);
}

export function idKey(id: StreamID): string {
  const mh = high(id.ms);
  const ml = low(id.ms);
  const sh = high(id.seq);
  const sl = low(id.seq);
  // One call makes one flat string (joined 4-char pieces would be a rope, flattened at the first compare).
  return String.fromCharCode(
    mh >>> 24, (mh >>> 16) & 255, (mh >>> 8) & 255, mh & 255,
    ml >>> 24, (ml >>> 16) & 255, (ml >>> 8) & 255, ml & 255,
    sh >>> 24, (sh >>> 16) & 255, (sh >>> 8) & 255, sh & 255,
    sl >>> 24, (sl >>> 16) & 255, (sl >>> 8) & 255, sl & 255,
  );
}

function readWord(k: string, at: number): number {
  return ((k.charCodeAt(at) << 24) | (k.charCodeAt(at + 1) << 16) | (k.charCodeAt(at + 2) << 8) | k.charCodeAt(at + 3)) >>> 0;
}

function fromHalves(hi: number, lo: number): U64 {
  if (hi < 0x200000) return hi * 4294967296 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function idFromKey(k: string): StreamID {
  return { ms: fromHalves(readWord(k, 0), readWord(k, 4)), seq: fromHalves(readWord(k, 8), readWord(k, 12)) };
}

/** The ID of 16 big-endian bytes (RDB node keys and PEL entries). */
export function idFromBytes(b: Uint8Array, at = 0): StreamID {
  const w = (o: number) => ((b[at + o]! << 24) | (b[at + o + 1]! << 16) | (b[at + o + 2]! << 8) | b[at + o + 3]!) >>> 0;
  return { ms: fromHalves(w(0), w(4)), seq: fromHalves(w(8), w(12)) };
}

/** The 16 big-endian bytes of an ID. */
export function idBytes(id: StreamID): Buffer {
  return Buffer.from(idKey(id), 'latin1');
}

// ---- parsing ------------------------------------------------------------------------

const UINT64_DIGITS = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/;

/**
 * Redis' string2ull: string2ll's strict form first (a negative value fails),
 * else strtoull, which also takes leading spaces, a sign (a minus wraps
 * around) and leading zeros, and fails on overflow. A NUL byte ends the
 * string, as C reads it.
 */
export function parseU64(s: string): U64 | null {
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  const n = s.length;
  // Fast path: plain digits without a leading zero, short enough to be a safe integer.
  if (n > 0 && n < 16) {
    let v = 0;
    let i = 0;
    for (; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === n && (s.charCodeAt(0) !== 48 || n === 1)) return v;
  }
  if (/^-(?:[1-9][0-9]*)$/.test(s) && s.length <= 20 && BigInt(s) >= -(1n << 63n)) return null; // string2ll took it: negative
  const m = UINT64_DIGITS.exec(s);
  if (m === null) return null;
  const v = BigInt(m[2]!);
  if (v > U64_MAX) return null;
  return u64(m[1] === '-' && v !== 0n ? TWO_64 - v : v);
}

/**
 * `<ms>-<seq>` in its usual form (each part 1-15 digits, no leading zero),
 * read without slicing the string; null for anything else, which the full
 * parser then reads as Redis does.
 */
function plainId(s: string): StreamID | null {
  const n = s.length;
  let i = 0;
  let ms = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) break;
    ms = ms * 10 + d;
  }
  if (i === 0 || i > 15 || i === n || s.charCodeAt(i) !== 45 || (s.charCodeAt(0) === 48 && i > 1)) return null;
  const seqStart = ++i;
  let seq = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    seq = seq * 10 + d;
  }
  const seqLen = n - seqStart;
  if (seqLen === 0 || seqLen > 15 || (s.charCodeAt(seqStart) === 48 && seqLen > 1)) return null;
  return { ms, seq };
}

export interface ParsedId {
  id: StreamID;
  /** False for the `<ms>-*` form (the sequence is to be generated). */
  seqGiven: boolean;
}

/**
 * streamGenericParseIDOrReply without the reply: `<ms>-<seq>`, `<ms>`
 * (sequence `missingSeq`), `-` and `+` unless `strict`, and `<ms>-*` when
 * `allowSeqWildcard`. Null when invalid.
 */
export function parseId(s: string, missingSeq: U64, strict: boolean, allowSeqWildcard = false): ParsedId | null {
  const plain = plainId(s);
  if (plain !== null) return { id: plain, seqGiven: true };
  if (s.length > 127) return null;
  // C sees the argument up to its first NUL byte.
  const nul = s.indexOf('\0');
  const c = nul >= 0 ? s.slice(0, nul) : s;
  if (c === '-' || c === '+') {
    if (strict) return null;
    return { id: c === '-' ? MIN_ID : MAX_ID, seqGiven: true };
  }
  const dash = c.indexOf('-');
  const ms = parseU64(dash >= 0 ? c.slice(0, dash) : c);
  if (ms === null) return null;
  if (dash < 0) return { id: { ms, seq: missingSeq }, seqGiven: true };
  const rest = c.slice(dash + 1);
  if (allowSeqWildcard && rest === '*') return { id: { ms, seq: 0 }, seqGiven: false };
  const seq = parseU64(rest);
  if (seq === null) return null;
  return { id: { ms, seq }, seqGiven: true };
}
