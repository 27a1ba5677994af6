/**
 * Server commands: INFO, CONFIG, DBSIZE, FLUSHDB/FLUSHALL, SWAPDB, TIME,
 * LASTSAVE, SHUTDOWN, MONITOR, DEBUG.
 */

import type { CommandImpl } from './table.js';
import type { Client } from '../server/client.js';
import { ERR, argInt, argLong, argNonNegative, eq, replyHelp, cstr } from './util.js';
import { infoString } from '../server/info.js';
import { ConfigError, type ConfigUndo } from '../config.js';
import { rewriteConfigFile } from '../server/config-rewrite.js';
import { encodingOf, type Value } from '../types/value.js';
import { debugDigest, debugDigestValue, debugLoadAof, debugReload } from './persistence.js';
import { savedObjectLength } from '../../persistence/rdb/file.js';
import { ListValue } from '../types/list.js';
import { objectRefcount } from './keys.js';
import { fullGc, heapUsedBytes } from '../util/gc.js';

function flushArgs(c: Client, argv: string[]): boolean {
  if (argv.length > 2) {
    c.reply.error(ERR.SYNTAX);
    return false;
  }
  if (argv.length === 2 && !eq(argv[1]!, 'sync') && !eq(argv[1]!, 'async')) {
    c.reply.error(ERR.SYNTAX);
    return false;
  }
  return true;
}

/** Heap in use beyond the start-up size from which a flush collects at once. */
const FLUSH_COLLECT_BYTES = 32 * 1024 * 1024;

/**
 * Redis frees a flushed dataset before FLUSHALL/FLUSHDB reply, unless
 * ASYNC or lazyfree-lazy-user-flush: do the same with a full GC when there
 * is much to free (a small heap is left to V8's own pace).
 */
function collectFlushed(c: Client, argv: string[]): void {
  const lazy = argv.length === 2 ? eq(argv[1]!, 'async') : c.server.config.bool('lazyfree-lazy-user-flush');
  if (lazy || heapUsedBytes() - c.server.memory.startup < FLUSH_COLLECT_BYTES) return;
  fullGc();
}

function flushdb(c: Client, argv: string[]): void {
  if (!flushArgs(c, argv)) return;
  const removed = c.engine.flush(c.db);
  c.engine.emit(c.db.id, argv, Math.max(1, removed));
  collectFlushed(c, argv);
  c.reply.ok();
}

function flushall(c: Client, argv: string[]): void {
  if (!flushArgs(c, argv)) return;
  const rdb = c.server.persistence.rdb;
  // Like Redis: a running BGSAVE would write the old data back; with save points, save the empty dataset now.
  rdb.abort();
  const removed = c.engine.flush(null);
  c.engine.emit(c.db.id, argv, Math.max(1, removed));
  collectFlushed(c, argv);
  if (rdb.savePointsConfigured) {
    rdb.save();
    // The FLUSHALL itself still counts as a change (Redis' server.dirty++ after the save).
    c.engine.dirty++;
  }
  c.reply.ok();
}

function swapdb(c: Client, argv: string[]): void {
  // Both indexes are parsed before either is range-checked, as in Redis.
  const a = argInt(c, argv[1]!, 'ERR invalid first DB index');
  if (a === null) return;
  const b = argInt(c, argv[2]!, 'ERR invalid second DB index');
  if (b === null) return;
  const dbs = c.engine.dbs.length;
  if (a < 0 || a >= dbs || b < 0 || b >= dbs) {
    c.reply.error(ERR.DB_RANGE);
    return;
  }
  if (a !== b) {
    const engine = c.engine;
    engine.swapDbs(engine.dbs[a]!, engine.dbs[b]!);
    engine.emit(c.db.id, argv);
  }
  c.reply.ok();
}

function configGet(c: Client, argv: string[]): void {
  const pairs = c.server.config.match(argv.slice(2));
  c.reply.map(pairs.length);
  for (const [k, v] of pairs) {
    c.reply.bulk(k);
    c.reply.bulk(v);
  }
}

/** What Redis answers when a port or bind change cannot be applied (updatePort, applyBind). */
const LISTEN_FAILURES: Record<string, string> = {
  port: 'Unable to listen on this port. Check server logs.',
  bind: 'Failed to bind to specified addresses.',
};

