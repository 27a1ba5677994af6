/**
 * Byte-level helpers for the hot encode paths. Calling into Buffer's C++
 * latin1Write costs more than a JS loop for short strings, so short ones
 * are copied by hand.
 */

const SHORT = 32;

/** Write latin1 string `s` at `pos`; returns the new position. */
export function putString(buf: Buffer, pos: number, s: string): number {
  const n = s.length;
  if (n > SHORT) return pos + buf.latin1Write(s, pos);
  for (let i = 0; i < n; i++) buf[pos + i] = s.charCodeAt(i);
  return pos + n;
}

/** Write a non-negative safe integer in decimal at `pos`; returns the new position. */
export function putUint(buf: Buffer, pos: number, n: number): number {
  if (n < 10) {
    buf[pos] = 48 + n;
    return pos + 1;
  }
  const digits = uintDigits(n);
  let q = pos + digits - 1;
  if (n <= 0x7fffffff) {
    // int32 division: 4-5x faster here than Math.floor on doubles (every
    // bulk header of 10+ bytes and every integer reply comes through here).
    let t = n | 0;
    while (t >= 10) {
      const d = (t / 10) | 0;
      buf[q--] = 48 + (t - d * 10);
      t = d;
    }
    buf[q] = 48 + t;
  } else {
    for (let t = n; t > 0; t = Math.floor(t / 10)) buf[q--] = 48 + (t % 10);
  }
  return pos + digits;
}

/** A bulk string's `$len` CRLF header at `pos`; returns the new position. */
function putBulkHeader(buf: Buffer, pos: number, len: number): number {
  buf[pos] = 36; // '$'
  const p = putUint(buf, pos + 1, len);
  buf[p] = 13;
  buf[p + 1] = 10;
  return p + 2;
}

/** Write `s` as a RESP bulk string ($len CRLF bytes CRLF) at `pos`; returns the new position. */
export function putBulk(buf: Buffer, pos: number, s: string): number {
  let p = putString(buf, putBulkHeader(buf, pos, s.length), s);
  buf[p++] = 13;
  buf[p++] = 10;
  return p;
}

/** The bytes src[start, end) as a RESP bulk string at `pos`; returns the new position. */
export function putBulkBytes(buf: Buffer, pos: number, src: Buffer, start: number, end: number): number {
  const n = end - start;
  let p = putBulkHeader(buf, pos, n);
  if (n <= 16) for (let i = 0; i < n; i++) buf[p + i] = src[start + i]!;
  else src.copy(buf, p, start, end);
  p += n;
  buf[p++] = 13;
  buf[p++] = 10;
  return p;
}

/** Bytes putBulk writes for a string of `len` bytes. */
export function bulkSize(len: number): number {
  return 5 + uintDigits(len) + len;
}

/** Decimal digits of a non-negative integer. */
export function uintDigits(n: number): number {
  if (n < 1e5) return n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 1e4 ? 4 : 5;
  if (n < 1e10) return n < 1e6 ? 6 : n < 1e7 ? 7 : n < 1e8 ? 8 : n < 1e9 ? 9 : 10;
  let digits = 10;
  for (let t = Math.floor(n / 1e10); t > 0; t = Math.floor(t / 10)) digits++;
  return digits;
}
