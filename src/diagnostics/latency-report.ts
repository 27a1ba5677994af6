/**
 * LATENCY DOCTOR and LATENCY GRAPH (Redis' latency.c and sparkline.c): the
 * analysis of the latency monitor's events with advice, and the ASCII
 * graph of one event. Redis' words where the event is the same; Vireo's
 * own `gc` event (V8's collector pauses) gets advice in V8 terms.
 */

import type { LatencyMonitor, LatencySample, LatencySeries } from './latency-monitor.js';

/** The settings the doctor's advice depends on. */
export interface DoctorSettings {
  thresholdMs: number;
  /** slowlog-log-slower-than in microseconds (negative: off). */
  slowlogSlowerThanUs: number;
  appendfsync: string;
  hz: number;
}

/** Redis' struct latencyStats: integer average and mean absolute deviation, as Redis computes them. */
interface EventStats {
  samples: number;
  avg: number;
  mad: number;
  /** Seconds from the oldest sample to now (at least 1). */
  period: number;
}

function analyze(samples: readonly LatencySample[], nowSec: number): EventStats {
  if (samples.length === 0) return { samples: 0, avg: 0, mad: 0, period: 0 };
  let sum = 0;
  let oldest = samples[0]!.time;
  for (const s of samples) {
    sum += s.ms;
    if (s.time < oldest) oldest = s.time;
  }
  const avg = Math.floor(sum / samples.length);
  let dev = 0;
  for (const s of samples) dev += Math.abs(avg - s.ms);
  return { samples: samples.length, avg, mad: Math.floor(dev / samples.length), period: Math.max(1, nowSec - oldest) };
}

/** Advice keys in the order their paragraphs appear. */
type Advice =
  | 'slowlog_enabled'
  | 'slowlog_tuning'
  | 'slowlog_inspect'
  | 'scheduler'
  | 'local_disk'
  | 'ssd'
  | 'data_writeback'
  | 'relax_fsync_policy'
  | 'hz'
  | 'large_objects'
  | 'mass_eviction'
  | 'gc';

/** The advice an event calls for (Redis' per-event flags; `aof-write` is Redis' aof-write-alone). */
function adviceFor(event: string, cfg: DoctorSettings): Advice[] {
  switch (event.toLowerCase()) {
    case 'command': {
      const out: Advice[] = [];
      if (cfg.slowlogSlowerThanUs < 0) out.push('slowlog_enabled');
      else if (Math.floor(cfg.slowlogSlowerThanUs / 1000) > cfg.thresholdMs) out.push('slowlog_tuning');
      out.push('slowlog_inspect', 'large_objects');
      return out;
    }
    case 'fast-command':
      return ['scheduler'];
    case 'aof-write':
    case 'aof-write-alone':
      return ['local_disk', 'data_writeback', 'ssd'];
    case 'aof-fsync-always':
      return ['relax_fsync_policy'];
    case 'expire-cycle':
      return ['hz', 'large_objects'];
    case 'eviction-del':
      return ['large_objects'];
    case 'eviction-cycle':
      return ['mass_eviction'];
    case 'gc':
      return ['gc'];
    default:
      return [];
  }
}

/** The paragraph of each piece of advice, or null where its condition (Redis' second test) does not hold. */
function adviceText(a: Advice, cfg: DoctorSettings): string | null {
  const threshold = cfg.thresholdMs * 1000;
  switch (a) {
    case 'slowlog_enabled':
      return `- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than ${threshold}'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n`;
    case 'slowlog_tuning':
      return `- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than ${threshold}'.\n`;
    case 'slowlog_inspect':
      return '- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n';
    case 'scheduler':
      return (
        '- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n' +
        '  1) Lower the system load.\n' +
        '  2) Use a computer / VM just for Redis if you are running other software in the same system.\n' +
        '  3) Check if you have a "noisy neighbour" problem.\n' +
        "  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
        "  5) Check whether V8's garbage collector paused the server at the same time (the 'gc' event): a fast command waits for a collection that is running.\n"
      );
    case 'local_disk':
      return '- It is strongly advised to use local disks for persistence, especially if you are using AOF. Remote disks provided by platform-as-a-service providers are known to be slow.\n';
    case 'ssd':
      return '- SSD disks are able to reduce fsync latency, and total time needed for snapshotting and AOF log rewriting (resulting in smaller memory usage and smaller final AOF rewrite buffer flushes). With extremely high write load SSD disks can be a good option. However Redis should perform reasonably with high load using normal disks. Use this advice as a last resort.\n';
    case 'data_writeback':
      return '- Mounting ext3/4 filesystems with data=writeback can provide a performance boost compared to data=ordered, however this mode of operation provides less guarantees, and sometimes it can happen that after a hard crash the AOF file will have a half-written command at the end and will require to be repaired before Redis restarts.\n';
    case 'relax_fsync_policy':
      return cfg.appendfsync === 'always'
        ? "- Your fsync policy is set to 'always'. It is very hard to get good performances with such a setup, if possible try to relax the fsync policy to 'onesec'.\n"
        : null;
    case 'hz':
      return cfg.hz < 100 ? "- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n" : null;
    case 'large_objects':
      return '- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n';
    case 'mass_eviction':
      return "- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n";
    case 'gc':
      return (
        "- V8's garbage collector paused the server (the 'gc' event). A major collection (mark-compact) visits every live object, so its pauses grow with the number of keys and collection elements more than with their bytes: prefer fewer, larger values (a hash of fields rather than many small keys), and avoid building or dropping very large values in one command. " +
        'Scavenges of the young generation grow with the rate of allocation; a smaller young generation (node --max-semi-space-size) makes each one shorter but more frequent. ' +
        "Check INFO memory (used_memory, allocator_frag_ratio) and run MEMORY DOCTOR; if the heap is close to its limit, raise it with node --max-old-space-size, since V8 collects more often as it nears it.\n"
      );
  }
}

