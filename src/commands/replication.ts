/**
 * Replication commands as a primary answers them: SYNC and PSYNC (a
 * connection becomes a replica), REPLCONF (what a replica declares and
 * acknowledges), WAIT and ROLE. The work is in replication/primary.ts.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argLong, argRange, eq, cstr } from './util.js';
import { splitArgs } from '../protocol/parser.js';

/** NET_HOST_STR_LEN in Redis: the longest address REPLCONF ip-address takes. */
const NET_HOST_STR_LEN = 256;

function sync(ctx: CommandContext): void {
  attach(ctx, null, '-1');
}

function psync(ctx: CommandContext, argv: string[]): void {
  // PSYNC <replid> <offset> FAILOVER: our primary hands over (FAILOVER on its side): take over first.
  if (argv.length > 3 && eq(argv[3]!, 'failover')) {
    if (argv[1] !== ctx.host.replIds.replId) {
      ctx.reply.error('ERR PSYNC FAILOVER replid must match my replid.');
      return;
    }
    ctx.host.logger.info(`Failover request received for replid ${argv[1]}.`);
    ctx.host.replica.stopFollowing('failover request');
  }
  // Redis refuses a malformed offset outright (no full sync either).
  if (argLong(ctx, argv[2]!) === null) return;
  attach(ctx, argv[1]!, argv[2]!);
}

/** FAILOVER [TO host port [FORCE]] [ABORT] [TIMEOUT ms], checked in Redis' order. */
function failover(ctx: CommandContext, argv: string[]): void {
  const fo = ctx.host.failover;
  // ABORT only stands alone; anywhere else it is a syntax error.
  if (argv.length === 2 && eq(argv[1]!, 'abort')) {
    if (!fo.inProgress) {
      ctx.reply.error('ERR No failover in progress.');
      return;
    }
    fo.abort('Failover manually aborted');
    ctx.reply.ok();
    return;
  }
  let target: { host: string; port: number } | null = null;
  let force = false;
  let timeoutMs = 0;
  for (let i = 1; i < argv.length; i++) {
    if (eq(argv[i]!, 'timeout') && i + 1 < argv.length && timeoutMs === 0) {
      const t = argLong(ctx, argv[i + 1]!);
      if (t === null) return;
      if (t <= 0) {
        ctx.reply.error('ERR FAILOVER timeout must be greater than 0');
        return;
      }
      timeoutMs = t;
      i++;
    } else if (eq(argv[i]!, 'to') && i + 2 < argv.length && target === null) {
      const port = argLong(ctx, argv[i + 2]!);
      if (port === null) return;
      target = { host: argv[i + 1]!, port };
      i += 2;
    } else if (eq(argv[i]!, 'force') && !force) {
      force = true;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return;
    }
  }
  if (fo.inProgress) {
    ctx.reply.error('ERR FAILOVER already in progress.');
    return;
  }
  if (ctx.engine.isReplica) {
    ctx.reply.error('ERR FAILOVER is not valid when server is a replica.');
    return;
  }
  const primary = ctx.host.primary;
  if (primary.replicaCount === 0) {
    ctx.reply.error('ERR FAILOVER requires connected replicas.');
    return;
  }
  if (force && (timeoutMs === 0 || target === null)) {
    ctx.reply.error('ERR FAILOVER with force option requires both a timeout and target HOST and IP.');
    return;
  }
  if (target !== null) {
    const t = target;
    const state = primary.replicaState(t.host, t.port);
    if (state === null) {
      ctx.reply.error('ERR FAILOVER target HOST and PORT is not a replica.');
      return;
    }
    if (state !== 'online') {
      ctx.reply.error('ERR FAILOVER target replica is not online.');
      return;
    }
  }
  fo.start({ target, force, timeoutMs });
  ctx.reply.ok();
}

function attach(ctx: CommandContext, replId: string | null, offset: string): void {
  const conn = ctx.conn;
  if (conn === null) return; // a log record read back: nothing to serve
  const refusal = ctx.host.syncRefusal();
  if (refusal !== null) {
    ctx.reply.error(refusal);
    return;
  }
  ctx.host.primary.attach(conn, { replId, offset });
}

