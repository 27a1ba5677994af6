/**
 * Redis' CRC-64 (Jones polynomial 0xad93d23594c935a9, reflected, init 0,
 * no final xor), used for RDB trailers and DUMP payloads. The 64-bit state
 * is kept as two 32-bit halves so the hot loop needs no BigInt.
 */

import { addonFunction } from '../../src/scripting/lua-addon.js';

const POLY_HI = 0x95ac9329;
const POLY_LO = 0xac4bc9b5; // bit-reflected 0xad93d23594c935a9

const TABLE_HI = new Uint32Array(256);
const TABLE_LO = new Uint32Array(256);
for (let i = 0; i < 256; i++) {
  let hi = 0;
  let lo = i;
  for (let b = 0; b < 8; b++) {
    const carry = lo & 1;
    lo = ((lo >>> 1) | ((hi & 1) << 31)) >>> 0;
    hi = hi >>> 1;
    if (carry) {
      hi = (hi ^ POLY_HI) >>> 0;
      lo = (lo ^ POLY_LO) >>> 0;
    }
  }
  TABLE_HI[i] = hi;
  TABLE_LO[i] = lo;
}

// Slicing-by-8 tables: T[k][b] is the CRC of byte b followed by k zero bytes.
const SLICES_HI: Uint32Array[] = [TABLE_HI];
const SLICES_LO: Uint32Array[] = [TABLE_LO];
for (let k = 1; k < 8; k++) {
  const ph = SLICES_HI[k - 1]!;
  const pl = SLICES_LO[k - 1]!;
  const th = new Uint32Array(256);
  const tl = new Uint32Array(256);
  for (let b = 0; b < 256; b++) {
    const hi = ph[b]!;
    const lo = pl[b]!;
    const idx = lo & 0xff;
    tl[b] = (((lo >>> 8) | ((hi & 0xff) << 24)) ^ TABLE_LO[idx]!) >>> 0;
    th[b] = ((hi >>> 8) ^ TABLE_HI[idx]!) >>> 0;
  }
  SLICES_HI.push(th);
  SLICES_LO.push(tl);
}
const [H0, H1, H2, H3, H4, H5, H6, H7] = SLICES_HI as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];
const [L0, L1, L2, L3, L4, L5, L6, L7] = SLICES_LO as [Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array, Uint32Array];

/**
 * The native addon's CRC-64 (native/src/module.c), for long runs: a
 * snapshot checksums every chunk it writes on the event loop, and there the
 * JS loop, deoptimized now and then, took 5-6 ms for a 34 KB chunk. Null
 * when the addon is not built (the JS loop then does it all).
 */
const nativeUpdate = addonFunction('crc64Update');
/** Runs at least this long go to the native loop (a call's own cost is a few short runs' worth). */
const NATIVE_FROM = 256;

/** Incremental CRC-64 state. */
export class Crc64 {
  private hi = 0;
  private lo = 0;
  /** [lo, hi] for the native loop. */
  private readonly state = new Uint32Array(2);

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    if (nativeUpdate !== null && end - start >= NATIVE_FROM) {
      const state = this.state;
      state[0] = this.lo;
      state[1] = this.hi;
      nativeUpdate(state, buf, start, end);
      this.lo = state[0]!;
      this.hi = state[1]!;
      return this;
    }
    return this.updateJs(buf, start, end);
  }

  /** The same in JS (tests compare both). */
  updateJs(buf: Uint8Array, start = 0, end = buf.length): this {
    let hi = this.hi;
    let lo = this.lo;
    let i = start;
    // Eight bytes per step (slicing-by-8); the state is little-endian lo:hi.
    for (; i + 8 <= end; i += 8) {
      const a = lo ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
      const b = hi ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24));
      lo = L7[a & 0xff]! ^ L6[(a >>> 8) & 0xff]! ^ L5[(a >>> 16) & 0xff]! ^ L4[a >>> 24]! ^ L3[b & 0xff]! ^ L2[(b >>> 8) & 0xff]! ^ L1[(b >>> 16) & 0xff]! ^ L0[b >>> 24]!;
      hi = H7[a & 0xff]! ^ H6[(a >>> 8) & 0xff]! ^ H5[(a >>> 16) & 0xff]! ^ H4[a >>> 24]! ^ H3[b & 0xff]! ^ H2[(b >>> 8) & 0xff]! ^ H1[(b >>> 16) & 0xff]! ^ H0[b >>> 24]!;
    }
    for (; i < end; i++) {
      const idx = (lo ^ buf[i]!) & 0xff;
      const nlo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
      hi = (hi >>> 8) ^ TABLE_HI[idx]!;
      lo = (nlo ^ TABLE_LO[idx]!) >>> 0;
    }
    this.hi = hi >>> 0;
    this.lo = lo >>> 0;
    return this;
  }

  /** The digest's 8 bytes (little endian) written at buf[at]. */
  writeLE(buf: Buffer, at: number): void {
    buf.writeUInt32LE(this.lo, at);
    buf.writeUInt32LE(this.hi, at + 4);
  }

  /** The 8 bytes Redis writes after the EOF opcode (little endian). */
  digestLE(): Buffer {
    const b = Buffer.allocUnsafe(8);
    b.writeUInt32LE(this.lo, 0);
    b.writeUInt32LE(this.hi, 4);
    return b;
  }

  get value(): bigint {
    return (BigInt(this.hi) << 32n) | BigInt(this.lo);
  }
}

export function crc64(buf: Uint8Array, start = 0, end = buf.length): Crc64 {
  return new Crc64().update(buf, start, end);
}
