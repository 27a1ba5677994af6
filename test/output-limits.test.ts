// client-output-buffer-limit as Redis applies it: a client that does not
// read its replies (a pipeline, MONITOR) is closed at the hard limit, or
// after soft-seconds over the soft limit, its output dropped, counted in
// client_output_buffer_limit_disconnections; the server's memory stays
// bounded. CLIENT LIST reports the real buffer sizes.
import fs from 'node:fs';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_REDIS, startRedis, startVireo, startVireoProcess, type ProcessHandle, type VireoHandle } from './helpers/servers.js';
import { RespClient, encodeCommand, type Reply } from './helpers/resp.js';
import { infoNumber } from './helpers/info.js';


function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m![1]) * 1024;
}

/** A connection that writes `requests` pipelined commands and never reads its replies. */
function unreadPipeline(port: number, command: string[], requests: number): net.Socket {
  const socket = net.connect(port, '127.0.0.1');
  socket.pause();
  socket.on('error', () => {});
  const one = encodeCommand(command);
  const batch = Buffer.concat(Array.from({ length: 500 }, () => one));
  let sent = 0;
  const pump = () => {
    while (sent < requests && !socket.destroyed) {
      sent += 500;
      if (!socket.write(batch)) {
        socket.once('drain', pump);
        return;
      }
    }
  };
  socket.once('connect', pump);
  return socket;
}

/**
 * Wait until the server has closed `n` more clients for their output
 * buffers. (A paused socket does not notice that the server closed it, so
 * this is read from the server's counter.)
 */
async function waitForDisconnections(admin: RespClient, from: number, n: number, whileWaiting: () => void = () => {}): Promise<number> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const now = infoNumber(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections');
    if (now - from >= n || Date.now() > deadline) return now - from;
    whileWaiting();
    await new Promise((r) => setTimeout(r, 50));
  }
}

