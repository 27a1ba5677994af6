// DUMP/RESTORE against redis-server: payloads cross both ways for every type
// and encoding with equal values; RESTORE's options, errors and their order
// are answered exactly like Redis; damaged payloads get Redis' error replies
// and leave nothing behind; DEBUG DIGEST-VALUE agrees with Redis.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import { toJs } from './helpers/resp.js';
import { call, digestIncomparable, everyEncodingCommands, keyDump, pipelineOk, SAFE_SCORES, type KeyDump } from './helpers/dataset.js';
import { Crc64 } from '../persistence/rdb/crc64.js';

const latin1 = (b: Buffer) => b.latin1Slice();
const bytes = (s: string) => Buffer.from(s, 'latin1');

/** Replace a payload's CRC-64 with the right one for its (possibly damaged) body and version. */
function reCrc(payload: Buffer): Buffer {
  const body = payload.subarray(0, payload.length - 8);
  return Buffer.concat([body, new Crc64().update(body).digestLE()]);
}

/** A payload made of a body and a version, with a correct checksum. */
function payloadOf(body: Buffer, version = 10): Buffer {
  const v = Buffer.alloc(2);
  v.writeUInt16LE(version);
  return reCrc(Buffer.concat([body, v, Buffer.alloc(8)]));
}

function unordered(d: KeyDump): KeyDump {
  if (d.type !== 'zset') return d;
  const flat = d.value as string[];
  const pairs: string[] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push(`${flat[i]}\u0000${flat[i + 1]}`);
  return { ...d, value: pairs.sort() };
}

