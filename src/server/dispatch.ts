/**
 * Command dispatch, in the order of Redis' processCommand: lookup, arity,
 * protected commands, authentication, transaction rules, then either queue
 * (inside MULTI) or call. call() runs one command as an execution unit and
 * keeps commandstats, MONITOR and CLIENT REPLY semantics.
 */

import { materialize } from '../protocol/deferred-arg.js';
import { F, arityOk, bigArgRefusal } from '../commands/table.js';
import type { Client } from './client.js';
import type { ClientHost } from './client.js';
import type { EffectCheck } from './effect-check.js';
import type { Command } from '../commands/table.js';
import type { Tracking } from '../tracking/tracking.js';
import type { AccessControl } from './auth.js';

/** What dispatch needs from the server (Server implements it). */
export interface DispatchHost extends ClientHost {
  /** Client-side caching: keys read by tracking clients, invalidations held for the reply. */
  readonly tracking: Tracking;
  readonly effectCheck: EffectCheck | null;
  /** ACL users and the -NOPERM refusals (auth.ts). */
  readonly access: AccessControl;
  /** The running script, for -BUSY. */
  readonly scripting: { readonly busyError: string | null };
  /** maxmemory (memory-limit.ts). */
  readonly memoryLimit: MemoryLimit;
  /** The V8 heap's ceiling (heap-guard.ts). */
  readonly heapGuard: HeapGuard;
  /** Per-command timing: commandstats, latency histograms, the slow log, the latency monitor. */
  readonly timing: CommandTiming;
  /** Account a command's time (commandstats), per input batch, while `timing` is not precise. */
  timeCommand(cmd: Command): void;
  accountBatch(): void;
  feedMonitors(c: Client, cmd: Command, argv: string[]): void;
  /** Per-slot CPU and network bytes (CLUSTER SLOT-STATS, cluster-slot-stats-enabled). */
  readonly slotStats: SlotStats;
  /** Sampled key accesses (VIREO HOTKEYS, vireo-hotkeys-sample-rate). */
  readonly hotKeys: HotKeys;
  /** Either of those is on: commands go through observedCall. */
  readonly observeCommands: boolean;
}
import { discardTransaction } from '../commands/transactions.js';
import { WriterMark } from '../protocol/writer.js';
import type { CommandTiming } from './command-timing.js';
import { cstr } from '../commands/util.js';
import { Eviction, OOM_ERROR, type MemoryLimit } from './memory-limit.js';
import { HEAP_OOM_ERROR, type HeapGuard } from './heap-guard.js';
import { MULTI_REQUEST_BYTES, multibulkBytes, type SlotStats } from '../diagnostics/slot-stats.js';
import { commandKeyNames, commandSlot } from '../commands/command-slot.js';
import type { HotKeys } from '../diagnostics/hot-keys.js';
import type { RequestParser } from '../protocol/parser.js';

/** Commands that run immediately even inside MULTI. */
const MULTI_EXEMPT = new Set(['exec', 'discard', 'multi', 'watch', 'quit', 'reset']);

/** What a RESP2 connection in Pub/Sub mode may run (RESP3 mixes pushes with replies: no limit there). */
const PUBSUB_MODE_COMMANDS = new Set(['subscribe', 'ssubscribe', 'psubscribe', 'unsubscribe', 'sunsubscribe', 'punsubscribe', 'ping', 'quit', 'reset']);

function reject(c: Client, cmd: Command | null, msg: string): void {
  // CLIENT REPLY OFF and SKIP mute a refusal as any reply, and a refused
  // command uses SKIP up (Redis' resetClient runs after it too).
  const muted = c.replyOff || c.replySkip;
  if (muted) c.reply.muted = true;
  try {
    refuse(c, cmd, msg);
  } finally {
    if (muted) {
      c.reply.muted = false;
      c.replySkip = false;
    }
  }
}

