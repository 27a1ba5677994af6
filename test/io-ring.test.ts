// The message ring between the main thread and an I/O thread
// (src/server/io-threads/ring.ts), driven from one thread: both ends are
// plain objects over the same SharedArrayBuffer.
import { describe, it, expect } from 'vitest';
import { createRing, Kind, Ring } from '../src/server/io-threads/ring.js';

describe('io-threads ring', () => {
  it('carries messages in order while its positions wrap around many times', () => {
    const sab = createRing(1024);
    const producer = new Ring(sab);
    const consumer = new Ring(sab);
    const got: string[] = [];
    let sent = 0;
    for (let round = 0; round < 50; round++) {
      // Fill until the ring refuses, then drain: the positions walk around the ring many times.
      while (producer.push(sent % 7, Kind.Data, Buffer.from(`message ${sent} ${'x'.repeat(sent % 90)}`))) sent++;
      producer.push(1, Kind.Written, null, 42); // may not fit: then the next round carries on
      producer.publish(false);
      consumer.drain((conn, kind, bytes, len) => {
        if (kind === Kind.Data) got.push(`${conn}:${bytes!.toString()}`);
        else expect([kind, len]).toEqual([Kind.Written, 42]);
      });
    }
    expect(sent).toBeGreaterThan(500);
    expect(got).toEqual(Array.from({ length: sent }, (_, i) => `${i % 7}:message ${i} ${'x'.repeat(i % 90)}`));
    expect(producer.maxPayload).toBe(256);
  });

  it('peek() shows the messages the next drain() hands out, within the same budget, and takes none', () => {
    const sab = createRing(1024);
    const producer = new Ring(sab);
    const consumer = new Ring(sab);
    let sent = 0;
    for (let round = 0; round < 30; round++) {
      // Positions wrap around the ring, so peek() must step over the WRAP marks as drain() does.
      const push = (): boolean => (sent % 3 === 0 ? producer.push(sent % 5, Kind.Written, null, 7) : producer.push(sent % 5, Kind.Data, Buffer.from(`m${sent}${'y'.repeat(sent % 40)}`)));
      while (push()) sent++;
      producer.publish(false);
      const budget = round % 2 === 0 ? Infinity : 200;
      const peeked: string[] = [];
      consumer.peek((conn, kind, start, length) => peeked.push(`${conn}:${kind}:${consumer.data.latin1Slice(start, start + length)}`), budget);
      // Twice: nothing was taken.
      const again: string[] = [];
      consumer.peek((conn, kind, start, length) => again.push(`${conn}:${kind}:${consumer.data.latin1Slice(start, start + length)}`), budget);
      const drained: string[] = [];
      consumer.drain((conn, kind, bytes) => drained.push(`${conn}:${kind}:${bytes === null ? '' : bytes.latin1Slice()}`), budget);
      expect(peeked.length).toBeGreaterThan(0);
      expect(peeked).toEqual(drained);
      expect(again).toEqual(drained);
      // Whatever the budget left waits for the next drain.
      consumer.drain(() => {});
    }
    const left: number[] = [];
    consumer.peek((conn) => left.push(conn));
    expect(left).toEqual([]);
  });

  it('a consumer kept busy by its producer still lets its event loop turn: sleep() never resolves within the same turn', async () => {
    // An I/O thread drains, writes, and sleeps in a loop; with messages always waiting, a sleep()
    // resolved as a microtask never let its setImmediate callbacks run (its write acknowledgements
    // waited as long as the flow lasted, and the main thread closed fast readers at their output limit).
    const sab = createRing(4096);
    const producer = new Ring(sab);
    const consumer = new Ring(sab);
    let turns = 0;
    let drained = 0;
    setImmediate(() => turns++);
    for (let i = 0; i < 20; i++) {
      producer.push(1, Kind.Data, Buffer.from('reply'));
      producer.publish(true);
      const seen = consumer.wakeCount;
      drained += consumer.drain(() => {});
      producer.push(1, Kind.Data, Buffer.from('more')); // arrives while the consumer works
      producer.publish(true);
      await consumer.sleep(seen);
    }
    expect(drained).toBe(39);
    expect(turns).toBe(1);
  });

  it('a sleeping consumer wakes when the producer publishes with wake', async () => {
    const sab = createRing(4096);
    const producer = new Ring(sab);
    const consumer = new Ring(sab);
    const seen = consumer.wakeCount;
    let woke = false;
    const sleeping = consumer.sleep(seen).then(() => (woke = true));
    await new Promise((r) => setTimeout(r, 5));
    expect(woke).toBe(false);
    producer.push(3, Kind.Closed, null);
    producer.publish(true);
    await sleeping;
    const kinds: number[] = [];
    consumer.drain((conn, kind) => kinds.push(conn, kind));
    expect(kinds).toEqual([3, Kind.Closed]);
  });
});
