/**
 * Arguments longer than a JS string can be. proto-max-bulk-len allows
 * bulks of 512 MB, V8 strings stop at MAX_ARG_CHARS (2^29-24): such an
 * argument travels as its bytes beside argv, and its argv slot holds a
 * short placeholder that says so (what MONITOR and error messages show).
 *
 * Only the commands that store a string value as given take one (their
 * table entry says where: CommandImpl.bigArg); they read it with argAt().
 * Any other command refuses it (dispatch and AOF replay, bigArgRefusal).
 * Effects that carry such a value are built with argvFrom(), and the
 * command log writes the bytes (src/log/command-log.ts).
 */

import { constants } from 'node:buffer';

/** The longest argument that is a JS string. */
export const MAX_ARG_CHARS = constants.MAX_STRING_LENGTH;

/**
 * The bytes of an argv's long arguments, by position, kept on the argv
 * array itself: testing an ordinary argv for them is a property miss that
 * V8 answers from its inline cache (a WeakMap lookup cost more per command).
 */
const BYTES = Symbol('long arguments');
type WithBytes = { [BYTES]?: Map<number, Buffer> };

function attachedTo(argv: readonly string[]): Map<number, Buffer> | undefined {
  return (argv as WithBytes)[BYTES];
}

/** Every placeholder starts with this character ('<'): argAt skips the lookup for any other. */
const PLACEHOLDER_START = 60;

/** Put `bytes` at argv[index] (the slot gets a placeholder string). */
export function attachBigArg(argv: string[], index: number, bytes: Buffer): void {
  argv[index] = `<argument of ${bytes.length} bytes>`;
  let byIndex = attachedTo(argv);
  if (byIndex === undefined) {
    byIndex = new Map();
    (argv as WithBytes)[BYTES] = byIndex;
  }
  byIndex.set(index, bytes);
}

/** Positions of argv's long arguments (none: an empty list). */
export function bigArgIndexes(argv: readonly string[]): number[] {
  const byIndex = attachedTo(argv);
  return byIndex === undefined ? [] : [...byIndex.keys()];
}

/** Whether argv has any argument too long for a string. */
export function hasBigArgs(argv: readonly string[]): boolean {
  return attachedTo(argv) !== undefined;
}

/** argv[index] as sent: its string, or its bytes when it is too long for one. */
export function argAt(argv: readonly string[], index: number): string | Buffer {
  const s = argv[index]!;
  // The common case costs one character test (SET, MSET run this per value).
  if (s.charCodeAt(0) !== PLACEHOLDER_START) return s;
  return attachedTo(argv)?.get(index) ?? s;
}

/** The length in bytes of argv[index] as sent. */
export function argLength(argv: readonly string[], index: number): number {
  return argAt(argv, index).length;
}

/** An argv from parts, the Buffer parts attached as long arguments. */
export function argvFrom(parts: readonly (string | Buffer)[]): string[] {
  const argv: string[] = new Array<string>(parts.length);
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (typeof part === 'string') argv[i] = part;
    else attachBigArg(argv, i, part);
  }
  return argv;
}

/** argv with only the arguments `keep` selects; long arguments stay attached. */
export function filterArgv(argv: readonly string[], keep: (arg: string, index: number) => boolean): string[] {
  const parts: (string | Buffer)[] = [];
  for (let i = 0; i < argv.length; i++) if (keep(argv[i]!, i)) parts.push(argAt(argv, i));
  return argvFrom(parts);
}
