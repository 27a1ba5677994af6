// The durability gate (src/log/gate.ts): which log offset replies may
// reveal given the log's followers, who waits for more, who is told when a
// follower moves.
import { describe, expect, it } from 'vitest';
import { DurabilityGate, localFileFollower, type DurableFollower, type LocalFileState, type Waiter } from '../src/log/gate.js';

/** A command log reduced to what the gate reads. */
class FakeLog {
  offset = 0;
}

/** An AOF's state as the gate reads it, changed by the tests. */
type AofState = { -readonly [K in keyof LocalFileState]: LocalFileState[K] };

function aofState(policy: string): AofState {
  return { on: true, policy, writtenOffset: 0, fsyncedOffset: 0, lastWriteOk: true };
}

/** A replica link: acknowledges offsets, replies wait for it when `required`. */
class FakeReplica implements DurableFollower {
  readonly kind = 'replica' as const;
  readonly durableOnWrite = false;
  ack = 0;
  fack = 0;
  constructor(public required: boolean) {}
  durableOffset(): number {
    return this.ack;
  }
  fsyncedOffset(): number {
    return this.fack;
  }
  ackedOffset(): number {
    return this.ack;
  }
}

/** A client holding replies; notes its name in `order` when released. */
class FakeClient implements Waiter {
  heldUntil = 0;
  gateSlot = -1;
  constructor(
    readonly name: string,
    private readonly order: string[],
  ) {}
  releaseHeld(): void {
    this.order.push(this.name);
  }
}

function setup(policy = 'always') {
  const log = new FakeLog();
  const gate = new DurabilityGate(log);
  const aof = aofState(policy);
  gate.addFollower(localFileFollower(aof));
  const released: string[] = [];
  return { log, gate, aof, released };
}

