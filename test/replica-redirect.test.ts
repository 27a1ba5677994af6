/**
 * A replica and the clients it cannot serve: Redis' -UNBLOCKED for a
 * client blocked on a primary that becomes a replica (differential), and
 * Valkey 8's replica redirection (CLIENT CAPA redirect, -REDIRECT, READONLY
 * and READWRITE in standalone mode) as Valkey's
 * tests/integration/replica-redirect.tcl expects it: the 7.0 reference
 * server has none of it, so those run on Vireo, a Vireo primary beside.
 */

import { describe, it, expect } from 'vitest';
import { useCleanups, js } from './helpers/cleanups.js';
import { HAVE_REDIS, freePort, startRedis, startVireo } from './helpers/servers.js';
import { RespClient } from './helpers/resp.js';
import { waitFor, readInfo } from './helpers/info.js';

const { track, client } = useCleanups();

const redirectTo = (port: number) => ({ type: 'error', value: `REDIRECT 127.0.0.1:${port}` });

/** A Vireo primary and a Vireo replica of it, the link up. */
async function primaryAndReplica(): Promise<{ primaryPort: number; p: RespClient; r: RespClient; replicaPort: number }> {
  const primary = track(await startVireo({ 'repl-diskless-sync-delay': '0' }));
  const replica = track(await startVireo());
  const p = await client(primary.port);
  const r = await client(replica.port);
  expect(await js(r, 'REPLICAOF', '127.0.0.1', String(primary.port))).toBe('OK');
  await waitFor('the replica link', async () => (await readInfo(r, 'replication', 'master_link_status')) === 'up');
  return { primaryPort: primary.port, p, r, replicaPort: replica.port };
}

describe.skipIf(!HAVE_REDIS)('a client blocked on a primary that becomes a replica (differential)', () => {
  it('gets -UNBLOCKED and is disconnected, as redis-server does', async () => {
    const noPrimary = await freePort();
    const answers: unknown[] = [];
    for (const port of [track(await startRedis()).port, track(await startVireo()).port]) {
      const blocked = await client(port);
      const admin = await client(port);
      blocked.writeRaw('*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n');
      await waitFor('the client to block', async () => (await readInfo(admin, 'clients', 'blocked_clients')) === '1');
      expect(await js(admin, 'REPLICAOF', '127.0.0.1', String(noPrimary))).toBe('OK');
      answers.push((await blocked.read()).reply);
      await blocked.waitClosed();
      expect(blocked.closed).toBe(true);
    }
    expect(answers[1]).toEqual(answers[0]);
    expect(answers[0]).toEqual({ type: 'error', value: 'UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)' });
  });
});

describe('CLIENT CAPA redirect on a replica (Valkey 8)', () => {
  it('without the capability a replica serves reads, refuses writes with READONLY, and READONLY is a cluster command', async () => {
    const { r } = await primaryAndReplica();
    expect(await js(r, 'GET', 'foo')).toBe(null);
    expect(await r.call('SET', 'foo', 'bar')).toEqual({ type: 'error', value: "READONLY You can't write against a read only replica." });
    expect(await r.call('READONLY')).toEqual({ type: 'error', value: 'ERR This instance has cluster support disabled' });
  });

  it('with it, reads and writes are redirected to the primary, other commands are served, READONLY keeps reads here', async () => {
    const { primaryPort, p, r } = await primaryAndReplica();
    // Unknown capabilities are ignored, as Valkey does.
    expect(await js(r, 'CLIENT', 'CAPA', 'something-else', 'REDIRECT')).toBe('OK');
    expect(await r.call('SET', 'foo', 'bar')).toEqual(redirectTo(primaryPort));
    expect(await r.call('GET', 'foo')).toEqual(redirectTo(primaryPort));
    expect(await js(r, 'PING')).toBe('PONG');
    expect(await js(r, 'ROLE')).toContain('slave');
    // The client follows the redirection; READONLY lets it read the replicated value here.
    expect(await js(p, 'SET', 'foo', 'bar')).toBe('OK');
    expect(Number(await js(p, 'WAIT', '1', '5000'))).toBe(1);
    expect(await js(r, 'READONLY')).toBe('OK');
    expect(await js(r, 'GET', 'foo')).toBe('bar');
    expect(await r.call('SET', 'foo', 'baz')).toEqual(redirectTo(primaryPort));
    expect(String(await js(r, 'CLIENT', 'INFO'))).toMatch(/ flags=r /);
    expect(await js(r, 'READWRITE')).toBe('OK');
    expect(await r.call('GET', 'foo')).toEqual(redirectTo(primaryPort));
    // RESET ends READONLY; the capability (what the library can do) stays.
    expect(await js(r, 'READONLY')).toBe('OK');
    expect(await js(r, 'RESET')).toBe('RESET');
    expect(await r.call('GET', 'foo')).toEqual(redirectTo(primaryPort));
    // A primary has nowhere to redirect to: the capability changes nothing there.
    expect(await js(p, 'CLIENT', 'CAPA', 'redirect')).toBe('OK');
    expect(await js(p, 'SET', 'x', '1')).toBe('OK');
    expect(await js(p, 'GET', 'x')).toBe('1');
  });

  it('a write queued in MULTI is redirected and fails the transaction; an EXEC the server became a replica under is redirected', async () => {
    const { primaryPort, r, replicaPort } = await primaryAndReplica();
    const rr = await client(replicaPort);
    expect(await js(rr, 'CLIENT', 'CAPA', 'redirect')).toBe('OK');
    expect(await js(rr, 'MULTI')).toBe('OK');
    expect(await rr.call('SET', 'foo', 'bar')).toEqual(redirectTo(primaryPort));
    expect(await rr.call('EXEC')).toEqual({ type: 'error', value: 'EXECABORT Transaction discarded because of previous errors.' });

    // QUEUED while this server was a primary, EXEC after it became a replica.
    expect(await js(r, 'REPLICAOF', 'NO', 'ONE')).toBe('OK');
    const late = await client(replicaPort);
    expect(await js(late, 'CLIENT', 'CAPA', 'redirect')).toBe('OK');
    expect(await js(late, 'MULTI')).toBe('OK');
    expect(await js(late, 'SET', 'foo', 'bar')).toBe('QUEUED');
    expect(await js(r, 'REPLICAOF', '127.0.0.1', String(primaryPort))).toBe('OK');
    expect(await late.call('EXEC')).toEqual(redirectTo(primaryPort));
    // The transaction is gone: a new EXEC has no MULTI.
    expect(await late.call('EXEC')).toEqual({ type: 'error', value: 'ERR EXEC without MULTI' });
  });

  it('a blocked client that declared it gets -REDIRECT to the new primary instead of -UNBLOCKED, then is disconnected', async () => {
    const primary = track(await startVireo());
    const server = track(await startVireo());
    const admin = await client(server.port);
    const blocked = await client(server.port);
    expect(await js(blocked, 'CLIENT', 'CAPA', 'redirect')).toBe('OK');
    blocked.writeRaw('*3\r\n$5\r\nBLPOP\r\n$1\r\nq\r\n$1\r\n0\r\n');
    await waitFor('the client to block', async () => (await readInfo(admin, 'clients', 'blocked_clients')) === '1');
    expect(await js(admin, 'REPLICAOF', '127.0.0.1', String(primary.port))).toBe('OK');
    expect((await blocked.read()).reply).toEqual(redirectTo(primary.port));
    await blocked.waitClosed();
  });
});
