/**
 * A SET's value left in the query buffer. For `SET key value` the request
 * parser need not make a JS string of the value: the string store copies
 * its bytes from the query buffer straight into the key's record
 * (string-store.ts). That string cost a native call, a heap object and its
 * garbage per SET, then a second native call to copy it into the record
 * (README, Benchmarks: the `redis-cli --pipe` row).
 *
 * Only a plain `SET key value` parsed whole from canonical RESP is
 * deferred, and only when the string store keeps its value (a key of at
 * most DEFER_KEY_MAX bytes, a value of DEFER_VALUE_MIN to DEFER_VALUE_MAX
 * bytes: shorter values are cheap strings already). Its argv[2] is then
 * DEFERRED_ARG while that command is dispatched, and nothing else: the
 * client forgets the deferral as the command returns (forgetDeferred).
 * Whatever keeps or shows argv beyond that (MULTI's queue, CLIENT PAUSE's
 * held command, the slow log, MONITOR, a log record not copied from the
 * request bytes) calls materialize(argv) first, while the bytes are there.
 *
 * DEFERRED_ARG holds a character no request argument can (arguments are
 * latin1, one char per byte): a placeholder that escaped could never be
 * taken for a client's bytes, and the keyspace and the command log refuse it.
 */

import { FAST_DECODE_MAX, decodeLatin1 } from './latin1-decode.js';

/** argv[2] of a SET whose value is still in the query buffer. */
export const DEFERRED_ARG = '\uffff<value still in the query buffer>';

/** Shortest value deferred: shorter ones are decoded by a few JS instructions (latin1-decode.ts). */
export const DEFER_VALUE_MIN = FAST_DECODE_MAX + 1;
/** Longest value and key deferred: what the string store keeps (STORE_VALUE_MAX, STORE_KEY_MAX; a test checks they agree). */
export const DEFER_VALUE_MAX = 128;
export const DEFER_KEY_MAX = 255;

const NO_BYTES = Buffer.alloc(0);

/** The one deferred value (commands run one at a time): its argv and where its bytes are. */
class DeferredValue {
  argv: string[] | null = null;
  buf: Buffer = NO_BYTES;
  start = 0;
  end = 0;

  /** Nothing deferred; the query buffer is not kept alive by this (a joined one can be large). */
  release(): void {
    this.argv = null;
    this.buf = NO_BYTES;
  }
}

export const deferred = new DeferredValue();

/** Leave argv[2] in `buf[start, end)` (the parser, for a SET it just parsed). */
export function deferArg(argv: string[], buf: Buffer, start: number, end: number): void {
  argv[2] = DEFERRED_ARG;
  deferred.argv = argv;
  deferred.buf = buf;
  deferred.start = start;
  deferred.end = end;
}

/** Give argv its deferred value as a string, for whatever keeps or shows it. */
export function materialize(argv: readonly string[]): void {
  if (deferred.argv !== argv) return;
  deferred.argv[2] = decodeLatin1(deferred.buf, deferred.start, deferred.end);
  deferred.release();
}

/** The command of argv has returned: its value's bytes may go (the query buffer moves on). */
export function forgetDeferred(argv: readonly string[]): void {
  if (deferred.argv === argv) deferred.release();
}

/** Thrown where DEFERRED_ARG would be stored or logged as if it were a value: a bug, never a client's doing. */
export function escapedPlaceholder(where: string): Error {
  return new Error(`a deferred SET value reached ${where} without its bytes`);
}
