/**
 * The value model. Strings, the most common values, are stored as bare JS
 * primitives to keep one heap object per value:
 *   - a latin1 string (embstr/raw by length, as Redis reports it),
 *   - a number or bigint for the `int` encoding (canonical int64 text),
 *   - a MutableString once APPEND/SETRANGE made it a growable buffer (raw).
 * Every other type is an RObject subclass carrying its own encoding.
 */

export type TypeName = 'string' | 'list' | 'set' | 'zset' | 'hash' | 'stream';

export abstract class RObject {
  abstract readonly type: TypeName;
  /** OBJECT ENCODING name, as Redis reports it. */
  abstract encoding(): string;
  /** A deep copy (COPY, snapshots). */
  abstract clone(): RObject;
  /** Estimated heap bytes (MEMORY USAGE). */
  abstract memoryUsage(): number;
}

export type Value = string | number | bigint | RObject;

/** Redis keeps strings up to this length in one allocation with the object. */
export const EMBSTR_MAX = 44;

export function typeOf(v: Value): TypeName {
  return typeof v === 'object' ? v.type : 'string';
}

export function encodingOf(v: Value): string {
  if (typeof v === 'string') return v.length <= EMBSTR_MAX ? 'embstr' : 'raw';
  if (typeof v === 'number' || typeof v === 'bigint') return 'int';
  return v.encoding();
}

/** A copy that shares nothing mutable with `v` (primitives are immutable). */
export function cloneValue(v: Value): Value {
  return typeof v === 'object' ? v.clone() : v;
}