describe.skipIf(!HAVE_REDIS)('DUMP/RESTORE (differential)', () => {
  let pair: DiffPair;
  let keys: string[];
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });
  beforeEach(async () => {
    await pair.check('FLUSHALL');
    await Promise.all([pipelineOk(pair.redis, everyEncodingCommands()), pipelineOk(pair.vireo, everyEncodingCommands())]);
    keys = ((await call(pair.redis, 'KEYS', '*')) as string[]).sort();
  });

  it('the two servers start from the same dataset', async () => {
    expect(keys.length).toBeGreaterThan(30);
    expect(await call(pair.vireo, 'DEBUG', 'DIGEST')).toBe(await call(pair.redis, 'DEBUG', 'DIGEST'));
  });

  for (const [from, to] of [
    ['redis', 'vireo'],
    ['vireo', 'redis'],
  ] as const) {
    it(`DUMP in ${from}, RESTORE in ${to}: same value, TTL and DIGEST-VALUE for every type and encoding`, async () => {
      const src = pair[from];
      const dst = pair[to];
      const dumps: Record<string, KeyDump> = {};
      for (const k of keys) {
        const payload = (await call(src, 'DUMP', k)) as string;
        const pttl = Number(await call(src, 'PTTL', k));
        expect(await call(dst, 'RESTORE', `restored:${k}`, String(pttl > 0 ? pttl : 0), payload), k).toBe('OK');
        const a = await keyDump(src, k);
        const b = await keyDump(dst, `restored:${k}`);
        expect({ ...b, expireAt: b.expireAt > 0 }, k).toEqual({ ...a, expireAt: a.expireAt > 0 });
        if (a.expireAt > 0) expect(Math.abs(a.expireAt - b.expireAt), k).toBeLessThan(2000);
        dumps[k] = a;
        if (!digestIncomparable({ [k]: a }).length) {
          expect(await call(dst, 'DEBUG', 'DIGEST-VALUE', `restored:${k}`), k).toEqual(await call(src, 'DEBUG', 'DIGEST-VALUE', k));
        }
      }
      // Every encoding went through: a DUMP of each restored key gives the same value back at the source.
      for (const k of keys) {
        const again = (await call(dst, 'DUMP', `restored:${k}`)) as string;
        expect(await call(src, 'RESTORE', `back:${k}`, '0', again), k).toBe('OK');
        expect((await keyDump(src, `back:${k}`)).value, k).toEqual(dumps[k]!.value);
      }
    });
  }

  it('DUMP of strings is byte-identical to Redis, with and without rdbcompression', async () => {
    const short = ['str', 'int8', 'int16', 'int32', 'int64', 'notint', 'notint2', 'empty'];
    const long = ['lzf', 'lzf-mixed', 'incompressible', 'big'];
    try {
      await pair.check('CONFIG', 'SET', 'rdbcompression', 'no');
      for (const k of [...short, ...long]) await pair.check('DUMP', k);
      await pair.check('CONFIG', 'SET', 'rdbcompression', 'yes');
      for (const k of short) await pair.check('DUMP', k);
      // LZF output may differ from liblzf's choices (both read it); it is used when it saves space.
      for (const k of long) expect(bytes((await call(pair.vireo, 'DUMP', k)) as string)[1], k).toBe(0xc3);
    } finally {
      await pair.check('CONFIG', 'SET', 'rdbcompression', 'yes');
    }
  });

  it('DEBUG DIGEST-VALUE equals Redis for each value (missing keys: zeros) and DEBUG DIGEST stays equal after RESTOREs', async () => {
    const all = ((await call(pair.redis, 'DEBUG', 'DIGEST-VALUE', ...keys, 'no-such-key')) as string[]).map(String);
    const mine = ((await call(pair.vireo, 'DEBUG', 'DIGEST-VALUE', ...keys, 'no-such-key')) as string[]).map(String);
    expect(mine).toEqual(all);
    expect(mine[mine.length - 1]).toBe('0'.repeat(40));
    await pair.check('DEBUG', 'DIGEST-VALUE');
    // The same values restored on both sides from the same (Redis) payloads.
    for (const k of keys) {
      const payload = (await call(pair.redis, 'DUMP', k)) as string;
      await pair.check('RESTORE', `copy:${k}`, '0', payload);
    }
    await pair.check('DEBUG', 'DIGEST');
  });

  it('DEBUG DIGEST-VALUE of sorted sets with scores 7.0 and 7.2 print alike, including after ZINCRBY', async () => {
    const args: string[] = [];
    SAFE_SCORES.forEach((s, i) => args.push(s, `m${i}`));
    await pair.check('ZADD', 'z', ...args);
    await pair.check('ZINCRBY', 'z', '0.5', 'm1');
    await pair.check('DEBUG', 'DIGEST-VALUE', 'z', 'zset-small', 'zset-big', 'zset-inf');
  });

  it('RESTORE options, their errors and the order of checks, like Redis', async () => {
    const payload = (await call(pair.redis, 'DUMP', 'hash-small')) as string;
    const future = String(Date.now() + 3_600_000);
    await pair.script([
      ['RESTORE', 'k', '0', payload],
      ['RESTORE', 'k', '0', payload],
      ['RESTORE', 'k', '0', payload, 'REPLACE'],
      ['HGETALL', 'k'],
      ['TTL', 'k'],
      ['RESTORE', 'k', '100000', payload, 'REPLACE'],
      ['PTTL', 'k'],
      ['RESTORE', 'abs', future, payload, 'ABSTTL'],
      ['PEXPIRETIME', 'abs'],
      ['RESTORE', 'abs', '0', payload, 'REPLACE', 'ABSTTL'],
      ['TTL', 'abs'],
      // Already expired: not created; with REPLACE the old key is deleted.
      ['RESTORE', 'past', '1', payload, 'ABSTTL'],
      ['EXISTS', 'past'],
      ['RESTORE', 'k', '1', payload, 'ABSTTL', 'REPLACE'],
      ['EXISTS', 'k'],
      ['RESTORE', 'k', '1', payload, 'ABSTTL'],
      ['EXISTS', 'k'],
      // TTL errors (checked after BUSYKEY, before the payload).
      ['RESTORE', 'n', '-1', payload],
      ['RESTORE', 'n', 'abc', payload],
      ['RESTORE', 'n', '1.5', payload],
      ['RESTORE', 'n', '99999999999999999999', payload],
      ['RESTORE', 'n', '-1', 'garbage'],
      ['RESTORE', 'hash-small', '-1', payload],
      ['RESTORE', 'hash-small', '-1', payload, 'REPLACE'],
      ['RESTORE', 'hash-small', '0', 'garbage'],
      ['RESTORE', 'n', '0', 'garbage'],
      // Options.
      ['RESTORE', 'i', '0', payload, 'IDLETIME', '1000'],
      // Redis scales IDLETIME as lru_idle*1000/1000 in a long long (wrapping
      // past 2^63/1000 s) into a 24-bit clock; Vireo reads it exactly past 2^53.
      ...['16777215', '33554430', '1000000000000', '9007199254740993', '9223372036854776', '18446744073709551', '9223372036854775807'].flatMap((s) => [
        ['RESTORE', 'big-idle', '0', payload, 'IDLETIME', s, 'REPLACE'],
        ['OBJECT', 'IDLETIME', 'big-idle'],
      ]),
      ['RESTORE', 'i2', '0', payload, 'IDLETIME', '-1'],
      ['RESTORE', 'i2', '0', payload, 'IDLETIME', 'abc'],
      ['RESTORE', 'i2', '0', payload, 'IDLETIME'],
      ['RESTORE', 'f', '0', payload, 'FREQ', '5'],
      ['OBJECT', 'FREQ', 'f'],
      ['RESTORE', 'f2', '0', payload, 'FREQ', '256'],
      ['RESTORE', 'f2', '0', payload, 'FREQ', '-1'],
      ['RESTORE', 'f2', '0', payload, 'FREQ', 'x'],
      ['RESTORE', 'f2', '0', payload, 'FREQ', '5', 'IDLETIME', '10'],
      ['RESTORE', 'f2', '0', payload, 'IDLETIME', '10', 'FREQ', '5'],
      ['RESTORE', 'f2', '0', payload, 'BOGUS'],
      ['RESTORE', 'hash-small', '0', payload, 'BOGUS'],
      ['RESTORE', 'hash-small', '0', payload, 'IDLETIME', '-5'],
      ['RESTORE', 'f2', '0', payload, 'replace', 'Replace', 'absttl'],
      ['EXISTS', 'f2', 'i2'],
      ['RESTORE', 'f3', '0'],
      ['RESTORE'],
      ['DUMP', 'no-such-key'],
      ['DUMP'],
      ['DUMP', 'a', 'b'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lfu'],
      ['RESTORE', 'lfu', '0', payload, 'FREQ', '100'],
      ['EXISTS', 'lfu'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'noeviction'],
      // Inside a transaction.
      ['MULTI'],
      ['RESTORE', 'm', '0', payload],
      ['RESTORE', 'm', '0', payload],
      ['RESTORE', 'm', '-1', payload],
      ['EXEC'],
      ['HGETALL', 'm'],
      // Wrong-type keys are replaced like any other.
      ['RESTORE', 'str', '0', payload, 'REPLACE'],
      ['TYPE', 'str'],
      ['HGETALL', 'str'],
    ]);
  });

  it('a relative TTL that overflows int64 when added to the clock is already past, as in Redis (found by the fuzzer)', async () => {
    const payload = (await call(pair.redis, 'DUMP', 'hash-small')) as string;
    await pair.script([
      ['RESTORE', 'huge', '9223372036854775807', payload],
      ['EXISTS', 'huge'],
      ['RESTORE', 'hash-small', '9223372036854775807', payload, 'REPLACE'],
      ['EXISTS', 'hash-small'],
      ['RESTORE', 'big', '9223372036854775807', payload, 'ABSTTL'],
      ['EXPIRETIME', 'big'],
      ['RESTORE', 'long', '4611686018427387903', payload],
      ['EXISTS', 'long'],
    ]);
  });

  it('RESTORE IDLETIME beyond the 24-bit LRU clock wraps as in Redis (found by the fuzzer)', async () => {
    const payload = (await call(pair.redis, 'DUMP', 'hash-small')) as string;
    for (const idle of ['16777215', '16777216', '20000000', '2135035546', '4503599627370495']) {
      await pair.check('RESTORE', `idle:${idle}`, '0', payload, 'IDLETIME', idle);
      const [a, b] = await Promise.all([pair.redis.call('OBJECT', 'IDLETIME', `idle:${idle}`), pair.vireo.call('OBJECT', 'IDLETIME', `idle:${idle}`)]);
      // Both clocks are the wall clock: equal, give or take a second boundary.
      expect(Math.abs(Number(toJs(a)) - Number(toJs(b))), `IDLETIME ${idle}: redis ${toJs(a)}, vireo ${toJs(b)}`).toBeLessThanOrEqual(1);
    }
  });

  it('an LZF string whose uncompressed length is 0 restores as "" whatever its compressed bytes, as in Redis (found by the fuzzer)', async () => {
    // Type string, LZF (0xc3), compressed length 5, uncompressed length 0, five arbitrary bytes.
    const payload = latin1(payloadOf(bytes('\x00\xc3\x05\x00abcde')));
    await pair.script([
      ['SET', 'lzf0', 'before'],
      ['RESTORE', 'lzf0', '0', payload, 'REPLACE'],
      ['GET', 'lzf0'],
      ['STRLEN', 'lzf0'],
    ]);
  });

  it('a byte 0xC0-0xFF where a length is expected counts its low 6 bits, as Redis\' rdbLoadLen reads it (found by the fuzzer)', async () => {
    // A list (type 1, linked-list encoding) whose element count byte is 0xC3: 3 elements.
    const payload = latin1(payloadOf(bytes('\x01\xc3\x01a\x01b\x01c')));
    expect(toJs(await pair.check('RESTORE', 'len-c3', '0', payload))).toBe('OK');
    expect(toJs(await pair.check('LRANGE', 'len-c3', '0', '-1'))).toEqual(['a', 'b', 'c']);
  });

  it('damaged payloads: the same error as Redis, the key absent afterwards, the server still serving', async () => {
    const sources = ['str', 'int32', 'lzf', 'hash-small', 'hash-big', 'list-small', 'list-big', 'set-intset', 'set-small', 'set-big', 'zset-small', 'zset-big'];
    const damaged: [string, Buffer][] = [];
    for (const k of sources) {
      const p = bytes((await call(pair.redis, 'DUMP', k)) as string);
      const body = p.subarray(0, p.length - 10);
      const flipped = Buffer.from(p);
      flipped[Math.floor(body.length / 2)]! ^= 0x01;
      const badCrc = Buffer.from(p);
      badCrc[p.length - 1]! ^= 0xff;
      damaged.push(
        [`${k}: a flipped byte`, flipped],
        [`${k}: truncated by one`, p.subarray(0, p.length - 1)],
        [`${k}: truncated in the body`, Buffer.concat([body.subarray(0, Math.floor(body.length / 2)), p.subarray(p.length - 10)])],
        [`${k}: a wrong checksum`, badCrc],
        [`${k}: a future RDB version`, payloadOf(body, 12)],
        [`${k}: body truncated, checksum right`, payloadOf(body.subarray(0, body.length - 1))],
        [`${k}: only the type byte, checksum right`, payloadOf(body.subarray(0, 1))],
      );
    }
    damaged.push(
      ['empty', Buffer.alloc(0)],
      ['9 bytes', Buffer.alloc(9)],
      ['10 zero bytes', Buffer.alloc(10)],
      ['garbage', Buffer.from('this is definitely not a dump payload')],
      ['an unknown type byte, checksum right', payloadOf(Buffer.from([0x63, 0x01, 0x41]))],
      ['a module type, checksum right', payloadOf(Buffer.from([0x07, 0x01, 0x41]))],
      ['a string longer than the payload, checksum right', payloadOf(Buffer.from([0x00, 0x20, 0x41, 0x42]))],
      ['an LZF string with a bad length, checksum right', payloadOf(Buffer.from([0x00, 0xc3, 0x02, 0x10, 0x01, 0x41]))],
      ['an empty body, checksum right', payloadOf(Buffer.alloc(0))],
      ['a list with more items than present, checksum right', payloadOf(Buffer.from([0x01, 0x05, 0x01, 0x41]))],
      ['a set with a duplicate member, checksum right', payloadOf(Buffer.from([0x02, 0x02, 0x01, 0x41, 0x01, 0x41]))],
      ['a zset (binary scores) cut in a score, checksum right', payloadOf(Buffer.from([0x05, 0x01, 0x01, 0x41, 0x00, 0x00]))],
    );
    let refused = 0;
    for (const [what, payload] of damaged) {
      for (const key of ['target', 'hash-small']) {
        const replace = key === 'hash-small' ? ['REPLACE'] : [];
        const before = toJs(await pair.vireo.call('DEBUG', 'DIGEST-VALUE', key));
        let reply;
        try {
          reply = await pair.check('RESTORE', key, '0', latin1(payload), ...replace);
        } catch (e) {
          throw new Error(`${what}: ${(e as Error).message}`);
        }
        if (reply.type === 'error') {
          refused++;
          expect(reply.value, what).toMatch(/^ERR (DUMP payload version or checksum are wrong|Bad data format)$/);
          // Nothing half-applied: a new key is absent, a REPLACE target untouched.
          expect(toJs(await pair.vireo.call('DEBUG', 'DIGEST-VALUE', key)), what).toEqual(before);
        } else {
          // Redis accepted it too (it reads an object into the footer bytes when it runs short): same value.
          expect(await keyDump(pair.vireo, key), what).toEqual(await keyDump(pair.redis, key));
          await pair.check('DEL', key);
        }
      }
      await pair.check('EXISTS', 'target');
    }
    expect(refused).toBeGreaterThan(damaged.length * 1.5);
    await pair.check('PING');
    await pair.check('DEBUG', 'DIGEST');
  });

  it('payload sanitization (sanitize-dump-payload yes): corrupt listpacks and intsets with a right checksum are refused like Redis', async () => {
    await pair.check('CONFIG', 'SET', 'sanitize-dump-payload', 'yes');
    try {
      let refused = 0;
      for (const k of ['hash-small', 'list-small', 'set-intset', 'zset-small', 'hash-bin']) {
        const p = bytes((await call(pair.redis, 'DUMP', k)) as string);
        const body = p.subarray(0, p.length - 10);
        // Damage each byte of the encoded blob in turn (a few values per byte).
        for (let at = 3; at < body.length; at++) {
          for (const x of [0x01, 0x80, 0xff]) {
            const b = Buffer.from(body);
            b[at]! ^= x;
            const payload = latin1(payloadOf(b));
            const r = await pair.check('RESTORE', 'fuzz', '0', payload, 'REPLACE');
            if (r.type === 'error') refused++;
            else {
              // Both accepted it: the values read back must agree (a sorted set as a set of pairs: Redis keeps
              // a damaged listpack's order, Vireo re-sorts it).
              expect(unordered(await keyDump(pair.vireo, 'fuzz')), `${k} byte ${at} ^ ${x}`).toEqual(unordered(await keyDump(pair.redis, 'fuzz')));
              await pair.check('DEL', 'fuzz');
            }
          }
        }
      }
      expect(refused).toBeGreaterThan(50);
    } finally {
      await pair.check('CONFIG', 'SET', 'sanitize-dump-payload', 'no');
    }
  });
});

