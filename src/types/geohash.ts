/**
 * Geohash arithmetic as Redis 7.2 does it (geohash.c, geohash_helper.c):
 * a point is stored as a sorted-set score, the 52-bit interleaving of its
 * 26-bit latitude and longitude cell indexes (latitude in the even bits).
 * Searches cover a centre cell and its 8 neighbours at a step estimated
 * from the radius, each cell being one contiguous score range.
 *
 * Indexes are kept as plain numbers (a cell is a latitude and a longitude
 * index) instead of 64-bit interleaved words; the only place Redis lets
 * bits overflow (an offset of exactly 1.0, i.e. latitude 85.05112878 or
 * longitude 180, gives index 2^step) is reproduced by keeping index 2^step.
 */

export const GEO_LAT_MIN = -85.05112878;
export const GEO_LAT_MAX = 85.05112878;
export const GEO_LONG_MIN = -180;
export const GEO_LONG_MAX = 180;
export const GEO_STEP_MAX = 26;

const D_R = Math.PI / 180.0;
export const EARTH_RADIUS_IN_METERS = 6372797.560856;
const MERCATOR_MAX = 20037726.37;
const TWO_32 = 4294967296;

// ---- bit interleaving --------------------------------------------------------------------

/** The low 16 bits of v spread to the even bit positions of a 32-bit word. */
function spread16(v: number): number {
  v &= 0xffff;
  v = (v | (v << 8)) & 0x00ff00ff;
  v = (v | (v << 4)) & 0x0f0f0f0f;
  v = (v | (v << 2)) & 0x33333333;
  return (v | (v << 1)) & 0x55555555;
}

/** The even bits of a 32-bit word gathered into 16 bits. */
function squeeze16(v: number): number {
  v &= 0x55555555;
  v = (v | (v >>> 1)) & 0x33333333;
  v = (v | (v >>> 2)) & 0x0f0f0f0f;
  v = (v | (v >>> 4)) & 0x00ff00ff;
  return (v | (v >>> 8)) & 0x0000ffff;
}

/** interleave64(lat, lon) as [high 32 bits, low 32 bits]; indexes up to 2^27. */
function interleaveHigh(lat: number, lon: number): number {
  return (spread16(lat >>> 16) | (spread16(lon >>> 16) << 1)) >>> 0;
}
function interleaveLow(lat: number, lon: number): number {
  return (spread16(lat) | (spread16(lon) << 1)) >>> 0;
}

/** The interleaved value as a double (correctly rounded when above 2^53, as C's uint64 -> double). */
function interleaved(lat: number, lon: number): number {
  return interleaveHigh(lat, lon) * TWO_32 + interleaveLow(lat, lon);
}

// ---- encode / decode -----------------------------------------------------------------------

/** geohashEncode's cell indexes of a point inside [latMin, latMax] x [lonMin, lonMax] (no range check). */
function cellIndex(v: number, min: number, max: number, step: number): number {
  const offset = ((v - min) / (max - min)) * Math.pow(2, step);
  return Math.floor(offset); // uint32_t conversion of a value in [0, 2^step]
}

/** The GEOADD score of a point: the 52-bit hash at step 26, as ZADD would parse its decimal text. */
export function encodeScore(lon: number, lat: number): number {
  const ilat = cellIndex(lat, GEO_LAT_MIN, GEO_LAT_MAX, GEO_STEP_MAX);
  const ilon = cellIndex(lon, GEO_LONG_MIN, GEO_LONG_MAX, GEO_STEP_MAX);
  return interleaved(ilat, ilon);
}

/** The exact decimal text of encodeScore (GEOADD rewrites itself into ZADD with it). */
export function encodeScoreText(lon: number, lat: number): string {
  const ilat = cellIndex(lat, GEO_LAT_MIN, GEO_LAT_MAX, GEO_STEP_MAX);
  const ilon = cellIndex(lon, GEO_LONG_MIN, GEO_LONG_MAX, GEO_STEP_MAX);
  const hi = interleaveHigh(ilat, ilon);
  const lo = interleaveLow(ilat, ilon);
  if (hi < 0x200000) return String(hi * TWO_32 + lo); // below 2^53: exact
  return ((BigInt(hi) << 32n) + BigInt(lo)).toString();
}

