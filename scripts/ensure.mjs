// Shared setup for `npm start`, `npm test` and `npm run bench`: install
// dependencies when node_modules is missing, and (re)build dist/ when a
// TypeScript source is newer than the last build.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { addonIsFresh } from './build-native.mjs';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function newestMtime(dir) {
  let newest = 0;
  if (!existsSync(dir)) return newest;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(p));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export function ensureDependencies() {
  if (existsSync(path.join(root, 'node_modules', 'typescript'))) return;
  console.error('[vireo] installing dependencies (npm ci)...');
  const args = existsSync(path.join(root, 'package-lock.json')) ? ['ci'] : ['install'];
  execFileSync(npm, [...args, '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
}

/** The Lua scripting addon (native/), rebuilt when missing or older than its C sources. */
function ensureNative() {
  if (addonIsFresh()) return;
  const script = path.join(root, 'scripts', 'build-native.mjs');
  execFileSync(process.execPath, [script], { cwd: root, stdio: 'inherit' });
}

export function ensureBuild() {
  ensureNative();
  // Our own stamp, not dist/.tsbuildinfo: `tsc --noEmit` (npm run
  // typecheck) rewrites that one without building anything.
  const stamp = path.join(root, 'dist', '.vireo-built');
  const built = existsSync(stamp) ? statSync(stamp).mtimeMs : 0;
  const sources = Math.max(
    newestMtime(path.join(root, 'src')),
    newestMtime(path.join(root, 'persistence')),
    newestMtime(path.join(root, 'replication')),
    statSync(path.join(root, 'tsconfig.json')).mtimeMs,
  );
  if (built >= sources && existsSync(path.join(root, 'dist', 'src', 'main.js'))) return;
  console.error('[vireo] building (tsc)...');
  execFileSync(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', root], {
    cwd: root,
    stdio: 'inherit',
  });
  writeFileSync(stamp, `${new Date().toISOString()}\n`);
}
