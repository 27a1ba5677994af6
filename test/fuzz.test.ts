// The fuzzing campaign (test/fuzz/campaign.ts), bounded for CI: one fixed
// seed and one random seed (printed), each sending protocol frames on many
// connections and random commands from every command's spec to Vireo (a
// child process) and redis-server 7.0, with a canary and an RSS watch.
// Longer runs: `npm run fuzz` (scripts/fuzz.mjs) or the variables below.
//
//   VIREO_FUZZ_FRAMES=n     protocol frames per seed
//   VIREO_FUZZ_COMMANDS=n   commands per seed
//   VIREO_FUZZ_SEED=n       run only this seed
//   VIREO_FUZZ_EPISODE=n    with a seed: run only this command episode
//   VIREO_FUZZ_SESSION=n    with a seed: run only this protocol session
//   VIREO_FUZZ_REPLAY=file  replay the sequence a failure wrote
//   VIREO_FUZZ_RSS_MB=n     RSS growth bound (default 1024)
import { describe, it } from 'vitest';
import { HAVE_REDIS } from './helpers/servers.js';
import { randomSeed } from './fuzz/rng.js';
import { replayFile, runCampaign, type CampaignReport } from './fuzz/campaign.js';

const FIXED_SEED = 20260917;
const env = process.env;
const num = (name: string, fallback: number) => (env[name] !== undefined && env[name] !== '' ? Number(env[name]) : fallback);

const frames = num('VIREO_FUZZ_FRAMES', 150000);
const commands = num('VIREO_FUZZ_COMMANDS', 50000);
const seeds = env.VIREO_FUZZ_SEED ? [Number(env.VIREO_FUZZ_SEED)] : [FIXED_SEED, randomSeed()];
// Long runs get a timeout that grows with their size.
const timeout = 120000 + (frames / 1000) * 2000 + (commands / 1000) * 6000;

function summary(r: CampaignReport): string {
  const lines = [
    `seed ${r.seed}: ${r.frames} frames in ${r.sessions} sessions (${(r.framesMs / 1000).toFixed(1)} s), ${r.commands} commands in ${r.episodes} episodes (${(r.commandsMs / 1000).toFixed(1)} s)`,
    `  canary max ${r.maxCanaryMs} ms; Vireo RSS ${r.startRssMb} -> max ${r.maxRssMb} MB`,
  ];
  for (const [issue, n] of r.tolerated) lines.push(`  tolerated ${n}x: ${issue.slice(0, 120)}`);
  for (const i of r.referenceIssues) lines.push(`  reference: ${i}`);
  if (r.commands > 0) {
    // Commands the reference never answered without an error exercise only argument checks: worth knowing.
    const onlyErrors = [...r.fuzzed].filter((n) => (r.coverage.get(n)?.errors ?? 0) === (r.coverage.get(n)?.sent ?? 0));
    const errors = [...r.coverage.values()].reduce((s, c) => s + c.errors, 0);
    lines.push(`  ${r.fuzzed.size} commands fuzzed, ${Math.round((100 * errors) / Math.max(1, r.commands))}% error replies; only errors: ${onlyErrors.sort().join(' ') || 'none'}`);
  }
  return lines.join('\n');
}

describe.skipIf(!HAVE_REDIS)('fuzzing campaign (protocol frames, every command, differential)', () => {
  if (env.VIREO_FUZZ_REPLAY) {
    it(`replays ${env.VIREO_FUZZ_REPLAY}`, async () => {
      await replayFile(env.VIREO_FUZZ_REPLAY!, { seed: 0, frames: 0, commands: 0 });
    }, timeout);
    return;
  }
  for (const seed of seeds) {
    it(`seed ${seed}`, async () => {
      console.log(`[fuzz] seed ${seed}: ${frames} frames, ${commands} commands`);
      const report = await runCampaign({
        seed,
        frames,
        commands,
        ...(env.VIREO_FUZZ_EPISODE ? { onlyEpisode: Number(env.VIREO_FUZZ_EPISODE) } : {}),
        ...(env.VIREO_FUZZ_SESSION ? { onlySession: Number(env.VIREO_FUZZ_SESSION) } : {}),
        ...(env.VIREO_FUZZ_RSS_MB ? { rssGrowthMb: Number(env.VIREO_FUZZ_RSS_MB) } : {}),
        ...(env.VIREO_FUZZ_SHRINK_MS ? { shrinkBudgetMs: Number(env.VIREO_FUZZ_SHRINK_MS) } : {}),
      });
      console.log(summary(report));
    }, timeout);
  }
});
