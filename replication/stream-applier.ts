/**
 * Applying a primary's replication stream on a replica: each command runs
 * on a context of its own with no connection and a muted reply (as the
 * AOF loader's records do, src/server/replay.ts), and its bytes enter this
 * server's command log exactly as received (CommandLog.appendVerbatim),
 * so the replica's offsets, its AOF and its own replicas get the
 * primary's stream byte for byte.
 *
 * A transaction (MULTI ... EXEC) is queued and applied at EXEC as one
 * unit; its bytes enter the log then, all together, as Redis counts a
 * replica's offset. PING only counts; REPLCONF GETACK is answered with
 * the offset before it (Redis' replicationSendAck runs before the command
 * is counted).
 */

import type { Engine } from '../src/engine/engine.js';
import { arityOk, bigArgRefusal, type Command, type CommandTable } from '../src/commands/table.js';
import { CommandContext, type CommandHost } from '../src/commands/context.js';
import { OutputArena, ReplyWriter } from '../src/protocol/writer.js';
import type { Logger } from '../src/logger.js';
import type { StreamCommand } from './master-stream.js';

interface Queued {
  cmd: Command;
  argv: string[];
  /** The command's bytes (a view of a received chunk, never written to). */
  bytes: Buffer;
}

export interface ApplierHost {
  readonly engine: Engine;
  readonly table: CommandTable;
  readonly logger: Logger;
  /** The server, as commands see it. */
  readonly commandHost: CommandHost;
}

export class StreamApplier {
  /** The primary's context (Redis' master client): its selected database survives reconnections. */
  readonly ctx: CommandContext;
  private multi: Queued[] | null = null;
  private multiStart: Buffer | null = null;
  /** The command being applied, for the log line of an error it replies. */
  private current = '';

  constructor(
    private readonly host: ApplierHost,
    /** Called for REPLCONF GETACK with the offset to acknowledge. */
    private readonly onGetAck: (offset: number) => void,
  ) {
    const discard = new ReplyWriter(new OutputArena());
    discard.muted = true;
    discard.onError = (msg) =>
      host.logger.warn(`== CRITICAL == This replica is sending an error to its master: '${msg.slice(0, 128)}' after processing the command '${this.current}'`);
    this.ctx = new CommandContext(host.engine, discard, host.commandHost, null, -1);
    // Nothing the primary sends is refused for client limits, and nothing blocks.
    this.ctx.kind = 'master';
  }

  /** The database the stream is on. */
  get db(): number {
    return this.ctx.db.id;
  }

  /** Continue on database `db` (the stream db of a loaded snapshot). */
  select(db: number): void {
    if (db >= 0 && db < this.host.engine.dbs.length) this.ctx.select(db);
  }

  /** The last command applied (CLIENT LIST's cmd= of the master client; Redis' NULL before the first). */
  lastCommand = 'NULL';

  /** Commands queued in the open transaction, -1 when none is open (CLIENT LIST's multi=). */
  get queuedCommands(): number {
    return this.multi === null ? -1 : this.multi.length;
  }

  /** A transaction is open (its commands are queued, not yet in the log). */
  get inTransaction(): boolean {
    return this.multi !== null;
  }

  /** Bytes of the open transaction, received but not in the log yet. */
  get queuedBytes(): number {
    if (this.multi === null) return 0;
    let n = this.multiStart!.length;
    for (const q of this.multi) n += q.bytes.length;
    return n;
  }

  /** Forget an unfinished transaction (the link dropped: the primary sends it again). */
  discardTransaction(): void {
    this.multi = null;
    this.multiStart = null;
  }

  /** Apply one command of the stream and log its bytes. */
  apply(c: StreamCommand): void {
    const log = this.host.engine.log;
    const name = c.argv[0]!.toLowerCase();
    const bytes = c.buf.subarray(c.start, c.end);
    if (this.multi !== null) {
      this.queueOrExec(name, c.argv, bytes);
      return;
    }
    if (name === 'multi') {
      this.multi = [];
      this.multiStart = bytes;
      return;
    }
    if (name === 'replconf') {
      if (c.argv[1]?.toLowerCase() === 'getack') this.onGetAck(log.offset);
    } else if (name !== 'ping') {
      const cmd = this.resolve(c.argv);
      if (cmd !== null) this.runUnit([{ cmd, argv: c.argv, bytes }]);
    }
    log.appendVerbatim(bytes, 0, bytes.length, this.ctx.db.id);
  }

  private queueOrExec(name: string, argv: string[], bytes: Buffer): void {
    const queued = this.multi!;
    if (name === 'exec') {
      const start = this.multiStart!;
      this.discardTransaction();
      this.runUnit(queued);
      const log = this.host.engine.log;
      const db = this.ctx.db.id;
      log.appendVerbatim(start, 0, start.length, db);
      for (const q of queued) log.appendVerbatim(q.bytes, 0, q.bytes.length, db);
      log.appendVerbatim(bytes, 0, bytes.length, db);
      return;
    }
    const cmd = this.resolve(argv);
    // A command the replica cannot run still counts in the offset: it travels with the transaction.
    queued.push({ cmd: cmd ?? NOOP, argv, bytes });
  }

  /** The command to run, or null (logged) when the stream holds something this server cannot run. */
  private resolve(argv: string[]): Command | null {
    const cmd = this.host.table.resolve(argv);
    let why: string | null = null;
    if (cmd === undefined || cmd.run === null) why = 'unknown command';
    else if (!arityOk(cmd, argv.length)) why = 'wrong number of arguments';
    else why = bigArgRefusal(cmd, argv);
    if (why === null) return cmd!;
    this.host.logger.warn(`== CRITICAL == The replication stream holds a command this replica cannot run (${why}): '${argv[0]!.slice(0, 64)}'`);
    return null;
  }

  /** Run commands as one execution unit (a transaction is applied whole, as its EXEC on the primary was). */
  private runUnit(list: readonly Queued[]): void {
    const engine = this.host.engine;
    const ctx = this.ctx;
    engine.begin();
    engine.obeyingPrimary = true;
    try {
      for (const q of list) {
        if (q.cmd === NOOP) continue;
        this.current = q.argv[0]!.slice(0, 64);
        this.lastCommand = q.cmd.name;
        ctx.current = q.cmd;
        ctx.currentArgv = q.argv;
        try {
          q.cmd.run!(ctx, q.argv);
        } catch (e) {
          this.host.logger.error({ err: e }, `Internal error applying '${this.current}' from the master`);
        }
      }
    } finally {
      engine.obeyingPrimary = false;
      ctx.current = null;
      ctx.currentArgv = null;
      engine.end();
    }
    // Clients blocked on keys the primary filled (XREAD BLOCK on a replica) are served now.
    if (engine.readyKeys.hasReady && !engine.inUnit) engine.readyKeys.serve();
  }
}

/** Stands for a queued command the replica cannot run. */
const NOOP = { run: null } as unknown as Command;
