/**
 * INFO memory, MEMORY STATS and MEMORY DOCTOR in Redis' terms, measured on
 * V8 and the process (Redis' getMemoryOverheadData and its allocator
 * statistics).
 *
 * Redis reads four layers: what it asked the allocator for (used_memory),
 * what the allocator handed out (allocated), the pages holding those
 * allocations (active), the pages in RAM (resident), and the process RSS.
 * V8 has the same layers: used_memory (the heap less its young generation,
 * plus external buffers, less keys evicted but not yet collected: see
 * src/server/memory-limit.ts; given by the server's MemoryTracker), the heap in use plus buffers and V8's own
 * malloc (allocated), the heap pages V8 committed (active), the committed
 * pages that are in RAM (resident), and the RSS. A Node process also
 * carries RSS that is neither heap nor buffers: the node binary's mapped
 * pages (its code and read-only data: 8-45 MB, as the server drops them
 * and traffic maps them back, src/util/gc.ts dropFilePages) and the
 * runtime's own anonymous memory (the isolate, libuv, thread stacks:
 * about 10 MB, measured once at start-up). Both are left out of the
 * ratios, as Redis' own binary (a few MB) is negligible in its ratios.
 */

import v8 from 'node:v8';
import { fileResidentBytes } from '../util/resident.js';

/** What V8 holds now, in Redis' allocator terms (bytes). */
export interface AllocatorSample {
  /** V8 heap in use (live objects and garbage not yet collected) + buffers outside the heap + V8's own malloc. */
  allocated: number;
  /** Heap pages V8 has committed (their free space included) + buffers + V8's malloc. */
  active: number;
  /** The committed heap pages that are in RAM + buffers + V8's malloc. */
  resident: number;
  /** Free space of the young generation: its semi-spaces are committed in full by design. */
  youngFree: number;
  /** The process' resident set size. */
  rss: number;
}

/** Read V8's heap statistics and the RSS (a few microseconds; no heap walk). */
export function sampleAllocator(): AllocatorSample {
  const h = v8.getHeapStatistics();
  const outside = h.external_memory + h.malloced_memory;
  let youngFree = 0;
  for (const space of v8.getHeapSpaceStatistics()) {
    if (space.space_name === 'new_space' || space.space_name === 'new_large_object_space') youngFree += Math.max(0, space.space_size - space.space_used_size);
  }
  return {
    allocated: h.used_heap_size + outside,
    active: h.total_heap_size + outside,
    resident: h.total_physical_size + outside,
    youngFree,
    rss: process.memoryUsage.rss(),
  };
}

/**
 * Figures taken once the server is ready (listening, before loading data):
 * the Node runtime's own anonymous RSS (isolate, libuv, thread stacks),
 * that is the RSS less its file pages and what the allocator holds, and
 * used_memory then. The runtime's RSS at any time is that plus the file
 * pages mapped now.
 */
export class StartupBaseline {
  private runtimeAnon = 0;
  used = 0;

  capture(used: number, sample: AllocatorSample = sampleAllocator()): void {
    this.runtimeAnon = Math.max(0, sample.rss - fileResidentBytes() - sample.resident);
    this.used = used;
  }

  /** The Node runtime's RSS now: its anonymous part measured at start, and the file pages mapped now. */
  runtimeRss(): number {
    return this.runtimeAnon + fileResidentBytes();
  }
}

/** Bytes one key costs in its per-slot table (the Map entry and its share of the buckets); MEMORY USAGE counts it too. */
export const TABLE_ENTRY_BYTES = 32;
/** Bytes one TTL of a key in a Map costs: its entry in the per-slot expiry Map and the heap number holding the ms time. */
export const EXPIRE_ENTRY_BYTES = 48;
/** Bytes one TTL of a key of the string store costs: the double at the end of its record. */
export const RECORD_EXPIRE_BYTES = 8;

/** The figures the overhead is computed from (the server gathers them). */
export interface MemoryInputs {
  used: number;
  startup: number;
  peak: number;
  /** StartupBaseline.runtimeRss(). */
  runtimeRss: number;
  /** StartupBaseline.used: used_memory once the server was ready (MEMORY DOCTOR's "empty" is measured from it). */
  readyUsed: number;
  replicationBacklog: number;
  clientsSlaves: number;
  clientsNormal: number;
  aofBuffer: number;
  luaCaches: number;
  functionsCaches: number;
  /** Databases with keys: id, key count, keys with a TTL, and how many of those keep it in their store record. */
  dbs: readonly { id: number; keys: number; expires: number; recordExpires?: number }[];
}

