/**
 * The command table (DESIGN.md §3): the one source for dispatch, arity and
 * flag checks, COMMAND introspection, ACL categories, key extraction and
 * commandstats. Facts (arity, flags, categories, key specs) come from the
 * generated meta.ts; each family file supplies the implementations.
 * Commands without an implementation are not in the table at all, so they
 * answer "unknown command" and COMMAND does not advertise them.
 */

import { COMMAND_META, type MetaRow } from './meta.js';
import { LATER_COMMAND_META } from './meta-later.js';
import type { CommandContext } from './context.js';
import type { CommandLatency } from '../diagnostics/latency-stats.js';
import { GETKEYS_PROCS, type GetKeysProc, type KeyRef } from './getkeys.js';

export type { GetKeysProc, KeyRef } from './getkeys.js';
import { MAX_ARG_CHARS, argLength, bigArgIndexes, hasBigArgs } from '../protocol/big-args.js';

export type Handler = (ctx: CommandContext, argv: string[]) => void;

/** What a family file exports for each command it implements. */
export interface CommandImpl {
  /** Lowercase name; 'parent|sub' for a subcommand. */
  name: string;
  run: Handler;
  /**
   * Whether argv[index] may be longer than a JS string (the command then
   * reads its bytes with argAt, protocol/big-args.ts). Absent: never.
   */
  bigArg?: (index: number) => boolean;
}

/** Whether `argc` arguments (the name included) fit the command's arity. */
export function arityOk(cmd: Command, argc: number): boolean {
  return cmd.arity > 0 ? argc === cmd.arity : argc >= -cmd.arity;
}

export const F = {
  WRITE: 1 << 0,
  READONLY: 1 << 1,
  DENYOOM: 1 << 2,
  ADMIN: 1 << 3,
  PUBSUB: 1 << 4,
  NOSCRIPT: 1 << 5,
  BLOCKING: 1 << 6,
  LOADING: 1 << 7,
  STALE: 1 << 8,
  SKIP_MONITOR: 1 << 9,
  SKIP_SLOWLOG: 1 << 10,
  ASKING: 1 << 11,
  FAST: 1 << 12,
  NO_AUTH: 1 << 13,
  MAY_REPLICATE: 1 << 14,
  SENTINEL: 1 << 15,
  ONLY_SENTINEL: 1 << 16,
  NO_MANDATORY_KEYS: 1 << 17,
  PROTECTED: 1 << 18,
  NO_ASYNC_LOADING: 1 << 19,
  NO_MULTI: 1 << 20,
  MOVABLE_KEYS: 1 << 21,
  ALLOW_BUSY: 1 << 22,
  TOUCHES_ARBITRARY_KEYS: 1 << 23,
} as const;

const FLAG_BY_NAME: Record<string, number> = {
  write: F.WRITE,
  readonly: F.READONLY,
  denyoom: F.DENYOOM,
  admin: F.ADMIN,
  pubsub: F.PUBSUB,
  noscript: F.NOSCRIPT,
  blocking: F.BLOCKING,
  loading: F.LOADING,
  stale: F.STALE,
  skip_monitor: F.SKIP_MONITOR,
  skip_slowlog: F.SKIP_SLOWLOG,
  asking: F.ASKING,
  fast: F.FAST,
  no_auth: F.NO_AUTH,
  may_replicate: F.MAY_REPLICATE,
  sentinel: F.SENTINEL,
  only_sentinel: F.ONLY_SENTINEL,
  no_mandatory_keys: F.NO_MANDATORY_KEYS,
  protected: F.PROTECTED,
  no_async_loading: F.NO_ASYNC_LOADING,
  no_multi: F.NO_MULTI,
  allow_busy: F.ALLOW_BUSY,
  touches_arbitrary_keys: F.TOUCHES_ARBITRARY_KEYS,
};

/** Redis' ACL categories in its table order (COMMAND INFO and ACL CAT print in this order). */
export const ACL_CATEGORIES = [
  'keyspace', 'read', 'write', 'set', 'sortedset', 'list', 'hash', 'string', 'bitmap', 'hyperloglog',
  'geo', 'stream', 'pubsub', 'admin', 'fast', 'slow', 'blocking', 'dangerous', 'connection',
  'transaction', 'scripting',
];

