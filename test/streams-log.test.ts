// Streams in the command log and in files: the effects each stream write
// logs (as Redis propagates them), the AOF rewrite's commands (Redis'
// rewriteStreamObject) loaded back by Vireo and by redis-server 7.0, and
// RDB stream types 15, 19 and 21 read into the same value.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { HAVE_REDIS, startRedis, startVireo, tempDir, type VireoHandle } from './helpers/servers.js';
import { RespClient, parseReply, toJs } from './helpers/resp.js';
import { maskTimes } from './helpers/stream-mask.js';
import { normalize } from './helpers/differential.js';
import { restorePayload } from '../persistence/rdb/file.js';
import { RdbOutput } from '../persistence/rdb/format.js';
import { Crc64 } from '../persistence/rdb/crc64.js';
import { EncodingLimits } from '../src/types/limits.js';
import { StreamValue } from '../src/types/stream.js';
import { idBytes } from '../src/types/stream-id.js';

/** Collects log bytes and decodes them back into records (as commandlog.test.ts does). */
class Tap {
  bytes: Buffer[] = [];
  onLogData(chunk: Buffer): void {
    this.bytes.push(Buffer.from(chunk));
  }
  records(): string[][] {
    const all = Buffer.concat(this.bytes);
    const out: string[][] = [];
    for (let pos = 0; pos < all.length; ) {
      const r = parseReply(all, pos)!;
      const rec = toJs(r[0]) as string[];
      if (rec[0] !== 'SELECT') out.push(rec);
      pos = r[1];
    }
    return out;
  }
}

