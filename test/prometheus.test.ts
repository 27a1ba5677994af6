// The Prometheus endpoint (prometheus-port): what /metrics serves, parsed with
// a real text-format parser and checked against what the commands report;
// the redis_exporter name mapping checked against the exporter itself; and
// Debian's prometheus-redis-exporter scraping redis-server 7.0 and Vireo,
// every family it makes for the one made for the other, with no warnings.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { Config } from '../src/config.js';
import { metricsHost } from '../src/server/prometheus.js';
import { scrapeFamilies } from '../src/diagnostics/prometheus-families.js';
import type { InfoSection } from '../src/server/info.js';
import { useCleanups, js } from './helpers/cleanups.js';
import { HAVE_REDIS, freePort, startRedis, startVireo, type ProcessHandle, type VireoHandle } from './helpers/servers.js';
import { RespClient } from './helpers/resp.js';
import { infoField, waitFor } from './helpers/info.js';

/** parse-prometheus-text-format's output (the shape of prom2json). */
interface ParsedMetric {
  value?: string;
  labels?: Record<string, string>;
  quantiles?: Record<string, string>;
  buckets?: Record<string, string>;
  count?: string;
  sum?: string;
}
interface ParsedFamily {
  name: string;
  help: string;
  type: 'GAUGE' | 'COUNTER' | 'SUMMARY' | 'HISTOGRAM' | 'UNTYPED';
  metrics: ParsedMetric[];
}
const parseText = parsePrometheusTextFormat as unknown as (text: string) => ParsedFamily[];

interface HttpAnswer {
  status: number;
  contentType: string;
  body: string;
}

