/**
 * Estimated heap bytes of a key and its value (MEMORY USAGE, and what an
 * eviction frees). V8 does not expose object sizes, so these follow its
 * layouts: a one-byte string is a 16-byte header plus its chars rounded
 * up to 8; a key's entry costs about 56 bytes (its Map entry with its
 * share of the hash table, ~40, and its access-clock entry, ~16), which
 * with a 16-char key and a 100-byte value gives the 230 bytes per key
 * measured after a bulk load.
 */

import type { Value } from './value.js';
import { storable, storeKeyBytes } from '../engine/string-store.js';

/** Approximate heap bytes of a V8 one-byte string of n chars (header + chars, 8-aligned). */
export function stringBytes(n: number): number {
  return 16 + Math.ceil(n / 8) * 8;
}

/** A key, its value and its table entry (a record of the off-heap string store for short strings and numbers). */
export function keyMemoryUsage(key: string, v: Value): number {
  if (storable(key, v)) return storeKeyBytes(key, v as string | number);
  const entry = 56;
  let value: number;
  if (typeof v === 'string') value = stringBytes(v.length);
  else if (typeof v === 'number') value = 0; // small integers live inside the table entry
  else if (typeof v === 'bigint') value = 24;
  else value = v.memoryUsage();
  return entry + stringBytes(key.length) + value;
}
