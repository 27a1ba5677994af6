/**
 * The test mode's effect check (VIREO_CHECK_EFFECTS=1, on in the test
 * suites): after every command, a change to the dataset must have logged an
 * effect (or the AOF and replicas silently diverge) and must have sent the
 * change signal (or WATCH and blocked clients miss it). Table writes are
 * counted by the Db; in-place changes of a value are caught by digesting the
 * command's keys before and after write commands.
 */

import type { Engine } from '../engine/engine.js';
import type { Db } from '../engine/keyspace.js';
import type { Value } from '../types/value.js';
import { F, commandKeys, type Command } from '../commands/table.js';
import type { CommandContext } from '../commands/context.js';
import { valueDigest } from '../../persistence/digest.js';
import { StreamValue } from '../types/stream.js';
import { formatId } from '../types/stream-id.js';

/** Strings longer than this are not digested (the counters still apply). */
const DIGEST_STRING_LIMIT = 4096;
/** Compact encodings are small by their own limits, so digesting them costs little per command. */
const COMPACT = new Set(['listpack', 'intset']);

/** Streams this small are fingerprinted whole (entries, counters, groups) per write. */
const STREAM_CHECK_ENTRIES = 256;

function digestable(v: Value | undefined): boolean {
  if (v === undefined || typeof v === 'number' || typeof v === 'bigint') return true;
  if (typeof v === 'string') return v.length <= DIGEST_STRING_LIMIT;
  if (v instanceof StreamValue) return v.length <= STREAM_CHECK_ENTRIES && pendingCount(v) <= STREAM_CHECK_ENTRIES;
  return COMPACT.has(v.encoding());
}

function pendingCount(s: StreamValue): number {
  let n = 0;
  if (s.groups !== null) for (const g of s.groups.values()) n += g.pel.size + g.consumers.size;
  return n;
}

/**
 * What a stream's effects must reproduce: Redis' digest covers the entries
 * only, so the counters and the groups (last IDs, read counters, who holds
 * which pending entry, which consumers exist) are added. Delivery times and
 * counts and consumers' seen/active times are left out: Redis changes them
 * without propagating (a history read, a consumer's activity).
 */
function streamState(db: Db, key: string, s: StreamValue): string {
  const parts = [valueDigest(db, key), formatId(s.lastId), formatId(s.firstId), formatId(s.maxDeletedId), String(s.entriesAdded), String(s.length)];
  for (const [name, g] of s.sortedGroups()) {
    parts.push(`group ${name} ${formatId(g.lastId)} ${g.entriesRead}`);
    g.pel.forEachFrom(null, (k, nack) => parts.push(`${Buffer.from(k, 'latin1').toString('hex')}:${nack.consumer?.name}`) > 0);
    for (const c of g.sortedConsumers()) parts.push(`consumer ${c.name} ${c.pel.size}`);
  }
  return parts.join('\n');
}

function fingerprint(db: Db, key: string): string {
  const v = db.get(key);
  return v instanceof StreamValue ? streamState(db, key, v) : valueDigest(db, key);
}

export class EffectCheck {
  /** What went wrong, one line per command (the test harness fails on any). */
  readonly failures: string[] = [];
  private effects = 0;
  private changes = 0;
  private writes = 0;
  private digests: { key: string; digest: string }[] | null = null;
  private depth = 0;

  constructor(
    private readonly engine: Engine,
    private readonly onFailure: (msg: string) => void,
  ) {}

  private tableWrites(): number {
    let n = 0;
    for (const db of this.engine.dbs) n += db.writes;
    return n;
  }

  before(ctx: CommandContext, cmd: Command, argv: string[]): void {
    // EXEC's commands are checked as one unit with it.
    if (this.depth++ > 0) return;
    this.effects = this.engine.effectCount;
    this.changes = this.engine.changeCount;
    this.writes = this.tableWrites();
    this.digests = null;
    if (!(cmd.flags & F.WRITE)) return;
    const db = ctx.db;
    const digests: { key: string; digest: string }[] = [];
    for (const ref of commandKeys(cmd, argv)) {
      const key = argv[ref.pos];
      if (key === undefined || !digestable(db.get(key))) continue;
      digests.push({ key, digest: fingerprint(db, key) });
    }
    this.digests = digests;
  }

  after(ctx: CommandContext, cmd: Command, argv: string[]): void {
    if (--this.depth > 0) return;
    // Loading a dataset (DEBUG RELOAD / LOADAOF) rebuilds it from files, logging nothing by design.
    if (cmd.name === 'debug') return;
    const logged = this.engine.effectCount !== this.effects;
    const signalled = this.engine.changeCount !== this.changes;
    const wroteTables = this.tableWrites() !== this.writes;
    let changedKey: string | null = null;
    if (this.digests !== null) {
      for (const { key, digest } of this.digests) {
        if (fingerprint(ctx.db, key) !== digest) {
          changedKey = key;
          break;
        }
      }
    }
    const changed = wroteTables || changedKey !== null;
    const what = `'${argv.slice(0, 6).join(' ').slice(0, 200)}'`;
    if (changed && !logged) this.fail(`${what} changed the dataset${changedKey !== null ? ` (key ${changedKey})` : ''} but logged no effect`);
    if (changed && !signalled) this.fail(`${what} changed the dataset${changedKey !== null ? ` (key ${changedKey})` : ''} but sent no change signal`);
  }

  private fail(msg: string): void {
    this.failures.push(msg);
    this.onFailure(msg);
  }
}
