/**
 * Stream replies carry times (consumers' seen/active times, delivery
 * times, idle times) that two servers never agree on to the millisecond:
 * they are masked before replies are compared. Everything else (IDs,
 * counters, owners, delivery counts, entries) is compared exactly.
 */

import type { Reply } from './resp.js';
import { normalize } from './differential.js';
import type { RespClient } from './resp.js';

const TIME_KEYS = new Set(['seen-time', 'active-time', 'idle', 'inactive']);
const MASK: Reply = { type: 'simple', value: '<time>' };

function keyName(r: Reply | undefined): string | null {
  return r !== undefined && (r.type === 'bulk' || r.type === 'simple') ? r.value : null;
}

/** Timestamps (ms since the epoch) anywhere, and the values of the time fields. */
function maskDeep(r: Reply): Reply {
  if (r.type === 'integer') return Number(r.value) > 1e12 ? MASK : r;
  if (r.type === 'map') return { type: 'map', value: r.value.map(([k, v]) => [k, TIME_KEYS.has(keyName(k) ?? '') ? MASK : maskDeep(v)]) };
  if ((r.type === 'array' || r.type === 'set' || r.type === 'push') && r.value !== null) {
    const items = r.value;
    const out = items.map((x, i) => (i % 2 === 1 && TIME_KEYS.has(keyName(items[i - 1]) ?? '') ? MASK : maskDeep(x)));
    return { type: r.type, value: out } as Reply;
  }
  return r;
}

/** XPENDING's extended form: [id, consumer, idle ms, deliveries] per row; the idle time is masked. */
function maskPendingRows(r: Reply): Reply {
  if (r.type !== 'array' || r.value === null) return r;
  return {
    type: 'array',
    value: r.value.map((row) => (row.type === 'array' && row.value !== null && row.value.length === 4 ? { type: 'array', value: [row.value[0]!, row.value[1]!, MASK, row.value[3]!] } : row)),
  };
}

export function maskTimes(r: Reply, args: string[]): Reply {
  const name = args[0]!.toLowerCase();
  if (name === 'xpending' && args.length > 3) return maskPendingRows(r);
  return maskDeep(r);
}

/**
 * Redis 7.2's XREADGROUP, XCLAIM and XAUTOCLAIM create their consumer
 * whether or not they deliver or claim anything; 7.0 only when they do.
 * After one of them (not an error) the reference is sent these XGROUP
 * CREATECONSUMER commands, so both hold the same consumers
 * (KNOWN_DIFFERENCES compares replies; this keeps the states equal).
 */
export function consumersLike72(args: readonly string[], reply: Reply): string[][] {
  const name = args[0]!.toLowerCase();
  if (reply.type === 'error') return [];
  if ((name === 'xclaim' || name === 'xautoclaim') && args.length > 3) return [['XGROUP', 'CREATECONSUMER', args[1]!, args[2]!, args[3]!]];
  if (name !== 'xreadgroup') return [];
  const upper = args.map((a) => a.toUpperCase());
  const g = upper.indexOf('GROUP');
  const at = upper.indexOf('STREAMS');
  if (g < 0 || at < 0 || g + 2 >= args.length) return [];
  const out: string[][] = [];
  for (let i = 0; i < (args.length - at - 1) / 2; i++) out.push(['XGROUP', 'CREATECONSUMER', args[at + 1 + i]!, args[g + 1]!, args[g + 2]!]);
  return out;
}

/** Send to both, apply KNOWN_DIFFERENCES and the time mask, and require equal replies. Returns Vireo's masked reply. */
export async function checkMasked(redis: RespClient, vireo: RespClient, args: string[]): Promise<Reply> {
  const [a, b] = await Promise.all([redis.call(...args), vireo.call(...args)]);
  for (const cmd of consumersLike72(args, a)) await redis.call(...cmd);
  const ra = maskTimes(normalize(a, 'redis', args), args);
  const rb = maskTimes(normalize(b, 'vireo', args), args);
  const sa = JSON.stringify(ra);
  const sb = JSON.stringify(rb);
  if (sa !== sb) throw new Error(`reply mismatch for ${JSON.stringify(args)}\n  redis: ${sa}\n  vireo: ${sb}\n  first difference: ${firstDifference(sa, sb)}`);
  return rb;
}

/** Where two reply texts part: a few characters of each from there. */
export function firstDifference(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  const from = Math.max(0, i - 80);
  return `at ${i}: redis …${a.slice(from, i + 80)} / vireo …${b.slice(from, i + 80)}`;
}
