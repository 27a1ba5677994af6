/**
 * Pipelines over a keyspace big enough that the server reads keys ahead
 * (prefetch-batch-max-size, 4096+ keys in the string store): the hash and
 * slot computed from the query buffer for a window of commands seed the
 * lookups of the commands it covers. Differential against redis-server:
 * replies byte for byte, with what could put a window out of step with
 * the commands it parsed (empty multibulks, inline commands, SELECT and
 * SWAPDB inside it, a client woken in the middle of another's window).
 */

import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { DiffPair } from './helpers/differential.js';
import { encodeCommand } from './helpers/resp.js';
import { HAVE_REDIS } from './helpers/servers.js';

/** Keys the pipelines name: populated ones, hash-tagged and binary ones, and absent ones. */
const KEYS = ['key:1', 'key:42', 'key:4095', 'key:5999', '{t}:a', '{t}:b', 'caf\xe9:\xff', 'c:1', 'c:2', 'absent:1', 'absent:2'];

type Part = { bytes: string; replies: number };

const key = fc.constantFrom(...KEYS);
const part: fc.Arbitrary<Part> = fc.oneof(
  { weight: 5, arbitrary: key.map((k) => cmd('GET', k)) },
  { weight: 4, arbitrary: fc.tuple(key, fc.string({ maxLength: 12 })).map(([k, v]) => cmd('SET', k, v)) },
  { weight: 2, arbitrary: fc.constantFrom('c:1', 'c:2').map((k) => cmd('INCR', k)) },
  { weight: 2, arbitrary: fc.tuple(key, key).map(([a, b]) => cmd('MSET', a, 'm', b, 'n')) },
  { weight: 2, arbitrary: fc.tuple(key, key, key).map(([a, b, c]) => cmd('MGET', a, b, c)) },
  { weight: 1, arbitrary: key.map((k) => cmd('DEL', k)) },
  { weight: 1, arbitrary: fc.tuple(key, key).map(([a, b]) => cmd('EXISTS', a, b)) },
  { weight: 1, arbitrary: fc.constantFrom('0', '1').map((db) => cmd('SELECT', db)) },
  { weight: 1, arbitrary: fc.constant(cmd('SWAPDB', '0', '1')) },
  // Counted by the read-ahead as a command, skipped by the parser.
  { weight: 1, arbitrary: fc.constant({ bytes: '*0\r\n', replies: 0 }) },
  // Inline: the read-ahead stops there.
  { weight: 1, arbitrary: key.map((k) => ({ bytes: `EXISTS ${k.replace(/[{}\xe9\xff]/g, 'x')}\r\n`, replies: 1 })) },
  { weight: 1, arbitrary: fc.constant(cmd('PING')) },
);

function cmd(...argv: string[]): Part {
  return { bytes: encodeCommand(argv).latin1Slice(), replies: 1 };
}

describe.skipIf(!HAVE_REDIS)('pipelines read ahead over a large keyspace (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
    for (const db of ['1', '0']) {
      await pair.check('SELECT', db);
      await pair.check('DEBUG', 'POPULATE', '6000', 'key', '8');
    }
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('every reply of random pipelines equals redis-server', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(part, { minLength: 8, maxLength: 80 }), async (parts) => {
        await pair.checkRaw(parts.map((p) => p.bytes).join(''), parts.reduce((n, p) => n + p.replies, 0));
      }),
      { numRuns: 150 },
    );
    // Whatever the pipelines did, both keyspaces hold the same.
    for (const db of ['0', '1']) {
      await pair.check('SELECT', db);
      await pair.check('DBSIZE');
      await pair.check('MGET', ...KEYS);
    }
  });

  it('a client woken in the middle of a pipeline runs its own pipeline, and the first goes on', async () => {
    // CLIENT UNBLOCK resumes the waiter at once, in the middle of the
    // unblocking client's window (Redis runs it after that pipeline; the two
    // touch different keys, so the replies agree either way). The waiter's
    // pipeline is laid out so that its commands start at the same offsets
    // as the unblocking client's commands after CLIENT UNBLOCK: hashes of
    // the waiter's keys must not seed the other client's commands.
    await pair.check('SELECT', '0');
    const waiter = await pair.connect();
    try {
      const after = (base: number, n: number) => Array.from({ length: n }, (_, i) => [cmd('SET', `key:${base + i}`, `v${i}`), cmd('GET', `key:${base + i}`)]).flat();
      const both = { redis: { waiter: waiter.redis, pusher: pair.redis }, vireo: { waiter: waiter.vireo, pusher: pair.vireo } };
      const sent: Record<string, Part[]> = {};
      const waiting: Record<string, Part[]> = {};
      for (const [side, c] of Object.entries(both)) {
        const id = String((await c.waiter.call('CLIENT', 'ID')).value);
        const head = [cmd('GET', 'key:1'), cmd('GET', 'key:42'), cmd('CLIENT', 'UNBLOCK', id)];
        const offset = head.reduce((n, p) => n + p.bytes.length, 0);
        // Two commands before the waiter's keys, as the head has before its own (CLIENT UNBLOCK is the third).
        const first = cmd('GET', 'key:7');
        let pad = cmd('SET', 'padkey', '');
        for (let n = 0; first.bytes.length + pad.bytes.length !== offset; n++) pad = cmd('SET', 'padkey', 'x'.repeat(n));
        // One read-ahead window for the waiter's whole pipeline (the last window is what AHEAD holds when the other goes on).
        waiting[side] = [cmd('BLPOP', 'queue', '0'), first, pad, ...after(2000, 3)];
        sent[side] = [...head, ...after(1000, 10)];
        c.waiter.writeRaw(waiting[side]!.map((p) => p.bytes).join(''));
      }
      await new Promise((r) => setTimeout(r, 100));
      const replies = async (c: typeof waiter.redis, n: number) => {
        const out: string[] = [];
        for (let i = 0; i < n; i++) out.push((await c.read()).raw.latin1Slice());
        return out.join('');
      };
      const got: Record<string, [string, string]> = {};
      for (const [side, c] of Object.entries(both)) {
        c.pusher.writeRaw(sent[side]!.map((p) => p.bytes).join(''));
        got[side] = await Promise.all([replies(c.pusher, sent[side]!.length), replies(c.waiter, waiting[side]!.length)]);
      }
      if (got.redis![0] !== got.vireo![0]) throw new Error(`the unblocking client's replies differ\n  redis: ${JSON.stringify(got.redis![0])}\n  vireo: ${JSON.stringify(got.vireo![0])}`);
      if (got.redis![1] !== got.vireo![1]) throw new Error(`the woken client's replies differ\n  redis: ${JSON.stringify(got.redis![1])}\n  vireo: ${JSON.stringify(got.vireo![1])}`);
      const names = [...Array.from({ length: 10 }, (_, i) => `key:${1000 + i}`), ...Array.from({ length: 3 }, (_, i) => `key:${2000 + i}`)];
      await pair.check('MGET', ...names);
      await pair.check('DBSIZE');
    } finally {
      waiter.close();
    }
  });
});