const ADVICE_ORDER: Advice[] = [
  'slowlog_enabled',
  'slowlog_tuning',
  'slowlog_inspect',
  'scheduler',
  'local_disk',
  'ssd',
  'data_writeback',
  'relax_fsync_policy',
  'hz',
  'large_objects',
  'mass_eviction',
  'gc',
];

/** LATENCY DOCTOR's text (Redis' createLatencyReport). */
export function latencyDoctorReport(monitor: LatencyMonitor, cfg: DoctorSettings, nowSec = Math.floor(Date.now() / 1000)): string {
  if (monitor.events.size === 0 && cfg.thresholdMs === 0) {
    return `I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use "CONFIG SET latency-monitor-threshold <milliseconds>." in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n`;
  }
  let report = '';
  let eventNum = 0;
  const advised = new Set<Advice>();
  for (const [event, series] of monitor.events) {
    eventNum++;
    if (eventNum === 1) report += "Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n";
    const st = analyze(series.history(), nowSec);
    report +=
      `${eventNum}. ${event}: ${st.samples} latency spikes (average ${st.avg}ms, mean deviation ${st.mad}ms, ` +
      `period ${(st.period / st.samples).toFixed(2)} sec). Worst all time event ${series.max}ms.\n`;
    for (const a of adviceFor(event, cfg)) advised.add(a);
  }
  if (eventNum === 0 && advised.size === 0) {
    return "Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n";
  }
  if (advised.size === 0) {
    return report + "\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n";
  }
  report += '\nI have a few advices for you:\n\n';
  for (const a of ADVICE_ORDER) {
    if (!advised.has(a)) continue;
    const text = adviceText(a, cfg);
    if (text !== null) report += text;
  }
  return report;
}

/** Columns of the graph (Redis' LATENCY_GRAPH_COLS) and its rows of bars. */
const GRAPH_COLS = 80;
const GRAPH_ROWS = 4;
/** Bar characters from low to high (sparkline.c's charset_fill); '|' fills below the top. */
const FILL_CHARS = '_o#';

/** "12s", "5m", "3h", "2d": how long ago, as the graph's labels say it. */
function ageLabel(elapsed: number): string {
  if (elapsed < 60) return `${elapsed}s`;
  if (elapsed < 3600) return `${Math.trunc(elapsed / 60)}m`;
  if (elapsed < 86400) return `${Math.trunc(elapsed / 3600)}h`;
  return `${Math.trunc(elapsed / 86400)}d`;
}

interface Point {
  value: number;
  label: string;
}

/** One band of at most GRAPH_COLS samples: the bars, a blank line, then the labels written downwards. */
function renderBand(points: readonly Point[], min: number, max: number): string {
  const steps = FILL_CHARS.length * GRAPH_ROWS;
  const range = max - min === 0 ? 1 : max - min;
  // sparkline.c truncates relval*steps to an int before dividing by the range.
  const stepOf = (p: Point) => Math.min(steps - 1, Math.max(0, Math.trunc(Math.trunc((p.value - min) * steps) / range)));
  let out = '';
  for (let row = 0; row < GRAPH_ROWS; row++) {
    let line = '';
    for (const p of points) {
      const idx = stepOf(p) - (GRAPH_ROWS - row - 1) * FILL_CHARS.length;
      line += idx >= 0 && idx < FILL_CHARS.length ? FILL_CHARS[idx] : idx >= FILL_CHARS.length ? '|' : ' ';
    }
    out += line + '\n';
  }
  out += ' '.repeat(points.length) + '\n';
  const labelRows = Math.max(...points.map((p) => p.label.length));
  for (let j = 0; j < labelRows; j++) out += points.map((p) => p.label[j] ?? ' ').join('') + '\n';
  return out;
}

/** LATENCY GRAPH's text for one event (Redis' latencyCommandGenSparkeline). */
export function latencyGraph(event: string, series: LatencySeries, nowSec = Math.floor(Date.now() / 1000)): string {
  const samples = series.history();
  const points = samples.map((s) => ({ value: s.ms, label: ageLabel(nowSec - s.time) }));
  const values = samples.map((s) => s.ms);
  const min = values.length === 0 ? 0 : Math.min(...values);
  const max = values.length === 0 ? 0 : Math.max(...values);
  let graph = `${event} - high ${max} ms, low ${min} ms (all time high ${series.max} ms)\n${'-'.repeat(GRAPH_COLS)}\n`;
  for (let j = 0; j < points.length; j += GRAPH_COLS) {
    if (j !== 0) graph += '\n';
    graph += renderBand(points.slice(j, j + GRAPH_COLS), min, max);
  }
  return graph;
}
