// LZF as snapshots use it: a string-store value is compressed straight
// from its slab, at an offset, and must come out exactly as if it had been
// copied out first (and decompress back to itself).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lzfCompressInto, lzfCompressIntoJs, lzfDecompress } from '../persistence/rdb/lzf.js';
import { compressSpansJs, spansOutputBytes } from '../persistence/rdb/lzf-spans.js';
import { writeLen } from '../persistence/rdb/format.js';
import { luaAddon } from '../src/scripting/lua-addon.js';

/** Bytes with repeats LZF finds: runs drawn from a small alphabet. */
const compressible = fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 12 })), { minLength: 2, maxLength: 60 }).map((runs) => Buffer.from(runs.flatMap(([b, n]) => Array<number>(n).fill(97 + b))));

describe('lzfCompressInto at an input offset', () => {
  it('writes the same bytes as compressing a copy of the range, and they decompress to it', () => {
    fc.assert(
      fc.property(fc.oneof(compressible, fc.uint8Array({ minLength: 4, maxLength: 200 }).map((a) => Buffer.from(a))), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), (value, before, after) => {
        const slab = Buffer.concat([Buffer.from(before), value, Buffer.from(after)]);
        const n = value.length;
        const a = Buffer.alloc(n + 16);
        const b = Buffer.alloc(n + 16);
        const fromCopy = lzfCompressInto(Buffer.from(value), n, a, 0, n - 4);
        const inPlace = lzfCompressInto(slab, n, b, 0, n - 4, before.length);
        expect(inPlace).toBe(fromCopy);
        expect(b.subarray(0, inPlace).equals(a.subarray(0, fromCopy))).toBe(true);
        if (inPlace > 0) expect(lzfDecompress(b.subarray(0, inPlace), n).equals(value)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('lzfDecompress', () => {
  // Long back references take fill (a run of one byte) or copyWithin (no
  // overlap); overlapping ones with a longer period stay a byte loop.
  const longRuns = fc
    .array(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 9 }), fc.integer({ min: 1, max: 300 })), { minLength: 1, maxLength: 8 })
    .map((parts) => Buffer.concat(parts.flatMap(([pattern, times]) => Array.from({ length: times }, () => Buffer.from(pattern)))));
  it('gives back what was compressed: long runs of one byte, repeated patterns, copies from far back', () => {
    fc.assert(
      fc.property(longRuns, fc.uint8Array({ minLength: 0, maxLength: 100 }), (runs, noise) => {
        // The noise, then the runs, then the noise again: a far, non-overlapping reference.
        const value = Buffer.concat([Buffer.from(noise), runs, Buffer.from(noise)]);
        const out = Buffer.alloc(value.length + 16);
        const n = lzfCompressIntoJs(value, value.length, out, 0, value.length + 16);
        fc.pre(n > 0);
        expect(lzfDecompress(out.subarray(0, n), value.length).equals(value)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the native compressor (native/src/lzf.c) and the JS one write the same bytes', () => {
  const addon = luaAddon();
  const native = addon instanceof Error ? null : addon;
  // CI builds the addon: there, a missing one is a failure, not a skip.
  it('the addon has them', () => {
    if (process.env.CI !== 'true' && native === null) return;
    expect(typeof native?.lzfCompress).toBe('function');
    expect(typeof native?.lzfSpans).toBe('function');
  });

  it.skipIf(native === null)('lzfCompress: same length and bytes at any offsets and output bound', () => {
    fc.assert(
      fc.property(fc.oneof(compressible, fc.uint8Array({ minLength: 0, maxLength: 600 }).map((a) => Buffer.from(a))), fc.nat(30), fc.nat(30), fc.integer({ min: -8, max: 8 }), (value, before, outAt, slack) => {
        const input = Buffer.concat([Buffer.alloc(before, 7), value]);
        const n = value.length;
        const maxOut = Math.max(0, n - 4 + slack);
        const a = Buffer.alloc(outAt + maxOut + 8, 0xee);
        const b = Buffer.alloc(outAt + maxOut + 8, 0xee);
        const js = lzfCompressIntoJs(input, n, a, outAt, maxOut, before);
        const c = native!.lzfCompress!(input, before, n, b, outAt, maxOut);
        expect(c).toBe(js);
        // Nothing written outside the output range either.
        expect(b.equals(a)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it.skipIf(native === null)('lzfSpans: compressSpans of random chunks, span by span', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.uint8Array({ maxLength: 12 }), fc.oneof(compressible, fc.uint8Array({ minLength: 21, maxLength: 300 }).map((a) => Buffer.from(a)))), { maxLength: 30 }), fc.uint8Array({ maxLength: 12 }), (parts, tail) => {
        // A chunk as a deferring writer makes it: bytes between spans, each span a length header and its body.
        const bufs: Buffer[] = [];
        const spans: number[] = [];
        let at = 0;
        for (const [gap, body] of parts) {
          bufs.push(Buffer.from(gap));
          at += gap.length;
          const header = Buffer.alloc(9);
          const h = writeLen(header, 0, body.length);
          bufs.push(header.subarray(0, h), body);
          spans.push(at, at + h, body.length);
          at += h + body.length;
        }
        bufs.push(Buffer.from(tail));
        const chunk = Buffer.concat(bufs);
        const a = Buffer.alloc(spansOutputBytes(chunk.length));
        const b = Buffer.alloc(spansOutputBytes(chunk.length));
        const na = compressSpansJs(chunk, Int32Array.from(spans), a);
        const nb = native!.lzfSpans!(chunk, Int32Array.from(spans), b);
        expect(nb).toBe(na);
        expect(b.subarray(0, nb).equals(a.subarray(0, na))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
