/**
 * INFO: the sections and field names of Redis 7.2, so monitoring tools,
 * exporters and client libraries parse them unchanged. Vireo identifies
 * itself as redis_version 7.2.4 and adds vireo_version/server_name, as
 * Valkey does with its own fields.
 */

import type { AclStats } from '../acl/log.js';
import os from 'node:os';
import { createHash } from 'node:crypto';
import type { ReplicationIds } from '../../replication/ids.js';
import type { ReplicationPrimary } from '../../replication/primary.js';
import type { Config } from '../config.js';
import type { Engine } from '../engine/engine.js';
import type { CommandTable } from '../commands/table.js';
import type { Persistence } from '../../persistence/persistence.js';
import type { Client } from './client.js';
import type { ServerStats } from './stats.js';
import type { Scripting } from '../scripting/scripting.js';
import type { PubSub } from '../pubsub/registry.js';
import { allocatorName, type MemoryOverhead } from '../diagnostics/memory-report.js';

/** What INFO reads from the server (Server implements it). */
export interface InfoSource {
  readonly config: Config;
  /** The I/O threads (io-threads > 1) and what they carried. */
  readonly ioThreads: { readonly readsProcessed: number; readonly writesProcessed: number; readonly prefetchBatches: number; readonly prefetchEntries: number } | null;
  /** ACL LOG's acl_access_denied_* counters. */
  readonly acl: { readonly log: { readonly stats: AclStats } };
  readonly engine: Engine;
  readonly table: CommandTable;
  readonly persistence: Persistence;
  readonly stats: ServerStats;
  readonly memory: MemoryTracker;
  /** maxmemory's eviction state (INFO stats) and what it leaves out of the measure. */
  readonly memoryLimit: { readonly totalExceededMs: number; readonly currentExceededMs: number; readonly forcedCollections: number };
  notCountedBytes(): number;
  /** Collections run when quiet (INFO memory's vireo_idle_* fields). */
  readonly idleReclaim: { readonly collections: number; readonly scavenges: number; readonly maxPauseMs: number };
  /** INFO memory's overhead figures (src/server/memory-overhead.ts). */
  memoryOverhead(): { overhead: MemoryOverhead };
  readonly clients: ReadonlyMap<number, Client>;
  readonly blockedClients: number;
  readonly port: number;
  readonly redisVersion: string;
  readonly version: string;
  readonly replIds: ReplicationIds;
  readonly primary: ReplicationPrimary;
  readonly failover: { readonly state: string };
  readonly runId: string;
  /** The replica side (replication/replica.ts). */
  readonly replica: { readonly isReplica: boolean; infoFields(): Fields; masterConnection(): object | null };
  readonly startTime: number;
  /** EVAL's script cache and the function libraries (INFO memory). */
  readonly scripting: Scripting;
  /** The durable change feed's counters (INFO stats). */
  readonly changeFeed: { readonly entriesAdded: number; readonly entriesLost: number };
  /** Channel and pattern counts (INFO stats). */
  readonly pubsub: PubSub;
  /** MIGRATE's cached connections. */
  readonly migrateSockets: { readonly size: number };
  /** Client-side caching's counts (tracking_clients and tracking_total_*). */
  /** Latency histograms' percentiles (INFO latencystats). */
  readonly timing: { readonly percentiles: readonly number[] };
  readonly tracking: { readonly clientCount: number; readonly totalKeys: number; readonly totalItems: number; readonly totalPrefixes: number };
}

const DEFAULT_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'module_list', 'errorstats', 'cluster', 'keyspace'];
/** Every section in Redis' order: commandstats and latencystats sit beside errorstats, before cluster. */
const ALL_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'module_list', 'commandstats', 'errorstats', 'latencystats', 'cluster', 'keyspace'];

export type Fields = [string, string | number][];

