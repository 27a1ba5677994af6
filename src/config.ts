/**
 * Every configuration parameter: name, aliases, type, default, whether
 * CONFIG SET may change it, and how it is validated and printed. Values are
 * parsed and printed as Redis 7.2 does (yes/no, memory units, enums, the
 * special formats of save, bind, client-output-buffer-limit, ...), so
 * redis.conf files, CONFIG GET/SET and CONFIG REWRITE behave alike.
 *
 * Components that care about a value subscribe with onChange(); hot paths
 * keep their own copy rather than reading the table per command.
 */

import { globMatch } from './util/glob.js';

export type ConfigValue = string | number | boolean;

type Kind = 'bool' | 'int' | 'memory' | 'string' | 'enum' | 'special';

export interface ParamDef {
  name: string;
  aliases: string[];
  kind: Kind;
  default: string;
  /** CONFIG SET can change it. */
  mutable: boolean;
  /** Only with enable-protected-configs. */
  protected: boolean;
  /** Not shown by CONFIG GET * (Redis' HIDDEN_CONFIG). */
  hidden: boolean;
  /** Redis accepts it but Vireo has nothing it changes (listed in the README). */
  inert: boolean;
  /** Bounds of int and memory parameters, exact (Redis' are C longs, some unsigned long longs). */
  min: bigint;
  max: bigint;
  enumValues: string[];
  /** For enums whose values combine (e.g. none of these yet). */
  parse?: (value: string) => ConfigValue | string | Error;
  format?: (value: ConfigValue) => string;
  /** Combine a newly set value with the current one (client-output-buffer-limit sets one class at a time). */
  merge?: (current: ConfigValue, next: ConfigValue) => ConfigValue;
}

export class ConfigError extends Error {}

/** What puts back the values a setMany changed (CONFIG SET whose listener rebinding failed later). */
export class ConfigUndo {
  constructor(readonly run: () => void) {}
}

interface DefOpts {
  /** See ParamDef.merge. */
  merge?: ParamDef['merge'];
  immutable?: boolean;
  protected?: boolean;
  hidden?: boolean;
  inert?: boolean;
  aliases?: string[];
}

const defs: ParamDef[] = [];

function def(name: string, kind: Kind, dflt: string, opts: DefOpts & Partial<ParamDef> = {}): void {
  defs.push({
    name,
    aliases: opts.aliases ?? [],
    kind,
    default: dflt,
    mutable: !opts.immutable,
    protected: opts.protected ?? false,
    hidden: opts.hidden ?? false,
    inert: opts.inert ?? false,
    min: opts.min ?? 0n,
    max: opts.max ?? LONG_MAX,
    enumValues: opts.enumValues ?? [],
    ...(opts.parse ? { parse: opts.parse } : {}),
    ...(opts.format ? { format: opts.format } : {}),
    ...(opts.merge ? { merge: opts.merge } : {}),
  });
}
const bool = (n: string, d: 'yes' | 'no', o: DefOpts = {}) => def(n, 'bool', d, o);
const int = (n: string, d: number, min: number | bigint, max: number | bigint, o: DefOpts = {}) =>
  def(n, 'int', String(d), { ...o, min: BigInt(min), max: BigInt(max) });
const mem = (n: string, d: number, min: number | bigint, max: number | bigint, o: DefOpts = {}) =>
  def(n, 'memory', String(d), { ...o, min: BigInt(min), max: BigInt(max) });
const str = (n: string, d: string, o: DefOpts & Pick<Partial<ParamDef>, 'parse'> = {}) => def(n, 'string', d, o);
const enumOf = (n: string, d: string, values: string[], o: DefOpts & Pick<Partial<ParamDef>, 'parse'> = {}) =>
  def(n, 'enum', d, { ...o, enumValues: values });
const special = (n: string, d: string, parse: ParamDef['parse'], format: ParamDef['format'], o: DefOpts = {}) =>
  def(n, 'special', d, { ...o, ...(parse ? { parse } : {}), ...(format ? { format } : {}) });

const LONG_MAX = 2n ** 63n - 1n;
const LONG_MIN = -(2n ** 63n);
/** The bound of Redis' unsigned long long parameters (maxmemory, cluster-link-sendbuf-limit). */
const ULLONG_MAX = 2n ** 64n - 1n;
const INT_MAX = 2147483647;
const UINT_MAX = 4294967295;
const INT_MIN = -2147483648;
const inert: DefOpts = { inert: true };

// ---- network and clients ------------------------------------------------
int('port', 6379, 0, 65535);
// Like the redis.conf Redis ships (not its compiled-in '* -::*'): loopback only.
special('bind', '127.0.0.1 -::1', parseBind, undefined);
str('bind-source-addr', '', inert);
bool('protected-mode', 'yes');
int('tcp-backlog', 511, 0, INT_MAX, { immutable: true });
int('tcp-keepalive', 300, 0, INT_MAX);
int('timeout', 0, 0, INT_MAX);
str('unixsocket', '', { immutable: true });
special('unixsocketperm', '0', parseOctal, (v) => Number(v).toString(8), { immutable: true });
int('maxclients', 10000, 1, UINT_MAX);
mem('client-query-buffer-limit', 1024 * 1024 * 1024, 1024 * 1024, LONG_MAX);
mem('proto-max-bulk-len', 512 * 1024 * 1024, 1024 * 1024, LONG_MAX);
special('client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60', parseClientOutputBufferLimit, undefined, {
  merge: (current, next) => (next === '' ? current : (parseClientOutputBufferLimit(`${current} ${next}`) as string)),
});
int('socket-mark-id', 0, 0, 4294967295, { immutable: true, inert: true });
int('max-new-connections-per-cycle', 10, 1, 1000, { hidden: true, inert: true });

