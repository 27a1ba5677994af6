/**
 * Replaying the command log rebuilds the dataset (DESIGN.md §1, issue 10).
 *
 * fast-check generates random sequences of every write command Vireo
 * implements (plus FCALL of the libraries they load, reads that expire keys
 * lazily, SELECT, MULTI/EXEC with and
 * without errors inside, and pauses so short TTLs run out during the run and
 * active expiry logs its DELs). Each sequence runs against a Vireo process
 * with appendonly yes; then:
 *   - DEBUG LOADAOF in that process gives back the same dataset,
 *   - a fresh Vireo started on the same appendonlydir gives back the same dataset,
 *   - redis-server 7.0 started on a copy of the appendonlydir gives back the same dataset.
 * "Same dataset" is DEBUG DIGEST (all dbs, values and expire times) and the
 * function libraries plus, to show where they differ, each key's type,
 * PEXPIRETIME and DEBUG DIGEST-VALUE.
 *
 * CI runs a bounded number of sequences; VIREO_PROP_RUNS=n runs more.
 * A failure prints fast-check's seed and path: VIREO_PROP_SEED=s
 * VIREO_PROP_PATH=p replays that case.
 */

import { beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { RespClient, toJs, type Reply } from './helpers/resp.js';
import { HAVE_REDIS, startRedis, startVireoProcess, tempDir, type ProcessHandle } from './helpers/servers.js';
import {
  DBS,
  KEYS,
  functionCalls,
  MAX_SHORT_TTL_MS,
  NOT_GENERATED,
  readCommands,
  resolveArgv,
  selectCommand,
  shortLived,
  writeCommands,
  type Argv,
  type GeneratorOptions,
} from './helpers/write-commands.js';

const RUNS = Number(process.env.VIREO_PROP_RUNS ?? 12);
const MAX_STEPS = Number(process.env.VIREO_PROP_STEPS ?? 150);
const REPLAY_SEED = process.env.VIREO_PROP_SEED === undefined ? {} : { seed: Number(process.env.VIREO_PROP_SEED), path: process.env.VIREO_PROP_PATH };

/** Low encoding thresholds so small collections change encoding (listpack -> hashtable/skiplist/quicklist, intset -> hashtable). */
const ENCODINGS: Record<string, string> = {
  'hash-max-listpack-entries': '4',
  'zset-max-listpack-entries': '4',
  'set-max-intset-entries': '4',
  'list-max-listpack-size': '4',
};
/** hz 100: active expiry runs every 10 ms, so it deletes keys during a run. */
const SERVER_CONFIG: Record<string, string> = { hz: '100', ...ENCODINGS };
const VIREO_ARGS = [
  '--enable-debug-command', 'yes', '--appendonly', 'yes', '--save', '',
  // 7.2 only (small string sets are listpacks there, hashtables in 7.0): not given to redis-server.
  '--set-max-listpack-entries', '4',
  ...Object.entries(SERVER_CONFIG).flatMap(([k, v]) => [`--${k}`, v]),
];

// ---- the generator -----------------------------------------------------------------

type Step =
  | { kind: 'cmd'; argv: Argv }
  /** MULTI, the body, then EXEC (or DISCARD); `watch` first WATCHes a key and touches it so EXEC fails. */
  | { kind: 'multi'; body: Argv[]; end: 'EXEC' | 'DISCARD'; watch: string | null }
  | { kind: 'sleep'; ms: number };

/** Argvs that fail inside EXEC at run time (the rest of the transaction still applies). */
const runtimeError = fc.constantFrom(...KEYS).map((k): Argv[] => [['SET', k, 'not-a-number'], ['INCRBY', k, '1']]);
/** Argvs rejected while queueing: EXEC answers EXECABORT and nothing applies. */
const queueError = fc.constantFrom<Argv[]>([['INCR']], [['NOSUCHCOMMAND', 'x']]);

function stepArb(allowed: Set<string>, o: GeneratorOptions): fc.Arbitrary<Step> {
  // Commands that create keys come often (the others mostly need data to act on), wiping ones rarely.
  const creators = new Set(['set', 'mset', 'rpush', 'lpush', 'sadd', 'hset', 'zadd', 'append', 'xadd']);
  const rare = new Set(['flushall', 'flushdb', 'swapdb']);
  // RESTORE needs a key to DUMP and, mostly, a free or REPLACEd target.
  const weightOf = (name: string): number => (creators.has(name) ? 16 : name === 'restore' ? 12 : rare.has(name) ? 1 : 4);
  const writes = Object.entries(writeCommands(o))
    .filter(([name]) => allowed.has(name))
    .map(([name, arbitrary]) => ({ weight: weightOf(name), arbitrary }));
  const write = fc.oneof(...writes);
  // FCALL only where the functions can be loaded (the generator's FUNCTION LOAD).
  const calls = allowed.has('function|load') ? [{ weight: 1, arbitrary: functionCalls }] : [];
  const anyCommand = fc.oneof({ weight: 6, arbitrary: write }, { weight: 1, arbitrary: readCommands }, { weight: 1, arbitrary: selectCommand }, ...calls);
  // Inside MULTI too: a SET with a past EXAT/PXAT, then a command touching the key, logs the
  // expiry's DEL inside the transaction record, where it happened (found by this test).
  const queued = anyCommand;
  const multi = fc
    .tuple(
      fc.array(queued, { maxLength: 5 }),
      fc.constantFrom('plain', 'runtime-error', 'queue-error', 'discard', 'watch'),
      runtimeError,
      queueError,
      fc.constantFrom(...KEYS),
    )
    .map(([body, variant, rt, q, k]): Step => {
      const at = Math.floor(body.length / 2);
      const withInside = (xs: Argv[]): Argv[] => [...body.slice(0, at), ...xs, ...body.slice(at)];
      switch (variant) {
        case 'runtime-error':
          return { kind: 'multi', body: withInside(rt), end: 'EXEC', watch: null };
        case 'queue-error':
          return { kind: 'multi', body: withInside(q), end: 'EXEC', watch: null };
        case 'discard':
          return { kind: 'multi', body, end: 'DISCARD', watch: null };
        case 'watch':
          return { kind: 'multi', body, end: 'EXEC', watch: k };
        default:
          return { kind: 'multi', body, end: 'EXEC', watch: null };
      }
    });
  return fc.oneof(
    { weight: 40, arbitrary: write.map((argv): Step => ({ kind: 'cmd', argv })) },
    { weight: 4, arbitrary: shortLived.map((argv): Step => ({ kind: 'cmd', argv })) },
    { weight: 6, arbitrary: readCommands.map((argv): Step => ({ kind: 'cmd', argv })) },
    { weight: 4, arbitrary: selectCommand.map((argv): Step => ({ kind: 'cmd', argv })) },
    { weight: 4, arbitrary: multi },
    ...calls.map((c) => ({ weight: 4, arbitrary: c.arbitrary.map((argv): Step => ({ kind: 'cmd', argv })) })),
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 60 }).map((ms): Step => ({ kind: 'sleep', ms })) },
  );
}

