/*
 * N-API surface of the scripting addon (src/scripting/lua-vm.ts types it):
 *   createVm(options, callbacks) -> vm
 *   compile(vm, code, chunkname) -> ref | error string
 *   run(vm, ref, keys, args, funcname, clientResp, busyMs, mayYield) -> Buffer | null (suspended)
 *   resume(vm) -> Buffer | null;  kill(vm);  unref(vm, ref)
 *   loadLibrary(vm, code) -> null | error string;  memory(vm) -> bytes;  setMemoryLimit(vm, bytes)
 *   errorCounted(vm) -> whether the last error reply was already counted
 *   close(vm)
 *   trimMalloc() -> whether the C heap gave pages back to the system; trimMallocAsync() -> Promise of it
 *   dropFilePages() -> bytes of clean read-only file pages unmapped (file_pages.c); dropFilePagesAsync()
 *   reduceHeap() -> whether V8's memory-reducing collection ran (heap_reduce.cc)
 *   syncConnect, syncWrite, syncReadLines, syncClose: blocking sockets for MIGRATE (sync_socket.c)
 *   dupFd(fd) -> a new descriptor for the same open file (dup(2)), or throws
 *   setThreadName(name) -> whether the calling thread now shows as `name` (15 bytes at most) in ps -L / top -H
 *   crc64Update(state, bytes, start, end): Redis' CRC-64 (Jones, reflected) over bytes[start, end),
 *     the state a Uint32Array [lo, hi] updated in place (persistence/rdb/crc64.ts)
 *   lzfCompress(...), lzfSpans(...): RDB's LZF (lzf.c)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <stdint.h>
#include <unistd.h>
#include <time.h>
#include <pthread.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "lauxlib.h"
#include "vm.h"
#include "lzf.h"
#include "file_pages.h"
#include "heap_reduce.h"
#include "sync_socket.h"

const char *VM_REGISTRY_KEY = "vireo.vm";

/* ---- Buf ----------------------------------------------------------------- */

void buf_reserve(Buf *b, size_t more) {
  if (b->len + more <= b->cap) return;
  size_t cap = b->cap ? b->cap : 256;
  while (cap < b->len + more) cap *= 2;
  char *p = realloc(b->data, cap);
  if (p == NULL) abort(); /* plain malloc failing: the process is out of memory anyway */
  b->data = p;
  b->cap = cap;
}

void buf_put(Buf *b, const void *p, size_t n) {
  buf_reserve(b, n);
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

void buf_puts(Buf *b, const char *s) {
  buf_put(b, s, strlen(s));
}

void buf_putc(Buf *b, char c) {
  buf_put(b, &c, 1);
}

void buf_free(Buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}

/* ---- the Lua allocator: counts bytes, refuses past the limit ---------------- */

static void *vm_alloc(void *ud, void *ptr, size_t osize, size_t nsize) {
  Vm *vm = (Vm *)ud;
  if (nsize == 0) {
    free(ptr);
    vm->mem_used -= osize;
    return NULL;
  }
  if (vm->mem_limit > 0 && nsize > osize && vm->mem_used + (nsize - osize) > vm->mem_limit) return NULL;
  void *p = realloc(ptr, nsize);
  if (p != NULL) vm->mem_used = vm->mem_used - osize + nsize;
  return p;
}

static int vm_panic(lua_State *L) {
  (void)L;
  /* Unprotected Lua error: every entry point is protected, so this is a bug. */
  abort();
  return 0;
}

Vm *vm_of(lua_State *L) {
  void *ud = NULL;
  lua_getallocf(L, &ud);
  return (Vm *)ud;
}

/* ---- calling JS --------------------------------------------------------- */

int js_call(Vm *vm, int cb, napi_value *argv, size_t argc, napi_value *result) {
  napi_env env = vm->env;
  napi_value fn, global;
  if (napi_get_reference_value(env, vm->cb[cb], &fn) != napi_ok) return 0;
  napi_get_undefined(env, &global);
  napi_status st = napi_call_function(env, global, fn, argc, argv, result);
  if (st != napi_ok) {
    /* A callback must not throw; if one does, the script gets an error, not the server. */
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value ex;
      napi_get_and_clear_last_exception(env, &ex);
    }
    return 0;
  }
  return 1;
}

