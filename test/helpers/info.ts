/** Reading INFO fields and waiting for server state, shared by the suites. */

import type { Reply, RespClient } from './resp.js';

/** One field of an INFO reply. A missing field fails the test (a renamed field must not pass silently). */
export function infoField(info: Reply, field: string): string {
  if (info.type !== 'bulk' || info.value === null) throw new Error(`INFO did not answer a bulk string: ${JSON.stringify(info)}`);
  const line = info.value.split(/\r?\n/).find((l) => l.startsWith(`${field}:`));
  if (line === undefined) throw new Error(`INFO has no ${field}`);
  return line.slice(field.length + 1);
}

/** A numeric INFO field. */
export function infoNumber(info: Reply, field: string): number {
  return Number(infoField(info, field));
}

/** Ask `c` for INFO <section> and read one field. */
export async function readInfo(c: RespClient, section: string, field: string): Promise<string> {
  return infoField(await c.call('INFO', section), field);
}

/** Poll `check` until it holds; fail after `ms`. */
export async function waitFor(what: string, check: () => Promise<boolean>, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
