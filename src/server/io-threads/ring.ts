/**
 * A single-producer, single-consumer message ring in a SharedArrayBuffer:
 * how bytes cross between an I/O thread and the main thread (one ring each
 * way per I/O thread). A message is a 12-byte header (connection id, kind,
 * length) and, for kinds that carry bytes, the bytes padded to 4. A message
 * never wraps: when it does not fit before the end, a WRAP mark sends the
 * reader back to the start.
 *
 * The producer publishes a batch at a time (the tail is stored once per
 * event-loop turn) and wakes the consumer only when asked to: a wake-up is
 * a futex and an event-loop turn on the other thread, costlier than the
 * messages it announces.
 *
 * Counters grow without bound as doubles (exact to 2^53 bytes); positions
 * are counters modulo the capacity.
 */

/** Int32 slots of the header block. */
const HEAD = 0; // read counter: low 31 bits in [0], the rest in [1]
const TAIL = 2; // write counter, the same way
const WAKE = 4; // bumped by every wake-up: what the consumer sleeps on
const SLEEPING = 5; // 1 while the consumer sleeps (or is about to): only then does a producer wake it
const HEADER_BYTES = 64; // its own cache line, apart from the data
const MESSAGE_HEADER = 12;
/** The connection-id word that means "continue at the ring's start". */
const WRAP = 0xffffffff;
const LOW = 2 ** 31;

/** Atomics.waitAsync (V8 has it since Node 16; TypeScript types it only from lib es2024). */
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number): { async: boolean; value: Promise<unknown> | string } }).waitAsync;

/** What a message says. Data and Open carry bytes; Written's length is a count of bytes written, not carried. */
export const Kind = {
  /** worker -> main: bytes read; main -> worker: bytes to write. */
  Data: 0,
  /** worker -> main: a connection was accepted; the bytes are its msgpackr-packed ConnectionInfo. */
  Open: 1,
  /** worker -> main: the connection is gone. */
  Closed: 2,
  /** worker -> main: this many bytes of the connection's output reached the kernel. */
  Written: 3,
  /** main -> worker: close once what was written before has gone out. */
  End: 4,
  /** main -> worker: close now, dropping what waits. */
  Destroy: 5,
  /** main -> worker: stop reading the connection (its replies wait unread); Resume: read again. */
  Pause: 6,
  Resume: 7,
} as const;
export type Kind = (typeof Kind)[keyof typeof Kind];

function carriesBytes(kind: number): boolean {
  return kind === Kind.Data || kind === Kind.Open;
}

export function createRing(capacity: number): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + capacity);
}

function load(i32: Int32Array, at: number): number {
  return Atomics.load(i32, at) + Atomics.load(i32, at + 1) * LOW;
}

function store(i32: Int32Array, at: number, v: number): void {
  // High word first: the other side reads low then high, so it never sees a
  // counter larger than the real one (it may see a smaller one, which only delays).
  Atomics.store(i32, at + 1, Math.floor(v / LOW));
  Atomics.store(i32, at, v % LOW);
}

/** Called for each message by drain(); `bytes` is a view valid only during the call. */
export type MessageHandler = (conn: number, kind: Kind, bytes: Buffer | null, length: number) => void;

export class Ring {
  private readonly i32: Int32Array;
  private readonly bytes: Buffer;
  private readonly view: DataView;
  readonly capacity: number;
  /** Producer: the write counter, published by publish(). */
  private tail: number;
  /** Consumer: the read counter, stored after each drain. */
  private head: number;

  constructor(readonly sab: SharedArrayBuffer) {
    this.i32 = new Int32Array(sab, 0, HEADER_BYTES / 4);
    this.bytes = Buffer.from(sab, HEADER_BYTES);
    this.view = new DataView(sab, HEADER_BYTES);
    this.capacity = this.bytes.length;
    this.tail = load(this.i32, TAIL);
    this.head = load(this.i32, HEAD);
  }

  /** The most bytes one message may carry (larger payloads are sent in pieces). */
  get maxPayload(): number {
    return this.capacity / 4;
  }

  /**
   * Producer: append a message; false when it does not fit now (the
   * consumer is behind). `len` is the byte count for kinds that carry none.
   */
  push(conn: number, kind: Kind, payload: Uint8Array | null, len = payload === null ? 0 : payload.length): boolean {
    const carried = carriesBytes(kind) ? len : 0;
    const need = MESSAGE_HEADER + ((carried + 3) & ~3);
    const head = load(this.i32, HEAD);
    let pos = this.tail % this.capacity;
    const contiguous = this.capacity - pos;
    const skip = contiguous < need ? contiguous : 0;
    if (this.tail + skip + need - head > this.capacity) return false;
    if (skip > 0) {
      if (contiguous >= 4) this.view.setUint32(pos, WRAP, true);
      this.tail += skip;
      pos = 0;
    }
    this.view.setUint32(pos, conn, true);
    this.view.setUint32(pos + 4, kind, true);
    this.view.setUint32(pos + 8, len, true);
    if (carried > 0) this.bytes.set(payload!, pos + MESSAGE_HEADER);
    this.tail += need;
    return true;
  }

