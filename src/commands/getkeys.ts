/**
 * Redis' getkeys procedures (the *GetKeys functions of db.c), by command
 * name. COMMAND GETKEYS uses one when the command's key specs cannot
 * describe its arguments: a spec that is unknown (SORT's STORE can be
 * anywhere), INCOMPLETE or VARIABLE_FLAGS, or a numkeys argument that the
 * specs refuse. They are Redis' own rules, quirks included: a numkeys read
 * with atoi, keys without flags, the destination listed last.
 */

/** A key argument of a command line: its index in argv and its key-spec flags. */
export interface KeyRef {
  pos: number;
  flags: readonly string[];
}

export type GetKeysProc = (argv: readonly string[]) => KeyRef[];

const INT64_MAX = 0x7fffffffffffffffn;

/** C's atoi as glibc has it ((int) strtol): leading space, a sign, digits up to the first non-digit. */
function cAtoi(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]*)/.exec(text)!;
  if (m[2] === '') return 0;
  let n = BigInt(m[2]!);
  if (m[1] === '-') n = -n;
  // strtol saturates at the long range before the int cast.
  if (n > INT64_MAX) n = INT64_MAX;
  if (n < -INT64_MAX - 1n) n = -INT64_MAX - 1n;
  return Number(BigInt.asIntN(32, n));
}

/**
 * Redis' genericGetKeys: `numkeys` (read with atoi) input keys from
 * `firstKey` every `step`, then the destination at `storeKey` (0: none).
 * No key found when numkeys is below 1 or more than the arguments hold.
 */
function numkeysGetKeys(storeKey: number, numkeysAt: number, firstKey: number, step = 1): GetKeysProc {
  return (argv) => {
    const num = cAtoi(argv[numkeysAt] ?? '');
    if (num < 1 || num > Math.trunc((argv.length - firstKey) / step)) return [];
    const keys: KeyRef[] = [];
    for (let i = 0; i < num; i++) keys.push({ pos: firstKey + i * step, flags: [] });
    if (storeKey !== 0) keys.push({ pos: storeKey, flags: [] });
    return keys;
  };
}

const SORT_KEY: KeyRef = { pos: 1, flags: ['RO', 'ACCESS'] };

/**
 * Redis' sortGetKeys: the sorted key, and the argument after the last
 * STORE. LIMIT skips two arguments, GET and BY one; anything else none
 * (so `STORE LIMIT 0 1` stores into "LIMIT", as Redis reads it).
 */
function sortGetKeys(argv: readonly string[]): KeyRef[] {
  let store = 0;
  for (let i = 2; i < argv.length; i++) {
    const arg = argv[i]!.toLowerCase();
    if (arg === 'limit') i += 2;
    else if (arg === 'store' && i + 1 < argv.length) store = i + 1;
    else if (arg === 'get' || arg === 'by') i += 1;
  }
  return store === 0 ? [SORT_KEY] : [SORT_KEY, { pos: store, flags: ['OW', 'UPDATE'] }];
}

/** Redis' setGetKeys: only SET ... GET reads the key. */
function setGetKeys(argv: readonly string[]): KeyRef[] {
  const get = argv.slice(3).some((a) => a.toLowerCase() === 'get');
  return [{ pos: 1, flags: get ? ['RW', 'ACCESS', 'UPDATE'] : ['OW', 'UPDATE'] }];
}

/**
 * Redis' bitfieldGetKeys: the key is read-only (RO ACCESS) when every
 * subcommand is a GET or OVERFLOW with its arguments; a SET, an INCRBY or
 * anything it cannot read makes it RW ACCESS UPDATE.
 */
function bitfieldGetKeys(argv: readonly string[]): KeyRef[] {
  let readOnly = true;
  for (let i = 2; i < argv.length && readOnly; i++) {
    const remaining = argv.length - i - 1;
    const arg = argv[i]!.toLowerCase();
    if (arg === 'get' && remaining >= 2) i += 2;
    else if (arg === 'overflow' && remaining >= 1) i += 1;
    else readOnly = false;
  }
  return [{ pos: 1, flags: readOnly ? ['RO', 'ACCESS'] : ['RW', 'ACCESS', 'UPDATE'] }];
}

