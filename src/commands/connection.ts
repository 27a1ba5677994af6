/**
 * Connection commands: PING ECHO QUIT RESET AUTH HELLO SELECT and CLIENT.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext, Connection, MasterClientView } from './context.js';
import { ERR, argDbIndex, argLong, eq, replyHelp, cstr } from './util.js';
import { parseInt64, parseLong } from '../util/numbers.js';
import { REPLY_SLAB_SIZE } from '../protocol/writer.js';
import { trackingCommands, trackingListFlags, trackingRedirect } from './tracking.js';

function ping(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 2) {
    ctx.reply.error(`ERR wrong number of arguments for 'ping' command`);
    return;
  }
  // A RESP2 connection in Pub/Sub mode reads every reply as a message: PING answers as one.
  if (ctx.conn !== null && ctx.conn.inPubSub && ctx.reply.resp === 2) {
    ctx.reply.array(2);
    ctx.reply.bulk('pong');
    ctx.reply.bulk(argv.length === 1 ? '' : argv[1]!);
    return;
  }
  if (argv.length === 1) ctx.reply.simple('PONG');
  else ctx.reply.bulk(argv[1]!);
}

/** AUTH / HELLO AUTH against the ACL users; true on success (a refusal is logged and answered by the host). */
function checkPassword(ctx: CommandContext, user: string, password: string, command: string): boolean {
  const u = ctx.host.acl.authenticate(user, password);
  if (u !== null) {
    ctx.connection().setAuthenticated(u);
    return true;
  }
  ctx.host.authFailed(ctx, user, command);
  return false;
}

function auth(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 3) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  if (argv.length === 2 && ctx.host.acl.defaultUser.nopass) {
    ctx.reply.error(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
    return;
  }
  const user = argv.length === 3 ? argv[1]! : 'default';
  const password = argv[argv.length - 1]!;
  if (checkPassword(ctx, user, password, argv[0]!)) ctx.reply.ok();
}

/** Redis' validateClientName: printable ASCII without spaces. */
function validName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 33 || ch > 126) return false;
  }
  return true;
}

const BAD_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';

