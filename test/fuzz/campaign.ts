/**
 * The fuzzing campaign: Vireo as a child process and redis-server 7.0 as
 * the reference, a canary and an RSS watch on Vireo (watchdog.ts), then
 *
 * 1. frames: protocol sessions (frames.ts) on many connections at once,
 *    the same bytes with the same write boundaries to both servers; each
 *    Vireo connection must get valid replies (or Redis' Protocol error and
 *    a close) and the same bytes as Redis;
 * 2. commands: episodes of random commands from every command's spec
 *    (commands.ts) on a prepared dataset (dataset.ts), pipelined in batches
 *    to both servers, every reply compared (differ.ts).
 *
 * A failure stops the run with the seed, where it happened, and a
 * shrunken sequence that reproduces it (written to a file for replay).
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { encodeCommand, type Reply } from '../helpers/resp.js';
import { startRedis, startVireoProcess, type ProcessHandle } from '../helpers/servers.js';
import { CommandGenerator } from './commands.js';
import { ConnectionClosed, RawConn, ReplyConn, ReplyTimeout, parseAt } from './conn.js';
import { KEYS, prepareCommands } from './dataset.js';
import { compareReplies, show } from './differ.js';
import { frameRequests, makeSession, writesOf, type Session } from './frames.js';
import { CONFIG_PARAMS, OPEN_ISSUES, RECHECKS, commandName, isRedis72Only } from './known.js';
import { Rng } from './rng.js';
import { printCommand, printable, shrink } from './shrink.js';
import { loadCommandSpecs } from './spec.js';
import { Watchdog } from './watchdog.js';

export interface CampaignOptions {
  seed: number;
  /** Protocol frames to send (0 skips the phase). */
  frames: number;
  /** Commands to send (0 skips the phase). */
  commands: number;
  /** Protocol sessions in flight at once. */
  concurrency?: number;
  /** Commands per episode (each starts from a fresh dataset). */
  episodeLength?: number;
  rssGrowthMb?: number;
  stallMs?: number;
  /** Run only this episode (reproduction). */
  onlyEpisode?: number;
  /** Run only this protocol session (reproduction). */
  onlySession?: number;
  shrinkBudgetMs?: number;
  log?: (line: string) => void;
}

export interface CampaignReport {
  seed: number;
  frames: number;
  sessions: number;
  commands: number;
  episodes: number;
  /** Differences tolerated because a pending fix covers them, by issue. */
  tolerated: Map<string, number>;
  /** Where redis-server itself stopped answering (not a Vireo failure). */
  referenceIssues: string[];
  /** Per command: how often it was sent, and how often the reference answered with an error. */
  coverage: Map<string, { sent: number; errors: number }>;
  /** The commands fuzzed (Vireo's COMMAND LIST). */
  fuzzed: Set<string>;
  maxCanaryMs: number;
  startRssMb: number;
  maxRssMb: number;
  framesMs: number;
  commandsMs: number;
}

export class FuzzFailure extends Error {}

const VIREO_ARGS = ['--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes', '--sanitize-dump-payload', 'yes', '--loglevel', 'warning'];
const REDIS_PARAMS = { 'sanitize-dump-payload': 'yes', loglevel: 'warning' };
const REPLY_TIMEOUT_MS = 5000;

class Servers {
  vireo!: ProcessHandle;
  redis!: ProcessHandle;
  watchdog!: Watchdog;

  constructor(private readonly opts: Required<Pick<CampaignOptions, 'stallMs' | 'rssGrowthMb'>>) {}

  async start(): Promise<void> {
    [this.vireo, this.redis] = await Promise.all([startVireoProcess(VIREO_ARGS), startRedis(REDIS_PARAMS)]);
    this.watchdog = new Watchdog(this.vireo.proc, this.vireo.port, this.opts);
  }

  async restartVireo(): Promise<void> {
    await this.watchdog.stop();
    await this.vireo.kill();
    this.vireo = await startVireoProcess(VIREO_ARGS);
    this.watchdog = new Watchdog(this.vireo.proc, this.vireo.port, this.opts);
  }

  async restartRedis(): Promise<void> {
    await this.redis.kill();
    this.redis = await startRedis(REDIS_PARAMS);
  }

  private restarting: Promise<void> | null = null;

