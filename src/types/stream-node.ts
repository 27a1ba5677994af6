/**
 * One node of a stream: what Redis keeps in one listpack of its radix tree
 * (t_stream.c streamAppendItem). A node has a master ID (its key) and a
 * master entry (the field names of its first entry); each entry after it
 * is stored relative to those:
 *
 *   flags | ms-delta | seq-delta | [num-fields | field value ...] | lp-count
 *   flags | ms-delta | seq-delta | value ...                       | lp-count   (SAMEFIELDS)
 *
 * The entries are kept in one buffer in Redis' listpack element encoding,
 * so a node costs about what Redis' listpack does (no JS object per entry
 * or field), its size in listpack bytes is exact (node splits and `~`
 * trimming follow Redis to the entry), and it is written to RDB files
 * byte for byte as Redis writes it. The master entry's counters (valid and
 * deleted entries) are kept as numbers and encoded on output.
 */

import { LpReader, lpIntBytes, lpIntOf, lpPlainStringBytes, lpStringBytes, writeLpInt, writeLpPlainString, writeLpString } from './lp-codec.js';
import { addWrapping, deltaInt64, type StreamID, type U64 } from './stream-id.js';

export const FLAG_DELETED = 1;
export const FLAG_SAMEFIELDS = 2;

/** Header (6) and end byte (1) of a listpack. */
const LP_OVERHEAD = 7;

/** append's integer readings of the strings it writes: reused up to this many (no array per entry), a new one beyond. */
const REUSED_INTS = 256;
const elementInts: (number | bigint | null)[] = [];

/** Writes past a buffer's end are silently lost: a wrong size estimate must fail loudly instead. */
function checkFits(end: number, b: Buffer): void {
  if (end > b.length) throw new Error(`stream node: an entry overran its buffer (${end} > ${b.length})`);
}

export class StreamNode {
  /**
   * Entries region: [0, end) of buf. Node buffers have their own memory
   * (allocUnsafeSlow): a slice of Node's shared 8 KB pool would keep the
   * whole pool alive, with the outgrown buffers in it, for as long as the
   * node lives (about 3x the entries' bytes).
   */
  buf: Buffer;
  end = 0;
  /** Live entries and tombstones (the master entry's count and deleted fields). */
  valid = 0;
  deleted = 0;
  /** Listpack elements in the entries region (the header's element count needs them). */
  elements = 0;
  /**
   * The node as an RDB string exactly as a file held it (LZF-compressed by
   * another server's compressor, whose choices Vireo's does not repeat),
   * written back unchanged until the node changes; null otherwise.
   */
  rdbBlob: Buffer | null = null;
  /** Listpack bytes of num-fields, the master fields and the zero terminator. */
  private readonly masterBytes: number;
  /** Characters of the master field names together (sizing replies of SAMEFIELDS entries). */
  readonly fieldChars: number;
  /**
   * Where forward seeks may start: an entry's offset and its ID. Entries
   * never move within a node (it only grows at its end, and a delete flips
   * a flag), so any entry seen once stays a valid starting point for IDs at
   * or after its own; iterations leave the last entry they returned here.
   * A consumer group reading new entries then starts one entry before
   * them instead of at the node's first.
   */
  seekPos = 0;
  seekMs: U64;
  seekSeq: U64;

  constructor(
    readonly masterMs: U64,
    readonly masterSeq: U64,
    /** Field names of the master entry. */
    readonly fields: readonly string[],
    capacity = 64,
  ) {
    this.buf = Buffer.allocUnsafeSlow(capacity);
    // The first entry has the master ID.
    this.seekMs = masterMs;
    this.seekSeq = masterSeq;
    let bytes = lpIntBytes(fields.length) + lpIntBytes(0);
    let chars = 0;
    for (const f of fields) {
      bytes += lpStringBytes(f);
      chars += f.length;
    }
    this.masterBytes = bytes;
    this.fieldChars = chars;
  }

  get masterId(): StreamID {
    return { ms: this.masterMs, seq: this.masterSeq };
  }

  /** lpBytes() of this node as Redis holds it. */
  get lpBytes(): number {
    return LP_OVERHEAD + lpIntBytes(this.valid) + lpIntBytes(this.deleted) + this.masterBytes + this.end;
  }

  /** Whether argv[from], argv[from+2], ... (n fields) are the master fields. */
  sameFields(argv: readonly string[], from: number, n: number): boolean {
    const f = this.fields;
    if (n !== f.length) return false;
    for (let i = 0; i < n; i++) if (argv[from + 2 * i] !== f[i]) return false;
    return true;
  }

  private reserve(need: number): void {
    if (this.end + need <= this.buf.length) return;
    let size = Math.max(64, this.buf.length * 2);
    while (size < this.end + need) size *= 2;
    const next = Buffer.allocUnsafeSlow(size);
    this.buf.copy(next, 0, 0, this.end);
    this.buf = next;
  }

