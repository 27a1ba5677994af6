/**
 * INFO fields as Prometheus metric families, named and typed the way
 * redis_exporter (oliver006/redis_exporter, 1.45 as Debian ships it) names
 * them, so dashboards built on the exporter read Vireo's own endpoint
 * unchanged: a field in the exporter's map gets the exporter's name
 * (used_memory -> redis_memory_used_bytes), commandstats become
 * redis_commands_total{cmd}, keyspace lines redis_db_keys{db}, and so on.
 * Vireo's own metrics are named vireo_*.
 *
 * Pure: the endpoint (server/prometheus.ts) gathers the inputs and renders
 * the families with prom-client.
 */

import type { InfoSection } from '../server/info.js';

export type FamilyType = 'gauge' | 'counter' | 'summary';

export interface Sample {
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

/** A summary's precomputed quantiles, sum and count for one label set. */
export interface SummarySample {
  readonly labels: Readonly<Record<string, string>>;
  readonly quantiles: readonly (readonly [string, number])[];
  readonly sum: number;
  readonly count: number;
}

export interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: FamilyType;
  readonly labelNames: readonly string[];
  readonly samples: Sample[];
  readonly summaries: SummarySample[];
}

/** What a scrape reads besides INFO ALL (the exporter asks CONFIG, SLOWLOG and LATENCY for these). */
export interface ScrapeInput {
  readonly sections: readonly InfoSection[];
  readonly config: { readonly maxclients: number; readonly maxmemory: number; readonly ioThreads: number; readonly databases: number };
  readonly slowlog: { readonly length: number; readonly lastId: number; readonly lastDurationUs: number };
  /** LATENCY LATEST: each event's newest spike. */
  readonly latencyEvents: readonly { readonly name: string; readonly time: number; readonly ms: number }[];
  readonly nowMs: number;
}

