/**
 * Lua scripting (DESIGN.md §1): the EVAL script cache and the functions
 * engine, each on its own Lua state as in Redis, and the script running
 * now. A script's redis.call runs commands on a context of its own whose
 * reply becomes Lua values (native/src/resp_to_lua.c), and its effects join
 * the caller's execution unit.
 *
 * A script that runs past busy-reply-threshold is suspended by the VM's
 * count hook: the caller is parked, the unit stays open, other clients get
 * -BUSY (only SCRIPT KILL, FUNCTION KILL, SHUTDOWN NOSAVE and the like are
 * served), and the script resumes on the next turn of the event loop.
 */

import { createHash } from 'node:crypto';
import type { CommandContext } from '../commands/context.js';
import { formatDouble } from '../util/numbers.js';
import { OutputArena } from '../protocol/writer.js';
import { luaAddon, unpackArgs, type LuaAddon, type LuaCallbacks, type LuaVm } from './lua-addon.js';
import { ScriptRun, errorReply, type ScriptKind } from './script-run.js';
import type { Logger } from '../logger.js';
import { FunctionRegistry } from './functions.js';
import type { ScriptFlags } from './script-flags.js';

export { COMPAT_FLAGS, flagsFromNames, type ScriptFlags } from './script-flags.js';

export const BUSY_EVAL = 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
export const BUSY_FUNCTION = 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.';

/** Each server's Scripting, found from the host its commands see (kept off CommandHost: no import cycle). */
const byHost = new WeakMap<object, Scripting>();

export function attachScripting(host: object, scripting: Scripting): void {
  byHost.set(host, scripting);
}

export function scriptingOf(host: object): Scripting {
  const s = byHost.get(host);
  if (s === undefined) throw new Error('no scripting attached to this server');
  return s;
}

export function sha1hex(body: string): string {
  return createHash('sha1').update(body, 'latin1').digest('hex');
}

/** A script in the cache: its function in the EVAL Lua state, its source, its flags. */
export interface CachedScript {
  ref: number;
  body: string;
  flags: ScriptFlags;
}

/** What a run needs from its caller's command. */
export interface RunRequest {
  kind: ScriptKind;
  ref: number;
  /** The sha (EVAL) or function name (FCALL) error messages name. */
  name: string;
  flags: ScriptFlags;
  /** EVAL_RO / EVALSHA_RO / FCALL_RO. */
  readOnlyCommand: boolean;
  keys: string[];
  args: string[];
}

/** The Lua state of one engine (EVAL's or the functions'), created when first used. */
export class LuaEngine {
  private vm: LuaVm | null = null;
  /** redis.register_function's handler while FUNCTION LOAD runs. */
  onRegister: ((name: string, ref: number, flags: string[], description: string | null) => string | null) | null = null;

  constructor(
    private readonly scripting: Scripting,
    readonly functions: boolean,
  ) {}

  get(): LuaVm {
    if (this.vm === null) {
      const addon = this.scripting.addon();
      this.vm = addon.createVm(
        { memoryLimit: this.scripting.memoryLimit, functions: this.functions, redisVersion: this.scripting.redisVersion },
        this.scripting.callbacksFor(this),
      );
    }
    return this.vm;
  }

  /** Whether the Lua state exists (references into it mean something). */
  get started(): boolean {
    return this.vm !== null;
  }

  /** Drop the state and everything compiled in it (SCRIPT FLUSH). */
  reset(): void {
    if (this.vm !== null) this.scripting.addon().close(this.vm);
    this.vm = null;
  }

  applyMemoryLimit(bytes: number): void {
    if (this.vm !== null) this.scripting.addon().setMemoryLimit(this.vm, bytes);
  }

  get memory(): number {
    return this.vm === null ? 0 : this.scripting.addon().memory(this.vm);
  }
}

export class Scripting {
  readonly evalEngine = new LuaEngine(this, false);
  /** EVAL's script cache by lowercase SHA1 (EVAL and SCRIPT LOAD fill it, SCRIPT FLUSH empties it). */
  readonly scripts = new Map<string, CachedScript>();
  readonly functionEngine = new LuaEngine(this, true);
  /** The libraries FUNCTION LOAD loaded and the functions FCALL runs. */
  readonly functions = new FunctionRegistry(this);
  /** Where the commands of scripts encode their replies: one slab for every run (one script runs at a time). */
  private readonly callArena = new OutputArena();
  /** The script running now, or suspended between slices. */
  running: ScriptRun | null = null;
  private runningEngine: LuaEngine | null = null;
  /** lua-memory-limit: bytes each Lua state may allocate before its allocations fail ("not enough memory"). */
  private limit = 1 << 30;

