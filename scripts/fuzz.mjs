// `npm run fuzz [-- options]`: the fuzzing campaign of test/fuzz.test.ts at
// length (install and build if needed, then vitest on that one file).
// The options are in USAGE below (`npm run fuzz -- --help` prints them).
//
// VIREO_FUZZ_EPISODE / VIREO_FUZZ_SESSION / VIREO_FUZZ_REPLAY in the
// environment pass through (the reproduction lines a failure prints).
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ensureBuild, ensureDependencies, root } from './ensure.mjs';

const args = process.argv.slice(2);
const USAGE = `npm run fuzz [-- options]: the fuzzing campaign of test/fuzz.test.ts at length
  --frames N         protocol frames per seed (default 1000000)
  --commands N       commands per seed (default 1000000)
  --seed N           one seed (default: one random seed, printed)
  --frames-only      no command phase
  --commands-only    no frame phase
  --rss-mb N         RSS growth bound in MB (default 1024)`;
// --help, or an option this script does not know, prints the options rather than starting a half-hour run.
const KNOWN = new Set(['--frames', '--commands', '--seed', '--frames-only', '--commands-only', '--rss-mb']);
const unknown = args.find((a, i) => a.startsWith('-') && !KNOWN.has(a) && !(i > 0 && ['--frames', '--commands', '--seed', '--rss-mb'].includes(args[i - 1])));
if (unknown !== undefined) {
  const help = unknown === '--help' || unknown === '-h';
  (help ? console.log : console.error)(help ? USAGE : `unknown option ${unknown}\n${USAGE}`);
  process.exit(help ? 0 : 2);
}
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] !== undefined ? args[i + 1] : fallback;
};
const flag = (name) => args.includes(name);

const env = { ...process.env };
const frames = option('--frames', env.VIREO_FUZZ_FRAMES ?? '1000000');
const commands = option('--commands', env.VIREO_FUZZ_COMMANDS ?? '1000000');
env.VIREO_FUZZ_FRAMES = flag('--commands-only') ? '0' : frames;
env.VIREO_FUZZ_COMMANDS = flag('--frames-only') ? '0' : commands;
env.VIREO_FUZZ_SEED = option('--seed', env.VIREO_FUZZ_SEED ?? String(Math.floor(Math.random() * 2 ** 31)));
if (flag('--rss-mb')) env.VIREO_FUZZ_RSS_MB = option('--rss-mb', '1024');
// A long run may shrink a failure for longer.
env.VIREO_FUZZ_SHRINK_MS ??= '300000';

ensureDependencies();
ensureBuild();
console.log(`[fuzz] seed ${env.VIREO_FUZZ_SEED}: ${env.VIREO_FUZZ_FRAMES} frames, ${env.VIREO_FUZZ_COMMANDS} commands`);
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
const r = spawnSync(process.execPath, [vitest, 'run', 'test/fuzz.test.ts', '--reporter', 'verbose'], { cwd: root, stdio: 'inherit', env });
process.exit(r.status ?? 1);
