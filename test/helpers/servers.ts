/**
 * Servers for tests: Vireo in-process (fast, port 0), Vireo as a child
 * process (crash and CLI tests), and Debian's redis-server as the
 * reference for differential tests. Everything listens on 127.0.0.1 and is
 * stopped by PID by the test that started it.
 */

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { testLogger } from '../../src/logger.js';
import { Config } from '../../src/config.js';
import { Server } from '../../src/server/server.js';
import { RespClient } from './resp.js';

export const ROOT = path.resolve(import.meta.dirname, '..', '..');

const createdDirs: string[] = [];

/** A fresh directory under the OS temp dir, removed after the test file (test/setup.ts). */
export function tempDir(prefix = 'vireo-test-'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  createdDirs.push(dir);
  return dir;
}

/** Remove every directory tempDir() made in this test file. */
export function removeTempDirs(): void {
  for (const dir of createdDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

export interface VireoHandle {
  server: Server;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

/**
 * VIREO_TEST_IO_THREADS=N runs every server the tests start with `io-threads N`
 * (unless a test sets it): the whole suite then checks the I/O-thread path.
 */
const TEST_IO_THREADS = process.env.VIREO_TEST_IO_THREADS ?? '';

/** Start Vireo inside the test process on a spare port. */
export async function startVireo(params: Record<string, string> = {}): Promise<VireoHandle> {
  const dir = params.dir ?? tempDir();
  const config = new Config();
  const threads: Record<string, string> = TEST_IO_THREADS !== '' ? { 'io-threads': TEST_IO_THREADS } : {};
  const pairs: [string, string][] = Object.entries({ port: '0', bind: '127.0.0.1', 'enable-debug-command': 'yes', ...threads, ...params, dir });
  config.setMany(pairs, { startup: true });
  const server = new Server(config, { logger: testLogger() });
  await server.start();
  return {
    server,
    port: server.port,
    dir,
    stop: async () => {
      await server.shutdown({ save: false, force: true });
      // The test mode's effect check (test/setup.ts): a change without an effect or change signal fails the test.
      const failures = server.effectCheck?.failures ?? [];
      if (failures.length > 0) throw new Error(`effect check failed:\n${failures.slice(0, 20).join('\n')}`);
    },
  };
}

/**
 * Where freePort() looks: below the kernel's ephemeral range, from which it
 * picks the ports of `listen(0)` (every in-process Vireo's) and of outgoing
 * connections. A port found free is free again until its taker binds it;
 * taken from that range, the kernel could give it to a server started
 * meanwhile on port 0 (seen: a Vireo whose own port was the Prometheus port
 * chosen for it, EADDRINUSE). Below the range, only freePort() hands ports
 * out, and never the same one twice.
 */
const EPHEMERAL_LOW = ephemeralLow();
const PORTS_FROM = 10000;
const handedOut = new Set<number>();

function ephemeralLow(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > PORTS_FROM + 1000 ? low : 0;
  } catch {
    return 0;
  }
}

/** A port nobody listens on right now, never handed out before. */
export async function freePort(): Promise<number> {
  for (let tries = 0; tries < 1000; tries++) {
    const wanted = EPHEMERAL_LOW === 0 ? 0 : PORTS_FROM + Math.floor(Math.random() * (EPHEMERAL_LOW - PORTS_FROM));
    const port = await portIfFree(wanted);
    if (port === null || handedOut.has(port)) continue;
    handedOut.add(port);
    return port;
  }
  throw new Error('freePort: no free port found');
}

/** `port` if nobody listens on it (0: any port the kernel offers), else null. */
function portIfFree(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(null));
    s.listen(port, '127.0.0.1', () => {
      const a = s.address() as net.AddressInfo;
      s.close(() => resolve(a.port));
    });
  });
}

