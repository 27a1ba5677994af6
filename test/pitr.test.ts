/**
 * Point-in-time recovery: retired AOF files are archived (aof-archive yes)
 * and vireo-restore rebuilds the dataset as of a time or a log offset into
 * a new directory that Vireo and redis-server start on.
 */

import { describe, it, expect, afterEach } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { RespClient, toJs } from './helpers/resp.js';
import { HAVE_REDIS, startRedis, startVireo, tempDir, type ProcessHandle, type VireoHandle } from './helpers/servers.js';
import { runRestore } from '../src/tools/restore.js';
import { readInfo } from './helpers/info.js';

const handles: (VireoHandle | ProcessHandle)[] = [];
const clients: RespClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const h of handles.splice(0)) await ('kill' in h ? h.kill() : h.stop());
});

async function connect(port: number): Promise<RespClient> {
  const c = await RespClient.connect(port);
  clients.push(c);
  return c;
}

const info = readInfo;

/** BGREWRITEAOF, then wait until it is done and the files it retired are in the archive (archived in the background). */
async function rewrite(c: RespClient): Promise<void> {
  expect(toJs(await c.call('BGREWRITEAOF'))).toBe('Background append only file rewriting started');
  for (;;) {
    if ((await info(c, 'persistence', 'aof_rewrite_in_progress')) === '0' && (await info(c, 'persistence', 'aof_archive_pending')) === '0') return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function nextSecond(): Promise<void> {
  const s = Math.floor(Date.now() / 1000);
  while (Math.floor(Date.now() / 1000) === s) await new Promise((r) => setTimeout(r, 20));
}

async function keysOf(port: number): Promise<string[]> {
  const c = await connect(port);
  return ((toJs(await c.call('KEYS', '*')) as string[]) ?? []).sort();
}

function restore(args: string[]): { code: number; out: string } {
  const lines: string[] = [];
  const code = runRestore(args, (l) => lines.push(l));
  return { code, out: lines.join('\n') };
}

const names = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}:${i}`);

describe('point-in-time recovery', () => {
  it('restores the dataset as of a time or a log offset, from archived and live AOF files', async () => {
    const v = await startVireo({ appendonly: 'yes', appendfsync: 'always', save: '', 'aof-archive': 'yes' });
    handles.push(v);
    const c = await connect(v.port);
    for (const k of names('a', 20)) await c.call('SET', k, 'A');
    const timeA = Date.now();
    await nextSecond();
    await rewrite(c);
    for (const k of names('b', 20)) await c.call('SET', k, 'B');
    await c.call('DEL', 'a:0');
    const offsetB = Number(await info(c, 'replication', 'master_repl_offset'));
    const timeB = Date.now();
    await nextSecond();
    await rewrite(c);
    for (const k of names('c', 20)) await c.call('RPUSH', k, 'C');
    await c.call('MULTI');
    await c.call('SET', 'tx:1', '1');
    await c.call('SET', 'tx:2', '2');
    await c.call('EXEC');

    // Retired files went to the archive, compressed.
    const archive = path.join(v.dir, 'appendonlydir-archive');
    const archived = fs.readdirSync(archive).filter((f) => f.endsWith('.lz4'));
    expect(archived.some((f) => f.includes('.base.'))).toBe(true);
    expect(archived.some((f) => f.includes('.incr.'))).toBe(true);

    const listed = restore(['--dir', v.dir, '--list']);
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(/base .*appendonly\.aof\.1\.base\.rdb from offset 0/);

    const expectations: [string[], string[]][] = [
      [['--time', new Date(timeA).toISOString()], names('a', 20)],
      [['--time', String(Math.floor(timeB / 1000))], [...names('a', 20).slice(1), ...names('b', 20)]],
      [['--offset', String(offsetB)], [...names('a', 20).slice(1), ...names('b', 20)]],
      [['--time', new Date(Date.now() + 60_000).toISOString()], [...names('a', 20).slice(1), ...names('b', 20), ...names('c', 20), 'tx:1', 'tx:2']],
    ];
    for (const [target, want] of expectations) {
      const out = tempDir('vireo-pitr-');
      const r = restore(['--dir', v.dir, ...target, '--out', out]);
      expect(r.code, r.out).toBe(0);
      const restored = await startVireo({ dir: out, appendonly: 'yes', save: '' });
      handles.push(restored);
      expect(await keysOf(restored.port), target.join(' ')).toEqual([...want].sort());
    }

    // Before the first snapshot there is nothing to restore from.
    const none = restore(['--dir', v.dir, '--time', '2001-01-01T00:00:00Z', '--out', tempDir('vireo-pitr-')]);
    expect(none.code).toBe(1);
    expect(none.out).toMatch(/no snapshot at or before 2001-01-01T00:00:00.000Z/);
  }, 30_000);

  it('cuts an offset inside a transaction before the transaction', async () => {
    const v = await startVireo({ appendonly: 'yes', save: '', 'aof-archive': 'yes' });
    handles.push(v);
    const c = await connect(v.port);
    await c.call('SET', 'before', '1');
    const offset = Number(await info(c, 'replication', 'master_repl_offset'));
    await c.call('MULTI');
    await c.call('SET', 'in-tx-1', '1');
    await c.call('SET', 'in-tx-2', '1');
    await c.call('EXEC');
    // An offset in the middle of the MULTI ... EXEC record.
    const out = tempDir('vireo-pitr-');
    expect(restore(['--dir', v.dir, '--offset', String(offset + 30), '--out', out]).code).toBe(0);
    const restored = await startVireo({ dir: out, appendonly: 'yes', save: '' });
    handles.push(restored);
    expect(await keysOf(restored.port)).toEqual(['before']);
  });

  it.skipIf(!HAVE_REDIS)('the restored AOF directory loads in redis-server', async () => {
    const v = await startVireo({ appendonly: 'yes', save: '', 'aof-archive': 'yes' });
    handles.push(v);
    const c = await connect(v.port);
    for (const k of names('k', 10)) await c.call('HSET', k, 'f', 'v');
    await rewrite(c);
    await c.call('SET', 'later', '1');
    const out = tempDir('vireo-pitr-');
    expect(restore(['--dir', v.dir, '--time', new Date(Date.now() + 60_000).toISOString(), '--out', out]).code).toBe(0);
    const ref = await startRedis({ dir: out, appendonly: 'yes' });
    handles.push(ref);
    expect(await keysOf(ref.port)).toEqual([...names('k', 10), 'later'].sort());
  });
});
