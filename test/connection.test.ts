// Connection commands and RESP3 reply shapes against redis-server: HELLO,
// AUTH, SELECT, CLIENT *, RESET, QUIT, and the same data commands under
// RESP3 (maps, sets, doubles, nulls).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS, startVireo } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';

describe.skipIf(!HAVE_REDIS)('connection (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('PING ECHO HELLO', async () => {
    await pair.script([
      ['PING'],
      ['PING', 'hi'],
      ['PING', 'a', 'b'],
      ['ECHO', 'x'],
      ['ECHO'],
      ['HELLO'],
      ['HELLO', '2'],
      ['HELLO', '4'],
      ['HELLO', 'abc'],
      ['HELLO', '2', 'SETNAME', 'bad name'],
      ['HELLO', '2', 'SETNAME', 'good'],
      ['CLIENT', 'GETNAME'],
      ['HELLO', '2', 'FOO'],
      ['HELLO', '2', 'AUTH', 'default'],
      ['HELLO', '2', 'AUTH', 'default', 'nopass'],
    ]);
  });

  it('answers the same commands in RESP3', async () => {
    const p = await pair.connect();
    await p.check('HELLO', '3');
    await p.script([
      ['SET', 'k', 'v'],
      ['GET', 'nokey'],
      ['GET', 'k'],
      ['MGET', 'k', 'nokey'],
      ['SET', 'k', 'v', 'NX'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['LCS', 'k', 'k', 'IDX'],
      ['HELLO', '3'],
      ['EXEC'],
      ['MULTI'],
      ['GET', 'k'],
      ['EXEC'],
      ['WATCH', 'k'],
      ['SET', 'k', 'x'],
      ['MULTI'],
      ['EXEC'],
      ['INCRBYFLOAT', 'f', '1.5'],
      ['DEBUG', 'PROTOCOL', 'double'],
      ['DEBUG', 'PROTOCOL', 'map'],
      ['DEBUG', 'PROTOCOL', 'set'],
      ['DEBUG', 'PROTOCOL', 'true'],
      ['DEBUG', 'PROTOCOL', 'null'],
      ['DEBUG', 'PROTOCOL', 'bignum'],
      ['DEBUG', 'PROTOCOL', 'verbatim'],
      ['DEBUG', 'PROTOCOL', 'nosuch'],
      ['OBJECT', 'ENCODING', 'nokey'],
      ['CLIENT', 'GETNAME'],
      ['SCAN', '0', 'MATCH', 'nomatch*'],
    ]);
    p.close();
  });

  it('SELECT and CLIENT subcommands', async () => {
    await pair.script([
      ['SELECT', '15'],
      ['SELECT', '0'],
      ['CLIENT', 'SETNAME', 'a b'],
      ['CLIENT', 'SETNAME', 'a\nb'],
      ['CLIENT', 'SETNAME', 'conn-1'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', ''],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'ID'],
      ['CLIENT', 'NOSUCH'],
      ['CLIENT', 'KILL', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'ID', '99999'],
      ['CLIENT', 'KILL', 'ID', 'x'],
      ['CLIENT', 'KILL', 'TYPE', 'nosuch'],
      ['CLIENT', 'KILL', 'TYPE', 'master'],
      ['CLIENT', 'KILL', 'FOO', 'bar'],
      ['CLIENT', 'KILL', 'ID'],
      ['CLIENT', 'LIST', 'TYPE', 'nosuch'],
      ['CLIENT', 'LIST', 'ID', 'x'],
      ['CLIENT', 'LIST', 'FOO'],
      ['CLIENT', 'PAUSE', 'x'],
      ['CLIENT', 'PAUSE', '-1'],
      ['CLIENT', 'PAUSE', '10', 'FOO'],
      ['CLIENT', 'REPLY', 'FOO'],
      ['CLIENT', 'NO-EVICT', 'maybe'],
      ['CLIENT', 'NO-EVICT', 'on'],
      ['CLIENT', 'NO-EVICT', 'off'],
    ]);
  });

  it('CLIENT REPLY OFF / SKIP / ON', async () => {
    const p = await pair.connect();
    // OFF silences everything until ON; SKIP silences exactly the next command.
    const seq = 'CLIENT REPLY OFF\r\nSET a 1\r\nGET a\r\nCLIENT REPLY ON\r\nGET a\r\nCLIENT REPLY SKIP\r\nGET a\r\nPING\r\n';
    await p.checkRaw(seq, 3);
    p.close();
  });

  it('RESET and QUIT', async () => {
    const p = await pair.connect();
    await p.script([['SELECT', '3'], ['CLIENT', 'SETNAME', 'x'], ['HELLO', '3'], ['MULTI'], ['RESET'], ['CLIENT', 'GETNAME'], ['SET', 'rk', '1'], ['SELECT', '0'], ['GET', 'rk']]);
    await p.check('QUIT');
    await Promise.all([p.redis.waitClosed(), p.vireo.waitClosed()]);
  });
});

