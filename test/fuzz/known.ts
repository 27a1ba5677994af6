/**
 * The fuzzers' lists, each entry with its reason:
 *
 * - PENDING_FIXES: defects of issue 9 being fixed in parallel. The fuzzers
 *   avoid or tolerate exactly these inputs; the lead empties the list as the
 *   fixes land, and the fuzzers then cover them like everything else.
 * - REPORTED_FINDINGS: the same for defects the fuzzers found in files
 *   other engineers own (reported with a reproducer, not fixed here).
 * - CONSTRAINTS: inputs never generated because they would stop the
 *   harness itself (a command that closes or mutes the fuzzing connection,
 *   kills the canary, sleeps past the canary's bound, or makes either server
 *   allocate gigabytes on purpose).
 * - FUZZ_DIFFERENCES: replies that legitimately differ between redis-server
 *   7.0 and Vireo (randomness, time, server state, 7.0-vs-7.2) and how they
 *   are compared instead. They extend KNOWN_DIFFERENCES in
 *   test/helpers/differential.ts, which applies first.
 */

import type { Reply } from '../helpers/resp.js';
import { maskTimes } from '../helpers/stream-mask.js';

/** The command's name as the table knows it: `get`, `client|kill`. */
export function commandName(args: readonly string[]): string {
  const first = (args[0] ?? '').toLowerCase();
  // Without a cluster RESTORE-ASKING is RESTORE: its TTL, payload rules and batch end are RESTORE's.
  if (first === 'restore-asking') return 'restore';
  return CONTAINERS.has(first) && args.length > 1 ? `${first}|${args[1]!.toLowerCase()}` : first;
}

export const CONTAINERS = new Set(['client', 'config', 'command', 'memory', 'object', 'debug', 'xinfo', 'xgroup', 'script', 'function', 'acl', 'slowlog', 'latency', 'cluster', 'vireo']);

/** An argument as an integer, the way a server would read it (null when it is not one). */
export function asInteger(s: string | undefined): bigint | null {
  if (s === undefined || !/^-?\d{1,30}$/.test(s)) return null;
  return BigInt(s);
}

/** An argument as a number, loosely (any spelling some parser might accept). */
export function asNumber(s: string | undefined): number | null {
  if (s === undefined || s.trim() === '') return null;
  const n = Number(s.trim());
  return Number.isFinite(n) ? n : null;
}

const upper = (args: readonly string[]) => args.map((a) => a.toUpperCase());

const LONG_MAX = (1n << 63n) - 1n;

/** Value after a token (`RANK x`), or undefined. */
function after(args: readonly string[], token: string, from = 1): string | undefined {
  const u = upper(args);
  for (let i = from; i < u.length - 1; i++) if (u[i] === token) return args[i + 1];
  return undefined;
}

function isRandomMember(name: string): boolean {
  return name === 'srandmember' || name === 'hrandfield' || name === 'zrandmember';
}

/** Counts at which Redis 7.2 answers `value is out of range` for the random-member commands. */
function rangeErrorCount(args: readonly string[]): boolean {
  const n = asInteger(args[2]);
  if (n === null) return false;
  const withValues = upper(args).some((a) => a === 'WITHVALUES' || a === 'WITHSCORES');
  return n < -LONG_MAX || n > LONG_MAX || (withValues && n < -LONG_MAX / 2n);
}

export interface PendingFix {
  /** The issue's wording. */
  issue: string;
  /** Inputs not generated until the fix lands. */
  avoid?(args: readonly string[]): boolean;
  /** Protocol sessions whose differences are tolerated until the fix lands (the requests as Redis frames them, the bytes each server sent). */
  tolerateFrames?(requests: readonly FramedRequest[], redis: Buffer, vireo: Buffer): boolean;
  /** Differences tolerated until the fix lands. */
  tolerate?(args: readonly string[], redis: Reply, vireo: Reply): boolean;
  /** After a tolerated difference: commands that make both servers agree again (run on both, same db). */
  resync?(args: readonly string[]): string[][];
}

/** One request as Redis frames it (see frames.ts). */
export interface FramedRequest {
  inline: boolean;
  /** A `*` or `$` count line with a NUL byte before its CR (Redis' strchr stops there). */
  nulInCount?: boolean;
  bytes: Buffer;
}

export const PENDING_FIXES: PendingFix[] = [
  // Empty since the merge of main (issue 9's fixes): every defect the fuzzer avoided or tolerated for it is
  // generated and compared again. DEBUG LOADAOF and multi-parameter CONFIG SET with 7.2-only parameters moved
  // to CONSTRAINTS, LPOS ... RANK -2^63 to FUZZ_DIFFERENCES (7.0 answers it without the 7.2 range check).
];

/**
 * Defects the fuzzer found in files other engineers own while issue 9 is
 * worked on (reported to the lead with a reproducer instead of fixed here):
 * tolerated like PENDING_FIXES, and emptied the same way. Those fixed on
 * main by the time of the merge are gone from the list.
 */
export const REPORTED_FINDINGS: PendingFix[] = [
  {
    issue:
      'src/engine (expiry): expire times are kept as doubles, so an expire time past 2^53 ms (SETEX k 9007199254740992 v: the year 285,000) comes back from PEXPIRETIME/PTTL rounded to the nearest double (9007201050776354000 for Redis\' 9007201050776353932)',
    tolerate: (args, redis, vireo) =>
      ['pexpiretime', 'expiretime', 'pttl', 'ttl'].includes(commandName(args)) &&
      redis.type === 'integer' &&
      vireo.type === 'integer' &&
      Math.abs(Number(redis.value)) > 2 ** 53 / 1000 &&
      Math.abs(Number(redis.value) - Number(vireo.value)) <= 4096,
  },
];

/**
 * Everything the fuzzers avoid or tolerate until it is fixed.
 * VIREO_FUZZ_IGNORE_PENDING=1 / VIREO_FUZZ_IGNORE_REPORTED=1 turn one list off (to see whether the fixes landed).
 */
