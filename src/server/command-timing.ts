/**
 * How long each command runs, and who is told: commandstats' usec, the
 * per-command latency histograms (latency-tracking, INFO latencystats,
 * LATENCY HISTOGRAM), the slow log, and the latency monitor's `command` and
 * `fast-command` events.
 *
 * With all of those off, commands of one input batch share one clock
 * reading (the server's accountBatch); with any on (Redis' defaults:
 * latency-tracking yes, slowlog at 10 ms), each command reads the clock
 * before and after itself, as Redis times call().
 */

import type { Config } from '../config.js';
import { F, type Command } from '../commands/table.js';
import { CommandLatency } from '../diagnostics/latency-stats.js';
import { SlowLog, slowlogArgs } from '../diagnostics/slowlog.js';
import { materialize } from '../protocol/deferred-arg.js';
import { redactedPositions } from './monitor.js';
import type { LatencyMonitor } from '../diagnostics/latency-monitor.js';

/** Who ran the command, as the slow log records it. */
export interface TimedClient {
  readonly addr: string;
  readonly ctx: { readonly name: string };
}

/** Who runs a script's redis.call commands, as the slow log shows it (Redis' connection-less script client). */
export const SCRIPT_CLIENT: TimedClient = { addr: '?:0', ctx: { name: '' } };

export class CommandTiming {
  readonly slowlog = new SlowLog();
  /** Microseconds from which a command is logged; negative: the slow log is off. */
  private slowerThanUs = 10_000;
  private slowlogMaxLen = 128;
  private trackLatency = true;
  /** Per-command clock readings are taken (any consumer is on). */
  precise = true;
  percentiles: number[] = [50, 99, 99.9];

  constructor(private readonly monitor: LatencyMonitor) {}

  configure(config: Config): void {
    this.slowerThanUs = config.int('slowlog-log-slower-than');
    this.slowlogMaxLen = config.int('slowlog-max-len');
    this.trackLatency = config.bool('latency-tracking');
    this.percentiles = config.str('latency-tracking-info-percentiles').split(' ').filter(Boolean).map(Number);
    // Per-slot cpu-usec adds each command's own time, as commandstats does.
    const slotStats = config.bool('cluster-slot-stats-enabled');
    this.precise = this.trackLatency || this.slowerThanUs >= 0 || this.monitor.thresholdMs > 0 || slotStats;
  }

  /**
   * A command finished after `durationUs`, run by `client` (SCRIPT_CLIENT
   * for the commands of a script: Redis' call() logs them too, from its
   * script client); null: histograms and commandstats only.
   */
  finished(cmd: Command, argv: readonly string[], durationUs: number, client: TimedClient | null): void {
    cmd.stats.usec += durationUs;
    if (this.trackLatency) {
      let h = cmd.stats.latency;
      if (h === null) h = cmd.stats.latency = new CommandLatency();
      h.record(durationUs);
    }
    if (client === null) return;
    if (this.slowerThanUs >= 0 && durationUs >= this.slowerThanUs && !(cmd.flags & F.SKIP_SLOWLOG)) {
      this.slowlog.add(
        {
          time: Math.floor(Date.now() / 1000),
          durationUs: Math.floor(durationUs),
          args: slowlogArgs(materialized(argv), redactedPositions(argv)),
          addr: client.addr,
          name: client.ctx.name,
        },
        this.slowlogMaxLen,
      );
    }
    this.monitor.addIfNeeded(cmd.flags & F.FAST ? 'fast-command' : 'command', durationUs / 1000);
  }
}

/** argv with a SET's value left in the query buffer made a string (the slow log keeps what it shows). */
function materialized(argv: readonly string[]): readonly string[] {
  materialize(argv);
  return argv;
}
