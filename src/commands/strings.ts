/**
 * String commands (Redis' t_string.c). Effects are normalized as Redis
 * propagates them: relative expiries become PXAT/PEXPIREAT, GETSET becomes
 * SET, GETDEL becomes DEL, INCRBYFLOAT becomes SET ... KEEPTTL.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argLong, eq } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import type { Value } from '../types/value.js';
import { MAX_VALUE_BYTES, MutableString, bytesOf, isStringValue, stringLength, stringOf, valueFromArg, type StringValue } from '../types/string.js';
import { parseInteger, formatInteger, int64Text, INT64_MAX, INT64_MIN } from '../util/numbers.js';
import { parseLongDouble, addLongDouble, formatLongDoubleHuman } from '../util/longdouble.js';
import { argAt, argvFrom, filterArgv } from '../protocol/big-args.js';

/** Look up a string for reading; replies WRONGTYPE and returns null on a wrong type. */
function readString(ctx: CommandContext, key: string): StringValue | undefined | null {
  const v = ctx.engine.lookupRead(ctx.db, key);
  if (v === undefined) return undefined;
  if (!isStringValue(v)) {
    ctx.reply.error(ERR.WRONGTYPE);
    return null;
  }
  return v;
}

function replyValue(ctx: CommandContext, v: StringValue): void {
  if (typeof v === 'string') ctx.reply.bulk(v);
  else if (typeof v === 'object') ctx.reply.bulkBuffer(v.buf.subarray(0, v.length));
  else ctx.reply.bulkNumber(v);
}

/** GET-style reply: nil if missing. Returns false after a WRONGTYPE error. */
function getGeneric(ctx: CommandContext, key: string): boolean {
  const v = readString(ctx, key);
  if (v === null) return false;
  if (v === undefined) ctx.reply.nullBulk();
  else replyValue(ctx, v);
  return true;
}

// ---- SET and its options ------------------------------------------------------

const SET_NX = 1;
const SET_XX = 2;
const SET_GET = 4;
const SET_KEEPTTL = 8;
const SET_PERSIST = 16;
const SET_EX = 32;
const SET_PX = 64;
const SET_EXAT = 128;
const SET_PXAT = 256;
const EXPIRE_FLAGS = SET_EX | SET_PX | SET_EXAT | SET_PXAT;

interface ExtendedArgs {
  flags: number;
  expire: string | null;
}

/** Redis' parseExtendedStringArgumentsOrReply for SET (isSet) and GETEX. */
function parseExtended(ctx: CommandContext, argv: string[], from: number, isSet: boolean): ExtendedArgs | null {
  let flags = 0;
  let expire: string | null = null;
  for (let j = from; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const next = j === argv.length - 1 ? undefined : argv[j + 1];
    const expireFlag = opt === 'ex' ? SET_EX : opt === 'px' ? SET_PX : opt === 'exat' ? SET_EXAT : opt === 'pxat' ? SET_PXAT : 0;
    if (opt === 'nx' && !(flags & SET_XX) && isSet) flags |= SET_NX;
    else if (opt === 'xx' && !(flags & SET_NX) && isSet) flags |= SET_XX;
    else if (opt === 'get' && isSet) flags |= SET_GET;
    else if (opt === 'keepttl' && !(flags & (SET_PERSIST | EXPIRE_FLAGS)) && isSet) flags |= SET_KEEPTTL;
    else if (opt === 'persist' && !isSet && !(flags & (EXPIRE_FLAGS | SET_KEEPTTL))) flags |= SET_PERSIST;
    else if (
      // Like Redis, repeating the same expire option is allowed (the last one wins).
      expireFlag !== 0 &&
      !(flags & (SET_KEEPTTL | SET_PERSIST | (EXPIRE_FLAGS & ~expireFlag))) &&
      next !== undefined
    ) {
      flags |= expireFlag;
      expire = next;
      j++;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return null;
    }
  }
  return { flags, expire };
}

/**
 * Redis' getExpireMillisecondsOrReply: the absolute expiry in ms, or null
 * after replying "invalid expire time".
 */
