/**
 * ACL SETUSER GETUSER DELUSER LIST USERS WHOAMI CAT LOG DRYRUN GENPASS
 * LOAD SAVE HELP, as Redis 7.2's aclCommand answers them. The users, the
 * rules and the check live in src/acl/.
 */

import { randomBytes } from 'node:crypto';
import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, cstr, replyHelp } from './util.js';
import { parseLong } from '../util/numbers.js';
import { ACL_CATEGORIES } from './table.js';
import { describeChannels, describeCommandRules, describeKeys, describeUser, userFlags } from '../acl/rules.js';
import { reasonName } from '../acl/log.js';
import type { Selector } from '../acl/user.js';

/** Redis' addReplySubcommandSyntaxError. */
function subcommandSyntaxError(ctx: CommandContext, argv: string[]): void {
  ctx.reply.error(`ERR unknown subcommand or wrong number of arguments for '${argv[1]!.slice(0, 128)}'. Try ${argv[0]!.toUpperCase()} HELP.`);
}

function setuser(ctx: CommandContext, argv: string[]): void {
  const err = ctx.host.acl.setUser(argv[2]!, argv.slice(3));
  if (err === null) ctx.reply.ok();
  else ctx.reply.error(`ERR ${err}`);
}

function deluser(ctx: CommandContext, argv: string[]): void {
  const names = argv.slice(2);
  if (names.includes('default')) {
    ctx.reply.error("ERR The 'default' user cannot be removed");
    return;
  }
  ctx.reply.integer(ctx.host.acl.deleteUsers(names));
}

/** The commands / keys / channels fields of a selector (aclAddReplySelectorDescription). */
function replySelector(ctx: CommandContext, s: Selector): void {
  const r = ctx.reply;
  r.bulk('commands');
  r.bulk(describeCommandRules(s));
  r.bulk('keys');
  r.bulk(describeKeys(s));
  r.bulk('channels');
  r.bulk(describeChannels(s));
}

function getuser(ctx: CommandContext, argv: string[]): void {
  const u = ctx.host.acl.get(argv[2]!);
  const r = ctx.reply;
  if (u === undefined) {
    r.nullBulk();
    return;
  }
  r.map(6);
  r.bulk('flags');
  const flags = userFlags(u);
  r.set(flags.length);
  for (const f of flags) r.bulk(f);
  r.bulk('passwords');
  r.array(u.passwords.size);
  for (const p of u.passwords) r.bulk(p);
  replySelector(ctx, u.root);
  r.bulk('selectors');
  r.array(u.selectors.length - 1);
  for (const s of u.selectors.slice(1)) {
    r.map(3);
    replySelector(ctx, s);
  }
}

function list(ctx: CommandContext): void {
  const users = ctx.host.acl.list();
  ctx.reply.array(users.length);
  for (const u of users) ctx.reply.bulk(`user ${u.name} ${describeUser(u)}`);
}

function users(ctx: CommandContext): void {
  const all = ctx.host.acl.list();
  ctx.reply.array(all.length);
  for (const u of all) ctx.reply.bulk(u.name);
}

function whoami(ctx: CommandContext): void {
  const conn = ctx.conn;
  if (conn === null) ctx.reply.nullBulk();
  else ctx.reply.bulk(conn.user);
}

function cat(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 3) {
    subcommandSyntaxError(ctx, argv);
    return;
  }
  const r = ctx.reply;
  if (argv.length === 2) {
    r.array(ACL_CATEGORIES.length);
    for (const c of ACL_CATEGORIES) r.bulk(c);
    return;
  }
  const names = ctx.host.acl.commandsInCategory(argv[2]!);
  if (names === null) {
    r.error(`ERR Unknown category '${cstr(argv[2]!).slice(0, 128)}'`);
    return;
  }
  r.array(names.length);
  for (const n of names) r.bulk(n);
}

const GENPASS_MAX_BITS = 4096;

function genpass(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 3) {
    subcommandSyntaxError(ctx, argv);
    return;
  }
  let bits = 256;
  if (argv.length === 3) {
    const n = parseLong(argv[2]!);
    if (n === null) {
      ctx.reply.error(ERR.NOT_INTEGER);
      return;
    }
    bits = n;
  }
  if (bits <= 0 || bits > GENPASS_MAX_BITS) {
    ctx.reply.error(`ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to ${GENPASS_MAX_BITS}`);
    return;
  }
  const chars = Math.floor((bits + 3) / 4);
  ctx.reply.bulk(randomBytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars));
}

