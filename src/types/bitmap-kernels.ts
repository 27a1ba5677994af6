/**
 * The word loops of BITCOUNT and BITPOS in WebAssembly: 64-bit words and
 * the CPU's popcount, about six times what the best JavaScript loop does
 * (SWAR over 32-bit words). A range is copied into the module's memory in
 * 64 KB chunks (one page; copying runs at memcpy speed) and scanned there.
 *
 * The module, as text (hand-assembled below):
 *
 *   (module
 *     (memory (export "mem") 1)
 *     ;; set bits in the 64-bit words of [0, len)  (len: a multiple of 8)
 *     (func (export "popcnt") (param $len i32) (result i32)
 *       (local $i i32) (local $c i64)
 *       (block (loop
 *         (br_if 1 (i32.ge_u (local.get $i) (local.get $len)))
 *         (local.set $c (i64.add (local.get $c) (i64.popcnt (i64.load (local.get $i)))))
 *         (local.set $i (i32.add (local.get $i) (i32.const 8)))
 *         (br 0)))
 *       (i32.wrap_i64 (local.get $c)))
 *     ;; byte offset of the first 64-bit word of [0, len) that is not $skip, or len
 *     (func (export "scan") (param $len i32) (param $skip i64) (result i32)
 *       (local $i i32)
 *       (block (loop
 *         (br_if 1 (i32.ge_u (local.get $i) (local.get $len)))
 *         (br_if 1 (i64.ne (i64.load (local.get $i)) (local.get $skip)))
 *         (local.set $i (i32.add (local.get $i) (i32.const 8)))
 *         (br 0)))
 *       (local.get $i)))
 */

// prettier-ignore
const MODULE = Uint8Array.from([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version
  // types: (i32) -> i32, (i32 i64) -> i32
  0x01, 0x0c, 0x02, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f, 0x7e, 0x01, 0x7f,
  0x03, 0x03, 0x02, 0x00, 0x01, // functions: popcnt (type 0), scan (type 1)
  0x05, 0x03, 0x01, 0x00, 0x01, // memory: one page
  // exports: mem, popcnt, scan
  0x07, 0x17, 0x03, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x06, 0x70, 0x6f, 0x70, 0x63, 0x6e, 0x74, 0x00, 0x00,
  0x04, 0x73, 0x63, 0x61, 0x6e, 0x00, 0x01,
  0x0a, 0x53, 0x02, // code: two bodies
  0x2a, 0x02, 0x01, 0x7f, 0x01, 0x7e, // popcnt: locals i32 $i, i64 $c
  0x02, 0x40, 0x03, 0x40, 0x20, 0x01, 0x20, 0x00, 0x4f, 0x0d, 0x01, 0x20, 0x02, 0x20, 0x01, 0x29, 0x03, 0x00,
  0x7b, 0x7c, 0x21, 0x02, 0x20, 0x01, 0x41, 0x08, 0x6a, 0x21, 0x01, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x02, 0xa7, 0x0b,
  0x26, 0x01, 0x01, 0x7f, // scan: local i32 $i
  0x02, 0x40, 0x03, 0x40, 0x20, 0x02, 0x20, 0x00, 0x4f, 0x0d, 0x01, 0x20, 0x02, 0x29, 0x03, 0x00, 0x20, 0x01,
  0x52, 0x0d, 0x01, 0x20, 0x02, 0x41, 0x08, 0x6a, 0x21, 0x02, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x02, 0x0b,
]);

/** The part of the WebAssembly API used here (the project's type libraries do not declare it). */
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: object };
};

interface Kernels {
  mem: { buffer: ArrayBuffer };
  popcnt(len: number): number;
  scan(len: number, skip: bigint): number;
}

const kernels = new WebAssembly.Instance(new WebAssembly.Module(MODULE)).exports as unknown as Kernels;
const CHUNK = 65536;
const chunkView = new Uint8Array(kernels.mem.buffer, 0, CHUNK);

/** Set bits in the whole 64-bit words of bytes[from, to); returns [count, end of the words counted]. */
export function popcountWords(bytes: Uint8Array, from: number, to: number): [number, number] {
  let count = 0;
  let at = from;
  while (to - at >= 8) {
    const len = Math.min(CHUNK, (to - at) & ~7);
    chunkView.set(bytes.subarray(at, at + len));
    count += kernels.popcnt(len);
    at += len;
  }
  return [count, at];
}

/** Chunks of all-zero and all-one bytes: a run of them is skipped by memcmp (Buffer.equals), without a copy. */
const ZEROS = Buffer.alloc(CHUNK);
const ONES = Buffer.alloc(CHUNK, 0xff);

/**
 * The first 64-bit word of bytes[from, to) that is not all `skip` (0 or
 * 0xff) bytes: its offset, or the end of the whole words scanned.
 */
export function skipWords(bytes: Uint8Array, from: number, to: number, skip: 0 | 0xff): number {
  const same = skip === 0 ? ZEROS : ONES;
  let at = from;
  while (to - at >= CHUNK && same.equals(bytes.subarray(at, at + CHUNK))) at += CHUNK;
  const skipWord = skip === 0 ? 0n : -1n;
  while (to - at >= 8) {
    const len = Math.min(CHUNK, (to - at) & ~7);
    chunkView.set(bytes.subarray(at, at + len));
    const found = kernels.scan(len, skipWord);
    if (found < len) return at + found;
    at += len;
  }
  return at;
}
