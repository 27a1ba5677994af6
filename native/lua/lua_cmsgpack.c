/*
 * cmsgpack: MessagePack for Lua 5.1 scripts, with the exact behaviour of
 * the lua-cmsgpack 0.4.0 that Redis 7.2 gives its scripts (the global
 * table `cmsgpack`): what it encodes, what it decodes, the values it
 * returns and the texts of its errors.
 *
 * Encoding, per Lua type:
 *   string  -> fixstr / str8 / str16 / str32
 *   boolean -> true / false
 *   number  -> the smallest int type when it is an integer that fits in
 *              64 bits (uint* when >= 0, int* when < 0); else float32 when
 *              the value survives a round trip through float, else float64
 *   table   -> array when its keys are exactly the numbers 1..n (an empty
 *              table is an empty array), map otherwise; a table nested
 *              MAX_NESTING levels deep is written as nil (cycles end there)
 *   other   -> nil
 * Decoding takes every MessagePack type Redis' decoder takes; bin, ext and
 * 0xc1 are "Bad data format in input.", as in Redis.
 *
 * Redis' limits are stack-slot counts (luaL_checkstack), so the order of
 * pushes and checks here follows its decoder and encoder step for step:
 * a deep or wide input fails with the same message at the same size.
 */

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "vireo_lualibs.h"

#define MP_MAX_NESTING 16
#define MP_BUFFER_KEEP (64 * 1024) /* bytes an idle output buffer may keep */
#define MP_BUFFER_TYPE "vireo.cmsgpack.buffer"

/* ------------------------------------------------------------------------
 * Output buffer: one per library instance, a userdata held as an upvalue
 * of pack. Growing it never pushes on the Lua stack, and an error in the
 * middle of pack leaks nothing (the bytes belong to the userdata).
 * ---------------------------------------------------------------------- */

typedef struct OutBuf {
  unsigned char *bytes;
  size_t len;
  size_t cap;
  int copying; /* its bytes are being copied into a Lua string */
} OutBuf;

static void *alloc_block(lua_State *L, void *block, size_t old_size, size_t new_size) {
  void *ud;
  lua_Alloc alloc = lua_getallocf(L, &ud);
  return alloc(ud, block, old_size, new_size);
}

static void out_release(lua_State *L, OutBuf *out) {
  if (out->bytes != NULL) alloc_block(L, out->bytes, out->cap, 0);
  out->bytes = NULL;
  out->len = out->cap = 0;
}

static int out_gc(lua_State *L) {
  out_release(L, (OutBuf *)luaL_checkudata(L, 1, MP_BUFFER_TYPE));
  return 0;
}

/* Push a new, empty buffer (a userdata the GC frees). */
static OutBuf *out_push_new(lua_State *L) {
  OutBuf *out = (OutBuf *)lua_newuserdata(L, sizeof *out);
  out->bytes = NULL;
  out->len = out->cap = 0;
  out->copying = 0;
  if (luaL_newmetatable(L, MP_BUFFER_TYPE)) {
    lua_pushcfunction(L, out_gc);
    lua_setfield(L, -2, "__gc");
  }
  lua_setmetatable(L, -2);
  return out;
}

/* pack's buffer, the upvalue. A script can reach upvalues through the debug
 * library, so check it is still ours before trusting the pointer. */
static OutBuf *pack_buffer(lua_State *L) {
  OutBuf *out = (OutBuf *)lua_touserdata(L, lua_upvalueindex(1));
  int ours = 0;
  if (out != NULL && lua_getmetatable(L, lua_upvalueindex(1))) {
    lua_getfield(L, LUA_REGISTRYINDEX, MP_BUFFER_TYPE);
    ours = lua_rawequal(L, -1, -2);
    lua_pop(L, 2);
  }
  if (!ours) luaL_error(L, "cmsgpack.pack has lost its buffer");
  return out;
}

static void out_write(lua_State *L, OutBuf *out, const void *src, size_t n) {
  if (out->cap - out->len < n) {
    size_t need = out->len + n;
    size_t cap = out->cap < 64 ? 64 : out->cap;
    void *grown;
    if (need < out->len) luaL_error(L, "not enough memory");
    while (cap < need) {
      if (cap > ((size_t)-1) / 2) {
        cap = need;
        break;
      }
      cap *= 2;
    }
    grown = alloc_block(L, out->bytes, out->cap, cap);
    if (grown == NULL) luaL_error(L, "not enough memory");
    out->bytes = (unsigned char *)grown;
    out->cap = cap;
  }
  memcpy(out->bytes + out->len, src, n);
  out->len += n;
}

