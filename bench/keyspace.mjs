#!/usr/bin/env node
// A keyspace of 1M keys, side by side with redis-server:
//  - mass insertion: `redis-cli --pipe` of 1M SETs (100-byte values, keys
//    named as redis-benchmark -r names them) into an empty server, timed;
//  - a cache's traffic over those keys: 90% GET / 10% SET of 100-byte values,
//    keys spread over all 1M names (every GET hits), at -P 1 and -P 16.
// Prints vireo/redis time for the insertion (target <= 1.2) and vireo/redis
// throughput for the mix (target >= 0.9), medians of per-round ratios, with
// the servers' CPU per request beside them.
//
// The mix comes from this process (pinned to the client CPU with --pin):
// redis-benchmark runs one command per test, and two of them side by side
// do not keep a 9:1 mix, since the scheduler splits the client CPU between
// the two processes, not between their clients. The requests are generated
// once from a fixed seed (so both servers get the very same ones), 50
// connections each keep one batch of P commands in flight, and replies are
// counted by their length, known in advance (a GET hit `$100` + 100 bytes,
// a SET `+OK`): a miss, an error or a stray byte fails the run. Measured
// against redis-server, this client serves GETs as fast as redis-benchmark
// does at -P 1 and faster at -P 16, so it does not cap either server.
//
// Usage: npm run bench -- --suite keyspace [--quick] [--rounds 5] [--keys 1000000] [--pin]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { benchKey, benchKeySets, cpuMicros, infoNumber, median, onClientCpu, options, pinSelf, requireTools, row, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const { opt } = options(args);
const quick = args.includes('--quick');
const rounds = Number(opt('rounds', quick ? '1' : '5'));
const keys = Number(opt('keys', quick ? '200000' : '1000000'));
const requests = Number(opt('requests', quick ? '100000' : '200000'));
const VALUE_SIZE = 100;
const MIX_TARGET = 0.9;
const PIPE_TARGET = 1.2;

requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);

