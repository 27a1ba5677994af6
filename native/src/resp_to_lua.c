/*
 * A command's RESP reply as Lua values, Redis' redisProtocolToLuaType:
 * integers -> numbers, bulk -> string, null bulk / null array -> false,
 * status -> {ok=}, error -> {err=, ignore_error_stats_update=true},
 * arrays -> tables; RESP3 maps -> {map={}}, sets -> {set={k=true}},
 * null -> nil, booleans, doubles -> {double=}, big numbers ->
 * {big_number=}, verbatim -> {verbatim_string={format=,string=}};
 * attributes are skipped. The bytes come from our own reply writer, but
 * the parser still checks every bound.
 */
#include <stdlib.h>
#include <string.h>

#include "lauxlib.h"
#include "vm.h"

typedef struct {
  const char *p;
  const char *end;
} Cursor;

/* The line at the cursor without its CRLF; advances past it. NULL if truncated. */
static const char *line(Cursor *c, size_t *len) {
  const char *start = c->p;
  const char *cr = memchr(start, '\r', (size_t)(c->end - start));
  if (cr == NULL || cr + 1 >= c->end) return NULL;
  *len = (size_t)(cr - start);
  c->p = cr + 2;
  return start;
}

static long long to_ll(const char *s, size_t len) {
  char tmp[32];
  if (len >= sizeof tmp) len = sizeof tmp - 1;
  memcpy(tmp, s, len);
  tmp[len] = 0;
  return strtoll(tmp, NULL, 10);
}

static void ensure_stack(lua_State *L, int n) {
  if (!lua_checkstack(L, n)) luaL_error(L, "reached lua stack limit");
}

static void parse(lua_State *L, Cursor *c, int keep);

/* A bulk payload of `n` bytes plus CRLF at the cursor. */
static const char *payload(Cursor *c, long long n) {
  if (n < 0 || c->end - c->p < n + 2) return NULL;
  const char *s = c->p;
  c->p += n + 2;
  return s;
}

static void parse(lua_State *L, Cursor *c, int keep) {
  if (c->p >= c->end) {
    if (keep) lua_pushnil(L);
    return;
  }
  char type = *c->p++;
  size_t len;
  const char *s = line(c, &len);
  if (s == NULL) {
    if (keep) lua_pushnil(L);
    c->p = c->end;
    return;
  }
  if (keep) ensure_stack(L, 5);
  switch (type) {
  case ':':
    if (keep) lua_pushnumber(L, (lua_Number)to_ll(s, len));
    break;
  case '$':
  case '=': {
    long long n = to_ll(s, len);
    if (n < 0) {
      if (keep) lua_pushboolean(L, 0);
      break;
    }
    const char *body = payload(c, n);
    if (body == NULL) {
      c->p = c->end;
      if (keep) lua_pushnil(L);
      break;
    }
    if (!keep) break;
    if (type == '$') {
      lua_pushlstring(L, body, (size_t)n);
    } else {
      /* "txt:..." */
      size_t fmt_len = n >= 4 ? 3 : 0;
      lua_createtable(L, 0, 1);
      lua_createtable(L, 0, 2);
      lua_pushlstring(L, body + (fmt_len ? 4 : 0), (size_t)n - (fmt_len ? 4 : 0));
      lua_setfield(L, -2, "string");
      lua_pushlstring(L, body, fmt_len);
      lua_setfield(L, -2, "format");
      lua_setfield(L, -2, "verbatim_string");
    }
    break;
  }
  case '+':
    if (keep) {
      lua_createtable(L, 0, 1);
      lua_pushlstring(L, s, len);
      lua_setfield(L, -2, "ok");
    }
    break;
  case '-':
  case '!':
    if (keep) {
      /* "-CODE msg": the table keeps "CODE msg". Blob errors (!) come as "len\r\nCODE msg". */
      const char *msg = s - 1;
      size_t msg_len = len + 1;
      if (type == '!') {
        long long n = to_ll(s, len);
        const char *body = payload(c, n);
        if (body == NULL) {
          lua_pushnil(L);
          break;
        }
        lua_pushliteral(L, "-");
        lua_pushlstring(L, body, (size_t)n);
        lua_concat(L, 2);
        msg = lua_tolstring(L, -1, &msg_len);
        api_push_error_table(L, msg, msg_len);
        lua_remove(L, -2);
      } else {
        api_push_error_table(L, msg, msg_len);
      }
      lua_pushboolean(L, 1);
      lua_setfield(L, -2, "ignore_error_stats_update");
    } else if (type == '!') {
      payload(c, to_ll(s, len));
    }
    break;
  case '*':
  case '>': {
    long long n = to_ll(s, len);
    if (n < 0) {
      if (keep) lua_pushboolean(L, 0);
      break;
    }
    /* No preallocated array part: # of an array with RESP3 nulls must stop where Redis' does. */
    if (keep) lua_newtable(L);
    for (long long j = 0; j < n && c->p < c->end; j++) {
      parse(L, c, keep);
      if (keep) {
        lua_pushnumber(L, (lua_Number)(j + 1));
        lua_insert(L, -2);
        lua_settable(L, -3);
      }
    }
    break;
  }
  case '%':
  case '~': {
    long long n = to_ll(s, len);
    if (keep) {
      lua_createtable(L, 0, 1);
      lua_newtable(L);
    }
    for (long long j = 0; j < n && c->p < c->end; j++) {
      parse(L, c, keep);
      if (type == '%') parse(L, c, keep);
      else if (keep) lua_pushboolean(L, 1);
      /* A nil key (RESP3 null) cannot be stored: Redis' lua_settable would fail the same way. */
      if (keep) {
        if (lua_isnil(L, -2)) lua_pop(L, 2);
        else lua_rawset(L, -3);
      }
    }
    if (keep) lua_setfield(L, -2, type == '%' ? "map" : "set");
    break;
  }
  case '_':
    if (keep) lua_pushnil(L);
    break;
  case '#':
    if (keep) lua_pushboolean(L, len > 0 && s[0] == 't');
    break;
  case ',': {
    if (keep) {
      char tmp[64];
      size_t n = len < sizeof tmp - 1 ? len : sizeof tmp - 1;
      memcpy(tmp, s, n);
      tmp[n] = 0;
      lua_createtable(L, 0, 1);
      lua_pushnumber(L, strtod(tmp, NULL));
      lua_setfield(L, -2, "double");
    }
    break;
  }
  case '(':
    if (keep) {
      lua_createtable(L, 0, 1);
      lua_pushlstring(L, s, len);
      lua_setfield(L, -2, "big_number");
    }
    break;
  case '|': {
    long long n = to_ll(s, len);
    for (long long j = 0; j < n && c->p < c->end; j++) {
      parse(L, c, 0);
      parse(L, c, 0);
    }
    parse(L, c, keep);
    break;
  }
  default:
    if (keep) lua_pushnil(L);
    c->p = c->end;
  }
}

void resp_push_lua(lua_State *L, const char *p, size_t len) {
  Cursor c = {p, p + len};
  parse(L, &c, 1);
}
