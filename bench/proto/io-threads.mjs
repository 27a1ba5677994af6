// Prototype of the I/O-thread model (issue 19, DESIGN.md §8), on Vireo's
// own parser, dispatch and engine. Not the server: a measuring device.
//
//  - N worker threads accept on one listening socket (worker 0 binds it,
//    the others listen({ fd }) on the same descriptor), read, and copy each
//    read's bytes into their SharedArrayBuffer ring to the main thread;
//  - the main thread feeds those bytes to one Client per connection (the
//    real parser, dispatch, engine and command log: one order), and the
//    replies its end-of-turn write produces go back in the worker's
//    return ring; the worker writes them to the socket.
//
// Requests are not parsed on the workers: argv strings cannot cross
// threads, so the main thread would make them again anyway.
//
// Usage: node bench/proto/io-threads.mjs --port P --threads N
// Prints "ready <tid of each worker>" once listening, and each thread's CPU
// time (/proc/thread-self) on SIGUSR2, and on SIGINT before it exits.
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import net from 'node:net';
import { Ring, createRing } from './ring.mjs';
import { printOnSignals, threadCpu } from './threads.mjs';
import { options } from '../servers.mjs';

const RING_BYTES = 8 << 20;


if (!isMainThread) {
  // ---- I/O thread ---------------------------------------------------------
  const { index, threads, port, fd, toMain, fromMain } = workerData;
  const up = new Ring(toMain);
  const down = new Ring(fromMain);
  const sockets = new Map();
  let nextId = index + 1;
  let publishScheduled = false;
  /** Bytes waiting for ring space (the main thread is behind). */
  const backlog = [];

  const publish = () => {
    publishScheduled = false;
    while (backlog.length > 0) {
      const [conn, buf] = backlog[0];
      if (!(buf === null ? up.pushClosed(conn) : up.push(conn, buf))) break;
      backlog.shift();
    }
    up.publish();
    if (backlog.length > 0) setTimeout(publish, 0);
  };
  const send = (conn, buf) => {
    if (backlog.length > 0 || !(buf === null ? up.pushClosed(conn) : up.push(conn, buf))) backlog.push([conn, buf]);
    // One notify per event-loop turn: the reads of one poll cross together.
    if (!publishScheduled) {
      publishScheduled = true;
      setImmediate(publish);
    }
  };

  const server = net.createServer((socket) => {
    const conn = nextId;
    nextId += threads;
    socket.setNoDelay(true);
    sockets.set(conn, socket);
    socket.on('data', (buf) => send(conn, buf));
    socket.on('close', () => {
      sockets.delete(conn);
      send(conn, null);
    });
    socket.on('error', () => {});
  });
  server.listen(fd === null ? { port, host: '127.0.0.1' } : { fd }, () => {
    parentPort.postMessage({ listening: fd === null ? server._handle.fd : fd, tid: threadCpu().tid });
  });

  // Replies: drain the return ring, one write per connection per batch.
  const replies = new Map();
  const onReply = (conn, u8, start, len) => {
    if (u8 === null) return;
    const chunk = Buffer.from(u8.subarray(start, start + len));
    const list = replies.get(conn);
    if (list === undefined) replies.set(conn, [chunk]);
    else list.push(chunk);
  };
  const drainReplies = async () => {
    for (;;) {
      const seen = down.wakeSeen();
      down.drain(onReply);
      for (const [conn, chunks] of replies) {
        const s = sockets.get(conn);
        if (s !== undefined) s.write(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
      }
      replies.clear();
      await down.waitAfter(seen);
    }
  };
  drainReplies();
  parentPort.on('message', (m) => {
    if (m === 'cpu') parentPort.postMessage({ cpu: threadCpu() });
  });
} else {
  // ---- main thread: the engine ---------------------------------------------
  const { pino } = await import('pino');
  const dist = new URL('../../dist/', import.meta.url);
  const { Config } = await import(new URL('src/config.js', dist).href);
  const { Server } = await import(new URL('src/server/server.js', dist).href);
  const { Client } = await import(new URL('src/server/client.js', dist).href);

  const { opt } = options(process.argv.slice(2));
  const port = Number(opt('port', '6390'));
  const threads = Number(opt('threads', '1'));

  const config = new Config();
  config.setMany([['save', ''], ['appendonly', 'no']], { startup: true });
  const server = new Server(config, { logger: pino({ level: 'silent' }) });

  const workers = [];
  const ups = [];
  const downs = [];
  let fd = null;
  const tids = [];
  for (let i = 0; i < threads; i++) {
    const toMain = createRing(RING_BYTES);
    const fromMain = createRing(RING_BYTES);
    const w = new Worker(new URL(import.meta.url), { workerData: { index: i, threads, port, fd, toMain, fromMain } });
    const msg = await new Promise((resolve) => w.once('message', resolve));
    fd = msg.listening;
    tids.push(msg.tid);
    workers.push(w);
    ups.push(new Ring(toMain));
    downs.push(new Ring(fromMain));
  }

  // A client's socket, as Client sees it: its writes go to the worker's return ring.
  const dirty = new Set();
  const pendingOut = new Map();
  function sinkFor(worker, conn) {
    return {
      write(buf) {
        if (!downs[worker].push(conn, buf)) {
          // Ring full: keep it for the next flush (a prototype's back-pressure).
          let q = pendingOut.get(worker);
          if (q === undefined) pendingOut.set(worker, (q = []));
          q.push([conn, buf]);
        }
        dirty.add(worker);
        scheduleFlush();
        return true;
      },
      cork() {},
      uncork() {},
      writableLength: 0,
      isPaused: () => false,
      pause() {},
      resume() {},
      once() {},
      end() {},
      destroy() {},
      remoteAddress: '127.0.0.1',
    };
  }
  let flushScheduled = false;
  function scheduleFlush() {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(flushOut);
  }
  function flushOut() {
    flushScheduled = false;
    for (const [worker, q] of pendingOut) {
      while (q.length > 0 && downs[worker].push(q[0][0], q[0][1])) q.shift();
      if (q.length > 0) scheduleFlush();
    }
    for (const w of dirty) downs[w].publish();
    dirty.clear();
  }

  const clients = new Map();
  for (let i = 0; i < threads; i++) {
    const ring = ups[i];
    const onRequest = (conn, u8, start, len) => {
      let c = clients.get(conn);
      if (u8 === null) {
        if (c !== undefined) {
          clients.delete(conn);
          server.clients.delete(conn);
        }
        return;
      }
      if (c === undefined) {
        c = new Client(server, conn, sinkFor(i, conn), server.arena, `127.0.0.1:${conn}`, `127.0.0.1:${port}`, 0);
        clients.set(conn, c);
        server.clients.set(conn, c);
      }
      // A copy: the parser may keep a partial command past this call.
      c.onData(Buffer.from(u8.subarray(start, start + len)));
    };
    (async () => {
      for (;;) {
        const seen = ring.wakeSeen();
        ring.drain(onRequest);
        await ring.waitAfter(seen);
      }
    })();
  }

  printOnSignals('cpu', async () => {
    const rows = [{ thread: 'main', ...threadCpu() }];
    for (let i = 0; i < workers.length; i++) {
      workers[i].postMessage('cpu');
      const m = await new Promise((resolve) => workers[i].once('message', resolve));
      rows.push({ thread: `io${i}`, ...m.cpu });
    }
    return rows;
  });
  console.log(`ready ${tids.join(' ')}`);
}
