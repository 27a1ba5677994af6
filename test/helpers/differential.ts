/**
 * Differential testing: the same commands go to redis-server (the
 * reference) and to Vireo, and the replies must be byte-for-byte equal,
 * except where an entry in KNOWN_DIFFERENCES says why they may not be.
 */

import { RespClient, encodeCommand, parseReply, type Reply } from './resp.js';
import { startRedis, startVireo, type ProcessHandle, type VireoHandle } from './servers.js';
import { formatDouble } from '../../src/util/numbers.js';

/**
 * The one list of accepted differences between the reference (Debian's
 * Redis 7.0) and Vireo (which follows Redis 7.2). Each entry rewrites
 * Vireo's reply or the reference's so the rest can be compared exactly.
 */
export interface KnownDifference {
  why: string;
  applies(args: string[]): boolean;
  /** Map the reference reply to what Redis 7.2 answers (or normalize both). */
  normalize(reply: Reply, from: 'redis' | 'vireo', args: string[]): Reply;
}

export const KNOWN_DIFFERENCES: KnownDifference[] = [
  {
    why: "ACL refusals: Redis 7.2 names the user in a refused command ('NOPERM User u has no permissions to run the 'get' command') and says 'No permissions to access a key' / 'a channel'; scripts say 'ACL failure in script: ' and the same text. 7.0 words them 'this user has no permissions ...'. Vireo's 7.2 texts are mapped to 7.0's (they carry more); acl.test.ts checks the 7.2 texts themselves.",
    applies: () => true,
    normalize: (r, from) => (from === 'vireo' ? mapErrors(r, aclRefusalAs70) : r),
  },
  {
    why: "ACL DRYRUN: 7.2 answers 'User u has no permissions to ...', 7.0 'This user has no permissions to ...'.",
    applies: (a) => a[0]!.toLowerCase() === 'acl' && a[1]?.toLowerCase() === 'dryrun',
    normalize: (r, from) => (from === 'vireo' && r.type === 'bulk' && r.value !== null ? { type: 'bulk', value: r.value.replace(/^User \S* has no permissions/, 'This user has no permissions') } : r),
  },
  {
    why: "ACL LIST / GETUSER: 7.2 shows every user's sanitize-payload flag (7.0 only after a SETUSER names it), and prints command rules in the order they were given where 7.0 recomputes them from the command bitmap; the rules are compared by their effect in acl.test.ts (ACL DRYRUN of every command) and against 7.2's texts there.",
    applies: (a) => a[0]!.toLowerCase() === 'acl' && ['list', 'getuser'].includes(a[1]?.toLowerCase() ?? ''),
    normalize: (r, _from, a) => normalizeAclUserText(r, a[1]!.toLowerCase() === 'getuser'),
  },
  {
    why: 'ACL LOG: 7.2 adds entry-id, timestamp-created and timestamp-last-updated to each entry; age-seconds and client-info depend on timing and connection ids.',
    applies: (a) => a[0]!.toLowerCase() === 'acl' && a[1]?.toLowerCase() === 'log' && a[2]?.toLowerCase() !== 'reset',
    normalize: (r) => normalizeAclLog(r),
  },
  {
    why: "Redis 7.2 words the last line of every HELP reply 'Print this help.' (addReplyHelp); 7.0's HELP replies (SCRIPT, FUNCTION, PUBSUB, CONFIG, SLOWLOG, LATENCY...) say 'Prints this help.'.",
    applies: (a) => a[1]?.toLowerCase() === 'help',
    normalize: (r, from) =>
      from === 'redis' && r.type === 'array' && r.value !== null
        ? { type: 'array', value: r.value.map((l) => (l.type === 'simple' && l.value === '    Prints this help.' ? { type: 'simple', value: '    Print this help.' } : l)) }
        : r,
  },
  {
    why: "Scripts on Vireo also see os (with os.clock only) and server (Valkey's alias of redis); a listing of the globals drops them before comparing (both are tested on Vireo alone in scripting.test.ts).",
    applies: (a) => a[0]!.toUpperCase() === 'EVAL' && (a[1] ?? '').includes('pairs(_G)'),
    normalize: (r, from) =>
      from === 'vireo' && r.type === 'array' && r.value !== null
        ? { type: 'array', value: r.value.filter((v) => !(v.type === 'bulk' && (v.value === 'os' || v.value === 'server'))) }
        : r,
  },
  {
    why: 'HELLO reports the server version: 7.0.x for the reference, 7.2.4 for Vireo; connection ids differ.',
    applies: (a) => a[0]!.toLowerCase() === 'hello',
    normalize(r) {
      if (r.type !== 'map' && r.type !== 'array') return r;
      const pairs = r.type === 'map' ? r.value : [];
      if (r.type === 'map') {
        return {
          type: 'map',
          value: pairs.map(([k, v]) =>
            k.type === 'bulk' && (k.value === 'version' || k.value === 'id') ? [k, { type: 'bulk', value: '<normalized>' }] : [k, v],
          ),
        };
      }
      const arr = r.value ?? [];
      return {
        type: 'array',
        value: arr.map((v, i) => {
          const key = arr[i - 1];
          return i % 2 === 1 && key?.type === 'bulk' && (key.value === 'version' || key.value === 'id') ? { type: 'bulk', value: '<normalized>' } : v;
        }),
      };
    },
  },
  {
    why: 'Redis 7.2 reworded the unauthenticated HELLO error to mention <proto>.',
    applies: (a) => a[0]!.toLowerCase() === 'hello',
    normalize: (r, from) =>
      from === 'redis' && r.type === 'error'
        ? { type: 'error', value: r.value.replace('the HELLO AUTH <user>', 'the HELLO <proto> AUTH <user>') }
        : r,
  },
  {
    why: "CONFIG GET lists matches in the order of Redis' internal dict (hash order), which carries no meaning: compare as a set of pairs.",
    applies: (a) => a[0]!.toLowerCase() === 'config' && a[1]?.toLowerCase() === 'get',
    normalize(r) {
      if (r.type === 'array' && r.value !== null) {
        const pairs: Reply[][] = [];
        for (let i = 0; i < r.value.length; i += 2) pairs.push([r.value[i]!, r.value[i + 1]!]);
        pairs.sort(byJson);
        return { type: 'array', value: pairs.flat() };
      }
      if (r.type === 'map') return { type: 'map', value: [...r.value].sort(byJson) };
      return r;
    },
  },
  {
    why: 'KEYS lists keys in hash-table order, which differs between implementations: compare as a set.',
    applies: (a) => a[0]!.toLowerCase() === 'keys',
    normalize: (r) =>
      r.type === 'array' && r.value !== null ? { type: 'array', value: [...r.value].sort(byJson) } : r,
  },
  {
    why: 'Redis 7.0 prints doubles with %.17g (1.1 -> "1.1000000000000001"); 7.2 prints the shortest round-trip form. Sorted-set replies are compared by numeric value.',
    applies: (a) => /^(z|bz)/i.test(a[0]!),
    normalize: (r) => mapStrings(r, normalizeNumber),
  },
  {
    why: "Unordered collections: Redis lists hashtable elements in its dict's order, Vireo in its own, and small sets are listpacks (insertion order) in 7.2 but hashtables in 7.0. Compared as sorted.",
    applies: (a) => ['smembers', 'sunion', 'sinter', 'sdiff', 'hkeys', 'hvals'].includes(a[0]!.toLowerCase()),
    normalize: sortTopLevel,
  },
  {
    why: 'HGETALL of a hashtable-encoded hash: field order is dict order; compared as sorted pairs.',
    applies: (a) => a[0]!.toLowerCase() === 'hgetall',
    normalize: sortPairs,
  },
  {
    why: 'HSCAN/SSCAN/ZSCAN element order (and paging) follows each implementation\'s table; compared as sorted elements of a full single-call scan.',
    applies: (a) => ['hscan', 'sscan', 'zscan'].includes(a[0]!.toLowerCase()),
    normalize(r, _from, args) {
      if (r.type !== 'array' || r.value === null || r.value.length !== 2) return r;
      const inner = r.value[1]!;
      const pairs = args[0]!.toLowerCase() !== 'sscan';
      return { type: 'array', value: [r.value[0]!, pairs ? sortPairs(inner) : sortTopLevel(inner)] };
    },
  },
  {
    why: 'CLIENT ID is a per-server counter.',
    applies: (a) => a[0]!.toLowerCase() === 'client' && a[1]?.toLowerCase() === 'id',
    normalize: (r) => (r.type === 'integer' ? { type: 'integer', value: '<id>' } : r),
  },
  {
    why: "Redis 7.2 flags SINTERSTORE's destination OW (overwritten); 7.0's key spec said RW.",
    applies: (a) => a[0]!.toLowerCase() === 'command' && a[1]?.toLowerCase() === 'getkeysandflags' && a[2]?.toLowerCase() === 'sinterstore',
    normalize(r, from) {
      if (from !== 'redis' || r.type !== 'array' || r.value === null || r.value.length === 0) return r;
      const [dst, ...rest] = r.value;
      if (dst!.type !== 'array' || dst!.value === null) return r;
      const [name, flags] = dst!.value;
      if (flags!.type !== 'array' && flags!.type !== 'set') return r;
      const ow = flags!.value!.map((f): Reply => (f.type === 'simple' && f.value === 'RW' ? { type: 'simple', value: 'OW' } : f));
      return { type: 'array', value: [{ type: 'array', value: [name!, { type: flags!.type, value: ow } as Reply] }, ...rest] };
    },
  },
  {
    why: "Blocking commands: Redis 7.2 refuses a timeout whose deadline does not fit in 64 bits ('timeout is out of range', timeout.c getTimeoutFromObjectOrReply); 7.0 converts it with a wrap-around and answers 'timeout is negative' (or blocks, for values just below 2^63 ms).",
    applies: (a) => hugeTimeout(a),
    normalize: (r, from) => (from === 'redis' && r.type === 'error' && r.value === 'ERR timeout is negative' ? { type: 'error', value: 'ERR timeout is out of range' } : r),
  },
  {
    why:
      'Blocking commands: Redis 7.2 serves a blocked client by running its command again once the command (or EXEC) that filled a key has completed (blocked.c handleClientsBlockedOnKey); 7.0 popped from the key that was signalled. ' +
      'So a BLPOP k1 k2 k3 woken by MULTI RPUSH k3 x, RPUSH k2 y, EXEC answers k2 (the first non-empty key in its own order) in 7.2, k3 in 7.0, and a key of another type before the filled one answers WRONGTYPE in 7.2. ' +
      'No reply is rewritten: blocking.test.ts states both answers for these cases.',
    applies: () => false,
    normalize: (r) => r,
  },
  {
    why: "Redis 7.2 reports a consumer's active-time (last successful interaction) beside its seen-time: XINFO CONSUMERS gains 'inactive', XINFO STREAM FULL's consumers gain 'active-time'. The 7.0 reference has neither; Vireo's extra field is dropped before comparing (tested by hand in streams.test.ts).",
    applies: (a) => a[0]!.toLowerCase() === 'xinfo' && ['consumers', 'stream'].includes(a[1]?.toLowerCase() ?? ''),
    normalize: (r, from) => (from === 'vireo' ? dropFields(r, new Set(['inactive', 'active-time'])) : r),
  },
  {
    why: "XREAD/XREADGROUP with an odd number of arguments after STREAMS: Redis 7.0 always answers \"Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.\"; 7.2 names the command it got and the ID that fits it ('xreadgroup' and '>').",
    applies: (a) => ['xread', 'xreadgroup'].includes(a[0]!.toLowerCase()),
    normalize: (r, from, a) => {
      if (from !== 'redis' || r.type !== 'error' || !r.value.startsWith('ERR Unbalanced XREAD list')) return r;
      const name = a[0]!.toLowerCase();
      return { type: 'error', value: `ERR Unbalanced '${name}' list of streams: for each stream key an ID or '${name === 'xreadgroup' ? '>' : '$'}' must be specified.` };
    },
  },
  {
    why: "XADD <ms>-* when the stream's last ID has that ms and the largest sequence: Redis 7.0 forgets to set errno and answers 'Elements are too large to be stored'; 7.2 answers that the ID is equal or smaller than the top item.",
    applies: (a) => a[0]!.toLowerCase() === 'xadd' && a.some((x) => x.endsWith('-*')),
    normalize: (r, from) =>
      from === 'redis' && r.type === 'error' && r.value === 'ERR Elements are too large to be stored'
        ? { type: 'error', value: 'ERR The ID specified in XADD is equal or smaller than the target stream top item' }
        : r,
  },
  {
    why: "BLOCK timeouts so large that now + timeout passes LLONG_MAX: Redis 7.2's getTimeoutFromObjectOrReply answers 'timeout is out of range', 7.0 overflows into a time in the past (and so blocks for nothing, or serves what it can).",
    applies: (a) => ['xread', 'xreadgroup'].includes(a[0]!.toLowerCase()) && a.some((x, i) => x.toLowerCase() === 'block' && /^\d{19}$/.test(a[i + 1] ?? '') && BigInt(a[i + 1]!) > 9223372036854775807n - BigInt(Date.now())),
    normalize: () => ({ type: 'error', value: 'ERR timeout is out of range' }),
  },
  {
    why: "An XREADGROUP blocked on a key that is then deleted or replaced: Redis 7.0 answers '-UNBLOCKED the stream key no longer exists'; Redis 7.2 runs the command again, which answers what it answers on such a key (NOGROUP, or WRONGTYPE for a key of another type). Blocking XREADGROUP errors are compared as one kind; the non-blocking forms keep their exact texts.",
    applies: (a) => a[0]!.toLowerCase() === 'xreadgroup' && a.some((x) => x.toLowerCase() === 'block'),
    normalize: (r) =>
      r.type === 'error' && /^(UNBLOCKED the stream key no longer exists|NOGROUP |WRONGTYPE )/.test(r.value)
        ? { type: 'error', value: '<the stream or group is gone>' }
        : r,
  },
  {
    why:
      "Double replies written by scripts ({double = x}, or a RESP3 double passed through): Redis 7.0's addReplyDouble prints %.17g (0.1 -> '0.10000000000000001', 1e300 -> '1.0000000000000001e+300') and glibc's '-nan' for 0/0; " +
      "7.2 prints the shortest round-trip form (fpconv) and 'nan'. The reference's RESP3 doubles are rewritten to 7.2's text; RESP2 turns them into bulk strings, which scripting.test.ts only compares for values both print alike.",
    applies: (a) => SCRIPT_COMMANDS.has(a[0]!.toLowerCase()),
    normalize: (r, from) => (from === 'redis' ? mapDoubles(r, (s) => formatDouble(parseDoubleText(s))) : r),
  },
  {
    why:
      "Blocking commands called by scripts: Redis 7.0 refuses BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BZPOPMIN, BZPOPMAX and WAIT ('This Redis command is not allowed from script') and XREAD/XREADGROUP with BLOCK ('xread command is not allowed with BLOCK option from scripts'); " +
      '7.2 (redis#11568) runs them as MULTI does, without blocking: they pop what is there or answer a null reply at once (BLMPOP and BZMPOP already did so in 7.0). No reply is rewritten: scripting.test.ts states both answers.',
    applies: () => false,
    normalize: (r) => r,
  },
  {
    why: 'FUNCTION RESTORE of a payload with RDB version 11 (what 7.2 writes): 7.0 answers that the payload version or checksum are wrong, 7.2 restores it. No reply is rewritten: functions.test.ts states both answers.',
    applies: () => false,
    normalize: (r) => r,
  },
  {
    why: "PUBSUB CHANNELS and SHARDCHANNELS list the channels in the order of Redis' dict (hash order): compared as a set.",
    applies: (a) => a[0]!.toLowerCase() === 'pubsub' && ['channels', 'shardchannels'].includes(a[1]?.toLowerCase() ?? ''),
    normalize: sortTopLevel,
  },
  {
    why:
      'A push raised for the client whose command is running (a RESP3 client publishing to a channel it subscribes to, or a keyspace notification of its own write): ' +
      "Redis 7.2 (redis#12326) sends it after the command's reply, and after EXEC's whole array inside MULTI; 7.0 sends it before the reply, inside EXEC's array (a broken reply). " +
      'No reply is rewritten: pubsub.test.ts states both orders.',
    applies: () => false,
    normalize: (r) => r,
  },
  {
    why:
      'Client tracking: an invalidation redirected to a client that is running a command itself (it changed a key another client tracks) is written by Redis at once, inside that command: before its reply, or within it (inside EXEC\'s array, breaking the protocol). ' +
      'Vireo holds it until that command has replied, as Redis does for the tracking client\'s own invalidations. No reply is rewritten: tracking.test.ts keeps redirect targets from writing in the differential cases and states Vireo\'s order alone.',
    applies: () => false,
    normalize: (r) => r,
  },
  {
    why:
      "CLIENT TRACKING ON BCAST with PREFIX arguments where a later one overlaps another (PREFIX a PREFIX b PREFIX bc): Redis 7.0 and 7.2 reply the overlap error, then enable tracking anyway and reply +OK too, two replies to one command (fixed upstream in redis#15073). Vireo replies the error alone and leaves tracking as it was; tracking.test.ts checks it on Vireo.",
    applies: () => false,
    normalize: (r) => r,
  },
  {
    why: "FUNCTION LIST gives libraries, and each library's functions, in the order of Redis' internal dicts (hash order, seeded per process): compared sorted.",
    applies: (a) => a[0]!.toLowerCase() === 'function' && a[1]?.toLowerCase() === 'list',
    normalize: sortFunctionList,
  },
];

