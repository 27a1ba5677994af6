/**
 * `SET key value` with a value of 33-128 bytes: its value stays in the
 * query buffer and is copied from there into the key's record, never made
 * a string (src/protocol/deferred-arg.ts). Everything that keeps or shows
 * the command beyond its run must still see the value's bytes: MULTI's
 * queue, CLIENT PAUSE, the slow log, MONITOR, the AOF (raw and re-encoded
 * records) and replicas. Differential against redis-server where the
 * reply is the value; values are binary (CR, LF, NUL, 0xff inside).
 */

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { DiffPair } from './helpers/differential.js';
import { RespClient, encodeCommand, toJs } from './helpers/resp.js';
import { HAVE_REDIS, startVireo, type VireoHandle } from './helpers/servers.js';
import { waitInSync } from './helpers/replication.js';
import { DEFERRED_ARG, DEFER_KEY_MAX, DEFER_VALUE_MAX, DEFER_VALUE_MIN } from '../src/protocol/deferred-arg.js';
import { STORE_KEY_MAX, STORE_VALUE_MAX, storable } from '../src/engine/string-store.js';

/** `n` bytes as a latin1 string, every byte value possible (seeded by `seed`). */
function bytes(n: number, seed: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode((seed * 131 + i * 37 + (i % 7 === 0 ? 13 : 0)) & 0xff);
  return s;
}

const raw = (...argv: string[]) => encodeCommand(argv).latin1Slice();

describe('the deferred SET value (unit)', () => {
  it('defers exactly what the string store keeps', () => {
    expect(DEFER_VALUE_MAX).toBe(STORE_VALUE_MAX);
    expect(DEFER_KEY_MAX).toBe(STORE_KEY_MAX);
    expect(DEFER_VALUE_MIN).toBeGreaterThan(1);
  });

  it('refuses the placeholder as a value once its command is over', () => {
    expect(() => storable('k', DEFERRED_ARG)).toThrow(/deferred SET value/);
  });
});

describe.skipIf(!HAVE_REDIS)('SET values left in the query buffer (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  const key = fc.oneof(
    fc.constantFrom('k:1', 'k:2', '{t}k', 'caf\xe9'),
    // Around the longest key the string store keeps (255 bytes).
    fc.constantFrom(254, 255, 256).map((n) => 'L'.repeat(n)),
  );
  const value = fc.oneof(
    fc.tuple(fc.integer({ min: 1, max: 135 }), fc.integer({ min: 0, max: 1000 })).map(([n, seed]) => bytes(n, seed)),
    // SET keeps canonical integers as numbers (OBJECT ENCODING int).
    fc.constantFrom('0', '-1', '123', '007', '-0', '1.5', '9223372036854775807', '12345678901234567890', '123456789012345678901', 'x1'),
  );
  type Part = { bytes: string; replies: number };
  const part: fc.Arbitrary<Part> = fc.oneof(
    { weight: 6, arbitrary: fc.tuple(key, value).map(([k, v]) => ({ bytes: raw('SET', k, v), replies: 1 })) },
    { weight: 2, arbitrary: fc.tuple(key, value).map(([k, v]) => ({ bytes: raw('set', k, v), replies: 1 })) },
    { weight: 4, arbitrary: key.map((k) => ({ bytes: raw('GET', k), replies: 1 })) },
    { weight: 1, arbitrary: key.map((k) => ({ bytes: raw('STRLEN', k), replies: 1 })) },
    { weight: 1, arbitrary: key.map((k) => ({ bytes: raw('INCR', k), replies: 1 })) },
    { weight: 1, arbitrary: key.map((k) => ({ bytes: raw('OBJECT', 'ENCODING', k), replies: 1 })) },
    { weight: 1, arbitrary: fc.tuple(key, value).map(([k, v]) => ({ bytes: raw('SET', k, v, 'GET'), replies: 1 })) },
    { weight: 1, arbitrary: key.map((k) => ({ bytes: raw('HSET', k, 'f', 'v'), replies: 1 })) },
    // Queued: EXEC runs them after the read that carried them may be gone.
    {
      weight: 2,
      arbitrary: fc.tuple(key, value, key, value).map(([a, v, b, w]) => ({ bytes: raw('MULTI') + raw('SET', a, v) + raw('SET', b, w) + raw('EXEC') + raw('GET', a), replies: 5 })),
    },
  );

  it('every reply of random pipelines, sent whole or cut anywhere, equals redis-server', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(part, { minLength: 4, maxLength: 40 }), fc.array(fc.nat(), { maxLength: 3 }), async (parts, cuts) => {
        const data = Buffer.from(parts.map((p) => p.bytes).join(''), 'latin1');
        const replies = parts.reduce((n, p) => n + p.replies, 0);
        // Cut points split commands across reads: the exact parser takes the ones cut, the fast path the rest.
        const at = [...new Set(cuts.map((c) => c % data.length))].sort((a, b) => a - b);
        let from = 0;
        const collect = Promise.all([pair.redis, pair.vireo].map(async (c) => Buffer.concat(await Promise.all(Array.from({ length: replies }, async () => (await c.read()).raw)))));
        for (const cut of [...at, data.length]) {
          pair.redis.writeRaw(data.subarray(from, cut));
          pair.vireo.writeRaw(data.subarray(from, cut));
          from = cut;
          await new Promise((r) => setTimeout(r, 2));
        }
        const [a, b] = await collect;
        expect(b.latin1Slice()).toBe(a.latin1Slice());
      }),
      { numRuns: 60 },
    );
  });

  it('MONITOR and the slow log show the value', async () => {
    const v = bytes(100, 7);
    const sender = await pair.connect();
    await pair.checkRaw(raw('MONITOR'), 1);
    const [redisMon, vireoMon] = [pair.redis, pair.vireo];
    // (Each check alone: the slow log's copy of the value must not be what MONITOR shows.)
    await sender.checkRaw(raw('SET', 'seen', v) + raw('GET', 'seen'), 2);
    const line = async (c: RespClient) => toJs((await c.read()).reply) as string;
    // "<time> [0 <addr>] "SET" "seen" "<escaped value>"": the part after the address.
    const args = (l: string) => l.slice(l.indexOf('"'));
    const shown = await line(vireoMon);
    expect(args(shown)).toBe(args(await line(redisMon)));
    expect(shown).toContain('"SET" "seen" "');
    await sender.check('CONFIG', 'SET', 'slowlog-log-slower-than', '0');
    await sender.check('SLOWLOG', 'RESET');
    await sender.checkRaw(raw('SET', 'slow', v) + raw('GET', 'slow'), 2);
    // The SET entries' arguments (which other commands each server logs is not this test's).
    const sets = async (c: RespClient) => (toJs(await c.call('SLOWLOG', 'GET', '10')) as unknown[][]).map((e) => e[3] as string[]).filter((a) => a[0] === 'SET');
    expect(await sets(sender.vireo)).toEqual(await sets(sender.redis));
    expect(await sets(sender.vireo)).toEqual([['SET', 'slow', v]]);
    sender.close();
  });
});

