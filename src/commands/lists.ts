/**
 * List commands (Redis 7.2's t_list.c). Pops are logged as Redis
 * propagates them: LMPOP as LPOP/RPOP key count, so replaying the log
 * removes exactly the same elements.
 */

import type { CommandImpl } from './table.js';
import type { Client } from '../server/client.js';
import { ERR, argLong, argMpopCount, argNonNegative, argRange, eq, lookupTyped, LONG_MAX } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import { ListValue } from '../types/list.js';

const MAX_ELEMENT = 4294967295 - 1024;

function fill(c: Client): number {
  return c.engine.limits.listMaxListpackSize;
}

/** Redis' listElementsRemoved: notify, delete an emptied list, maybe shrink its encoding. */
function elementsRemoved(c: Client, key: string, front: boolean, list: ListValue): void {
  const engine = c.engine;
  engine.notify(NOTIFY.LIST, front ? 'lpop' : 'rpop', key, c.db.id);
  if (list.length === 0) {
    engine.deleteKey(c.db, key);
    engine.notify(NOTIFY.GENERIC, 'del', key, c.db.id);
  } else {
    list.afterShrink(fill(c));
    engine.modified(c.db, key);
  }
}

function push(c: Client, argv: string[], front: boolean, onlyExisting: boolean): void {
  for (let j = 2; j < argv.length; j++) {
    if (argv[j]!.length > MAX_ELEMENT) {
      c.reply.error('ERR Element too large');
      return;
    }
  }
  const key = argv[1]!;
  let list = lookupTyped<ListValue>(c, key, 'list', true);
  if (list === null) return;
  const engine = c.engine;
  if (list === undefined) {
    if (onlyExisting) {
      c.reply.integer(0);
      return;
    }
    list = new ListValue();
    engine.setKey(c.db, key, list);
  }
  const f = fill(c);
  list.prepareGrow(argv, 2, argv.length - 1, f);
  for (let j = 2; j < argv.length; j++) list.push(argv[j]!, front, f);
  c.reply.integer(list.length);
  engine.modified(c.db, key);
  engine.notify(NOTIFY.LIST, front ? 'lpush' : 'rpush', key, c.db.id);
  engine.emit(c.db.id, argv, argv.length - 2);
}

/** Reply with elements [start, end] (inclusive); reverse walks from the tail. */
function replyRange(c: Client, list: ListValue, start: number, end: number, reverse: boolean): void {
  c.reply.array(end - start + 1);
  list.emitRange(reverse ? end : start, end - start + 1, reverse, c.reply);
}

function pop(c: Client, argv: string[], front: boolean): void {
  const hasCount = argv.length === 3;
  if (argv.length > 3) {
    c.reply.error(`ERR wrong number of arguments for '${c.current!.name}' command`);
    return;
  }
  let count = 0;
  if (hasCount) {
    const n = argNonNegative(c, argv[2]!, 'ERR value is out of range, must be positive');
    if (n === null) return;
    count = n;
  }
  const key = argv[1]!;
  const list = lookupTyped<ListValue>(c, key, 'list', true);
  if (list === null) return;
  if (list === undefined) {
    if (hasCount) c.reply.nullArray();
    else c.reply.nullBulk();
    return;
  }
  if (hasCount && count === 0) {
    c.reply.array(0);
    return;
  }
  if (!hasCount) {
    c.reply.bulk(list.pop(front)!);
    elementsRemoved(c, key, front, list);
    c.engine.emit(c.db.id, argv);
    return;
  }
  const n = Math.min(count, list.length);
  const start = front ? 0 : list.length - n;
  replyRange(c, list, start, start + n - 1, !front);
  list.removeRange(start, n);
  elementsRemoved(c, key, front, list);
  c.engine.emit(c.db.id, argv, n);
}

function lrange(c: Client, argv: string[]): void {
  let start = argLong(c, argv[2]!);
  if (start === null) return;
  let end = argLong(c, argv[3]!);
  if (end === null) return;
  const list = lookupTyped<ListValue>(c, argv[1]!, 'list', false);
  if (list === null) return;
  if (list === undefined) {
    c.reply.array(0);
    return;
  }
  const len = list.length;
  if (start < 0) start = len + start;
  if (end < 0) end = len + end;
  if (start < 0) start = 0;
  if (start > end || start >= len) {
    c.reply.array(0);
    return;
  }
  if (end >= len) end = len - 1;
  replyRange(c, list, start, end, false);
}

