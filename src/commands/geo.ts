/**
 * Geo commands (Redis 7.2's geo.c). A geo set is a sorted set whose scores
 * are 52-bit geohashes (src/types/geohash.ts). GEOADD rewrites itself into
 * ZADD (so it logs and notifies as `zadd`); the searches scan the score
 * ranges of a centre cell and its neighbours, then sort by distance: a
 * stable full sort (glibc's qsort is a merge sort) or, when COUNT cuts the
 * result, Redis' own partial quicksort (pqsort), ported as is so equal
 * distances come out in Redis' order.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext } from './context.js';
import { ERR, argDouble, argLong, cstr, eq, lookupTyped } from './util.js';
import { storeZset, zaddGeneric } from './zsets.js';
import { ZSetValue } from '../types/zset.js';
import { pqsort } from '../util/pqsort.js';
import {
  GEO_LAT_MAX,
  GEO_LAT_MIN,
  GEO_LONG_MAX,
  GEO_LONG_MIN,
  decodeScore,
  distance,
  distanceIfWithin,
  encodeScoreText,
  formatCoordinate,
  formatDistance,
  formatFixed,
  geohashString,
  searchRanges,
  type GeoShape,
} from '../types/geohash.js';

const UNIT_ERR = 'ERR unsupported unit provided. please use M, KM, FT, MI';
const DECODE_ERR = 'ERR could not decode requested zset member';

// ---- argument helpers ----------------------------------------------------------------------

/** extractLongLatOrReply: [lon, lat] from argv[i], argv[i+1], or null after replying. */
function argLonLat(ctx: CommandContext, argv: string[], i: number): [number, number] | null {
  const lon = argDouble(ctx, argv[i]!);
  if (lon === null) return null;
  const lat = argDouble(ctx, argv[i + 1]!);
  if (lat === null) return null;
  if (lon < GEO_LONG_MIN || lon > GEO_LONG_MAX || lat < GEO_LAT_MIN || lat > GEO_LAT_MAX) {
    ctx.reply.error(`ERR invalid longitude,latitude pair ${formatFixed(lon, 6)},${formatFixed(lat, 6)}`);
    return null;
  }
  return [lon, lat];
}

/** extractUnitOrReply: meters per unit, or -1 after replying. */
function argUnit(ctx: CommandContext, arg: string): number {
  const u = cstr(arg);
  if (eq(u, 'm')) return 1;
  if (eq(u, 'km')) return 1000;
  if (eq(u, 'ft')) return 0.3048;
  if (eq(u, 'mi')) return 1609.34;
  ctx.reply.error(UNIT_ERR);
  return -1;
}

/** extractDistanceOrReply: sets shape.radius and shape.conversion; false after replying. */
function argRadius(ctx: CommandContext, argv: string[], i: number, shape: GeoShape): boolean {
  const radius = argDouble(ctx, argv[i]!, 'ERR need numeric radius');
  if (radius === null) return false;
  if (radius < 0) {
    ctx.reply.error('ERR radius cannot be negative');
    return false;
  }
  const conversion = argUnit(ctx, argv[i + 1]!);
  if (conversion < 0) return false;
  shape.box = false;
  shape.radius = radius;
  shape.conversion = conversion;
  return true;
}

/** extractBoxOrReply: sets shape.width, height and conversion; false after replying. */
function argBox(ctx: CommandContext, argv: string[], i: number, shape: GeoShape): boolean {
  const width = argDouble(ctx, argv[i]!, 'ERR need numeric width');
  if (width === null) return false;
  const height = argDouble(ctx, argv[i + 1]!, 'ERR need numeric height');
  if (height === null) return false;
  if (height < 0 || width < 0) {
    ctx.reply.error('ERR height or width cannot be negative');
    return false;
  }
  const conversion = argUnit(ctx, argv[i + 2]!);
  if (conversion < 0) return false;
  shape.box = true;
  shape.width = width;
  shape.height = height;
  shape.conversion = conversion;
  return true;
}

const xy = new Float64Array(2);

