/**
 * Shared error texts and argument parsing for command implementations,
 * worded exactly as Redis' shared replies.
 */

import type { CommandContext } from './context.js';
import { typeOf, type TypeName, type Value } from '../types/value.js';
import { INT64_MAX, parseDouble, parseInt64, parseLong } from '../util/numbers.js';
import { ceilLongDouble, mulLongDouble, parseLongDouble } from '../util/longdouble.js';

export const ERR = {
  WRONGTYPE: 'WRONGTYPE Operation against a key holding the wrong kind of value',
  NOT_INTEGER: 'ERR value is not an integer or out of range',
  NOT_FLOAT: 'ERR value is not a valid float',
  SYNTAX: 'ERR syntax error',
  NO_SUCH_KEY: 'ERR no such key',
  DB_RANGE: 'ERR DB index is out of range',
  SAME_OBJECT: 'ERR source and destination objects are the same',
  OVERFLOW: 'ERR increment or decrement would overflow',
  OUT_OF_RANGE: 'ERR index out of range',
  POSITIVE: 'ERR value is out of range, must be positive',
} as const;

export const INT_MAX = 2147483647;
export const INT_MIN = -2147483648;

/** getLongLongFromObjectOrReply: an int64 argument (as a number), or null after replying. */
export function argLong(ctx: CommandContext, s: string, msg: string = ERR.NOT_INTEGER): number | null {
  const n = parseLong(s);
  if (n === null) ctx.reply.error(msg);
  return n;
}

/** getIntFromObjectOrReply: a 32-bit int argument, or null after replying. */
export function argInt(ctx: CommandContext, s: string, msg: string = ERR.NOT_INTEGER): number | null {
  const n = parseLong(s);
  if (n === null) {
    ctx.reply.error(msg);
    return null;
  }
  if (n > INT_MAX || n < INT_MIN) {
    // Redis' getIntFromObjectOrReply: a caller's own message answers this too.
    ctx.reply.error(msg !== ERR.NOT_INTEGER ? msg : `ERR value is out of range, value must between ${INT_MIN} and ${INT_MAX}`);
    return null;
  }
  return n;
}

/** getPositiveLongFromObjectOrReply (zero allowed): `msg` answers both a non-integer and a negative value. */
export function argNonNegative(ctx: CommandContext, s: string, msg: string = ERR.POSITIVE): number | null {
  return argRange(ctx, s, 0, LONG_MAX, msg);
}

export const LONG_MAX = 9223372036854775807;

/**
 * getRangeLongFromObjectOrReply: an integer in [min, max]. With `msg` that
 * text answers every failure; without, Redis' generic messages.
 */
export function argRange(ctx: CommandContext, s: string, min: number, max: number, msg: string | null = null): number | null {
  const n = parseLong(s);
  if (n === null) {
    ctx.reply.error(msg ?? ERR.NOT_INTEGER);
    return null;
  }
  // Beyond 2^53 the double is rounded: -9223372036854775808 reads as
  // -LONG_MAX, so bounds at the int64 edges are checked on the exact value.
  if (n < min || n > max || (Math.abs(n) > Number.MAX_SAFE_INTEGER && !exactlyWithin(s, min, max))) {
    const show = (x: number) => (x === LONG_MAX ? '9223372036854775807' : x === -LONG_MAX ? '-9223372036854775807' : String(x));
    ctx.reply.error(msg ?? `ERR value is out of range, value must between ${show(min)} and ${show(max)}`);
    return null;
  }
  return n;
}

/**
 * A count whose double is taken (HRANDFIELD ... WITHVALUES): Redis refuses
 * |count| > LONG_MAX/2. Checked on the exact int64, since LONG_MAX/2 is
 * not a double (it rounds to 2^62).
 */
export function doublesWithoutOverflow(s: string): boolean {
  const v = parseInt64(s);
  return v !== null && v >= -4611686018427387903n && v <= 4611686018427387903n;
}

function exactlyWithin(s: string, min: number, max: number): boolean {
  const v = parseInt64(s);
  return v !== null && v >= exactBound(min) && v <= exactBound(max);
}

/** The int64 a bound stands for (LONG_MAX and -LONG_MAX are not exact as doubles). */
function exactBound(x: number): bigint {
  if (x === LONG_MAX) return 9223372036854775807n;
  if (x === -LONG_MAX) return -9223372036854775807n;
  return BigInt(x);
}

/**
 * Look a key up expecting `type`: the value, undefined when missing, or
 * null after replying WRONGTYPE.
 */
export function lookupTyped<T extends Value>(ctx: CommandContext, key: string, type: TypeName, write: boolean): T | undefined | null {
  const v = write ? ctx.engine.lookupWrite(ctx.db, key) : ctx.engine.lookupRead(ctx.db, key);
  if (v === undefined) return undefined;
  if (typeOf(v) !== type) {
    ctx.reply.error(ERR.WRONGTYPE);
    return null;
  }
  return v as T;
}