/* ---- argument helpers ---------------------------------------------------- */

#define CHECK(call)                                                  \
  do {                                                               \
    if ((call) != napi_ok) {                                         \
      napi_throw_error(env, NULL, "vireo_lua: bad call: " #call);    \
      return NULL;                                                   \
    }                                                                \
  } while (0)

static Vm *get_vm(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok || p == NULL) {
    napi_throw_type_error(env, NULL, "vireo_lua: not a VM");
    return NULL;
  }
  Vm *vm = (Vm *)p;
  if (vm->L == NULL) {
    napi_throw_error(env, NULL, "vireo_lua: VM closed");
    return NULL;
  }
  vm->env = env;
  return vm;
}

/* Bytes of a Buffer or a latin1 string argument into `b`. */
static int get_bytes(napi_env env, napi_value v, Buf *b) {
  bool is_buffer = false;
  b->len = 0;
  napi_is_buffer(env, v, &is_buffer);
  if (is_buffer) {
    void *data;
    size_t len;
    if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) return 0;
    buf_put(b, data, len);
    return 1;
  }
  size_t len = 0;
  if (napi_get_value_string_latin1(env, v, NULL, 0, &len) != napi_ok) return 0;
  buf_reserve(b, len + 1);
  napi_get_value_string_latin1(env, v, b->data, len + 1, &len);
  b->len = len;
  return 1;
}

static napi_value result_buffer(napi_env env, Vm *vm, int status) {
  napi_value out;
  if (status == RUN_SUSPENDED) {
    napi_get_null(env, &out);
    return out;
  }
  napi_create_buffer_copy(env, vm->out.len, vm->out.data, NULL, &out);
  return out;
}

/* ---- exported functions -------------------------------------------------- */

static void finalize_vm(napi_env env, void *data, void *hint) {
  (void)hint;
  Vm *vm = (Vm *)data;
  if (vm->L != NULL) lua_close(vm->L);
  for (int i = 0; i < 6; i++)
    if (vm->cb[i] != NULL) napi_delete_reference(env, vm->cb[i]);
  if (vm->args_ref != NULL) napi_delete_reference(env, vm->args_ref);
  buf_free(&vm->reply);
  buf_free(&vm->out);
  buf_free(&vm->scratch);
  free(vm);
}

static int setup_protected(lua_State *L) {
  vm_setup((Vm *)lua_touserdata(L, 1));
  return 0;
}

static napi_value create_vm(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Vm *vm = calloc(1, sizeof(Vm));
  if (vm == NULL) {
    napi_throw_error(env, NULL, "vireo_lua: out of memory");
    return NULL;
  }
  vm->env = env;
  vm->spare_ref = LUA_NOREF;
  napi_value v;
  double limit = 0;
  if (napi_get_named_property(env, argv[0], "memoryLimit", &v) == napi_ok) napi_get_value_double(env, v, &limit);
  vm->mem_limit = limit > 0 ? (size_t)limit : 0;
  bool functions = false;
  if (napi_get_named_property(env, argv[0], "functions", &v) == napi_ok) napi_get_value_bool(env, v, &functions);
  vm->is_functions = functions;
  if (napi_get_named_property(env, argv[0], "redisVersion", &v) == napi_ok) {
    size_t n;
    if (napi_get_value_string_latin1(env, v, vm_redis_version, sizeof vm_redis_version, &n) == napi_ok) {
      int major = 0, minor = 0, patch = 0;
      sscanf(vm_redis_version, "%d.%d.%d", &major, &minor, &patch);
      vm_redis_version_num = (major << 16) | (minor << 8) | patch;
    }
  }
  static const char *names[6] = {"call", "log", "sha1hex", "formatDouble", "aclCheck", "registerFunction"};
  for (int i = 0; i < 6; i++) {
    napi_value fn;
    napi_valuetype t = napi_undefined;
    if (napi_get_named_property(env, argv[1], names[i], &fn) == napi_ok) napi_typeof(env, fn, &t);
    if (t == napi_function) napi_create_reference(env, fn, 1, &vm->cb[i]);
  }
  vm->L = lua_newstate(vm_alloc, vm);
  if (vm->L == NULL) {
    free(vm);
    napi_throw_error(env, NULL, "vireo_lua: cannot create a Lua state");
    return NULL;
  }
  lua_atpanic(vm->L, vm_panic);
  if (lua_cpcall(vm->L, setup_protected, vm) != 0) {
    const char *msg = lua_tostring(vm->L, -1);
    napi_throw_error(env, NULL, msg ? msg : "vireo_lua: setup failed");
    lua_close(vm->L);
    free(vm);
    return NULL;
  }
  napi_value ext;
  CHECK(napi_create_external(env, vm, finalize_vm, NULL, &ext));
  return ext;
}

