// RSS given back: the idle reclaim's decisions on figures built for them,
// and a server (a child process, with the production node flags) that is
// loaded with 1M keys and then emptied by FLUSHALL: once quiet it holds
// about what the keys need, and after the FLUSHALL about what it held empty.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FILE_PAGES_EVERY_MS, IdleReclaim, QUIET_MS, YOUNG_QUIET_MS, type HeapFigures } from '../src/server/idle-reclaim.js';
import { startVireoProcess, type ProcessHandle } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';
import { infoNumber } from './helpers/info.js';
import { serverNodeFlags } from '../scripts/node-flags.mjs';

const MB = 1024 * 1024;
const PERIOD = 100;

/** An IdleReclaim over fake heap figures and collections, driven tick by tick. */
function rig(start: Partial<HeapFigures> = {}) {
  const stats = { commandsProcessed: 0, netInputBytes: 0 };
  const heap: HeapFigures = { held: 40 * MB, young: 2 * MB, used: 30 * MB, ...start };
  const ran: string[] = [];
  let paused = false;
  let overhead = 1.1;
  const r = {
    stats,
    heap,
    ran,
    /** dropFilePages calls (kept out of `ran`, the collections). */
    fileDrops: 0,
    /** What a full collection leaves. */
    afterMajor: {} as Partial<HeapFigures>,
    pause: (on: boolean) => (paused = on),
    overhead: (ratio: number) => (overhead = ratio),
    reclaim: null as unknown as IdleReclaim,
    /** Cron ticks for `ms`, `commandsPerTick` commands arriving before each. */
    run(ms: number, commandsPerTick = 0) {
      for (let t = 0; t < ms; t += PERIOD) {
        stats.commandsProcessed += commandsPerTick;
        now += PERIOD;
        r.reclaim.tick(now, PERIOD);
      }
    },
    /** One tick that comes `ms` late: a long command held the event loop. */
    late(ms: number) {
      now += ms;
      r.reclaim.tick(now, PERIOD);
    },
  };
  let now = 0;
  r.reclaim = new IdleReclaim(
    { stats, reclaimPaused: () => paused, paused: () => {}, overheadRatio: () => overhead, compactIndexes: () => 0 },
    0,
    () => ({ ...heap }),
    {
      major: () => {
        ran.push('major');
        Object.assign(heap, r.afterMajor);
      },
      minor: () => ran.push('minor'),
      trim: () => ran.push('trim'),
      dropFilePages: () => r.fileDrops++,
    },
  );
  return r;
}

