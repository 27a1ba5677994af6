/**
 * ACL LOG (Redis 7.2's addACLLogEntry): refused commands, keys, channels
 * and AUTH attempts, newest first. An entry like one of the ten newest
 * (same reason, context, object and user, within 60 s) is counted there
 * instead of added. At most acllog-max-len entries are kept.
 */

import { ACL_DENIED_AUTH, ACL_DENIED_CHANNEL, ACL_DENIED_CMD, ACL_DENIED_KEY } from './results.js';

export type LogContext = 'toplevel' | 'multi' | 'lua';

export interface AclLogEntry {
  count: number;
  reason: number;
  context: LogContext;
  object: string;
  username: string;
  /** Last update, ms since the epoch. */
  updatedAt: number;
  clientInfo: string;
  readonly entryId: number;
  readonly createdAt: number;
}

const GROUPING_MAX_MS = 60000;
const GROUPING_SCAN = 10;

export function reasonName(reason: number): string {
  switch (reason) {
    case ACL_DENIED_CMD:
      return 'command';
    case ACL_DENIED_KEY:
      return 'key';
    case ACL_DENIED_CHANNEL:
      return 'channel';
    case ACL_DENIED_AUTH:
      return 'auth';
    default:
      return 'unknown';
  }
}

/** INFO's acl_access_denied_* counters. */
export class AclStats {
  auth = 0;
  cmd = 0;
  key = 0;
  channel = 0;
}

export class AclLog {
  /** Newest first. */
  entries: AclLogEntry[] = [];
  private nextId = 0;
  readonly stats = new AclStats();

  constructor(private readonly maxLen: () => number) {}

  add(reason: number, context: LogContext, object: string, username: string, clientInfo: string, now = Date.now()): void {
    this.count(reason);
    const entries = this.entries;
    const scan = Math.min(GROUPING_SCAN, entries.length);
    for (let i = 0; i < scan; i++) {
      const e = entries[i]!;
      if (e.reason === reason && e.context === context && Math.abs(e.updatedAt - now) <= GROUPING_MAX_MS && e.object === object && e.username === username) {
        e.count++;
        e.updatedAt = now;
        e.clientInfo = clientInfo;
        entries.splice(i, 1);
        entries.unshift(e);
        return;
      }
    }
    entries.unshift({ count: 1, reason, context, object, username, updatedAt: now, clientInfo, entryId: this.nextId++, createdAt: now });
    const max = this.maxLen();
    if (entries.length > max) entries.length = max;
  }

  reset(): void {
    this.entries = [];
  }

  private count(reason: number): void {
    if (reason === ACL_DENIED_AUTH) this.stats.auth++;
    else if (reason === ACL_DENIED_CMD) this.stats.cmd++;
    else if (reason === ACL_DENIED_KEY) this.stats.key++;
    else this.stats.channel++;
  }
}
