/**
 * One client connection: its socket, protocol state, output, and the
 * counters CLIENT LIST shows. It *has* an execution context (ctx: the
 * selected database, transaction and watch state) that its commands run
 * on; commands see the connection only through the Connection interface.
 */

import type { Socket } from 'node:net';
import { RequestParser, ProtocolError } from '../protocol/parser.js';
import { ReplyWriter, WriterMark, type OutputArena } from '../protocol/writer.js';
import type { Engine } from '../engine/engine.js';
import type { Db } from '../engine/keyspace.js';
import { CommandContext } from '../commands/context.js';
import type { BlockRequest, ClientMemory, CommandHost, Connection } from '../commands/context.js';
import type { Command, CommandStats, CommandTable } from '../commands/table.js';
import type { Logger } from '../logger.js';
import type { ServerStats } from './stats.js';
import type { Waiter } from '../../persistence/persistence.js';
import { JOIN_BUFFER } from './direct-io.js';
import type { ClientIo } from './client-io.js';
import { PREFETCH_MAX } from '../engine/string-store.js';
import { KeyPeek } from '../protocol/key-peek.js';
import type { ReplyStream } from '../protocol/stream.js';
import { SoftLimitClock, type OutputLimit } from './output-limits.js';
import { clientInfoLine } from '../commands/connection.js';
import { countedForEviction } from './client-eviction.js';
import { reprString } from './monitor.js';
import { forgetDeferred, materialize } from '../protocol/deferred-arg.js';
import type { Subscriptions } from '../pubsub/registry.js';
import type { ClientTracking, TrackingClient } from '../tracking/client.js';
import type { User } from '../acl/user.js';

/** The keys processInput() reads ahead (one for all clients: one runs at a time). */
const AHEAD = new KeyPeek(PREFETCH_MAX);
/**
 * Counts the read-aheads of every client: one client's window seeds its
 * commands only while no other read-ahead (a client woken by one of those
 * commands, say) has replaced what AHEAD holds.
 */
let aheadGeneration = 0;

/** What a connection needs from the server that accepted it (Server implements it). */
export interface ClientHost extends CommandHost {
  readonly engine: Engine;
  readonly table: CommandTable;
  readonly stats: ServerStats;
  readonly logger: Logger;
  readonly queryBufferLimit: number;
  /** Keys prefetched together ahead of a pipeline (prefetch-batch-max-size; under 2: off). */
  readonly prefetchBatch: number;
  readonly recordError: (msg: string) => void;
  authRequired(): boolean;
  /** Run (or queue, inside MULTI) one parsed command. */
  execute(c: Client, argv: string[]): void;
  /** Replies are ready: send them now or hold them for the AOF. */
  /** `fromRead`: called at the end of the read callback that brought the input. */
  afterInput(c: Client, fromRead?: boolean): void;
  /** CLIENT PAUSE: must `argv` wait? */
  mustHold(c: Client, argv: string[]): boolean;
  outputLimitFor(c: Client): OutputLimit | null;
  /** maxmemory-clients in bytes, 0 when off. */
  readonly clientEvictionLimit: number;
  /** Check every client against maxmemory-clients once the current turn's work is done. */
  evictClientsSoon(): void;
  /** Continue c's streamed reply on a later turn. */
  pumpLater(c: Client): void;
  /** Output was added outside c's own input (a Pub/Sub message): send it at the end of the turn, or hold it for the AOF. */
  outputReady(c: Client): void;
  /** Log and count an exception; returns the error reply. */
  internalError(e: unknown, where: string, c: Client | null, argv?: readonly string[] | null): string;
  /** The connection closed: forget it. */
  unlinkClient(c: Client): void;
}

/** A client waiting inside a blocking command, with its timeout. */
export interface BlockState extends BlockRequest {
  timer: NodeJS.Timeout | null;
  /** Undo what the wait registered (a key waiter's place in line), whenever it ends. */
  release: (() => void) | null;
  /** CLIENT REPLY OFF or SKIP was in force for the blocking command: its late reply is not sent either. */
  muted: boolean;
  /** The blocking command's commandstats (CLIENT UNBLOCK ... ERROR counts a failed call). */
  stats: CommandStats | null;
}

/** Approximate bytes of a client object, its parser and writer (tot-mem). */
const CLIENT_OVERHEAD = 1024;
/** Approximate bytes of one queued MULTI command beside its arguments. */
const QUEUED_OVERHEAD = 48;