// ---- encodings only old RDB files carry (Redis 7 reads them, deeply validated, but no longer writes them) ----

/** An RDB length prefix. */
function rdbLen(n: number): Buffer {
  if (n < 64) return Buffer.from([n]);
  if (n < 16384) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const b = Buffer.alloc(5);
  b[0] = 0x80;
  b.writeUInt32BE(n, 1);
  return b;
}

const rdbString = (b: Buffer) => Buffer.concat([rdbLen(b.length), b]);

/** A ziplist (Redis < 7) holding `items`, integers in the integer encodings. */
function ziplist(items: string[]): Buffer {
  const entries: Buffer[] = [];
  let prev = 0;
  for (const it of items) {
    const prevlen = prev < 254 ? Buffer.from([prev]) : Buffer.concat([Buffer.from([0xfe]), u32le(prev)]);
    let enc: Buffer;
    if (/^(0|-?[1-9]\d{0,18})$/.test(it) && BigInt(it) >= -(2n ** 63n) && BigInt(it) < 2n ** 63n) {
      const v = BigInt(it);
      if (v >= 0n && v <= 12n) enc = Buffer.from([0xf1 + Number(v)]);
      else if (v >= -128n && v <= 127n) enc = Buffer.from([0xfe, Number(v) & 0xff]);
      else if (v >= -32768n && v <= 32767n) (enc = Buffer.alloc(3)), (enc[0] = 0xc0), enc.writeInt16LE(Number(v), 1);
      else if (v >= -(2n ** 23n) && v < 2n ** 23n) (enc = Buffer.alloc(4)), (enc[0] = 0xf0), enc.writeIntLE(Number(v), 1, 3);
      else if (v >= -(2n ** 31n) && v < 2n ** 31n) (enc = Buffer.alloc(5)), (enc[0] = 0xd0), enc.writeInt32LE(Number(v), 1);
      else (enc = Buffer.alloc(9)), (enc[0] = 0xe0), enc.writeBigInt64LE(v, 1);
    } else {
      const s = Buffer.from(it, 'latin1');
      const head = s.length < 64 ? Buffer.from([s.length]) : Buffer.from([0x40 | (s.length >> 8), s.length & 0xff]);
      enc = Buffer.concat([head, s]);
    }
    const entry = Buffer.concat([prevlen, enc]);
    entries.push(entry);
    prev = entry.length;
  }
  const body = Buffer.concat(entries);
  const tail = entries.length === 0 ? 10 : 10 + body.length - entries[entries.length - 1]!.length;
  const head = Buffer.alloc(10);
  head.writeUInt32LE(10 + body.length + 1, 0);
  head.writeUInt32LE(tail, 4);
  head.writeUInt16LE(Math.min(items.length, 0xffff), 8);
  return Buffer.concat([head, body, Buffer.from([0xff])]);
}