// ---- general ------------------------------------------------------------
bool('daemonize', 'no', { immutable: true, inert: true });
enumOf('supervised', 'no', ['upstart', 'systemd', 'auto', 'no'], { immutable: true, inert: true });
str('pidfile', '', { immutable: true });
enumOf('loglevel', 'notice', ['debug', 'verbose', 'notice', 'warning', 'nothing']);
str('logfile', '', { immutable: true });
bool('syslog-enabled', 'no', { immutable: true, inert: true });
str('syslog-ident', 'redis', { immutable: true, inert: true });
enumOf('syslog-facility', 'local0', ['user', 'local0', 'local1', 'local2', 'local3', 'local4', 'local5', 'local6', 'local7'], { immutable: true, inert: true });
int('databases', 16, 1, INT_MAX, { immutable: true });
bool('always-show-logo', 'no', { immutable: true, inert: true });
bool('set-proc-title', 'yes', { immutable: true, inert: true });
str('proc-title-template', '{title} {listen-addr} {server-mode}', { ...inert, parse: parseProcTitleTemplate });
str('locale-collate', '', inert);
// Accepted out of range and capped, as Redis' updateHZ does (CONFIG GET shows the capped value).
int('hz', 10, 0, INT_MAX, { merge: (_current, next) => Math.min(500, Math.max(1, next as number)) });
bool('dynamic-hz', 'yes', inert);
int('io-threads', 1, 1, 128, { immutable: true });
bool('io-threads-do-reads', 'no', { immutable: true, inert: true });
// Valkey 8's: keys of up to this many pipelined commands are prefetched together (0 or 1: off).
int('prefetch-batch-max-size', 16, 0, 128);
str('ignore-warnings', '', inert);
str('server_cpulist', '', { immutable: true, inert: true });
str('bio_cpulist', '', { immutable: true, inert: true });
str('aof_rewrite_cpulist', '', { immutable: true, inert: true });
str('bgsave_cpulist', '', { immutable: true, inert: true });
bool('disable-thp', 'yes', { immutable: true, inert: true });
bool('jemalloc-bg-thread', 'yes', inert);
bool('crash-log-enabled', 'yes', inert);
bool('crash-memcheck-enabled', 'yes', inert);
enumOf('oom-score-adj', 'no', ['no', 'yes', 'relative', 'absolute'], inert);
special('oom-score-adj-values', '0 200 800', parseOomValues, undefined, inert);
enumOf('enable-protected-configs', 'no', ['no', 'yes', 'local'], { immutable: true });
enumOf('enable-debug-command', 'no', ['no', 'yes', 'local'], { immutable: true });
enumOf('enable-module-command', 'no', ['no', 'yes', 'local'], { immutable: true });
enumOf('shutdown-on-sigint', 'default', ['default', 'save', 'nosave', 'now', 'force'], { parse: parseShutdownFlags });
enumOf('shutdown-on-sigterm', 'default', ['default', 'save', 'nosave', 'now', 'force'], { parse: parseShutdownFlags });
int('shutdown-timeout', 10, 0, INT_MAX);

// ---- security -----------------------------------------------------------
str('requirepass', '');
str('aclfile', '', { immutable: true });
int('acllog-max-len', 128, 0, LONG_MAX);
enumOf('acl-pubsub-default', 'resetchannels', ['allchannels', 'resetchannels']);
// Vireo's brute-force brake: refused AUTH attempts per second per address before the replies are delayed (0: off).
int('auth-brake-threshold', 0, 0, INT_MAX);
int('auth-brake-ms', 1000, 1, 60000);

// ---- snapshotting ---------------------------------------------------------
special('save', '3600 1 300 100 60 10000', parseSave, undefined);
bool('stop-writes-on-bgsave-error', 'yes');
bool('rdbcompression', 'yes');
bool('rdbchecksum', 'yes', { immutable: true });
str('dbfilename', 'dump.rdb', { protected: true, parse: parseBaseName });
bool('rdb-del-sync-files', 'no');
special('dir', '', undefined, () => process.cwd(), { protected: true });
bool('rdb-save-incremental-fsync', 'yes');
enumOf('sanitize-dump-payload', 'no', ['no', 'yes', 'clients']);

// ---- append only ----------------------------------------------------------
bool('appendonly', 'no');
str('appendfilename', 'appendonly.aof', { immutable: true });
str('appenddirname', 'appendonlydir', { immutable: true });
// In Redis' order (its error lists the choices so).
enumOf('appendfsync', 'everysec', ['everysec', 'always', 'no']);
bool('no-appendfsync-on-rewrite', 'no');
int('auto-aof-rewrite-percentage', 100, 0, INT_MAX);
mem('auto-aof-rewrite-min-size', 64 * 1024 * 1024, 0, LONG_MAX);
bool('aof-load-truncated', 'yes');
bool('aof-use-rdb-preamble', 'yes');
bool('aof-timestamp-enabled', 'no');
bool('aof-rewrite-incremental-fsync', 'yes', inert);
bool('aof-disable-auto-gc', 'no');
// Vireo: point-in-time recovery archive of retired AOF files (persistence/archive.ts).
bool('aof-archive', 'no');
// Vireo: under appendfsync always, write the AOF into a preallocated tail (persistence/aof/preallocation.ts).
bool('aof-preallocate', 'yes');
str('aof-archive-dir', 'appendonlydir-archive', { immutable: true });
int('aof-archive-retention', 7 * 24 * 3600, 0, INT_MAX);

