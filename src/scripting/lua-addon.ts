/**
 * The native scripting addon (native/: Lua 5.1.5 as Redis embeds it, with
 * cjson, cmsgpack, struct and bit), typed. It is built by `npm install`
 * (scripts/build-native.mjs); when it is missing the server still runs and
 * its scripting commands say why they cannot.
 */

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeLatin1 } from '../protocol/latin1-decode.js';

/** An opaque Lua state. */
export type LuaVm = { readonly __brand: 'LuaVm' };

/** What the VM calls back into. Must not throw. */
export interface LuaCallbacks {
  /**
   * redis.call / redis.pcall: run the command and return its reply's RESP bytes (errors as
   * `-CODE msg`). Its `argc` arguments are packed in `packed` (unpackArgs reads them); the
   * Buffer is reused by the next call.
   */
  call(packed: Buffer, argc: number, resp: number): Buffer;
  log(level: number, message: string): void;
  sha1hex(s: string): string;
  formatDouble(d: number): string;
  /** redis.acl_check_cmd (arguments packed as for call): 1 allowed, 0 denied, -1 no such command. */
  aclCheck(packed: Buffer, argc: number): number;
  /** redis.register_function at FUNCTION LOAD: null, or Redis' error text. */
  registerFunction(name: string, ref: number, flags: string[], description: string | null): string | null;
}

export interface LuaAddon {
  createVm(options: { memoryLimit: number; functions: boolean; redisVersion: string }, callbacks: LuaCallbacks): LuaVm;
  /** A function reference, or the compiler's error text. */
  compile(vm: LuaVm, code: Buffer | string, chunkname: string): number | string;
  /** The reply's RESP bytes, or null when the script was suspended (resume it later). */
  run(vm: LuaVm, ref: number, keys: string[], args: string[], funcname: string, clientResp: number, busyMs: number, mayYield: boolean): Buffer | null;
  resume(vm: LuaVm): Buffer | null;
  kill(vm: LuaVm): void;
  unref(vm: LuaVm, ref: number): void;
  /** Run a library body (FUNCTION LOAD): null, or Redis' error text. */
  loadLibrary(vm: LuaVm, code: Buffer | string): string | null;
  memory(vm: LuaVm): number;
  setMemoryLimit(vm: LuaVm, bytes: number): void;
  /** The last error reply came from a command that already counted it (errorstats). */
  errorCounted(vm: LuaVm): boolean;
  close(vm: LuaVm): void;
  /** malloc_trim(0): free C-heap pages go back to the system (src/util/gc.ts trimMalloc); absent from an addon built before it. */
  trimMalloc?(): boolean;
  /** The same on a libuv worker thread (non-zero: pages went back). */
  trimMallocAsync?(): Promise<number>;
  /** Unmap the pages of clean read-only file mappings (the node binary's text): bytes of RSS they held (src/util/gc.ts dropFilePages). */
  dropFilePages?(): number;
  /** The same on a libuv worker thread. */
  dropFilePagesAsync?(): Promise<number>;
  /** V8's memory-reducing full collection (Isolate::LowMemoryNotification) on this thread (src/util/gc.ts reduceHeap). */
  reduceHeap?(): boolean;
  /** dup(2): a second descriptor for a listening socket, one per I/O thread (src/server/io-threads/). */
  dupFd?(fd: number): number;
  /** Redis' CRC-64 over bytes[start, end), state [lo, hi] updated in place (persistence/rdb/crc64.ts). */
  crc64Update?(state: Uint32Array, bytes: Uint8Array, start: number, end: number): void;
  /** lzfCompressInto of persistence/rdb/lzf.ts, the same bytes. */
  lzfCompress?(input: Uint8Array, inStart: number, n: number, out: Uint8Array, outStart: number, maxOut: number): number;
  /** compressSpans of persistence/rdb/lzf-spans.ts, the same bytes. */
  lzfSpans?(chunk: Uint8Array, spans: Int32Array, out: Uint8Array): number;
  /** Blocking sockets for MIGRATE (src/commands/migrate.ts): a connected fd; -1 none could be started, -2 it failed or timed out. */
  syncConnect?(host: string, port: string, timeoutMs: number): number;
  /** Bytes written: fewer than given on an error or a timeout. */
  syncWrite?(fd: number, bytes: Buffer, timeoutMs: number): number;
  /** Up to `count` reply lines without their CRLF, and 0 (all came), 1 (timeout) or 2 (error, closed). */
  syncReadLines?(fd: number, count: number, timeoutMs: number): [string[], number];
  syncClose?(fd: number): void;
  /** CPU time of the calling thread in microseconds (src/util/thread-clock.ts). */
  threadCpuMicros?(): number;
  /** Name the calling thread (ps -L, top -H); false where the system has no such call. */
  setThreadName?(name: string): boolean;
}

/** native/ of the project, from src/scripting/ (tests) or dist/src/scripting/ (the built server). */
function addonPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const rel = path.join('native', 'build', 'Release', 'vireo_lua.node');
  const fromSrc = path.resolve(here, '..', '..', rel);
  return existsSync(fromSrc) ? fromSrc : path.resolve(here, '..', '..', '..', rel);
}

let loaded: LuaAddon | Error | null = null;

/** The addon, or why it is not available. */
export function luaAddon(): LuaAddon | Error {
  if (loaded === null) {
    try {
      loaded = createRequire(import.meta.url)(addonPath()) as LuaAddon;
    } catch (e) {
      loaded = new Error(`the Lua scripting addon is not built (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); run npm install`);
    }
  }
  return loaded;
}

/** Optional native functions (not the Lua VM's): those an addon built before them lacks. */
type AddonFunctionName = 'trimMalloc' | 'trimMallocAsync' | 'dropFilePages' | 'dropFilePagesAsync' | 'reduceHeap' | 'syncConnect' | 'syncWrite' | 'syncReadLines' | 'syncClose' | 'dupFd' | 'crc64Update' | 'lzfCompress' | 'lzfSpans' | 'threadCpuMicros' | 'setThreadName';

/** The addon's function `name`, or null when the addon is not built or is older than it (the caller keeps its JS path). */
export function addonFunction<K extends AddonFunctionName>(name: K): NonNullable<LuaAddon[K]> | null {
  const addon = luaAddon();
  return addon instanceof Error ? null : ((addon[name] ?? null) as NonNullable<LuaAddon[K]> | null);
}

/** The arguments of a redis.call as the addon packs them: a u32le length each, then their bytes. */
export function unpackArgs(packed: Buffer, argc: number): string[] {
  const argv = new Array<string>(argc);
  let at = argc * 4;
  for (let i = 0; i < argc; i++) {
    const len = packed.readUInt32LE(i * 4);
    argv[i] = decodeLatin1(packed, at, at + len);
    at += len;
  }
  return argv;
}