function u32le(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
}

/** A zipmap (Redis < 2.6 hashes). */
function zipmap(pairs: [string, string][], free = 0): Buffer {
  const parts: Buffer[] = [Buffer.from([pairs.length])];
  for (const [k, v] of pairs) {
    parts.push(Buffer.from([k.length]), Buffer.from(k, 'latin1'), Buffer.from([v.length, free]), Buffer.from(v, 'latin1'), Buffer.alloc(free));
  }
  parts.push(Buffer.from([0xff]));
  return Buffer.concat(parts);
}

const OLD_ENCODINGS: [string, Buffer][] = [
  ['hash ziplist (13)', Buffer.concat([Buffer.from([13]), rdbString(ziplist(['a', '1', 'b', 'two', 'c', '-3', 'long', 'x'.repeat(70)]))])],
  ['zset ziplist (12)', Buffer.concat([Buffer.from([12]), rdbString(ziplist(['m3', '-3.75', 'm1', '1', 'm2', '1.5', 'm4', '300']))])],
  ['list ziplist (10)', Buffer.concat([Buffer.from([10]), rdbString(ziplist(['a', '1', '300', '-70000', '5000000000', '12', 'str'.repeat(30)]))])],
  ['quicklist of ziplists (14)', Buffer.concat([Buffer.from([14]), rdbLen(2), rdbString(ziplist(['a', 'b', '7'])), rdbString(ziplist(['100000', 'c']))])],
  ['zipmap hash (9)', Buffer.concat([Buffer.from([9]), rdbString(zipmap([['f1', 'v1'], ['field2', 'value2'], ['k', '']], 1))])],
];

