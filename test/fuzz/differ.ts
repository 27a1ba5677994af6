/**
 * Reply comparison for the command fuzzer: KNOWN_DIFFERENCES first (the
 * project's one list of 7.0-vs-7.2 differences), then FUZZ_DIFFERENCES
 * (randomness, time, server state), then byte-equal. A remaining
 * difference is either a pending fix (tolerated and counted) or a failure.
 */

import { closeEnough, normalize } from '../helpers/differential.js';
import type { Reply } from '../helpers/resp.js';
import { FUZZ_DIFFERENCES, OPEN_ISSUES, commandName, type PendingFix } from './known.js';

export type Verdict =
  | { kind: 'equal' }
  | { kind: 'tolerated'; issue: string; resync: string[][] }
  | { kind: 'mismatch'; redis: string; vireo: string };

function normalized(r: Reply, from: 'redis' | 'vireo', args: string[]): Reply {
  let out = normalize(r, from, args);
  for (const d of FUZZ_DIFFERENCES) if (d.applies(args)) out = d.normalize(out, args);
  return out;
}

function tolerance(args: string[]): number {
  let t = 0;
  for (const d of FUZZ_DIFFERENCES) if (d.applies(args) && d.tolerance !== undefined) t = Math.max(t, d.tolerance);
  return t;
}

/** A reply as short text for reports. */
export function show(r: Reply, max = 300): string {
  const s = JSON.stringify(r);
  return s.length <= max ? s : `${s.slice(0, max)}... (${s.length} chars)`;
}

const ENCODINGS_72 = new Set(['listpack', 'hashtable', 'intset']);

/**
 * OBJECT ENCODING: 7.2 reports small lists as listpack (7.0: quicklist) and
 * has listpack sets (7.0: intset/hashtable), and sizes a new set from the
 * SADD argument count, and converts a listpack sorted set by the count of
 * ZADD/ZINCRBY elements; `typeOf` tells the key's type.
 */
async function encodingDiffers72(a: Reply, b: Reply, typeOf: () => Promise<string>): Promise<boolean> {
  if (a.type !== 'bulk' || b.type !== 'bulk' || a.value === null || b.value === null) return false;
  if (a.value === 'quicklist' && b.value === 'listpack') return true;
  // 7.2's zsetTypeMaybeConvert converts a listpack ZADD/ZINCRBY target by the count of
  // elements coming, even when they update existing members; 7.0 only when one is added.
  if (a.value === 'listpack' && b.value === 'skiplist') return (await typeOf()) === 'zset';
  if (ENCODINGS_72.has(a.value) && ENCODINGS_72.has(b.value)) {
    const t = await typeOf();
    return t === 'set' || t === 'none';
  }
  return false;
}

function pendingFor(args: string[], a: Reply, b: Reply): PendingFix | null {
  for (const p of OPEN_ISSUES) if (p.tolerate?.(args, a, b) === true) return p;
  return null;
}

export async function compareReplies(args: string[], a: Reply, b: Reply, typeOf: () => Promise<string>): Promise<Verdict> {
  const na = normalized(a, 'redis', args);
  const nb = normalized(b, 'vireo', args);
  const sa = JSON.stringify(na);
  const sb = JSON.stringify(nb);
  if (sa === sb || closeEnough(args, na, nb)) return { kind: 'equal' };
  const tol = tolerance(args);
  if (tol > 0 && na.type === 'integer' && nb.type === 'integer') {
    // Negative values are codes (-1 no expire, -2 no key), compared exactly.
    const [x, y] = [Number(na.value), Number(nb.value)];
    if (x >= 0 && y >= 0 && Math.abs(x - y) <= tol) return { kind: 'equal' };
  }
  if (FUZZ_DIFFERENCES.some((d) => d.applies(args) && d.accept?.(na, nb) === true)) return { kind: 'equal' };
  if (commandName(args) === 'object|encoding' && (await encodingDiffers72(a, b, typeOf))) return { kind: 'equal' };
  const pending = pendingFor(args, a, b);
  if (pending !== null) return { kind: 'tolerated', issue: pending.issue, resync: pending.resync?.(args) ?? [] };
  return { kind: 'mismatch', redis: show(a), vireo: show(b) };
}
