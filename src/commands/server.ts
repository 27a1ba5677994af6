/**
 * Server commands: INFO, CONFIG, DBSIZE, FLUSHDB/FLUSHALL, SWAPDB, TIME,
 * LASTSAVE, SHUTDOWN, MONITOR, DEBUG.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argInt, argLong, argNonNegative, eq, replyHelp, cstr } from './util.js';
import { ConfigError, type ConfigUndo } from '../config.js';
import { rewriteConfigFile } from '../config-rewrite.js';
import { describeUser } from '../acl/rules.js';
import { encodingOf } from '../types/value.js';
import { debugDigest, debugDigestValue, debugLoadAof, debugReload } from './persistence.js';
import { savedObjectLength } from '../../persistence/rdb/file.js';
import { ListValue } from '../types/list.js';
import { objectRefcount } from './keys.js';
import { dropFilePages, heapAndExternalBytes, reduceHeap, trimMalloc } from '../util/gc.js';
import { keyMemoryUsage } from '../types/memory.js';
import { mallocStatsReport, memoryDoctorReport, memoryStatsEntries } from '../diagnostics/memory-report.js';

function flushArgs(ctx: CommandContext, argv: string[]): boolean {
  if (argv.length > 2) {
    ctx.reply.error(ERR.SYNTAX);
    return false;
  }
  if (argv.length === 2 && !eq(argv[1]!, 'sync') && !eq(argv[1]!, 'async')) {
    ctx.reply.error(ERR.SYNTAX);
    return false;
  }
  return true;
}

/** Heap and off-heap buffers (the string store's slabs) in use beyond the start-up size from which a flush collects at once. */
const FLUSH_COLLECT_BYTES = 32 * 1024 * 1024;

/**
 * Redis frees a flushed dataset before FLUSHALL/FLUSHDB reply, unless
 * ASYNC or lazyfree-lazy-user-flush: do the same with a full GC when there
 * is much to free (a small heap is left to V8's own pace).
 */
function collectFlushed(ctx: CommandContext, argv: string[]): void {
  const lazy = argv.length === 2 ? eq(argv[1]!, 'async') : ctx.host.config.bool('lazyfree-lazy-user-flush');
  if (lazy || heapAndExternalBytes() - ctx.host.memory.startup < FLUSH_COLLECT_BYTES) return;
  // With the young generation the load grew (up to 64 MB) shrunk too.
  reduceHeap();
  // The slabs the collections freed went back to malloc: their pages go back to the system.
  trimMalloc();
}

function flushdb(ctx: CommandContext, argv: string[]): void {
  if (!flushArgs(ctx, argv)) return;
  const removed = ctx.engine.flush(ctx.db);
  ctx.engine.emit(ctx.db.id, argv, Math.max(1, removed));
  collectFlushed(ctx, argv);
  ctx.reply.ok();
}

function flushall(ctx: CommandContext, argv: string[]): void {
  if (!flushArgs(ctx, argv)) return;
  const rdb = ctx.host.persistence.rdb;
  // Like Redis: a running BGSAVE would write the old data back; with save points, save the empty dataset now.
  rdb.abort();
  const removed = ctx.engine.flush(null);
  ctx.engine.emit(ctx.db.id, argv, Math.max(1, removed));
  collectFlushed(ctx, argv);
  if (rdb.savePointsConfigured) {
    rdb.save();
    // The FLUSHALL itself still counts as a change (Redis' server.dirty++ after the save).
    ctx.engine.dirty++;
  }
  ctx.reply.ok();
}

function swapdb(ctx: CommandContext, argv: string[]): void {
  // Both indexes are parsed before either is range-checked, as in Redis.
  const a = argInt(ctx, argv[1]!, 'ERR invalid first DB index');
  if (a === null) return;
  const b = argInt(ctx, argv[2]!, 'ERR invalid second DB index');
  if (b === null) return;
  const dbs = ctx.engine.dbs.length;
  if (a < 0 || a >= dbs || b < 0 || b >= dbs) {
    ctx.reply.error(ERR.DB_RANGE);
    return;
  }
  if (a !== b) {
    const engine = ctx.engine;
    engine.swapDbs(engine.dbs[a]!, engine.dbs[b]!);
    engine.emit(ctx.db.id, argv);
  }
  ctx.reply.ok();
}

function configGet(ctx: CommandContext, argv: string[]): void {
  const pairs = ctx.host.config.match(argv.slice(2));
  ctx.reply.map(pairs.length);
  for (const [k, v] of pairs) {
    ctx.reply.bulk(k);
    ctx.reply.bulk(v);
  }
}