const SCRIPT_COMMANDS = new Set(['eval', 'evalsha', 'eval_ro', 'evalsha_ro', 'fcall', 'fcall_ro']);

/** A double reply's text as C printed it (%.17g, inf, -inf, nan, -nan). */
function parseDoubleText(s: string): number {
  if (/^-?nan$/i.test(s)) return NaN;
  if (/^-?inf$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  return Number(s);
}

/** The reply with fn applied to the text of every RESP3 double in it, at any depth. */
function mapDoubles(r: Reply, fn: (s: string) => string): Reply {
  switch (r.type) {
    case 'double':
      return { type: 'double', value: fn(r.value) };
    case 'array':
    case 'set':
    case 'push':
      return r.value === null ? r : ({ type: r.type, value: r.value.map((x) => mapDoubles(x, fn)) } as Reply);
    case 'map':
      return { type: 'map', value: r.value.map(([k, v]) => [mapDoubles(k, fn), mapDoubles(v, fn)] as [Reply, Reply]) };
    default:
      return r;
  }
}

/** FUNCTION LIST with its libraries sorted, and each library's functions sorted. */
function sortFunctionList(r: Reply): Reply {
  if (r.type !== 'array' || r.value === null) return r;
  const sortFunctions = (library: Reply): Reply => {
    const isFunctions = (k: Reply | undefined) => k !== undefined && k.type === 'bulk' && k.value === 'functions';
    if (library.type === 'map') {
      return { type: 'map', value: library.value.map(([k, v]) => [k, isFunctions(k) ? sortTopLevel(v) : v] as [Reply, Reply]) };
    }
    if (library.type !== 'array' || library.value === null) return library;
    const items = library.value;
    return { type: 'array', value: items.map((v, i) => (i % 2 === 1 && isFunctions(items[i - 1]) ? sortTopLevel(v) : v)) };
  };
  return { type: 'array', value: r.value.map(sortFunctions).sort(byJson) };
}

/** A blocking command whose timeout in ms is 2^63 or more (see KNOWN_DIFFERENCES). */
function hugeTimeout(a: string[]): boolean {
  const name = a[0]!.toLowerCase();
  const at: Record<string, number> = { blpop: a.length - 1, brpop: a.length - 1, bzpopmin: a.length - 1, bzpopmax: a.length - 1, brpoplpush: 3, blmove: 5, blmpop: 1, bzmpop: 1 };
  const i = at[name];
  if (i === undefined || a[i] === undefined) return false;
  // Number() reads 1e400 as Infinity: past 2^63 ms as well (strtold takes it, 1e5000 is refused by both).
  const t = a[i]!.trim() === a[i] ? Number(a[i]) : NaN;
  return /^\+?(inf|infinity)$/i.test(a[i]!) || (t > 0 && t * 1000 >= 2 ** 63);
}

/** A map reply (RESP3 map or RESP2 flat array) without the named fields, at any depth. */
function dropFields(r: Reply, names: Set<string>): Reply {
  const isName = (k: Reply | undefined) => k !== undefined && k.type === 'bulk' && k.value !== null && names.has(k.value);
  if (r.type === 'map') return { type: 'map', value: r.value.filter(([k]) => !isName(k)).map(([k, v]) => [k, dropFields(v, names)] as [Reply, Reply]) };
  if (r.type !== 'array' || r.value === null) return r;
  const items = r.value;
  const flatMap = items.length % 2 === 0 && items.length > 0 && items.every((x, i) => i % 2 === 1 || x.type === 'bulk');
  const out: Reply[] = [];
  for (let i = 0; i < items.length; i++) {
    if (flatMap && i % 2 === 0 && isName(items[i])) {
      i++;
      continue;
    }
    out.push(dropFields(items[i]!, names));
  }
  return { type: 'array', value: out };
}

/**
 * Remaining time-to-live replies depend on when each server ran the
 * command; they must agree within a small tolerance, not to the millisecond.
 */
const TTL_TOLERANCE: Record<string, number> = { ttl: 1, pttl: 50, expiretime: 1, pexpiretime: 50 };

/** OBJECT IDLETIME counts whole seconds of each server's own clock: one may tick between two commands and the other not. */
function objectTolerance(args: string[]): number | undefined {
  return args[0]!.toLowerCase() === 'object' && args[1]?.toLowerCase() === 'idletime' ? 1 : undefined;
}

export function closeEnough(args: string[], a: Reply, b: Reply): boolean {
  const tol = TTL_TOLERANCE[args[0]!.toLowerCase()] ?? objectTolerance(args);
  if (tol === undefined || a.type !== 'integer' || b.type !== 'integer') return false;
  const x = BigInt(a.value);
  const y = BigInt(b.value);
  const d = x > y ? x - y : y - x;
  return x >= 0n && y >= 0n && d <= BigInt(tol);
}

/**
 * A total order over replies for comparing unordered collections: code-unit
 * order of their JSON. (localeCompare ignores control characters such as
 * \x84, so two different members could tie and keep each server's order.)
 */
function byJson(x: unknown, y: unknown): number {
  const a = JSON.stringify(x);
  const b = JSON.stringify(y);
  return a < b ? -1 : a > b ? 1 : 0;
}

function mapStrings(r: Reply, fn: (s: string) => string): Reply {
  switch (r.type) {
    case 'bulk':
      return r.value === null ? r : { type: 'bulk', value: fn(r.value) };
    case 'double':
      return { type: 'bulk', value: fn(r.value) };
    case 'array':
    case 'set':
    case 'push':
      return r.value === null ? r : ({ type: r.type, value: r.value.map((x) => mapStrings(x, fn)) } as Reply);
    case 'map':
      return { type: 'map', value: r.value.map(([k, v]) => [mapStrings(k, fn), mapStrings(v, fn)] as [Reply, Reply]) };
    default:
      return r;
  }
}

/**
 * A float written either way ("1.1000000000000001" or "1.1") becomes one
 * canonical text. Integers stay as written, except those too long to be
 * exact: 7.2 writes 5.37e23 as "537133983336389040000000" (fpconv), 7.0 as
 * "5.3713398333638904e+23".
 */
function normalizeNumber(s: string): string {
  if (!/^-?(\d+\.\d*|\d*\.\d+|\d+)(e[+-]?\d+)?$/i.test(s) || /^-?\d{1,15}$/.test(s)) return s;
  return String(Number(s));
}

function sortTopLevel(r: Reply): Reply {
  if ((r.type === 'array' || r.type === 'set') && r.value !== null) {
    return { type: 'array', value: [...r.value].sort(byJson) };
  }
  return r;
}

function sortPairs(r: Reply): Reply {
  if (r.type === 'map') return { type: 'map', value: [...r.value].sort(byJson) };
  if (r.type !== 'array' || r.value === null) return r;
  const pairs: Reply[][] = [];
  for (let i = 0; i < r.value.length; i += 2) pairs.push([r.value[i]!, r.value[i + 1]!]);
  pairs.sort(byJson);
  return { type: 'array', value: pairs.flat() };
}

/** Apply `fn` to every error reply, nested ones (EXEC, scripts' tables) included. */
function mapErrors(r: Reply, fn: (s: string) => string): Reply {
  switch (r.type) {
    case 'error':
      return { type: 'error', value: fn(r.value) };
    case 'array':
    case 'set':
    case 'push':
      return r.value === null ? r : ({ type: r.type, value: r.value.map((x) => mapErrors(x, fn)) } as Reply);
    default:
      return r;
  }
}

/** Redis 7.2's ACL refusal texts in 7.0's words. */
function aclRefusalAs70(msg: string): string {
  return msg
    .replace(/^((?:EXECABORT Transaction discarded because of: )?)NOPERM User \S* has no permissions to run the '([^']+)' command/, "$1NOPERM this user has no permissions to run the '$2' command")
    .replace(/^((?:EXECABORT Transaction discarded because of: )?)NOPERM No permissions to access a key/, '$1NOPERM this user has no permissions to access one of the keys used as arguments')
    .replace(/^((?:EXECABORT Transaction discarded because of: )?)NOPERM No permissions to access a channel/, '$1NOPERM this user has no permissions to access one of the channels used as arguments')
    .replace(/^ERR ACL failure in script: User \S* has no permissions to run the '[^']+' command/, "ERR The user executing the script can't run this command or subcommand")
    .replace(/^ERR ACL failure in script: No permissions to access a key/, "ERR The user executing the script can't access at least one of the keys mentioned in the command arguments")
    .replace(/^ERR ACL failure in script: No permissions to access a channel/, "ERR The user executing the script can't access at least one of the channels mentioned in the command arguments");
}

