// In-process micro benchmark: feeds pipelined commands straight into a
// Client (no sockets) and reports nanoseconds per command. Isolates the
// JS cost of parse + dispatch + execute + encode from syscalls.
// Usage: node bench/inproc.mjs [command...]   (after npm run build)
//        VIREO_INPROC_CONFIG='latency-tracking=no slowlog-log-slower-than=-1' sets parameters first.
// Workloads ending in _1m spread their keys over 1M names (see spreadWorkloads).
// The loop yields to the event loop after every 64 chunks, as a server does
// between reads: replies are flushed in a setImmediate and the cron runs
// (folding access words, sampling memory), so neither output nor pending
// bookkeeping piles up in memory over a long run.
import { pino } from 'pino';
import { PerformanceObserver } from 'node:perf_hooks';
// VIREO_DIST=path/to/another/dist compares two builds.
const dist = process.env.VIREO_DIST ? new URL(`file://${process.env.VIREO_DIST.replace(/\/?$/, '/')}`) : new URL('../dist/', import.meta.url);
const { Config } = await import(new URL('src/config.js', dist).href);
const { Server } = await import(new URL('src/server/server.js', dist).href);
const { Client } = await import(new URL('src/server/client.js', dist).href);

const config = new Config();
// No snapshot: the 1M-key workloads would trigger one in the working directory.
const params = [['save', ''], ...(process.env.VIREO_INPROC_CONFIG ?? '').split(' ').filter(Boolean).map((p) => p.split('='))];
if (params.length > 0) config.setMany(params, { startup: true });
const server = new Server(config, { logger: pino({ level: 'silent' }) });
const sink = { write() { return true; }, cork() {}, uncork() {}, writableLength: 0, isPaused: () => false, end() {}, remoteAddress: '127.0.0.1' };
const client = new Client(server, 1, sink, server.arena, '127.0.0.1:1', '127.0.0.1:6379', 0);
server.clients.set(1, client);

function encode(argv) {
  return `*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}
const workloads = {
  ping: () => encode(['PING']),
  set: (i) => encode(['SET', `key:${String(i % 100000).padStart(12, '0')}`, 'xxx']),
  get: (i) => encode(['GET', `key:${String(i % 100000).padStart(12, '0')}`]),
  // As redis-benchmark sends them: one key, set and read again and again.
  set1: () => encode(['SET', 'key:__rand_int__', 'xxx']),
  get1: () => encode(['GET', 'key:__rand_int__']),
  mset1: () => encode(['MSET', ...Array.from({ length: 10 }, () => ['key:{tag}:__rand_int__', 'xxx']).flat()]),
  incr: () => encode(['INCR', 'counter:__rand_int__']),
  hset: () => encode(['HSET', 'myhash', 'element:__rand_int__', 'xxx']),
  zadd: () => encode(['ZADD', 'myzset', '0', 'element:__rand_int__']),
  sadd: () => encode(['SADD', 'myset', 'element:__rand_int__']),
  lpush: () => encode(['LPUSH', 'mylist', 'xxx']),
  rpop: () => encode(['RPOP', 'mylist']),
  lrange_100: () => encode(['LRANGE', 'mylist', '0', '99']),
  xadd: () => encode(['XADD', 'mystream', '*', 'name', 'sensor', 'temp', '21.5', 'seq', '__rand_int__']),
  xrange_10: () => encode(['XRANGE', 'bench:stream', '-', '+', 'COUNT', '10']),
  xrange_100: () => encode(['XRANGE', 'bench:stream', '-', '+', 'COUNT', '100']),
  mset: (i) => encode(['MSET', ...Array.from({ length: 10 }, (_, j) => [`key:${String((i + j) % 100000).padStart(12, '0')}`, 'xxx']).flat()]),
  // Bitmaps at scattered offsets (a multiplicative hash of i): a 1 MB bitmap, 100000 u16 counters.
  setbit: (i) => encode(['SETBIT', 'bitmap', String((i * 2654435761) % 8388608), '1']),
  getbit: (i) => encode(['GETBIT', 'bitmap', String((i * 2654435761) % 8388608)]),
  bitfield: (i) => encode(['BITFIELD', 'counters', 'INCRBY', 'u16', `#${(i * 2654435761) % 100000}`, '1']),
};
// LRANGE needs a list to read: 600 elements, as redis-benchmark pushes them.
client.onData(Buffer.from(encode(['RPUSH', 'mylist', ...Array.from({ length: 600 }, () => 'xxx')]), 'latin1'));
// XRANGE reads a stream of 1000 entries, as bench/servers.mjs fills it.
for (let i = 0; i < 1000; i++) client.onData(Buffer.from(encode(['XADD', 'bench:stream', '*', 'name', 'sensor', 'temp', '21.5', 'seq', String(i)]), 'latin1'));

// ---- keys spread over 1M names -------------------------------------------------

