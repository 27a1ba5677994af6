/**
 * The server: listeners (TCP and unix socket), the client registry, the
 * command dispatcher, the cron (active expiry, timeouts, stats), CLIENT
 * PAUSE, MONITOR, and shutdown. One Server owns one Engine.
 */

import { PerformanceObserver } from 'node:perf_hooks';
import { ReplicationIds } from '../../replication/ids.js';
import { ReplicationPrimary } from '../../replication/primary.js';
import { PrimaryLink } from '../../replication/replica.js';
import { Failover } from '../../replication/failover.js';
import net from 'node:net';
import fs from 'node:fs';
import crypto from 'node:crypto';
import path from 'node:path';
import { Config, type ConfigValue } from '../config.js';
import { Engine } from '../engine/engine.js';
import { CommandLog } from '../log/command-log.js';
import { CommandTable, F, type Command } from '../commands/table.js';
import { createCommandTable } from '../commands/index.js';
import { OutputArena } from '../protocol/writer.js';
import type { BlockRequest, CommandContext, CommandHost, Connection, KeyBlockRequest } from '../commands/context.js';
import type { KeyWaiter } from '../engine/ready-keys.js';
import type { Db } from '../engine/keyspace.js';
import { typeOf } from '../types/value.js';
import { EffectCheck } from './effect-check.js';
import { ChangeFeed } from './changefeed.js';
import { infoString } from './info.js';
import { Client } from './client.js';
import { CommandTiming, SCRIPT_CLIENT } from './command-timing.js';
import { LatencyMonitor } from '../diagnostics/latency-monitor.js';
import { SlotStats } from '../diagnostics/slot-stats.js';
import { HotKeys } from '../diagnostics/hot-keys.js';
import { MigrateSockets } from '../commands/migrate-sockets.js';
import type { SlowLog } from '../diagnostics/slowlog.js';
import { DirectIo } from './direct-io.js';
import { Listeners } from './listeners.js';
import { IoThreads, type ThreadIo, type ThreadedConnection } from './io-threads/pool.js';
import type { ConnectionInfo } from './io-threads/messages.js';
import type { PrometheusEndpoint } from './prometheus.js';
import { TLS_CONTEXT_PARAMS, TlsConfigError } from '../tls.js';
import { LogReplayer } from './replay.js';
import { BlockedClients, replyAs } from './blocking.js';
import { ClientPause } from './pause.js';
import { call, execute, commandBlockedByPause, observeInnerCommand, rerun } from './dispatch.js';
import { ActiveExpire } from '../engine/expire.js';
import { createLogger, type Logger, type RedisLogLevel } from '../logger.js';
import { VERSION, REDIS_VERSION } from '../version.js';
import { monitorLine, monitorSource } from './monitor.js';
import { Scripting, attachScripting } from '../scripting/scripting.js';
import { ServerStats } from './stats.js';
import { MemoryTracker } from './info.js';
import { HeapGuard } from './heap-guard.js';
import { MemoryLimit } from './memory-limit.js';
import { IdleReclaim } from './idle-reclaim.js';
import type { EvictionPolicy } from '../engine/evict.js';
import type { TypeName } from '../types/value.js';
import { StartupBaseline, type DoctorCounts, type MemoryOverhead } from '../diagnostics/memory-report.js';
import { gatherMemoryOverhead } from './memory-overhead.js';
import { discardTransaction } from '../commands/transactions.js';
import { clientInfoLine } from '../commands/connection.js';
import { LoadError, Persistence, runStepsAsync } from '../../persistence/persistence.js';
import { strerror } from '../../persistence/errors.js';
import { noLimits, parseOutputLimits, type OutputLimit, type OutputLimits } from './output-limits.js';
import { clientEvictionLimit, clientsToEvict } from './client-eviction.js';
import { PubSub } from '../pubsub/registry.js';
import { KeyspaceNotifier } from '../pubsub/notifications.js';
import { Tracking } from '../tracking/tracking.js';
import { AccessControl } from './auth.js';
import type { Acl } from '../acl/acl.js';
import { ACL_OK, checkCommand } from '../acl/check.js';
import type { TrackingClient, TrackingHost } from '../tracking/client.js';
import { dropFilePages } from '../util/gc.js';

/** Parameters that change what per-key access words mean (OBJECT IDLETIME / FREQ). */
const ACCESS_PARAMS = new Set(['maxmemory-policy', 'lfu-log-factor', 'lfu-decay-time', 'maxmemory']);
/** Parameters of eviction under maxmemory. */
const EVICTION_PARAMS = new Set(['maxmemory', 'maxmemory-policy', 'maxmemory-samples', 'maxmemory-eviction-tenacity', 'eviction-protect-types', 'eviction-protect-keys']);


export interface ServerOptions {
  /** Inject a logger (tests); otherwise one is made from loglevel/logfile. */
  logger?: Logger;
}

export class Server implements CommandHost, TrackingHost {
  readonly engine: Engine;
  readonly table: CommandTable;
  readonly logger: Logger;
  readonly arena = new OutputArena();
  readonly clients = new Map<number, Client>();
  readonly monitors = new Set<Client>();
  readonly stats = new ServerStats();
  readonly startTime = Date.now();
  readonly runId = crypto.randomBytes(20).toString('hex');
  readonly version = VERSION;
  readonly redisVersion = REDIS_VERSION;
  /** Replication ids of this server's history (master_replid, master_replid2). */
  readonly replIds = new ReplicationIds();
  get replId(): string {
    return this.replIds.replId;
  }
  /** maxmemory: the measure, eviction and the OOM state (memory-limit.ts). */
  readonly memoryLimit: MemoryLimit = new MemoryLimit(this);
  readonly heapGuard: HeapGuard = new HeapGuard(this);
  readonly memory = new MemoryTracker(() => this.memoryLimit.used());
  /** The Node runtime's own RSS (left out of the fragmentation ratios) and used_memory, measured once listening. */
  readonly baseline = new StartupBaseline();
  /** Collections run from the cron once the server is quiet, to give memory back (idle-reclaim.ts). */
  readonly idleReclaim = new IdleReclaim(
    {
      stats: this.stats,
      reclaimPaused: () => this.shuttingDown || this.engine.loading,
      paused: (ms) => this.latencyMonitor.addIfNeeded('idle-gc', ms),
      overheadRatio: () => (process.memoryUsage.rss() - this.baseline.runtimeRss()) / Math.max(1, this.memory.sample()),
      compactIndexes: () => this.engine.compactIndexes(),
    },
    performance.now(),
  );
  /** The I/O threads (io-threads > 1) once started; null: the main thread does all socket I/O. */
  ioThreads: IoThreads | null = null;
  /** Use handle-level socket I/O (direct-io.ts); VIREO_STREAM_IO=1 keeps Node's streams. */
  readonly directIo = process.env.VIREO_STREAM_IO !== '1';
  /** DEBUG SET-ACTIVE-EXPIRE. */
  activeExpireEnabled = true;
  readonly scripting: Scripting;
  /** Internal-error replies name the exception and where it was thrown (tests and fuzzers). */
  readonly debugExceptions = process.env.VIREO_DEBUG_EXCEPTIONS === '1';
  /** Test mode: every change must log an effect and send the change signal (effect-check.ts). */
  readonly effectCheck: EffectCheck | null;
  /** Client-side caching (CLIENT TRACKING). */
  readonly tracking: Tracking;
  /** tracking-table-max-keys. */
  trackingTableMaxKeys: number;

  /** Copies of hot configuration values. */
  protoMaxBulkLen: number;
  queryBufferLimit: number;
  /** Keys read ahead and prefetched per pipeline window (prefetch-batch-max-size; under 2: off). */
  prefetchBatch: number;
  /** client-output-buffer-limit per class; null when no class has a limit. */
  private outputLimits: OutputLimits | null;
  /** maxmemory-clients in bytes, 0 when off (client-eviction.ts). */
  clientEvictionLimit: number;

