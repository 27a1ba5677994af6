// Unit checks of pieces that must be exact: hash slots, number formatting,
// long double arithmetic, the request parser's limits.
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import generateSlot from 'cluster-key-slot';
import { keySlot } from '../src/engine/slot.js';
import { formatDouble, int64Text, parseDouble, parseLong } from '../src/util/numbers.js';
import { addLongDouble, formatLongDoubleHuman, parseLongDouble } from '../src/util/longdouble.js';
import { RequestParser, ProtocolError, splitArgs } from '../src/protocol/parser.js';
import { startVireo, tempDir } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';
import { Crc64 } from '../persistence/rdb/crc64.js';
import { readIntset, readListpack, writeIntset, writeListpack } from '../persistence/rdb/compact.js';
import { AccessPolicy, AccessTable, KeyAccess } from '../src/engine/access.js';
import { PackedNode, packedOf } from '../src/types/list-node.js';
import { putUint, uintDigits } from '../src/util/bytes.js';
import { IdMap } from '../src/types/id-map.js';
import { eq } from '../src/commands/util.js';
import { OutputArena, ReplyWriter, WriterMark } from '../src/protocol/writer.js';
import { parseId } from '../src/types/stream-id.js';

/** Bit-by-bit CRC16/XMODEM, independent of the table-driven one under test. */
function crc16Bitwise(s: string): number {
  let crc = 0;
  for (let i = 0; i < s.length; i++) {
    crc ^= s.charCodeAt(i) << 8;
    for (let b = 0; b < 8; b++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

describe('hash slots', () => {
  it('match cluster-key-slot for ASCII keys, hash tags included', () => {
    // cluster-key-slot departs from Redis' keyHashSlot when an empty tag "{}"
    // is followed by another '}' (it then hashes what lies between), so such
    // keys are checked against the rule itself below.
    const degenerate = (k: string) => /\{\}[^]*\}/.test(k.slice(k.indexOf('{')));
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'b', '{', '}', 'x', '1', ':') }), (k) => {
        if (!degenerate(k)) expect(keySlot(k)).toBe(generateSlot(k));
      }),
      { numRuns: 2000 },
    );
    for (const k of ['{}a}', 'x{}{b}', '{}}']) expect(keySlot(k)).toBe(crc16Bitwise(k) & 0x3fff);
    expect(keySlot('a{b}c')).toBe(crc16Bitwise('b') & 0x3fff);
    expect(keySlot('123456789')).toBe(0x31c3 & 0x3fff);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
  });

  it('hash bytes >= 0x80 as bytes (latin1), like Redis', () => {
    const key = '\xff\x80abc';
    expect(keySlot(key)).toBe(generateSlot(Buffer.from(key, 'latin1')));
  });
});

