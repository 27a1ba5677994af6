/**
 * LATENCY LATEST / HISTORY / RESET / HISTOGRAM / DOCTOR / GRAPH / HELP
 * (Redis' latency.c): the latency monitor's events, their analysis and
 * graph (src/diagnostics/latency-report.ts), and the per-command latency
 * histograms.
 */

import type { Command, CommandImpl, CommandTable } from './table.js';
import type { CommandContext } from './context.js';
import { cstr, replyHelp } from './util.js';
import { latencyDoctorReport, latencyGraph } from '../diagnostics/latency-report.js';

const LATENCY_HELP = [
  'DOCTOR',
  '    Return a human readable latency analysis report.',
  'GRAPH <event>',
  '    Return an ASCII latency graph for the <event> class.',
  'HISTORY <event>',
  '    Return time-latency samples for the <event> class.',
  'LATEST',
  '    Return the latest latency samples for all events.',
  'RESET [<event> ...]',
  '    Reset latency data of one or more <event> classes.',
  '    (default: reset all data for all event classes)',
  'HISTOGRAM [COMMAND ...]',
  '    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.',
  '    If no commands are specified then all histograms are replied.',
];

function latest(ctx: CommandContext): void {
  const r = ctx.reply;
  const events = ctx.host.latencyMonitor.events;
  r.array(events.size);
  for (const [name, series] of events) {
    const last = series.latest;
    r.array(4);
    r.bulk(name);
    r.integer(last.time);
    r.integer(last.ms);
    r.integer(series.max);
  }
}

function history(ctx: CommandContext, argv: string[]): void {
  const series = ctx.host.latencyMonitor.events.get(argv[2]!);
  const samples = series === undefined ? [] : series.history();
  const r = ctx.reply;
  r.array(samples.length);
  for (const s of samples) {
    r.array(2);
    r.integer(s.time);
    r.integer(s.ms);
  }
}

function doctor(ctx: CommandContext): void {
  const cfg = ctx.host.config;
  const report = latencyDoctorReport(ctx.host.latencyMonitor, {
    thresholdMs: ctx.host.latencyMonitor.thresholdMs,
    slowlogSlowerThanUs: cfg.int('slowlog-log-slower-than'),
    appendfsync: cfg.str('appendfsync'),
    hz: cfg.int('hz'),
  });
  ctx.reply.verbatim(report);
}

function graph(ctx: CommandContext, argv: string[]): void {
  const event = argv[2]!;
  const series = ctx.host.latencyMonitor.events.get(event);
  if (series === undefined) ctx.reply.error(`ERR No samples available for event '${cstr(event)}'`);
  else ctx.reply.verbatim(latencyGraph(event, series));
}

/** One command's entry of LATENCY HISTOGRAM: {calls, histogram_usec: {bound: cumulative calls}}. */
function histogramEntry(ctx: CommandContext, cmd: Command): void {
  const h = cmd.stats.latency!;
  const r = ctx.reply;
  r.bulk(cmd.name);
  r.map(2);
  r.bulk('calls');
  r.integer(h.calls);
  r.bulk('histogram_usec');
  const buckets = h.cumulativeBuckets();
  r.map(buckets.length);
  for (const [us, n] of buckets) {
    r.integer(us);
    r.integer(n);
  }
}

/** The commands LATENCY HISTOGRAM reports: all with a histogram, or those named (a container: its subcommands). */
function histogramCommands(table: CommandTable, names: readonly string[]): Command[] {
  const hasData = (c: Command): boolean => c.stats.latency !== null && c.stats.latency.calls > 0;
  if (names.length === 0) return [...table.all()].filter(hasData);
  const out: Command[] = [];
  const seen = new Set<Command>();
  for (const name of names) {
    const cmd = table.resolve(name.split('|'));
    if (cmd === undefined || seen.has(cmd)) continue;
    seen.add(cmd);
    if (cmd.subcommands.size > 0) {
      for (const sub of cmd.subcommands.values()) if (hasData(sub)) out.push(sub);
    } else if (hasData(cmd)) {
      out.push(cmd);
    }
  }
  return out;
}

export function latencyCommands(tableOf: () => CommandTable): CommandImpl[] {
  return [
    { name: 'latency|latest', run: latest },
    { name: 'latency|history', run: history },
    { name: 'latency|doctor', run: doctor },
    { name: 'latency|graph', run: graph },
    {
      name: 'latency|reset',
      run: (ctx, argv) => ctx.reply.integer(ctx.host.latencyMonitor.reset(argv.slice(2))),
    },
    {
      name: 'latency|histogram',
      run: (ctx, argv) => {
        const cmds = histogramCommands(tableOf(), argv.slice(2));
        ctx.reply.map(cmds.length);
        for (const cmd of cmds) histogramEntry(ctx, cmd);
      },
    },
    { name: 'latency|help', run: (ctx) => replyHelp(ctx, 'LATENCY', LATENCY_HELP) },
  ];
}