static void out_byte(lua_State *L, OutBuf *out, unsigned char b) {
  out_write(L, out, &b, 1);
}

/* A type byte followed by `width` bytes of `value`, big-endian. */
static void out_tagged(lua_State *L, OutBuf *out, unsigned char tag, uint64_t value, int width) {
  unsigned char b[9];
  int i;
  b[0] = tag;
  for (i = 0; i < width; i++) b[1 + i] = (unsigned char)(value >> (8 * (width - 1 - i)));
  out_write(L, out, b, (size_t)width + 1);
}

/* ------------------------------------------------------------------------
 * Encoding
 * ---------------------------------------------------------------------- */

static void encode_int(lua_State *L, OutBuf *out, int64_t n) {
  if (n >= 0) {
    uint64_t u = (uint64_t)n;
    if (u <= 0x7f) out_byte(L, out, (unsigned char)u);
    else if (u <= 0xff) out_tagged(L, out, 0xcc, u, 1);
    else if (u <= 0xffff) out_tagged(L, out, 0xcd, u, 2);
    else if (u <= 0xffffffffu) out_tagged(L, out, 0xce, u, 4);
    else out_tagged(L, out, 0xcf, u, 8);
  } else {
    uint64_t bits = (uint64_t)n; /* two's complement, written as is */
    if (n >= -32) out_byte(L, out, (unsigned char)(bits & 0xff));
    else if (n >= -128) out_tagged(L, out, 0xd0, bits, 1);
    else if (n >= -32768) out_tagged(L, out, 0xd1, bits, 2);
    else if (n >= -2147483647LL - 1) out_tagged(L, out, 0xd2, bits, 4);
    else out_tagged(L, out, 0xd3, bits, 8);
  }
}

/* float32 when the double converts to float and back unchanged (infinities
 * included), else float64. NaN never compares equal, so it stays float64. */
static void encode_float(lua_State *L, OutBuf *out, double d) {
  if (isinf(d) || (fabs(d) <= 3.40282346638528859812e+38 && (double)(float)d == d)) {
    float f = (float)d;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    out_tagged(L, out, 0xca, bits, 4);
  } else {
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    out_tagged(L, out, 0xcb, bits, 8);
  }
}

/* An integral number inside the int64 range is written as an integer. */
static void encode_number(lua_State *L, OutBuf *out, lua_Number n) {
  if (n >= -9223372036854775808.0 && n < 9223372036854775808.0 && (lua_Number)(int64_t)n == n)
    encode_int(L, out, (int64_t)n);
  else
    encode_float(L, out, (double)n);
}

static void encode_string(lua_State *L, OutBuf *out) {
  size_t len;
  const char *s = lua_tolstring(L, -1, &len);
  if (len < 32) out_byte(L, out, (unsigned char)(0xa0 | len));
  else if (len <= 0xff) out_tagged(L, out, 0xd9, len, 1);
  else if (len <= 0xffff) out_tagged(L, out, 0xda, len, 2);
  else out_tagged(L, out, 0xdb, (uint64_t)len & 0xffffffffu, 4);
  out_write(L, out, s, len);
}

/* fix / 16-bit / 32-bit container header. */
static void encode_count(lua_State *L, OutBuf *out, unsigned char fix, unsigned char tag16, size_t n) {
  if (n <= 15) out_byte(L, out, (unsigned char)(fix | n));
  else if (n <= 0xffff) out_tagged(L, out, tag16, n, 2);
  else out_tagged(L, out, (unsigned char)(tag16 + 1), (uint64_t)n & 0xffffffffu, 4);
}

/* Is the key on top a number k with 0 < k <= INT_MAX, k integral? */
static int positive_int_key(lua_State *L, int *index) {
  lua_Number k;
  if (lua_type(L, -1) != LUA_TNUMBER) return 0;
  k = lua_tonumber(L, -1);
  if (!(k > 0 && k <= (lua_Number)INT_MAX) || (lua_Number)(int)k != k) return 0;
  *index = (int)k;
  return 1;
}

/* The table on top is an array when its keys are exactly 1..n: all keys
 * positive integers and the largest of them equal to their count. */
static int table_is_array(lua_State *L) {
  int top = lua_gettop(L);
  int count = 0, largest = 0, index = 0;
  luaL_checkstack(L, 2, "in function table_is_an_array");
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1); /* keep the key for lua_next */
    if (!positive_int_key(L, &index)) {
      lua_settop(L, top);
      return 0;
    }
    if (index > largest) largest = index;
    count++;
  }
  lua_settop(L, top);
  return largest == count;
}