describe('numbers', () => {
  it('int64Text writes a double as the int64 it stands for: exact digits, never an exponent, clamped to int64', () => {
    expect(int64Text(2 ** 63)).toBe('9223372036854775807');
    expect(int64Text(1e21)).toBe('9223372036854775807');
    expect(int64Text(-(2 ** 63))).toBe('-9223372036854775808');
    expect(int64Text(-1e30)).toBe('-9223372036854775808');
    expect(int64Text(2 ** 53 + 2)).toBe('9007199254740994');
    expect(int64Text(9223372036854774784)).toBe('9223372036854774784');
    expect(int64Text(-5)).toBe('-5');
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), (v) => {
        // The text is always an int64, and the double it names is the double given.
        const text = int64Text(Number(v));
        expect(BigInt(text) <= 2n ** 63n - 1n && BigInt(text) >= -(2n ** 63n)).toBe(true);
        expect(Number(text)).toBe(Number(v));
      }),
    );
  });

  it('formatDouble follows Redis 7.2 (integers plain, shortest round-trip digits)', () => {
    expect(formatDouble(1.1)).toBe('1.1');
    expect(formatDouble(3)).toBe('3');
    expect(formatDouble(-0)).toBe('-0');
    expect(formatDouble(1e15)).toBe('1000000000000000');
    expect(formatDouble(1e20)).toBe('1e+20');
    expect(formatDouble(1.5e300)).toBe('1.5e+300');
    expect(formatDouble(0.0001)).toBe('0.0001');
    expect(formatDouble(1e-7)).toBe('1e-7');
    expect(formatDouble(Infinity)).toBe('inf');
    fc.assert(
      fc.property(fc.double({ noNaN: true }), (d) => {
        expect(Number(formatDouble(d).replace('inf', 'Infinity'))).toBe(d);
      }),
    );
  });

  it('parseDouble and parseLong accept exactly what strtod/string2ll accept', () => {
    expect(parseDouble('1e400')).toBe(null);
    expect(parseDouble('1e-400')).toBe(null);
    expect(parseDouble('inf')).toBe(Infinity);
    expect(parseDouble('-Infinity')).toBe(-Infinity);
    expect(parseDouble(' 1')).toBe(null);
    expect(parseDouble('0x1p3')).toBe(8);
    expect(parseDouble('nan')).toBe(null);
    expect(parseLong('-0')).toBe(null);
    expect(parseLong('007')).toBe(null);
    expect(parseLong('9223372036854775807')).toBe(9223372036854775807);
    expect(parseLong('9223372036854775808')).toBe(null);
    expect(Object.is(parseDouble('-0'), -0)).toBe(true);
    expect(parseDouble('+')).toBe(null);
    expect(parseDouble('-')).toBe(null);
    // Integer-looking text (the fast path) parses as strtod does, i.e. as Number().
    fc.assert(
      fc.property(fc.constantFrom('', '-', '+'), fc.stringMatching(/^[0-9]{1,17}$/), (sign, digits) => {
        expect(Object.is(parseDouble(sign + digits), Number(sign + digits))).toBe(true);
      }),
    );
  });

  it('putUint and uintDigits write any safe integer as String() does (reply headers, integer replies)', () => {
    const edges = [0, 9, 10, 99, 100, 2147483647, 2147483648, 9999999999, 10000000000, Number.MAX_SAFE_INTEGER];
    const buf = Buffer.alloc(32);
    const check = (n: number) => {
      const end = putUint(buf, 3, n);
      expect(buf.latin1Slice(3, end)).toBe(String(n));
      expect(uintDigits(n)).toBe(String(n).length);
    };
    edges.forEach(check);
    fc.assert(fc.property(fc.oneof(fc.nat(), fc.integer({ min: 0, max: 2 ** 32 }), fc.maxSafeNat()), (n) => check(n)), { numRuns: 3000 });
  });

  it('long double sums print like %.17Lf', () => {
    const add = (a: string, b: string) => formatLongDoubleHuman(addLongDouble(parseLongDouble(a)!, parseLongDouble(b)!)!);
    expect(add('10.5', '0.1')).toBe('10.6');
    expect(add('0', '0.1')).toBe('0.1');
    expect(add('1.1', '2.2')).toBe('3.3');
    expect(add('-1', '1')).toBe('0');
    expect(add('5.0e3', '2.0e2')).toBe('5200');
  });
});

describe('request parser', () => {
  const parse = (s: string) => {
    const p = new RequestParser({ maxBulkLen: 1024 * 1024, authenticated: true });
    p.feed(Buffer.from(s, 'latin1'));
    const out: string[][] = [];
    let a: string[] | null;
    while ((a = p.next()) !== null) out.push(a);
    return out;
  };
  it('parses any split of a pipeline the same way', () => {
    const text = '*2\r\n$3\r\nGET\r\n$3\r\nabc\r\nPING x "y z"\r\n*1\r\n$4\r\nPING\r\n';
    const whole = parse(text);
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: text.length - 1 }), { maxLength: 6 }), (cuts) => {
        const p = new RequestParser({ maxBulkLen: 1024 * 1024, authenticated: true });
        const points = [...new Set(cuts)].sort((a, b) => a - b);
        const out: string[][] = [];
        let last = 0;
        for (const c of [...points, text.length]) {
          p.feed(Buffer.from(text.slice(last, c), 'latin1'));
          last = c;
          let a: string[] | null;
          while ((a = p.next()) !== null) out.push(a);
        }
        expect(out).toEqual(whole);
      }),
    );
  });
  it('rejects a bulk over proto-max-bulk-len', () => {
    expect(() => parse('*1\r\n$2000000\r\n')).toThrow(ProtocolError);
  });
  it('splits inline lines exactly as splitArgs (Redis sdssplitargs) does, on the plain-word fast path too', () => {
    // Lines from an alphabet with every character the rules treat specially.
    const ch = fc.constantFrom('a', 'B', '7', ' ', '\t', '\r', '\v', '\f', '"', "'", '\\', 'x', '\0', '\u00e9', '\u00ff', '-');
    fc.assert(
      fc.property(fc.array(ch, { maxLength: 40 }).map((cs) => cs.join('')), (line) => {
        // Lines starting with '*' are multibulk, not inline.
        fc.pre(!line.startsWith('*'));
        const expected = splitArgs(line);
        let got: string[][] | Error;
        try {
          got = parse(line + '\n');
        } catch (e) {
          got = e as Error;
        }
        // Redis finds the newline with strchr: after a NUL byte it is never found.
        if (line.includes('\0')) expect(got).toEqual([]);
        else if (expected === null) expect(got).toBeInstanceOf(ProtocolError);
        else expect(got).toEqual(expected.length === 0 ? [] : [expected]);
      }),
      { numRuns: 2000 },
    );
  });

  it('hands back the exact bytes of canonical commands only', () => {
    const p = new RequestParser({ maxBulkLen: 1024, authenticated: true });
    p.feed(Buffer.from('*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n', 'latin1'));
    const first = p.next()!;
    expect(p.rawArgv).toBe(null);
    expect(first).toEqual(['PING']);
    const second = p.next()!;
    expect(p.rawArgv).toBe(second);
    expect(p.rawBuffer.latin1Slice(p.rawStart, p.rawEnd)).toBe('*1\r\n$4\r\nPING\r\n');
  });
});

