/**
 * A full synchronization: the RDB a group of replicas starts from, made by
 * the fork-less copy-on-write snapshot (persistence/snapshot.ts) at one log
 * offset, after which each replica follows the log from that offset.
 *
 * - diskless (repl-diskless-sync yes, replicas with capa eof): the snapshot
 *   is written straight to the sockets in the `$EOF:<mark>` form, paced by
 *   the slowest socket, so the primary never holds the RDB in memory;
 * - disk: the snapshot is written to a file first (Redis' BGSAVE for
 *   replication), then sent to each replica as `$<length>` in slices as its
 *   socket takes them.
 */

import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import type { Engine } from '../src/engine/engine.js';
import type { Logger } from '../src/logger.js';
import { RdbWriter } from '../persistence/rdb/file.js';
import { RdbSnapshotTarget, writeAll } from '../persistence/rdb-store.js';
import { Snapshot } from '../persistence/snapshot.js';
import { SAVE_WORKER, WorkerFile } from '../persistence/save-worker.js';
import { WHOLE_RDB, type RdbFilter, type ReplicaLink } from './replica-link.js';

/** Socket backlog above which the diskless snapshot waits for its slowest replica. */
const SOCKET_HIGH_WATER = 1024 * 1024;
/** Bytes of an RDB file read and sent per slice. */
const FILE_SLICE = 256 * 1024;

export interface FullSyncHost {
  readonly engine: Engine;
  readonly logger: Logger;
  readonly replId: string;
  /** The RDB header's aux fields, and the function libraries unless `functions` is false. */
  rdbHeader(w: RdbWriter, functions: boolean): void;
  compress: boolean;
  checksum: boolean;
  /** Directory for the disk form's file. */
  dataDir: string;
}

export type FullSyncMode = 'disk' | 'diskless';

export class FullSync {
  /** Log offset the snapshot is taken at: the replicas follow the log from here. */
  readonly offset: number;
  private snapshot: Snapshot | null = null;
  /** The save worker's job compressing this sync's RDB (null: compressed on the event loop). */
  private relay: WorkerFile | null = null;
  private file = '';
  private fd = -1;
  private fileSize = 0;
  private finished = false;
  /** What continues a transfer waiting on a replica's socket, should that replica go away. */
  private readonly waitingOn = new Map<ReplicaLink, () => void>();

  constructor(
    private readonly host: FullSyncHost,
    readonly mode: FullSyncMode,
    readonly links: ReplicaLink[],
    /** Called once every replica has its RDB (or the sync failed). */
    private readonly onDone: (sync: FullSync, ok: boolean) => void,
  ) {
    this.offset = host.engine.log.offset;
    // The replicas of one sync asked for the same parts of the RDB (Primary.startSyncs).
    this.filter = links[0]?.capa.rdbFilter ?? WHOLE_RDB;
  }

  /** The parts of the RDB this sync writes (REPLCONF rdb-filter-only). */
  private readonly filter: RdbFilter;

  /** Write the dataset through `target` (nothing when the keys are filtered out), then `done`. */
  private snapshotInto(target: RdbSnapshotTarget, opts: ConstructorParameters<typeof Snapshot>[2], done: (err: Error | null) => void): void {
    if (!this.filter.data) {
      setImmediate(() => done(null));
      return;
    }
    const snap = new Snapshot(this.host.engine, target, opts);
    this.snapshot = snap;
    snap.runAsync(done);
  }

  /** Tell the replicas where they start and begin producing the RDB. */
  start(): void {
    const { replId } = this.host;
    for (const link of this.links) {
      link.nextOffset = this.offset;
      if (!link.oldProtocol) link.conn.sendRaw([Buffer.from(`+FULLRESYNC ${replId} ${this.offset}\r\n`, 'latin1')]);
    }
    if (this.mode === 'diskless') this.startDiskless();
    else this.startDisk();
  }

  get inProgress(): boolean {
    return !this.finished;
  }

