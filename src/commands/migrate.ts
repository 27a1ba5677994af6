/**
 * MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE]
 *   [AUTH password] [AUTH2 username password] [KEYS key ...]
 *
 * As Redis' migrateCommand (cluster.c): the keys are serialized as DUMP
 * does, sent as RESTORE commands over a connection cached per target, and
 * the command waits for the target's replies before it returns, the event
 * loop with it (through the native addon's blocking sockets), so no other
 * command can change the keys between their serialization and their
 * deletion. Keys the target acknowledged are deleted unless COPY, and the
 * command is logged as DEL of those keys. The connections: migrate-sockets.ts.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argLong, eq } from './util.js';
import { int64Text } from '../util/numbers.js';
import { NOTIFY } from '../engine/engine.js';
import { DumpPayloads } from '../../persistence/rdb/file.js';
import { addonFunction } from '../scripting/lua-addon.js';
import type { Value } from '../types/value.js';

/** The largest timeout the blocking calls take (ms). */
const MAX_TIMEOUT_MS = 0x7fffffff;
/** syncReadLines' statuses. */
const READ_TIMEOUT = 1;

/** The request is built in a buffer of this size and written each time it fills. */
const WRITE_CHUNK = 64 * 1024;

/**
 * RESP commands written to a blocking socket as they are built, through one
 * 64 KB buffer (a payload larger than what is left goes out on its own);
 * `ok` turns false at the first failed write.
 */
class RequestWriter {
  /** One buffer for every MIGRATE (each runs to its end before the next). */
  private static shared: Buffer | null = null;
  private readonly buf = (RequestWriter.shared ??= Buffer.allocUnsafe(WRITE_CHUNK));
  private pos = 0;
  ok = true;

  constructor(
    private readonly fd: number,
    private readonly timeoutMs: number,
    private readonly write: (fd: number, bytes: Buffer, timeoutMs: number) => number,
  ) {}

  /** One command of latin1 string arguments. */
  add(args: readonly string[]): void {
    this.text(`*${args.length}\r\n`);
    for (const a of args) this.bulk(a);
  }

  /** One argument as a bulk string. */
  bulk(s: string): void {
    this.text(`$${s.length}\r\n`);
    this.text(s);
    this.text('\r\n');
  }

  /** A latin1 string (one byte a character). */
  text(s: string): void {
    if (s.length > WRITE_CHUNK - this.pos) {
      if (s.length > WRITE_CHUNK) {
        this.bytes(Buffer.from(s, 'latin1'));
        return;
      }
      this.flush();
    }
    // Short strings (headers, most keys) by a loop: a latin1Write call costs more than copying them.
    if (s.length <= 32) {
      const buf = this.buf;
      let at = this.pos;
      for (let i = 0; i < s.length; i++) buf[at++] = s.charCodeAt(i);
      this.pos = at;
    } else this.pos += this.buf.latin1Write(s, this.pos);
  }

  bytes(b: Buffer): void {
    if (b.length > WRITE_CHUNK - this.pos) {
      this.flush();
      if (b.length > WRITE_CHUNK) {
        this.send(b);
        return;
      }
    }
    b.copy(this.buf, this.pos);
    this.pos += b.length;
  }

  private send(bytes: Buffer): void {
    if (this.ok) this.ok = this.write(this.fd, bytes, this.timeoutMs) === bytes.length;
  }

  /** Write what is pending; false when this or an earlier write failed. */
  flush(): boolean {
    if (this.pos > 0) {
      this.send(this.buf.subarray(0, this.pos));
      this.pos = 0;
    }
    return this.ok;
  }
}

/** The payloads of every MIGRATE (each runs to its end before the next). */
const dumps = new DumpPayloads();

/** Lines asked of syncReadLines in one call (it takes at most 1M). */
const READ_BATCH = 65536;

