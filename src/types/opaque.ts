/**
 * A value Vireo can load and save but not yet operate on (streams): it
 * keeps the exact RDB serialization, so RDB files, DUMP/RESTORE, AOF
 * rewrites and replicas carry it through unchanged. Commands on it answer
 * WRONGTYPE; TYPE and OBJECT ENCODING report what it is.
 */

import { RObject, type TypeName } from './value.js';

export class OpaqueValue extends RObject {
  constructor(
    readonly type: TypeName,
    /** The RDB type byte. */
    readonly rdbType: number,
    /** The RDB payload after the type byte. */
    readonly payload: Buffer,
    private readonly enc: string,
  ) {
    super();
  }

  encoding(): string {
    return this.enc;
  }

  clone(): OpaqueValue {
    return new OpaqueValue(this.type, this.rdbType, Buffer.from(this.payload), this.enc);
  }

  memoryUsage(): number {
    return 64 + this.payload.length;
  }
}