function log(ctx: CommandContext, argv: string[]): void {
  if (argv.length > 3) {
    subcommandSyntaxError(ctx, argv);
    return;
  }
  const aclLog = ctx.host.acl.log;
  let count = 10;
  if (argv.length === 3) {
    if (argv[2]!.toLowerCase() === 'reset') {
      aclLog.reset();
      ctx.reply.ok();
      return;
    }
    const n = parseLong(argv[2]!);
    if (n === null) {
      ctx.reply.error(ERR.NOT_INTEGER);
      return;
    }
    count = Math.max(0, n);
  }
  const entries = aclLog.entries.slice(0, count);
  const now = Date.now();
  const r = ctx.reply;
  r.array(entries.length);
  for (const e of entries) {
    r.map(10);
    r.bulk('count');
    r.integer(e.count);
    r.bulk('reason');
    r.bulk(reasonName(e.reason));
    r.bulk('context');
    r.bulk(e.context);
    r.bulk('object');
    r.bulk(e.object);
    r.bulk('username');
    r.bulk(e.username);
    r.bulk('age-seconds');
    r.double((now - e.updatedAt) / 1000);
    r.bulk('client-info');
    r.bulk(e.clientInfo);
    r.bulk('entry-id');
    r.integer(e.entryId);
    r.bulk('timestamp-created');
    r.integer(e.createdAt);
    r.bulk('timestamp-last-updated');
    r.integer(e.updatedAt);
  }
}

function dryrun(ctx: CommandContext, argv: string[]): void {
  const acl = ctx.host.acl;
  const u = acl.get(argv[2]!);
  if (u === undefined) {
    ctx.reply.error(`ERR User '${cstr(argv[2]!)}' not found`);
    return;
  }
  const outcome = acl.dryrun(u, argv.slice(3));
  if (outcome === null) ctx.reply.ok();
  else if ('error' in outcome) ctx.reply.error(outcome.error);
  else ctx.reply.bulk(outcome.denied);
}

const NO_ACL_FILE =
  'ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.';

function load(ctx: CommandContext): void {
  const file = ctx.host.config.str('aclfile');
  if (file === '') {
    ctx.reply.error(NO_ACL_FILE);
    return;
  }
  const err = ctx.host.acl.loadFile(file);
  if (err === null) ctx.reply.ok();
  else ctx.reply.error(`ERR ${err}`);
}

function save(ctx: CommandContext): void {
  const file = ctx.host.config.str('aclfile');
  if (file === '') {
    ctx.reply.error(NO_ACL_FILE);
    return;
  }
  try {
    ctx.host.acl.saveFile(file);
    ctx.reply.ok();
  } catch (e) {
    ctx.host.logger.warn(`Saving the ACL file: ${(e as Error).message}`);
    ctx.reply.error('ERR There was an error trying to save the ACLs. Please check the server logs for more information');
  }
}

function help(ctx: CommandContext): void {
  replyHelp(ctx, 'ACL', [
    'CAT [<category>]',
    '    List all commands that belong to <category>, or all command categories',
    '    when no category is specified.',
    'DELUSER <username> [<username> ...]',
    '    Delete a list of users.',
    'DRYRUN <username> <command> [<arg> ...]',
    '    Returns whether the user can execute the given command without executing the command.',
    'GETUSER <username>',
    "    Get the user's details.",
    'GENPASS [<bits>]',
    '    Generate a secure 256-bit user password. The optional `bits` argument can',
    '    be used to specify a different size.',
    'LIST',
    '    Show users details in config file format.',
    'LOAD',
    '    Reload users from the ACL file.',
    'LOG [<count> | RESET]',
    '    Show the ACL log entries.',
    'SAVE',
    '    Save the current config to the ACL file.',
    'SETUSER <username> <attribute> [<attribute> ...]',
    '    Create or modify a user with the specified attributes.',
    'USERS',
    '    List all the registered usernames.',
    'WHOAMI',
    '    Return the current connection username.',
  ]);
}

export const aclCommands: CommandImpl[] = [
  { name: 'acl|setuser', run: setuser },
  { name: 'acl|deluser', run: deluser },
  { name: 'acl|getuser', run: getuser },
  { name: 'acl|list', run: list },
  { name: 'acl|users', run: users },
  { name: 'acl|whoami', run: whoami },
  { name: 'acl|cat', run: cat },
  { name: 'acl|genpass', run: genpass },
  { name: 'acl|log', run: log },
  { name: 'acl|dryrun', run: dryrun },
  { name: 'acl|load', run: load },
  { name: 'acl|save', run: save },
  { name: 'acl|help', run: help },
];
