#!/usr/bin/env node
// MIGRATE side by side with redis-server: the source is Vireo or
// redis-server, the target is one redis-server for both, emptied between
// runs. Keys from DEBUG POPULATE with 100-byte values move
//  - in batches of 10 (`MIGRATE host port "" 0 5000 KEYS k1 .. k10`, one at
//    a time, as `redis-cli --cluster reshard` moves them), and
//  - in one MIGRATE of every key (KEYS with --keys arguments).
// Reported: the time to move them all and the source's CPU time, median of
// the rounds (alternating which source goes first), ratio vireo/redis. The
// target's own work (RESTORE) is in both times alike.
//
// Usage: npm run bench -- --suite migrate [--keys 100000] [--rounds 3] [--pin]
import net from 'node:net';
import { cpuMicros, median, options, pinSelf, requireTools, row, startServer } from './servers.mjs';

const { opt } = options(process.argv.slice(2));
const keys = Number(opt('keys', '100000'));
const rounds = Number(opt('rounds', '3'));
const BATCH = 10;
requireTools(['redis-server', 'redis-cli']);
pinSelf();

/** RESP for one command. */
function encode(args) {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/** A connection that sends one command at a time and waits for its one-line reply. */
async function connect(port) {
  const sock = net.connect(port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  let pending = null;
  let buffered = '';
  sock.on('data', (d) => {
    buffered += d.toString('latin1');
    const end = buffered.indexOf('\r\n');
    if (end >= 0 && pending !== null) {
      const line = buffered.slice(0, end);
      buffered = buffered.slice(end + 2);
      const done = pending;
      pending = null;
      done(line);
    }
  });
  return {
    call: (args) =>
      new Promise((resolve) => {
        pending = resolve;
        sock.write(encode(args));
      }),
    close: () => sock.destroy(),
  };
}

const names = Array.from({ length: keys }, (_, i) => `key:${i}`);

/** Move every key from `source` to `target` with MIGRATE commands of `batch` keys: ms and source CPU ms. */
async function move(source, target, batch) {
  target.cli('FLUSHALL');
  source.cli('FLUSHALL');
  source.cli('DEBUG', 'POPULATE', String(keys), 'key', '100');
  const c = await connect(source.port);
  const cpu0 = cpuMicros(source.pid);
  const t0 = performance.now();
  for (let i = 0; i < keys; i += batch) {
    const reply = await c.call(['MIGRATE', '127.0.0.1', String(target.port), '', '0', '5000', 'KEYS', ...names.slice(i, i + batch)]);
    if (reply !== '+OK') throw new Error(`${source.kind} MIGRATE: ${reply}`);
  }
  const ms = performance.now() - t0;
  const cpuMs = (cpuMicros(source.pid) - cpu0) / 1000;
  c.close();
  if (Number(target.cli('DBSIZE')) !== keys) throw new Error(`${source.kind}: the target holds ${target.cli('DBSIZE')} keys, expected ${keys}`);
  return { ms, cpuMs };
}

const target = await startServer('redis');
const sources = { redis: await startServer('redis'), vireo: await startServer('vireo') };
const results = { redis: { 10: [], all: [] }, vireo: { 10: [], all: [] } };
try {
  for (let r = 0; r < rounds; r++) {
    const order = r % 2 === 0 ? ['redis', 'vireo'] : ['vireo', 'redis'];
    for (const kind of order) {
      results[kind][10].push(await move(sources[kind], target, BATCH));
      results[kind].all.push(await move(sources[kind], target, keys));
    }
  }
} finally {
  await Promise.all([target.stop(), sources.redis.stop(), sources.vireo.stop()]);
}

const w = [34, 12, 12, 8, 14];
console.log(row([`MIGRATE of ${keys} keys (100 B values)`, 'redis ms', 'vireo ms', 'ratio', 'source cpu'], w));
for (const [label, k] of [[`batches of ${BATCH} keys`, 10], ['one MIGRATE of all keys', 'all']]) {
  const rm = median(results.redis[k].map((x) => x.ms));
  const vm = median(results.vireo[k].map((x) => x.ms));
  const rc = median(results.redis[k].map((x) => x.cpuMs));
  const vc = median(results.vireo[k].map((x) => x.cpuMs));
  console.log(row([label, rm.toFixed(0), vm.toFixed(0), (vm / rm).toFixed(2), `${(vc / rc).toFixed(2)}x`], w));
}
console.log('(time to move every key, median of the rounds; source cpu: the source server\'s CPU time, vireo/redis)');
