/**
 * What client-side caching keeps per connection (Redis' CLIENT_TRACKING_*
 * flags, the redirection and the BCAST prefixes) and what it needs from a
 * connection to deliver invalidation messages.
 */

import type { ReplyWriter } from '../protocol/writer.js';

/** The tracking state of one connection while CLIENT TRACKING is on. */
export class ClientTracking {
  /** REDIRECT: the ID of the client that receives the messages; 0 for none. */
  redirect = 0;
  bcast = false;
  optin = false;
  optout = false;
  noloop = false;
  /** CLIENT CACHING YES|NO was given for the next command (or transaction). */
  caching = false;
  /** A message could not be redirected: the redirect client is gone. */
  brokenRedirect = false;
  /** BCAST prefixes ('' when none was given). */
  readonly prefixes = new Set<string>();
}

/** A connection as client-side caching sees it (server/client.ts implements it). */
export interface TrackingClient {
  readonly id: number;
  /** Where invalidation messages are written (pushes, or Pub/Sub messages). */
  readonly reply: ReplyWriter;
  /** The context its commands run on: BCAST with NOLOOP compares it to the modifier. */
  readonly ctx: object;
  /** Null while CLIENT TRACKING is off. */
  tracking: ClientTracking | null;
  /**
   * The Pub/Sub seam: true while the client holds a subscription (Redis'
   * CLIENT_PUBSUB). A RESP2 client that others redirect to gets their
   * invalidations as `message` frames on __redis__:invalidate only then.
   */
  inPubSubMode(): boolean;
}

/** What client-side caching needs from the server (server/server.ts implements it). */
export interface TrackingHost {
  /** A connected client by ID. */
  clientById(id: number): TrackingClient | undefined;
  /** Output was written to `c` outside its own command: send it with this turn's replies. */
  outputReady(c: TrackingClient): void;
  /** BCAST keys wait: call Tracking.broadcast() before this turn's replies go out. */
  scheduleBroadcast(): void;
  /** tracking-table-max-keys (0: no limit). */
  readonly trackingTableMaxKeys: number;
}