function refuse(c: Client, cmd: Command | null, msg: string): void {
  if (cmd !== null) cmd.stats.rejected++;
  if (cmd !== null && cmd.name === 'exec') {
    // Redis' execCommandAbort, inside MULTI or not (it also unwatches). The
    // reasons Redis formats itself carry no code there: only ERR is dropped.
    discardTransaction(c.ctx);
    c.reply.error(`EXECABORT Transaction discarded because of: ${msg.startsWith('ERR ') ? msg.slice(4) : msg}`);
    return;
  }
  c.reply.error(msg);
  if (c.ctx.multi !== null) c.ctx.multiError = true;
}

/** Does the client's user lack a permission `argv` needs? Then refused (-NOPERM, ACL LOG) and true. */
function refusedByAcl(server: DispatchHost, c: Client, cmd: Command, argv: string[]): boolean {
  // The default user (every command, key and channel) skips the ACL check altogether.
  if (c.aclUser.unrestricted) return false;
  const denied = server.access.refusal(c, cmd, argv);
  if (denied === null) return false;
  reject(c, cmd, denied);
  return true;
}

/** Is this (EXEC of) a write command, for MISCONF? PING is refused too, as in Redis. */
function deniedOnDiskError(c: Client, cmd: Command): boolean {
  if (cmd.flags & F.WRITE || cmd.name === 'ping') return true;
  const multi = c.ctx.multi;
  return cmd.name === 'exec' && multi !== null && multi.some((q) => (q.cmd.flags & F.WRITE) !== 0);
}

/** Commands that still run over maxmemory inside MULTI (they end it or the connection). */
const MULTI_OOM_EXEMPT = new Set(['exec', 'discard', 'quit', 'reset']);

/**
 * Over maxmemory with nothing to evict: commands that may grow memory are
 * refused, and inside MULTI anything but what ends it (queuing takes memory).
 */
function refusedOnOom(c: Client, cmd: Command): boolean {
  if (cmd.flags & F.DENYOOM) return true;
  const multi = c.ctx.multi;
  if (multi === null) return false;
  if (!MULTI_OOM_EXEMPT.has(cmd.name)) return true;
  return cmd.name === 'exec' && multi.some((q) => (q.cmd.flags & F.DENYOOM) !== 0);
}

/** Does `cmd` carry `flag`, or is it EXEC of a transaction with a command that does? */
function hasFlagOrQueued(c: Client, cmd: Command, flag: number): boolean {
  if (cmd.flags & flag) return true;
  const multi = c.ctx.multi;
  return cmd.name === 'exec' && multi !== null && multi.some((q) => (q.cmd.flags & flag) !== 0);
}

/** A write command, or EXEC of a transaction with one (min-replicas-to-write, read-only replicas). */
function isWrite(c: Client, cmd: Command): boolean {
  return hasFlagOrQueued(c, cmd, F.WRITE);
}

/** Resolve argv to a command, replying with Redis' error when there is none. */
export function lookupOrReject(server: DispatchHost, c: Client, argv: string[]): Command | null {
  // Pipelines repeat one command: comparing a short name beats hashing it for the table.
  const name = argv[0]!;
  let base: Command | undefined;
  if (name === c.lastCommandName) base = c.lastCommandLookup;
  else {
    base = server.table.lookup(name);
    c.lastCommandName = name;
    c.lastCommandLookup = base;
  }
  if (base === undefined) {
    // Redis formats these with %s: each argument ends at its first NUL byte.
    let args = '';
    for (let i = 1; i < argv.length && args.length < 128; i++) args += `'${cstr(argv[i]!).slice(0, 128 - args.length)}' `;
    reject(c, null, `ERR unknown command '${cstr(argv[0]!).slice(0, 128)}', with args beginning with: ${args}`);
    return null;
  }
  if (base.subcommands.size === 0 || argv.length === 1) return base;
  const sub = base.subcommands.get(argv[1]!.toLowerCase());
  if (sub === undefined) {
    reject(c, null, `ERR unknown subcommand '${cstr(argv[1]!).slice(0, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`);
    return null;
  }
  return sub;
}