export const OPEN_ISSUES: PendingFix[] = [
  ...(process.env.VIREO_FUZZ_IGNORE_PENDING === '1' ? [] : PENDING_FIXES),
  ...(process.env.VIREO_FUZZ_IGNORE_REPORTED === '1' ? [] : REPORTED_FINDINGS),
];

export interface Constraint {
  why: string;
  rejects(args: readonly string[]): boolean;
}

/** The delay of an expiry set by this command, in ms from now, or null if it sets none. */
function expiryDelayMs(args: readonly string[]): number | null {
  const name = commandName(args);
  const now = Date.now();
  const rel = (v: string | undefined, unit: number) => {
    const n = asNumber(v);
    return n === null ? null : n * unit;
  };
  const abs = (v: string | undefined, unit: number) => {
    const n = asNumber(v);
    return n === null ? null : n * unit - now;
  };
  switch (name) {
    case 'expire':
      return rel(args[2], 1000);
    case 'pexpire':
      return rel(args[2], 1);
    case 'expireat':
      return abs(args[2], 1000);
    case 'pexpireat':
      return abs(args[2], 1);
    case 'setex':
      return rel(args[2], 1000);
    case 'psetex':
      return rel(args[2], 1);
    case 'restore': {
      const n = asNumber(args[2]);
      if (n === null || n === 0) return null;
      return upper(args).includes('ABSTTL') ? n - now : n;
    }
    case 'set':
    case 'getex': {
      const u = upper(args);
      let min: number | null = null;
      for (let i = 2; i < u.length - 1; i++) {
        const d =
          u[i] === 'EX' ? rel(args[i + 1], 1000) : u[i] === 'PX' ? rel(args[i + 1], 1) : u[i] === 'EXAT' ? abs(args[i + 1], 1000) : u[i] === 'PXAT' ? abs(args[i + 1], 1) : null;
        if (d !== null && (min === null || d < min)) min = d;
      }
      return min;
    }
    default:
      return null;
  }
}

/** Whether two PREFIX values of a CLIENT TRACKING overlap, the first of them not the first PREFIX. */
function laterPrefixesOverlap(args: readonly string[]): boolean {
  const u = upper(args);
  const prefixes: string[] = [];
  for (let i = 3; i < args.length - 1; i++) if (u[i] === 'PREFIX') prefixes.push(args[++i]!);
  for (let i = 1; i < prefixes.length; i++) {
    for (let j = i + 1; j < prefixes.length; j++) if (prefixes[i]!.startsWith(prefixes[j]!) || prefixes[j]!.startsWith(prefixes[i]!)) return true;
  }
  return false;
}

/** Whether CLIENT KILL's filters surely match no connection of the run (the canary, the fuzzer, the other side). */
function killsNobody(args: readonly string[]): boolean {
  if (args.length === 3) return !args[2]!.startsWith('127.0.0.1') && !args[2]!.startsWith('[::1]');
  const u = upper(args);
  // Odd argument counts and unknown filters are syntax errors: nothing is killed.
  if ((args.length - 2) % 2 === 1 || u.slice(2).some((a, i) => i % 2 === 0 && !['ID', 'ADDR', 'LADDR', 'USER', 'SKIPME', 'TYPE', 'MAXAGE'].includes(a))) return true;
  // A repeated filter keeps its last value (each one overwrites the last), but a bad ID anywhere is an error.
  const last = new Map<string, string>();
  for (let i = 2; i < u.length - 1; i += 2) {
    const v = args[i + 1]!;
    if (u[i] === 'ID') {
      const id = asNumber(v);
      if (id === null || id < 1) return true;
    }
    last.set(u[i]!, v);
  }
  const id = last.get('ID');
  if (id !== undefined && asNumber(id)! > 1e9) return true;
  for (const f of ['ADDR', 'LADDR']) {
    const v = last.get(f);
    if (v !== undefined && !v.startsWith('127.0.0.1') && !v.includes('::1')) return true;
  }
  const user = last.get('USER');
  return user !== undefined && user !== 'default';
}

/** Where each blocking pop has its timeout (seconds); -1: the last argument. */
const BLOCKING_TIMEOUT_AT: Record<string, number> = { blpop: -1, brpop: -1, bzpopmin: -1, bzpopmax: -1, brpoplpush: 3, blmove: 5, blmpop: 1, bzmpop: 1 };

/** A blocking pop's timeout argument, or undefined for other commands. */
function blockingTimeout(args: readonly string[]): string | undefined {
  const at = BLOCKING_TIMEOUT_AT[commandName(args)];
  if (at === undefined || args.length < 3) return undefined;
  return args[at === -1 ? args.length - 1 : at];
}

/**
 * A timeout that cannot make the command wait long: refused by both servers,
 * or at most 50 ms. Redis reads it with strtold (decimal or hexadecimal,
 * inf, nan) and takes ceill(t * 1000) ms: -0.001 rounds to 0, no timeout.
 */
function refusedOrQuick(t: string | undefined): boolean {
  if (t === undefined) return true;
  if (/^[+-]?(inf|infinity)$/i.test(t)) return true; // 7.2: out of range, 7.0: negative (KNOWN_DIFFERENCES)
  if (/^[+-]?0x/i.test(t)) return false;
  if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(t)) return true; // not a float (nan too)
  const ms = Number(t) * 1000;
  if (ms <= -1.5) return true;
  if (ms >= 2 ** 63 * 1.001) return true;
  return ms > 0 && ms <= 50;
}