/**
 * Redis' xreadGetKeys: the first half of the arguments after STREAMS (the
 * other half are IDs). Options before it are skipped with their values, so
 * a group or key named STREAMS is not taken for the keyword; none when the
 * arguments after it are missing or odd in number.
 */
function xreadGetKeys(argv: readonly string[]): KeyRef[] {
  let streams = -1;
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!.toLowerCase();
    if (arg === 'block' || arg === 'count') i++;
    else if (arg === 'group') i += 2;
    else if (arg === 'streams') {
      streams = i;
      break;
    } else if (arg !== 'noack') break;
  }
  const args = argv.length - streams - 1;
  if (streams === -1 || args === 0 || args % 2 !== 0) return [];
  const keys: KeyRef[] = [];
  for (let i = streams + 1; i < streams + 1 + args / 2; i++) keys.push({ pos: i, flags: [] });
  return keys;
}

/** MIGRATE's options before KEYS, and how many arguments each takes (db.c's skip_keywords). */
const MIGRATE_OPTION_ARGS: ReadonlyMap<string, number> = new Map([
  ['copy', 0],
  ['replace', 0],
  ['auth', 1],
  ['auth2', 2],
]);
const MIGRATE_KEY_FLAGS = ['RW', 'ACCESS', 'DELETE'];

/**
 * migrateGetKeys: the key at 3, or with KEYS every argument after it (none
 * when the key argument is not empty: the command refuses that form).
 */
function migrateGetKeys(argv: readonly string[]): KeyRef[] {
  let first = 3;
  let num = 1;
  for (let i = 6; i < argv.length; i++) {
    const arg = argv[i]!.toLowerCase();
    if (arg === 'keys') {
      if (argv[3]!.length > 0) return [];
      first = i + 1;
      num = argv.length - first;
      break;
    }
    i += MIGRATE_OPTION_ARGS.get(arg) ?? 0;
  }
  const keys: KeyRef[] = [];
  for (let i = 0; i < num; i++) keys.push({ pos: first + i, flags: MIGRATE_KEY_FLAGS });
  return keys;
}

const zunionInterDiffStoreGetKeys = numkeysGetKeys(1, 2, 3);
const zunionInterDiffGetKeys = numkeysGetKeys(0, 1, 2);

/**
 * The procedures of the implemented commands (as in db.c), for the
 * commands whose key specs cannot name all their keys.
 */
export const GETKEYS_PROCS: Readonly<Record<string, GetKeysProc>> = {
  set: setGetKeys,
  bitfield: bitfieldGetKeys,
  sort: sortGetKeys,
  sort_ro: () => [SORT_KEY],
  zunionstore: zunionInterDiffStoreGetKeys,
  zinterstore: zunionInterDiffStoreGetKeys,
  zdiffstore: zunionInterDiffStoreGetKeys,
  zunion: zunionInterDiffGetKeys,
  zinter: zunionInterDiffGetKeys,
  zdiff: zunionInterDiffGetKeys,
  zintercard: zunionInterDiffGetKeys,
  sintercard: numkeysGetKeys(0, 1, 2),
  lmpop: numkeysGetKeys(0, 1, 2),
  zmpop: numkeysGetKeys(0, 1, 2),
  // After the timeout: blmpopGetKeys / bzmpopGetKeys.
  blmpop: numkeysGetKeys(0, 2, 3),
  bzmpop: numkeysGetKeys(0, 2, 3),
  // evalGetKeys and functionGetKeys: numkeys after the script or function.
  eval: numkeysGetKeys(0, 2, 3),
  evalsha: numkeysGetKeys(0, 2, 3),
  eval_ro: numkeysGetKeys(0, 2, 3),
  evalsha_ro: numkeysGetKeys(0, 2, 3),
  fcall: numkeysGetKeys(0, 2, 3),
  fcall_ro: numkeysGetKeys(0, 2, 3),
  xread: xreadGetKeys,
  xreadgroup: xreadGetKeys,
  migrate: migrateGetKeys,
};