/** Bytes as Redis' bytesToHuman prints them. */
export function bytesToHuman(n: number, exact?: bigint): string {
  if (n < 1024) return `${n}B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(2)}K`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(2)}M`;
  if (n < 1024 ** 4) return `${(n / 1024 ** 3).toFixed(2)}G`;
  if (n < 1024 ** 5) return `${(n / 1024 ** 4).toFixed(2)}T`;
  if (n < 1024 ** 6) return `${(n / 1024 ** 5).toFixed(2)}P`;
  // Past 1024 P Redis prints the bytes (%llu): exact when the caller has them.
  return `${exact ?? BigInt(n)}B`;
}

export class MemoryTracker {
  /** used_memory_startup: taken again once the server is ready (Redis' initial_memory_usage, before data loads). */
  startup: number;
  peak: number;

  /** `measure`: used_memory as maxmemory counts it (MemoryLimit.used), the one definition of it. */
  constructor(private readonly measure: () => number) {
    this.startup = measure();
    this.peak = this.startup;
  }

  /** The server is built and listening, no data loaded yet: this is its start-up memory. */
  markStartup(): number {
    this.startup = this.sample();
    return this.startup;
  }

  sample(): number {
    const used = this.measure();
    if (used > this.peak) this.peak = used;
    return used;
  }
}

/** A build id in Redis' form (hex digits), stable for a Vireo version. */
function buildId(version: string): string {
  return createHash('sha1').update(`vireo-${version}`).digest('hex').slice(0, 16);
}

function serverSection(s: InfoSource): Fields {
  const now = Date.now();
  const uptime = Math.floor((now - s.startTime) / 1000);
  const binds = s.config.str('bind').split(' ').filter((b) => b !== '');
  return [
    ['redis_version', s.redisVersion],
    ['vireo_version', s.version],
    ['server_name', 'vireo'],
    ['redis_git_sha1', '00000000'],
    ['redis_git_dirty', 0],
    ['redis_build_id', buildId(s.version)],
    ['redis_mode', 'standalone'],
    ['os', `${os.type()} ${os.release()} ${os.arch()}`],
    ['arch_bits', 64],
    ['monotonic_clock', 'POSIX clock_gettime'],
    ['multiplexing_api', 'epoll'],
    ['atomicvar_api', 'c11-builtin'],
    ['gcc_version', '0.0.0'],
    ['node_version', process.versions.node],
    ['process_id', process.pid],
    ['process_supervised', 'no'],
    ['run_id', s.runId],
    ['tcp_port', s.port],
    ['server_time_usec', now * 1000],
    ['uptime_in_seconds', uptime],
    ['uptime_in_days', Math.floor(uptime / 86400)],
    ['hz', s.config.int('hz')],
    ['configured_hz', s.config.int('hz')],
    ['lru_clock', Math.floor(now / 1000) & 0xffffff],
    ['executable', process.argv[1] ?? ''],
    ['config_file', s.config.file],
    ['io_threads_active', s.ioThreads === null ? 0 : 1],
    ['listener0', `name=tcp,${binds.map((b) => `bind=${b}`).join(',')},port=${s.port}`],
  ];
}

function clientsSection(s: InfoSource): Fields {
  let maxIn = 0;
  let maxOut = 0;
  let replicas = 0;
  for (const c of s.clients.values()) {
    maxIn = Math.max(maxIn, c.parser.pendingBytes);
    maxOut = Math.max(maxOut, c.outputMemory);
    if (c.ctx.kind === 'replica') replicas++;
  }
  return [
    // As Redis counts them: replicas are left out, the link with the primary (its master client) is in.
    ['connected_clients', s.clients.size - replicas + (s.replica.masterConnection() !== null ? 1 : 0)],
    ['cluster_connections', 0],
    ['maxclients', s.config.int('maxclients')],
    ['client_recent_max_input_buffer', maxIn],
    ['client_recent_max_output_buffer', maxOut],
    ['blocked_clients', s.blockedClients],
    ['tracking_clients', s.tracking.clientCount],
    ['clients_in_timeout_table', 0],
    ['total_blocking_keys', s.engine.readyKeys.totalBlockingKeys],
    ['total_blocking_keys_on_nokey', s.engine.readyKeys.totalBlockingKeysOnNoKey],
  ];
}

/**
 * Redis 7.2's memory fields measured on V8 (src/diagnostics/memory-report.ts
 * maps them; the README's "Memory" section explains each).
 */
function memorySection(s: InfoSource): Fields {
  const o = s.memoryOverhead().overhead;
  const used = o.totalAllocated;
  const a = o.allocator;
  const total = os.totalmem();
  const maxmemory = s.config.int('maxmemory');
  // An unsigned long long that Redis prints with %lld (2^64 - 1 is -1), exact past 2^53.
  const maxmemoryExact = BigInt(s.config.text('maxmemory'));
  return [
    ['used_memory', used],
    ['used_memory_human', bytesToHuman(used)],
    ['used_memory_rss', a.rss],
    ['used_memory_rss_human', bytesToHuman(a.rss)],
    ['used_memory_peak', o.peakAllocated],
    ['used_memory_peak_human', bytesToHuman(o.peakAllocated)],
    ['used_memory_peak_perc', `${o.peakPerc.toFixed(2)}%`],
    ['used_memory_overhead', o.overheadTotal],
    ['used_memory_startup', o.startupAllocated],
    ['used_memory_dataset', o.dataset],
    ['used_memory_dataset_perc', `${o.datasetPerc.toFixed(2)}%`],
    ['allocator_allocated', a.allocated],
    ['allocator_active', a.active],
    ['allocator_resident', a.resident],
    ['total_system_memory', total],
    ['total_system_memory_human', bytesToHuman(total)],
    ...scriptingMemory(s.scripting),
    ['maxmemory', String(BigInt.asIntN(64, maxmemoryExact))],
    ['maxmemory_human', bytesToHuman(maxmemory, maxmemoryExact)],
    ['maxmemory_policy', s.config.str('maxmemory-policy')],
    ['allocator_frag_ratio', o.allocatorFrag.toFixed(2)],
    ['allocator_frag_bytes', o.allocatorFragBytes],
    ['allocator_rss_ratio', o.allocatorRss.toFixed(2)],
    ['allocator_rss_bytes', o.allocatorRssBytes],
    ['rss_overhead_ratio', o.rssExtra.toFixed(2)],
    ['rss_overhead_bytes', o.rssExtraBytes],
    ['mem_fragmentation_ratio', o.totalFrag.toFixed(2)],
    ['mem_fragmentation_bytes', o.totalFragBytes],
    ['mem_not_counted_for_evict', s.notCountedBytes()],
    ['mem_replication_backlog', o.replicationBacklog],
    ['mem_total_replication_buffers', o.replicationBacklog + o.clientsSlaves],
    ['mem_clients_slaves', o.clientsSlaves],
    ['mem_clients_normal', o.clientsNormal],
    ['mem_cluster_links', o.clusterLinks],
    ['mem_aof_buffer', o.aofBuffer],
    ['mem_allocator', allocatorName()],
    ['active_defrag_running', 0],
    ['lazyfree_pending_objects', 0],
    ['lazyfreed_objects', 0],
    ['vireo_runtime_rss', o.runtimeRss],
    ['vireo_idle_collections', s.idleReclaim.collections],
    ['vireo_idle_scavenges', s.idleReclaim.scavenges],
    ['vireo_idle_gc_max_ms', s.idleReclaim.maxPauseMs.toFixed(1)],
  ];
}

/** The Lua states' memory and what EVAL's cache and the function libraries hold, as Redis 7.2 names them. */
function scriptingMemory(scripting: Scripting): Fields {
  const vmEval = scripting.evalEngine.memory;
  const vmFunctions = scripting.functionEngine.memory;
  const functions = scripting.functions;
  const scriptsEval = scripting.scriptsMemory;
  const functionsOverhead = functions.memory;
  return [
    ['used_memory_lua', vmEval],
    ['used_memory_vm_eval', vmEval],
    ['used_memory_lua_human', bytesToHuman(vmEval)],
    ['used_memory_scripts_eval', scriptsEval],
    ['number_of_cached_scripts', scripting.scripts.size],
    ['number_of_functions', functions.current.functions.size],
    ['number_of_libraries', functions.current.libraries.size],
    ['used_memory_vm_functions', vmFunctions],
    ['used_memory_vm_total', vmEval + vmFunctions],
    ['used_memory_vm_total_human', bytesToHuman(vmEval + vmFunctions)],
    ['used_memory_functions', functionsOverhead],
    ['used_memory_scripts', scriptsEval + functionsOverhead],
    ['used_memory_scripts_human', bytesToHuman(scriptsEval + functionsOverhead)],
  ];
}

function persistenceSection(s: InfoSource): Fields {
  const p = s.persistence;
  const rdb = p.rdb;
  const aof = p.aof;
  const loading = p.loading;
  const fields: Fields = [
    ['loading', loading !== null && !p.asyncLoading ? 1 : 0],
    ['async_loading', loading !== null && p.asyncLoading ? 1 : 0],
    ['current_cow_peak', 0],
    ['current_cow_size', 0],
    ['current_cow_size_age', 0],
    ['current_fork_perc', '0.00'],
    ['current_save_keys_processed', rdb.currentKeysProcessed],
    ['current_save_keys_total', rdb.inProgress ? s.engine.totalKeys : 0],
    ['rdb_changes_since_last_save', s.engine.dirty],
    ['rdb_bgsave_in_progress', rdb.inProgress ? 1 : 0],
    ['rdb_last_save_time', rdb.lastSave],
    ['rdb_last_bgsave_status', rdb.lastBgsaveStatus],
    ['rdb_last_bgsave_time_sec', rdb.lastBgsaveTimeSec],
    ['rdb_current_bgsave_time_sec', rdb.currentSeconds],
    ['rdb_saves', rdb.saves],
    ['rdb_last_cow_size', 0],
    ['rdb_last_load_keys_expired', rdb.lastLoad.keysExpired],
    ['rdb_last_load_keys_loaded', rdb.lastLoad.keysLoaded],
    // Vireo: the last BGSAVE's longest slice on the event loop (Redis forks instead), wall and CPU time.
    ['vireo_rdb_last_bgsave_longest_slice_ms', msField(rdb.lastBgsaveLongestSlice.ms)],
    ['vireo_rdb_last_bgsave_longest_slice_cpu_ms', msField(rdb.lastBgsaveLongestSlice.cpuMs)],
    ['aof_enabled', aof.on ? 1 : 0],
    ['aof_rewrite_in_progress', aof.rewriteInProgress ? 1 : 0],
    ['aof_rewrite_scheduled', aof.rewriteScheduled ? 1 : 0],
    ['aof_last_rewrite_time_sec', aof.lastRewriteTimeSec],
    ['aof_current_rewrite_time_sec', aof.currentRewriteSeconds],
    ['aof_last_bgrewrite_status', aof.lastRewriteStatus],
    ['aof_rewrites', aof.rewrites],
    ['aof_rewrites_consecutive_failures', aof.rewriteFailures],
    ['aof_last_write_status', aof.lastWriteOk ? 'ok' : 'err'],
    ['aof_last_cow_size', 0],
    ['module_fork_in_progress', 0],
    ['module_fork_last_cow_size', 0],
  ];
  if (aof.on) {
    fields.push(
      ['aof_current_size', aof.currentSize],
      ['aof_base_size', aof.baseSize],
      ['aof_pending_rewrite', aof.rewriteScheduled ? 1 : 0],
      ['aof_buffer_length', aof.bufferLength],
      ['aof_pending_bio_fsync', aof.fsyncInFlight ? 1 : 0],
      ['aof_delayed_fsync', 0],
    );
  }
  // Vireo: retired AOF files still being archived in the background (aof-archive).
  if (p.archive.enabled || p.archive.pending > 0) fields.push(['aof_archive_pending', p.archive.pending]);
  if (loading !== null) {
    const elapsed = (Date.now() - loading.startedAt) / 1000;
    const perc = loading.totalBytes > 0 ? (100 * loading.loadedBytes) / loading.totalBytes : 0;
    const rate = elapsed > 0 ? loading.loadedBytes / elapsed : 0;
    fields.push(
      ['loading_start_time', Math.floor(loading.startedAt / 1000)],
      ['loading_total_bytes', loading.totalBytes],
      ['loading_rdb_used_mem', 0],
      ['loading_loaded_bytes', loading.loadedBytes],
      ['loading_loaded_perc', perc.toFixed(2)],
      ['loading_eta_seconds', rate > 0 ? Math.round((loading.totalBytes - loading.loadedBytes) / rate) : 1],
    );
  }
  return fields;
}

/** A duration in ms with two decimals, or -1 (none, as Redis writes rdb_last_bgsave_time_sec). */
function msField(ms: number): string | number {
  return ms < 0 ? -1 : ms.toFixed(2);
}

function avg(samples: number[]): number {
  return samples.length === 0 ? 0 : samples.reduce((a, b) => a + b, 0) / samples.length;
}

function statsSection(s: InfoSource): Fields {
  const st = s.stats;
  const es = s.engine.stats;
  return [
    ['total_connections_received', st.connectionsReceived],
    ['total_commands_processed', st.commandsProcessed],
    ['instantaneous_ops_per_sec', Math.round(avg(st.opsSamples))],
    ['total_net_input_bytes', st.netInputBytes],
    ['total_net_output_bytes', st.netOutputBytes],
    ['total_net_repl_input_bytes', 0],
    ['total_net_repl_output_bytes', 0],
    ['instantaneous_input_kbps', avg(st.inputSamples).toFixed(2)],
    ['instantaneous_output_kbps', avg(st.outputSamples).toFixed(2)],
    ['instantaneous_input_repl_kbps', '0.00'],
    ['instantaneous_output_repl_kbps', '0.00'],
    ['rejected_connections', st.rejectedConnections],
    ['sync_full', st.syncFull],
    ['sync_partial_ok', st.syncPartialOk],
    ['sync_partial_err', st.syncPartialErr],
    ['expired_keys', es.expiredKeys],
    ['expired_stale_perc', (es.expiredStalePerc * 100).toFixed(2)],
    ['expired_time_cap_reached_count', es.expiredTimeCapReached],
    ['expire_cycle_cpu_milliseconds', Math.round(es.expireCycleCpuMs)],
    ['evicted_keys', es.evictedKeys],
    ['evicted_clients', st.evictedClients],
    ['total_eviction_exceeded_time', s.memoryLimit.totalExceededMs],
    ['current_eviction_exceeded_time', s.memoryLimit.currentExceededMs],
    // Vireo: full collections run before evicting, so live keys are not evicted for garbage (memory-limit.ts).
    ['eviction_full_collections', s.memoryLimit.forcedCollections],
    ['keyspace_hits', es.keyspaceHits],
    ['keyspace_misses', es.keyspaceMisses],
    ['pubsub_channels', s.pubsub.channelCount],
    ['pubsub_patterns', s.pubsub.patternCount],
    ['pubsubshard_channels', s.pubsub.shardChannelCount],
    ['latest_fork_usec', 0],
    ['total_forks', 0],
    ['migrate_cached_sockets', s.migrateSockets.size],
    ['slave_expires_tracked_keys', 0],
    ['active_defrag_hits', 0],
    ['active_defrag_misses', 0],
    ['active_defrag_key_hits', 0],
    ['active_defrag_key_misses', 0],
    ['total_active_defrag_time', 0],
    ['current_active_defrag_time', 0],
    ['tracking_total_keys', s.tracking.totalKeys],
    ['tracking_total_items', s.tracking.totalItems],
    ['tracking_total_prefixes', s.tracking.totalPrefixes],
    ['unexpected_error_replies', st.unexpectedErrorReplies],
    ['total_error_replies', st.totalErrorReplies],
    ['dump_payload_sanitizations', 0],
    ['total_reads_processed', st.readsProcessed],
    ['total_writes_processed', st.writesProcessed],
    ['io_threaded_reads_processed', s.ioThreads?.readsProcessed ?? 0],
    ['io_threaded_writes_processed', s.ioThreads?.writesProcessed ?? 0],
    // Valkey 8's counters of the read-ahead across the I/O threads' connections.
    ['io_threaded_total_prefetch_batches', s.ioThreads?.prefetchBatches ?? 0],
    ['io_threaded_total_prefetch_entries', s.ioThreads?.prefetchEntries ?? 0],
    ['client_query_buffer_limit_disconnections', st.clientQueryBufferLimitDisconnections],
    ['client_output_buffer_limit_disconnections', st.clientOutputBufferLimitDisconnections],
    // Replies go out in fixed-size slabs (CLIENT LIST's rbs): no client reply buffer is ever resized.
    ['reply_buffer_shrinks', 0],
    ['reply_buffer_expands', 0],
    ['acl_access_denied_auth', s.acl.log.stats.auth],
    ['acl_access_denied_cmd', s.acl.log.stats.cmd],
    ['acl_access_denied_key', s.acl.log.stats.key],
    ['acl_access_denied_channel', s.acl.log.stats.channel],
    ['vireo_internal_errors', st.internalErrors],
    ['vireo_changefeed_entries_added', s.changeFeed.entriesAdded],
    ['vireo_changefeed_entries_lost', s.changeFeed.entriesLost],
  ];
}

function replicationSection(s: InfoSource): Fields {
  const ids = s.replIds;
  return [
    ['role', s.replica.isReplica ? 'slave' : 'master'],
    ...s.replica.infoFields(),
    ...s.primary.infoFields(),
    ['master_failover_state', s.failover.state],
    ['master_replid', ids.replId],
    ['master_replid2', ids.replId2],
    ['master_repl_offset', s.engine.log.offset],
    ['second_repl_offset', ids.secondOffset],
    ...s.primary.backlogFields(),
  ];
}

function cpuSection(): Fields {
  const u = process.cpuUsage();
  const sys = (u.system / 1e6).toFixed(6);
  const user = (u.user / 1e6).toFixed(6);
  return [
    ['used_cpu_sys', sys],
    ['used_cpu_user', user],
    ['used_cpu_sys_children', '0.000000'],
    ['used_cpu_user_children', '0.000000'],
    ['used_cpu_sys_main_thread', sys],
    ['used_cpu_user_main_thread', user],
  ];
}

function errorstatsSection(s: InfoSource): Fields {
  return [...s.stats.errors].map(([code, n]) => [`errorstat_${code}`, `count=${n}`]);
}

function keyspaceSection(s: InfoSource): Fields {
  const out: Fields = [];
  const now = Date.now();
  for (const db of s.engine.dbs) {
    if (db.size === 0) continue;
    let ttlSum = 0;
    let ttlCount = 0;
    if (db.volatileCount > 0 && db.volatileCount <= 10000) {
      for (const [, when] of db.expireEntries()) {
        ttlSum += Math.max(0, when - now);
        ttlCount++;
      }
    }
    const avgTtl = ttlCount === 0 ? 0 : Math.floor(ttlSum / ttlCount);
    out.push([`db${db.id}`, `keys=${db.size},expires=${db.volatileCount},avg_ttl=${avgTtl}`]);
  }
  return out;
}

function commandstatsSection(s: InfoSource): Fields {
  const out: Fields = [];
  for (const cmd of s.table.all()) {
    const st = cmd.stats;
    if (st.calls === 0 && st.rejected === 0 && st.failed === 0) continue;
    const usec = Math.round(st.usec);
    const perCall = st.calls === 0 ? 0 : st.usec / st.calls;
    out.push([
      `cmdstat_${cmd.name}`,
      `calls=${st.calls},usec=${usec},usec_per_call=${perCall.toFixed(2)},rejected_calls=${st.rejected},failed_calls=${st.failed}`,
    ]);
  }
  return out;
}

/** `p50=1.003,p99=3.007,p99.9=5.023`: the configured percentiles in microseconds, as Redis prints them. */
function latencystatsSection(s: InfoSource): Fields {
  const out: Fields = [];
  const percentiles = s.timing.percentiles;
  for (const cmd of s.table.all()) {
    const h = cmd.stats.latency;
    if (h === null || h.calls === 0) continue;
    const parts = percentiles.map((p) => `p${formatPercentile(p)}=${h.percentileUs(p).toFixed(3)}`);
    out.push([`latency_percentiles_usec_${cmd.name}`, parts.join(',')]);
  }
  return out;
}

/** A percentile as Redis prints it: "%f" with the trailing zeros (and point) trimmed. */
function formatPercentile(p: number): string {
  return p.toFixed(6).replace(/\.?0+$/, '');
}

const SECTIONS: Record<string, { title: string; build: (s: InfoSource) => Fields }> = {
  server: { title: 'Server', build: serverSection },
  clients: { title: 'Clients', build: clientsSection },
  memory: { title: 'Memory', build: memorySection },
  persistence: { title: 'Persistence', build: persistenceSection },
  stats: { title: 'Stats', build: statsSection },
  replication: { title: 'Replication', build: replicationSection },
  cpu: { title: 'CPU', build: cpuSection },
  module_list: { title: 'Modules', build: () => [] },
  errorstats: { title: 'Errorstats', build: errorstatsSection },
  cluster: { title: 'Cluster', build: () => [['cluster_enabled', 0]] },
  keyspace: { title: 'Keyspace', build: keyspaceSection },
  commandstats: { title: 'Commandstats', build: commandstatsSection },
  latencystats: { title: 'Latencystats', build: latencystatsSection },
};

/** One INFO section: its name, its title line and its fields in order. */
export interface InfoSection {
  readonly name: string;
  readonly title: string;
  readonly fields: Fields;
}

/** The INFO text for the requested sections (Redis' genRedisInfoString). */
export function infoString(s: InfoSource, requested: string[]): string {
  return infoSections(s, requested)
    .map((sec) => `# ${sec.title}\r\n${sec.fields.map(([k, v]) => `${k}:${v}\r\n`).join('')}`)
    .join('\r\n');
}

/** The requested sections' fields, as INFO would print them (the Prometheus endpoint maps them to metrics). */
export function infoSections(s: InfoSource, requested: string[]): InfoSection[] {
  let names: string[];
  if (requested.length === 0) names = DEFAULT_SECTIONS;
  else {
    const set = new Set<string>();
    for (const r of requested.map((x) => x.toLowerCase())) {
      if (r === 'default') DEFAULT_SECTIONS.forEach((n) => set.add(n));
      else if (r === 'all' || r === 'everything') ALL_SECTIONS.forEach((n) => set.add(n));
      else if (r === 'modules') set.add('module_list');
      else set.add(r);
    }
    names = ALL_SECTIONS.filter((n) => set.has(n));
  }
  return names.map((name) => {
    const sec = SECTIONS[name]!;
    return { name, title: sec.title, fields: sec.build(s) };
  });
}
