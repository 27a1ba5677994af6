/**
 * List commands (Redis 7.2's t_list.c), blocking ones included. Pops are
 * logged as Redis propagates them: LMPOP and BLMPOP as LPOP/RPOP key count,
 * BLPOP as LPOP key, BLMOVE as LMOVE, so replaying the log removes exactly
 * the same elements and never blocks.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argLong, argMpopCount, argNonNegative, argRange, argTimeout, eq, lookupTyped, LONG_MAX } from './util.js';
import { waitForKeys } from './blocking.js';
import { NOTIFY } from '../engine/engine.js';
import { ListValue } from '../types/list.js';

const MAX_ELEMENT = 4294967295 - 1024;

function fill(ctx: CommandContext): number {
  return ctx.engine.limits.listMaxListpackSize;
}

/** Before `list` takes incoming[from..to]: a listpack that would outgrow one node becomes a quicklist with the configuration of now. */
function grow(ctx: CommandContext, list: ListValue, incoming: readonly string[], from: number, to: number): void {
  const limits = ctx.engine.limits;
  list.prepareGrow(incoming, from, to, limits.listMaxListpackSize, limits.listCompressDepth);
}

/** Redis' listElementsRemoved: notify, delete an emptied list, maybe shrink its encoding. */
function elementsRemoved(ctx: CommandContext, key: string, front: boolean, list: ListValue): void {
  const engine = ctx.engine;
  ctx.changed(key, NOTIFY.LIST, front ? 'lpop' : 'rpop');
  if (list.length === 0) {
    engine.deleteKey(ctx.db, key);
    ctx.changed(key, NOTIFY.GENERIC, 'del');
  } else {
    list.afterShrink(fill(ctx));
  }
}

function push(ctx: CommandContext, argv: string[], front: boolean, onlyExisting: boolean): void {
  for (let j = 2; j < argv.length; j++) {
    if (argv[j]!.length > MAX_ELEMENT) {
      ctx.reply.error('ERR Element too large');
      return;
    }
  }
  const key = argv[1]!;
  let list = lookupTyped<ListValue>(ctx, key, 'list', true);
  if (list === null) return;
  const engine = ctx.engine;
  if (list === undefined) {
    if (onlyExisting) {
      ctx.reply.integer(0);
      return;
    }
    list = new ListValue();
    engine.setKey(ctx.db, key, list);
  }
  grow(ctx, list, argv, 2, argv.length - 1);
  for (let j = 2; j < argv.length; j++) list.push(argv[j]!, front);
  ctx.reply.integer(list.length);
  ctx.changed(key, NOTIFY.LIST, front ? 'lpush' : 'rpush');
  engine.emit(ctx.db.id, argv, argv.length - 2);
}

/** Reply with elements [start, end] (inclusive); reverse walks from the tail. */
function replyRange(ctx: CommandContext, list: ListValue, start: number, end: number, reverse: boolean): void {
  ctx.reply.array(end - start + 1);
  list.emitRange(reverse ? end : start, end - start + 1, reverse, ctx.reply);
}

function pop(ctx: CommandContext, argv: string[], front: boolean): void {
  const hasCount = argv.length === 3;
  if (argv.length > 3) {
    ctx.reply.error(`ERR wrong number of arguments for '${ctx.current!.name}' command`);
    return;
  }
  let count = 0;
  if (hasCount) {
    const n = argNonNegative(ctx, argv[2]!, 'ERR value is out of range, must be positive');
    if (n === null) return;
    count = n;
  }
  const key = argv[1]!;
  const list = lookupTyped<ListValue>(ctx, key, 'list', true);
  if (list === null) return;
  if (list === undefined) {
    if (hasCount) ctx.reply.nullArray();
    else ctx.reply.nullBulk();
    return;
  }
  if (hasCount && count === 0) {
    ctx.reply.array(0);
    return;
  }
  if (!hasCount) {
    ctx.reply.bulk(list.pop(front)!);
    elementsRemoved(ctx, key, front, list);
    ctx.engine.emit(ctx.db.id, argv);
    return;
  }
  const n = Math.min(count, list.length);
  const start = front ? 0 : list.length - n;
  replyRange(ctx, list, start, start + n - 1, !front);
  list.removeRange(start, n);
  elementsRemoved(ctx, key, front, list);
  ctx.engine.emit(ctx.db.id, argv, n);
}

function lrange(ctx: CommandContext, argv: string[]): void {
  let start = argLong(ctx, argv[2]!);
  if (start === null) return;
  let end = argLong(ctx, argv[3]!);
  if (end === null) return;
  const list = lookupTyped<ListValue>(ctx, argv[1]!, 'list', false);
  if (list === null) return;
  if (list === undefined) {
    ctx.reply.array(0);
    return;
  }
  const len = list.length;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) {
    ctx.reply.array(0);
    return;
  }
  if (end >= len) end = len - 1;
  replyRange(ctx, list, start, end, false);
}