  private nextClientId = 1;
  private readonly listeners: Listeners;
  private cron: NodeJS.Timeout | null = null;
  private expire: ActiveExpire;
  private readonly pause: ClientPause;
  private readonly blocked: BlockedClients;
  private shuttingDown = false;
  private onShutdown: (() => void)[] = [];
  /** GET /metrics (prometheus-port); null when off. */
  private prometheus: PrometheusEndpoint | null = null;
  /** Bound once so every client's writer can share it. */
  readonly recordError: (msg: string) => void;
  readonly persistence: Persistence;
  /** Applies records read from an AOF on a context of its own. */
  private readonly replayer: LogReplayer;
  /** The replicas attached to this server (replication/primary.ts). */
  readonly primary: ReplicationPrimary;
  /** FAILOVER's state machine (replication/failover.ts). */
  readonly failover: Failover;
  /** Following a primary (REPLICAOF), when this server is a replica. */
  readonly replica: PrimaryLink;
  /** Keyspace events appended to a stream (changefeed-* parameters). */
  readonly changeFeed: ChangeFeed;
  /** Pub/Sub channels, patterns and shard channels (src/pubsub/). */
  readonly pubsub = new PubSub();
  readonly latencyMonitor = new LatencyMonitor();
  readonly timing = new CommandTiming(this.latencyMonitor);
  /** CLUSTER SLOT-STATS' per-slot CPU and bytes, and VIREO HOTKEYS' sample. */
  readonly slotStats = new SlotStats();
  readonly hotKeys = new HotKeys();
  readonly migrateSockets = new MigrateSockets();
  /** Either of them is on (dispatch checks this one flag per command). */
  observeCommands = false;

  get slowlog(): SlowLog {
    return this.timing.slowlog;
  }
  /** notify-keyspace-events: the engine's change signals as Pub/Sub messages. */
  private readonly notifier = new KeyspaceNotifier(this.pubsub);
  /** ACL users, the permission check's refusals and the AUTH brake (auth.ts). */
  readonly access: AccessControl;
  get acl(): Acl {
    return this.access.acl;
  }

  constructor(readonly config: Config, opts: ServerOptions = {}) {
    this.engine = new Engine({ databases: config.int('databases'), log: new CommandLog() });
    const logger = opts.logger ?? createLogger(config.str('loglevel'), config.str('logfile'), config.str('log-format'));
    // The log's role mark: S while following a primary, M otherwise.
    logger.role = () => (this.engine.isReplica ? 'S' : 'M');
    this.logger = logger;
    this.table = createCommandTable();
    const server = this;
    this.access = new AccessControl({
      config,
      logger: this.logger,
      table: this.table,
      clients: this.clients,
      currentClient: () => server.tracking.current as Client | null,
      delay: (ctx, ms, done) => server.block(ctx, { kind: 'auth-brake', ready: () => false, wake: () => done(), internal: true }, ms),
    });
    this.scripting = new Scripting(REDIS_VERSION, this.logger);
    this.scripting.memoryLimit = config.int('lua-memory-limit');
    attachScripting(this, this.scripting);
    this.replayer = new LogReplayer(this.engine, this.table, this);
    this.blocked = new BlockedClients((c) => this.resumeAfterBlocking(c));
    this.pause = new ClientPause(this.engine, (c) => this.resume(c), () => this.pauseEnded());
    this.listeners = new Listeners(
      config,
      this.logger,
      (socket, unix) => this.accept(socket, unix),
      () => this.shuttingDown,
      (srv) => (this.ioThreads === null ? Promise.resolve(srv) : this.ioThreads.adopt(srv)),
    );
    this.expire = new ActiveExpire(this.engine);
    this.protoMaxBulkLen = config.int('proto-max-bulk-len');
    this.queryBufferLimit = config.int('client-query-buffer-limit');
    this.prefetchBatch = config.int('prefetch-batch-max-size');
    this.outputLimits = this.readOutputLimits();
    this.clientEvictionLimit = this.readClientEvictionLimit();
    this.trackingTableMaxKeys = config.int('tracking-table-max-keys');
    this.tracking = new Tracking(this);
    this.engine.invalidator = this.tracking;
    this.recordError = (msg: string) => this.countError(msg);
    this.effectCheck = process.env.VIREO_CHECK_EFFECTS === '1' ? new EffectCheck(this.engine, (msg) => this.logger.error(`Effect check: ${msg}`)) : null;
    for (const name of ['hash-max-listpack-entries', 'hash-max-listpack-value', 'set-max-intset-entries', 'set-max-listpack-entries', 'set-max-listpack-value', 'zset-max-listpack-entries', 'zset-max-listpack-value', 'list-max-listpack-size', 'list-compress-depth', 'stream-node-max-bytes', 'stream-node-max-entries', 'hll-sparse-max-bytes']) {
      this.engine.limits.apply(name, config.int(name));
    }
    this.applyAccessConfig();
    this.applyEvictionConfig(false);
    this.notifier.configure(config.str('notify-keyspace-events'));
    this.engine.keyspaceListeners.push(this.notifier.listener);
    this.persistence = new Persistence({
      engine: this.engine,
      config,
      logger: this.logger,
      replication: () => ({ replId: this.replId, offset: this.engine.log.offset, streamDb: this.engine.log.streamDb }),
      replay: (argv) => this.replayer.replay(argv),
      functions: this.scripting.functions,
    });
    this.persistence.gate.onAdvance(() => this.wakeReady('waitaof'));
    this.primary = new ReplicationPrimary({
      engine: this.engine,
      config,
      logger: this.logger,
      stats: this.stats,
      replIds: this.replIds,
      gate: this.persistence.gate,
      dataDir: () => path.dirname(this.persistence.rdb.path),
      rdbHeader: (w, functions) => this.persistence.rdb.writeHeader(w, false, functions),
      wakeWaiters: () => this.wakeReady('wait'),
      logFiles: () => (this.persistence.aof.on ? this.persistence.aof : null),
    });
    this.persistence.gate.onAdvance(() => this.wakeReady('wait'));
    this.replica = new PrimaryLink({
      engine: this.engine,
      table: this.table,
      logger: this.logger,
      config,
      persistence: this.persistence,
      replIds: this.replIds,
      commandHost: this,
      get port() {
        return server.port;
      },
      newClientId: () => this.nextClientId++,
    });
    this.replica.onNewHistory = () => this.primary.historyChanged();
    this.replica.onBecomeReplica = () => this.unblockOnRoleChange();
    this.failover = new Failover({
      logger: this.logger,
      primary: this.primary,
      logOffset: () => this.engine.log.offset,
      pauseWrites: () => this.pause.start('write', 2 ** 31 - 1),
      unpauseWrites: () => this.pause.end(),
      followForFailover: (host, port, done) => this.replica.followForFailover(host, port, done),
      becomePrimary: () => this.replica.stopFollowing('failover abort'),
    });
    this.persistence.gate.onAdvance(() => this.failover.check());
    this.changeFeed = new ChangeFeed(this.engine, this, this.table.resolve(['XADD'])!, this.logger);
    this.applyChangeFeedConfig();
    this.latencyMonitor.thresholdMs = config.int('latency-monitor-threshold');
    this.persistence.aof.writer.onLatency = (event, ms) => {
      this.latencyMonitor.addIfNeeded(event, ms);
      this.prometheus?.observeLatency(event, ms);
    };
    this.engine.latencySink = (event, ms) => this.latencyMonitor.addIfNeeded(event, ms);
    this.engine.afterReplies = this.afterReplies;
    this.watchGcPauses();
    this.timing.configure(config);
    this.applyObserverConfig();
    config.onChange((name, value) => this.applyConfig(name, value));
  }

  /** cluster-slot-stats-enabled and vireo-hotkeys-sample-rate. */
  private applyObserverConfig(): void {
    this.slotStats.enabled = this.config.bool('cluster-slot-stats-enabled');
    this.hotKeys.configure(this.config.int('vireo-hotkeys-sample-rate'));
    this.observeCommands = this.slotStats.enabled || this.hotKeys.on;
    this.timing.configure(this.config);
  }

  /** The changefeed-* parameters; an error (CONFIG SET refuses) for a database that does not exist. */
  private applyChangeFeedConfig(): void {
    const db = this.config.int('changefeed-db');
    if (db >= this.engine.dbs.length) throw new Error(`changefeed-db ${db} is not a database (databases is ${this.engine.dbs.length})`);
    this.changeFeed.configure({
      key: this.config.str('changefeed-key'),
      db,
      maxlen: this.config.int('changefeed-maxlen'),
      classes: this.config.str('changefeed-events'),
    });
  }

