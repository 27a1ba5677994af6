/**
 * The server log. Two formats (`log-format`, a Vireo parameter):
 *
 * - `redis` (default): Redis' serverLogRaw lines,
 *   `pid:role dd Mon yyyy hh:mm:ss.mmm <mark> message`, role M (primary) or
 *   S (replica), marks `.` debug, `-` verbose, `*` notice, `#` warning.
 * - `json`: one pino JSON object a line (time, level name, pid, role, msg,
 *   and the fields a call site passes) for log shippers.
 *
 * The method names are pino's and map onto Redis' levels: trace = debug,
 * debug = verbose, info = notice, warn / error / fatal = warning (error and
 * fatal mark an internal error or a start-up that stops).
 *
 * Lines go to a sink (log-sink.ts) that keeps their order; a file is
 * written asynchronously and flushed before the process exits.
 */

import type * as Pino from 'pino';
import type { Logger as PinoLogger } from 'pino';
import { lazyModule } from './util/lazy-module.js';
import { fileSink, stdoutSink, type LogSink } from './log-sink.js';

/** pino writes `log-format json` only: loaded by the first JSON logger. */
const loadPino = lazyModule<typeof Pino>('pino');

export type RedisLogLevel = 'debug' | 'verbose' | 'notice' | 'warning' | 'nothing';
export type LogFormat = 'redis' | 'json';
type Method = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

/** Context a call site may pass: `err` (an Error) and any other fields. */
export type LogFields = Record<string, unknown>;

export interface LogFn {
  (msg: string): void;
  (fields: LogFields | Error, msg?: string): void;
}

export interface Logger {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** This server's replication role when a line is written: 'M' or 'S'. */
  role: () => string;
  /** CONFIG SET loglevel. */
  setLevel(level: RedisLogLevel): void;
  /** Every line logged so far is written (the exit path waits for it). */
  flush(): Promise<void>;
  /** Last resort on process exit: write what is still queued, now. */
  flushSync(): void;
}

/** Redis' LL_DEBUG .. LL_WARNING; `nothing` is above every level. */
const RANK: Record<RedisLogLevel, number> = { debug: 0, verbose: 1, notice: 2, warning: 3, nothing: 4 };
const METHOD_RANK: Record<Method, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 3, fatal: 3 };
const MARKS = '.-*#';
const LEVEL_NAMES: readonly RedisLogLevel[] = ['debug', 'verbose', 'notice', 'warning'];
/** Redis formats a message into a LOG_MAX_LEN (1024) buffer: longer ones are cut. */
const LOG_MAX_LEN = 1024;
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export interface LoggerOptions {
  level: string;
  format: LogFormat;
  sink: LogSink;
  /** 'M' or 'S': this server's replication role when the line is written. */
  role?: () => string;
}

export class VireoLogger implements Logger {
  private threshold: number;
  private readonly json: PinoLogger | null;
  private readonly pid = process.pid;
  role: () => string;

  constructor(private readonly opts: LoggerOptions) {
    this.threshold = RANK[opts.level as RedisLogLevel] ?? RANK.notice;
    this.role = opts.role ?? (() => 'M');
    this.json = opts.format === 'json' ? jsonLogger(opts.sink, () => this.role()) : null;
  }

  readonly trace: LogFn = (a: LogFields | Error | string, msg?: string) => this.log('trace', a, msg);
  readonly debug: LogFn = (a: LogFields | Error | string, msg?: string) => this.log('debug', a, msg);
  readonly info: LogFn = (a: LogFields | Error | string, msg?: string) => this.log('info', a, msg);
  readonly warn: LogFn = (a: LogFields | Error | string, msg?: string) => this.log('warn', a, msg);
  readonly error: LogFn = (a: LogFields | Error | string, msg?: string) => this.log('error', a, msg);
  readonly fatal: LogFn = (a: LogFields | Error | string, msg?: string) => this.log('fatal', a, msg);

  setLevel(level: RedisLogLevel): void {
    this.threshold = RANK[level];
  }

  flush(): Promise<void> {
    return this.opts.sink.flush();
  }

  flushSync(): void {
    this.opts.sink.flushSync();
  }

  private log(method: Method, a: LogFields | Error | string, msg?: string): void {
    const rank = METHOD_RANK[method];
    if (rank < this.threshold) return;
    if (this.json !== null) {
      if (typeof a === 'string') this.json[method](a);
      else this.json[method](a, msg);
      return;
    }
    this.opts.sink.write(redisLine(this.pid, this.role(), new Date(), rank, messageText(a, msg)));
  }
}

/** One line in Redis' format (serverLogRaw), local time as Redis prints it. */
export function redisLine(pid: number, role: string, at: Date, rank: number, msg: string): string {
  const text = msg.length >= LOG_MAX_LEN ? msg.slice(0, LOG_MAX_LEN - 1) : msg;
  return `${pid}:${role} ${redisTime(at)} ${MARKS[rank]} ${text}\n`;
}

/** `dd Mon yyyy hh:mm:ss.mmm` (strftime "%d %b %Y %H:%M:%S." plus milliseconds). */
function redisTime(d: Date): string {
  const two = (n: number) => (n < 10 ? `0${n}` : String(n));
  const ms = d.getMilliseconds();
  const mmm = ms < 10 ? `00${ms}` : ms < 100 ? `0${ms}` : String(ms);
  return `${two(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${mmm}`;
}

/** The human text of a call: the message, then the error's message when one is given. */
function messageText(a: LogFields | Error | string, msg: string | undefined): string {
  if (typeof a === 'string') return a;
  const err = a instanceof Error ? a : a.err instanceof Error ? a.err : null;
  if (msg === undefined) return err !== null ? err.message : '';
  return err !== null ? `${msg}: ${err.message}` : msg;
}

function jsonLogger(sink: LogSink, role: () => string): PinoLogger {
  const { pino } = loadPino();
  return pino(
    {
      level: 'trace',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (_label, value) => ({ level: levelName(value) }) },
      mixin: () => ({ role: role() }),
    },
    { write: (line: string) => sink.write(line) },
  );
}

/** pino's numeric level (10 trace .. 60 fatal) as Redis' level name. */
function levelName(pinoValue: number): RedisLogLevel {
  return LEVEL_NAMES[Math.min(3, Math.max(0, pinoValue / 10 - 1))]!;
}

/** The server's logger from loglevel / logfile / log-format. */
export function createLogger(level: string, file: string, format: string = 'redis'): VireoLogger {
  return new VireoLogger({ level, format: format === 'json' ? 'json' : 'redis', sink: file === '' ? stdoutSink() : fileSink(file) });
}

/** A logger that writes nothing (tests; VIREO_TEST_LOG=notice|verbose|debug shows the lines on stdout). */
export function testLogger(level: string | undefined = process.env.VIREO_TEST_LOG): VireoLogger {
  return createLogger(level ?? 'nothing', '');
}