describe('unix socket', () => {
  it('serves on unixsocket with unixsocketperm', async () => {
    const dir = tempDir();
    const sock = path.join(dir, 'vireo.sock');
    const v = await startVireo({ unixsocket: sock, unixsocketperm: '700' });
    try {
      expect(fs.statSync(sock).mode & 0o777).toBe(0o700);
      const c = await RespClient.connectPath(sock);
      expect(toJs(await c.call('SET', 'u', '1'))).toBe('OK');
      const info = toJs(await c.call('CLIENT', 'INFO')) as string;
      expect(info).toContain(`addr=${sock}:0`);
      expect(info).toMatch(/flags=U/);
      c.close();
    } finally {
      await v.stop();
    }
    expect(fs.existsSync(sock)).toBe(false);
  });
});

/** Bit-by-bit CRC-64/Jones (reflected), independent of the sliced tables under test. */
function crc64Bitwise(data: Uint8Array): bigint {
  const poly = 0x95ac9329ac4bc9b5n;
  let crc = 0n;
  for (const byte of data) {
    crc ^= BigInt(byte);
    for (let b = 0; b < 8; b++) crc = crc & 1n ? (crc >> 1n) ^ poly : crc >> 1n;
  }
  return crc;
}

describe('CRC-64 (RDB trailers, DUMP payloads)', () => {
  it("matches Redis' test vector and a bitwise CRC for any length and split", () => {
    expect(new Crc64().update(Buffer.from('123456789')).value).toBe(0xe9c6d914c4b8d9can);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 70 }), fc.nat(70), (data, cut) => {
        const at = Math.min(cut, data.length);
        const split = new Crc64().update(data, 0, at).update(data, at, data.length);
        expect(split.value).toBe(crc64Bitwise(data));
        // The trailer bytes are the value, little endian.
        expect(split.digestLE().readBigUInt64LE(0)).toBe(split.value);
      }),
    );
  });

  it('the native loop (long runs) and the JS loop agree, at any offset and split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 200, maxLength: 3000 }), fc.nat(3000), fc.nat(40), (data, cut, skip) => {
        const from = Math.min(skip, data.length);
        const at = Math.min(from + cut, data.length);
        const mixed = new Crc64().update(data, from, at).update(data, at, data.length);
        const js = new Crc64().updateJs(data, from, data.length);
        expect(mixed.value).toBe(js.value);
        expect(js.value).toBe(crc64Bitwise(data.subarray(from)));
      }),
      { numRuns: 200 },
    );
  });
});

describe('socket I/O', () => {
  it('a client that stops reading gets every reply intact and in order once it reads again', async () => {
    const v = await startVireo();
    try {
      const c = await RespClient.connect(v.port);
      const value = Buffer.alloc(100_000);
      for (let i = 0; i < value.length; i++) value[i] = (i * 31) & 0xff;
      await c.call('SET', 'big', value);
      // 300 x 100 kB replies: far more than the socket buffers hold, so writes queue up.
      const wire = Array.from({ length: 300 }, (_, i) => `*2\r\n$4\r\nECHO\r\n$${String(i).length}\r\n${i}\r\n*2\r\n$3\r\nGET\r\n$3\r\nbig\r\n`).join('');
      c.writeRaw(wire);
      await new Promise((r) => setTimeout(r, 200));
      for (let i = 0; i < 300; i++) {
        expect((await c.read()).reply.value).toBe(String(i));
        const { raw } = await c.read();
        expect(raw.subarray(raw.indexOf('\r\n') + 2, raw.length - 2).equals(value)).toBe(true);
      }
      c.close();
    } finally {
      await v.stop();
    }
  });
});