function argvBytes(argv: readonly string[]): number {
  let n = 0;
  for (const a of argv) n += a.length;
  return n;
}

/** Pause output when this much is queued in the socket, resume on drain. */
const OUTPUT_HIGH_WATER = 64 * 1024 * 1024;
/** A streamed reply is continued while less than this waits for the socket. */
const STREAM_LOW_WATER = 256 * 1024;
/** Bytes of a streamed reply produced per event-loop turn (other clients run in between). */
const STREAM_PIECE = 64 * 1024;
/** Encoded output between output-limit checks inside one turn's pipeline. */
const LIMIT_CHECK_STEP = 1024 * 1024;
/** Pieces of one streamed reply produced in one turn at most. */
const STREAM_PIECES_PER_TURN = 4;

export class Client implements Connection, Waiter, TrackingClient {
  /** What this connection's commands run on. */
  readonly ctx: CommandContext;
  readonly reply: ReplyWriter;
  readonly parser: RequestParser;
  readonly engine: Engine;

  libName = '';
  libVer = '';
  authenticated: boolean;
  /** The ACL user its commands are checked against (dispatch reads User.unrestricted first). */
  aclUser: User;

  readonly createdAt = Date.now();
  lastInteraction = Date.now();
  lastCommand = 'NULL';
  netIn = 0;
  netOut = 0;
  commandsProcessed = 0;

  /** Close once the pending replies are written (QUIT, protocol error, KILL). */
  closeAfterReply = false;
  closed = false;
  /** CLIENT REPLY OFF / SKIP. */
  replyOff = false;
  replySkip = false;
  replySkipNext = false;
  noEvict = false;
  monitor = false;
  /** CLIENT CAPA redirect (Valkey 8): on a replica, data commands get -REDIRECT to the primary. */
  capaRedirect = false;
  /** READONLY (with CLIENT CAPA redirect): reads stay on the replica. */
  readonlyMode = false;
  /** SCRIPT DEBUG YES/SYNC was refused: the next EVAL, meant to be debugged, is refused too. */
  scriptDebugRefused = false;
  /** A parsed command held back by CLIENT PAUSE. */
  held: string[] | null = null;
  /** CLIENT TRACKING state while tracking is on (src/tracking/). */
  tracking: ClientTracking | null = null;

  get heldCommand(): Command | null {
    return this.held === null ? null : (this.server.table.resolve(this.held) ?? null);
  }
  /**
   * Where output goes without the socket's stream API: the libuv handle
   * (direct-io.ts) or an I/O thread (io-threads/); null when the stream API
   * is used. Input then arrives in a shared buffer, valid for one call.
   */
  io: ClientIo | null = null;
  /** The peer's IP address; null for a unix socket or a connection-less client. */
  peerIp: string | null = null;
  /** Replies waiting for the AOF (group commit); null when none are held. */
  private heldReplies: Buffer[] | null = null;
  /** Log offset that must be durable before heldReplies go out. */
  heldUntil = 0;
  /** Its place among the durability gate's held clients (-1: none held); the gate keeps it. */
  gateSlot = -1;
  /** The last command name looked up and what it resolved to (dispatch's cache). */
  lastCommandName = '';
  lastCommandLookup: Command | undefined = undefined;
  /** Queued for the server's end-of-turn write (Server.queueWrite). */
  writeQueued = false;
  /** Where the reply stood when the running top-level command started (rolled back if it throws). */
  readonly replyMark = new WriterMark();
  /** Inside a blocking command: input waits until it is woken. */
  blocked: BlockState | null = null;
  /** Charges a blocked command's slot once its late reply is written (CLUSTER SLOT-STATS); null otherwise. */
  lateReplyAccount: ((usec: number, replyBytes: number) => void) | null = null;
  /**
   * Output still to be produced, in order: streamed replies and the bytes
   * written after them (EXEC's later replies). While set, input waits.
   */
  private streams: (ReplyStream | Buffer[])[] | null = null;
  /** Time over the soft output-buffer limit (client-output-buffer-limit). */
  readonly softLimit = new SoftLimitClock();
  /** Largest output of one flush in the current period (CLIENT LIST rbp). */
  outputPeak = 0;
  /** Pub/Sub subscriptions (src/pubsub/registry.ts); null until the first one. */
  subscriptions: Subscriptions | null = null;
  /** Pushes to this client raised by its own running command: they follow its reply (Redis 7.2). */
  private deferredPushes: Buffer[] | null = null;

