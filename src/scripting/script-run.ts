/**
 * One running script (EVAL or FCALL): the execution context its
 * redis.call commands run on, Redis' checks before each of them
 * (scriptCall), and the write state SCRIPT KILL looks at. The script's
 * effects join the caller's execution unit, so they enter the command log
 * as one MULTI ... EXEC record of the commands it ran (never the script).
 */

import { CommandContext } from '../commands/context.js';
import { F } from '../commands/table.js';
import { OutputArena, ReplyWriter } from '../protocol/writer.js';

export type ScriptKind = 'eval' | 'function';

/** RESP bytes of an error reply. */
export function errorReply(msg: string): Buffer {
  return Buffer.from(`-${msg}\r\n`, 'latin1');
}

/** shared.oomerr. */
const OOM_ERROR = "OOM command not allowed when used memory > 'maxmemory'.";

const EMPTY_REPLY = Buffer.from('$-1\r\n', 'latin1');

export class ScriptRun {
  /** The context redis.call runs commands on (its own db: SELECT inside a script stays inside). */
  readonly ctx: CommandContext;
  private readonly writer: ReplyWriter;
  /** A write command ran: SCRIPT KILL refuses (UNKILLABLE), and later writes skip the state checks. */
  wrote = false;
  /** The script declared allow-oom: commands that may grow memory run even over maxmemory. */
  allowOom = false;
  /** Parked between two slices of the event loop (the server answers -BUSY meanwhile). */
  suspended = false;
  /** When it started, ms since the epoch (FUNCTION STATS duration_ms). */
  readonly startedAt = Date.now();

  constructor(
    arena: OutputArena,
    readonly caller: CommandContext,
    readonly kind: ScriptKind,
    /** EVAL_RO / FCALL_RO, or the no-writes flag. */
    readonly readOnly: boolean,
    /** The sha (EVAL) or the function's name (FCALL). */
    readonly name: string,
    /** The caller's command (FUNCTION STATS shows it). */
    readonly command: readonly string[],
  ) {
    this.writer = new ReplyWriter(arena);
    // Errors of the commands a script runs count in errorstats as Redis counts them (the script's
    // own reply then skips them: Lua's error table carries ignore_error_stats_update).
    this.writer.onError = (msg) => this.countError(msg);
    this.ctx = new CommandContext(caller.engine, this.writer, caller.host, null, -1);
    this.ctx.db = caller.db;
  }

  /** redis.call / redis.pcall: run `argv` and return the reply's bytes. */
  call(argv: string[], resp: number): Buffer {
    const host = this.caller.host;
    const cmd = host.lookupCommand(argv);
    if (cmd === undefined) return this.rejected('ERR Unknown Redis command called from script');
    if (cmd.arity > 0 ? argv.length !== cmd.arity : argv.length < -cmd.arity) return this.rejected('ERR Wrong number of args calling Redis command from script');
    if (cmd.flags & F.NOSCRIPT) return this.rejected('ERR This Redis command is not allowed from script');
    if (!(cmd.flags & F.STALE)) {
      const stale = host.replica.refusal(false, true);
      if (stale !== null && stale.startsWith('MASTERDOWN')) return this.rejected(stale);
    }
    const denied = host.scriptAclRefusal(this.caller, cmd, argv);
    if (denied !== null) return this.rejected(denied);
    if (cmd.flags & (F.WRITE | F.MAY_REPLICATE)) {
      const refusal = this.writeRefusal(cmd.flags);
      if (refusal !== null) return this.rejected(refusal);
    }
    if (cmd.flags & F.DENYOOM && this.oomRefused()) return this.rejected(OOM_ERROR);
    if (cmd.flags & F.WRITE) this.wrote = true;
    const w = this.writer;
    w.resp = resp === 3 ? 3 : 2;
    host.runScriptCommand(this.ctx, cmd, argv);
    const chunks = w.takeChunks();
    if (chunks === null) return EMPTY_REPLY;
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }

  /** A command scriptCall refused before running it: counted as Redis' afterErrorReply counts it. */
  private rejected(msg: string): Buffer {
    this.countError(msg);
    return errorReply(msg);
  }

  /**
   * One error reply of the script's commands, in the server's errorstats. The
   * caller's failed_calls counts only its own error reply, as Redis' does.
   */
  private countError(msg: string): void {
    const onError = this.caller.reply.onError;
    if (onError !== null) onError(msg);
  }

  /**
   * Redis' scriptVerifyOOM: the script started over maxmemory with nothing to
   * evict, and has not written yet (it cannot stop halfway once it has).
   */
  private oomRefused(): boolean {
    if (this.allowOom || this.wrote || this.caller.kind === 'master') return false;
    const limit = this.caller.host.memoryLimit;
    return limit.maxmemory > 0 && limit.oomAtCommandStart;
  }

  /** Redis' scriptVerifyWriteCommandAllow: why a write must not run now, or null. */
  private writeRefusal(flags: number): string | null {
    if (this.readOnly) return 'ERR Write commands are not allowed from read-only scripts.';
    if (!(flags & F.WRITE)) return null;
    // Once the script has written, it must not fail halfway on server state.
    if (this.wrote) return null;
    const host = this.caller.host;
    const fromPrimary = this.caller.kind === 'master';
    const replica = host.replica.refusal(true, false);
    if (replica !== null && replica.startsWith('READONLY') && !fromPrimary) return "READONLY You can't write against a read only replica.";
    const misconf = host.persistence.misconf();
    if (misconf !== null && !fromPrimary) return misconf;
    const noReplicas = host.primary.writesRefused;
    if (noReplicas !== null && !fromPrimary) return noReplicas;
    return null;
  }
}
