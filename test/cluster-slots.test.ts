// CLUSTER KEYSLOT / COUNTKEYSINSLOT / GETKEYSINSLOT against redis-server in
// cluster mode (one node owning every slot), Redis' standalone answers for
// the topology subcommands, Valkey 8's CLUSTER SLOT-STATS as its
// tests/unit/cluster/slot-stats.tcl expects it, and VIREO HOTKEYS.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import path from 'node:path';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS, startRedis, startVireo, tempDir, type VireoHandle } from './helpers/servers.js';
import { RespClient, toJs, type Reply } from './helpers/resp.js';
import { HotKeys, HOTKEYS_CAPACITY } from '../src/diagnostics/hot-keys.js';
import { keySlot } from '../src/engine/slot.js';

async function waitFor(cond: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(!HAVE_REDIS)('CLUSTER KEYSLOT / COUNTKEYSINSLOT / GETKEYSINSLOT (differential, redis-server in cluster mode)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    const dir = tempDir('redis-cluster-');
    const redis = await startRedis({ dir, 'cluster-enabled': 'yes', 'cluster-config-file': path.join(dir, 'nodes.conf') });
    const vireo = await startVireo();
    pair = await DiffPair.of(redis, vireo);
    await pair.redis.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
    await waitFor(async () => String(toJs(await pair.redis.call('CLUSTER', 'INFO'))).includes('cluster_state:ok'), 'cluster_state:ok');
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('KEYSLOT: hash tags, empty tags, binary keys, and its arity errors', async () => {
    const keys = ['foo', '{user}a', '{user}b', '{}a', 'a{}b', '{', '}', '{a', 'a}b{c}', '{{a}}', '', 'x'.repeat(1000), '\xff\x80\x00z', '{\xfe}1'];
    for (const k of keys) await pair.check('CLUSTER', 'KEYSLOT', k);
    await pair.check('CLUSTER', 'KEYSLOT');
    await pair.check('CLUSTER', 'KEYSLOT', 'a', 'b');
    await pair.check('cluster', 'keyslot', 'MiXeD');
  });

  it('COUNTKEYSINSLOT and GETKEYSINSLOT: counts, newest key first, bounds and errors', async () => {
    const slot = String(keySlot('{t}'));
    await pair.script([
      ['FLUSHALL'],
      ['CLUSTER', 'COUNTKEYSINSLOT', slot],
      ['CLUSTER', 'GETKEYSINSLOT', slot, '10'],
      ['SET', '{t}a', '1'],
      ['SET', '{t}b', '1'],
      ['RPUSH', '{t}c', 'x'],
      ['HSET', '{t}d', 'f', 'v'],
      ['DEL', '{t}b'],
      ['SET', '{t}b', '2'],
      ['SET', '{t}a', '3'],
      ['RENAME', '{t}c', '{t}e'],
      ['SET', 'other', '1'],
      ['CLUSTER', 'COUNTKEYSINSLOT', slot],
      ['CLUSTER', 'GETKEYSINSLOT', slot, '10'],
      ['CLUSTER', 'GETKEYSINSLOT', slot, '2'],
      ['CLUSTER', 'GETKEYSINSLOT', slot, '1'],
      ['CLUSTER', 'GETKEYSINSLOT', slot, '0'],
      ['CLUSTER', 'GETKEYSINSLOT', slot, '9223372036854775807'],
      ['CLUSTER', 'GETKEYSINSLOT', '0', '5'],
      ['CLUSTER', 'COUNTKEYSINSLOT', '16383'],
      ['CLUSTER', 'COUNTKEYSINSLOT', 'x'],
      ['CLUSTER', 'COUNTKEYSINSLOT', '-1'],
      ['CLUSTER', 'COUNTKEYSINSLOT', '16384'],
      ['CLUSTER', 'COUNTKEYSINSLOT', '99999999999999999999'],
      ['CLUSTER', 'COUNTKEYSINSLOT', ' 1'],
      ['CLUSTER', 'COUNTKEYSINSLOT'],
      ['CLUSTER', 'GETKEYSINSLOT', slot],
      ['CLUSTER', 'GETKEYSINSLOT', 'x', '1'],
      ['CLUSTER', 'GETKEYSINSLOT', slot, 'x'],
      ['CLUSTER', 'GETKEYSINSLOT', '-1', '1'],
      ['CLUSTER', 'GETKEYSINSLOT', slot, '-1'],
      ['CLUSTER', 'GETKEYSINSLOT', '16384', '1'],
      ['CLUSTER', 'GETKEYSINSLOT', '-1', 'x'],
      ['PEXPIRE', '{t}d', '1'],
    ]);
    await new Promise((r) => setTimeout(r, 20));
    // An expired key is still counted until it is found (or the expiry cycle takes it), on both servers alike.
    await pair.check('GET', '{t}d');
    await pair.script([
      ['CLUSTER', 'COUNTKEYSINSLOT', slot],
      ['CLUSTER', 'GETKEYSINSLOT', slot, '10'],
      ['FLUSHALL'],
      ['CLUSTER', 'COUNTKEYSINSLOT', slot],
    ]);
  });

  it('unknown subcommands and the bare command answer as Redis', async () => {
    await pair.check('CLUSTER', 'NOSUCH');
    await pair.check('CLUSTER');
  });

  it('COMMAND INFO of the slot subcommands agrees with Redis (tips aside)', async () => {
    const stripTips = (r: Reply): unknown => (toJs(r) as unknown[][]).map((entry) => entry.map((x, i) => (i === 7 ? '<tips>' : x)));
    // CLUSTER INFO, MYID, NODES, SLOTS and SHARDS are left out: 7.2 added the loading flag to them.
    for (const n of ['cluster|keyslot', 'cluster|countkeysinslot', 'cluster|getkeysinslot', 'cluster|help', 'cluster|addslots', 'cluster|setslot']) {
      const [a, b] = await Promise.all([pair.redis.call('COMMAND', 'INFO', n), pair.vireo.call('COMMAND', 'INFO', n)]);
      expect(stripTips(b), n).toEqual(stripTips(a));
    }
  });
});

