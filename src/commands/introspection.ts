/**
 * COMMAND and its subcommands, answered from the command table.
 */

import { F, arityOk, commandHasKeys, commandKeys, type Command, type CommandImpl, type CommandTable, type KeySpec } from './table.js';
import type { CommandContext } from './context.js';
import type { ReplyWriter } from '../protocol/writer.js';
import { replyHelp, cstr } from './util.js';
import { globMatch } from '../util/glob.js';
import { replyCommandDocs } from './command-docs.js';

const FLAG_NAMES: [number, string][] = [
  [F.WRITE, 'write'],
  [F.READONLY, 'readonly'],
  [F.DENYOOM, 'denyoom'],
  [F.ADMIN, 'admin'],
  [F.PUBSUB, 'pubsub'],
  [F.NOSCRIPT, 'noscript'],
  [F.BLOCKING, 'blocking'],
  [F.LOADING, 'loading'],
  [F.STALE, 'stale'],
  [F.SKIP_MONITOR, 'skip_monitor'],
  [F.SKIP_SLOWLOG, 'skip_slowlog'],
  [F.ASKING, 'asking'],
  [F.FAST, 'fast'],
  [F.NO_AUTH, 'no_auth'],
  [F.NO_MANDATORY_KEYS, 'no_mandatory_keys'],
  [F.NO_ASYNC_LOADING, 'no_async_loading'],
  [F.NO_MULTI, 'no_multi'],
  [F.MOVABLE_KEYS, 'movablekeys'],
  [F.ALLOW_BUSY, 'allow_busy'],
];

const KEY_FLAG_ORDER = ['RO', 'RW', 'OW', 'RM', 'ACCESS', 'UPDATE', 'INSERT', 'DELETE', 'NOT_KEY', 'INCOMPLETE', 'VARIABLE_FLAGS'];

function keyFlagNames(flags: readonly string[]): string[] {
  return KEY_FLAG_ORDER.filter((f) => flags.includes(f)).map((f) => (f.length === 2 ? f : f.toLowerCase()));
}

function replyKeySpec(r: ReplyWriter, spec: KeySpec): void {
  r.map(3);
  r.bulk('flags');
  const flags = keyFlagNames(spec.flags);
  r.set(flags.length);
  for (const f of flags) r.simple(f);
  r.bulk('begin_search');
  r.map(2);
  r.bulk('type');
  r.bulk(spec.bs.type);
  r.bulk('spec');
  if (spec.bs.type === 'index') {
    r.map(1);
    r.bulk('index');
    r.integer(spec.bs.pos);
  } else if (spec.bs.type === 'keyword') {
    r.map(2);
    r.bulk('keyword');
    r.bulk(spec.bs.keyword);
    r.bulk('startfrom');
    r.integer(spec.bs.startFrom);
  } else r.map(0);
  r.bulk('find_keys');
  r.map(2);
  r.bulk('type');
  r.bulk(spec.fk.type);
  r.bulk('spec');
  if (spec.fk.type === 'range') {
    r.map(3);
    r.bulk('lastkey');
    r.integer(spec.fk.lastKey);
    r.bulk('keystep');
    r.integer(spec.fk.keyStep);
    r.bulk('limit');
    r.integer(spec.fk.limit);
  } else if (spec.fk.type === 'keynum') {
    r.map(3);
    r.bulk('keynumidx');
    r.integer(spec.fk.keyNumIdx);
    r.bulk('firstkey');
    r.integer(spec.fk.firstKey);
    r.bulk('keystep');
    r.integer(spec.fk.keyStep);
  } else r.map(0);
}

function implementedSubcommands(cmd: Command): Command[] {
  return [...cmd.subcommands.values()].filter((s) => s.run !== null);
}

/** One COMMAND INFO entry (Redis' addReplyCommandInfo). */
export function replyCommandInfo(r: ReplyWriter, cmd: Command): void {
  r.array(10);
  r.bulk(cmd.name);
  r.integer(cmd.arity);
  const flags = FLAG_NAMES.filter(([bit]) => cmd.flags & bit).map(([, n]) => n);
  r.set(flags.length);
  for (const f of flags) r.simple(f);
  r.integer(cmd.legacy.first);
  r.integer(cmd.legacy.last);
  r.integer(cmd.legacy.step);
  const cats = cmd.aclCategories;
  r.set(cats.length);
  for (const cat of cats) r.simple('@' + cat);
  r.set(0);
  r.array(cmd.keySpecs.length);
  for (const spec of cmd.keySpecs) replyKeySpec(r, spec);
  const subs = implementedSubcommands(cmd);
  r.array(subs.length);
  for (const s of subs) replyCommandInfo(r, s);
}

/** Commands and subcommands with an implementation. */
function everyCommand(table: CommandTable): Command[] {
  const out: Command[] = [];
  for (const cmd of table.commands.values()) {
    out.push(cmd);
    out.push(...implementedSubcommands(cmd));
  }
  return out;
}

function lookupByFullName(table: CommandTable, name: string): Command | undefined {
  const lower = name.toLowerCase();
  const bar = lower.indexOf('|');
  if (bar < 0) return table.commands.get(lower);
  return table.commands.get(lower.slice(0, bar))?.subcommands.get(lower.slice(bar + 1));
}