function configSet(c: Client, argv: string[]): void {
  if (argv.length % 2 !== 0) {
    c.reply.error(ERR.SYNTAX);
    return;
  }
  const server = c.server;
  // While listeners are being rebound, other CONFIG SETs wait: the rebind's
  // rollback must not undo them.
  if (server.rebinding !== null && !c.inExec) {
    server.block(c, { kind: CONFIG_SET_WAIT, ready: () => server.rebinding === null, wake: () => configSet(c, argv) }, 0);
    return;
  }
  const pairs: [string, string][] = [];
  for (let i = 2; i < argv.length; i += 2) pairs.push([argv[i]!, argv[i + 1]!]);
  const protectedSetting = server.config.str('enable-protected-configs');
  const protectedAllowed = protectedSetting === 'yes' || (protectedSetting === 'local' && server.isLocal(c));
  let undo: ConfigUndo;
  try {
    undo = server.config.setMany(pairs, { startup: false, protectedAllowed });
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    c.reply.error(e.message);
    return;
  }
  // Redis applies port and bind in the order they were given; the first one names a failure.
  const listenParam = pairs.map(([n]) => server.config.def(n)!.name).find((n) => n in LISTEN_FAILURES);
  const rebinding = listenParam === undefined ? null : server.rebind();
  if (rebinding === null) {
    c.reply.ok();
    return;
  }
  awaitRebind(c, rebinding, undo, listenParam!);
}

const CONFIG_SET_WAIT = 'config-set';

/**
 * A port or bind change binds new sockets, which Node does asynchronously:
 * the reply waits for it (the client is blocked meanwhile). If they cannot
 * be bound, every parameter of the CONFIG SET is put back. Inside EXEC the
 * transaction cannot wait: it answers OK, and a failure is rolled back and
 * logged.
 */
function awaitRebind(c: Client, rebinding: Promise<void>, undo: ConfigUndo, failedOn: string): void {
  const server = c.server;
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
  if (c.inExec) {
    c.reply.ok();
    return;
  }
  server.block(c, {
    kind: CONFIG_SET_WAIT,
    ready: () => outcome !== undefined,
    wake: () => (outcome === null ? c.reply.ok() : c.reply.error(outcome!)),
  }, 0);
}

