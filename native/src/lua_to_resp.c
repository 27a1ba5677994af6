/*
 * A script's return value as the reply, Redis' luaReplyToRedisReply:
 * strings -> bulk, numbers -> integers (truncated), booleans by the
 * script's redis.setresp (RESP2: true -> 1, false -> null), tables ->
 * {err=} / {ok=} / {double=} / {big_number=} / {verbatim_string=} /
 * {map=} / {set=} or an array up to the first nil, anything else -> null;
 * encoded for the protocol of the client that gets it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "vm.h"

static void put_header(Buf *out, char type, long long n) {
  char tmp[32];
  int len = snprintf(tmp, sizeof tmp, "%c%lld\r\n", type, n);
  buf_put(out, tmp, (size_t)len);
}

static void put_bulk(Buf *out, const char *s, size_t len) {
  put_header(out, '$', (long long)len);
  buf_put(out, s, len);
  buf_put(out, "\r\n", 2);
}

static void put_null(Vm *vm, Buf *out) {
  buf_puts(out, vm->client_resp == 3 ? "_\r\n" : "$-1\r\n");
}

/* A line reply ('-' or '+' or '('): CR and LF inside become spaces. */
static void put_line(Buf *out, char type, const char *s, size_t len) {
  buf_putc(out, type);
  size_t start = out->len;
  buf_put(out, s, len);
  for (size_t i = start; i < out->len; i++)
    if (out->data[i] == '\r' || out->data[i] == '\n') out->data[i] = ' ';
  buf_put(out, "\r\n", 2);
}

/* C's (long long) cast as x86 does it: NaN and out-of-range values give LLONG_MIN. */
static long long truncate_number(lua_Number n) {
  if (n != n || n >= 9223372036854775808.0 || n < -9223372036854775808.0) return (long long)0x8000000000000000ULL;
  return (long long)n;
}

static void put_double(Vm *vm, Buf *out, double d) {
  napi_handle_scope scope;
  napi_open_handle_scope(vm->env, &scope);
  napi_value arg, result;
  char text[64] = "0";
  size_t n = 1;
  napi_create_double(vm->env, d, &arg);
  if (js_call(vm, CB_FORMAT_DOUBLE, &arg, 1, &result)) napi_get_value_string_latin1(vm->env, result, text, sizeof text, &n);
  napi_close_handle_scope(vm->env, scope);
  if (vm->client_resp == 3) {
    buf_putc(out, ',');
    buf_put(out, text, n);
    buf_put(out, "\r\n", 2);
  } else {
    put_bulk(out, text, n);
  }
}

/* Field `name` of the table on top, pushed; returns its type. */
static int field(lua_State *L, const char *name) {
  lua_pushstring(L, name);
  lua_rawget(L, -2);
  return lua_type(L, -1);
}

static void encode(Vm *vm, lua_State *L, Buf *out);