/** CONFIG SET parameters the fuzzer may change; the rest would stop or skew the run (port, dir, bind, maxmemory, requirepass, save, appendonly, timeout, maxclients...). */
export const CONFIG_PARAMS: Record<string, string[]> = {
  'hash-max-listpack-entries': ['0', '1', '4', '128', '512'],
  'hash-max-listpack-value': ['0', '1', '8', '64'],
  'hash-max-ziplist-entries': ['1', '128'],
  'list-max-listpack-size': ['-5', '-2', '-1', '1', '4', '128'],
  'list-max-ziplist-size': ['-2', '8'],
  'list-compress-depth': ['0', '1', '2'],
  'set-max-intset-entries': ['0', '1', '4', '512', '1024'],
  'set-max-listpack-entries': ['0', '4', '128'],
  'set-max-listpack-value': ['0', '4', '64'],
  'zset-max-listpack-entries': ['0', '1', '4', '128'],
  'zset-max-listpack-value': ['0', '4', '64'],
  'zset-max-ziplist-entries': ['1', '128'],
  'lazyfree-lazy-user-del': ['yes', 'no'],
  'lazyfree-lazy-user-flush': ['yes', 'no'],
  'maxmemory-policy': ['noeviction', 'allkeys-lru', 'allkeys-lfu', 'volatile-ttl', 'volatile-lfu'],
  'lfu-log-factor': ['0', '10', '100'],
  'lfu-decay-time': ['0', '1', '60'],
  'notify-keyspace-events': ['', 'KEA', 'Kx', 'xyz'],
  'list-max-ziplist-entries': ['128'],
  databases: ['16', '32'],
  'enable-debug-command': ['no'],
};

/** The RDB types Redis 7.2 added (rdb.h): 7.0 does not know them. */
const RDB_TYPE_SET_LISTPACK = 20;
const RDB_TYPE_STREAM_LISTPACKS_3 = 21;

