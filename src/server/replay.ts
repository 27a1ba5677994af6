/**
 * Applying records of the command log read back from disk (AOF loading,
 * DEBUG LOADAOF): each runs as a command on a context of its own, with no
 * connection and a reply sink that discards (Redis' fake AOF client, without
 * faking a client). A replica applying its primary's stream does the same
 * (replication/stream-applier.ts).
 */

import type { Engine } from '../engine/engine.js';
import { arityOk, bigArgRefusal, type CommandTable } from '../commands/table.js';
import { CommandContext, type CommandHost } from '../commands/context.js';
import { OutputArena, ReplyWriter } from '../protocol/writer.js';
import { AofLoadError } from '../../persistence/aof/store.js';

export class LogReplayer {
  private ctx: CommandContext | null = null;

  constructor(
    private readonly engine: Engine,
    private readonly table: CommandTable,
    private readonly host: CommandHost,
  ) {}

  /** The database the records read so far leave the stream on (a replica's log continues there). */
  get dbIndex(): number {
    return this.ctx === null ? 0 : this.ctx.db.id;
  }

  /** Apply one record; a record that is not a valid command stops the load. */
  replay(argv: string[]): void {
    // A replica's log holds its primary's stream as received: REPLCONF GETACK changes no data,
    // and the messages published while it fed replicas were delivered then, not to be sent again.
    const name = argv[0]!.toLowerCase();
    if (name === 'replconf' || name === 'publish' || name === 'spublish') return;
    const cmd = this.table.resolve(argv);
    if (cmd === undefined || cmd.run === null) {
      throw new AofLoadError(`Unknown command '${argv[0]!.slice(0, 128)}' reading the append only file`);
    }
    if (!arityOk(cmd, argv.length)) throw new AofLoadError(`Wrong number of arguments for '${cmd.name}' reading the append only file`);
    const tooLong = bigArgRefusal(cmd, argv);
    if (tooLong !== null) throw new AofLoadError(`Reading the append only file: ${tooLong}`);
    // Records of a transaction are applied once its EXEC was read; MULTI/EXEC themselves do nothing here.
    if (cmd.name === 'multi' || cmd.name === 'exec') return;
    const ctx = this.context();
    ctx.current = cmd;
    this.engine.begin();
    try {
      cmd.run(ctx, argv);
    } finally {
      this.engine.end();
      ctx.current = null;
    }
  }

  private context(): CommandContext {
    if (this.ctx === null) {
      const discard = new ReplyWriter(new OutputArena());
      discard.muted = true;
      this.ctx = new CommandContext(this.engine, discard, this.host, null, -1);
      // Records come from the primary's own history: no client limits apply (as Redis' master client).
      this.ctx.kind = 'master';
    }
    return this.ctx;
  }
}