describe('durability gate: group commit', () => {
  it('under appendfsync always holds replies until the fsync covers their offset, and releases each exactly then', () => {
    const { log, gate, aof, released } = setup('always');
    log.offset = 100;
    expect(gate.mustWait()).toBe(true);
    const a = new FakeClient('a', released);
    gate.hold(a);
    expect(a.heldUntil).toBe(100);
    log.offset = 250;
    const b = new FakeClient('b', released);
    gate.hold(b);
    expect(b.heldUntil).toBe(250);

    // Written but not fsynced: nothing goes out under `always`.
    aof.writtenOffset = 250;
    aof.fsyncedOffset = 99;
    expect(gate.release()).toBe(0);
    expect(released).toEqual([]);

    aof.fsyncedOffset = 100;
    expect(gate.durableOffset()).toBe(100);
    expect(gate.release()).toBe(1);
    expect(released).toEqual(['a']);
    expect(gate.waiting).toBe(1);

    aof.fsyncedOffset = 249;
    expect(gate.release()).toBe(0);
    aof.fsyncedOffset = 250;
    expect(gate.release()).toBe(1);
    expect(released).toEqual(['a', 'b']);
    expect(gate.waiting).toBe(0);
    expect(gate.mustWait()).toBe(false);
  });

  it('keeps the held clients in order through closes, holds of a client already held, and closes while answering', () => {
    const { log, gate, aof, released } = setup('always');
    const clients = ['a', 'b', 'c', 'd', 'e'].map((n) => new FakeClient(n, released));
    clients.forEach((c, i) => {
      log.offset = 100 * (i + 1);
      gate.hold(c);
    });
    // b's connection closes: it is never answered, the others keep their order.
    gate.forget(clients[1]!);
    expect(gate.waiting).toBe(4);
    // a writes again while held: it waits for its later offset, and keeps its place.
    log.offset = 600;
    gate.hold(clients[0]!);
    expect(gate.waiting).toBe(4);
    aof.fsyncedOffset = 400;
    expect(gate.release()).toBe(2);
    expect(released).toEqual(['c', 'd']);
    // Answering e closes a (a write error, say) before a's turn comes.
    clients[4]!.releaseHeld = () => {
      released.push('e');
      gate.forget(clients[0]!);
    };
    aof.fsyncedOffset = 500;
    expect(gate.release()).toBe(1);
    expect(released).toEqual(['c', 'd', 'e']);
    expect(gate.waiting).toBe(0);
    // Forgetting a client no longer held changes nothing.
    gate.forget(clients[0]!);
    expect(gate.waiting).toBe(0);
    aof.fsyncedOffset = 600;
    expect(gate.release()).toBe(0);
    // A client answered and closed can be held again later, once.
    log.offset = 700;
    gate.hold(clients[2]!);
    gate.hold(clients[2]!);
    expect(gate.waiting).toBe(1);
    aof.fsyncedOffset = 700;
    expect(gate.release()).toBe(1);
    expect(released).toEqual(['c', 'd', 'e', 'c']);
  });

  it('under everysec and no releases at the write, not the fsync', () => {
    for (const policy of ['everysec', 'no']) {
      const { log, gate, aof, released } = setup(policy);
      log.offset = 40;
      gate.hold(new FakeClient('a', released));
      aof.writtenOffset = 40;
      aof.fsyncedOffset = 0;
      expect(gate.durableOffset()).toBe(40);
      expect(gate.release()).toBe(1);
      expect(released).toEqual(['a']);
    }
  });

  it('the end-of-turn write suffices under everysec and no, not under always nor with a required replica', () => {
    for (const [policy, suffices] of [['everysec', true], ['no', true], ['always', false]] as const) {
      const { gate } = setup(policy);
      expect(gate.durableOnWrite()).toBe(suffices);
      // A replica that replies do not wait for changes nothing; one they wait for does.
      const replica = new FakeReplica(false);
      gate.addFollower(replica);
      expect(gate.durableOnWrite()).toBe(suffices);
      replica.required = true;
      expect(gate.durableOnWrite()).toBe(false);
    }
    // With the AOF off only the required followers count.
    const { gate, aof } = setup('always');
    aof.on = false;
    expect(gate.durableOnWrite()).toBe(true);
  });

  it('under everysec a failed write holds no reply (Redis: it is retried, replies go out)', () => {
    const { log, gate, aof, released } = setup('everysec');
    log.offset = 60;
    aof.writtenOffset = 10;
    expect(gate.mustWait()).toBe(true);
    gate.hold(new FakeClient('a', released));
    aof.lastWriteOk = false;
    expect(gate.mustWait()).toBe(false);
    expect(gate.release()).toBe(1);
    expect(released).toEqual(['a']);
  });

  it('under always a failed write keeps holding replies until the fsync', () => {
    const { log, gate, aof, released } = setup('always');
    log.offset = 60;
    gate.hold(new FakeClient('a', released));
    aof.lastWriteOk = false;
    expect(gate.mustWait()).toBe(true);
    expect(gate.release()).toBe(0);
    aof.lastWriteOk = true;
    aof.writtenOffset = aof.fsyncedOffset = 60;
    expect(gate.release()).toBe(1);
  });

  it('holds nothing while the AOF is off, and releaseAll lets everyone go', () => {
    const { log, gate, aof, released } = setup('always');
    aof.on = false;
    log.offset = 500;
    expect(gate.mustWait()).toBe(false);
    aof.on = true;
    gate.hold(new FakeClient('a', released));
    gate.hold(new FakeClient('b', released));
    gate.releaseAll();
    expect(released).toEqual(['a', 'b']);
    expect(gate.waiting).toBe(0);
  });

  it('forget drops a waiter without releasing it', () => {
    const { log, gate, aof, released } = setup('always');
    log.offset = 10;
    const a = new FakeClient('a', released);
    gate.hold(a);
    gate.forget(a);
    aof.fsyncedOffset = 10;
    expect(gate.release()).toBe(0);
    expect(released).toEqual([]);
  });
});

