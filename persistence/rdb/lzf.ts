/**
 * LZF (liblzf) compression as RDB uses it for long strings. Decompression
 * must read anything Redis wrote; compression produces valid LZF (Redis
 * reads it back), not necessarily byte-identical to liblzf's choices.
 */

const HLOG = 14;
const HSIZE = 1 << HLOG;
const MAX_LIT = 1 << 5;
const MAX_OFF = 1 << 13;
const MAX_REF = (1 << 8) + (1 << 3);

/**
 * Compress `input`; null when the output would exceed `maxOut` bytes (Redis
 * then stores the string uncompressed).
 */
export function lzfCompress(input: Uint8Array, maxOut: number): Buffer | null {
  const n = input.length;
  if (n < 4) return null;
  const out = Buffer.allocUnsafe(maxOut + 64);
  const table = new Int32Array(HSIZE).fill(-1);
  let op = 0;
  let litStart = 0; // first pending literal
  const flushLiterals = (end: number): boolean => {
    while (litStart < end) {
      const run = Math.min(MAX_LIT, end - litStart);
      if (op + run + 1 > maxOut) return false;
      out[op++] = run - 1;
      for (let i = 0; i < run; i++) out[op++] = input[litStart + i]!;
      litStart += run;
    }
    return true;
  };
  let ip = 0;
  while (ip + 2 < n) {
    const v = (input[ip]! << 16) | (input[ip + 1]! << 8) | input[ip + 2]!;
    const h = (Math.imul(v, 2654435761) >>> (32 - HLOG)) & (HSIZE - 1);
    const ref = table[h]!;
    table[h] = ip;
    const off = ip - ref - 1;
    if (ref >= 0 && off < MAX_OFF && input[ref] === input[ip] && input[ref + 1] === input[ip + 1] && input[ref + 2] === input[ip + 2]) {
      const maxLen = Math.min(n - ip, MAX_REF);
      let len = 3;
      while (len < maxLen && input[ref + len] === input[ip + len]) len++;
      if (!flushLiterals(ip)) return null;
      if (op + 3 > maxOut) return null;
      const l = len - 2;
      if (l < 7) out[op++] = (off >> 8) | (l << 5);
      else {
        out[op++] = (off >> 8) | (7 << 5);
        out[op++] = l - 7;
      }
      out[op++] = off & 0xff;
      ip += len;
      litStart = ip;
      continue;
    }
    ip++;
  }
  if (!flushLiterals(n)) return null;
  return op > maxOut ? null : out.subarray(0, op);
}

/** Decompress into exactly `outLen` bytes; throws on malformed input. */
export function lzfDecompress(input: Uint8Array, outLen: number): Buffer {
  const out = Buffer.allocUnsafe(outLen);
  let ip = 0;
  let op = 0;
  const inLen = input.length;
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
      for (let i = 0; i < len; i++) out[op++] = out[ref++]!;
    }
  }
  if (op !== outLen) throw new Error('LZF: decompressed length mismatch');
  return out;
}
