/**
 * SORT and SORT_RO (Redis' sort.c): numeric or ALPHA ordering of a list,
 * set or sorted set, BY and GET patterns (with hash fields via "->"),
 * LIMIT, and STORE into a list.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argLong } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import { ListValue } from '../types/list.js';
import { SetValue } from '../types/set.js';
import { ZSetValue } from '../types/zset.js';
import { HashValue } from '../types/hash.js';
import { MAX_STRING_CHARS, isStringValue, textOrBytes } from '../types/string.js';
import type { Value } from '../types/value.js';
import { pqsort } from '../util/pqsort.js';

/** Elements per RPUSH when a SORT ... STORE is logged as its result. */
const SORT_STORE_PUSH_CHUNK = 1024;

/** Where Redis' strchr/strstr find `what` in a pattern: they stop at a NUL byte (the rest of the pattern still counts). */
function cIndexOf(s: string, what: string, from = 0): number {
  const at = s.indexOf(what, from);
  const nul = s.indexOf('\0', from);
  return at >= 0 && (nul < 0 || at + what.length <= nul) ? at : -1;
}

/** GET's "#" is compared as a C string: "#\0..." is "#" too. */
function isElementPattern(pattern: string): boolean {
  return pattern[0] === '#' && (pattern.length === 1 || pattern[1] === '\0');
}

/**
 * Redis' lookupKeyByPattern: "#" is the element itself, "*" is replaced,
 * "key->field" reads a hash. A string value too long for a JS string comes
 * back as its bytes.
 */
function lookupByPattern(ctx: CommandContext, pattern: string, subst: string): string | Buffer | null {
  if (pattern === '#') return subst;
  const star = cIndexOf(pattern, '*');
  if (star < 0) return null;
  const arrow = cIndexOf(pattern, '->', star + 1);
  const hasField = arrow >= 0 && arrow + 2 < pattern.length && pattern[arrow + 2] !== '\0';
  const field = hasField ? pattern.slice(arrow + 2) : null;
  const keyEnd = hasField ? arrow : pattern.length;
  const key = pattern.slice(0, star) + subst + pattern.slice(star + 1, keyEnd);
  const v: Value | undefined = ctx.engine.lookupRead(ctx.db, key);
  if (v === undefined) return null;
  if (field !== null) {
    if (!(v instanceof HashValue)) return null;
    return v.get(field) ?? null;
  }
  if (!isStringValue(v)) return null;
  return textOrBytes(v);
}

/**
 * strtod as SORT uses it on the C string (up to a NUL byte): all of it,
 * leading space allowed, ERANGE and NaN rejected.
 */
function sortScore(value: string | Buffer): number | null {
  let s: string;
  if (typeof value === 'string') {
    const nul = value.indexOf('\0');
    s = nul < 0 ? value : value.slice(0, nul);
  } else {
    const nul = value.indexOf(0);
    const textLength = nul < 0 ? value.length : nul;
    // No number is written with that many characters.
    if (textLength > MAX_STRING_CHARS) return null;
    s = value.latin1Slice(0, textLength);
  }
  if (s === '') return 0;
  const t = s.replace(/^[ \t\n\v\f\r]+/, '');
  let v: number;
  if (/^[+-]?(inf|infinity)$/i.test(t)) v = t[0] === '-' ? -Infinity : Infinity;
  else if (/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(t)) {
    v = Number(t);
    if (!Number.isFinite(v)) return null;
    if (v === 0 && /[1-9]/.test(t.replace(/[eE].*$/, ''))) return null;
  } else return null;
  return v;
}

function byteCompare(a: string | Buffer, b: string | Buffer): number {
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return Buffer.compare(typeof a === 'string' ? Buffer.from(a, 'latin1') : a, typeof b === 'string' ? Buffer.from(b, 'latin1') : b);
}

interface Item {
  obj: string;
  score: number;
  cmp: string | Buffer | null;
}