describe.skipIf(!HAVE_REDIS)('CLUSTER topology subcommands in standalone mode (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('answer "This instance has cluster support disabled", as redis-server without cluster-enabled', async () => {
    await pair.script([
      ['CLUSTER', 'INFO'],
      ['CLUSTER', 'MYID'],
      ['CLUSTER', 'NODES'],
      ['CLUSTER', 'SLOTS'],
      ['CLUSTER', 'SHARDS'],
      ['CLUSTER', 'LINKS'],
      ['CLUSTER', 'ADDSLOTS', '1'],
      ['CLUSTER', 'ADDSLOTSRANGE', '0', '16383'],
      ['CLUSTER', 'MEET', '127.0.0.1', '1'],
      ['CLUSTER', 'RESET'],
      ['CLUSTER', 'SETSLOT', '1', 'STABLE'],
      ['CLUSTER', 'NOSUCH'],
      ['CLUSTER', 'INFO', 'extra'],
    ]);
  });

  it('READONLY, READWRITE and ASKING answer the same, and RESTORE-ASKING restores as RESTORE does', async () => {
    await pair.script([
      ['READONLY'],
      ['READWRITE'],
      ['ASKING'],
      ['READONLY', 'x'],
      ['ASKING', 'x'],
      ['RESTORE-ASKING', 'k', '0', 'not a payload'],
      ['RESTORE-ASKING', 'k'],
      ['RPUSH', 'src', 'a', 'b', 'c'],
    ]);
    // A payload each server made itself (the same bytes: both write RDB version 10 here).
    for (const c of [pair.redis, pair.vireo]) {
      const dump = await c.call('DUMP', 'src');
      if (dump.type !== 'bulk' || dump.value === null) throw new Error('DUMP gave no payload');
      await c.call('SET', 'payload', dump.value);
    }
    await pair.script([
      ['EVAL', "return redis.call('RESTORE-ASKING', 'dst', 0, redis.call('GET', 'payload'))", '0'],
      ['LRANGE', 'dst', '0', '-1'],
      ['EVAL', "return redis.call('RESTORE-ASKING', 'dst', 0, redis.call('GET', 'payload'))", '0'],
      ['EVAL', "return redis.call('RESTORE-ASKING', 'dst', 0, redis.call('GET', 'payload'), 'REPLACE', 'ABSTTL')", '0'],
      ['TTL', 'dst'],
      ['COMMAND', 'INFO', 'readonly', 'readwrite', 'asking', 'restore-asking'],
    ]);
  });
});

