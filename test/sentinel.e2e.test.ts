/**
 * Redis Sentinel (redis-server --sentinel, unchanged; three of them, a
 * quorum of two) keeping a Vireo primary and its Vireo replica highly
 * available. The Sentinels find each other through the primary's Pub/Sub
 * (__sentinel__:hello) and the replica through its INFO; they see the
 * primary die (kill -9), promote the replica (MULTI, REPLICAOF NO ONE,
 * CONFIG REWRITE, CLIENT KILL TYPE normal, EXEC), answer
 * get-master-addr-by-name with the new address, and make the old primary a
 * replica of the new one when it comes back. The writes the replica
 * acknowledged (WAIT) before the crash are all on the new primary, and
 * reach the old one after it rejoined.
 */

import { describe, it, expect } from 'vitest';
import { Redis } from 'ioredis';
import { useCleanups, js } from './helpers/cleanups.js';
import { RespClient, toJs } from './helpers/resp.js';
import { HAVE_REDIS, startSentinel, startVireoProcess, tempDir } from './helpers/servers.js';
import { infoField, waitFor } from './helpers/info.js';

const { track, client, defer } = useCleanups();

/** A SENTINEL MASTER / REPLICAS entry (a flat field, value list) as an object. */
function fields(entry: unknown): Record<string, string> {
  const flat = entry as string[];
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[flat[i]!] = flat[i + 1]!;
  return out;
}

async function masterAddr(sentinel: RespClient): Promise<string> {
  const addr = (await js(sentinel, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster')) as string[] | null;
  return addr === null ? '' : `${addr[0]}:${addr[1]}`;
}

async function replicationOf(c: RespClient): Promise<{ role: string; masterPort: string; link: string }> {
  const info = await c.call('INFO', 'replication');
  const role = infoField(info, 'role');
  if (role !== 'slave') return { role, masterPort: '', link: '' };
  return { role, masterPort: infoField(info, 'master_port'), link: infoField(info, 'master_link_status') };
}

describe.skipIf(!HAVE_REDIS)('Redis Sentinel over Vireo servers', () => {
  it('fails over to the replica when the primary dies, keeps every acknowledged write, and takes the old primary back as a replica', async () => {
    const primaryDir = tempDir();
    const durable = ['--appendonly', 'yes', '--appendfsync', 'always', '--repl-diskless-sync-delay', '0'];
    let primary = track(await startVireoProcess(durable, { dir: primaryDir }));
    const primaryPort = primary.port;
    const replica = track(await startVireoProcess([...durable, '--replicaof', `127.0.0.1 ${primaryPort}`]));
    const p = await client(primaryPort);
    const r = await client(replica.port);
    await waitFor('the replica in sync', async () => (await replicationOf(r)).link === 'up', 15000);

    // Three Sentinels, two of which must agree: they find each other through
    // the hello messages they publish on the primary's __sentinel__:hello channel.
    const settings = { 'down-after-milliseconds': '1000', 'failover-timeout': '10000' };
    const sentinels = await Promise.all([0, 1, 2].map(async () => track(await startSentinel('mymaster', primaryPort, 2, settings))));
    const all = await Promise.all(sentinels.map((h) => client(h.port)));
    const s = all[0]!;
    await waitFor(
      'the Sentinels to find each other',
      async () => {
        for (const c of all) if (fields(toJs(await c.call('SENTINEL', 'MASTER', 'mymaster')))['num-other-sentinels'] !== '2') return false;
        return true;
      },
      20000,
    );
    // Sentinel learns of replicas from the primary's INFO replication (slave0:ip=...,port=...).
    await waitFor(
      'Sentinel to list the replica',
      async () => {
        const replicas = (toJs(await s.call('SENTINEL', 'REPLICAS', 'mymaster')) as unknown[]).map(fields);
        return replicas.length === 1 && replicas[0]!.port === String(replica.port) && replicas[0]!.flags === 'slave';
      },
      15000,
    );
    const master = fields(toJs(await s.call('SENTINEL', 'MASTER', 'mymaster')));
    expect(master.flags).toBe('master');
    expect(master['num-slaves']).toBe('1');
    // Sentinel's own checks before a failover can happen.
    expect(await js(s, 'SENTINEL', 'CKQUORUM', 'mymaster')).toMatch(/^OK/);

    // An application that finds its primary through Sentinel (ioredis' sentinels option).
    const app = new Redis({ sentinels: sentinels.map((h) => ({ host: '127.0.0.1', port: h.port })), name: 'mymaster', lazyConnect: true, maxRetriesPerRequest: null });
    app.on('error', () => {});
    defer(() => void app.disconnect());
    await app.connect();
    expect(await app.set('from-app', 'before')).toBe('OK');

    for (let i = 0; i < 200; i++) await p.call('SET', `k${i}`, `v${i}`);
    await p.call('RPUSH', 'queue', 'a', 'b', 'c');
    // Acknowledged by the replica: these must survive the primary.
    expect(await js(p, 'WAIT', '1', '5000')).toBe('1');

    await primary.kill();
    await waitFor(
      'the Sentinels to promote the replica',
      async () => {
        for (const c of all) if ((await masterAddr(c)) !== `127.0.0.1:${replica.port}`) return false;
        return true;
      },
      30000,
    );
    // The promotion ends with CLIENT KILL TYPE normal (clients reconnect to the new primary): a new connection.
    const promoted = await client(replica.port);
    await waitFor('the replica to be a primary', async () => (await replicationOf(promoted)).role === 'master', 10000);
    await waitFor('the promotion to close the old connections', async () => r.closed, 5000);
    // The application's next write goes to the new primary.
    expect(await app.set('from-app', 'after')).toBe('OK');
    expect(await js(promoted, 'GET', 'from-app')).toBe('after');
    expect(await js(promoted, 'DBSIZE')).toBe('202');
    expect(await js(promoted, 'GET', 'k199')).toBe('v199');
    expect(await js(promoted, 'LRANGE', 'queue', '0', '-1')).toEqual(['a', 'b', 'c']);
    expect(await js(promoted, 'SET', 'after', 'failover')).toBe('OK');

    // The old primary comes back (from its AOF) at its old address: Sentinel
    // sees a stale primary and makes it a replica of the new one.
    primary = track(await startVireoProcess(durable, { dir: primaryDir, port: primaryPort }));
    // Its reconfiguration also ends with CLIENT KILL TYPE normal: a new connection for each
    // question, asked again on another one when that kill closes it mid-question.
    const fresh = async <T>(question: (c: RespClient) => Promise<T>): Promise<T> => {
      for (let attempt = 1; ; attempt++) {
        const c = await RespClient.connect(primaryPort);
        try {
          return await question(c);
        } catch (e) {
          if (!c.closed || attempt === 5) throw e;
        } finally {
          c.close();
        }
      }
    };
    const ask = (...args: string[]): Promise<unknown> => fresh((c) => js(c, ...args));
    await waitFor(
      'Sentinel to turn the old primary into a replica',
      async () => {
        const repl = await fresh(replicationOf);
        return repl.role === 'slave' && repl.masterPort === String(replica.port) && repl.link === 'up';
      },
      40000,
    );
    await waitFor('the write made after the failover on the old primary', async () => (await ask('GET', 'after')) === 'failover', 10000);
    expect(await ask('DBSIZE')).toBe('203');
    expect(String(await ask('SET', 'x', '1'))).toMatch(/READONLY/);
  }, 120000);
});
