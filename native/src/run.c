/*
 * Running a script: each run is a coroutine (reused after a run that ended
 * well), so the count hook can suspend it past busy-reply-threshold and
 * the server can serve other clients -BUSY meanwhile. The hook also stops
 * a script after SCRIPT KILL / FUNCTION KILL, switching to a line hook so
 * pcall cannot swallow the error (as Redis does).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "lauxlib.h"
#include "lstate.h" /* nCcalls / baseCcalls: whether the running code may yield */
#include "vm.h"

/* Instructions between two looks at the clock (Redis uses the same count). */
#define HOOK_INSTRUCTIONS 100000
/* Once suspended, the script runs this long between two turns of the event loop. */
#define SLICE_MS 10.0

double vm_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void count_hook(lua_State *co, lua_Debug *ar) {
  (void)ar;
  Vm *vm = vm_of(co);
  if (vm->killed) {
    /* Every line from now on raises again: a pcall around the loop cannot keep it alive. */
    lua_sethook(co, count_hook, LUA_MASKLINE, 0);
    api_push_error_table(co, "Script killed by user with SCRIPT KILL...", 41);
    lua_error(co);
    return;
  }
  if (!vm->may_yield || vm->busy_ms <= 0) return;
  double now = vm_now_ms();
  if (now - vm->started_ms < vm->busy_ms) return;
  if (vm->hook_yielded_once && now - vm->resumed_ms < SLICE_MS) return;
  /* Only plain Lua code can be suspended (not inside a metamethod or a C callback), in the
   * script's coroutine or a pcall wrapper's (yieldable.c), never in the script's own coroutines. */
  if (co->nCcalls > co->baseCcalls || !yieldable_thread(vm, co)) return;
  vm->hook_yielded = 1;
  vm->hook_yielded_once = 1;
  lua_yield(co, 0);
}

/* Push a Lua string for each element of the JS array `arr` into a new table. */
static void push_js_strings(Vm *vm, lua_State *L, napi_value arr) {
  uint32_t n = 0;
  napi_get_array_length(vm->env, arr, &n);
  lua_createtable(L, (int)n, 0);
  for (uint32_t i = 0; i < n; i++) {
    napi_value v;
    size_t len = 0;
    napi_get_element(vm->env, arr, i, &v);
    napi_get_value_string_latin1(vm->env, v, NULL, 0, &len);
    vm->reply.len = 0;
    buf_reserve(&vm->reply, len + 1);
    napi_get_value_string_latin1(vm->env, v, vm->reply.data, len + 1, &len);
    lua_pushlstring(L, vm->reply.data, len);
    lua_rawseti(L, -2, (int)i + 1);
  }
}

typedef struct {
  Vm *vm;
  int fn_ref;
  napi_value keys;
  napi_value args;
  lua_State *co;
} StartArgs;

/* Under lua_cpcall (allocation may fail): make the coroutine, set KEYS/ARGV or push them as arguments. */
static int prepare(lua_State *L) {
  StartArgs *a = (StartArgs *)lua_touserdata(L, 1);
  Vm *vm = a->vm;
  lua_State *co = vm->spare_co;
  if (co == NULL) {
    co = lua_newthread(L);
    vm->spare_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_getfield(L, LUA_REGISTRYINDEX, "vireo.env");
    lua_xmove(L, co, 1);
    lua_replace(co, LUA_GLOBALSINDEX);
    vm->spare_co = co;
  }
  lua_settop(co, 0);
  lua_rawgeti(L, LUA_REGISTRYINDEX, a->fn_ref);
  lua_xmove(L, co, 1);
  if (!vm->function_mode) {
    push_js_strings(vm, L, a->keys);
    vm_set_array_global(L, "KEYS");
    push_js_strings(vm, L, a->args);
    vm_set_array_global(L, "ARGV");
  } else {
    push_js_strings(vm, L, a->keys);
    push_js_strings(vm, L, a->args);
    lua_xmove(L, co, 2);
  }
  a->co = co;
  return 0;
}

typedef struct {
  Vm *vm;
  lua_State *co;
  int status;
} FinishArgs;

