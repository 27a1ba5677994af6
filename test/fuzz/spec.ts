/**
 * Argument shapes of every command, from the reference server's
 * `COMMAND DOCS` (Redis 7.0 publishes each argument's type, token and
 * flags; Vireo's COMMAND DOCS has no `arguments` yet), plus the 7.2
 * additions the 7.0 reference cannot describe.
 */

import type { Reply } from '../helpers/resp.js';
import { encodeCommand } from '../helpers/resp.js';
import { ReplyConn } from './conn.js';

export type ArgType = 'key' | 'string' | 'integer' | 'double' | 'pattern' | 'unix-time' | 'pure-token' | 'oneof' | 'block';

export interface ArgSpec {
  name: string;
  type: ArgType;
  token?: string;
  optional: boolean;
  multiple: boolean;
  multipleToken: boolean;
  args: ArgSpec[];
}

/** A command to fuzz: its words (`['client', 'kill']`) and arguments after them. */
export interface CommandSpec {
  words: string[];
  args: ArgSpec[];
}

function pairsOf(r: Reply | undefined): Map<string, Reply> {
  const m = new Map<string, Reply>();
  if (r === undefined) return m;
  if (r.type === 'map') for (const [k, v] of r.value) m.set(String(k.type === 'bulk' || k.type === 'simple' ? k.value : ''), v);
  if (r.type === 'array' && r.value !== null) {
    for (let i = 0; i + 1 < r.value.length; i += 2) {
      const k = r.value[i]!;
      m.set(k.type === 'bulk' || k.type === 'simple' ? String(k.value) : '', r.value[i + 1]!);
    }
  }
  return m;
}

function text(r: Reply | undefined): string | undefined {
  return r !== undefined && (r.type === 'bulk' || r.type === 'simple') && r.value !== null ? r.value : undefined;
}

function flagsOf(r: Reply | undefined): string[] {
  if (r === undefined || (r.type !== 'array' && r.type !== 'set') || r.value === null) return [];
  return r.value.map((f) => text(f) ?? '');
}

function toArg(r: Reply): ArgSpec {
  const m = pairsOf(r);
  const flags = flagsOf(m.get('flags'));
  const sub = m.get('arguments');
  const spec: ArgSpec = {
    name: text(m.get('name')) ?? '?',
    type: (text(m.get('type')) ?? 'string') as ArgType,
    optional: flags.includes('optional'),
    multiple: flags.includes('multiple'),
    multipleToken: flags.includes('multiple_token'),
    args: sub !== undefined && sub.type === 'array' && sub.value !== null ? sub.value.map(toArg) : [],
  };
  const token = text(m.get('token'));
  if (token !== undefined) spec.token = token;
  return spec;
}

function argsOf(doc: Map<string, Reply>): ArgSpec[] {
  const a = doc.get('arguments');
  return a !== undefined && a.type === 'array' && a.value !== null ? a.value.map(toArg) : [];
}

const token = (t: string, optional = false): ArgSpec => ({ name: t.toLowerCase(), type: 'pure-token', token: t, optional, multiple: false, multipleToken: false, args: [] });
const arg = (name: string, type: ArgType, extra: Partial<ArgSpec> = {}): ArgSpec => ({ name, type, optional: false, multiple: false, multipleToken: false, args: [], ...extra });

const REF_POLICY = [arg('condition', 'oneof', { optional: true, args: [token('KEEPREF'), token('DELREF'), token('ACKED')] })];
const IDS_BLOCK = arg('ids', 'block', { token: 'IDS', args: [arg('numids', 'integer'), arg('id', 'string', { multiple: true })] });