function expireMillis(ctx: CommandContext, raw: string, flags: number, command: string): number | null {
  const parsed = parseInteger(raw);
  if (parsed === null) {
    ctx.reply.error(ERR.NOT_INTEGER);
    return null;
  }
  let ms = BigInt(parsed);
  const seconds = (flags & (SET_EX | SET_EXAT)) !== 0;
  if (ms <= 0n || (seconds && ms > INT64_MAX / 1000n)) {
    ctx.reply.error(`ERR invalid expire time in '${command}' command`);
    return null;
  }
  if (seconds) ms *= 1000n;
  if (flags & (SET_EX | SET_PX)) ms += BigInt(ctx.engine.now);
  if (ms > INT64_MAX) {
    // int64 overflow wraps negative in Redis and is reported the same way.
    ctx.reply.error(`ERR invalid expire time in '${command}' command`);
    return null;
  }
  return Number(ms);
}

function set(ctx: CommandContext, argv: string[]): void {
  const args = parseExtended(ctx, argv, 3, true);
  if (args === null) return;
  let when = -1;
  if (args.expire !== null) {
    const ms = expireMillis(ctx, args.expire, args.flags, 'set');
    if (ms === null) return;
    when = ms;
  }
  setGeneric(ctx, argv, argv[1]!, argAt(argv, 2), args.flags, when, args.expire !== null);
}

/**
 * Redis' setGenericCommand. `when` is the absolute expiry (ms) if hasExpire.
 * `value` is bytes when it is too long for a JS string (protocol/big-args.ts).
 */
function setGeneric(
  ctx: CommandContext,
  argv: string[],
  key: string,
  value: string | Buffer,
  flags: number,
  when: number,
  hasExpire: boolean,
  okReply: (() => void) | null = null,
  abortReply: (() => void) | null = null,
): void {
  const engine = ctx.engine;
  const db = ctx.db;
  if (flags & SET_GET && !getGeneric(ctx, key)) return;
  // Only NX/XX need to know whether the key exists; the lookup also applies
  // lazy expiry, which matters only when the db holds keys with a TTL.
  const found = (flags & (SET_NX | SET_XX)) !== 0 || db.volatileCount > 0 ? engine.lookupWrite(db, key) !== undefined : false;
  if ((flags & SET_NX && found) || (flags & SET_XX && !found)) {
    if (!(flags & SET_GET)) {
      if (abortReply !== null) abortReply();
      else ctx.reply.nullBulk();
    }
    return;
  }
  if (hasExpire) engine.setKeyWithExpire(db, key, valueFromArg(value), when);
  else engine.setKey(db, key, valueFromArg(value), (flags & SET_KEEPTTL) !== 0);
  ctx.changed(key, NOTIFY.STRING, 'set', db);
  let effect = argv;
  if (hasExpire) {
    if (!(flags & SET_PXAT)) effect = argvFrom(['SET', key, value, 'PXAT', int64Text(when)]);
    ctx.changed(key, NOTIFY.GENERIC, 'expire', db);
  }
  if (!(flags & SET_GET)) {
    if (okReply !== null) okReply();
    else ctx.reply.ok();
  }
  if (flags & SET_GET && !hasExpire) effect = filterArgv(argv, (a, i) => i < 3 || !eq(a, 'get'));
  engine.emit(db.id, effect);
}

function setnx(ctx: CommandContext, argv: string[]): void {
  setGeneric(ctx, argv, argv[1]!, argAt(argv, 2), SET_NX, -1, false, () => ctx.reply.integer(1), () => ctx.reply.integer(0));
}

function setexGeneric(ctx: CommandContext, argv: string[], unitFlag: number): void {
  const when = expireMillis(ctx, argv[2]!, unitFlag, ctx.current!.name);
  if (when === null) return;
  setGeneric(ctx, argv, argv[1]!, argAt(argv, 3), unitFlag, when, true);
}

function get(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  // A short string off the JS heap goes from its record to the reply.
  const ref = ctx.engine.lookupReadRecord(ctx.db, key);
  if (ref === 0) {
    getGeneric(ctx, key);
    return;
  }
  const records = ctx.db.records;
  const n = records.stringSpan(ref);
  ctx.reply.bulkBytes(records.spanBuf, records.spanStart, records.spanStart + n);
}

