/**
 * Random commands drawn from each command's own argument spec (COMMAND
 * DOCS): tokens, oneof branches, blocks, optional and repeated arguments,
 * numkeys that match (or not) the keys that follow, values from the edge
 * pools, keys of every type; sometimes a wrong arity or a misspelt token.
 * A few commands get a hand-written generator (DEBUG, CONFIG, RESTORE).
 */

import { crc64 } from '../../persistence/rdb/crc64.js';
import { KEYS } from './dataset.js';
import { CONFIG_PARAMS, CONSTRAINTS, OPEN_ISSUES } from './known.js';
import type { Rng } from './rng.js';
import type { ArgSpec, CommandSpec } from './spec.js';
import { MEMBERS, PATTERNS, double, integer, longString, string, unixTime } from './values.js';

interface Slot {
  name: string;
  type: string;
  value: string;
}

const REPEATS: [number, number][] = [
  [60, 1],
  [25, 2],
  [10, 3],
  [4, 8],
  [1, 60],
];

/** Lower weights for commands that wipe or reset what the others work on. */
const WEIGHTS: Record<string, number> = {
  flushall: 0.2, flushdb: 0.2, reset: 0.3, select: 0.5, swapdb: 0.3, 'debug|reload': 0.1, save: 0.1, bgsave: 0.1, bgrewriteaof: 0.1,
  'config|set': 2, 'config|resetstat': 0.2, restore: 3, multi: 1.5, exec: 1.5, hello: 0.5, 'client|pause': 0.3, 'debug|populate': 0.2,
  'memory|purge': 0.2,
};

function repeat(rng: Rng): number {
  const n = rng.weighted(REPEATS);
  return n <= 3 ? n : rng.range(4, n);
}

function key(rng: Rng): string {
  return rng.weighted<() => string>([
    [85, () => rng.pick(KEYS)],
    [8, () => rng.pick(['new:a', 'new:b', 'new:c'])],
    [7, () => string(rng)],
  ])();
}

const INFO_SECTIONS = ['server', 'clients', 'memory', 'persistence', 'stats', 'replication', 'cpu', 'keyspace', 'commandstats', 'errorstats', 'all', 'everything', 'default', 'nosuch'];

/** IDs stream commands meet: in the prepared streams, at the edges, special forms, malformed. */
const STREAM_IDS = [
  '0', '0-0', '0-1', '1-0', '1-1', '2', '3-*', '5-2', '5-*', '10-0', '12', '15-3', '20-0', '99-0', '(3-0', '(18446744073709551615-18446744073709551615',
  '18446744073709551615-18446744073709551615', '18446744073709551615-*', '-', '+', '$', '>', '1-', '-1', '1-2-3', ' 7', '007',
];
/** Arguments of stream commands that hold an ID. */
const STREAM_ID_ARGS = new Set(['id', 'start', 'end', 'threshold', 'lastid', 'last-id', 'max-deleted-id']);

function streamStringFor(rng: Rng, name: string): string | null {
  if (STREAM_ID_ARGS.has(name) && rng.chance(0.75)) return rng.pick(STREAM_IDS);
  if (name === 'group' && rng.chance(0.8)) return rng.pick(['g', 'g', 'g2', 'nogroup']);
  if (name === 'consumer' && rng.chance(0.8)) return rng.pick(['alice', 'bob', 'carol']);
  if (name === 'min-idle-time') return rng.pick(['0', '0', '100000000', '-5', 'x', '9223372036854775807']);
  return null;
}

/** Libraries FUNCTION LOAD gets; each names its functions after itself, so no two libraries ever claim one name. */
const FUZZ_LIBRARIES = ['lib1', 'lib2', 'lib3'];

