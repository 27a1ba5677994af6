/**
 * HyperLogLog commands (Redis' hyperloglog.c): PFADD, PFCOUNT, PFMERGE,
 * PFDEBUG, PFSELFTEST. The data structure lives in src/types/hll.ts; an HLL
 * is a string value, a MutableString once a command has written it.
 *
 * Effects are the commands themselves, as Redis propagates them: each
 * replays to the same bytes (the algorithm is deterministic given
 * hll-sparse-max-bytes). PFCOUNT of one key is a write when it refreshes the
 * cached cardinality: Redis propagates that PFCOUNT, and so does Vireo.
 * PFMERGE raises the `pfadd` keyspace event, as Redis does.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import type { Value } from '../types/value.js';
import { MutableString, isStringValue } from '../types/string.js';
import {
  HLL_DENSE,
  HLL_DENSE_SIZE,
  HLL_HDR_SIZE,
  HLL_INVALID,
  HLL_REGISTERS,
  HLL_SPARSE,
  HLL_WRONGTYPE,
  cachedCard,
  countRegisters,
  createHll,
  decodeSparse,
  denseSet,
  emptyRegisters,
  hllAdd,
  hllAddPattern,
  hllPatternOfWords,
  hllCount,
  invalidateCache,
  isHllBytes,
  mergeInto,
  promoteToDense,
  registersOf,
  setRegister,
  sparseSet,
  sparseToDense,
  storeCard,
  storeRegisters,
} from '../types/hll.js';

/** An HLL's bytes and length (a view: valid until the value changes). */
interface HllView {
  bytes: Uint8Array;
  length: number;
}

/**
 * Redis' isHLLObjectOrReply: the value's bytes if it is a valid HLL string,
 * else null after replying WRONGTYPE (the generic text for another type,
 * the HLL one for a string that is not an HLL, integers included).
 */
function hllOrReply(ctx: CommandContext, v: Value): HllView | null {
  if (!isStringValue(v)) {
    ctx.reply.error(ERR.WRONGTYPE);
    return null;
  }
  let view: HllView | null = null;
  if (v instanceof MutableString) view = { bytes: v.buf, length: v.length };
  else if (typeof v === 'string') view = { bytes: Buffer.from(v, 'latin1'), length: v.length };
  if (view === null || !isHllBytes(view.bytes, view.length)) {
    ctx.reply.error(HLL_WRONGTYPE);
    return null;
  }
  return view;
}

/** The value as a MutableString to write into: itself, or a copy not stored yet. */
function writable(v: Value): MutableString {
  return v instanceof MutableString ? v : MutableString.fromBytes(Buffer.from(v as string, 'latin1'));
}

/** The key's HLL as a MutableString to write into (Redis' dbUnshareStringValue). */
function unshare(ctx: CommandContext, key: string, v: Value): MutableString {
  const m = writable(v);
  if (m !== v) ctx.db.replace(key, m);
  return m;
}

function pfadd(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const engine = ctx.engine;
  const db = ctx.db;
  const existing = engine.lookupWrite(db, key);
  let hll: MutableString;
  let updated = 0;
  if (existing === undefined) {
    hll = createHll();
    engine.setKey(db, key, hll);
    updated++;
  } else {
    if (hllOrReply(ctx, existing) === null) return;
    // A copy of a plain string is stored only once something changed (a corrupt HLL may change nothing).
    hll = writable(existing);
  }
  const wasSparse = hll.buf[4] === HLL_SPARSE;
  const maxBytes = engine.limits.hllSparseMaxBytes;
  let corrupt = false;
  for (let j = 2; j < argv.length; j++) {
    const r = hllAdd(hll, argv[j]!, maxBytes);
    if (r === 1) updated++;
    else if (r === -1) {
      corrupt = true;
      break;
    }
  }
  if (updated > 0) {
    if (hll !== existing && existing !== undefined) db.replace(key, hll);
    invalidateCache(hll.buf);
    // Redis neither announces nor propagates a PFADD that stopped at a corrupt HLL; what the elements
    // before it changed is logged all the same (replaying this PFADD changes the same registers and stops there).
    if (corrupt) engine.modified(db, key, ctx);
    else ctx.changed(key, NOTIFY.STRING, 'pfadd', db);
    engine.emit(db.id, argv, updated);
    if (wasSparse) logPromotion(ctx, key, hll);
  }
  if (corrupt) {
    ctx.reply.error(HLL_INVALID);
    return;
  }
  ctx.reply.integer(updated > 0 ? 1 : 0);
}

