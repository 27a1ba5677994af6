/**
 * HyperLogLog (Redis' hyperloglog.c), byte for byte: an HLL is a plain
 * string value, so GET, DUMP and SET see exactly the bytes Redis stores.
 *
 * Layout: a 16-byte header ("HYLL", encoding, 3 unused bytes, the cached
 * cardinality as a little-endian uint64 whose top bit marks it stale) and
 * then the 16384 registers (HLL_P = 14), either
 *  - dense: 6 bits per register, packed from each byte's LSB upward
 *    (12288 bytes), or
 *  - sparse: run-length opcodes ZERO (00xxxxxx: 1-64 zero registers),
 *    XZERO (01xxxxxx yyyyyyyy: 1-16384 zero registers) and VAL (1vvvvvxx:
 *    1-4 registers of value 1-32).
 * A new HLL is sparse and is promoted to dense when a register needs a value
 * above 32 or the string would grow past hll-sparse-max-bytes.
 *
 * Strings are client-supplied (SET, RESTORE), so every walk over opcodes is
 * bounded by the string's length and reports a corrupt one instead of
 * trusting its run lengths. A read one byte past the end yields 0, as the
 * terminating NUL of Redis' sds does.
 */

import { MutableString } from './string.js';

export const HLL_P = 14;
export const HLL_REGISTERS = 1 << HLL_P;
const HLL_P_MASK = HLL_REGISTERS - 1;
/** Bits of the hash left for the run of zeroes: 64 - P. */
const HLL_Q = 64 - HLL_P;
const HLL_BITS = 6;
const HLL_REGISTER_MAX = (1 << HLL_BITS) - 1;
export const HLL_HDR_SIZE = 16;
export const HLL_DENSE_SIZE = HLL_HDR_SIZE + (HLL_REGISTERS * HLL_BITS) / 8;
export const HLL_DENSE = 0;
export const HLL_SPARSE = 1;
const HLL_MAX_ENCODING = 1;
/** Offset of the cached cardinality's most significant byte (its top bit: stale). */
const CARD_MSB = 15;

const SPARSE_VAL_MAX_VALUE = 32;
const SPARSE_VAL_MAX_LEN = 4;
const SPARSE_ZERO_MAX_LEN = 64;
const SPARSE_XZERO_MAX_LEN = 16384;

export const HLL_WRONGTYPE = 'WRONGTYPE Key is not a valid HyperLogLog string value.';
export const HLL_INVALID = 'INVALIDOBJ Corrupted HLL object detected';

// ---- MurmurHash64A (seed 0xadc83b19), in 32-bit halves ---------------------------

const M_HI = 0xc6a4a793;
const M_LO = 0x5bd1e995;
const SEED = 0xadc83b19;

// The product of the last mulM and the running hash, in a typed array: module
// variables would box every uint32 above 2^30 into a heap number.
const state = new Uint32Array(4);
const PROD_HI = 0;
const PROD_LO = 1;
const HASH_HI = 2;
const HASH_LO = 3;

/** (hi:lo * 0xc6a4a7935bd1e995) mod 2^64 into state[PROD_HI]:state[PROD_LO]. */
function mulM(hi: number, lo: number): void {
  // The high half of lo * M_LO needs 16-bit limbs to stay exact in doubles.
  const a0 = lo & 0xffff;
  const a1 = lo >>> 16;
  const b0 = M_LO & 0xffff;
  const b1 = M_LO >>> 16;
  const p00 = a0 * b0;
  const p10 = a1 * b0;
  const p01 = a0 * b1;
  const mid = (p00 >>> 16) + (p10 & 0xffff) + (p01 & 0xffff);
  const carry = a1 * b1 + (p10 >>> 16) + (p01 >>> 16) + (mid >>> 16);
  state[PROD_LO] = Math.imul(lo, M_LO);
  state[PROD_HI] = carry + Math.imul(hi, M_LO) + Math.imul(lo, M_HI);
}

/** Start a hash of `len` bytes: h = seed ^ (len * m). */
function hashStart(len: number): void {
  mulM(0, len);
  state[HASH_HI] = state[PROD_HI]!;
  state[HASH_LO] = state[PROD_LO]! ^ SEED;
}

