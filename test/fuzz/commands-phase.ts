/**
 * The command phase: episodes of random commands from every command's spec
 * (commands.ts) on a prepared dataset (dataset.ts), pipelined in batches to
 * both servers, every reply compared (differ.ts); SPOP's random pick is
 * copied back into Vireo's set, LCS of long strings is skipped.
 */

import { encodeCommand, type Reply } from '../helpers/resp.js';
import { consumersLike72 } from '../helpers/stream-mask.js';
import { compareIds, parseId } from '../../src/types/stream-id.js';
import { CommandGenerator } from './commands.js';
import { ConnectionClosed, ReplyConn, ReplyTimeout } from './conn.js';
import { KEYS, prepareCommands } from './dataset.js';
import { compareReplies } from './differ.js';
import { CONFIG_PARAMS, RECHECKS, commandName, isRedis72Only } from './known.js';
import { Rng } from './rng.js';
import { printCommand, shrink } from './shrink.js';
import { loadCommandSpecs } from './spec.js';
import { FuzzFailure, REPLY_TIMEOUT_MS, writeRepro, type CampaignOptions, type CampaignReport, type Servers } from './servers.js';

/** One fuzzing connection to each server, with what the harness must know of its state. */
export class Stream {
  db = 0;
  /** Commands queued since MULTI, or null outside a transaction. */
  queued: string[][] | null = null;

  private constructor(
    readonly redis: ReplyConn,
    readonly vireo: ReplyConn,
    /** Side connections for repairs and guards, so the fuzzing connections' state stays theirs. */
    readonly redisSide: ReplyConn,
    readonly vireoSide: ReplyConn,
  ) {}

  static async open(servers: Servers): Promise<Stream> {
    const [a, b, c, d] = await Promise.all([
      ReplyConn.connect(servers.redis.port),
      ReplyConn.connect(servers.vireo.port),
      ReplyConn.connect(servers.redis.port),
      ReplyConn.connect(servers.vireo.port),
    ]);
    return new Stream(a, b, c, d);
  }

  close(): void {
    for (const c of [this.redis, this.vireo, this.redisSide, this.vireoSide]) c.close();
  }
}

async function sideCall(conn: ReplyConn, db: number, ...cmds: string[][]): Promise<Reply[]> {
  conn.write(Buffer.concat([encodeCommand(['SELECT', String(db)]), ...cmds.map((c) => encodeCommand(c))]));
  await conn.next(REPLY_TIMEOUT_MS);
  const out: Reply[] = [];
  for (let i = 0; i < cmds.length; i++) out.push(await conn.next(REPLY_TIMEOUT_MS));
  return out;
}

class Mismatch extends Error {
  constructor(
    readonly args: string[],
    readonly detail: string,
  ) {
    super(detail);
  }
}
class VireoProblem extends Error {}
class ReferenceProblem extends Error {}

function membersOf(r: Reply): string[] | null {
  if (r.type === 'bulk') return r.value === null ? [] : [r.value];
  if ((r.type === 'array' || r.type === 'set') && r.value !== null) return r.value.map((x) => (x.type === 'bulk' ? String(x.value) : ''));
  return null;
}

/** Runs commands on both servers, compares, repairs SPOP's random picks, and guards LCS. */
export class Executor {
  constructor(
    readonly servers: Servers,
    readonly stream: Stream,
    readonly report: CampaignReport,
  ) {}

  private async typeOf(args: string[], db: number): Promise<string> {
    const key = args[2];
    if (key === undefined) return 'none';
    const [t] = await sideCall(this.stream.vireoSide, db, ['TYPE', key]);
    return t!.type === 'simple' ? t!.value : 'none';
  }

  private count(args: string[], a: Reply): void {
    const name = commandName(args);
    const seen = this.report.coverage.get(name) ?? { sent: 0, errors: 0 };
    seen.sent++;
    if (a.type === 'error') seen.errors++;
    this.report.coverage.set(name, seen);
  }

