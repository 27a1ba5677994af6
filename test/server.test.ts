// Server commands: CONFIG GET/SET/RESETSTAT/REWRITE, COMMAND introspection,
// INFO, DEBUG, FLUSH, SHUTDOWN; against redis-server where both support it.
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS, startRedis, startVireo, startVireoProcess, tempDir } from './helpers/servers.js';
import { RespClient, toJs, type Reply } from './helpers/resp.js';

describe.skipIf(!HAVE_REDIS)('server commands (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('CONFIG GET values agree with Redis for every shared parameter', async () => {
    const [a, b] = await Promise.all([pair.redis.call('CONFIG', 'GET', '*'), pair.vireo.call('CONFIG', 'GET', '*')]);
    const ra = new Map(pairsOf(toJs(a) as string[]));
    const rb = new Map(pairsOf(toJs(b) as string[]));
    // Values that legitimately differ: paths, ports, process details, and
    // the loopback-only default bind Vireo ships with.
    const differ = new Set(['dir', 'port', 'pidfile', 'bind', 'daemonize', 'unixsocketperm', 'enable-debug-command', 'save', 'appendonly', 'set-proc-title', 'logfile', 'oom-score-adj-values', 'dynamic-hz', 'io-threads-do-reads']);
    // The suite can run with I/O threads (VIREO_TEST_IO_THREADS); redis-server runs without.
    if (process.env.VIREO_TEST_IO_THREADS !== undefined) differ.add('io-threads');
    let compared = 0;
    for (const [k, v] of ra) {
      if (differ.has(k) || !rb.has(k)) continue;
      expect(`${k}=${rb.get(k)}`).toBe(`${k}=${v}`);
      compared++;
    }
    expect(compared).toBeGreaterThan(150);
    // Every Redis 7.0 parameter exists in Vireo.
    expect([...ra.keys()].filter((k) => !rb.has(k))).toEqual([]);
  });

  it('CONFIG SET validates like Redis', async () => {
    await pair.script([
      ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru'],
      ['CONFIG', 'GET', 'maxmemory-policy'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'bogus'],
      ['CONFIG', 'SET', 'hz', 'abc'],
      ['CONFIG', 'SET', 'hz', '20', 'timeout', '30'],
      ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'GET', 'timeout'],
      ['CONFIG', 'SET', 'hz', '15', 'timeout', 'bad'],
      ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'nosuchparam', '1'],
      ['CONFIG', 'SET', 'hz'],
      ['CONFIG', 'SET', 'databases', '5'],
      ['CONFIG', 'SET', 'activerehashing', 'maybe'],
      ['CONFIG', 'SET', 'maxmemory', '10mb'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'SET', 'maxmemory', '1gb'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'SET', 'maxmemory', '-1'],
      ['CONFIG', 'SET', 'maxmemory', '0'],
      ['CONFIG', 'SET', 'hz', '10', 'hz', '11'],
      ['CONFIG', 'GET', 'hash-max-*-entries'],
      ['CONFIG', 'GET', 'zset-max-ziplist-value'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'KEA'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'Kx$'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'Q'],
      ['CONFIG', 'SET', 'notify-keyspace-events', ''],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 2mb 60'],
      ['CONFIG', 'GET', 'client-output-buffer-limit'],
      ['CONFIG', 'SET', 'save', '100 10 50 5'],
      ['CONFIG', 'GET', 'save'],
      ['CONFIG', 'SET', 'save', 'x'],
      ['CONFIG', 'SET', 'save', ''],
      ['CONFIG', 'GET', 'save'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', '100'],
      ['CONFIG', 'REWRITE'],
      ['CONFIG', 'RESETSTAT'],
      ['CONFIG', 'GET'],
    ]);
  });

  // WATCH and MULTI are left out: Redis 7.2 added the no_multi flag to them (7.0 lacks it).
  it('COMMAND INFO agrees with Redis (tips aside)', async () => {
    const names = ['get', 'set', 'mset', 'mget', 'del', 'incrbyfloat', 'lcs', 'config|get', 'client|kill', 'expire', 'object|encoding', 'copy', 'getex', 'scan', 'keys', 'ping', 'hello', 'auth', 'debug', 'swapdb'];
    // Vireo's command table holds facts, not documentation: command tips and
    // the prose "notes" of key specs are not reproduced.
    const stripSpecNotes = (specs: unknown[]) =>
      (specs as unknown[][]).map((spec) => spec.filter((x, i) => x !== 'notes' && spec[i - 1] !== 'notes'));
    const stripEntry = (entry: unknown[]): unknown[] =>
      entry.map((x, i) => (i === 7 ? '<tips>' : i === 8 ? stripSpecNotes(x as unknown[]) : i === 9 ? (x as unknown[][]).map(stripEntry) : x));
    const stripTips = (r: Reply): unknown => (toJs(r) as unknown[][]).map((entry) => (entry === null ? null : stripEntry(entry)));
    for (const n of names) {
      const [a, b] = await Promise.all([pair.redis.call('COMMAND', 'INFO', n), pair.vireo.call('COMMAND', 'INFO', n)]);
      expect(stripTips(b), n).toEqual(stripTips(a));
    }
  });

  it('COMMAND DOCS gives the docs redis-server gives (redis-cli builds its help from them), in RESP2 and RESP3', async () => {
    // Subcommands: those Vireo implements, compared as a map (Redis lists them in its hash table's order).
    const byName = (flat: unknown[]): Map<string, unknown[]> => {
      const m = new Map<string, unknown[]>();
      for (let i = 0; i < flat.length; i += 2) m.set(flat[i] as string, flat[i + 1] as unknown[]);
      return m;
    };
    const normalize = (doc: unknown[], keep: (sub: string) => boolean): unknown => {
      const out: unknown[] = [];
      for (let i = 0; i < doc.length; i += 2) {
        if (doc[i] !== 'subcommands') out.push(doc[i], doc[i + 1]);
        else {
          const subs = [...byName(doc[i + 1] as unknown[])].filter(([n]) => keep(n)).sort(([a], [b]) => (a < b ? -1 : 1));
          out.push('subcommands', subs.map(([n, d]) => [n, normalize(d, () => true)]));
        }
      }
      return out;
    };
    const [ra, va] = await Promise.all([pair.redis.call('COMMAND', 'DOCS'), pair.vireo.call('COMMAND', 'DOCS')]);
    const redisDocs = byName(toJs(ra) as unknown[]);
    const vireoDocs = byName(toJs(va) as unknown[]);
    const vireoNames = new Set(toJs(await pair.vireo.call('COMMAND', 'LIST')) as string[]);
    const redisNames = new Set(toJs(await pair.redis.call('COMMAND', 'LIST')) as string[]);
    const inBoth = (sub: string) => vireoNames.has(sub) && redisNames.has(sub);
    let compared = 0;
    for (const [name, doc] of vireoDocs) {
      const theirs = redisDocs.get(name);
      if (theirs === undefined) continue;
      expect(normalize(doc, inBoth), name).toEqual(normalize(theirs, inBoth));
      compared++;
    }
    expect(compared).toBeGreaterThan(200);
    // RESP3 keeps Redis' types (maps, sets of flags, integers) for a few with every kind of field.
    const [redisPort, vireoPort] = pair.ports;
    const r3 = await RespClient.connect(redisPort);
    const v3 = await RespClient.connect(vireoPort);
    try {
      await Promise.all([r3.call('HELLO', '3'), v3.call('HELLO', '3')]);
      for (const name of ['set', 'xadd', 'georadius', 'zadd', 'config|get', 'bitfield']) {
        const [a, b] = await Promise.all([r3.call('COMMAND', 'DOCS', name), v3.call('COMMAND', 'DOCS', name)]);
        expect(b, name).toEqual(a);
      }
    } finally {
      r3.close();
      v3.close();
    }
  });

  it('DEBUG POPULATE names keys as Redis formats them: %s stops at a NUL, 127 bytes at most (found by the fuzzer)', async () => {
    await pair.script([
      ['FLUSHALL'],
      ['DEBUG', 'POPULATE', '3', 'a\x00b'],
      ['KEYS', '*'],
      ['DEBUG', 'POPULATE', '3', 'p'.repeat(200)],
      ['DBSIZE'],
      ['KEYS', 'ppp*'],
      ['DEBUG', 'POPULATE', '12', 'q'.repeat(124)],
      ['KEYS', 'qqq*'],
      ['FLUSHALL'],
    ]);
  });

  it('DEBUG HELP takes no argument, like every fixed-arity DEBUG subcommand (found by the fuzzer)', async () => {
    await pair.script([
      ['DEBUG', 'HELP', '12345'],
      ['DEBUG', 'DIGEST', 'x'],
      ['DEBUG', 'SET-ACTIVE-EXPIRE'],
      ['DEBUG', 'OBJECT'],
    ]);
  });

  it('COMMAND GETKEYS / GETKEYSANDFLAGS / COUNT / LIST', async () => {
    await pair.script([
      ['COMMAND', 'GETKEYS', 'SET', 'k', 'v'],
      ['COMMAND', 'GETKEYS', 'MSET', 'a', '1', 'b', '2'],
      ['COMMAND', 'GETKEYS', 'MGET', 'a', 'b', 'c'],
      ['COMMAND', 'GETKEYS', 'COPY', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'GET', 'a', 'b'],
      ['COMMAND', 'GETKEYS', 'NOSUCH', 'x'],
      ['COMMAND', 'GETKEYS', 'PING', 'x'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'SET', 'k', 'v'],
      ['COMMAND', 'GETKEYSANDFLAGS', 'LCS', 'a', 'b'],
      ['COMMAND', 'NOSUCH'],
    ]);
    const count = Number(toJs(await pair.vireo.call('COMMAND', 'COUNT')));
    const list = toJs(await pair.vireo.call('COMMAND', 'LIST')) as string[];
    expect(list.filter((n) => !n.includes('|'))).toHaveLength(count);
    expect(list).toContain('client|kill');
    const all = toJs(await pair.vireo.call('COMMAND')) as unknown[];
    expect(all).toHaveLength(count);
    const strings = toJs(await pair.vireo.call('COMMAND', 'LIST', 'FILTERBY', 'ACLCAT', 'string')) as string[];
    expect(strings).toContain('incrbyfloat');
    expect(strings).not.toContain('del');
    const pat = toJs(await pair.vireo.call('COMMAND', 'LIST', 'FILTERBY', 'PATTERN', 'get*')) as string[];
    expect(pat.sort()).toEqual(['get', 'getbit', 'getdel', 'getex', 'getrange', 'getset']);
  });
});