/** C's (uint64_t)score on x86-64, split into 32-bit halves [hi, lo]. */
function toUint64Halves(score: number, out: Uint32Array): void {
  if (score >= 0 && score < 18446744073709551616) {
    const t = Math.trunc(score);
    const hi = Math.floor(t / TWO_32);
    out[0] = hi;
    out[1] = t - hi * TWO_32;
    return;
  }
  if (score < 0 && score > -9223372036854775808) {
    const t = Math.trunc(score);
    if (t === 0) {
      out[0] = 0;
      out[1] = 0;
      return;
    }
    // Two's complement of a negative int64.
    const hiSigned = Math.floor(t / TWO_32);
    out[0] = hiSigned + TWO_32;
    out[1] = t - hiSigned * TWO_32;
    return;
  }
  // NaN, -inf and values <= -2^63 convert to the "indefinite" 0x8000000000000000;
  // values >= 2^64 come out as 0 (the compiler's subtract-2^63-then-flip path).
  out[0] = score >= 18446744073709551616 ? 0 : 0x80000000;
  out[1] = 0;
}

const halves = new Uint32Array(2);

/**
 * decodeGeohash: the centre of the step-26 cell of a score, clamped to the
 * coordinate limits, written to out[0] (longitude) and out[1] (latitude).
 * Any score decodes (Redis never fails here).
 */
export function decodeScore(score: number, out: Float64Array): void {
  toUint64Halves(score, halves);
  const hi = halves[0]!;
  const lo = halves[1]!;
  const ilat = (squeeze16(lo) | (squeeze16(hi) << 16)) >>> 0;
  const ilon = (squeeze16(lo >>> 1) | (squeeze16(hi >>> 1) << 16)) >>> 0;
  const cells = 67108864; // 2^26
  const latScale = GEO_LAT_MAX - GEO_LAT_MIN;
  const lonScale = GEO_LONG_MAX - GEO_LONG_MIN;
  const latMin = GEO_LAT_MIN + (ilat / cells) * latScale;
  // C adds 1 to a uint32_t: 0xffffffff wraps to 0.
  const latMax = GEO_LAT_MIN + (((ilat + 1) >>> 0) / cells) * latScale;
  const lonMin = GEO_LONG_MIN + (ilon / cells) * lonScale;
  const lonMax = GEO_LONG_MIN + (((ilon + 1) >>> 0) / cells) * lonScale;
  let lon = (lonMin + lonMax) / 2;
  if (lon > GEO_LONG_MAX) lon = GEO_LONG_MAX;
  if (lon < GEO_LONG_MIN) lon = GEO_LONG_MIN;
  let lat = (latMin + latMax) / 2;
  if (lat > GEO_LAT_MAX) lat = GEO_LAT_MAX;
  if (lat < GEO_LAT_MIN) lat = GEO_LAT_MIN;
  out[0] = lon;
  out[1] = lat;
}

const GEO_ALPHABET = '0123456789bcdefghjkmnpqrstuvwxyz';

/**
 * GEOHASH's 11-character string: the decoded point re-encoded on the
 * standard -90..90 latitude range; the 11th character is always '0'.
 */
export function geohashString(score: number): string {
  const xy = new Float64Array(2);
  decodeScore(score, xy);
  const ilat = cellIndex(xy[1]!, -90, 90, GEO_STEP_MAX);
  const ilon = cellIndex(xy[0]!, GEO_LONG_MIN, GEO_LONG_MAX, GEO_STEP_MAX);
  // The low 52 bits (only those are read), exact in a double.
  const bits = (interleaveHigh(ilat, ilon) & 0xfffff) * TWO_32 + interleaveLow(ilat, ilon);
  let s = '';
  for (let i = 0; i < 10; i++) s += GEO_ALPHABET[Math.floor(bits / Math.pow(2, 52 - (i + 1) * 5)) % 32];
  return s + '0';
}

// ---- distances -----------------------------------------------------------------------------

