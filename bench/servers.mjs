// Starting redis-server and the built Vireo side by side for benchmarks.
import { spawn, spawnSync, execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverNodeFlags } from '../scripts/node-flags.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/**
 * `--pin` (any bench script): servers run on CPU 0 and clients on CPU 1
 * (taskset), so on a 2-core machine client and server do not take turns on
 * one core and the figures are steadier.
 */
export const pinned = process.argv.includes('--pin');
const SERVER_CPU = '0';
const CLIENT_CPU = '1';

/** Run this process (a bench script whose client connections live in it) on the client CPU. */
export function pinSelf() {
  if (pinned) execFileSync('taskset', ['-a', '-p', '-c', CLIENT_CPU, String(process.pid)], { stdio: 'ignore' });
}

/** [command, args] for a program, under taskset on `cpu` when pinning. */
function onCpu(cpu, program, args) {
  return pinned ? ['taskset', ['-c', cpu, program, ...args]] : [program, args];
}

/** [command, args] for a client program (redis-benchmark, redis-cli), on the client CPU when pinning. */
export function onClientCpu(program, args) {
  return onCpu(CLIENT_CPU, program, args);
}

/** `--name value` options of a bench script: opt(name, default) and has(flag). */
export function options(args) {
  return {
    opt: (name, dflt) => {
      const i = args.indexOf(`--${name}`);
      return i >= 0 ? args[i + 1] : dflt;
    },
    has: (flag) => args.includes(`--${flag}`),
  };
}

export function requireTools(tools) {
  for (const tool of tools) {
    if (spawnSync('which', [tool]).status !== 0) {
      console.error(`${tool} not found: apt-get install -y redis-server redis-tools`);
      process.exit(1);
    }
  }
}

