/**
 * Protocol sessions for the frame fuzzer: valid multibulk and inline
 * requests, the same mutated (bytes flipped, dropped, duplicated, CRLF
 * broken, counts and lengths swapped for edge numbers), and RESP edge
 * cases (huge, negative and zero-padded counts, lengths at the
 * proto-max-bulk-len edge, NUL bytes, empty lines), cut into writes at
 * random points. Each session runs on an emptied database of its own (see
 * campaign.ts), so its replies depend on nothing else.
 */

import { encodeCommand } from '../helpers/resp.js';
import type { FramedRequest } from './known.js';
import type { Rng } from './rng.js';

export interface Session {
  /** The frames, in order (each counts as one frame). */
  frames: Buffer[];
  /** Where the concatenated bytes are cut into separate writes. */
  cuts: number[];
}

const COUNT_EDGES = [
  '0', '-1', '-2', '00', '01', '+1', ' 1', '1 ', '', 'x', '1x', '-0', '2147483647', '2147483648', '4294967296', '1048576', '1048577',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '99999999999999999999', '1' + '0'.repeat(40),
];
const BULK_EDGES = [
  '0', '-1', '-2', '00', '03', '+3', '', 'x', '536870911', '536870912', '536870913', '536870888', '536870889', '2147483647', '2147483648',
  '9223372036854775807', '9223372036854775808', '-9223372036854775808', '1048576', '32768', '32767',
];

/** Deterministic commands only (values are no command names either: "hello" alone would be HELLO, whose reply names the version). */
function vocabulary(rng: Rng): string[] {
  const k = rng.pick(['k', 'n', 'l', 'h', 's', 'z', 'key:with:colons']);
  const v = rng.pick(['v', '1', '', 'hi there', '\x00\r\n', 'x'.repeat(rng.range(0, 300))]);
  return rng.pick<() => string[]>([
    () => ['PING'],
    () => ['PING', v],
    () => ['ECHO', v],
    () => ['SET', k, v],
    () => ['GET', k],
    () => ['DEL', k],
    () => ['EXISTS', k, 'k'],
    () => ['INCR', k],
    () => ['INCRBY', k, rng.pick(['5', '-1', '9223372036854775807'])],
    () => ['APPEND', k, v],
    () => ['STRLEN', k],
    () => ['MSET', k, v, 'k2', v],
    () => ['MGET', k, 'k2'],
    () => ['RPUSH', k, v, 'b'],
    () => ['LRANGE', k, '0', '-1'],
    () => ['HSET', k, 'f', v],
    () => ['HGET', k, 'f'],
    () => ['SADD', k, v],
    () => ['SCARD', k],
    () => ['ZADD', k, '1', v],
    () => ['ZRANGE', k, '0', '-1', 'WITHSCORES'],
    () => ['TYPE', k],
    () => ['NOSUCHCMD', v],
    () => ['GET'],
    () => ['get', k, 'extra'],
    () => ['QUIT'],
  ])();
}

