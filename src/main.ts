/**
 * Command-line entry: `vireo-server [config-file] [--name value ...]`, the
 * way redis-server takes its arguments. Options on the command line are
 * appended to the configuration file's directives, so they win.
 */

import fs from 'node:fs';
import path from 'node:path';
import { Config, ConfigError, parseConfigText } from './config.js';
import { Server } from './server/server.js';
import { VERSION, REDIS_VERSION } from './version.js';
import { splitArgs } from './protocol/parser.js';
import { createCommandTable } from './commands/index.js';
import { checkUserDirective } from './acl/acl.js';
import { ruleErrorText, type RuleEnv } from './acl/rules.js';
import type { Logger } from './logger.js';
import { strerror } from '../persistence/errors.js';

export interface Directive {
  /** Where it came from, for error messages. */
  source: string;
  line: number;
  raw: string;
  words: string[];
}

/** Turn redis-server style argv into directives: [file] then --name value... */
export function parseArgs(args: string[]): { file: string; directives: Directive[] } {
  let file = '';
  let i = 0;
  if (args.length > 0 && !args[0]!.startsWith('-')) {
    file = args[0]!;
    i = 1;
  }
  const directives: Directive[] = [];
  let current: string[] | null = null;
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith('--') && (current === null || current.length > 1)) {
      const words = splitArgs(a.slice(2)) ?? [a.slice(2)];
      current = words;
      directives.push({ source: 'command line', line: directives.length + 1, raw: a, words: current });
      // "--save" followed by another option or nothing means save "".
      if (words.length === 1 && words[0]!.toLowerCase() === 'save' && (i === args.length - 1 || args[i + 1]!.startsWith('--'))) current.push('');
    } else if (current !== null) {
      current.push(a);
    } else {
      throw new ConfigError(`Invalid argument '${a}'`);
    }
  }
  return { file, directives };
}

function readConfigFile(file: string, seen = new Set<string>()): Directive[] {
  const abs = path.resolve(file);
  if (seen.has(abs)) return [];
  seen.add(abs);
  const text = fs.readFileSync(abs, 'latin1');
  const out: Directive[] = [];
  for (const { line, words, raw } of parseConfigText(text)) {
    if (words[0]?.toLowerCase() === 'include' && words.length === 2) {
      out.push(...readConfigFile(path.resolve(path.dirname(abs), words[1]!), seen));
      continue;
    }
    out.push({ source: abs, line, raw, words });
  }
  return out;
}

/** Parameters taking several words; everything else takes exactly one value. */
const MULTI_WORD = new Set(['save', 'bind', 'client-output-buffer-limit', 'oom-score-adj-values', 'latency-tracking-info-percentiles', 'replicaof', 'slaveof', 'shutdown-on-sigint', 'shutdown-on-sigterm']);
/** Directives Redis accepts that Vireo ignores (logged). */
const IGNORED = new Set(['rename-command', 'loadmodule']);

/**
 * Settings accepted only at their defaults (so stock redis.conf files load):
 * turned on, Redis would serve something Vireo cannot, so start-up stops
 * rather than run without it.
 */
const NOT_IMPLEMENTED: Record<string, { active: (c: Config) => boolean; what: string }> = {
  'cluster-enabled': { active: (c) => c.bool('cluster-enabled'), what: 'cluster mode' },
};

/** Apply directives to a Config, with Redis' FATAL CONFIG FILE ERROR on failure. */
export function applyDirectives(config: Config, directives: Directive[], warn: (msg: string) => void): void {
  const saves: string[] = [];
  const outputLimits: string[] = [];
  for (const d of directives) {
    const name = (d.words[0] ?? '').toLowerCase();
    const values = d.words.slice(1);
    const fail = (msg: string) =>
      new ConfigError(
        `\n*** FATAL CONFIG FILE ERROR (Vireo ${VERSION}) ***\nReading the configuration file, at line ${d.line}\n>>> '${d.raw.trim()}'\n${msg}`,
      );
    if (IGNORED.has(name)) {
      warn(`Ignoring directive '${name}' (${d.source}:${d.line}): not supported by Vireo yet`);
      continue;
    }
    if (name === 'user' && d.words.length >= 2) {
      const bad = userDirectiveError(config, d.words);
      if (bad !== null) throw fail(bad);
      config.userDirectives.push(d.words.slice(1));
      continue;
    }
    const def = config.def(name);
    if (def === undefined) throw fail('Bad directive or wrong number of arguments');
    if (!MULTI_WORD.has(def.name) && values.length !== 1) throw fail('wrong number of arguments');
    if (def.name === 'save') {
      saves.push(values.join(' '));
      continue;
    }
    if (def.name === 'client-output-buffer-limit') {
      outputLimits.push(values.join(' '));
      continue;
    }
    try {
      config.setMany([[def.name, values.join(' ')]], { startup: true });
    } catch (e) {
      throw fail((e as Error).message);
    }
    const missing = NOT_IMPLEMENTED[def.name];
    if (missing !== undefined && missing.active(config)) throw fail(`${missing.what} is not implemented by Vireo yet`);
  }
  const applyJoined = (name: string, parts: string[], merge: boolean) => {
    if (parts.length === 0) return;
    const value = merge ? [config.str(name), ...parts].join(' ') : parts.filter((p) => p !== '').join(' ');
    try {
      config.setMany([[name, value]], { startup: true });
    } catch (e) {
      throw new ConfigError(`\n*** FATAL CONFIG FILE ERROR (Vireo ${VERSION}) ***\n${name}: ${(e as Error).message}`);
    }
  };
  // A save "" anywhere resets; save lines otherwise accumulate, as in Redis.
  const lastReset = saves.lastIndexOf('');
  applyJoined('save', lastReset >= 0 ? saves.slice(lastReset) : saves, false);
  applyJoined('client-output-buffer-limit', outputLimits, true);
}

