/**
 * ACL rule strings, as Redis 7.2's ACLSetUser / ACLSetSelector read them
 * and ACLDescribeUser prints them back: applying one rule to a user,
 * merging selectors spread over several arguments, the error texts, and
 * the canonical text of ACL LIST / GETUSER / SAVE.
 */

import type { Command, CommandTable } from '../commands/table.js';
import { ACL_CATEGORIES } from '../commands/table.js';
import { PERM_ALL, PERM_READ, PERM_WRITE, Selector, User, hashPassword, type KeyPattern } from './user.js';

/** Why a rule was refused (Redis' errno values in ACLSetUser), mapped to its text by ruleErrorText. */
export type RuleError = 'EINVAL' | 'ENOENT' | 'EEXIST' | 'EISDIR' | 'ENODEV' | 'EBADMSG' | 'ECHILD' | 'EALREADY';

/** Redis' ACLSetUserStringError. */
export function ruleErrorText(err: RuleError): string {
  switch (err) {
    case 'ENOENT':
      return 'Unknown command or category name in ACL';
    case 'EINVAL':
      return 'Syntax error';
    case 'EEXIST':
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    case 'EISDIR':
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels";
    case 'ENODEV':
      return 'The password you are trying to remove from the user does not exist';
    case 'EBADMSG':
      return 'The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters';
    case 'EALREADY':
      return 'Duplicate user found. A user can only be defined once in config files';
    case 'ECHILD':
      return 'Allowing first-arg of a subcommand is not supported';
  }
}

/** Category bit by name (lowercase), Redis' ACLGetCommandCategoryFlagByName. */
const CATEGORY_BIT = new Map(ACL_CATEGORIES.map((c, i) => [c, 1 << i]));

export function categoryBit(name: string): number {
  return CATEGORY_BIT.get(name.toLowerCase()) ?? 0;
}

/** A command's categories as a bit set (cached on first use). */
const categoryBits = new WeakMap<Command, number>();
export function commandCategoryBits(cmd: Command): number {
  let bits = categoryBits.get(cmd);
  if (bits === undefined) {
    bits = 0;
    for (const c of cmd.aclCategories) bits |= categoryBit(c);
    categoryBits.set(cmd, bits);
  }
  return bits;
}

/** Redis' isspace over the bytes, or a NUL: not allowed in user names and patterns. */
export function hasSpaces(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0 || c === 32 || (c >= 9 && c <= 13)) return true;
  }
  return false;
}

const HASH = /^[0-9a-f]{64}$/;

/** What applying rules needs: the command table and acl-pubsub-default. */
export interface RuleEnv {
  readonly table: CommandTable;
  readonly allChannelsByDefault: boolean;
  /** Redis logs a deprecation warning for `+cmd|firstarg`. */
  warn(msg: string): void;
}

function lower(s: string): string {
  return s.toLowerCase();
}

/** Set or clear one command's bit, and its subcommands' (Redis' ACLChangeSelectorPerm). */
function changePerm(env: RuleEnv, s: Selector, cmd: Command, allow: boolean): void {
  setBit(s, cmd.aclId, allow);
  if (s.firstArgs !== null) s.firstArgs.delete(cmd.aclId);
  for (const sub of env.table.knownSubcommands(cmd)) setBit(s, sub.aclId, allow);
}

function setBit(s: Selector, id: number, allow: boolean): void {
  s.allowed[id] = allow ? 1 : 0;
  if (!allow) s.allCommands = false;
}

/** Redis' ACLUpdateCommandRules: drop the rule's older spelling (and its subcommands'), then append it. */
function updateCommandRules(s: Selector, rule: string, allow: boolean): void {
  const name = lower(rule);
  const rules = s.commandRules;
  rules.delete(name);
  const bar = name.indexOf('|');
  if (bar < 0) {
    // Only a plain name has rules below it ('config' -> 'config|get'); `+a|b|c` is refused before this.
    const below = s.subRules.get(name);
    if (below !== undefined) {
      for (const body of below) rules.delete(body);
      s.subRules.delete(name);
    }
  } else {
    const base = name.slice(0, bar);
    const below = s.subRules.get(base);
    if (below === undefined) s.subRules.set(base, new Set([name]));
    else below.add(name);
  }
  rules.set(name, allow);
}

function setCategory(env: RuleEnv, s: Selector, category: string, allow: boolean): RuleError | null {
  const bit = categoryBit(category.slice(1));
  if (bit === 0) return 'ENOENT';
  updateCommandRules(s, category, allow);
  for (const cmd of env.table.known.values()) {
    if (commandCategoryBits(cmd) & bit) changePerm(env, s, cmd, allow);
  }
  return null;
}

function setAllCommands(s: Selector, allow: boolean): void {
  s.allowed.fill(allow ? 1 : 0);
  s.allCommands = allow;
  s.commandRules.clear();
  s.subRules.clear();
  s.firstArgs = null;
}

