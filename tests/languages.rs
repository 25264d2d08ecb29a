//! Programs of the other toolchains that build WASI 0.2 components
//! (`make lang-examples`): JavaScript (componentize-js: StarlingMonkey, a
//! main module importing WASI at two versions and preview1 through an
//! embedded forward adapter, `run` lifted with post-return), Python
//! (componentize-py: 14 modules linked dynamically, GOT globals, three
//! allocators), and real C programs (SQLite and Lua, with and without
//! libc-shim). Each runs adapted on every runtime and must give the stdout,
//! stderr, exit status and resulting files of the same component run
//! natively on the wasmtime CLI.

mod common;

use common::{built, run_with_input, temp_dir, tool, RUNTIMES};
use std::collections::BTreeMap;
use std::process::{Command, Output};
use wasi_downlevel::run::{find, Runtime};

const TIMEOUT: u64 = 120;

/// One invocation of a program.
struct Step<'a> {
    args: &'a [&'a str],
    stdin: &'a [u8],
}

struct Case<'a> {
    /// `examples/target/<path>`.
    program: &'a str,
    /// Files put in the preopened directory first.
    files: &'a [(&'a str, &'a [u8])],
    /// Where the guest sees that directory.
    guest: &'a str,
    env: &'a [&'a str],
    /// Run in turn on the same directory (e.g. create a database, then
    /// query and update it).
    steps: &'a [Step<'a>],
}

/// Runs every step with `command` (native or one runtime) on a fresh copy
/// of the case's files; returns the outputs and the resulting tree.
fn go(
    case: &Case,
    what: &str,
    command: impl Fn() -> Command,
) -> (Vec<Output>, BTreeMap<String, Vec<u8>>) {
    let name = case.program.replace('/', "-");
    let dir = temp_dir(&format!("languages/{name}-{what}"));
    for (f, data) in case.files {
        std::fs::write(dir.join(f), data).unwrap();
    }
    let wasm = built(&format!("target/{}", case.program), "make lang-examples");
    let mut outs = Vec::new();
    for step in case.steps {
        let mut cmd = command();
        cmd.arg("--dir")
            .arg(format!("{}::{}", dir.display(), case.guest));
        for e in case.env {
            cmd.arg("--env").arg(e);
        }
        cmd.arg(&wasm).args(step.args);
        outs.push(run_with_input(
            cmd.env_remove("RUST_BACKTRACE"),
            Some(step.stdin),
            TIMEOUT,
        ));
    }
    (outs, common::tree(&dir))
}

fn check(case: Case) {
    let native = || {
        let mut c =
            Command::new(find(Runtime::Wasmtime, None).expect("wasmtime: run `make runtimes`"));
        c.arg("run").arg("-Scli-exit-with-code");
        c
    };
    let (want, want_tree) = go(&case, "native", native);
    // Every runtime, and lowered to WebAssembly 1.0 on the WAMR built
    // without bulk memory.
    let runs = RUNTIMES
        .iter()
        .map(|rt| (format!("{rt:?}").to_lowercase(), false))
        .chain([("iwasm-nobulk".to_string(), true)]);
    for (name, lower) in runs {
        let adapted = || {
            let mut c = Command::new(tool());
            c.arg("run").arg("--runtime").arg(&name);
            if lower {
                c.args(["--target-features", "mvp"]);
            }
            c
        };
        let (got, got_tree) = go(&case, &name, adapted);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let what = format!("{} step {i} on {name}", case.program);
            assert_eq!(
                String::from_utf8_lossy(&g.stdout),
                String::from_utf8_lossy(&w.stdout),
                "stdout of {what}"
            );
            assert_eq!(
                String::from_utf8_lossy(&g.stderr),
                String::from_utf8_lossy(&w.stderr),
                "stderr of {what}"
            );
            assert_eq!(g.status.code(), w.status.code(), "exit status of {what}");
        }
        assert_eq!(
            got_tree.keys().collect::<Vec<_>>(),
            want_tree.keys().collect::<Vec<_>>(),
            "files left by {} on {name}",
            case.program
        );
        for (f, data) in &want_tree {
            assert!(
                got_tree[f] == *data,
                "{f} written by {} on {name} differs from the native run's",
                case.program
            );
        }
    }
}

const INPUT: &[u8] = b"The cat sat. The cat ran!\nA dog, a cat.\n";

#[test]
fn js_hello() {
    check(Case {
        program: "js/hello.wasm",
        files: &[],
        guest: "/data",
        env: &[],
        steps: &[Step {
            args: &[],
            stdin: b"",
        }],
    });
}

