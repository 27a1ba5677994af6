/**
 * String values: helpers over the primitive forms, and MutableString, the
 * growable byte buffer a string becomes after APPEND or SETRANGE (Redis'
 * `raw` sds that is modified in place).
 */

import { RObject, type Value } from './value.js';
import { canonicalInteger } from '../util/numbers.js';

export class MutableString extends RObject {
  readonly type = 'string' as const;
  buf: Buffer;
  length: number;

  constructor(initial: string, extra = 0) {
    super();
    this.length = initial.length;
    this.buf = Buffer.allocUnsafe(Math.max(16, initial.length + extra));
    this.buf.latin1Write(initial, 0);
  }

  encoding(): string {
    return 'raw';
  }

  memoryUsage(): number {
    return 48 + this.buf.length;
  }

  clone(): MutableString {
    const copy = new MutableString('', this.length);
    this.buf.copy(copy.buf, 0, 0, this.length);
    copy.length = this.length;
    return copy;
  }

  override toString(): string {
    return this.buf.latin1Slice(0, this.length);
  }

  private grow(min: number): void {
    if (min <= this.buf.length) return;
    // Like sdsMakeRoomFor: double while small, then grow by 1MB steps.
    const size = min < 1024 * 1024 ? min * 2 : min + 1024 * 1024;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  append(s: string): void {
    this.grow(this.length + s.length);
    this.buf.latin1Write(s, this.length);
    this.length += s.length;
  }

  /** Overwrite at offset, zero-padding any gap (SETRANGE). */
  setRange(offset: number, s: string): void {
    const end = offset + s.length;
    this.grow(end);
    if (offset > this.length) this.buf.fill(0, this.length, offset);
    this.buf.latin1Write(s, offset);
    if (end > this.length) this.length = end;
  }
}

export function isStringValue(v: Value): v is string | number | bigint | MutableString {
  return typeof v !== 'object' || v instanceof MutableString;
}

/** The bytes of a string value as a latin1 string. */
export function stringOf(v: string | number | bigint | MutableString): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return v.toString();
  return String(v);
}

export function stringLength(v: string | number | bigint | MutableString): number {
  if (typeof v === 'string' || typeof v === 'object') return v.length;
  return String(v).length;
}

/**
 * The stored form of a fresh string value (Redis' tryObjectEncoding):
 * canonical integers become numbers (`int`), everything else stays text.
 */
export function encodeString(s: string): string | number | bigint {
  if (s.length <= 20) {
    const n = canonicalInteger(s);
    if (n !== null) return n;
  }
  return s;
}