describe.skipIf(!HAVE_REDIS)('RESTORE of RDB-only encodings: ziplist, zipmap, quicklist (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  for (const [what, body] of OLD_ENCODINGS) {
    it(`${what}: restored like Redis; every damaged byte refused or read alike (Redis always validates these deeply)`, async () => {
      expect(await pair.check('RESTORE', 'good', '0', latin1(payloadOf(body)), 'REPLACE')).toEqual({ type: 'simple', value: 'OK' });
      expect(await keyDump(pair.vireo, 'good')).toEqual(await keyDump(pair.redis, 'good'));
      await pair.check('DEBUG', 'DIGEST-VALUE', 'good');
      let refused = 0;
      for (let at = 1; at < body.length; at++) {
        for (const x of [0x01, 0x10, 0x80, 0xff]) {
          const b = Buffer.from(body);
          b[at]! ^= x;
          const r = await pair.check('RESTORE', 'fuzz', '0', latin1(payloadOf(b)), 'REPLACE');
          if (r.type === 'error') refused++;
          else {
            expect(unordered(await keyDump(pair.vireo, 'fuzz')), `byte ${at} ^ ${x}`).toEqual(unordered(await keyDump(pair.redis, 'fuzz')));
            await pair.check('DEL', 'fuzz');
          }
        }
      }
      // Cut short (the blob's length says more than there is).
      for (let cut = 1; cut < body.length - 1; cut++) await pair.check('RESTORE', 'fuzz', '0', latin1(payloadOf(body.subarray(0, cut))), 'REPLACE');
      expect(refused).toBeGreaterThan(body.length / 2);
    });
  }

  it('empty, duplicate or unsorted contents are refused like Redis (sanitize-dump-payload yes)', async () => {
    await pair.check('CONFIG', 'SET', 'sanitize-dump-payload', 'yes');
    const cases: Buffer[] = [
      Buffer.concat([Buffer.from([13]), rdbString(ziplist([]))]),
      Buffer.concat([Buffer.from([13]), rdbString(ziplist(['a', '1', 'a', '2']))]),
      Buffer.concat([Buffer.from([13]), rdbString(ziplist(['a', '1', 'b']))]),
      Buffer.concat([Buffer.from([12]), rdbString(ziplist(['m', '1', 'm', '2']))]),
      Buffer.concat([Buffer.from([10]), rdbString(ziplist([]))]),
      Buffer.concat([Buffer.from([14]), rdbLen(0)]),
      Buffer.concat([Buffer.from([14]), rdbLen(1), rdbString(ziplist([]))]),
      Buffer.concat([Buffer.from([9]), rdbString(zipmap([]))]),
      Buffer.concat([Buffer.from([9]), rdbString(zipmap([['a', '1'], ['a', '2']]))]),
      Buffer.concat([Buffer.from([11]), rdbString(Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]))]),
      Buffer.concat([Buffer.from([11]), rdbString(Buffer.from([2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 3, 0]))]),
      Buffer.concat([Buffer.from([11]), rdbString(Buffer.from([2, 0, 0, 0, 2, 0, 0, 0, 5, 0, 5, 0]))]),
      Buffer.concat([Buffer.from([11]), rdbString(Buffer.from([3, 0, 0, 0, 1, 0, 0, 0, 5, 0, 0]))]),
      Buffer.concat([Buffer.from([2]), rdbLen(0)]),
      Buffer.concat([Buffer.from([4]), rdbLen(0)]),
      Buffer.concat([Buffer.from([5]), rdbLen(0)]),
      Buffer.concat([Buffer.from([1]), rdbLen(0)]),
    ];
    for (const body of cases) {
      const r = await pair.check('RESTORE', 'k', '0', latin1(payloadOf(body)));
      expect(r, body.toString('hex')).toEqual({ type: 'error', value: 'ERR Bad data format' });
      await pair.check('EXISTS', 'k');
    }
    await pair.check('CONFIG', 'SET', 'sanitize-dump-payload', 'no');
  });
});

// ---- listpack-encoded values (RDB types 16, 17, 18 and 7.2's 20): what Redis' sanitization checks ----

/** One listpack entry: a string, or an integer written in the named encoding (minimal or not). */
type LpEntry = string | { int: bigint; enc: '7bit' | '13bit' | '16bit' | '24bit' | '32bit' | '64bit' } | { raw: Buffer };

function lpEntryBody(e: LpEntry): Buffer {
  if (typeof e === 'object' && 'raw' in e) return e.raw;
  if (typeof e === 'string') {
    const s = Buffer.from(e, 'latin1');
    if (s.length < 64) return Buffer.concat([Buffer.from([0x80 | s.length]), s]);
    if (s.length < 4096) return Buffer.concat([Buffer.from([0xe0 | (s.length >> 8), s.length & 0xff]), s]);
    return Buffer.concat([Buffer.from([0xf0]), u32le(s.length), s]);
  }
  const v = e.int;
  const fixed = (tag: number, size: number) => {
    const b = Buffer.alloc(1 + size);
    b[0] = tag;
    if (size === 8) b.writeBigInt64LE(v, 1);
    else b.writeIntLE(Number(v), 1, size);
    return b;
  };
  switch (e.enc) {
    case '7bit':
      return Buffer.from([Number(v)]);
    case '13bit': {
      const u = Number(v) & 0x1fff;
      return Buffer.from([0xc0 | (u >> 8), u & 0xff]);
    }
    case '16bit':
      return fixed(0xf1, 2);
    case '24bit':
      return fixed(0xf2, 3);
    case '32bit':
      return fixed(0xf3, 4);
    case '64bit':
      return fixed(0xf4, 8);
  }
}

/** lpEncodeBacklen: the entry's size in 7-bit groups, high first; all but the first flagged, so it reads backwards. */
function lpBacklen(n: number): Buffer {
  const groups: number[] = [];
  do {
    groups.unshift(n & 127);
    n >>= 7;
  } while (n > 0);
  return Buffer.from(groups.map((g, i) => (i === 0 ? g : g | 128)));
}

/** A listpack of `entries`; `count` overrides the header's element count. */
function listpack(entries: LpEntry[], count = entries.length): Buffer {
  const parts = entries.map((e) => {
    const body = lpEntryBody(e);
    return Buffer.concat([body, lpBacklen(body.length)]);
  });
  const head = Buffer.alloc(6);
  const total = 6 + parts.reduce((n, p) => n + p.length, 0) + 1;
  head.writeUInt32LE(total, 0);
  head.writeUInt16LE(count, 4);
  return Buffer.concat([head, ...parts, Buffer.from([0xff])]);
}

