/**
 * Generic keyspace commands (Redis' db.c and expire.c): DEL, EXISTS, TYPE,
 * KEYS, SCAN, RENAME, COPY, MOVE, OBJECT, the EXPIRE family, TTL family.
 */

import type { AccessPolicy } from '../engine/access.js';
import type { CommandImpl } from './table.js';
import type { Client } from '../server/client.js';
import { ERR, argDbIndex, argLong, eq, replyHelp, cstr } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import { cloneValue, encodingOf, typeOf, type Value } from '../types/value.js';
import { globMatcher } from '../util/glob.js';
import { parseInteger, parseStrtoul } from '../util/numbers.js';
import type { Db } from '../engine/keyspace.js';

function delGeneric(c: Client, argv: string[]): void {
  const engine = c.engine;
  const db = c.db;
  let deleted = 0;
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i]!;
    if (engine.lookupWrite(db, key) === undefined) continue;
    engine.deleteKey(db, key);
    engine.notify(NOTIFY.GENERIC, 'del', key, db.id);
    deleted++;
  }
  if (deleted > 0) engine.emit(db.id, argv, deleted);
  c.reply.integer(deleted);
}

function exists(c: Client, argv: string[]): void {
  let count = 0;
  for (let i = 1; i < argv.length; i++) if (c.engine.lookupRead(c.db, argv[i]!, false) !== undefined) count++;
  c.reply.integer(count);
}

function type(c: Client, argv: string[]): void {
  const v = c.engine.lookupRead(c.db, argv[1]!, false);
  c.reply.simple(v === undefined ? 'none' : typeOf(v));
}

function keys(c: Client, argv: string[]): void {
  const match = globMatcher(argv[1]!);
  const engine = c.engine;
  const db = c.db;
  const out: string[] = [];
  for (const key of db.keys()) {
    if (match(key) && !engine.isExpired(db, key)) out.push(key);
  }
  c.reply.array(out.length);
  for (const k of out) c.reply.bulk(k);
}

/** Parse a SCAN cursor (any unsigned 64-bit value); null after replying. */
export function parseCursor(c: Client, raw: string): bigint | null {
  const cur = parseStrtoul(raw);
  if (cur === null) c.reply.error('ERR invalid cursor');
  return cur;
}

