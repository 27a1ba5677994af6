// No single client can crash, hang or starve the server (issue 9): counts a
// client sends are bounded before they size anything, huge replies stream,
// inline input follows sdssplitargs/strchr exactly, MONITOR redacts
// secrets, and a bug in one command answers -ERR instead of killing the
// process. Differential against redis-server where Redis itself copes.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS, startVireo, startVireoProcess, type VireoHandle } from './helpers/servers.js';
import { RespClient, encodeCommand, toJs, type Reply } from './helpers/resp.js';
import { infoField } from './helpers/info.js';

/** Send raw bytes on a fresh connection; collect what comes back until it closes or `ms` pass. */
function rawExchange(port: number, data: Buffer | Buffer[], ms = 1500): Promise<{ out: string; closed: boolean }> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let out = '';
    let done = false;
    const finish = (closed: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ out, closed });
    };
    const timer = setTimeout(() => finish(false), ms);
    s.on('data', (d) => (out += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => finish(true));
    for (const d of Array.isArray(data) ? data : [data]) s.write(d);
  });
}

/** Read the first `bytes` bytes a command answers (then hang up), and how long the first byte took. */
function readPrefix(port: number, cmd: string[], bytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    const parts: Buffer[] = [];
    let n = 0;
    s.on('data', (d) => {
      parts.push(d);
      n += d.length;
      if (n >= bytes) {
        s.destroy();
        resolve(Buffer.concat(parts).subarray(0, bytes));
      }
    });
    s.on('error', reject);
    s.write(encodeCommand(cmd));
  });
}


describe.skipIf(!HAVE_REDIS)('client-given counts are bounded (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
    await pair.script([
      ['SADD', 's', 'a', 'b', 'c'],
      ['HSET', 'h', 'f1', 'v1', 'f2', 'v2'],
      ['ZADD', 'z', '1', 'a', '2', 'b'],
      ['RPUSH', 'l', 'x', 'y', 'x'],
    ]);
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('answers the range errors Redis answers at the int64 edges', async () => {
    for (const n of ['-9223372036854775808', '9223372036854775808', '-9223372036854775809']) {
      await pair.check('SRANDMEMBER', 's', n);
      await pair.check('HRANDFIELD', 'h', n);
      await pair.check('HRANDFIELD', 'h', n, 'WITHVALUES');
      await pair.check('ZRANDMEMBER', 'z', n);
      await pair.check('ZRANDMEMBER', 'z', n, 'WITHSCORES');
    }
    // Redis 7.2 range-checks LPOS RANK (7.0 reads -2^63 as a rank).
    expect(await pair.vireo.call('LPOS', 'l', 'x', 'RANK', '-9223372036854775808')).toEqual({
      type: 'error',
      value: 'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807',
    });
    await pair.check('LPOS', 'l', 'x', 'RANK', '9223372036854775808');
    // A doubled count that would overflow: Redis' plain "value is out of range".
    for (const n of ['-9223372036854770000', '-4611686018427387904', '4611686018427387904']) {
      await pair.check('HRANDFIELD', 'h', n, 'WITHVALUES');
      await pair.check('ZRANDMEMBER', 'z', n, 'WITHSCORES');
    }
    await pair.check('LPOS', 'l', 'x', 'RANK', '-9223372036854775807');
    await pair.check('LPOS', 'l', 'x', 'RANK', '9223372036854775807');
  });

  it('answers negative counts with that many picks, in the same shape as Redis', async () => {
    for (const [cmd, extra] of [['SRANDMEMBER', []], ['HRANDFIELD', []], ['HRANDFIELD', ['WITHVALUES']], ['ZRANDMEMBER', ['WITHSCORES']]] as const) {
      const key = cmd === 'SRANDMEMBER' ? 's' : cmd === 'HRANDFIELD' ? 'h' : 'z';
      // 5000 picks: more than Vireo writes inline, so this goes through the streamed path.
      const [a, b] = await Promise.all([pair.redis.call(cmd, key, '-5000', ...extra), pair.vireo.call(cmd, key, '-5000', ...extra)]);
      expect(a.type).toBe('array');
      expect(b.type).toBe('array');
      if (a.type !== 'array' || b.type !== 'array') continue;
      expect(b.value!.length).toBe(a.value!.length);
      const kinds = (r: Reply[]) => new Set(r.map((x) => x.type));
      expect(kinds(b.value!)).toEqual(kinds(a.value!));
    }
    // The connection goes on normally after a streamed reply.
    await pair.check('SCARD', 's');
  });

  it('streams a big pick reply inside EXEC, with the later replies after it', async () => {
    const shape = (r: Reply): unknown =>
      r.type === 'array' && r.value !== null ? (r.value.length > 10 ? `array of ${r.value.length}` : r.value.map(shape)) : r;
    for (const c of [pair.redis, pair.vireo]) {
      c.writeRaw(encodeCommand(['MULTI']));
      c.writeRaw(encodeCommand(['SRANDMEMBER', 's', '-5000']));
      c.writeRaw(encodeCommand(['HRANDFIELD', 'h', '-3000', 'WITHVALUES']));
      c.writeRaw(encodeCommand(['PING']));
      c.writeRaw(encodeCommand(['EXEC']));
      c.writeRaw(encodeCommand(['ECHO', 'after']));
    }
    const read = async (c: RespClient) => {
      const out: unknown[] = [];
      for (let i = 0; i < 6; i++) out.push(shape((await c.read()).reply));
      return out;
    };
    const [a, b] = await Promise.all([read(pair.redis), read(pair.vireo)]);
    expect(b).toEqual(a);
  });
});