static void encode_value(lua_State *L, OutBuf *out, int level);

static void encode_array(lua_State *L, OutBuf *out, int level) {
  size_t len = lua_objlen(L, -1), i;
  encode_count(L, out, 0x90, 0xdc, len);
  luaL_checkstack(L, 1, "in function mp_encode_lua_table_as_array");
  for (i = 1; i <= len; i++) {
    lua_rawgeti(L, -1, (int)i);
    encode_value(L, out, level + 1);
  }
}

static void encode_map(lua_State *L, OutBuf *out, int level) {
  size_t pairs = 0;
  luaL_checkstack(L, 3, "in function mp_encode_lua_table_as_map");
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pop(L, 1);
    pairs++;
  }
  encode_count(L, out, 0x80, 0xde, pairs);
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    lua_pushvalue(L, -2); /* key value key: encode a copy, keep the key */
    encode_value(L, out, level + 1);
    encode_value(L, out, level + 1);
  }
}

/* Encode the value on top of the stack and pop it. */
static void encode_value(lua_State *L, OutBuf *out, int level) {
  int type = lua_type(L, -1);
  if (type == LUA_TTABLE && level == MP_MAX_NESTING) type = LUA_TNIL;
  switch (type) {
    case LUA_TSTRING:
      encode_string(L, out);
      break;
    case LUA_TBOOLEAN:
      out_byte(L, out, lua_toboolean(L, -1) ? 0xc3 : 0xc2);
      break;
    case LUA_TNUMBER:
      encode_number(L, out, lua_tonumber(L, -1));
      break;
    case LUA_TTABLE:
      if (table_is_array(L)) encode_array(L, out, level);
      else encode_map(L, out, level);
      break;
    default:
      out_byte(L, out, 0xc0);
      break;
  }
  lua_pop(L, 1);
}

/* cmsgpack.pack(v1, v2, ...): the encodings of all arguments, concatenated.
 * Each one is pushed as a string, and the strings are joined at the end. */
static int mp_pack(lua_State *L) {
  int nargs = lua_gettop(L), i;
  OutBuf *shared = pack_buffer(L), *out = shared;
  if (nargs == 0) return luaL_argerror(L, 0, "MessagePack pack needs input.");
  if (!lua_checkstack(L, nargs)) return luaL_argerror(L, 0, "Too many arguments for MessagePack pack.");
  /* A pack run by a finalizer while another one copies its bytes out (the
   * GC step in lua_pushlstring) must not touch that buffer: it gets its own. */
  if (shared->copying) out = out_push_new(L);
  for (i = 1; i <= nargs; i++) {
    luaL_checkstack(L, 1, "in function mp_check");
    lua_pushvalue(L, i);
    out->len = 0;
    encode_value(L, out, 0);
    out->copying = 1;
    lua_pushlstring(L, (const char *)out->bytes, out->len);
    out->copying = 0;
  }
  out->len = 0;
  if (out == shared && out->cap > MP_BUFFER_KEEP) out_release(L, out);
  lua_concat(L, nargs);
  return 1;
}

/* ------------------------------------------------------------------------
 * Decoding
 * ---------------------------------------------------------------------- */

enum { IN_OK = 0, IN_TRUNCATED, IN_BAD_FORMAT };

typedef struct InCursor {
  const unsigned char *p;
  size_t left;
  int err;
} InCursor;

static int in_need(InCursor *in, size_t n) {
  if (in->left >= n) return 1;
  in->err = IN_TRUNCATED;
  return 0;
}

static void in_skip(InCursor *in, size_t n) {
  in->p += n;
  in->left -= n;
}

/* `width` bytes big-endian, starting `at` bytes into the cursor. */
static uint64_t in_uint(const InCursor *in, size_t at, int width) {
  uint64_t v = 0;
  int i;
  for (i = 0; i < width; i++) v = (v << 8) | in->p[at + (size_t)i];
  return v;
}

/* Two's complement of the low `width` bytes, sign-extended. */
static int64_t as_signed(uint64_t v, int width) {
  uint64_t sign = (uint64_t)1 << (8 * width - 1);
  if (width < 8) v &= (sign << 1) - 1;
  if (v & sign) return -(int64_t)(~v & (sign - 1)) - 1;
  return (int64_t)v;
}

static void decode_value(lua_State *L, InCursor *in);

/* A `width`-byte integer after the type byte. Redis pushes uint64 through
 * a signed 64-bit integer, so values from 2^63 on come out negative. */