function scan(c: Client, argv: string[]): void {
  const cursor = parseCursor(c, argv[1]!);
  if (cursor === null) return;
  let count = 10;
  let pattern: string | null = null;
  let typeName: string | null = null;
  for (let i = 2; i < argv.length; ) {
    const moreArgs = argv.length - i - 1;
    const opt = argv[i]!;
    if (eq(opt, 'count') && moreArgs >= 1) {
      const n = argLong(c, argv[i + 1]!);
      if (n === null) return;
      if (n < 1) {
        c.reply.error(ERR.SYNTAX);
        return;
      }
      count = n;
      i += 2;
    } else if (eq(opt, 'match') && moreArgs >= 1) {
      pattern = argv[i + 1]!;
      i += 2;
    } else if (eq(opt, 'type') && moreArgs >= 1) {
      typeName = argv[i + 1]!.toLowerCase();
      i += 2;
    } else {
      c.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const engine = c.engine;
  const db = c.db;
  const keysFound: string[] = [];
  // The cursor is the next hash slot to visit; anything else ends the scan.
  const next = cursor >= 16384n ? 0 : db.scan(Number(cursor), count, keysFound);
  const match = pattern === null ? null : globMatcher(pattern);
  const out: string[] = [];
  for (const key of keysFound) {
    if (match !== null && !match(key)) continue;
    if (typeName !== null) {
      const v = db.get(key);
      if (v === undefined || typeOf(v) !== typeName) continue;
    }
    if (engine.expireIfNeeded(db, key)) continue;
    out.push(key);
  }
  c.reply.array(2);
  c.reply.bulk(String(next));
  c.reply.array(out.length);
  for (const k of out) c.reply.bulk(k);
}

function randomkey(c: Client): void {
  const engine = c.engine;
  const db = c.db;
  // Expired keys found on the way are deleted; a replica gives up after a while.
  for (let tries = 0; tries < 100 || !engine.isReplica; tries++) {
    const key = db.randomKey();
    if (key === undefined) break;
    if (!engine.isExpired(db, key)) {
      c.reply.bulk(key);
      return;
    }
    if (engine.isReplica) continue;
    engine.deleteExpired(db, key);
  }
  c.reply.nullBulk();
}

function renameGeneric(c: Client, argv: string[], nx: boolean): void {
  const engine = c.engine;
  const db = c.db;
  const src = argv[1]!;
  const dst = argv[2]!;
  const v = engine.lookupWrite(db, src);
  if (v === undefined) {
    c.reply.error(ERR.NO_SUCH_KEY);
    return;
  }
  if (src === dst) {
    if (nx) c.reply.integer(0);
    else c.reply.ok();
    return;
  }
  const when = db.getExpire(src);
  if (engine.lookupWrite(db, dst) !== undefined) {
    if (nx) {
      c.reply.integer(0);
      return;
    }
    engine.deleteKey(db, dst);
  }
  db.delete(src);
  db.set(dst, v);
  if (when >= 0) db.setExpire(dst, when);
  engine.modified(db, src);
  engine.modified(db, dst);
  engine.notify(NOTIFY.GENERIC, 'rename_from', src, db.id);
  engine.notify(NOTIFY.GENERIC, 'rename_to', dst, db.id);
  engine.emit(db.id, argv);
  if (nx) c.reply.integer(1);
  else c.reply.ok();
}

function copy(c: Client, argv: string[]): void {
  const engine = c.engine;
  const src = argv[1]!;
  const dst = argv[2]!;
  let target: Db = c.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const moreArgs = argv.length - 1 - j;
    if (eq(argv[j]!, 'replace')) replace = true;
    else if (eq(argv[j]!, 'db') && moreArgs >= 1) {
      const id = argDbIndex(c, argv[j + 1]!);
      if (id === null) return;
      target = engine.dbs[id]!;
      j++;
    } else {
      c.reply.error(ERR.SYNTAX);
      return;
    }
  }
  if (src === dst && target === c.db) {
    c.reply.error(ERR.SAME_OBJECT);
    return;
  }
  const v = engine.lookupRead(c.db, src);
  if (v === undefined) {
    c.reply.integer(0);
    return;
  }
  const when = c.db.getExpire(src);
  if (engine.lookupWrite(target, dst) !== undefined) {
    if (!replace) {
      c.reply.integer(0);
      return;
    }
    engine.deleteKey(target, dst);
  }
  target.set(dst, cloneValue(v));
  if (when >= 0) target.setExpire(dst, when);
  engine.modified(target, dst);
  engine.notify(NOTIFY.GENERIC, 'copy_to', dst, target.id);
  engine.emit(c.db.id, argv);
  c.reply.integer(1);
}

function move(c: Client, argv: string[]): void {
  const engine = c.engine;
  const key = argv[1]!;
  const id = argDbIndex(c, argv[2]!);
  if (id === null) return;
  const src = c.db;
  const dst = engine.dbs[id]!;
  if (src === dst) {
    c.reply.error(ERR.SAME_OBJECT);
    return;
  }
  const v = engine.lookupWrite(src, key);
  if (v === undefined) {
    c.reply.integer(0);
    return;
  }
  const when = src.getExpire(key);
  if (engine.lookupWrite(dst, key) !== undefined) {
    c.reply.integer(0);
    return;
  }
  dst.set(key, v);
  if (when >= 0) dst.setExpire(key, when);
  src.delete(key);
  engine.modified(src, key);
  engine.modified(dst, key);
  engine.notify(NOTIFY.GENERIC, 'move_from', key, src.id);
  engine.notify(NOTIFY.GENERIC, 'move_to', key, dst.id);
  engine.emit(src.id, argv);
  c.reply.integer(1);
}

function touch(c: Client, argv: string[]): void {
  let count = 0;
  for (let i = 1; i < argv.length; i++) if (c.engine.lookupRead(c.db, argv[i]!) !== undefined) count++;
  c.reply.integer(count);
}

// ---- OBJECT ---------------------------------------------------------------------------

/** Redis shares the objects of small integers (0..9999): OBJECT REFCOUNT reports INT_MAX for them. */
export function objectRefcount(access: AccessPolicy, v: Value): number {
  return access.isShared(v) ? 2147483647 : 1;
}

/** objectCommandLookup: a read lookup that leaves the access time alone. */
function objectLookup(c: Client, key: string): Value | undefined {
  const v = c.engine.lookupRead(c.db, key, false);
  if (v === undefined) c.reply.nullBulk();
  return v;
}

const objectCommands: CommandImpl[] = [
  {
    name: 'object|encoding',
    run(c, argv) {
      const v = objectLookup(c, argv[2]!);
      if (v !== undefined) c.reply.bulk(encodingOf(v));
    },
  },
  {
    name: 'object|refcount',
    run(c, argv) {
      const v = objectLookup(c, argv[2]!);
      if (v !== undefined) c.reply.integer(objectRefcount(c.engine.access, v));
    },
  },
  {
    name: 'object|idletime',
    run(c, argv) {
      const v = objectLookup(c, argv[2]!);
      if (v === undefined) return;
      const access = c.engine.access;
      if (access.lfu) {
        c.reply.error('ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
        return;
      }
      c.reply.integer(access.idleSeconds(c.db.accessWord(argv[2]!, v)));
    },
  },
  {
    name: 'object|freq',
    run(c, argv) {
      const v = objectLookup(c, argv[2]!);
      if (v === undefined) return;
      const access = c.engine.access;
      if (!access.lfu) {
        c.reply.error('ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
        return;
      }
      c.reply.integer(access.lfuDecayed(c.db.accessWord(argv[2]!, v)));
    },
  },
  {
    name: 'object|help',
    run(c) {
      replyHelp(c, 'OBJECT', [
        'ENCODING <key>',
        '    Return the kind of internal representation used in order to store the value',
        '    associated with a <key>.',
        'FREQ <key>',
        '    Return the access frequency index of the <key>. The returned integer is',
        '    proportional to the logarithm of the recent access frequency of the key.',
        'IDLETIME <key>',
        '    Return the idle time of the <key>, that is the approximated number of',
        '    seconds elapsed since the last access to the key.',
        'REFCOUNT <key>',
        '    Return the number of references of the value associated with the specified',
        '    <key>.',
      ]);
    },
  },
];

// ---- expiry -------------------------------------------------------------------------------

const EXPIRE_NX = 1;
const EXPIRE_XX = 2;
const EXPIRE_GT = 4;
const EXPIRE_LT = 8;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** Redis' expireGenericCommand. basetime: 0 for absolute forms; unit: 1000 for seconds. */
function expireGeneric(c: Client, argv: string[], relative: boolean, unitMs: 1 | 1000): void {
  const engine = c.engine;
  const db = c.db;
  const key = argv[1]!;
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    if (opt === 'nx') flags |= EXPIRE_NX;
    else if (opt === 'xx') flags |= EXPIRE_XX;
    else if (opt === 'gt') flags |= EXPIRE_GT;
    else if (opt === 'lt') flags |= EXPIRE_LT;
    else {
      c.reply.error(`ERR Unsupported option ${cstr(argv[j]!)}`);
      return;
    }
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    c.reply.error('ERR NX and XX, GT or LT options at the same time are not compatible');
    return;
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) {
    c.reply.error('ERR GT and LT options at the same time are not compatible');
    return;
  }
  const parsed = parseInteger(argv[2]!);
  if (parsed === null) {
    c.reply.error(ERR.NOT_INTEGER);
    return;
  }
  let when = BigInt(parsed);
  const invalid = `ERR invalid expire time in '${c.current!.name}' command`;
  if (unitMs === 1000) {
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) {
      c.reply.error(invalid);
      return;
    }
    when *= 1000n;
  }
  const base = relative ? BigInt(engine.now) : 0n;
  if (when > INT64_MAX - base) {
    c.reply.error(invalid);
    return;
  }
  when += base;
  if (engine.lookupWrite(db, key) === undefined) {
    c.reply.integer(0);
    return;
  }
  if (flags !== 0) {
    const current = db.getExpire(key);
    const cur = BigInt(current);
    if (flags & EXPIRE_NX && current !== -1) return c.reply.integer(0);
    if (flags & EXPIRE_XX && current === -1) return c.reply.integer(0);
    if (flags & EXPIRE_GT && (when <= cur || current === -1)) return c.reply.integer(0);
    if (flags & EXPIRE_LT && current !== -1 && when >= cur) return c.reply.integer(0);
  }
  if (when <= BigInt(engine.now) && !engine.keepsPastTtl) {
    engine.deleteKey(db, key);
    engine.notify(NOTIFY.GENERIC, 'del', key, db.id);
    engine.emit(db.id, [c.server.config.bool('lazyfree-lazy-expire') ? 'UNLINK' : 'DEL', key]);
    c.reply.integer(1);
    return;
  }
  db.setExpire(key, Number(when));
  engine.modified(db, key);
  engine.notify(NOTIFY.GENERIC, 'expire', key, db.id);
  engine.emit(db.id, ['PEXPIREAT', key, when.toString(), ...argv.slice(3)]);
  c.reply.integer(1);
}

function ttlGeneric(c: Client, argv: string[], ms: boolean, absolute: boolean): void {
  const engine = c.engine;
  const db = c.db;
  const key = argv[1]!;
  if (engine.lookupRead(db, key, false) === undefined) {
    c.reply.integer(-2);
    return;
  }
  const when = db.getExpire(key);
  if (when === -1) {
    c.reply.integer(-1);
    return;
  }
  let ttl = absolute ? when : when - engine.now;
  if (ttl < 0) ttl = 0;
  c.reply.integer(ms ? ttl : Math.floor((ttl + 500) / 1000));
}

function persist(c: Client, argv: string[]): void {
  const engine = c.engine;
  const db = c.db;
  const key = argv[1]!;
  if (engine.lookupWrite(db, key) === undefined || !db.removeExpire(key)) {
    c.reply.integer(0);
    return;
  }
  engine.modified(db, key);
  engine.notify(NOTIFY.GENERIC, 'persist', key, db.id);
  engine.emit(db.id, argv);
  c.reply.integer(1);
}

export const keyCommands: CommandImpl[] = [
  { name: 'del', run: delGeneric },
  { name: 'unlink', run: delGeneric },
  { name: 'exists', run: exists },
  { name: 'type', run: type },
  { name: 'keys', run: keys },
  { name: 'scan', run: scan },
  { name: 'randomkey', run: randomkey },
  { name: 'rename', run: (c, argv) => renameGeneric(c, argv, false) },
  { name: 'renamenx', run: (c, argv) => renameGeneric(c, argv, true) },
  { name: 'copy', run: copy },
  { name: 'move', run: move },
  { name: 'touch', run: touch },
  ...objectCommands,
  { name: 'expire', run: (c, argv) => expireGeneric(c, argv, true, 1000) },
  { name: 'pexpire', run: (c, argv) => expireGeneric(c, argv, true, 1) },
  { name: 'expireat', run: (c, argv) => expireGeneric(c, argv, false, 1000) },
  { name: 'pexpireat', run: (c, argv) => expireGeneric(c, argv, false, 1) },
  { name: 'ttl', run: (c, argv) => ttlGeneric(c, argv, false, false) },
  { name: 'pttl', run: (c, argv) => ttlGeneric(c, argv, true, false) },
  { name: 'expiretime', run: (c, argv) => ttlGeneric(c, argv, false, true) },
  { name: 'pexpiretime', run: (c, argv) => ttlGeneric(c, argv, true, true) },
  { name: 'persist', run: persist },
];