/** Mix one 8-byte block k (little endian, as two 32-bit halves) into the hash. */
function hashBlock(kHi: number, kLo: number): void {
  mulM(kHi, kLo);
  // k ^= k >> 47: only the high half reaches the low one.
  const hi = state[PROD_HI]!;
  mulM(hi, (state[PROD_LO]! ^ (hi >>> 15)) >>> 0);
  mulM((state[HASH_HI]! ^ state[PROD_HI]!) >>> 0, (state[HASH_LO]! ^ state[PROD_LO]!) >>> 0);
  state[HASH_HI] = state[PROD_HI]!;
  state[HASH_LO] = state[PROD_LO]!;
}

/** The final avalanche: h ^= h >> 47; h *= m; h ^= h >> 47. */
function hashFinish(): void {
  const hi = state[HASH_HI]!;
  mulM(hi, (state[HASH_LO]! ^ (hi >>> 15)) >>> 0);
  state[HASH_HI] = state[PROD_HI]!;
  state[HASH_LO] = state[PROD_LO]! ^ (state[PROD_HI]! >>> 15);
}

/** MurmurHash64A of a latin1 string (one byte per char) into state[HASH_HI]:state[HASH_LO]. */
function murmur64(s: string): void {
  const len = s.length;
  hashStart(len);
  const end = len - (len & 7);
  for (let i = 0; i < end; i += 8) {
    const kLo = (s.charCodeAt(i) | (s.charCodeAt(i + 1) << 8) | (s.charCodeAt(i + 2) << 16) | (s.charCodeAt(i + 3) << 24)) >>> 0;
    const kHi = (s.charCodeAt(i + 4) | (s.charCodeAt(i + 5) << 8) | (s.charCodeAt(i + 6) << 16) | (s.charCodeAt(i + 7) << 24)) >>> 0;
    hashBlock(kHi, kLo);
  }
  const rest = len & 7;
  if (rest !== 0) {
    let tHi = 0;
    let tLo = 0;
    for (let j = rest - 1; j >= 0; j--) {
      const c = s.charCodeAt(end + j);
      if (j >= 4) tHi |= c << ((j - 4) * 8);
      else tLo |= c << (j * 8);
    }
    mulM((state[HASH_HI]! ^ tHi) >>> 0, (state[HASH_LO]! ^ tLo) >>> 0);
    state[HASH_HI] = state[PROD_HI]!;
    state[HASH_LO] = state[PROD_LO]!;
  }
  hashFinish();
}

/** Redis' hllPatLen of the hash in state[HASH_HI]:state[HASH_LO], packed as (count << 14) | index. */
function patternOfHash(): number {
  const hashHi = state[HASH_HI]!;
  const hashLo = state[HASH_LO]!;
  const index = hashLo & HLL_P_MASK;
  // Count trailing zeroes of hash >> 14 with bit 50 set as a stop.
  const low = hashLo >>> HLL_P;
  let count: number;
  if (low !== 0) count = 1 + (31 - Math.clz32(low & -low));
  else if (hashHi !== 0) count = 1 + (32 - HLL_P) + (31 - Math.clz32(hashHi & -hashHi));
  else count = HLL_Q + 1;
  return (count << HLL_P) | index;
}

/**
 * Redis' hllPatLen: the register an element goes to and the length of its
 * hash's 000..1 pattern, packed as (count << 14) | index.
 */
export function hllPattern(ele: string): number {
  murmur64(ele);
  return patternOfHash();
}

/** hllPattern of an 8-byte element given as its little-endian 32-bit halves (PFSELFTEST's uint64s). */
export function hllPatternOfWords(hi: number, lo: number): number {
  hashStart(8);
  hashBlock(hi >>> 0, lo >>> 0);
  hashFinish();
  return patternOfHash();
}

// ---- header ---------------------------------------------------------------------------

/** A new HLL as Redis' createHLLObject makes it: sparse, all registers zero, cache valid (0). */
export function createHll(): MutableString {
  const runs = Math.ceil(HLL_REGISTERS / SPARSE_XZERO_MAX_LEN);
  const length = HLL_HDR_SIZE + runs * 2;
  // Room for a few splits before the first reallocation.
  const m = MutableString.adopt(Buffer.allocUnsafe(length + 46).fill(0, 0, length));
  m.length = length;
  const b = m.buf;
  b.latin1Write('HYLL', 0);
  b[4] = HLL_SPARSE;
  let left = HLL_REGISTERS;
  for (let p = HLL_HDR_SIZE; left > 0; p += 2) {
    const run = Math.min(left, SPARSE_XZERO_MAX_LEN);
    setXzero(b, p, run);
    left -= run;
  }
  return m;
}

