/**
 * MODULE: Vireo loads no Redis modules (they are C shared libraries for
 * redis-server's API). The command is still there as in Redis 7.2, so
 * enable-module-command gates LOAD, LOADEX and UNLOAD with Redis' refusal
 * (the dispatcher checks the protected flag), LIST answers the empty list,
 * and a load that gets through fails as a module Redis cannot load does.
 */

import type { CommandImpl } from './table.js';
import { replyHelp } from './util.js';

const LOAD_FAILED = 'ERR Error loading the extension. Please check the server logs.';

export const moduleCommands: CommandImpl[] = [
  { name: 'module|list', run: (ctx) => ctx.reply.array(0) },
  {
    name: 'module|load',
    run(ctx, argv) {
      ctx.host.logger.warn(`Module ${argv[2]} failed to load: Vireo does not load Redis modules`);
      ctx.reply.error(LOAD_FAILED);
    },
  },
  {
    name: 'module|loadex',
    run(ctx, argv) {
      ctx.host.logger.warn(`Module ${argv[2]} failed to load: Vireo does not load Redis modules`);
      ctx.reply.error(LOAD_FAILED);
    },
  },
  { name: 'module|unload', run: (ctx) => ctx.reply.error('ERR Error unloading module: no such module with that name') },
  {
    name: 'module|help',
    run(ctx) {
      replyHelp(ctx, 'MODULE', [
        'LIST',
        '    Return a list of loaded modules.',
        'LOAD <path> [<arg> ...]',
        '    Load a module library from <path>, passing to it any optional arguments.',
        'LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]',
        '    Load a module library from <path>, while passing it module configurations and optional arguments.',
        'UNLOAD <name>',
        '    Unload a module.',
      ]);
    },
  },
];