  constructor(
    readonly redisVersion: string,
    private readonly logger: Logger,
  ) {}

  get memoryLimit(): number {
    return this.limit;
  }

  /** CONFIG SET lua-memory-limit: applies to both Lua states at once. */
  set memoryLimit(bytes: number) {
    this.limit = bytes;
    for (const engine of [this.evalEngine, this.functionEngine]) engine.applyMemoryLimit(bytes);
  }

  /** The addon; throws Redis-style error text when it is not built. */
  addon(): LuaAddon {
    const a = luaAddon();
    if (a instanceof Error) throw new ScriptingUnavailable(a.message);
    return a;
  }

  /** Why scripts cannot run here, or null. */
  unavailable(): string | null {
    const a = luaAddon();
    return a instanceof Error ? `ERR scripting is unavailable: ${a.message}` : null;
  }

  /** The -BUSY error for a command arriving while a script is suspended, or null. */
  get busyError(): string | null {
    const run = this.running;
    if (run === null || !run.suspended) return null;
    return run.kind === 'eval' ? BUSY_EVAL : BUSY_FUNCTION;
  }

  callbacksFor(engine: LuaEngine): LuaCallbacks {
    return {
      call: (packed, argc, resp) => {
        const run = this.running;
        if (run === null) return errorReply('ERR redis.call/pcall can only be called inside a script invocation');
        try {
          return run.call(unpackArgs(packed, argc), resp);
        } catch (e) {
          this.logger.error({ err: e }, 'internal error running a command from a script');
          return errorReply('ERR internal error running a command from a script');
        }
      },
      log: (level, message) => this.log(level, message),
      sha1hex: (s) => sha1hex(s),
      formatDouble: (d) => formatDouble(d),
      aclCheck: (packed, argc) => {
        const run = this.running;
        if (run === null) return -1;
        const argv = unpackArgs(packed, argc);
        const cmd = run.caller.host.lookupCommand(argv);
        if (cmd === undefined) return -1;
        return run.caller.host.aclPermits(run.caller, cmd, argv) ? 1 : 0;
      },
      registerFunction: (name, ref, flags, description) => {
        const handler = engine.onRegister;
        return handler === null ? 'redis.register_function can only be called on FUNCTION LOAD command' : handler(name, ref, flags, description);
      },
    };
  }

  private log(level: number, message: string): void {
    // redis.log levels: 0 debug, 1 verbose, 2 notice, 3 warning.
    if (level >= 3) this.logger.warn(message);
    else if (level === 2) this.logger.info(message);
    else if (level === 1) this.logger.debug(message);
    else this.logger.trace(message);
  }

  /**
   * Redis' scriptPrepareForRun checks on the script's declared flags: the
   * error for the caller, or null to run.
   */
  refusal(caller: CommandContext, req: RunRequest): string | null {
    const host = caller.host;
    const fromPrimary = caller.kind === 'master';
    if (!req.flags.declared) {
      const stale = host.replica.refusal(false, true);
      return stale !== null && stale.startsWith('MASTERDOWN') ? stale : null;
    }
    if (!req.flags.allowStale) {
      const stale = host.replica.refusal(false, true);
      if (stale !== null && stale.startsWith('MASTERDOWN')) {
        return "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and 'allow-stale' flag is not set on the script.";
      }
    }
    if (!req.flags.noWrites) {
      const ro = host.replica.refusal(true, false);
      if (ro !== null && ro.startsWith('READONLY') && !fromPrimary) return 'READONLY Can not run script with write flag on readonly replica';
      const misconf = host.persistence.misconf();
      if (misconf !== null && !fromPrimary) {
        return misconf.startsWith('MISCONF Errors writing to the AOF')
          ? misconf
          : "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts.";
      }
      if (req.readOnlyCommand) return 'ERR Can not execute a script with write flag using *_ro command.';
      const noReplicas = host.primary.writesRefused;
      if (noReplicas !== null && !fromPrimary) return noReplicas;
      // Over maxmemory with nothing to evict: a script that may write needs allow-oom. At the top
      // level Redis refuses it in processCommand (such a script makes EVAL deny-oom), in EXEC here.
      const limit = host.memoryLimit;
      if (!req.flags.allowOom && limit.maxmemory > 0 && limit.oomAtCommandStart && !fromPrimary) {
        return caller.inExec ? "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'" : "OOM command not allowed when used memory > 'maxmemory'.";
      }
    }
    return null;
  }

