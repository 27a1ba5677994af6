// maxmemory and eviction. The OOM refusals are compared with redis-server
// (which commands are refused, in and out of MULTI and scripts); eviction
// itself runs against a Vireo process of its own (its heap is the measure):
// every policy under a random workload keeps used_memory within 5% of the
// limit and evicts only what the policy names, LRU and LFU keep the hot
// keys, protected keys are never taken, and evictions are DELs in the log
// (notifications, AOF replay).
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS, startVireoProcess, tempDir, type ProcessHandle } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';
import { digest, pipeline, type Cmd } from './helpers/dataset.js';
import { infoNumber, waitFor } from './helpers/info.js';
import { waitInSync } from './helpers/replication.js';

const MB = 1024 * 1024;
const LIMIT = 50 * MB;

describe.skipIf(!HAVE_REDIS)('maxmemory refusals (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('refuses deny-oom commands, anything queued in MULTI, and writing scripts, as Redis does', async () => {
    await pair.check('SET', 'kept', 'v');
    await pair.check('CONFIG', 'SET', 'maxmemory', '1');
    await pair.script([
      ['SET', 'foo', 'bar'],
      ['GET', 'kept'],
      ['PING'],
      ['INCR', 'n'],
      ['LPUSH', 'l', 'a'],
      ['APPEND', 'kept', 'x'],
      ['EXPIRE', 'kept', '100'],
      ['PERSIST', 'kept'],
      ['DEL', 'nothing'],
      ['MULTI'],
      ['GET', 'kept'],
      ['EXEC'],
      ['MULTI'],
      ['DISCARD'],
      ['EVAL', "return redis.call('set','x','1')", '0'],
      ['EVAL', "return redis.call('get','kept')", '0'],
      ['EVAL', '#!lua\nreturn 1', '0'],
      ['EVAL', "#!lua flags=no-writes\nreturn redis.call('get','kept')", '0'],
      ['EVAL', "#!lua flags=allow-oom\nreturn redis.call('set','x','1')", '0'],
      ['GET', 'x'],
      ['DEL', 'x'],
    ]);
    await pair.check('CONFIG', 'SET', 'maxmemory', '0');
    await pair.check('SET', 'foo', 'bar');
    // The refusals are counted as Redis counts them (rejected_calls in commandstats).
    const stats = toJs(await pair.vireo.call('INFO', 'commandstats')) as string;
    expect(stats).toMatch(/cmdstat_set:calls=\d+,.*rejected_calls=1,/);
  });
});

/** INFO numbers of one server. */
async function info(c: RespClient, section: string, ...fields: string[]): Promise<number[]> {
  const reply = await c.call('INFO', section);
  return fields.map((f) => infoNumber(reply, f));
}

async function usedMemory(c: RespClient): Promise<number> {
  return (await info(c, 'memory', 'used_memory'))[0]!;
}

/**
 * used_memory once eviction has caught up, or after 2 s. An eviction that
 * used up its time budget (maxmemory-eviction-tenacity) goes on in the
 * background, as Redis' evictionTimeProc does, while the commands run: on
 * a loaded machine a batch can end before it is done. A server that does
 * not evict stays over the limit and still fails.
 */