// ---- replication -----------------------------------------------------------
special('replicaof', '', parseReplicaOf, undefined, { aliases: ['slaveof'], immutable: true });
str('masterauth', '');
str('masteruser', '');
bool('replica-serve-stale-data', 'yes', { aliases: ['slave-serve-stale-data'] });
bool('replica-read-only', 'yes', { aliases: ['slave-read-only'] });
bool('repl-diskless-sync', 'yes');
int('repl-diskless-sync-delay', 5, 0, INT_MAX);
int('repl-diskless-sync-max-replicas', 0, 0, INT_MAX);
enumOf('repl-diskless-load', 'disabled', ['disabled', 'on-empty-db', 'swapdb']);
int('repl-ping-replica-period', 10, 1, INT_MAX, { aliases: ['repl-ping-slave-period'] });
int('repl-timeout', 60, 1, INT_MAX);
bool('repl-disable-tcp-nodelay', 'no');
// Redis' resizeReplicationBacklog raises a smaller size to 16 KB (CONFIG GET shows 16384).
mem('repl-backlog-size', 1024 * 1024, 1, LONG_MAX, { merge: (_current, next) => Math.max(next as number, 16 * 1024) });
int('repl-backlog-ttl', 3600, 0, LONG_MAX);
int('replica-priority', 100, 0, INT_MAX, { aliases: ['slave-priority'] });
bool('replica-announced', 'yes');
str('replica-announce-ip', '', { aliases: ['slave-announce-ip'] });
int('replica-announce-port', 0, 0, 65535, { aliases: ['slave-announce-port'] });
int('min-replicas-to-write', 0, 0, INT_MAX, { aliases: ['min-slaves-to-write'] });
int('min-replicas-max-lag', 10, 0, INT_MAX, { aliases: ['min-slaves-max-lag'] });
// Vireo: a write's reply waits until this many replicas acknowledged it (0: off, Redis' asynchronous replication).
int('sync-replicas', 0, 0, INT_MAX);
// Vireo: bytes each Lua state (EVAL's, the functions') may allocate; past it a script fails with "not enough memory" (0: no limit).
mem('lua-memory-limit', 1024 * 1024 * 1024, 0, LONG_MAX);
// Vireo: the durable change feed (src/server/changefeed.ts): keyspace events appended to this stream key ('' off).
str('changefeed-key', '');
int('changefeed-db', 0, 0, INT_MAX);
int('changefeed-maxlen', 1_000_000, 1, LONG_MAX);
str('changefeed-events', 'g$lshzxetd', { parse: parseFeedClasses });
// Vireo: the log's line format: Redis' human lines, or JSON lines for log shippers (src/logger.ts).
enumOf('log-format', 'redis', ['redis', 'json'], { immutable: true });
bool('replica-lazy-flush', 'no', { aliases: ['slave-lazy-flush'] });
bool('replica-ignore-maxmemory', 'yes', { aliases: ['slave-ignore-maxmemory'] });
bool('replica-ignore-disk-write-errors', 'no');
enumOf('propagation-error-behavior', 'ignore', ['ignore', 'panic', 'panic-on-replicas']);