static void encode_table(Vm *vm, lua_State *L, Buf *out) {
  size_t len;
  if (field(L, "err") == LUA_TSTRING) {
    const char *s = lua_tolstring(L, -1, &len);
    /* The script's whole reply is a command's error (redis.pcall's table): it was counted when it arose. */
    int whole_reply = out->len == 0;
    put_line(out, '-', s, len);
    lua_pop(L, 1);
    if (whole_reply) {
      field(L, "ignore_error_stats_update");
      vm->out_error_no_stats = lua_toboolean(L, -1);
      lua_pop(L, 1);
    }
    return;
  }
  lua_pop(L, 1);
  if (field(L, "ok") == LUA_TSTRING) {
    const char *s = lua_tolstring(L, -1, &len);
    put_line(out, '+', s, len);
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  if (field(L, "double") == LUA_TNUMBER) {
    put_double(vm, out, (double)lua_tonumber(L, -1));
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  if (field(L, "big_number") == LUA_TSTRING) {
    const char *s = lua_tolstring(L, -1, &len);
    if (vm->client_resp == 3) {
      put_line(out, '(', s, len);
    } else {
      /* A bulk string of the same text, CR/LF turned into spaces. */
      put_bulk(out, s, len);
      for (size_t i = out->len - 2 - len; i < out->len - 2; i++)
        if (out->data[i] == '\r' || out->data[i] == '\n') out->data[i] = ' ';
    }
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  if (field(L, "verbatim_string") == LUA_TTABLE) { /* stack: t, vs */
    if (field(L, "format") == LUA_TSTRING) {          /* t, vs, format */
      size_t fmt_len;
      const char *fmt = lua_tolstring(L, -1, &fmt_len);
      lua_pushstring(L, "string");
      lua_rawget(L, -3); /* t, vs, format, string */
      if (lua_type(L, -1) == LUA_TSTRING) {
        const char *s = lua_tolstring(L, -1, &len);
        if (vm->client_resp == 3) {
          char ext[4] = {' ', ' ', ' ', ':'};
          memcpy(ext, fmt, fmt_len < 3 ? fmt_len : 3);
          put_header(out, '=', (long long)len + 4);
          buf_put(out, ext, 4);
          buf_put(out, s, len);
          buf_put(out, "\r\n", 2);
        } else {
          put_bulk(out, s, len);
        }
        lua_pop(L, 3);
        return;
      }
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  if (field(L, "map") == LUA_TTABLE) {
    long long n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pop(L, 1);
      n++;
    }
    put_header(out, vm->client_resp == 3 ? '%' : '*', vm->client_resp == 3 ? n : 2 * n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pushvalue(L, -2);
      encode(vm, L, out); /* key */
      encode(vm, L, out); /* value */
    }
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  if (field(L, "set") == LUA_TTABLE) {
    long long n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pop(L, 1);
      n++;
    }
    put_header(out, vm->client_resp == 3 ? '~' : '*', n);
    lua_pushnil(L);
    while (lua_next(L, -2)) {
      lua_pop(L, 1);
      lua_pushvalue(L, -1);
      encode(vm, L, out);
    }
    lua_pop(L, 1);
    return;
  }
  lua_pop(L, 1);
  /* An array: elements 1.. up to the first nil. */
  long long n = 0;
  for (;;) {
    lua_rawgeti(L, -1, (int)(n + 1));
    int nil = lua_isnil(L, -1);
    lua_pop(L, 1);
    if (nil) break;
    n++;
  }
  put_header(out, '*', n);
  for (long long j = 1; j <= n; j++) {
    lua_rawgeti(L, -1, (int)j);
    encode(vm, L, out);
  }
}

/* Encode and pop the value on top of L. */
static void encode(Vm *vm, lua_State *L, Buf *out) {
  if (!lua_checkstack(L, 4)) {
    buf_puts(out, "-ERR reached lua stack limit\r\n");
    lua_pop(L, 1);
    return;
  }
  size_t len;
  const char *s;
  switch (lua_type(L, -1)) {
  case LUA_TSTRING:
    s = lua_tolstring(L, -1, &len);
    put_bulk(out, s, len);
    break;
  case LUA_TBOOLEAN: {
    int b = lua_toboolean(L, -1);
    if (vm->resp == 2) {
      if (b) buf_puts(out, ":1\r\n");
      else put_null(vm, out);
    } else if (vm->client_resp == 3) {
      buf_puts(out, b ? "#t\r\n" : "#f\r\n");
    } else {
      buf_puts(out, b ? ":1\r\n" : ":0\r\n");
    }
    break;
  }
  case LUA_TNUMBER:
    put_header(out, ':', truncate_number(lua_tonumber(L, -1)));
    break;
  case LUA_TTABLE:
    encode_table(vm, L, out);
    break;
  default:
    put_null(vm, out);
  }
  lua_pop(L, 1);
}

void lua_to_resp(Vm *vm, lua_State *L, Buf *out) {
  encode(vm, L, out);
}