function unsigned(n: number): number {
  return n < 0 ? 2 ** 32 + n : n;
}

export type BeginSearch =
  | { type: 'index'; pos: number }
  | { type: 'keyword'; keyword: string; startFrom: number }
  | { type: 'unknown' };

export type FindKeys =
  | { type: 'range'; lastKey: number; keyStep: number; limit: number }
  | { type: 'keynum'; keyNumIdx: number; firstKey: number; keyStep: number }
  | { type: 'unknown' };

export interface KeySpec {
  bs: BeginSearch;
  fk: FindKeys;
  flags: string[];
}

export class CommandStats {
  calls = 0;
  usec = 0;
  rejected = 0;
  failed = 0;
  /** Its latency histogram (latency-tracking), made at its first timed call. */
  latency: CommandLatency | null = null;
}

/**
 * Commands without the `fast` flag whose work is bounded by the size of
 * their arguments (the SET family) or constant (the queue moves).
 */
const BOUNDED_WORK = new Set(['set', 'setex', 'psetex', 'mset', 'msetnx', 'lmove', 'rpoplpush']);

export class Command {
  readonly flags: number;
  readonly keySpecs: KeySpec[];
  /** COMMAND INFO's first key, last key and step (Redis' legacy range spec). */
  legacy = { first: 0, last: 0, step: 0 };
  readonly subcommands = new Map<string, Command>();
  readonly stats = new CommandStats();
  /** Redis' getkeys_proc (getkeys.ts), for keys the specs cannot always find. */
  getKeys: GetKeysProc | null = null;
  /** CommandImpl.bigArg, or null. */
  bigArg: ((index: number) => boolean) | null = null;
  /** Index in every ACL user's command bitmap (src/acl/), set by the table. */
  aclId = -1;
  /** What the ACL check precomputes for this command on first use (src/acl/check.ts owns its shape). */
  aclPlan: unknown = undefined;
  /**
   * Its run time is read from the clock on its own (commandstats) rather
   * than shared with the commands of its input batch: it may be slow in
   * ways its arguments do not show (not `fast`, and not one of the commands
   * whose work is bounded by their argument bytes).
   */
  readonly timedAlone: boolean;

  constructor(
    /** Full name: 'get', 'client|kill'. */
    readonly name: string,
    readonly group: string,
    readonly since: string,
    readonly arity: number,
    readonly flagNames: string[],
    /** Explicit ACL categories (without '@'). */
    readonly explicitAcl: string[],
    keySpecs: string,
    public run: Handler | null,
    readonly parent: Command | null,
  ) {
    let flags = 0;
    for (const f of flagNames) flags |= FLAG_BY_NAME[f] ?? 0;
    this.keySpecs = keySpecs === '' ? [] : keySpecs.split(' ').map(parseKeySpec);
    this.flags = flags | this.computeLegacyRange();
    this.timedAlone = (this.flags & F.FAST) === 0 && !BOUNDED_WORK.has(name);
  }

  /** The name as Redis prints it in errors and COMMAND output. */
  get fullName(): string {
    return this.name;
  }

  /** ACL categories: explicit ones plus those implied by flags (setImplicitACLCategories), in Redis' order. */
  get aclCategories(): string[] {
    const cats = new Set(this.explicitAcl);
    const f = this.flags;
    if (f & F.WRITE) cats.add('write');
    if (f & F.READONLY && !cats.has('scripting')) cats.add('read');
    if (f & F.ADMIN) {
      cats.add('admin');
      cats.add('dangerous');
    }
    if (f & F.PUBSUB) cats.add('pubsub');
    if (f & F.FAST) cats.add('fast');
    if (f & F.BLOCKING) cats.add('blocking');
    if (!cats.has('fast')) cats.add('slow');
    return ACL_CATEGORIES.filter((c) => cats.has(c));
  }

