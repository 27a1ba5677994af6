/**
 * Pub/Sub end to end: the clients people use (ioredis, node-redis in RESP2
 * and RESP3) subscribing, receiving and resubscribing after their
 * connection was killed; `client-output-buffer-limit pubsub` closing a
 * subscriber that does not read while 100 MB are published, the others
 * unaffected and the server's memory bounded; and replication: a replica's
 * subscribers get what is published on its primary (Vireo, and redis-server,
 * on either side), while a primary without replicas logs no message and a
 * replayed log delivers none again.
 * The protocol itself, against redis-server: pubsub.test.ts.
 */

import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { HAVE_REDIS, startRedis, startVireo, startVireoProcess } from './helpers/servers.js';
import { RespClient, encodeCommand, toJs } from './helpers/resp.js';
import { infoNumber, waitFor } from './helpers/info.js';
import { useCleanups } from './helpers/cleanups.js';
import { waitInSync } from './helpers/replication.js';

const { defer, track, client } = useCleanups();

/** Resolves with the first `n` values `subscribe` hands to its callback. */
function collect<T>(n: number, subscribe: (push: (v: T) => void) => void): Promise<T[]> {
  return new Promise((resolve) => {
    const got: T[] = [];
    subscribe((v) => {
      got.push(v);
      if (got.length === n) resolve(got);
    });
  });
}

async function numsub(c: RespClient, channel: string): Promise<number> {
  const r = toJs(await c.call('PUBSUB', 'NUMSUB', channel)) as string[];
  return Number(r[1]);
}