describe('random picks from big collections', () => {
  let v: VireoHandle;
  let c: RespClient;
  beforeAll(async () => {
    v = await startVireo();
    c = await RespClient.connect(v.port);
    // Hashtable / skiplist encodings: picks come from the tables, not from a copy.
    for (let i = 0; i < 20000; i += 1000) {
      const members = Array.from({ length: 1000 }, (_, j) => `m${i + j}`);
      await c.call('SADD', 'bigset', ...members);
      await c.call('HSET', 'bighash', ...members.flatMap((m) => [m, `v:${m}`]));
      await c.call('ZADD', 'bigzset', ...members.flatMap((m) => [m.slice(1), m]));
    }
  });
  afterAll(async () => {
    c?.close();
    await v?.stop();
  });

  const values = (r: Reply): string[] => {
    if (r.type !== 'array' || r.value === null) throw new Error(`not an array: ${JSON.stringify(r)}`);
    return r.value.map((x) => (x.type === 'bulk' ? (x.value ?? '') : JSON.stringify(x)));
  };

  it('single picks, distinct picks and repeated picks are real members with their values', async () => {
    for (let i = 0; i < 50; i++) {
      const m = await c.call('SRANDMEMBER', 'bigset');
      expect(m.type === 'bulk' && /^m\d+$/.test(m.value ?? '')).toBe(true);
      const f = await c.call('HRANDFIELD', 'bighash');
      expect(f.type === 'bulk' && /^m\d+$/.test(f.value ?? '')).toBe(true);
      const z = await c.call('ZRANDMEMBER', 'bigzset');
      expect(z.type === 'bulk' && /^m\d+$/.test(z.value ?? '')).toBe(true);
    }
    const distinct = values(await c.call('SRANDMEMBER', 'bigset', '100'));
    expect(new Set(distinct).size).toBe(100);
    const pairs = values(await c.call('HRANDFIELD', 'bighash', '100', 'WITHVALUES'));
    expect(new Set(pairs.filter((_, i) => i % 2 === 0)).size).toBe(100);
    for (let i = 0; i < pairs.length; i += 2) expect(pairs[i + 1]).toBe(`v:${pairs[i]}`);
    const scored = values(await c.call('ZRANDMEMBER', 'bigzset', '100', 'WITHSCORES'));
    expect(new Set(scored.filter((_, i) => i % 2 === 0)).size).toBe(100);
    for (let i = 0; i < scored.length; i += 2) expect(scored[i + 1]).toBe(scored[i]!.slice(1));
    const repeated = values(await c.call('ZRANDMEMBER', 'bigzset', '-300', 'WITHSCORES'));
    expect(repeated.length).toBe(600);
    for (let i = 0; i < repeated.length; i += 2) expect(repeated[i + 1]).toBe(repeated[i]!.slice(1));
  });
});

