/*
 * The redis table scripts call (Redis' script_lua.c semantics, our code):
 * call/pcall cross into JS, which runs the command on the script's
 * execution context and hands back the reply's RESP bytes; those become
 * Lua values exactly as Redis converts them.
 */
#include <stdio.h>
#include <string.h>

#include "lauxlib.h"
#include "vm.h"

#define LL_DEBUG 0
#define LL_VERBOSE 1
#define LL_NOTICE 2
#define LL_WARNING 3

/* The Redis version Vireo reports (set by createVm). */
char vm_redis_version[32] = "7.2.4";
int vm_redis_version_num = 0x070204;

#define PROPAGATE_AOF 1
#define PROPAGATE_REPL 2

/*
 * Push Redis' error table for `msg`: "-CODE text" keeps its code, a bare
 * text gets ERR; trailing CR/LF are trimmed (luaPushErrorBuff).
 */
void api_push_error_table(lua_State *L, const char *msg, size_t len) {
  luaL_Buffer b;
  const char *code = "ERR";
  size_t code_len = 3;
  const char *text = msg;
  size_t text_len = len;
  if (len > 0 && msg[0] == '-') {
    const char *space = memchr(msg, ' ', len);
    if (space == NULL) {
      text = msg + 1;
      text_len = len - 1;
    } else {
      code = msg + 1;
      code_len = (size_t)(space - msg) - 1;
      text = space + 1;
      text_len = len - (size_t)(text - msg);
    }
  }
  /* sdstrim(msg, "\r\n"): both ends. */
  while (text_len > 0 && (text[0] == '\r' || text[0] == '\n')) {
    text++;
    text_len--;
  }
  while (text_len > 0 && (text[text_len - 1] == '\r' || text[text_len - 1] == '\n')) text_len--;
  lua_createtable(L, 0, 2);
  luaL_buffinit(L, &b);
  luaL_addlstring(&b, code, code_len);
  luaL_addchar(&b, ' ');
  luaL_addlstring(&b, text, text_len);
  luaL_pushresult(&b);
  lua_setfield(L, -2, "err");
}

static int raise_error_table(lua_State *L, const char *msg) {
  api_push_error_table(L, msg, strlen(msg));
  return lua_error(L);
}

/* The packed-arguments Buffer with room for `need` bytes (a new one when it is too small,
 * or much too big after one huge call). */
static int args_buffer(Vm *vm, size_t need, napi_value *out) {
  napi_env env = vm->env;
  int fits = vm->args_ref != NULL && vm->args_cap >= need && !(vm->args_cap > (1u << 20) && need < (64u << 10));
  if (fits) return napi_get_reference_value(env, vm->args_ref, out) == napi_ok;
  size_t cap = 64u << 10;
  while (cap < need) cap *= 2;
  void *data;
  if (napi_create_buffer(env, cap, &data, out) != napi_ok) return 0;
  if (vm->args_ref != NULL) napi_delete_reference(env, vm->args_ref);
  if (napi_create_reference(env, *out, 1, &vm->args_ref) != napi_ok) {
    vm->args_ref = NULL;
    return 0;
  }
  vm->args_data = data;
  vm->args_cap = cap;
  return 1;
}

/* Arguments 1..argc packed into the arguments Buffer (u32le lengths, then bytes): -1 when one is
 * neither a string nor a number, 0 when the Buffer cannot be had, 1 done. */
