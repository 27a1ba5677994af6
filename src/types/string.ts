/**
 * String values: helpers over the primitive forms, and MutableString, the
 * growable byte buffer a string becomes after APPEND or SETRANGE (Redis'
 * `raw` sds that is modified in place).
 *
 * A value may be longer than any JS string (V8 stops at MAX_STRING_CHARS,
 * Redis allows proto-max-bulk-len, 512 MB by default): such a value only
 * ever exists as a MutableString, and every path that reads values reads
 * MutableStrings as bytes (bytesOf, MutableString.bytes), never as a string.
 */

import { constants } from 'node:buffer';
import { RObject, type Value } from './value.js';
import { canonicalInteger } from '../util/numbers.js';

/** The longest JS string (2^29-24 characters on 64-bit V8). */
export const MAX_STRING_CHARS = constants.MAX_STRING_LENGTH;
/** The longest value: Node's largest Buffer (4 GB), whatever proto-max-bulk-len allows. */
export const MAX_VALUE_BYTES = constants.MAX_LENGTH;

export type StringValue = string | number | bigint | MutableString;

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

  /** A value holding a copy of `bytes`. */
  static fromBytes(bytes: Uint8Array, extra = 0): MutableString {
    const m = new MutableString('', bytes.length + extra);
    m.buf.set(bytes, 0);
    m.length = bytes.length;
    return m;
  }

  /** A value that takes over `buf` (nobody else may keep it). */
  static adopt(buf: Buffer): MutableString {
    const m = new MutableString('');
    m.buf = buf;
    m.length = buf.length;
    return m;
  }

  clone(): MutableString {
    return MutableString.fromBytes(this.bytes);
  }

  /** The value's bytes (a view: valid until the value changes). */
  get bytes(): Buffer {
    return this.buf.subarray(0, this.length);
  }

  /** Whether the value fits a JS string (toString works). */
  get fitsString(): boolean {
    return this.length <= MAX_STRING_CHARS;
  }

  /** The value as a latin1 string: only for values that fit one (fitsString). */
  override toString(): string {
    return this.buf.latin1Slice(0, this.length);
  }

  private grow(min: number): void {
    if (min <= this.buf.length) return;
    // Like sdsMakeRoomFor: double while small, then grow by 1MB steps.
    const size = Math.min(MAX_VALUE_BYTES, min < 1024 * 1024 ? min * 2 : min + 1024 * 1024);
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.length);
    this.buf = next;
  }

  append(s: string | Uint8Array): void {
    this.grow(this.length + s.length);
    this.put(s, this.length);
    this.length += s.length;
  }

  /** Overwrite at offset, zero-padding any gap (SETRANGE). */
  setRange(offset: number, s: string | Uint8Array): void {
    const end = offset + s.length;
    this.grow(end);
    if (offset > this.length) this.buf.fill(0, this.length, offset);
    this.put(s, offset);
    if (end > this.length) this.length = end;
  }

  private put(s: string | Uint8Array, at: number): void {
    if (typeof s === 'string') this.buf.latin1Write(s, at);
    else this.buf.set(s, at);
  }
}

export function isStringValue(v: Value): v is StringValue {
  return typeof v !== 'object' || v instanceof MutableString;
}

/**
 * The bytes of a string value as a latin1 string. Throws for a
 * MutableString longer than MAX_STRING_CHARS: callers that may see one read
 * bytesOf() instead.
 */
export function stringOf(v: StringValue): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return v.toString();
  return String(v);
}

/** The bytes of a string value (a view for a MutableString, valid until it changes). */
export function bytesOf(v: StringValue): Buffer {
  if (typeof v === 'object') return v.bytes;
  return Buffer.from(typeof v === 'string' ? v : String(v), 'latin1');
}

/** The value as a string when it fits one, else its bytes. */
export function textOrBytes(v: StringValue): string | Buffer {
  return typeof v === 'object' && !v.fitsString ? v.bytes : stringOf(v);
}

export function stringLength(v: StringValue): number {
  if (typeof v === 'string' || typeof v === 'object') return v.length;
  return String(v).length;
}

/**
 * The stored form of a value given as a command argument: a string is
 * encoded as encodeString does; bytes (an argument too long for a JS
 * string) are copied into a MutableString.
 */
export function valueFromArg(arg: string | Uint8Array): StringValue {
  return typeof arg === 'string' ? encodeString(arg) : MutableString.fromBytes(arg);
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
