//! Injected host faults, nothing lost: on the embedded engine with
//! `WASI_DOWNLEVEL_FAULTS` (`cli/src/run/faults.rs`), reads and writes that
//! move fewer bytes than asked (down to one), calls that are interrupted or
//! would block, a full disk and a file the host loses. Copying a file,
//! piping stdin to stdout and serving TCP must give exactly the bytes they
//! give without faults, or the error the native host gives; never lose or
//! duplicate data.

mod common;

use common::{data, example, native, run_with_input, run_with_timeout, temp_dir, tool, Program};
use std::process::Command;

fn faulty(faults: &str) -> Command {
    let mut cmd = Command::new(tool());
    cmd.env("WASI_DOWNLEVEL_FAULTS", faults).arg("run");
    cmd
}

/// `cmd` running `copy ARGS` with `dir` as `/d` (and `/dev` if `dev`).
fn copy(mut cmd: Command, dir: &std::path::Path, dev: bool, args: &[&str]) -> Command {
    cmd.arg("--dir").arg(format!("{}::/d", dir.display()));
    if dev {
        cmd.args(["--dir", "/dev::/dev"]);
    }
    cmd.arg(example("copy")).args(args);
    cmd
}

const FAULTS: &[&str] = &[
    "short,seed=1",
    "short=1",
    "intr,again,seed=2",
    "short,intr,again,seed=3",
    "short,intr,again,seed=4",
];

#[test]
fn file_copy_loses_nothing() {
    let dir = temp_dir("faults/copy");
    let input = data(700_001, 7);
    std::fs::write(dir.join("in"), &input).unwrap();
    let want = run_with_timeout(
        &mut copy(native(), &dir, false, &["/d/in", "/d/native", "4093"]),
        120,
    );
    assert!(want.status.success());
    for faults in FAULTS {
        let mut cmd = copy(faulty(faults), &dir, false, &["/d/in", "/d/out", "4093"]);
        let got = run_with_timeout(&mut cmd, 300);
        assert_eq!(
            String::from_utf8_lossy(&got.stderr),
            String::from_utf8_lossy(&want.stderr),
            "{faults}"
        );
        assert!(got.status.success(), "{faults}");
        assert!(
            std::fs::read(dir.join("out")).unwrap() == input,
            "{faults}: the copy differs"
        );
    }
}

#[test]
fn pipe_loses_nothing() {
    let input = data(300_007, 11);
    for faults in FAULTS {
        let mut cmd = faulty(faults);
        cmd.arg(example("copy")).args(["-", "-", "1000"]);
        let got = run_with_input(&mut cmd, Some(&input), 300);
        assert!(
            got.status.success(),
            "{faults}: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert!(got.stdout == input, "{faults}: stdout differs from stdin");
    }
}

/// A full disk gives the error the native host gives for one (writing to
/// `/dev/full`), and what was written before is the input's start.
#[test]
fn full_disk_gives_the_native_error() {
    let dir = temp_dir("faults/full");
    let input = data(500_000, 13);
    std::fs::write(dir.join("in"), &input).unwrap();
    let want = run_with_timeout(
        &mut copy(native(), &dir, true, &["/d/in", "/dev/full", "4096"]),
        120,
    );
    assert_eq!(want.status.code(), Some(1));
    for faults in ["nospc=100000", "nospc=100000,short,intr,seed=5"] {
        let mut cmd = copy(faulty(faults), &dir, false, &["/d/in", "/d/out", "4096"]);
        let got = run_with_timeout(&mut cmd, 120);
        assert_eq!(got.status.code(), want.status.code(), "{faults}");
        assert_eq!(
            String::from_utf8_lossy(&got.stderr),
            String::from_utf8_lossy(&want.stderr),
            "{faults}"
        );
        let out = std::fs::read(dir.join("out")).unwrap();
        assert!(
            out.len() <= 100_000 && out[..] == input[..out.len()],
            "{faults}"
        );
    }
}

/// A file the host loses mid-copy (closed under the program) is an error the
/// program reports, never a copy that claims to be whole, and what reached
/// the output is the input's start, nothing doubled.
#[test]
fn lost_fd_is_an_error_not_a_short_copy() {
    let dir = temp_dir("faults/gone");
    let input = data(200_000, 17);
    std::fs::write(dir.join("in"), &input).unwrap();
    for (faults, failed) in [
        ("gone=10", "read"),
        ("gone=11", "write"),
        ("gone=31,short,seed=9", ""),
    ] {
        let mut cmd = copy(faulty(faults), &dir, false, &["/d/in", "/d/out", "4096"]);
        let got = run_with_timeout(&mut cmd, 120);
        let stderr = String::from_utf8_lossy(&got.stderr);
        assert_eq!(got.status.code(), Some(1), "{faults}: {stderr}");
        assert!(
            // wasi-libc reports every failed stream operation as EIO.
            stderr.starts_with(failed) && stderr.contains("(os error 29)"),
            "{faults}: {stderr}"
        );
        let out = std::fs::read(dir.join("out")).unwrap();
        assert!(
            out[..] == input[..out.len()],
            "{faults}: the copy is not the input's start"
        );
        assert!(out.len() < input.len(), "{faults}");
    }
}

#[test]
fn tcp_echo_loses_nothing() {
    for faults in ["short,intr,again,seed=6", "short=7,seed=8"] {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
        let mut cmd = faulty(faults);
        cmd.arg("--tcplisten")
            .arg(addr.to_string())
            .arg(example("tcp-echo"))
            .args(["server", &addr.to_string(), "2"]);
        let mut server = Program::start(cmd);
        server.expect("listening");
        common::tcp_echo_clients(addr, 2, 1 << 20);
        let done = server.expect("server done");
        assert_eq!(
            done,
            format!("server done: 2 clients, {} bytes echoed", 2u64 << 20),
            "{faults}"
        );
        server.finish();
    }
}