async function usedMemoryAfterEviction(c: RespClient, limit: number): Promise<number> {
  const deadline = Date.now() + 2000;
  for (;;) {
    const used = await usedMemory(c);
    if (used <= limit || Date.now() > deadline) return used;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function evicted(c: RespClient): Promise<number> {
  return (await info(c, 'stats', 'evicted_keys'))[0]!;
}

/** Write `cmds`; fail on any error but OOM (expected once nothing can be evicted). */
async function write(c: RespClient, cmds: Cmd[]): Promise<number> {
  let oom = 0;
  for (const r of await pipeline(c, cmds, 500)) {
    if (r.type !== 'error') continue;
    if (!String(r.value).startsWith('OOM ')) throw new Error(`unexpected error: ${r.value}`);
    oom++;
  }
  return oom;
}

/** Which of `keys` still exist. */
async function existing(c: RespClient, keys: string[]): Promise<Set<string>> {
  const out = new Set<string>();
  const replies = await pipeline(
    c,
    keys.map((k) => ['EXISTS', k]),
    500,
  );
  replies.forEach((r, i) => {
    if (r.type === 'integer' && r.value === '1') out.add(keys[i]!);
  });
  return out;
}

const value = (n: number) => 'v'.repeat(n);

/** SETs of `count` keys named prefix:i with values of `size` bytes (and a TTL when `ttl`). */
function sets(prefix: string, from: number, count: number, size: number, ttl?: number): Cmd[] {
  return Array.from({ length: count }, (_, i) => (ttl === undefined ? ['SET', `${prefix}:${from + i}`, value(size)] : ['SET', `${prefix}:${from + i}`, value(size), 'EX', String(ttl)]));
}

describe('eviction under maxmemory', () => {
  const servers: ProcessHandle[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.kill()));
  });

  async function start(policy: string, extra: string[] = []): Promise<RespClient> {
    const h = await startVireoProcess(['--maxmemory-policy', policy, '--save', '', ...extra]);
    servers.push(h);
    const c = await RespClient.connect(h.port);
    await c.call('CONFIG', 'SET', 'maxmemory', String(LIMIT));
    return c;
  }

  const POLICIES = ['allkeys-lru', 'allkeys-lfu', 'allkeys-random', 'volatile-lru', 'volatile-lfu', 'volatile-random', 'volatile-ttl', 'noeviction'];

  /** One batch of a random workload: strings, hashes, lists, sets, sorted sets; `v:` keys get a TTL, `p:` keys never do. */
  const batch = fc.array(
    fc.record({
      kind: fc.constantFrom('set', 'hset', 'rpush', 'sadd', 'zadd', 'setex', 'get', 'del'),
      persistent: fc.boolean(),
      key: fc.integer({ min: 0, max: 3000 }),
      size: fc.integer({ min: 10, max: 8000 }),
      count: fc.integer({ min: 1, max: 20 }),
    }),
    { minLength: 50, maxLength: 400 },
  );

  type Op = { kind: string; persistent: boolean; key: number; size: number; count: number };

  function commands(ops: Op[]): { cmds: Cmd[]; persistentWrites: Map<number, string> } {
    const cmds: Cmd[] = [];
    const persistentWrites = new Map<number, string>();
    for (const op of ops) {
      const key = `${op.persistent ? 'p' : 'v'}:${op.kind === 'get' || op.kind === 'del' ? 'str' : op.kind}:${op.key}`;
      const items = Array.from({ length: op.count }, (_, i) => `${i}:${value(Math.max(1, Math.floor(op.size / op.count)))}`);
      switch (op.kind) {
        case 'set':
          cmds.push(['SET', key, value(op.size)]);
          break;
        case 'setex':
          cmds.push(['SET', key, value(op.size), 'EX', '100000']);
          break;
        case 'hset':
          cmds.push(['HSET', key, ...items.flatMap((it, i) => [`f${i}`, it])]);
          break;
        case 'rpush':
          cmds.push(['RPUSH', key, ...items]);
          break;
        case 'sadd':
          cmds.push(['SADD', key, ...items]);
          break;
        case 'zadd':
          cmds.push(['ZADD', key, ...items.flatMap((it, i) => [String(i), it])]);
          break;
        case 'get':
          cmds.push(['GET', key]);
          continue;
        case 'del':
          cmds.push(['DEL', key]);
          continue;
      }
      // v: keys carry a TTL (so volatile policies may take them); p: keys never do.
      if (!op.persistent) cmds.push(['EXPIRE', key, String(1000 + op.key)]);
      else if (op.kind !== 'setex') persistentWrites.set(cmds.length - 1, key);
    }
    // SET EX on a p: key would give it a TTL: keep p: keys persistent.
    return { cmds: cmds.map((c) => (String(c[1]).startsWith('p:') && c[3] === 'EX' ? c.slice(0, 3) : c)), persistentWrites };
  }

  for (const policy of POLICIES) {
    it(`${policy}: used_memory stays within 5% of maxmemory after every batch, and only what the policy names is evicted`, async () => {
      const c = await start(policy);
      // Fill past the limit with keys the policy may evict (until it evicts, or refuses: noeviction).
      let n = 0;
      while ((await evicted(c)) === 0) {
        const oom = await write(c, sets('v:fill', n, 2000, 1000, 100000));
        n += 2000;
        if (oom > 0) break;
      }
      const persistentKeys = new Set<string>();
      await fc.assert(
        fc.asyncProperty(batch, async (ops) => {
          const { cmds, persistentWrites } = commands(ops);
          const replies = await pipeline(c, cmds, 500);
          replies.forEach((r, i) => {
            if (r.type === 'error') expect(r.value).toMatch(/^(OOM command not allowed when used memory > 'maxmemory'\.|WRONGTYPE)/);
            else if (persistentWrites.has(i)) persistentKeys.add(persistentWrites.get(i)!);
          });
          const used = await usedMemoryAfterEviction(c, LIMIT * 1.05);
          expect(used).toBeLessThanOrEqual(LIMIT * 1.05);
          if (policy.startsWith('volatile-') || policy === 'noeviction') {
            // Keys without a TTL are never evicted (DEL in the workload only deletes strings).
            const alive = await existing(c, [...persistentKeys].filter((k) => !k.startsWith('p:str:')));
            for (const k of persistentKeys) if (!k.startsWith('p:str:')) expect(alive.has(k), `${k} evicted`).toBe(true);
          }
        }),
        { numRuns: 6, seed: 17 },
      );
      const [keys] = await info(c, 'stats', 'evicted_keys');
      if (policy === 'noeviction') expect(keys).toBe(0);
      else expect(keys).toBeGreaterThan(0);
      // The time spent over the limit is counted.
      const reply = await c.call('INFO', 'stats');
      expect(infoNumber(reply, 'total_eviction_exceeded_time')).toBeGreaterThanOrEqual(infoNumber(reply, 'current_eviction_exceeded_time'));
    }, 60000);
  }

  /** Fill with `prefix` keys until used_memory reaches `fraction` of the limit; returns their names. */
  async function fillTo(c: RespClient, prefix: string, fraction: number, size: number, ttl?: number): Promise<string[]> {
    const names: string[] = [];
    while ((await usedMemory(c)) < LIMIT * fraction) {
      const cmds = sets(prefix, names.length, 500, size, ttl);
      await write(c, cmds);
      for (const cmd of cmds) names.push(String(cmd[1]));
    }
    return names;
  }

  /** Add keys until `count` more keys were evicted. */
  async function pressure(c: RespClient, count: number, size: number, ttl?: number): Promise<void> {
    const target = (await evicted(c)) + count;
    let i = 0;
    while ((await evicted(c)) < target) {
      await write(c, sets('new', i, 500, size, ttl));
      i += 500;
    }
  }

  /**
   * Fill to 80% of the limit, read every tenth key `reads` times (after
   * `ageMs`), push half the keyspace out: the keys read must survive and
   * the others mostly not.
   */
  async function hotKeysSurvive(policy: string, reads: number, ageMs: number): Promise<void> {
    const c = await start(policy);
    const names = await fillTo(c, 'k', 0.8, 1000);
    await new Promise((r) => setTimeout(r, ageMs));
    const hot = names.filter((_, i) => i % 10 === 0);
    const cold = names.filter((_, i) => i % 10 !== 0);
    for (let round = 0; round < reads; round++) {
      await pipeline(
        c,
        hot.map((k) => ['GET', k]),
        500,
      );
    }
    await pressure(c, Math.floor(names.length / 2), 1000);
    const hotAlive = (await existing(c, hot)).size / hot.length;
    const coldAlive = (await existing(c, cold)).size / cold.length;
    expect(hotAlive).toBeGreaterThan(0.9);
    expect(coldAlive).toBeLessThan(hotAlive - 0.3);
  }

  // The LRU clock counts seconds: every key ages before the hot ones are read again.
  it('allkeys-lru keeps the keys read recently and evicts cold ones', () => hotKeysSurvive('allkeys-lru', 1, 2100), 60000);

  it('allkeys-lfu keeps the keys read often', () => hotKeysSurvive('allkeys-lfu', 20, 0), 60000);

  it('volatile-ttl evicts the keys closest to expiring first and never a key without a TTL', async () => {
    const c = await start('volatile-ttl');
    const persistent = await fillTo(c, 'p', 0.3, 1000);
    const soon = await fillTo(c, 'soon', 0.55, 1000, 1000);
    const late = (await fillTo(c, 'late', 0.8, 1000, 1_000_000)).filter((k) => !soon.includes(k));
    await pressure(c, Math.floor(soon.length / 2), 1000, 500_000);
    expect((await existing(c, persistent)).size).toBe(persistent.length);
    const soonAlive = (await existing(c, soon)).size / soon.length;
    const lateAlive = (await existing(c, late)).size / late.length;
    expect(lateAlive).toBeGreaterThan(0.9);
    expect(soonAlive).toBeLessThan(0.6);
  }, 60000);

  it('eviction-protect-types and eviction-protect-keys keep queues: streams, lists and bull:* keys are never evicted', async () => {
    const c = await start('allkeys-lru', ['--eviction-protect-types', 'stream list', '--eviction-protect-keys', 'bull:* jobs:*']);
    const cmds: Cmd[] = [];
    for (let i = 0; i < 200; i++) {
      cmds.push(['XADD', `events:${i}`, '*', 'payload', value(500)]);
      cmds.push(['RPUSH', `queue:${i}`, value(500)]);
      cmds.push(['HSET', `bull:q:${i}`, 'data', value(500)]);
      cmds.push(['SET', `jobs:${i}`, value(500)]);
    }
    await write(c, cmds);
    const protectedKeys = cmds.map((cmd) => String(cmd[1]));
    await fillTo(c, 'cache', 0.9, 1000);
    await pressure(c, 20000, 1000);
    expect((await existing(c, protectedKeys)).size).toBe(protectedKeys.length);
    expect(toJs(await c.call('CONFIG', 'GET', 'eviction-protect-types'))).toEqual(['eviction-protect-types', 'stream list']);
    const bad = await c.call('CONFIG', 'SET', 'eviction-protect-types', 'queue');
    expect(bad.type === 'error' && bad.value).toMatch(/Unknown key type 'queue'/);
    // With only protected keys left, writes get OOM rather than losing a queue.
    await c.call('FLUSHDB');
    await write(c, cmds);
    await c.call('CONFIG', 'SET', 'maxmemory', '1');
    const r = await c.call('RPUSH', 'queue:0', 'more');
    expect(r.type === 'error' && r.value).toBe("OOM command not allowed when used memory > 'maxmemory'.");
    expect((await existing(c, protectedKeys)).size).toBe(protectedKeys.length);
  }, 60000);

  it('an eviction is a DEL in the command log (AOF replay and a replica give the same dataset) with an evicted keyspace event', async () => {
    const dir = tempDir();
    const h = await startVireoProcess(['--maxmemory-policy', 'allkeys-random', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--notify-keyspace-events', 'Ee', '--enable-debug-command', 'yes'], { dir });
    servers.push(h);
    const c = await RespClient.connect(h.port);
    // A replica with the same limit: it ignores maxmemory (replica-ignore-maxmemory yes) and applies the primary's DELs.
    const r = await startVireoProcess(['--save', '', '--enable-debug-command', 'yes', '--maxmemory', String(LIMIT), '--maxmemory-policy', 'allkeys-lru']);
    servers.push(r);
    const replica = await RespClient.connect(r.port);
    await replica.call('REPLICAOF', '127.0.0.1', String(h.port));
    await waitInSync(c, replica);
    const sub = await RespClient.connect(h.port);
    await sub.call('SUBSCRIBE', '__keyevent@0__:evicted');
    await c.call('CONFIG', 'SET', 'maxmemory', String(LIMIT));
    await fillTo(c, 'k', 0.9, 1000);
    await pressure(c, 5000, 1000);
    // No eviction after this point (the timer may go on evicting between commands otherwise).
    await c.call('CONFIG', 'SET', 'maxmemory', '0');
    const count = await evicted(c);
    let messages = 0;
    await waitFor('evicted events', async () => {
      while (messages < count) {
        const m = toJs((await sub.read()).reply) as string[];
        expect(m[0]).toBe('message');
        expect(m[1]).toBe('__keyevent@0__:evicted');
        messages++;
      }
      return true;
    });
    expect(messages).toBe(count);
    const before = await digest(c);
    const size = toJs(await c.call('DBSIZE'));
    await waitInSync(c, replica);
    expect(await digest(replica)).toBe(before);
    expect(await evicted(replica)).toBe(0);
    await h.kill();
    const again = await startVireoProcess(['--save', '', '--appendonly', 'yes', '--enable-debug-command', 'yes'], { dir });
    servers.push(again);
    const c2 = await RespClient.connect(again.port);
    expect(toJs(await c2.call('DBSIZE'))).toBe(size);
    expect(await digest(c2)).toBe(before);
  }, 60000);
});
