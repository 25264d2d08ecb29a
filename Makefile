# wasi-downlevel: the two commands for a fresh machine are `make run` and
# `make test`; both install what they need (rustup targets, runtimes).

CARGO ?= cargo
JOBS ?= 2
TOOL := target/release/wasi-downlevel
EXAMPLES := examples/target/wasm32-wasip2/release
STAMP := .cache/stamps

SHIM := libc-shim/target
WASIP2_CC := .cache/wasip2-cc/bin/wasip2-cc

.PHONY: fuzz run test bench build examples shim c-examples c-tools js-examples py-examples lang-examples \
	runtimes tools bench-programs targets lint clean

# Build everything and run examples/hello on the embedded preview1 engine.
run: build examples
	printf 'some input data' | $(TOOL) run --env GREETING=hi $(EXAMPLES)/hello.wasm a 'b c'

test: build examples lang-examples runtimes tools
	$(CARGO) fmt --all --check
	$(CARGO) fmt --manifest-path adapter/Cargo.toml --check
	$(CARGO) fmt --manifest-path libc-shim/Cargo.toml --check
	$(CARGO) test --release -j$(JOBS) -- --test-threads=2
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps -j$(JOBS) -p wasi-downlevel

# Side-by-side timings and sizes (cli/examples/bench/); BENCH_MIB,
# BENCH_REPS and BENCH_CALLS scale it.
bench: build examples lang-examples runtimes tools bench-programs
	$(CARGO) run --release -j$(JOBS) --example bench

# The linker's fuzz target (fuzz/, cargo-fuzz on nightly) for FUZZ_SECONDS.
FUZZ_SECONDS ?= 3600
fuzz: examples
	command -v cargo-fuzz >/dev/null || $(CARGO) install --locked --quiet cargo-fuzz
	rustup toolchain list | grep -q nightly || rustup toolchain install nightly --profile minimal
	cd fuzz && $(CARGO) +nightly fuzz run adapt -j1 -- -max_total_time=$(FUZZ_SECONDS) -max_len=8192 -len_control=0 -rss_limit_mb=4096

build: targets
	$(CARGO) build --release -j$(JOBS)

examples: targets shim
	$(CARGO) build --release -j$(JOBS) --target wasm32-wasip2 --manifest-path examples/Cargo.toml
	$(CARGO) build --release -j$(JOBS) --target wasm32-wasip1 --manifest-path examples/Cargo.toml -p bench -p hello
	# With libc-shim as a dependency: core modules (wit-component refuses the
	# shim's extra exports), which `adapt` takes as they are.
	RUSTFLAGS="-C link-arg=--skip-wit-component" $(CARGO) build --release -j$(JOBS) \
		--target wasm32-wasip2 --manifest-path examples/Cargo.toml --target-dir examples/target/shim \
		-p shim-read -p bench --features shim-read/shim,bench/shim
	# With libc-shim linked from its archive by RUSTFLAGS alone: a component.
	RUSTFLAGS="-L native=$(CURDIR)/$(SHIM) -l static=libc_shim" $(CARGO) build --release -j$(JOBS) \
		--target wasm32-wasip2 --manifest-path examples/Cargo.toml --target-dir examples/target/shim-lib \
		-p shim-read --features shim-read/shim-lib

# libc-shim as one object (for C: cc ... libc_shim.o) and as an archive of
# it (for Rust: -l static=libc_shim).
shim: targets
	mkdir -p $(SHIM)
	$(CARGO) rustc --release --target wasm32-wasip2 --manifest-path libc-shim/Cargo.toml \
		-- --emit=obj=$(CURDIR)/$(SHIM)/libc_shim.o
	rm -f $(SHIM)/liblibc_shim.a && ar rcs $(SHIM)/liblibc_shim.a $(SHIM)/libc_shim.o

# Programs of the other languages' toolchains (C, JavaScript, Python), each
# built once and rebuilt only when its sources change.
lang-examples: c-examples js-examples py-examples

# C programs for wasm32-wasip2 (Debian's clang-19; scripts/wasip2-cc.sh), with
# and without libc-shim: our shim-read, and SQLite and Lua (sources from
# crates.io, scripts/lang-tools.sh) with small drivers of ours.
C := examples/target/c
SQLITE := .cache/c-sources/sqlite
LUA := .cache/c-sources/lua
SQLITE_FLAGS := -DSQLITE_OS_OTHER=1 -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION \
	-DLONGDOUBLE_TYPE=double
