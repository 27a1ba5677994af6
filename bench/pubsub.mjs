#!/usr/bin/env node
// Pub/Sub and client-side caching side by side with redis-server:
//  - PUBLISH through redis-benchmark (-c 50) to 1, 10 and 100 subscribers
//    connected from this process: messages delivered per second (every
//    published message counted at every subscriber, from the bytes read),
//    and the server's CPU time per delivered message;
//  - GET over 1M loaded keys (-r 1000000) with CLIENT TRACKING on
//    (redis-benchmark --enable-tracking) and, as the baseline, off.
// Each round runs both servers back to back, alternating which goes first;
// the median of per-round ratios vireo/redis is judged against >= 0.9.
//
// Usage: npm run bench -- --suite pubsub [--quick] [--rounds 5] [--requests 100000]
//        [--pipeline 1] [--payload 64] [--keys 1000000] [--no-publish] [--no-tracking]
//        [--pin] [--calibrate]
//        (--pin: servers on CPU 0, redis-benchmark and the subscribers on CPU 1;
//         --calibrate: a second redis-server in Vireo's place, to see the harness' noise)
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import { cpuMicros, judged, median, options, pinSelf, pinned, requireTools, row, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const { opt, has } = options(args);
const quick = has('quick');
const rounds = Number(opt('rounds', quick ? '2' : '5'));
const requests = Number(opt('requests', quick ? '30000' : '100000'));
const pipeline = Number(opt('pipeline', '1'));
const payload = 'x'.repeat(Number(opt('payload', '64')));
const keys = Number(opt('keys', quick ? '100000' : '1000000'));
const TARGET = 0.9;
const CHANNEL = 'bench:channel';
// Both servers keep slow subscribers: the run measures delivery, not the buffer limit.
const SERVER_ARGS = ['--client-output-buffer-limit', 'pubsub 0 0 0'];

requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);
pinSelf();

/** The bytes of one `message` frame a RESP2 subscriber receives. */
const FRAME_BYTES = Buffer.byteLength(`*3\r\n$7\r\nmessage\r\n$${CHANNEL.length}\r\n${CHANNEL}\r\n$${payload.length}\r\n${payload}\r\n`);

/** `count` RESP2 subscribers of CHANNEL, counting the bytes they read. */
async function subscribe(port, count) {
  const subs = [];
  for (let i = 0; i < count; i++) {
    const sock = net.connect(port, '127.0.0.1');
    const sub = { sock, bytes: 0 };
    await new Promise((resolve, reject) => {
      sock.once('error', reject);
      sock.once('data', (d) => {
        // The confirmation; everything after it is messages.
        sock.on('data', (more) => (sub.bytes += more.length));
        resolve();
      });
      sock.write(`SUBSCRIBE ${CHANNEL}\r\n`);
    });
    subs.push(sub);
  }
  return subs;
}

/** redis-benchmark without blocking this process' event loop (the subscribers read meanwhile). */
function benchmarkAsync(port, extra) {
  const argv = ['-p', String(port), '-q', '--csv', '-c', '50', '-n', String(requests), '-P', String(pipeline), ...extra];
  const [program, a] = pinned ? ['taskset', ['-c', '1', 'redis-benchmark', ...argv]] : ['redis-benchmark', argv];
  return new Promise((resolve, reject) => {
    const p = spawn(program, a, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`redis-benchmark exited ${code}`))));
  });
}

