/**
 * What every blocking command shares (BLPOP, BLMOVE, BZPOPMIN, XREAD BLOCK...):
 * wait for keys when the context may wait, answer as the non-blocking form
 * when it may not (inside MULTI/EXEC, scripts, a primary's stream).
 */

import type { CommandContext, KeyBlockRequest } from './context.js';

/**
 * Nothing to serve now: park the client on `req.keys` until `deadline`
 * (0: forever), or give the timed-out reply at once when it cannot wait.
 * When `ctx` can block, nothing may have been replied before this.
 */
export function waitForKeys(ctx: CommandContext, req: KeyBlockRequest, deadline: number, cannotWait: () => void = req.timedOut): void {
  if (ctx.canBlock()) ctx.host.blockOnKeys(ctx, req, deadline);
  else cannotWait();
}
