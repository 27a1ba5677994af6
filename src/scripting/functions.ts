/**
 * Redis 7 functions (functions.c): libraries loaded with FUNCTION LOAD, the
 * functions they register, and the operations that replace them as a whole
 * (FUNCTION RESTORE, loading an RDB file). A library's body runs once in the
 * functions engine's Lua state (native/src/functions.c); each function it
 * registers is a Lua registry reference that FCALL runs and that is
 * released (unref) when its library is replaced, deleted or flushed.
 */

import { splitArgs } from '../protocol/parser.js';
import { flagsFromNames, type ScriptFlags } from './script-flags.js';
import type { LuaAddon, LuaVm } from './lua-addon.js';

/** The one engine Redis 7.2 has, as FUNCTION LIST and FUNCTION STATS name it. */
export const LUA_ENGINE = 'LUA';

/** Flag names in Redis' scripts_flags_def order (FUNCTION LIST prints them so). */
const FLAG_ORDER = ['no-writes', 'allow-oom', 'allow-stale', 'no-cluster', 'allow-cross-slot-keys'];

const BAD_NAME = 'Library names can only contain letters, numbers, or underscores(_) and must be at least one character long';

/** One function a library registered. */
export interface LuaFunction {
  readonly name: string;
  /** Its callback in the functions engine's Lua registry. */
  readonly ref: number;
  /** Declared flags, in FUNCTION LIST's order. */
  readonly flagNames: readonly string[];
  readonly flags: ScriptFlags;
  readonly description: string | null;
  readonly library: Library;
}

export interface Library {
  readonly name: string;
  /** The whole code, shebang included (FUNCTION LIST WITHCODE, FUNCTION DUMP, snapshots). */
  readonly code: string;
  /** By exact name, in the order the body registered them. */
  readonly functions: Map<string, LuaFunction>;
}

/** How libraries that arrive together meet those already loaded (FUNCTION RESTORE's policies). */
export type RestorePolicy = 'flush' | 'append' | 'replace';

/** The result of an operation: null, or Redis' error text (without the ERR code). */
export type FunctionError = string | null;

/** Library names are matched exactly; function names are not (FCALL Foo runs foo), as Redis' dicts do. */
function functionKey(name: string): string {
  return name.toLowerCase();
}

/** Redis' functionsVerifyName: [a-zA-Z0-9_]+. */
export function validName(name: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(name);
}

/** A set of libraries and the index of their functions (Redis' functionsLibCtx). */
export class LibrarySet {
  readonly libraries = new Map<string, Library>();
  /** Every linked function by its case-folded name. */
  readonly functions = new Map<string, LuaFunction>();

  link(lib: Library): void {
    for (const fn of lib.functions.values()) {
      const key = functionKey(fn.name);
      // Two names of one library that differ only in case: the first keeps the name, as dictAdd does.
      if (!this.functions.has(key)) this.functions.set(key, fn);
    }
    this.libraries.set(lib.name, lib);
  }

  unlink(lib: Library): void {
    for (const fn of lib.functions.values()) {
      const key = functionKey(fn.name);
      if (this.functions.get(key) === fn) this.functions.delete(key);
    }
    this.libraries.delete(lib.name);
  }

  /** FUNCTION STATS functions_count: the functions of every library. */
  get functionCount(): number {
    let n = 0;
    for (const lib of this.libraries.values()) n += lib.functions.size;
    return n;
  }
}

/** What a library's shebang (`#!lua name=<lib>`) says: its engine and name, and where its body starts. */
interface LibraryMetadata {
  engine: string;
  name: string;
  /** Offset of the newline that ends the shebang (the body keeps it, so line numbers hold). */
  bodyStart: number;
}

/** Redis' functionExtractLibMetaData: the metadata, or the error text. */
export function parseLibraryMetadata(code: string): LibraryMetadata | string {
  if (!code.startsWith('#!')) return 'Missing library metadata';
  const newline = code.indexOf('\n');
  const nul = code.indexOf('\0');
  // Redis reads the shebang as a C string: a NUL byte before the newline ends it.
  if (newline < 0 || (nul >= 0 && nul < newline)) return 'Invalid library metadata';
  const parts = splitArgs(code.slice(0, newline));
  if (parts === null || parts.length === 0) return 'Invalid library metadata';
  const engine = parts[0]!.slice(2);
  let name: string | null = null;
  for (const part of parts.slice(1)) {
    if (part.slice(0, 5).toLowerCase() === 'name=') {
      if (name !== null) return 'Invalid metadata value, name argument was given multiple times';
      name = part.slice(5);
      continue;
    }
    return `Invalid metadata value given: ${part}`;
  }
  if (name === null) return 'Library name was not given';
  return { engine, name, bodyStart: newline };
}

/** What the registry needs of the scripting engine (Scripting passes itself; no import back to it). */
export interface FunctionEngineHost {
  readonly functionEngine: {
    /** redis.register_function's handler while a library body runs. */
    onRegister: ((name: string, ref: number, flags: string[], description: string | null) => string | null) | null;
    get(): LuaVm;
    readonly started: boolean;
  };
  addon(): LuaAddon;
  /** Why scripts cannot run here, or null. */
  unavailable(): string | null;
}

/** The function libraries of a server and the operations on them. */
export class FunctionRegistry {
  /** The libraries FCALL, FUNCTION LIST and snapshots see. */
  current = new LibrarySet();

  constructor(private readonly scripting: FunctionEngineHost) {}

  /** The function FCALL `name` runs, or undefined. */
  lookup(name: string): LuaFunction | undefined {
    return this.current.functions.get(functionKey(name));
  }