// ---- CLUSTER SLOT-STATS (Valkey 8 behaviour, Vireo alone) ---------------------------

type SlotMetrics = Record<string, number>;

/** CLUSTER SLOT-STATS' reply as [slot, metrics] pairs, in reply order (RESP2: each map is a flat array). */
function slotEntries(r: Reply): [number, SlotMetrics][] {
  const rows = toJs(r);
  if (rows instanceof Error) throw rows;
  return (rows as [number, unknown][]).map(([slot, m]) => {
    const flat = m as unknown[];
    const metrics: SlotMetrics = {};
    for (let i = 0; i < flat.length; i += 2) metrics[flat[i] as string] = Number(flat[i + 1]);
    return [Number(slot), metrics];
  });
}

describe('CLUSTER SLOT-STATS', () => {
  let v: VireoHandle;
  let c: RespClient;
  beforeAll(async () => {
    v = await startVireo();
    c = await RespClient.connect(v.port);
  });
  afterAll(async () => {
    c?.close();
    await v?.stop();
  });
  beforeEach(async () => {
    await c.call('CONFIG', 'SET', 'cluster-slot-stats-enabled', 'no');
    await c.call('FLUSHALL');
    await c.call('CONFIG', 'RESETSTAT');
  });

  const js = async (...args: string[]) => toJs(await c.call(...args));
  const all = async () => new Map(slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'SLOTSRANGE', '0', '16383')));
  const one = async (slot: number) => slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'SLOTSRANGE', String(slot), String(slot)))[0]![1];
  /**
   * Every slot's metrics are 0 except those `except` gives, which must be
   * as given. Read with ORDERBY <metric> DESC (metrics are never negative):
   * the slots past the expected ones must read 0.
   */
  async function expectOnly(except: Record<number, SlotMetrics>, metrics: string[]): Promise<void> {
    const listed = Object.keys(except).map(Number);
    for (const name of metrics) {
      const rows = slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', name, 'LIMIT', String(listed.length + 1), 'DESC'));
      const nonZero = rows.filter(([, m]) => m[name] !== 0).map(([slot, m]) => [slot, m[name]]);
      const wanted = listed.filter((slot) => (except[slot]![name] ?? 0) !== 0).map((slot) => [slot, except[slot]![name]]);
      const bySlot = (a: (number | undefined)[], b: (number | undefined)[]) => a[0]! - b[0]!;
      expect(nonZero.sort(bySlot), name).toEqual(wanted.sort(bySlot));
    }
  }

  it('lists every slot with key-count only while the accounting is off; key-count follows SET, DEL, expiry, FLUSHALL', async () => {
    const stats = await all();
    expect(stats.size).toBe(16384);
    expect([...stats.keys()].slice(0, 3)).toEqual([0, 1, 2]);
    expect(stats.get(0)).toEqual({ 'key-count': 0 });
    const foo = keySlot('FOO');
    await c.call('SET', 'FOO', 'TEST');
    await expectOnly({ [foo]: { 'key-count': 1 } }, ['key-count']);
    await c.call('SET', 'FOO', 'NEW_VALUE');
    await expectOnly({ [foo]: { 'key-count': 1 } }, ['key-count']);
    await c.call('DEL', 'FOO');
    await expectOnly({}, ['key-count']);
    await c.call('SET', '{FOO}a', '1', 'PX', '1');
    await c.call('SET', '{FOO}b', '1');
    await new Promise((r) => setTimeout(r, 10));
    await c.call('GET', '{FOO}a');
    await expectOnly({ [foo]: { 'key-count': 1 } }, ['key-count']);
    await c.call('FLUSHALL');
    await expectOnly({}, ['key-count']);
  });

  it('counts keys of the selected database', async () => {
    await c.call('SELECT', '1');
    await c.call('SET', 'FOO', '1');
    const inDb1 = slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'SLOTSRANGE', String(keySlot('FOO')), String(keySlot('FOO'))));
    expect(await js('CLUSTER', 'COUNTKEYSINSLOT', String(keySlot('FOO')))).toBe('1');
    await c.call('SELECT', '0');
    expect(inDb1[0]![1]['key-count']).toBe(1);
    expect(await js('CLUSTER', 'COUNTKEYSINSLOT', String(keySlot('FOO')))).toBe('0');
  });

  it('SLOTSRANGE gives the slots of the range, in order', async () => {
    const stats = slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'SLOTSRANGE', '100', '102'));
    expect(stats.map(([s]) => s)).toEqual([100, 101, 102]);
    expect(slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'slotsrange', '16383', '16383')).map(([s]) => s)).toEqual([16383]);
  });

  it('ORDERBY key-count: ordered by count, ties by slot ascending, LIMIT pages', async () => {
    const tags = ['0', '1', '2', '3', '4'];
    for (let t = 0; t < tags.length; t++) for (let i = 0; i <= t; i++) await c.call('SET', `${i}{${tags[t]}}`, 'v');
    const desc = slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', 'key-count', 'LIMIT', '5', 'DESC'));
    expect(desc.map(([s]) => s)).toEqual(['4', '3', '2', '1', '0'].map((t) => keySlot(`{${t}}`)));
    expect(desc.map(([, m]) => m['key-count'])).toEqual([5, 4, 3, 2, 1]);
    const defaultOrder = slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', 'key-count'));
    expect(defaultOrder).toHaveLength(16384);
    expect(defaultOrder.slice(0, 5)).toEqual(desc);
    const asc = slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', 'key-count', 'ASC', 'LIMIT', '3'));
    expect(asc.map(([s]) => s)).toEqual([0, 1, 2]);
    const ascAll = slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', 'key-count', 'ASC'));
    for (let i = 1; i < ascAll.length; i++) {
      const [pa, ma] = ascAll[i - 1]!;
      const [pb, mb] = ascAll[i]!;
      expect(ma['key-count']! < mb['key-count']! || (ma['key-count'] === mb['key-count'] && pa < pb)).toBe(true);
    }
    await c.call('FLUSHALL');
    for (const order of ['ASC', 'DESC']) {
      const page = slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', 'key-count', 'LIMIT', '5', order));
      expect(page.map(([s]) => s)).toEqual([0, 1, 2, 3, 4]);
    }
  });

  it('errors as Valkey words them', async () => {
    const err = async (...args: string[]) => ((await js('CLUSTER', 'SLOT-STATS', ...args)) as Error).message;
    expect(await err('SLOTSRANGE', '-1', '5')).toBe('ERR Invalid or out of range slot');
    expect(await err('SLOTSRANGE', '0', '16384')).toBe('ERR Invalid or out of range slot');
    expect(await err('SLOTSRANGE', 'x', '1')).toBe('ERR Invalid or out of range slot');
    expect(await err('SLOTSRANGE', '10', '5')).toBe('ERR Start slot number 10 is greater than end slot number 5');
    expect(await err('SLOTSRANGE', '1')).toBe("ERR unknown subcommand or wrong number of arguments for 'SLOT-STATS'. Try CLUSTER HELP.");
    expect(await err('SLOTSRANGE', '1', '2', '3')).toBe("ERR unknown subcommand or wrong number of arguments for 'SLOT-STATS'. Try CLUSTER HELP.");
    expect(await err('NOSUCH', '1')).toBe("ERR unknown subcommand or wrong number of arguments for 'SLOT-STATS'. Try CLUSTER HELP.");
    expect(await err('ORDERBY', 'non-existent-metric')).toBe('ERR Unrecognized sort metric for ORDERBY.');
    for (const metric of ['cpu-usec', 'network-bytes-in', 'network-bytes-out']) {
      expect(await err('ORDERBY', metric)).toBe('ERR Unrecognized sort metric for ORDERBY.');
    }
    const limitErr = 'ERR Limit has to lie in between 1 and 16384 (maximum number of slots).';
    for (const n of ['0', '-1', '16385', 'x', '99999999999999999999']) expect(await err('ORDERBY', 'key-count', 'LIMIT', n)).toBe(limitErr);
    expect(await err('ORDERBY', 'key-count', 'DESC', 'LIMIT', '-1')).toBe(limitErr);
    expect(await err('ORDERBY', 'key-count', 'non-existent-arg')).toBe('ERR syntax error');
    expect(await err('ORDERBY', 'key-count', 'LIMIT')).toBe('ERR syntax error');
    expect(await err('ORDERBY', 'key-count', 'LIMIT', '1', 'LIMIT', '2')).toBe('ERR Multiple filters of the same type are disallowed.');
    expect(await err('ORDERBY', 'key-count', 'ASC', 'DESC')).toBe('ERR Multiple filters of the same type are disallowed.');
    expect(await err('ORDERBY')).toBe("ERR wrong number of arguments for 'cluster|slot-stats' command");
    expect(((await js('CLUSTER', 'SLOT-STATS')) as Error).message).toBe("ERR wrong number of arguments for 'cluster|slot-stats' command");
  });

  it('COMMAND INFO has the entry of Valkey 8 (arity -4, loading and stale)', async () => {
    const info = (await js('COMMAND', 'INFO', 'cluster|slot-stats')) as unknown[][];
    expect(info[0]!.slice(0, 3)).toEqual(['cluster|slot-stats', '-4', ['loading', 'stale']]);
    const docs = JSON.stringify(await js('COMMAND', 'DOCS', 'cluster|slot-stats'));
    expect(docs).toContain('8.0.0');
  });

  describe('with cluster-slot-stats-enabled yes', () => {
    beforeEach(async () => {
      await c.call('CONFIG', 'SET', 'cluster-slot-stats-enabled', 'yes');
      await c.call('CONFIG', 'RESETSTAT');
    });
    const key = 'key';
    const slot = keySlot(key);
    const cmdstatUsec = async (cmd: string) => {
      const line = String(await js('INFO', 'commandstats')).split('\r\n').find((l) => l.startsWith(`cmdstat_${cmd}:`));
      return Number(/usec=(\d+)/.exec(line ?? '')?.[1] ?? 'NaN');
    };

    it('each slot has all four metrics; cpu-usec is the command time commandstats shows', async () => {
      expect(await one(0)).toEqual({ 'key-count': 0, 'cpu-usec': 0, 'network-bytes-in': 0, 'network-bytes-out': 0 });
      await c.call('SET', key, 'value');
      const usec = await cmdstatUsec('set');
      await expectOnly({ [slot]: { 'key-count': 1, 'cpu-usec': usec } }, ['key-count', 'cpu-usec']);
    });

    it('network-bytes-in / -out: request and reply bytes as sent (multibulk and inline)', async () => {
      // *3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n is 33 bytes; +OK\r\n 5.
      await c.call('SET', key, 'value');
      await expectOnly({ [slot]: { 'network-bytes-in': 33, 'network-bytes-out': 5 } }, ['network-bytes-in', 'network-bytes-out']);
      await c.call('CONFIG', 'RESETSTAT');
      const raw = await RespClient.connect(v.port);
      raw.writeRaw(Buffer.from(`SET ${key} value\r\n`));
      await raw.read();
      raw.close();
      await expectOnly({ [slot]: { 'network-bytes-in': 15, 'network-bytes-out': 5 } }, ['network-bytes-in', 'network-bytes-out']);
    });

    it('commands without keys (INFO, PING) and cross-slot commands are charged to no slot', async () => {
      await c.call('INFO');
      await c.call('PING');
      await c.call('MSET', 'a', '1', 'b', '2');
      await c.call('SET', 'x', '1');
      await c.call('CONFIG', 'RESETSTAT');
      await c.call('MGET', 'a', 'b');
      await c.call('PUBLISH', 'channel', 'message');
      await expectOnly({}, ['cpu-usec', 'network-bytes-in', 'network-bytes-out']);
    });

    it('MULTI/EXEC: the queued commands and EXEC (with its MULTI) in, EXEC time as cpu-usec', async () => {
      const tx = await RespClient.connect(v.port);
      await tx.call('MULTI');
      await tx.call('SET', key, 'value');
      await tx.call('GET', key);
      await expectOnly({ [slot]: { 'network-bytes-in': 33 + 22, 'cpu-usec': 0 } }, ['network-bytes-in', 'cpu-usec']);
      await tx.call('EXEC');
      tx.close();
      const execUsec = await cmdstatUsec('exec');
      // 15 (MULTI) + 33 (SET) + 22 (GET) + 14 (EXEC); EXEC's reply *2\r\n+OK\r\n$5\r\nvalue\r\n is 20 bytes.
      await expectOnly({ [slot]: { 'network-bytes-in': 84, 'network-bytes-out': 20, 'cpu-usec': execUsec } }, ['network-bytes-in', 'network-bytes-out', 'cpu-usec']);
    });

    it('scripts: charged to the slot of the keys they touch, to none when those span slots', async () => {
      await c.call('EVAL', `redis.call('set', '${key}', 'bar'); redis.call('get', '${key}')`, '0');
      const evalUsec = await cmdstatUsec('eval');
      await expectOnly({ [slot]: { 'cpu-usec': evalUsec } }, ['cpu-usec']);
      await c.call('CONFIG', 'RESETSTAT');
      await c.call('EVAL', `redis.call('set', '${key}', 'bar'); redis.call('get', 'other')`, '0');
      await expectOnly({}, ['cpu-usec', 'network-bytes-in']);
    });

    it('a blocked command counts when it is served: BLPOP 31 bytes in, 24 out, with LPUSH 35 in, 4 out', async () => {
      const blocked = await RespClient.connect(v.port);
      const pending = blocked.call('BLPOP', key, '0');
      await waitFor(async () => String(await js('INFO', 'clients')).includes('blocked_clients:1'), 'the client to block');
      await expectOnly({}, ['cpu-usec', 'network-bytes-in', 'network-bytes-out']);
      await c.call('LPUSH', key, 'value');
      expect(toJs(await pending)).toEqual([key, 'value']);
      blocked.close();
      const stats = await one(slot);
      expect(stats['network-bytes-in']).toBe(66);
      expect(stats['network-bytes-out']).toBe(28);
      expect(stats['cpu-usec']).toBeGreaterThanOrEqual(await cmdstatUsec('lpush'));
    });

    it('sharded Pub/Sub: SSUBSCRIBE and SPUBLISH count for the channel slot, messages to subscribers too', async () => {
      const channel = 'channel';
      const chSlot = keySlot(channel);
      const sub = await RespClient.connect(v.port);
      // *2\r\n$10\r\nssubscribe\r\n$7\r\nchannel\r\n is 34 bytes; its reply *3\r\n$10\r\nssubscribe\r\n$7\r\nchannel\r\n:1\r\n 38.
      await sub.call('SSUBSCRIBE', channel);
      await expectOnly({ [chSlot]: { 'network-bytes-in': 34, 'network-bytes-out': 38 } }, ['network-bytes-in', 'network-bytes-out']);
      await c.call('CONFIG', 'RESETSTAT');
      // SPUBLISH: 42 bytes in; :1\r\n (4) to the publisher and the 42-byte smessage to the subscriber out.
      expect(await js('SPUBLISH', channel, 'hello')).toBe('1');
      await expectOnly({ [chSlot]: { 'network-bytes-in': 42, 'network-bytes-out': 46 } }, ['network-bytes-in', 'network-bytes-out']);
      sub.close();
    });

    it('CONFIG RESETSTAT clears cpu and bytes; turned off, nothing more is added', async () => {
      await c.call('SET', key, 'value');
      const before = await one(slot);
      expect(before['network-bytes-in']).toBe(33);
      await c.call('CONFIG', 'SET', 'cluster-slot-stats-enabled', 'no');
      for (let i = 0; i < 20; i++) await c.call('SET', key, 'value');
      await c.call('CONFIG', 'SET', 'cluster-slot-stats-enabled', 'yes');
      expect(await one(slot)).toEqual(before);
      await c.call('CONFIG', 'RESETSTAT');
      await expectOnly({ [slot]: { 'key-count': 1 } }, ['key-count', 'cpu-usec', 'network-bytes-in', 'network-bytes-out']);
    });

    it('ORDERBY each metric sorts by it', async () => {
      for (let i = 0; i < 200; i++) await c.call('SET', `k${i}`, 'x'.repeat(i));
      for (const metric of ['key-count', 'cpu-usec', 'network-bytes-in', 'network-bytes-out']) {
        for (const order of ['ASC', 'DESC']) {
          const rows = slotEntries(await c.call('CLUSTER', 'SLOT-STATS', 'ORDERBY', metric, 'LIMIT', '300', order));
          expect(rows).toHaveLength(300);
          for (let i = 1; i < rows.length; i++) {
            const a = rows[i - 1]![1][metric]!;
            const b = rows[i]![1][metric]!;
            expect(order === 'ASC' ? a <= b : a >= b, `${metric} ${order}`).toBe(true);
            if (a === b) expect(rows[i - 1]![0]).toBeLessThan(rows[i]![0]);
          }
        }
      }
    });
  });
});