  /** Run a compiled script or function for `caller` and reply (now, or when a suspended run ends). */
  run(caller: CommandContext, engine: LuaEngine, req: RunRequest): void {
    const refused = this.refusal(caller, req);
    if (refused !== null) {
      caller.reply.error(refused);
      return;
    }
    const addon = this.addon();
    const vm = engine.get();
    const run = new ScriptRun(this.callArena, caller, req.kind, req.readOnlyCommand || req.flags.noWrites, req.name, caller.currentArgv ?? []);
    run.allowOom = req.flags.declared && req.flags.allowOom;
    // Only a connection's own command can be parked; inside EXEC (or with no client) the script runs to its end.
    const mayYield = caller.conn !== null && !caller.inExec && caller.kind !== 'master';
    const busyMs = caller.host.config.int('busy-reply-threshold');
    this.running = run;
    this.runningEngine = engine;
    let out: Buffer | null;
    try {
      out = addon.run(vm, req.ref, req.keys, req.args, req.name, caller.reply.resp, busyMs, mayYield);
    } catch (e) {
      this.running = null;
      throw e;
    }
    if (out !== null) {
      this.running = null;
      this.runningEngine = null;
      this.reply(caller, out, !addon.errorCounted(vm));
      return;
    }
    this.suspend(run, addon, vm);
  }

  /** Park the caller and resume the script slice by slice until it ends. */
  private suspend(run: ScriptRun, addon: LuaAddon, vm: LuaVm): void {
    const caller = run.caller;
    const host = caller.host;
    const engine = caller.engine;
    run.suspended = true;
    this.logger.warn(`Slow script detected: still in execution after ${host.config.int('busy-reply-threshold')} milliseconds. You can try killing the script using the ${run.kind === 'eval' ? 'SCRIPT KILL' : 'FUNCTION KILL'} command.`);
    // The caller's execution unit stays open until the script ends: its effects stay one record.
    engine.begin();
    let result: Buffer | null = null;
    let countResult = true;
    host.block(
      caller,
      {
        kind: 'script',
        internal: true,
        ready: () => result !== null,
        wake: () => this.reply(caller, result!, countResult),
      },
      0,
    );
    const step = (): void => {
      try {
        result = addon.resume(vm);
        countResult = !addon.errorCounted(vm);
      } catch (e) {
        this.logger.error({ err: e }, 'resuming a script failed');
        result = errorReply('ERR internal error resuming the script');
      }
      if (result === null) {
        setImmediate(step);
        return;
      }
      this.running = null;
      this.runningEngine = null;
      engine.end();
      host.wakeReady('script');
      if (engine.readyKeys.hasReady) engine.readyKeys.serve();
    };
    setImmediate(step);
  }

  /** Write a script's RESP result to its caller (errors through the writer, counted unless already counted). */
  private reply(caller: CommandContext, out: Buffer, counted: boolean): void {
    if (out.length > 0 && out[0] === 0x2d /* - */) {
      caller.reply.error(out.toString('latin1', 1, out.length - 2), counted);
      return;
    }
    caller.reply.rawBytes(out);
  }

  /** SCRIPT FLUSH: forget every cached script and start a fresh Lua state. */
  flushScripts(): void {
    this.scripts.clear();
    this.evalEngine.reset();
  }

  /** Bytes of the cached scripts' sources (used_memory_scripts_eval counts them with their overhead). */
  get scriptsMemory(): number {
    let n = 0;
    for (const [sha, s] of this.scripts) n += sha.length + s.body.length + 64;
    return n;
  }

  /** SCRIPT KILL / FUNCTION KILL: the reply. */
  kill(kind: ScriptKind): string | null {
    const run = this.running;
    if (run === null || !run.suspended || this.runningEngine === null) return 'NOTBUSY No scripts in execution right now.';
    if (run.caller.kind === 'master') return 'UNKILLABLE The busy script was sent by a master instance in the context of replication and cannot be killed.';
    if (run.wrote) {
      return 'UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.';
    }
    // SCRIPT KILL does not stop a function, nor FUNCTION KILL a script: the answer names the right command.
    if (run.kind !== kind) return run.kind === 'eval' ? BUSY_EVAL : BUSY_FUNCTION;
    this.addon().kill(this.runningEngine.get());
    return null;
  }
}

/** The addon is missing: the command answers this error. */
export class ScriptingUnavailable extends Error {}
