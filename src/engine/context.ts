/**
 * The execution context (DESIGN.md §1): what a command runs on. A socket
 * connection, the AOF loader, a blocked client being served and, later, a
 * Lua script or a replica link each own one, so none of them has to fake a
 * connection. This is the engine's part: the selected database, the reply
 * sink, the session state the engine itself reads (NO-TOUCH, WATCHed keys),
 * and the one change signal.
 */

import type { Db } from './keyspace.js';
import type { Engine, NotifyClass } from './engine.js';
import type { WatchedKey, Watcher } from './watch.js';
import type { ReplyWriter } from '../protocol/writer.js';

/**
 * Where a command's reply goes. Today every provider (a socket client, the
 * AOF loader with a muted writer) is a ReplyWriter, which keeps reply calls
 * monomorphic on the hot path; a Lua script will bring its own.
 */
export type ReplySink = ReplyWriter;

export class ExecContext implements Watcher {
  db: Db;
  /** CLIENT NO-TOUCH: reads leave access times alone. */
  noTouch = false;
  watched: WatchedKey[] = [];
  casDirty = false;

  constructor(
    readonly engine: Engine,
    readonly reply: ReplySink,
  ) {
    this.db = engine.dbs[0]!;
  }

  /** Select database `index` (validated by the caller). */
  select(index: number): void {
    this.db = this.engine.dbs[index]!;
  }

  /**
   * The one change signal: `key` in `db` changed (event `event` of class
   * `cls`, as keyspace notifications name it). Fans out to WATCH, blocked
   * clients' ready keys and keyspace listeners. Call it once per change,
   * beside the effect the command logs.
   */
  changed(key: string, cls: NotifyClass, event: string, db: Db = this.db): void {
    this.engine.changed(db, key, cls, event, this);
  }
}