function getex(ctx: CommandContext, argv: string[]): void {
  const args = parseExtended(ctx, argv, 2, false);
  if (args === null) return;
  const key = argv[1]!;
  // As Redis: the key first (nil, WRONGTYPE), then the expire time.
  const v = readString(ctx, key);
  if (v === null) return;
  if (v === undefined) {
    ctx.reply.nullBulk();
    return;
  }
  let when = -1;
  if (args.expire !== null) {
    const ms = expireMillis(ctx, args.expire, args.flags, 'getex');
    if (ms === null) return;
    when = ms;
  }
  replyValue(ctx, v);
  const engine = ctx.engine;
  const db = ctx.db;
  if (args.expire !== null && when <= engine.now && !engine.keepsPastTtl) {
    // Already in the past: delete, and log it as a DEL.
    engine.deleteKey(db, key);
    ctx.changed(key, NOTIFY.GENERIC, 'del', db);
    engine.emit(db.id, ['DEL', key]);
  } else if (args.expire !== null) {
    db.setExpire(key, when);
    ctx.changed(key, NOTIFY.GENERIC, 'expire', db);
    engine.emit(db.id, ['PEXPIREAT', key, int64Text(when)]);
  } else if (args.flags & SET_PERSIST) {
    if (db.removeExpire(key)) {
      ctx.changed(key, NOTIFY.GENERIC, 'persist', db);
      engine.emit(db.id, ['PERSIST', key]);
    }
  }
}

function getdel(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const v = readString(ctx, key);
  if (v === null) return;
  if (v === undefined) {
    ctx.reply.nullBulk();
    return;
  }
  replyValue(ctx, v);
  const engine = ctx.engine;
  engine.deleteKey(ctx.db, key);
  ctx.changed(key, NOTIFY.GENERIC, 'del');
  engine.emit(ctx.db.id, ['DEL', key]);
}

function getset(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  if (!getGeneric(ctx, key)) return;
  const engine = ctx.engine;
  const value = argAt(argv, 2);
  engine.setKey(ctx.db, key, valueFromArg(value));
  ctx.changed(key, NOTIFY.STRING, 'set');
  engine.emit(ctx.db.id, argvFrom(['SET', key, value]));
}

function mget(ctx: CommandContext, argv: string[]): void {
  const engine = ctx.engine;
  ctx.reply.array(argv.length - 1);
  for (let i = 1; i < argv.length; i++) {
    const v = engine.lookupRead(ctx.db, argv[i]!);
    if (v === undefined || !isStringValue(v)) ctx.reply.nullBulk();
    else replyValue(ctx, v);
  }
}

function msetGeneric(ctx: CommandContext, argv: string[], nx: boolean): void {
  if (argv.length % 2 === 0) {
    ctx.reply.error(`ERR wrong number of arguments for '${ctx.current!.name}' command`);
    return;
  }
  const engine = ctx.engine;
  const db = ctx.db;
  if (nx) {
    for (let i = 1; i < argv.length; i += 2) {
      if (engine.lookupWrite(db, argv[i]!) !== undefined) {
        ctx.reply.integer(0);
        return;
      }
    }
  }
  for (let i = 1; i < argv.length; i += 2) {
    engine.setKey(db, argv[i]!, valueFromArg(argAt(argv, i + 1)));
    ctx.changed(argv[i]!, NOTIFY.STRING, 'set', db);
  }
  engine.emit(db.id, argv, (argv.length - 1) / 2);
  if (nx) ctx.reply.integer(1);
  else ctx.reply.ok();
}

function strlen(ctx: CommandContext, argv: string[]): void {
  const v = readString(ctx, argv[1]!);
  if (v === null) return;
  ctx.reply.integer(v === undefined ? 0 : stringLength(v));
}

/**
 * checkStringLength: refuse results longer than proto-max-bulk-len, and
 * (whoever asks) longer than the largest value Vireo can hold.
 */
function tooLong(ctx: CommandContext, total: number): boolean {
  if (total > MAX_VALUE_BYTES || (ctx.kind !== 'master' && total > ctx.host.protoMaxBulkLen)) {
    ctx.reply.error('ERR string exceeds maximum allowed size (proto-max-bulk-len)');
    return true;
  }
  return false;
}

/** The key's value as a MutableString, converting it in place if needed. */
function unshare(ctx: CommandContext, key: string, v: StringValue): MutableString {
  if (v instanceof MutableString) return v;
  const m = new MutableString(stringOf(v));
  ctx.db.replace(key, m);
  return m;
}

