/**
 * Saves and rewrites that cannot finish: the replies and INFO fields of
 * SAVE, BGSAVE and BGREWRITEAOF when the data directory is gone (compared
 * with redis-server), and the temp files a kill -9 leaves behind, which
 * start-up removes.
 */

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { useCleanups, js } from './helpers/cleanups.js';
import { RespClient, toJs } from './helpers/resp.js';
import { HAVE_REDIS, startRedis, startVireoProcess, tempDir, type ProcessHandle } from './helpers/servers.js';
import { readInfo, waitFor } from './helpers/info.js';

const { track, client, defer } = useCleanups();

const infoField = (c: RespClient, field: string) => readInfo(c, 'persistence', field);

/** The replies and statuses of every save command once the data directory is deleted. */
async function savesIntoMissingDir(c: RespClient, dataDir: string): Promise<unknown[]> {
  const seen: unknown[] = [];
  expect(await js(c, 'SET', 'k', 'v')).toBe('OK');
  fs.rmSync(dataDir, { recursive: true });
  seen.push(await js(c, 'BGSAVE'));
  await waitFor('bgsave', async () => (await infoField(c, 'rdb_bgsave_in_progress')) === '0');
  seen.push(await infoField(c, 'rdb_last_bgsave_status'));
  seen.push(await c.call('SAVE'));
  seen.push(await infoField(c, 'rdb_last_bgsave_status'));
  seen.push(await c.call('BGREWRITEAOF'));
  await waitFor('rewrite', async () => (await infoField(c, 'aof_rewrite_in_progress')) === '0');
  seen.push(await infoField(c, 'aof_last_bgrewrite_status'));
  // No save points: nothing is refused.
  seen.push(await js(c, 'SET', 'k', 'w'));
  return seen;
}

describe('SAVE, BGSAVE and BGREWRITEAOF into a directory that is gone', () => {
  it('answer as redis-server does, and the log says why', async () => {
    const base = tempDir();
    const vireoDir = path.join(base, 'vireo');
    fs.mkdirSync(vireoDir);
    const p = track(await startVireoProcess(['--save', ''], { dir: vireoDir }));
    const vireo = await savesIntoMissingDir(await client(p.port), vireoDir);
    expect(vireo).toEqual([
      'Background saving started',
      'err',
      { type: 'error', value: 'ERR' },
      'err',
      { type: 'error', value: "ERR Can't execute an AOF background rewriting. Please check the server logs for more information." },
      'err',
      'OK',
    ]);
    const log = p.output();
    expect(log).toMatch(/Failed opening the temp RDB file temp-bg-\d+-\d+\.rdb \(in server root dir [^)]+\) for saving: No such file or directory/);
    expect(log).toContain('Background saving error');
    expect(log).toMatch(/Failed opening the temp RDB file temp-\d+-\d+\.rdb .* for saving: No such file or directory/);
    expect(log).toContain("Can't open or create append-only dir appendonlydir: No such file or directory");
    // The data directory is not recreated behind the user's back.
    expect(fs.existsSync(vireoDir)).toBe(false);
    if (!HAVE_REDIS) return;
    const redisDir = path.join(base, 'redis');
    fs.mkdirSync(redisDir);
    const r = track(await startRedis({ dir: redisDir }));
    expect(await savesIntoMissingDir(await client(r.port), redisDir)).toEqual(vireo);
  }, 20_000);
});

/** A pid no process has now (a child that already exited). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

describe('temp files of an interrupted save or rewrite', () => {
  it('a kill -9 during BGSAVE and BGREWRITEAOF leaves temp files; the next start-up removes them (and only ours)', async () => {
    const dir = tempDir();
    const aofDir = path.join(dir, 'appendonlydir');
    const args = ['--save', '', '--appendonly', 'yes', '--enable-debug-command', 'yes'];
    let p = track(await startVireoProcess(args, { dir }));
    let c = await client(p.port);
    // Enough keys that a snapshot takes many event-loop turns.
    expect(await js(c, 'DEBUG', 'POPULATE', '300000', 'key', '100')).toBe('OK');
    const temps = (where: string, re: RegExp) => fs.readdirSync(where).filter((n) => re.test(n));
    expect(await js(c, 'BGREWRITEAOF')).toBe('Background append only file rewriting started');
    await p.kill();
    expect(temps(aofDir, /^temp-rewriteaof-bg-/)).toHaveLength(1);

    // Beside it: a stale manifest temp, another live process' temp, files that are not ours.
    const dead = deadPid();
    fs.writeFileSync(path.join(aofDir, `appendonly.aof.manifest.tmp-${dead}`), 'x');
    fs.writeFileSync(path.join(dir, `temp-${process.pid}-1.rdb`), 'a live process is writing this');
    fs.writeFileSync(path.join(dir, 'temp-notes.rdb'), 'not ours');
    fs.writeFileSync(path.join(aofDir, 'temp-1234.rdb'), "redis-server's name, not ours");

    p = track(await startVireoProcess(args, { dir }));
    await waitFor('the log line', async () => p.output().includes('Removed'));
    expect(p.output()).toMatch(/Removed 2 temp file\(s\) left in \S+appendonlydir by an interrupted save or AOF rewrite: /);
    expect(temps(aofDir, /^temp-rewriteaof-bg-|\.tmp-/)).toEqual([]);
    expect(temps(aofDir, /^temp-1234\.rdb$/)).toHaveLength(1);
    expect(temps(dir, /^temp-/).sort()).toEqual([`temp-${process.pid}-1.rdb`, 'temp-notes.rdb']);
    c = await client(p.port);
    expect(await js(c, 'DBSIZE')).toBe('300000');
    expect(await js(c, 'BGSAVE')).toBe('Background saving started');
    await p.kill();
    expect(temps(dir, /^temp-bg-/)).toHaveLength(1);

    p = track(await startVireoProcess(args, { dir }));
    await waitFor('the log line', async () => p.output().includes('Removed'));
    expect(p.output()).toMatch(/Removed 1 temp file\(s\) left in \S+ by an interrupted save or AOF rewrite: temp-bg-\d+-\d+\.rdb/);
    expect(temps(dir, /^temp-/).sort()).toEqual([`temp-${process.pid}-1.rdb`, 'temp-notes.rdb']);
    expect(await js(await client(p.port), 'DBSIZE')).toBe('300000');
  }, 60_000);
});