static int pack_args(Vm *vm, lua_State *L, int argc, napi_value *out) {
  Buf *b = &vm->scratch;
  b->len = 0;
  buf_reserve(b, (size_t)argc * 4);
  b->len = (size_t)argc * 4;
  for (int j = 1; j <= argc; j++) {
    const char *p;
    size_t len;
    char num[64];
    if (lua_type(L, j) == LUA_TNUMBER) {
      /* Not lua_tolstring: Lua's %.14g loses precision (Redis formats with %.17g). */
      len = (size_t)snprintf(num, sizeof num, "%.17g", (double)lua_tonumber(L, j));
      p = num;
    } else if (lua_type(L, j) == LUA_TSTRING) {
      p = lua_tolstring(L, j, &len);
    } else {
      return -1;
    }
    if (len > UINT32_MAX) return -1;
    unsigned char *hdr = (unsigned char *)b->data + (size_t)(j - 1) * 4;
    hdr[0] = (unsigned char)len;
    hdr[1] = (unsigned char)(len >> 8);
    hdr[2] = (unsigned char)(len >> 16);
    hdr[3] = (unsigned char)(len >> 24);
    buf_put(b, p, len);
  }
  if (!args_buffer(vm, b->len, out)) return 0;
  memcpy(vm->args_data, b->data, b->len);
  return 1;
}

/* Copy a JS Buffer result into vm->reply (JS memory must not be held across Lua calls that may throw). */
static int take_reply(Vm *vm, napi_value result) {
  void *data;
  size_t len;
  bool is_buffer = false;
  napi_is_buffer(vm->env, result, &is_buffer);
  if (!is_buffer || napi_get_buffer_info(vm->env, result, &data, &len) != napi_ok) return 0;
  vm->reply.len = 0;
  buf_put(&vm->reply, data, len);
  return 1;
}

static int generic_call(lua_State *L, int raise) {
  Vm *vm = vm_of(L);
  int argc = lua_gettop(L);
  if (!vm->running) return raise_error_table(L, "redis.call/pcall can only be called inside a script invocation");
  if (argc == 0) {
    api_push_error_table(L, "Please specify at least one argument for this redis lib call", 60);
    return raise ? lua_error(L) : 1;
  }
  napi_handle_scope scope;
  napi_open_handle_scope(vm->env, &scope);
  napi_value argv[3];
  int packed = pack_args(vm, L, argc, &argv[0]);
  int ok = packed >= 0;
  if (packed > 0) {
    napi_create_int32(vm->env, argc, &argv[1]);
    napi_create_int32(vm->env, vm->resp, &argv[2]);
    napi_value result;
    ok = js_call(vm, CB_CALL, argv, 3, &result) && take_reply(vm, result);
    if (!ok) {
      vm->reply.len = 0;
      buf_puts(&vm->reply, "-ERR Vireo: the command could not be run from the script\r\n");
      ok = 1;
    }
  } else {
    vm->reply.len = 0;
    if (packed == 0) buf_puts(&vm->reply, "-ERR Vireo: the command could not be run from the script\r\n");
  }
  napi_close_handle_scope(vm->env, scope);
  lua_settop(L, 0);
  if (!ok) {
    api_push_error_table(L, "Lua redis lib command arguments must be strings or integers", 59);
    return raise ? lua_error(L) : 1;
  }
  resp_push_lua(L, vm->reply.data, vm->reply.len);
  if (raise && vm->reply.len > 0 && vm->reply.data[0] == '-') return lua_error(L);
  return 1;
}

static int api_call(lua_State *L) {
  return generic_call(L, 1);
}

static int api_pcall(lua_State *L) {
  return generic_call(L, 0);
}

/* The global pcall: Redis 7 returns an error table's message rather than the table (luaRedisPcall). */
static int builtin_pcall(lua_State *L) {
  luaL_checkany(L, 1);
  int argc = lua_gettop(L);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  if (lua_pcall(L, argc - 1, LUA_MULTRET, 0) != 0) {
    lua_remove(L, 1);
    if (lua_istable(L, -1)) {
      lua_getfield(L, -1, "err");
      if (lua_isstring(L, -1)) lua_replace(L, -2);
    }
    lua_pushboolean(L, 0);
    lua_insert(L, 1);
  }
  return lua_gettop(L);
}