/*
 * Source and line of the frame that raised the error, as Redis' error
 * handler finds it: the raising function if it is Lua code, else its
 * caller; frames of the pcall wrappers (yieldable.c) are not the script's.
 */
static void error_location(lua_State *co, lua_Debug *ar, int *found) {
  *found = 0;
  for (int level = 0; lua_getstack(co, level, ar); level++) {
    lua_getinfo(co, "Sl", ar);
    if (strcmp(ar->what, "C") != 0 && strcmp(ar->source, "=pcall") != 0) {
      *found = 1;
      return;
    }
  }
}

/* Under lua_pcall on the main state: the error reply, as luaCallFunction and the error handler build it. */
static int format_error(lua_State *L) {
  Vm *vm = (Vm *)lua_touserdata(L, 1);
  /* stack: vm, err, source|nil, line|nil, yielded */
  int has_where = !lua_isnil(L, 3);
  if (!lua_istable(L, 2)) {
    lua_createtable(L, 0, 3);
    /* 'ERR ' .. tostring(err) */
    switch (lua_type(L, 2)) {
    case LUA_TSTRING:
    case LUA_TNUMBER:
      lua_pushfstring(L, "ERR %s", lua_tostring(L, 2));
      break;
    case LUA_TNIL:
      lua_pushliteral(L, "ERR nil");
      break;
    case LUA_TBOOLEAN:
      lua_pushstring(L, lua_toboolean(L, 2) ? "ERR true" : "ERR false");
      break;
    default:
      lua_pushfstring(L, "ERR %s: %p", luaL_typename(L, 2), lua_topointer(L, 2));
    }
    lua_setfield(L, -2, "err");
    lua_replace(L, 2);
  }
  if (has_where) {
    lua_pushvalue(L, 3);
    lua_setfield(L, 2, "source");
    lua_pushvalue(L, 4);
    lua_setfield(L, 2, "line");
  }
  lua_getfield(L, 2, "err");
  size_t len = 0;
  const char *msg = lua_isstring(L, -1) ? lua_tolstring(L, -1, &len) : NULL;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addchar(&b, '-');
  if (msg != NULL) luaL_addlstring(&b, msg, len);
  lua_getfield(L, 2, "source");
  lua_getfield(L, 2, "line");
  if (lua_isstring(L, -1) && lua_isstring(L, -2)) {
    const char *source = lua_tostring(L, -2);
    const char *line = lua_tostring(L, -1);
    lua_pop(L, 2);
    luaL_addstring(&b, " script: ");
    luaL_addstring(&b, vm->funcname);
    luaL_addstring(&b, ", on ");
    luaL_addstring(&b, source);
    luaL_addchar(&b, ':');
    luaL_addstring(&b, line);
    luaL_addchar(&b, '.');
  } else {
    lua_pop(L, 2);
  }
  luaL_pushresult(&b);
  const char *out = lua_tolstring(L, -1, &len);
  vm->out.len = 0;
  buf_put(&vm->out, out, len);
  for (size_t i = 1; i < vm->out.len; i++)
    if (vm->out.data[i] == '\r' || vm->out.data[i] == '\n') vm->out.data[i] = ' ';
  buf_put(&vm->out, "\r\n", 2);
  lua_getfield(L, 2, "ignore_error_stats_update");
  vm->out_error_no_stats = lua_toboolean(L, -1);
  return 0;
}

static int encode_result(lua_State *L) {
  Vm *vm = (Vm *)lua_touserdata(L, 1);
  lua_settop(L, 2);
  lua_to_resp(vm, L, &vm->out);
  return 0;
}

static void release_coroutine(Vm *vm) {
  luaL_unref(vm->L, LUA_REGISTRYINDEX, vm->spare_ref);
  vm->spare_co = NULL;
  vm->spare_ref = LUA_NOREF;
}

