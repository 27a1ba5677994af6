/**
 * The replica's commands: REPLICAOF / SLAVEOF host port | NO ONE, and ROLE
 * (its replica form; a primary answers with its offset and no replica
 * list until the primary side lists them). The link itself lives in
 * replication/replica.ts, reached through the host (ReplicaControl).
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { argRange, eq } from './util.js';
import { clientInfoLine } from './connection.js';

function replicaof(ctx: CommandContext, argv: string[]): void {
  const replica = ctx.host.replica;
  const who = ctx.conn === null ? 'the server' : clientInfoLine(ctx.conn);
  if (eq(argv[1]!, 'no') && eq(argv[2]!, 'one')) {
    replica.stopFollowing(who);
    ctx.reply.ok();
    return;
  }
  // Following a primary flushes this server's own replicas, this client among them.
  if (ctx.kind === 'replica') {
    ctx.reply.error('ERR Command is not valid when client is a replica.');
    return;
  }
  const port = argRange(ctx, argv[2]!, 0, 65535, 'ERR Invalid master port');
  if (port === null) return;
  if (!replica.follow(argv[1]!, port, who)) {
    ctx.reply.simple('OK Already connected to specified master');
    return;
  }
  ctx.reply.ok();
}

function role(ctx: CommandContext): void {
  const r = ctx.reply;
  const asReplica = ctx.host.replica.role();
  if (asReplica === null) {
    r.array(3);
    r.bulk('master');
    r.integer(ctx.engine.log.offset);
    r.array(0);
    return;
  }
  const [host, port, state, offset] = asReplica;
  r.array(5);
  r.bulk('slave');
  r.bulk(host);
  r.integer(port);
  r.bulk(state);
  r.integer(offset);
}

export const replicaCommands: CommandImpl[] = [
  { name: 'replicaof', run: replicaof },
  { name: 'slaveof', run: replicaof },
  { name: 'role', run: role },
];