const int = (v: number | bigint, enc: '7bit' | '13bit' | '16bit' | '24bit' | '32bit' | '64bit'): LpEntry => ({ int: BigInt(v), enc });
const typed = (type: number, blob: Buffer) => Buffer.concat([Buffer.from([type]), rdbString(blob)]);
/** A quicklist (RDB type 18) of nodes: [container, blob] (1 plain, 2 packed). */
const quicklist2 = (nodes: [number, Buffer][]) => Buffer.concat([Buffer.from([18]), rdbLen(nodes.length), ...nodes.flatMap(([c, b]) => [rdbLen(c), rdbString(b)])]);

const OK = 'OK';
const BAD = 'ERR Bad data format';
const EVERY_INT = [int(5, '7bit'), int(-4000, '13bit'), int(30000, '16bit'), int(-8000000, '24bit'), int(2000000000, '32bit'), int(2n ** 62n, '64bit')];

/** [what, payload body, Redis' reply] — every rule of lpValidateIntegrity(AndDups) with deep sanitization, and what it lets through. */
const LISTPACK_CASES: [string, Buffer, string][] = [
  ['hash: every integer encoding and string length class', typed(16, listpack(['a', ...EVERY_INT.slice(0, 1), 'b', EVERY_INT[1]!, 'c', EVERY_INT[2]!, 'd', EVERY_INT[3]!, 'e', EVERY_INT[4]!, 'f', EVERY_INT[5]!, 'g', 'x'.repeat(100)])), OK],
  ['hash: integers in wider encodings than needed (not checked)', typed(16, listpack([int(1, '64bit'), int(7, '32bit'), int(-1, '13bit'), int(0, '24bit')])), OK],
  ['hash: short strings in the 12- and 32-bit string encodings (not checked)', typed(16, listpack([{ raw: Buffer.from([0xe0, 1, 0x61]) }, { raw: Buffer.from([0xf0, 2, 0, 0, 0, 0x62, 0x63]) }])), OK],
  ['hash: the same field as integer 10 and string "10"', typed(16, listpack(['10', 'a', int(10, '7bit'), 'b'])), BAD],
  ['hash: the same integer field in two encodings', typed(16, listpack([int(5, '7bit'), 'a', int(5, '64bit'), 'b'])), BAD],
  ['hash: a field equal to another pair\'s value (only fields are unique)', typed(16, listpack(['a', 'b', 'b', 'a'])), OK],
  ['hash: header count larger than the entries', typed(16, listpack(['a', '1', 'b', '2'], 6)), BAD],
  ['hash: header count smaller than the entries', typed(16, listpack(['a', '1', 'b', '2'], 2)), BAD],
  ['hash: header count 65535 (unknown)', typed(16, listpack(['a', '1', 'b', '2'], 65535)), OK],
  ['hash: an odd number of entries', typed(16, listpack(['a', '1', 'b'])), BAD],
  ['hash: an odd number of entries, count unknown', typed(16, listpack(['a', '1', 'b'], 65535)), BAD],
  ['hash: no entries', typed(16, listpack([])), BAD],
  ['hash: an unknown encoding byte (0xF5)', typed(16, listpack(['a', { raw: Buffer.from([0xf5]) }])), BAD],
  ['hash: a wrong back-length', (() => { const b = typed(16, listpack(['ab', '1'])); b[2 + 6 + 3]! ^= 0x01; return b; })(), BAD],
  ['hash: total bytes one short of the blob', (() => { const lp = listpack(['a', '1']); lp.writeUInt32LE(lp.length - 1, 0); return typed(16, lp); })(), BAD],
  ['hash: no end byte', (() => { const lp = listpack(['a', '1']); lp[lp.length - 1] = 0xfe; return typed(16, lp); })(), BAD],
  ['hash: a 64-bit integer cut by the end byte', typed(16, Buffer.concat([listpack(['a']).subarray(0, 8), Buffer.from([0xf4, 1, 2, 3, 0xff])])), BAD],
  ['zset: integer and text scores', typed(17, listpack(['m1', int(3, '7bit'), 'm2', '1.5', 'm3', '-inf', 'm4', int(-70000, '24bit')])), OK],
  ['zset: the same member twice', typed(17, listpack(['m', '1', 'n', '2', 'm', '3'])), BAD],
  ['zset: the same member as integer and string', typed(17, listpack([int(7, '16bit'), '1', '7', '2'])), BAD],
  ['zset: equal scores', typed(17, listpack(['a', '1', 'b', int(1, '7bit')])), OK],
  ['zset: an odd number of entries', typed(17, listpack(['a', '1', 'b'])), BAD],
  ['zset: header count wrong', typed(17, listpack(['a', '1'], 4)), BAD],
  ['list: two packed nodes, duplicates and every integer encoding', quicklist2([[2, listpack(['a', 'a', ...EVERY_INT])], [2, listpack(['z', int(3, '64bit')])]]), OK],
  ['list: a plain node between packed ones', quicklist2([[2, listpack(['a'])], [1, Buffer.from('plain')], [2, listpack(['b'])]]), OK],
  ['list: an empty packed node is skipped', quicklist2([[2, listpack([])], [2, listpack(['a', 'b'])]]), OK],
  ['list: only empty packed nodes', quicklist2([[2, listpack([])], [2, listpack([])]]), BAD],
  ['list: no nodes', quicklist2([]), BAD],
  ['list: a packed node whose header count is wrong', quicklist2([[2, listpack(['a', 'b'], 3)]]), BAD],
  ['list: a packed node with a wrong back-length', quicklist2([[2, (() => { const lp = listpack(['abc']); lp[6 + 4]! ^= 0x02; return lp; })()]]), BAD],
  ['list: an unknown container (3)', quicklist2([[3, listpack(['a'])]]), BAD],
  ['list: a plain node of 0 bytes', quicklist2([[2, listpack(['a'])], [1, Buffer.alloc(0)]]), BAD],
];

