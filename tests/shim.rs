//! libc-shim: the `shim-read` example, built with and without the shim,
//! gives byte-identical output on every runtime, reading files (`read`,
//! `readv`, `pread`), stdin, the same through `wasi:io/streams` directly
//! (the shim's `streams` helper), and TCP (`recv`, `readv`, `MSG_PEEK`,
//! non-blocking EAGAIN). With the shim every part's reads land in the
//! caller's buffer: the shim counts them, and counts 0 fallbacks.

mod common;

use common::{example, example_in, run_with_input, Program, RUNTIMES};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;

fn plain() -> PathBuf {
    example("shim-read")
}

fn shimmed() -> PathBuf {
    example_in("target/shim", "shim-read")
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

#[test]
fn files_and_stdin() {
    let dir = common::temp_dir("shim");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 13 % 251) as u8).collect();
    std::fs::write(dir.join("data.bin"), &data).unwrap();
    let stdin: Vec<u8> = (0..200_000u32).map(|i| (i % 97) as u8).collect();
    let run = |wasm: &Path, rt: &str, mode: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasi-downlevel"));
        cmd.args(["run", "--runtime", rt, "--dir"])
            .arg(format!("{}::/data", dir.display()))
            .arg(wasm)
            .args(mode)
            .arg("/data/data.bin");
        let out = run_with_input(&mut cmd, Some(&stdin), 120);
        assert!(
            out.status.success(),
            "{rt} {mode:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for rt in RUNTIMES {
        let rt = &format!("{rt:?}").to_lowercase();
        for mode in [&[][..], &["streams"]] {
            let want = run(&plain(), rt, mode);
            let got = run(&shimmed(), rt, mode);
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