const sequence = (allowed: Set<string>, o: GeneratorOptions): fc.Arbitrary<Step[]> =>
  fc.array(stepArb(allowed, o), { minLength: 1, maxLength: MAX_STEPS, size: 'max' });

// ---- running a sequence --------------------------------------------------------------

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What the runs did, printed once at the end (how much the property exercised). */
const stats = { runs: 0, commands: 0, errorReplies: 0, execWithError: 0, execAborted: 0, expiredKeys: 0, keysAtEnd: 0 };
/** Commands that answered something other than an error at least once. */
const succeeded = new Set<string>();

function isInternalError(r: Reply): boolean {
  return r.type === 'error' && r.value.includes('internal error');
}

/** The name COMMAND gives it: `xgroup|create` for a container's subcommand. */
function commandName(argv: Argv): string {
  const first = argv[0]!.toLowerCase();
  return (first === 'xgroup' || first === 'function') && argv.length > 1 ? `${first}|${argv[1]!.toLowerCase()}` : first;
}

async function send(c: RespClient, argv: Argv): Promise<Reply> {
  const r = await c.call(...argv);
  stats.commands++;
  if (isInternalError(r)) throw new Error(`${argv.join(' ')} -> ${r.type === 'error' ? r.value : ''}`);
  if (r.type === 'error') stats.errorReplies++;
  else succeeded.add(commandName(argv));
  return r;
}

