/**
 * CLIENT TRACKING, CACHING, GETREDIR and TRACKINGINFO: the checks and
 * replies of Redis 7.2's clientCommand; the tracking itself is
 * src/tracking/tracking.ts, reached through ctx.host.tracking.
 */

import type { CommandImpl } from './table.js';
import type { CommandContext, Connection, TrackingOptions, TrackingView } from './context.js';
import { ERR, argLong, eq } from './util.js';
import { prefixCollision } from './tracking-prefixes.js';

/** The options after ON|OFF, parsed in order as Redis does; null after replying an error. */
function parseTrackingOptions(ctx: CommandContext, argv: string[]): TrackingOptions | null {
  const opts: TrackingOptions = { redirect: 0, bcast: false, optin: false, optout: false, noloop: false, prefixes: [] };
  for (let j = 3; j < argv.length; j++) {
    const opt = argv[j]!;
    const moreArgs = argv.length - 1 - j > 0;
    if (eq(opt, 'redirect') && moreArgs) {
      j++;
      if (opts.redirect !== 0) {
        ctx.reply.error('ERR A client can only redirect to a single other client');
        return null;
      }
      const id = argLong(ctx, argv[j]!);
      if (id === null) return null;
      // It must exist now, even if it may go away later.
      if (!ctx.host.clients.has(id)) {
        ctx.reply.error('ERR The client ID you want redirect to does not exist');
        return null;
      }
      opts.redirect = id;
    } else if (eq(opt, 'bcast')) opts.bcast = true;
    else if (eq(opt, 'optin')) opts.optin = true;
    else if (eq(opt, 'optout')) opts.optout = true;
    else if (eq(opt, 'noloop')) opts.noloop = true;
    else if (eq(opt, 'prefix') && moreArgs) opts.prefixes.push(argv[++j]!);
    else {
      ctx.reply.error(ERR.SYNTAX);
      return null;
    }
  }
  return opts;
}

/** Why CLIENT TRACKING ON with `opts` is refused for a client in state `now`, or null. */
function enableRefusal(now: TrackingView | null, opts: TrackingOptions): string | null {
  if (!opts.bcast && opts.prefixes.length > 0) return 'ERR PREFIX option requires BCAST mode to be enabled';
  if (now !== null && now.bcast !== opts.bcast) {
    return "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.";
  }
  if (opts.bcast && (opts.optin || opts.optout)) return 'ERR OPTIN and OPTOUT are not compatible with BCAST';
  if (opts.optin && opts.optout) return "ERR You can't specify both OPTIN mode and OPTOUT mode";
  if (now !== null && ((opts.optin && now.optout) || (opts.optout && now.optin))) {
    return "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.";
  }
  // Redis 7.2 goes on to enable tracking after replying the error for an
  // overlap among later new prefixes (two replies to one command, fixed
  // upstream in redis#15073); Vireo stops at the error.
  if (opts.bcast) return prefixCollision(now?.prefixes ?? new Set(), opts.prefixes);
  return null;
}

/** CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST] [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP] */
function clientTracking(ctx: CommandContext, argv: string[]): void {
  const opts = parseTrackingOptions(ctx, argv);
  if (opts === null) return;
  const conn = ctx.connection();
  const tracking = ctx.host.tracking;
  if (eq(argv[2]!, 'on')) {
    const refusal = enableRefusal(tracking.stateOf(conn), opts);
    if (refusal !== null) {
      ctx.reply.error(refusal);
      return;
    }
    tracking.enable(conn, opts);
  } else if (eq(argv[2]!, 'off')) {
    tracking.disable(conn);
  } else {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  ctx.reply.ok();
}

/** CLIENT CACHING YES|NO: the next command is remembered (OPTIN) or not (OPTOUT). */
function clientCaching(ctx: CommandContext, argv: string[]): void {
  const conn = ctx.connection();
  const state = ctx.host.tracking.stateOf(conn);
  if (state === null) {
    ctx.reply.error('ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled');
    return;
  }
  const opt = argv[2]!;
  if (eq(opt, 'yes')) {
    if (!state.optin) {
      ctx.reply.error('ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.');
      return;
    }
  } else if (eq(opt, 'no')) {
    if (!state.optout) {
      ctx.reply.error('ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.');
      return;
    }
  } else {
    ctx.reply.error(ERR.SYNTAX);
    return;
  }
  ctx.host.tracking.setCaching(conn);
  ctx.reply.ok();
}

/** CLIENT TRACKINGINFO's flags, in Redis' order. */
function trackingFlags(state: TrackingView | null): string[] {
  if (state === null) return ['off'];
  const flags = ['on'];
  if (state.bcast) flags.push('bcast');
  if (state.optin) flags.push('optin');
  if (state.optin && state.caching) flags.push('caching-yes');
  if (state.optout) flags.push('optout');
  if (state.optout && state.caching) flags.push('caching-no');
  if (state.noloop) flags.push('noloop');
  if (state.brokenRedirect) flags.push('broken_redirect');
  return flags;
}

function clientTrackingInfo(ctx: CommandContext): void {
  const state = ctx.host.tracking.stateOf(ctx.connection());
  const r = ctx.reply;
  r.map(3);
  r.bulk('flags');
  const flags = trackingFlags(state);
  r.set(flags.length);
  for (const f of flags) r.bulk(f);
  r.bulk('redirect');
  r.integer(state === null ? -1 : state.redirect);
  r.bulk('prefixes');
  const prefixes = state === null ? [] : [...state.prefixes].sort();
  r.array(prefixes.length);
  for (const p of prefixes) r.bulk(p);
}

/** CLIENT LIST's tracking flags: t (tracking), R (broken redirect), B (BCAST). */
export function trackingListFlags(conn: Connection): string {
  const state = conn.ctx.host.tracking.stateOf(conn);
  if (state === null) return '';
  return 't' + (state.brokenRedirect ? 'R' : '') + (state.bcast ? 'B' : '');
}

/** CLIENT LIST's redir=: the redirection while tracking (0 for none), else -1. */
export function trackingRedirect(conn: Connection): number {
  const state = conn.ctx.host.tracking.stateOf(conn);
  return state === null ? -1 : state.redirect;
}

export const trackingCommands: CommandImpl[] = [
  { name: 'client|tracking', run: clientTracking },
  { name: 'client|caching', run: clientCaching },
  {
    name: 'client|getredir',
    run: (ctx) => ctx.reply.integer(trackingRedirect(ctx.connection())),
  },
  { name: 'client|trackinginfo', run: clientTrackingInfo },
];
