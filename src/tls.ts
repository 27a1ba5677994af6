/**
 * TLS contexts from the tls-* parameters, as Redis' tls.c builds them: a
 * server context for the TLS listeners, and a client context for outgoing
 * connections (a replica to its primary under tls-replication), which uses
 * tls-client-cert-file/tls-client-key-file when both are set and the
 * server's certificate otherwise.
 *
 * Files are read synchronously, at start-up and on CONFIG SET, as Redis
 * does; a failure throws a TlsConfigError whose message is the line Redis
 * logs, and leaves the contexts in use unchanged.
 */

import fs from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import crypto from 'node:crypto';
import type { Config } from './config.js';

export class TlsConfigError extends Error {}

/** The tls-* parameters that change the contexts (CONFIG SET rebuilds them). */
export const TLS_CONTEXT_PARAMS = new Set([
  'tls-cert-file',
  'tls-key-file',
  'tls-key-file-pass',
  'tls-client-cert-file',
  'tls-client-key-file',
  'tls-client-key-file-pass',
  'tls-dh-params-file',
  'tls-ca-cert-file',
  'tls-ca-cert-dir',
  'tls-protocols',
  'tls-ciphers',
  'tls-ciphersuites',
  'tls-prefer-server-ciphers',
  'tls-session-caching',
  'tls-session-cache-size',
  'tls-session-cache-timeout',
  'tls-replication',
  'tls-cluster',
  'tls-auth-clients',
]);

const PROTOCOLS: Record<string, tls.SecureVersion> = {
  tlsv1: 'TLSv1',
  'tlsv1.1': 'TLSv1.1',
  'tlsv1.2': 'TLSv1.2',
  'tlsv1.3': 'TLSv1.3',
};
const PROTOCOL_ORDER: tls.SecureVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];

/**
 * tls-protocols: Redis' words (any case), TLSv1.2 and TLSv1.3 when empty.
 * Node takes a range, so the lowest and highest named bound it (a gap, as
 * in "TLSv1 TLSv1.3", is not expressible and is filled).
 */
export function protocolRange(value: string): { minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion } {
  const words = value.split(' ').filter((w) => w !== '');
  if (words.length === 0) return { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' };
  const named = words.map((w) => PROTOCOLS[w.toLowerCase()]);
  if (named.some((p) => p === undefined))
    throw new TlsConfigError("Invalid tls-protocols specified. Use a combination of 'TLSv1', 'TLSv1.1', 'TLSv1.2' and 'TLSv1.3'.");
  const indexes = named.map((p) => PROTOCOL_ORDER.indexOf(p!));
  return { minVersion: PROTOCOL_ORDER[Math.min(...indexes)]!, maxVersion: PROTOCOL_ORDER[Math.max(...indexes)]! };
}

/**
 * Node takes TLS 1.2 ciphers and TLS 1.3 suites in one list (names starting
 * TLS_ are suites). Where one of the two parameters is empty, that part
 * keeps Node's default: otherwise Node would turn the other version off.
 */
export function cipherList(ciphers: string, ciphersuites: string): string | undefined {
  if (ciphers === '' && ciphersuites === '') return undefined;
  const defaults = tls.DEFAULT_CIPHERS.split(':');
  const defaultSuites = defaults.filter((c) => c.startsWith('TLS_')).join(':');
  const defaultCiphers = defaults.filter((c) => !c.startsWith('TLS_')).join(':');
  return `${ciphersuites !== '' ? ciphersuites : defaultSuites}:${ciphers !== '' ? ciphers : defaultCiphers}`;
}

function readFile(file: string, what: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new TlsConfigError(`Failed to load ${what}: ${file}: ${(e as Error).message}`);
  }
}

/** Larger files in tls-ca-cert-dir are not certificates (a CA bundle is a few hundred KB). */
const MAX_CA_FILE_BYTES = 4 * 1024 * 1024;

/** The certificates of tls-ca-cert-file and of every PEM file in tls-ca-cert-dir. */
function caCertificates(config: Config): Buffer[] | undefined {
  const file = config.str('tls-ca-cert-file');
  const dir = config.str('tls-ca-cert-dir');
  if (file === '' && dir === '') return undefined;
  const out: Buffer[] = [];
  if (file !== '') out.push(readFile(file, 'CA certificate(s) file'));
  if (dir !== '') {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch (e) {
      throw new TlsConfigError(`Failed to configure CA certificate(s) file/directory: ${(e as Error).message}`);
    }
    for (const name of names.sort()) {
      const full = path.join(dir, name);
      let pem: Buffer;
      try {
        // Certificate files only: a directory such as /proc holds files that are empty in size or endless.
        const st = fs.statSync(full);
        if (!st.isFile() || st.size === 0 || st.size > MAX_CA_FILE_BYTES) continue;
        pem = fs.readFileSync(full);
      } catch {
        continue;
      }
      if (pem.includes('-----BEGIN CERTIFICATE-----')) out.push(pem);
    }
  }
  return out;
}

