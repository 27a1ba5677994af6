/**
 * The context a command runs on (DESIGN.md §1): the engine's execution
 * context plus the session state commands keep (MULTI queue, the running
 * command, client name and kind) and the way up to the host. A socket
 * connection owns one (conn set); the AOF loader and DEBUG RELOAD use one
 * with a muted reply sink and no connection.
 *
 * What commands may see above the engine is declared here as interfaces the
 * server implements (CommandHost, Connection): commands never import
 * src/server/, the server hands these to them through the context.
 */

import type { SlowLog } from '../diagnostics/slowlog.js';
import type { LatencyMonitor } from '../diagnostics/latency-monitor.js';
import type { SlotStats } from '../diagnostics/slot-stats.js';
import type { HotKeys } from '../diagnostics/hot-keys.js';
import type { DoctorCounts, MemoryOverhead } from '../diagnostics/memory-report.js';
import type { MigrateSockets } from './migrate-sockets.js';
import { ExecContext, type ReplySink } from '../engine/context.js';
import type { Engine } from '../engine/engine.js';
import type { ReplyStream } from '../protocol/stream.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Persistence } from '../../persistence/persistence.js';
import type { ReplicationPrimary } from '../../replication/primary.js';
import type { Failover } from '../../replication/failover.js';
import type { ReplicationIds } from '../../replication/ids.js';
import type { PubSub, Subscriber } from '../pubsub/registry.js';
import type { AclControl } from '../acl/control.js';
import type { User } from '../acl/user.js';

/** What the context knows of a command (the table's Command is one). */
export interface CommandRef {
  /** Lowercase name; 'parent|sub' for a subcommand. */
  readonly name: string;
  /** Flag bits (table.ts F). */
  readonly flags: number;
}

/** What a script's redis.call needs to know of a command before running it. */
export interface ScriptableCommand extends CommandRef {
  readonly arity: number;
}

export interface QueuedCommand {
  cmd: CommandRef;
  argv: string[];
}

export type ClientKind = 'normal' | 'replica' | 'master' | 'pubsub';

/** CLIENT LIST's memory fields, measured when asked. */
export interface ClientMemory {
  qbuf: number;
  qbufFree: number;
  argvMem: number;
  multiMem: number;
  obl: number;
  oll: number;
  omem: number;
  totMem: number;
  /** Output waits for the socket (events=rw). */
  writing: boolean;
}

/** A context parked inside a blocking command (WAITAOF, CONFIG SET during a rebind; BLPOP next). */
export interface BlockRequest {
  /** What it waits for; the host wakes the waiters of one kind together. */
  kind: string;
  /** Checked when something of its kind happened. */
  ready(): boolean;
  /** Write the reply (timedOut: the timeout fired first). */
  wake(timedOut: boolean): void;
  /** Not a Redis blocking command (CONFIG SET waiting for a rebind): CLIENT UNBLOCK leaves it alone. */
  internal?: boolean;
}

/**
 * A command waiting for keys to be created or filled (BLPOP, BZPOPMIN,
 * BLMOVE, XREAD BLOCK...), Redis 7.2's way: when one of its keys is ready
 * the host runs the same command again on the same context (`ctx.rerun` is
 * then true). If it finds data it replies and logs its effects as usual and
 * the client goes on; if it would block again it calls blockOnKeys again
 * without replying, which keeps it waiting where it was (same place in line,
 * same deadline).
 */
export interface KeyBlockRequest {
  /** Keys of ctx.db waited on. */
  readonly keys: readonly string[];
  /** The type a key must hold to serve the waiter: a key of another type (or none) keeps it waiting. */
  readonly type: 'list' | 'zset' | 'stream';
  /** Also run again when a key is deleted or changes type (XREADGROUP answers an error then). */
  readonly rerunOnDelete?: boolean;
  /** The timeout fired, or CLIENT UNBLOCK ... TIMEOUT: write the reply of an empty wait. */
  timedOut(): void;
}

