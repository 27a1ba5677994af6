/**
 * The replica side of replication (DESIGN.md §7): following a primary,
 * redis-server's or Vireo's, with Redis' PSYNC2 protocol.
 *
 *   connect -> handshake (handshake.ts) -> PSYNC
 *     +FULLRESYNC: receive the RDB (rdb-transfer.ts), load it, adopt the
 *                  primary's replid and offset
 *     +CONTINUE:   keep the dataset, go on from this server's log offset
 *   -> the stream (master-stream.ts), applied and logged verbatim
 *      (stream-applier.ts); REPLCONF ACK every second.
 *
 * A link that breaks or times out (repl-timeout) is tried again, quickly at
 * first, then every second, with PSYNC from the current offset. A transfer
 * that ends early or arrives damaged is thrown away before anything of the
 * dataset is touched.
 */

import dns from 'node:dns';
import net from 'node:net';
import tls from 'node:tls';
import type { Config } from '../src/config.js';
import type { Persistence } from '../persistence/persistence.js';
import type { RdbLoadResult } from '../persistence/rdb/file.js';
import { Db } from '../src/engine/keyspace.js';
import type { MasterClientView, ReplicaControl } from '../src/commands/context.js';
import type { ReplicationIds } from './ids.js';
import { StreamApplier, type ApplierHost } from './stream-applier.js';
import { MasterStreamParser, StreamProtocolError } from './master-stream.js';
import { HandshakeError, ReplyLines, encodeArgs, handshakeSteps, parsePsyncReply, pingReplyOk, type HandshakeStep } from './handshake.js';
import { RdbTransfer, parsePayloadHeader, type PayloadHeader } from './rdb-transfer.js';
import { dataDir } from '../persistence/files.js';
import { clientConnectOptions } from '../src/tls.js';

/** Redis' repl_state, as ROLE names it. */
export type ReplState = 'none' | 'connect' | 'connecting' | 'handshake' | 'transfer' | 'connected';

export interface ReplicaHost extends ApplierHost {
  readonly config: Config;
  readonly persistence: Persistence;
  readonly replIds: ReplicationIds;
  /** The port this server listens on (REPLCONF listening-port). */
  readonly port: number;
  /** A new client ID (the master client takes one, as in Redis). */
  newClientId(): number;
}

export const READONLY_ERROR = "READONLY You can't write against a read only replica.";
export const MASTERDOWN_ERROR = "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.";

/** Where the handshake is: waiting for PONG, for the AUTH/REPLCONF replies, for PSYNC's. */
type HandshakePhase = 'ping' | 'steps' | 'psync';

/** Longest wait between two attempts to reach the primary. */
const MAX_RETRY_MS = 1000;

export class PrimaryLink implements ReplicaControl {
  masterHost: string | null = null;
  masterPort = 0;
  state: ReplState = 'none';
  /** Called when this server's history was replaced (full sync) or renamed (+CONTINUE with a new id): its own replicas must hear of it. */
  onNewHistory: (() => void) | null = null;
  /** This server stopped being a primary (REPLICAOF host port from none): its blocked clients are released. */
  onBecomeReplica: (() => void) | null = null;

  private readonly applier: StreamApplier;
  private socket: net.Socket | null = null;
  /** Bumped whenever the current attempt ends: events of an older socket are ignored. */
  private attempt = 0;
  private lines = new ReplyLines();
  private phase: HandshakePhase = 'ping';
  private steps: HandshakeStep[] = [];
  private full: { replId: string; offset: number } | null = null;
  private transfer: RdbTransfer | null = null;
  /** Load the payload into fresh databases swapped in when whole (repl-diskless-load swapdb). */
  private swapLoad = false;
  private loadingPayload = false;
  /** The primary closed the link while its payload was loading: noticed once the load is done. */
  private peerClosed = false;
  private stream: MasterStreamParser | null = null;
  /**
   * This server's log continues a history a primary may know (PSYNC
   * <replid> <offset+1>, Redis' cached master); false after the dataset was
   * flushed for a sync that failed, or a desynchronized stream: PSYNC ? -1.
   */
  private hasHistory = true;
  private lastIo = 0;
  /** The master client's ID and birth while the link is established (null otherwise). */
  private masterClient: { id: number; createdAt: number } | null = null;
  /** When an established link went down (0: it did not). */
  private downSince = 0;
  private failures = 0;
  private retry: NodeJS.Timeout | null = null;
  private cron: NodeJS.Timeout | null = null;
  private lastNewline = 0;
  private closed = false;