describe('durability gate: several followers', () => {
  it('a required replica holds replies until it acknowledges, as well as the AOF', () => {
    const { log, gate, aof, released } = setup('always');
    const replica = new FakeReplica(true);
    gate.addFollower(replica);
    log.offset = 80;
    gate.hold(new FakeClient('a', released));
    aof.writtenOffset = aof.fsyncedOffset = 80;
    expect(gate.durableOffset()).toBe(0);
    expect(gate.release()).toBe(0);
    replica.ack = 79;
    expect(gate.release()).toBe(0);
    replica.ack = 80;
    expect(gate.durableOffset()).toBe(80);
    expect(gate.release()).toBe(1);
    expect(released).toEqual(['a']);

    // Now the AOF lags behind the replica: the least durable follower decides.
    log.offset = 120;
    gate.hold(new FakeClient('b', released));
    replica.ack = 120;
    aof.writtenOffset = 120;
    aof.fsyncedOffset = 90;
    expect(gate.durableOffset()).toBe(90);
    expect(gate.release()).toBe(0);
    aof.fsyncedOffset = 120;
    expect(gate.release()).toBe(1);
    expect(released).toEqual(['a', 'b']);
  });

  it('a replica that is not required changes nothing; removing a required one stops the wait', () => {
    const { log, gate, aof } = setup('always');
    const optional = new FakeReplica(false);
    gate.addFollower(optional);
    log.offset = 30;
    aof.writtenOffset = aof.fsyncedOffset = 30;
    expect(gate.mustWait()).toBe(false);
    const required = new FakeReplica(true);
    const remove = gate.addFollower(required);
    expect(gate.mustWait()).toBe(true);
    remove();
    expect(gate.mustWait()).toBe(false);
  });

  it('with only a required replica (no AOF) replies wait for its acknowledgement', () => {
    const log = new FakeLog();
    const gate = new DurabilityGate(log);
    const replica = new FakeReplica(true);
    gate.addFollower(replica);
    log.offset = 5;
    expect(gate.mustWait()).toBe(true);
    replica.ack = 5;
    expect(gate.mustWait()).toBe(false);
  });

  it('counts followers by kind and measure (WAITAOF: local fsync; WAIT: replica acks)', () => {
    const { gate, aof } = setup('everysec');
    const r1 = new FakeReplica(false);
    const r2 = new FakeReplica(false);
    gate.addFollower(r1);
    gate.addFollower(r2);
    aof.writtenOffset = 100;
    aof.fsyncedOffset = 50;
    r1.ack = 100;
    r1.fack = 100;
    r2.ack = 100;
    r2.fack = 20;
    expect(gate.count('aof', 'fsynced', 60)).toBe(0);
    expect(gate.count('aof', 'fsynced', 50)).toBe(1);
    expect(gate.count('aof', 'acked', 100)).toBe(1);
    expect(gate.count('replica', 'acked', 100)).toBe(2);
    expect(gate.count('replica', 'fsynced', 100)).toBe(1);
    aof.on = false;
    expect(gate.count('aof', 'fsynced', 1)).toBe(0);
  });
});

describe('durability gate: advance listeners', () => {
  it('tells every listener when a follower advanced, until it unsubscribes', () => {
    const { gate, aof } = setup('everysec');
    const seen: number[] = [];
    const off = gate.onAdvance(() => seen.push(gate.count('aof', 'fsynced', 10)));
    let other = 0;
    gate.onAdvance(() => other++);
    aof.fsyncedOffset = 10;
    gate.advanced();
    expect(seen).toEqual([1]);
    expect(other).toBe(1);
    off();
    gate.advanced();
    expect(seen).toEqual([1]);
    expect(other).toBe(2);
  });

  it('a listener that unsubscribes while being called does not make the others miss the event', () => {
    const gate = new DurabilityGate(new FakeLog());
    const calls: string[] = [];
    const off = gate.onAdvance(() => {
      calls.push('first');
      off();
    });
    gate.onAdvance(() => calls.push('second'));
    gate.advanced();
    gate.advanced();
    expect(calls).toEqual(['first', 'second', 'second']);
  });
});