/** A client connection as commands see it (CLIENT, HELLO, AUTH, MONITOR, RESET, the Pub/Sub commands). */
export interface Connection extends Subscriber {
  readonly id: number;
  readonly ctx: CommandContext;
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  readonly createdAt: number;
  readonly lastInteraction: number;
  readonly lastCommand: string;
  /** Largest output of one flush lately (rbp). */
  readonly outputPeak: number;
  /** The command held back by CLIENT PAUSE, if any (CLIENT LIST shows it as running). */
  readonly heldCommand: CommandRef | null;
  libName: string;
  libVer: string;
  /** The name of the ACL user it is authenticated as (CLIENT LIST user=). */
  readonly user: string;
  /** The ACL user it runs as (the default user until AUTH). */
  readonly aclUser: User;
  readonly authenticated: boolean;
  closeAfterReply: boolean;
  readonly closed: boolean;
  replyOff: boolean;
  replySkip: boolean;
  replySkipNext: boolean;
  noEvict: boolean;
  monitor: boolean;
  /** CLIENT CAPA redirect was declared (Valkey 8). */
  capaRedirect: boolean;
  /** READONLY: reads are served on a replica despite capaRedirect. */
  readonlyMode: boolean;
  /** SCRIPT DEBUG YES/SYNC was refused: the next EVAL is refused too (scripting/eval-commands.ts). */
  scriptDebugRefused: boolean;
  /** In Pub/Sub mode: subscribed to any channel, pattern or shard channel. */
  readonly inPubSub: boolean;
  setAuthenticated(user: User): void;
  memoryReport(): ClientMemory;
  /** Send what was written so far (a reply produced outside the input path). */
  flush(): void;
  /** Close once what was written so far is sent. */
  close(): void;
  /** Reply with `stream` from here on (big replies, produced as the socket takes them). */
  startStream(stream: ReplyStream): void;
  /** Write bytes as they are, outside the reply writer (the replication stream to a replica). */
  sendRaw(chunks: Buffer[]): void;
  /** Bytes handed to the socket that it has not taken yet. */
  readonly socketPending: number;
  /** Call `resume` once the socket has taken most of what waits. */
  whenWritable(resume: () => void): void;
}

/**
 * The established link with the primary as CLIENT LIST shows it (Redis'
 * master client, flags=M): made when the stream starts, gone when the
 * link drops.
 */
export interface MasterClientView {
  readonly id: number;
  /** The primary's address and this end's, host:port. */
  readonly addr: string;
  readonly laddr: string;
  readonly fd: number;
  /** When the link was established and last received data (ms since the epoch). */
  readonly createdAt: number;
  readonly lastInteraction: number;
  readonly db: number;
  /** Stream bytes received and not applied yet (the query buffer). */
  readonly qbuf: number;
  /** Commands of an open transaction, -1 when none. */
  readonly multi: number;
  readonly lastCommand: string;
}

/** The replica side of replication as commands see it (replication/replica.ts). */
export interface ReplicaControl {
  /** REPLICAOF host port: false when this server already follows that primary. */
  follow(host: string, port: number, who: string): boolean;
  /** REPLICAOF NO ONE: stop following (nothing to do on a primary). */
  stopFollowing(who: string): void;
  /** ROLE's replica form: host, port, link state and offset; null on a primary. */
  role(): [host: string, port: number, state: string, offset: number] | null;
  /** The primary as `host:port` while this server is a replica (Valkey's -REDIRECT target), else null. */
  primaryAddress(): string | null;
  /** READONLY or MASTERDOWN when a client's command must be refused on this replica, else null. */
  refusal(isWrite: boolean, deniedWhenStale: boolean): string | null;
  /** The link with the primary as CLIENT LIST shows it (the master client), null when there is none. */
  masterConnection(): MasterClientView | null;
  /** CLIENT KILL of the master client: drop the link (it is made again). */
  killMasterLink(): void;
}

/** CLIENT TRACKING ON's options, checked (commands/tracking.ts). */
export interface TrackingOptions {
  /** REDIRECT: the ID of an existing client; 0 for none. */
  redirect: number;
  bcast: boolean;
  optin: boolean;
  optout: boolean;
  noloop: boolean;
  /** PREFIX arguments, in the order given (BCAST only). */
  prefixes: string[];
}