  constructor(private readonly host: ReplicaHost) {
    this.applier = new StreamApplier(host, (offset) => this.sendAck(offset));
  }

  private get config(): Config {
    return this.host.config;
  }

  private get log() {
    return this.host.engine.log;
  }

  // ---- REPLICAOF -------------------------------------------------------------------------

  /** At start-up: follow the primary the configuration names (replicaof), continuing the history the loaded files carry. */
  startFromConfig(streamDb: number): void {
    const v = this.config.str('replicaof');
    if (v === '') return;
    const [host, port] = v.split(' ');
    const replId = this.host.persistence.loadedReplId;
    if (replId !== null && /^[0-9a-f]{40}$/i.test(replId)) this.host.replIds.adopt(replId);
    this.applier.select(streamDb);
    this.follow(host!, Number(port), 'config', false);
  }

  follow(host: string, port: number, who: string, updateConfig = true): boolean {
    if (this.masterHost !== null && this.masterHost.toLowerCase() === host.toLowerCase() && this.masterPort === port) {
      this.host.logger.info('REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.');
      return false;
    }
    const wasPrimary = this.state === 'none';
    if (wasPrimary) {
      this.host.logger.info('Before turning into a replica, using my own master parameters to synthesize a cached master: I may be able to synchronize with the new master with just a partial transfer.');
      this.hasHistory = true;
      this.host.engine.isReplica = true;
      this.startCron();
    } else {
      this.endAttempt();
    }
    this.masterHost = host;
    this.masterPort = port;
    // After the address is set: a client that declared CLIENT CAPA redirect is sent there.
    if (wasPrimary) this.onBecomeReplica?.();
    // This server's own replicas follow another history from here: they resync with it.
    this.onNewHistory?.();
    if (updateConfig) this.config.setMany([['replicaof', `${host} ${port}`]], { startup: true });
    this.host.logger.info(`REPLICAOF ${host}:${port} enabled (user request from '${who}')`);
    this.state = 'connect';
    this.connect();
    return true;
  }

  /** FAILOVER: called with the target's answer to `PSYNC ... FAILOVER` (true: it took over). */
  private failoverDone: ((ok: boolean) => void) | null = null;

  /** FAILOVER: follow `host:port` and ask it to take over from this server (PSYNC ... FAILOVER). */
  followForFailover(host: string, port: number, done: (ok: boolean) => void): void {
    this.failoverDone = done;
    this.follow(host, port, 'FAILOVER');
  }

  stopFollowing(who: string): void {
    this.failoverDone = null;
    if (this.state === 'none') return;
    this.endAttempt();
    this.stopTimers();
    this.state = 'none';
    this.masterHost = null;
    this.masterPort = 0;
    this.downSince = 0;
    this.host.engine.isReplica = false;
    // A new history starts here; replicas of the old one may still continue from us (replid2).
    this.host.replIds.shift(this.log.offset);
    this.log.resetSelectedDb();
    this.config.setMany([['replicaof', '']], { startup: true });
    this.host.logger.info(`MASTER MODE enabled (user request from '${who}')`);
    this.onNewHistory?.();
  }

  /** Server shutdown. */
  close(): void {
    this.closed = true;
    this.endAttempt();
    this.stopTimers();
  }

  // ---- what commands and INFO read ---------------------------------------------------------

  get isReplica(): boolean {
    return this.state !== 'none';
  }

  role(): [string, number, string, number] | null {
    if (this.state === 'none') return null;
    const names: Record<ReplState, string> = { none: 'none', connect: 'connect', connecting: 'connecting', handshake: 'handshake', transfer: 'sync', connected: 'connected' };
    return [this.masterHost!, this.masterPort, names[this.state], this.state === 'connected' ? this.log.offset : -1];
  }

  primaryAddress(): string | null {
    return this.masterHost === null ? null : `${this.masterHost}:${this.masterPort}`;
  }

  /** Why a command must be refused on this replica (Redis' processCommand order: READONLY, then MASTERDOWN), or null. */
  refusal(isWrite: boolean, deniedWhenStale: boolean): string | null {
    if (this.state === 'none') return null;
    if (isWrite && this.config.bool('replica-read-only')) return READONLY_ERROR;
    if (deniedWhenStale && this.state !== 'connected' && !this.config.bool('replica-serve-stale-data')) return MASTERDOWN_ERROR;
    return null;
  }