  private async check(args: string[], a: Reply, b: Reply, db: number): Promise<void> {
    this.count(args, a);
    let v = await compareReplies(args, a, b, () => this.typeOf(args, db));
    for (const r of RECHECKS) {
      if (v.kind !== 'mismatch' || !r.applies(args, a)) continue;
      const side = r.side === 'vireo' ? this.stream.vireoSide : this.stream.redisSide;
      const verdict = r.verdict(await sideCall(side, db, ...r.commands(args)), a, b);
      if (verdict === false) continue;
      v = verdict === true ? { kind: 'equal' } : await compareReplies(args, verdict, b, () => this.typeOf(args, db));
      if (v.kind === 'equal') this.report.tolerated.set(r.why, (this.report.tolerated.get(r.why) ?? 0) + 1);
    }
    if (v.kind === 'tolerated') {
      this.report.tolerated.set(v.issue, (this.report.tolerated.get(v.issue) ?? 0) + 1);
      if (v.resync.length > 0) await Promise.all([sideCall(this.stream.redisSide, db, ...v.resync), sideCall(this.stream.vireoSide, db, ...v.resync)]);
    }
    if (v.kind === 'mismatch') throw new Mismatch(args, `reply mismatch for ${printCommand(args)}\n  redis: ${v.redis}\n  vireo: ${v.vireo}`);
  }

  /** SPOP took different members on each side: give Vireo's set the reference's remaining members. */
  private async repairSpop(args: string[], a: Reply, b: Reply, db: number): Promise<void> {
    const popped = { redis: membersOf(a), vireo: membersOf(b) };
    if (popped.redis === null || popped.vireo === null || args[1] === undefined) return;
    const same = [...popped.redis].sort().join('\x00') === [...popped.vireo].sort().join('\x00');
    if (same) return;
    const fix: string[][] = [];
    if (popped.vireo.length > 0) fix.push(['SADD', args[1], ...popped.vireo]);
    if (popped.redis.length > 0) fix.push(['SREM', args[1], ...popped.redis]);
    await sideCall(this.stream.vireoSide, db, ...fix);
  }

  /** LCS allocates (|a|+1)(|b|+1) cells in Redis: skip the pairs of long strings that would make the reference allocate gigabytes. */
  /**
   * Wait until the reference runs no BGSAVE or BGREWRITEAOF: while Redis has
   * a child process it updates no key's access time (hasActiveChildProcess),
   * so OBJECT IDLETIME would depend on how long its fork took. (Vireo's
   * copy-on-write snapshots change nothing of the kind.)
   */
  async waitBackgroundJobs(): Promise<void> {
    const busy = async () => {
      const [info] = await sideCall(this.stream.redisSide, 0, ['INFO', 'persistence']);
      const text = info!.type === 'bulk' || info!.type === 'verbatim' ? String(info!.value) : '';
      return /(rdb_bgsave_in_progress|aof_rewrite_in_progress|aof_rewrite_scheduled):1/.test(text);
    };
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    while (Date.now() < deadline && (await busy())) await new Promise((r) => setTimeout(r, 10));
  }

  /** Commands checked against the reference's state before they are sent (PRECHECKED). */
  async allowed(args: string[]): Promise<boolean> {
    const name = commandName(args);
    if (name === 'lcs') return this.lcsAllowed(args);
    if (name === 'xsetid') return this.xsetidAllowed(args);
    return true;
  }

  /**
   * Redis 7.2 refuses an XSETID below the stream's max deleted ID; 7.0 sets
   * it, and the two streams would differ from then on: such XSETIDs are not sent.
   */
  async xsetidAllowed(args: string[]): Promise<boolean> {
    if (args.length < 3) return true;
    const id = parseId(args[2]!, 0, true);
    if (id === null) return true;
    const [info] = await sideCall(this.stream.redisSide, this.stream.db, ['XINFO', 'STREAM', args[1]!]);
    if (info!.type !== 'array' || info!.value === null) return true;
    const items = info!.value;
    const at = items.findIndex((r) => r.type === 'bulk' && r.value === 'max-deleted-entry-id');
    const max = at >= 0 ? parseId(String((items[at + 1] as { value: string }).value), 0, true) : null;
    return max === null || compareIds(id.id, max.id) >= 0;
  }

  async lcsAllowed(args: string[]): Promise<boolean> {
    if (args.length < 3) return true;
    const lens = await sideCall(this.stream.redisSide, this.stream.db, ['STRLEN', args[1]!], ['STRLEN', args[2]!]);
    const n = lens.map((r) => (r.type === 'integer' ? Number(r.value) : 0));
    return (n[0]! + 1) * (n[1]! + 1) <= 4e6;
  }

  private async reply(conn: ReplyConn, side: 'redis' | 'vireo', args: string[]): Promise<Reply> {
    try {
      return await conn.next(REPLY_TIMEOUT_MS);
    } catch (e) {
      const what = e instanceof ReplyTimeout ? `no reply within ${REPLY_TIMEOUT_MS} ms` : e instanceof ConnectionClosed ? 'the connection was closed' : String(e);
      if (side === 'redis') throw new ReferenceProblem(`redis-server: ${what} after ${printCommand(args)}`);
      throw new VireoProblem(`${what} after ${printCommand(args)}`);
    }
  }

