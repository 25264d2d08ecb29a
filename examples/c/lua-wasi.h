// What wasi-libc lacks that Lua's sources expect, included into every Lua
// source file by the build (see lua-run.c).
#ifndef LUA_WASI_H
#define LUA_WASI_H
// No setjmp/longjmp without the exception-handling proposal (which preview1
// hosts lack): an error ends the program with its message, as an uncaught
// one does.
struct lua_State;
void lua_run_abort(struct lua_State *L) __attribute__((noreturn));
#define LUAI_THROW(L, c) lua_run_abort(L)
#define LUAI_TRY(L, c, a) { a }
#define luai_jmpbuf int
// No temporary file names (os.tmpname fails).
#define LUA_TMPNAMBUFSIZE 32
#define lua_tmpnam(b, e) { e = 1; }
#endif
