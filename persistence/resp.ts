/** RESP encoding of command arrays, as the log and AOF files hold them. */

import { attachBigArg, MAX_ARG_CHARS } from '../src/protocol/big-args.js';

/** Arguments are latin1 strings, or bytes (values too long for a JS string). */
export function encodeRespCommand(argv: readonly (string | Uint8Array)[]): Buffer {
  let size = 16;
  for (const a of argv) size += a.length + 16;
  const buf = Buffer.allocUnsafe(size);
  let p = buf.latin1Write(`*${argv.length}\r\n`, 0);
  for (const a of argv) {
    p += buf.latin1Write(`$${a.length}\r\n`, p);
    if (typeof a === 'string') p += buf.latin1Write(a, p);
    else {
      buf.set(a, p);
      p += a.length;
    }
    p += buf.latin1Write('\r\n', p);
  }
  return buf.subarray(0, p);
}

/**
 * The RESP bytes of a command up to the payload of its last argument,
 * `lastLength` bytes long, which the caller writes itself (then CRLF):
 * a value of hundreds of MB goes to the file without being copied.
 */
export function encodeRespCommandHead(argv: readonly string[], lastLength: number): Buffer {
  let text = `*${argv.length + 1}\r\n`;
  for (const a of argv) text += `$${a.length}\r\n${a}\r\n`;
  return Buffer.from(`${text}$${lastLength}\r\n`, 'latin1');
}

export interface ParsedCommand {
  argv: string[];
  /** Offset just past the command. */
  end: number;
}

/**
 * Strict reader of RESP command arrays in AOF files: `#...` annotation
 * lines are skipped, anything that is not `*N` / `$len` framing is an
 * error. Returns null at a clean end; throws AofFormatError on damage,
 * AofTruncatedError when the data ends inside a command.
 */
export class AofFormatError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

export class AofTruncatedError extends Error {
  constructor(readonly offset: number) {
    super(`unexpected end of file at offset ${offset}`);
  }
}

function readLine(buf: Buffer, pos: number): [string, number] | null {
  const nl = buf.indexOf('\r\n', pos, 'latin1');
  if (nl < 0) return null;
  return [buf.latin1Slice(pos, nl), nl + 2];
}

export function readAofCommand(buf: Buffer, start: number): ParsedCommand | null {
  let pos = start;
  for (;;) {
    if (pos >= buf.length) return null;
    if (buf[pos] !== 35) break; // '#': annotation line
    const nl = buf.indexOf(10, pos);
    if (nl < 0) throw new AofTruncatedError(start);
    pos = nl + 1;
  }
  const cmdStart = pos;
  if (buf[pos] !== 42) throw new AofFormatError(`expected '*' at offset ${pos}`, pos);
  const head = readLine(buf, pos + 1);
  if (head === null) throw new AofTruncatedError(cmdStart);
  const argc = Number(head[0]);
  if (!Number.isInteger(argc) || argc < 1) throw new AofFormatError(`bad argument count at offset ${pos}`, pos);
  pos = head[1];
  const argv: string[] = [];
  for (let i = 0; i < argc; i++) {
    if (pos >= buf.length) throw new AofTruncatedError(cmdStart);
    if (buf[pos] !== 36) throw new AofFormatError(`expected '$' at offset ${pos}`, pos);
    const lenLine = readLine(buf, pos + 1);
    if (lenLine === null) throw new AofTruncatedError(cmdStart);
    const len = Number(lenLine[0]);
    if (!Number.isInteger(len) || len < 0) throw new AofFormatError(`bad bulk length at offset ${pos}`, pos);
    pos = lenLine[1];
    if (pos + len + 2 > buf.length) throw new AofTruncatedError(cmdStart);
    // An argument longer than a JS string travels as bytes (a view into the file: copy to keep).
    if (len > MAX_ARG_CHARS) attachBigArg(argv, argv.push('') - 1, buf.subarray(pos, pos + len));
    else argv.push(buf.latin1Slice(pos, pos + len));
    pos += len;
    if (buf[pos] !== 13 || buf[pos + 1] !== 10) throw new AofFormatError(`expected CRLF at offset ${pos}`, pos);
    pos += 2;
  }
  return { argv, end: pos };
}
