/**
 * Bitmaps over string values (Redis' bitops.c): bit counting and searching
 * (64-bit words at a time, bitmap-kernels.ts), BITFIELD's integer fields,
 * BITOP's operations.
 *
 * Bit 0 is the most significant bit of byte 0; a field of `bits` bits is
 * read most significant bit first from its offset (Redis' convention, the
 * same as SETBIT's). Bytes past a value's end read as zeros.
 */

import { popcountWords, skipWords } from './bitmap-kernels.js';

/** Set bits in each byte value. */
const BYTE_POPCOUNT = new Uint8Array(256);
for (let i = 1; i < 256; i++) BYTE_POPCOUNT[i] = (i & 1) + BYTE_POPCOUNT[i >> 1]!;

/** Set bits of one byte. */
export function bitsInByte(b: number): number {
  return BYTE_POPCOUNT[b & 0xff]!;
}

/** Below this many bytes a byte loop beats copying into the WebAssembly kernels. */
const KERNEL_MIN_BYTES = 256;

/** Set bits in bytes[from, to). */
export function popcount(bytes: Uint8Array, from: number, to: number): number {
  let count = 0;
  let at = from;
  if (to - from >= KERNEL_MIN_BYTES) [count, at] = popcountWords(bytes, from, to);
  for (; at < to; at++) count += BYTE_POPCOUNT[bytes[at]!]!;
  return count;
}

/** The first byte in bytes[from, to) that is not `skip` (0 or 0xff), or -1. */
function firstByteNot(bytes: Uint8Array, from: number, to: number, skip: 0 | 0xff): number {
  let at = to - from >= KERNEL_MIN_BYTES ? skipWords(bytes, from, to, skip) : from;
  for (; at < to; at++) if (bytes[at] !== skip) return at;
  return -1;
}

/** The value of bit `offset` (0 past the end). */
export function getBit(bytes: Uint8Array, offset: number): number {
  const byte = Math.floor(offset / 8);
  if (byte >= bytes.length) return 0;
  return (bytes[byte]! >> (7 - (offset - byte * 8))) & 1;
}

/**
 * The first bit equal to `bit` in bits [fromBit, toBit] of bytes (toBit
 * inside them), or -1. Whole bytes are skipped a word at a time.
 */
export function findBit(bytes: Uint8Array, fromBit: number, toBit: number, bit: 0 | 1): number {
  let at = fromBit;
  // The bits before the first whole byte.
  for (; at <= toBit && at % 8 !== 0; at++) if (getBit(bytes, at) === bit) return at;
  if (at > toBit) return -1;
  const firstByte = at / 8;
  const endByte = Math.floor((toBit + 1) / 8);
  const skip = bit === 1 ? 0 : 0xff;
  const found = firstByteNot(bytes, firstByte, endByte, skip);
  if (found >= 0) {
    const b = bit === 1 ? bytes[found]! : ~bytes[found]! & 0xff;
    return found * 8 + Math.clz32(b) - 24;
  }
  // The bits after the last whole byte.
  for (at = endByte * 8; at <= toBit; at++) if (getBit(bytes, at) === bit) return at;
  return -1;
}

// ---- BITFIELD ---------------------------------------------------------------------

/** A field type: `i1`..`i64` or `u1`..`u63`, with its range for the number path (fieldTypeOf). */
export interface FieldType {
  signed: boolean;
  bits: number;
  /** 2^bits, and the type's least and greatest values (as doubles: exact up to NUMBER_BITS). */
  size: number;
  min: number;
  max: number;
}

function makeFieldType(signed: boolean, bits: number): FieldType {
  const size = 2 ** bits;
  return { signed, bits, size, min: signed ? -(size / 2) : 0, max: signed ? size / 2 - 1 : size - 1 };
}

/** Every type, made once: [unsigned by width, signed by width] (index 0 unused). */
const FIELD_TYPES = [false, true].map((signed) => Array.from({ length: 65 }, (_, bits) => makeFieldType(signed, bits)));

/** The type of `bits` bits (1..64), signed or not. */
export function fieldTypeOf(signed: boolean, bits: number): FieldType {
  return FIELD_TYPES[signed ? 1 : 0]![bits]!;
}

/** Fields this narrow, with arguments within 2^53, are computed with doubles (exactly). */
const NUMBER_BITS = 48;

