/**
 * Bitmaps against redis-server: fast-check sequences of SETBIT, GETBIT,
 * BITCOUNT, BITPOS, BITFIELD, BITFIELD_RO and BITOP over a few keys (the
 * replies and every key's bytes must be equal after each run), the error
 * texts, DUMP/RESTORE both ways, and the command log: an AOF of bitmap
 * writes replays into the same bytes in Vireo and in redis-server 7.0.
 * Redis 8.2's BITOP DIFF, DIFF1, ANDOR and ONE (the 7.0 reference refuses
 * them) are checked against a byte-wise model of their definitions.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { DiffPair } from './helpers/differential.js';
import { RespClient, toJs } from './helpers/resp.js';
import { HAVE_REDIS, startRedis, startVireo, tempDir } from './helpers/servers.js';
import { useCleanups, js } from './helpers/cleanups.js';

const RUNS = Number(process.env.VIREO_BITMAP_RUNS ?? 60);
const KEYS = ['b0', 'b1', 'b2', 'n'];

// ---- arbitraries ---------------------------------------------------------------------

const key = fc.constantFrom(...KEYS);
/** Offsets mostly inside a few bytes, sometimes far enough to grow the string past a word scan. */
const bitOffset = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 0, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 3000 }) }).map(String);
const index = fc.oneof(fc.integer({ min: -50, max: 50 }), fc.integer({ min: -3000, max: 3000 })).map(String);
const unit = fc.constantFrom<string[]>([], ['BYTE'], ['BIT'], ['bit']);
const fieldType = fc.oneof(
  fc.tuple(fc.constantFrom('i', 'u'), fc.integer({ min: 1, max: 16 })).map(([s, n]) => `${s}${n}`),
  fc.constantFrom('i32', 'u31', 'u32', 'i48', 'u48', 'i49', 'u53', 'i63', 'u63', 'i64'),
);
const fieldOffset = fc.oneof(fc.integer({ min: 0, max: 100 }).map(String), fc.integer({ min: 0, max: 12 }).map((n) => `#${n}`));
const fieldValue = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: -300, max: 300 }).map(String) },
  { weight: 2, arbitrary: fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('9223372036854775807', '-9223372036854775808', '-9223372036854775700', '4294967295', '-1', '0') },
);
const fieldOp = fc.oneof(
  fc.tuple(fieldType, fieldOffset).map(([t, o]) => ['GET', t, o]),
  fc.tuple(fieldType, fieldOffset, fieldValue).map(([t, o, v]) => ['SET', t, o, v]),
  fc.tuple(fieldType, fieldOffset, fieldValue).map(([t, o, v]) => ['INCRBY', t, o, v]),
  fc.constantFrom('WRAP', 'SAT', 'FAIL', 'sat').map((p) => ['OVERFLOW', p]),
);
const initial = fc.oneof(
  fc.constantFrom('123', '-7', '0', '9223372036854775807', '', 'foobar', '\xff\xff\xff', '\x00\x00'),
  fc.uint8Array({ maxLength: 80 }).map((a) => Buffer.from(a).latin1Slice()),
);

const bitmapCommand: fc.Arbitrary<string[]> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(key, bitOffset, fc.constantFrom('0', '1', '1')).map(([k, o, b]) => ['SETBIT', k, o, b]) },
  { weight: 3, arbitrary: fc.tuple(key, bitOffset).map(([k, o]) => ['GETBIT', k, o]) },
  { weight: 1, arbitrary: key.map((k) => ['BITCOUNT', k]) },
  { weight: 3, arbitrary: fc.tuple(key, index, index, unit).map(([k, s, e, u]) => ['BITCOUNT', k, s, e, ...u]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.constantFrom('0', '1')).map(([k, b]) => ['BITPOS', k, b]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.constantFrom('0', '1'), index).map(([k, b, s]) => ['BITPOS', k, b, s]) },
  { weight: 3, arbitrary: fc.tuple(key, fc.constantFrom('0', '1'), index, index, unit).map(([k, b, s, e, u]) => ['BITPOS', k, b, s, e, ...u]) },
  { weight: 4, arbitrary: fc.tuple(key, fc.array(fieldOp, { minLength: 1, maxLength: 4 })).map(([k, ops]) => ['BITFIELD', k, ...ops.flat()]) },
  { weight: 1, arbitrary: fc.tuple(key, fc.array(fieldOp.filter((o) => o[0] === 'GET'), { minLength: 1, maxLength: 3 })).map(([k, ops]) => ['BITFIELD_RO', k, ...ops.flat()]) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('AND', 'OR', 'XOR', 'and'), key, fc.array(key, { minLength: 1, maxLength: 3 })).map(([op, d, src]) => ['BITOP', op, d, ...src]) },
  { weight: 1, arbitrary: fc.tuple(key, key).map(([d, s]) => ['BITOP', 'NOT', d, s]) },
  { weight: 1, arbitrary: fc.tuple(key, initial).map(([k, v]) => ['SET', k, v]) },
  { weight: 1, arbitrary: fc.tuple(key, initial).map(([k, v]) => ['APPEND', k, v]) },
  { weight: 1, arbitrary: key.map((k) => ['DEL', k]) },
);

