/**
 * Generic keyspace commands (Redis' db.c and expire.c): DEL, EXISTS, TYPE,
 * KEYS, SCAN, RENAME, COPY, MOVE, OBJECT, the EXPIRE family, TTL family.
 */

import type { AccessPolicy } from '../engine/access.js';
import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argDbIndex, argLong, eq, replyHelp, cstr } from './util.js';
import { NOTIFY } from '../engine/engine.js';
import { cloneValue, encodingOf, typeOf, type Value } from '../types/value.js';
import { globMatcher } from '../util/glob.js';
import { parseInteger, parseStrtoul } from '../util/numbers.js';
import type { Db } from '../engine/keyspace.js';

function delGeneric(ctx: CommandContext, argv: string[]): void {
  const engine = ctx.engine;
  const db = ctx.db;
  let deleted = 0;
  for (let i = 1; i < argv.length; i++) {
    const key = argv[i]!;
    if (engine.lookupWrite(db, key) === undefined) continue;
    engine.deleteKey(db, key);
    ctx.changed(key, NOTIFY.GENERIC, 'del', db);
    deleted++;
  }
  if (deleted > 0) engine.emit(db.id, argv, deleted);
  ctx.reply.integer(deleted);
}

function exists(ctx: CommandContext, argv: string[]): void {
  let count = 0;
  for (let i = 1; i < argv.length; i++) if (ctx.engine.lookupRead(ctx.db, argv[i]!, false) !== undefined) count++;
  ctx.reply.integer(count);
}

function type(ctx: CommandContext, argv: string[]): void {
  const v = ctx.engine.lookupRead(ctx.db, argv[1]!, false);
  ctx.reply.simple(v === undefined ? 'none' : typeOf(v));
}

function keys(ctx: CommandContext, argv: string[]): void {
  const match = globMatcher(argv[1]!);
  const engine = ctx.engine;
  const db = ctx.db;
  const out: string[] = [];
  for (const key of db.keys()) {
    if (match(key) && !engine.isExpired(db, key)) out.push(key);
  }
  ctx.reply.array(out.length);
  for (const k of out) ctx.reply.bulk(k);
}

/** Parse a SCAN cursor (any unsigned 64-bit value); null after replying. */
export function parseCursor(ctx: CommandContext, raw: string): bigint | null {
  const cur = parseStrtoul(raw);
  if (cur === null) ctx.reply.error('ERR invalid cursor');
  return cur;
}

