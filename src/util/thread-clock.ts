/**
 * The CPU time of the calling thread, from the native addon
 * (CLOCK_THREAD_CPUTIME_ID). A wall-clock interval on a busy or virtual
 * machine also counts the time the thread waited for its core (other
 * threads, the hypervisor's steal); the thread's CPU time is what its own
 * work cost. Null without the addon.
 */

import { addonFunction } from '../scripting/lua-addon.js';

export const threadCpuMicros = addonFunction('threadCpuMicros');
