// The V8 options the server runs with (npm start, bin/vireo-server, the
// benchmarks). Chosen by measurement with bench/latency-size.mjs; the
// README's "Memory" section explains them.
import os from 'node:os';

/**
 * Node's default heap limit is about 4 GB whatever the machine has: a
 * dataset past it would end the process with a fatal allocation failure.
 * The limit is raised to three quarters of the machine's memory (a server
 * keeps the rest for RSS overhead, buffers and the OS), and the server
 * refuses writes with -OOM before reaching it (src/server/heap-guard.ts).
 */
export function heapLimitMb(totalBytes = os.totalmem()) {
  return Math.max(1024, Math.floor((totalBytes * 0.75) / 2 ** 20));
}

/** node flags for a server process. */
export function serverNodeFlags() {
  return [`--max-old-space-size=${heapLimitMb()}`];
}