describe('clients', () => {
  it('ioredis: subscribe, psubscribe, binary messages, and resubscribing after its connection is killed', async () => {
    const v = track(await startVireo());
    const admin = await client(v.port);
    const sub = new Redis({ port: v.port, host: '127.0.0.1', maxRetriesPerRequest: null });
    defer(() => sub.disconnect());
    const pub = new Redis({ port: v.port, host: '127.0.0.1' });
    defer(() => pub.disconnect());

    expect(await sub.subscribe('news', 'sport')).toBe(2);
    expect(await sub.psubscribe('log.*')).toBe(3);
    const messages = collect<[string, string]>(2, (push) => sub.on('message', (channel: string, message: string) => push([channel, message])));
    const pmessages = collect<[string, string, string]>(1, (push) => sub.on('pmessage', (pattern: string, channel: string, message: string) => push([pattern, channel, message])));
    const binary = collect<Buffer>(1, (push) => sub.on('messageBuffer', (channel: Buffer, message: Buffer) => channel.toString() === 'sport' && push(message)));
    expect(await pub.publish('news', 'hello')).toBe(1);
    expect(await pub.publish('sport', Buffer.from([0, 255, 13, 10]))).toBe(1);
    expect(await pub.publish('log.error', 'disk full')).toBe(1);
    expect(await messages).toEqual([
      ['news', 'hello'],
      ['sport', Buffer.from([0, 255, 13, 10]).toString()],
    ]);
    expect(await pmessages).toEqual([['log.*', 'log.error', 'disk full']]);
    expect(await binary).toEqual([Buffer.from([0, 255, 13, 10])]);

    // Killed: ioredis reconnects and subscribes again to everything it had.
    expect(await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub')).toEqual({ type: 'integer', value: '1' });
    await waitFor('ioredis to resubscribe', async () => (await numsub(admin, 'news')) === 1 && infoNumber(await admin.call('INFO', 'stats'), 'pubsub_patterns') === 1);
    const again = collect<string>(1, (push) => sub.on('message', (channel: string, message: string) => channel === 'news' && message === 'after' && push(message)));
    const againP = collect<string>(1, (push) => sub.on('pmessage', (_p: string, _c: string, message: string) => message === 'after' && push(message)));
    expect(await pub.publish('news', 'after')).toBe(1);
    expect(await pub.publish('log.x', 'after')).toBe(1);
    expect(await again).toEqual(['after']);
    expect(await againP).toEqual(['after']);
    expect(await sub.unsubscribe('news', 'sport')).toBe(1);
    expect(await sub.punsubscribe()).toBe(0);
    expect(await numsub(admin, 'news')).toBe(0);
  });

  for (const RESP of [2, 3] as const) {
    it(`node-redis (RESP${RESP}): subscribe, pSubscribe, sSubscribe, and resubscribing after its connection is killed`, async () => {
      const v = track(await startVireo());
      const admin = await client(v.port);
      const pub = createClient({ url: `redis://127.0.0.1:${v.port}`, RESP });
      await pub.connect();
      defer(() => pub.destroy());
      const sub = pub.duplicate();
      sub.on('error', () => {});
      await sub.connect();
      defer(() => sub.destroy());

      const got: string[] = [];
      await sub.subscribe('orders', (message, channel) => got.push(`${channel}:${message}`));
      await sub.pSubscribe('audit.*', (message, channel) => got.push(`p ${channel}:${message}`));
      await sub.sSubscribe('shard', (message, channel) => got.push(`s ${channel}:${message}`));
      expect(await pub.publish('orders', 'o1')).toBe(1);
      expect(await pub.publish('audit.login', 'u1')).toBe(1);
      expect(await pub.sPublish('shard', 'x1')).toBe(1);
      expect(await pub.pubSubNumSub(['orders', 'nobody'])).toEqual({ orders: 1, nobody: 0 });
      expect(await pub.pubSubNumPat()).toBe(1);
      await waitFor('three messages', async () => got.length === 3);
      expect(got).toEqual(['orders:o1', 'p audit.login:u1', 's shard:x1']);

      await admin.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
      await waitFor('node-redis to resubscribe', async () => (await numsub(admin, 'orders')) === 1 && (toJs(await admin.call('PUBSUB', 'SHARDNUMSUB', 'shard')) as string[])[1] === '1' && toJs(await admin.call('PUBSUB', 'NUMPAT')) === '1');
      await pub.publish('orders', 'o2');
      await pub.publish('audit.logout', 'u2');
      await waitFor('the messages after the reconnection', async () => got.length === 5);
      expect(got.slice(3)).toEqual(['orders:o2', 'p audit.logout:u2']);
      await sub.unsubscribe('orders');
      await sub.pUnsubscribe();
      await sub.sUnsubscribe();
      expect(await pub.publish('orders', 'o3')).toBe(0);
    });
  }
});

/** RSS of a process, from /proc. */
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** A subscriber that subscribes and then never reads (its socket paused). */
async function stalledSubscriber(port: number, channel: string): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  await new Promise((r) => socket.once('connect', r));
  socket.write(encodeCommand(['SUBSCRIBE', channel]));
  await new Promise((r) => socket.once('data', r));
  socket.pause();
  defer(() => socket.destroy());
  return socket;
}