  constructor(
    readonly server: ClientHost,
    readonly id: number,
    readonly socket: Socket | null,
    arena: OutputArena,
    /** "ip:port" of the peer, or a unix socket path. */
    readonly addr: string,
    readonly laddr: string,
    readonly fd: number,
  ) {
    this.engine = server.engine;
    this.reply = new ReplyWriter(arena);
    this.ctx = new CommandContext(server.engine, this.reply, server, this, id);
    this.reply.onError = server.recordError;
    this.authenticated = !server.authRequired();
    this.aclUser = server.acl.defaultUser;
    this.parser = new RequestParser({
      maxBulkLen: server.protoMaxBulkLen,
      authenticated: this.authenticated,
    });
    // processInput materializes what it holds and forgets the rest (deferred-arg.ts).
    this.parser.deferSetValues = true;
  }

  // ---- input ---------------------------------------------------------------

  /**
   * For the I/O threads' read-ahead across connections (io-threads/pool.ts):
   * the keyspace this client's next command uses, when the bytes it gets
   * next start a command and reading ahead is worth it there.
   */
  readAheadTarget(): Db | null {
    if (this.closed || this.closeAfterReply || this.held !== null || this.parser.midCommand) return null;
    const db = this.ctx.db;
    return db.prefetchWorthwhile ? db : null;
  }

  onData(chunk: Buffer): void {
    this.netIn += chunk.length;
    this.server.stats.netInputBytes += chunk.length;
    this.engine.clock.tick();
    this.lastInteraction = this.engine.clock.wallMs();
    // Closed (or closing) clients are not parsed: more data may still arrive.
    if (this.closeAfterReply || this.closed) return;
    try {
      this.parser.feed(chunk, this.io !== null ? JOIN_BUFFER : null);
      this.processInput();
    } catch (e) {
      // A bug outside any command (they catch their own): this connection's
      // state is unknown, so it alone is closed; every other client goes on.
      this.reply.error(this.server.internalError(e, 'reading input', this));
      this.closeAfterReply = true;
      this.flush();
      return;
    }
    // The chunk is the shared read buffer under direct I/O: keep only copies.
    if (this.io !== null) this.parser.detach();
    if (this.parser.pendingBytes > this.server.queryBufferLimit && !this.closed) {
      this.server.logger.warn(
        `Closing client that reached max query buffer length: ${clientInfoLine(this)} (qbuf initial bytes: ${reprString(this.parser.peek(64))})`,
      );
      this.server.stats.clientQueryBufferLimitDisconnections++;
      this.drop();
      return;
    }
    this.checkEviction();
    this.server.afterInput(this, true);
  }

  /**
   * maxmemory-clients: a client that alone uses the limit has every client
   * checked at the end of this turn rather than at the next cron
   * (client-eviction.ts).
   */
  private checkEviction(): void {
    const limit = this.server.clientEvictionLimit;
    if (limit === 0 || this.noEvict || this.closed || !countedForEviction(this.ctx.kind)) return;
    if (this.memoryReport().totMem >= limit) this.server.evictClientsSoon();
  }

  /**
   * Warm the cache for the keys of the pipelined commands about to run
   * (key-peek.ts). Returns how many commands that covers (at least 1).
   */
  private prefetchAhead(): number {
    // The last window is over, whether or not this one reads ahead.
    this.aheadGeneration = 0;
    const batch = this.server.prefetchBatch;
    const parser = this.parser;
    const from = parser.commandBoundary;
    // Mid-command (the read ended inside one, its end just came): look again
    // once it has run, or the rest of this read would go without.
    if (from < 0) return 1;
    // A lone command gains nothing: its lookup would wait for the same misses.
    if (batch < 2 || parser.pendingBytes < 64 || !this.ctx.db.prefetchWorthwhile) return PREFETCH_MAX;
    AHEAD.scan(parser.rawBuffer, from, batch);
    // One key alone has no other miss to overlap with.
    if (AHEAD.keys > 1) {
      this.ctx.db.prefetch(parser.rawBuffer, AHEAD.ranges, AHEAD.keys, AHEAD.hashes, AHEAD.slots);
      this.aheadGeneration = ++aheadGeneration;
      this.aheadBuffer = parser.rawBuffer;
      this.aheadCursor = 0;
    }
    return Math.max(1, AHEAD.commands);
  }

