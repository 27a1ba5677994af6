/**
 * VIREO: Vireo's own commands, under a name no Redis or Valkey command
 * will take. VIREO HOTKEYS lists the hottest keys by sampled accesses
 * (src/diagnostics/hot-keys.ts, vireo-hotkeys-sample-rate).
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argRange, eq, replyHelp } from './util.js';
import { HOTKEYS_CAPACITY } from '../diagnostics/hot-keys.js';

const VIREO_HELP = [
  'HOTKEYS [COUNT <count>]',
  `    Return the hottest keys (default 10, at most ${HOTKEYS_CAPACITY}) by sampled accesses, hottest first.`,
  '    Each entry: key, db, count (sampled accesses, at most error too many) and error.',
  '    Sampling counts the keys of one command in vireo-hotkeys-sample-rate (0: off).',
  'HOTKEYS RESET',
  '    Forget the sampled accesses.',
];

function hotkeys(ctx: CommandContext, argv: string[]): void {
  const hot = ctx.host.hotKeys;
  if (argv.length === 3 && eq(argv[2]!, 'reset')) {
    hot.reset();
    ctx.reply.ok();
    return;
  }
  let count = 10;
  if (argv.length === 4 && eq(argv[2]!, 'count')) {
    const n = argRange(ctx, argv[3]!, 1, HOTKEYS_CAPACITY, `ERR count must be between 1 and ${HOTKEYS_CAPACITY}`);
    if (n === null) return;
    count = n;
  } else if (argv.length !== 2) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  if (!hot.on && hot.sampled === 0) {
    ctx.reply.error('ERR hot keys are not sampled: set vireo-hotkeys-sample-rate (e.g. CONFIG SET vireo-hotkeys-sample-rate 100)');
    return;
  }
  const r = ctx.reply;
  const top = hot.top(count);
  r.array(top.length);
  for (const e of top) {
    r.map(4);
    r.bulk('key');
    r.bulk(e.key);
    r.bulk('db');
    r.integer(e.db);
    r.bulk('count');
    r.integer(e.count);
    r.bulk('error');
    r.integer(e.error);
  }
}

export const vireoCommands: CommandImpl[] = [
  { name: 'vireo|hotkeys', run: hotkeys },
  { name: 'vireo|help', run: (ctx) => replyHelp(ctx, 'VIREO', VIREO_HELP) },
];