describe('access table (per-key OBJECT IDLETIME / FREQ words)', () => {
  it('behaves as a Map under any sequence of sets and deletes, through growth and backward-shift deletion', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.string({ maxLength: 6 }), word: fc.nat(0xffffff) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.string({ maxLength: 6 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const table = new AccessTable();
        const model = new Map<string, number>();
        for (const o of ops) {
          // Fresh string objects, as keys arrive from clients.
          const key = [...o.key].join('');
          if (o.kind === 'set') {
            table.set(key, o.word);
            model.set(o.key, o.word);
          } else {
            table.delete(key);
            model.delete(o.key);
          }
          expect(table.size).toBe(model.size);
        }
        for (const [k, w] of model) expect(table.get(k)).toBe(w);
        for (const o of ops) if (!model.has(o.key)) expect(table.get(o.key)).toBe(-1);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps every word through growth to thousands of keys and shrinking back', () => {
    const table = new AccessTable();
    for (let i = 0; i < 5000; i++) table.set(`key:${i}`, i);
    for (let i = 0; i < 4990; i++) table.delete(`key:${i}`);
    expect(table.size).toBe(10);
    for (let i = 0; i < 5000; i++) expect(table.get(`key:${i}`)).toBe(i < 4990 ? -1 : i);
  });

  it('keeps the word of every key through creation, touches and deletion (KeyAccess)', () => {
    const op = fc.record({ kind: fc.constantFrom('created' as const, 'touched' as const, 'deleted' as const), key: fc.string({ maxLength: 4 }), at: fc.nat(100000) });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
        const policy = new AccessPolicy();
        const access = new KeyAccess(policy);
        const model = new Map<string, number>();
        for (const o of ops) {
          policy.nowMs = o.at * 1000;
          if (o.kind === 'created') {
            if (model.has(o.key)) continue; // the keyspace creates only missing keys
            access.created(o.key, 0);
            model.set(o.key, policy.lruClock());
          } else if (o.kind === 'touched') {
            if (!model.has(o.key)) continue;
            access.touched(o.key);
            model.set(o.key, policy.lruClock());
          } else {
            if (!model.has(o.key)) continue;
            access.deleted(o.key);
            model.delete(o.key);
          }
        }
        for (const [k, w] of model) expect(access.word(k)).toBe(w);
      }),
      { numRuns: 200 },
    );
  });
});