describe('idle reclaim decisions', () => {
  it('collects nothing while commands keep coming, however much the heap grew', () => {
    const r = rig();
    r.heap.held = 400 * MB;
    r.heap.young = 64 * MB;
    r.run(60_000, 5); // 50 commands/s
    expect(r.ran).toEqual([]);
  });

  it('once quiet: a full collection for the grown heap, then a scavenge, a second full collection, a malloc trim and the file pages dropped, the collections once per quiet spell', () => {
    const r = rig();
    r.run(2000, 5);
    // A bulk load: the heap holds far more than after the last collection, the young generation is at its maximum.
    r.heap.held = 400 * MB;
    r.heap.young = 64 * MB;
    r.heap.used = 380 * MB;
    // What the collection leaves: 100 MB live.
    r.afterMajor = { held: 120 * MB, used: 100 * MB };
    r.run(QUIET_MS - PERIOD);
    expect(r.ran).toEqual([]);
    r.run(PERIOD);
    expect(r.ran).toEqual(['major']);
    r.run(YOUNG_QUIET_MS - PERIOD);
    expect(r.ran).toEqual(['major']);
    r.run(PERIOD);
    expect(r.ran).toEqual(['major', 'minor']);
    r.run(PERIOD);
    expect(r.ran).toEqual(['major', 'minor', 'major', 'trim']);
    expect([r.reclaim.collections, r.reclaim.scavenges, r.fileDrops]).toEqual([2, 1, 1]);
    r.heap.young = 1 * MB;
    // The file pages (what a monitoring poll maps back) again every FILE_PAGES_EVERY_MS; no collection.
    r.run(FILE_PAGES_EVERY_MS - PERIOD);
    expect(r.fileDrops).toBe(1);
    r.run(PERIOD);
    expect(r.fileDrops).toBe(2);
    r.run(5 * FILE_PAGES_EVERY_MS);
    expect(r.ran).toHaveLength(4);
    expect(r.fileDrops).toBe(7);
    // Traffic, then quiet again with nothing grown: no collection; the code the traffic ran mapped back, dropped at once.
    r.run(1000, 5);
    r.run(QUIET_MS - PERIOD);
    expect(r.fileDrops).toBe(7);
    r.run(2000);
    expect(r.ran).toHaveLength(4);
    expect(r.fileDrops).toBe(8);
  });

  it('a young generation left large is shrunk by a scavenge alone; live growth under the slack is not collected', () => {
    const r = rig();
    r.heap.held += 4 * MB;
    r.heap.young = 64 * MB;
    r.run(QUIET_MS + YOUNG_QUIET_MS);
    expect(r.ran).toEqual(['minor']);
  });

  it('collects when the RSS is high against used_memory though the heap did not grow (pages V8 keeps after its own collection)', () => {
    const r = rig();
    r.overhead(1.8);
    r.run(QUIET_MS);
    expect(r.ran).toEqual(['major']);
    r.run(60_000);
    expect(r.ran).toEqual(['major']);
    r.overhead(1.2);
    r.run(1000, 5);
    r.run(60_000);
    expect(r.ran).toEqual(['major']);
  });

  it('a full collection that freed little is not followed by a second one', () => {
    const r = rig();
    r.heap.held = 200 * MB;
    r.heap.used = 150 * MB;
    r.afterMajor = { held: 190 * MB, used: 145 * MB };
    r.run(QUIET_MS);
    expect(r.ran).toEqual(['major']);
    r.run(YOUNG_QUIET_MS);
    expect(r.ran).toEqual(['major']);
  });

  it('a tick held up by a long command starts the quiet spell again', () => {
    const r = rig();
    r.heap.held = 400 * MB;
    r.run(QUIET_MS - 1000);
    r.late(3000);
    r.run(QUIET_MS - PERIOD);
    expect(r.ran).toEqual([]);
    r.run(PERIOD);
    expect(r.ran).toEqual(['major']);
  });

  it('waits while the server must not pause (loading)', () => {
    const r = rig();
    r.heap.held = 400 * MB;
    r.pause(true);
    r.run(QUIET_MS * 3);
    expect(r.ran).toEqual([]);
    r.pause(false);
    r.run(PERIOD);
    expect(r.ran).toEqual(['major']);
  });
});

/** A server process (the production node flags) started before the suite's tests and stopped after them, with a client. */
function serverForSuite(): { server: () => ProcessHandle; client: () => RespClient } {
  let server: ProcessHandle;
  let c: RespClient;
  beforeAll(async () => {
    server = await startVireoProcess(['--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes'], { nodeFlags: serverNodeFlags() });
    c = await RespClient.connect(server.port);
  });
  afterAll(async () => {
    c?.close();
    await server?.stop();
  });
  return { server: () => server, client: () => c };
}

describe('RSS after a bulk load and after FLUSHALL (a server process)', () => {
  const { server, client } = serverForSuite();

  const memory = async () => {
    const info = await client().call('INFO', 'memory');
    return {
      rss: infoNumber(info, 'used_memory_rss'),
      used: infoNumber(info, 'used_memory'),
      collections: infoNumber(info, 'vireo_idle_collections'),
    };
  };

  /** Poll (one INFO a second: the server stays quiet) until `done`, or give up after `limit` polls. */
  async function waitFor(done: (m: Awaited<ReturnType<typeof memory>>) => boolean, limit = 60) {
    let m = await memory();
    for (let i = 0; i < limit && !done(m); i++) {
      await new Promise((r) => setTimeout(r, 1000));
      m = await memory();
    }
    return m;
  }

  it('gives the load\'s garbage and young generation back once quiet, and falls back near the empty server\'s RSS after FLUSHALL', async () => {
    expect(toJs(await client().call('MEMORY', 'PURGE'))).toBe('OK');
    const empty = await memory();
    expect(toJs(await client().call('DEBUG', 'POPULATE', '1000000'))).toBe('OK');
    // Once quiet, the idle collections: what the keys added to RSS comes within twice what they
    // added to used_memory (about 1.3x; without them 3-6x, the load's garbage and a 64 MB young generation).
    const near = (m: Awaited<ReturnType<typeof memory>>) => m.rss - empty.rss < 2 * (m.used - empty.used);
    const loaded = await waitFor((m) => m.collections >= 1 && near(m));
    expect(loaded.collections).toBeGreaterThanOrEqual(1);
    expect(loaded.rss - empty.rss).toBeLessThan(2 * (loaded.used - empty.used));
    expect(toJs(await client().call('FLUSHALL'))).toBe('OK');
    const flushed = await memory();
    // About the empty server's RSS (without trimming malloc and shrinking the young generation: ~1.9x at 1M keys, ~3x at 5M).
    expect(flushed.rss).toBeLessThan(1.4 * empty.rss);
    expect(flushed.used).toBeLessThan(empty.used + 8 * MB);
  }, 120_000);
});

