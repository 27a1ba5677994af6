/**
 * io-threads 4: many connections pipelining through the I/O threads each
 * get exactly their own replies, in order; the data equals what a
 * single-threaded server folds from the same command log; kill -9 under
 * appendfsync always loses no acknowledged write; and what goes through a
 * connection's output (big replies, Pub/Sub, blocking, protocol errors,
 * output limits, CLIENT KILL) works as on the main thread.
 */

import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import net from 'node:net';
import { useCleanups, js } from './helpers/cleanups.js';
import { RespClient, toJs, type Reply } from './helpers/resp.js';
import { startVireoProcess, tempDir } from './helpers/servers.js';
import { readInfo } from './helpers/info.js';
import { mulberry32 } from './helpers/random.js';

const THREADS = ['--io-threads', '4', '--enable-debug-command', 'yes', '--save', ''];
const ALWAYS = [...THREADS, '--appendonly', 'yes', '--appendfsync', 'always'];

const { track, client } = useCleanups();

/**
 * One connection's commands over its own keys, every type, with the reply
 * each must get: a reply that went to another connection, or out of order,
 * does not match.
 */
class ClientModel {
  private seq = 0;
  private counter = 0;
  private list: string[] = [];
  private str: string | null = null;
  private members = 0;
  private fields = 0;
  private zmembers = 0;
  private entries = 0;
  private appended = 0;

  constructor(
    private readonly id: number,
    private readonly random: () => number,
  ) {}

  next(): { argv: string[]; want: unknown } {
    const k = `c${this.id}`;
    const s = ++this.seq;
    switch (Math.floor(this.random() * 12)) {
      case 0:
        return { argv: ['INCR', `${k}:n`], want: ++this.counter };
      case 1:
        this.list.push(`e${s}`);
        return { argv: ['RPUSH', `${k}:l`, `e${s}`], want: this.list.length };
      case 2:
        return { argv: ['LPOP', `${k}:l`], want: this.list.shift() ?? null };
      case 3:
        this.str = `v${this.id}-${s}`;
        return { argv: ['SET', `${k}:s`, this.str], want: 'OK' };
      case 4:
        return { argv: ['GET', `${k}:s`], want: this.str };
      case 5:
        this.appended += String(s).length;
        return { argv: ['APPEND', `${k}:a`, String(s)], want: this.appended };
      case 6:
        return { argv: ['SADD', `${k}:set`, `m${s}`], want: (++this.members, 1) };
      case 7:
        return { argv: ['HSET', `${k}:h`, `f${s}`, String(s)], want: (++this.fields, 1) };
      case 8:
        return { argv: ['ZADD', `${k}:z`, String(s), `m${s}`], want: (++this.zmembers, 1) };
      case 9:
        ++this.entries;
        return { argv: ['XADD', `${k}:x`, `${s}-1`, 'f', String(s)], want: `${s}-1` };
      case 10:
        return { argv: ['ECHO', `${k}:${s}`], want: `${k}:${s}` };
      default:
        // Every connection also writes one shared key: its final value counts them all.
        return { argv: ['INCR', 'shared'], want: null };
    }
  }

  /** What its keys hold at the end. */
  async check(c: RespClient): Promise<void> {
    const k = `c${this.id}`;
    expect(Number((await js(c, 'GET', `${k}:n`)) ?? 0)).toBe(this.counter);
    expect(await js(c, 'LRANGE', `${k}:l`, '0', '-1')).toEqual(this.list);
    expect(Number(await js(c, 'SCARD', `${k}:set`))).toBe(this.members);
    expect(Number(await js(c, 'HLEN', `${k}:h`))).toBe(this.fields);
    expect(Number(await js(c, 'ZCARD', `${k}:z`))).toBe(this.zmembers);
    expect(Number(await js(c, 'XLEN', `${k}:x`))).toBe(this.entries);
  }
}

async function digest(port: number): Promise<string> {
  const c = await client(port);
  return String(await js(c, 'DEBUG', 'DIGEST'));
}

