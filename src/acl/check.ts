/**
 * The permission check of a command line against a user (Redis 7.2's
 * ACLCheckAllUserCommandPerm): each selector in turn, the first that allows
 * the command, its keys and its channels wins; otherwise the most relevant
 * refusal is reported. A user with an unrestricted selector (the default
 * user) never gets here: dispatch tests User.unrestricted first. For the
 * others, the common commands (key specs that are plain index ranges) are
 * walked without allocating.
 */

import { F, commandKeys, type Command, type KeyRef, type KeySpec } from '../commands/table.js';
import { PERM_READ, PERM_WRITE, type Selector, type User } from './user.js';

import { ACL_DENIED_CHANNEL, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_OK } from './results.js';

export { ACL_DENIED_AUTH, ACL_DENIED_CHANNEL, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_OK } from './results.js';

/** The permissions a key reference needs: read for ACCESS, write for INSERT, DELETE or UPDATE. */
export function keyRefNeeds(flags: readonly string[]): number {
  let need = 0;
  for (const f of flags) {
    if (f === 'ACCESS') need |= PERM_READ;
    else if (f === 'INSERT' || f === 'DELETE' || f === 'UPDATE') need |= PERM_WRITE;
  }
  return need;
}

/** A key spec that is a plain index range: argv positions from `first` to `lastKey`, needing `need`. */
interface RangePlan {
  first: number;
  lastKey: number;
  step: number;
  limit: number;
  need: number;
}

/** What the check precomputes per command (kept on Command.aclPlan). */
interface CommandPlan {
  /** Redis' doesCommandHaveKeys. */
  hasKeys: boolean;
  /** The plain range plans, or null when keys need commandKeys() (keywords, keynum, getkeys procs). */
  ranges: RangePlan[] | null;
  /** SET: its key needs read permission too when a GET argument follows (Redis' setGetKeys). */
  setGet: boolean;
  channels: ChannelArgs | null;
}

function planOf(cmd: Command): CommandPlan {
  let p = cmd.aclPlan as CommandPlan | undefined;
  if (p === undefined) {
    p = buildPlan(cmd);
    cmd.aclPlan = p;
  }
  return p;
}

function buildPlan(cmd: Command): CommandPlan {
  const hasKeys = cmd.getKeys !== null || cmd.keySpecs.some((s) => !s.flags.includes('NOT_KEY'));
  const channels = channelArgs(cmd);
  // SET's spec has VARIABLE_FLAGS: the key is at 1, written, and read as well with GET.
  if (cmd.name === 'set') return { hasKeys, ranges: [{ first: 1, lastKey: 0, step: 1, limit: 0, need: PERM_WRITE }], setGet: true, channels };
  if (cmd.getKeys !== null) return { hasKeys, ranges: null, setGet: false, channels };
  const ranges: RangePlan[] = [];
  for (const spec of cmd.keySpecs) {
    if (!isPlainRange(spec) || spec.bs.type !== 'index' || spec.fk.type !== 'range') return { hasKeys, ranges: null, setGet: false, channels };
    ranges.push({ first: spec.bs.pos, lastKey: spec.fk.lastKey, step: spec.fk.keyStep, limit: spec.fk.limit, need: keyRefNeeds(spec.flags) });
  }
  return { hasKeys, ranges, setGet: false, channels };
}

function isPlainRange(spec: KeySpec): boolean {
  const f = spec.flags;
  return spec.bs.type === 'index' && spec.fk.type === 'range' && !f.includes('NOT_KEY') && !f.includes('INCOMPLETE') && !f.includes('VARIABLE_FLAGS');
}

/** The key cache of a one-selector check (nothing else runs while it is in use). */
const SINGLE: KeyCache = { refs: null };

/** Where the last refusal points in argv (0: the command itself). */
export let deniedIndex = 0;

/** Keys of one command line from commandKeys(), computed once for all the selectors. */
interface KeyCache {
  refs: KeyRef[] | null;
}

function checkKey(s: Selector, key: string, need: number): boolean {
  const keys = s.keys;
  for (let i = 0; i < keys.length; i++) {
    const p = keys[i]!;
    if ((p.perm & need) === need && p.matches(key)) return true;
  }
  return false;
}

/** SET ... GET reads the key (setGetKeys looks for GET among the options). */
function setNeeds(argv: readonly string[]): number {
  for (let i = 3; i < argv.length; i++) {
    const a = argv[i]!;
    if (a.length === 3 && a.toLowerCase() === 'get') return PERM_READ | PERM_WRITE;
  }
  return PERM_WRITE;
}

function rangeLast(r: RangePlan, argc: number): number {
  if (r.lastKey >= 0) return r.first + r.lastKey;
  if (r.limit === 0) return argc + r.lastKey;
  return r.first + (Math.trunc((argc - r.first) / r.limit) + r.lastKey);
}

