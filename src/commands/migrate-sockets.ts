/**
 * MIGRATE's connections to its targets, one per host:port, kept for the
 * next MIGRATE to the same target as Redis keeps them (cluster.c's
 * migrate_cached_sockets): at most 64, each closed after 10 s unused.
 * Blocking sockets of the native addon (native/src/sync_socket.c).
 */

import { addonFunction } from '../scripting/lua-addon.js';

/** At most this many cached connections (Redis' MIGRATE_SOCKET_CACHE_ITEMS). */
const CACHE_ITEMS = 64;
/** A cached connection unused this long (s) is closed (MIGRATE_SOCKET_CACHE_TTL). */
const CACHE_TTL_S = 10;

export interface CachedSocket {
  fd: number;
  /** The database last selected on it; -1: SELECT before the next RESTORE. */
  lastDbid: number;
  lastUse: number;
}

/** Connections to MIGRATE targets, kept for the next MIGRATE to the same host:port (INFO migrate_cached_sockets). */
export class MigrateSockets {
  private readonly cache = new Map<string, CachedSocket>();

  get size(): number {
    return this.cache.size;
  }

  /**
   * The cached connection to host:port, or a new one; 'unreachable' when
   * no connection could be started (the name does not resolve), 'failed'
   * when one started and failed or timed out.
   */
  get(host: string, port: string, timeoutMs: number): CachedSocket | 'unreachable' | 'failed' {
    const name = `${host}:${port}`;
    const nowS = Date.now() / 1000;
    const cached = this.cache.get(name);
    if (cached !== undefined) {
      cached.lastUse = nowS;
      return cached;
    }
    const connect = addonFunction('syncConnect');
    if (connect === null) return 'unreachable';
    if (this.cache.size >= CACHE_ITEMS) {
      // Full: one goes, at random as Redis picks it.
      const names = [...this.cache.keys()];
      this.close(names[Math.floor(Math.random() * names.length)]!);
    }
    const fd = connect(host, port, timeoutMs);
    if (fd < 0) return fd === -1 ? 'unreachable' : 'failed';
    const socket = { fd, lastDbid: -1, lastUse: nowS };
    this.cache.set(name, socket);
    return socket;
  }

  close(name: string): void {
    const socket = this.cache.get(name);
    if (socket === undefined) return;
    this.cache.delete(name);
    addonFunction('syncClose')?.(socket.fd);
  }

  /** From the cron: close the connections unused for CACHE_TTL_S. */
  closeIdle(): void {
    const nowS = Date.now() / 1000;
    for (const [name, socket] of this.cache) if (nowS - socket.lastUse > CACHE_TTL_S) this.close(name);
  }

  closeAll(): void {
    for (const name of [...this.cache.keys()]) this.close(name);
  }
}