function pairsOf(flat: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

describe('INFO', () => {
  it('has Redis field names in every section and reports commandstats/errorstats', async () => {
    const v = await startVireo();
    const c = await RespClient.connect(v.port);
    try {
      await c.call('SET', 'a', '1');
      await c.call('GET', 'a');
      await c.call('INCR', 'nokey-str');
      await c.call('SET', 'a');
      await c.call('NOSUCH');
      const info = toJs(await c.call('INFO', 'everything')) as string;
      for (const f of ['redis_version:7.2.4', 'vireo_version:', 'redis_mode:standalone', 'tcp_port:', 'uptime_in_seconds:', 'connected_clients:1', 'used_memory:', 'used_memory_human:', 'maxmemory_policy:noeviction', 'rdb_changes_since_last_save:', 'aof_enabled:0', 'total_commands_processed:', 'instantaneous_ops_per_sec:', 'keyspace_hits:1', 'keyspace_misses:0', 'role:master', 'master_replid:', 'master_repl_offset:', 'used_cpu_sys:', 'errorstat_ERR:count=2', 'db0:keys=2,expires=0,avg_ttl=0', 'cmdstat_set:calls=1,', 'rejected_calls=1', 'cluster_enabled:0']) {
        expect(info, f).toContain(f);
      }
      expect(info.startsWith('# Server\r\n')).toBe(true);
      const sections = [...info.matchAll(/^# (\w+)/gm)].map((m) => m[1]);
      expect(sections).toEqual(['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Modules', 'Commandstats', 'Errorstats', 'Latencystats', 'Cluster', 'Keyspace']);
      const one = toJs(await c.call('INFO', 'keyspace')) as string;
      expect(one).toBe('# Keyspace\r\ndb0:keys=2,expires=0,avg_ttl=0\r\n');
      const two = toJs(await c.call('INFO', 'server', 'clients')) as string;
      expect([...two.matchAll(/^# (\w+)/gm)].map((m) => m[1])).toEqual(['Server', 'Clients']);
      await c.call('CONFIG', 'RESETSTAT');
      const after = toJs(await c.call('INFO', 'stats')) as string;
      expect(after).toContain('keyspace_hits:0');
    } finally {
      c.close();
      await v.stop();
    }
  });
});

describe('DEBUG', () => {
  it('POPULATE reaches the AOF (Redis does not propagate it): its keys survive DEBUG LOADAOF, alone and inside MULTI', async () => {
    const v = await startVireo({ appendonly: 'yes' });
    const c = await RespClient.connect(v.port);
    try {
      expect(toJs(await c.call('DEBUG', 'POPULATE', '1000'))).toBe('OK');
      await c.call('MULTI');
      await c.call('DEBUG', 'POPULATE', '5', 'm', '20');
      await c.call('DEL', 'm:0');
      await c.call('SET', 'x', '1');
      expect(toJs(await c.call('EXEC'))).toEqual(['OK', '1', 'OK']);
      const digest = toJs(await c.call('DEBUG', 'DIGEST'));
      expect(toJs(await c.call('DEBUG', 'LOADAOF'))).toBe('OK');
      expect(toJs(await c.call('DBSIZE'))).toBe('1005');
      expect(toJs(await c.call('DEBUG', 'DIGEST'))).toBe(digest);
    } finally {
      c.close();
      await v.stop();
    }
  });

  it('POPULATE creates keys like Redis and logs them; SLEEP blocks; refused when disabled', async () => {
    const v = await startVireo();
    const c = await RespClient.connect(v.port);
    try {
      await c.call('SET', 'key:5', 'mine');
      expect(toJs(await c.call('DEBUG', 'POPULATE', '10'))).toBe('OK');
      expect(toJs(await c.call('DBSIZE'))).toBe('10');
      expect(toJs(await c.call('GET', 'key:3'))).toBe('value:3');
      expect(toJs(await c.call('GET', 'key:5'))).toBe('mine');
      await c.call('DEBUG', 'POPULATE', '3', 'p', '10');
      expect(toJs(await c.call('GET', 'p:1'))).toBe('value:1\0\0\0');
      await c.call('DEBUG', 'POPULATE', '2', 'q', '3');
      expect(toJs(await c.call('GET', 'q:1'))).toBe('val');
      expect(toJs(await c.call('DEBUG', 'POPULATE', '-1'))).toEqual(new Error('ERR value is out of range, must be positive'));
      const t0 = Date.now();
      await c.call('DEBUG', 'SLEEP', '0.2');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
      expect(toJs(await c.call('DEBUG', 'OBJECT', 'key:1'))).toMatch(/encoding:embstr/);
    } finally {
      c.close();
      await v.stop();
    }
    const off = await startVireo({ 'enable-debug-command': 'no' });
    const d = await RespClient.connect(off.port);
    try {
      expect((toJs(await d.call('DEBUG', 'SLEEP', '0')) as Error).message).toMatch(/^ERR DEBUG command not allowed/);
    } finally {
      d.close();
      await off.stop();
    }
  });
});

describe('memory', () => {
  it('databases 1000: a database costs nothing until its first key, and SWAPDB/FLUSHDB of unused ones behave as in Redis', async () => {
    // Each database's per-slot arrays (576 KB) are made at its first key: with them made up front a
    // server with `databases 1000` started with half a GB.
    const small = await startVireoProcess([]);
    const many = await startVireoProcess(['--databases', '1000']);
    try {
      const used = async (port: number) => {
        const c = await RespClient.connect(port);
        const info = String(toJs(await c.call('INFO', 'memory')));
        c.close();
        return Number(/used_memory:(\d+)/.exec(info)![1]);
      };
      expect(await used(many.port)).toBeLessThan((await used(small.port)) + 16e6);
    } finally {
      await small.stop();
      await many.stop();
    }
    if (!HAVE_REDIS) return;
    const pair = await DiffPair.start({ databases: '1000' });
    try {
      const steps: string[][] = [
        ['SELECT', '999'], ['SET', 'k', 'v999'], ['HSET', 'h', 'f', '1'], ['EXPIRE', 'h', '1000'],
        // A used database with one never used, both ways; then two never used.
        ['SWAPDB', '999', '5'], ['DBSIZE'], ['SET', 'fresh', 'x'], ['DBSIZE'], ['SELECT', '5'], ['DBSIZE'], ['GET', 'k'], ['TTL', 'h'],
        ['SWAPDB', '5', '999'], ['DBSIZE'], ['SWAPDB', '7', '8'], ['SELECT', '7'], ['DBSIZE'], ['SET', 'a', '1'], ['PEXPIRE', 'a', '100000'],
        ['SCAN', '0'], ['RANDOMKEY'], ['FLUSHDB'], ['SELECT', '8'], ['FLUSHDB'], ['SET', 'b', '2'], ['KEYS', '*'],
        ['SELECT', '999'], ['KEYS', '*'], ['SELECT', '5'], ['KEYS', '*'], ['FLUSHALL'], ['DBSIZE'], ['SET', 'again', '1'], ['DBSIZE'],
      ];
      for (const s of steps) await pair.check(...s);
      // Keys in several slots of databases that swap, then deletes, then the same key in two fresh
      // databases: RANDOMKEY (random, so checked on Vireo alone) must find what KEYS lists.
      const mixed: string[][] = [['SELECT', '20']];
      for (let i = 0; i < 8; i++) mixed.push(['SET', `k${i}`, String(i)], ['RPUSH', `l${i}`, 'x']);
      mixed.push(['SWAPDB', '20', '21'], ['SELECT', '21'], ['DEL', 'k0', 'k3', 'l1', 'l5', 'k6'], ['DBSIZE']);
      mixed.push(['SELECT', '30'], ['SET', 'same', '1'], ['SELECT', '31'], ['SET', 'same', '2'], ['SELECT', '30'], ['DEL', 'same'], ['DBSIZE']);
      for (const s of mixed) await pair.check(...s);
      for (const db of ['21', '31']) {
        await pair.vireo.call('SELECT', db);
        const keys = new Set(toJs(await pair.vireo.call('KEYS', '*')) as string[]);
        expect(keys.size).toBeGreaterThan(0);
        for (let i = 0; i < 40; i++) expect(keys.has(toJs(await pair.vireo.call('RANDOMKEY')) as string)).toBe(true);
      }
    } finally {
      await pair.stop();
    }
  });

  it('FLUSHALL frees the dataset before replying, as Redis does; MEMORY PURGE needs no --expose-gc', async () => {
    // A process of its own, started as npm start does (no V8 flags): used_memory is its whole heap.
    const p = await startVireoProcess(['--enable-debug-command', 'yes']);
    const c = await RespClient.connect(p.port);
    const used = async () => Number(/used_memory:(\d+)/.exec(String(toJs(await c.call('INFO', 'memory'))))![1]);
    try {
      const empty = await used();
      await c.call('DEBUG', 'POPULATE', '800000');
      // 800k keys take about 48 MB (off the JS heap): clearly past the 32 MB from which FLUSHALL
      // collects before replying (src/commands/server.ts), whatever garbage the populate left.
      expect(await used()).toBeGreaterThan(empty + 36e6);
      expect(toJs(await c.call('FLUSHALL'))).toBe('OK');
      expect(await used(), 'used_memory right after FLUSHALL').toBeLessThan(empty + 8e6);
      // ASYNC leaves the freeing to the collector; MEMORY PURGE runs it.
      await c.call('DEBUG', 'POPULATE', '800000');
      expect(toJs(await c.call('FLUSHDB', 'ASYNC'))).toBe('OK');
      expect(toJs(await c.call('MEMORY', 'PURGE'))).toBe('OK');
      expect(await used(), 'used_memory after FLUSHDB ASYNC and MEMORY PURGE').toBeLessThan(empty + 8e6);
    } catch (e) {
      // A closed connection: the server's log says whether it died or closed the client.
      throw new Error(`${(e as Error).message}\nserver output:\n${p.output().slice(-4000)}`);
    } finally {
      c.close();
      await p.stop();
    }
  });
});

describe('configuration file and command line', () => {
  it('reads a redis.conf, applies --flags after it, and CONFIG REWRITE keeps comments', async () => {
    const dir = tempDir();
    const conf = path.join(dir, 'redis.conf');
    fs.writeFileSync(conf, '# my settings\nhz 20\nmaxmemory 10mb\nsave 900 1\nsave 300 10\nrename-command FLUSHALL ""\n# end\n');
    const p = await startVireoProcess([conf, '--maxmemory-policy', 'allkeys-lru', '--hz', '30'], { dir });
    const c = await RespClient.connect(p.port);
    try {
      const get = async (k: string) => (toJs(await c.call('CONFIG', 'GET', k)) as string[])[1];
      expect(await get('hz')).toBe('30');
      expect(await get('maxmemory')).toBe(String(10 * 1024 * 1024));
      expect(await get('save')).toBe('900 1 300 10');
      expect(await get('maxmemory-policy')).toBe('allkeys-lru');
      expect(await get('dir')).toBe(fs.realpathSync(dir));
      await c.call('CONFIG', 'SET', 'timeout', '77');
      expect(toJs(await c.call('CONFIG', 'REWRITE'))).toBe('OK');
      const text = fs.readFileSync(conf, 'utf8');
      expect(text).toContain('# my settings');
      expect(text).toContain('# end');
      expect(text).toContain('hz 30');
      expect(text).toContain('maxmemory 10mb');
      expect(text).toContain('timeout 77');
      expect(text).toContain('save 900 1\nsave 300 10');
      expect(text).toContain('# Generated by CONFIG REWRITE');
    } finally {
      c.close();
      await p.stop();
    }
    // The rewritten file starts a server with the same settings.
    const again = await startVireoProcess([conf], { dir });
    const d = await RespClient.connect(again.port);
    try {
      expect((toJs(await d.call('CONFIG', 'GET', 'timeout')) as string[])[1]).toBe('77');
    } finally {
      d.close();
      await again.stop();
    }
  });

  it.skipIf(!HAVE_REDIS)('CONFIG REWRITE writes the users as redis-server does (in the places of the file\'s user lines, the rest after), and none when an aclfile holds them', async () => {
    const userLines = (text: string) => text.split('\n').filter((l) => l.startsWith('user '));
    const rewritten = async (kind: 'redis' | 'vireo', text: string, acl: string | null, commands: string[][]) => {
      const dir = tempDir();
      const conf = path.join(dir, 'redis.conf');
      const aclfile = path.join(dir, 'users.acl');
      if (acl !== null) fs.writeFileSync(aclfile, acl);
      fs.writeFileSync(conf, text + (acl !== null ? `aclfile ${aclfile}\n` : ''));
      const p = kind === 'redis' ? await startRedis({ dir }, conf) : await startVireoProcess([conf], { dir });
      const c = await RespClient.connect(p.port);
      try {
        for (const cmd of commands) expect(toJs(await c.call(...cmd)), cmd.join(' ')).not.toBeInstanceOf(Error);
        expect(toJs(await c.call('CONFIG', 'REWRITE'))).toBe('OK');
      } finally {
        c.close();
        await p.stop();
      }
      return { dir, conf, text: fs.readFileSync(conf, 'latin1') };
    };
    const original = '# users\nuser alice on >pw ~a* +get\nhz 11\nuser carol off\n';
    const changes = [
      ['ACL', 'SETUSER', 'bob', 'on', '>x', '~b*', '+@read'],
      ['ACL', 'DELUSER', 'carol'],
      ['ACL', 'SETUSER', 'default', '>secret'],
      ['AUTH', 'secret'],
    ];
    const redis = await rewritten('redis', original, null, changes);
    const vireo = await rewritten('vireo', original, null, changes);
    // Redis 7.2 describes every user with its sanitize-payload flag, the 7.0 reference only once a SETUSER names it (KNOWN_DIFFERENCES).
    const as70 = (lines: string[]) => lines.map((l) => l.replace(/ sanitize-payload(?= )/, ''));
    expect(as70(userLines(vireo.text))).toEqual(userLines(redis.text));
    expect(userLines(vireo.text).map((l) => l.split(' ')[1])).toEqual(['alice', 'bob', 'default']);
    // alice's line where it was.
    expect(as70([vireo.text.split('\n')[1]!])).toEqual([redis.text.split('\n')[1]]);
    // The rewritten file brings every user back, the default user's password included.
    const again = await startVireoProcess([vireo.conf], { dir: vireo.dir });
    const c = await RespClient.connect(again.port);
    try {
      expect(toJs(await c.call('PING'))).toBeInstanceOf(Error);
      expect(toJs(await c.call('AUTH', 'secret'))).toBe('OK');
      expect(toJs(await c.call('ACL', 'USERS'))).toEqual(['alice', 'bob', 'default']);
      expect(toJs(await c.call('AUTH', 'bob', 'x'))).toBe('OK');
    } finally {
      c.close();
      await again.stop();
    }
    // With an aclfile the users stay there: the config file gets none.
    const withFile = ['redis', 'vireo'] as const;
    for (const kind of withFile) {
      const r = await rewritten(kind, '# users elsewhere\n', 'user alice on >pw ~a* +get\n', [['ACL', 'SETUSER', 'bob', 'on']]);
      expect(userLines(r.text), kind).toEqual([]);
    }
  });

  it('64-bit limits ("no limit" written as LLONG_MAX / ULLONG_MAX) load, show back exactly and survive CONFIG REWRITE', async () => {
    const dir = tempDir();
    const conf = path.join(dir, 'redis.conf');
    const limits: [string, string][] = [
      ['maxmemory', '18446744073709551615'],
      ['proto-max-bulk-len', '9223372036854775807'],
      ['client-query-buffer-limit', '9223372035781033984'],
      ['maxmemory-clients', '9223372036854775807'],
    ];
    fs.writeFileSync(conf, limits.map(([k, v]) => `${k} ${v}\n`).join(''));
    for (let round = 0; round < 2; round++) {
      const p = await startVireoProcess([conf], { dir });
      const c = await RespClient.connect(p.port);
      try {
        for (const [k, v] of limits) expect((toJs(await c.call('CONFIG', 'GET', k)) as string[])[1], k).toBe(v);
        expect(toJs(await c.call('SET', 'k', 'v'))).toBe('OK');
        // The first server rewrites the file (memory values in units where they divide); the second starts from it.
        if (round === 0) expect(toJs(await c.call('CONFIG', 'REWRITE'))).toBe('OK');
      } finally {
        c.close();
        await p.stop();
      }
    }
    expect(fs.readFileSync(conf, 'utf8')).toContain('client-query-buffer-limit 8589934591gb');
  });

  it('stops with Redis\' FATAL CONFIG FILE ERROR on a bad directive', async () => {
    const dir = tempDir();
    const conf = path.join(dir, 'bad.conf');
    fs.writeFileSync(conf, 'port 1234\nnosuchdirective yes\n');
    await expect(startVireoProcess([conf], { dir })).rejects.toThrow(/FATAL CONFIG FILE ERROR[\s\S]*line 2[\s\S]*nosuchdirective yes[\s\S]*Bad directive/);
  });

  it('refuses to start with cluster mode turned on rather than run without it; a tls-port without certificates stops start-up as in Redis', async () => {
    await expect(startVireoProcess(['--cluster-enabled', 'yes'], { dir: tempDir() })).rejects.toThrow(/FATAL CONFIG FILE ERROR[\s\S]*cluster-enabled[\s\S]*cluster mode is not implemented/);
    // The log line and the exit message come through different streams: either may be first.
    const failure = startVireoProcess(['--tls-port', '6380'], { dir: tempDir() });
    await expect(failure).rejects.toThrow(/No tls-cert-file configured!/);
    await expect(failure).rejects.toThrow(/Failed to configure TLS. Check logs for more info./);
  });

  it('SHUTDOWN stops the process', async () => {
    const p = await startVireoProcess();
    const c = await RespClient.connect(p.port);
    c.writeRaw('SHUTDOWN NOSAVE\r\n');
    await c.waitClosed();
    await new Promise<void>((r) => (p.proc.exitCode !== null ? r() : p.proc.once('exit', () => r())));
    expect(p.proc.exitCode).toBe(0);
  });
});
