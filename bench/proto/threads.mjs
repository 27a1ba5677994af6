// What both threading prototypes (io-threads.mjs, shards.mjs) share: a
// thread's CPU time from /proc, and printing their statistics on signals.
import fs from 'node:fs';

/** This thread's id and CPU time (user, sys) in seconds, from /proc. */
export function threadCpu() {
  const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const tid = Number(fs.readlinkSync('/proc/thread-self').split('/').pop());
  return { tid, user: Number(f[11]) / 100, sys: Number(f[12]) / 100 };
}

/**
 * Print `label` and the rows `collect()` gathers as one JSON line on
 * SIGUSR2, and on SIGINT before exiting (the runner reads that line).
 */
export function printOnSignals(label, collect) {
  const print = async () => console.log(`${label} ${JSON.stringify(await collect())}`);
  process.on('SIGUSR2', print);
  process.on('SIGINT', async () => {
    await print();
    process.exit(0);
  });
}
