#!/usr/bin/env node
// The Prometheus endpoint's cost. (1) One scrape on a loaded server: redis-server
// and Vireo each hold --keys keys (DEBUG POPULATE; 10000 of them with a TTL, so
// INFO's avg_ttl walk has work) and --clients idle connections; redis-server's
// INFO ALL (what redis_exporter reads) beside Vireo's INFO ALL and GET /metrics,
// median and worst of 20, and the worst PING round trip another connection saw
// meanwhile (the event loop's stall) beside the worst without scrapes.
// (2) SET/GET throughput (redis-benchmark -c 50 -r 1000000) of redis-server,
// Vireo with the endpoint off, and Vireo with it on and scraped every second;
// prints the median of per-round ratios.
//
// Usage: npm run bench -- --suite prometheus [--quick] [--keys 1000000] [--clients 1000] [--rounds 3] [--requests 200000] [--pin]
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import { freePort, median, options, pinSelf, pinned, requireTools, row, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const { opt, has } = options(args);
const quick = has('quick');
const keys = Number(opt('keys', quick ? '200000' : '1000000'));
const idleClients = Number(opt('clients', quick ? '200' : '1000'));
const rounds = Number(opt('rounds', quick ? '1' : '3'));
const requests = Number(opt('requests', quick ? '50000' : '200000'));
const SCRAPES = 20;
const run = promisify(execFile);

requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);
pinSelf();

/** A RESP connection that sends one command at a time and times it. */
async function connect(port) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r, j) => socket.once('connect', r).once('error', j));
  let waiting = null;
  let buf = '';
  socket.setEncoding('latin1');
  socket.on('data', (d) => {
    buf += d;
    if (waiting !== null && waiting.done(buf)) {
      const w = waiting;
      waiting = null;
      buf = '';
      w.resolve();
    }
  });
  return {
    /** Milliseconds until the whole reply arrived. */
    time(argv) {
      const started = performance.now();
      const frame = `*${argv.length}\r\n${argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
      return new Promise((resolve) => {
        waiting = { done: replyComplete, resolve: () => resolve(performance.now() - started) };
        socket.write(frame);
      });
    },
    close: () => socket.destroy(),
  };
}

/** A simple or bulk reply is whole (the only kinds timed here). */
function replyComplete(buf) {
  if (buf[0] !== '$') return buf.endsWith('\r\n');
  const eol = buf.indexOf('\r\n');
  if (eol < 0) return false;
  const len = Number(buf.slice(1, eol));
  return len < 0 || Buffer.byteLength(buf, 'latin1') >= eol + 2 + len + 2;
}

function scrape(port) {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
        res.resume();
        res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - started) : reject(new Error(`HTTP ${res.statusCode}`))));
      })
      .on('error', reject);
  });
}

async function load(server) {
  server.cli('DEBUG', 'POPULATE', String(keys));
  server.cli('EVAL', "for i = 0, 9999 do redis.call('EXPIRE', 'key:' .. i, 3600) end", '0');
  const idle = [];
  for (let i = 0; i < idleClients; i++) idle.push(await connect(server.port));
  return idle;
}

/** Worst PING round trip over `ms` while `busy` runs (or idles). */
async function worstPing(pinger, whileRunning) {
  let worst = 0;
  let running = true;
  const loop = (async () => {
    while (running) worst = Math.max(worst, await pinger.time(['PING']));
  })();
  await whileRunning();
  running = false;
  await loop;
  return worst;
}

async function timed(n, f) {
  const times = [];
  for (let i = 0; i < n; i++) times.push(await f());
  return { median: median(times), max: Math.max(...times) };
}

const fmt = (ms) => ms.toFixed(2);

async function scrapeCost() {
  const redis = await startServer('redis');
  const metricsPort = await freePort();
  const vireo = await startServer('vireo', ['--prometheus-port', String(metricsPort)]);
  const idle = [...(await load(redis)), ...(await load(vireo))];
  const results = [];
  for (const [name, server, op] of [
    ['redis-server INFO ALL', redis, 'info'],
    ['vireo INFO ALL', vireo, 'info'],
    ['vireo GET /metrics', vireo, 'scrape'],
  ]) {
    const c = await connect(server.port);
    const pinger = await connect(server.port);
    const quiet = await worstPing(pinger, () => new Promise((r) => setTimeout(r, 500)));
    let t;
    const busy = await worstPing(pinger, async () => {
      t = await timed(SCRAPES, () => (op === 'info' ? c.time(['INFO', 'ALL']) : scrape(metricsPort)));
    });
    results.push([name, fmt(t.median), fmt(t.max), fmt(quiet), fmt(busy)]);
    c.close();
    pinger.close();
  }
  for (const c of idle) c.close();
  await redis.stop();
  await vireo.stop();
  console.log(`scrape cost: ${keys} keys (10000 with a TTL), ${idleClients} idle clients${pinned ? ', pinned' : ''}; ms`);
  const widths = [24, 10, 10, 14, 14];
  console.log(row(['', 'median', 'worst', 'PING worst', 'PING worst'], widths));
  console.log(row(['', '', '', 'no scrape', 'scraping'], widths));
  for (const r of results) console.log(row(r, widths));
}

async function benchRps(server, test) {
  const { stdout } = await run('redis-benchmark', ['-p', String(server.port), '-q', '--csv', '-r', '1000000', '-c', '50', '-n', String(requests), '-t', test]);
  return Number(stdout.trim().split('\n')[1].split(',')[1].replace(/"/g, ''));
}

async function throughput() {
  const widths = [6, 12, 12, 14, 10, 10];
  console.log(`\nthroughput: redis-benchmark -c 50 -r 1000000 -n ${requests}, ${rounds} round(s); rps`);
  console.log(row(['test', 'redis', 'vireo off', 'vireo scraped', 'off/redis', 'on/off'], widths));
  for (const test of ['set', 'get']) {
    const offRatio = [];
    const onRatio = [];
    let last = null;
    for (let r = 0; r < rounds; r++) {
      const metricsPort = await freePort();
      const redis = await startServer('redis');
      const off = await startServer('vireo');
      const on = await startServer('vireo', ['--prometheus-port', String(metricsPort)]);
      const rRedis = await benchRps(redis, test);
      const rOff = await benchRps(off, test);
      const timer = setInterval(() => scrape(metricsPort).catch(() => {}), 1000);
      const rOn = await benchRps(on, test);
      clearInterval(timer);
      for (const s of [redis, off, on]) await s.stop();
      offRatio.push(rOff / rRedis);
      onRatio.push(rOn / rOff);
      last = [rRedis, rOff, rOn];
    }
    console.log(row([test.toUpperCase(), ...last.map((x) => Math.round(x)), median(offRatio).toFixed(2), median(onRatio).toFixed(2)], widths));
  }
}

await scrapeCost();
await throughput();