describe('stream effects in the command log', () => {
  let v: VireoHandle;
  let c: RespClient;
  const tap = new Tap();
  beforeAll(async () => {
    v = await startVireo();
    v.server.engine.log.follow(tap);
    c = await RespClient.connect(v.port);
  });
  afterAll(async () => {
    c?.close();
    await v?.stop();
  });
  beforeEach(async () => {
    await c.call('FLUSHALL');
  });
  const call = async (...args: string[]) => toJs(await c.call(...args));
  /** Records logged while `f` ran. */
  async function logged(f: () => Promise<unknown>): Promise<string[][]> {
    tap.bytes = [];
    await f();
    return tap.records();
  }

  it('XADD logs the ID it assigned and `~` trimming as `=` with the exact result', async () => {
    const [r1] = await logged(() => call('XADD', 's', '*', 'f', 'v'));
    expect(r1).toEqual(['XADD', 's', expect.stringMatching(/^\d{13}-0$/), 'f', 'v']);
    await call('DEL', 's');
    await call('CONFIG', 'SET', 'stream-node-max-entries', '3');
    for (let i = 1; i <= 10; i++) await call('XADD', 's', `${i}-0`, 'f', 'v');
    expect(await logged(() => call('XADD', 's', 'MAXLEN', '~', '4', '11-*', 'f', 'v'))).toEqual([['XADD', 's', 'MAXLEN', '=', '5', '11-0', 'f', 'v']]);
    expect(await logged(() => call('XADD', 's', 'MINID', '~', '9', 'LIMIT', '10', '12', 'f', 'v'))).toEqual([['XADD', 's', 'MINID', '=', '7-0', 'LIMIT', '10', '12', 'f', 'v']]);
    expect(await logged(() => call('XADD', 's', 'KEEPREF', 'MAXLEN', '100', '13-0', 'f', 'v'))).toEqual([['XADD', 's', 'MAXLEN', '100', '13-0', 'f', 'v']]);
    expect(await logged(() => call('XTRIM', 's', 'MAXLEN', '~', '2'))).toEqual([['XTRIM', 's', 'MAXLEN', '=', '4']]);
    expect(await logged(() => call('XTRIM', 's', 'MAXLEN', '100'))).toEqual([]);
    expect(await logged(() => call('XDEL', 's', '99-0'))).toEqual([]);
    expect(await logged(() => call('XDEL', 's', '13-0', '99-0'))).toEqual([['XDEL', 's', '13-0', '99-0']]);
    await call('CONFIG', 'SET', 'stream-node-max-entries', '100');
  });

  it('XREADGROUP logs the consumer it created, an XCLAIM per entry delivered and the group position; NOACK and history reads as Redis does', async () => {
    await call('XADD', 's', '1-0', 'f', 'a');
    await call('XADD', 's', '2-0', 'f', 'b');
    await call('XADD', 's', '3-0', 'f', 'c');
    await call('XGROUP', 'CREATE', 's', 'g', '0');
    const rs = await logged(() => call('XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '2', 'STREAMS', 's', '>'));
    expect(rs.map((r) => r.slice(0, 6))).toEqual([
      ['MULTI'],
      ['XGROUP', 'CREATECONSUMER', 's', 'g', 'alice'],
      ['XCLAIM', 's', 'g', 'alice', '0', '1-0'],
      ['XCLAIM', 's', 'g', 'alice', '0', '2-0'],
      ['XGROUP', 'SETID', 's', 'g', '2-0', 'ENTRIESREAD'],
      ['EXEC'],
    ]);
    const claim = rs.find((r) => r[0] === 'XCLAIM')!;
    expect(claim.slice(6)).toEqual(['TIME', expect.stringMatching(/^\d{13}$/), 'RETRYCOUNT', '1', 'FORCE', 'JUSTID', 'LASTID', '1-0']);
    expect(rs.find((r) => r[1] === 'SETID')).toEqual(['XGROUP', 'SETID', 's', 'g', '2-0', 'ENTRIESREAD', '2']);
    expect(await logged(() => call('XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '0'))).toEqual([]);
    expect(await logged(() => call('XREADGROUP', 'GROUP', 'g', 'bob', 'NOACK', 'STREAMS', 's', '>'))).toEqual([
      ['MULTI'],
      ['XGROUP', 'CREATECONSUMER', 's', 'g', 'bob'],
      ['XGROUP', 'SETID', 's', 'g', '3-0', 'ENTRIESREAD', '3'],
      ['EXEC'],
    ]);
    expect(await logged(() => call('XREADGROUP', 'GROUP', 'g', 'bob', 'STREAMS', 's', '>'))).toEqual([]);
  });

  it('XCLAIM/XAUTOCLAIM log each claim, and each pending entry dropped because its entry is gone', async () => {
    for (let i = 1; i <= 4; i++) await call('XADD', 's', `${i}-0`, 'f', 'v');
    await call('XGROUP', 'CREATE', 's', 'g', '0');
    await call('XREADGROUP', 'GROUP', 'g', 'alice', 'STREAMS', 's', '>');
    await call('XDEL', 's', '2-0');
    const rs = await logged(() => call('XCLAIM', 's', 'g', 'bob', '0', '1-0', '2-0', 'RETRYCOUNT', '9'));
    expect(rs.map((r) => r.slice(0, 6))).toEqual([['MULTI'], ['XGROUP', 'CREATECONSUMER', 's', 'g', 'bob'], ['XCLAIM', 's', 'g', 'bob', '0', '1-0'], ['XCLAIM', 's', 'g', 'alice', '0', '2-0'], ['EXEC']]);
    expect(rs[2]!.slice(8, 10)).toEqual(['RETRYCOUNT', '9']);
    expect(await logged(() => call('XCLAIM', 's', 'g', 'bob', '0', '99-0', 'LASTID', '50-0'))).toEqual([['XGROUP', 'SETID', 's', 'g', '50-0', 'ENTRIESREAD', '4']]);
    await call('XDEL', 's', '4-0');
    const auto = await logged(() => call('XAUTOCLAIM', 's', 'g', 'carol', '0', '0', 'JUSTID'));
    expect(auto.map((r) => r.slice(0, 6))).toEqual([
      ['MULTI'], ['XGROUP', 'CREATECONSUMER', 's', 'g', 'carol'], ['XCLAIM', 's', 'g', 'carol', '0', '1-0'], ['XCLAIM', 's', 'g', 'carol', '0', '3-0'], ['XCLAIM', 's', 'g', 'alice', '0', '4-0'], ['EXEC'],
    ]);
    expect(await logged(() => call('XACK', 's', 'g', '77-0'))).toEqual([]);
    expect(await logged(() => call('XACK', 's', 'g', '1-0', '77-0'))).toEqual([['XACK', 's', 'g', '1-0', '77-0']]);
  });

  it('a blocked XREADGROUP served by XADD logs its delivery after the XADD', async () => {
    await call('XGROUP', 'CREATE', 's', 'g', '$', 'MKSTREAM');
    const b = await RespClient.connect(v.port);
    try {
      const waiting = b.call('XREADGROUP', 'GROUP', 'g', 'alice', 'BLOCK', '0', 'STREAMS', 's', '>');
      for (let i = 0; i < 100 && !/blocked_clients:1/.test(String(await call('INFO', 'clients'))); i++) await new Promise((r) => setTimeout(r, 5));
      const rs = await logged(async () => {
        await call('XADD', 's', '5-0', 'f', 'v');
        await waiting;
      });
      expect(rs.map((r) => r.slice(0, 6))).toEqual([['XADD', 's', '5-0', 'f', 'v'], ['MULTI'], ['XCLAIM', 's', 'g', 'alice', '0', '5-0'], ['XGROUP', 'SETID', 's', 'g', '5-0', 'ENTRIESREAD'], ['EXEC']]);
    } finally {
      b.close();
    }
  });
});

describe('AOF rewrite of streams (rewriteStreamObject)', () => {
  async function waitRewrite(c: RespClient): Promise<void> {
    for (let i = 0; i < 500; i++) {
      const info = String(toJs(await c.call('INFO', 'persistence')));
      if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('AOF rewrite did not finish');
  }
  const full = async (c: RespClient, k: string, from: 'redis' | 'vireo') => {
    const args = ['XINFO', 'STREAM', k, 'FULL'];
    return JSON.stringify(maskTimes(normalize(await c.call(...args), from, args), args));
  };

  it('writes XADD, XSETID, XGROUP CREATE ... ENTRIESREAD, XCLAIM ... FORCE and CREATECONSUMER; Vireo and redis-server load it back', async () => {
    const v = await startVireo({ appendonly: 'yes', 'aof-use-rdb-preamble': 'no' });
    const c = await RespClient.connect(v.port);
    let wanted: Record<string, string> = {};
    let dir = '';
    try {
      await waitRewrite(c);
      const cmds = [
        ['XADD', 's', '1-0', 'f', 'a', 'n', '1'], ['XADD', 's', '2-0', 'f', 'b'], ['XADD', 's', '3-0', 'f', 'c'], ['XADD', 's', '4-0', 'f', 'd'],
        ['XGROUP', 'CREATE', 's', 'g1', '0'], ['XGROUP', 'CREATE', 's', 'g2', '$'],
        ['XREADGROUP', 'GROUP', 'g1', 'alice', 'COUNT', '2', 'STREAMS', 's', '>'],
        ['XREADGROUP', 'GROUP', 'g1', 'alice', 'STREAMS', 's', '0'],
        ['XREADGROUP', 'GROUP', 'g1', 'bob', 'COUNT', '1', 'STREAMS', 's', '>'],
        ['XGROUP', 'CREATECONSUMER', 's', 'g2', 'idle'],
        ['XDEL', 's', '2-0'],
        ['XGROUP', 'CREATE', 'empty', 'g', '$', 'MKSTREAM'],
        ['XADD', 'trimmed', '7-0', 'f', 'v'], ['XTRIM', 'trimmed', 'MAXLEN', '0'],
      ];
      for (const cmd of cmds) expect((await c.call(...cmd)).type).not.toBe('error');
      const before: Record<string, string> = {};
      for (const k of ['s', 'empty', 'trimmed']) before[k] = await full(c, k, 'vireo');
      expect(toJs(await c.call('BGREWRITEAOF'))).toMatch(/rewriting/);
      await waitRewrite(c);
      dir = path.join(v.dir, 'appendonlydir');
      // The base the manifest names (the old one is unlinked in the background, and may still be there).
      const manifest = fs.readFileSync(path.join(dir, 'appendonly.aof.manifest'), 'latin1');
      const base = /^file (\S+) seq \d+ type b$/m.exec(manifest)![1]!;
      const bytes = fs.readFileSync(path.join(dir, base));
      const records: string[][] = [];
      for (let pos = 0; pos < bytes.length; ) {
        const r = parseReply(bytes, pos)!;
        records.push(toJs(r[0]) as string[]);
        pos = r[1];
      }
      const forS = records.filter((r) => r[1] === 's' || r[2] === 's' || r[3] === 's');
      expect(forS.map((r) => r.slice(0, 3).join(' '))).toEqual([
        'XADD s 1-0', 'XADD s 3-0', 'XADD s 4-0', 'XSETID s 4-0',
        'XGROUP CREATE s', 'XCLAIM s g1', 'XCLAIM s g1', 'XCLAIM s g1', 'XGROUP CREATE s', 'XGROUP CREATECONSUMER s',
      ]);
      expect(forS[3]).toEqual(['XSETID', 's', '4-0', 'ENTRIESADDED', '4', 'MAXDELETEDID', '2-0']);
      expect(forS[4]).toEqual(['XGROUP', 'CREATE', 's', 'g1', '3-0', 'ENTRIESREAD', '3']);
      expect(forS[5]).toEqual(['XCLAIM', 's', 'g1', 'alice', '0', '1-0', 'TIME', expect.stringMatching(/^\d{13}$/), 'RETRYCOUNT', '2', 'JUSTID', 'FORCE']);
      expect(records.find((r) => r[1] === 'empty')).toEqual(['XADD', 'empty', 'MAXLEN', '0', '0-1', 'x', 'y']);
      expect(toJs(await c.call('DEBUG', 'LOADAOF'))).toBe('OK');
      for (const k of ['empty', 'trimmed']) expect(await full(c, k, 'vireo'), k).toBe(before[k]);
      // As in Redis, the pending entry whose stream entry was deleted (2-0) does not survive: its
      // XCLAIM ... FORCE finds no entry. Everything else does.
      expect(toJs(await c.call('XPENDING', 's', 'g1'))).toEqual(['2', '1-0', '3-0', [['alice', '1'], ['bob', '1']]]);
      for (const k of ['s', 'empty', 'trimmed']) wanted[k] = await full(c, k, 'vireo');
    } finally {
      c.close();
      await v.stop();
    }
    if (!HAVE_REDIS) return;
    // redis-server 7.0 reads the same appendonlydir.
    const copy = tempDir('redis-stream-aof-');
    fs.cpSync(dir, path.join(copy, 'appendonlydir'), { recursive: true });
    const r = await startRedis({ dir: copy, appendonly: 'yes' });
    const rc = await RespClient.connect(r.port);
    try {
      // The dangling pending entry (2-0 was deleted) is dropped by its XCLAIM on load, in both servers.
      for (const k of ['s', 'empty', 'trimmed']) {
        const got = await full(rc, k, 'redis');
        expect(got, k).toBe(wanted[k]);
      }
    } finally {
      rc.close();
      await r.kill();
    }
  });
});

describe('RDB stream types', () => {
  const limits = new EncodingLimits();
  const payload = (hex: string) => Buffer.from(hex, 'hex');

  it('type 15 (Redis 5/6): entries-added from the length, read counters estimated', () => {
    // Redis' stream-cgroups.tcl "Loading from legacy (Redis <= v6.2.x, rdb_ver < 10) persistence":
    // XADD 1..6, XDEL 3, groups g1 and g2 at 0, g1 read 4 entries, XTRIM MAXLEN = 2.
    const s = restorePayload(
      payload(
        '0f011000000000000000010000000000000000c3404a405716570000002300020104010101846461746105000103010020010381610204200a0001400a0062600a0002400a0063600a4022018164200a4039200a0065600a0005400a0066200a00ff02060002026731050004000000000000000100000000000000003ef783437a01000001000000000000000200000000000000003ef783437a01000001000000000000000400000000000000003ef783437a01000001000000000000000500000000000000003ef783437a0100000101036331313ef783437a01000004000000000000000100000000000000000000000000000002000000000000000000000000000000040000000000000000000000000000000500000000000000000267320000000009003d52ef6867521dfa',
      ),
      limits,
    ) as StreamValue;
    expect(s).toBeInstanceOf(StreamValue);
    expect(s.length).toBe(2);
    expect(s.entriesAdded).toBe(2);
    expect(s.maxDeletedId).toEqual({ ms: 0, seq: 0 });
    const g1 = s.group('g1')!;
    const g2 = s.group('g2')!;
    expect([g1.entriesRead, s.lag(g1)]).toEqual([1, 1]);
    expect([g2.entriesRead, s.lag(g2)]).toEqual([0, 2]);
    expect(g1.pel.size).toBe(4);
  });

  it('type 19 (Redis 7.0): active-time is the seen-time', () => {
    const s = restorePayload(
      payload('130110000000000000000100000000000000011d1d0000000a0001010001010181660200010201000100018176020401ff01010101010000010101670101010100000000000000010000000000000001f55a71c784010000010105416c696365f55a71c78401000001000000000000000100000000000000010b00a7a914a527ff9b9b'),
      limits,
    ) as StreamValue;
    const alice = s.group('g')!.consumers.get('Alice')!;
    expect(alice.activeTime).toBe(alice.seenTime);
    expect(alice.pel.size).toBe(1);
  });

  it('type 21 (Redis 7.2): active-time read from the file', () => {
    // A 7.2 payload: one node with entry 1-1 {f v}, group g with consumer Alice holding it.
    const lp = Buffer.from('1d0000000a0001010001010181660200010201000100018176020401ff', 'hex');
    const out = new RdbOutput();
    out.u8(21);
    out.len(1);
    out.bytes(idBytes({ ms: 1, seq: 1 }), false);
    out.bytes(lp, false);
    for (const n of [1, 1, 1, 1, 1, 0, 0, 1]) out.len(n); // length, last ID, first ID, max deleted ID, entries added
    out.len(1);
    out.string('g', false);
    for (const n of [1, 1, 1]) out.len(n); // last delivered ID, entries read
    out.len(1);
    out.raw(idBytes({ ms: 1, seq: 1 }));
    out.millis(1000);
    out.len(3);
    out.len(1);
    out.string('Alice', false);
    out.millis(2000);
    out.millis(1500);
    out.len(1);
    out.raw(idBytes({ ms: 1, seq: 1 }));
    const body = Buffer.concat([out.view(), Buffer.from([11, 0])]);
    const s = restorePayload(Buffer.concat([body, new Crc64().update(body).digestLE()]), limits) as StreamValue;
    const alice = s.group('g')!.consumers.get('Alice')!;
    expect([alice.seenTime, alice.activeTime]).toEqual([2000, 1500]);
    expect(s.group('g')!.pel.get(Buffer.from(idBytes({ ms: 1, seq: 1 })).latin1Slice())!.deliveryCount).toBe(3);
  });

  // Listpacks built element by element: a 7-bit or int16 integer, a short string (each with its back-length).
  const int7 = (v: number) => Buffer.from([v]);
  const int16 = (v: number) => Buffer.from([0xf1, v & 0xff, (v >> 8) & 0xff]);
  const str = (t: string) => Buffer.concat([Buffer.from([0x80 | t.length]), Buffer.from(t, 'latin1')]);
  function listpack(elements: Buffer[], count = elements.length): Buffer {
    const body = Buffer.concat(elements.flatMap((e) => [e, Buffer.from([e.length])]));
    const head = Buffer.alloc(6);
    head.writeUInt32LE(6 + body.length + 1, 0);
    head.writeUInt16LE(count, 4);
    return Buffer.concat([head, body, Buffer.from([0xff])]);
  }
  /** A DUMP payload (type 19) of one node at 1-1 holding entries 1-1 and 1-2. */
  function dumpOf(lp: Buffer): Buffer {
    const out = new RdbOutput();
    out.u8(19);
    out.len(1);
    out.bytes(idBytes({ ms: 1, seq: 1 }), false);
    out.bytes(lp, false);
    for (const n of [2, 1, 2, 1, 1, 0, 0, 2, 0]) out.len(n); // length, last ID, first ID, max deleted ID, entries added, groups
    const body = Buffer.concat([out.view(), Buffer.from([10, 0])]);
    return Buffer.concat([body, new Crc64().update(body).digestLE()]);
  }
  /** valid 2, deleted 0, master field f; entries {f: 123 as a string} and {f: v}, both SAMEFIELDS. */
  const node = (flags1: Buffer = int7(2), lpCount2: number = 4) =>
    [int7(2), int7(0), int7(1), str('f'), int7(0), flags1, int7(0), int7(0), str('123'), int7(4), int7(2), int7(0), int7(1), str('v'), int7(lpCount2)];
  const values = (s: StreamValue) => {
    const out: string[] = [];
    for (const it = s.iterate({ ms: 0, seq: 0 }, { ms: 2, seq: 0 }, false); it.next(); ) out.push(`${it.cursor.ms}-${it.cursor.seq}`, ...it.cursor.pairs());
    return out;
  };

  it("a node's listpack is taken as Redis wrote it (an integer-like value stored as a string stays one, as in Redis' DUMP)", () => {
    const lp = listpack(node());
    const s = restorePayload(dumpOf(lp), limits) as StreamValue;
    expect(values(s)).toEqual(['1-1', 'f', '123', '1-2', 'f', 'v']);
    expect([...s.allNodes()][0]!.toListpack().equals(lp)).toBe(true);
  });

  it('a listpack encoded otherwise (flags in an int16) is re-encoded, and its entries can be deleted in place', () => {
    const s = restorePayload(dumpOf(listpack(node(int16(2)))), limits) as StreamValue;
    expect(values(s)).toEqual(['1-1', 'f', '123', '1-2', 'f', 'v']);
    expect([...s.allNodes()][0]!.toListpack().equals(listpack(node()))).toBe(false);
    expect(s.delete({ ms: 1, seq: 1 })).toBe(true);
    expect(values(s)).toEqual(['1-2', 'f', 'v']);
  });

  it('damaged node listpacks are refused: lp-count, element count, back-length, truncation, unknown encoding', () => {
    const bad: Buffer[] = [
      listpack(node(int7(2), 5)),
      listpack(node(), 14),
      (() => {
        const lp = listpack(node());
        lp[lp.length - 2] = 9; // the last element's back-length
        return lp;
      })(),
      (() => {
        const lp = listpack([...node().slice(0, -2), Buffer.from([0x85, 0x76])]);
        return lp;
      })(),
      listpack([...node().slice(0, -1), Buffer.from([0xf7])]),
    ];
    for (const lp of bad) expect(() => restorePayload(dumpOf(lp), limits)).toThrow();
  });
});