/** The plain-range walk: true when every key passes (deniedIndex set otherwise); null when a range does not fit argv. */
function checkRanges(s: Selector, plan: CommandPlan, ranges: RangePlan[], argv: readonly string[]): boolean | null {
  const argc = argv.length;
  for (let j = 0; j < ranges.length; j++) {
    const r = ranges[j]!;
    const last = rangeLast(r, argc);
    if (last >= argc || last < r.first || r.first >= argc) return null;
  }
  for (let j = 0; j < ranges.length; j++) {
    const r = ranges[j]!;
    const last = rangeLast(r, argc);
    const need = plan.setGet ? setNeeds(argv) : r.need;
    for (let i = r.first; i <= last; i += r.step) {
      if (!checkKey(s, argv[i]!, need)) {
        deniedIndex = i;
        return false;
      }
    }
  }
  return true;
}

function checkKeys(s: Selector, plan: CommandPlan, cmd: Command, argv: readonly string[], cache: KeyCache): boolean {
  const ranges = plan.ranges;
  if (ranges !== null) {
    const ok = checkRanges(s, plan, ranges, argv);
    if (ok !== null) return ok;
  }
  cache.refs ??= commandKeys(cmd, argv);
  for (const ref of cache.refs) {
    if (!checkKey(s, argv[ref.pos]!, keyRefNeeds(ref.flags))) {
      deniedIndex = ref.pos;
      return false;
    }
  }
  return true;
}

/** Argv positions of the channels a command publishes or subscribes to (to: -1 for the last), and whether they are patterns. */
interface ChannelArgs {
  from: number;
  to: number;
  pattern: boolean;
}

function channelArgs(cmd: Command): ChannelArgs | null {
  switch (cmd.name) {
    case 'publish':
    case 'spublish':
      return { from: 1, to: 1, pattern: false };
    case 'subscribe':
    case 'ssubscribe':
      return { from: 1, to: -1, pattern: false };
    case 'psubscribe':
      return { from: 1, to: -1, pattern: true };
    default:
      return null;
  }
}

/** Redis' ACLCheckChannelAgainstList: a pattern (PSUBSCRIBE) must be listed literally. */
export function channelAllowed(s: Selector, channel: string, isPattern: boolean): boolean {
  if (s.allChannels) return true;
  if (isPattern) return s.channelPatterns.has(channel);
  const channels = s.channels;
  for (let i = 0; i < channels.length; i++) if (channels[i]!.matches(channel)) return true;
  return false;
}

function checkChannels(s: Selector, spec: ChannelArgs, argv: readonly string[]): boolean {
  const to = spec.to < 0 ? argv.length - 1 : spec.to;
  for (let i = spec.from; i <= to && i < argv.length; i++) {
    if (!channelAllowed(s, argv[i]!, spec.pattern)) {
      deniedIndex = i;
      return false;
    }
  }
  return true;
}

/** Redis' ACLSelectorCheckCmd. */
function checkSelector(s: Selector, plan: CommandPlan, cmd: Command, argv: readonly string[], cache: KeyCache): number {
  if (!s.allCommands && !(cmd.flags & F.NO_AUTH) && s.allowed[cmd.aclId] === 0) {
    const args = s.firstArgs?.get(cmd.aclId);
    const idx = cmd.parent !== null ? 2 : 1;
    if (args === undefined || argv.length < 2 || idx >= argv.length || !args.has(argv[idx]!.toLowerCase())) {
      deniedIndex = 0;
      return ACL_DENIED_CMD;
    }
  }
  if (!s.allKeys && plan.hasKeys && !checkKeys(s, plan, cmd, argv, cache)) return ACL_DENIED_KEY;
  if (!s.allChannels && plan.channels !== null && !checkChannels(s, plan.channels, argv)) return ACL_DENIED_CHANNEL;
  return ACL_OK;
}

/**
 * Can `u` run this command line? ACL_OK, or the refusal: the command when
 * no selector allows it, else the last key or channel none could match
 * (its argv index in `deniedIndex`).
 */
export function checkCommand(u: User, cmd: Command, argv: readonly string[]): number {
  if (u.unrestricted) return ACL_OK;
  const plan = planOf(cmd);
  const selectors = u.selectors;
  // The usual case, one selector: its verdict is the answer.
  if (selectors.length === 1) {
    deniedIndex = 0;
    SINGLE.refs = null;
    return checkSelector(selectors[0]!, plan, cmd, argv, SINGLE);
  }
  let relevant: number = ACL_DENIED_CMD;
  let lastIdx = 0;
  const cache: KeyCache = { refs: null };
  for (const s of selectors) {
    deniedIndex = 0;
    const r = checkSelector(s, plan, cmd, argv, cache);
    if (r === ACL_OK) return ACL_OK;
    if (r > relevant || (r === relevant && deniedIndex > lastIdx)) {
      relevant = r;
      lastIdx = deniedIndex;
    }
  }
  deniedIndex = lastIdx;
  return relevant;
}

/** Redis' getAclErrorMessage (verbose: ACL DRYRUN's wording). */
export function denialMessage(result: number, user: User, cmd: Command, value: string, verbose: boolean): string {
  switch (result) {
    case ACL_DENIED_CMD:
      return `User ${user.name} has no permissions to run the '${cmd.name}' command`;
    case ACL_DENIED_KEY:
      return verbose ? `User ${user.name} has no permissions to access the '${value}' key` : 'No permissions to access a key';
    default:
      return verbose ? `User ${user.name} has no permissions to access the '${value}' channel` : 'No permissions to access a channel';
  }
}