export const CONSTRAINTS: Constraint[] = [
  { why: 'SHUTDOWN stops the server under test', rejects: (a) => commandName(a) === 'shutdown' },
  {
    why:
      'SCRIPT DEBUG: YES|SYNC turns on the Lua debugger for the connection, which Vireo does not have (it refuses), so the scripts after it would run under ldb on the reference only; ' +
      "and any form is refused while earlier replies of the pipeline wait to be written, which depends on when each server's socket took them (scripting.test.ts checks a pipeline)",
    rejects: (a) => commandName(a) === 'script|debug',
  },
  { why: 'MONITOR turns the fuzzing connection into a stream of other commands', rejects: (a) => commandName(a) === 'monitor' },
  { why: 'QUIT closes the fuzzing connection (the frame fuzzer sends QUIT and checks the close)', rejects: (a) => commandName(a) === 'quit' },
  {
    why: '(P|S)SUBSCRIBE and (P|S)UNSUBSCRIBE answer one confirmation per name (the harness pairs each command with one reply), and a RESP2 connection in Pub/Sub mode refuses most commands: test/pubsub.test.ts covers them',
    rejects: (a) => /^[ps]?(un)?subscribe$/.test(commandName(a)),
  },
  {
    why: "REPLICAOF/SLAVEOF <host> <port> makes the server follow a primary: what ROLE and INFO then say depends on the network's timing (a connect refused at once or a moment later), and a random port may be one of the servers under test. Only NO ONE is generated; test/replica*.test.ts cover the rest",
    rejects: (a) => ['replicaof', 'slaveof'].includes(commandName(a)) && !(a.length === 3 && /^no$/i.test(a[1]!) && /^one$/i.test(a[2]!)),
  },
  {
    why: 'MIGRATE connects to the host and port it names and, as in Redis, holds the whole server until the target answers or its timeout passes: a random host is a DNS lookup, a random port may be a server under test (a self-connection waits out the timeout). Never generated: test/migrate.test.ts checks its replies against redis-server',
    rejects: (a) => commandName(a) === 'migrate',
  },
  { why: 'SYNC/PSYNC turn the fuzzing connection into a replica (replies muted, the replication stream instead): test/replication-*.test.ts cover them', rejects: (a) => ['sync', 'psync'].includes(commandName(a)) },
  {
    why: 'REPLCONF ACK/GETACK are never answered (a replica sends them in its stream): the harness pairs each command with one reply',
    rejects: (a) => commandName(a) === 'replconf' && a.slice(1).some((x, i) => i % 2 === 0 && /^(ack|getack)$/i.test(x)),
  },
  {
    why: 'WAIT n>0 with no replica waits for its timeout: only 1-50 ms (or a refused value) is sent; 0 would wait forever',
    rejects(a) {
      if (commandName(a) !== 'wait' || a.length !== 3) return false;
      const n = asInteger(a[1]);
      const ms = asInteger(a[2]);
      return n !== null && n > 0n && ms !== null && ms >= 0n && (ms === 0n || ms > 50n);
    },
  },
  {
    why: "ACL SETUSER/DELUSER of the default user would change the fuzzing connection's own permissions or password (test/acl.test.ts covers them)",
    rejects: (a) => ['acl|setuser', 'acl|deluser'].includes(commandName(a)) && a.slice(2).includes('default'),
  },
  {
    why: "Redis 8.2's XACKDEL and XDELEX change data the 7.0 reference keeps (it refuses them): the datasets would diverge; test/streams*.test.ts cover them",
    rejects: (a) => ['xackdel', 'xdelex'].includes(commandName(a)),
  },
  {
    why: "CLUSTER's slot subcommands and HELP answer in standalone Vireo where the standalone 7.0 reference says cluster support is disabled (test/cluster-slots.test.ts compares them with a cluster-mode reference); MYSHARDID is 7.2's, SLOT-STATS Valkey's, VIREO Vireo's own. The topology subcommands stay fuzzed: both answer the same error",
    rejects: (a) =>
      ['cluster|keyslot', 'cluster|countkeysinslot', 'cluster|getkeysinslot', 'cluster|slot-stats', 'cluster|help', 'cluster|myshardid'].includes(commandName(a)) ||
      commandName(a).startsWith('vireo'),
  },
  {
    why: "Valkey 8's SCRIPT SHOW, which the 7.0 reference does not have (unknown subcommand): test/scripting.test.ts checks it against Valkey's eval.c",
    rejects: (a) => commandName(a) === 'script|show',
  },
  {
    why: "Valkey 8's CLIENT CAPA, which the 7.0 reference does not have (unknown subcommand): test/replica-redirect.test.ts checks it as Valkey's replica-redirect.tcl does",
    rejects: (a) => commandName(a) === 'client|capa',
  },
  {
    why: 'CLIENT REPLY OFF|SKIP mutes replies: the harness pairs each command with one reply',
    rejects: (a) => commandName(a) === 'client|reply' && a.length === 3 && /^(off|skip)$/i.test(a[2]!),
  },
  { why: 'CLIENT KILL may only target connections that do not exist (never the canary or the fuzzer)', rejects: (a) => commandName(a) === 'client|kill' && !killsNobody(a) },
  {
    why: 'CLIENT TRACKING ... REDIRECT id: client IDs differ between the servers (an ID one has may not exist on the other)',
    rejects: (a) => commandName(a) === 'client|tracking' && upper(a).includes('REDIRECT'),
  },
  {
    why: 'CLIENT TRACKING ... PREFIX a PREFIX b PREFIX bc: when a later PREFIX overlaps another, Redis replies the error and +OK (two replies; Vireo only the error, see KNOWN_DIFFERENCES)',
    rejects: (a) => commandName(a) === 'client|tracking' && laterPrefixesOverlap(a),
  },
  {
    why: 'XREAD/XREADGROUP BLOCK ms on an empty stream waits for its timeout: only 1-50 ms (or a refused value) is sent; 0 would wait forever',
    rejects(a) {
      if (!['xread', 'xreadgroup'].includes(commandName(a))) return false;
      const ms = asInteger(after(a, 'BLOCK'));
      return ms !== null && ms >= 0n && (ms === 0n || ms > 50n);
    },
  },
  {
    why: 'CLIENT PAUSE longer than a moment would delay the canary past its bound (pauses of at most 20 ms)',
    rejects: (a) => commandName(a) === 'client|pause' && (asNumber(a[2]) ?? 0) > 20,
  },
  {
    why: 'WAITAOF with a timeout of 0 or more than 50 ms blocks for want of replicas',
    rejects: (a) => commandName(a) === 'waitaof' && asNumber(a[3]) !== null && (asNumber(a[3]) === 0 || asNumber(a[3])! > 50),
  },
  {
    why: 'A blocking pop that would wait (BLPOP k 0 on an empty key) stalls the one fuzzing connection: only timeouts both servers refuse at once (not a number, clearly negative, past 2^63 ms) or of at most 50 ms are generated; hexadecimal ones and the band where 7.0 wraps its deadline and blocks (1e15 s to 2^63 ms) are not',
    rejects(a) {
      const t = blockingTimeout(a);
      return t !== undefined && !refusedOrQuick(t);
    },
  },
  {
    why: 'an expiry that fires during the episode would make the two servers race (TTLs are either already past or at least 200 s ahead)',
    rejects(a) {
      const d = expiryDelayMs(a);
      return d !== null && d > 0 && d < 200000;
    },
  },
  {
    why: 'SET ... EXAT/PXAT with a time already past stores a key that is already expired: it goes at the next active-expire cycle or access, whose timing differs between the two servers (DBSIZE would race)',
    rejects(a) {
      if (commandName(a) !== 'set') return false;
      const d = expiryDelayMs(a);
      return d !== null && d <= 0 && upper(a).some((x) => x === 'EXAT' || x === 'PXAT');
    },
  },
  {
    why: 'CONFIG SET only of parameters that keep the run going (not port, bind, dir, maxmemory, requirepass, save, appendonly, timeout, maxclients, proto-max-bulk-len: raising it lets SETRANGE allocate without bound in both servers; sanitize-dump-payload: with "no" Redis trusts the mutated RESTORE payloads the fuzzer sends and may crash)',
    rejects(a) {
      if (commandName(a) !== 'config|set') return false;
      for (let i = 2; i < a.length; i += 2) if (!(a[i]!.toLowerCase() in CONFIG_PARAMS)) return true;
      return false;
    },
  },
  {
    why: 'strings of 16 MB to 512 MB (SETRANGE) are legal but cost both servers a zero-filled allocation per command (Redis stalls seconds at 2^29); the fuzzer stays below',
    rejects(a) {
      if (commandName(a) !== 'setrange') return false;
      const offset = asInteger(a[2]);
      if (offset === null) return false;
      const end = offset + BigInt((a[3] ?? '').length);
      return end > 1n << 24n && end <= 536870912n && (a[3] ?? '') !== '';
    },
  },
  {
    why: 'bitmaps of 16 MB to 512 MB (SETBIT, BITFIELD SET/INCRBY at a far offset) are legal but cost both servers a zero-filled allocation per command, as SETRANGE does; the fuzzer stays below',
    rejects(a) {
      const name = commandName(a);
      if (name === 'setbit') return farBit(a[2]);
      if (name !== 'bitfield') return false;
      return a.some((x, i) => /^(set|incrby)$/i.test(x) && farBit(a[i + 2], a[i + 1]));
    },
  },
  {
    why: 'a negative count asks for |count| random members with repetitions, which Redis streams too: beyond 5000 it is gigabytes, except at the counts Redis refuses with a range error',
    rejects(a) {
      if (!isRandomMember(commandName(a))) return false;
      const n = asInteger(a[2]);
      return n !== null && n < -5000n && !rangeErrorCount(a);
    },
  },
  {
    why: 'LPOS RANK/COUNT/MAXLEN and SORT LIMIT are bounded by the list; nothing to constrain. DEBUG POPULATE of more than 5000 keys only costs time',
    rejects: (a) => commandName(a) === 'debug|populate' && (asNumber(a[2]) ?? 0) > 5000,
  },
  {
    why: 'DEBUG SLEEP of more than 50 ms stops the canary (both servers sleep by design); DEBUG RELOAD/SAVE are cheap on the small dataset',
    rejects: (a) => commandName(a) === 'debug|sleep' && (asNumber(a[2]) ?? 0) > 0.05,
  },
  {
    why: 'PFSELFTEST adds 10 million elements to two HLLs by design (0.4 s in redis-server, about 1.5 s in Vireo), stopping the canary as DEBUG SLEEP does; test/hyperloglog.test.ts runs it',
    rejects: (a) => commandName(a) === 'pfselftest',
  },
  {
    why: 'CONFIG SET of several parameters with set-max-listpack-entries/value among them: 7.0 does not know those and refuses the whole command, 7.2 sets them all',
    rejects: (a) => commandName(a) === 'config|set' && a.length > 4 && a.slice(2).some((x, i) => i % 2 === 0 && /^set-max-listpack-/i.test(x)),
  },
  {
    why: "RESTORE of a payload whose type byte is RDB type 20 (set listpack) or 21 (stream with 7.2's consumer fields): 7.0's rdbIsObjectType() stops at 19 and refuses them as 'Bad data format' before reading anything, 7.2 loads them. The mutator makes them from 7.0's hash (16) and stream (19) payloads with one bit flipped (seed 60127642); Vireo's 7.2 rules for type 20 are tested in dump-restore.test.ts",
    rejects: (a) => commandName(a) === 'restore' && [RDB_TYPE_SET_LISTPACK, RDB_TYPE_STREAM_LISTPACKS_3].includes((a[3] ?? '').charCodeAt(0)),
  },
  {
    why: 'CLIENT NO-TOUCH ON (7.2) stops Vireo touching keys on reads while the 7.0 reference, which does not know it, goes on: idle times would differ for the rest of the episode',
    rejects: (a) => commandName(a) === 'client|no-touch' && /^on$/i.test(a[2] ?? ''),
  },
  {
    why: "SORT ... BY <pattern> ALPHA STORE: Redis leaves elements with equal weights in qsort's (unstable) order, and STORE would keep that order in the key (the reply alone is normalized, see FUZZ_DIFFERENCES)",
    rejects: (a) =>
      commandName(a) === 'sort' && upper(a).includes('ALPHA') && upper(a).includes('STORE') && upper(a).some((x, i) => x === 'BY' && hasStar(a[i + 1] ?? '')),
  },
  {
    why: "XADD with the `*` ID takes each server's clock: the IDs, and everything read after them, would differ (explicit and `<ms>-*` IDs are generated instead)",
    rejects: (a) => commandName(a) === 'xadd' && a.slice(2).includes('*'),
  },
  {
    why: "Stream idle-time filters and the delivery times XCLAIM sets decide by milliseconds elapsed on each server: min-idle-time / XPENDING IDLE of 0 or at least 10^7 ms, XCLAIM IDLE of at most 0 or past now (it then means now), TIME far in the past or the future",
    rejects(a) {
      const name = commandName(a);
      const within = (v: string | undefined, lo: bigint, hi: bigint) => {
        const n = asInteger(v);
        return n !== null && n > lo && n < hi;
      };
      if ((name === 'xclaim' || name === 'xautoclaim') && within(a[4], 0n, 10_000_000n)) return true;
      if (name === 'xpending' && within(after(a, 'IDLE', 3), 0n, 10_000_000n)) return true;
      if (name !== 'xclaim') return false;
      const now = BigInt(Date.now());
      return within(after(a, 'IDLE', 5), 0n, now + 1_000_000n) || within(after(a, 'TIME', 5), 100_000_000_000n, now + 100_000_000n);
    },
  },
  {
    why: 'DEBUG LOADAOF loads the files of the last background rewrite, which BGREWRITEAOF starts or schedules by timing on each server (and redis-server 7.0 exits when there are none)',
    rejects: (a) => commandName(a) === 'debug|loadaof',
  },
  {
    why: 'DEBUG SEGFAULT/PANIC/RESTART/CRASH-AND-RECOVER/OOM/JMAP and friends stop the server by design',
    rejects: (a) => commandName(a) === 'debug' || /^debug\|(segfault|panic|restart|crash-and-recover|oom|assert|jmap|stringmatch-len|quicklist-packed-threshold|pause-cron|replybuffer|dict-resizing|mallctl|mallctl-str|change-repl-id|sdslen|listpack|quicklist|ziplist|object-freq|set-disable-deny-scripts|script|client-eviction|replicate|error|leak|set-skip-checksum-validation|aof-flush-sleep|stringmatch)$/.test(commandName(a)),
  },
];

