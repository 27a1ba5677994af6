/**
 * Start-up and shutdown around persistence: SHUTDOWN SAVE|NOSAVE, SIGTERM
 * with save points, -LOADING while a dataset loads, INFO persistence.
 */

import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { RespClient, toJs } from './helpers/resp.js';
import { ROOT, freePort, startVireoProcess, tempDir, type ProcessHandle } from './helpers/servers.js';

const DEBUG = ['--enable-debug-command', 'yes'];
const procs: ProcessHandle[] = [];
const clients: RespClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const p of procs.splice(0)) await p.kill();
});

async function connect(port: number): Promise<RespClient> {
  const c = await RespClient.connect(port);
  clients.push(c);
  return c;
}

async function start(args: string[], dir: string): Promise<{ p: ProcessHandle; c: RespClient }> {
  const p = await startVireoProcess([...DEBUG, ...args], { dir });
  procs.push(p);
  return { p, c: await connect(p.port) };
}

function exited(p: ProcessHandle): Promise<void> {
  return new Promise((r) => (p.proc.exitCode !== null ? r() : p.proc.once('exit', () => r())));
}

describe('shutdown and start-up', () => {
  it('SHUTDOWN SAVE writes dump.rdb; NOSAVE does not; the next start loads it', async () => {
    const dir = tempDir();
    let { p, c } = await start(['--save', ''], dir);
    await c.call('SET', 'k', 'v');
    await c.call('HSET', 'h', 'f', 'v');
    c.writeRaw('*2\r\n$8\r\nSHUTDOWN\r\n$4\r\nSAVE\r\n');
    await exited(p);
    expect(fs.existsSync(path.join(dir, 'dump.rdb'))).toBe(true);
    ({ p, c } = await start(['--save', ''], dir));
    expect(toJs(await c.call('MGET', 'k', 'nope'))).toEqual(['v', null]);
    expect(toJs(await c.call('HGET', 'h', 'f'))).toBe('v');
    const info = toJs(await c.call('INFO', 'persistence')) as string;
    expect(info).toContain('rdb_last_load_keys_loaded:2');
    await c.call('SET', 'k', 'changed');
    c.writeRaw('*2\r\n$8\r\nSHUTDOWN\r\n$6\r\nNOSAVE\r\n');
    await exited(p);
    ({ p, c } = await start(['--save', ''], dir));
    expect(toJs(await c.call('GET', 'k'))).toBe('v');
    expect((await c.call('SHUTDOWN', 'SAVE', 'NOSAVE')).value).toBe('ERR syntax error');
    expect((await c.call('SHUTDOWN', 'ABORT', 'NOW')).value).toBe('ERR syntax error');
  });

  it('SIGTERM saves when save points are configured', async () => {
    const dir = tempDir();
    const { p, c } = await start(['--save', '3600 1'], dir);
    await c.call('SET', 'k', 'v');
    await p.stop();
    expect(fs.existsSync(path.join(dir, 'dump.rdb'))).toBe(true);
    const again = await start(['--save', '3600 1'], dir);
    expect(toJs(await again.c.call('GET', 'k'))).toBe('v');
  });

  it('a failing save makes SHUTDOWN answer an error and keep serving, unless FORCE', async () => {
    const dir = tempDir();
    const { p, c } = await start(['--save', '3600 1'], dir);
    await c.call('SET', 'k', 'v');
    fs.mkdirSync(path.join(dir, 'dump.rdb'));
    fs.writeFileSync(path.join(dir, 'dump.rdb', 'x'), 'in the way');
    expect((await c.call('SHUTDOWN')).value).toBe('ERR Errors trying to SHUTDOWN. Check logs.');
    expect(toJs(await c.call('GET', 'k'))).toBe('v');
    c.writeRaw('*2\r\n$8\r\nSHUTDOWN\r\n$5\r\nFORCE\r\n');
    await exited(p);
  });

  it('answers -LOADING while a big dataset loads, with progress in INFO persistence', async () => {
    const dir = tempDir();
    const { p, c } = await start(['--save', ''], dir);
    await c.call('DEBUG', 'POPULATE', '1500000', 'key', '32');
    expect(toJs(await c.call('SAVE'))).toBe('OK');
    await p.kill();
    // Spawn by hand: startVireoProcess waits until loading is over.
    const port = await freePort();
    const proc = spawn(process.execPath, [path.join(ROOT, 'dist', 'src', 'main.js'), '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', ''], { stdio: 'ignore' });
    procs.push({ port, dir, proc, output: () => '', kill: async () => { if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL'); await new Promise((r) => (proc.exitCode !== null || proc.signalCode !== null ? r(null) : proc.once('exit', r))); }, stop: async () => {} });
    let conn: RespClient | null = null;
    while (conn === null) {
      conn = await RespClient.connect(port).catch(() => null);
      if (conn === null) await new Promise((r) => setTimeout(r, 5));
    }
    clients.push(conn);
    const first = await conn.call('GET', 'key:1');
    expect(first).toEqual({ type: 'error', value: 'LOADING Redis is loading the dataset in memory' });
    const info = toJs(await conn.call('INFO', 'persistence')) as string;
    expect(info).toMatch(/loading:1/);
    expect(info).toMatch(/loading_loaded_perc:\d+\.\d\d/);
    expect(Number(/loading_total_bytes:(\d+)/.exec(info)![1])).toBe(fs.statSync(path.join(dir, 'dump.rdb')).size);
    for (;;) {
      const r = await conn.call('DBSIZE');
      if (r.type === 'integer') {
        expect(Number(r.value)).toBe(1500000);
        break;
      }
      await new Promise((r2) => setTimeout(r2, 20));
    }
    expect(toJs(await conn.call('GET', 'key:1'))).toBe('value:1'.padEnd(32, '\0'));
  }, 60_000);
});