/** GET of every key on one server. */
async function values(c: RespClient): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const k of KEYS) out.push(toJs(await c.call('GET', k)));
  return out;
}

describe.skipIf(!HAVE_REDIS)('bitmaps (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });
  beforeEach(async () => {
    await pair.check('FLUSHALL');
  });

  it(`random SETBIT/GETBIT/BITCOUNT/BITPOS/BITFIELD/BITOP sequences: same replies, same bytes (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(bitmapCommand, { minLength: 1, maxLength: 40 }), async (cmds) => {
        await pair.check('FLUSHALL');
        await pair.check('SET', 'n', '12345');
        for (const cmd of cmds) await pair.check(...cmd);
        expect(await values(pair.vireo)).toEqual(await values(pair.redis));
      }),
      { numRuns: RUNS },
    );
  }, 300_000);

  it('reads work on every string form: integer-encoded, embstr, raw, grown', async () => {
    await pair.script([
      ['SET', 'k', '123'],
      ['GETBIT', 'k', '1'],
      ['GETBIT', 'k', '2'],
      ['GETBIT', 'k', '23'],
      ['GETBIT', 'k', '24'],
      ['BITCOUNT', 'k'],
      ['BITCOUNT', 'k', '1', '1'],
      ['BITPOS', 'k', '1'],
      ['BITPOS', 'k', '0'],
      ['BITFIELD_RO', 'k', 'GET', 'u8', '0', 'GET', 'i16', '#1', 'GET', 'i64', '0'],
      ['OBJECT', 'ENCODING', 'k'],
      ['SETBIT', 'k', '2', '0'],
      ['OBJECT', 'ENCODING', 'k'],
      ['GET', 'k'],
      ['SET', 'e', 'foobar'],
      ['BITCOUNT', 'e'],
      ['BITCOUNT', 'e', '1', '1'],
      ['BITCOUNT', 'e', '5', '30', 'BIT'],
      ['BITCOUNT', 'e', '-1', '-2'],
      ['BITCOUNT', 'e', '-2', '-1', 'BIT'],
      // An empty negative range answers 0 before the unit is read; any other range checks it.
      ['BITCOUNT', 'e', '-1', '-5', 'junk'],
      ['BITCOUNT', 'e', '-5', '-1', 'junk'],
      ['BITCOUNT', 'e', '1', '0', 'junk'],
      ['BITCOUNT', 'nokey', '0', '1', 'junk'],
      ['BITPOS', 'e', '0', '1', '-1'],
      ['BITPOS', 'e', '1', '7', '15', 'BIT'],
      // The int64 edges (doubles round there: the comparisons must stay exact).
      ['BITCOUNT', 'e', '-9223372036854775808', '9223372036854775807'],
      ['BITCOUNT', 'e', '-9223372036854775808', '-9223372036854775807'],
      ['BITCOUNT', 'e', '-9223372036854775807', '-9223372036854775808'],
      ['BITCOUNT', 'e', '-9223372036854775808', '-9223372036854775808', 'BIT'],
      ['BITCOUNT', 'e', '9223372036854775807', '9223372036854775807', 'BIT'],
      ['BITCOUNT', 'e', '0', '9223372036854775808'],
      ['BITPOS', 'e', '1', '-9223372036854775808', '9223372036854775807', 'BIT'],
      ['BITPOS', 'e', '0', '-9223372036854775808'],
      ['BITPOS', 'e', '0', '9223372036854775807'],
      ['BITPOS', 'e', '0', '-1', '-9223372036854775808'],
      ['BITFIELD', 'e', 'GET', 'i64', '#0', 'GET', 'u63', '1', 'GET', 'i1', '47', 'GET', 'u1', '47', 'GET', 'i64', '48'],
      ['SET', 'big', 'x'.repeat(5000)],
      ['BITCOUNT', 'big'],
      ['BITCOUNT', 'big', '3', '-5'],
      ['BITPOS', 'big', '0'],
      ['SETBIT', 'big', '39999', '1'],
      ['BITCOUNT', 'big'],
      ['GETBIT', 'big', '39999'],
      ['OBJECT', 'ENCODING', 'big'],
    ]);
  });

  it('BITCOUNT and BITPOS over long strings (the word-at-a-time paths, unaligned edges)', async () => {
    const setup: string[][] = [['SETBIT', 'z', String(8 * 4000 + 3), '1'], ['SET', 'ones', '\xff'.repeat(3001)], ['SETBIT', 'ones', String(8 * 2999 + 5), '0']];
    await pair.script(setup);
    for (const [s, e] of [['0', '-1'], ['1', '3999'], ['3', '4000'], ['7', '-2'], ['4000', '4000']]) {
      await pair.script([
        ['BITCOUNT', 'z', s!, e!],
        ['BITCOUNT', 'ones', s!, e!],
        ['BITCOUNT', 'ones', s!, String(Number(e) * 8 + 13), 'BIT'],
        ['BITPOS', 'z', '1', s!, e!],
        ['BITPOS', 'z', '0', s!, e!],
        ['BITPOS', 'ones', '0', s!],
        ['BITPOS', 'ones', '0', s!, e!],
        ['BITPOS', 'ones', '1', s!, e!, 'BIT'],
        ['BITPOS', 'z', '1', s!, String(8 * 4000 + 2), 'BIT'],
      ]);
    }
    await pair.script([['BITPOS', 'ones', '0'], ['BITPOS', 'z', '1'], ['SET', 'ff', '\xff'.repeat(700)], ['BITPOS', 'ff', '0'], ['BITPOS', 'ff', '0', '0', '-1'], ['BITPOS', 'ff', '1', '100']]);
    // Past 64 kB: whole chunks are skipped by memcmp, the chunk with the bit is scanned.
    await pair.script([
      ['SETBIT', 'zz', String(8 * 150000 + 3), '1'],
      ['SETBIT', 'zz', String(8 * 199999 + 7), '1'],
      ['BITPOS', 'zz', '1'],
      ['BITPOS', 'zz', '1', '65535'],
      ['BITPOS', 'zz', '1', '150001'],
      ['BITPOS', 'zz', '1', '0', '149999'],
      ['BITPOS', 'zz', '1', String(8 * 150000 + 4), '-1', 'BIT'],
      ['BITCOUNT', 'zz'],
      ['BITCOUNT', 'zz', '65536', '-1'],
      ['SET', 'ffff', '\xff'.repeat(200000)],
      ['SETBIT', 'ffff', String(8 * 131072 + 1), '0'],
      ['BITPOS', 'ffff', '0'],
      ['BITPOS', 'ffff', '0', '131073'],
      ['BITPOS', 'ffff', '0', '131073', '-1'],
      ['BITCOUNT', 'ffff', '1', '-2'],
    ]);
  });

  it('errors: offsets, bit values, types, overflow policies, arity, syntax, wrong type', async () => {
    await pair.script([
      ['SETBIT', 'k', '-1', '1'],
      ['SETBIT', 'k', '4294967296', '1'],
      ['SETBIT', 'k', '99999999999999999999', '1'],
      ['SETBIT', 'k', 'x', '1'],
      ['SETBIT', 'k', '1', '2'],
      ['SETBIT', 'k', '1', '-1'],
      ['SETBIT', 'k', '1', 'x'],
      ['SETBIT', 'k', '-1', 'x'],
      ['GETBIT', 'k', '4294967296'],
      ['GETBIT', 'k', '4294967295'],
      ['GETBIT', 'k', '#1'],
      ['SETBIT', 'k'],
      ['BITCOUNT', 'k', '0'],
      ['BITCOUNT', 'k', 'a', 'b'],
      ['BITPOS', 'k', '0', 'a', 'b', 'c'],
      ['SET', 'k', 'x'],
      ['BITCOUNT', 'k', '0'],
      ['BITCOUNT', 'k', '0', '1', 'BITS'],
      ['BITCOUNT', 'k', '0', '1', 'BIT', 'x'],
      ['BITCOUNT', 'k', 'a', '1'],
      ['BITPOS', 'k', '2'],
      ['BITPOS', 'k', 'x'],
      ['BITPOS', 'k', '1', 'a'],
      ['BITPOS', 'k', '1', '0', '1', 'BYTES'],
      ['BITPOS', 'k', '1', '0', '1', 'BIT', 'x'],
      ['BITFIELD', 'k', 'GET', 'u64', '0'],
      ['BITFIELD', 'k', 'GET', 'i65', '0'],
      ['BITFIELD', 'k', 'GET', 'i0', '0'],
      ['BITFIELD', 'k', 'GET', 'x8', '0'],
      ['BITFIELD', 'k', 'GET', 'u08', '0'],
      ['BITFIELD', 'k', 'GET', 'u8', '-1'],
      ['BITFIELD', 'k', 'GET', 'u8', '#-1'],
      ['BITFIELD', 'k', 'GET', 'u8', '#'],
      ['BITFIELD', 'k', 'GET', 'u8', '4294967296'],
      ['BITFIELD', 'k', 'GET', 'u8', '#536870912'],
      ['BITFIELD', 'k', 'GET', 'u8', '#536870911'],
      ['BITFIELD', 'k', 'GET', 'i64', '#1152921504606846976'],
      ['BITFIELD', 'k', 'GET', 'u8', '#9223372036854775807'],
      ['BITFIELD', 'k', 'SET', 'u8', '0', 'x'],
      ['BITFIELD', 'k', 'SET', 'u8', '0', '9223372036854775808'],
      ['BITFIELD', 'k', 'OVERFLOW', 'FOO', 'SET', 'u8', '0', '1'],
      ['BITFIELD', 'k', 'OVERFLOW', 'constructor', 'SET', 'u8', '0', '1'],
      ['BITFIELD', 'k', 'OVERFLOW', '__proto__', 'SET', 'u8', '0', '1'],
      ['BITFIELD', 'k', 'OVERFLOW'],
      ['BITFIELD', 'k', 'GET', 'u8'],
      ['BITFIELD', 'k', 'SET', 'u8', '0'],
      ['BITFIELD', 'k', 'FOO', 'u8', '0'],
      ['BITFIELD', 'k', 'GET', 'u8', '0', 'SET', 'u64', '0', '1'],
      ['BITFIELD_RO', 'k', 'GET', 'u8', '0', 'SET', 'u8', '0', '1'],
      ['BITFIELD_RO', 'k', 'INCRBY', 'u8', '0', 'x'],
      ['BITFIELD_RO', 'k', 'OVERFLOW', 'SAT'],
      ['BITFIELD', 'k'],
      ['EXISTS', 'k'],
      ['BITOP', 'FOO', 'd', 'a'],
      ['BITOP', 'NOT', 'd', 'a', 'b'],
      ['BITOP', 'AND', 'd'],
      ['LPUSH', 'l', 'x'],
      ['SETBIT', 'l', '0', '1'],
      ['GETBIT', 'l', '0'],
      ['BITCOUNT', 'l'],
      ['BITPOS', 'l', '1'],
      ['BITFIELD', 'l', 'GET', 'u8', '0'],
      ['BITFIELD', 'l', 'SET', 'u8', '0', '1'],
      ['BITFIELD_RO', 'l', 'GET', 'u8', '0'],
      ['BITFIELD', 'l'],
      ['BITOP', 'AND', 'd', 'a', 'l'],
      ['BITOP', 'OR', 'l', 'a'],
      ['TYPE', 'l'],
      ['SET', 'a', 'x'],
      ['BITOP', 'OR', 'l', 'a'],
      ['TYPE', 'l'],
      ['GET', 'l'],
    ]);
  });

  it('proto-max-bulk-len bounds the offsets: its last bit is writable, the next one is refused', async () => {
    const limit = 1024 * 1024;
    await pair.script([
      ['CONFIG', 'SET', 'proto-max-bulk-len', String(limit)],
      ['SETBIT', 'p', String(8 * limit), '1'],
      ['GETBIT', 'p', String(8 * limit)],
      ['BITFIELD', 'p', 'GET', 'u8', `#${limit}`],
      ['BITFIELD', 'p', 'SET', 'u8', `#${limit}`, '1'],
      ['EXISTS', 'p'],
      ['SETBIT', 'p', String(8 * limit - 1), '1'],
      ['STRLEN', 'p'],
      // A field may end past the limit when it starts before it (Redis checks the offset only).
      ['BITFIELD', 'p', 'SET', 'i64', String(8 * limit - 1), '-1'],
      ['STRLEN', 'p'],
      ['BITCOUNT', 'p'],
      ['BITPOS', 'p', '1'],
      ['CONFIG', 'SET', 'proto-max-bulk-len', String(512 * limit)],
      ['DEL', 'p'],
    ]);
  });

  it('BITFIELD overflow at the edges of every width: WRAP, SAT, FAIL, signed and unsigned', async () => {
    const cmds: string[][] = [];
    for (const t of ['u1', 'i1', 'u7', 'i8', 'u32', 'i32', 'u48', 'i48', 'u63', 'i63', 'i64']) {
      for (const policy of ['WRAP', 'SAT', 'FAIL']) {
        for (const v of ['1', '-1', '127', '-129', '9223372036854775807', '-9223372036854775808', '-9223372036854775800', '4611686018427387904']) {
          cmds.push(['BITFIELD', 'f', 'OVERFLOW', policy, 'SET', t, '3', v, 'GET', t, '3', 'INCRBY', t, '3', v, 'INCRBY', t, '3', v]);
        }
      }
    }
    await pair.script([...cmds, ['GET', 'f']]);
  });

  it('BITFIELD with FAIL creates and grows the string as Redis does, with nothing written', async () => {
    await pair.script([
      ['BITFIELD', 'g', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', '100', '5'],
      ['GET', 'g'],
      ['BITFIELD', 'g', 'OVERFLOW', 'FAIL', 'SET', 'i4', '#60', '8'],
      ['GET', 'g'],
      ['SETBIT', 'g', '0', '0'],
      ['STRLEN', 'g'],
    ]);
  });

  it('BITOP: lengths, missing and integer-encoded sources, the destination replaced (TTL cleared) or deleted', async () => {
    await pair.script([
      ['SET', 'a', 'foobar'],
      ['SET', 'b', 'abcdef0123'],
      ['SET', 'n', '1234567'],
      ['SET', 'd', 'old', 'EX', '1000'],
      ['BITOP', 'AND', 'd', 'a', 'b'],
      ['GET', 'd'],
      ['TTL', 'd'],
      ['OBJECT', 'ENCODING', 'd'],
      ['BITOP', 'OR', 'd', 'a', 'b', 'n', 'missing'],
      ['GET', 'd'],
      ['BITOP', 'XOR', 'd', 'a', 'b', 'n'],
      ['GET', 'd'],
      ['BITOP', 'NOT', 'd', 'n'],
      ['GET', 'd'],
      ['BITOP', 'NOT', 'd', 'missing'],
      ['EXISTS', 'd'],
      ['SET', 'e', ''],
      ['BITOP', 'AND', 'd', 'e', 'missing'],
      ['BITOP', 'AND', 'a', 'a', 'missing'],
      ['GET', 'a'],
      ['SET', 'x', '\x31\x32'],
      ['BITOP', 'AND', 'y', 'x', 'x'],
      ['OBJECT', 'ENCODING', 'y'],
      ['SET', 'big1', 'q'.repeat(1000)],
      ['SET', 'big2', 'Z'.repeat(777)],
      ['BITOP', 'XOR', 'r', 'big1', 'big2', 'b'],
      ['GET', 'r'],
      ['BITOP', 'AND', 'r', 'big1', 'big2'],
      ['GET', 'r'],
    ]);
  });

  it('COMMAND INFO and GETKEYS for every bitmap command equal the reference', async () => {
    // (BITFIELD's key spec carries a note in Redis; Vireo's table has no key-spec notes for any command.)
    for (const name of ['setbit', 'getbit', 'bitcount', 'bitpos', 'bitop', 'bitfield_ro']) await pair.check('COMMAND', 'INFO', name);
    await pair.check('COMMAND', 'GETKEYS', 'BITOP', 'AND', 'd', 'a', 'b');
    await pair.check('COMMAND', 'GETKEYS', 'BITFIELD', 'k', 'GET', 'u8', '0');
    for (const args of [['GET', 'u8', '0'], ['OVERFLOW', 'SAT', 'GET', 'u8', '0'], ['GET', 'u8', '0', 'SET', 'u8', '0', '1'], ['INCRBY', 'u8', '0', '1'], ['GET', 'u8'], ['FOO'], []]) {
      await pair.check('COMMAND', 'GETKEYSANDFLAGS', 'BITFIELD', 'k', ...args);
      await pair.check('COMMAND', 'GETKEYSANDFLAGS', 'BITFIELD_RO', 'k', ...args);
    }
    await pair.check('COMMAND', 'GETKEYSANDFLAGS', 'BITOP', 'AND', 'd', 'a', 'b');
    await pair.check('COMMAND', 'GETKEYSANDFLAGS', 'SETBIT', 'k', '1', '1');
  });

  for (const [from, to] of [
    ['redis', 'vireo'],
    ['vireo', 'redis'],
  ] as const) {
    it(`DUMP of a bitmap in ${from}, RESTORE in ${to}: the same bytes, and BITFIELD on it answers alike`, async () => {
      const script: string[][] = [
        ['SETBIT', 's', '5000', '1'],
        ['SETBIT', 's', '7', '1'],
        ['BITFIELD', 's', 'SET', 'i16', '#3', '-1234', 'INCRBY', 'u5', '100', '7'],
        ['SET', 'i', '77'],
        ['SETBIT', 'i', '20', '1'],
      ];
      await pair.script(script);
      // The payload is restored into both servers, so the checks below compare the two copies.
      for (const k of ['s', 'i']) {
        const payload = (await js(pair[from], 'DUMP', k)) as string;
        expect(await js(pair[to], 'RESTORE', `r:${k}`, '0', payload)).toBe('OK');
        expect(await js(pair[from], 'RESTORE', `r:${k}`, '0', payload)).toBe('OK');
      }
      await pair.script([
        ['GET', 'r:s'],
        ['GET', 'r:i'],
        ['OBJECT', 'ENCODING', 'r:i'],
        ['BITCOUNT', 'r:s'],
        ['BITFIELD', 'r:s', 'GET', 'i16', '#3', 'INCRBY', 'u5', '100', '1'],
      ]);
    });
  }
});

