#!/usr/bin/env node
// Does entering JS once per event-loop turn, with the sockets polled from C,
// save enough over one JS callback per socket read to be worth a native I/O
// layer? Compiles native-poll.c against Node's headers, then runs
// redis-benchmark SET over 1M names (-c 50, -P 1 and -P 16, the client on
// core 1, every server on core 0) against four servers, in alternating
// rounds: the two reply floors of native-poll-server.mjs (no command run,
// one +OK per command), the real Vireo and redis-server. Prints medians of
// throughput and of the server's CPU per request.
//
// Usage: node bench/proto/run-native-poll.mjs [--rounds 3] [--requests 200000]
//        npm run bench -- --native-poll-proto
import { execFileSync, spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cpuMicros, freePort, median, options, requireTools, root, row } from '../servers.mjs';

const { opt } = options(process.argv.slice(2));
const rounds = Number(opt('rounds', '3'));
const requests = Number(opt('requests', '200000'));
requireTools(['redis-server', 'redis-benchmark', 'cc']);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'native-poll-'));
const addon = path.join(dir, 'native-poll.node');
const headers = [path.join(path.dirname(process.execPath), '..', 'include', 'node'), '/usr/include/node'].find((d) => fs.existsSync(path.join(d, 'node_api.h')));
if (headers === undefined) throw new Error("Node's headers (node_api.h, uv.h) not found next to the node binary");
execFileSync('cc', ['-O2', '-shared', '-fPIC', `-I${headers}`, '-o', addon, path.join(root, 'bench', 'proto', 'native-poll.c')], { stdio: 'inherit' });

const LAYOUTS = [
  { name: 'redis-server', args: (port) => ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir] },
  { name: 'vireo', args: (port) => [process.execPath, '--max-semi-space-size=32', path.join(root, 'dist', 'src', 'main.js'), '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'] },
  { name: 'floor: stream handle', args: (port) => [process.execPath, path.join(root, 'bench', 'proto', 'native-poll-server.mjs'), '--port', String(port), '--io', 'stream-handle'] },
  { name: 'floor: native poll', args: (port) => [process.execPath, path.join(root, 'bench', 'proto', 'native-poll-server.mjs'), '--port', String(port), '--io', 'native-poll', '--addon', addon] },
];

/** The floors answer +OK to anything (no PING): wait until the port takes a connection. */
async function waitListening(port) {
  for (let i = 0; i < 500; i++) {
    const up = await new Promise((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => resolve(true));
      c.on('error', () => resolve(false));
      c.on('connect', () => c.destroy());
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`nothing listens on ${port}`);
}

const servers = [];
try {
  for (const layout of LAYOUTS) {
    const port = await freePort();
    const proc = spawn('taskset', ['-c', '0', ...layout.args(port)], { cwd: root, stdio: 'ignore' });
    servers.push({ ...layout, port, proc });
    await waitListening(port);
  }
  const results = new Map(servers.map((s) => [s.name, { 1: [], 16: [] }]));
  const bench = (s, pipeline, n) => {
    const cpu0 = cpuMicros(s.proc.pid);
    const out = execFileSync('taskset', ['-c', '1', 'redis-benchmark', '-p', String(s.port), '-q', '--csv', '-r', '1000000', '-c', '50', '-n', String(n), '-P', String(pipeline), '-t', 'set'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const cpu = cpuMicros(s.proc.pid) - cpu0;
    const rps = Number(out.trim().split('\n')[1].split(',')[1].replace(/"/g, ''));
    return { rps, cpuUs: cpu / n };
  };
  for (const s of servers) bench(s, 16, requests);
  for (let r = 0; r < rounds; r++) {
    for (const s of r % 2 === 0 ? servers : [...servers].reverse()) {
      for (const p of [1, 16]) results.get(s.name)[p].push(bench(s, p, p === 1 ? requests / 4 : requests));
    }
  }
  const w = [24, 12, 14, 12, 14];
  console.log(row(['SET -c 50 -r 1M', 'P1 req/s', 'P1 CPU us/req', 'P16 req/s', 'P16 CPU us/req'], w));
  for (const s of servers) {
    const r = results.get(s.name);
    const m = (p, f) => median(r[p].map((x) => x[f]));
    console.log(row([s.name, m(1, 'rps').toFixed(0), m(1, 'cpuUs').toFixed(2), m(16, 'rps').toFixed(0), m(16, 'cpuUs').toFixed(2)], w));
  }
} finally {
  for (const s of servers) s.proc.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
}