/** REPLCONF <option> <value> [<option> <value> ...] */
function replconf(ctx: CommandContext, argv: string[]): void {
  if (argv.length % 2 === 0) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  const conn = ctx.conn;
  const primary = ctx.host.primary;
  for (let i = 1; i < argv.length; i += 2) {
    const opt = argv[i]!;
    const value = argv[i + 1]!;
    if (eq(opt, 'listening-port')) {
      const port = argLong(ctx, value);
      if (port === null) return;
      if (conn !== null) primary.capabilities(conn).listeningPort = port;
    } else if (eq(opt, 'ip-address')) {
      if (value.length >= NET_HOST_STR_LEN) {
        ctx.reply.error(`ERR REPLCONF ip-address provided by replica instance is too long: ${value.length} bytes`);
        return;
      }
      if (conn !== null) primary.capabilities(conn).announcedIp = value;
    } else if (eq(opt, 'capa')) {
      if (conn === null) continue;
      // Capabilities this server does not know are ignored, as in Redis.
      if (eq(value, 'eof')) primary.capabilities(conn).eof = true;
      else if (eq(value, 'psync2')) primary.capabilities(conn).psync2 = true;
    } else if (eq(opt, 'ack')) {
      // Sent by replicas in the stream: never answered.
      ack(ctx, argv, i);
      return;
    } else if (eq(opt, 'getack')) {
      // A primary's GETACK is answered by the replica's link to it (replication/stream-applier.ts); from anyone else, nothing.
      return;
    } else if (eq(opt, 'rdb-only')) {
      const on = argRange(ctx, value, 0, 1);
      if (on === null) return;
      if (conn !== null) primary.capabilities(conn).rdbOnly = on === 1;
    } else if (eq(opt, 'rdb-filter-only')) {
      // Include filters, as Redis: the keys are left out, the functions too unless named.
      const filters = splitArgs(value);
      if (filters === null) {
        ctx.reply.error('ERR Missing rdb-filter-only values');
        return;
      }
      let functions = false;
      for (const f of filters) {
        if (!eq(f, 'functions')) {
          ctx.reply.error(`ERR Unsupported rdb-filter-only option: ${cstr(f)}`);
          return;
        }
        functions = true;
      }
      if (conn !== null) primary.capabilities(conn).rdbFilter = { data: false, functions };
    } else {
      ctx.reply.error(`ERR Unrecognized REPLCONF option: ${opt}`);
      return;
    }
  }
  ctx.reply.ok();
}

/** REPLCONF ACK <offset> [FACK <aofoffset>]: only from a replica; no reply. */
function ack(ctx: CommandContext, argv: string[], i: number): void {
  const conn = ctx.conn;
  if (conn === null || ctx.kind !== 'replica') return;
  const offset = parseOffset(argv[i + 1]!);
  if (offset === null) return;
  let aofOffset: number | null = null;
  if (argv.length > i + 3 && eq(argv[i + 2]!, 'fack')) aofOffset = parseOffset(argv[i + 3]!);
  ctx.host.primary.ack(conn, offset, aofOffset);
}

function parseOffset(s: string): number | null {
  if (!/^-?\d{1,19}$/.test(s)) return null;
  const n = Number(s);
  return Number.isSafeInteger(n) ? n : null;
}

/** WAIT numreplicas timeout: how many replicas acknowledged this client's last write. */
function wait(ctx: CommandContext, argv: string[]): void {
  if (ctx.engine.isReplica) {
    ctx.reply.error(
      'ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated.',
    );
    return;
  }
  const numreplicas = argLong(ctx, argv[1]!);
  if (numreplicas === null) return;
  const timeout = argLong(ctx, argv[2]!, 'ERR timeout is not an integer or out of range');
  if (timeout === null) return;
  if (timeout < 0) {
    ctx.reply.error('ERR timeout is negative');
    return;
  }
  const primary = ctx.host.primary;
  const target = ctx.lastWriteOffset;
  const acked = () => primary.acked(target);
  if (acked() >= numreplicas || !ctx.canBlock()) {
    ctx.reply.integer(acked());
    return;
  }
  ctx.host.block(ctx, { kind: 'wait', ready: () => acked() >= numreplicas, wake: () => ctx.reply.integer(acked()) }, timeout);
  primary.requestAcks();
}

/**
 * ROLE: ["master", offset, [[ip, port, offset] ...]] on a primary,
 * ["slave", host, port, state, offset] on a replica.
 */
function role(ctx: CommandContext): void {
  const r = ctx.reply;
  const asReplica = ctx.host.replica.role();
  if (asReplica !== null) {
    const [host, port, state, offset] = asReplica;
    r.array(5);
    r.bulk('slave');
    r.bulk(host);
    r.integer(port);
    r.bulk(state);
    r.integer(offset);
    return;
  }
  const replicas = ctx.host.primary.onlineReplicas();
  r.array(3);
  r.bulk('master');
  r.integer(ctx.engine.log.offset);
  r.array(replicas.length);
  for (const rep of replicas) {
    r.array(3);
    r.bulk(rep.ip);
    r.bulk(String(rep.port));
    r.bulk(String(rep.offset));
  }
}

export const replicationCommands: CommandImpl[] = [
  { name: 'sync', run: sync },
  { name: 'psync', run: psync },
  { name: 'replconf', run: replconf },
  { name: 'wait', run: wait },
  { name: 'role', run: role },
  { name: 'failover', run: failover },
];