// ---- memory -----------------------------------------------------------------
mem('maxmemory', 0, 0, ULLONG_MAX);
enumOf('maxmemory-policy', 'noeviction', ['volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'noeviction']);
int('maxmemory-samples', 5, 1, 64);
int('maxmemory-eviction-tenacity', 10, 0, 100);
// Vireo: keys eviction never takes, by type ("stream list") and by glob pattern ("bull:* queue:*"): queues must not lose keys.
str('eviction-protect-types', '', { parse: parseProtectTypes });
str('eviction-protect-keys', '');
special('maxmemory-clients', '0', parseMemoryOrPercent, undefined);
bool('lazyfree-lazy-eviction', 'no', inert);
bool('lazyfree-lazy-expire', 'no');
bool('lazyfree-lazy-server-del', 'no', inert);
bool('lazyfree-lazy-user-del', 'no', inert);
bool('lazyfree-lazy-user-flush', 'no');
int('lfu-log-factor', 10, 0, INT_MAX);
int('lfu-decay-time', 1, 0, INT_MAX);
bool('activerehashing', 'yes', inert);
bool('activedefrag', 'no', inert);
mem('active-defrag-ignore-bytes', 100 * 1024 * 1024, 1, LONG_MAX, inert);
int('active-defrag-threshold-lower', 10, 0, 1000, inert);
int('active-defrag-threshold-upper', 100, 0, 1000, inert);
int('active-defrag-cycle-min', 1, 1, 99, inert);
int('active-defrag-cycle-max', 25, 1, 99, inert);
int('active-defrag-max-scan-fields', 1000, 1, LONG_MAX, inert);
int('active-expire-effort', 1, 1, 10);

// ---- data structures ----------------------------------------------------------
int('hash-max-listpack-entries', 512, 0, LONG_MAX, { aliases: ['hash-max-ziplist-entries'] });
mem('hash-max-listpack-value', 64, 0, LONG_MAX, { aliases: ['hash-max-ziplist-value'] });
int('list-max-listpack-size', -2, INT_MIN, INT_MAX, { aliases: ['list-max-ziplist-size'] });
int('list-compress-depth', 0, 0, INT_MAX);
int('set-max-intset-entries', 512, 0, LONG_MAX);
int('set-max-listpack-entries', 128, 0, LONG_MAX);
mem('set-max-listpack-value', 64, 0, LONG_MAX);
int('zset-max-listpack-entries', 128, 0, LONG_MAX, { aliases: ['zset-max-ziplist-entries'] });
mem('zset-max-listpack-value', 64, 0, LONG_MAX, { aliases: ['zset-max-ziplist-value'] });
mem('hll-sparse-max-bytes', 3000, 0, LONG_MAX);
mem('stream-node-max-bytes', 4096, 0, LONG_MAX);
int('stream-node-max-entries', 100, 0, LONG_MAX);

// ---- monitoring ------------------------------------------------------------------
int('slowlog-log-slower-than', 10000, -1, LONG_MAX);
int('slowlog-max-len', 128, 0, LONG_MAX);
int('latency-monitor-threshold', 0, 0, LONG_MAX);
bool('latency-tracking', 'yes');
special('latency-tracking-info-percentiles', '50 99 99.9', parsePercentiles, undefined);
special('notify-keyspace-events', '', parseNotify, showNotifyFlags);
int('busy-reply-threshold', 5000, 0, LONG_MAX, { aliases: ['lua-time-limit'] });
int('tracking-table-max-keys', 1000000, 0, LONG_MAX);
// Vireo: the Prometheus endpoint (server/prometheus.ts): GET /metrics on this port (0: off), on prometheus-bind ('': the first bind address).
int('prometheus-port', 0, 0, 65535, { immutable: true });
str('prometheus-bind', '', { immutable: true });

// ---- debugging: Redis' HIDDEN_CONFIG parameters, shown by CONFIG GET of the exact name only ----
int('key-load-delay', 0, INT_MIN, INT_MAX, { hidden: true, inert: true });
int('rdb-key-save-delay', 0, INT_MIN, INT_MAX, { hidden: true, inert: true });
int('loading-process-events-interval-bytes', 2 * 1024 * 1024, 1024, INT_MAX, { hidden: true, inert: true });
int('watchdog-period', 0, 0, INT_MAX, { hidden: true, inert: true });
bool('use-exit-on-panic', 'no', { hidden: true, inert: true });

// ---- cluster (accepted so redis.conf files load; cluster mode is not implemented) ----
bool('cluster-enabled', 'no', { immutable: true });
str('cluster-config-file', 'nodes.conf', { immutable: true, inert: true });
int('cluster-node-timeout', 15000, 0, LONG_MAX, inert);
int('cluster-port', 0, 0, 65535, { immutable: true, inert: true });
int('cluster-replica-validity-factor', 10, 0, INT_MAX, { aliases: ['cluster-slave-validity-factor'], inert: true });
int('cluster-migration-barrier', 1, 0, INT_MAX, inert);
bool('cluster-allow-replica-migration', 'yes', inert);
bool('cluster-require-full-coverage', 'yes', inert);
bool('cluster-replica-no-failover', 'no', { aliases: ['cluster-slave-no-failover'], inert: true });
bool('cluster-allow-reads-when-down', 'no', inert);
bool('cluster-allow-pubsubshard-when-down', 'yes', inert);
// Valkey 8: CLUSTER SLOT-STATS' cpu-usec and network-bytes-in/out per slot (src/diagnostics/slot-stats.ts), kept without cluster mode.
bool('cluster-slot-stats-enabled', 'no');
// Vireo: VIREO HOTKEYS counts the keys of one command in this many (src/diagnostics/hot-keys.ts; 0: off).
int('vireo-hotkeys-sample-rate', 0, 0, INT_MAX);
str('cluster-announce-ip', '', inert);
str('cluster-announce-hostname', '', { ...inert, parse: parseHostname });
str('cluster-announce-human-nodename', '', inert);
int('cluster-announce-port', 0, 0, 65535, inert);
int('cluster-announce-bus-port', 0, 0, 65535, inert);
int('cluster-announce-tls-port', 0, 0, 65535, inert);
enumOf('cluster-preferred-endpoint-type', 'ip', ['ip', 'hostname', 'unknown-endpoint'], inert);
mem('cluster-link-sendbuf-limit', 0, 0, ULLONG_MAX, inert);

// ---- TLS (src/tls.ts, server/listeners.ts; tls-cluster has no cluster to apply to) ----
int('tls-port', 0, 0, 65535);
for (const n of ['tls-cert-file', 'tls-key-file', 'tls-key-file-pass', 'tls-client-cert-file', 'tls-client-key-file', 'tls-client-key-file-pass', 'tls-dh-params-file', 'tls-ca-cert-file', 'tls-ca-cert-dir', 'tls-protocols', 'tls-ciphers', 'tls-ciphersuites'])
  str(n, '');
bool('tls-cluster', 'no', inert);
bool('tls-replication', 'no');
enumOf('tls-auth-clients', 'yes', ['no', 'yes', 'optional']);
bool('tls-prefer-server-ciphers', 'no');
bool('tls-session-caching', 'yes');
int('tls-session-cache-size', 20480, 0, INT_MAX);
int('tls-session-cache-timeout', 300, 0, INT_MAX);

// ---- special formats ------------------------------------------------------------

function parseBind(v: string): string | Error {
  const parts = v.split(/\s+/).filter((p) => p !== '');
  if (parts.length > 16) return new Error('Too many bind addresses specified.');
  return parts.join(' ');
}

function parseOctal(v: string): number | Error {
  if (!/^[0-7]+$/.test(v)) return new Error('argument must be an octal number');
  return parseInt(v, 8);
}

/**
 * The words of a multi-argument parameter's value as CONFIG SET splits it
 * (sdssplitlen on single spaces: two spaces make an empty word); "" has none.
 */
function redisWords(v: string): string[] {
  return v === '' ? [] : v.split(' ');
}

function parseClientOutputBufferLimit(v: string): string | Error {
  const parts = redisWords(v);
  if (parts.length % 4 !== 0) return new Error('Wrong number of arguments in buffer limit configuration.');
  const current = new Map<string, string[]>();
  for (let i = 0; i < parts.length; i += 4) {
    let cls = parts[i]!.toLowerCase();
    if (cls === 'replica') cls = 'slave';
    if (!['normal', 'slave', 'pubsub'].includes(cls)) return new Error('Invalid client class specified in buffer limit configuration.');
    const nums: string[] = [];
    for (const [j, raw] of parts.slice(i + 1, i + 4).entries()) {
      const n = j < 2 ? parseMemory(raw) : /^[0-9]+$/.test(raw) ? Number(raw) : null;
      if (n === null || n < 0) return new Error('Error in hard, soft or soft_seconds setting in buffer limit configuration.');
      nums.push(String(n));
    }
    current.set(cls, nums);
  }
  return [...current].map(([cls, nums]) => `${cls} ${nums.join(' ')}`).join(' ');
}

function parseOomValues(v: string): string | Error {
  const parts = redisWords(v);
  if (parts.length !== 3) return new Error('wrong number of arguments');
  // strtoll's numbers: an optional sign, then digits only.
  if (parts.some((p) => !/^[+-]?[0-9]+$/.test(p) || Math.abs(Number(p)) > 2000))
    return new Error('Invalid oom-score-adj-values, elements must be between -2000 and 2000.');
  return parts.map((p) => String(Number(p))).join(' ');
}

/** Redis' isValidDBfilename: a file name, not a path. */
function parseBaseName(v: string): string | Error {
  return /[/\\]/.test(v) ? new Error("dbfilename can't be a path, just a filename") : v;
}

/** Redis' isValidAnnouncedHostname. */
function parseHostname(v: string): string | Error {
  if (v.length >= 256) return new Error('Hostnames must be less than 256 characters');
  if (!/^[A-Za-z0-9.-]*$/.test(v)) return new Error('Hostnames may only contain alphanumeric characters, hyphens or dots');
  return v;
}

/** The variables of proc-title-template, by whether their value can be empty. */
const PROC_TITLE_VARIABLES: Record<string, boolean> = {
  title: true,
  'listen-addr': false,
  'server-mode': true,
  port: false,
  'tls-port': false,
  unixsocket: true,
  'config-file': true,
};

/**
 * Redis' validateProcTitleTemplate: every {variable} known, '{{' a literal
 * brace, and something left once expanded and trimmed. Variables that may
 * be empty count as empty.
 */
function parseProcTitleTemplate(v: string): string | Error {
  const invalid = new Error('template format is invalid or contains unknown variables');
  let expanded = '';
  let p = 0;
  while (p < v.length) {
    const open = v.indexOf('{', p);
    if (open < 0) {
      expanded += v.slice(p);
      break;
    }
    expanded += v.slice(p, open);
    if (open + 1 >= v.length) return invalid;
    if (v[open + 1] === '{') {
      expanded += '{';
      p = open + 2;
      continue;
    }
    const close = v.indexOf('}', open + 1);
    if (close < 0) return invalid;
    const mayBeEmpty = PROC_TITLE_VARIABLES[v.slice(open + 1, close)];
    if (mayBeEmpty === undefined) return invalid;
    if (!mayBeEmpty) expanded += 'x';
    p = close + 1;
  }
  return expanded.replace(/^ +| +$/g, '') === '' ? invalid : v;
}

function parseShutdownFlags(v: string): string | Error {
  const parts = v.toLowerCase().split(/\s+/).filter((p) => p !== '');
  const allowed = ['default', 'save', 'nosave', 'now', 'force'];
  if (parts.length === 0 || parts.some((p) => !allowed.includes(p)))
    return new Error('argument(s) must be one of the following: default, save, nosave, now, force');
  if (parts.includes('save') && parts.includes('nosave')) return new Error("shutdown options SAVE and NOSAVE can't be used simultaneously");
  return parts.join(' ');
}

/**
 * save, as Redis' setConfigSaveOption reads it: "" is none; otherwise
 * the words between single spaces (two spaces make an empty word), in
 * pairs, each read with strtoll to its end: seconds at least 1, changes
 * at least 0.
 */
function parseSave(v: string): string | Error {
  if (v === '') return '';
  const parts = redisWords(v);
  if (parts.length % 2 !== 0) return new Error('Invalid save parameters');
  const values: number[] = [];
  for (let j = 0; j < parts.length; j++) {
    const n = strtollWhole(parts[j]!);
    if (n === null || (j % 2 === 0 ? n < 1 : n < 0)) return new Error('Invalid save parameters');
    values.push(n);
  }
  return values.join(' ');
}

/** C's strtoll over the whole string (leading blanks and a sign allowed, nothing after the digits; no digits reads 0), or null. */
function strtollWhole(s: string): number | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)$/.exec(s);
  if (m === null) return null;
  // No digits: nothing converted, the end is the start: whole only for "".
  if (m[2] === '') return s === '' ? 0 : null;
  const n = Number(m[2]);
  return m[1] === '-' ? -n : n;
}

