// LZF as snapshots use it: a string-store value is compressed straight
// from its slab, at an offset, and must come out exactly as if it had been
// copied out first (and decompress back to itself).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { lzfCompressInto, lzfDecompress } from '../persistence/rdb/lzf.js';

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
