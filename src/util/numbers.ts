/**
 * Number parsing and formatting exactly as Redis does it (util.c):
 * string2ll, string2d (strtod), d2string (7.2: integer or fpconv/grisu).
 */

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * Redis' string2ll: optional '-', no '+', no leading zeros, no spaces, must
 * fit a signed 64-bit integer. Values beyond 2^53 come back as the nearest
 * double; use parseInt64 where those must be exact.
 */
export function parseLong(s: string): number | null {
  const len = s.length;
  if (len === 0 || len > 20) return null;
  if (len < 16) {
    // Fast path: cannot overflow int64 and is exact as a double.
    let i = 0;
    let neg = false;
    if (s.charCodeAt(0) === 45) {
      if (len === 1) return null;
      neg = true;
      i = 1;
    }
    const first = s.charCodeAt(i) - 48;
    if (first === 0) return len === 1 ? 0 : null;
    if (first < 1 || first > 9) return null;
    let v = first;
    for (i++; i < len; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return null;
      v = v * 10 + d;
    }
    return neg ? -v : v;
  }
  const big = parseInt64(s);
  return big === null ? null : Number(big);
}

/** string2ll with an exact result. */
export function parseInt64(s: string): bigint | null {
  if (!/^(0|-?[1-9][0-9]*)$/.test(s) || s.length > 20) return null;
  const v = BigInt(s);
  if (v > INT64_MAX || v < INT64_MIN) return null;
  return v;
}

/** Exact int64 as number when it is a safe integer, else bigint. */
export function parseInteger(s: string): number | bigint | null {
  if (s.length < 16) return parseLong(s);
  const v = parseInt64(s);
  if (v === null) return null;
  return v >= -9007199254740991n && v <= 9007199254740991n ? Number(v) : v;
}

/**
 * strtoul(s, 10) as Redis' parseScanCursorOrReply uses it: optional sign
 * (a minus wraps around), digits, nothing else up to the first NUL; "" is 0;
 * overflow fails.
 */
export function parseStrtoul(s: string): bigint | null {
  // strtoul reads a C string: a NUL byte ends it ("\x00" is cursor 0).
  const nul = s.indexOf('\0');
  if (nul >= 0) s = s.slice(0, nul);
  const m = /^([+-]?)([0-9]*)$/.exec(s);
  if (m === null) return null;
  if (m[2] === '') return m[1] === '' ? 0n : null;
  const v = BigInt(m[2]!);
  if (v > 18446744073709551615n) return null;
  return m[1] === '-' && v !== 0n ? 18446744073709551616n - v : v;
}

/** Redis' string2ull-ish check for unsigned values (used by a few commands). */
export function parseUnsigned(s: string): bigint | null {
  if (!/^(0|[1-9][0-9]*)$/.test(s) || s.length > 20) return null;
  const v = BigInt(s);
  return v > 18446744073709551615n ? null : v;
}

export function inInt64Range(v: bigint): boolean {
  return v <= INT64_MAX && v >= INT64_MIN;
}

export { INT64_MAX, INT64_MIN };

const DECIMAL_FLOAT = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const INF_FLOAT = /^[+-]?(?:inf|infinity)$/i;
const HEX_FLOAT = /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?$/;

/**
 * Redis' string2d: strtod over the whole string, no leading space, no NaN,
 * overflow to +-HUGE_VAL or underflow to zero rejected. Null on failure.
 */
export function parseDouble(s: string): number | null {
  const n = s.length;
  if (n === 0) return null;
  // Fast path: a short plain integer ("0", "-12", "+7"), exact in a double.
  if (n <= 15) {
    const c0 = s.charCodeAt(0);
    let i = c0 === 45 || c0 === 43 ? 1 : 0;
    if (i < n) {
      let int = 0;
      for (; i < n; i++) {
        const d = s.charCodeAt(i) - 48;
        if (d < 0 || d > 9) break;
        int = int * 10 + d;
      }
      if (i === n) return c0 === 45 ? -int : int;
    }
  }
  let v: number;
  if (DECIMAL_FLOAT.test(s)) {
    v = Number(s);
    if (v === Infinity || v === -Infinity) return null; // ERANGE overflow
    if (v === 0 && /[1-9]/.test(s.replace(/[eE].*$/, ''))) return null; // ERANGE underflow
    return v;
  }
  if (INF_FLOAT.test(s)) return s.charCodeAt(0) === 45 ? -Infinity : Infinity;
  const hex = HEX_FLOAT.exec(s);
  if (hex !== null) {
    const intPart = hex[2] ?? '';
    const fracPart = hex[3] ?? hex[4] ?? '';
    const exp = hex[5] === undefined ? 0 : Number(hex[5]);
    let mant = 0;
    for (const c of intPart + fracPart) mant = mant * 16 + parseInt(c, 16);
    v = mant * Math.pow(2, exp - 4 * fracPart.length);
    if (!Number.isFinite(v)) return null;
    if (v === 0 && mant !== 0) return null;
    return hex[1] === '-' ? -v : v;
  }
  return null;
}