  /** Redis' populateCommandLegacyRangeSpec; returns MOVABLE_KEYS if needed. */
  private computeLegacyRange(): number {
    const specs = this.keySpecs;
    if (specs.length === 0) return 0;
    const isRange = (s: KeySpec) => s.bs.type === 'index' && s.fk.type === 'range';
    if (specs.length === 1 && isRange(specs[0]!)) {
      const s = specs[0]!;
      this.setLegacy(s);
      return s.flags.includes('INCOMPLETE') ? F.MOVABLE_KEYS : 0;
    }
    let movable = 0;
    let first = Infinity;
    let last = 0;
    let prevLast = 0;
    for (const s of specs) {
      if (s.bs.type !== 'index' || s.fk.type !== 'range') {
        movable = F.MOVABLE_KEYS;
        continue;
      }
      if (s.fk.keyStep !== 1 || (prevLast !== 0 && prevLast !== s.bs.pos - 1)) {
        movable = F.MOVABLE_KEYS;
        continue;
      }
      if (s.flags.includes('INCOMPLETE')) movable = F.MOVABLE_KEYS;
      first = Math.min(first, s.bs.pos);
      let abs = s.fk.lastKey;
      if (abs >= 0) abs += s.bs.pos;
      // Redis compares as unsigned: a negative (relative-to-end) index wins.
      last = unsigned(last) >= unsigned(abs) ? last : abs;
      prevLast = last;
    }
    if (first === Infinity) return F.MOVABLE_KEYS;
    this.legacy = { first, last, step: 1 };
    return movable;
  }

  private setLegacy(s: KeySpec): void {
    if (s.bs.type !== 'index' || s.fk.type !== 'range') return;
    const last = s.fk.lastKey >= 0 ? s.bs.pos + s.fk.lastKey : s.fk.lastKey;
    this.legacy = { first: s.bs.pos, last, step: s.fk.keyStep };
  }
}

function parseKeySpec(text: string): KeySpec {
  const [bsText, fkText, flagText] = text.split('/') as [string, string, string];
  let bs: BeginSearch = { type: 'unknown' };
  if (bsText.startsWith('index:')) bs = { type: 'index', pos: Number(bsText.slice(6)) };
  else if (bsText.startsWith('keyword:')) {
    const [kw, start] = bsText.slice(8).split('@') as [string, string];
    bs = { type: 'keyword', keyword: kw, startFrom: Number(start) };
  }
  let fk: FindKeys = { type: 'unknown' };
  if (fkText.startsWith('range:')) {
    const [lastKey, keyStep, limit] = fkText.slice(6).split(',').map(Number) as [number, number, number];
    fk = { type: 'range', lastKey, keyStep, limit };
  } else if (fkText.startsWith('keynum:')) {
    const [keyNumIdx, firstKey, keyStep] = fkText.slice(7).split(',').map(Number) as [number, number, number];
    fk = { type: 'keynum', keyNumIdx, firstKey, keyStep };
  }
  return { bs, fk, flags: flagText ? flagText.split('+') : [] };
}

export class CommandTable {
  /** Top-level commands by lowercase name. */
  readonly commands = new Map<string, Command>();
  /** Lookup cache including the upper-case spelling most clients send. */
  private readonly fast = new Map<string, Command>();
  /**
   * Every command Redis 7.2 has, implemented or not, by full lowercase name
   * ('config|get'): ACL rules and ACL CAT / DRYRUN know them all, as Redis
   * does. The implemented ones are the objects of `commands`.
   */
  readonly known = new Map<string, Command>();

  constructor(impls: readonly CommandImpl[]) {
    const meta = new Map<string, MetaRow>([...COMMAND_META, ...LATER_COMMAND_META].map((r) => [r[0], r]));
    const runs = new Map<string, Handler>();
    const bigArgs = new Map<string, (index: number) => boolean>();
    for (const impl of impls) {
      if (!meta.has(impl.name)) throw new Error(`command ${impl.name} has no entry in meta.ts`);
      if (runs.has(impl.name)) throw new Error(`command ${impl.name} implemented twice`);
      runs.set(impl.name, impl.run);
      if (impl.bigArg) bigArgs.set(impl.name, impl.bigArg);
    }
    for (const [name, run] of runs) {
      const parentName = name.includes('|') ? name.slice(0, name.indexOf('|')) : null;
      if (parentName !== null) {
        let parent = this.commands.get(parentName);
        if (parent === undefined) {
          parent = this.make(meta.get(parentName)!, runs.get(parentName) ?? null, null);
          this.commands.set(parentName, parent);
        }
        parent.subcommands.set(name.slice(parentName.length + 1), this.make(meta.get(name)!, run, parent));
      } else if (!this.commands.has(name)) {
        this.commands.set(name, this.make(meta.get(name)!, run, null));
      } else {
        this.commands.get(name)!.run = run;
      }
    }
    for (const cmd of this.all()) {
      cmd.getKeys = GETKEYS_PROCS[cmd.name] ?? null;
      cmd.bigArg = bigArgs.get(cmd.name) ?? null;
    }
    this.collectKnown(meta);
    for (const [name, cmd] of this.commands) {
      this.fast.set(name, cmd);
      this.fast.set(name.toUpperCase(), cmd);
    }
  }