function httpRequest(port: number, path: string, method = 'GET'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** GET /metrics, parsed: family name -> family. */
async function scrape(port: number): Promise<Map<string, ParsedFamily>> {
  const a = await httpRequest(port, '/metrics');
  expect(a.status, a.body).toBe(200);
  return new Map(parseText(a.body).map((f) => [f.name, f]));
}

/** The value of the sample of `name` whose labels include `labels` (undefined when there is none). */
function sample(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string> = {}): number | undefined {
  const m = families.get(name)?.metrics.find((x) => Object.entries(labels).every(([k, v]) => x.labels?.[k] === v));
  return m?.value === undefined ? undefined : Number(m.value);
}

async function infoNum(c: RespClient, section: string, field: string): Promise<number> {
  return Number(infoField(await c.call('INFO', section), field));
}

/** INFO text as the sections infoSections() returns. */
function sectionsOf(text: string): InfoSection[] {
  const out: { name: string; title: string; fields: [string, string][] }[] = [];
  for (const line of text.split('\r\n')) {
    if (line.startsWith('# ')) out.push({ name: line.slice(2).toLowerCase(), title: line.slice(2), fields: [] });
    else if (line.includes(':') && out.length > 0) {
      const i = line.indexOf(':');
      out[out.length - 1]!.fields.push([line.slice(0, i), line.slice(i + 1)]);
    }
  }
  return out;
}

describe('the Prometheus endpoint', () => {
  const { track, client } = useCleanups();

  async function withEndpoint(params: Record<string, string> = {}): Promise<{ v: VireoHandle; port: number; c: RespClient }> {
    const port = await freePort();
    const v = track(await startVireo({ 'prometheus-port': String(port), ...params }));
    expect(v.server.prometheusPort).toBe(port);
    return { v, port, c: await client(v.port) };
  }

  it('is off by default', async () => {
    const v = track(await startVireo());
    expect(v.server.prometheusPort).toBe(0);
    const c = await client(v.port);
    const pairs = (await js(c, 'CONFIG', 'GET', 'prometheus-*')) as string[];
    expect(Object.fromEntries([0, 2].map((i) => [pairs[i], pairs[i + 1]]))).toEqual({ 'prometheus-port': '0', 'prometheus-bind': '' });
    // Set at start-up only.
    expect(await c.call('CONFIG', 'SET', 'prometheus-port', '9121')).toEqual({
      type: 'error',
      value: "ERR CONFIG SET failed (possibly related to argument 'prometheus-port') - can't set immutable config",
    });
  });

  it('serves the text format, with families that agree with DBSIZE, commandstats and INFO', async () => {
    const { port, c } = await withEndpoint();
    for (let i = 0; i < 25; i++) await c.call('SET', `k${i}`, 'v');
    await c.call('EXPIRE', 'k0', '1000');
    await c.call('GET', 'k1');
    await c.call('GET', 'missing');
    await c.call('SELECT', '3');
    await c.call('RPUSH', 'list', 'a', 'b');
    await c.call('INCR', 'list');
    await c.call('NOSUCHCOMMAND');
    await c.call('SELECT', '0');

    const answer = await httpRequest(port, '/metrics');
    expect(answer.status).toBe(200);
    expect(answer.contentType).toBe('text/plain; version=0.0.4; charset=utf-8');
    const f = new Map(parseText(answer.body).map((x) => [x.name, x]));

    expect(sample(f, 'redis_up')).toBe(1);
    expect(sample(f, 'redis_db_keys', { db: 'db0' })).toBe(Number(await js(c, 'DBSIZE')));
    expect(sample(f, 'redis_db_keys', { db: 'db0' })).toBe(25);
    expect(sample(f, 'redis_db_keys_expiring', { db: 'db0' })).toBe(1);
    expect(sample(f, 'redis_db_keys', { db: 'db3' })).toBe(1);
    // Empty databases are zeros, as the exporter writes them.
    expect(sample(f, 'redis_db_keys', { db: 'db15' })).toBe(0);
    expect(sample(f, 'redis_db_avg_ttl_seconds', { db: 'db0' })).toBeGreaterThan(0);
    expect(sample(f, 'redis_commands_total', { cmd: 'set' })).toBe(25);
    expect(sample(f, 'redis_commands_total', { cmd: 'get' })).toBe(2);
    expect(sample(f, 'redis_commands_failed_calls_total', { cmd: 'incr' })).toBe(1);
    expect(sample(f, 'redis_commands_duration_seconds_total', { cmd: 'set' })).toBeGreaterThan(0);
    expect(sample(f, 'redis_errors_total', { err: 'WRONGTYPE' })).toBe(1);
    expect(sample(f, 'redis_errors_total', { err: 'ERR' })).toBe(1);
    expect(sample(f, 'redis_keyspace_hits_total')).toBe(await infoNum(c, 'stats', 'keyspace_hits'));
    expect(sample(f, 'redis_keyspace_misses_total')).toBe(await infoNum(c, 'stats', 'keyspace_misses'));
    expect(sample(f, 'redis_connected_clients')).toBe(await infoNum(c, 'clients', 'connected_clients'));
    expect(sample(f, 'redis_memory_max_bytes')).toBe(0);
    expect(sample(f, 'redis_config_maxclients')).toBe(10000);
    expect(f.get('redis_commands_total')?.type).toBe('COUNTER');
    expect(f.get('redis_memory_used_bytes')?.type).toBe('GAUGE');
    expect(sample(f, 'redis_memory_used_bytes')).toBeGreaterThan(0);

    const info = f.get('redis_instance_info')!.metrics[0]!.labels!;
    expect(info).toMatchObject({ role: 'master', redis_version: '7.2.4', redis_mode: 'standalone', maxmemory_policy: 'noeviction' });
    expect(info.tcp_port).toBe(String(await infoNum(c, 'server', 'tcp_port')));

    // INFO latencystats as the exporter's summary: quantiles, with commandstats' usec and calls as sum and count.
    // (The parser folds a labelled summary's samples into one: the lines themselves are read here.)
    expect(f.get('redis_latency_percentiles_usec')?.type).toBe('SUMMARY');
    const lines = answer.body.split('\n').filter((l) => l.startsWith('redis_latency_percentiles_usec') && l.includes('{cmd="set"'));
    expect(lines.map((l) => l.replace(/ [^ ]+$/, ''))).toEqual([
      'redis_latency_percentiles_usec{cmd="set",quantile="50"}',
      'redis_latency_percentiles_usec{cmd="set",quantile="99"}',
      'redis_latency_percentiles_usec{cmd="set",quantile="99.9"}',
      'redis_latency_percentiles_usec_sum{cmd="set"}',
      'redis_latency_percentiles_usec_count{cmd="set"}',
    ]);
    expect(lines[4]).toBe('redis_latency_percentiles_usec_count{cmd="set"} 25');
    const setStats = infoField(await c.call('INFO', 'commandstats'), 'cmdstat_set');
    expect(lines[3]).toBe(`redis_latency_percentiles_usec_sum{cmd="set"} ${/usec=(\d+)/.exec(setStats)![1]}`);

    // Vireo's own.
    expect(sample(f, 'vireo_command_log_offset_bytes')).toBe(await infoNum(c, 'replication', 'master_repl_offset'));
    expect(sample(f, 'vireo_internal_errors_total')).toBe(0);
  });

  it('reports the slow log and the latency monitor as the exporter does', async () => {
    const { port, c } = await withEndpoint();
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '1');
    await c.call('DEBUG', 'SLEEP', '0.01');
    // Both off again (each CONFIG SET is judged by the new value), so the reads below change neither.
    await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '0');
    await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '-1');
    const f = await scrape(port);
    const [newest] = (await js(c, 'SLOWLOG', 'GET', '1')) as [number, number, number][];
    expect(sample(f, 'redis_slowlog_length')).toBe(Number(await js(c, 'SLOWLOG', 'LEN')));
    expect(sample(f, 'redis_slowlog_length')).toBeGreaterThanOrEqual(3);
    expect(sample(f, 'redis_slowlog_last_id')).toBe(Number(newest![0]));
    expect(sample(f, 'redis_last_slow_execution_duration_seconds')).toBe(Number(newest![2]) / 1e6);
    const [event] = (await js(c, 'LATENCY', 'LATEST')) as [string, number, number, number][];
    expect(event![0]).toBe('command');
    expect(sample(f, 'redis_latency_spike_last', { event_name: 'command' })).toBe(Number(event![1]));
    expect(sample(f, 'redis_latency_spike_duration_seconds', { event_name: 'command' })).toBe(Number(event![2]) / 1000);
  });

  it('reports the snapshot age and the AOF fsync latency under appendfsync always', async () => {
    const { port, c } = await withEndpoint({ appendonly: 'yes', appendfsync: 'always' });
    const before = await scrape(port);
    const fsyncsBefore = Number(before.get('vireo_aof_fsync_duration_seconds')!.metrics[0]!.count);
    for (let i = 0; i < 5; i++) await c.call('SET', `k${i}`, 'v');
    const savedAt = Math.floor(Date.now() / 1000);
    expect(await js(c, 'SAVE')).toBe('OK');
    const f = await scrape(port);
    const age = sample(f, 'vireo_snapshot_age_seconds')!;
    expect(age).toBeGreaterThanOrEqual(0);
    expect(age).toBeLessThanOrEqual(Math.floor(Date.now() / 1000) - savedAt + 1);
    expect(sample(f, 'redis_rdb_last_save_timestamp_seconds')).toBe(await infoNum(c, 'persistence', 'rdb_last_save_time'));
    const h = f.get('vireo_aof_fsync_duration_seconds')!;
    expect(h.type).toBe('HISTOGRAM');
    const m = h.metrics[0]!;
    // Each acknowledged write waited for an fsync (group commits may share one).
    expect(Number(m.count)).toBeGreaterThan(fsyncsBefore);
    expect(Number(m.buckets!['+Inf'])).toBe(Number(m.count));
    expect(sample(f, 'redis_aof_enabled')).toBe(1);
  });

  it("reports the last BGSAVE's longest slice on the event loop, as INFO persistence does", async () => {
    const { port, c } = await withEndpoint({});
    // No background save yet: no sample rather than INFO's -1.
    expect(sample(await scrape(port), 'vireo_rdb_last_bgsave_longest_slice_seconds')).toBeUndefined();
    await c.call('DEBUG', 'POPULATE', '5000');
    expect(await js(c, 'BGSAVE')).toBe('Background saving started');
    await waitFor('the BGSAVE', async () => (await infoNum(c, 'persistence', 'rdb_bgsave_in_progress')) === 0);
    const f = await scrape(port);
    const ms = await infoNum(c, 'persistence', 'vireo_rdb_last_bgsave_longest_slice_ms');
    expect(ms).toBeGreaterThan(0);
    expect(sample(f, 'vireo_rdb_last_bgsave_longest_slice_seconds')).toBeCloseTo(ms / 1e3, 6);
    expect(sample(f, 'vireo_rdb_last_bgsave_longest_slice_cpu_seconds')).toBeCloseTo((await infoNum(c, 'persistence', 'vireo_rdb_last_bgsave_longest_slice_cpu_ms')) / 1e3, 6);
  });

  it('reports each replica: the exporter offsets and Vireo lag in bytes', async () => {
    const { port, v, c } = await withEndpoint({ 'repl-diskless-sync-delay': '0' });
    const replica = track(await startVireo({ replicaof: `127.0.0.1 ${v.port}` }));
    const rc = await client(replica.port);
    await c.call('SET', 'a', '1');
    const offset = await infoNum(c, 'replication', 'master_repl_offset');
    await waitFor('the replica to acknowledge', async () => {
      const f = await scrape(port);
      return sample(f, 'vireo_replica_lag_bytes', { replica_port: String(replica.port) }) === 0 && sample(f, 'redis_connected_slave_offset_bytes') === offset;
    });
    const f = await scrape(port);
    expect(sample(f, 'redis_connected_slaves')).toBe(1);
    expect(f.get('redis_connected_slave_lag_seconds')!.metrics[0]!.labels).toEqual({ slave_ip: '127.0.0.1', slave_port: String(replica.port), slave_state: 'online' });
    expect(Number(await js(rc, 'DBSIZE'))).toBe(1);
  });

  it('answers 404 beside /metrics, 405 to other methods, 500 when a scrape fails, and keeps serving', async () => {
    const { v, port, c } = await withEndpoint();
    expect((await httpRequest(port, '/')).status).toBe(404);
    expect((await httpRequest(port, '/metrics', 'POST')).status).toBe(405);
    const head = await httpRequest(port, '/metrics', 'HEAD');
    expect([head.status, head.body]).toEqual([200, '']);
    // A scrape that throws (here: reading the latency monitor's events).
    const events = v.server.latencyMonitor.events;
    const iterate = events[Symbol.iterator];
    events[Symbol.iterator] = () => {
      throw new Error('broken source');
    };
    try {
      expect((await httpRequest(port, '/metrics')).status).toBe(500);
      expect(await js(c, 'PING')).toBe('PONG');
    } finally {
      events[Symbol.iterator] = iterate;
    }
    expect((await httpRequest(port, '/metrics')).status).toBe(200);
  });

  it('closes with the server, and a port it cannot bind stops start-up', async () => {
    const { v, port } = await withEndpoint();
    await v.stop();
    await expect(httpRequest(port, '/metrics')).rejects.toThrow(/ECONNREFUSED/);

    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startVireo({ 'prometheus-port': String(taken) })).rejects.toThrow(/Prometheus endpoint on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('listens on prometheus-bind, else on the first bind address', () => {
    const host = (params: [string, string][]): string => {
      const config = new Config();
      config.setMany(params, { startup: true });
      return metricsHost(config);
    };
    expect(host([])).toBe('127.0.0.1');
    expect(host([['bind', '-::1 127.0.0.1']])).toBe('::1');
    expect(host([['bind', '* -::*']])).toBe('0.0.0.0');
    expect(host([['bind', '10.0.0.1 127.0.0.1']])).toBe('10.0.0.1');
    expect(host([['bind', '10.0.0.1'], ['prometheus-bind', '127.0.0.1']])).toBe('127.0.0.1');
  });
});