function sortGeneric(ctx: CommandContext, argv: string[], readonly: boolean): void {
  let desc = false;
  let alpha = false;
  let limitStart = 0;
  let limitCount = -1;
  let storeKey: string | null = null;
  let sortBy: string | null = null;
  let dontSort = false;
  const gets: string[] = [];
  for (let j = 2; j < argv.length; j++) {
    const left = argv.length - j - 1;
    const opt = argv[j]!.toLowerCase();
    if (opt === 'asc') desc = false;
    else if (opt === 'desc') desc = true;
    else if (opt === 'alpha') alpha = true;
    else if (opt === 'limit' && left >= 2) {
      const s = argLong(ctx, argv[j + 1]!);
      if (s === null) return;
      const n = argLong(ctx, argv[j + 2]!);
      if (n === null) return;
      limitStart = s;
      limitCount = n;
      j += 2;
    } else if (!readonly && opt === 'store' && left >= 1) {
      storeKey = argv[++j]!;
    } else if (opt === 'by' && left >= 1) {
      sortBy = argv[++j]!;
      if (cIndexOf(sortBy, '*') < 0) dontSort = true;
    } else if (opt === 'get' && left >= 1) {
      const get = argv[++j]!;
      gets.push(isElementPattern(get) ? '#' : get);
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const engine = ctx.engine;
  const v = engine.lookupRead(ctx.db, argv[1]!);
  if (v !== undefined && !(v instanceof ListValue) && !(v instanceof SetValue) && !(v instanceof ZSetValue)) {
    ctx.reply.error(ERR.WRONGTYPE);
    return;
  }
  // A set has no order of its own: when storing, sort it so replicas agree.
  if (dontSort && v instanceof SetValue && storeKey !== null) {
    dontSort = false;
    alpha = true;
    sortBy = null;
  }
  // Redis converts a listpack sorted set to a skiplist for SORT and SORT_RO, and leaves it so.
  if (v instanceof ZSetValue) v.toSkiplist();
  const len = v === undefined ? 0 : v instanceof ListValue ? v.length : v.size;
  let start = limitStart < 0 ? 0 : limitStart;
  let end = limitCount < 0 ? len - 1 : start + limitCount - 1;
  if (start >= len) {
    start = len - 1;
    end = len - 2;
  }
  if (end >= len) end = len - 1;

  let items: Item[] = [];
  const item = (obj: string): Item => ({ obj, score: 0, cmp: null });
  if (v instanceof ListValue || v instanceof ZSetValue) {
    if (dontSort) {
      // Native order, honouring DESC, loading just the LIMIT range.
      if (end >= start) {
        if (v instanceof ListValue) {
          let n = end - start + 1;
          v.walk(desc ? v.length - start - 1 : start, desc, (s) => {
            items.push(item(s));
            return --n > 0;
          });
        } else {
          const view = v.view();
          let n = end - start + 1;
          view.walk(desc ? view.size - start - 1 : start, desc, (m) => {
            items.push(item(m));
            return --n > 0;
          });
        }
        end -= start;
        start = 0;
      }
    } else if (v instanceof ListValue) {
      items = v.toArray().map(item);
    } else {
      items = [...v.entries()].map(([m]) => item(m));
    }
  } else if (v instanceof SetValue) {
    items = v.toArray().map(item);
  }

  if (!dontSort) {
    let conversionError = false;
    for (const it of items) {
      let by: string | Buffer | null = it.obj;
      if (sortBy !== null) {
        by = lookupByPattern(ctx, sortBy, it.obj);
        if (by === null) continue;
      }
      if (alpha) {
        if (sortBy !== null) it.cmp = by;
      } else {
        const sc = sortScore(by);
        if (sc === null) conversionError = true;
        else it.score = sc;
      }
    }
    if (conversionError) {
      ctx.reply.error("ERR One or more scores can't be converted into double");
      return;
    }
    const byPattern = sortBy !== null;
    const compare = (a: Item, b: Item): number => {
      let cmp: number;
      if (!alpha) {
        cmp = a.score > b.score ? 1 : a.score < b.score ? -1 : byteCompare(a.obj, b.obj);
      } else if (byPattern) {
        if (a.cmp === null || b.cmp === null) cmp = a.cmp === b.cmp ? 0 : a.cmp === null ? -1 : 1;
        else cmp = byteCompare(a.cmp, b.cmp);
      } else {
        cmp = byteCompare(a.obj, b.obj);
      }
      return desc ? -cmp : cmp;
    };
    // As Redis: sorted BY a pattern with a LIMIT range, its partial
    // quicksort (ties in its order); otherwise libc's qsort, a merge sort
    // in glibc and stable, as this one.
    if (byPattern && (start !== 0 || end !== len - 1)) pqsort(items, compare, start, end);
    else items.sort(compare);
  }

  const outputLen = gets.length > 0 ? gets.length * Math.max(0, end - start + 1) : Math.max(0, end - start + 1);
  if (storeKey === null) {
    ctx.reply.array(outputLen);
    for (let j = start; j <= end; j++) {
      const obj = items[j]!.obj;
      if (gets.length === 0) ctx.reply.bulk(obj);
      for (const g of gets) {
        const val = lookupByPattern(ctx, g, obj);
        if (val === null) ctx.reply.nullBulk();
        else if (typeof val === 'string') ctx.reply.bulk(val);
        else ctx.reply.bulkBuffer(val);
      }
    }
    return;
  }
  const out: string[] = [];
  for (let j = start; j <= end; j++) {
    const obj = items[j]!.obj;
    if (gets.length === 0) out.push(obj);
    for (const g of gets) {
      const val = lookupByPattern(ctx, g, obj) ?? '';
      if (typeof val !== 'string') {
        ctx.reply.error(`ERR a value of ${val.length} bytes cannot be a list element in Vireo (list elements are at most ${MAX_STRING_CHARS} bytes)`);
        return;
      }
      out.push(val);
    }
  }
  if (out.length > 0) {
    const list = new ListValue();
    const fill = engine.limits.listMaxListpackSize;
    list.prepareGrow(out, 0, out.length - 1, fill, engine.limits.listCompressDepth);
    for (const s of out) list.push(s, false);
    list.afterShrink(fill);
    engine.setKey(ctx.db, storeKey, list);
    ctx.changed(storeKey, NOTIFY.LIST, 'sortstore');
    // Logged as its result, not as the SORT: elements whose sort keys tie
    // come out in an order the algorithm picks (Redis' pqsort is not
    // stable, this sort is), and a replay elsewhere must rebuild this list.
    engine.emit(ctx.db.id, ['DEL', storeKey], 0);
    for (let i = 0; i < out.length; i += SORT_STORE_PUSH_CHUNK) {
      engine.emit(ctx.db.id, ['RPUSH', storeKey, ...out.slice(i, i + SORT_STORE_PUSH_CHUNK)], i === 0 ? out.length : 0);
    }
  } else if (engine.deleteKey(ctx.db, storeKey)) {
    // Redis' dbDelete: an expired key is deleted as it is (a `del` event, not `expired`).
    ctx.changed(storeKey, NOTIFY.GENERIC, 'del');
    engine.emit(ctx.db.id, argv);
  }
  ctx.reply.integer(outputLen);
}

export const sortCommands: CommandImpl[] = [
  { name: 'sort', run: (ctx, argv) => sortGeneric(ctx, argv, false) },
  { name: 'sort_ro', run: (ctx, argv) => sortGeneric(ctx, argv, true) },
];