export function execute(server: DispatchHost, c: Client, argv: string[]): void {
  const cmd = lookupOrReject(server, c, argv);
  // CLIENT LIST's cmd= is what the lookup found, refused or queued as it may be (Redis sets lastcmd there).
  c.lastCommand = cmd === null ? 'NULL' : cmd.name;
  if (cmd === null) return;
  if (!arityOk(cmd, argv.length)) {
    reject(c, cmd, `ERR wrong number of arguments for '${cmd.name}' command`);
    return;
  }
  const tooLong = bigArgRefusal(cmd, argv);
  if (tooLong !== null) {
    reject(c, cmd, `ERR ${tooLong}`);
    return;
  }
  const flags = cmd.flags;
  if (flags & F.PROTECTED && !protectedAllowed(server, c, cmd)) {
    const which = cmd.name.startsWith('module') ? 'MODULE' : 'DEBUG';
    const opt = which === 'MODULE' ? 'enable-module-command' : 'enable-debug-command';
    reject(
      c,
      cmd,
      `ERR ${which} command not allowed. If the ${opt} option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`,
    );
    return;
  }
  if (!c.authenticated && !(flags & F.NO_AUTH)) {
    reject(c, cmd, 'NOAUTH Authentication required.');
    return;
  }
  if (refusedByAcl(server, c, cmd, argv)) return;
  if (c.capaRedirect && server.engine.isReplica && c.ctx.kind !== 'master' && redirected(server, c, cmd)) return;
  // Keep the tracking table within tracking-table-max-keys (where Redis' processCommand does).
  if (server.tracking.clientCount > 0) server.tracking.enforceLimit();
  const memoryLimit = server.memoryLimit;
  if (memoryLimit.maxmemory > 0 && c.ctx.kind !== 'master') {
    const oom = memoryLimit.perform() === Eviction.Fail;
    memoryLimit.oomAtCommandStart = oom;
    if (oom && refusedOnOom(c, cmd)) {
      reject(c, cmd, OOM_ERROR);
      return;
    }
  }
  if (server.heapGuard.check() && c.ctx.kind !== 'master' && refusedOnOom(c, cmd)) {
    reject(c, cmd, HEAP_OOM_ERROR);
    return;
  }
  const persistence = server.persistence;
  if (deniedOnDiskError(c, cmd)) {
    const misconf = persistence.misconf();
    if (misconf !== null && c.ctx.kind !== 'master') {
      reject(c, cmd, misconf);
      return;
    }
  }
  const noReplicas = server.primary.writesRefused;
  if (noReplicas !== null && isWrite(c, cmd) && !server.engine.isReplica && c.ctx.kind !== 'master') {
    reject(c, cmd, noReplicas);
    return;
  }
  // Redis' order: READONLY, then the Pub/Sub context, then MASTERDOWN.
  const replicaRefused = server.engine.isReplica ? replicaRefusal(server, c, cmd) : null;
  if (replicaRefused !== null && replicaRefused.startsWith('READONLY')) {
    reject(c, cmd, replicaRefused);
    return;
  }
  if (c.inPubSub && c.reply.resp === 2 && !PUBSUB_MODE_COMMANDS.has(cmd.name)) {
    reject(c, cmd, `ERR Can't execute '${cmd.name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context`);
    return;
  }
  if (replicaRefused !== null) {
    reject(c, cmd, replicaRefused);
    return;
  }
  // Async loading (a replica's background swapdb load) refuses only what would act on the dataset as a whole.
  if (persistence.loading !== null && (persistence.asyncLoading ? (flags & F.NO_ASYNC_LOADING) !== 0 : !(flags & F.LOADING))) {
    reject(c, cmd, 'LOADING Redis is loading the dataset in memory');
    return;
  }
  const busy = server.scripting.busyError;
  if (busy !== null && (!(flags & F.ALLOW_BUSY) || (cmd.name === 'shutdown' && !argv.some((a) => a.toLowerCase() === 'nosave')))) {
    // A script runs past busy-reply-threshold: only what can stop it (or the server) is served.
    reject(c, cmd, busy);
    return;
  }
  const multi = c.ctx.multi;
  if (multi !== null) {
    const top = cmd.parent ?? cmd;
    if (!MULTI_EXEMPT.has(top.name)) {
      // MULTI and WATCH carry no_multi too but answer for themselves.
      if (flags & F.NO_MULTI) {
        reject(c, cmd, 'ERR Command not allowed inside a transaction');
        return;
      }
      // Queued past this read: a SET's value left in the query buffer becomes a string.
      materialize(argv);
      multi.push({ cmd, argv });
      if (server.slotStats.enabled) server.slotStats.queued(commandSlot(cmd, argv), requestBytes(c.parser, argv));
      c.reply.simple('QUEUED');
      return;
    }
  }
  call(server, c, cmd, argv);
}

