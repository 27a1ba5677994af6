/**
 * fast-check arbitraries for every write command Vireo implements, for the
 * log-replay property (test/log-replay.property.test.ts). One entry per
 * command name as COMMAND lists it (`container|sub` for subcommands), so the
 * test can fail when the server has a write command this file does not cover.
 *
 * The key space is small (keys hit each other and the wrong type), commands
 * run in a few databases, and values include big ones and many elements so
 * collections change encoding (the servers run with low *-max-* thresholds).
 *
 * Arguments may hold tokens resolved when the command is sent:
 * `{{now+N}}` / `{{pnow+N}}` (unix time in s / ms, plus N), `{{big:XY}}`
 * (XY repeated to 5000 bytes), `{{dump:KEY}}` (the DUMP payload of KEY in
 * the selected db, or a payload RESTORE rejects) and `{{fdump}}` (FUNCTION
 * DUMP's payload).
 */

import fc from 'fast-check';
import type { RespClient } from './resp.js';

/** Databases the sequences use (SELECT, MOVE, COPY ... DB, SWAPDB). */
export const DBS = ['0', '1', '2', '3'];
/** The whole key space: every command names only these keys. */
export const KEYS = ['k0', 'k1', 'k2', 'k3', 'k4', 'k5'];
/** The longest short TTL in ms: waiting this long lets every short-lived key expire. */
export const MAX_SHORT_TTL_MS = 100;

export type Argv = string[];

export interface GeneratorOptions {
  /**
   * Zset scores that print alike in Redis 7.0's "%.17g" and 7.2's shortest
   * round-trip form (integers, binary fractions). DEBUG DIGEST hashes the
   * printed score, so 7.0 and Vireo digest a zset holding 0.1 differently
   * although both hold the same double.
   */
  exactScores: boolean;
  /**
   * Redis 8.2's stream reference policies (KEEPREF/DELREF/ACKED on XADD and
   * XTRIM), and its BITOP DIFF/DIFF1/ANDOR/ONE: off for the redis-server
   * 7.0 replay, which refuses them.
   */
  streamPolicies: boolean;
}

const key = fc.constantFrom(...KEYS);
const keyList = (max = 3): fc.Arbitrary<string[]> => fc.array(key, { minLength: 1, maxLength: max });
const db = fc.constantFrom(...DBS);

/** Over the 64-byte listpack value limit: hashes and zsets holding one become hashtable/skiplist. */
const bigElement = fc.integer({ min: 0, max: 3 }).map((i) => `big${i}-${'x'.repeat(70)}`);
/** A raw string value well over the embstr limit (5000 bytes; a token keeps counterexamples readable). */
const bigString = fc.integer({ min: 0, max: 2 }).map((i) => `{{big:B${i}}}`);
const binary = fc.constantFrom('', '\x00\xff\r\n', '\xfc\xe9', ' ');

/** List elements, hash fields, zset members. */
const element: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('a', 'b', 'c', 'd', 'e', '0', '1', '2', '3', '17', '-5', '1.5') },
  { weight: 1, arbitrary: bigElement },
  { weight: 1, arbitrary: binary },
);
/** Set members: mostly integers (intset) so adding a string converts the set. */
const member: fc.Arbitrary<string> = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom('1', '2', '3', '17', '-5', '100', '9223372036854775807') },
  { weight: 4, arbitrary: fc.constantFrom('a', 'b', 'c', 'd') },
  { weight: 1, arbitrary: bigElement },
);
const elements = (max = 5): fc.Arbitrary<string[]> => fc.array(element, { minLength: 1, maxLength: max });
const members = (max = 6): fc.Arbitrary<string[]> => fc.array(member, { minLength: 1, maxLength: max });

/** String values: numbers (int encoding), floats, binary, big. */
const value: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('v', 'hello', '0', '7', '-3', '12345678901', '9223372036854775807', '3.5', 'abc') },
  { weight: 3, arbitrary: fc.integer({ min: -1000, max: 1000 }).map(String) },
  { weight: 1, arbitrary: binary },
  { weight: 1, arbitrary: bigString },
);
const integer: fc.Arbitrary<string> = fc.oneof(
  { weight: 8, arbitrary: fc.integer({ min: -100, max: 100 }).map(String) },
  { weight: 1, arbitrary: fc.constantFrom('9223372036854775807', '-9223372036854775808', 'x', '1.5') },
);
const increment = fc.constantFrom('0.1', '-1.5', '3', '1e2', '2.5e-3', '-0.25', '5.0e3', 'inf', 'abc');
const smallIndex = fc.integer({ min: -4, max: 4 }).map(String);
/** A blocking command's timeout: a few ms, never 0 (one connection: nothing could wake it); rarely one it refuses. */
const blockTimeout = fc.oneof({ weight: 8, arbitrary: fc.constantFrom('0.01', '0.005', '0.002') }, { weight: 1, arbitrary: fc.constantFrom('-1', 'x') });

