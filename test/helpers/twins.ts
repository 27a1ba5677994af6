/**
 * Connections opened in pairs, one to redis-server and one to Vireo, that
 * log every frame they receive in arrival order: replies, and the frames
 * that arrive on their own (RESP3 pushes, RESP2 Pub/Sub messages). Client
 * tracking and Pub/Sub tests compare these logs: each server must send
 * each connection the same frames in the same order.
 *
 * Client IDs differ between the servers: an argument `$ID<n>` is replaced
 * by twin n's ID on each server, and IDs in CLIENT replies and pushes are
 * shown as `<ID n>`.
 */

import { normalize, type DiffPair } from './differential.js';
import { RespClient, type Reply } from './resp.js';

/** A frame that is not the reply to a command: a push, or a RESP2 Pub/Sub message. */
export function isOutOfBand(r: Reply): boolean {
  if (r.type === 'push') return true;
  if (r.type !== 'array' || r.value === null || r.value.length < 3) return false;
  const kind = r.value[0]!;
  return kind.type === 'bulk' && (kind.value === 'message' || kind.value === 'pmessage' || kind.value === 'smessage');
}

/** PING's reply, also in RESP2 subscribed mode (['pong', '']). */
function isPong(r: Reply): boolean {
  if (r.type === 'simple') return r.value === 'PONG';
  return r.type === 'array' && r.value !== null && r.value.length === 2 && r.value[0]!.type === 'bulk' && r.value[0]!.value === 'pong';
}

type Side = 'redis' | 'vireo';

/** One connection to one server. */
class Conn {
  /** Every frame received, in order: 'reply ...' or 'push ...'. */
  readonly log: string[] = [];
  id = 0;
  /** Inside MULTI: a PING would be queued, so sync() leaves the connection alone. */
  private queueing = false;
  /** QUIT was sent. */
  private quit = false;

  constructor(
    readonly client: RespClient,
    /** This server's client IDs -> the twin names they stand for. */
    private readonly names: Map<string, string>,
  ) {}

  /** Replies with client IDs shown by twin name: CLIENT replies and pushes (nothing else may hold an ID). */
  show(r: Reply, args: readonly string[]): Reply {
    const ids = args[0]?.toLowerCase() === 'client' || isOutOfBand(r);
    return ids ? this.rename(r) : r;
  }

  private rename(r: Reply): Reply {
    switch (r.type) {
      case 'integer':
        return this.names.has(r.value) ? { type: 'integer', value: this.names.get(r.value)! } : r;
      case 'array':
      case 'set':
      case 'push':
        return r.value === null ? r : ({ type: r.type, value: r.value.map((x) => this.rename(x)) } as Reply);
      case 'map':
        return { type: 'map', value: r.value.map(([k, v]) => [k, this.rename(v)] as [Reply, Reply]) };
      default:
        return r;
    }
  }

  /** Send a command; out-of-band frames before its reply are logged too. */
  async command(args: readonly string[], side: Side): Promise<Reply> {
    this.client.writeRaw(encode(args));
    for (;;) {
      const { reply } = await this.client.read();
      const shown = this.show(reply, args);
      if (isOutOfBand(reply)) {
        this.log.push('push ' + JSON.stringify(shown));
        continue;
      }
      const r = normalize(shown, side, [...args]);
      this.log.push('reply ' + JSON.stringify(r));
      this.follow(args, r);
      return r;
    }
  }

  /** Keep up with MULTI and QUIT. */
  follow(args: readonly string[], r: Reply): void {
    const name = args[0]!.toLowerCase();
    if (name === 'multi' && r.type === 'simple') this.queueing = true;
    else if (name === 'exec' || name === 'discard' || name === 'reset') this.queueing = false;
    else if (name === 'quit') this.quit = true;
  }

  /** Everything sent so far has arrived: PING, logging what comes before its PONG. */
  async sync(): Promise<void> {
    if (this.queueing || this.quit) return;
    this.client.writeRaw(encode(['PING']));
    for (;;) {
      const { reply } = await this.client.read();
      if (isPong(reply)) return;
      this.log.push((isOutOfBand(reply) ? 'push ' : 'reply ') + JSON.stringify(this.show(reply, [])));
    }
  }
}

function encode(args: readonly string[]): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.from(a, 'latin1');
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

export class Twins {
  private constructor(
    private readonly redis: Conn[],
    private readonly vireo: Conn[],
  ) {}