export interface DbOverhead {
  id: number;
  main: number;
  expires: number;
}

/** Redis' struct redisMemOverhead, with the allocator sample it was computed from. */
export interface MemoryOverhead {
  peakAllocated: number;
  totalAllocated: number;
  startupAllocated: number;
  replicationBacklog: number;
  clientsSlaves: number;
  clientsNormal: number;
  clusterLinks: number;
  aofBuffer: number;
  luaCaches: number;
  functionsCaches: number;
  dbs: DbOverhead[];
  overheadTotal: number;
  totalKeys: number;
  bytesPerKey: number;
  dataset: number;
  datasetPerc: number;
  peakPerc: number;
  allocator: AllocatorSample;
  allocatorFrag: number;
  allocatorFragBytes: number;
  allocatorRss: number;
  allocatorRssBytes: number;
  /** RSS beyond the runtime's fixed part over what the allocator holds resident. */
  rssExtra: number;
  rssExtraBytes: number;
  /** RSS beyond the runtime's fixed part over used_memory (mem_fragmentation_ratio). */
  totalFrag: number;
  totalFragBytes: number;
  /** The runtime's RSS left out of the ratios (its anonymous part at start, its file pages now). */
  runtimeRss: number;
  readyUsed: number;
}

/** A ratio as Redis computes it: a C float, and 0 where it would divide by zero. */
function ratio(a: number, b: number): number {
  return b > 0 ? Math.fround(a / b) : 0;
}

/** Redis' getMemoryOverheadData on Vireo's figures. */
export function memoryOverhead(inp: MemoryInputs, alloc: AllocatorSample = sampleAllocator()): MemoryOverhead {
  const dbs = inp.dbs.map((d) => {
    const inRecords = d.recordExpires ?? 0;
    return { id: d.id, main: d.keys * TABLE_ENTRY_BYTES, expires: (d.expires - inRecords) * EXPIRE_ENTRY_BYTES + inRecords * RECORD_EXPIRE_BYTES };
  });
  let totalKeys = 0;
  for (const d of inp.dbs) totalKeys += d.keys;
  let overheadTotal = inp.startup + inp.replicationBacklog + inp.clientsSlaves + inp.clientsNormal + inp.aofBuffer + inp.luaCaches + inp.functionsCaches;
  for (const d of dbs) overheadTotal += d.main + d.expires;
  const used = inp.used;
  const peak = Math.max(inp.peak, used);
  const dataset = Math.max(0, used - overheadTotal);
  const netUsage = used > inp.startup ? used - inp.startup : 1;
  const accountedRss = Math.max(0, alloc.rss - inp.runtimeRss);
  return {
    peakAllocated: peak,
    totalAllocated: used,
    startupAllocated: inp.startup,
    replicationBacklog: inp.replicationBacklog,
    clientsSlaves: inp.clientsSlaves,
    clientsNormal: inp.clientsNormal,
    clusterLinks: 0,
    aofBuffer: inp.aofBuffer,
    luaCaches: inp.luaCaches,
    functionsCaches: inp.functionsCaches,
    dbs,
    overheadTotal,
    totalKeys,
    bytesPerKey: totalKeys > 0 ? Math.floor(netUsage / totalKeys) : 0,
    dataset,
    datasetPerc: Math.fround((dataset * 100) / netUsage),
    peakPerc: ratio(used * 100, peak),
    allocator: alloc,
    allocatorFrag: ratio(alloc.active, alloc.allocated),
    allocatorFragBytes: alloc.active - alloc.allocated,
    allocatorRss: ratio(alloc.resident, alloc.active),
    allocatorRssBytes: alloc.resident - alloc.active,
    rssExtra: ratio(accountedRss, alloc.resident),
    rssExtraBytes: accountedRss - alloc.resident,
    totalFrag: ratio(accountedRss, used),
    totalFragBytes: accountedRss - used,
    runtimeRss: inp.runtimeRss,
    readyUsed: inp.readyUsed,
  };
}

/** The name INFO's mem_allocator and the doctor give V8. */
export function allocatorName(): string {
  return `v8-${process.versions.v8}`;
}

/** A MEMORY STATS entry: a number (integer reply), a float (double reply) or a db's map. */
export type StatsValue = { int: number } | { float: number } | { db: DbOverhead };

