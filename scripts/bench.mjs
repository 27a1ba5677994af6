// `npm run bench [-- options]`: install and build if needed, then run the
// side-by-side benchmarks against redis-server. Without --suite every suite
// runs: strings and collections (bench/compare.mjs), keyspace (bench/keyspace.mjs:
// redis-cli --pipe of 1M SETs, a 90/10 GET/SET mix over 1M keys), persistence
// (bench/persistence.mjs), queues (bench/queues.mjs), replication
// (bench/replication.mjs), scripting (bench/scripting.mjs: EVALSHA and BullMQ),
// pubsub (bench/pubsub.mjs), tls (bench/tls.mjs: SET/GET over TLS), geo (bench/geo.mjs),
// hll (bench/hll.mjs), bitmaps (bench/bitmaps.mjs), acl (bench/acl.mjs: GET/SET as a restricted ACL user),
// prometheus (bench/prometheus.mjs: a scrape's cost, throughput while scraped),
// latency-size (bench/latency-size.mjs: GET/SET latency percentiles with 10M keys loaded),
// one-client (bench/one-client.mjs: the round trip of one client sending a command at a time).
// `--threads` runs the io-threads measurement alone (bench/io-threads.mjs: io-threads 1, 2, 4 beside
// redis-server); `--threads-proto` the prototype it was chosen with (bench/proto/run-io-threads.mjs);
// `--native-poll-proto` the measurement of a native I/O layer (bench/proto/run-native-poll.mjs).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureBuild, ensureDependencies, root } from './ensure.mjs';

ensureDependencies();
ensureBuild();
const args = process.argv.slice(2);
for (const [flag, script] of [
  ['--threads', path.join('bench', 'io-threads.mjs')],
  ['--threads-proto', path.join('bench', 'proto', 'run-io-threads.mjs')],
  ['--native-poll-proto', path.join('bench', 'proto', 'run-native-poll.mjs')],
]) {
  if (!args.includes(flag)) continue;
  const rest = args.filter((a) => a !== flag);
  const r = spawnSync(process.execPath, [path.join(root, script), ...rest], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const i = args.indexOf('--suite');
const suites = i >= 0 ? [args[i + 1]] : ['strings', 'collections', 'keyspace', 'queues', 'persistence', 'replication', 'migrate', 'scripting', 'pubsub', 'tls', 'geo', 'hll', 'bitmaps', 'acl', 'operations', 'observe', 'prometheus', 'latency-size', 'one-client'];
const OWN_SCRIPT = new Set(['latency-size', 'keyspace', 'persistence', 'queues', 'replication', 'migrate', 'scripting', 'pubsub', 'tls', 'geo', 'hll', 'bitmaps', 'acl', 'operations', 'observe', 'prometheus', 'one-client']);
const rest = i >= 0 ? [...args.slice(0, i), ...args.slice(i + 2)] : args;
let status = 0;
for (const suite of suites) {
  console.log(`\n== ${suite} ==`);
  const script = OWN_SCRIPT.has(suite) ? `${suite}.mjs` : 'compare.mjs';
  const extra = OWN_SCRIPT.has(suite) ? [] : ['--suite', suite];
  const r = spawnSync(process.execPath, [path.join(root, 'bench', script), ...extra, ...rest], { stdio: 'inherit' });
  status ||= r.status ?? 1;
}
process.exit(status);
