/**
 * The replica's commands: REPLICAOF / SLAVEOF host port | NO ONE (ROLE, for
 * both roles, is in replication.ts). The link itself lives in
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

export const replicaCommands: CommandImpl[] = [
  { name: 'replicaof', run: replicaof },
  { name: 'slaveof', run: replicaof },
];
