// MEMORY DOCTOR / MALLOC-STATS / PURGE: an empty server answers as
// redis-server does (Vireo as a child process, so the test runner's own heap
// is not counted), and each finding of the doctor is checked on figures
// built for it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAVE_REDIS, startRedis, startVireoProcess, type ProcessHandle } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';
import { EXPIRE_ENTRY_BYTES, RECORD_EXPIRE_BYTES, memoryDoctorReport, memoryOverhead, type AllocatorSample, type MemoryInputs } from '../src/diagnostics/memory-report.js';

const MB = 1024 * 1024;

describe.skipIf(!HAVE_REDIS)('MEMORY DOCTOR on an empty server (differential)', () => {
  let redis: ProcessHandle;
  let vireo: ProcessHandle;
  let r: RespClient;
  let v: RespClient;
  beforeAll(async () => {
    [redis, vireo] = await Promise.all([startRedis(), startVireoProcess()]);
    [r, v] = await Promise.all([RespClient.connect(redis.port), RespClient.connect(vireo.port)]);
  });
  afterAll(async () => {
    r?.close();
    v?.close();
    await Promise.all([redis?.kill(), vireo?.kill()]);
  });

  it('says the instance is empty, in the same words; PURGE answers OK', async () => {
    const [a, b] = await Promise.all([r.call('MEMORY', 'DOCTOR'), v.call('MEMORY', 'DOCTOR')]);
    expect(toJs(b)).toBe(toJs(a));
    expect(toJs(b)).toMatch(/^Hi Sam, this instance is empty/);
    expect(toJs(await v.call('MEMORY', 'PURGE'))).toBe(toJs(await r.call('MEMORY', 'PURGE')));
  });

  it('MALLOC-STATS reports the V8 heap spaces, framed like jemalloc statistics', async () => {
    const text = toJs(await v.call('MEMORY', 'MALLOC-STATS')) as string;
    expect(text).toMatch(/^___ Begin V8 heap statistics ___\n/);
    expect(text).toMatch(/\nnew_space +\d+ +\d+ +\d+ +\d+\n/);
    expect(text).toMatch(/\nold_space +\d+/);
    expect(text.endsWith('--- End V8 heap statistics ---\n')).toBe(true);
  });
});

describe('MEMORY DOCTOR findings', () => {
  /** A healthy instance holding 100 MB of data, from which each case departs. */
  const inputs: MemoryInputs = {
    used: 120 * MB,
    startup: 20 * MB,
    peak: 120 * MB,
    runtimeRss: 55 * MB,
    readyUsed: 20 * MB,
    replicationBacklog: MB,
    clientsSlaves: 0,
    clientsNormal: 2048,
    aofBuffer: 0,
    luaCaches: 0,
    functionsCaches: 0,
    dbs: [{ id: 0, keys: 1000, expires: 10 }],
  };
  const alloc: AllocatorSample = { allocated: 121 * MB, active: 140 * MB, resident: 138 * MB, youngFree: 16 * MB, rss: (55 + 138) * MB };
  const counts = { clients: 2, replicas: 0, cachedScripts: 0 };
  const doctor = (inp: Partial<MemoryInputs> = {}, a: Partial<AllocatorSample> = {}, n: Partial<typeof counts> = {}) =>
    memoryDoctorReport(memoryOverhead({ ...inputs, ...inp }, { ...alloc, ...a }), { ...counts, ...n });

  it('counts a TTL kept in a string-store record as its 8 bytes, one in an expiry Map as its entry', () => {
    const o = memoryOverhead({ ...inputs, dbs: [{ id: 0, keys: 1000, expires: 10, recordExpires: 4 }] }, alloc);
    expect(o.dbs[0]!.expires).toBe(6 * EXPIRE_ENTRY_BYTES + 4 * RECORD_EXPIRE_BYTES);
    expect(memoryOverhead(inputs, alloc).dbs[0]!.expires).toBe(10 * EXPIRE_ENTRY_BYTES);
  });

  it('finds nothing in a healthy instance: the young generation is not fragmentation', () => {
    expect(doctor()).toBe("Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n");
  });

  it('calls an instance empty from what it added since it was ready', () => {
    expect(doctor({ used: 24 * MB })).toMatch(/^Hi Sam, this instance is empty/);
    expect(doctor({ used: 30 * MB, readyUsed: 26 * MB })).toMatch(/^Hi Sam, this instance is empty/);
  });

  it('reports a past peak, big client and replica buffers and many scripts in Redis words', () => {
    const report = doctor({ peak: 200 * MB, clientsNormal: 3 * MB, clientsSlaves: 30 * MB }, {}, { clients: 6, replicas: 2, cachedScripts: 1001 });
    expect(report).toMatch(/^Sam, I detected a few issues in this Redis instance memory implants:\n\n \* Peak memory: In the past this instance used more than 150% the memory that is currently using\./);
    expect(report).toContain(' * Big replica buffers: The replica output buffers in this instance are greater than 10MB for each replica (on average).');
    expect(report).toContain(' * Big client buffers: The clients output buffers in this instance are greater than 200K per client (on average).');
    expect(report).toContain(' * Many scripts: There seem to be many cached scripts in this instance (more than 1000).');
    expect(report.endsWith("I'm here to keep you safe, Sam. I want to help you.\n")).toBe(true);
    // 3 MB over 4 normal clients is 768K each; 100K over one is under the limit.
    expect(doctor({ clientsNormal: 100 * 1024 }, {}, { clients: 2 })).not.toContain('Big client buffers');
  });

  it('reports heap fragmentation beyond the young generation, and RSS outside the heap', () => {
    const frag = doctor({}, { active: 190 * MB, resident: 188 * MB, rss: (55 + 188) * MB });
    expect(frag).toContain(' * High allocator fragmentation:');
    expect(frag).toContain(' * High total RSS:');
    expect(frag).toContain('v8-');
    const proc = doctor({}, { rss: (55 + 138 + 40) * MB });
    expect(proc).toContain(' * High process RSS overhead:');
    expect(proc).not.toContain('High allocator fragmentation');
  });
});
