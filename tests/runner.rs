//! `wasi-downlevel run` as a harness uses a runner: killing it takes the
//! runtime down with it, it ends as the runtime ended, it leaves nothing
//! behind, it refuses what the native runner refuses, and a second run of a
//! program starts from the cache of adapted modules.

mod common;

use common::{example, run_with_timeout, temp_dir, tool};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A preview1 command that waits ten minutes (run as it is).
fn sleeper() -> std::path::PathBuf {
    let wasm = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
            (memory (export "memory") 1)
            (func (export "_start")
                ;; one relative clock subscription of 600 s
                (i64.store (i32.const 0) (i64.const 1))
                (i32.store8 (i32.const 8) (i32.const 0))
                (i32.store (i32.const 16) (i32.const 1))
                (i64.store (i32.const 24) (i64.const 600000000000))
                (drop (call $poll (i32.const 0) (i32.const 100) (i32.const 1) (i32.const 200)))))"#,
    )
    .unwrap();
    let dir = temp_dir("runner-sleeper");
    let path = dir.join("sleeper-for-runner-test.wasm");
    std::fs::write(&path, wasm).unwrap();
    path
}

/// Pids of processes whose command line mentions `needle`.
fn processes_with(needle: &str) -> Vec<u32> {
    let mut pids = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        if pid == std::process::id() {
            continue;
        }
        if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
            if String::from_utf8_lossy(&cmdline).contains(needle) {
                pids.push(pid);
            }
        }
    }
    pids
}

/// Starts `run` of the sleeper on `runtime`, waits until the runtime is up,
/// sends `signal` to the tool alone, and returns how the tool ended.
fn kill_run(runtime: &str, signal: i32) -> std::process::ExitStatus {
    let wasm = sleeper();
    let mut child = Command::new(tool())
        .args(["run", "--runtime", runtime])
        .arg(&wasm)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Wait for the runtime (a child of the tool naming the module).
    let start = Instant::now();
    while processes_with("sleeper-for-runner-test").len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{runtime} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    unsafe { libc::kill(child.id() as i32, signal) };
    let status = child.wait().unwrap();
    // Nothing of it left running.
    let start = Instant::now();
    loop {
        let left = processes_with("sleeper-for-runner-test");
        if left.is_empty() {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{runtime}: still running after the tool got signal {signal}: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    status
}

#[test]
fn killed_runner_takes_the_runtime_down() {
    use std::os::unix::process::ExitStatusExt;
    for runtime in ["wasmtime", "iwasm", "node"] {
        // Passed on, and the tool ends killed by it, as the runtime did.
        let status = kill_run(runtime, libc::SIGTERM);
        assert_eq!(status.signal(), Some(libc::SIGTERM), "{runtime}: {status}");
        // Killed outright: the runtime dies with it.
        let status = kill_run(runtime, libc::SIGKILL);
        assert_eq!(status.signal(), Some(libc::SIGKILL), "{runtime}: {status}");
    }
}

#[test]
fn nothing_left_behind() {
    let cache = temp_dir("runner-cache");
    for runtime in ["embedded", "wasmtime", "iwasm", "node"] {
        let mut cmd = Command::new(tool());
        cmd.env("WASI_DOWNLEVEL_CACHE", &cache)
            .args(["run", "--runtime", runtime])
            .arg(example("hello"));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{runtime}");
        let leftovers: Vec<_> = std::fs::read_dir(std::env::temp_dir())
            .unwrap()
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("wasi-downlevel-{pid}-"))
            })
            .collect();
        assert!(leftovers.is_empty(), "{runtime}: left {leftovers:?}");
    }
}

#[test]
fn second_run_comes_from_the_cache() {
    let cache = temp_dir("runner-cache-hit");
    let run = || {
        let mut cmd = Command::new(tool());
        cmd.env("WASI_DOWNLEVEL_CACHE", &cache)
            .arg("run")
            .arg(example("hello"));
        run_with_timeout(&mut cmd, 60)
    };
    let first = run();
    let entries = |d: &std::path::Path| std::fs::read_dir(d).map_or(0, |r| r.count());
    assert_eq!(
        entries(&cache.join("adapted")),
        1,
        "one adapted module cached"
    );
    // A cached module that is not the adapted one runs instead: proof the
    // second run does not adapt again.
    let entry = std::fs::read_dir(cache.join("adapted"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let second = run();
    assert_eq!(first.stdout, second.stdout);
    let other = wat::parse_str(
        r#"(module
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 1)
            (func (export "_start") (call $exit (i32.const 42))))"#,
    )
    .unwrap();
    std::fs::write(entry.join("module.wasm"), other).unwrap();
    assert_eq!(run().status.code(), Some(42));
    // Off: nothing is kept.
    let off = temp_dir("runner-cache-off");
    let mut cmd = Command::new(tool());
    cmd.env("WASI_DOWNLEVEL_CACHE", "off")
        .env("XDG_CACHE_HOME", &off)
        .arg("run")
        .arg(example("hello"));
    assert!(run_with_timeout(&mut cmd, 60).status.success());
    assert_eq!(entries(&off), 0);
}

#[test]
fn non_utf8_arguments_are_refused_as_natively() {
    use std::os::unix::ffi::OsStrExt;
    let arg = std::ffi::OsStr::from_bytes(b"\xff\xfe");
    let mut native = Command::new(
        wasi_downlevel::run::find(wasi_downlevel::run::Runtime::Wasmtime, None).unwrap(),
    );
    native.arg("run").arg(example("hello")).arg(arg);
    let want = run_with_timeout(&mut native, 60);
    let mut cmd = Command::new(tool());
    cmd.arg("run").arg(example("hello")).arg(arg);
    let got = run_with_timeout(&mut cmd, 60);
    assert_eq!(got.status.code(), want.status.code());
    let err = String::from_utf8_lossy(&got.stderr);
    assert!(
        err.contains("UTF-8") && err.contains(r#""\xFF\xFE""#),
        "{err}"
    );
}