describe('packed list nodes', () => {
  /** Latin1 strings of 0..300 bytes (any byte value): both length encodings of an entry and the boundary at 127/128. */
  const element = fc.oneof(
    fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((b) => String.fromCharCode(b)), maxLength: 8 }),
    fc.integer({ min: 120, max: 300 }).map((n) => String.fromCharCode(97 + (n % 26)).repeat(n)),
  );
  type Op =
    | { op: 'pushFront' | 'pushBack'; s: string }
    | { op: 'popFront' | 'popBack' }
    | { op: 'insertAt' | 'set'; i: number; s: string }
    | { op: 'removeAt'; i: number }
    | { op: 'removeRange'; i: number; n: number }
    | { op: 'clone' };
  const ops = fc.array(
    fc.oneof(
      { weight: 4, arbitrary: fc.record({ op: fc.constantFrom('pushFront' as const, 'pushBack' as const), s: element }) },
      { weight: 2, arbitrary: fc.record({ op: fc.constantFrom('popFront' as const, 'popBack' as const) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constantFrom('insertAt' as const, 'set' as const), i: fc.nat(40), s: element }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('removeAt' as const), i: fc.nat(40) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('removeRange' as const), i: fc.nat(40), n: fc.nat(5) }) },
      { weight: 1, arbitrary: fc.record({ op: fc.constant('clone' as const) }) },
    ),
    { maxLength: 120 },
  );

  it('behave as an array under any sequence of edits, reading forward, backward and as reply bytes', () => {
    fc.assert(
      fc.property(ops, (seq) => {
        let node = new PackedNode();
        const model: string[] = [];
        for (const o of seq) {
          if (o.op === 'pushFront') (node.pushFront(o.s), model.unshift(o.s));
          else if (o.op === 'pushBack') (node.pushBack(o.s), model.push(o.s));
          else if (model.length === 0) continue;
          else if (o.op === 'popFront') expect(node.popFront()).toBe(model.shift());
          else if (o.op === 'popBack') expect(node.popBack()).toBe(model.pop());
          else if (o.op === 'insertAt') {
            const i = o.i % (model.length + 1);
            node.insertAt(i, o.s);
            model.splice(i, 0, o.s);
          } else if (o.op === 'set') {
            const i = o.i % model.length;
            node.set(i, o.s);
            model[i] = o.s;
          } else if (o.op === 'removeAt') {
            const i = o.i % model.length;
            expect(node.removeAt(i)).toBe(model.splice(i, 1)[0]);
          } else if (o.op === 'removeRange') {
            const i = o.i % model.length;
            const n = Math.min(o.n, model.length - i);
            node.removeRange(i, n);
            model.splice(i, n);
          } else node = node.clone();
          expect(node.len).toBe(model.length);
        }
        expect(node.toArray()).toEqual(model);
        expect(node.bytes).toBe(packedOf(model).bytes);
        for (let i = 0; i < model.length; i++) expect(node.get(i)).toBe(model[i]);
        if (model.length === 0) return;
        const back: string[] = [];
        node.visit(model.length - 1, true, (s) => (back.push(s), true));
        expect(back).toEqual([...model].reverse());
        // emit() hands out the bytes of each element, forward and backward.
        const sink = { got: [] as string[], bulkBytes: (b: Buffer, s: number, e: number) => sink.got.push(b.latin1Slice(s, e)), bulk: (s: string) => sink.got.push(s) };
        const from = Math.floor(model.length / 3);
        expect(node.emit(from, false, 1000, sink)).toBe(model.length - from);
        expect(node.emit(from, true, 2, sink)).toBe(Math.min(2, from + 1));
        expect(sink.got).toEqual([...model.slice(from), ...model.slice(Math.max(0, from - 1), from + 1).reverse()]);
      }),
      { numRuns: 300 },
    );
  });
});

describe('listpack and intset writers (RDB, DUMP)', () => {
  const element = fc.oneof(
    fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 70 }),
    fc.bigInt({ min: -(1n << 63n), max: (1n << 63n) - 1n }).map(String),
    fc.integer({ min: -5000, max: 5000 }).map(String),
    fc.constantFrom('-0', '01', '+1', '9223372036854775808', 'x'.repeat(5000)),
  );
  it('every element reads back exactly (integers in integer encodings, strings of every length class)', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 40 }), (entries) => {
        expect(readListpack(writeListpack(entries))).toEqual(entries);
      }),
      { numRuns: 300 },
    );
  });
  it('integers take Redis\' smallest encodings', () => {
    expect([...writeListpack(['5'])]).toEqual([9, 0, 0, 0, 1, 0, 5, 1, 0xff]);
    expect([...writeListpack(['-1'])]).toEqual([10, 0, 0, 0, 1, 0, 0xdf, 0xff, 2, 0xff]);
    expect([...writeListpack(['ab'])]).toEqual([11, 0, 0, 0, 1, 0, 0x82, 0x61, 0x62, 3, 0xff]);
  });
  it('intsets choose the narrowest width and read back', () => {
    for (const members of [[1n, 2n], [-40000n, 3n], [-1n, 5000000000n]]) {
      expect(readIntset(writeIntset(members))).toEqual(members.map(String));
    }
    expect(writeIntset([1n]).readUInt32LE(0)).toBe(2);
    expect(writeIntset([1n << 40n]).readUInt32LE(0)).toBe(8);
  });
});

describe('IdMap (pending entries lists)', () => {
  const key = (n: number) => String.fromCharCode(n >> 8, n & 255);
  const op = fc.oneof(
    fc.integer({ min: 0, max: 400 }).map((n) => ({ set: n })),
    fc.integer({ min: 0, max: 400 }).map((n) => ({ del: n })),
    fc.constant({ delFirst: true }),
    fc.constant({ delLast: true }),
  );
  it('inserts and deletes anywhere (first, last, middle, across chunk splits) keep the keys in order', () => {
    fc.assert(
      // Enough operations for chunks of 256 keys to split and for deletes to hit keys in the middle.
      fc.property(fc.array(op, { minLength: 300, maxLength: 1500 }), (ops) => {
        const m = new IdMap<number>();
        const ref = new Map<string, number>();
        for (const o of ops) {
          if ('set' in o) {
            expect(m.set(key(o.set), o.set)).toBe(!ref.has(key(o.set)));
            ref.set(key(o.set), o.set);
          } else {
            const sorted = [...ref.keys()].sort();
            const k = 'del' in o ? key(o.del) : 'delFirst' in o ? sorted[0] : sorted[sorted.length - 1];
            if (k === undefined) continue;
            expect(m.delete(k)).toBe(ref.get(k));
            ref.delete(k);
          }
        }
        const walked: [string, number][] = [];
        m.forEachFrom(null, (k, v) => walked.push([k, v]) > 0);
        expect(walked).toEqual([...ref.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)));
        expect(m.size).toBe(ref.size);
      }),
      { numRuns: 100 },
    );
  });
});