  /** This client's last read-ahead: its generation (0: none to use), the buffer it read, the next command of it to match. */
  private aheadGeneration = 0;
  private aheadBuffer: Buffer | null = null;
  private aheadCursor = 0;

  /**
   * Hand the hash and slot the read-ahead computed for argv[1] to the
   * keyspace. Only for a command parsed from canonical bytes (rawArgv) that
   * starts where a command of the scan started in the same buffer: its
   * argv[1] is then exactly the bytes hashed (argv[1] need not be a key:
   * the hash and slot are still that string's).
   */
  private seedKey(argv: string[]): void {
    const parser = this.parser;
    if (this.aheadGeneration !== aheadGeneration || parser.rawArgv !== argv || parser.rawBuffer !== this.aheadBuffer || argv.length < 2) return;
    const start = parser.rawStart;
    const starts = AHEAD.starts;
    const n = AHEAD.commands;
    let j = this.aheadCursor;
    while (j < n && starts[j]! < start) j++;
    this.aheadCursor = j;
    if (j === n || starts[j] !== start) return;
    const k = AHEAD.firstKey[j]!;
    if (k >= 0) this.ctx.db.seed(argv[1]!, AHEAD.hashes[k]!, AHEAD.slots[k]!);
  }

  /** Run every complete command in the query buffer (until paused or closing). */
  processInput(): void {
    // Commands left before the keys of the next ones are read ahead.
    let untilPrefetch = 0;
    while (!this.closeAfterReply && !this.closed && this.blocked === null && this.streams === null) {
      let argv: string[] | null;
      if (this.held !== null) {
        argv = this.held;
        this.held = null;
      } else {
        if (--untilPrefetch <= 0) untilPrefetch = this.prefetchAhead();
        try {
          argv = this.parser.next();
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          this.reply.error('ERR ' + e.message);
          this.server.logger.debug(`Protocol error (${e.message}) from client: ${clientInfoLine(this)}`);
          this.closeAfterReply = true;
          break;
        }
        if (argv === null) break;
        if (this.aheadGeneration !== 0) this.seedKey(argv);
      }
      if (this.server.mustHold(this, argv)) {
        // Held past this read: a SET's value left in the query buffer becomes a string.
        materialize(argv);
        this.held = argv;
        break;
      }
      this.server.execute(this, argv);
      // The query buffer moves on: a SET's value left there is gone (nothing kept its argv without materializing it).
      forgetDeferred(argv);
      // A long pipeline can encode megabytes in one turn: check the output
      // limit as it grows, not only when the turn's replies are sent.
      if (this.reply.pending >= this.nextLimitCheck) this.checkOutputLimitMidTurn();
    }
    // The window ends here: an idle client must not keep the buffer it read.
    this.aheadGeneration = 0;
    this.aheadBuffer = null;
  }

  // ---- output --------------------------------------------------------------

  /** Send what the reply writer holds (or queue it behind held replies or a streamed reply). */
  flush(): void {
    const chunks = this.reply.takeChunks();
    this.nextLimitCheck = LIMIT_CHECK_STEP;
    if (this.streams !== null) {
      if (chunks !== null) this.streams.push(chunks.slice());
      return;
    }
    if (this.heldReplies !== null) {
      if (chunks !== null) for (const c of chunks) this.heldReplies.push(c);
      this.checkOutputLimit();
      return;
    }
    this.send(chunks);
    if (this.closeAfterReply && !this.closed) this.close();
  }

  /** Keep this turn's replies until the AOF is durable (group commit). */
  holdReplies(): void {
    if (this.heldReplies === null) this.heldReplies = [];
    this.flush();
  }

  /** The AOF caught up: send the held replies. */
  releaseHeld(): void {
    const held = this.heldReplies;
    this.heldReplies = null;
    if (held !== null && held.length > 0) this.send(held);
    this.flush();
    if (this.streams !== null) this.server.pumpLater(this);
  }

