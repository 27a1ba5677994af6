/**
 * The fuzzing campaign: Vireo as a child process and redis-server 7.0 as
 * the reference, a canary and an RSS watch on Vireo (watchdog.ts), then
 *
 * 1. frames: protocol sessions (frames.ts) on many connections at once,
 *    the same bytes with the same write boundaries to both servers; each
 *    Vireo connection must get valid replies (or Redis' Protocol error and
 *    a close) and the same bytes as Redis;
 * 2. commands: episodes of random commands from every command's spec
 *    (commands.ts) on a prepared dataset (dataset.ts), pipelined in batches
 *    to both servers, every reply compared (differ.ts).
 *
 * A failure stops the run with the seed, where it happened, and a
 * shrunken sequence that reproduces it (written to a file for replay).
 */

import fs from 'node:fs';
import { commandsPhase, configDefaults, Executor, replay, Stream } from './commands-phase.js';
import { framesPhase, runSession } from './frames-phase.js';
import { FuzzFailure, Servers, type CampaignOptions, type CampaignReport } from './servers.js';

export { FuzzFailure, type CampaignOptions, type CampaignReport };

function emptyReport(seed: number, servers: Servers): CampaignReport {
  return {
    seed,
    frames: 0,
    sessions: 0,
    commands: 0,
    episodes: 0,
    tolerated: new Map(),
    referenceIssues: [],
    coverage: new Map(),
    fuzzed: new Set(),
    maxCanaryMs: 0,
    startRssMb: Math.round(servers.watchdog.startRssKb / 1024),
    maxRssMb: 0,
    framesMs: 0,
    commandsMs: 0,
  };
}

export function defaults(opts: CampaignOptions): Required<CampaignOptions> {
  return {
    concurrency: 16, // at most the 16 databases: one per session in flight
    episodeLength: 300,
    rssGrowthMb: 1024,
    // Catches a blocked event loop (a runaway loop), not slowness: generous, as the machine is shared.
    stallMs: 3000,
    onlyEpisode: -1,
    onlySession: -1,
    shrinkBudgetMs: 60000,
    log: (line) => console.log(`[fuzz] ${line}`),
    ...opts,
  };
}

export async function runCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const opts = defaults(options);
  const servers = new Servers(opts);
  await servers.start();
  const report = emptyReport(opts.seed, servers);
  try {
    if (opts.frames > 0) await framesPhase(servers, opts, report);
    if (opts.commands > 0) await commandsPhase(servers, opts, report);
    await new Promise((r) => setTimeout(r, 300));
    if (servers.watchdog.failure !== null) throw new FuzzFailure(`FUZZ FAILURE: ${servers.watchdog.failure} (seed ${opts.seed}, after the run)`);
    report.maxCanaryMs = servers.watchdog.maxCanaryMs;
    report.maxRssMb = Math.round(servers.watchdog.maxRssKb / 1024);
    return report;
  } finally {
    await servers.stop();
  }
}

/** Replay a repro file written by a failure. */
export async function replayFile(file: string, options: CampaignOptions): Promise<void> {
  const opts = defaults(options);
  const body = JSON.parse(fs.readFileSync(file, 'utf8')) as { commands?: string[][]; frames?: string[]; cuts?: number[] };
  const servers = new Servers(opts);
  await servers.start();
  try {
    if (body.frames !== undefined) {
      const outcome = await runSession({ frames: body.frames.map((f) => Buffer.from(f, 'latin1')), cuts: body.cuts ?? [] }, servers, 0);
      await new Promise((r) => setTimeout(r, 1500));
      if (servers.watchdog.failure !== null) throw new FuzzFailure(`replay: ${servers.watchdog.failure}\n${servers.vireoOutput()}`);
      if (outcome.kind === 'problem') throw new FuzzFailure(`replay: ${outcome.what}`);
      return;
    }
    const stream = await Stream.open(servers);
    const report = emptyReport(opts.seed, servers);
    const ex = new Executor(servers, stream, report);
    const cfg = { redis: await configDefaults(stream.redisSide), vireo: await configDefaults(stream.vireoSide) };
    try {
      await replay(ex, cfg, body.commands ?? []);
    } catch (e) {
      throw new FuzzFailure(`replay: ${(e as Error).message}\n${servers.vireoOutput()}`);
    } finally {
      stream.close();
    }
  } finally {
    await servers.stop();
  }
}
