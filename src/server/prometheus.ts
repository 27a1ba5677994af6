/**
 * The Prometheus endpoint (prometheus-port, off by default): GET /metrics
 * answers the text exposition format, rendered with prom-client. Each
 * scrape builds INFO ALL from the same sources the INFO command reads, maps
 * its fields to redis_exporter's names (diagnostics/prometheus-families.ts)
 * and adds Vireo's own vireo_* metrics. A scrape costs what one INFO ALL
 * costs (bounded: INFO walks at most 10000 TTLs per database); it never
 * throws into the server: a failure answers 500.
 */

import http from 'node:http';
import type net from 'node:net';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { scrapeFamilies, type Family, type ScrapeInput, type SummarySample } from '../diagnostics/prometheus-families.js';
import type { SlowLog } from '../diagnostics/slowlog.js';
import type { LatencyMonitor } from '../diagnostics/latency-monitor.js';
import { infoSections, type InfoSource } from './info.js';

/** What a scrape reads from the server (Server implements it). */
export interface MetricsSource extends InfoSource {
  readonly slowlog: SlowLog;
  readonly latencyMonitor: LatencyMonitor;
}

/** Upper bounds (seconds) of the fsync latency histogram's buckets: 50 µs to 2.5 s. */
const FSYNC_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
/** Scrapers are few; more connections than this are refused by the listener. */
const MAX_CONNECTIONS = 16;
/** A request must arrive whole within this (slow or idle scrapers do not hold sockets). */
const REQUEST_TIMEOUT_MS = 10_000;

/** A summary whose quantiles were computed elsewhere (INFO latencystats), as the exporter's const summaries. */
class PrecomputedSummary extends Summary<string> {
  constructor(
    private readonly family: Family,
    registry: Registry,
  ) {
    super({ name: family.name, help: family.help, labelNames: [...family.labelNames], registers: [registry] });
  }

  override async get(): ReturnType<Summary<string>['get']> {
    const base = await super.get();
    return { ...base, values: this.family.summaries.flatMap((s) => summaryValues(this.family.name, s)) };
  }
}

function summaryValues(name: string, s: SummarySample): { labels: Record<string, string>; value: number; metricName?: string }[] {
  return [
    ...s.quantiles.map(([quantile, value]) => ({ labels: { ...s.labels, quantile }, value })),
    { metricName: `${name}_sum`, labels: s.labels, value: s.sum },
    { metricName: `${name}_count`, labels: s.labels, value: s.count },
  ];
}

/** The families of one scrape as prom-client metrics in a registry of their own. */
function familiesRegistry(families: readonly Family[]): Registry {
  const registry = new Registry();
  for (const f of families) {
    const opts = { name: f.name, help: f.help, labelNames: [...f.labelNames], registers: [registry] };
    if (f.type === 'summary') {
      new PrecomputedSummary(f, registry);
    } else if (f.type === 'counter') {
      const c = new Counter(opts);
      // A counter only counts up from zero: the INFO value is its whole increase.
      for (const s of f.samples) if (s.value >= 0) c.inc(s.labels, s.value);
    } else {
      const g = new Gauge(opts);
      for (const s of f.samples) g.set(s.labels, s.value);
    }
  }
  return registry;
}

/** Where the endpoint listens: prometheus-bind, else the first `bind` address, else loopback. */
export function metricsHost(config: Config): string {
  const explicit = config.str('prometheus-bind');
  if (explicit !== '') return explicit;
  const first = config.str('bind').split(' ').find((b) => b !== '');
  if (first === undefined) return '127.0.0.1';
  // bind's "-" prefix marks an address that may be missing; "*" is every IPv4 address.
  const addr = first.startsWith('-') ? first.slice(1) : first;
  return addr === '*' ? '0.0.0.0' : addr;
}

export class PrometheusEndpoint {
  private readonly persistent = new Registry();
  private readonly fsyncSeconds = new Histogram({
    name: 'vireo_aof_fsync_duration_seconds',
    help: 'Time each AOF fsync took under appendfsync always (the replies of a group commit wait for it)',
    buckets: FSYNC_BUCKETS,
    registers: [this.persistent],
  });
  private readonly scrapes = new Counter({ name: 'vireo_prometheus_scrapes_total', help: 'Scrapes of this endpoint', registers: [this.persistent] });
  private readonly http: http.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(
    private readonly source: MetricsSource,
    private readonly logger: Logger,
  ) {
    this.http = http.createServer((req, res) => this.handle(req, res));
    this.http.maxConnections = MAX_CONNECTIONS;
    this.http.requestTimeout = REQUEST_TIMEOUT_MS;
    this.http.headersTimeout = REQUEST_TIMEOUT_MS;
    this.http.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
    // A client's socket error must not reach the process as an uncaught error.
    this.http.on('clientError', (_err, socket) => socket.destroy());
  }

  /** Listen on host:port; rejects when the address cannot be bound. */
  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.http.once('error', onError);
      this.http.listen(port, host, () => {
        this.http.off('error', onError);
        this.http.on('error', (err) => this.logger.warn(`Prometheus endpoint: ${err.message}`));
        resolve();
      });
    });
  }

  /** The port actually bound. */
  get port(): number {
    const a = this.http.address();
    return a !== null && typeof a === 'object' ? a.port : 0;
  }

  /** Stop listening and drop open scrape connections. */
  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((resolve) => this.http.close(() => resolve()));
  }

  /** An AOF writer latency report (server.ts forwards them): fsyncs under appendfsync always feed the histogram. */
  observeLatency(event: string, ms: number): void {
    if (event === 'aof-fsync-always') this.fsyncSeconds.observe(ms / 1000);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('Not found: metrics are at /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'Content-Type': 'text/plain', Allow: 'GET, HEAD' }).end('Method not allowed\n');
      return;
    }
    this.render().then(
      (body) => res.writeHead(200, { 'Content-Type': this.persistent.contentType }).end(req.method === 'HEAD' ? undefined : body),
      (err: unknown) => {
        this.logger.warn(`Prometheus scrape failed: ${err instanceof Error ? err.message : String(err)}`);
        if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end('scrape failed\n');
      },
    );
  }

  /** One scrape's text: the INFO-derived families, then the ones this endpoint keeps. */
  async render(): Promise<string> {
    this.scrapes.inc();
    const families = scrapeFamilies(this.scrapeInput());
    return Registry.merge([familiesRegistry(families), this.persistent]).metrics();
  }

  private scrapeInput(): ScrapeInput {
    const s = this.source;
    const [newest] = s.slowlog.newest(1);
    const latencyEvents = [...s.latencyMonitor.events].map(([name, series]) => ({ name, time: series.latest.time, ms: series.latest.ms }));
    return {
      sections: infoSections(s, ['all']),
      config: {
        maxclients: s.config.int('maxclients'),
        maxmemory: s.config.int('maxmemory'),
        ioThreads: s.config.int('io-threads'),
        databases: s.engine.dbs.length,
      },
      slowlog: { length: s.slowlog.length, lastId: newest?.id ?? 0, lastDurationUs: newest?.durationUs ?? 0 },
      latencyEvents,
      nowMs: Date.now(),
    };
  }
}