function hello(ctx: CommandContext, argv: string[]): void {
  let ver = 0;
  let next = 1;
  if (argv.length >= 2) {
    const v = parseLong(argv[next++]!);
    if (v === null) {
      ctx.reply.error('ERR Protocol version is not an integer or out of range');
      return;
    }
    if (v < 2 || v > 3) {
      ctx.reply.error('NOPROTO unsupported protocol version');
      return;
    }
    ver = v;
  }
  let user: string | null = null;
  let password: string | null = null;
  let name: string | null = null;
  for (let j = next; j < argv.length; j++) {
    const moreArgs = argv.length - 1 - j;
    const opt = argv[j]!;
    if (eq(opt, 'auth') && moreArgs >= 2) {
      user = argv[j + 1]!;
      password = argv[j + 2]!;
      j += 2;
    } else if (eq(opt, 'setname') && moreArgs >= 1) {
      name = argv[j + 1]!;
      if (!validName(name)) {
        ctx.reply.error(BAD_NAME);
        return;
      }
      j++;
    } else {
      ctx.reply.error(`ERR Syntax error in HELLO option '${cstr(opt)}'`);
      return;
    }
  }
  if (user !== null && password !== null && !checkPassword(ctx, user, password, argv[0]!)) return;
  if (!ctx.connection().authenticated) {
    ctx.reply.error(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
    return;
  }
  if (name !== null) ctx.name = name;
  if (ver !== 0) ctx.reply.resp = ver as 2 | 3;
  const r = ctx.reply;
  r.map(7);
  r.bulk('server');
  r.bulk('redis');
  r.bulk('version');
  r.bulk(ctx.host.redisVersion);
  r.bulk('proto');
  r.integer(r.resp);
  r.bulk('id');
  r.integer(ctx.id);
  r.bulk('mode');
  r.bulk('standalone');
  r.bulk('role');
  r.bulk(ctx.engine.isReplica ? 'replica' : 'master');
  r.bulk('modules');
  r.array(0);
}

function reset(ctx: CommandContext): void {
  ctx.host.resetClient(ctx.connection());
  ctx.reply.simple('RESET');
}

function select(ctx: CommandContext, argv: string[]): void {
  const id = argDbIndex(ctx, argv[1]!);
  if (id === null) return;
  ctx.select(id);
  ctx.reply.ok();
}

// ---- CLIENT ------------------------------------------------------------------------

/** The flags field of CLIENT LIST. */
function clientFlags(conn: Connection): string {
  const ctx = conn.ctx;
  let f = '';
  if (conn.monitor) f += 'O';
  else if (ctx.kind === 'replica') f += 'S';
  if (ctx.kind === 'master') f += 'M';
  if (ctx.kind === 'pubsub') f += 'P';
  if (ctx.multi !== null) f += 'x';
  if (ctx.host.isBlocked(conn)) f += 'b';
  f += trackingListFlags(conn);
  if (ctx.casDirty) f += 'd';
  if (conn.closeAfterReply) f += 'c';
  if (conn.addr.startsWith('/')) f += 'U';
  if (conn.readonlyMode) f += 'r';
  if (conn.noEvict) f += 'e';
  if (ctx.noTouch) f += 'T';
  return f === '' ? 'N' : f;
}

/** One CLIENT LIST / CLIENT INFO line, with Redis 7.2's fields. */
export function clientInfoLine(conn: Connection): string {
  const ctx = conn.ctx;
  const now = Math.floor(Date.now() / 1000);
  const m = conn.memoryReport();
  // A command held by CLIENT PAUSE shows as the one it runs, as in Redis.
  const cmd = ctx.current ?? conn.heldCommand;
  const lastCmd = cmd !== null ? cmd.name : conn.lastCommand;
  const subs = conn.subscriptions;
  return (
    `id=${conn.id} addr=${conn.addr} laddr=${conn.laddr} fd=${conn.fd} name=${ctx.name}` +
    ` age=${now - Math.floor(conn.createdAt / 1000)} idle=${now - Math.floor(conn.lastInteraction / 1000)}` +
    ` flags=${clientFlags(conn)} db=${ctx.db.id} sub=${subs?.channels.size ?? 0} psub=${subs?.patterns.size ?? 0} ssub=${subs?.shardChannels.size ?? 0} multi=${ctx.multi === null ? -1 : ctx.multi.length}` +
    ` qbuf=${m.qbuf} qbuf-free=${m.qbufFree} argv-mem=${m.argvMem} multi-mem=${m.multiMem}` +
    ` rbs=${REPLY_SLAB_SIZE} rbp=${conn.outputPeak} obl=${m.obl} oll=${m.oll} omem=${m.omem}` +
    ` tot-mem=${m.totMem} events=${m.writing ? 'rw' : 'r'} cmd=${lastCmd} user=${conn.user} redir=${trackingRedirect(conn)} resp=${ctx.reply.resp}` +
    ` lib-name=${conn.libName} lib-ver=${conn.libVer}`
  );
}

/** The CLIENT LIST line of the link with the primary (Redis' master client: no user, its own commands' stats). */
function masterInfoLine(m: MasterClientView): string {
  const now = Math.floor(Date.now() / 1000);
  return (
    `id=${m.id} addr=${m.addr} laddr=${m.laddr} fd=${m.fd} name= age=${now - Math.floor(m.createdAt / 1000)} idle=${now - Math.floor(m.lastInteraction / 1000)}` +
    ` flags=M${m.multi >= 0 ? 'x' : ''} db=${m.db} sub=0 psub=0 ssub=0 multi=${m.multi}` +
    ` qbuf=${m.qbuf} qbuf-free=0 argv-mem=0 multi-mem=0 rbs=${REPLY_SLAB_SIZE} rbp=0 obl=0 oll=0 omem=0` +
    ` tot-mem=${m.qbuf} events=r cmd=${m.lastCommand} user=(superuser) redir=-1 resp=2 lib-name= lib-ver=`
  );
}

function clientKindOf(conn: Connection): string {
  return conn.ctx.kind;
}

function parseClientType(t: string): string | null {
  const v = t.toLowerCase();
  if (v === 'normal' || v === 'master' || v === 'pubsub') return v;
  if (v === 'replica' || v === 'slave') return 'replica';
  return null;
}

function clientList(ctx: CommandContext, argv: string[]): void {
  let clients = [...ctx.host.clients.values()];
  let master = ctx.host.replica.masterConnection();
  if (argv.length === 4 && eq(argv[2]!, 'type')) {
    const t = parseClientType(argv[3]!);
    if (t === null) {
      ctx.reply.error(`ERR Unknown client type '${cstr(argv[3]!)}'`);
      return;
    }
    clients = clients.filter((x) => clientKindOf(x) === t);
    if (t !== 'master') master = null;
  } else if (argv.length > 3 && eq(argv[2]!, 'id')) {
    const ids = new Set<number>();
    for (const raw of argv.slice(3)) {
      // Any integer is an ID to look for; those that match no client list nothing.
      const id = parseLong(raw);
      if (id === null) {
        ctx.reply.error('ERR Invalid client ID');
        return;
      }
      ids.add(id);
    }
    clients = clients.filter((x) => ids.has(x.id));
    if (master !== null && !ids.has(master.id)) master = null;
  } else if (argv.length !== 2) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  // In ID order, as Redis lists its clients in the order they were made.
  let text = '';
  for (const x of clients) {
    if (master !== null && master.id < x.id) {
      text += masterInfoLine(master) + '\n';
      master = null;
    }
    text += clientInfoLine(x) + '\n';
  }
  if (master !== null) text += masterInfoLine(master) + '\n';
  ctx.reply.verbatim(text);
}

interface KillFilter {
  id?: number;
  type?: string;
  addr?: string;
  laddr?: string;
  user?: string;
  skipMe: boolean;
}

/**
 * CLIENT KILL's filters, parsed in order as Redis does: the first bad
 * option or value answers, even if a later option has no value. Null when
 * an error was sent.
 */
function parseKillFilters(ctx: CommandContext, argv: string[]): KillFilter | null {
  const f: KillFilter = { skipMe: true };
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i]!.toLowerCase();
    const val = argv[i + 1];
    if (val === undefined) {
      ctx.reply.error(ERR.SYNTAX);
      return null;
    }
    if (opt === 'id') {
      const id = parseLong(val);
      if (id === null || id <= 0) {
        ctx.reply.error('ERR client-id should be greater than 0');
        return null;
      }
      f.id = id;
    } else if (opt === 'type') {
      const t = parseClientType(val);
      if (t === null) {
        ctx.reply.error(`ERR Unknown client type '${val}'`);
        return null;
      }
      f.type = t;
    } else if (opt === 'addr') f.addr = val;
    else if (opt === 'laddr') f.laddr = val;
    else if (opt === 'user') {
      if (ctx.host.acl.get(val) === undefined) {
        ctx.reply.error(`ERR No such user '${val}'`);
        return null;
      }
      f.user = val;
    } else if (opt === 'skipme') {
      if (eq(val, 'yes')) f.skipMe = true;
      else if (eq(val, 'no')) f.skipMe = false;
      else {
        ctx.reply.error(ERR.SYNTAX);
        return null;
      }
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return null;
    }
  }
  return f;
}

