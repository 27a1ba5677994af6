/**
 * ACL users and their selectors, as Redis 7.2's acl.c models them: a user
 * has flags, SHA-256 password hashes and a list of selectors, the first of
 * which (the root) holds the rules given outside parentheses. A selector
 * holds a command bitmap (one byte per known command), the first arguments
 * allowed for otherwise denied commands, key patterns with read/write
 * permissions and channel patterns. Applying a rule string lives in
 * rules.ts; the permission check in check.ts.
 */

import { createHash } from 'node:crypto';
import { globMatcher } from '../util/glob.js';

/** Key pattern permissions (Redis' ACL_READ_PERMISSION / ACL_WRITE_PERMISSION). */
export const PERM_READ = 1;
export const PERM_WRITE = 2;
export const PERM_ALL = 3;

export interface KeyPattern {
  readonly pattern: string;
  /** PERM_READ, PERM_WRITE or both. */
  perm: number;
  readonly matches: (key: string) => boolean;
}

/** A glob as a matcher; `prefix*` (the common key pattern) is a startsWith. */
function patternMatcher(pattern: string): (s: string) => boolean {
  const star = pattern.indexOf('*');
  if (star >= 0 && star === pattern.length - 1 && !/[?[\\]/.test(pattern)) {
    const prefix = pattern.slice(0, -1);
    return (s) => s.startsWith(prefix);
  }
  return globMatcher(pattern);
}

export function keyPattern(pattern: string, perm: number): KeyPattern {
  return { pattern, perm, matches: patternMatcher(pattern) };
}

export interface ChannelPattern {
  readonly pattern: string;
  readonly matches: (channel: string) => boolean;
}

export function channelPattern(pattern: string): ChannelPattern {
  return { pattern, matches: patternMatcher(pattern) };
}

export class Selector {
  /** Set by +@all / allcommands, cleared when any command bit is cleared. */
  allCommands = false;
  /** One byte per command id, plus the last one: "future commands" (set only by +@all). */
  readonly allowed: Uint8Array;
  /** Allowed first arguments (lowercase) by command id, for `+select|0` rules. */
  firstArgs: Map<number, Set<string>> | null = null;
  /**
   * The command rules in the order they apply (Redis' command_rules): rule
   * body ('get', '@read', 'config|get') -> allowed. Maps keep insertion
   * order, and a rule given again moves to the end (delete, then set).
   */
  readonly commandRules = new Map<string, boolean>();
  /** The rule bodies below a name ('config' -> {'config|get'}), so a rule for the name drops them without a scan. */
  readonly subRules = new Map<string, Set<string>>();
  allKeys = false;
  /** Key patterns by pattern text, in the order added (a repeat widens the permission in place). */
  readonly keyPatterns = new Map<string, KeyPattern>();
  allChannels: boolean;
  readonly channelPatterns = new Map<string, ChannelPattern>();
  /** Arrays of the patterns for the permission check, rebuilt after a change. */
  private keyList: KeyPattern[] | null = null;
  private channelList: ChannelPattern[] | null = null;

  constructor(
    readonly root: boolean,
    commandCount: number,
    /** acl-pubsub-default is allchannels. */
    allChannelsByDefault: boolean,
  ) {
    this.allowed = new Uint8Array(commandCount + 1);
    this.allChannels = allChannelsByDefault;
  }

  get canRunFutureCommands(): boolean {
    return this.allowed[this.allowed.length - 1] === 1;
  }

  get keys(): KeyPattern[] {
    return (this.keyList ??= [...this.keyPatterns.values()]);
  }

  get channels(): ChannelPattern[] {
    return (this.channelList ??= [...this.channelPatterns.values()]);
  }

  addKeyPattern(pattern: string, perm: number): void {
    const existing = this.keyPatterns.get(pattern);
    if (existing !== undefined) existing.perm |= perm;
    else {
      this.keyPatterns.set(pattern, keyPattern(pattern, perm));
      this.keyList = null;
    }
  }

  clearKeyPatterns(): void {
    this.keyPatterns.clear();
    this.keyList = null;
  }

  addChannelPattern(pattern: string): void {
    if (this.channelPatterns.has(pattern)) return;
    this.channelPatterns.set(pattern, channelPattern(pattern));
    this.channelList = null;
  }

  clearChannelPatterns(): void {
    this.channelPatterns.clear();
    this.channelList = null;
  }

  clone(): Selector {
    const s = new Selector(this.root, this.allowed.length - 1, this.allChannels);
    s.allCommands = this.allCommands;
    s.allowed.set(this.allowed);
    if (this.firstArgs !== null) s.firstArgs = new Map([...this.firstArgs].map(([id, args]) => [id, new Set(args)]));
    for (const [body, allow] of this.commandRules) s.commandRules.set(body, allow);
    for (const [name, bodies] of this.subRules) s.subRules.set(name, new Set(bodies));
    s.allKeys = this.allKeys;
    for (const k of this.keyPatterns.values()) s.addKeyPattern(k.pattern, k.perm);
    for (const c of this.channelPatterns.values()) s.addChannelPattern(c.pattern);
    return s;
  }
}

/** The hex SHA-256 of a password's bytes (argv strings hold bytes as latin1). */
export function hashPassword(password: string): string {
  return createHash('sha256').update(Buffer.from(password, 'latin1')).digest('hex');
}

export class User {
  enabled = false;
  nopass = false;
  /** Redis' sanitize-payload / skip-sanitize-payload flags (RESTORE checks payloads either way). */
  sanitizePayload: 'sanitize' | 'skip' = 'sanitize';
  /** Hex SHA-256 hashes, in the order they were added. */
  passwords = new Set<string>();
  selectors: Selector[];
  /**
   * Some selector allows every command, key and channel: the permission
   * check is skipped (the default user's case). Kept by refresh().
   */
  unrestricted = false;

  constructor(
    readonly name: string,
    readonly commandCount: number,
    allChannelsByDefault: boolean,
  ) {
    this.selectors = [new Selector(true, commandCount, allChannelsByDefault)];
  }

  get root(): Selector {
    return this.selectors[0]!;
  }

  /** Recompute what the hot path reads after the rules changed. */
  refresh(): void {
    this.unrestricted = this.selectors.some((s) => s.allCommands && s.allKeys && s.allChannels);
  }

  /** Take over `other`'s rules (Redis' ACLCopyUser): clients holding this object see them at once. */
  copyFrom(other: User): void {
    this.enabled = other.enabled;
    this.nopass = other.nopass;
    this.sanitizePayload = other.sanitizePayload;
    this.passwords = new Set(other.passwords);
    this.selectors = other.selectors.map((s) => s.clone());
    this.refresh();
  }

  /** An unlinked copy to stage changes on (ACL SETUSER applies all of them or none). */
  clone(): User {
    const u = new User(this.name, this.commandCount, false);
    u.copyFrom(this);
    return u;
  }

  /** Redis' ACLCheckUserCredentials: enabled, and nopass or one of the hashes matches. */
  checkPassword(password: string): boolean {
    if (!this.enabled) return false;
    if (this.nopass) return true;
    const hashed = hashPassword(password);
    let ok = false;
    // Every hash is compared (no early exit): the time does not tell which one matched.
    for (const p of this.passwords) if (timingSafeHexEqual(p, hashed)) ok = true;
    return ok;
  }
}

function timingSafeHexEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}