/** Function bodies (keys, args in scope) and flags: reads, writes, and errors raised by the commands they call. */
const FUZZ_FUNCTIONS: [name: string, body: string, flags: string][] = [
  ['get', "return redis.call('get', keys[1])", "'no-writes'"],
  ['set', "return redis.call('set', keys[1], args[1] or 'v')", ''],
  ['incr', "return redis.call('incrby', keys[1], args[1] or '1')", ''],
  ['push', "return redis.call('rpush', keys[1], unpack(args))", ''],
  ['echo', 'return {keys, args}', "'no-writes'"],
  ['type', "return redis.pcall('type', keys[1])", "'no-writes', 'allow-stale'"],
  ['del', "return redis.call('del', unpack(keys))", ''],
  ['arity', "return redis.call('hget', keys[1])", "'no-writes'"],
];

const FUZZ_FUNCTION_NAMES = FUZZ_LIBRARIES.flatMap((lib) => FUZZ_FUNCTIONS.map(([fn]) => `${lib}_${fn}`));

/** A library of one to three functions of the pool. */
function libraryCode(rng: Rng): string {
  const lib = rng.pick(FUZZ_LIBRARIES);
  const chosen = new Set(Array.from({ length: rng.range(1, 3) }, () => rng.pick(FUZZ_FUNCTIONS)));
  const lines = [...chosen].map(
    ([fn, body, flags]) => `redis.register_function{function_name = '${lib}_${fn}', callback = function(keys, args) ${body} end, flags = {${flags}}}`,
  );
  return `#!lua name=${lib}\n${lines.join('\n')}`;
}

function stringFor(rng: Rng, name: string, payloads: string[], command = ''): string {
  if (command.startsWith('x')) {
    const s = streamStringFor(rng, name);
    if (s !== null) return s;
  }
  switch (name) {
    case 'serialized-value':
      return payloads.length > 0 && rng.chance(0.9) ? rng.pick(payloads) : string(rng);
    case 'ip:port':
      return rng.pick(['1.2.3.4:5', '10.0.0.1:6379', 'nohost', '', '[::2]:1']);
    case 'username':
      return rng.pick(['default', 'nosuch', '']);
    case 'section':
      return rng.pick(INFO_SECTIONS);
    case 'yes/no':
      return rng.pick(['yes', 'no', 'maybe']);
    case 'protover':
      return rng.pick(['2', '3', '1', '4', '-1', 'x']);
    case 'command-name':
    case 'command':
      return rng.pick(['get', 'SET', 'sort', 'lcs', 'zunionstore', 'client', 'config|get', 'nosuch', 'lmpop', 'eval', '']);
    case 'subcommand':
      return rng.pick(['help', 'nosuch', 'HELP', '']);
    case 'function-code':
      return rng.chance(0.6) ? libraryCode(rng) : string(rng);
    case 'function':
      return rng.chance(0.8) ? rng.pick(FUZZ_FUNCTION_NAMES) : string(rng);
    case 'library-name':
    case 'library-name-pattern':
      return rng.chance(0.7) ? rng.pick([...FUZZ_LIBRARIES, 'lib*', 'LIB1', 'l?b2']) : string(rng);
    default:
      return rng.weighted<() => string>([
        [45, () => rng.pick(MEMBERS)],
        [55, () => string(rng)],
      ])();
  }
}

function integerFor(rng: Rng, name: string): string {
  if (/^(db|index|index1|index2|destination-db)$/.test(name) && rng.chance(0.7)) return String(rng.range(0, 17));
  return integer(rng);
}

/** One command, or null when the attempt hit a constraint or a pending fix. */
export class CommandGenerator {
  private readonly weighted: (readonly [number, CommandSpec])[];
  /** The command being generated (some argument pools depend on it). */
  private current = '';

  constructor(
    readonly specs: CommandSpec[],
    private readonly payloads: string[],
  ) {
    this.weighted = specs.map((s) => [WEIGHTS[s.words.join('|')] ?? 1, s] as const);
  }

  next(rng: Rng): string[] {
    for (let attempt = 0; attempt < 50; attempt++) {
      const spec = rng.weighted(this.weighted);
      const args = this.generate(rng, spec);
      if (isAllowed(args)) return args;
    }
    return ['PING'];
  }