export function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Wait until the server answers PING with PONG (not LOADING). */
export async function waitUp(port, timeoutMs = 120000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const out = execFileSync('redis-cli', ['-p', String(port), 'PING'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (out.includes('PONG')) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`server on ${port} did not start`);
}

/**
 * Start `kind` ('redis' or 'vireo') with persistence off unless `extra`
 * says otherwise; `dir` reuses a data directory (restarts). Vireo runs
 * with the node flags in VIREO_BENCH_NODE_FLAGS when set (profiling:
 * "--cpu-prof --cpu-prof-dir=/tmp/prof").
 */
export async function startServer(kind, extra = [], dir = null) {
  const port = await freePort();
  const dataDir = dir ?? fs.mkdtempSync(path.join(process.env.BENCH_TMP ?? os.tmpdir(), `bench-${kind}-`));
  const common = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dataDir, '--enable-debug-command', 'yes', ...extra];
  const [program, args] =
    kind === 'redis'
      ? onCpu(SERVER_CPU, 'redis-server', common)
      : onCpu(SERVER_CPU, process.execPath, [...(process.env.VIREO_BENCH_NODE_FLAGS ?? ['--expose-gc', ...serverNodeFlags()].join(' ')).split(' ').filter(Boolean), path.join(root, 'dist', 'src', 'main.js'), ...common, '--loglevel', 'warning']);
  const proc = spawn(program, args, { stdio: 'ignore' });
  const started = performance.now();
  await waitUp(port);
  return {
    kind,
    port,
    pid: proc.pid,
    dir: dataDir,
    readyMs: performance.now() - started,
    cli: (...a) => execFileSync('redis-cli', ['-p', String(port), ...a], { encoding: 'utf8' }).trim(),
    /** Kill it; its data directory goes too unless `keepDir` (a restart follows). */
    stop: async ({ keepDir = false } = {}) => {
      if (proc.exitCode === null && proc.signalCode === null) {
        await new Promise((r) => {
          proc.once('exit', r);
          // A profiled server (VIREO_BENCH_NODE_FLAGS='--cpu-prof ...') must exit cleanly to write its profile.
          process.kill(proc.pid, process.env.VIREO_BENCH_NODE_FLAGS ? 'SIGINT' : 'SIGKILL');
        });
      }
      if (!keepDir) fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Tests redis-benchmark 7.0 has no -t name for, run as explicit commands
 * (its XADD test came later): `fill` runs first, as redis-benchmark fills
 * the list before its LRANGE tests, so reads find 1000 entries of 3 fields.
 */
const STREAM_FILL = ['XADD', 'bench:stream', '*', 'name', 'sensor', 'temp', '21.5', 'seq', '__rand_int__'];
/** A small read-modify-write script: read a counter, write it back increased by ARGV[1]. */
export const RMW_SCRIPT = "local n = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(ARGV[1])\nredis.call('SET', KEYS[1], n)\nreturn n";
export const RMW_SHA = createHash('sha1').update(RMW_SCRIPT).digest('hex');
/**
 * `script`: loaded with SCRIPT LOAD before the run (the command EVALSHAs it);
 * `random`: redis-benchmark's -r, spreading __rand_int__ keys over that many.
 */
export const COMMAND_TESTS = {
  evalsha_rmw: { script: RMW_SCRIPT, random: 1000000, command: ['EVALSHA', RMW_SHA, '1', 'counter:__rand_int__', '1'] },
  xadd: { command: STREAM_FILL },
  xrange_10: { fill: STREAM_FILL, command: ['XRANGE', 'bench:stream', '-', '+', 'COUNT', '10'] },
  xrange_100: { fill: STREAM_FILL, command: ['XRANGE', 'bench:stream', '-', '+', 'COUNT', '100'] },
  xrevrange_10: { fill: STREAM_FILL, command: ['XREVRANGE', 'bench:stream', '+', '-', 'COUNT', '10'] },
};

/** User+system CPU time of a process in microseconds (/proc ticks are 10 ms). */
export function cpuMicros(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10000;
}

/** The same for one thread of it (`tid` = `pid`: the main thread, the event loop's). */
export function threadCpuMicros(pid, tid = pid) {
  const f = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10000;
}

/**
 * redis-benchmark pinned to core 1, `-c 50 -r 1000000`, one test: req/s and
 * p50/p99 latency (ms). Times out rather than spin on a port nobody answers.
 */
export function pinnedBenchmark(port, test, pipeline, requests) {
  const r = spawnSync('taskset', ['-c', '1', 'redis-benchmark', '-p', String(port), '-q', '--csv', '-r', '1000000', '-c', '50', '-n', String(requests), '-P', String(pipeline), '-t', test], { encoding: 'utf8', timeout: 300_000 });
  const line = r.stdout.trim().split('\n').pop();
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  const f = line.split(',').map((x) => Number(x.replaceAll('"', '')));
  return { rps: f[1], p50: f[4], p99: f[6] };
}

/** CPU seconds (user + system) of every thread of `pid` now: Map tid -> seconds. */
export function threadCpu(pid) {
  const out = new Map();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    try {
      const f = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) / 100);
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * One pinnedBenchmark run of `n` requests, after a warm-up run of n/4, and
 * the server's CPU seconds over it per class of thread: `classOf(tid)`
 * names each thread's class (the server's main thread has the pid's tid).
 */
export function benchmarkWithThreadCpu(pid, port, test, pipeline, n, classOf) {
  pinnedBenchmark(port, test, pipeline, Math.ceil(n / 4));
  const before = threadCpu(pid);
  const result = pinnedBenchmark(port, test, pipeline, n);
  const cpu = {};
  for (const [tid, t] of threadCpu(pid)) {
    const c = classOf(tid);
    cpu[c] = (cpu[c] ?? 0) + t - (before.get(tid) ?? 0);
  }
  return { ...result, cpu };
}

/**
 * redis-benchmark -c 50 against one server: [{ name, rps, cpuUs }], cpuUs
 * the server's CPU time per request (null when one run reports several
 * rows: redis-benchmark's LRANGE tests fill their list in the same run).
 * `random`: -r, spreading the test's `__rand_int__` keys over that many names.
 */
export function benchOnce(server, test, pipeline, requests, { random } = {}) {
  const custom = COMMAND_TESTS[test];
  const spread = random ?? custom?.random;
  const base = ['-p', String(server.port), '-q', '--csv', ...(spread ? ['-r', String(spread)] : [])];
  if (custom?.script) server.cli('SCRIPT', 'LOAD', custom.script);
  if (custom?.fill) execFileSync('redis-benchmark', [...base, '-c', '1', '-n', '1000', '-P', '100', ...custom.fill], { encoding: 'utf8' });
  const what = custom ? custom.command : ['-t', test];
  const cpu0 = cpuMicros(server.pid);
  const out = execFileSync(...onCpu(CLIENT_CPU, 'redis-benchmark', [...base, '-c', '50', '-n', String(requests), '-P', String(pipeline), ...what]), { encoding: 'utf8' });
  const cpu = cpuMicros(server.pid) - cpu0;
  const rows = out.trim().split('\n').slice(1);
  return rows.map((l) => {
    const cols = l.split(',').map((c) => c.replace(/"/g, ''));
    return { name: custom ? test.toUpperCase() : cols[0], rps: Number(cols[1]), cpuUs: rows.length === 1 ? cpu / requests : null };
  });
}

/**
 * The name redis-benchmark -r gives key number i: it writes `__rand_int__`
 * as 12 zero-padded digits, so `key:__rand_int__` reads `key:000000000042`.
 */
export function benchKey(i, prefix = 'key') {
  return `${prefix}:${String(i).padStart(12, '0')}`;
}

/** SET of every key redis-benchmark -r `n` can name, each to a `valueSize`-byte value (commands for loadDataset). */
export function* benchKeySets(n, valueSize) {
  const value = 'x'.repeat(valueSize);
  for (let i = 0; i < n; i++) yield ['SET', benchKey(i), value];
}

/** SET of every counter redis-benchmark's INCR with -r `n` can name (counter:__rand_int__), to 0. */
export function* benchCounterSets(n) {
  for (let i = 0; i < n; i++) yield ['SET', benchKey(i, 'counter'), '0'];
}

/**
 * An INFO field of a server as a number (`section`: the INFO section
 * holding it); `field=` inside a line counts too (INFO keyspace's `keys=`).
 */
export function infoNumber(server, section, field) {
  return Number(new RegExp(`\\b${field}[:=](\\d+)`).exec(server.cli('INFO', section))?.[1] ?? NaN);
}

export function row(cols, widths) {
  return cols.map((c, i) => String(c).padStart(widths[i])).join('  ');
}

/**
 * redis-benchmark's latency (ms) at `pct` percent: the first line of its
 * "Latency by percentile distribution" at or past it (an HDR histogram:
 * the value is an upper bound at 3 significant digits).
 */
export function benchmarkPercentile(out, pct) {
  for (const m of out.matchAll(/^(\d+\.\d+)% <= (\d+\.\d+) milliseconds/gm)) {
    if (Number(m[1]) >= pct) return Number(m[2]);
  }
  return NaN;
}

/** A ratio as the tables print it: two decimals, starred when below `target`. */
export function judged(ratio, target) {
  return ratio.toFixed(2) + (ratio >= target ? '' : ' *');
}

/** Median of a list of numbers (benchmarks judge the median of per-round ratios). */
export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * A server's INFO `section` without holding this process' event loop (a
 * pause probe runs in it): redis-cli run asynchronously.
 */
export function infoAsync(port, section) {
  return new Promise((resolve, reject) =>
    execFile('redis-cli', ['-p', String(port), 'INFO', section], { encoding: 'utf8' }, (err, out) => (err ? reject(err) : resolve(out))),
  );
}

/**
 * The pauses clients of `port` see while some work runs: PING every
 * millisecond on one connection, from `start()` until `finished()` (asked
 * every 20 pings) says so. Any reply counts (-LOADING too): the time to it
 * is how long the server's event loop made the client wait. Returns the
 * slowest reply, the 99th percentile (ms) and the number of samples.
 */
export async function probePauses(port, start, finished) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let answer = () => {};
  sock.on('data', () => answer());
  const ping = () =>
    new Promise((resolve) => {
      const sent = performance.now();
      answer = () => resolve(performance.now() - sent);
      sock.write('PING\r\n');
    });
  for (let i = 0; i < 100; i++) await ping();
  const lat = [];
  await start();
  for (let n = 1; ; n++) {
    lat.push(await ping());
    await new Promise((r) => setTimeout(r, 1));
    if (n % 20 === 0 && (await finished())) break;
  }
  sock.destroy();
  lat.sort((a, b) => a - b);
  return { max: lat[lat.length - 1] ?? 0, p99: lat[Math.floor(lat.length * 0.99)] ?? 0, samples: lat.length };
}
