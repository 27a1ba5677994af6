/**
 * Pub/Sub, differential against redis-server 7.0: subscribed-mode replies
 * and errors in RESP2 and RESP3, messages, pattern and shard messages in
 * order, glob patterns, PUBSUB's subcommands, MULTI and scripts, RESET and
 * disconnections, CLIENT LIST and INFO, and keyspace notifications. Every
 * step runs on a connection to each server and the bytes each receives,
 * pushes included, must be equal.
 *
 * Then what Redis 7.2 changed (a push raised for the client whose own
 * command is running follows its reply: Vireo only, with 7.0's order
 * stated), and 10k channels with 1k patterns.
 * Real clients, the output limit and replication: pubsub-e2e.test.ts.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { RespClient, encodeCommand, toJs, type Reply } from './helpers/resp.js';
import { HAVE_REDIS, startVireo, type VireoHandle } from './helpers/servers.js';
import { infoNumber, waitFor } from './helpers/info.js';
import { useCleanups } from './helpers/cleanups.js';
import { encodeBulkArray, encodeMessage, withPushHeader } from '../src/pubsub/frames.js';

const { defer } = useCleanups();

/** Another connection to each server, closed after the test. */
async function connect(pair: DiffPair): Promise<DiffPair> {
  const c = await pair.connect();
  defer(() => c.close());
  return c;
}

function sendBoth(p: DiffPair, args: string[]): void {
  const bytes = encodeCommand(args);
  p.redis.writeRaw(bytes);
  p.vireo.writeRaw(bytes);
}

/** The next `n` frames (replies or pushes) of each side, compared byte for byte; Vireo's, parsed. */
async function next(p: DiffPair, n: number, what: string): Promise<Reply[]> {
  const a: Buffer[] = [];
  const b: Buffer[] = [];
  const replies: Reply[] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = await Promise.all([p.redis.read(), p.vireo.read()]);
    a.push(x.raw);
    b.push(y.raw);
    replies.push(y.reply);
  }
  const ra = Buffer.concat(a).latin1Slice();
  const rb = Buffer.concat(b).latin1Slice();
  if (ra !== rb) throw new Error(`mismatch for ${what}\n  redis: ${JSON.stringify(ra)}\n  vireo: ${JSON.stringify(rb)}`);
  return replies;
}

/** Run a command answered by `n` frames (one confirmation per name) on both; compared exactly. */
async function run(p: DiffPair, n: number, ...args: string[]): Promise<Reply[]> {
  sendBoth(p, args);
  return next(p, n, JSON.stringify(args));
}

/** A confirmation [kind, name, count] as plain values. */
function confirmation(r: Reply): [string, string | null, string] {
  const v = toJs(r) as [string, string | null, string];
  return [v[0], v[1], String(v[2])];
}

/**
 * UNSUBSCRIBE (or its pattern and shard forms) without arguments: Redis
 * walks the connection's own dict, in hash order. The kinds and the running
 * counts must agree in order, the names as a set.
 */
async function runUnordered(p: DiffPair, n: number, ...args: string[]): Promise<void> {
  sendBoth(p, args);
  const a: [string, string | null, string][] = [];
  const b: [string, string | null, string][] = [];
  for (let i = 0; i < n; i++) {
    const [x, y] = await Promise.all([p.redis.read(), p.vireo.read()]);
    a.push(confirmation(x.reply));
    b.push(confirmation(y.reply));
  }
  const shape = (l: [string, string | null, string][]) => ({ kinds: l.map((c) => `${c[0]}:${c[2]}`), names: l.map((c) => c[1]).sort() });
  expect(shape(b)).toEqual(shape(a));
}

/** A reply that is the PING drain() sends, in either protocol or mode. */
function isMarker(r: Reply): boolean {
  if (r.type === 'bulk') return r.value === 'drain-marker';
  if (r.type !== 'array' || r.value === null || r.value.length !== 2) return false;
  const [pong, arg] = r.value;
  return pong!.type === 'bulk' && pong!.value === 'pong' && arg!.type === 'bulk' && arg!.value === 'drain-marker';
}

/**
 * Everything each side received before a PING sent now, compared: the
 * pushes that were due, and nothing else. Returns Vireo's, parsed.
 */