function parseReplicaOf(v: string): string | Error {
  const parts = v.split(/\s+/).filter((p) => p !== '');
  if (parts.length === 0) return '';
  if (parts.length === 2 && parts[0]!.toLowerCase() === 'no' && parts[1]!.toLowerCase() === 'one') return '';
  if (parts.length !== 2 || !/^[0-9]+$/.test(parts[1]!)) return new Error('Invalid master host or port');
  return `${parts[0]} ${Number(parts[1])}`;
}

/** maxmemory-clients: bytes, or a percentage of maxmemory up to 100 (0% prints as 0, as Redis stores it). */
function parseMemoryOrPercent(v: string): string | Error {
  if (/^(0|[1-9][0-9]*)%$/.test(v)) {
    const percent = Number(v.slice(0, -1));
    if (percent > 100) return new Error('percentage argument must be less or equal to 100');
    return percent === 0 ? '0' : v;
  }
  const bytes = parseMemoryExact(v);
  if (bytes === null) return new Error('argument must be a memory or percent value');
  // Redis keeps the value in a long long where a percentage is negative:
  // past LLONG_MAX the bytes read as one (2^64 - 1 is 1%).
  const n = BigInt.asIntN(64, bytes);
  if (n >= 0n) return String(n);
  if (n < -100n) return new Error('percentage argument must be less or equal to 100');
  return `${-n}%`;
}

