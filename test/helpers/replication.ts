/**
 * Replication test helpers: waiting until a replica has its primary's
 * offset, a seeded write load over every write command (the log-replay
 * generator's), and a fake primary (a net.Server the test scripts) to
 * feed a replica exactly the bytes a case needs, junk included.
 */

import net from 'node:net';
import fc from 'fast-check';
import { parseReply, toJs, type Reply, type RespClient } from './resp.js';
import { infoField } from './info.js';
import { DBS, KEYS, MAX_SHORT_TTL_MS, functionCalls, resolveArgv, selectCommand, shortLived, writeCommands, type Argv } from './write-commands.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function info(c: RespClient, section: string): Promise<Reply> {
  return c.call('INFO', section);
}

/** The replication offset `c` reports: master_repl_offset on a primary, slave_repl_offset on a replica. */
export async function replOffset(c: RespClient): Promise<number> {
  const i = await info(c, 'replication');
  return Number(infoField(i, infoField(i, 'role') === 'slave' ? 'slave_repl_offset' : 'master_repl_offset'));
}

/** Wait until `replica`'s link is up and its offset is the primary's master_repl_offset. */
export async function waitInSync(primary: RespClient, replica: RespClient, ms = 20000): Promise<number> {
  const deadline = Date.now() + ms;
  let last = '';
  for (;;) {
    const p = await info(primary, 'replication');
    const r = await info(replica, 'replication');
    const want = infoField(p, 'master_repl_offset');
    const status = infoField(r, 'master_link_status');
    const have = infoField(r, 'slave_repl_offset');
    if (status === 'up' && have === want) return Number(want);
    last = `link ${status}, replica at ${have}, primary at ${want}`;
    if (Date.now() > deadline) throw new Error(`replica not in sync: ${last}`);
    await sleep(20);
  }
}

/** One step of a write load: a command, or a transaction. */
export type LoadStep = { kind: 'cmd'; argv: Argv } | { kind: 'multi'; body: Argv[] };

/**
 * A seeded write load: every write command the log-replay property knows
 * (zset scores exact, so 7.0's and Vireo's DEBUG DIGEST agree), FCALL of the
 * libraries it loads, keys with short TTLs, SELECT, and MULTI/EXEC blocks.
 */
export function writeLoad(seed: number, steps: number): LoadStep[] {
  const writes = Object.values(writeCommands({ exactScores: true, streamPolicies: false }));
  const one = fc.oneof(
    { weight: 10, arbitrary: fc.oneof(...writes) },
    { weight: 2, arbitrary: shortLived },
    { weight: 2, arbitrary: selectCommand },
    { weight: 1, arbitrary: functionCalls },
  );
  const step = fc.oneof(
    { weight: 12, arbitrary: one.map((argv): LoadStep => ({ kind: 'cmd', argv })) },
    { weight: 1, arbitrary: fc.array(one, { minLength: 1, maxLength: 5 }).map((body): LoadStep => ({ kind: 'multi', body })) },
  );
  return fc.sample(step, { seed, numRuns: steps });
}

/** Run a load on `c` (error replies are part of it: they propagate nothing). Returns the replies that were not errors. */
export async function runLoad(c: RespClient, load: LoadStep[]): Promise<number> {
  let ok = 0;
  for (const step of load) {
    if (step.kind === 'cmd') {
      const r = await c.call(...(await resolveArgv(c, step.argv)));
      if (r.type !== 'error') ok++;
      continue;
    }
    const body: Argv[] = [];
    for (const argv of step.body) body.push(await resolveArgv(c, argv));
    await c.call('MULTI');
    for (const argv of body) await c.call(...argv);
    const r = await c.call('EXEC');
    if (r.type !== 'error') ok++;
  }
  await c.call('SELECT', '0');
  return ok;
}

/** Let every short TTL run out and make the primary delete (and propagate) each expired key. */
export async function settle(c: RespClient): Promise<void> {
  await sleep(MAX_SHORT_TTL_MS + 20);
  for (const db of DBS) {
    await c.call('SELECT', db);
    await c.call('EXISTS', ...KEYS);
  }
  await c.call('SELECT', '0');
}

/** Type, PEXPIRETIME and DEBUG DIGEST-VALUE of every key of every db (shows where two datasets differ). */
export async function keyDigests(c: RespClient, dbs = 16): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (let db = 0; db < dbs; db++) {
    await c.call('SELECT', String(db));
    const keys = ((toJs(await c.call('KEYS', '*')) as string[] | null) ?? []).sort();
    for (const k of keys) {
      out[`${db}:${k}`] = [toJs(await c.call('TYPE', k)), toJs(await c.call('PEXPIRETIME', k)), toJs(await c.call('DEBUG', 'DIGEST-VALUE', k))];
    }
  }
  await c.call('SELECT', '0');
  return out;
}