/** Command rules (a +@all or -@all and the rules after it) in ACL LIST / GETUSER text. */
const COMMAND_RULES = /[+-]@all( [+-][^ ()]+)*/g;

function normalizeAclUserText(r: Reply, getuser: boolean): Reply {
  const fix = (s: string) => {
    let out = s.replace(COMMAND_RULES, '<rules>');
    if (!getuser) out = out.replace(/ sanitize-payload(?= )/, '');
    return out;
  };
  if (!getuser) return mapStrings(r, fix);
  // GETUSER: a map (RESP2: a flat array) whose 'commands' values are rules and whose 'flags' may hold sanitize-payload.
  const walk = (x: Reply): Reply => {
    if (x.type === 'map') return { type: 'map', value: x.value.map(([k, v]) => [k, fieldValue(k, v)] as [Reply, Reply]) };
    if ((x.type === 'array' || x.type === 'set') && x.value !== null) {
      const items = x.value;
      return { type: x.type, value: items.map((v, i) => (i % 2 === 1 ? fieldValue(items[i - 1]!, v) : v)) } as Reply;
    }
    return x;
  };
  const fieldValue = (k: Reply, v: Reply): Reply => {
    if (k.type !== 'bulk') return v;
    if (k.value === 'commands') return mapStrings(v, fix);
    if (k.value === 'flags' && (v.type === 'array' || v.type === 'set') && v.value !== null) {
      return { type: v.type, value: v.value.filter((f) => !(f.type === 'bulk' && f.value === 'sanitize-payload')) } as Reply;
    }
    if (k.value === 'selectors' && (v.type === 'array' || v.type === 'set') && v.value !== null) return { type: v.type, value: v.value.map(walk) } as Reply;
    return v;
  };
  return walk(r);
}

