/**
 * RDB file framing: "REDIS00NN", AUX fields, SELECTDB/RESIZEDB, expiry
 * opcodes, keys, FUNCTION2 libraries, EOF and the CRC-64 trailer.
 *
 * RdbWriter produces the file in chunks (a snapshot can stream it out
 * between event-loop turns); readRdb parses a whole file or DUMP-less RDB
 * stream and reports keys through a callback.
 */

import { Crc64 } from './crc64.js';
import { RDB_OPCODE, RDB_TYPE, RDB_VERSION_MAX_READ, RDB_VERSION_WRITTEN, RdbError, RdbInput, RdbOutput } from './format.js';
import { isValueType, readValue, valueType, writePayload, writeValue } from './values.js';
import type { Value } from '../../src/types/value.js';
import type { EncodingLimits } from '../../src/types/limits.js';

export interface RdbWriterOptions {
  compress: boolean;
  checksum: boolean;
  /**
   * Receives the bytes as they are produced. A long string value arrives
   * as a view of the value itself: use it before the dataset changes.
   */
  sink: (chunk: Buffer) => void;
  /**
   * Where long values go (views of the value itself or of a scratch
   * buffer), when `sink` keeps its chunks past its return (it writes them
   * later, off the main thread): this one must be done with them when it
   * returns. Default: `sink`.
   */
  spill?: (chunk: Buffer) => void;
  /**
   * The sink keeps chunks until they are written and then hands them to
   * giveBack(): chunks are the writer's own buffers, not copies, and are
   * written into again once given back.
   */
  sinkGivesBack?: boolean;
  /**
   * Compression and checksum done by the receiver (a worker thread): the
   * writer marks the strings LZF may shrink instead of compressing them
   * (RdbOutput.deferLzf) and hands every chunk here with its spans; `sink`
   * and `spill` are then unused, and end() leaves the trailer to it.
   */
  deferred?: DeferredRdbSink;
}

/** Where a deferring RdbWriter's chunks go (RdbWriterOptions.deferred). */
export interface DeferredRdbSink {
  /** A chunk and its spans (lzf-spans.ts), views the writer reuses after the call: copy them. */
  chunk(chunk: Buffer, spans: Int32Array): void;
  /** A long string's chunk and its span, buffers of their own: the sink may keep them. */
  long(chunk: Buffer, spans: Int32Array): void;
  /** After the last chunk: the checksum trailer (rdbchecksum) or 8 zero bytes are the receiver's to write. */
  end(): void;
}

export class RdbWriter {
  private readonly out = new RdbOutput(256 * 1024);
  private readonly crc = new Crc64();
  private currentDb = -1;
  keys = 0;

  constructor(private readonly opts: RdbWriterOptions) {
    // Long values go to the sink as they are, not through the buffer.
    const spill = opts.spill ?? opts.sink;
    this.out.spill = (chunk) => {
      if (this.opts.checksum) this.crc.update(chunk);
      spill(chunk);
    };
    const deferred = opts.deferred;
    if (deferred !== undefined) {
      this.out.deferLzf = { flush: () => this.drain(), long: (chunk, spans) => deferred.long(chunk, spans) };
    }
  }

  /** Hand buffered bytes to the sink (call between slices). */
  drain(): void {
    if (this.out.pos === 0) return;
    const deferred = this.opts.deferred;
    if (deferred !== undefined) {
      this.out.handOver((bytes, spans) => deferred.chunk(bytes, spans));
      return;
    }
    this.emit(this.opts.sinkGivesBack === true ? this.out.takeBuffer() : this.out.take());
  }

  /** A chunk the sink is done with (sinkGivesBack). */
  giveBack(chunk: Buffer): void {
    this.out.giveBack(chunk);
  }

  private emit(chunk: Buffer): void {
    if (this.opts.checksum) this.crc.update(chunk);
    this.opts.sink(chunk);
  }

  private maybeDrain(): void {
    if (this.out.pos >= 128 * 1024) this.drain();
  }

  header(aux: [string, string][]): void {
    this.out.raw(Buffer.from(`REDIS${String(RDB_VERSION_WRITTEN).padStart(4, '0')}`, 'latin1'));
    for (const [k, v] of aux) {
      this.out.u8(RDB_OPCODE.AUX);
      this.out.string(k, false);
      this.out.string(v, false);
    }
  }

  functions(libraries: string[]): void {
    for (const code of libraries) {
      this.out.u8(RDB_OPCODE.FUNCTION2);
      this.out.string(code, this.opts.compress);
    }
  }