function ltrim(ctx: CommandContext, argv: string[]): void {
  let start = argLong(ctx, argv[2]!);
  if (start === null) return;
  let end = argLong(ctx, argv[3]!);
  if (end === null) return;
  const key = argv[1]!;
  const list = lookupTyped<ListValue>(ctx, key, 'list', true);
  if (list === null) return;
  if (list === undefined) {
    ctx.reply.ok();
    return;
  }
  const len = list.length;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  let left: number;
  let right: number;
  if (start > end || start >= len) {
    left = len;
    right = 0;
  } else {
    if (end >= len) end = len - 1;
    left = start;
    right = len - end - 1;
  }
  list.removeRange(0, left);
  list.removeRange(list.length - right, right);
  const engine = ctx.engine;
  ctx.changed(key, NOTIFY.LIST, 'ltrim');
  if (list.length === 0) {
    engine.deleteKey(ctx.db, key);
    ctx.changed(key, NOTIFY.GENERIC, 'del');
  } else {
    list.afterShrink(fill(ctx));
  }
  if (left + right > 0) engine.emit(ctx.db.id, argv, left + right);
  ctx.reply.ok();
}

function lindex(ctx: CommandContext, argv: string[]): void {
  const list = lookupTyped<ListValue>(ctx, argv[1]!, 'list', false);
  if (list === null) return;
  if (list === undefined) {
    ctx.reply.nullBulk();
    return;
  }
  let index = argLong(ctx, argv[2]!);
  if (index === null) return;
  if (index < 0) index = list.length + index;
  if (index < 0 || index >= list.length) ctx.reply.nullBulk();
  else ctx.reply.bulk(list.get(index));
}

function lset(ctx: CommandContext, argv: string[]): void {
  const key = argv[1]!;
  const list = lookupTyped<ListValue>(ctx, key, 'list', true);
  if (list === null) return;
  if (list === undefined) {
    ctx.reply.error(ERR.NO_SUCH_KEY);
    return;
  }
  let index = argLong(ctx, argv[2]!);
  if (index === null) return;
  const value = argv[3]!;
  grow(ctx, list, argv, 3, 3);
  if (index < 0) index = list.length + index;
  if (index < 0 || index >= list.length) {
    ctx.reply.error(ERR.OUT_OF_RANGE);
    return;
  }
  list.set(index, value);
  list.afterShrink(fill(ctx));
  const engine = ctx.engine;
  ctx.changed(key, NOTIFY.LIST, 'lset');
  engine.emit(ctx.db.id, argv);
  ctx.reply.ok();
}