// ---- VIREO HOTKEYS ----------------------------------------------------------------------

describe('VIREO HOTKEYS', () => {
  let v: VireoHandle;
  let c: RespClient;
  beforeAll(async () => {
    v = await startVireo();
    c = await RespClient.connect(v.port);
  });
  afterAll(async () => {
    c?.close();
    await v?.stop();
  });
  const js = async (...args: string[]) => toJs(await c.call(...args));
  const hot = async (...args: string[]) => (await js('VIREO', 'HOTKEYS', ...args)) as unknown[][];

  it('is off by default and says how to turn it on', async () => {
    expect(((await js('VIREO', 'HOTKEYS')) as Error).message).toContain('vireo-hotkeys-sample-rate');
    expect(await js('CONFIG', 'GET', 'vireo-hotkeys-sample-rate')).toEqual(['vireo-hotkeys-sample-rate', '0']);
  });

  it('lists the most accessed keys first, with db and counts, COUNT and RESET', async () => {
    await c.call('CONFIG', 'SET', 'vireo-hotkeys-sample-rate', '1');
    for (let i = 0; i < 5; i++) await c.call('GET', 'a');
    for (let i = 0; i < 3; i++) await c.call('INCR', 'b');
    await c.call('MSET', 'c', '1', 'd', '1');
    await c.call('SELECT', '2');
    await c.call('GET', 'c');
    await c.call('SELECT', '0');
    await c.call('PING');
    const top = await hot();
    expect(top[0]).toEqual(['key', 'a', 'db', '0', 'count', '5', 'error', '0']);
    expect(top[1]).toEqual(['key', 'b', 'db', '0', 'count', '3', 'error', '0']);
    // Ties: lower db first, then key order.
    expect(top.slice(2)).toEqual([
      ['key', 'c', 'db', '0', 'count', '1', 'error', '0'],
      ['key', 'd', 'db', '0', 'count', '1', 'error', '0'],
      ['key', 'c', 'db', '2', 'count', '1', 'error', '0'],
    ]);
    expect(await hot('COUNT', '1')).toEqual([top[0]]);
    expect(await hot('RESET')).toBe('OK');
    expect(await hot()).toEqual([]);
  });

  it('samples one command in N', async () => {
    await c.call('CONFIG', 'SET', 'vireo-hotkeys-sample-rate', '10');
    await c.call('VIREO', 'HOTKEYS', 'RESET');
    for (let i = 0; i < 100; i++) await c.call('GET', 'a');
    expect(await hot()).toEqual([['key', 'a', 'db', '0', 'count', '10', 'error', '0']]);
    await c.call('CONFIG', 'SET', 'vireo-hotkeys-sample-rate', '0');
    for (let i = 0; i < 100; i++) await c.call('GET', 'a');
    // Off: what was sampled stays readable, nothing is added.
    expect(await hot()).toEqual([['key', 'a', 'db', '0', 'count', '10', 'error', '0']]);
  });

  it('argument errors', async () => {
    const err = async (...args: string[]) => ((await js('VIREO', 'HOTKEYS', ...args)) as Error).message;
    expect(await err('COUNT', '0')).toBe(`ERR count must be between 1 and ${HOTKEYS_CAPACITY}`);
    expect(await err('COUNT', String(HOTKEYS_CAPACITY + 1))).toBe(`ERR count must be between 1 and ${HOTKEYS_CAPACITY}`);
    expect(await err('COUNT', 'x')).toBe(`ERR count must be between 1 and ${HOTKEYS_CAPACITY}`);
    expect(await err('COUNT')).toBe('ERR syntax error');
    expect(await err('NOSUCH')).toBe('ERR syntax error');
    expect(((await js('VIREO', 'NOSUCH')) as Error).message).toBe("ERR unknown subcommand 'NOSUCH'. Try VIREO HELP.");
    expect(JSON.stringify(await js('VIREO', 'HELP'))).toContain('HOTKEYS [COUNT <count>]');
  });
});

describe('HotKeys (Space-Saving summary)', () => {
  it('keeps the truly hottest keys among far more distinct keys than it holds, within its error bound', () => {
    const h = new HotKeys();
    h.configure(1);
    // Keys hot0..hot4 are accessed 500..300 times, interleaved with 20000 distinct cold keys.
    let cold = 0;
    for (let round = 0; round < 500; round++) {
      for (let k = 0; k < 5; k++) if (round < 500 - k * 50) h.countKeys(0, [`hot${k}`]);
      for (let i = 0; i < 40; i++) h.countKeys(0, [`cold${cold++}`]);
    }
    const top = h.top(5);
    expect(top.map((e) => e.key)).toEqual(['hot0', 'hot1', 'hot2', 'hot3', 'hot4']);
    const total = h.sampled;
    for (const [i, e] of top.entries()) {
      const truth = 500 - i * 50;
      expect(e.count).toBeGreaterThanOrEqual(truth);
      expect(e.count - e.error).toBeLessThanOrEqual(truth);
      expect(e.error).toBeLessThanOrEqual(total / HOTKEYS_CAPACITY);
    }
  });
});
