// EVAL/EVALSHA/EVAL_RO/EVALSHA_RO and SCRIPT against redis-server: Lua values
// converted to replies and replies converted to Lua in RESP2 and RESP3, error
// texts, number formatting, the sandbox and globals protection, the redis.*
// API, cjson, the script cache, shebang flags, busy scripts and SCRIPT KILL,
// and how scripts meet keys, databases and transactions.
//
// Every case is run on both servers and compared byte for byte. Cases that
// differ between the 7.0 reference and 7.2 state both answers (see
// checkEach) or are rewritten by an entry of KNOWN_DIFFERENCES. With
// DIFF_AGAINST_REDIS=1 the corpus runs against two redis-servers, which shows
// that every case is deterministic.
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DiffPair, encodeCommand, normalize } from './helpers/differential.js';
import { RespClient, toJs, type Reply } from './helpers/resp.js';
import { HAVE_REDIS } from './helpers/servers.js';

/** A Lua function (local to each script) that prints any value, table keys sorted, so Lua-side values can be compared. */
const DESCRIBE = `local function d(v)
  local t = type(v)
  if t == 'table' then
    local ks = {}
    for k in pairs(v) do ks[#ks + 1] = k end
    table.sort(ks, function(a, b) return tostring(a) < tostring(b) end)
    local out = {}
    for _, k in ipairs(ks) do out[#out + 1] = d(k) .. '=' .. d(v[k]) end
    return '{' .. table.concat(out, ',') .. '}'
  elseif t == 'string' then
    return string.format('%q', v)
  end
  return t .. ':' .. tostring(v)
end
`;

/** The SHA1 digest EVALSHA names a script by. */
const sha1hex = (script: string): string => createHash('sha1').update(Buffer.from(script, 'latin1')).digest('hex');

const sha1 = async (c: RespClient, script: string): Promise<string> => {
  const r = await c.call('SCRIPT', 'LOAD', script);
  if (r.type !== 'bulk' || r.value === null) throw new Error(`SCRIPT LOAD: ${JSON.stringify(r)}`);
  return r.value;
};