/**
 * Valkey 8's replica redirection: a client that declared CLIENT CAPA
 * redirect gets `-REDIRECT host:port` of the primary for a write, and for
 * a read unless it sent READONLY (EXEC by the commands it queued). Inside
 * MULTI the refusal fails the transaction; at EXEC it discards it.
 */
function redirected(server: DispatchHost, c: Client, cmd: Command): boolean {
  if (!isWrite(c, cmd) && (c.readonlyMode || !hasFlagOrQueued(c, cmd, F.READONLY))) return false;
  const primary = server.replica.primaryAddress();
  if (primary === null) return false;
  if (cmd.name === 'exec') discardTransaction(c.ctx);
  else if (c.ctx.multi !== null) c.ctx.multiError = true;
  c.reply.error(`REDIRECT ${primary}`);
  return true;
}

/** READONLY / MASTERDOWN on a replica, as Redis' processCommand decides them; EXEC by the commands it queued. */
function replicaRefusal(server: DispatchHost, c: Client, cmd: Command): string | null {
  const queued = cmd.name === 'exec' ? c.ctx.multi : null;
  const deniedWhenStale = (cmd.flags & F.STALE) === 0 || (queued !== null && queued.some((q) => (q.cmd.flags & F.STALE) === 0));
  return server.replica.refusal(isWrite(c, cmd), deniedWhenStale);
}

function protectedAllowed(server: DispatchHost, c: Client, cmd: Command): boolean {
  const setting = server.config.str(cmd.name.startsWith('module') ? 'enable-module-command' : 'enable-debug-command');
  return setting === 'yes' || (setting === 'local' && server.isLocal(c));
}

/**
 * The execution unit itself: run `cmd` on `c`'s context between the
 * engine's begin and end (one log unit), under the effect check, and note
 * the log offset it reached. `rawSource`: the parser still holds argv's
 * bytes, which the log may copy as they came.
 */
function runUnit(server: DispatchHost, c: Client, cmd: Command, argv: string[], rawSource: boolean, mark: WriterMark): void {
  const engine = server.engine;
  const ctx = c.ctx;
  c.reply.markAt(mark);
  const offsetBefore = engine.log.offset;
  engine.begin();
  // CLIENT NO-TOUCH: lookups leave access times alone, except TOUCH's own.
  engine.noTouch = ctx.noTouch && cmd.name !== 'touch';
  if (rawSource) engine.setSource(c.parser);
  const check = server.effectCheck;
  if (check !== null) check.before(ctx, cmd, argv);
  try {
    cmd.run!(ctx, argv);
  } catch (e) {
    c.reply.rollbackTo(mark);
    c.reply.error(server.internalError(e, `executing '${cmd.name}'`, c, argv));
  } finally {
    engine.end();
  }
  if (check !== null) check.after(ctx, cmd, argv);
  if (engine.log.offset !== offsetBefore) ctx.lastWriteOffset = engine.log.offset;
}

/**
 * Run one command as an execution unit on client `c`'s context and account
 * for it. `nested` is set for commands run by EXEC (or scripts): reply
 * modes belong to the outer one.
 */