const ACL_LOG_72_FIELDS = new Set(['entry-id', 'timestamp-created', 'timestamp-last-updated']);

function normalizeAclLog(r: Reply): Reply {
  if ((r.type !== 'array' && r.type !== 'set') || r.value === null) return r;
  const entry = (e: Reply): Reply => {
    const pairs: [Reply, Reply][] =
      e.type === 'map' ? e.value : e.type === 'array' && e.value !== null ? e.value.flatMap((v, i, a) => (i % 2 === 0 ? [[v, a[i + 1]!] as [Reply, Reply]] : [])) : [];
    const kept = pairs
      .filter(([k]) => !(k.type === 'bulk' && k.value !== null && ACL_LOG_72_FIELDS.has(k.value)))
      .map(([k, v]) => (k.type === 'bulk' && (k.value === 'age-seconds' || k.value === 'client-info') ? [k, { type: 'bulk', value: '<varies>' }] : [k, v]) as [Reply, Reply]);
    return { type: 'array', value: kept.flat() };
  };
  return { type: 'array', value: r.value.map(entry) };
}

export function normalize(reply: Reply, from: 'redis' | 'vireo', args: string[]): Reply {
  let r = reply;
  for (const d of KNOWN_DIFFERENCES) if (d.applies(args)) r = d.normalize(r, from, args);
  return r;
}

