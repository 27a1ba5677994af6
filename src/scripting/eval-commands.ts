/**
 * EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (Redis' eval.c): the
 * script cache by SHA1 and the `#!lua flags=...` shebang.
 */

import type { CommandContext } from '../commands/context.js';
import type { CommandImpl } from '../commands/table.js';
import { ERR, replyHelp } from '../commands/util.js';
import { parseLong } from '../util/numbers.js';
import { COMPAT_FLAGS, ScriptingUnavailable, flagsFromNames, scriptingOf, sha1hex, type CachedScript, type ScriptFlags } from './scripting.js';

const KNOWN_FLAGS = ['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'];

/**
 * Redis' evalExtractShebangFlags: the flags of a `#!lua` first line and
 * the offset where the code starts (the newline stays, so line numbers
 * hold), or the error text.
 */
export function parseEvalShebang(body: string): { flags: ScriptFlags; codeStart: number } | string {
  if (!body.startsWith('#!')) return { flags: COMPAT_FLAGS, codeStart: 0 };
  const end = body.indexOf('\n');
  if (end === -1) return 'Invalid script shebang';
  const parts = body.slice(0, end).split(/[ \t\r]+/).filter((p) => p !== '');
  if (parts.length === 0) return 'Invalid engine in script shebang';
  if (parts[0] !== '#!lua') return `Unexpected engine in script shebang: ${parts[0]}`;
  const names: string[] = [];
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) return `Unknown lua shebang option: ${part}`;
    // Redis splits with sdssplitlen: "flags=" has no flags, "flags=a," has an empty one.
    const list = part.slice(6);
    for (const flag of list === '' ? [] : list.split(',')) {
      if (!KNOWN_FLAGS.includes(flag)) return `Unexpected flag in script shebang: ${flag}`;
      names.push(flag);
    }
  }
  return { flags: flagsFromNames(names), codeStart: end };
}

/** The cache entry for `body`, compiling it if new; null after replying with the error. */
function scriptFor(ctx: CommandContext, body: string, sha: string): CachedScript | null {
  const scripting = scriptingOf(ctx.host);
  const cached = scripting.scripts.get(sha);
  if (cached !== undefined) return cached;
  const shebang = parseEvalShebang(body);
  if (typeof shebang === 'string') {
    ctx.reply.error(`ERR ${shebang}`);
    return null;
  }
  const addon = scripting.addon();
  const code = shebang.codeStart === 0 ? body : body.slice(shebang.codeStart);
  const ref = addon.compile(scripting.evalEngine.get(), Buffer.from(code, 'latin1'), '@user_script');
  if (typeof ref === 'string') {
    ctx.reply.error(`ERR Error compiling script (new function): ${ref}`);
    return null;
  }
  const script = { ref, body, flags: shebang.flags };
  scripting.scripts.set(sha, script);
  return script;
}

/** numkeys, checked as Redis' evalGetKeys does; null after replying with the error. */
export function argNumKeys(ctx: CommandContext, argv: string[]): number | null {
  // string2ll: no leading zeros or '-0', any int64 (beyond 2^53 only compared, so the nearest double will do).
  const n = parseLong(argv[2]!);
  if (n === null) {
    ctx.reply.error(ERR.NOT_INTEGER);
    return null;
  }
  if (n > argv.length - 3) {
    ctx.reply.error("ERR Number of keys can't be greater than number of args");
    return null;
  }
  if (n < 0) {
    ctx.reply.error("ERR Number of keys can't be negative");
    return null;
  }
  return n;
}

const NO_SCRIPT = 'NOSCRIPT No matching script. Please use EVAL.';

function evalGeneric(ctx: CommandContext, argv: string[], bySha: boolean, readOnly: boolean): void {
  const scripting = scriptingOf(ctx.host);
  const unavailable = scripting.unavailable();
  if (unavailable !== null) {
    ctx.reply.error(unavailable);
    return;
  }
  // evalShaCommand: a name that cannot be a SHA1 is NOSCRIPT before numkeys is read.
  if (bySha && argv[1]!.length !== 40) {
    ctx.reply.error(NO_SCRIPT);
    return;
  }
  const numkeys = argNumKeys(ctx, argv);
  if (numkeys === null) return;
  let sha: string;
  let script: CachedScript | null | undefined;
  if (bySha) {
    sha = argv[1]!.toLowerCase();
    script = scripting.scripts.get(sha);
    if (script === undefined) {
      ctx.reply.error(NO_SCRIPT);
      return;
    }
  } else {
    sha = sha1hex(argv[1]!);
    script = scriptFor(ctx, argv[1]!, sha);
    if (script === null) return;
  }
  scripting.run(ctx, scripting.evalEngine, {
    kind: 'eval',
    ref: script.ref,
    name: sha,
    flags: script.flags,
    readOnlyCommand: readOnly,
    keys: argv.slice(3, 3 + numkeys),
    args: argv.slice(3 + numkeys),
  });
}

