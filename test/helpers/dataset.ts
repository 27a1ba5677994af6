/**
 * Helpers for persistence interop tests: read a whole dataset through
 * commands (so two servers can be compared value by value), build datasets
 * that exercise every encoding, pipeline many commands, and wait for
 * background saves.
 */

import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { encodeCommand, type Reply, RespClient, toJs } from './resp.js';
import { tempDir } from './servers.js';
import { formatFpconv } from '../../src/util/numbers.js';

export type Cmd = (string | Buffer)[];

/** Send many commands at once and collect every reply (in order). */
export async function pipeline(c: RespClient, cmds: Cmd[], batch = 1000): Promise<Reply[]> {
  const out: Reply[] = [];
  for (let i = 0; i < cmds.length; i += batch) {
    const part = cmds.slice(i, i + batch);
    c.writeRaw(Buffer.concat(part.map((a) => encodeCommand(a))));
    for (let j = 0; j < part.length; j++) out.push((await c.read()).reply);
  }
  return out;
}

/** Like pipeline, but fails on any error reply. */
export async function pipelineOk(c: RespClient, cmds: Cmd[]): Promise<Reply[]> {
  const replies = await pipeline(c, cmds);
  replies.forEach((r, i) => {
    if (r.type === 'error') throw new Error(`${JSON.stringify(cmds[i]!.map(String)).slice(0, 200)} -> ${r.value}`);
  });
  return replies;
}

export async function call(c: RespClient, ...args: (string | Buffer)[]): Promise<unknown> {
  const r = await c.call(...args);
  if (r.type === 'error') throw new Error(`${args.map(String).join(' ').slice(0, 200)} -> ${r.value}`);
  return toJs(r);
}

export async function digest(c: RespClient): Promise<string> {
  return (await call(c, 'DEBUG', 'DIGEST')) as string;
}

/**
 * Fails unless the two servers' DEBUG DIGEST are equal. On a mismatch the
 * error names the keys whose type, value or expiry differ (read through
 * commands), so a rare failure explains itself in the CI log.
 */
export async function expectSameDigest(actual: RespClient, expected: RespClient, label = 'DEBUG DIGEST'): Promise<void> {
  const [a, e] = [await digest(actual), await digest(expected)];
  if (a === e) return;
  const [ca, ce] = [await contents(actual), await contents(expected)];
  const diffs: string[] = [];
  for (const k of new Set([...Object.keys(ca), ...Object.keys(ce)])) {
    const x = JSON.stringify(ca[k] ?? null);
    const y = JSON.stringify(ce[k] ?? null);
    if (x !== y) diffs.push(`${k}: ${x.slice(0, 300)} <> expected ${y.slice(0, 300)}`);
  }
  // Digests of equal contents differ on the expiry marks or the 7.0/7.2 score texts: say so too.
  throw new Error(`${label}: ${a} <> expected ${e}; ${diffs.length} key(s) differ:\n${diffs.slice(0, 20).join('\n')}`);
}

/** A float text from either %.17g (Redis 7.0) or the shortest form (7.2) as one canonical text. */
function num(s: unknown): string {
  const t = String(s);
  if (t === 'inf' || t === '-inf') return t;
  return String(Number(t));
}

const byString = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

export interface KeyDump {
  type: string;
  value: unknown;
  /** Absolute expiry in ms (PEXPIRETIME), -1 without a TTL. */
  expireAt: number;
}

/** One key's type, value (in a form comparable across servers) and absolute expiry. */
export async function keyDump(c: RespClient, k: string | Buffer): Promise<KeyDump> {
  const type = (await call(c, 'TYPE', k)) as string;
  let value: unknown;
  switch (type) {
    case 'string':
      value = await call(c, 'GET', k);
      break;
    case 'list':
      value = await call(c, 'LRANGE', k, '0', '-1');
      break;
    case 'set':
      value = ((await call(c, 'SMEMBERS', k)) as string[]).sort(byString);
      break;
    case 'zset': {
      const flat = (await call(c, 'ZRANGE', k, '0', '-1', 'WITHSCORES')) as string[];
      value = flat.map((x, i) => (i % 2 === 1 ? num(x) : x));
      break;
    }
    case 'hash': {
      const flat = (await call(c, 'HGETALL', k)) as string[];
      const pairs: string[][] = [];
      for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
      value = pairs.sort((a, b) => byString(a[0]!, b[0]!));
      break;
    }
    case 'none':
      value = null;
      break;
    default:
      // The DUMP payload of a stream, minus its version and checksum (the RDB version may differ).
      value = ((await call(c, 'DUMP', k)) as string).slice(0, -10);
  }
  const expireAt = Number(await call(c, 'PEXPIRETIME', k));
  return { type, value, expireAt };
}