describe.skipIf(!HAVE_REDIS)('RESTORE of listpack encodings: the rules of Redis\' deep sanitization (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
    await pair.check('CONFIG', 'SET', 'sanitize-dump-payload', 'yes');
  });
  afterAll(async () => {
    await pair?.stop();
  });

  for (const [what, body, expected] of LISTPACK_CASES) {
    it(`${what}: ${expected}`, async () => {
      for (const key of ['new', 'old']) {
        await pair.check('SET', 'old', 'x');
        const r = await pair.check('RESTORE', key, '0', latin1(payloadOf(body)), 'REPLACE');
        expect(r.type === 'error' ? `${r.value}` : r.type === 'simple' ? r.value : JSON.stringify(r)).toBe(expected);
        // A sorted set as a set of pairs: Redis keeps the listpack's order as it came, Vireo sorts it.
        if (expected === OK) expect(unordered(await keyDump(pair.vireo, key))).toEqual(unordered(await keyDump(pair.redis, key)));
        else await pair.check('GET', 'old');
        await pair.check('EXISTS', 'new');
        await pair.check('DEL', 'new', 'old');
      }
    });
  }
});

/**
 * RDB type 20 (RDB_TYPE_SET_LISTPACK) is new in Redis 7.2: 7.0's
 * rdbIsObjectType() stops at 19, so it refuses any such payload before
 * reading it ("Bad data format"), whatever the listpack holds. 7.2 checks it
 * with lpValidateIntegrityAndDups(deep, pairs = 0): the listpack rules above
 * plus unique members. Vireo follows 7.2; these are checked against the
 * 7.2 rules, with the 7.0 reference only showing why it cannot compare.
 */
describe.skipIf(!HAVE_REDIS)('RESTORE of a set listpack (RDB type 20, Redis 7.2)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
    await pair.check('CONFIG', 'SET', 'sanitize-dump-payload', 'yes');
  });
  afterAll(async () => {
    await pair?.stop();
  });

  const restore = async (who: 'redis' | 'vireo', body: Buffer) => toJs(await pair[who].call('RESTORE', 'k', '0', latin1(payloadOf(body)), 'REPLACE'));

  it('7.0 refuses the type itself: the same listpack loads as a hash (16) and a sorted set (17), not as type 20', async () => {
    // The fuzzer's finding (seed 60127642): a 7.0 hash DUMP whose type byte 16 was flipped to 20.
    const blob = listpack(['f0', int(10, '7bit'), 'f1', '1.5', 'f2', int(2n ** 63n - 1n, '64bit'), 'f3', int(-(2n ** 63n), '64bit'), 'f9', 'nan']);
    expect(await restore('redis', typed(16, blob))).toBe('OK');
    expect(await restore('redis', typed(17, blob))).toBe('OK');
    expect(await restore('redis', typed(20, blob))).toEqual(new Error(BAD));
    expect(await restore('redis', typed(20, listpack(['a', 'b'])))).toEqual(new Error(BAD));
    // 7.2 (and Vireo): a valid listpack of ten distinct members.
    expect(await restore('vireo', typed(20, blob))).toBe('OK');
    expect(((await call(pair.vireo, 'SMEMBERS', 'k')) as string[]).sort()).toEqual(
      ['f0', '10', 'f1', '1.5', 'f2', '9223372036854775807', 'f3', '-9223372036854775808', 'f9', 'nan'].sort(),
    );
  });

  const cases: [string, Buffer, string][] = [
    ['strings and every integer encoding', typed(20, listpack(['a', 'bb', ...EVERY_INT])), OK],
    ['integers in wider encodings than needed', typed(20, listpack([int(1, '64bit'), int(2, '13bit')])), OK],
    ['the same member as integer 10 and string "10"', typed(20, listpack(['10', int(10, '7bit')])), BAD],
    ['the same member twice', typed(20, listpack(['a', 'b', 'a'])), BAD],
    ['header count wrong', typed(20, listpack(['a', 'b'], 3)), BAD],
    ['header count 65535 (unknown)', typed(20, listpack(['a', 'b'], 65535)), OK],
    ['no members', typed(20, listpack([])), BAD],
    ['an unknown encoding byte', typed(20, listpack(['a', { raw: Buffer.from([0xf6]) }])), BAD],
  ];
  for (const [what, body, expected] of cases) {
    it(`${what}: ${expected} (7.2)`, async () => {
      await call(pair.vireo, 'SET', 'k', 'old');
      const r = await restore('vireo', body);
      expect(r instanceof Error ? r.message : r).toBe(expected);
      if (expected === BAD) expect(await call(pair.vireo, 'GET', 'k')).toBe('old');
      expect(await restore('redis', body)).toEqual(new Error(BAD));
    });
  }
});

/**
 * The encoding a compact RDB value loads into: Redis keeps a listpack or
 * ziplist blob packed unless it has more entries than *-max-listpack-entries
 * (it does not scan the elements' lengths, "an O(N) scan"), and an intset
 * unless it has more members than set-max-intset-entries, then straight to a
 * hashtable (rdbLoadObject, 7.0 and 7.2 alike; type 20 in 7.2 likewise).
 */