function clientKill(ctx: CommandContext, argv: string[]): void {
  // Old form, CLIENT KILL addr:port: may kill the caller, answers OK or an error.
  const oldForm = argv.length === 3;
  const f = oldForm ? { addr: argv[2]!, skipMe: false } : parseKillFilters(ctx, argv);
  if (f === null) return;
  const me = ctx.connection();
  const victims: Connection[] = [];
  for (const x of ctx.host.clients.values()) {
    if (f.id !== undefined && x.id !== f.id) continue;
    if (f.type !== undefined && clientKindOf(x) !== f.type) continue;
    if (f.addr !== undefined && x.addr !== f.addr) continue;
    if (f.laddr !== undefined && x.laddr !== f.laddr) continue;
    if (f.user !== undefined && x.user !== f.user) continue;
    if (x === me && f.skipMe) continue;
    victims.push(x);
  }
  // The master client matches no user filter (it has none, as in Redis).
  const master = ctx.host.replica.masterConnection();
  const killMaster =
    master !== null &&
    (f.id === undefined || master.id === f.id) &&
    (f.type === undefined || f.type === 'master') &&
    (f.addr === undefined || master.addr === f.addr) &&
    (f.laddr === undefined || master.laddr === f.laddr) &&
    f.user === undefined;
  const killed = victims.length + (killMaster ? 1 : 0);
  if (!oldForm) ctx.reply.integer(killed);
  else if (killed === 0) ctx.reply.error('ERR No such client');
  else ctx.reply.ok();
  for (const v of victims) killClient(me, v);
  if (killMaster) ctx.host.replica.killMasterLink();
}

