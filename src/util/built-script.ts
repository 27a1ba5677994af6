/**
 * Where a worker thread's script is: beside the module starting it once
 * built (dist/), or, when the module runs from the sources (tests under
 * vitest), the built one at the same place under dist/.
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Project root: two levels above this module (src/util/), in the sources and under dist/ alike. */
const root = (() => {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const up = path.resolve(here, '..', '..');
  return path.basename(up) === 'dist' ? path.dirname(up) : up;
})();

/** The URL of `name`.js beside the module at `moduleUrl`, or of its built copy under dist/. */
export function builtScript(moduleUrl: string, name: string): URL {
  const beside = new URL(`./${name}.js`, moduleUrl);
  if (existsSync(fileURLToPath(beside))) return beside;
  const rel = path.relative(root, path.dirname(fileURLToPath(moduleUrl)));
  return pathToFileURL(path.join(root, 'dist', rel, `${name}.js`));
}