  /** Each library's code, in load order (FUNCTION DUMP, RDB opcode 245, an AOF rewrite). */
  codes(): string[] {
    return [...this.current.libraries.values()].map((lib) => lib.code);
  }

  /**
   * FUNCTION LOAD (Redis' functionsCreateWithLibraryCtx): run `code`'s body
   * and link the library it defines into `into`. The library's name, or the
   * error text; on an error `into` is left as it was.
   */
  create(code: string, replace: boolean, into: LibrarySet = this.current): { name: string } | { error: string } {
    const meta = parseLibraryMetadata(code);
    if (typeof meta === 'string') return { error: meta };
    if (!validName(meta.name)) return { error: BAD_NAME };
    if (meta.engine.toUpperCase() !== LUA_ENGINE) return { error: `Engine '${meta.engine}' not found` };
    const old = into.libraries.get(meta.name);
    if (old !== undefined && !replace) return { error: `Library '${meta.name}' already exists` };
    // The old library's function names are free for the new one while it loads.
    if (old !== undefined) into.unlink(old);
    const lib: Library = { name: meta.name, code, functions: new Map() };
    const error = this.runBody(lib, code.slice(meta.bodyStart)) ?? this.collision(lib, into);
    if (error !== null) {
      this.release(lib);
      if (old !== undefined) into.link(old);
      return { error };
    }
    into.link(lib);
    if (old !== undefined) this.release(old);
    return { name: lib.name };
  }

  /** Run a library body, collecting what it registers into `lib`: the error text, or null. */
  private runBody(lib: Library, body: string): FunctionError {
    const engine = this.scripting.functionEngine;
    const addon = this.scripting.addon();
    engine.onRegister = (name, ref, flags, description) => {
      if (!validName(name)) return BAD_NAME;
      if (lib.functions.has(name)) return 'Function already exists in the library';
      const flagNames = FLAG_ORDER.filter((f) => flags.includes(f));
      lib.functions.set(name, { name, ref, flagNames, flags: flagsFromNames(flagNames), description, library: lib });
      return null;
    };
    let error: string | null;
    try {
      error = addon.loadLibrary(engine.get(), Buffer.from(body, 'latin1'));
    } finally {
      engine.onRegister = null;
    }
    if (error !== null) return error;
    return lib.functions.size === 0 ? 'No functions registered' : null;
  }

  /** A function of `lib` whose name another library of `set` already has: the error text, or null. */
  private collision(lib: Library, set: LibrarySet): FunctionError {
    for (const fn of lib.functions.values()) {
      if (set.functions.has(functionKey(fn.name))) return `Function ${fn.name} already exists`;
    }
    return null;
  }

  /** FUNCTION DELETE: false when there is no such library. */
  delete(name: string): boolean {
    const lib = this.current.libraries.get(name);
    if (lib === undefined) return false;
    this.current.unlink(lib);
    this.release(lib);
    return true;
  }

  /** FUNCTION FLUSH: drop every library (Redis 7.2 keeps the Lua state, releasing their callbacks). */
  flush(): void {
    const old = this.current;
    this.current = new LibrarySet();
    this.releaseAll(old);
  }

  /**
   * FUNCTION RESTORE and loading a dataset: load every library of `codes`
   * on its own first, then apply them all at once by `policy` (Redis'
   * functionRestoreCommand and libraryJoin). Null, or the error text; on an
   * error nothing changed.
   */
  restore(codes: readonly string[], policy: RestorePolicy): FunctionError {
    const unavailable = codes.length > 0 ? this.scripting.unavailable() : null;
    if (unavailable !== null) return unavailable.replace(/^ERR /, '');
    const incoming = new LibrarySet();
    for (const code of codes) {
      const r = this.create(code, false, incoming);
      if ('error' in r) {
        this.releaseAll(incoming);
        return r.error;
      }
    }
    if (policy === 'flush') {
      const old = this.current;
      this.current = incoming;
      this.releaseAll(old);
      return null;
    }
    const error = this.join(incoming, policy === 'replace');
    if (error !== null) this.releaseAll(incoming);
    return error;
  }

  /** Redis' libraryJoin: link `incoming`'s libraries into the current set, or change nothing. */
  private join(incoming: LibrarySet, replace: boolean): FunctionError {
    const set = this.current;
    const replaced: Library[] = [];
    const undo = (error: string): string => {
      for (const lib of replaced) set.link(lib);
      return error;
    };
    for (const lib of incoming.libraries.values()) {
      const old = set.libraries.get(lib.name);
      if (old === undefined) continue;
      if (!replace) return undo(`Library ${lib.name} already exists`);
      set.unlink(old);
      replaced.push(old);
    }
    for (const fn of incoming.functions.values()) {
      if (set.functions.has(functionKey(fn.name))) return undo(`Function ${fn.name} already exists`);
    }
    for (const lib of incoming.libraries.values()) set.link(lib);
    for (const lib of replaced) this.release(lib);
    return null;
  }

  /** Let the Lua state collect a library's callbacks. */
  private release(lib: Library): void {
    const engine = this.scripting.functionEngine;
    if (lib.functions.size === 0 || !engine.started) return;
    const addon = this.scripting.addon();
    const vm = engine.get();
    for (const fn of lib.functions.values()) addon.unref(vm, fn.ref);
  }

  private releaseAll(set: LibrarySet): void {
    for (const lib of set.libraries.values()) this.release(lib);
  }

  /** Bytes of the registry's bookkeeping and code (INFO used_memory_functions, an estimate of Redis' overhead). */
  get memory(): number {
    let n = 0;
    for (const lib of this.current.libraries.values()) {
      n += 96 + lib.name.length + lib.code.length;
      for (const fn of lib.functions.values()) n += 96 + fn.name.length + (fn.description?.length ?? 0);
    }
    return n;
  }
}
