#!/usr/bin/env node
// Bitmaps side by side with redis-server, 50 connections:
//  - SETBIT at random offsets of one 1 MB bitmap;
//  - BITCOUNT over a whole 1 MB string, built by SETBIT (a bitmap) and
//    stored by SET (a value a client wrote whole);
//  - BITPOS 1 over a 1 MB string whose only set bit is the last (a full scan);
//  - BITFIELD INCRBY of random u16 counters (#n offsets over 100000).
// redis-benchmark's -r cannot make offsets (__rand_int__ is 12 zero-padded
// digits, which Redis refuses as a bit offset), so the two random-offset
// tests run from this process: 50 connections, one command in flight each
// (like -c 50 -P 1), offsets from a seeded generator. The other tests run
// redis-benchmark -c 50. Both report requests/s and the server's CPU time
// per request; the `cpu%` column shows how busy the server was (a figure
// well below 100 means the client, not the server, set the pace).
// Each round runs both servers back to back, alternating which goes first;
// the median of per-round ratios vireo/redis is judged against >= 0.9, with
// the server's CPU time per request beside it.
//
// Usage: npm run bench -- --suite bitmaps [--quick] [--rounds 5] [--requests 100000]
//        [--pipeline 1] [--pin] [--calibrate] [--tests setbit,bitfield]
//        (--tests: only the tests whose names contain one of the words, any case;
//         --pin: servers on CPU 0, redis-benchmark and this process on CPU 1;
//         --calibrate: a second redis-server in Vireo's place, to see the harness' noise)
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { cpuMicros, judged, median, options, pinSelf, pinned, requireTools, row, startServer } from './servers.mjs';

const args = process.argv.slice(2);
const { opt, has } = options(args);
const quick = has('quick');
const rounds = Number(opt('rounds', quick ? '2' : '5'));
const requests = Number(opt('requests', quick ? '30000' : '100000'));
const pipeline = Number(opt('pipeline', '1'));
const TARGET = 0.9;
const MB = 1024 * 1024;

requireTools(['redis-server', 'redis-benchmark', 'redis-cli']);
pinSelf();

/** Send one command (Buffer arguments allowed) and wait for its reply line. */
function send(port, argv) {
  const parts = [Buffer.from(`*${argv.length}\r\n`)];
  for (const a of argv) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1', () => sock.write(Buffer.concat(parts)));
    sock.once('error', reject);
    sock.once('data', (d) => {
      sock.destroy();
      const line = d.toString('latin1').split('\r\n')[0];
      if (line.startsWith('-')) reject(new Error(line));
      else resolve(line);
    });
  });
}

/** The same keys on both servers: a 1 MB bitmap, a 1 MB random value, a 1 MB scan target. */
async function load(server) {
  const bitmap = randomBytes(MB);
  await send(server.port, ['SET', 'bench:bytes', bitmap]);
  // SETBIT past the end builds the bitmap the way bitmap users do (a raw, growable string).
  await send(server.port, ['SETBIT', 'bench:bitmap', String(8 * MB - 1), '1']);
  await send(server.port, ['BITOP', 'OR', 'bench:bitmap', 'bench:bitmap', 'bench:bytes']);
  await send(server.port, ['SETBIT', 'bench:scan', String(8 * MB - 1), '1']);
}

