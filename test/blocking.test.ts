/**
 * Blocking list and sorted-set commands (BLPOP BRPOP BLMOVE BRPOPLPUSH
 * BLMPOP BZPOPMIN BZPOPMAX BZMPOP) and CLIENT UNBLOCK, differential against
 * redis-server 7.0: the same steps run on two to four connections to each
 * server and every reply, the blocked clients' included, must be equal.
 *
 * A step that leaves a client blocked is followed by a wait until both
 * servers report it in INFO blocked_clients, so the order in which clients
 * blocked is the same on both. Where Redis 7.2 (Vireo's target) serves a
 * blocked client differently from 7.0 because it runs the blocked command
 * again once the key is ready (blocked.c handleClientsBlockedOnKey), the
 * test states both answers (see KNOWN_DIFFERENCES).
 *
 * The second part checks the command log: served blocking commands are
 * logged as their non-blocking forms, a restart on the AOF gives back the
 * same data, and redis-server 7.0 loading Vireo's AOF has the same DEBUG
 * DIGEST.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { DiffPair, normalize, KNOWN_DIFFERENCES } from './helpers/differential.js';
import { encodeCommand, parseReply, RespClient, toJs, type Reply } from './helpers/resp.js';
import { HAVE_REDIS, startRedis, startVireo, tempDir } from './helpers/servers.js';
import { infoNumber, waitFor } from './helpers/info.js';
import { useCleanups } from './helpers/cleanups.js';

const { defer, track } = useCleanups();

/** A reply on its way to a connection of each server. */
interface Pending {
  /** Both replies, compared; resolves to Vireo's. */
  done: Promise<Reply>;
  /** Both raw replies, uncompared (for the cases where 7.0 and 7.2 differ). */
  raw: Promise<[Reply, Reply]>;
  settled(): boolean;
}

function sameReply(args: string[], a: Reply, b: Reply): void {
  const sa = JSON.stringify(normalize(a, 'redis', args));
  const sb = JSON.stringify(normalize(b, 'vireo', args));
  if (sa !== sb) throw new Error(`reply mismatch for ${JSON.stringify(args)}\n  redis: ${sa}\n  vireo: ${sb}`);
}

/** Send a command on both connections of `p` without waiting for the replies. */
function send(p: DiffPair, ...args: string[]): Pending {
  const bytes = encodeCommand(args);
  p.redis.writeRaw(bytes);
  p.vireo.writeRaw(bytes);
  let settled = false;
  const raw = Promise.all([p.redis.read(), p.vireo.read()]).then(([a, b]): [Reply, Reply] => {
    settled = true;
    return [a.reply, b.reply];
  });
  const done = raw.then(([a, b]) => {
    sameReply(args, a, b);
    return b;
  });
  // A test that fails before awaiting these must not leave an unhandled rejection behind.
  raw.catch(() => {});
  done.catch(() => {});
  return { done, raw, settled: () => settled };
}