const shortMs = fc.integer({ min: 1, max: MAX_SHORT_TTL_MS }).map(String);
const longMs = fc.integer({ min: 1_000_000, max: 100_000_000 }).map(String);
const longS = fc.integer({ min: 1000, max: 100_000 }).map(String);
/** TTLs in ms, mostly short: a key must keep one until it runs out for expiry to log anything. */
const ms = fc.oneof({ weight: 3, arbitrary: shortMs }, { weight: 1, arbitrary: longMs });
const futureS = fc.integer({ min: 1000, max: 100_000 }).map((n) => `{{now+${n}}}`);
const pastS = fc.integer({ min: 1, max: 1000 }).map((n) => `{{now+-${n}}}`);
const futureMsShort = shortMs.map((n) => `{{pnow+${n}}}`);
const futureMsLong = longMs.map((n) => `{{pnow+${n}}}`);
const pastMs = fc.integer({ min: 1, max: 100_000 }).map((n) => `{{pnow+-${n}}}`);
const expireFlag = fc.constantFrom<Argv>([], [], ['NX'], ['XX'], ['GT'], ['LT']);

function scoreArb(o: GeneratorOptions): fc.Arbitrary<string> {
  const exact = fc.oneof(
    fc.integer({ min: -50, max: 50 }).map(String),
    fc.constantFrom('1.5', '-2.25', '0.125', '1e3', '-inf', '+inf', 'inf', '(1', 'nan'),
  );
  return o.exactScores ? exact : fc.oneof(exact, fc.constantFrom('0.1', '1.1', '-3.3', '2.5e-7'));
}

const pairs = <A, B>(a: fc.Arbitrary<A>, b: fc.Arbitrary<B>, max = 3): fc.Arbitrary<(A | B)[]> =>
  fc.array(fc.tuple(a, b), { minLength: 1, maxLength: max }).map((ps) => ps.flat());
const cmd = (...parts: (fc.Arbitrary<string> | fc.Arbitrary<string[]> | string)[]): fc.Arbitrary<Argv> =>
  fc.tuple(...parts.map((p) => (typeof p === 'string' ? fc.constant(p) : p))).map((xs) => xs.flat());

/** Every way SET, GETEX and friends set a TTL: short ones expire during the run. */
const fixed = (...xs: Argv[]): fc.Arbitrary<Argv> => fc.constantFrom(...xs);
const setTtl: fc.Arbitrary<Argv> = fc.oneof(
  { weight: 3, arbitrary: fixed([]) },
  { weight: 1, arbitrary: cmd('EX', longS) },
  { weight: 3, arbitrary: cmd('PX', ms) },
  { weight: 1, arbitrary: cmd('EXAT', fc.oneof(futureS, pastS)) },
  { weight: 2, arbitrary: cmd('PXAT', fc.oneof(futureMsShort, futureMsShort, futureMsLong, pastMs)) },
  { weight: 1, arbitrary: fixed(['KEEPTTL']) },
  { weight: 1, arbitrary: fixed(['EX', '0']) },
);
const getexOption: fc.Arbitrary<Argv> = fc.oneof(
  fixed([]),
  fixed(['PERSIST']),
  cmd('EX', longS),
  cmd('PX', ms),
  cmd('EXAT', fc.oneof(futureS, pastS)),
  cmd('PXAT', fc.oneof(futureMsShort, futureMsLong, pastMs)),
  fixed(['EX', '-1']),
);

const sortCommand: fc.Arbitrary<Argv> = cmd(
  'SORT',
  key,
  fc.constantFrom<Argv>([], [], ['BY', 'nosort'], ['BY', 'k*'], ['BY', 'k*->a'], ['BY', 'nokey*']),
  fc.constantFrom<Argv>([], ['LIMIT', '0', '2'], ['LIMIT', '1', '-1']),
  fc.constantFrom<Argv>([], ['GET', '#'], ['GET', 'k*'], ['GET', 'k*->a', 'GET', '#']),
  fc.constantFrom<Argv>([], ['DESC']),
  fc.constantFrom<Argv>([], ['ALPHA']),
  'STORE',
  key,
);

