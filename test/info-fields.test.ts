// INFO's field set against redis-server 7.0: the same commands on both, then
// every field the reference reports in each section must be in Vireo's (Vireo
// may add its own), with a value of the same kind (integer, ratio, percentage,
// size, key=value list, text). MEMORY STATS: the same keys in the same order,
// with the same reply types, as 7.0 plus Redis 7.2's changes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DiffPair } from './helpers/differential.js';
import { HAVE_REDIS } from './helpers/servers.js';
import type { Reply } from './helpers/resp.js';

/** The sections INFO EVERYTHING prints, in Redis' order. */
const SECTIONS = ['Server', 'Clients', 'Memory', 'Persistence', 'Stats', 'Replication', 'CPU', 'Modules', 'Commandstats', 'Errorstats', 'Latencystats', 'Cluster', 'Keyspace'];

/** Fields of redis-server 7.0 that Vireo need not report, and why. */
const EXCLUDED: Record<string, string> = {};

type Sections = Map<string, Map<string, string>>;

function parseInfo(text: string): Sections {
  const out: Sections = new Map();
  let current: Map<string, string> | null = null;
  for (const line of text.split('\r\n')) {
    if (line.startsWith('# ')) out.set(line.slice(2), (current = new Map()));
    else if (line !== '' && current !== null) {
      const colon = line.indexOf(':');
      current.set(line.slice(0, colon), line.slice(colon + 1));
    }
  }
  return out;
}

/** What kind of value a field holds, as a parser of INFO would read it. */
function kindOf(value: string): string {
  if (/^-?\d+$/.test(value)) return 'integer';
  if (/^-?\d+\.\d+$/.test(value)) return 'decimal';
  if (/^-?\d+(\.\d+)?%$/.test(value)) return 'percentage';
  if (/^\d+(\.\d+)?[BKMGTP]$/.test(value)) return 'human size';
  if (/^[\w.]+=[^,]*(,[\w.-]+=[^,]*)*$/.test(value)) return `list of ${value.split(',').map((kv) => kv.split('=')[0]).join(',')}`;
  return 'text';
}

function text(r: Reply): string {
  if (r.type === 'bulk' && r.value !== null) return r.value;
  if (r.type === 'verbatim') return r.value.slice(4);
  throw new Error(`not a text reply: ${JSON.stringify(r)}`);
}

describe.skipIf(!HAVE_REDIS)('INFO field sets (differential)', () => {
  let pair: DiffPair;
  let redisInfo: Sections;
  let vireoInfo: Sections;

  beforeAll(async () => {
    pair = await DiffPair.start();
    // Lines in errorstats, commandstats, latencystats and keyspace on both.
    for (const cmd of [
      ['PING'],
      ['SET', 'k', '1'],
      ['GET', 'k'],
      ['LPUSH', 'k', 'x'],
      ['SET', 'ttl', 'v', 'EX', '100'],
      ['SELECT', '3'],
      ['SET', 'other', 'v'],
      ['NOSUCHCOMMAND'],
    ]) {
      await pair.check(...cmd);
    }
    const [a, b] = await Promise.all([pair.redis.call('INFO', 'EVERYTHING'), pair.vireo.call('INFO', 'EVERYTHING')]);
    redisInfo = parseInfo(text(a));
    vireoInfo = parseInfo(text(b));
  });
  afterAll(async () => {
    await pair?.stop();
  });

  it('prints the sections in Redis order', () => {
    expect([...redisInfo.keys()]).toEqual(SECTIONS);
    expect([...vireoInfo.keys()]).toEqual(SECTIONS);
  });

  it.each(SECTIONS)('reports every field of the %s section, with values of the same kind', (section) => {
    const theirs = redisInfo.get(section)!;
    const ours = vireoInfo.get(section)!;
    const missing = [...theirs.keys()].filter((f) => !ours.has(f) && EXCLUDED[f] === undefined);
    expect(missing, `${section} fields Vireo lacks`).toEqual([]);
    const kinds = [...theirs.entries()]
      .filter(([f]) => ours.has(f))
      .map(([f, v]) => [f, kindOf(v), kindOf(ours.get(f)!)])
      .filter(([, a, b]) => a !== b);
    expect(kinds, `${section} fields whose value kinds differ: [field, redis, vireo]`).toEqual([]);
  });

  it('keeps the memory fields consistent with each other', () => {
    const m = vireoInfo.get('Memory')!;
    const n = (f: string) => Number(m.get(f));
    expect(n('used_memory_overhead')).toBeGreaterThanOrEqual(n('used_memory_startup'));
    expect(n('used_memory_dataset')).toBe(Math.max(0, n('used_memory') - n('used_memory_overhead')));
    expect(n('allocator_frag_bytes')).toBe(n('allocator_active') - n('allocator_allocated'));
    expect(n('allocator_rss_bytes')).toBe(n('allocator_resident') - n('allocator_active'));
    expect(n('mem_fragmentation_bytes')).toBe(n('used_memory_rss') - n('vireo_runtime_rss') - n('used_memory'));
    expect(n('allocator_allocated')).toBeGreaterThanOrEqual(n('used_memory'));
    // One normal client (the test's) with its query buffer: at least Vireo's per-client overhead.
    expect(n('mem_clients_normal')).toBeGreaterThan(0);
  });
});