describe('huge counts stream without holding up the server', () => {
  let v: VireoHandle;
  beforeAll(async () => {
    v = await startVireo();
    const c = await RespClient.connect(v.port);
    await c.call('SADD', 's', 'a', 'b', 'c');
    await c.call('HSET', 'h', 'f1', 'v1');
    await c.call('ZADD', 'z', '1', 'a');
    c.close();
  });
  afterAll(async () => {
    await v?.stop();
  });

  it('sends the exact header of an int64 count and keeps serving others while it streams', async () => {
    const canary = await RespClient.connect(v.port);
    const cases: [string[], string][] = [
      [['SRANDMEMBER', 's', '-9223372036854775807'], '*9223372036854775807\r\n'],
      [['HRANDFIELD', 'h', '-4611686018427387903', 'WITHVALUES'], '*9223372036854775806\r\n'],
      [['ZRANDMEMBER', 'z', '-2147483648'], '*2147483648\r\n'],
    ];
    for (const [cmd, header] of cases) {
      const streaming = readPrefix(v.port, cmd, 8 * 1024 * 1024);
      // Other clients are served while the reply streams.
      for (let i = 0; i < 20; i++) expect(await canary.call('PING')).toEqual({ type: 'simple', value: 'PONG' });
      const got = await streaming;
      expect(got.latin1Slice(0, header.length)).toBe(header);
    }
    canary.close();
  });

  it('holds a streamed reply, and what came before it, behind the AOF under appendfsync always', async () => {
    const durable = await startVireo({ appendonly: 'yes', appendfsync: 'always' });
    try {
      const c = await RespClient.connect(durable.port);
      await c.call('SADD', 'q', 'a', 'b');
      c.writeRaw(Buffer.concat([encodeCommand(['SET', 'k', 'v']), encodeCommand(['SRANDMEMBER', 'q', '-5000']), encodeCommand(['GET', 'k'])]));
      expect((await c.read()).reply).toEqual({ type: 'simple', value: 'OK' });
      const picks = (await c.read()).reply;
      expect(picks.type === 'array' && picks.value?.length).toBe(5000);
      expect((await c.read()).reply).toEqual({ type: 'bulk', value: 'v' });
      c.close();
    } finally {
      await durable.stop();
    }
  });

  it('produces a streamed reply only as fast as the client reads it', async () => {
    const s = net.connect(v.port, '127.0.0.1');
    await new Promise((r) => s.once('connect', r));
    s.pause();
    s.write(encodeCommand(['SRANDMEMBER', 's', '-9223372036854775807']));
    await new Promise((r) => setTimeout(r, 300));
    const client = [...v.server.clients.values()].find((c) => c.lastCommand === 'srandmember' || c.current?.name === 'srandmember');
    expect(client).toBeDefined();
    // Bounded by the stream's low-water mark plus one piece, not growing.
    expect(client!.outputMemory).toBeLessThan(2 * 1024 * 1024);
    s.destroy();
  });
});