const SPREAD = Number(process.env.VIREO_INPROC_KEYS ?? 1_000_000);
/** The n-th key of a walk over all SPREAD names (VIREO_INPROC_KEYS, default 1M) in a scattered order (618033 is coprime with 10^6 and 10^7). */
const spread = (n) => (n * 618033) % SPREAD;
const spreadKey = (prefix, n) => `${prefix}:${String(spread(n)).padStart(12, '0')}`;
/**
 * A second walk over the same names whose consecutive steps land far apart
 * in the load's order (3^18 is coprime with 10^6 and 10^7). The load writes
 * records in spread() order, so a walk in that order reads memory in
 * sequence and the hardware prefetcher hides its misses; redis-benchmark's
 * -r keys are random, and this walk is what its cache misses look like.
 */
const scattered = (n) => (n * 387420489) % SPREAD;
const VALUE = 'xxx';
const VALUE100 = 'v'.repeat(100);

/**
 * Each 1M workload: the dataset it needs loaded first (or none) and its
 * commands, the n-th of SPREAD. Every command is encoded once, before the
 * clock starts, so the figure is the server's cost alone.
 */
const spreadWorkloads = {
  // SET of 1M new keys into an empty database.
  set_new_1m: { load: null, cmd: (n) => encode(['SET', spreadKey('key', n), VALUE]) },
  // SET of 1M new keys with 100-byte values (the shape of bench/keyspace.mjs' redis-cli --pipe).
  set100_new_1m: { load: null, cmd: (n) => encode(['SET', spreadKey('key', n), VALUE100]) },
  // SET overwriting keys of a loaded 1M-key dataset.
  set_1m: { load: 'key', cmd: (n) => encode(['SET', spreadKey('key', n + 1), VALUE]) },
  // GET, every one a hit.
  get_1m: { load: 'key', cmd: (n) => encode(['GET', spreadKey('key', n + 1)]) },
  // GET, every one a hit, in an order that misses the cache as random keys do.
  get_random_1m: { load: 'key', cmd: (n) => encode(['GET', spreadKey('key', scattered(n))]) },
  // GET of names never written: every one a miss (redis-benchmark's GET over an empty server).
  get_miss_1m: { load: null, cmd: (n) => encode(['GET', spreadKey('key', n)]) },
  // INCR of 1M existing counters (loaded with integers, as INCR leaves them).
  incr_1m: { load: 'counter', cmd: (n) => encode(['INCR', spreadKey('counter', n + 1)]) },
  // INCR creating its counters (redis-benchmark's INCR over unloaded names).
  incr_new_1m: { load: null, cmd: (n) => encode(['INCR', spreadKey('counter', n)]) },
  // MSET of 10 scattered keys of the loaded dataset (100k commands, 1M keys written).
  mset_1m: { load: 'key', count: SPREAD / 10, cmd: (n) => encode(['MSET', ...Array.from({ length: 10 }, (_, j) => [spreadKey('key', n * 10 + j + 7), VALUE]).flat()]) },
  // A cache: every key has a TTL, SET renews it, GET checks it.
  setex_1m: { load: 'ttl', cmd: (n) => encode(['SET', spreadKey('ttl', n + 1), VALUE, 'EX', '3600']) },
  get_ttl_1m: { load: 'ttl', cmd: (n) => encode(['GET', spreadKey('ttl', n + 1)]) },
  // GET of 100-byte values, every one a hit.
  get100_1m: { load: 'cache', cmd: (n) => encode(['GET', spreadKey('cache', n + 1)]) },
  // The cache mix of bench/keyspace.mjs: 9 GETs to 1 SET, 100-byte values.
  mix_1m: { load: 'cache', cmd: (n) => (n % 10 === 9 ? encode(['SET', spreadKey('cache', n + 1), VALUE100]) : encode(['GET', spreadKey('cache', n + 1)])) },
  // SET EX of 1M new keys into an empty database (written with its TTL in one record).
  setex_new_1m: { load: null, cmd: (n) => encode(['SET', spreadKey('ttl', n), VALUE, 'EX', '3600']) },
};

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Feed `chunks` in order, yielding to the event loop after every 64. */
async function feed(chunks) {
  for (let i = 0; i < chunks.length; i++) {
    client.onData(chunks[i]);
    if ((i & 63) === 63) await tick();
  }
  await tick();
}

/** Commands cmd(0..count-1) in pipelines of 16, one Buffer per pipeline. */
function pipelines(cmd, count) {
  const chunks = [];
  for (let n = 0; n < count; n += 16) {
    let s = '';
    for (let i = n; i < Math.min(n + 16, count); i++) s += cmd(i);
    chunks.push(Buffer.from(s, 'latin1'));
  }
  return chunks;
}

