/**
 * Argument parsing shared by the stream commands (t_stream.c): IDs in their
 * strict and interval forms, the XADD/XTRIM trimming options, and the
 * KEEPREF/DELREF/ACKED policies and IDS blocks of Redis 8.2. Each helper
 * replies with Redis' error and returns null on bad input.
 */

import type { CommandContext } from './context.js';
import { ERR, argLong, eq } from './util.js';
import { MIN_ID, decrId, incrId, parseId, U64_MAX, type StreamID, type U64 } from '../types/stream-id.js';
import type { RefPolicy, TrimStrategy } from '../types/stream.js';

export const ERR_INVALID_ID = 'ERR Invalid stream ID specified as stream command argument';

/** streamParseIDOrReply / streamParseStrictIDOrReply. */
export function argId(ctx: CommandContext, s: string, missingSeq: U64 = 0, strict = true): StreamID | null {
  const p = parseId(s, missingSeq, strict);
  if (p === null) {
    ctx.reply.error(ERR_INVALID_ID);
    return null;
  }
  return p.id;
}

/**
 * streamParseIntervalIDOrReply for a range bound: `(` makes it exclusive
 * (strict parsing of the rest), then the start moves up and the end down by
 * one, with Redis' errors when that passes the ID space's edge.
 */
export function argRangeBound(ctx: CommandContext, s: string, isStart: boolean): StreamID | null {
  const exclusive = s.length > 1 && s.charCodeAt(0) === 40; // '('
  const id = argId(ctx, exclusive ? s.slice(1) : s, isStart ? 0 : U64_MAX, exclusive);
  if (id === null || !exclusive) return id;
  const moved = isStart ? incrId(id) : decrId(id);
  if (moved === null) {
    ctx.reply.error(isStart ? 'ERR invalid start ID for the interval' : 'ERR invalid end ID for the interval');
    return null;
  }
  return moved;
}

/** KEEPREF | DELREF | ACKED, or null when the argument is none of them. */
export function policyOf(arg: string): RefPolicy | null {
  if (eq(arg, 'keepref')) return 'keepref';
  if (eq(arg, 'delref')) return 'delref';
  if (eq(arg, 'acked')) return 'acked';
  return null;
}

/** What XADD and XTRIM were asked (streamAddTrimArgs). */
export interface AddTrimArgs {
  strategy: TrimStrategy | null;
  /** Index in argv of the threshold (MAXLEN count / MINID id), to rewrite it for the log. */
  thresholdIndex: number;
  approx: boolean;
  maxlen: number;
  minid: StreamID;
  limit: number;
  policy: RefPolicy;
  /** Index in argv of an explicit KEEPREF|DELREF|ACKED, or -1. */
  policyIndex: number;
  /** XADD: the ID (null for `*`), whether its sequence was given, NOMKSTREAM, where the ID sits. */
  id: StreamID | null;
  seqGiven: boolean;
  noMkStream: boolean;
  idIndex: number;
}

/** What parseAddTrimArgs finds in `XADD key * ...`: shared, never changed. */
const PLAIN_XADD: Readonly<AddTrimArgs> = Object.freeze({
  strategy: null, thresholdIndex: -1, approx: false, maxlen: 0, minid: MIN_ID, limit: 0,
  policy: 'keepref', policyIndex: -1, id: null, seqGiven: true, noMkStream: false, idIndex: 2,
});

const BOTH_STRATEGIES = 'ERR syntax error, MAXLEN and MINID options at the same time are not compatible';

/**
 * streamParseAddOrTrimArgsOrReply. `mustObey` is a context that replays
 * what a primary or the AOF logged (LIMIT is then ignored, as the logged
 * threshold is exact). `limitDefault` is stream-node-max-entries.
 */
