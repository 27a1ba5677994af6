/**
 * Keyspace notifications (Redis' notify.c): every change signal the engine
 * fans out to its keyspace listeners becomes, when `notify-keyspace-events`
 * enables its class, a message on `__keyspace@<db>__:<key>` (the event) and
 * one on `__keyevent@<db>__:<event>` (the key). They are published straight
 * to this server's subscribers, never logged or sent to replicas: a replica
 * raises its own as it applies its primary's stream, as in Redis.
 */

import { MAX_ARG_CHARS } from '../protocol/big-args.js';
import type { KeyspaceListener, NotifyClass } from '../engine/engine.js';
import type { PubSub } from './registry.js';

/** The parsed `notify-keyspace-events` value (Redis' keyspaceEventsStringToFlags). */
export interface NotifyFlags {
  /** K: publish on __keyspace@<db>__:<key>. */
  keyspace: boolean;
  /** E: publish on __keyevent@<db>__:<event>. */
  keyevent: boolean;
  /** The event classes enabled (g $ l s h z x e t m n d; A stands for g$lshzxetd). */
  classes: ReadonlySet<string>;
}

const ALL_CLASSES = 'g$lshzxetd';

/** Read a `notify-keyspace-events` value (already validated by the config). */
export function parseNotifyConfig(value: string): NotifyFlags {
  const classes = new Set<string>();
  for (const ch of value) {
    if (ch === 'A') for (const c of ALL_CLASSES) classes.add(c);
    else if (ch !== 'K' && ch !== 'E') classes.add(ch);
  }
  return { keyspace: value.includes('K'), keyevent: value.includes('E'), classes };
}

export class KeyspaceNotifier {
  private flags: NotifyFlags = { keyspace: false, keyevent: false, classes: new Set() };
  /** Something could be published: K or E, and at least one class. */
  private enabled = false;

  constructor(private readonly pubsub: PubSub) {}

  configure(value: string): void {
    this.flags = parseNotifyConfig(value);
    this.enabled = (this.flags.keyspace || this.flags.keyevent) && this.flags.classes.size > 0;
  }

  /** The engine's keyspace listener. */
  readonly listener: KeyspaceListener = (cls, event, key, db) => {
    // Nobody listens: building channel names would be wasted (the common case).
    if (!this.enabled || !this.pubsub.hasListeners) return;
    this.notify(cls, event, key, db);
  };

  /** Redis' notifyKeyspaceEvent. */
  notify(cls: NotifyClass, event: string, key: string, db: number): void {
    const f = this.flags;
    if (!f.classes.has(cls)) return;
    if (f.keyspace) {
      const prefix = `__keyspace@${db}__:`;
      // A channel name must be a JS string: a key too close to the longest one has no keyspace channel.
      if (key.length <= MAX_ARG_CHARS - prefix.length) this.pubsub.publish(prefix + key, event);
    }
    if (f.keyevent) this.pubsub.publish(`__keyevent@${db}__:${event}`, key);
  }
}