/**
 * Every key of every database with its type, value and absolute expiry,
 * read with commands both Redis and Vireo answer. Streams (Vireo has no
 * stream commands) are compared through their DUMP payload.
 */
export async function contents(c: RespClient, dbs = 16): Promise<Record<string, KeyDump>> {
  const out: Record<string, KeyDump> = {};
  for (let db = 0; db < dbs; db++) {
    await call(c, 'SELECT', String(db));
    const keys = ((await call(c, 'KEYS', '*')) as string[]).sort(byString);
    for (const k of keys) out[`${db}:${k}`] = await keyDump(c, k);
  }
  await call(c, 'SELECT', '0');
  return out;
}

/** C's printf("%.17g"), which Redis 7.0's DEBUG DIGEST uses for sorted-set scores. */
export function g17(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const [mant, e] = x.toExponential(16).split('e');
  const exp = Number(e);
  const trim = (t: string) => (t.includes('.') ? t.replace(/0+$/, '').replace(/\.$/, '') : t);
  if (exp < -4 || exp >= 17) return `${trim(mant!)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return trim(x.toFixed(16 - exp));
}

/**
 * Keys (as "db:key") of sorted sets with a score that Redis 7.0's digest
 * (%.17g) and Redis 7.2's (fpconv, which Vireo follows) print differently:
 * their DEBUG DIGEST cannot be compared with the 7.0 reference.
 */
export function digestIncomparable(c: Record<string, KeyDump>): string[] {
  const out: string[] = [];
  for (const [k, d] of Object.entries(c)) {
    if (d.type !== 'zset') continue;
    const flat = d.value as string[];
    for (let i = 1; i < flat.length; i += 2) {
      const n = Number(flat[i]);
      if (g17(n) !== formatFpconv(n)) {
        out.push(k);
        break;
      }
    }
  }
  return out;
}

/** Wait until INFO persistence says no background save runs. */
export async function waitBgsave(c: RespClient, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const info = (await call(c, 'INFO', 'persistence')) as string;
    if (/rdb_bgsave_in_progress:0/.test(info)) {
      if (!/rdb_last_bgsave_status:ok/.test(info)) throw new Error(`background save failed:\n${info}`);
      return;
    }
    if (Date.now() > deadline) throw new Error('BGSAVE did not finish');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A fresh directory holding a copy of `file` as `name`. */
export function dirWith(file: string, name = 'dump.rdb'): string {
  const dir = tempDir('vireo-rdb-');
  fs.copyFileSync(file, path.join(dir, name));
  return dir;
}

/** redis-check-rdb on a file: [exit status, output]. */
export function checkRdb(file: string): [number | null, string] {
  const r = spawnSync('redis-check-rdb', [file], { encoding: 'latin1', timeout: 20000 });
  return [r.status, `${r.stdout}${r.stderr}`];
}

/** Scores that print the same with %.17g (Redis 7.0's digest) and the shortest form (7.2). */
export const SAFE_SCORES = ['0', '1', '1.5', '0.25', '-3.75', '-7', '1024', '0.125', '12345678'];

/** One time base per test process, so datasets built on two servers carry the same absolute TTLs. */
export const BASE_TIME = Date.now();

const bin = (...bytes: number[]) => Buffer.from(bytes);

/**
 * Commands that build a dataset with every encoding Redis 7.0 and Vireo
 * write: int/embstr/raw/LZF-compressible strings, binary keys and values,
 * listpack and hashtable hashes, small and big lists, intset/listpack/
 * hashtable sets, listpack and skiplist zsets, TTLs, several databases.
 */
export function everyEncodingCommands(base = BASE_TIME): Cmd[] {
  const cmds: Cmd[] = [];
  const expireAt = String(base + 3_600_000);
  // ---- db 0 ----
  cmds.push(['SELECT', '0']);
  cmds.push(['SET', 'str', 'hello']);
  cmds.push(['SET', 'int8', '12']);
  cmds.push(['SET', 'int16', '-1234']);
  cmds.push(['SET', 'int32', '2147483647']);
  cmds.push(['SET', 'int64', '-9223372036854775808']);
  cmds.push(['SET', 'notint', '0123']);
  cmds.push(['SET', 'notint2', '+5']);
  cmds.push(['SET', 'empty', '']);
  cmds.push(['SET', 'lzf', 'abcdefgh'.repeat(500)]);
  cmds.push(['SET', 'lzf-mixed', Array.from({ length: 300 }, (_, i) => `item-${i % 17}-`).join('')]);
  cmds.push(['SET', 'incompressible', Buffer.from(Array.from({ length: 400 }, (_, i) => (i * 7919 + 13) & 0xff))]);
  cmds.push(['SET', bin(0, 1, 2, 0xff, 0x0d, 0x0a), bin(0xfe, 0, 0x80, 0x0d, 0x0a, 0x24)]);
  cmds.push(['SET', 'big', 'x'.repeat(70000)]);
  // Short strings live in the string store, and snapshots write them from its records' bytes.
  cmds.push(['SET', 'store-lzf', 'abcd'.repeat(25)]);
  cmds.push(['SET', 'store-12digits', '123456789012']);
  cmds.push(['SET', 'store-21', 'y'.repeat(21)]);
  cmds.push(['SET', 'store-high', bin(0xe9, 0x80, 0xff, 0x41)]);
  cmds.push(['HSET', 'hash-small', 'a', '1', 'b', 'two', 'c', '-3', 'd', '']);
  cmds.push(['HSET', 'hash-longval', 'f', 'v'.repeat(100)]);
  const bigHash: string[] = [];
  for (let i = 0; i < 600; i++) bigHash.push(`field:${i}`, i % 3 === 0 ? String(i) : `value-${i}`);
  cmds.push(['HSET', 'hash-big', ...bigHash]);
  cmds.push(['HSET', 'hash-bin', bin(0, 0xff), bin(0x0d, 0x0a, 0), 'k', bin(0x80, 0x81)]);
  cmds.push(['RPUSH', 'list-small', 'a', '1', 'b', '-2', '', 'c'.repeat(30)]);
  cmds.push(['RPUSH', 'list-big', ...Array.from({ length: 1200 }, (_, i) => (i % 2 === 0 ? String(i) : `e${i}`))]);
  cmds.push(['RPUSH', 'list-longitems', ...Array.from({ length: 20 }, (_, i) => `${i}`.repeat(200))]);
  cmds.push(['SADD', 'set-intset', ...Array.from({ length: 100 }, (_, i) => String(i * 3 - 50))]);
  cmds.push(['SADD', 'set-intset-wide', '1', '70000', '-5000000000']);
  cmds.push(['SADD', 'set-int-big', ...Array.from({ length: 600 }, (_, i) => String(i))]);
  cmds.push(['SADD', 'set-small', 'apple', 'banana', 'cherry', '7']);
  cmds.push(['SADD', 'set-big', ...Array.from({ length: 300 }, (_, i) => `m${i}`)]);
  cmds.push(['SADD', 'set-bin', bin(0), bin(0xff, 0xfe), bin(0x0d, 0x0a)]);
  const smallZ: string[] = [];
  SAFE_SCORES.forEach((s, i) => smallZ.push(s, `m${i}`));
  cmds.push(['ZADD', 'zset-small', ...smallZ]);
  cmds.push(['ZADD', 'zset-inf', 'inf', 'up', '-inf', 'down', '0', 'zero']);
  const bigZ: string[] = [];
  for (let i = 0; i < 300; i++) bigZ.push(String((i % 50) * 0.25 - 3), `member:${i}`);
  cmds.push(['ZADD', 'zset-big', ...bigZ]);
  cmds.push(['ZADD', 'zset-longmember', '1', 'm'.repeat(100), '2', 'n']);
  cmds.push(['SET', 'ttl-str', 'v', 'PXAT', expireAt]);
  cmds.push(['HSET', 'ttl-hash', 'f', 'v']);
  cmds.push(['PEXPIREAT', 'ttl-hash', expireAt]);
  cmds.push(['RPUSH', 'ttl-list', 'x', 'y']);
  cmds.push(['PEXPIREAT', 'ttl-list', String(base + 100_000_000)]);
  // ---- db 1, 7, 15 ----
  cmds.push(['SELECT', '1']);
  cmds.push(['SET', 'str', 'in db 1']);
  cmds.push(['ZADD', 'z', '1', 'a', '2', 'b']);
  cmds.push(['SET', 'ttl', 'x', 'PXAT', String(base + 5_000_000)]);
  cmds.push(['SELECT', '7']);
  cmds.push(['SADD', 's', '1', '2', '3']);
  cmds.push(['HSET', 'h', 'x', 'y']);
  cmds.push(['SELECT', '15']);
  cmds.push(['RPUSH', 'l', 'last', 'db']);
  cmds.push(['SELECT', '0']);
  return cmds;
}
