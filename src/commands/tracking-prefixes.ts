/**
 * CLIENT TRACKING ... BCAST PREFIX p ...: Redis' checkPrefixCollisionsOrReply
 * with its exact error, in O(n log n) rather than Redis' pairwise scan: a
 * client may send a million prefixes in one command, and comparing every
 * pair would hold the server for hours.
 *
 * Redis checks the new prefixes in argument order; for each, first the
 * client's prefixes (in byte order), then the new prefixes after it. Two
 * prefixes collide when one starts with the other.
 */

import { cstr } from './util.js';

const SUFFIX = '. Prefixes for a single client must not overlap.';

/**
 * The first of `sorted` (byte order) that collides with `p`. Apart from '',
 * a client's prefixes never collide with one another (each was checked when
 * given), so at most one other can: the last one not above `p` if `p`
 * starts with it, or else the first one above `p` if it starts with `p`.
 */
function existingCollision(sorted: readonly string[], hasEmpty: boolean, p: string): string | null {
  if (hasEmpty) return '';
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! <= p) lo = mid + 1;
    else hi = mid;
  }
  const below = sorted[lo - 1];
  if (below !== undefined && p.startsWith(below)) return below;
  const above = sorted[lo];
  if (above !== undefined && above.startsWith(p)) return above;
  return null;
}

/** For each new prefix, whether a later one collides with it. */
function collidesLater(prefixes: readonly string[]): boolean[] {
  const n = prefixes.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    const x = prefixes[a]!;
    const y = prefixes[b]!;
    return x < y ? -1 : x > y ? 1 : a - b;
  });
  const later = new Array<boolean>(n).fill(false);
  // In byte order, a prefix's extensions follow it: a stack holds the chain
  // of prefixes of the current one, each with the highest argument index
  // among its ancestors and, once popped, among its extensions.
  interface Node {
    index: number;
    text: string;
    ancestors: number;
    extensions: number;
  }
  const stack: Node[] = [];
  const pop = (): void => {
    const node = stack.pop()!;
    later[node.index] = Math.max(node.ancestors, node.extensions) > node.index;
    const parent = stack[stack.length - 1];
    if (parent !== undefined) parent.extensions = Math.max(parent.extensions, node.index, node.extensions);
  };
  for (const index of order) {
    const text = prefixes[index]!;
    while (stack.length > 0 && !text.startsWith(stack[stack.length - 1]!.text)) pop();
    const top = stack[stack.length - 1];
    stack.push({ index, text, ancestors: top === undefined ? -1 : Math.max(top.ancestors, top.index), extensions: -1 });
  }
  while (stack.length > 0) pop();
  return later;
}

/** Redis' error for the first collision, or null when there is none. */
export function prefixCollision(existing: ReadonlySet<string>, prefixes: readonly string[]): string | null {
  if (prefixes.length === 0) return null;
  const sorted = [...existing].filter((e) => e !== '').sort();
  const hasEmpty = existing.has('');
  const later = collidesLater(prefixes);
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i]!;
    const old = existingCollision(sorted, hasEmpty, p);
    if (old !== null) return `ERR Prefix '${cstr(p)}' overlaps with an existing prefix '${cstr(old)}'${SUFFIX}`;
    if (!later[i]) continue;
    for (let j = i + 1; j < prefixes.length; j++) {
      const q = prefixes[j]!;
      if (p.startsWith(q) || q.startsWith(p)) return `ERR Prefix '${cstr(p)}' overlaps with another provided prefix '${cstr(q)}'${SUFFIX}`;
    }
  }
  return null;
}
