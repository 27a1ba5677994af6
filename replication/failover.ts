/**
 * FAILOVER (Redis 7): a coordinated switch of roles with a replica, losing
 * no write.
 *
 *   no-failover -> waiting-for-sync: writes are paused, the replicas asked
 *     for their offsets; once the target (or, without TO, any replica) has
 *     acknowledged the whole log ...
 *   -> failover-in-progress: this server becomes a replica of the target
 *     and sends it `PSYNC <replid> <offset> FAILOVER`, on which the target
 *     promotes itself and continues this server from its backlog (the old
 *     history is its replid2): a partial resync, no full sync;
 *   -> no-failover once the target answered, or after ABORT, the timeout
 *     (without FORCE) or a refusal, in which case this server stays primary.
 */

import type { Logger } from '../src/logger.js';
import type { ReplicationPrimary } from './primary.js';

export type FailoverState = 'no-failover' | 'waiting-for-sync' | 'failover-in-progress';

export interface FailoverHost {
  readonly logger: Logger;
  readonly primary: ReplicationPrimary;
  /** The command log's end: what the target must have. */
  logOffset(): number;
  pauseWrites(): void;
  unpauseWrites(): void;
  /** Follow `host:port`, asking it to take over (PSYNC ... FAILOVER); `done` gets whether it accepted. */
  followForFailover(host: string, port: number, done: (ok: boolean) => void): void;
  /** Back to primary after a refused takeover. */
  becomePrimary(): void;
}

export interface FailoverRequest {
  target: { host: string; port: number } | null;
  force: boolean;
  /** ms; 0: no timeout. */
  timeoutMs: number;
}

export class Failover {
  state: FailoverState = 'no-failover';
  private request: FailoverRequest | null = null;
  private deadline = 0;
  private chosen: { host: string; port: number } | null = null;

  constructor(private readonly host: FailoverHost) {}

  get inProgress(): boolean {
    return this.state !== 'no-failover';
  }

  start(req: FailoverRequest): void {
    this.request = req;
    this.deadline = req.timeoutMs > 0 ? Date.now() + req.timeoutMs : 0;
    this.state = 'waiting-for-sync';
    this.host.logger.info(`FAILOVER requested to ${req.target === null ? 'any replica' : `${req.target.host}:${req.target.port}`}.`);
    this.host.pauseWrites();
    // Nothing may grow the log now: the target must become level with it (no pings either, as Redis).
    this.host.primary.pingsPaused = true;
    this.host.primary.requestAcks();
    this.check();
  }

  /**
   * Cron and ACKs: is the target level with the log yet? Has the timeout
   * passed? (The offsets asked for at the start come back with the GETACK
   * counted; asking again would grow the log past them each time.)
   */
  check(): void {
    const req = this.request;
    if (req === null || this.state !== 'waiting-for-sync') return;
    const offset = this.host.logOffset();
    const level = this.host.primary.onlineReplicas().find((r) => r.offset >= offset && (req.target === null || (r.ip === req.target.host && r.port === req.target.port)));
    if (level !== undefined) {
      this.takeOver(level.ip, level.port);
      return;
    }
    if (this.deadline > 0 && Date.now() >= this.deadline) {
      if (req.force && req.target !== null) {
        this.host.logger.info('FAILOVER timeout reached, forcing the failover.');
        this.takeOver(req.target.host, req.target.port);
      } else {
        this.abort('Replica never caught up before timeout');
      }
      return;
    }
  }

  private takeOver(host: string, port: number): void {
    this.state = 'failover-in-progress';
    this.chosen = { host, port };
    this.host.logger.info(`Failover target ${host}:${port} is synced, failing over.`);
    this.host.followForFailover(host, port, (ok) => {
      if (this.state !== 'failover-in-progress') return;
      if (ok) this.finish();
      else this.abort('Failover target rejected psync request');
    });
  }

  /** FAILOVER ABORT, a timeout, a refusal: stay (or become again) primary. */
  abort(why: string): void {
    if (this.state === 'no-failover') return;
    this.host.logger.warn(`FAILOVER aborted: ${why}`);
    const wasFollowing = this.state === 'failover-in-progress';
    this.reset();
    if (wasFollowing) this.host.becomePrimary();
  }

  private finish(): void {
    const target = this.chosen;
    this.host.logger.info(`Failover to ${target?.host}:${target?.port} succeeded.`);
    this.reset();
  }

  private reset(): void {
    this.state = 'no-failover';
    this.request = null;
    this.chosen = null;
    this.host.primary.pingsPaused = false;
    this.host.unpauseWrites();
  }
}