/** A connection's tracking state as CLIENT TRACKINGINFO, GETREDIR and LIST show it. */
export interface TrackingView {
  readonly redirect: number;
  readonly bcast: boolean;
  readonly optin: boolean;
  readonly optout: boolean;
  readonly noloop: boolean;
  /** CLIENT CACHING was given for the next command. */
  readonly caching: boolean;
  readonly brokenRedirect: boolean;
  readonly prefixes: ReadonlySet<string>;
}

/** Client-side caching as commands see it (src/tracking/tracking.ts implements it). */
export interface TrackingControl {
  /** `conn`'s tracking state, or null while tracking is off. */
  stateOf(conn: Connection): TrackingView | null;
  /** CLIENT TRACKING ON with options already checked (and again while on: Redis' enableTracking). */
  enable(conn: Connection, opts: TrackingOptions): void;
  /** CLIENT TRACKING OFF, RESET. */
  disable(conn: Connection): void;
  /** CLIENT CACHING YES (OPTIN) or NO (OPTOUT): the next command (or transaction) is the exception. */
  setCaching(conn: Connection): void;
}

/** The server as commands see it. */
export interface CommandHost {
  readonly config: Config;
  /** ACL users, rules and the ACL LOG (src/acl/). */
  readonly acl: AclControl;
  /**
   * A refused AUTH / HELLO AUTH (ACL LOG, the brute-force brake): the
   * error reply to give, now or after the brake's delay.
   */
  authFailed(ctx: CommandContext, username: string, command: string): void;
  /** redis.call's ACL check for the script's caller: the error reply, or null when allowed. */
  scriptAclRefusal(caller: CommandContext, cmd: ScriptableCommand, argv: readonly string[]): string | null;
  /** redis.acl_check_cmd: may the script's caller run this command line? (Nothing is logged.) */
  aclPermits(caller: CommandContext, cmd: ScriptableCommand, argv: readonly string[]): boolean;
  readonly replica: ReplicaControl;
  /**
   * EVAL, EVALSHA and FCALL show in MONITOR before the commands they run
   * (they skip the feed after the call, as in Redis, and feed here when they start).
   */
  feedMonitorsFirst(ctx: CommandContext, argv: readonly string[]): void;
  readonly logger: Logger;
  readonly persistence: Persistence;
  readonly memory: { readonly startup: number; readonly peak: number };
  /** maxmemory, and whether the running command started over it with nothing to evict (Redis' pre_command_oom_state). */
  readonly memoryLimit: { readonly maxmemory: number; readonly oomAtCommandStart: boolean };
  readonly redisVersion: string;
  readonly protoMaxBulkLen: number;
  readonly clients: ReadonlyMap<number, Connection>;
  readonly monitors: Set<Connection>;
  /** Client-side caching (CLIENT TRACKING). */
  readonly tracking: TrackingControl;
  activeExpireEnabled: boolean;
  /** A port/bind change being applied, or null. */
  readonly rebinding: Promise<void> | null;
  /** Bind the listeners to the configured port/bind; null when nothing changed. */
  rebind(): Promise<void> | null;
  isLocal(conn: Connection | null): boolean;
  isBlocked(conn: Connection): boolean;
  /** Park `ctx`'s client until `req.ready()` holds when its kind is woken, or `timeoutMs` (0: never) passes. */
  block(ctx: CommandContext, req: BlockRequest, timeoutMs: number): void;
  /**
   * Park `ctx`'s client on keys (see KeyBlockRequest) until one is ready or
   * `deadline` (engine clock ms; 0: never) passes. Only for contexts that
   * canBlock(); a rerun that still finds nothing just stays parked.
   */
  blockOnKeys(ctx: CommandContext, req: KeyBlockRequest, deadline: number): void;
  /** CLIENT UNBLOCK: false when `conn` is not inside a blocking command. */
  unblockClient(conn: Connection, withError: boolean): boolean;
  /** Something waiters of `kind` wait for happened. */
  wakeReady(kind: string): void;
  pauseClients(mode: 'all' | 'write', ms: number): void;
  unpauseClients(): void;
  resetClient(conn: Connection): void;
  resetStats(): void;
  /** INFO [section ...] as its text. */
  info(sections: string[]): string;
  /** MEMORY STATS' and MEMORY DOCTOR's figures, measured now (src/diagnostics/memory-report.ts). */
  memoryOverhead(): { overhead: MemoryOverhead; counts: DoctorCounts };
  /** Run one queued command of a transaction (EXEC) on `ctx`, with its accounting. */
  callNested(ctx: CommandContext, argv: string[]): void;
  /** SHUTDOWN; `now` skips waiting for lagging replicas. */
  shutdown(opts: { save?: boolean | null; force?: boolean; now?: boolean }): Promise<boolean>;
  /** SHUTDOWN ABORT: false when no shutdown is waiting. */
  abortShutdown(): boolean;
  /** The replicas attached to this server. */
  readonly primary: ReplicationPrimary;
  /** Channels, patterns and shard channels, and the delivery of messages (src/pubsub/). */
  readonly pubsub: PubSub;
  /** Per-slot CPU and network bytes (CLUSTER SLOT-STATS). */
  readonly slotStats: SlotStats;
  /** Sampled key accesses (VIREO HOTKEYS). */
  readonly hotKeys: HotKeys;
  /** MIGRATE's cached connections to its targets. */
  readonly migrateSockets: MigrateSockets;
  /** SLOWLOG's entries (src/diagnostics/slowlog.ts). */
  readonly slowlog: SlowLog;
  /** LATENCY LATEST / HISTORY / RESET's events. */
  readonly latencyMonitor: LatencyMonitor;
  /** FAILOVER's state machine. */
  readonly failover: Failover;
  /** This server's replication ids (replid, replid2). */
  readonly replIds: ReplicationIds;
  /** Why SYNC / PSYNC cannot be served now (a replica without its primary), or null. */
  syncRefusal(): string | null;
  /** The command (or subcommand) `argv` names, or undefined. */
  lookupCommand(argv: readonly string[]): ScriptableCommand | undefined;
  /** Run one command of a script's redis.call on the script's context, with its accounting. */
  runScriptCommand(ctx: CommandContext, cmd: ScriptableCommand, argv: string[]): void;
}