/** longLatFromMember: the member's decoded position into shape, false when it is missing. */
function centreFromMember(z: ZSetValue, member: string, shape: GeoShape): boolean {
  const score = z.score(member);
  if (score === undefined) return false;
  decodeScore(score, xy);
  shape.lon = xy[0]!;
  shape.lat = xy[1]!;
  return true;
}

// ---- GEOADD --------------------------------------------------------------------------------

/** GEOADD key [NX|XX] [CH] lon lat member ...: validated, then run as ZADD with the hashes as scores. */
function geoadd(ctx: CommandContext, argv: string[]): void {
  let nx = false;
  let xx = false;
  let longIdx = 2;
  for (; longIdx < argv.length; longIdx++) {
    const opt = cstr(argv[longIdx]!);
    if (eq(opt, 'nx')) nx = true;
    else if (eq(opt, 'xx')) xx = true;
    else if (!eq(opt, 'ch')) break; // CH is ZADD's to handle
  }
  if ((argv.length - longIdx) % 3 !== 0 || (xx && nx)) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  const zaddArgv = ['zadd'];
  for (let i = 1; i < longIdx; i++) zaddArgv.push(argv[i]!);
  for (let i = longIdx; i < argv.length; i += 3) {
    const pos = argLonLat(ctx, argv, i);
    if (pos === null) return;
    zaddArgv.push(encodeScoreText(pos[0], pos[1]), argv[i + 2]!);
  }
  zaddGeneric(ctx, zaddArgv, 0);
}

// ---- GEOPOS / GEOHASH / GEODIST ------------------------------------------------------------

function geopos(ctx: CommandContext, argv: string[]): void {
  const z = lookupTyped<ZSetValue>(ctx, argv[1]!, 'zset', false);
  if (z === null) return;
  const r = ctx.reply;
  r.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const score = z?.score(argv[j]!);
    if (score === undefined) {
      r.nullArray();
      continue;
    }
    decodeScore(score, xy);
    r.array(2);
    r.doubleText(formatCoordinate(xy[0]!));
    r.doubleText(formatCoordinate(xy[1]!));
  }
}

function geohash(ctx: CommandContext, argv: string[]): void {
  const z = lookupTyped<ZSetValue>(ctx, argv[1]!, 'zset', false);
  if (z === null) return;
  const r = ctx.reply;
  r.array(argv.length - 2);
  for (let j = 2; j < argv.length; j++) {
    const score = z?.score(argv[j]!);
    if (score === undefined) r.nullBulk();
    else r.bulk(geohashString(score));
  }
}

