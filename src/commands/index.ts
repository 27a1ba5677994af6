/** Every command family's implementations, for the command table. */

import type { CommandImpl } from './table.js';
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

export const allCommands: CommandImpl[] = [
  ...connectionCommands,
  ...introspectionCommands,
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
];
