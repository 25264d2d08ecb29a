//! End to end: the example programs, built for wasm32-wasip2 (`make
//! examples`), adapted and run on every preview1 runtime, must give the same
//! stdout, stderr and exit status as the same component run natively on the
//! wasmtime CLI (`make runtimes` installs it).

mod common;

use common::{assert_same_output, example, run_with_input, RUNTIMES};
use std::process::{Command, Output};
use wasi_downlevel::run::{find, Runtime};

const TIMEOUT: u64 = 60;

fn output(mut cmd: Command, stdin: Option<&[u8]>) -> Output {
    run_with_input(cmd.env_remove("RUST_BACKTRACE"), stdin, TIMEOUT)
}

struct Case<'a> {
    program: &'a str,
    args: &'a [&'a str],
    env: &'a [&'a str],
    stdin: Option<&'a [u8]>,
}

fn check(case: Case) {
    let wasm = example(case.program);
    let mut native =
        Command::new(find(Runtime::Wasmtime, None).expect("wasmtime: run `make runtimes`"));
    native.arg("run");
    for e in case.env {
        native.arg("--env").arg(e);
    }
    native.arg(&wasm).args(case.args);
    let want = output(native, case.stdin);
    // Every runtime, and lowered to WebAssembly 1.0 on the WAMR built
    // without bulk memory (the SIMD example cannot be lowered).
    // Then compiled ahead of time by wamrc, lowered or not.
    let simd = case.program == "simd";
    let runs = RUNTIMES
        .iter()
        .map(|rt| (rt.name(), false))
        .chain([("iwasm-aot", false)])
        .chain((!simd).then_some(("iwasm-nobulk", true)))
        .chain((!simd).then_some(("iwasm-nobulk-aot", true)));
    for (rt, lower) in runs {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasi-downlevel"));
        cmd.arg("run").arg("--runtime").arg(rt);
        if lower {
            cmd.args(["--target-features", "mvp"]);
        }
        for e in case.env {
            cmd.arg("--env").arg(e);
        }
        cmd.arg(&wasm).args(case.args);
        let got = output(cmd, case.stdin);
        let what = format!("{} {:?} on {rt}", case.program, case.args);
        assert_same_output(&got, &want, &String::from_utf8_lossy(&want.stdout), &what);
    }
}

#[test]
fn hello() {
    check(Case {
        program: "hello",
        args: &["a", "b c"],
        env: &["GREETING=hi", "HELLO_B=1", "HELLO_A=2", "OTHER=x"],
        stdin: Some(b"some input data"),
    });
}

#[test]
fn hello_exit_code() {
    check(Case {
        program: "hello",
        args: &["--exit", "3"],
        env: &[],
        stdin: None,
    });
}

#[test]
fn streams() {
    check(Case {
        program: "streams",
        args: &["one", "two"],
        env: &[],
        stdin: Some(b"hello, world: the rest of the data"),
    });
}

#[test]
fn streams_exit_with_code() {
    check(Case {
        program: "streams",
        args: &["--exit-with-code", "7"],
        env: &[],
        stdin: Some(b"abcdefghijklmnop"),
    });
}

#[test]
fn streams_empty_stdin() {
    check(Case {
        program: "streams",
        args: &[],
        env: &[],
        stdin: None,
    });
}

#[test]
fn p1_dependency() {
    check(Case {
        program: "p1-dep",
        args: &[],
        env: &[],
        stdin: None,
    });
}

#[test]
fn poll() {
    check(Case {
        program: "poll",
        args: &[],
        env: &[],
        stdin: Some(b"some input data"),
    });
}

#[test]
fn poll_empty_stdin() {
    check(Case {
        program: "poll",
        args: &[],
        env: &[],
        stdin: None,
    });
}

/// SIMD functions in a scalar program (as rustfft and others carry them):
/// every runtime runs them, the embedded engine and iwasm included.
#[test]
fn simd() {
    check(Case {
        program: "simd",
        args: &[],
        env: &[],
        stdin: Some(b"sixteen bytes of input, and then some more that do not fill a lane"),
    });
}

/// Every adapted example imports only preview1, validates, keeps only the
/// adapter code it reaches (far less than the whole adapter), and calls
/// WASI directly: wit-component's shim table is gone, so the output has the
/// program's one table at most.
#[test]
fn adapted_shape() {
    let full = wasi_downlevel::ADAPTER.len();
    for name in ["hello", "streams", "p1-dep", "poll"] {
        let input = std::fs::read(example(name)).unwrap();
        let out = wasi_downlevel::adapt(&input, &Default::default()).unwrap();
        wasmparser::Validator::new()
            .validate_all(&out.wasm)
            .unwrap();
        for payload in wasmparser::Parser::new(0).parse_all(&out.wasm) {
            match payload.unwrap() {
                wasmparser::Payload::ImportSection(r) => {
                    for imp in r.into_imports() {
                        assert_eq!(imp.unwrap().module, "wasi_snapshot_preview1", "{name}");
                    }
                }
                wasmparser::Payload::TableSection(r) => {
                    assert!(r.count() <= 1, "{name}: {} tables", r.count())
                }
                _ => {}
            }
        }
        let main = wasi_downlevel::input::main_module(&input).unwrap();
        let added = out.wasm.len() as i64 - main.len() as i64;
        assert!(
            added < full as i64 / 2,
            "{name}: the adapter added {added} bytes, the whole adapter is {full}"
        );
    }
}

/// `run` executes a preview1 command (here `examples/bench` built for
/// wasm32-wasip1) as it is, on every runtime.
#[test]
fn preview1_command_runs_as_is() {
    let p1 = example("bench").with_file_name("../../wasm32-wasip1/release/bench.wasm");
    assert!(
        p1.exists(),
        "{} is missing: run `make examples`",
        p1.display()
    );
    for rt in RUNTIMES {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasi-downlevel"));
        cmd.arg("run")
            .arg("--runtime")
            .arg(format!("{rt:?}").to_lowercase())
            .arg(&p1)
            .args(["clock", "10"]);
        let out = output(cmd, None);
        assert_eq!(String::from_utf8_lossy(&out.stdout), "true\n", "{rt:?}");
        assert!(out.status.success(), "{rt:?}");
    }
}