const restoreCommand: fc.Arbitrary<Argv> = fc.oneof(
  // FREQ needs an LFU maxmemory-policy: an error reply, and nothing logged.
  cmd('RESTORE', key, fc.oneof(fc.constant('0'), ms), key.map((k) => `{{dump:${k}}}`), fc.constantFrom<Argv>([], ['REPLACE'], ['REPLACE'], ['REPLACE', 'IDLETIME', '10'], ['FREQ', '5'])),
  cmd('RESTORE', key, fc.oneof(futureMsShort, futureMsLong, pastMs), key.map((k) => `{{dump:${k}}}`), fc.constantFrom<Argv>(['ABSTTL'], ['ABSTTL', 'REPLACE'])),
);

/** Function libraries: each names its functions after itself, so two libraries never claim one name. */
export const LIBRARIES = ['wlib', 'xlib'];

/**
 * A library's code in one of two versions (REPLACE changes what its
 * functions write): a SET, two RPUSHes (two effects: one MULTI/EXEC
 * record), and a write followed by an error (the write stays).
 */
function libraryCode(lib: string, version: number): string {
  const fn = (name: string, body: string) => `redis.register_function('${lib}_${name}', function(keys, args) ${body} end)`;
  return [
    `#!lua name=${lib}`,
    fn('set', `return redis.call('set', keys[1], args[1] .. '-v${version}')`),
    fn('push2', `redis.call('rpush', keys[1], args[1]) return redis.call('rpush', keys[1], '${version}')`),
    fn('partial', `redis.call('incr', keys[1]) error('after the write')`),
  ].join('\n');
}

const library = fc.tuple(fc.constantFrom(...LIBRARIES), fc.constantFrom(1, 2)).map(([lib, v]) => libraryCode(lib, v));

/** FCALL of the libraries' functions (not a write command in the table: its effects are the commands it runs). */
export const functionCalls: fc.Arbitrary<Argv> = cmd(
  'FCALL',
  fc.constantFrom(...LIBRARIES.flatMap((lib) => ['set', 'push2', 'partial'].map((f) => `${lib}_${f}`))),
  '1',
  key,
  element,
);

function zsetStore(name: string, o: GeneratorOptions): fc.Arbitrary<Argv> {
  const withWeights = name !== 'ZDIFFSTORE';
  return fc
    .tuple(key, keyList(3), fc.boolean(), fc.array(scoreArb(o), { minLength: 3, maxLength: 3 }), fc.constantFrom<Argv>([], ['AGGREGATE', 'SUM'], ['AGGREGATE', 'MIN'], ['AGGREGATE', 'MAX']))
    .map(([dst, srcs, weighted, ws, agg]) => [
      name,
      dst,
      String(srcs.length),
      ...srcs,
      ...(withWeights && weighted ? ['WEIGHTS', ...ws.slice(0, srcs.length).map((w) => w.replace('(', ''))] : []),
      ...(withWeights ? agg : []),
    ]);
}

// ---- bitmaps ---------------------------------------------------------------------------

/** Bit offsets within a few bytes, sometimes a few kB away (the string grows, zero-padded). */
const bitOffset = fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 40 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 20000 }) }).map(String);
const fieldType = fc.constantFrom('u1', 'i3', 'u8', 'i8', 'u16', 'i32', 'u63', 'i64');
const fieldOp: fc.Arbitrary<Argv> = fc.oneof(
  cmd('GET', fieldType, fc.oneof(bitOffset, fc.constantFrom('#0', '#3'))),
  cmd('SET', fieldType, fc.oneof(bitOffset, fc.constantFrom('#1', '#5')), integer),
  cmd('INCRBY', fieldType, bitOffset, integer),
  cmd('OVERFLOW', fc.constantFrom('WRAP', 'SAT', 'FAIL')),
);

