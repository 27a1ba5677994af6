/**
 * MULTI / EXEC / DISCARD / WATCH / UNWATCH (Redis' multi.c). EXEC runs the
 * queued commands as one execution unit, so their effects enter the
 * command log as one MULTI ... EXEC record.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';

/** Leave the transaction state and forget watched keys. */
export function discardTransaction(ctx: CommandContext): void {
  ctx.multi = null;
  ctx.multiError = false;
  ctx.casDirty = false;
  ctx.engine.watches.unwatchAll(ctx);
}

/** A watched key that was alive at WATCH time has expired since. */
function watchedKeyExpired(ctx: CommandContext): boolean {
  for (const w of ctx.watched) if (!w.expired && ctx.engine.isExpired(w.db, w.key)) return true;
  return false;
}

function exec(ctx: CommandContext): void {
  const queued = ctx.multi;
  if (queued === null) {
    ctx.reply.error('ERR EXEC without MULTI');
    return;
  }
  if (ctx.multiError) {
    discardTransaction(ctx);
    ctx.reply.error('EXECABORT Transaction discarded because of previous errors.');
    return;
  }
  if (ctx.casDirty || watchedKeyExpired(ctx)) {
    discardTransaction(ctx);
    ctx.reply.nullArray();
    return;
  }
  // Watches end here: changes made by the transaction itself must not count.
  ctx.engine.watches.unwatchAll(ctx);
  ctx.multi = null;
  ctx.reply.array(queued.length);
  ctx.inExec = true;
  try {
    for (const q of queued) ctx.host.callNested(ctx, q.argv);
  } finally {
    ctx.inExec = false;
  }
  discardTransaction(ctx);
}

export const transactionCommands: CommandImpl[] = [
  {
    name: 'multi',
    run(ctx) {
      if (ctx.multi !== null) {
        ctx.reply.error('ERR MULTI calls can not be nested');
        return;
      }
      ctx.multi = [];
      ctx.reply.ok();
    },
  },
  { name: 'exec', run: exec },
  {
    name: 'discard',
    run(ctx) {
      if (ctx.multi === null) {
        ctx.reply.error('ERR DISCARD without MULTI');
        return;
      }
      discardTransaction(ctx);
      ctx.reply.ok();
    },
  },
  {
    name: 'watch',
    run(ctx, argv) {
      if (ctx.multi !== null) {
        ctx.reply.error('ERR WATCH inside MULTI is not allowed');
        return;
      }
      for (let i = 1; i < argv.length; i++) {
        const key = argv[i]!;
        ctx.engine.watches.watch(ctx, ctx.db, key, ctx.engine.isExpired(ctx.db, key));
      }
      ctx.reply.ok();
    },
  },
  {
    name: 'unwatch',
    run(ctx) {
      ctx.engine.watches.unwatchAll(ctx);
      ctx.casDirty = false;
      ctx.reply.ok();
    },
  },
];