  /** Send a batch pipelined to both, compare each reply in order. */
  async run(batch: string[][]): Promise<void> {
    const bytes = Buffer.concat(batch.map((c) => encodeCommand(c)));
    const s = this.stream;
    s.redis.write(bytes);
    s.vireo.write(bytes);
    for (const args of batch) {
      const a = await this.reply(s.redis, 'redis', args);
      const b = await this.reply(s.vireo, 'vireo', args);
      await this.track(args, a, b);
    }
    if (this.servers.watchdog.failure !== null) throw new VireoProblem(this.servers.watchdog.failure);
  }

  /** Follow MULTI, SELECT and RESET as the reference answered them; compare; repair SPOP. */
  private async track(args: string[], a: Reply, b: Reply): Promise<void> {
    const s = this.stream;
    const name = commandName(args);
    const ok = a.type === 'simple' && a.value === 'OK';
    if (name === 'reset') {
      s.db = 0;
      s.queued = null;
    } else if (s.queued !== null && name === 'exec') {
      const queued = s.queued;
      s.queued = null;
      const ra = a.type === 'array' ? a.value : null;
      const rb = b.type === 'array' ? b.value : null;
      if (ra !== null && rb !== null && ra.length === queued.length && rb.length === queued.length) {
        this.count(args, a);
        for (let i = 0; i < queued.length; i++) await this.executed(queued[i]!, ra[i]!, rb[i]!);
        return;
      }
    } else if (s.queued !== null && name === 'discard') {
      s.queued = null;
    } else if (s.queued !== null) {
      if (a.type === 'simple' && a.value === 'QUEUED') s.queued.push(args);
    } else if (name === 'multi' && ok) {
      s.queued = [];
    } else {
      await this.executed(args, a, b);
      return;
    }
    await this.check(args, a, b, s.db);
  }

  private async executed(args: string[], a: Reply, b: Reply): Promise<void> {
    const name = commandName(args);
    const db = this.stream.db;
    if (name === 'select' && a.type === 'simple' && a.value === 'OK') this.stream.db = Number(args[1]);
    await this.check(args, a, b, db);
    if (name === 'spop') await this.repairSpop(args, a, b, db);
    if (CONSUMER_CREATORS.has(name)) await this.repairConsumer(args, a, db);
  }

  /**
   * Redis 7.2's XREADGROUP, XCLAIM and XAUTOCLAIM create their consumer even
   * when they deliver or claim nothing; the 7.0 reference only when they do.
   * The reference gets the consumer by XGROUP CREATECONSUMER, so both hold
   * the same consumers afterwards (test/helpers/stream-mask.ts does the same).
   */
  private async repairConsumer(args: string[], a: Reply, db: number): Promise<void> {
    const cmds = consumersLike72(args, a);
    if (cmds.length > 0) await sideCall(this.stream.redisSide, db, ...cmds);
  }
}

interface Episode {
  index: number;
  /** Everything sent to both servers since the reset, in order. */
  log: string[][];
}

/** Commands the reference's state decides whether to send (Executor.allowed): each alone in its batch. */
const PRECHECKED = new Set(['lcs', 'xsetid']);
const BATCH_ENDERS = new Set(['spop', 'lcs', 'xsetid', 'restore', 'object|encoding', 'object|idletime', 'debug|digest-value', 'sort', 'sort_ro', 'bgsave', 'bgrewriteaof', 'xreadgroup', 'xclaim', 'xautoclaim']);
/** Commands whose consumer creation the reference (7.0) is brought in line with after them (repairConsumer). */
const CONSUMER_CREATORS = new Set(['xreadgroup', 'xclaim', 'xautoclaim']);
const BACKGROUND_JOBS = new Set(['bgsave', 'bgrewriteaof']);

/** Back to a known state: connection, data, configuration. */
async function resetState(ex: Executor, defaults: { redis: string[][]; vireo: string[][] }): Promise<void> {
  const s = ex.stream;
  const base = [['RESET'], ['FLUSHALL'], ['FUNCTION', 'FLUSH'], ['DEBUG', 'SET-ACTIVE-EXPIRE', '1'], ['CLIENT', 'UNPAUSE']];
  const send = async (conn: ReplyConn, cmds: string[][]) => {
    conn.write(Buffer.concat(cmds.map((c) => encodeCommand(c))));
    for (let i = 0; i < cmds.length; i++) await conn.next(REPLY_TIMEOUT_MS);
  };
  await Promise.all([send(s.redis, [...base, ...defaults.redis]), send(s.vireo, [...base, ...defaults.vireo])]);
  s.db = 0;
  s.queued = null;
}

