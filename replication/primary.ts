/**
 * The primary side of replication (DESIGN.md §7): the replicas attached to
 * this server, the backlog, and the decisions of SYNC / PSYNC.
 *
 * Replicas follow the command log: this object is one follower of it, and
 * hands each flushed chunk (copied once) to every replica link and to the
 * backlog. A full sync gives a group of replicas an RDB taken at one log
 * offset (full-sync.ts); a partial sync continues a replica from the
 * backlog. Acknowledgements (REPLCONF ACK) move the links' offsets in the
 * durability gate, which wakes WAIT and WAITAOF.
 */

import type { Engine } from '../src/engine/engine.js';
import type { Config } from '../src/config.js';
import type { Logger } from '../src/logger.js';
import type { LogFollower } from '../src/log/command-log.js';
import type { DurabilityGate, DurableFollower } from '../src/log/gate.js';
import type { ServerStats } from '../src/server/stats.js';
import type { RdbWriter } from '../persistence/rdb/file.js';
import { Backlog } from './backlog.js';
import { DiskFeed, type LogFiles } from './disk-feed.js';
import { parseOutputLimits } from '../src/server/output-limits.js';
import { FullSync, type FullSyncMode } from './full-sync.js';
import { noCapabilities, ReplicaLink, sameRdbFilter, type ReplicaCapabilities, type ReplicaConnection } from './replica-link.js';
import { randomReplId, type ReplicationIds } from './ids.js';

export interface PrimaryHost {
  readonly engine: Engine;
  readonly config: Config;
  readonly logger: Logger;
  readonly stats: ServerStats;
  readonly replIds: ReplicationIds;
  readonly gate: DurabilityGate;
  /** Directory for full-sync RDB files. */
  dataDir(): string;
  /** The RDB header a full sync starts with: aux fields, and the function libraries unless `functions` is false. */
  rdbHeader(w: RdbWriter, functions: boolean): void;
  /** Wake clients blocked in WAIT. */
  wakeWaiters(): void;
  /** The AOF as stretches of the log on disk, or null when it is off. */
  logFiles(): LogFiles | null;
}

/** What SYNC / PSYNC asked for. */
export interface SyncRequest {
  /** PSYNC's replid ('?' for none); null for SYNC. */
  replId: string | null;
  /** PSYNC's offset argument as sent. */
  offset: string;
}

export class ReplicationPrimary implements LogFollower {
  private readonly links = new Map<ReplicaConnection, ReplicaLink>();
  /** What connections declared with REPLCONF before they sync. */
  private readonly declared = new WeakMap<ReplicaConnection, ReplicaCapabilities>();
  backlog: Backlog | null = null;
  private following = false;
  /** Wall ms since which no replica is attached (repl-backlog-ttl). */
  private noReplicasSince = Date.now();
  /** Replicas waiting for the next full sync. */
  private waiting: ReplicaLink[] = [];
  private readonly syncs = new Set<FullSync>();
  private disklessTimer: NodeJS.Timeout | null = null;
  private lastPingMs = Date.now();
  private getAckScheduled = false;
  /** Replicas whose lag is within min-replicas-max-lag (refreshed by the cron and ACKs). */
  goodReplicas = 0;
  /** FAILOVER waits for a replica to be level with the log: no PINGs meanwhile. */
  pingsPaused = false;

  constructor(private readonly host: PrimaryHost) {
    this.refreshGoodReplicas();
    this.readSlowReplicaLimit();
    host.gate.addFollower(this.quorum);
    this.readSyncReplicas();
  }

  // ---- synchronous replication (sync-replicas) -----------------------------------------

  /** sync-replicas: replies wait until this many replicas acknowledged what they may reveal. */
  private syncReplicas = 0;

  /** The replicas as one follower of the gate: the log is "durable" up to the offset the syncReplicas-th best replica acknowledged. */
  private readonly quorum: DurableFollower & { required: boolean } = {
    kind: 'replica',
    required: false,
    durableOffset: () => this.quorumOffset(),
    fsyncedOffset: () => 0,
    ackedOffset: () => 0,
    // Replies wait for the replicas' acknowledgements.
    durableOnWrite: false,
  };