function bitmapCommands(o: GeneratorOptions): Record<string, fc.Arbitrary<Argv>> {
  const ops = o.streamPolicies ? ['AND', 'OR', 'XOR', 'DIFF', 'DIFF1', 'ANDOR', 'ONE'] : ['AND', 'OR', 'XOR'];
  return {
    setbit: cmd('SETBIT', key, bitOffset, fc.constantFrom('0', '1', '1')),
    bitfield: cmd('BITFIELD', key, fc.array(fieldOp, { minLength: 1, maxLength: 4 }).map((xs) => xs.flat())),
    bitop: fc.oneof(cmd('BITOP', fc.constantFrom(...ops), key, keyList(3)), cmd('BITOP', 'NOT', key, key)),
  };
}

// ---- streams ---------------------------------------------------------------------------

/** Stream commands go mostly to two keys, so streams grow and their groups see traffic. */
const streamKey = fc.oneof({ weight: 3, arbitrary: fc.constantFrom('k4', 'k5') }, { weight: 1, arbitrary: key });
const group = fc.constantFrom('g1', 'g2');
const consumer = fc.constantFrom('c1', 'c2', 'c3');
/** Small explicit IDs (they fail once a stream holds time-based ones: an error, nothing logged). */
const streamId = fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 2 })).map(([ms, seq]) => `${ms}-${seq}`);
const streamIds = (max = 3): fc.Arbitrary<string[]> => fc.array(streamId, { minLength: 1, maxLength: max });
/** `*` most often (always accepted, logged with the ID it got), explicit and `<ms>-*` IDs too. */
const newEntryId = fc.oneof({ weight: 3, arbitrary: fc.constant('*') }, { weight: 2, arbitrary: streamId }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 30 }).map((ms) => `${ms}-*`) });
const fieldValues = pairs(fc.constantFrom('f', 'g', 'name', '1'), element, 3);

function trimArb(o: GeneratorOptions): fc.Arbitrary<Argv> {
  const policy = o.streamPolicies ? fc.constantFrom<Argv>([], [], ['KEEPREF'], ['DELREF'], ['ACKED']) : fc.constant<Argv>([]);
  const threshold = fc.oneof(
    fc.tuple(fc.constantFrom<Argv>([], ['='], ['~']), fc.integer({ min: 0, max: 8 })).map(([op, n]): Argv => ['MAXLEN', ...op, String(n)]),
    fc.tuple(fc.constantFrom<Argv>([], ['='], ['~']), streamId).map(([op, id]): Argv => ['MINID', ...op, id]),
    fc.integer({ min: 0, max: 8 }).map((n): Argv => ['MAXLEN', '~', String(n), 'LIMIT', String(n % 3)]),
  );
  return fc.tuple(policy, threshold).map(([p, t]) => [...p, ...t]);
}

function streamCommands(o: GeneratorOptions): Record<string, fc.Arbitrary<Argv>> {
  const trim = trimArb(o);
  const policy = fc.constantFrom<Argv>([], ['KEEPREF'], ['DELREF'], ['ACKED']);
  const idsBlock = streamIds(3).map((ids): Argv => ['IDS', String(ids.length), ...ids]);
  return {
    xadd: cmd('XADD', streamKey, fc.constantFrom<Argv>([], [], ['NOMKSTREAM']), fc.oneof(fc.constant<Argv>([]), trim), newEntryId, fieldValues),
    xtrim: cmd('XTRIM', streamKey, trim),
    xdel: cmd('XDEL', streamKey, streamIds()),
    xsetid: cmd('XSETID', streamKey, fc.oneof(streamId, fc.constant('99999999999999-0')), fc.constantFrom<Argv>([], ['ENTRIESADDED', '1000'], ['MAXDELETEDID', '1-0'])),
    'xgroup|create': cmd('XGROUP', 'CREATE', streamKey, group, fc.constantFrom('0', '$', '5-0'), fc.constantFrom<Argv>([], ['MKSTREAM'], ['MKSTREAM'], ['MKSTREAM', 'ENTRIESREAD', '2'])),
    'xgroup|setid': cmd('XGROUP', 'SETID', streamKey, group, fc.constantFrom('0', '$', '10-0'), fc.constantFrom<Argv>([], ['ENTRIESREAD', '3'])),
    'xgroup|destroy': cmd('XGROUP', 'DESTROY', streamKey, group),
    'xgroup|createconsumer': cmd('XGROUP', 'CREATECONSUMER', streamKey, group, consumer),
    'xgroup|delconsumer': cmd('XGROUP', 'DELCONSUMER', streamKey, group, consumer),
    xreadgroup: cmd(
      'XREADGROUP', 'GROUP', group, consumer,
      fc.constantFrom<Argv>([], ['COUNT', '1'], ['COUNT', '3']),
      fc.constantFrom<Argv>([], [], ['NOACK'], ['BLOCK', '1']),
      'STREAMS', streamKey, fc.constantFrom('>', '>', '0'),
    ),
    xack: cmd('XACK', streamKey, group, streamIds()),
    xclaim: cmd('XCLAIM', streamKey, group, consumer, '0', streamIds(), fc.constantFrom<Argv>([], ['FORCE'], ['JUSTID'], ['FORCE', 'JUSTID', 'RETRYCOUNT', '4'], ['LASTID', '20-0'], ['TIME', '1000'])),
    xautoclaim: cmd('XAUTOCLAIM', streamKey, group, consumer, '0', fc.constantFrom('0', '(3-0', '15'), fc.constantFrom<Argv>([], ['COUNT', '1'], ['JUSTID'])),
    xdelex: cmd('XDELEX', streamKey, policy, idsBlock),
    xackdel: cmd('XACKDEL', streamKey, group, policy, idsBlock),
  };
}