/** CONFIG SET commands that put every parameter the fuzzer may change back to its start value. */
export async function configDefaults(conn: ReplyConn): Promise<string[][]> {
  const out: string[][] = [];
  for (const name of Object.keys(CONFIG_PARAMS)) {
    conn.write(encodeCommand(['CONFIG', 'GET', name]));
    const r = await conn.next(REPLY_TIMEOUT_MS);
    if (r.type === 'array' && r.value !== null && r.value.length === 2 && r.value[1]!.type === 'bulk') out.push(['CONFIG', 'SET', name, String(r.value[1]!.value)]);
  }
  return out;
}

/** DUMP payloads of every prepared key from both servers: RESTORE's valid inputs (the generator also mutates them). */
async function collectPayloads(ex: Executor, seed: number): Promise<string[]> {
  await ex.run(prepareCommands(new Rng(seed, 3)));
  const payloads: string[] = [];
  for (const conn of [ex.stream.redisSide, ex.stream.vireoSide]) {
    const replies = await sideCall(conn, 0, ...KEYS.map((k) => ['DUMP', k]));
    for (const r of replies) if (r.type === 'bulk' && r.value !== null) payloads.push(r.value);
  }
  return payloads;
}

/** Generate and run one episode; returns the commands it sent. Throws Mismatch/VireoProblem/ReferenceProblem. */
async function runEpisode(ex: Executor, gen: CommandGenerator, seed: number, index: number, length: number, episode: Episode, defaults: { redis: string[][]; vireo: string[][] }): Promise<number> {
  const rng = new Rng(seed, 2, index);
  await resetState(ex, defaults);
  const prepare = prepareCommands(rng);
  episode.log.push(...prepare);
  await ex.run(prepare);
  let sent = 0;
  let inMulti = false;
  while (sent < length) {
    const size = rng.range(1, 32);
    const batch: string[][] = [];
    while (batch.length < size && sent + batch.length < length) {
      let args = gen.next(rng);
      const name = commandName(args);
      // Inside MULTI: a random pop would change what later queued commands see before the harness can
      // repair it, and 7.0 refuses 7.2 additions at queue time (aborting the transaction).
      if (inMulti && (name === 'spop' || CONSUMER_CREATORS.has(name) || isRedis72Only(args))) continue;
      if (PRECHECKED.has(name)) {
        if (inMulti) continue;
        if (batch.length > 0) break;
        if (!(await ex.allowed(args))) args = ['PING', `${name}-skipped`];
      }
      batch.push(args);
      episode.log.push(args);
      if (name === 'multi' && args.length === 1) inMulti = true;
      if (name === 'exec' || name === 'discard' || name === 'reset') inMulti = false;
      // The batch ends after commands whose check may look at the state right after them: SPOP (repaired),
      // OBJECT ENCODING (TYPE is asked), RESTORE (a tolerated difference may resync the key), and those
      // RECHECKS may run again on the reference.
      if (BATCH_ENDERS.has(name)) break;
    }
    sent += batch.length;
    await ex.run(batch);
    // (EXEC too: a queued BGSAVE starts there.)
    if (batch.some((c) => BACKGROUND_JOBS.has(commandName(c)) || commandName(c) === 'exec')) await ex.waitBackgroundJobs();
  }
  return sent;
}

/** Replay a sequence from a reset state, one command at a time. */
export async function replay(ex: Executor, defaults: { redis: string[][]; vireo: string[][] }, seq: string[][]): Promise<void> {
  await resetState(ex, defaults);
  for (const args of seq) {
    if (PRECHECKED.has(commandName(args)) && !(await ex.allowed(args))) continue;
    await ex.run([args]);
  }
}

