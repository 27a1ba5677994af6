/**
 * A record allocator over ArrayBuffer slabs, for data the GC should never
 * see (the small-string keyspace, string-store.ts).
 *
 * Records are multiples of 8 bytes, from 16 to MAX_RECORD. Each size has
 * its own slabs (a slab holds records of one size only) and its own free
 * list threaded through the first word of freed records, so a freed record
 * is reused by the next one of its size and there is no fragmentation
 * within a slab. A size's first slab is small (a handful of keys cost a
 * few KiB, not a megabyte per database) and each next one is twice as
 * large, up to SLAB_MAX.
 *
 * A record is named by a ref, a positive int32: slab id << 17 | (offset / 8).
 * Slab ids start at 1, so 0 never names a record. Offsets within a slab are
 * below SLAB_MAX (1 MiB = 2^17 units of 8 bytes), and 2^14 slabs give
 * 16 GiB of records.
 */

/** Largest record, bytes. */
export const MAX_RECORD = 512;
const SLAB_MIN = 4096;
const SLAB_MAX = 1 << 20;
const OFFSET_BITS = 17;
const OFFSET_MASK = (1 << OFFSET_BITS) - 1;
const MAX_SLABS = 1 << 14;

export class SlabAllocator {
  /** Bytes of each slab, by slab id (index 0 unused); Buffers, for their native latin1 decoding. */
  u8: Buffer[] = [Buffer.alloc(0)];
  /** The same slabs as 32-bit words. */
  u32: Uint32Array[] = [new Uint32Array(0)];
  /** The same slabs as doubles. */
  f64: Float64Array[] = [new Float64Array(0)];
  /** Per size class (size / 8): head of the free list (0: empty). */
  private free = new Int32Array(MAX_RECORD / 8 + 1);
  /** Per size class: the slab being filled and the next free offset in it. */
  private current = new Int32Array(MAX_RECORD / 8 + 1);
  private next = new Int32Array(MAX_RECORD / 8 + 1);
  /** Per size class: bytes of its last slab (the next one is twice as large). */
  private lastSlabBytes = new Int32Array(MAX_RECORD / 8 + 1);
  /** Bytes handed out as records now (live records, rounded to their class). */
  liveBytes = 0;
  /** Bytes of all slabs. */
  slabBytes = 0;

  /** The size of the record holding `bytes` bytes (a multiple of 8, at least 16). */
  static roundUp(bytes: number): number {
    return bytes <= 16 ? 16 : (bytes + 7) & ~7;
  }

  /** A record of `size` bytes (a value of roundUp, <= MAX_RECORD). Its contents are undefined. */
  alloc(size: number): number {
    const cls = size >>> 3;
    this.liveBytes += size;
    const head = this.free[cls]!;
    if (head !== 0) {
      this.free[cls] = this.u32[head >>> OFFSET_BITS]![(head & OFFSET_MASK) << 1]!;
      return head;
    }
    let slab = this.current[cls]!;
    let at = this.next[cls]!;
    if (slab === 0 || at + size > this.u8[slab]!.length) {
      slab = this.addSlab(cls, size);
      at = 0;
    }
    this.next[cls] = at + size;
    return (slab << OFFSET_BITS) | (at >>> 3);
  }

  /** Give back record `ref` of `size` bytes. */
  release(ref: number, size: number): void {
    const cls = size >>> 3;
    this.liveBytes -= size;
    this.u32[ref >>> OFFSET_BITS]![(ref & OFFSET_MASK) << 1] = this.free[cls]!;
    this.free[cls] = ref;
  }

  /** Drop every record and slab: the memory goes back once the GC collects the buffers. */
  clear(): void {
    this.u8 = [Buffer.alloc(0)];
    this.u32 = [new Uint32Array(0)];
    this.f64 = [new Float64Array(0)];
    this.free.fill(0);
    this.current.fill(0);
    this.next.fill(0);
    this.lastSlabBytes.fill(0);
    this.liveBytes = 0;
    this.slabBytes = 0;
  }

  private addSlab(cls: number, size: number): number {
    const id = this.u8.length;
    if (id >= MAX_SLABS) throw new RangeError('OOM slab space exhausted');
    const last = this.lastSlabBytes[cls]!;
    let bytes = last === 0 ? SLAB_MIN : Math.min(SLAB_MAX, last * 2);
    // Whole records only; at least one.
    bytes = Math.max(size, bytes - (bytes % size));
    this.lastSlabBytes[cls] = bytes;
    const buf = new ArrayBuffer((bytes + 7) & ~7);
    this.u8.push(Buffer.from(buf));
    this.u32.push(new Uint32Array(buf));
    this.f64.push(new Float64Array(buf));
    this.current[cls] = id;
    this.slabBytes += buf.byteLength;
    return id;
  }
}

/** The slab id of a ref. */
export function slabOf(ref: number): number {
  return ref >>> OFFSET_BITS;
}

/** The byte offset of a ref within its slab. */
export function offsetOf(ref: number): number {
  return (ref & OFFSET_MASK) << 3;
}
