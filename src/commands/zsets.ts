/**
 * Sorted set commands (Redis 7.2's t_zset.c). Ranges are computed on a
 * ZView (either encoding), so ZRANGE in all its forms, ZRANGESTORE, the
 * ZREMRANGEBY* family and ZCOUNT/ZLEXCOUNT share one implementation.
 * ZMPOP is logged as ZPOPMIN/ZPOPMAX key count, as Redis propagates it.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argDouble, argMpopCount, argLong, argNonNegative, argRange, argTimeout, eq, lookupTyped, LONG_MAX, doublesWithoutOverflow } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import { waitForKeys } from './blocking.js';
import { ZSetValue, type ZView } from '../types/zset.js';
import { SetValue } from '../types/set.js';
import { formatDouble, formatG17 } from '../util/numbers.js';
import { scanCollection } from './scan.js';
import { picksHeader, randomDistinctIndexes, replyRepeatedPicks } from './random.js';
import type { ReplyWriter } from '../protocol/writer.js';

const NAN_ERR = 'ERR resulting score is not a number (NaN)';

// ---- range specs -------------------------------------------------------------------

interface ScoreRange {
  min: number;
  max: number;
  minex: boolean;
  maxex: boolean;
}

/**
 * strtod over the whole string, as zslParseRange uses it (lenient: leading
 * space, overflow to inf). Redis passes the argument as a C string: a NUL
 * byte ends it, so "1\0x" reads as 1 and "\0x" as "" (which is 0).
 */
function strtodFull(arg: string): number | null {
  const nul = arg.indexOf('\0');
  const s = nul >= 0 ? arg.slice(0, nul) : arg;
  if (s === '') return 0;
  const t = s.replace(/^[ \t\n\v\f\r]+/, '');
  if (/^[+-]?(inf|infinity)$/i.test(t)) return t[0] === '-' ? -Infinity : Infinity;
  if (/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(t)) return Number(t);
  const hex = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/.exec(t);
  if (hex !== null && (hex[2] ?? '') + (hex[3] ?? '') !== '') {
    const frac = hex[3] ?? '';
    let v = 0;
    for (const c of (hex[2] ?? '') + frac) v = v * 16 + parseInt(c, 16);
    v *= Math.pow(2, Number(hex[4] ?? 0) - 4 * frac.length);
    return hex[1] === '-' ? -v : v;
  }
  return null;
}

function parseScoreBound(s: string): [number, boolean] | null {
  const ex = s.startsWith('(');
  const v = strtodFull(ex ? s.slice(1) : s);
  if (v === null || Number.isNaN(v)) return null;
  return [v, ex];
}

function parseScoreRange(ctx: CommandContext, minArg: string, maxArg: string): ScoreRange | null {
  const min = parseScoreBound(minArg);
  const max = parseScoreBound(maxArg);
  if (min === null || max === null) {
    ctx.reply.error('ERR min or max is not a float');
    return null;
  }
  return { min: min[0], minex: min[1], max: max[0], maxex: max[1] };
}

/** Lex bound: '-' and '+' are the infinities; null for the minimum string, undefined for the maximum. */
interface LexRange {
  min: string | null | undefined;
  max: string | null | undefined;
  minex: boolean;
  maxex: boolean;
}

/** zslParseLexRangeItem: '+' and '-' must end the C string (a NUL may follow); '(' and '[' items are binary-safe. */
function parseLexItem(s: string): [string | null | undefined, boolean] | null {
  const alone = s.length === 1 || s[1] === '\0';
  if (s[0] === '+') return alone ? [undefined, true] : null;
  if (s[0] === '-') return alone ? [null, true] : null;
  if (s.startsWith('(')) return [s.slice(1), true];
  if (s.startsWith('[')) return [s.slice(1), false];
  return null;
}

function parseLexRange(ctx: CommandContext, minArg: string, maxArg: string): LexRange | null {
  const min = parseLexItem(minArg);
  const max = parseLexItem(maxArg);
  if (min === null || max === null) {
    ctx.reply.error('ERR min or max not valid string range item');
    return null;
  }
  return { min: min[0], minex: min[1], max: max[0], maxex: max[1] };
}

function scoreRangeEmpty(r: ScoreRange): boolean {
  return r.min > r.max || (r.min === r.max && (r.minex || r.maxex));
}