static void decode_int(lua_State *L, InCursor *in, int width, int is_signed) {
  uint64_t v;
  if (!in_need(in, 1 + (size_t)width)) return;
  v = in_uint(in, 1, width);
  if (is_signed || width == 8) lua_pushnumber(L, (lua_Number)as_signed(v, width));
  else lua_pushnumber(L, (lua_Number)v);
  in_skip(in, 1 + (size_t)width);
}

static void decode_float32(lua_State *L, InCursor *in) {
  uint32_t bits;
  float f;
  if (!in_need(in, 5)) return;
  bits = (uint32_t)in_uint(in, 1, 4);
  memcpy(&f, &bits, sizeof f);
  lua_pushnumber(L, (lua_Number)f);
  in_skip(in, 5);
}

static void decode_float64(lua_State *L, InCursor *in) {
  uint64_t bits;
  double d;
  if (!in_need(in, 9)) return;
  bits = in_uint(in, 1, 8);
  memcpy(&d, &bits, sizeof d);
  lua_pushnumber(L, (lua_Number)d);
  in_skip(in, 9);
}

/* A string whose length takes `width` bytes after the type byte (0: in it). */
static void decode_string(lua_State *L, InCursor *in, int width) {
  size_t header = 1 + (size_t)width, len;
  if (!in_need(in, header)) return;
  len = width == 0 ? (size_t)(in->p[0] & 0x1f) : (size_t)in_uint(in, 1, width);
  if (in->left - header < len) {
    in->err = IN_TRUNCATED;
    return;
  }
  lua_pushlstring(L, (const char *)in->p + header, len);
  in_skip(in, header + len);
}

static void decode_array(lua_State *L, InCursor *in, uint64_t count) {
  lua_Number index = 1;
  lua_newtable(L);
  luaL_checkstack(L, 1, "in function mp_decode_to_lua_array");
  for (; count > 0; count--, index++) {
    lua_pushnumber(L, index);
    decode_value(L, in);
    if (in->err) return;
    lua_settable(L, -3);
  }
}

static void decode_map(lua_State *L, InCursor *in, uint64_t count) {
  lua_newtable(L);
  for (; count > 0; count--) {
    decode_value(L, in); /* key */
    if (in->err) return;
    decode_value(L, in); /* value */
    if (in->err) return;
    lua_settable(L, -3);
  }
}

/* A container whose count takes `width` bytes after the type byte. */
static void decode_container(lua_State *L, InCursor *in, int width, int is_map) {
  uint64_t count;
  if (!in_need(in, 1 + (size_t)width)) return;
  count = in_uint(in, 1, width);
  in_skip(in, 1 + (size_t)width);
  if (is_map) decode_map(L, in, count);
  else decode_array(L, in, count);
}

/* Decode one value at the cursor and push it (on error, in->err is set). */
static void decode_value(lua_State *L, InCursor *in) {
  unsigned char tag;
  if (!in_need(in, 1)) return;
  luaL_checkstack(L, 1, "too many return values at once; use unpack_one or unpack_limit instead.");
  tag = in->p[0];
  if (tag <= 0x7f) { /* positive fixint */
    lua_pushnumber(L, (lua_Number)tag);
    in_skip(in, 1);
  } else if (tag >= 0xe0) { /* negative fixint */
    lua_pushnumber(L, (lua_Number)((int)tag - 256));
    in_skip(in, 1);
  } else if ((tag & 0xe0) == 0xa0) {
    decode_string(L, in, 0);
  } else if ((tag & 0xf0) == 0x90) { /* fixarray */
    in_skip(in, 1);
    decode_array(L, in, tag & 0x0f);
  } else if ((tag & 0xf0) == 0x80) { /* fixmap */
    in_skip(in, 1);
    decode_map(L, in, tag & 0x0f);
  } else {
    switch (tag) {
      case 0xc0: lua_pushnil(L); in_skip(in, 1); break;
      case 0xc2: lua_pushboolean(L, 0); in_skip(in, 1); break;
      case 0xc3: lua_pushboolean(L, 1); in_skip(in, 1); break;
      case 0xca: decode_float32(L, in); break;
      case 0xcb: decode_float64(L, in); break;
      case 0xcc: decode_int(L, in, 1, 0); break;
      case 0xcd: decode_int(L, in, 2, 0); break;
      case 0xce: decode_int(L, in, 4, 0); break;
      case 0xcf: decode_int(L, in, 8, 0); break;
      case 0xd0: decode_int(L, in, 1, 1); break;
      case 0xd1: decode_int(L, in, 2, 1); break;
      case 0xd2: decode_int(L, in, 4, 1); break;
      case 0xd3: decode_int(L, in, 8, 1); break;
      case 0xd9: decode_string(L, in, 1); break;
      case 0xda: decode_string(L, in, 2); break;
      case 0xdb: decode_string(L, in, 4); break;
      case 0xdc: decode_container(L, in, 2, 0); break;
      case 0xdd: decode_container(L, in, 4, 0); break;
      case 0xde: decode_container(L, in, 2, 1); break;
      case 0xdf: decode_container(L, in, 4, 1); break;
      default: in->err = IN_BAD_FORMAT; break; /* 0xc1, bin, ext, fixext */
    }
  }
}