  private send(chunks: Buffer[] | null): void {
    const socket = this.socket;
    if (chunks === null || this.closed || (socket === null && this.io === null)) return;
    let bytes = 0;
    for (const c of chunks) bytes += c.length;
    if (bytes > this.outputPeak) this.outputPeak = bytes;
    this.netOut += bytes;
    this.server.stats.netOutputBytes += bytes;
    this.server.stats.writesProcessed++;
    const io = this.io;
    if (io !== null) {
      io.write(chunks);
    } else if (socket !== null) {
      if (chunks.length === 1) {
        socket.write(chunks[0]!);
      } else {
        socket.cork();
        for (const c of chunks) socket.write(c);
        socket.uncork();
      }
      if (socket.writableLength > OUTPUT_HIGH_WATER && !socket.isPaused()) {
        socket.pause();
        socket.once('drain', () => {
          if (!this.closed) socket.resume();
        });
      }
    }
    this.checkOutputLimit();
    this.checkEviction();
  }

  // ---- output limits and streamed replies -----------------------------------

  /** reply.pending at which processInput checks the output limit again. */
  private nextLimitCheck = LIMIT_CHECK_STEP;

  private checkOutputLimitMidTurn(): void {
    this.nextLimitCheck = this.reply.pending + LIMIT_CHECK_STEP;
    this.checkOutputLimit();
  }

  /** client-output-buffer-limit: close this client if its pending output is over its class limit. */
  private checkOutputLimit(): void {
    const limit = this.server.outputLimitFor(this);
    if (limit === null || this.closed) return;
    if (!this.softLimit.over(limit, this.outputMemory, this.engine.clock.wallMs())) return;
    this.server.logger.warn(`Client ${clientInfoLine(this)} scheduled to be closed ASAP for overcoming of output buffer limits.`);
    this.server.stats.clientOutputBufferLimitDisconnections++;
    this.drop();
  }

  /**
   * Reply with `stream` from here on: what was written before it goes out
   * first, what is written after it (a transaction's later replies) waits
   * behind it, and this client's input waits until it is all sent.
   */
  startStream(stream: ReplyStream): void {
    if (this.reply.muted) return;
    // What was written before it waits in the queue too: it is released by
    // pump(), which, like flush(), honours the AOF's hold on replies.
    const before = this.reply.takeChunks();
    this.nextLimitCheck = LIMIT_CHECK_STEP;
    if (this.streams === null) this.streams = [];
    if (before !== null) this.streams.push(before.slice());
    this.streams.push(stream);
  }

  /** True while a streamed reply is being sent. */
  get streaming(): boolean {
    return this.streams !== null;
  }

  /**
   * Produce the next pieces of the streamed reply while the socket keeps
   * up; once it is all sent, go on with the buffered input.
   */
  pump(): void {
    const queue = this.streams;
    if (queue === null || this.closed || this.heldReplies !== null) return;
    this.streams = null; // so flush() sends instead of queueing
    let pieces = 0;
    while (queue.length > 0 && !this.closed) {
      if (this.socketPending >= STREAM_LOW_WATER) {
        this.streams = queue;
        this.whenDrained();
        return;
      }
      if (pieces === STREAM_PIECES_PER_TURN) {
        this.streams = queue;
        this.server.pumpLater(this);
        return;
      }
      const head = queue[0]!;
      if (Array.isArray(head)) {
        queue.shift();
        this.send(head);
        continue;
      }
      let done: boolean;
      try {
        done = head.fill(this.reply, STREAM_PIECE);
      } catch (e) {
        // The reply cannot be finished: the connection's framing is lost.
        this.server.internalError(e, 'streaming a reply', this);
        this.drop();
        return;
      }
      pieces++;
      if (done) queue.shift();
      this.send(this.reply.takeChunks());
    }
    if (this.closed) return;
    this.engine.clock.tick();
    this.processInput();
    this.server.afterInput(this);
  }

  /** Continue the stream once the socket has taken most of what waits. */
  private whenDrained(): void {
    this.whenWritable(() => this.server.pumpLater(this));
  }

  whenWritable(resume: () => void): void {
    const once = () => {
      if (!this.closed) resume();
    };
    if (this.socketPending < STREAM_LOW_WATER) {
      queueMicrotask(once);
      return;
    }
    if (this.io !== null) this.io.onLowWater(STREAM_LOW_WATER, once);
    else this.socket?.once('drain', once);
  }

  // ---- Pub/Sub ---------------------------------------------------------------

  /** The protocol version of this connection (HELLO). */
  get protocol(): 2 | 3 {
    return this.reply.resp;
  }

  /** Channels, patterns and shard channels subscribed to (0: not in Pub/Sub mode). */
  get subscriptionCount(): number {
    return this.subscriptions === null ? 0 : this.subscriptions.total;
  }

