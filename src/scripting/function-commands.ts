/**
 * FUNCTION and FCALL / FCALL_RO (Redis' functions.c commands). LOAD,
 * DELETE, FLUSH and RESTORE log themselves as their effect: replayed on the
 * same libraries (the AOF, a replica) they do the same thing again.
 */

import type { CommandContext } from '../commands/context.js';
import type { CommandImpl } from '../commands/table.js';
import { cstr, eq, replyHelp } from '../commands/util.js';
import { globMatcher } from '../util/glob.js';
import { parseLong } from '../util/numbers.js';
import { guarded } from './eval-commands.js';
import { dumpFunctions, readFunctionPayload } from './function-dump.js';
import { LUA_ENGINE, type Library, type RestorePolicy } from './functions.js';
import { BUSY_EVAL, scriptingOf } from './scripting.js';

/** Redis' addReplySubcommandSyntaxError. */
function subcommandSyntaxError(ctx: CommandContext, argv: string[]): void {
  ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${cstr(argv[1]!).slice(0, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`);
}

/** Redis' addReplyErrorSds: newlines anywhere in the text become spaces (none is trimmed, unlike formatted errors). */
function sdsError(ctx: CommandContext, msg: string): void {
  ctx.reply.error(msg.replace(/[\r\n]/g, ' '));
}

/** The command changed the libraries: log it as it came, on the caller's database. */
function logged(ctx: CommandContext, argv: string[]): void {
  ctx.engine.emit(ctx.db.id, argv);
}

/** FUNCTION LOAD [REPLACE] code. */
function functionLoad(ctx: CommandContext, argv: string[]): void {
  let replace = false;
  let i = 2;
  for (; i < argv.length - 1; i++) {
    if (!eq(argv[i]!, 'replace')) {
      ctx.reply.error(`ERR Unknown option given: ${cstr(argv[i]!)}`);
      return;
    }
    replace = true;
  }
  const r = scriptingOf(ctx.host).functions.create(argv[i]!, replace);
  if ('error' in r) {
    sdsError(ctx, `ERR ${r.error}`);
    return;
  }
  logged(ctx, argv);
  ctx.reply.bulk(r.name);
}

/** FUNCTION LIST [WITHCODE] [LIBRARYNAME pattern], in either order. */
function functionList(ctx: CommandContext, argv: string[]): void {
  let withCode = false;
  let pattern: string | null = null;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!withCode && eq(arg, 'withcode')) {
      withCode = true;
    } else if (pattern === null && eq(arg, 'libraryname')) {
      if (i >= argv.length - 1) {
        ctx.reply.error('ERR library name argument was not given');
        return;
      }
      pattern = argv[++i]!;
    } else {
      sdsError(ctx, `ERR Unknown argument ${cstr(arg)}`);
      return;
    }
  }
  const matches = pattern === null ? null : globMatcher(pattern, true);
  const libraries = [...scriptingOf(ctx.host).functions.current.libraries.values()].filter((lib) => matches === null || matches(lib.name));
  ctx.reply.array(libraries.length);
  for (const lib of libraries) replyLibrary(ctx, lib, withCode);
}

function replyLibrary(ctx: CommandContext, lib: Library, withCode: boolean): void {
  const r = ctx.reply;
  r.map(withCode ? 4 : 3);
  r.bulk('library_name');
  r.bulk(lib.name);
  r.bulk('engine');
  r.bulk(LUA_ENGINE);
  r.bulk('functions');
  r.array(lib.functions.size);
  for (const fn of lib.functions.values()) {
    r.map(3);
    r.bulk('name');
    r.bulk(fn.name);
    r.bulk('description');
    if (fn.description === null) r.nullBulk();
    else r.bulk(fn.description);
    r.bulk('flags');
    r.set(fn.flagNames.length);
    for (const flag of fn.flagNames) r.simple(flag);
  }
  if (withCode) {
    r.bulk('library_code');
    r.bulk(lib.code);
  }
}

/** FUNCTION FLUSH [ASYNC|SYNC]: both drop the libraries at once (nothing here is worth freeing later). */
function functionFlush(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 3) {
    subcommandSyntaxError(ctx, argv);
    return;
  }
  if (argv.length === 3 && !eq(argv[2]!, 'sync') && !eq(argv[2]!, 'async')) {
    ctx.reply.error('ERR FUNCTION FLUSH only supports SYNC|ASYNC option');
    return;
  }
  scriptingOf(ctx.host).functions.flush();
  logged(ctx, argv);
  ctx.reply.ok();
}

/** FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]. */
function functionRestore(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 4) {
    subcommandSyntaxError(ctx, argv);
    return;
  }
  let policy: RestorePolicy = 'append';
  if (argv.length === 4) {
    const p = argv[3]!;
    if (eq(p, 'append')) policy = 'append';
    else if (eq(p, 'replace')) policy = 'replace';
    else if (eq(p, 'flush')) policy = 'flush';
    else {
      ctx.reply.error('ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.');
      return;
    }
  }
  const codes = readFunctionPayload(Buffer.from(argv[2]!, 'latin1'));
  const error = typeof codes === 'string' ? codes : scriptingOf(ctx.host).functions.restore(codes, policy);
  if (error !== null) {
    sdsError(ctx, `ERR ${error}`);
    return;
  }
  logged(ctx, argv);
  ctx.reply.ok();
}

/** FUNCTION STATS: the function running now (only a suspended one can be seen), and the engine's counts. */
function functionStats(ctx: CommandContext): void {
  const scripting = scriptingOf(ctx.host);
  const run = scripting.running !== null && scripting.running.suspended ? scripting.running : null;
  if (run !== null && run.kind === 'eval') {
    ctx.reply.error(BUSY_EVAL);
    return;
  }
  const r = ctx.reply;
  r.map(2);
  r.bulk('running_script');
  if (run === null) {
    r.nullBulk();
  } else {
    r.map(3);
    r.bulk('name');
    r.bulk(run.name);
    r.bulk('command');
    r.bulkArray(run.command);
    r.bulk('duration_ms');
    r.integer(Date.now() - run.startedAt);
  }
  const libraries = scripting.functions.current;
  r.bulk('engines');
  r.map(1);
  r.bulk(LUA_ENGINE);
  r.map(2);
  r.bulk('libraries_count');
  r.integer(libraries.libraries.size);
  r.bulk('functions_count');
  r.integer(libraries.functionCount);
}

/** FCALL / FCALL_RO function numkeys key... arg... */
function fcall(ctx: CommandContext, argv: string[], readOnly: boolean): void {
  // In MONITOR before the commands the function runs (Redis' fcallCommandGeneric feeds it first).
  ctx.host.feedMonitorsFirst(ctx, argv);
  const scripting = scriptingOf(ctx.host);
  const unavailable = scripting.unavailable();
  if (unavailable !== null) {
    ctx.reply.error(unavailable);
    return;
  }
  const fn = scripting.functions.lookup(argv[1]!);
  if (fn === undefined) {
    ctx.reply.error('ERR Function not found');
    return;
  }
  const numkeys = parseLong(argv[2]!);
  if (numkeys === null) {
    ctx.reply.error('ERR Bad number of keys provided');
    return;
  }
  if (numkeys > argv.length - 3) {
    ctx.reply.error("ERR Number of keys can't be greater than number of args");
    return;
  }
  if (numkeys < 0) {
    ctx.reply.error("ERR Number of keys can't be negative");
    return;
  }
  scripting.run(ctx, scripting.functionEngine, {
    kind: 'function',
    ref: fn.ref,
    name: fn.name,
    flags: fn.flags,
    readOnlyCommand: readOnly,
    keys: argv.slice(3, 3 + numkeys),
    args: argv.slice(3 + numkeys),
  });
}

const FUNCTION_HELP = [
  'LOAD [REPLACE] <FUNCTION CODE>',
  '    Create a new library with the given library name and code.',
  'DELETE <LIBRARY NAME>',
  '    Delete the given library.',
  'LIST [LIBRARYNAME PATTERN] [WITHCODE]',
  '    Return general information on all the libraries:',
  '    * Library name',
  '    * The engine used to run the Library',
  '    * Library description',
  '    * Functions list',
  '    * Library code (if WITHCODE is given)',
  '    It also possible to get only function that matches a pattern using LIBRARYNAME argument.',
  'STATS',
  '    Return information about the current function running:',
  '    * Function name',
  '    * Command used to run the function',
  '    * Duration in MS that the function is running',
  '    If no function is running, return nil',
  '    In addition, returns a list of available engines.',
  'KILL',
  '    Kill the current running function.',
  'FLUSH [ASYNC|SYNC]',
  '    Delete all the libraries.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the libraries.',
  '    * SYNC: Synchronously flush the libraries.',
  'DUMP',
  '    Return a serialized payload representing the current libraries, can be restored using FUNCTION RESTORE command',
  'RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]',
  '    Restore the libraries represented by the given payload, it is possible to give a restore policy to',
  '    control how to handle existing libraries (default APPEND):',
  '    * FLUSH: delete all existing libraries.',
  '    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.',
  '    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace the old',
  '      libraries with the new libraries (notice that even on this option there is a chance of failure',
  '      in case of functions name collision with another library).',
];

export const functionCommands: CommandImpl[] = [
  { name: 'fcall', run: guarded((ctx, argv) => fcall(ctx, argv, false)) },
  { name: 'fcall_ro', run: guarded((ctx, argv) => fcall(ctx, argv, true)) },
  { name: 'function|load', run: guarded(functionLoad) },
  { name: 'function|list', run: functionList },
  {
    name: 'function|delete',
    run: guarded((ctx, argv) => {
      if (!scriptingOf(ctx.host).functions.delete(argv[2]!)) {
        ctx.reply.error('ERR Library not found');
        return;
      }
      logged(ctx, argv);
      ctx.reply.ok();
    }),
  },
  { name: 'function|flush', run: guarded(functionFlush) },
  {
    name: 'function|dump',
    run(ctx) {
      ctx.reply.bulkBuffer(dumpFunctions(scriptingOf(ctx.host).functions.codes(), ctx.host.config.bool('rdbcompression')));
    },
  },
  { name: 'function|restore', run: guarded(functionRestore) },
  { name: 'function|stats', run: functionStats },
  {
    name: 'function|kill',
    run(ctx) {
      const err = scriptingOf(ctx.host).kill('function');
      if (err === null) ctx.reply.ok();
      else ctx.reply.error(err);
    },
  },
  { name: 'function|help', run: (ctx) => replyHelp(ctx, 'FUNCTION', FUNCTION_HELP) },
];