  private make(row: MetaRow, run: Handler | null, parent: Command | null): Command {
    const [name, group, since, arity, flags, acl, keySpecs] = row;
    const flagNames = flags === '' ? [] : flags.split(',');
    const aclCats = acl === '' ? [] : acl.split(',').map((c) => c.replace(/^@/, ''));
    return new Command(name, group, since, arity, flagNames, aclCats, keySpecs, run, parent);
  }

  /** Fill `known` from the meta rows (parents before their subcommands) and number them for ACLs. */
  private collectKnown(meta: Map<string, MetaRow>): void {
    for (const cmd of this.all()) this.known.set(cmd.name, cmd);
    const rows = [...meta.values()].sort((a, b) => (a[0].includes('|') ? 1 : 0) - (b[0].includes('|') ? 1 : 0));
    for (const row of rows) {
      const name = row[0];
      if (this.known.has(name)) continue;
      const bar = name.indexOf('|');
      const parent = bar < 0 ? null : (this.known.get(name.slice(0, bar)) ?? null);
      if (bar >= 0 && parent === null) continue;
      const cmd = this.make(row, null, parent);
      cmd.getKeys = GETKEYS_PROCS[name] ?? null;
      this.known.set(name, cmd);
      if (parent !== null && !this.commands.has(parent.name)) parent.subcommands.set(name.slice(bar + 1), cmd);
    }
    let id = 0;
    for (const cmd of this.known.values()) {
      cmd.aclId = id++;
      if (cmd.parent === null) continue;
      const siblings = this.children.get(cmd.parent);
      if (siblings === undefined) this.children.set(cmd.parent, [cmd]);
      else siblings.push(cmd);
    }
  }

  /** Known subcommands by container. */
  private readonly children = new Map<Command, Command[]>();

  /** Redis' lookupCommandBySdsLogic over every known command: 'name' or 'parent|sub', case-insensitively. */
  lookupKnown(fullName: string): Command | undefined {
    const parts = fullName.toLowerCase().split('|');
    if (parts.length > 2) return undefined;
    const base = this.known.get(parts[0]!);
    if (base === undefined || parts.length === 1) return base;
    if (!this.hasKnownSubcommands(base)) return undefined;
    return this.known.get(`${parts[0]}|${parts[1]}`);
  }

  /** Whether a known command is a container (CONFIG, CLIENT...), implemented subcommands or not. */
  hasKnownSubcommands(cmd: Command): boolean {
    return this.children.has(cmd);
  }

  /** The known subcommands of a known container command. */
  knownSubcommands(cmd: Command): readonly Command[] {
    return this.children.get(cmd) ?? [];
  }

  /** The top-level command for argv[0], case-insensitively. */
  lookup(name: string): Command | undefined {
    return this.fast.get(name) ?? this.commands.get(name.toLowerCase());
  }

  /** Every command and subcommand. */
  *all(): IterableIterator<Command> {
    for (const c of this.commands.values()) {
      yield c;
      yield* c.subcommands.values();
    }
  }

  /** Resolve `argv` to a command or subcommand (COMMAND GETKEYS, ACL, scripts). */
  resolve(argv: readonly string[]): Command | undefined {
    const cmd = this.lookup(argv[0] ?? '');
    if (cmd === undefined || cmd.subcommands.size === 0 || argv.length < 2) return cmd;
    return cmd.subcommands.get(argv[1]!.toLowerCase());
  }
}

/** A spec that finds real keys (not one flagged NOT_KEY). */
function findsKeys(spec: KeySpec): boolean {
  return !spec.flags.includes('NOT_KEY');
}

/** Redis' doesCommandHaveKeys. */
export function commandHasKeys(cmd: Command): boolean {
  return cmd.getKeys !== null || cmd.keySpecs.some(findsKeys);
}