describe('client-output-buffer-limit pubsub', () => {
  it('a subscriber that never reads while 100 MB are published is closed at the hard limit; another keeps receiving; memory stays bounded', async () => {
    // The default limit: pubsub 32mb 8mb 60.
    const v = track(await startVireoProcess(['--save', '']));
    const admin = await client(v.port);
    expect(toJs(await admin.call('CONFIG', 'GET', 'client-output-buffer-limit'))).toEqual(['client-output-buffer-limit', 'normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60']);
    const reader = await client(v.port);
    await reader.call('SUBSCRIBE', 'firehose');
    await stalledSubscriber(v.port, 'firehose');
    expect(await numsub(admin, 'firehose')).toBe(2);
    const list = toJs(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string;
    expect(list.trim().split('\n')).toHaveLength(2);

    const pid = v.proc.pid!;
    await admin.call('MEMORY', 'PURGE');
    const before = rssBytes(pid);
    let peak = before;
    // Sampled until the publishing ends; a server that died stops the sampling (and fails below with its output).
    const sampler = setInterval(() => {
      if (v.proc.exitCode !== null || v.proc.signalCode !== null) return clearInterval(sampler);
      peak = Math.max(peak, rssBytes(pid));
    }, 10);
    const disconnectionsBefore = infoNumber(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections');

    // 1600 messages of 64 KB: 100 MB, published in pipelined batches as fast as the reader reads.
    const message = 'm'.repeat(64 * 1024);
    const total = 1600;
    const pub = await client(v.port);
    let received = 0;
    const receivers: number[] = [];
    let deadline: NodeJS.Timeout | undefined;
    try {
      // A stall fails here, with what was received and the server's log, before the test's timeout.
      const stalled = new Promise<never>((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`stalled: ${receivers.length} published`)), 20000);
      });
      const allReceived = (async () => {
        for (; received < total; received++) {
          const r = toJs((await reader.read()).reply) as string[];
          if (r[0] !== 'message' || r[2]!.length !== message.length) throw new Error(`unexpected frame ${JSON.stringify(r).slice(0, 80)}`);
        }
      })();
      // Either ends the publishing: the deadline, or the reader's failure (a closed connection, a wrong frame).
      const failed = Promise.race([stalled, allReceived.then(() => new Promise<never>(() => {}))]);
      for (let sent = 0; sent < total; sent += 50) {
        // Publish no further ahead of the reader than 8 MB: a reader 32 MB behind (this process busy
        // elsewhere) would be closed at the same hard limit, and this test would measure that instead.
        while (sent - received > 128) await Promise.race([new Promise((r) => setTimeout(r, 1)), failed]);
        pub.writeRaw(Buffer.concat(Array.from({ length: 50 }, () => encodeCommand(['PUBLISH', 'firehose', message]))));
        for (let i = 0; i < 50; i++) receivers.push(Number((toJs((await Promise.race([pub.read(), failed])).reply) as string)));
      }
      await Promise.race([allReceived, stalled]);
    } catch (e) {
      throw new Error(`${(e as Error).message} (server exit ${v.proc.exitCode ?? v.proc.signalCode}, ${received} received)\n${v.output().slice(-4000)}`);
    } finally {
      clearInterval(sampler);
      clearTimeout(deadline);
    }

    expect(received).toBe(total);
    // Both received the first messages; the stalled one was closed once 32 MB waited for it: at the
    // 512th message of 64 KB, plus what the kernel's socket buffers took (3.5-4 MB measured).
    expect(receivers[0]).toBe(2);
    const closedAt = receivers.indexOf(1);
    expect(closedAt).toBeGreaterThanOrEqual(512);
    expect(closedAt).toBeLessThan(512 + 128);
    expect(receivers.slice(closedAt).every((n) => n === 1)).toBe(true);
    expect(infoNumber(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections') - disconnectionsBefore).toBe(1);
    expect(await numsub(admin, 'firehose')).toBe(1);
    // Without the limit the stalled subscriber alone would hold 100 MB; with it, about 32 MB (what its
    // socket took aside), plus the reader's and the publisher's buffers in flight and the parsed
    // messages not collected yet (about 50 MB in all when measured). Through I/O threads
    // (VIREO_TEST_IO_THREADS) the stalled subscriber's 32 MB are the thread's copy while the
    // main thread's frames it was copied from wait for a collection, and the reader's replies
    // wait in the thread's copies too: 106-135 MB measured, so two more limits' worth.
    const threads = process.env.VIREO_TEST_IO_THREADS !== undefined;
    expect((peak - before) / 1048576).toBeLessThan(threads ? 90 + 64 : 90);
    expect(v.output()).toMatch(/Client id=\d+ addr=\S+ .*flags=P .* scheduled to be closed ASAP for overcoming of output buffer limits/);
    expect(await admin.call('PING')).toEqual({ type: 'simple', value: 'PONG' });
  });

  it('a subscriber that never reads (no limit set) holds what waits for it at about twice its bytes, also when small messages arrive among a reader\'s', async () => {
    // 300k messages of 100 bytes: 40 MB of frames wait for the stalled subscriber. Through I/O threads these
    // were copied into 1 MB slabs shared with the reader's replies (every slab kept alive by the stalled
    // subscriber's part of it): 140-176 MB measured, against 76 MB since each waiting connection copies
    // into buffers of its own. Without threads: 82 MB when each message's frame waited as a Buffer of
    // its own, 61 MB since small waiting replies are copied into the connection's buffers (direct-io.ts).
    const v = track(await startVireoProcess(['--save', '', '--client-output-buffer-limit', 'pubsub 0 0 0']));
    const reader = net.connect(v.port, '127.0.0.1');
    defer(() => reader.destroy());
    await new Promise((r) => reader.once('connect', r));
    let readerBytes = 0;
    reader.on('data', (d: Buffer) => (readerBytes += d.length));
    reader.write(encodeCommand(['SUBSCRIBE', 'f']));
    await waitFor('the reader subscribed', async () => readerBytes > 0);
    await stalledSubscriber(v.port, 'f');
    const admin = await client(v.port);
    expect(await numsub(admin, 'f')).toBe(2);

    const pid = v.proc.pid!;
    await admin.call('MEMORY', 'PURGE');
    const before = rssBytes(pid);
    let peak = before;
    const sampler = setInterval(() => {
      if (v.proc.exitCode === null && v.proc.signalCode === null) peak = Math.max(peak, rssBytes(pid));
    }, 10);
    defer(() => clearInterval(sampler));
    const pub = net.connect(v.port, '127.0.0.1');
    defer(() => pub.destroy());
    await new Promise((r) => pub.once('connect', r));
    let replies = 0;
    pub.on('data', (d: Buffer) => {
      for (const byte of d) if (byte === 10) replies++;
    });
    const batch = encodeCommand(['PUBLISH', 'f', 'p'.repeat(100)]).toString('latin1').repeat(200);
    const total = 300_000;
    for (let sent = 200; sent <= total; sent += 200) {
      pub.write(batch, 'latin1');
      while (replies < sent) await new Promise((r) => setImmediate(r));
    }
    const frame = encodeCommand(['message', 'f', 'p'.repeat(100)]).length;
    await waitFor('the reader got every message', async () => readerBytes >= total * frame);
    clearInterval(sampler);
    expect(toJs(await admin.call('PUBLISH', 'f', 'last'))).toBe('2');
    const held = total * frame;
    expect((peak - before) / held).toBeLessThan(3);
  });

  it('a subscriber that reads late gets small and large messages in their order (small ones wait copied together, large ones as they are)', async () => {
    const v = track(await startVireo({ 'client-output-buffer-limit': 'pubsub 0 0 0' }));
    const sock = net.connect(v.port, '127.0.0.1');
    defer(() => sock.destroy());
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    sock.write(encodeCommand(['SUBSCRIBE', 'mixed']));
    await waitFor('the subscription confirmation', async () => chunks.length > 0);
    sock.pause();
    const pub = await client(v.port);
    // Sizes around the copy threshold (2 KB) and the spill buffers' (4-256 KB), in an irregular order.
    const sizes = [10, 3000, 100, 100, 2040, 70000, 1, 2048, 2049, 5000, 300000, 50];
    const total = 3000;
    const sizeOf = (i: number) => sizes[(i * 7) % sizes.length]!;
    for (let sent = 0; sent < total; sent += 100) {
      pub.writeRaw(Buffer.concat(Array.from({ length: 100 }, (_, k) => encodeCommand(['PUBLISH', 'mixed', `${sent + k}:${'x'.repeat(sizeOf(sent + k))}`]))));
      for (let k = 0; k < 100; k++) expect(toJs((await pub.read()).reply)).toBe('1');
    }
    sock.write(encodeCommand(['QUIT']));
    const ended = new Promise<void>((resolve) => sock.once('end', () => resolve()));
    sock.resume();
    await ended;
    const text = Buffer.concat(chunks).toString('latin1');
    const got = [...text.matchAll(/\r\n(\d+):(x*)\r\n/g)].map((m) => `${m[1]}:${m[2]!.length}`);
    expect(got).toEqual(Array.from({ length: total }, (_, i) => `${i}:${sizeOf(i)}`));
    expect(text.endsWith('+OK\r\n')).toBe(true);
  });

  it('a subscriber that reads slowly gets every message in order, and the +OK of its QUIT after them, then the end of the stream', async () => {
    const v = track(await startVireo({ 'client-output-buffer-limit': 'pubsub 0 0 0' }));
    const sock = net.connect(v.port, '127.0.0.1');
    defer(() => sock.destroy());
    await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
    sock.write(encodeCommand(['SUBSCRIBE', 'slow']));
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    const ended = new Promise<void>((resolve) => sock.once('end', () => resolve()));
    await waitFor('the subscription confirmation', async () => chunks.length > 0);
    // Stop reading: the socket buffers fill and the server gathers what follows.
    sock.pause();
    const pub = await client(v.port);
    const total = 4000;
    for (let sent = 0; sent < total; sent += 500) {
      pub.writeRaw(Buffer.concat(Array.from({ length: 500 }, (_, i) => encodeCommand(['PUBLISH', 'slow', `${sent + i}:${'p'.repeat(2000)}`]))));
      for (let i = 0; i < 500; i++) expect(toJs((await pub.read()).reply)).toBe('1');
    }
    sock.write(encodeCommand(['QUIT']));
    await new Promise((r) => setTimeout(r, 50));
    sock.resume();
    await ended;
    const text = Buffer.concat(chunks).toString('latin1');
    const seq = [...text.matchAll(/\r\n(\d+):p+\r\n/g)].map((m) => Number(m[1]));
    expect(seq).toEqual(Array.from({ length: total }, (_, i) => i));
    expect(text.endsWith('+OK\r\n')).toBe(true);
  });

  it('the soft limit: over it for longer than soft-seconds, closed; a RESP3 subscriber counts as pubsub too', async () => {
    const v = track(await startVireo({ 'client-output-buffer-limit': 'pubsub 0 1mb 1' }));
    const admin = await client(v.port);
    const socket = net.connect(v.port, '127.0.0.1');
    socket.on('error', () => {});
    defer(() => socket.destroy());
    await new Promise((r) => socket.once('connect', r));
    socket.write(Buffer.concat([encodeCommand(['HELLO', '3']), encodeCommand(['SUBSCRIBE', 'slow'])]));
    await waitFor('the subscription', async () => (await numsub(admin, 'slow')) === 1);
    socket.pause();
    const pub = await client(v.port);
    const message = 'x'.repeat(256 * 1024);
    // Over 1 MB at once (the socket takes a few MB first), then a message every 100 ms: closed after a second over.
    const deadline = Date.now() + 20_000;
    let published = 0;
    while ((await numsub(admin, 'slow')) === 1 && Date.now() < deadline) {
      await pub.call('PUBLISH', 'slow', message);
      published++;
      if (published > 64) await new Promise((r) => setTimeout(r, 100));
    }
    expect(await numsub(admin, 'slow')).toBe(0);
    expect(infoNumber(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections')).toBe(1);
  });
});

/** Every byte of the AOF directory's files, as latin1. */
function aofText(dir: string): string {
  const aofDir = path.join(dir, 'appendonlydir');
  return fs
    .readdirSync(aofDir)
    .map((f) => fs.readFileSync(path.join(aofDir, f)).latin1Slice())
    .join('');
}

describe('replication', () => {
  it("a replica's subscribers get what is published on its primary (channels, patterns, shard channels, inside MULTI), down a chain", async () => {
    const p = track(await startVireo({ appendonly: 'yes', 'repl-diskless-sync-delay': '0' }));
    const pc = await client(p.port);
    // No replica, no backlog: a message is not data and stays out of the log.
    expect(await pc.call('PUBLISH', 'early', 'not logged')).toEqual({ type: 'integer', value: '0' });
    expect(await pc.call('SET', 'marker', '1')).toEqual({ type: 'simple', value: 'OK' });
    await waitFor('the AOF to have the SET', async () => aofText(p.dir).includes('marker'));
    expect(aofText(p.dir)).not.toContain('not logged');

    const r1 = track(await startVireo({ replicaof: `127.0.0.1 ${p.port}` }));
    const r2 = track(await startVireo({ replicaof: `127.0.0.1 ${r1.port}` }));
    const r1c = await client(r1.port);
    const r2c = await client(r2.port);
    await waitInSync(pc, r1c);
    await waitInSync(pc, r2c);
    const sub1 = await client(r1.port);
    const sub2 = await client(r2.port);
    await sub1.call('SUBSCRIBE', 'news');
    await sub1.call('PSUBSCRIBE', 'log.*');
    await sub1.call('SSUBSCRIBE', 'shard');
    await sub2.call('SUBSCRIBE', 'news');

    // The primary has no subscriber of its own: 0 receivers, yet the replicas deliver.
    expect(await pc.call('PUBLISH', 'news', 'hello')).toEqual({ type: 'integer', value: '0' });
    expect(await pc.call('PUBLISH', 'log.error', 'disk')).toEqual({ type: 'integer', value: '0' });
    expect(await pc.call('SPUBLISH', 'shard', 'sharded')).toEqual({ type: 'integer', value: '0' });
    await pc.call('MULTI');
    await pc.call('SET', 'k', 'v');
    await pc.call('PUBLISH', 'news', 'with the write');
    expect(toJs(await pc.call('EXEC'))).toEqual(['OK', '0']);
    await pc.call('EVAL', "redis.call('set', 'k2', 'v') return redis.call('publish', 'news', 'from a script')", '0');
    const frames = async (c: RespClient, n: number) => {
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(toJs((await c.read()).reply));
      return out;
    };
    expect(await frames(sub1, 5)).toEqual([
      ['message', 'news', 'hello'],
      ['pmessage', 'log.*', 'log.error', 'disk'],
      ['smessage', 'shard', 'sharded'],
      ['message', 'news', 'with the write'],
      ['message', 'news', 'from a script'],
    ]);
    expect(await frames(sub2, 3)).toEqual([
      ['message', 'news', 'hello'],
      ['message', 'news', 'with the write'],
      ['message', 'news', 'from a script'],
    ]);
    // Publishing on a replica reaches its own subscribers only.
    expect(await r1c.call('PUBLISH', 'news', 'local')).toEqual({ type: 'integer', value: '1' });
    expect(await frames(sub1, 1)).toEqual([['message', 'news', 'local']]);
    await waitInSync(pc, r2c);
    expect(toJs(await r2c.call('GET', 'k2'))).toBe('v');

    // With a backlog the messages are in the log, hence in the AOF: a replay must not send them again.
    await waitFor('the AOF to have the message', async () => aofText(p.dir).includes('with the write'));
    const local = await client(p.port);
    await local.call('SUBSCRIBE', 'news');
    expect(await pc.call('DEBUG', 'LOADAOF')).toEqual({ type: 'simple', value: 'OK' });
    expect(toJs(await pc.call('GET', 'k'))).toBe('v');
    local.writeRaw(encodeCommand(['PING']));
    expect(toJs((await local.read()).reply)).toEqual(['pong', '']);
  });

  it.skipIf(!HAVE_REDIS)('redis-server replicating from Vireo, and Vireo replicating from redis-server, deliver PUBLISH to their subscribers', async () => {
    const v = track(await startVireo({ 'repl-diskless-sync-delay': '0' }));
    const theirs = track(await startRedis());
    const vc = await client(v.port);
    const tc = await client(theirs.port);
    expect(await tc.call('REPLICAOF', '127.0.0.1', String(v.port))).toEqual({ type: 'simple', value: 'OK' });
    await waitInSync(vc, tc);
    const onRedis = await client(theirs.port);
    await onRedis.call('SUBSCRIBE', 'from-vireo');
    await vc.call('PUBLISH', 'from-vireo', 'hi redis');
    expect(toJs((await onRedis.read()).reply)).toEqual(['message', 'from-vireo', 'hi redis']);

    const primary = track(await startRedis());
    const rc = await client(primary.port);
    const replica = track(await startVireo());
    const replicaClient = await client(replica.port);
    await replicaClient.call('REPLICAOF', '127.0.0.1', String(primary.port));
    await waitInSync(rc, replicaClient);
    const onVireo = await client(replica.port);
    await onVireo.call('SUBSCRIBE', 'from-redis');
    await onVireo.call('SSUBSCRIBE', 'shard-from-redis');
    await rc.call('PUBLISH', 'from-redis', 'hi vireo');
    await rc.call('SPUBLISH', 'shard-from-redis', 'sharded');
    expect(toJs((await onVireo.read()).reply)).toEqual(['message', 'from-redis', 'hi vireo']);
    expect(toJs((await onVireo.read()).reply)).toEqual(['smessage', 'shard-from-redis', 'sharded']);
  });
});
