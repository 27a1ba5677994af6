/**
 * The listening sockets: TCP per `bind` address on `port`, and the unix
 * socket; rebinding them when CONFIG SET changes port or bind, with the
 * old listeners kept (or reopened) when the new ones cannot be bound.
 */

import net from 'node:net';
import fs from 'node:fs';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

/** Where TCP listeners are bound: the `port` and `bind` parameters. */
interface TcpSpec {
  port: number;
  bind: string;
}

export class Listeners {
  private servers: net.Server[] = [];
  /** The port and bind addresses the TCP listeners were bound for (null: not listening yet). */
  private tcpBoundFor: (TcpSpec & { actualPort: number }) | null = null;
  /** A rebind started by CONFIG SET port/bind that has not settled yet. */
  rebinding: Promise<void> | null = null;

  constructor(
    private readonly config: Config,
    private readonly logger: Logger,
    /** A connection was accepted. */
    private readonly onSocket: (socket: net.Socket, unix: boolean) => void,
    /** The server is shutting down: a rebind must not leave listeners open. */
    private readonly stopping: () => boolean,
  ) {}

  /** maxclients changed: the listeners' own connection caps follow. */
  setMaxConnections(n: number): void {
    for (const l of this.servers) l.maxConnections = n;
  }

  /** TCP port actually bound (useful with port 0 in tests). */
  get port(): number {
    for (const l of this.servers) {
      const a = l.address();
      if (a !== null && typeof a === 'object') return a.port;
    }
    return this.config.int('port');
  }

  /** Bind the TCP listeners (and the unix socket) the configuration names. */
  async listen(): Promise<void> {
    const tcp = { port: this.config.int('port'), bind: this.config.str('bind') };
    this.servers.push(...(await this.listenTcp(tcp)));
    this.tcpBoundFor = { ...tcp, actualPort: this.port };
    const unixPath = this.config.str('unixsocket');
    if (unixPath !== '') {
      try {
        fs.unlinkSync(unixPath);
      } catch {
        // not there
      }
      this.servers.push(await this.listenOn({ path: unixPath }, true));
      const perm = this.config.int('unixsocketperm');
      if (perm !== 0) fs.chmodSync(unixPath, perm);
    }
  }

  /** Bind a TCP listener per `bind` address on `port`; on failure none of them stays open. */
  private async listenTcp({ port, bind }: TcpSpec): Promise<net.Server[]> {
    const bound: net.Server[] = [];
    if (port === 0 && this.config.str('unixsocket') !== '') return bound;
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
          bound.push(await this.listenOn({ host, port: boundPort, ipv6Only: host.includes(':') }, false));
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          if (optional && (err.code === 'EADDRNOTAVAIL' || err.code === 'EAFNOSUPPORT')) continue;
          throw new Error(`Could not create server TCP listening socket ${addr}:${port}: ${err.message}`);
        }
      }
    } catch (e) {
      for (const l of bound) l.close();
      throw e;
    }
    return bound;
  }

  private listenOn(opts: net.ListenOptions, unix: boolean): Promise<net.Server> {
    return new Promise((resolve, reject) => {
      const srv = net.createServer({ noDelay: true }, (socket) => this.onSocket(socket, unix));
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
   * After CONFIG SET port/bind: listen where the configuration now says.
   * Null when the TCP listeners already match it (or the server does not
   * listen yet); else settles once the new listeners are bound, or rejects,
   * the old ones still serving, when they cannot be. Rebinds run one after
   * the other.
   */
  rebind(): Promise<void> | null {
    const want = { port: this.config.int('port'), bind: this.config.str('bind') };
    const have = this.tcpBoundFor;
    if (this.stopping() || have === null || (want.port === have.port && want.bind === have.bind)) return null;
    const run = (this.rebinding ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.relisten(want));
    const tracked = run.finally(() => {
      if (this.rebinding === tracked) this.rebinding = null;
    });
    this.rebinding = tracked;
    return tracked;
  }

  /**
   * Replace the TCP listeners (the unix socket stays). A new port is bound
   * before the old listeners close. New addresses on the same port can only
   * be bound once the old listeners are closed, so those are reopened if
   * the new ones fail (Redis' changeBindAddr does the same).
   */
  private async relisten(want: TcpSpec): Promise<void> {
    const have = this.tcpBoundFor!;
    const oldTcp = this.servers.filter((l) => typeof l.address() !== 'string');
    const keep = this.servers.filter((l) => !oldTcp.includes(l));
    const samePort = want.port === have.port;
    if (samePort) {
      for (const l of oldTcp) l.close();
      this.servers = keep;
    }
    // Port 0 (any free port) keeps the one it got.
    const target = samePort && want.port === 0 ? { ...want, port: have.actualPort } : want;
    let fresh: net.Server[];
    try {
      fresh = await this.listenTcp(target);
    } catch (e) {
      this.logger.warn(`Warning: ${(e as Error).message}`);
      if (samePort) await this.reopenTcp({ port: have.actualPort, bind: have.bind });
      throw e;
    }
    if (this.stopping()) {
      for (const l of fresh) l.close();
      return;
    }
    if (!samePort) for (const l of oldTcp) l.close();
    this.servers = [...keep, ...fresh];
    this.tcpBoundFor = { ...want, actualPort: this.port };
  }

  /** Listen again as before a failed rebind; if even that fails, say so (clients connected stay served). */
  private async reopenTcp(spec: TcpSpec): Promise<void> {
    try {
      this.servers.push(...(await this.listenTcp(spec)));
    } catch (e) {
      this.logger.error({ err: e }, 'Failed to restore the previous listening sockets');
      this.tcpBoundFor = { port: -1, bind: '', actualPort: -1 };
    }
  }

  /** Close every listener. */
  async close(): Promise<void> {
    await Promise.all(this.servers.map((l) => new Promise<void>((r) => l.close(() => r()))));
    this.servers = [];
  }
}