  /** Start a database section (keys and expires are sizing hints). */
  selectDb(id: number, keys: number, expires: number): void {
    this.out.u8(RDB_OPCODE.SELECTDB);
    this.out.len(id);
    this.out.u8(RDB_OPCODE.RESIZEDB);
    this.out.len(keys);
    this.out.len(expires);
    this.currentDb = id;
  }

  /** One key; switches database first when needed. */
  entry(db: number, key: string, value: Value, expireMs: number, idleSeconds = -1, freq = -1): void {
    this.entryHead(db, expireMs, idleSeconds, freq);
    this.out.u8(valueType(value));
    this.out.string(key, this.opts.compress);
    writePayload(this.out, value, this.opts.compress);
    this.keys++;
    this.maybeDrain();
  }

  /**
   * entry() of a string whose key and value bytes lie in `buf` (a
   * string-store record): written from those bytes, no JS string made.
   */
  bytesEntry(db: number, buf: Buffer, keyStart: number, keyLen: number, valueStart: number, valueLen: number, expireMs: number, idleSeconds: number, freq: number): void {
    this.entryHead(db, expireMs, idleSeconds, freq);
    this.out.u8(RDB_TYPE.STRING);
    this.out.bytesAt(buf, keyStart, keyLen, this.opts.compress);
    this.out.bytesAt(buf, valueStart, valueLen, this.opts.compress);
    this.keys++;
    this.maybeDrain();
  }

  /** What precedes a key: SELECTDB when the database changes, then Redis' order: expire, IDLE (LRU policies), FREQ (LFU policies). */
  private entryHead(db: number, expireMs: number, idleSeconds: number, freq: number): void {
    if (db !== this.currentDb) {
      this.out.u8(RDB_OPCODE.SELECTDB);
      this.out.len(db);
      this.currentDb = db;
    }
    if (expireMs >= 0) {
      this.out.u8(RDB_OPCODE.EXPIRETIME_MS);
      this.out.millis(expireMs);
    }
    if (idleSeconds >= 0) {
      this.out.u8(RDB_OPCODE.IDLE);
      this.out.len(idleSeconds);
    }
    if (freq >= 0) {
      this.out.u8(RDB_OPCODE.FREQ);
      this.out.u8(freq);
    }
  }

  /** EOF opcode and checksum; drains everything. */
  end(): void {
    this.out.u8(RDB_OPCODE.EOF);
    this.drain();
    if (this.opts.deferred !== undefined) {
      this.opts.deferred.end();
      return;
    }
    const trailer = this.opts.checksum ? this.crc.digestLE() : Buffer.alloc(8);
    this.opts.sink(trailer);
  }
}

/** Serialize a whole dataset synchronously into one buffer. */
export function rdbToBuffer(build: (w: RdbWriter) => void, compress = true): Buffer {
  const chunks: Buffer[] = [];
  const w = new RdbWriter({ compress, checksum: true, sink: (c) => chunks.push(c) });
  build(w);
  return Buffer.concat(chunks);
}

export interface RdbKey {
  db: number;
  key: string;
  value: Value;
  /** Absolute expiry in ms, or -1. */
  expireMs: number;
}

export interface RdbLoadResult {
  version: number;
  aux: Map<string, string>;
  functions: string[];
  keys: number;
  /** Empty collections skipped, as Redis does. */
  emptySkipped: number;
  /** Bytes consumed (an AOF base continues after them). */
  end: number;
}

export interface RdbLoadOptions {
  limits: EncodingLimits;
  /** Verify the CRC-64 trailer (rdbchecksum). */
  checksum: boolean;
  /** One key (positional, so loading allocates no record per key). */
  /** A key; `idleSeconds` / `freq` are the IDLE / FREQ opcodes before it, -1 when absent. */
  onKey: (db: number, key: string, value: Value, expireMs: number, idleSeconds: number, freq: number) => void;
  /** An AUX field, as it is read (Redis logs some of them while loading). */
  onAux?: (key: string, value: string) => void;
  /** RESIZEDB: the keys (and keys with a TTL) the file holds for the current database. */
  onResizeDb?: (db: number, keys: number, expires: number) => void;
}

function isEmptyCollection(v: Value): boolean {
  if (typeof v !== 'object') return false;
  const sized = v as unknown as { size?: number; length?: number };
  if (v.type === 'list') return sized.length === 0;
  if (v.type === 'hash' || v.type === 'set' || v.type === 'zset') return sized.size === 0;
  return false;
}

