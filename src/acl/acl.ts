/**
 * The server's users (Redis' Users radix tree and DefaultUser), the ACL
 * LOG, and the operations ACL commands, AUTH, config loading and
 * requirepass need. The default user is one object for the server's life:
 * connections hold it, so ACL LOAD and requirepass change it in place.
 */

import type { CommandTable } from '../commands/table.js';
import { defaultUser, loadAclFile, newUser, saveAclFile, sortedUsers } from './file.js';
import { AclLog } from './log.js';
import { applyUserRule, hasSpaces, mergeSelectorArgs, ruleErrorText, type RuleEnv } from './rules.js';
import type { User } from './user.js';
import type { AclControl } from './control.js';
import { cstr } from '../commands/util.js';
import { ACL_OK, checkCommand, deniedIndex, denialMessage } from './check.js';
import { arityOk, type Command } from '../commands/table.js';
import { categoryBit, commandCategoryBits } from './rules.js';

/** What the ACL needs from the server. */
export interface AclHost {
  readonly table: CommandTable;
  allChannelsByDefault(): boolean;
  logMaxLen(): number;
  warn(msg: string): void;
  /** Close the connections authenticated as `user` (ACL DELUSER, ACL LOAD). */
  killClientsOf(user: User): void;
  /** After SETUSER: close `user`'s Pub/Sub clients subscribed where it may no longer go. */
  recheckSubscribers(user: User): void;
}

export class Acl implements AclControl {
  readonly users = new Map<string, User>();
  readonly defaultUser: User;
  readonly log: AclLog;
  readonly env: RuleEnv;

  constructor(private readonly host: AclHost) {
    this.env = {
      table: host.table,
      get allChannelsByDefault() {
        return host.allChannelsByDefault();
      },
      warn: (msg) => host.warn(msg),
    };
    this.defaultUser = defaultUser(this.env);
    this.users.set('default', this.defaultUser);
    this.log = new AclLog(() => host.logMaxLen());
  }

  get(name: string): User | undefined {
    return this.users.get(name);
  }

  /** Users in Redis' listing order. */
  list(): User[] {
    return sortedUsers(this.users);
  }

  /**
   * ACL SETUSER: apply every rule to a copy, then to the user (created if
   * needed). Returns Redis' error text (without the ERR code) or null.
   */
  setUser(name: string, rules: readonly string[]): string | null {
    if (hasSpaces(name)) return "Usernames can't contain spaces or null characters";
    const merged = mergeSelectorArgs(rules);
    if (!Array.isArray(merged)) return `Unmatched parenthesis in acl selector starting at '${cstr(rules[merged.unmatched]!)}'.`;
    const existing = this.users.get(name);
    const staged = existing !== undefined ? existing.clone() : newUser(this.env, name);
    for (const rule of merged) {
      const err = applyUserRule(this.env, staged, rule);
      if (err !== null) return `Error in ACL SETUSER modifier '${cstr(rule)}': ${ruleErrorText(err)}`;
    }
    staged.refresh();
    if (existing === undefined) {
      this.users.set(name, staged);
      return null;
    }
    existing.copyFrom(staged);
    this.host.recheckSubscribers(existing);
    return null;
  }

  /** ACL DELUSER: the number deleted; their clients are closed. */
  deleteUsers(names: readonly string[]): number {
    let deleted = 0;
    for (const name of names) {
      const u = this.users.get(name);
      if (u === undefined) continue;
      this.users.delete(name);
      this.host.killClientsOf(u);
      deleted++;
    }
    return deleted;
  }

  /** AUTH / HELLO AUTH: the user when the pair is valid, else null. */
  authenticate(username: string, password: string): User | null {
    const u = this.users.get(username);
    if (u === undefined || !u.checkPassword(password)) return null;
    return u;
  }

  /** requirepass: the default user's only password, or nopass when empty (Redis' ACLUpdateDefaultUserPassword). */
  setDefaultPassword(password: string): void {
    const u = this.defaultUser;
    applyUserRule(this.env, u, 'resetpass');
    applyUserRule(this.env, u, password === '' ? 'nopass' : `>${password}`);
    u.refresh();
  }

  /** Does a new connection start unauthenticated (Redis' authRequired)? */
  get authRequired(): boolean {
    const d = this.defaultUser;
    return !d.nopass || !d.enabled;
  }

