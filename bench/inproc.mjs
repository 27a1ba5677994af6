// In-process micro benchmark: feeds pipelined commands straight into a
// Client (no sockets) and reports nanoseconds per command. Isolates the
// JS cost of parse + dispatch + execute + encode from syscalls.
// Usage: node bench/inproc.mjs [command...]   (after npm run build)
//        VIREO_INPROC_CONFIG='latency-tracking=no slowlog-log-slower-than=-1' sets parameters first.
import { pino } from 'pino';
// VIREO_DIST=path/to/another/dist compares two builds.
const dist = process.env.VIREO_DIST ? new URL(`file://${process.env.VIREO_DIST.replace(/\/?$/, '/')}`) : new URL('../dist/', import.meta.url);
const { Config } = await import(new URL('src/config.js', dist).href);
const { Server } = await import(new URL('src/server/server.js', dist).href);
const { Client } = await import(new URL('src/server/client.js', dist).href);

const config = new Config();
const params = (process.env.VIREO_INPROC_CONFIG ?? '').split(' ').filter(Boolean).map((p) => p.split('='));
if (params.length > 0) config.setMany(params, { startup: true });
const server = new Server(config, { logger: pino({ level: 'silent' }) });
const sink = { write() { return true; }, cork() {}, uncork() {}, writableLength: 0, isPaused: () => false, end() {}, remoteAddress: '127.0.0.1' };
const client = new Client(server, 1, sink, server.arena, '127.0.0.1:1', '127.0.0.1:6379', 0);
server.clients.set(1, client);

function encode(argv) {
  return `*${argv.length}\r\n` + argv.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
}
const workloads = {
  ping: () => encode(['PING']),
  set: (i) => encode(['SET', `key:${String(i % 100000).padStart(12, '0')}`, 'xxx']),
  get: (i) => encode(['GET', `key:${String(i % 100000).padStart(12, '0')}`]),
  // As redis-benchmark sends them: one key, set and read again and again.
  set1: () => encode(['SET', 'key:__rand_int__', 'xxx']),
  get1: () => encode(['GET', 'key:__rand_int__']),
  mset1: () => encode(['MSET', ...Array.from({ length: 10 }, () => ['key:{tag}:__rand_int__', 'xxx']).flat()]),
  incr: () => encode(['INCR', 'counter:__rand_int__']),
  hset: () => encode(['HSET', 'myhash', 'element:__rand_int__', 'xxx']),
  zadd: () => encode(['ZADD', 'myzset', '0', 'element:__rand_int__']),
  sadd: () => encode(['SADD', 'myset', 'element:__rand_int__']),
  lpush: () => encode(['LPUSH', 'mylist', 'xxx']),
  rpop: () => encode(['RPOP', 'mylist']),
  lrange_100: () => encode(['LRANGE', 'mylist', '0', '99']),
  xadd: () => encode(['XADD', 'mystream', '*', 'name', 'sensor', 'temp', '21.5', 'seq', '__rand_int__']),
  xrange_10: () => encode(['XRANGE', 'bench:stream', '-', '+', 'COUNT', '10']),
  xrange_100: () => encode(['XRANGE', 'bench:stream', '-', '+', 'COUNT', '100']),
  mset: (i) => encode(['MSET', ...Array.from({ length: 10 }, (_, j) => [`key:${String((i + j) % 100000).padStart(12, '0')}`, 'xxx']).flat()]),
  // Bitmaps at scattered offsets (a multiplicative hash of i): a 1 MB bitmap, 100000 u16 counters.
  setbit: (i) => encode(['SETBIT', 'bitmap', String((i * 2654435761) % 8388608), '1']),
  getbit: (i) => encode(['GETBIT', 'bitmap', String((i * 2654435761) % 8388608)]),
  bitfield: (i) => encode(['BITFIELD', 'counters', 'INCRBY', 'u16', `#${(i * 2654435761) % 100000}`, '1']),
};
// LRANGE needs a list to read: 600 elements, as redis-benchmark pushes them.
client.onData(Buffer.from(encode(['RPUSH', 'mylist', ...Array.from({ length: 600 }, () => 'xxx')]), 'latin1'));
// XRANGE reads a stream of 1000 entries, as bench/servers.mjs fills it.
for (let i = 0; i < 1000; i++) client.onData(Buffer.from(encode(['XADD', 'bench:stream', '*', 'name', 'sensor', 'temp', '21.5', 'seq', String(i)]), 'latin1'));
const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(workloads);
for (const name of names) {
  const chunks = [];
  for (let b = 0; b < 64; b++) {
    let s = '';
    for (let i = 0; i < 16; i++) s += workloads[name](b * 16 + i);
    chunks.push(Buffer.from(s, 'latin1'));
  }
  const rounds = Number(process.env.ROUNDS ?? 3000);
  for (let w = 0; w < 2; w++) {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) for (const ch of chunks) client.onData(ch);
    const ns = Number(process.hrtime.bigint() - t0) / (rounds * chunks.length * 16);
    if (w === 1) console.log(`${name.padEnd(6)} ${ns.toFixed(0)} ns/command`);
  }
}
process.exit(0);