function scan(ctx: CommandContext, argv: string[]): void {
  const cursor = parseCursor(ctx, argv[1]!);
  if (cursor === null) return;
  let count = 10;
  let pattern: string | null = null;
  let typeName: string | null = null;
  for (let i = 2; i < argv.length; ) {
    const moreArgs = argv.length - i - 1;
    const opt = argv[i]!;
    if (eq(opt, 'count') && moreArgs >= 1) {
      const n = argLong(ctx, argv[i + 1]!);
      if (n === null) return;
      if (n < 1) {
        ctx.reply.error(ERR.SYNTAX);
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
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const engine = ctx.engine;
  const db = ctx.db;
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
  ctx.reply.array(2);
  ctx.reply.bulk(String(next));
  ctx.reply.array(out.length);
  for (const k of out) ctx.reply.bulk(k);
}

function randomkey(ctx: CommandContext): void {
  const engine = ctx.engine;
  const db = ctx.db;
  // Expired keys found on the way are deleted; a replica gives up after a while.
  for (let tries = 0; tries < 100 || !engine.isReplica; tries++) {
    const key = db.randomKey();
    if (key === undefined) break;
    if (!engine.isExpired(db, key)) {
      ctx.reply.bulk(key);
      return;
    }
    if (engine.isReplica) continue;
    engine.deleteExpired(db, key);
  }
  ctx.reply.nullBulk();
}

function renameGeneric(ctx: CommandContext, argv: string[], nx: boolean): void {
  const engine = ctx.engine;
  const db = ctx.db;
  const src = argv[1]!;
  const dst = argv[2]!;
  const v = engine.lookupWrite(db, src);
  if (v === undefined) {
    ctx.reply.error(ERR.NO_SUCH_KEY);
    return;
  }
  if (src === dst) {
    if (nx) ctx.reply.integer(0);
    else ctx.reply.ok();
    return;
  }
  const when = db.getExpire(src);
  if (engine.lookupWrite(db, dst) !== undefined) {
    if (nx) {
      ctx.reply.integer(0);
      return;
    }
    engine.deleteKey(db, dst);
  }
  db.delete(src);
  engine.setKey(db, dst, v, true);
  if (when >= 0) db.setExpire(dst, when);
  ctx.changed(src, NOTIFY.GENERIC, 'rename_from', db);
  ctx.changed(dst, NOTIFY.GENERIC, 'rename_to', db);
  engine.emit(db.id, argv);
  if (nx) ctx.reply.integer(1);
  else ctx.reply.ok();
}

function copy(ctx: CommandContext, argv: string[]): void {
  const engine = ctx.engine;
  const src = argv[1]!;
  const dst = argv[2]!;
  let target: Db = ctx.db;
  let replace = false;
  for (let j = 3; j < argv.length; j++) {
    const moreArgs = argv.length - 1 - j;
    if (eq(argv[j]!, 'replace')) replace = true;
    else if (eq(argv[j]!, 'db') && moreArgs >= 1) {
      const id = argDbIndex(ctx, argv[j + 1]!);
      if (id === null) return;
      target = engine.dbs[id]!;
      j++;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  if (src === dst && target === ctx.db) {
    ctx.reply.error(ERR.SAME_OBJECT);
    return;
  }
  const v = engine.lookupRead(ctx.db, src);
  if (v === undefined) {
    ctx.reply.integer(0);
    return;
  }
  const when = ctx.db.getExpire(src);
  if (engine.lookupWrite(target, dst) !== undefined) {
    if (!replace) {
      ctx.reply.integer(0);
      return;
    }
    engine.deleteKey(target, dst);
  }
  engine.setKey(target, dst, cloneValue(v), true);
  if (when >= 0) target.setExpire(dst, when);
  ctx.changed(dst, NOTIFY.GENERIC, 'copy_to', target);
  engine.emit(ctx.db.id, argv);
  ctx.reply.integer(1);
}

function move(ctx: CommandContext, argv: string[]): void {
  const engine = ctx.engine;
  const key = argv[1]!;
  const id = argDbIndex(ctx, argv[2]!);
  if (id === null) return;
  const src = ctx.db;
  const dst = engine.dbs[id]!;
  if (src === dst) {
    ctx.reply.error(ERR.SAME_OBJECT);
    return;
  }
  const v = engine.lookupWrite(src, key);
  if (v === undefined) {
    ctx.reply.integer(0);
    return;
  }
  const when = src.getExpire(key);
  if (engine.lookupWrite(dst, key) !== undefined) {
    ctx.reply.integer(0);
    return;
  }
  engine.setKey(dst, key, v, true);
  if (when >= 0) dst.setExpire(key, when);
  src.delete(key);
  ctx.changed(key, NOTIFY.GENERIC, 'move_from', src);
  ctx.changed(key, NOTIFY.GENERIC, 'move_to', dst);
  engine.emit(src.id, argv);
  ctx.reply.integer(1);
}

function touch(ctx: CommandContext, argv: string[]): void {
  let count = 0;
  for (let i = 1; i < argv.length; i++) if (ctx.engine.lookupRead(ctx.db, argv[i]!) !== undefined) count++;
  ctx.reply.integer(count);
}

// ---- OBJECT ---------------------------------------------------------------------------

/** Redis shares the objects of small integers (0..9999): OBJECT REFCOUNT reports INT_MAX for them. */
export function objectRefcount(access: AccessPolicy, v: Value): number {
  return access.isShared(v) ? 2147483647 : 1;
}

/** objectCommandLookup: a read lookup that leaves the access time alone. */
function objectLookup(ctx: CommandContext, key: string): Value | undefined {
  const v = ctx.engine.lookupRead(ctx.db, key, false);
  if (v === undefined) ctx.reply.nullBulk();
  return v;
}

const objectCommands: CommandImpl[] = [
  {
    name: 'object|encoding',
    run(ctx, argv) {
      const v = objectLookup(ctx, argv[2]!);
      if (v !== undefined) ctx.reply.bulk(encodingOf(v));
    },
  },
  {
    name: 'object|refcount',
    run(ctx, argv) {
      const v = objectLookup(ctx, argv[2]!);
      if (v !== undefined) ctx.reply.integer(objectRefcount(ctx.engine.access, v));
    },
  },
  {
    name: 'object|idletime',
    run(ctx, argv) {
      const v = objectLookup(ctx, argv[2]!);
      if (v === undefined) return;
      const access = ctx.engine.access;
      if (access.lfu) {
        ctx.reply.error('ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
        return;
      }
      ctx.reply.integer(access.idleSeconds(ctx.db.accessWord(argv[2]!, v)));
    },
  },
  {
    name: 'object|freq',
    run(ctx, argv) {
      const v = objectLookup(ctx, argv[2]!);
      if (v === undefined) return;
      const access = ctx.engine.access;
      if (!access.lfu) {
        ctx.reply.error('ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.');
        return;
      }
      ctx.reply.integer(access.lfuDecayed(ctx.db.accessWord(argv[2]!, v)));
    },
  },
  {
    name: 'object|help',
    run(ctx) {
      replyHelp(ctx, 'OBJECT', [
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
function expireGeneric(ctx: CommandContext, argv: string[], relative: boolean, unitMs: 1 | 1000): void {
  const engine = ctx.engine;
  const db = ctx.db;
  const key = argv[1]!;
  let flags = 0;
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!.toLowerCase();
    if (opt === 'nx') flags |= EXPIRE_NX;
    else if (opt === 'xx') flags |= EXPIRE_XX;
    else if (opt === 'gt') flags |= EXPIRE_GT;
    else if (opt === 'lt') flags |= EXPIRE_LT;
    else {
      ctx.reply.error(`ERR Unsupported option ${cstr(argv[j]!)}`);
      return;
    }
  }
  if (flags & EXPIRE_NX && flags & (EXPIRE_XX | EXPIRE_GT | EXPIRE_LT)) {
    ctx.reply.error('ERR NX and XX, GT or LT options at the same time are not compatible');
    return;
  }
  if (flags & EXPIRE_GT && flags & EXPIRE_LT) {
    ctx.reply.error('ERR GT and LT options at the same time are not compatible');
    return;
  }
  const parsed = parseInteger(argv[2]!);
  if (parsed === null) {
    ctx.reply.error(ERR.NOT_INTEGER);
    return;
  }
  let when = BigInt(parsed);
  const invalid = `ERR invalid expire time in '${ctx.current!.name}' command`;
  if (unitMs === 1000) {
    if (when > INT64_MAX / 1000n || when < INT64_MIN / 1000n) {
      ctx.reply.error(invalid);
      return;
    }
    when *= 1000n;
  }
  const base = relative ? BigInt(engine.now) : 0n;
  if (when > INT64_MAX - base) {
    ctx.reply.error(invalid);
    return;
  }
  when += base;
  if (engine.lookupWrite(db, key) === undefined) {
    ctx.reply.integer(0);
    return;
  }
  if (flags !== 0) {
    const current = db.getExpire(key);
    const cur = BigInt(current);
    if (flags & EXPIRE_NX && current !== -1) return ctx.reply.integer(0);
    if (flags & EXPIRE_XX && current === -1) return ctx.reply.integer(0);
    if (flags & EXPIRE_GT && (when <= cur || current === -1)) return ctx.reply.integer(0);
    if (flags & EXPIRE_LT && current !== -1 && when >= cur) return ctx.reply.integer(0);
  }
  if (when <= BigInt(engine.now) && !engine.keepsPastTtl) {
    engine.deleteKey(db, key);
    ctx.changed(key, NOTIFY.GENERIC, 'del', db);
    engine.emit(db.id, [ctx.host.config.bool('lazyfree-lazy-expire') ? 'UNLINK' : 'DEL', key]);
    ctx.reply.integer(1);
    return;
  }
  db.setExpire(key, Number(when));
  ctx.changed(key, NOTIFY.GENERIC, 'expire', db);
  engine.emit(db.id, ['PEXPIREAT', key, when.toString(), ...argv.slice(3)]);
  ctx.reply.integer(1);
}

function ttlGeneric(ctx: CommandContext, argv: string[], ms: boolean, absolute: boolean): void {
  const engine = ctx.engine;
  const db = ctx.db;
  const key = argv[1]!;
  if (engine.lookupRead(db, key, false) === undefined) {
    ctx.reply.integer(-2);
    return;
  }
  const when = db.getExpire(key);
  if (when === -1) {
    ctx.reply.integer(-1);
    return;
  }
  let ttl = absolute ? when : when - engine.now;
  if (ttl < 0) ttl = 0;
  ctx.reply.integer(ms ? ttl : Math.floor((ttl + 500) / 1000));
}

function persist(ctx: CommandContext, argv: string[]): void {
  const engine = ctx.engine;
  const db = ctx.db;
  const key = argv[1]!;
  if (engine.lookupWrite(db, key) === undefined || !db.removeExpire(key)) {
    ctx.reply.integer(0);
    return;
  }
  ctx.changed(key, NOTIFY.GENERIC, 'persist', db);
  engine.emit(db.id, argv);
  ctx.reply.integer(1);
}

export const keyCommands: CommandImpl[] = [
  { name: 'del', run: delGeneric },
  { name: 'unlink', run: delGeneric },
  { name: 'exists', run: exists },
  { name: 'type', run: type },
  { name: 'keys', run: keys },
  { name: 'scan', run: scan },
  { name: 'randomkey', run: randomkey },
  { name: 'rename', run: (ctx, argv) => renameGeneric(ctx, argv, false) },
  { name: 'renamenx', run: (ctx, argv) => renameGeneric(ctx, argv, true) },
  { name: 'copy', run: copy },
  { name: 'move', run: move },
  { name: 'touch', run: touch },
  ...objectCommands,
  { name: 'expire', run: (ctx, argv) => expireGeneric(ctx, argv, true, 1000) },
  { name: 'pexpire', run: (ctx, argv) => expireGeneric(ctx, argv, true, 1) },
  { name: 'expireat', run: (ctx, argv) => expireGeneric(ctx, argv, false, 1000) },
  { name: 'pexpireat', run: (ctx, argv) => expireGeneric(ctx, argv, false, 1) },
  { name: 'ttl', run: (ctx, argv) => ttlGeneric(ctx, argv, false, false) },
  { name: 'pttl', run: (ctx, argv) => ttlGeneric(ctx, argv, true, false) },
  { name: 'expiretime', run: (ctx, argv) => ttlGeneric(ctx, argv, false, true) },
  { name: 'pexpiretime', run: (ctx, argv) => ttlGeneric(ctx, argv, true, true) },
  { name: 'persist', run: persist },
];