/** Compare lex bounds where null is -inf and undefined is +inf. */
function lexCompare(a: string | null | undefined, b: string | null | undefined): number {
  if (a === b) return 0;
  if (a === null || b === undefined) return -1;
  if (a === undefined || b === null) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function lexRangeEmpty(r: LexRange): boolean {
  const cmp = lexCompare(r.min, r.max);
  return cmp > 0 || (cmp === 0 && (r.minex || r.maxex));
}

/** Ranks [first, last] of the elements in a score range (first > last when empty). */
function scoreRanks(v: ZView, r: ScoreRange): [number, number] {
  if (scoreRangeEmpty(r)) return [0, -1];
  const first = v.firstScoreRank(r.min, r.minex);
  const afterLast = v.firstScoreRank(r.max, !r.maxex);
  return [first, afterLast - 1];
}

/** Ranks of a lex range; like Redis it assumes the members tie on score (lex order). */
function lexRanks(v: ZView, r: LexRange): [number, number] {
  if (lexRangeEmpty(r)) return [0, -1];
  const first = r.min === null ? 0 : r.min === undefined ? v.size : v.firstLexRank(r.min, r.minex);
  const afterLast = r.max === undefined ? v.size : r.max === null ? 0 : v.firstLexRank(r.max, !r.maxex);
  return [first, afterLast - 1];
}

// ---- ZADD / ZINCRBY -------------------------------------------------------------------

const Z_NX = 1;
const Z_XX = 2;
const Z_GT = 4;
const Z_LT = 8;
const Z_INCR = 16;

// zsetAdd's outcome: bits of a small integer (no object per element).
const ADD_NAN = -1;
const ADDED = 1;
const UPDATED = 2;
const NOP = 4;
/** The element's score after zsetAdd (with INCR: the incremented one). */
let addedScore = 0;

/** Redis' zsetAdd: ADD_NAN when the result would be NaN, else ADDED/UPDATED/NOP bits (0: unchanged). */
function zsetAdd(z: ZSetValue, score: number, member: string, flags: number, ctx: CommandContext): number {
  if (Number.isNaN(score)) return ADD_NAN;
  addedScore = score;
  const cur = z.score(member);
  if (cur !== undefined) {
    if (flags & Z_NX) return NOP;
    if (flags & Z_INCR) {
      score += cur;
      if (Number.isNaN(score)) return ADD_NAN;
      addedScore = score;
    }
    if ((flags & Z_LT && score >= cur) || (flags & Z_GT && score <= cur)) return NOP;
    if (score !== cur) {
      z.update(member, cur, score);
      return UPDATED;
    }
    return 0;
  }
  if (flags & Z_XX) return NOP;
  z.insert(member, score, ctx.engine.limits);
  return ADDED;
}

export function zaddGeneric(ctx: CommandContext, argv: string[], baseFlags: number): void {
  let flags = baseFlags;
  let ch = false;
  let idx = 2;
  for (; idx < argv.length; idx++) {
    // Every option is 2 or 4 letters: a score (the usual next argument) stops here cheaply.
    const len = argv[idx]!.length;
    if (len !== 2 && len !== 4) break;
    const opt = argv[idx]!.toLowerCase();
    if (opt === 'nx') flags |= Z_NX;
    else if (opt === 'xx') flags |= Z_XX;
    else if (opt === 'ch') ch = true;
    else if (opt === 'incr') flags |= Z_INCR;
    else if (opt === 'gt') flags |= Z_GT;
    else if (opt === 'lt') flags |= Z_LT;
    else break;
  }
  const rest = argv.length - idx;
  if (rest % 2 !== 0 || rest === 0) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  const elements = rest / 2;
  const incr = (flags & Z_INCR) !== 0;
  if (flags & Z_NX && flags & Z_XX) {
    ctx.reply.error('ERR XX and NX options at the same time are not compatible');
    return;
  }
  if ((flags & Z_GT && flags & Z_NX) || (flags & Z_LT && flags & Z_NX) || (flags & Z_GT && flags & Z_LT)) {
    ctx.reply.error('ERR GT, LT, and/or NX options at the same time are not compatible');
    return;
  }
  if (incr && elements > 1) {
    ctx.reply.error('ERR INCR option supports a single increment-element pair');
    return;
  }
  const scores: number[] = [];
  for (let j = 0; j < elements; j++) {
    const s = argDouble(ctx, argv[idx + j * 2]!);
    if (s === null) return;
    scores.push(s);
  }
  const key = argv[1]!;
  const engine = ctx.engine;
  let z = lookupTyped<ZSetValue>(ctx, key, 'zset', true);
  if (z === null) return;
  let added = 0;
  let updated = 0;
  let processed = 0;
  let lastScore = 0;
  if (z === undefined && flags & Z_XX) {
    // No key and XX: nothing to do.
  } else {
    if (z === undefined) {
      // Redis 7.2 sizes the new set from the pair count and the first member's length.
      z = ZSetValue.create(elements, argv[idx + 1]!.length, engine.limits);
      engine.setKey(ctx.db, key, z);
    } else {
      z.maybeConvert(elements, engine.limits);
    }
    for (let j = 0; j < elements; j++) {
      const r = zsetAdd(z, scores[j]!, argv[idx + j * 2 + 1]!, flags, ctx);
      if (r === ADD_NAN) {
        ctx.reply.error(NAN_ERR);
        if (z.size === 0) engine.deleteKey(ctx.db, key);
        finishZadd(ctx, argv, key, added, updated, incr);
        return;
      }
      if (r & ADDED) added++;
      if (r & UPDATED) updated++;
      if (!(r & NOP)) processed++;
      lastScore = addedScore;
    }
    if (z.size === 0) engine.deleteKey(ctx.db, key);
  }
  if (incr) {
    if (processed > 0) ctx.reply.double(lastScore);
    else ctx.reply.nullBulk();
  } else {
    ctx.reply.integer(ch ? added + updated : added);
  }
  finishZadd(ctx, argv, key, added, updated, incr);
}

function finishZadd(ctx: CommandContext, argv: string[], key: string, added: number, updated: number, incr: boolean): void {
  if (added + updated === 0) return;
  const engine = ctx.engine;
  ctx.changed(key, NOTIFY.ZSET, incr ? 'zincr' : 'zadd');
  engine.emit(ctx.db.id, argv, added + updated);
}

// ---- reads ----------------------------------------------------------------------------

function readZset(ctx: CommandContext, key: string, ifMissing: () => void): ZSetValue | null {
  const z = lookupTyped<ZSetValue>(ctx, key, 'zset', false);
  if (z === null) return null;
  if (z === undefined) {
    ifMissing();
    return null;
  }
  return z;
}

/** Reply member (and score) pairs: flat in RESP2, nested pairs in RESP3. */
function replyPairs(ctx: CommandContext, items: [string, number][], withScores: boolean): void {
  const r = ctx.reply;
  const nested = withScores && r.resp === 3;
  r.array(withScores && !nested ? items.length * 2 : items.length);
  for (const [m, s] of items) {
    if (nested) r.array(2);
    r.bulk(m);
    if (withScores) r.double(s);
  }
}

function zrank(ctx: CommandContext, argv: string[], reverse: boolean): void {
  if (argv.length > 4) {
    ctx.reply.error(`ERR wrong number of arguments for '${ctx.current!.name}' command`);
    return;
  }
  let withScore = false;
  if (argv.length > 3) {
    if (!eq(argv[3]!, 'withscore')) {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
    withScore = true;
  }
  const z = readZset(ctx, argv[1]!, () => (withScore ? ctx.reply.nullArray() : ctx.reply.nullBulk()));
  if (z === null) return;
  const rank = z.rank(argv[2]!);
  if (rank === null) {
    if (withScore) ctx.reply.nullArray();
    else ctx.reply.nullBulk();
    return;
  }
  const r = reverse ? z.size - 1 - rank : rank;
  if (withScore) {
    ctx.reply.array(2);
    ctx.reply.integer(r);
    ctx.reply.double(z.score(argv[2]!)!);
  } else ctx.reply.integer(r);
}

type RangeType = 'rank' | 'score' | 'lex';

interface RangeRequest {
  type: RangeType;
  reverse: boolean;
  withScores: boolean;
  offset: number;
  limit: number;
  start: number;
  end: number;
  score: ScoreRange | null;
  lex: LexRange | null;
}

/**
 * Parse ZRANGE-family arguments (Redis' zrangeGenericCommand steps 1-2).
 * `argStart` is the index of the source key.
 */
function parseRange(ctx: CommandContext, argv: string[], argStart: number, store: boolean, type: RangeType | null, reverse: boolean | null): RangeRequest | null {
  let withScores = false;
  let offset = 0;
  let limit = -1;
  for (let j = argStart + 3; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const opt = argv[j]!.toLowerCase();
    if (!store && opt === 'withscores') withScores = true;
    else if (opt === 'limit' && left >= 2) {
      const o = argLong(ctx, argv[j + 1]!);
      if (o === null) return null;
      const l = argLong(ctx, argv[j + 2]!);
      if (l === null) return null;
      offset = o;
      limit = l;
      j += 2;
    } else if (reverse === null && opt === 'rev') reverse = true;
    else if (type === null && opt === 'bylex') type = 'lex';
    else if (type === null && opt === 'byscore') type = 'score';
    else {
      ctx.reply.error(ERR.SYNTAX);
      return null;
    }
  }
  reverse ??= false;
  type ??= 'rank';
  if (limit !== -1 && type === 'rank') {
    ctx.reply.error('ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX');
    return null;
  }
  if (withScores && type === 'lex') {
    ctx.reply.error('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
    return null;
  }
  let minIdx = argStart + 1;
  let maxIdx = argStart + 2;
  if (reverse && type !== 'rank') [minIdx, maxIdx] = [maxIdx, minIdx];
  const req: RangeRequest = { type, reverse, withScores, offset, limit, start: 0, end: 0, score: null, lex: null };
  if (type === 'rank') {
    const s = argLong(ctx, argv[minIdx]!);
    if (s === null) return null;
    const e = argLong(ctx, argv[maxIdx]!);
    if (e === null) return null;
    req.start = s;
    req.end = e;
  } else if (type === 'score') {
    req.score = parseScoreRange(ctx, argv[minIdx]!, argv[maxIdx]!);
    if (req.score === null) return null;
  } else {
    req.lex = parseLexRange(ctx, argv[minIdx]!, argv[maxIdx]!);
    if (req.lex === null) return null;
  }
  return req;
}

/** Normalize ZRANGE rank arguments; null when the range is empty. */
function rankBounds(start: number, end: number, len: number): [number, number] | null {
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) return null;
  if (end >= len) end = len - 1;
  return [start, end];
}

/** The elements a range request selects, in reply order. */
function selectRange(z: ZSetValue, req: RangeRequest): [string, number][] {
  const v = z.view();
  const out: [string, number][] = [];
  const len = v.size;
  if (req.type === 'rank') {
    const b = rankBounds(req.start, req.end, len);
    if (b === null) return out;
    const [s, e] = b;
    const from = req.reverse ? len - 1 - s : s;
    let n = e - s + 1;
    v.walk(from, req.reverse, (m, sc) => {
      out.push([m, sc]);
      return --n > 0;
    });
    return out;
  }
  const [first, last] = req.type === 'score' ? scoreRanks(v, req.score!) : lexRanks(v, req.lex!);
  const count = last - first + 1;
  // Redis: an offset past the set (or a negative one) selects nothing; a negative limit means all.
  if (count <= 0 || req.offset < 0 || req.offset >= len || req.offset >= count) return out;
  let n = count - req.offset;
  if (req.limit >= 0) n = Math.min(n, req.limit);
  if (n <= 0) return out;
  v.walk(req.reverse ? last - req.offset : first + req.offset, req.reverse, (m, sc) => {
    out.push([m, sc]);
    return out.length < n;
  });
  return out;
}

function zrangeGeneric(ctx: CommandContext, argv: string[], type: RangeType | null, reverse: boolean | null): void {
  const req = parseRange(ctx, argv, 1, false, type, reverse);
  if (req === null) return;
  const z = readZset(ctx, argv[1]!, () => ctx.reply.array(0));
  if (z === null) return;
  replyPairs(ctx, selectRange(z, req), req.withScores);
}

function zrangestore(ctx: CommandContext, argv: string[]): void {
  const req = parseRange(ctx, argv, 2, true, null, null);
  if (req === null) return;
  const src = lookupTyped<ZSetValue>(ctx, argv[2]!, 'zset', false);
  if (src === null) return;
  const items = src === undefined ? [] : selectRange(src, req);
  const limits = ctx.engine.limits;
  storeZset(ctx, argv, argv[1]!, items, 'zrangestore', () => {
    const z = ZSetValue.create(items.length, 0, limits);
    for (const [m, s] of items) z.insert(m, s, limits);
    return z;
  });
}

/** Store a result at `dst` (or delete it when empty) and reply its size. */
export function storeZset(ctx: CommandContext, argv: string[], dst: string, items: [string, number][], event: string, build: () => ZSetValue): void {
  const engine = ctx.engine;
  if (items.length === 0) {
    ctx.reply.integer(0);
    // Redis' dbDelete: an expired dst is deleted as it is (a `del` event, not `expired`).
    if (engine.deleteKey(ctx.db, dst)) {
      ctx.changed(dst, NOTIFY.GENERIC, 'del');
      engine.emit(ctx.db.id, argv);
    }
    return;
  }
  const z = build();
  engine.setKey(ctx.db, dst, z);
  ctx.reply.integer(z.size);
  ctx.changed(dst, NOTIFY.ZSET, event);
  engine.emit(ctx.db.id, argv);
}

function zcount(ctx: CommandContext, argv: string[], lex: boolean): void {
  const range = lex ? parseLexRange(ctx, argv[2]!, argv[3]!) : parseScoreRange(ctx, argv[2]!, argv[3]!);
  if (range === null) return;
  const z = readZset(ctx, argv[1]!, () => ctx.reply.integer(0));
  if (z === null) return;
  const v = z.view();
  const [first, last] = lex ? lexRanks(v, range as LexRange) : scoreRanks(v, range as ScoreRange);
  ctx.reply.integer(Math.max(0, last - first + 1));
}

// ---- removals -------------------------------------------------------------------------

function dropIfEmpty(ctx: CommandContext, key: string, z: ZSetValue): boolean {
  if (z.size > 0) return false;
  ctx.engine.deleteKey(ctx.db, key);
  return true;
}

function zrem(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const z = lookupTyped<ZSetValue>(ctx, key, 'zset', true);
  if (z === null) return;
  if (z === undefined) {
    ctx.reply.integer(0);
    return;
  }
  let deleted = 0;
  let keyRemoved = false;
  for (let j = 2; j < argv.length; j++) {
    if (!z.remove(argv[j]!)) continue;
    deleted++;
    if (dropIfEmpty(ctx, key, z)) {
      keyRemoved = true;
      break;
    }
  }
  if (deleted > 0) {
    const engine = ctx.engine;
    ctx.changed(key, NOTIFY.ZSET, 'zrem');
    if (keyRemoved) ctx.changed(key, NOTIFY.GENERIC, 'del');
    engine.emit(ctx.db.id, argv, deleted);
  }
  ctx.reply.integer(deleted);
}

function zremrange(ctx: CommandContext, argv: string[], type: RangeType): void {
  let start = 0;
  let end = 0;
  let score: ScoreRange | null = null;
  let lex: LexRange | null = null;
  if (type === 'rank') {
    const s = argLong(ctx, argv[2]!);
    if (s === null) return;
    const e = argLong(ctx, argv[3]!);
    if (e === null) return;
    start = s;
    end = e;
  } else if (type === 'score') {
    score = parseScoreRange(ctx, argv[2]!, argv[3]!);
    if (score === null) return;
  } else {
    lex = parseLexRange(ctx, argv[2]!, argv[3]!);
    if (lex === null) return;
  }
  const key = argv[1]!;
  const z = lookupTyped<ZSetValue>(ctx, key, 'zset', true);
  if (z === null) return;
  if (z === undefined) {
    ctx.reply.integer(0);
    return;
  }
  let first: number;
  let last: number;
  if (type === 'rank') {
    const b = rankBounds(start, end, z.size);
    if (b === null) {
      ctx.reply.integer(0);
      return;
    }
    [first, last] = b;
  } else {
    const v = z.view();
    [first, last] = type === 'score' ? scoreRanks(v, score!) : lexRanks(v, lex!);
  }
  const deleted = Math.max(0, last - first + 1);
  if (deleted > 0) {
    z.removeRankRange(first, last);
    const engine = ctx.engine;
    ctx.changed(key, NOTIFY.ZSET, `zremrangeby${type}`);
    if (dropIfEmpty(ctx, key, z)) ctx.changed(key, NOTIFY.GENERIC, 'del');
    engine.emit(ctx.db.id, argv, deleted);
  }
  ctx.reply.integer(deleted);
}

/**
 * Pop up to `count` from the min or max end of the first non-empty key
 * (Redis' genericZpopCommand). When every key is empty it replies nil or an
 * empty array (`whenEmpty` true/false), or calls `whenEmpty` (blocking pops).
 */
function zpopGeneric(ctx: CommandContext, keys: string[], max: boolean, count: number, nested: boolean, emitKey: boolean, whenEmpty: boolean | (() => void)): { key: string; popped: number } | null {
  let z: ZSetValue | undefined;
  let key = '';
  for (const k of keys) {
    const v = lookupTyped<ZSetValue>(ctx, k, 'zset', true);
    if (v === null) return null;
    if (v === undefined) continue;
    z = v;
    key = k;
    break;
  }
  if (z === undefined) {
    if (typeof whenEmpty === 'function') whenEmpty();
    else if (whenEmpty) ctx.reply.nullArray();
    else ctx.reply.array(0);
    return null;
  }
  if (count === 0) {
    ctx.reply.array(0);
    return null;
  }
  if (count === -1) count = 1;
  const n = Math.min(count, z.size);
  const r = ctx.reply;
  if (!nested && !emitKey) r.array(n * 2);
  else if (nested && !emitKey) r.array(n);
  else if (!nested) {
    // BZPOPMIN/BZPOPMAX: [key, member, score].
    r.array(1 + n * 2);
    r.bulk(key);
  } else {
    r.array(2);
    r.bulk(key);
    r.array(n);
  }
  const v = z.view();
  const items: [string, number][] = [];
  v.walk(max ? v.size - 1 : 0, max, (m, s) => {
    items.push([m, s]);
    return items.length < n;
  });
  for (const [m, s] of items) {
    if (nested) r.array(2);
    r.bulk(m);
    r.double(s);
  }
  if (max) z.removeRankRange(z.size - n, z.size - 1);
  else z.removeRankRange(0, n - 1);
  ctx.changed(key, NOTIFY.ZSET, max ? 'zpopmax' : 'zpopmin');
  if (dropIfEmpty(ctx, key, z)) ctx.changed(key, NOTIFY.GENERIC, 'del');
  return { key, popped: n };
}

function zpopMinMax(ctx: CommandContext, argv: string[], max: boolean): void {
  if (argv.length > 3) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  let count = -1;
  if (argv.length === 3) {
    const n = argNonNegative(ctx, argv[2]!);
    if (n === null) return;
    count = n;
  }
  const res = zpopGeneric(ctx, [argv[1]!], max, count, ctx.reply.resp > 2 && count !== -1, false, false);
  if (res !== null) ctx.engine.emit(ctx.db.id, argv, res.popped);
}

/** ZMPOP numkeys key... MIN|MAX [COUNT n]; BZMPOP timeout numkeys ... (`blocking`), logged as ZPOPMIN/ZPOPMAX key count. */
function zmpop(ctx: CommandContext, argv: string[], blocking = false): void {
  const first = blocking ? 2 : 1;
  const numkeys = argRange(ctx, argv[first]!, 1, LONG_MAX, 'ERR numkeys should be greater than 0');
  if (numkeys === null) return;
  const whereIdx = first + 1 + numkeys;
  if (whereIdx >= argv.length) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  const where = argv[whereIdx]!.toLowerCase();
  if (where !== 'min' && where !== 'max') {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  const count = argMpopCount(ctx, argv, whereIdx + 1);
  if (count === null) return;
  // As in Redis, BZMPOP reads its timeout after the other arguments.
  const deadline = blocking ? argTimeout(ctx, argv[1]!, 'seconds') : 0;
  if (deadline === null) return;
  const max = where === 'max';
  const keys = argv.slice(first + 1, first + 1 + numkeys);
  const wait = blocking ? () => waitForKeys(ctx, { keys, type: 'zset', timedOut: () => ctx.reply.nullArray() }, deadline) : true;
  const res = zpopGeneric(ctx, keys, max, count, true, true, wait);
  if (res !== null) ctx.engine.emit(ctx.db.id, [max ? 'ZPOPMAX' : 'ZPOPMIN', res.key, String(res.popped)], res.popped);
}

/** BZPOPMIN/BZPOPMAX key [key ...] timeout: [key, member, score], logged as ZPOPMIN/ZPOPMAX key. */
function bzpop(ctx: CommandContext, argv: string[], max: boolean): void {
  const deadline = argTimeout(ctx, argv[argv.length - 1]!, 'seconds');
  if (deadline === null) return;
  const keys = argv.slice(1, -1);
  const res = zpopGeneric(ctx, keys, max, -1, false, true, () => waitForKeys(ctx, { keys, type: 'zset', timedOut: () => ctx.reply.nullArray() }, deadline));
  if (res !== null) ctx.engine.emit(ctx.db.id, [max ? 'ZPOPMAX' : 'ZPOPMIN', res.key]);
}

// ---- random ------------------------------------------------------------------------------

function zrandmember(ctx: CommandContext, argv: string[]): void {
  if (argv.length >= 3) {
    const l = argRange(ctx, argv[2]!, -LONG_MAX, LONG_MAX);
    if (l === null) return;
    let withScores = false;
    if (argv.length > 4 || (argv.length === 4 && !eq(argv[3]!, 'withscores'))) {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
    if (argv.length === 4) {
      withScores = true;
      if (!doublesWithoutOverflow(argv[2]!)) {
        ctx.reply.error('ERR value is out of range');
        return;
      }
    }
    const z = readZset(ctx, argv[1]!, () => ctx.reply.array(0));
    if (z === null) return;
    if (l === 0) {
      ctx.reply.array(0);
      return;
    }
    if (l > 0) {
      // Distinct ranks: the rank index answers each in O(log n), no copy needed.
      const view = z.view();
      const picks: [string, number][] =
        l >= z.size ? [...z.entries()] : randomDistinctIndexes(z.size, l).map((rank) => [view.memberAt(rank), view.scoreAt(rank)]);
      replyPairs(ctx, picks, withScores);
      return;
    }
    const view = z.view();
    const source = {
      size: z.size,
      pick: (): [string, number] => {
        const rank = Math.floor(Math.random() * z.size);
        return [view.memberAt(rank), view.scoreAt(rank)];
      },
      all: () => [...z.entries()],
    };
    const r = ctx.reply;
    const nested = withScores && r.resp === 3;
    picksHeader(r, argv[2]!, -l, withScores && !nested ? 2 : 1);
    replyRepeatedPicks(r, (s) => ctx.startStream(s), source, -l, (w: ReplyWriter, [m, score]: [string, number]) => {
      if (nested) w.array(2);
      w.bulk(m);
      if (withScores) w.double(score);
    });
    return;
  }
  const z = readZset(ctx, argv[1]!, () => ctx.reply.nullBulk());
  if (z === null) return;
  // The rank index answers any rank in O(log n): no copy of a big zset.
  ctx.reply.bulk(z.view().memberAt(Math.floor(Math.random() * z.size)));
}

// ---- set operations ------------------------------------------------------------------------

type Aggregate = 'sum' | 'min' | 'max';

interface OpSource {
  size: number;
  weight: number;
  entries: () => Iterable<[string, number]>;
  score: (m: string) => number | undefined;
  id: object | null;
}

function aggregate(a: number, b: number, how: Aggregate): number {
  if (how === 'sum') {
    const s = a + b;
    return Number.isNaN(s) ? 0 : s;
  }
  return how === 'min' ? Math.min(a, b) : Math.max(a, b);
}

function sourceOf(v: ZSetValue | SetValue | undefined): OpSource {
  if (v === undefined) return { size: 0, weight: 1, entries: () => [], score: () => undefined, id: null };
  if (v instanceof SetValue) {
    return {
      size: v.size,
      weight: 1,
      entries: () => [...v.members()].map((m): [string, number] => [m, 1]),
      score: (m) => (v.has(m) ? 1 : undefined),
      id: v,
    };
  }
  return { size: v.size, weight: 1, entries: () => v.entries(), score: (m) => v.score(m), id: v };
}

/** ZUNION/ZINTER/ZDIFF and their STORE and CARD forms (zunionInterDiffGenericCommand). */
function zsetOp(ctx: CommandContext, argv: string[], dst: string | null, numkeysIdx: number, op: 'union' | 'inter' | 'diff', cardOnly: boolean): void {
  const setnum = argLong(ctx, argv[numkeysIdx]!);
  if (setnum === null) return;
  if (setnum < 1) {
    ctx.reply.error(`ERR at least 1 input key is needed for '${ctx.current!.name}' command`);
    return;
  }
  if (setnum > argv.length - (numkeysIdx + 1)) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  const sources: OpSource[] = [];
  let j = numkeysIdx + 1;
  for (let i = 0; i < setnum; i++, j++) {
    const v = ctx.engine.lookupRead(ctx.db, argv[j]!);
    if (v !== undefined && !(v instanceof ZSetValue) && !(v instanceof SetValue)) {
      ctx.reply.error(ERR.WRONGTYPE);
      return;
    }
    sources.push(sourceOf(v as ZSetValue | SetValue | undefined));
  }
  let how: Aggregate = 'sum';
  let withScores = false;
  let limit = 0;
  while (j < argv.length) {
    const remaining = argv.length - j;
    const opt = argv[j]!.toLowerCase();
    if (op !== 'diff' && !cardOnly && remaining >= setnum + 1 && opt === 'weights') {
      j++;
      for (let i = 0; i < setnum; i++, j++) {
        const w = argDouble(ctx, argv[j]!, 'ERR weight value is not a float');
        if (w === null) return;
        sources[i]!.weight = w;
      }
    } else if (op !== 'diff' && !cardOnly && remaining >= 2 && opt === 'aggregate') {
      const a = argv[j + 1]!.toLowerCase();
      if (a !== 'sum' && a !== 'min' && a !== 'max') {
        ctx.reply.error(ERR.SYNTAX);
        return;
      }
      how = a;
      j += 2;
    } else if (remaining >= 1 && dst === null && !cardOnly && opt === 'withscores') {
      withScores = true;
      j++;
    } else if (cardOnly && remaining >= 2 && opt === 'limit') {
      const n = argNonNegative(ctx, argv[j + 1]!, "ERR LIMIT can't be negative");
      if (n === null) return;
      limit = n;
      j += 2;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const result = new Map<string, number>();
  let cardinality = 0;
  if (op === 'inter') {
    const sorted = [...sources].sort((a, b) => a.size - b.size);
    if (sorted[0]!.size > 0) {
      for (const [m, s0] of sorted[0]!.entries()) {
        let score = sorted[0]!.weight * s0;
        if (Number.isNaN(score)) score = 0;
        let inAll = true;
        for (let i = 1; i < sorted.length; i++) {
          const src = sorted[i]!;
          const v = src.id !== null && src.id === sorted[0]!.id ? s0 : src.score(m);
          if (v === undefined) {
            inAll = false;
            break;
          }
          score = aggregate(score, v * src.weight, how);
        }
        if (!inAll) continue;
        if (cardOnly) {
          cardinality++;
          if (limit > 0 && cardinality >= limit) break;
        } else result.set(m, score);
      }
    }
  } else if (op === 'union') {
    const sorted = [...sources].sort((a, b) => a.size - b.size);
    for (const src of sorted) {
      for (const [m, s] of src.entries()) {
        let score = src.weight * s;
        if (Number.isNaN(score)) score = 0;
        const cur = result.get(m);
        result.set(m, cur === undefined ? score : aggregate(cur, score, how));
      }
    }
  } else {
    const [first, ...others] = sources;
    for (const [m, s] of first!.entries()) {
      if (others.some((o) => (o.id !== null && o.id === first!.id) || o.score(m) !== undefined)) continue;
      result.set(m, s);
    }
  }
  if (cardOnly) {
    ctx.reply.integer(cardinality);
    return;
  }
  const items = [...result].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (dst !== null) {
    const limits = ctx.engine.limits;
    storeZset(ctx, argv, dst, items, `z${op}store`, () => {
      const z = ZSetValue.create(Infinity, 0, limits);
      for (const [m, s] of items) z.insert(m, s, limits);
      z.maybeToListpack(limits);
      return z;
    });
    return;
  }
  replyPairs(ctx, items, withScores);
}

export const zsetCommands: CommandImpl[] = [
  { name: 'zadd', run: (ctx, argv) => zaddGeneric(ctx, argv, 0) },
  {
    name: 'zincrby',
    run(ctx, argv) {
      zaddGeneric(ctx, argv, Z_INCR);
    },
  },
  { name: 'zrem', run: zrem },
  {
    name: 'zcard',
    run(ctx, argv) {
      const z = readZset(ctx, argv[1]!, () => ctx.reply.integer(0));
      if (z !== null) ctx.reply.integer(z.size);
    },
  },
  {
    name: 'zscore',
    run(ctx, argv) {
      const z = readZset(ctx, argv[1]!, () => ctx.reply.nullBulk());
      if (z === null) return;
      const s = z.score(argv[2]!);
      if (s === undefined) ctx.reply.nullBulk();
      else ctx.reply.double(s);
    },
  },
  {
    name: 'zmscore',
    run(ctx, argv) {
      const z = lookupTyped<ZSetValue>(ctx, argv[1]!, 'zset', false);
      if (z === null) return;
      ctx.reply.array(argv.length - 2);
      for (let j = 2; j < argv.length; j++) {
        const s = z === undefined ? undefined : z.score(argv[j]!);
        if (s === undefined) ctx.reply.nullBulk();
        else ctx.reply.double(s);
      }
    },
  },
  { name: 'zrank', run: (ctx, argv) => zrank(ctx, argv, false) },
  { name: 'zrevrank', run: (ctx, argv) => zrank(ctx, argv, true) },
  { name: 'zcount', run: (ctx, argv) => zcount(ctx, argv, false) },
  { name: 'zlexcount', run: (ctx, argv) => zcount(ctx, argv, true) },
  { name: 'zrange', run: (ctx, argv) => zrangeGeneric(ctx, argv, null, null) },
  { name: 'zrevrange', run: (ctx, argv) => zrangeGeneric(ctx, argv, 'rank', true) },
  { name: 'zrangebyscore', run: (ctx, argv) => zrangeGeneric(ctx, argv, 'score', false) },
  { name: 'zrevrangebyscore', run: (ctx, argv) => zrangeGeneric(ctx, argv, 'score', true) },
  { name: 'zrangebylex', run: (ctx, argv) => zrangeGeneric(ctx, argv, 'lex', false) },
  { name: 'zrevrangebylex', run: (ctx, argv) => zrangeGeneric(ctx, argv, 'lex', true) },
  { name: 'zrangestore', run: zrangestore },
  { name: 'zremrangebyrank', run: (ctx, argv) => zremrange(ctx, argv, 'rank') },
  { name: 'zremrangebyscore', run: (ctx, argv) => zremrange(ctx, argv, 'score') },
  { name: 'zremrangebylex', run: (ctx, argv) => zremrange(ctx, argv, 'lex') },
  { name: 'zpopmin', run: (ctx, argv) => zpopMinMax(ctx, argv, false) },
  { name: 'zpopmax', run: (ctx, argv) => zpopMinMax(ctx, argv, true) },
  { name: 'zmpop', run: (ctx, argv) => zmpop(ctx, argv) },
  { name: 'bzmpop', run: (ctx, argv) => zmpop(ctx, argv, true) },
  { name: 'bzpopmin', run: (ctx, argv) => bzpop(ctx, argv, false) },
  { name: 'bzpopmax', run: (ctx, argv) => bzpop(ctx, argv, true) },
  { name: 'zrandmember', run: zrandmember },
  { name: 'zunion', run: (ctx, argv) => zsetOp(ctx, argv, null, 1, 'union', false) },
  { name: 'zinter', run: (ctx, argv) => zsetOp(ctx, argv, null, 1, 'inter', false) },
  { name: 'zdiff', run: (ctx, argv) => zsetOp(ctx, argv, null, 1, 'diff', false) },
  { name: 'zunionstore', run: (ctx, argv) => zsetOp(ctx, argv, argv[1]!, 2, 'union', false) },
  { name: 'zinterstore', run: (ctx, argv) => zsetOp(ctx, argv, argv[1]!, 2, 'inter', false) },
  { name: 'zdiffstore', run: (ctx, argv) => zsetOp(ctx, argv, argv[1]!, 2, 'diff', false) },
  { name: 'zintercard', run: (ctx, argv) => zsetOp(ctx, argv, null, 1, 'inter', true) },
  {
    name: 'zscan',
    run(ctx, argv) {
      scanCollection(ctx, argv, () => {
        const z = lookupTyped<ZSetValue>(ctx, argv[1]!, 'zset', false);
        if (z === null || z === undefined) return z;
        const table = z.scoreTable;
        return {
          // A listpack keeps Redis' d2string text; the skiplist path prints "%.17g".
          all: () => (table === null ? [...z.entries()].map(([m, s]): [string, string] => [m, formatDouble(s)]) : null),
          step: (cursor, count, out) =>
            table!.scanShards(cursor, count, (shard) => {
              for (const [m, s] of shard) out.push([m, formatG17(s)]);
            }),
        };
      });
    },
  },
];