/*
 * Decode up to `limit` values of the string argument 1 from byte `offset`.
 * With limit and offset both 0 (cmsgpack.unpack) every value is returned;
 * otherwise the offset of the next value (-1 once the input is used up)
 * comes first, then the values.
 */
static int unpack_values(lua_State *L, lua_Integer limit, lua_Integer offset) {
  size_t len;
  const char *s = luaL_checklstring(L, 1, &len);
  int decode_all = limit == 0 && offset == 0;
  InCursor in;
  int count;
  if (offset < 0 || limit < 0) /* Redis reports the input length as the limit */
    return luaL_error(L, "Invalid request to unpack with offset of %d and limit of %d.", (int)offset, (int)len);
  if ((size_t)offset > len)
    return luaL_error(L, "Start offset %d greater than input length %d.", (int)offset, (int)len);
  if (decode_all) limit = INT_MAX;
  in.p = (const unsigned char *)s + offset;
  in.left = len - (size_t)offset;
  in.err = IN_OK;
  for (count = 0; in.left > 0 && count < limit; count++) {
    decode_value(L, &in);
    if (in.err == IN_TRUNCATED) return luaL_error(L, "Missing bytes in input.");
    if (in.err == IN_BAD_FORMAT) return luaL_error(L, "Bad data format in input.");
  }
  if (!decode_all) {
    luaL_checkstack(L, 1, "in function mp_unpack_full");
    lua_pushinteger(L, in.left == 0 ? -1 : (lua_Integer)(len - in.left));
    lua_insert(L, 2); /* right after the input string, before the values */
    count++;
  }
  return count;
}

/* cmsgpack.unpack(s): every value encoded in s. */
static int mp_unpack(lua_State *L) {
  return unpack_values(L, 0, 0);
}

/* cmsgpack.unpack_one(s [, offset]): next offset, one value. */
static int mp_unpack_one(lua_State *L) {
  lua_Integer offset = luaL_optinteger(L, 2, 0);
  lua_pop(L, lua_gettop(L) - 1);
  return unpack_values(L, 1, offset);
}

/* cmsgpack.unpack_limit(s, limit [, offset]): next offset, up to limit values. */
static int mp_unpack_limit(lua_State *L) {
  lua_Integer limit = luaL_checkinteger(L, 2);
  lua_Integer offset = luaL_optinteger(L, 3, 0);
  lua_pop(L, lua_gettop(L) - 1);
  return unpack_values(L, limit, offset);
}

/* ------------------------------------------------------------------------
 * Registration: the global `cmsgpack`, fields in Redis' order.
 * ---------------------------------------------------------------------- */

static void set_string_field(lua_State *L, const char *name, const char *value) {
  lua_pushstring(L, value);
  lua_setfield(L, -2, name);
}

int luaopen_cmsgpack(lua_State *L) {
  lua_newtable(L);

  out_push_new(L);
  lua_pushcclosure(L, mp_pack, 1);
  lua_setfield(L, -2, "pack");

  lua_pushcfunction(L, mp_unpack);
  lua_setfield(L, -2, "unpack");
  lua_pushcfunction(L, mp_unpack_one);
  lua_setfield(L, -2, "unpack_one");
  lua_pushcfunction(L, mp_unpack_limit);
  lua_setfield(L, -2, "unpack_limit");

  set_string_field(L, "_NAME", "cmsgpack");
  set_string_field(L, "_VERSION", "lua-cmsgpack 0.4.0");
  set_string_field(L, "_COPYRIGHT", "Copyright (C) 2012, Salvatore Sanfilippo");
  set_string_field(L, "_DESCRIPTION", "MessagePack C implementation for Lua");

  lua_pushvalue(L, -1);
  lua_setglobal(L, "cmsgpack");
  return 1;
}