function ltrim(c: Client, argv: string[]): void {
  let start = argLong(c, argv[2]!);
  if (start === null) return;
  let end = argLong(c, argv[3]!);
  if (end === null) return;
  const key = argv[1]!;
  const list = lookupTyped<ListValue>(c, key, 'list', true);
  if (list === null) return;
  if (list === undefined) {
    c.reply.ok();
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
  const engine = c.engine;
  engine.notify(NOTIFY.LIST, 'ltrim', key, c.db.id);
  if (list.length === 0) {
    engine.deleteKey(c.db, key);
    engine.notify(NOTIFY.GENERIC, 'del', key, c.db.id);
  } else {
    list.afterShrink(fill(c));
  }
  engine.modified(c.db, key);
  if (left + right > 0) engine.emit(c.db.id, argv, left + right);
  c.reply.ok();
}

function lindex(c: Client, argv: string[]): void {
  const list = lookupTyped<ListValue>(c, argv[1]!, 'list', false);
  if (list === null) return;
  if (list === undefined) {
    c.reply.nullBulk();
    return;
  }
  let index = argLong(c, argv[2]!);
  if (index === null) return;
  if (index < 0) index = list.length + index;
  if (index < 0 || index >= list.length) c.reply.nullBulk();
  else c.reply.bulk(list.get(index));
}

function lset(c: Client, argv: string[]): void {
  const key = argv[1]!;
  const list = lookupTyped<ListValue>(c, key, 'list', true);
  if (list === null) return;
  if (list === undefined) {
    c.reply.error(ERR.NO_SUCH_KEY);
    return;
  }
  let index = argLong(c, argv[2]!);
  if (index === null) return;
  const value = argv[3]!;
  const f = fill(c);
  list.prepareGrow(argv, 3, 3, f);
  if (index < 0) index = list.length + index;
  if (index < 0 || index >= list.length) {
    c.reply.error(ERR.OUT_OF_RANGE);
    return;
  }
  list.set(index, value, f);
  list.afterShrink(f);
  const engine = c.engine;
  engine.modified(c.db, key);
  engine.notify(NOTIFY.LIST, 'lset', key, c.db.id);
  engine.emit(c.db.id, argv);
  c.reply.ok();
}

function linsert(c: Client, argv: string[]): void {
  const where = argv[2]!.toLowerCase();
  if (where !== 'before' && where !== 'after') {
    c.reply.error(ERR.SYNTAX);
    return;
  }
  const key = argv[1]!;
  const list = lookupTyped<ListValue>(c, key, 'list', true);
  if (list === null) return;
  if (list === undefined) {
    c.reply.integer(0);
    return;
  }
  const f = fill(c);
  // Like Redis, the list is prepared for the insert before the pivot is found.
  list.prepareGrow(argv, 4, 4, f);
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
    c.reply.integer(-1);
    return;
  }
  list.insertBefore(where === 'before' ? at : at + 1, argv[4]!, f);
  const engine = c.engine;
  engine.modified(c.db, key);
  engine.notify(NOTIFY.LIST, 'linsert', key, c.db.id);
  engine.emit(c.db.id, argv);
  c.reply.integer(list.length);
}

