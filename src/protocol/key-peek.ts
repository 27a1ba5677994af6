/**
 * Reads ahead in a client's query buffer for the keys of the commands that
 * follow, without parsing them or making strings: the engine warms their
 * cache lines in one batch (StringStore.prefetch) before the commands run
 * one by one. A lookup over millions of keys is two or three cache misses;
 * taken together, a pipeline's misses overlap instead of queueing (Valkey
 * 8 prefetches a batch's keys the same way).
 *
 * Only whole canonical multibulk commands are read; the first odd or
 * incomplete one ends the scan. A guess that is not a key costs a wasted
 * probe, nothing else: nothing here decides what a command does.
 */

const CR = 13;
const STAR = 42;
const DOLLAR = 36;
/** Arguments longer than this end the scan (keys are short; big values are not read ahead). */
const MAX_ARG = 64 * 1024;

/** Which arguments of a command are (probably) keys. */
const enum KeyArgs {
  /** argv[1] only: most keyed commands. */
  First,
  /** Every argument after the name: MGET, DEL, EXISTS, UNLINK, TOUCH. */
  All,
  /** argv[1], [3], [5]...: MSET, MSETNX. */
  Pairs,
}

/** ASCII letters of `buf[s, e)` in upper case, compared with `name` (upper case). */
function nameIs(buf: Uint8Array, s: number, e: number, name: string): boolean {
  if (e - s !== name.length) return false;
  for (let i = 0; i < name.length; i++) if ((buf[s + i]! & 0xdf) !== name.charCodeAt(i)) return false;
  return true;
}

function keyArgsOf(buf: Uint8Array, s: number, e: number): KeyArgs {
  switch (e - s) {
    case 3:
      return nameIs(buf, s, e, 'DEL') ? KeyArgs.All : KeyArgs.First;
    case 4:
      if (nameIs(buf, s, e, 'MGET')) return KeyArgs.All;
      return nameIs(buf, s, e, 'MSET') ? KeyArgs.Pairs : KeyArgs.First;
    case 5:
      return nameIs(buf, s, e, 'TOUCH') ? KeyArgs.All : KeyArgs.First;
    case 6:
      if (nameIs(buf, s, e, 'EXISTS') || nameIs(buf, s, e, 'UNLINK')) return KeyArgs.All;
      return nameIs(buf, s, e, 'MSETNX') ? KeyArgs.Pairs : KeyArgs.First;
  }
  return KeyArgs.First;
}

/** The keys found by one scan: byte ranges into the scanned buffer. */
export class KeyPeek {
  /** Pairs [start, end) of each key's bytes. */
  readonly ranges: Int32Array;
  /** Keys found by the last scan. */
  keys = 0;
  /** Whole commands the last scan went through. */
  commands = 0;
  /** Per whole command of the last scan: where it starts in the buffer. */
  readonly starts: Int32Array;
  /** Per whole command of the last scan: the index of its argv[1] among the keys, or -1. */
  readonly firstKey: Int32Array;
  /** Per key: its hash and slot, when the keyspace's prefetch computed them (StringStore.prefetch). */
  readonly hashes: Int32Array;
  readonly slots: Int32Array;

  constructor(readonly maxKeys: number) {
    this.ranges = new Int32Array(2 * maxKeys);
    this.starts = new Int32Array(maxKeys);
    this.firstKey = new Int32Array(maxKeys);
    this.hashes = new Int32Array(maxKeys);
    this.slots = new Int32Array(maxKeys);
  }

  /** Scan the commands starting at `buf[from]`, up to `buf[end]`, until `limit` keys (at most maxKeys) are found. */
  scan(buf: Uint8Array, from: number, limit = this.maxKeys, end = buf.length): void {
    const out = this.ranges;
    const max = Math.min(limit, this.maxKeys);
    const len = Math.min(end, buf.length);
    let p = from;
    let found = 0;
    let commands = 0;
    while (found < max && commands < this.maxKeys && p < len && buf[p] === STAR) {
      const start = p;
      let first = -1;
      let c = buf[++p];
      let argc = 0;
      while (c !== undefined && c >= 48 && c <= 57 && argc <= 1024) {
        argc = argc * 10 + (c - 48);
        c = buf[++p];
      }
      if (c !== CR || argc > 1024) break;
      p += 2;
      let keys = KeyArgs.First;
      let i = 0;
      for (; i < argc; i++) {
        if (buf[p] !== DOLLAR) break;
        c = buf[++p];
        let blen = 0;
        while (c !== undefined && c >= 48 && c <= 57 && blen <= MAX_ARG) {
          blen = blen * 10 + (c - 48);
          c = buf[++p];
        }
        if (c !== CR || blen > MAX_ARG) break;
        p += 2;
        const end = p + blen;
        if (end + 2 > len) break;
        if (i === 0) keys = keyArgsOf(buf, p, end);
        else if ((i === 1 || keys === KeyArgs.All || (keys === KeyArgs.Pairs && (i & 1) === 1)) && found < max) {
          if (i === 1) first = found;
          out[2 * found] = p;
          out[2 * found + 1] = end;
          found++;
        }
        p = end + 2;
      }
      if (i < argc) break;
      this.starts[commands] = start;
      this.firstKey[commands] = first;
      commands++;
    }
    this.keys = found;
    this.commands = commands;
  }
}
