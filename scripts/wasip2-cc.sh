#!/usr/bin/env bash
# A C compiler for wasm32-wasip2 from Debian's packages, to build and test C
# programs that link libc-shim.
#
#   scripts/wasip2-cc.sh [CACHE_DIR]      (default: <repo>/.cache/wasip2-cc)
#
# Result: CACHE_DIR/bin/wasip2-cc, used like cc:
#   wasip2-cc -O2 prog.c [libc-shim/target/libc_shim.o -Wl,--export=cabi_realloc] -o prog.wasm
# which writes a WASI 0.2 component.
#
# Debian's clang-19 knows --target=wasm32-wasip2 and links with wasm-component-ld (shipped with
# rustup's toolchain). The sysroot is Debian's wasi-libc headers with the wasip2 libc.a and
# crt1-command.o that the Rust wasm32-wasip2 target ships (the same libc Rust programs link);
# compiler-rt's builtins come from libclang-rt-19-dev-wasm32. Idempotent: apt-get runs only when
# clang-19 is missing, and the sysroot is rebuilt only when absent.
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE_DIR="${1:-$REPO_DIR/.cache/wasip2-cc}"
PACKAGES=(clang-19 lld-19 libclang-rt-19-dev-wasm32 wasi-libc)

log() { printf '[wasip2-cc] %s\n' "$*" >&2; }

if ! command -v clang-19 >/dev/null || [ ! -d /usr/include/wasm32-wasi ] \
    || [ ! -f /usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a ]; then
    log "installing ${PACKAGES[*]} from Debian"
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${PACKAGES[@]}" >/dev/null
fi

LIBC_DIR="$(rustc --print sysroot)/lib/rustlib/wasm32-wasip2/lib/self-contained"
[ -f "$LIBC_DIR/libc.a" ] || rustup target add wasm32-wasip2

if [ ! -f "$CACHE_DIR/bin/wasip2-cc" ]; then
    log "building the sysroot in $CACHE_DIR"
    rm -rf "$CACHE_DIR"
    mkdir -p "$CACHE_DIR/sysroot/include" "$CACHE_DIR/sysroot/lib/wasm32-wasip2" \
        "$CACHE_DIR/resource/lib/wasip2" "$CACHE_DIR/bin"
    # Links, not copies: C programs keep linking the libc Rust programs link
    # (libc-shim is built against it) when the toolchain is updated.
    ln -s /usr/include/wasm32-wasi "$CACHE_DIR/sysroot/include/wasm32-wasip2"
    ln -s "$LIBC_DIR/libc.a" "$LIBC_DIR/crt1-command.o" "$CACHE_DIR/sysroot/lib/wasm32-wasip2/"
    ln -s /usr/lib/llvm-19/lib/clang/19/include "$CACHE_DIR/resource/include"
    ln -s /usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a \
        "$CACHE_DIR/resource/lib/wasip2/"
    cat >"$CACHE_DIR/bin/wasip2-cc" <<EOF
#!/bin/sh
# Written by scripts/wasip2-cc.sh. wasm-component-ld ships with the current Rust toolchain.
RUST_LIB="\$(rustc --print sysroot)/lib/rustlib"
PATH="\$RUST_LIB/\$(rustc -vV | sed -n 's/^host: //p')/bin:\$PATH" exec clang-19 --target=wasm32-wasip2 \\
    --sysroot="$CACHE_DIR/sysroot" -resource-dir "$CACHE_DIR/resource" "\$@"
EOF
    chmod +x "$CACHE_DIR/bin/wasip2-cc"
fi