function degRad(ang: number): number {
  return ang * D_R;
}
function radDeg(ang: number): number {
  return ang / D_R;
}

/** geohashGetLatDistance. */
export function latDistance(lat1d: number, lat2d: number): number {
  return EARTH_RADIUS_IN_METERS * Math.abs(degRad(lat2d) - degRad(lat1d));
}

/** geohashGetDistance: haversine on Redis' earth radius. */
export function distance(lon1d: number, lat1d: number, lon2d: number, lat2d: number): number {
  const lon1r = degRad(lon1d);
  const lon2r = degRad(lon2d);
  const v = Math.sin((lon2r - lon1r) / 2);
  if (v === 0.0) return latDistance(lat1d, lat2d);
  const lat1r = degRad(lat1d);
  const lat2r = degRad(lat2d);
  const u = Math.sin((lat2r - lat1r) / 2);
  const a = u * u + Math.cos(lat1r) * Math.cos(lat2r) * v * v;
  return 2.0 * EARTH_RADIUS_IN_METERS * Math.asin(Math.sqrt(a));
}

// ---- search shapes and areas ---------------------------------------------------------------

/** A GEOSEARCH area: a circle (radius) or an axis-aligned box, sizes in the request's unit. */
export interface GeoShape {
  lon: number;
  lat: number;
  box: boolean;
  radius: number;
  width: number;
  height: number;
  /** Meters per unit. */
  conversion: number;
}

/**
 * geoWithinShape for an already decoded point: its distance in meters from
 * the centre, or -1 when outside.
 */
export function distanceIfWithin(shape: GeoShape, lon: number, lat: number): number {
  if (!shape.box) {
    const radiusM = shape.radius * shape.conversion;
    // The great-circle distance is never below the latitude difference's
    // arc: a point that far north or south is outside without the
    // trigonometry (most candidates of the 9 cells are). The margin keeps
    // points within rounding of the edge for the exact computation below.
    if (latDistance(shape.lat, lat) > radiusM * (1 + 1e-9)) return -1;
    const d = distance(shape.lon, shape.lat, lon, lat);
    return d > radiusM ? -1 : d;
  }
  const heightM = shape.height * shape.conversion;
  const widthM = shape.width * shape.conversion;
  if (latDistance(lat, shape.lat) > heightM / 2) return -1;
  if (distance(lon, lat, shape.lon, lat) > widthM / 2) return -1;
  return distance(shape.lon, shape.lat, lon, lat);
}

/** geohashEstimateStepsByRadius. */
export function estimateSteps(rangeMeters: number, lat: number): number {
  if (rangeMeters === 0) return 26;
  let step = 1;
  while (rangeMeters < MERCATOR_MAX) {
    rangeMeters *= 2;
    step++;
  }
  step -= 2;
  if (lat > 66 || lat < -66) {
    step--;
    if (lat > 80 || lat < -80) step--;
  }
  if (step < 1) step = 1;
  if (step > 26) step = 26;
  return step;
}

/** A cell at some step; `zero` marks a neighbour Redis excluded (GZERO). */
interface Cell {
  lat: number;
  lon: number;
  zero: boolean;
}

interface Area {
  latMin: number;
  latMax: number;
  lonMin: number;
  lonMax: number;
}

function decodeCell(c: Cell, step: number): Area {
  const cells = Math.pow(2, step);
  const latScale = GEO_LAT_MAX - GEO_LAT_MIN;
  const lonScale = GEO_LONG_MAX - GEO_LONG_MIN;
  return {
    latMin: GEO_LAT_MIN + (c.lat / cells) * latScale,
    latMax: GEO_LAT_MIN + ((c.lat + 1) / cells) * latScale,
    lonMin: GEO_LONG_MIN + (c.lon / cells) * lonScale,
    lonMax: GEO_LONG_MIN + ((c.lon + 1) / cells) * lonScale,
  };
}

/**
 * geohash_move_x / geohash_move_y: the moved index wraps modulo 2^step (the
 * mask drops any overflow bit); the other index is left as it is.
 */
