/**
 * Sorted sets (Redis 7.2's t_zset.c): `listpack` while small (a packed
 * string of member, score pairs in order), `skiplist` beyond
 * zset-max-listpack-entries/-value: a Map member -> score plus a ZTree
 * ordered index (O(log n) insert, delete and rank, like the skiplist).
 *
 * Reads go through a ZView, which both encodings provide, so every range
 * command is written once.
 */

import { RObject } from './value.js';
import { PackedReader, packEntry, lpSafeToAdd, splice } from './packed.js';
import { ZTree, compareEntries } from './ztree.js';
import { ScanMap } from '../util/bigmap.js';
import { formatDouble } from '../util/numbers.js';
import type { EncodingLimits } from './limits.js';

/** Ordered read access to a sorted set. */
export interface ZView {
  readonly size: number;
  scoreAt(rank: number): number;
  memberAt(rank: number): string;
  /** Visit from `start` (ascending, or descending when reverse) while fn returns true. */
  walk(start: number, reverse: boolean, fn: (member: string, score: number) => boolean): void;
  firstScoreRank(min: number, exclusive: boolean): number;
  firstLexRank(min: string, exclusive: boolean): number;
}

/** A decoded listpack: plain sorted arrays. */
class ArrayView implements ZView {
  constructor(
    readonly members: string[],
    readonly scores: number[],
  ) {}
  get size(): number {
    return this.members.length;
  }
  scoreAt(r: number): number {
    return this.scores[r]!;
  }
  memberAt(r: number): string {
    return this.members[r]!;
  }
  walk(start: number, reverse: boolean, fn: (member: string, score: number) => boolean): void {
    if (reverse) {
      for (let i = start; i >= 0; i--) if (!fn(this.members[i]!, this.scores[i]!)) return;
    } else {
      for (let i = start; i < this.members.length; i++) if (!fn(this.members[i]!, this.scores[i]!)) return;
    }
  }
  firstScoreRank(min: number, exclusive: boolean): number {
    let i = 0;
    while (i < this.scores.length && (exclusive ? this.scores[i]! <= min : this.scores[i]! < min)) i++;
    return i;
  }
  firstLexRank(min: string, exclusive: boolean): number {
    let i = 0;
    while (i < this.members.length && (exclusive ? this.members[i]! <= min : this.members[i]! < min)) i++;
    return i;
  }
}

/**
 * Scores as a Redis listpack holds them: integral scores (double2ll) are
 * stored as integers, so -0 reads back as 0; others as d2string text.
 */
function scoreText(score: number): string {
  if (score === 0) return '0';
  return formatDouble(score);
}

function parseScoreText(s: string): number {
  if (s === 'inf') return Infinity;
  if (s === '-inf') return -Infinity;
  return Number(s);
}

export class ZSetValue extends RObject {
  readonly type = 'zset' as const;
  private packed: string | null = '';
  private packedCount = 0;
  private dict: ScanMap<number> | null = null;
  private tree: ZTree | null = null;

  /** Redis' zsetTypeCreate: listpack if `sizeHint` elements of `maxLenHint` bytes fit. */
  static create(sizeHint: number, maxLenHint: number, limits: EncodingLimits): ZSetValue {
    const z = new ZSetValue();
    if (!(limits.zsetMaxListpackEntries > 0 && sizeHint <= limits.zsetMaxListpackEntries && maxLenHint <= limits.zsetMaxListpackValue)) {
      z.toSkiplist();
    }
    return z;
  }

  encoding(): string {
    return this.tree === null ? 'listpack' : 'skiplist';
  }

  get isPacked(): boolean {
    return this.tree === null;
  }

  get size(): number {
    return this.tree === null ? this.packedCount : this.tree.size;
  }

  /** Redis 7.2's zsetTypeMaybeConvert, before a batch of additions (size only). */
  maybeConvert(sizeHint: number, limits: EncodingLimits): void {
    if (this.tree === null && sizeHint > limits.zsetMaxListpackEntries) this.toSkiplist();
  }

  private unpack(): ArrayView {
    const members: string[] = [];
    const scores: number[] = [];
    const r = new PackedReader(this.packed!);
    while (r.next()) {
      members.push(r.value());
      if (!r.next()) break;
      scores.push(parseScoreText(r.value()));
    }
    return new ArrayView(members, scores);
  }

  private repack(v: ArrayView): void {
    const parts = new Array<string>(v.members.length * 2);
    for (let i = 0; i < v.members.length; i++) {
      parts[2 * i] = packEntry(v.members[i]!);
      parts[2 * i + 1] = packEntry(scoreText(v.scores[i]!));
    }
    this.packed = parts.join('');
    this.packedCount = v.members.length;
  }

  /** Ordered read access (decodes a listpack once per call). */
  view(): ZView {
    return this.tree !== null ? this.tree : this.unpack();
  }

  score(member: string): number | undefined {
    if (this.dict !== null) return this.dict.get(member);
    const r = new PackedReader(this.packed!);
    while (r.next()) {
      const hit = r.equals(member);
      if (!r.next()) break;
      if (hit) return parseScoreText(r.value());
    }
    return undefined;
  }

