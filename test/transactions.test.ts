// MULTI/EXEC/DISCARD/WATCH against redis-server, including WATCH broken by
// other clients, by expiry, by FLUSHALL/SWAPDB, and EXECABORT.
import { afterAll, beforeAll, beforeEach, describe, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.skipIf(!HAVE_REDIS)('transactions (differential)', () => {
  let pair: DiffPair;
  let other: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
    other = await pair.connect();
  });
  afterAll(async () => {
    other?.close();
    await pair?.stop();
  });
  beforeEach(async () => {
    await pair.check('FLUSHALL');
  });

  it('queues and executes', async () => {
    await pair.script([
      ['MULTI'],
      ['SET', 'a', '1'],
      ['INCR', 'a'],
      ['GET', 'a'],
      ['INCR', 'nokey'],
      ['EXEC'],
      ['EXEC'],
      ['DISCARD'],
      ['MULTI'],
      ['MULTI'],
      ['SET', 'b', '1'],
      ['DISCARD'],
      ['GET', 'b'],
    ]);
  });

  it('runtime errors do not abort, queue-time errors do (EXECABORT)', async () => {
    await pair.script([
      ['SET', 's', 'abc'],
      ['MULTI'],
      ['INCR', 's'],
      ['SET', 'x', '1'],
      ['EXEC'],
      ['GET', 'x'],
      ['MULTI'],
      ['SET', 'y', '1'],
      ['GET'],
      ['NOSUCHCMD'],
      ['EXEC'],
      ['GET', 'y'],
      ['MULTI'],
      ['WATCH', 'x'],
      ['EXEC'],
    ]);
  });

  it('WATCH is broken by another client, expiry, FLUSHALL, SWAPDB', async () => {
    await pair.script([['SET', 'w', '1'], ['WATCH', 'w']]);
    await other.check('SET', 'w', '2');
    await pair.script([['MULTI'], ['SET', 'w', '3'], ['EXEC'], ['GET', 'w']]);

    await pair.script([['WATCH', 'w'], ['MULTI'], ['SET', 'w', '4'], ['EXEC'], ['GET', 'w']]);

    await pair.script([['SET', 'e', '1', 'PX', '50'], ['WATCH', 'e']]);
    await new Promise((r) => setTimeout(r, 100));
    await pair.script([['MULTI'], ['SET', 'x', '1'], ['EXEC']]);

    await pair.script([['SET', 'f', '1'], ['WATCH', 'f']]);
    await other.check('FLUSHALL');
    await pair.script([['MULTI'], ['PING'], ['EXEC']]);

    await pair.script([['SET', 'g', '1'], ['WATCH', 'g']]);
    await other.check('SWAPDB', '0', '1');
    await pair.script([['MULTI'], ['PING'], ['EXEC']]);

    await pair.script([['WATCH', 'never'], ['MULTI'], ['PING'], ['EXEC']]);
    await pair.script([['SET', 'u', '1'], ['WATCH', 'u']]);
    await other.check('SET', 'u', '2');
    await pair.script([['UNWATCH'], ['MULTI'], ['PING'], ['EXEC']]);
    await pair.script([['SET', 'd', '1'], ['WATCH', 'd'], ['MULTI'], ['PING'], ['DISCARD']]);
    await other.check('SET', 'd', '2');
    await pair.script([['MULTI'], ['PING'], ['EXEC']]);
  });

  it('consumer-group commands and XSETID leave a WATCH on the stream alone, as Redis does (found by the fuzzer)', async () => {
    // Redis sends their keyspace events but no signalModifiedKey: only a change of the entries (or MKSTREAM making the key) breaks it.
    const steps: string[][] = [
      ['XGROUP', 'CREATE', 'st', 'g2', '0'],
      ['XGROUP', 'CREATE', 'st', 'g3', '$', 'ENTRIESREAD', '1'],
      ['XGROUP', 'SETID', 'st', 'g', '0'],
      ['XGROUP', 'CREATECONSUMER', 'st', 'g', 'c9'],
      ['XGROUP', 'DELCONSUMER', 'st', 'g', 'c9'],
      ['XREADGROUP', 'GROUP', 'g', 'fresh', 'COUNT', '1', 'STREAMS', 'st', '0'],
      ['XCLAIM', 'st', 'g', 'claimer', '0', '1-1'],
      ['XAUTOCLAIM', 'st', 'g', 'auto', '0', '0'],
      ['XACK', 'st', 'g', '1-1'],
      ['XGROUP', 'DESTROY', 'st', 'g3'],
      ['XSETID', 'st', '5-0'],
      ['XDEL', 'st', '9-9'],
      ['XGROUP', 'CREATE', 'made', 'g', '$', 'MKSTREAM'],
      ['XADD', 'st', '10-1', 'f', 'v'],
    ];
    for (const step of steps) {
      const watched = step[2] === 'made' ? 'made' : 'st';
      await pair.script([['DEL', 'st', 'made'], ['XADD', 'st', '1-1', 'f', 'v'], ['XGROUP', 'CREATE', 'st', 'g', '0'], ['XREADGROUP', 'GROUP', 'g', 'c1', 'STREAMS', 'st', '>']]);
      await pair.script([['WATCH', watched]]);
      await other.check(...step);
      await pair.script([['MULTI'], ['PING'], ['EXEC']]);
    }
  });

  it('WATCH of a key touched by the transaction itself does not fail it', async () => {
    await pair.script([['WATCH', 'self'], ['MULTI'], ['SET', 'self', '1'], ['SET', 'self', '2'], ['EXEC'], ['GET', 'self']]);
  });

  it('SELECT inside MULTI applies to later queued commands', async () => {
    await pair.script([['MULTI'], ['SELECT', '2'], ['SET', 'db2', 'x'], ['SELECT', '0'], ['EXEC'], ['GET', 'db2'], ['SELECT', '2'], ['GET', 'db2'], ['SELECT', '0']]);
  });

  it('SORT ... STORE of an empty result touches the WATCHed destination (multi.tcl)', async () => {
    await pair.script([['LPUSH', 'foo', 'bar'], ['WATCH', 'foo'], ['SORT', 'emptylist', 'STORE', 'foo'], ['MULTI'], ['PING'], ['EXEC'], ['EXISTS', 'foo']]);
    await pair.script([['WATCH', 'nothing'], ['SORT', 'emptylist', 'STORE', 'nothing'], ['MULTI'], ['PING'], ['EXEC']]);
  });

  it('MULTI with SAVE / SHUTDOWN / a failing CONFIG SET, FLUSHALL watching several keys (multi.tcl)', async () => {
    for (const cmd of ['SAVE', 'SHUTDOWN']) {
      await pair.script([['DEL', 'foo'], ['MULTI'], ['SET', 'foo', 'bar'], [cmd], ['EXEC'], ['GET', 'foo']]);
    }
    await pair.script([['MULTI'], ['SET', 'foo', 'bar'], ['CONFIG', 'SET', 'maxmemory', 'bla'], ['EXEC']]);
    await pair.script([['FLUSHALL'], ['MSET', 'a', 'a', 'b', 'b'], ['WATCH', 'b', 'a'], ['FLUSHALL'], ['PING'], ['MULTI'], ['PING'], ['EXEC']]);
  });

  // Redis' multi.tcl: a key already logically expired when WATCHed is
  // "missing"; deleting it, flushing it or swapping it with another missing
  // or stale key is not a change, so EXEC still runs.
  describe('WATCHed stale keys (active expiry off)', () => {
    const staleKey = async (key: string) => {
      await pair.check('SET', key, 'foo', 'PX', '1');
      await sleep(5);
    };
    beforeEach(async () => {
      await pair.check('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
    });
    afterAll(async () => {
      await pair.check('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
      await pair.check('SELECT', '0');
    });
    const execRuns = () => pair.script([['MULTI'], ['PING'], ['EXEC']]);

    it('WATCH of a stale key does not fail EXEC', async () => {
      await staleKey('x');
      await pair.check('WATCH', 'x');
      await execRuns();
    });

    it('deleting a WATCHed stale key does not fail EXEC', async () => {
      await staleKey('x');
      await pair.script([['WATCH', 'x'], ['EXISTS', 'x']]);
      await execRuns();
    });

    it('FLUSHDB while watching a stale key does not fail EXEC', async () => {
      await staleKey('x');
      await pair.script([['WATCH', 'x'], ['FLUSHDB']]);
      await execRuns();
    });

    it('FLUSHALL from another client while watching a stale key does not fail EXEC', async () => {
      await staleKey('x');
      await pair.check('WATCH', 'x');
      await other.check('FLUSHALL');
      await execRuns();
    });

    it('FLUSHDB after a stale key was deleted and recreated fails EXEC', async () => {
      await staleKey('x');
      await pair.script([['WATCH', 'x'], ['EXISTS', 'x'], ['SET', 'x', 'new'], ['FLUSHDB']]);
      await pair.script([['MULTI'], ['PING'], ['EXEC']]);
    });

    it('SWAPDB of a stale key with no key does not fail EXEC', async () => {
      await pair.check('SELECT', '1');
      await staleKey('x');
      await pair.script([['WATCH', 'x'], ['SWAPDB', '0', '1']]);
      await execRuns();
    });

    it('SWAPDB of no key with a stale key does not fail EXEC', async () => {
      await pair.check('SELECT', '0');
      await staleKey('x');
      await pair.script([['SELECT', '1'], ['WATCH', 'x'], ['SWAPDB', '0', '1']]);
      await execRuns();
    });

    it('SWAPDB of a stale key with another stale key does not fail EXEC', async () => {
      await pair.script([['SELECT', '1'], ['SET', 'x', 'foo', 'PX', '1'], ['SELECT', '0'], ['SET', 'x', 'bar', 'PX', '1']]);
      await sleep(5);
      await pair.script([['SELECT', '1'], ['WATCH', 'x'], ['SWAPDB', '0', '1']]);
      await execRuns();
    });

    it('SWAPDB of a stale key with a live key fails EXEC', async () => {
      await pair.script([['SELECT', '0'], ['SET', 'x', 'live'], ['SELECT', '1']]);
      await staleKey('x');
      await pair.script([['WATCH', 'x'], ['SWAPDB', '0', '1']]);
      await pair.script([['MULTI'], ['PING'], ['EXEC']]);
    });

    it('SWAPDB twice: a missing key replaced with a stale one and back is still no change', async () => {
      await pair.check('SELECT', '0');
      await staleKey('x');
      await pair.script([['SELECT', '1'], ['WATCH', 'x'], ['SWAPDB', '0', '1'], ['SWAPDB', '0', '1']]);
      await execRuns();
    });
  });
});