async function runStep(c: RespClient, step: Step): Promise<void> {
  if (step.kind === 'sleep') return sleep(step.ms);
  if (step.kind === 'cmd') {
    await send(c, await resolveArgv(c, step.argv));
    return;
  }
  // DUMP payloads are fetched before MULTI: inside it DUMP would be queued.
  const body: Argv[] = [];
  for (const argv of step.body) body.push(await resolveArgv(c, argv));
  if (step.watch !== null) {
    await send(c, ['WATCH', step.watch]);
    await send(c, ['SET', step.watch, 'touched']);
  }
  await send(c, ['MULTI']);
  for (const argv of body) await send(c, argv);
  const r = await send(c, [step.end]);
  if (r.type === 'error') stats.execAborted++;
  if (r.type === 'array' && r.value?.some((x) => x.type === 'error')) stats.execWithError++;
}

/**
 * Let every short TTL run out, then touch every key of every db so each
 * expired key is deleted (and its DEL logged). After this the dataset no
 * longer depends on when it is looked at, so a replay done later must match.
 */
async function settle(c: RespClient): Promise<void> {
  await sleep(MAX_SHORT_TTL_MS + 20);
  for (const db of DBS) {
    await c.call('SELECT', db);
    await c.call('EXISTS', ...KEYS);
  }
}

interface Dataset {
  digest: string;
  /** FUNCTION LIST WITHCODE, sorted (servers list libraries in their own order). */
  functions: string[];
  /** db -> key -> [type, pexpiretime, digest-value, stream state (streams only)] */
  keys: Record<string, Record<string, [unknown, unknown, unknown, unknown]>>;
}

/**
 * What DEBUG DIGEST leaves out of a stream (it hashes the entries only):
 * its counters and, per group, the last ID, read counter, lag, who holds
 * which pending entry and the consumers. Times and delivery counts are left
 * out: Redis changes them without propagating (a history read, a consumer's
 * seen-time).
 */
async function streamState(c: RespClient, k: string): Promise<unknown> {
  const full = toJs(await c.call('XINFO', 'STREAM', k, 'FULL', 'COUNT', '0')) as unknown[];
  const get = (map: unknown[], name: string): unknown => map[map.indexOf(name) + 1];
  const groups = (get(full, 'groups') as unknown[][]).map((g) => [
    get(g, 'name'), get(g, 'last-delivered-id'), get(g, 'entries-read'), get(g, 'lag'),
    (get(g, 'pending') as unknown[][]).map((p) => [p[0], p[1]]),
    (get(g, 'consumers') as unknown[][]).map((cons) => [get(cons, 'name'), get(cons, 'pel-count')]),
  ]);
  return [get(full, 'length'), get(full, 'last-generated-id'), get(full, 'max-deleted-entry-id'), get(full, 'entries-added'), get(full, 'recorded-first-entry-id'), groups];
}

async function dataset(c: RespClient): Promise<Dataset> {
  const digest = await c.call('DEBUG', 'DIGEST');
  if (digest.type !== 'simple') throw new Error(`DEBUG DIGEST: ${JSON.stringify(digest)}`);
  const keys: Dataset['keys'] = {};
  for (const db of DBS) {
    await c.call('SELECT', db);
    const names = ((toJs(await c.call('KEYS', '*')) as string[]) ?? []).sort();
    if (names.length === 0) continue;
    keys[db] = {};
    for (const k of names) {
      const type = toJs(await c.call('TYPE', k));
      keys[db][k] = [type, toJs(await c.call('PEXPIRETIME', k)), toJs(await c.call('DEBUG', 'DIGEST-VALUE', k)), type === 'stream' ? await streamState(c, k) : null];
    }
  }
  const libraries = (toJs(await c.call('FUNCTION', 'LIST', 'WITHCODE')) as unknown[][]).map((l) => String(l[l.indexOf('library_code') + 1])).sort();
  return { digest: digest.value, functions: libraries, keys };
}