async function drain(p: DiffPair, what: string): Promise<Reply[]> {
  sendBoth(p, ['PING', 'drain-marker']);
  const collect = async (c: RespClient) => {
    const raw: Buffer[] = [];
    const replies: Reply[] = [];
    for (;;) {
      const r = await c.read();
      if (isMarker(r.reply)) return { raw: Buffer.concat(raw).latin1Slice(), replies };
      raw.push(r.raw);
      replies.push(r.reply);
    }
  };
  const [a, b] = await Promise.all([collect(p.redis), collect(p.vireo)]);
  if (a.raw !== b.raw) throw new Error(`pushes differ (${what})\n  redis: ${JSON.stringify(a.raw)}\n  vireo: ${JSON.stringify(b.raw)}`);
  return b.replies;
}

/** Wait until both servers agree that `args` answers `want` (subscriptions of closed connections are dropped asynchronously). */
async function settled(p: DiffPair, want: unknown, ...args: string[]): Promise<void> {
  await waitFor(`${args.join(' ')} = ${JSON.stringify(want)}`, async () => {
    const [a, b] = await Promise.all([p.redis.call(...args), p.vireo.call(...args)]);
    return JSON.stringify(toJs(a)) === JSON.stringify(want) && JSON.stringify(toJs(b)) === JSON.stringify(want);
  });
}