/** MEMORY STATS' entries in Redis 7.2's order and types. */
export function memoryStatsEntries(o: MemoryOverhead): [string, StatsValue][] {
  const a = o.allocator;
  return [
    ['peak.allocated', { int: o.peakAllocated }],
    ['total.allocated', { int: o.totalAllocated }],
    ['startup.allocated', { int: o.startupAllocated }],
    ['replication.backlog', { int: o.replicationBacklog }],
    ['clients.slaves', { int: o.clientsSlaves }],
    ['clients.normal', { int: o.clientsNormal }],
    ['cluster.links', { int: o.clusterLinks }],
    ['aof.buffer', { int: o.aofBuffer }],
    ['lua.caches', { int: o.luaCaches }],
    ['functions.caches', { int: o.functionsCaches }],
    ...o.dbs.map((d): [string, StatsValue] => [`db.${d.id}`, { db: d }]),
    ['overhead.total', { int: o.overheadTotal }],
    ['keys.count', { int: o.totalKeys }],
    ['keys.bytes-per-key', { int: o.bytesPerKey }],
    ['dataset.bytes', { int: o.dataset }],
    ['dataset.percentage', { float: o.datasetPerc }],
    ['peak.percentage', { float: o.peakPerc }],
    ['allocator.allocated', { int: a.allocated }],
    ['allocator.active', { int: a.active }],
    ['allocator.resident', { int: a.resident }],
    ['allocator-fragmentation.ratio', { float: o.allocatorFrag }],
    ['allocator-fragmentation.bytes', { int: o.allocatorFragBytes }],
    ['allocator-rss.ratio', { float: o.allocatorRss }],
    ['allocator-rss.bytes', { int: o.allocatorRssBytes }],
    ['rss-overhead.ratio', { float: o.rssExtra }],
    ['rss-overhead.bytes', { int: o.rssExtraBytes }],
    ['fragmentation', { float: o.totalFrag }],
    ['fragmentation.bytes', { int: o.totalFragBytes }],
  ];
}

/** What MEMORY DOCTOR counts besides the overhead. */
export interface DoctorCounts {
  /** Connected clients, replicas included (Redis' listLength(server.clients)). */
  clients: number;
  replicas: number;
  cachedScripts: number;
}

const MB = 1024 * 1024;

/** Redis' thresholds: a ratio above `limit` that is also more than 10 MB. */
function over(ratioValue: number, bytes: number, limit: number): boolean {
  return ratioValue > limit && bytes > 10 * MB;
}

/**
 * The doctor's findings. Redis calls an instance empty under 5 MB in total;
 * a ready Vireo already holds about 20 MB of V8 heap (code, the command
 * table, buffers), so Vireo looks at what was added since it was ready.
 * The young generation's semi-spaces are committed in full by V8's
 * design, so their free space does not count as fragmentation.
 */
function findings(o: MemoryOverhead, n: DoctorCounts): Set<string> {
  const found = new Set<string>();
  if (o.totalAllocated - Math.max(o.startupAllocated, o.readyUsed) < 5 * MB) {
    found.add('empty');
    return found;
  }
  const young = o.allocator.youngFree;
  if (o.peakAllocated / o.totalAllocated > 1.5) found.add('big_peak');
  const fragBytes = o.totalFragBytes - young;
  if (over(fragBytes / o.totalAllocated + 1, fragBytes, 1.4)) found.add('high_frag');
  const allocFragBytes = o.allocatorFragBytes - young;
  if (over(allocFragBytes / o.allocator.allocated + 1, allocFragBytes, 1.1)) found.add('high_alloc_frag');
  if (over(o.allocatorRss, o.allocatorRssBytes, 1.1)) found.add('high_alloc_rss');
  if (over(o.rssExtra, o.rssExtraBytes, 1.1)) found.add('high_proc_rss');
  const normalClients = n.clients - n.replicas;
  if (normalClients > 0 && o.clientsNormal / normalClients > 200 * 1024) found.add('big_client_buf');
  if (n.replicas > 0 && o.clientsSlaves / n.replicas > 10 * MB) found.add('big_slave_buf');
  if (n.cachedScripts > 1000) found.add('many_scripts');
  return found;
}

