/**
 * The listening sockets: TCP per `bind` address on `port`, TLS per `bind`
 * address on `tls-port`, and the unix socket; rebinding them when CONFIG
 * SET changes port, tls-port or bind, with the old listeners kept (or
 * reopened) when the new ones cannot be bound; the TLS listeners' context
 * replaced when a tls-* parameter changes (new connections use it).
 */

import net from 'node:net';
import tls from 'node:tls';
import fs from 'node:fs';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { SessionCache, clientAuth, serverContextOptions } from '../tls.js';

/** Where TCP listeners are bound: the `port` (or `tls-port`) and `bind` parameters. */
interface TcpSpec {
  port: number;
  bind: string;
}

/** A listening socket: a net.Server, or one handed to the I/O threads (io-threads/pool.ts). */
export interface Listening {
  address(): net.AddressInfo | string | null;
  close(cb?: () => void): unknown;
  maxConnections: number;
}

/** Plain TCP on `port`, TLS on `tls-port`. */
type Kind = 'tcp' | 'tls';

/** The listeners of one kind and what they were bound for (null: none). */
interface Group {
  servers: Listening[];
  boundFor: (TcpSpec & { actualPort: number }) | null;
}

/** Stop accepting on `l`; settles once its socket is closed (not when its connections end). */
function stopListening(l: Listening): Promise<void> {
  if (l instanceof net.Server) {
    l.close();
    return Promise.resolve();
  }
  return new Promise((resolve) => l.close(() => resolve()));
}

/** Largest number of TLS sessions kept for resumption when tls-session-cache-size is 0 (OpenSSL: no limit). */
const SESSION_CACHE_CAP = 200_000;