function parsePercentiles(v: string): string | Error {
  const parts = redisWords(v);
  for (const p of parts) {
    // string2d: a whole decimal float (strtod's inf is out of range below).
    if (!/^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$/.test(p) && !/^[+-]?inf(inity)?$/i.test(p))
      return new Error('Invalid latency-tracking-info-percentiles parameters');
    const n = /inf/i.test(p) ? (p.startsWith('-') ? -Infinity : Infinity) : Number(p);
    if (n < 0 || n > 100) return new Error('latency-tracking-info-percentiles parameters should sit between [0.0,100.0]');
  }
  return parts.join(' ');
}

/** Valid letters of notify-keyspace-events and how CONFIG GET prints them. */
export function parseNotifyFlags(v: string): string | null {
  const set = new Set<string>();
  for (const ch of v) {
    if (ch === 'A') for (const c of 'g$lshzxetd') set.add(c);
    else if ('gK E$lshzxetmnd'.includes(ch) && ch !== ' ') set.add(ch);
    else return null;
  }
  return set.size === 0 ? '' : [...set].join('');
}

/** Event classes the change feed may carry: notify-keyspace-events' letters without K, E and key misses. */
const FEED_CLASSES = 'g$lshzxetdn';

/** changefeed-events: the class letters in a fixed order ('A' is every class but n). */
const KEY_TYPES = ['string', 'list', 'set', 'zset', 'hash', 'stream'];

/** eviction-protect-types: space-separated type names, normalized. */
function parseProtectTypes(v: string): string | Error {
  const names = v.toLowerCase().split(/[\s,]+/).filter((n) => n !== '');
  for (const n of names) if (!KEY_TYPES.includes(n)) return new Error(`Unknown key type '${n}'. Use string, list, set, zset, hash or stream.`);
  return [...new Set(names)].join(' ');
}

function parseFeedClasses(v: string): string | Error {
  const set = new Set<string>();
  for (const ch of v) {
    if (ch === 'A') for (const c of 'g$lshzxetd') set.add(c);
    else if (FEED_CLASSES.includes(ch)) set.add(ch);
    else return new Error("Invalid event class character. Use 'Ag$lshzxetdn'.");
  }
  return [...FEED_CLASSES].filter((c) => set.has(c)).join('');
}

/**
 * The flags in Redis' keyspaceEventsFlagsToString order (classes or A, n,
 * then K, E, m). n is kept after A here, where Redis' string leaves it
 * out: showNotifyFlags drops it from what CONFIG GET and REWRITE show.
 */
export function formatNotifyFlags(flags: string): string {
  const set = new Set(flags);
  let out = '';
  const all = 'g$lshzxetd';
  if ([...all].every((c) => set.has(c))) out += 'A';
  else for (const c of all) if (set.has(c)) out += c;
  if (set.has('n')) out += 'n';
  if (set.has('K')) out += 'K';
  if (set.has('E')) out += 'E';
  if (set.has('m')) out += 'm';
  return out;
}

/** notify-keyspace-events as Redis shows it: with A, no n (new-key events are still sent). */
function showNotifyFlags(v: ConfigValue): string {
  const flags = String(v);
  return flags.startsWith('A') ? flags.replace('n', '') : flags;
}

function parseNotify(v: string): string | Error {
  const flags = parseNotifyFlags(v);
  return flags === null ? new Error('Invalid event class character. Use \'Ag$lshzxeKEtmdn\'.') : formatNotifyFlags(flags);
}

/** Redis' memtoull: bytes with an optional b/k/kb/m/mb/g/gb unit. Null if invalid. */
/**
 * Redis' memtoull: digits (leading zeros allowed, none at all is 0) and an
 * optional unit, read as a C string (a NUL ends it); no sign. Null when
 * Redis refuses it.
 */
export function parseMemory(v: string): number | null {
  const bytes = parseMemoryExact(v);
  return bytes === null ? null : Number(bytes);
}

/**
 * parseMemory's unsigned long long, exactly as memtoull computes it:
 * strtoull saturates at 2^64 - 1 and the unit's multiplication wraps.
 */
export function parseMemoryExact(v: string): bigint | null {
  const nul = v.indexOf('\0');
  if (nul >= 0) v = v.slice(0, nul);
  const m = /^([0-9]*)(.*)$/s.exec(v)!;
  const mul = MEMORY_UNITS[m[2]!.toLowerCase()];
  if (mul === undefined || m[1]!.length >= 128) return null;
  let digits = BigInt(m[1] === '' ? '0' : m[1]!);
  if (digits > ULLONG_MAX) digits = ULLONG_MAX;
  return (digits * mul) & ULLONG_MAX;
}

/**
 * Redis reads most values with C string functions, so a NUL ends them.
 * Not these: integers (string2ll reads the whole value, a NUL makes it
 * invalid), the passwords (masterauth, requirepass) and the percentile list (binary;
 * a NUL in a percentile is an invalid number), and the lists below, split
 * on spaces first, each element then read as a C string.
 */
const BINARY_VALUES = new Set(['masterauth', 'requirepass', 'latency-tracking-info-percentiles']);
const SPLIT_VALUES = new Set(['save', 'bind', 'client-output-buffer-limit', 'oom-score-adj-values']);