/** HyperLogLog writes: few elements (sparse) or many (promoted to dense past hll-sparse-max-bytes). */
function hyperloglogCommands(): Record<string, fc.Arbitrary<Argv>> {
  const many = fc.integer({ min: 200, max: 1500 }).map((n) => Array.from({ length: n }, (_, i) => `m${n}:${i}`));
  return {
    pfadd: cmd('PFADD', key, fc.oneof({ weight: 4, arbitrary: elements(4) }, { weight: 1, arbitrary: many })),
    pfmerge: cmd('PFMERGE', key, keyList()),
    pfdebug: cmd('PFDEBUG', fc.constantFrom('TODENSE', 'GETREG'), key),
  };
}

/** The write commands, by the name COMMAND gives them, each with its arbitrary. */
export function writeCommands(o: GeneratorOptions): Record<string, fc.Arbitrary<Argv>> {
  const score = scoreArb(o);
  return {
    // strings
    append: cmd('APPEND', key, value),
    decr: cmd('DECR', key),
    decrby: cmd('DECRBY', key, integer),
    incr: cmd('INCR', key),
    incrby: cmd('INCRBY', key, integer),
    incrbyfloat: cmd('INCRBYFLOAT', key, increment),
    getdel: cmd('GETDEL', key),
    getex: cmd('GETEX', key, getexOption),
    getset: cmd('GETSET', key, value),
    mset: cmd('MSET', pairs(key, value)),
    msetnx: cmd('MSETNX', pairs(key, value)),
    psetex: cmd('PSETEX', key, fc.oneof(ms, fc.constant('0')), value),
    set: cmd('SET', key, value, fc.constantFrom<Argv>([], [], ['NX'], ['XX']), fc.constantFrom<Argv>([], ['GET']), setTtl),
    setex: cmd('SETEX', key, fc.oneof(longS, fc.constant('0')), value),
    setnx: cmd('SETNX', key, value),
    setrange: cmd('SETRANGE', key, fc.oneof(fc.integer({ min: 0, max: 20 }).map(String), fc.constantFrom('5000', '-1')), value),
    // keys and databases
    copy: cmd('COPY', key, key, fc.constantFrom<Argv>([], [], ['DB', '0'], ['DB', '1'], ['DB', '3']), fc.constantFrom<Argv>([], ['REPLACE'])),
    del: cmd('DEL', keyList()),
    unlink: cmd('UNLINK', keyList()),
    expire: cmd('EXPIRE', key, fc.oneof(longS, fc.constantFrom('0', '-5')), expireFlag),
    pexpire: cmd('PEXPIRE', key, fc.oneof(ms, fc.constantFrom('0', '-5')), expireFlag),
    expireat: cmd('EXPIREAT', key, fc.oneof(futureS, pastS, fc.constant('0')), expireFlag),
    pexpireat: cmd('PEXPIREAT', key, fc.oneof(futureMsShort, futureMsShort, futureMsLong, pastMs), expireFlag),
    persist: cmd('PERSIST', key),
    move: cmd('MOVE', key, db),
    rename: cmd('RENAME', key, key),
    renamenx: cmd('RENAMENX', key, key),
    restore: restoreCommand,
    'restore-asking': restoreCommand.map((argv): Argv => ['RESTORE-ASKING', ...argv.slice(1)]),
    flushall: cmd('FLUSHALL', fc.constantFrom<Argv>([], ['ASYNC'], ['SYNC'])),
    flushdb: cmd('FLUSHDB', fc.constantFrom<Argv>([], ['ASYNC'], ['SYNC'])),
    swapdb: cmd('SWAPDB', db, db),
    sort: sortCommand,
    // function libraries ({{fdump}}: the FUNCTION DUMP payload when the command is sent)
    'function|load': cmd('FUNCTION', 'LOAD', fc.constantFrom<Argv>([], ['REPLACE']), library),
    'function|delete': cmd('FUNCTION', 'DELETE', fc.constantFrom(...LIBRARIES, 'nolib')),
    'function|flush': cmd('FUNCTION', 'FLUSH', fc.constantFrom<Argv>([], ['ASYNC'], ['SYNC'])),
    'function|restore': cmd('FUNCTION', 'RESTORE', '{{fdump}}', fc.constantFrom<Argv>([], ['APPEND'], ['REPLACE'], ['FLUSH'])),
    // hashes
    hdel: cmd('HDEL', key, elements(3)),
    hincrby: cmd('HINCRBY', key, element, integer),
    hincrbyfloat: cmd('HINCRBYFLOAT', key, element, increment),
    hmset: cmd('HMSET', key, pairs(element, value, 5)),
    hset: cmd('HSET', key, pairs(element, value, 6)),
    hsetnx: cmd('HSETNX', key, element, value),
    // lists
    linsert: cmd('LINSERT', key, fc.constantFrom('BEFORE', 'AFTER'), element, element),
    lmove: cmd('LMOVE', key, key, fc.constantFrom('LEFT', 'RIGHT'), fc.constantFrom('LEFT', 'RIGHT')),
    lmpop: keyList().chain((ks) => cmd('LMPOP', String(ks.length), fc.constant(ks), fc.constantFrom('LEFT', 'RIGHT'), fc.constantFrom<Argv>([], ['COUNT', '1'], ['COUNT', '3']))),
    lpop: cmd('LPOP', key, fc.constantFrom<Argv>([], ['0'], ['2'], ['10'])),
    rpop: cmd('RPOP', key, fc.constantFrom<Argv>([], ['0'], ['2'], ['10'])),
    lpush: cmd('LPUSH', key, elements(8)),
    rpush: cmd('RPUSH', key, elements(8)),
    lpushx: cmd('LPUSHX', key, elements()),
    rpushx: cmd('RPUSHX', key, elements()),
    lrem: cmd('LREM', key, fc.integer({ min: -2, max: 2 }).map(String), element),
    lset: cmd('LSET', key, smallIndex, element),
    ltrim: cmd('LTRIM', key, smallIndex, smallIndex),
    rpoplpush: cmd('RPOPLPUSH', key, key),
    // Blocking pops: the sequences run on one connection, so with nothing to pop they
    // time out after a few ms (inside MULTI they answer at once); logged as their
    // non-blocking forms when they pop.
    blpop: cmd('BLPOP', keyList(), blockTimeout),
    brpop: cmd('BRPOP', keyList(), blockTimeout),
    blmove: cmd('BLMOVE', key, key, fc.constantFrom('LEFT', 'RIGHT'), fc.constantFrom('LEFT', 'RIGHT'), blockTimeout),
    brpoplpush: cmd('BRPOPLPUSH', key, key, blockTimeout),
    blmpop: keyList().chain((ks) => cmd('BLMPOP', blockTimeout, String(ks.length), fc.constant(ks), fc.constantFrom('LEFT', 'RIGHT'), fc.constantFrom<Argv>([], ['COUNT', '1'], ['COUNT', '3']))),
    // sets
    sadd: cmd('SADD', key, members()),
    srem: cmd('SREM', key, members(3)),
    smove: cmd('SMOVE', key, key, member),
    spop: cmd('SPOP', key, fc.constantFrom<Argv>([], [], ['1'], ['3'], ['10'])),
    sdiffstore: cmd('SDIFFSTORE', key, keyList()),
    sinterstore: cmd('SINTERSTORE', key, keyList()),
    sunionstore: cmd('SUNIONSTORE', key, keyList()),
    // sorted sets
    zadd: fc.oneof(
      cmd('ZADD', key, fc.constantFrom<Argv>([], [], ['NX'], ['XX'], ['GT'], ['LT'], ['XX', 'GT']), fc.constantFrom<Argv>([], ['CH']), pairs(score, element, 6)),
      cmd('ZADD', key, fc.constantFrom<Argv>(['INCR'], ['NX', 'INCR'], ['XX', 'INCR']), score, element),
    ),
    zincrby: cmd('ZINCRBY', key, score, element),
    zinterstore: zsetStore('ZINTERSTORE', o),
    zunionstore: zsetStore('ZUNIONSTORE', o),
    zdiffstore: zsetStore('ZDIFFSTORE', o),
    zmpop: keyList().chain((ks) => cmd('ZMPOP', String(ks.length), fc.constant(ks), fc.constantFrom('MIN', 'MAX'), fc.constantFrom<Argv>([], ['COUNT', '2'], ['COUNT', '10']))),
    bzmpop: keyList().chain((ks) => cmd('BZMPOP', blockTimeout, String(ks.length), fc.constant(ks), fc.constantFrom('MIN', 'MAX'), fc.constantFrom<Argv>([], ['COUNT', '2'], ['COUNT', '10']))),
    bzpopmin: cmd('BZPOPMIN', keyList(), blockTimeout),
    bzpopmax: cmd('BZPOPMAX', keyList(), blockTimeout),
    zpopmin: cmd('ZPOPMIN', key, fc.constantFrom<Argv>([], ['2'], ['10'])),
    zpopmax: cmd('ZPOPMAX', key, fc.constantFrom<Argv>([], ['2'], ['10'])),
    zrangestore: fc.oneof(
      cmd('ZRANGESTORE', key, key, smallIndex, smallIndex, fc.constantFrom<Argv>([], ['REV'])),
      cmd('ZRANGESTORE', key, key, fc.constantFrom('-inf', '(0', '1'), fc.constantFrom('+inf', '3', '(10'), 'BYSCORE', fc.constantFrom<Argv>([], ['REV']), fc.constantFrom<Argv>([], ['LIMIT', '1', '2'])),
      cmd('ZRANGESTORE', key, key, fc.constantFrom('-', '[a', '(b'), fc.constantFrom('+', '[c', '(d'), 'BYLEX'),
    ),
    zrem: cmd('ZREM', key, elements(3)),
    zremrangebylex: cmd('ZREMRANGEBYLEX', key, fc.constantFrom('-', '[a', '(b'), fc.constantFrom('+', '[c', '(d')),
    zremrangebyrank: cmd('ZREMRANGEBYRANK', key, smallIndex, smallIndex),
    zremrangebyscore: cmd('ZREMRANGEBYSCORE', key, fc.constantFrom('-inf', '(0', '1', '2.5'), fc.constantFrom('+inf', '3', '(10')),
    ...streamCommands(o),
    ...bitmapCommands(o),
    ...hyperloglogCommands(),
    ...geoCommands(o),
  };
}

