/**
 * Pub/Sub frames as bytes. A published message is encoded once per PUBLISH
 * (per pattern for pmessage) and the same Buffer goes to every subscriber's
 * output: RESP2 and RESP3 frames differ only in their first byte (`*` for
 * an array, `>` for a push), so the RESP3 form is a copy with that byte
 * changed, made only when a RESP3 subscriber is there to get it.
 */

import { putBulk, putBulkBytes, putUint, uintDigits, bulkSize } from '../util/bytes.js';

/** A bulk payload: a latin1 string, or bytes (a message too long for a JS string). */
export type Payload = string | Buffer;

const ARRAY = 42; // '*'
const PUSH = 62; // '>'

/** Encode `parts` as an array of bulk strings (RESP2 framing; see withPushHeader). */
export function encodeBulkArray(parts: readonly Payload[]): Buffer {
  let size = 3 + uintDigits(parts.length);
  for (const p of parts) size += bulkSize(p.length);
  const out = Buffer.allocUnsafe(size);
  out[0] = ARRAY;
  let pos = putUint(out, 1, parts.length);
  out[pos++] = 13;
  out[pos++] = 10;
  for (const p of parts) pos = typeof p === 'string' ? putBulk(out, pos, p) : putBulkBytes(out, pos, p, 0, p.length);
  return out;
}

/** The RESP3 push form of an array frame encodeBulkArray made. */
export function withPushHeader(arrayFrame: Buffer): Buffer {
  const out = Buffer.allocUnsafe(arrayFrame.length);
  arrayFrame.copy(out);
  out[0] = PUSH;
  return out;
}

/**
 * One frame in both protocol versions, each encoded on first use: a
 * PUBLISH whose subscribers all speak RESP2 never builds the RESP3 copy.
 */
export class Frame {
  private resp2: Buffer | null = null;
  private resp3: Buffer | null = null;

  constructor(private readonly parts: readonly Payload[]) {}

  /** The bytes for a client speaking `protocol`. */
  for(protocol: 2 | 3): Buffer {
    if (this.resp2 === null) this.resp2 = encodeBulkArray(this.parts);
    if (protocol === 2) return this.resp2;
    if (this.resp3 === null) this.resp3 = withPushHeader(this.resp2);
    return this.resp3;
  }
}
