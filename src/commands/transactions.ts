/**
 * MULTI / EXEC / DISCARD / WATCH / UNWATCH (Redis' multi.c). EXEC runs the
 * queued commands as one execution unit, so their effects enter the
 * command log as one MULTI ... EXEC record.
 */

import type { CommandImpl } from './table.js';
import type { Client } from '../server/client.js';
import { call } from '../server/dispatch.js';

/** Leave the transaction state and forget watched keys. */
export function discardTransaction(c: Client): void {
  c.multi = null;
  c.multiError = false;
  c.casDirty = false;
  c.engine.watches.unwatchAll(c);
}

/** A watched key that was alive at WATCH time has expired since. */
function watchedKeyExpired(c: Client): boolean {
  for (const w of c.watched) if (!w.expired && c.engine.isExpired(w.db, w.key)) return true;
  return false;
}

function exec(c: Client): void {
  const queued = c.multi;
  if (queued === null) {
    c.reply.error('ERR EXEC without MULTI');
    return;
  }
  if (c.multiError) {
    discardTransaction(c);
    c.reply.error('EXECABORT Transaction discarded because of previous errors.');
    return;
  }
  if (c.casDirty || watchedKeyExpired(c)) {
    discardTransaction(c);
    c.reply.nullArray();
    return;
  }
  // Watches end here: changes made by the transaction itself must not count.
  c.engine.watches.unwatchAll(c);
  c.multi = null;
  c.reply.array(queued.length);
  c.inExec = true;
  try {
    for (const q of queued) call(c.server, c, q.cmd, q.argv, true);
  } finally {
    c.inExec = false;
  }
  discardTransaction(c);
}

export const transactionCommands: CommandImpl[] = [
  {
    name: 'multi',
    run(c) {
      if (c.multi !== null) {
        c.reply.error('ERR MULTI calls can not be nested');
        return;
      }
      c.multi = [];
      c.reply.ok();
    },
  },
  { name: 'exec', run: exec },
  {
    name: 'discard',
    run(c) {
      if (c.multi === null) {
        c.reply.error('ERR DISCARD without MULTI');
        return;
      }
      discardTransaction(c);
      c.reply.ok();
    },
  },
  {
    name: 'watch',
    run(c, argv) {
      if (c.multi !== null) {
        c.reply.error('ERR WATCH inside MULTI is not allowed');
        return;
      }
      for (let i = 1; i < argv.length; i++) {
        const key = argv[i]!;
        c.engine.watches.watch(c, c.db, key, c.engine.isExpired(c.db, key));
      }
      c.reply.ok();
    },
  },
  {
    name: 'unwatch',
    run(c) {
      c.engine.watches.unwatchAll(c);
      c.casDirty = false;
      c.reply.ok();
    },
  },
];
