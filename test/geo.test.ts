// Geo commands against redis-server (differential): random geo sets (points
// at the latitude limits, on the antimeridian, repeated coordinates, tight
// clusters) searched with every option combination by GEOSEARCH,
// GEOSEARCHSTORE, GEORADIUS[BYMEMBER][_RO]; replies must be equal byte for
// byte in RESP2 and RESP3, and so must the stored scores. Also: GEOADD's
// options, every error text and the order of the checks, DUMP/RESTORE both
// ways, COMMAND INFO/GETKEYS, and the AOF of the STORE forms replayed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS, startRedis, startVireoProcess, tempDir } from './helpers/servers.js';
import { RespClient, toJs } from './helpers/resp.js';
import fs from 'node:fs';
import path from 'node:path';
import { formatCoordinate, formatDistance, formatFixed } from '../src/types/geohash.js';

const RUNS = Number(process.env.VIREO_FC_RUNS ?? 40);
const LAT_MAX = 85.05112878;

/** A coordinate as text, in the forms clients send. */
const text = (x: number): string => String(x);

const lon: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: -180, max: 180, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(180, -180, 0, 179.99999, -179.99999, 179.5, -179.5, 13.361389, 15.087269) },
);
const lat: fc.Arbitrary<number> = fc.oneof(
  { weight: 4, arbitrary: fc.double({ min: -LAT_MAX, max: LAT_MAX, noNaN: true }) },
  { weight: 2, arbitrary: fc.constantFrom(LAT_MAX, -LAT_MAX, 85.05, -85.05, 0, 66.5, -66.5, 80.5, -80.5, 38.115556) },
);
/** Cluster centres, so searches find tens of points. */
const CENTRES: [number, number][] = [
  [13.4, 38.1],
  [179.9, 0.5],
  [-179.9, -0.5],
  [0, 84.9],
  [-100, -70],
];
const clustered: fc.Arbitrary<[number, number]> = fc
  .tuple(fc.constantFrom(...CENTRES), fc.double({ min: -0.6, max: 0.6, noNaN: true }), fc.double({ min: -0.3, max: 0.3, noNaN: true }))
  .map(([[x, y], dx, dy]) => [Math.max(-180, Math.min(180, x + dx)), Math.max(-LAT_MAX, Math.min(LAT_MAX, y + dy))]);
const point: fc.Arbitrary<[number, number]> = fc.oneof({ weight: 3, arbitrary: clustered }, { weight: 1, arbitrary: fc.tuple(lon, lat) });
const member = fc.integer({ min: 0, max: 60 }).map((i) => `m${i}`);

/** A geo set: points, with some coordinates repeated under other names. */
const geoSet: fc.Arbitrary<string[][]> = fc
  .array(fc.tuple(point, member, fc.boolean()), { minLength: 1, maxLength: 60 })
  .map((entries) => {
    const cmds: string[][] = [];
    let last: [number, number] = [0, 0];
    for (const [p, m, repeat] of entries) {
      const at = repeat ? last : p;
      cmds.push(['GEOADD', 'g', text(at[0]), text(at[1]), m]);
      last = at;
    }
    return cmds;
  });

const unit = fc.constantFrom('m', 'km', 'KM', 'ft', 'mi', 'Mi');
const radius = fc.constantFrom('0', '1', '500', '20000', '60000', '300000', '5000000', '20000000');
const shape: fc.Arbitrary<string[]> = fc.oneof(
  fc.tuple(radius, unit).map(([r, u]) => ['BYRADIUS', r, u]),
  fc.tuple(radius, radius, unit).map(([w, h, u]) => ['BYBOX', w, h, u]),
);
const withs = fc.subarray(['WITHDIST', 'WITHCOORD', 'WITHHASH']);
const order = fc.constantFrom<string[]>([], ['ASC'], ['DESC']);
const count = fc.oneof(
  fc.constant<string[]>([]),
  fc.integer({ min: 1, max: 12 }).map((n) => ['COUNT', String(n)]),
  fc.integer({ min: 1, max: 12 }).map((n) => ['COUNT', String(n), 'ANY']),
);
const from: fc.Arbitrary<string[]> = fc.oneof(
  member.map((m) => ['FROMMEMBER', m]),
  fc.oneof(clustered, fc.tuple(lon, lat)).map(([x, y]) => ['FROMLONLAT', text(x), text(y)]),
);
/** Options after the shape, shuffled as clients may send them. */
const options = (store: boolean): fc.Arbitrary<string[]> =>
  fc.tuple(store ? fc.constant<string[]>([]) : withs, order, count).chain(([w, o, c]) => fc.shuffledSubarray([w, o, c], { minLength: 3, maxLength: 3 }).map((parts) => parts.flat()));