function append(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const value = argAt(argv, 2);
  const engine = ctx.engine;
  const db = ctx.db;
  const v = engine.lookupWrite(db, key);
  let total: number;
  if (v === undefined) {
    engine.setKey(db, key, valueFromArg(value));
    total = value.length;
  } else {
    if (!isStringValue(v)) {
      ctx.reply.error(ERR.WRONGTYPE);
      return;
    }
    total = stringLength(v) + value.length;
    if (tooLong(ctx, total)) return;
    unshare(ctx, key, v).append(value);
  }
  ctx.changed(key, NOTIFY.STRING, 'append', db);
  engine.emit(db.id, argv);
  ctx.reply.integer(total);
}

function setrange(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const value = argAt(argv, 3);
  const offset = argLong(ctx, argv[2]!);
  if (offset === null) return;
  if (offset < 0) {
    ctx.reply.error('ERR offset is out of range');
    return;
  }
  const engine = ctx.engine;
  const db = ctx.db;
  const v = engine.lookupWrite(db, key);
  let target: MutableString;
  if (v === undefined) {
    if (value.length === 0) {
      ctx.reply.integer(0);
      return;
    }
    if (tooLong(ctx, offset + value.length)) return;
    target = new MutableString('', offset + value.length);
    engine.setKey(db, key, target);
  } else {
    if (!isStringValue(v)) {
      ctx.reply.error(ERR.WRONGTYPE);
      return;
    }
    if (value.length === 0) {
      ctx.reply.integer(stringLength(v));
      return;
    }
    if (tooLong(ctx, offset + value.length)) return;
    target = unshare(ctx, key, v);
  }
  target.setRange(offset, value);
  ctx.changed(key, NOTIFY.STRING, 'setrange', db);
  engine.emit(db.id, argv);
  ctx.reply.integer(target.length);
}

function getrange(ctx: CommandContext, argv: string[]): void {
  let start = argLong(ctx, argv[2]!);
  if (start === null) return;
  let end = argLong(ctx, argv[3]!);
  if (end === null) return;
  const v = readString(ctx, argv[1]!);
  if (v === null) return;
  if (v === undefined) {
    ctx.reply.bulk('');
    return;
  }
  const len = stringLength(v);
  // Near -2^63 two different indexes are the same double: compare them exactly.
  const exact = Number.isSafeInteger(start) && Number.isSafeInteger(end);
  if (start < 0 && end < 0 && (exact ? start > end : BigInt(argv[2]!) > BigInt(argv[3]!))) {
    ctx.reply.bulk('');
    return;
  }
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (end < 0) end = 0;
  if (end >= len) end = len - 1;
  if (start > end || len === 0) ctx.reply.bulk('');
  // A MutableString is read as bytes: it may be longer than a JS string.
  else if (v instanceof MutableString) ctx.reply.bulkBytes(v.buf, start, end + 1);
  else ctx.reply.bulk(stringOf(v).slice(start, end + 1));
}

// ---- counters ---------------------------------------------------------------------

/** The int64 held by a string value, or null if it is not one. */
function integerOf(v: StringValue): number | bigint | null {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  // No int64 has more than 20 characters (and a long value may not fit a JS string).
  if (v.length > 20) return null;
  return parseInteger(stringOf(v));
}

/** Redis' string2ld: at most 5 KB of text (MAX_LONG_DOUBLE_CHARS) can be a long double. */
const MAX_LONG_DOUBLE_CHARS = 5 * 1024;

function incrDecr(ctx: CommandContext, argv: string[], incr: number | bigint): void {
  const key = argv[1]!;
  const engine = ctx.engine;
  const db = ctx.db;
  const v = engine.lookupWrite(db, key);
  let current: number | bigint = 0;
  if (v !== undefined) {
    if (!isStringValue(v)) {
      ctx.reply.error(ERR.WRONGTYPE);
      return;
    }
    const n = integerOf(v);
    if (n === null) {
      ctx.reply.error(ERR.NOT_INTEGER);
      return;
    }
    current = n;
  }
  let result: number | bigint;
  if (typeof current === 'number' && typeof incr === 'number' && Number.isSafeInteger(current + incr)) {
    result = current + incr;
  } else {
    const big = BigInt(current) + BigInt(incr);
    if (big > INT64_MAX || big < INT64_MIN) {
      ctx.reply.error(ERR.OVERFLOW);
      return;
    }
    result = big >= -9007199254740991n && big <= 9007199254740991n ? Number(big) : big;
  }
  if (v === undefined) engine.setKey(db, key, result);
  else {
    db.replace(key, result);
  }
  ctx.changed(key, NOTIFY.STRING, 'incrby', db);
  engine.emit(db.id, argv);
  ctx.reply.integer(result);
}

