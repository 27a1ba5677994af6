/**
 * Point-in-time recovery: rebuild an AOF directory holding the dataset as
 * it was at a moment (to the second, by the `#TS:` annotations) or at a
 * command-log offset, from the live appendonlydir and the archive of
 * retired files (archive.ts).
 *
 * The result is an ordinary multi-part AOF: one base (the newest snapshot
 * at or before the target) and one incr file (the records after it, cut
 * at the target, never inside a MULTI/EXEC). Vireo, and redis-server for
 * the AOF itself, start on it with `appendonly yes`.
 */

import fs from 'node:fs';
import path from 'node:path';
import { splitArgs } from '../src/protocol/parser.js';
import { parseManifest, formatManifest } from './aof/manifest.js';
import { readArchiveIndex, readArchived, quoteName } from './archive.js';
import { AofFormatError, AofTruncatedError, readAofCommand } from './resp.js';
import { fsyncDir, writeFileAtomic } from './files.js';
import { readGroupHeader } from './aof/preallocation.js';

export type RestoreTarget = { timeMs: number } | { offset: number };

export interface RestoreOptions {
  /** The server's working directory (`dir`). */
  dir: string;
  appenddirname?: string;
  appendfilename?: string;
  archiveDir?: string;
  target: RestoreTarget;
  /** New directory to write (created; must be empty if it exists). */
  out: string;
}

interface Segment {
  name: string;
  type: 'b' | 'i';
  startOffset: number;
  snapshotMs: number;
  read(): Buffer;
}

export interface RestoreResult {
  base: string;
  baseOffset: number;
  /** Log offset the restored dataset corresponds to. */
  offset: number;
  /** Incr records replayed on top of the base. */
  records: number;
  /** Time of the last included record's `#TS:` annotation (ms), if any. */
  lastTimeMs: number | null;
}

export class RestoreError extends Error {}

/** Every base and incr file the history holds, live and archived. */
export function collectSegments(opts: Pick<RestoreOptions, 'dir' | 'appenddirname' | 'appendfilename' | 'archiveDir'>): Segment[] {
  const aofDir = path.resolve(opts.dir, opts.appenddirname ?? 'appendonlydir');
  const prefix = opts.appendfilename ?? 'appendonly.aof';
  const archiveDir = path.resolve(opts.dir, opts.archiveDir ?? 'appendonlydir-archive');
  const segments: Segment[] = [];
  const seen = new Set<string>();
  for (const e of readArchiveIndex(archiveDir)) {
    seen.add(`${e.type}:${e.startOffset}`);
    segments.push({ name: e.name, type: e.type, startOffset: e.startOffset, snapshotMs: e.snapshotMs, read: () => readArchived(archiveDir, e.name) });
  }
  const manifest = path.join(aofDir, `${prefix}.manifest`);
  const sidecar = path.join(aofDir, `${prefix}.vireo-offsets`);
  if (fs.existsSync(manifest)) {
    if (!fs.existsSync(sidecar)) throw new RestoreError(`${sidecar} is missing: point-in-time recovery needs an AOF written by Vireo`);
    const meta = new Map<string, [number, number]>();
    for (const line of fs.readFileSync(sidecar, 'latin1').split('\n')) {
      const w = splitArgs(line.trim());
      if (w !== null && w.length >= 2) meta.set(w[0]!, [Number(w[1]), Number(w[2] ?? 0)]);
    }
    for (const f of parseManifest(fs.readFileSync(manifest, 'latin1'))) {
      const m = meta.get(f.name);
      if (m === undefined) continue;
      const type = f.type === 'i' ? 'i' : f.name.includes('.base.') ? 'b' : 'i';
      if (seen.has(`${type}:${m[0]}`)) continue;
      const full = path.join(aofDir, f.name);
      if (!fs.existsSync(full)) continue;
      segments.push({ name: f.name, type, startOffset: m[0], snapshotMs: m[1], read: () => fs.readFileSync(full) });
    }
  }
  return segments.sort((a, b) => a.startOffset - b.startOffset || (a.type === 'b' ? -1 : 1));
}

/** The restorable window: oldest base and newest known point. */
export function describeHistory(segments: Segment[]): string[] {
  return segments.map((s) => `${s.type === 'b' ? 'base' : 'incr'} ${s.name} from offset ${s.startOffset}${s.type === 'b' && s.snapshotMs > 0 ? ` (snapshot ${new Date(s.snapshotMs).toISOString()})` : ''}`);
}

function chooseBase(segments: Segment[], target: RestoreTarget): Segment {
  let best: Segment | null = null;
  for (const s of segments) {
    if (s.type !== 'b') continue;
    const ok = 'timeMs' in target ? s.snapshotMs > 0 && s.snapshotMs <= target.timeMs : s.startOffset <= target.offset;
    if (ok && (best === null || s.startOffset >= best.startOffset)) best = s;
  }
  if (best === null) {
    const what = 'timeMs' in target ? new Date(target.timeMs).toISOString() : `offset ${target.offset}`;
    throw new RestoreError(`no snapshot at or before ${what} is kept (the archive starts later, or aof-archive was off)`);
  }
  return best;
}