#[test]
fn js_cli() {
    check(Case {
        program: "js/cli.wasm",
        files: &[("input.txt", INPUT)],
        guest: "/data",
        env: &["JS_GREETING=hi", "OTHER=x"],
        steps: &[Step {
            args: &["7"],
            stdin: b"stdin line a\nline b\n",
        }],
    });
}

#[test]
fn js_uncaught_exception() {
    check(Case {
        program: "js/throw.wasm",
        files: &[],
        guest: "/data",
        env: &[],
        steps: &[Step {
            args: &[],
            stdin: b"",
        }],
    });
}

#[test]
fn python_hello() {
    check(Case {
        program: "python/hello.wasm",
        files: &[],
        guest: "/data",
        env: &[],
        steps: &[Step {
            args: &[],
            stdin: b"",
        }],
    });
}

#[test]
fn python_cli() {
    check(Case {
        program: "python/cli.wasm",
        files: &[("input.txt", INPUT)],
        guest: "/data",
        env: &["PY_MODE=test", "OTHER=x"],
        steps: &[
            Step {
                args: &[],
                stdin: b"in1\nin2\n",
            },
            // An exception: its traceback, exit status 1.
            Step {
                args: &["raise"],
                stdin: b"",
            },
        ],
    });
}

#[test]
fn python_text() {
    check(Case {
        program: "python/text.wasm",
        files: &[],
        guest: "/data",
        env: &[],
        steps: &[Step {
            args: &[],
            stdin: br#"{"user": "ann", "text": "mail ann@example.com on 2026-12-01"}
{bad json
{"user": "bob", "text": "hi there, 2025-01-31 and 2024-02-29; bob+x@mail.example.org"}
{"user": "ann", "text": "second message, no dates"}
"#,
        }],
    });
}

/// SQLite: create a database file, then open it again to query and update
/// it, and end on an error (`sqlite-run` stops there with status 1).
fn sqlite(program: &str) {
    check(Case {
        program,
        files: &[],
        guest: "/data",
        env: &[],
        steps: &[
            Step {
                args: &["/data/db.sqlite"],
                stdin: b"CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, v REAL);
                    INSERT INTO t(name, v) VALUES ('a', 1.5), ('b', 2.25), ('c', NULL);
                    CREATE INDEX t_name ON t(name);
                    SELECT id, name, v FROM t ORDER BY id;",
            },
            Step {
                args: &["/data/db.sqlite"],
                stdin: b"UPDATE t SET v = v * 2 WHERE name = 'a';
                    DELETE FROM t WHERE name = 'b';
                    INSERT INTO t(name, v) SELECT name || '2', v FROM t;
                    SELECT count(*), sum(v), group_concat(name, ',') FROM t;
                    SELECT nosuchcol FROM t;
                    SELECT 'not reached';",
            },
        ],
    });
}

#[test]
fn c_sqlite() {
    sqlite("c/sqlite-run.wasm")
}

#[test]
fn c_sqlite_with_shim() {
    sqlite("c/sqlite-run-shim.wasm")
}

const LUA_SCRIPT: &[u8] = br##"
local t = {}
for i = 1, 10 do t[#t + 1] = i * i end
print(table.concat(t, ","))
print(string.format("%5.2f|%s|%d", math.pi, ("abc"):upper(), #arg))
for i, a in ipairs(arg) do print(i, a) end
local f = assert(io.open("out.txt", "w"))
f:write("line 1\n", "line 2\n")
f:close()
for l in io.lines("out.txt") do print("read", l) end
print(os.time() > 1600000000, type(os.clock()), os.getenv("LUA_VAR"))
local words = {}
for w in io.read("a"):gmatch("%a+") do words[w] = (words[w] or 0) + 1 end
local keys = {}
for k in pairs(words) do keys[#keys + 1] = k end
table.sort(keys)
for _, k in ipairs(keys) do io.write(k, "=", words[k], " ") end
print()
print(select("#", string.byte("hello", 1, -1)), ("x"):rep(3, "-"))
io.stderr:write("to stderr\n")
os.exit(3)
"##;

/// Lua: a script using tables, strings, files, stdin, env and os.exit.
fn lua(program: &str) {
    check(Case {
        program,
        files: &[("script.lua", LUA_SCRIPT)],
        guest: ".",
        env: &["LUA_VAR=from env"],
        steps: &[Step {
            args: &["script.lua", "x", "y z"],
            stdin: b"the quick brown fox jumps over the lazy dog the end",
        }],
    });
}

#[test]
fn c_lua() {
    lua("c/lua-run.wasm")
}

#[test]
fn c_lua_with_shim() {
    lua("c/lua-run-shim.wasm")
}
