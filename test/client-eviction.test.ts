// maxmemory-clients (client eviction), side by side with redis-server: a
// client whose query buffer or unread replies take the clients' memory over
// the limit is disconnected and counted in INFO's evicted_clients, one with
// CLIENT NO-EVICT on is kept, a percentage of maxmemory follows maxmemory,
// and 0 turns eviction off.
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HAVE_REDIS, startRedis, startVireo, type ProcessHandle, type VireoHandle } from './helpers/servers.js';
import { RespClient, encodeCommand, toJs } from './helpers/resp.js';
import { infoNumber } from './helpers/info.js';
import { clientEvictionLimit, clientsToEvict, type EvictionCandidate } from '../src/server/client-eviction.js';

interface Side {
  name: string;
  port: number;
  admin: RespClient;
  stop(): Promise<void>;
}

const started: Side[] = [];

async function both(): Promise<Side[]> {
  const redis: ProcessHandle = await startRedis();
  const vireo: VireoHandle = await startVireo();
  const sides: Side[] = [
    { name: 'redis', port: redis.port, admin: await RespClient.connect(redis.port), stop: () => redis.stop() },
    { name: 'vireo', port: vireo.port, admin: await RespClient.connect(vireo.port), stop: () => vireo.stop() },
  ];
  started.push(...sides);
  for (const s of sides) {
    // The admin connection is not the one to evict.
    expect(toJs(await s.admin.call('CLIENT', 'NO-EVICT', 'on'))).toBe('OK');
  }
  return sides;
}

afterEach(async () => {
  for (const s of started.splice(0)) {
    s.admin.close();
    await s.stop();
  }
});

const evicted = async (s: Side) => infoNumber(await s.admin.call('INFO', 'stats'), 'evicted_clients');

/**
 * Close `conn` and wait until the server has let it go (only the admin
 * connection left): a client it still holds would be evicted by the next
 * limit too. With I/O threads the close reaches the main thread a moment later.
 */
async function hangUp(s: Side, conn: { socket: net.Socket }): Promise<void> {
  conn.socket.destroy();
  const alone = async () => infoNumber(await s.admin.call('INFO', 'clients'), 'connected_clients') === 1;
  expect(await until(alone), `${s.name}: the closed client is gone`).toBe(true);
}

/** A raw connection, its 'close' noted; `noEvict` sends CLIENT NO-EVICT on first (and reads the OK). */
async function connect(port: number, noEvict = false): Promise<{ socket: net.Socket; closed: () => boolean }> {
  const socket = net.connect(port, '127.0.0.1');
  let closed = false;
  socket.on('error', () => {});
  socket.on('close', () => (closed = true));
  await new Promise((r) => socket.once('connect', r));
  if (noEvict) {
    socket.write(encodeCommand(['CLIENT', 'NO-EVICT', 'on']));
    await new Promise((r) => socket.once('data', r));
  }
  return { socket, closed: () => closed };
}