function pfcount(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 2) {
    pfcountUnion(ctx, argv);
    return;
  }
  const key = argv[1]!;
  const engine = ctx.engine;
  const db = ctx.db;
  const v = engine.lookupRead(db, key);
  if (v === undefined) {
    ctx.reply.integer(0);
    return;
  }
  const view = hllOrReply(ctx, v);
  if (view === null) return;
  const cached = cachedCard(view.bytes);
  if (cached !== -1) {
    ctx.reply.integer(cached);
    return;
  }
  const card = hllCount(view.bytes, view.length);
  if (card === -1) {
    ctx.reply.error(HLL_INVALID);
    return;
  }
  // Refresh the cache inside the value: a write Redis propagates (as this PFCOUNT) but does not announce.
  db.touchForWrite(key);
  const hll = unshare(ctx, key, v);
  storeCard(hll.buf, card);
  engine.modified(db, key, ctx);
  engine.emit(db.id, argv);
  ctx.reply.integer(card);
}

/** PFCOUNT of several keys: the cardinality of their union, nothing written. */
function pfcountUnion(ctx: CommandContext, argv: string[]): void {
  const max = emptyRegisters();
  for (let j = 1; j < argv.length; j++) {
    const v = ctx.engine.lookupRead(ctx.db, argv[j]!);
    if (v === undefined) continue;
    const view = hllOrReply(ctx, v);
    if (view === null) return;
    if (!mergeInto(max, view.bytes, view.length)) {
      ctx.reply.error(HLL_INVALID);
      return;
    }
  }
  ctx.reply.integer(countRegisters(max));
}

function pfmerge(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const engine = ctx.engine;
  const db = ctx.db;
  const max = emptyRegisters();
  // Any dense input makes the destination dense; with sparse inputs only it stays sparse while it fits.
  let useDense = false;
  for (let j = 1; j < argv.length; j++) {
    const v = engine.lookupRead(db, argv[j]!);
    if (v === undefined) continue;
    const view = hllOrReply(ctx, v);
    if (view === null) return;
    if (view.bytes[4] === HLL_DENSE) useDense = true;
    if (!mergeInto(max, view.bytes, view.length)) {
      ctx.reply.error(HLL_INVALID);
      return;
    }
  }
  const existing = engine.lookupWrite(db, key);
  let hll: MutableString;
  if (existing === undefined) {
    hll = createHll();
    engine.setKey(db, key, hll);
  } else {
    hll = unshare(ctx, key, existing);
  }
  const wasSparse = hll.buf[4] === HLL_SPARSE;
  // The destination was merged above, so it is valid: promoting it cannot fail.
  if (useDense && promoteToDense(hll)) storeRegisters(hll.buf, max);
  else writeSparse(hll, max, engine.limits.hllSparseMaxBytes);
  invalidateCache(hll.buf);
  ctx.changed(key, NOTIFY.STRING, 'pfadd', db);
  engine.emit(db.id, argv);
  if (wasSparse) logPromotion(ctx, key, hll);
  ctx.reply.ok();
}

/**
 * A sparse HLL that turned dense is also logged as PFDEBUG TODENSE: where it
 * turns dense depends on hll-sparse-max-bytes, which the replica or the
 * restarted server may set higher. The registers are the same either way,
 * so after this both hold the same dense bytes.
 */
function logPromotion(ctx: CommandContext, key: string, hll: MutableString): void {
  if (hll.buf[4] === HLL_DENSE) ctx.engine.emit(ctx.db.id, ['PFDEBUG', 'TODENSE', key], 0);
}

/** Raise the registers of a sparse HLL one by one (it may turn dense on the way). */
function writeSparse(hll: MutableString, max: Uint8Array, maxBytes: number): void {
  for (let j = 0; j < HLL_REGISTERS; j++) {
    const count = max[j]!;
    if (count === 0) continue;
    if (hll.buf[4] === HLL_DENSE) denseSet(hll.buf, j, count);
    else sparseSet(hll, j, count, maxBytes);
  }
}