/** Write the recovered AOF directory. */
export function restorePointInTime(opts: RestoreOptions): RestoreResult {
  const segments = collectSegments(opts);
  const base = chooseBase(segments, opts.target);
  const incrs = segments.filter((s) => s.type === 'i' && s.startOffset >= base.startOffset);
  const out: Buffer[] = [];
  let offset = base.startOffset;
  let records = 0;
  let lastTimeMs: number | null = null;
  const stopSec = 'timeMs' in opts.target ? Math.floor(opts.target.timeMs / 1000) : Infinity;
  const stopOffset = 'offset' in opts.target ? opts.target.offset : Infinity;
  let stopped = false;
  for (const seg of incrs) {
    if (stopped) break;
    if (seg.startOffset !== offset) {
      throw new RestoreError(`the history has a gap: ${seg.name} starts at offset ${seg.startOffset}, expected ${offset}`);
    }
    const buf = seg.read();
    let pos = 0;
    // The pieces of `buf` kept so far (records and #TS lines), and where the open MULTI started among them.
    const kept: Buffer[] = [];
    let multiAt = -1;
    let multiOffset = 0;
    let multiRecords = 0;
    for (;;) {
      if (pos >= buf.length) break;
      if (buf[pos] === 35) {
        const nl = buf.indexOf(10, pos);
        if (nl < 0) break;
        // A preallocated file's group frame: its records are kept, not the frame; a torn one ends the history.
        const group = readGroupHeader(buf, pos);
        if (group !== null) {
          if (group.state !== 'intact') {
            stopped = true;
            break;
          }
          pos = group.body;
          continue;
        }
        const line = buf.latin1Slice(pos, nl).trim();
        if (line.startsWith('#TS:')) {
          const sec = Number(line.slice(4));
          if (sec > stopSec) {
            stopped = true;
            break;
          }
          if (multiAt < 0) lastTimeMs = sec * 1000;
          kept.push(buf.subarray(pos, nl + 1));
        }
        pos = nl + 1;
        continue;
      }
      let cmd;
      try {
        cmd = readAofCommand(buf, pos);
      } catch (e) {
        // A torn tail (crash) ends the history there.
        if (e instanceof AofTruncatedError || e instanceof AofFormatError) {
          stopped = true;
          break;
        }
        throw e;
      }
      if (cmd === null) break;
      const size = cmd.end - pos;
      if (offset + size > stopOffset) {
        stopped = true;
        break;
      }
      const name = cmd.argv[0]!.toLowerCase();
      if (name === 'multi') {
        multiAt = kept.length;
        multiOffset = offset;
        multiRecords = records;
      }
      offset += size;
      records++;
      kept.push(buf.subarray(pos, cmd.end));
      pos = cmd.end;
      if (name === 'exec') multiAt = -1;
    }
    if (multiAt >= 0) {
      // Never cut inside a transaction: drop it whole.
      kept.length = multiAt;
      offset = multiOffset;
      records = multiRecords;
      stopped = true;
    }
    out.push(...kept);
  }
  writeRestored(opts, base, Buffer.concat(out));
  return { base: base.name, baseOffset: base.startOffset, offset, records, lastTimeMs };
}

function writeRestored(opts: RestoreOptions, base: Segment, incr: Buffer): void {
  const outDir = path.resolve(opts.out);
  if (fs.existsSync(outDir) && fs.readdirSync(outDir).length > 0) throw new RestoreError(`${outDir} is not empty`);
  const aofDir = path.join(outDir, opts.appenddirname ?? 'appendonlydir');
  fs.mkdirSync(aofDir, { recursive: true });
  const prefix = opts.appendfilename ?? 'appendonly.aof';
  const baseBytes = base.read();
  const isRdb = baseBytes.latin1Slice(0, 5) === 'REDIS';
  const baseName = `${prefix}.1.base.${isRdb ? 'rdb' : 'aof'}`;
  const incrName = `${prefix}.1.incr.aof`;
  writeFileAtomic(path.join(aofDir, baseName), baseBytes, aofDir);
  writeFileAtomic(path.join(aofDir, incrName), incr, aofDir);
  writeFileAtomic(
    path.join(aofDir, `${prefix}.vireo-offsets`),
    `${quoteName(baseName)} ${base.startOffset} ${base.snapshotMs}\n${quoteName(incrName)} ${base.startOffset} 0\n`,
    aofDir,
  );
  writeFileAtomic(
    path.join(aofDir, `${prefix}.manifest`),
    formatManifest([
      { name: baseName, seq: 1, type: 'b' },
      { name: incrName, seq: 1, type: 'i' },
    ]),
    aofDir,
  );
  fsyncDir(outDir);
}