export function call(server: DispatchHost, c: Client, cmd: Command, argv: string[], nested = false): void {
  // Per-slot stats and hot keys cost this one check while both are off.
  if (server.observeCommands) observedCall(server, c, cmd, argv, nested);
  else runCall(server, c, cmd, argv, nested);
}

/** call() with per-slot accounting and hot-key sampling around it. */
function observedCall(server: DispatchHost, c: Client, cmd: Command, argv: string[], nested: boolean): void {
  if (nested) {
    runCall(server, c, cmd, argv, true);
    observeInnerCommand(server, c.ctx.db.id, cmd, argv);
    return;
  }
  const hotKeys = server.hotKeys;
  if (hotKeys.on && hotKeys.due()) hotKeys.countKeys(c.ctx.db.id, commandKeyNames(cmd, argv));
  const slots = server.slotStats;
  if (!slots.enabled) {
    runCall(server, c, cmd, argv, false);
    return;
  }
  const reply = c.reply;
  const outBefore = reply.pending;
  slots.beginUnit();
  const usec = runCall(server, c, cmd, argv, false);
  slots.noteSlot(commandSlot(cmd, argv));
  // Valkey charges EXEC with the bytes of its MULTI too.
  const bytesIn = requestBytes(c.parser, argv) + (cmd.name === 'exec' ? MULTI_REQUEST_BYTES : 0);
  if (c.blocked !== null) {
    // As Valkey, a blocked command counts when it replies (blocking.ts replyAs calls this back).
    const slot = slots.takeUnitSlot();
    c.lateReplyAccount = (lateUsec, replyBytes) => slots.charge(slot, usec + lateUsec, bytesIn, replyBytes);
    return;
  }
  slots.endUnit(usec, bytesIn, Math.max(0, reply.pending - outBefore));
}

/**
 * A command run inside another (EXEC's, a script's), while slot stats or
 * hot keys are on: its keys are sampled for hot keys and decide the outer
 * unit's slot; its time and bytes are the outer unit's.
 */
export function observeInnerCommand(server: Pick<DispatchHost, 'slotStats' | 'hotKeys'>, db: number, cmd: Command, argv: string[]): void {
  const hotKeys = server.hotKeys;
  if (hotKeys.on && hotKeys.due()) hotKeys.countKeys(db, commandKeyNames(cmd, argv));
  if (server.slotStats.enabled) server.slotStats.noteSlot(commandSlot(cmd, argv));
}

/** The bytes of the request that carried `argv`, as sent (Valkey's net_input_bytes_curr_cmd). */
function requestBytes(parser: RequestParser, argv: string[]): number {
  if (parser.rawArgv === argv) return parser.rawEnd - parser.rawStart;
  if (parser.inlineArgv === argv) return parser.inlineBytes;
  // Parsed by the exact path (split across reads): canonical RESP unless the client padded it.
  return multibulkBytes(argv);
}