function geodist(ctx: CommandContext, argv: string[]): void {
  let toMeters = 1;
  if (argv.length === 5) {
    toMeters = argUnit(ctx, argv[4]!);
    if (toMeters < 0) return;
  } else if (argv.length > 5) {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  const z = lookupTyped<ZSetValue>(ctx, argv[1]!, 'zset', false);
  if (z === null) return;
  const s1 = z?.score(argv[2]!);
  const s2 = s1 === undefined ? undefined : z!.score(argv[3]!);
  if (s1 === undefined || s2 === undefined) {
    ctx.reply.nullBulk();
    return;
  }
  decodeScore(s1, xy);
  const lon1 = xy[0]!;
  const lat1 = xy[1]!;
  decodeScore(s2, xy);
  ctx.reply.bulk(formatDistance(distance(lon1, lat1, xy[0]!, xy[1]!) / toMeters));
}

// ---- searches ------------------------------------------------------------------------------

interface GeoPoint {
  member: string;
  score: number;
  /** Meters until the reply converts it to the request's unit. */
  dist: number;
  lon: number;
  lat: number;
}

/**
 * membersOfAllNeighbors: the points of the set inside the shape, box by box
 * in Redis' order; with a limit (COUNT n ANY) it stops once n are found.
 */
function pointsInShape(z: ZSetValue, shape: GeoShape, limit: number): GeoPoint[] {
  const ranges = searchRanges(shape);
  const view = z.view();
  const found: GeoPoint[] = [];
  let max = 0;
  const visit = (member: string, score: number): boolean => {
    if (!(score < max)) return false;
    decodeScore(score, xy);
    const d = distanceIfWithin(shape, xy[0]!, xy[1]!);
    if (d !== -1) found.push({ member, score, dist: d, lon: xy[0]!, lat: xy[1]! });
    return !(limit > 0 && found.length >= limit);
  };
  for (let i = 0; i < ranges.length; i += 2) {
    if (limit > 0 && found.length >= limit) break;
    const start = view.firstScoreRank(ranges[i]!, false);
    if (start >= view.size) continue;
    max = ranges[i + 1]!;
    view.walk(start, false, visit);
  }
  return found;
}

/** sort_gp_asc / sort_gp_desc. */
function byDistanceAsc(a: GeoPoint, b: GeoPoint): number {
  return a.dist > b.dist ? 1 : a.dist === b.dist ? 0 : -1;
}
function byDistanceDesc(a: GeoPoint, b: GeoPoint): number {
  return -byDistanceAsc(a, b);
}

/** Order the points as Redis does and return how many are replied or stored. */
function sortPoints(points: GeoPoint[], sort: Sort, count: number): number {
  const returned = count === 0 || points.length < count ? points.length : count;
  if (sort === Sort.None) return returned;
  const cmp = sort === Sort.Asc ? byDistanceAsc : byDistanceDesc;
  if (returned === points.length) points.sort(cmp); // stable, like glibc's merge sort
  else pqsort(points, cmp, 0, returned - 1);
  return returned;
}

const enum Sort {
  None,
  Asc,
  Desc,
}

/** Which command runs the search (Redis' georadiusGeneric flags). */
const enum Kind {
  Radius, // GEORADIUS[_RO]
  RadiusByMember, // GEORADIUSBYMEMBER[_RO]
  Search, // GEOSEARCH
  SearchStore, // GEOSEARCHSTORE
}

interface SearchOptions {
  withDist: boolean;
  withHash: boolean;
  withCoord: boolean;
  any: boolean;
  sort: Sort;
  count: number;
  storeKey: string | null;
  storeDist: boolean;
  fromMember: boolean;
  fromLonLat: boolean;
  byRadius: boolean;
  byBox: boolean;
}

/**
 * georadiusGeneric's option loop (from argv[base]). `z` is the source set
 * (undefined when missing: FROMMEMBER is then not looked up). Null after
 * replying an error.
 */
function parseSearchOptions(ctx: CommandContext, argv: string[], base: number, kind: Kind, noStore: boolean, z: ZSetValue | undefined, shape: GeoShape, opts: SearchOptions): boolean {
  const search = kind === Kind.Search || kind === Kind.SearchStore;
  const remaining = argv.length - base;
  for (let i = 0; i < remaining; i++) {
    const arg = cstr(argv[base + i]!);
    if (eq(arg, 'withdist')) opts.withDist = true;
    else if (eq(arg, 'withhash')) opts.withHash = true;
    else if (eq(arg, 'withcoord')) opts.withCoord = true;
    else if (eq(arg, 'any')) opts.any = true;
    else if (eq(arg, 'asc')) opts.sort = Sort.Asc;
    else if (eq(arg, 'desc')) opts.sort = Sort.Desc;
    else if (eq(arg, 'count') && i + 1 < remaining) {
      const count = argLong(ctx, argv[base + i + 1]!);
      if (count === null) return false;
      if (count <= 0) {
        ctx.reply.error('ERR COUNT must be > 0');
        return false;
      }
      opts.count = count;
      i++;
    } else if ((eq(arg, 'store') || eq(arg, 'storedist')) && i + 1 < remaining && !noStore && !search) {
      opts.storeKey = argv[base + i + 1]!;
      opts.storeDist = eq(arg, 'storedist');
      i++;
    } else if (eq(arg, 'storedist') && kind === Kind.SearchStore) {
      opts.storeDist = true;
    } else if (eq(arg, 'frommember') && i + 1 < remaining && search && !opts.fromLonLat) {
      // Without a source set the member is not looked up: the reply is empty anyway.
      if (z !== undefined && !centreFromMember(z, argv[base + i + 1]!, shape)) {
        ctx.reply.error(DECODE_ERR);
        return false;
      }
      opts.fromMember = true;
      i++;
    } else if (eq(arg, 'fromlonlat') && i + 2 < remaining && search && !opts.fromMember) {
      const pos = argLonLat(ctx, argv, base + i + 1);
      if (pos === null) return false;
      shape.lon = pos[0];
      shape.lat = pos[1];
      opts.fromLonLat = true;
      i += 2;
    } else if (eq(arg, 'byradius') && i + 2 < remaining && search && !opts.byBox) {
      if (!argRadius(ctx, argv, base + i + 1, shape)) return false;
      opts.byRadius = true;
      i += 2;
    } else if (eq(arg, 'bybox') && i + 3 < remaining && search && !opts.byRadius) {
      if (!argBox(ctx, argv, base + i + 1, shape)) return false;
      opts.byBox = true;
      i += 3;
    } else {
      ctx.reply.error(ERR.SYNTAX);
      return false;
    }
  }
  return true;
}

/** The option combinations Redis rejects after parsing; false after replying. */
function checkSearchOptions(ctx: CommandContext, argv: string[], kind: Kind, opts: SearchOptions): boolean {
  const search = kind === Kind.Search || kind === Kind.SearchStore;
  if (opts.storeKey !== null && (opts.withDist || opts.withHash || opts.withCoord)) {
    const what = kind === Kind.SearchStore ? 'GEOSEARCHSTORE' : 'STORE option in GEORADIUS';
    ctx.reply.error(`ERR ${what} is not compatible with WITHDIST, WITHHASH and WITHCOORD options`);
    return false;
  }
  if (search && !(opts.fromMember || opts.fromLonLat)) {
    ctx.reply.error(`ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for ${cstr(argv[0]!)}`);
    return false;
  }
  if (search && !(opts.byRadius || opts.byBox)) {
    ctx.reply.error(`ERR exactly one of BYRADIUS and BYBOX can be specified for ${cstr(argv[0]!)}`);
    return false;
  }
  if (opts.any && opts.count === 0) {
    ctx.reply.error('ERR the ANY argument requires COUNT argument');
    return false;
  }
  return true;
}

/** GEORADIUS, GEORADIUSBYMEMBER (and _RO), GEOSEARCH, GEOSEARCHSTORE: Redis' georadiusGeneric. */
function georadiusGeneric(ctx: CommandContext, argv: string[], kind: Kind, noStore: boolean): void {
  const srcIdx = kind === Kind.SearchStore ? 2 : 1;
  const z = lookupTyped<ZSetValue>(ctx, argv[srcIdx]!, 'zset', false);
  if (z === null) return;
  const shape: GeoShape = { lon: 0, lat: 0, box: false, radius: 0, width: 0, height: 0, conversion: 0 };
  let base: number;
  if (kind === Kind.Radius) {
    base = 6;
    const pos = argLonLat(ctx, argv, 2);
    if (pos === null) return;
    shape.lon = pos[0];
    shape.lat = pos[1];
    if (!argRadius(ctx, argv, 4, shape)) return;
  } else if (kind === Kind.RadiusByMember) {
    base = 5;
    // Without a source set Redis parses the options only (the reply depends on STORE).
    if (z !== undefined) {
      if (!centreFromMember(z, argv[2]!, shape)) {
        ctx.reply.error(DECODE_ERR);
        return;
      }
      if (!argRadius(ctx, argv, 3, shape)) return;
    }
  } else {
    base = kind === Kind.SearchStore ? 3 : 2;
  }
  const opts: SearchOptions = {
    withDist: false,
    withHash: false,
    withCoord: false,
    any: false,
    sort: Sort.None,
    count: 0,
    storeKey: kind === Kind.SearchStore ? argv[1]! : null,
    storeDist: false,
    fromMember: false,
    fromLonLat: false,
    byRadius: false,
    byBox: false,
  };
  if (!parseSearchOptions(ctx, argv, base, kind, noStore, z, shape, opts)) return;
  if (!checkSearchOptions(ctx, argv, kind, opts)) return;

  if (z === undefined) {
    if (opts.storeKey !== null) storeResult(ctx, argv, kind, opts, [], 0);
    else ctx.reply.array(0);
    return;
  }
  // COUNT without ANY means the nearest ones: sorted ascending unless asked otherwise.
  if (opts.count !== 0 && opts.sort === Sort.None && !opts.any) opts.sort = Sort.Asc;
  const points = pointsInShape(z, shape, opts.any ? opts.count : 0);
  if (points.length === 0 && opts.storeKey === null) {
    ctx.reply.array(0);
    return;
  }
  const returned = sortPoints(points, opts.sort, opts.count);
  for (let i = 0; i < returned; i++) points[i]!.dist /= shape.conversion;
  if (opts.storeKey !== null) storeResult(ctx, argv, kind, opts, points, returned);
  else replyPoints(ctx, opts, points, returned);
}

function replyPoints(ctx: CommandContext, opts: SearchOptions, points: GeoPoint[], returned: number): void {
  const r = ctx.reply;
  const extras = (opts.withDist ? 1 : 0) + (opts.withCoord ? 1 : 0) + (opts.withHash ? 1 : 0);
  r.array(returned);
  for (let i = 0; i < returned; i++) {
    const p = points[i]!;
    if (extras === 0) {
      r.bulk(p.member);
      continue;
    }
    r.array(extras + 1);
    r.bulk(p.member);
    if (opts.withDist) r.bulk(formatDistance(p.dist));
    if (opts.withHash) r.integer(Math.trunc(p.score));
    if (opts.withCoord) {
      r.array(2);
      r.doubleText(formatCoordinate(p.lon));
      r.doubleText(formatCoordinate(p.lat));
    }
  }
}

/** STORE / STOREDIST / GEOSEARCHSTORE: the first `returned` points become the destination set. */
function storeResult(ctx: CommandContext, argv: string[], kind: Kind, opts: SearchOptions, points: GeoPoint[], returned: number): void {
  const items: [string, number][] = [];
  let maxLen = 0;
  for (let i = 0; i < returned; i++) {
    const p = points[i]!;
    items.push([p.member, opts.storeDist ? p.dist : p.score]);
    if (p.member.length > maxLen) maxLen = p.member.length;
  }
  const event = kind === Kind.SearchStore ? 'geosearchstore' : 'georadiusstore';
  const limits = ctx.engine.limits;
  storeZset(ctx, argv, opts.storeKey!, items, event, () => {
    const z = ZSetValue.create(items.length, maxLen, limits);
    // A member can only repeat if two scanned boxes overlapped (Redis would assert): keep the first.
    for (const [m, s] of items) if (z.score(m) === undefined) z.insert(m, s, limits);
    return z;
  });
}

export const geoCommands: CommandImpl[] = [
  { name: 'geoadd', run: geoadd },
  { name: 'geopos', run: geopos },
  { name: 'geohash', run: geohash },
  { name: 'geodist', run: geodist },
  { name: 'georadius', run: (ctx, argv) => georadiusGeneric(ctx, argv, Kind.Radius, false) },
  { name: 'georadius_ro', run: (ctx, argv) => georadiusGeneric(ctx, argv, Kind.Radius, true) },
  { name: 'georadiusbymember', run: (ctx, argv) => georadiusGeneric(ctx, argv, Kind.RadiusByMember, false) },
  { name: 'georadiusbymember_ro', run: (ctx, argv) => georadiusGeneric(ctx, argv, Kind.RadiusByMember, true) },
  { name: 'geosearch', run: (ctx, argv) => georadiusGeneric(ctx, argv, Kind.Search, false) },
  { name: 'geosearchstore', run: (ctx, argv) => georadiusGeneric(ctx, argv, Kind.SearchStore, false) },
];
