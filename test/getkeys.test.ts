// COMMAND GETKEYS / GETKEYSANDFLAGS against redis-server: key specs, and
// the getkeys procedures Redis falls back on when a spec cannot describe
// the arguments (SORT ... STORE, numkeys that string2ll refuses but atoi
// reads, the int cast of numkeys).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import { toJs } from './helpers/resp.js';
import { mulberry32 } from './helpers/random.js';

const ARG_POOL = [
  'k1', 'k2', 'k3', '0', '1', '2', '3', '-1', '01', '1x', ' 2', '+1', '4294967297', 'STORE', 'store', 'dst', 'GET', 'BY', 'LIMIT',
  'WEIGHTS', 'AGGREGATE', 'LEFT', 'RIGHT', 'MIN', 'MAX', 'COUNT', 'KEYS', 'STREAMS', 'EX', '10', 'KEEPTTL', 'DB', 'REPLACE', '',
];

describe.skipIf(!HAVE_REDIS)('COMMAND GETKEYS (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  const both = async (...args: string[]) => {
    await pair.check('COMMAND', 'GETKEYS', ...args);
    await pair.check('COMMAND', 'GETKEYSANDFLAGS', ...args);
  };

  it('SORT: the STORE destination is a key (the last STORE wins), BY/GET/LIMIT arguments are skipped', async () => {
    await both('SORT', 'k');
    await both('SORT', 'k', 'STORE', 'dst');
    await both('sort', 'k', 'store', 'd1', 'by', 'x', 'get', 'y', 'STORE', 'd2', 'LIMIT', '0', '1');
    await both('SORT', 'k', 'STORE');
    await both('SORT', 'k', 'LIMIT', 'STORE', 'x');
    await both('SORT', 'k', 'GET', 'STORE', 'x');
    await both('SORT', 'k', 'BY', 'STORE', 'STORE', 'y');
    await both('SORT', 'k', 'STORE', 'LIMIT', '0', '1');
    await both('SORT', 'k', 'ALPHA', 'DESC', 'STORE', 'd');
    await both('SORT_RO', 'k');
    await both('SORT_RO', 'k', 'BY', 'x', 'GET', 'y', 'STORE', 'z');
  });

  it('numkeys commands: spec first, then Redis\' atoi-based fallback (input keys first, store key last, no flags)', async () => {
    for (const cmd of ['ZUNIONSTORE', 'ZINTERSTORE', 'ZDIFFSTORE']) {
      await both(cmd, 'dst', '2', 'a', 'b');
      await both(cmd, 'dst', '2', 'a', 'b', 'WEIGHTS', '1', '2');
      await both(cmd, 'dst', '1x', 'a');
      await both(cmd, 'dst', '01', 'a', 'b');
      await both(cmd, 'dst', ' 1', 'a');
      await both(cmd, 'dst', '+2', 'a', 'b');
      await both(cmd, 'dst', '0', 'a');
      await both(cmd, 'dst', '-1', 'a');
      await both(cmd, 'dst', '3', 'a', 'b');
      await both(cmd, 'dst', 'x', 'a');
      await both(cmd, 'dst', '4294967297', 'a', 'b');
      await both(cmd, 'dst', '99999999999999999999', 'a', 'b');
    }
    for (const cmd of ['ZUNION', 'ZINTER', 'ZDIFF', 'ZINTERCARD', 'SINTERCARD']) {
      await both(cmd, '2', 'a', 'b');
      await both(cmd, '1x', 'a');
      await both(cmd, '02', 'a', 'b');
      await both(cmd, '0', 'a');
      await both(cmd, '3', 'a', 'b');
      await both(cmd, '4294967297', 'a', 'b');
      await both(cmd, '4294967296', 'a', 'b');
    }
    await both('LMPOP', '2', 'a', 'b', 'LEFT');
    await both('LMPOP', '01', 'a', 'LEFT');
    await both('LMPOP', '1x', 'a', 'LEFT', 'COUNT', '2');
    await both('LMPOP', '5', 'a', 'LEFT');
    await both('ZMPOP', '2', 'a', 'b', 'MIN');
    await both('ZMPOP', '2x', 'a', 'b', 'MIN');
    await both('ZMPOP', '0', 'a', 'MIN');
    // The blocking forms: numkeys after the timeout.
    await both('BLMPOP', '0', '2', 'a', 'b', 'LEFT');
    await both('BLMPOP', '0', '01', 'a', 'LEFT');
    await both('BLMPOP', 'x', '+1', 'a', 'RIGHT', 'COUNT', '2');
    await both('BLMPOP', '0', '5', 'a', 'LEFT');
    await both('BZMPOP', '0', '2', 'a', 'b', 'MIN');
    await both('BZMPOP', '0', '1x', 'a', 'MAX');
    await both('BZMPOP', 'KEEPTTL', '01', '+1', 'STREAMS');
    await both('BZMPOP', '0', '0', 'a', 'MIN');
  });

  it('SET (variable flags), LCS, MSET, COPY and errors', async () => {
    await both('SET', 'k', 'v');
    await both('SET', 'k', 'v', 'GET');
    await both('SET', 'k', 'v', 'get', 'EX', '10');
    await both('SET', 'k', 'v', 'GETX');
    await both('LCS', 'a', 'b');
    await both('MSET', 'a', '1', 'b');
    await both('MSET', 'a', '1', 'b', '2');
    await both('COPY', 'a', 'b', 'DB', '1');
    await both('GET', 'a', 'b');
    await both('PING', 'x');
    await both('NOSUCH', 'x');
    await both('COMMAND', 'x');
    await pair.check('COMMAND', 'GETKEYS');
    await pair.check('COMMAND', 'GETKEYSANDFLAGS');
  });

  it('MIGRATE: the key argument, or with KEYS the arguments after it (none when the key argument is not empty), options skipped', async () => {
    await both('MIGRATE', 'h', '1', 'k', '0', '100');
    await both('MIGRATE', 'h', '1', '', '0', '100');
    await both('MIGRATE', 'h', '1', '', '0', '100', 'KEYS', 'a', 'b');
    await both('MIGRATE', 'h', '1', '', '0', '100', 'COPY', 'REPLACE', 'keys', 'a');
    await both('MIGRATE', 'h', '1', '', '0', '100', 'AUTH', 'keys', 'KEYS', 'a');
    await both('MIGRATE', 'h', '1', '', '0', '100', 'AUTH2', 'keys', 'keys', 'KEYS', 'a', 'b');
    await both('MIGRATE', 'h', '1', 'k', '0', '100', 'KEYS', 'a');
    await both('MIGRATE', 'h', '1', '', '0', '100', 'constructor', 'KEYS', 'a');
    await both('MIGRATE', 'h', '1', '', '0', '100', 'KEYS');
  });

  it('EVAL and FCALL families: keys from the spec, else evalGetKeys/functionGetKeys (numkeys read with atoi)', async () => {
    for (const cmd of ['EVAL', 'EVALSHA', 'EVAL_RO', 'EVALSHA_RO', 'FCALL', 'FCALL_RO']) {
      await both(cmd, 's', '2', 'k1', 'k2', 'a');
      await both(cmd, 's', '1x', 'k1', 'a');
      await both(cmd, 's', '01', 'k1');
      await both(cmd, 's', ' 2', 'k1', 'k2');
      await both(cmd, 's', '3', 'k1', 'k2');
      await both(cmd, 's', '0', 'a');
      await both(cmd, 's', '-1', 'a');
    }
  });

  it('a command name alone is checked as in Redis 7.2 (arity -3; 7.0 had -4)', async () => {
    const v = async (...args: string[]) => toJs(await pair.vireo.call('COMMAND', 'GETKEYS', ...args));
    expect(await v('GET')).toEqual(new Error('ERR Invalid number of arguments specified for command'));
    expect(await v('PING')).toEqual(new Error('ERR The command has no key arguments'));
    expect(await v('SORT')).toEqual(new Error('ERR Invalid number of arguments specified for command'));
  });

  it('every implemented command with keys agrees with Redis on random arguments', async () => {
    const list = toJs(await pair.vireo.call('COMMAND', 'LIST')) as string[];
    const random = mulberry32(0x5eed);
    let compared = 0;
    for (const name of list.sort()) {
      if (name.includes('|')) continue;
      // Only commands both servers know with the same arity (Redis 7.0 lacks
      // the 7.2 additions, and ZRANK/ZREVRANK took WITHSCORE in 7.2).
      const [info] = toJs(await pair.redis.call('COMMAND', 'INFO', name)) as (unknown[] | null)[];
      const [ours] = toJs(await pair.vireo.call('COMMAND', 'INFO', name)) as unknown[][];
      if (info === null || info![1] !== ours![1]) continue;
      for (let round = 0; round < 12; round++) {
        const n = 1 + Math.floor(random() * 6);
        const args = Array.from({ length: n }, () => ARG_POOL[Math.floor(random() * ARG_POOL.length)]!);
        await both(name, ...args);
        compared++;
      }
    }
    if (compared < 1000) throw new Error(`only ${compared} argument lists compared`);
  });
});
