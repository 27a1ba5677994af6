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

/**
 * A 32 MB semi-space (Node's default is 16 MB): half as many scavenges
 * under write load. With 10M keys loaded (npm run bench -- --suite
 * latency-size --vireo-flags ...), p99 of GET/SET was 1.10/0.90 ms with it
 * against 1.42/1.83 ms with the default and 2.03/2.06 ms with 4 MB, and
 * the throughput rose from 36k to 54k requests/s; the cost is RSS, up to
 * 64 MB more young generation while it is busy (661 against 632 MB there).
 */
const SEMI_SPACE_MB = 32;

/** node flags for a server process. */
export function serverNodeFlags() {
  return [`--max-old-space-size=${heapLimitMb()}`, `--max-semi-space-size=${SEMI_SPACE_MB}`];
}