/** INFO fields the exporter exports as gauges, under its name for them. */
const GAUGES: Record<string, string> = {
  uptime_in_seconds: 'uptime_in_seconds',
  process_id: 'process_id',
  io_threads_active: 'io_threads_active',
  connected_clients: 'connected_clients',
  cluster_connections: 'cluster_connections',
  blocked_clients: 'blocked_clients',
  tracking_clients: 'tracking_clients',
  clients_in_timeout_table: 'clients_in_timeout_table',
  client_recent_max_output_buffer: 'client_recent_max_output_buffer_bytes',
  client_recent_max_input_buffer: 'client_recent_max_input_buffer_bytes',
  allocator_active: 'allocator_active_bytes',
  allocator_allocated: 'allocator_allocated_bytes',
  allocator_resident: 'allocator_resident_bytes',
  allocator_frag_ratio: 'allocator_frag_ratio',
  allocator_frag_bytes: 'allocator_frag_bytes',
  allocator_rss_ratio: 'allocator_rss_ratio',
  allocator_rss_bytes: 'allocator_rss_bytes',
  used_memory: 'memory_used_bytes',
  used_memory_rss: 'memory_used_rss_bytes',
  used_memory_peak: 'memory_used_peak_bytes',
  used_memory_lua: 'memory_used_lua_bytes',
  used_memory_overhead: 'memory_used_overhead_bytes',
  used_memory_startup: 'memory_used_startup_bytes',
  used_memory_dataset: 'memory_used_dataset_bytes',
  used_memory_scripts: 'memory_used_scripts_bytes',
  number_of_cached_scripts: 'number_of_cached_scripts',
  maxmemory: 'memory_max_bytes',
  mem_fragmentation_ratio: 'mem_fragmentation_ratio',
  mem_fragmentation_bytes: 'mem_fragmentation_bytes',
  mem_clients_slaves: 'mem_clients_slaves',
  mem_clients_normal: 'mem_clients_normal',
  mem_not_counted_for_evict: 'mem_not_counted_for_eviction_bytes',
  lazyfree_pending_objects: 'lazyfree_pending_objects',
  active_defrag_running: 'active_defrag_running',
  loading: 'loading_dump_file',
  rdb_changes_since_last_save: 'rdb_changes_since_last_save',
  rdb_bgsave_in_progress: 'rdb_bgsave_in_progress',
  rdb_last_save_time: 'rdb_last_save_timestamp_seconds',
  rdb_last_bgsave_status: 'rdb_last_bgsave_status',
  rdb_last_bgsave_time_sec: 'rdb_last_bgsave_duration_sec',
  rdb_current_bgsave_time_sec: 'rdb_current_bgsave_duration_sec',
  rdb_last_cow_size: 'rdb_last_cow_size_bytes',
  aof_enabled: 'aof_enabled',
  aof_rewrite_in_progress: 'aof_rewrite_in_progress',
  aof_rewrite_scheduled: 'aof_rewrite_scheduled',
  aof_last_rewrite_time_sec: 'aof_last_rewrite_duration_sec',
  aof_current_rewrite_time_sec: 'aof_current_rewrite_duration_sec',
  aof_last_cow_size: 'aof_last_cow_size_bytes',
  aof_current_size: 'aof_current_size_bytes',
  aof_base_size: 'aof_base_size_bytes',
  aof_pending_rewrite: 'aof_pending_rewrite',
  aof_buffer_length: 'aof_buffer_length',
  aof_rewrite_buffer_length: 'aof_rewrite_buffer_length',
  aof_pending_bio_fsync: 'aof_pending_bio_fsync',
  aof_delayed_fsync: 'aof_delayed_fsync',
  aof_last_bgrewrite_status: 'aof_last_bgrewrite_status',
  aof_last_write_status: 'aof_last_write_status',
  module_fork_in_progress: 'module_fork_in_progress',
  module_fork_last_cow_size: 'module_fork_last_cow_size',
  expired_stale_perc: 'expired_stale_percentage',
  expired_time_cap_reached_count: 'expired_time_cap_reached_total',
  migrate_cached_sockets: 'migrate_cached_sockets_total',
  active_defrag_hits: 'defrag_hits',
  active_defrag_misses: 'defrag_misses',
  active_defrag_key_hits: 'defrag_key_hits',
  active_defrag_key_misses: 'defrag_key_misses',
  pubsub_channels: 'pubsub_channels',
  pubsub_patterns: 'pubsub_patterns',
  tracking_total_keys: 'tracking_total_keys',
  tracking_total_items: 'tracking_total_items',
  tracking_total_prefixes: 'tracking_total_prefixes',
  slave_expires_tracked_keys: 'slave_expires_tracked_keys',
  sync_full: 'replica_resyncs_full',
  sync_partial_ok: 'replica_partial_resync_accepted',
  sync_partial_err: 'replica_partial_resync_denied',
  connected_slaves: 'connected_slaves',
  repl_backlog_size: 'replication_backlog_bytes',
  repl_backlog_active: 'repl_backlog_is_active',
  repl_backlog_first_byte_offset: 'repl_backlog_first_byte_offset',
  repl_backlog_histlen: 'repl_backlog_history_bytes',
  master_repl_offset: 'master_repl_offset',
  second_repl_offset: 'second_repl_offset',
  slave_priority: 'slave_priority',
  cluster_enabled: 'cluster_enabled',
};

/** INFO fields the exporter exports as counters, under its name for them. */
const COUNTERS: Record<string, string> = {
  total_connections_received: 'connections_received_total',
  total_commands_processed: 'commands_processed_total',
  rejected_connections: 'rejected_connections_total',
  total_net_input_bytes: 'net_input_bytes_total',
  total_net_output_bytes: 'net_output_bytes_total',
  expired_keys: 'expired_keys_total',
  evicted_keys: 'evicted_keys_total',
  keyspace_hits: 'keyspace_hits_total',
  keyspace_misses: 'keyspace_misses_total',
  used_cpu_sys: 'cpu_sys_seconds_total',
  used_cpu_user: 'cpu_user_seconds_total',
  used_cpu_sys_children: 'cpu_sys_children_seconds_total',
  used_cpu_user_children: 'cpu_user_children_seconds_total',
  used_cpu_sys_main_thread: 'cpu_sys_main_thread_seconds_total',
  used_cpu_user_main_thread: 'cpu_user_main_thread_seconds_total',
  total_error_replies: 'total_error_replies',
  unexpected_error_replies: 'unexpected_error_replies',
  dump_payload_sanitizations: 'dump_payload_sanitizations',
  total_reads_processed: 'total_reads_processed',
  total_writes_processed: 'total_writes_processed',
  io_threaded_reads_processed: 'io_threaded_reads_processed',
  io_threaded_writes_processed: 'io_threaded_writes_processed',
};

/** Vireo's own INFO fields, as vireo_* counters. */
const VIREO_COUNTERS: Record<string, string> = {
  vireo_internal_errors: 'vireo_internal_errors_total',
  vireo_changefeed_entries_added: 'vireo_changefeed_entries_added_total',
  vireo_changefeed_entries_lost: 'vireo_changefeed_entries_lost_total',
};