  abort(): void {
    if (this.finished) return;
    this.snapshot?.abort();
    this.finish(false);
  }

  /** A replica of this sync disconnected: whatever waits on its socket goes on without it. */
  dropLink(link: ReplicaLink): void {
    const resume = this.waitingOn.get(link);
    if (resume === undefined) return;
    this.waitingOn.delete(link);
    resume();
  }

  /** Call `resume` when `link`'s socket drains, or when it goes away. */
  private waitFor(link: ReplicaLink, resume: () => void): void {
    let called = false;
    const once = () => {
      if (called) return;
      called = true;
      this.waitingOn.delete(link);
      resume();
    };
    this.waitingOn.set(link, once);
    link.conn.whenWritable(once);
  }

  /** The replicas still connected. */
  private live(): ReplicaLink[] {
    return this.links.filter((l) => !l.conn.closed);
  }

  // ---- diskless -------------------------------------------------------------------

  private startDiskless(): void {
    const mark = crypto.randomBytes(20).toString('hex');
    for (const link of this.links) {
      link.state = 'send_bulk';
      link.conn.sendRaw([Buffer.from(`$EOF:${mark}\r\n`, 'latin1')]);
    }
    const send = (chunk: Buffer): void => {
      for (const link of this.live()) link.conn.sendRaw([chunk]);
    };
    // The save worker compresses and sends the bytes back in order, its own buffers; the
    // writer on its own may hand out a value's own bytes, so the sockets get a copy of those.
    const relay = SAVE_WORKER ? new WorkerFile(null, false, this.host.checksum) : null;
    if (relay !== null) relay.onOutput = send;
    this.relay = relay;
    const writer = this.writer((chunk) => send(Buffer.from(chunk)), relay);
    const target = new RdbSnapshotTarget(writer);
    const pace = (resume: () => void): boolean => this.paceDiskless(resume) || (relay !== null && relay.pace(resume));
    this.snapshotInto(target, { pace }, (err) => {
      if (err === null) {
        try {
          writer.end();
        } catch (e) {
          err = e as Error;
        }
      }
      if (err !== null || this.live().length === 0) {
        if (err !== null) this.host.logger.warn(`Diskless RDB transfer failed: ${err.message}`);
        this.finish(false);
        return;
      }
      this.whenWorkerDone(relay, 'Diskless RDB transfer failed', () => this.disklessDone(mark));
    });
  }

  /** Every byte of the RDB is on its way: the end mark, then each replica waits for its first ACK. */
  private disklessDone(mark: string): void {
    const tail = Buffer.from(mark, 'latin1');
    for (const link of this.live()) {
      link.conn.sendRaw([tail]);
      // SYNC readers never acknowledge: they get the stream right away.
      if (link.oldProtocol || link.capa.rdbOnly) this.delivered(link);
      else {
        link.awaitingFirstAck = true;
        link.lastAckMs = Date.now();
      }
    }
    this.host.logger.info('Diskless RDB transfer done, replicas streaming');
    this.finish(true);
  }

  /** Wait for the slowest socket before the next slice of the snapshot (false: go on now). */
  private paceDiskless(resume: () => void): boolean {
    for (const link of this.live()) {
      if (link.conn.socketPending > SOCKET_HIGH_WATER) {
        this.waitFor(link, resume);
        return true;
      }
    }
    return false;
  }

  // ---- disk -------------------------------------------------------------------------

