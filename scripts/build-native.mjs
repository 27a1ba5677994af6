// Builds the scripting addon (native/): the real Lua 5.1.5 VM, as Redis
// embeds it, with lua-cjson 2.1.0, both compiled from Debian's pinned
// source tarballs (fetched once into native/deps/, checked by SHA-256;
// two lines of Lua changed as Redis changed them, see patchLuaSources),
// plus Vireo's own glue and libraries. Run by `npm install` and by
// `npm start` / `npm test` when the addon is missing or older than its
// sources. Needs what node-gyp needs: python3, make, a C compiler.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const nativeDir = path.join(root, 'native');
const depsDir = path.join(nativeDir, 'deps');
export const addonPath = path.join(nativeDir, 'build', 'Release', 'vireo_lua.node');

const MIRROR = process.env.VIREO_DEBIAN_MIRROR ?? 'http://deb.debian.org/debian';

/** Source tarballs: Debian's pool path, the folder they unpack to, their SHA-256. */
const SOURCES = [
  {
    pool: 'pool/main/l/lua5.1/lua5.1_5.1.5.orig.tar.gz',
    dir: 'lua-5.1.5',
    sha256: '2640fc56a795f29d28ef15e13c34a47e223960b0240e8cb0a82d9b0738695333',
  },
  {
    pool: 'pool/main/l/lua-cjson/lua-cjson_2.1.0+dfsg.orig.tar.gz',
    dir: 'lua-cjson-2.1.0+dfsg',
    sha256: '94f1fce36742cf00e99c5071b309b9f71e6e7daf60a7151f7bf4ac0a97259ac4',
  },
];

async function download(url) {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return Buffer.from(await res.arrayBuffer());
}

async function fetchSources() {
  mkdirSync(depsDir, { recursive: true });
  for (const src of SOURCES) {
    if (existsSync(path.join(depsDir, src.dir))) continue;
    const url = `${MIRROR}/${src.pool}`;
    console.error(`[vireo] fetching ${url}`);
    const bytes = await download(url);
    const digest = createHash('sha256').update(bytes).digest('hex');
    if (digest !== src.sha256) throw new Error(`${url}: SHA-256 ${digest}, expected ${src.sha256}`);
    const tarball = path.join(depsDir, path.basename(src.pool));
    writeFileSync(tarball, bytes);
    // Unpack beside, then move into place: an interrupted run leaves no half folder behind.
    const tmp = path.join(depsDir, `.unpack-${process.pid}`);
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp);
    execFileSync('tar', ['xzf', tarball, '-C', tmp], { stdio: 'inherit' });
    renameSync(path.join(tmp, src.dir), path.join(depsDir, src.dir));
    rmSync(tmp, { recursive: true, force: true });
    rmSync(tarball);
  }
}

/**
 * Redis' Lua hashes every byte of a string (stock 5.1 samples long ones,
 * which lets crafted keys collide): the same hash gives tables the same
 * traversal order, so cjson and cmsgpack write maps in Redis' order.
 */
function patchLuaSources() {
  patchLua('lstring.c', 'size_t step = (l>>5)+1;', 'size_t step = 1; /* Vireo: hash every byte, as Redis does */');
  // Redis' Lua never loads precompiled chunks: a script starting with ESC is source (an error at its first
  // symbol), not bytecode handed to the undumper, which trusts what it reads and can break the VM.
  patchLua('ldo.c', 'tf = ((c == LUA_SIGNATURE[0]) ? luaU_undump : luaY_parser)(L, p->z,', 'tf = ((void)c, luaY_parser)(L, p->z, /* Vireo: source only, as Redis */');
}

/** Replace `stock` by `patched` in a Lua source file (once: a patched file is left as it is). */
function patchLua(name, stock, patched) {
  const file = path.join(depsDir, 'lua-5.1.5', 'src', name);
  const code = readFileSync(file, 'latin1');
  if (code.includes(stock)) writeFileSync(file, code.replace(stock, patched));
}

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name === 'build' || e.name === 'deps') continue;
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

export function addonIsFresh() {
  return existsSync(addonPath) && statSync(addonPath).mtimeMs >= newest(nativeDir);
}

function nodeGyp() {
  // npm runs install scripts with the path of its own node-gyp in the environment.
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return fromNpm;
  const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return bundled;
  throw new Error('node-gyp not found (it ships with npm)');
}

/** Node's own headers (installed beside the binary), so node-gyp needs no download. */
function nodedirArgs() {
  const dir = process.env.npm_config_nodedir || path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(dir, 'include', 'node', 'node_api.h')) ? [`--nodedir=${dir}`] : [];
}

export async function buildNative({ force = false } = {}) {
  if (!force && addonIsFresh()) return;
  await fetchSources();
  patchLuaSources();
  console.error('[vireo] building the Lua scripting addon (node-gyp)...');
  execFileSync(process.execPath, [nodeGyp(), 'rebuild', ...nodedirArgs(), '--directory', nativeDir], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    await buildNative({ force: process.argv.includes('--force') });
  } catch (e) {
    // The server still starts without the addon; its scripting commands then say why they cannot run.
    console.error(`[vireo] the scripting addon could not be built: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(process.env.CI === 'true' ? 1 : 0);
  }
}