describe.skipIf(!HAVE_REDIS)('scripting (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });
  beforeEach(async () => {
    await pair.check('FLUSHALL');
    await pair.check('SCRIPT', 'FLUSH');
  });

  /** EVAL each script with the given numkeys/keys/args; every reply must match. */
  /**
   * Whether the server under test implements a command: cases that use a
   * command family Vireo does not have yet (pub/sub, geo, HyperLogLog, ACL:
   * later issues) are left out until it does, then they run by themselves.
   */
  async function implemented(name: string): Promise<boolean> {
    const [, port] = pair.ports;
    const c = await RespClient.connect(port);
    try {
      const info = await c.call('COMMAND', 'INFO', name);
      const entry = info.type === 'array' && info.value !== null ? info.value[0] : undefined;
      return entry !== undefined && entry.type === 'array' && entry.value !== null;
    } finally {
      c.close();
    }
  }

  async function implementedOnly(cmds: string[][]): Promise<string[][]> {
    const out: string[][] = [];
    for (const c of cmds) if (await implemented(c[0]!)) out.push(c);
    return out;
  }

  async function evalAll(p: DiffPair, scripts: string[], ...rest: string[]): Promise<void> {
    for (const s of scripts) await p.check('EVAL', s, ...(rest.length > 0 ? rest : ['0']));
  }

  /** Run fn on a new connection pair in RESP2, then on one in RESP3. */
  async function inBothProtocols(fn: (p: DiffPair) => Promise<void>): Promise<void> {
    for (const proto of ['2', '3']) {
      const p = await pair.connect();
      try {
        await p.check('HELLO', proto);
        await fn(p);
      } finally {
        p.close();
      }
    }
  }

  /**
   * A command whose answer differs between 7.0 (the reference) and 7.2 (Vireo):
   * each side must give its own version's answer. Against two redis-servers
   * (DIFF_AGAINST_REDIS=1) both give the 7.0 answer.
   */
  async function checkEach(args: string[], redis70: Reply, vireo72: Reply): Promise<void> {
    const [a, b] = await Promise.all([pair.redis.call(...args), pair.vireo.call(...args)]);
    expect(a, `redis: ${JSON.stringify(args)}`).toEqual(redis70);
    expect(b, `second server: ${JSON.stringify(args)}`).toEqual(DiffPair.referenceOnly ? redis70 : vireo72);
  }

  describe('Lua values to replies', () => {
    const NUMBERS = [
      'return 1',
      'return -1',
      'return 0',
      'return 3.99',
      'return -3.99',
      'return 0.5',
      'return -0.5',
      'return -0',
      'return 1e15',
      'return 2^53',
      'return 2^53 + 1',
      'return 2^62',
      'return 2^63',
      'return -2^63',
      'return 1e20',
      'return -1e20',
      'return 1/0',
      'return -1/0',
      'return 0/0',
      'return 123456789012345678',
      'return tonumber("9223372036854775807")',
      'return tonumber("-9223372036854775808")',
      'return 0x7fffffff + 1',
    ];
    const SCALARS = [
      'return "hello"',
      'return ""',
      'return "a\\0b"',
      'return "\\255\\254\\r\\n"',
      'return nil',
      'return false',
      'return true',
      'return',
      'return 1, 2',
      'return function() end',
      'return coroutine.create(function() end)',
      'return cjson.null',
    ];
    const TABLES = [
      'return {}',
      'return {1, 2, 3}',
      'return {1, 2, nil, 4}',
      'return {nil, 1}',
      'return {1, "two", {3, {4, {5}}}, false, true}',
      'return {1, x = 2}',
      'return {[2] = 2}',
      'return {"a", [3] = "c"}',
      'return {[1.5] = 1}',
      'return {1, 2, [2.5] = 3, [3] = 4}',
      'return {"a", false, "c"}',
      'return {"a", true, 3.7}',
      'local t = {} for i = 1, 1000 do t[i] = i end return t',
      'local t = {} local c = t for i = 1, 100 do c[1] = {} c = c[1] end return t',
      'return {{}, {{}}, {{}, {}}}',
    ];
    const STATUS_AND_ERRORS = [
      'return {ok = "fine"}',
      'return {ok = ""}',
      'return {ok = "a\\r\\nb"}',
      'return {ok = 5}',
      'return {ok = true}',
      'return {err = "ERR boom"}',
      'return {err = "MYCODE custom text"}',
      'return {err = "nocode"}',
      'return {err = ""}',
      'return {err = "a\\r\\nb"}',
      'return {err = "-ERR leading dash"}',
      'return {err = 5}',
      'return {ok = "x", err = "y"}',
      'return {1, 2, ok = "x"}',
      'return {1, 2, err = "E x"}',
      'return {{err = "E nested"}, {ok = "nested"}}',
      'return redis.status_reply("FINE")',
      'return redis.status_reply("")',
      'return redis.status_reply("a\\nb")',
      'return redis.status_reply()',
      'return redis.status_reply(5)',
      'return redis.status_reply("a", "b")',
      'return redis.error_reply("MY error text")',
      'return redis.error_reply("-MY error text")',
      'return redis.error_reply("ERR")',
      'return redis.error_reply("-")',
      'return redis.error_reply("")',
      'return redis.error_reply("no code here")',
      'return redis.error_reply("lower case")',
      'return redis.error_reply("a\\r\\nb")',
      'return redis.error_reply()',
      'return redis.error_reply(5)',
      'return redis.error_reply({})',
      'local e = redis.error_reply("X y") return {e.err, type(e)}',
      'local s = redis.status_reply("OK") return {s.ok, type(s)}',
    ];
    // RESP3 reply types written by scripts (they fall back to RESP2 shapes for RESP2 clients).
    const RESP3_TYPES = [
      'return {double = 3.5}',
      'return {double = -2.25}',
      'return {double = 3}',
      'return {double = 0}',
      'return {double = -0.0}',
      'return {double = 1/0}',
      'return {double = -1/0}',
      'return {double = "3.5"}',
      'return {double = 1e15}',
      'return {big_number = "123456789012345678901234567890"}',
      'return {big_number = "-1"}',
      'return {big_number = "1\\r\\n2"}',
      'return {big_number = 5}',
      'return {map = {a = 1}}',
      'return {map = {a = 1, b = "two", c = {1, 2}, d = {map = {x = true}}}}',
      'return {map = {}}',
      'return {map = {[1] = "one", [2] = false}}',
      'return {map = {a = {err = "E in map"}}}',
      'return {map = "not a table"}',
      'return {set = {a = true}}',
      'return {set = {a = true, b = false, [3] = true}}',
      'return {set = {}}',
      'return {set = "not a table"}',
      'return {verbatim_string = {format = "txt", string = "hello"}}',
      'return {verbatim_string = {format = "mkd", string = "# title\\r\\nline"}}',
      'return {verbatim_string = {format = "markdown", string = "x"}}',
      'return {verbatim_string = {string = "no format"}}',
      'return {verbatim_string = {format = "txt"}}',
      'return {verbatim_string = "not a table"}',
      'return {1, {double = 1.5}, {map = {k = {set = {m = true}}}}}',
    ];

    it('numbers: truncated to integers, out of range and non-finite as the C cast gives them', async () => {
      await inBothProtocols((p) => evalAll(p, NUMBERS));
    });

    it('strings, nil, booleans and values with no reply type', async () => {
      await inBothProtocols((p) => evalAll(p, SCALARS));
    });

    it('tables: arrays stop at the first nil, keys other than 1..n are ignored', async () => {
      await inBothProtocols((p) => evalAll(p, TABLES));
    });

    it('status and error tables, redis.status_reply and redis.error_reply', async () => {
      await inBothProtocols((p) => evalAll(p, STATUS_AND_ERRORS));
    });

    it('a table nested deeper than the Lua stack allows: the innermost part becomes an error (compared as bytes)', async () => {
      // About 8000 levels: too deep for the test client's recursive parser, so the bytes are compared.
      const script = 'local t = {} local c = t for i = 1, 10000 do c[1] = {} c = c[1] end return t';
      for (const proto of ['2', '3']) {
        const [a, b] = await Promise.all(pair.ports.map((port) => rawReply(port, [['HELLO', proto], ['EVAL', script, '0']])));
        expect(b!.equals(a!), `RESP${proto}`).toBe(true);
        expect(a!.latin1Slice(a!.length - 40)).toContain('-ERR reached lua stack limit\r\n');
      }
    });

    it('double, big number, map, set and verbatim tables', async () => {
      await inBothProtocols((p) => evalAll(p, RESP3_TYPES));
    });

    it('doubles that print differently in 7.0 (%.17g) and 7.2 (shortest), in RESP3 (KNOWN_DIFFERENCES)', async () => {
      const p = await pair.connect();
      try {
        await p.check('HELLO', '3');
        await evalAll(p, ['return {double = 0.1}', 'return {double = 1e300}', 'return {double = 1/3}', 'return {double = 0/0}', 'return {double = 2^70}']);
      } finally {
        p.close();
      }
    });

    it('after redis.setresp(3): booleans keep their type (RESP2 clients get 1 and 0), nil is null', async () => {
      await inBothProtocols((p) =>
        evalAll(p, [
          'redis.setresp(3) return true',
          'redis.setresp(3) return false',
          'redis.setresp(3) return nil',
          'redis.setresp(3) return {true, false, 1}',
          'redis.setresp(3) return {map = {a = false}}',
          'redis.setresp(2) return false',
          'redis.setresp(3) redis.setresp(2) return false',
        ]),
      );
    });
  });

  describe('replies to Lua values', () => {
    beforeEach(async () => {
      await pair.script([
        ['SET', 's', 'hello'],
        ['SET', 'n', '10'],
        ['RPUSH', 'l', 'a', 'b', 'c'],
        ['HSET', 'h', 'f1', 'v1', 'f2', 'v2'],
        ['SADD', 'set1', 'only'],
        ['ZADD', 'z', '1.5', 'm1', '2', 'm2'],
        ['XADD', 'x', '1-1', 'f', 'v'],
        ['XADD', 'x', '1-2', 'g', 'w'],
      ]);
    });

    // Each command's reply is converted to Lua and printed by DESCRIBE.
    const COMMANDS = [
      ['get', 's'],
      ['get', 'missing'],
      ['incr', 'n'],
      ['ping'],
      ['echo', 'e'],
      ['type', 'l'],
      ['lrange', 'l', '0', '-1'],
      ['lrange', 'missing', '0', '-1'],
      ['hgetall', 'h'],
      ['hgetall', 'missing'],
      ['hmget', 'h', 'f1', 'nope', 'f2'],
      ['mget', 's', 'missing', 'n'],
      ['smembers', 'set1'],
      ['zscore', 'z', 'm1'],
      ['zscore', 'z', 'nope'],
      ['zrange', 'z', '0', '-1', 'withscores'],
      ['zmscore', 'z', 'm1', 'nope'],
      ['zincrby', 'z', '1', 'm1'],
      ['incrbyfloat', 'f', '1.5'],
      ['xrange', 'x', '-', '+'],
      ['xread', 'streams', 'x', '0'],
      ['xread', 'streams', 'missing', '0'],
      ['geopos', 'missing', 'm'],
      ['spop', 'missing'],
      ['lpos', 'l', 'zz'],
      ['exists', 's', 'missing'],
      ['object', 'encoding', 's'],
      ['set', 's', 'v', 'nx'],
      ['set', 's', 'v', 'get'],
      ['hello'],
      ['nosuch'],
      ['get', 'l'],
    ];

    it('redis.pcall results in RESP2 and RESP3 (redis.setresp), seen from Lua', async () => {
      await inBothProtocols(async (p) => {
        for (const resp of ['2', '3']) {
          for (const cmd of await implementedOnly(COMMANDS)) {
            await p.check('EVAL', `${DESCRIBE}redis.setresp(${resp}) return d(redis.pcall(unpack(ARGV)))`, '0', ...cmd);
          }
        }
      });
    });

    it('redis.call results returned as they are: RESP3 replies go back as maps, sets, doubles, nulls', async () => {
      await inBothProtocols(async (p) => {
        for (const resp of ['2', '3']) {
          for (const cmd of await implementedOnly(COMMANDS)) {
            if (cmd[0] === 'zscore' || cmd[0] === 'zrange' || cmd[0] === 'zmscore' || cmd[0] === 'zincrby') continue; // doubles: below
            await p.check('EVAL', `redis.setresp(${resp}) return redis.pcall(unpack(ARGV))`, '0', ...cmd);
          }
        }
      });
    });

    it('RESP3 doubles read by scripts (exact values print alike in 7.0 and 7.2)', async () => {
      await pair.check('ZADD', 'z', '0.25', 'q');
      await inBothProtocols((p) =>
        evalAll(p, [
          `${DESCRIBE}redis.setresp(3) return d(redis.call('zscore', 'z', 'q'))`,
          "redis.setresp(3) return redis.call('zscore', 'z', 'q')",
          "redis.setresp(3) return redis.call('zrange', 'z', 0, -1, 'withscores')",
          "redis.setresp(3) return redis.call('zmscore', 'z', 'q', 'nope', 'm2')",
          "redis.setresp(3) local s = redis.call('zscore', 'z', 'q') return {type(s), s.double * 4}",
          "return redis.call('zscore', 'z', 'q')",
        ]),
      );
    });

    it('a RESP3 verbatim reply (INFO) becomes a verbatim_string table', async () => {
      await inBothProtocols((p) =>
        evalAll(p, [
          "redis.setresp(3) local r = redis.call('info', 'server') return {type(r), r.verbatim_string.format, type(r.verbatim_string.string)}",
          "local r = redis.call('info', 'server') return type(r)",
          "redis.setresp(3) local r = redis.call('info', 'server') return {verbatim_string = {format = r.verbatim_string.format, string = 'x'}}",
        ]),
      );
    });

    it('RESP3 nulls inside arrays become nil: the array returned to the client stops there', async () => {
      await inBothProtocols((p) =>
        evalAll(p, [
          "redis.setresp(3) return redis.call('mget', 's', 'missing', 'n')",
          "redis.setresp(2) return redis.call('mget', 's', 'missing', 'n')",
          "redis.setresp(3) local r = redis.call('mget', 's', 'missing', 'n') return #r",
          "redis.setresp(3) return redis.call('hmget', 'h', 'nope', 'f1')",
        ]),
      );
    });
  });

  describe('errors', () => {
    it('compile errors', async () => {
      await evalAll(pair, [
        'return (',
        'return 1 +',
        'x = = 1',
        'return "unfinished',
        '\n\nlocal function',
        'return 1 end',
        'for i = 1 do end',
        'return [[long',
        'goto x',
        'return 7 // 2',
        '',
        ' ',
        '-- only a comment',
      ]);
    });

    it('errors of the commands a script runs count once in errorstats, as Redis counts them', async () => {
      const both = [pair.redis, pair.vireo] as const;
      await Promise.all(both.map((c) => c.call('CONFIG', 'RESETSTAT')));
      await pair.check('SET', 'x', 'a');
      await evalAll(pair, [
        "return redis.call('incr', 'x')",
        "return redis.pcall('incr', 'x')",
        "redis.pcall('incr', 'x') return 'swallowed'",
        "redis.pcall('incr', 'x') return redis.error_reply('ERR value is not an integer or out of range')",
        "return redis.pcall('nosuchcommand')",
        "return redis.pcall('get')",
        "return {err = 'MYCODE own error'}",
        "error('raised')",
      ]);
      const counters = async (c: (typeof both)[number]): Promise<string[]> => {
        const text = (r: Reply): string => (r.type === 'bulk' || r.type === 'verbatim' ? String(r.value) : '');
        const errorstats = text(await c.call('INFO', 'errorstats')).split('\r\n').filter((l) => l.startsWith('errorstat_'));
        const total = text(await c.call('INFO', 'stats')).split('\r\n').filter((l) => l.startsWith('total_error_replies:'));
        const evalStats = text(await c.call('INFO', 'commandstats')).split('\r\n').filter((l) => l.startsWith('cmdstat_eval:'));
        return [...errorstats.sort(), ...total, ...evalStats.map((l) => l.replace(/.*(failed_calls=\d+).*/, '$1'))];
      };
      const [r, v] = await Promise.all(both.map(counters));
      expect(r.length).toBeGreaterThan(2);
      expect(v).toEqual(r);
    });

    it('runtime errors name the script and the line', async () => {
      await evalAll(pair, [
        'local t = nil\nreturn t.x',
        'return 1 + {}',
        'return #nil',
        'return ("x")()',
        'local a = "x" .. {}',
        'return nosuchfunction()',
        'return string.rep()',
        'return ("x"):bad()',
        'local function f() error("deep") end\nlocal function g() f() end\ng()',
        'local function f() local x = nil; return x.y end\n\n\nreturn f()',
        'error("boom")',
        'error("boom", 0)',
        'error("boom", 2)',
        'error(12)',
        'error(nil)',
        'error(true)',
        'error({err = "MYCODE from a table"})',
        'error({err = "lowercase text"})',
        'error({err = 12})',
        'error({err = "ERR x\\r\\n+injected"})',
        'error("x\\r\\ny", 0)',
        'error("a\\nb")',
        'return {err = "E one\\r\\n:2"}',
        'error(redis.error_reply("E raised"))',
        'assert(false)',
        'assert(false, "assertion text")',
        'assert(nil, {err = "E assert table"})',
        'local t = setmetatable({}, {__index = function() error("in metamethod") end}) return t.x',
        'return tostring(setmetatable({}, {__tostring = function() return 5 end}))',
        'string.format("%d", "x")',
        'return math.random(0)',
        'return math.random(1, 2, 3)',
        'return table.concat({{}})',
        'return ("x"):rep(-1) .. nil',
        'local co = coroutine.create(function() error("in coroutine") end) local ok, e = coroutine.resume(co) return {tostring(ok), e}',
        'return select(0)',
        'return unpack({}, 1, 1e8)',
        'local t = {} for i = 1, 8000 do t[i] = i end return redis.call("rpush", "big", unpack(t))',
        'local function f() return f() + 1 end return f()',
        'local function f(n) if n == 0 then return 0 end return 1 + f(n - 1) end return f(100000)',
        'return string.rep("x", 2^31)',
      ]);
    });

    it('redis.call raises the command error; redis.pcall returns it as a table', async () => {
      await pair.script([
        ['SET', 's', 'abc'],
        ['RPUSH', 'l', 'a'],
      ]);
      await evalAll(
        pair,
        [
          "return redis.call('incr', KEYS[1])",
          "return redis.call('get', KEYS[2])",
          "return redis.pcall('get', KEYS[2])",
          "return redis.pcall('incr', KEYS[1])",
          "local r = redis.pcall('get', KEYS[2]) return {type(r), r.err}",
          "local r = redis.pcall('incr', KEYS[1]) return r['err']",
          "redis.call('get', KEYS[2])\nreturn 'not reached'",
          "local ok, e = pcall(redis.call, 'get', KEYS[2]) return {tostring(ok), e}",
          "local ok, e = pcall(redis.call, 'nosuch') return {tostring(ok), e}",
          "local ok, e = pcall(function() redis.call('get', KEYS[2]) end) return {tostring(ok), type(e), e}",
          "local ok, e = pcall(error, {err = 'X table'}) return {tostring(ok), e}",
          "local ok, e = pcall(error, 'plain') return {tostring(ok), e}",
          "local ok, e = pcall(error, {code = 1}) return {tostring(ok), type(e), e.code}",
          "local ok, e = pcall(error) return {tostring(ok), type(e)}",
          "local ok, a, b = pcall(function() return 1, 2 end) return {tostring(ok), a, b}",
          "local ok, e = xpcall(function() redis.call('get', KEYS[2]) end, function(m) return type(m) end) return {tostring(ok), e}",
          "local ok, e = xpcall(function() error('x') end, function(m) return 'handled: ' .. m end) return {tostring(ok), e}",
          "return pcall()",
          "return {pcall(redis.pcall, 'nosuch')}",
          "local r = redis.pcall('nosuch') return r",
          "return redis.pcall('set', 'k')",
          "return redis.pcall()",
          "return redis.pcall({})",
          "return redis.pcall('set', 'k', {})",
          "return redis.pcall('set', 'k', nil)",
          "return redis.pcall('eval', 'return 1', 0)",
        ],
        '2',
        's',
        'l',
      );
    });

    it('commands a script may not call, wrong arity, unknown commands', async () => {
      const refused = [
        ['eval', 'return 1', '0'],
        ['evalsha', 'x', '0'],
        ['eval_ro', 'return 1', '0'],
        ['fcall', 'f', '0'],
        ['script', 'load', 'return 1'],
        ['script', 'flush'],
        ['function', 'list'],
        ['multi'],
        ['exec'],
        ['discard'],
        ['watch', 'k'],
        ['unwatch'],
        ['subscribe', 'c'],
        ['psubscribe', 'c*'],
        ['ssubscribe', 'c'],
        ['unsubscribe'],
        ['monitor'],
        ['sync'],
        ['client', 'id'],
        ['client', 'list'],
        ['config', 'get', 'maxmemory'],
        ['auth', 'x'],
        ['hello'],
        ['quit'],
        ['reset'],
        ['shutdown'],
        ['save'],
        ['bgsave'],
        ['debug', 'sleep', '0'],
        ['acl', 'whoami'],
        ['role'],
        ['replicaof', 'no', 'one'],
        ['latency', 'latest'],
        ['module', 'list'],
        ['failover'],
        ['nosuch'],
        ['NOSUCH', 'a', 'b'],
        ['get'],
        ['set', 'k'],
        ['get', 'a', 'b'],
        ['config'],
        ['client'],
        ['object'],
        ['command', 'nosuchsub'],
      ];
      for (const cmd of refused) {
        if (cmd[0]!.toLowerCase() !== 'nosuch' && !(await implemented(cmd[0]!))) continue;
        await pair.check('EVAL', 'return redis.pcall(unpack(ARGV))', '0', ...cmd);
        await pair.check('EVAL', 'return redis.call(unpack(ARGV))', '0', ...cmd);
      }
    });

    it('commands allowed in scripts', async () => {
      for (const cmd of [
        ['select', '1'],
        ['publish', 'c', 'm'],
        ['spublish', 'c', 'm'],
        ['pfcount', 'hll'],
        ['pfadd', 'hll', 'a'],
        ['dbsize'],
        ['echo', 'x'],
        ['ping'],
        ['ping', 'x'],
        ['flushdb'],
        ['swapdb', '0', '1'],
        ['move', 'k', '1'],
        ['scan', '0'],
        ['randomkey'],
        ['slowlog', 'len'],
        ['object', 'freq', 'k'],
        ['command', 'count'],
        ['readonly'],
        ['cluster', 'info'],
        ['lastsave'],
      ]) {
        if (!(await implemented(cmd[0]!))) continue;
        if (cmd[0] === 'lastsave' || cmd[0] === 'command' || cmd[0] === 'slowlog') {
          // Values differ per server; the type must not.
          await pair.check('EVAL', 'return type(redis.pcall(unpack(ARGV)))', '0', ...cmd);
          continue;
        }
        await pair.check('EVAL', 'return redis.pcall(unpack(ARGV))', '0', ...cmd);
      }
    });

    it('numbers passed to redis.call are written with %.17g', async () => {
      await evalAll(pair, [
        "redis.call('set', 'k', 0.1) return redis.call('get', 'k')",
        "redis.call('set', 'k', 1e20) return redis.call('get', 'k')",
        "redis.call('set', 'k', 3.0) return redis.call('get', 'k')",
        "redis.call('set', 'k', -0) return redis.call('get', 'k')",
        "redis.call('set', 'k', 1/0) return redis.call('get', 'k')",
        "redis.call('set', 'k', 2^53 + 1) return redis.call('get', 'k')",
        "redis.call('set', 'k', 1/3) return redis.call('get', 'k')",
        "redis.call('set', 'k', 2^63) return redis.call('get', 'k')",
        "redis.call('set', 'k', 0/0) return redis.call('get', 'k')",
        "return redis.call('incrby', 'c', 2^53)",
        "return redis.call('incrby', 'c', 2.5)",
        "return redis.call('incrby', 'c', 2.0)",
        "return redis.call('lrange', 'nolist', 0.0, -1)",
      ]);
    });

    it('EVAL, EVALSHA and EVAL_RO argument errors, NOSCRIPT', async () => {
      await pair.script([
        ['EVAL', 'return 1', '2', 'a'],
        ['EVAL', 'return 1', '-1'],
        ['EVAL', 'return 1', 'abc'],
        ['EVAL', 'return 1', '1.5'],
        ['EVAL', 'return 1', '99999999999999999999'],
        ['EVAL', 'return 1', ''],
        ['EVAL', 'return 1'],
        ['EVAL'],
        ['EVAL', 'return {KEYS[1], ARGV[1], #KEYS, #ARGV}', '1', 'k', 'a'],
        ['EVAL', 'return {#KEYS, #ARGV}', '0', 'a', 'b'],
        ['EVAL', 'return {#KEYS, #ARGV}', '2', 'a', 'b'],
        ['EVAL', 'return {KEYS, ARGV}', '1', 'k', 'a'],
        ['EVALSHA', 'abc', '0'],
        ['EVALSHA', 'abc', 'x'],
        ['EVAL', 'return 1', '01'],
        ['EVAL', 'return 1', '-0'],
        ['EVAL', 'return 1', '-9223372036854775808'],
        ['EVAL', 'return 1', '9223372036854775807'],
        ['EVAL', 'return 1', '9223372036854775808'],
        ['EVALSHA_RO', 'abc', '5', 'k'],
        ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', 'x'],
        ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0'],
        ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '-1'],
        ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '5'],
        ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffffff', '0'],
        ['EVALSHA', ''],
        ['EVALSHA_RO', 'ffffffffffffffffffffffffffffffffffffffff', '0'],
        ['EVAL_RO', 'return 1', '1'],
        ['SCRIPT', 'LOAD', 'return "cached"'],
        ['EVALSHA', '2b8d3c3a1e64c5a2e8b2c0e4b2ad7c2e0b6e3f1c', '0'],
      ]);
      const sha = await sha1(pair.redis, 'return "cached"');
      await pair.script([
        ['EVALSHA', sha, '0'],
        ['EVALSHA', sha.toUpperCase(), '0'],
        ['EVALSHA', `${sha} `, '0'],
        ['EVALSHA', sha, '1'],
        ['EVALSHA_RO', sha, '0'],
      ]);
    });

    it('a script that fails after writing keeps its writes', async () => {
      await pair.script([
        ['EVAL', "redis.call('set', 'a', '1') redis.call('incr', 'a') error('after writes')", '0'],
        ['GET', 'a'],
        ['EVAL', "redis.call('rpush', 'l', 'x') redis.call('get', 'l')", '0'],
        ['LRANGE', 'l', '0', '-1'],
        ['EVAL', "redis.call('set', 'b', '1') local t = nil return t.x", '0'],
        ['GET', 'b'],
        ['EVAL', "redis.call('set', 'c', '1') return redis.pcall('incr', 'l')", '0'],
        ['GET', 'c'],
        ['EVAL', "redis.call('del', 'a') return {err = 'E returned after a write'}", '0'],
        ['EXISTS', 'a'],
      ]);
    });

    it('a Lua error whose value is a table without err does not bring the server down (Vireo)', async () => {
      // Redis 7.0.15 (and 7.2.4) dereference a NULL message here and crash
      // (fixed upstream in redis#14163): only Vireo is asked.
      if (DiffPair.referenceOnly) return;
      for (const script of ['error({})', 'error({source = "x", line = 1})', 'error(redis.status_reply("OK"))', 'error(setmetatable({}, {__index = function() return 1 end}))']) {
        const r = await pair.vireo.call('EVAL', script, '0');
        expect(r.type, script).toBe('error');
      }
      expect(await pair.vireo.call('PING')).toEqual({ type: 'simple', value: 'PONG' });
    });
  });

  describe('numbers and strings in Lua', () => {
    it('tostring and concatenation use %.14g', async () => {
      await evalAll(pair, [
        'return tostring(10/2)',
        'return tostring(1e100)',
        'return tostring(0.1)',
        'return tostring(-0)',
        'return tostring(-0.0)',
        'return tostring(1/0)',
        'return tostring(-1/0)',
        'return tostring(0/0)',
        'return tostring(-(0/0))',
        'return tostring(2^53)',
        'return tostring(2^63)',
        'return tostring(123456789012)',
        'return tostring(1e15)',
        'return tostring(1e16)',
        'return tostring(1/3)',
        'return tostring(-1.5e-7)',
        'return tostring(100)',
        'return 1 .. ""',
        'return 1.5 .. "|" .. 2^31',
        'return tostring(3) == "3"',
        'return tostring(nil) .. tostring(true) .. tostring(false)',
        'return type(tostring({}))',
      ]);
    });

    it('string.format', async () => {
      await evalAll(pair, [
        "return string.format('%d', 3.7)",
        "return string.format('%d', -3.7)",
        "return string.format('%d', 2^53)",
        "return string.format('%d', 2^63)",
        "return string.format('%5.2f|%-5d|%05d', math.pi, 42, 42)",
        "return string.format('%g %g %g', 1e20, 0.1, 100)",
        "return string.format('%x %X %o', 255, 255, 8)",
        "return string.format('%q', 'a\\nb\\0c\"d')",
        "return string.format('%s %s', 1/3, 10/2)",
        "return string.format('%.17g', 0.1)",
        "return string.format('%.3s', 'abcdef')",
        "return string.format('%c%c%c', 76, 117, 97)",
        "return string.format('%e', 12345.678)",
        "return string.format('%i', 42)",
        "return string.format('%5s|%-5s|', 'a', 'b')",
        "return string.format('%%')",
        "return string.format('%s', nil)",
        "return string.format('%d', 'x')",
        "return string.format('%y', 1)",
        "return string.format('%f', 1/0)",
        "return string.format('%.0f', 0.5)",
        "return string.format('%.0f', 1.5)",
      ]);
    });

    it('tonumber and conversions', async () => {
      await evalAll(pair, [
        "return tonumber('0x10')",
        "return tonumber('1e2')",
        "return tonumber(' 10 ')",
        "return tonumber('10a')",
        "return tonumber('z', 36)",
        "return tonumber('ff', 16)",
        "return tonumber('8', 8)",
        "return tostring(tonumber('inf'))",
        "return tostring(tonumber('nan'))",
        "return tostring(tonumber(''))",
        "return tonumber('  0x1p4  ')",
        "return '10' + 5",
        "return '3' * '4'",
        "return '0x10' + 0",
        "return 10 == '10'",
        "return math.floor(-3.5)",
        "return math.ceil(-3.5)",
        "return math.fmod(7, 3)",
        "return math.mod(7, 3)",
        "return math.huge == 1/0",
        "return tostring(math.pi)",
        "return math.max(1, 5, 3)",
        "return tostring(math.sqrt(2))",
        "return math.abs(-2^63) == 2^63",
        "return tostring(math.maxinteger)",
        "return 7 % -3",
        "return -7 % 3",
        "return tostring(5.5 % 2)",
        "return 2^0.5 > 1.41",
      ]);
    });

    it('string library and patterns', async () => {
      await evalAll(pair, [
        "return string.len('abc')",
        "return ('abc'):upper()",
        "return string.rep('ab', 3, ',')",
        "return string.sub('hello', 2, -2)",
        "return string.sub('hello', -100, 100)",
        "return {string.byte('ABC', 1, -1)}",
        "return string.char(72, 105)",
        "return string.reverse('abc')",
        "return {string.find('hello world', 'o w')}",
        "return {string.find('a.b', '.', 1, true)}",
        "return {string.find('hello', 'l+')}",
        "return {string.match('key:123:name', '(%a+):(%d+):(%a+)')}",
        "return {string.match('  trim  ', '^%s*(.-)%s*$')}",
        "return (string.gsub('hello world', 'o', '0'))",
        "return {string.gsub('hello', 'l', {l = 'L'})}",
        "return (string.gsub('abc', '%w', function(c) return c:upper() .. '.' end))",
        "return (string.gsub('abc', 'b', '%%1'))",
        "return (string.gsub('hello world', '(%w+) (%w+)', '%2 %1'))",
        "local t = {} for w in string.gmatch('one two three', '%a+') do t[#t + 1] = w end return t",
        "local t = {} for k, v in string.gmatch('a=1, b=2', '(%w+)=(%w+)') do t[#t + 1] = k .. v end return t",
        "return {string.find('f(x)', '%((.-)%)')}",
        "return {string.match('2024-01-02', '(%d+)-(%d+)-(%d+)')}",
        "return string.format('%q', string.char(0, 1, 255))",
        "return {string.find('abc', '[b-c]+')}",
        "return {string.find('aXb', '%u')}",
        "return string.match('x', '%f[%w]%w+')",
        "return {string.find('', '')}",
        "return string.find('abc', '(')",
        "return string.gsub('abc', '(', 'x')",
        "return string.rep('x', 0)",
        "return #string.rep('ab', 1000)",
        "return type(string.gfind)",
        "return string.lower('ÀB')",
      ]);
    });

    it('table library, unpack, select, # on tables with holes', async () => {
      await evalAll(pair, [
        'local t = {3, 1, 2} table.sort(t) return t',
        "local t = {'b', 'a', 'c'} table.sort(t, function(a, b) return a > b end) return t",
        'local t = {} table.insert(t, 1) table.insert(t, 1, 0) return t',
        'local t = {1, 2, 3} table.remove(t, 1) return t',
        'local t = {1, 2, 3} return table.remove(t)',
        "return table.concat({1, 2, 'x'}, '-')",
        "return table.concat({1, 2, 3}, ',', 2, 3)",
        'return table.getn({1, 2, 3})',
        'return table.maxn({1, 2, [10] = 3})',
        'return {unpack({1, 2, 3})}',
        'return {unpack({1, 2, 3}, 2)}',
        'return select("#", unpack({1, nil, 3}))',
        "return select('#', 1, nil, nil)",
        'return {select(2, "a", "b", "c")}',
        'return select(-1, "a", "b")',
        'return #{1, 2, nil, 4}',
        'return #{1, nil, 3}',
        'return #{nil, nil, 3}',
        'local t = {} t[1] = 1 t[2] = 2 t[4] = 4 return #t',
        'local t = {1, 2, 3} t[2] = nil return #t',
        'local t = {} for i = 1, 10 do t[i] = i end t[5] = nil return #t',
        "local t = {} table.setn(t, 5) return #t",
        'local t = {10, 20, 30} local out = {} for i, v in ipairs(t) do out[#out + 1] = i * v end return out',
        'local n = 0 for k, v in pairs({a = 1, b = 2, 3}) do n = n + 1 end return n',
        'local t = {} for k in pairs({x = 1, y = 2, z = 3, w = 4}) do t[#t + 1] = k end return t',
        'local t = {} for i = 1, 20 do t["k" .. i] = i end local out = {} for k in pairs(t) do out[#out + 1] = k end return out',
        'return next({})',
        'return rawequal({}, {})',
        'return rawget({5}, 1)',
        'local t = setmetatable({}, {__index = function(t, k) return k .. "!" end}) return t.x',
        'local t = setmetatable({}, {__len = function() return 42 end}) return #t',
        'local mt = {__add = function(a, b) return "added" end} return setmetatable({}, mt) + 1',
        'return getmetatable("").__index == string',
      ]);
    });

    it('math.random gives the same sequence in every script run (reseeded per run)', async () => {
      const script = "local t = {} for i = 1, 5 do t[#t + 1] = tostring(math.random()) end t[#t + 1] = math.random(100) t[#t + 1] = math.random(5, 10) return t";
      await evalAll(pair, [
        script,
        script,
        "math.randomseed(42) return {tostring(math.random()), math.random(1000), math.random(-5, 5)}",
        "math.randomseed(42) return {tostring(math.random()), math.random(1000), math.random(-5, 5)}",
        'return math.random(0)',
        'return math.random(3, 1)',
        'return math.random(1.9)',
        'return {math.random(1), math.random(1, 1)}',
        "return tostring(math.random(2^31))",
        "math.randomseed('x')",
      ]);
      // The same sequence again from EVALSHA and after other scripts ran.
      const sha = await sha1(pair.redis, script);
      await pair.check('SCRIPT', 'LOAD', script);
      await pair.check('EVALSHA', sha, '0');
    });

    it('loadstring and load run in the script\'s sandbox', async () => {
      await evalAll(pair, [
        'return loadstring("return 7")()',
        'return loadstring("return ...")(5)',
        'local f, e = loadstring("return (") return {tostring(f), e}',
        'return loadstring("x = 1")()',
        'return loadstring("return redis.call(\'ping\')")()',
        'return loadstring("return KEYS[1]")()',
        'local i = 0 local f = load(function() i = i + 1 if i == 1 then return "return 9" end end) return f()',
        'return type(loadstring(string.dump(function() return 1 end)))',
      ]);
    });
  });

  describe('sandbox and globals', () => {
    it('reading an undeclared global fails; writing any global fails', async () => {
      await evalAll(pair, [
        'return x',
        'return _G.x',
        'return _G["x"]',
        'return rawget(_G, "x")',
        'x = 1',
        'local x = 1 return x',
        'KEYS = 1',
        'ARGV = {}',
        'redis = nil',
        'redis.call = nil',
        'redis.newfield = 1',
        'string.len = nil',
        'string.myfn = function() end',
        'math.pi = 3',
        'table.insert = nil',
        'cjson.x = 1',
        '_G.x = 1',
        'rawset(_G, "x", 1)',
        'setmetatable(_G, nil)',
        'getmetatable(_G).__index = nil',
        'return getmetatable(_G) ~= nil',
        'local t = {} t.x = 1 return t.x',
        'local s = string s.x = 1',
        'local mt = getmetatable("") mt.__index = {}',
        'getmetatable("").__index.upper = nil',
        'setmetatable("", {})',
        'function f() end',
        'local function f() end return type(f)',
        'return type(_G)',
        'return _G == _G._G',
      ]);
    });

    it('KEYS and ARGV are fresh each run', async () => {
      await pair.script([
        ['EVAL', 'return {KEYS[1], ARGV[1], #KEYS, #ARGV}', '1', 'k1', 'a1'],
        ['EVAL', 'return {KEYS[1], ARGV[1], #KEYS, #ARGV}', '0'],
        ['EVAL', 'KEYS[1] = "changed" return KEYS[1]', '1', 'k'],
        ['EVAL', 'table.insert(ARGV, "more") return ARGV', '0', 'a'],
        ['EVAL', 'return {KEYS[1], ARGV[2]}', '0'],
        ['EVAL', 'return type(KEYS)', '0'],
      ]);
    });

    it('the globals a script sees', async () => {
      await evalAll(pair, [
        'local t = {} for k in pairs(_G) do t[#t + 1] = k end table.sort(t) return t',
        'local t = {} for k in pairs(redis) do t[#t + 1] = k end table.sort(t) return t',
        'local t = {} for k in pairs(string) do t[#t + 1] = k end table.sort(t) return t',
        'local t = {} for k in pairs(table) do t[#t + 1] = k end table.sort(t) return t',
        'local t = {} for k in pairs(math) do t[#t + 1] = k end table.sort(t) return t',
        'local t = {} for k in pairs(coroutine) do t[#t + 1] = k end table.sort(t) return t',
        'local t = {} for k in pairs(cjson) do t[#t + 1] = k end table.sort(t) return t',
        'return _VERSION',
      ]);
    });

    it('the libraries Redis does not load, and removed functions', async () => {
      await evalAll(pair, [
        'return type(io)',
        'return require("x")',
        'return type(loadfile)',
        'return dofile("/etc/passwd")',
        'return type(package)',
        'return type(debug)',
        'return type(setfenv)',
        'return type(getfenv)',
        'return type(newproxy)',
        'return type(module)',
        'return print("x")',
        'return type(collectgarbage)',
        'return type(collectgarbage("count"))',
        'return type(gcinfo())',
        'return type(coroutine.wrap)',
        'return type(loadstring)',
        'return type(load)',
        'return type(unpack)',
        'return type(table.getn)',
        'return type(math.mod)',
        'return type(string.dump)',
        'return type(__redis__err__handler)',
        'return type(bit)',
        'return type(struct)',
        'return type(cmsgpack)',
      ]);
    });

    it('coroutines', async () => {
      await evalAll(pair, [
        'local co = coroutine.create(function(a) local b = coroutine.yield(a + 1) return b * 2 end) local _, x = coroutine.resume(co, 1) local _, y = coroutine.resume(co, 10) return {x, y, coroutine.status(co)}',
        'local f = coroutine.wrap(function() for i = 1, 3 do coroutine.yield(i) end end) return {f(), f(), f()}',
        'local co = coroutine.create(function() return redis.call("ping") end) local ok, r = coroutine.resume(co) return {tostring(ok), r.ok}',
        'return coroutine.running() == nil',
        'return coroutine.yield(1)',
      ]);
    });
  });

  describe('the redis API', () => {
    it('sha1hex, log, set_repl, replicate_commands, setresp, breakpoint, debug', async () => {
      await evalAll(pair, [
        "return redis.sha1hex('')",
        "return redis.sha1hex('abc')",
        'return redis.sha1hex(1)',
        'return redis.sha1hex(1.5)',
        "return redis.sha1hex('a\\0b')",
        'return redis.sha1hex()',
        "return redis.sha1hex('a', 'b')",
        'return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}',
        "return redis.log(redis.LOG_WARNING, 'from a script')",
        "return redis.log(redis.LOG_DEBUG, 'below the level')",
        "return redis.log(redis.LOG_NOTICE, 'several', 'parts', 3)",
        "return redis.log(redis.LOG_NOTICE, {})",
        'return redis.log()',
        "return redis.log(redis.LOG_WARNING)",
        "return redis.log('x', 'y')",
        "return redis.log('2', 'y')",
        "return redis.log(99, 'y')",
        "return redis.log(-1, 'y')",
        'return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}',
        'return redis.set_repl(redis.REPL_ALL)',
        'return redis.set_repl(redis.REPL_NONE)',
        'return redis.set_repl()',
        'return redis.set_repl(99)',
        'return redis.set_repl(1, 2)',
        "return redis.set_repl('x')",
        'return redis.replicate_commands()',
        'return type(redis.replicate_commands())',
        'return redis.setresp(2)',
        'return redis.setresp(4)',
        'return redis.setresp()',
        "return redis.setresp('3')",
        'return redis.setresp(2.9)',
        'return redis.breakpoint()',
        "return redis.debug('x')",
        'return redis.debug()',
      ]);
    });

    it('REDIS_VERSION and REDIS_VERSION_NUM agree with each other and with INFO', async () => {
      // The values differ (7.0.x here, 7.2.4 in Vireo): only their agreement is compared.
      await evalAll(pair, [
        "local v = redis.REDIS_VERSION local a, b, c = v:match('^(%d+)%.(%d+)%.(%d+)$') return {type(v), type(redis.REDIS_VERSION_NUM), a * 65536 + b * 256 + c == redis.REDIS_VERSION_NUM}",
        "local info = redis.call('info', 'server') return string.find(info, 'redis_version:' .. redis.REDIS_VERSION .. '\\r\\n', 1, true) ~= nil",
      ]);
    });

    it('the version Vireo reports and the server alias (Vireo only)', async () => {
      if (DiffPair.referenceOnly) return;
      expect(await pair.vireo.call('EVAL', 'return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}', '0')).toEqual({
        type: 'array',
        value: [
          { type: 'bulk', value: '7.2.4' },
          { type: 'integer', value: String(0x00070204) },
        ],
      });
      // Valkey gives scripts `server` as another name for `redis`.
      expect(await pair.vireo.call('EVAL', "return {server == redis, server.call('ping').ok, server.pcall('nosuch').err}", '0')).toEqual({
        type: 'array',
        value: [
          { type: 'integer', value: '1' },
          { type: 'bulk', value: 'PONG' },
          { type: 'bulk', value: 'ERR Unknown Redis command called from script' },
        ],
      });
      expect(await pair.vireo.call('EVAL', 'server = nil', '0')).toMatchObject({ type: 'error' });
      // os.clock (and nothing else of os) is there for scripts that time themselves, as the issue asks; 7.0 has no os at all.
      expect(await pair.vireo.call('EVAL', 'return {type(os.clock()), type(os.time)}', '0')).toEqual({
        type: 'array',
        value: [
          { type: 'bulk', value: 'number' },
          { type: 'bulk', value: 'nil' },
        ],
      });
      expect(await pair.vireo.call('EVAL', 'os.exit = 1', '0')).toMatchObject({ type: 'error' });
    });

    it('acl_check_cmd for the default user and a restricted one', async () => {
      await evalAll(pair, [
        "return redis.acl_check_cmd('set', 'k', 'v')",
        "return redis.acl_check_cmd('get')",
        "return redis.acl_check_cmd('nosuch')",
        'return redis.acl_check_cmd()',
        'return redis.acl_check_cmd({})',
        "return redis.acl_check_cmd('config', 'get', 'x')",
        "return redis.acl_check_cmd('config', 'nosuchsub')",
      ]);
      // The restricted user needs ACL (a later issue): this half runs once Vireo has it.
      if (!(await implemented('acl'))) return;
      await pair.check('ACL', 'SETUSER', 'limited', 'on', 'nopass', '~ro:*', '+@read', '+eval', '+evalsha', '+ping');
      const p = await pair.connect();
      try {
        await p.check('AUTH', 'limited', 'any');
        await evalAll(p, [
          "return redis.acl_check_cmd('get', 'ro:1')",
          "return redis.acl_check_cmd('get', 'other')",
          "return redis.acl_check_cmd('set', 'ro:1', 'v')",
          "return redis.acl_check_cmd('ping')",
          "return redis.pcall('get', 'ro:1')",
          "return redis.pcall('get', 'other')",
          "return redis.pcall('set', 'ro:1', 'v')",
          "return redis.call('set', 'ro:1', 'v')",
          "return redis.call('get', 'other')",
        ]);
        await p.check('EVAL', "return redis.call('get', KEYS[1])", '1', 'other');
      } finally {
        p.close();
        await pair.check('ACL', 'DELUSER', 'limited');
      }
    });
  });

  describe('cjson', () => {
    it('encode', async () => {
      await evalAll(pair, [
        'return cjson.encode({1, 2, 3})',
        'return cjson.encode({})',
        'return cjson.encode({a = 1})',
        'return cjson.encode({a = {b = {c = {1, "x", true, false}}}})',
        'return cjson.encode({a = 1, b = 2, c = 3, d = 4, e = 5})',
        'return cjson.encode("str \\"q\\" / \\\\ \\n\\r\\t\\b\\f \\0 \\1 \\127")',
        'return cjson.encode("\\195\\169\\226\\130\\172")',
        'return cjson.encode("\\255")',
        'return cjson.encode(0.1)',
        'return cjson.encode(1/3)',
        'return cjson.encode(1e100)',
        'return cjson.encode(2^53)',
        'return cjson.encode(-0)',
        'return cjson.encode(100)',
        'return cjson.encode(1/0)',
        'return cjson.encode(0/0)',
        'return cjson.encode(cjson.null)',
        'return cjson.encode(nil)',
        'return cjson.encode(true)',
        'return cjson.encode(function() end)',
        'return cjson.encode({[1] = 1, [3] = 3})',
        'return cjson.encode({[1] = 1, [20] = 2})',
        'return cjson.encode({[2] = "x"})',
        'return cjson.encode({1, 2, x = 3})',
        'return cjson.encode({[1.5] = 1})',
        'return cjson.encode({[true] = 1})',
        'return cjson.encode({[10] = 1, [11] = 2})',
        'return cjson.encode({{}, {{}}})',
        'return cjson.encode()',
        'return cjson.encode(1, 2)',
        'local t = {} local c = t for i = 1, 1001 do c[1] = {} c = c[1] end return cjson.encode(t)',
        'local t = {} local c = t for i = 1, 999 do c[1] = {} c = c[1] end return #cjson.encode(t)',
        'local t = {} t.self = t return cjson.encode(t)',
      ]);
    });

    it('decode', async () => {
      await evalAll(pair, [
        `${DESCRIBE}return d(cjson.decode('[1, 2, 3]'))`,
        `${DESCRIBE}return d(cjson.decode('{"a": [1, {"b": null}], "c": "x"}'))`,
        `${DESCRIBE}return d(cjson.decode('"\\\\u00e9\\\\ud83d\\\\ude00\\\\/\\\\n"'))`,
        `${DESCRIBE}return d(cjson.decode('[1.5, -0, 1e2, 123456789012345678, 0.1, 1E-3, -1e-7]'))`,
        `${DESCRIBE}return d(cjson.decode('[true, false, null]'))`,
        `${DESCRIBE}return d(cjson.decode('{}'))`,
        `${DESCRIBE}return d(cjson.decode('[]'))`,
        `${DESCRIBE}return d(cjson.decode('  {"k" : "v" }  '))`,
        `${DESCRIBE}return d(cjson.decode('"\\\\u0000"'))`,
        `${DESCRIBE}return d(cjson.decode('{"1": 1, "2": 2}'))`,
        "return cjson.decode('[1, 2, 3]')",
        "return cjson.decode('{\"a\": 1}')",
        "return cjson.decode('[1, null, 3]')",
        "return cjson.decode('null') == cjson.null",
        "return type(cjson.decode('null'))",
        "return cjson.decode('\"x\"')",
        "return cjson.decode('12.5')",
        "return tostring(cjson.decode('1e999'))",
        "return cjson.decode('{')",
        "return cjson.decode('[1,]')",
        "return cjson.decode('')",
        "return cjson.decode('nul')",
        "return cjson.decode('[1] x')",
        "return cjson.decode('{\"a\" 1}')",
        "return cjson.decode('{1: 2}')",
        "return cjson.decode('\"\\\\ud83d\"')",
        "return cjson.decode('\"\\\\x\"')",
        "return cjson.decode(\"'single'\")",
        "return cjson.decode('NaN')",
        "return cjson.decode('0x10')",
        "return cjson.decode('[' .. string.rep('[', 1000) .. string.rep(']', 1001))",
        "return #cjson.decode(string.rep('[', 999) .. string.rep(']', 999))",
        'return cjson.decode()',
        'return cjson.decode(5)',
        'return cjson.decode({})',
      ]);
    });

    it('round trips and settings', async () => {
      await evalAll(pair, [
        "return cjson.encode(cjson.decode('{\"a\":[1,2,{\"b\":\"c\"}]}'))",
        "return cjson.encode(cjson.decode('[1,null,3]'))",
        "return cjson.encode(cjson.decode('\"\\\\u00e9\"'))",
        "return cjson.encode(cjson.decode('[0.1, 1e300, -5]'))",
        "return cjson.encode({redis.call('ping')})",
        'return {cjson.encode_sparse_array()}',
        'return {cjson.encode_max_depth()}',
        'return {cjson.decode_max_depth()}',
        'return {cjson.encode_number_precision()}',
        'return {cjson.encode_keep_buffer()}',
        'return {cjson.encode_invalid_numbers()}',
        'return {cjson.decode_invalid_numbers()}',
        'cjson.encode_number_precision(3) local s = cjson.encode(math.pi) cjson.encode_number_precision(14) return s',
        'cjson.encode_sparse_array(true) local s = cjson.encode({[1] = 1, [20] = 2}) cjson.encode_sparse_array(false) return s',
        'return cjson.encode_number_precision(0)',
        'return cjson.encode_number_precision(15)',
        'return type(cjson.new)',
        'return cjson.encode(cjson.new().decode("[1]"))',
      ]);
    });
  });

  describe('the script cache', () => {
    it('SCRIPT LOAD, EXISTS, FLUSH', async () => {
      await pair.script([
        ['SCRIPT', 'LOAD', 'return 1'],
        ['SCRIPT', 'LOAD', 'return 1'],
        ['SCRIPT', 'LOAD', 'return ('],
        ['SCRIPT', 'LOAD', ''],
        ['SCRIPT', 'LOAD', 'x = 1'],
        ['SCRIPT', 'LOAD', '#!lua flags=no-writes\nreturn 2'],
        ['SCRIPT', 'LOAD', '#!lua name=x\nreturn 2'],
        ['SCRIPT', 'LOAD', '#!lua flags=nope\nreturn 2'],
        ['SCRIPT', 'LOAD'],
        ['SCRIPT', 'LOAD', 'a', 'b'],
        ['SCRIPT', 'EXISTS', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', 'E0E1F9FABFC9D4800C877A703B823AC0578FF8DB', 'abc', 'ffffffffffffffffffffffffffffffffffffffff'],
        ['SCRIPT', 'EXISTS'],
        ['EVAL', 'return "evaluated"', '0'],
        ['SCRIPT', 'EXISTS', 'f1d8b0b4e2cf1c2e7f43e4d30d01a0b7b1d4a1c0'],
        ['EVALSHA', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', '0'],
        ['SCRIPT', 'FLUSH'],
        ['SCRIPT', 'EXISTS', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db'],
        ['EVALSHA', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db', '0'],
        ['SCRIPT', 'LOAD', 'return 1'],
        ['SCRIPT', 'FLUSH', 'ASYNC'],
        ['SCRIPT', 'EXISTS', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db'],
        ['SCRIPT', 'LOAD', 'return 1'],
        ['SCRIPT', 'FLUSH', 'sync'],
        ['SCRIPT', 'EXISTS', 'e0e1f9fabfc9d4800c877a703b823ac0578ff8db'],
        ['SCRIPT', 'FLUSH', 'foo'],
        ['SCRIPT', 'FLUSH', 'ASYNC', 'SYNC'],
        ['SCRIPT', 'KILL'],
        ['SCRIPT', 'KILL', 'x'],
        ['SCRIPT', 'HELP'],
        ['SCRIPT', 'help'],
        ['SCRIPT', 'FOO'],
        ['SCRIPT'],
        ['SCRIPT', 'DEBUG', 'NO'],
        ['SCRIPT', 'DEBUG', 'foo'],
        ['SCRIPT', 'DEBUG'],
      ]);
      // EVAL caches its script: EVALSHA of its digest works afterwards.
      const sha = await sha1(pair.redis, 'return "evaluated"');
      await pair.check('SCRIPT', 'FLUSH');
      await pair.script([
        ['EVAL', 'return "evaluated"', '0'],
        ['EVALSHA', sha, '0'],
        ['SCRIPT', 'EXISTS', sha],
      ]);
    });

    it("SCRIPT SHOW gives a cached script's body (Valkey 8.0; the 7.0 reference has no SHOW: Valkey's eval.c is the reference)", async () => {
      const v = pair.vireo;
      const loaded = 'return "shown"';
      const sha = await sha1(v, loaded);
      expect(toJs(await v.call('SCRIPT', 'SHOW', sha))).toBe(loaded);
      // The digest in any case, as SCRIPT EXISTS and EVALSHA take it.
      expect(toJs(await v.call('SCRIPT', 'SHOW', sha.toUpperCase()))).toBe(loaded);
      // A script EVAL cached, byte for byte.
      const evaluated = 'return "\xff" --\r\n';
      expect(toJs(await v.call('EVAL', evaluated, '0'))).toBe('\xff');
      expect(toJs(await v.call('SCRIPT', 'SHOW', sha1hex(evaluated)))).toBe(evaluated);
      const noScript = 'NOSCRIPT No matching script. Please use EVAL.';
      for (const missing of ['ffffffffffffffffffffffffffffffffffffffff', 'abc', sha + '0', '']) {
        expect(await v.call('SCRIPT', 'SHOW', missing)).toEqual({ type: 'error', value: noScript });
      }
      expect(await v.call('SCRIPT', 'SHOW')).toEqual({ type: 'error', value: "ERR wrong number of arguments for 'script|show' command" });
      expect((await v.call('SCRIPT', 'SHOW', sha, sha)).type).toBe('error');
      await v.call('SCRIPT', 'FLUSH');
      expect(await v.call('SCRIPT', 'SHOW', sha)).toEqual({ type: 'error', value: noScript });
    });

    it('SCRIPT inside MULTI', async () => {
      const sha = sha1hex('return 3');
      await pair.script([
        ['MULTI'],
        ['SCRIPT', 'LOAD', 'return 3'],
        ['EVALSHA', sha, '0'],
        ['SCRIPT', 'EXISTS', sha],
        ['SCRIPT', 'DEBUG', 'NO'],
        ['EXEC'],
      ]);
    });

    it('SCRIPT DEBUG after other commands of the same pipeline: their replies are pending, Redis refuses it', async () => {
      const batch = Buffer.concat([encodeCommand(['PING']), encodeCommand(['SCRIPT', 'DEBUG', 'NO'])]);
      pair.redis.writeRaw(batch);
      pair.vireo.writeRaw(batch);
      for (let i = 0; i < 2; i++) {
        const [a, b] = await Promise.all([pair.redis.read(), pair.vireo.read()]);
        expect(b.reply).toEqual(a.reply);
      }
      await pair.check('SCRIPT', 'DEBUG', 'NO');
    });

    it('after a refused SCRIPT DEBUG YES/SYNC the EVAL meant to be debugged is refused, not run (redis-cli --ldb sends it anyway)', async () => {
      const v = pair.vireo;
      const incr = ['EVAL', "return redis.call('INCR', KEYS[1])", '1', 'ldb:ctr'];
      const refused = { type: 'error', value: 'ERR this connection asked for SCRIPT DEBUG, which Vireo does not have (no Lua debugger): the script was not run' };
      expect(await v.call('SCRIPT', 'DEBUG', 'YES')).toEqual({ type: 'error', value: 'ERR SCRIPT DEBUG is not supported: Vireo has no Lua debugger (ldb)' });
      expect(await v.call(...incr)).toEqual(refused);
      expect(Number(toJs(await v.call('EXISTS', 'ldb:ctr')))).toBe(0);
      // Only that EVAL: the next one runs.
      expect(Number(toJs(await v.call(...incr)))).toBe(1);
      // SCRIPT DEBUG NO (or RESET) withdraws the request.
      expect((await v.call('SCRIPT', 'DEBUG', 'SYNC')).type).toBe('error');
      expect(toJs(await v.call('SCRIPT', 'DEBUG', 'NO'))).toBe('OK');
      expect(Number(toJs(await v.call(...incr)))).toBe(2);
      expect((await v.call('SCRIPT', 'DEBUG', 'YES')).type).toBe('error');
      expect(toJs(await v.call('RESET'))).toBe('RESET');
      expect(Number(toJs(await v.call(...incr)))).toBe(3);
      await v.call('DEL', 'ldb:ctr');
    });

    it('a script starting with ESC (the bytecode signature) is compiled as source, never undumped', async () => {
      // A real Lua 5.1 chunk header, then junk: the stock undumper would read it as bytecode.
      const chunk = '\x1bLua\x51\x00\x01\x04\x08\x04\x08\x00junk';
      await pair.check('SCRIPT', 'LOAD', '\x1b@\x12\x14\xf3');
      await pair.check('EVAL', chunk, '0');
      await pair.check('EVAL', '\x1b', '0');
      await pair.check('FUNCTION', 'LOAD', `#!lua name=esc\n${chunk}`);
    });

    it('a script is the same script whatever its bytes: the digest covers them all', async () => {
      for (const body of ['return 1 ', 'return 1\n', 'return 1\r\n', 'return "\u00e9"', 'return "\\0"']) {
        await pair.check('SCRIPT', 'LOAD', body);
        await pair.check('EVAL', body, '0');
      }
    });
  });

  describe('shebang flags and read-only scripts', () => {
    it('EVAL_RO refuses writes; no-writes scripts likewise', async () => {
      await pair.check('SET', 'k', 'v');
      // Cases calling PUBLISH or PFCOUNT wait for those commands to exist in Vireo.
      const lacking: string[] = [];
      for (const name of ['publish', 'pfcount']) if (!(await implemented(name))) lacking.push(name);
      const uses = (cmd: string[]) => lacking.some((name) => cmd.some((a) => a.includes(`'${name}'`) || a.includes(`"${name}"`)));
      await pair.script([
        ['EVAL_RO', "return redis.call('set', 'k', 'x')", '0'],
        ['EVAL_RO', "return redis.pcall('set', 'k', 'x')", '0'],
        ['EVAL_RO', "return redis.call('get', KEYS[1])", '1', 'k'],
        ['EVAL_RO', "return redis.call('publish', 'c', 'm')", '0'],
        ['EVAL_RO', "return redis.call('pfcount', 'hll')", '0'],
        ['EVAL_RO', "return redis.call('del', 'nokey')", '0'],
        ['EVAL_RO', '#!lua\nreturn 1', '0'],
        ['EVAL_RO', '#!lua flags=no-writes\nreturn 1', '0'],
        ['EVAL_RO', '#!lua flags=no-writes\nreturn redis.call("set", "k", "y")', '0'],
        ['EVAL', '#!lua flags=no-writes\nreturn redis.call("set", "k", "y")', '0'],
        ['EVAL', '#!lua flags=no-writes\nreturn redis.call("get", KEYS[1])', '1', 'k'],
        ['EVAL', '#!lua flags=no-writes\nreturn redis.call("publish", "c", "m")', '0'],
        ['EVAL', '#!lua\nreturn redis.call("set", "k", "z")', '0'],
        ['GET', 'k'],
      ].filter((cmd) => !uses(cmd)));
      const sha = await sha1(pair.redis, "return redis.call('set', 'k', 'w')");
      await pair.check('SCRIPT', 'LOAD', "return redis.call('set', 'k', 'w')");
      await pair.script([
        ['EVALSHA_RO', sha, '0'],
        ['GET', 'k'],
        ['EVALSHA', sha, '0'],
        ['GET', 'k'],
      ]);
    });

    it('shebang parsing', async () => {
      await evalAll(pair, [
        '#!lua\nreturn 1',
        '#!lua \nreturn 1',
        '#!lua flags=\nreturn 1',
        '#!lua flags=no-writes,allow-oom\nreturn 1',
        '#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 1',
        '#!lua flags=no-writes, allow-oom\nreturn 1',
        '#!lua flags=no-writes flags=allow-oom\nreturn 1',
        '#!lua flags=bad\nreturn 1',
        '#!lua flags=no-writes,\nreturn 1',
        '#!lua flags=,no-writes\nreturn 1',
        '#!lua name=foo\nreturn 1',
        '#!lua foo=bar\nreturn 1',
        '#!lua flags\nreturn 1',
        '#!luaa\nreturn 1',
        '#!js\nreturn 1',
        '#!LUA\nreturn 1',
        '#!\nreturn 1',
        '#!lua',
        '#!lua flags=no-writes',
        '#! lua\nreturn 1',
        '#!lua\r\nreturn 1',
        '#lua\nreturn 1',
        '#!lua\n\nreturn x',
        '#!lua\nerror("line two")',
        ' #!lua\nreturn 1',
      ]);
    });

    // Vireo accepts maxmemory but does not enforce it yet (the operations issue): this runs once it does.
    it.skip('maxmemory: scripts without a shebang fail on their first denyoom command, shebang scripts at once unless allow-oom', async () => {
      try {
        await pair.check('CONFIG', 'SET', 'maxmemory', '1');
        await evalAll(pair, [
          "return redis.call('get', 'k')",
          "return redis.call('set', 'k', 'v')",
          "return redis.pcall('set', 'k', 'v')",
          "redis.call('del', 'k') return redis.call('set', 'k', 'v')",
          '#!lua\nreturn 1',
          '#!lua flags=no-writes\nreturn 1',
          '#!lua flags=allow-oom\nreturn redis.call("set", "k", "v")',
          '#!lua flags=no-writes,allow-oom\nreturn redis.call("get", "k")',
        ]);
        await pair.check('EVAL_RO', "return redis.call('get', 'k')", '0');
      } finally {
        await pair.check('CONFIG', 'SET', 'maxmemory', '0');
      }
    });
  });

  describe('scripts, keys, databases and transactions', () => {
    it('scripts may read and write keys not declared in KEYS (standalone)', async () => {
      await pair.script([
        ['SET', 'undeclared', 'v'],
        ['EVAL', "return redis.call('get', 'undeclared')", '0'],
        ['EVAL', "return redis.call('set', 'other', 'x')", '1', 'declared'],
        ['GET', 'other'],
        ['EVAL', '#!lua\nreturn redis.call("get", "undeclared")', '0'],
        ['EVAL', '#!lua flags=no-cluster\nreturn redis.call("mset", "a", "1", "b", "2")', '0'],
        ['MGET', 'a', 'b'],
      ]);
    });

    it('blocking commands in scripts: 7.0 refuses them, 7.2 runs them without blocking', async () => {
      await pair.script([
        ['RPUSH', 'full', 'x', 'y'],
        ['ZADD', 'zfull', '1', 'm'],
        ['XADD', 'st', '1-1', 'f', 'v'],
      ]);
      const cases: [string[], Reply][] = [
        [['blpop', 'empty', '0'], { type: 'bulk', value: null }],
        [['brpop', 'empty', '1'], { type: 'bulk', value: null }],
        [['brpoplpush', 'empty', 'dst', '0'], { type: 'bulk', value: null }],
        [['blmove', 'empty', 'dst', 'left', 'right', '0'], { type: 'bulk', value: null }],
        [['bzpopmin', 'empty', '0'], { type: 'bulk', value: null }],
        [['wait', '0', '0'], { type: 'integer', value: '0' }],
        [['blpop', 'full', '0'], { type: 'array', value: [{ type: 'bulk', value: 'full' }, { type: 'bulk', value: 'x' }] }],
        [['bzpopmax', 'zfull', '0'], { type: 'array', value: [{ type: 'bulk', value: 'zfull' }, { type: 'bulk', value: 'm' }, { type: 'bulk', value: '1' }] }],
      ];
      for (const [cmd, answer72] of cases) {
        const args = ['EVAL', 'return redis.pcall(unpack(ARGV))', '0', ...cmd];
        const [a, b] = await Promise.all([pair.redis.call(...args), pair.vireo.call(...args)]);
        expect(a, `redis ${cmd.join(' ')}`).toEqual({ type: 'error', value: 'ERR This Redis command is not allowed from script' });
        expect(b, `second server ${cmd.join(' ')}`).toEqual(DiffPair.referenceOnly ? a : answer72);
      }
      // BLMPOP and BZMPOP never blocked in a 7.0 script: both versions answer at once.
      await pair.script([
        ['RPUSH', 'full2', 'a', 'b'],
        ['EVAL', 'return redis.pcall(unpack(ARGV))', '0', 'blmpop', '0', '1', 'empty', 'left'],
        ['EVAL', 'return redis.pcall(unpack(ARGV))', '0', 'bzmpop', '0', '1', 'empty', 'min'],
        ['EVAL', 'return redis.pcall(unpack(ARGV))', '0', 'blmpop', '0', '1', 'full2', 'left'],
        ['LRANGE', 'full2', '0', '-1'],
      ]);
      // XREAD/XREADGROUP BLOCK: 7.0 refuses the option, 7.2 answers at once.
      await checkEach(
        ['EVAL', 'return redis.pcall(unpack(ARGV))', '0', 'xread', 'block', '0', 'streams', 'st', '$'],
        { type: 'error', value: 'ERR xread command is not allowed with BLOCK option from scripts' },
        { type: 'bulk', value: null },
      );
      // What no version blocks on: the list was not touched by the refused calls in 7.0, popped once in 7.2.
      const lens = await Promise.all([pair.redis.call('LLEN', 'full'), pair.vireo.call('LLEN', 'full')]);
      expect(lens[0]).toEqual({ type: 'integer', value: '2' });
      expect(lens[1]).toEqual({ type: 'integer', value: DiffPair.referenceOnly ? '2' : '1' });
    });

    it('SELECT inside a script does not change the caller\'s database', async () => {
      await pair.script([
        ['EVAL', "redis.call('select', 1) redis.call('set', 'x', 'in1') return redis.call('get', 'x')", '0'],
        ['GET', 'x'],
        ['SELECT', '1'],
        ['GET', 'x'],
        ['EVAL', "return redis.call('get', 'x')", '0'],
        ['EVAL', "redis.call('select', 0) return redis.call('get', 'x')", '0'],
        ['GET', 'x'],
        ['EVAL', "return redis.pcall('select', 99)", '0'],
        ['EVAL', "return redis.pcall('select', 'x')", '0'],
        ['SELECT', '0'],
        ['EVAL', "redis.call('select', 1) error('after select')", '0'],
        ['GET', 'x'],
        ['EVAL', "return redis.call('get', 'x')", '0'],
      ]);
    });

    it('EVAL inside MULTI, and WATCH', async () => {
      await pair.script([
        ['MULTI'],
        ['EVAL', "return redis.call('incr', 'n')", '0'],
        ['EVAL', "return redis.call('incr', 'n')", '0'],
        ['EVAL', 'return (', '0'],
        ['EVAL', "return redis.call('nosuch')", '0'],
        ['EVALSHA', 'ffffffffffffffffffffffffffffffffffffffff', '0'],
        ['EVAL', "return redis.call('select', 1)", '0'],
        ['GET', 'n'],
        ['EXEC'],
        ['MULTI'],
        ['EVAL', 'return 1'],
        ['EXEC'],
        ['WATCH', 'w'],
        ['EVAL', "return redis.call('set', 'w', '1')", '0'],
        ['MULTI'],
        ['GET', 'w'],
        ['EXEC'],
        ['SET', 'w2', 'a'],
        ['WATCH', 'w2'],
        ['EVAL', "return redis.call('get', 'w2')", '0'],
        ['MULTI'],
        ['GET', 'w2'],
        ['EXEC'],
      ]);
    });

    it('a script sees its own writes and expired keys stay until it ends', async () => {
      await pair.script([
        ['EVAL', "redis.call('set', 'a', '1') redis.call('append', 'a', '2') return redis.call('get', 'a')", '0'],
        ['EVAL', "redis.call('set', 'e', '1', 'px', 1) local i = 0 while i < 3000000 do i = i + 1 end return redis.call('exists', 'e')", '0'],
        ['EVAL', "redis.call('rpush', 'q', 1, 2, 3) return {redis.call('lpop', 'q'), redis.call('llen', 'q')}", '0'],
        ['EVAL', "return redis.call('del', 'a', 'q', 'nokey')", '0'],
      ]);
    });

    it('random commands are allowed and their results may be written', async () => {
      await pair.script([
        ['SADD', 'one', 'only'],
        ['EVAL', "local m = redis.call('spop', 'one') redis.call('set', 'got', m) return m", '0'],
        ['GET', 'got'],
        ['EVAL', "local t = redis.call('time') redis.call('set', 't', t[1]) return #t", '0'],
        ['EVAL', "return redis.call('randomkey') ~= nil", '0'],
      ]);
    });
  });

  describe('busy scripts', () => {
    it('other clients get BUSY; SCRIPT KILL stops a script that has not written', async () => {
      await pair.check('CONFIG', 'SET', 'busy-reply-threshold', '50');
      const runner = await pair.connect();
      const other = await pair.connect();
      try {
        const script = 'local i = 0 while true do i = i + 1 end';
        runner.redis.writeRaw(evalBytes(script));
        runner.vireo.writeRaw(evalBytes(script));
        // Past busy-reply-threshold, so the script runs on both before the other connection asks
        // (through I/O threads, two connections' commands may reach the main thread in either order).
        await new Promise((r) => setTimeout(r, 100));
        await other.check('PING');
        await other.check('GET', 'k');
        if (await implemented('function')) await other.check('FUNCTION', 'KILL');
        await other.check('SCRIPT', 'KILL');
        const [a, b] = await Promise.all([runner.redis.read(), runner.vireo.read()]);
        expect(b.reply).toEqual(a.reply);
        expect(a.reply).toMatchObject({ type: 'error' });
        expect(JSON.stringify(a.reply)).toContain('Script killed by user with SCRIPT KILL');
        await other.check('PING');
        await other.check('SCRIPT', 'KILL');
      } finally {
        runner.close();
        other.close();
        await pair.check('CONFIG', 'SET', 'busy-reply-threshold', '5000');
      }
    });

    it('a script that wrote cannot be killed (UNKILLABLE) and runs to its end', async () => {
      await pair.check('CONFIG', 'SET', 'busy-reply-threshold', '50');
      const runner = await pair.connect();
      const other = await pair.connect();
      try {
        // Long enough on any machine for the two commands below to arrive while it runs.
        const script = "redis.call('set', 'w', '1') local i = 0 while i < 50000000 do i = i + 1 end return i";
        runner.redis.writeRaw(evalBytes(script));
        runner.vireo.writeRaw(evalBytes(script));
        // Past busy-reply-threshold, so the script runs on both before the other connection asks
        // (through I/O threads, two connections' commands may reach the main thread in either order).
        await new Promise((r) => setTimeout(r, 100));
        await other.check('PING');
        await other.check('SCRIPT', 'KILL');
        const [a, b] = await Promise.all([runner.redis.read(), runner.vireo.read()]);
        expect(b.reply).toEqual(a.reply);
        await other.check('GET', 'w');
      } finally {
        runner.close();
        other.close();
        await pair.check('CONFIG', 'SET', 'busy-reply-threshold', '5000');
      }
    });
  });
});

/**
 * Send commands on a new connection and return the bytes of the last reply,
 * found with an iterative scan (no recursion, whatever the nesting).
 */
function rawReply(port: number, commands: string[][]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(Buffer.concat(commands.map((c) => encodeCommand(c)))));
    let buf = Buffer.alloc(0);
    let start = 0;
    let done = 0;
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = replyEnd(buf, start);
        if (end < 0) return;
        if (++done === commands.length) {
          socket.destroy();
          resolve(buf.subarray(start, end));
          return;
        }
        start = end;
      }
    });
    socket.on('error', reject);
  });
}