/**
 * Reading the destination back: geohash scores must be equal; distances
 * (STOREDIST) are compared to the last bits only (DIST_CHECK): the haversine
 * runs on glibc's sin/cos/asin in Redis and V8's fdlibm ports in Vireo, and
 * the two round differently in the last bit for a few percent of arguments.
 */
const DIST_CHECK = 'distances-of';
const destination = (dist: boolean): string => (dist ? 'dstd' : 'dst');
const storedScores = (dist: boolean): string[] => (dist ? [DIST_CHECK, 'dstd'] : ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES']);

/** Members equal, scores within a few ulps (see storedScores). */
async function checkDistances(pair: DiffPair, key: string): Promise<void> {
  const [a, b] = await Promise.all([pair.redis.call('ZRANGE', key, '0', '-1', 'WITHSCORES'), pair.vireo.call('ZRANGE', key, '0', '-1', 'WITHSCORES')]);
  const x = toJs(a) as string[];
  const y = toJs(b) as string[];
  expect(y.length).toBe(x.length);
  for (let i = 0; i < x.length; i += 2) {
    expect(y[i]).toBe(x[i]);
    const d = Math.abs(Number(x[i + 1]) - Number(y[i + 1]));
    expect(d, `score of ${x[i]}: ${x[i + 1]} / ${y[i + 1]}`).toBeLessThanOrEqual(Math.abs(Number(x[i + 1])) * 1e-15);
  }
}

const search: fc.Arbitrary<string[][]> = fc.oneof(
  fc.tuple(from, shape, options(false)).map(([f, s, o]) => [['GEOSEARCH', 'g', ...f, ...s, ...o]]),
  fc.tuple(from, shape, options(true), fc.boolean()).map(([f, s, o, dist]) => [['GEOSEARCHSTORE', destination(dist), 'g', ...f, ...s, ...o, ...(dist ? ['STOREDIST'] : [])], storedScores(dist)]),
  fc.tuple(fc.constantFrom('GEORADIUS', 'GEORADIUS_RO'), point, radius, unit, options(false)).map(([c, [x, y], r, u, o]) => [[c, 'g', text(x), text(y), r, u, ...o]]),
  fc.tuple(fc.constantFrom('GEORADIUSBYMEMBER', 'GEORADIUSBYMEMBER_RO'), member, radius, unit, options(false)).map(([c, m, r, u, o]) => [[c, 'g', m, r, u, ...o]]),
  fc.tuple(fc.constantFrom('STORE', 'STOREDIST'), point, radius, unit, options(true)).map(([s, [x, y], r, u, o]) => [['GEORADIUS', 'g', text(x), text(y), r, u, ...o, s, destination(s === 'STOREDIST')], storedScores(s === 'STOREDIST')]),
  fc.tuple(member, member).map(([a, b]) => [['GEODIST', 'g', a, b], ['GEODIST', 'g', a, b, 'mi']]),
  fc.array(member, { minLength: 1, maxLength: 4 }).map((ms) => [['GEOPOS', 'g', ...ms], ['GEOHASH', 'g', ...ms]]),
);

describe.skipIf(!HAVE_REDIS)('geo (differential)', () => {
  let pair: DiffPair;
  let resp3: DiffPair;
  beforeAll(async () => {
    // A low listpack limit: sets cross both encodings.
    pair = await DiffPair.start({ 'zset-max-listpack-entries': '16' });
    resp3 = await pair.connect();
    await Promise.all([resp3.redis.call('HELLO', '3'), resp3.vireo.call('HELLO', '3')]);
  });
  afterAll(async () => {
    resp3?.close();
    await pair?.stop();
  });

  it('random sets searched with every option combination: equal replies (RESP2 and RESP3) and stored scores', async () => {
    await fc.assert(
      fc.asyncProperty(geoSet, fc.array(search, { minLength: 1, maxLength: 15 }), async (adds, searches) => {
        await pair.check('FLUSHALL');
        for (const c of adds) await pair.check(...c);
        await pair.check('ZRANGE', 'g', '0', '-1', 'WITHSCORES');
        for (const steps of searches) {
          for (const c of steps) {
            if (c[0] === DIST_CHECK) {
              await checkDistances(pair, c[1]!);
              continue;
            }
            await pair.check(...c);
            if (!c[0]!.includes('STORE') && !c.includes('STORE') && !c.includes('STOREDIST')) await resp3.check(...c);
          }
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('equal distances keep Redis order: full sorts are stable, COUNT cuts use pqsort', async () => {
    // 30 members on 3 spots: many ties, partial sorts of every length.
    const adds: string[] = [];
    for (let i = 0; i < 30; i++) adds.push(['13.1', '13.2', '13.3'][i % 3]!, '38.1', `t${(i * 7) % 30}`);
    await pair.check('GEOADD', 'ties', ...adds);
    for (let n = 1; n <= 31; n++) {
      await pair.check('GEOSEARCH', 'ties', 'FROMLONLAT', '13.0', '38.1', 'BYRADIUS', '100', 'km', 'COUNT', String(n));
      await pair.check('GEOSEARCH', 'ties', 'FROMLONLAT', '13.2', '38.1', 'BYRADIUS', '100', 'km', 'DESC', 'COUNT', String(n), 'WITHDIST');
    }
    await pair.check('GEOSEARCH', 'ties', 'FROMLONLAT', '13.2', '38.1', 'BYBOX', '100', '100', 'km', 'ASC');
  });

  it('GEOADD options, scores at the limits, and its ZADD nature', async () => {
    await pair.script([
      ['GEOADD', 'a', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
      ['GEOADD', 'a', 'NX', '1', '1', 'Palermo', '2', '2', 'new'],
      ['GEOADD', 'a', 'XX', 'CH', '1', '1', 'Palermo', '2', '2', 'other'],
      ['GEOADD', 'a', 'CH', 'NX', '3', '3', 'Catania', '4', '4', 'more'],
      ['GEOADD', 'a', 'CH', '3', '3', 'Catania'],
      ['GEOADD', 'a', 'ch', 'xx', 'ch', '3', '3', 'Catania'],
      ['ZRANGE', 'a', '0', '-1', 'WITHSCORES'],
      ['GEOADD', 'lim', '180', LAT_MAX.toString(), 'ne', '-180', '-' + LAT_MAX, 'sw', '180', '-' + LAT_MAX, 'se', '-180', String(LAT_MAX), 'nw'],
      ['GEOADD', 'lim', '-0', '-0', 'z', '1e-300', '-1e-300', 'tiny', '0x10', '0x1p-2', 'hex'],
      ['ZRANGE', 'lim', '0', '-1', 'WITHSCORES'],
      ['GEOPOS', 'lim', 'ne', 'sw', 'se', 'nw', 'z', 'tiny', 'hex', 'nope'],
      ['GEOHASH', 'lim', 'ne', 'sw', 'se', 'nw', 'z', 'tiny', 'hex', 'nope'],
      ['GEODIST', 'lim', 'ne', 'sw'],
      ['GEODIST', 'lim', 'ne', 'nw', 'km'],
      ['GEOSEARCH', 'lim', 'FROMMEMBER', 'ne', 'BYRADIUS', '30000', 'km', 'ASC', 'WITHDIST', 'WITHCOORD', 'WITHHASH'],
      // Any sorted set: its scores decode, whatever they are.
      ['ZADD', 'z', '0', 'zero', '-1', 'neg', '1e30', 'big', 'inf', 'inf', '-inf', 'ninf', '4503599627370496.5', 'frac', '9007199254740993', 'odd'],
      ['GEOPOS', 'z', 'zero', 'neg', 'big', 'inf', 'ninf', 'frac', 'odd'],
      ['GEOHASH', 'z', 'zero', 'neg', 'big', 'inf', 'ninf', 'frac', 'odd'],
      ['GEODIST', 'z', 'zero', 'neg'],
      ['GEOSEARCH', 'z', 'FROMMEMBER', 'zero', 'BYRADIUS', '1', 'km', 'WITHCOORD', 'WITHHASH'],
      ['GEOPOS', 'missing', 'a'],
      ['GEOHASH', 'missing', 'a'],
      ['GEODIST', 'missing', 'a', 'b'],
      ['GEOHASH', 'a'],
      ['GEOPOS', 'a'],
    ]);
  });

  it('errors: texts and the order Redis checks in', async () => {
    await pair.script([
      ['GEOADD', 'e', '1', '1', 'x'],
      ['SET', 's', 'v'],
      ['GEOADD', 'e', '181', '0', 'x'],
      ['GEOADD', 'e', '0', '85.06', 'x'],
      ['GEOADD', 'e', '-1e300', '-90', 'x'],
      ['GEOADD', 'e', 'inf', '0', 'x'],
      ['GEOADD', 'e', '0.0000005', '-86', 'x'],
      ['GEOADD', 'e', '180.0000005', '0', 'x'],
      ['GEOADD', 'e', '0.00000050', '-86.0000025', 'x'],
      ['GEOADD', 'e', 'x', '0', 'x'],
      ['GEOADD', 'e', '0', 'nan', 'x'],
      ['GEOADD', 'e', '1', '1', 'x', '2'],
      ['GEOADD', 'e', 'NX', 'XX', '1', '1', 'x'],
      ['GEOADD', 'e', 'GT', '1', '1', 'x'],
      ['GEOADD', 'e', 'NX', 'CH', 'XX'],
      ['GEOADD', 'e', 'CH', 'CH', 'CH'],
      ['GEOADD', 's', '1', '1', 'x'],
      ['GEOADD', 's', '1', '100', 'x'],
      ['GEOADD', 'e'],
      ['GEODIST', 'e', 'x'],
      ['GEODIST', 'e', 'x', 'x', 'yards'],
      ['GEODIST', 'e', 'x', 'x', 'km', 'extra'],
      ['GEODIST', 's', 'x', 'x', 'yards'],
      ['GEODIST', 's', 'x', 'x'],
      ['GEOPOS', 's', 'x'],
      ['GEOHASH', 's', 'x'],
      ['GEOSEARCH', 's', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0'],
      ['GEOSEARCH', 'e', 'BYRADIUS', '1', 'm', 'ASC'],
      ['geosearch', 'e', 'BYRADIUS', '1', 'm', 'ASC'],
      ['GeoSearch', 'e', 'FROMLONLAT', '0', '0', 'WITHDIST'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'FROMMEMBER', 'x', 'BYRADIUS', '1', 'm'],
      ['GEOSEARCH', 'e', 'FROMMEMBER', 'x', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm'],
      ['GEOSEARCH', 'e', 'FROMMEMBER', 'x', 'BYRADIUS', '1', 'm', 'BYBOX', '1', '1', 'm'],
      ['GEOSEARCH', 'e', 'FROMMEMBER', 'x', 'BYBOX', '1', '1', 'm', 'BYRADIUS', '1', 'm'],
      ['GEOSEARCH', 'e', 'FROMMEMBER', 'nope', 'BYRADIUS', '1', 'm'],
      ['GEOSEARCH', 'missing', 'FROMMEMBER', 'nope', 'BYRADIUS', '1', 'm'],
      ['GEOSEARCH', 'missing', 'FROMMEMBER', 'nope', 'BYRADIUS', '-1', 'm'],
      ['GEOSEARCH', 'missing', 'FROMLONLAT', '200', '0', 'BYRADIUS', '1', 'm'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', 'x', 'm'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '-1', 'm'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '-1', 'yards'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'yards'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYBOX', 'x', 'y', 'm'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYBOX', '1', 'y', 'm'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYBOX', '1', '-1', 'm'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYBOX', '1', '1', 'cm'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm', 'COUNT', '0'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm', 'COUNT', '-3'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm', 'COUNT', 'x'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm', 'COUNT'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm', 'ANY'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm', 'STORE', 'k'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm', 'STOREDIST'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm', 'BOGUS'],
      ['GEOSEARCH', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1'],
      ['GEOSEARCHSTORE', 'd', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm', 'WITHDIST'],
      ['GEOSEARCHSTORE', 'd', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm', 'WITHHASH', 'ANY'],
      ['geosearchstore', 'd', 'e', 'BYRADIUS', '1', 'm', 'STOREDIST'],
      ['GEOSEARCHSTORE', 'd', 'e', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm', 'STORE', 'k'],
      ['GEOSEARCHSTORE', 'd', 's', 'FROMLONLAT', '0', '0', 'BYRADIUS', '1', 'm'],
      ['GEORADIUS', 'e', '200', '0', '1', 'm'],
      ['GEORADIUS', 'e', '0', '0', '-1', 'm'],
      ['GEORADIUS', 'e', '0', '0', '1', 'yards'],
      ['GEORADIUS', 'e', '0', '0', '1', 'm', 'STORE', 'd', 'WITHDIST'],
      ['GEORADIUS', 'e', '0', '0', '1', 'm', 'STORE'],
      ['GEORADIUS', 'e', '0', '0', '1', 'm', 'FROMLONLAT', '0', '0'],
      ['GEORADIUS', 'e', '0', '0', '1', 'm', 'COUNT', '2', 'ANY', 'DESC', 'WITHDIST'],
      ['GEORADIUS_RO', 'e', '0', '0', '1', 'm', 'STORE', 'd'],
      ['GEORADIUS_RO', 'e', '0', '0', '1', 'm', 'STOREDIST', 'd'],
      ['GEORADIUSBYMEMBER', 'e', 'nope', '1', 'm'],
      ['GEORADIUSBYMEMBER', 'e', 'x', 'r', 'm'],
      ['GEORADIUSBYMEMBER', 'missing', 'nope', 'r', 'yards', 'WITHDIST'],
      ['GEORADIUSBYMEMBER', 'missing', 'nope', 'r', 'yards', 'BOGUS'],
      ['GEORADIUSBYMEMBER', 'missing', 'nope', '1', 'm', 'ANY'],
      ['GEORADIUSBYMEMBER', 'missing', 'nope', '1', 'm', 'STORE', 'd'],
      ['GEORADIUSBYMEMBER', 's', 'x', '1', 'm'],
      ['GEORADIUSBYMEMBER_RO', 'e', 'x', '1', 'm', 'STORE', 'd'],
    ]);
  });

  it('STORE forms: scores, STOREDIST distances, an empty result deletes the destination', async () => {
    await pair.script([
      ['GEOADD', 'src', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania', '13.5', '38', 'near'],
      ['SET', 'dst', 'string'],
      ['GEOSEARCHSTORE', 'dst', 'src', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'STOREDIST'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['GEOSEARCHSTORE', 'dst', 'src', 'FROMLONLAT', '15', '37', 'BYBOX', '400', '400', 'km', 'DESC', 'COUNT', '2'],
      ['ZRANGE', 'dst', '0', '-1', 'WITHSCORES'],
      ['GEORADIUS', 'src', '15', '37', '200', 'km', 'STOREDIST', 'd2', 'ASC', 'COUNT', '1'],
      ['ZRANGE', 'd2', '0', '-1', 'WITHSCORES'],
      ['GEORADIUSBYMEMBER', 'src', 'near', '100', 'mi', 'STORE', 'd3'],
      ['ZRANGE', 'd3', '0', '-1', 'WITHSCORES'],
      ['GEORADIUS', 'src', '0', '0', '1', 'km', 'STORE', 'd3'],
      ['EXISTS', 'd3'],
      ['GEOSEARCHSTORE', 'dst', 'nosrc', 'FROMMEMBER', 'x', 'BYRADIUS', '1', 'km'],
      ['EXISTS', 'dst'],
      ['GEORADIUSBYMEMBER', 'nosrc', 'x', '1', 'km', 'STORE', 'd2'],
      ['EXISTS', 'd2'],
      ['GEORADIUSBYMEMBER', 'nosrc', 'x', '1', 'km'],
      // Encodings of stored sets: listpack while small, skiplist past the entry or value limits.
      ['GEOSEARCHSTORE', 'enc', 'src', 'FROMLONLAT', '15', '37', 'BYRADIUS', '300', 'km'],
      ['OBJECT', 'ENCODING', 'enc'],
      ['GEOADD', 'src', '13.6', '38.1', 'x'.repeat(70)],
      ['GEOSEARCHSTORE', 'enc', 'src', 'FROMLONLAT', '15', '37', 'BYRADIUS', '300', 'km'],
      ['OBJECT', 'ENCODING', 'enc'],
      ['CONFIG', 'SET', 'zset-max-listpack-entries', '2'],
      ['GEORADIUS', 'src', '15', '37', '300', 'km', 'COUNT', '3', 'STORE', 'enc'],
      ['OBJECT', 'ENCODING', 'enc'],
      ['GEORADIUS', 'src', '15', '37', '300', 'km', 'COUNT', '2', 'STORE', 'enc'],
      ['OBJECT', 'ENCODING', 'enc'],
      ['CONFIG', 'SET', 'zset-max-listpack-entries', '16'],
    ]);
  });

  it('COMMAND INFO and COMMAND GETKEYS agree', async () => {
    for (const c of ['geoadd', 'geodist', 'geohash', 'geopos', 'georadius', 'georadius_ro', 'georadiusbymember', 'georadiusbymember_ro', 'geosearch', 'geosearchstore']) {
      await pair.check('COMMAND', 'INFO', c);
    }
    await pair.script([
      ['COMMAND', 'GETKEYS', 'GEOADD', 'k', '1', '1', 'm'],
      ['COMMAND', 'GETKEYS', 'GEORADIUS', 'k', '1', '1', '1', 'm'],
      ['COMMAND', 'GETKEYS', 'GEORADIUS', 'k', '1', '1', '1', 'm', 'STORE', 'd'],
      ['COMMAND', 'GETKEYS', 'GEORADIUS', 'k', '1', '1', '1', 'm', 'COUNT', '2', 'STOREDIST', 'd'],
      ['COMMAND', 'GETKEYS', 'GEORADIUSBYMEMBER', 'k', 'x', '1', 'm', 'STORE', 'd'],
      ['COMMAND', 'GETKEYS', 'GEOSEARCHSTORE', 'd', 's', 'FROMMEMBER', 'x', 'BYRADIUS', '1', 'm'],
      ['COMMAND', 'GETKEYS', 'GEOSEARCH', 's', 'FROMMEMBER', 'x', 'BYRADIUS', '1', 'm'],
    ]);
  });

  for (const [fromName, toName] of [
    ['redis', 'vireo'],
    ['vireo', 'redis'],
  ] as const) {
    it(`DUMP of a geo set in ${fromName} RESTOREs in ${toName} with the same scores and searches`, async () => {
      const adds: string[] = [];
      for (let i = 0; i < 40; i++) adds.push(String(13 + i / 50), String(38 + (i % 7) / 30), `p${i}`);
      await pair.check('DEL', 'small', 'big');
      await pair.check('GEOADD', 'small', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania');
      await pair.check('GEOADD', 'big', ...adds);
      const from = fromName === 'redis' ? pair.redis : pair.vireo;
      const to = toName === 'redis' ? pair.redis : pair.vireo;
      for (const k of ['small', 'big']) {
        const dump = await from.call('DUMP', k);
        expect(dump.type).toBe('bulk');
        const restored = await to.call('RESTORE', `r-${k}`, '0', (dump as { value: string }).value);
        expect(toJs(restored)).toBe('OK');
        expect(toJs(await to.call('ZRANGE', `r-${k}`, '0', '-1', 'WITHSCORES'))).toEqual(toJs(await from.call('ZRANGE', k, '0', '-1', 'WITHSCORES')));
      }
      // Both servers now hold r-* on one side only: compare each side's searches over its copy.
      const probe = ['FROMLONLAT', '13.4', '38.1', 'BYRADIUS', '60', 'km', 'ASC', 'WITHDIST', 'WITHCOORD', 'WITHHASH'];
      expect(toJs(await to.call('GEOSEARCH', 'r-big', ...probe))).toEqual(toJs(await from.call('GEOSEARCH', 'big', ...probe)));
      expect(Number(toJs(await to.call('DEL', 'r-small', 'r-big')))).toBe(2);
    });
  }
});

describe('geo reply formats (pure)', () => {
  it('%f, %.17Lf and fixedpoint: exact values, ties to even', () => {
    expect(formatFixed(0.5, 0)).toBe('0');
    expect(formatFixed(1.5, 0)).toBe('2');
    expect(formatFixed(2.5, 0)).toBe('2');
    expect(formatFixed(-0, 6)).toBe('-0.000000');
    expect(formatFixed(200, 6)).toBe('200.000000');
    expect(formatFixed(1e300, 2).length).toBe(304);
    expect(formatFixed(0.0000005, 6)).toBe('0.000000'); // 5e-7 is below the tie in binary
    expect(formatFixed(0.00000762939453125, 6)).toBe('0.000008'); // 2^-17: 0.0000076..., no tie
    expect(formatFixed(1.0000005, 6)).toBe('1.000001'); // binary value just above the tie
    expect(formatFixed(0.125, 2)).toBe('0.12');
    expect(formatFixed(0.375, 2)).toBe('0.38');
    expect(formatFixed(-0.125, 2)).toBe('-0.12');
    expect(formatFixed(Infinity, 6)).toBe('inf');
    expect(formatCoordinate(13.361389338970184)).toBe('13.36138933897018433');
    expect(formatCoordinate(-0)).toBe('0');
    expect(formatCoordinate(180)).toBe('180');
    expect(formatCoordinate(2 ** -18 * 3)).toBe('0.00001144409179688'); // exact tie, 8 is even
    expect(formatCoordinate(2 ** -18)).toBe('0.00000381469726562'); // exact tie, 2 is even
    expect(formatDistance(0)).toBe('0.0000');
    expect(formatDistance(166274.15156960033)).toBe('166274.1516');
    expect(formatDistance(0.00025)).toBe('0.0002'); // 0.00025 * 10^4 is 2.5: llrint rounds to even
    expect(formatDistance(0.00035)).toBe('0.0004'); // 3.5 -> 4
    expect(formatDistance(0.00015)).toBe('0.0001'); // 1.4999999999999998 -> 1
    expect(formatDistance(12.00004)).toBe('12.0000');
  });
});

describe.skipIf(!HAVE_REDIS)('geo AOF', () => {
  it('GEOADD is logged as ZADD, the STORE forms as sent; DEBUG LOADAOF and redis-server rebuild the same data', async () => {
    const dir = tempDir('vireo-geo-aof-');
    const v = await startVireoProcess(['--enable-debug-command', 'yes', '--appendonly', 'yes', '--appendfsync', 'always', '--save', ''], { dir });
    const c = await RespClient.connect(v.port);
    try {
      const adds: string[] = [];
      for (let i = 0; i < 30; i++) adds.push(String(13 + i / 40), String(38 + (i % 5) / 20), `p${i}`);
      for (const cmd of [
        ['GEOADD', 'g', ...adds],
        ['GEOADD', 'g', 'XX', 'CH', '13.5', '38.2', 'p1'],
        ['GEOSEARCHSTORE', 'd1', 'g', 'FROMLONLAT', '13.3', '38.1', 'BYRADIUS', '20', 'km', 'COUNT', '5', 'ANY'],
        ['GEORADIUS', 'g', '13.3', '38.1', '30', 'km', 'STORE', 'd2'],
        ['GEORADIUSBYMEMBER', 'g', 'p3', '10', 'km', 'DESC', 'COUNT', '4', 'STORE', 'd3'],
        ['GEOSEARCHSTORE', 'd4', 'g', 'FROMMEMBER', 'p0', 'BYBOX', '50', '20', 'km', 'ASC'],
        ['GEORADIUS', 'g', '0', '0', '1', 'km', 'STORE', 'd4'],
      ]) {
        expect((await c.call(...cmd)).type).not.toBe('error');
      }
      const digest = toJs(await c.call('DEBUG', 'DIGEST'));
      const aof = fs
        .readdirSync(path.join(dir, 'appendonlydir'))
        .filter((f) => f.includes('.incr.'))
        .map((f) => fs.readFileSync(path.join(dir, 'appendonlydir', f), 'latin1'))
        .join('');
      expect(aof).toContain('$4\r\nzadd\r\n');
      expect(aof).not.toContain('GEOADD');
      expect(aof).toContain('GEOSEARCHSTORE');
      expect(toJs(await c.call('DEBUG', 'LOADAOF'))).toBe('OK');
      expect(toJs(await c.call('DEBUG', 'DIGEST'))).toBe(digest);
      // redis-server replays Vireo's log to the same dataset.
      const copy = tempDir('vireo-geo-aof-copy-');
      fs.cpSync(path.join(dir, 'appendonlydir'), path.join(copy, 'appendonlydir'), { recursive: true });
      const r = await startRedis({ appendonly: 'yes', dir: copy, save: '' });
      const rc = await RespClient.connect(r.port);
      try {
        expect(toJs(await rc.call('DEBUG', 'DIGEST'))).toBe(digest);
      } finally {
        rc.close();
        await r.kill();
      }
    } finally {
      c.close();
      await v.kill();
    }
  });
});
