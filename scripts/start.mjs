// `npm start [-- args]`: install and build if needed, then run the server
// with redis-server style arguments, under the V8 options of
// scripts/node-flags.mjs (a heap limit from the machine's memory). Node
// takes those only on its command line, so this process starts the server
// as its child with them, passes signals on and exits as the child does;
// the child ends with it if it dies (its IPC channel closes).
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBuild, ensureDependencies, root } from './ensure.mjs';
import { serverNodeFlags } from './node-flags.mjs';

const CHILD_MARK = 'VIREO_SERVER_CHILD';

/** Flags not already given to node (on its command line or in NODE_OPTIONS). */
function missingFlags() {
  const given = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  return serverNodeFlags().filter((f) => !given.some((g) => g.split('=')[0] === f.split('=')[0]));
}

ensureDependencies();
ensureBuild();
const flags = process.env[CHILD_MARK] === undefined ? missingFlags() : [];
if (flags.length > 0) {
  const child = spawn(process.execPath, [...process.execArgv, ...flags, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, [CHILD_MARK]: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => {
    if (signal !== null) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
} else {
  // Started by the parent above: shut down cleanly (SIGTERM: save, flush) if it goes away.
  if (process.send !== undefined) {
    process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  }
  const { main } = await import(pathToFileURL(path.join(root, 'dist', 'src', 'main.js')).href);
  try {
    await main(process.argv.slice(2));
  } catch (e) {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