async function withClient<T>(port: number, f: (c: RespClient) => Promise<T>): Promise<T> {
  const c = await RespClient.connect(port);
  try {
    return await f(c);
  } finally {
    c.close();
  }
}

/**
 * Runs the sequence on a new Vireo with appendonly yes and returns its
 * settled dataset and a data dir holding a copy of its AOF as it was then.
 * Before it stops, the same process reloads its AOF with DEBUG LOADAOF and
 * must hold the same dataset.
 */
async function runOnVireo(steps: Step[]): Promise<{ want: Dataset; dir: string }> {
  const a = await startVireoProcess(VIREO_ARGS, { dir: tempDir('vireo-replay-') });
  try {
    const result = await withClient(a.port, async (c) => {
      for (const step of steps) await runStep(c, step);
      await c.call('DISCARD');
      await settle(c);
      const info = await c.call('INFO', 'stats');
      stats.expiredKeys += Number(/expired_keys:(\d+)/.exec(info.type === 'bulk' ? info.value ?? '' : '')?.[1] ?? 0);
      const settled = await dataset(c);
      stats.keysAtEnd += Object.values(settled.keys).reduce((n, ks) => n + Object.keys(ks).length, 0);
      // Every write is on disk once WAITAOF answers: copy the files before DEBUG LOADAOF.
      expect(toJs(await c.call('WAITAOF', '1', '0', '0'))).toEqual(['1', '0']);
      // DEBUG LOADAOF must rebuild the same data and must not log what it replays again
      // (it once doubled the AOF: found by this test); the files after it are replayed below.
      expect(toJs(await c.call('DEBUG', 'LOADAOF'))).toBe('OK');
      expect(await dataset(c), 'after DEBUG LOADAOF').toEqual(settled);
      expect(toJs(await c.call('WAITAOF', '1', '0', '0'))).toEqual(['1', '0']);
      const dir = copyAof(a.dir, 'vireo-replay-');
      return { want: settled, dir };
    });
    stats.runs++;
    return result;
  } finally {
    await a.stop();
  }
}

async function datasetOf(h: ProcessHandle): Promise<Dataset> {
  try {
    return await withClient(h.port, dataset);
  } finally {
    await h.kill();
  }
}

/** A copy of dir's appendonlydir alone, in a new data dir. */
function copyAof(dir: string, prefix: string): string {
  const to = tempDir(prefix);
  fs.cpSync(path.join(dir, 'appendonlydir'), path.join(to, 'appendonlydir'), { recursive: true });
  return to;
}

// ---- the properties ------------------------------------------------------------------

/** Lower-case names of the write commands (and write subcommands) the server lists in COMMAND. */
async function writeCommandNames(c: RespClient): Promise<string[]> {
  const table = toJs(await c.call('COMMAND')) as unknown[][];
  const names: string[] = [];
  for (const entry of table) {
    const rows = [entry, ...((entry[9] as unknown[][] | undefined) ?? [])];
    for (const row of rows) if ((row[2] as string[]).includes('write')) names.push(String(row[0]).toLowerCase());
  }
  return names.sort();
}

/** Lower-case names of the commands a server knows, of those asked about. */
async function knownCommands(c: RespClient, names: string[]): Promise<Set<string>> {
  const info = toJs(await c.call('COMMAND', 'INFO', ...names)) as (unknown[] | null)[];
  return new Set(names.filter((_, i) => info[i] !== null));
}

/** Generous (a run takes about a second): hitting it means a hang, or shrinking a failure that already failed. */
const TIME_LIMIT_MS = 240_000 + RUNS * 5_000;
const FC_PARAMS = { numRuns: RUNS, ...REPLAY_SEED, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: true };

/** The sequence's AOF gives back its dataset in a fresh Vireo (and in the same one after DEBUG LOADAOF). */
async function vireoReplays(steps: Step[]): Promise<void> {
  const { want, dir } = await runOnVireo(steps);
  const fresh = await startVireoProcess(VIREO_ARGS, { dir });
  expect(await datasetOf(fresh), 'a fresh Vireo on the same appendonlydir').toEqual(want);
}

