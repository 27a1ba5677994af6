/*
 * struct: binary packing for Lua 5.1 scripts, with the behaviour of the
 * struct library (Roberto Ierusalimschy, 1.7 plus Redis' bounds fixes)
 * that Redis 7.2 gives its scripts as the global table `struct`:
 *
 *   struct.pack(fmt, ...)          -> string
 *   struct.unpack(fmt, s [, pos])  -> values..., next position
 *   struct.size(fmt)               -> size in bytes
 *
 * Format options:
 *   >  <     big / little endian (default: the machine's, little here)
 *   ![n]     maximum alignment n (a power of 2; default 8); initially 1
 *   x        one byte of padding
 *   b B      signed / unsigned char      h H   short (2 bytes)
 *   l L      long (8 bytes)              T     size_t (8 bytes)
 *   i[n] I[n] signed / unsigned integer of n bytes (default 4, at most 32)
 *   f d      float / double
 *   c[n]     n bytes of a string; pack: n == 0 takes the whole string;
 *            unpack: n == 0 takes the previous result as the length
 *   s        zero-terminated string
 *   space    ignored
 *
 * Sizes are those of Redis on 64-bit Linux whatever this is built on, and
 * number-to-integer conversions out of range give what an x86-64 build of
 * Redis gives (C leaves them undefined): see the conversion helpers.
 */

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lua.h"
#include "lauxlib.h"

#include "vireo_lualibs.h"

#define ST_MAX_INT_SIZE 32 /* bytes, for i[n] and I[n] */
#define ST_DEFAULT_INT_SIZE 4
#define ST_MAX_ALIGN 8     /* alignment of double on 64-bit Linux */

#define TWO_POW_63 9223372036854775808.0

typedef struct Layout {
  int little; /* byte order: 1 little-endian, 0 big-endian */
  int align;  /* maximum alignment */
} Layout;

static int native_little(void) {
  const uint16_t one = 1;
  unsigned char first;
  memcpy(&first, &one, 1);
  return first == 1;
}

static void layout_init(Layout *layout) {
  layout->little = native_little();
  layout->align = 1;
}

/* ASCII classes, whatever the process locale is. */
static int is_digit(int c) {
  return c >= '0' && c <= '9';
}