  /**
   * The highest offset a quorum of replicas acknowledged so far. Monotonic:
   * while fewer replicas than asked for are online (writes are refused
   * then), replies that reveal only what a quorum had still go out, and
   * replies that wait for more wait until the replicas are back.
   */
  private quorumAcked = 0;

  private quorumOffset(): number {
    const n = this.syncReplicas;
    // A replica's writes come from its primary: nothing of ours waits for replicas there.
    if (n === 0 || this.host.engine.isReplica) return Infinity;
    const acked: number[] = [];
    for (const link of this.links.values()) if (link.state === 'online') acked.push(link.ackOffset);
    if (acked.length >= n) {
      acked.sort((a, b) => b - a);
      if (acked[n - 1]! > this.quorumAcked) this.quorumAcked = acked[n - 1]!;
    }
    return this.quorumAcked;
  }

  /** CONFIG SET sync-replicas (and start-up). */
  readSyncReplicas(): void {
    this.syncReplicas = this.host.engine.isReplica ? 0 : this.host.config.int('sync-replicas');
    this.quorum.required = this.syncReplicas > 0;
    this.refreshGoodReplicas();
    // Turned off (or lowered): whoever waited may go.
    this.host.gate.release();
  }

  /** True when replies wait for replicas: ask them for ACKs as soon as this turn's writes went out. */
  get synchronous(): boolean {
    return this.syncReplicas > 0;
  }

  // ---- the log ----------------------------------------------------------------------

  onLogData(chunk: Buffer, start: number): void {
    this.backlog?.onLogData(chunk, start);
    if (this.links.size === 0) return;
    // One copy for every replica: the log reuses its staging buffer.
    const copy = Buffer.from(chunk);
    for (const link of this.links.values()) {
      if (link.state === 'online' && !link.fromDisk && link.conn.socketPending > this.slowReplicaBytes && this.feedFromDisk(link)) continue;
      link.feed(copy, start);
    }
  }

  /**
   * Socket backlog past which a replica is fed from the AOF files instead
   * of memory: half the replica class's soft output limit (hard if no soft).
   */
  private slowReplicaBytes = Infinity;

  private readSlowReplicaLimit(): void {
    const l = parseOutputLimits(this.host.config.str('client-output-buffer-limit')).slave;
    const limit = l.soft > 0 ? l.soft : l.hard;
    this.slowReplicaBytes = limit > 0 ? limit / 2 : 32 * 1024 * 1024;
  }

  /** Feed `link` from the AOF files from its nextOffset, if they hold it; false when they do not. */
  private feedFromDisk(link: ReplicaLink): boolean {
    const files = this.host.logFiles();
    if (files === null) return false;
    const feed = new DiskFeed(files);
    if (!feed.covers(link.nextOffset)) return false;
    link.fromDisk = true;
    this.host.logger.info(`Replica ${link.ip}:${link.capa.listeningPort} is fed from the AOF files from offset ${link.nextOffset}.`);
    feed.pump(link, () => {
      link.fromDisk = false;
    });
    return true;
  }

  private follow(): void {
    if (this.following) return;
    this.following = true;
    this.host.engine.log.follow(this);
  }

  private unfollow(): void {
    if (!this.following) return;
    this.following = false;
    this.host.engine.log.unfollow(this);
  }

  /**
   * Start-up of a primary: continue the history the loaded files carry
   * (their replid; the log offset is theirs already), so replicas that were
   * attached before the restart continue with +CONTINUE: from the AOF files
   * with appendonly on, or from the (empty) backlog when they were level
   * with an RDB saved at shutdown, as Redis 7 does.
   */
  resumeHistory(replId: string | null): void {
    if (replId === null || !/^[0-9a-f]{40}$/.test(replId)) return;
    this.host.replIds.replId = replId;
    this.host.replIds.clearSecond();
    this.ensureBacklog(false);
  }