/**
 * DIFF_AGAINST_REDIS=1 puts a second redis-server where Vireo would be, to
 * check that a corpus is deterministic on the reference alone (a case that
 * fails then compares hash order, time or randomness, not behaviour).
 */
const REFERENCE_ONLY = process.env.DIFF_AGAINST_REDIS === '1';

export class DiffPair {
  private constructor(
    readonly redis: RespClient,
    readonly vireo: RespClient,
    private readonly handles: { redis: ProcessHandle; vireo: VireoHandle | ProcessHandle } | null,
  ) {}

  /** Start a fresh redis-server and Vireo with the same parameters. */
  static async start(params: Record<string, string> = {}): Promise<DiffPair> {
    const started = await Promise.allSettled([startRedis(params), REFERENCE_ONLY ? startRedis(params) : startVireo(params)]);
    if (started[0].status === 'rejected' || started[1].status === 'rejected') {
      // The one that did start must not outlive the test (an orphaned reference server kept listening).
      if (started[0].status === 'fulfilled') await started[0].value.kill();
      if (started[1].status === 'fulfilled') {
        const h = started[1].value;
        await ('server' in h ? h.stop() : h.kill());
      }
      throw started[0].status === 'rejected' ? started[0].reason : (started[1] as PromiseRejectedResult).reason;
    }
    const [redisHandle, vireoHandle] = [started[0].value, started[1].value];
    const [redis, vireo] = await Promise.all([RespClient.connect(redisHandle.port), RespClient.connect(vireoHandle.port)]);
    return new DiffPair(redis, vireo, { redis: redisHandle, vireo: vireoHandle });
  }

