/**
 * Where log lines go, in the order they were logged.
 *
 * Standard output is written synchronously (Node writes files, pipes and
 * terminals on Linux synchronously, as Redis' fprintf + fflush does). A log
 * file is written asynchronously in batches, one append at a time, so lines
 * never overtake each other and logging never blocks the event loop; like
 * Redis, each append opens the file afresh ("a"), so a rotated file is
 * simply recreated. flush() waits for every queued line (the exit path),
 * flushSync() writes what is queued now (the last resort of an exit that
 * cannot wait).
 */

import fs from 'node:fs';

export interface LogSink {
  write(text: string): void;
  flush(): Promise<void>;
  flushSync(): void;
}

export function stdoutSink(): LogSink {
  return {
    write: (text) => {
      process.stdout.write(text);
    },
    flush: () => new Promise((resolve) => process.stdout.write('', () => resolve())),
    flushSync: () => {},
  };
}

export function fileSink(file: string): LogSink {
  return new FileSink(file);
}

class FileSink implements LogSink {
  /** Lines waiting for the next append. */
  private queued: string[] = [];
  /** An append is running: later lines wait for it. */
  private writing = false;
  private waiters: (() => void)[] = [];

  constructor(private readonly file: string) {}

  write(text: string): void {
    this.queued.push(text);
    if (!this.writing) this.appendQueued();
  }

  flush(): Promise<void> {
    if (!this.writing && this.queued.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  flushSync(): void {
    if (this.queued.length === 0) return;
    const text = this.takeQueued();
    try {
      fs.appendFileSync(this.file, text);
    } catch {
      // Redis drops a line it cannot open the file for.
    }
  }

  private appendQueued(): void {
    this.writing = true;
    fs.appendFile(this.file, this.takeQueued(), () => {
      // An append that failed (file unreachable) is dropped, as Redis drops the line.
      if (this.queued.length > 0) {
        this.appendQueued();
        return;
      }
      this.writing = false;
      for (const done of this.waiters.splice(0)) done();
    });
  }

  private takeQueued(): string {
    const text = this.queued.join('');
    this.queued = [];
    return text;
  }
}
