/*
 * The environment Redis 7.2 gives scripts: the base, table, string and
 * math libraries, cjson, cmsgpack, struct and bit, the redis table (with
 * `server` as its alias, as Valkey has), os.clock only, and globals that
 * are read-only (writing one is "Attempt to modify a readonly table",
 * reading an undeclared one "Script attempted to access nonexistent global
 * variable"). Stock Lua 5.1 has no read-only tables, so scripts see the
 * globals and the library tables through empty proxies whose metatables
 * forward reads and refuse writes.
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "lauxlib.h"
#include "lualib.h"
#include "vm.h"
#include "vireo_lualibs.h"

static int readonly_error(lua_State *L) {
  luaL_where(L, 1);
  lua_pushstring(L, "Attempt to modify a readonly table");
  lua_concat(L, 2);
  return lua_error(L);
}

static int missing_global(lua_State *L) {
  const char *name = lua_tostring(L, 2);
  return luaL_error(L, "Script attempted to access nonexistent global variable '%s'", name ? name : "?");
}

/* Push a proxy of the table at `idx`: reads go to it, writes fail. Leaves the proxy on the stack. */
void sandbox_push_readonly_proxy(lua_State *L, int idx) {
  idx = idx < 0 ? lua_gettop(L) + idx + 1 : idx;
  lua_newtable(L);            /* proxy */
  lua_createtable(L, 0, 3);   /* its metatable */
  lua_pushvalue(L, idx);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readonly_error);
  lua_setfield(L, -2, "__newindex");
  /* getmetatable() shows a read-only view of the metatable, so it cannot be edited either. */
  lua_newtable(L);
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readonly_error);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
}

/* Whether the table at `idx` is protected: its metatable refuses writes with readonly_error. */
static int is_guarded(lua_State *L, int idx) {
  if (!lua_istable(L, idx) || !lua_getmetatable(L, idx)) return 0;
  lua_getfield(L, -1, "__newindex");
  int guarded = lua_tocfunction(L, -1) == readonly_error;
  lua_pop(L, 2);
  return guarded;
}

/* The table a read-only proxy at `idx` stands for, pushed; nothing pushed (0) if it is not one. */
static int push_proxy_target(lua_State *L, int idx) {
  if (!is_guarded(L, idx)) return 0;
  lua_getmetatable(L, idx);
  lua_getfield(L, -1, "__index");
  lua_remove(L, -2);
  return 1;
}