/** Geo writes: GEOADD (logged as ZADD) and the STORE forms of the searches (logged as sent). */
function geoCommands(o: GeneratorOptions): Record<string, fc.Arbitrary<Argv>> {
  const place = fc.constantFrom<Argv>(['13.361389', '38.115556'], ['15.087269', '37.502669'], ['13.5', '38'], ['14', '38'], ['180', '85.05112878'], ['-180', '-85.05112878'], ['0', '0'], ['200', '0']);
  const geoMember = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  // STOREDIST stores distances: scores 7.0 prints unlike 7.2, so not for the redis-server replay.
  const store = o.exactScores ? fc.constant('STORE') : fc.constantFrom('STORE', 'STOREDIST');
  const count = fc.constantFrom<Argv>([], [], ['COUNT', '2'], ['COUNT', '1', 'ANY'], ['ASC'], ['DESC', 'COUNT', '3']);
  return {
    geoadd: cmd('GEOADD', key, fc.constantFrom<Argv>([], [], ['NX'], ['XX'], ['CH'], ['XX', 'CH']), fc.array(fc.tuple(place, geoMember), { minLength: 1, maxLength: 3 }).map((ts) => ts.flatMap(([p, m]) => [...p, m]))),
    georadius: cmd('GEORADIUS', key, '14', '38', fc.constantFrom('100', '300'), 'km', count, store, key),
    georadiusbymember: cmd('GEORADIUSBYMEMBER', key, geoMember, fc.constantFrom('100', '300'), 'km', count, store, key),
    geosearchstore: cmd(
      'GEOSEARCHSTORE', key, key,
      fc.constantFrom<Argv>(['FROMLONLAT', '14', '38'], ['FROMLONLAT', '13.4', '38.1'], ['FROMMEMBER', 'a']),
      fc.constantFrom<Argv>(['BYRADIUS', '200', 'km'], ['BYBOX', '400', '300', 'km']),
      count,
      o.exactScores ? fc.constant<Argv>([]) : fc.constantFrom<Argv>([], ['STOREDIST']),
    ),
  };
}