/** How a reply is compared when it cannot be compared byte for byte. */
export interface FuzzDifference {
  why: string;
  applies(args: readonly string[]): boolean;
  normalize(reply: Reply, args: readonly string[]): Reply;
  /** Integer replies may differ by this much. */
  tolerance?: number;
  /** Normalized replies that differ but are both right. */
  accept?(redis: Reply, vireo: Reply): boolean;
}

/** ACL LOG without the entries of failed HELLO ... AUTH (reason auth, object hello). */
function withoutHelloAuthEntries(r: Reply): Reply {
  if (r.type !== 'array' || r.value === null) return r;
  const fieldOf = (e: Reply, name: string): string | null => {
    const items = e.type === 'map' ? e.value.flat() : e.type === 'array' && e.value !== null ? e.value : [];
    const i = items.findIndex((x, j) => j % 2 === 0 && x.type === 'bulk' && x.value === name);
    const v = items[i + 1];
    return i >= 0 && v !== undefined && v.type === 'bulk' ? v.value : null;
  };
  return { type: 'array', value: r.value.filter((e) => !(fieldOf(e, 'reason') === 'auth' && fieldOf(e, 'object')?.toLowerCase() === 'hello')) };
}

/** The reply's kind: errors keep their text, nil stays nil, everything else becomes its type. */
export function shapeOf(r: Reply): Reply {
  if (r.type === 'error') return r;
  if ((r.type === 'bulk' || r.type === 'array') && r.value === null) return { type: 'null' };
  if (r.type === 'null') return r;
  return { type: 'simple', value: `<${r.type}>` };
}

const CONSTANT: Reply = { type: 'simple', value: '<not compared>' };

const sortKey = (r: Reply) => JSON.stringify(r);

function sortedArray(items: Reply[]): Reply {
  return { type: 'array', value: [...items].sort((x, y) => (sortKey(x) < sortKey(y) ? -1 : sortKey(x) > sortKey(y) ? 1 : 0)) };
}

function itemsOf(r: Reply): Reply[] | null {
  return (r.type === 'array' || r.type === 'set') && r.value !== null ? r.value : null;
}