function moved(c: Cell, dLat: number, dLon: number, step: number): Cell {
  const cells = Math.pow(2, step);
  return {
    lat: dLat === 0 ? c.lat : (((c.lat + dLat) % cells) + cells) % cells,
    lon: dLon === 0 ? c.lon : (((c.lon + dLon) % cells) + cells) % cells,
    zero: false,
  };
}

/** The centre cell and its neighbours, in Redis' search order: self, N, S, E, W, NE, NW, SE, SW. */
function neighbourhood(lon: number, lat: number, step: number): Cell[] {
  const centre: Cell = {
    lat: cellIndex(lat, GEO_LAT_MIN, GEO_LAT_MAX, step),
    lon: cellIndex(lon, GEO_LONG_MIN, GEO_LONG_MAX, step),
    zero: false,
  };
  return [
    centre,
    moved(centre, 1, 0, step),
    moved(centre, -1, 0, step),
    moved(centre, 0, 1, step),
    moved(centre, 0, -1, step),
    moved(centre, 1, 1, step),
    moved(centre, 1, -1, step),
    moved(centre, -1, 1, step),
    moved(centre, -1, -1, step),
  ];
}

const N = 1;
const S = 2;
const E = 3;
const W = 4;
const NE = 5;
const NW = 6;
const SE = 7;
const SW = 8;

/** geohashBoundingBox: [minLon, minLat, maxLon, maxLat]. */
function boundingBox(shape: GeoShape): [number, number, number, number] {
  const height = shape.conversion * (shape.box ? shape.height / 2 : shape.radius);
  const width = shape.conversion * (shape.box ? shape.width / 2 : shape.radius);
  const latDelta = radDeg(height / EARTH_RADIUS_IN_METERS);
  const lonDeltaTop = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(shape.lat + latDelta)));
  const lonDeltaBottom = radDeg(width / EARTH_RADIUS_IN_METERS / Math.cos(degRad(shape.lat - latDelta)));
  const southern = shape.lat < 0;
  const lonDelta = southern ? lonDeltaBottom : lonDeltaTop;
  return [shape.lon - lonDelta, shape.lat - latDelta, shape.lon + lonDelta, shape.lat + latDelta];
}

/**
 * geohashCalculateAreasByShapeWGS84 + membersOfAllNeighbors' box walk: the
 * score ranges [min, max) to scan, flat as min0, max0, min1, max1, ... in
 * Redis' order, without the excluded neighbours and without a box equal to
 * the one scanned just before it (as Redis skips; it never compares with
 * the centre box itself).
 */
export function searchRanges(shape: GeoShape): number[] {
  const [minLon, minLat, maxLon, maxLat] = boundingBox(shape);
  let radiusMeters = shape.box ? Math.sqrt((shape.width / 2) * (shape.width / 2) + (shape.height / 2) * (shape.height / 2)) : shape.radius;
  radiusMeters *= shape.conversion;
  let steps = estimateSteps(radiusMeters, shape.lat);
  let cells = neighbourhood(shape.lon, shape.lat, steps);

  // The estimated step can leave an edge of the area outside the neighbours: one step coarser then.
  const north = decodeCell(cells[N]!, steps);
  const south = decodeCell(cells[S]!, steps);
  const east = decodeCell(cells[E]!, steps);
  const west = decodeCell(cells[W]!, steps);
  const decrease = north.latMax < maxLat || south.latMin > minLat || east.lonMax < maxLon || west.lonMin > minLon;
  if (steps > 1 && decrease) {
    steps--;
    cells = neighbourhood(shape.lon, shape.lat, steps);
  }
  const area = decodeCell(cells[0]!, steps);

  // Neighbours beyond the area are useless.
  if (steps >= 2) {
    const zero = (...idx: number[]): void => {
      for (const i of idx) cells[i]!.zero = true;
    };
    if (area.latMin < minLat) zero(S, SW, SE);
    if (area.latMax > maxLat) zero(N, NE, NW);
    if (area.lonMin < minLon) zero(W, SW, NW);
    if (area.lonMax > maxLon) zero(E, SE, NE);
  }

  const shift = Math.pow(2, 52 - steps * 2);
  const ranges: number[] = [];
  let last = 0;
  for (let i = 0; i < cells.length; i++) {
    const c = cells[i]!;
    if (c.zero) continue;
    const prev = cells[last]!;
    if (last !== 0 && c.lat === prev.lat && c.lon === prev.lon) continue;
    ranges.push(...boxScores(c, shift));
    last = i;
  }
  return ranges;
}

