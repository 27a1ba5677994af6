/**
 * The canary and the memory watch. A worker thread (so the fuzzer's own
 * CPU work never delays it) pings the server every 100 ms on its own
 * connection and reads the child's VmRSS from /proc every 250 ms; it
 * reports a reply slower than the bound, a connection lost, or RSS growth
 * beyond the bound (and then kills the child at once, so a runaway
 * allocation never takes the machine's memory). The main thread also
 * watches the child for an exit.
 */

import fs from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { ChildProcess } from 'node:child_process';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const fs = require('node:fs');
const { port, pid, stallMs, rssLimitKb } = workerData;
let sentAt = 0, buf = '', maxMs = 0, maxRssKb = 0, stopped = false, reported = false;
const rssKb = () => { try { const m = /VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/' + pid + '/status', 'latin1')); return m ? Number(m[1]) : 0; } catch { return 0; } };
const sock = net.connect({ port, host: '127.0.0.1' }, () => ping());
sock.setNoDelay(true);
function ping() { if (stopped) return; sentAt = Date.now(); sock.write('PING\\r\\n'); }
sock.on('data', (d) => {
  buf += d.toString('latin1');
  while (buf.includes('\\r\\n')) {
    buf = buf.slice(buf.indexOf('\\r\\n') + 2);
    const ms = Date.now() - sentAt;
    if (ms > maxMs) maxMs = ms;
    sentAt = 0;
    reported = false;
    setTimeout(ping, 100);
  }
});
sock.on('error', () => {});
sock.on('close', () => { if (!stopped) parentPort.postMessage({ type: 'failure', what: 'the canary connection was closed' }); });
const timer = setInterval(() => {
  if (sentAt !== 0 && !reported && Date.now() - sentAt > stallMs) {
    parentPort.postMessage({ type: 'failure', what: 'canary PING unanswered for ' + (Date.now() - sentAt) + ' ms (bound ' + stallMs + ' ms)' });
    reported = true;
  }
  const kb = rssKb();
  if (kb > maxRssKb) maxRssKb = kb;
  if (kb > rssLimitKb && !stopped) {
    // Stop the child at once (it is ours): a runaway allocation must not take the machine's memory.
    try { process.kill(pid, 'SIGKILL'); } catch {}
    parentPort.postMessage({ type: 'failure', what: 'RSS ' + Math.round(kb / 1024) + ' MB passed the bound of ' + Math.round(rssLimitKb / 1024) + ' MB (the server was killed)' });
    stopped = true;
  }
  parentPort.postMessage({ type: 'stats', maxMs, maxRssKb });
}, 250);
parentPort.on('message', (m) => { if (m === 'stop') { stopped = true; clearInterval(timer); sock.destroy(); parentPort.close(); } });
`;

export function rssKbOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export class Watchdog {
  /** The first failure seen, if any. */
  failure: string | null = null;
  maxCanaryMs = 0;
  maxRssKb = 0;
  readonly startRssKb: number;
  private readonly worker: Worker;
  private readonly onExit: (code: number | null, signal: string | null) => void;

  constructor(
    private readonly proc: ChildProcess,
    port: number,
    opts: { stallMs: number; rssGrowthMb: number },
  ) {
    this.startRssKb = rssKbOf(proc.pid!);
    this.worker = new Worker(WORKER, {
      eval: true,
      workerData: { port, pid: proc.pid, stallMs: opts.stallMs, rssLimitKb: this.startRssKb + opts.rssGrowthMb * 1024 },
    });
    this.worker.on('message', (m: { type: string; what?: string; maxMs?: number; maxRssKb?: number }) => {
      if (m.type === 'failure') this.fail(m.what!);
      else {
        this.maxCanaryMs = m.maxMs!;
        this.maxRssKb = m.maxRssKb!;
      }
    });
    this.onExit = (code, signal) => this.fail(`the server exited (code ${code}, signal ${signal})`);
    proc.once('exit', this.onExit);
  }

  /** Record a failure (several may describe one event: an RSS kill is also an exit). */
  fail(what: string): void {
    this.failure = this.failure === null ? what : `${this.failure}; ${what}`;
  }

  get exited(): boolean {
    return this.proc.exitCode !== null || this.proc.signalCode !== null;
  }

  async stop(): Promise<void> {
    this.proc.off('exit', this.onExit);
    this.worker.postMessage('stop');
    await new Promise<void>((r) => {
      this.worker.once('exit', () => r());
      setTimeout(() => void this.worker.terminate().then(() => r()), 1000).unref();
    });
  }
}
