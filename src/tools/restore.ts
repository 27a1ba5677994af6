/**
 * `vireo-restore` / `npm run restore --`: point-in-time recovery from the
 * command line (persistence/pitr.ts does the work).
 *
 *   vireo-restore --dir data --time 2026-11-27T10:15:00Z --out restored
 *   vireo-restore --dir data --offset 123456 --out restored
 *   vireo-restore --dir data --list
 */

import { collectSegments, describeHistory, restorePointInTime, RestoreError, type RestoreTarget } from '../../persistence/pitr.js';

const USAGE = `usage: vireo-restore --dir <data dir> (--time <ISO time | unix seconds> | --offset <log offset>) --out <new dir>
       vireo-restore --dir <data dir> --list
options: --appenddirname <name> (appendonlydir)  --appendfilename <name> (appendonly.aof)
         --archive-dir <name> (appendonlydir-archive, as aof-archive-dir)`;

/** A time as ISO 8601, or unix seconds / milliseconds. */
export function parseTime(s: string): number | null {
  if (/^\d+$/.test(s)) {
    const n = Number(s);
    return n < 1e11 ? n * 1000 : n;
  }
  const t = Date.parse(s);
  return Number.isNaN(t) ? null : t;
}

export function runRestore(args: string[], print: (line: string) => void): number {
  const opts = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith('--')) {
      print(USAGE);
      return 2;
    }
    if (a === '--list') opts.set('list', 'yes');
    else if (i + 1 < args.length) opts.set(a.slice(2), args[++i]!);
    else {
      print(USAGE);
      return 2;
    }
  }
  const dir = opts.get('dir') ?? 'data';
  const names = { dir, appenddirname: opts.get('appenddirname'), appendfilename: opts.get('appendfilename'), archiveDir: opts.get('archive-dir') };
  try {
    if (opts.has('list')) {
      for (const line of describeHistory(collectSegments(names))) print(line);
      return 0;
    }
    let target: RestoreTarget;
    if (opts.has('time')) {
      const t = parseTime(opts.get('time')!);
      if (t === null) {
        print(`bad --time: ${opts.get('time')}`);
        return 2;
      }
      target = { timeMs: t };
    } else if (opts.has('offset') && /^\d+$/.test(opts.get('offset')!)) {
      target = { offset: Number(opts.get('offset')) };
    } else {
      print(USAGE);
      return 2;
    }
    const out = opts.get('out');
    if (out === undefined) {
      print(USAGE);
      return 2;
    }
    const r = restorePointInTime({ ...names, target, out });
    print(`restored from base ${r.base} (offset ${r.baseOffset}) plus ${r.records} records: dataset as of log offset ${r.offset}${r.lastTimeMs !== null ? `, last record stamped ${new Date(r.lastTimeMs).toISOString()}` : ''}`);
    print(`start it with: vireo-server --dir ${out} --appendonly yes`);
    return 0;
  } catch (e) {
    if (e instanceof RestoreError) {
      print(`vireo-restore: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