describe.skipIf(!HAVE_REDIS)('Pub/Sub (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('RESP2 subscribed mode: confirmations with the running count, what is allowed, errors, PING', async () => {
    const s = await connect(pair);
    await run(s, 3, 'SUBSCRIBE', 'a', 'b', 'a');
    for (const cmd of [
      ['GET', 'x'],
      ['SET', 'x', '1'],
      ['CLIENT', 'LIST'],
      ['CLIENT', 'ID'],
      ['MULTI'],
      ['EXEC'],
      ['DISCARD'],
      ['WATCH', 'x'],
      ['SELECT', '1'],
      ['HELLO', '3'],
      ['AUTH', 'x'],
      ['PUBLISH', 'a', 'm'],
      ['PUBSUB', 'NUMSUB', 'a'],
      ['ECHO', 'x'],
      ['EVAL', 'return 1', '0'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['nosuch', 'x'],
      ['GET'],
      ['PING', 'a', 'b'],
      ['PING'],
      ['PING', 'hi'],
      ['PING', ''],
    ]) {
      await run(s, 1, ...cmd);
    }
    await run(s, 1, 'PSUBSCRIBE', 'a*');
    await run(s, 2, 'SSUBSCRIBE', 's1', 's2');
    await run(s, 1, 'SUNSUBSCRIBE', 's1');
    await run(s, 1, 'PUNSUBSCRIBE', 'nope');
    await run(s, 2, 'UNSUBSCRIBE', 'nope', 'b');
    await run(s, 1, 'GET', 'x');
    await run(s, 1, 'QUIT');
    await Promise.all([s.redis.waitClosed(), s.vireo.waitClosed()]);
  });

  it('(P|S)UNSUBSCRIBE: with nothing subscribed, names never subscribed, without arguments, leaving Pub/Sub mode', async () => {
    const s = await connect(pair);
    // Nothing subscribed: one confirmation with a null name, and no Pub/Sub mode.
    await run(s, 1, 'UNSUBSCRIBE');
    await run(s, 1, 'PUNSUBSCRIBE');
    await run(s, 1, 'SUNSUBSCRIBE');
    await run(s, 1, 'GET', 'x');
    await run(s, 2, 'UNSUBSCRIBE', 'a', 'b');
    await run(s, 1, 'GET', 'x');
    // Channels then patterns: UNSUBSCRIBE alone leaves the patterns, and the mode.
    await run(s, 3, 'SUBSCRIBE', 'c1', 'c2', 'c3');
    await run(s, 2, 'PSUBSCRIBE', 'p1*', 'p2*');
    await runUnordered(s, 3, 'UNSUBSCRIBE');
    await run(s, 1, 'GET', 'x');
    await run(s, 1, 'UNSUBSCRIBE');
    await runUnordered(s, 2, 'PUNSUBSCRIBE');
    await run(s, 1, 'GET', 'x');
    // Shard channels are counted apart, but keep the connection in Pub/Sub mode.
    await run(s, 1, 'SSUBSCRIBE', 'sh');
    await run(s, 1, 'SUBSCRIBE', 'c');
    await run(s, 1, 'UNSUBSCRIBE', 'c');
    await run(s, 1, 'GET', 'x');
    await run(s, 2, 'SSUBSCRIBE', 'sh', 'sh2');
    await runUnordered(s, 2, 'SUNSUBSCRIBE');
    await run(s, 1, 'SUNSUBSCRIBE');
    await run(s, 1, 'GET', 'x');
  });

  it('RESET and a closed connection drop every subscription', async () => {
    const s = await connect(pair);
    await run(s, 1, 'SUBSCRIBE', 'r1');
    await run(s, 1, 'PSUBSCRIBE', 'rp*');
    await run(s, 1, 'SSUBSCRIBE', 'rs');
    await run(s, 1, 'RESET');
    await run(s, 1, 'GET', 'x');
    await pair.check('PUBSUB', 'NUMSUB', 'r1');
    await pair.check('PUBSUB', 'SHARDNUMSUB', 'rs');
    await pair.check('PUBLISH', 'rp1', 'gone');
    // From RESP3 too: RESET is back to RESP2.
    await s.check('HELLO', '3');
    await run(s, 1, 'SUBSCRIBE', 'r1');
    await run(s, 1, 'RESET');
    await run(s, 1, 'GET', 'x');
    await pair.check('PUBSUB', 'NUMSUB', 'r1');

    const gone = await pair.connect();
    await run(gone, 2, 'SUBSCRIBE', 'd1', 'd2');
    await run(gone, 1, 'PSUBSCRIBE', 'dp*');
    await run(gone, 1, 'SSUBSCRIBE', 'ds');
    await pair.check('PUBSUB', 'NUMSUB', 'd1', 'd2');
    gone.close();
    await settled(pair, ['d1', '0', 'd2', '0'], 'PUBSUB', 'NUMSUB', 'd1', 'd2');
    await settled(pair, ['ds', '0'], 'PUBSUB', 'SHARDNUMSUB', 'ds');
    await pair.check('PUBLISH', 'dp1', 'gone');
  });

  it('RESP3: confirmations and messages are pushes, mixed with ordinary replies', async () => {
    const s = await connect(pair);
    await s.check('HELLO', '3');
    await run(s, 1, 'UNSUBSCRIBE');
    await run(s, 2, 'SUBSCRIBE', 'a', 'b');
    await run(s, 1, 'SET', 'k', 'v');
    await run(s, 1, 'GET', 'k');
    await run(s, 1, 'PING');
    await run(s, 1, 'PING', 'x');
    await pair.check('PUBLISH', 'a', 'm1');
    await next(s, 1, 'message a m1');
    await pair.check('PUBLISH', 'b', 'm2');
    // A message that arrived first, then the reply of a command sent after it.
    await run(s, 2, 'GET', 'k');
    await run(s, 1, 'PSUBSCRIBE', 'a*');
    await pair.check('PUBLISH', 'a', 'm3');
    await pair.check('PUBLISH', 'ab', 'm4');
    // m3 (as message and pmessage) and m4 come first, then the confirmation:
    // SPUBLISH must not be sent before the subscription is confirmed.
    await run(s, 4, 'SSUBSCRIBE', 'sh');
    await pair.check('SPUBLISH', 'sh', 'm5');
    await pair.check('SPUBLISH', 'a', 'not-for-channel-subscribers');
    await drain(s, 'messages, pattern and shard messages');
    await runUnordered(s, 2, 'UNSUBSCRIBE');
    await run(s, 1, 'PUNSUBSCRIBE', 'a*');
    await run(s, 1, 'SUNSUBSCRIBE', 'sh');
    await run(s, 1, 'UNSUBSCRIBE');
    // Back to RESP2 while still subscribed: the RESP2 rules apply at once.
    await run(s, 1, 'SUBSCRIBE', 'a');
    await s.check('HELLO', '2');
    await run(s, 1, 'GET', 'k');
  });

  it('messages, pattern messages and shard messages arrive in publishing order, binary-safe', async () => {
    const s = await connect(pair);
    await run(s, 2, 'SUBSCRIBE', 'ch1', 'ch2');
    await run(s, 1, 'PSUBSCRIBE', 'ch*');
    await run(s, 1, 'SSUBSCRIBE', 'ch1');
    const payloads = ['', 'plain', 'with\r\nCRLF', '\x00\x01\xff', 'é', 'x'.repeat(20000)];
    const publishes: string[][] = [];
    for (let i = 0; i < 300; i++) {
      const channel = ['ch1', 'ch2', 'ch3', 'other'][i % 4]!;
      publishes.push([i % 7 === 0 ? 'SPUBLISH' : 'PUBLISH', channel, `${i}:${payloads[i % payloads.length]}`]);
    }
    // Pipelined: every reply (the receivers) compared, then the subscriber's whole stream.
    const bytes = Buffer.concat(publishes.map((p) => encodeCommand(p)));
    pair.redis.writeRaw(bytes);
    pair.vireo.writeRaw(bytes);
    await next(pair, publishes.length, 'pipelined publishes');
    const got = await drain(s, 'the subscriber of 300 publishes');
    expect(got.length).toBeGreaterThan(300);
  });

  it('glob patterns match channels as KEYS matches keys', async () => {
    const patterns = ['*', 'h?llo', 'h*llo', 'h[ae]llo', 'h[^e]llo', 'h[a-b]llo', 'h[b-a]llo', 'news.*', 'news.[0-9]', '\\*', 'a\\?b', '[', 'x[', 'x[a', '*.*', 'caf\xe9*', '', '[\\]]', '**'];
    const channels = ['hello', 'hallo', 'hxllo', 'hbllo', 'hllo', 'heeeello', 'news.1', 'news.sport', '*', 'a?b', 'a\\?b', 'axb', '[', 'x[', 'xa', '', 'caf\xe9', 'caf\xe9s', ']', 'a.b.c'];
    // One connection per pattern: each receives at most one pmessage per publish, in a defined order.
    const subscribers: DiffPair[] = [];
    for (const pattern of patterns) {
      const s = await connect(pair);
      await run(s, 1, 'PSUBSCRIBE', pattern);
      subscribers.push(s);
    }
    for (const channel of channels) await pair.check('PUBLISH', channel, `to ${channel}`);
    for (let i = 0; i < patterns.length; i++) await drain(subscribers[i]!, `pattern ${JSON.stringify(patterns[i])}`);
    await pair.check('PUBSUB', 'NUMPAT');
  });

  it('PUBSUB CHANNELS, NUMSUB, NUMPAT, SHARDCHANNELS, SHARDNUMSUB, HELP and their errors', async () => {
    const s1 = await connect(pair);
    const s2 = await connect(pair);
    await run(s1, 3, 'SUBSCRIBE', 'news.a', 'news.b', 'sport');
    await run(s2, 1, 'SUBSCRIBE', 'news.a');
    // The empty name: listed by CHANNELS, but '*' does not match it (stringmatchlen).
    await run(s2, 1, 'SUBSCRIBE', '');
    await run(s1, 2, 'PSUBSCRIBE', 'p*', 'q*');
    await run(s2, 1, 'PSUBSCRIBE', 'p*');
    await run(s1, 2, 'SSUBSCRIBE', 'sh.a', 'sh.b');
    await run(s2, 1, 'SSUBSCRIBE', 'sh.a');
    for (const cmd of [
      ['PUBSUB', 'CHANNELS'],
      ['PUBSUB', 'CHANNELS', 'news.*'],
      ['PUBSUB', 'CHANNELS', 'nomatch*'],
      ['PUBSUB', 'CHANNELS', '*'],
      ['PUBSUB', 'channels', 'sh*'],
      ['PUBSUB', 'NUMSUB'],
      ['PUBSUB', 'NUMSUB', 'news.a', 'news.b', 'nope', 'news.a', 'p1'],
      ['PUBSUB', 'NUMPAT'],
      ['PUBSUB', 'SHARDCHANNELS'],
      ['PUBSUB', 'SHARDCHANNELS', '*.a'],
      ['PUBSUB', 'SHARDNUMSUB', 'sh.a', 'sh.b', 'news.a'],
      ['PUBSUB', 'SHARDNUMSUB'],
      ['PUBSUB', 'HELP'],
      ['PUBSUB'],
      ['PUBSUB', 'CHANNELS', 'a', 'b'],
      ['PUBSUB', 'SHARDCHANNELS', 'a', 'b'],
      ['PUBSUB', 'NUMPAT', 'x'],
      ['PUBSUB', 'HELP', 'x'],
      ['PUBSUB', 'NOSUCH'],
      ['PUBLISH', 'news.a'],
      ['PUBLISH', 'news.a', 'm', 'extra'],
      ['SPUBLISH', 'sh.a'],
      ['SUBSCRIBE'],
      ['PSUBSCRIBE'],
      ['SSUBSCRIBE'],
      // (PUBSUB itself lists its subcommands in dict order: each is compared on its own.)
      ['COMMAND', 'INFO', 'subscribe', 'unsubscribe', 'psubscribe', 'punsubscribe', 'ssubscribe', 'sunsubscribe', 'publish', 'spublish'],
      ['COMMAND', 'INFO', 'pubsub|channels', 'pubsub|numsub', 'pubsub|numpat', 'pubsub|shardchannels', 'pubsub|shardnumsub', 'pubsub|help'],
      ['COMMAND', 'GETKEYS', 'SPUBLISH', 'ch', 'm'],
    ]) {
      await pair.check(...cmd);
    }
    await pair.check('PUBLISH', 'news.a', 'both');
    await pair.check('PUBLISH', 'p1', 'both patterns of s1, one of s2');
    await pair.check('SPUBLISH', 'sh.a', 'm');
    await drain(s2, 'second subscriber');
  });

  it('MULTI: SUBSCRIBE and PSUBSCRIBE are allowed, SSUBSCRIBE refused; PUBLISH inside EXEC and from scripts', async () => {
    const s = await connect(pair);
    await run(s, 1, 'MULTI');
    await run(s, 1, 'SUBSCRIBE', 'tx');
    await run(s, 1, 'SSUBSCRIBE', 'tx');
    await run(s, 1, 'PSUBSCRIBE', 'tx*');
    await run(s, 1, 'PING');
    // Subscribed by then, PING inside EXEC answers in the subscribed form.
    await run(s, 1, 'EXEC');
    await run(s, 1, 'GET', 'x');
    // SUBSCRIBE of two channels answers twice inside EXEC too, as Redis does.
    const t = await connect(pair);
    await run(t, 1, 'MULTI');
    await run(t, 1, 'SUBSCRIBE', 'tx1', 'tx2');
    await run(t, 1, 'EXEC');
    await next(t, 1, 'the second confirmation after EXEC');

    const p = await connect(pair);
    await run(p, 1, 'MULTI');
    await run(p, 1, 'SET', 'k', 'v');
    await run(p, 1, 'PUBLISH', 'tx', 'from exec');
    await run(p, 1, 'EXEC');
    await pair.check('EVAL', "return redis.call('publish', ARGV[1], ARGV[2])", '0', 'tx', 'from a script');
    await pair.check('EVAL', "return redis.call('spublish', ARGV[1], ARGV[2])", '0', 'tx', 'shard');
    await pair.check('EVAL', "return redis.pcall('subscribe', 'x')", '0');
    await pair.check('EVAL_RO', "return redis.pcall('publish', 'tx', 'ro')", '0');
    await pair.check('FUNCTION', 'LOAD', "#!lua name=ps\nredis.register_function('pub', function(k, a) return redis.call('publish', a[1], a[2]) end)");
    await pair.check('FCALL', 'pub', '0', 'tx', 'from a function');
    await drain(s, 'messages from EXEC, EVAL and FCALL');
  });

  it('CLIENT LIST / CLIENT INFO sub, psub, ssub and the P flag; CLIENT LIST TYPE pubsub; INFO counts', async () => {
    const s = await connect(pair);
    await s.check('HELLO', '3');
    await run(s, 1, 'CLIENT', 'SETNAME', 'subscriber');
    await run(s, 2, 'SUBSCRIBE', 'i1', 'i2');
    await run(s, 1, 'PSUBSCRIBE', 'ip*');
    await run(s, 3, 'SSUBSCRIBE', 'is1', 'is2', 'is3');
    const fields = (r: Reply) => {
      const text = toJs(r) as string;
      const line = text.split('\n').find((l) => l.includes(' name=subscriber '))!;
      const f = Object.fromEntries(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
      return { flags: f.flags, sub: f.sub, psub: f.psub, ssub: f.ssub, resp: f.resp };
    };
    const [ri, vi] = await Promise.all([s.redis.call('CLIENT', 'INFO'), s.vireo.call('CLIENT', 'INFO')]);
    expect(fields(vi)).toEqual(fields(ri));
    expect(fields(vi)).toEqual({ flags: 'P', sub: '2', psub: '1', ssub: '3', resp: '3' });
    const [rl, vl] = await Promise.all([pair.redis.call('CLIENT', 'LIST', 'TYPE', 'pubsub'), pair.vireo.call('CLIENT', 'LIST', 'TYPE', 'pubsub')]);
    expect(fields(vl)).toEqual(fields(rl));
    await run(s, 3, 'SUNSUBSCRIBE', 'is1', 'is2', 'is3');
    await run(s, 1, 'PUNSUBSCRIBE', 'ip*');
    await runUnordered(s, 2, 'UNSUBSCRIBE');
    const [ri2, vi2] = await Promise.all([s.redis.call('CLIENT', 'INFO'), s.vireo.call('CLIENT', 'INFO')]);
    expect(fields(vi2)).toEqual(fields(ri2));
    expect(fields(vi2).flags).toBe('N');

    // INFO stats: distinct channels, patterns and shard channels, whoever subscribes.
    const a = await connect(pair);
    const b = await connect(pair);
    await run(a, 2, 'SUBSCRIBE', 'info1', 'info2');
    await run(b, 1, 'SUBSCRIBE', 'info1');
    await run(a, 1, 'PSUBSCRIBE', 'infop*');
    await run(b, 2, 'PSUBSCRIBE', 'infop*', 'infoq*');
    await run(b, 1, 'SSUBSCRIBE', 'infos');
    const counts = async (c: RespClient) => {
      const info = await c.call('INFO', 'stats');
      return [infoNumber(info, 'pubsub_channels'), infoNumber(info, 'pubsub_patterns'), infoNumber(info, 'pubsubshard_channels')];
    };
    // Connections of earlier tests may still be closing: wait for both servers to agree.
    await waitFor('INFO pubsub counts to agree', async () => JSON.stringify(await counts(pair.redis)) === JSON.stringify(await counts(pair.vireo)));
    expect(await counts(pair.vireo)).toEqual(await counts(pair.redis));
  });

  it('keyspace notifications: notify-keyspace-events classes, both channel kinds, every database', async () => {
    const s = await connect(pair);
    await run(s, 1, 'PSUBSCRIBE', '__key*__:*');
    const c = await connect(pair);
    const commands = [
      ['SET', 'k', 'v'],
      ['SET', 'k', 'v2', 'EX', '100'],
      ['EXPIRE', 'k', '200'],
      ['PERSIST', 'k'],
      ['DEL', 'k', 'nokey'],
      ['LPUSH', 'l', 'a', 'b'],
      ['RPOP', 'l'],
      ['LPOP', 'l'],
      ['INCR', 'n'],
      ['SADD', 's', 'a'],
      ['SREM', 's', 'a'],
      ['HSET', 'h', 'f', 'v'],
      ['ZADD', 'z', '1', 'm'],
      ['SET', 'a', '1'],
      ['RENAME', 'a', 'b'],
      ['GET', 'b'],
      ['SELECT', '3'],
      ['SET', 'k3', 'v'],
      ['SELECT', '0'],
    ];
    for (const flags of ['KEA', 'K$', 'El', 'Kg', 'Ex', 'A', 'KE', '']) {
      await run(c, 1, 'CONFIG', 'SET', 'notify-keyspace-events', flags);
      await run(c, 1, 'FLUSHALL');
      for (const cmd of commands) await run(c, 1, ...cmd);
      await drain(s, `notify-keyspace-events '${flags}'`);
    }
    // An expired key: its 'expired' event whichever way the expiry is found.
    await run(c, 1, 'CONFIG', 'SET', 'notify-keyspace-events', 'KEx');
    await run(c, 1, 'PSETEX', 'gone', '20', 'v');
    await new Promise((r) => setTimeout(r, 100));
    await run(c, 1, 'GET', 'gone');
    await drain(s, 'expired');
    await run(c, 1, 'CONFIG', 'SET', 'notify-keyspace-events', '');
  });
});

