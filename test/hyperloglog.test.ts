// HyperLogLog against redis-server: PFADD/PFCOUNT/PFMERGE/PFDEBUG replies and
// the stored bytes (GET) are equal through the sparse and dense forms, with
// the cached cardinality PFCOUNT writes back; crafted and corrupted strings
// get Redis' exact errors and leave both servers alive; DUMP/RESTORE crosses
// both ways; the AOF replays to the same bytes (also in redis-server).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import fs from 'node:fs';
import path from 'node:path';
import { DiffPair } from './helpers/differential.js';
import { RespClient, toJs, type Reply } from './helpers/resp.js';
import { HAVE_REDIS, startRedis, startVireo, tempDir } from './helpers/servers.js';

const RUNS = Number(process.env.VIREO_HLL_RUNS ?? 25);
const KEYS = ['h0', 'h1', 'h2'];

/** Latin1 text of bytes (how the test clients send binary arguments). */
const latin1 = (bytes: number[]): string => Buffer.from(bytes).latin1Slice();

/** Elements: short text, integers, binary, and sometimes long values (the hash's 8-byte blocks and tails). */
const element: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer().map(String),
  fc.uint8Array({ maxLength: 24 }).map((b) => latin1([...b])),
  fc.string({ minLength: 40, maxLength: 200 }),
);

/** A batch of n elements named from a random prefix (big sets without a big shrinkable array). */
const generated = (min: number, max: number): fc.Arbitrary<string[]> =>
  fc.tuple(fc.string({ maxLength: 6 }), fc.integer({ min, max })).map(([prefix, n]) => Array.from({ length: n }, (_, i) => `${prefix}:${i}`));

/** The 16-byte header of an HLL: encoding, cached cardinality (stale unless `card` is given). */
function header(encoding: number, card: bigint | null = null): number[] {
  const h = [0x48, 0x59, 0x4c, 0x4c, encoding, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80];
  if (card !== null) for (let i = 0; i < 8; i++) h[8 + i] = Number((card >> BigInt(8 * i)) & 0xffn);
  return h;
}

const xzero = (len: number): number[] => [0x40 | ((len - 1) >> 8), (len - 1) & 0xff];
const zero = (len: number): number[] => [len - 1];
const val = (value: number, len: number): number[] => [0x80 | ((value - 1) << 2) | (len - 1)];