  /**
   * A pair of already started servers (a reference started with parameters
   * Vireo does not take, such as cluster-enabled); stop() stops both.
   */
  static async of(redisHandle: ProcessHandle, vireoHandle: VireoHandle): Promise<DiffPair> {
    const [redis, vireo] = await Promise.all([RespClient.connect(redisHandle.port), RespClient.connect(vireoHandle.port)]);
    return new DiffPair(redis, vireo, { redis: redisHandle, vireo: vireoHandle });
  }

  /** Whether the second server is redis-server too (DIFF_AGAINST_REDIS=1). */
  static get referenceOnly(): boolean {
    return REFERENCE_ONLY;
  }

  /** Which normalization the second server's replies get. */
  private get second(): 'redis' | 'vireo' {
    return REFERENCE_ONLY ? 'redis' : 'vireo';
  }

  /** The ports of the reference and of the second server (Vireo, or redis-server under DIFF_AGAINST_REDIS=1). */
  get ports(): [number, number] {
    return [this.handles!.redis.port, this.handles!.vireo.port];
  }

  get vireoServer(): VireoHandle {
    const h = this.handles!.vireo;
    if (!('server' in h)) throw new Error('DIFF_AGAINST_REDIS=1: the second server is redis-server, not Vireo');
    return h;
  }

