/*
 * FUNCTION LOAD in the functions engine's state (Redis 7's
 * function_lua.c semantics, our code): the library body runs with a
 * globals table that holds only `redis` = { register_function, log,
 * LOG_*, REDIS_VERSION* }, under a 500 ms timeout; each registered
 * callback is kept by registry reference and handed to JS, which owns
 * libraries and functions.
 */
#include <string.h>
#include <strings.h>

#include "lauxlib.h"
#include "vm.h"

#define LOAD_TIMEOUT_MS 500.0

static const char *KNOWN_FLAGS[] = {"no-writes", "allow-oom", "allow-stale", "no-cluster", "allow-cross-slot-keys", NULL};

static int raise_msg(lua_State *L, const char *msg) {
  api_push_error_table(L, msg, strlen(msg));
  return lua_error(L);
}

/* The flags table on top as a JS array of canonical flag names; 0 on an unknown or non-string flag. */
static int read_flags(Vm *vm, lua_State *L, napi_value *out) {
  napi_create_array(vm->env, out);
  uint32_t n = 0;
  for (int j = 1;; j++) {
    lua_rawgeti(L, -1, j);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      return 1;
    }
    if (!lua_isstring(L, -1)) {
      lua_pop(L, 1);
      return 0;
    }
    const char *flag = lua_tostring(L, -1);
    const char **known = KNOWN_FLAGS;
    while (*known && strcasecmp(*known, flag) != 0) known++;
    lua_pop(L, 1);
    if (*known == NULL) return 0;
    napi_value s;
    napi_create_string_latin1(vm->env, *known, NAPI_AUTO_LENGTH, &s);
    napi_set_element(vm->env, *out, n++, s);
  }
}

static int register_function(lua_State *L) {
  Vm *vm = vm_of(L);
  if (!vm->loading) return raise_msg(L, "redis.register_function can only be called on FUNCTION LOAD command");
  int argc = lua_gettop(L);
  if (argc < 1 || argc > 2) return raise_msg(L, "wrong number of arguments to redis.register_function");

  napi_handle_scope scope;
  napi_open_handle_scope(vm->env, &scope);
  napi_value name = NULL, desc = NULL, flags = NULL;
  int callback = 0; /* stack index of the callback */
  const char *err = NULL;
  napi_get_null(vm->env, &desc);
  napi_create_array(vm->env, &flags);

  if (argc == 2) {
    if (!lua_isstring(L, 1)) err = "first argument to redis.register_function must be a string";
    else if (!lua_isfunction(L, 2)) err = "second argument to redis.register_function must be a function";
    else {
      size_t len;
      const char *s = lua_tolstring(L, 1, &len);
      napi_create_string_latin1(vm->env, s, len, &name);
      callback = 2;
    }
  } else if (!lua_istable(L, 1)) {
    err = "calling redis.register_function with a single argument is only applicable to Lua table (representing named arguments).";
  } else {
    /* Index 2 holds the callback once found; lua_next's key and value sit above it. */
    lua_settop(L, 2);
    lua_pushnil(L);
    while (err == NULL && lua_next(L, 1)) {
      /* stack: args, key, value */
      if (!lua_isstring(L, -2)) {
        err = "named argument key given to redis.register_function is not a string";
        break;
      }
      const char *key = lua_tostring(L, -2);
      size_t len;
      if (strcasecmp(key, "function_name") == 0) {
        if (!lua_isstring(L, -1)) err = "function_name argument given to redis.register_function must be a string";
        else {
          const char *s = lua_tolstring(L, -1, &len);
          napi_create_string_latin1(vm->env, s, len, &name);
        }
      } else if (strcasecmp(key, "description") == 0) {
        if (!lua_isstring(L, -1)) err = "description argument given to redis.register_function must be a string";
        else {
          const char *s = lua_tolstring(L, -1, &len);
          napi_create_string_latin1(vm->env, s, len, &desc);
        }
      } else if (strcasecmp(key, "callback") == 0) {
        if (!lua_isfunction(L, -1)) err = "callback argument given to redis.register_function must be a function";
        else {
          lua_pushvalue(L, -1);
          lua_replace(L, 2);
          callback = 2;
        }
      } else if (strcasecmp(key, "flags") == 0) {
        if (!lua_istable(L, -1)) err = "flags argument to redis.register_function must be a table representing function flags";
        else if (!read_flags(vm, L, &flags)) err = "unknown flag given";
      } else {
        err = "unknown argument given to redis.register_function";
      }
      lua_pop(L, 1);
    }
    if (err == NULL && name == NULL) err = "redis.register_function must get a function name argument";
    if (err == NULL && callback == 0) err = "redis.register_function must get a callback argument";
  }
  if (err != NULL) {
    napi_close_handle_scope(vm->env, scope);
    return raise_msg(L, err);
  }

  lua_pushvalue(L, callback);
  int ref = luaL_ref(L, LUA_REGISTRYINDEX);
  napi_value argv[4], result;
  argv[0] = name;
  napi_create_int32(vm->env, ref, &argv[1]);
  argv[2] = flags;
  argv[3] = desc;
  /* JS answers null, or the error text (bad name, duplicate). */
  int ok = js_call(vm, CB_REGISTER_FUNCTION, argv, 4, &result);
  napi_valuetype t = napi_null;
  if (ok) napi_typeof(vm->env, result, &t);
  if (!ok || t == napi_string) {
    vm->scratch.len = 0;
    if (ok) {
      size_t len = 0;
      napi_get_value_string_latin1(vm->env, result, NULL, 0, &len);
      buf_reserve(&vm->scratch, len + 1);
      napi_get_value_string_latin1(vm->env, result, vm->scratch.data, len + 1, &len);
      vm->scratch.len = len;
    } else {
      buf_puts(&vm->scratch, "the function could not be registered");
    }
    napi_close_handle_scope(vm->env, scope);
    luaL_unref(L, LUA_REGISTRYINDEX, ref);
    api_push_error_table(L, vm->scratch.data, vm->scratch.len);
    return lua_error(L);
  }
  napi_close_handle_scope(vm->env, scope);
  return 0;
}

