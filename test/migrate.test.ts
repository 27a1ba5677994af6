// MIGRATE against redis-server: keys of every type and encoding move from
// Vireo to redis-server and from redis-server to Vireo with equal values and
// TTLs, and leave their source; each option and failure gets Redis' reply
// (the same MIGRATE run from a redis-server and from Vireo against one
// target, the target reset between them); the deletion is logged (a restart
// does not bring a moved key back); a target that never answers costs an
// IOERR after the timeout, and a cached connection the target closed is
// replaced by a new one.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS, freePort, startRedis, startVireo, tempDir, type ProcessHandle } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';
import { call, contents, everyEncodingCommands, pipelineOk, type KeyDump } from './helpers/dataset.js';
import { infoNumber } from './helpers/info.js';
import { DumpPayloads, dumpPayload } from '../persistence/rdb/file.js';
import { randomBytes } from 'node:crypto';

const HOST = '127.0.0.1';
/** The databases everyEncodingCommands writes to. */
const DBS = [0, 1, 7, 15];

/** Same keys, types and values; TTLs sent relative, so the absolute expiry may move by the time the transfer took. */
function expectSameContents(actual: Record<string, KeyDump>, expected: Record<string, KeyDump>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [key, want] of Object.entries(expected)) {
    const got = actual[key]!;
    expect({ key, type: got.type, value: got.value }).toEqual({ key, type: want.type, value: want.value });
    if (want.expireAt === -1) expect(got.expireAt).toBe(-1);
    else expect(Math.abs(got.expireAt - want.expireAt)).toBeLessThan(10_000);
  }
}

/** MIGRATE every key of the source's databases to the target's databases of the same numbers. */
async function migrateAll(source: RespClient, targetPort: number): Promise<void> {
  for (const db of DBS) {
    await call(source, 'SELECT', String(db));
    const keys = (await call(source, 'KEYS', '*')) as string[];
    if (keys.length === 0) continue;
    expect(await call(source, 'MIGRATE', HOST, String(targetPort), '', String(db), '5000', 'KEYS', ...keys)).toBe('OK');
    expect(Number(await call(source, 'DBSIZE'))).toBe(0);
  }
  await call(source, 'SELECT', '0');
}

