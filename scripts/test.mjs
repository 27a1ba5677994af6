// `npm test [-- vitest args]`: install and build if needed (some suites run
// the built server as a child process), then run vitest once. A full run
// (no arguments) then runs the suites that exercise connections again with
// every server on `io-threads 4` (VIREO_TEST_IO_THREADS, test/helpers/servers.ts).
// Each run also writes a JSON report, and the last lines printed name every
// failed test of both runs: CI keeps only the tail of the output.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ensureBuild, ensureDependencies, root } from './ensure.mjs';

/** The suites run a second time through the I/O threads. */
const THREADED_SUITES = [
  'blocking', 'bullmq.e2e', 'changefeed', 'client-command', 'client-eviction', 'clients', 'config', 'connection', 'deferred-set', 'hardening', 'keys',
  'notifications', 'output-limits', 'pause', 'prefetch', 'protocol', 'pubsub', 'pubsub-e2e', 'queues.e2e', 'replication-e2e',
  'replication-primary', 'scripting-clients', 'server', 'startup', 'streams-queue.e2e', 'strings', 'tracking', 'transactions',
].map((name) => `test/${name}.test.ts`);

const reportDir = path.join(root, '.vitest-tmp');
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');

/** Runs vitest with `args`; returns its exit status and where its JSON report went. */
function runVitest(label, args, env = process.env) {
  fs.mkdirSync(reportDir, { recursive: true });
  const report = path.join(reportDir, `report-${label}.json`);
  fs.rmSync(report, { force: true });
  const reporters = ['--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
  const r = spawnSync(process.execPath, [vitest, 'run', ...reporters, ...args], { cwd: root, stdio: 'inherit', env });
  return { label, status: r.status ?? 1, report };
}

/** One line per failed test (file, name, first line of the error), or why the report is missing. */
function failures(run) {
  if (run.status === 0) return [];
  let parsed;
  try {
    parsed = JSON.parse(fs.readFileSync(run.report, 'utf8'));
  } catch {
    return [`${run.label}: exit ${run.status}, no report written`];
  }
  const lines = [];
  for (const file of parsed.testResults ?? []) {
    const name = path.relative(root, file.name);
    const failed = (file.assertionResults ?? []).filter((t) => t.status === 'failed');
    for (const t of failed) {
      const why = String(t.failureMessages?.[0] ?? '').split('\n')[0].slice(0, 300);
      lines.push(`${run.label}: ${name} > ${t.fullName}: ${why}`);
    }
    if (failed.length === 0 && file.status === 'failed') {
      lines.push(`${run.label}: ${name}: ${String(file.message ?? '').split('\n')[0].slice(0, 300)}`);
    }
  }
  if (lines.length === 0) lines.push(`${run.label}: exit ${run.status} with no failed test in its report`);
  return lines;
}

ensureDependencies();
ensureBuild();
const args = process.argv.slice(2);
const runs = [runVitest('single-threaded', args)];
if (args.length === 0) {
  console.log('\n[vireo] the connection suites again, every server with io-threads 4\n');
  runs.push(runVitest('io-threads-4', THREADED_SUITES, { ...process.env, VIREO_TEST_IO_THREADS: '4' }));
}
const failed = runs.flatMap(failures);
if (failed.length > 0) {
  console.log('\n[vireo] failed:');
  for (const line of failed) console.log(`  ${line}`);
}
process.exit(runs.find((r) => r.status !== 0)?.status ?? 0);