/** Load 1M keys named `prefix` (integers for counters, a TTL for ttl), with MSET (fast, not measured). */
async function load(prefix) {
  await feed(pipelines((n) => encode(['FLUSHALL']), 1));
  if (prefix === 'ttl') {
    await feed(pipelines((n) => encode(['SET', spreadKey(prefix, n), VALUE, 'EX', '3600']), SPREAD));
    return;
  }
  const value = prefix === 'counter' ? () => '1' : prefix === 'cache' ? () => VALUE100 : () => VALUE;
  await feed(pipelines((n) => encode(['MSET', ...Array.from({ length: 100 }, (_, j) => [spreadKey(prefix, n * 100 + j), value()]).flat()]), SPREAD / 100));
}

async function runSpread(name) {
  const w = spreadWorkloads[name];
  const count = w.count ?? SPREAD;
  const chunks = pipelines(w.cmd, count);
  // One pass to warm the code up (and, for SET of new keys, to be flushed away).
  if (w.load !== null) await load(w.load);
  await feed(chunks);
  if (w.load === null) await feed(pipelines(() => encode(['FLUSHALL']), 1));
  await startProfile();
  gcSeen.length = 0;
  if (traceGc) console.log(`# measured pass of ${name} starts`);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await feed(chunks);
  const ns = Number(process.hrtime.bigint() - t0) / count;
  // CPU of every thread (the collector's helpers too): steadier than the wall clock on a busy machine.
  const cpu = process.cpuUsage(cpu0);
  const cpuNs = ((cpu.user + cpu.system) * 1000) / count;
  if (traceGc) console.log(`# measured pass of ${name} ends`);
  await stopProfile(name);
  console.log(`${name.padEnd(10)} ${ns.toFixed(0)} ns/command (cpu ${cpuNs.toFixed(0)})${gcSummary(count)}`);
}

// VIREO_INPROC_GC=1 reports the collections of each 1M workload's measured
// pass, and marks where it starts and ends for node --trace-gc's lines.
const traceGc = process.env.VIREO_INPROC_GC === '1';
const gcSeen = [];
if (traceGc) new PerformanceObserver((list) => gcSeen.push(...list.getEntries())).observe({ entryTypes: ['gc'] });
function gcSummary(count) {
  if (!traceGc) return '';
  const kinds = { 1: 'scavenge', 2: 'mark-compact', 4: 'incremental', 8: 'weak-cb' };
  const byKind = new Map();
  for (const e of gcSeen) {
    const kind = kinds[e.detail?.kind] ?? 'other';
    const [n, ms] = byKind.get(kind) ?? [0, 0];
    byKind.set(kind, [n + 1, ms + e.duration]);
  }
  const parts = [...byKind].map(([kind, [n, ms]]) => `${n} ${kind} ${ms.toFixed(0)} ms (${((ms * 1e6) / count).toFixed(0)} ns/command)`);
  return `  gc: ${parts.join(', ') || 'none'}`;
}

// VIREO_INPROC_PROFILE=dir writes a .cpuprofile of each 1M workload's measured pass alone
// (node --cpu-prof would mix in the encoding and the loading); see scripts/cpuprofile-top.mjs.
const profileDir = process.env.VIREO_INPROC_PROFILE;
const inspector = profileDir ? new (await import('node:inspector')).Session() : null;
inspector?.connect();
const post = (method, params) => new Promise((resolve, reject) => inspector.post(method, params, (err, res) => (err ? reject(err) : resolve(res))));
async function startProfile() {
  if (inspector === null) return;
  await post('Profiler.enable');
  await post('Profiler.setSamplingInterval', { interval: 100 });
  await post('Profiler.start');
}
async function stopProfile(name) {
  if (inspector === null) return;
  const { profile } = await post('Profiler.stop');
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(profileDir, { recursive: true });
  writeFileSync(`${profileDir}/${name}.cpuprofile`, JSON.stringify(profile));
}

/** A workload of 64 pipelines of 16 commands, replayed ROUNDS times. */
async function runRepeated(name) {
  const chunks = pipelines(workloads[name], 64 * 16);
  const rounds = Number(process.env.ROUNDS ?? 3000);
  const all = Array.from({ length: rounds }, () => chunks).flat();
  for (let w = 0; w < 2; w++) {
    const t0 = process.hrtime.bigint();
    await feed(all);
    const ns = Number(process.hrtime.bigint() - t0) / (rounds * chunks.length * 16);
    if (w === 1) console.log(`${name.padEnd(10)} ${ns.toFixed(0)} ns/command`);
  }
}

// The cron, as a started server runs it (it is what folds the access clock).
server.scheduleCron();
const names = process.argv.slice(2).length ? process.argv.slice(2) : [...Object.keys(workloads), ...Object.keys(spreadWorkloads)];
for (const name of names) {
  if (name in spreadWorkloads) await runSpread(name);
  else if (name in workloads) await runRepeated(name);
  else throw new Error(`unknown workload ${name}`);
}
process.exit(0);