/* The script stopped (returned, failed or yielded by itself): leave its reply in vm->out. */
static int finish(Vm *vm, lua_State *co, int status) {
  lua_State *L = vm->L;
  vm->out.len = 0;
  vm->out_error_no_stats = 0;
  if (status == LUA_YIELD && vm->hook_yielded) {
    vm->hook_yielded = 0;
    return RUN_SUSPENDED;
  }
  /* The reply may need memory the script used up: allow it some room. */
  size_t limit = vm->mem_limit;
  if (limit > 0) vm->mem_limit = limit + (16u << 20);
  if (status == 0) {
    if (lua_gettop(co) == 0) lua_pushnil(co);
    lua_settop(co, 1);
    lua_pushcfunction(L, encode_result);
    lua_pushlightuserdata(L, vm);
    lua_xmove(co, L, 1);
    if (lua_pcall(L, 2, 0, 0) != 0) {
      lua_pop(L, 1);
      vm->out.len = 0;
      buf_puts(&vm->out, "-ERR Vireo could not encode the script's result (not enough memory)\r\n");
    }
    lua_settop(co, 0);
  } else {
    lua_Debug ar;
    int found = 0;
    if (status == LUA_YIELD) {
      /* The script itself yielded at top level: Redis' lua_pcall refuses that. */
      lua_settop(co, 0);
      lua_pushliteral(co, "attempt to yield across metamethod/C-call boundary");
      status = LUA_ERRRUN;
    }
    if (status == LUA_ERRRUN) error_location(co, &ar, &found);
    lua_pushcfunction(L, format_error);
    lua_pushlightuserdata(L, vm);
    lua_xmove(co, L, 1);
    if (status == LUA_ERRRUN) {
      if (found) {
        lua_pushstring(L, ar.source);
        lua_pushinteger(L, ar.currentline);
      } else {
        lua_pushnil(L);
        lua_pushnil(L);
      }
    } else {
      /* Memory errors skip Redis' error handler: "Error running script". */
      const char *s = lua_tostring(L, -1);
      lua_pushfstring(L, "Error running script %s, %s", vm->funcname, s ? s : "execution failure");
      lua_replace(L, -2);
      lua_pushnil(L);
      lua_pushnil(L);
    }
    if (lua_pcall(L, 4, 0, 0) != 0) {
      lua_pop(L, 1);
      vm->out.len = 0;
      buf_puts(&vm->out, "-ERR Vireo could not report the script's error (not enough memory)\r\n");
    }
    release_coroutine(vm);
  }
  /* Lua 5.1 has no emergency collection: after a script ran out of memory (or came close), collect now,
   * or the next script could not even be compiled. */
  if (limit > 0 && (status == LUA_ERRMEM || vm->mem_used > limit / 2)) lua_gc(L, LUA_GCCOLLECT, 0);
  vm->mem_limit = limit;
  vm->running = 0;
  vm->co = NULL;
  return RUN_DONE;
}

int vm_start(Vm *vm, int fn_ref, napi_value keys, napi_value args) {
  lua_State *L = vm->L;
  StartArgs a = {vm, fn_ref, keys, args, NULL};
  vm->running = 1;
  vm->killed = 0;
  vm->hook_yielded = 0;
  vm->hook_yielded_once = 0;
  vm->resp = 2;
  if (lua_cpcall(L, prepare, &a) != 0) {
    lua_pop(L, 1);
    vm->running = 0;
    vm->out.len = 0;
    buf_puts(&vm->out, "-ERR Error running script: not enough memory for its arguments\r\n");
    return RUN_DONE;
  }
  vm->co = a.co;
  vm->started_ms = vm->resumed_ms = vm_now_ms();
  lua_sethook(a.co, count_hook, LUA_MASKCOUNT, HOOK_INSTRUCTIONS);
  int status = lua_resume(a.co, vm->function_mode ? 2 : 0);
  return finish(vm, a.co, status);
}

int vm_resume(Vm *vm) {
  lua_State *co = vm->co;
  if (co == NULL) return RUN_DONE;
  vm->resumed_ms = vm_now_ms();
  if (vm->killed) lua_sethook(co, count_hook, LUA_MASKCOUNT, 1);
  int status = lua_resume(co, 0);
  return finish(vm, co, status);
}