  /** Insert a member that is not present (Redis' zsetAdd insert path). */
  insert(member: string, score: number, limits: EncodingLimits): void {
    if (this.tree === null) {
      if (this.packedCount + 1 > limits.zsetMaxListpackEntries || member.length > limits.zsetMaxListpackValue || !lpSafeToAdd(this.packed!.length, member.length)) {
        this.toSkiplist();
      } else {
        const v = this.unpack();
        let i = 0;
        while (i < v.members.length && compareEntries(v.scores[i]!, v.members[i]!, score, member) < 0) i++;
        v.members.splice(i, 0, member);
        v.scores.splice(i, 0, score);
        this.repack(v);
        return;
      }
    }
    this.dict!.set(member, score);
    this.tree!.insert(score, member);
  }

  /** Change the score of a present member. */
  update(member: string, oldScore: number, newScore: number): void {
    if (this.tree === null) {
      const v = this.unpack();
      const i = v.members.indexOf(member);
      v.members.splice(i, 1);
      v.scores.splice(i, 1);
      let j = 0;
      while (j < v.members.length && compareEntries(v.scores[j]!, v.members[j]!, newScore, member) < 0) j++;
      v.members.splice(j, 0, member);
      v.scores.splice(j, 0, newScore);
      this.repack(v);
      return;
    }
    this.tree.remove(oldScore, member);
    this.tree.insert(newScore, member);
    this.dict!.set(member, newScore);
  }

  remove(member: string): boolean {
    if (this.tree === null) {
      const p = this.packed!;
      const r = new PackedReader(p);
      while (r.next()) {
        const from = r.entryStart;
        const hit = r.equals(member);
        if (!r.next()) break;
        if (hit) {
          this.packed = splice(p, from, r.end, '');
          this.packedCount--;
          return true;
        }
      }
      return false;
    }
    const score = this.dict!.get(member);
    if (score === undefined) return false;
    this.dict!.delete(member);
    this.tree.remove(score, member);
    return true;
  }

  /** 0-based ascending rank of a member, or null. */
  rank(member: string): number | null {
    if (this.tree === null) {
      const v = this.unpack();
      const i = v.members.indexOf(member);
      return i < 0 ? null : i;
    }
    const score = this.dict!.get(member);
    return score === undefined ? null : this.tree.rank(score, member);
  }

  /** Delete ranks [start, end] (inclusive, ascending). */
  removeRankRange(start: number, end: number): void {
    if (end < start) return;
    if (this.tree === null) {
      const v = this.unpack();
      v.members.splice(start, end - start + 1);
      v.scores.splice(start, end - start + 1);
      this.repack(v);
      return;
    }
    const doomed: string[] = [];
    this.tree.walk(start, false, (m) => {
      doomed.push(m);
      return doomed.length < end - start + 1;
    });
    for (const m of doomed) this.dict!.delete(m);
    this.tree.removeRange(start, end);
  }

  /** Members and scores in ascending order. */
  *entries(): IterableIterator<[string, number]> {
    const v = this.view();
    const out: [string, number][] = [];
    v.walk(0, false, (m, s) => {
      out.push([m, s]);
      return true;
    });
    yield* out;
  }

  toSkiplist(): void {
    if (this.tree !== null) return;
    const v = this.unpack();
    this.dict = new ScanMap();
    this.tree = new ZTree();
    for (let i = 0; i < v.members.length; i++) {
      this.dict.set(v.members[i]!, v.scores[i]!);
      this.tree.insert(v.scores[i]!, v.members[i]!);
    }
    this.packed = null;
    this.packedCount = 0;
  }

  /** Redis' zsetConvertToListpackIfNeeded (after store commands). */
  maybeToListpack(limits: EncodingLimits): void {
    if (this.tree === null || this.tree.size > limits.zsetMaxListpackEntries) return;
    let maxLen = 0;
    let total = 0;
    for (const m of this.dict!.keys()) {
      maxLen = Math.max(maxLen, m.length);
      total += m.length;
    }
    if (maxLen > limits.zsetMaxListpackValue || !lpSafeToAdd(0, total)) return;
    const members: string[] = [];
    const scores: number[] = [];
    this.tree.walk(0, false, (m, s) => {
      members.push(m);
      scores.push(s);
      return true;
    });
    this.tree = null;
    this.dict = null;
    this.repack(new ArrayView(members, scores));
  }

  clone(): ZSetValue {
    const z = new ZSetValue();
    if (this.tree === null) {
      z.packed = this.packed;
      z.packedCount = this.packedCount;
    } else {
      z.packed = null;
      z.tree = this.tree.clone();
      z.dict = new ScanMap(this.dict!.entries());
    }
    return z;
  }

  /** member -> score table, for ZSCAN (null while listpack). */
  get scoreTable(): ScanMap<number> | null {
    return this.dict;
  }

  memoryUsage(): number {
    if (this.tree === null) return 48 + this.packed!.length;
    let bytes = 96;
    for (const m of this.dict!.keys()) bytes += 32 + 24 + m.length + 16;
    return bytes;
  }
}