/** MEMORY STATS as [key, reply type] pairs (a db's map as its keys). */
function statsShape(r: Reply): [string, string][] {
  const items = r.type === 'map' ? r.value.flat() : r.type === 'array' && r.value !== null ? r.value : [];
  const out: [string, string][] = [];
  for (let i = 0; i < items.length; i += 2) {
    const key = items[i]!;
    const value = items[i + 1]!;
    const name = key.type === 'bulk' ? key.value! : JSON.stringify(key);
    out.push([name, value.type === 'map' || value.type === 'array' ? statsShape(value).map(([k, t]) => `${k}:${t}`).join(' ') : value.type]);
  }
  return out;
}

describe.skipIf(!HAVE_REDIS)('MEMORY STATS (differential)', () => {
  let pair: DiffPair;
  beforeAll(async () => {
    pair = await DiffPair.start();
    await pair.check('SET', 'k', 'v', 'EX', '100');
    await pair.check('SELECT', '2');
    await pair.check('SET', 'j', 'v');
  });
  afterAll(async () => {
    await pair?.stop();
  });

  /**
   * Redis 7.2 dropped 7.0's overhead.hashtable.slot-to-keys from each db's
   * map (the slot lists became part of the table entries' metadata).
   */
  const as72 = (shape: [string, string][]): [string, string][] =>
    shape.map(([k, t]) => [k, k.startsWith('db.') ? t.replace(/ overhead\.hashtable\.slot-to-keys:\w+/, '') : t]);

  it.each([2, 3])('has 7.2 keys in order with their reply types (RESP%i)', async (resp) => {
    await pair.check('HELLO', String(resp));
    const [a, b] = await Promise.all([pair.redis.call('MEMORY', 'STATS'), pair.vireo.call('MEMORY', 'STATS')]);
    expect(statsShape(b)).toEqual(as72(statsShape(a)));
    await pair.check('HELLO', '2');
  });

  it('agrees with INFO memory and counts keys and TTLs per db', async () => {
    const stats = new Map(statsShape(await pair.vireo.call('MEMORY', 'STATS')).map(([k]) => [k, true]));
    expect([...stats.keys()].filter((k) => k.startsWith('db.'))).toEqual(['db.0', 'db.2']);
    const r = await pair.vireo.call('MEMORY', 'STATS');
    const items = (r.type === 'map' ? r.value.flat() : (r.value as Reply[])) as Reply[];
    const get = (name: string): Reply => items[items.findIndex((x) => x.type === 'bulk' && x.value === name) + 1]!;
    const int = (name: string) => Number((get(name) as { value: string }).value);
    expect(int('keys.count')).toBe(2);
    expect(int('dataset.bytes')).toBe(Math.max(0, int('total.allocated') - int('overhead.total')));
    const db0 = get('db.0');
    const db0Items = (db0.type === 'map' ? db0.value.flat() : (db0.value as Reply[])) as Reply[];
    const main = Number((db0Items[1] as { value: string }).value);
    const expires = Number((db0Items[3] as { value: string }).value);
    expect(main).toBeGreaterThan(0);
    expect(expires).toBeGreaterThan(0);
    const db2 = get('db.2');
    const db2Items = (db2.type === 'map' ? db2.value.flat() : (db2.value as Reply[])) as Reply[];
    expect(Number((db2Items[3] as { value: string }).value)).toBe(0);
  });
});