/** Bytes a streamed reply produces per call when there is no socket to pace it. */
const UNPACED_PIECE = 1 << 20;

export class CommandContext extends ExecContext {
  /** Commands queued by MULTI, or null outside a transaction. */
  multi: QueuedCommand[] | null = null;
  /** A command was rejected while queueing: EXEC answers EXECABORT. */
  multiError = false;
  /** Running EXEC's queue: blocking commands answer at once instead. */
  inExec = false;
  /** The command running now (CLIENT LIST cmd=, error texts) and its arguments (argv-mem). */
  current: CommandRef | null = null;
  currentArgv: string[] | null = null;
  /** The command is being run again because a key it waits on is ready (KeyBlockRequest). */
  rerun = false;
  /** Log offset after this context's last write (WAITAOF). */
  lastWriteOffset = 0;
  /** CLIENT SETNAME. */
  name = '';
  kind: ClientKind = 'normal';

  constructor(
    engine: Engine,
    reply: ReplySink,
    readonly host: CommandHost,
    /** The client connection, or null (AOF loading, internal contexts). */
    readonly conn: Connection | null,
    /** CLIENT ID; -1 for contexts without a connection. */
    readonly id: number,
  ) {
    super(engine, reply);
  }

  /**
   * Reply with `stream`: a connection sends it as the socket takes it;
   * without one (muted sinks) it is produced at once.
   */
  startStream(stream: ReplyStream): void {
    if (this.conn !== null) {
      this.conn.startStream(stream);
      return;
    }
    while (!stream.fill(this.reply, UNPACED_PIECE)) {
      /* produced into the sink */
    }
  }

  /**
   * Whether a blocking command may wait here: only a connection's own
   * command, not inside EXEC or a script (there it answers as its
   * non-blocking form would), and always when it is being run again.
   */
  canBlock(): boolean {
    return this.rerun || (this.conn !== null && !this.inExec && this.kind !== 'master');
  }

  /** The connection, for the commands that only a connection can run (CLIENT, HELLO, MONITOR...). */
  connection(): Connection {
    if (this.conn === null) throw new Error(`'${this.current?.name ?? '?'}' needs a client connection`);
    return this.conn;
  }
}
