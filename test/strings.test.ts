// String commands against redis-server: edge cases of every option, bad
// numbers, overflow, wrong types, encodings.
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';

describe.skipIf(!HAVE_REDIS)('strings (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });
  beforeEach(async () => {
    await pair.check('FLUSHALL');
  });

  it('SET with every option combination', async () => {
    await pair.script([
      ['SET', 'k', 'v'],
      ['SET', 'k', 'v2', 'NX'],
      ['SET', 'k', 'v3', 'XX'],
      ['SET', 'new', 'v', 'XX'],
      ['SET', 'k', 'v4', 'GET'],
      ['SET', 'k', 'v5', 'NX', 'GET'],
      ['SET', 'missing', 'v', 'XX', 'GET'],
      ['SET', 'k', 'v', 'NX', 'XX'],
      ['SET', 'k', 'v', 'EX', '10', 'PX', '100'],
      ['SET', 'k', 'v', 'EX', '10', 'EX', '20'],
      ['SET', 'k', 'v', 'KEEPTTL', 'EX', '10'],
      ['SET', 'k', 'v', 'EX', '0'],
      ['SET', 'k', 'v', 'EX', '-1'],
      ['SET', 'k', 'v', 'EX', 'abc'],
      ['SET', 'k', 'v', 'PX', '9223372036854775807'],
      ['SET', 'k', 'v', 'EX', '9223372036854775'],
      ['SET', 'k', 'v', 'EX', '9223372036854776'],
      ['SET', 'k', 'v', 'EXAT', '9999999999'],
      ['TTL', 'k'],
      ['SET', 'k', 'v', 'KEEPTTL'],
      ['TTL', 'k'],
      ['SET', 'k', 'v'],
      ['TTL', 'k'],
      ['SET', 'k', 'v', 'PERSIST'],
      ['SET', 'k', 'v', 'get', 'get'],
      ['SET', 'k', 'v', 'EX'],
      ['SET', 'k', 'v', 'FOO'],
      ['SET', 'k'],
      ['LPUSH', 'list', 'a'],
      ['SET', 'list', 'v', 'GET'],
      ['SET', 'list', 'v'],
      ['TYPE', 'list'],
    ]);
  });

  it('SETNX SETEX PSETEX GETSET GETDEL GETEX', async () => {
    await pair.script([
      ['SETNX', 'a', '1'],
      ['SETNX', 'a', '2'],
      ['GET', 'a'],
      ['SETEX', 'b', '100', 'v'],
      ['TTL', 'b'],
      ['SETEX', 'b', '0', 'v'],
      ['SETEX', 'b', '-5', 'v'],
      ['SETEX', 'b', 'x', 'v'],
      ['PSETEX', 'c', '100000', 'v'],
      ['PSETEX', 'c', '0', 'v'],
      ['GETSET', 'a', 'new'],
      ['GETSET', 'nokey', 'v'],
      ['GETDEL', 'a'],
      ['GETDEL', 'a'],
      ['GETEX', 'b'],
      ['GETEX', 'b', 'PERSIST'],
      ['TTL', 'b'],
      ['GETEX', 'b', 'EX', '50'],
      ['TTL', 'b'],
      ['GETEX', 'b', 'PX', '50000'],
      ['GETEX', 'b', 'EXAT', '1'],
      ['EXISTS', 'b'],
      ['GETEX', 'nokey', 'EX', '10'],
      ['GETEX', 'c', 'KEEPTTL'],
      ['GETEX', 'c', 'EX', '10', 'PERSIST'],
      ['GETEX', 'c', 'NX'],
      ['GETEX', 'c', 'EX', '0'],
      ['LPUSH', 'l', 'x'],
      ['GETEX', 'l'],
      ['GETDEL', 'l'],
      ['GETSET', 'l', 'v'],
    ]);
  });

  it('MGET MSET MSETNX', async () => {
    await pair.script([
      ['MSET', 'a', '1', 'b', '2', 'c', '3'],
      ['MGET', 'a', 'b', 'c', 'd'],
      ['MSET', 'a'],
      ['MSET', 'a', '1', 'b'],
      ['MSETNX', 'x', '1', 'a', '2'],
      ['MSETNX', 'x', '1', 'y', '2'],
      ['MGET', 'x', 'y', 'a'],
      ['MSETNX', 'x'],
      ['LPUSH', 'l', 'v'],
      ['MGET', 'l', 'a'],
      ['MSET', 'l', 'v'],
      ['TYPE', 'l'],
    ]);
  });

  it('APPEND STRLEN SETRANGE GETRANGE SUBSTR', async () => {
    await pair.script([
      ['APPEND', 'a', 'hello'],
      ['APPEND', 'a', ' world'],
      ['GET', 'a'],
      ['STRLEN', 'a'],
      ['STRLEN', 'none'],
      ['SET', 'n', '12345'],
      ['STRLEN', 'n'],
      ['APPEND', 'n', '6'],
      ['GET', 'n'],
      ['SETRANGE', 'a', '6', 'WORLD'],
      ['GET', 'a'],
      ['SETRANGE', 'a', '20', 'X'],
      ['GET', 'a'],
      ['SETRANGE', 'b', '5', 'x'],
      ['GET', 'b'],
      ['SETRANGE', 'c', '5', ''],
      ['EXISTS', 'c'],
      ['SETRANGE', 'a', '0', ''],
      ['SETRANGE', 'a', '-1', 'x'],
      ['SETRANGE', 'a', 'x', 'x'],
      ['SETRANGE', 'a', '536870912', 'x'],
      ['SETRANGE', 'a', '536870911', ''],
      ['GETRANGE', 'a', '0', '4'],
      ['GETRANGE', 'a', '-5', '-1'],
      ['GETRANGE', 'a', '-1', '-5'],
      ['GETRANGE', 'a', '5', '2'],
      ['GETRANGE', 'a', '0', '-100'],
      ['GETRANGE', 'a', '-100', '-100'],
      ['GETRANGE', 'a', '-100', '100'],
      ['GETRANGE', 'a', '100', '200'],
      ['GETRANGE', 'a', '0', '9223372036854775807'],
      // Both near -2^63: equal as doubles, ordered as int64.
      ['GETRANGE', 'a', '-9223372036854775807', '-9223372036854775808'],
      ['GETRANGE', 'a', '-9223372036854775808', '-9223372036854775807'],
      ['GETRANGE', 'a', '-9223372036854775000', '-9223372036854775001'],
      ['GETRANGE', 'a', 'x', '1'],
      ['GETRANGE', 'none', '0', '1'],
      ['SUBSTR', 'a', '1', '3'],
      ['SET', 'i', '1234'],
      ['GETRANGE', 'i', '1', '2'],
      ['SETRANGE', 'i', '1', '9'],
      ['GET', 'i'],
      ['LPUSH', 'l', 'v'],
      ['APPEND', 'l', 'x'],
      ['SETRANGE', 'l', '0', 'x'],
      ['GETRANGE', 'l', '0', '1'],
      ['STRLEN', 'l'],
    ]);
  });

  it('INCR family: bounds, overflow, bad values', async () => {
    await pair.script([
      ['INCR', 'a'],
      ['INCRBY', 'a', '10'],
      ['DECR', 'a'],
      ['DECRBY', 'a', '5'],
      ['DECRBY', 'a', '-9223372036854775808'],
      ['INCRBY', 'a', '9223372036854775807'],
      ['SET', 'max', '9223372036854775807'],
      ['INCR', 'max'],
      ['SET', 'min', '-9223372036854775808'],
      ['DECR', 'min'],
      ['INCRBY', 'min', '-1'],
      ['SET', 'big', '9007199254740993'],
      ['INCR', 'big'],
      ['INCRBY', 'big', '9007199254740993'],
      ['GET', 'big'],
      ['SET', 's', 'abc'],
      ['INCR', 's'],
      ['SET', 's', ' 1'],
      ['INCR', 's'],
      ['SET', 's', '01'],
      ['INCR', 's'],
      ['SET', 's', '1.5'],
      ['INCR', 's'],
      ['SET', 's', '-0'],
      ['INCR', 's'],
      ['INCRBY', 'a', 'x'],
      ['INCRBY', 'a', '1.0'],
      ['INCRBY', 'a', '99999999999999999999'],
      ['LPUSH', 'l', 'v'],
      ['INCR', 'l'],
      ['SET', 'e', ''],
      ['INCR', 'e'],
    ]);
  });

  it('INCRBYFLOAT formats like Redis (long double, %.17Lf)', async () => {
    await pair.script([
      ['INCRBYFLOAT', 'f', '10.5'],
      ['INCRBYFLOAT', 'f', '0.1'],
      ['INCRBYFLOAT', 'f', '-5'],
      ['INCRBYFLOAT', 'f', '1e3'],
      ['INCRBYFLOAT', 'f', '3.0e-5'],
      ['INCRBYFLOAT', 'f', '-1013.6'],
      ['INCRBYFLOAT', 'g', '1.23456789012345678'],
      ['INCRBYFLOAT', 'g', '0.00000000000000001'],
      ['INCRBYFLOAT', 'h', '5.0e3'],
      ['INCRBYFLOAT', 'h', '1e300'],
      ['INCRBYFLOAT', 'z', '-0'],
      ['INCRBYFLOAT', 'z', '0.0'],
      ['INCRBYFLOAT', 'f', 'inf'],
      ['INCRBYFLOAT', 'f', 'nan'],
      ['INCRBYFLOAT', 'f', 'abc'],
      ['INCRBYFLOAT', 'f', ''],
      ['INCRBYFLOAT', 'f', ' 1'],
      ['INCRBYFLOAT', 'f', '1 '],
      ['INCRBYFLOAT', 'f', '0x10'],
      ['INCRBYFLOAT', 'f', '1e5000'],
      ['INCRBYFLOAT', 'f', '1e-5000'],
      ['SET', 'i', '100'],
      ['INCRBYFLOAT', 'i', '1.5'],
      ['OBJECT', 'ENCODING', 'i'],
      ['SET', 's', 'x'],
      ['INCRBYFLOAT', 's', '1'],
      ['SET', 'exp', '1'],
      ['EXPIRE', 'exp', '100'],
      ['INCRBYFLOAT', 'exp', '1'],
      ['TTL', 'exp'],
    ]);
  });

  it('OBJECT ENCODING of strings: int, embstr, raw', async () => {
    await pair.script([
      ['SET', 'a', '12345'],
      ['OBJECT', 'ENCODING', 'a'],
      ['SET', 'b', '-9223372036854775808'],
      ['OBJECT', 'ENCODING', 'b'],
      ['SET', 'c', '9223372036854775808'],
      ['OBJECT', 'ENCODING', 'c'],
      ['SET', 'd', '0123'],
      ['OBJECT', 'ENCODING', 'd'],
      ['SET', 'e', 'x'.repeat(44)],
      ['OBJECT', 'ENCODING', 'e'],
      ['SET', 'f', 'x'.repeat(45)],
      ['OBJECT', 'ENCODING', 'f'],
      ['APPEND', 'g', 'abc'],
      ['OBJECT', 'ENCODING', 'g'],
      ['APPEND', 'g', 'd'],
      ['OBJECT', 'ENCODING', 'g'],
      ['APPEND', 'h', '123'],
      ['OBJECT', 'ENCODING', 'h'],
      ['SETRANGE', 'i', '0', 'abc'],
      ['OBJECT', 'ENCODING', 'i'],
      ['INCR', 'j'],
      ['OBJECT', 'ENCODING', 'j'],
      ['SET', 'k', '100'],
      ['OBJECT', 'REFCOUNT', 'k'],
      ['SET', 'k', '10000'],
      ['OBJECT', 'REFCOUNT', 'k'],
      ['OBJECT', 'REFCOUNT', 'e'],
      ['OBJECT', 'ENCODING', 'nokey'],
      ['OBJECT', 'NOSUCH', 'a'],
      ['OBJECT', 'ENCODING'],
    ]);
  });

  it('LCS', async () => {
    await pair.script([
      ['MSET', 'k1', 'ohmytext', 'k2', 'mynewtext'],
      ['LCS', 'k1', 'k2'],
      ['LCS', 'k1', 'k2', 'LEN'],
      ['LCS', 'k1', 'k2', 'IDX'],
      ['LCS', 'k1', 'k2', 'IDX', 'MINMATCHLEN', '4'],
      ['LCS', 'k1', 'k2', 'IDX', 'MINMATCHLEN', '4', 'WITHMATCHLEN'],
      ['LCS', 'k1', 'k2', 'IDX', 'WITHMATCHLEN'],
      ['LCS', 'k1', 'k2', 'IDX', 'LEN'],
      ['LCS', 'k1', 'missing'],
      ['LCS', 'k1', 'k2', 'MINMATCHLEN'],
      ['LCS', 'k1', 'k2', 'FOO'],
      ['MSET', 'a', 'rosettacode', 'b', 'raisethysword'],
      ['LCS', 'a', 'b', 'IDX', 'WITHMATCHLEN'],
      ['LCS', 'a', 'b'],
      ['LPUSH', 'l', 'x'],
      ['LCS', 'a', 'l'],
    ]);
  });
});