/* The globals a library body sees while it loads, kept in the registry. */
void functions_setup(lua_State *L) {
  lua_newtable(L); /* load-time globals */
  lua_newtable(L); /* its redis table */
  lua_pushcfunction(L, register_function);
  lua_setfield(L, -2, "register_function");
  api_push_log_and_version(L);
  sandbox_set_error_metatable(L);
  sandbox_push_readonly_proxy(L, -1);
  lua_remove(L, -2);
  lua_setfield(L, -2, "redis");
  sandbox_set_error_metatable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, "vireo.libapi");
}

static void load_hook(lua_State *L, lua_Debug *ar) {
  (void)ar;
  Vm *vm = vm_of(L);
  if (vm_now_ms() - vm->started_ms > LOAD_TIMEOUT_MS) {
    lua_sethook(L, load_hook, LUA_MASKLINE, 0);
    api_push_error_table(L, "FUNCTION LOAD timeout", 21);
    lua_error(L);
  }
}

/* Point the scripts' environment at `globals_idx` (the load-time table or the real globals). */
static void env_reads_from(lua_State *L, int globals_idx) {
  lua_getfield(L, LUA_REGISTRYINDEX, "vireo.env");
  lua_getmetatable(L, -1);
  lua_pushvalue(L, globals_idx < 0 && globals_idx > LUA_REGISTRYINDEX ? globals_idx - 2 : globals_idx);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 2);
}

/* Run a library body; on failure leave Redis' error text in vm->out and return 0. */
int vm_load_library(Vm *vm, const char *code, size_t len) {
  lua_State *L = vm->L;
  vm->out.len = 0;
  if (luaL_loadbuffer(L, code, len, "@user_function") != 0) {
    buf_puts(&vm->out, "Error compiling function: ");
    const char *msg = lua_tostring(L, -1);
    buf_puts(&vm->out, msg ? msg : "?");
    lua_pop(L, 1);
    return 0;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, "vireo.env");
  lua_setfenv(L, -2);
  lua_getfield(L, LUA_REGISTRYINDEX, "vireo.libapi");
  env_reads_from(L, -1);
  lua_pop(L, 1);
  vm->loading = 1;
  vm->started_ms = vm_now_ms();
  lua_sethook(L, load_hook, LUA_MASKCOUNT, 100000);
  int rc = lua_pcall(L, 0, 0, 0);
  lua_sethook(L, NULL, 0, 0);
  vm->loading = 0;
  env_reads_from(L, LUA_GLOBALSINDEX);
  if (rc == 0) return 1;
  buf_puts(&vm->out, "Error registering functions: ");
  if (lua_istable(L, -1)) {
    lua_getfield(L, -1, "err");
    const char *msg = lua_tostring(L, -1);
    buf_puts(&vm->out, msg ? msg : "");
    lua_pop(L, 1);
  } else {
    const char *msg = lua_tostring(L, -1);
    buf_puts(&vm->out, "ERR ");
    buf_puts(&vm->out, msg ? msg : "execution failure");
  }
  lua_pop(L, 1);
  return 0;
}