function incrbyArg(ctx: CommandContext, raw: string): number | bigint | null {
  const n = parseInteger(raw);
  if (n === null) ctx.reply.error(ERR.NOT_INTEGER);
  return n;
}

function incrbyfloat(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const engine = ctx.engine;
  const db = ctx.db;
  const v = engine.lookupWrite(db, key);
  if (v !== undefined && !isStringValue(v)) {
    ctx.reply.error(ERR.WRONGTYPE);
    return;
  }
  const current = v === undefined ? parseLongDouble('0') : stringLength(v) >= MAX_LONG_DOUBLE_CHARS ? null : parseLongDouble(stringOf(v));
  if (current === null) {
    ctx.reply.error(ERR.NOT_FLOAT);
    return;
  }
  const incr = parseLongDouble(argv[2]!);
  if (incr === null) {
    ctx.reply.error(ERR.NOT_FLOAT);
    return;
  }
  const sum = addLongDouble(current, incr);
  if (sum === null || sum.inf) {
    ctx.reply.error('ERR increment would produce NaN or Infinity');
    return;
  }
  const text = formatLongDoubleHuman(sum);
  if (v === undefined) engine.setKey(db, key, text);
  else {
    db.replace(key, text);
  }
  ctx.changed(key, NOTIFY.STRING, 'incrbyfloat', db);
  engine.emit(db.id, ['SET', key, text, 'KEEPTTL']);
  ctx.reply.bulk(text);
}

// ---- LCS ------------------------------------------------------------------------------

const EMPTY = Buffer.alloc(0);

