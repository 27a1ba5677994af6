/**
 * Redis' CRC-64 (Jones polynomial 0xad93d23594c935a9, reflected, init 0,
 * no final xor), used for RDB trailers and DUMP payloads. The 64-bit state
 * is kept as two 32-bit halves so the hot loop needs no BigInt.
 */

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

/** Incremental CRC-64 state. */
export class Crc64 {
  private hi = 0;
  private lo = 0;

  update(buf: Uint8Array, start = 0, end = buf.length): this {
    let hi = this.hi;
    let lo = this.lo;
    for (let i = start; i < end; i++) {
      const idx = (lo ^ buf[i]!) & 0xff;
      const nlo = ((lo >>> 8) | ((hi & 0xff) << 24)) >>> 0;
      hi = (hi >>> 8) ^ TABLE_HI[idx]!;
      lo = (nlo ^ TABLE_LO[idx]!) >>> 0;
    }
    this.hi = hi >>> 0;
    this.lo = lo;
    return this;
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