static int is_alnum(int c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_power_of_2(int x) {
  return x > 0 && (x & (x - 1)) == 0;
}

/* ------------------------------------------------------------------------
 * Conversions as Redis' x86-64 build performs them (cvttsd2si: anything out
 * of range, NaN included, becomes INT64_MIN; to unsigned, values from 2^63
 * go through a subtraction of 2^63).
 * ---------------------------------------------------------------------- */

static int64_t to_int64(lua_Number n) {
  if (n >= -TWO_POW_63 && n < TWO_POW_63) return (int64_t)n;
  return INT64_MIN;
}

static uint64_t to_uint64(lua_Number n) {
  if (!(n >= TWO_POW_63)) return (uint64_t)to_int64(n);
  return (uint64_t)to_int64(n - TWO_POW_63) ^ ((uint64_t)1 << 63);
}

/* The bits of a number packed as an integer: negative values through a
 * signed conversion, the others through an unsigned one. */
static uint64_t integer_bits(lua_Number n) {
  return n < 0 ? (uint64_t)to_int64(n) : to_uint64(n);
}

static int64_t bits_as_int64(uint64_t bits) {
  int64_t v;
  memcpy(&v, &bits, sizeof v);
  return v;
}

/* ------------------------------------------------------------------------
 * Format reading
 * ---------------------------------------------------------------------- */

/* The decimal number at *fmt, or `fallback` when there is none. */
static int format_number(lua_State *L, const char **fmt, int fallback) {
  int n = 0;
  if (!is_digit((unsigned char)**fmt)) return fallback;
  do {
    int digit = **fmt - '0';
    if (n > INT_MAX / 10 || n * 10 > INT_MAX - digit) luaL_error(L, "integral size overflow");
    n = n * 10 + digit;
    (*fmt)++;
  } while (is_digit((unsigned char)**fmt));
  return n;
}

/* Bytes taken by option `opt` (0 for control options and unknown ones);
 * reads the number that follows c, i, I. */
static size_t option_size(lua_State *L, int opt, const char **fmt) {
  switch (opt) {
    case 'b': case 'B': return 1;
    case 'h': case 'H': return 2;
    case 'l': case 'L': return 8;
    case 'T': return 8;
    case 'f': return 4;
    case 'd': return 8;
    case 'x': return 1;
    case 'c': return (size_t)format_number(L, fmt, 1);
    case 'i': case 'I': {
      int size = format_number(L, fmt, ST_DEFAULT_INT_SIZE);
      if (size > ST_MAX_INT_SIZE)
        luaL_error(L, "integral size %d is larger than limit of %d", size, ST_MAX_INT_SIZE);
      return (size_t)size;
    }
    default: return 0;
  }
}

/* Padding bytes before an item of `size` bytes at offset `pos`. The mask
 * arithmetic is the library's own, sizes that are not powers of 2 too. */
static size_t padding(size_t pos, const Layout *layout, int opt, size_t size) {
  if (size == 0 || opt == 'c') return 0;
  if (size > (size_t)layout->align) size = (size_t)layout->align;
  return (size - (pos & (size - 1))) & (size - 1);
}

/* Endianness, alignment and spaces; anything else is an invalid option. */
static void control_option(lua_State *L, int opt, const char **fmt, Layout *layout) {
  switch (opt) {
    case ' ': return;
    case '>': layout->little = 0; return;
    case '<': layout->little = 1; return;
    case '!': {
      int align = format_number(L, fmt, ST_MAX_ALIGN);
      if (!is_power_of_2(align)) luaL_error(L, "alignment %d is not a power of 2", align);
      layout->align = align;
      return;
    }
    default:
      luaL_argerror(L, 1, lua_pushfstring(L, "invalid format option '%c'", opt));
  }
}

static int is_integer_option(int opt) {
  switch (opt) {
    case 'b': case 'B': case 'h': case 'H': case 'l': case 'L':
    case 'T': case 'i': case 'I':
      return 1;
    default:
      return 0;
  }
}

/* ------------------------------------------------------------------------
 * pack
 * ---------------------------------------------------------------------- */

/* `size` bytes of an integer; past 8 bytes the extra ones are zero. */
static void pack_integer(luaL_Buffer *b, lua_Number n, int little, size_t size) {
  uint64_t bits = integer_bits(n);
  unsigned char bytes[ST_MAX_INT_SIZE];
  size_t i;
  for (i = 0; i < size; i++) {
    unsigned char byte = i < 8 ? (unsigned char)(bits >> (8 * i)) : 0;
    bytes[little ? i : size - 1 - i] = byte;
  }
  luaL_addlstring(b, (const char *)bytes, size);
}

static void pack_bits(luaL_Buffer *b, uint64_t bits, int little, size_t size) {
  unsigned char bytes[8];
  size_t i;
  for (i = 0; i < size; i++) bytes[little ? i : size - 1 - i] = (unsigned char)(bits >> (8 * i));
  luaL_addlstring(b, (const char *)bytes, size);
}

static int st_pack(lua_State *L) {
  const char *fmt = luaL_checkstring(L, 1);
  Layout layout;
  luaL_Buffer b;
  int arg = 2;
  size_t total = 0;
  layout_init(&layout);
  /* A missing argument then reads as nil ("got nil"), never as a piece
   * of the buffer that luaL_Buffer keeps on the stack. */
  lua_pushnil(L);
  luaL_buffinit(L, &b);
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = option_size(L, opt, &fmt);
    size_t pad = padding(total, &layout, opt, size);
    total += pad;
    while (pad-- > 0) luaL_addchar(&b, '\0');
    if (is_integer_option(opt)) {
      pack_integer(&b, luaL_checknumber(L, arg++), layout.little, size);
    } else if (opt == 'x') {
      luaL_addchar(&b, '\0');
    } else if (opt == 'f') {
      float f = (float)luaL_checknumber(L, arg++);
      uint32_t bits;
      memcpy(&bits, &f, sizeof bits);
      pack_bits(&b, bits, layout.little, 4);
    } else if (opt == 'd') {
      double d = (double)luaL_checknumber(L, arg++);
      uint64_t bits;
      memcpy(&bits, &d, sizeof bits);
      pack_bits(&b, bits, layout.little, 8);
    } else if (opt == 'c' || opt == 's') {
      size_t len;
      const char *s = luaL_checklstring(L, arg++, &len);
      if (size == 0) size = len;
      /* The library names the argument after the string, as Redis does. */
      luaL_argcheck(L, len >= size, arg, "string too short");
      luaL_addlstring(&b, s, size);
      if (opt == 's') {
        luaL_addchar(&b, '\0');
        size++;
      }
    } else {
      control_option(L, opt, &fmt, &layout);
    }
    total += size;
  }
  luaL_pushresult(&b);
  return 1;
}

/* ------------------------------------------------------------------------
 * unpack
 * ---------------------------------------------------------------------- */