  /** Bytes of the stream received: applied, queued in a transaction, or not parsed yet. */
  private get readOffset(): number {
    return this.log.offset + this.applier.queuedBytes + (this.stream?.pendingBytes ?? 0);
  }

  /** The master client while the link is established, else null. */
  masterConnection(): MasterClientView | null {
    const mc = this.masterClient;
    const socket = this.socket;
    if (mc === null || socket === null || this.state !== 'connected') return null;
    const handle = (socket as unknown as { _handle?: { fd?: number } | null })._handle;
    return {
      id: mc.id,
      addr: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
      laddr: `${socket.localAddress ?? '?'}:${socket.localPort ?? 0}`,
      fd: handle?.fd ?? -1,
      createdAt: mc.createdAt,
      lastInteraction: this.lastIo,
      db: this.applier.db,
      qbuf: this.applier.queuedBytes + (this.stream?.pendingBytes ?? 0),
      multi: this.applier.queuedCommands,
      lastCommand: this.applier.lastCommand,
    };
  }

  /** CLIENT KILL of the master client: the link drops and is made again, continuing where it stopped (PSYNC). */
  killMasterLink(): void {
    if (this.masterClient !== null) this.lost('Connection with master lost.');
  }

  /** INFO replication's replica fields, in Redis' order (after role:slave). */
  infoFields(): [string, string | number][] {
    if (this.state === 'none') return [];
    const now = Date.now();
    const connected = this.state === 'connected';
    const secondsSince = (t: number) => Math.floor((now - t) / 1000);
    const out: [string, string | number][] = [
      ['master_host', this.masterHost!],
      ['master_port', this.masterPort],
      ['master_link_status', connected ? 'up' : 'down'],
      ['master_last_io_seconds_ago', connected ? secondsSince(this.lastIo) : -1],
      ['master_sync_in_progress', this.state === 'transfer' ? 1 : 0],
      ['slave_read_repl_offset', this.readOffset],
      ['slave_repl_offset', this.log.offset],
    ];
    if (this.state === 'transfer') {
      const total = this.transfer === null ? -1 : this.transfer.total;
      const read = this.transfer === null ? 0 : this.transfer.received;
      const perc = total === 0 ? 0 : (read / total) * 100;
      out.push(
        ['master_sync_total_bytes', total],
        ['master_sync_read_bytes', read],
        ['master_sync_left_bytes', total - read],
        ['master_sync_perc', Object.is(perc, -0) || (perc < 0 && perc > -0.005) ? '-0.00' : perc.toFixed(2)],
        ['master_sync_last_io_seconds_ago', secondsSince(this.lastIo)],
      );
    }
    if (!connected) out.push(['master_link_down_since_seconds', this.downSince === 0 ? -1 : secondsSince(this.downSince)]);
    out.push(
      ['slave_priority', this.config.int('replica-priority')],
      ['slave_read_only', this.config.bool('replica-read-only') ? 1 : 0],
      ['replica_announced', this.config.bool('replica-announced') ? 1 : 0],
    );
    return out;
  }

  // ---- connecting and the handshake --------------------------------------------------------

  /**
   * Resolve the primary's name (in state connect: Redis' getaddrinfo fails
   * there at once, for an unknown name), then open the connection.
   */
  private connect(): void {
    if (this.closed || this.masterHost === null) return;
    const attempt = ++this.attempt;
    const host = this.masterHost;
    this.host.logger.info(`Connecting to MASTER ${host}:${this.masterPort}`);
    if (net.isIP(host) !== 0) {
      this.open(host, attempt);
      return;
    }
    dns.lookup(host, (err, address) => {
      if (attempt !== this.attempt) return;
      if (err !== null) {
        this.host.logger.warn(`Unable to connect to MASTER: ${err.message}`);
        this.failures++;
        this.scheduleConnect();
        return;
      }
      this.open(address, attempt);
    });
  }