/**
 * Writes COMMAND lists that the generator leaves out on purpose. Each one
 * says why its effect cannot be replayed (or is not a data write at all).
 */
export const NOT_GENERATED: Record<string, string> = {
  // Needs a second server to move keys to; what it logs on the source (DEL of the keys moved) is
  // checked by test/migrate.test.ts, which restarts the server from its AOF.
  migrate: 'needs a target server; its logged DEL is checked by test/migrate.test.ts',
};

/**
 * Commands that change data only through expiry: reading an expired key
 * deletes it and logs a DEL. Their replies are not checked.
 */
export const readCommands: fc.Arbitrary<Argv> = fc.oneof(
  cmd('GET', key),
  cmd('EXISTS', keyList()),
  cmd('TYPE', key),
  cmd('PTTL', key),
  cmd('STRLEN', key),
  cmd('LRANGE', key, '0', '-1'),
  cmd('SMEMBERS', key),
  cmd('SRANDMEMBER', key, fc.constantFrom<Argv>([], ['2'], ['-3'])),
  cmd('ZRANGE', key, '0', '-1', 'WITHSCORES'),
  cmd('HGETALL', key),
  cmd('SORT', key, fc.constantFrom<Argv>([], ['ALPHA'])),
  cmd('XRANGE', key, '-', '+'),
  cmd('PFCOUNT', key),
  fc.constantFrom<Argv>(['SCAN', '0', 'COUNT', '100'], ['RANDOMKEY'], ['DBSIZE'], ['KEYS', '*']),
);

