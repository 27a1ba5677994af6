/**
 * LOLWUT beside redis-server. The version line names each server's own
 * redis_version, so replies are compared with that replaced. Schotter's
 * first two rows have no randomness: with at most two rows of squares the
 * art is Redis' pixel for pixel (C's float arithmetic and round()). The
 * random pieces are compared by shape: lines, characters per line, the
 * colors used, the closing text.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import { infoField } from './helpers/info.js';
import type { Reply, RespClient } from './helpers/resp.js';

describe.skipIf(!HAVE_REDIS)('LOLWUT (differential)', () => {
  let pair: DiffPair;
  const versions = new Map<RespClient, string>();

  beforeAll(async () => {
    pair = await DiffPair.start();
    for (const c of [pair.redis, pair.vireo]) versions.set(c, infoField(await c.call('INFO', 'server'), 'redis_version'));
  });
  afterAll(async () => {
    await pair?.stop();
  });

  /** The reply, its version number replaced by VERSION (the same text from both servers). */
  async function lolwut(c: RespClient, ...args: string[]): Promise<Reply> {
    const r = await c.call('LOLWUT', ...args);
    if ((r.type === 'bulk' || r.type === 'verbatim') && r.value !== null) return { ...r, value: r.value.split(versions.get(c)!).join('VERSION') } as Reply;
    return r;
  }

  async function both(...args: string[]): Promise<[Reply, Reply]> {
    return [await lolwut(pair.redis, ...args), await lolwut(pair.vireo, ...args)];
  }

  it('answers the version, with or without a VERSION that has no piece', async () => {
    for (const args of [[], ['VERSION', '7'], ['VERSION', '-1'], ['VERSION', '59'], ['VERSION', '4294967297'], ['foo'], ['VERSION']]) {
      const [a, b] = await both(...args);
      expect(b, `LOLWUT ${args.join(' ')}`).toEqual(a);
    }
    const [plain] = await both();
    expect(plain).toEqual({ type: 'bulk', value: 'Redis ver. VERSION\n' });
  });

  it('refuses what is not an integer as Redis does', async () => {
    for (const args of [['VERSION', 'x'], ['VERSION', '5', 'wide'], ['VERSION', '5', '10', '1.5'], ['VERSION', '6', '80', ''], ['VERSION', '99999999999999999999']]) {
      const [a, b] = await both(...args);
      expect(b, `LOLWUT ${args.join(' ')}`).toEqual(a);
    }
  });

  it('draws Schotter pixel for pixel while no square is moved at random (two rows at most)', async () => {
    const sizes = [
      ['66', '8', '2'],
      ['10', '3', '2'],
      ['1', '1', '1'],
      ['2', '1', '1'],
      ['3', '5', '2'],
      ['120', '13', '1'],
      ['1000', '200', '2'],
      ['0', '-5', '0'],
      ['5000', '500', '1'],
    ];
    for (const size of sizes) {
      const [a, b] = await both('VERSION', '5', ...size);
      expect(b, `LOLWUT VERSION 5 ${size.join(' ')}`).toEqual(a);
    }
    // VERSION 4.9 and 5 name the same piece (VERSION takes an integer: "4" is 4.0.0, no piece).
    const [a, b] = await both('VERSION', '4', '10', '3', '2');
    expect(b).toEqual(a);
  });

  /** Lines of a piece, and its closing text. */
  function shape(r: Reply, textLines: number): { art: string[]; text: string[] } {
    if (r.type !== 'bulk' || r.value === null) throw new Error(`not a bulk string: ${JSON.stringify(r)}`);
    const lines = r.value.split('\n');
    return { art: lines.slice(0, lines.length - 1 - textLines), text: lines.slice(lines.length - 1 - textLines) };
  }

  it('draws the random pieces in the shape Redis does', async () => {
    // 200 1 40: a canvas of 400 x 15844 pixels, 2.4 MB of art (at 1000 1 200 it is 300 MB, built in one Buffer).
    for (const args of [[], ['30', '8', '6'], ['7', '2', '9'], ['200', '1', '40']]) {
      const [a, b] = await both('VERSION', '5', ...args);
      const [sa, sb] = [shape(a, 1), shape(b, 1)];
      expect(sb.text).toEqual(sa.text);
      expect(sb.art.map((l) => Buffer.from(l, 'latin1').toString('utf8').length)).toEqual(sa.art.map((l) => Buffer.from(l, 'latin1').toString('utf8').length));
      // Every character a braille pattern.
      expect(/^[\u2800-\u28ff\n]*$/.test(sb.art.map((l) => Buffer.from(l, 'latin1').toString('utf8')).join('\n'))).toBe(true);
    }
    for (const args of [[], ['10', '4'], ['1', '1'], ['200', '30']]) {
      const [a, b] = await both('VERSION', '6', ...args);
      const [sa, sb] = [shape(a, 2), shape(b, 2)];
      expect(sb.text).toEqual(sa.text);
      const cells = (lines: string[]) => lines.map((l) => l.split('\x1b[0m').length - 1);
      expect(cells(sb.art)).toEqual(cells(sa.art));
      const colors = new Set(sb.art.flatMap((l) => [...l.matchAll(/\x1b\[([0-9;]+m) \x1b\[0m/g)].map((m) => m[1])));
      for (const c of colors) expect(['0;30;40m', '0;90;100m', '0;37;47m', '0;97;107m']).toContain(c);
    }
  });

  it('answers verbatim text in RESP3', async () => {
    await pair.redis.call('HELLO', '3');
    await pair.vireo.call('HELLO', '3');
    try {
      for (const args of [[], ['VERSION', '5', '10', '3', '2']]) {
        const [a, b] = await both(...args);
        expect(a.type).toBe('verbatim');
        expect(b).toEqual(a);
      }
    } finally {
      await pair.redis.call('HELLO', '2');
      await pair.vireo.call('HELLO', '2');
    }
  });
});