  get redisServer(): ProcessHandle {
    return this.handles!.redis;
  }

  /** Another connection to each server. */
  async connect(): Promise<DiffPair> {
    const h = this.handles!;
    const [redis, vireo] = await Promise.all([RespClient.connect(h.redis.port), RespClient.connect(h.vireo.port)]);
    return new DiffPair(redis, vireo, h);
  }

  /** Send the command to both; the replies must match. Returns Vireo's reply. */
  async check(...args: string[]): Promise<Reply> {
    if (args.length === 3 && args[0]!.toLowerCase() === 'object' && args[1]!.toLowerCase() === 'encoding') return this.checkEncoding(args[2]!);
    const [a, b] = await Promise.all([this.redis.call(...args), this.vireo.call(...args)]);
    const ra = normalize(a, 'redis', args);
    const rb = normalize(b, this.second, args);
    const sa = JSON.stringify(ra);
    const sb = JSON.stringify(rb);
    if (sa !== sb && !closeEnough(args, ra, rb)) {
      throw new Error(`reply mismatch for ${JSON.stringify(args)}\n  redis: ${sa}\n  vireo: ${sb}`);
    }
    return b;
  }

  /**
   * OBJECT ENCODING: Redis 7.2 (Vireo's target) reports small lists as
   * `listpack` (7.0: `quicklist`), has a `listpack` encoding for sets of
   * strings (7.0: `hashtable`), and sizes a new set from the number of SADD
   * arguments. Those cases are accepted; everything else must match exactly.
   * The 7.2 rules themselves are tested in encodings.test.ts.
   */
  private async checkEncoding(key: string): Promise<Reply> {
    const [a, b] = await Promise.all([this.redis.call('OBJECT', 'ENCODING', key), this.vireo.call('OBJECT', 'ENCODING', key)]);
    const enc = (r: Reply) => (r.type === 'bulk' ? r.value : JSON.stringify(r));
    const ea = enc(a);
    const eb = enc(b);
    if (ea === eb) return b;
    const type = await this.vireo.call('TYPE', key);
    const t = type.type === 'simple' ? type.value : '';
    // 7.2 also picks a set's first encoding from the number of SADD arguments.
    const setHint = t === 'set' && ((eb === 'listpack' && (ea === 'hashtable' || ea === 'intset')) || (eb === 'hashtable' && ea === 'intset'));
    const ok = ea === eb || (t === 'list' && ea === 'quicklist' && eb === 'listpack') || setHint;
    if (!ok) throw new Error(`reply mismatch for OBJECT ENCODING ${key} (${t})\n  redis: ${ea}\n  vireo: ${eb}`);
    return b;
  }