  /** In Pub/Sub mode (Redis' CLIENT_PUBSUB): a RESP2 connection may then only run the (un)subscribe commands, PING, QUIT and RESET. */
  get inPubSub(): boolean {
    return this.subscriptionCount > 0;
  }

  /**
   * Append an encoded push frame (a Pub/Sub message, an invalidation) to
   * this client's output, shared and never copied. While this client's own
   * command runs it waits for the reply (releasePushes): a RESP3 client
   * publishing to itself gets its PUBLISH reply first, and an EXEC's array
   * is not broken up by it.
   */
  writePush(frame: Buffer): void {
    if (this.closed) return;
    if (this.ctx.current !== null) {
      if (this.deferredPushes === null) this.deferredPushes = [];
      this.deferredPushes.push(frame);
      return;
    }
    this.reply.shared(frame);
    this.server.outputReady(this);
    // A subscriber that does not read is closed at its output limit, checked as the output grows.
    if (this.reply.pending >= this.nextLimitCheck) this.checkOutputLimitMidTurn();
  }

  /** The command finished: send the pushes it raised for this client. */
  releasePushes(): void {
    const pushes = this.deferredPushes;
    if (pushes === null) return;
    this.deferredPushes = null;
    for (const frame of pushes) this.writePush(frame);
  }

  /** Write bytes as they are (the replication stream), behind what was sent before. */
  sendRaw(chunks: Buffer[]): void {
    this.send(chunks);
  }

  /** The memory fields of CLIENT LIST, measured now. */
  memoryReport(): ClientMemory {
    const parser = this.parser;
    const qbuf = parser.pendingBytes;
    const qbufFree = parser.bufferFree;
    let argvMem = parser.partialArgBytes;
    const running = this.ctx.currentArgv;
    if (running !== null) for (const a of running) argvMem += a.length;
    let multiMem = 0;
    const multi = this.ctx.multi;
    if (multi !== null) for (const q of multi) multiMem += QUEUED_OVERHEAD + argvBytes(q.argv);
    const obl = this.reply.pending;
    const omem = this.outputMemory - obl;
    let oll = this.io !== null ? this.io.pendingWrites : (this.socket?.writableLength ?? 0) > 0 ? 1 : 0;
    if (this.heldReplies !== null) oll += this.heldReplies.length;
    if (this.streams !== null) oll += this.streams.length;
    const totMem = CLIENT_OVERHEAD + qbuf + qbufFree + argvMem + multiMem + obl + omem;
    return { qbuf, qbufFree, argvMem, multiMem, obl, oll, omem, totMem, writing: this.socketPending > 0 };
  }

  /** Bytes handed to the socket that it has not taken yet. */
  get socketPending(): number {
    if (this.io !== null) return this.io.pendingBytes;
    return this.socket?.writableLength ?? 0;
  }

  /** Output waiting in memory: encoded, held for the AOF, queued for the socket (omem). */
  get outputMemory(): number {
    let n = this.reply.pending + this.socketPending;
    if (this.heldReplies !== null) for (const c of this.heldReplies) n += c.length;
    if (this.streams !== null) for (const s of this.streams) if (Array.isArray(s)) for (const c of s) n += c.length;
    return n;
  }

  /** Close the connection (after flushing what was written so far). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.streams = null;
    if (this.io !== null) this.io.end();
    else if (this.socket !== null) this.socket.end();
    this.server.unlinkClient(this);
  }

  /** Close the connection at once, dropping pending output (Redis' freeClient on a limit). */
  drop(): void {
    if (this.closed) return;
    this.closed = true;
    this.streams = null;
    this.heldReplies = null;
    this.reply.takeChunks();
    if (this.io !== null) this.io.destroy();
    else if (this.socket !== null) this.socket.destroy();
    this.server.unlinkClient(this);
  }

  get user(): string {
    return this.aclUser.name;
  }

  setAuthenticated(user: User): void {
    this.authenticated = true;
    this.aclUser = user;
    this.parser.limits.authenticated = true;
  }

  /** Tracking sends redirected RESP2 invalidations only to a subscriber (Redis' CLIENT_PUBSUB). */
  inPubSubMode(): boolean {
    return this.inPubSub;
  }

  /** "id=.. addr=.." for logs. */
  describe(): string {
    return `id=${this.id} addr=${this.addr} name=${this.ctx.name}`;
  }
}
