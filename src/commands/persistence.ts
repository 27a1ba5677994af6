/**
 * Persistence commands: SAVE, BGSAVE, BGREWRITEAOF, LASTSAVE, DUMP, RESTORE,
 * WAITAOF, and the DEBUG subcommands that reload or digest the dataset.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, LONG_MAX, argLong, eq } from './util.js';
import { int64Text } from '../util/numbers.js';
import { dumpPayload, restorePayload } from '../../persistence/rdb/file.js';
import { RdbError } from '../../persistence/rdb/format.js';
import { datasetDigest, valueDigest } from '../../persistence/digest.js';
import { runSteps } from '../../persistence/persistence.js';
import { NOTIFY } from '../engine/engine.js';
import { argAt, argvFrom } from '../protocol/big-args.js';
import fs from 'node:fs';

function save(ctx: CommandContext): void {
  const p = ctx.host.persistence;
  if (p.rdb.inProgress) {
    ctx.reply.error('ERR Background save already in progress');
    return;
  }
  ctx.engine.log.flush();
  if (p.rdb.save()) ctx.reply.ok();
  else ctx.reply.error('ERR');
}

function bgsave(ctx: CommandContext, argv: string[]): void {
  let schedule = false;
  if (argv.length > 1) {
    if (argv.length === 2 && eq(argv[1]!, 'schedule')) schedule = true;
    else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const p = ctx.host.persistence;
  if (p.rdb.inProgress) {
    ctx.reply.error('ERR Background save already in progress');
  } else if (p.aof.rewriteInProgress || ctx.inExec) {
    if (schedule || ctx.inExec) {
      p.rdb.scheduled = true;
      ctx.reply.simple('Background saving scheduled');
    } else {
      ctx.reply.error("ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.");
    }
  } else {
    p.rdb.bgsave();
    if (p.rdb.inProgress) ctx.reply.simple('Background saving started');
    else ctx.reply.error('ERR');
  }
}

function bgrewriteaof(ctx: CommandContext): void {
  const aof = ctx.host.persistence.aof;
  if (aof.rewriteInProgress) {
    ctx.reply.error('ERR Background append only file rewriting already in progress');
    return;
  }
  if (ctx.host.persistence.rdb.inProgress || ctx.inExec) {
    aof.rewriteScheduled = true;
    aof.rewriteFailures = 0;
    ctx.reply.simple('Background append only file rewriting scheduled');
    return;
  }
  const r = aof.rewrite();
  if (r === 'started') ctx.reply.simple('Background append only file rewriting started');
  else if (r === 'scheduled') ctx.reply.simple('Background append only file rewriting scheduled');
  else ctx.reply.error("ERR Can't execute an AOF background rewriting. Please check the server logs for more information.");
}

function dump(ctx: CommandContext, argv: string[]): void {
  const v = ctx.engine.lookupRead(ctx.db, argv[1]!);
  if (v === undefined) {
    ctx.reply.nullBulk();
    return;
  }
  ctx.reply.bulkBuffer(dumpPayload(v, ctx.host.config.bool('rdbcompression')));
}

/** RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], in Redis' order of checks. */
function restore(ctx: CommandContext, argv: string[]): void {
  let replace = false;
  let absttl = false;
  let idle = -1n;
  let freq = -1;
  for (let j = 4; j < argv.length; j++) {
    const opt = argv[j]!;
    const more = argv.length - j - 1;
    if (eq(opt, 'replace')) replace = true;
    else if (eq(opt, 'absttl')) absttl = true;
    else if (eq(opt, 'idletime') && more >= 1 && freq === -1) {
      const n = argLong(ctx, argv[++j]!);
      if (n === null) return;
      if (n < 0) {
        ctx.reply.error('ERR Invalid IDLETIME value, must be >= 0');
        return;
      }
      // Exact past 2^53: Redis scales it in a long long (access.restored).
      idle = BigInt(argv[j]!);
    } else if (eq(opt, 'freq') && more >= 1 && idle === -1n) {
      const n = argLong(ctx, argv[++j]!);
      if (n === null) return;
      if (n < 0 || n > 255) {
        ctx.reply.error('ERR Invalid FREQ value, must be >= 0 and <= 255');
        return;
      }
      freq = n;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  const engine = ctx.engine;
  const db = ctx.db;
  const key = argv[1]!;
  if (!replace && engine.lookupWrite(db, key) !== undefined) {
    ctx.reply.error('BUSYKEY Target key name already exists.');
    return;
  }
  let ttl = argLong(ctx, argv[2]!);
  if (ttl === null) return;
  if (ttl < 0) {
    ctx.reply.error('ERR Invalid TTL value, must be >= 0');
    return;
  }
  const given = argAt(argv, 3);
  const payload = typeof given === 'string' ? Buffer.from(given, 'latin1') : given;
  let value;
  try {
    value = restorePayload(payload, engine.limits);
  } catch (e) {
    // Anything but an RdbError is a reader bug: still refuse the payload rather than fail the command.
    if (!(e instanceof RdbError)) ctx.host.logger.warn({ err: e }, 'RESTORE: unexpected error reading the payload');
    ctx.reply.error(e instanceof RdbError && e.message.startsWith('DUMP payload') ? 'ERR DUMP payload version or checksum are wrong' : 'ERR Bad data format');
    return;
  }
  // Redis' dbDelete: REPLACE removes an expired key as it is (no `expired` event).
  const existed = replace && engine.deleteKey(db, key);
  // Redis adds the clock in a C long long: a sum past 2^63-1 wraps negative, i.e. already expired.
  if (ttl !== 0 && !absttl) ttl = ttl > LONG_MAX - engine.now ? -1 : ttl + engine.now;
  if (ttl !== 0 && ttl <= engine.now && !engine.keepsPastTtl) {
    // Already expired: the key ends up deleted (or never created).
    if (existed) {
      ctx.changed(key, NOTIFY.GENERIC, 'del', db);
      engine.emit(db.id, ['DEL', key]);
    }
    ctx.reply.ok();
    return;
  }
  engine.setKey(db, key, value);
  if (ttl !== 0) db.setExpire(key, ttl);
  const word = engine.access.restored(freq, idle);
  if (word >= 0) db.setAccessWord(key, value, word);
  ctx.changed(key, NOTIFY.GENERIC, 'restore', db);
  // Logged with an absolute TTL so a replay restores the same expiry.
  const effect = argvFrom(['RESTORE', key, int64Text(ttl), given]);
  if (replace) effect.push('REPLACE');
  if (ttl !== 0) effect.push('ABSTTL');
  // Redis propagates IDLETIME / FREQ too (relative: a replica applies them on arrival).
  if (idle >= 0n) effect.push('IDLETIME', String(idle));
  if (freq >= 0) effect.push('FREQ', String(freq));
  engine.emit(db.id, effect);
  ctx.reply.ok();
}

/** WAITAOF numlocal numreplicas timeout: [local fsynced, replicas acked]. */
function waitaof(ctx: CommandContext, argv: string[]): void {
  const numlocal = argLong(ctx, argv[1]!);
  if (numlocal === null) return;
  const numreplicas = argLong(ctx, argv[2]!);
  if (numreplicas === null) return;
  const timeout = argLong(ctx, argv[3]!, 'ERR timeout is not an integer or out of range');
  if (timeout === null) return;
  if (timeout < 0) {
    ctx.reply.error('ERR timeout is negative');
    return;
  }
  const server = ctx.host;
  if (ctx.engine.isReplica) {
    ctx.reply.error('ERR WAITAOF cannot be used with replica instances. Please also note that writes to replicas are just local and are not propagated.');
    return;
  }
  const aof = server.persistence.aof;
  if (numlocal > 0 && !aof.on) {
    ctx.reply.error('ERR WAITAOF cannot be used when numlocal is set but appendonly is disabled.');
    return;
  }
  const target = ctx.lastWriteOffset;
  const localAcks = () => (aof.on && aof.fsyncedOffset >= target ? 1 : 0);
  const replicaAcks = () => server.primary.fsynced(target);
  const answer = () => {
    ctx.reply.array(2);
    ctx.reply.integer(localAcks());
    ctx.reply.integer(replicaAcks());
  };
  if (ctx.inExec || (localAcks() >= numlocal && replicaAcks() >= numreplicas)) {
    answer();
    return;
  }
  // Make the data reach the disk soon rather than at the next everysec tick.
  server.persistence.requestFsync();
  if (numreplicas > 0) server.primary.requestAcks();
  server.block(ctx, { kind: 'waitaof', ready: () => localAcks() >= numlocal && replicaAcks() >= numreplicas, wake: answer }, timeout);
}

// ---- DEBUG subcommands -------------------------------------------------------------

/** DEBUG RELOAD [MERGE] [NOFLUSH] [NOSAVE]: save, empty, load the RDB again. */
export function debugReload(ctx: CommandContext, argv: string[]): void {
  let flush = true;
  let saveFirst = true;
  let merge = false;
  for (const opt of argv.slice(2)) {
    if (eq(opt, 'merge')) merge = true;
    else if (eq(opt, 'noflush')) flush = false;
    else if (eq(opt, 'nosave')) saveFirst = false;
    else {
      ctx.reply.error("ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options.");
      return;
    }
  }
  const server = ctx.host;
  const p = server.persistence;
  if (saveFirst) {
    ctx.engine.log.flush();
    if (!p.rdb.save()) {
      // Redis answers a bare -ERR (shared.err) here.
      ctx.reply.error('ERR');
      return;
    }
  }
  const file = p.rdb.path;
  if (!fs.existsSync(file)) {
    ctx.reply.error('ERR Error trying to load the RDB dump, check server logs.');
    return;
  }
  if (flush) ctx.engine.flush(null);
  const engine = ctx.engine;
  engine.loading = true;
  // Redis empties the functions with the keys; without that, MERGE lets the file's libraries replace ours.
  const functions = flush ? 'flush' : merge ? 'replace' : 'append';
  try {
    runSteps(p.rdb.loadSteps(fs.readFileSync(file), { preamble: false, merge, functions }));
  } catch (e) {
    server.logger.warn({ err: e }, 'DEBUG RELOAD: error loading the RDB');
    ctx.reply.error('ERR Error trying to load the RDB dump, check server logs.');
    return;
  } finally {
    engine.loading = false;
  }
  server.logger.info('DB reloaded by DEBUG RELOAD');
  ctx.reply.ok();
}

/**
 * DEBUG LOADAOF: flush the AOF, empty the dataset and load it from the AOF
 * files (those of the last BGREWRITEAOF when the AOF is off), as Redis 7.2.
 */
export function debugLoadAof(ctx: CommandContext): void {
  const p = ctx.host.persistence;
  if (p.aof.on) {
    ctx.engine.log.flush();
    p.aof.flushAll();
  }
  ctx.engine.flush(null);
  // The files hold the libraries too (FUNCTION LOAD records, or an RDB preamble).
  p.rdb.functions.restore([], 'flush');
  let loaded: boolean;
  try {
    loaded = runSteps(p.reloadAofSteps());
  } catch (e) {
    ctx.host.logger.warn({ err: e }, 'DEBUG LOADAOF: error loading the AOF');
    loaded = false;
  }
  if (!loaded) {
    ctx.reply.error('ERR Error trying to load the AOF files, check server logs.');
    return;
  }
  ctx.host.logger.info('Append Only File loaded by DEBUG LOADAOF');
  ctx.reply.ok();
}

export function debugDigest(ctx: CommandContext): void {
  ctx.reply.simple(datasetDigest(ctx.engine));
}

export function debugDigestValue(ctx: CommandContext, argv: string[]): void {
  ctx.reply.array(argv.length - 2);
  for (const key of argv.slice(2)) ctx.reply.simple(valueDigest(ctx.db, key));
}

/** RESTORE's payload may be longer than a JS string (a DUMP of a long incompressible value). */
const restorePayloadArg = (index: number): boolean => index === 3;

export const persistenceCommands: CommandImpl[] = [
  { name: 'save', run: save },
  { name: 'bgsave', run: bgsave },
  { name: 'bgrewriteaof', run: bgrewriteaof },
  { name: 'lastsave', run: (ctx) => ctx.reply.integer(ctx.host.persistence.rdb.lastSave) },
  { name: 'dump', run: dump },
  { name: 'restore', run: restore, bigArg: restorePayloadArg },
  // RESTORE as a slot migration sends it (after ASKING); without a cluster it is RESTORE, as in redis-server.
  { name: 'restore-asking', run: restore, bigArg: restorePayloadArg },
  { name: 'waitaof', run: waitaof },
];
