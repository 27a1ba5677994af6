// `npm run bench [-- options]`: install and build if needed, then run the
// side-by-side benchmark against redis-server (bench/compare.mjs).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureBuild, ensureDependencies, root } from './ensure.mjs';

ensureDependencies();
ensureBuild();
const r = spawnSync(process.execPath, [path.join(root, 'bench', 'compare.mjs'), ...process.argv.slice(2)], { stdio: 'inherit' });
process.exit(r.status ?? 1);