/** The execution unit and its accounting; returns its duration in µs (0 when timing is not precise). */
function runCall(server: DispatchHost, c: Client, cmd: Command, argv: string[], nested: boolean): number {
  const engine = server.engine;
  const ctx = c.ctx;
  const reply = c.reply;
  const muted = !nested && (c.replyOff || c.replySkip);
  if (!nested) reply.muted = muted;
  const errorsBefore = reply.errorCount;
  const prev = ctx.current;
  const prevArgv = ctx.currentArgv;
  ctx.current = cmd;
  ctx.currentArgv = argv;
  const tracking = server.tracking;
  // While it runs, this client's own invalidations wait for its reply.
  if (!nested) tracking.executing = true;
  const timing = server.timing;
  // One clock reading per command: a top-level command starts where the one
  // before it ended (or where its input arrived: the clock is read then).
  const started = timing.precise ? (nested ? engine.clock.tick() : engine.clock.mark) : 0;
  // Nested units (EXEC's commands) need a mark of their own; the top level reuses the client's.
  runUnit(server, c, cmd, argv, !nested && c.parser.rawArgv === argv, nested ? new WriterMark() : c.replyMark);
  if (c.tracking !== null && cmd.flags & F.READONLY) tracking.rememberKeys(c, cmd, argv);
  let usec = 0;
  if (timing.precise) {
    usec = (engine.clock.tick() - started) * 1000;
    timing.finished(cmd, argv, usec, c);
  } else {
    // Reading a clock costs ~50 ns (engine/clock.ts): with no histogram, slow log or latency
    // monitor to feed, commands of one input batch are timed together
    // (server.accountBatch); only a command that may be slow takes a
    // reading of its own, so the ones after it see a fresh time.
    server.timeCommand(cmd);
    if (cmd.timedAlone) server.accountBatch();
  }
  ctx.current = prev;
  ctx.currentArgv = prevArgv;
  const stats = cmd.stats;
  stats.calls++;
  if (reply.errorCount !== errorsBefore) stats.failed++;
  server.stats.commandsProcessed++;
  c.commandsProcessed++;
  c.lastCommand = cmd.name;
  if (!nested) {
    // CLIENT REPLY SKIP mutes exactly the command after it.
    if (muted) c.replySkip = false;
    if (c.replySkipNext) {
      c.replySkip = true;
      c.replySkipNext = false;
    }
    reply.muted = false;
    tracking.executing = false;
    // Invalidations and messages this command raised for its own client follow its reply
    // (invalidations first: Redis signals a key before it notifies its event).
    if (tracking.hasDeferred) tracking.sendDeferred();
    c.releasePushes();
    // Blocked clients whose keys this command filled are served now that it is complete
    // (not while a suspended script keeps its execution unit open: they are served when it ends).
    if (engine.readyKeys.hasReady && !engine.inUnit) {
      // Queue this client's reply before the replies of the clients it wakes:
      // the turn writes the last queued first, so those go out first, as in
      // Redis (it queues the writer when its reply is added, the woken ones
      // after it, each at the head of clients_pending_write).
      server.outputReady(c);
      engine.readyKeys.serve();
    }
  }
  if (server.monitors.size > 0) {
    materialize(argv);
    server.feedMonitors(c, cmd, argv);
  }
  return usec;
}

/**
 * CLIENT PAUSE WRITE: does this command have to wait? As in Redis, a write
 * waits even when it would only be queued inside MULTI.
 */
export function commandBlockedByPause(server: DispatchHost, c: Client, argv: string[]): boolean {
  const cmd = server.table.resolve(argv);
  if (cmd === undefined) return false;
  if (cmd.flags & (F.WRITE | F.MAY_REPLICATE)) return true;
  const multi = c.ctx.multi;
  if (cmd.name === 'exec' && multi !== null) {
    return multi.some((q) => (q.cmd.flags & (F.WRITE | F.MAY_REPLICATE)) !== 0);
  }
  return false;
}

/**
 * Run a blocked client's command again because a key it waits on is ready
 * (Redis 7.2 reprocesses it). It was queued and counted when it first ran;
 * this is the same execution unit as call() without that. Its user's
 * permissions are checked again, as Redis' processCommand does on the
 * reprocessing: an ACL SETUSER made while it waited applies (-NOPERM, ACL
 * LOG entry, nothing served).
 */
export function rerun(server: DispatchHost, c: Client, cmd: Command, argv: string[]): void {
  if (refusedByAcl(server, c, cmd, argv)) return;
  const ctx = c.ctx;
  const tracking = server.tracking;
  const trackedBefore = tracking.current;
  const executingBefore = tracking.executing;
  tracking.current = c;
  tracking.executing = true;
  ctx.current = cmd;
  ctx.currentArgv = argv;
  try {
    runUnit(server, c, cmd, argv, false, new WriterMark());
    if (c.tracking !== null && cmd.flags & F.READONLY) tracking.rememberKeys(c, cmd, argv);
  } finally {
    ctx.current = null;
    ctx.currentArgv = null;
    tracking.executing = false;
    if (tracking.hasDeferred) tracking.sendDeferred();
    tracking.current = trackedBefore;
    tracking.executing = executingBefore;
    c.releasePushes();
  }
}