function killClient(self: Connection, victim: Connection): void {
  if (victim === self) victim.closeAfterReply = true;
  else {
    victim.flush();
    victim.close();
  }
}

const LLONG_MAX = 0x7fffffffffffffffn;

/**
 * CLIENT PAUSE timeout [WRITE|ALL], checked in Redis 7.2's order: the
 * mode, then the timeout (getTimeoutFromObjectOrReply, which refuses one
 * that would overflow once added to the current time).
 */
function clientPause(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 4) {
    ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv[1]!)}'. Try CLIENT HELP.`);
    return;
  }
  let mode: 'all' | 'write' = 'all';
  if (argv.length === 4) {
    if (eq(argv[3]!, 'write')) mode = 'write';
    else if (!eq(argv[3]!, 'all')) {
      ctx.reply.error('ERR CLIENT PAUSE mode must be WRITE or ALL');
      return;
    }
  }
  const ms = parseInt64(argv[2]!);
  if (ms === null) {
    ctx.reply.error('ERR timeout is not an integer or out of range');
    return;
  }
  if (ms < 0n) {
    ctx.reply.error('ERR timeout is negative');
    return;
  }
  if (ms > LLONG_MAX - BigInt(Date.now())) {
    ctx.reply.error('ERR timeout is out of range');
    return;
  }
  ctx.host.pauseClients(mode, Number(ms));
  ctx.reply.ok();
}