  private open(address: string, attempt: number): void {
    const logger = this.host.logger;
    logger.info('MASTER <-> REPLICA sync started');
    this.state = 'connecting';
    this.lastIo = Date.now();
    const socket = this.dial(address);
    if (socket === null) {
      this.lost('Unable to connect to MASTER over TLS.');
      return;
    }
    this.socket = socket;
    socket.setNoDelay(!this.config.bool('repl-disable-tcp-nodelay'));
    const current = () => attempt === this.attempt;
    // Under TLS the handshake starts once the TLS session is up.
    socket.on(socket instanceof tls.TLSSocket ? 'secureConnect' : 'connect', () => current() && this.guard(() => this.onConnect()));
    socket.on('data', (chunk: Buffer) => current() && this.guard(() => this.onData(chunk)));
    socket.on('error', (e) => {
      if (current()) logger.warn(`Error condition on socket for SYNC: ${e.message}`);
    });
    socket.on('close', () => {
      if (!current()) return;
      // A payload fully received is still loaded: the next attempt may then continue from it.
      if (this.loadingPayload) this.peerClosed = true;
      else this.lost(this.state === 'connected' ? 'Connection with master lost.' : 'Connection with master closed during the sync.');
    });
  }

  /**
   * Open the connection to the primary: TLS under tls-replication (the
   * client certificate and CA of the tls-* parameters), else plain TCP.
   * Null, logged, when the TLS context cannot be built.
   */
  private dial(address: string): net.Socket | null {
    if (!this.config.bool('tls-replication')) return net.connect({ host: address, port: this.masterPort });
    let options: tls.ConnectionOptions;
    try {
      options = clientConnectOptions(this.config);
    } catch (e) {
      this.host.logger.warn(`Unable to connect to MASTER: ${(e as Error).message}`);
      return null;
    }
    return tls.connect({ ...options, host: address, port: this.masterPort, ...(net.isIP(this.masterHost!) === 0 ? { servername: this.masterHost! } : {}) });
  }