function configRewrite(c: Client): void {
  const file = c.server.config.file;
  if (file === '') {
    c.reply.error('ERR The server is running without a config file');
    return;
  }
  try {
    rewriteConfigFile(c.server.config, file);
  } catch (e) {
    c.server.logger.warn({ err: e }, 'CONFIG REWRITE failed');
    c.reply.error(`ERR Rewriting config file: ${(e as Error).message}`);
    return;
  }
  c.server.logger.info('CONFIG REWRITE executed with success.');
  c.reply.ok();
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

function debugPopulate(c: Client, argv: string[]): void {
  const count = argNonNegative(c, argv[2]!);
  if (count === null) return;
  const prefix = argv.length >= 4 ? argv[3]! : 'key';
  let size = 0;
  if (argv.length >= 5) {
    const n = argNonNegative(c, argv[4]!);
    if (n === null) return;
    size = n;
  }
  const engine = c.engine;
  const db = c.db;
  for (let j = 0; j < count; j++) {
    const key = `${prefix.split('\0')[0]}:${j}`.slice(0, 127); // Redis: snprintf("%s:%lu") into char[128]
    if (engine.lookupWrite(db, key) !== undefined) continue;
    let value = `value:${j}`;
    // Padded through a buffer so the value is one flat string, as if it came from a client.
    if (size > 0) value = value.length >= size ? value.slice(0, size) : padWithZeros(value, size);
    db.set(key, value);
    engine.modified(db, key);
    // Vireo logs every change: populated keys reach the AOF and replicas too.
    engine.emit(db.id, ['SET', key, value]);
  }
  c.reply.ok();
}

/** DEBUG OBJECT: Redis' line for the value (found with dictFind: no expiry, no access update). */
function debugObject(c: Client, argv: string[]): void {
  const key = argv[2]!;
  const v = c.db.get(key);
  if (v === undefined) {
    c.reply.error(ERR.NO_SUCH_KEY);
    return;
  }
  const word = c.db.accessWord(key, v);
  const ser = savedObjectLength(v, c.server.config.bool('rdbcompression'));
  const idle = c.engine.access.idleSeconds(word);
  let extra = '';
  if (v instanceof ListValue && v.encoding() === 'quicklist') {
    const { nodes, bytes } = v.nodeStats();
    const compressed = c.server.config.int('list-compress-depth') !== 0 ? 1 : 0;
    extra = ` ql_nodes:${nodes} ql_avg_node:${(v.length / nodes).toFixed(2)} ql_listpack_max:${c.server.config.int('list-max-listpack-size')} ql_compressed:${compressed} ql_uncompressed_size:${bytes}`;
  }
  c.reply.simple(`Value at:0x0 refcount:${objectRefcount(c.engine.access, v)} encoding:${encodingOf(v)} serializedlength:${ser} lru:${word} lru_seconds_idle:${idle}${extra}`);
}

/** DEBUG PROTOCOL <type>: sample replies of each RESP type (client test aid). */
function debugProtocol(c: Client, argv: string[]): void {
  const r = c.reply;
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

function debug(c: Client, argv: string[]): void {
  const sub = argv[1]!.toLowerCase();
  if (sub === 'help' && argv.length === 2) {
    replyHelp(c, 'DEBUG', [
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
    c.reply.ok();
  } else if (sub === 'set-active-expire' && argv.length === 3) {
    c.server.activeExpireEnabled = argv[2] !== '0';
    c.reply.ok();
  } else if (sub === 'populate' && argv.length >= 3 && argv.length <= 5) {
    debugPopulate(c, argv);
  } else if (sub === 'object' && argv.length === 3) {
    debugObject(c, argv);
  } else if (sub === 'protocol' && argv.length === 3) {
    debugProtocol(c, argv);
  } else if (sub === 'reload') {
    debugReload(c, argv);
  } else if (sub === 'loadaof' && argv.length === 2) {
    debugLoadAof(c);
  } else if (sub === 'digest' && argv.length === 2) {
    debugDigest(c);
  } else if (sub === 'digest-value' && argv.length >= 2) {
    debugDigestValue(c, argv);
  } else if (sub === 'log' && argv.length === 3) {
    c.server.logger.warn(`DEBUG LOG: ${argv[2]}`);
    c.reply.ok();
  } else {
    c.reply.error(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv[1]!)}'. Try DEBUG HELP.`);
  }
}

function shutdown(c: Client, argv: string[]): void {
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
      c.reply.error(ERR.SYNTAX);
      return;
    }
  }
  if ((abort && argv.length !== 2) || conflicting) {
    c.reply.error(ERR.SYNTAX);
    return;
  }
  if (abort) {
    // Vireo shuts down at once (no waiting for replicas), so there is never one to abort.
    c.reply.error('ERR No shutdown in progress.');
    return;
  }
  if (!now && c.inExec) {
    c.reply.error("ERR SHUTDOWN without NOW or ABORT isn't allowed for DENY BLOCKING client");
    return;
  }
  c.server.logger.warn('User requested shutdown...');
  c.server
    .shutdown({ save, force })
    .then((done) => {
      if (done || c.closed) return;
      c.reply.error('ERR Errors trying to SHUTDOWN. Check logs.');
      c.flush();
    })
    .catch((e: unknown) => c.server.logger.error({ err: e }, 'shutdown failed'));
}

function padWithZeros(s: string, size: number): string {
  const b = Buffer.alloc(size);
  b.latin1Write(s, 0);
  return b.latin1Slice(0, size);
}

/** Approximate heap bytes of a V8 one-byte string of n chars (header + chars, 8-aligned). */
function stringBytes(n: number): number {
  return 16 + Math.ceil(n / 8) * 8;
}

/** MEMORY USAGE estimate for a key: key string, value, and the table entry. */
function memoryUsage(key: string, v: Value): number {
  const entry = 32;
  let value: number;
  if (typeof v === 'string') value = stringBytes(v.length);
  else if (typeof v === 'number') value = 0; // small integers live inside the table entry
  else if (typeof v === 'bigint') value = 24;
  else value = v.memoryUsage();
  return entry + stringBytes(key.length) + value;
}

const memoryCommands: CommandImpl[] = [
  {
    name: 'memory|usage',
    run(c, argv) {
      // Options first, as Redis reads them (SAMPLES may repeat; Vireo's sizes are exact, so the count only needs to be valid).
      for (let j = 3; j < argv.length; j++) {
        if (!eq(argv[j]!, 'samples') || j + 1 >= argv.length) {
          c.reply.error(ERR.SYNTAX);
          return;
        }
        const samples = argLong(c, argv[++j]!);
        if (samples === null) return;
        if (samples < 0) {
          c.reply.error(ERR.SYNTAX);
          return;
        }
      }
      // Redis looks the key up with dictFind: no expiry, no access update.
      const v = c.db.get(argv[2]!);
      if (v === undefined) c.reply.nullBulk();
      else c.reply.integer(memoryUsage(argv[2]!, v));
    },
  },
  {
    name: 'memory|purge',
    run(c) {
      // Pending access stamps go into their compact table first (the cron would, within 1/hz s).
      for (const db of c.engine.dbs) db.foldAccess();
      // A full collection: used_memory then counts live data only (the bench measures after it).
      fullGc();
      c.reply.ok();
    },
  },
  {
    name: 'memory|stats',
    run(c) {
      const m = process.memoryUsage();
      const used = m.heapUsed + m.external;
      const keys = c.engine.totalKeys;
      const fields: [string, number][] = [
        ['peak.allocated', c.server.memory.peak],
        ['total.allocated', used],
        ['startup.allocated', c.server.memory.startup],
        ['keys.count', keys],
        ['keys.bytes-per-key', keys === 0 ? 0 : Math.floor((used - c.server.memory.startup) / keys)],
        ['dataset.bytes', Math.max(0, used - c.server.memory.startup)],
        ['rss.bytes', m.rss],
        ['heap.total', m.heapTotal],
        ['external.bytes', m.external],
      ];
      c.reply.map(fields.length);
      for (const [k, n] of fields) {
        c.reply.bulk(k);
        c.reply.integer(n);
      }
    },
  },
  {
    name: 'memory|doctor',
    run(c) {
      const m = process.memoryUsage();
      c.reply.verbatim(
        `Vireo keeps its data in the V8 heap: ${m.heapUsed} bytes used of ${m.heapTotal} reserved, ${m.external} bytes in buffers, rss ${m.rss}.` +
          ' Run MEMORY PURGE to collect garbage before measuring.\n',
      );
    },
  },
  { name: 'memory|malloc-stats', run: (c) => c.reply.verbatim('Stats not supported for the current allocator\n') },
  {
    name: 'memory|help',
    run(c) {
      replyHelp(c, 'MEMORY', [
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
    run: (c, argv) => c.reply.verbatim(infoString(c.server, argv.slice(1))),
  },
  { name: 'config|get', run: configGet },
  { name: 'config|set', run: configSet },
  {
    name: 'config|resetstat',
    run(c) {
      c.server.resetStats();
      c.reply.ok();
    },
  },
  { name: 'config|rewrite', run: configRewrite },
  { name: 'config|help', run: (c) => replyHelp(c, 'CONFIG', CONFIG_HELP) },
  { name: 'dbsize', run: (c) => c.reply.integer(c.db.size) },
  { name: 'flushdb', run: flushdb },
  { name: 'flushall', run: flushall },
  { name: 'swapdb', run: swapdb },
  {
    name: 'time',
    run(c) {
      const us = BigInt(Date.now()) * 1000n + BigInt(Math.floor((performance.now() % 1) * 1000));
      c.reply.array(2);
      c.reply.bulk((us / 1000000n).toString());
      c.reply.bulk((us % 1000000n).toString());
    },
  },
  { name: 'shutdown', run: shutdown },
  {
    name: 'monitor',
    run(c) {
      if (c.monitor || c.kind === 'replica') return;
      c.monitor = true;
      c.server.monitors.add(c);
      c.reply.ok();
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