  /**
   * Producer: make what was pushed visible; with `wake`, rouse the consumer
   * if it sleeps. A busy consumer finds the messages when it next looks:
   * it checks the tail after saying it sleeps (sleep()), so none is missed.
   */
  publish(wake: boolean): void {
    store(this.i32, TAIL, this.tail);
    if (wake && Atomics.load(this.i32, SLEEPING) === 1) {
      Atomics.add(this.i32, WAKE, 1);
      Atomics.notify(this.i32, WAKE);
    }
  }

  /** Rouse the consumer without new messages (it is being stopped). */
  wake(): void {
    Atomics.add(this.i32, WAKE, 1);
    Atomics.notify(this.i32, WAKE);
  }

  /**
   * Consumer: hand the published messages to `fn`, up to about `budget`
   * bytes of them (at least one); returns how many. `more` then says
   * whether some wait still. A message `fn` throws on is not handed again.
   */
  drain(fn: MessageHandler, budget = Infinity): number {
    const tail = load(this.i32, TAIL);
    let n = 0;
    try {
      this.head = this.walk(this.head, tail, budget, (conn, kind, start, carried, len, next) => {
        // Moved past first (the producer cannot reuse the space before HEAD is stored below).
        this.head = next;
        n++;
        fn(conn, kind, carried > 0 ? this.bytes.subarray(start, start + carried) : null, len);
      });
    } finally {
      store(this.i32, HEAD, this.head);
    }
    this.more = this.head < tail;
    return n;
  }

  /**
   * Consumer: show `fn` the messages the next drain(fn, budget) will hand
   * out, without taking them: where each one's bytes start in `bytes` and
   * how many there are (0 for kinds that carry none).
   */
  peek(fn: (conn: number, kind: Kind, start: number, length: number) => void, budget = Infinity): void {
    this.walk(this.head, load(this.i32, TAIL), budget, fn);
  }

  /**
   * The messages from counter `head` up to `tail`, up to about `budget`
   * bytes of them (at least one), each given to `visit` with where its
   * bytes start, how many it carries, its length word, and the counter
   * after it. Returns the counter after the last (and any WRAP mark it
   * stepped over).
   */
  private walk(head: number, tail: number, budget: number, visit: (conn: number, kind: Kind, start: number, carried: number, len: number, next: number) => void): number {
    const cap = this.capacity;
    const stopAt = head + budget;
    while (head < tail && head < stopAt) {
      const pos = head % cap;
      if (cap - pos < MESSAGE_HEADER || this.view.getUint32(pos, true) === WRAP) {
        head += cap - pos;
        continue;
      }
      const kind = this.view.getUint32(pos + 4, true) as Kind;
      const len = this.view.getUint32(pos + 8, true);
      const carried = carriesBytes(kind) ? len : 0;
      head += MESSAGE_HEADER + ((carried + 3) & ~3);
      visit(this.view.getUint32(pos, true), kind, pos + MESSAGE_HEADER, carried, len, head);
    }
    return head;
  }

  /** The ring's message bytes (peek()'s positions are into these). */
  get data(): Buffer {
    return this.bytes;
  }

  /** Consumer: the last drain() stopped at its budget with messages left. */
  more = false;

  /** Consumer: the wake counter, read before draining; sleep() returns once it moves past it. */
  get wakeCount(): number {
    return Atomics.load(this.i32, WAKE);
  }

  /**
   * Consumer: resolve once there is something to drain: in the next
   * event-loop turn if messages came meanwhile, else when the producer wakes
   * it after `seen`. Never at once: a producer that keeps the ring busy
   * would hold the consumer's loop in microtasks, and its timers and
   * setImmediate callbacks (an I/O thread's write acknowledgements) would
   * wait as long as the flow lasts.
   */
  async sleep(seen: number): Promise<void> {
    Atomics.store(this.i32, SLEEPING, 1);
    if (load(this.i32, TAIL) > this.head) {
      Atomics.store(this.i32, SLEEPING, 0);
      await new Promise((resolve) => setImmediate(resolve));
      return;
    }
    const r = waitAsync(this.i32, WAKE, seen);
    if (r.async) await r.value;
    Atomics.store(this.i32, SLEEPING, 0);
  }
}
