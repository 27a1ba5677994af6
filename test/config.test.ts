// CONFIG SET / CONFIG GET against redis-server: several parameters set
// atomically (rolled back together when one fails to set or to apply,
// including a port or address that cannot be bound), Redis' error texts
// and their precedence, hidden (debug) parameters.
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS, freePort } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';

/** Hold a TCP port on 127.0.0.1 so nobody else can bind it. */
function occupyPort(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port;

async function answersPing(port: number): Promise<boolean> {
  try {
    const c = await RespClient.connect(port);
    const r = await c.call('PING');
    c.close();
    return r.type === 'simple' && r.value === 'PONG';
  } catch {
    return false;
  }
}

describe.skipIf(!HAVE_REDIS)('CONFIG SET / GET (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start({ 'enable-protected-configs': 'yes' });
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('a value that fails to parse rolls back every parameter of the command', async () => {
    await pair.script([
      ['CONFIG', 'SET', 'maxmemory', '10mb', 'maxmemory-policy', 'foo'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru', 'hz', '20', 'maxmemory', 'bla'],
      ['CONFIG', 'GET', 'maxmemory-policy'],
      ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'maxmemory', '10mb', 'maxmemory-policy', 'allkeys-lru'],
      ['CONFIG', 'GET', 'maxmemory*'],
      ['CONFIG', 'SET', 'maxmemory', '0', 'maxmemory-policy', 'noeviction'],
    ]);
  });

  it('names are all checked before any value: the first error in argument order wins', async () => {
    await pair.script([
      ['CONFIG', 'SET', 'maxmemory', 'bla', 'nosuch', '1'],
      ['CONFIG', 'SET', 'nosuch', '1', 'daemonize', 'yes'],
      ['CONFIG', 'SET', 'daemonize', 'yes', 'nosuch', '1'],
      ['CONFIG', 'SET', 'maxmemory', 'bla', 'daemonize', 'yes'],
      ['CONFIG', 'SET', 'hz', 'x', 'hz', '5'],
      ['CONFIG', 'SET', 'hz', '5', 'HZ', '6'],
      ['CONFIG', 'SET', 'MAXMEMORY', 'bla'],
      ['CONFIG', 'SET', 'Slave-Read-Only', 'maybe'],
      ['CONFIG', 'SET', 'slave-read-only', 'yes', 'replica-read-only', 'yes'],
      ['CONFIG', 'SET', 'maxmemory', '1', 'x'],
      ['CONFIG', 'SET', 'maxmemory'],
      ['CONFIG', 'SET', 'a', 'b', 'c'],
    ]);
  });

  it('an apply failure (dir) rolls back the parameters set before it', async () => {
    await pair.script([
      ['CONFIG', 'SET', 'maxmemory', '5mb', 'dir', '/nonexistent-vireo-dir'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'SET', 'dir', '/etc/passwd'],
      ['CONFIG', 'SET', 'dbfilename', 'a/b'],
      ['CONFIG', 'SET', 'dbfilename', 'x\\y'],
      ['CONFIG', 'GET', 'dbfilename'],
    ]);
  });

  it('special formats validate with Redis\' texts', async () => {
    await pair.script([
      ['CONFIG', 'SET', 'oom-score-adj-values', '1 2'],
      ['CONFIG', 'SET', 'oom-score-adj-values', '1 2 3000'],
      ['CONFIG', 'SET', 'oom-score-adj-values', '1 2 x'],
      ['CONFIG', 'SET', 'oom-score-adj-values', '300 +200 -100'],
      ['CONFIG', 'GET', 'oom-score-adj-values'],
      ['CONFIG', 'SET', 'oom-score-adj-values', '0 200 800'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 x'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 101'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '-1'],
      ['CONFIG', 'GET', 'latency-tracking-info-percentiles'],
      ['CONFIG', 'SET', 'maxmemory-clients', '200%'],
      ['CONFIG', 'SET', 'maxmemory-clients', '-5'],
      ['CONFIG', 'SET', 'maxmemory-clients', '050%'],
      ['CONFIG', 'SET', 'maxmemory-clients', '0%'],
      ['CONFIG', 'GET', 'maxmemory-clients'],
      ['CONFIG', 'SET', 'maxmemory-clients', '50%'],
      ['CONFIG', 'GET', 'maxmemory-clients'],
      ['CONFIG', 'SET', 'maxmemory-clients', '0'],
      ['CONFIG', 'SET', 'proc-title-template', '{foo}'],
      ['CONFIG', 'SET', 'proc-title-template', '{title'],
      ['CONFIG', 'SET', 'proc-title-template', ''],
      ['CONFIG', 'SET', 'proc-title-template', '{title}'],
      ['CONFIG', 'SET', 'proc-title-template', '{'],
      ['CONFIG', 'SET', 'proc-title-template', 'x}'],
      ['CONFIG', 'SET', 'proc-title-template', '{{ {title} {port}'],
      ['CONFIG', 'GET', 'proc-title-template'],
      ['CONFIG', 'SET', 'proc-title-template', '{title} {listen-addr} {server-mode}'],
      ['CONFIG', 'SET', 'cluster-announce-hostname', 'a_b'],
      ['CONFIG', 'SET', 'cluster-announce-hostname', 'a'.repeat(256)],
      ['CONFIG', 'SET', 'cluster-announce-hostname', 'a-b.C9'],
      ['CONFIG', 'GET', 'cluster-announce-hostname'],
      ['CONFIG', 'SET', 'cluster-announce-hostname', ''],
    ]);
  });

  it('capped, bounded and listed as Redis does: hz, maxclients, appendfsync, shutdown-on-sigterm, notify-keyspace-events shown back', async () => {
    await pair.script([
      ['CONFIG', 'SET', 'hz', '600'],
      ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'hz', '0'],
      ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'hz', '10'],
      ['CONFIG', 'SET', 'maxclients', '0'],
      ['CONFIG', 'SET', 'maxclients', '4294967296'],
      ['CONFIG', 'SET', 'appendfsync', 'foo'],
      ['CONFIG', 'SET', 'shutdown-on-sigterm', 'save nosave'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'An'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'EKgx$lshzetdmn'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'nKg'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'mEnl'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', 'n'],
      ['CONFIG', 'GET', 'notify-keyspace-events'],
      ['CONFIG', 'SET', 'notify-keyspace-events', ''],
      ['CONFIG', 'SET', 'save', '0 10'],
      ['CONFIG', 'SET', 'save', '100  10'],
      ['CONFIG', 'SET', 'save', ' 100 10 '],
      ['CONFIG', 'SET', 'save', '100\t10'],
      ['CONFIG', 'SET', 'save', '+5 5'],
      ['CONFIG', 'GET', 'save'],
      ['CONFIG', 'SET', 'save', '100 -1'],
      ['CONFIG', 'SET', 'save', '100 + 5 5'],
      ['CONFIG', 'SET', 'save', '3600 1 300 100 60 10000'],
      ['CONFIG', 'GET', 'save'],
      ['CONFIG', 'SET', 'save', ''],
      ['CONFIG', 'SET', 'oom-score-adj-values', '1  2 3'],
      ['CONFIG', 'SET', 'oom-score-adj-values', ' 1 2 3'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', ' 50'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50  99'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', ''],
      ['CONFIG', 'GET', 'latency-tracking-info-percentiles'],
      ['CONFIG', 'SET', 'latency-tracking-info-percentiles', '50 99 99.9'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', 'normal 0 0 0 '],
      ['CONFIG', 'SET', 'client-output-buffer-limit', ' normal 0 0 0'],
      ['CONFIG', 'SET', 'client-output-buffer-limit', ''],
      ['CONFIG', 'GET', 'client-output-buffer-limit'],
      ['SHUTDOWN', 'ABORT', 'ABORT'],
      ['SHUTDOWN', 'ABORT', 'NOW'],
    ]);
  });

  it('notify-keyspace-events A with n still sends new-key events (Redis only leaves the n out of what it shows)', async () => {
    const v = pair.vireo;
    await v.call('CONFIG', 'SET', 'notify-keyspace-events', 'AEn');
    expect(toJs(await v.call('CONFIG', 'GET', 'notify-keyspace-events'))).toEqual(['notify-keyspace-events', 'AE']);
    const sub = await RespClient.connect(pair.ports[1]);
    try {
      await sub.call('SUBSCRIBE', '__keyevent@0__:new');
      await v.call('SET', 'brand-new', '1');
      expect(toJs((await sub.read()).reply)).toEqual(['message', '__keyevent@0__:new', 'brand-new']);
    } finally {
      sub.close();
      await v.call('CONFIG', 'SET', 'notify-keyspace-events', '');
      await v.call('DEL', 'brand-new');
    }
  });

  // Redis' introspection.tcl "CONFIG sanity": every mutable parameter
  // accepts the value CONFIG GET shows for it and keeps it.
  it('CONFIG sanity: every parameter can be set to its own value', async () => {
    for (const side of ['redis', 'vireo'] as const) {
      const client = pair[side];
      const before = toJs(await client.call('CONFIG', 'GET', '*')) as string[];
      const failures: string[] = [];
      for (let i = 0; i < before.length; i += 2) {
        const [k, v] = [before[i]!, before[i + 1]!];
        const r = await client.call('CONFIG', 'SET', k, v);
        if (r.type === 'error' && !/immutable config/.test(r.value)) failures.push(`${k}=${v}: ${r.value}`);
      }
      expect(failures, side).toEqual([]);
      expect(toJs(await client.call('CONFIG', 'GET', '*')), side).toEqual(before);
    }
  });

  // Redis reads integers with string2ll and memory values with memtoull
  // (strtoull saturating at 2^64 - 1, the unit's multiplication wrapping)
  // into a long long, and checks the bounds exactly: values past 2^53, up
  // to LLONG_MAX (ULLONG_MAX for maxmemory), are accepted and shown back
  // digit for digit. A config file with LLONG_MAX for "no limit" must load.
  it('integer and memory parameters: 64-bit edges parsed, bounded and shown back exactly', async () => {
    const edges = [
      '9223372036854775807', '9223372036854775808', '18446744073709551615', '18446744073709551616', '9007199254740993',
      '-9223372036854775808', '-9223372036854775809', '-9007199254740993', '2147483648', '-2147483649', '4294967296',
      '9007199254740993kb', '100000000000000000gb', '12gb', '007', '-0', '+5', '',
    ];
    const both = async (...args: string[]) => toJs(await pair.redis.call(...args)) as string[];
    const redisAll = await both('CONFIG', 'GET', '*');
    const vireoAll = toJs(await pair.vireo.call('CONFIG', 'GET', '*')) as string[];
    const vireoNames = new Set(vireoAll.filter((_, i) => i % 2 === 0));
    const numeric = /^-?[0-9]+$/;
    // Parameters both servers have whose value reads as a number, less those
    // that would stop the test (the listening port, client limits, databases),
    // io-threads (the suite also runs with Vireo on 4), and maxmemory-samples, which Vireo bounds at 64 as Valkey does (7.0
    // allows INT_MAX and puts that many pointers on its stack per eviction).
    const skip = new Set(['port', 'tls-port', 'maxclients', 'databases', 'cluster-port', 'io-threads', 'maxmemory-samples', 'unixsocketperm', 'oom-score-adj-values']);
    const names: string[] = [];
    for (let i = 0; i < redisAll.length; i += 2) {
      if (numeric.test(redisAll[i + 1]!) && vireoNames.has(redisAll[i]!) && !skip.has(redisAll[i]!)) names.push(redisAll[i]!);
    }
    expect(names.length).toBeGreaterThan(60);
    for (const name of names) {
      const original = (await both('CONFIG', 'GET', name))[1]!;
      for (const v of edges) {
        await pair.check('CONFIG', 'SET', name, v);
        await pair.check('CONFIG', 'GET', name);
        await pair.check('CONFIG', 'SET', name, original);
      }
    }
    await pair.check('CONFIG', 'SET', 'maxmemory', '18446744073709551615');
    const memory = await Promise.all([pair.redis.call('INFO', 'memory'), pair.vireo.call('INFO', 'memory')]);
    const fields = memory.map((r) => String(toJs(r)).split('\r\n').filter((l) => /^maxmemory(_human)?:/.test(l)));
    expect(fields[1]).toEqual(fields[0]);
    await pair.check('CONFIG', 'SET', 'maxmemory', '0');
  });

  // Redis reads a parameter's value with C string functions (strcasecmp,
  // zstrdup, strtoull...): a NUL ends it. The percentile list is split as a
  // binary string, where a NUL is an invalid number.
  it('a value is read up to its first NUL, as Redis reads it', async () => {
    const cases: [string, string, string][] = [
      ['appendfsync', 'no\0junk', 'everysec'],
      ['activerehashing', 'no\0', 'yes'],
      ['maxmemory-policy', 'allkeys-lru\0x', 'noeviction'],
      ['notify-keyspace-events', '\0\xff', ''],
      ['notify-keyspace-events', 'Kx\0!', ''],
      ['replica-announce-ip', '10.0.0.1\0junk', ''],
      ['client-output-buffer-limit', 'pubsub 64mb 16mb 60\0junk', 'pubsub 32mb 8mb 60'],
      ['oom-score-adj-values', '0 100 300\0 9', '0 200 800'],
      ['oom-score-adj-values', '0 100\0x 300', '0 200 800'],
      ['client-output-buffer-limit', 'pubsub 64mb\0 16mb 60', 'pubsub 32mb 8mb 60'],
      ['client-output-buffer-limit', 'pubsub 64mb 16mb 60\0 x', 'pubsub 32mb 8mb 60'],
      ['save', '', ''],
      ['save', '100 10\0 5', ''],
      ['save', '100 10 200\0 5', ''],
      ['proc-title-template', '{title}\0{port}', '{title} {listen-addr} {server-mode}'],
      ['latency-tracking-info-percentiles', '50\0 99', '50 99 99.9'],
      ['maxmemory', '10mb\0gb', '0'],
      ['hz', '20\0', '10'],
    ];
    for (const [name, value, restore] of cases) {
      await pair.check('CONFIG', 'SET', name, value);
      await pair.check('CONFIG', 'GET', name);
      await pair.check('CONFIG', 'SET', name, restore);
    }
  });

  it('CONFIG GET: a glob skips hidden parameters, an exact name finds them and is echoed as given', async () => {
    for (const hidden of ['key-load-delay', 'rdb-key-save-delay', 'loading-process-events-interval-bytes', 'watchdog-period', 'use-exit-on-panic']) {
      await pair.check('CONFIG', 'GET', hidden);
      await pair.check('CONFIG', 'GET', hidden.toUpperCase());
    }
    await pair.script([
      ['CONFIG', 'GET', '*delay*'],
      ['CONFIG', 'GET', '*load*'],
      ['CONFIG', 'GET', 'use-*'],
      ['CONFIG', 'GET', 'HZ', 'hz'],
      ['CONFIG', 'GET', 'Maxmemory', '*maxmemory'],
      ['CONFIG', 'GET', 'slaveof'],
      ['CONFIG', 'GET', 'h\\z'],
      ['CONFIG', 'GET', 'h[z]'],
      ['CONFIG', 'SET', 'key-load-delay', '10'],
      ['CONFIG', 'GET', 'key-load-delay'],
      ['CONFIG', 'SET', 'key-load-delay', '0'],
    ]);
    const all = toJs(await pair.vireo.call('CONFIG', 'GET', '*')) as string[];
    expect(all).not.toContain('key-load-delay');
    expect(all).not.toContain('rdb-key-save-delay');
  });
});

describe.skipIf(!HAVE_REDIS)('CONFIG SET port / bind (differential)', () => {
  let pair: DiffPair;
  let busy: net.Server;
  beforeAll(async () => {
    pair = await DiffPair.start();
    busy = await occupyPort();
  });
  afterAll(async () => {
    busy?.close();
    await pair?.stop();
  });

  it('a port another socket listens on: error, every parameter rolled back, still serving on the old port', async () => {
    const taken = String(portOf(busy));
    await pair.script([
      ['CONFIG', 'SET', 'port', taken],
      ['CONFIG', 'SET', 'maxmemory', '10mb', 'port', taken, 'hz', '33'],
      ['CONFIG', 'GET', 'maxmemory'],
      ['CONFIG', 'GET', 'hz'],
      ['PING'],
    ]);
    // The in-process Vireo was started on port 0 (any free port): that is what it still says.
    expect(toJs(await pair.vireo.call('CONFIG', 'GET', 'port'))).toEqual(['port', '0']);
    expect(await answersPing(pair.vireoServer.port)).toBe(true);
  });

  it('an address that cannot be bound: error, rolled back, still serving', async () => {
    await pair.script([
      ['CONFIG', 'SET', 'bind', '192.0.2.1'],
      ['CONFIG', 'GET', 'bind'],
      ['CONFIG', 'SET', 'hz', '44', 'bind', '127.0.0.1 192.0.2.1'],
      ['CONFIG', 'GET', 'hz'],
      ['CONFIG', 'SET', 'bind', '192.0.2.1', 'port', String(portOf(busy))],
      ['CONFIG', 'SET', 'port', String(portOf(busy)), 'bind', '192.0.2.1'],
    ]);
    expect(await answersPing(pair.vireoServer.port)).toBe(true);
  });

  it('inside EXEC (which cannot wait) a port that cannot be bound answers OK, then is rolled back and logged', async () => {
    const taken = String(portOf(busy));
    const v = pair.vireo;
    expect(toJs(await v.call('MULTI'))).toBe('OK');
    await v.call('CONFIG', 'SET', 'port', taken, 'hz', '55');
    expect(toJs(await v.call('EXEC'))).toEqual(['OK']);
    for (let i = 0; i < 200 && (toJs(await v.call('CONFIG', 'GET', 'hz')) as string[])[1] !== '10'; i++) await new Promise((r) => setTimeout(r, 10));
    expect(toJs(await v.call('CONFIG', 'GET', 'port', 'hz'))).toEqual(['port', '0', 'hz', '10']);
    expect(await answersPing(pair.vireoServer.port)).toBe(true);
  });

  it('commands pipelined after CONFIG SET port wait for its reply', async () => {
    const taken = String(portOf(busy));
    pair.vireo.writeRaw(Buffer.from(`*4\r\n$6\r\nCONFIG\r\n$3\r\nSET\r\n$4\r\nport\r\n$${taken.length}\r\n${taken}\r\n*1\r\n$4\r\nPING\r\n`));
    const first = await pair.vireo.read();
    const second = await pair.vireo.read();
    expect(toJs(first.reply)).toEqual(new Error("ERR CONFIG SET failed (possibly related to argument 'port') - Unable to listen on this port. Check server logs."));
    expect(toJs(second.reply)).toBe('PONG');
  });
});

describe.skipIf(!HAVE_REDIS)('CONFIG SET port that succeeds', () => {
  it('moves the listener: the new port serves, the old one is closed, existing clients stay', async () => {
    const pair = await DiffPair.start();
    try {
      const oldPort = pair.vireoServer.port;
      const [rport, vport] = [await freePort(), await freePort()];
      const [a, b] = await Promise.all([pair.redis.call('CONFIG', 'SET', 'port', String(rport)), pair.vireo.call('CONFIG', 'SET', 'port', String(vport))]);
      expect(toJs(b)).toEqual(toJs(a));
      expect(toJs(b)).toBe('OK');
      expect(await answersPing(vport)).toBe(true);
      expect(await answersPing(oldPort)).toBe(false);
      expect(toJs(await pair.vireo.call('PING'))).toBe('PONG');
      // Two clients changing the port at once: the second waits for the first.
      const other = await RespClient.connect(vport);
      const [p1, p2] = [await freePort(), await freePort()];
      const [r1, r2] = await Promise.all([pair.vireo.call('CONFIG', 'SET', 'port', String(p1)), other.call('CONFIG', 'SET', 'port', String(p2))]);
      other.close();
      expect([toJs(r1), toJs(r2)]).toEqual(['OK', 'OK']);
      // The one applied last wins (with I/O threads, two connections' commands may reach the main thread in either order).
      const last = Number((toJs(await pair.vireo.call('CONFIG', 'GET', 'port')) as string[])[1]);
      expect([p1, p2]).toContain(last);
      expect(await answersPing(last)).toBe(true);
      expect(await answersPing(last === p1 ? p2 : p1)).toBe(false);
    } finally {
      await pair.stop();
    }
  });
});