  /** Send raw bytes to both and compare the exact bytes that come back (and whether the connection closed). */
  async checkRaw(bytes: Buffer | string, replies: number): Promise<Buffer> {
    const data = typeof bytes === 'string' ? Buffer.from(bytes, 'latin1') : bytes;
    this.redis.writeRaw(data);
    this.vireo.writeRaw(data);
    const collect = async (c: RespClient) => {
      const out: Buffer[] = [];
      for (let i = 0; i < replies; i++) out.push((await c.read()).raw);
      return Buffer.concat(out);
    };
    const [a, b] = await Promise.all([collect(this.redis), collect(this.vireo)]);
    if (!a.equals(b)) {
      throw new Error(`raw reply mismatch for ${JSON.stringify(data.latin1Slice(0, 200))}\n  redis: ${JSON.stringify(a.latin1Slice())}\n  vireo: ${JSON.stringify(b.latin1Slice())}`);
    }
    return b;
  }

  /** Run a list of commands, each checked. */
  async script(commands: string[][]): Promise<void> {
    for (const c of commands) await this.check(...c);
  }

  close(): void {
    this.redis.close();
    this.vireo.close();
  }

  async stop(): Promise<void> {
    this.close();
    if (this.handles !== null) {
      const second = this.handles.vireo;
      await Promise.all([this.handles.redis.kill(), 'server' in second ? second.stop() : second.kill()]);
    }
  }
}

export { encodeCommand, parseReply };
