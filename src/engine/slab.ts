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

/**
 * Zeroed Int32Array blocks of 2^k ints (the per-slot indexes of the string
 * store), cut from shared slabs with a free list per size. Thousands of
 * small indexes, each replaced as it grows, would otherwise be as many
 * small malloc blocks in the C heap, where what they leave behind after a
 * FLUSHALL cannot go back to the system while anything above them lives.
 * A slab whose blocks are all free is dropped: indexes grow in step during
 * a bulk load, and the sizes they outgrow would otherwise stay allocated.
 */
export class BlockPool {
  private free: Int32Array[][] = [];
  /** Per size (log2 of ints): the slab being cut and the next free int in it. */
  private slab: (Int32Array | undefined)[] = [];
  private next: number[] = [];
  private lastSlabInts: number[] = [];
  /** Blocks handed out, per slab. */
  private live = new Map<ArrayBufferLike, number>();
  /** Bytes of all slabs. */
  bytes = 0;
  /** Bytes of the blocks handed out. */
  liveBytes = 0;

  /** A zeroed block of 2^log2 ints. */
  alloc(log2: number): Int32Array {
    const ints = 1 << log2;
    this.liveBytes += ints * 4;
    // Blocks of 256 KiB or more get a buffer of their own.
    if (ints >= SLAB_MAX / 16) {
      this.bytes += ints * 4;
      return new Int32Array(ints);
    }
    const list = this.free[log2];
    let block: Int32Array;
    if (list !== undefined && list.length > 0) {
      block = list.pop()!;
    } else {
      let slab = this.slab[log2];
      let at = this.next[log2] ?? 0;
      if (slab === undefined || at + ints > slab.length) {
        const last = this.lastSlabInts[log2] ?? 0;
        const size = Math.max(ints, last === 0 ? SLAB_MIN / 4 : Math.min(SLAB_MAX / 4, last * 2));
        this.lastSlabInts[log2] = size;
        slab = new Int32Array(size);
        this.bytes += size * 4;
        this.slab[log2] = slab;
        at = 0;
      }
      this.next[log2] = at + ints;
      block = slab.subarray(at, at + ints);
    }
    this.live.set(block.buffer, (this.live.get(block.buffer) ?? 0) + 1);
    return block;
  }

  /** Give back a block from alloc(). */
  release(block: Int32Array): void {
    const ints = block.length;
    this.liveBytes -= ints * 4;
    if (ints >= SLAB_MAX / 16) {
      this.bytes -= ints * 4;
      return;
    }
    const log2 = 31 - Math.clz32(ints);
    const buf = block.buffer;
    const n = this.live.get(buf)! - 1;
    if (n > 0) {
      this.live.set(buf, n);
      block.fill(0);
      (this.free[log2] ??= []).push(block);
      return;
    }
    // The slab's last block: its free blocks leave the free list, and the
    // slab is dropped, unless it is the one being cut (a bulk load filling
    // one slot after another frees each size's only block again and again:
    // that slab is cut again from its start instead).
    this.live.delete(buf);
    const list = this.free[log2];
    if (list !== undefined) this.free[log2] = list.filter((b) => b.buffer !== buf);
    if (this.slab[log2]?.buffer === buf) {
      this.slab[log2]!.fill(0, 0, this.next[log2]);
      this.next[log2] = 0;
      return;
    }
    this.bytes -= buf.byteLength;
  }

  /**
   * Empty the slabs of each size that hold the fewest blocks by moving
   * their blocks into the free blocks of the other slabs of that size, and
   * drop them. `blocks` holds every block handed out (undefined where
   * none); a moved block is replaced there by its copy. The moves go to
   * free blocks only, memory already written: no new slab, no page touched
   * for the first time. Returns the bytes of the slabs dropped.
   */
  compact(blocks: (Int32Array | undefined)[]): number {
    const emptied = new Set<ArrayBufferLike>();
    // Bit log2 set: sizes with slabs to empty.
    let sizes = 0;
    for (let log2 = 0; log2 < this.free.length; log2++) {
      const list = this.free[log2];
      if (list === undefined || list.length === 0) continue;
      // A typed array's .buffer is a call into the runtime (~0.5 us): read once per block.
      const bufs = list.map((b) => b.buffer);
      const freeIn = new Map<ArrayBufferLike, number>();
      for (const buf of bufs) freeIn.set(buf, (freeIn.get(buf) ?? 0) + 1);
      const cutting = this.slab[log2]?.buffer;
      // Slabs of this size with no free block are full: they stay. The emptiest go first.
      const slabs = [...freeIn.keys()].filter((buf) => buf !== cutting).sort((a, b) => this.live.get(a)! - this.live.get(b)!);
      let room = list.length;
      for (const buf of slabs) {
        const live = this.live.get(buf)!;
        const free = freeIn.get(buf)!;
        // Its blocks must fit in the free blocks of the others.
        if (live > room - free) break;
        room -= free + live;
        emptied.add(buf);
        sizes |= 1 << log2;
      }
      if ((sizes & (1 << log2)) !== 0) this.free[log2] = list.filter((_, i) => !emptied.has(bufs[i]!));
    }
    if (emptied.size === 0) return 0;
    for (let i = 0; i < blocks.length; i++) {
      const b = blocks[i];
      // b.length is a power of two: its bit in `sizes` says whether its size has slabs to empty.
      if (b === undefined || (sizes & b.length) === 0 || !emptied.has(b.buffer)) continue;
      const to = this.free[31 - Math.clz32(b.length)]!.pop()!;
      to.set(b);
      this.live.set(to.buffer, this.live.get(to.buffer)! + 1);
      blocks[i] = to;
    }
    let dropped = 0;
    for (const buf of emptied) {
      this.live.delete(buf);
      dropped += buf.byteLength;
    }
    this.bytes -= dropped;
    return dropped;
  }

  /** Bytes of blocks waiting in the free lists: written once, so resident, and holding nothing. */
  freedBytes(): number {
    let n = 0;
    for (let log2 = 0; log2 < this.free.length; log2++) n += (this.free[log2]?.length ?? 0) << (log2 + 2);
    return n;
  }

  clear(): void {
    this.free = [];
    this.slab = [];
    this.next = [];
    this.lastSlabInts = [];
    this.live.clear();
    this.bytes = 0;
    this.liveBytes = 0;
  }
}
