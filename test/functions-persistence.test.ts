/**
 * Function libraries outlive the process and reach replicas: FUNCTION
 * LOAD/DELETE/FLUSH/RESTORE replayed from the AOF (also after a rewrite,
 * with and without the RDB preamble), snapshots carrying each library as
 * RDB opcode 245 (SAVE and restart, DEBUG RELOAD, DEBUG LOADAOF), RDB files
 * of redis-server 7.0 loaded here and ours loaded there, FUNCTION DUMP
 * payloads restored across the two, replicas (Vireo's and redis-server's)
 * getting libraries by full sync and by the stream, and the INFO memory
 * fields that count them.
 */

import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { useCleanups } from './helpers/cleanups.js';
import { infoField, waitFor } from './helpers/info.js';
import { waitInSync } from './helpers/replication.js';
import { toJs, type Reply, type RespClient } from './helpers/resp.js';
import { HAVE_REDIS, startRedis, startVireo, tempDir } from './helpers/servers.js';

const { track, client } = useCleanups();

const lib = (name: string, body: string): string => `#!lua name=${name}\n${body}`;

const GREET = lib(
  'greet',
  [
    "redis.register_function('hello', function(keys, args) return 'hello ' .. args[1] end)",
    "redis.register_function{function_name = 'getter', callback = function(keys) return redis.call('get', keys[1]) end, flags = {'no-writes'}, description = 'reads a key'}",
  ].join('\n'),
);
const COUNTER = lib('counter', "redis.register_function('bump', function(keys) return redis.call('incr', keys[1]) end)");
// Long enough (and repetitive enough) to be stored LZF-compressed.
const LONG = lib('long', `${Array.from({ length: 40 }, (_, i) => `local v${i} = 'filler filler filler ${i}'`).join('\n')}\nredis.register_function('long', function() return v39 end)`);

/** FUNCTION LIST WITHCODE, libraries and their functions sorted: redis-server lists both in its dicts' order. */
async function listWithCode(c: RespClient): Promise<string[]> {
  const r = toJs(await c.call('FUNCTION', 'LIST', 'WITHCODE')) as unknown[][];
  return r
    .map((l) => JSON.stringify(l.map((v, i) => (l[i - 1] === 'functions' ? (v as unknown[]).map((f) => JSON.stringify(f)).sort() : v))))
    .sort();
}