  generate(rng: Rng, spec: CommandSpec): string[] {
    const name = spec.words.join('|');
    this.current = name;
    const words = spec.words.map((w) => (rng.chance(0.1) ? w : w.toUpperCase()));
    const custom = CUSTOM[name]?.(rng, this.payloads);
    let args: string[];
    if (custom !== undefined) {
      args = [...words, ...custom];
    } else {
      const slots: Slot[] = [];
      for (const a of spec.args) this.arg(rng, a, slots);
      fixNumkeys(rng, slots);
      args = [...words, ...slots.map((s) => s.value)];
    }
    // Wrong arity now and then: one argument too few or too many.
    if (rng.chance(0.03) && args.length > spec.words.length) args.pop();
    else if (rng.chance(0.02)) args.push(string(rng));
    return args;
  }

  private arg(rng: Rng, spec: ArgSpec, out: Slot[]): void {
    if (spec.optional && rng.chance(0.55)) return;
    const times = spec.multiple ? repeat(rng) : 1;
    for (let i = 0; i < times; i++) {
      if (spec.token !== undefined && (i === 0 || spec.multipleToken)) out.push({ name: '', type: 'token', value: tokenText(rng, spec.token) });
      this.value(rng, spec, out);
    }
  }

  private value(rng: Rng, spec: ArgSpec, out: Slot[]): void {
    const push = (value: string): void => {
      out.push({ name: spec.name, type: spec.type, value });
    };
    switch (spec.type) {
      case 'pure-token':
        return;
      case 'oneof':
        if (spec.args.length > 0) this.arg(rng, { ...rng.pick(spec.args), optional: false }, out);
        return;
      case 'block':
        for (const a of spec.args) this.arg(rng, a, out);
        return;
      case 'key':
        // Stream commands mostly meet the prepared streams (other keys answer WRONGTYPE or an empty reply).
        return push(this.current.startsWith('x') && rng.chance(0.6) ? rng.pick(['stream:a', 'stream:a', 'stream:big', 'new:a']) : key(rng));
      case 'integer':
        return push(integerFor(rng, spec.name));
      case 'double':
        return push(double(rng));
      case 'pattern':
        return push(rng.chance(0.8) ? rng.pick(PATTERNS) : string(rng));
      case 'unix-time':
        return push(unixTime(rng, spec.name.includes('milli')));
      default:
        return push(stringFor(rng, spec.name, this.payloads, this.current));
    }
  }
}

function tokenText(rng: Rng, token: string): string {
  if (rng.chance(0.02)) return rng.word();
  return rng.chance(0.15) ? token.toLowerCase() : token;
}

/** numkeys usually matches the keys that follow it. */
function fixNumkeys(rng: Rng, slots: Slot[]): void {
  for (let i = 0; i < slots.length; i++) {
    if (slots[i]!.name !== 'numkeys' || !rng.chance(0.8)) continue;
    let n = 0;
    while (slots[i + 1 + n]?.type === 'key') n++;
    slots[i]!.value = String(n);
  }
}

export function isAllowed(args: readonly string[]): boolean {
  return !CONSTRAINTS.some((c) => c.rejects(args)) && !OPEN_ISSUES.some((p) => p.avoid?.(args) === true);
}

const DEBUG_FORMS: ((rng: Rng) => string[])[] = [
  (rng) => ['OBJECT', key(rng)],
  () => ['DIGEST'],
  (rng) => ['DIGEST-VALUE', ...Array.from({ length: rng.range(0, 3) }, () => key(rng))],
  (rng) => ['SLEEP', rng.pick(['0', '0.01', '0.05', '-1', 'x', '0.001'])],
  (rng) => ['SET-ACTIVE-EXPIRE', rng.pick(['0', '1', '2', 'x'])],
  (rng) => ['POPULATE', rng.pick(['0', '1', '10', '500', '-1', 'x', integer(rng)]), ...(rng.chance(0.5) ? [rng.pick(['key', 'str:', 'new:', ''])] : []), ...(rng.chance(0.3) ? [rng.pick(['0', '1', '100', '-1', 'x'])] : [])],
  () => ['RELOAD'],
  (rng) => ['LOG', string(rng)],
  (rng) => ['PROTOCOL', rng.pick(['string', 'integer', 'double', 'bignum', 'null', 'array', 'set', 'map', 'attrib', 'push', 'verbatim', 'true', 'false', 'x'])],
  () => ['HELP'],
  () => ['LOADAOF'],
  (rng) => [rng.pick(['NOSUCH', 'object', 'digest']), ...(rng.chance(0.5) ? [string(rng)] : [])],
];

