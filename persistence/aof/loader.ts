/**
 * Reading the AOF: the base (an RDB preamble, or commands) and the incr
 * files the manifest names, in order, each command handed to `replay`.
 * A transaction is applied only once its EXEC is read; a torn record or an
 * unfinished MULTI at the end of the last file is cut off (with
 * aof-load-truncated), anywhere else it stops loading. Groups written into
 * a preallocated tail (preallocation.ts) are replayed only when their
 * checksum matches; the torn write of the last one is cut off likewise,
 * and so is the padding after the last record.
 */

import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../../src/config.js';
import type { Logger } from '../../src/logger.js';
import type { RdbStore } from '../rdb-store.js';
import { RdbError } from '../rdb/format.js';
import { AofFormatError, AofTruncatedError, readAofCommand } from '../resp.js';
import { argLength, hasBigArgs } from '../../src/protocol/big-args.js';
import { AofLoadError, type AofManifest } from './manifest.js';
import { intactGroupAfter, paddedAfter, readGroupHeader } from './preallocation.js';

export type Replay = (argv: string[]) => void;
export type LoadProgress = (file: string, bytes: number, total: number) => void;

export class AofLoader {
  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly rdb: RdbStore,
    private readonly manifest: AofManifest,
  ) {}

  /** Replay the base and incr files of the manifest in order; returns the log offset after them. */
  *replayFiles(replay: Replay, progress: LoadProgress): Generator<void, number> {
    const m = this.manifest;
    const dir = m.dir;
    const base = m.files.find((f) => f.type === 'b');
    const order = [...(base ? [base] : []), ...m.liveIncrs()];
    let offset = 0;
    for (const [i, f] of order.entries()) {
      const full = path.join(dir, f.name);
      if (!fs.existsSync(full)) throw new AofLoadError(`The AOF file ${f.name} doesn't exist`);
      const isLast = i === order.length - 1;
      const start = m.startOffsetOf(f.name);
      if (start !== undefined) offset = start;
      const started = Date.now();
      offset += yield* this.loadFile(full, f.name, f.type === 'b', isLast, replay, progress);
      // Redis says nothing of an empty file.
      if (fs.statSync(full).size > 0) this.logger.info(`DB loaded from ${f.type === 'b' ? 'base' : 'incr'} file ${f.name}: ${((Date.now() - started) / 1000).toFixed(3)} seconds`);
    }
    m.baseSize = base ? fs.statSync(path.join(dir, base.name)).size : 0;
    m.recomputeSize();
    m.rewriteBaseSize = m.currentSize;
    return offset;
  }

  /** Log bytes replayed from the last loaded file. */
  fileLogBytes = 0;
  /** AUX fields of the last RDB preamble loaded (repl-id: the history the files continue). */
  baseAux: Map<string, string> | null = null;

  /** Replay one file; returns the log bytes it holds (commands, not annotations). */
  private *loadFile(full: string, name: string, isBase: boolean, isLast: boolean, replay: Replay, progress: LoadProgress): Generator<void, number> {
    let buf = fs.readFileSync(full);
    let pos = 0;
    let logBytes = 0;
    progress(name, 0, buf.length);
    if (buf.length >= 5 && buf.latin1Slice(0, 5) === 'REDIS') {
      this.logger.info(isBase ? 'Reading RDB base file on AOF loading...' : 'Reading RDB preamble from AOF file...');
      let r;
      try {
        r = yield* this.rdb.loadSteps(buf, { preamble: true, onProgress: (b) => progress(name, b, buf.length) });
      } catch (e) {
        if (e instanceof RdbError) throw new AofLoadError(`Bad RDB preamble in the append only file ${name}: ${e.message}`);
        throw e;
      }
      pos = r.end;
      this.baseAux = r.aux;
      // A replica's incr files continue its primary's stream where the base left it, with no SELECT of their own.
      const streamDb = r.aux.get('repl-stream-db');
      if (streamDb !== undefined && /^[0-9]{1,9}$/.test(streamDb)) replay(['SELECT', streamDb]);
    }
    let commands = 0;
    let multiStart = -1;
    let multiLogBytes = 0;
    const queued: { argv: string[]; at: number }[] = [];
    // Where the last whole record ends: a torn group or the padding is cut off there.
    let goodEnd = pos;
    let torn = -1;
    let truncatedAt = -1;
    // A command the server refuses (unknown, too long...) stops loading: say where it is.
    const replayAt = (argv: string[], at: number) => {
      try {
        replay(argv);
      } catch (e) {
        if (e instanceof AofLoadError) throw new AofLoadError(`${e.message}: ${name} at offset ${at}`);
        throw e;
      }
    };
    for (;;) {
      // Annotation lines between records; a group's header is checked here.
      while (pos < buf.length && buf[pos] === 35) {
        const group = readGroupHeader(buf, pos);
        if (group === null) {
          const nl = buf.indexOf(10, pos);
          if (nl < 0) break;
          pos = nl + 1;
          continue;
        }
        if (group.state === 'intact') pos = group.body;
        else if (group.state === 'short') truncatedAt = pos;
        else torn = pos;
        break;
      }
      let cmd;
      try {
        if (torn >= 0) throw new AofFormatError(`damaged group at offset ${torn}`, torn);
        if (truncatedAt >= 0) throw new AofTruncatedError(truncatedAt);
        cmd = readAofCommand(buf, pos);
      } catch (e) {
        // Damage after the last good record of a preallocated tail, with no
        // good group after it: an unacknowledged group's torn write.
        if (e instanceof AofFormatError && isLast && this.config.bool('aof-load-truncated') && paddedAfter(buf, goodEnd) && !intactGroupAfter(buf, Math.max(pos, torn) + 1)) {
          const cut = multiStart >= 0 ? multiStart : goodEnd;
          this.logger.warn(`!!! Warning: a torn write at the end of the preallocated AOF file ${name} (offset ${e.offset})!!!`);
          this.logger.warn(`!!! Truncating the AOF ${name} at offset ${cut} !!!`);
          fs.truncateSync(full, cut);
          buf = buf.subarray(0, cut);
          if (multiStart >= 0) logBytes = multiLogBytes;
          multiStart = -1;
          goodEnd = cut;
          break;
        }
        if (e instanceof AofTruncatedError) {
          const cut = multiStart >= 0 ? multiStart : e.offset;
          if (!isLast || !this.config.bool('aof-load-truncated')) {
            throw new AofLoadError(`Unexpected end of file reading the append only file ${name} at offset ${e.offset}. You can: 1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. 2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.`);
          }
          this.logger.warn(`!!! Warning: short read while loading the AOF file ${name}!!!`);
          this.logger.warn(`!!! Truncating the AOF ${name} at offset ${cut} !!!`);
          fs.truncateSync(full, cut);
          buf = buf.subarray(0, cut);
          this.logger.warn(`AOF ${name} loaded anyway because aof-load-truncated is enabled`);
          if (multiStart >= 0) logBytes = multiLogBytes;
          break;
        }
        if (e instanceof AofFormatError) {
          throw new AofLoadError(`Bad file format reading the append only file ${name} at offset ${e.offset}: make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>`);
        }
        throw e;
      }
      if (cmd === null) break;
      const name0 = cmd.argv[0]!.toLowerCase();
      const size = encodedSize(cmd.argv);
      if (name0 === 'multi') {
        multiStart = pos;
        multiLogBytes = logBytes;
        queued.length = 0;
      } else if (name0 === 'exec' && multiStart >= 0) {
        // Apply a transaction only once it is complete.
        replay(['MULTI']);
        for (const q of queued) replayAt(q.argv, q.at);
        replay(['EXEC']);
        multiStart = -1;
      } else if (multiStart >= 0) {
        queued.push({ argv: cmd.argv, at: pos });
      } else {
        replayAt(cmd.argv, pos);
      }
      logBytes += size;
      pos = goodEnd = cmd.end;
      if (++commands % 10000 === 0) {
        progress(name, pos, buf.length);
        yield;
      }
    }
    if (multiStart >= 0 && isLast) {
      this.logger.warn(`Revert incomplete MULTI/EXEC transaction in AOF file ${name}`);
      fs.truncateSync(full, multiStart);
      logBytes = multiLogBytes;
    } else if (multiStart >= 0) {
      throw new AofLoadError(`Unexpected end of file reading the append only file ${name}: incomplete MULTI/EXEC`);
    } else if (isLast && buf.length > goodEnd && paddedAfter(buf, goodEnd)) {
      // The preallocated padding a crash left: appending goes on from the last record.
      fs.truncateSync(full, goodEnd);
    }
    this.fileLogBytes = logBytes;
    return logBytes;
  }
}

function encodedSize(argv: readonly string[]): number {
  const big = hasBigArgs(argv);
  let n = 3 + String(argv.length).length;
  for (let i = 0; i < argv.length; i++) {
    const len = big ? argLength(argv, i) : argv[i]!.length;
    n += 1 + String(len).length + 2 + len + 2;
  }
  return n;
}