/**
 * Parses an RDB image step by step (so a big load can yield to the event
 * loop between steps). Throws RdbError naming the byte offset of any damage.
 */
export class RdbParser {
  private readonly inp: RdbInput;
  readonly result: RdbLoadResult;
  private db = 0;
  private expireMs = -1;
  private idleSeconds = -1;
  private freq = -1;
  done = false;
  /**
   * The CRC-64 of the bytes parsed so far, added to at the end of each step:
   * computed at EOF over the whole image, it made the last step of a 1M-key
   * load take 20 ms (the checksum of 33 MB) where the others take 3.
   */
  private readonly crc: Crc64 | null;
  private crcTo = 0;

  constructor(
    private readonly buf: Buffer,
    private readonly opts: RdbLoadOptions,
  ) {
    this.inp = new RdbInput(buf);
    const magic = this.inp.bytes(9).latin1Slice();
    if (!magic.startsWith('REDIS')) throw new RdbError('wrong signature trying to load DB from file');
    const version = Number(magic.slice(5));
    if (!Number.isInteger(version) || version < 1 || version > RDB_VERSION_MAX_READ) {
      throw new RdbError(`can't handle RDB format version ${magic.slice(5)}`);
    }
    this.result = { version, aux: new Map(), functions: [], keys: 0, emptySkipped: 0, end: 0 };
    this.crc = opts.checksum && version >= 5 ? new Crc64() : null;
  }

  /** Add the bytes from where the checksum stopped to `to` (not past the image's CRC trailer). */
  private checksumTo(to: number): void {
    if (this.crc === null || to <= this.crcTo) return;
    this.crc.update(this.buf, this.crcTo, to);
    this.crcTo = to;
  }

  /** Bytes parsed so far. */
  get position(): number {
    return this.inp.pos;
  }

  /**
   * Parse up to `maxKeys` keys, stopping early once performance.now()
   * passes `deadline` (looked at every 64 keys); returns true when the
   * image is fully read.
   */
  step(maxKeys = Infinity, deadline = Infinity): boolean {
    const inp = this.inp;
    const result = this.result;
    let loaded = 0;
    while (!this.done && loaded < maxKeys) {
      const type = inp.u8();
      if (type === RDB_OPCODE.EXPIRETIME_MS) {
        this.expireMs = inp.millis();
        continue;
      }
      if (type === RDB_OPCODE.EXPIRETIME) {
        inp.need(4);
        this.expireMs = inp.buf.readInt32LE(inp.pos) * 1000;
        inp.pos += 4;
        continue;
      }
      if (type === RDB_OPCODE.FREQ) {
        this.freq = inp.u8();
        continue;
      }
      if (type === RDB_OPCODE.IDLE) {
        this.idleSeconds = inp.len();
        continue;
      }
      if (type === RDB_OPCODE.EOF) {
        this.finish();
        break;
      }
      if (type === RDB_OPCODE.SELECTDB) {
        this.db = inp.len();
        continue;
      }
      if (type === RDB_OPCODE.RESIZEDB) {
        const keys = inp.len();
        const expires = inp.len();
        this.opts.onResizeDb?.(this.db, keys, expires);
        continue;
      }
      if (type === RDB_OPCODE.AUX) {
        const k = inp.string();
        const v = inp.string();
        result.aux.set(k, v);
        this.opts.onAux?.(k, v);
        continue;
      }
      if (type === RDB_OPCODE.MODULE_AUX) throw new RdbError('the file holds module auxiliary data, which Vireo cannot load');
      if (type === RDB_OPCODE.FUNCTION2) {
        result.functions.push(inp.string());
        continue;
      }
      if (type === RDB_OPCODE.FUNCTION_PRE_GA) throw new RdbError('pre-GA function format is not supported');
      if (!isValueType(type)) throw new RdbError(`unknown RDB opcode or type ${type} at offset ${inp.pos - 1}`);
      const keyAt = inp.pos;
      const key = inp.string();
      let value: Value;
      try {
        value = readValue(inp, type, this.opts.limits);
      } catch (e) {
        if (e instanceof RdbError) throw new RdbError(`${e.message} (key at offset ${keyAt})`);
        throw e;
      }
      if (isEmptyCollection(value)) {
        result.emptySkipped++;
      } else {
        this.opts.onKey(this.db, key, value, this.expireMs, this.idleSeconds, this.freq);
        result.keys++;
        loaded++;
      }
      this.expireMs = -1;
      this.idleSeconds = -1;
      this.freq = -1;
      if ((loaded & 63) === 0 && deadline !== Infinity && loaded > 0 && performance.now() > deadline) break;
    }
    if (!this.done) this.checksumTo(inp.pos);
    return this.done;
  }

