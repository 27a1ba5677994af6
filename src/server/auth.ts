/**
 * The server's side of ACLs: the host the ACL registry calls back
 * (closing a deleted user's clients, re-checking subscribers), the ACL LOG
 * entries of refused commands, scripts' commands and AUTH attempts, and
 * the brute-force brake (a Vireo addition): past `auth-brake-threshold`
 * refused AUTH attempts in one second from one address, further refusals
 * are answered only after `auth-brake-ms`, with the connection
 * parked meanwhile.
 */

import { Acl, type AclHost } from '../acl/acl.js';
import { ACL_DENIED_AUTH, ACL_DENIED_CMD, ACL_DENIED_KEY, ACL_OK, channelAllowed, checkCommand, deniedIndex, denialMessage } from '../acl/check.js';
import type { LogContext } from '../acl/log.js';
import type { User } from '../acl/user.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Command, CommandTable } from '../commands/table.js';
import type { CommandContext, Connection } from '../commands/context.js';
import { clientInfoLine } from '../commands/connection.js';

const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';

/** What access control needs from the server. */
export interface AuthHost {
  readonly config: Config;
  readonly logger: Logger;
  readonly table: CommandTable;
  readonly clients: ReadonlyMap<number, AuthClient>;
  /** The client whose command runs now (Redis' current_client), if any. */
  currentClient(): AuthClient | null;
  /** Park a connection's command for `ms`, then call `done` (the AUTH brake). */
  delay(ctx: CommandContext, ms: number, done: () => void): void;
}

/** A connection as access control sees it. */
export interface AuthClient extends Connection {
  aclUser: User;
  authenticated: boolean;
  /** Close without sending what is pending (Redis' freeClientAsync). */
  drop(): void;
}

/** Refused AUTH attempts per source address within the current second. */
class AuthBrake {
  private second = 0;
  private failures = new Map<string, number>();

  /** Count one refusal from `addr`; true when it is past the threshold. */
  refused(addr: string, threshold: number, nowMs: number): boolean {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.failures = new Map();
    }
    const n = (this.failures.get(addr) ?? 0) + 1;
    this.failures.set(addr, n);
    return threshold > 0 && n > threshold;
  }
}

/** The address part of "ip:port" (IPv6 addresses keep their colons). */
function sourceAddress(addr: string): string {
  const colon = addr.lastIndexOf(':');
  return colon > 0 ? addr.slice(0, colon) : addr;
}

export class AccessControl implements AclHost {
  readonly acl: Acl;
  private readonly brake = new AuthBrake();

  constructor(private readonly host: AuthHost) {
    this.acl = new Acl(this);
    this.acl.setDefaultPassword(host.config.str('requirepass'));
  }

  // ---- AclHost ----------------------------------------------------------------

  get table(): CommandTable {
    return this.host.table;
  }

  allChannelsByDefault(): boolean {
    return this.host.config.str('acl-pubsub-default') === 'allchannels';
  }

  logMaxLen(): number {
    return this.host.config.int('acllog-max-len');
  }

  warn(msg: string): void {
    this.host.logger.warn(msg);
  }

  /** Redis' ACLFreeUserAndKillClients: the running client closes after its reply, the others at once. */
  killClientsOf(user: User): void {
    const current = this.host.currentClient();
    for (const c of [...this.host.clients.values()]) {
      if (c.aclUser !== user) continue;
      c.aclUser = this.acl.defaultUser;
      c.authenticated = false;
      if (c === current) c.closeAfterReply = true;
      else c.drop();
    }
  }

  /** Redis' ACLKillPubsubClientsIfNeeded: subscribers of `user` to a channel it may no longer use are closed. */
  recheckSubscribers(user: User): void {
    if (user.selectors.some((s) => s.allChannels)) return;
    const allowed = (channel: string, pattern: boolean) => user.selectors.some((s) => channelAllowed(s, channel, pattern));
    for (const c of [...this.host.clients.values()]) {
      const subs = c.subscriptions;
      if (c.aclUser !== user || subs === null) continue;
      let kill = false;
      for (const p of subs.patterns.values()) if (!allowed(p, true)) kill = true;
      for (const ch of subs.channels.values()) if (!allowed(ch, false)) kill = true;
      for (const ch of subs.shardChannels.values()) if (!allowed(ch, false)) kill = true;
      if (kill) c.drop();
    }
  }

  // ---- refusals -----------------------------------------------------------------

  private logContext(ctx: CommandContext): LogContext {
    return ctx.multi !== null || ctx.inExec ? 'multi' : 'toplevel';
  }

  private clientInfo(conn: Connection | null): string {
    return conn === null ? '' : clientInfoLine(conn);
  }

  /**
   * Dispatch's check: null when `user` may run the command line, else the
   * -NOPERM error (and an ACL LOG entry).
   */
  refusal(conn: AuthClient, cmd: Command, argv: readonly string[]): string | null {
    const user = conn.aclUser;
    const result = checkCommand(user, cmd, argv);
    if (result === ACL_OK) return null;
    const at = deniedIndex;
    const object = at === 0 ? cmd.name : argv[at]!;
    this.acl.log.add(result, this.logContext(conn.ctx), object, user.name, this.clientInfo(conn));
    return `NOPERM ${denialMessage(result, user, cmd, argv[at]!, false)}`;
  }

  /** A queued command at EXEC, when the rules changed after it was queued: the error, or null. */
  execRefusal(conn: AuthClient, cmd: Command, argv: readonly string[]): string | null {
    const user = conn.aclUser;
    const result = checkCommand(user, cmd, argv);
    if (result === ACL_OK) return null;
    const at = deniedIndex;
    this.acl.log.add(result, 'multi', at === 0 ? cmd.name : argv[at]!, user.name, this.clientInfo(conn));
    const reason =
      result === ACL_DENIED_CMD
        ? 'no permission to execute the command or subcommand'
        : result === ACL_DENIED_KEY
          ? 'no permission to touch the specified keys'
          : 'no permission to access one of the channels used as arguments';
    return `NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC call. This command is no longer allowed for the following reason: ${reason}`;
  }

  /** redis.call's check (Redis' scriptVerifyACL): the error, or null. */
  scriptRefusal(caller: CommandContext, cmd: Command, argv: readonly string[]): string | null {
    const conn = caller.conn;
    if (conn === null) return null;
    const user = conn.aclUser;
    if (user.unrestricted) return null;
    const result = checkCommand(user, cmd, argv);
    if (result === ACL_OK) return null;
    const at = deniedIndex;
    const object = at === 0 ? cmd.name : argv[at]!;
    this.acl.log.add(result, 'lua', object, user.name, this.clientInfo(conn));
    return `ERR ACL failure in script: ${denialMessage(result, user, cmd, argv[at]!, false)}`;
  }

  /** A refused AUTH or HELLO AUTH: logged, then answered (late when the brake holds the address). */
  authFailed(ctx: CommandContext, username: string, command: string): void {
    const conn = ctx.conn;
    this.acl.log.add(ACL_DENIED_AUTH, this.logContext(ctx), command, username, this.clientInfo(conn));
    const threshold = this.host.config.int('auth-brake-threshold');
    const braked = conn !== null && this.brake.refused(sourceAddress(conn.addr), threshold, Date.now());
    if (!braked || !ctx.canBlock()) {
      ctx.reply.error(WRONGPASS);
      return;
    }
    this.host.delay(ctx, this.host.config.int('auth-brake-ms'), () => ctx.reply.error(WRONGPASS));
  }
}