/** The unsigned value of a field of at most 53 bits (zeros past the end). */
function readNumber(bytes: Uint8Array, offset: number, bits: number): number {
  let byte = Math.floor(offset / 8);
  let shift = 7 - (offset - byte * 8);
  let current = byte < bytes.length ? bytes[byte]! : 0;
  let value = 0;
  for (let j = 0; j < bits; j++) {
    value = value * 2 + ((current >> shift) & 1);
    if (--shift < 0) {
      shift = 7;
      byte++;
      current = byte < bytes.length ? bytes[byte]! : 0;
    }
  }
  return value;
}

/** Write the low `bits` bits of hi:lo (two 32-bit halves) at `offset` (bytes cover it). */
function writeHalves(bytes: Uint8Array, offset: number, bits: number, hi: number, lo: number): void {
  let byte = Math.floor(offset / 8);
  let shift = 7 - (offset - byte * 8);
  for (let j = bits - 1; j >= 0; j--) {
    const bit = j >= 32 ? (hi >>> (j - 32)) & 1 : (lo >>> j) & 1;
    bytes[byte] = (bytes[byte]! & ~(1 << shift)) | (bit << shift);
    if (--shift < 0) {
      shift = 7;
      byte++;
    }
  }
}

/** A field's value as a number (types of at most NUMBER_BITS bits). */
export function readFieldNumber(bytes: Uint8Array, offset: number, type: FieldType): number {
  const u = readNumber(bytes, offset, type.bits);
  return type.signed && u > type.max ? u - type.size : u;
}

/** A field's value as an int64 / uint64 bigint (any type). */
export function readFieldBig(bytes: Uint8Array, offset: number, type: FieldType): bigint {
  const bits = type.bits;
  const u = bits <= 32 ? BigInt(readNumber(bytes, offset, bits)) : (BigInt(readNumber(bytes, offset, bits - 32)) << 32n) | BigInt(readNumber(bytes, offset + bits - 32, 32));
  return type.signed ? BigInt.asIntN(bits, u) : u;
}

/** Store a number in range of the field's type (two's complement for negatives). */
export function writeFieldNumber(bytes: Uint8Array, offset: number, type: FieldType, value: number): void {
  const u = value < 0 ? value + type.size : value;
  const hi = Math.floor(u / 2 ** 32);
  writeHalves(bytes, offset, type.bits, hi, u - hi * 2 ** 32);
}

/** Store the low bits of a bigint in the field. */
export function writeFieldBig(bytes: Uint8Array, offset: number, type: FieldType, value: bigint): void {
  const u = BigInt.asUintN(64, value);
  writeHalves(bytes, offset, type.bits, Number(u >> 32n), Number(u & 0xffffffffn));
}

export const OVERFLOW_WRAP = 0;
export const OVERFLOW_SAT = 1;
export const OVERFLOW_FAIL = 2;
export type Overflow = typeof OVERFLOW_WRAP | typeof OVERFLOW_SAT | typeof OVERFLOW_FAIL;

/** The field's new value, or null when it overflows under FAIL. */
export type FieldResult = number | bigint | null;

/** Whether the number fast path computes this operation exactly. */
export function numberPathFits(type: FieldType, argument: number | bigint): argument is number {
  return type.bits <= NUMBER_BITS && typeof argument === 'number';
}

/**
 * value + incr stored in the type (value: the field's current value for
 * INCRBY; the argument with incr 0 for SET), with the overflow policy,
 * for types and arguments numberPathFits accepts.
 */
export function addNumber(type: FieldType, value: number, incr: number, overflow: Overflow): number | null {
  const { size, min, max } = type;
  // An unsigned SET of a negative int64 is its uint64: above every maximum.
  const sum = value + incr;
  const high = sum > max || (!type.signed && incr === 0 && value < 0);
  const low = !high && sum < min;
  if (!high && !low) return sum;
  if (overflow === OVERFLOW_FAIL) return null;
  if (overflow === OVERFLOW_SAT) return high ? max : min;
  const wrapped = ((sum % size) + size) % size;
  return type.signed && wrapped > max ? wrapped - size : wrapped;
}

