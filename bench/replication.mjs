// Replication side by side with redis-server:
//  - full sync: time for a fresh replica to load a primary of --keys keys
//    (DEBUG POPULATE, values of 100 bytes) and reach its offset, and the
//    longest reply a client waits for meanwhile on each side (a PING every
//    millisecond: the primary's snapshot slices, the replica's load);
//  - the cost of replicas: SET throughput (redis-benchmark -r 1000000 -d 100)
//    on a primary with two replicas attached, relative to the same primary
//    with none. Each server family replicates from its own kind.
//
//   node bench/replication.mjs [--keys 1000000] [--requests 300000] [--rounds 3]
//                              [--replica-kind same|redis] [--parts sync,cost]
// The primary runs on cpu 0, replicas and redis-benchmark on cpu 1 (taskset).
import { execFileSync, spawnSync } from 'node:child_process';
import { infoAsync, median, options, probePauses, requireTools, row, startServer } from './servers.mjs';

const { opt } = options(process.argv.slice(2));
const keys = Number(opt('keys', '1000000'));
const requests = Number(opt('requests', '300000'));
const rounds = Number(opt('rounds', '3'));
const parts = new Set(opt('parts', 'sync,cost').split(','));
const replicaKind = opt('replica-kind', 'same');
requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);
const haveTaskset = spawnSync('which', ['taskset']).status === 0;

function pin(pid, cpu) {
  if (haveTaskset) spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

function info(server, field) {
  const m = new RegExp(`^${field}:(.*)$`, 'm').exec(server.cli('INFO', 'replication'));
  return m === null ? null : m[1].trim();
}

async function waitSynced(primary, replica, timeoutMs = 600000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (info(replica, 'master_link_status') === 'up' && info(replica, 'slave_repl_offset') === info(primary, 'master_repl_offset')) return;
    if (Date.now() > deadline) throw new Error(`replica of ${primary.kind} did not sync`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const kindOfReplica = (kind) => (replicaKind === 'same' ? kind : replicaKind);
const syncFlags = ['--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0'];

/** The replica is linked and at the primary's offset (asked without holding this process' event loop). */
async function syncedAsync(primary, replica) {
  const field = (text, name) => new RegExp(`^${name}:(.*)$`, 'm').exec(text)?.[1].trim();
  const [p, r] = await Promise.all([infoAsync(primary.port, 'replication'), infoAsync(replica.port, 'replication')]);
  return field(r, 'master_link_status') === 'up' && field(r, 'slave_repl_offset') === field(p, 'master_repl_offset');
}

/**
 * A fresh replica's full sync of a primary of `kind`: its time, and the
 * longest replies a client of each side waits meanwhile (the primary
 * serializes its dataset to the link, the replica loads it).
 */
async function fullSync(kind) {
  const primary = await startServer(kind, syncFlags);
  pin(primary.pid, 0);
  primary.cli('DEBUG', 'POPULATE', String(keys), 'key', '100');
  const started = performance.now();
  const replica = await startServer(kindOfReplica(kind), ['--replicaof', '127.0.0.1', String(primary.port)]);
  pin(replica.pid, 1);
  const synced = () => syncedAsync(primary, replica);
  const [onPrimary, onReplica] = await Promise.all([probePauses(primary.port, () => {}, synced), probePauses(replica.port, () => {}, synced)]);
  await waitSynced(primary, replica);
  const ms = performance.now() - started - replica.readyMs;
  await replica.stop();
  await primary.stop();
  return { ms, primaryMax: onPrimary.max, replicaMax: onReplica.max };
}

function setRps(server) {
  const args = ['-p', String(server.port), '-q', '--csv', '-c', '50', '-n', String(requests), '-P', '16', '-r', '1000000', '-d', '100', '-t', 'set'];
  const cmd = haveTaskset ? 'taskset' : 'redis-benchmark';
  const full = haveTaskset ? ['-c', '1', 'redis-benchmark', ...args] : args;
  const out = execFileSync(cmd, full, { encoding: 'utf8' });
  return Number(out.trim().split('\n')[1].split(',')[1].replace(/"/g, ''));
}

/** SET rps with two replicas attached / SET rps alone, on one primary of `kind`. */
async function replicaCostRatio(kind) {
  const primary = await startServer(kind, syncFlags);
  pin(primary.pid, 0);
  const alone = setRps(primary);
  const replicas = [];
  for (let i = 0; i < 2; i++) {
    const r = await startServer(kindOfReplica(kind), ['--replicaof', '127.0.0.1', String(primary.port)]);
    pin(r.pid, 1);
    replicas.push(r);
  }
  for (const r of replicas) await waitSynced(primary, r);
  const withTwo = setRps(primary);
  for (const r of replicas) await waitSynced(primary, r);
  for (const r of replicas) await r.stop();
  await primary.stop();
  return { alone, withTwo, ratio: withTwo / alone };
}

const widths = [34, 12, 12, 8];
console.log(`replication: ${keys} keys, ${rounds} rounds, replicas: ${replicaKind === 'same' ? 'same kind as the primary' : replicaKind}${haveTaskset ? ', pinned' : ''}`);
console.log(row(['', 'redis', 'vireo', 'ratio'], widths));

if (parts.has('sync')) {
  const syncRatios = [];
  const sync = { redis: [], vireo: [] };
  for (let i = 0; i < rounds; i++) {
    const r = await fullSync('redis');
    const v = await fullSync('vireo');
    sync.redis.push(r);
    sync.vireo.push(v);
    syncRatios.push(v.ms / r.ms);
  }
  const syncMedian = (kind, what) => median(sync[kind].map((s) => s[what]));
  console.log(row([`full sync of ${keys} keys (ms)`, syncMedian('redis', 'ms').toFixed(0), syncMedian('vireo', 'ms').toFixed(0), `${median(syncRatios).toFixed(2)}x`], widths));
  // Longest PING reply (ms, median of the rounds) on each side while the sync runs.
  for (const [label, what] of [['  longest reply on the primary', 'primaryMax'], ['  longest reply on the replica', 'replicaMax']]) {
    console.log(row([label, syncMedian('redis', what).toFixed(1), syncMedian('vireo', what).toFixed(1), ''], widths));
  }
}

if (parts.has('cost')) {
  const cost = { redis: [], vireo: [] };
  for (let i = 0; i < rounds; i++) {
    cost.redis.push((await replicaCostRatio('redis')).ratio);
    cost.vireo.push((await replicaCostRatio('vireo')).ratio);
  }
  const rc = median(cost.redis);
  const vc = median(cost.vireo);
  console.log(row(['SET rps, 2 replicas / none', rc.toFixed(2), vc.toFixed(2), (vc / rc).toFixed(2)], widths));
}
console.log('(full sync: Vireo time / redis time, target <= 1.5; replicas: Vireo ratio / redis ratio, target >= 1.0)');
