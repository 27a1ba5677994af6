/**
 * x87 80-bit extended precision ("long double") arithmetic, just enough for
 * INCRBYFLOAT and HINCRBYFLOAT: Redis parses both operands with strtold,
 * adds them as long doubles and prints the sum with "%.17Lf" before
 * trimming zeros. Doing this in doubles gives different digits (10.5 + 0.1
 * would print 10.59999999999999964 instead of 10.6), so values are kept as
 * exact binary fractions with a 64-bit significand and rounded the way the
 * FPU does (round half to even).
 */

/** sign * mant * 2^exp, mant < 2^64; mant 0 is zero; `inf` marks infinity. */
export interface LongDouble {
  neg: boolean;
  mant: bigint;
  exp: number;
  inf: boolean;
}

const SIGNIFICAND_BITS = 64;
/** Largest finite exponent of the top bit (the format's emax is 16383). */
const MAX_TOP_EXP = 16383;
/** Smallest exponent of the lowest significand bit (subnormal min 2^-16445). */
const MIN_LOW_EXP = -16445;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** Round num/den (positive) to 64 significant bits, half to even. */
function roundRational(neg: boolean, num: bigint, den: bigint): LongDouble {
  if (num === 0n) return { neg, mant: 0n, exp: 0, inf: false };
  // value = q * 2^-shift with q in [2^63, 2^64) before rounding.
  let shift = SIGNIFICAND_BITS - (bitLength(num) - bitLength(den));
  if (scaledQuotient(num, den, shift).q >> 64n !== 0n) shift--;
  // Subnormals: the lowest bit may not go below 2^MIN_LOW_EXP.
  if (shift > -MIN_LOW_EXP) shift = -MIN_LOW_EXP;
  let { q, r, d } = scaledQuotient(num, den, shift);
  const twice = r * 2n;
  if (twice > d || (twice === d && (q & 1n) === 1n)) q += 1n;
  if (bitLength(q) > SIGNIFICAND_BITS) {
    q >>= 1n;
    shift--;
  }
  if (q === 0n) return { neg, mant: 0n, exp: 0, inf: false };
  if (bitLength(q) - 1 - shift > MAX_TOP_EXP) return { neg, mant: 0n, exp: 0, inf: true };
  return { neg, mant: q, exp: -shift, inf: false };
}

/** floor(num * 2^shift / den) with its remainder and the divisor used. */
function scaledQuotient(num: bigint, den: bigint, shift: number): { q: bigint; r: bigint; d: bigint } {
  const n = shift >= 0 ? num << BigInt(shift) : num;
  const d = shift >= 0 ? den : den << BigInt(-shift);
  const q = n / d;
  return { q, r: n - q * d, d };
}

const DECIMAL = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/;
const HEX = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/;
const INF = /^([+-]?)(?:inf|infinity)$/i;

/**
 * Redis' string2ld (strtold on the whole string). Null where Redis rejects:
 * empty, leading space, trailing garbage, NaN, overflow, underflow to zero.
 */
export function parseLongDouble(s: string): LongDouble | null {
  if (s.length === 0 || s.length >= 5 * 1024) return null;
  const inf = INF.exec(s);
  if (inf !== null) return { neg: inf[1] === '-', mant: 0n, exp: 0, inf: true };
  let neg: boolean;
  let num: bigint;
  let den = 1n;
  const hex = HEX.exec(s);
  if (hex !== null) {
    const ip = hex[2] ?? '';
    const fp = hex[3] ?? '';
    if (ip.length + fp.length === 0) return null;
    neg = hex[1] === '-';
    num = BigInt('0x' + (ip + fp || '0'));
    const e = (hex[4] === undefined ? 0 : Math.max(-100000, Math.min(100000, Number(hex[4])))) - 4 * fp.length;
    if (e >= 0) num <<= BigInt(e);
    else den <<= BigInt(-e);
  } else {
    const m = DECIMAL.exec(s);
    if (m === null) return null;
    const ip = m[2] ?? '';
    const fp = m[3] ?? '';
    if (ip.length + fp.length === 0) return null;
    neg = m[1] === '-';
    num = BigInt(ip + fp || '0');
    // Exponents far outside the format saturate: they only decide overflow/underflow.
    const e = (m[4] === undefined ? 0 : Math.max(-100000, Math.min(100000, Number(m[4])))) - fp.length;
    if (e >= 0) num *= 10n ** BigInt(e);
    else den = 10n ** BigInt(-e);
  }
  const v = roundRational(neg, num, den);
  if (v.inf) return null; // ERANGE overflow
  if (v.mant === 0n && num !== 0n) return null; // ERANGE underflow to zero
  return v;
}

export function isZero(v: LongDouble): boolean {
  return !v.inf && v.mant === 0n;
}

/** a + b rounded to long double. Infinity + -Infinity gives null (NaN). */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | null {
  if (a.inf || b.inf) {
    if (a.inf && b.inf && a.neg !== b.neg) return null;
    return a.inf ? a : b;
  }
  const e = Math.min(a.exp, b.exp);
  const av = (a.neg ? -a.mant : a.mant) << BigInt(a.exp - e);
  const bv = (b.neg ? -b.mant : b.mant) << BigInt(b.exp - e);
  const sum = av + bv;
  const neg = sum < 0n;
  const abs = neg ? -sum : sum;
  // An exact zero sum is +0 in round-to-nearest (unless both were -0).
  if (abs === 0n) return { neg: a.neg && b.neg, mant: 0n, exp: 0, inf: false };
  const num = e >= 0 ? abs << BigInt(e) : abs;
  const den = e >= 0 ? 1n : 1n << BigInt(-e);
  return roundRational(neg, num, den);
}

/** v * k (k a positive integer) rounded to long double, as `ftval *= k` does. */
export function mulLongDouble(v: LongDouble, k: bigint): LongDouble {
  if (v.inf || v.mant === 0n) return v;
  const m = v.mant * k;
  return v.exp >= 0 ? roundRational(v.neg, m << BigInt(v.exp), 1n) : roundRational(v.neg, m, 1n << BigInt(-v.exp));
}

/** ceill(v) as an exact integer (v finite; -0 gives 0). */
export function ceilLongDouble(v: LongDouble): bigint {
  if (v.mant === 0n) return 0n;
  if (v.exp >= 0) {
    const n = v.mant << BigInt(v.exp);
    return v.neg ? -n : n;
  }
  const den = 1n << BigInt(-v.exp);
  const q = v.mant / den;
  if (v.neg) return -q;
  return q * den === v.mant ? q : q + 1n;
}

/**
 * "%.17Lf" followed by Redis' trimming of trailing zeros (ld2string with
 * LD_STR_HUMAN); "-0" becomes "0".
 */
export function formatLongDoubleHuman(v: LongDouble): string {
  if (v.inf) return v.neg ? '-inf' : 'inf';
  const scale = 10n ** 17n;
  let q: bigint;
  if (v.exp >= 0) {
    q = (v.mant << BigInt(v.exp)) * scale;
  } else {
    const num = v.mant * scale;
    const den = 1n << BigInt(-v.exp);
    q = num / den;
    const twice = (num - q * den) * 2n;
    if (twice > den || (twice === den && (q & 1n) === 1n)) q += 1n;
  }
  const digits = q.toString().padStart(18, '0');
  let out = digits.slice(0, -17) + '.' + digits.slice(-17);
  out = out.replace(/0+$/, '');
  if (out.endsWith('.')) out = out.slice(0, -1);
  if (v.neg) out = '-' + out;
  if (out === '-0') out = '0';
  return out;
}