  // ---- lifecycle ---------------------------------------------------------

  async start(): Promise<void> {
    this.loadUsers();
    this.persistence.startLoading();
    await this.startIoThreads();
    try {
      await this.startServing();
    } catch (e) {
      // The I/O threads would keep a server that failed to start alive.
      await this.ioThreads?.stop();
      this.ioThreads = null;
      throw e;
    }
  }

  private async startServing(): Promise<void> {
    try {
      await this.listeners.listen();
      // Startup's code and data pages of the node binary, not needed again: out of the RSS before it is measured.
      dropFilePages();
      this.baseline.capture(this.memory.markStartup());
      this.warnIfMaxmemoryBelowStartup();
    } catch (e) {
      if (!(e instanceof TlsConfigError)) {
        this.logger.warn(`Warning: ${(e as Error).message}`);
        this.logger.warn(`Failed listening on port ${this.config.int('port')} (TCP), aborting.`);
        throw e;
      }
      this.logger.fatal(e.message);
      throw new Error('Failed to configure TLS. Check logs for more info.');
    }
    this.logger.info(`Running mode=standalone, port=${this.port}.`);
    this.logger.info('Server initialized');
    try {
      await this.startPrometheus();
    } catch (e) {
      await this.listeners.close();
      throw e;
    }
    this.scheduleCron();
    // A replica keeps the TTLs its files hold: only its primary deletes.
    if (this.config.str('replicaof') !== '') this.engine.isReplica = true;
    try {
      await runStepsAsync(this.persistence.loadSteps());
    } catch (e) {
      if (e instanceof LoadError) this.logger.fatal(e.message);
      else this.logger.fatal({ err: e }, 'loading the dataset failed');
      // Until the process is gone, clients still get -LOADING: nothing runs on a half-loaded dataset.
      this.persistence.startLoading();
      await this.listeners.close();
      await this.prometheus?.close();
      throw e;
    }
    if (this.config.str('replicaof') === '') this.primary.resumeHistory(this.persistence.loadedReplId);
    this.replica.startFromConfig(this.replayer.dbIndex);
    this.logReady();
  }

  /** io-threads N: N - 1 I/O threads beside this one (Redis counts the main thread too). */
  private async startIoThreads(): Promise<void> {
    const n = this.config.int('io-threads');
    if (n <= 1) return;
    if (!IoThreads.available()) {
      this.logger.warn('io-threads needs the native addon (npm install builds it): running single-threaded');
      return;
    }
    const connections = { open: (info: ConnectionInfo, io: ThreadIo) => this.acceptThreaded(info, io), prefetchBatch: () => this.prefetchBatch };
    this.ioThreads = new IoThreads(n - 1, connections, (e) => this.internalError(e, 'I/O threads', null));
    this.ioThreads.setKeepalive(this.config.int('tcp-keepalive'));
    await this.ioThreads.ready;
    if (!this.ioThreads.allAlive) {
      await this.ioThreads.stop();
      this.ioThreads = null;
      this.logger.warn('the I/O threads could not start: running single-threaded');
      return;
    }
    this.logger.info(`${n - 1} I/O threads started (io-threads ${n})`);
  }

  /** Redis 7.2's line per kind of listener: "Ready to accept connections tcp|unix|tls". */
  private logReady(): void {
    const tcp = this.listeners.port !== 0 && this.listeners.port !== this.listeners.tlsPort;
    if (tcp) this.logger.info('Ready to accept connections tcp');
    if (this.config.str('unixsocket') !== '') this.logger.info('Ready to accept connections unix');
    if (this.listeners.tlsPort !== 0) this.logger.info('Ready to accept connections tls');
  }

  /** The Prometheus endpoint when prometheus-port is set (loaded only then: off, it costs nothing). */
  private async startPrometheus(): Promise<void> {
    const port = this.config.int('prometheus-port');
    if (port === 0) return;
    const { PrometheusEndpoint, metricsHost } = await import('./prometheus.js');
    const endpoint = new PrometheusEndpoint(this, this.logger);
    const host = metricsHost(this.config);
    try {
      await endpoint.listen(host, port);
    } catch (e) {
      const msg = `Could not start the Prometheus endpoint on ${host}:${port}: ${(e as Error).message}`;
      this.logger.fatal(msg);
      throw new Error(msg);
    }
    this.prometheus = endpoint;
    this.logger.info(`Prometheus metrics at http://${host.includes(':') ? `[${host}]` : host}:${endpoint.port}/metrics`);
  }

  /** The Prometheus endpoint's port (0: off). */
  get prometheusPort(): number {
    return this.prometheus?.port ?? 0;
  }

  /**
   * The users of the configuration file's `user` lines, then the ACL file's
   * (Redis' ACLLoadUsersAtStartup): an error stops start-up.
   */
  private loadUsers(): void {
    const fail = (msg: string) => {
      this.logger.fatal(msg);
      throw new Error(msg);
    };
    const aclfile = this.config.str('aclfile');
    const lines = this.config.userDirectives;
    if (aclfile !== '' && lines.length > 0) {
      fail(
        'Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.',
      );
    }
    const err = this.acl.loadConfiguredUsers(lines);
    if (err !== null) {
      this.logger.fatal(err);
      fail('Critical error while loading ACLs. Exiting.');
    }
    if (aclfile !== '') {
      const errors = this.acl.loadFile(aclfile);
      if (errors !== null) fail(`Aborting Redis startup because of ACL errors: ${errors}`);
    }
  }

  /** TCP port actually bound (useful with port 0 in tests). */
  get port(): number {
    return this.listeners.port;
  }

  /** A rebind started by CONFIG SET port/bind that has not settled yet. */
  get rebinding(): Promise<void> | null {
    return this.listeners.rebinding;
  }

  /** After CONFIG SET port/bind: listen where the configuration now says (listeners.ts). */
  rebind(): Promise<void> | null {
    return this.listeners.rebind();
  }

  /**
   * Stop accepting, make the data durable (and save it when `save` says
   * so; null: when save points are configured), close every client, stop
   * timers. Returns false, and keeps running, if saving failed and `force`
   * is not set.
   */
  async shutdown(opts: { save?: boolean | null; force?: boolean; now?: boolean } = {}): Promise<boolean> {
    if (this.shuttingDown) return true;
    if (this.shutdownWait !== null) return false;
    // Redis' prepareForShutdown: SHUTDOWN and the signals alike.
    this.logger.warn('User requested shutdown...');
    if (!opts.now && !(await this.waitForReplicasBeforeShutdown())) return false;
    const save = opts.save ?? this.persistence.rdb.savePointsConfigured;
    if (this.persistence.loading === null && !this.persistence.shutdown(save) && !opts.force) return false;
    this.shuttingDown = true;
    if (this.cron !== null) clearTimeout(this.cron);
    this.memoryLimit.close();
    this.migrateSockets.closeAll();
    this.watchGcPauses();
    this.pause.stop();
    this.replica.close();
    this.engine.log.flush();
    this.persistence.close();
    for (const c of [...this.clients.values()]) {
      c.flush();
      c.close();
      c.socket?.destroy();
    }
    await this.listeners.close();
    // The I/O threads write what the clients were sent (close() ended them) and stop.
    await this.ioThreads?.stop();
    this.ioThreads = null;
    await this.prometheus?.close();
    this.prometheus = null;
    const unixPath = this.config.str('unixsocket');
    if (unixPath !== '') {
      this.logger.info('Removing the unix socket file.');
      fs.rmSync(unixPath, { force: true });
    }
    this.logger.warn('Vireo is now ready to exit, bye bye...');
    for (const fn of this.onShutdown) fn();
    return true;
  }

  /** A SHUTDOWN waiting for lagging replicas (SHUTDOWN ABORT cancels it). */
  private shutdownWait: { abort: () => void } | null = null;