function pfdebug(ctx: CommandContext, argv: string[]): void {
  const sub = argv[1]!;
  const key = argv[2]!;
  const engine = ctx.engine;
  const db = ctx.db;
  const v = engine.lookupWrite(db, key);
  if (v === undefined) {
    ctx.reply.error('ERR The specified key does not exist');
    return;
  }
  const view = hllOrReply(ctx, v);
  if (view === null) return;
  switch (sub.toLowerCase()) {
    case 'getreg': {
      const hll = toDenseOrReply(ctx, key, v, view);
      if (hll === null) return;
      const regs = registersOf(hll.bytes);
      ctx.reply.array(HLL_REGISTERS);
      for (let j = 0; j < HLL_REGISTERS; j++) ctx.reply.integer(regs[j]!);
      return;
    }
    case 'decode':
      if (view.bytes[4] !== HLL_SPARSE) {
        ctx.reply.error('ERR HLL encoding is not sparse');
        return;
      }
      ctx.reply.bulk(decodeSparse(view.bytes, view.length));
      return;
    case 'encoding':
      ctx.reply.simple(view.bytes[4] === HLL_DENSE ? 'dense' : 'sparse');
      return;
    case 'todense': {
      const wasSparse = view.bytes[4] === HLL_SPARSE;
      if (toDenseOrReply(ctx, key, v, view) === null) return;
      ctx.reply.integer(wasSparse ? 1 : 0);
      return;
    }
    default:
      ctx.reply.error(`ERR Unknown PFDEBUG subcommand '${sub}'`);
  }
}

/**
 * Make the key's HLL dense (PFDEBUG GETREG and TODENSE do): logged as
 * PFDEBUG TODENSE, as Redis propagates the encoding change. Null after
 * replying if a sparse HLL is corrupt.
 */
function toDenseOrReply(ctx: CommandContext, key: string, v: Value, view: HllView): HllView | null {
  if (view.bytes[4] === HLL_DENSE) return view;
  const dense = sparseToDense(view.bytes, view.length);
  if (dense === null) {
    ctx.reply.error(HLL_INVALID);
    return null;
  }
  const hll = unshare(ctx, key, v);
  hll.buf = dense;
  hll.length = dense.length;
  // Redis only counts the change (server.dirty); Vireo also signals it, so WATCH and tracking see the new bytes.
  ctx.engine.modified(ctx.db, key, ctx);
  ctx.engine.emit(ctx.db.id, ['PFDEBUG', 'TODENSE', key]);
  return { bytes: dense, length: dense.length };
}

/** Redis' PFSELFTEST: register access, then dense and sparse estimates against true counts. */
function pfselftest(ctx: CommandContext): void {
  const failure = selfTest(ctx.engine.limits.hllSparseMaxBytes);
  if (failure === null) ctx.reply.ok();
  else ctx.reply.error(`TESTFAILED ${failure}`);
}

function selfTest(maxBytes: number): string | null {
  const denseHll = MutableString.adopt(Buffer.alloc(HLL_DENSE_SIZE));
  const dense = denseHll.buf;
  dense.latin1Write('HYLL', 0);
  const expect = new Uint8Array(HLL_REGISTERS);
  for (let cycle = 0; cycle < 1000; cycle++) {
    for (let i = 0; i < HLL_REGISTERS; i++) {
      const r = Math.floor(Math.random() * 64);
      expect[i] = r;
      setRegister(dense, i, r);
    }
    const got = registersOf(dense);
    for (let i = 0; i < HLL_REGISTERS; i++) {
      if (got[i] !== expect[i]) return `Register ${i} should be ${expect[i]} but is ${got[i]}`;
    }
  }
  dense.fill(0, HLL_HDR_SIZE);
  const sparse = createHll();
  const relerr = 1.04 / Math.sqrt(HLL_REGISTERS);
  const seedHi = Math.floor(Math.random() * 0x100000000);
  const seedLo = Math.floor(Math.random() * 0x100000000);
  let checkpoint = 1;
  for (let j = 1; j <= 10_000_000; j++) {
    // The element is the uint64 j ^ seed, hashed as its 8 little-endian bytes.
    const pattern = hllPatternOfWords(seedHi, (j ^ seedLo) >>> 0);
    hllAddPattern(denseHll, pattern, maxBytes);
    hllAddPattern(sparse, pattern, maxBytes);
    if (j !== checkpoint) continue;
    if (j < maxBytes / 2 && sparse.buf[4] !== HLL_SPARSE) return 'sparse encoding not used';
    const card = hllCount(dense, dense.length);
    if (card !== hllCount(sparse.buf, sparse.length)) return 'dense/sparse disagree';
    const abserr = Math.abs(checkpoint - card);
    const maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint);
    if (abserr > maxerr) return `Too big error. card:${checkpoint} abserr:${abserr}`;
    checkpoint *= 10;
  }
  return null;
}

export const hyperloglogCommands: CommandImpl[] = [
  { name: 'pfadd', run: pfadd },
  { name: 'pfcount', run: pfcount },
  { name: 'pfmerge', run: pfmerge },
  { name: 'pfdebug', run: pfdebug },
  { name: 'pfselftest', run: (ctx) => pfselftest(ctx) },
];