function lrem(c: Client, argv: string[]): void {
  let toRemove = argLong(c, argv[2]!);
  if (toRemove === null) return;
  const key = argv[1]!;
  const list = lookupTyped<ListValue>(c, key, 'list', true);
  if (list === null) return;
  if (list === undefined) {
    c.reply.integer(0);
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
  const engine = c.engine;
  if (removed > 0) engine.notify(NOTIFY.LIST, 'lrem', key, c.db.id);
  if (list.length === 0) {
    engine.deleteKey(c.db, key);
    engine.notify(NOTIFY.GENERIC, 'del', key, c.db.id);
  } else if (removed > 0) {
    list.afterShrink(fill(c));
    engine.modified(c.db, key);
  }
  if (removed > 0) engine.emit(c.db.id, argv, removed);
  c.reply.integer(removed);
}

function lpos(c: Client, argv: string[]): void {
  let rank = 1;
  let count = -1;
  let maxlen = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    const moreArgs = argv.length - 1 - j;
    if (opt === 'rank' && moreArgs > 0) {
      const r = argRange(c, argv[++j]!, -LONG_MAX, LONG_MAX);
      if (r === null) return;
      if (r === 0) {
        c.reply.error("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list");
        return;
      }
      rank = r;
    } else if (opt === 'count' && moreArgs > 0) {
      const n = argNonNegative(c, argv[++j]!, "ERR COUNT can't be negative");
      if (n === null) return;
      count = n;
    } else if (opt === 'maxlen' && moreArgs > 0) {
      const n = argNonNegative(c, argv[++j]!, "ERR MAXLEN can't be negative");
      if (n === null) return;
      maxlen = n;
    } else {
      c.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const fromTail = rank < 0;
  if (fromTail) rank = -rank;
  const list = c.engine.lookupRead(c.db, argv[1]!);
  if (list === undefined) {
    if (count !== -1) c.reply.array(0);
    else c.reply.nullBulk();
    return;
  }
  if (!(list instanceof ListValue)) {
    c.reply.error(ERR.WRONGTYPE);
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
    c.reply.array(found.length);
    for (const i of found) c.reply.integer(i);
  } else if (found.length > 0) c.reply.integer(found[0]!);
  else c.reply.nullBulk();
}

/** LMOVE's LEFT|RIGHT: true for the head. */
function parseEnd(c: Client, arg: string): boolean | null {
  if (eq(arg, 'left')) return true;
  if (eq(arg, 'right')) return false;
  c.reply.error(ERR.SYNTAX);
  return null;
}

function lmoveGeneric(c: Client, argv: string[], fromFront: boolean, toFront: boolean): void {
  const src = argv[1]!;
  const dst = argv[2]!;
  const from = lookupTyped<ListValue>(c, src, 'list', true);
  if (from === null) return;
  if (from === undefined || from.length === 0) {
    c.reply.nullBulk();
    return;
  }
  let to = lookupTyped<ListValue>(c, dst, 'list', true);
  if (to === null) return;
  const engine = c.engine;
  const value = from.pop(fromFront)!;
  if (to === undefined) {
    to = new ListValue();
    engine.setKey(c.db, dst, to);
  }
  engine.modified(c.db, dst);
  const f = fill(c);
  to.prepareGrow([value], 0, 0, f);
  to.push(value, toFront, f);
  engine.notify(NOTIFY.LIST, toFront ? 'lpush' : 'rpush', dst, c.db.id);
  c.reply.bulk(value);
  elementsRemoved(c, src, fromFront, from);
  engine.modified(c.db, src);
  engine.emit(c.db.id, argv);
}

function lmpop(c: Client, argv: string[]): void {
  const numkeys = argRange(c, argv[1]!, 1, LONG_MAX, 'ERR numkeys should be greater than 0');
  if (numkeys === null) return;
  const whereIdx = 1 + numkeys + 1;
  if (whereIdx >= argv.length) {
    c.reply.error(ERR.SYNTAX);
    return;
  }
  const front = parseEnd(c, argv[whereIdx]!);
  if (front === null) return;
  const count = argMpopCount(c, argv, whereIdx + 1);
  if (count === null) return;
  for (let k = 2; k < 2 + numkeys; k++) {
    const key = argv[k]!;
    const list = lookupTyped<ListValue>(c, key, 'list', true);
    if (list === null) return;
    if (list === undefined || list.length === 0) continue;
    const n = Math.min(count, list.length);
    const start = front ? 0 : list.length - n;
    c.reply.array(2);
    c.reply.bulk(key);
    replyRange(c, list, start, start + n - 1, !front);
    list.removeRange(start, n);
    elementsRemoved(c, key, front, list);
    c.engine.emit(c.db.id, [front ? 'LPOP' : 'RPOP', key, String(n)], n);
    return;
  }
  c.reply.nullArray();
}

export const listCommands: CommandImpl[] = [
  { name: 'lpush', run: (c, argv) => push(c, argv, true, false) },
  { name: 'rpush', run: (c, argv) => push(c, argv, false, false) },
  { name: 'lpushx', run: (c, argv) => push(c, argv, true, true) },
  { name: 'rpushx', run: (c, argv) => push(c, argv, false, true) },
  { name: 'lpop', run: (c, argv) => pop(c, argv, true) },
  { name: 'rpop', run: (c, argv) => pop(c, argv, false) },
  {
    name: 'llen',
    run(c, argv) {
      const list = lookupTyped<ListValue>(c, argv[1]!, 'list', false);
      if (list !== null) c.reply.integer(list === undefined ? 0 : list.length);
    },
  },
  { name: 'lrange', run: lrange },
  { name: 'ltrim', run: ltrim },
  { name: 'lindex', run: lindex },
  { name: 'lset', run: lset },
  { name: 'linsert', run: linsert },
  { name: 'lrem', run: lrem },
  { name: 'lpos', run: lpos },
  {
    name: 'lmove',
    run(c, argv) {
      const from = parseEnd(c, argv[3]!);
      if (from === null) return;
      const to = parseEnd(c, argv[4]!);
      if (to === null) return;
      lmoveGeneric(c, argv, from, to);
    },
  },
  { name: 'rpoplpush', run: (c, argv) => lmoveGeneric(c, argv, false, true) },
  { name: 'lmpop', run: lmpop },
];