/** Empty databases get zero rows, as the exporter writes them, up to this many (databases may be huge). */
const MAX_ZERO_FILLED_DBS = 256;

/** Collects samples into families by name, keeping first-seen order. */
class FamilySet {
  private readonly families = new Map<string, Family>();

  family(name: string, type: FamilyType, help: string, labelNames: readonly string[] = []): Family {
    let f = this.families.get(name);
    if (f === undefined) {
      f = { name, help, type, labelNames, samples: [], summaries: [] };
      this.families.set(name, f);
    }
    return f;
  }

  add(name: string, type: FamilyType, help: string, value: number, labels: Record<string, string> = {}): void {
    this.family(name, type, help, Object.keys(labels)).samples.push({ labels, value });
  }

  list(): Family[] {
    return [...this.families.values()];
  }
}

/** A field's value as the exporter reads it: ok/true 1, err/fail/false 0, a decimal number, or null. */
export function fieldNumber(value: string | number): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? value : null;
  switch (value) {
    case 'ok':
    case 'true':
      return 1;
    case 'err':
    case 'fail':
    case 'false':
      return 0;
  }
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(value)) return null;
  return Number(value);
}

/** `a=1,b=2` as a map (INFO's keyspace, commandstats, slaveN and latencystats values). */
function subfields(value: string | number): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of String(value).split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq), part.slice(eq + 1));
  }
  return out;
}

/** Every family for one scrape: redis_* as the exporter names them, then vireo_*. */
export function scrapeFamilies(input: ScrapeInput): Family[] {
  const set = new FamilySet();
  const fields = new Map<string, string | number>();
  for (const sec of input.sections) for (const [k, v] of sec.fields) fields.set(k, v);
  set.add('redis_up', 'gauge', 'Information about the Redis instance', 1);
  for (const sec of input.sections) addSection(set, sec, fields, input);
  addInstanceInfo(set, fields, input.nowMs);
  addConfig(set, input);
  addSlowlog(set, input);
  addLatencySpikes(set, input);
  addVireo(set, fields, input.nowMs);
  return set.list();
}

function addSection(set: FamilySet, sec: InfoSection, fields: Map<string, string | number>, input: ScrapeInput): void {
  switch (sec.name) {
    case 'commandstats':
      return addCommandstats(set, sec);
    case 'latencystats':
      return addLatencystats(set, sec, fields);
    case 'errorstats':
      return addErrorstats(set, sec);
    case 'keyspace':
      return addKeyspace(set, sec, input.config.databases);
    case 'replication':
      addReplication(set, sec, fields);
      break;
  }
  for (const [key, raw] of sec.fields) addMappedField(set, key, raw);
}

/** One plain INFO field, if the exporter's map (or Vireo's) names it. */
function addMappedField(set: FamilySet, key: string, raw: string | number): void {
  const value = fieldNumber(raw);
  if (value === null) return;
  if (key === 'latest_fork_usec') {
    set.add('redis_latest_fork_seconds', 'gauge', 'latest_fork_seconds metric', value / 1e6);
    return;
  }
  const gauge = GAUGES[key];
  if (gauge !== undefined) return set.add(`redis_${gauge}`, 'gauge', `${gauge} metric`, value);
  const counter = COUNTERS[key];
  if (counter !== undefined) return set.add(`redis_${counter}`, 'counter', `${counter} metric`, value);
  const own = VIREO_COUNTERS[key];
  if (own !== undefined) set.add(own, 'counter', `INFO ${key}`, value);
}

function addCommandstats(set: FamilySet, sec: InfoSection): void {
  for (const [key, raw] of sec.fields) {
    if (!key.startsWith('cmdstat_')) continue;
    const cmd = key.slice('cmdstat_'.length);
    const f = subfields(raw);
    const labels = { cmd };
    set.add('redis_commands_total', 'counter', 'Total number of calls per command', Number(f.get('calls') ?? 0), labels);
    set.add('redis_commands_duration_seconds_total', 'counter', 'Total amount of time in seconds spent per command', Number(f.get('usec') ?? 0) / 1e6, labels);
    set.add('redis_commands_rejected_calls_total', 'counter', 'Total number of errors prior command execution per command', Number(f.get('rejected_calls') ?? 0), labels);
    set.add('redis_commands_failed_calls_total', 'counter', 'Total number of errors within command execution per command', Number(f.get('failed_calls') ?? 0), labels);
  }
}