/** Where the reply starting at pos ends, or -1 if it is not complete yet. */
function replyEnd(buf: Buffer, pos: number): number {
  let pending = 1;
  let p = pos;
  while (pending > 0) {
    const nl = buf.indexOf('\r\n', p);
    if (nl < 0) return -1;
    const type = String.fromCharCode(buf[p]!);
    const n = Number(buf.latin1Slice(p + 1, nl));
    p = nl + 2;
    pending--;
    if ((type === '$' || type === '=') && n >= 0) {
      if (buf.length < p + n + 2) return -1;
      p += n + 2;
    } else if ((type === '*' || type === '~' || type === '>') && n > 0) pending += n;
    else if ((type === '%' || type === '|') && n > 0) pending += 2 * n;
  }
  return p;
}

/** The RESP encoding of EVAL script 0, for writing without waiting for the reply. */
function evalBytes(script: string): Buffer {
  return encodeCommand(['EVAL', script, '0']);
}

describe('KNOWN_DIFFERENCES entries for scripting', () => {
  const dbl = (value: string): Reply => ({ type: 'double', value });

  it("rewrite the reference's %.17g doubles in script replies to 7.2's shortest text, and nothing else", () => {
    const from70: Reply = { type: 'array', value: [dbl('0.10000000000000001'), dbl('1.0000000000000001e+300'), dbl('-nan'), dbl('inf'), dbl('-0'), dbl('3'), { type: 'bulk', value: '0.10000000000000001' }] };
    const as72: Reply = { type: 'array', value: [dbl('0.1'), dbl('1e+300'), dbl('nan'), dbl('inf'), dbl('-0'), dbl('3'), { type: 'bulk', value: '0.10000000000000001' }] };
    expect(normalize(from70, 'redis', ['EVAL', 'x', '0'])).toEqual(as72);
    expect(normalize(from70, 'redis', ['fcall_ro', 'f', '0'])).toEqual(as72);
    expect(normalize(from70, 'vireo', ['EVAL', 'x', '0'])).toEqual(from70);
    expect(normalize(from70, 'redis', ['GET', 'x'])).toEqual(from70);
  });

  it('sort FUNCTION LIST libraries and their functions, in RESP2 and RESP3 shapes', () => {
    const bulk = (value: string): Reply => ({ type: 'bulk', value });
    const fn = (name: string): Reply => ({ type: 'array', value: [bulk('name'), bulk(name)] });
    const lib2 = (name: string, fns: string[]): Reply => ({ type: 'array', value: [bulk('library_name'), bulk(name), bulk('functions'), { type: 'array', value: fns.map(fn) }] });
    const lib3 = (name: string, fns: string[]): Reply => ({ type: 'map', value: [[bulk('library_name'), bulk(name)], [bulk('functions'), { type: 'array', value: fns.map(fn) }]] });
    for (const lib of [lib2, lib3]) {
      const a: Reply = { type: 'array', value: [lib('b', ['y', 'x']), lib('a', ['z', 'w'])] };
      const b: Reply = { type: 'array', value: [lib('a', ['w', 'z']), lib('b', ['x', 'y'])] };
      expect(normalize(a, 'redis', ['FUNCTION', 'LIST'])).toEqual(normalize(b, 'vireo', ['function', 'list']));
      expect(normalize(a, 'redis', ['FUNCTION', 'LIST'])).not.toEqual(normalize(lib('a', ['w']), 'vireo', ['FUNCTION', 'LIST']));
    }
  });
});