  /**
   * Drop the spare room (the node is full: Redis' lpShrinkToFit), unless
   * it is small: a node sized from its full predecessor mostly ends within
   * an eighth of its buffer, and the copy would cost more than it saves.
   */
  shrink(): void {
    if (this.buf.length - this.end <= this.buf.length >> 3) return;
    const exact = Buffer.allocUnsafeSlow(this.end);
    this.buf.copy(exact, 0, 0, this.end);
    this.buf = exact;
  }

  /** Append an entry: `n` field/value pairs at argv[from...]. */
  append(id: StreamID, argv: readonly string[], from: number, n: number): void {
    this.rdbBlob = null;
    const same = this.sameFields(argv, from, n);
    const msDelta = deltaInt64(id.ms, this.masterMs);
    const seqDelta = deltaInt64(id.seq, this.masterSeq);
    // The strings written, in order (values only with SAMEFIELDS), each read as an integer once.
    const step = same ? 2 : 1;
    const first = same ? from + 1 : from;
    const count = same ? n : 2 * n;
    const ints = count <= REUSED_INTS ? elementInts : new Array<number | bigint | null>(count);
    let lpCount = 3 + n;
    let need = lpIntBytes(FLAG_SAMEFIELDS) + lpIntBytes(msDelta) + lpIntBytes(seqDelta);
    if (!same) {
      lpCount += n + 1;
      need += lpIntBytes(n);
    }
    for (let i = 0; i < count; i++) {
      const str = argv[first + i * step]!;
      const v = lpIntOf(str);
      ints[i] = v;
      need += v !== null ? lpIntBytes(v) : lpPlainStringBytes(str);
    }
    need += lpIntBytes(lpCount);
    this.reserve(need);
    const b = this.buf;
    let p = this.end;
    p = writeLpInt(b, p, same ? FLAG_SAMEFIELDS : 0);
    p = writeLpInt(b, p, msDelta);
    p = writeLpInt(b, p, seqDelta);
    if (!same) p = writeLpInt(b, p, n);
    for (let i = 0; i < count; i++) {
      const v = ints[i]!;
      p = v !== null ? writeLpInt(b, p, v) : writeLpPlainString(b, p, argv[first + i * step]!);
      ints[i] = null;
    }
    p = writeLpInt(b, p, lpCount);
    checkFits(p, b);
    this.end = p;
    this.valid++;
    this.elements += lpCount + 1;
  }

  /**
   * Append an entry as a file holds it (loading): its flags and ID deltas
   * as given, `pairs` its fields and values (with SAMEFIELDS the fields are
   * the master's and only the values are written).
   */
  appendLoaded(flags: number, msDelta: number | bigint, seqDelta: number | bigint, pairs: readonly string[]): void {
    const same = (flags & FLAG_SAMEFIELDS) !== 0;
    const n = pairs.length / 2;
    const lpCount = same ? 3 + n : 4 + 2 * n;
    let need = lpIntBytes(flags) + lpIntBytes(msDelta) + lpIntBytes(seqDelta) + lpIntBytes(lpCount) + (same ? 0 : lpIntBytes(n));
    for (let i = same ? 1 : 0; i < pairs.length; i += same ? 2 : 1) need += lpStringBytes(pairs[i]!);
    this.reserve(need);
    const b = this.buf;
    let p = this.end;
    p = writeLpInt(b, p, flags);
    p = writeLpInt(b, p, msDelta);
    p = writeLpInt(b, p, seqDelta);
    if (!same) p = writeLpInt(b, p, n);
    for (let i = same ? 1 : 0; i < pairs.length; i += same ? 2 : 1) p = writeLpString(b, p, pairs[i]!);
    p = writeLpInt(b, p, lpCount);
    checkFits(p, b);
    this.end = p;
    if ((flags & FLAG_DELETED) !== 0) this.deleted++;
    else this.valid++;
    this.elements += lpCount + 1;
  }

  /**
   * Take a file's entries region as it is (loading a listpack whose
   * entries were checked and whose master entry is encoded as Vireo would
   * encode it): the bytes are copied once, not re-encoded entry by entry.
   */
  adoptEntries(bytes: Buffer, valid: number, deleted: number, elements: number): void {
    this.seekPos = 0;
    this.seekMs = this.masterMs;
    this.seekSeq = this.masterSeq;
    this.buf = Buffer.allocUnsafeSlow(bytes.length);
    bytes.copy(this.buf);
    this.end = bytes.length;
    this.valid = valid;
    this.deleted = deleted;
    this.elements = elements;
  }

  /** Listpack bytes of the master entry (num-fields, fields, terminator), as written. */
  get masterEntryBytes(): number {
    return this.masterBytes;
  }

