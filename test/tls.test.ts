// TLS as Redis serves it: tls-port beside or instead of port, client
// certificates per tls-auth-clients, protocols, session resumption,
// certificates reloaded by CONFIG SET, replication over TLS (tls-replication)
// between Vireo servers and with redis-server. The certificates are made at
// test time (helpers/certs.ts); nothing secret is committed.
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_OPENSSL, makeTestCerts, type TestCerts } from './helpers/certs.js';
import { HAVE_REDIS, freePort, startRedis, startVireo, type ProcessHandle, type VireoHandle } from './helpers/servers.js';
import { RespClient, encodeCommand, toJs } from './helpers/resp.js';
import { infoField, infoNumber } from './helpers/info.js';
import { waitInSync } from './helpers/replication.js';

const run = promisify(execFile);

/** The tls-* parameters of a server using the test certificates. */
function tlsParams(certs: TestCerts, extra: Record<string, string> = {}): Record<string, string> {
  return { 'tls-cert-file': certs.serverCert, 'tls-key-file': certs.serverKey, 'tls-ca-cert-file': certs.caCert, ...extra };
}

/** Client options trusting the test CA, with the test client certificate unless `withCert` is false. */
function clientOptions(certs: TestCerts, withCert = true): tls.ConnectionOptions {
  const ca = fs.readFileSync(certs.caCert);
  if (!withCert) return { ca };
  return { ca, cert: fs.readFileSync(certs.clientCert), key: fs.readFileSync(certs.clientKey) };
}

const fingerprint = (file: string) => new crypto.X509Certificate(fs.readFileSync(file)).fingerprint256;

/**
 * Connect, send PING, and report what came back: the reply, or how the
 * connection failed ('handshake: <code>' when the handshake did, 'closed'
 * when the server closed it without answering).
 */
function pingOver(port: number, options: tls.ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    let handshakeDone = false;
    let data = '';
    const s = tls.connect({ port, host: '127.0.0.1', ...options }, () => {
      handshakeDone = true;
      s.write('PING\r\n');
    });
    s.on('data', (d) => {
      data += d.toString('latin1');
      if (data.endsWith('\r\n')) {
        resolve(data.trim().replace(/^\+/, ''));
        s.destroy();
      }
    });
    s.on('error', (e: NodeJS.ErrnoException) => {
      if (!handshakeDone) resolve(`handshake: ${e.code ?? e.message}`);
    });
    s.on('close', () => resolve(handshakeDone ? 'closed' : 'handshake: closed'));
  });
}

/** A plain-text PING to a port: the reply, or 'closed'. */
function plainPing(port: number): Promise<string> {
  return new Promise((resolve) => {
    let data = '';
    const s = net.connect({ port, host: '127.0.0.1' }, () => s.write(encodeCommand(['PING'])));
    s.on('data', (d) => {
      data += d.toString('latin1');
      if (data.includes('PONG')) {
        resolve('PONG');
        s.destroy();
      }
    });
    s.on('error', () => {});
    s.on('close', () => resolve(data.includes('PONG') ? 'PONG' : 'closed'));
  });
}