/** A seeded xorshift generator: the same offsets for both servers. */
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const encode = (argv) => Buffer.from(`*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join(''));

/**
 * Send `commands` (encoded in advance, so this process spends little per
 * request) over `connections` connections with one command in flight on
 * each, as redis-benchmark -c 50 -P 1 does. Every reply here is
 * `lines` CRLF-terminated lines (SETBIT: `:0`; BITFIELD: `*1`, `:n`):
 * replies are counted by their line feeds, without parsing.
 */
async function drive(port, commands, lines, connections = 50) {
  let sent = 0;
  let done = 0;
  await new Promise((resolve, reject) => {
    for (let i = 0; i < connections; i++) {
      const sock = net.connect(port, '127.0.0.1');
      sock.setNoDelay(true);
      let feeds = 0;
      const next = () => {
        if (sent === commands.length) return sock.end();
        sock.write(commands[sent++]);
      };
      sock.on('error', reject);
      sock.on('connect', next);
      sock.on('data', (d) => {
        if (d[0] === 45) reject(new Error(d.toString('latin1'))); // '-': an error reply
        for (let at = d.indexOf(10); at >= 0; at = d.indexOf(10, at + 1)) feeds++;
        for (; feeds >= lines; feeds -= lines) {
          if (++done === commands.length) resolve();
          next();
        }
      });
    }
  });
}

/** `count` commands from `make(random)`, the same for both servers (a seeded generator). */
function commandsOf(make, count) {
  const random = rng(12345);
  return Array.from({ length: count }, () => encode(make(random)));
}

const TESTS = [
  { name: 'SETBIT random offset', requests, lines: 1, drive: (r) => ['SETBIT', 'bench:setbit', String(Math.floor(r() * 8 * MB)), '1'] },
  { name: 'BITCOUNT 1MB bitmap', requests: Math.ceil(requests / 10), command: ['BITCOUNT', 'bench:bitmap'] },
  { name: 'BITCOUNT 1MB SET value', requests: Math.ceil(requests / 10), command: ['BITCOUNT', 'bench:bytes'] },
  { name: 'BITCOUNT 1MB range', requests: Math.ceil(requests / 10), command: ['BITCOUNT', 'bench:bitmap', '3', '-5', 'BIT'] },
  { name: 'BITPOS 1 scan 1MB', requests: Math.ceil(requests / 10), command: ['BITPOS', 'bench:scan', '1'] },
  { name: 'BITFIELD INCRBY u16', requests, lines: 2, drive: (r) => ['BITFIELD', 'bench:counters', 'INCRBY', 'u16', `#${Math.floor(r() * 100000)}`, '1'] },
];

/** One run of a test: requests/s, the server's CPU µs per request, and how busy it was. */
async function once(server, test) {
  const cpu0 = cpuMicros(server.pid);
  const started = performance.now();
  const rate = test.drive ? await driven(server, test) : benchmark(server, test);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuMicros(server.pid) - cpu0;
  return { rate, cpuUs: cpu / test.requests, busy: cpu / 1e6 / seconds };
}

async function driven(server, test) {
  test.commands ??= commandsOf(test.drive, test.requests);
  const started = performance.now();
  await drive(server.port, test.commands, test.lines);
  return test.requests / ((performance.now() - started) / 1000);
}

/** redis-benchmark on the client CPU when pinned: its requests/s. */
function benchmark(server, test) {
  const argv = ['-p', String(server.port), '-q', '--csv', '-c', '50', '-n', String(test.requests), '-P', String(pipeline), ...test.command];
  const [program, a] = pinned ? ['taskset', ['-c', '1', 'redis-benchmark', ...argv]] : ['redis-benchmark', argv];
  const out = execFileSync(program, a, { encoding: 'utf8' });
  return Number(out.trim().split('\n')[1].split(',')[1].replace(/"/g, ''));
}

const redis = await startServer('redis');
const vireo = await startServer(has('calibrate') ? 'redis' : 'vireo');
if (has('calibrate')) vireo.kind = 'vireo';
try {
  await Promise.all([load(redis), load(vireo)]);
  console.log(`${rounds} rounds, -c 50 -P ${pipeline}${pinned ? ', pinned' : ''}`);
  const w = [24, 12, 12, 7, 8, 8, 14];
  console.log(row(['test', 'redis rps', 'vireo rps', 'ratio', 'target', 'cpu/req', 'cpu% r / v'], w));
  const only = opt('tests', '').toLowerCase().split(',').filter(Boolean);
  for (const test of TESTS.filter((t) => only.length === 0 || only.some((w) => t.name.toLowerCase().includes(w)))) {
    await once(vireo, test); // warm-up: V8 compiles the path
    const ratios = [];
    const cpuRatios = [];
    const best = { redis: 0, vireo: 0 };
    const busy = { redis: [], vireo: [] };
    for (let r = 0; r < rounds; r++) {
      const round = {};
      for (const s of r % 2 === 0 ? [redis, vireo] : [vireo, redis]) {
        round[s.kind] = await once(s, test);
        best[s.kind] = Math.max(best[s.kind], round[s.kind].rate);
        busy[s.kind].push(round[s.kind].busy);
      }
      ratios.push(round.vireo.rate / round.redis.rate);
      cpuRatios.push(round.vireo.cpuUs / round.redis.cpuUs);
    }
    const pct = (xs) => Math.round(median(xs) * 100);
    console.log(row([test.name, Math.round(best.redis), Math.round(best.vireo), judged(median(ratios), TARGET), TARGET, median(cpuRatios).toFixed(2), `${pct(busy.redis)} / ${pct(busy.vireo)}`], w));
  }
} finally {
  await redis.stop();
  await vireo.stop();
}
