/**
 * Ready keys (src/engine/ready-keys.ts): when a key a client waits on is
 * created or filled, by any command, the waiters are served once the
 * command (or the whole EXEC) has completed, first come first served. The
 * blocking commands themselves (BLPOP...) build on this; here waiters are
 * registered on the engine directly and every way of filling a key is run
 * over the wire.
 */
import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { startVireo, type VireoHandle } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';
import type { Db } from '../src/engine/keyspace.js';
import type { KeyWaiter } from '../src/engine/ready-keys.js';

let v: VireoHandle;
let c: RespClient;

beforeAll(async () => {
  v = await startVireo();
  c = await RespClient.connect(v.port);
});
afterAll(async () => {
  c?.close();
  await v?.stop();
});
beforeEach(async () => {
  await c.call('FLUSHALL');
});

interface Served {
  waiter: string;
  db: number;
  key: string;
  /** The key's type when the waiter ran: it sees the finished command. */
  type: string;
  length: number;
}

/** A waiter that records when it is served and takes itself off the key (as a served client unblocks). */
function waiter(name: string, log: Served[], db: Db, key: string, serve = true): KeyWaiter {
  const engine = v.server.engine;
  const w: KeyWaiter = {
    tryServe(d, k) {
      const value = d.get(k);
      const length = value !== undefined && typeof value === 'object' && 'length' in value ? Number((value as { length: number }).length) : -1;
      log.push({ waiter: name, db: d.id, key: k, type: value === undefined ? 'none' : typeof value === 'object' ? value.type : 'string', length });
      if (!serve) return false;
      engine.readyKeys.unblock(db, key, w);
      return true;
    },
  };
  engine.readyKeys.block(db, key, w);
  return w;
}

function dbAt(i: number): Db {
  return v.server.engine.dbs[i]!;
}

async function run(...args: string[]): Promise<unknown> {
  return toJs(await c.call(...args));
}

describe('ready keys', () => {
  it('serves a waiter once, after the command that filled its key', async () => {
    const log: Served[] = [];
    waiter('a', log, dbAt(0), 'q');
    expect(v.server.engine.readyKeys.totalBlockingKeys).toBe(1);
    await run('RPUSH', 'q', 'x', 'y', 'z');
    expect(log).toEqual([{ waiter: 'a', db: 0, key: 'q', type: 'list', length: 3 }]);
    expect(v.server.engine.readyKeys.totalBlockingKeys).toBe(0);
    await run('RPUSH', 'q', 'w');
    expect(log).toHaveLength(1);
  });

  it('serves waiters on one key first come first served, while the key serves them', async () => {
    const log: Served[] = [];
    waiter('first', log, dbAt(0), 'q');
    waiter('second', log, dbAt(0), 'q');
    waiter('third', log, dbAt(0), 'q');
    await run('LPUSH', 'q', 'x');
    expect(log.map((s) => s.waiter)).toEqual(['first', 'second', 'third']);
  });

  it('serves after EXEC has completed, once per key however often the transaction filled it', async () => {
    const log: Served[] = [];
    waiter('a', log, dbAt(0), 'q');
    await run('MULTI');
    await run('RPUSH', 'q', '1');
    await run('RPUSH', 'q', '2');
    await run('SET', 'other', 'x');
    expect(log).toEqual([]);
    await run('EXEC');
    expect(log).toEqual([{ waiter: 'a', db: 0, key: 'q', type: 'list', length: 2 }]);
  });

  it('is not served by commands that only read or fail', async () => {
    const log: Served[] = [];
    waiter('a', log, dbAt(0), 'q', false);
    await run('LLEN', 'q');
    await run('GET', 'q');
    await run('SET', 'q', 'x', 'XX');
    expect(log).toEqual([]);
  });

  it('is served when RENAME, COPY, MOVE, RESTORE, SORT STORE, SMOVE, LMOVE or SWAPDB fill the key', async () => {
    // Each case fills key q of db 0; `from` is the db the filling command runs in.
    const cases: { setup: string[][]; fill: string[]; from?: number; type?: string }[] = [
      { setup: [['RPUSH', 'src', 'a']], fill: ['RENAME', 'src', 'q'] },
      { setup: [['RPUSH', 'src', 'a']], fill: ['COPY', 'src', 'q'] },
      { setup: [['SELECT', '1'], ['RPUSH', 'q', 'a']], fill: ['MOVE', 'q', '0'], from: 1 },
      { setup: [['RPUSH', 'src', 'a', 'b']], fill: ['SORT', 'src', 'ALPHA', 'STORE', 'q'] },
      { setup: [['SADD', 'src', 'm']], fill: ['SMOVE', 'src', 'q', 'm'], type: 'set' },
      { setup: [['RPUSH', 'src', 'a']], fill: ['LMOVE', 'src', 'q', 'LEFT', 'RIGHT'] },
      { setup: [['SELECT', '1'], ['RPUSH', 'q', 'a']], fill: ['SWAPDB', '0', '1'] },
    ];
    for (const { setup, fill, from, type } of cases) {
      await run('FLUSHALL');
      await run('SELECT', '0');
      for (const cmd of setup) await run(...cmd);
      await run('SELECT', String(from ?? 0));
      const log: Served[] = [];
      const w = waiter('w', log, dbAt(0), 'q', false);
      await run(...fill);
      v.server.engine.readyKeys.unblock(dbAt(0), 'q', w);
      expect(log.map((s) => `${s.db}:${s.key}:${s.type}`), fill.join(' ')).toEqual([`0:q:${type ?? 'list'}`]);
    }
    await run('SELECT', '0');
    // RESTORE of a DUMP payload.
    await run('FLUSHALL');
    await run('RPUSH', 'src', 'a');
    const payload = await c.callRaw('DUMP', 'src');
    const body = payload.subarray(payload.indexOf('\r\n') + 2, payload.length - 2);
    const log: Served[] = [];
    const w = waiter('w', log, dbAt(0), 'q', false);
    expect(toJs(await c.call('RESTORE', 'q', '0', body))).toBe('OK');
    v.server.engine.readyKeys.unblock(dbAt(0), 'q', w);
    expect(log.map((s) => s.type)).toEqual(['list']);
  });
});