/** What Redis answers when a port or bind change cannot be applied (updatePort, applyBind). */
const LISTEN_FAILURES: Record<string, string> = {
  port: 'Unable to listen on this port. Check server logs.',
  'tls-port': 'Unable to listen on this port. Check server logs.',
  bind: 'Failed to bind to specified addresses.',
};

function configSet(ctx: CommandContext, argv: string[]): void {
  if (argv.length % 2 !== 0) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  const server = ctx.host;
  // While listeners are being rebound, other CONFIG SETs wait: the rebind's
  // rollback must not undo them.
  if (server.rebinding !== null && !ctx.inExec) {
    server.block(ctx, { kind: CONFIG_SET_WAIT, ready: () => server.rebinding === null, wake: () => configSet(ctx, argv), internal: true }, 0);
    return;
  }
  const pairs: [string, string][] = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i]!, argv[i + 1]!]);
  const protectedSetting = server.config.str('enable-protected-configs');
  const protectedAllowed = protectedSetting === 'yes' || (protectedSetting === 'local' && server.isLocal(ctx.conn));
  let undo: ConfigUndo;
  try {
    undo = server.config.setMany(pairs, { startup: false, protectedAllowed });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    ctx.reply.error(e.message);
    return;
  }
  // Redis applies port and bind in the order they were given; the first one names a failure.
  const listenParam = pairs.map(([n]) => server.config.def(n)!.name).find((n) => n in LISTEN_FAILURES);
  const rebinding = listenParam === undefined ? null : server.rebind();
  if (rebinding === null) {
    ctx.reply.ok();
    return;
  }
  awaitRebind(ctx, rebinding, undo, listenParam!);
}

const CONFIG_SET_WAIT = 'config-set';

/**
 * A port or bind change binds new sockets, which Node does asynchronously:
 * the reply waits for it (the client is blocked meanwhile). If they cannot
 * be bound, every parameter of the CONFIG SET is put back. Inside EXEC the
 * transaction cannot wait: it answers OK, and a failure is rolled back and
 * logged.
 */
function awaitRebind(ctx: CommandContext, rebinding: Promise<void>, undo: ConfigUndo, failedOn: string): void {
  const server = ctx.host;
  let outcome: string | null | undefined;
  const settled = rebinding.then(
    () => null,
    () => {
      server.logger.warn(`Failed applying new configuration. Possibly related to new ${failedOn} setting. Restoring previous settings.`);
      undo.run();
      return `ERR CONFIG SET failed (possibly related to argument '${failedOn}') - ${LISTEN_FAILURES[failedOn]}`;
    },
  );
  // Also wakes the CONFIG SETs that waited for this rebind.
  void settled.then((result) => {
    outcome = result;
    server.wakeReady(CONFIG_SET_WAIT);
  });
  if (ctx.inExec) {
    ctx.reply.ok();
    return;
  }
  server.block(ctx, {
    kind: CONFIG_SET_WAIT,
    ready: () => outcome !== undefined,
    wake: () => (outcome === null ? ctx.reply.ok() : ctx.reply.error(outcome!)),
    internal: true,
  }, 0);
}

function configRewrite(ctx: CommandContext): void {
  const file = ctx.host.config.file;
  if (file === '') {
    ctx.reply.error('ERR The server is running without a config file');
    return;
  }
  try {
    // Users go to the config file unless an aclfile keeps them (ACL SAVE writes that one).
    const users = ctx.host.config.str('aclfile') !== '' ? [] : ctx.host.acl.list().map((u) => `user ${u.name} ${describeUser(u)}`);
    rewriteConfigFile(ctx.host.config, file, users);
  } catch (e) {
    ctx.host.logger.warn({ err: e }, 'CONFIG REWRITE failed');
    ctx.reply.error(`ERR Rewriting config file: ${(e as Error).message}`);
    return;
  }
  ctx.host.logger.info('CONFIG REWRITE executed with success.');
  ctx.reply.ok();
}

const CONFIG_HELP = [
  'GET <pattern>',
  '    Return parameters matching the glob-like <pattern> and their values.',
  'SET <directive> <value>',
  '    Set the configuration <directive> to <value>.',
  'RESETSTAT',
  '    Reset statistics reported by the INFO command.',
  'REWRITE',
  '    Rewrite the configuration file.',
];