describe('what Redis 7.2 changed: a push for the client whose own command runs follows its reply', () => {
  let v: VireoHandle;
  beforeAll(async () => {
    v = await startVireo();
  });
  afterAll(async () => {
    await v?.stop();
  });

  async function resp3(): Promise<RespClient> {
    const c = await RespClient.connect(v.port);
    defer(() => c.close());
    await c.call('HELLO', '3');
    return c;
  }

  /** The next `n` frames of `c`, as plain values (pushes marked). */
  async function frames(c: RespClient, n: number): Promise<unknown[]> {
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      const r = (await c.read()).reply;
      out.push(r.type === 'push' ? { push: toJs(r) } : toJs(r));
    }
    return out;
  }

  it('PUBLISH to a channel the publisher subscribes to: the reply, then the message (7.0: the message first)', async () => {
    const c = await resp3();
    await c.call('SUBSCRIBE', 'self');
    c.writeRaw(Buffer.concat([encodeCommand(['PUBLISH', 'self', 'hi']), encodeCommand(['PING'])]));
    expect(await frames(c, 3)).toEqual(['1', { push: ['message', 'self', 'hi'] }, 'PONG']);
  });

  /** A frame as an array, RESP3 push or RESP2 array alike. */
  const unwrapPush = (f: unknown): unknown => (Array.isArray(f) ? f : (f as { push: unknown }).push);

  it('CLIENT REPLY OFF silences replies, not confirmations and messages, in RESP3 and RESP2 (7.0 dropped the confirmations)', async () => {
    // Redis 7.2's own test, "PubSub messages with CLIENT REPLY OFF", and the same over RESP2.
    const pub = await RespClient.connect(v.port);
    defer(() => pub.close());
    for (const c of [await resp3(), await RespClient.connect(v.port)]) {
      defer(() => c.close());
      c.writeRaw(Buffer.concat([encodeCommand(['CLIENT', 'REPLY', 'OFF']), encodeCommand(['SUBSCRIBE', 'channel']), encodeCommand(['PSUBSCRIBE', 'ch*'])]));
      const first = await frames(c, 2);
      expect(first.map(unwrapPush)).toEqual([
        ['subscribe', 'channel', '1'],
        ['psubscribe', 'ch*', '2'],
      ]);
      expect(toJs(await pub.call('PUBLISH', 'channel', 'hello'))).toBe('2');
      const messages = await frames(c, 2);
      expect(messages.map(unwrapPush)).toEqual([
        ['message', 'channel', 'hello'],
        ['pmessage', 'ch*', 'channel', 'hello'],
      ]);
      // PING is an ordinary reply: silenced; the unsubscribe confirmations are not.
      c.writeRaw(Buffer.concat([encodeCommand(['PING']), encodeCommand(['UNSUBSCRIBE', 'channel']), encodeCommand(['PUNSUBSCRIBE', 'ch*'])]));
      const last = await frames(c, 2);
      expect(last.map(unwrapPush)).toEqual([
        ['unsubscribe', 'channel', '1'],
        ['punsubscribe', 'ch*', '0'],
      ]);
    }
  });

  it('inside MULTI: the messages come after the whole EXEC reply (7.0 put them inside its array)', async () => {
    // Redis 7.2's own test, "publish to self inside multi".
    const c = await resp3();
    await c.call('SUBSCRIBE', 'foo');
    await c.call('MULTI');
    await c.call('PING', 'abc');
    await c.call('PUBLISH', 'foo', 'bar');
    await c.call('PUBLISH', 'foo', 'vaz');
    await c.call('PING', 'def');
    expect(await frames(c, 0)).toEqual([]);
    c.writeRaw(encodeCommand(['EXEC']));
    expect(await frames(c, 3)).toEqual([['abc', '1', '1', 'def'], { push: ['message', 'foo', 'bar'] }, { push: ['message', 'foo', 'vaz'] }]);
    expect(c.leftover.length).toBe(0);
  });

  it('a RESP2 client subscribing and publishing inside one MULTI gets a well-formed EXEC reply, then the message', async () => {
    const c = await RespClient.connect(v.port);
    defer(() => c.close());
    await c.call('MULTI');
    await c.call('SUBSCRIBE', 'foo2');
    await c.call('PUBLISH', 'foo2', 'bar');
    c.writeRaw(encodeCommand(['EXEC']));
    expect(await frames(c, 2)).toEqual([
      [['subscribe', 'foo2', '1'], '1'],
      ['message', 'foo2', 'bar'],
    ]);
  });

  it('a keyspace notification of its own write follows the reply; from a script, after the script', async () => {
    const c = await resp3();
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'KA');
    try {
      await c.call('SUBSCRIBE', '__keyspace@0__:own');
      c.writeRaw(encodeCommand(['SET', 'own', 'v']));
      expect(await frames(c, 2)).toEqual(['OK', { push: ['message', '__keyspace@0__:own', 'set'] }]);
      c.writeRaw(encodeCommand(['EVAL', "redis.call('set', 'own', 'a') redis.call('del', 'own') return 'done'", '0']));
      expect(await frames(c, 3)).toEqual(['done', { push: ['message', '__keyspace@0__:own', 'set'] }, { push: ['message', '__keyspace@0__:own', 'del'] }]);
    } finally {
      await c.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    }
  });

  it('a blocked client served by another command gets its reply, then the notifications it raised', async () => {
    const c = await resp3();
    await c.call('CONFIG', 'SET', 'notify-keyspace-events', 'KEl');
    try {
      await c.call('PSUBSCRIBE', '__keyevent@0__:*');
      c.writeRaw(encodeCommand(['BLMOVE', 'src', 'dst', 'LEFT', 'LEFT', '0']));
      const other = await RespClient.connect(v.port);
      defer(() => other.close());
      await waitFor('the BLMOVE to block', async () => infoNumber(await other.call('INFO', 'clients'), 'blocked_clients') === 1);
      await other.call('RPUSH', 'src', 'job');
      // The RPUSH's own event reaches c at once (another client's command); then BLMOVE's reply and its events.
      const got = await frames(c, 4);
      expect(got[0]).toEqual({ push: ['pmessage', '__keyevent@0__:*', '__keyevent@0__:rpush', 'src'] });
      expect(got[1]).toBe('job');
      // (Their order among themselves is the event campaign's business; here: they follow the reply.)
      expect(got.slice(2)).toHaveLength(2);
      expect(got.slice(2)).toEqual(
        expect.arrayContaining([
          { push: ['pmessage', '__keyevent@0__:*', '__keyevent@0__:lpop', 'src'] },
          { push: ['pmessage', '__keyevent@0__:*', '__keyevent@0__:lpush', 'dst'] },
        ]),
      );
    } finally {
      await c.call('CONFIG', 'SET', 'notify-keyspace-events', '');
    }
  });
});