  /** Run a socket event's work; a bug in it drops this link rather than the server. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (e) {
      this.host.logger.error({ err: e }, 'Internal error on the link with the master');
      this.hasHistory = false;
      this.lost('Dropping the link with the master after an internal error.');
    }
  }

  private onConnect(): void {
    this.host.logger.info('Non blocking connect for SYNC fired the event.');
    this.state = 'handshake';
    this.phase = 'ping';
    this.lines = new ReplyLines();
    this.lastIo = Date.now();
    this.send(['PING']);
  }

  private send(argv: readonly string[]): void {
    this.socket?.write(encodeArgs(argv));
  }

  private onData(chunk: Buffer): void {
    this.lastIo = Date.now();
    if (this.state === 'handshake') {
      this.lines.feed(chunk);
      this.handshakeInput();
    } else if (this.state === 'transfer') {
      if (this.transfer === null) {
        this.lines.feed(chunk);
        this.payloadHeaderInput();
      } else {
        this.transferInput(chunk);
      }
    } else if (this.state === 'connected') {
      this.streamInput(chunk);
    }
  }

  private handshakeInput(): void {
    const logger = this.host.logger;
    while (this.state === 'handshake') {
      let line: string | null;
      try {
        line = this.lines.next();
      } catch (e) {
        if (!(e instanceof HandshakeError)) throw e;
        this.lost(`Bad reply from MASTER during the handshake: ${e.message}`);
        return;
      }
      if (line === null) return;
      if (this.phase === 'ping') {
        if (!pingReplyOk(line)) {
          this.lost(`Error reply to PING from master: '${line.slice(0, 128)}'`);
          return;
        }
        logger.info('Master replied to PING, replication can continue...');
        this.steps = handshakeSteps(this.config, this.host.port);
        for (const s of this.steps) this.send(s.argv);
        this.phase = 'steps';
      } else if (this.phase === 'steps') {
        const step = this.steps.shift()!;
        if (line.startsWith('-') && step.lenient !== undefined) {
          logger.info(`(Non critical) Master does not understand ${step.lenient}: ${line.slice(0, 128)}`);
        } else {
          const why = step.check(line);
          if (why !== null) {
            this.lost(why);
            return;
          }
        }
        if (this.steps.length === 0) this.sendPsync();
      } else {
        // Empty lines keep the link alive while the primary prepares its reply.
        if (line === '') continue;
        this.psyncReply(line);
      }
    }
  }

  private sendPsync(): void {
    const logger = this.host.logger;
    if (this.hasHistory) {
      const replId = this.host.replIds.replId;
      const from = String(this.log.offset + 1);
      logger.info(`Trying a partial resynchronization (request ${replId}:${from}).`);
      this.send(this.failoverDone !== null ? ['PSYNC', replId, from, 'FAILOVER'] : ['PSYNC', replId, from]);
    } else {
      logger.info('Partial resynchronization not possible (no cached master)');
      this.send(['PSYNC', '?', '-1']);
    }
    this.phase = 'psync';
  }

  private psyncReply(line: string): void {
    const r = parsePsyncReply(line);
    const logger = this.host.logger;
    const failover = this.failoverDone;
    if (failover !== null) {
      this.failoverDone = null;
      failover(r.kind === 'full' || r.kind === 'continue');
      if (r.kind !== 'full' && r.kind !== 'continue') return;
    }
    switch (r.kind) {
      case 'full':
        logger.info(`Full resync from master: ${r.replId}:${r.offset}`);
        this.full = { replId: r.replId, offset: r.offset };
        this.state = 'transfer';
        this.transfer = null;
        this.payloadHeaderInput();
        return;
      case 'continue':
        this.continued(r.replId);
        return;
      case 'later':
      case 'error':
        this.lost(r.why);
    }
  }

  // ---- full sync: the payload ----------------------------------------------------------

  private payloadHeaderInput(): void {
    for (;;) {
      let line: string | null;
      try {
        line = this.lines.next();
      } catch (e) {
        if (!(e instanceof HandshakeError)) throw e;
        this.lost(`Bad protocol from MASTER reading the bulk length: ${e.message}`);
        return;
      }
      if (line === null) return;
      // A newline at this stage is the primary's keepalive while it prepares the RDB.
      if (line === '') continue;
      if (line.startsWith('-')) {
        this.lost(`MASTER aborted replication with an error: ${line.slice(1, 129)}`);
        return;
      }
      if (!line.startsWith('$')) {
        this.lost(`Bad protocol from MASTER, the first byte is not '$' (we received '${line.slice(0, 64)}'), are you sure the host and port are right?`);
        return;
      }
      const header = parsePayloadHeader(line);
      if (header instanceof Error) {
        this.lost(`Bad protocol from MASTER: ${header.message}`);
        return;
      }
      this.startTransfer(header);
      const rest = this.lines.rest();
      if (rest.length > 0) this.transferInput(rest);
      return;
    }
  }

  private startTransfer(header: PayloadHeader): void {
    const mode = this.config.str('repl-diskless-load');
    const inMemory = mode === 'swapdb' || (mode === 'on-empty-db' && this.host.engine.totalKeys === 0);
    this.swapLoad = mode === 'swapdb';
    this.transfer = new RdbTransfer(header, inMemory ? { kind: 'memory' } : { kind: 'disk', dir: dataDir(this.config) });
    const what = header.kind === 'mark' ? 'streamed RDB from master with EOF' : `${header.length} bytes from master`;
    this.host.logger.info(`MASTER <-> REPLICA sync: receiving ${what} ${inMemory ? 'to parser' : 'to disk'}`);
  }

  private transferInput(chunk: Buffer): void {
    const rest = this.transfer!.push(chunk);
    if (rest === null) return;
    // What follows the payload is the stream: hold it until the dataset is loaded.
    this.socket?.pause();
    const attempt = this.attempt;
    this.loadPayload(rest, attempt).catch((e: unknown) => {
      this.host.logger.error({ err: e }, 'Internal error finishing the sync with the master');
      this.loadingPayload = false;
      if (attempt === this.attempt) {
        this.hasHistory = false;
        this.lost('Dropping the link with the master after an internal error.');
      }
    });
  }

  private async loadPayload(rest: Buffer, attempt: number): Promise<void> {
    const transfer = this.transfer!;
    const logger = this.host.logger;
    const engine = this.host.engine;
    let rdb: Buffer;
    // Received whole: a link closing from here on does not stop the load (see the socket's close).
    this.loadingPayload = true;
    try {
      rdb = await transfer.payload();
    } catch (e) {
      this.loadingPayload = false;
      if (attempt !== this.attempt) return;
      this.lost(`Failed reading the RDB received from the MASTER: ${(e as Error).message}`);
      return;
    }
    if (attempt !== this.attempt) {
      this.loadingPayload = false;
      return;
    }
    if (!transfer.checksumOk()) {
      this.loadingPayload = false;
      this.lost('MASTER <-> REPLICA sync: the RDB received is damaged (not an RDB, or its checksum does not match): keeping the current dataset');
      return;
    }
    // From here on the old dataset is being replaced: our own replicas must resync.
    this.onNewHistory?.();
    const into = this.swapLoad ? engine.dbs.map((d) => new Db(d.id, engine.access)) : null;
    if (into === null) {
      logger.info('MASTER <-> REPLICA sync: Flushing old data');
      engine.flush(null);
      this.hasHistory = false;
    }
    // Redis' async loading: a swapdb load of the history this replica already follows (same replid,
    // a full sync because the backlog no longer covered it) serves the old data meanwhile.
    const background = into !== null && this.full !== null && this.full.replId === this.host.replIds.replId;
    logger.info(background ? 'MASTER <-> REPLICA sync: Loading DB in memory, serving the current data meanwhile (async loading)' : 'MASTER <-> REPLICA sync: Loading DB in memory');
    let result: RdbLoadResult;
    this.loadingPayload = true;
    try {
      result = await this.drive(this.host.persistence.loadSyncSteps(rdb, into, transfer.file ?? 'the replication stream', background), attempt);
    } catch (e) {
      this.loadingPayload = false;
      // Nothing half-loaded is served: the flushed dataset stays empty (swapdb kept the old one).
      if (into === null) engine.flush(null);
      if (attempt !== this.attempt) return;
      logger.warn(`Failed trying to load the MASTER synchronization DB: ${(e as Error).message}`);
      this.lost('MASTER <-> REPLICA sync: giving up this transfer');
      return;
    }
    this.loadingPayload = false;
    if (attempt !== this.attempt) return;
    if (into !== null) {
      logger.info('MASTER <-> REPLICA sync: Swapping active DB with loaded DB');
      for (let i = 0; i < into.length; i++) engine.swapDbs(engine.dbs[i]!, into[i]!);
      // Redis' swapMainDbWithTempDb: tracking clients get a null invalidation, as for a flush.
      engine.signalFlushed();
    }
    try {
      transfer.keepAs(this.host.persistence.rdb.path);
    } catch (e) {
      logger.warn(`Failed trying to rename the temp DB into ${this.host.persistence.rdb.path} in MASTER <-> REPLICA synchronization: ${(e as Error).message}`);
      transfer.discard();
    }
    this.transfer = null;
    this.fullSyncDone(result, rest, rdb);
  }

  /** Run a load to its end, a slice per event-loop turn, telling the primary we are alive meanwhile. */
  private async drive(gen: Generator<void, RdbLoadResult>, attempt: number): Promise<RdbLoadResult> {
    for (;;) {
      const r = gen.next();
      if (r.done) return r.value;
      if (this.closed || attempt !== this.attempt) {
        gen.return(undefined as never);
        throw new Error('the link with the master ended during the load');
      }
      this.keepPrimaryWaiting();
      await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** A newline now and then while loading, so the primary does not time us out (Redis' replicationSendNewlineToMaster). */
  private keepPrimaryWaiting(): void {
    const now = Date.now();
    this.lastIo = now;
    if (now - this.lastNewline < 1000) return;
    this.lastNewline = now;
    this.socket?.write('\n');
  }

  /** `rdb`: the image just loaded; with appendonly on it becomes the new AOF base as it is (no second serialization). */
  private fullSyncDone(result: RdbLoadResult, rest: Buffer, rdb: Buffer): void {
    const full = this.full!;
    const streamDbText = result.aux.get('repl-stream-db');
    const streamDb = streamDbText !== undefined && /^[0-9]{1,9}$/.test(streamDbText) ? Number(streamDbText) : -1;
    this.host.replIds.adopt(full.replId);
    this.log.reset(full.offset, streamDb);
    this.applier.discardTransaction();
    if (streamDb >= 0) this.applier.select(streamDb);
    try {
      this.host.persistence.restartAfterSync(rdb);
    } catch (e) {
      // The data is loaded and served; the AOF's write error shows in INFO persistence and MISCONF.
      this.host.logger.warn({ err: e }, 'Failed enabling the AOF after successful master synchronization!');
    }
    this.hasHistory = true;
    this.host.logger.info('MASTER <-> REPLICA sync: Finished with success');
    this.connected(rest);
  }

  // ---- partial resync, the stream ------------------------------------------------------

  private continued(newReplId: string | null): void {
    const logger = this.host.logger;
    logger.info('Successful partial resynchronization with master.');
    const ids = this.host.replIds;
    if (newReplId !== null && newReplId !== ids.replId) {
      logger.warn(`Master replication ID changed to ${newReplId}`);
      ids.continueAs(newReplId, this.log.offset);
      this.onNewHistory?.();
    }
    logger.info('MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.');
    this.connected(this.lines.rest());
  }

  private connected(rest: Buffer): void {
    this.state = 'connected';
    if (this.peerClosed) {
      this.peerClosed = false;
      this.lost('Connection with master lost.');
      return;
    }
    this.masterClient = { id: this.host.newClientId(), createdAt: Date.now() };
    this.stream = new MasterStreamParser();
    this.downSince = 0;
    this.failures = 0;
    this.lastIo = Date.now();
    this.socket?.resume();
    // Diskless primaries start the stream once the replica acknowledges the load.
    this.sendAck(this.log.offset);
    if (rest.length > 0) this.streamInput(rest);
  }

  private streamInput(chunk: Buffer): void {
    const stream = this.stream!;
    stream.feed(chunk);
    try {
      for (let c = stream.next(); c !== null; c = stream.next()) this.applier.apply(c);
    } catch (e) {
      if (!(e instanceof StreamProtocolError)) throw e;
      // Redis frees a master that broke the protocol without caching it: the next sync is a full one.
      this.hasHistory = false;
      this.lost(`Protocol error from MASTER (${e.message}): dropping the link, the next sync is a full one`);
    } finally {
      this.log.flush();
    }
  }

  /** REPLCONF ACK <offset> FACK <offset the AOF has fsynced> (Redis 7.2; older primaries read the ACK only). */
  private sendAck(offset: number): void {
    if (this.state !== 'connected') return;
    const aof = this.host.persistence.aof;
    const fsynced = aof.on ? Math.min(aof.fsyncedOffset, offset) : offset;
    this.send(['REPLCONF', 'ACK', String(offset), 'FACK', String(fsynced)]);
  }

  // ---- losing the link, trying again, the cron --------------------------------------------

  /** End the current attempt or link (logged) and try again. */
  private lost(why: string): void {
    if (this.state === 'none' || this.state === 'connect') return;
    const wasConnected = this.state === 'connected';
    this.host.logger.warn(why);
    this.endAttempt();
    if (!wasConnected) this.failures++;
    this.state = 'connect';
    this.scheduleConnect();
  }

  /** Close the socket and drop what the attempt held (a partial transfer, an open transaction). */
  private endAttempt(): void {
    this.attempt++;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.socket?.destroy();
    this.socket = null;
    this.transfer?.discard();
    this.transfer = null;
    this.stream = null;
    this.full = null;
    this.peerClosed = false;
    this.applier.discardTransaction();
    this.masterClient = null;
    if (this.state === 'connected') this.downSince = Date.now();
  }

  /** Reconnect: at once after a link that worked, then 100 ms, 200 ms ... up to a second apart. */
  private scheduleConnect(): void {
    if (this.closed) return;
    const delay = this.failures === 0 ? 0 : Math.min(MAX_RETRY_MS, 100 * 2 ** (this.failures - 1));
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.state === 'connect') this.connect();
    }, delay);
    this.retry.unref();
  }

  private startCron(): void {
    if (this.cron !== null) return;
    this.cron = setInterval(() => this.tick(), 1000);
    this.cron.unref();
  }

  private stopTimers(): void {
    if (this.cron !== null) clearInterval(this.cron);
    this.cron = null;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
  }

  /** Once a second (Redis' replicationCron): timeouts, and the ACK. */
  private tick(): void {
    const idle = Date.now() - this.lastIo;
    const timeout = this.config.int('repl-timeout') * 1000;
    if ((this.state === 'connecting' || this.state === 'handshake') && idle > timeout) {
      this.lost('Timeout connecting to the MASTER...');
    } else if (this.state === 'transfer' && !this.loadingPayload && idle > timeout) {
      this.lost("Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.");
    } else if (this.state === 'connected' && idle > timeout) {
      this.lost('MASTER timeout: no data nor PING received...');
    } else if (this.state === 'connected') {
      this.sendAck(this.log.offset);
    }
  }
}
