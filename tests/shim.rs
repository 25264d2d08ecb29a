//! libc-shim: the `shim-read` example, built with and without the shim,
//! gives byte-identical output on every runtime, reading files (`read`,
//! `readv`, `pread`), stdin, the same through `wasi:io/streams` directly
//! (the shim's `streams` helper), and TCP (`recv`, `readv`, `MSG_PEEK`,
//! non-blocking EAGAIN, a receive timeout). With the shim every part's
//! reads land in the caller's buffer: the shim counts them, and counts 0
//! fallbacks.

mod common;

use common::{example, example_in, run_with_input, Program, RUNTIMES};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use wasi_downlevel::run::{find, Runtime};

fn plain() -> PathBuf {
    example("shim-read")
}

fn shimmed() -> PathBuf {
    example_in("target/shim", "shim-read")
}

/// A C example `make c-examples` built.
fn c_example(name: &str) -> PathBuf {
    common::built(&format!("target/c/{name}.wasm"), "make c-examples")
}

/// Splits the shim's output into the program's own lines and checks the
/// shim's counter lines: every part landed reads and none fell back.
fn check_counts(out: &str, what: &str) -> String {
    let mut own = String::new();
    let mut parts = 0;
    for line in out.lines() {
        match line.strip_prefix("shim: ") {
            Some(counts) => {
                parts += 1;
                let (part, rest) = counts.split_once(": landed ").unwrap();
                let (landed, fallbacks) = rest.split_once(", fallbacks ").unwrap();
                assert!(
                    landed.parse::<u64>().unwrap() > 0,
                    "{what}, {part}: no read landed in the caller's buffer"
                );
                assert_eq!(fallbacks, "0", "{what}, {part}: reads that copied");
            }
            None => own += &format!("{line}\n"),
        }
    }
    assert!(parts > 0, "{what}: no counts from the shim in {out}");
    own
}

/// A 3 MB file in a fresh directory, and 200 KB for stdin.
fn inputs(name: &str) -> (PathBuf, Vec<u8>) {
    let dir = common::temp_dir(name);
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 13 % 251) as u8).collect();
    std::fs::write(dir.join("data.bin"), &data).unwrap();
    (dir, (0..200_000u32).map(|i| (i % 97) as u8).collect())
}

/// Runs `wasm` (args, then `/data/data.bin`) with `dir` as `/data` on
/// `runtime`, or natively on the wasmtime CLI for "native"; its stdout.
fn run_file(wasm: &Path, runtime: &str, args: &[&str], dir: &Path, stdin: &[u8]) -> String {
    let mut cmd = if runtime == "native" {
        let mut c = Command::new(find(Runtime::Wasmtime, None).expect("wasmtime"));
        c.arg("run");
        c
    } else {
        let mut c = Command::new(env!("CARGO_BIN_EXE_wasi-downlevel"));
        c.args(["run", "--runtime", runtime]);
        c
    };
    cmd.arg("--dir")
        .arg(format!("{}::/data", dir.display()))
        .arg(wasm)
        .args(args)
        .arg("/data/data.bin");
    let out = run_with_input(&mut cmd, Some(stdin), 120);
    assert!(
        out.status.success(),
        "{runtime} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Every runtime's name for `run --runtime`.
fn runtimes() -> Vec<String> {
    RUNTIMES
        .iter()
        .map(|rt| format!("{rt:?}").to_lowercase())
        .collect()
}

/// The Rust program with libc-shim as a dependency (a core module).
#[test]
fn files_and_stdin() {
    let (dir, stdin) = inputs("shim");
    for rt in runtimes() {
        for mode in [&[][..], &["streams"]] {
            let want = run_file(&plain(), &rt, mode, &dir, &stdin);
            let got = run_file(&shimmed(), &rt, mode, &dir, &stdin);
            let what = format!("{rt} {mode:?}");
            assert_eq!(
                check_counts(&got, &what),
                want,
                "{what}: with and without the shim"
            );
            assert!(want.contains("stdin"), "{what}: {want}");
            assert!(want.contains("3000000 bytes"), "{what}: {want}");
        }
    }
}

/// The Rust program with libc-shim linked by RUSTFLAGS alone (`-l
/// static=libc_shim`), and a C program linked with `libc_shim.o`: both are
/// components, so they also run natively on wasmtime, whose host allocates
/// through the same `cabi_realloc`.
#[test]
fn link_lines_rust_and_c() {
    let (dir, stdin) = inputs("shim-link");
    let builds = [
        (plain(), example_in("target/shim-lib", "shim-read")),
        (c_example("shim-read"), c_example("shim-read-shim")),
    ];
    for (without, with) in &builds {
        for rt in runtimes().iter().map(String::as_str).chain(["native"]) {
            let want = run_file(without, rt, &[], &dir, &stdin);
            let got = run_file(with, rt, &[], &dir, &stdin);
            let what = format!("{} on {rt}", with.display());
            assert_eq!(
                check_counts(&got, &what),
                want,
                "{what}: with and without the shim"
            );
            assert!(want.contains("3000000 bytes"), "{what}: {want}");
        }
    }
}

/// Runs `shim-read tcp` on `runtime` and feeds it 3 MB from a native
/// client once it has checked a non-blocking receive; its output.
fn tcp_run(wasm: &Path, runtime: &str) -> String {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasi-downlevel"));
    cmd.args(["run", "--runtime", runtime]);
    match runtime {
        "iwasm" => cmd.args(["--sockets", "wamr"]),
        _ => cmd.args(["--tcplisten", &addr]),
    };
    cmd.arg(wasm).args(["tcp", &addr]);
    let mut program = Program::start(cmd);
    let mut out = program.expect("listening") + "\n";
    let mut client = TcpStream::connect(&addr).unwrap();
    out += &(program.expect("non-blocking") + "\n");
    out += &(program.expect("waiting") + "\n");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 253) as u8).collect();
    client.write_all(&data).unwrap();
    drop(client);
    out += &(program.expect("peek") + "\n");
    out += &(program.expect("tcp:") + "\n");
    if wasm == shimmed() {
        out += &(program.expect("shim:") + "\n");
    }
    program.finish();
    out
}

#[test]
fn tcp() {
    for runtime in ["iwasm", "embedded"] {
        let want = tcp_run(&plain(), runtime);
        let got = tcp_run(&shimmed(), runtime);
        assert_eq!(
            check_counts(&got, runtime),
            want,
            "{runtime}: with and without the shim"
        );
        assert!(want.contains("tcp: 3000000 bytes"), "{runtime}: {want}");
        assert!(want.contains("Err(WouldBlock)"), "{runtime}: {want}");
    }
}