async function loadAll(c: RespClient, ...codes: string[]): Promise<void> {
  for (const code of codes) expect(await text(c, 'FUNCTION', 'LOAD', code)).toBe(/^#!lua name=(\w+)/.exec(code)![1]);
}

async function libraryNames(c: RespClient): Promise<string[]> {
  const r = toJs(await c.call('FUNCTION', 'LIST')) as unknown[][];
  return r.map((l) => String(l[1])).sort();
}

/** A reply that is one string (bulk, status, integer or error) as its text. */
async function text(c: RespClient, ...args: (string | Buffer)[]): Promise<string> {
  const r = await c.call(...args);
  if (r.type === 'bulk' || r.type === 'simple' || r.type === 'error' || r.type === 'integer') return String(r.value);
  throw new Error(`${args.join(' ').slice(0, 60)}: not a single string: ${JSON.stringify(r)}`);
}

function bulk(r: Reply): Buffer {
  if (r.type !== 'bulk' || r.value === null) throw new Error(`not a bulk string: ${JSON.stringify(r)}`);
  return Buffer.from(r.value, 'latin1');
}

describe('functions in the AOF', () => {
  for (const preamble of ['yes', 'no']) {
    it(`LOAD, DELETE, RESTORE and FLUSH replay after a restart and after BGREWRITEAOF (aof-use-rdb-preamble ${preamble})`, async () => {
      const dir = tempDir();
      const params = { dir, appendonly: 'yes', 'aof-use-rdb-preamble': preamble };
      const v1 = await startVireo(params);
      let c = await client(v1.port);
      await loadAll(c, GREET, COUNTER);
      const payload = bulk(await c.call('FUNCTION', 'DUMP'));
      expect(await text(c, 'FUNCTION', 'DELETE', 'counter')).toBe('OK');
      expect(await text(c, 'FUNCTION', 'LOAD', 'REPLACE', lib('greet', "redis.register_function('hello', function() return 'replaced' end)"))).toBe('greet');
      expect(await text(c, 'FUNCTION', 'RESTORE', payload, 'REPLACE')).toBe('OK');
      expect(await text(c, 'FUNCTION', 'FLUSH')).toBe('OK');
      await loadAll(c, COUNTER, LONG);
      expect(await text(c, 'FCALL', 'bump', '1', 'n')).toBe('1');
      const before = await listWithCode(c);
      await v1.stop();

      const v2 = await startVireo(params);
      c = await client(v2.port);
      expect(await listWithCode(c)).toEqual(before);
      expect(await text(c, 'FCALL', 'bump', '1', 'n')).toBe('2');
      expect(await text(c, 'FCALL', 'long', '0')).toBe('filler filler filler 39');
      // The rewrite's base holds the libraries (RDB opcode 245, or FUNCTION LOAD commands).
      expect(await text(c, 'BGREWRITEAOF')).toMatch(/rewriting started/);
      await waitFor('the rewrite', async () => infoField(await c.call('INFO', 'persistence'), 'aof_rewrite_in_progress') === '0');
      await loadAll(c, GREET);
      const rewritten = await listWithCode(c);
      await v2.stop();

      const v3 = track(await startVireo(params));
      c = await client(v3.port);
      expect(await listWithCode(c)).toEqual(rewritten);
      expect(await text(c, 'FCALL', 'hello', '0', 'aof')).toBe('hello aof');
    });
  }

  it('DEBUG LOADAOF empties the libraries before replaying the files', async () => {
    const v = track(await startVireo({ appendonly: 'yes', 'aof-use-rdb-preamble': 'no' }));
    const c = await client(v.port);
    await loadAll(c, GREET);
    expect(await text(c, 'DEBUG', 'LOADAOF')).toBe('OK');
    expect(await libraryNames(c)).toEqual(['greet']);
  });
});

describe('functions in RDB snapshots', () => {
  it('SAVE and a restart, DEBUG RELOAD with its options, a damaged library refused', async () => {
    const dir = tempDir();
    const v1 = await startVireo({ dir });
    let c = await client(v1.port);
    await loadAll(c, GREET, LONG);
    await c.call('SET', 'k', 'v');
    expect(await text(c, 'SAVE')).toBe('OK');
    const before = await listWithCode(c);
    await v1.stop();

    const v2 = track(await startVireo({ dir }));
    c = await client(v2.port);
    expect(await listWithCode(c)).toEqual(before);
    expect(await text(c, 'FCALL_RO', 'getter', '1', 'k')).toBe('v');

    // DEBUG RELOAD saves, empties libraries and keys, and loads both back.
    await loadAll(c, COUNTER);
    expect(await text(c, 'DEBUG', 'RELOAD')).toBe('OK');
    expect(await libraryNames(c)).toEqual(['counter', 'greet', 'long']);
    // NOSAVE: what the file holds replaces what was loaded since.
    expect(await text(c, 'FUNCTION', 'DELETE', 'counter')).toBe('OK');
    await loadAll(c, lib('extra', "redis.register_function('extra', function() return 1 end)"));
    expect(await text(c, 'DEBUG', 'RELOAD', 'NOSAVE')).toBe('OK');
    expect(await libraryNames(c)).toEqual(['counter', 'greet', 'long']);
    // NOFLUSH keeps ours: without MERGE the load fails (on key k here), with MERGE the file's library wins.
    expect(await text(c, 'FUNCTION', 'LOAD', 'REPLACE', lib('greet', "redis.register_function('hello', function() return 'mine' end)"))).toBe('greet');
    expect(await text(c, 'DEBUG', 'RELOAD', 'NOSAVE', 'NOFLUSH')).toMatch(/^ERR Error trying to load the RDB dump/);
    expect(await text(c, 'FCALL', 'hello', '0', 'x')).toBe('mine');
    expect(await text(c, 'DEBUG', 'RELOAD', 'NOSAVE', 'NOFLUSH', 'MERGE')).toBe('OK');
    expect(await text(c, 'FCALL', 'hello', '0', 'x')).toBe('hello x');
  });

  it('a file whose library no longer loads stops the start-up', async () => {
    const dir = tempDir();
    const v1 = await startVireo({ dir });
    const c = await client(v1.port);
    await loadAll(c, GREET, lib('other', "redis.register_function('hello2', function() return 2 end)"));
    expect(await text(c, 'SAVE')).toBe('OK');
    await v1.stop();
    // Two libraries registering the same function: FUNCTION LOAD never lets that happen, a file can.
    const file = path.join(dir, 'dump.rdb');
    const image = fs.readFileSync(file).latin1Slice();
    fs.writeFileSync(file, Buffer.from(image.replace("'hello2'", "'hello' "), 'latin1'));
    // The checksum no longer matches either: skip it, the library is what is refused.
    await expect(startVireo({ dir, rdbchecksum: 'no' })).rejects.toThrow(/Failed loading library, Function hello already exists/);
  });
});

describe.skipIf(!HAVE_REDIS)('functions across redis-server 7.0 and Vireo', () => {
  it('Vireo loads the libraries of an RDB file redis-server 7.0 saved, and redis-server loads ours', async () => {
    const r = track(await startRedis());
    const rc = await client(r.port);
    await loadAll(rc, GREET, COUNTER, LONG);
    expect(await text(rc, 'SAVE')).toBe('OK');
    const theirs = await listWithCode(rc);

    const dir = tempDir();
    fs.copyFileSync(path.join(r.dir, 'dump.rdb'), path.join(dir, 'dump.rdb'));
    const v = track(await startVireo({ dir }));
    const vc = await client(v.port);
    expect(await listWithCode(vc)).toEqual(theirs);
    expect(await text(vc, 'FCALL', 'hello', '0', 'from 7.0')).toBe('hello from 7.0');

    await vc.call('FUNCTION', 'DELETE', 'counter');
    expect(await text(vc, 'SAVE')).toBe('OK');
    const ours = await listWithCode(vc);
    const loaded = track(await startRedis({ dir, dbfilename: 'dump.rdb' }));
    const lc = await client(loaded.port);
    expect(await listWithCode(lc)).toEqual(ours);
    expect(await text(lc, 'FCALL', 'long', '0')).toBe('filler filler filler 39');
  });

  for (const compression of ['yes', 'no']) {
    it(`FUNCTION DUMP payloads restore on the other server (rdbcompression ${compression})`, async () => {
      const r = track(await startRedis({ rdbcompression: compression }));
      const v = track(await startVireo({ rdbcompression: compression }));
      const [rc, vc] = [await client(r.port), await client(v.port)];
      for (const c of [rc, vc]) await loadAll(c, LONG);
      // One library (with more, each lists them in its own order): uncompressed, the same bytes (RDB version 10 in
      // both); compressed, Vireo's LZF may choose other matches than liblzf's.
      if (compression === 'no') expect(bulk(await vc.call('FUNCTION', 'DUMP')).equals(bulk(await rc.call('FUNCTION', 'DUMP')))).toBe(true);
      for (const c of [rc, vc]) await loadAll(c, GREET);
      const fromRedis = bulk(await rc.call('FUNCTION', 'DUMP'));
      const fromVireo = bulk(await vc.call('FUNCTION', 'DUMP'));
      for (const c of [rc, vc]) await c.call('FUNCTION', 'FLUSH');
      expect(await text(vc, 'FUNCTION', 'RESTORE', fromRedis)).toBe('OK');
      expect(await text(rc, 'FUNCTION', 'RESTORE', fromVireo)).toBe('OK');
      expect(await listWithCode(vc)).toEqual(await listWithCode(rc));
      expect(await text(rc, 'FCALL', 'long', '0')).toBe('filler filler filler 39');
    });
  }

  it('a redis-server replica of Vireo gets the libraries by full sync and FUNCTION commands by the stream', async () => {
    const v = track(await startVireo({ 'repl-diskless-sync-delay': '0' }));
    const p = await client(v.port);
    await loadAll(p, GREET);
    const r = track(await startRedis({ replicaof: `127.0.0.1 ${v.port}` }));
    const rc = await client(r.port);
    await waitInSync(p, rc);
    expect(await libraryNames(rc)).toEqual(['greet']);
    await loadAll(p, COUNTER);
    await p.call('FUNCTION', 'DELETE', 'greet');
    expect(await text(p, 'FCALL', 'bump', '1', 'n')).toBe('1');
    await waitInSync(p, rc);
    expect(await listWithCode(rc)).toEqual(await listWithCode(p));
    expect(await text(rc, 'GET', 'n')).toBe('1');
  });

  it('a Vireo replica of redis-server gets FUNCTION LOAD, RESTORE and FLUSH by the stream', async () => {
    const r = track(await startRedis({ 'repl-diskless-sync-delay': '0' }));
    const p = await client(r.port);
    await loadAll(p, GREET);
    const v = track(await startVireo());
    const vc = await client(v.port);
    expect(await text(vc, 'REPLICAOF', '127.0.0.1', String(r.port))).toBe('OK');
    await waitInSync(p, vc);
    expect(await libraryNames(vc)).toEqual(['greet']);
    const payload = bulk(await p.call('FUNCTION', 'DUMP'));
    await p.call('FUNCTION', 'FLUSH');
    await loadAll(p, COUNTER);
    await p.call('FUNCTION', 'RESTORE', payload);
    await waitInSync(p, vc);
    expect(await listWithCode(vc)).toEqual(await listWithCode(p));
    // A replica refuses FUNCTION LOAD from its own clients.
    expect(await text(vc, 'FUNCTION', 'LOAD', LONG)).toMatch(/^READONLY/);
  });
});

describe('functions on Vireo replicas', () => {
  it('full sync (disk and swapdb) and the stream carry the libraries', async () => {
    for (const load of ['disabled', 'swapdb']) {
      const v = track(await startVireo({ 'repl-diskless-sync-delay': '0' }));
      const p = await client(v.port);
      await loadAll(p, GREET, LONG);
      const rv = track(await startVireo({ 'repl-diskless-load': load }));
      const rc = await client(rv.port);
      // The replica's own libraries go with its old dataset.
      await loadAll(rc, COUNTER);
      expect(await text(rc, 'REPLICAOF', '127.0.0.1', String(v.port))).toBe('OK');
      await waitInSync(p, rc);
      expect(await listWithCode(rc)).toEqual(await listWithCode(p));
      await p.call('FUNCTION', 'LOAD', 'REPLACE', lib('greet', "redis.register_function{function_name = 'hello', callback = function() return 'v2' end, flags = {'no-writes'}}"));
      await waitInSync(p, rc);
      expect(await text(rc, 'FCALL_RO', 'hello', '0')).toBe('v2');
      // Without no-writes a function may write: a replica refuses it.
      expect(await text(rc, 'FCALL', 'long', '0')).toBe('READONLY Can not run script with write flag on readonly replica');
    }
  });
});

describe('FUNCTION bookkeeping', () => {
  it('INFO memory counts libraries, functions and cached scripts', async () => {
    const v = track(await startVireo());
    const c = await client(v.port);
    const memory = async (field: string): Promise<number> => Number(infoField(await c.call('INFO', 'memory'), field));
    expect(await memory('number_of_libraries')).toBe(0);
    await loadAll(c, GREET, COUNTER);
    await c.call('SCRIPT', 'LOAD', 'return 1');
    expect(await memory('number_of_libraries')).toBe(2);
    expect(await memory('number_of_functions')).toBe(3);
    expect(await memory('number_of_cached_scripts')).toBe(1);
    expect(await memory('used_memory_vm_functions')).toBeGreaterThan(0);
    expect(await memory('used_memory_vm_eval')).toBeGreaterThan(0);
    expect(await memory('used_memory_functions')).toBeGreaterThan(GREET.length + COUNTER.length);
    expect(await memory('used_memory_scripts')).toBe((await memory('used_memory_functions')) + (await memory('used_memory_scripts_eval')));
    await c.call('FUNCTION', 'FLUSH');
    expect(await memory('number_of_functions')).toBe(0);
  });

  it('a replaced library releases its functions to the Lua collector', async () => {
    const v = track(await startVireo());
    const c = await client(v.port);
    // Each version's function keeps 256 KB of its own (Lua interns strings) in an upvalue once called: were the
    // replaced ones still referenced, 200 versions would hold 50 MB.
    const version = (i: number) =>
      lib('big', `local kept = {}\nredis.register_function('big${i}', function() kept.blob = string.rep('x', 262144) .. ${i} return #kept.blob end)`);
    for (let i = 0; i < 200; i++) {
      expect(await text(c, 'FUNCTION', 'LOAD', 'REPLACE', version(i))).toBe('big');
      expect(await text(c, 'FCALL', `big${i}`, '0')).toBe(String(262144 + String(i).length));
    }
    expect(Number(infoField(await c.call('INFO', 'memory'), 'used_memory_vm_functions'))).toBeLessThan(16 * 1024 * 1024);
  });
});
