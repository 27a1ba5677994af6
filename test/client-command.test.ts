// CLIENT subcommands with wrong arity or bad arguments, against
// redis-server: every answer (errors included) must be Redis'. The 7.2-only
// subcommands (NO-TOUCH, SETINFO) are checked against 7.2's texts directly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import { encodeCommand, toJs } from './helpers/resp.js';

describe.skipIf(!HAVE_REDIS)('CLIENT arguments (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('CLIENT KILL, old form and every filter, with illegal arguments', async () => {
    await pair.script([
      ['CLIENT', 'KILL'],
      ['CLIENT', 'KILL', '000.123.321.567:0000'],
      ['CLIENT', 'KILL', '127.0.0.1:'],
      ['CLIENT', 'KILL', ''],
      ['CLIENT', 'KILL', 'ID'],
      ['CLIENT', 'KILL', 'ID', '0'],
      ['CLIENT', 'KILL', 'ID', '-1'],
      ['CLIENT', 'KILL', 'ID', 'abc'],
      ['CLIENT', 'KILL', 'ID', '1.5'],
      ['CLIENT', 'KILL', 'ID', '99999999999999999999'],
      ['CLIENT', 'KILL', 'ID', '9223372036854775807'],
      ['CLIENT', 'KILL', 'ID', '123456789'],
      ['CLIENT', 'KILL', 'ID', 'abc', 'TYPE'],
      ['CLIENT', 'KILL', 'ID', '123456789', 'TYPE'],
      ['CLIENT', 'KILL', 'TYPE', 'foo'],
      ['CLIENT', 'KILL', 'TYPE', 'normal', 'ID'],
      ['CLIENT', 'KILL', 'TYPE', 'pubsub'],
      ['CLIENT', 'KILL', 'TYPE', 'master'],
      ['CLIENT', 'KILL', 'TYPE', 'slave'],
      ['CLIENT', 'KILL', 'TYPE', 'replica'],
      ['CLIENT', 'KILL', 'USER', 'nosuchuser'],
      ['CLIENT', 'KILL', 'USER', 'nosuchuser', 'ID', 'x'],
      ['CLIENT', 'KILL', 'ADDR', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'LADDR', '1.2.3.4:5'],
      ['CLIENT', 'KILL', 'SKIPME', 'maybe'],
      ['CLIENT', 'KILL', 'SKIPME', 'yes'],
      ['CLIENT', 'KILL', 'SKIPME', 'yes', 'ID'],
      ['CLIENT', 'KILL', 'MAXAGE', '10'],
      ['CLIENT', 'KILL', 'FOO', 'bar'],
      ['CLIENT', 'KILL', 'ADDR', '1.2.3.4:5', 'FOO', 'bar'],
      ['CLIENT', 'KILL', 'ADDR', '1.2.3.4:5', 'FOO'],
      ['CLIENT', 'KILL', 'ADDR', '1.2.3.4:5', 'ADDR', '1.2.3.4:6'],
    ]);
  });

  it('CLIENT KILL by address, old and new form, of another client and of itself', async () => {
    const victim = await pair.connect();
    const addrOf = async (c: DiffPair, side: 'redis' | 'vireo') => {
      const line = toJs(await c[side].call('CLIENT', 'INFO')) as string;
      return / addr=(\S+)/.exec(line)![1]!;
    };
    const [ra, va] = [await addrOf(victim, 'redis'), await addrOf(victim, 'vireo')];
    const [rk, vk] = await Promise.all([pair.redis.call('CLIENT', 'KILL', ra), pair.vireo.call('CLIENT', 'KILL', va)]);
    expect(toJs(vk)).toEqual(toJs(rk));
    const [rk2, vk2] = await Promise.all([pair.redis.call('CLIENT', 'KILL', ra), pair.vireo.call('CLIENT', 'KILL', va)]);
    expect(toJs(vk2)).toEqual(toJs(rk2));
    victim.close();
    // The old form may kill the caller itself; the new form skips it unless SKIPME no.
    const self = await pair.connect();
    const [rs, vs] = [await addrOf(self, 'redis'), await addrOf(self, 'vireo')];
    const [a, b] = await Promise.all([self.redis.call('CLIENT', 'KILL', 'ADDR', rs), self.vireo.call('CLIENT', 'KILL', 'ADDR', vs)]);
    expect(toJs(b)).toEqual(toJs(a));
    const [c, d] = await Promise.all([self.redis.call('CLIENT', 'KILL', rs), self.vireo.call('CLIENT', 'KILL', vs)]);
    expect(toJs(d)).toEqual(toJs(c));
    expect(toJs(d)).toBe('OK');
    await expect(self.vireo.call('PING')).rejects.toThrow();
    await expect(self.redis.call('PING')).rejects.toThrow();
    self.close();
  });

  it('CLIENT LIST / INFO / ID / GETNAME / SETNAME / REPLY / NO-EVICT / PAUSE / UNPAUSE / CACHING with bad arguments', async () => {
    await pair.script([
      ['CLIENT'],
      ['CLIENT', 'FOO'],
      ['CLIENT', 'LIST', 'TYPE'],
      ['CLIENT', 'LIST', 'TYPE', 'foo'],
      ['CLIENT', 'LIST', 'TYPE', 'master'],
      ['CLIENT', 'LIST', 'TYPE', 'replica'],
      ['CLIENT', 'LIST', 'TYPE', 'pubsub'],
      ['CLIENT', 'LIST', 'TYPE', 'normal', 'extra'],
      ['CLIENT', 'LIST', 'ID'],
      ['CLIENT', 'LIST', 'ID', 'abc'],
      ['CLIENT', 'LIST', 'ID', '0'],
      ['CLIENT', 'LIST', 'ID', '-5'],
      ['CLIENT', 'LIST', 'ID', '999999', 'x'],
      ['CLIENT', 'LIST', 'ID', '99999999999999999999'],
      ['CLIENT', 'LIST', 'ID', '999999'],
      ['CLIENT', 'LIST', 'FOO'],
      ['CLIENT', 'LIST', 'FOO', 'bar'],
      ['CLIENT', 'INFO', 'x'],
      ['CLIENT', 'ID', 'x'],
      ['CLIENT', 'GETNAME', 'x'],
      ['CLIENT', 'SETNAME'],
      ['CLIENT', 'SETNAME', 'a', 'b'],
      ['CLIENT', 'SETNAME', 'a b'],
      ['CLIENT', 'SETNAME', 'a\nb'],
      ['CLIENT', 'SETNAME', 'é'],
      ['CLIENT', 'SETNAME', '~ok!'],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'SETNAME', ''],
      ['CLIENT', 'GETNAME'],
      ['CLIENT', 'REPLY'],
      ['CLIENT', 'REPLY', 'maybe'],
      ['CLIENT', 'REPLY', 'on', 'x'],
      ['CLIENT', 'REPLY', 'ON'],
      ['CLIENT', 'NO-EVICT'],
      ['CLIENT', 'NO-EVICT', 'maybe'],
      ['CLIENT', 'NO-EVICT', 'on', 'x'],
      ['CLIENT', 'NO-EVICT', 'ON'],
      ['CLIENT', 'NO-EVICT', 'off'],
      ['CLIENT', 'PAUSE'],
      ['CLIENT', 'PAUSE', 'abc'],
      ['CLIENT', 'PAUSE', '-1'],
      ['CLIENT', 'PAUSE', '1.5'],
      ['CLIENT', 'PAUSE', '99999999999999999999'],
      ['CLIENT', 'PAUSE', 'abc', 'foo'],
      ['CLIENT', 'PAUSE', '-1', 'foo'],
      ['CLIENT', 'PAUSE', '10', 'foo'],
      ['CLIENT', 'PAUSE', '10', 'write', 'extra'],
      ['CLIENT', 'PAUSE', 'abc', 'write', 'extra'],
      ['CLIENT', 'PAUSE', '0', 'WRITE'],
      ['CLIENT', 'PAUSE', '0', 'all'],
      ['CLIENT', 'UNPAUSE', 'x'],
      ['CLIENT', 'UNPAUSE'],
      ['CLIENT', 'HELP', 'x'],
      ['CLIENT', 'CACHING'],
      ['CLIENT', 'CACHING', 'yes'],
      ['CLIENT', 'CACHING', 'no'],
      ['CLIENT', 'CACHING', 'maybe'],
      ['CLIENT', 'CACHING', 'yes', 'x'],
      ['PING'],
    ]);
  });

  it("CLIENT HELP: every line of the reference's help, in its order (7.2 adds SETINFO and NO-TOUCH)", async () => {
    const [ref, ours] = await Promise.all([pair.redis.call('CLIENT', 'HELP'), pair.vireo.call('CLIENT', 'HELP')]);
    // 7.2 words the last line 'Print this help.' (KNOWN_DIFFERENCES).
    const redisLines = (toJs(ref) as string[]).map((l) => (l === '    Prints this help.' ? '    Print this help.' : l));
    const vireoLines = toJs(ours) as string[];
    let at = 0;
    for (const line of redisLines) {
      const found = vireoLines.indexOf(line, at);
      expect(found, `missing or out of order: ${line}`).toBeGreaterThanOrEqual(0);
      at = found + 1;
    }
  });

  it('CLIENT INFO cmd= names the command looked up last: queued, refused for its arity, or NULL when unknown', async () => {
    const sequences = [
      [['MULTI'], ['SET', 'a', '1'], ['GET', 'a']],
      [['MULTI'], ['GETX']],
      [['PING'], ['FOOCMD']],
      [['PING'], ['GET']],
      [['PING'], ['CONFIG', 'FOO']],
      [['MULTI'], ['GET', 'a'], ['EXEC']],
    ];
    for (const commands of sequences) {
      const twin = await pair.connect();
      const cmdField = async (c: typeof twin.redis, observer: typeof twin.redis) => {
        const id = toJs(await c.call('CLIENT', 'ID'));
        for (const cmd of commands) await c.call(...cmd);
        // Seen from another connection: the connection's own CLIENT INFO would name itself.
        const list = toJs(await observer.call('CLIENT', 'LIST')) as string;
        return /cmd=(\S+)/.exec(list.split('\n').find((l) => l.startsWith(`id=${id} `))!)![1];
      };
      const [a, b] = await Promise.all([cmdField(twin.redis, pair.redis), cmdField(twin.vireo, pair.vireo)]);
      expect(b, JSON.stringify(commands)).toBe(a);
      twin.redis.close();
      twin.vireo.close();
    }
  });

  it('CLIENT REPLY OFF and SKIP mute refused commands too, and a refused command uses SKIP up', async () => {
    const pipelines = [
      // Unknown command, wrong arity, unknown subcommand, syntax error: all silent while OFF.
      [['CLIENT', 'REPLY', 'OFF'], ['FOOCMD'], ['GET'], ['CONFIG', 'FOO'], ['SET', 'a', 'b', 'c'], ['SET', 'a', '1'], ['CLIENT', 'REPLY', 'ON'], ['PING', 'z']],
      // SKIP mutes the refused command after it, and only that one.
      [['CLIENT', 'REPLY', 'SKIP'], ['GET'], ['PING', 'y'], ['GET']],
      // A RESP2 subscriber cannot run CLIENT REPLY ON: refused, and muted since replies are off.
      [['CLIENT', 'REPLY', 'OFF'], ['SUBSCRIBE', 'c1'], ['CLIENT', 'REPLY', 'ON'], ['UNSUBSCRIBE'], ['CLIENT', 'REPLY', 'ON'], ['PING', 'w']],
    ];
    for (const commands of pipelines) {
      const twin = await pair.connect();
      const replies = async (c: typeof twin.redis) => {
        // A last PING always answers: everything before it has answered or stayed silent by then.
        for (const cmd of [...commands, ['PING', 'end']]) c.writeRaw(encodeCommand(cmd));
        const out: unknown[] = [];
        while (out[out.length - 1] !== 'end') {
          const r = toJs((await c.read()).reply);
          out.push(r instanceof Error ? `ERR:${r.message}` : r);
        }
        return out;
      };
      const [a, b] = await Promise.all([replies(twin.redis), replies(twin.vireo)]);
      expect(b, JSON.stringify(commands)).toEqual(a);
      twin.redis.close();
      twin.vireo.close();
    }
  });

  // Redis 7.2 answers; the 7.0 reference has no NO-TOUCH or SETINFO and
  // accepts a pause timeout that overflows (7.2 refuses it, redis/redis#11338).
  it('7.2-only: CLIENT NO-TOUCH, SETINFO, PAUSE timeout overflow', async () => {
    const v = async (...args: string[]) => toJs(await pair.vireo.call(...args));
    const err = (m: string) => new Error(m);
    expect(await v('CLIENT', 'NO-TOUCH')).toEqual(err("ERR wrong number of arguments for 'client|no-touch' command"));
    expect(await v('CLIENT', 'NO-TOUCH', 'maybe')).toEqual(err('ERR syntax error'));
    expect(await v('CLIENT', 'NO-TOUCH', 'on', 'x')).toEqual(err("ERR wrong number of arguments for 'client|no-touch' command"));
    expect(await v('CLIENT', 'NO-TOUCH', 'ON')).toBe('OK');
    expect(await v('CLIENT', 'NO-TOUCH', 'off')).toBe('OK');
    expect(await v('CLIENT', 'SETINFO', 'lib-name')).toEqual(err("ERR wrong number of arguments for 'client|setinfo' command"));
    expect(await v('CLIENT', 'SETINFO', 'lib-name', 'a', 'b')).toEqual(err("ERR wrong number of arguments for 'client|setinfo' command"));
    expect(await v('CLIENT', 'SETINFO', 'foo', 'x')).toEqual(err("ERR Unrecognized option 'foo'"));
    expect(await v('CLIENT', 'SETINFO', 'LIB-NAME', 'a b')).toEqual(err('ERR LIB-NAME cannot contain spaces, newlines or special characters.'));
    expect(await v('CLIENT', 'SETINFO', 'lib-ver', 'a\n')).toEqual(err('ERR lib-ver cannot contain spaces, newlines or special characters.'));
    expect(await v('CLIENT', 'SETINFO', 'lib-name', 'redis-py(x)')).toBe('OK');
    expect(await v('CLIENT', 'PAUSE', '9223372036854775807')).toEqual(err('ERR timeout is out of range'));
    expect(await v('CLIENT', 'PAUSE', '9223372036854775807', 'WRITE')).toEqual(err('ERR timeout is out of range'));
    expect(await v('PING')).toBe('PONG');
  });
});