  /**
   * Redis 7's graceful shutdown: writes paused, replicas asked for their
   * offsets, and up to shutdown-timeout seconds given to those that lag to
   * catch up. False when SHUTDOWN ABORT cancelled it.
   */
  private async waitForReplicasBeforeShutdown(): Promise<boolean> {
    const timeout = this.config.int('shutdown-timeout');
    const target = this.engine.log.offset;
    if (timeout === 0 || this.engine.isReplica || this.primary.lagging(target) === 0) return true;
    this.logger.info('Waiting for replicas before shutting down.');
    this.pause.start('write', timeout * 1000 + 1000);
    this.engine.log.flush();
    this.primary.requestAcks();
    const aborted = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => finish(false), timeout * 1000);
      const poll = setInterval(() => {
        if (this.primary.lagging(target) === 0) finish(false);
      }, 10);
      const finish = (abort: boolean) => {
        clearTimeout(timer);
        clearInterval(poll);
        this.shutdownWait = null;
        resolve(abort);
      };
      this.shutdownWait = { abort: () => finish(true) };
    });
    if (aborted) {
      this.pause.end();
      return false;
    }
    const lagging = this.primary.lagging(target);
    if (lagging > 0) this.logger.warn(`${lagging} of the replicas are not in sync when shutting down.`);
    else this.logger.info('Lagging replica(s) caught up, shutting down.');
    return true;
  }

  /** SHUTDOWN ABORT: false when no shutdown waits. */
  abortShutdown(): boolean {
    if (this.shutdownWait === null) return false;
    this.logger.warn('Shutdown manually aborted.');
    this.shutdownWait.abort();
    return true;
  }

  /** Called once the server has shut down (SHUTDOWN command, signals). */
  whenShutdown(fn: () => void): void {
    this.onShutdown.push(fn);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  // ---- connections -----------------------------------------------------------

  /** Why a new connection is turned away (its error line), or null to serve it. */
  private refusal(peerIp: string | null): string | null {
    if (this.clients.size >= this.config.int('maxclients')) return '-ERR max number of clients reached\r\n';
    if (peerIp !== null && this.config.bool('protected-mode') && !this.authRequired() && !isLoopback(peerIp)) return PROTECTED_MODE_ERROR;
    return null;
  }

  private accept(socket: net.Socket, unix: boolean): void {
    this.stats.connectionsReceived++;
    this.logger.debug(unix ? `Accepted connection to ${this.config.str('unixsocket')}` : `Accepted ${socket.remoteAddress}:${socket.remotePort}`);
    const peerIp = unix ? null : (socket.remoteAddress ?? null);
    const refused = this.refusal(peerIp);
    if (refused !== null) {
      this.stats.rejectedConnections++;
      socket.end(refused);
      return;
    }
    const unixPath = this.config.str('unixsocket');
    const addr = unix ? `${unixPath}:0` : `${socket.remoteAddress}:${socket.remotePort}`;
    const laddr = unix ? `${unixPath}:0` : `${socket.localAddress}:${socket.localPort}`;
    const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd ?? -1;
    const client = new Client(this, this.nextClientId++, socket, this.arena, addr, laddr, fd);
    client.peerIp = peerIp;
    this.clients.set(client.id, client);
    const keepalive = this.config.int('tcp-keepalive');
    if (!unix && keepalive > 0) socket.setKeepAlive(true, keepalive * 1000);
    const onData = (chunk: Buffer) => {
      this.stats.readsProcessed++;
      client.onData(chunk);
    };
    client.io = this.directIo ? DirectIo.attach(socket, onData) : null;
    if (client.io === null) socket.on('data', onData);
    socket.on('error', () => {
      /* reset by peer etc.: 'close' follows */
    });
    socket.on('close', () => {
      client.closed = true;
      this.unlinkClient(client);
    });
  }

  /** A connection an I/O thread accepted: the same checks, a Client whose output goes through the thread. */
  private acceptThreaded(info: ConnectionInfo, io: ThreadIo): ThreadedConnection | null {
    this.stats.connectionsReceived++;
    this.logger.debug(`Accepted ${info.remoteAddress}:${info.remotePort}`);
    const refused = this.refusal(info.remoteAddress);
    if (refused !== null) {
      this.stats.rejectedConnections++;
      io.write([Buffer.from(refused, 'latin1')]);
      io.end();
      return null;
    }
    const client = new Client(this, this.nextClientId++, null, this.arena, `${info.remoteAddress}:${info.remotePort}`, `${info.localAddress}:${info.localPort}`, info.fd);
    client.peerIp = info.remoteAddress;
    client.io = io;
    this.clients.set(client.id, client);
    return {
      onData: (chunk) => {
        this.stats.readsProcessed++;
        client.onData(chunk);
      },
      onClose: () => {
        client.closed = true;
        this.unlinkClient(client);
      },
      readAheadTarget: () => client.readAheadTarget(),
    };
  }

  // ---- blocking commands and CLIENT PAUSE (blocking.ts, pause.ts) ------------------

  /** Park ctx's client until `req.ready()` holds when its kind is woken, or `timeoutMs` (0: forever) passes. */
  block(ctx: CommandContext, req: BlockRequest, timeoutMs: number): void {
    this.blocked.block(this.clientOf(ctx.connection()), req, timeoutMs > 0 ? Date.now() + timeoutMs : 0);
  }

  /** Set by blockOnKeys while a waiter's command runs again and still finds nothing. */
  private stillWaiting = false;

  blockOnKeys(ctx: CommandContext, req: KeyBlockRequest, deadline: number): void {
    if (ctx.rerun) {
      this.stillWaiting = true;
      return;
    }
    const c = this.clientOf(ctx.connection());
    const cmd = ctx.current as Command;
    const argv = ctx.currentArgv!;
    const db = ctx.db;
    const ready = this.engine.readyKeys;
    const waiter: KeyWaiter = { tryServe: (_db, key) => this.serveKeyWaiter(c, cmd, argv, db, req, key), onNoKey: req.rerunOnDelete === true };
    for (const key of req.keys) ready.block(db, key, waiter);
    const release = () => {
      for (const key of req.keys) ready.unblock(db, key, waiter);
    };
    this.blocked.block(c, { kind: 'keys', ready: () => false, wake: () => req.timedOut() }, deadline, release, cmd.stats);
  }

  /**
   * A key `c` waits on is ready: run its command again (Redis 7.2 reprocesses
   * it), unless the key holds no value of the type it waits for. True when
   * the command replied: the client then stops waiting and goes on.
   */
  private serveKeyWaiter(c: Client, cmd: Command, argv: string[], db: Db, req: KeyBlockRequest, key: string): boolean {
    const b = c.blocked;
    if (c.closed || b === null) return false;
    // A pause holds writes: the waiter is served when it ends.
    if (this.pause.mode !== null && commandBlockedByPause(this, c, argv)) return false;
    if (req.rerunOnDelete !== true) {
      const v = db.get(key);
      if (v === undefined || typeOf(v) !== req.type) return false;
    }
    const ctx = c.ctx;
    const selected = ctx.db;
    ctx.db = db;
    ctx.rerun = true;
    this.stillWaiting = false;
    try {
      replyAs(c, b, () => rerun(this, c, cmd, argv));
    } finally {
      ctx.rerun = false;
      ctx.db = selected;
    }
    if (this.stillWaiting) return false;
    this.blocked.served(c);
    return true;
  }

  /**
   * Key waiters are not served during a pause (their serving writes): when
   * it ends, look again. CLIENT UNPAUSE serves them once its command (or
   * EXEC) completes; a pause that ran out serves them here, before the
   * clients it held go on.
   */
  private pauseEnded(): void {
    const ready = this.engine.readyKeys;
    ready.signalEveryWaitedKey(this.engine.dbs);
    if (!this.engine.inUnit && ready.hasReady) ready.serve();
  }

  /** CLIENT UNBLOCK: wake a client inside a blocking command as its timeout would, or with an error. */
  unblockClient(conn: Connection, withError: boolean): boolean {
    const c = this.clientOf(conn);
    const b = c.blocked;
    if (b === null || b.internal === true) return false;
    if (withError) this.blocked.unblockWithError(c, 'UNBLOCKED client unblocked via CLIENT UNBLOCK');
    else this.blocked.unblock(c, true);
    return true;
  }

  /**
   * This primary turned replica (REPLICAOF host port): clients blocked on
   * keys or WAIT get Redis' -UNBLOCKED error (their keys now change only by
   * the primary's hand, and WAIT has no replicas of ours to count), or
   * Valkey's -REDIRECT to the new primary when they declared CLIENT CAPA
   * redirect, and are disconnected once it is sent, as Redis does.
   */
  private unblockOnRoleChange(): void {
    const primary = this.replica.primaryAddress();
    for (const c of this.clients.values()) {
      const b = c.blocked;
      if (b === null || b.internal === true) continue;
      c.closeAfterReply = true;
      this.blocked.unblockWithError(
        c,
        c.capaRedirect && primary !== null ? `REDIRECT ${primary}` : 'UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)',
      );
    }
  }

  /** Something clients of `kind` wait for happened: wake those now ready. */
  wakeReady(kind: string): void {
    this.blocked.wakeReady(kind);
  }

  /** A blocking command ended: like any processed command, it used up CLIENT CACHING. */
  private resumeAfterBlocking(c: Client): void {
    if (c.tracking !== null) this.tracking.commandProcessed(c, c.ctx.multi !== null, false);
    this.resume(c);
  }

  /** A client that waited (blocking command, pause) goes on with its buffered input. */
  private resume(c: Client): void {
    this.engine.clock.tick();
    c.processInput();
    this.afterInput(c);
  }

  /** Forget a client (its socket is closing). */
  unlinkClient(c: Client): void {
    if (!this.clients.delete(c.id)) return;
    this.blocked.forget(c);
    this.engine.watches.unwatchAll(c.ctx);
    this.persistence.forget(c);
    this.monitors.delete(c);
    this.pause.forget(c);
    this.pubsub.unsubscribeAll(c);
    this.tracking.forget(c);
    if (c.ctx.kind === 'replica') this.primary.forget(c);
  }

  // ---- replication (replication/) ---------------------------------------------------

  /** Why this server cannot serve SYNC / PSYNC now (a replica whose own link is down), or null. */
  syncRefusal(): string | null {
    if (this.failover.inProgress) return "NOMASTERLINK Can't SYNC while failing over";
    const role = this.replica.role();
    if (role === null || role[2] === 'connected') return null;
    return "NOMASTERLINK Can't SYNC while not connected with my master";
  }

  authRequired(): boolean {
    return this.acl.authRequired;
  }

  authFailed(ctx: CommandContext, username: string, command: string): void {
    this.access.authFailed(ctx, username, command);
  }

  scriptAclRefusal(caller: CommandContext, cmd: Command, argv: readonly string[]): string | null {
    return this.access.scriptRefusal(caller, cmd, argv);
  }

  aclPermits(caller: CommandContext, cmd: Command, argv: readonly string[]): boolean {
    const conn = caller.conn;
    return conn === null || checkCommand(conn.aclUser, cmd, argv) === ACL_OK;
  }

  /** Local connections (loopback or unix socket), for protected mode and DEBUG. */
  isLocal(conn: Connection | null): boolean {
    // Contexts without a connection run on the server's behalf.
    if (conn === null) return true;
    const ip = this.clientOf(conn).peerIp;
    return ip === null || isLoopback(ip);
  }

  // ---- command flow ------------------------------------------------------------

  execute(c: Client, argv: string[]): void {
    const tracking = this.tracking;
    // Redis' server.current_client, for tracking's NOLOOP and its deferred invalidations.
    const previous = tracking.current;
    tracking.current = c;
    try {
      execute(this, c, argv);
    } finally {
      tracking.current = previous;
    }
    // CLIENT CACHING covers the next command (or transaction) only; a blocked command keeps it until it ends.
    if (c.tracking !== null && c.tracking.caching && c.blocked === null) {
      this.tracking.commandProcessed(c, c.ctx.multi !== null, this.table.resolve(argv)?.parent?.name === 'client');
    }
  }

  /**
   * After a client's input was processed: send the replies (handing the
   * log to its followers first), or hold them until the AOF has what they
   * may reveal (group commit).
   */
  afterInput(c: Client, fromRead = false): void {
    if (this.timedCount > 0) this.accountBatch();
    this.releaseOutput(c, fromRead);
  }

  /**
   * Send what `c`'s writer holds with this turn's replies, or when the AOF
   * has what it may reveal. `fromRead`: at the end of the read callback
   * that brought `c`'s input (Client.onData).
   */
  private releaseOutput(c: Client, fromRead: boolean): void {
    // Under appendfsync everysec or no the AOF write at the end of this turn
    // (writePending) is all a reply waits for: it is not held.
    if (this.persistence.mustWait() && !this.persistence.durableOnWrite()) {
      // The group commit at the end of this turn hands the log to the AOF,
      // once for all the clients served in the turn.
      c.holdReplies();
      // Whether the loop slept (a native read, with its IC misses) is asked only when a lone commit could follow.
      this.persistence.hold(c, fromRead && this.persistence.mayCommitAlone() && this.servedAlone());
      if (this.primary.synchronous) this.primary.requestAcks();
    } else if (fromRead && this.servedAlone()) {
      this.writeAtOnce(c);
    } else {
      this.queueWrite(c);
    }
  }

  /**
   * Is the client whose input was just read the first one served since the
   * event loop slept, with no reply of this turn queued before it? A lone
   * client (one command, its reply, the loop sleeps again) looks like this
   * on every request; with the I/O threads the rings batch instead.
   */
  private servedAlone(): boolean {
    return !this.writesScheduled && this.ioThreads === null && this.loopSlept();
  }

  /**
   * A client served alone is answered at the end of its own read callback
   * instead of in the turn's setImmediate: one loop phase and one entry
   * into JS less per request (redis-benchmark -c 1, bench/one-client.mjs:
   * p50 55 -> 39 us, redis-server's 39-47 in the same runs). The clients
   * served after it in the same turn still go out together (writeReplies).
   */
  private writeAtOnce(c: Client): void {
    this.sendReply(c, this.prepareReplies());
  }

  /** The event loop's idle time (ms, libuv's metrics) when loopSlept last looked. */
  private idleSeen = -1;

  /**
   * Did the event loop sleep since the last call? libuv counts idle time
   * only when its poll had to wait: under load a turn finds sockets ready
   * at once and the time stays the same, so the clients of a busy turn go
   * out together and only the first client after a sleep is answered at
   * once (performance.nodeTiming.idleTime: 80 ns a call here).
   */
  private loopSlept(): boolean {
    const idle = performance.nodeTiming.idleTime;
    if (idle === this.idleSeen) return false;
    this.idleSeen = idle;
    return true;
  }

  /**
   * Clients with replies to send once this turn's input is all processed.
   * Like Redis' handleClientsWithPendingWrites in beforeSleep: the replies
   * of every client served in one poll go out together, so a client that
   * is woken by its reply finds the others' replies already there.
   */
  private readonly pendingWrites: Client[] = [];
  private writesScheduled = false;

  private queueWrite(c: Client): void {
    if (c.writeQueued) return;
    c.writeQueued = true;
    this.pendingWrites.push(c);
    this.scheduleWrites();
  }

  private scheduleWrites(): void {
    if (!this.writesScheduled) {
      this.writesScheduled = true;
      setImmediate(this.writePending);
    }
  }

  private readonly writePending = (): void => {
    try {
      this.writeReplies();
    } finally {
      // In a microtask: the I/O threads' rings are published in microtasks queued
      // by the writes above, and those must reach their threads before a slice runs.
      if (this.afterWrites.length > 0) queueMicrotask(this.runAfterWrites);
    }
  };

  private writeReplies(): void {
    this.writesScheduled = false;
    const behind = this.prepareReplies();
    const list = this.pendingWrites;
    // Last queued first, as Redis walks clients_pending_write (it links each
    // client at the head): a publisher's reply goes out before the fan-out to
    // the subscribers its message reached, so its next command arrives while
    // they are written and the next turn serves more at once.
    for (let i = list.length - 1; i >= 0; i--) {
      const c = list[i]!;
      c.writeQueued = false;
      this.sendReply(c, behind);
    }
    while (list.length > 0) list.pop();
  }

  /**
   * What goes before any reply: BCAST invalidations of the changes made so
   * far (Redis' beforeSleep), the log handed to its followers, and the AOF
   * written (everysec, no: the replies may reveal what it holds). Returns
   * true when the AOF could not take it (no file open yet): replies then
   * wait in the gate.
   */
  private prepareReplies(): boolean {
    this.tracking.broadcast();
    if (this.engine.log.hasPending) this.engine.log.flush();
    const persistence = this.persistence;
    persistence.writeBeforeReplies();
    return persistence.durableOnWrite() && persistence.mustWait();
  }

  private sendReply(c: Client, behind: boolean): void {
    if (behind && !c.closed) {
      c.holdReplies();
      this.persistence.hold(c);
      return;
    }
    c.flush();
    if (c.streaming) this.pumpLater(c);
  }

  /** Background slices waiting for this turn's replies (Engine.afterReplies). */
  private afterWrites: (() => void)[] = [];

  private readonly afterReplies = (work: () => void): void => {
    if (this.writesScheduled) this.afterWrites.push(work);
    else work();
  };

  private readonly runAfterWrites = (): void => {
    const list = this.afterWrites;
    this.afterWrites = [];
    for (const work of list) work();
  };

  /** Clients whose streamed reply continues in the next turn. */
  private pumps: Client[] = [];

  /** Continue `c`'s streamed reply in a later turn (after other clients are served). */
  pumpLater(c: Client): void {
    if (this.pumps.includes(c)) return;
    this.pumps.push(c);
    if (this.pumps.length === 1) setImmediate(this.runPumps);
  }

  private readonly runPumps = (): void => {
    const list = this.pumps;
    this.pumps = [];
    for (const c of list) c.pump();
  };

  // ---- client-side caching (TrackingHost) ----------------------------------------------

  clientById(id: number): Client | undefined {
    return this.clients.get(id);
  }

  /** Tracking wrote an invalidation to `c` outside its own command. */
  outputReady(c: TrackingClient): void {
    // A Client (every Pub/Sub delivery) needs no lookup: closed ones are skipped by their flag.
    if (c instanceof Client) {
      if (!c.closed) this.releaseOutput(c, false);
      return;
    }
    const client = this.clients.get(c.id);
    if (client !== undefined && client === c) this.releaseOutput(client, false);
  }

  scheduleBroadcast(): void {
    this.scheduleWrites();
  }

  // ---- output buffer limits ----------------------------------------------------

  private readOutputLimits(): OutputLimits | null {
    const limits = parseOutputLimits(this.config.str('client-output-buffer-limit'));
    return noLimits(limits) ? null : limits;
  }

  private readClientEvictionLimit(): number {
    return clientEvictionLimit(this.config.str('maxmemory-clients'), this.config.int('maxmemory'));
  }

  /**
   * maxmemory-clients: while the normal and Pub/Sub clients together use
   * the limit or more, disconnect the largest (Redis' evictClients).
   */
  evictClients(): void {
    const limit = this.clientEvictionLimit;
    if (limit === 0) return;
    const { evict, overAfterAll } = clientsToEvict(this.clients.values(), limit);
    for (const c of evict) {
      this.logger.info(`Evicting client: ${clientInfoLine(c)}`);
      this.stats.evictedClients++;
      c.drop();
    }
    if (overAfterAll) this.logger.warn('Over client maxmemory after evicting all evictable clients');
  }

  private evictionQueued = false;

  /**
   * evictClients() once this turn's work is done: not in the middle of a
   * write that found a client over (a PUBLISH walking its subscribers).
   */
  evictClientsSoon(): void {
    if (this.evictionQueued) return;
    this.evictionQueued = true;
    setImmediate(() => {
      this.evictionQueued = false;
      this.evictClients();
    });
  }

  /** The output limit of `c`'s class (MONITOR clients count as normal), or null for none. */
  outputLimitFor(c: Client): OutputLimit | null {
    const limits = this.outputLimits;
    if (limits === null) return null;
    const kind = c.ctx.kind;
    const l = kind === 'replica' ? limits.slave : kind === 'pubsub' ? limits.pubsub : limits.normal;
    return l.hard === 0 && l.soft === 0 ? null : l;
  }

  /** Commands run since the clock was last read (the first timedCount entries), and that reading. */
  readonly timedCommands: Command[] = [];
  timedCount = 0;
  batchStart = 0;

  /** Note a finished command for accountBatch. */
  timeCommand(cmd: Command): void {
    if (this.timedCount === 0) this.batchStart = this.engine.clock.mark;
    this.timedCommands[this.timedCount++] = cmd;
  }

  /** Read the clock once and share the elapsed time among the commands run since the last reading (commandstats usec). */
  accountBatch(): void {
    const list = this.timedCommands;
    const n = this.timedCount;
    const end = this.engine.clock.tick();
    const per = ((end - this.batchStart) * 1000) / n;
    for (let i = 0; i < n; i++) list[i]!.stats.usec += per;
    this.timedCount = 0;
  }

  // ---- the host interface commands see (CommandHost in commands/context.ts) ------

  info(sections: string[]): string {
    return infoString(this, sections);
  }

  /** INFO memory's, MEMORY STATS' and MEMORY DOCTOR's figures, measured now. */
  memoryOverhead(): { overhead: MemoryOverhead; counts: DoctorCounts } {
    return gatherMemoryOverhead(this);
  }

  lookupCommand(argv: readonly string[]): Command | undefined {
    return this.table.resolve(argv);
  }

  /** A command of a script's redis.call: accounted like any command, shown to MONITOR as from "lua". */
  runScriptCommand(ctx: CommandContext, cmd: Command, argv: string[]): void {
    const reply = ctx.reply;
    const errorsBefore = reply.errorCount;
    const prev = ctx.current;
    const prevArgv = ctx.currentArgv;
    ctx.current = cmd;
    ctx.currentArgv = argv;
    const timing = this.timing;
    const started = timing.precise ? this.engine.clock.tick() : 0;
    try {
      cmd.run!(ctx, argv);
    } catch (e) {
      reply.error(this.internalError(e, `executing '${cmd.name}' from a script`, null, argv));
    } finally {
      ctx.current = prev;
      ctx.currentArgv = prevArgv;
    }
    if (timing.precise) {
      timing.finished(cmd, argv, (this.engine.clock.tick() - started) * 1000, SCRIPT_CLIENT);
    } else {
      this.timeCommand(cmd);
      if (cmd.timedAlone) this.accountBatch();
    }
    cmd.stats.calls++;
    if (reply.errorCount !== errorsBefore) cmd.stats.failed++;
    this.stats.commandsProcessed++;
    // The script's keys decide its caller's slot (a script over several slots is charged to none).
    if (this.observeCommands) observeInnerCommand(this, ctx.db.id, cmd, argv);
    // The script's caller remembers the keys its read-only commands read (Redis' current_client).
    const caller = this.tracking.current;
    if (caller !== null && caller.tracking !== null && cmd.flags & F.READONLY) this.tracking.rememberKeys(caller, cmd, argv);
    if (this.monitors.size > 0 && !(cmd.flags & (F.SKIP_MONITOR | F.ADMIN))) this.toMonitors(monitorLine('lua', ctx.db.id, argv), null);
  }

  callNested(ctx: CommandContext, argv: string[]): void {
    // Queued commands were resolved when queued; the table has not changed since.
    const cmd = this.table.resolve(argv)!;
    const c = this.clientOf(ctx.connection());
    // Permissions may have changed since the command was queued (Redis' execCommand checks again).
    if (!c.aclUser.unrestricted) {
      const denied = this.access.execRefusal(c, cmd, argv);
      if (denied !== null) {
        ctx.reply.error(denied);
        return;
      }
    }
    call(this, c, cmd, argv, true);
  }

  /** True if `argv` must wait because of CLIENT PAUSE. */
  mustHold(c: Client, argv: string[]): boolean {
    const mode = this.pause.mode;
    if (mode === null || c.ctx.kind === 'master' || c.ctx.kind === 'replica') return false;
    if (mode === 'all' || commandBlockedByPause(this, c, argv)) {
      this.pause.hold(c);
      return true;
    }
    return false;
  }

  /** Clients waiting in a blocking command or held by CLIENT PAUSE (Redis counts both in blocked_clients). */
  get blockedClients(): number {
    return this.blocked.size + this.pause.heldCount;
  }

  /** Is `conn` waiting (blocking command or CLIENT PAUSE)? CLIENT LIST flag b. */
  isBlocked(conn: Connection): boolean {
    const c = this.clientOf(conn);
    return c.blocked !== null || this.pause.isHolding(c);
  }

  pauseClients(mode: 'all' | 'write', ms: number): void {
    this.pause.start(mode, ms);
  }

  unpauseClients(): void {
    this.pause.end();
  }

  /** Feed a command as it starts to MONITOR clients (EVAL, EVALSHA, FCALL: CommandHost.feedMonitorsFirst). */
  feedMonitorsFirst(ctx: CommandContext, argv: readonly string[]): void {
    if (this.monitors.size === 0 || ctx.conn === null) return;
    this.toMonitors(monitorLine(monitorSource(ctx.conn.addr), ctx.db.id, argv), ctx);
  }

  /** Feed an executed command to MONITOR clients. */
  feedMonitors(c: Client, cmd: Command, argv: string[]): void {
    if (cmd.flags & (F.SKIP_MONITOR | F.ADMIN)) return;
    this.toMonitors(monitorLine(monitorSource(c.addr), c.ctx.db.id, argv), c.ctx);
  }

  /** Send a MONITOR line to every monitor; the one that ran the command (`by`) writes it with its own reply. */
  private toMonitors(line: Buffer, by: CommandContext | null): void {
    for (const m of this.monitors) {
      if (m.closed) continue;
      m.reply.rawBytes(line);
      if (m.ctx !== by) m.flush();
    }
  }

  /**
   * A bug surfaced as an exception while serving `c`: log it with the
   * command, count it, and return the error reply. The server stays up.
   * With VIREO_DEBUG_EXCEPTIONS=1 (tests, fuzzers) the reply carries the
   * exception and where it was thrown, so a test names the culprit.
   */
  internalError(e: unknown, where: string, c: Client | null, argv: readonly string[] | null = null): string {
    this.stats.internalErrors++;
    const shownArgs = argv === null ? undefined : argv.slice(0, 8).map((a) => a.slice(0, 64));
    const context = `${c === null ? '' : ` (client ${c.describe()})`}${shownArgs === undefined ? '' : ` running '${shownArgs.join(' ')}'`}`;
    this.logger.error({ err: e, client: c?.describe(), argv: shownArgs }, `Internal error ${where}${context}`);
    let msg = `ERR internal error ${where}`;
    if (this.debugExceptions) {
      const err = e instanceof Error ? e : new Error(String(e));
      const frame = (err.stack ?? '').split('\n').find((l) => l.trim().startsWith('at ')) ?? '';
      msg += `: ${err.name}: ${err.message} ${frame.trim()}`;
    }
    return msg;
  }

  private countError(msg: string): void {
    this.stats.totalErrorReplies++;
    const space = msg.indexOf(' ');
    const code = space > 0 && space < 32 ? msg.slice(0, space) : 'ERR';
    const errors = this.stats.errors;
    if (errors.size >= 128 && !errors.has(code)) return;
    errors.set(code, (errors.get(code) ?? 0) + 1);
  }

  /** The Client behind a connection handed to a command (every Connection is one). */
  private clientOf(conn: Connection): Client {
    const c = this.clients.get(conn.id);
    if (c === undefined || c !== conn) throw new Error(`client ${conn.id} is not connected`);
    return c;
  }

  /** RESET: back to a fresh connection's state (Redis' clearClientConnectionState). */
  resetClient(conn: Connection): void {
    const c = this.clientOf(conn);
    const ctx = c.ctx;
    if (c.monitor) {
      c.monitor = false;
      this.monitors.delete(c);
    }
    this.pubsub.unsubscribeAll(c);
    if (ctx.kind === 'pubsub') ctx.kind = 'normal';
    ctx.select(0);
    c.reply.resp = 2;
    c.aclUser = this.acl.defaultUser;
    c.authenticated = !this.authRequired();
    c.parser.limits.authenticated = c.authenticated;
    discardTransaction(ctx);
    ctx.name = '';
    c.replyOff = false;
    c.replySkip = false;
    c.replySkipNext = false;
    ctx.noTouch = false;
    c.noEvict = false;
    // As Valkey: READONLY ends, CLIENT CAPA (what the library can do) stays.
    c.readonlyMode = false;
    c.scriptDebugRefused = false;
    this.tracking.forget(c);
  }

  /** CONFIG RESETSTAT. */
  resetStats(): void {
    Object.assign(this.stats, new ServerStats());
    this.slotStats.reset();
    this.hotKeys.reset();
    for (const cmd of this.table.all()) {
      cmd.stats.calls = 0;
      cmd.stats.usec = 0;
      cmd.stats.rejected = 0;
      cmd.stats.failed = 0;
      cmd.stats.latency = null;
    }
    const es = this.engine.stats;
    es.keyspaceHits = 0;
    es.keyspaceMisses = 0;
    es.expiredKeys = 0;
    es.expiredStalePerc = 0;
    es.expiredTimeCapReached = 0;
    es.expireCycleCpuMs = 0;
    es.evictedKeys = 0;
    this.memoryLimit.resetStats();
    this.memory.peak = this.memory.sample();
  }

  // ---- cron ----------------------------------------------------------------------

  private scheduleCron(): void {
    const hz = Math.max(1, Math.min(500, this.config.int('hz')));
    this.cron = setTimeout(() => this.runCron(), Math.floor(1000 / hz));
    this.cron.unref();
  }

  /**
   * V8's garbage collector pauses are Vireo's own latency event, `gc`
   * (Redis has no collector); observed only while the monitor is on.
   */
  private watchGcPauses(): void {
    const on = this.latencyMonitor.thresholdMs > 0 && !this.shuttingDown;
    if (on === (this.gcObserver !== null)) return;
    if (!on) {
      this.gcObserver!.disconnect();
      this.gcObserver = null;
      return;
    }
    this.gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) this.latencyMonitor.addIfNeeded('gc', entry.duration);
    });
    this.gcObserver.observe({ entryTypes: ['gc'] });
  }

  private gcObserver: PerformanceObserver | null = null;

  private runCron(): void {
    if (this.shuttingDown) return;
    this.engine.clock.resync();
    const hz = Math.max(1, Math.min(500, this.config.int('hz')));
    // Like Redis' slow expire cycle: at most 25% of the cron period.
    const budget = (1000 / hz) * 0.25 * (this.config.int('active-expire-effort') / 4 + 0.75);
    // Not while a suspended script holds its execution unit open: it must see the keyspace it started with.
    if (this.activeExpireEnabled && !this.engine.isReplica && !this.engine.expiryPaused && !this.engine.loading && !this.engine.inUnit) {
      const started = performance.now();
      this.expire.run(budget);
      this.latencyMonitor.addIfNeeded('expire-cycle', performance.now() - started);
    }
    // Also when idle: a CONFIG SET of tracking-table-max-keys applies without waiting for a command.
    if (this.tracking.clientCount > 0) this.tracking.enforceLimit();
    this.memory.sample();
    this.idleReclaim.tick(performance.now(), 1000 / hz);
    this.sampleStats();
    this.closeIdleClients();
    this.migrateSockets.closeIdle();
    this.evictClients();
    this.resetOutputPeaks();
    if (this.engine.log.hasPending) this.engine.log.flush();
    try {
      this.primary.cron(this.engine.isReplica);
      this.failover.check();
    } catch (e) {
      this.logger.error({ err: e }, 'replication cron failed');
    }
    try {
      this.persistence.cron();
    } catch (e) {
      this.logger.error({ err: e }, 'persistence cron failed');
    }
    this.scheduleCron();
  }

  private sampleStats(): void {
    const s = this.stats;
    const now = Date.now();
    const dt = (now - s.lastSampleTime) / 1000;
    if (dt < 0.09) return;
    const push = (arr: number[], v: number) => {
      arr.push(v);
      if (arr.length > 16) arr.shift();
    };
    push(s.opsSamples, (s.commandsProcessed - s.lastSampleOps) / dt);
    push(s.inputSamples, (s.netInputBytes - s.lastSampleIn) / dt / 1024);
    push(s.outputSamples, (s.netOutputBytes - s.lastSampleOut) / dt / 1024);
    s.lastSampleOps = s.commandsProcessed;
    s.lastSampleIn = s.netInputBytes;
    s.lastSampleOut = s.netOutputBytes;
    s.lastSampleTime = now;
  }

  private lastPeakReset = Date.now();

  /** CLIENT LIST rbp is the peak of the last 5 seconds, as Redis resets buf_peak. */
  private resetOutputPeaks(): void {
    const now = Date.now();
    if (now - this.lastPeakReset < 5000) return;
    this.lastPeakReset = now;
    for (const c of this.clients.values()) c.outputPeak = 0;
  }

  private closeIdleClients(): void {
    const timeout = this.config.int('timeout');
    if (timeout <= 0) return;
    const limit = Date.now() - timeout * 1000;
    for (const c of this.clients.values()) {
      if (c.ctx.kind !== 'normal' || c.monitor) continue;
      if (c.lastInteraction < limit) {
        this.logger.debug({ client: c.describe() }, 'Closing idle client');
        c.close();
      }
    }
  }

  // ---- configuration -------------------------------------------------------------

  /** The eviction settings that decide what a key's access word means, read from the config. */
  private applyAccessConfig(): void {
    const access = this.engine.access;
    const policy = this.config.str('maxmemory-policy');
    access.lfu = policy.endsWith('-lfu');
    access.lru = policy.endsWith('-lru');
    access.lfuLogFactor = this.config.int('lfu-log-factor');
    access.lfuDecayTime = this.config.int('lfu-decay-time');
    // MAXMEMORY_FLAG_NO_SHARED_INTEGERS: with a memory limit and an LRU/LFU policy every value has its own clock.
    access.sharedIntegers = this.config.int('maxmemory') === 0 || !(access.lfu || access.lru);
  }

  /** maxmemory and the eviction parameters, read from the config (`runtime`: by CONFIG SET, not at start-up). */
  private applyEvictionConfig(runtime: boolean): void {
    const c = this.config;
    const protection = this.engine.evictor.protection;
    protection.setTypes(c.str('eviction-protect-types').split(' ').filter((t) => t !== '') as TypeName[]);
    protection.setPatterns(c.str('eviction-protect-keys').split(' ').filter((p) => p !== ''));
    const before = this.memoryLimit.maxmemory;
    const maxmemory = c.int('maxmemory');
    // A percentage of maxmemory-clients follows it.
    this.clientEvictionLimit = this.readClientEvictionLimit();
    this.memoryLimit.configure(maxmemory, c.str('maxmemory-policy') as EvictionPolicy, c.int('maxmemory-samples'), c.int('maxmemory-eviction-tenacity'));
    if (runtime && maxmemory > 0 && maxmemory !== before) {
      const used = this.memoryLimit.used();
      if (used > maxmemory) {
        // Redis' updateMaxmemory: warn, then evict right away (in steps, between commands).
        this.logger.warn(
          `WARNING: the new maxmemory value set via CONFIG SET (${maxmemory}) is smaller than the current memory usage (${used}). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.`,
        );
        this.memoryLimit.perform();
      }
    }
  }

  /** A limit below what the empty server holds leaves no room for data: say so at start (Redis warns below 1 MB). */
  private warnIfMaxmemoryBelowStartup(): void {
    const maxmemory = this.config.int('maxmemory');
    if (maxmemory > 0 && this.memory.startup > maxmemory) {
      this.logger.warn(
        `WARNING: maxmemory (${maxmemory} bytes) is below what the server holds with no data (${this.memory.startup} bytes): every write will evict or be refused. Vireo's used_memory includes the Node runtime's heap, about 20 MB.`,
      );
    }
  }

  /** Bytes maxmemory does not count: what is buffered for replicas (Redis' freeMemoryGetNotCountedMemory). */
  notCountedBytes(): number {
    // Redis' freeMemoryGetNotCountedMemory: replicas' output buffers and the AOF buffer.
    const aof = this.persistence.aof;
    let bytes = aof.on ? aof.bufferLength : 0;
    if (this.primary.replicaCount === 0) return bytes;
    for (const c of this.clients.values()) if (c.ctx.kind === 'replica') bytes += c.outputMemory;
    return bytes;
  }

  /** Redis' isSafeToPerformEvictions. */
  evictionPaused(): boolean {
    if (this.persistence.loading !== null || this.scripting.busyError !== null || this.pause.mode !== null) return true;
    return this.engine.isReplica && this.config.bool('replica-ignore-maxmemory');
  }

  /** A tls-* parameter changed: new TLS connections use the rebuilt context; on failure the old one stays. */
  private reloadTls(): void {
    try {
      this.listeners.reloadTls();
    } catch (e) {
      if (!(e instanceof TlsConfigError)) throw e;
      this.logger.warn(e.message);
      throw new Error('Unable to update TLS configuration. Check server logs.');
    }
  }

  private applyConfig(name: string, value: ConfigValue): void {
    if (TLS_CONTEXT_PARAMS.has(name)) {
      this.reloadTls();
      return;
    }
    if (typeof value === 'number' && this.engine.limits.apply(name, value)) return;
    if (EVICTION_PARAMS.has(name)) this.applyEvictionConfig(true);
    if (ACCESS_PARAMS.has(name)) {
      this.applyAccessConfig();
      return;
    }
    switch (name) {
      case 'requirepass':
        this.acl.setDefaultPassword(value as string);
        break;
      case 'min-replicas-to-write':
      case 'min-replicas-max-lag':
        this.primary.refreshGoodReplicas();
        break;
      case 'sync-replicas':
        this.primary.readSyncReplicas();
        break;
      case 'lua-memory-limit':
        this.scripting.memoryLimit = value as number;
        break;
      case 'changefeed-key':
      case 'changefeed-db':
      case 'changefeed-maxlen':
      case 'changefeed-events':
        this.applyChangeFeedConfig();
        break;
      case 'proto-max-bulk-len':
        this.protoMaxBulkLen = value as number;
        for (const c of this.clients.values()) c.parser.limits.maxBulkLen = value as number;
        break;
      case 'client-query-buffer-limit':
        this.queryBufferLimit = value as number;
        break;
      case 'prefetch-batch-max-size':
        this.prefetchBatch = value as number;
        break;
      case 'cluster-slot-stats-enabled':
      case 'vireo-hotkeys-sample-rate':
        this.applyObserverConfig();
        break;
      case 'slowlog-log-slower-than':
      case 'slowlog-max-len':
      case 'latency-tracking':
      case 'latency-tracking-info-percentiles':
        this.timing.configure(this.config);
        break;
      case 'latency-monitor-threshold':
        this.latencyMonitor.thresholdMs = value as number;
        this.timing.configure(this.config);
        this.watchGcPauses();
        break;
      case 'tracking-table-max-keys':
        this.trackingTableMaxKeys = value as number;
        break;
      case 'client-output-buffer-limit':
        this.outputLimits = this.readOutputLimits();
        break;
      case 'maxmemory-clients':
        this.clientEvictionLimit = this.readClientEvictionLimit();
        // After the command: CONFIG SET's own client may be the one to go.
        this.evictClientsSoon();
        break;
      case 'notify-keyspace-events':
        this.notifier.configure(value as string);
        break;
      case 'loglevel':
        this.logger.setLevel(value as RedisLogLevel);
        break;
      case 'maxclients':
        this.listeners.setMaxConnections((value as number) + 32);
        break;
      case 'tcp-keepalive':
        this.ioThreads?.setKeepalive(value as number);
        break;
      // 'port', 'tls-port' and 'bind' are applied by rebind(), which CONFIG SET awaits.
      case 'tls-port':
        // The context must build before a TLS listener is bound.
        if (value !== 0) this.reloadTls();
        break;
      case 'dir':
        if (value !== '') {
          try {
            process.chdir(value as string);
          } catch (e) {
            // Redis answers with strerror().
            throw new Error(strerror(e));
          }
          // Keep it absolute: file paths are resolved against it.
          if (value !== process.cwd()) this.config.setMany([['dir', process.cwd()]], { startup: true });
        }
        break;
      case 'appendonly':
        this.persistence.setAppendonly(value as boolean);
        break;
    }
  }
}

function isLoopback(addr: string | undefined): boolean {
  if (addr === undefined) return true;
  return addr === '127.0.0.1' || addr === '::1' || addr.startsWith('127.') || addr === '::ffff:127.0.0.1';
}

const PROTECTED_MODE_ERROR =
  "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. In this mode connections are only accepted from the loopback interface. If you want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. 4) Set up an authentication password for the default user. NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n";
