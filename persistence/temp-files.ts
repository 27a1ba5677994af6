/**
 * Temp files a killed process leaves behind (kill -9 during a SAVE, BGSAVE
 * or AOF rewrite). Nothing ever renames them into place after a restart, so
 * start-up removes them: only names Vireo itself gives its temp files, and
 * never those of another live process (a second server sharing the directory).
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../src/logger.js';

/** Our temp names, each with the writer's pid as group 1. */
function tempPatterns(aofPrefix: string): RegExp[] {
  const prefix = aofPrefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return [
    // SAVE and AOF bases (rdb-store.ts writeSync), BGSAVE (rdb-store.ts bgsave)
    /^temp-(?:bg-)?(\d+)-\d+\.rdb$/,
    // a replica's full sync receiving its primary's RDB (replication/rdb-transfer.ts)
    /^temp-sync-(\d+)-\d+\.rdb$/,
    // BGREWRITEAOF (aof/rewrite.ts startRewrite)
    /^temp-rewriteaof-bg-(\d+)-\d+\.(?:rdb|aof)$/,
    // the manifest and its offsets sidecar (files.ts writeFileAtomic)
    new RegExp(`^${prefix}\\.(?:manifest|vireo-offsets)\\.tmp-(\\d+)$`),
  ];
}

/** The pid in one of our temp names, or null for any other file. */
function writerPid(patterns: readonly RegExp[], name: string): number | null {
  for (const p of patterns) {
    const m = p.exec(name);
    if (m !== null) return Number(m[1]);
  }
  return null;
}

/** Whether another process with this pid is running (ours is not "another"). */
function otherProcessAlive(pid: number): boolean {
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Delete stale temp files in `dirs`; logs one line per directory that had some. */
export function removeStaleTempFiles(dirs: readonly string[], aofPrefix: string, logger: Logger): void {
  const patterns = tempPatterns(aofPrefix);
  for (const dir of new Set(dirs.map((d) => path.resolve(d)))) {
    let names: string[];
    try {
      names = fs.readdirSync(dir);
    } catch {
      continue; // not there (yet): nothing to clean
    }
    const removed: string[] = [];
    for (const name of names) {
      const writer = writerPid(patterns, name);
      if (writer === null || otherProcessAlive(writer)) continue;
      try {
        fs.rmSync(path.join(dir, name), { force: true });
        removed.push(name);
      } catch (e) {
        logger.warn({ err: e }, `Could not remove the stale temp file ${name} in ${dir}`);
      }
    }
    if (removed.length > 0) {
      logger.warn(`Removed ${removed.length} temp file(s) left in ${dir} by an interrupted save or AOF rewrite: ${removed.join(', ')}`);
    }
  }
}
