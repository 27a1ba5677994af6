#!/usr/bin/env node
// What per-slot stats (cluster-slot-stats-enabled) and hot-key sampling
// (vireo-hotkeys-sample-rate) cost: redis-server, Vireo with both off, and
// Vireo with each on, benchmarked side by side (alternating, several
// rounds, median of the per-round ratios to Vireo with both off).
//
// Usage: node bench/observe.mjs [--tests set,get] [--rounds 5] [--requests 100000] [--pin]
import { benchOnce, median, options, requireTools, row, startServer } from './servers.mjs';

const { opt } = options(process.argv.slice(2));
const tests = opt('tests', 'set,get,mset').split(',');
const rounds = Number(opt('rounds', '5'));
const requests = Number(opt('requests', '100000'));

requireTools(['redis-server', 'redis-benchmark']);

const variants = [
  ['redis', 'redis', []],
  ['vireo (both off)', 'vireo', []],
  ['vireo slot-stats', 'vireo', ['--cluster-slot-stats-enabled', 'yes']],
  ['vireo hotkeys 1/100', 'vireo', ['--vireo-hotkeys-sample-rate', '100']],
  ['vireo hotkeys 1/1', 'vireo', ['--vireo-hotkeys-sample-rate', '1']],
];
const servers = [];
for (const [name, kind, extra] of variants) servers.push({ name, server: await startServer(kind, extra) });
const widths = [6, 3, 20, 10, 12];
console.log(row(['test', 'P', 'server', 'req/s', 'vs off'], widths));
try {
  for (const pipeline of [1, 16]) {
    for (const test of tests) {
      for (const { server } of servers) benchOnce(server, test, pipeline, Math.ceil(requests / 5));
      const rps = new Map(servers.map((s) => [s.name, []]));
      const ratios = new Map(servers.map((s) => [s.name, []]));
      for (let r = 0; r < rounds; r++) {
        const order = r % 2 === 0 ? servers : [...servers].reverse();
        const thisRound = new Map();
        for (const { name, server } of order) thisRound.set(name, benchOnce(server, test, pipeline, requests)[0].rps);
        const off = thisRound.get('vireo (both off)');
        for (const [name, v] of thisRound) {
          rps.get(name).push(v);
          ratios.get(name).push(v / off);
        }
      }
      for (const { name } of servers) {
        console.log(row([test, pipeline, name, Math.round(median(rps.get(name))), median(ratios.get(name)).toFixed(3)], widths));
      }
    }
  }
} finally {
  for (const { server } of servers) await server.stop();
}
