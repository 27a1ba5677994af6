/**
 * HSCAN / SSCAN / ZSCAN (Redis' scanGenericCommand for collections): compact
 * encodings return everything at once with cursor 0, hashtables are walked
 * shard by shard with a dictScan-style cursor.
 */

import type { CommandContext } from './context.js';
import { ERR, argLong, eq } from './util.js';
import { parseCursor } from './keys.js';
import { globMatcher } from '../util/glob.js';

export interface ScanSource {
  /** Compact encodings: every [element, extra?] pair at once. */
  all(): [string, string | null][] | null;
  /** Hashtable encodings: one step, filling out; returns the next cursor. */
  step(cursor: number, count: number, out: [string, string | null][]): number;
}

/** Parse `[MATCH p] [COUNT n]` from argv[3] on; null after replying. */
function parseOptions(ctx: CommandContext, argv: string[]): { count: number; match: ((s: string) => boolean) | null } | null {
  let count = 10;
  let match: ((s: string) => boolean) | null = null;
  for (let i = 3; i < argv.length; i += 2) {
    const opt = argv[i]!;
    if (i + 1 >= argv.length) {
      ctx.reply.error(ERR.SYNTAX);
      return null;
    }
    if (eq(opt, 'count')) {
      const n = argLong(ctx, argv[i + 1]!);
      if (n === null) return null;
      if (n < 1) {
        ctx.reply.error(ERR.SYNTAX);
        return null;
      }
      count = n;
    } else if (eq(opt, 'match')) {
      const p = argv[i + 1]!;
      match = p === '*' ? null : globMatcher(p);
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return null;
    }
  }
  return { count, match };
}

/** In Redis' order: the cursor, then the key (missing: empty reply), then the options. */
export function scanCollection(ctx: CommandContext, argv: string[], find: () => ScanSource | undefined | null): void {
  const cursor = parseCursor(ctx, argv[2]!);
  if (cursor === null) return;
  const src = find();
  if (src === null) return;
  if (src === undefined) {
    ctx.reply.array(2);
    ctx.reply.bulk('0');
    ctx.reply.array(0);
    return;
  }
  const opts = parseOptions(ctx, argv);
  if (opts === null) return;
  const out: [string, string | null][] = [];
  let next = 0;
  const all = src.all();
  if (all !== null) out.push(...all);
  else next = cursor > 0xffffffffn ? 0 : src.step(Number(cursor), opts.count, out);
  const kept = opts.match === null ? out : out.filter(([k]) => opts.match!(k));
  let n = 0;
  for (const [, extra] of kept) n += extra === null ? 1 : 2;
  ctx.reply.array(2);
  ctx.reply.bulk(String(next));
  ctx.reply.array(n);
  for (const [k, extra] of kept) {
    ctx.reply.bulk(k);
    if (extra !== null) ctx.reply.bulk(extra);
  }
}
