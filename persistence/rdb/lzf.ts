/**
 * LZF (liblzf) compression as RDB uses it for long strings. Decompression
 * must read anything Redis wrote; compression produces valid LZF (Redis
 * reads it back), not necessarily byte-identical to liblzf's choices.
 */

import { addonFunction } from '../../src/scripting/lua-addon.js';

const HLOG = 14;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

/**
 * The match table is shared by all calls (a fresh 64 KB table per string
 * made saving many short strings slow). Each call owns the range of values
 * from `base` up: an entry holds a position plus its call's offset, so one
 * written by an earlier call reads as a position before the input and is
 * ignored, with no clearing and no second array of stamps.
 */
const table = new Int32Array(HSIZE);
let base = 1;
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Compress `input`; null when the output would exceed `maxOut` bytes (Redis
 * then stores the string uncompressed).
 */
export function lzfCompress(input: Uint8Array, maxOut: number): Buffer | null {
  if (scratch.length < maxOut) scratch = Buffer.allocUnsafe(maxOut);
  const n = lzfCompressInto(input, input.length, scratch, 0, maxOut);
  return n > 0 ? Buffer.from(scratch.subarray(0, n)) : null;
}

/**
 * The native addon's compressor (native/src/lzf.c: this algorithm, the
 * same bytes), about 5x faster per byte; null when the addon is not built.
 */
const nativeCompress = addonFunction('lzfCompress');
/** Inputs at least this long go to the native compressor (below, a call costs more than it saves). */
const NATIVE_FROM = 64;

/**
 * Compress input[inStart, inStart + n) into out[outStart, outStart + maxOut);
 * returns the compressed length, or 0 when it does not fit (nothing outside
 * that range is written).
 */
export function lzfCompressInto(input: Uint8Array, n: number, out: Uint8Array, outStart: number, maxOut: number, inStart = 0): number {
  if (nativeCompress !== null && n >= NATIVE_FROM && maxOut > 0) return nativeCompress(input, inStart, n, out, outStart, maxOut);
  return lzfCompressIntoJs(input, n, out, outStart, maxOut, inStart);
}

/** lzfCompressInto in JS (without the addon; tests compare both). */
export function lzfCompressIntoJs(input: Uint8Array, n: number, out: Uint8Array, outStart: number, maxOut: number, inStart = 0): number {
  if (n < 4) return 0;
  // Entries stay small integers: start over before they would pass 2^30.
  if (base > 0x3fffffff - n) {
    table.fill(0);
    base = 1;
  }
  const shift = base - inStart; // an entry is position + shift
  base += n + 1;
  const limit = outStart + maxOut;
  let op = outStart;
  const end = inStart + n;
  let litStart = inStart; // first pending literal
  let ip = inStart;
  // The next three bytes, rolled along (one load per position).
  let v = (input[ip]! << 8) | input[ip + 1]!;
  while (ip + 2 < end) {
    v = ((v << 8) | input[ip + 2]!) & 0xffffff;
    const h = Math.imul(v, 2654435761) >>> (32 - HLOG);
    const ref = table[h]! - shift;
    table[h] = ip + shift;
    const off = ip - ref - 1;
    if (ref >= inStart && off >= 0 && off < MAX_OFF && input[ref] === input[ip] && input[ref + 1] === input[ip + 1] && input[ref + 2] === input[ip + 2]) {
      const maxLen = Math.min(end - ip, MAX_REF);
      let len = 3;
      while (len < maxLen && input[ref + len] === input[ip + len]) len++;
      op = flushLiterals(input, litStart, ip, out, op, limit);
      if (op < 0 || op + 3 > limit) return 0;
      const l = len - 2;
      if (l < 7) out[op++] = (off >> 8) | (l << 5);
      else {
        out[op++] = (off >> 8) | (7 << 5);
        out[op++] = l - 7;
      }
      out[op++] = off & 0xff;
      ip += len;
      litStart = ip;
      if (ip + 1 < end) v = (input[ip]! << 8) | input[ip + 1]!;
      continue;
    }
    ip++;
  }
  op = flushLiterals(input, litStart, end, out, op, limit);
  return op < 0 ? 0 : op - outStart;
}

/** Emit input[start, end) as literal runs; the new output position, or -1 if it would pass `limit`. */
function flushLiterals(input: Uint8Array, start: number, end: number, out: Uint8Array, op: number, limit: number): number {
  while (start < end) {
    const run = Math.min(MAX_LIT, end - start);
    if (op + run + 1 > limit) return -1;
    out[op++] = run - 1;
    for (let i = 0; i < run; i++) out[op++] = input[start + i]!;
    start += run;
  }
  return op;
}

/**
 * Back references at least this long are copied with fill / copyWithin
 * (native memset / memmove) rather than a byte loop: below it the call
 * costs more than the loop. Loading 1M values of DEBUG POPULATE's zero
 * padding spent 15% of the load in the loop.
 */
const LONG_COPY = 16;

/** Decompress into exactly `outLen` bytes; throws on malformed input. */
export function lzfDecompress(input: Uint8Array, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  lzfDecompressInto(input, 0, input.length, out, outLen);
  return out;
}

/**
 * Decompress input[inStart, inEnd) into out[0, outLen) (out may be longer:
 * a reused scratch buffer); throws on malformed input.
 */
export function lzfDecompressInto(input: Uint8Array, inStart: number, inEnd: number, out: Uint8Array, outLen: number): void {
  let ip = inStart;
  let op = 0;
  const inLen = inEnd;
  while (ip < inLen) {
    let ctrl = input[ip++]!;
    if (ctrl < 32) {
      ctrl++;
      if (op + ctrl > outLen || ip + ctrl > inLen) throw new Error('LZF: literal run out of bounds');
      for (let i = 0; i < ctrl; i++) out[op++] = input[ip++]!;
    } else {
      let len = ctrl >> 5;
      let ref = op - ((ctrl & 0x1f) << 8) - 1;
      if (len === 7) {
        if (ip >= inLen) throw new Error('LZF: truncated back reference');
        len += input[ip++]!;
      }
      if (ip >= inLen) throw new Error('LZF: truncated back reference');
      ref -= input[ip++]!;
      len += 2;
      if (op + len > outLen || ref < 0) throw new Error('LZF: back reference out of bounds');
      const distance = op - ref;
      if (len >= LONG_COPY && distance === 1) {
        // A run of one byte (padding, zeros): a fill, not a byte loop.
        out.fill(out[ref]!, op, op + len);
        op += len;
      } else if (len >= LONG_COPY && distance >= len) {
        out.copyWithin(op, ref, ref + len);
        op += len;
      } else {
        // Short, or overlapping (each byte may be one this copy wrote: a repeated pattern).
        for (let i = 0; i < len; i++) out[op++] = out[ref++]!;
      }
    }
  }
  if (op !== outLen) throw new Error('LZF: decompressed length mismatch');
}