static napi_value compile(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Vm *vm = get_vm(env, argv[0]);
  if (vm == NULL) return NULL;
  char chunkname[64] = "@user_script";
  size_t n;
  napi_get_value_string_latin1(env, argv[2], chunkname, sizeof chunkname, &n);
  if (!get_bytes(env, argv[1], &vm->scratch)) {
    napi_throw_type_error(env, NULL, "vireo_lua: code must be a Buffer or a string");
    return NULL;
  }
  lua_State *L = vm->L;
  if (luaL_loadbuffer(L, vm->scratch.data, vm->scratch.len, chunkname) != 0) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    CHECK(napi_create_string_latin1(env, msg ? msg : "?", msg ? len : 1, &out));
    lua_pop(L, 1);
    return out;
  }
  /* Scripts see the read-only environment, not the real globals. */
  lua_getfield(L, LUA_REGISTRYINDEX, "vireo.env");
  lua_setfenv(L, -2);
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  CHECK(napi_create_int32(env, ref, &out));
  return out;
}

static napi_value run(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Vm *vm = get_vm(env, argv[0]);
  if (vm == NULL) return NULL;
  if (vm->running) {
    napi_throw_error(env, NULL, "vireo_lua: a script is already running");
    return NULL;
  }
  int32_t ref = 0, client_resp = 2;
  double busy = 0;
  bool may_yield = false;
  size_t n;
  napi_get_value_int32(env, argv[1], &ref);
  vm->funcname[0] = 0;
  napi_get_value_string_latin1(env, argv[4], vm->funcname, sizeof vm->funcname, &n);
  napi_get_value_int32(env, argv[5], &client_resp);
  napi_get_value_double(env, argv[6], &busy);
  napi_get_value_bool(env, argv[7], &may_yield);
  vm->client_resp = client_resp == 3 ? 3 : 2;
  vm->busy_ms = busy;
  vm->may_yield = may_yield;
  vm->function_mode = vm->is_functions;
  return result_buffer(env, vm, vm_start(vm, ref, argv[2], argv[3]));
}

static napi_value resume(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Vm *vm = get_vm(env, argv[0]);
  if (vm == NULL) return NULL;
  return result_buffer(env, vm, vm_resume(vm));
}

static napi_value kill_script(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Vm *vm = get_vm(env, argv[0]);
  if (vm == NULL) return NULL;
  vm->killed = 1;
  return NULL;
}

static napi_value unref(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Vm *vm = get_vm(env, argv[0]);
  if (vm == NULL) return NULL;
  int32_t ref = LUA_NOREF;
  napi_get_value_int32(env, argv[1], &ref);
  luaL_unref(vm->L, LUA_REGISTRYINDEX, ref);
  return NULL;
}