/** Wait until `done` holds (up to 10 s); returns whether it did. */
async function until(done: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

/** Half of one SET whose value is `mb` MB: the query buffer holds what was sent. */
function partialBigSet(mb: number): Buffer {
  const size = 4 * 1024 * 1024;
  return Buffer.concat([Buffer.from(`*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$${size}\r\n`), Buffer.alloc(mb * 1024 * 1024, 'x')]);
}

/** A connection whose query buffer holds 3 MB of an unfinished SET. */
async function bigQueryBuffer(port: number, noEvict = false): Promise<{ socket: net.Socket; closed: () => boolean }> {
  const conn = await connect(port, noEvict);
  conn.socket.write(partialBigSet(3));
  return conn;
}

/** Over the limit for several cron periods (hz 10): `conn` must still be connected. */
async function expectKept(conn: { closed: () => boolean }, name: string): Promise<void> {
  await new Promise((r) => setTimeout(r, 500));
  expect(conn.closed(), name).toBe(false);
}

describe('maxmemory-clients: the limit', () => {
  it('is bytes, or a percentage of maxmemory (off without maxmemory), never under 128 KB', () => {
    expect(clientEvictionLimit('0', 0)).toBe(0);
    expect(clientEvictionLimit('0', 1e9)).toBe(0);
    expect(clientEvictionLimit('1048576', 0)).toBe(1048576);
    expect(clientEvictionLimit('1000', 0)).toBe(128 * 1024);
    expect(clientEvictionLimit('10%', 0)).toBe(0);
    expect(clientEvictionLimit('10%', 100 * 1024 * 1024)).toBe(10 * 1024 * 1024);
    expect(clientEvictionLimit('1%', 1024 * 1024)).toBe(128 * 1024);
  });

  it('evicts the largest clients first, only as many as bring the sum under it, never NO-EVICT ones or replicas', () => {
    const c = (name: string, mem: number, kind: EvictionCandidate['ctx']['kind'] = 'normal', noEvict = false) => ({
      name,
      closed: false,
      noEvict,
      ctx: { kind },
      memoryReport: () => ({ totMem: mem }),
    });
    const clients = [c('a', 100), c('b', 700, 'normal', true), c('c', 300, 'pubsub'), c('d', 5000, 'replica'), c('e', 200)];
    // normal + pubsub: 1300 (b counts, d does not); below 1001 once c (300) goes.
    expect(clientsToEvict(clients, 1001).evict.map((x) => x.name)).toEqual(['c']);
    // As in Redis the sum must end below the limit: at 1000 exactly, e goes too.
    expect(clientsToEvict(clients, 1000).evict.map((x) => x.name)).toEqual(['c', 'e']);
    expect(clientsToEvict(clients, 1301).evict).toEqual([]);
    const all = clientsToEvict(clients, 500);
    expect(all.evict.map((x) => x.name)).toEqual(['c', 'e', 'a']);
    expect(all.overAfterAll).toBe(true);
  });
});

describe.skipIf(!HAVE_REDIS)('maxmemory-clients (differential)', () => {
  it('disconnects a client whose query buffer passes the limit, and counts it', async () => {
    for (const s of await both()) {
      expect(toJs(await s.admin.call('CONFIG', 'SET', 'maxmemory-clients', '1mb'))).toBe('OK');
      const big = await bigQueryBuffer(s.port);
      expect(await until(big.closed), `${s.name}: closed`).toBe(true);
      expect(await evicted(s), s.name).toBe(1);
      // Everyone else goes on.
      expect(toJs(await s.admin.call('PING'))).toBe('PONG');
    }
  });

  it('disconnects a client that does not read its replies', async () => {
    for (const s of await both()) {
      await s.admin.call('SET', 'big', 'v'.repeat(512 * 1024));
      await s.admin.call('CONFIG', 'SET', 'maxmemory-clients', '2mb');
      const reader = await connect(s.port);
      reader.socket.pause();
      // 64 replies of 512 KB: 32 MB, more than the sockets' buffers hold.
      reader.socket.write(Buffer.concat(Array.from({ length: 64 }, () => encodeCommand(['GET', 'big']))));
      expect(await until(async () => (await evicted(s)) === 1), `${s.name}: evicted`).toBe(true);
      reader.socket.destroy();
    }
  });

  it('keeps a client with CLIENT NO-EVICT on, and evicts it once it is turned off', async () => {
    for (const s of await both()) {
      await s.admin.call('CONFIG', 'SET', 'maxmemory-clients', '1mb');
      const kept = await bigQueryBuffer(s.port, true);
      await expectKept(kept, s.name);
      expect(await evicted(s), s.name).toBe(0);
      // CLIENT NO-EVICT off takes effect once the command completes: finish the SET first.
      kept.socket.write(Buffer.concat([Buffer.alloc(1024 * 1024, 'x'), Buffer.from('\r\n')]));
      kept.socket.write(encodeCommand(['CLIENT', 'NO-EVICT', 'off']));
      kept.socket.write(partialBigSet(3));
      expect(await until(kept.closed), `${s.name}: closed`).toBe(true);
      expect(await evicted(s), s.name).toBe(1);
    }
  });

  it('follows maxmemory when set as a percentage; 0 turns it off', async () => {
    for (const s of await both()) {
      await s.admin.call('CONFIG', 'SET', 'maxmemory-clients', '1%');
      // 1% of no maxmemory: no limit.
      const free = await bigQueryBuffer(s.port);
      await expectKept(free, s.name);
      await hangUp(s, free);
      // 1% of 100 MB is 1 MB: now it applies.
      await s.admin.call('CONFIG', 'SET', 'maxmemory', '100mb');
      const limited = await bigQueryBuffer(s.port);
      expect(await until(limited.closed), `${s.name}: closed`).toBe(true);
      expect(await evicted(s), s.name).toBe(1);
      await s.admin.call('CONFIG', 'SET', 'maxmemory-clients', '0');
      const again = await bigQueryBuffer(s.port);
      await expectKept(again, s.name);
      again.socket.destroy();
      expect(await evicted(s), s.name).toBe(1);
      // CONFIG RESETSTAT clears the counter.
      await s.admin.call('CONFIG', 'RESETSTAT');
      expect(await evicted(s), s.name).toBe(0);
    }
  });
});