LUA_FLAGS := -I$(LUA) -Iexamples/c/lua-compat -include examples/c/lua-wasi.h -D_WASI_EMULATED_SIGNAL
LUA_SOURCES = $(filter-out $(LUA)/lua.c $(LUA)/luac.c,$(wildcard $(LUA)/*.c))
SHIM_LINK := $(SHIM)/libc_shim.o -Wl,--export=cabi_realloc
c-examples: shim c-tools
	$(MAKE) --no-print-directory $(C)/shim-read.wasm $(C)/shim-read-shim.wasm $(C)/sqlite-run.wasm \
		$(C)/sqlite-run-shim.wasm $(C)/lua-run.wasm $(C)/lua-run-shim.wasm
c-tools:
	bash scripts/wasip2-cc.sh
	bash scripts/lang-tools.sh c
$(C)/shim-read.wasm: examples/c/shim-read.c
	mkdir -p $(C) && $(WASIP2_CC) -O2 -Wall -o $@ $<
$(C)/shim-read-shim.wasm: examples/c/shim-read.c $(SHIM)/libc_shim.o
	mkdir -p $(C) && $(WASIP2_CC) -O2 -Wall -DSHIM -o $@ $< $(SHIM_LINK)
$(C)/sqlite-run.wasm: examples/c/sqlite-run.c
	mkdir -p $(C) && $(WASIP2_CC) -O2 -I$(SQLITE) $(SQLITE_FLAGS) -o $@ $< \
		$(SQLITE)/sqlite3.c $(SQLITE)/wasm32-wasi-vfs.c
$(C)/sqlite-run-shim.wasm: examples/c/sqlite-run.c $(SHIM)/libc_shim.o
	mkdir -p $(C) && $(WASIP2_CC) -O2 -I$(SQLITE) $(SQLITE_FLAGS) -o $@ $< \
		$(SQLITE)/sqlite3.c $(SQLITE)/wasm32-wasi-vfs.c $(SHIM_LINK)
$(C)/lua-run.wasm: examples/c/lua-run.c examples/c/lua-wasi.c examples/c/lua-wasi.h
	mkdir -p $(C) && $(WASIP2_CC) -O2 $(LUA_FLAGS) -o $@ examples/c/lua-run.c examples/c/lua-wasi.c \
		$(LUA_SOURCES)
$(C)/lua-run-shim.wasm: examples/c/lua-run.c examples/c/lua-wasi.c examples/c/lua-wasi.h $(SHIM)/libc_shim.o
	mkdir -p $(C) && $(WASIP2_CC) -O2 $(LUA_FLAGS) -o $@ examples/c/lua-run.c examples/c/lua-wasi.c \
		$(LUA_SOURCES) $(SHIM_LINK)

# JavaScript commands (componentize-js, scripts/lang-tools.sh).
JS := examples/target/js
COMPONENTIZE_JS := .cache/componentize-js/node_modules/.bin/componentize-js
js-examples:
	bash scripts/lang-tools.sh js
	$(MAKE) --no-print-directory $(JS)/hello.wasm $(JS)/cli.wasm $(JS)/throw.wasm
$(JS)/%.wasm: examples/js/%.js examples/js/wit/world.wit
	mkdir -p $(JS) && timeout 600 $(COMPONENTIZE_JS) $< --wit examples/js/wit -n command \
		-d http fetch-event -o $@

# Python commands (componentize-py, scripts/lang-tools.sh).
PY := examples/target/python
COMPONENTIZE_PY := .cache/componentize-py/bin/componentize-py
py-examples:
	bash scripts/lang-tools.sh py
	$(MAKE) --no-print-directory $(PY)/hello.wasm $(PY)/cli.wasm $(PY)/text.wasm
$(PY)/%.wasm: examples/python/%.py examples/python/wit/world.wit
	mkdir -p $(PY) && timeout 600 $(COMPONENTIZE_PY) -d examples/python/wit -w command componentize \
		-p examples/python $* -o $@

# The preview1 runtimes (wasmtime, both iwasm builds, wamrc, node, the
# browser) and the native wasmtime CLI, by the tool's own installer, into
# .cache/runtimes, where the tool run from this tree looks.
runtimes: build
	WASI_DOWNLEVEL_RUNTIMES=$(CURDIR)/.cache/runtimes $(TOOL) runtimes install

# Real programs from crates.io that the tests run adapted (ripgrep), built
# for wasm32-wasip2 into .cache/ripgrep; `cargo install` skips what is there.
RIPGREP := 15.2.0
tools: targets
	$(CARGO) install --locked --quiet -j$(JOBS) --target wasm32-wasip2 --root .cache/ripgrep --version $(RIPGREP) ripgrep

# Real programs `make bench` runs adapted and as their preview1 builds, each
# built for both wasm32-wasip1 and wasm32-wasip2 from crates.io, once:
# ripgrep, pulldown-cmark (a Markdown converter) and tract-onnx (an inference
# engine, in bench/tract-run: a big program to adapt); and jco, the peer on
# Node (scripts/lang-tools.sh).
PULLDOWN_CMARK := 0.13.6
bench-programs: tools
	$(CARGO) install --locked --quiet -j$(JOBS) --target wasm32-wasip1 --root .cache/ripgrep-p1 --version $(RIPGREP) ripgrep
	for t in wasip1 wasip2; do \
		$(CARGO) install --quiet -j$(JOBS) --target wasm32-$$t --root .cache/pulldown-cmark-$$t \
			--version $(PULLDOWN_CMARK) pulldown-cmark || exit 1; \
		$(CARGO) build --release --locked --quiet -j$(JOBS) --target wasm32-$$t \
			--manifest-path bench/tract-run/Cargo.toml --target-dir .cache/bench-build || exit 1; \
	done
	bash scripts/lang-tools.sh jco

targets: $(STAMP)/targets
$(STAMP)/targets:
	rustup target add wasm32-wasip2 wasm32-wasip1 wasm32-unknown-unknown
	mkdir -p $(STAMP) && touch $@

lint: build
	$(CARGO) fmt --all --check
	$(CARGO) fmt --manifest-path adapter/Cargo.toml --check
	$(CARGO) clippy --release -j$(JOBS) --all-targets -- -D warnings
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps -j$(JOBS) -p wasi-downlevel

clean:
	$(CARGO) clean
	rm -rf examples/target target/adapter libc-shim/target