static napi_value load_library(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Vm *vm = get_vm(env, argv[0]);
  if (vm == NULL) return NULL;
  if (!get_bytes(env, argv[1], &vm->scratch)) {
    napi_throw_type_error(env, NULL, "vireo_lua: code must be a Buffer or a string");
    return NULL;
  }
  if (vm_load_library(vm, vm->scratch.data, vm->scratch.len)) {
    napi_get_null(env, &out);
    return out;
  }
  CHECK(napi_create_string_latin1(env, vm->out.data, vm->out.len, &out));
  return out;
}

static napi_value memory(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Vm *vm = get_vm(env, argv[0]);
  if (vm == NULL) return NULL;
  CHECK(napi_create_double(env, (double)vm->mem_used, &out));
  return out;
}

static napi_value set_memory_limit(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Vm *vm = get_vm(env, argv[0]);
  if (vm == NULL) return NULL;
  double limit = 0;
  napi_get_value_double(env, argv[1], &limit);
  vm->mem_limit = limit > 0 ? (size_t)limit : 0;
  return NULL;
}

static napi_value error_counted(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Vm *vm = get_vm(env, argv[0]);
  if (vm == NULL) return NULL;
  CHECK(napi_get_boolean(env, vm->out_error_no_stats, &out));
  return out;
}

static napi_value close_vm(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Vm *vm = get_vm(env, argv[0]);
  if (vm == NULL) return NULL;
  if (vm->running) {
    napi_throw_error(env, NULL, "vireo_lua: cannot close a VM while a script runs");
    return NULL;
  }
  lua_close(vm->L);
  vm->L = NULL;
  return NULL;
}

/*
 * Buffers the GC frees go back to glibc's malloc, which keeps the free
 * blocks below the top of its heap mapped (after a FLUSHALL, hundreds of MB
 * of a large dataset's slabs): malloc_trim returns their pages (FLUSHALL,
 * the idle reclaim), as jemalloc purges for Redis. Not in the scripting
 * API; here because this is the server's one native module.
 */
static int trim_now(void) {
#ifdef __GLIBC__
  return malloc_trim(0);
#else
  return 0;
#endif
}

static napi_value trim_malloc(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(napi_get_boolean(env, trim_now() != 0, &out));
  return out;
}

/* Work run on a libuv worker thread, its result (a number) resolving a promise: the JS
   thread goes on meanwhile (its own mallocs wait only while malloc_trim holds their
   arena's lock). */
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  double (*run)(void);
  double result;
} BackgroundJob;

static void background_execute(napi_env env, void *data) {
  BackgroundJob *job = data;
  job->result = job->run();
}

static void background_complete(napi_env env, napi_status status, void *data) {
  BackgroundJob *job = data;
  napi_value out;
  napi_create_double(env, status == napi_ok ? job->result : 0, &out);
  napi_resolve_deferred(env, job->deferred, out);
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value run_in_background(napi_env env, const char *name, double (*run)(void)) {
  BackgroundJob *job = calloc(1, sizeof *job);
  if (job == NULL) {
    napi_throw_error(env, NULL, "vireo_lua: out of memory");
    return NULL;
  }
  job->run = run;
  napi_value promise, resource_name;
  if (napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &resource_name) != napi_ok ||
      napi_create_async_work(env, NULL, resource_name, background_execute, background_complete, job, &job->work) != napi_ok ||
      napi_queue_async_work(env, job->work) != napi_ok) {
    free(job);
    napi_throw_error(env, NULL, "vireo_lua: could not queue background work");
    return NULL;
  }
  return promise;
}

static double trim_job(void) { return trim_now(); }

/* trimMallocAsync() -> Promise<number>: malloc_trim on a worker thread, non-zero if pages went back. */
static napi_value trim_malloc_async(napi_env env, napi_callback_info info) {
  return run_in_background(env, "vireo_trim", trim_job);
}

static double drop_file_pages_job(void) { return (double)drop_clean_file_pages(); }

/* dropFilePages() -> bytes: unmap clean read-only file pages (file_pages.c); dropFilePagesAsync()
   -> Promise of it, on a worker thread (reading smaps walks every mapping's page table). */
