/**
 * Gathers the server's figures for INFO memory, MEMORY STATS and MEMORY
 * DOCTOR (src/diagnostics/memory-report.ts computes them): the clients'
 * buffers by kind, the replication backlog, the AOF buffer, the script
 * caches and the databases' key counts.
 */

import { memoryOverhead, type DoctorCounts, type MemoryOverhead, type StartupBaseline } from '../diagnostics/memory-report.js';
import type { InfoSource } from './info.js';

/** What the gathering reads besides INFO's sources. */
export interface MemorySource extends Pick<InfoSource, 'memory' | 'clients' | 'persistence' | 'scripting' | 'engine'> {
  readonly baseline: StartupBaseline;
  readonly primary: { readonly backlog: { readonly size: number } | null };
}

interface ClientBuffers {
  normal: number;
  replicas: number;
  replicaCount: number;
}

/** Each client's tot-mem (CLIENT LIST), summed by kind as Redis' stat_clients_type_memory. */
function clientBuffers(s: MemorySource): ClientBuffers {
  const out: ClientBuffers = { normal: 0, replicas: 0, replicaCount: 0 };
  for (const c of s.clients.values()) {
    const mem = c.memoryReport().totMem;
    if (c.ctx.kind === 'replica') {
      out.replicas += mem;
      out.replicaCount++;
    } else {
      out.normal += mem;
    }
  }
  return out;
}

/** The overhead now, with the counts MEMORY DOCTOR also needs. */
export function gatherMemoryOverhead(s: MemorySource): { overhead: MemoryOverhead; counts: DoctorCounts } {
  const used = s.memory.sample();
  const buffers = clientBuffers(s);
  const aof = s.persistence.aof;
  const dbs = [];
  for (const db of s.engine.dbs) if (db.size > 0) dbs.push({ id: db.id, keys: db.size, expires: db.volatileCount, recordExpires: db.storeVolatileCount });
  const overhead = memoryOverhead({
    used,
    startup: s.memory.startup,
    peak: s.memory.peak,
    runtimeRss: s.baseline.runtimeRss(),
    readyUsed: s.baseline.used,
    replicationBacklog: s.primary.backlog?.size ?? 0,
    clientsSlaves: buffers.replicas,
    clientsNormal: buffers.normal,
    aofBuffer: aof.on ? aof.bufferLength : 0,
    luaCaches: s.scripting.scriptsMemory,
    functionsCaches: s.scripting.functions.memory,
    dbs,
  });
  return { overhead, counts: { clients: s.clients.size, replicas: buffers.replicaCount, cachedScripts: s.scripting.scripts.size } };
}
