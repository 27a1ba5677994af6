// CLIENT PAUSE as Redis' own tests (tests/unit/pause.tcl) check it, against
// redis-server: held clients count in blocked_clients, expiry neither
// deletes nor revives keys while paused, and a pause started inside a
// transaction lets the rest of the transaction run.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import type { Reply } from './helpers/resp.js';
import { infoNumber } from './helpers/info.js';


const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!HAVE_REDIS)('CLIENT PAUSE (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });
  beforeEach(async () => {
    await pair.check('CLIENT', 'UNPAUSE');
    await pair.check('FLUSHALL');
  });

  /** blocked_clients of both servers, polled until they agree on `want` (or time runs out). */
  async function blockedClients(want: number): Promise<[number, number]> {
    let got: [number, number] = [-1, -1];
    for (let i = 0; i < 50; i++) {
      const [a, b] = await Promise.all([pair.redis.call('INFO', 'clients'), pair.vireo.call('INFO', 'clients')]);
      got = [infoNumber(a, 'blocked_clients'), infoNumber(b, 'blocked_clients')];
      if (got[0] === want && got[1] === want) break;
      await sleep(20);
    }
    return got;
  }

  it('counts a client held by the pause in blocked_clients, and releases it on UNPAUSE', async () => {
    await pair.check('CLIENT', 'PAUSE', '60000', 'WRITE');
    const held = await pair.connect();
    // Reads go through; the write is held.
    await held.check('GET', 'foo');
    held.redis.writeRaw('*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n');
    held.vireo.writeRaw('*3\r\n$3\r\nSET\r\n$3\r\nfoo\r\n$3\r\nbar\r\n');
    expect(await blockedClients(1)).toEqual([1, 1]);
    const [listA, listB] = await Promise.all([pair.redis.call('CLIENT', 'LIST'), pair.vireo.call('CLIENT', 'LIST')]);
    const heldFlags = (r: Reply) => (r.type === 'bulk' ? (r.value ?? '').split('\n').find((l) => l.includes('cmd=set'))?.match(/flags=(\S+)/)?.[1] : undefined);
    expect(heldFlags(listB)).toBe(heldFlags(listA));
    await pair.check('CLIENT', 'UNPAUSE');
    const [a, b] = await Promise.all([held.redis.read(), held.vireo.read()]);
    expect(b.reply).toEqual(a.reply);
    expect(await blockedClients(0)).toEqual([0, 0]);
    held.close();
  });

  it('skips active and lazy expiry while paused: keys read as gone but are not deleted', async () => {
    const expiredBefore = await Promise.all([pair.redis.call('INFO', 'stats'), pair.vireo.call('INFO', 'stats')]);
    await pair.script([['MULTI'], ['SET', 'foo{t}', 'bar', 'PX', '10'], ['SET', 'bar{t}', 'foo', 'PX', '10'], ['CLIENT', 'PAUSE', '50000', 'WRITE'], ['EXEC']]);
    await sleep(200);
    // Logically expired on both...
    await pair.check('GET', 'foo{t}');
    await pair.check('GET', 'bar{t}');
    await pair.check('EXISTS', 'foo{t}', 'bar{t}');
    // ...but nothing was deleted (or logged) while paused.
    const during = await Promise.all([pair.redis.call('INFO', 'stats'), pair.vireo.call('INFO', 'stats')]);
    for (const i of [0, 1]) expect(infoNumber(during[i]!, 'expired_keys')).toBe(infoNumber(expiredBefore[i]!, 'expired_keys'));
    await pair.check('CLIENT', 'UNPAUSE');
    await pair.check('GET', 'foo{t}');
    await pair.check('GET', 'bar{t}');
    const after = await Promise.all([pair.redis.call('INFO', 'stats'), pair.vireo.call('INFO', 'stats')]);
    for (const i of [0, 1]) expect(infoNumber(after[i]!, 'expired_keys')).toBe(infoNumber(expiredBefore[i]!, 'expired_keys') + 2);
  });

  it('starts a pause issued inside a transaction at its end', async () => {
    await pair.script([['MULTI'], ['SET', 'FOO1{t}', 'BAR'], ['CLIENT', 'PAUSE', '60000', 'WRITE'], ['SET', 'FOO2{t}', 'BAR'], ['EXEC']]);
    const other = await pair.connect();
    other.redis.writeRaw('*3\r\n$3\r\nSET\r\n$7\r\nFOO3{t}\r\n$3\r\nBAR\r\n');
    other.vireo.writeRaw('*3\r\n$3\r\nSET\r\n$7\r\nFOO3{t}\r\n$3\r\nBAR\r\n');
    expect(await blockedClients(1)).toEqual([1, 1]);
    await pair.check('GET', 'FOO1{t}');
    await pair.check('GET', 'FOO2{t}');
    await pair.check('GET', 'FOO3{t}');
    await pair.check('CLIENT', 'UNPAUSE');
    const [a, b] = await Promise.all([other.redis.read(), other.vireo.read()]);
    expect(b.reply).toEqual(a.reply);
    await pair.check('GET', 'FOO3{t}');
    other.close();
  });

  it('serves read-only transactions and holds writing ones', async () => {
    await pair.check('SET', 'FOO', 'BAR');
    await pair.check('CLIENT', 'PAUSE', '60000', 'WRITE');
    const other = await pair.connect();
    await other.script([['MULTI'], ['GET', 'FOO'], ['PING'], ['EXEC']]);
    // A transaction that queued a write before the pause: its EXEC waits.
    await pair.check('CLIENT', 'UNPAUSE');
    await other.script([['MULTI'], ['SET', 'FOO', 'BAZ']]);
    await pair.check('CLIENT', 'PAUSE', '60000', 'WRITE');
    other.redis.writeRaw('*1\r\n$4\r\nEXEC\r\n');
    other.vireo.writeRaw('*1\r\n$4\r\nEXEC\r\n');
    expect(await blockedClients(1)).toEqual([1, 1]);
    await pair.check('GET', 'FOO');
    await pair.check('CLIENT', 'UNPAUSE');
    const [a, b] = await Promise.all([other.redis.read(), other.vireo.read()]);
    expect(b.reply).toEqual(a.reply);
    await pair.check('GET', 'FOO');
    // A write is held even when it would only be queued inside MULTI.
    await other.check('MULTI');
    await pair.check('CLIENT', 'PAUSE', '60000', 'WRITE');
    other.redis.writeRaw('*3\r\n$3\r\nSET\r\n$3\r\nFOO\r\n$3\r\nQUX\r\n');
    other.vireo.writeRaw('*3\r\n$3\r\nSET\r\n$3\r\nFOO\r\n$3\r\nQUX\r\n');
    expect(await blockedClients(1)).toEqual([1, 1]);
    await pair.check('CLIENT', 'UNPAUSE');
    const [qa, qb] = await Promise.all([other.redis.read(), other.vireo.read()]);
    expect(qb.reply).toEqual(qa.reply);
    await other.check('EXEC');
    other.close();
  });
});