/** The sequence's AOF gives back its dataset in redis-server 7.0. */
async function redisReplays(steps: Step[]): Promise<void> {
  const { want, dir } = await runOnVireo(steps);
  const ref = await startRedis({ dir: copyAof(dir, 'redis-replay-'), appendonly: 'yes', ...SERVER_CONFIG });
  expect(await datasetOf(ref), 'redis-server 7.0 on a copy of the appendonlydir').toEqual(want);
}

const FULL: GeneratorOptions = { exactScores: false, streamPolicies: true };
const EXACT: GeneratorOptions = { exactScores: true, streamPolicies: false };
const GENERATED = Object.keys(writeCommands(FULL));

describe('replaying the command log (AOF) rebuilds the dataset', () => {
  let vireoWrites: string[] = [];

  beforeAll(async () => {
    const h = await startVireoProcess(VIREO_ARGS);
    try {
      vireoWrites = await withClient(h.port, writeCommandNames);
    } finally {
      await h.kill();
    }
  });

  it('the generator covers every write command the server implements', () => {
    const missing = vireoWrites.filter((name) => !GENERATED.includes(name) && !(name in NOT_GENERATED));
    expect(missing, 'write commands with no arbitrary in test/helpers/write-commands.ts').toEqual([]);
    const stale = GENERATED.filter((name) => !vireoWrites.includes(name));
    expect(stale, 'arbitraries for commands the server does not list as write').toEqual([]);
    // Each arbitrary produces its own command.
    for (const [name, arb] of Object.entries(writeCommands(FULL))) {
      for (const argv of fc.sample(arb, { numRuns: 5, seed: 1 })) expect(commandName(argv)).toBe(name);
    }
  });

  it(`a fresh Vireo and DEBUG LOADAOF rebuild the same dataset (${RUNS} sequences)`, async () => {
    await fc.assert(fc.asyncProperty(sequence(new Set(vireoWrites), FULL), vireoReplays), FC_PARAMS);
    console.log(`[log-replay] ${JSON.stringify(stats)}`);
    const neverSucceeded = vireoWrites.filter((name) => !succeeded.has(name));
    if (neverSucceeded.length > 0) console.log(`[log-replay] write commands that only answered errors: ${neverSucceeded.join(' ')}`);
  }, TIME_LIMIT_MS + 60_000);

  it.skipIf(!HAVE_REDIS)(`redis-server 7.0 replays Vireo's AOF into the same dataset (${RUNS} sequences)`, async () => {
    // Only commands 7.0 has (the generator covers 7.2's table as Vireo implements it).
    const probe = await startRedis();
    const in70 = await withClient(probe.port, (c) => knownCommands(c, vireoWrites)).finally(() => probe.kill());
    await fc.assert(fc.asyncProperty(sequence(in70, EXACT), redisReplays), FC_PARAMS);
    console.log(`[log-replay] ${JSON.stringify(stats)}`);
  }, TIME_LIMIT_MS + 60_000);

  // A tool, not a test: VIREO_PROP_CASE=case.json (the step array of a printed
  // counterexample) replays it and removes steps while it still fails
  // (VIREO_PROP_CHECK=redis for the differential check), then prints what is left.
  it.runIf(process.env.VIREO_PROP_CASE !== undefined)('shrinks the case in VIREO_PROP_CASE', async () => {
    const check = process.env.VIREO_PROP_CHECK === 'redis' ? redisReplays : vireoReplays;
    const fails = (steps: Step[]) => check(steps).then(() => false, () => true);
    let steps = JSON.parse(fs.readFileSync(process.env.VIREO_PROP_CASE!, 'latin1')) as Step[];
    if (Array.isArray(steps[0])) steps = steps[0] as unknown as Step[];
    expect(await fails(steps), 'the case does not fail').toBe(true);
    for (let chunk = Math.ceil(steps.length / 2); chunk >= 1; chunk = chunk === 1 ? 0 : Math.ceil(chunk / 2)) {
      for (let i = 0; i < steps.length; ) {
        const without = [...steps.slice(0, i), ...steps.slice(i + chunk)];
        if (await fails(without)) steps = without;
        else i += chunk;
      }
    }
    console.log(`[log-replay] shrunk case:\n${JSON.stringify(steps)}`);
  }, 3_600_000);
});
