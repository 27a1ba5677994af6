#!/usr/bin/env node
// SET/GET over TLS side by side with redis-server over TLS (Debian's
// redis-server 7.0 and redis-benchmark are built with TLS): redis-benchmark
// --tls with a client certificate, -c 50, keys spread with -r 1000000, at
// -P 1 and -P 16. The same runs over plain TCP are printed beside them, so
// the cost of TLS itself shows for each server. Prints the median of
// per-round ratios vireo/redis (each round runs both servers back to back,
// alternating which goes first), judged against >= 0.8, and the server CPU
// time per request from /proc. The certificates are made for the run with
// openssl and removed after.
//
// Usage: npm run bench -- --suite tls [--quick] [--rounds 5] [--requests 100000] [--pin]
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { cpuMicros, freePort, judged, median, options, pinSelf, pinned, requireTools, row, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const { opt, has } = options(args);
const quick = has('quick');
const rounds = Number(opt('rounds', quick ? '2' : '5'));
const requests = Number(opt('requests', quick ? '50000' : '100000'));
const TARGET = 0.8;
const run = promisify(execFile);

requireTools(['redis-server', 'redis-benchmark', 'redis-cli', 'openssl']);
pinSelf();

/** A throw-away CA, server and client certificate (EC P-256) in `dir`. */
async function makeCerts(dir) {
  const ssl = (...a) => run('openssl', a, { cwd: dir });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await ssl('req', '-x509', '-new', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '1', '-subj', '/CN=bench CA');
  for (const [name, ext] of [['server', 'subjectAltName=IP:127.0.0.1\n'], ['client', 'extendedKeyUsage=clientAuth\n']]) {
    await ssl('req', '-new', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=bench ${name}`);
    fs.writeFileSync(path.join(dir, `${name}.ext`), ext);
    await ssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.crt`, '-days', '1', '-extfile', `${name}.ext`);
  }
  const at = (f) => path.join(dir, f);
  return { ca: at('ca.crt'), cert: at('server.crt'), key: at('server.key'), clientCert: at('client.crt'), clientKey: at('client.key') };
}

/** redis-benchmark -c 50 of SET or GET against `server`, over TLS or not: { rps, cpuUs per request }. */
function benchOnce(server, certs, test, pipeline, tlsOn) {
  const target = tlsOn ? ['-p', String(server.tlsPort), '--tls', '--cacert', certs.ca, '--cert', certs.clientCert, '--key', certs.clientKey] : ['-p', String(server.port)];
  const program = pinned ? ['taskset', ['-c', '1', 'redis-benchmark']] : ['redis-benchmark', []];
  const cpu0 = cpuMicros(server.pid);
  const out = execFileSync(program[0], [...program[1], ...target, '-q', '--csv', '-r', '1000000', '-c', '50', '-n', String(requests * (pipeline > 1 ? 4 : 1)), '-P', String(pipeline), '-t', test], { encoding: 'utf8' });
  const cpu = cpuMicros(server.pid) - cpu0;
  const cols = out.trim().split('\n')[1].split(',').map((c) => c.replace(/"/g, ''));
  return { rps: Number(cols[1]), cpuUs: cpu / (requests * (pipeline > 1 ? 4 : 1)) };
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-tls-'));
const servers = [];
try {
  const certs = await makeCerts(dir);
  for (const kind of ['redis', 'vireo']) {
    const tlsPort = await freePort();
    const tlsArgs = ['--tls-port', String(tlsPort), '--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca];
    servers.push({ ...(await startServer(kind, tlsArgs)), tlsPort });
  }
  const [redis, vireo] = servers;
  const w = [6, 3, 12, 12, 8, 7, 8, 12, 12, 8, 9];
  console.log(row(['test', 'P', 'redis TLS', 'vireo TLS', 'median', 'target', 'cpu/req', 'redis plain', 'vireo plain', 'median', 'TLS cost'], w));
  for (const test of ['set', 'get']) {
    for (const pipeline of [1, 16]) {
      // An uncounted warm-up each: V8 compiles Vireo's paths on the first requests.
      for (const s of servers) for (const tlsOn of [true, false]) benchOnce(s, certs, test, pipeline, tlsOn);
      const best = { tls: { redis: 0, vireo: 0 }, plain: { redis: 0, vireo: 0 } };
      const ratios = { tls: [], plain: [] };
      const cpuRatios = [];
      for (let r = 0; r < rounds; r++) {
        // Each round: both servers over TLS, then over plain TCP, alternating which goes first.
        for (const tlsOn of [true, false]) {
          const mode = tlsOn ? 'tls' : 'plain';
          const round = {};
          for (const s of r % 2 === 0 ? [redis, vireo] : [vireo, redis]) {
            round[s.kind] = benchOnce(s, certs, test, pipeline, tlsOn);
            best[mode][s.kind] = Math.max(best[mode][s.kind], round[s.kind].rps);
          }
          ratios[mode].push(round.vireo.rps / round.redis.rps);
          if (tlsOn) cpuRatios.push(round.vireo.cpuUs / round.redis.cpuUs);
        }
      }
      const tlsRatio = median(ratios.tls);
      const plainRatio = median(ratios.plain);
      console.log(
        row(
          [
            test.toUpperCase(),
            pipeline,
            best.tls.redis.toFixed(0),
            best.tls.vireo.toFixed(0),
            judged(tlsRatio, TARGET),
            `>=${TARGET}`,
            median(cpuRatios).toFixed(2),
            best.plain.redis.toFixed(0),
            best.plain.vireo.toFixed(0),
            plainRatio.toFixed(2),
            (tlsRatio / plainRatio).toFixed(2),
          ],
          w,
        ),
      );
    }
  }
  console.log('(requests/s, best round, redis-benchmark -c 50 -r 1000000; median: median of per-round vireo/redis ratios; * below target;');
  console.log(' cpu/req: median of per-round ratios of server CPU time per request over TLS, vireo/redis, lower is better;');
  console.log(' TLS cost: the TLS ratio over the plain one, 1.00 when TLS costs Vireo what it costs redis-server)');
} finally {
  for (const s of servers) await s.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}
