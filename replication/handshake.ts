/**
 * The replica's side of the replication handshake, as Redis' syncWithMaster
 * runs it: PING; then AUTH (masterauth / masteruser), REPLCONF
 * listening-port, REPLCONF ip-address (replica-announce-ip set), REPLCONF
 * capa eof capa psync2, sent together and answered in order; then PSYNC
 * <replid> <offset+1> (or `PSYNC ? -1` without a history to continue).
 *
 * Replies are single lines. ReplyLines splits what the primary sends into
 * them; everything after the PSYNC reply belongs to the RDB transfer or the
 * stream and is handed back untouched.
 */

import type { Config } from '../src/config.js';
import { REPL_ID_LENGTH } from './ids.js';

/** A reply line longer than this is not a handshake reply (Redis reads them into 256 bytes). */
const MAX_LINE = 1024;

/** The primary sent something that is not a handshake reply. */
export class HandshakeError extends Error {}

/** Splits received bytes into reply lines ("\n"-terminated, a trailing "\r" dropped). */
export class ReplyLines {
  private pending: Buffer = Buffer.alloc(0);

  feed(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
  }

  /** The next complete line, or null. Throws HandshakeError for a line too long to be a reply. */
  next(): string | null {
    const nl = this.pending.indexOf(10);
    if (nl < 0) {
      if (this.pending.length > MAX_LINE) throw new HandshakeError(`reply line longer than ${MAX_LINE} bytes`);
      return null;
    }
    if (nl > MAX_LINE) throw new HandshakeError(`reply line longer than ${MAX_LINE} bytes`);
    const end = nl > 0 && this.pending[nl - 1] === 13 ? nl - 1 : nl;
    const line = this.pending.latin1Slice(0, end);
    this.pending = this.pending.subarray(nl + 1);
    return line;
  }

  /** Bytes received after the last line taken. */
  rest(): Buffer {
    const r = this.pending;
    this.pending = Buffer.alloc(0);
    return r;
  }
}

/** A RESP command as the replica sends it. */
export function encodeArgs(argv: readonly string[]): Buffer {
  let s = `*${argv.length}\r\n`;
  for (const a of argv) s += `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`;
  return Buffer.from(s, 'latin1');
}

/** One step of the handshake after PING: what is sent, and how its reply is judged. */
export interface HandshakeStep {
  argv: string[];
  /** Null: go on; a string: give up this attempt with that log line. */
  check(reply: string): string | null;
  /** Logged (not fatal) when the reply is an error: older primaries do not know every REPLCONF. */
  lenient?: string;
}

/** The PING reply that lets the handshake go on: +PONG, or an authentication error (AUTH comes next). */
export function pingReplyOk(reply: string): boolean {
  return reply.startsWith('+') || reply.startsWith('-NOAUTH') || reply.startsWith('-NOPERM') || reply.startsWith('-ERR operation not permitted');
}

/** AUTH and the REPLCONF steps, in the order Redis sends them. */
export function handshakeSteps(config: Config, listeningPort: number): HandshakeStep[] {
  const steps: HandshakeStep[] = [];
  const auth = config.str('masterauth');
  if (auth !== '') {
    const user = config.str('masteruser');
    steps.push({
      argv: user === '' ? ['AUTH', auth] : ['AUTH', user, auth],
      check: (r) => (r.startsWith('-') ? `Unable to AUTH to MASTER: ${r}` : null),
    });
  }
  const announcedPort = config.int('replica-announce-port');
  steps.push({ argv: ['REPLCONF', 'listening-port', String(announcedPort > 0 ? announcedPort : listeningPort)], check: () => null, lenient: 'REPLCONF listening-port' });
  const ip = config.str('replica-announce-ip');
  if (ip !== '') steps.push({ argv: ['REPLCONF', 'ip-address', ip], check: () => null, lenient: 'REPLCONF ip-address' });
  steps.push({ argv: ['REPLCONF', 'capa', 'eof', 'capa', 'psync2'], check: () => null, lenient: 'REPLCONF capa' });
  return steps;
}

/** What the primary answered to PSYNC. */
export type PsyncReply =
  | { kind: 'full'; replId: string; offset: number }
  | { kind: 'continue'; replId: string | null }
  /** The primary cannot serve now (loading, its own link down): try again later. */
  | { kind: 'later'; why: string }
  | { kind: 'error'; why: string };

/** Read the PSYNC reply line (Redis' slaveTryPartialResynchronization, reading half). */
export function parsePsyncReply(line: string): PsyncReply {
  if (line.startsWith('+FULLRESYNC')) {
    const m = /^\+FULLRESYNC ([^ ]+) ([^ ]+)$/.exec(line);
    if (m === null || m[1]!.length !== REPL_ID_LENGTH || !/^[0-9]{1,18}$/.test(m[2]!)) {
      return { kind: 'error', why: `Master replied with wrong +FULLRESYNC syntax: '${line.slice(0, 128)}'` };
    }
    return { kind: 'full', replId: m[1]!, offset: Number(m[2]) };
  }
  if (line.startsWith('+CONTINUE')) {
    const id = line.slice(10).trim();
    return { kind: 'continue', replId: id.length === REPL_ID_LENGTH ? id : null };
  }
  if (line.startsWith('-NOMASTERLINK') || line.startsWith('-LOADING')) {
    return { kind: 'later', why: `Master is currently unable to PSYNC but should be in the future: ${line.slice(0, 128)}` };
  }
  if (line.startsWith('-ERR')) return { kind: 'error', why: `Master does not support PSYNC or is in error state (reply: ${line.slice(0, 128)})` };
  return { kind: 'error', why: `Unexpected reply to PSYNC from master: ${line.slice(0, 128)}` };
}
