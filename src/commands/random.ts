/** Random sampling shared by HRANDFIELD, SRANDMEMBER, SPOP, ZRANDMEMBER. */

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