describe.skipIf(!HAVE_REDIS)('authentication (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start({ requirepass: 's3cret' });
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('requires AUTH and accepts the right password', async () => {
    const p = await pair.connect();
    await p.script([
      ['GET', 'k'],
      ['NOSUCH'],
      ['AUTH', 'wrong'],
      ['AUTH', 'default', 'wrong'],
      ['AUTH', 'nouser', 's3cret'],
      ['AUTH', 'a', 'b', 'c'],
      ['HELLO', '3'],
      ['HELLO', '2', 'AUTH', 'default', 'wrong'],
      ['HELLO', '2', 'AUTH', 'default', 's3cret'],
      ['SET', 'k', 'v'],
      ['RESET'],
      ['GET', 'k'],
      ['AUTH', 's3cret'],
      ['GET', 'k'],
    ]);
    p.close();
  });

  it('limits unauthenticated multibulk sizes like Redis', async () => {
    const p = await pair.connect();
    await p.checkRaw('*20\r\n', 1);
    await Promise.all([p.redis.waitClosed(), p.vireo.waitClosed()]);
    const q = await pair.connect();
    await q.checkRaw('*2\r\n$3\r\nGET\r\n$20000\r\n', 1);
    await Promise.all([q.redis.waitClosed(), q.vireo.waitClosed()]);
  });
});

describe('CLIENT LIST, INFO, KILL, PAUSE', () => {
  it('lists connections with Redis 7.2 fields and kills by id', async () => {
    const v = await startVireo();
    const a = await RespClient.connect(v.port);
    const b = await RespClient.connect(v.port);
    try {
      await a.call('CLIENT', 'SETNAME', 'alpha');
      await a.call('CLIENT', 'SETINFO', 'LIB-NAME', 'mylib');
      await a.call('CLIENT', 'SETINFO', 'lib-ver', '1.2');
      expect(toJs(await a.call('CLIENT', 'SETINFO', 'lib-name', 'bad name'))).toEqual(new Error('ERR lib-name cannot contain spaces, newlines or special characters.'));
      expect(toJs(await a.call('CLIENT', 'SETINFO', 'other', 'x'))).toEqual(new Error("ERR Unrecognized option 'other'"));
      const info = toJs(await a.call('CLIENT', 'INFO')) as string;
      const fields = Object.fromEntries(info.trim().split(' ').map((kv) => kv.split('=') as [string, string]));
      expect(Object.keys(fields)).toEqual([
        'id', 'addr', 'laddr', 'fd', 'name', 'age', 'idle', 'flags', 'db', 'sub', 'psub', 'ssub', 'multi', 'qbuf', 'qbuf-free',
        'argv-mem', 'multi-mem', 'rbs', 'rbp', 'obl', 'oll', 'omem', 'tot-mem', 'events', 'cmd', 'user', 'redir', 'resp', 'lib-name', 'lib-ver',
      ]);
      expect(fields.name).toBe('alpha');
      expect(fields['lib-name']).toBe('mylib');
      expect(fields['lib-ver']).toBe('1.2');
      expect(fields.cmd).toBe('client|info');
      expect(fields.flags).toBe('N');
      const bid = toJs(await b.call('CLIENT', 'ID')) as string;
      const list = toJs(await a.call('CLIENT', 'LIST')) as string;
      expect(list.trim().split('\n')).toHaveLength(2);
      const only = toJs(await a.call('CLIENT', 'LIST', 'ID', bid)) as string;
      expect(only).toContain(`id=${bid} `);
      expect(toJs(await a.call('CLIENT', 'KILL', 'ID', bid))).toBe('1');
      await b.waitClosed();
      expect(toJs(await a.call('CLIENT', 'KILL', 'ID', toJs(await a.call('CLIENT', 'ID')) as string))).toBe('0');
      expect(toJs(await a.call('CLIENT', 'KILL', 'ID', toJs(await a.call('CLIENT', 'ID')) as string, 'SKIPME', 'no'))).toBe('1');
      await a.waitClosed();
    } finally {
      a.close();
      b.close();
      await v.stop();
    }
  });

  it('CLIENT PAUSE WRITE holds writes but serves reads, UNPAUSE releases them in order', async () => {
    const v = await startVireo();
    const admin = await RespClient.connect(v.port);
    const w = await RespClient.connect(v.port);
    try {
      await admin.call('CLIENT', 'PAUSE', '10000', 'WRITE');
      const pending = w.call('SET', 'p', '1');
      let done = false;
      void pending.then(() => (done = true));
      expect(toJs(await admin.call('GET', 'p'))).toBe(null);
      await new Promise((r) => setTimeout(r, 100));
      expect(done).toBe(false);
      await admin.call('CLIENT', 'UNPAUSE');
      expect(toJs(await pending)).toBe('OK');
      expect(toJs(await admin.call('GET', 'p'))).toBe('1');
      await admin.call('CLIENT', 'PAUSE', '50', 'ALL');
      const t0 = Date.now();
      expect(toJs(await w.call('PING'))).toBe('PONG');
      expect(Date.now() - t0).toBeGreaterThanOrEqual(40);
    } finally {
      admin.close();
      w.close();
      await v.stop();
    }
  });

  it('MONITOR streams executed commands', async () => {
    const v = await startVireo();
    const m = await RespClient.connect(v.port);
    const c = await RespClient.connect(v.port);
    try {
      expect(toJs(await m.call('MONITOR'))).toBe('OK');
      await c.call('SET', 'mk', 'a "q"\n');
      await c.call('CONFIG', 'GET', 'port');
      await c.call('GET', 'mk');
      const first = toJs((await m.read()).reply) as string;
      expect(first).toMatch(/^\d+\.\d{6} \[0 127\.0\.0\.1:\d+\] "SET" "mk" "a \\"q\\"\\n"$/);
      // Admin commands are not shown.
      expect(toJs((await m.read()).reply) as string).toMatch(/"GET" "mk"$/);
    } finally {
      m.close();
      c.close();
      await v.stop();
    }
  });
});
