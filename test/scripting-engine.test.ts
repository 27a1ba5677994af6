/**
 * What the differential corpus cannot show: how a script meets the rest
 * of the server. Its effects enter the AOF as MULTI/EXEC of the commands
 * it ran (never the script), a busy script is suspended so other clients
 * get -BUSY and SCRIPT KILL works (also inside pcall), the caller's
 * pipeline waits for it, and bad scripts (unbounded memory, deep
 * recursion, huge replies, pipelines of EVALs) get errors, not a crash.
 */

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { useCleanups, js } from './helpers/cleanups.js';
import { RespClient, encodeCommand, toJs } from './helpers/resp.js';
import { startVireo, startVireoProcess } from './helpers/servers.js';

const { track, client } = useCleanups();

function aofText(dir: string): string {
  const aofDir = path.join(dir, 'appendonlydir');
  return fs
    .readdirSync(aofDir)
    .filter((f) => f.endsWith('.incr.aof'))
    .map((f) => fs.readFileSync(path.join(aofDir, f), 'latin1'))
    .join('');
}

/** Poll `probe` until `done(reply)` holds. */
async function until(probe: () => Promise<unknown>, done: (v: unknown) => boolean): Promise<unknown> {
  for (let i = 0; i < 500; i++) {
    const v = await probe();
    if (done(v)) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('condition not reached');
}

describe('scripts and the command log', () => {
  it("logs a script's effects as MULTI/EXEC, not the script; read-only scripts log nothing; replay rebuilds the same state", async () => {
    const s = track(await startVireoProcess(['--appendonly', 'yes', '--appendfsync', 'always', '--save', '']));
    const c = await client(s.port);
    // math.random makes the script itself non-deterministic: only its effects replay exactly.
    const write = "redis.call('set', KEYS[1], tostring(math.random())) redis.call('incr', KEYS[2]) return redis.call('get', KEYS[1])";
    const value = await js(c, 'EVAL', write, '2', 'r', 'n');
    await js(c, 'EVAL', "return redis.call('get', KEYS[1])", '1', 'r');
    const sha = (await js(c, 'SCRIPT', 'LOAD', "return redis.call('incrby', KEYS[1], ARGV[1])")) as string;
    expect(await js(c, 'EVALSHA', sha, '1', 'n', '5')).toBe('6');
    const aof = aofText(s.dir);
    expect(aof).not.toMatch(/EVAL/i);
    expect(aof).toMatch(/\*1\r\n\$5\r\nMULTI\r\n[\s\S]*\$3\r\nset\r\n\$1\r\nr\r\n[\s\S]*\$4\r\nincr\r\n\$1\r\nn\r\n\*1\r\n\$4\r\nEXEC\r\n/i);
    // One effect needs no transaction: EVALSHA's INCRBY is logged as itself.
    expect(aof).toMatch(/\$6\r\nincrby\r\n\$1\r\nn\r\n\$1\r\n5\r\n/i);
    await s.kill();
    const again = track(await startVireoProcess(['--appendonly', 'yes', '--save', ''], { dir: s.dir }));
    const c2 = await client(again.port);
    expect(await js(c2, 'GET', 'r')).toBe(value);
    expect(await js(c2, 'GET', 'n')).toBe('6');
  });
});

describe('busy scripts', () => {
  it('other clients get -BUSY while a script loops; SCRIPT KILL stops it, also inside pcall', async () => {
    const v = track(await startVireo({ 'busy-reply-threshold': '50' }));
    const a = await client(v.port);
    const b = await client(v.port);
    for (const body of ['while true do end', 'pcall(function() while true do end end)', 'while true do pcall(function() end) end']) {
      const running = a.call('EVAL', body, '0');
      await until(() => js(b, 'PING'), (r) => r instanceof Error && /^BUSY Redis is busy running a script/.test(r.message));
      expect(await js(b, 'SET', 'k', 'v')).toBeInstanceOf(Error);
      expect(await js(b, 'SCRIPT', 'KILL')).toBe('OK');
      const reply = toJs(await running) as Error;
      expect(reply.message).toMatch(/^ERR Script killed by user with SCRIPT KILL\.\.\. script: [0-9a-f]{40}, on @user_script:1\.$/);
      expect(await js(b, 'PING')).toBe('PONG');
    }
    expect(await js(b, 'SCRIPT', 'KILL')).toEqual(new Error('NOTBUSY No scripts in execution right now.'));
  });

  it('a script that wrote cannot be killed and runs to its end; the caller\'s pipeline waits for it', async () => {
    const v = track(await startVireo({ 'busy-reply-threshold': '50' }));
    const a = await client(v.port);
    const b = await client(v.port);
    const body = "redis.call('set', 'w', '1') local t = os.clock() while os.clock() - t < 0.4 do end return redis.call('incr', 'w')";
    a.writeRaw(Buffer.concat([encodeCommand(['EVAL', body, '0']), encodeCommand(['GET', 'w'])]));
    await until(() => js(b, 'PING'), (r) => r instanceof Error);
    expect(((await js(b, 'SCRIPT', 'KILL')) as Error).message).toMatch(/^UNKILLABLE Sorry the script already executed write commands/);
    expect(((await js(b, 'SHUTDOWN')) as Error).message).toMatch(/^BUSY/);
    expect(toJs((await a.read()).reply)).toBe('2');
    expect(toJs((await a.read()).reply)).toBe('2');
    expect(await js(b, 'GET', 'w')).toBe('2');
  });
});

describe('bad scripts get errors, the server stays up', () => {
  it('unbounded allocation fails with "not enough memory" under lua-memory-limit', async () => {
    const v = track(await startVireo({ 'lua-memory-limit': '32mb' }));
    const c = await client(v.port);
    const r = (await js(c, 'EVAL', "local t = {} for i = 1, 1e9 do t[i] = string.rep('x', 100) .. i end", '0')) as Error;
    expect(r.message).toMatch(/not enough memory/);
    expect(await js(c, 'EVAL', 'return 1', '0')).toBe('1');
    expect(await js(c, 'CONFIG', 'GET', 'lua-memory-limit')).toEqual(['lua-memory-limit', String(32 * 1024 * 1024)]);
  });

  it('deep recursion is a stack overflow error; a huge array is returned whole', async () => {
    const v = track(await startVireo());
    const c = await client(v.port);
    const r = (await js(c, 'EVAL', 'local function f(n) return 1 + f(n + 1) end return f(1)', '0')) as Error;
    expect(r.message).toMatch(/stack overflow/);
    const big = (await js(c, 'EVAL', 'local t = {} for i = 1, 100000 do t[i] = i end return t', '0')) as string[];
    expect(big.length).toBe(100000);
    expect(big[99999]).toBe('100000');
  });

  it('blocking commands inside a script answer at once; SELECT inside a script stays inside', async () => {
    const v = track(await startVireo());
    const c = await client(v.port);
    expect(await js(c, 'EVAL', "return redis.call('blpop', 'nolist', 0)", '0')).toBe(null);
    expect(await js(c, 'EVAL', "redis.call('select', 5) redis.call('set', 'in5', '1') return 1", '0')).toBe('1');
    expect(await js(c, 'EXISTS', 'in5')).toBe('0');
    expect(await js(c, 'SELECT', '5')).toBe('OK');
    expect(await js(c, 'EXISTS', 'in5')).toBe('1');
  });

  it('redis.call passes big and many arguments byte for byte, then small ones again', async () => {
    const v = track(await startVireo());
    const c = await client(v.port);
    // 3 MB with every byte value (the argument buffer grows, then shrinks for the small calls after).
    const script = "local s = string.rep(ARGV[1], 3 * 4096) redis.call('set', KEYS[1], s) return redis.call('strlen', KEYS[1])";
    const every = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join('');
    expect(await js(c, 'EVAL', script, '1', 'big', every)).toBe(String(3 * 4096 * 256));
    expect(await js(c, 'EVAL', "return redis.call('getrange', KEYS[1], 0, 255) == ARGV[1]", '1', 'big', every)).toBe('1');
    const many = 'local t = {} for i = 1, 7000 do t[i] = i * 1.5 end return redis.call("rpush", KEYS[1], unpack(t))';
    expect(await js(c, 'EVAL', many, '1', 'list')).toBe('7000');
    expect(await js(c, 'LRANGE', 'list', '6999', '-1')).toEqual(['10500']);
    expect(await js(c, 'EVAL', "return redis.call('set', KEYS[1], ARGV[1])", '1', 'small', '')).toBe('OK');
    expect(await js(c, 'EVAL', "return {redis.call('strlen', KEYS[1]), redis.pcall('get', {})}", '1', 'small')).toEqual([
      '0',
      new Error('ERR Lua redis lib command arguments must be strings or integers'),
    ]);
  });

  it('a pipeline of thousands of EVALs gets every reply in order', async () => {
    const v = track(await startVireo());
    const c: RespClient = await client(v.port);
    const n = 5000;
    const batch: Buffer[] = [];
    for (let i = 0; i < n; i++) batch.push(encodeCommand(['EVAL', "return redis.call('incrby', KEYS[1], ARGV[1])", '1', 'p', '1']));
    c.writeRaw(Buffer.concat(batch));
    for (let i = 1; i <= n; i++) expect(toJs((await c.read()).reply)).toBe(String(i));
  });
});