describe.skipIf(!HAVE_REDIS)('inline input and cursors as Redis reads them (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
    await pair.check('SET', 'a', '1');
  });
  afterAll(async () => {
    await pair?.stop();
  });

  async function sameRaw(data: Buffer | Buffer[], ms = 300): Promise<void> {
    const [a, b] = await Promise.all([rawExchange(pair.redisServer.port, data, ms), rawExchange(pair.vireoServer.port, data, ms)]);
    expect(b).toEqual(a);
  }

  it('splits words only where sdssplitargs does (\\v and \\f stay in a word)', async () => {
    for (const line of ['ECHO a\vb\r\n', 'ECHO \va\r\n', 'ECHO a\fb c\r\n', 'ECHO "a"\vb\r\n', 'ECHO "a"\v\r\n', '\v\fECHO\v a\r\n', 'ECHO a\tb\r\n']) {
      await sameRaw(Buffer.from(line + 'PING\r\n', 'latin1'));
    }
  });

  it('treats an inline line with a NUL byte as never ending, until the 64 KB limit', async () => {
    await sameRaw(Buffer.from('ECHO a\0b\r\nPING\r\n', 'latin1'));
    const filler = Buffer.alloc(70 * 1024, 'x');
    await sameRaw([Buffer.from('ECHO a\0b\r\nPING\r\n', 'latin1'), filler], 3000);
  });

  it('closes an inline request past 64 KB without a newline, in one write or many', async () => {
    await sameRaw(Buffer.alloc(100 * 1024, 'a'), 3000);
    const pieces = Array.from({ length: 20 }, () => Buffer.alloc(4096, 'b'));
    await sameRaw(pieces, 3000);
    for (const start of ['\0', '*\0', '$\0']) {
      await sameRaw([Buffer.from(start, 'latin1'), ...Array.from({ length: 12000 }, () => Buffer.from('payload'))], 3000);
    }
  });

  it('treats a count line with a NUL before its CR as incomplete, as strchr finds the CR', async () => {
    for (const start of ['*1\0\r\n$4\r\nPING\r\n', '*1\r\n$4\0\r\nPING\r\n', '*2\r\n$4\r\nECHO\r\nx\0\r\n']) {
      await sameRaw(Buffer.from(start, 'latin1'));
      await sameRaw([Buffer.from(start, 'latin1'), Buffer.alloc(70 * 1024, 'y')], 3000);
    }
  });

  it('prints arguments in error texts up to their first NUL byte, as %s does', async () => {
    await pair.check('NOSUCH\0CMD', 'a\0b', 'c');
    await pair.check('CONFIG', 'NO\0SUCH');
    await pair.check('CLIENT', 'NO\0SUCH');
    await pair.check('DEBUG', 'NO\0SUCH');
    await pair.check('COMMAND', 'NO\0SUCH');
    await pair.check('CLIENT', 'LIST', 'TYPE', 'no\0rmal');
    await pair.check('HELLO', '3', 'SETNAMEX\0', 'x');
    await pair.check('EXPIRE', 'a', '10', 'X\0X');
  });

  it('answers a rejected EXEC with EXECABORT, inside MULTI or not, and unwatches', async () => {
    await pair.check('WATCH', 'a');
    await pair.check('EXEC', 'x');
    const other = await pair.connect();
    await other.check('SET', 'a', 'changed');
    // The WATCH was dropped by the aborted EXEC: this transaction runs.
    await pair.script([['MULTI'], ['GET', 'a'], ['EXEC'], ['MULTI'], ['PING'], ['EXEC', 'x'], ['EXEC']]);
    other.close();
  });

  it('reads a SCAN cursor up to its first NUL byte, as strtoul does', async () => {
    await pair.check('SCAN', '\0');
    await pair.check('SCAN', '\0abc');
    await pair.check('SCAN', '');
    await pair.check('SCAN', ' 1');
    await pair.check('HSET', 'h', 'f', 'v');
    await pair.check('HSCAN', 'h', '\0');
  });
});

describe.skipIf(!HAVE_REDIS)('MONITOR redacts secrets (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('prints AUTH and HELLO ... AUTH arguments as (redacted)', async () => {
    const monitor = await pair.connect();
    await monitor.check('MONITOR');
    const commands = [
      ['AUTH', 'secret'],
      ['AUTH', 'user', 'secret'],
      ['HELLO', '3', 'AUTH', 'default', 'secret', 'SETNAME', 'x'],
      ['HELLO', '2', 'SETNAME', 'y', 'AUTH', 'default', 'secret'],
      ['HELLO', '2', 'AUTH'],
      ['SET', 'k', 'secret'],
    ];
    for (const cmd of commands) await pair.check(...cmd);
    const lines = async (c: RespClient) => {
      const out: string[] = [];
      for (let i = 0; i < commands.length; i++) {
        const r = (await c.read()).reply;
        // Drop the timestamp and client address: "<ts> [0 127.0.0.1:port] ..."
        out.push(r.type === 'simple' ? r.value.replace(/^\S+ \[\d+ [^\]]+\] /, '') : JSON.stringify(r));
      }
      return out;
    };
    const [a, b] = await Promise.all([lines(monitor.redis), lines(monitor.vireo)]);
    expect(b).toEqual(a);
    expect(b.join('\n')).not.toMatch(/secret"(?! *$)/);
    monitor.close();
  });
});

