// Group commit under appendfsync always (persistence/group-commit.ts): where
// the fsync runs (on the event loop while fsyncs are fast, in the thread
// pool once they are slow), and that replies wait for it either way, also
// when it fails.
import { describe, expect, it } from 'vitest';
import { GroupCommit } from '../persistence/group-commit.js';
import type { AofStore } from '../persistence/aof/store.js';
import type { CommandLog } from '../src/log/command-log.js';
import { DurabilityGate, localFileFollower, type Waiter } from '../src/log/gate.js';

/** The command log as the committer uses it: an offset that writes advance. */
class FakeLog {
  offset = 0;
  flush(): void {}
}

/** An AOF whose fsyncs the test controls: how long they take, whether they fail. */
class FakeAof {
  on = true;
  policy = 'always';
  writtenOffset = 0;
  fsyncedOffset = 0;
  lastWriteOk = true;
  fsyncInFlight = false;
  bufferLength = 0;
  syncCalls = 0;
  asyncCalls = 0;
  failFsync = false;
  /** How long the next fsync takes, as the writer would time it. */
  fsyncMs = 0;
  lastFsyncMs = 0;
  private pendingAsync: (() => void) | null = null;
  constructor(private readonly log: FakeLog) {}
  writePending(): boolean {
    this.writtenOffset = this.log.offset;
    return true;
  }
  syncNow(): boolean {
    this.syncCalls++;
    this.lastFsyncMs = this.fsyncMs;
    if (this.failFsync) {
      this.lastWriteOk = false;
      return false;
    }
    this.lastWriteOk = true;
    this.fsyncedOffset = this.writtenOffset;
    return true;
  }
  fsyncAsync(done: (ok: boolean) => void): void {
    this.asyncCalls++;
    this.fsyncInFlight = true;
    const target = this.writtenOffset;
    this.pendingAsync = () => {
      this.fsyncInFlight = false;
      this.lastFsyncMs = this.fsyncMs;
      this.fsyncedOffset = target;
      done(true);
    };
  }
  /** The thread pool's fsync finishes. */
  finishAsync(): void {
    const f = this.pendingAsync;
    this.pendingAsync = null;
    f?.();
  }
}

class FakeClient implements Waiter {
  heldUntil = 0;
  gateSlot = -1;
  released = 0;
  releaseHeld(): void {
    this.released++;
  }
}

function setup() {
  const log = new FakeLog();
  const aof = new FakeAof(log);
  const gate = new DurabilityGate(log);
  gate.addFollower(localFileFollower(aof));
  const commit = new GroupCommit(log as unknown as CommandLog, aof as unknown as AofStore, gate);
  /** A client writes `bytes` of log and holds its reply, as Server.releaseOutput does. */
  const write = (c: FakeClient, bytes: number, alone: boolean): void => {
    log.offset += bytes;
    commit.hold(c, alone);
  };
  return { log, aof, gate, commit, write };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('group commit under appendfsync always', () => {
  it('commits a lone client in its own callback: written, fsynced on the event loop, then released', () => {
    const { aof, write } = setup();
    const c = new FakeClient();
    write(c, 10, true);
    expect(aof.syncCalls).toBe(1);
    expect(aof.fsyncedOffset).toBe(10);
    expect(c.released).toBe(1);
  });

  it('commits the clients of one turn together with one fsync, and releases none before it', async () => {
    const { aof, write } = setup();
    const clients = [new FakeClient(), new FakeClient(), new FakeClient()];
    for (const c of clients) write(c, 10, false);
    expect(clients.map((c) => c.released)).toEqual([0, 0, 0]);
    await turn();
    expect(aof.syncCalls).toBe(1);
    expect(aof.fsyncedOffset).toBe(30);
    expect(clients.map((c) => c.released)).toEqual([1, 1, 1]);
  });

  it('moves the fsync to the thread pool once fsyncs are slow, and replies still wait for it', async () => {
    const { aof, write } = setup();
    aof.fsyncMs = 5;
    const slow = new FakeClient();
    write(slow, 10, true);
    expect(slow.released).toBe(1);
    expect(aof.syncCalls).toBe(1);
    aof.fsyncMs = 0;
    const c = new FakeClient();
    write(c, 10, true);
    await turn();
    expect(aof.asyncCalls).toBe(1);
    expect(aof.syncCalls).toBe(1);
    expect(c.released).toBe(0);
    aof.finishAsync();
    expect(c.released).toBe(1);
  });

  it('a failed fsync on the event loop holds the replies without retrying at once; the cron releases them once an fsync succeeds', async () => {
    const { aof, commit, write } = setup();
    aof.failFsync = true;
    const c = new FakeClient();
    const lone = new FakeClient();
    // A turn's group and then a lone client: each gets one try (an immediate retry of a failing fsync would recurse).
    write(c, 10, false);
    await turn();
    expect(aof.syncCalls).toBe(1);
    write(lone, 0, true);
    await turn();
    expect(aof.syncCalls).toBe(2);
    expect(c.released + lone.released).toBe(0);
    expect(aof.lastWriteOk).toBe(false);
    // The disk recovers: the cron's retry fsyncs and releases.
    aof.failFsync = false;
    // What the writer's retry does with nothing left to write: fsync again.
    aof.writePending = function (this: FakeAof): boolean {
      this.writtenOffset = 10;
      return this.syncNow();
    };
    commit.cron();
    expect(aof.fsyncedOffset).toBe(10);
    expect([c.released, lone.released]).toEqual([1, 1]);
  });
});