function encode(argv) {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${Buffer.byteLength(a)}\r\n${a}\r\n`;
  return s;
}

/** The RESP file `redis-cli --pipe` sends: a SET of every key, written once. */
function writeSetsFile(file) {
  const fd = fs.openSync(file, 'w');
  let chunk = '';
  for (const argv of benchKeySets(keys, VALUE_SIZE)) {
    chunk += encode(argv);
    if (chunk.length > 1 << 20) {
      fs.writeSync(fd, chunk);
      chunk = '';
    }
  }
  fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}

/** Empty the server and collect its garbage, so every insertion starts alike. */
function empty(server) {
  server.cli('FLUSHALL');
  server.cli('MEMORY', 'PURGE');
}

/** Time `redis-cli --pipe < file` into an empty server: { ms, cpuUs } (server CPU per SET). */
function pipeInsert(server, file) {
  empty(server);
  const input = fs.openSync(file, 'r');
  const cpu0 = cpuMicros(server.pid);
  const t0 = performance.now();
  const r = spawnSync(...onClientCpu('redis-cli', ['-p', String(server.port), '--pipe']), { stdio: [input, 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  const cpu = cpuMicros(server.pid) - cpu0;
  fs.closeSync(input);
  if (!r.stdout.includes(`errors: 0, replies: ${keys}`)) throw new Error(`${server.kind} --pipe: ${r.stdout} ${r.stderr}`);
  const held = infoNumber(server, 'keyspace', 'keys');
  if (held !== keys) throw new Error(`${server.kind} holds ${held} keys after --pipe of ${keys}`);
  return { ms, cpuUs: cpu / keys };
}

const CONNECTIONS = 50;
const GET_SHARE = 0.9;
const GET_REPLY_BYTES = `$${VALUE_SIZE}\r\n`.length + VALUE_SIZE + 2;
const SET_REPLY_BYTES = '+OK\r\n'.length;

/** A deterministic pseudo-random sequence in [0, 1) (a 32-bit LCG: same seed, same requests). */
function lcg(seed) {
  let state = seed >>> 0;
  return () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32;
}

/**
 * The requests of one connection, `perConnection` commands in batches of
 * `pipeline`: the bytes, where each batch ends, and how many reply bytes
 * the server has sent once it has answered each batch.
 */
function planConnection(random, perConnection, pipeline) {
  const value = 'x'.repeat(VALUE_SIZE);
  const batches = [];
  const batchEnds = [];
  const replyEnds = [];
  let length = 0;
  let replyBytes = 0;
  for (let sent = 0; sent < perConnection; sent += pipeline) {
    let batch = '';
    for (let j = 0; j < pipeline && sent + j < perConnection; j++) {
      const isGet = random() < GET_SHARE;
      const key = benchKey(Math.floor(random() * keys));
      batch += encode(isGet ? ['GET', key] : ['SET', key, value]);
      replyBytes += isGet ? GET_REPLY_BYTES : SET_REPLY_BYTES;
    }
    batches.push(batch);
    length += batch.length;
    batchEnds.push(length);
    replyEnds.push(replyBytes);
  }
  return { bytes: Buffer.from(batches.join(''), 'latin1'), batchEnds, replyEnds, commands: perConnection };
}

/** The mix's requests for every connection at one pipeline depth, `total` in all. */
function planMix(pipeline, total) {
  const random = lcg(pipeline);
  return Array.from({ length: CONNECTIONS }, () => planConnection(random, Math.ceil(total / CONNECTIONS), pipeline));
}

/** Play one connection's plan: send a batch, wait for its replies' bytes, send the next. */
function playConnection(port, plan) {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', noDelay: true });
    const last = plan.batchEnds.length - 1;
    let batch = 0;
    let received = 0;
    const stall = setTimeout(() => fail(new Error(`no reply for 60 s (${received} of ${plan.replyEnds[last]} bytes)`)), 60000);
    const fail = (err) => {
      clearTimeout(stall);
      socket.destroy();
      reject(err);
    };
    const send = () => socket.write(plan.bytes.subarray(batch === 0 ? 0 : plan.batchEnds[batch - 1], plan.batchEnds[batch]));
    socket.on('connect', send);
    socket.on('error', fail);
    socket.on('data', (chunk) => {
      received += chunk.length;
      stall.refresh();
      if (received < plan.replyEnds[batch]) return;
      if (received > plan.replyEnds[batch]) return fail(new Error(`unexpected reply bytes: ${chunk.toString('latin1', 0, 40)}`));
      if (batch === last) {
        clearTimeout(stall);
        socket.end();
        return resolve();
      }
      batch++;
      send();
    });
  });
}

/**
 * Play the mix against a server: { rps, cpuUs, misses } (cpuUs: server CPU
 * per request; misses: GETs that found no key, which must be none).
 */
async function mix(server, plans) {
  const total = plans.reduce((n, plan) => n + plan.commands, 0);
  const misses0 = infoNumber(server, 'stats', 'keyspace_misses');
  const cpu0 = cpuMicros(server.pid);
  const t0 = performance.now();
  await Promise.all(plans.map((plan) => playConnection(server.port, plan)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuMicros(server.pid) - cpu0;
  const misses = infoNumber(server, 'stats', 'keyspace_misses') - misses0;
  if (misses > 0) throw new Error(`${server.kind}: ${misses} GETs missed`);
  return { rps: total / seconds, cpuUs: cpu / total };
}

pinSelf();
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-keyspace-'));
const file = path.join(dir, 'sets.resp');
writeSetsFile(file);
const warmUpPlans = planMix(1, Math.ceil(requests / 5));
const mixRows = new Map(
  [1, 16].map((p) => [p, { plans: planMix(p, p > 1 ? requests * 4 : requests), ratios: [], cpu: [], best: { redis: 0, vireo: 0 } }]),
);
const redis = await startServer('redis');
const vireo = await startServer('vireo');
const pipeRatios = [];
const pipeCpu = [];
const pipeBest = { redis: Infinity, vireo: Infinity };
try {
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? [redis, vireo] : [vireo, redis];
    const ins = {};
    for (const s of order) ins[s.kind] = pipeInsert(s, file);
    for (const kind of ['redis', 'vireo']) pipeBest[kind] = Math.min(pipeBest[kind], ins[kind].ms);
    pipeRatios.push(ins.vireo.ms / ins.redis.ms);
    pipeCpu.push(ins.vireo.cpuUs / ins.redis.cpuUs);
    // Both now hold every key: the mix's GETs all hit. The first round
    // warms each server's GET and SET paths with an uncounted run.
    if (r === 0) for (const s of order) await mix(s, warmUpPlans);
    for (const [pipeline, m] of mixRows) {
      const res = {};
      for (const s of order) res[s.kind] = await mix(s, m.plans);
      for (const kind of ['redis', 'vireo']) m.best[kind] = Math.max(m.best[kind], res[kind].rps);
      m.ratios.push(res.vireo.rps / res.redis.rps);
      m.cpu.push(res.vireo.cpuUs / res.redis.cpuUs);
    }
  }
} finally {
  await redis.stop();
  await vireo.stop();
  fs.rmSync(dir, { recursive: true, force: true });
}

const w = [34, 3, 12, 12, 7, 9, 7, 8];
console.log(row([`${keys} keys, ${VALUE_SIZE}-byte values`, 'P', 'redis best', 'vireo best', 'ratio', 'median', 'target', 'cpu/req'], w));
const pipeMedian = median(pipeRatios);
console.log(
  row(
    ['redis-cli --pipe of the SETs (ms)', '', pipeBest.redis.toFixed(0), pipeBest.vireo.toFixed(0), (pipeBest.vireo / pipeBest.redis).toFixed(2), pipeMedian.toFixed(2) + (pipeMedian <= PIPE_TARGET ? '' : ' *'), `<=${PIPE_TARGET}`, median(pipeCpu).toFixed(2)],
    w,
  ),
);
for (const [pipeline, m] of mixRows) {
  const med = median(m.ratios);
  console.log(
    row(['90% GET / 10% SET (req/s)', pipeline, m.best.redis.toFixed(0), m.best.vireo.toFixed(0), (m.best.vireo / m.best.redis).toFixed(2), med.toFixed(2) + (med >= MIX_TARGET ? '' : ' *'), `>=${MIX_TARGET}`, median(m.cpu).toFixed(2)], w),
  );
}
console.log('(--pipe: time, vireo/redis, lower is better; mix: throughput, vireo/redis; median: of the per-round ratios, judged;');
console.log(' * outside target; cpu/req: median of the per-round ratios of server CPU per request, vireo/redis)');