/** Redis' isHLLObjectOrReply checks past the type: magic, encoding, dense size. */
export function isHllBytes(b: Uint8Array, len: number): boolean {
  if (len < HLL_HDR_SIZE) return false;
  if (b[0] !== 0x48 || b[1] !== 0x59 || b[2] !== 0x4c || b[3] !== 0x4c) return false;
  const enc = b[4]!;
  if (enc > HLL_MAX_ENCODING) return false;
  return enc !== HLL_DENSE || len === HLL_DENSE_SIZE;
}

export function hllEncoding(b: Uint8Array): number {
  return b[4]!;
}

export function invalidateCache(b: Uint8Array): void {
  b[CARD_MSB]! |= 0x80;
}

/** The cached cardinality, or -1 when stale (a bigint past 2^53: a crafted header can hold one). */
export function cachedCard(b: Uint8Array): number | bigint {
  if (b[CARD_MSB]! & 0x80) return -1;
  const lo = (b[8]! | (b[9]! << 8) | (b[10]! << 16) | (b[11]! << 24)) >>> 0;
  const hi = (b[12]! | (b[13]! << 8) | (b[14]! << 16) | (b[15]! << 24)) >>> 0;
  if (hi < 1 << 21) return hi * 0x100000000 + lo;
  return (BigInt(hi) << 32n) | BigInt(lo);
}

