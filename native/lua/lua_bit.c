/*
 * bit: 32-bit operations for Lua 5.1 scripts, with the behaviour of
 * LuaBitOp 1.0.2 as Redis 7.2 gives it to scripts (the global table `bit`).
 *
 * Every argument is a Lua number taken modulo 2^32 the LuaBitOp way: the
 * double is added to 2^52 + 2^51 and the low 32 bits of the sum are the
 * value, so fractions round to nearest (ties to even) and integers wrap.
 * Results are signed 32-bit numbers (bit.tobit(2^31) == -2^31).
 *
 *   tobit(x)  bnot(x)  band(x, ...)  bor(x, ...)  bxor(x, ...)
 *   lshift(x, n)  rshift(x, n)  arshift(x, n)  rol(x, n)  ror(x, n)
 *   (shift counts are taken modulo 32)
 *   bswap(x)  tohex(x [, n])  (n digits, uppercase when n < 0, at most 8)
 */

#include <stdint.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "vireo_lualibs.h"

/* Argument `idx` as 32 bits. A value that is not a number (or a string
 * that converts to one) is a type error, as in LuaBitOp under Lua 5.1. */
static uint32_t bit_arg(lua_State *L, int idx) {
  double shifted = (double)lua_tonumber(L, idx) + 6755399441055744.0; /* 2^52 + 2^51 */
  uint64_t bits;
  uint32_t value;
  memcpy(&bits, &shifted, sizeof bits);
  value = (uint32_t)bits;
  if (value == 0 && !lua_isnumber(L, idx)) luaL_typerror(L, idx, "number");
  return value;
}

static int32_t as_int32(uint32_t bits) {
  int32_t v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

static int bit_result(lua_State *L, uint32_t bits) {
  lua_pushnumber(L, (lua_Number)as_int32(bits));
  return 1;
}

static int bit_tobit(lua_State *L) {
  return bit_result(L, bit_arg(L, 1));
}

static int bit_bnot(lua_State *L) {
  return bit_result(L, ~bit_arg(L, 1));
}

/* band/bor/bxor read argument 1, then the others from the last one down
 * (which argument a type error names depends on it). */
enum { OP_AND, OP_OR, OP_XOR };

static int bit_fold(lua_State *L, int op) {
  uint32_t acc = bit_arg(L, 1);
  int i;
  for (i = lua_gettop(L); i > 1; i--) {
    uint32_t v = bit_arg(L, i);
    if (op == OP_AND) acc &= v;
    else if (op == OP_OR) acc |= v;
    else acc ^= v;
  }
  return bit_result(L, acc);
}

static int bit_band(lua_State *L) { return bit_fold(L, OP_AND); }
static int bit_bor(lua_State *L) { return bit_fold(L, OP_OR); }
static int bit_bxor(lua_State *L) { return bit_fold(L, OP_XOR); }

/* The value (argument 1) and the shift count modulo 32 (argument 2). */
static uint32_t shift_args(lua_State *L, unsigned *count) {
  uint32_t value = bit_arg(L, 1);
  *count = bit_arg(L, 2) & 31;
  return value;
}

static int bit_lshift(lua_State *L) {
  unsigned n;
  uint32_t b = shift_args(L, &n);
  return bit_result(L, b << n);
}

static int bit_rshift(lua_State *L) {
  unsigned n;
  uint32_t b = shift_args(L, &n);
  return bit_result(L, b >> n);
}

static int bit_arshift(lua_State *L) {
  unsigned n;
  uint32_t b = shift_args(L, &n);
  uint32_t shifted = (b & 0x80000000u) ? ~(~b >> n) : b >> n; /* sign-filling */
  return bit_result(L, shifted);
}

static int bit_rol(lua_State *L) {
  unsigned n;
  uint32_t b = shift_args(L, &n);
  return bit_result(L, n == 0 ? b : (b << n) | (b >> (32 - n)));
}

static int bit_ror(lua_State *L) {
  unsigned n;
  uint32_t b = shift_args(L, &n);
  return bit_result(L, n == 0 ? b : (b >> n) | (b << (32 - n)));
}

static int bit_bswap(lua_State *L) {
  uint32_t b = bit_arg(L, 1);
  b = (b >> 24) | ((b >> 8) & 0xff00u) | ((b & 0xff00u) << 8) | (b << 24);
  return bit_result(L, b);
}

/* tohex(x [, n]): the low |n| hex digits of x (n defaults to 8, at most 8),
 * uppercase when n is negative. -2^31 counts as -(2^31 - 1), Redis' fix
 * for CVE-2024-31449. */
static int bit_tohex(lua_State *L) {
  uint32_t b = bit_arg(L, 1);
  int32_t n = lua_isnone(L, 2) ? 8 : as_int32(bit_arg(L, 2));
  const char *digits = "0123456789abcdef";
  char out[8];
  int i;
  if (n == INT32_MIN) n = INT32_MIN + 1;
  if (n < 0) {
    n = -n;
    digits = "0123456789ABCDEF";
  }
  if (n > 8) n = 8;
  for (i = (int)n - 1; i >= 0; i--) {
    out[i] = digits[b & 15];
    b >>= 4;
  }
  lua_pushlstring(L, out, (size_t)n);
  return 1;
}

static const luaL_Reg bit_functions[] = {
  {"tobit", bit_tobit},
  {"bnot", bit_bnot},
  {"band", bit_band},
  {"bor", bit_bor},
  {"bxor", bit_bxor},
  {"lshift", bit_lshift},
  {"rshift", bit_rshift},
  {"arshift", bit_arshift},
  {"rol", bit_rol},
  {"ror", bit_ror},
  {"bswap", bit_bswap},
  {"tohex", bit_tohex},
  {NULL, NULL}
};

int luaopen_bit(lua_State *L) {
  luaL_register(L, "bit", bit_functions);
  return 1;
}