/** `given` as Redis' setter for `d` reads it (see BINARY_VALUES). */
function asRedisReads(d: ParamDef, given: string): string {
  // Integers go to string2ll with their length: a NUL makes them invalid.
  if (!given.includes('\0') || BINARY_VALUES.has(d.name) || d.kind === 'int') return given;
  // Each space-separated element up to its first NUL.
  if (SPLIT_VALUES.has(d.name)) return given.replace(/\0[^ ]*/g, '');
  return given.slice(0, given.indexOf('\0'));
}

/**
 * An int or memory parameter's value as Redis reads it (numericParseString
 * and numericBoundaryCheck): string2ll, or memtoull stored in a long long;
 * bounds compared exactly, unsigned for parameters whose bound is past
 * LONG_MAX. `exact` is its decimal text (CONFIG GET, INFO), `value` the
 * nearest double the server computes with.
 */
export function parseNumeric(d: ParamDef, raw: string): { value: number; exact: string } | Error {
  let n: bigint;
  if (d.kind === 'memory') {
    const bytes = parseMemoryExact(raw);
    if (bytes === null) return new Error('argument must be a memory value');
    // Stored in a long long, read back unsigned by unsigned parameters.
    n = d.max > LONG_MAX || bytes <= LONG_MAX ? bytes : bytes - 2n ** 64n;
  } else {
    // string2ll: no '+', no leading zeros, no '-0', within a long long.
    if (!/^(0|-?[1-9][0-9]*)$/.test(raw)) return new Error("argument couldn't be parsed into an integer");
    n = BigInt(raw);
    if (n < LONG_MIN || n > LONG_MAX) return new Error("argument couldn't be parsed into an integer");
  }
  if (n < d.min || n > d.max) return new Error(`argument must be between ${d.min} and ${d.max} inclusive`);
  return { value: Number(n), exact: String(n) };
}

const MEMORY_UNITS: Record<string, bigint> = { '': 1n, b: 1n, k: 1000n, kb: 1024n, m: 1000n ** 2n, mb: 1024n ** 2n, g: 1000n ** 3n, gb: 1024n ** 3n };

// ---- the live configuration -------------------------------------------------------

export type ChangeListener = (name: string, value: ConfigValue) => void;

export class Config {
  private readonly byName = new Map<string, ParamDef>();
  private readonly values = new Map<string, ConfigValue>();
  /** The decimal text of int and memory values a double does not hold exactly (past 2^53). */
  private readonly exact = new Map<string, string>();
  private readonly listeners: ChangeListener[] = [];
  /** Path of the config file the server started with ('' when none). */
  file = '';
  /** `user` lines of the configuration file (name and rules), loaded at start-up as Redis does. */
  readonly userDirectives: string[][] = [];

  constructor() {
    for (const d of defs) {
      this.byName.set(d.name, d);
      for (const a of d.aliases) this.byName.set(a, d);
      this.values.set(d.name, this.parse(d, d.default) as ConfigValue);
    }
  }

  static get definitions(): readonly ParamDef[] {
    return defs;
  }

  def(name: string): ParamDef | undefined {
    return this.byName.get(name) ?? this.byName.get(name.toLowerCase());
  }

  onChange(fn: ChangeListener): void {
    this.listeners.push(fn);
  }

  get(name: string): ConfigValue {
    const d = this.def(name);
    if (d === undefined) throw new Error(`unknown config ${name}`);
    return this.values.get(d.name)!;
  }

  int(name: string): number {
    return this.get(name) as number;
  }

  bool(name: string): boolean {
    return this.get(name) as boolean;
  }

  str(name: string): string {
    return String(this.get(name));
  }

  /** The parameter's value as CONFIG GET shows it (exact where a double is not). */
  text(name: string): string {
    const d = this.def(name);
    if (d === undefined) throw new Error(`unknown config ${name}`);
    return this.format(d);
  }

  /** Parse a value for a parameter; returns an Error with Redis' message on failure. */
  parse(d: ParamDef, raw: string): ConfigValue | Error {
    switch (d.kind) {
      case 'bool': {
        const v = raw.toLowerCase();
        if (v === 'yes') return true;
        if (v === 'no') return false;
        return new Error("argument must be 'yes' or 'no'");
      }
      case 'int':
      case 'memory': {
        const n = parseNumeric(d, raw);
        return n instanceof Error ? n : n.value;
      }
      case 'enum': {
        if (d.parse) return d.parse(raw) as ConfigValue | Error;
        const v = raw.toLowerCase();
        if (!d.enumValues.includes(v)) return new Error(`argument(s) must be one of the following: ${d.enumValues.join(', ')}`);
        return v;
      }
      case 'special':
      case 'string':
        return d.parse ? (d.parse(raw) as ConfigValue | Error) : raw;
      default:
        return raw;
    }
  }

  /** The text CONFIG GET shows. */
  format(d: ParamDef): string {
    const exact = this.exact.get(d.name);
    if (exact !== undefined) return exact;
    const v = this.values.get(d.name)!;
    if (d.format) return d.format(v);
    if (d.kind === 'bool') return v ? 'yes' : 'no';
    return String(v);
  }