function linsert(ctx: CommandContext, argv: string[]): void {
  const where = argv[2]!.toLowerCase();
  if (where !== 'before' && where !== 'after') {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  const key = argv[1]!;
  const list = lookupTyped<ListValue>(ctx, key, 'list', true);
  if (list === null) return;
  if (list === undefined) {
    ctx.reply.integer(0);
    return;
  }
  // Like Redis, the list is prepared for the insert before the pivot is found.
  grow(ctx, list, argv, 4, 4);
  const pivot = argv[3]!;
  let at = -1;
  list.walk(0, false, (s, i) => {
    if (s === pivot) {
      at = i;
      return false;
    }
    return true;
  });
  if (at < 0) {
    ctx.reply.integer(-1);
    return;
  }
  list.insertBefore(where === 'before' ? at : at + 1, argv[4]!);
  const engine = ctx.engine;
  ctx.changed(key, NOTIFY.LIST, 'linsert');
  engine.emit(ctx.db.id, argv);
  ctx.reply.integer(list.length);
}

function lrem(ctx: CommandContext, argv: string[]): void {
  let toRemove = argLong(ctx, argv[2]!);
  if (toRemove === null) return;
  const key = argv[1]!;
  const list = lookupTyped<ListValue>(ctx, key, 'list', true);
  if (list === null) return;
  if (list === undefined) {
    ctx.reply.integer(0);
    return;
  }
  const element = argv[3]!;
  const fromTail = toRemove < 0;
  if (fromTail) toRemove = -toRemove;
  const doomed: number[] = [];
  list.walk(fromTail ? list.length - 1 : 0, fromTail, (s, i) => {
    if (s === element) {
      doomed.push(i);
      if (toRemove !== 0 && doomed.length === toRemove) return false;
    }
    return true;
  });
  // Remove from the highest index down so earlier indexes stay valid.
  doomed.sort((a, b) => b - a);
  for (const i of doomed) list.removeAt(i);
  const removed = doomed.length;
  const engine = ctx.engine;
  if (removed > 0) ctx.changed(key, NOTIFY.LIST, 'lrem');
  if (list.length === 0) {
    engine.deleteKey(ctx.db, key);
    ctx.changed(key, NOTIFY.GENERIC, 'del');
  } else if (removed > 0) {
    list.afterShrink(fill(ctx));
  }
  if (removed > 0) engine.emit(ctx.db.id, argv, removed);
  ctx.reply.integer(removed);
}

function lpos(ctx: CommandContext, argv: string[]): void {
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const moreArgs = argv.length - 1 - j;
    if (opt === 'rank' && moreArgs > 0) {
      const r = argRange(ctx, argv[++j]!, -LONG_MAX, LONG_MAX);
      if (r === null) return;
      if (r === 0) {
        ctx.reply.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
        return;
      }
      rank = r;
    } else if (opt === 'count' && moreArgs > 0) {
      const n = argNonNegative(ctx, argv[++j]!, "ERR COUNT can't be negative");
      if (n === null) return;
      count = n;
    } else if (opt === 'maxlen' && moreArgs > 0) {
      const n = argNonNegative(ctx, argv[++j]!, "ERR MAXLEN can't be negative");
      if (n === null) return;
      maxlen = n;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const fromTail = rank < 0;
  if (fromTail) rank = -rank;
  const list = ctx.engine.lookupRead(ctx.db, argv[1]!);
  if (list === undefined) {
    if (count !== -1) ctx.reply.array(0);
    else ctx.reply.nullBulk();
    return;
  }
  if (!(list instanceof ListValue)) {
    ctx.reply.error(ERR.WRONGTYPE);
    return;
  }
  const element = argv[2]!;
  const found: number[] = [];
  let matches = 0;
  let scanned = 0;
  list.walk(fromTail ? list.length - 1 : 0, fromTail, (s, i) => {
    if (maxlen !== 0 && scanned >= maxlen) return false;
    scanned++;
    if (s !== element) return true;
    matches++;
    if (matches < rank) return true;
    found.push(i);
    if (count === -1) return false;
    return !(count !== 0 && matches - rank + 1 >= count);
  });
  if (count !== -1) {
    ctx.reply.array(found.length);
    for (const i of found) ctx.reply.integer(i);
  } else if (found.length > 0) ctx.reply.integer(found[0]!);
  else ctx.reply.nullBulk();
}

/** LMOVE's LEFT|RIGHT: true for the head. */
function parseEnd(ctx: CommandContext, arg: string): boolean | null {
  if (eq(arg, 'left')) return true;
  if (eq(arg, 'right')) return false;
  ctx.reply.error(ERR.SYNTAX);
  return null;
}

/** LMOVE src dst LEFT|RIGHT LEFT|RIGHT, and BLMOVE with its timeout after the two ends. */
function lmove(ctx: CommandContext, argv: string[], blocking: boolean): void {
  const from = parseEnd(ctx, argv[3]!);
  if (from === null) return;
  const to = parseEnd(ctx, argv[4]!);
  if (to === null) return;
  if (!blocking) {
    lmoveGeneric(ctx, argv, from, to);
    return;
  }
  const deadline = argTimeout(ctx, argv[5]!, 'seconds');
  if (deadline !== null) lmoveGeneric(ctx, argv, from, to, deadline);
}

/** LMOVE/RPOPLPUSH, and BLMOVE/BRPOPLPUSH with a `deadline` (logged as their non-blocking forms). */
function lmoveGeneric(ctx: CommandContext, argv: string[], fromFront: boolean, toFront: boolean, deadline: number | null = null): void {
  const src = argv[1]!;
  const dst = argv[2]!;
  const from = lookupTyped<ListValue>(ctx, src, 'list', true);
  if (from === null) return;
  if (from === undefined || from.length === 0) {
    if (deadline === null) ctx.reply.nullBulk();
    else waitForKeys(ctx, { keys: [src], type: 'list', timedOut: () => ctx.reply.nullArray() }, deadline, () => ctx.reply.nullBulk());
    return;
  }
  let to = lookupTyped<ListValue>(ctx, dst, 'list', true);
  if (to === null) return;
  const engine = ctx.engine;
  const value = from.pop(fromFront)!;
  if (to === undefined) {
    to = new ListValue();
    engine.setKey(ctx.db, dst, to);
  }
  grow(ctx, to, [value], 0, 0);
  to.push(value, toFront);
  ctx.changed(dst, NOTIFY.LIST, toFront ? 'lpush' : 'rpush');
  ctx.reply.bulk(value);
  elementsRemoved(ctx, src, fromFront, from);
  if (deadline === null) engine.emit(ctx.db.id, argv);
  else if (argv.length === 4) engine.emit(ctx.db.id, ['RPOPLPUSH', src, dst]);
  else engine.emit(ctx.db.id, ['LMOVE', src, dst, fromFront ? 'LEFT' : 'RIGHT', toFront ? 'LEFT' : 'RIGHT']);
}

/** LMPOP numkeys key... LEFT|RIGHT [COUNT n]; BLMPOP timeout numkeys ... (`blocking`). */
function lmpop(ctx: CommandContext, argv: string[], blocking = false): void {
  const first = blocking ? 2 : 1;
  const numkeys = argRange(ctx, argv[first]!, 1, LONG_MAX, 'ERR numkeys should be greater than 0');
  if (numkeys === null) return;
  const whereIdx = first + numkeys + 1;
  if (whereIdx >= argv.length) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  const front = parseEnd(ctx, argv[whereIdx]!);
  if (front === null) return;
  const count = argMpopCount(ctx, argv, whereIdx + 1);
  if (count === null) return;
  // As in Redis, BLMPOP reads its timeout after the other arguments.
  const deadline = blocking ? argTimeout(ctx, argv[1]!, 'seconds') : 0;
  if (deadline === null) return;
  const keys = argv.slice(first + 1, first + 1 + numkeys);
  for (const key of keys) {
    const list = lookupTyped<ListValue>(ctx, key, 'list', true);
    if (list === null) return;
    if (list === undefined || list.length === 0) continue;
    const n = Math.min(count, list.length);
    const start = front ? 0 : list.length - n;
    ctx.reply.array(2);
    ctx.reply.bulk(key);
    replyRange(ctx, list, start, start + n - 1, !front);
    list.removeRange(start, n);
    elementsRemoved(ctx, key, front, list);
    ctx.engine.emit(ctx.db.id, [front ? 'LPOP' : 'RPOP', key, String(n)], n);
    return;
  }
  if (!blocking) ctx.reply.nullArray();
  else waitForKeys(ctx, { keys, type: 'list', timedOut: () => ctx.reply.nullArray() }, deadline);
}

/** BLPOP/BRPOP key [key ...] timeout: [key, element] from the first non-empty list, logged as LPOP/RPOP key. */
function bpop(ctx: CommandContext, argv: string[], front: boolean): void {
  const deadline = argTimeout(ctx, argv[argv.length - 1]!, 'seconds');
  if (deadline === null) return;
  const keys = argv.slice(1, -1);
  for (const key of keys) {
    const list = lookupTyped<ListValue>(ctx, key, 'list', true);
    if (list === null) return;
    if (list === undefined || list.length === 0) continue;
    ctx.reply.array(2);
    ctx.reply.bulk(key);
    ctx.reply.bulk(list.pop(front)!);
    elementsRemoved(ctx, key, front, list);
    ctx.engine.emit(ctx.db.id, [front ? 'LPOP' : 'RPOP', key]);
    return;
  }
  waitForKeys(ctx, { keys, type: 'list', timedOut: () => ctx.reply.nullArray() }, deadline);
}

export const listCommands: CommandImpl[] = [
  { name: 'lpush', run: (ctx, argv) => push(ctx, argv, true, false) },
  { name: 'rpush', run: (ctx, argv) => push(ctx, argv, false, false) },
  { name: 'lpushx', run: (ctx, argv) => push(ctx, argv, true, true) },
  { name: 'rpushx', run: (ctx, argv) => push(ctx, argv, false, true) },
  { name: 'lpop', run: (ctx, argv) => pop(ctx, argv, true) },
  { name: 'rpop', run: (ctx, argv) => pop(ctx, argv, false) },
  {
    name: 'llen',
    run(ctx, argv) {
      const list = lookupTyped<ListValue>(ctx, argv[1]!, 'list', false);
      if (list !== null) ctx.reply.integer(list === undefined ? 0 : list.length);
    },
  },
  { name: 'lrange', run: lrange },
  { name: 'ltrim', run: ltrim },
  { name: 'lindex', run: lindex },
  { name: 'lset', run: lset },
  { name: 'linsert', run: linsert },
  { name: 'lrem', run: lrem },
  { name: 'lpos', run: lpos },
  { name: 'lmove', run: (ctx, argv) => lmove(ctx, argv, false) },
  { name: 'rpoplpush', run: (ctx, argv) => lmoveGeneric(ctx, argv, false, true) },
  { name: 'lmpop', run: (ctx, argv) => lmpop(ctx, argv) },
  { name: 'blpop', run: (ctx, argv) => bpop(ctx, argv, true) },
  { name: 'brpop', run: (ctx, argv) => bpop(ctx, argv, false) },
  { name: 'blmpop', run: (ctx, argv) => lmpop(ctx, argv, true) },
  { name: 'blmove', run: (ctx, argv) => lmove(ctx, argv, true) },
  {
    name: 'brpoplpush',
    run(ctx, argv) {
      const deadline = argTimeout(ctx, argv[3]!, 'seconds');
      if (deadline !== null) lmoveGeneric(ctx, argv, false, true, deadline);
    },
  },
];