function onOff(ctx: CommandContext, arg: string, set: (on: boolean) => void): void {
  if (eq(arg, 'on')) set(true);
  else if (eq(arg, 'off')) set(false);
  else {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  ctx.reply.ok();
}

const CLIENT_HELP = [
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  '    * ID <client-id>',
  '      Kill connections by client id.',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'SETINFO <option> <value>',
  '    Set client meta attr. Options are:',
  '    * LIB-NAME: the client lib name.',
  '    * LIB-VER: the client lib version.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
  '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
  'NO-TOUCH (ON|OFF)',
  "    Will not touch LRU/LFU stats when this mode is on.",
];

const clientCommands: CommandImpl[] = [
  { name: 'client|id', run: (ctx) => ctx.reply.integer(ctx.id) },
  {
    name: 'client|getname',
    run: (ctx) => (ctx.name === '' ? ctx.reply.nullBulk() : ctx.reply.bulk(ctx.name)),
  },
  {
    name: 'client|setname',
    run(ctx, argv) {
      if (!validName(argv[2]!)) {
        ctx.reply.error(BAD_NAME);
        return;
      }
      ctx.name = argv[2]!;
      ctx.reply.ok();
    },
  },
  { name: 'client|list', run: clientList },
  { name: 'client|info', run: (ctx) => ctx.reply.verbatim(clientInfoLine(ctx.connection()) + '\n') },
  { name: 'client|kill', run: clientKill },
  { name: 'client|unblock', run: clientUnblock },
  { name: 'client|pause', run: clientPause },
  {
    name: 'client|unpause',
    run(ctx) {
      ctx.host.unpauseClients();
      ctx.reply.ok();
    },
  },
  {
    name: 'client|reply',
    run(ctx, argv) {
      const mode = argv[2]!.toLowerCase();
      if (mode === 'on') {
        ctx.connection().replyOff = false;
        ctx.connection().replySkip = false;
        ctx.reply.muted = false;
        ctx.reply.ok();
      } else if (mode === 'off') {
        ctx.connection().replyOff = true;
      } else if (mode === 'skip') {
        if (!ctx.connection().replyOff) ctx.connection().replySkipNext = true;
      } else {
        ctx.reply.error(ERR.SYNTAX);
      }
    },
  },
  { name: 'client|no-evict', run: (ctx, argv) => onOff(ctx, argv[2]!, (on) => (ctx.connection().noEvict = on)) },
  { name: 'client|no-touch', run: (ctx, argv) => onOff(ctx, argv[2]!, (on) => (ctx.noTouch = on)) },
  { name: 'client|capa', run: clientCapa },
  {
    name: 'client|setinfo',
    run(ctx, argv) {
      const attr = argv[2]!;
      const value = argv[3]!;
      const which = attr.toLowerCase();
      if (which !== 'lib-name' && which !== 'lib-ver') {
        ctx.reply.error(`ERR Unrecognized option '${attr}'`);
        return;
      }
      if (!validName(value)) {
        ctx.reply.error(`ERR ${attr} cannot contain spaces, newlines or special characters.`);
        return;
      }
      if (which === 'lib-name') ctx.connection().libName = value;
      else ctx.connection().libVer = value;
      ctx.reply.ok();
    },
  },
  { name: 'client|help', run: (ctx) => replyHelp(ctx, 'CLIENT', CLIENT_HELP) },
  ...trackingCommands,
];

/**
 * CLIENT CAPA capability [capability ...] (Valkey 8): what the client
 * library can handle. `redirect`: on a replica, its data commands are
 * answered with -REDIRECT to the primary (dispatch.ts). Capabilities it
 * does not know are ignored, as Valkey does.
 */
function clientCapa(ctx: CommandContext, argv: string[]): void {
  for (let i = 2; i < argv.length; i++) if (eq(argv[i]!, 'redirect')) ctx.connection().capaRedirect = true;
  ctx.reply.ok();
}

/** CLIENT UNBLOCK id [TIMEOUT | ERROR]: 1 when the client was inside a blocking command. */
function clientUnblock(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 4) {
    ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv[1]!)}'. Try CLIENT HELP.`);
    return;
  }
  // As in Redis, the reason is checked before the id is parsed.
  let withError = false;
  if (argv.length === 4) {
    if (eq(argv[3]!, 'error')) withError = true;
    else if (!eq(argv[3]!, 'timeout')) {
      ctx.reply.error('ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR');
      return;
    }
  }
  const id = argLong(ctx, argv[2]!);
  if (id === null) return;
  const target = ctx.host.clients.get(id);
  ctx.reply.integer(target !== undefined && ctx.host.unblockClient(target, withError) ? 1 : 0);
}

export const connectionCommands: CommandImpl[] = [
  { name: 'ping', run: ping },
  { name: 'echo', run: (ctx, argv) => ctx.reply.bulk(argv[1]!) },
  {
    name: 'quit',
    run(ctx) {
      ctx.reply.ok();
      ctx.connection().closeAfterReply = true;
    },
  },
  { name: 'reset', run: reset },
  { name: 'auth', run: auth },
  { name: 'hello', run: hello },
  { name: 'select', run: select },
  ...clientCommands,
];