/** latency_percentiles_usec_<cmd> as a summary whose sum and count come from commandstats, as the exporter builds it. */
function addLatencystats(set: FamilySet, sec: InfoSection, fields: Map<string, string | number>): void {
  const prefix = 'latency_percentiles_usec_';
  for (const [key, raw] of sec.fields) {
    if (!key.startsWith(prefix)) continue;
    const cmd = key.slice(prefix.length);
    const stats = fields.get(`cmdstat_${cmd}`);
    if (stats === undefined) continue;
    const calls = subfields(stats);
    const quantiles: [string, number][] = [];
    for (const [p, v] of subfields(raw)) quantiles.push([p.slice(1), Number(v)]);
    set
      .family('redis_latency_percentiles_usec', 'summary', 'A summary of latency percentile distribution per command', ['cmd'])
      .summaries.push({ labels: { cmd }, quantiles, sum: Number(calls.get('usec') ?? 0), count: Number(calls.get('calls') ?? 0) });
  }
}

function addErrorstats(set: FamilySet, sec: InfoSection): void {
  for (const [key, raw] of sec.fields) {
    if (!key.startsWith('errorstat_')) continue;
    const count = Number(subfields(raw).get('count') ?? 0);
    set.add('redis_errors_total', 'counter', 'Total number of errors per error type', count, { err: key.slice('errorstat_'.length) });
  }
}

/** dbN:keys=..,expires=..,avg_ttl=.. as redis_db_keys{db} and friends; empty databases as zeros. */
function addKeyspace(set: FamilySet, sec: InfoSection, databases: number): void {
  const seen = new Map<string, Map<string, string>>();
  for (const [key, raw] of sec.fields) if (/^db\d+$/.test(key)) seen.set(key, subfields(raw));
  const names = new Set<string>();
  for (let i = 0; i < Math.min(databases, MAX_ZERO_FILLED_DBS); i++) names.add(`db${i}`);
  for (const db of seen.keys()) names.add(db);
  for (const db of names) {
    const f = seen.get(db);
    set.add('redis_db_keys', 'gauge', 'Total number of keys by DB', Number(f?.get('keys') ?? 0), { db });
    set.add('redis_db_keys_expiring', 'gauge', 'Total number of expiring keys by DB', Number(f?.get('expires') ?? 0), { db });
  }
  for (const [db, f] of seen) set.add('redis_db_avg_ttl_seconds', 'gauge', 'Avg TTL in seconds', Number(f.get('avg_ttl') ?? 0) / 1000, { db });
}

/** A replica's fields about its link that the exporter labels with the primary's address. */
const REPLICA_LINK_HELP: Record<string, string> = {
  master_last_io_seconds_ago: 'Master last io seconds ago',
  master_sync_in_progress: 'Master sync in progress',
  slave_repl_offset: 'Slave replication offset',
};

/** The replicas (slaveN lines) and, on a replica, its link to the primary, labelled as the exporter labels them. */
function addReplication(set: FamilySet, sec: InfoSection, fields: Map<string, string | number>): void {
  const masterLabels = { master_host: String(fields.get('master_host') ?? ''), master_port: String(fields.get('master_port') ?? '') };
  for (const [key, raw] of sec.fields) {
    if (/^slave\d+$/.test(key)) {
      const f = subfields(raw);
      const labels = { slave_ip: f.get('ip') ?? '', slave_port: f.get('port') ?? '', slave_state: f.get('state') ?? '' };
      set.add('redis_connected_slave_offset_bytes', 'gauge', 'Offset of connected slave', Number(f.get('offset') ?? 0), labels);
      set.add('redis_connected_slave_lag_seconds', 'gauge', 'Lag of connected slave', Number(f.get('lag') ?? 0), labels);
    } else if (key === 'master_link_status') {
      set.add('redis_master_link_up', 'gauge', 'Master link status on Redis slave', raw === 'up' ? 1 : 0, masterLabels);
    } else if (REPLICA_LINK_HELP[key] !== undefined) {
      set.add(`redis_${key}`, 'gauge', REPLICA_LINK_HELP[key], Math.trunc(fieldNumber(raw) ?? 0), masterLabels);
    }
  }
  if (fields.get('role') === 'slave') {
    const labels = { ...masterLabels, read_only: String(fields.get('slave_read_only') ?? '') };
    set.add('redis_slave_info', 'gauge', 'Information about the Redis slave', 1, labels);
  }
}

