/**
 * One replica as its primary sees it: the connection that sent SYNC or
 * PSYNC, what it declared with REPLCONF, where it is in the command log,
 * and what it acknowledged. It follows the log like the AOF does: from
 * `nextOffset` on, every log byte goes to its socket, in order. While its
 * RDB is produced or sent, the log bytes wait in `pending`.
 */

import type { DurableFollower } from '../src/log/gate.js';

/**
 * What replication needs of a client connection (the server's Client is
 * one): declared here so replication/ does not import the command layer.
 */
export interface ReplicaConnection {
  readonly ctx: { kind: string };
  /** "ip:port" of the peer. */
  readonly addr: string;
  readonly closed: boolean;
  replyOff: boolean;
  /** Send what the reply writer holds. */
  flush(): void;
  close(): void;
  /** Write bytes as they are, outside the reply writer. */
  sendRaw(chunks: Buffer[]): void;
  /** Bytes handed to the socket that it has not taken yet. */
  readonly socketPending: number;
  /** Call `resume` once the socket has taken most of what waits. */
  whenWritable(resume: () => void): void;
}

/** INFO's state names (Redis' replstate). */
export type LinkState = 'wait_bgsave' | 'send_bulk' | 'online';

/** What a replica declared before SYNC/PSYNC (REPLCONF). */
export interface ReplicaCapabilities {
  listeningPort: number;
  /** REPLCONF ip-address, or '' (the peer address is used). */
  announcedIp: string;
  /** capa eof: it reads the diskless `$EOF:<mark>` RDB form. */
  eof: boolean;
  /** capa psync2: it understands `+CONTINUE <replid>`. */
  psync2: boolean;
  /** REPLCONF rdb-only 1 (redis-cli --rdb): the RDB and nothing after it. */
  rdbOnly: boolean;
  /** What its RDB leaves out (REPLCONF rdb-filter-only). */
  rdbFilter: RdbFilter;
}

/**
 * REPLCONF rdb-filter-only: the parts of the RDB a replica asked for.
 * Redis' only include filter is `functions` (redis-cli --functions-rdb):
 * any filter drops the keys, and the functions unless named.
 */
export interface RdbFilter {
  readonly data: boolean;
  readonly functions: boolean;
}

export const WHOLE_RDB: RdbFilter = { data: true, functions: true };

/** Can replicas asking for `a` and `b` share one RDB? */
export function sameRdbFilter(a: RdbFilter, b: RdbFilter): boolean {
  return a.data === b.data && a.functions === b.functions;
}

export function noCapabilities(): ReplicaCapabilities {
  return { listeningPort: 0, announcedIp: '', eof: false, psync2: false, rdbOnly: false, rdbFilter: WHOLE_RDB };
}

export class ReplicaLink implements DurableFollower {
  readonly kind = 'replica' as const;
  /** Synchronous replication: replies wait for this replica's acknowledgement. */
  required = false;
  /** Replies it holds back wait for its acknowledgement, not for a write. */
  readonly durableOnWrite = false;
  state: LinkState = 'wait_bgsave';
  /** Log offset of the next byte this replica must be sent (Infinity: its sync has not started). */
  nextOffset = Infinity;
  /** Log bytes that wait while the RDB is produced and sent. */
  private pending: Buffer[] = [];
  pendingBytes = 0;
  /** REPLCONF ACK: the offset it has applied, and (FACK) the one in its AOF on disk. */
  ackOffset = 0;
  aofOffset = 0;
  /** Wall ms of its last ACK (lag), or of becoming online. */
  lastAckMs = Date.now();
  /** It sent REPLCONF ACK at least once (old SYNC readers never do: no timeout for them). */
  acks = false;
  /** SYNC (not PSYNC): it takes the stream without the +FULLRESYNC line. */
  readonly oldProtocol: boolean;
  /**
   * The diskless RDB was sent: the stream starts at its first REPLCONF ACK,
   * because a replica reading `$EOF:` finds the end mark only as the last
   * bytes it has read, so nothing may follow the mark until it has loaded.
   */
  awaitingFirstAck = false;
  /** Fed from the AOF files (disk-feed.ts), not the live stream, until it is level with it. */
  fromDisk = false;

  constructor(
    readonly conn: ReplicaConnection,
    readonly capa: ReplicaCapabilities,
    oldProtocol: boolean,
  ) {
    this.oldProtocol = oldProtocol;
  }

  /** The address INFO and ROLE show: the announced ip, else the peer's. */
  get ip(): string {
    if (this.capa.announcedIp !== '') return this.capa.announcedIp;
    const addr = this.conn.addr;
    const colon = addr.lastIndexOf(':');
    return colon < 0 ? addr : addr.slice(0, colon);
  }

  /** Log bytes [start, start + chunk.length), a copy the link may keep. */
  feed(chunk: Buffer, start: number): void {
    if (this.conn.closed || this.fromDisk) return;
    const end = start + chunk.length;
    if (end <= this.nextOffset) return;
    const data = start < this.nextOffset ? chunk.subarray(this.nextOffset - start) : chunk;
    this.nextOffset = end;
    if (this.state === 'online') this.conn.sendRaw([data]);
    else {
      this.pending.push(data);
      this.pendingBytes += data.length;
    }
  }

  /** The RDB is sent: send what the log gathered meanwhile, then follow it live. */
  goOnline(): void {
    this.state = 'online';
    this.lastAckMs = Date.now();
    const held = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (held.length > 0 && !this.conn.closed) this.conn.sendRaw(held);
  }

  durableOffset(): number {
    return this.required ? this.ackOffset : Infinity;
  }

  fsyncedOffset(): number {
    return this.aofOffset;
  }

  ackedOffset(): number {
    return this.ackOffset;
  }

  /** Seconds since its last ACK (INFO lag). */
  lagSeconds(nowMs: number): number {
    return Math.floor((nowMs - this.lastAckMs) / 1000);
  }
}
