/**
 * Pub/Sub frames as bytes. A published message is encoded once per PUBLISH
 * (per pattern for pmessage) and the same Buffer goes to every subscriber's
 * output: RESP2 and RESP3 frames differ only in their first byte (`*` for
 * an array, `>` for a push), so the RESP3 form is a copy with that byte
 * changed (withPushHeader), made only when a RESP3 subscriber is there.
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

export type MessageKind = 'message' | 'pmessage' | 'smessage';

/** Each message kind's array header and first element, encoded once. */
const HEADS: Record<MessageKind, Buffer> = {
  message: Buffer.from('*3\r\n$7\r\nmessage\r\n', 'latin1'),
  pmessage: Buffer.from('*4\r\n$8\r\npmessage\r\n', 'latin1'),
  smessage: Buffer.from('*3\r\n$8\r\nsmessage\r\n', 'latin1'),
};

/** The bytes of a message frame (RESP2 and RESP3 frames differ only in their first byte). */
export function messageFrameSize(kind: MessageKind, pattern: string | null, channel: string, message: Payload): number {
  const size = HEADS[kind].length + bulkSize(channel.length) + bulkSize(message.length);
  return pattern === null ? size : size + bulkSize(pattern.length);
}

/**
 * A message frame in its RESP2 form: [kind, pattern (pmessage only),
 * channel, message]. The same bytes as encodeBulkArray, without building
 * an array of parts per PUBLISH (this runs once per message).
 */
export function encodeMessage(kind: MessageKind, pattern: string | null, channel: string, message: Payload): Buffer {
  const head = HEADS[kind];
  const out = Buffer.allocUnsafe(messageFrameSize(kind, pattern, channel, message));
  head.copy(out, 0);
  let pos = head.length;
  if (pattern !== null) pos = putBulk(out, pos, pattern);
  pos = putBulk(out, pos, channel);
  if (typeof message === 'string') putBulk(out, pos, message);
  else putBulkBytes(out, pos, message, 0, message.length);
  return out;
}
