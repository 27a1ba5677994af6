/**
 * The ordered index of a big sorted set (Redis' skiplist): elements kept
 * sorted by (score, member) in chunks of up to CHUNK_MAX, with a Fenwick
 * tree over the chunk sizes so that rank <-> element is O(log n). Member
 * comparison is JS string order on latin1 strings, which is memcmp order,
 * like Redis' sdscmp.
 *
 * Two parallel arrays per chunk (scores as numbers, members as strings)
 * cost far less than a node object per element.
 */

const CHUNK_MAX = 128;
const CHUNK_MIN = 32;

interface Chunk {
  scores: number[];
  members: string[];
}

/** (s1, m1) compared with (s2, m2). */
export function compareEntries(s1: number, m1: string, s2: number, m2: string): number {
  if (s1 < s2) return -1;
  if (s1 > s2) return 1;
  return m1 < m2 ? -1 : m1 > m2 ? 1 : 0;
}

export class ZTree {
  private chunks: Chunk[] = [];
  /** Fenwick tree over chunk sizes (1-based); rebuilt when chunks split or merge. */
  private fen: number[] = [0];
  private fenValid = true;
  size = 0;

  // ---- Fenwick helpers --------------------------------------------------------

  private rebuildFenwick(): void {
    const n = this.chunks.length;
    const fen = new Array<number>(n + 1).fill(0);
    for (let i = 1; i <= n; i++) {
      fen[i]! += this.chunks[i - 1]!.scores.length;
      const j = i + (i & -i);
      if (j <= n) fen[j]! += fen[i]!;
    }
    this.fen = fen;
    this.fenValid = true;
  }

  private fenAdd(chunkIndex: number, delta: number): void {
    if (!this.fenValid) return;
    for (let i = chunkIndex + 1; i < this.fen.length; i += i & -i) this.fen[i]! += delta;
  }

  /** Elements in chunks [0, chunkIndex). */
  private before(chunkIndex: number): number {
    if (!this.fenValid) this.rebuildFenwick();
    let sum = 0;
    for (let i = chunkIndex; i > 0; i -= i & -i) sum += this.fen[i]!;
    return sum;
  }

  /** The chunk holding rank r and the offset inside it. */
  private locateRank(r: number): [number, number] {
    if (!this.fenValid) this.rebuildFenwick();
    const n = this.chunks.length;
    let pos = 0;
    let rem = r;
    let step = 1;
    while (step * 2 <= n) step *= 2;
    for (; step > 0; step >>= 1) {
      const next = pos + step;
      if (next <= n && this.fen[next]! <= rem) {
        pos = next;
        rem -= this.fen[next]!;
      }
    }
    return [pos, rem];
  }

  // ---- search -------------------------------------------------------------------