/**
 * The same in int64/uint64 arithmetic, as Redis computes it
 * (checkSignedBitfieldOverflow / checkUnsignedBitfieldOverflow), including
 * where its wrapped intermediate values decide: an i8 SAT SET of a value
 * just above -2^63 saturates to the maximum there, and so here.
 */
export function addBig(type: FieldType, value: bigint, incr: bigint, overflow: Overflow): bigint | null {
  const bits = BigInt(type.bits);
  if (!type.signed) {
    const v = BigInt.asUintN(64, value);
    const max = (1n << bits) - 1n;
    const maxIncr = BigInt.asIntN(64, max - v);
    const minIncr = BigInt.asIntN(64, -v);
    const high = v > max || (incr > 0n && incr > maxIncr);
    const low = !high && incr < 0n && incr < minIncr;
    if (!high && !low) return v + incr;
    if (overflow === OVERFLOW_FAIL) return null;
    if (overflow === OVERFLOW_SAT) return high ? max : 0n;
    return BigInt.asUintN(type.bits, v + incr);
  }
  const max = type.bits === 64 ? (1n << 63n) - 1n : (1n << (bits - 1n)) - 1n;
  const min = -max - 1n;
  const maxIncr = BigInt.asIntN(64, max - value);
  const minIncr = BigInt.asIntN(64, min - value);
  const wide = type.bits !== 64;
  const high = value > max || (wide && incr > maxIncr) || (value >= 0n && incr > 0n && incr > maxIncr);
  const low = !high && (value < min || (wide && incr < minIncr) || (value < 0n && incr < 0n && incr < minIncr));
  if (!high && !low) return value + incr;
  if (overflow === OVERFLOW_FAIL) return null;
  if (overflow === OVERFLOW_SAT) return high ? max : min;
  return BigInt.asIntN(type.bits, value + incr);
}

// ---- BITOP ---------------------------------------------------------------------------

export type BitOp = 'and' | 'or' | 'xor' | 'not' | 'diff' | 'diff1' | 'andor' | 'one';

export const BIT_OPS: ReadonlySet<string> = new Set<BitOp>(['and', 'or', 'xor', 'not', 'diff', 'diff1', 'andor', 'one']);

/** OR of sources into `out` (zeros past each source's end). */
function orInto(out: Buffer, sources: readonly Uint8Array[]): void {
  for (const s of sources) for (let j = 0; j < s.length; j++) out[j]! |= s[j]!;
}

/**
 * The result of BITOP `op` over `sources` (shorter ones read as zeros):
 * as long as the longest, empty when every source is.
 */
export function bitop(op: BitOp, sources: readonly Uint8Array[]): Buffer {
  const length = sources.reduce((n, s) => Math.max(n, s.length), 0);
  const out = Buffer.alloc(length);
  if (length === 0) return out;
  const [first, ...rest] = sources as [Uint8Array, ...Uint8Array[]];
  switch (op) {
    case 'not':
      for (let j = 0; j < length; j++) out[j] = ~(j < first.length ? first[j]! : 0);
      break;
    case 'and':
      out.set(first);
      for (const s of rest) {
        for (let j = 0; j < s.length; j++) out[j]! &= s[j]!;
        out.fill(0, s.length);
      }
      break;
    case 'or':
      orInto(out, sources);
      break;
    case 'xor':
      for (const s of sources) for (let j = 0; j < s.length; j++) out[j]! ^= s[j]!;
      break;
    case 'one':
      exactlyOne(out, sources);
      break;
    default: {
      // DIFF, DIFF1, ANDOR: the first source against the OR of the others.
      orInto(out, rest);
      for (let j = 0; j < length; j++) {
        const x = j < first.length ? first[j]! : 0;
        const others = out[j]!;
        out[j] = op === 'diff' ? x & ~others : op === 'diff1' ? ~x & others : x & others;
      }
    }
  }
  return out;
}

/** Bits set in exactly one source: parity, less the bits seen twice or more. */
function exactlyOne(out: Buffer, sources: readonly Uint8Array[]): void {
  const twice = Buffer.alloc(out.length);
  for (const s of sources) {
    for (let j = 0; j < s.length; j++) {
      twice[j]! |= out[j]! & s[j]!;
      out[j]! ^= s[j]!;
    }
  }
  for (let j = 0; j < out.length; j++) out[j]! &= ~twice[j]!;
}