  /** Restart redis-server once however many sessions saw this instance go. */
  async restartRedisOnce(gone: ProcessHandle): Promise<void> {
    if (this.redis !== gone) return;
    this.restarting ??= this.restartRedis().finally(() => {
      this.restarting = null;
    });
    await this.restarting;
  }

  /** The last lines the Vireo child printed (a crash's cause). */
  vireoOutput(): string {
    return this.vireo.output().split('\n').slice(-25).join('\n');
  }

  async stop(): Promise<void> {
    await this.watchdog.stop();
    await Promise.all([this.vireo.kill(), this.redis.kill()]);
  }
}

function exited(proc: ProcessHandle['proc']): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

function writeRepro(kind: string, seed: number, body: unknown): string {
  const file = path.join(os.tmpdir(), `vireo-fuzz-${kind}-${seed}-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(body, null, 1));
  return file;
}

// ---------------------------------------------------------------- frames

type SessionOutcome = { kind: 'ok' } | { kind: 'tolerated'; issue: string } | { kind: 'problem'; what: string; signature: string };

/** The last reply line a connection received: what a shrunk session must still show. */
function lastLine(bytes: Buffer): string {
  const lines = bytes.latin1Slice(Math.max(0, bytes.length - 300)).split('\r\n').filter((l) => l !== '');
  return lines[lines.length - 1] ?? '';
}

/** Replies Vireo sent are well-formed, and a close comes after a protocol error (or a QUIT). */
function validity(bytes: Buffer, closed: boolean, sent: Buffer): string | null {
  let pos = 0;
  let last: Reply | null = null;
  while (pos < bytes.length) {
    let r;
    try {
      r = parseAt(bytes, pos);
    } catch (e) {
      return `malformed reply bytes: ${(e as Error).message}`;
    }
    if ('need' in r) return `an incomplete reply at byte ${pos} of ${bytes.length}`;
    last = r.reply;
    pos = r.next;
  }
  if (closed && !/quit/i.test(sent.latin1Slice()) && !(last?.type === 'error' && last.value.startsWith('ERR Protocol error'))) {
    return `closed without a Protocol error (last reply ${last === null ? 'none' : show(last)})`;
  }
  return null;
}

/**
 * A server that closes a connection with unread input sends a TCP reset,
 * and the client may then lose the replies it had not read yet (Linux drops
 * them). So a difference where a side closed is checked again, paced:
 * 2 KB writes, each after both servers were quiet for 20 ms, none after a
 * close.
 */
async function runSession(session: Session, servers: Servers, db: number): Promise<SessionOutcome> {
  const first = await runSessionOnce(session, servers, db, false);
  if (first.kind !== 'problem' || !first.closed) return first;
  return runSessionOnce(session, servers, db, true);
}

/** Each session runs on a database of its own (one per worker), emptied first: its replies depend on nothing else. */
async function openSessionConn(port: number, db: number): Promise<RawConn> {
  const c = await RawConn.connect(port);
  const setup = Buffer.concat([encodeCommand(['SELECT', String(db)]), encodeCommand(['FLUSHDB'])]);
  await c.write(setup);
  await c.until(10, REPLY_TIMEOUT_MS);
  if (c.bytes().latin1Slice() !== '+OK\r\n+OK\r\n') throw new Error(`session setup failed: ${JSON.stringify(c.bytes().latin1Slice())}`);
  c.clear();
  return c;
}

async function runSessionOnce(session: Session, servers: Servers, db: number, paced: boolean): Promise<SessionOutcome & { closed?: boolean }> {
  const [r, v] = await Promise.all([openSessionConn(servers.redis.port, db), openSessionConn(servers.vireo.port, db)]);
  try {
    const writes = writesOf(session, paced);
    for (const w of writes) {
      if (r.closed && v.closed) break;
      await Promise.all([r.write(w), v.write(w)]);
      if (paced) await Promise.all([r.settle(20, 1000), v.settle(20, 1000)]);
      else if (writes.length > 1) await new Promise((res) => setImmediate(res));
    }
    await r.settle(30, 5000);
    await v.until(r.received, 3000);
    await v.settle(30, 1000);
    const same = () => r.bytes().equals(v.bytes()) && r.closed === v.closed;
    if (!same()) await Promise.all([r.settle(300, 3000), v.settle(300, 3000)]);
    const sent = Buffer.concat(session.frames);
    const invalid = validity(v.bytes(), v.closed, sent);
    if (invalid !== null) return { kind: 'problem', what: invalid, signature: invalid.split(' ')[0]!, closed: r.closed || v.closed };
    if (same()) return { kind: 'ok' };
    const requests = frameRequests(sent);
    for (const p of OPEN_ISSUES) if (p.tolerateFrames?.(requests, r.bytes(), v.bytes()) === true) return { kind: 'tolerated', issue: p.issue };
    return {
      kind: 'problem',
      closed: r.closed || v.closed,
      signature: `${lastLine(r.bytes())} ${r.closed} / ${lastLine(v.bytes())} ${v.closed}`,
      what: `replies differ\n  redis (${r.closed ? 'closed' : 'open'}): ${printable(r.bytes().latin1Slice(), 600)}\n  vireo (${v.closed ? 'closed' : 'open'}): ${printable(v.bytes().latin1Slice(), 600)}`,
    };
  } finally {
    r.close();
    v.close();
  }
}

function sessionFor(seed: number, index: number): Session {
  return makeSession(new Rng(seed, 1, index));
}

async function framesPhase(servers: Servers, opts: Required<CampaignOptions>, report: CampaignReport): Promise<void> {
  const started = Date.now();
  let next = opts.onlySession >= 0 ? opts.onlySession : 0;
  const last = opts.onlySession >= 0 ? opts.onlySession : Infinity;
  const recent: number[] = [];
  const inFlight = new Set<number>();
  let failure: { what: string; session: number | null; signature: string } | null = null;
  const worker = async (db: number) => {
    while (failure === null && report.frames < opts.frames && next <= last) {
      const index = next++;
      const session = sessionFor(opts.seed, index);
      inFlight.add(index);
      report.frames += session.frames.length;
      report.sessions++;
      let outcome: SessionOutcome;
      const redis = servers.redis;
      try {
        outcome = await runSession(session, servers, db);
      } catch (e) {
        // A connection failed: Vireo's failure is the watchdog's to report; redis-server's is noted and it restarts.
        if (servers.watchdog.failure === null && exited(redis.proc)) {
          report.referenceIssues.push(`session ${index}: redis-server exited (${(e as Error).message})`);
          await servers.restartRedisOnce(redis);
          outcome = { kind: 'ok' };
        } else {
          outcome = { kind: 'problem', what: `connection failed: ${(e as Error).message}`, signature: 'connection' };
        }
      }
      inFlight.delete(index);
      recent.push(index);
      if (recent.length > opts.concurrency * 3) recent.shift();
      if (outcome.kind === 'tolerated') report.tolerated.set(outcome.issue, (report.tolerated.get(outcome.issue) ?? 0) + 1);
      if (servers.watchdog.failure !== null) failure ??= { what: servers.watchdog.failure, session: null, signature: '' };
      else if (outcome.kind === 'problem') failure ??= { what: outcome.what, session: index, signature: outcome.signature };
      if (report.sessions % 2000 === 0) opts.log(`frames: ${report.frames} frames, ${report.sessions} sessions, ${Math.round((Date.now() - started) / 1000)} s`);
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency }, (_, db) => worker(db)));
  report.framesMs = Date.now() - started;
  if (failure === null) return;
  const f: { what: string; session: number | null; signature: string } = failure;
  const serverDied = f.session === null;
  const output = serverDied ? servers.vireoOutput() : '';
  const candidates = f.session !== null ? [f.session] : [...inFlight, ...recent];
  await failFrames(servers, opts, f.what, f.signature, candidates, serverDied, output);
}

/** Find which session did it, shrink its frames, and throw the report. */
async function failFrames(
  servers: Servers,
  opts: Required<CampaignOptions>,
  what: string,
  signature: string,
  candidates: number[],
  serverProblem: boolean,
  output: string,
): Promise<never> {
  const deadline = Date.now() + opts.shrinkBudgetMs;
  const reproduces = async (sessions: Session[]): Promise<boolean> => {
    if (serverProblem) await servers.restartVireo();
    const outcomes = await Promise.all(sessions.map((s, db) => runSession(s, servers, db).catch((): SessionOutcome => ({ kind: 'problem', what: 'connection failed', signature: '' }))));
    await new Promise((r) => setTimeout(r, serverProblem ? 1500 : 0));
    return serverProblem ? servers.watchdog.failure !== null : outcomes.some((o) => o.kind === 'problem' && o.signature === signature);
  };
  // Bisect the candidate sessions down to one.
  let suspects = candidates.map((i) => ({ index: i, session: sessionFor(opts.seed, i) }));
  while (suspects.length > 1 && Date.now() < deadline) {
    const half = suspects.slice(0, Math.ceil(suspects.length / 2));
    const rest = suspects.slice(half.length);
    if (await reproduces(half.map((s) => s.session))) suspects = half;
    else if (await reproduces(rest.map((s) => s.session))) suspects = rest;
    else break;
  }
  let lines: string[] = [];
  let file = '';
  if (suspects.length === 1) {
    const { index, session } = suspects[0]!;
    let base: Session | null = null;
    if (await reproduces([{ ...session, cuts: [] }])) {
      const frames = await shrink(session.frames, (c) => reproduces([{ ...session, frames: c, cuts: [] }]), Math.max(0, deadline - Date.now()));
      base = { ...session, frames, cuts: [] };
    } else if (await reproduces([session])) {
      base = session;
    }
    file = writeRepro('frames', opts.seed, { seed: opts.seed, session: index, frames: (base ?? session).frames.map((b) => b.latin1Slice()), cuts: (base ?? session).cuts });
    lines = [
      `  session ${index} (reproduce: VIREO_FUZZ_SEED=${opts.seed} VIREO_FUZZ_SESSION=${index} npm run fuzz -- --frames-only)`,
      base === null ? '  (did not reproduce alone; the original session follows)' : `  shrunk to ${(base ?? session).frames.length} frames:`,
      ...(base ?? session).frames.slice(0, 40).map((b) => `    ${printable(b.latin1Slice(), 200)}`),
      `  full frames: ${file}`,
    ];
  } else {
    lines = [`  could not single out one session among ${candidates.join(', ')} (VIREO_FUZZ_SEED=${opts.seed} VIREO_FUZZ_SESSION=<n>)`];
  }
  throw new FuzzFailure([`FUZZ FAILURE (frames): ${what}`, `  seed ${opts.seed}`, ...lines, ...(output ? ['  server output:', output] : [])].join('\n'));
}

// -------------------------------------------------------------- commands

/** One fuzzing connection to each server, with what the harness must know of its state. */
class Stream {
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
class Executor {
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
      const verdict = r.verdict(await sideCall(this.stream.redisSide, db, ...r.commands(args)));
      if (verdict === false) continue;
      v = verdict === true ? { kind: 'equal' } : await compareReplies(args, verdict, b, () => this.typeOf(args, db));
      if (v.kind === 'equal') this.report.tolerated.set(r.why, (this.report.tolerated.get(r.why) ?? 0) + 1);
    }
    if (v.kind === 'tolerated') this.report.tolerated.set(v.issue, (this.report.tolerated.get(v.issue) ?? 0) + 1);
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
  }
}

interface Episode {
  index: number;
  /** Everything sent to both servers since the reset, in order. */
  log: string[][];
}

/** Back to a known state: connection, data, configuration. */
async function resetState(ex: Executor, defaults: { redis: string[][]; vireo: string[][] }): Promise<void> {
  const s = ex.stream;
  const base = [['RESET'], ['FLUSHALL'], ['DEBUG', 'SET-ACTIVE-EXPIRE', '1'], ['CLIENT', 'UNPAUSE']];
  const send = async (conn: ReplyConn, cmds: string[][]) => {
    conn.write(Buffer.concat(cmds.map((c) => encodeCommand(c))));
    for (let i = 0; i < cmds.length; i++) await conn.next(REPLY_TIMEOUT_MS);
  };
  await Promise.all([send(s.redis, [...base, ...defaults.redis]), send(s.vireo, [...base, ...defaults.vireo])]);
  s.db = 0;
  s.queued = null;
}

/** CONFIG SET commands that put every parameter the fuzzer may change back to its start value. */
async function configDefaults(conn: ReplyConn): Promise<string[][]> {
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
      if (inMulti && (name === 'spop' || isRedis72Only(args))) continue;
      if (name === 'lcs') {
        if (inMulti) continue;
        if (batch.length > 0) break;
        if (!(await ex.lcsAllowed(args))) args = ['PING', 'lcs-skipped'];
      }
      batch.push(args);
      episode.log.push(args);
      if (name === 'multi' && args.length === 1) inMulti = true;
      if (name === 'exec' || name === 'discard' || name === 'reset') inMulti = false;
      // The batch ends after commands whose check looks at the state right after them: SPOP (repaired),
      // OBJECT ENCODING (a 7.0/7.2 encoding difference is accepted for sets only: TYPE is asked then).
      if (name === 'spop' || name === 'lcs' || name === 'object|encoding') break;
    }
    sent += batch.length;
    await ex.run(batch);
  }
  return sent;
}

/** Replay a sequence from a reset state, one command at a time. */
async function replay(ex: Executor, defaults: { redis: string[][]; vireo: string[][] }, seq: string[][]): Promise<void> {
  await resetState(ex, defaults);
  for (const args of seq) {
    if (commandName(args) === 'lcs' && !(await ex.lcsAllowed(args))) continue;
    await ex.run([args]);
  }
}

async function commandsPhase(servers: Servers, opts: Required<CampaignOptions>, report: CampaignReport): Promise<void> {
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

// ----------------------------------------------------------------- entry

export function defaults(opts: CampaignOptions): Required<CampaignOptions> {
  return {
    concurrency: 16, // at most the 16 databases: one per session in flight
    episodeLength: 300,
    rssGrowthMb: 1024,
    stallMs: 1000,
    onlyEpisode: -1,
    onlySession: -1,
    shrinkBudgetMs: 60000,
    log: (line) => console.log(`[fuzz] ${line}`),
    ...opts,
  };
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const opts = defaults(options);
  const servers = new Servers(opts);
  await servers.start();
  const report: CampaignReport = {
    seed: opts.seed,
    frames: 0,
    sessions: 0,
    commands: 0,
    episodes: 0,
    tolerated: new Map(),
    referenceIssues: [],
    coverage: new Map(),
    fuzzed: new Set(),
    maxCanaryMs: 0,
    startRssMb: Math.round(servers.watchdog.startRssKb / 1024),
    maxRssMb: 0,
    framesMs: 0,
    commandsMs: 0,
  };
  try {
    if (opts.frames > 0) await framesPhase(servers, opts, report);
    if (opts.commands > 0) await commandsPhase(servers, opts, report);
    await new Promise((r) => setTimeout(r, 300));
    if (servers.watchdog.failure !== null) throw new FuzzFailure(`FUZZ FAILURE: ${servers.watchdog.failure} (seed ${opts.seed}, after the run)`);
    report.maxCanaryMs = servers.watchdog.maxCanaryMs;
    report.maxRssMb = Math.round(servers.watchdog.maxRssKb / 1024);
    return report;
  } finally {
    await servers.stop();
  }
}

/** Replay a repro file written by a failure. */
export async function replayFile(file: string, options: CampaignOptions): Promise<void> {
  const opts = defaults(options);
  const body = JSON.parse(fs.readFileSync(file, 'utf8')) as { commands?: string[][]; frames?: string[]; cuts?: number[] };
  const servers = new Servers(opts);
  await servers.start();
  try {
    if (body.frames !== undefined) {
      const outcome = await runSession({ frames: body.frames.map((f) => Buffer.from(f, 'latin1')), cuts: body.cuts ?? [] }, servers, 0);
      await new Promise((r) => setTimeout(r, 1500));
      if (servers.watchdog.failure !== null) throw new FuzzFailure(`replay: ${servers.watchdog.failure}\n${servers.vireoOutput()}`);
      if (outcome.kind === 'problem') throw new FuzzFailure(`replay: ${outcome.what}`);
      return;
    }
    const stream = await Stream.open(servers);
    const report = { tolerated: new Map(), referenceIssues: [], coverage: new Map() } as unknown as CampaignReport;
    const ex = new Executor(servers, stream, report);
    const cfg = { redis: await configDefaults(stream.redisSide), vireo: await configDefaults(stream.vireoSide) };
    try {
      await replay(ex, cfg, body.commands ?? []);
    } catch (e) {
      throw new FuzzFailure(`replay: ${(e as Error).message}\n${servers.vireoOutput()}`);
    } finally {
      stream.close();
    }
  } finally {
    await servers.stop();
  }
}