/** Group a flat [k, v, k, v] array (or RESP3 nested pairs) into pair arrays. */
function pairs(items: Reply[], flat: boolean): Reply[] {
  if (!flat) return items;
  const out: Reply[] = [];
  for (let i = 0; i + 1 < items.length; i += 2) out.push({ type: 'array', value: [items[i]!, items[i + 1]!] });
  return out;
}

/** A FUNCTION LIST library (RESP2 flat pairs or a RESP3 map) with its functions sorted. */
function sortLibraryFunctions(lib: Reply): Reply {
  const isFunctions = (k: Reply | undefined) => k !== undefined && k.type === 'bulk' && k.value === 'functions';
  const sorted = (v: Reply) => (itemsOf(v) === null ? v : sortedArray(itemsOf(v)!));
  if (lib.type === 'map') return { type: 'map', value: lib.value.map(([k, v]) => [k, isFunctions(k) ? sorted(v) : v] as [Reply, Reply]) };
  const items = itemsOf(lib);
  if (items === null) return lib;
  return { type: 'array', value: items.map((v, i) => (isFunctions(items[i - 1]) ? sorted(v) : v)) };
}

/** FUNCTION LIST: libraries and their functions in a fixed order. */
function sortedFunctionList(r: Reply): Reply {
  const items = itemsOf(r);
  return items === null ? r : sortedArray(items.map(sortLibraryFunctions));
}

/** Random members: the count of members, and the members themselves when the reply is the whole collection. */
function randomMembers(r: Reply, args: readonly string[]): Reply {
  const items = itemsOf(r);
  if (items === null) return shapeOf(r);
  const count = asInteger(args[2]);
  const u = upper(args);
  const withValues = u.includes('WITHVALUES') || u.includes('WITHSCORES');
  const nested = items.length > 0 && itemsOf(items[0]!) !== null;
  const grouped = withValues ? pairs(items, !nested) : items;
  const whole = count !== null && count > 0n && BigInt(grouped.length) < count;
  if (whole) return sortedArray(grouped);
  return { type: 'simple', value: `<${grouped.length} random members>` };
}

/** Commands and arguments Redis 7.2 (or 8.2: XACKDEL, XDELEX) added (the 7.0 reference refuses them; inside MULTI that aborts the whole transaction). */
export function isRedis72Only(a: readonly string[]): boolean {
  // ZRANK/ZREVRANK: 7.0 has arity 3; 7.2 takes an optional WITHSCORE (and a syntax error for anything else).
  // COMMAND GETKEYS/GETKEYSANDFLAGS: 7.0 has arity -4, 7.2 -3 (a command without arguments).
  return (
    named('waitaof', 'client|no-touch', 'client|setinfo', 'xackdel', 'xdelex')(a) ||
    (named('zrank', 'zrevrank')(a) && a.length > 3) ||
    (named('command|getkeys', 'command|getkeysandflags')(a) && a.length === 3)
  );
}

/** A bit offset (`#n`: n fields of `type`) past 2^27 bits (16 MB) but inside what proto-max-bulk-len allows. */
function farBit(offset: string | undefined, type?: string): boolean {
  const hash = type !== undefined && offset?.startsWith('#') === true;
  const n = asInteger(hash ? offset!.slice(1) : offset);
  const width = hash ? asInteger(type!.slice(1)) : 1n;
  if (n === null || width === null) return false;
  const bit = n * width;
  return bit > 1n << 27n && bit < 1n << 32n;
}

/** A SORT pattern has a star for Redis when strchr finds one: before any NUL byte. */
function hasStar(pattern: string): boolean {
  const nul = pattern.indexOf('\x00');
  return pattern.slice(0, nul < 0 ? pattern.length : nul).includes('*');
}

const named =
  (...names: string[]) =>
  (args: readonly string[]) =>
    names.includes(commandName(args));

const HELP = /\|help$/;