  /** Open `n` twin connections (RESP3 for those listed in `resp3`). */
  static async open(pair: DiffPair, n: number, resp3: readonly number[] = []): Promise<Twins> {
    const [redisPort, vireoPort] = pair.ports;
    const side = async (port: number): Promise<Conn[]> => {
      const names = new Map<string, string>();
      const conns: Conn[] = [];
      for (let i = 0; i < n; i++) {
        const c = new Conn(await RespClient.connect(port), names);
        const id = await c.client.call('CLIENT', 'ID');
        if (id.type !== 'integer') throw new Error(`CLIENT ID: ${JSON.stringify(id)}`);
        c.id = Number(id.value);
        names.set(id.value, `<ID ${i}>`);
        if (resp3.includes(i)) await c.client.call('HELLO', '3');
        conns.push(c);
      }
      return conns;
    };
    const [redis, vireo] = await Promise.all([side(redisPort), side(vireoPort)]);
    return new Twins(redis, vireo);
  }

  /** `args` with $ID<n> replaced by twin n's ID on that server. */
  private argsFor(conns: Conn[], args: readonly string[]): string[] {
    return args.map((a) => {
      const m = /^\$ID(\d+)$/.exec(a);
      return m === null ? a : String(conns[Number(m[1])]!.id);
    });
  }

  /**
   * Run a command on twin `i` of both servers, then let every connection
   * receive what it was sent: each connection's log must then be the same
   * on both servers. Returns Vireo's reply.
   */
  async run(i: number, args: readonly string[]): Promise<Reply> {
    const [, v] = await Promise.all([
      this.redis[i]!.command(this.argsFor(this.redis, args), 'redis'),
      this.vireo[i]!.command(this.argsFor(this.vireo, args), 'vireo'),
    ]);
    await this.sync();
    this.compare(`after ${i}> ${args.join(' ')}`);
    return v;
  }

  /** Send a command on twin `i` of both servers without logging or comparing: [reference's reply, Vireo's]. */
  async both(i: number, args: readonly string[]): Promise<[Reply, Reply]> {
    return Promise.all([this.redis[i]!.client.call(...this.argsFor(this.redis, args)), this.vireo[i]!.client.call(...this.argsFor(this.vireo, args))]);
  }

  /** Send `commands` on twin `i` of both servers in one write (a pipeline), then compare as run() does. */
  async pipeline(i: number, commands: string[][]): Promise<void> {
    const one = async (conns: Conn[], side: Side) => {
      const c = conns[i]!;
      c.client.writeRaw(Buffer.concat(commands.map((cmd) => encode(this.argsFor(conns, cmd)))));
      for (let n = 0; n < commands.length; ) {
        const { reply } = await c.client.read();
        if (isOutOfBand(reply)) c.log.push('push ' + JSON.stringify(c.show(reply, [])));
        else {
          const r = normalize(reply, side, commands[n]!);
          c.log.push('reply ' + JSON.stringify(r));
          c.follow(commands[n]!, r);
          n++;
        }
      }
    };
    await Promise.all([one(this.redis, 'redis'), one(this.vireo, 'vireo')]);
    await this.sync();
    this.compare(`after pipeline on ${i}: ${JSON.stringify(commands)}`);
  }

  /** Every connection receives what was sent to it so far. */
  async sync(): Promise<void> {
    await Promise.all([...this.redis, ...this.vireo].map((c) => c.sync()));
  }

  /** The logs of twin `i` (Vireo's; equal to the reference's once compared). */
  log(i: number): string[] {
    return this.vireo[i]!.log;
  }

  /** The connections of one server, for checks that are not comparisons. */
  side(which: Side): RespClient[] {
    return (which === 'redis' ? this.redis : this.vireo).map((c) => c.client);
  }

  /** Each twin's client ID on each server. */
  ids(which: Side): number[] {
    return (which === 'redis' ? this.redis : this.vireo).map((c) => c.id);
  }

  /** Every twin's log must be equal on both servers. */
  compare(when: string): void {
    for (let j = 0; j < this.redis.length; j++) {
      const a = this.redis[j]!.log;
      const b = this.vireo[j]!.log;
      if (JSON.stringify(a) === JSON.stringify(b)) continue;
      let k = 0;
      while (k < a.length && k < b.length && a[k] === b[k]) k++;
      throw new Error(`connection ${j} differs ${when} at frame ${k}\n  redis: ${a.slice(k, k + 4).join('\n         ')}\n  vireo: ${b.slice(k, k + 4).join('\n         ')}`);
    }
  }

  /** Forget the logs (they were equal). */
  clear(): void {
    for (const c of [...this.redis, ...this.vireo]) c.log.length = 0;
  }

  close(): void {
    for (const c of [...this.redis, ...this.vireo]) c.client.close();
  }
}