let ruleEnv: RuleEnv | null = null;

/** Redis' check of a `user` line (ACLAppendUserForLoading): its error text, or null. */
function userDirectiveError(config: Config, words: readonly string[]): string | null {
  const name = words[1]!;
  if (config.userDirectives.some((u) => u[0] === name)) return `Error in user declaration '${name}': ${ruleErrorText('EALREADY')}`;
  ruleEnv ??= { table: createCommandTable(), allChannelsByDefault: false, warn: () => {} };
  const bad = checkUserDirective(ruleEnv, words.slice(1));
  // Redis names the word by its index among the rules, counted from the start of the line.
  return bad === null ? null : `Error in user declaration '${words[bad.index]}': ${bad.error}`;
}

const HELP = `Usage: vireo-server [/path/to/redis.conf] [options]
       vireo-server - (read config from stdin)
       vireo-server -v or --version
       vireo-server -h or --help

Examples:
       vireo-server (listens on 127.0.0.1:6379, data in ./data)
       vireo-server /etc/redis/6379.conf
       vireo-server --port 7777
       vireo-server /etc/myredis.conf --loglevel verbose
`;

export async function main(args: string[]): Promise<Server | null> {
  if (args[0] === '-v' || args[0] === '--version') {
    process.stdout.write(`Vireo server v=${VERSION} redis_version=${REDIS_VERSION} node=${process.versions.node}\n`);
    return null;
  }
  if (args[0] === '-h' || args[0] === '--help') {
    process.stdout.write(HELP);
    return null;
  }
  const config = new Config();
  const { file, directives } = parseArgs(args);
  const all: Directive[] = [];
  if (file === '-') {
    const text = fs.readFileSync(0, 'latin1');
    for (const { line, words, raw } of parseConfigText(text)) all.push({ source: 'stdin', line, raw, words });
  } else if (file !== '') {
    config.file = path.resolve(file);
    all.push(...readConfigFile(file));
  }
  all.push(...directives);
  const warnings: string[] = [];
  applyDirectives(config, all, (m) => warnings.push(m));
  // The working directory (dump.rdb, appendonlydir/): ./data unless `dir` says otherwise.
  const given = all.some((d) => d.words[0]?.toLowerCase() === 'dir');
  const dir = path.resolve(given ? config.str('dir') : 'data');
  fs.mkdirSync(dir, { recursive: true });
  process.chdir(dir);
  config.setMany([['dir', dir]], { startup: true });
  // After the chdir: a relative logfile is opened in `dir`, as Redis opens it at every line.
  checkLogfile(config.str('logfile'));
  const server = new Server(config);
  const logger = server.logger;
  // What is still queued when the process ends anyway (process.exit, an uncaught exception).
  process.on('exit', () => logger.flushSync());
  process.on('uncaughtExceptionMonitor', (e) => logger.fatal({ err: e }, 'Uncaught exception, exiting'));
  logStartBanner(logger, args.length === 0);
  for (const w of warnings) logger.warn(w);
  try {
    await server.start();
  } catch (e) {
    await logger.flush();
    throw e;
  }
  const stop = (signal: string) => {
    server.logger.warn(`Received ${signal} scheduling shutdown...`);
    // shutdown-on-sigterm / shutdown-on-sigint: default, save, nosave, now, force.
    const flags = config.str(signal === 'SIGINT' ? 'shutdown-on-sigint' : 'shutdown-on-sigterm').split(' ');
    const save = flags.includes('save') ? true : flags.includes('nosave') ? false : null;
    server
      .shutdown({ save, force: flags.includes('force') })
      .then((done) => {
        if (!done) server.logger.warn('SIGTERM received but errors trying to shut down the server, check the logs for more information');
      })
      .catch((e: unknown) => server.logger.error({ err: e }, 'shutdown failed'));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  server.whenShutdown(() => {
    // Every line (the last is "ready to exit, bye bye") is written before the process leaves.
    void logger.flush().then(() => process.exit(0));
  });
  return server;
}

/** Redis' first lines (its main()), saying Vireo where Redis says Redis. */
function logStartBanner(logger: Logger, noArguments: boolean): void {
  logger.info('oO0OoO0OoO0Oo Vireo is starting oO0OoO0OoO0Oo');
  logger.info(`Vireo version=${VERSION}, redis_version=${REDIS_VERSION}, bits=64, node=${process.version}, pid=${process.pid}, just started`);
  if (noArguments) logger.warn('Warning: no config file specified, using the default config. In order to specify a config file use vireo-server /path/to/redis.conf');
  else logger.info('Configuration loaded');
}

/** Like Redis, a log file that cannot be opened for appending stops start-up. */
function checkLogfile(file: string): void {
  if (file === '') return;
  try {
    fs.closeSync(fs.openSync(file, 'a'));
  } catch (e) {
    throw new ConfigError(`\n*** FATAL CONFIG FILE ERROR (Vireo ${VERSION}) ***\nCan't open the log file: ${strerror(e)}`);
  }
}

const invokedDirectly = process.argv[1] !== undefined && /main\.(js|ts)$/.test(process.argv[1]);
if (invokedDirectly) {
  main(process.argv.slice(2)).catch((e: unknown) => {
    process.stderr.write(`${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  });
}