describe.skipIf(!HAVE_REDIS)('HyperLogLog (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });
  beforeEach(async () => {
    await pair.check('FLUSHALL');
    await pair.check('CONFIG', 'SET', 'hll-sparse-max-bytes', '3000');
  });

  /** GET, PFDEBUG ENCODING, PFCOUNT (which writes the cache), GET again: all equal. */
  async function checkKey(key: string): Promise<void> {
    await pair.check('GET', key);
    await pair.check('PFDEBUG', 'ENCODING', key);
    await pair.check('PFCOUNT', key);
    await pair.check('GET', key);
  }

  it('a new HLL, empty PFADD, PFCOUNT of a missing key', async () => {
    await pair.script([
      ['PFCOUNT', 'nokey'],
      ['PFADD', 'h'],
      ['PFADD', 'h'],
      ['GET', 'h'],
      ['PFCOUNT', 'h'],
      ['GET', 'h'],
      ['PFDEBUG', 'DECODE', 'h'],
      ['PFADD', 'h', 'a', 'b', 'c', 'a'],
      ['PFADD', 'h', 'a'],
      ['GET', 'h'],
      ['PFDEBUG', 'DECODE', 'h'],
      ['PFCOUNT', 'h'],
      ['PFCOUNT', 'h'],
      ['TYPE', 'h'],
      ['OBJECT', 'ENCODING', 'h'],
      ['STRLEN', 'h'],
    ]);
  });

  it('random PFADD sets: replies, PFCOUNT and the stored bytes equal through the sparse and dense forms', async () => {
    const batch = fc.oneof({ weight: 6, arbitrary: fc.array(element, { maxLength: 8 }) }, { weight: 2, arbitrary: generated(1, 400) }, { weight: 1, arbitrary: generated(400, 3000) });
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom(...KEYS), batch), { minLength: 1, maxLength: 8 }), async (steps) => {
        await pair.check('FLUSHALL');
        for (const [key, elements] of steps) {
          await pair.check('PFADD', key, ...elements);
          await checkKey(key);
        }
        await pair.check('PFCOUNT', ...KEYS);
      }),
      { numRuns: RUNS },
    );
  });

  it('big sets (up to 100k elements) and the PFCOUNT estimate over many cardinalities', async () => {
    for (const n of [10, 150, 700, 1500, 5000, 20000, 100000]) {
      // In PFADDs of 10000 elements at most (an argument list the test client can spread).
      for (let from = 0; from < n; from += 10000) {
        await pair.check('PFADD', `n${n}`, ...Array.from({ length: Math.min(10000, n - from) }, (_, i) => `big-${n}-${from + i}`));
      }
      await checkKey(`n${n}`);
    }
    // One register at a time grows a dense HLL through every estimator range.
    for (let i = 0; i < 300; i++) {
      await pair.check('PFADD', 'grow', ...Array.from({ length: 97 }, (_, j) => `g${i}-${j}`));
      await pair.check('PFCOUNT', 'grow');
    }
    await pair.check('GET', 'grow');
  });

  it('hll-sparse-max-bytes decides when a sparse HLL turns dense', async () => {
    for (const limit of ['0', '40', '300', '1000', '20000']) {
      await pair.check('CONFIG', 'SET', 'hll-sparse-max-bytes', limit);
      await pair.check('CONFIG', 'GET', 'hll-sparse-max-bytes');
      for (let i = 0; i < 40; i++) {
        await pair.check('PFADD', `lim${limit}`, ...Array.from({ length: 1 + (i % 7) * 9 }, (_, j) => `e${i}:${j}`));
        await pair.check('GET', `lim${limit}`);
      }
      await pair.check('PFDEBUG', 'ENCODING', `lim${limit}`);
    }
    await pair.check('CONFIG', 'SET', 'hll-sparse-max-bytes', '-1');
    await pair.check('CONFIG', 'SET', 'hll-sparse-max-bytes', 'abc');
  });

  it('PFMERGE of sparse, dense, missing and mixed sources; PFCOUNT of several keys', async () => {
    const sets: Record<string, number> = { s1: 20, s2: 60, d1: 3000, d2: 9000 };
    for (const [key, n] of Object.entries(sets)) await pair.check('PFADD', key, ...Array.from({ length: n }, (_, i) => `${key}-${i}`));
    await pair.script([
      ['PFDEBUG', 'ENCODING', 's1'],
      ['PFDEBUG', 'ENCODING', 'd1'],
      ['PFMERGE', 'm-ss', 's1', 's2'],
      ['PFMERGE', 'm-sd', 's1', 'd1'],
      ['PFMERGE', 'm-dd', 'd1', 'd2', 'missing'],
      ['PFMERGE', 'm-only'],
      ['PFMERGE', 's2', 's1'],
      ['PFMERGE', 'd1', 's1'],
      ['PFMERGE', 's1', 'd2'],
      ['PFCOUNT', 's1', 's2', 'd1', 'd2', 'missing'],
      ['PFCOUNT', 'missing', 'other'],
      ['PFCOUNT', 'm-ss', 'm-sd'],
    ]);
    for (const key of ['m-ss', 'm-sd', 'm-dd', 'm-only', 's1', 's2', 'd1']) await checkKey(key);
    // Sparse sources whose union no longer fits hll-sparse-max-bytes: the destination turns dense on the way.
    await pair.check('CONFIG', 'SET', 'hll-sparse-max-bytes', '200');
    await pair.check('PFADD', 'a', ...Array.from({ length: 40 }, (_, i) => `a${i}`));
    await pair.check('CONFIG', 'SET', 'hll-sparse-max-bytes', '3000');
    await pair.check('PFADD', 'b', ...Array.from({ length: 150 }, (_, i) => `b${i}`));
    await pair.check('CONFIG', 'SET', 'hll-sparse-max-bytes', '200');
    await pair.check('PFMERGE', 'ab', 'a', 'b');
    await checkKey('ab');
  });

  it('random PFMERGE and multi-key PFCOUNT over mixed forms', async () => {
    const sizes = fc.constantFrom(0, 1, 5, 30, 120, 900, 4000);
    await fc.assert(
      fc.asyncProperty(fc.array(sizes, { minLength: 3, maxLength: 3 }), fc.array(fc.subarray(KEYS, { minLength: 1 }), { minLength: 1, maxLength: 4 }), async (ns, merges) => {
        await pair.check('FLUSHALL');
        for (let k = 0; k < KEYS.length; k++) if (ns[k]! > 0) await pair.check('PFADD', KEYS[k]!, ...Array.from({ length: ns[k]! }, (_, i) => `${k}:${i}`));
        for (const sources of merges) {
          await pair.check('PFCOUNT', ...sources);
          await pair.check('PFMERGE', 'dst', ...sources);
          await checkKey('dst');
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('wrong types and strings that are not HLLs', async () => {
    await pair.script([
      ['SET', 'str', 'hello'],
      ['SET', 'int', '12345'],
      ['SET', 'short', 'HYLL'],
      ['RPUSH', 'list', 'a'],
      ['PFADD', 'str', 'a'],
      ['PFADD', 'int', 'a'],
      ['PFADD', 'short', 'a'],
      ['PFADD', 'list', 'a'],
      ['PFCOUNT', 'str'],
      ['PFCOUNT', 'list'],
      ['PFCOUNT', 'nokey', 'list'],
      ['PFCOUNT', 'nokey', 'str'],
      ['PFMERGE', 'dst', 'str'],
      ['PFMERGE', 'list', 'nokey'],
      ['PFMERGE', 'dst', 'nokey', 'list'],
      ['EXISTS', 'dst'],
      ['PFDEBUG', 'ENCODING', 'nokey'],
      ['PFDEBUG', 'ENCODING', 'str'],
      ['PFDEBUG', 'ENCODING', 'list'],
      ['PFDEBUG', 'NOSUCH', 'str'],
      ['PFADD', 'h', 'x'],
      ['PFDEBUG', 'NOSUCH', 'h'],
      ['PFDEBUG', 'ENCODING'],
      ['PFDEBUG', 'GETREG', 'h', 'extra'],
      ['PFSELFTEST', 'x'],
      ['PFADD'],
      ['PFCOUNT'],
      ['PFMERGE'],
    ]);
  });

  it('strings made by SET that are valid HLLs are accepted (and a valid cached cardinality is trusted)', async () => {
    const empty = [...header(1), ...xzero(16384)];
    const dense = [...header(0), ...new Array<number>(12288).fill(0)];
    await pair.script([
      ['SET', 'sparse', latin1(empty)],
      ['PFCOUNT', 'sparse'],
      ['GET', 'sparse'],
      ['PFADD', 'sparse', 'a', 'b'],
      ['GET', 'sparse'],
      ['SET', 'dense', latin1(dense)],
      ['PFADD', 'dense', 'a', 'b', 'c'],
      ['PFCOUNT', 'dense'],
      ['GET', 'dense'],
      ['PFDEBUG', 'GETREG', 'dense'],
      ['SET', 'cached', latin1([...header(1, 123456789n), ...xzero(16384)])],
      ['PFCOUNT', 'cached'],
      ['SET', 'huge', latin1([...header(1, 0x7fffffffffffffffn), ...xzero(16384)])],
      ['PFCOUNT', 'huge'],
      ['SET', 'withreg', latin1([...header(1), ...xzero(100), ...val(3, 2), ...zero(20), ...val(32, 1), ...xzero(16384 - 123)])],
      ['PFDEBUG', 'DECODE', 'withreg'],
      ['PFCOUNT', 'withreg'],
      ['PFCOUNT', 'withreg', 'dense'],
      ['PFMERGE', 'withreg', 'sparse'],
      ['GET', 'withreg'],
      ['PFADD', 'withreg', ...Array.from({ length: 50 }, (_, i) => `w${i}`)],
      ['GET', 'withreg'],
      ['PFDEBUG', 'TODENSE', 'withreg'],
      ['PFDEBUG', 'TODENSE', 'withreg'],
      ['GET', 'withreg'],
    ]);
  });

  it('crafted and corrupted HLL strings: the same errors, the same bytes, and both servers stay up', async () => {
    const crafted: number[][] = [
      [...header(1)], // no opcodes at all
      [...header(1), ...xzero(16384), ...xzero(16384)], // runs past the last register
      [...header(1), ...xzero(16000)], // covers too few registers
      [...header(1), 0x7f], // a truncated XZERO (its second byte missing)
      [...header(1), ...xzero(16383), ...val(5, 4)], // a VAL run past the end
      [...header(1), ...val(2, 4), ...xzero(16380), ...zero(64)],
      [...header(1), ...zero(1), ...xzero(16382), ...val(1, 1)], // valid
      [...header(1), ...xzero(1), ...xzero(16383)], // valid, with a one-register XZERO
      [...header(1), ...xzero(16383), 0x40], // the last opcode is a cut XZERO
      [...header(2), ...xzero(16384)], // unknown encoding
      [...header(0), ...new Array<number>(100).fill(0)], // dense of the wrong size
      [...header(1).slice(0, 15)], // shorter than a header
      [0x48, 0x59, 0x4c, 0x58, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, ...xzero(16384)], // bad magic
    ];
    for (const bytes of crafted) await checkCrafted(bytes);
  });

  it('random bytes after a sparse header: the same errors and bytes, nothing crashes or loops', async () => {
    const opcode = fc.oneof(
      fc.integer({ min: 0, max: 255 }).map((b) => [b]),
      fc.integer({ min: 1, max: 16384 }).map(xzero),
      fc.tuple(fc.integer({ min: 1, max: 32 }), fc.integer({ min: 1, max: 4 })).map(([v, l]) => val(v, l)),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(opcode, { maxLength: 30 }), fc.boolean(), async (ops, cached) => {
        // An XZERO cut after its first byte at the very end makes Redis read the
        // sds terminator as its second byte and, when a PFADD splits it, write
        // past the string it knows; Vireo reads the 0 too but not the write
        // past the end. Left out here (the fixed crafted cases above cover cut opcodes).
        fc.pre(!endsInCutXzero(ops.flat()));
        await checkCrafted([...header(1, cached ? 7n : null), ...ops.flat()]);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  /** Whether the sparse opcodes end in the first byte of an XZERO alone. */
  function endsInCutXzero(bytes: number[]): boolean {
    let p = 0;
    while (p < bytes.length) {
      const isXzero = (bytes[p]! & 0xc0) === 0x40;
      if (isXzero && p === bytes.length - 1) return true;
      p += isXzero ? 2 : 1;
    }
    return false;
  }

  /** Every command on a crafted string, each compared, the value compared after each write. */
  async function checkCrafted(bytes: number[]): Promise<void> {
    const s = latin1(bytes);
    const cmds: string[][] = [
      ['PFCOUNT', 'c'],
      ['PFCOUNT', 'c', 'ok'],
      ['PFDEBUG', 'DECODE', 'c'],
      ['PFDEBUG', 'ENCODING', 'c'],
      ['PFADD', 'c', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
      ['PFMERGE', 'dst', 'ok', 'c'],
      ['PFMERGE', 'c', 'ok'],
      ['PFDEBUG', 'GETREG', 'c'],
      ['PFDEBUG', 'TODENSE', 'c'],
    ];
    for (const cmd of cmds) {
      await pair.script([['DEL', 'c', 'dst', 'ok'], ['PFADD', 'ok', 'x', 'y'], ['SET', 'c', s], cmd, ['GET', 'c'], ['GET', 'dst'], ['PING']]);
    }
  }

  it('PFCOUNT refreshing its cache breaks a WATCH (and a valid cache does not)', async () => {
    const other = await pair.connect();
    try {
      await pair.check('PFADD', 'w', 'a', 'b');
      for (const expectAbort of [true, false]) {
        await pair.check('WATCH', 'w');
        await other.check('PFCOUNT', 'w');
        await pair.check('MULTI');
        await pair.check('PING');
        const r = await pair.check('EXEC');
        expect(r.type === 'array' && r.value === null).toBe(expectAbort);
      }
    } finally {
      other.close();
    }
  });

  it('COMMAND INFO and GETKEYS of the HyperLogLog commands', async () => {
    // As in server.test.ts: the prose "notes" of key specs (PFCOUNT has one) are not reproduced.
    const withoutNotes = (r: Reply): unknown =>
      (toJs(r) as unknown[][]).map((entry) => entry.map((x, i) => (i === 8 ? (x as unknown[][]).map((spec) => spec.filter((y, j) => y !== 'notes' && spec[j - 1] !== 'notes')) : x)));
    for (const name of ['pfadd', 'pfcount', 'pfmerge', 'pfdebug', 'pfselftest']) {
      const [a, b] = await Promise.all([pair.redis.call('COMMAND', 'INFO', name), pair.vireo.call('COMMAND', 'INFO', name)]);
      expect(withoutNotes(b), name).toEqual(withoutNotes(a));
    }
    await pair.check('COMMAND', 'GETKEYS', 'PFADD', 'k', 'a');
    await pair.check('COMMAND', 'GETKEYS', 'PFCOUNT', 'k1', 'k2');
    await pair.check('COMMAND', 'GETKEYS', 'PFMERGE', 'dst', 's1', 's2');
    await pair.check('COMMAND', 'GETKEYS', 'PFDEBUG', 'GETREG', 'k');
  });

  it('PFSELFTEST passes', async () => {
    await pair.check('PFSELFTEST');
  }, 60_000);

  for (const [from, to] of [
    ['redis', 'vireo'],
    ['vireo', 'redis'],
  ] as const) {
    it(`DUMP in ${from}, RESTORE in ${to}: the same bytes, accepted as an HLL`, async () => {
      const src = pair[from];
      const dst = pair[to];
      await pair.check('PFADD', 'sp', 'a', 'b', 'c');
      await pair.check('PFADD', 'de', ...Array.from({ length: 5000 }, (_, i) => `d${i}`));
      await pair.check('PFCOUNT', 'de');
      for (const key of ['sp', 'de']) {
        const payload = await src.call('DUMP', key);
        expect(payload.type).toBe('bulk');
        expect(await dst.call('RESTORE', `r:${key}`, '0', payload.value as string)).toEqual({ type: 'simple', value: 'OK' });
        expect(await dst.call('GET', `r:${key}`)).toEqual(await src.call('GET', key));
        const before = await src.call('PFCOUNT', key);
        expect(await dst.call('PFCOUNT', `r:${key}`)).toEqual(before);
        await dst.call('PFADD', `r:${key}`, 'more');
        await src.call('PFADD', key, 'more');
        expect(await dst.call('GET', `r:${key}`)).toEqual(await src.call('GET', key));
      }
    });
  }
});

describe.skipIf(!HAVE_REDIS)('HyperLogLog in the AOF', () => {
  it('PFADD, PFMERGE, PFCOUNT and PFDEBUG replay to the same bytes, in Vireo and in redis-server, whatever hll-sparse-max-bytes was', async () => {
    const dir = tempDir('vireo-hll-aof-');
    const first = await startVireo({ dir, appendonly: 'yes', appendfsync: 'always' });
    const c = await RespClient.connect(first.port);
    const run = async (...args: string[]): Promise<Reply> => {
      const r = await c.call(...args);
      expect(r.type, args.slice(0, 3).join(' ')).not.toBe('error');
      return r;
    };
    await run('PFADD', 'sparse', 'a', 'b', 'c');
    await run('PFADD', 'dense', ...Array.from({ length: 4000 }, (_, i) => `d${i}`));
    await run('PFCOUNT', 'dense');
    await run('PFADD', 'todense', 'x', 'y');
    await run('PFDEBUG', 'TODENSE', 'todense');
    await run('PFADD', 'getreg', 'x');
    await run('PFDEBUG', 'GETREG', 'getreg');
    await run('PFMERGE', 'merged', 'sparse', 'dense');
    await run('PFMERGE', 'merged-sparse', 'sparse');
    await run('PFCOUNT', 'merged-sparse');
    // Promoted early under a low limit: a replay under the default limit must still end dense.
    await run('CONFIG', 'SET', 'hll-sparse-max-bytes', '60');
    await run('PFADD', 'low-limit', ...Array.from({ length: 40 }, (_, i) => `l${i}`));
    await run('PFMERGE', 'low-merge', 'sparse', 'low-limit');
    await run('PFADD', 'low-merge2', 'a', 'b');
    await run('PFMERGE', 'low-merge2', 'merged-sparse');
    await run('PFADD', 'low-merge2', ...Array.from({ length: 30 }, (_, i) => `m${i}`));
    await run('CONFIG', 'SET', 'hll-sparse-max-bytes', '3000');
    const keys = ['sparse', 'dense', 'todense', 'getreg', 'merged', 'merged-sparse', 'low-limit', 'low-merge', 'low-merge2'];
    const want = await Promise.all(keys.map((k) => c.call('GET', k)));
    c.close();
    await first.stop();

    const again = await startVireo({ dir, appendonly: 'yes' });
    const c2 = await RespClient.connect(again.port);
    expect(await Promise.all(keys.map((k) => c2.call('GET', k)))).toEqual(want);
    c2.close();
    await again.stop();

    const copy = tempDir('vireo-hll-aof-redis-');
    fs.cpSync(path.join(dir, 'appendonlydir'), path.join(copy, 'appendonlydir'), { recursive: true });
    const redis = await startRedis({ dir: copy, appendonly: 'yes' });
    try {
      const r = await RespClient.connect(redis.port);
      expect(await Promise.all(keys.map((k) => r.call('GET', k)))).toEqual(want);
      r.close();
    } finally {
      await redis.kill();
    }
  });
});
