// The ACL check's cost, side by side with redis-server: redis-benchmark
// GET and SET over -r 1000000 keys (key:__rand_int__), once as the default
// user (no check at all on Vireo) and once as a restricted user
// (`+@all ~key:*`: a command bitmap lookup and one key pattern per key).
// Prints requests/s and, per server, what the restricted user keeps of the
// default user's throughput; the ratio columns are vireo/redis medians of
// per-round ratios.
//
//   node bench/acl.mjs [--requests 200000] [--pipeline 1] [--rounds 3] [--tests get,set] [--pin]
import { execFileSync } from 'node:child_process';
import { cpuMicros, median, options, pinSelf, requireTools, row, startServer } from './servers.mjs';

const { opt } = options(process.argv.slice(2));
const requests = Number(opt('requests', '200000'));
const pipeline = Number(opt('pipeline', '1'));
const rounds = Number(opt('rounds', '3'));
const tests = opt('tests', 'get,set').split(',');
const USER = ['restricted', 'on', '>benchpw', '+@all', '~key:*'];

/** One redis-benchmark run: requests/s and the server's CPU µs per request. */
function run(server, test, restricted) {
  const auth = restricted ? ['--user', 'restricted', '-a', 'benchpw'] : [];
  const args = ['-p', String(server.port), '-q', '--csv', '-r', '1000000', '-c', '50', '-n', String(requests), '-P', String(pipeline), '-t', test, ...auth];
  const cpu0 = cpuMicros(server.pid);
  const out = execFileSync('redis-benchmark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const cpu = cpuMicros(server.pid) - cpu0;
  const cols = out.trim().split('\n')[1].split(',').map((c) => c.replace(/"/g, ''));
  return { rps: Number(cols[1]), cpuUs: cpu / requests };
}

requireTools(['redis-server', 'redis-cli', 'redis-benchmark']);
pinSelf();
const redis = await startServer('redis');
const vireo = await startServer('vireo');
try {
  for (const s of [redis, vireo]) {
    s.cli('ACL', 'SETUSER', ...USER);
    // A dataset to read: GET hits half the keyspace.
    execFileSync('redis-benchmark', ['-p', String(s.port), '-q', '-r', '1000000', '-n', '500000', '-P', '100', '-t', 'set'], { stdio: 'ignore' });
  }
  const widths = [5, 11, 11, 11, 7, 11, 11, 8, 10, 10];
  console.log(row(['test', 'user', 'redis rps', 'vireo rps', 'v/r', 'redis us/r', 'vireo us/r', 'cpu v/r', 'redis acl', 'vireo acl'], widths));
  for (const test of tests) {
    // Warm-up: V8 compiles both paths before anything is counted.
    run(vireo, test, false);
    run(vireo, test, true);
    const m = { dflt: { rate: [], cpu: [], last: null }, restr: { rate: [], cpu: [], last: null } };
    const aclCost = { redis: [], vireo: [] };
    for (let i = 0; i < rounds; i++) {
      const rd = run(redis, test, false);
      const vd = run(vireo, test, false);
      const rr = run(redis, test, true);
      const vr = run(vireo, test, true);
      for (const [mode, a, b] of [['dflt', rd, vd], ['restr', rr, vr]]) {
        m[mode].rate.push(b.rps / a.rps);
        m[mode].cpu.push(b.cpuUs / a.cpuUs);
        m[mode].last = { a, b };
      }
      aclCost.redis.push(rr.cpuUs - rd.cpuUs);
      aclCost.vireo.push(vr.cpuUs - vd.cpuUs);
    }
    for (const mode of ['dflt', 'restr']) {
      const { a, b } = m[mode].last;
      const cost = mode === 'restr' ? [median(aclCost.redis).toFixed(2), median(aclCost.vireo).toFixed(2)] : ['', ''];
      console.log(row([test, mode, Math.round(a.rps), Math.round(b.rps), median(m[mode].rate).toFixed(2), a.cpuUs.toFixed(2), b.cpuUs.toFixed(2), median(m[mode].cpu).toFixed(2), ...cost], widths));
    }
  }
  console.log(
    `(${requests} requests, -c 50 -P ${pipeline}, -r 1000000; user dflt: the default user, restr: ${USER.join(' ')}; v/r: vireo/redis medians of per-round ratios, target >= 0.9 for restr;` +
      ` acl: CPU us per request the restricted user adds over the default one on each server)`,
  );
} finally {
  await redis.stop();
  await vireo.stop();
}
