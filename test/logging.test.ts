/**
 * The server log: Redis' line format in `logfile`, Redis' messages in
 * Redis' order (the same scenario run against redis-server), JSON lines
 * under log-format json, CONFIG SET loglevel at runtime, and a log flushed
 * before the process exits (shutdown, signals, a start-up that fails).
 */

import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { RespClient, toJs } from './helpers/resp.js';
import { HAVE_REDIS, ROOT, freePort, redisServerPath, startRedis, startVireoProcess, tempDir, type ProcessHandle } from './helpers/servers.js';
import { waitFor } from './helpers/info.js';

const procs: ProcessHandle[] = [];
const clients: RespClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const p of procs.splice(0)) await p.kill();
});

/** serverLogRaw's line: `pid:role dd Mon yyyy hh:mm:ss.mmm <mark> message`. */
const VIREO_LINE = /^(\d+):([MS]) (\d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d{3}) ([.\-*#]) (.*)$/;
/** Redis also writes C (child) lines, and its signal handler's `pid:signal-handler (unixtime) message`. */
const REDIS_LINE = /^\d+:[MSCX] \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2}\.\d{3} [.\-*#] (.*)$/;
const REDIS_SIGNAL_LINE = /^\d+:signal-handler \(\d+\) (.*)$/;

type Server = 'vireo' | 'redis';

async function connect(port: number): Promise<RespClient> {
  const c = await RespClient.connect(port);
  clients.push(c);
  return c;
}

function exited(p: ProcessHandle): Promise<void> {
  return new Promise((r) => (p.proc.exitCode !== null || p.proc.signalCode !== null ? r() : p.proc.once('exit', () => r())));
}

async function start(kind: Server, dir: string, params: Record<string, string>): Promise<ProcessHandle> {
  const p =
    kind === 'redis'
      ? await startRedis({ dir, ...params })
      : await startVireoProcess(
          Object.entries({ 'enable-debug-command': 'yes', ...params }).flatMap(([k, v]) => [`--${k}`, v]),
          { dir },
        );
  procs.push(p);
  return p;
}

async function infoField(c: RespClient, field: string): Promise<string> {
  const info = toJs(await c.call('INFO', 'persistence')) as string;
  return new RegExp(`^${field}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
}

async function waitIdle(c: RespClient): Promise<void> {
  await waitFor('no background save or rewrite', async () => {
    for (const f of ['rdb_bgsave_in_progress', 'aof_rewrite_in_progress', 'aof_rewrite_scheduled']) if ((await infoField(c, f)) !== '0') return false;
    return true;
  });
}

/**
 * The scenario: start with appendonly on, SET, SAVE, BGSAVE, BGREWRITEAOF,
 * SHUTDOWN; start again (the AOF loads), SIGTERM. Returns the log's messages.
 */
async function runScenario(kind: Server): Promise<{ lines: string[]; messages: string[] }> {
  const dir = tempDir(`log-${kind}-`);
  const logfile = path.join(dir, `${kind}.log`);
  const params = { logfile, appendonly: 'yes', save: '' };
  let p = await start(kind, dir, params);
  let c = await connect(p.port);
  await c.call('SET', 'k', 'v');
  expect(toJs(await c.call('SAVE'))).toBe('OK');
  await c.call('BGSAVE');
  await waitIdle(c);
  await c.call('BGREWRITEAOF');
  await waitIdle(c);
  c.writeRaw('*1\r\n$8\r\nSHUTDOWN\r\n');
  await exited(p);
  p = await start(kind, dir, params);
  c = await connect(p.port);
  expect(toJs(await c.call('GET', 'k'))).toBe('v');
  await p.stop();
  const lines = fs.readFileSync(logfile, 'latin1').split('\n').filter((l) => l !== '');
  const message = (l: string) => (kind === 'vireo' ? VIREO_LINE.exec(l)?.[5] : (REDIS_LINE.exec(l)?.[1] ?? REDIS_SIGNAL_LINE.exec(l)?.[1]));
  return { lines, messages: lines.map((l) => message(l) ?? `<unparsed> ${l}`) };
}

/**
 * Redis' key messages of the scenario, in its order. Where Vireo's wording
 * may differ the pattern says how: Vireo for Redis in the banner and the
 * goodbye, and 7.2's "Ready to accept connections tcp" (7.0 has no "tcp").
 */
const KEY_MESSAGES: RegExp[] = [
  /^oO0OoO0OoO0Oo (Redis|Vireo) is starting oO0OoO0OoO0Oo$/,
  /^(Redis|Vireo) version=\S+, .*pid=\d+, just started$/,
  /^Configuration loaded$/,
  /^Running mode=standalone, port=\d+\.$/,
  /^Server initialized$/,
  /^Creating AOF base file appendonly\.aof\.1\.base\.rdb on server start$/,
  /^Creating AOF incr file appendonly\.aof\.1\.incr\.aof on server start$/,
  /^Ready to accept connections( tcp)?$/,
  /^DB saved on disk$/,
  /^Background saving started by pid \d+$/,
  /^Background saving terminated with success$/,
  /^Creating AOF incr file appendonly\.aof\.2\.incr\.aof on background rewrite$/,
  /^Background append only file rewriting started by pid \d+$/,
  /^Background AOF rewrite terminated with success$/,
  /^Successfully renamed the temporary AOF base file temp-rewriteaof-bg-\S+ into appendonly\.aof\.2\.base\.rdb$/,
  /^Removing the history file appendonly\.aof\.1\.incr\.aof in the background$/,
  /^Background AOF rewrite finished successfully$/,
  /^User requested shutdown\.\.\.$/,
  /^Calling fsync\(\) on the AOF file\.$/,
  /^(Redis|Vireo) is now ready to exit, bye bye\.\.\.$/,
  // The second start: the AOF loads.
  /^oO0OoO0OoO0Oo (Redis|Vireo) is starting oO0OoO0OoO0Oo$/,
  /^Server initialized$/,
  /^Reading RDB base file on AOF loading\.\.\.$/,
  /^Loading RDB produced by version 7\.\d+\.\d+$/,
  /^RDB age \d+ seconds$/,
  /^RDB memory usage when created \d+\.\d\d Mb$/,
  /^RDB is base AOF$/,
  /^Done loading RDB, keys loaded: 1, keys expired: 0\.$/,
  /^DB loaded from base file appendonly\.aof\.2\.base\.rdb: \d+\.\d{3} seconds$/,
  /^DB loaded from append only file: \d+\.\d{3} seconds$/,
  /^Opening AOF incr file appendonly\.aof\.2\.incr\.aof on server start$/,
  /^Ready to accept connections( tcp)?$/,
  /^Received SIGTERM scheduling shutdown\.\.\.$/,
  /^User requested shutdown\.\.\.$/,
  /^Calling fsync\(\) on the AOF file\.$/,
  /^(Redis|Vireo) is now ready to exit, bye bye\.\.\.$/,
];

/** The key messages found in order (each after the one before); the first missing one ends the list. */
function keyMessagesInOrder(messages: string[]): string[] {
  const found: string[] = [];
  let from = 0;
  for (const key of KEY_MESSAGES) {
    const at = messages.findIndex((m, i) => i >= from && key.test(m));
    if (at < 0) {
      found.push(`MISSING ${key}`);
      break;
    }
    found.push(String(key));
    from = at + 1;
  }
  return found;
}

describe('the log in Redis format', () => {
  it('every line has Redis format, and the scenario logs Redis key messages in its order', async () => {
    const { lines, messages } = await runScenario('vireo');
    const malformed = lines.filter((l) => !VIREO_LINE.test(l));
    expect(malformed).toEqual([]);
    expect(keyMessagesInOrder(messages)).toEqual(KEY_MESSAGES.map(String));
    // The goodbye is the last line of each run, after the signal that asked for it.
    expect(messages[messages.length - 1]).toBe('Vireo is now ready to exit, bye bye...');
    // The date is today's, in local time, as Redis writes it.
    const now = new Date();
    const day = `${String(now.getDate()).padStart(2, '0')} ${now.toLocaleString('en-US', { month: 'short' })} ${now.getFullYear()}`;
    expect(lines.some((l) => VIREO_LINE.exec(l)![3]!.startsWith(day))).toBe(true);
  }, 60000);

  it.skipIf(!HAVE_REDIS)('redis-server 7.0 logs the same key messages for the same scenario', async () => {
    const { messages } = await runScenario('redis');
    expect(keyMessagesInOrder(messages)).toEqual(KEY_MESSAGES.map(String));
  }, 60000);

  it('a replica marks its lines S', async () => {
    const dir = tempDir();
    const logfile = path.join(dir, 'vireo.log');
    const p = await start('vireo', dir, { logfile });
    const c = await connect(p.port);
    await c.call('REPLICAOF', '127.0.0.1', String(await freePort()));
    await c.call('DEBUG', 'LOG', 'now a replica');
    await waitFor('the marker', async () => fs.readFileSync(logfile, 'latin1').includes('now a replica'));
    const lines = fs.readFileSync(logfile, 'latin1').split('\n');
    expect(lines.find((l) => l.includes('Ready to accept connections'))).toMatch(/^\d+:M /);
    expect(lines.find((l) => l.includes('DEBUG LOG: now a replica'))).toMatch(/^\d+:S .* # DEBUG LOG: now a replica$/);
  });
});

describe('loglevel', () => {
  it('CONFIG SET loglevel warning suppresses notice lines until it is set back', async () => {
    const dir = tempDir();
    const logfile = path.join(dir, 'vireo.log');
    const p = await start('vireo', dir, { logfile, save: '' });
    const c = await connect(p.port);
    expect(toJs(await c.call('CONFIG', 'SET', 'loglevel', 'warning'))).toBe('OK');
    expect(toJs(await c.call('CONFIG', 'GET', 'loglevel'))).toEqual(['loglevel', 'warning']);
    await c.call('SAVE');
    await c.call('DEBUG', 'LOG', 'marker-1');
    await c.call('CONFIG', 'SET', 'loglevel', 'notice');
    await c.call('SAVE');
    await c.call('DEBUG', 'LOG', 'marker-2');
    await waitFor('the markers', async () => fs.readFileSync(logfile, 'latin1').includes('marker-2'));
    const messages = fs
      .readFileSync(logfile, 'latin1')
      .split('\n')
      .map((l) => VIREO_LINE.exec(l)?.[5] ?? '');
    const m1 = messages.indexOf('DEBUG LOG: marker-1');
    const m2 = messages.indexOf('DEBUG LOG: marker-2');
    const ready = messages.indexOf('Ready to accept connections tcp');
    expect([ready >= 0, m1 > ready, m2 > m1]).toEqual([true, true, true]);
    expect(messages.slice(ready + 1, m1)).toEqual([]);
    expect(messages.slice(m1 + 1, m2)).toEqual(['DB saved on disk']);
  });

  it('loglevel verbose adds the connection lines', async () => {
    const dir = tempDir();
    const logfile = path.join(dir, 'vireo.log');
    const p = await start('vireo', dir, { logfile, loglevel: 'verbose' });
    const c = await connect(p.port);
    await c.call('DEBUG', 'LOG', 'marker');
    await waitFor('the marker', async () => fs.readFileSync(logfile, 'latin1').includes('marker'));
    expect(fs.readFileSync(logfile, 'latin1')).toMatch(/^\d+:M .* - Accepted 127\.0\.0\.1:\d+$/m);
  });
});

describe('log-format json', () => {
  it('writes one JSON object a line, with Redis level names', async () => {
    const dir = tempDir();
    const logfile = path.join(dir, 'vireo.log');
    const p = await start('vireo', dir, { logfile, 'log-format': 'json', save: '' });
    const c = await connect(p.port);
    expect(toJs(await c.call('CONFIG', 'GET', 'log-format'))).toEqual(['log-format', 'json']);
    await c.call('SAVE');
    await p.stop();
    const records = fs
      .readFileSync(logfile, 'latin1')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as { level: string; msg: string; pid: number; role: string; time: string });
    for (const r of records) {
      expect(['debug', 'verbose', 'notice', 'warning']).toContain(r.level);
      expect(r.pid).toBe(p.proc.pid);
      expect(r.role).toBe('M');
      expect(Number.isNaN(Date.parse(r.time))).toBe(false);
    }
    const seen = records.map((r) => `${r.level} ${r.msg}`);
    expect(seen).toContain('notice Server initialized');
    expect(seen).toContain('notice DB saved on disk');
    expect(seen.indexOf('warning Received SIGTERM scheduling shutdown...')).toBeLessThan(seen.indexOf('warning Vireo is now ready to exit, bye bye...'));
    expect(seen[seen.length - 1]).toBe('warning Vireo is now ready to exit, bye bye...');
  });
});

describe('a start-up that fails', () => {
  it('logs why and flushes the log before the process exits', async () => {
    const dir = tempDir();
    const logfile = path.join(dir, 'vireo.log');
    const busy = await start('vireo', dir, { save: '' });
    const r = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js'), '--port', String(busy.port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', logfile], { timeout: 20000 });
    expect(r.status).toBe(1);
    const messages = fs
      .readFileSync(logfile, 'latin1')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => VIREO_LINE.exec(l)?.[5]);
    expect(messages[messages.length - 1]).toBe(`Failed listening on port ${busy.port} (TCP), aborting.`);
    expect(messages[messages.length - 2]).toMatch(/^Warning: Could not create server TCP listening socket 127\.0\.0\.1:\d+: /);
  });

  it.skipIf(!HAVE_REDIS)('a logfile that cannot be opened stops start-up, as in redis-server', () => {
    const missing = path.join(tempDir(), 'no-such-dir', 'x.log');
    const vireo = spawnSync(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js'), '--port', '0', '--dir', tempDir(), '--logfile', missing], { timeout: 20000 });
    const redis = spawnSync(redisServerPath()!, ['--port', '0', '--logfile', missing], { timeout: 20000 });
    expect([vireo.status, redis.status]).toEqual([1, 1]);
    const error = "Can't open the log file: No such file or directory";
    expect(redis.stderr.toString()).toContain(error);
    expect(vireo.stderr.toString()).toContain(error);
  });
});