describe.skipIf(!HAVE_REDIS)('MIGRATE (differential)', () => {
  let pair: DiffPair;
  let target: ProcessHandle;
  let t: RespClient;
  beforeAll(async () => {
    [pair, target] = await Promise.all([DiffPair.start(), startRedis()]);
    t = await RespClient.connect(target.port);
  });
  afterAll(async () => {
    t?.close();
    await target?.kill();
    await pair?.stop();
  });

  it('moves every type and encoding, with TTLs and across databases, from Vireo to redis-server and from redis-server to Vireo', async () => {
    await Promise.all([call(pair.redis, 'FLUSHALL'), call(pair.vireo, 'FLUSHALL'), call(t, 'FLUSHALL')]);
    await Promise.all([pipelineOk(pair.redis, everyEncodingCommands()), pipelineOk(pair.vireo, everyEncodingCommands())]);
    const expected = await contents(pair.redis);
    expect(Object.keys(expected).length).toBeGreaterThan(30);

    await migrateAll(pair.vireo, target.port);
    expectSameContents(await contents(t), expected);
    expect(await contents(pair.vireo)).toEqual({});

    await migrateAll(pair.redis, pair.ports[1]);
    expectSameContents(await contents(pair.vireo), expected);
  });

  /** Each case: keys on the source and on the target, then MIGRATE's arguments after host and port. */
  const cases: { name: string; source: string[][]; target?: string[][]; args: (closedPort: string) => string[] }[] = [
    { name: 'one key', source: [['SET', 'a', '1']], args: () => ['a', '0', '1000'] },
    { name: 'a missing key: NOKEY', source: [], args: () => ['a', '0', '1000'] },
    { name: 'KEYS, some missing', source: [['SET', 'a', '1'], ['RPUSH', 'l', 'x', 'y']], args: () => ['', '0', '1000', 'KEYS', 'a', 'nope', 'l'] },
    { name: 'a key the target has: BUSYKEY', source: [['SET', 'a', '1']], target: [['SET', 'a', 'old']], args: () => ['a', '0', '1000'] },
    { name: 'REPLACE', source: [['SET', 'a', '1']], target: [['SET', 'a', 'old']], args: () => ['a', '0', '1000', 'REPLACE'] },
    { name: 'COPY keeps the source key', source: [['SET', 'a', '1']], args: () => ['a', '0', '1000', 'COPY'] },
    { name: 'COPY REPLACE with KEYS, one key busy', source: [['SET', 'a', '1'], ['SET', 'b', '2']], target: [['SET', 'b', 'old']], args: () => ['', '0', '1000', 'COPY', 'KEYS', 'a', 'b'] },
    { name: 'another database', source: [['SET', 'a', '1']], args: () => ['a', '5', '1000'] },
    { name: 'a database out of range', source: [['SET', 'a', '1']], args: () => ['a', '99', '1000'] },
    { name: 'a zero timeout (1 s)', source: [['SET', 'a', '1']], args: () => ['a', '0', '0'] },
    { name: 'AUTH to a target without a password', source: [['SET', 'a', '1']], args: () => ['a', '0', '1000', 'AUTH', 'pw'] },
    { name: 'AUTH2 to a target without the user', source: [['SET', 'a', '1']], args: () => ['a', '0', '1000', 'AUTH2', 'nobody', 'pw'] },
    { name: 'an unknown option', source: [['SET', 'a', '1']], args: () => ['a', '0', '1000', 'FOO'] },
    { name: 'AUTH without its argument', source: [['SET', 'a', '1']], args: () => ['a', '0', '1000', 'AUTH'] },
    { name: 'AUTH2 with one argument', source: [['SET', 'a', '1']], args: () => ['a', '0', '1000', 'AUTH2', 'u'] },
    { name: 'KEYS with a key argument', source: [['SET', 'a', '1']], args: () => ['a', '0', '1000', 'KEYS', 'a'] },
    { name: 'a timeout that is not a number', source: [['SET', 'a', '1']], args: () => ['a', '0', 'soon'] },
    { name: 'a database that is not a number', source: [['SET', 'a', '1']], args: () => ['a', 'x', '1000'] },
    { name: 'a target nobody listens on', source: [['SET', 'a', '1']], args: (closed) => ['a', '0', '300', '@' + closed] },
  ];

  it.each(cases)('$name: the reply and the data afterwards are redis-server\'s', async ({ source, target: onTarget, args }) => {
    const closed = String(await freePort());
    const run = async (src: RespClient) => {
      await Promise.all([call(src, 'FLUSHALL'), call(t, 'FLUSHALL')]);
      if (source.length > 0) await pipelineOk(src, source);
      if (onTarget !== undefined) await pipelineOk(t, onTarget);
      const rest = args(closed);
      // '@port' as the last argument: that port instead of the target's.
      const port = rest.at(-1)!.startsWith('@') ? rest.pop()!.slice(1) : String(target.port);
      const reply = toJs(await src.call('MIGRATE', HOST, port, ...rest));
      return { reply, source: await contents(src), target: await contents(t) };
    };
    const fromRedis = await run(pair.redis);
    const fromVireo = await run(pair.vireo);
    expect(fromVireo.reply).toEqual(fromRedis.reply);
    expect(fromVireo.source).toEqual(fromRedis.source);
    expect(Object.keys(fromVireo.target)).toEqual(Object.keys(fromRedis.target));
  });

  it('a user without access to a key cannot move it, named directly or after KEYS', async () => {
    for (const src of [pair.redis, pair.vireo]) {
      await call(src, 'FLUSHALL');
      await pipelineOk(src, [['SET', 'a1', '1'], ['SET', 'b', '2'], ['ACL', 'SETUSER', 'mover', 'on', 'nopass', '~a*', '+@all']]);
      const c = await RespClient.connect(src === pair.redis ? pair.ports[0] : pair.ports[1]);
      try {
        expect(await call(c, 'AUTH', 'mover', 'x')).toBe('OK');
        for (const args of [['b', '0', '1000'], ['', '0', '1000', 'KEYS', 'a1', 'b']]) {
          const reply = await c.call('MIGRATE', HOST, String(target.port), ...args);
          expect(reply).toMatchObject({ type: 'error' });
          expect(String((reply as { value: string }).value)).toMatch(/^NOPERM /);
        }
        expect(await call(src, 'MGET', 'a1', 'b')).toEqual(['1', '2']);
      } finally {
        c.close();
        await call(src, 'ACL', 'DELUSER', 'mover');
      }
    }
  });

  it('keeps one connection per target, and replaces it when the target closed it', async () => {
    await Promise.all([call(pair.vireo, 'FLUSHALL'), call(t, 'FLUSHALL')]);
    await pipelineOk(pair.vireo, [['SET', 'a', '1'], ['SET', 'b', '2'], ['SET', 'c', '3']]);
    const connections = async () => infoNumber(await t.call('INFO', 'stats'), 'total_connections_received');
    const before = await connections();
    for (const key of ['a', 'b']) expect(await call(pair.vireo, 'MIGRATE', HOST, String(target.port), key, '0', '1000')).toBe('OK');
    expect((await connections()) - before).toBeLessThanOrEqual(1);
    expect(infoNumber(await pair.vireo.call('INFO', 'stats'), 'migrate_cached_sockets')).toBe(1);
    // The target drops every other client: the cached connection is dead, the next MIGRATE opens another.
    expect(Number(await call(t, 'CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes'))).toBeGreaterThanOrEqual(1);
    expect(await call(pair.vireo, 'MIGRATE', HOST, String(target.port), 'c', '0', '1000')).toBe('OK');
    expect(await call(t, 'MGET', 'a', 'b', 'c')).toEqual(['1', '2', '3']);
  });

  it('a target that never answers: IOERR after the timeout, the key stays, the server goes on', async () => {
    const silent = net.createServer(() => {});
    await new Promise<void>((r) => silent.listen(0, HOST, r));
    try {
      await call(pair.vireo, 'SET', 'stay', 'here');
      const port = String((silent.address() as net.AddressInfo).port);
      expect(await pair.vireo.call('MIGRATE', HOST, port, 'stay', '0', '200')).toEqual({ type: 'error', value: 'IOERR error or timeout reading to target instance' });
      expect(await call(pair.vireo, 'GET', 'stay')).toBe('here');
      expect(await call(pair.vireo, 'PING')).toBe('PONG');
    } finally {
      silent.close();
    }
  });
});