describe.skipIf(!HAVE_REDIS)('MONITOR of scripts (differential)', () => {
  it('shows EVAL, EVALSHA and FCALL before the commands they run, also when they fail', async () => {
    const pair = await DiffPair.start();
    try {
      await pair.check('FUNCTION', 'LOAD', "#!lua name=mon\nredis.register_function('f', function(keys) return redis.call('incr', keys[1]) end)");
      const sha = toJs(await pair.check('SCRIPT', 'LOAD', "return redis.call('get', KEYS[1])")) as string;
      const monitor = await pair.connect();
      await monitor.check('MONITOR');
      const commands = [
        ['EVAL', "redis.call('set', KEYS[1], ARGV[1]) return 1", '1', 'e', 'v'],
        ['EVALSHA', sha, '1', 'e'],
        ['EVALSHA', '0'.repeat(40), '0'],
        ['EVAL', 'return 1', '0'],
        ['EVAL_RO', "return redis.call('get', KEYS[1])", '1', 'e'],
        ['FCALL', 'f', '1', 'cnt'],
        ['FCALL', 'nosuch', '0'],
        ['SET', 'after', 'x'],
      ];
      for (const cmd of commands) await pair.check(...cmd);
      // Lines up to the last command's: the scripts' own lines, then those of the commands they ran.
      const lines = async (c: RespClient) => {
        const out: string[] = [];
        while (out[out.length - 1] !== '"SET" "after" "x"') {
          const r = (await c.read()).reply;
          out.push(r.type === 'simple' ? r.value.replace(/^\S+ \[(\d+) (lua|[^\]]+)\] /, (_m, db: string, who: string) => `[${db} ${who === 'lua' ? 'lua' : 'client'}] `).replace(/^\[\d+ client\] /, '') : JSON.stringify(r));
        }
        return out;
      };
      const [a, b] = await Promise.all([lines(monitor.redis), lines(monitor.vireo)]);
      expect(b).toEqual(a);
      expect(b.some((l) => l.startsWith('"EVALSHA"'))).toBe(true);
      monitor.close();
    } finally {
      await pair.stop();
    }
  });
});

