/**
 * Value pools the command fuzzer draws arguments from: integers and
 * doubles at the int64/double edges, NaN/inf spellings, malformed numbers,
 * empty, long and binary strings, glob patterns, and members/fields that
 * exist in the prepared dataset (so commands hit data, not only misses).
 */

import type { Rng } from './rng.js';

export const INT_EDGES = [
  '9223372036854775807', '9223372036854775808', '-9223372036854775807', '-9223372036854775808', '-9223372036854775809',
  '18446744073709551615', '18446744073709551616', '99999999999999999999999',
  '9007199254740991', '9007199254740992', '9007199254740993', '-9007199254740993',
  '2147483647', '2147483648', '-2147483648', '-2147483649', '4294967295', '4294967296',
  '0', '-0', '-1', '1', '00', '01', '+1', '-01', ' 1', '1 ', '0x10', '1e3', '1.0', '1.5', '', 'abc', '1a',
  '536870911', '536870912', '268435456', '16777216', '16777217', '65536', '65535', '1048576',
];

export const DOUBLE_EDGES = [
  'nan', 'NaN', '-nan', 'inf', '-inf', '+inf', 'Inf', 'INF', 'infinity', '-Infinity', '+infinity',
  '1e308', '-1e308', '1.7976931348623157e308', '1e309', '-1e309', '4.9e-324', '1e-400', '2.2250738585072014e-308',
  '0', '-0', '0.0', '-0.0', '.5', '5.', '+.5', '1.5', '-2.25', '3', '1e3', '1E3', '0x1p3', '0x10', ' 1', '1 ', '1e', 'e1', '--1', '1..2',
  '0.1', '1.1', '123456789.123456789', '9007199254740993', '-9223372036854775808', '9223372036854775807',
];

/** Members, fields and elements the prepared dataset uses. */
export const MEMBERS = ['m0', 'm1', 'm2', 'm3', 'm7', 'f0', 'f1', 'f2', 'f9', 'a', 'b', 'c', '0', '1', '2', '3', '10', '-1', '100', '12345', 'x', ''];

export const PATTERNS = [
  '*', '?', 'str:*', 'set:*', '*:*', 'm*', 'f?', '[a-z]*', '[^a]*', '[]', '[', '\\', 'a\\', '[\\', '*[', '[a-', '[z-a]*', 'h[^e]llo',
  '*a*a*a*a*a*a*a*a*b', '*?*?*?*?*?*?*?*?*?x', 'a'.repeat(40) + '*b', '**********x', '*\\*', '\x00*', 'nosort', 'nokey*', 'str:*->f1', 'hash:*->f0', '#',
];

export function integer(rng: Rng): string {
  return rng.weighted<() => string>([
    [35, () => String(rng.range(-3, 12))],
    [30, () => rng.pick(INT_EDGES)],
    [10, () => String(rng.range(-1000, 1000))],
    [5, () => String(rng.range(-2147483648, 2147483647))],
    [5, () => rng.pick(DOUBLE_EDGES)],
    [5, () => string(rng)],
  ])();
}

export function double(rng: Rng): string {
  return rng.weighted<() => string>([
    [30, () => rng.pick(DOUBLE_EDGES)],
    [25, () => String(rng.range(-5, 10))],
    [20, () => (rng.float() * 200 - 100).toFixed(rng.range(0, 6))],
    [10, () => rng.pick(INT_EDGES)],
    [5, () => String(rng.float() * 10 ** rng.range(-30, 30))],
    [5, () => string(rng)],
  ])();
}

/** A long string: mostly repeated letters (so globs and LCS meet long runs), sometimes random bytes. */
export function longString(rng: Rng): string {
  const n = rng.weighted([
    [60, rng.range(100, 2000)],
    [30, rng.range(2000, 70000)],
    [10, rng.range(70000, 1 << 20)],
  ]);
  return rng.chance(0.7) ? rng.pick(['a', 'x', '0', 'ab']).repeat(n).slice(0, n) : rng.bytes(Math.min(n, 5000));
}

export function string(rng: Rng): string {
  return rng.weighted<() => string>([
    [30, () => rng.pick(MEMBERS)],
    [15, () => rng.word()],
    [10, () => rng.pick(['', ' ', '\x00', '\r\n', '\x00\xff\x80', '"', "'", '\\', '\t', '\v', '\x7f'])],
    [10, () => rng.bytes(rng.range(1, 20))],
    [10, () => integer(rng)],
    [5, () => double(rng)],
    [5, () => rng.pick(PATTERNS)],
    [5, () => longString(rng)],
    [3, () => 'x'.repeat(rng.pick([63, 64, 65, 127, 128, 129]))],
  ])();
}

/** Absolute times: past, far future, edges. Near-future values are dropped later (see generator). */
export function unixTime(rng: Rng, ms: boolean): string {
  const now = ms ? Date.now() : Math.floor(Date.now() / 1000);
  const unit = ms ? 1000 : 1;
  return rng.weighted<() => string>([
    [30, () => String(now - rng.range(0, 100000) * unit)],
    [30, () => String(now + rng.range(1000, 10000000) * unit)],
    [30, () => rng.pick(INT_EDGES)],
    [10, () => integer(rng)],
  ])();
}