/** Writes that leave a key with a short TTL, so keys do run out during a run (lazy and active expiry). */
export const shortLived: fc.Arbitrary<Argv> = fc.oneof(
  cmd('SET', key, value, 'PX', shortMs),
  cmd('PSETEX', key, shortMs, value),
  cmd('PEXPIRE', key, shortMs),
  cmd('GETEX', key, 'PX', shortMs),
  cmd('PEXPIREAT', key, futureMsShort),
);

export const selectCommand: fc.Arbitrary<Argv> = cmd('SELECT', db);

/** Replace the time and big-value tokens of an argument; `{{dump:K}}` is left to the caller. */
export function resolveTokens(arg: string, nowMs: number): string {
  return arg
    .replace(/\{\{(p?now)\+(-?\d+)\}\}/g, (_, unit: string, n: string) =>
      String(unit === 'pnow' ? nowMs + Number(n) : Math.floor(nowMs / 1000) + Number(n)),
    )
    .replace(/^\{\{big:(\w+)\}\}$/, (_, unit: string) => unit.repeat(Math.ceil(5000 / unit.length)));
}

/** The key whose DUMP payload argv[i] asks for, or null. */
export function dumpToken(arg: string): string | null {
  const m = /^\{\{dump:(.+)\}\}$/.exec(arg);
  return m === null ? null : m[1]!;
}

/** argv with its tokens resolved on `c` now; `{{dump:K}}` is K's DUMP payload (or a payload RESTORE rejects), `{{fdump}}` FUNCTION DUMP's. */
export async function resolveArgv(c: RespClient, argv: Argv): Promise<Argv> {
  const out: Argv = [];
  for (const arg of argv) {
    if (arg === '{{fdump}}') {
      const payload = await c.call('FUNCTION', 'DUMP');
      out.push(payload.type === 'bulk' && payload.value !== null ? payload.value : 'not a payload');
      continue;
    }
    const dumpOf = dumpToken(arg);
    if (dumpOf === null) {
      out.push(resolveTokens(arg, Date.now()));
      continue;
    }
    const payload = await c.call('DUMP', dumpOf);
    out.push(payload.type === 'bulk' && payload.value !== null ? payload.value : 'not a payload');
  }
  return out;
}
