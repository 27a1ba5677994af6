/** The server's counters, as INFO stats reports them. */

export class ServerStats {
  connectionsReceived = 0;
  rejectedConnections = 0;
  commandsProcessed = 0;
  netInputBytes = 0;
  netOutputBytes = 0;
  totalErrorReplies = 0;
  unexpectedErrorReplies = 0;
  clientQueryBufferLimitDisconnections = 0;
  clientOutputBufferLimitDisconnections = 0;
  /** Clients closed by maxmemory-clients (client-eviction.ts). */
  evictedClients = 0;
  /** Exceptions caught while serving clients (each one is a bug). */
  internalErrors = 0;
  /** Full and partial resynchronizations served to replicas (INFO stats). */
  syncFull = 0;
  syncPartialOk = 0;
  syncPartialErr = 0;
  readsProcessed = 0;
  writesProcessed = 0;
  errors = new Map<string, number>();
  /** Ops/sec samples, as Redis' instantaneous_ops_per_sec. */
  opsSamples: number[] = [];
  lastSampleTime = Date.now();
  lastSampleOps = 0;
  inputSamples: number[] = [];
  outputSamples: number[] = [];
  lastSampleIn = 0;
  lastSampleOut = 0;
}