  /**
   * `user` lines of the configuration file, applied at start-up as
   * ACLLoadConfiguredUsers does ("user default" starts from reset).
   * Returns an error message or null.
   */
  loadConfiguredUsers(lines: readonly (readonly string[])[]): string | null {
    for (const words of lines) {
      const name = words[0]!;
      if (hasSpaces(name)) return 'Spaces not allowed in ACL usernames';
      let u = this.users.get(name);
      if (u === undefined) {
        u = newUser(this.env, name);
        this.users.set(name, u);
      } else applyUserRule(this.env, u, 'reset');
      const merged = mergeSelectorArgs(words.slice(1));
      const rules = Array.isArray(merged) ? merged : [];
      for (const rule of rules) {
        const err = applyUserRule(this.env, u, rule);
        if (err !== null) return `Error loading ACL rule '${rule}' for the user named '${name}': ${ruleErrorText(err)}`;
      }
      u.refresh();
      if (!u.enabled) this.host.warn(`The user '${name}' is disabled (there is no 'on' modifier in the user description). Make sure this is not a configuration error.`);
    }
    return null;
  }

  /** ACL LOAD and start-up: replace every user with the file's. Returns Redis' error text or null. */
  loadFile(filename: string): string | null {
    const loaded = loadAclFile(this.env, filename);
    if ('errors' in loaded) return loaded.errors;
    const newDefault = loaded.users.get('default') ?? defaultUser(this.env);
    const old = [...this.users.values()].filter((u) => u !== this.defaultUser);
    this.users.clear();
    for (const [name, u] of loaded.users) if (name !== 'default') this.users.set(name, u);
    this.defaultUser.copyFrom(newDefault);
    this.users.set('default', this.defaultUser);
    for (const u of old) this.host.killClientsOf(u);
    return null;
  }

  /** ACL SAVE; throws on I/O errors. */
  saveFile(filename: string): void {
    saveAclFile(this.users, filename);
  }

  commandsInCategory(category: string): string[] | null {
    const bit = categoryBit(category);
    if (bit === 0) return null;
    const names: string[] = [];
    for (const cmd of this.env.table.known.values()) if (commandCategoryBits(cmd) & bit) names.push(cmd.name);
    return names;
  }

  /** Redis' lookupCommand over every known command (not strict: a container's unknown subcommand is not found). */
  private lookupLine(argv: readonly string[]): Command | undefined {
    const table = this.env.table;
    const base = table.known.get(argv[0]!.toLowerCase());
    // Only top-level names: 'config|get' is no command name on a command line.
    if (base === undefined || base.parent !== null) return undefined;
    if (argv.length === 1 || !table.hasKnownSubcommands(base)) return base;
    return table.known.get(`${base.name}|${argv[1]!.toLowerCase()}`);
  }

  dryrun(user: User, argv: readonly string[]): { error: string } | { denied: string } | null {
    const cmd = this.lookupLine(argv);
    if (cmd === undefined) return { error: `ERR Command '${cstr(argv[0]!)}' not found` };
    if (!arityOk(cmd, argv.length)) return { error: `ERR wrong number of arguments for '${cmd.name}' command` };
    const result = checkCommand(user, cmd, argv);
    return result === ACL_OK ? null : { denied: denialMessage(result, user, cmd, argv[deniedIndex]!, true) };
  }
}

/** Redis' config-file check of a `user` line (ACLAppendUserForLoading): the index of the bad word and why, or null. */
export function checkUserDirective(env: RuleEnv, words: readonly string[]): { index: number; error: string } | null {
  const merged = mergeSelectorArgs(words.slice(1));
  // Redis reports an unmatched parenthesis with whatever errno held last: ENOENT in practice.
  if (!Array.isArray(merged)) return { index: merged.unmatched, error: ruleErrorText('ENOENT') };
  const fake = newUser(env, words[0]!);
  for (let j = 0; j < merged.length; j++) {
    const err = applyUserRule(env, fake, merged[j]!);
    // Unknown commands may come from modules loaded later: Redis reports those at load time.
    if (err !== null && err !== 'ENOENT') return { index: j, error: ruleErrorText(err) };
  }
  return null;
}