/** scoresOfGeoHashBox: [hash << shift, (hash + 1) << shift) as doubles. */
function boxScores(c: Cell, shift: number): [number, number] {
  const hi = interleaveHigh(c.lat, c.lon);
  const lo = interleaveLow(c.lat, c.lon);
  const min = (hi * TWO_32 + lo) * shift;
  const max = lo === 0xffffffff ? (hi + 1) * TWO_32 * shift : (hi * TWO_32 + lo + 1) * shift;
  return [min, max];
}

// ---- reply formatting ----------------------------------------------------------------------

/**
 * fixedpoint_d2string(d, 4), Redis 7.2's distance format: d * 10^4 rounded
 * half to even (llrint), printed with 4 decimals.
 */
export function formatDistance(d: number): string {
  if (d === 0) return '0.0000';
  const scaled = d * 10000;
  // llrint of NaN (asin of a rounded-up 1.0...01 for antipodes) gives LLONG_MIN, printed
  // as below; real distances stay far under 2^53 / 10^4, where this arithmetic is exact.
  if (!(Math.abs(scaled) < 9007199254740992)) return '-922337203685477.5808';
  let r = Math.floor(scaled);
  const frac = scaled - r;
  if (frac > 0.5 || (frac === 0.5 && r % 2 !== 0)) r += 1;
  const neg = r < 0;
  if (neg) r = -r;
  const int = Math.floor(r / 10000);
  const dec = String(r - int * 10000).padStart(4, '0');
  return (neg ? '-' : '') + String(int) + '.' + dec;
}

/**
 * C's printf("%.<n>f") of a double: the exact binary value rounded to n
 * decimals, ties to even (toFixed rounds ties away from zero), "-0.0..."
 * for negative zero, inf/-inf/nan spelled out.
 */
export function formatFixed(x: number, n: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x < 0 ? '-inf' : 'inf';
  const neg = x < 0 || Object.is(x, -0);
  const ax = Math.abs(x);
  let s: string;
  if (ax >= 1e21) {
    // Integral; toFixed would switch to exponent notation.
    s = BigInt(ax).toString() + (n > 0 ? '.' + '0'.repeat(n) : '');
  } else {
    s = ax.toFixed(n);
    // An exact tie needs ax * 2^(n+1) integral (then n+1 decimals are exact).
    if (Number.isInteger(ax * Math.pow(2, n + 1))) {
      const exact = ax.toFixed(n + 1);
      if (exact.endsWith('5')) s = roundTieToEven(exact);
    }
  }
  return neg ? '-' + s : s;
}

/** A non-negative exact text ending in the tie digit 5, rounded one decimal shorter, half to even. */
function roundTieToEven(exact: string): string {
  const body = exact.slice(0, -1);
  const dot = body.indexOf('.');
  const fracLen = dot < 0 ? 0 : body.length - dot - 1;
  let digits = BigInt(body.replace('.', ''));
  if (digits % 2n === 1n) digits += 1n;
  if (fracLen === 0) return digits.toString();
  const text = digits.toString().padStart(fracLen + 1, '0');
  return text.slice(0, text.length - fracLen) + '.' + text.slice(text.length - fracLen);
}

/**
 * ld2string(LD_STR_HUMAN) of a double (how GEOPOS and WITHCOORD print):
 * "%.17Lf" with trailing zeros and a bare dot removed; "-0" prints "0".
 */
export function formatCoordinate(x: number): string {
  let s = formatFixed(x, 17);
  if (s.indexOf('.') >= 0) {
    let end = s.length;
    while (s.charCodeAt(end - 1) === 48) end--;
    if (s[end - 1] === '.') end--;
    s = s.slice(0, end);
  }
  return s === '-0' ? '0' : s;
}
