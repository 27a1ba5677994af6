// DEBUG PROTOCOL <type> against redis-server, byte for byte, in RESP2 and
// RESP3 (Redis' protocol.tcl uses it to check attributes, big numbers,
// booleans, verbatim strings and push messages).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import { encodeCommand } from './helpers/resp.js';

/** Replies each type sends: an attribute or a push message comes before a real reply. */
const TYPES: [string, { resp2: number; resp3: number }][] = [
  ['string', { resp2: 1, resp3: 1 }],
  ['integer', { resp2: 1, resp3: 1 }],
  ['double', { resp2: 1, resp3: 1 }],
  ['bignum', { resp2: 1, resp3: 1 }],
  ['null', { resp2: 1, resp3: 1 }],
  ['array', { resp2: 1, resp3: 1 }],
  ['set', { resp2: 1, resp3: 1 }],
  ['map', { resp2: 1, resp3: 1 }],
  ['attrib', { resp2: 1, resp3: 2 }],
  ['push', { resp2: 1, resp3: 2 }],
  ['verbatim', { resp2: 1, resp3: 1 }],
  ['true', { resp2: 1, resp3: 1 }],
  ['false', { resp2: 1, resp3: 1 }],
  ['ATTRIB', { resp2: 1, resp3: 2 }],
  ['nosuchtype', { resp2: 1, resp3: 1 }],
];

describe.skipIf(!HAVE_REDIS)('DEBUG PROTOCOL (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
  });
  afterAll(async () => {
    await pair?.stop();
  });

  for (const resp of [2, 3] as const) {
    it(`every type in RESP${resp}, byte for byte`, async () => {
      await Promise.all([pair.redis.call('HELLO', String(resp)), pair.vireo.call('HELLO', String(resp))]);
      for (const [type, replies] of TYPES) {
        await pair.checkRaw(encodeCommand(['DEBUG', 'PROTOCOL', type]), resp === 2 ? replies.resp2 : replies.resp3);
      }
      // The connection is in step afterwards: nothing extra was sent.
      await pair.checkRaw(encodeCommand(['PING']), 1);
      await pair.check('DEBUG', 'PROTOCOL');
      await pair.check('DEBUG', 'PROTOCOL', 'string', 'x');
    });
  }

  it('RESP3 attribute bytes are those protocol.tcl reads', async () => {
    await Promise.all([pair.redis.call('HELLO', '3'), pair.vireo.call('HELLO', '3')]);
    const raw = await pair.checkRaw(encodeCommand(['DEBUG', 'PROTOCOL', 'attrib']), 2);
    expect(raw.toString('latin1')).toBe('|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n');
  });
});