/** Block the event loop for `ms` (DEBUG SLEEP is meant to stall the server). */
function sleepSync(ms: number): void {
  if (ms <= 0) return;
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function debugPopulate(ctx: CommandContext, argv: string[]): void {
  const count = argNonNegative(ctx, argv[2]!);
  if (count === null) return;
  const prefix = argv.length >= 4 ? argv[3]! : 'key';
  let size = 0;
  if (argv.length >= 5) {
    const n = argNonNegative(ctx, argv[4]!);
    if (n === null) return;
    size = n;
  }
  const engine = ctx.engine;
  const db = ctx.db;
  for (let j = 0; j < count; j++) {
    const key = `${prefix.split('\0')[0]}:${j}`.slice(0, 127); // Redis: snprintf("%s:%lu") into char[128]
    if (engine.lookupWrite(db, key) !== undefined) continue;
    let value = `value:${j}`;
    // Padded through a buffer so the value is one flat string, as if it came from a client.
    if (size > 0) value = value.length >= size ? value.slice(0, size) : padWithZeros(value, size);
    engine.setKey(db, key, value, true);
    // Vireo logs every change: populated keys reach the AOF and replicas too
    // (Redis does not propagate them), each SET as it is made.
    engine.emitStandalone(db.id, ['SET', key, value]);
  }
  ctx.reply.ok();
}

/** DEBUG OBJECT: Redis' line for the value (found with dictFind: no expiry, no access update). */
function debugObject(ctx: CommandContext, argv: string[]): void {
  const key = argv[2]!;
  const v = ctx.db.get(key);
  if (v === undefined) {
    ctx.reply.error(ERR.NO_SUCH_KEY);
    return;
  }
  const word = ctx.db.accessWord(key, v);
  const ser = savedObjectLength(v, ctx.host.config.bool('rdbcompression'));
  const idle = ctx.engine.access.idleSeconds(word);
  let extra = '';
  if (v instanceof ListValue && v.encoding() === 'quicklist') {
    const { nodes, bytes } = v.nodeStats();
    // The list's own fill and compress depth, as Redis' quicklist keeps them.
    const compressed = v.quicklistCompress !== 0 ? 1 : 0;
    extra = ` ql_nodes:${nodes} ql_avg_node:${(v.length / nodes).toFixed(2)} ql_listpack_max:${v.quicklistFill} ql_compressed:${compressed} ql_uncompressed_size:${bytes}`;
  }
  ctx.reply.simple(`Value at:0x0 refcount:${objectRefcount(ctx.engine.access, v)} encoding:${encodingOf(v)} serializedlength:${ser} lru:${word} lru_seconds_idle:${idle}${extra}`);
}

/** DEBUG PROTOCOL <type>: sample replies of each RESP type (client test aid). */
function debugProtocol(ctx: CommandContext, argv: string[]): void {
  const r = ctx.reply;
  switch (argv[2]!.toLowerCase()) {
    case 'string': return r.bulk('Hello World');
    case 'integer': return r.integer(12345);
    case 'double': return r.double(3.141);
    case 'bignum': return r.bigNumber('1234567999999999999999999999999999999');
    case 'null': return r.nullBulk();
    case 'array':
      r.array(3);
      for (let j = 0; j < 3; j++) r.integer(j);
      return;
    case 'set':
      r.set(3);
      for (let j = 0; j < 3; j++) r.integer(j);
      return;
    case 'map':
      r.map(3);
      for (let j = 0; j < 3; j++) {
        r.integer(j);
        r.bool(j === 1);
      }
      return;
    case 'attrib':
      if (r.resp === 3) {
        r.attribute(1);
        r.bulk('key-popularity');
        r.array(2);
        r.bulk('key:123');
        r.integer(90);
      }
      // An attribute is not a reply: a real one follows it.
      return r.bulk('Some real reply following the attribute');
    case 'push':
      if (r.resp !== 3) return r.error('ERR RESP2 is not supported by this command');
      r.push(2);
      r.bulk('server-cpu-usage');
      r.integer(42);
      // A push message is out of band: a real reply follows it.
      return r.bulk('Some real reply following the push reply');
    case 'true': return r.bool(true);
    case 'false': return r.bool(false);
    case 'verbatim': return r.verbatim('This is a verbatim\nstring');
    default:
      r.error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
  }
}

function debug(ctx: CommandContext, argv: string[]): void {
  const sub = argv[1]!.toLowerCase();
  if (sub === 'help' && argv.length === 2) {
    replyHelp(ctx, 'DEBUG', [
      'DIGEST',
      '    Output a hex signature representing the current DB content.',
      'DIGEST-VALUE <key> [<key> ...]',
      '    Output a hex signature of the values of all the specified keys.',
      'LOADAOF',
      '    Flush the AOF buffers on disk and reload the AOF in memory.',
      'LOG <message>',
      '    Write <message> to the server log.',
      'OBJECT <key>',
      '    Show low level info about the <key> and associated value.',
      'POPULATE <count> [<prefix>] [<size>]',
      '    Create <count> string keys named key:<num>. If <prefix> is specified then',
      '    it is used instead of the \'key\' prefix. These are not propagated to',
      '    replicas in Redis; Vireo logs them like any other write.',
      'PROTOCOL <type>',
      '    Reply with a test value of the specified type.',
      'RELOAD [option ...]',
      '    Save the RDB on disk and reload it back to memory. Valid <option> values:',
      '    * MERGE: Merge the content of the RDB with the current dataset.',
      '    * NOFLUSH: Do not empty the dataset before loading the RDB.',
      '    * NOSAVE: the database will be loaded from an existing RDB file.',
      'SET-ACTIVE-EXPIRE <0|1>',
      '    Setting it to 0 disables expiring keys in background when they are not',
      '    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the',
      '    default.',
      'SLEEP <seconds>',
      '    Stop the server for <seconds>. Decimals allowed.',
    ]);
    return;
  }
  if (sub === 'sleep' && argv.length === 3) {
    // Redis reads it with strtod(argv[2], NULL): any text, its numeric prefix (or 0).
    const secs = strtodPrefix(argv[2]!);
    if (secs > 0) sleepSync(secs * 1000);
    ctx.reply.ok();
  } else if (sub === 'set-active-expire' && argv.length === 3) {
    ctx.host.activeExpireEnabled = argv[2] !== '0';
    ctx.reply.ok();
  } else if (sub === 'populate' && argv.length >= 3 && argv.length <= 5) {
    debugPopulate(ctx, argv);
  } else if (sub === 'object' && argv.length === 3) {
    debugObject(ctx, argv);
  } else if (sub === 'protocol' && argv.length === 3) {
    debugProtocol(ctx, argv);
  } else if (sub === 'reload') {
    debugReload(ctx, argv);
  } else if (sub === 'loadaof' && argv.length === 2) {
    debugLoadAof(ctx);
  } else if (sub === 'digest' && argv.length === 2) {
    debugDigest(ctx);
  } else if (sub === 'digest-value' && argv.length >= 2) {
    debugDigestValue(ctx, argv);
  } else if (sub === 'log' && argv.length === 3) {
    ctx.host.logger.warn(`DEBUG LOG: ${argv[2]}`);
    ctx.reply.ok();
  } else {
    ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv[1]!)}'. Try DEBUG HELP.`);
  }
}