export function storeCard(b: Uint8Array, card: number): void {
  let rest = card;
  for (let i = 0; i < 8; i++) {
    b[8 + i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
}

// ---- dense registers ------------------------------------------------------------

function denseGet(b: Uint8Array, regnum: number): number {
  const bit = regnum * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const fb = bit & 7;
  // With fb <= 2 the register sits in one byte (and the last one has no byte after it).
  const v = fb <= 2 ? b[at]! >>> fb : (b[at]! >>> fb) | (b[at + 1]! << (8 - fb));
  return v & HLL_REGISTER_MAX;
}

/** Set a dense register to `val` (0-63), whatever it held. */
export function setRegister(b: Uint8Array, regnum: number, val: number): void {
  const bit = regnum * HLL_BITS;
  const at = HLL_HDR_SIZE + (bit >>> 3);
  const fb = bit & 7;
  b[at] = (b[at]! & ~(HLL_REGISTER_MAX << fb)) | (val << fb);
  if (fb > 2) {
    const fb8 = 8 - fb;
    b[at + 1] = (b[at + 1]! & ~(HLL_REGISTER_MAX >>> fb8)) | (val >>> fb8);
  }
}

/** Raise a dense register to `count`: 1 if it changed, else 0. */
export function denseSet(b: Uint8Array, regnum: number, count: number): number {
  if (count <= denseGet(b, regnum)) return 0;
  setRegister(b, regnum, count);
  return 1;
}

/** Register values of a dense HLL, one byte each. */
function denseRegisters(b: Uint8Array, into: Uint8Array): void {
  let r = HLL_HDR_SIZE;
  for (let j = 0; j < HLL_REGISTERS; j += 4, r += 3) {
    const b0 = b[r]!;
    const b1 = b[r + 1]!;
    const b2 = b[r + 2]!;
    into[j] = b0 & 63;
    into[j + 1] = ((b0 >>> 6) | (b1 << 2)) & 63;
    into[j + 2] = ((b1 >>> 4) | (b2 << 4)) & 63;
    into[j + 3] = b2 >>> 2;
  }
}

// ---- sparse opcodes -------------------------------------------------------------

const isZero = (op: number): boolean => (op & 0xc0) === 0;
const isXzero = (op: number): boolean => (op & 0xc0) === 0x40;
const isVal = (op: number): boolean => (op & 0x80) !== 0;
const valValue = (op: number): number => ((op >>> 2) & 0x1f) + 1;
const valLen = (op: number): number => (op & 3) + 1;
const zeroLen = (op: number): number => (op & 0x3f) + 1;
const valOp = (value: number, len: number): number => 0x80 | ((value - 1) << 2) | (len - 1);

/** The byte at `at`, or 0 past the end (the NUL after an sds string). */
function byteAt(b: Uint8Array, at: number, end: number): number {
  return at < end ? b[at]! : 0;
}

function xzeroLen(b: Uint8Array, p: number, end: number): number {
  return (((b[p]! & 0x3f) << 8) | byteAt(b, p + 1, end)) + 1;
}

function setXzero(b: Uint8Array, p: number, len: number): void {
  b[p] = 0x40 | ((len - 1) >>> 8);
  b[p + 1] = (len - 1) & 0xff;
}

/** Write a ZERO or XZERO run of `len` at `n`; returns the bytes written. */
function putZeroRun(b: Uint8Array, n: number, len: number): number {
  if (len > SPARSE_ZERO_MAX_LEN) {
    setXzero(b, n, len);
    return 2;
  }
  b[n] = len - 1;
  return 1;
}

/**
 * Walk a sparse HLL's opcodes, calling `visit(first, runlen, value)` for each
 * VAL run that fits inside the registers; returns the registers covered, or
 * -1 when a VAL run would pass the last register (Redis stops there).
 */
function walkSparse(b: Uint8Array, len: number, visit: (first: number, runlen: number, value: number) => void): number {
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const op = b[p]!;
    if (isZero(op)) {
      idx += zeroLen(op);
      p++;
    } else if (isXzero(op)) {
      idx += xzeroLen(b, p, len);
      p += 2;
    } else {
      const runlen = valLen(op);
      if (idx + runlen > HLL_REGISTERS) return -1;
      visit(idx, runlen, valValue(op));
      idx += runlen;
      p++;
    }
  }
  return idx;
}

/** Redis' hllSparseToDense: the dense bytes of a sparse HLL, or null if it is corrupt. */
export function sparseToDense(b: Uint8Array, len: number): Buffer | null {
  const dense = Buffer.alloc(HLL_DENSE_SIZE);
  dense.set(b.subarray(0, HLL_HDR_SIZE), 0);
  dense[4] = HLL_DENSE;
  const covered = walkSparse(b, len, (first, runlen, value) => {
    for (let i = first; i < first + runlen; i++) setRegister(dense, i, value);
  });
  return covered === HLL_REGISTERS ? dense : null;
}

/** Promote a sparse HLL value to dense in place; false if it is corrupt. */
export function promoteToDense(v: MutableString): boolean {
  if (v.buf[4] === HLL_DENSE) return true;
  const dense = sparseToDense(v.buf, v.length);
  if (dense === null) return false;
  v.buf = dense;
  v.length = dense.length;
  return true;
}

/** Room for a split (up to 3 more bytes, 4 when a truncated XZERO ends the string). */
function ensureRoom(v: MutableString, extra: number): void {
  if (v.buf.length >= v.length + extra) return;
  const next = Buffer.allocUnsafe(Math.max(v.length + extra, Math.min(v.length * 2, v.length + 300)));
  v.buf.copy(next, 0, 0, v.length);
  v.buf = next;
}

const seq = new Uint8Array(5);

/**
 * Redis' hllSparseSet: raise register `index` to `count` in a sparse HLL.
 * Returns 1 if it changed, 0 if not, -1 if the HLL is corrupt; may promote
 * the value to dense (a count above 32, or past `maxBytes`).
 */
export function sparseSet(v: MutableString, index: number, count: number, maxBytes: number): number {
  if (count > SPARSE_VAL_MAX_VALUE) return promoteAndSet(v, index, count);
  ensureRoom(v, 5);
  const b = v.buf;
  let end = v.length;

  // Step 1: find the opcode covering `index`.
  let p = HLL_HDR_SIZE;
  let first = 0;
  let prev = -1;
  let span = 0;
  while (p < end) {
    const op = b[p]!;
    let oplen = 1;
    if (isZero(op)) span = zeroLen(op);
    else if (isVal(op)) span = valLen(op);
    else {
      span = xzeroLen(b, p, end);
      oplen = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += oplen;
    first += span;
  }
  if (span === 0 || p >= end) return -1;

  const op = b[p]!;
  let next = isXzero(op) ? p + 2 : p + 1;
  if (next >= end) next = -1;
  const runlen = span;

  if (isVal(op)) {
    const oldcount = valValue(op);
    if (oldcount >= count) return 0;
    if (runlen === 1) {
      b[p] = valOp(count, 1);
      return mergeAdjacent(v, prev, end);
    }
  } else if (isZero(op) && runlen === 1) {
    b[p] = valOp(count, 1);
    return mergeAdjacent(v, prev, end);
  }

  // Step 2: split the opcode into up to three around the register.
  const last = first + span - 1;
  let n = 0;
  if (!isVal(op)) {
    if (index !== first) n += putZeroRun(seq, n, index - first);
    seq[n++] = valOp(count, 1);
    if (index !== last) n += putZeroRun(seq, n, last - index);
  } else {
    const curval = valValue(op);
    if (index !== first) seq[n++] = valOp(curval, index - first);
    seq[n++] = valOp(count, 1);
    if (index !== last) seq[n++] = valOp(curval, last - index);
  }

  // Step 3: put the new sequence in place of the old opcode.
  const delta = n - (isXzero(op) ? 2 : 1);
  if (delta > 0 && v.length + delta > maxBytes) return promoteAndSet(v, index, count);
  if (delta !== 0 && next !== -1) b.copyWithin(next + delta, next, end);
  v.length += delta;
  b.set(seq.subarray(0, n), p);
  end += delta;
  return mergeAdjacent(v, prev, end);
}

/** Step 4 of hllSparseSet: merge equal adjacent VALs near the change, then mark the cache stale. */
function mergeAdjacent(v: MutableString, prev: number, end: number): number {
  const b = v.buf;
  let p = prev >= 0 ? prev : HLL_HDR_SIZE;
  let scanlen = 5;
  while (p < end && scanlen-- !== 0) {
    const op = b[p]!;
    if (isXzero(op)) {
      p += 2;
      continue;
    }
    if (isZero(op)) {
      p++;
      continue;
    }
    if (p + 1 < end && isVal(b[p + 1]!)) {
      const v1 = valValue(op);
      const len = valLen(op) + valLen(b[p + 1]!);
      if (v1 === valValue(b[p + 1]!) && len <= SPARSE_VAL_MAX_LEN) {
        b[p + 1] = valOp(v1, len);
        b.copyWithin(p, p + 1, end);
        v.length--;
        end--;
        continue;
      }
    }
    p++;
  }
  invalidateCache(b);
  return 1;
}

function promoteAndSet(v: MutableString, index: number, count: number): number {
  if (!promoteToDense(v)) return -1;
  return denseSet(v.buf, index, count);
}

/** Redis' hllAdd on a value already checked by isHllBytes: 1 changed, 0 not, -1 corrupt. */
export function hllAdd(v: MutableString, ele: string, maxBytes: number): number {
  return hllAddPattern(v, hllPattern(ele), maxBytes);
}

/** hllAdd of an element already hashed (hllPattern). */
export function hllAddPattern(v: MutableString, pattern: number, maxBytes: number): number {
  const index = pattern & HLL_P_MASK;
  const count = pattern >>> HLL_P;
  return v.buf[4] === HLL_DENSE ? denseSet(v.buf, index, count) : sparseSet(v, index, count, maxBytes);
}

// ---- merging and counting ----------------------------------------------------------

/** Redis' hllMerge: max[i] = MAX(max[i], hll[i]); false if a sparse HLL is corrupt. */
export function mergeInto(max: Uint8Array, b: Uint8Array, len: number): boolean {
  if (b[4] === HLL_DENSE) {
    mergeDense(max, b);
    return true;
  }
  const covered = walkSparse(b, len, (first, runlen, value) => {
    for (let i = first; i < first + runlen; i++) if (value > max[i]!) max[i] = value;
  });
  return covered === HLL_REGISTERS;
}

const unionRegisters = new Uint8Array(HLL_REGISTERS);

/** Zeroed raw registers to merge into (one shared array: PFCOUNT and PFMERGE use it and let go). */
export function emptyRegisters(): Uint8Array {
  return unionRegisters.fill(0);
}

/** max[i] = MAX(max[i], register i) over a dense HLL, four registers per three bytes. */
function mergeDense(max: Uint8Array, b: Uint8Array): void {
  let r = HLL_HDR_SIZE;
  for (let j = 0; j < HLL_REGISTERS; j += 4, r += 3) {
    const b0 = b[r]!;
    const b1 = b[r + 1]!;
    const b2 = b[r + 2]!;
    const v0 = b0 & 63;
    const v1 = ((b0 >>> 6) | (b1 << 2)) & 63;
    const v2 = ((b1 >>> 4) | (b2 << 4)) & 63;
    const v3 = b2 >>> 2;
    if (v0 > max[j]!) max[j] = v0;
    if (v1 > max[j + 1]!) max[j + 1] = v1;
    if (v2 > max[j + 2]!) max[j + 2] = v2;
    if (v3 > max[j + 3]!) max[j + 3] = v3;
  }
}

/** Write raw registers (one byte each) into a dense HLL (hllDenseCompress). */
export function storeRegisters(b: Uint8Array, regs: Uint8Array): void {
  let r = HLL_HDR_SIZE;
  for (let j = 0; j < HLL_REGISTERS; j += 4, r += 3) {
    const v0 = regs[j]!;
    const v1 = regs[j + 1]!;
    const v2 = regs[j + 2]!;
    const v3 = regs[j + 3]!;
    b[r] = v0 | (v1 << 6);
    b[r + 1] = (v1 >>> 2) | (v2 << 4);
    b[r + 2] = (v2 >>> 4) | (v3 << 2);
  }
}

/** Register values of any valid HLL, one byte each (PFDEBUG GETREG reads the dense form). */
export function registersOf(b: Uint8Array): Uint8Array {
  const regs = new Uint8Array(HLL_REGISTERS);
  denseRegisters(b, regs);
  return regs;
}

const histogram = new Int32Array(64);

/** The cardinality of raw registers (one byte each). */
export function countRegisters(regs: Uint8Array): number {
  histogram.fill(0);
  for (let i = 0; i < HLL_REGISTERS; i++) histogram[regs[i]! & 63]!++;
  return estimate(histogram);
}

/** Redis' hllCount of a stored HLL; -1 if a sparse one is corrupt. */
export function hllCount(b: Uint8Array, len: number): number {
  histogram.fill(0);
  if (b[4] === HLL_DENSE) {
    denseHistogram(b);
    return estimate(histogram);
  }
  let idx = 0;
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const op = b[p]!;
    if (isZero(op)) {
      idx += zeroLen(op);
      histogram[0] += zeroLen(op);
      p++;
    } else if (isXzero(op)) {
      const run = xzeroLen(b, p, len);
      idx += run;
      histogram[0] += run;
      p += 2;
    } else {
      idx += valLen(op);
      histogram[valValue(op)] += valLen(op);
      p++;
    }
  }
  return idx === HLL_REGISTERS ? estimate(histogram) : -1;
}

/** Count a dense HLL's register values into the histogram. */
function denseHistogram(b: Uint8Array): void {
  const h = histogram;
  let r = HLL_HDR_SIZE;
  for (let j = 0; j < HLL_REGISTERS; j += 4, r += 3) {
    const b0 = b[r]!;
    const b1 = b[r + 1]!;
    const b2 = b[r + 2]!;
    h[b0 & 63]!++;
    h[((b0 >>> 6) | (b1 << 2)) & 63]!++;
    h[((b1 >>> 4) | (b2 << 4)) & 63]!++;
    h[b2 >>> 2]!++;
  }
}

/** Ertl's sigma (arXiv:1702.01284), as Redis computes it. */
function sigma(x: number): number {
  if (x === 1) return Infinity;
  let zPrime: number;
  let y = 1;
  let z = x;
  do {
    x *= x;
    zPrime = z;
    z += x * y;
    y += y;
  } while (zPrime !== z);
  return z;
}

/** Ertl's tau (arXiv:1702.01284), as Redis computes it. */
function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let zPrime: number;
  let y = 1;
  let z = 1 - x;
  do {
    x = Math.sqrt(x);
    zPrime = z;
    y *= 0.5;
    z -= Math.pow(1 - x, 2) * y;
  } while (zPrime !== z);
  return z / 3;
}

const HLL_ALPHA_INF = 0.721347520444481703680;

/** The improved estimator over a register histogram. */
function estimate(reghisto: Int32Array): number {
  const m = HLL_REGISTERS;
  let z = m * tau((m - reghisto[HLL_Q + 1]!) / m);
  for (let j = HLL_Q; j >= 1; --j) {
    z += reghisto[j]!;
    z *= 0.5;
  }
  z += m * sigma(reghisto[0]! / m);
  return Math.round((HLL_ALPHA_INF * m * m) / z);
}

/** PFDEBUG DECODE's text of a sparse HLL. */
export function decodeSparse(b: Uint8Array, len: number): string {
  const parts: string[] = [];
  let p = HLL_HDR_SIZE;
  while (p < len) {
    const op = b[p]!;
    if (isZero(op)) {
      parts.push(`z:${zeroLen(op)}`);
      p++;
    } else if (isXzero(op)) {
      parts.push(`Z:${xzeroLen(b, p, len)}`);
      p += 2;
    } else {
      parts.push(`v:${valValue(op)},${valLen(op)}`);
      p++;
    }
  }
  return parts.join(' ');
}
