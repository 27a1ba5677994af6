// Protocol edge cases, byte for byte against redis-server: inline commands,
// pipelines, malformed input (same `Protocol error` text, connection closed,
// server and other clients unaffected), binary-safe arguments.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import net from 'node:net';
import { HAVE_REDIS, startVireo } from './helpers/servers.js';
import { encodeCommand } from './helpers/resp.js';

describe.skipIf(!HAVE_REDIS)('protocol (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('answers inline and multibulk PING identically', async () => {
    await pair.checkRaw('PING\r\n', 1);
    await pair.checkRaw('*1\r\n$4\r\nPING\r\n', 1);
    await pair.checkRaw('ping hello\n', 1);
    await pair.checkRaw('\r\n\r\nPING\r\n', 1);
  });

  it('parses inline quoting like sdssplitargs', async () => {
    await pair.checkRaw('SET "a b" "c\\nd\\x41\\"q"\r\nGET "a b"\r\n', 2);
    await pair.checkRaw("SET k 'it\\'s'\r\nGET k\r\n", 2);
    await pair.checkRaw('ECHO "\\x4x"\r\n', 1);
  });

  it('handles deep pipelines in one write', async () => {
    let s = '';
    for (let i = 0; i < 3000; i++) s += `*3\r\n$3\r\nSET\r\n$${String(i).length + 2}\r\nk:${i}\r\n$${String(i).length}\r\n${i}\r\n`;
    for (let i = 0; i < 3000; i++) s += `GET k:${i}\r\n`;
    await pair.checkRaw(s, 6000);
  });

  it('accepts commands split across many writes', async () => {
    const cmd = encodeCommand(['SET', 'split', 'x'.repeat(100000)]);
    const get = encodeCommand(['GET', 'split']);
    const collect = async (which: 'redis' | 'vireo') => {
      const c = pair[which];
      for (let i = 0; i < cmd.length; i += 7919) {
        c.writeRaw(cmd.subarray(i, i + 7919));
        await new Promise((r) => setImmediate(r));
      }
      c.writeRaw(get);
      return Buffer.concat([(await c.read()).raw, (await c.read()).raw]);
    };
    const [a, b] = await Promise.all([collect('redis'), collect('vireo')]);
    expect(b.equals(a)).toBe(true);
  });

  it('is binary safe in keys and values', async () => {
    const bin = Buffer.from([0, 255, 13, 10, 128, 36, 42, 0]);
    const set = encodeCommand(['SET', bin, Buffer.concat([bin, bin])]);
    const get = encodeCommand(['GET', bin]);
    await pair.checkRaw(Buffer.concat([set, get]), 2);
  });

  const malformed: [string, string][] = [
    ['invalid multibulk length', '*abc\r\n'],
    ['multibulk count over INT_MAX', '*3000000000\r\n'],
    ['invalid bulk length', '*1\r\n$abc\r\n'],
    ['negative bulk length', '*1\r\n$-1\r\n'],
    ['bulk length with leading zero', '*1\r\n$04\r\nPING\r\n'],
    ['missing $', '*1\r\nfoo\r\n'],
    ['bulk over proto-max-bulk-len', '*1\r\n$600000000\r\n'],
    ['unbalanced quotes', 'SET "a b\r\n'],
    ['closing quote followed by a char', 'SET "a"b c\r\n'],
  ];
  for (const [name, bytes] of malformed) {
    it(`closes the connection on ${name}, after earlier replies`, async () => {
      const p = await pair.connect();
      await p.checkRaw('PING\r\n' + bytes, 2);
      await Promise.all([p.redis.waitClosed(), p.vireo.waitClosed()]);
      // The server is still up for everybody else.
      await pair.check('PING');
    });
  }

  it('rejects an inline request over 64KB without a newline', async () => {
    const p = await pair.connect();
    await p.checkRaw('x'.repeat(70 * 1024), 1);
    await Promise.all([p.redis.waitClosed(), p.vireo.waitClosed()]);
  });

  it('skips *0 and *-1 like Redis', async () => {
    await pair.checkRaw('*0\r\n*-1\r\nPING\r\n', 1);
  });

  it('skips a negative count down to LLONG_MIN and closes on one below it (found by the fuzzer)', async () => {
    await pair.checkRaw('*-9223372036854775808\r\n*-123\r\nPING\r\n', 1);
    for (const count of ['-9223372036854775809', '-9999999999999999999', '9223372036854775808', '-99999999999999999999']) {
      const p = await pair.connect();
      await p.checkRaw(`PING\r\n*${count}\r\nPING\r\n`, 2);
      await Promise.all([p.redis.waitClosed(), p.vireo.waitClosed()]);
    }
  });

  it('does not check the two bytes after a bulk payload', async () => {
    await pair.checkRaw('*2\r\n$4\r\nECHOXY$3\r\nabcZZ', 1);
  });

  it('error texts carry no newline: trailing ones are trimmed, inner ones become spaces (found by the fuzzer)', async () => {
    await pair.check('SET', 'k', 'v');
    await pair.check('EXPIRE', 'k', '100', 'bad\r\noption\n');
    await pair.check('EXPIRE', 'k', '100', '\nbad');
    await pair.check('NOSUCH', 'a\r\n', '\n');
    await pair.check('CONFIG', 'SET', 'maxmemory-policy', 'x\n');
  });

  it('replies to unknown and wrong-arity commands with Redis errors', async () => {
    await pair.check('NOSUCHCOMMAND', 'a', 'b');
    await pair.check('nosuch', 'x'.repeat(300));
    await pair.check('GET');
    await pair.check('GET', 'a', 'b');
    await pair.check('CONFIG');
    await pair.check('CONFIG', 'NOSUCH');
    await pair.check('client', 'kill');
  });
});

