// The clients users already have: ioredis, node-redis (RESP2 and RESP3),
// redis-cli and redis-benchmark, run unchanged against Vireo.
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { startVireo, type VireoHandle } from './helpers/servers.js';
import { RespClient, encodeCommand } from './helpers/resp.js';

// The server runs in this process: tools must be run asynchronously.
const run = async (cmd: string, args: string[], input?: string): Promise<string> => {
  if (input === undefined) return (await promisify(execFile)(cmd, args, { encoding: 'utf8' })).stdout;
  return await new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { encoding: 'utf8' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
    child.stdin!.end(input);
  });
};

const HAVE_TOOLS = spawnSync('which', ['redis-cli']).status === 0 && spawnSync('which', ['redis-benchmark']).status === 0;
if (!HAVE_TOOLS && process.env.CI === 'true') throw new Error('redis-tools (redis-cli, redis-benchmark) are required under CI=true');

describe('client libraries', () => {
  let v: VireoHandle;
  beforeAll(async () => {
    v = await startVireo();
  });
  afterAll(async () => {
    await v.stop();
  });

  it('ioredis: commands, pipelines, transactions, binary values', async () => {
    const r = new Redis({ port: v.port, host: '127.0.0.1', lazyConnect: true });
    await r.connect();
    try {
      expect(await r.set('io:a', '1', 'EX', 100)).toBe('OK');
      expect(await r.incrby('io:a', 5)).toBe(6);
      expect(await r.get('io:a')).toBe('6');
      expect(await r.ttl('io:a')).toBeGreaterThan(90);
      const res = await r.pipeline().set('io:b', 'x').append('io:b', 'y').get('io:b').exec();
      expect(res).toEqual([[null, 'OK'], [null, 2], [null, 'xy']]);
      const tx = await r.multi().incr('io:c').incr('io:c').exec();
      expect(tx).toEqual([[null, 1], [null, 2]]);
      const bin = Buffer.from([0, 1, 2, 255, 254]);
      await r.set(Buffer.from([9, 0, 9]), bin);
      expect(await r.getBuffer(Buffer.from([9, 0, 9]))).toEqual(bin);
      await expect(r.incr('io:b')).rejects.toThrow('ERR value is not an integer or out of range');
      const keys = new Set<string>();
      await new Promise<void>((resolve, reject) => {
        r.scanStream({ match: 'io:*', count: 2 })
          .on('data', (ks: string[]) => ks.forEach((k) => keys.add(k)))
          .on('end', () => resolve())
          .on('error', reject);
      });
      expect([...keys].sort()).toEqual(['io:a', 'io:b', 'io:c']);
      const info = await r.info('server');
      expect(info).toContain('redis_version:7.2.4');
    } finally {
      r.disconnect();
    }
  });

  it('many pipelining connections at once each get all their replies, in order', async () => {
    // Replies are sent once per event-loop turn for every client served in
    // it; this checks that none is lost, duplicated or sent to the wrong
    // connection. Command names alternate between ones of equal length
    // (the parser reuses the previous name's string when the bytes match).
    const conns = await Promise.all(Array.from({ length: 30 }, () => RespClient.connect(v.port)));
    try {
      await Promise.all(
        conns.map(async (c, id) => {
          const key = `conc:${id}`;
          const expected: string[] = [];
          let n = 0;
          for (let batch = 0; batch < 20; batch++) {
            const cmds: string[][] = [];
            for (let i = 0; i < 10; i++) {
              if (i % 3 === 2) {
                cmds.push(['GET', key]);
                expected.push(`bulk:${n}`);
              } else if (i % 3 === 1) {
                cmds.push(['INCRBY', key, '2']);
                n += 2;
                expected.push(`integer:${n}`);
              } else {
                cmds.push(['INCR', key]);
                n += 1;
                expected.push(`integer:${n}`);
              }
            }
            c.writeRaw(Buffer.concat(cmds.map((a) => encodeCommand(a))));
            // Leave some batches unanswered while the next one is sent.
            if (batch % 4 === 3) await new Promise((r) => setImmediate(r));
          }
          const got: string[] = [];
          for (let i = 0; i < expected.length; i++) {
            const { reply } = await c.read();
            got.push(`${reply.type}:${'value' in reply ? String(reply.value) : ''}`);
          }
          expect(got).toEqual(expected);
          expect(c.leftover.length).toBe(0);
        }),
      );
    } finally {
      for (const c of conns) c.close();
    }
  });

  it('node-redis: RESP2 and RESP3 clients', async () => {
    for (const RESP of [2, 3] as const) {
      const c = createClient({ url: `redis://127.0.0.1:${v.port}`, RESP });
      await c.connect();
      try {
        await c.set(`nr${RESP}:k`, 'v', { EX: 50 });
        expect(await c.get(`nr${RESP}:k`)).toBe('v');
        expect(await c.mGet([`nr${RESP}:k`, 'nope'])).toEqual(['v', null]);
        expect(await c.incrByFloat(`nr${RESP}:f`, 1.5)).toBe(RESP === 3 ? '1.5' : '1.5');
        const [a, b] = await c.multi().incr(`nr${RESP}:n`).incr(`nr${RESP}:n`).exec();
        expect([a, b]).toEqual([1, 2]);
        expect(await c.configGet('maxmemory-policy')).toEqual({ 'maxmemory-policy': 'noeviction' });
        expect(await c.exists(`nr${RESP}:k`)).toBe(1);
      } finally {
        await c.quit();
      }
    }
  });
});

describe.skipIf(!HAVE_TOOLS)('redis-cli and redis-benchmark', () => {
  let v: VireoHandle;
  beforeAll(async () => {
    v = await startVireo();
  });
  afterAll(async () => {
    await v.stop();
  });

  it('redis-cli runs commands, pipes and --scan', async () => {
    const cli = (...args: string[]) => run('redis-cli', ['-p', String(v.port), ...args]);
    expect((await cli('SET', 'cli:a', 'hello')).trim()).toBe('OK');
    expect((await cli('GET', 'cli:a')).trim()).toBe('hello');
    expect((await cli('INCR', 'cli:n')).trim()).toBe('1');
    const piped = await run('redis-cli', ['-p', String(v.port), '--pipe'], 'SET cli:p1 1\r\nSET cli:p2 2\r\n');
    expect(piped).toMatch(/errors: 0, replies: 2/);
    expect((await cli('--scan', '--pattern', 'cli:p*')).trim().split('\n').sort()).toEqual(['cli:p1', 'cli:p2']);
    expect((await cli('-3', 'HELLO', '3')).includes('proto')).toBe(true);
    expect((await cli('NOSUCH')).trim()).toMatch(/^ERR unknown command 'NOSUCH'/);
  });

  it('redis-benchmark -t ping,set,get,incr,mset completes without errors', async () => {
    const out = await run('redis-benchmark', ['-p', String(v.port), '-n', '2000', '-c', '10', '-P', '4', '-t', 'ping,set,get,incr,mset', '-q', '--csv']);
    const rows = out.trim().split('\n').slice(1).map((l) => l.split(',')[0]!.replace(/"/g, ''));
    expect(rows).toEqual(['PING_INLINE', 'PING_MBULK', 'SET', 'GET', 'INCR', 'MSET (10 keys)']);
    expect(out).not.toMatch(/error/i);
  });
});