async function waitForPing(port: number, timeoutMs = 10000, proc: ChildProcess | null = null): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (proc !== null && proc.exitCode !== null) throw new Error(`server exited with code ${proc.exitCode}`);
    try {
      const c = await RespClient.connect(port);
      const r = await c.call('PING');
      c.close();
      // Any answer but LOADING means it serves (NOAUTH when a password is set).
      if (!(r.type === 'error' && r.value.startsWith('LOADING'))) return;
    } catch {
      /* not up yet */
    }
    if (Date.now() > deadline) throw new Error(`server on port ${port} did not answer PING`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ProcessHandle {
  port: number;
  dir: string;
  proc: ChildProcess;
  output(): string;
  /** SIGKILL by PID and wait for exit. */
  kill(): Promise<void>;
  /** SIGTERM (graceful) and wait for exit. */
  stop(): Promise<void>;
}

function waitExit(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((r) => proc.once('exit', () => r()));
}

function handleFor(proc: ChildProcess, port: number, dir: string): ProcessHandle {
  let out = '';
  proc.stdout?.on('data', (d) => (out += d));
  proc.stderr?.on('data', (d) => (out += d));
  return {
    port,
    dir,
    proc,
    output: () => out,
    async kill() {
      if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGKILL');
      await waitExit(proc);
    },
    async stop() {
      if (proc.pid !== undefined && proc.exitCode === null && proc.signalCode === null) process.kill(proc.pid, 'SIGTERM');
      await waitExit(proc);
    },
  };
}

/** Start the built Vireo (dist/) as a child process. */
export async function startVireoProcess(args: string[] = [], opts: { dir?: string; port?: number; nodeFlags?: string[] } = {}): Promise<ProcessHandle> {
  const dir = opts.dir ?? tempDir();
  const main = path.join(ROOT, 'dist', 'src', 'main.js');
  if (!fs.existsSync(main)) throw new Error('dist/ is missing: run npm test (it builds first) or npm run build');
  const threads = TEST_IO_THREADS !== '' && !args.some((a) => a.includes('io-threads')) ? ['--io-threads', TEST_IO_THREADS] : [];
  return spawnServer(
    (port) =>
      spawn(process.execPath, [...(opts.nodeFlags ?? []), main, ...args, ...threads, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        // A bug caught as an exception names itself in its -ERR reply (a differential check then shows which command).
        env: { ...process.env, VIREO_DEBUG_EXCEPTIONS: '1' },
      }),
    dir,
    opts.port,
  );
}

/** Attempts at a spare port before giving up. */
const PORT_ATTEMPTS = 5;

/**
 * Spawn a server and wait until it answers. freePort() only says a port was
 * free a moment ago: a server the other test worker starts at the same
 * moment may take it first, and would then answer our PING (and get our
 * test's commands, and be stopped by it). So the port must be our own
 * process's; if it is not, or ours could not bind, ours is killed and
 * started again on another port.
 */
async function spawnServer(start: (port: number) => ChildProcess, dir: string, fixedPort: number | undefined): Promise<ProcessHandle> {
  for (let attempt = 1; ; attempt++) {
    const port = fixedPort ?? (await freePort());
    const h = handleFor(start(port), port, dir);
    let ours = false;
    let failure: Error | null = null;
    try {
      // Generous: under CI's full load (two test workers, each with servers and
      // their helper threads on two cores) a start once took longer than 10 s.
      await waitForPing(port, 30000, h.proc);
      ours = listensOn(port, h.proc);
    } catch (e) {
      failure = e as Error;
    }
    if (ours) return h;
    await h.kill();
    const taken = failure === null || /already in use|EADDRINUSE/.test(h.output());
    if (!taken || fixedPort !== undefined || attempt === PORT_ATTEMPTS) {
      throw new Error(`${failure?.message ?? `port ${port} is answered by another process than the server started on it`}\n${h.output()}`);
    }
  }
}

/**
 * Whether `proc` holds the socket listening on `port`, read from /proc
 * (its fds against the kernel's TCP table) rather than asked of the server:
 * a command would show in the server's INFO commandstats, which tests
 * compare. Where /proc cannot tell (not Linux), whether `proc` still runs.
 */
function listensOn(port: number, proc: ChildProcess): boolean {
  const alive = proc.exitCode === null && proc.signalCode === null;
  if (proc.pid === undefined || !alive) return false;
  const inodes = new Set<string>();
  try {
    for (const fd of fs.readdirSync(`/proc/${proc.pid}/fd`)) {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${proc.pid}/fd/${fd}`, { encoding: 'utf8' }));
      if (m !== null) inodes.add(m[1]!);
    }
  } catch {
    return alive;
  }
  const hexPort = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = fs.readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    // Columns: sl local_address rem_address st ... inode (the 10th); st 0A is LISTEN.
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && f[1]!.endsWith(hexPort) && f[3] === '0A' && inodes.has(f[9]!)) return true;
    }
  }
  return false;
}

export function redisServerPath(): string | null {
  const r = spawnSync('which', ['redis-server']);
  return r.status === 0 ? r.stdout.toString().trim() : null;
}

/**
 * Whether the reference server is available. Locally the differential
 * suites skip with a notice when it is missing; under CI=true that is a
 * failure.
 */
export const HAVE_REDIS = (() => {
  const found = redisServerPath() !== null;
  if (!found) {
    if (process.env.CI === 'true') throw new Error('redis-server is required under CI=true (apt-get install redis-server)');
    console.warn('[vireo tests] redis-server not found: differential tests are skipped');
  }
  return found;
})();

/** Start Debian's redis-server on a spare port with the given config (after `configFile`'s, when given). */
export async function startRedis(params: Record<string, string> = {}, configFile?: string): Promise<ProcessHandle> {
  const bin = redisServerPath();
  if (bin === null) throw new Error('redis-server not installed');
  const dir = params.dir ?? tempDir('redis-ref-');
  // A given port: a server taking over the address of one that was stopped (replication tests).
  const fixedPort = params.port !== undefined ? Number(params.port) : undefined;
  return spawnServer(
    (port) => {
      const args = [...(configFile !== undefined ? [configFile] : []), '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--enable-debug-command', 'yes'];
      for (const [k, v] of Object.entries(params)) if (k !== 'dir' && k !== 'port') args.push(`--${k}`, v);
      return spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    },
    dir,
    fixedPort,
  );
}

/**
 * Start Debian's redis-server in Sentinel mode on a spare port, monitoring
 * `master` at 127.0.0.1:`masterPort` with the given quorum and
 * `sentinel <option> <master> <value>` settings. Sentinel rewrites its
 * config file as it learns: the file is its own, in its own directory.
 */
export async function startSentinel(master: string, masterPort: number, quorum: number, settings: Record<string, string> = {}): Promise<ProcessHandle> {
  const bin = redisServerPath();
  if (bin === null) throw new Error('redis-server not installed');
  const dir = tempDir('sentinel-');
  const conf = path.join(dir, 'sentinel.conf');
  const lines = [`sentinel monitor ${master} 127.0.0.1 ${masterPort} ${quorum}`, ...Object.entries(settings).map(([k, v]) => `sentinel ${k} ${master} ${v}`)];
  fs.writeFileSync(conf, lines.join('\n') + '\n');
  return spawnServer((port) => spawn(bin, [conf, '--sentinel', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir], { stdio: ['ignore', 'pipe', 'pipe'] }), dir, undefined);
}
