/**
 * Logging through pino. Redis' loglevel names map onto pino levels; the
 * `logfile` parameter picks a file ('' = standard output).
 */

import { pino, type Logger } from 'pino';

const LEVELS: Record<string, string> = {
  debug: 'trace',
  verbose: 'debug',
  notice: 'info',
  warning: 'warn',
  nothing: 'silent',
};

export type { Logger };

export function createLogger(level: string, file: string): Logger {
  const destination = file === '' ? pino.destination(1) : pino.destination({ dest: file, mkdir: true, sync: false });
  return pino({ level: LEVELS[level] ?? 'info', base: { pid: process.pid } }, destination);
}

export function pinoLevel(redisLevel: string): string {
  return LEVELS[redisLevel] ?? 'info';
}