export function parseAddTrimArgs(ctx: CommandContext, argv: string[], xadd: boolean, mustObey: boolean, nodeMaxEntries: number): Readonly<AddTrimArgs> | null {
  // `XADD key * field value ...`, by far the most common form, has nothing to parse.
  if (xadd && argv[2] === '*') return PLAIN_XADD;
  const a: AddTrimArgs = {
    strategy: null, thresholdIndex: -1, approx: false, maxlen: 0, minid: MIN_ID, limit: 0,
    policy: 'keepref', policyIndex: -1, id: null, seqGiven: true, noMkStream: false, idIndex: -1,
  };
  let limitGiven = false;
  let i = 2;
  for (; i < argv.length; i++) {
    const more = argv.length - 1 - i;
    const opt = argv[i]!;
    if (xadd && opt === '*') break;
    const isMaxlen = eq(opt, 'maxlen');
    if ((isMaxlen || eq(opt, 'minid')) && more > 0) {
      if (a.strategy !== null) {
        ctx.reply.error(BOTH_STRATEGIES);
        return null;
      }
      a.approx = false;
      const next = argv[i + 1]!;
      if (more >= 2 && next === '~') {
        a.approx = true;
        i++;
      } else if (more >= 2 && next === '=') {
        i++;
      }
      if (isMaxlen) {
        const n = argLong(ctx, argv[i + 1]!);
        if (n === null) return null;
        if (n < 0) {
          ctx.reply.error('ERR The MAXLEN argument must be >= 0.');
          return null;
        }
        a.maxlen = n;
        a.strategy = 'maxlen';
      } else {
        const id = argId(ctx, argv[i + 1]!);
        if (id === null) return null;
        a.minid = id;
        a.strategy = 'minid';
      }
      i++;
      a.thresholdIndex = i;
    } else if (eq(opt, 'limit') && more > 0) {
      const n = argLong(ctx, argv[i + 1]!);
      if (n === null) return null;
      if (n < 0) {
        ctx.reply.error('ERR The LIMIT argument must be >= 0.');
        return null;
      }
      a.limit = n;
      limitGiven = true;
      i++;
    } else if (xadd && eq(opt, 'nomkstream')) {
      a.noMkStream = true;
    } else if (policyOf(opt) !== null) {
      if (a.policyIndex >= 0) {
        ctx.reply.error(ERR.SYNTAX);
        return null;
      }
      a.policy = policyOf(opt)!;
      a.policyIndex = i;
    } else if (xadd) {
      const p = parseId(opt, 0, true, true);
      if (p === null) {
        ctx.reply.error(ERR_INVALID_ID);
        return null;
      }
      a.id = p.id;
      a.seqGiven = p.seqGiven;
      break;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return null;
    }
  }
  a.idIndex = i;
  if (a.limit > 0 && a.strategy === null) {
    ctx.reply.error('ERR syntax error, LIMIT cannot be used without specifying a trimming strategy');
    return null;
  }
  if (!xadd && a.strategy === null) {
    ctx.reply.error('ERR syntax error, XTRIM must be called with a trimming strategy');
    return null;
  }
  if (mustObey) {
    a.limit = 0;
  } else if (limitGiven) {
    if (!a.approx) {
      ctx.reply.error('ERR syntax error, LIMIT cannot be used without the special ~ option');
      return null;
    }
  } else if (a.approx) {
    // At most 100 nodes' worth of entries per call, capped both ways.
    a.limit = 100 * nodeMaxEntries;
    if (a.limit <= 0) a.limit = 10000;
    if (a.limit > 1000000) a.limit = 1000000;
  } else {
    a.limit = 0;
  }
  return a;
}

/**
 * `[KEEPREF | DELREF | ACKED] IDS numids id ...` from argv[from] to the end
 * (XDELEX, XACKDEL): the policy and the IDs (parsed strictly), or null
 * after replying.
 */
export function parsePolicyAndIds(ctx: CommandContext, argv: string[], from: number): { policy: RefPolicy; ids: StreamID[] } | null {
  let policy: RefPolicy | null = null;
  let ids: StreamID[] | null = null;
  for (let i = from; i < argv.length; i++) {
    const arg = argv[i]!;
    const p = policyOf(arg);
    if (p !== null) {
      if (policy !== null) {
        ctx.reply.error(ERR.SYNTAX);
        return null;
      }
      policy = p;
      continue;
    }
    if (eq(arg, 'ids') && ids === null && i + 1 < argv.length) {
      const n = argLong(ctx, argv[i + 1]!, 'ERR Number of IDs must be a positive integer');
      if (n === null) return null;
      if (n <= 0) {
        ctx.reply.error('ERR Number of IDs must be a positive integer');
        return null;
      }
      if (n > argv.length - i - 2) {
        ctx.reply.error('ERR The `numids` parameter must match the number of arguments');
        return null;
      }
      ids = [];
      for (let k = 0; k < n; k++) {
        const id = argId(ctx, argv[i + 2 + k]!);
        if (id === null) return null;
        ids.push(id);
      }
      i += 1 + n;
      continue;
    }
    ctx.reply.error(ERR.SYNTAX);
    return null;
  }
  if (ids === null) {
    ctx.reply.error(ERR.SYNTAX);
    return null;
  }
  return { policy: policy ?? 'keepref', ids };
}

/** Redis' mustObeyClient: the AOF loader and a primary's link apply what was logged without LIMIT. */
export function mustObey(ctx: CommandContext): boolean {
  return ctx.conn === null || ctx.kind === 'master';
}