/** `count` reply lines, read a batch at a time: the lines that came, and syncReadLines' status for the last batch. */
function readReplies(
  readLines: (fd: number, count: number, timeoutMs: number) => [string[], number],
  fd: number,
  count: number,
  timeoutMs: number,
): [string[], number] {
  const lines: string[] = [];
  let status = 0;
  while (lines.length < count && status === 0) {
    const [batch, batchStatus] = readLines(fd, Math.min(READ_BATCH, count - lines.length), timeoutMs);
    for (const line of batch) lines.push(line);
    status = batchStatus;
  }
  return [lines, status];
}

interface MigrateOptions {
  copy: boolean;
  replace: boolean;
  username: string | null;
  password: string | null;
  /** Index in argv of the first key; the keys run to the end when `keysOption`. */
  firstKey: number;
  keysOption: boolean;
}

/** The options from argv[6] on, in migrateCommand's order of checks; null after replying with its error. */
function parseOptions(ctx: CommandContext, argv: string[]): MigrateOptions | null {
  const o: MigrateOptions = { copy: false, replace: false, username: null, password: null, firstKey: 3, keysOption: false };
  for (let j = 6; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    const opt = argv[j]!;
    if (eq(opt, 'copy')) o.copy = true;
    else if (eq(opt, 'replace')) o.replace = true;
    else if (eq(opt, 'auth')) {
      if (more < 1) return syntaxError(ctx);
      o.password = argv[++j]!;
    } else if (eq(opt, 'auth2')) {
      if (more < 2) return syntaxError(ctx);
      o.username = argv[++j]!;
      o.password = argv[++j]!;
    } else if (eq(opt, 'keys')) {
      if (argv[3]!.length !== 0) {
        ctx.reply.error('ERR When using MIGRATE KEYS option, the key argument must be set to the empty string');
        return null;
      }
      o.firstKey = j + 1;
      o.keysOption = true;
      break;
    } else return syntaxError(ctx);
  }
  return o;
}

/** C's atoi, which Redis reads MIGRATE's port with: leading digits after blanks and a sign, 0 for none ("7000x" is 7000). */
function atoi(s: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(s);
  return m === null ? 0 : Math.trunc(Number(m[1]!)) | 0;
}

function syntaxError(ctx: CommandContext): null {
  ctx.reply.error(ERR.SYNTAX);
  return null;
}