/** Shortest round-trip digits of |d| and the decimal exponent K (value = digits * 10^K). */
function shortestDigits(d: number): { digits: string; K: number } {
  const e = Math.abs(d).toExponential(); // "d.ddddde+x", shortest round-trip
  const ePos = e.indexOf('e');
  const mant = e.slice(0, ePos).replace('.', '');
  const exp10 = Number(e.slice(ePos + 1));
  return { digits: mant, K: exp10 - (mant.length - 1) };
}

const LL_HALF = 4611686018427387903; // LLONG_MAX/2 as Redis' double2ll bound

/**
 * Redis 7.2 d2string: integers (|d| <= LLONG_MAX/2) in plain decimal,
 * otherwise grisu digits laid out as fpconv's emit_digits does.
 */
export function formatDouble(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  if (Number.isInteger(d) && d >= -LL_HALF && d <= LL_HALF) {
    return Number.isSafeInteger(d) ? String(d) : BigInt(d).toString();
  }
  return formatFpconv(d);
}

/** Redis' fpconv_dtoa: shortest digits laid out like its emit_digits (no integer shortcut). */
export function formatFpconv(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const neg = d < 0;
  const { digits, K } = shortestDigits(d);
  const nd = digits.length;
  let exp = Math.abs(K + nd - 1);
  const sign = neg ? '-' : '';
  if (K >= 0 && exp < nd + 7) return sign + digits + '0'.repeat(K);
  if (K < 0 && (K > -7 || exp < 4)) {
    const offset = nd - Math.abs(K);
    if (offset <= 0) return sign + '0.' + '0'.repeat(-offset) + digits;
    return sign + digits.slice(0, offset) + '.' + digits.slice(offset);
  }
  const n = Math.min(nd, 18 - (neg ? 1 : 0));
  let out = sign + digits[0];
  if (n > 1) out += '.' + digits.slice(1, n);
  out += 'e' + (K + n - 1 < 0 ? '-' : '+');
  let cent = 0;
  if (exp > 99) {
    cent = Math.floor(exp / 100);
    out += String(cent);
    exp -= cent * 100;
  }
  if (exp > 9) {
    const dec = Math.floor(exp / 10);
    out += String(dec);
    exp -= dec * 10;
  } else if (cent) {
    out += '0';
  }
  return out + String(exp % 10);
}

/**
 * The int64 a double stands for: its integer value, clamped to int64's
 * range. Expire times are held as doubles: one a client set at INT64_MAX
 * is 2^63 here, and is written and replied as INT64_MAX, as Redis holds it.
 */
export function int64Of(n: number): bigint {
  if (Number.isSafeInteger(n)) return BigInt(n);
  if (!(n < 9223372036854775808)) return Number.isNaN(n) ? 0n : INT64_MAX;
  if (n < -9223372036854775808) return INT64_MIN;
  return BigInt(Math.trunc(n));
}

/** int64Of as decimal text: exact digits (String() would give `9223372036854776000` or `1e+21`). */
export function int64Text(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : int64Of(n).toString();
}

/** Redis' ll2string of an int64 held as number or bigint. */
export function formatInteger(n: number | bigint): string {
  return typeof n === 'bigint' ? n.toString() : String(n);
}

/**
 * If `s` is the canonical text of an int64 (what Redis' string2l accepts and
 * would print back identically), return it as number/bigint; else null.
 * Used to pick the `int` encoding.
 */
export function canonicalInteger(s: string): number | bigint | null {
  const len = s.length;
  if (len === 0 || len > 20) return null;
  const c = s.charCodeAt(0);
  if (c !== 45 && (c < 48 || c > 57)) return null;
  return parseInteger(s);
}

/** C's printf("%.17g"): 17 significant digits, trailing zeros removed. */
export function formatG17(d: number): string {
  if (Number.isNaN(d)) return 'nan';
  if (d === Infinity) return 'inf';
  if (d === -Infinity) return '-inf';
  if (d === 0) return Object.is(d, -0) ? '-0' : '0';
  const e = d.toExponential(16);
  const ePos = e.indexOf('e');
  const neg = e[0] === '-';
  const digits = e.slice(neg ? 1 : 0, ePos).replace('.', '');
  const x = Number(e.slice(ePos + 1));
  const sign = neg ? '-' : '';
  if (x < -4 || x >= 17) {
    let mant = digits[0]! + '.' + digits.slice(1);
    mant = mant.replace(/0+$/, '').replace(/\.$/, '');
    const ax = Math.abs(x);
    return `${sign}${mant}e${x < 0 ? '-' : '+'}${ax < 10 ? '0' : ''}${ax}`;
  }
  let s: string;
  if (x >= 0) {
    const intPart = digits.slice(0, x + 1);
    const frac = digits.slice(x + 1);
    s = frac.length > 0 ? `${intPart}.${frac}` : intPart;
  } else {
    s = '0.' + '0'.repeat(-x - 1) + digits;
  }
  if (s.includes('.')) s = s.replace(/0+$/, '').replace(/\.$/, '');
  return sign + s;
}
