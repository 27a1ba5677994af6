/*
 * The three libraries Redis gives every script besides cjson, as Lua 5.1
 * C modules. Each luaopen_* registers its table as a global (cmsgpack,
 * struct, bit) and leaves it on the stack, as Redis' own luaopen_* do.
 * They use only the public Lua 5.1 API.
 */
#ifndef VIREO_LUALIBS_H
#define VIREO_LUALIBS_H

#include "lua.h"

/* MessagePack: pack, unpack, unpack_one, unpack_limit (lua-cmsgpack 0.4.0). */
int luaopen_cmsgpack(lua_State *L);

/* Binary structures: pack, unpack, size (Roberto Ierusalimschy's struct). */
int luaopen_struct(lua_State *L);

/* 32-bit operations on numbers (LuaBitOp 1.0.2). */
int luaopen_bit(lua_State *L);

#endif
