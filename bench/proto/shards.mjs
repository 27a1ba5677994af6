// Prototype of the shard-per-thread model (issue 19, Dragonfly's), on
// Vireo's own engine and dispatch. Not the server: a measuring device, the
// counterpart of io-threads.mjs.
//
//  - N worker threads, each with its own Server (engine, keyspace, log)
//    owning a contiguous range of the 16384 slots;
//  - every thread accepts connections on one listening socket (thread 0
//    binds it, the others listen({ fd }) on the same descriptor) and parses
//    its clients' requests;
//  - a command whose key another thread owns hops there through a
//    SharedArrayBuffer ring (its RESP bytes), runs on the owner, and its
//    reply hops back; the connection's replies are written in request
//    order. Hops are published once per event-loop turn, as io-threads.mjs
//    does, so one wake-up carries a turn's worth of them.
//
// Only single-key commands are routed (GET, SET, INCR and the like: the key
// is argv[1]); commands without a key run where they arrive. Multi-key
// commands, MULTI and blocking commands would need coordination across
// owners (Dragonfly's transactions), which this prototype leaves out: they
// are what the single command log gets for free.
//
// Usage: node bench/proto/shards.mjs --port P --threads N
// Prints "ready <tid of each thread>" once listening; on SIGUSR2 (and on
// SIGINT before it exits) each thread's CPU time, commands run, hops, and the
// round-trip time of its hops (p50/p99, ms).
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import net from 'node:net';
import { Ring, createRing } from './ring.mjs';
import { printOnSignals, threadCpu } from './threads.mjs';
import { options } from '../servers.mjs';

const RING_BYTES = 8 << 20;
const SLOTS = 16384;
/** A hop's first byte: a request to the owner, or a reply back to the origin. */
const REQUEST = 1;
const REPLY = 2;

/**
 * Split `buf` into whole RESP commands (arrays of bulk strings): calls
 * fn(argv, start, end) for each, returns the offset of the first byte of
 * an incomplete command.
 */
function parseCommands(buf, fn) {
  let pos = 0;
  for (;;) {
    const start = pos;
    if (pos >= buf.length) return pos;
    if (buf[pos] !== 42) throw new Error('prototype: only RESP arrays');
    let eol = buf.indexOf(13, pos);
    if (eol < 0 || eol + 1 >= buf.length) return start;
    const n = Number(buf.latin1Slice(pos + 1, eol));
    pos = eol + 2;
    const argv = new Array(n);
    for (let i = 0; i < n; i++) {
      if (pos >= buf.length) return start;
      eol = buf.indexOf(13, pos);
      if (eol < 0 || eol + 1 >= buf.length) return start;
      const len = Number(buf.latin1Slice(pos + 1, eol));
      pos = eol + 2;
      if (pos + len + 2 > buf.length) return start;
      argv[i] = buf.latin1Slice(pos, pos + len);
      pos += len + 2;
    }
    fn(argv, start, pos);
  }
}