describe.skipIf(!HAVE_OPENSSL)('TLS', () => {
  let certs: TestCerts;
  let v: VireoHandle;
  let plainPort: number;
  let tlsPort: number;
  beforeAll(async () => {
    certs = await makeTestCerts();
    [plainPort, tlsPort] = [await freePort(), await freePort()];
    v = await startVireo(tlsParams(certs, { port: String(plainPort), 'tls-port': String(tlsPort) }));
  });
  afterAll(async () => {
    await v?.stop();
  });

  it('redis-cli --tls --cacert --cert --key: PING, SET and GET', async () => {
    const cli = (...args: string[]) =>
      run('redis-cli', ['-p', String(tlsPort), '--tls', '--cacert', certs.caCert, '--cert', certs.clientCert, '--key', certs.clientKey, ...args]).then((r) => r.stdout.trim());
    expect(await cli('PING')).toBe('PONG');
    expect(await cli('SET', 'cli:key', 'over tls')).toBe('OK');
    expect(await cli('GET', 'cli:key')).toBe('over tls');
  });

  it('ioredis with TLS options: commands, a deep pipeline and a large value', async () => {
    const r = new Redis({ port: tlsPort, host: '127.0.0.1', tls: clientOptions(certs), lazyConnect: true, maxRetriesPerRequest: 0 });
    await r.connect();
    try {
      expect(await r.ping()).toBe('PONG');
      const pipe = r.pipeline();
      for (let i = 0; i < 5000; i++) pipe.set(`p:${i}`, `v${i}`);
      for (let i = 0; i < 5000; i++) pipe.get(`p:${i}`);
      const results = await pipe.exec();
      expect(results!.slice(0, 5000).every(([e, v]) => e === null && v === 'OK')).toBe(true);
      expect(results!.slice(5000).map(([, v]) => v)).toEqual(Array.from({ length: 5000 }, (_, i) => `v${i}`));
      const big = 'x'.repeat(8 * 1024 * 1024);
      await r.set('big', big);
      expect(await r.get('big')).toBe(big);
    } finally {
      r.disconnect();
    }
  });

  it('node-redis with TLS options', async () => {
    const c = createClient({ socket: { host: '127.0.0.1', port: tlsPort, tls: true, ...clientOptions(certs), reconnectStrategy: false } });
    c.on('error', () => {});
    await c.connect();
    try {
      expect(await c.set('nr:key', 'node-redis')).toBe('OK');
      expect(await c.get('nr:key')).toBe('node-redis');
    } finally {
      await c.quit();
    }
  });

  it('TLS connections use the socket stream API (their handle is the TLS layer\'s); plain ones keep direct I/O', async () => {
    const t = await RespClient.connectTls(tlsPort, clientOptions(certs));
    const p = await RespClient.connect(plainPort);
    try {
      await t.call('CLIENT', 'SETNAME', 'over-tls');
      await p.call('CLIENT', 'SETNAME', 'plain');
      const byName = new Map([...v.server.clients.values()].map((c) => [c.ctx.name, c]));
      expect(byName.get('over-tls')!.io).toBeNull();
      expect(byName.get('plain')!.io).not.toBeNull();
    } finally {
      t.close();
      p.close();
    }
  });

  it('the plain port keeps serving plain text; a plain-text client on the TLS port is refused', async () => {
    expect(await plainPing(plainPort)).toBe('PONG');
    expect(await plainPing(tlsPort)).toBe('closed');
  });

  it('a client that does not trust the server\'s CA fails the handshake', async () => {
    expect(await pingOver(tlsPort, { ca: fs.readFileSync(certs.wrongCaCert) })).toMatch(/^handshake: (UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)/);
  });

  it('tls-auth-clients yes (the default) refuses a client without a certificate or with one from another CA', async () => {
    expect(await pingOver(tlsPort, clientOptions(certs))).toBe('PONG');
    expect(await pingOver(tlsPort, clientOptions(certs, false))).not.toBe('PONG');
    const wrong = { ca: fs.readFileSync(certs.caCert), cert: fs.readFileSync(certs.wrongClientCert), key: fs.readFileSync(certs.wrongClientKey) };
    expect(await pingOver(tlsPort, wrong)).not.toBe('PONG');
  });

  it('tls-auth-clients optional accepts a client without a certificate, not one with a bad certificate; no accepts both', async () => {
    const admin = await RespClient.connect(plainPort);
    const wrong = { ca: fs.readFileSync(certs.caCert), cert: fs.readFileSync(certs.wrongClientCert), key: fs.readFileSync(certs.wrongClientKey) };
    try {
      expect(toJs(await admin.call('CONFIG', 'SET', 'tls-auth-clients', 'optional'))).toBe('OK');
      expect(await pingOver(tlsPort, clientOptions(certs, false))).toBe('PONG');
      expect(await pingOver(tlsPort, clientOptions(certs))).toBe('PONG');
      expect(await pingOver(tlsPort, wrong)).not.toBe('PONG');
      expect(toJs(await admin.call('CONFIG', 'SET', 'tls-auth-clients', 'no'))).toBe('OK');
      expect(await pingOver(tlsPort, clientOptions(certs, false))).toBe('PONG');
      expect(await pingOver(tlsPort, wrong)).toBe('PONG');
    } finally {
      await admin.call('CONFIG', 'SET', 'tls-auth-clients', 'yes');
      admin.close();
    }
    expect(await pingOver(tlsPort, clientOptions(certs, false))).not.toBe('PONG');
  });

  it('CONFIG SET tls-cert-file/tls-key-file: new connections get the new certificate, open ones go on', async () => {
    const admin = await RespClient.connect(plainPort);
    const before = await RespClient.connectTls(tlsPort, clientOptions(certs));
    const peer = (o: tls.ConnectionOptions) =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ port: tlsPort, host: '127.0.0.1', ...o }, () => {
          resolve(s.getPeerX509Certificate()!.fingerprint256);
          s.destroy();
        });
        s.on('error', reject);
      });
    try {
      expect(await peer(clientOptions(certs))).toBe(fingerprint(certs.serverCert));
      expect(toJs(await admin.call('CONFIG', 'SET', 'tls-cert-file', certs.otherServerCert, 'tls-key-file', certs.otherServerKey))).toBe('OK');
      expect(await peer(clientOptions(certs))).toBe(fingerprint(certs.otherServerCert));
      expect(toJs(await before.call('PING'))).toBe('PONG');
      // A file that cannot be loaded changes nothing.
      const bad = await admin.call('CONFIG', 'SET', 'tls-cert-file', `${certs.dir}/missing.crt`);
      expect(bad).toEqual({ type: 'error', value: "ERR CONFIG SET failed (possibly related to argument 'tls-cert-file') - Unable to update TLS configuration. Check server logs." });
      expect(toJs(await admin.call('CONFIG', 'GET', 'tls-cert-file'))).toEqual(['tls-cert-file', certs.otherServerCert]);
      expect(await peer(clientOptions(certs))).toBe(fingerprint(certs.otherServerCert));
    } finally {
      await admin.call('CONFIG', 'SET', 'tls-cert-file', certs.serverCert, 'tls-key-file', certs.serverKey);
      before.close();
      admin.close();
    }
  });

  it('tls-ca-cert-dir: the certificates among its files verify clients; other files are skipped', async () => {
    const admin = await RespClient.connect(plainPort);
    const caDir = path.join(certs.dir, 'ca-dir');
    fs.mkdirSync(caDir, { recursive: true });
    fs.copyFileSync(certs.caCert, path.join(caDir, 'ca.pem'));
    fs.writeFileSync(path.join(caDir, 'README'), 'not a certificate\n');
    fs.writeFileSync(path.join(caDir, 'empty'), '');
    try {
      expect(toJs(await admin.call('CONFIG', 'SET', 'tls-ca-cert-file', '', 'tls-ca-cert-dir', caDir))).toBe('OK');
      expect(await pingOver(tlsPort, clientOptions(certs))).toBe('PONG');
      // Without the CA's file the client's certificate no longer verifies.
      fs.rmSync(path.join(caDir, 'ca.pem'));
      expect(toJs(await admin.call('CONFIG', 'SET', 'tls-ca-cert-dir', caDir))).toBe('OK');
      expect(await pingOver(tlsPort, clientOptions(certs))).not.toBe('PONG');
    } finally {
      await admin.call('CONFIG', 'SET', 'tls-ca-cert-file', certs.caCert, 'tls-ca-cert-dir', '');
      admin.close();
    }
    expect(await pingOver(tlsPort, clientOptions(certs))).toBe('PONG');
  });

  it('tls-protocols bounds the versions; tls-session-caching lets a client resume', async () => {
    const admin = await RespClient.connect(plainPort);
    const connectVersion = (o: tls.ConnectionOptions) =>
      new Promise<string>((resolve) => {
        const s = tls.connect({ port: tlsPort, host: '127.0.0.1', ...clientOptions(certs), ...o }, () => {
          resolve(s.getProtocol() ?? '');
          s.destroy();
        });
        s.on('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
      });
    try {
      expect(await connectVersion({})).toBe('TLSv1.3');
      expect(toJs(await admin.call('CONFIG', 'SET', 'tls-protocols', 'TLSv1.2'))).toBe('OK');
      expect(await connectVersion({})).toBe('TLSv1.2');
      expect(await connectVersion({ minVersion: 'TLSv1.3' })).toMatch(/^error/);
      expect(await admin.call('CONFIG', 'SET', 'tls-protocols', 'TLSv9')).toEqual({
        type: 'error',
        value: "ERR CONFIG SET failed (possibly related to argument 'tls-protocols') - Unable to update TLS configuration. Check server logs.",
      });
      // TLS 1.2 resumes by session id from the server's cache.
      const resumed = async () => {
        const first = await new Promise<Buffer>((resolve) => {
          const s = tls.connect({ port: tlsPort, host: '127.0.0.1', ...clientOptions(certs) }, () => {
            s.once('session', () => undefined);
            resolve(s.getSession()!);
            s.destroy();
          });
        });
        return new Promise<boolean>((resolve) => {
          const s = tls.connect({ port: tlsPort, host: '127.0.0.1', ...clientOptions(certs), session: first }, () => {
            resolve(s.isSessionReused());
            s.destroy();
          });
        });
      };
      expect(await resumed()).toBe(true);
      expect(toJs(await admin.call('CONFIG', 'SET', 'tls-session-caching', 'no'))).toBe('OK');
      expect(await resumed()).toBe(false);
    } finally {
      await admin.call('CONFIG', 'SET', 'tls-protocols', '', 'tls-session-caching', 'yes');
      admin.close();
    }
  });

  it('a client that does not read its replies over TLS is closed at its output limit', async () => {
    const admin = await RespClient.connect(plainPort);
    try {
      await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 1mb 0 0');
      await admin.call('SET', 'kb', 'k'.repeat(1024));
      const before = infoNumber(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections');
      const s = tls.connect({ port: tlsPort, host: '127.0.0.1', ...clientOptions(certs) });
      s.on('error', () => {});
      await new Promise<void>((r) => s.once('secureConnect', () => r()));
      s.pause();
      const batch = Buffer.concat(Array.from({ length: 500 }, () => encodeCommand(['GET', 'kb'])));
      for (let i = 0; i < 40 && !s.destroyed; i++) s.write(batch);
      const deadline = Date.now() + 10000;
      while (infoNumber(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections') === before && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      expect(infoNumber(await admin.call('INFO', 'stats'), 'client_output_buffer_limit_disconnections')).toBe(before + 1);
      s.destroy();
    } finally {
      await admin.call('CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0');
      admin.close();
    }
  });

  it('port 0 with a tls-port listens on TLS only; CONFIG SET tls-port moves it, tls-port 0 closes it', async () => {
    const only = await startVireo(tlsParams(certs, { 'tls-port': String(await freePort()) }));
    try {
      const c = await RespClient.connectTls(only.port, clientOptions(certs));
      expect(toJs(await c.call('PING'))).toBe('PONG');
      const moved = await freePort();
      expect(toJs(await c.call('CONFIG', 'SET', 'tls-port', String(moved)))).toBe('OK');
      expect(await pingOver(moved, clientOptions(certs))).toBe('PONG');
      expect(toJs(await c.call('PING'))).toBe('PONG');
      c.close();
    } finally {
      await only.stop();
    }
    // A server without TLS turns it on at run time.
    const later = await startVireo(tlsParams(certs));
    try {
      const c = await RespClient.connect(later.port);
      const port = await freePort();
      expect(toJs(await c.call('CONFIG', 'SET', 'tls-port', String(port)))).toBe('OK');
      expect(await pingOver(port, clientOptions(certs))).toBe('PONG');
      expect(toJs(await c.call('CONFIG', 'SET', 'tls-port', '0'))).toBe('OK');
      expect(await pingOver(port, clientOptions(certs))).toMatch(/^handshake/);
      c.close();
    } finally {
      await later.stop();
    }
  });

  it('a key file protected by tls-key-file-pass loads; a missing certificate stops start-up with Redis\' message', async () => {
    const port = await freePort();
    const enc = await startVireo(tlsParams(certs, { 'tls-port': String(port), 'tls-key-file': certs.encryptedServerKey, 'tls-key-file-pass': certs.keyPass }));
    try {
      expect(await pingOver(port, clientOptions(certs))).toBe('PONG');
    } finally {
      await enc.stop();
    }
    await expect(startVireo({ 'tls-port': String(await freePort()) })).rejects.toThrow('Failed to configure TLS. Check logs for more info.');
    await expect(startVireo(tlsParams(certs, { 'tls-port': String(await freePort()), 'tls-key-file': certs.encryptedServerKey }))).rejects.toThrow(
      'Failed to configure TLS. Check logs for more info.',
    );
  });

  it('a Vireo replica follows a Vireo primary over TLS (tls-replication)', async () => {
    const primaryTls = await freePort();
    const primary = await startVireo(tlsParams(certs, { 'tls-port': String(primaryTls), 'repl-diskless-sync-delay': '0' }));
    const replica = await startVireo(tlsParams(certs, { 'tls-replication': 'yes', 'tls-client-cert-file': certs.clientCert, 'tls-client-key-file': certs.clientKey }));
    try {
      const p = await RespClient.connectTls(primaryTls, clientOptions(certs));
      const r = await RespClient.connect(replica.port);
      await p.call('SET', 'before', 'sync');
      expect(toJs(await r.call('REPLICAOF', '127.0.0.1', String(primaryTls)))).toBe('OK');
      await p.call('SET', 'after', 'stream');
      await waitInSync(p, r);
      expect(toJs(await r.call('MGET', 'before', 'after'))).toEqual(['sync', 'stream']);
      p.close();
      r.close();
    } finally {
      await replica.stop();
      await primary.stop();
    }
  });

  describe.skipIf(!HAVE_REDIS)('with redis-server over TLS', () => {
    let redis: ProcessHandle;
    let redisTls: number;
    beforeAll(async () => {
      redisTls = await freePort();
      redis = await startRedis(tlsParams(certs, { 'tls-port': String(redisTls), 'tls-replication': 'yes', 'repl-diskless-sync-delay': '0' }));
    });
    afterAll(async () => {
      await redis?.stop();
    });

    it('answers the same CONFIG SET refusals and CONFIG GET values for the tls-* parameters', async () => {
      const [a, b] = await Promise.all([RespClient.connect(redis.port), RespClient.connect(plainPort)]);
      try {
        const cases: string[][] = [
          ['CONFIG', 'SET', 'tls-cert-file', `${certs.dir}/missing.crt`],
          ['CONFIG', 'SET', 'tls-key-file', certs.clientCert],
          ['CONFIG', 'SET', 'tls-protocols', 'TLSv1.2 SSLv3'],
          ['CONFIG', 'SET', 'tls-auth-clients', 'maybe'],
          ['CONFIG', 'SET', 'tls-session-cache-size', '-1'],
          ['CONFIG', 'SET', 'tls-prefer-server-ciphers', 'sometimes'],
          ['CONFIG', 'GET', 'tls-cert-file'],
          ['CONFIG', 'GET', 'tls-auth-clients'],
          ['CONFIG', 'GET', 'tls-session-caching'],
          ['CONFIG', 'GET', 'tls-session-cache-size'],
          ['CONFIG', 'GET', 'tls-protocols'],
        ];
        for (const cmd of cases) expect({ cmd, reply: await b.call(...cmd) }).toEqual({ cmd, reply: await a.call(...cmd) });
      } finally {
        a.close();
        b.close();
      }
    });

    it('redis-server replicates from a Vireo primary over TLS, and Vireo from redis-server', async () => {
      const p = await RespClient.connectTls(tlsPort, clientOptions(certs));
      const r = await RespClient.connect(redis.port);
      try {
        await p.call('CONFIG', 'SET', 'repl-diskless-sync-delay', '0');
        await p.call('SET', 'to-redis', 'over tls');
        expect(toJs(await r.call('REPLICAOF', '127.0.0.1', String(tlsPort)))).toBe('OK');
        await waitInSync(p, r);
        expect(toJs(await r.call('GET', 'to-redis'))).toBe('over tls');
        expect(infoField(await r.call('INFO', 'replication'), 'master_link_status')).toBe('up');
        expect(toJs(await r.call('REPLICAOF', 'NO', 'ONE'))).toBe('OK');
      } finally {
        p.close();
        r.close();
      }
      const replica = await startVireo(tlsParams(certs, { 'tls-replication': 'yes' }));
      const rp = await RespClient.connectTls(redisTls, clientOptions(certs));
      const vr = await RespClient.connect(replica.port);
      try {
        await rp.call('SET', 'to-vireo', 'from redis');
        expect(toJs(await vr.call('REPLICAOF', '127.0.0.1', String(redisTls)))).toBe('OK');
        await waitInSync(rp, vr);
        expect(toJs(await vr.call('GET', 'to-vireo'))).toBe('from redis');
      } finally {
        rp.close();
        vr.close();
        await replica.stop();
      }
    });
  });
});
