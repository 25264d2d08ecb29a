/* Lua's ldo.c includes <setjmp.h>, which wasi-libc lacks without the
 * exception-handling proposal; lua-wasi.h makes Lua need none of it. */
