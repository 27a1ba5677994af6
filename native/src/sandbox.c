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
  /* getmetatable() answers false and setmetatable() refuses: the protection cannot be removed. */
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
}

/* rawset() refuses the protected tables too, as on Redis' read-only tables. */
static int guarded_rawset(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (lua_getmetatable(L, 1)) {
    lua_getfield(L, -1, "__newindex");
    int guarded = lua_tocfunction(L, -1) == readonly_error;
    lua_pop(L, 2);
    if (guarded) {
      lua_pushstring(L, "Attempt to modify a readonly table");
      return lua_error(L);
    }
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
  static const char *removed[] = {"print", "dofile", "loadfile", "module", "require", "package", NULL};
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

  /* Missing globals are an error. */
  lua_pushvalue(L, LUA_GLOBALSINDEX);
  lua_createtable(L, 0, 2);
  lua_pushcfunction(L, missing_global);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, readonly_error);
  lua_setfield(L, -2, "__newindex");
  lua_pushboolean(L, 0);
  lua_setfield(L, -2, "__metatable");
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
