/**
 * Command facts for what Vireo implements from after Redis 7.2 (the
 * generated meta.ts holds 7.2's table only): XACKDEL and XDELEX of Redis
 * 8.2, with the arity, flags and key specs of Redis' command reference;
 * Valkey 8's CLIENT CAPA, CLUSTER SLOT-STATS and SCRIPT SHOW; Vireo's own VIREO command.
 * Redis 8.2's BITOP operations (DIFF, DIFF1, ANDOR, ONE) change none of
 * BITOP's facts (arity -4, flags, key specs: 8.2's bitop.json): no row.
 */

import type { MetaRow } from './meta.js';

export const LATER_COMMAND_META: readonly MetaRow[] = [
  // Valkey 8.0's CLIENT CAPA (valkey src/commands/client-capa.json).
  ['client|capa', 'connection', '8.0.0', -3, 'noscript,loading,stale', '@connection', ''],
  // Valkey 8.0's CLUSTER SLOT-STATS (valkey src/commands/cluster-slot-stats.json).
  ['cluster|slot-stats', 'cluster', '8.0.0', -4, 'loading,stale', '', ''],
  // Valkey 8.0's SCRIPT SHOW (valkey src/commands/script-show.json).
  ['script|show', 'scripting', '8.0.0', 3, 'noscript', '@scripting', ''],
  // Vireo's own command (src/commands/vireo.ts): a name no Redis or Valkey command has.
  ['vireo', 'server', '0.1.0', -2, '', '', ''],
  ['vireo|help', 'server', '0.1.0', 2, 'loading,stale', '', ''],
  ['vireo|hotkeys', 'server', '0.1.0', -2, 'admin,noscript,loading,stale', '', ''],
  ['xackdel', 'stream', '8.2.0', -6, 'write,fast', '@stream', 'index:1/range:0,1,0/RW+UPDATE+DELETE'],
  ['xdelex', 'stream', '8.2.0', -5, 'write,fast', '@stream', 'index:1/range:0,1,0/RW+DELETE'],
];
