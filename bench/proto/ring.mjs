// A single-producer single-consumer byte ring in a SharedArrayBuffer, for
// the I/O-thread prototype (io-threads.mjs). A message is a u32 connection
// id, a u32 length and the bytes, padded to 4. Counters grow without bound
// (as doubles, exact to 2^53); positions are counters modulo the capacity.
// The consumer sleeps with Atomics.waitAsync on the write counter's low
// word; the producer notifies once per batch.

const HEAD = 0; // read counter (low 31 bits in i32[0], high in i32[1])
const TAIL = 2; // write counter (i32[2], i32[3])
const WAKE = 4; // bumped by every notify: what the consumer waits on
const HEADER_BYTES = 32;
/** Connection id that marks "skip to the ring's start". */
const WRAP = 0xffffffff;
/** Length that marks "connection closed". */
export const CLOSED = 0xffffffff;

export function createRing(capacity) {
  return new SharedArrayBuffer(HEADER_BYTES + capacity);
}

function load(i32, at) {
  return Atomics.load(i32, at) + Atomics.load(i32, at + 1) * 2 ** 31;
}

function store(i32, at, v) {
  Atomics.store(i32, at + 1, Math.floor(v / 2 ** 31));
  Atomics.store(i32, at, v % 2 ** 31);
}

export class Ring {
  constructor(sab) {
    this.i32 = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.u8 = new Uint8Array(sab, HEADER_BYTES);
    this.view = new DataView(sab, HEADER_BYTES);
    this.cap = this.u8.length;
    this.tail = load(this.i32, TAIL);
    this.head = load(this.i32, HEAD);
  }

  /** Producer: append one message; false when it does not fit now. */
  push(conn, bytes, start = 0, end = bytes.length) {
    const len = end - start;
    const need = 8 + ((len + 3) & ~3);
    const head = load(this.i32, HEAD);
    let pos = this.tail % this.cap;
    const contiguous = this.cap - pos;
    const wrapCost = contiguous < need ? contiguous : 0;
    if (this.tail + wrapCost + need - head > this.cap) return false;
    if (wrapCost > 0) {
      this.view.setUint32(pos, WRAP, true);
      this.tail += wrapCost;
      pos = 0;
    }
    this.view.setUint32(pos, conn, true);
    this.view.setUint32(pos + 4, len, true);
    this.u8.set(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), pos + 8);
    this.tail += need;
    return true;
  }

  /** Producer: a control message (connection closed). */
  pushClosed(conn) {
    const head = load(this.i32, HEAD);
    let pos = this.tail % this.cap;
    const contiguous = this.cap - pos;
    const wrapCost = contiguous < 8 ? contiguous : 0;
    if (this.tail + wrapCost + 8 - head > this.cap) return false;
    if (wrapCost > 0) {
      if (contiguous >= 4) this.view.setUint32(pos, WRAP, true);
      this.tail += wrapCost;
      pos = 0;
    }
    this.view.setUint32(pos, conn, true);
    this.view.setUint32(pos + 4, CLOSED, true);
    this.tail += 8;
    return true;
  }

  /** Producer: publish what was pushed and wake the consumer. */
  publish() {
    store(this.i32, TAIL, this.tail);
    Atomics.add(this.i32, WAKE, 1);
    Atomics.notify(this.i32, WAKE);
  }

  /** Consumer: call fn(conn, u8, start, len) for every published message; returns how many. */
  drain(fn) {
    const tail = load(this.i32, TAIL);
    let n = 0;
    while (this.head < tail) {
      let pos = this.head % this.cap;
      if (this.cap - pos < 8 || this.view.getUint32(pos, true) === WRAP) {
        this.head += this.cap - pos;
        continue;
      }
      const conn = this.view.getUint32(pos, true);
      const len = this.view.getUint32(pos + 4, true);
      if (len === CLOSED) {
        fn(conn, null, 0, 0);
        this.head += 8;
      } else {
        fn(conn, this.u8, pos + 8, len);
        this.head += 8 + ((len + 3) & ~3);
      }
      n++;
    }
    store(this.i32, HEAD, this.head);
    return n;
  }

  /** Consumer: resolve when the producer publishes after `seen` (the WAKE value read before draining). */
  wakeSeen() {
    return Atomics.load(this.i32, WAKE);
  }

  waitAfter(seen) {
    const r = Atomics.waitAsync(this.i32, WAKE, seen);
    return r.async ? r.value : Promise.resolve();
  }
}