static napi_value drop_file_pages(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(napi_create_double(env, drop_file_pages_job(), &out));
  return out;
}

static napi_value drop_file_pages_async(napi_env env, napi_callback_info info) {
  return run_in_background(env, "vireo_drop_file_pages", drop_file_pages_job);
}

/* reduceHeap() -> whether it ran: V8's memory-reducing full collection (heap_reduce.cc), on this thread. */
static napi_value reduce_heap_napi(napi_env env, napi_callback_info info) {
  napi_value out;
  CHECK(napi_get_boolean(env, reduce_heap() != 0, &out));
  return out;
}

/* dupFd(fd) -> fd: each I/O thread listens on its own duplicate of a listening socket
   (src/server/io-threads/), so each can close its copy without closing another's. */
static napi_value dup_fd(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  int32_t fd;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_int32(env, argv[0], &fd) != napi_ok) {
    napi_throw_type_error(env, NULL, "vireo_lua: bad call: dupFd(fd)");
    return NULL;
  }
  int copy = dup(fd);
  if (copy < 0) {
    napi_throw_error(env, NULL, strerror(errno));
    return NULL;
  }
  CHECK(napi_create_int32(env, copy, &out));
  return out;
}

/* Slicing-by-8 tables of the reflected Jones polynomial: crc64_table[k][b] is the CRC of
   byte b followed by k zero bytes. */
static uint64_t crc64_table[8][256];

static void crc64_init(void) {
  const uint64_t poly = 0x95ac9329ac4bc9b5ULL; /* 0xad93d23594c935a9 bit-reflected */
  for (int i = 0; i < 256; i++) {
    uint64_t crc = (uint64_t)i;
    for (int b = 0; b < 8; b++) crc = (crc & 1) ? (crc >> 1) ^ poly : crc >> 1;
    crc64_table[0][i] = crc;
  }
  for (int i = 0; i < 256; i++)
    for (int k = 1; k < 8; k++) crc64_table[k][i] = (crc64_table[k - 1][i] >> 8) ^ crc64_table[0][crc64_table[k - 1][i] & 0xff];
}

