# The scripting addon: Lua 5.1.5 and lua-cjson 2.1.0 from deps/ (fetched
# by scripts/build-native.mjs), Vireo's glue in src/ and its cmsgpack,
# struct and bit libraries in lua/.
{
  "targets": [
    {
      "target_name": "vireo_lua",
      "sources": [
        "src/module.c", "src/sandbox.c", "src/redis_api.c", "src/functions.c",
        "src/run.c", "src/yieldable.c", "src/resp_to_lua.c", "src/lua_to_resp.c", "src/lzf.c", "src/file_pages.c", "src/heap_reduce.cc", "src/sync_socket.c",
        "lua/lua_cmsgpack.c", "lua/lua_struct.c", "lua/lua_bit.c",
        "deps/lua-5.1.5/src/lapi.c", "deps/lua-5.1.5/src/lcode.c", "deps/lua-5.1.5/src/ldebug.c",
        "deps/lua-5.1.5/src/ldo.c", "deps/lua-5.1.5/src/ldump.c", "deps/lua-5.1.5/src/lfunc.c",
        "deps/lua-5.1.5/src/lgc.c", "deps/lua-5.1.5/src/llex.c", "deps/lua-5.1.5/src/lmem.c",
        "deps/lua-5.1.5/src/lobject.c", "deps/lua-5.1.5/src/lopcodes.c", "deps/lua-5.1.5/src/lparser.c",
        "deps/lua-5.1.5/src/lstate.c", "deps/lua-5.1.5/src/lstring.c", "deps/lua-5.1.5/src/ltable.c",
        "deps/lua-5.1.5/src/ltm.c", "deps/lua-5.1.5/src/lundump.c", "deps/lua-5.1.5/src/lvm.c",
        "deps/lua-5.1.5/src/lzio.c", "deps/lua-5.1.5/src/lauxlib.c", "deps/lua-5.1.5/src/lbaselib.c",
        "deps/lua-5.1.5/src/lmathlib.c", "deps/lua-5.1.5/src/lstrlib.c", "deps/lua-5.1.5/src/ltablib.c",
        "deps/lua-cjson-2.1.0+dfsg/lua_cjson.c", "deps/lua-cjson-2.1.0+dfsg/strbuf.c",
        "deps/lua-cjson-2.1.0+dfsg/fpconv.c"
      ],
      "defines": ["ENABLE_CJSON_GLOBAL"],
      "include_dirs": ["src", "lua", "deps/lua-5.1.5/src", "deps/lua-cjson-2.1.0+dfsg"],
      "cflags": ["-O2", "-Wno-unused-parameter", "-Wno-sign-compare", "-Wno-missing-field-initializers", "-Wno-implicit-fallthrough", "-Wno-cast-function-type"],
      "cflags_c": ["-std=gnu99"]
    }
  ]
}