function lcs(ctx: CommandContext, argv: string[]): void {
  const engine = ctx.engine;
  const va = engine.lookupRead(ctx.db, argv[1]!);
  const vb = engine.lookupRead(ctx.db, argv[2]!);
  if ((va !== undefined && !isStringValue(va)) || (vb !== undefined && !isStringValue(vb))) {
    ctx.reply.error('ERR The specified keys must contain string values');
    return;
  }
  // Bytes: a value may be longer than a JS string.
  const a = va === undefined ? EMPTY : bytesOf(va as StringValue);
  const b = vb === undefined ? EMPTY : bytesOf(vb as StringValue);
  let getIdx = false;
  let getLen = false;
  let withMatchLen = false;
  let minMatchLen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const moreArgs = argv.length - 1 - j;
    if (opt === 'idx') getIdx = true;
    else if (opt === 'len') getLen = true;
    else if (opt === 'withmatchlen') withMatchLen = true;
    else if (opt === 'minmatchlen' && moreArgs > 0) {
      const n = argLong(ctx, argv[j + 1]!);
      if (n === null) return;
      minMatchLen = Math.max(0, n);
      j++;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  if (getIdx && getLen) {
    ctx.reply.error('ERR If you want both the length and indexes, please just use IDX.');
    return;
  }
  const alen = a.length;
  const blen = b.length;
  // Redis' limits: lengths must fit its uint32 table, the table proto-max-bulk-len.
  if (alen >= 0xffffffff - 1 || blen >= 0xffffffff - 1) {
    ctx.reply.error('ERR String too long for LCS');
    return;
  }
  if ((alen + 1) * (blen + 1) * 4 > ctx.host.protoMaxBulkLen) {
    ctx.reply.error('ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len');
    return;
  }
  // dp[j + (blen+1)*i] = LCS length of a[0..i) and b[0..j).
  const w = blen + 1;
  let dp: Uint32Array;
  try {
    dp = new Uint32Array((alen + 1) * w);
  } catch {
    // A raised proto-max-bulk-len can ask for more than V8 gives (ztrymalloc failing in Redis).
    ctx.reply.error('ERR Insufficient memory, failed allocating transient memory for LCS');
    return;
  }
  for (let i = 1; i <= alen; i++) {
    const ai = a[i - 1];
    for (let j = 1; j <= blen; j++) {
      if (ai === b[j - 1]) dp[j + w * i] = dp[j - 1 + w * (i - 1)]! + 1;
      else {
        const l1 = dp[j + w * (i - 1)]!;
        const l2 = dp[j - 1 + w * i]!;
        dp[j + w * i] = l1 > l2 ? l1 : l2;
      }
    }
  }
  const total = dp[blen + w * alen]!;
  const computeLcs = getIdx || !getLen;
  const result = Buffer.allocUnsafe(computeLcs ? total : 0);
  const ranges: [number, number, number, number, number][] = [];
  let idx = total;
  let aStart = alen;
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  let i = alen;
  let j = blen;
  while (computeLcs && i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      result[idx - 1] = a[i - 1]!;
      if (aStart === alen) {
        aStart = i - 1;
        aEnd = i - 1;
        bStart = j - 1;
        bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      idx--;
      i--;
      j--;
    } else {
      const l1 = dp[j + w * (i - 1)]!;
      const l2 = dp[j - 1 + w * i]!;
      if (l1 > l2) i--;
      else j--;
      if (aStart !== alen) emit = true;
    }
    const matchLen = aEnd - aStart + 1;
    if (emit) {
      if (minMatchLen === 0 || matchLen >= minMatchLen) ranges.push([aStart, aEnd, bStart, bEnd, matchLen]);
      aStart = alen;
    }
  }
  if (getIdx) {
    ctx.reply.map(2);
    ctx.reply.bulk('matches');
    ctx.reply.array(ranges.length);
    for (const [as, ae, bs, be, ml] of ranges) {
      ctx.reply.array(withMatchLen ? 3 : 2);
      ctx.reply.array(2);
      ctx.reply.integer(as);
      ctx.reply.integer(ae);
      ctx.reply.array(2);
      ctx.reply.integer(bs);
      ctx.reply.integer(be);
      if (withMatchLen) ctx.reply.integer(ml);
    }
    ctx.reply.bulk('len');
    ctx.reply.integer(total);
  } else if (getLen) {
    ctx.reply.integer(total);
  } else {
    ctx.reply.bulkBuffer(result);
  }
}

// Where these commands take a value longer than a JS string (CommandImpl.bigArg).
const valueAt = (position: number) => (index: number) => index === position;
const msetValue = (index: number) => index >= 2 && index % 2 === 0;

export const stringCommands: CommandImpl[] = [
  { name: 'get', run: get },
  {
    name: 'set',
    run: set,
    bigArg: valueAt(2),
  },
  { name: 'setnx', run: setnx, bigArg: valueAt(2) },
  { name: 'setex', run: (ctx, argv) => setexGeneric(ctx, argv, SET_EX), bigArg: valueAt(3) },
  { name: 'psetex', run: (ctx, argv) => setexGeneric(ctx, argv, SET_PX), bigArg: valueAt(3) },
  { name: 'getex', run: getex },
  { name: 'getdel', run: getdel },
  { name: 'getset', run: getset, bigArg: valueAt(2) },
  { name: 'mget', run: mget },
  { name: 'mset', run: (ctx, argv) => msetGeneric(ctx, argv, false), bigArg: msetValue },
  { name: 'msetnx', run: (ctx, argv) => msetGeneric(ctx, argv, true), bigArg: msetValue },
  { name: 'strlen', run: strlen },
  { name: 'append', run: append, bigArg: valueAt(2) },
  { name: 'setrange', run: setrange, bigArg: valueAt(3) },
  { name: 'getrange', run: getrange },
  { name: 'substr', run: getrange },
  { name: 'incr', run: (ctx, argv) => incrDecr(ctx, argv, 1) },
  { name: 'decr', run: (ctx, argv) => incrDecr(ctx, argv, -1) },
  {
    name: 'incrby',
    run: (ctx, argv) => {
      const n = incrbyArg(ctx, argv[2]!);
      if (n !== null) incrDecr(ctx, argv, n);
    },
  },
  {
    name: 'decrby',
    run: (ctx, argv) => {
      const n = incrbyArg(ctx, argv[2]!);
      if (n === null) return;
      if (n === INT64_MIN) {
        ctx.reply.error('ERR decrement would overflow');
        return;
      }
      incrDecr(ctx, argv, typeof n === 'bigint' ? -n : -n);
    },
  },
  { name: 'incrbyfloat', run: incrbyfloat },
  { name: 'lcs', run: lcs },
];

export { integerOf, replyValue, formatInteger, readString, tooLong };
export type { Value };