  /** A copy sharing nothing mutable (COPY, snapshots). */
  clone(): StreamNode {
    const n = new StreamNode(this.masterMs, this.masterSeq, this.fields, 0);
    n.buf = Buffer.allocUnsafeSlow(this.end);
    this.buf.copy(n.buf, 0, 0, this.end);
    n.end = this.end;
    n.valid = this.valid;
    n.deleted = this.deleted;
    n.elements = this.elements;
    n.rdbBlob = this.rdbBlob;
    return n;
  }

  /** Heap and buffer bytes (MEMORY USAGE). */
  memoryUsage(): number {
    let fields = 0;
    for (const f of this.fields) fields += 24 + f.length;
    return 96 + this.buf.length + fields + (this.rdbBlob?.length ?? 0);
  }

  /** The whole node as a Redis listpack (RDB). */
  toListpack(): Buffer {
    const total = this.lpBytes;
    const out = Buffer.allocUnsafe(total);
    out.writeUInt32LE(total, 0);
    out.writeUInt16LE(Math.min(3 + this.fields.length + 1 + this.elements, 65535), 4);
    let p = 6;
    p = writeLpInt(out, p, this.valid);
    p = writeLpInt(out, p, this.deleted);
    p = writeLpInt(out, p, this.fields.length);
    for (const f of this.fields) p = writeLpString(out, p, f);
    p = writeLpInt(out, p, 0);
    this.buf.copy(out, p, 0, this.end);
    out[total - 1] = 0xff;
    return out;
  }
}

/**
 * Walks the entries of one node, forwards or backwards. After a successful
 * step the entry's ID, flags and field count are set, and its fields can
 * be read with field()/value() in order.
 */
export class NodeCursor {
  readonly r: LpReader;
  /** Start of the current entry (its flags element) and of the next one. */
  entryStart = 0;
  entryEnd = 0;
  flags = 0;
  ms: U64 = 0;
  seq: U64 = 0;
  numFields = 0;
  /** Where the current entry's fields (or values, with SAMEFIELDS) begin. */
  fieldsStart = 0;

  constructor(public node: StreamNode) {
    this.r = new LpReader(node.buf);
  }

  /** Walk another node (an iterator moving on reuses its cursor). */
  reset(node: StreamNode): void {
    this.node = node;
    this.r.buf = node.buf;
  }

  /** Decode the entry starting at p. */
  decodeAt(p: number): void {
    const r = this.r;
    const node = this.node;
    this.entryStart = p;
    r.read(p);
    this.flags = r.int as number;
    r.read(r.next);
    this.ms = addWrapping(node.masterMs, r.int);
    r.read(r.next);
    this.seq = addWrapping(node.masterSeq, r.int);
    let q = r.next;
    let elements: number;
    if ((this.flags & FLAG_SAMEFIELDS) !== 0) {
      this.numFields = elements = node.fields.length;
    } else {
      r.read(q);
      this.numFields = r.int as number;
      elements = 2 * this.numFields;
      q = r.next;
    }
    this.fieldsStart = q;
    // The fields and the lp-count are only stepped over here.
    for (let i = 0; i <= elements; i++) q = r.skip(q);
    this.entryEnd = q;
  }

  /** The entry ending at p (exclusive): its lp-count says how far back it starts. */
  entryBefore(p: number): number {
    const r = this.r;
    const last = r.startBefore(p);
    r.read(last);
    let q = last;
    for (let n = r.int as number; n > 0; n--) q = r.startBefore(q);
    return q;
  }

  get id(): StreamID {
    return { ms: this.ms, seq: this.seq };
  }

  get isDeleted(): boolean {
    return (this.flags & FLAG_DELETED) !== 0;
  }

  /** Visit the current entry's fields and values: cb(field, valueReader) for each pair. */
  forEachPair(cb: (field: string, r: LpReader) => void): void {
    const r = this.r;
    const same = (this.flags & FLAG_SAMEFIELDS) !== 0;
    let q = this.fieldsStart;
    for (let i = 0; i < this.numFields; i++) {
      let field: string;
      if (same) field = this.node.fields[i]!;
      else {
        r.read(q);
        field = r.text();
        q = r.next;
      }
      r.read(q);
      q = r.next;
      cb(field, r);
    }
  }

  /** The current entry's fields and values, flattened (digests, AOF rewrites). */
  pairs(): string[] {
    const out: string[] = [];
    this.forEachPair((f, r) => out.push(f, r.text()));
    return out;
  }

  /** Mark the current entry deleted (its flags byte: 0-3 always take one byte). */
  markDeleted(): void {
    this.node.rdbBlob = null;
    this.node.buf[this.entryStart] = this.flags | FLAG_DELETED;
    this.flags |= FLAG_DELETED;
  }
}
