/**
 * The servers an end-to-end client suite runs against, one describe block
 * each, with the same tests: Vireo as a child process (the built dist/, so
 * the clients do not share its event loop) and redis-server as the
 * reference. The reference is skipped locally when it is missing and is an
 * error under CI=true (HAVE_REDIS).
 *
 * VIREO_E2E_SERVERS=redis (or =vireo) runs the suites against one of them
 * alone; the default is both.
 */

import { HAVE_REDIS, startRedis, startVireoProcess, type ProcessHandle } from './servers.js';

export type TargetName = 'vireo' | 'redis';

export interface Target {
  name: TargetName;
  /** What the describe block is called after. */
  label: string;
  /** False when this run leaves it out (VIREO_E2E_SERVERS, or no redis-server installed locally). */
  enabled: boolean;
  start(): Promise<ProcessHandle>;
}

const selected = new Set((process.env.VIREO_E2E_SERVERS ?? 'vireo,redis').split(',').map((s) => s.trim()));

export const TARGETS: Target[] = [
  { name: 'vireo', label: 'Vireo (child process)', enabled: selected.has('vireo'), start: () => startVireoProcess() },
  { name: 'redis', label: 'redis-server (reference)', enabled: selected.has('redis') && HAVE_REDIS, start: () => startRedis() },
];

/**
 * Stop a server a suite started. Vireo's child inherits the test mode's
 * effect check (VIREO_CHECK_EFFECTS, test/setup.ts), which logs a failure
 * instead of throwing: a logged one fails here.
 */
export async function stopChecked(h: ProcessHandle): Promise<void> {
  await h.stop();
  const failures = h.output().split('\n').filter((line) => line.includes('Effect check:'));
  if (failures.length > 0) throw new Error(`effect check failed:\n${failures.slice(0, 20).join('\n')}`);
}