static uint64_t read_bits(const unsigned char *p, int little, size_t size) {
  uint64_t bits = 0;
  size_t i;
  for (i = 0; i < size; i++) bits = (bits << 8) | p[little ? size - 1 - i : i];
  return bits;
}

/* An integer of `size` bytes. Only the 8 least significant bytes count;
 * the sign mask shifts by (8*size - 1) mod 64, as x86-64 does, so sizes
 * past 8 (and 0) extend the sign the way Redis' build does. */
static lua_Number unpack_integer(const unsigned char *p, int little, int is_signed, size_t size) {
  uint64_t bits = read_bits(p, little, size);
  uint64_t mask;
  if (!is_signed) return (lua_Number)bits;
  mask = ~(uint64_t)0 << ((size * 8 - 1) & 63);
  if (bits & mask) bits |= mask;
  return (lua_Number)bits_as_int64(bits);
}

static int has_room(size_t pos, size_t size, size_t len) {
  return size <= len && pos <= len - size;
}

static int st_unpack(lua_State *L) {
  const char *fmt = luaL_checkstring(L, 1);
  size_t len;
  const unsigned char *data = (const unsigned char *)luaL_checklstring(L, 2, &len);
  size_t pos = (size_t)luaL_optinteger(L, 3, 1);
  int results = 0;
  Layout layout;
  luaL_argcheck(L, pos > 0, 3, "offset must be 1 or greater");
  pos--; /* 1-based in Lua */
  layout_init(&layout);
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = option_size(L, opt, &fmt);
    pos += padding(pos, &layout, opt, size);
    luaL_argcheck(L, has_room(pos, size, len), 2, "data string too short");
    luaL_checkstack(L, 2, "too many results"); /* the item and the position */
    if (is_integer_option(opt)) {
      int is_signed = opt >= 'a' && opt <= 'z';
      lua_pushnumber(L, unpack_integer(data + pos, layout.little, is_signed, size));
      results++;
    } else if (opt == 'x') {
      /* padding: nothing to push */
    } else if (opt == 'f') {
      uint32_t bits = (uint32_t)read_bits(data + pos, layout.little, 4);
      float f;
      memcpy(&f, &bits, sizeof f);
      lua_pushnumber(L, (lua_Number)f);
      results++;
    } else if (opt == 'd') {
      uint64_t bits = read_bits(data + pos, layout.little, 8);
      double d;
      memcpy(&d, &bits, sizeof d);
      lua_pushnumber(L, (lua_Number)d);
      results++;
    } else if (opt == 'c') {
      if (size == 0) { /* the previous result is the length */
        if (results == 0 || !lua_isnumber(L, -1)) luaL_error(L, "format 'c0' needs a previous size");
        size = (size_t)to_uint64(lua_tonumber(L, -1));
        lua_pop(L, 1);
        results--;
        luaL_argcheck(L, has_room(pos, size, len), 2, "data string too short");
      }
      lua_pushlstring(L, (const char *)data + pos, size);
      results++;
    } else if (opt == 's') {
      const unsigned char *end = (const unsigned char *)memchr(data + pos, '\0', len - pos);
      if (end == NULL) luaL_error(L, "unfinished string in data");
      size = (size_t)(end - (data + pos)) + 1;
      lua_pushlstring(L, (const char *)data + pos, size - 1);
      results++;
    } else {
      control_option(L, opt, &fmt, &layout);
    }
    pos += size;
  }
  lua_pushinteger(L, (lua_Integer)(pos + 1));
  return results + 1;
}

/* ------------------------------------------------------------------------
 * size
 * ---------------------------------------------------------------------- */

static int st_size(lua_State *L) {
  const char *fmt = luaL_checkstring(L, 1);
  size_t pos = 0;
  Layout layout;
  layout_init(&layout);
  while (*fmt != '\0') {
    int opt = *fmt++;
    size_t size = option_size(L, opt, &fmt);
    pos += padding(pos, &layout, opt, size);
    if (opt == 's') luaL_argerror(L, 1, "option 's' has no fixed size");
    else if (opt == 'c' && size == 0) luaL_argerror(L, 1, "option 'c0' has no fixed size");
    /* Letters and digits the library does not know count as nothing. */
    if (!is_alnum((unsigned char)opt)) control_option(L, opt, &fmt, &layout);
    pos += size;
  }
  lua_pushinteger(L, (lua_Integer)pos);
  return 1;
}

static const luaL_Reg struct_functions[] = {
  {"pack", st_pack},
  {"unpack", st_unpack},
  {"size", st_size},
  {NULL, NULL}
};

int luaopen_struct(lua_State *L) {
  luaL_register(L, "struct", struct_functions);
  return 1;
}
