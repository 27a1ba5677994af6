/**
 * The second half of deferred LZF (RdbOutput.deferLzf): a chunk written
 * with its compressible strings plain, and their spans, becomes the chunk
 * an RdbOutput compressing inline would have written. Runs in the save
 * worker (save-worker-thread.ts), off the event loop.
 */

import { lzfCompressIntoJs } from './lzf.js';
import { addonFunction } from '../../src/scripting/lua-addon.js';
import { RDB_ENC_LZF, SAMPLED_LZF_BYTES, copyBytes, looksCompressible, writeLen } from './format.js';

/** Room for the LZF header before the body is moved behind it: encoding byte and two lengths of up to 9 bytes. */
const HEADER_ROOM = 19;

/** Output room compressSpans needs for a chunk of `length` bytes. */
export function spansOutputBytes(length: number): number {
  return length + HEADER_ROOM;
}

/**
 * Copy `chunk` into `out` (at least spansOutputBytes(chunk.length) long)
 * with each span (header start, body start, body length: three int32 per
 * string, in order) replaced by Redis' LZF string when that saves at least
 * 4 bytes, as rdbSaveLzfStringObject decides. Returns the bytes written.
 */
export function compressSpans(chunk: Buffer, spans: Int32Array, out: Buffer): number {
  return nativeSpans !== null ? nativeSpans(chunk, spans, out) : compressSpansJs(chunk, spans, out);
}

/** The native addon's compressSpans (native/src/lzf.c), one call per chunk; null when the addon is not built. */
const nativeSpans = addonFunction('lzfSpans');

/** compressSpans in JS (without the addon; tests compare both). */
export function compressSpansJs(chunk: Buffer, spans: Int32Array, out: Buffer): number {
  let op = 0;
  let from = 0;
  const n = spans.length;
  for (let i = 0; i < n; i += 3) {
    const header = spans[i]!;
    const body = spans[i + 1]!;
    const len = spans[i + 2]!;
    copyBytes(chunk, from, header - from, out, op);
    op += header - from;
    from = body + len;
    const clen = compressible(chunk, body, len) ? lzfCompressIntoJs(chunk, len, out, op + HEADER_ROOM, len - 4, body) : 0;
    if (clen === 0) {
      copyBytes(chunk, header, from - header, out, op);
      op += from - header;
      continue;
    }
    const packed = op + HEADER_ROOM;
    out[op++] = 0xc0 | RDB_ENC_LZF;
    op = writeLen(out, op, clen);
    op = writeLen(out, op, len);
    out.copyWithin(op, packed, packed + clen);
    op += clen;
  }
  copyBytes(chunk, from, chunk.length - from, out, op);
  return op + chunk.length - from;
}

/** looksCompressible of chunk[body, body + len), without a view of it for the short ones it passes anyway. */
function compressible(chunk: Buffer, body: number, len: number): boolean {
  return len < SAMPLED_LZF_BYTES || looksCompressible(chunk.subarray(body, body + len));
}