describe('SET values left in the query buffer: held, logged and replicated', () => {
  const servers: VireoHandle[] = [];
  const clients: RespClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) await s.stop();
  });
  async function server(params: Record<string, string> = {}): Promise<[VireoHandle, RespClient]> {
    const s = await startVireo(params);
    servers.push(s);
    const c = await RespClient.connect(s.port);
    clients.push(c);
    return [s, c];
  }

  it('a SET held by CLIENT PAUSE WRITE stores its value when the pause ends', async () => {
    const [s, admin] = await server();
    const writer = await RespClient.connect(s.port);
    clients.push(writer);
    const v = bytes(90, 3);
    expect(toJs(await admin.call('CLIENT', 'PAUSE', '300', 'WRITE'))).toBe('OK');
    // The held SET, then more SETs in the same read: the buffer moves on while the first waits.
    writer.writeRaw(raw('SET', 'held', v) + raw('SET', 'after', bytes(64, 4)));
    const replies = [writer.read(), writer.read()];
    expect(toJs((await replies[0]).reply)).toBe('OK');
    await replies[1];
    expect(toJs(await admin.call('GET', 'held'))).toBe(v);
    expect(toJs(await admin.call('GET', 'after'))).toBe(bytes(64, 4));
  });

  it('the AOF keeps the value, as sent and when the record is re-encoded (an expired key deleted first)', async () => {
    const [s, c] = await server({ appendonly: 'yes', appendfsync: 'always' });
    const v = bytes(120, 9);
    const w = bytes(40, 11);
    // Only the lookup deletes an expired key here (no active expiry cycle).
    expect(toJs(await c.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0'))).toBe('OK');
    await c.call('SET', 'gone', 'x', 'PX', '1');
    await new Promise((r) => setTimeout(r, 20));
    // "gone" expired: this SET's record is DEL + SET, encoded from argv, not copied from the request.
    c.writeRaw(raw('SET', 'gone', v) + raw('SET', 'plain', w));
    expect(toJs((await c.read()).reply)).toBe('OK');
    expect(toJs((await c.read()).reply)).toBe('OK');
    const dir = path.join(s.dir, 'appendonlydir');
    const incr = fs.readdirSync(dir).filter((f) => f.includes('.incr.'));
    const text = incr.map((f) => fs.readFileSync(path.join(dir, f)).latin1Slice()).join('');
    expect(text).toContain(raw('DEL', 'gone'));
    expect(text).toContain(raw('SET', 'gone', v));
    expect(text).toContain(raw('SET', 'plain', w));
    expect(toJs(await c.call('DEBUG', 'LOADAOF'))).toBe('OK');
    expect(toJs(await c.call('GET', 'gone'))).toBe(v);
    expect(toJs(await c.call('GET', 'plain'))).toBe(w);
  });

  it('a replica stores the values its primary was sent', async () => {
    const [primary, p] = await server();
    const [, r] = await server({ replicaof: `127.0.0.1 ${primary.port}` });
    await waitInSync(p, r);
    const values = Array.from({ length: 200 }, (_, i) => bytes(33 + (i % 96), i));
    p.writeRaw(values.map((v, i) => raw('SET', `r:${i}`, v)).join(''));
    for (let i = 0; i < values.length; i++) await p.read();
    await waitInSync(p, r);
    const got = toJs(await r.call('MGET', ...values.map((_, i) => `r:${i}`)));
    expect(got).toEqual(values);
  });
});