const SCRIPT_HELP = [
  'DEBUG (YES|SYNC|NO)',
  '    Set the debug mode for subsequent scripts executed.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
];

/** Scripting commands answer this when the addon could not be built, rather than crashing. */
export function guarded(run: (ctx: CommandContext, argv: string[]) => void): (ctx: CommandContext, argv: string[]) => void {
  return (ctx, argv) => {
    try {
      run(ctx, argv);
    } catch (e) {
      if (!(e instanceof ScriptingUnavailable)) throw e;
      ctx.reply.error(`ERR scripting is unavailable: ${e.message}`);
    }
  };
}

/** A script command: in MONITOR first (Redis' evalCommand feeds it before the script's commands), then run. */
function scriptCommand(sha: boolean, readOnly: boolean): (ctx: CommandContext, argv: string[]) => void {
  return guarded((ctx, argv) => {
    const conn = ctx.conn;
    if (conn !== null && conn.scriptDebugRefused) {
      conn.scriptDebugRefused = false;
      ctx.reply.error('ERR this connection asked for SCRIPT DEBUG, which Vireo does not have (no Lua debugger): the script was not run');
      return;
    }
    ctx.host.feedMonitorsFirst(ctx, argv);
    evalGeneric(ctx, argv, sha, readOnly);
  });
}

export const evalCommands: CommandImpl[] = [
  { name: 'eval', run: scriptCommand(false, false) },
  { name: 'evalsha', run: scriptCommand(true, false) },
  { name: 'eval_ro', run: scriptCommand(false, true) },
  { name: 'evalsha_ro', run: scriptCommand(true, true) },
  {
    name: 'script|load',
    run: guarded((ctx, argv) => {
      const sha = sha1hex(argv[2]!);
      if (scriptFor(ctx, argv[2]!, sha) !== null) ctx.reply.bulk(sha);
    }),
  },
  {
    name: 'script|exists',
    run(ctx, argv) {
      const scripts = scriptingOf(ctx.host).scripts;
      ctx.reply.array(argv.length - 2);
      for (let i = 2; i < argv.length; i++) ctx.reply.integer(scripts.has(argv[i]!.toLowerCase()) ? 1 : 0);
    },
  },
  {
    name: 'script|flush',
    run(ctx, argv) {
      if (argv.length > 3 || (argv.length === 3 && !/^(sync|async)$/i.test(argv[2]!))) {
        ctx.reply.error('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
        return;
      }
      scriptingOf(ctx.host).flushScripts();
      ctx.reply.ok();
    },
  },
  {
    name: 'script|kill',
    run(ctx) {
      const err = scriptingOf(ctx.host).kill('eval');
      if (err === null) ctx.reply.ok();
      else ctx.reply.error(err);
    },
  },
  {
    name: 'script|debug',
    run(ctx, argv) {
      // Redis refuses it while earlier replies wait to be written (clientHasPendingReplies): after other
      // commands of the same pipeline, or inside EXEC.
      const pending = ctx.reply.hasOutput || (ctx.conn !== null && ctx.conn.socketPending > 0);
      if (ctx.multi !== null || ctx.inExec || pending) {
        ctx.reply.error('ERR SCRIPT DEBUG must be called outside a pipeline');
        return;
      }
      const mode = argv[2]!.toLowerCase();
      const conn = ctx.conn;
      if (mode === 'no') {
        if (conn !== null) conn.scriptDebugRefused = false;
        ctx.reply.ok();
      } else if (mode === 'yes' || mode === 'sync') {
        // redis-cli --ldb goes on with its EVAL whatever the answer: that EVAL,
        // meant to run in a debug session (whose writes YES rolls back), is refused.
        if (conn !== null) conn.scriptDebugRefused = true;
        ctx.reply.error('ERR SCRIPT DEBUG is not supported: Vireo has no Lua debugger (ldb)');
      } else ctx.reply.error('ERR Use SCRIPT DEBUG YES/SYNC/NO');
    },
  },
  {
    // Valkey 8.0: the body of a cached script (SCRIPT LOAD'ed or run by EVAL).
    name: 'script|show',
    run(ctx, argv) {
      const sha = argv[2]!;
      const script = sha.length === 40 ? scriptingOf(ctx.host).scripts.get(sha.toLowerCase()) : undefined;
      if (script === undefined) ctx.reply.error(NO_SCRIPT);
      else ctx.reply.bulk(script.body);
    },
  },
  { name: 'script|help', run: (ctx) => replyHelp(ctx, 'SCRIPT', SCRIPT_HELP) },
];
