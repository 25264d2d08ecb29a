// lua-run: the Lua 5.4 interpreter (sources from the crates.io `lua-src`
// crate) as a small driver, built for wasm32-wasip2.
//
//   lua-run SCRIPT.lua [ARGS...]
//
// Runs SCRIPT with the standard libraries and `arg` set as `lua` sets it,
// and exits with the script's `os.exit` status, or 1 after printing an error
// (`lua-run: message`) on stderr.
//
// wasi-libc has no setjmp/longjmp without the exception-handling proposal,
// which preview1 hosts lack, so this build cannot recover from a Lua error:
// any error (even inside `pcall`) prints its message and exits 1
// (lua-wasi.h). Scripts that raise no error run as with `lua`.
#include <stdio.h>
#include <stdlib.h>
#include "lua.h"
#include "lauxlib.h"
#include "lualib.h"

void lua_run_abort(lua_State *L) {
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "lua-run: %s\n", msg ? msg : "(error object is not a string)");
    fflush(stdout);
    exit(1);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCRIPT.lua [ARGS...]\n", argv[0]);
        return 2;
    }
    lua_State *L = luaL_newstate();
    luaL_openlibs(L);
    lua_createtable(L, argc, 1);
    for (int i = 0; i < argc; i++) {
        lua_pushstring(L, argv[i]);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setglobal(L, "arg");
    if (luaL_loadfile(L, argv[1]) != LUA_OK) {
        fprintf(stderr, "lua-run: %s\n", lua_tostring(L, -1));
        return 1;
    }
    for (int i = 2; i < argc; i++) {
        lua_pushstring(L, argv[i]);
    }
    if (lua_pcall(L, argc - 2, 0, 0) != LUA_OK) {
        fprintf(stderr, "lua-run: %s\n", lua_tostring(L, -1));
        return 1;
    }
    lua_close(L);
    return 0;
}
