/** Waiting for replicas to catch up, shared by the replication suites. */

import type { RespClient } from './resp.js';
import { infoField, waitFor } from './info.js';

/** The replication offset `c` reports: master_repl_offset on a primary, slave_repl_offset on a replica. */
export async function replOffset(c: RespClient): Promise<number> {
  const info = await c.call('INFO', 'replication');
  const role = infoField(info, 'role');
  return Number(infoField(info, role === 'slave' ? 'slave_repl_offset' : 'master_repl_offset'));
}

/** Wait until `replica` has applied the primary's whole stream (its link up, offsets equal). */
export async function waitInSync(primary: RespClient, replica: RespClient, ms = 20000): Promise<void> {
  let last = '';
  await waitFor(
    'the replica to catch up',
    async () => {
      const info = await replica.call('INFO', 'replication');
      const link = infoField(info, 'master_link_status');
      const have = Number(infoField(info, 'slave_repl_offset'));
      const want = await replOffset(primary);
      last = `link ${link}, replica at ${have}, primary at ${want}`;
      return link === 'up' && have === want;
    },
    ms,
  ).catch((e: Error) => {
    throw new Error(`${e.message} (${last})`);
  });
}