export async function commandsPhase(servers: Servers, opts: Required<CampaignOptions>, report: CampaignReport): Promise<void> {
  const started = Date.now();
  const specs = await loadCommandSpecs(servers.redis.port, servers.vireo.port);
  for (const spec of specs) report.fuzzed.add(spec.words.join('|'));
  let stream = await Stream.open(servers);
  let ex = new Executor(servers, stream, report);
  const defaults = { redis: await configDefaults(stream.redisSide), vireo: await configDefaults(stream.vireoSide) };
  const payloads = await collectPayloads(ex, opts.seed);
  const gen = new CommandGenerator(specs, payloads);
  let index = opts.onlyEpisode >= 0 ? opts.onlyEpisode : 0;
  try {
    while (report.commands < opts.commands && (opts.onlyEpisode < 0 || index === opts.onlyEpisode)) {
      const episode: Episode = { index, log: [] };
      try {
        report.commands += await runEpisode(ex, gen, opts.seed, index, opts.episodeLength, episode, defaults);
        report.episodes++;
      } catch (e) {
        if (e instanceof ReferenceProblem) {
          // Redis itself stopped answering: not Vireo's failure. Note it, restart the reference, go on.
          report.referenceIssues.push(`episode ${index}: ${e.message}`);
          opts.log(`reference problem (ignored): episode ${index}: ${e.message}`);
          stream.close();
          await servers.restartRedis();
          stream = await Stream.open(servers);
          ex = new Executor(servers, stream, report);
          defaults.redis = await configDefaults(stream.redisSide);
        } else {
          report.commandsMs = Date.now() - started;
          await failCommands(e as Error, servers, opts, episode, defaults, stream, report);
        }
      }
      index++;
      if (report.episodes % 200 === 0) opts.log(`commands: ${report.commands} commands, ${report.episodes} episodes, ${Math.round((Date.now() - started) / 1000)} s`);
    }
  } finally {
    stream.close();
  }
  report.commandsMs = Date.now() - started;
}

async function failCommands(
  error: Error,
  servers: Servers,
  opts: Required<CampaignOptions>,
  episode: Episode,
  defaults: { redis: string[][]; vireo: string[][] },
  stream: Stream,
  report: CampaignReport,
): Promise<never> {
  const isMismatch = error instanceof Mismatch;
  const output = isMismatch ? '' : servers.vireoOutput();
  const failingName = isMismatch ? commandName(error.args) : null;
  const deadline = opts.shrinkBudgetMs;
  stream.close();
  let minimal = episode.log;
  let shrunk = false;
  let shrunkDetail = '';
  try {
    if (isMismatch) {
      let s = await Stream.open(servers);
      const reproduces = async (seq: string[][]) => {
        const ex = new Executor(servers, s, report);
        try {
          await replay(ex, defaults, seq);
          return false;
        } catch (e) {
          if (e instanceof Mismatch && commandName(e.args) === failingName) {
            shrunkDetail = e.message;
            return true;
          }
          s.close();
          s = await Stream.open(servers);
          return false;
        }
      };
      if (await reproduces(episode.log)) {
        minimal = await shrink(episode.log, reproduces, deadline);
        shrunk = true;
      }
      s.close();
    } else {
      const reproduces = async (seq: string[][]) => {
        await servers.restartVireo();
        const conn = await ReplyConn.connect(servers.vireo.port);
        try {
          for (const args of [['FLUSHALL'], ...seq]) {
            conn.write(encodeCommand(args));
            await conn.next(2000);
          }
          await new Promise((r) => setTimeout(r, 1500));
        } catch {
          /* closed or stalled: the watchdog says which */
        } finally {
          conn.close();
        }
        return servers.watchdog.failure !== null;
      };
      if (await reproduces(episode.log)) {
        // Most crashes need only the last command or two: try those first.
        const tail = episode.log.slice(-1);
        minimal = (await reproduces(tail)) ? tail : await shrink(episode.log, reproduces, deadline);
        shrunk = true;
      }
    }
  } catch (e) {
    opts.log(`shrinking stopped: ${(e as Error).message}`);
  }
  const file = writeRepro('commands', opts.seed, { seed: opts.seed, episode: episode.index, kind: isMismatch ? 'mismatch' : 'vireo', commands: minimal });
  const lines = [
    `FUZZ FAILURE (commands): ${error.message}`,
    `  seed ${opts.seed}, episode ${episode.index} (reproduce: VIREO_FUZZ_SEED=${opts.seed} VIREO_FUZZ_EPISODE=${episode.index} npm run fuzz -- --commands-only)`,
    `  ${shrunk ? `shrunk to ${minimal.length} commands` : `did not reproduce alone; the episode's ${minimal.length} commands`} (replay: VIREO_FUZZ_REPLAY=${file} npm run fuzz):`,
    ...minimal.slice(-60).map((c) => `    ${printCommand(c)}`),
    ...(shrunkDetail && shrunkDetail !== error.message ? [`  which ends in: ${shrunkDetail}`] : []),
    ...(output ? ['  server output:', output] : []),
  ];
  throw new FuzzFailure(lines.join('\n'));
}