  /** First chunk whose last element is >= (score, member); chunks.length if none. */
  private chunkFor(score: number, member: string): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    let ans = this.chunks.length;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid]!;
      const last = c.scores.length - 1;
      if (compareEntries(c.scores[last]!, c.members[last]!, score, member) >= 0) {
        ans = mid;
        hi = mid - 1;
      } else lo = mid + 1;
    }
    return ans;
  }

  /** Index of the first element >= (score, member) inside chunk c. */
  private static lowerIn(c: Chunk, score: number, member: string): number {
    let lo = 0;
    let hi = c.scores.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compareEntries(c.scores[mid]!, c.members[mid]!, score, member) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  // ---- updates -------------------------------------------------------------------

  insert(score: number, member: string): void {
    this.size++;
    if (this.chunks.length === 0) {
      this.chunks.push({ scores: [score], members: [member] });
      this.fenValid = false;
      return;
    }
    let ci = this.chunkFor(score, member);
    if (ci === this.chunks.length) ci--;
    const c = this.chunks[ci]!;
    const at = ZTree.lowerIn(c, score, member);
    c.scores.splice(at, 0, score);
    c.members.splice(at, 0, member);
    if (c.scores.length > CHUNK_MAX) {
      const half = c.scores.length >> 1;
      const right: Chunk = { scores: c.scores.splice(half), members: c.members.splice(half) };
      this.chunks.splice(ci + 1, 0, right);
      this.fenValid = false;
    } else {
      this.fenAdd(ci, 1);
    }
  }

  /** Remove (score, member); false if absent. */
  remove(score: number, member: string): boolean {
    const ci = this.chunkFor(score, member);
    if (ci === this.chunks.length) return false;
    const c = this.chunks[ci]!;
    const at = ZTree.lowerIn(c, score, member);
    if (at >= c.scores.length || c.members[at] !== member || c.scores[at] !== score) return false;
    this.removeAt(ci, at);
    return true;
  }

  private removeAt(ci: number, at: number): void {
    const c = this.chunks[ci]!;
    c.scores.splice(at, 1);
    c.members.splice(at, 1);
    this.size--;
    if (c.scores.length === 0) {
      this.chunks.splice(ci, 1);
      this.fenValid = false;
    } else if (c.scores.length < CHUNK_MIN && ci + 1 < this.chunks.length && c.scores.length + this.chunks[ci + 1]!.scores.length <= CHUNK_MAX) {
      const next = this.chunks[ci + 1]!;
      c.scores.push(...next.scores);
      c.members.push(...next.members);
      this.chunks.splice(ci + 1, 1);
      this.fenValid = false;
    } else {
      this.fenAdd(ci, -1);
    }
  }

  /** Remove ranks [start, end] (inclusive), whole chunks at a time. */
  removeRange(start: number, end: number): void {
    let remaining = end - start + 1;
    if (remaining <= 0) return;
    let [ci, off] = this.locateRank(start);
    let emptyFrom = -1;
    let emptyCount = 0;
    while (remaining > 0 && ci < this.chunks.length) {
      const c = this.chunks[ci]!;
      const take = Math.min(remaining, c.scores.length - off);
      if (off === 0 && take === c.scores.length) {
        if (emptyFrom < 0) emptyFrom = ci;
        emptyCount++;
      } else {
        c.scores.splice(off, take);
        c.members.splice(off, take);
      }
      remaining -= take;
      this.size -= take;
      ci++;
      off = 0;
    }
    if (emptyCount > 0) this.chunks.splice(emptyFrom, emptyCount);
    this.fenValid = false;
  }

  // ---- rank queries -----------------------------------------------------------------

  /** 0-based rank of an element known to be present. */
  rank(score: number, member: string): number {
    const ci = this.chunkFor(score, member);
    return this.before(ci) + ZTree.lowerIn(this.chunks[ci]!, score, member);
  }

  /** Number of elements < (score, member). */
  countBefore(score: number, member: string): number {
    const ci = this.chunkFor(score, member);
    if (ci === this.chunks.length) return this.size;
    return this.before(ci) + ZTree.lowerIn(this.chunks[ci]!, score, member);
  }

  scoreAt(r: number): number {
    const [ci, off] = this.locateRank(r);
    return this.chunks[ci]!.scores[off]!;
  }

  memberAt(r: number): string {
    const [ci, off] = this.locateRank(r);
    return this.chunks[ci]!.members[off]!;
  }

  /** Visit ranks from `start` upward (or downward when reverse) while fn returns true. */
  walk(start: number, reverse: boolean, fn: (member: string, score: number) => boolean): void {
    if (start < 0 || start >= this.size) return;
    let [ci, off] = this.locateRank(start);
    for (;;) {
      const c = this.chunks[ci]!;
      if (!fn(c.members[off]!, c.scores[off]!)) return;
      if (reverse) {
        if (--off < 0) {
          if (--ci < 0) return;
          off = this.chunks[ci]!.scores.length - 1;
        }
      } else if (++off >= c.scores.length) {
        if (++ci >= this.chunks.length) return;
        off = 0;
      }
    }
  }

  /** First rank whose score is >= min (> min when exclusive). */
  firstScoreRank(min: number, exclusive: boolean): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid]!;
      const last = c.scores[c.scores.length - 1]!;
      if (exclusive ? last > min : last >= min) hi = mid;
      else lo = mid + 1;
    }
    if (lo === this.chunks.length) return this.size;
    const c = this.chunks[lo]!;
    let a = 0;
    let b = c.scores.length;
    while (a < b) {
      const m = (a + b) >> 1;
      const s = c.scores[m]!;
      if (exclusive ? s > min : s >= min) b = m;
      else a = m + 1;
    }
    return this.before(lo) + a;
  }

  /** First rank whose member is >= min (> when exclusive), for sets whose scores are all equal. */
  firstLexRank(min: string, exclusive: boolean): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const c = this.chunks[mid]!;
      const last = c.members[c.members.length - 1]!;
      if (exclusive ? last > min : last >= min) hi = mid;
      else lo = mid + 1;
    }
    if (lo === this.chunks.length) return this.size;
    const c = this.chunks[lo]!;
    let a = 0;
    let b = c.members.length;
    while (a < b) {
      const m = (a + b) >> 1;
      const s = c.members[m]!;
      if (exclusive ? s > min : s >= min) b = m;
      else a = m + 1;
    }
    return this.before(lo) + a;
  }

  clone(): ZTree {
    const t = new ZTree();
    t.chunks = this.chunks.map((c) => ({ scores: c.scores.slice(), members: c.members.slice() }));
    t.size = this.size;
    t.fenValid = false;
    return t;
  }
}