const CONFIG_GLOBS = ['*', '*max-*-entries', 'zset*', 'hash-max-*', 'nosuch', 'maxmemory*', 'list-*', '*lfu*'];

/** Valid RDB payloads with one byte changed, checksum made right again: the loader sees bad data, not a bad checksum. */
function mutatePayload(rng: Rng, payload: string): string {
  const buf = Buffer.from(payload, 'latin1');
  if (buf.length <= 10) return payload;
  const body = buf.length - 10;
  const edits = rng.range(1, 3);
  for (let i = 0; i < edits; i++) {
    const at = rng.int(body);
    buf[at] = rng.chance(0.5) ? rng.int(256) : buf[at]! ^ (1 << rng.int(8));
  }
  // A damaged sorted-set listpack or ziplist (RDB types 17 and 12) is not sent: Redis' sanitization checks
  // unique members and numeric scores but not their order, and Redis answers ranges in whatever order it got.
  if (buf[0] === RDB_TYPE_ZSET_ZIPLIST || buf[0] === RDB_TYPE_ZSET_LISTPACK) return payload;
  // Nor a damaged stream: Redis' deep sanitization checks its listpacks and pending entries but not that
  // the length matches the entries or that IDs ascend, which Vireo's index relies on (it refuses those).
  if (buf[0] === RDB_TYPE_STREAM_LISTPACKS_2) return payload;
  crc64(buf, 0, buf.length - 8).digestLE().copy(buf, buf.length - 8);
  return buf.latin1Slice();
}

const RDB_TYPE_ZSET_ZIPLIST = 12;
const RDB_TYPE_ZSET_LISTPACK = 17;
const RDB_TYPE_STREAM_LISTPACKS_2 = 19;

const CUSTOM: Record<string, (rng: Rng, payloads: string[]) => string[]> = {
  debug: (rng) => rng.pick(DEBUG_FORMS)(rng),
  'config|set': (rng) => {
    const pairs = rng.chance(0.85) ? 1 : 2;
    const out: string[] = [];
    const names = Object.keys(CONFIG_PARAMS);
    for (let i = 0; i < pairs; i++) {
      const name = rng.pick(names);
      out.push(rng.chance(0.1) ? name.toUpperCase() : name, rng.chance(0.7) ? rng.pick(CONFIG_PARAMS[name]!) : rng.chance(0.5) ? integer(rng) : string(rng));
    }
    return out;
  },
  'config|get': (rng) => Array.from({ length: rng.range(1, 2) }, () => (rng.chance(0.6) ? rng.pick(Object.keys(CONFIG_PARAMS)) : rng.pick(CONFIG_GLOBS))),
  restore: (rng, payloads) => {
    const payload = payloads.length === 0 ? string(rng) : rng.chance(0.5) ? rng.pick(payloads) : mutatePayload(rng, rng.pick(payloads));
    const out = [key(rng), rng.chance(0.7) ? '0' : integer(rng), payload];
    if (rng.chance(0.4)) out.push('REPLACE');
    if (rng.chance(0.1)) out.push('ABSTTL');
    if (rng.chance(0.1)) out.push('IDLETIME', integer(rng));
    if (rng.chance(0.1)) out.push('FREQ', integer(rng));
    return out;
  },
  'client|setname': (rng) => [rng.pick(['fuzz', '', 'a b', 'x'.repeat(100), 'bad\nname', rng.word()])],
  append: (rng) => [key(rng), rng.chance(0.1) ? longString(rng) : string(rng)],
};
