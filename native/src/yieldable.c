/*
 * pcall and xpcall that a busy script can be suspended inside. The stock
 * ones are C functions: Lua code they call cannot yield, so a script that
 * loops forever inside pcall would keep the event loop, and SCRIPT KILL,
 * out forever. These run the protected function in a coroutine of their
 * own; when the count hook suspends that coroutine, the wrapper suspends
 * the script in turn and carries on where it was once resumed. Results and
 * errors are those of Redis' pcall (an error table's message, not the
 * table). C functions still go to the stock versions (they cannot loop
 * without calling back into Lua).
 */
#include "lauxlib.h"
#include "lstate.h" /* nCcalls / baseCcalls */
#include "vm.h"

static int is_c_function(lua_State *L) {
  lua_pushboolean(L, lua_iscfunction(L, 1));
  return 1;
}

/* A coroutine for `f`, marked as one the count hook may suspend. */
static int new_coroutine(lua_State *L) {
  Vm *vm = vm_of(L);
  luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_State *co = lua_newthread(L);
  lua_pushvalue(L, 1);
  lua_xmove(L, co, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, vm->yieldable_ref);
  lua_pushvalue(L, -2);
  lua_pushboolean(L, 1);
  lua_rawset(L, -3);
  lua_pop(L, 1);
  return 1;
}

/* Whether the last suspension came from the count hook (and forget it). */
static int take_hook_flag(lua_State *L) {
  Vm *vm = vm_of(L);
  lua_pushboolean(L, vm->hook_yielded);
  vm->hook_yielded = 0;
  return 1;
}

/* Suspend the enclosing script as the hook would. */
static int hook_yield(lua_State *L) {
  Vm *vm = vm_of(L);
  /* Inside a C boundary further up (a metamethod, a C callback) the script cannot be suspended: go on. */
  if (L->nCcalls > L->baseCcalls) return 0;
  vm->hook_yielded = 1;
  return lua_yield(L, 0);
}

static const char WRAPPERS[] =
    "local newco, take_flag, hook_yield, iscfunc, cpcall, cxpcall = ...\n"
    "local resume, status, select, unpack, type, error = coroutine.resume, coroutine.status, select, unpack, type, error\n"
    "local function pack(...) return {n = select('#', ...), ...} end\n"
    "local function drive(co, ...)\n"
    "  local r = pack(resume(co, ...))\n"
    "  while status(co) ~= 'dead' do\n"
    "    if not take_flag() then return pack(false, 'attempt to yield across metamethod/C-call boundary') end\n"
    "    hook_yield()\n"
    "    r = pack(resume(co))\n"
    "  end\n"
    "  return r\n"
    "end\n"
    "pcall = function(...)\n"
    "  if select('#', ...) == 0 then return false, 'attempt to call a nil value' end\n"
    "  local f = ...\n"
    "  if type(f) ~= 'function' or iscfunc(f) then return cpcall(...) end\n"
    "  local r = drive(newco(f), select(2, ...))\n"
    "  if r[1] then return unpack(r, 1, r.n) end\n"
    "  local e = r[2]\n"
    "  if type(e) == 'table' then\n"
    "    local m = e.err\n"
    "    if type(m) == 'string' or type(m) == 'number' then return false, m end\n"
    "    return false, e, m\n"
    "  end\n"
    "  return false, e\n"
    "end\n"
    "xpcall = function(...)\n"
    "  if select('#', ...) < 2 then error(\"bad argument #2 to 'xpcall' (value expected)\", 2) end\n"
    "  local f, handler = ...\n"
    "  if type(f) ~= 'function' or iscfunc(f) then return cxpcall(...) end\n"
    "  local r = drive(newco(f))\n"
    "  if r[1] then return unpack(r, 1, r.n) end\n"
    "  return false, handler(r[2])\n"
    "end\n";

/* Replace the globals pcall and xpcall (call after the base library and Redis' pcall are in place). */
void yieldable_install(Vm *vm) {
  lua_State *L = vm->L;
  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "k");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  vm->yieldable_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (luaL_loadbuffer(L, WRAPPERS, sizeof WRAPPERS - 1, "=pcall") != 0) lua_error(L);
  lua_pushcfunction(L, new_coroutine);
  lua_pushcfunction(L, take_hook_flag);
  lua_pushcfunction(L, hook_yield);
  lua_pushcfunction(L, is_c_function);
  lua_getglobal(L, "pcall");
  lua_getglobal(L, "xpcall");
  lua_call(L, 6, 0);
}

/* Whether the count hook may suspend thread `co`: the script's own coroutine or a wrapper's. */
int yieldable_thread(Vm *vm, lua_State *co) {
  if (co == vm->co) return 1;
  lua_rawgeti(co, LUA_REGISTRYINDEX, vm->yieldable_ref);
  lua_pushthread(co);
  lua_rawget(co, -2);
  int marked = lua_toboolean(co, -1);
  lua_pop(co, 2);
  return marked;
}