  /** Create the backlog (the first replica attaches, or a restarted primary resumes its history). */
  private ensureBacklog(newHistory: boolean): Backlog {
    if (this.backlog !== null) return this.backlog;
    const log = this.host.engine.log;
    // A new backlog holds none of the history before it: a new replid keeps
    // replicas of that history from asking to continue it here (Redis does the same).
    if (newHistory) {
      this.host.replIds.replId = randomReplId();
      this.host.replIds.clearSecond();
    }
    log.flush();
    this.backlog = new Backlog(this.host.config.int('repl-backlog-size'), log.offset);
    this.follow();
    return this.backlog;
  }

  // ---- REPLCONF ------------------------------------------------------------------------

  /** Capabilities declared so far by `conn` (REPLCONF before SYNC). */
  capabilities(conn: ReplicaConnection): ReplicaCapabilities {
    let capa = this.declared.get(conn);
    if (capa === undefined) {
      capa = noCapabilities();
      this.declared.set(conn, capa);
    }
    return capa;
  }

  linkOf(conn: ReplicaConnection): ReplicaLink | undefined {
    return this.links.get(conn);
  }

  /** REPLCONF ACK <offset> [FACK <aofoffset>] from an attached replica. */
  ack(conn: ReplicaConnection, offset: number, aofOffset: number | null): void {
    const link = this.links.get(conn);
    if (link === undefined) return;
    link.acks = true;
    link.lastAckMs = Date.now();
    if (link.awaitingFirstAck) {
      // The diskless RDB is loaded: now the stream may follow it.
      link.awaitingFirstAck = false;
      link.goOnline();
    }
    let moved = false;
    if (offset > link.ackOffset) {
      link.ackOffset = offset;
      moved = true;
    }
    if (aofOffset !== null && aofOffset > link.aofOffset) {
      link.aofOffset = aofOffset;
      moved = true;
    }
    if (moved) {
      this.host.gate.advanced();
      this.host.gate.release();
    }
    if (this.writesRefused !== null) this.refreshGoodReplicas();
  }

  // ---- SYNC / PSYNC ------------------------------------------------------------------

  /**
   * SYNC or PSYNC from `conn`: continue it from the backlog when its
   * history and offset allow, else give it a full sync. The connection is a
   * replica from here on; its replies are muted (it only reads the stream).
   */
  attach(conn: ReplicaConnection, req: SyncRequest): void {
    if (this.links.has(conn)) return; // Redis ignores SYNC from a replica that already syncs
    const capa = this.capabilities(conn);
    const link = new ReplicaLink(conn, capa, req.replId === null);
    conn.ctx.kind = 'replica';
    conn.replyOff = true;
    conn.flush();
    if (req.replId !== null && this.tryContinue(link, req.replId, req.offset)) return;
    if (req.replId !== null && req.replId !== '?') this.host.stats.syncPartialErr++;
    this.host.stats.syncFull++;
    this.host.logger.info(`Replica ${link.ip}:${capa.listeningPort} asks for synchronization`);
    this.register(link);
    // With the AOF on, the files are the whole history and keep its id across restarts: no new one.
    this.ensureBacklog(!this.host.engine.isReplica && this.host.logFiles() === null);
    this.waiting.push(link);
    this.startSyncs();
  }

  private register(link: ReplicaLink): void {
    this.links.set(link.conn, link);
    this.follow();
  }

