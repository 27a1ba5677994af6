/**
 * Hashes (Redis' t_hash.c): `listpack` while small (a packed string of
 * field, value, field, value ...), `hashtable` (a Map) once a field count or
 * a field/value length passes hash-max-listpack-entries/-value. As in Redis,
 * a hash never goes back to listpack except when reloaded.
 */

import { RObject } from './value.js';
import { PackedReader, packEntry, lpSafeToAdd, cat, splice } from './packed.js';
import { ScanMap } from '../util/bigmap.js';
import type { EncodingLimits } from './limits.js';

export class HashValue extends RObject {
  readonly type = 'hash' as const;
  /** listpack form, or null once converted. */
  private packed: string | null = '';
  private packedCount = 0;
  private table: ScanMap<string> | null = null;

  encoding(): string {
    return this.table === null ? 'listpack' : 'hashtable';
  }

  get size(): number {
    return this.table === null ? this.packedCount : this.table.size;
  }

  get isPacked(): boolean {
    return this.table === null;
  }

  /** Find `field` in the packed form: the reader is left on its value. */
  private findPacked(field: string): PackedReader | null {
    const r = new PackedReader(this.packed!);
    while (r.next()) {
      const isField = r.equals(field);
      if (!r.next()) break;
      if (isField) return r;
    }
    return null;
  }

  get(field: string): string | undefined {
    if (this.table !== null) return this.table.get(field);
    const r = this.findPacked(field);
    return r === null ? undefined : r.value();
  }

  has(field: string): boolean {
    if (this.table !== null) return this.table.has(field);
    return this.findPacked(field) !== null;
  }

  /**
   * Redis' hashTypeTryConversion: before writing these field/value strings,
   * convert if any is too long or too many new fields are coming.
   */
  prepareFor(strings: readonly string[], from: number, to: number, limits: EncodingLimits): void {
    if (this.table !== null) return;
    const newFields = Math.floor((to - from + 1) / 2);
    if (newFields > limits.hashMaxListpackEntries) {
      this.convert();
      return;
    }
    let sum = 0;
    for (let i = from; i <= to; i++) {
      const len = strings[i]!.length;
      if (len > limits.hashMaxListpackValue) {
        this.convert();
        return;
      }
      sum += len;
    }
    if (!lpSafeToAdd(this.packed!.length, sum)) this.convert();
  }

  /** Set a field; returns true if it is new. */
  set(field: string, value: string, limits: EncodingLimits): boolean {
    if (this.table === null) {
      if (field.length > limits.hashMaxListpackValue || value.length > limits.hashMaxListpackValue) this.convert();
    }
    if (this.table !== null) return this.table.set(field, value);
    const p = this.packed!;
    const r = this.findPacked(field);
    if (r !== null) {
      if (r.equals(value)) return false;
      this.packed = splice(p, r.entryStart, r.end, packEntry(value));
      return false;
    }
    this.packed = cat(p, packEntry(field), packEntry(value));
    this.packedCount++;
    if (this.packedCount > limits.hashMaxListpackEntries) this.convert();
    return true;
  }

  delete(field: string): boolean {
    if (this.table !== null) return this.table.delete(field);
    const p = this.packed!;
    const r = new PackedReader(p);
    while (r.next()) {
      const from = r.entryStart;
      const isField = r.equals(field);
      if (!r.next()) break;
      if (isField) {
        this.packed = splice(p, from, r.end, '');
        this.packedCount--;
        return true;
      }
    }
    return false;
  }

  /** Switch to the hashtable encoding. */
  convert(): void {
    if (this.table !== null) return;
    this.table = new ScanMap(this.entries());
    this.packed = null;
    this.packedCount = 0;
  }

  /** Fields and values, in listpack order or the table's order. */
  *entries(): IterableIterator<[string, string]> {
    if (this.table !== null) {
      yield* this.table.entries();
      return;
    }
    const r = new PackedReader(this.packed!);
    while (r.next()) {
      const f = r.value();
      if (!r.next()) break;
      yield [f, r.value()];
    }
  }

  /** Entries as an array (for random picks and scans of small hashes). */
  toArray(): [string, string][] {
    return [...this.entries()];
  }

  clone(): HashValue {
    const h = new HashValue();
    if (this.table === null) {
      h.packed = this.packed;
      h.packedCount = this.packedCount;
    } else {
      h.table = new ScanMap(this.table.entries());
      h.packed = null;
    }
    return h;
  }

  /** One random field and its value (the hash is not empty): no copy of a big hash. */
  randomEntry(): [string, string] {
    if (this.table !== null) return this.table.randomEntry()!;
    const all = this.toArray();
    return all[Math.floor(Math.random() * all.length)]!;
  }

  /** The hashtable, for SCAN and random picks (null while listpack). */
  get hashtable(): ScanMap<string> | null {
    return this.table;
  }

  memoryUsage(): number {
    if (this.table === null) return 48 + this.packed!.length;
    let bytes = 64;
    for (const [f, v] of this.table.entries()) bytes += 32 + 24 + f.length + 24 + v.length;
    return bytes;
  }
}