static int api_sha1hex(lua_State *L) {
  Vm *vm = vm_of(L);
  if (lua_gettop(L) != 1) return raise_error_table(L, "wrong number of arguments");
  size_t len = 0;
  const char *s = lua_tolstring(L, 1, &len);
  napi_handle_scope scope;
  napi_open_handle_scope(vm->env, &scope);
  napi_value arg, result;
  char digest[41] = {0};
  napi_create_string_latin1(vm->env, s ? s : "", s ? len : 0, &arg);
  if (js_call(vm, CB_SHA1HEX, &arg, 1, &result)) {
    size_t n;
    napi_get_value_string_latin1(vm->env, result, digest, sizeof digest, &n);
  }
  napi_close_handle_scope(vm->env, scope);
  lua_pushstring(L, digest);
  return 1;
}

static int api_error_reply(lua_State *L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    api_push_error_table(L, "wrong number or type of arguments", 33);
    return 1;
  }
  size_t len;
  const char *err = lua_tolstring(L, 1, &len);
  if (len > 0 && err[0] == '-') {
    api_push_error_table(L, err, len);
  } else {
    lua_pushliteral(L, "-");
    lua_pushvalue(L, 1);
    lua_concat(L, 2);
    err = lua_tolstring(L, -1, &len);
    api_push_error_table(L, err, len);
  }
  return 1;
}

static int api_status_reply(lua_State *L) {
  if (lua_gettop(L) != 1 || lua_type(L, -1) != LUA_TSTRING) {
    api_push_error_table(L, "wrong number or type of arguments", 33);
    return 1;
  }
  lua_createtable(L, 0, 1);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "ok");
  return 1;
}

static int api_log(lua_State *L) {
  Vm *vm = vm_of(L);
  int argc = lua_gettop(L);
  if (argc < 2) return raise_error_table(L, "redis.log() requires two arguments or more.");
  if (!lua_isnumber(L, 1)) return raise_error_table(L, "First argument must be a number (log level).");
  int level = (int)lua_tonumber(L, 1);
  if (level < LL_DEBUG || level > LL_WARNING) return raise_error_table(L, "Invalid debug level.");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int j = 2; j <= argc; j++) {
    size_t len;
    const char *s = lua_tolstring(L, j, &len);
    if (s == NULL) continue;
    if (j != 2) luaL_addchar(&b, ' ');
    luaL_addlstring(&b, s, len);
  }
  luaL_pushresult(&b);
  size_t len;
  const char *msg = lua_tolstring(L, -1, &len);
  napi_handle_scope scope;
  napi_open_handle_scope(vm->env, &scope);
  napi_value argv[2], result;
  napi_create_int32(vm->env, level, &argv[0]);
  napi_create_string_latin1(vm->env, msg, len, &argv[1]);
  js_call(vm, CB_LOG, argv, 2, &result);
  napi_close_handle_scope(vm->env, scope);
  return 0;
}

static int api_setresp(lua_State *L) {
  Vm *vm = vm_of(L);
  if (!vm->running) return raise_error_table(L, "redis.setresp can only be called inside a script invocation");
  if (lua_gettop(L) != 1) return raise_error_table(L, "redis.setresp() requires one argument.");
  int resp = (int)lua_tonumber(L, 1);
  if (resp != 2 && resp != 3) return raise_error_table(L, "RESP version must be 2 or 3.");
  vm->resp = resp;
  return 0;
}

static int api_set_repl(lua_State *L) {
  Vm *vm = vm_of(L);
  if (!vm->running) return raise_error_table(L, "redis.set_repl can only be called inside a script invocation");
  if (lua_gettop(L) != 1) return raise_error_table(L, "redis.set_repl() requires two arguments.");
  int64_t flags = (int64_t)lua_tonumber(L, -1);
  if ((flags & ~(int64_t)(PROPAGATE_AOF | PROPAGATE_REPL)) != 0)
    return raise_error_table(L, "Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.");
  /* Checked, not honoured: every write enters the one command log that AOF and replicas read (README). */
  return 0;
}

