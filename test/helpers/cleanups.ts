// Servers and connections a test opens are closed after it, newest first, even
// when the test fails: one registry per test file.
import { afterEach } from 'vitest';
import { RespClient, toJs } from './resp.js';

type Cleanup = () => Promise<void> | void;

export interface Cleanups {
  /** Runs `f` after the current test. */
  defer(f: Cleanup): void;
  /** Kills (or stops) the server after the current test. */
  track<T extends { kill?: () => Promise<void>; stop: () => Promise<void> }>(h: T): T;
  /** A connection closed after the current test. */
  client(port: number): Promise<RespClient>;
}

export function useCleanups(): Cleanups {
  const pending: Cleanup[] = [];
  afterEach(async () => {
    for (const f of pending.splice(0).reverse()) await f();
  });
  return {
    defer: (f) => void pending.push(f),
    track: (h) => {
      pending.push(() => (h.kill ? h.kill() : h.stop()));
      return h;
    },
    client: async (port) => {
      const c = await RespClient.connect(port);
      pending.push(() => c.close());
      return c;
    },
  };
}

/** A command's reply as plain JavaScript values. */
export async function js(c: RespClient, ...args: string[]): Promise<unknown> {
  return toJs(await c.call(...args));
}