if (!isMainThread) {
  const { index, threads, port, fd, rings } = workerData;
  const { pino } = await import('pino');
  const dist = new URL('../../dist/', import.meta.url);
  const { Config } = await import(new URL('src/config.js', dist).href);
  const { Server } = await import(new URL('src/server/server.js', dist).href);
  const { Client } = await import(new URL('src/server/client.js', dist).href);
  const { keySlot } = await import(new URL('src/engine/slot.js', dist).href);

  const config = new Config();
  config.setMany([['save', ''], ['appendonly', 'no']], { startup: true });
  const server = new Server(config, { logger: pino({ level: 'silent' }) });
  const owner = (slot) => Math.floor((slot * threads) / SLOTS);

  // rings[from][to]: one SPSC ring per ordered pair of threads.
  const out = rings[index].map((sab) => (sab === null ? null : new Ring(sab)));
  const inn = rings.map((row) => (row[index] === null ? null : new Ring(row[index])));

  /** A Client per connection that runs commands here: for our sockets, and for each origin thread's hops. */
  const execClients = new Map();
  function execClient(id) {
    let c = execClients.get(id);
    if (c === undefined) {
      c = new Client(server, id, null, server.arena, `127.0.0.1:${id}`, `127.0.0.1:${port}`, -1);
      execClients.set(id, c);
    }
    return c;
  }
  /** Run argv here; the reply bytes (a copy). */
  function run(c, argv) {
    c.reply.takeChunks();
    server.execute(c, argv);
    stats.commands++;
    const chunks = c.reply.takeChunks();
    return chunks === null ? Buffer.alloc(0) : Buffer.concat(chunks);
  }

  const stats = { commands: 0, hops: 0, hopMs: [] };
  const sockets = new Map();
  let nextConn = index + 1;
  /** Per connection: replies in request order, null while a hop is out. */
  const pending = new Map();
  const dirtyRings = new Set();
  let publishScheduled = false;
  function schedulePublish() {
    if (publishScheduled) return;
    publishScheduled = true;
    setImmediate(() => {
      publishScheduled = false;
      for (const r of dirtyRings) r.publish();
      dirtyRings.clear();
      server.engine.log.flush();
    });
  }

  /** Write the connection's replies that are ready, in order. */
  function flushReplies(conn) {
    const q = pending.get(conn);
    const s = sockets.get(conn);
    if (q === undefined || s === undefined) return;
    let n = 0;
    while (n < q.length && q[n].reply !== null) n++;
    if (n === 0) return;
    const ready = q.splice(0, n);
    s.write(ready.length === 1 ? ready[0].reply : Buffer.concat(ready.map((e) => e.reply)));
  }

  const header = Buffer.alloc(9);
  function hop(to, kind, conn, seq, bytes, start, end) {
    header[0] = kind;
    header.writeUInt32LE(conn, 1);
    header.writeUInt32LE(seq, 5);
    const msg = Buffer.concat([header, bytes.subarray(start, end)]);
    if (!out[to].push(index, msg)) throw new Error('prototype: ring full');
    dirtyRings.add(out[to]);
    schedulePublish();
  }

  let nextSeq = 1;
  const inflight = new Map();
  const tcp = net.createServer((socket) => {
    const conn = nextConn;
    nextConn += threads;
    socket.setNoDelay(true);
    sockets.set(conn, socket);
    pending.set(conn, []);
    let rest = null;
    socket.on('data', (chunk) => {
      const buf = rest === null ? chunk : Buffer.concat([rest, chunk]);
      const q = pending.get(conn);
      const used = parseCommands(buf, (argv, start, end) => {
        const to = argv.length > 1 && argv[0].length <= 8 ? owner(keySlot(argv[1])) : index;
        if (to === index) {
          q.push({ reply: run(execClient(conn), argv) });
        } else {
          const entry = { reply: null, sent: performance.now() };
          const seq = nextSeq++;
          inflight.set(seq, [conn, entry]);
          q.push(entry);
          stats.hops++;
          hop(to, REQUEST, conn, seq, buf, start, end);
        }
      });
      rest = used < buf.length ? Buffer.from(buf.subarray(used)) : null;
      flushReplies(conn);
    });
    socket.on('close', () => {
      sockets.delete(conn);
      pending.delete(conn);
    });
    socket.on('error', () => {});
  });

  /** A hop arriving from thread `from`. */
  function onHop(from, u8, start, len) {
    const kind = u8[start];
    const view = Buffer.from(u8.buffer, u8.byteOffset + start, len);
    const conn = view.readUInt32LE(1);
    const seq = view.readUInt32LE(5);
    if (kind === REQUEST) {
      parseCommands(view.subarray(9), (argv) => {
        const reply = run(execClient(-(from * 1_000_000 + conn)), argv);
        hop(from, REPLY, conn, seq, reply, 0, reply.length);
      });
    } else {
      const got = inflight.get(seq);
      if (got === undefined) return;
      inflight.delete(seq);
      const [c, entry] = got;
      entry.reply = Buffer.from(view.subarray(9));
      if (stats.hopMs.length < 200_000) stats.hopMs.push(performance.now() - entry.sent);
      touched.add(c);
    }
  }
  const touched = new Set();
  for (let from = 0; from < threads; from++) {
    const ring = inn[from];
    if (ring === null) continue;
    (async () => {
      for (;;) {
        const seen = ring.wakeSeen();
        ring.drain((_origin, u8, start, len) => onHop(from, u8, start, len));
        for (const c of touched) flushReplies(c);
        touched.clear();
        await ring.waitAfter(seen);
      }
    })();
  }

  tcp.listen(fd === null ? { port, host: '127.0.0.1' } : { fd }, () => {
    parentPort.postMessage({ listening: fd === null ? tcp._handle.fd : fd, tid: threadCpu().tid });
  });
  parentPort.on('message', (m) => {
    if (m !== 'stats') return;
    const sorted = [...stats.hopMs].sort((a, b) => a - b);
    const pct = (p) => (sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]);
    parentPort.postMessage({ stats: { ...threadCpu(), commands: stats.commands, hops: stats.hops, hopP50: pct(0.5), hopP99: pct(0.99) } });
  });
} else {
  const { opt } = options(process.argv.slice(2));
  const port = Number(opt('port', '6391'));
  const threads = Number(opt('threads', '2'));
  const rings = Array.from({ length: threads }, (_, from) => Array.from({ length: threads }, (_, to) => (from === to ? null : createRing(RING_BYTES))));
  const workers = [];
  const tids = [];
  let fd = null;
  for (let i = 0; i < threads; i++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { index: i, threads, port, fd, rings } });
    const msg = await new Promise((resolve) => w.once('message', resolve));
    fd = msg.listening;
    tids.push(msg.tid);
    workers.push(w);
  }
  printOnSignals('stats', async () => {
    const rows = [];
    for (const w of workers) {
      w.postMessage('stats');
      rows.push((await new Promise((resolve) => w.once('message', resolve))).stats);
    }
    return rows;
  });
  console.log(`ready ${tids.join(' ')}`);
}
