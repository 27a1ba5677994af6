/**
 * The slow log (Redis' slowlog.c): the commands that ran for at least
 * `slowlog-log-slower-than` microseconds, newest first, at most
 * `slowlog-max-len` of them. An entry keeps what Redis keeps: at most 32
 * arguments (the last one then says how many more there were), each cut at
 * 128 bytes, passwords replaced by "(redacted)", the client's address and
 * name.
 */

/** Arguments kept per entry (Redis' SLOWLOG_ENTRY_MAX_ARGC). */
const MAX_ARGC = 32;
/** Bytes kept per argument (SLOWLOG_ENTRY_MAX_STRING). */
const MAX_STRING = 128;
export const REDACTED_ARG = '(redacted)';

export interface SlowlogEntry {
  readonly id: number;
  /** Unix time in seconds when it was logged. */
  readonly time: number;
  readonly durationUs: number;
  readonly args: string[];
  readonly addr: string;
  readonly name: string;
}

/** The arguments an entry keeps of `argv` (latin1 strings: one char per byte). */
export function slowlogArgs(argv: readonly string[], redacted: ReadonlySet<number> | null): string[] {
  const argc = Math.min(argv.length, MAX_ARGC);
  const out = new Array<string>(argc);
  for (let j = 0; j < argc; j++) {
    if (argc !== argv.length && j === argc - 1) {
      out[j] = `... (${argv.length - argc + 1} more arguments)`;
    } else if (redacted !== null && redacted.has(j)) {
      out[j] = REDACTED_ARG;
    } else {
      const a = argv[j]!;
      out[j] = a.length > MAX_STRING ? `${a.slice(0, MAX_STRING)}... (${a.length - MAX_STRING} more bytes)` : a;
    }
  }
  return out;
}

export class SlowLog {
  /** Oldest first: new entries are pushed, the oldest dropped from the front. */
  private entries: SlowlogEntry[] = [];
  private nextId = 0;

  get length(): number {
    return this.entries.length;
  }

  add(entry: Omit<SlowlogEntry, 'id'>, maxLen: number): void {
    this.entries.push({ id: this.nextId++, ...entry });
    this.trim(maxLen);
  }

  /** Keep the newest `maxLen` entries (CONFIG SET slowlog-max-len applies at the next entry, as in Redis). */
  trim(maxLen: number): void {
    const over = this.entries.length - maxLen;
    if (over > 0) this.entries.splice(0, over);
  }

  /** The newest `count` entries, newest first. */
  newest(count: number): SlowlogEntry[] {
    const out: SlowlogEntry[] = [];
    for (let i = this.entries.length - 1; i >= 0 && out.length < count; i--) out.push(this.entries[i]!);
    return out;
  }

  reset(): void {
    this.entries = [];
  }
}