const EXPORTER = 'prometheus-redis-exporter';

/**
 * Whether Debian's redis_exporter is installed. Locally the exporter checks
 * skip with a notice when it is missing; under CI=true that is a failure.
 */
const HAVE_EXPORTER = (() => {
  const found = spawnSync('which', [EXPORTER]).status === 0;
  if (!found) {
    if (process.env.CI === 'true') throw new Error(`${EXPORTER} is required under CI=true (apt-get install prometheus-redis-exporter)`);
    console.warn(`[vireo tests] ${EXPORTER} not found: the redis_exporter checks are skipped`);
  }
  return found;
})();

/** The exporter's own families and those about key groups it was not asked for: not about the server scraped. */
const EXPORTER_OWN = /^(go_|process_|promhttp_|redis_exporter_|redis_target_scrape_request_errors_total$|redis_last_key_groups_scrape_duration_milliseconds$)/;

interface ExporterHandle {
  port: number;
  proc: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

async function startExporter(redisPort: number): Promise<ExporterHandle> {
  const port = await freePort();
  const proc = spawn(EXPORTER, ['--redis.addr', `redis://127.0.0.1:${redisPort}`, '--web.listen-address', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  proc.stdout?.on('data', (d) => (log += d));
  proc.stderr?.on('data', (d) => (log += d));
  const h: ExporterHandle = {
    port,
    proc,
    log: () => log,
    stop: async () => {
      if (proc.pid === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      process.kill(proc.pid, 'SIGTERM');
      await exited;
    },
  };
  try {
    await waitFor(`${EXPORTER} to listen`, async () => {
      if (proc.exitCode !== null) throw new Error(`${EXPORTER} exited: ${log}`);
      return httpRequest(port, '/').then(
        () => true,
        () => false,
      );
    });
  } catch (e) {
    await h.stop();
    throw e;
  }
  return h;
}

/** Family name -> the sorted label names of its samples (the shape a dashboard's queries rely on). */
async function exporterFamilies(e: ExporterHandle): Promise<Map<string, string>> {
  const text = (await httpRequest(e.port, '/metrics')).body;
  const out = new Map<string, string>();
  for (const f of parseText(text)) {
    if (EXPORTER_OWN.test(f.name)) continue;
    const labels = new Set<string>();
    for (const m of f.metrics) for (const k of Object.keys(m.labels ?? {})) labels.add(k);
    out.set(f.name, [...labels].sort().join(','));
  }
  return out;
}

/** The same traffic on both kinds of server: keys with and without TTLs, errors, a slow log entry, a latency spike. */
async function workload(c: RespClient): Promise<void> {
  for (let i = 0; i < 10; i++) await c.call('SET', `k${i}`, 'v');
  await c.call('SET', 'ttl', 'v', 'EX', '1000');
  await c.call('GET', 'k1');
  await c.call('GET', 'missing');
  await c.call('RPUSH', 'list', 'a');
  await c.call('INCR', 'list');
  await c.call('NOSUCHCOMMAND');
  await c.call('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
  await c.call('CONFIG', 'SET', 'latency-monitor-threshold', '1');
  await c.call('DEBUG', 'SLEEP', '0.01');
}

describe.skipIf(!HAVE_REDIS || !HAVE_EXPORTER)('redis_exporter (Debian) on redis-server 7.0 and on Vireo', () => {
  const servers: ProcessHandle[] = [];
  const vireos: VireoHandle[] = [];
  const exporters: ExporterHandle[] = [];
  const clients: RespClient[] = [];
  /** [redis, vireo] x [primary, replica]. */
  let scraped: { redis: Map<string, string>; vireo: Map<string, string>; vireoLog: string }[] = [];
  /** Vireo's own /metrics, of the primary and of the replica. */
  let ownEndpoints: Map<string, ParsedFamily>[] = [];
  let redisInfo = '';

  beforeAll(async () => {
    // The primaries keep an AOF (its INFO fields are exported only then), the replicas do not.
    const redis = await startRedis({ 'repl-diskless-sync-delay': '0', appendonly: 'yes' });
    servers.push(redis);
    const redisReplica = await startRedis({ replicaof: `127.0.0.1 ${redis.port}` });
    servers.push(redisReplica);
    const metricsPort = await freePort();
    const vireo = await startVireo({ 'prometheus-port': String(metricsPort), 'repl-diskless-sync-delay': '0', appendonly: 'yes' });
    vireos.push(vireo);
    const replicaMetricsPort = await freePort();
    const vireoReplica = await startVireo({ replicaof: `127.0.0.1 ${vireo.port}`, 'prometheus-port': String(replicaMetricsPort) });
    vireos.push(vireoReplica);
    for (const port of [redis.port, vireo.port]) {
      const c = await RespClient.connect(port);
      clients.push(c);
      await workload(c);
    }
    for (const [primary, replica] of [
      [redis.port, redisReplica.port],
      [vireo.port, vireoReplica.port],
    ] as const) {
      const p = await RespClient.connect(primary);
      const r = await RespClient.connect(replica);
      clients.push(p, r);
      await waitFor('the replica to be in sync', async () => {
        const want = infoField(await p.call('INFO', 'replication'), 'master_repl_offset');
        const rInfo = await r.call('INFO', 'replication');
        return infoField(rInfo, 'master_link_status') === 'up' && infoField(rInfo, 'slave_repl_offset') === want;
      }, 20000);
    }
    for (const port of [redis.port, vireo.port, redisReplica.port, vireoReplica.port]) exporters.push(await startExporter(port));
    const [eRedis, eVireo, eRedisReplica, eVireoReplica] = exporters;
    scraped = [
      { redis: await exporterFamilies(eRedis!), vireo: await exporterFamilies(eVireo!), vireoLog: '' },
      { redis: await exporterFamilies(eRedisReplica!), vireo: await exporterFamilies(eVireoReplica!), vireoLog: '' },
    ];
    for (const port of [metricsPort, replicaMetricsPort]) ownEndpoints.push(await scrape(port));
    redisInfo = ((await clients[0]!.call('INFO', 'ALL')) as { value: string }).value;
    scraped[0]!.vireoLog = eVireo!.log();
    scraped[1]!.vireoLog = eVireoReplica!.log();
  }, 60000);

  afterAll(async () => {
    for (const c of clients) c.close();
    for (const e of exporters) await e.stop();
    for (const v of vireos.reverse()) await v.stop();
    for (const s of servers.reverse()) await s.stop();
  });

  it.each([
    ['a primary', 0],
    ['a replica', 1],
  ])('makes every family for Vireo as %s that it makes for redis-server, with the same labels', (_what, i) => {
    const { redis, vireo } = scraped[i]!;
    expect(redis.get('redis_up')).toBe('');
    expect(redis.size).toBeGreaterThan(80);
    const missing: string[] = [];
    const relabelled: string[] = [];
    for (const [name, labels] of redis) {
      const mine = vireo.get(name);
      if (mine === undefined) missing.push(name);
      else if (mine !== labels) relabelled.push(`${name}: {${labels}} vs {${mine}}`);
    }
    expect(missing).toEqual([]);
    expect(relabelled).toEqual([]);
  });

  it('logs no warning or error while scraping Vireo', () => {
    for (const { vireoLog } of scraped) {
      expect(vireoLog).toContain('Providing metrics at');
      expect(vireoLog.split('\n').filter((l) => /level=(warning|error|fatal|panic)/.test(l))).toEqual([]);
    }
  });

  it.each([
    ['a primary', 0],
    ['a replica', 1],
  ])("names every family Vireo's own endpoint serves as %s as the exporter names it for Vireo", (_what, i) => {
    const { vireo } = scraped[i]!;
    const mine = ownEndpoints[i]!;
    const missing = [...vireo.keys()].filter((name) => !mine.has(name));
    expect(missing).toEqual([]);
    for (const [name, labels] of vireo) {
      const own = new Set<string>();
      for (const m of mine.get(name)!.metrics) for (const k of Object.keys(m.labels ?? {})) if (k !== 'quantile') own.add(k);
      expect([...own].sort().join(','), name).toBe(labels.split(',').filter((k) => k !== '' && k !== 'quantile').join(','));
    }
  });

  it("maps redis-server's own INFO ALL to the exporter's families and types", () => {
    // The mapping alone, fed real redis-server 7.0 INFO: the families it names are those the exporter names.
    const families = scrapeFamilies({
      sections: sectionsOf(redisInfo),
      config: { maxclients: 10000, maxmemory: 0, ioThreads: 1, databases: 16 },
      slowlog: { length: 1, lastId: 1, lastDurationUs: 1 },
      latencyEvents: [{ name: 'command', time: 1, ms: 10 }],
      nowMs: Date.now(),
    });
    const mapped = new Set(families.map((f) => f.name).filter((n) => n.startsWith('redis_')));
    const { redis } = scraped[0]!;
    expect([...redis.keys()].filter((n) => !mapped.has(n)).sort()).toEqual([]);
    expect([...mapped].filter((n) => !redis.has(n)).sort()).toEqual([]);
  });
});