function shutdown(ctx: CommandContext, argv: string[]): void {
  let save: boolean | null = null;
  let conflicting = false;
  let abort = false;
  let now = false;
  let force = false;
  for (let i = 1; i < argv.length; i++) {
    const opt = argv[i]!.toLowerCase();
    if (opt === 'nosave') {
      conflicting ||= save === true;
      save = false;
    } else if (opt === 'save') {
      conflicting ||= save === false;
      save = true;
    } else if (opt === 'now') now = true;
    else if (opt === 'force') force = true;
    else if (opt === 'abort') abort = true;
    else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  // ABORT with any other option is illegal (ABORT again is not).
  if ((abort && (save !== null || now || force)) || conflicting) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  if (abort) {
    if (ctx.host.abortShutdown()) ctx.reply.ok();
    else ctx.reply.error('ERR No shutdown in progress.');
    return;
  }
  if (!now && ctx.inExec) {
    ctx.reply.error("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client");
    return;
  }
  const conn = ctx.conn;
  ctx.host
    .shutdown({ save, force, now })
    .then((done) => {
      if (done || conn === null || conn.closed) return;
      ctx.reply.error('ERR Errors trying to SHUTDOWN. Check logs.');
      conn.flush();
    })
    .catch((e: unknown) => ctx.host.logger.error({ err: e }, 'shutdown failed'));
}

function padWithZeros(s: string, size: number): string {
  const b = Buffer.alloc(size);
  b.latin1Write(s, 0);
  return b.latin1Slice(0, size);
}

const memoryCommands: CommandImpl[] = [
  {
    name: 'memory|usage',
    run(ctx, argv) {
      // Options first, as Redis reads them (SAMPLES may repeat; Vireo's sizes are exact, so the count only needs to be valid).
      for (let j = 3; j < argv.length; j++) {
        if (!eq(argv[j]!, 'samples') || j + 1 >= argv.length) {
          ctx.reply.error(ERR.SYNTAX);
          return;
        }
        const samples = argLong(ctx, argv[++j]!);
        if (samples === null) return;
        if (samples < 0) {
          ctx.reply.error(ERR.SYNTAX);
          return;
        }
      }
      // Redis looks the key up with dictFind: no expiry, no access update.
      const v = ctx.db.get(argv[2]!);
      if (v === undefined) ctx.reply.nullBulk();
      else ctx.reply.integer(keyMemoryUsage(argv[2]!, v));
    },
  },
  {
    name: 'memory|purge',
    run(ctx) {
      // Full collections and the young generation shrunk: used_memory then counts live data only
      // (the bench measures after it), and the RSS holds no young generation grown by a load.
      // (No malloc_trim here: FLUSHALL and the idle reclaim trim where the big frees are, and tests
      // take PURGE as the point from which a burst's RSS growth is measured, malloc's reused pages included.)
      // Indexes first: the slabs their outgrown blocks kept go with this collection.
      ctx.engine.compactIndexes();
      reduceHeap();
      // The code that ran since the last drop (the node binary's file pages) out of the RSS: src/util/gc.ts.
      dropFilePages();
      ctx.reply.ok();
    },
  },
  {
    name: 'memory|stats',
    run(ctx) {
      const entries = memoryStatsEntries(ctx.host.memoryOverhead().overhead);
      const r = ctx.reply;
      r.map(entries.length);
      for (const [name, v] of entries) {
        r.bulk(name);
        if ('int' in v) r.integer(v.int);
        else if ('float' in v) r.double(v.float);
        else {
          r.map(2);
          r.bulk('overhead.hashtable.main');
          r.integer(v.db.main);
          r.bulk('overhead.hashtable.expires');
          r.integer(v.db.expires);
        }
      }
    },
  },
  {
    name: 'memory|doctor',
    run(ctx) {
      const { overhead, counts } = ctx.host.memoryOverhead();
      ctx.reply.verbatim(memoryDoctorReport(overhead, counts));
    },
  },
  { name: 'memory|malloc-stats', run: (ctx) => ctx.reply.verbatim(mallocStatsReport()) },
  {
    name: 'memory|help',
    run(ctx) {
      replyHelp(ctx, 'MEMORY', [
        'DOCTOR',
        '    Return memory problems reports.',
        'MALLOC-STATS',
        '    Return internal statistics report from the memory allocator.',
        'PURGE',
        '    Attempt to purge dirty pages for reclamation by the allocator.',
        'STATS',
        '    Return information about the memory usage of the server.',
        'USAGE <key> [SAMPLES <count>]',
        '    Return memory in bytes used by <key> and its value. Nested values are',
        '    sampled up to <count> times (default: 5, 0 means sample all).',
      ]);
    },
  },
];

export const serverCommands: CommandImpl[] = [
  ...memoryCommands,
  {
    name: 'info',
    run: (ctx, argv) => ctx.reply.verbatim(ctx.host.info(argv.slice(1))),
  },
  { name: 'config|get', run: configGet },
  { name: 'config|set', run: configSet },
  {
    name: 'config|resetstat',
    run(ctx) {
      ctx.host.resetStats();
      ctx.reply.ok();
    },
  },
  { name: 'config|rewrite', run: configRewrite },
  { name: 'config|help', run: (ctx) => replyHelp(ctx, 'CONFIG', CONFIG_HELP) },
  { name: 'dbsize', run: (ctx) => ctx.reply.integer(ctx.db.size) },
  { name: 'flushdb', run: flushdb },
  { name: 'flushall', run: flushall },
  { name: 'swapdb', run: swapdb },
  {
    name: 'time',
    run(ctx) {
      const us = BigInt(Date.now()) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
      ctx.reply.array(2);
      ctx.reply.bulk((us / 1000000n).toString());
      ctx.reply.bulk((us % 1000000n).toString());
    },
  },
  { name: 'shutdown', run: shutdown },
  {
    name: 'monitor',
    run(ctx) {
      const conn = ctx.connection();
      if (conn.monitor || ctx.kind === 'replica') return;
      conn.monitor = true;
      ctx.host.monitors.add(conn);
      ctx.reply.ok();
    },
  },
  { name: 'debug', run: debug },
];

/** C's strtod without an end check: the longest numeric prefix after leading spaces, 0 when there is none. */
function strtodPrefix(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?(?:inf(?:inity)?|nan|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?))/i.exec(s);
  if (m === null) return 0;
  const n = Number(m[1]!.replace(/^([+-]?)inf(inity)?$/i, '$1Infinity'));
  return Number.isNaN(n) ? 0 : n;
}