  /**
   * Set several parameters atomically (CONFIG SET, config file, flags), in
   * Redis' order (configSetCommand): every name is checked first (unknown,
   * immutable, protected, given twice), then every value is set, then the
   * listeners apply them. Throws ConfigError with Redis' message and
   * changes nothing on failure; on success returns what undoes it.
   */
  setMany(pairs: [string, string][], opts: { startup: boolean; protectedAllowed?: boolean }): ConfigUndo {
    const entries = this.checkNames(pairs, opts);
    const fail = (entry: string, msg: string) =>
      new ConfigError(opts.startup ? msg : `ERR CONFIG SET failed (possibly related to argument '${entry}') - ${msg}`);
    const previous = entries.map(([d]) => [d, this.values.get(d.name)!, this.exact.get(d.name)] as [ParamDef, ConfigValue, string | undefined]);
    const restore = (count: number) => {
      for (let i = count - 1; i >= 0; i--) {
        const [d, v, exact] = previous[i]!;
        this.values.set(d.name, v);
        this.setExact(d, exact);
      }
    };
    for (let i = 0; i < entries.length; i++) {
      const [d, entry, given] = entries[i]!;
      const raw = asRedisReads(d, given);
      let exact: string | undefined;
      let v: ConfigValue | Error;
      if (d.kind === 'int' || d.kind === 'memory') {
        const n = parseNumeric(d, raw);
        if (n instanceof Error) v = n;
        else {
          v = n.value;
          if (!Number.isSafeInteger(n.value)) exact = n.exact;
        }
      } else {
        v = this.parse(d, raw);
      }
      if (v instanceof Error) {
        restore(i);
        throw fail(entry, v.message);
      }
      if (d.merge) v = d.merge(this.values.get(d.name)!, v);
      this.values.set(d.name, v);
      this.setExact(d, exact);
    }
    const undo = new ConfigUndo(() => {
      restore(previous.length);
      for (const [d, v] of previous) for (const l of this.listeners) try { l(d.name, v); } catch { /* restoring */ }
    });
    for (const [d, entry] of entries) {
      try {
        for (const l of this.listeners) l(d.name, this.values.get(d.name)!);
      } catch (e) {
        undo.run();
        throw fail(entry, e instanceof Error ? e.message : String(e));
      }
    }
    return undo;
  }

  private setExact(d: ParamDef, exact: string | undefined): void {
    if (exact === undefined) this.exact.delete(d.name);
    else this.exact.set(d.name, exact);
  }

  /**
   * The first pass of setMany: each name's parameter and the name of the
   * table entry it matched (an alias is its own entry, as in Redis: giving
   * a parameter and its alias is not a duplicate). The first error found
   * wins, in argument order.
   */
  private checkNames(pairs: [string, string][], opts: { startup: boolean; protectedAllowed?: boolean }): [ParamDef, string, string][] {
    const entries: [ParamDef, string, string][] = [];
    const seen = new Set<string>();
    for (const [name, raw] of pairs) {
      const d = this.def(name);
      if (d === undefined) {
        if (!opts.startup) throw new ConfigError(`ERR Unknown option or number of arguments for CONFIG SET - '${name}'`);
        throw new ConfigError(`Bad directive or wrong number of arguments`);
      }
      const entry = name.toLowerCase();
      const fail = (msg: string) =>
        opts.startup ? new ConfigError(msg) : new ConfigError(`ERR CONFIG SET failed (possibly related to argument '${name}') - ${msg}`);
      if (!opts.startup && !d.mutable) throw fail("can't set immutable config");
      if (!opts.startup && d.protected && !opts.protectedAllowed) throw fail("can't set protected config");
      if (seen.has(entry)) throw fail('duplicate parameter');
      seen.add(entry);
      entries.push([d, entry, raw]);
    }
    return entries;
  }

  /**
   * CONFIG GET: [name, value] pairs for each pattern, every parameter
   * once. A name without glob characters is looked up as given (and echoed
   * as given, hidden parameters included); a glob skips hidden ones.
   */
  match(patterns: string[]): [string, string][] {
    const out = new Map<string, [string, string]>();
    for (const pat of patterns) {
      const lower = pat.toLowerCase();
      if (!/[*?[]/.test(pat)) {
        const exact = this.byName.get(lower);
        if (exact !== undefined && !out.has(lower)) out.set(lower, [pat, this.format(exact)]);
        continue;
      }
      for (const [name, d] of this.byName) {
        if (d.hidden || out.has(name)) continue;
        if (globMatch(lower, name, true)) out.set(name, [name, this.format(d)]);
      }
    }
    return [...out.values()];
  }

  /** All parameters whose value differs from its default, for CONFIG REWRITE. */
  changed(): [ParamDef, string][] {
    const out: [ParamDef, string][] = [];
    for (const d of defs) {
      const dflt = this.parse(d, d.default);
      const cur = this.values.get(d.name);
      if (dflt instanceof Error || cur !== dflt) out.push([d, this.format(d)]);
    }
    return out;
  }
}

/**
 * Parse redis.conf text into directives: words split like Redis'
 * sdssplitargs, comments and blank lines skipped.
 */
export function parseConfigText(text: string): { line: number; words: string[]; raw: string }[] {
  const out: { line: number; words: string[]; raw: string }[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!.replace(/\r$/, '');
    const t = raw.trim();
    if (t === '' || t.startsWith('#')) continue;
    out.push({ line: i + 1, words: splitConfigWords(t), raw });
  }
  return out;
}

function splitConfigWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(line)) !== null) {
    if (m[1] !== undefined) words.push(m[1].replace(/\\(x[0-9a-fA-F]{2}|.)/g, (_, e: string) => unescapeC(e)));
    else if (m[2] !== undefined) words.push(m[2].replace(/\\'/g, "'"));
    else words.push(m[3]!);
  }
  return words;
}

function unescapeC(e: string): string {
  if (e.startsWith('x')) return String.fromCharCode(parseInt(e.slice(1), 16));
  return ({ n: '\n', r: '\r', t: '\t', b: '\b', a: '\x07' } as Record<string, string>)[e] ?? e;
}

export { INT_MAX };
