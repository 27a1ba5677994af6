/**
 * The ACL file (aclfile): `user <name> <rules...>` lines, read as Redis
 * 7.2's ACLLoadFromFile reads them (every problem of the file collected in
 * one message, nothing applied when there is one) and written as
 * ACLSaveToFile writes them (a temporary file renamed over the old one).
 */

import fs from 'node:fs';
import { applyUserRule, describeUser, hasSpaces, mergeSelectorArgs, ruleErrorText, type RuleEnv } from './rules.js';
import { User } from './user.js';

/** Users read from an ACL file, or the errors found in it (Redis' one-line message). */
export type FileLoad = { users: Map<string, User> } | { errors: string };

/** Create a user as Redis' ACLCreateUser does (disabled, no password, no permissions). */
export function newUser(env: RuleEnv, name: string): User {
  const u = new User(name, env.table.known.size, env.allChannelsByDefault);
  u.refresh();
  return u;
}

/** Redis' default user: +@all ~* &* on nopass. */
export function defaultUser(env: RuleEnv): User {
  const u = newUser(env, 'default');
  for (const rule of ['+@all', '~*', '&*', 'on', 'nopass']) applyUserRule(env, u, rule);
  u.refresh();
  return u;
}

/** Parse the text of an ACL file into users (the default user only when the file names it). */
export function parseAclFile(env: RuleEnv, text: string, filename: string): FileLoad {
  const users = new Map<string, User>();
  let errors = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
    const linenum = i + 1;
    if (line === '') continue;
    const argv = line.split(' ').filter((w) => w !== '');
    if (argv.length === 0) continue;
    if (argv[0] !== 'user' || argv.length < 2) {
      errors += `${filename}:${linenum} should start with user keyword followed by the username. `;
      continue;
    }
    const name = argv[1]!;
    if (hasSpaces(name)) {
      errors += `'${filename}:${linenum}: username '${name}' contains invalid characters. `;
      continue;
    }
    if (users.has(name)) {
      errors += `WARNING: Duplicate user '${name}' found on line ${linenum}. `;
      continue;
    }
    const u = newUser(env, name);
    users.set(name, u);
    const merged = mergeSelectorArgs(argv.slice(2));
    if (!Array.isArray(merged)) {
      errors += `${filename}:${linenum}: Unmatched parenthesis in selector definition.`;
      continue;
    }
    let syntaxError = false;
    for (const rule of merged) {
      const op = rule.replace(/^[\t\r\n]+|[\t\r\n]+$/g, '');
      const err = applyUserRule(env, u, op);
      if (err === null) continue;
      if (err === 'ENOENT') errors += `${filename}:${linenum}: Error in applying operation '${op}': ${ruleErrorText(err)}. `;
      else if (!syntaxError) {
        errors += `${filename}:${linenum}: ${ruleErrorText(err)}. `;
        syntaxError = true;
      }
    }
    u.refresh();
  }
  if (errors !== '') return { errors: `${errors}WARNING: ACL errors detected, no change to the previously active ACL rules was performed` };
  return { users };
}

/** Read and parse an ACL file; an unreadable file is an error as Redis words it. */
export function loadAclFile(env: RuleEnv, filename: string): FileLoad {
  let text: string;
  try {
    text = fs.readFileSync(filename, 'latin1');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'No such file or directory' : code === 'EACCES' ? 'Permission denied' : String((e as Error).message);
    return { errors: `Error loading ACLs, opening file '${filename}': ${reason}` };
  }
  return parseAclFile(env, text, filename);
}

/** Byte order of user names, as Redis' radix tree lists them. */
export function sortedUsers(users: Map<string, User>): User[] {
  return [...users.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Write every user to `filename` (temporary file, fsync, rename). Throws on I/O errors. */
export function saveAclFile(users: Map<string, User>, filename: string): void {
  let text = '';
  for (const u of sortedUsers(users)) text += `user ${u.name} ${describeUser(u)}\n`;
  const tmp = `${filename}.tmp-${process.pid}-${Date.now()}`;
  try {
    const fd = fs.openSync(tmp, 'w', 0o644);
    try {
      fs.writeSync(fd, Buffer.from(text, 'latin1'));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, filename);
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}
