#!/usr/bin/env node
// Throughput and memory of Vireo beside redis-server, in the same run.
//
// Starts redis-server and the built Vireo on spare loopback ports, runs
// redis-benchmark against each in turn (alternating, several rounds, best
// round kept) at -P 1 and -P 16, then loads keys with DEBUG POPULATE into
// each and compares memory per key. Prints ratios: on a shared machine
// absolute numbers mean little, ratios measured side by side do.
//
// Usage: npm run bench [-- --quick] [-- --suite strings|collections]
//        [-- --tests set,get] [-- --rounds 3] [-- --no-bench] [-- --no-memory]
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { loadDataset, DATASETS } from './datasets.mjs';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const quick = args.includes('--quick');
const suite = opt('suite', 'strings');
const SUITES = {
  strings: 'ping_inline,ping_mbulk,set,get,incr,mset',
  collections: 'lpush,rpush,lpop,rpop,sadd,spop,hset,zadd,zpopmin,lrange_100,lrange_600',
};
const tests = opt('tests', SUITES[suite] ?? suite).split(',');
const rounds = Number(opt('rounds', quick ? '1' : '3'));
const requests = Number(opt('requests', quick ? '50000' : '200000'));
const targets = { 1: 0.9, 16: 0.8 };

for (const tool of ['redis-server', 'redis-benchmark']) {
  if (spawnSync('which', [tool]).status !== 0) {
    console.error(`${tool} not found: apt-get install -y redis-server redis-tools`);
    process.exit(1);
  }
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function waitUp(port) {
  for (let i = 0; i < 200; i++) {
    try {
      const out = execFileSync('redis-cli', ['-p', String(port), 'PING'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      if (out.includes('PONG')) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`server on ${port} did not start`);
}

async function startServer(kind, extra = []) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `bench-${kind}-`));
  const common = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--enable-debug-command', 'yes', ...extra];
  const proc =
    kind === 'redis'
      ? spawn('redis-server', common, { stdio: 'ignore' })
      : spawn(process.execPath, ['--expose-gc', path.join(root, 'dist', 'src', 'main.js'), ...common, '--loglevel', 'warning'], { stdio: 'ignore' });
  await waitUp(port);
  return {
    kind,
    port,
    cli: (...a) => execFileSync('redis-cli', ['-p', String(port), ...a], { encoding: 'utf8' }).trim(),
    stop: () => new Promise((r) => {
      proc.once('exit', r);
      process.kill(proc.pid, 'SIGKILL');
    }),
  };
}

function benchOnce(server, test, pipeline) {
  const out = execFileSync(
    'redis-benchmark',
    ['-p', String(server.port), '-c', '50', '-n', String(pipeline > 1 ? requests * 4 : requests), '-P', String(pipeline), '-t', test, '-q', '--csv'],
    { encoding: 'utf8' },
  );
  const lines = out.trim().split('\n').slice(1);
  return lines.map((l) => {
    const cols = l.split(',').map((c) => c.replace(/"/g, ''));
    return { name: cols[0], rps: Number(cols[1]) };
  });
}

function row(cols, widths) {
  return cols.map((c, i) => String(c).padStart(widths[i])).join('  ');
}

const redis = await startServer('redis');
const vireo = await startServer('vireo');
const results = [];
try {
  for (const pipeline of args.includes('--no-bench') ? [] : [1, 16]) {
    for (const test of tests) {
      const best = { redis: new Map(), vireo: new Map() };
      for (let r = 0; r < rounds; r++) {
        // Alternate which server goes first so drift in machine load hits both.
        const order = r % 2 === 0 ? [redis, vireo] : [vireo, redis];
        for (const s of order) {
          for (const { name, rps } of benchOnce(s, test, pipeline)) {
            best[s.kind].set(name, Math.max(best[s.kind].get(name) ?? 0, rps));
          }
          s.cli('FLUSHALL');
        }
      }
      for (const [name, rps] of best.redis) {
        const v = best.vireo.get(name) ?? 0;
        results.push({ name, pipeline, redis: rps, vireo: v, ratio: v / rps });
      }
    }
  }
  const w = [16, 3, 12, 12, 7, 8];
  if (results.length > 0) console.log(row(['test', 'P', 'redis rps', 'vireo rps', 'ratio', 'target'], w));
  for (const r of results) {
    const target = targets[r.pipeline];
    const mark = r.ratio >= target ? '' : ' *';
    console.log(row([r.name, r.pipeline, r.redis.toFixed(0), r.vireo.toFixed(0), r.ratio.toFixed(2) + mark, `>=${target}`], w));
  }
  if (results.length > 0) console.log('(* below target)\n');

  if (!args.includes('--no-memory')) {
    const usedMemory = (s) => Number(/used_memory:(\d+)/.exec(s.cli('INFO', 'memory'))[1]);
    const rss = (s) => Number(/used_memory_rss:(\d+)/.exec(s.cli('INFO', 'memory'))[1]);
    const datasets = suite === 'collections' ? ['hashes', 'sets', 'zsets'] : ['strings'];
    const w2 = [44, 12, 12, 7, 9];
    console.log(row(['memory (used_memory growth, after a full GC)', 'redis', 'vireo', 'ratio', 'target'], w2));
    for (const name of datasets) {
      const ds = DATASETS[name](quick);
      const mem = {};
      for (const s of [redis, vireo]) {
        s.cli('FLUSHALL');
        s.cli('MEMORY', 'PURGE');
        const before = usedMemory(s);
        const rssBefore = rss(s);
        if (ds.populate) s.cli('DEBUG', 'POPULATE', String(ds.populate));
        else await loadDataset(s.port, ds.commands());
        s.cli('MEMORY', 'PURGE');
        mem[s.kind] = { per: (usedMemory(s) - before) / ds.units, rssPer: (rss(s) - rssBefore) / ds.units };
      }
      const ratio = mem.vireo.per / mem.redis.per;
      console.log(row([`${ds.label} (B/${ds.unit})`, mem.redis.per.toFixed(1), mem.vireo.per.toFixed(1), ratio.toFixed(2) + (ratio <= 1.5 ? '' : ' *'), '<=1.5'], w2));
      console.log(row([`  rss growth (B/${ds.unit})`, mem.redis.rssPer.toFixed(1), mem.vireo.rssPer.toFixed(1), '', ''], w2));
    }
  }
} finally {
  await redis.stop();
  await vireo.stop();
}
