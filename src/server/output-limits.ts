/**
 * client-output-buffer-limit (Redis' checkClientOutputBufferLimits): per
 * client class a hard limit, and a soft limit that may be exceeded for at
 * most soft-seconds in a row. A client over either is closed at once, its
 * pending output dropped, so one slow or hostile reader cannot grow the
 * server's memory without bound.
 */

export type LimitClass = 'normal' | 'slave' | 'pubsub';

export interface OutputLimit {
  hard: number;
  soft: number;
  softSeconds: number;
}

export type OutputLimits = Record<LimitClass, OutputLimit>;

/** Parse the normalized config value ("normal 0 0 0 slave 268435456 67108864 60 pubsub ..."). */
export function parseOutputLimits(value: string): OutputLimits {
  const limits: OutputLimits = {
    normal: { hard: 0, soft: 0, softSeconds: 0 },
    slave: { hard: 0, soft: 0, softSeconds: 0 },
    pubsub: { hard: 0, soft: 0, softSeconds: 0 },
  };
  const parts = value.split(' ').filter((p) => p !== '');
  for (let i = 0; i + 3 < parts.length; i += 4) {
    const cls = parts[i] as LimitClass;
    if (!(cls in limits)) continue;
    limits[cls] = { hard: Number(parts[i + 1]), soft: Number(parts[i + 2]), softSeconds: Number(parts[i + 3]) };
  }
  return limits;
}

/** True if no class has a limit: the per-flush check can be skipped. */
export function noLimits(l: OutputLimits): boolean {
  return l.normal.hard === 0 && l.normal.soft === 0 && l.slave.hard === 0 && l.slave.soft === 0 && l.pubsub.hard === 0 && l.pubsub.soft === 0;
}

/**
 * Tracks how long one client has been over its soft limit. `over` answers
 * whether the client must be closed now, given its pending output bytes.
 */
export class SoftLimitClock {
  /** Unix second when the client went over the soft limit, or 0. */
  since = 0;

  over(limit: OutputLimit, bytes: number, nowMs: number): boolean {
    if (limit.hard > 0 && bytes >= limit.hard) return true;
    if (limit.soft > 0 && bytes >= limit.soft) {
      const now = Math.floor(nowMs / 1000);
      if (this.since === 0) {
        this.since = now;
        return false;
      }
      // As Redis: closed once more than soft-seconds whole seconds have passed.
      return now - this.since > limit.softSeconds;
    }
    this.since = 0;
    return false;
  }
}