/** The report's paragraphs, in Redis' order (Redis' words where the finding is the same, V8's terms where it is not). */
const REPORTS: [string, string][] = [
  [
    'big_peak',
    " * Peak memory: In the past this instance used more than 150% the memory that is currently using. V8 keeps the heap pages it grew into after a peak and gives them back only as later major collections shrink the heap, so you can expect to see a big fragmentation ratio for a while; this is harmless and only due to the memory peak, and the pages will be used again as soon as you fill the instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command (a full garbage collection), otherwise the only other option is to shutdown and restart the instance.\n\n",
  ],
  [
    'high_frag',
    ` * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the process, less the fixed part of the Node runtime measured at start-up, is much larger than the memory the server holds). In V8 this is usually garbage not yet collected, free space left in heap pages by collected objects after a large peak (check if there is a peak memory entry above in the report), or buffers waiting for the collector. MEMORY PURGE runs a full collection; if the ratio stays high, please report it. Note: The currently used allocator is "${allocatorName()}".\n\n`,
  ],
  [
    'high_alloc_frag',
    " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1 (V8 has committed much more heap than the objects in it need, the young generation left aside). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or to a workload that leaves the old generation's pages sparsely filled; V8 compacts them during major collections, and MEMORY PURGE forces one.\n\n",
  ],
  [
    'high_alloc_rss',
    ' * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that more of the V8 heap is resident than V8 has committed). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n',
  ],
  [
    'high_proc_rss',
    ' * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the process, less the Node runtime measured at start-up, is much larger than what the V8 heap and its buffers hold). This problem may be due to Lua scripts (the Lua states allocate outside the V8 heap), TLS connections, or native memory the C library has not given back.\n\n',
  ],
  [
    'big_slave_buf',
    ' * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average). This likely means that there is some replica instance that is struggling receiving data, either because it is too slow or because of networking issues. As a result, data piles on the master output buffers. Please try to identify what replica is not receiving data correctly and why. You can use the INFO output in order to check the replicas delays and the CLIENT LIST command to check the output buffers of each replica.\n\n',
  ],
  [
    'big_client_buf',
    ' * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average). This may result from different causes, like Pub/Sub clients subscribed to channels bot not receiving data fast enough, so that data piles on the Redis instance output buffer, or clients sending commands with large replies or very large sequences of commands in the same pipeline. Please use the CLIENT LIST command in order to investigate the issue if it causes problems in your instance, or to understand better why certain clients are using a big amount of memory.\n\n',
  ],
  [
    'many_scripts',
    " * Many scripts: There seem to be many cached scripts in this instance (more than 1000). This may be because scripts are generated and `EVAL`ed, instead of being parameterized (with KEYS and ARGV), `SCRIPT LOAD`ed and `EVALSHA`ed. Unless `SCRIPT FLUSH` is called periodically, the scripts' caches may end up consuming most of your memory.\n\n",
  ],
];

/** MEMORY DOCTOR's text (Redis' getMemoryDoctorReport). */
export function memoryDoctorReport(o: MemoryOverhead, n: DoctorCounts): string {
  const found = findings(o, n);
  if (found.size === 0) return "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n";
  if (found.has('empty')) {
    return "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n";
  }
  let s = 'Sam, I detected a few issues in this Redis instance memory implants:\n\n';
  for (const [name, text] of REPORTS) if (found.has(name)) s += text;
  return s + "I'm here to keep you safe, Sam. I want to help you.\n";
}

/** MEMORY MALLOC-STATS: V8 is the allocator; its heap spaces, laid out like jemalloc's report is framed. */
export function mallocStatsReport(): string {
  const h = v8.getHeapStatistics();
  const lines = [
    '___ Begin V8 heap statistics ___',
    `Version: "${process.versions.v8}"`,
    `Allocated: ${h.used_heap_size}, committed: ${h.total_heap_size}, resident: ${h.total_physical_size}, limit: ${h.heap_size_limit}`,
    `External: ${h.external_memory}, malloced: ${h.malloced_memory}, peak malloced: ${h.peak_malloced_memory}`,
    `Native contexts: ${h.number_of_native_contexts}, detached contexts: ${h.number_of_detached_contexts}`,
    'space                          committed         used    available     resident',
  ];
  for (const sp of v8.getHeapSpaceStatistics()) {
    const cols = [sp.space_size, sp.space_used_size, sp.space_available_size, sp.physical_space_size].map((n) => String(n).padStart(12));
    lines.push(`${sp.space_name.padEnd(25)} ${cols.join(' ')}`);
  }
  lines.push('--- End V8 heap statistics ---');
  return lines.join('\n') + '\n';
}
