/**
 * The frame phase: protocol sessions (frames.ts) on many connections at
 * once, the same bytes with the same write boundaries to both servers; each
 * Vireo connection must get well-formed replies (or Redis' Protocol error
 * and a close) and the same bytes as Redis.
 */

import { encodeCommand, type Reply } from '../helpers/resp.js';
import { RawConn, parseAt } from './conn.js';
import { show } from './differ.js';
import { frameRequests, makeSession, writesOf, type Session } from './frames.js';
import { OPEN_ISSUES } from './known.js';
import { Rng } from './rng.js';
import { printable, shrink } from './shrink.js';
import { FuzzFailure, REPLY_TIMEOUT_MS, exited, writeRepro, type CampaignOptions, type CampaignReport, type Servers } from './servers.js';

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
export async function runSession(session: Session, servers: Servers, db: number): Promise<SessionOutcome> {
  const first = await runSessionOnce(session, servers, db, false);
  if (first.kind !== 'problem' || !first.closed) return first;
  return runSessionOnce(session, servers, db, true);
}

/**
 * The client ids of the last session's connections, per database and
 * server. A connection the harness closed may still have commands the
 * server has not run (with io-threads, an I/O thread's ring is read a turn's
 * worth at a time, and the next session's connection may be served first by
 * another thread): the next session on that database waits until the
 * server has let go of them, or their writes would land after its FLUSHDB.
 */
const lastClients = new Map<string, number>();

async function waitClientGone(port: number, id: number): Promise<void> {
  const c = await RawConn.connect(port);
  try {
    const deadline = Date.now() + REPLY_TIMEOUT_MS;
    while (Date.now() < deadline) {
      c.clear();
      await c.write(encodeCommand(['CLIENT', 'LIST', 'ID', String(id)]));
      // One whole reply: an empty bulk string once no such client is left.
      while (!c.closed && Date.now() < deadline && 'need' in parseAt(c.bytes(), 0)) await c.until(c.received + 1, deadline - Date.now());
      if (c.bytes().latin1Slice() === '$0\r\n\r\n') return;
      await new Promise((res) => setTimeout(res, 5));
    }
  } finally {
    c.close();
  }
}

/** Each session runs on a database of its own (one per worker), emptied first: its replies depend on nothing else. */
async function openSessionConn(port: number, db: number): Promise<RawConn> {
  const key = `${port}/${db}`;
  const previous = lastClients.get(key);
  if (previous !== undefined) await waitClientGone(port, previous);
  const c = await RawConn.connect(port);
  const setup = Buffer.concat([encodeCommand(['SELECT', String(db)]), encodeCommand(['FLUSHDB']), encodeCommand(['CLIENT', 'ID'])]);
  await c.write(setup);
  const deadline = Date.now() + REPLY_TIMEOUT_MS;
  while (!/^\+OK\r\n\+OK\r\n:\d+\r\n$/.test(c.bytes().latin1Slice()) && !c.closed && Date.now() < deadline) await c.until(c.received + 1, deadline - Date.now());
  const m = /^\+OK\r\n\+OK\r\n:(\d+)\r\n$/.exec(c.bytes().latin1Slice());
  if (m === null) throw new Error(`session setup failed: ${JSON.stringify(c.bytes().latin1Slice())}`);
  lastClients.set(key, Number(m[1]));
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
      what: `replies differ\n  redis (${r.closed ? 'closed' : 'open'}): ${printable(r.bytes().latin1Slice(), 600)}\n  vireo (${v.closed ? 'closed' : 'open'}): ${printable(v.bytes().latin1Slice(), 600)}\n  ${firstDifference(r.bytes(), v.bytes())}`,
    };
  } finally {
    r.close();
    v.close();
  }
}

/**
 * Both replies around the first byte where they differ: the whole replies
 * are cut at 600 characters, and a difference past that (a session with
 * io-threads once differed in 10,875 bytes of the same length) was not shown.
 */
function firstDifference(redis: Buffer, vireo: Buffer): string {
  let at = 0;
  const common = Math.min(redis.length, vireo.length);
  while (at < common && redis[at] === vireo[at]) at++;
  const from = Math.max(0, at - 80);
  const around = (b: Buffer): string => printable(b.subarray(from, at + 200).latin1Slice(), 600);
  return `first difference at byte ${at} of ${redis.length} / ${vireo.length}, from byte ${from}:\n    redis: ${around(redis)}\n    vireo: ${around(vireo)}`;
}

function sessionFor(seed: number, index: number): Session {
  return makeSession(new Rng(seed, 1, index));
}

export async function framesPhase(servers: Servers, opts: Required<CampaignOptions>, report: CampaignReport): Promise<void> {
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