// ---- a fake primary -----------------------------------------------------------------

/** One connection a replica made to the fake primary. */
export class FakeLink {
  received = Buffer.alloc(0);
  closed = false;
  private readonly listeners: (() => void)[] = [];

  constructor(readonly socket: net.Socket) {
    socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.notify();
    });
    socket.on('close', () => {
      this.closed = true;
      this.notify();
    });
    socket.on('error', () => {});
  }

  private notify(): void {
    for (const l of this.listeners.splice(0)) l();
  }

  /** The commands received so far (bare newlines, the replica's keepalives, skipped). */
  commands(): string[][] {
    const out: string[][] = [];
    let p = 0;
    const buf = this.received;
    while (p < buf.length) {
      if (buf[p] === 10) {
        p++;
        continue;
      }
      const r = parseReply(buf, p);
      if (r === null) break;
      out.push((toJs(r[0]) as string[]).map(String));
      p = r[1];
    }
    return out;
  }

  /** Wait until `find` finds something in the commands received so far. */
  async until<T>(what: string, find: (cmds: string[][]) => T | undefined, ms = 10000): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = find(this.commands());
      if (found !== undefined) return found;
      if (this.closed) throw new Error(`link closed before ${what}; got ${JSON.stringify(this.commands())}`);
      if (Date.now() > deadline) throw new Error(`no ${what} within ${ms} ms; got ${JSON.stringify(this.commands())}`);
      await new Promise<void>((resolve) => {
        this.listeners.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  /** Wait until a command named `name` (case-insensitive) has arrived `count` times; returns the last. */
  command(name: string, count = 1, ms = 10000): Promise<string[]> {
    return this.until(`${name} #${count}`, (cmds) => cmds.filter((a) => a[0]!.toUpperCase() === name.toUpperCase())[count - 1], ms);
  }

  /** Wait for `REPLCONF ACK <offset> ...`. */
  ack(offset: number, ms = 10000): Promise<string[]> {
    return this.until(`REPLCONF ACK ${offset}`, (cmds) => cmds.find((a) => a[0] === 'REPLCONF' && a[1] === 'ACK' && a[2] === String(offset)), ms);
  }

  write(data: Buffer | string): void {
    this.socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
  }

  /**
   * Play the primary's part of the handshake up to PSYNC: +PONG, then +OK
   * for each of the replica's REPLCONFs. Returns PSYNC's arguments.
   */
  async handshake(): Promise<string[]> {
    await this.command('PING');
    this.write('+PONG\r\n');
    // AUTH and the REPLCONFs come together, capa last: one +OK each.
    const steps = await this.until('REPLCONF capa', (cmds) => {
      const at = cmds.findIndex((a) => a[0] === 'REPLCONF' && a[1] === 'capa');
      return at < 0 ? undefined : at;
    });
    this.write('+OK\r\n'.repeat(steps));
    return this.command('PSYNC');
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A net.Server standing in for a primary: each connection is handed to the test's script. */
export class FakePrimary {
  readonly links: FakeLink[] = [];
  private readonly waiting: ((l: FakeLink) => void)[] = [];

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {
    server.on('connection', (s) => {
      if (this.closing) {
        s.destroy();
        return;
      }
      const link = new FakeLink(s);
      this.links.push(link);
      const w = this.waiting.shift();
      if (w) w(link);
    });
  }

  static start(): Promise<FakePrimary> {
    return new Promise((resolve, reject) => {
      const server = net.createServer();
      server.listen(0, '127.0.0.1', () => resolve(new FakePrimary(server, (server.address() as net.AddressInfo).port)));
      server.on('error', reject);
    });
  }

  /** The n-th connection (1-based), once it is made. */
  link(n: number, ms = 10000): Promise<FakeLink> {
    if (this.links.length >= n) return Promise.resolve(this.links[n - 1]!);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no connection #${n} within ${ms} ms (got ${this.links.length})`)), ms);
      const check = () => {
        if (this.links.length >= n) {
          clearTimeout(timer);
          resolve(this.links[n - 1]!);
        } else this.waiting.push(check);
      };
      this.waiting.push(check);
    });
  }

  private closing = false;

  close(): Promise<void> {
    this.closing = true;
    const closed = new Promise<void>((r) => this.server.close(() => r()));
    for (const l of this.links) l.destroy();
    return closed;
  }
}
