/**
 * Full garbage collections on demand. Redis frees a flushed dataset inside
 * FLUSHALL (unless ASYNC); in V8 the memory stays allocated until a major
 * GC finds it, which then runs on helper threads in the middle of later
 * traffic, and INFO's used_memory keeps counting the dead data meanwhile.
 * Collecting right away gives Redis' behaviour: the cost is paid by the
 * command that freed the data, and used_memory drops when it returns.
 */

import v8 from 'node:v8';
import vm from 'node:vm';
import { addonFunction } from '../scripting/lua-addon.js';
import { fileResidentBytes } from './resident.js';

let collector: (() => void) | null = null;

function loadCollector(): () => void {
  if (collector !== null) return collector;
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) {
    collector = exposed;
  } else {
    // Without node --expose-gc: expose it now; a new context gets the global.
    v8.setFlagsFromString('--expose-gc');
    collector = vm.runInNewContext('gc') as () => void;
  }
  return collector;
}

/** Run a full collection (twice: buffers found dead by one are released while the next starts). */
export function fullGc(): void {
  const gc = loadCollector();
  gc();
  gc();
}

/**
 * Collect and give the heap's spare room back: V8's LowMemoryNotification
 * (through the addon), full collections until one frees nothing more, the
 * young generation shrunk to its minimum (a write load grows it to
 * 2 x --max-semi-space-size, half of that resident, which plain full
 * collections keep), pooled pages released. fullGc without the addon.
 */
export function reduceHeap(): void {
  const reduce = addonFunction('reduceHeap');
  if (reduce === null || !reduce()) fullGc();
}

/** One full collection (what an idle server can afford: half of fullGc's pause). */
export function majorGc(): void {
  loadCollector()();
}

/**
 * Give the C heap's free pages back to the system (glibc's malloc_trim, via
 * the native addon; nothing without it). ArrayBuffers the GC freed (the
 * string store's slabs) return to malloc, which keeps what lies below the
 * top of its heap mapped. A few ms per hundred MB given back.
 */
export function trimMalloc(): boolean {
  const trim = addonFunction('trimMalloc');
  return trim !== null && trim();
}

/** An addon function run on a libuv worker thread, one at a time: a start while it runs does nothing. */
class BackgroundJob {
  private running = false;

  constructor(
    private readonly name: 'trimMallocAsync' | 'dropFilePagesAsync',
    private readonly after: () => void = () => {},
  ) {}

  get idle(): boolean {
    return !this.running;
  }

  start(): void {
    const run = addonFunction(this.name);
    if (this.running || run === null) return;
    this.running = true;
    const done = (): void => {
      this.running = false;
      this.after();
    };
    run().then(done, done);
  }
}

const trimJob = new BackgroundJob('trimMallocAsync');

/**
 * trimMalloc on a libuv worker thread: the JS thread goes on (its own
 * mallocs wait only while the trim holds their arena's lock). One at a time.
 */
export function trimMallocInBackground(): void {
  trimJob.start();
}

/**
 * Take the executable's and libraries' read-only file pages out of the
 * RSS (native/src/file_pages.c): starting Node maps ~40 MB of the node
 * binary (V8 and libuv startup, ICU, the snapshot) that a running server
 * does not read again. They stay in the page cache; the code still in use
 * maps back on its next run (minor faults). Returns the bytes of RSS the
 * mappings held (0 without the addon).
 */
export function dropFilePages(): number {
  const drop = addonFunction('dropFilePages');
  return drop === null ? 0 : drop();
}

/** File pages mapped right after the last background drop. */
let fileBytesAfterDrop = 0;
/** Fewer file pages than this mapped back since the last drop: not worth reading smaps for. */
const DROP_WORTH_BYTES = 4 << 20;
const dropJob = new BackgroundJob('dropFilePagesAsync', () => (fileBytesAfterDrop = fileResidentBytes()));

/**
 * dropFilePages on a libuv worker thread (reading /proc/self/smaps walks
 * every mapping's page table: tens of ms with GBs of heap), one at a time,
 * and only once traffic mapped a few MB back since the last one.
 */
export function dropFilePagesInBackground(): void {
  if (dropJob.idle && fileResidentBytes() >= fileBytesAfterDrop + DROP_WORTH_BYTES) dropJob.start();
}

/** Bytes of the V8 heap in use, garbage not yet collected included. */
export function heapUsedBytes(): number {
  return v8.getHeapStatistics().used_heap_size;
}

/** A scavenge of the young generation only: about a millisecond, it frees the per-request garbage. */
export function minorGc(): void {
  (loadCollector() as (opts?: { type: string }) => void)({ type: 'minor' });
}

/** Bytes in V8's young generation (new space), garbage included. */
export function youngBytes(): number {
  for (const s of v8.getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_used_size;
  return 0;
}

/** The V8 heap in use plus off-heap (external) memory: what INFO calls used_memory before adjustments. */
export function heapAndExternalBytes(): number {
  const h = v8.getHeapStatistics();
  return h.used_heap_size + h.external_memory;
}
