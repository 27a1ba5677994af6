/*
 * The scripting VM: one Lua 5.1 state with Redis' script environment, run
 * from Node through N-API (module.c). A script runs in a coroutine so that
 * the count hook can suspend it once it has run past busy-reply-threshold:
 * the server then answers other clients -BUSY and resumes it on the next
 * turn of its event loop, until it ends or SCRIPT KILL stops it.
 */
#ifndef VIREO_VM_H
#define VIREO_VM_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

#include "lua.h"

/* Growable byte buffer (plain malloc: never owned by Lua, so a Lua error cannot leak it). */
typedef struct {
  char *data;
  size_t len;
  size_t cap;
} Buf;

void buf_reserve(Buf *b, size_t more);
void buf_put(Buf *b, const void *p, size_t n);
void buf_puts(Buf *b, const char *s);
void buf_putc(Buf *b, char c);
void buf_free(Buf *b);

/* Outcome of run/resume. */
enum { RUN_DONE = 0, RUN_SUSPENDED = 1 };

typedef struct Vm {
  lua_State *L;
  napi_env env;
  /* JS callbacks object: call(argv, raise) -> Buffer, log(level, msg),
   * sha1hex(s), formatDouble(d), aclCheck(argv), registerFunction(...). */
  size_t mem_used;
  size_t mem_limit;

  /* The running script (NULL between runs). */
  lua_State *co;
  int co_ref;
  int running;
  int resp;          /* redis.setresp() of the running script */
  int client_resp;   /* protocol of the client that gets the result */
  int function_mode; /* FCALL (keys and args are parameters) rather than EVAL */
  int may_yield;     /* the caller can park the client and resume later */
  int killed;
  int hook_yielded;
  int loading;       /* running a FUNCTION LOAD body: register_function allowed */
  double started_ms;
  double resumed_ms;
  double busy_ms;    /* busy-reply-threshold; 0: never suspend */
  int hook_yielded_once;
  char funcname[128]; /* the sha (EVAL) or function name (FCALL) errors name */
  int is_functions;   /* the FUNCTION engine's state (library API at load time) */

  int yieldable_ref; /* weak set of the pcall wrappers' coroutines */

  /* A finished coroutine kept for the next run. */
  lua_State *spare_co;
  int spare_ref;

  /* JS callbacks, by CB_* index. */
  napi_ref cb[6];

  /* redis.call's arguments for JS, packed: a u32le length per argument, then their bytes.
   * One Buffer kept across calls: one N-API call per redis.call instead of two per argument. */
  napi_ref args_ref;
  char *args_data;
  size_t args_cap;

  Buf reply;   /* redis.call reply bytes, copied out of JS */
  Buf scratch; /* script source and other argument bytes */
  Buf out;     /* result of the script in RESP */
  int out_error_no_stats; /* the result error was already counted by the command that raised it */
} Vm;

double vm_now_ms(void);

/* sandbox.c */
int vm_setup(Vm *vm);
int vm_load_library(Vm *vm, const char *code, size_t len);
void vm_set_array_global(lua_State *L, const char *name);
void sandbox_push_readonly_proxy(lua_State *L, int idx);
void sandbox_set_error_metatable(lua_State *L);

/* yieldable.c */
void yieldable_install(Vm *vm);
int yieldable_thread(Vm *vm, lua_State *co);

/* redis_api.c */
void api_register(lua_State *L, int eval_extras);
void functions_setup(lua_State *L);
void api_push_error_table(lua_State *L, const char *msg, size_t len);
void api_push_log_and_version(lua_State *L);
extern char vm_redis_version[32];
extern int vm_redis_version_num;

/* resp_to_lua.c: push the Lua value of one RESP reply (Redis' redisProtocolToLuaType). */
void resp_push_lua(lua_State *L, const char *p, size_t len);

/* lua_to_resp.c: encode the value on top of L for a client of protocol client_resp (consumes it). */
void lua_to_resp(Vm *vm, lua_State *L, Buf *out);

/* run.c */
int vm_start(Vm *vm, int fn_ref, napi_value keys, napi_value args);
int vm_resume(Vm *vm);

/* module.c: calling back into JS. */
enum { CB_CALL, CB_LOG, CB_SHA1HEX, CB_FORMAT_DOUBLE, CB_ACL_CHECK, CB_REGISTER_FUNCTION };
int js_call(Vm *vm, int cb, napi_value *argv, size_t argc, napi_value *result);
Vm *vm_of(lua_State *L);

extern const char *VM_REGISTRY_KEY;

/* Vireo's own libraries (lua_cmsgpack.c, lua_struct.c, lua_bit.c) and lua-cjson. */
int luaopen_cjson(lua_State *L);

#endif