function migrate(ctx: CommandContext, argv: string[]): void {
  const opts = parseOptions(ctx, argv);
  if (opts === null) return;
  let timeout = argLong(ctx, argv[5]!);
  if (timeout === null) return;
  const dbid = argLong(ctx, argv[4]!);
  if (dbid === null) return;
  if (timeout <= 0) timeout = 1000;
  timeout = Math.min(timeout, MAX_TIMEOUT_MS);
  const engine = ctx.engine;
  const db = ctx.db;
  // The keys present; none: +NOKEY (often a key that just expired, not an error).
  const keys: string[] = [];
  const values: Value[] = [];
  const lastKey = opts.keysOption ? argv.length : 4;
  for (let j = opts.firstKey; j < lastKey; j++) {
    const value = engine.lookupRead(db, argv[j]!);
    if (value === undefined) continue;
    keys.push(argv[j]!);
    values.push(value);
  }
  if (keys.length === 0) {
    ctx.reply.simple('NOKEY');
    return;
  }
  const write = addonFunction('syncWrite');
  const readLines = addonFunction('syncReadLines');
  const sockets = ctx.host.migrateSockets;
  const host = argv[1]!;
  const port = String(atoi(argv[2]!));
  const name = `${host}:${port}`;
  // One retry on a new connection when the cached one failed before any reply (it was closed by the peer).
  for (let mayRetry = true; ; mayRetry = false) {
    const socket = write === null || readLines === null ? 'unreachable' : sockets.get(host, port, timeout);
    if (socket === 'unreachable') {
      ctx.reply.error('IOERR error or timeout connecting to the client');
      return;
    }
    // Redis' blocking connect reports a refused or timed-out connection as connected: its first write fails.
    if (socket === 'failed') {
      if (mayRetry) continue;
      ctx.reply.error('IOERR error or timeout writing to target instance');
      return;
    }
    // Written as it is built, 64 KB at a time: a large key costs its payload once, not the whole request.
    const out = new RequestWriter(socket.fd, timeout, write!);
    if (opts.password !== null) out.add(opts.username !== null ? ['AUTH', opts.username, opts.password] : ['AUTH', opts.password]);
    const select = socket.lastDbid !== dbid;
    if (select) out.add(['SELECT', String(dbid)]);
    // Keys that expired since the lookup are left out; a TTL is sent relative, at least 1 ms.
    const sent: string[] = [];
    const compress = ctx.host.config.bool('rdbcompression');
    for (let k = 0; k < keys.length && out.ok; k++) {
      const key = keys[k]!;
      const expireAt = db.getExpire(key);
      let ttl = 0;
      if (expireAt !== -1) {
        ttl = expireAt - engine.now;
        if (ttl < 0) continue;
        if (ttl < 1) ttl = 1;
      }
      sent.push(key);
      // RESTORE key ttl payload [REPLACE], the payload written as it is made.
      out.text(opts.replace ? '*5\r\n$7\r\nRESTORE\r\n' : '*4\r\n$7\r\nRESTORE\r\n');
      out.bulk(key);
      out.bulk(int64Text(ttl));
      dumps.write(values[k]!, compress, (bytes) => out.text(`$${bytes}\r\n`), (piece) => out.bytes(piece));
      out.text('\r\n');
      if (opts.replace) out.bulk('REPLACE');
    }
    if (!out.flush()) {
      sockets.close(name);
      if (mayRetry) continue;
      ctx.reply.error('IOERR error or timeout writing to target instance');
      return;
    }
    const preamble = (opts.password !== null ? 1 : 0) + (select ? 1 : 0);
    const [lines, status] = readReplies(readLines!, socket.fd, preamble + sent.length, timeout);
    if (lines.length < preamble) {
      // The AUTH or SELECT reply did not come.
      sockets.close(name);
      if (mayRetry && status !== READ_TIMEOUT) continue;
      ctx.reply.error('IOERR error or timeout reading to target instance');
      return;
    }
    const authReply = opts.password !== null ? lines[0]! : '+OK';
    const selectReply = select ? lines[preamble - 1]! : '+OK';
    let targetError: string | null = null;
    const moved: string[] = [];
    for (let j = 0; j < lines.length - preamble; j++) {
      const restoreReply = lines[preamble + j]!;
      if (authReply[0] === '-' || selectReply[0] === '-' || restoreReply[0] === '-') {
        // The first error is the one reported; the connection's database is no longer known.
        if (targetError === null) {
          socket.lastDbid = -1;
          targetError = (authReply[0] === '-' ? authReply : selectReply[0] === '-' ? selectReply : restoreReply).slice(1);
        }
      } else if (!opts.copy) {
        const key = sent[j]!;
        engine.deleteKey(db, key);
        ctx.changed(key, NOTIFY.GENERIC, 'del', db);
        moved.push(key);
      }
    }
    const socketError = lines.length < preamble + sent.length;
    // Nothing acknowledged and no reply at all: the cached connection was stale; once more on a new one.
    if (targetError === null && socketError && lines.length === preamble && mayRetry && status !== READ_TIMEOUT) {
      sockets.close(name);
      continue;
    }
    if (socketError) sockets.close(name);
    // Replicas and the AOF see the deletion of what moved, as Redis rewrites the command as DEL.
    if (moved.length > 0) engine.emit(db.id, ['DEL', ...moved], moved.length);
    if (targetError !== null) {
      ctx.reply.error(`ERR Target instance replied with error: ${targetError}`);
      return;
    }
    if (socketError) {
      ctx.reply.error('IOERR error or timeout reading to target instance');
      return;
    }
    socket.lastDbid = dbid;
    ctx.reply.ok();
    return;
  }
}

export const migrateCommands: CommandImpl[] = [{ name: 'migrate', run: migrate }];
