// The command log: every write becomes a normalized effect record, in
// order, with byte offsets; replaying the log rebuilds the same data.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startVireo, type VireoHandle } from './helpers/servers.js';
import { RespClient, parseReply, toJs } from './helpers/resp.js';

/** Collects log bytes and decodes them back into records. */
class Tap {
  bytes: Buffer[] = [];
  starts: number[] = [];
  onLogData(chunk: Buffer, start: number): void {
    this.bytes.push(Buffer.from(chunk));
    this.starts.push(start);
  }
  records(): string[][] {
    const all = Buffer.concat(this.bytes);
    const out: string[][] = [];
    let pos = 0;
    while (pos < all.length) {
      const r = parseReply(all, pos);
      if (r === null) throw new Error('truncated log');
      out.push(toJs(r[0]) as string[]);
      pos = r[1];
    }
    return out;
  }
  clear(): void {
    this.bytes = [];
    this.starts = [];
  }
}

describe('command log', () => {
  let v: VireoHandle;
  let c: RespClient;
  const tap = new Tap();
  beforeAll(async () => {
    v = await startVireo();
    v.server.engine.log.follow(tap);
    c = await RespClient.connect(v.port);
  });
  afterAll(async () => {
    c.close();
    await v.stop();
  });
  beforeEach(async () => {
    await c.call('FLUSHALL');
    tap.clear();
  });

  const records = () => tap.records().filter((r) => r[0] !== 'SELECT');

  it('logs SET .. EX as SET .. PXAT with an absolute time', async () => {
    const before = Date.now();
    await c.call('SET', 'k', 'v', 'EX', '100');
    const [r] = records();
    expect(r!.slice(0, 4)).toEqual(['SET', 'k', 'v', 'PXAT']);
    const at = Number(r![4]);
    expect(at).toBeGreaterThanOrEqual(before + 100000 - 5);
    expect(at).toBeLessThanOrEqual(Date.now() + 100000 + 5);
  });

  it('logs EXPIRE/PEXPIRE/EXPIREAT as PEXPIREAT, keeping flags', async () => {
    await c.call('SET', 'k', 'v');
    tap.clear();
    await c.call('EXPIRE', 'k', '100');
    await c.call('PEXPIRE', 'k', '500000', 'GT');
    await c.call('EXPIREAT', 'k', '4000000000');
    const rs = records();
    expect(rs.map((r) => r[0])).toEqual(['PEXPIREAT', 'PEXPIREAT', 'PEXPIREAT']);
    expect(rs[1]![3]).toBe('GT');
    expect(rs[2]![2]).toBe('4000000000000');
  });

  it('logs INCRBYFLOAT as SET .. KEEPTTL, GETSET as SET, GETDEL as DEL, GETEX as PEXPIREAT/PERSIST', async () => {
    await c.call('INCRBYFLOAT', 'f', '1.5');
    await c.call('GETSET', 'g', 'x');
    await c.call('GETDEL', 'g');
    await c.call('SET', 'e', 'v');
    await c.call('GETEX', 'e', 'EX', '100');
    await c.call('GETEX', 'e', 'PERSIST');
    await c.call('GETEX', 'e');
    const rs = records();
    expect(rs[0]).toEqual(['SET', 'f', '1.5', 'KEEPTTL']);
    expect(rs[1]).toEqual(['SET', 'g', 'x']);
    expect(rs[2]).toEqual(['DEL', 'g']);
    expect(rs[4]![0]).toBe('PEXPIREAT');
    expect(rs[5]).toEqual(['PERSIST', 'e']);
    expect(rs.length).toBe(6);
  });

  it('logs an expired key as DEL, lazily and actively', async () => {
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    await c.call('SET', 'a', '1', 'PX', '20');
    await c.call('SET', 'b', '1', 'PX', '20');
    await new Promise((r) => setTimeout(r, 40));
    tap.clear();
    expect(toJs(await c.call('GET', 'a'))).toBe(null);
    expect(records()).toEqual([['DEL', 'a']]);
    await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
    await new Promise((r) => setTimeout(r, 400));
    expect(records()).toEqual([['DEL', 'a'], ['DEL', 'b']]);
  });

  it('does not log reads or no-op writes', async () => {
    await c.call('GET', 'x');
    await c.call('DEL', 'nokey');
    await c.call('SET', 'k', 'v', 'XX');
    await c.call('EXPIRE', 'nokey', '10');
    expect(records()).toEqual([]);
  });

  it('wraps a transaction with several writes in MULTI/EXEC', async () => {
    await c.call('MULTI');
    await c.call('SET', 'a', '1');
    await c.call('GET', 'a');
    await c.call('INCR', 'a');
    await c.call('EXEC');
    expect(records()).toEqual([['MULTI'], ['SET', 'a', '1'], ['INCR', 'a'], ['EXEC']]);
  });

  it('emits SELECT when the database changes and tracks byte offsets', async () => {
    const start = v.server.engine.log.offset;
    await c.call('SELECT', '3');
    await c.call('SET', 'x', '1');
    await c.call('SELECT', '0');
    await c.call('SET', 'y', '1');
    const all = tap.records();
    expect(all).toEqual([['SELECT', '3'], ['SET', 'x', '1'], ['SELECT', '0'], ['SET', 'y', '1']]);
    const total = tap.bytes.reduce((n, b) => n + b.length, 0);
    expect(v.server.engine.log.offset - start).toBe(total);
    const info = toJs(await c.call('INFO', 'replication')) as string;
    expect(info).toContain(`master_repl_offset:${v.server.engine.log.offset}`);
  });

  it('advances the offset by the same bytes when nothing follows the log (no AOF, no replica)', async () => {
    const bare = await startVireo();
    const bc = await RespClient.connect(bare.port);
    try {
      const writes = [
        ['SET', 'k', 'v', 'EX', '100'],
        ['SELECT', '7'],
        ['RPUSH', 'l', 'a', 'b', 'c'],
        ['INCRBYFLOAT', 'f', '2.5'],
        ['MULTI'],
        ['SET', 'a', '1'],
        ['LPUSH', 'l', 'z'],
        ['EXEC'],
        ['SELECT', '0'],
        ['DEL', 'k'],
      ];
      // The first record of a log starts with SELECT 0: let it happen before measuring.
      await bc.call('SET', 'warm', '1');
      const start = v.server.engine.log.offset;
      const bareStart = bare.server.engine.log.offset;
      for (const w of writes) {
        await c.call(...w);
        await bc.call(...w);
      }
      // EX becomes PXAT with a 13-digit time on both: same length.
      expect(bare.server.engine.log.offset - bareStart).toBe(v.server.engine.log.offset - start);
      expect(v.server.engine.log.offset - start).toBe(tap.bytes.reduce((n, b) => n + b.length, 0));
    } finally {
      bc.close();
      await bare.stop();
      await c.call('SELECT', '0');
    }
  });

  it('logs random and multi-key pops deterministically: SPOP as SREM, LMPOP as LPOP, ZMPOP as ZPOPMIN, HINCRBYFLOAT as HSET', async () => {
    await c.call('SADD', 's', 'a', 'b', 'c', 'd');
    await c.call('RPUSH', 'l', '1', '2', '3');
    await c.call('ZADD', 'z', '1', 'x', '2', 'y');
    tap.clear();
    const popped = toJs(await c.call('SPOP', 's')) as string;
    const popped2 = toJs(await c.call('SPOP', 's', '2')) as string[];
    await c.call('SPOP', 's', '10');
    await c.call('LMPOP', '2', 'nokey', 'l', 'RIGHT', 'COUNT', '5');
    await c.call('ZMPOP', '1', 'z', 'MIN', 'COUNT', '1');
    await c.call('HINCRBYFLOAT', 'h', 'f', '1.1');
    const rs = records();
    expect(rs[0]).toEqual(['SREM', 's', popped]);
    expect(rs[1]!.slice(0, 2)).toEqual(['SREM', 's']);
    expect(rs[1]!.slice(2).sort()).toEqual([...popped2].sort());
    expect(rs[2]).toEqual(['DEL', 's']);
    expect(rs[3]).toEqual(['RPOP', 'l', '3']);
    expect(rs[4]).toEqual(['ZPOPMIN', 'z', '1']);
    expect(rs[5]).toEqual(['HSET', 'h', 'f', '1.1']);
  });

  it('logs commands split across reads at every byte exactly as sent (raw copies stay valid)', async () => {
    // Sockets share one read buffer: a partial command must survive the next read.
    const cmds = [
      ['SET', 'split:a', 'x'.repeat(40)],
      ['RPUSH', 'split:l', 'one', 'two'],
      ['SET', 'split:b', '\r\n*2\r\n$3\r\n'],
    ];
    const wire = Buffer.from(cmds.map((a) => `*${a.length}\r\n${a.map((x) => `$${x.length}\r\n${x}\r\n`).join('')}`).join(''), 'latin1');
    const raw = await RespClient.connect(v.port);
    for (let cut = 1; cut < wire.length; cut += 7) {
      tap.clear();
      raw.writeRaw(wire.subarray(0, cut));
      await new Promise((r) => setTimeout(r, 2));
      raw.writeRaw(wire.subarray(cut));
      for (let i = 0; i < cmds.length; i++) expect((await raw.read()).reply.type).not.toBe('error');
      expect(records()).toEqual(cmds);
      await raw.call('DEL', 'split:l');
    }
    raw.close();
  });

  it('replaying the log into a fresh server rebuilds the same dataset', async () => {
    const ops: string[][] = [
      ['SET', 'a', '1'], ['INCR', 'a'], ['APPEND', 'b', 'xyz'], ['SETRANGE', 'b', '5', 'q'],
      ['MSET', 'c', '1', 'd', '2'], ['DEL', 'c'], ['SET', 'e', 'v', 'EX', '1000'], ['RENAME', 'e', 'f'],
      ['INCRBYFLOAT', 'g', '0.1'], ['INCRBYFLOAT', 'g', '0.2'], ['SELECT', '2'], ['SET', 'h', 'x'], ['COPY', 'h', 'i', 'DB', '0'],
      ['SELECT', '0'], ['GETEX', 'a', 'PX', '500000'], ['SWAPDB', '0', '5'], ['MOVE', 'a', '0'],
      ['RPUSH', 'l', 'a', 'b', 'c', 'd'], ['LMOVE', 'l', 'l2', 'LEFT', 'RIGHT'], ['LMPOP', '1', 'l', 'RIGHT'],
      ['SADD', 's', '1', '2', '3', 'x', 'y'], ['SPOP', 's', '2'], ['SPOP', 's'], ['SMOVE', 's', 's2', 'x'],
      ['HSET', 'h', 'f', '1', 'g', '2'], ['HINCRBYFLOAT', 'h', 'f', '0.5'], ['HDEL', 'h', 'g'],
      ['ZADD', 'z', '1', 'a', '2', 'b', '3', 'c'], ['ZMPOP', '1', 'z', 'MAX'], ['ZINCRBY', 'z', '5', 'a'],
      ['ZUNIONSTORE', 'zu', '2', 'z', 's2'], ['SORT', 'l2', 'ALPHA', 'STORE', 'sorted'],
    ];
    for (const op of ops) await c.call(...op);
    const replica = await startVireo();
    const rc = await RespClient.connect(replica.port);
    try {
      for (const rec of tap.records()) await rc.call(...rec);
      for (const db of ['0', '2', '5']) {
        await c.call('SELECT', db);
        await rc.call('SELECT', db);
        const keys = (toJs(await c.call('KEYS', '*')) as string[]).sort();
        expect((toJs(await rc.call('KEYS', '*')) as string[]).sort()).toEqual(keys);
        for (const k of keys) {
          const type = toJs(await c.call('TYPE', k)) as string;
          const dump: Record<string, string[]> = {
            string: ['GET', k],
            list: ['LRANGE', k, '0', '-1'],
            hash: ['HGETALL', k],
            set: ['SMEMBERS', k],
            zset: ['ZRANGE', k, '0', '-1', 'WITHSCORES'],
          };
          const norm = (v: unknown) => (type === 'set' ? [...(v as string[])].sort() : v);
          expect(norm(toJs(await rc.call(...dump[type]!)))).toEqual(norm(toJs(await c.call(...dump[type]!))));
          const [t1, t2] = [toJs(await c.call('PTTL', k)) as string, toJs(await rc.call('PTTL', k)) as string];
          expect(Math.abs(Number(t1) - Number(t2))).toBeLessThan(1000);
        }
      }
    } finally {
      rc.close();
      await replica.stop();
      await c.call('SELECT', '0');
    }
  });
});