describe.skipIf(!HAVE_REDIS)('blocking commands (differential)', () => {
  let servers: DiffPair;
  /** The control connections of the running test (a fresh pair each test: one left blocked cannot hang the next). */
  let pair: DiffPair;

  beforeAll(async () => {
    servers = await DiffPair.start();
  });
  afterAll(async () => {
    await servers?.stop();
  });
  beforeEach(async () => {
    pair = await servers.connect();
    defer(() => pair.close());
    await pair.check('CLIENT', 'UNPAUSE');
    await pair.check('FLUSHALL');
    await pair.check('SELECT', '0');
  });

  /** Another connection to each server, closed after the test. */
  async function conn(resp3 = false): Promise<DiffPair> {
    const p = await pair.connect();
    defer(() => p.close());
    if (resp3) await p.check('HELLO', '3');
    return p;
  }

  /** INFO clients of both servers. */
  async function clientsInfo(): Promise<[Reply, Reply]> {
    return Promise.all([pair.redis.call('INFO', 'clients'), pair.vireo.call('INFO', 'clients')]);
  }

  /** Wait until both servers count `n` blocked clients. */
  async function blocked(n: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const [a, b] = await clientsInfo();
      const seen = [infoNumber(a, 'blocked_clients'), infoNumber(b, 'blocked_clients')];
      if (seen[0] === n && seen[1] === n) return;
      if (Date.now() > deadline) throw new Error(`waiting for ${n} blocked clients: redis ${seen[0]}, vireo ${seen[1]}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** Vireo's INFO total_blocking_keys (7.0 has no such field). */
  async function blockingKeys(): Promise<number> {
    return infoNumber(await pair.vireo.call('INFO', 'clients'), 'total_blocking_keys');
  }

  /** Both servers count exactly `n` blocked clients now (after a command that did not serve them). */
  async function stillBlocked(n: number): Promise<void> {
    const [a, b] = await clientsInfo();
    expect([infoNumber(a, 'blocked_clients'), infoNumber(b, 'blocked_clients')]).toEqual([n, n]);
  }

  /** Send a blocking command on `p` and wait until both servers hold it (`n`: blocked clients then). */
  async function block(p: DiffPair, n: number, ...args: string[]): Promise<Pending> {
    const pending = send(p, ...args);
    await blocked(n);
    expect(pending.settled()).toBe(false);
    return pending;
  }

  /** The CLIENT ID of `p`'s connection on each server. */
  async function ids(p: DiffPair): Promise<{ redis: string; vireo: string }> {
    const [a, b] = await Promise.all([p.redis.call('CLIENT', 'ID'), p.vireo.call('CLIENT', 'ID')]);
    return { redis: String(toJs(a)), vireo: String(toJs(b)) };
  }

  /** CLIENT UNBLOCK <id of `target` on each server> [reason], from the control connection. */
  async function unblock(target: { redis: string; vireo: string }, ...reason: string[]): Promise<Reply> {
    const [a, b] = await Promise.all([pair.redis.call('CLIENT', 'UNBLOCK', target.redis, ...reason), pair.vireo.call('CLIENT', 'UNBLOCK', target.vireo, ...reason)]);
    sameReply(['CLIENT', 'UNBLOCK'], a, b);
    return b;
  }

  /** The whole dataset of the selected db must match (list, zset and set keys named). */
  async function sameKeys(...keys: string[]): Promise<void> {
    for (const k of keys) {
      const type = toJs(await pair.check('TYPE', k));
      if (type === 'list') await pair.check('LRANGE', k, '0', '-1');
      else if (type === 'zset') await pair.check('ZRANGE', k, '0', '-1', 'WITHSCORES');
      else if (type === 'set') await pair.check('SMEMBERS', k);
      else if (type === 'string') await pair.check('GET', k);
    }
    await pair.check('DBSIZE');
  }

  describe('with data at hand they answer at once', () => {
    it('pops from the first non-empty key, in RESP2 and RESP3', async () => {
      for (const resp3 of [false, true]) {
        const c = await conn(resp3);
        await c.script([
          ['FLUSHALL'],
          ['RPUSH', 'l', 'a', 'b', 'c', 'd', 'e', 'f'],
          ['ZADD', 'z', '1', 'one', '2', 'two', '3', 'three', '4', 'four', '5', 'five'],
          ['BLPOP', 'empty', 'l', '0'],
          ['BRPOP', 'empty', 'l', '1'],
          ['BLMOVE', 'l', 'dst', 'LEFT', 'RIGHT', '0'],
          ['BLMOVE', 'l', 'dst', 'RIGHT', 'LEFT', '0.5'],
          ['BRPOPLPUSH', 'dst', 'l', '0'],
          ['BLMPOP', '0', '2', 'empty', 'l', 'LEFT'],
          ['BLMPOP', '0', '2', 'empty', 'l', 'RIGHT', 'COUNT', '10'],
          ['BZPOPMIN', 'empty', 'z', '0'],
          ['BZPOPMAX', 'z', '0.01'],
          ['BZMPOP', '0', '2', 'empty', 'z', 'MIN'],
          ['BZMPOP', '0', '1', 'z', 'MAX', 'COUNT', '10'],
          ['EXISTS', 'l', 'z'],
          ['LRANGE', 'dst', '0', '-1'],
        ]);
      }
    });

    it('answers WRONGTYPE for a key of another type before an empty one blocks', async () => {
      const c = await conn();
      await c.script([
        ['SET', 's', 'x'],
        ['RPUSH', 'l', 'a'],
        ['ZADD', 'z', '1', 'a'],
        ['BLPOP', 's', '0'],
        ['BLPOP', 'empty', 's', '0'],
        ['BRPOP', 'z', 'l', '0'],
        ['BLMOVE', 's', 'l', 'LEFT', 'LEFT', '0'],
        ['BLMOVE', 'l', 's', 'LEFT', 'LEFT', '0'],
        ['BRPOPLPUSH', 'l', 'z', '0'],
        ['BLMPOP', '0', '2', 'empty', 'z', 'LEFT'],
        ['BZPOPMIN', 's', '0'],
        ['BZPOPMAX', 'l', 'z', '0'],
        ['BZMPOP', '0', '2', 'empty', 'l', 'MIN'],
        // Nothing moved.
        ['LRANGE', 'l', '0', '-1'],
        ['ZCARD', 'z'],
      ]);
    });
  });

  describe('argument errors', () => {
    it('refuses bad timeouts with Redis\' errors', async () => {
      for (const t of ['-1', '-0.002', '-1e400', 'abc', '', 'nan', '-inf', '-infinity', ' 1', '1x', '0x10x', '0x', '1e', '1e5000', '-0x1']) {
        await pair.check('BLPOP', 'k', t);
        await pair.check('BRPOP', 'k', 'k2', t);
        await pair.check('BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', t);
        await pair.check('BRPOPLPUSH', 'a', 'b', t);
        await pair.check('BLMPOP', t, '1', 'k', 'LEFT');
        await pair.check('BZPOPMIN', 'z', t);
        await pair.check('BZPOPMAX', 'z', t);
        await pair.check('BZMPOP', t, '1', 'z', 'MIN');
      }
    });

    it('refuses timeouts whose deadline does not fit in 64 bits (7.2: timeout is out of range)', async () => {
      // 7.0 computed the deadline with a wrap-around (its reply is normalized, see KNOWN_DIFFERENCES).
      for (const t of ['inf', '+inf', 'Infinity', '1e30', '1e308', '1e400', '9223372036854775807', '92233720368547758.07']) {
        await pair.check('BLPOP', 'k', t);
        await pair.check('BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', t);
        await pair.check('BRPOPLPUSH', 'a', 'b', t);
        await pair.check('BZPOPMAX', 'z', t);
        await pair.check('BLMPOP', t, '1', 'k', 'LEFT');
        await pair.check('BZMPOP', t, '1', 'z', 'MIN');
      }
      // Just below 2^63 ms but past it once now is added: 7.0 wraps and blocks forever here, 7.2 refuses.
      const v = await RespClient.connect(servers.vireoServer.port);
      defer(() => v.close());
      for (const t of ['9223372036854775', '9223372036854775.807']) {
        expect(toJs(await v.call('BLPOP', 'k', t))).toEqual(new Error('ERR timeout is out of range'));
        expect(toJs(await v.call('BZMPOP', t, '1', 'z', 'MIN'))).toEqual(new Error('ERR timeout is out of range'));
      }
    });

    it('BLMPOP and BZMPOP read the timeout after numkeys, the keys, the direction and COUNT', async () => {
      await pair.script([
        ['BLMPOP', 'bad', '0', 'k', 'LEFT'],
        ['BLMPOP', 'bad', '-1', 'k', 'LEFT'],
        ['BLMPOP', 'bad', 'x', 'k', 'LEFT'],
        ['BLMPOP', 'bad', '2', 'k', 'LEFT'],
        ['BLMPOP', 'bad', '1', 'k', 'MIDDLE'],
        ['BLMPOP', 'bad', '1', 'k', 'LEFT', 'COUNT', '0'],
        ['BLMPOP', 'bad', '1', 'k', 'LEFT', 'COUNT', '-3'],
        ['BLMPOP', 'bad', '1', 'k', 'LEFT', 'COUNT', 'x'],
        ['BLMPOP', 'bad', '1', 'k', 'LEFT', 'COUNT'],
        ['BLMPOP', 'bad', '1', 'k', 'LEFT', 'COUNT', '1', 'COUNT', '2'],
        ['BLMPOP', 'bad', '1', 'k', 'LEFT', 'extra'],
        ['BLMPOP', 'bad', '1', 'k', 'LEFT'],
        ['BLMPOP', '-1', '1', 'k', 'LEFT'],
        ['BZMPOP', 'bad', '0', 'z', 'MIN'],
        ['BZMPOP', 'bad', '99', 'z', 'MIN'],
        ['BZMPOP', 'bad', '1', 'z', 'LEFT'],
        ['BZMPOP', 'bad', '1', 'z', 'MAX', 'COUNT', '0'],
        ['BZMPOP', 'bad', '1', 'z', 'MAX', 'LIMIT', '1'],
        ['BZMPOP', 'bad', '1', 'z', 'MAX'],
        ['BZMPOP', '-1', '1', 'z', 'MAX'],
        // BLMOVE reads both directions before the timeout; the others read the timeout first.
        ['BLMOVE', 'a', 'b', 'UP', 'LEFT', 'bad'],
        ['BLMOVE', 'a', 'b', 'LEFT', 'DOWN', 'bad'],
        ['BLMOVE', 'a', 'b', 'LEFT', 'LEFT', 'bad'],
        ['SET', 's', 'x'],
        ['BLPOP', 's', 'bad'],
        ['BZPOPMIN', 's', 'bad'],
        ['BRPOPLPUSH', 's', 'b', 'bad'],
        ['BLMOVE', 's', 'b', 'LEFT', 'LEFT', 'bad'],
        ['BLMPOP', 'bad', '1', 's', 'LEFT'],
        // Arity.
        ['BLPOP', 'k'],
        ['BZPOPMIN', 'k'],
        ['BLMOVE', 'a', 'b', 'LEFT', 'LEFT'],
        ['BRPOPLPUSH', 'a', 'b'],
        ['BLMPOP', '0', '1', 'k'],
        ['BZMPOP', '0', '1'],
      ]);
    });

    it('inside MULTI the errors come with EXEC', async () => {
      await pair.script([
        ['MULTI'],
        ['BLPOP', 'k', '-1'],
        ['BLMPOP', 'x', '1', 'k', 'LEFT'],
        ['BZMPOP', '0', '0', 'z', 'MIN'],
        ['BLMOVE', 'a', 'b', 'LEFT', 'LEFT', 'x'],
        ['EXEC'],
      ]);
    });
  });

  describe('inside MULTI/EXEC they never block', () => {
    it('answer as their non-blocking forms: nil shapes in RESP2 and RESP3', async () => {
      for (const resp3 of [false, true]) {
        const c = await conn(resp3);
        await c.script([
          ['FLUSHALL'],
          ['MULTI'],
          ['BLPOP', 'k', '0'],
          ['BRPOP', 'k', 'k2', '0'],
          ['BRPOPLPUSH', 'a', 'b', '0'],
          ['BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', '0'],
          ['BLMPOP', '0', '1', 'k', 'LEFT'],
          ['BZPOPMIN', 'z', '0'],
          ['BZPOPMAX', 'z', '1'],
          ['BZMPOP', '0', '1', 'z', 'MIN'],
          ['EXEC'],
          // With data they pop, and see the transaction's own writes.
          ['MULTI'],
          ['RPUSH', 'k', 'a', 'b', 'c'],
          ['ZADD', 'z', '1', 'm1', '2', 'm2', '3', 'm3'],
          ['BLPOP', 'k', '0'],
          ['BLMOVE', 'k', 'd', 'RIGHT', 'LEFT', '0'],
          ['BZPOPMAX', 'z', '0'],
          ['BZMPOP', '0', '1', 'z', 'MIN', 'COUNT', '5'],
          ['BLMPOP', '0', '2', 'k', 'd', 'RIGHT', 'COUNT', '5'],
          ['BLPOP', 'k', 'd', '0'],
          ['EXEC'],
        ]);
        await c.check('DBSIZE');
      }
    });
  });

  describe('a blocked client is served when its key is filled', () => {
    /** Block one client with `blocking`, run `fill` on the control connection, compare everything. */
    async function servedBy(blocking: string[], setup: string[][], fill: string[][], keys: string[], resp3 = false): Promise<void> {
      await pair.script([['FLUSHALL'], ['SELECT', '0'], ...setup]);
      const c = await conn(resp3);
      const pending = await block(c, 1, ...blocking);
      await pair.script(fill);
      await pending.done;
      await blocked(0);
      await pair.check('SELECT', '0');
      await sameKeys(...keys);
    }

    it('by LPUSH, RPUSH, LMOVE, RPOPLPUSH and a transaction', async () => {
      await servedBy(['BLPOP', 'q', '0'], [], [['LPUSH', 'q', 'a', 'b']], ['q']);
      await servedBy(['BRPOP', 'q', '0'], [], [['RPUSH', 'q', 'a', 'b', 'c']], ['q']);
      await servedBy(['BLPOP', 'q', '0'], [['RPUSH', 'src', 'x', 'y']], [['LMOVE', 'src', 'q', 'RIGHT', 'LEFT']], ['q', 'src']);
      await servedBy(['BLMPOP', '0', '1', 'q', 'RIGHT', 'COUNT', '2'], [['RPUSH', 'src', 'x', 'y']], [['RPOPLPUSH', 'src', 'q']], ['q', 'src']);
      await servedBy(['BLMOVE', 'q', 'out', 'LEFT', 'LEFT', '0'], [], [['RPUSH', 'q', '1', '2', '3']], ['q', 'out']);
      await servedBy(['BRPOPLPUSH', 'q', 'out', '0'], [['RPUSH', 'out', 'old']], [['RPUSH', 'q', '1', '2']], ['q', 'out']);
      await servedBy(['BLMPOP', '0', '1', 'q', 'LEFT', 'COUNT', '10'], [], [['RPUSH', 'q', '1', '2', '3']], ['q']);
    });

    it('by ZADD, ZINCRBY, ZADD INCR and the STORE commands', async () => {
      await servedBy(['BZPOPMIN', 'z', '0'], [], [['ZADD', 'z', '2', 'b', '1', 'a']], ['z']);
      await servedBy(['BZPOPMAX', 'z', '0'], [], [['ZINCRBY', 'z', '5', 'm']], ['z']);
      await servedBy(['BZPOPMIN', 'z', '0'], [], [['ZADD', 'z', 'INCR', '3', 'm']], ['z']);
      await servedBy(['BZMPOP', '0', '1', 'z', 'MAX', 'COUNT', '2'], [['ZADD', 'src', '1', 'a', '2', 'b', '3', 'c']], [['ZUNIONSTORE', 'z', '1', 'src']], ['z', 'src']);
      await servedBy(['BZPOPMIN', 'z', '0'], [['ZADD', 'src', '1', 'a', '2', 'b']], [['ZRANGESTORE', 'z', 'src', '0', '-1']], ['z', 'src']);
      await servedBy(['BZPOPMAX', 'z', '0'], [['ZADD', 'src', '1', 'a', '2', 'b'], ['ZADD', 'src2', '1', 'a']], [['ZINTERSTORE', 'z', '2', 'src', 'src2']], ['z', 'src', 'src2']);
      await servedBy(['BZPOPMIN', 'z', '0'], [['ZADD', 'src', '1', 'a', '2', 'b'], ['ZADD', 'src2', '1', 'a']], [['ZDIFFSTORE', 'z', '2', 'src', 'src2']], ['z', 'src', 'src2']);
      // The zset of a sorted-set STORE command built from a set.
      await servedBy(['BZPOPMIN', 'z', '0'], [['SADD', 'set', 'a', 'b']], [['ZUNIONSTORE', 'z', '1', 'set']], ['z', 'set']);
    });

    it('in RESP3: BZPOPMIN answers its score as a double, BZMPOP and BLMPOP nested arrays', async () => {
      await servedBy(['BZPOPMIN', 'z', '0'], [], [['ZADD', 'z', '1.5', 'a']], ['z'], true);
      await servedBy(['BZPOPMAX', 'z', '0'], [], [['ZADD', 'z', '-2', 'a', '7', 'b']], ['z'], true);
      await servedBy(['BZMPOP', '0', '1', 'z', 'MIN', 'COUNT', '3'], [], [['ZADD', 'z', '1', 'a', '2', 'b']], ['z'], true);
      await servedBy(['BLMPOP', '0', '1', 'q', 'LEFT', 'COUNT', '3'], [], [['RPUSH', 'q', 'a', 'b']], ['q'], true);
      await servedBy(['BLPOP', 'q', '0'], [], [['RPUSH', 'q', 'a', 'b']], ['q'], true);
      await servedBy(['BLMOVE', 'q', 'd', 'LEFT', 'RIGHT', '0'], [], [['RPUSH', 'q', 'a', 'b']], ['q', 'd'], true);
    });

    it('by RENAME, RENAMENX, MOVE, COPY, COPY ... DB, SORT ... STORE, SWAPDB', async () => {
      await servedBy(['BLPOP', 'q', '0'], [['RPUSH', 'src', 'a', 'b']], [['RENAME', 'src', 'q']], ['q', 'src']);
      await servedBy(['BZPOPMIN', 'z', '0'], [['ZADD', 'src', '1', 'a']], [['RENAMENX', 'src', 'z']], ['z', 'src']);
      await servedBy(['BLPOP', 'q', '0'], [['SELECT', '1'], ['RPUSH', 'q', 'a']], [['SELECT', '1'], ['MOVE', 'q', '0']], ['q']);
      await servedBy(['BRPOP', 'q', '0'], [['RPUSH', 'src', 'a', 'b']], [['COPY', 'src', 'q']], ['q', 'src']);
      await servedBy(['BZPOPMAX', 'z', '0'], [['SELECT', '2'], ['ZADD', 'src', '1', 'a', '2', 'b']], [['SELECT', '2'], ['COPY', 'src', 'z', 'DB', '0']], ['z']);
      await servedBy(['BLPOP', 'q', '0'], [['RPUSH', 'src', '3', '1', '2']], [['SORT', 'src', 'STORE', 'q']], ['q', 'src']);
      await servedBy(['BLPOP', 'q', '0'], [['SELECT', '1'], ['RPUSH', 'q', 'a', 'b']], [['SWAPDB', '0', '1']], ['q']);
    });

    it('by RESTORE and RESTORE ... REPLACE', async () => {
      await pair.check('RPUSH', 'src', 'a', 'b');
      await pair.check('ZADD', 'zsrc', '1', 'a');
      // Each server restores its own payload (both are version-10 RDB payloads for these small values).
      const dumps = await Promise.all([pair.redis.call('DUMP', 'src'), pair.vireo.call('DUMP', 'src'), pair.redis.call('DUMP', 'zsrc'), pair.vireo.call('DUMP', 'zsrc')]);
      const payload = (r: Reply) => (r.type === 'bulk' && r.value !== null ? r.value : '');
      const c = await conn();
      let pending = await block(c, 1, 'BLPOP', 'q', '0');
      const restore = async (...args: string[]) => {
        const [redisDump, vireoDump] = args[0] === 'q' ? [dumps[0]!, dumps[1]!] : [dumps[2]!, dumps[3]!];
        const [a, b] = await Promise.all([pair.redis.call('RESTORE', ...args, payload(redisDump)), pair.vireo.call('RESTORE', ...args.slice(0), payload(vireoDump))]);
        sameReply(['RESTORE'], a, b);
      };
      await restore('q', '0');
      await pending.done;
      await blocked(0);
      await sameKeys('q');
      pending = await block(c, 1, 'BZPOPMIN', 'z', '0');
      await pair.check('SET', 'z', 'string for now');
      await stillBlocked(1);
      // The string is replaced by a zset: served.
      const [a, b] = await Promise.all([
        pair.redis.call('RESTORE', 'z', '0', payload(dumps[2]!), 'REPLACE'),
        pair.vireo.call('RESTORE', 'z', '0', payload(dumps[3]!), 'REPLACE'),
      ]);
      sameReply(['RESTORE'], a, b);
      await pending.done;
      await sameKeys('z', 'q', 'src', 'zsrc');
    });

    it('after MULTI/EXEC has completed, seeing the final state', async () => {
      const c = await conn();
      let pending = await block(c, 1, 'BLPOP', 'q', '0');
      await pair.script([['MULTI'], ['LPUSH', 'q', 'a'], ['LPUSH', 'q', 'b'], ['LPUSH', 'q', 'c'], ['EXEC']]);
      await pending.done;
      await sameKeys('q');
      // Pushed and popped again inside the transaction: nothing to serve.
      await pair.check('DEL', 'q');
      pending = await block(c, 1, 'BLPOP', 'q', '0');
      await pair.script([['MULTI'], ['RPUSH', 'q', 'a'], ['LPOP', 'q'], ['EXEC']]);
      await stillBlocked(1);
      // Pushed then deleted, or turned into a string: nothing to serve either.
      await pair.script([['MULTI'], ['RPUSH', 'q', 'a'], ['DEL', 'q'], ['EXEC']]);
      await pair.script([['MULTI'], ['RPUSH', 'q', 'a'], ['DEL', 'q'], ['SET', 'q', 'x'], ['EXEC']]);
      await stillBlocked(1);
      await pair.script([['MULTI'], ['DEL', 'q'], ['RPUSH', 'q', 'a', 'b'], ['RPOP', 'q'], ['EXEC']]);
      await pending.done;
      await sameKeys('q');
    });

    it('not by a key of another type: SET, SADD, SUNIONSTORE, SMOVE, a list for BZPOPMIN; then DEL and a push serve it', async () => {
      const c = await conn();
      const d = await conn();
      await pair.check('SADD', 'set', 'a', 'b');
      const list = await block(c, 1, 'BLPOP', 'q', '0');
      const zset = await block(d, 2, 'BZPOPMIN', 'z', '0');
      await pair.check('SET', 'q', 'string');
      await pair.check('RPUSH', 'z', 'a list');
      await stillBlocked(2);
      await pair.script([['DEL', 'q', 'z'], ['SUNIONSTORE', 'q', 'set'], ['SMOVE', 'set', 'z', 'a']]);
      await stillBlocked(2);
      await pair.script([['TYPE', 'q'], ['TYPE', 'z'], ['DEL', 'q', 'z']]);
      await pair.check('ZADD', 'q', '1', 'm');
      await stillBlocked(2);
      await pair.check('RPUSH', 'z', 'x');
      await stillBlocked(2);
      await pair.check('DEL', 'q', 'z');
      await pair.check('LPUSH', 'q', 'served');
      await list.done;
      await blocked(1);
      await pair.check('ZADD', 'z', '3', 'served');
      await zset.done;
      await blocked(0);
      await sameKeys('q', 'z', 'set');
    });

    it('on both types of one key: each client by its own type', async () => {
      const c = await conn();
      const d = await conn();
      const list = await block(c, 1, 'BRPOP', 'k', '0');
      const zset = await block(d, 2, 'BZPOPMAX', 'k', '0');
      await pair.check('ZADD', 'k', '1', 'a', '2', 'b');
      await zset.done;
      await blocked(1);
      await pair.check('DEL', 'k');
      await pair.check('RPUSH', 'k', 'x');
      await list.done;
      await blocked(0);
    });

    it('in the database it blocked in', async () => {
      const c = await conn();
      await c.check('SELECT', '5');
      const pending = await block(c, 1, 'BLPOP', 'q', '0');
      await pair.check('RPUSH', 'q', 'db0');
      await stillBlocked(1);
      await pair.check('SELECT', '5');
      await pair.check('RPUSH', 'q', 'db5');
      await pending.done;
      await sameKeys('q');
      await pair.check('SELECT', '0');
      await sameKeys('q');
      // The client is back in its own database.
      await c.check('LPUSH', 'mine', 'x');
      await pair.check('SELECT', '5');
      await sameKeys('mine', 'q');
    });

    it('SWAPDB bringing a key that already expired does not serve the waiter', async () => {
      const c = await conn();
      const id = await ids(c);
      await pair.check('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
      defer(() => pair.check('DEBUG', 'SET-ACTIVE-EXPIRE', '1').then(() => {}));
      await pair.script([['SELECT', '1'], ['RPUSH', 'k', 'hello'], ['PEXPIRE', 'k', '50'], ['SELECT', '0']]);
      const pending = await block(c, 1, 'BRPOP', 'k', '0');
      await pair.check('DEBUG', 'SLEEP', '0.1');
      await pair.check('SWAPDB', '1', '0');
      await stillBlocked(1);
      expect(toJs(await unblock(id))).toBe('1');
      expect(toJs(await pending.done)).toBeNull();
      await pair.check('EXISTS', 'k');
    });

    it('when a key expires before its waiter runs again, the waiter stays blocked (and times out)', async () => {
      const c = await conn();
      await pair.check('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
      defer(() => pair.check('DEBUG', 'SET-ACTIVE-EXPIRE', '1').then(() => {}));
      const pending = await block(c, 1, 'BLPOP', 'q', '1');
      await pair.script([['MULTI'], ['RPUSH', 'q', 'a'], ['PEXPIRE', 'q', '50'], ['DEBUG', 'SLEEP', '0.2'], ['EXEC']]);
      expect(toJs(await pending.done)).toBeNull();
      await pair.check('EXISTS', 'q');
    });
  });

  describe('serving order', () => {
    it('three clients blocked on one key are served first come first served', async () => {
      const [a, b, c] = [await conn(), await conn(), await conn()];
      const pa = await block(a, 1, 'BLPOP', 'q', '0');
      const pb = await block(b, 2, 'BRPOP', 'q', '0');
      const pc = await block(c, 3, 'BLMPOP', '0', '1', 'q', 'LEFT', 'COUNT', '2');
      await pair.check('RPUSH', 'q', 'one');
      await pa.done;
      await stillBlocked(2);
      expect(pb.settled() || pc.settled()).toBe(false);
      await pair.check('RPUSH', 'q', 'two');
      await pb.done;
      await stillBlocked(1);
      await pair.check('RPUSH', 'q', 'three', 'four', 'five');
      await pc.done;
      await blocked(0);
      await sameKeys('q');
    });

    it('one push of several elements serves several clients, in order', async () => {
      const [a, b, c] = [await conn(), await conn(), await conn()];
      const pa = await block(a, 1, 'BLPOP', 'q', '0');
      const pb = await block(b, 2, 'BLPOP', 'q', '0');
      const pc = await block(c, 3, 'BRPOP', 'q', '0');
      await pair.check('LPUSH', 'q', 'a', 'b', 'c', 'd');
      await Promise.all([pa.done, pb.done, pc.done]);
      await blocked(0);
      await sameKeys('q');
      // The same with sorted sets.
      const za = await block(a, 1, 'BZPOPMIN', 'z', '0');
      const zb = await block(b, 2, 'BZPOPMAX', 'z', '0');
      const zc = await block(c, 3, 'BZPOPMIN', 'z', '0');
      await pair.check('ZADD', 'z', '1', 'a', '2', 'b');
      await Promise.all([za.done, zb.done]);
      await stillBlocked(1);
      await pair.check('ZADD', 'z', '3', 'c');
      await zc.done;
      await sameKeys('z');
    });

    it('a client blocked on several keys is served once, from the key filled', async () => {
      const [a, b] = [await conn(), await conn()];
      const pa = await block(a, 1, 'BLPOP', 'k1', 'k2', 'k3', '0');
      const pb = await block(b, 2, 'BZMPOP', '0', '3', 'z1', 'z2', 'z3', 'MAX', 'COUNT', '2');
      expect(await blockingKeys()).toBe(6);
      await pair.check('RPUSH', 'k3', 'x', 'y');
      await pa.done;
      await pair.check('ZADD', 'z2', '1', 'a', '2', 'b', '3', 'c');
      await pb.done;
      await blocked(0);
      await sameKeys('k1', 'k2', 'k3', 'z1', 'z2', 'z3');
      expect(await blockingKeys()).toBe(0);
    });

    it('a key named twice in one BLPOP', async () => {
      const a = await conn();
      const pa = await block(a, 1, 'BLPOP', 'k1', 'k2', 'k1', '0');
      await pair.check('LPUSH', 'k1', 'x');
      await pa.done;
      await blocked(0);
      expect(await blockingKeys()).toBe(0);
    });

    it('BZMPOP and BLMPOP wait on their keys only, not on their other arguments', async () => {
      const [a, b] = [await conn(), await conn()];
      const pa = await block(a, 1, 'BZMPOP', '0', '1', 'z', 'MIN', 'COUNT', '10');
      const pb = await block(b, 2, 'BLMPOP', '0', '2', 'l2', 'l3', 'RIGHT', 'COUNT', '10');
      await pair.script([['ZADD', '0', '1', 'x'], ['ZADD', '1', '1', 'x'], ['ZADD', 'MIN', '1', 'x'], ['ZADD', 'COUNT', '1', 'x'], ['ZADD', '10', '1', 'x']]);
      await pair.script([['RPUSH', '2', 'x'], ['RPUSH', 'RIGHT', 'x'], ['RPUSH', 'COUNT', 'x'], ['RPUSH', '10', 'x']]);
      await stillBlocked(2);
      await pair.check('ZADD', 'z', '1', 'a');
      await pair.check('RPUSH', 'l3', 'b', 'c');
      await Promise.all([pa.done, pb.done]);
    });

    it('keeps fairness during nested serving: a BRPOPLPUSH served first fills a key for a later client', async () => {
      const [a, b, c] = [await conn(), await conn(), await conn()];
      const pa = await block(a, 1, 'BRPOPLPUSH', 'l1', 'l3', '0');
      const pb = await block(b, 2, 'BLPOP', 'l2', '0');
      const pc = await block(c, 3, 'BLMPOP', '0', '2', 'l2', 'l3', 'LEFT', 'COUNT', '1');
      await pair.script([['MULTI'], ['LPUSH', 'l1', '1'], ['LPUSH', 'l2', '2'], ['EXEC']]);
      expect(toJs(await pa.done)).toBe('1');
      expect(toJs(await pb.done)).toEqual(['l2', '2']);
      expect(toJs(await pc.done)).toEqual(['l3', ['1']]);
      await blocked(0);
      await sameKeys('l1', 'l2', 'l3');
    });

    it('a client pipelining a push behind a blocked client keeps the order (the first blocked is served first)', async () => {
      const [a, b] = [await conn(), await conn()];
      const pa = await block(a, 1, 'BLPOP', 'q', '0');
      // One write: the push serves a, then b's own BLPOP blocks.
      const push = send(b, 'LPUSH', 'q', '1');
      const pb = send(b, 'BLPOP', 'q', '0');
      await pa.done;
      await push.done;
      await blocked(1);
      expect(pb.settled()).toBe(false);
      await pair.check('LPUSH', 'q', '2');
      await pb.done;
      await blocked(0);
    });

    it('a served client goes on with the commands it pipelined behind the blocking one', async () => {
      const a = await conn();
      const pa = send(a, 'BLPOP', 'q', '0');
      const after = [send(a, 'RPUSH', 'mine', 'x'), send(a, 'LRANGE', 'q', '0', '-1'), send(a, 'PING')];
      await blocked(1);
      expect(after.some((p) => p.settled())).toBe(false);
      await pair.check('RPUSH', 'q', 'a', 'b');
      await pa.done;
      for (const p of after) await p.done;
      await sameKeys('q', 'mine');
    });
  });

  describe('BLMOVE and BRPOPLPUSH chains', () => {
    it('A moves a->b, B pops b: one push serves both', async () => {
      const [a, b] = [await conn(), await conn()];
      const pa = await block(a, 1, 'BLMOVE', 'a', 'b', 'LEFT', 'RIGHT', '0');
      const pb = await block(b, 2, 'BLPOP', 'b', '0');
      await pair.check('RPUSH', 'a', 'x');
      await pa.done;
      await pb.done;
      await blocked(0);
      await sameKeys('a', 'b');
    });

    it('a chain of three BRPOPLPUSH and a BZPOPMIN bystander', async () => {
      const [a, b, c, d] = [await conn(), await conn(), await conn(), await conn()];
      const pa = await block(a, 1, 'BRPOPLPUSH', 'l1', 'l2', '0');
      const pb = await block(b, 2, 'BRPOPLPUSH', 'l2', 'l3', '0');
      const pc = await block(c, 3, 'BLMOVE', 'l3', 'l4', 'RIGHT', 'LEFT', '0');
      const pd = await block(d, 4, 'BZPOPMIN', 'l4', '0');
      await pair.check('RPUSH', 'l1', 'x', 'y');
      await Promise.all([pa.done, pb.done, pc.done]);
      await stillBlocked(1);
      await sameKeys('l1', 'l2', 'l3', 'l4');
      await pair.check('DEL', 'l4');
      await pair.check('ZADD', 'l4', '1', 'm');
      await pd.done;
    });

    it('circular BRPOPLPUSH', async () => {
      const [a, b] = [await conn(), await conn()];
      const pa = await block(a, 1, 'BRPOPLPUSH', 'l1', 'l2', '0');
      const pb = await block(b, 2, 'BRPOPLPUSH', 'l2', 'l1', '0');
      await pair.check('RPUSH', 'l1', 'foo');
      await Promise.all([pa.done, pb.done]);
      await blocked(0);
      await sameKeys('l1', 'l2');
    });

    it('self-referential BLMOVE, and one whose destination has the wrong type', async () => {
      const [a, b] = [await conn(), await conn()];
      let pa = await block(a, 1, 'BLMOVE', 'l', 'l', 'RIGHT', 'LEFT', '0');
      await pair.check('RPUSH', 'l', 'a', 'b');
      await pa.done;
      await sameKeys('l');
      await pair.script([['DEL', 'l'], ['SET', 'dst', 'string']]);
      pa = await block(a, 1, 'BLMOVE', 'l', 'dst', 'LEFT', 'LEFT', '0');
      const pb = await block(b, 2, 'BLPOP', 'l', '0');
      await pair.check('RPUSH', 'l', 'x');
      // a gets WRONGTYPE and the element stays for b.
      await Promise.all([pa.done, pb.done]);
      await blocked(0);
      await sameKeys('l', 'dst');
    });

    it('a push made by a served BRPOPLPUSH breaks a WATCH on its destination', async () => {
      const [a, w] = [await conn(), await conn()];
      const pa = await block(a, 1, 'BRPOPLPUSH', 'src', 'dst', '0');
      await w.check('WATCH', 'dst');
      await pair.check('LPUSH', 'src', 'x');
      await pa.done;
      await w.script([['MULTI'], ['PING'], ['EXEC']]);
    });
  });

  describe('timeouts', () => {
    it('a timeout with decimals answers the null array (RESP2) or null (RESP3), BLMOVE and BRPOPLPUSH included', async () => {
      for (const resp3 of [false, true]) {
        const c = await conn(resp3);
        for (const args of [
          ['BLPOP', 'q', '0.1'],
          ['BRPOP', 'q', 'q2', '0.05'],
          ['BLMOVE', 'q', 'd', 'LEFT', 'LEFT', '0.1'],
          ['BRPOPLPUSH', 'q', 'd', '0.1'],
          ['BLMPOP', '0.1', '1', 'q', 'LEFT'],
          ['BZPOPMIN', 'z', '0.1'],
          ['BZPOPMAX', 'z', '.05'],
          ['BZMPOP', '0.1', '2', 'z', 'z2', 'MAX', 'COUNT', '3'],
        ]) {
          const p = send(c, ...args);
          await p.done;
        }
        await blocked(0);
      }
    });

    it('timeouts are computed in long doubles: tiny ones round up to 1 ms, tiny negative ones down to 0 (forever)', async () => {
      const c = await conn();
      // ceill(strtold(t) * 1000) with 64-bit significands: 1e-400 is no underflow and rounds up to 1 ms.
      for (const t of ['0.0001', '1e-400', '0x1p-20']) await send(c, 'BLPOP', 'q', t).done;
      // ... and these round to -0: block forever (-0.001 * 1000 is just above -1 in long double).
      for (const t of ['-0.0001', '-0.001', '-1e-3', '-0.0010', '-1e-400', '-0']) {
        const forever = await block(c, 1, 'BLPOP', 'q', t);
        await pair.check('RPUSH', 'q', t);
        await forever.done;
      }
    });

    it('timeout 0 blocks until served or CLIENT UNBLOCK (TIMEOUT, ERROR)', async () => {
      for (const resp3 of [false, true]) {
        const c = await conn(resp3);
        const id = await ids(c);
        for (const args of [['BLPOP', 'q', '0'], ['BLMOVE', 'q', 'd', 'LEFT', 'LEFT', '0'], ['BRPOPLPUSH', 'q', 'd', '0'], ['BZMPOP', '0', '1', 'z', 'MIN']]) {
          let p = await block(c, 1, ...args);
          expect(toJs(await unblock(id))).toBe('1');
          await p.done;
          await blocked(0);
          p = await block(c, 1, ...args);
          expect(toJs(await unblock(id, 'ERROR'))).toBe('1');
          expect(toJs(await p.done)).toEqual(new Error('UNBLOCKED client unblocked via CLIENT UNBLOCK'));
          await blocked(0);
          p = await block(c, 1, ...args);
          expect(toJs(await unblock(id, 'timeout'))).toBe('1');
          await p.done;
          // Not blocked any more.
          expect(toJs(await unblock(id))).toBe('0');
          await c.check('PING');
        }
      }
    });

    it('a client unblocked by CLIENT UNBLOCK leaves its keys (the next client is served)', async () => {
      const [a, b] = [await conn(), await conn()];
      const id = await ids(a);
      const pa = await block(a, 1, 'BLPOP', 'q', '0');
      const pb = await block(b, 2, 'BLPOP', 'q', '0');
      await unblock(id, 'ERROR');
      await pa.done;
      await pair.check('RPUSH', 'q', 'x');
      await pb.done;
      await blocked(0);
      expect(await blockingKeys()).toBe(0);
    });
  });

  describe('CLIENT UNBLOCK', () => {
    it('answers 0 for clients that are not blocked and for unknown ids; refuses bad arguments as Redis', async () => {
      const c = await conn();
      const id = await ids(c);
      expect(toJs(await unblock(id))).toBe('0');
      expect(toJs(await unblock(id, 'ERROR'))).toBe('0');
      await pair.script([
        ['CLIENT', 'UNBLOCK', '999999'],
        ['CLIENT', 'UNBLOCK', '-1'],
        ['CLIENT', 'UNBLOCK', '0', 'TIMEOUT'],
        ['CLIENT', 'UNBLOCK', 'abc'],
        ['CLIENT', 'UNBLOCK', '1.5'],
        ['CLIENT', 'UNBLOCK', '9223372036854775808'],
        ['CLIENT', 'UNBLOCK', '1', 'maybe'],
        // The reason is read before the id.
        ['CLIENT', 'UNBLOCK', 'abc', 'maybe'],
        ['CLIENT', 'UNBLOCK', 'abc', 'error'],
        ['CLIENT', 'UNBLOCK', '1', 'timeout', 'extra'],
        ['CLIENT', 'UNBLOCK'],
      ]);
    });
  });

  describe('CLIENT REPLY', () => {
    it('OFF and SKIP hold for the late reply of a blocking command: served, unblocked, timed out', async () => {
      const c = await conn();
      const id = await ids(c);
      /** Commands whose replies are not read: with the reply muted nothing comes back. */
      const quiet = (...cmds: string[][]) => {
        const bytes = Buffer.concat(cmds.map((a) => encodeCommand(a)));
        c.redis.writeRaw(bytes);
        c.vireo.writeRaw(bytes);
      };
      await pair.check('CONFIG', 'RESETSTAT');
      quiet(['CLIENT', 'REPLY', 'OFF'], ['BLPOP', 'q', '0']);
      await blocked(1);
      await pair.check('RPUSH', 'q', 'served');
      await blocked(0);
      quiet(['BZPOPMIN', 'z', '0']);
      await blocked(1);
      await unblock(id);
      await blocked(0);
      quiet(['BLMOVE', 'q', 'd', 'LEFT', 'LEFT', '0']);
      await blocked(1);
      await unblock(id, 'ERROR');
      await blocked(0);
      quiet(['BRPOPLPUSH', 'q', 'd', '0.01'], ['CLIENT', 'REPLY', 'ON']);
      // The first reply to come back is CLIENT REPLY ON's: nothing before it leaked.
      const [a, b] = await Promise.all([c.redis.read(), c.vireo.read()]);
      expect(toJs(b.reply)).toBe('OK');
      expect(b.raw).toEqual(a.raw);
      quiet(['CLIENT', 'REPLY', 'SKIP'], ['BLPOP', 'q', '0']);
      await blocked(1);
      await pair.check('RPUSH', 'q', 'skipped');
      await blocked(0);
      await c.check('PING');
      await sameKeys('q', 'd');
      // The muted error is still counted.
      const [ra, rb] = await Promise.all([pair.redis.call('INFO', 'errorstats'), pair.vireo.call('INFO', 'errorstats')]);
      const unblocked = (r: Reply) => String(toJs(r)).match(/errorstat_UNBLOCKED:count=(\d+)/)?.[1];
      expect(unblocked(rb)).toBe(unblocked(ra));
      expect(unblocked(rb)).toBe('1');
    });
  });

  describe('CLIENT PAUSE', () => {
    it('a blocking command is held by a pause before it blocks', async () => {
      const c = await conn();
      await pair.check('CLIENT', 'PAUSE', '60000', 'WRITE');
      const p = send(c, 'BLPOP', 'q', '0');
      await blocked(1);
      await pair.check('CLIENT', 'UNPAUSE');
      // Now it waits for data.
      await blocked(1);
      await pair.check('RPUSH', 'q', 'x');
      await p.done;
    });

    // 7.2 runs a woken client's command again through processCommand, which postpones a write
    // during CLIENT PAUSE WRITE (it stays in blocked_clients); 7.0 served it at once. Vireo follows
    // 7.2, so these state the reference's answers apart (see KNOWN_DIFFERENCES).
    it('CLIENT PAUSE WRITE holds blocked clients whose key is filled until CLIENT UNPAUSE (7.2)', async () => {
      const [a, b] = [await conn(), await conn()];
      const pa = await block(a, 1, 'BLPOP', 'q', '0');
      const pb = await block(b, 2, 'BZPOPMIN', 'z', '0');
      // The pause starts as the transaction ends, after the pushes.
      await pair.script([['MULTI'], ['CLIENT', 'PAUSE', '60000', 'WRITE'], ['RPUSH', 'q', 'x', 'y'], ['ZADD', 'z', '1', 'm'], ['EXEC']]);
      const info = await clientsInfo();
      expect(infoNumber(info[0], 'blocked_clients'), '7.0 serves at once').toBe(0);
      expect(infoNumber(info[1], 'blocked_clients')).toBe(2);
      expect(toJs(await pair.vireo.call('LRANGE', 'q', '0', '-1'))).toEqual(['x', 'y']);
      expect(pa.settled() || pb.settled()).toBe(false);
      await pair.check('CLIENT', 'UNPAUSE');
      // Then both are served as 7.0 served them.
      await Promise.all([pa.done, pb.done]);
      await blocked(0);
      await sameKeys('q', 'z');
    });

    it('... and serves them when the pause runs out by itself (7.2)', async () => {
      const [a, b] = [await conn(), await conn()];
      const pa = await block(a, 1, 'BLPOP', 'q', '0');
      const pb = await block(b, 2, 'BRPOP', 'q', '0');
      await pair.script([['MULTI'], ['CLIENT', 'PAUSE', '200', 'WRITE'], ['RPUSH', 'q', 'x', 'y', 'z'], ['EXEC']]);
      expect(infoNumber((await clientsInfo())[1], 'blocked_clients')).toBe(2);
      // Nothing else is sent: the end of the pause alone must serve the clients, in order.
      await Promise.all([pa.done, pb.done]);
      await blocked(0);
      await sameKeys('q');
    });
  });

  describe('INFO, CLIENT LIST, disconnections', () => {
    it('INFO blocked_clients and total_blocking_keys', async () => {
      const [a, b, c] = [await conn(), await conn(), await conn()];
      const pa = await block(a, 1, 'BLPOP', 'k1', 'k2', '0');
      const pb = await block(b, 2, 'BRPOP', 'k2', 'k3', '0');
      const pc = await block(c, 3, 'BZPOPMIN', 'z', '0');
      // total_blocking_keys is new in 7.2: Vireo's alone (k1 k2 k3 z), and none on nokey (XREADGROUP's).
      const info = await pair.vireo.call('INFO', 'clients');
      expect([infoNumber(info, 'total_blocking_keys'), infoNumber(info, 'total_blocking_keys_on_nokey')]).toEqual([4, 0]);
      await pair.check('RPUSH', 'k2', 'x');
      await pa.done;
      await blocked(2);
      expect(await blockingKeys()).toBe(3);
      await pair.check('RPUSH', 'k2', 'y');
      await pb.done;
      await blocked(1);
      expect(await blockingKeys()).toBe(1);
      await pair.check('ZADD', 'z', '1', 'a');
      await pc.done;
      await blocked(0);
      expect(await blockingKeys()).toBe(0);
    });

    it('CLIENT LIST shows flags=b and the blocking command', async () => {
      const c = await conn();
      await c.check('CLIENT', 'SETNAME', 'waiter');
      for (const args of [['BLPOP', 'q', '0'], ['BZMPOP', '0', '1', 'z', 'MIN'], ['BLMOVE', 'q', 'd', 'LEFT', 'LEFT', '0']]) {
        const p = await block(c, 1, ...args);
        const [a, b] = await Promise.all([pair.redis.call('CLIENT', 'LIST'), pair.vireo.call('CLIENT', 'LIST')]);
        const fields = (r: Reply) => {
          const line = String(toJs(r)).split('\n').find((l) => l.includes('name=waiter')) ?? '';
          return ['flags', 'db', 'cmd', 'multi'].map((f) => line.match(new RegExp(` ${f}=(\\S*)`))?.[1]);
        };
        expect(fields(b)).toEqual(fields(a));
        expect(fields(b)[0]).toBe('b');
        await pair.check('RPUSH', 'q', 'x');
        await pair.check('ZADD', 'z', '1', 'x');
        await p.done;
        await pair.check('FLUSHALL');
      }
    });

    it('a blocked client that disconnects is forgotten: the next one is served', async () => {
      const [a, b, c] = [await conn(), await conn(), await conn()];
      await block(a, 1, 'BLPOP', 'q', '0');
      const pb = await block(b, 2, 'BLPOP', 'q', '0');
      await block(c, 3, 'BZPOPMIN', 'z', '0');
      a.close();
      c.close();
      await blocked(1);
      expect(await blockingKeys()).toBe(1);
      await pair.check('RPUSH', 'q', 'x', 'y');
      await pb.done;
      await blocked(0);
      await pair.check('ZADD', 'z', '1', 'a');
      await sameKeys('q', 'z');
    });

    it('CLIENT KILL of a blocked client', async () => {
      const [a, b] = [await conn(), await conn()];
      const id = await ids(a);
      const pa = await block(a, 1, 'BLPOP', 'q', '0');
      const pb = await block(b, 2, 'BLPOP', 'q', '0');
      const [ka, kb] = await Promise.all([pair.redis.call('CLIENT', 'KILL', 'ID', id.redis), pair.vireo.call('CLIENT', 'KILL', 'ID', id.vireo)]);
      sameReply(['CLIENT', 'KILL'], ka, kb);
      await expect(pa.raw).rejects.toThrow(/connection closed/);
      await blocked(1);
      await pair.check('RPUSH', 'q', 'x');
      await pb.done;
    });

    it('commandstats count a blocking command once, served, timed out or unblocked; CLIENT UNBLOCK ERROR as failed', async () => {
      await pair.check('CONFIG', 'RESETSTAT');
      const a = await conn();
      const id = await ids(a);
      const pa = await block(a, 1, 'BLPOP', 'q', '0');
      await pair.check('RPUSH', 'q', 'x');
      await pa.done;
      await send(a, 'BZPOPMIN', 'z', '0.01').done;
      const pe = await block(a, 1, 'BLPOP', 'q', '0');
      await unblock(id, 'ERROR');
      await pe.done;
      const pt = await block(a, 1, 'BZPOPMIN', 'z', '0');
      await unblock(id, 'TIMEOUT');
      await pt.done;
      const stat = async (name: string) => {
        const [r, v] = await Promise.all([pair.redis.call('INFO', 'commandstats'), pair.vireo.call('INFO', 'commandstats')]);
        const calls = (x: Reply) => String(toJs(x)).match(new RegExp(`cmdstat_${name}:calls=(\\d+).*failed_calls=(\\d+)`))?.slice(1);
        return [calls(r), calls(v)];
      };
      expect(await stat('blpop')).toEqual([['2', '1'], ['2', '1']]);
      // (7.0 also charges a failed call to the BZPOPMIN that blocked right after the error: its global error counter.)
      expect((await stat('bzpopmin')).map((s) => s?.[0])).toEqual(['2', '2']);
    });
  });

  describe('where Redis 7.2 differs from 7.0: the command runs again once its key is ready', () => {
    it('a client blocked on several keys gets the first non-empty key in its own order', async () => {
      const a = await conn();
      const pa = await block(a, 1, 'BLPOP', 'k1', 'k2', 'k3', '0');
      await pair.script([['MULTI'], ['RPUSH', 'k3', 'x'], ['RPUSH', 'k2', 'y'], ['EXEC']]);
      const [redis, vireo] = await pa.raw;
      // 7.0 pops from the key signalled first; 7.2 runs BLPOP again, which scans k1 k2 k3.
      expect(toJs(redis)).toEqual(['k3', 'x']);
      expect(toJs(vireo)).toEqual(['k2', 'y']);
    });

    it('a key of another type before the filled one answers WRONGTYPE', async () => {
      const a = await conn();
      const pa = await block(a, 1, 'BLPOP', 'k1', 'k2', '0');
      await pair.script([['MULTI'], ['SET', 'k1', 'string'], ['RPUSH', 'k2', 'y'], ['EXEC']]);
      const [redis, vireo] = await pa.raw;
      expect(toJs(redis)).toEqual(['k2', 'y']);
      expect(toJs(vireo)).toEqual(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'));
      await blocked(0);
      expect(toJs(await pair.vireo.call('LRANGE', 'k2', '0', '-1'))).toEqual(['y']);
    });

    it('these differences are listed in KNOWN_DIFFERENCES', () => {
      expect(KNOWN_DIFFERENCES.some((d) => /running its command again/.test(d.why))).toBe(true);
    });
  });
});

// ---- the command log --------------------------------------------------------------------------

/** The commands of an AOF directory's incr files, in order (SELECT included). */
function aofCommands(dir: string): string[][] {
  const aofDir = path.join(dir, 'appendonlydir');
  const manifest = fs.readFileSync(path.join(aofDir, 'appendonly.aof.manifest'), 'latin1');
  const out: string[][] = [];
  for (const m of manifest.matchAll(/file (\S+) seq \d+ type i/g)) {
    const buf = fs.readFileSync(path.join(aofDir, m[1]!));
    let pos = 0;
    while (pos < buf.length) {
      // Annotation lines: the group frames and padding of a preallocated file.
      if (buf[pos] === 35) {
        const nl = buf.indexOf(10, pos);
        pos = nl < 0 ? buf.length : nl + 1;
        continue;
      }
      const r = parseReply(buf, pos);
      if (r === null) throw new Error(`torn AOF record at ${pos}`);
      out.push(toJs(r[0]) as string[]);
      pos = r[1];
    }
  }
  return out;
}

describe('blocking commands in the command log', () => {
  it('served blocking commands are logged as their non-blocking forms, in the order they ran', async () => {
    const dir = tempDir();
    const v = await startVireo({ dir, appendonly: 'yes', appendfsync: 'always' });
    let stopped = false;
    defer(async () => {
      if (!stopped) await v.stop();
    });
    const ctl = await RespClient.connect(v.port);
    const clients = await Promise.all(Array.from({ length: 4 }, () => RespClient.connect(v.port)));
    defer(() => {
      ctl.close();
      for (const c of clients) c.close();
    });
    const blockedCount = async (n: number) =>
      waitFor(`${n} blocked`, async () => infoNumber(await ctl.call('INFO', 'clients'), 'blocked_clients') === n);
    const run = async (...args: string[]) => {
      const r = await ctl.call(...args);
      expect(r.type, `${args.join(' ')}: ${JSON.stringify(r)}`).not.toBe('error');
      return toJs(r);
    };
    const [a, b, c, d] = clients as [RespClient, RespClient, RespClient, RespClient];

    // Served at once.
    await run('RPUSH', 'l', '1', '2', '3', '4', '5', '6');
    await run('ZADD', 'z', '1', 'a', '2', 'b', '3', 'c', '4', 'd');
    expect(toJs(await a.call('BLPOP', 'l', '0'))).toEqual(['l', '1']);
    expect(toJs(await a.call('BRPOP', 'l', '0'))).toEqual(['l', '6']);
    expect(toJs(await a.call('BLMOVE', 'l', 'm', 'LEFT', 'RIGHT', '0'))).toBe('2');
    expect(toJs(await a.call('BRPOPLPUSH', 'l', 'm', '0'))).toBe('5');
    expect(toJs(await a.call('BLMPOP', '0', '1', 'l', 'RIGHT', 'COUNT', '5'))).toEqual(['l', ['4', '3']]);
    expect(toJs(await a.call('BZPOPMIN', 'z', '0'))).toEqual(['z', 'a', '1']);
    expect(toJs(await a.call('BZPOPMAX', 'z', '0'))).toEqual(['z', 'd', '4']);
    expect(toJs(await a.call('BZMPOP', '0', '1', 'z', 'MIN', 'COUNT', '5'))).toEqual(['z', [['b', '2'], ['c', '3']]]);

    // Served after blocking, with a chain (Redis' "execution order" case: the moves come
    // right after the push that made them possible, before the next command of the pusher).
    const moved = a.call('BLMOVE', 'src', 'dst', 'LEFT', 'RIGHT', '0');
    await blockedCount(1);
    const back = b.call('BLMOVE', 'dst', 'src', 'RIGHT', 'LEFT', '0');
    await blockedCount(2);
    d.writeRaw(Buffer.concat([encodeCommand(['SET', 'key1', 'value1']), encodeCommand(['LPUSH', 'src', 'dummy']), encodeCommand(['SET', 'key2', 'value2'])]));
    for (let i = 0; i < 3; i++) await d.read();
    expect(await moved).toEqual({ type: 'bulk', value: 'dummy' });
    expect(await back).toEqual({ type: 'bulk', value: 'dummy' });
    const popped = [a.call('BLPOP', 'bl', '0'), b.call('BRPOPLPUSH', 'br', 'm', '0'), c.call('BLMPOP', '0', '1', 'bm', 'LEFT', 'COUNT', '2')];
    await blockedCount(3);
    const zpopped = d.call('BZMPOP', '0', '1', 'bz', 'MAX', 'COUNT', '2');
    await blockedCount(4);
    await run('SELECT', '0');
    await run('MULTI');
    await run('RPUSH', 'bl', 'x', 'y');
    await run('RPUSH', 'br', 'p', 'q');
    await run('RPUSH', 'bm', '1', '2', '3');
    await run('ZADD', 'bz', '1', 'one', '2', 'two', '3', 'three');
    await run('EXEC');
    expect(toJs(await popped[0]!)).toEqual(['bl', 'x']);
    expect(toJs(await popped[1]!)).toBe('q');
    expect(toJs(await popped[2]!)).toEqual(['bm', ['1', '2']]);
    expect(toJs(await zpopped)).toEqual(['bz', [['three', '3'], ['two', '2']]]);
    const zmin = a.call('BZPOPMIN', 'bz2', '0');
    await blockedCount(1);
    await run('ZADD', 'bz2', '5', 'five', '6', 'six');
    expect(toJs(await zmin)).toEqual(['bz2', 'five', '5']);
    // Timed out or unblocked: nothing logged.
    expect(toJs(await a.call('BLPOP', 'none', '0.01'))).toBeNull();
    const bid = String(toJs(await b.call('CLIENT', 'ID')));
    const forever = b.call('BZPOPMAX', 'none', '0');
    await blockedCount(1);
    expect(await run('CLIENT', 'UNBLOCK', bid)).toBe('1');
    expect(toJs(await forever)).toBeNull();

    const want = await run('DEBUG', 'DIGEST');
    const contents = await datasetOf(ctl);
    expect(toJs(await ctl.call('WAITAOF', '1', '0', '0'))).toEqual(['1', '0']);
    const logged = aofCommands(dir).filter((cmd) => !['select', 'multi', 'exec'].includes(cmd[0]!.toLowerCase()));
    const afterSetup = logged.slice(2).map((cmd) => cmd.join(' '));
    expect(afterSetup).toEqual([
      'LPOP l',
      'RPOP l',
      'LMOVE l m LEFT RIGHT',
      'RPOPLPUSH l m',
      'RPOP l 2',
      'ZPOPMIN z',
      'ZPOPMAX z',
      'ZPOPMIN z 2',
      'SET key1 value1',
      'LPUSH src dummy',
      'LMOVE src dst LEFT RIGHT',
      'LMOVE dst src RIGHT LEFT',
      'SET key2 value2',
      'RPUSH bl x y',
      'RPUSH br p q',
      'RPUSH bm 1 2 3',
      'ZADD bz 1 one 2 two 3 three',
      'LPOP bl',
      'RPOPLPUSH br m',
      'LPOP bm 2',
      'ZPOPMAX bz 2',
      'ZADD bz2 5 five 6 six',
      'ZPOPMIN bz2',
    ]);
    expect(logged.some((cmd) => /^b/i.test(cmd[0]!))).toBe(false);

    // A restart on the AOF gives back the same data.
    ctl.close();
    for (const cl of clients) cl.close();
    await v.stop();
    stopped = true;
    const again = await startVireo({ dir, appendonly: 'yes' });
    defer(() => again.stop());
    const c2 = await RespClient.connect(again.port);
    defer(() => c2.close());
    expect(toJs(await c2.call('DEBUG', 'DIGEST'))).toBe(want);
    expect(await datasetOf(c2)).toEqual(contents);

    // And so does redis-server 7.0 loading a copy of it.
    if (HAVE_REDIS) {
      const copy = tempDir('redis-replay-');
      fs.cpSync(path.join(dir, 'appendonlydir'), path.join(copy, 'appendonlydir'), { recursive: true });
      const ref = track(await startRedis({ dir: copy, appendonly: 'yes' }));
      const r = await RespClient.connect(ref.port);
      defer(() => r.close());
      expect(toJs(await r.call('DEBUG', 'DIGEST'))).toBe(want);
      expect(await datasetOf(r)).toEqual(contents);
    }
  });
});

/** Every key of db 0 with its type and contents, sorted by name. */
async function datasetOf(c: RespClient): Promise<unknown[]> {
  await c.call('SELECT', '0');
  const keys = (toJs(await c.call('KEYS', '*')) as string[]).sort();
  const out: unknown[] = [];
  for (const k of keys) {
    const type = toJs(await c.call('TYPE', k));
    const value =
      type === 'list' ? toJs(await c.call('LRANGE', k, '0', '-1')) : type === 'zset' ? toJs(await c.call('ZRANGE', k, '0', '-1', 'WITHSCORES')) : toJs(await c.call('GET', k));
    out.push([k, type, value]);
  }
  return out;
}
