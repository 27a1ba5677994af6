// Memory density and speed of two keyspace layouts, each variant in its own
// node process (issue 18 item 3):
//   map   — per-slot Map<string, string|number> plus the access table
//           (the layout of src/engine/keyspace.ts before the string store);
//   store — per-slot open addressing over typed arrays, records in
//           ArrayBuffer slabs (src/engine/string-store.ts).
// Keys are 16 bytes ("key:" + 12 digits), values 3 bytes ("xxx"), as in the
// bytes-per-key row of `npm run bench -- --suite strings`.
//
// Usage (after npm run build):
//   node bench/keyspace-density.mjs            runs every variant at 1M and 10M keys
//   node bench/keyspace-density.mjs map 1000000   one run (what the driver spawns)
//
// Figures (2 cores shared with other work, load ~4, node 20, pinned to one
// core; bytes after a full GC; ns less the key decoding; gets and sets over
// 1M random names; the machine's memory latency makes every miss slow, so
// compare the rows, not the absolute ns):
//   variant    keys  B/key heap+ext  B/key rss  full GC max  get hit  get miss  set overwrite
//   map          1M       95.8         141-169     101-111 ms  1651-2192  905-1473  1553-2141
//   store        1M       58.2          89-97        7-10 ms    682-797   323-395   616-632
//   map         10M      104.2           126        1352 ms      3639      2690      4265
//   store       10M       45.8            52         6.5 ms       987       569       946
// (An earlier store with 8-byte headers and 1.5x-grown malloc'd indexes: 48.4 B/key at 1M,
// 43.7 at 10M; the 12-byte header holds the insertion number GETKEYSINSLOT orders by, the
// power-of-two indexes come from BlockPool so that FLUSHALL gives their memory back.)
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dist = process.env.VIREO_DIST ? new URL(`file://${process.env.VIREO_DIST.replace(/\/?$/, '/')}`) : new URL('../dist/', import.meta.url);

if (process.argv.length <= 2) {
  const self = fileURLToPath(import.meta.url);
  for (const n of [1_000_000, 10_000_000]) {
    for (const variant of ['map', 'store']) {
      const out = await new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--expose-gc', '--max-old-space-size=12000', self, variant, String(n)], { stdio: ['ignore', 'pipe', 'inherit'] });
        let text = '';
        child.stdout.on('data', (d) => (text += d));
        child.on('exit', (code) => (code === 0 ? resolve(text) : reject(new Error(`${variant} ${n}: exit ${code}`))));
      });
      process.stdout.write(out);
    }
  }
  process.exit(0);
}

const variant = process.argv[2];
const n = Number(process.argv[3]);
const { keySlot } = await import(new URL('src/engine/slot.js', dist).href);
const { AccessTable } = await import(new URL('src/engine/access.js', dist).href);
const { StringStore } = await import(new URL('src/engine/string-store.js', dist).href);
const SLOTS = 16384;

function makeMap() {
  const tables = new Array(SLOTS);
  const access = new AccessTable();
  return {
    set(key, value) {
      const slot = keySlot(key);
      let t = tables[slot];
      if (t === undefined) tables[slot] = t = new Map();
      const before = t.size;
      t.set(key, value);
      access.set(key, 12345);
      return t.size !== before;
    },
    get(key) {
      const t = tables[keySlot(key)];
      const v = t === undefined ? undefined : t.get(key);
      if (v !== undefined) access.set(key, 12346);
      return v;
    },
  };
}

function makeStore() {
  const store = new StringStore();
  return {
    set(key, value) {
      return store.set(keySlot(key), key, value, 12345, 0);
    },
    get(key) {
      const slot = keySlot(key);
      const ref = store.ref(slot, key);
      if (ref === 0) return undefined;
      store.setWord(ref, 12346);
      return store.value(ref);
    },
  };
}

// Keys are decoded from bytes each time, as the protocol parser makes them: fresh strings, no cached hash.
const KEY_LEN = 16;
function keyBytes(count, prefix, order) {
  const buf = Buffer.alloc(count * KEY_LEN);
  for (let i = 0; i < count; i++) buf.write(`${prefix}${String(order ? order[i] : i).padStart(12, '0')}`, i * KEY_LEN, 'latin1');
  return buf;
}
const mem = () => {
  const m = process.memoryUsage();
  return { used: m.heapUsed + m.external, rss: m.rss };
};

gc();
gc();
const base = mem();
const db = variant === 'map' ? makeMap() : makeStore();
const LOAD_CHUNK = 1_000_000;
for (let start = 0; start < n; start += LOAD_CHUNK) {
  const count = Math.min(LOAD_CHUNK, n - start);
  const order = Array.from({ length: count }, (_, i) => start + i);
  const buf = keyBytes(count, 'key:', order);
  for (let i = 0; i < count; i++) db.set(buf.latin1Slice(i * KEY_LEN, (i + 1) * KEY_LEN), 'xxx');
}
gc();
gc();
const loaded = mem();
let gcMax = 0;
for (let i = 0; i < 3; i++) {
  const t = performance.now();
  gc();
  gcMax = Math.max(gcMax, performance.now() - t);
}

// Operations over 1M random names (hits are within the loaded keys, misses are not).
const OPS = 2_000_000;
const names = Math.min(n, 1_000_000);
const order = Array.from({ length: OPS }, () => Math.floor(Math.random() * names));
const hitBuf = keyBytes(OPS, 'key:', order);
const missBuf = keyBytes(OPS, 'kez:', order);
function timeOp(label, fn) {
  // Warm-up, then the measured pass.
  fn(Math.min(OPS, 200_000));
  const t = process.hrtime.bigint();
  fn(OPS);
  return Number(process.hrtime.bigint() - t) / OPS;
}
let sink = 0;
const decode = timeOp('decode', (m) => {
  for (let i = 0; i < m; i++) sink += hitBuf.latin1Slice(i * KEY_LEN, (i + 1) * KEY_LEN).length;
});
const getHit = timeOp('get hit', (m) => {
  for (let i = 0; i < m; i++) sink += db.get(hitBuf.latin1Slice(i * KEY_LEN, (i + 1) * KEY_LEN)).length;
});
const getMiss = timeOp('get miss', (m) => {
  for (let i = 0; i < m; i++) if (db.get(missBuf.latin1Slice(i * KEY_LEN, (i + 1) * KEY_LEN)) === undefined) sink++;
});
const setOver = timeOp('set overwrite', (m) => {
  for (let i = 0; i < m; i++) db.set(hitBuf.latin1Slice(i * KEY_LEN, (i + 1) * KEY_LEN), 'yyy');
});
const round = (x) => Math.round(x);
console.log(
  [
    variant.padEnd(6),
    String(n).padStart(9),
    `B/key used ${((loaded.used - base.used) / n).toFixed(1)}`,
    `rss ${((loaded.rss - base.rss) / n).toFixed(1)}`,
    `full gc max ${gcMax.toFixed(1)} ms`,
    `ns (less ${round(decode)} ns key decode): get hit ${round(getHit - decode)} miss ${round(getMiss - decode)} set overwrite ${round(setOver - decode)}`,
  ].join('  '),
);
if (sink === -1) console.log(sink);