  /** PSYNC <replid> <offset>: `+CONTINUE` from the backlog if it covers the offset. */
  private tryContinue(link: ReplicaLink, replId: string, offsetArg: string): boolean {
    const ids = this.host.replIds;
    if (!/^-?\d{1,19}$/.test(offsetArg)) return false;
    const psyncOffset = Number(offsetArg);
    const log = this.host.engine.log;
    log.flush();
    const history = replId === ids.replId || (replId === ids.replId2 && psyncOffset <= ids.secondOffset);
    if (!history) {
      if (replId !== '?') {
        const why = replId !== ids.replId2 ? 'Replication ID mismatch' : 'offset past the end of the shared history';
        this.host.logger.info(`Partial resynchronization not accepted: ${why} (Replica asked for '${replId}', my replication IDs are '${ids.replId}' and '${ids.replId2}')`);
      }
      return false;
    }
    // PSYNC counts from 1: the replica asks for the byte after the `offset` it has.
    const next = psyncOffset - 1;
    const backlog = this.backlog;
    const inMemory = backlog !== null && backlog.covers(next);
    const files = inMemory ? null : this.host.logFiles();
    if (!inMemory && (files === null || !new DiskFeed(files).covers(next))) {
      this.host.logger.info(`Unable to partial resync with replica ${link.ip}:${link.capa.listeningPort} for lack of backlog (Replica request was: ${psyncOffset}).`);
      return false;
    }
    link.conn.sendRaw([Buffer.from(link.capa.psync2 ? `+CONTINUE ${ids.replId}\r\n` : '+CONTINUE\r\n', 'latin1')]);
    link.ackOffset = next;
    link.state = 'online';
    link.lastAckMs = Date.now();
    link.nextOffset = next;
    this.register(link);
    this.ensureBacklog(false);
    this.refreshGoodReplicas();
    this.host.stats.syncPartialOk++;
    if (inMemory) {
      const held = backlog.readFrom(next);
      if (held.length > 0) link.conn.sendRaw(held);
      link.nextOffset = backlog.endOffset;
      this.host.logger.info(`Partial resynchronization request from ${link.ip}:${link.capa.listeningPort} accepted. Sending ${backlog.endOffset - next} bytes of backlog starting from offset ${psyncOffset}.`);
    } else {
      this.host.logger.info(`Partial resynchronization request from ${link.ip}:${link.capa.listeningPort} accepted from the AOF files, starting from offset ${psyncOffset}.`);
      this.feedFromDisk(link);
    }
    return true;
  }

  /** Start the full syncs the waiting replicas need (diskless ones after repl-diskless-sync-delay). */
  private startSyncs(): void {
    const cfg = this.host.config;
    const diskless = cfg.bool('repl-diskless-sync');
    // One RDB serves the replicas that asked for the same parts of it (rdb-filter-only); the others wait for the next.
    const byMode = (m: FullSyncMode) => {
      const links = this.waiting.filter((l) => !l.conn.closed && this.modeFor(l, diskless) === m);
      return links.length === 0 ? links : links.filter((l) => sameRdbFilter(l.capa.rdbFilter, links[0]!.capa.rdbFilter));
    };
    const disk = byMode('disk');
    if (disk.length > 0 && !this.running('disk')) this.begin('disk', disk);
    const socket = byMode('diskless');
    if (socket.length === 0 || this.running('diskless')) return;
    const delay = cfg.int('repl-diskless-sync-delay');
    const max = cfg.int('repl-diskless-sync-max-replicas');
    if (delay === 0 || (max > 0 && socket.length >= max)) {
      this.begin('diskless', socket);
      return;
    }
    if (this.disklessTimer !== null) return;
    this.disklessTimer = setTimeout(() => {
      this.disklessTimer = null;
      const now = byMode('diskless');
      if (now.length > 0 && !this.running('diskless')) this.begin('diskless', now);
    }, delay * 1000);
  }

  private modeFor(link: ReplicaLink, diskless: boolean): FullSyncMode {
    return diskless && link.capa.eof ? 'diskless' : 'disk';
  }

  private running(mode: FullSyncMode): boolean {
    for (const s of this.syncs) if (s.mode === mode) return true;
    return false;
  }

  private begin(mode: FullSyncMode, links: ReplicaLink[]): void {
    this.waiting = this.waiting.filter((l) => !links.includes(l) && !l.conn.closed);
    const cfg = this.host.config;
    const host = {
      engine: this.host.engine,
      logger: this.host.logger,
      replId: this.host.replIds.replId,
      rdbHeader: (w: RdbWriter, functions: boolean) => this.host.rdbHeader(w, functions),
      compress: cfg.bool('rdbcompression'),
      checksum: cfg.bool('rdbchecksum'),
      dataDir: this.host.dataDir(),
    };
    this.host.engine.log.flush();
    const sync = new FullSync(host, mode, links, (s) => {
      this.syncs.delete(s);
      this.refreshGoodReplicas();
      // Replicas that asked meanwhile get the next one.
      if (this.waiting.length > 0) this.startSyncs();
    });
    this.syncs.add(sync);
    this.host.logger.info(`Starting BGSAVE for SYNC with target: ${mode === 'diskless' ? 'replicas sockets' : 'disk'}`);
    sync.start();
  }

