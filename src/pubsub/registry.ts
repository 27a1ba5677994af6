/**
 * The Pub/Sub registry (Redis' pubsub.c): who listens to which channel,
 * pattern and shard channel, and the delivery of a published message.
 *
 * Both directions are kept, as Redis keeps them: channel -> subscribers
 * (what PUBLISH reads) and subscriber -> its subscriptions (what the
 * confirmations count and what UNSUBSCRIBE without arguments, RESET and a
 * disconnection walk). PUBLISH costs one lookup, one pass over the
 * patterns, and one write per receiver: the frame is encoded once and the
 * same bytes go to every receiver (frames.ts).
 *
 * The server-wide tables and each subscriber's sets are ScanMap/ScanSet:
 * a client may subscribe to more names than one V8 Map holds (2^24).
 */

import { ScanMap, ScanSet } from '../util/bigmap.js';
import { globMatch } from '../util/glob.js';
import { encodeMessage, withPushHeader, type MessageKind, type Payload } from './frames.js';

/** One connection's subscriptions. */
export class Subscriptions {
  readonly channels = new ScanSet();
  readonly patterns = new ScanSet();
  readonly shardChannels = new ScanSet();

  /** Channels and patterns: the count SUBSCRIBE and PSUBSCRIBE confirmations carry (clientSubscriptionsCount). */
  get count(): number {
    return this.channels.size + this.patterns.size;
  }

  /** Everything, shard channels included: the connection is in Pub/Sub mode while this is not 0. */
  get total(): number {
    return this.channels.size + this.patterns.size + this.shardChannels.size;
  }
}

/** A connection as Pub/Sub sees it (the server's Client implements it). */
export interface Subscriber {
  readonly id: number;
  /** Its subscriptions; null until it first subscribes. */
  subscriptions: Subscriptions | null;
  /** The protocol version its frames are encoded in. */
  readonly protocol: 2 | 3;
  /** Append an encoded frame to its output, as it is (never copied by the caller again, never changed). */
  writePush(frame: Buffer): void;
}

interface PatternEntry {
  readonly matches: (channel: string) => boolean;
  readonly subscribers: Set<Subscriber>;
}

/**
 * A matcher for one pattern, as Redis' stringmatchlen decides it. Not
 * KEYS' globMatcher: KEYS '*' takes an all-keys shortcut that also lists
 * the empty key, while stringmatchlen('*', '') is false, so neither
 * PSUBSCRIBE '*' nor PUBSUB CHANNELS '*' matches the empty channel name.
 */