/** COMMAND GETKEYS[ANDFLAGS], in the order of Redis' getKeysSubcommandImpl checks. */
function getKeysCommon(ctx: CommandContext, table: CommandTable, argv: string[], withFlags: boolean): void {
  const args = argv.slice(2);
  const cmd = table.resolve(args);
  if (cmd === undefined || cmd.run === null) {
    ctx.reply.error('ERR Invalid command specified');
    return;
  }
  if (!commandHasKeys(cmd)) {
    ctx.reply.error('ERR The command has no key arguments');
    return;
  }
  if (!arityOk(cmd, args.length)) {
    ctx.reply.error('ERR Invalid number of arguments specified for command');
    return;
  }
  const keys = commandKeys(cmd, args);
  if (keys.length === 0) {
    if (cmd.flags & F.NO_MANDATORY_KEYS) ctx.reply.array(0);
    else ctx.reply.error('ERR Invalid arguments specified for command');
    return;
  }
  ctx.reply.array(keys.length);
  for (const { pos, flags: specFlags } of keys) {
    if (!withFlags) {
      ctx.reply.bulk(args[pos]!);
      continue;
    }
    const flags = keyFlagNames(specFlags);
    ctx.reply.array(2);
    ctx.reply.bulk(args[pos]!);
    ctx.reply.set(flags.length);
    for (const f of flags) ctx.reply.simple(f);
  }
}

/**
 * COMMAND and its subcommands read the table they are part of: it is
 * handed in once built (commands/index.ts).
 */
export function introspectionCommands(tableOf: () => CommandTable): CommandImpl[] {
  return [
  {
    name: 'command',
    run(ctx, argv) {
      if (argv.length > 1) {
        ctx.reply.error(`ERR unknown subcommand '${cstr(argv[1]!)}'. Try COMMAND HELP.`);
        return;
      }
      const cmds = [...tableOf().commands.values()];
      ctx.reply.array(cmds.length);
      for (const cmd of cmds) replyCommandInfo(ctx.reply, cmd);
    },
  },
  { name: 'command|count', run: (ctx) => ctx.reply.integer(tableOf().commands.size) },
  {
    name: 'command|info',
    run(ctx, argv) {
      if (argv.length === 2) {
        const cmds = [...tableOf().commands.values()];
        ctx.reply.array(cmds.length);
        for (const cmd of cmds) replyCommandInfo(ctx.reply, cmd);
        return;
      }
      ctx.reply.array(argv.length - 2);
      for (const name of argv.slice(2)) {
        const cmd = lookupByFullName(tableOf(), name);
        if (cmd === undefined || cmd.run === null && cmd.subcommands.size === 0) ctx.reply.nullArray();
        else replyCommandInfo(ctx.reply, cmd);
      }
    },
  },
  {
    name: 'command|docs',
    run(ctx, argv) {
      const cmds: Command[] = [];
      if (argv.length === 2) cmds.push(...tableOf().commands.values());
      else
        for (const name of argv.slice(2)) {
          const cmd = lookupByFullName(tableOf(), name);
          if (cmd !== undefined) cmds.push(cmd);
        }
      ctx.reply.map(cmds.length);
      for (const cmd of cmds) {
        ctx.reply.bulk(cmd.name);
        replyCommandDocs(ctx.reply, cmd, implementedSubcommands(cmd));
      }
    },
  },
  {
    name: 'command|list',
    run(ctx, argv) {
      let cmds = everyCommand(tableOf());
      if (argv.length === 5 && argv[2]!.toLowerCase() === 'filterby') {
        const kind = argv[3]!.toLowerCase();
        const arg = argv[4]!;
        if (kind === 'module') cmds = [];
        else if (kind === 'aclcat') cmds = cmds.filter((x) => x.aclCategories.includes(arg.toLowerCase()));
        else if (kind === 'pattern') cmds = cmds.filter((x) => globMatch(arg, x.name, true));
        else {
          ctx.reply.error('ERR syntax error');
          return;
        }
      } else if (argv.length !== 2) {
        ctx.reply.error('ERR syntax error');
        return;
      }
      ctx.reply.array(cmds.length);
      for (const cmd of cmds) ctx.reply.bulk(cmd.name);
    },
  },
  { name: 'command|getkeys', run: (ctx, argv) => getKeysCommon(ctx, tableOf(), argv, false) },
  { name: 'command|getkeysandflags', run: (ctx, argv) => getKeysCommon(ctx, tableOf(), argv, true) },
  {
    name: 'command|help',
    run(ctx) {
      replyHelp(ctx, 'COMMAND', [
        '(no subcommand)',
        '    Return details about all Redis commands.',
        'COUNT',
        '    Return the total number of commands in this Redis server.',
        'LIST',
        '    Return a list of all commands in this Redis server.',
        'INFO [<command-name> ...]',
        '    Return details about multiple Redis commands.',
        '    If no command names are given, documentation details for all',
        '    commands are returned.',
        'DOCS [<command-name> ...]',
        '    Return documentation details about multiple Redis commands.',
        '    If no command names are given, documentation details for all',
        '    commands are returned.',
        'GETKEYS <full-command>',
        '    Return the keys from a full Redis command.',
        'GETKEYSANDFLAGS <full-command>',
        '    Return the keys and the access flags from a full Redis command.',
      ]);
    },
  },
  ];
}
