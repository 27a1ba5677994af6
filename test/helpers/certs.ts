/**
 * Throw-away certificates for the TLS tests, made at test time with
 * Debian's openssl CLI (nothing secret is committed): a CA, a server
 * certificate for localhost/127.0.0.1 and a client certificate signed by
 * it, and a second, unrelated CA with its own client certificate. Tests
 * skip with a notice when openssl is missing; under CI=true that is a
 * failure.
 */

import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './servers.js';

const run = promisify(execFile);

/** Whether an executable named `name` is on PATH (looked up, not run). */
function onPath(name: string): boolean {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    try {
      fs.accessSync(path.join(dir, name), fs.constants.X_OK);
      return true;
    } catch {
      // not here
    }
  }
  return false;
}

export const HAVE_OPENSSL = (() => {
  const found = onPath('openssl');
  if (!found) {
    if (process.env.CI === 'true') throw new Error('openssl is required under CI=true (apt-get install openssl)');
    console.warn('[vireo tests] openssl not found: TLS tests are skipped');
  }
  return found;
})();

export interface TestCerts {
  dir: string;
  caCert: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** A second server certificate (same CA), for reload tests. */
  otherServerCert: string;
  otherServerKey: string;
  /** The server key encrypted with `keyPass`. */
  encryptedServerKey: string;
  keyPass: string;
  /** An unrelated CA and a client certificate it signed. */
  wrongCaCert: string;
  wrongClientCert: string;
  wrongClientKey: string;
}

async function openssl(dir: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd: dir });
}

async function makeCa(dir: string, name: string, cn: string): Promise<void> {
  await openssl(dir, ['req', '-x509', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', `${name}.key`, '-out', `${name}.crt`, '-days', '2', '-subj', `/CN=${cn}`]);
}

/** A key and a certificate for `cn` signed by the CA `ca`, with `ext` as its extensions. */
async function makeLeaf(dir: string, ca: string, name: string, cn: string, ext: string): Promise<void> {
  await openssl(dir, ['req', '-new', '-nodes', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
  await openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`]);
}

const SERVER_EXT = 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth,clientAuth\n';
const CLIENT_EXT = 'extendedKeyUsage=clientAuth\n';

/** Make a fresh set of certificates in a temporary directory (removed after the test file). */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = tempDir('vireo-tls-');
  await Promise.all([makeCa(dir, 'ca', 'Vireo Test CA'), makeCa(dir, 'wrong-ca', 'Unrelated Test CA')]);
  await Promise.all([
    makeLeaf(dir, 'ca', 'server', 'localhost', SERVER_EXT),
    makeLeaf(dir, 'ca', 'other-server', 'localhost', SERVER_EXT),
    makeLeaf(dir, 'ca', 'client', 'Vireo Test Client', CLIENT_EXT),
    makeLeaf(dir, 'wrong-ca', 'wrong-client', 'Unrelated Client', CLIENT_EXT),
  ]);
  const keyPass = 'test-only-passphrase';
  await openssl(dir, ['pkey', '-in', 'server.key', '-aes256', '-passout', `pass:${keyPass}`, '-out', 'server-encrypted.key']);
  const at = (f: string) => path.join(dir, f);
  return {
    dir,
    caCert: at('ca.crt'),
    serverCert: at('server.crt'),
    serverKey: at('server.key'),
    clientCert: at('client.crt'),
    clientKey: at('client.key'),
    otherServerCert: at('other-server.crt'),
    otherServerKey: at('other-server.key'),
    encryptedServerKey: at('server-encrypted.key'),
    keyPass,
    wrongCaCert: at('wrong-ca.crt'),
    wrongClientCert: at('wrong-client.crt'),
    wrongClientKey: at('wrong-client.key'),
  };
}