static uint64_t crc64_run(uint64_t crc, const uint8_t *p, size_t n) {
  while (n >= 8) {
    /* The state is little endian: the next 8 bytes xor in as a little-endian word. */
    uint64_t w = (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
                 (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
    crc ^= w;
    crc = crc64_table[7][crc & 0xff] ^ crc64_table[6][(crc >> 8) & 0xff] ^ crc64_table[5][(crc >> 16) & 0xff] ^
          crc64_table[4][(crc >> 24) & 0xff] ^ crc64_table[3][(crc >> 32) & 0xff] ^ crc64_table[2][(crc >> 40) & 0xff] ^
          crc64_table[1][(crc >> 48) & 0xff] ^ crc64_table[0][crc >> 56];
    p += 8;
    n -= 8;
  }
  while (n--) crc = crc64_table[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

/* crc64Update(state: Uint32Array [lo, hi], bytes: Uint8Array, start, end). Native because a
   snapshot checksums every chunk on the event loop: here it cannot be deoptimized or paused. */
static napi_value crc64_update(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  napi_typedarray_type st, bt;
  size_t slen, blen;
  void *sdata, *bdata;
  int64_t start, end;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_typedarray_info(env, argv[0], &st, &slen, &sdata, NULL, NULL) != napi_ok || st != napi_uint32_array || slen < 2 ||
      napi_get_typedarray_info(env, argv[1], &bt, &blen, &bdata, NULL, NULL) != napi_ok || bt != napi_uint8_array ||
      napi_get_value_int64(env, argv[2], &start) != napi_ok || napi_get_value_int64(env, argv[3], &end) != napi_ok ||
      start < 0 || end < start || (size_t)end > blen) {
    napi_throw_type_error(env, NULL, "vireo_lua: bad call: crc64Update(state, bytes, start, end)");
    return NULL;
  }
  uint32_t *state = sdata;
  uint64_t crc = (uint64_t)state[0] | (uint64_t)state[1] << 32;
  crc = crc64_run(crc, (const uint8_t *)bdata + start, (size_t)(end - start));
  state[0] = (uint32_t)crc;
  state[1] = (uint32_t)(crc >> 32);
  return NULL;
}

/* threadCpuMicros() -> number: CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), in
   microseconds. Unlike a wall clock it leaves out the time the thread waited for the core (other
   threads, the hypervisor), so it measures how long the thread's own work held it. */
static napi_value thread_cpu_micros(napi_env env, napi_callback_info info) {
  struct timespec ts;
  napi_value out;
  if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0) return NULL;
  CHECK(napi_create_double(env, (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3, &out));
  return out;
}

/* setThreadName(name) -> boolean: name the calling thread, as Redis names its I/O threads (io_thd_N),
   so that per-thread tools (top -H, ps -L, /proc/PID/task/TID/comm) tell them apart. Linux only. */
static napi_value set_thread_name(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], out;
  char name[16];
  size_t len = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_latin1(env, argv[0], name, sizeof name, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "vireo_lua: bad call: setThreadName(name)");
    return NULL;
  }
#ifdef __linux__
  int ok = prctl(PR_SET_NAME, name, 0, 0, 0) == 0;
#else
  int ok = 0;
#endif
  CHECK(napi_get_boolean(env, ok, &out));
  return out;
}

static pthread_once_t crc64_once = PTHREAD_ONCE_INIT;

static napi_value init(napi_env env, napi_value exports) {
  /* Once per process: the addon is loaded again by each thread that uses it (I/O threads). */
  pthread_once(&crc64_once, crc64_init);
  napi_property_descriptor props[] = {
      {"createVm", NULL, create_vm, NULL, NULL, NULL, napi_default, NULL},
      {"compile", NULL, compile, NULL, NULL, NULL, napi_default, NULL},
      {"run", NULL, run, NULL, NULL, NULL, napi_default, NULL},
      {"resume", NULL, resume, NULL, NULL, NULL, napi_default, NULL},
      {"kill", NULL, kill_script, NULL, NULL, NULL, napi_default, NULL},
      {"unref", NULL, unref, NULL, NULL, NULL, napi_default, NULL},
      {"loadLibrary", NULL, load_library, NULL, NULL, NULL, napi_default, NULL},
      {"setMemoryLimit", NULL, set_memory_limit, NULL, NULL, NULL, napi_default, NULL},
      {"memory", NULL, memory, NULL, NULL, NULL, napi_default, NULL},
      {"errorCounted", NULL, error_counted, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, close_vm, NULL, NULL, NULL, napi_default, NULL},
      {"trimMalloc", NULL, trim_malloc, NULL, NULL, NULL, napi_default, NULL},
      {"trimMallocAsync", NULL, trim_malloc_async, NULL, NULL, NULL, napi_default, NULL},
      {"dropFilePages", NULL, drop_file_pages, NULL, NULL, NULL, napi_default, NULL},
      {"dropFilePagesAsync", NULL, drop_file_pages_async, NULL, NULL, NULL, napi_default, NULL},
      {"reduceHeap", NULL, reduce_heap_napi, NULL, NULL, NULL, napi_default, NULL},
      {"dupFd", NULL, dup_fd, NULL, NULL, NULL, napi_default, NULL},
      {"crc64Update", NULL, crc64_update, NULL, NULL, NULL, napi_default, NULL},
      {"lzfCompress", NULL, lzf_compress_napi, NULL, NULL, NULL, napi_default, NULL},
      {"lzfSpans", NULL, lzf_spans_napi, NULL, NULL, NULL, napi_default, NULL},
      {"threadCpuMicros", NULL, thread_cpu_micros, NULL, NULL, NULL, napi_default, NULL},
      {"setThreadName", NULL, set_thread_name, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  sync_socket_define(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