describe('MEMORY PURGE right after a bulk load (a server process)', () => {
  const { client } = serverForSuite();

  /** The young generation's committed bytes, from MEMORY MALLOC-STATS' V8 space table. */
  const youngCommitted = async (): Promise<number> => {
    const stats = String(toJs(await client().call('MEMORY', 'MALLOC-STATS')));
    return Number(/^new_space\s+(\d+)/m.exec(stats)![1]);
  };

  it('gives the young generation the load grew back at once, not only the garbage', async () => {
    expect(toJs(await client().call('DEBUG', 'POPULATE', '300000'))).toBe('OK');
    // The load grows the young generation to its maximum (2 x 16 MB with the server's flags); plain
    // full collections keep it: 32 MB committed and resident after PURGE before V8's memory-reducing one.
    const grown = await youngCommitted();
    expect(grown).toBeGreaterThanOrEqual(8 * MB);
    const rssBefore = infoNumber(await client().call('INFO', 'memory'), 'used_memory_rss');
    expect(toJs(await client().call('MEMORY', 'PURGE'))).toBe('OK');
    expect(await youngCommitted()).toBeLessThanOrEqual(2 * MB);
    const rssAfter = infoNumber(await client().call('INFO', 'memory'), 'used_memory_rss');
    expect(rssBefore - rssAfter).toBeGreaterThan(grown / 4);
  });
});

describe('the node binary\'s file pages (a server process)', () => {
  const { server, client } = serverForSuite();

  /** RSS of the node binary's mappings in a process (file pages: its code and read-only data). */
  const binaryRss = (pid: number): number => {
    const binary = fs.realpathSync(process.execPath);
    let bytes = 0;
    let inBinary = false;
    for (const line of fs.readFileSync(`/proc/${pid}/smaps`, 'utf8').split('\n')) {
      const header = /^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
      if (header !== null) inBinary = header[1] === binary;
      else if (inBinary && line.startsWith('Rss:')) bytes += Number(/(\d+)/.exec(line)![1]) * 1024;
    }
    return bytes;
  };

  it.runIf(process.platform === 'linux')('keeps the node binary\'s startup pages out of its RSS, and drops those traffic mapped back at MEMORY PURGE', async () => {
    // A Node process that does not drop them, for scale: ~40 MB of a ~95 MB binary.
    const plain = spawn(process.execPath, ['-e', 'process.stdout.write("up"); setTimeout(() => {}, 60000)']);
    try {
      await new Promise((r) => plain.stdout.once('data', r));
      const reference = binaryRss(plain.pid!);
      const pid = server().proc.pid!;
      const atStart = binaryRss(pid);
      for (const args of [['INFO'], ['CONFIG', 'GET', '*'], ['DEBUG', 'POPULATE', '20000'], ['KEYS', 'key:1*'], ['CLIENT', 'LIST'], ['FLUSHALL']]) await client().call(...args);
      const afterTraffic = binaryRss(pid);
      expect(toJs(await client().call('MEMORY', 'PURGE'))).toBe('OK');
      const afterPurge = binaryRss(pid);
      // At start about half the plain process' (what startup ran after the drop maps back), after PURGE about a third of what the traffic mapped.
      expect(atStart).toBeLessThan(0.75 * reference);
      expect(afterPurge).toBeLessThan(0.6 * afterTraffic);
    } finally {
      plain.kill('SIGKILL');
    }
  });
});