/** Inline form with sdssplitargs quoting where needed. */
function inline(rng: Rng, args: string[]): Buffer {
  const words = args.map((a) => {
    if (a !== '' && /^[\x21-\x7e]+$/.test(a) && !/["']/.test(a) && rng.chance(0.8)) return a;
    let s = '"';
    for (const ch of a) {
      const c = ch.charCodeAt(0);
      if (ch === '"' || ch === '\\') s += '\\' + ch;
      else if (ch === '\n') s += '\\n';
      else if (ch === '\r') s += '\\r';
      else if (c < 0x20 || c > 0x7e) s += '\\x' + c.toString(16).padStart(2, '0');
      else s += ch;
    }
    return s + '"';
  });
  const sep = rng.pick([' ', ' ', '  ', '\t']);
  return Buffer.from(words.join(sep) + rng.pick(['\r\n', '\r\n', '\n']), 'latin1');
}

function replaceNumber(rng: Rng, frame: Buffer): Buffer {
  const s = frame.latin1Slice();
  const headers = [...s.matchAll(/[*$](-?\d+)\r\n/g)];
  if (headers.length === 0) return frame;
  const h = rng.pick(headers);
  const edge = h[0][0] === '*' ? rng.pick(COUNT_EDGES) : rng.pick(BULK_EDGES);
  const at = h.index! + 1;
  return Buffer.from(s.slice(0, at) + edge + s.slice(at + h[1]!.length), 'latin1');
}

function mutate(rng: Rng, frame: Buffer): Buffer {
  let f = frame;
  const edits = rng.range(1, 3);
  for (let i = 0; i < edits && f.length > 0; i++) {
    const at = rng.int(f.length);
    f = rng.pick<() => Buffer>([
      () => replaceNumber(rng, f),
      () => Buffer.concat([f.subarray(0, at), Buffer.from([rng.int(256)]), f.subarray(at + 1)]),
      () => Buffer.concat([f.subarray(0, at), f.subarray(at + 1)]),
      () => Buffer.concat([f.subarray(0, at), Buffer.from([rng.pick([0, 13, 10, 0x0b, 0x2a, 0x24, 0x22, 0x20])]), f.subarray(at)]),
      () => f.subarray(0, at),
      () => Buffer.concat([f.subarray(0, at), f.subarray(at - Math.min(at, rng.range(1, 8)))]),
      () => Buffer.from(f.latin1Slice().replace('\r\n', rng.pick(['\n', '\r', '\r\r\n', ''])), 'latin1'),
    ])();
  }
  return f;
}

/** RESP edge cases that are not mutations of a valid command. */
function edgeFrame(rng: Rng): Buffer {
  const text = rng.pick<() => string>([
    () => `*${rng.pick(COUNT_EDGES)}\r\n`,
    () => `*1\r\n$${rng.pick(BULK_EDGES)}\r\nPING\r\n`,
    () => `*2\r\n$4\r\nECHO\r\n$${rng.pick(BULK_EDGES)}\r\n${'x'.repeat(rng.range(0, 40))}\r\n`,
    () => '*0\r\n',
    () => '*-1\r\n',
    () => '\r\n',
    () => '\n',
    () => '*\r\n',
    () => '$\r\n',
    () => '*1\r\n$0\r\n\r\n',
    () => '*1\r\n\r\n',
    () => '*1\r\n*1\r\n',
    () => `*1\r\n$4\r\nPING${rng.pick(['', 'XX', '\r', '\n', '\r\n\r\n'])}`,
    () => `*3\r\n$3\r\nSET\r\n$1\r\n\x00\r\n$3\r\n\x00\x00\x00\r\n`,
    () => `PING\x00x\r\n`,
    () => `ECHO a\x00b\r\n`,
    () => `"unbalanced\r\n`,
    () => `ECHO "a"b\r\n`,
    () => `ECHO 'x\r\n`,
    () => `ECHO "\\x4"\r\n`,
    () => `${'*'.repeat(rng.range(1, 5))}\r\n`,
    () => `*1\r\n$${'9'.repeat(rng.range(1, 30))}\r\n`,
    () => `*${'1'.repeat(rng.range(1, 30))}\r\n`,
    () => `PING ${'x'.repeat(rng.range(1000, 50000))}\r\n`,
  ])();
  return Buffer.from(text, 'latin1');
}

export function makeSession(rng: Rng): Session {
  const frames: Buffer[] = [];
  const n = rng.weighted([
    [60, rng.range(10, 80)],
    [30, rng.range(1, 10)],
    [10, rng.range(80, 200)],
  ]);
  for (let i = 0; i < n; i++) {
    const args = vocabulary(rng);
    const kind = rng.weighted([
      [35, 'multibulk'],
      [15, 'inline'],
      [25, 'mutated'],
      [5, 'mutated-inline'],
      [20, 'edge'],
    ] as const);
    const frame =
      kind === 'multibulk' ? encodeCommand(args)
      : kind === 'inline' ? inline(rng, args)
      : kind === 'mutated' ? mutate(rng, encodeCommand(args))
      : kind === 'mutated-inline' ? mutate(rng, inline(rng, args))
      : edgeFrame(rng);
    frames.push(frame);
  }
  return { frames, cuts: cutsFor(rng, frames.reduce((s, f) => s + f.length, 0)) };
}

function cutsFor(rng: Rng, total: number): number[] {
  if (total <= 1) return [];
  const count = rng.weighted([
    [40, 0],
    [40, rng.range(1, 8)],
    [15, rng.range(8, 40)],
    [5, Math.min(total - 1, 400)],
  ]);
  const cuts = new Set<number>();
  for (let i = 0; i < count; i++) cuts.add(rng.range(1, total - 1));
  return [...cuts].sort((a, b) => a - b);
}

/** The writes a session makes; `paced` cuts every 2 KB instead (see runSession). */
export function writesOf(session: Session, paced = false): Buffer[] {
  const all = Buffer.concat(session.frames);
  const out: Buffer[] = [];
  let from = 0;
  const cuts = paced ? Array.from({ length: Math.floor(all.length / 2048) }, (_, i) => (i + 1) * 2048) : session.cuts;
  for (const c of cuts) {
    if (c <= from || c >= all.length) continue;
    out.push(all.subarray(from, c));
    from = c;
  }
  out.push(all.subarray(from));
  return out;
}

/**
 * Requests as Redis frames them (processInlineBuffer /
 * processMultibulkBuffer), as far as the bytes are complete: which bytes
 * form inline requests matters to the pending-fix list. Stops at the first
 * protocol error or incomplete request. Redis finds the end of a `*` or `$`
 * count line with strchr(), which stops at a NUL byte: such a line is
 * still incomplete for Redis, and the request is marked `nulInCount`.
 */
export function frameRequests(bytes: Buffer): FramedRequest[] {
  const out: FramedRequest[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes[pos] !== 0x2a) {
      const nl = bytes.indexOf(10, pos);
      const end = nl < 0 ? bytes.length : nl + 1;
      out.push({ inline: true, bytes: bytes.subarray(pos, end) });
      if (nl < 0) break;
      pos = end;
      continue;
    }
    const start = pos;
    let nulInCount = false;
    const line = (from: number) => {
      const cr = bytes.indexOf(13, from);
      const nul = bytes.indexOf(0, from);
      if (nul >= 0 && (cr < 0 || nul < cr)) nulInCount = true;
      return nulInCount || cr < 0 || cr + 1 >= bytes.length ? null : { text: bytes.latin1Slice(from + 1, cr), next: cr + 2 };
    };
    const head = line(pos);
    let p = head?.next ?? bytes.length;
    let ok = head !== null && /^-?\d+$/.test(head.text);
    for (let i = 0; ok && i < Number(head!.text); i++) {
      const len = line(p);
      if (len === null || bytes[p] !== 0x24 || !/^\d+$/.test(len.text) || len.next + Number(len.text) + 2 > bytes.length) ok = false;
      else p = len.next + Number(len.text) + 2;
    }
    if (!ok) {
      if (nulInCount) out.push({ inline: false, nulInCount, bytes: bytes.subarray(start) });
      break;
    }
    out.push({ inline: false, bytes: bytes.subarray(start, p) });
    pos = p;
  }
  return out;
}