  /** The connection closed: forget its link. */
  forget(conn: ReplicaConnection): void {
    const link = this.links.get(conn);
    if (link === undefined) return;
    this.links.delete(conn);
    this.waiting = this.waiting.filter((l) => l !== link);
    for (const s of this.syncs) s.dropLink(link);
    if (link.state === 'online') this.host.logger.info(`Connection with replica ${link.ip}:${link.capa.listeningPort} lost.`);
    if (this.links.size === 0) this.noReplicasSince = Date.now();
    this.refreshGoodReplicas();
    this.host.wakeWaiters();
  }

  // ---- WAIT ----------------------------------------------------------------------------

  /** Replicas that acknowledged the log up to `offset`. */
  acked(offset: number): number {
    let n = 0;
    for (const link of this.links.values()) if (link.state === 'online' && link.ackOffset >= offset) n++;
    return n;
  }

  /** Online replicas that have not acknowledged the log up to `offset` (a graceful SHUTDOWN waits for them). */
  lagging(offset: number): number {
    let n = 0;
    for (const link of this.links.values()) if (link.state === 'online' && link.ackOffset < offset) n++;
    return n;
  }

  /** Replicas whose AOF has the log up to `offset` on disk (WAITAOF). */
  fsynced(offset: number): number {
    let n = 0;
    for (const link of this.links.values()) if (link.state === 'online' && link.aofOffset >= offset) n++;
    return n;
  }

  /** Ask every replica for an ACK at the end of this turn (a WAIT is waiting). */
  requestAcks(): void {
    // A replica's log is its primary's stream: nothing of its own goes in.
    if (this.getAckScheduled || this.links.size === 0 || this.host.engine.isReplica) return;
    this.getAckScheduled = true;
    setImmediate(() => {
      this.getAckScheduled = false;
      if (this.links.size === 0) return;
      const log = this.host.engine.log;
      log.appendMeta(['REPLCONF', 'GETACK', '*']);
      log.flush();
    });
  }

  // ---- cron ------------------------------------------------------------------------------

  /** Once per cron tick: pings, timeouts, backlog TTL, good replica count. */
  cron(isReplica: boolean): void {
    const now = Date.now();
    const cfg = this.host.config;
    if (!isReplica && !this.pingsPaused && this.links.size > 0 && now - this.lastPingMs >= cfg.int('repl-ping-replica-period') * 1000) {
      this.lastPingMs = now;
      const log = this.host.engine.log;
      log.appendMeta(['PING']);
      log.flush();
    }
    const timeoutMs = cfg.int('repl-timeout') * 1000;
    for (const link of [...this.links.values()]) {
      if (link.awaitingFirstAck && now - link.lastAckMs > timeoutMs) {
        this.host.logger.warn(`Disconnecting timedout replica (full sync): ${link.ip}:${link.capa.listeningPort}`);
        link.conn.close();
        continue;
      }
      if (link.state !== 'online' || !link.acks) continue;
      if (now - link.lastAckMs > timeoutMs) {
        this.host.logger.warn(`Disconnecting timedout replica (streaming sync): ${link.ip}:${link.capa.listeningPort}`);
        link.conn.close();
      }
    }
    const ttl = cfg.int('repl-backlog-ttl');
    if (!isReplica && this.backlog !== null && this.links.size === 0 && ttl > 0 && now - this.noReplicasSince > ttl * 1000) {
      this.host.logger.info(`Replication backlog freed after ${ttl} seconds without connected replicas.`);
      this.backlog = null;
      this.host.replIds.replId = randomReplId();
      this.host.replIds.clearSecond();
      this.unfollow();
    }
    if (this.backlog !== null && this.backlog.size !== cfg.int('repl-backlog-size')) this.backlog.resize(cfg.int('repl-backlog-size'));
    this.refreshGoodReplicas();
    this.readSlowReplicaLimit();
  }