export class Listeners {
  private readonly groups: Record<Kind, Group> = { tcp: { servers: [], boundFor: null }, tls: { servers: [], boundFor: null } };
  private unixServer: net.Server | null = null;
  /** listen() has run: rebind() has something to compare with. */
  private started = false;
  /** The TLS listeners' context options (null until TLS is configured). */
  private tlsContext: tls.SecureContextOptions | null = null;
  private readonly sessions = new SessionCache(() => {
    if (!this.config.bool('tls-session-caching')) return 0;
    const n = this.config.int('tls-session-cache-size');
    return n === 0 ? SESSION_CACHE_CAP : Math.min(n, SESSION_CACHE_CAP);
  });
  /** A rebind started by CONFIG SET port/bind that has not settled yet. */
  rebinding: Promise<void> | null = null;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    /** A connection was accepted (TLS ones once their handshake is done). */
    private readonly onSocket: (socket: net.Socket, unix: boolean) => void,
    /** The server is shutting down: a rebind must not leave listeners open. */
    private readonly stopping: () => boolean,
    /** Where plain TCP listeners go once bound (the I/O threads), or null to keep them here. */
    private readonly handOff: ((srv: net.Server) => Promise<Listening>) | null = null,
  ) {}

  private get all(): Listening[] {
    const out = [...this.groups.tcp.servers, ...this.groups.tls.servers];
    if (this.unixServer !== null) out.push(this.unixServer);
    return out;
  }

  /** maxclients changed: the listeners' own connection caps follow. */
  setMaxConnections(n: number): void {
    for (const l of this.all) l.maxConnections = n;
  }

  /** TCP port actually bound (useful with port 0 in tests); the TLS port when only TLS listens. */
  get port(): number {
    for (const l of [...this.groups.tcp.servers, ...this.groups.tls.servers]) {
      const a = l.address();
      if (a !== null && typeof a === 'object') return a.port;
    }
    return this.config.int('port');
  }

  /** TLS port actually bound (0: no TLS listener). */
  get tlsPort(): number {
    for (const l of this.groups.tls.servers) {
      const a = l.address();
      if (a !== null && typeof a === 'object') return a.port;
    }
    return 0;
  }

  /**
   * Where a kind of listener should be bound now, or null for none. Port 0
   * disables plain TCP when TLS or a unix socket listens (as in Redis);
   * alone it picks a free port (Vireo's tests rely on that). tls-port 0 is
   * no TLS.
   */
  private wanted(kind: Kind): TcpSpec | null {
    const bind = this.config.str('bind');
    if (kind === 'tls') {
      const port = this.config.int('tls-port');
      return port === 0 ? null : { port, bind };
    }
    const port = this.config.int('port');
    if (port === 0 && (this.config.str('unixsocket') !== '' || this.config.int('tls-port') !== 0)) return null;
    return { port, bind };
  }

  /**
   * Build the TLS context from the tls-* parameters (throws TlsConfigError
   * with Redis' log line, changing nothing, when it cannot be built) and
   * hand it to the TLS listeners: connections accepted from now on use it.
   * Nothing to do while TLS is off.
   */
  reloadTls(): void {
    if (this.config.int('tls-port') === 0 && !this.config.bool('tls-replication')) {
      this.tlsContext = null;
      return;
    }
    const options = serverContextOptions(this.config);
    this.tlsContext = options;
    const auth = clientAuth(this.config);
    for (const l of this.groups.tls.servers) {
      const server = l as tls.Server & { requestCert: boolean; rejectUnauthorized: boolean };
      server.setSecureContext(options);
      // Read per connection by Node's TLS server.
      server.requestCert = auth.requestCert;
      server.rejectUnauthorized = auth.rejectUnauthorized;
    }
    this.sessions.clear();
  }

  /** Bind the TCP and TLS listeners (and the unix socket) the configuration names. */
  async listen(): Promise<void> {
    this.reloadTls();
    for (const kind of ['tcp', 'tls'] as const) {
      const want = this.wanted(kind);
      if (want === null) continue;
      const group = this.groups[kind];
      try {
        group.servers = await this.listenTcp(want, kind);
      } catch (e) {
        await this.close();
        throw e;
      }
      group.boundFor = { ...want, actualPort: this.actualPort(group) };
    }
    this.started = true;
    const unixPath = this.config.str('unixsocket');
    if (unixPath !== '') {
      try {
        fs.unlinkSync(unixPath);
      } catch {
        // not there
      }
      this.unixServer = await this.listenOn({ path: unixPath }, 'unix');
      const perm = this.config.int('unixsocketperm');
      if (perm !== 0) fs.chmodSync(unixPath, perm);
    }
  }

  private actualPort(group: Group): number {
    const a = group.servers[0]?.address();
    return a !== undefined && a !== null && typeof a === 'object' ? a.port : 0;
  }

  /** Bind a listener of `kind` per `bind` address on `port`; on failure none of them stays open. */
  private async listenTcp({ port, bind }: TcpSpec, kind: Kind): Promise<Listening[]> {
    const bound: Listening[] = [];
    const addrs = bind.split(' ').filter((a) => a !== '');
    try {
      for (const raw of addrs.length > 0 ? addrs : ['*']) {
        const optional = raw.startsWith('-');
        const addr = optional ? raw.slice(1) : raw;
        const host = addr === '*' ? '0.0.0.0' : addr === '::*' ? '::' : addr;
        // Port 0 picks a free port once; every address then shares it.
        const first = bound[0]?.address();
        const boundPort = port === 0 && first !== undefined && first !== null && typeof first === 'object' ? first.port : port;
        try {
          const srv = await this.listenOn({ host, port: boundPort, ipv6Only: host.includes(':') }, kind);
          bound.push(kind === 'tcp' && this.handOff !== null ? await this.handOff(srv) : srv);
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          if (optional && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT')) continue;
          throw new Error(`Could not create server ${kind === 'tls' ? 'TLS' : 'TCP'} listening socket ${addr}:${port}: ${err.message}`);
        }
      }
    } catch (e) {
      // Closed before the caller binds the same port again.
      await Promise.all(bound.map(stopListening));
      throw e;
    }
    return bound;
  }

  private listenOn(opts: net.ListenOptions, kind: Kind | 'unix'): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const srv = kind === 'tls' ? this.createTlsServer() : net.createServer({ noDelay: true }, (socket) => this.onSocket(socket, kind === 'unix'));
      srv.maxConnections = this.config.int('maxclients') + 32;
      srv.once('error', reject);
      srv.listen({ ...opts, backlog: this.config.int('tcp-backlog') }, () => {
        srv.off('error', reject);
        srv.on('error', (e) => this.logger.error({ err: e }, 'listener error'));
        resolve(srv);
      });
    });
  }

  /**
   * A TLS listener on the current context. A connection reaches the server
   * once its handshake is done; under tls-auth-clients optional a
   * certificate that was sent must still verify.
   */
  private createTlsServer(): tls.Server {
    const srv = tls.createServer({ ...this.tlsContext!, ...clientAuth(this.config), noDelay: true });
    this.sessions.attach(srv);
    srv.on('secureConnection', (socket: tls.TLSSocket) => {
      if (!socket.authorized && this.config.str('tls-auth-clients') === 'optional' && Object.keys(socket.getPeerCertificate()).length > 0) {
        this.logger.debug(`Error accepting a client connection: ${String(socket.authorizationError)}`);
        socket.destroy();
        return;
      }
      this.onSocket(socket, false);
    });
    // A failed handshake (plain text on the TLS port, an unknown CA, no certificate): Redis logs it at verbose.
    srv.on('tlsClientError', (err, socket) => {
      this.logger.debug(`Error accepting a client connection: ${err.message} (conn: fd=-1 addr=${socket.remoteAddress}:${socket.remotePort})`);
      socket.destroy();
    });
    return srv;
  }

  /**
   * After CONFIG SET port/tls-port/bind: listen where the configuration now
   * says. Null when the listeners already match it (or the server does not
   * listen yet); else settles once the new listeners are bound, or rejects,
   * the old ones still serving, when they cannot be. Rebinds run one after
   * the other.
   */
  rebind(): Promise<void> | null {
    if (this.stopping() || !this.started) return null;
    const changed = (['tcp', 'tls'] as const).filter((kind) => !this.matches(kind, this.wanted(kind)));
    if (changed.length === 0) return null;
    const run = (this.rebinding ?? Promise.resolve())
      .catch(() => undefined)
      .then(async () => {
        for (const kind of changed) await this.relisten(kind, this.wanted(kind));
      });
    const tracked = run.finally(() => {
      if (this.rebinding === tracked) this.rebinding = null;
    });
    this.rebinding = tracked;
    return tracked;
  }

  private matches(kind: Kind, want: TcpSpec | null): boolean {
    const have = this.groups[kind].boundFor;
    if (want === null || have === null) return want === have;
    return want.port === have.port && want.bind === have.bind;
  }

  /**
   * Replace the listeners of one kind. A new port is bound before the old
   * listeners close. New addresses on the same port can only be bound once
   * the old listeners are closed, so those are reopened if the new ones
   * fail (Redis' changeBindAddr does the same).
   */
  private async relisten(kind: Kind, want: TcpSpec | null): Promise<void> {
    const group = this.groups[kind];
    const have = group.boundFor;
    const old = group.servers;
    if (want === null) {
      for (const l of old) l.close();
      group.servers = [];
      group.boundFor = null;
      return;
    }
    if (kind === 'tls' && this.tlsContext === null) this.reloadTls();
    const samePort = have !== null && want.port === have.port;
    if (samePort) {
      // The port is bound again at once: the old sockets must be closed first (an I/O thread's asynchronously).
      await Promise.all(old.map(stopListening));
      group.servers = [];
    }
    // Port 0 (any free port) keeps the one it got.
    const target = samePort && want.port === 0 ? { ...want, port: have.actualPort } : want;
    let fresh: Listening[];
    try {
      fresh = await this.listenTcp(target, kind);
    } catch (e) {
      this.logger.warn(`Warning: ${(e as Error).message}`);
      if (samePort) await this.reopen(kind, { port: have.actualPort, bind: have.bind });
      throw e;
    }
    if (this.stopping()) {
      for (const l of fresh) l.close();
      return;
    }
    if (!samePort) for (const l of old) l.close();
    group.servers = fresh;
    group.boundFor = { ...want, actualPort: this.actualPort(group) };
  }

  /** Listen again as before a failed rebind; if even that fails, say so (clients connected stay served). */
  private async reopen(kind: Kind, spec: TcpSpec): Promise<void> {
    const group = this.groups[kind];
    try {
      group.servers = await this.listenTcp(spec, kind);
    } catch (e) {
      this.logger.error({ err: e }, 'Failed to restore the previous listening sockets');
      group.boundFor = { port: -1, bind: '', actualPort: -1 };
    }
  }

  /** Close every listener. */
  async close(): Promise<void> {
    const all = this.all;
    this.groups.tcp.servers = [];
    this.groups.tls.servers = [];
    this.unixServer = null;
    await Promise.all(all.map((l) => new Promise<void>((r) => l.close(() => r()))));
  }
}