/** getDoubleFromObjectOrReply. */
export function argDouble(ctx: CommandContext, s: string, msg: string = ERR.NOT_FLOAT): number | null {
  const d = parseDouble(s);
  if (d === null) ctx.reply.error(msg);
  return d;
}

/** LMPOP / ZMPOP (and their blocking forms): the optional `COUNT n` from argv[from]; 1 by default, null after an error reply. */
export function argMpopCount(ctx: CommandContext, argv: string[], from: number): number | null {
  let count = -1;
  for (let j = from; j < argv.length; j++) {
    const moreArgs = argv.length - 1 - j;
    if (count === -1 && eq(argv[j]!, 'count') && moreArgs > 0) {
      const n = argRange(ctx, argv[++j]!, 1, LONG_MAX, 'ERR count should be greater than 0');
      if (n === null) return null;
      count = n;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return null;
    }
  }
  return count === -1 ? 1 : count;
}

/**
 * An argument as Redis' error texts print it: with %s, which stops at a
 * NUL byte ("unknown command 'a\0b'" shows 'a').
 */
export function cstr(s: string): string {
  const nul = s.indexOf('\0');
  return nul < 0 ? s : s.slice(0, nul);
}

/** Case-insensitive option compare for ASCII keywords. */
export function eq(arg: string, keyword: string): boolean {
  const n = keyword.length;
  if (arg.length !== n) return false;
  // arg.toLowerCase() === keyword without making the lowercase string (options are tried
  // against several keywords each): only A-Z lower to ASCII, and keywords are lowercase ASCII.
  for (let i = 0; i < n; i++) {
    const c = arg.charCodeAt(i);
    if ((c >= 65 && c <= 90 ? c + 32 : c) !== keyword.charCodeAt(i)) return false;
  }
  return true;
}

/** HELP output: the lines Redis prints for a container command. */
export function replyHelp(ctx: CommandContext, command: string, lines: string[]): void {
  const all = [
    `${command} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:`,
    ...lines,
    'HELP',
    '    Print this help.',
  ];
  ctx.reply.array(all.length);
  for (const l of all) ctx.reply.simple(l);
}

/** Select a database index argument; null after replying on error. */
export function argDbIndex(ctx: CommandContext, s: string, rangeMsg: string = ERR.DB_RANGE, intMsg: string = ERR.NOT_INTEGER): number | null {
  const id = argInt(ctx, s, intMsg);
  if (id === null) return null;
  if (id < 0 || id >= ctx.engine.dbs.length) {
    ctx.reply.error(rangeMsg);
    return null;
  }
  return id;
}

const WHOLE_SECONDS = /^[0-9]+$/;
const WHOLE_MS = /^(0|[1-9][0-9]*)$/;

/**
 * getTimeoutFromObjectOrReply: a blocking command's timeout (seconds with
 * decimals, or whole milliseconds) as a deadline on the engine clock, 0 for
 * none; null after replying with Redis' error. Seconds are computed as Redis
 * 7.2 does, in x87 long doubles: ceill(strtold(s) * 1000), refused past
 * 2^63-1 ms. So 1e-400 is a 1 ms timeout, 1e400 is out of range, and -0.001
 * (just above -1 ms once multiplied) rounds to 0: no timeout.
 */
export function argTimeout(ctx: CommandContext, s: string, unit: 'seconds' | 'milliseconds'): number | null {
  // The usual case, a small whole number, needs no long double or BigInt (milliseconds as string2ll: no leading zero).
  if (s.length <= 9 && (unit === 'seconds' ? WHOLE_SECONDS : WHOLE_MS).test(s)) {
    const n = unit === 'seconds' ? Number(s) * 1000 : Number(s);
    return n === 0 ? 0 : ctx.engine.now + n;
  }
  let ms: bigint;
  if (unit === 'seconds') {
    const v = parseLongDouble(s);
    if (v === null) {
      ctx.reply.error('ERR timeout is not a float or out of range');
      return null;
    }
    const scaled = mulLongDouble(v, 1000n);
    if (scaled.inf && !scaled.neg) {
      ctx.reply.error('ERR timeout is out of range');
      return null;
    }
    // -inf (and any other negative) is refused below as negative.
    ms = scaled.inf ? -1n : ceilLongDouble(scaled);
    if (ms > INT64_MAX) {
      ctx.reply.error('ERR timeout is out of range');
      return null;
    }
  } else {
    const n = parseInt64(s);
    if (n === null) {
      ctx.reply.error('ERR timeout is not an integer or out of range');
      return null;
    }
    ms = n;
  }
  if (ms < 0n) {
    ctx.reply.error('ERR timeout is negative');
    return null;
  }
  if (ms === 0n) return 0;
  const now = ctx.engine.now;
  if (ms > INT64_MAX - BigInt(now)) {
    ctx.reply.error('ERR timeout is out of range');
    return null;
  }
  return now + Number(ms);
}