export const FUZZ_DIFFERENCES: FuzzDifference[] = [
  {
    why: 'Server state and time: INFO, CLIENT LIST/INFO, MEMORY, TIME, LASTSAVE, SLOWLOG and LATENCY (durations), DEBUG OBJECT/DIGEST (the digest mixes in absolute expire times), OBJECT FREQ (LFU counters grow at random), OBJECT REFCOUNT (Redis\' memory management: 2 while a queued MULTI command still holds the value), DUMP (7.0 writes its own encodings), COMMAND INFO/DOCS/COUNT/LIST (Vireo implements a subset of the 7.2 table), HELP texts: compared by reply kind and error text',
    applies: (a) =>
      named(
        'info', 'client|list', 'client|info', 'memory|usage', 'memory|stats', 'memory|doctor', 'memory|malloc-stats', 'time', 'lastsave',
        'debug|object', 'debug|digest', 'object|freq', 'object|refcount', 'dump', 'command', 'command|info', 'command|docs', 'command|count', 'command|list', 'debug|help',
        'slowlog|get', 'slowlog|len', 'latency|latest', 'latency|history', 'latency|histogram', 'latency|reset',
      )(a) || HELP.test(commandName(a)),
    normalize: shapeOf,
  },
  {
    why: "LOLWUT names each server's own version, and its pieces are drawn at random: compared by kind and error text (test/lolwut.test.ts compares the art itself)",
    applies: named('lolwut'),
    normalize: shapeOf,
  },
  {
    why: 'ACL GENPASS is random: compared by kind; ACL CAT <category> lists commands in hash order, and 7.2 has commands 7.0 lacks: compared by kind (test/acl.test.ts compares them as sets)',
    applies: (a) => commandName(a) === 'acl|genpass' || (commandName(a) === 'acl|cat' && a.length > 2),
    normalize: shapeOf,
  },
  {
    why: "FUNCTION LIST and FUNCTION DUMP give libraries, and each library's functions, in the order of Redis' dicts (hash order): LIST is compared sorted, DUMP by kind (its LZF choices may differ too)",
    applies: named('function|list', 'function|dump'),
    normalize: (r, a) => (commandName(a) === 'function|list' ? sortedFunctionList(r) : shapeOf(r)),
  },
  {
    why: "ROLE's replication offset: Redis counts master_repl_offset only once a backlog exists (a replica attached), Vireo's is its command log's offset, which every write advances (DESIGN.md §1): the offset is masked",
    applies: named('role'),
    normalize: (r) =>
      r.type === 'array' && r.value !== null && r.value.length === 3 && r.value[1]!.type === 'integer'
        ? { type: 'array', value: [r.value[0]!, { type: 'integer', value: '<offset>' }, r.value[2]!] }
        : r,
  },
  {
    why: 'CONFIG GET of a glob lists parameters 7.0 and 7.2 do not share (and dir, port...): compared by kind; exact names are compared exactly (sorted pairs, KNOWN_DIFFERENCES)',
    applies: (a) => commandName(a) === 'config|get' && a.slice(2).some((p) => /[*?[]/.test(p)),
    normalize: shapeOf,
  },
  {
    why: 'set-max-listpack-entries/value are Redis 7.2 parameters: 7.0 does not know them',
    applies: (a) => ['config|get', 'config|set'].includes(commandName(a)) && a.slice(2).some((p) => /^set-max-listpack-/i.test(p)),
    normalize: () => CONSTANT,
  },
  {
    why: 'Redis 7.2 additions the 7.0 reference answers with unknown command/subcommand or an arity error: WAITAOF, CLIENT NO-TOUCH, CLIENT SETINFO, ZRANK/ZREVRANK with a fourth argument (WITHSCORE), COMMAND GETKEYS/GETKEYSANDFLAGS of a command without arguments; and Redis 8.2\'s XACKDEL and XDELEX',
    applies: (a) => isRedis72Only(a),
    normalize: () => CONSTANT,
  },
  {
    why: 'Background jobs: BGSAVE and BGREWRITEAOF answer "started", "scheduled" or "already in progress" by timing, and SAVE, DEBUG RELOAD and FLUSHALL meet a running one by timing too',
    applies: named('bgsave', 'bgrewriteaof', 'save', 'debug|reload'),
    normalize: () => CONSTANT,
  },
  {
    why: 'HELLO ... AUTH with an invalid option or SETNAME name after it: Redis 7.2 checks every option before authenticating (redis/redis#11037, for module auth), 7.0 authenticates first and answers WRONGPASS',
    applies: (a) => named('hello')(a) && upper(a).includes('AUTH'),
    normalize: (r) => r,
    accept: (redis, vireo) =>
      redis.type === 'error' &&
      redis.value.startsWith('WRONGPASS') &&
      vireo.type === 'error' &&
      /^ERR (Client names cannot contain|Syntax error in HELLO option)/.test(vireo.value),
  },
  {
    why: "ACL LOG after such a HELLO ... AUTH: 7.0 logged the failed authentication that 7.2 never attempts; the entries of HELLO's failed authentications are left out of the comparison (acl.test.ts checks them against redis-server)",
    applies: (a) => commandName(a) === 'acl|log' && !(a.length > 2 && /^reset$/i.test(a[2]!)),
    normalize: withoutHelloAuthEntries,
  },
  {
    why: 'LPOS ... RANK -9223372036854775808: Redis 7.2 refuses it with its range error (redis/redis#12167), 7.0 answers as if the rank were valid',
    applies: (a) => named('lpos')(a) && asInteger(after(a, 'RANK', 3)) === -(1n << 63n),
    normalize: (r) => r,
    accept: (_redis, vireo) => vireo.type === 'error' && vireo.value.startsWith('ERR value is out of range'),
  },
  {
    why: "Stream replies carry times: consumers' seen/active times and idle times, delivery times (XINFO), idle times (XPENDING): masked (test/helpers/stream-mask.ts)",
    applies: named('xinfo|stream', 'xinfo|consumers', 'xpending'),
    normalize: (r, a) => maskTimes(r, [...a]),
  },
  {
    why: 'RANDOMKEY picks at random: compared by kind (nil on an empty db)',
    applies: named('randomkey'),
    normalize: shapeOf,
  },
  {
    why: 'SRANDMEMBER, HRANDFIELD, ZRANDMEMBER pick at random: compared by kind and count, and in full when the reply is the whole collection',
    applies: named('srandmember', 'hrandfield', 'zrandmember'),
    normalize: (r, a) => (a.length <= 2 ? shapeOf(r) : randomMembers(r, a)),
  },
  {
    why: 'SPOP picks at random: compared by kind and count (the harness then makes Vireo\'s set equal to the reference\'s)',
    applies: named('spop'),
    normalize: (r, a) => (a.length <= 2 ? shapeOf(r) : randomMembers(r, a)),
  },
  {
    why: 'SCAN cursors encode each implementation\'s table layout, and COUNT is a hint: a page may hold more or fewer elements. Compared in full (sorted) when both scans started at 0 and finished in one call, otherwise as pages',
    applies: named('scan', 'sscan', 'hscan', 'zscan'),
    normalize(r, args) {
      const items = itemsOf(r);
      if (items === null || items.length !== 2) return shapeOf(r);
      const cursor = items[0]!;
      const from = commandName(args) === 'scan' ? args[1] : args[2];
      if (from === '0' && cursor.type === 'bulk' && cursor.value === '0') return { type: 'array', value: [cursor, sortedArray(itemsOf(items[1]!) ?? [])] };
      return { type: 'simple', value: '<scan page>' };
    },
    accept: (a, b) => [a, b].some((r) => r.type === 'simple' && r.value === '<scan page>') && a.type !== 'error' && b.type !== 'error',
  },
  {
    why: 'SORT ... BY <pattern without *> skips sorting: a set comes back in its table order (sorted before comparing; with LIMIT only the count)',
    applies: (a) => named('sort', 'sort_ro')(a) && upper(a).some((x, i) => x === 'BY' && a[i + 1] !== undefined && !hasStar(a[i + 1]!)) && !upper(a).includes('STORE'),
    normalize(r, a) {
      const items = itemsOf(r);
      if (items === null) return r;
      return upper(a).includes('LIMIT') ? { type: 'simple', value: `<${items.length} unsorted>` } : sortedArray(items);
    },
  },
  {
    why: 'SORT ... BY <pattern> ALPHA: Redis compares equal (or missing) weights as 0 and leaves their order to qsort, which is not stable; compared as sorted groups of (element, GET values), with LIMIT only by count',
    applies: (a) => named('sort', 'sort_ro')(a) && upper(a).includes('ALPHA') && upper(a).some((x, i) => x === 'BY' && hasStar(a[i + 1] ?? '')) && !upper(a).includes('STORE'),
    normalize(r, a) {
      const items = itemsOf(r);
      if (items === null) return r;
      if (upper(a).includes('LIMIT')) return { type: 'simple', value: `<${items.length} sorted by tied weights>` };
      const group = Math.max(1, upper(a).filter((x) => x === 'GET').length);
      const groups: Reply[] = [];
      for (let i = 0; i < items.length; i += group) groups.push({ type: 'array', value: items.slice(i, i + group) });
      return sortedArray(groups);
    },
  },
  {
    why: 'OBJECT IDLETIME counts seconds on each server\'s own clock (Redis\' LRU clock has a 1 s resolution): equal within 2 s',
    applies: named('object|idletime'),
    normalize: (r) => r,
    tolerance: 2,
  },
  {
    why: 'Remaining and absolute times set from a relative TTL depend on when each server ran the command: pipelined batches under the fuzzer\'s load reach the two servers up to a few hundred ms apart (KNOWN_DIFFERENCES allows 50 ms)',
    applies: named('pttl', 'pexpiretime'),
    normalize: (r) => r,
    tolerance: 1500,
  },
  {
    why: 'The same for the second-resolution forms',
    applies: named('ttl', 'expiretime'),
    normalize: (r) => r,
    tolerance: 2,
  },
  {
    why: 'SMEMBERS-like replies of RESP3 come as sets whose order is the table\'s',
    applies: named('sinter', 'sunion', 'sdiff', 'smembers', 'hkeys', 'hvals'),
    normalize: (r) => (r.type === 'set' ? sortedArray(r.value) : r),
  },
];

/**
 * Differences the harness settles by asking the reference once more, on a
 * side connection in the same database, when a reply differs. Either the
 * reference's reply to compare instead, or true to accept Vireo's.
 */
export interface ReferenceRecheck {
  why: string;
  applies(args: readonly string[], redis: Reply): boolean;
  commands(args: readonly string[]): string[][];
  verdict(results: Reply[], redis: Reply, vireo: Reply): Reply | boolean;
  /** Which server the commands go to (default: the reference). */
  side?: 'redis' | 'vireo';
}

export const RECHECKS: ReferenceRecheck[] = [
  {
    // Redis 7.0 mixes a sorted set's scores into the digest as %.17g text, 7.2 as its shortest (fpconv) text,
    // and the two differ for many scores (1.8446744073709552e+19 / 18446744073709552000). Sorted sets are
    // compared member by member through ZRANGE ... WITHSCORES anyway.
    why: 'DEBUG DIGEST-VALUE of a sorted set: 7.0 digests scores written with %.17g, 7.2 with the shortest form',
    applies: (args, redis) => named('debug|digest-value')(args) && redis.type === 'array',
    commands: (args) => args.slice(2).map((k) => ['TYPE', k]),
    verdict(types, redis, vireo) {
      const [a, b] = [itemsOf(redis), itemsOf(vireo)];
      if (a === null || b === null || a.length !== b.length) return false;
      return a.every((x, i) => JSON.stringify(x) === JSON.stringify(b[i]) || (types[i]?.type === 'simple' && types[i].value === 'zset'));
    },
  },
  {
    // Redis' numeric SORT tests errno == ERANGE after strtod() without clearing errno first: after any command
    // that left ERANGE behind (a score bound such as 1e-400 that strtod underflows), the next SORT of plain
    // numbers fails. A ZADD XX of a missing key parses a score through getDoubleFromObject (errno = 0) and
    // changes nothing; then the SORT runs again.
    why: "redis-server's SORT reads a stale errno ('One or more scores can't be converted into double' after an earlier strtod underflow): run again after clearing it",
    applies: (args, redis) => named('sort', 'sort_ro')(args) && redis.type === 'error' && redis.value === "ERR One or more scores can't be converted into double",
    commands: (args) => [['ZADD', 'fuzz:errno-reset', 'XX', '1', 'm'], [...args]],
    verdict: (results) => results[1]!,
  },
  {
    // With maxmemory-policy noeviction Redis stores 0..9999 as shared objects (OBJECT REFCOUNT 2147483647):
    // one access clock for every key holding that number, set at start-up and by any of them.
    why: 'OBJECT IDLETIME of a key holding a small integer: Redis answers the idle time of its shared integer object, touched by every key with that value',
    applies: (args, redis) => named('object|idletime')(args) && redis.type === 'integer',
    commands: (args) => [['OBJECT', 'REFCOUNT', args[2] ?? '']],
    verdict: (results) => results[0]!.type === 'integer' && results[0]!.value === '2147483647',
  },
  {
    // Found by the fuzzer, for the owner of src/commands/keys.ts and src/engine/access.ts: Redis' COPY duplicates a
    // shared integer into an object of its own (dupStringObject: OBJECT REFCOUNT 1, its own access clock), Vireo's
    // copy stays shared (REFCOUNT 2147483647), so the copy's idle time (and the shared clock) differ afterwards.
    why: "reported (src/commands/keys.ts, src/engine/access.ts): COPY of a key holding 0..9999 makes a private object in Redis (REFCOUNT 1, own access clock); Vireo's copy stays shared",
    applies: (args, redis) => named('object|idletime')(args) && redis.type === 'integer',
    commands: (args) => [['OBJECT', 'REFCOUNT', args[2] ?? '']],
    verdict: (results) => results[0]!.type === 'integer' && results[0]!.value === '2147483647',
    side: 'vireo',
  },
];
