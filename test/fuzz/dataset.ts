/**
 * The dataset every command-fuzzer episode starts from: keys of every type
 * and encoding (small and big hashes, lists, sets, intsets, sorted sets,
 * int/embstr/raw/binary strings, a key with a TTL, keys in db 1), with
 * sizes drawn per episode so the encodings sit on both sides of their
 * thresholds. Names tell the type so a failure report reads easily.
 */

import type { Rng } from './rng.js';
import { MEMBERS } from './values.js';

export const KEYS = [
  'str:int', 'str:neg', 'str:big', 'str:float', 'str:embstr', 'str:raw', 'str:bin', 'str:empty', 'str:long', 'str:ttl',
  'hash:small', 'hash:big', 'hash:num',
  'list:small', 'list:big', 'list:num',
  'set:int', 'set:bigint', 'set:small', 'set:big',
  'zset:small', 'zset:big', 'zset:lex', 'zset:inf',
  'stream:a', 'stream:big',
  'nokey', 'new:a', 'new:b',
];

/** Members/fields/elements for a collection of n entries, starting with the shared names. */
function names(prefix: string, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(i < 10 ? `${prefix}${i}` : `${prefix}${i}-${'p'.repeat(i % 7)}`);
  return out;
}

export function prepareCommands(rng: Rng): string[][] {
  const cmds: string[][] = [];
  const far = String(Date.now() + 1e9);
  cmds.push(['SET', 'str:int', String(rng.range(-20, 20000))]);
  cmds.push(['SET', 'str:neg', '-7']);
  cmds.push(['SET', 'str:big', rng.pick(['9223372036854775807', '-9223372036854775808', '9223372036854775806'])]);
  cmds.push(['SET', 'str:float', rng.pick(['3.5', '1e10', '-0.25', '1.7976931348623157e308'])]);
  cmds.push(['SET', 'str:embstr', 'hello']);
  cmds.push(['SET', 'str:raw', 'r'.repeat(rng.range(44, 300))]);
  cmds.push(['SET', 'str:bin', '\x00\xff\r\n\x80bin']);
  cmds.push(['SET', 'str:empty', '']);
  cmds.push(['SET', 'str:long', 'a'.repeat(rng.range(1000, 6000))]);
  cmds.push(['SET', 'str:ttl', 'v', 'PXAT', far]);

  const hashSmall = ['HSET', 'hash:small', 'f0', 'v0', 'f1', '1', 'f2', '-5', 'a', ''];
  cmds.push(hashSmall);
  const bigHash = rng.range(100, 300);
  const hb = ['HSET', 'hash:big'];
  for (const f of names('f', bigHash)) hb.push(f, rng.chance(0.1) ? 'v'.repeat(70) : String(rng.range(0, 1000)));
  cmds.push(hb);
  cmds.push(['HSET', 'hash:num', 'f0', '10', 'f1', '1.5', 'f2', '9223372036854775807', 'f3', '-9223372036854775808', 'f9', 'nan']);

  cmds.push(['RPUSH', 'list:small', 'a', 'b', 'c', '1', '2', 'a', 'm0']);
  const lb = ['RPUSH', 'list:big'];
  const bigList = rng.range(200, 1500);
  for (let i = 0; i < bigList; i++) lb.push(rng.chance(0.3) ? String(i) : rng.pick(MEMBERS) + ':' + 'e'.repeat(i % 20));
  cmds.push(lb);
  cmds.push(['RPUSH', 'list:num', '3', '1', '2', '10', '-1', '1.5', '100']);

  cmds.push(['SADD', 'set:int', '1', '2', '3', '10', '-1', '100', '12345']);
  const sbi = ['SADD', 'set:bigint'];
  const bigInts = rng.range(400, 700);
  for (let i = 0; i < bigInts; i++) sbi.push(String(i * 3 - 50));
  cmds.push(sbi);
  cmds.push(['SADD', 'set:small', 'm0', 'm1', 'm2', 'a', 'b', '1', '']);
  const sb = ['SADD', 'set:big'];
  for (const m of names('m', rng.range(100, 300))) sb.push(m);
  cmds.push(sb);

  cmds.push(['ZADD', 'zset:small', '1', 'm0', '2', 'm1', '2', 'm2', '-1.5', 'a', '0', 'b']);
  const zb = ['ZADD', 'zset:big'];
  for (const m of names('m', rng.range(100, 300))) zb.push(String(rng.range(-50, 50) / (rng.chance(0.5) ? 1 : 4)), m);
  cmds.push(zb);
  cmds.push(['ZADD', 'zset:lex', '0', 'a', '0', 'b', '0', 'c', '0', 'm0', '0', 'm1', '0', 'x', '0', '']);
  cmds.push(['ZADD', 'zset:inf', 'inf', 'm0', '-inf', 'm1', '0', 'm2', '1e308', 'm3']);

  const sa: string[][] = [];
  for (let i = 1; i <= 12; i++) sa.push(['XADD', 'stream:a', `${i}-${i % 3}`, 'f', `v${i}`, ...(i % 4 === 0 ? ['g', String(i)] : [])]);
  cmds.push(...sa, ['XDEL', 'stream:a', '5-2'], ['XGROUP', 'CREATE', 'stream:a', 'g', '0'], ['XGROUP', 'CREATE', 'stream:a', 'g2', '$']);
  cmds.push(['XREADGROUP', 'GROUP', 'g', 'alice', 'COUNT', '3', 'STREAMS', 'stream:a', '>'], ['XREADGROUP', 'GROUP', 'g', 'bob', 'COUNT', '2', 'STREAMS', 'stream:a', '>']);
  const bigStream = rng.range(100, 400);
  for (let i = 1; i <= bigStream; i++) cmds.push(['XADD', 'stream:big', `${i}-*`, 'name', rng.pick(MEMBERS), 'n', String(i)]);

  cmds.push(['SELECT', '1'], ['SET', 'str:int', '1'], ['RPUSH', 'list:small', 'x', 'y'], ['SADD', 'set:int', '1', '2'], ['SELECT', '0']);
  return cmds;
}