describe('option keywords (eq)', () => {
  const keywords = ['count', 'block', 'streams', 'group', 'noack', 'maxlen', 'minid', 'keepttl', 'ex', 'withscores', 'x', 'nomkstream', 'tls-port', 'a_b', 'z9'];
  // Each keyword's letters in either case, or any latin1 character in their place (À-Þ lowercase to à-þ, never to ASCII).
  const variant = fc.constantFrom(...keywords).chain((k) =>
    fc.tuple(fc.constant(k), fc.array(fc.oneof(fc.constant(-1), fc.integer({ min: 0, max: 255 })), { minLength: k.length, maxLength: k.length })).map(([kw, picks]) => [
      kw,
      [...kw].map((ch, i) => (picks[i]! < 0 ? (i % 2 ? ch.toUpperCase() : ch) : String.fromCharCode(picks[i]!))).join(''),
    ]),
  );
  it('matches exactly when the lowercased argument is the keyword', () => {
    fc.assert(
      fc.property(variant, fc.constantFrom(...keywords), ([kw, arg], other) => {
        expect(eq(arg!, kw!)).toBe(arg!.toLowerCase() === kw);
        expect(eq(arg!, other)).toBe(arg!.toLowerCase() === other);
      }),
      { numRuns: 2000 },
    );
    expect(eq('CoUnT', 'count')).toBe(true);
    expect(eq('COUNT ', 'count')).toBe(false);
  });
});

describe('stream ID parsing', () => {
  // A trailing NUL byte means nothing to Redis (C reads up to it) but takes parseId off its fast path.
  const part = fc.oneof(fc.stringMatching(/^[0-9]{1,21}$/), fc.constantFrom('0', '00', '007', '', '18446744073709551615', '18446744073709551616', '9007199254740993', '+1', ' 1', '-1', '*'));
  it('the plain `<ms>-<seq>` fast path reads every ID as the full parser does', () => {
    fc.assert(
      fc.property(part, part, fc.boolean(), fc.boolean(), (ms, seq, strict, wildcard) => {
        const s = `${ms}-${seq}`;
        expect(parseId(s, 0, strict, wildcard)).toEqual(parseId(`${s}\0`, 0, strict, wildcard));
      }),
      { numRuns: 3000 },
    );
    expect(parseId('1700000000000-7', 0, true)).toEqual({ id: { ms: 1700000000000, seq: 7 }, seqGiven: true });
  });
});

describe('ReplyWriter rollback (a command that throws halfway through its reply)', () => {
  const text = (w: ReplyWriter): string => Buffer.concat(w.takeChunks() ?? []).toString('latin1');

  it('drops what was written since the mark, in the open region, after another writer took the arena, and across a deferred header', () => {
    const arena = new OutputArena();
    const w = new ReplyWriter(arena);
    const other = new ReplyWriter(arena);
    const mark = new WriterMark();

    w.simple('OK');
    w.markAt(mark);
    w.array(3);
    w.bulk('a');
    w.rollbackTo(mark);
    w.error('ERR boom');
    expect(text(w)).toBe('+OK\r\n-ERR boom\r\n');

    // Another writer seals this one's region between the mark and the failure.
    w.integer(1);
    w.markAt(mark);
    w.array(2);
    other.simple('THEIRS');
    w.bulk('x');
    w.rollbackTo(mark);
    w.error('ERR boom');
    expect(text(w)).toBe(':1\r\n-ERR boom\r\n');
    expect(text(other)).toBe('+THEIRS\r\n');

    // A deferred array header opened after the mark is forgotten with it.
    w.markAt(mark);
    w.deferArray();
    w.bulk('y');
    w.rollbackTo(mark);
    w.simple('after');
    expect(text(w)).toBe('+after\r\n');
  });
});
