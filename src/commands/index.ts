/** Every command family's implementations, assembled into the command table. */

import { CommandTable } from './table.js';
import { connectionCommands } from './connection.js';
import { introspectionCommands } from './introspection.js';
import { keyCommands } from './keys.js';
import { serverCommands } from './server.js';
import { stringCommands } from './strings.js';
import { transactionCommands } from './transactions.js';
import { listCommands } from './lists.js';
import { hashCommands } from './hashes.js';
import { setCommands } from './sets.js';
import { zsetCommands } from './zsets.js';
import { sortCommands } from './sort.js';
import { persistenceCommands } from './persistence.js';
import { streamCommands } from './streams.js';
import { streamReadCommands } from './stream-read.js';
import { streamGroupCommands } from './stream-groups.js';
import { replicationCommands } from './replication.js';
import { replicaCommands } from './replica-commands.js';
import { evalCommands } from '../scripting/eval-commands.js';
import { functionCommands } from '../scripting/function-commands.js';
import { pubsubCommands } from './pubsub.js';
import { slowlogCommands } from './slowlog.js';
import { latencyCommands } from './latency.js';
import { moduleCommands } from './modules.js';
import { geoCommands } from './geo.js';
import { hyperloglogCommands } from './hyperloglog.js';
import { bitmapCommands } from './bitmaps.js';
import { aclCommands } from './acl.js';
import { clusterCommands } from './cluster.js';
import { vireoCommands } from './vireo.js';
import { migrateCommands } from './migrate.js';
import { lolwutCommands } from './lolwut.js';

/** A new command table with every implemented command. */
export function createCommandTable(): CommandTable {
  let table: CommandTable | null = null;
  const tableOf = (): CommandTable => {
    if (table === null) throw new Error('the command table is still being built');
    return table;
  };
  table = new CommandTable([
    ...connectionCommands,
    ...introspectionCommands(tableOf),
    ...keyCommands,
    ...serverCommands,
    ...stringCommands,
    ...transactionCommands,
    ...listCommands,
    ...hashCommands,
    ...setCommands,
    ...zsetCommands,
    ...sortCommands,
    ...persistenceCommands,
    ...migrateCommands,
    ...lolwutCommands,
    ...streamCommands,
    ...streamReadCommands,
    ...streamGroupCommands,
    ...replicationCommands,
    ...replicaCommands,
    ...evalCommands,
    ...functionCommands,
    ...pubsubCommands,
    ...slowlogCommands,
    ...latencyCommands(tableOf),
    ...moduleCommands,
    ...geoCommands,
    ...hyperloglogCommands,
    ...bitmapCommands,
    ...aclCommands,
    ...clusterCommands,
    ...vireoCommands,
  ]);
  return table;
}
