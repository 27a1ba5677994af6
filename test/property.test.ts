// Random command sequences (fast-check) over strings, keys, expiry and
// transactions, sent to redis-server and to Vireo: every reply must match,
// and so must the final dataset.
import { afterAll, beforeAll, describe, it } from 'vitest';
import fc from 'fast-check';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import { toJs } from './helpers/resp.js';

const key = fc.constantFrom('k0', 'k1', 'k2', 'k3', 'n0', 'n1');
const value = fc.oneof(
  fc.constantFrom('', 'v', 'hello', '0', '1', '-1', '10', '007', '3.5', '-2.25', '9223372036854775807', '-9223372036854775808', '1e3', ' 1', 'x'.repeat(50)),
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.uint8Array({ maxLength: 6 }).map((a) => Buffer.from(a).latin1Slice()),
);
const smallInt = fc.integer({ min: -20, max: 20 }).map(String);
const bigTtl = fc.integer({ min: 1000, max: 100000 }).map(String);

const simple: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(key, value).map(([k, v]) => ['SET', k, v]),
  fc.tuple(key, value, fc.constantFrom('NX', 'XX', 'GET', 'KEEPTTL')).map(([k, v, o]) => ['SET', k, v, o]),
  fc.tuple(key, value, bigTtl).map(([k, v, t]) => ['SET', k, v, 'EX', t]),
  fc.tuple(key, value).map(([k, v]) => ['SETNX', k, v]),
  key.map((k) => ['GET', k]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ['DEL', ...ks]),
  fc.array(key, { minLength: 1, maxLength: 3 }).map((ks) => ['EXISTS', ...ks]),
  key.map((k) => ['INCR', k]),
  key.map((k) => ['DECR', k]),
  fc.tuple(key, smallInt).map(([k, n]) => ['INCRBY', k, n]),
  fc.tuple(key, smallInt).map(([k, n]) => ['DECRBY', k, n]),
  fc.tuple(key, fc.constantFrom('0.1', '-1.5', '3', '1e2', '0.00001')).map(([k, n]) => ['INCRBYFLOAT', k, n]),
  fc.tuple(key, value).map(([k, v]) => ['APPEND', k, v]),
  key.map((k) => ['STRLEN', k]),
  fc.tuple(key, smallInt, smallInt).map(([k, a, b]) => ['GETRANGE', k, a, b]),
  fc.tuple(key, fc.integer({ min: 0, max: 12 }).map(String), value).map(([k, o, v]) => ['SETRANGE', k, o, v]),
  fc.tuple(key, value, key, value).map(([a, x, b, y]) => ['MSET', a, x, b, y]),
  fc.tuple(key, value, key, value).map(([a, x, b, y]) => ['MSETNX', a, x, b, y]),
  fc.array(key, { minLength: 1, maxLength: 4 }).map((ks) => ['MGET', ...ks]),
  fc.tuple(key, value).map(([k, v]) => ['GETSET', k, v]),
  key.map((k) => ['GETDEL', k]),
  fc.tuple(key, fc.constantFrom(['PERSIST'], ['EX', '5000'], [])).map(([k, o]) => ['GETEX', k, ...o]),
  fc.tuple(key, bigTtl, fc.constantFrom([], ['NX'], ['XX'], ['GT'], ['LT'])).map(([k, t, o]) => ['EXPIRE', k, t, ...o]),
  key.map((k) => ['PERSIST', k]),
  key.map((k) => ['TTL', k]),
  key.map((k) => ['TYPE', k]),
  key.map((k) => ['OBJECT', 'ENCODING', k]),
  fc.tuple(key, key).map(([a, b]) => ['RENAME', a, b]),
  fc.tuple(key, key).map(([a, b]) => ['RENAMENX', a, b]),
  fc.tuple(key, key, fc.constantFrom([], ['REPLACE'], ['DB', '1'])).map(([a, b, o]) => ['COPY', a, b, ...o]),
  fc.tuple(key, fc.constantFrom('0', '1')).map(([k, d]) => ['MOVE', k, d]),
  fc.constantFrom(['SELECT', '0'], ['SELECT', '1'], ['DBSIZE'], ['KEYS', '*'], ['SWAPDB', '0', '1'], ['KEYS', 'k*']),
  fc.tuple(key, key).map(([a, b]) => ['LCS', a, b]),
);

// Inside MULTI, KEYS would come back nested in EXEC's reply, where its
// hash-order listing cannot be normalized.
const queued = simple.filter((c) => c[0] !== 'KEYS');

const step: fc.Arbitrary<string[][]> = fc.oneof(
  { weight: 8, arbitrary: simple.map((c) => [c]) },
  { weight: 1, arbitrary: fc.array(queued, { maxLength: 4 }).map((cs) => [['MULTI'], ...cs, ['EXEC']]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.array(simple, { maxLength: 3 })).map(([k, cs]) => [['WATCH', k], ...cs, ['MULTI'], ['INCR', k], ['EXEC']]) },
);

describe.skipIf(!HAVE_REDIS)('random sequences (differential, fast-check)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('strings, keys, expiry and transactions behave like Redis', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40 }), async (steps) => {
        await pair.check('FLUSHALL');
        await pair.check('SELECT', '0');
        for (const s of steps) for (const cmd of s) await pair.check(...cmd);
        await pair.check('DISCARD');
        for (const db of ['0', '1']) {
          await pair.check('SELECT', db);
          const keys = (toJs(await pair.check('KEYS', '*')) as string[]).sort();
          for (const k of keys) {
            await pair.check('GET', k);
            await pair.check('OBJECT', 'ENCODING', k);
            await pair.check('TTL', k);
          }
        }
      }),
      { numRuns: Number(process.env.VIREO_FC_RUNS ?? 60) },
    );
  });
});