/** The commands whose CommandImpl.bigArg takes an argument longer than a JS string (README: "Long values"). */
export const BIG_ARG_COMMANDS = 'SET, SETNX, SETEX, PSETEX, GETSET, APPEND, SETRANGE, MSET, MSETNX and RESTORE';

/**
 * Why `cmd` cannot run with argv's arguments that are too long for JS
 * strings (without the error code), or null when it can.
 */
export function bigArgRefusal(cmd: Command, argv: readonly string[]): string | null {
  if (!hasBigArgs(argv)) return null;
  for (const i of bigArgIndexes(argv)) {
    if (cmd.bigArg === null || !cmd.bigArg(i)) {
      return `'${cmd.fullName}' cannot take an argument of ${argLength(argv, i)} bytes: Vireo takes arguments longer than ${MAX_ARG_CHARS} bytes only as the value of ${BIG_ARG_COMMANDS}`;
    }
  }
  return null;
}

/**
 * The keys of a command line, as Redis' getKeysFromCommandWithSpecs: the
 * key specs when they can describe it, else the command's getkeys proc,
 * else none. Only introspection calls this: it may be slow.
 */
export function commandKeys(cmd: Command, argv: readonly string[]): KeyRef[] {
  const variableFlags = cmd.keySpecs.some((s) => s.flags.includes('VARIABLE_FLAGS'));
  if (cmd.keySpecs.some(findsKeys) && !variableFlags) {
    const keys = keysFromSpecs(cmd, argv);
    if (keys !== null) return keys;
  }
  return cmd.getKeys !== null ? cmd.getKeys(argv) : [];
}

/** string2ll's numbers: no sign but '-', no leading zero or space. */
const STRICT_INTEGER = /^(0|-?[1-9][0-9]*)$/;
const INT64_MAX = 0x7fffffffffffffffn;

/** A numkeys argument as getKeysUsingKeySpecs reads it: null if not a non-negative int64. */
function specNumkeys(text: string): number | null {
  if (!STRICT_INTEGER.test(text) || text[0] === '-' || BigInt(text) > INT64_MAX) return null;
  // Redis adds it to the first key index as a C int.
  return Number(BigInt.asIntN(32, BigInt(text)));
}

/**
 * Key positions from the command's key specs, as Redis'
 * getKeysUsingKeySpecs: null when a spec cannot be followed (unknown,
 * INCOMPLETE, or arguments that do not fit it).
 */
function keysFromSpecs(cmd: Command, argv: readonly string[]): KeyRef[] | null {
  const out: KeyRef[] = [];
  const argc = argv.length;
  for (const spec of cmd.keySpecs) {
    if (!findsKeys(spec)) continue;
    let first = 0;
    if (spec.bs.type === 'index') first = spec.bs.pos;
    else if (spec.bs.type === 'keyword') {
      const from = spec.bs.startFrom;
      const startIndex = from > 0 ? from : argc + from;
      const endIndex = from > 0 ? argc - 1 : 0;
      for (let i = startIndex; i !== endIndex; i = startIndex <= endIndex ? i + 1 : i - 1) {
        if (i >= argc || i < 0) break;
        if (argv[i]!.toLowerCase() === spec.bs.keyword.toLowerCase()) {
          first = i + 1;
          break;
        }
      }
      if (first === 0) continue;
    } else return null;
    let last: number;
    let step: number;
    if (spec.fk.type === 'range') {
      step = spec.fk.keyStep;
      if (spec.fk.lastKey >= 0) last = first + spec.fk.lastKey;
      else if (spec.fk.limit === 0) last = argc + spec.fk.lastKey;
      else last = first + (Math.trunc((argc - first) / spec.fk.limit) + spec.fk.lastKey);
    } else if (spec.fk.type === 'keynum') {
      step = spec.fk.keyStep;
      if (spec.fk.keyNumIdx >= argc) return null;
      const numkeys = specNumkeys(argv[first + spec.fk.keyNumIdx] ?? '');
      if (numkeys === null) return null;
      first += spec.fk.firstKey;
      last = first + numkeys - 1;
    } else return null;
    if (last >= argc || last < first || first >= argc) return null;
    for (let i = first; i <= last; i += step) {
      if (i >= argc || i < first) continue;
      out.push({ pos: i, flags: spec.flags });
    }
    if (spec.flags.includes('INCOMPLETE')) return null;
  }
  return out;
}