  private finish(): void {
    const inp = this.inp;
    if (this.result.version >= 5) {
      const crcAt = inp.pos;
      const stored = inp.bytes(8);
      if (this.crc !== null && !stored.equals(Buffer.alloc(8))) {
        this.checksumTo(crcAt);
        const actual = this.crc.digestLE();
        if (!actual.equals(stored)) {
          throw new RdbError(`wrong RDB checksum expected: (${stored.readBigUInt64LE(0).toString(16)}) got (${actual.readBigUInt64LE(0).toString(16)})`);
        }
      }
    }
    this.result.end = inp.pos;
    this.done = true;
  }
}

/** Parse a whole RDB image at once. */
export function readRdb(buf: Buffer, opts: RdbLoadOptions): RdbLoadResult {
  const p = new RdbParser(buf, opts);
  p.step();
  return p.result;
}

/** rdbSavedObjectLen: bytes of the value's RDB serialization (type byte excluded), as DEBUG OBJECT reports it. */
export function savedObjectLength(value: Value, compress = true): number {
  const out = new RdbOutput(1024);
  let spilled = 0;
  out.spill = (chunk) => (spilled += chunk.length);
  writeValue(out, value, compress);
  return spilled + out.pos - 1;
}

/** A DUMP payload: value + RDB version (2 bytes LE) + CRC-64 (8 bytes LE); LZF as rdbcompression says. */
export function dumpPayload(value: Value, compress = true): Buffer {
  let payload = EMPTY;
  let at = 0;
  new DumpPayloads().write(
    value,
    compress,
    (bytes) => (payload = Buffer.allocUnsafe(bytes)),
    (piece) => (at += piece.copy(payload, at)),
  );
  return payload;
}

const EMPTY = Buffer.alloc(0);

/** A DumpPayloads buffer grown past this (a large collection's payload) is not kept for the next one. */
const DUMP_BUFFER_KEPT = 64 * 1024;

/**
 * DUMP payloads, one after another through one reused buffer (MIGRATE
 * sends one per key, dumpPayload one): each payload's length, then its
 * pieces in order, are handed over, the pieces valid only during the call.
 * A long string is not copied into the buffer on its way to the payload.
 */
export class DumpPayloads {
  private readonly out = new RdbOutput(1024);
  private readonly parts: Buffer[] = [];
  private readonly footer = Buffer.alloc(10);

  constructor() {
    this.out.spill = (chunk) => this.parts.push(chunk);
  }

  write(value: Value, compress: boolean, length: (bytes: number) => void, piece: (bytes: Buffer) => void): void {
    const out = this.out;
    const parts = this.parts;
    out.pos = 0;
    parts.length = 0;
    writeValue(out, value, compress);
    parts.push(out.view());
    const footer = this.footer;
    footer.writeUInt16LE(RDB_VERSION_WRITTEN, 0);
    const crc = new Crc64();
    let bytes = footer.length;
    for (const p of parts) {
      crc.update(p);
      bytes += p.length;
    }
    crc.update(footer, 0, 2);
    crc.writeLE(footer, 2);
    length(bytes);
    for (const p of parts) piece(p);
    piece(footer);
    parts.length = 0;
    if (out.buf.length > DUMP_BUFFER_KEPT) out.buf = Buffer.allocUnsafe(1024);
  }
}

/**
 * Parse a DUMP payload (verifying version and checksum), like Redis'
 * restoreCommand: the object is read from the start of the payload and may
 * not be empty; like Redis, bytes left before the footer are ignored (and a
 * damaged object may run into the footer).
 */
export function restorePayload(payload: Buffer, limits: EncodingLimits): Value {
  if (payload.length < 10) throw new RdbError('DUMP payload version or checksum are wrong');
  const footer = payload.length - 10;
  const version = payload.readUInt16LE(footer);
  const crc = new Crc64().update(payload, 0, footer + 2).digestLE();
  if (version > RDB_VERSION_MAX_READ || !crc.equals(payload.subarray(footer + 2))) {
    throw new RdbError('DUMP payload version or checksum are wrong');
  }
  const inp = new RdbInput(payload);
  const type = inp.u8();
  if (!isValueType(type)) throw new RdbError('Bad data format');
  const value = readValue(inp, type, limits);
  if (isEmptyCollection(value)) throw new RdbError('Bad data format');
  return value;
}