/** What is common to the server and the client context (Redis' createSSLContext). */
function baseOptions(config: Config, client: boolean): tls.SecureContextOptions {
  const certParam = client ? 'tls-client-cert-file' : 'tls-cert-file';
  const keyParam = client ? 'tls-client-key-file' : 'tls-key-file';
  const passParam = client ? 'tls-client-key-file-pass' : 'tls-key-file-pass';
  const certFile = config.str(certParam);
  const keyFile = config.str(keyParam);
  const pass = config.str(passParam);
  const ca = caCertificates(config);
  const ciphers = cipherList(config.str('tls-ciphers'), config.str('tls-ciphersuites'));
  const opts: tls.SecureContextOptions = {
    ...protocolRange(config.str('tls-protocols')),
    cert: readFile(certFile, 'certificate'),
    key: readFile(keyFile, 'private key'),
    ...(pass !== '' ? { passphrase: pass } : {}),
    ...(ca !== undefined ? { ca } : {}),
    ...(ciphers !== undefined ? { ciphers } : {}),
  };
  // Building the context now surfaces a bad key, passphrase, CA or cipher list here, not at the first handshake.
  try {
    tls.createSecureContext(opts);
  } catch (e) {
    throw new TlsConfigError(`Failed to configure TLS: ${(e as Error).message}`);
  }
  return opts;
}

/** How a TLS listener treats client certificates (tls-auth-clients). */
export interface ClientAuth {
  requestCert: boolean;
  rejectUnauthorized: boolean;
}

export function clientAuth(config: Config): ClientAuth {
  const mode = config.str('tls-auth-clients');
  return { requestCert: mode !== 'no', rejectUnauthorized: mode === 'yes' };
}

/** Options of the server context (tlsConfigure's checks first, with Redis' log lines). */
export function serverContextOptions(config: Config): tls.SecureContextOptions {
  if (config.str('tls-cert-file') === '') throw new TlsConfigError('No tls-cert-file configured!');
  if (config.str('tls-key-file') === '') throw new TlsConfigError('No tls-key-file configured!');
  const needsCa = config.str('tls-auth-clients') !== 'no' || config.bool('tls-replication') || config.bool('tls-cluster');
  if (needsCa && config.str('tls-ca-cert-file') === '' && config.str('tls-ca-cert-dir') === '')
    throw new TlsConfigError('Either tls-ca-cert-file or tls-ca-cert-dir must be specified when tls-cluster, tls-replication or tls-auth-clients are enabled!');
  const dhFile = config.str('tls-dh-params-file');
  const opts: tls.SecureContextOptions = {
    ...baseOptions(config, false),
    honorCipherOrder: config.bool('tls-prefer-server-ciphers'),
    ...(dhFile !== '' ? { dhparam: readFile(dhFile, 'DH params file') } : { dhparam: 'auto' }),
  };
  if (config.bool('tls-session-caching')) {
    opts.sessionTimeout = config.int('tls-session-cache-timeout');
    // Redis' SSL_CTX_set_session_id_context(ctx, "redis", 5).
    opts.sessionIdContext = 'redis';
  } else {
    // No session tickets either: nothing is resumed.
    opts.secureOptions = crypto.constants.SSL_OP_NO_TICKET;
  }
  return opts;
}

/**
 * Options for an outgoing connection (a replica to its primary): the client
 * certificate when both client files are set, else the server's; the
 * peer's chain is verified against the CA, its name is not (Redis checks no
 * host name either).
 */
export function clientConnectOptions(config: Config): tls.ConnectionOptions {
  const ownClientCert = config.str('tls-client-cert-file') !== '' && config.str('tls-client-key-file') !== '';
  const base = baseOptions(config, ownClientCert);
  return { ...base, rejectUnauthorized: true, checkServerIdentity: () => undefined };
}

/**
 * Redis' session cache (SSL_SESS_CACHE_SERVER with tls-session-cache-size
 * entries): Node keeps none itself, a server resumes through its
 * newSession/resumeSession events. Oldest sessions go first.
 */
export class SessionCache {
  private readonly sessions = new Map<string, Buffer>();

  /** `maxEntries` is read per new session; 0 from it keeps none (tls-session-caching no). */
  constructor(private readonly maxEntries: () => number) {}

  attach(server: tls.Server): void {
    server.on('newSession', (id: Buffer, data: Buffer, done: () => void) => {
      this.store(id.toString('hex'), data);
      done();
    });
    server.on('resumeSession', (id: Buffer, done: (err: Error | null, data: Buffer | null) => void) => {
      done(null, this.maxEntries() === 0 ? null : (this.sessions.get(id.toString('hex')) ?? null));
    });
  }

  private store(id: string, data: Buffer): void {
    const max = this.maxEntries();
    if (max === 0) return;
    this.sessions.delete(id);
    this.sessions.set(id, data);
    while (this.sessions.size > max) this.sessions.delete(this.sessions.keys().next().value!);
  }

  clear(): void {
    this.sessions.clear();
  }
}