/* next() and pairs() walk what a proxy stands for (Lua 5.1 has no __pairs). */
static int proxy_next(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (push_proxy_target(L, 1)) lua_replace(L, 1);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

static int proxy_pairs(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

/* setmetatable() on a protected table is Redis' read-only error. */
static int guarded_setmetatable(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  if (is_guarded(L, 1)) {
    lua_pushstring(L, "Attempt to modify a readonly table");
    return lua_error(L);
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

/* loadstring()/load() refuse precompiled chunks, as Redis does (bytecode can break the VM). */
static int guarded_loadstring(lua_State *L) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  if (s != NULL && len > 0 && s[0] == '\033') {
    lua_pushnil(L);
    lua_pushliteral(L, "binary chunks are not allowed");
    return 2;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* load(reader): read the whole chunk first, then load it as a string. */
static int guarded_load(lua_State *L) {
  if (lua_type(L, 1) != LUA_TFUNCTION) {
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
  }
  const char *name = luaL_optstring(L, 2, "=(load)");
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (;;) {
    lua_pushvalue(L, 1);
    lua_call(L, 0, 1);
    if (lua_isnil(L, -1)) {
      lua_pop(L, 1);
      break;
    }
    if (!lua_isstring(L, -1)) return luaL_error(L, "reader function must return a string");
    size_t n;
    lua_tolstring(L, -1, &n);
    if (n == 0) {
      lua_pop(L, 1);
      break;
    }
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  size_t len;
  const char *code = lua_tolstring(L, -1, &len);
  if (len > 0 && code[0] == '\033') {
    lua_pushnil(L);
    lua_pushliteral(L, "binary chunks are not allowed");
    return 2;
  }
  if (luaL_loadbuffer(L, code, len, name) != 0) {
    lua_pushnil(L);
    lua_insert(L, -2);
    return 2;
  }
  return 1;
}

/* coroutine.running() from the script's own coroutine (or a pcall wrapper's) is the main thread: nil. */
static int script_running(lua_State *L) {
  Vm *vm = vm_of(L);
  if (yieldable_thread(vm, L)) return 0;
  lua_pushthread(L);
  return 1;
}

static void wrap_global(lua_State *L, const char *name, lua_CFunction f) {
  lua_getglobal(L, name);
  lua_pushcclosure(L, f, 1);
  lua_setglobal(L, name);
}

/* rawset() refuses the protected tables too, as on Redis' read-only tables. */
static int guarded_rawset(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (is_guarded(L, 1)) {
    lua_pushstring(L, "Attempt to modify a readonly table");
    return lua_error(L);
  }
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

/* Reading a missing field of the table on top is "Script attempted to access nonexistent global variable". */
void sandbox_set_error_metatable(lua_State *L) {
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, missing_global);
  lua_setfield(L, -2, "__index");
  lua_setmetatable(L, -2);
}

static int os_clock(lua_State *L) {
  lua_pushnumber(L, ((lua_Number)clock()) / (lua_Number)CLOCKS_PER_SEC);
  return 1;
}

static void open_lib(lua_State *L, const char *name, lua_CFunction open) {
  lua_pushcfunction(L, open);
  lua_pushstring(L, name);
  lua_call(L, 1, 0);
}

/* Redis' redisLrand48: the 48-bit linear congruential generator of the C library's lrand48, same on every platform. */
#define RAND48_A 0x5DEECE66DULL
#define RAND48_C 0xBULL
#define RAND48_MASK ((1ULL << 48) - 1)
#define LRAND48_MAX 2147483647

/* One generator for the whole process, as Redis' rand.c: EVAL and FCALL draw from the same sequence. */
static uint64_t rand48_state = 0x1234ABCD330EULL;

static void vm_srand48(Vm *vm, int32_t seed) {
  (void)vm;
  rand48_state = (((uint64_t)(uint32_t)seed) << 16) | 0x330EULL;
}

static int32_t vm_lrand48(Vm *vm) {
  (void)vm;
  rand48_state = (RAND48_A * rand48_state + RAND48_C) & RAND48_MASK;
  return (int32_t)(rand48_state >> 17);
}

static int math_random(lua_State *L) {
  Vm *vm = vm_of(L);
  lua_Number r = (lua_Number)(vm_lrand48(vm) % LRAND48_MAX) / (lua_Number)LRAND48_MAX;
  switch (lua_gettop(L)) {
  case 0:
    lua_pushnumber(L, r);
    break;
  case 1: {
    int u = luaL_checkint(L, 1);
    luaL_argcheck(L, 1 <= u, 1, "interval is empty");
    lua_pushnumber(L, floor(r * u) + 1);
    break;
  }
  case 2: {
    int l = luaL_checkint(L, 1);
    int u = luaL_checkint(L, 2);
    luaL_argcheck(L, l <= u, 2, "interval is empty");
    lua_pushnumber(L, floor(r * (u - l + 1)) + l);
    break;
  }
  default:
    return luaL_error(L, "wrong number of arguments");
  }
  return 1;
}

static int math_randomseed(lua_State *L) {
  vm_srand48(vm_of(L), luaL_checkint(L, 1));
  return 0;
}

/*
 * Build the globals. Stack discipline: the real globals table G holds
 * everything; G's own metatable turns a missing name into the Redis error.
 * Scripts run with environment P, a read-only proxy of G.
 */
int vm_setup(Vm *vm) {
  lua_State *L = vm->L;
  open_lib(L, "", luaopen_base);
  open_lib(L, LUA_TABLIBNAME, luaopen_table);
  open_lib(L, LUA_STRLIBNAME, luaopen_string);
  open_lib(L, LUA_MATHLIBNAME, luaopen_math);
  open_lib(L, "cjson", luaopen_cjson);
  open_lib(L, "struct", luaopen_struct);
  open_lib(L, "cmsgpack", luaopen_cmsgpack);
  open_lib(L, "bit", luaopen_bit);

  /* What Redis removes or never loads. */
  static const char *removed[] = {"print", "dofile", "loadfile", "module", "require", "package", "getfenv", "setfenv", "newproxy", NULL};
  for (const char **n = removed; *n; n++) {
    lua_pushnil(L);
    lua_setglobal(L, *n);
  }

  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, os_clock);
  lua_setfield(L, -2, "clock");
  lua_setglobal(L, "os");

  lua_getglobal(L, "math");
  lua_pushcfunction(L, math_random);
  lua_setfield(L, -2, "random");
  lua_pushcfunction(L, math_randomseed);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);

  lua_pushcfunction(L, guarded_rawset);
  lua_setglobal(L, "rawset");
  wrap_global(L, "setmetatable", guarded_setmetatable);
  wrap_global(L, "loadstring", guarded_loadstring);
  wrap_global(L, "load", guarded_load);
  lua_pushcfunction(L, proxy_next);
  lua_pushvalue(L, -1);
  lua_setglobal(L, "next");
  lua_pushcclosure(L, proxy_pairs, 1);
  lua_setglobal(L, "pairs");
  lua_getglobal(L, "coroutine");
  lua_pushcfunction(L, script_running);
  lua_setfield(L, -2, "running");
  lua_pop(L, 1);

  api_register(L, !vm->is_functions); /* redis (and server) */
  yieldable_install(vm);

  /* Library tables become read-only proxies (string's metatable keeps the real one for ("x"):len()). */
  static const char *libs[] = {"string", "math", "table", "cjson", "struct", "cmsgpack", "bit", "os", "coroutine", "redis", NULL};
  for (const char **n = libs; *n; n++) {
    lua_getglobal(L, *n);
    if (lua_istable(L, -1)) {
      sandbox_push_readonly_proxy(L, -1);
      lua_setglobal(L, *n);
    }
    lua_pop(L, 1);
  }
  lua_getglobal(L, "redis");
  lua_setglobal(L, "server");
  /* ("x"):upper() and getmetatable("").__index see the same (protected) string table scripts see. */
  lua_pushliteral(L, "");
  lua_getmetatable(L, -1);
  lua_getglobal(L, "string");
  lua_setfield(L, -2, "__index");
  /* getmetatable("") is a read-only view of it, as Redis protects it. */
  sandbox_push_readonly_proxy(L, -1);
  lua_setfield(L, -2, "__metatable");
  lua_pop(L, 2);

  /* Missing globals are an error. */
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, missing_global);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readonly_error);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);

  /* P, the environment scripts run in; _G names it. Kept in the registry. */
  sandbox_push_readonly_proxy(L, -1);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "_G");
  lua_setfield(L, LUA_REGISTRYINDEX, "vireo.env");
  lua_pop(L, 1);
  if (vm->is_functions) functions_setup(L);
  return 0;
}

/* Set global `name` (in G, bypassing the proxy) to the value on top of the stack, popping it. */
void vm_set_array_global(lua_State *L, const char *name) {
  lua_pushstring(L, name);
  lua_insert(L, -2);
  lua_rawset(L, LUA_GLOBALSINDEX);
}
