/**
 * One client connection: its socket, protocol state, selected database,
 * transaction and watch state, and the counters CLIENT LIST shows.
 * Commands receive the Client (like Redis' `client *c`) and reach the
 * engine, the current database and the reply writer through it.
 */

import type { Socket } from 'node:net';
import { RequestParser, ProtocolError } from '../protocol/parser.js';
import { ReplyWriter, type OutputArena } from '../protocol/writer.js';
import type { Db } from '../engine/keyspace.js';
import type { Engine } from '../engine/engine.js';
import type { WatchedKey, Watcher } from '../engine/watch.js';
import type { Command } from '../commands/table.js';
import type { Server } from './server.js';
import type { Waiter } from '../../persistence/persistence.js';
import type { DirectIo } from './direct-io.js';

export interface QueuedCommand {
  cmd: Command;
  argv: string[];
}

/** A client waiting inside a blocking command (WAITAOF; later BLPOP and friends). */
export interface BlockState {
  /** What it waits for; the server wakes clients of one kind together. */
  kind: string;
  /** Checked when something it may wait for happened. */
  ready(): boolean;
  /** Write the reply (timedOut: the timeout fired first). */
  wake(timedOut: boolean): void;
  timer: NodeJS.Timeout | null;
}

export type ClientKind = 'normal' | 'replica' | 'master' | 'pubsub';

/** Pause output when this much is queued in the socket, resume on drain. */
const OUTPUT_HIGH_WATER = 64 * 1024 * 1024;

export class Client implements Watcher, Waiter {
  db: Db;
  readonly reply: ReplyWriter;
  readonly parser: RequestParser;
  readonly engine: Engine;

  name = '';
  libName = '';
  libVer = '';
  authenticated: boolean;
  user = 'default';

  /** Commands queued by MULTI, or null outside a transaction. */
  multi: QueuedCommand[] | null = null;
  /** A command was rejected while queueing: EXEC answers EXECABORT. */
  multiError = false;
  watched: WatchedKey[] = [];
  casDirty = false;

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
  noTouch = false;
  monitor = false;
  kind: ClientKind = 'normal';
  /** A parsed command held back by CLIENT PAUSE. */
  held: string[] | null = null;
  /** Currently executing a command (for CLIENT LIST's cmd field). */
  current: Command | null = null;
  /** Direct handle I/O (direct-io.ts), or null when the socket's stream API is used. */
  io: DirectIo | null = null;
  /** Replies waiting for the AOF (group commit); null when none are held. */
  private heldReplies: Buffer[] | null = null;
  /** Log offset that must be durable before heldReplies go out. */
  heldUntil = 0;
  /** Log offset after this client's last write (WAITAOF). */
  lastWriteOffset = 0;
  /** The last command name looked up and what it resolved to (dispatch's cache). */
  lastCommandName = '';
  lastCommandLookup: Command | undefined = undefined;
  /** Queued for the server's end-of-turn write (Server.queueWrite). */
  writeQueued = false;
  /** Inside a blocking command: input waits until it is woken. */
  blocked: BlockState | null = null;
  /** Running EXEC's queue: blocking commands answer at once instead. */
  inExec = false;

  constructor(
    readonly server: Server,
    readonly id: number,
    readonly socket: Socket | null,
    arena: OutputArena,
    /** "ip:port" of the peer, or a unix socket path. */
    readonly addr: string,
    readonly laddr: string,
    readonly fd: number,
  ) {
    this.engine = server.engine;
    this.db = server.engine.dbs[0]!;
    this.reply = new ReplyWriter(arena);
    this.reply.onError = server.recordError;
    this.authenticated = !server.authRequired();
    this.parser = new RequestParser({
      maxBulkLen: server.protoMaxBulkLen,
      authenticated: this.authenticated,
    });
  }

  // ---- input ---------------------------------------------------------------

  onData(chunk: Buffer): void {
    this.netIn += chunk.length;
    this.server.stats.netInputBytes += chunk.length;
    this.engine.clock.tick();
    this.lastInteraction = this.engine.clock.wallMs();
    if (this.closeAfterReply) return;
    this.parser.feed(chunk);
    this.processInput();
    // The chunk is the shared read buffer under direct I/O: keep only copies.
    if (this.io !== null) this.parser.detach();
    if (this.parser.pendingBytes > this.server.queryBufferLimit) {
      this.server.logger.warn({ client: this.describe() }, 'Closing client that reached max query buffer length');
      this.server.stats.clientQueryBufferLimitDisconnections++;
      this.close();
      return;
    }
    this.server.afterInput(this);
  }

  /** Run every complete command in the query buffer (until paused or closing). */
  processInput(): void {
    while (!this.closeAfterReply && !this.closed && this.blocked === null) {
      let argv: string[] | null;
      if (this.held !== null) {
        argv = this.held;
        this.held = null;
      } else {
        try {
          argv = this.parser.next();
        } catch (e) {
          if (!(e instanceof ProtocolError)) throw e;
          this.reply.error('ERR ' + e.message);
          this.server.logger.debug({ client: this.describe(), error: e.message }, 'Protocol error from client');
          this.closeAfterReply = true;
          break;
        }
        if (argv === null) break;
      }
      if (this.server.mustHold(this, argv)) {
        this.held = argv;
        break;
      }
      this.server.execute(this, argv);
    }
  }

  // ---- output --------------------------------------------------------------

  /** Send what the reply writer holds (or queue it behind held replies). */
  flush(): void {
    const chunks = this.reply.takeChunks();
    if (this.heldReplies !== null) {
      if (chunks !== null) for (const c of chunks) this.heldReplies.push(c);
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
  }

  private send(chunks: Buffer[] | null): void {
    const socket = this.socket;
    if (chunks === null || socket === null || this.closed) return;
    const io = this.io;
    if (io !== null) {
      let bytes = 0;
      for (const c of chunks) bytes += c.length;
      io.write(chunks);
      this.netOut += bytes;
      this.server.stats.netOutputBytes += bytes;
      return;
    }
    {
      let bytes = 0;
      if (chunks.length === 1) {
        bytes = chunks[0]!.length;
        socket.write(chunks[0]!);
      } else {
        socket.cork();
        for (const c of chunks) {
          bytes += c.length;
          socket.write(c);
        }
        socket.uncork();
      }
      this.netOut += bytes;
      this.server.stats.netOutputBytes += bytes;
      if (socket.writableLength > OUTPUT_HIGH_WATER && !socket.isPaused()) {
        socket.pause();
        socket.once('drain', () => {
          if (!this.closed) socket.resume();
        });
      }
    }
  }

  /** Reply bytes written but not yet taken by the socket (CLIENT LIST omem). */
  get outputPending(): number {
    if (this.io !== null) return this.io.pendingBytes;
    return this.socket?.writableLength ?? 0;
  }

  /** Close the connection (after flushing what was written so far). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.socket !== null) this.socket.end();
    this.server.unlinkClient(this);
  }

  /** Select database `index` (validated by the caller). */
  select(index: number): void {
    this.db = this.engine.dbs[index]!;
  }

  setAuthenticated(user: string): void {
    this.authenticated = true;
    this.user = user;
    this.parser.limits.authenticated = true;
  }

  /** "id=.. addr=.." for logs. */
  describe(): string {
    return `id=${this.id} addr=${this.addr} name=${this.name}`;
  }
}
