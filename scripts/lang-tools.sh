#!/usr/bin/env bash
# The other languages' WASI 0.2 toolchains the examples are built with, from
# the package registries, into .cache (idempotent: a stamp per tool):
#
#   scripts/lang-tools.sh js     componentize-js (npm) -> .cache/componentize-js/node_modules/.bin/componentize-js
#   scripts/lang-tools.sh py     componentize-py (PyPI) -> .cache/componentize-py/bin/componentize-py
#   scripts/lang-tools.sh c      C sources from crates.io: SQLite (libsqlite3-sys, bundled) and Lua
#                                (lua-src) -> .cache/c-sources/{sqlite,lua}
#   scripts/lang-tools.sh jco    jco and preview2-shim (npm), the peer `make bench` compares with on
#                                Node -> .cache/jco/node_modules/.bin/jco
set -euo pipefail

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$REPO_DIR/.cache"
COMPONENTIZE_JS=0.23.0
COMPONENTIZE_PY=0.25.0
LIBSQLITE3_SYS=0.35.0
LUA_SRC=547.1.0
JCO=1.35.0
PREVIEW2_SHIM=0.26.1

log() { printf '[lang-tools] %s\n' "$*" >&2; }
die() { printf '[lang-tools] error: %s\n' "$*" >&2; exit 1; }

# npm_tool NAME BIN VERSIONS MANIFEST PACKAGE...: PACKAGEs from the npm
# registry into .cache/NAME (MANIFEST its package.json), once per VERSIONS.
npm_tool() {
    local name="$1" bin="$2" versions="$3" manifest="$4"
    shift 4
    local dir="$CACHE/$name" stamp="$CACHE/$name/.installed-$versions"
    [ -f "$stamp" ] && [ -e "$dir/node_modules/.bin/$bin" ] && return
    command -v npm >/dev/null || die "npm is needed for $name (Debian: apt-get install npm)"
    log "npm install $* (npm registry) into $dir"
    mkdir -p "$dir"
    printf '%s\n' "$manifest" >"$dir/package.json"
    timeout 900 npm install --prefix "$dir" --no-audit --no-fund --silent "$@" >&2 \
        || die "npm install failed"
    touch "$stamp"
}

js() {
    npm_tool componentize-js componentize-js "$COMPONENTIZE_JS" '{"private": true}' \
        "@bytecodealliance/componentize-js@$COMPONENTIZE_JS"
}

py() {
    local dir="$CACHE/componentize-py" stamp="$CACHE/componentize-py/.installed-$COMPONENTIZE_PY"
    [ -f "$stamp" ] && [ -x "$dir/bin/componentize-py" ] && return
    log "pip install componentize-py==$COMPONENTIZE_PY (PyPI) into $dir"
    rm -rf "$dir"
    timeout 300 python3 -m venv "$dir" || die "python3 -m venv failed"
    timeout 900 "$dir/bin/pip" install --quiet "componentize-py==$COMPONENTIZE_PY" >&2 \
        || die "pip install failed"
    touch "$stamp"
}

# Modules: what jco transpiles is ES modules.
jco() {
    npm_tool jco jco "$JCO-$PREVIEW2_SHIM" '{"private": true, "type": "module"}' \
        "@bytecodealliance/jco@$JCO" "@bytecodealliance/preview2-shim@$PREVIEW2_SHIM"
}

# Fetches a crate into cargo's registry with a throwaway project; prints its directory.
crate_dir() {
    local name="$1" version="$2" features="$3" proj="$CACHE/c-sources/fetch-$1"
    mkdir -p "$proj/src"
    cat >"$proj/Cargo.toml" <<TOML
[package]
name = "fetch-$name"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$name = { version = "=$version", default-features = false, features = [$features] }

# Not part of any enclosing workspace.
[workspace]
TOML
    : >"$proj/src/lib.rs"
    (cd "$proj" && timeout 600 cargo fetch --quiet >&2) || die "cargo fetch of $name failed"
    (cd "$proj" && timeout 120 cargo metadata --format-version 1 --offline 2>/dev/null) \
        | grep -o "\"manifest_path\":\"[^\"]*/$name-$version/Cargo.toml\"" | head -n1 \
        | sed 's/^"manifest_path":"//; s/\/Cargo.toml"$//'
}

c() {
    local out="$CACHE/c-sources" stamp="$CACHE/c-sources/.fetched-$LIBSQLITE3_SYS-$LUA_SRC"
    [ -f "$stamp" ] && [ -f "$out/sqlite/sqlite3.c" ] && [ -f "$out/lua/lapi.c" ] && return
    log "cargo fetch libsqlite3-sys $LIBSQLITE3_SYS and lua-src $LUA_SRC (crates.io)"
    mkdir -p "$out"
    local sqlite lua
    sqlite="$(crate_dir libsqlite3-sys "$LIBSQLITE3_SYS" '"bundled"')"
    lua="$(crate_dir lua-src "$LUA_SRC" '')"
    [ -f "$sqlite/sqlite3/sqlite3.c" ] || die "no sqlite3.c in libsqlite3-sys $LIBSQLITE3_SYS"
    [ -f "$lua/lua-5.4.7/lapi.c" ] || die "no Lua 5.4.7 in lua-src $LUA_SRC"
    ln -sfn "$sqlite/sqlite3" "$out/sqlite"
    ln -sfn "$lua/lua-5.4.7" "$out/lua"
    touch "$stamp"
}

[ $# -gt 0 ] || die "usage: $0 js|py|c|jco..."
for tool in "$@"; do
    case "$tool" in
        js | py | c | jco) "$tool" ;;
        *) die "unknown tool $tool" ;;
    esac
done
