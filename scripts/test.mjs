// `npm test [-- vitest args]`: install and build if needed (some suites run
// the built server as a child process), then run vitest once. A full run
// (no arguments) then runs the suites that exercise connections again with
// every server on `io-threads 4` (VIREO_TEST_IO_THREADS, test/helpers/servers.ts).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureBuild, ensureDependencies, root } from './ensure.mjs';

/** The suites run a second time through the I/O threads. */
const THREADED_SUITES = [
  'blocking', 'bullmq.e2e', 'changefeed', 'client-command', 'client-eviction', 'clients', 'config', 'connection', 'deferred-set', 'hardening', 'keys',
  'notifications', 'output-limits', 'pause', 'prefetch', 'protocol', 'pubsub', 'pubsub-e2e', 'queues.e2e', 'replication-e2e',
  'replication-primary', 'scripting-clients', 'server', 'startup', 'streams-queue.e2e', 'strings', 'tracking', 'transactions',
].map((name) => `test/${name}.test.ts`);

ensureDependencies();
ensureBuild();
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const args = process.argv.slice(2);
const r = spawnSync(process.execPath, [vitest, 'run', ...args], { cwd: root, stdio: 'inherit' });
let status = r.status ?? 1;
if (args.length === 0) {
  console.log('\n[vireo] the connection suites again, every server with io-threads 4\n');
  const threaded = spawnSync(process.execPath, [vitest, 'run', ...THREADED_SUITES], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, VIREO_TEST_IO_THREADS: '4' },
  });
  if (status === 0) status = threaded.status ?? 1;
}
process.exit(status);