  /** Count the replicas within min-replicas-max-lag and decide whether writes are refused (also on CONFIG SET). */
  refreshGoodReplicas(): void {
    const cfg = this.host.config;
    const maxLag = cfg.int('min-replicas-max-lag');
    const now = Date.now();
    let n = 0;
    for (const link of this.links.values()) if (link.state === 'online' && link.lagSeconds(now) <= maxLag) n++;
    this.goodReplicas = n;
    const min = cfg.int('min-replicas-to-write');
    const tooFewGood = min > 0 && maxLag > 0 && n < min;
    // Synchronous replication cannot acknowledge a write without its replicas: refuse it up front.
    const tooFewOnline = this.syncReplicas > 0 && this.onlineCount() < this.syncReplicas;
    this.writesRefused = tooFewGood || tooFewOnline ? 'NOREPLICAS Not enough good replicas to write.' : null;
  }

  private onlineCount(): number {
    let n = 0;
    for (const link of this.links.values()) if (link.state === 'online') n++;
    return n;
  }

  /** min-replicas-to-write: the error writes get now, or null (read per write: kept current, not computed). */
  writesRefused: string | null = null;

  // ---- INFO and ROLE ----------------------------------------------------------------------

  get replicaCount(): number {
    return this.links.size;
  }

  /** INFO replication's replica lines (connected_slaves, min_slaves_good_slaves, slaveN). */
  infoFields(): [string, string | number][] {
    const cfg = this.host.config;
    const out: [string, string | number][] = [['connected_slaves', this.links.size]];
    if (cfg.int('min-replicas-to-write') > 0 && cfg.int('min-replicas-max-lag') > 0) out.push(['min_slaves_good_slaves', this.goodReplicas]);
    const now = Date.now();
    let i = 0;
    for (const link of this.links.values()) {
      out.push([`slave${i++}`, `ip=${link.ip},port=${link.capa.listeningPort},state=${link.state},offset=${link.ackOffset},lag=${link.lagSeconds(now)}`]);
    }
    return out;
  }

  /** INFO replication's backlog lines. */
  backlogFields(): [string, string | number][] {
    const b = this.backlog;
    return [
      ['repl_backlog_active', b === null ? 0 : 1],
      ['repl_backlog_size', b === null ? this.host.config.int('repl-backlog-size') : b.size],
      ['repl_backlog_first_byte_offset', b === null ? 0 : b.firstOffset + 1],
      ['repl_backlog_histlen', b === null ? 0 : b.histlen],
    ];
  }

  /** The state of the replica at `ip:port` (its announced address), or null when there is none (FAILOVER TO). */
  replicaState(ip: string, port: number): string | null {
    for (const link of this.links.values()) if (link.ip === ip && link.capa.listeningPort === port) return link.state;
    return null;
  }

  /** ROLE's replica list: [ip, port, acked offset] of the online replicas. */
  onlineReplicas(): { ip: string; port: number; offset: number }[] {
    const out: { ip: string; port: number; offset: number }[] = [];
    for (const link of this.links.values()) if (link.state === 'online') out.push({ ip: link.ip, port: link.capa.listeningPort, offset: link.ackOffset });
    return out;
  }

  /**
   * This server's history changed under its replicas (it started following
   * a primary, loaded a new dataset, was promoted, or its primary's replid
   * changed): they reconnect and resync (partially when they can, through
   * replid2), as Redis' disconnectSlaves. The backlog goes on from here.
   */
  historyChanged(): void {
    // What the log holds goes out first: a FAILOVER target must end level with us.
    this.host.engine.log.flush();
    this.disconnectAll();
    // Acknowledgements of the old history say nothing about the new one.
    this.quorumAcked = 0;
    this.readSyncReplicas();
    if (this.backlog !== null) this.backlog.restart(this.host.engine.log.offset);
    else this.ensureBacklog(false);
  }

  /** Close every replica link (REPLICAOF another primary, shutdown). */
  disconnectAll(): void {
    for (const s of [...this.syncs]) s.abort();
    for (const link of [...this.links.values()]) link.conn.close();
  }
}
