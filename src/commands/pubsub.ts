/**
 * Pub/Sub commands (Redis' pubsub.c): SUBSCRIBE UNSUBSCRIBE PSUBSCRIBE
 * PUNSUBSCRIBE SSUBSCRIBE SUNSUBSCRIBE PUBLISH SPUBLISH and PUBSUB. The
 * registry and the delivery are in src/pubsub/; what a RESP2 connection in
 * Pub/Sub mode may still run is decided by the dispatcher.
 *
 * The (un)subscribe commands answer with one confirmation per name, a push
 * in RESP3, carrying the connection's running count. PUBLISH and SPUBLISH
 * are not data: they are logged only while this server feeds replicas (a
 * replication backlog exists), as Redis propagates them, so subscribers on
 * replicas get the messages.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext, Connection } from './context.js';
import { cstr, replyHelp } from './util.js';
import { argAt } from '../protocol/big-args.js';
import type { ChannelKind } from '../pubsub/registry.js';
import { messageFrameSize } from '../pubsub/frames.js';
import { keySlot } from '../engine/slot.js';

/**
 * Confirmation of one (un)subscription: [kind, name or null, count], a push
 * in RESP3. Sent under CLIENT REPLY OFF|SKIP too, in both protocols, as
 * Redis 7.2 sends it (its CLIENT_PUSHING flag, redis#11875).
 */
function confirm(ctx: CommandContext, kind: string, name: string | null, count: number): void {
  const r = ctx.reply;
  const muted = r.muted;
  r.muted = false;
  r.push(3);
  r.bulk(kind);
  if (name === null) r.nullBulk();
  else r.bulk(name);
  r.integer(count);
  r.muted = muted;
}

/** CLIENT LIST's type and the output limit class follow the Pub/Sub mode (Redis' CLIENT_PUBSUB flag). */
function updateMode(conn: Connection): void {
  const ctx = conn.ctx;
  const subscribed = conn.subscriptions !== null && conn.subscriptions.total > 0;
  if (subscribed && ctx.kind === 'normal') ctx.kind = 'pubsub';
  else if (!subscribed && ctx.kind === 'pubsub') ctx.kind = 'normal';
}

/**
 * The connection a subscribe command may subscribe, or null after the
 * error Redis gives a client that must not enter Pub/Sub mode (DENY
 * BLOCKING: a context without a connection, and for SSUBSCRIBE also EXEC;
 * SUBSCRIBE and PSUBSCRIBE stay allowed in MULTI for compatibility).
 */
function subscribingConnection(ctx: CommandContext, name: string, allowedInExec: boolean): Connection | null {
  const conn = ctx.conn;
  if (conn === null || (ctx.inExec && !allowedInExec)) {
    ctx.reply.error(`ERR ${name} isn't allowed for a DENY BLOCKING client`);
    return null;
  }
  return conn;
}

// ---- channels and shard channels -------------------------------------------------

/** The running count a channel confirmation carries. */
function channelCount(conn: Connection | null, kind: ChannelKind): number {
  const s = conn?.subscriptions ?? null;
  if (s === null) return 0;
  return kind === 'global' ? s.count : s.shardChannels.size;
}

function subscribeChannels(ctx: CommandContext, argv: string[], kind: ChannelKind): void {
  const conn = subscribingConnection(ctx, kind === 'global' ? 'SUBSCRIBE' : 'SSUBSCRIBE', kind === 'global');
  if (conn === null) return;
  const pubsub = ctx.host.pubsub;
  const reply = kind === 'global' ? 'subscribe' : 'ssubscribe';
  for (let i = 1; i < argv.length; i++) {
    pubsub.subscribe(conn, argv[i]!, kind);
    confirm(ctx, reply, argv[i]!, channelCount(conn, kind));
  }
  updateMode(conn);
}

function unsubscribeChannels(ctx: CommandContext, argv: string[], kind: ChannelKind): void {
  const conn = ctx.conn;
  const pubsub = ctx.host.pubsub;
  const reply = kind === 'global' ? 'unsubscribe' : 'sunsubscribe';
  let names = argv.slice(1);
  if (names.length === 0) {
    const mine = conn?.subscriptions ?? null;
    names = mine === null ? [] : [...(kind === 'global' ? mine.channels : mine.shardChannels).values()];
    // Subscribed to nothing: one confirmation all the same.
    if (names.length === 0) confirm(ctx, reply, null, channelCount(conn, kind));
  }
  for (const name of names) {
    if (conn !== null) pubsub.unsubscribe(conn, name, kind);
    confirm(ctx, reply, name, channelCount(conn, kind));
  }
  if (conn !== null) updateMode(conn);
}

// ---- patterns -------------------------------------------------------------------------

function psubscribe(ctx: CommandContext, argv: string[]): void {
  const conn = subscribingConnection(ctx, 'PSUBSCRIBE', true);
  if (conn === null) return;
  const pubsub = ctx.host.pubsub;
  for (let i = 1; i < argv.length; i++) {
    pubsub.psubscribe(conn, argv[i]!);
    confirm(ctx, 'psubscribe', argv[i]!, channelCount(conn, 'global'));
  }
  updateMode(conn);
}

