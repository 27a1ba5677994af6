/** SLOWLOG GET / LEN / RESET / HELP (Redis' slowlog.c). */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { LONG_MAX, argRange, cstr, replyHelp } from './util.js';

const SLOWLOG_HELP = [
  'GET [<count>]',
  '    Return top <count> entries from the slowlog (default: 10, -1 mean all).',
  '    Entries are made of:',
  '    id, timestamp, time in microseconds, arguments array, client IP and port,',
  '    client name',
  'LEN',
  '    Return the length of the slowlog.',
  'RESET',
  '    Reset the slowlog.',
];

function slowlogGet(ctx: CommandContext, argv: string[]): void {
  let count = 10;
  if (argv.length > 3) {
    ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv[1]!)}'. Try SLOWLOG HELP.`);
    return;
  }
  if (argv.length === 3) {
    const n = argRange(ctx, argv[2]!, -1, LONG_MAX, 'ERR count should be greater than or equal to -1');
    if (n === null) return;
    count = n === -1 ? Infinity : n;
  }
  const entries = ctx.host.slowlog.newest(count);
  const r = ctx.reply;
  r.array(entries.length);
  for (const e of entries) {
    r.array(6);
    r.integer(e.id);
    r.integer(e.time);
    r.integer(e.durationUs);
    r.bulkArray(e.args);
    r.bulk(e.addr);
    r.bulk(e.name);
  }
}

export const slowlogCommands: CommandImpl[] = [
  { name: 'slowlog|get', run: slowlogGet },
  { name: 'slowlog|len', run: (ctx) => ctx.reply.integer(ctx.host.slowlog.length) },
  {
    name: 'slowlog|reset',
    run: (ctx) => {
      ctx.host.slowlog.reset();
      ctx.reply.ok();
    },
  },
  { name: 'slowlog|help', run: (ctx) => replyHelp(ctx, 'SLOWLOG', SLOWLOG_HELP) },
];