describe('io-threads 4', () => {
  it('200 pipelining connections get exactly their own replies in order; the data equals a single-threaded replay of the log', async () => {
    const dir = tempDir();
    const p = track(await startVireoProcess(ALWAYS, { dir }));
    const CLIENTS = 200;
    const BATCHES = 12;
    const PIPELINE = 16;
    const models = Array.from({ length: CLIENTS }, (_, i) => new ClientModel(i, mulberry32(1000 + i)));
    let shared = 0;
    const conns = await Promise.all(models.map(() => RespClient.connect(p.port)));
    try {
      await Promise.all(
        conns.map(async (c, i) => {
          for (let b = 0; b < BATCHES; b++) {
            const cmds = Array.from({ length: PIPELINE }, () => models[i]!.next());
            const replies = await Promise.all(cmds.map((cmd) => c.call(...cmd.argv)));
            replies.forEach((r, j) => {
              const cmd = cmds[j]!;
              if (cmd.argv[1] === 'shared') {
                expect(r.type).toBe('integer');
                shared++;
              } else expect(toJs(r), cmd.argv.join(' ')).toEqual(typeof cmd.want === 'number' ? String(cmd.want) : cmd.want);
            });
          }
        }),
      );
    } finally {
      for (const c of conns) c.close();
    }
    const c = await client(p.port);
    expect(Number(await js(c, 'GET', 'shared'))).toBe(shared);
    for (const m of models) await m.check(c);
    expect(await readInfo(c, 'server', 'io_threads_active')).toBe('1');
    expect(Number(await readInfo(c, 'stats', 'io_threaded_reads_processed'))).toBeGreaterThan(0);
    const threaded = await digest(p.port);
    // appendfsync always: every acknowledged write is in the log; kill -9 and
    // let a single-threaded server fold the same log.
    await p.kill();
    const single = track(await startVireoProcess(['--io-threads', '1', '--appendonly', 'yes', '--enable-debug-command', 'yes', '--save', ''], { dir }));
    expect(await digest(single.port)).toBe(threaded);
  }, 120_000);

  it('kill -9 under pipelined load loses no acknowledged write (appendfsync always)', async () => {
    const dir = tempDir();
    const p = track(await startVireoProcess(ALWAYS, { dir }));
    const WRITERS = 40;
    const acked = new Array<number>(WRITERS).fill(0);
    const sent = new Array<number>(WRITERS).fill(0);
    let stop = false;
    const writers = Array.from({ length: WRITERS }, async (_, w) => {
      const c = await RespClient.connect(p.port);
      try {
        while (!stop) {
          const batch: Promise<Reply>[] = [];
          for (let k = 0; k < 8; k++) batch.push(c.call('RPUSH', `q${w}`, String(++sent[w]!)));
          for (const r of await Promise.all(batch)) acked[w] = Math.max(acked[w]!, Number(r.value));
        }
      } catch {
        // the server was killed under it
      } finally {
        c.close();
      }
    });
    while (acked.reduce((a, b) => a + b, 0) < 2000) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, Math.random() * 200));
    await p.kill();
    stop = true;
    await Promise.all(writers);
    const again = track(await startVireoProcess(['--io-threads', '4', '--appendonly', 'yes', '--save', ''], { dir }));
    const c = await client(again.port);
    for (let w = 0; w < WRITERS; w++) {
      const items = (await js(c, 'LRANGE', `q${w}`, '0', '-1')) as string[];
      expect(items.length).toBeGreaterThanOrEqual(acked[w]!);
      expect(items.length).toBeLessThanOrEqual(sent[w]!);
      expect(items).toEqual(Array.from({ length: items.length }, (_, i) => String(i + 1)));
    }
  }, 120_000);

  it('big replies, blocking, Pub/Sub, MULTI, CLIENT KILL and protocol errors work through the threads', async () => {
    const p = track(await startVireoProcess(THREADS));
    const c = await client(p.port);
    // A value larger than one ring message (it crosses in pieces).
    const big = Buffer.alloc(5 * 1024 * 1024 + 7, 'abcdefghij');
    expect(await js(c, 'SET', 'big', big.toString('latin1'))).toBe('OK');
    const got = await c.call('GET', 'big');
    expect(got.type).toBe('bulk');
    expect(Buffer.from(got.value as string, 'latin1').equals(big)).toBe(true);

    // A blocked pop is woken by another connection's push.
    const waiter = await client(p.port);
    const popped = waiter.call('BLPOP', 'jobs', '5');
    await new Promise((r) => setTimeout(r, 50));
    expect(await js(c, 'RPUSH', 'jobs', 'j1')).toBe('1');
    expect(toJs(await popped)).toEqual(['jobs', 'j1']);

    // Pub/Sub: the subscriber gets the message on its own connection.
    const sub = await client(p.port);
    expect(toJs(await sub.call('SUBSCRIBE', 'ch'))).toEqual(['subscribe', 'ch', '1']);
    expect(await js(c, 'PUBLISH', 'ch', 'hello')).toBe('1');
    expect(toJs((await sub.read()).reply)).toEqual(['message', 'ch', 'hello']);

    // MULTI/WATCH: a watched key changed by another connection aborts EXEC.
    expect(await js(c, 'WATCH', 'w')).toBe('OK');
    const other = await client(p.port);
    expect(await js(other, 'SET', 'w', '1')).toBe('OK');
    expect(await js(c, 'MULTI')).toBe('OK');
    expect(await js(c, 'INCR', 'w')).toBe('QUEUED');
    expect(await js(c, 'EXEC')).toBe(null);

    // A protocol error closes that connection only.
    const bad = await client(p.port);
    bad.writeRaw('*1\r\n$x\r\n');
    const err = await bad.read();
    expect(err.reply.type).toBe('error');
    expect(String(err.reply.value)).toMatch(/^ERR Protocol error/);
    await bad.waitClosed();
    expect(await js(c, 'PING')).toBe('PONG');

    // CLIENT KILL closes the connection its thread holds.
    const victim = await client(p.port);
    const id = await js(victim, 'CLIENT', 'ID');
    expect(await js(c, 'CLIENT', 'KILL', 'ID', String(id))).toBe('1');
    await victim.waitClosed();
  }, 60_000);

  it('a subscriber that does not read is closed at its output limit', async () => {
    const p = track(await startVireoProcess([...THREADS, '--client-output-buffer-limit', 'pubsub 1mb 0 0']));
    const c = await client(p.port);
    // A raw socket that subscribes, then stops reading.
    const s = net.connect({ port: p.port, host: '127.0.0.1' });
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write('SUBSCRIBE flood\r\n');
    await new Promise((r) => setTimeout(r, 100));
    s.pause();
    const payload = 'x'.repeat(64 * 1024);
    const dropped = async () => Number(await readInfo(c, 'stats', 'client_output_buffer_limit_disconnections')) >= 1;
    // The kernel's socket buffers take a few MB first; then the output waits in the I/O thread.
    for (let i = 0; i < 1000 && !(await dropped()); i++) await js(c, 'PUBLISH', 'flood', payload);
    expect(await dropped()).toBe(true);
    expect(String(await js(c, 'CLIENT', 'LIST'))).not.toMatch(/sub=1/);
    s.destroy();
  }, 60_000);

  it('reads ahead the keys of many one-command connections together (INFO io_threaded_total_prefetch_*), each still getting its own reply', async () => {
    const p = track(await startVireoProcess(THREADS));
    const c = await client(p.port);
    // Enough keys for reading ahead to be worth it (a few thousand stay in the CPU's caches anyway).
    await js(c, 'DEBUG', 'POPULATE', '10000');
    const conns = await Promise.all(Array.from({ length: 40 }, () => RespClient.connect(p.port)));
    const rounds = async (from: number): Promise<void> => {
      for (let round = from; round < from + 30; round++) {
        await Promise.all(
          conns.map(async (cc, i) => {
            const k = (round * 97 + i * 251) % 10000;
            expect(toJs(await cc.call('GET', `key:${k}`))).toBe(`value:${k}`);
          }),
        );
      }
    };
    const counters = async (): Promise<[number, number]> => [
      Number(await readInfo(c, 'stats', 'io_threaded_total_prefetch_batches')),
      Number(await readInfo(c, 'stats', 'io_threaded_total_prefetch_entries')),
    ];
    try {
      await rounds(0);
      const [batches, entries] = await counters();
      expect(batches).toBeGreaterThan(0);
      // A batch is two keys or more (one alone has no miss to overlap with), at most prefetch-batch-max-size.
      expect(entries).toBeGreaterThanOrEqual(2 * batches);
      expect(entries).toBeLessThanOrEqual(16 * batches);
      // prefetch-batch-max-size 0 turns reading ahead off, as for pipelines.
      expect(await js(c, 'CONFIG', 'SET', 'prefetch-batch-max-size', '0')).toBe('OK');
      await rounds(30);
      expect(await counters()).toEqual([batches, entries]);
    } finally {
      for (const cc of conns) cc.close();
    }
  }, 60_000);

  it.runIf(process.platform === 'linux')('names its I/O threads io_thd_1..N-1, as Redis does, for top -H and ps -L', async () => {
    const p = track(await startVireoProcess(THREADS));
    const pid = p.proc.pid!;
    const names = fs.readdirSync(`/proc/${pid}/task`).map((tid) => fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim());
    expect(names.filter((n) => n.startsWith('io_thd_')).sort()).toEqual(['io_thd_1', 'io_thd_2', 'io_thd_3']);
    // The process (its main thread) keeps its name.
    expect(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim()).toBe('node');
  });
});