/** Redis 7.2 (and later) arguments the 7.0 reference's docs lack. */
const SPECS_72: Record<string, (from70: ArgSpec[] | undefined) => ArgSpec[]> = {
  'client|no-touch': () => [arg('enabled', 'oneof', { args: [token('ON'), token('OFF')] })],
  'client|setinfo': () => [arg('attr', 'oneof', { args: [arg('libname', 'string', { token: 'LIB-NAME' }), arg('libver', 'string', { token: 'LIB-VER' })] })],
  waitaof: () => [arg('numlocal', 'integer'), arg('numreplicas', 'integer'), arg('timeout', 'integer')],
  zrank: (a) => [...(a ?? []), token('WITHSCORE', true)],
  // Redis 8.2 (Vireo implements them; the 7.0 reference answers unknown command).
  xackdel: () => [arg('key', 'key'), arg('group', 'string'), ...REF_POLICY, IDS_BLOCK],
  xdelex: () => [arg('key', 'key'), ...REF_POLICY, IDS_BLOCK],
  zrevrank: (a) => [...(a ?? []), token('WITHSCORE', true)],
  // Valkey 8's SCRIPT SHOW and CLIENT CAPA (known.ts keeps them from the reference).
  'script|show': () => [arg('sha1', 'string')],
  'client|capa': () => [arg('capability', 'oneof', { multiple: true, args: [token('REDIRECT'), arg('other', 'string')] })],
  // Redis 7.2's CLUSTER MYSHARDID, Valkey 8's CLUSTER SLOT-STATS, Vireo's VIREO (known.ts keeps them from the reference).
  'cluster|myshardid': () => [],
  'cluster|slot-stats': () => [
    arg('filter', 'oneof', {
      args: [
        arg('slotsrange', 'block', { token: 'SLOTSRANGE', args: [arg('start-slot', 'integer'), arg('end-slot', 'integer')] }),
        arg('orderby', 'block', { token: 'ORDERBY', args: [arg('metric', 'string'), arg('limit', 'integer', { token: 'LIMIT', optional: true }), arg('order', 'oneof', { optional: true, args: [token('ASC'), token('DESC')] })] }),
      ],
    }),
  ],
  'vireo|help': () => [],
  'vireo|hotkeys': () => [arg('count', 'integer', { token: 'COUNT', optional: true })],
};

/** The argument shapes of every command Vireo lists, read from the reference server on `port`. */
export async function loadCommandSpecs(referencePort: number, vireoPort: number): Promise<CommandSpec[]> {
  const [ref, vireo] = await Promise.all([ReplyConn.connect(referencePort), ReplyConn.connect(vireoPort)]);
  try {
    vireo.write(encodeCommand(['COMMAND', 'LIST']));
    const list = await vireo.next(10000);
    if (list.type !== 'array' || list.value === null) throw new Error('COMMAND LIST failed');
    const names = list.value.map((r) => text(r)!.toLowerCase()).sort();
    ref.write(encodeCommand(['COMMAND', 'DOCS']));
    const docs = pairsOf(await ref.next(10000));
    const found = new Map<string, ArgSpec[]>();
    for (const [name, doc] of docs) {
      const d = pairsOf(doc);
      found.set(name.toLowerCase(), argsOf(d));
      for (const [sub, subDoc] of pairsOf(d.get('subcommands'))) found.set(sub.toLowerCase(), argsOf(pairsOf(subDoc)));
    }
    const containers = new Set(names.filter((n) => n.includes('|')).map((n) => n.split('|')[0]!));
    const specs: CommandSpec[] = [];
    for (const name of names) {
      const fix = SPECS_72[name];
      const args = fix !== undefined ? fix(found.get(name)) : found.get(name);
      if (containers.has(name)) {
        // The bare container: wrong arity, or an unknown subcommand.
        specs.push({ words: [name], args: [arg('subcommand', 'string', { optional: true })] });
        continue;
      }
      if (args === undefined) throw new Error(`no argument spec for ${name}: neither in the reference's COMMAND DOCS nor in SPECS_72`);
      specs.push({ words: name.split('|'), args });
    }
    return specs;
  } finally {
    ref.close();
    vireo.close();
  }
}
