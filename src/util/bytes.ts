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
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  let q = pos + digits - 1;
  for (let t = n; t > 0; t = Math.floor(t / 10)) buf[q--] = 48 + (t % 10);
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
  let digits = 1;
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++;
  return digits;
}
