/**
 * The durable change feed (Vireo, beyond Redis): keyspace events appended
 * to a stream key, so consumers read them with XREADGROUP and miss none
 * across their own restarts (Pub/Sub notifications are fire-and-forget).
 *
 * `changefeed-key` names the stream ('' turns the feed off), in database
 * `changefeed-db`, capped at about `changefeed-maxlen` entries (XADD MAXLEN
 * ~); `changefeed-events` picks the event classes with
 * notify-keyspace-events' letters. Each entry is `db <n> key <key> event
 * <name>`, the same event names Pub/Sub notifications carry.
 *
 * The entries of a command are appended at the end of its execution unit
 * (Engine.beforeCommit) by running XADD on an internal context, so they
 * enter the command log in the same atomic record as the writes they
 * describe: a crash keeps both or neither, replicas get them in the
 * primary's stream, and replaying the log does not add them twice (nothing
 * is fed while loading or on a replica).
 */

import type { Logger } from '../logger.js';
import { CommandContext, type CommandHost } from '../commands/context.js';
import type { Command } from '../commands/table.js';
import type { Engine, NotifyClass } from '../engine/engine.js';
import { OutputArena, ReplyWriter } from '../protocol/writer.js';

export interface FeedSettings {
  key: string;
  db: number;
  maxlen: number;
  classes: string;
}

export class ChangeFeed {
  private settings: FeedSettings = { key: '', db: 0, maxlen: 0, classes: '' };
  /** Events of the running unit, flat: class, event, key, db for each. */
  private pending: (string | number)[] = [];
  private readonly ctx: CommandContext;
  private readonly writer: ReplyWriter;
  /** Entries added since start (INFO). */
  entriesAdded = 0;
  /** Entries that could not be added (the key holds another type). */
  entriesLost = 0;
  private lastWarning = 0;

  constructor(
    private readonly engine: Engine,
    host: CommandHost,
    private readonly xadd: Command,
    private readonly logger: Logger,
  ) {
    this.writer = new ReplyWriter(new OutputArena());
    this.writer.muted = true;
    this.ctx = new CommandContext(engine, this.writer, host, null, -1);
  }

  get on(): boolean {
    return this.settings.key !== '';
  }

  /** Apply the changefeed-* parameters. */
  configure(settings: FeedSettings): void {
    const wasOn = this.on;
    this.settings = settings;
    this.ctx.select(Math.min(settings.db, this.engine.dbs.length - 1));
    const listeners = this.engine.keyspaceListeners;
    if (this.on && !wasOn) {
      listeners.push(this.listener);
      this.engine.beforeCommit = () => this.flush();
    } else if (!this.on && wasOn) {
      listeners.splice(listeners.indexOf(this.listener), 1);
      this.engine.beforeCommit = null;
      this.pending.length = 0;
    }
  }

  private readonly listener = (cls: NotifyClass, event: string, key: string, db: number): void => {
    const s = this.settings;
    if (!s.classes.includes(cls)) return;
    // Its own entries are not fed back into it.
    if (key === s.key && db === s.db) return;
    // Replaying the log or following a primary: the feed's entries are in the records already.
    if (this.engine.loading || this.engine.isReplica) return;
    this.pending.push(cls, event, key, db);
  };

  /** Append the unit's events (called by the engine while the unit is still open). */
  private flush(): void {
    const p = this.pending;
    if (p.length === 0) return;
    this.pending = [];
    const s = this.settings;
    const errors = this.writer.errorCount;
    for (let i = 0; i < p.length; i += 4) {
      const argv = ['XADD', s.key, 'MAXLEN', '~', String(s.maxlen), '*', 'db', String(p[i + 3]), 'key', p[i + 2] as string, 'event', p[i + 1] as string];
      this.xadd.run!(this.ctx, argv);
    }
    const failed = this.writer.errorCount - errors;
    this.entriesAdded += p.length / 4 - failed;
    if (failed > 0) {
      this.entriesLost += failed;
      const now = Date.now();
      if (now - this.lastWarning > 10_000) {
        this.lastWarning = now;
        this.logger.warn(`changefeed: ${failed} event(s) not recorded: the key '${s.key}' in db ${s.db} holds a value that is not a stream`);
      }
    }
  }
}