/** `~pattern`, `%R~pattern`, `%W~pattern`, `%RW~pattern`. */
function addKeyPattern(s: Selector, op: string): RuleError | null {
  if (s.allKeys) return 'EEXIST';
  let perm = 0;
  let offset = 1;
  if (op[0] === '%') {
    for (; offset < op.length; offset++) {
      const c = op[offset]!.toUpperCase();
      if (c === 'R' && !(perm & PERM_READ)) perm |= PERM_READ;
      else if (c === 'W' && !(perm & PERM_WRITE)) perm |= PERM_WRITE;
      else if (op[offset] === '~' && perm !== 0) {
        offset++;
        break;
      } else return 'EINVAL';
    }
  } else perm = PERM_ALL;
  const pattern = op.slice(offset);
  if (hasSpaces(pattern)) return 'EINVAL';
  s.addKeyPattern(pattern, perm);
  s.allKeys = false;
  return null;
}

function addChannelPattern(s: Selector, op: string): RuleError | null {
  if (s.allChannels) return 'EISDIR';
  const pattern = op.slice(1);
  if (hasSpaces(pattern)) return 'EINVAL';
  s.addChannelPattern(pattern);
  s.allChannels = false;
  return null;
}

/** `+cmd`, `+cmd|sub`, `+cmd|firstarg`. */
function allowCommand(env: RuleEnv, s: Selector, op: string): RuleError | null {
  const name = op.slice(1);
  const bar = name.lastIndexOf('|');
  if (bar < 0) {
    const cmd = env.table.lookupKnown(name);
    if (cmd === undefined) return 'ENOENT';
    changePerm(env, s, cmd, true);
    updateCommandRules(s, cmd.name, true);
    return null;
  }
  const cmd = env.table.lookupKnown(name.slice(0, bar));
  const sub = name.slice(bar + 1);
  if (cmd === undefined) return 'ENOENT';
  if (cmd.parent !== null) return 'ECHILD';
  if (sub === '') return 'EINVAL';
  if (env.table.hasKnownSubcommands(cmd)) {
    const subcmd = env.table.lookupKnown(name);
    if (subcmd === undefined) return 'ENOENT';
    changePerm(env, s, subcmd, true);
  } else {
    env.warn(`Deprecation warning: Allowing a first arg of an otherwise blocked command is a misuse of ACL and may get disabled in the future (offender: +${name})`);
    s.firstArgs ??= new Map();
    const args = s.firstArgs.get(cmd.aclId) ?? new Set<string>();
    args.add(lower(sub));
    s.firstArgs.set(cmd.aclId, args);
  }
  updateCommandRules(s, name, true);
  return null;
}

/** Redis' ACLSetSelector: one rule that a selector (or the root one) takes. */
export function applySelectorRule(env: RuleEnv, s: Selector, op: string): RuleError | null {
  const lc = lower(op);
  if (lc === 'allkeys' || op === '~*') {
    s.allKeys = true;
    s.clearKeyPatterns();
  } else if (lc === 'resetkeys') {
    s.allKeys = false;
    s.clearKeyPatterns();
  } else if (lc === 'allchannels' || op === '&*') {
    s.allChannels = true;
    s.clearChannelPatterns();
  } else if (lc === 'resetchannels') {
    s.allChannels = false;
    s.clearChannelPatterns();
  } else if (lc === 'allcommands' || lc === '+@all') {
    setAllCommands(s, true);
  } else if (lc === 'nocommands' || lc === '-@all') {
    setAllCommands(s, false);
  } else if (op[0] === '~' || op[0] === '%') {
    return addKeyPattern(s, op);
  } else if (op[0] === '&') {
    return addChannelPattern(s, op);
  } else if (op[0] === '+' && op[1] !== '@') {
    return allowCommand(env, s, op);
  } else if (op[0] === '-' && op[1] !== '@') {
    const cmd = env.table.lookupKnown(op.slice(1));
    if (cmd === undefined) return 'ENOENT';
    changePerm(env, s, cmd, false);
    updateCommandRules(s, cmd.name, false);
  } else if ((op[0] === '+' || op[0] === '-') && op[1] === '@') {
    return setCategory(env, s, op.slice(1), op[0] === '+');
  } else {
    return 'EINVAL';
  }
  return null;
}

/** Split on spaces as Redis' sdssplitargs does for a selector's body (no quoting inside ACL rules in practice). */
function splitWords(text: string): string[] {
  return text.split(/[ \t\r\n\v\f]+/).filter((w) => w !== '');
}

