/**
 * A dependency loaded at its first use instead of at start-up. Every
 * server would otherwise load, at start, packages only some of them use
 * (LZ4 for the AOF archive, msgpackr for I/O threads, pino for JSON logs):
 * their code, their native addons and the time to load them.
 */

import { createRequire } from 'node:module';

const requireCjs = createRequire(import.meta.url);

/** `load()` returns the CommonJS module `id`, required the first time it is called. */
export function lazyModule<T>(id: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= requireCjs(id) as T);
}