function punsubscribe(ctx: CommandContext, argv: string[]): void {
  const conn = ctx.conn;
  const pubsub = ctx.host.pubsub;
  let patterns = argv.slice(1);
  if (patterns.length === 0) {
    const mine = conn?.subscriptions ?? null;
    patterns = mine === null ? [] : [...mine.patterns.values()];
    if (patterns.length === 0) confirm(ctx, 'punsubscribe', null, channelCount(conn, 'global'));
  }
  for (const pattern of patterns) {
    if (conn !== null) pubsub.punsubscribe(conn, pattern);
    confirm(ctx, 'punsubscribe', pattern, channelCount(conn, 'global'));
  }
  if (conn !== null) updateMode(conn);
}

// ---- publishing -----------------------------------------------------------------------

/**
 * PUBLISH / SPUBLISH reach a replica's subscribers through the replication
 * stream, which is this server's command log: the command joins the log
 * only while a backlog is kept (replicas attached, or lately), as Redis'
 * replicationFeedSlaves does, so a server without replicas never writes
 * messages to its AOF. A replica logs nothing of its own (engine.emit),
 * and replaying a log skips them (server/replay.ts).
 */
function propagate(ctx: CommandContext, argv: string[]): void {
  if (ctx.host.primary.backlog !== null) ctx.engine.emit(ctx.db.id, argv, 0);
}

function publish(ctx: CommandContext, argv: string[]): void {
  const receivers = ctx.host.pubsub.publish(argv[1]!, argAt(argv, 2));
  propagate(ctx, argv);
  ctx.reply.integer(receivers);
}

function spublish(ctx: CommandContext, argv: string[]): void {
  const message = argAt(argv, 2);
  const receivers = ctx.host.pubsub.spublish(argv[1]!, message);
  const slotStats = ctx.host.slotStats;
  // Valkey counts the messages to this node's subscribers as the shard channel's slot's output.
  if (slotStats.enabled && receivers > 0) slotStats.addBytesOut(keySlot(argv[1]!), receivers * messageFrameSize('smessage', null, argv[1]!, message));
  propagate(ctx, argv);
  ctx.reply.integer(receivers);
}

// ---- PUBSUB ---------------------------------------------------------------------------

const PUBSUB_HELP = [
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
];

function subcommandSyntaxError(ctx: CommandContext, argv: string[]): void {
  ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv[1]!).slice(0, 128)}'. Try PUBSUB HELP.`);
}

/** PUBSUB CHANNELS|SHARDCHANNELS [pattern]. */
function channelList(ctx: CommandContext, argv: string[], kind: ChannelKind): void {
  if (argv.length > 3) {
    subcommandSyntaxError(ctx, argv);
    return;
  }
  ctx.reply.bulkArray(ctx.host.pubsub.channelNames(argv.length === 3 ? argv[2]! : null, kind));
}

/** PUBSUB NUMSUB|SHARDNUMSUB [channel ...]: a flat array of name, count. */
function numsub(ctx: CommandContext, argv: string[], kind: ChannelKind): void {
  const r = ctx.reply;
  const pubsub = ctx.host.pubsub;
  r.array((argv.length - 2) * 2);
  for (let i = 2; i < argv.length; i++) {
    r.bulk(argv[i]!);
    r.integer(pubsub.subscriberCount(argv[i]!, kind));
  }
}

export const pubsubCommands: CommandImpl[] = [
  { name: 'subscribe', run: (ctx, argv) => subscribeChannels(ctx, argv, 'global') },
  { name: 'unsubscribe', run: (ctx, argv) => unsubscribeChannels(ctx, argv, 'global') },
  { name: 'ssubscribe', run: (ctx, argv) => subscribeChannels(ctx, argv, 'shard') },
  { name: 'sunsubscribe', run: (ctx, argv) => unsubscribeChannels(ctx, argv, 'shard') },
  { name: 'psubscribe', run: psubscribe },
  { name: 'punsubscribe', run: punsubscribe },
  { name: 'publish', run: publish, bigArg: (i) => i === 2 },
  { name: 'spublish', run: spublish, bigArg: (i) => i === 2 },
  { name: 'pubsub|channels', run: (ctx, argv) => channelList(ctx, argv, 'global') },
  { name: 'pubsub|shardchannels', run: (ctx, argv) => channelList(ctx, argv, 'shard') },
  { name: 'pubsub|numsub', run: (ctx, argv) => numsub(ctx, argv, 'global') },
  { name: 'pubsub|shardnumsub', run: (ctx, argv) => numsub(ctx, argv, 'shard') },
  { name: 'pubsub|numpat', run: (ctx) => ctx.reply.integer(ctx.host.pubsub.patternCount) },
  { name: 'pubsub|help', run: (ctx) => replyHelp(ctx, 'PUBSUB', PUBSUB_HELP) },
];