function addInstanceInfo(set: FamilySet, fields: Map<string, string | number>, nowMs: number): void {
  const labels: Record<string, string> = {};
  for (const name of ['role', 'redis_version', 'redis_build_id', 'redis_mode', 'os', 'maxmemory_policy', 'tcp_port', 'run_id', 'process_id']) {
    labels[name] = String(fields.get(name) ?? '');
  }
  set.add('redis_instance_info', 'gauge', 'Information about the Redis instance', 1, labels);
  const uptime = fieldNumber(fields.get('uptime_in_seconds') ?? '');
  if (uptime !== null) set.add('redis_start_time_seconds', 'gauge', 'Start time of the Redis instance since unix epoch in seconds.', Math.floor(nowMs / 1000) - uptime);
}

/** What the exporter reads with CONFIG GET. */
function addConfig(set: FamilySet, input: ScrapeInput): void {
  set.add('redis_config_io_threads', 'gauge', 'config_io_threads metric', input.config.ioThreads);
  set.add('redis_config_maxclients', 'gauge', 'config_maxclients metric', input.config.maxclients);
  set.add('redis_config_maxmemory', 'gauge', 'config_maxmemory metric', input.config.maxmemory);
}

/** What the exporter reads with SLOWLOG LEN and SLOWLOG GET 1. */
function addSlowlog(set: FamilySet, input: ScrapeInput): void {
  const s = input.slowlog;
  set.add('redis_slowlog_length', 'gauge', 'Total slowlog', s.length);
  set.add('redis_slowlog_last_id', 'gauge', 'Last id of slowlog', s.lastId);
  set.add('redis_last_slow_execution_duration_seconds', 'gauge', 'The amount of time needed for last slow execution, in seconds', s.lastDurationUs / 1e6);
}

/** What the exporter reads with LATENCY LATEST. */
function addLatencySpikes(set: FamilySet, input: ScrapeInput): void {
  for (const e of input.latencyEvents) {
    const labels = { event_name: e.name };
    set.add('redis_latency_spike_last', 'gauge', 'When the latency spike last occurred', e.time, labels);
    set.add('redis_latency_spike_duration_seconds', 'gauge', 'Length of the last latency spike in seconds', e.ms / 1e3, labels);
  }
}

/** Vireo's own: the command log's offset, the snapshot's age, the last BGSAVE's longest slice, each replica's lag in bytes. */
function addVireo(set: FamilySet, fields: Map<string, string | number>, nowMs: number): void {
  const offset = fieldNumber(fields.get('master_repl_offset') ?? '');
  if (offset !== null) set.add('vireo_command_log_offset_bytes', 'gauge', 'Bytes appended to the command log (its offset is the replication offset)', offset);
  const lastSave = fieldNumber(fields.get('rdb_last_save_time') ?? '');
  if (lastSave !== null) set.add('vireo_snapshot_age_seconds', 'gauge', 'Seconds since the last successful snapshot (RDB save)', Math.max(0, Math.floor(nowMs / 1000) - lastSave));
  // The last BGSAVE's longest slice on the event loop (-1 until one ran: no sample).
  const slice = fieldNumber(fields.get('vireo_rdb_last_bgsave_longest_slice_ms') ?? '');
  if (slice !== null && slice >= 0) set.add('vireo_rdb_last_bgsave_longest_slice_seconds', 'gauge', "Wall time of the last BGSAVE's longest slice on the event loop", slice / 1e3);
  const sliceCpu = fieldNumber(fields.get('vireo_rdb_last_bgsave_longest_slice_cpu_ms') ?? '');
  if (sliceCpu !== null && sliceCpu >= 0) set.add('vireo_rdb_last_bgsave_longest_slice_cpu_seconds', 'gauge', "Event-loop CPU time of the last BGSAVE's longest slice", sliceCpu / 1e3);
  if (offset === null) return;
  for (const [key, raw] of fields) {
    if (!/^slave\d+$/.test(key)) continue;
    const f = subfields(raw);
    const labels = { replica_ip: f.get('ip') ?? '', replica_port: f.get('port') ?? '', replica_state: f.get('state') ?? '' };
    set.add('vireo_replica_lag_bytes', 'gauge', 'Command log bytes a replica has not acknowledged yet', Math.max(0, offset - Number(f.get('offset') ?? 0)), labels);
  }
}
