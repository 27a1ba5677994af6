/**
 * The partial quicksort Redis' SORT uses when it sorts BY a pattern and
 * only a LIMIT range is wanted, and GEOSEARCH with COUNT (src/pqsort.c:
 * NetBSD's qsort, Bentley and McIlroy's three-way partitioning, that leaves
 * alone the partitions outside the range). As in Redis 7.0-7.2 and Valkey:
 * without the later switch to insertion sort after a partition that moved
 * nothing. It is not stable: elements that compare equal (BY
 * keys that tie, or are all missing) come out in the order this very
 * algorithm leaves them, so SORT ... BY ... LIMIT answers as redis-server
 * does only with the same steps, written here over an array.
 */

type Cmp<T> = (a: T, b: T) => number;

/** Sort `v` enough that positions lrange..rrange (inclusive) hold what a full sort would put there. */
export function pqsort<T>(v: T[], cmp: Cmp<T>, lrange: number, rrange: number): void {
  partial(v, 0, v.length, cmp, lrange, rrange);
}

function swap<T>(v: T[], i: number, j: number): void {
  const t = v[i]!;
  v[i] = v[j]!;
  v[j] = t;
}

/** Swap the n elements from i with the n elements from j. */
function swapRuns<T>(v: T[], i: number, j: number, n: number): void {
  for (let k = 0; k < n; k++) swap(v, i + k, j + k);
}

/** The index of the median of three. */
function med3<T>(v: T[], a: number, b: number, c: number, cmp: Cmp<T>): number {
  return cmp(v[a]!, v[b]!) < 0 ? (cmp(v[b]!, v[c]!) < 0 ? b : cmp(v[a]!, v[c]!) < 0 ? c : a) : cmp(v[b]!, v[c]!) > 0 ? b : cmp(v[a]!, v[c]!) < 0 ? a : c;
}

function insertionSort<T>(v: T[], base: number, n: number, cmp: Cmp<T>): void {
  for (let m = base + 1; m < base + n; m++) {
    for (let l = m; l > base && cmp(v[l - 1]!, v[l]!) > 0; l--) swap(v, l, l - 1);
  }
}

/** Whether elements base..base+n-1 are left out of the wanted range (the C code's test on byte addresses). */
function outside(base: number, n: number, lrange: number, rrange: number): boolean {
  const last = base + n - 1;
  return (lrange < base && rrange < base) || (lrange > last && rrange > last);
}

function partial<T>(v: T[], base: number, n: number, cmp: Cmp<T>, lrange: number, rrange: number): void {
  for (;;) {
    if (n < 7) {
      insertionSort(v, base, n, cmp);
      return;
    }
    let pm = base + Math.floor(n / 2);
    if (n > 7) {
      let pl = base;
      let pn = base + n - 1;
      if (n > 40) {
        const d = Math.floor(n / 8);
        pl = med3(v, pl, pl + d, pl + 2 * d, cmp);
        pm = med3(v, pm - d, pm, pm + d, cmp);
        pn = med3(v, pn - 2 * d, pn - d, pn, cmp);
      }
      pm = med3(v, pl, pm, pn, cmp);
    }
    swap(v, base, pm);
    let pa = base + 1;
    let pb = pa;
    let pc = base + n - 1;
    let pd = pc;
    for (;;) {
      let r = 0;
      while (pb <= pc && (r = cmp(v[pb]!, v[base]!)) <= 0) {
        if (r === 0) {
          swap(v, pa, pb);
          pa++;
        }
        pb++;
      }
      while (pb <= pc && (r = cmp(v[pc]!, v[base]!)) >= 0) {
        if (r === 0) {
          swap(v, pc, pd);
          pd--;
        }
        pc--;
      }
      if (pb > pc) break;
      swap(v, pb, pc);
      pb++;
      pc--;
    }
    const end = base + n;
    let r = Math.min(pa - base, pb - pa);
    swapRuns(v, base, pb - r, r);
    r = Math.min(pd - pc, end - pd - 1);
    swapRuns(v, pb, end - r, r);
    if ((r = pb - pa) > 1 && !outside(base, r, lrange, rrange)) partial(v, base, r, cmp, lrange, rrange);
    if ((r = pd - pc) <= 1) return;
    base = end - r;
    n = r;
    if (outside(base, n, lrange, rrange)) return;
  }
}