describe.skipIf(!HAVE_REDIS)('MIGRATE and the log', () => {
  it('the keys it moved stay deleted after a restart; a COPY leaves them', async () => {
    const dir = tempDir();
    const target = await startRedis();
    let vireo = await startVireo({ dir, appendonly: 'yes', appendfsync: 'always' });
    try {
      const c = await RespClient.connect(vireo.port);
      await pipelineOk(c, [['SET', 'moved', '1'], ['RPUSH', 'copied', 'a', 'b'], ['SET', 'kept', '3']]);
      expect(await call(c, 'MIGRATE', HOST, String(target.port), 'moved', '0', '1000')).toBe('OK');
      expect(await call(c, 'MIGRATE', HOST, String(target.port), 'copied', '0', '1000', 'COPY')).toBe('OK');
      c.close();
      await vireo.stop();
      vireo = await startVireo({ dir, appendonly: 'yes' });
      const again = await RespClient.connect(vireo.port);
      expect(await call(again, 'KEYS', '*').then((k) => (k as string[]).sort())).toEqual(['copied', 'kept']);
      again.close();
    } finally {
      // The reference first: Vireo's stop throws when the test mode's effect check failed.
      await target.kill();
      await vireo.stop();
    }
  });
});

describe('the payloads MIGRATE sends', () => {
  it('are DUMP\'s bytes for every type and encoding, long strings (spilled, compressed or not) included, one after another through one buffer', async () => {
    const vireo = await startVireo({ save: '' });
    const c = await RespClient.connect(vireo.port);
    try {
      await pipelineOk(c, [...everyEncodingCommands(), ['SELECT', '0']]);
      await pipelineOk(c, [['SET', 'long:x', 'x'.repeat(3 << 20)], ['SET', 'long:random', randomBytes(2 << 20).toString('latin1')]]);
      // A payload past the buffer DumpPayloads keeps (64 KB): the ones after it go through a new buffer.
      await pipelineOk(c, [['HSET', 'big:hash', ...Array.from({ length: 20000 }, (_, i) => [`field:${i}`, `value:${i}`]).flat()]]);
      const db = vireo.server.engine.dbs[0]!;
      const keys = ((await call(c, 'KEYS', '*')) as string[]).sort();
      expect(keys.length).toBeGreaterThan(20);
      const payloads = new DumpPayloads();
      for (const compress of [true, false]) {
        for (const key of keys) {
          const value = db.get(key)!;
          let announced = -1;
          const pieces: Buffer[] = [];
          payloads.write(value, compress, (n) => (announced = n), (piece) => pieces.push(Buffer.from(piece)));
          const bytes = Buffer.concat(pieces);
          expect(bytes.length).toBe(announced);
          expect(bytes.equals(dumpPayload(value, compress)), key).toBe(true);
        }
      }
    } finally {
      c.close();
      await vireo.stop();
    }
  });
});