  private startDisk(): void {
    this.file = path.join(this.host.dataDir, `temp-repl-${process.pid}-${Date.now()}.rdb`);
    let fd: number;
    try {
      fd = fs.openSync(this.file, 'w+', 0o644);
    } catch (e) {
      this.host.logger.warn(`Can't open the RDB file for replication: ${(e as Error).message}`);
      setImmediate(() => this.finish(false));
      return;
    }
    this.fd = fd;
    // The save worker writes through a descriptor of its own (it closes it); `fd` reads the file back.
    let file: WorkerFile | null = null;
    try {
      if (SAVE_WORKER) file = new WorkerFile(fs.openSync(this.file, 'r+'), false, this.host.checksum);
    } catch (e) {
      this.host.logger.warn(`Can't open the RDB file for replication: ${(e as Error).message}`);
      setImmediate(() => this.finish(false));
      return;
    }
    this.relay = file;
    const writer = this.writer((chunk) => writeAll(fd, chunk), file);
    this.snapshotInto(new RdbSnapshotTarget(writer), file === null ? {} : { pace: file.pace }, (err) => {
      try {
        if (err !== null) throw err;
        writer.end();
      } catch (e) {
        this.host.logger.warn(`BGSAVE for replication failed: ${(e as Error).message}`);
        this.finish(false);
        return;
      }
      this.whenWorkerDone(file, 'BGSAVE for replication failed', () => this.sendDiskFile());
    });
  }

  /** The file is complete: send it to every replica still there. */
  private sendDiskFile(): void {
    this.fileSize = fs.fstatSync(this.fd).size;
    this.host.logger.info('Background RDB transfer started');
    let sending = 0;
    for (const link of this.live()) {
      link.state = 'send_bulk';
      link.conn.sendRaw([Buffer.from(`$${this.fileSize}\r\n`, 'latin1')]);
      sending++;
      this.sendFile(link, 0, () => {
        this.delivered(link);
        if (--sending === 0) this.finish(true);
      });
    }
    if (sending === 0) this.finish(false);
  }

  /** Send the file from `pos` on as the replica's socket takes it. */
  private sendFile(link: ReplicaLink, pos: number, done: () => void): void {
    while (pos < this.fileSize) {
      if (link.conn.closed || this.fd < 0) {
        done();
        return;
      }
      if (link.conn.socketPending > SOCKET_HIGH_WATER) {
        this.waitFor(link, () => this.sendFile(link, pos, done));
        return;
      }
      const n = Math.min(FILE_SLICE, this.fileSize - pos);
      const slice = Buffer.allocUnsafe(n);
      const got = fs.readSync(this.fd, slice, 0, n, pos);
      if (got <= 0) {
        link.conn.close();
        done();
        return;
      }
      link.conn.sendRaw([got === n ? slice : slice.subarray(0, got)]);
      pos += got;
    }
    done();
  }

  // ---- both -------------------------------------------------------------------------

  /**
   * Once the save worker has handled all of this sync's RDB (at once when
   * it has no part in it): `then`, or the failure logged after `what`.
   */
  private whenWorkerDone(job: WorkerFile | null, what: string, then: () => void): void {
    if (job === null) {
      then();
      return;
    }
    job.finish((err) => {
      if (this.finished) return;
      if (err === null) then();
      else {
        this.host.logger.warn(`${what}: ${err.message}`);
        this.finish(false);
      }
    }, false);
  }

  /** The RDB writer with its header written: to `sink`, or deferring compression to the save worker's `deferred`. */
  private writer(sink: (chunk: Buffer) => void, deferred: WorkerFile | null): RdbWriter {
    const w = new RdbWriter({ compress: this.host.compress, checksum: this.host.checksum, sink, ...(deferred === null ? {} : { deferred }) });
    this.host.rdbHeader(w, this.filter.functions);
    return w;
  }

  /** A replica has its whole RDB: stream the log to it (or close, for rdb-only readers). */
  private delivered(link: ReplicaLink): void {
    if (link.conn.closed) return;
    if (link.capa.rdbOnly) {
      link.conn.close();
      return;
    }
    link.goOnline();
  }

  private finish(ok: boolean): void {
    if (this.finished) return;
    this.finished = true;
    this.relay?.close();
    this.relay = null;
    if (this.fd >= 0) {
      fs.closeSync(this.fd);
      this.fd = -1;
    }
    if (this.file !== '') fs.rmSync(this.file, { force: true });
    if (!ok) for (const link of this.links) link.conn.close();
    this.onDone(this, ok);
  }
}