describe('partial commands of many clients at once', () => {
  it('keeps each client its own half-received command while the others read (the shared read and join buffers)', async () => {
    const v = await startVireo();
    const CLIENTS = 8;
    const COMMANDS = 400;
    // A value of 1..300 bytes per command, so commands straddle reads at every offset.
    const value = (c: number, i: number) => `${c}:${i}:`.padEnd(1 + ((c * 131 + i * 17) % 300), String.fromCharCode(97 + ((c + i) % 26)));
    const sockets: net.Socket[] = [];
    try {
      const received = Array.from({ length: CLIENTS }, () => [] as Buffer[]);
      const expected: Buffer[] = [];
      const streams: Buffer[] = [];
      for (let c = 0; c < CLIENTS; c++) {
        const s = net.connect(v.port, '127.0.0.1');
        s.on('data', (d: Buffer) => received[c]!.push(d));
        await new Promise((r) => s.once('connect', r));
        sockets.push(s);
        const req: Buffer[] = [];
        let want = '';
        for (let i = 0; i < COMMANDS; i++) {
          const k = `{c${c}}k${i}`;
          const val = value(c, i);
          req.push(encodeCommand(['SET', k, val]), encodeCommand(['GET', k]));
          want += `+OK\r\n$${val.length}\r\n${val}\r\n`;
        }
        streams.push(Buffer.concat(req));
        expected.push(Buffer.from(want, 'latin1'));
      }
      // Round robin over the clients, a fragment of 1..2000 bytes each, a turn of the event loop between rounds.
      let seed = 12345;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) & 0x7fffffff;
        return 1 + (seed % n);
      };
      const sent = new Array<number>(CLIENTS).fill(0);
      while (sent.some((n, c) => n < streams[c]!.length)) {
        for (let c = 0; c < CLIENTS; c++) {
          const n = Math.min(rand(2000), streams[c]!.length - sent[c]!);
          if (n <= 0) continue;
          sockets[c]!.write(streams[c]!.subarray(sent[c]!, sent[c]! + n));
          sent[c]! += n;
        }
        await new Promise((r) => setTimeout(r, 0));
      }
      const deadline = Date.now() + 20000;
      while (received.some((r, c) => Buffer.concat(r).length < expected[c]!.length) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      for (let c = 0; c < CLIENTS; c++) expect(Buffer.concat(received[c]!).toString('latin1')).toBe(expected[c]!.toString('latin1'));
    } finally {
      for (const s of sockets) s.destroy();
      await v.stop();
    }
  });
});