describe.skipIf(!HAVE_REDIS)('RESTORE of compact encodings: only the entry count decides the encoding (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  const long = 'x'.repeat(10);
  const cases: [string, Buffer, string[]][] = [
    ['hash listpack (16)', typed(16, listpack(['a', long, long, '1'])), ['hash-max-listpack-value', 'hash-max-listpack-entries']],
    ['hash ziplist (13)', typed(13, ziplist(['a', long, long, '1'])), ['hash-max-listpack-value', 'hash-max-listpack-entries']],
    ['zset listpack (17)', typed(17, listpack([long, '1', 'b', '2'])), ['zset-max-listpack-value', 'zset-max-listpack-entries']],
    ['zset ziplist (12)', typed(12, ziplist([long, '1', 'b', '2'])), ['zset-max-listpack-value', 'zset-max-listpack-entries']],
  ];
  for (const [what, body, [valueParam, entriesParam]] of cases) {
    it(`${what}: stays packed with elements longer than ${valueParam}, converts past ${entriesParam}`, async () => {
      try {
        await pair.check('CONFIG', 'SET', valueParam!, '4');
        expect(toJs(await pair.check('RESTORE', 'k', '0', latin1(payloadOf(body)), 'REPLACE'))).toBe('OK');
        expect(toJs(await pair.check('OBJECT', 'ENCODING', 'k'))).toBe('listpack');
        await pair.check('CONFIG', 'SET', entriesParam!, '1');
        expect(toJs(await pair.check('RESTORE', 'k', '0', latin1(payloadOf(body)), 'REPLACE'))).toMatch(/OK/);
        expect(toJs(await pair.check('OBJECT', 'ENCODING', 'k'))).toMatch(/^(hashtable|skiplist)$/);
      } finally {
        await pair.check('CONFIG', 'SET', valueParam!, '64');
        await pair.check('CONFIG', 'SET', entriesParam!, '128');
      }
    });
  }

  it('intset (11): past set-max-intset-entries straight to a hashtable, whatever set-max-listpack-entries says', async () => {
    const body = typed(11, Buffer.from([2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 3, 0]));
    try {
      await pair.check('CONFIG', 'SET', 'set-max-intset-entries', '2');
      expect(toJs(await pair.check('RESTORE', 'k', '0', latin1(payloadOf(body)), 'REPLACE'))).toBe('OK');
      // DiffPair accepts listpack for 7.0's hashtable (7.2 has listpack sets), so Vireo is checked itself too.
      expect(toJs(await pair.check('OBJECT', 'ENCODING', 'k'))).toBe('hashtable');
      await pair.check('CONFIG', 'SET', 'set-max-intset-entries', '3');
      await pair.check('RESTORE', 'k', '0', latin1(payloadOf(body)), 'REPLACE');
      expect(toJs(await pair.check('OBJECT', 'ENCODING', 'k'))).toBe('intset');
    } finally {
      await pair.check('CONFIG', 'SET', 'set-max-intset-entries', '512');
    }
  });

  it('a listpack hash or zset whose elements outgrew a lowered *-max-listpack-value stays a listpack through DEBUG RELOAD and DUMP/RESTORE, as Redis writes it', async () => {
    try {
      await pair.check('HSET', 'h', 'f', long, 'n', '12345', 'neg', '-70000', 'big', '9223372036854775807');
      await pair.check('ZADD', 'z', '1.5', long, '2', 'b', '-3', 'c');
      await pair.check('SADD', 's', '1', '-40000', '5000000000');
      await pair.check('CONFIG', 'SET', 'hash-max-listpack-value', '4');
      await pair.check('CONFIG', 'SET', 'zset-max-listpack-value', '4');
      expect(toJs(await pair.check('DEBUG', 'RELOAD'))).toBe('OK');
      for (const k of ['h', 'z']) expect(toJs(await pair.check('OBJECT', 'ENCODING', k))).toBe('listpack');
      expect(toJs(await pair.check('OBJECT', 'ENCODING', 's'))).toBe('intset');
      await pair.check('HGETALL', 'h');
      await pair.check('ZRANGE', 'z', '0', '-1', 'WITHSCORES');
      // Vireo's payloads restore into redis-server with the same encoding and contents.
      for (const k of ['h', 'z', 's']) {
        const dump = await call(pair.vireo, 'DUMP', k);
        expect(await call(pair.redis, 'RESTORE', `${k}2`, '0', dump, 'REPLACE')).toBe('OK');
        expect(await call(pair.redis, 'OBJECT', 'ENCODING', `${k}2`)).toBe(await call(pair.vireo, 'OBJECT', 'ENCODING', k));
      }
      expect(await call(pair.redis, 'HGETALL', 'h2')).toEqual(await call(pair.redis, 'HGETALL', 'h'));
      expect(await call(pair.redis, 'ZRANGE', 'z2', '0', '-1', 'WITHSCORES')).toEqual(await call(pair.redis, 'ZRANGE', 'z', '0', '-1', 'WITHSCORES'));
      expect(await call(pair.redis, 'SMEMBERS', 's2')).toEqual(await call(pair.redis, 'SMEMBERS', 's'));
    } finally {
      await pair.check('CONFIG', 'SET', 'hash-max-listpack-value', '64');
      await pair.check('CONFIG', 'SET', 'zset-max-listpack-value', '64');
      await call(pair.redis, 'DEL', 'h2', 'z2', 's2');
      await pair.check('DEL', 'h', 'z', 's');
    }
  });

  it('set listpack (20, 7.2): stays packed with members longer than set-max-listpack-value, and with only integers', async () => {
    try {
      await call(pair.vireo, 'CONFIG', 'SET', 'set-max-listpack-value', '4');
      expect(await call(pair.vireo, 'RESTORE', 'k', '0', latin1(payloadOf(typed(20, listpack(['a', long, 'b'])))), 'REPLACE')).toBe('OK');
      expect(await call(pair.vireo, 'OBJECT', 'ENCODING', 'k')).toBe('listpack');
      expect(await call(pair.vireo, 'RESTORE', 'k', '0', latin1(payloadOf(typed(20, listpack([int(1, '7bit'), int(2, '7bit')])))), 'REPLACE')).toBe('OK');
      expect(await call(pair.vireo, 'OBJECT', 'ENCODING', 'k')).toBe('listpack');
      await call(pair.vireo, 'CONFIG', 'SET', 'set-max-listpack-entries', '2');
      expect(await call(pair.vireo, 'RESTORE', 'k', '0', latin1(payloadOf(typed(20, listpack(['a', long, 'b'])))), 'REPLACE')).toBe('OK');
      expect(await call(pair.vireo, 'OBJECT', 'ENCODING', 'k')).toBe('hashtable');
    } finally {
      await call(pair.vireo, 'CONFIG', 'SET', 'set-max-listpack-value', '64');
      await call(pair.vireo, 'CONFIG', 'SET', 'set-max-listpack-entries', '128');
    }
  });
});