/** Wait until every subscriber has read `frames` messages (or give up after a while). */
async function drained(subs, frames) {
  const deadline = Date.now() + 120000;
  while (subs.some((s) => s.bytes < frames * FRAME_BYTES) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  return subs.every((s) => s.bytes === frames * FRAME_BYTES);
}

/** One PUBLISH run against `server` with `count` subscribers: delivered messages/s and CPU µs per delivery. */
async function publishOnce(server, count) {
  const subs = await subscribe(server.port, count);
  try {
    const cpu0 = cpuMicros(server.pid);
    const started = performance.now();
    await benchmarkAsync(server.port, ['PUBLISH', CHANNEL, payload]);
    const complete = await drained(subs, requests);
    const seconds = (performance.now() - started) / 1000;
    if (!complete) throw new Error(`${server.kind}: subscribers did not receive every message`);
    const delivered = requests * count;
    return { rate: delivered / seconds, cpuUs: (cpuMicros(server.pid) - cpu0) / delivered };
  } finally {
    for (const s of subs) s.sock.destroy();
  }
}

/**
 * An uncounted warm-up on Vireo (V8 compiles its paths), then `rounds` rounds of `once` on both
 * servers back to back, each going first in turn: the best rate of each, and the median ratios.
 */
async function alternate(redis, vireo, once) {
  await once(vireo);
  const ratios = [];
  const cpuRatios = [];
  const best = { redis: 0, vireo: 0 };
  for (let r = 0; r < rounds; r++) {
    const round = {};
    for (const s of r % 2 === 0 ? [redis, vireo] : [vireo, redis]) {
      round[s.kind] = await once(s);
      best[s.kind] = Math.max(best[s.kind], round[s.kind].rate);
    }
    ratios.push(round.vireo.rate / round.redis.rate);
    cpuRatios.push(round.vireo.cpuUs / round.redis.cpuUs);
  }
  return { best, ratio: median(ratios), cpuRatio: median(cpuRatios) };
}

async function benchPublish(redis, vireo) {
  const w = [12, 14, 14, 7, 8, 8];
  console.log(row(['subscribers', 'redis msg/s', 'vireo msg/s', 'ratio', 'target', 'cpu/msg'], w));
  for (const count of [1, 10, 100]) {
    const { best, ratio, cpuRatio } = await alternate(redis, vireo, (s) => publishOnce(s, count));
    console.log(row([count, Math.round(best.redis), Math.round(best.vireo), judged(ratio, TARGET), TARGET, cpuRatio.toFixed(2)], w));
  }
}

/** GET over the loaded keys, with tracking on or off: requests/s (rate) and CPU µs per request. */
async function getOnce(server, tracking) {
  const cpu0 = cpuMicros(server.pid);
  const out = await benchmarkAsync(server.port, ['-r', String(keys), ...(tracking ? ['--enable-tracking'] : []), '-t', 'get']);
  const rate = Number(out.trim().split('\n')[1].split(',')[1].replace(/"/g, ''));
  return { rate, cpuUs: (cpuMicros(server.pid) - cpu0) / requests };
}

async function benchTracking(redis, vireo) {
  // Load 100-byte values under redis-benchmark's own key names (key:000000012345).
  for (const s of [redis, vireo]) {
    execFileSync('redis-benchmark', ['-p', String(s.port), '-q', '-c', '50', '-P', '64', '-n', String(keys), '-r', String(keys), '-d', '100', '-t', 'set'], { stdio: 'ignore' });
  }
  const w = [16, 12, 12, 7, 8, 8];
  console.log(row(['GET', 'redis rps', 'vireo rps', 'ratio', 'target', 'cpu/req'], w));
  for (const tracking of [false, true]) {
    const { best, ratio, cpuRatio } = await alternate(redis, vireo, (s) => getOnce(s, tracking));
    const tracked = tracking ? vireo.cli('INFO', 'stats').match(/tracking_total_keys:(\d+)/)?.[1] ?? '?' : '-';
    console.log(row([tracking ? `tracking on (${tracked} keys)` : 'tracking off', Math.round(best.redis), Math.round(best.vireo), judged(ratio, TARGET), TARGET, cpuRatio.toFixed(2)], w));
  }
}

const redis = await startServer('redis', SERVER_ARGS);
const vireo = await startServer(has('calibrate') ? 'redis' : 'vireo', SERVER_ARGS);
if (has('calibrate')) vireo.kind = 'vireo';
try {
  console.log(`${rounds} rounds, ${requests} requests, -c 50 -P ${pipeline}, ${payload.length}-byte messages${pinned ? ', pinned' : ''}`);
  if (!has('no-publish')) await benchPublish(redis, vireo);
  if (!has('no-tracking')) await benchTracking(redis, vireo);
} finally {
  await redis.stop();
  await vireo.stop();
}
