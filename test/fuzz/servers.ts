/**
 * What a fuzzing run works with: Vireo as a child process, redis-server 7.0
 * as the reference, the watchdog on Vireo, the run's options and report,
 * and where a failure's reproduction is written.
 */

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startRedis, startVireoProcess, type ProcessHandle } from '../helpers/servers.js';
import { Watchdog } from './watchdog.js';

export interface CampaignOptions {
  seed: number;
  /** Protocol frames to send (0 skips the phase). */
  frames: number;
  /** Commands to send (0 skips the phase). */
  commands: number;
  /** Protocol sessions in flight at once. */
  concurrency?: number;
  /** Commands per episode (each starts from a fresh dataset). */
  episodeLength?: number;
  rssGrowthMb?: number;
  stallMs?: number;
  /** Run only this episode (reproduction). */
  onlyEpisode?: number;
  /** Run only this protocol session (reproduction). */
  onlySession?: number;
  shrinkBudgetMs?: number;
  log?: (line: string) => void;
}

export interface CampaignReport {
  seed: number;
  frames: number;
  sessions: number;
  commands: number;
  episodes: number;
  /** Differences tolerated because a pending fix covers them, by issue. */
  tolerated: Map<string, number>;
  /** Where redis-server itself stopped answering (not a Vireo failure). */
  referenceIssues: string[];
  /** Per command: how often it was sent, and how often the reference answered with an error. */
  coverage: Map<string, { sent: number; errors: number }>;
  /** The commands fuzzed (Vireo's COMMAND LIST). */
  fuzzed: Set<string>;
  maxCanaryMs: number;
  startRssMb: number;
  maxRssMb: number;
  framesMs: number;
  commandsMs: number;
}

export class FuzzFailure extends Error {}

export const VIREO_ARGS = ['--save', '', '--appendonly', 'no', '--enable-debug-command', 'yes', '--sanitize-dump-payload', 'yes', '--loglevel', 'warning'];
export const REDIS_PARAMS = { 'sanitize-dump-payload': 'yes', loglevel: 'warning' };
export const REPLY_TIMEOUT_MS = 5000;

export class Servers {
  vireo!: ProcessHandle;
  redis!: ProcessHandle;
  watchdog!: Watchdog;

  constructor(private readonly opts: Required<Pick<CampaignOptions, 'stallMs' | 'rssGrowthMb'>>) {}

  async start(): Promise<void> {
    [this.vireo, this.redis] = await Promise.all([startVireoProcess(VIREO_ARGS), startRedis(REDIS_PARAMS)]);
    this.watchdog = new Watchdog(this.vireo.proc, this.vireo.port, this.opts);
  }

  async restartVireo(): Promise<void> {
    await this.watchdog.stop();
    await this.vireo.kill();
    this.vireo = await startVireoProcess(VIREO_ARGS);
    this.watchdog = new Watchdog(this.vireo.proc, this.vireo.port, this.opts);
  }

  async restartRedis(): Promise<void> {
    await this.redis.kill();
    this.redis = await startRedis(REDIS_PARAMS);
  }

  private restarting: Promise<void> | null = null;

  /** Restart redis-server once however many sessions saw this instance go. */
  async restartRedisOnce(gone: ProcessHandle): Promise<void> {
    if (this.redis !== gone) return;
    this.restarting ??= this.restartRedis().finally(() => {
      this.restarting = null;
    });
    await this.restarting;
  }

  /** The last lines the Vireo child printed (a crash's cause). */
  vireoOutput(): string {
    return this.vireo.output().split('\n').slice(-25).join('\n');
  }

  async stop(): Promise<void> {
    await this.watchdog.stop();
    await Promise.all([this.vireo.kill(), this.redis.kill()]);
  }
}

export function exited(proc: ProcessHandle['proc']): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

export function writeRepro(kind: string, seed: number, body: unknown): string {
  const file = path.join(os.tmpdir(), `vireo-fuzz-${kind}-${seed}-${Date.now()}.json`);
  fs.writeFileSync(file, JSON.stringify(body, null, 1));
  return file;
}