function clientLine(list: Reply, name: string): Record<string, string> {
  if (list.type !== 'bulk' || list.value === null) throw new Error('CLIENT LIST did not answer a bulk string');
  const line = list.value.split('\n').find((l) => l.includes(` name=${name} `));
  if (line === undefined) throw new Error(`no client named ${name}`);
  return Object.fromEntries(line.trim().split(' ').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

describe('client-output-buffer-limit', () => {
  let v: ProcessHandle;
  let admin: RespClient;
  beforeAll(async () => {
    v = await startVireoProcess(['--client-output-buffer-limit', 'normal 10mb 5mb 10', '--save', '']);
    admin = await RespClient.connect(v.port);
    await admin.call('SET', 'value', 'v'.repeat(1024));
    // A realistic dataset, so "the server's size before" is a loaded server.
    await admin.call('DEBUG', 'POPULATE', '200000', 'key', '100');
  });
  afterAll(async () => {
    admin?.close();
    await v?.stop();
  });

  it('closes each of 50 clients pipelining GETs without reading at the limit; memory stays bounded', async () => {
    const pid = v.proc.pid!;
    await admin.call('MEMORY', 'PURGE');
    const before = rssBytes(pid);
    const usedBefore = infoNumber(await admin.call('INFO', 'memory'), 'used_memory');
    const statsBefore = infoNumber(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections');
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 10);
    // 200k GETs of 1 KB each is ~200 MB of replies per client: 20x its limit.
    const clients = Array.from({ length: 50 }, () => unreadPipeline(v.port, ['GET', 'value'], 200_000));
    const closed = await waitForDisconnections(admin, statsBefore, 50);
    clearInterval(sampler);
    for (const c of clients) c.destroy();
    expect(closed).toBe(50);
    // Bounded by the limits: 50 clients x 10 MB, however their arrivals
    // interleave, plus the parsing garbage of the requests (without the limit
    // each client would hold 64 MB or more). redis-server 7.0 peaks at about
    // 50 x 10 MB over its size before in the same test.
    expect(peak - before).toBeLessThan(50 * 10 * 1024 * 1024 * 1.5);
    // And nothing stays behind once they are gone (the allocator may keep
    // the pages for reuse, as jemalloc does for Redis: compare the heap).
    await admin.call('MEMORY', 'PURGE');
    expect(infoNumber(await admin.call('INFO', 'memory'), 'used_memory')).toBeLessThan(2 * usedBefore);
    expect(await admin.call('PING')).toEqual({ type: 'simple', value: 'PONG' });
    expect(v.output()).toMatch(/Client id=\d+ addr=\S+ .* scheduled to be closed ASAP for overcoming of output buffer limits/);
  });

  it('closes an unread MONITOR at the limit', async () => {
    const pid = v.proc.pid!;
    const statsBefore = infoNumber(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections');
    const monitor = net.connect(v.port, '127.0.0.1');
    monitor.on('error', () => {});
    await new Promise((r) => monitor.once('connect', r));
    monitor.write('MONITOR\r\n');
    monitor.pause();
    await admin.call('MEMORY', 'PURGE');
    const before = rssBytes(pid);
    const writer = await RespClient.connect(v.port);
    const big = 'x'.repeat(4096);
    let peak = before;
    // Each SET shows up as a ~4 KB MONITOR line: the 10 MB limit is passed after ~2600.
    const closed = await waitForDisconnections(admin, statsBefore, 1, () => {
      const batch = Array.from({ length: 500 }, (_, j) => encodeCommand(['SET', `m:${j % 50}`, big]));
      writer.writeRaw(Buffer.concat(batch));
      peak = Math.max(peak, rssBytes(pid));
    });
    expect(closed).toBe(1);
    // Cut at the limit: what the monitor held when it was closed (the log
    // line's omem) is the 10 MB limit and at most a turn's worth of ~4 KB
    // lines more, not the writer's whole stream.
    const closing = v.output().split('\n').filter((l) => /flags=O\b.*scheduled to be closed ASAP for overcoming of output buffer limits/.test(l));
    expect(closing).toHaveLength(1);
    const omem = Number(/ omem=(\d+) /.exec(closing[0]!)?.[1]);
    expect(omem).toBeGreaterThan(10 * 1024 * 1024);
    expect(omem).toBeLessThan(10 * 1024 * 1024 + 4 * 1024 * 1024);
    // And the process: the 10 MB buffer, the writer's batches and V8's young
    // generation (semi-spaces of up to 32 MB each, grown on a fresh server,
    // more with io-threads' buffers) stay under 10x the limit, where a buffer
    // not cut at the limit grows by the writer's 2 MB every 50 ms for a minute.
    expect(peak).toBeLessThan(before + 10 * 1024 * 1024 * 10);
    monitor.destroy();
    writer.close();
  });
});

describe.skipIf(!HAVE_REDIS)('soft limit and the disconnection counter, beside redis-server', () => {
  let redis: ProcessHandle;
  let vireo: VireoHandle;
  beforeAll(async () => {
    // Soft limit 1 MB for 1 second, no hard limit.
    const limit = { 'client-output-buffer-limit': 'normal 0 1mb 1' };
    [redis, vireo] = await Promise.all([startRedis(limit), startVireo(limit)]);
  });
  afterAll(async () => {
    await Promise.all([redis?.kill(), vireo?.stop()]);
  });

  async function softLimitRun(port: number): Promise<{ openAfterFirst: boolean; closedInTheEnd: boolean }> {
    const c = await RespClient.connect(port);
    await c.call('SET', 'v', 'v'.repeat(1024));
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.pause();
    let closed = false;
    s.once('close', () => (closed = true));
    const gets = (n: number) => Buffer.concat(Array.from({ length: n }, () => encodeCommand(['GET', 'v'])));
    // ~20 MB of replies: far over the soft limit once the kernel's socket buffers are full.
    s.write(gets(20000));
    await new Promise((r) => setTimeout(r, 300));
    s.write(gets(100));
    await new Promise((r) => setTimeout(r, 300));
    const openAfterFirst = !closed;
    // More than soft-seconds later, the next reply finds it still over: closed.
    for (let i = 0; i < 10 && !closed; i++) {
      await new Promise((r) => setTimeout(r, 500));
      s.write(gets(100));
    }
    await new Promise((r) => setTimeout(r, 200));
    s.destroy();
    c.close();
    return { openAfterFirst, closedInTheEnd: closed };
  }

  it('keeps a client over the soft limit for soft-seconds, then closes it, as Redis does', async () => {
    const [a, b] = await Promise.all([softLimitRun(redis.port), softLimitRun(vireo.port)]);
    expect(a).toEqual({ openAfterFirst: true, closedInTheEnd: true });
    expect(b).toEqual(a);
  });

  it('CONFIG SET client-output-buffer-limit takes effect and reads back like Redis', async () => {
    const [r, v] = await Promise.all([RespClient.connect(redis.port), RespClient.connect(vireo.port)]);
    for (const value of ['normal 1mb 512kb 5', 'pubsub 64mb 16mb 120 replica 0 0 0', 'normal 0 0 0']) {
      const [a, b] = await Promise.all([r.call('CONFIG', 'SET', 'client-output-buffer-limit', value), v.call('CONFIG', 'SET', 'client-output-buffer-limit', value)]);
      expect(b).toEqual(a);
      const [ga, gb] = await Promise.all([r.call('CONFIG', 'GET', 'client-output-buffer-limit'), v.call('CONFIG', 'GET', 'client-output-buffer-limit')]);
      expect(gb).toEqual(ga);
    }
    r.close();
    v.close();
  });
});

describe('CLIENT LIST reports real buffer sizes', () => {
  let v: VireoHandle;
  beforeAll(async () => {
    v = await startVireo();
  });
  afterAll(async () => {
    await v?.stop();
  });

  it('qbuf, argv-mem, multi-mem, omem, oll and tot-mem follow what the client holds', async () => {
    const admin = await RespClient.connect(v.port);
    // A half-received command: its first argument is complete, the second is not.
    const partial = await RespClient.connect(v.port);
    await partial.call('CLIENT', 'SETNAME', 'partial');
    partial.writeRaw('*3\r\n$3\r\nSET\r\n$10\r\nkey-abcdef\r\n$100\r\n' + 'y'.repeat(40));
    // A transaction with queued commands.
    const tx = await RespClient.connect(v.port);
    await tx.call('CLIENT', 'SETNAME', 'tx');
    await tx.call('MULTI');
    await tx.call('SET', 'k', 'v'.repeat(1000));
    // A client that does not read a big reply.
    await admin.call('SET', 'big', 'b'.repeat(256 * 1024));
    const slow = net.connect(v.port, '127.0.0.1');
    await new Promise((r) => slow.once('connect', r));
    slow.write('CLIENT SETNAME slow\r\n');
    slow.pause();
    slow.write(Buffer.concat(Array.from({ length: 200 }, () => encodeCommand(['GET', 'big']))));
    await new Promise((r) => setTimeout(r, 300));

    const list = await admin.call('CLIENT', 'LIST');
    const p = clientLine(list, 'partial');
    expect(Number(p['qbuf'])).toBeGreaterThan(0);
    expect(Number(p['argv-mem'])).toBe(13); // SET + key-abcdef
    const t = clientLine(list, 'tx');
    expect(Number(t['multi-mem'])).toBeGreaterThan(1000);
    const s = clientLine(list, 'slow');
    expect(Number(s['omem'])).toBeGreaterThan(1024 * 1024);
    expect(Number(s['oll'])).toBeGreaterThan(0);
    expect(s['events']).toBe('rw');
    for (const c of [p, t, s]) {
      const parts = ['qbuf', 'qbuf-free', 'argv-mem', 'multi-mem', 'obl', 'omem'].map((f) => Number(c[f]));
      expect(Number(c['tot-mem'])).toBeGreaterThanOrEqual(parts.reduce((a, b) => a + b, 0));
      expect(Number(c['rbs'])).toBeGreaterThan(0);
    }
    const self = clientLine(await admin.call('CLIENT', 'SETNAME', 'admin').then(() => admin.call('CLIENT', 'LIST')), 'admin');
    // The running CLIENT LIST's own arguments, as Redis counts them.
    expect(Number(self['argv-mem'])).toBe(10);
    slow.destroy();
    for (const c of [admin, partial, tx]) c.close();
  });
});