/** Redis' ACLSetUser: one rule for the user. Null when it applied. */
export function applyUserRule(env: RuleEnv, u: User, op: string): RuleError | null {
  if (op.length === 0) return null;
  const lc = lower(op);
  if (lc === 'on') u.enabled = true;
  else if (lc === 'off') u.enabled = false;
  else if (lc === 'skip-sanitize-payload') u.sanitizePayload = 'skip';
  else if (lc === 'sanitize-payload') u.sanitizePayload = 'sanitize';
  else if (lc === 'nopass') {
    u.nopass = true;
    u.passwords.clear();
  } else if (lc === 'resetpass') {
    u.nopass = false;
    u.passwords.clear();
  } else if (op[0] === '>' || op[0] === '#') {
    let hash: string;
    if (op[0] === '>') hash = hashPassword(op.slice(1));
    else {
      hash = op.slice(1);
      if (!HASH.test(hash)) return 'EBADMSG';
    }
    u.passwords.add(hash);
    u.nopass = false;
  } else if (op[0] === '<' || op[0] === '!') {
    let hash: string;
    if (op[0] === '<') hash = hashPassword(op.slice(1));
    else {
      hash = op.slice(1);
      if (!HASH.test(hash)) return 'EBADMSG';
    }
    if (!u.passwords.delete(hash)) return 'ENODEV';
  } else if (op[0] === '(' && op[op.length - 1] === ')') {
    const s = new Selector(false, u.commandCount, env.allChannelsByDefault);
    for (const word of splitWords(op.slice(1, -1))) {
      const err = applySelectorRule(env, s, word);
      if (err !== null) return err;
    }
    u.selectors.push(s);
  } else if (lc === 'clearselectors') {
    u.selectors = [u.root];
  } else if (lc === 'reset') {
    u.nopass = false;
    u.passwords.clear();
    const root = u.root;
    applySelectorRule(env, root, 'resetkeys');
    applySelectorRule(env, root, 'resetchannels');
    if (env.allChannelsByDefault) applySelectorRule(env, root, 'allchannels');
    u.enabled = false;
    u.sanitizePayload = 'sanitize';
    u.selectors = [root];
    applySelectorRule(env, root, '-@all');
  } else {
    return applySelectorRule(env, u.root, op);
  }
  return null;
}

/**
 * Redis' ACLMergeSelectorArguments: a selector spread over several
 * arguments ("(+get", "~key)") becomes one. Returns the index of the
 * argument that opened an unmatched parenthesis instead.
 */
export function mergeSelectorArgs(args: readonly string[]): string[] | { unmatched: number } {
  const out: string[] = [];
  let openAt = -1;
  let selector = '';
  for (let j = 0; j < args.length; j++) {
    const op = args[j]!;
    if (openAt === -1 && op[0] === '(' && op[op.length - 1] !== ')') {
      selector = op;
      openAt = j;
      continue;
    }
    if (openAt !== -1) {
      selector += ` ${op}`;
      if (op[op.length - 1] === ')') {
        openAt = -1;
        out.push(selector);
      }
      continue;
    }
    out.push(op);
  }
  return openAt !== -1 ? { unmatched: openAt } : out;
}

function patternText(k: KeyPattern): string {
  const prefix = k.perm === PERM_ALL ? '~' : k.perm === PERM_READ ? '%R~' : '%W~';
  return prefix + k.pattern;
}

/** Redis' ACLDescribeSelectorCommandRules: +@all or -@all, then the rules in order. */
export function describeCommandRules(s: Selector): string {
  const base = s.canRunFutureCommands ? '+@all' : '-@all';
  let out = base;
  for (const [body, allow] of s.commandRules) out += ` ${allow ? '+' : '-'}${body}`;
  return out;
}

/** The key patterns as GETUSER shows them. */
export function describeKeys(s: Selector): string {
  return s.allKeys ? '~*' : [...s.keyPatterns.values()].map(patternText).join(' ');
}

/** The channel patterns as GETUSER shows them. */
export function describeChannels(s: Selector): string {
  return s.allChannels ? '&*' : [...s.channelPatterns.keys()].map((c) => `&${c}`).join(' ');
}

/** Redis' ACLDescribeSelector: keys, channels, then command rules. */
function describeSelector(s: Selector): string {
  let out = '';
  if (s.allKeys) out += '~* ';
  else for (const k of s.keyPatterns.values()) out += `${patternText(k)} `;
  if (s.allChannels) out += '&* ';
  else {
    out += 'resetchannels ';
    for (const c of s.channelPatterns.keys()) out += `&${c} `;
  }
  return out + describeCommandRules(s);
}

/** The flags of a user in Redis' order (on, off, nopass, skip-sanitize-payload, sanitize-payload). */
export function userFlags(u: User): string[] {
  const flags = [u.enabled ? 'on' : 'off'];
  if (u.nopass) flags.push('nopass');
  flags.push(u.sanitizePayload === 'skip' ? 'skip-sanitize-payload' : 'sanitize-payload');
  return flags;
}

/** Redis' ACLDescribeUser: the rules that rebuild the user (ACL LIST, ACL SAVE). */
export function describeUser(u: User): string {
  let out = '';
  for (const f of userFlags(u)) out += `${f} `;
  for (const p of u.passwords) out += `#${p} `;
  for (const s of u.selectors) out += s.root ? describeSelector(s) : ` (${describeSelector(s)})`;
  return out;
}