static int api_acl_check_cmd(lua_State *L) {
  Vm *vm = vm_of(L);
  if (!vm->running) return raise_error_table(L, "redis.acl_check_cmd can only be called inside a script invocation");
  int argc = lua_gettop(L);
  if (argc == 0) return raise_error_table(L, "Please specify at least one argument for this redis lib call");
  napi_handle_scope scope;
  napi_open_handle_scope(vm->env, &scope);
  napi_value argv[2], result;
  int verdict = -2; /* -2 bad arguments, -1 no such command, 0 denied, 1 allowed */
  if (pack_args(vm, L, argc, &argv[0]) > 0 && napi_create_int32(vm->env, argc, &argv[1]) == napi_ok &&
      js_call(vm, CB_ACL_CHECK, argv, 2, &result)) {
    int32_t v = -1;
    napi_get_value_int32(vm->env, result, &v);
    verdict = v;
  }
  napi_close_handle_scope(vm->env, scope);
  if (verdict == -2) return raise_error_table(L, "Lua redis lib command arguments must be strings or integers");
  if (verdict == -1) return raise_error_table(L, "Invalid command passed to redis.acl_check_cmd()");
  lua_pushboolean(L, verdict);
  return 1;
}

/* Redis' EVAL error handler is a visible global; ours only shapes an error like it (no stack to look at). */
static int api_err_handler(lua_State *L) {
  if (!lua_istable(L, 1)) {
    const char *s = lua_tostring(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushfstring(L, "ERR %s", s ? s : luaL_typename(L, 1));
    lua_setfield(L, -2, "err");
    return 1;
  }
  lua_settop(L, 1);
  return 1;
}

static int api_replicate_commands(lua_State *L) {
  lua_pushboolean(L, 1);
  return 1;
}

static int api_breakpoint(lua_State *L) {
  lua_pushboolean(L, 0);
  return 1;
}

static int api_debug(lua_State *L) {
  (void)L;
  return 0;
}

static void set_number(lua_State *L, const char *name, lua_Number n) {
  lua_pushnumber(L, n);
  lua_setfield(L, -2, name);
}

static void set_fn(lua_State *L, const char *name, lua_CFunction f) {
  lua_pushcfunction(L, f);
  lua_setfield(L, -2, name);
}

/* redis.log, its levels and the version fields: shared by the runtime table and FUNCTION LOAD's. */
void api_push_log_and_version(lua_State *L) {
  set_fn(L, "log", api_log);
  set_number(L, "LOG_DEBUG", LL_DEBUG);
  set_number(L, "LOG_VERBOSE", LL_VERBOSE);
  set_number(L, "LOG_NOTICE", LL_NOTICE);
  set_number(L, "LOG_WARNING", LL_WARNING);
  set_number(L, "REDIS_VERSION_NUM", vm_redis_version_num);
  lua_pushstring(L, vm_redis_version);
  lua_setfield(L, -2, "REDIS_VERSION");
}

void api_register(lua_State *L, int eval_extras) {
  lua_pushcfunction(L, builtin_pcall);
  lua_setglobal(L, "pcall");

  lua_newtable(L);
  set_fn(L, "call", api_call);
  set_fn(L, "pcall", api_pcall);
  api_push_log_and_version(L);
  set_fn(L, "setresp", api_setresp);
  set_fn(L, "sha1hex", api_sha1hex);
  set_fn(L, "error_reply", api_error_reply);
  set_fn(L, "status_reply", api_status_reply);
  set_fn(L, "set_repl", api_set_repl);
  set_number(L, "REPL_NONE", 0);
  set_number(L, "REPL_AOF", PROPAGATE_AOF);
  set_number(L, "REPL_SLAVE", PROPAGATE_REPL);
  set_number(L, "REPL_REPLICA", PROPAGATE_REPL);
  set_number(L, "REPL_ALL", PROPAGATE_AOF | PROPAGATE_REPL);
  set_fn(L, "acl_check_cmd", api_acl_check_cmd);
  if (eval_extras) {
    /* Only EVAL scripts have these (Redis' eval.c adds them; functions do not). */
    lua_pushcfunction(L, api_err_handler);
    lua_setglobal(L, "__redis__err__handler");
    set_fn(L, "replicate_commands", api_replicate_commands);
    set_fn(L, "breakpoint", api_breakpoint);
    set_fn(L, "debug", api_debug);
  }
  lua_setglobal(L, "redis");
}
