/** Random sampling shared by HRANDFIELD, SRANDMEMBER, SPOP, ZRANDMEMBER. */

import type { ReplyStream } from '../protocol/stream.js';
import type { ReplyWriter } from '../protocol/writer.js';

/**
 * `k` distinct indexes of [0, n): all of them in order when k >= n, else a
 * random sample in random order (partial Fisher-Yates over a sparse map).
 */
export function randomDistinctIndexes(n: number, k: number, random: () => number = Math.random): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  const swapped = new Map<number, number>();
  const out: number[] = [];
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random() * (n - i));
    const vi = swapped.get(i) ?? i;
    const vj = swapped.get(j) ?? j;
    swapped.set(j, vi);
    out.push(vj);
  }
  return out;
}

/**
 * Picks with repetition (SRANDMEMBER key -count and friends) at most this
 * many are written at once; more are streamed (a count is any int64).
 */
export const INLINE_PICKS = 1024;

/**
 * `count` random picks from `items`, repeats allowed, written as they are
 * pulled by the connection (the reply's header is the caller's). `items`
 * is a copy taken when the command ran: the reply shows that moment even
 * if the collection changes while it streams.
 */
export class RepeatedPicks<T> implements ReplyStream {
  constructor(
    private readonly items: readonly T[],
    private remaining: number,
    private readonly write: (reply: ReplyWriter, item: T) => void,
  ) {}

  fill(reply: ReplyWriter, bytes: number): boolean {
    const items = this.items;
    const start = reply.pending;
    // Every pick writes at least a few bytes; the cap also ends a muted writer's loop.
    let budget = bytes;
    while (this.remaining > 0 && reply.pending - start < bytes && budget-- > 0) {
      this.write(reply, items[Math.floor(Math.random() * items.length)]!);
      this.remaining--;
    }
    return this.remaining <= 0;
  }
}

/** How a collection hands out random elements without being copied, and copied when it must be. */
export interface RandomSource<T> {
  size: number;
  /** One random element, in O(1) or O(log n). */
  pick(): T;
  /** Every element (a copy). */
  all(): T[];
}

/**
 * Write `count` (> 0) picks with repetition: up to INLINE_PICKS straight
 * from the collection, more streamed from a copy taken now.
 */
export function replyRepeatedPicks<T>(
  reply: ReplyWriter,
  startStream: (s: ReplyStream) => void,
  source: RandomSource<T>,
  count: number,
  write: (reply: ReplyWriter, item: T) => void,
): void {
  if (count <= INLINE_PICKS) {
    for (let i = 0; i < count; i++) write(reply, source.pick());
    return;
  }
  startStream(new RepeatedPicks(source.all(), count, write));
}

/**
 * `count` distinct elements, as Redis chooses them: everything when count
 * covers the set; from a copy when it is a good part of it; else by random
 * picks until enough distinct ones are found (no copy of a big collection
 * for a few elements). `keyOf` tells elements apart.
 */
export function distinctPicks<T>(source: RandomSource<T>, count: number, keyOf: (item: T) => string): T[] {
  if (count >= source.size) return source.all();
  if (count * 3 > source.size) {
    const all = source.all();
    return randomDistinctIndexes(all.length, count).map((i) => all[i]!);
  }
  const seen = new Map<string, T>();
  while (seen.size < count) {
    const item = source.pick();
    seen.set(keyOf(item), item);
  }
  return [...seen.values()];
}

/**
 * The array header of a reply of `count` picks (count is -l of a negative
 * int64 argument, so `arg` holds it exactly), each `width` elements wide.
 */
export function picksHeader(reply: ReplyWriter, arg: string, count: number, width: 1 | 2): void {
  if (count <= Number.MAX_SAFE_INTEGER / 2) reply.array(count * width);
  else reply.bigArray(BigInt(arg.slice(1)) * BigInt(width));
}