function channelMatcher(pattern: string): (channel: string) => boolean {
  if (!/[*?[\\]/.test(pattern)) return (channel) => channel === pattern;
  if (pattern === '*') return (channel) => channel.length > 0;
  return (channel) => globMatch(pattern, channel);
}

/** Which table a channel subscription lives in. */
export type ChannelKind = 'global' | 'shard';

function subscriptionsOf(s: Subscriber): Subscriptions {
  if (s.subscriptions === null) s.subscriptions = new Subscriptions();
  return s.subscriptions;
}

export class PubSub {
  private readonly channels = new ScanMap<Set<Subscriber>>();
  private readonly shardChannels = new ScanMap<Set<Subscriber>>();
  private readonly patterns = new ScanMap<PatternEntry>();

  /** Channels with at least one subscriber (INFO pubsub_channels). */
  get channelCount(): number {
    return this.channels.size;
  }

  /** Distinct patterns subscribed to (INFO pubsub_patterns, PUBSUB NUMPAT). */
  get patternCount(): number {
    return this.patterns.size;
  }

  /** Shard channels with at least one subscriber (INFO pubsubshard_channels). */
  get shardChannelCount(): number {
    return this.shardChannels.size;
  }

  /** Whether anyone listens to anything but shard channels (keyspace notifications skip their work otherwise). */
  get hasListeners(): boolean {
    return this.channels.size > 0 || this.patterns.size > 0;
  }

  private table(kind: ChannelKind): ScanMap<Set<Subscriber>> {
    return kind === 'global' ? this.channels : this.shardChannels;
  }

  private own(s: Subscriptions, kind: ChannelKind): ScanSet {
    return kind === 'global' ? s.channels : s.shardChannels;
  }

  // ---- subscribing ---------------------------------------------------------------

  /** Subscribe `s` to `channel`; false when it already was. */
  subscribe(s: Subscriber, channel: string, kind: ChannelKind): boolean {
    if (!this.own(subscriptionsOf(s), kind).add(channel)) return false;
    const table = this.table(kind);
    let subscribers = table.get(channel);
    if (subscribers === undefined) {
      subscribers = new Set();
      table.set(channel, subscribers);
    }
    subscribers.add(s);
    return true;
  }

  /** Unsubscribe `s` from `channel`; false when it was not subscribed. */
  unsubscribe(s: Subscriber, channel: string, kind: ChannelKind): boolean {
    const mine = s.subscriptions;
    if (mine === null || !this.own(mine, kind).delete(channel)) return false;
    const table = this.table(kind);
    const subscribers = table.get(channel)!;
    subscribers.delete(s);
    // An empty entry is dropped at once: subscribing to millions of names and leaving must not keep them.
    if (subscribers.size === 0) table.delete(channel);
    return true;
  }

  psubscribe(s: Subscriber, pattern: string): boolean {
    if (!subscriptionsOf(s).patterns.add(pattern)) return false;
    let entry = this.patterns.get(pattern);
    if (entry === undefined) {
      entry = { matches: channelMatcher(pattern), subscribers: new Set() };
      this.patterns.set(pattern, entry);
    }
    entry.subscribers.add(s);
    return true;
  }

  punsubscribe(s: Subscriber, pattern: string): boolean {
    const mine = s.subscriptions;
    if (mine === null || !mine.patterns.delete(pattern)) return false;
    const entry = this.patterns.get(pattern)!;
    entry.subscribers.delete(s);
    if (entry.subscribers.size === 0) this.patterns.delete(pattern);
    return true;
  }

  /** Every subscription of `s`, without confirmations (RESET, a closed connection). */
  unsubscribeAll(s: Subscriber): void {
    const mine = s.subscriptions;
    if (mine === null) return;
    for (const channel of [...mine.channels.values()]) this.unsubscribe(s, channel, 'global');
    for (const channel of [...mine.shardChannels.values()]) this.unsubscribe(s, channel, 'shard');
    for (const pattern of [...mine.patterns.values()]) this.punsubscribe(s, pattern);
    s.subscriptions = null;
  }

  // ---- publishing ---------------------------------------------------------------

  /**
   * PUBLISH: `message` to the channel's subscribers, then to the
   * subscribers of every matching pattern. Returns the receivers, a client
   * counted once per subscription that matched (as Redis counts them).
   */
  publish(channel: string, message: Payload): number {
    let receivers = 0;
    const subscribers = this.channels.get(channel);
    if (subscribers !== undefined) receivers += deliver(subscribers, 'message', null, channel, message);
    if (this.patterns.size === 0) return receivers;
    for (const [pattern, entry] of this.patterns.entries()) {
      if (!entry.matches(channel)) continue;
      receivers += deliver(entry.subscribers, 'pmessage', pattern, channel, message);
    }
    return receivers;
  }

  /** SPUBLISH: shard channels have no patterns. */
  spublish(channel: string, message: Payload): number {
    const subscribers = this.shardChannels.get(channel);
    return subscribers === undefined ? 0 : deliver(subscribers, 'smessage', null, channel, message);
  }

  // ---- introspection (PUBSUB) ------------------------------------------------------

  /** Subscribers of `channel` (PUBSUB NUMSUB / SHARDNUMSUB; pattern subscribers are not counted). */
  subscriberCount(channel: string, kind: ChannelKind): number {
    return this.table(kind).get(channel)?.size ?? 0;
  }

  /** Channels with subscribers, those matching `pattern` when given (PUBSUB CHANNELS / SHARDCHANNELS). */
  channelNames(pattern: string | null, kind: ChannelKind): string[] {
    const matches = pattern === null ? null : channelMatcher(pattern);
    const out: string[] = [];
    for (const name of this.table(kind).keys()) if (matches === null || matches(name)) out.push(name);
    return out;
  }
}

/**
 * Write one message to each subscriber, encoded once per protocol version
 * and shared; returns how many subscribers there were.
 */
function deliver(subscribers: Set<Subscriber>, kind: MessageKind, pattern: string | null, channel: string, message: Payload): number {
  let resp2: Buffer | null = null;
  let resp3: Buffer | null = null;
  let n = 0;
  for (const s of subscribers) {
    if (resp2 === null) resp2 = encodeMessage(kind, pattern, channel, message);
    if (s.protocol === 2) {
      s.writePush(resp2);
    } else {
      if (resp3 === null) resp3 = withPushHeader(resp2);
      s.writePush(resp3);
    }
    n++;
  }
  return n;
}