// ---- Redis 8.2's BITOP operations (the 7.0 reference refuses them) ---------------------

/** The definition, a byte at a time: X is the first source, Y the others (zero-padded). */
function modelBitop(op: string, sources: Buffer[]): Buffer {
  const len = Math.max(0, ...sources.map((s) => s.length));
  const at = (s: Buffer, j: number): number => (j < s.length ? s[j]! : 0);
  const out = Buffer.alloc(len);
  for (let j = 0; j < len; j++) {
    const x = at(sources[0]!, j);
    const others = sources.slice(1).reduce((acc, s) => acc | at(s, j), 0);
    let count1 = 0;
    let counted = 0;
    for (const s of sources) {
      counted |= count1 & at(s, j);
      count1 |= at(s, j);
    }
    out[j] = op === 'DIFF' ? x & ~others : op === 'DIFF1' ? ~x & others : op === 'ANDOR' ? x & others : count1 & ~counted;
  }
  return out;
}

describe('BITOP DIFF, DIFF1, ANDOR, ONE (Redis 8.2)', () => {
  const { track, client } = useCleanups();

  it('answer their definitions over random strings of different lengths, and log replayable effects', async () => {
    const v = track(await startVireo({ appendonly: 'yes', appendfsync: 'always', save: '' }));
    const c = await client(v.port);
    const bytes = fc.uint8Array({ maxLength: 70 }).map((a) => Buffer.from(a));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('DIFF', 'DIFF1', 'ANDOR', 'ONE', 'one'), fc.array(fc.option(bytes), { minLength: 1, maxLength: 5 }), async (op, srcs) => {
        await c.call('FLUSHALL');
        const names: string[] = [];
        const present: Buffer[] = [];
        for (const [i, s] of srcs.entries()) {
          names.push(`s${i}`);
          if (s !== null) await c.call('SET', `s${i}`, s.latin1Slice());
          present.push(s ?? Buffer.alloc(0));
        }
        await c.call('SET', 'dst', 'old', 'EX', '1000');
        const reply = toJs(await c.call('BITOP', op, 'dst', ...names));
        if (op !== 'ONE' && op !== 'one' && names.length < 2) {
          expect(reply).toEqual(new Error(`ERR BITOP ${op} must be called with at least two source keys.`));
          return;
        }
        const want = modelBitop(op.toUpperCase(), present);
        expect(reply).toBe(String(want.length));
        if (want.length === 0) expect(toJs(await c.call('EXISTS', 'dst'))).toBe('0');
        else {
          expect(toJs(await c.call('GET', 'dst'))).toBe(want.latin1Slice());
          expect(toJs(await c.call('TTL', 'dst'))).toBe('-1');
          expect(toJs(await c.call('OBJECT', 'ENCODING', 'dst'))).toBe('raw');
        }
        const before = toJs(await c.call('DEBUG', 'DIGEST'));
        expect(toJs(await c.call('DEBUG', 'LOADAOF'))).toBe('OK');
        expect(toJs(await c.call('DEBUG', 'DIGEST'))).toBe(before);
      }),
      { numRuns: 40 },
    );
    // Every write waits for its fsync (appendfsync always): about 25 s on the shared VM's disk.
  }, 90_000);

  it('keyspace events: BITOP set / del; SETBIT and BITFIELD setbit, only when something changed (Redis names both setbit)', async () => {
    const v = track(await startVireo({ 'notify-keyspace-events': 'KEA' }));
    const c = await client(v.port);
    const sub = await client(v.port);
    await sub.call('PSUBSCRIBE', '__keyevent@0__:*');
    await sub.call('PSUBSCRIBE', 'end');
    const steps: string[][] = [
      ['SET', 'a', 'x'],
      ['SET', 'dst', 'y'],
      ['BITOP', 'ONE', 'dst', 'a', 'missing'],
      ['BITOP', 'DIFF', 'dst', 'missing', 'missing2'],
      ['SETBIT', 'b', '3', '1'],
      ['SETBIT', 'b', '3', '1'],
      ['SETBIT', 'b', '4', '0'],
      ['BITFIELD', 'b', 'SET', 'u4', '0', '2'],
      ['BITFIELD', 'b', 'SET', 'u4', '0', '2', 'GET', 'u8', '0'],
      ['BITFIELD', 'b', 'GET', 'u8', '0'],
      // FAIL refuses the write but the string grows: signalled here (Redis 7.2 forgets to; redis#15699).
      ['BITFIELD', 'b', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', '100', '9'],
      ['PUBLISH', 'end', 'x'],
    ];
    for (const step of steps) await c.call(...step);
    const events: string[] = [];
    for (;;) {
      const m = toJs((await sub.read()).reply) as string[];
      if (m[2] === 'end') break;
      events.push(`${String(m[2]).slice('__keyevent@0__:'.length)}:${m[3]}`);
    }
    expect(events).toEqual(['set:a', 'set:dst', 'set:dst', 'del:dst', 'setbit:b', 'setbit:b', 'setbit:b']);
  });

  it('a BITFIELD whose FAIL refuses every write but grows the string breaks a WATCH', async () => {
    const v = track(await startVireo());
    const c = await client(v.port);
    const other = await client(v.port);
    await c.call('WATCH', 'w');
    expect(toJs(await other.call('BITFIELD', 'w', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', '0', '9'))).toEqual([null]);
    await c.call('MULTI');
    await c.call('SET', 'w', '1');
    expect(toJs(await c.call('EXEC'))).toBeNull();
    expect(toJs(await c.call('GET', 'w'))).toBe('\x00');
  });
});

// ---- the command log -----------------------------------------------------------------------

describe('bitmap writes in the AOF', () => {
  const { track, client } = useCleanups();
  const writes: string[][] = [
    ['SET', 'n', '123'],
    ['SETBIT', 'n', '3', '1'],
    ['SETBIT', 'n', '4', '1'],
    ['SETBIT', 'b', '100', '1'],
    ['SETBIT', 'b', '100', '1'],
    ['SETBIT', 'b', '3000', '0'],
    ['BITFIELD', 'f', 'SET', 'i8', '#2', '-100', 'INCRBY', 'u4', '0', '9', 'GET', 'u8', '0'],
    ['BITFIELD', 'f', 'OVERFLOW', 'SAT', 'INCRBY', 'i8', '#2', '-100', 'OVERFLOW', 'WRAP', 'INCRBY', 'u4', '0', '9'],
    ['BITFIELD', 'f', 'OVERFLOW', 'FAIL', 'INCRBY', 'u4', '0', '100', 'SET', 'u8', '#40', '1000'],
    ['BITFIELD', 'g', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', '300', '5'],
    ['BITFIELD', 'f', 'GET', 'i64', '0'],
    ['BITFIELD', 'f', 'SET', 'i64', '7', '-9223372036854775808', 'INCRBY', 'i64', '7', '-1'],
    ['BITOP', 'XOR', 'x', 'n', 'b', 'f'],
    ['BITOP', 'NOT', 'y', 'x'],
    ['BITOP', 'AND', 'z', 'missing'],
  ];

  it('replays into the same bytes: a restarted Vireo, and redis-server 7.0 on the same directory', async () => {
    const dir = tempDir('vireo-bitmaps-aof-');
    const v = await startVireo({ dir, appendonly: 'yes', appendfsync: 'always', save: '' });
    let want: unknown[];
    let logged: string;
    try {
      const c = await RespClient.connect(v.port);
      for (const w of writes) expect(toJs(await c.call(...w))).not.toBeInstanceOf(Error);
      want = [];
      for (const k of ['n', 'b', 'f', 'g', 'x', 'y', 'z']) want.push(toJs(await c.call('GET', k)));
      c.close();
    } finally {
      await v.stop();
    }
    const aofDir = path.join(dir, 'appendonlydir');
    logged = fs.readdirSync(aofDir).filter((f) => f.includes('.incr.')).map((f) => fs.readFileSync(path.join(aofDir, f), 'latin1')).join('');
    // Only what changed data: the no-op SETBIT, the GET-only BITFIELD and the refused INCRBY are not there.
    expect(logged.match(/SETBIT/g)?.length).toBe(3);
    expect(logged).not.toContain('GET');
    expect(logged).not.toContain('FAIL');

    const again = track(await startVireo({ dir, appendonly: 'yes', save: '' }));
    const c2 = await client(again.port);
    const got: unknown[] = [];
    for (const k of ['n', 'b', 'f', 'g', 'x', 'y', 'z']) got.push(toJs(await c2.call('GET', k)));
    expect(got).toEqual(want);

    if (!HAVE_REDIS) return;
    const copy = tempDir('vireo-bitmaps-redis-');
    fs.cpSync(aofDir, path.join(copy, 'appendonlydir'), { recursive: true });
    const ref = track(await startRedis({ dir: copy, appendonly: 'yes' }));
    const c3 = await client(ref.port);
    const fromRedis: unknown[] = [];
    for (const k of ['n', 'b', 'f', 'g', 'x', 'y', 'z']) fromRedis.push(toJs(await c3.call('GET', k)));
    expect(fromRedis).toEqual(want);
  });
});