describe('MONITOR of a command with a huge argument', () => {
  it('sends the escaped line (four times the argument) without the server running out of string space', async () => {
    const v = await startVireoProcess(['--save', '']);
    try {
      // 140 MB of NUL bytes: each shows as "\x00", 560 M characters, past V8's string limit.
      const size = 140 * 1024 * 1024;
      const monitor = net.connect(v.port, '127.0.0.1');
      await new Promise((r) => monitor.once('connect', r));
      let received = 0;
      let tail = '';
      const gotLine = new Promise<void>((resolve) => {
        monitor.on('data', (d: Buffer) => {
          received += d.length;
          tail = d.latin1Slice(Math.max(0, d.length - 2));
          if (received > 4 * size && tail === '\r\n') resolve();
        });
      });
      monitor.write('MONITOR\r\n');
      await new Promise((r) => setTimeout(r, 100));
      const writer = await RespClient.connect(v.port);
      writer.writeRaw(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${size}\r\n`);
      writer.writeRaw(Buffer.alloc(size));
      writer.writeRaw('\r\n');
      const ok = await writer.read().catch((e: Error) => { throw new Error(e.message + v.output()); });
      expect(ok.reply).toEqual({ type: 'simple', value: 'OK' });
      await gotLine;
      expect(await writer.call('STRLEN', 'k')).toEqual({ type: 'integer', value: String(size) });
      writer.close();
      monitor.destroy();
    } finally {
      await v.stop();
    }
  }, 60_000);
});

describe.skipIf(!HAVE_REDIS)('client-query-buffer-limit (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start({ 'client-query-buffer-limit': '1mb' });
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('closes a client past the limit once, counting it once', async () => {
    const before = await pair.vireo.call('INFO', 'stats');
    // A 4 MB bulk argument, in 64 KB writes: the limit is passed once, then more data keeps coming.
    const header = Buffer.from('*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$4194304\r\n', 'latin1');
    const body = Array.from({ length: 64 }, () => Buffer.alloc(65536, 'v'));
    const [a, b] = await Promise.all([
      rawExchange(pair.redisServer.port, [header, ...body], 3000),
      rawExchange(pair.vireoServer.port, [header, ...body], 3000),
    ]);
    expect(a.closed).toBe(true);
    expect(b).toEqual(a);
    // The counter is Redis 7.2's (7.0 has none to compare with).
    const after = await pair.vireo.call('INFO', 'stats');
    const field = 'client_query_buffer_limit_disconnections';
    expect(Number(infoField(after, field)) - Number(infoField(before, field))).toBe(1);
  });
});

describe('an exception inside a command', () => {
  let v: VireoHandle;
  beforeAll(async () => {
    // test/setup.ts sets VIREO_DEBUG_EXCEPTIONS=1 for every test server.
    v = await startVireo();
  });
  afterAll(async () => {
    await v?.stop();
  });

  it('answers -ERR naming the command and the exception; the server and the connection go on', async () => {
    const strlen = v.server.table.lookup('strlen')!;
    const original = strlen.run;
    strlen.run = () => {
      throw new TypeError('injected failure');
    };
    try {
      const c = await RespClient.connect(v.port);
      const r = await c.call('STRLEN', 'k');
      expect(r.type).toBe('error');
      expect(r.type === 'error' && r.value).toMatch(/^ERR internal error executing 'strlen': TypeError: injected failure at /);
      expect(await c.call('PING')).toEqual({ type: 'simple', value: 'PONG' });
      expect(infoField(await c.call('INFO', 'stats'), 'vireo_internal_errors')).toBe('1');
      c.close();
    } finally {
      strlen.run = original;
    }
  });

  it('closes only the connection whose input handling failed', async () => {
    const victim = await RespClient.connect(v.port);
    const other = await RespClient.connect(v.port);
    await victim.call('CLIENT', 'SETNAME', 'victim');
    const client = [...v.server.clients.values()].find((c) => c.ctx.name === 'victim')!;
    client.parser.next = () => {
      throw new RangeError('injected parser failure');
    };
    victim.writeRaw('PING\r\n');
    const r = (await victim.read()).reply;
    expect(r.type === 'error' && r.value).toMatch(/^ERR internal error reading input: RangeError: injected parser failure/);
    await victim.waitClosed();
    expect(await other.call('PING')).toEqual({ type: 'simple', value: 'PONG' });
    other.close();
  });
});

describe.skipIf(!HAVE_REDIS)('argument reading the fuzzer found different (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('reads memory values as memtoull and integers as string2ll in CONFIG SET', async () => {
    for (const v of ['b', '', '064kb', '1KB', '-1', '1 kb', '1tb', 'x', '12\0junk']) {
      await pair.check('CONFIG', 'SET', 'hash-max-listpack-value', v);
      await pair.check('CONFIG', 'GET', 'hash-max-listpack-value');
    }
    for (const v of ['01', '-0', '+1', ' 1', '1 ', '0']) {
      await pair.check('CONFIG', 'SET', 'hash-max-listpack-entries', v);
      await pair.check('CONFIG', 'GET', 'hash-max-listpack-entries');
    }
    await pair.check('CONFIG', 'SET', 'hash-max-listpack-value', '64', 'hash-max-listpack-entries', '128');
    // A bad value is reported under the parameter's own name, not as typed (an alias, other case).
    await pair.check('CONFIG', 'SET', 'HASH-MAX-ZIPLIST-ENTRIES', 'x');
    await pair.check('CONFIG', 'SET', 'Maxmemory-Policy', 'nope');
    await pair.check('CONFIG', 'SET', 'NOTIFY-KEYSPACE-EVENTS', '!');
  });

  it('checks MEMORY USAGE options before the key and GETEX times after it', async () => {
    await pair.check('SET', 's', 'str');
    await pair.check('RPUSH', 'l', 'a');
    for (const opts of [['SAMPLES', 'x'], ['SAMPLES', '-1'], ['SAMPLES', '5', 'SAMPLES', '0'], ['FOO', '1'], ['SAMPLES']]) {
      await pair.check('MEMORY', 'USAGE', 'nokey', ...opts);
    }
    await pair.check('GETEX', 'missing', 'EX', 'x');
    await pair.check('GETEX', 'l', 'EX', '-1');
    await pair.check('GETEX', 's', 'EX', '-1');
    await pair.check('GETEX', 's', 'EX', 'x');
  });

  it('reads DEBUG SLEEP times with strtod', async () => {
    for (const t of ['x', ' 0.001xyz', '0', '-1', 'nan']) await pair.check('DEBUG', 'SLEEP', t);
  });
});