describe('10k channels and 1k patterns', () => {
  let v: VireoHandle;
  beforeAll(async () => {
    v = await startVireo();
  });
  afterAll(async () => {
    await v?.stop();
  });

  it('every PUBLISH reaches the channel subscriber and each matching pattern, counted as Redis counts', async () => {
    const channels = Array.from({ length: 10_000 }, (_, i) => `ch:${i % 100}:${i}`);
    // Patterns: ch:<n>:* for n < 100 (each matches 100 channels), and 900 that match nothing.
    const patterns = [...Array.from({ length: 100 }, (_, n) => `ch:${n}:*`), ...Array.from({ length: 900 }, (_, i) => `none:${i}:*`)];
    const subChannels = await RespClient.connect(v.port);
    const subPatterns = await RespClient.connect(v.port);
    const pub = await RespClient.connect(v.port);
    defer(() => subChannels.close());
    defer(() => subPatterns.close());
    defer(() => pub.close());
    subChannels.writeRaw(encodeCommand(['SUBSCRIBE', ...channels]));
    for (let i = 0; i < channels.length; i++) expect(toJs((await subChannels.read()).reply)).toEqual(['subscribe', channels[i], String(i + 1)]);
    subPatterns.writeRaw(encodeCommand(['PSUBSCRIBE', ...patterns]));
    for (let i = 0; i < patterns.length; i++) await subPatterns.read();
    const info = await pub.call('INFO', 'stats');
    expect(infoNumber(info, 'pubsub_channels')).toBe(10_000);
    expect(infoNumber(info, 'pubsub_patterns')).toBe(1_000);
    expect(toJs(await pub.call('PUBSUB', 'NUMSUB', 'ch:7:7', 'ch:7:8'))).toEqual(['ch:7:7', '1', 'ch:7:8', '0']);
    expect((toJs(await pub.call('PUBSUB', 'CHANNELS', 'ch:42:*')) as string[]).length).toBe(100);

    // 2000 publishes: to subscribed channels (2 receivers: the channel and one pattern) and to others (1: a pattern).
    const targets = Array.from({ length: 2000 }, (_, i) => (i % 2 === 0 ? channels[(i * 7919) % channels.length]! : `ch:${i % 100}:other${i}`));
    pub.writeRaw(Buffer.concat(targets.map((t, i) => encodeCommand(['PUBLISH', t, `m${i}`]))));
    for (let i = 0; i < targets.length; i++) expect((await pub.read()).reply).toEqual({ type: 'integer', value: i % 2 === 0 ? '2' : '1' });
    for (let i = 0; i < targets.length; i += 2) expect(toJs((await subChannels.read()).reply)).toEqual(['message', targets[i], `m${i}`]);
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      expect(toJs((await subPatterns.read()).reply)).toEqual(['pmessage', `${t.slice(0, t.indexOf(':', 3))}:*`, t, `m${i}`]);
    }
    // Leaving frees every entry.
    subChannels.close();
    subPatterns.close();
    await waitFor('the subscriptions to be dropped', async () => {
      const i = await pub.call('INFO', 'stats');
      return infoNumber(i, 'pubsub_channels') === 0 && infoNumber(i, 'pubsub_patterns') === 0;
    });
  });
});

describe('frames', () => {
  it('a message is encoded as Redis frames it; RESP3 differs only by its push header; bytes payloads are framed as they are', () => {
    const frame = encodeMessage('message', null, 'ch', Buffer.from([0, 13, 10, 255]));
    expect(frame.latin1Slice()).toBe('*3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\n\x00\r\n\xff\r\n');
    expect(withPushHeader(frame).latin1Slice()).toBe('>3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\n\x00\r\n\xff\r\n');
    for (const [kind, pattern] of [['message', null], ['smessage', null], ['pmessage', 'c*']] as const) {
      const parts = pattern === null ? [kind, 'caf\xe9', ''] : [kind, pattern, 'caf\xe9', ''];
      expect(encodeMessage(kind, pattern, 'caf\xe9', '').equals(encodeBulkArray(parts))).toBe(true);
    }
    expect(encodeBulkArray(['pmessage', '*', 'caf\xe9', '']).latin1Slice()).toBe('*4\r\n$8\r\npmessage\r\n$1\r\n*\r\n$4\r\ncaf\xe9\r\n$0\r\n\r\n');
  });
});
