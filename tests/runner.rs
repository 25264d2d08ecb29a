//! `wasi-downlevel run` as a harness uses a runner: killing it takes the
//! runtime down with it, it ends as the runtime ended, it leaves nothing
//! behind, it refuses what the native runner refuses, and a second run of a
//! program starts from the cache of adapted modules.

mod common;

use common::{
    example, native, run_with_input, run_with_timeout, runner, temp_dir, tool, EVERY_RUNTIME,
};
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

/// How a test harness stops a runner.
#[derive(Clone, Copy, Debug)]
enum Kill {
    /// A signal to the tool alone.
    Tool(i32),
    /// A signal to the tool's process group (the tool leads its own, as
    /// under a harness that starts each test in one).
    Group(i32),
}

/// Starts `run` of the sleeper on `runtime`, waits until the runtime is up,
/// kills as `kill` says, and returns how the tool ended.
fn kill_run(runtime: &str, kill: Kill) -> std::process::ExitStatus {
    use std::os::unix::process::CommandExt;
    let wasm = sleeper();
    let mut child = Command::new(tool())
        .args(["run", "--runtime", runtime])
        .arg(&wasm)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    // Wait for the runtime (a child of the tool naming the module).
    let start = Instant::now();
    let processes = if runtime == "embedded" { 1 } else { 2 };
    while processes_with("sleeper-for-runner-test").len() < processes {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{runtime} did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id();
    match kill {
        Kill::Tool(signal) => unsafe { libc::kill(child.id() as i32, signal) },
        Kill::Group(signal) => unsafe { libc::killpg(child.id() as i32, signal) },
    };
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
            "{runtime}: still running after {kill:?}: {left:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    // The module ran from the cache: no temp folder, even killed outright.
    let left = leftovers(pid);
    assert!(left.is_empty(), "{runtime}, {kill:?}: left {left:?}");
    status
}

#[test]
fn killed_runner_takes_the_runtime_down() {
    use std::os::unix::process::ExitStatusExt;
    for runtime in ["embedded", "wasmtime", "iwasm", "iwasm-nobulk", "node"] {
        for kill in [
            // Passed on, and the tool ends killed by it, as the runtime did.
            Kill::Tool(libc::SIGTERM),
            Kill::Tool(libc::SIGINT),
            // Killed outright: the runtime dies with it.
            Kill::Tool(libc::SIGKILL),
            // The whole group: the runtime is in it, and ends once.
            Kill::Group(libc::SIGTERM),
            Kill::Group(libc::SIGKILL),
        ] {
            let (Kill::Tool(signal) | Kill::Group(signal)) = kill;
            let status = kill_run(runtime, kill);
            assert_eq!(
                status.signal(),
                Some(signal),
                "{runtime}, {kill:?}: {status}"
            );
        }
    }
}

/// The temp folders run `pid` left.
fn leftovers(pid: u32) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(&format!("wasi-downlevel-{pid}-"))
        })
        .map(|e| e.path())
        .collect()
}

/// A run killed outright cannot remove its temp folder (with the cache
/// off, the module is there); the next run does.
#[test]
fn killed_outright_leaves_nothing_for_long() {
    let mut child = Command::new(tool())
        .env("WASI_DOWNLEVEL_CACHE", "off")
        .args(["run", "--runtime", "wasmtime"])
        .arg(sleeper())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while processes_with("sleeper-for-runner-test").len() < 2 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "wasmtime did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id();
    assert_eq!(leftovers(pid).len(), 1, "the module's folder while it runs");
    child.kill().unwrap();
    child.wait().unwrap();
    let mut next = Command::new(tool());
    next.env("WASI_DOWNLEVEL_CACHE", "off")
        .args(["run", "--runtime", "wasmtime"])
        .arg(example("hello"));
    assert!(run_with_timeout(&mut next, 60).status.success());
    assert_eq!(
        leftovers(pid),
        Vec::<std::path::PathBuf>::new(),
        "removed by the next run"
    );
}

#[test]
fn nothing_left_behind() {
    let cache = temp_dir("runner-cache");
    for rt in EVERY_RUNTIME {
        let runtime = rt.name();
        let mut cmd = runner(Some(rt));
        cmd.env("WASI_DOWNLEVEL_CACHE", &cache)
            .arg(example("hello"));
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap();
        let pid = child.id();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{runtime}");
        let left = leftovers(pid);
        assert!(left.is_empty(), "{runtime}: left {left:?}");
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

/// A second run finds its module by the input file's identity, without
/// reading the input; a file written since (another program at the same
/// path) is adapted anew.
#[test]
fn a_changed_input_is_adapted_again() {
    let cache = temp_dir("runner-cache-identity");
    let prog = cache.join("prog.wasm");
    let run = || {
        let mut cmd = Command::new(tool());
        cmd.env("WASI_DOWNLEVEL_CACHE", cache.join("c"))
            .arg("run")
            .arg(&prog)
            .args(["-", "-"]);
        run_with_input(&mut cmd, Some(b"copied"), 60)
    };
    std::fs::copy(example("hello"), &prog).unwrap();
    let hello = run();
    assert!(hello.status.success());
    assert_eq!(
        run().stdout,
        hello.stdout,
        "the same program from the cache"
    );
    let remembered = std::fs::read_dir(cache.join("c/by-identity"))
        .unwrap()
        .count();
    assert_eq!(remembered, 1, "one input file remembered");
    // A runtime that runs the cached file reads only its head (its imports)
    // on a hit: the same output, and the socket-extension check still
    // refuses a WAMR-flavour module elsewhere.
    let on_wasmtime = |p: &std::path::Path, extra: &[&str]| {
        let mut cmd = Command::new(tool());
        cmd.env("WASI_DOWNLEVEL_CACHE", cache.join("c"))
            .args(["run", "--runtime", "wasmtime"])
            .args(extra)
            .arg(p)
            .args(["-", "-"]);
        run_with_input(&mut cmd, Some(b"copied"), 60)
    };
    let first = on_wasmtime(&prog, &[]);
    assert!(first.status.success());
    assert_eq!(
        on_wasmtime(&prog, &[]).stdout,
        first.stdout,
        "a cached run on wasmtime"
    );
    let echo = cache.join("echo.wasm");
    std::fs::copy(example("tcp-echo"), &echo).unwrap();
    for _ in 0..2 {
        let refused = on_wasmtime(&echo, &["--sockets", "wamr"]);
        let err = String::from_utf8_lossy(&refused.stderr);
        assert!(
            !refused.status.success() && err.contains("socket extension"),
            "{err}"
        );
    }
    std::fs::copy(example("copy"), &prog).unwrap();
    let copy = run();
    assert!(
        copy.status.success(),
        "{}",
        String::from_utf8_lossy(&copy.stderr)
    );
    assert_eq!(
        copy.stdout, b"copied",
        "the new program, not the cached one"
    );
    // hello, tcp-echo for WAMR, copy.
    assert_eq!(
        std::fs::read_dir(cache.join("c/adapted")).unwrap().count(),
        3
    );
}

/// Runs `cmd` with stdout a pipe closed after its first 10 bytes; its exit
/// status as a shell reports it.
fn status_with_stdout_closed_early(mut cmd: Command) -> i32 {
    use std::io::Read;
    use std::os::unix::process::ExitStatusExt;
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut first = [0u8; 10];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status
                .code()
                .unwrap_or_else(|| 128 + status.signal().unwrap());
        }
        if start.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("{cmd:?} went on after its stdout closed");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A program whose stdout closes early ends as natively: one that handles
/// the error with its own status (`copy`), one that traps on it (`yes`,
/// whose `println!` panics) with the status the runtime gives a trap.
#[test]
fn closed_stdout_ends_as_natively() {
    let probe = wat::parse_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/runner/trap-status.wat"
    ))
    .unwrap();
    let probe_path = temp_dir("runner-trap").join("trap-status.wasm");
    std::fs::write(&probe_path, probe).unwrap();
    let copy_native = {
        let mut c = native();
        c.args(["--dir", "/dev::/dev"])
            .arg(example("copy"))
            .args(["/dev/zero", "-"]);
        status_with_stdout_closed_early(c)
    };
    let mut yes = native();
    yes.arg(example("yes"));
    let yes_native = status_with_stdout_closed_early(yes);
    assert_eq!((copy_native, yes_native), (1, 134), "natively");
    for rt in EVERY_RUNTIME {
        let runtime = rt.name();
        let mut c = runner(Some(rt));
        c.args(["--dir", "/dev::/dev"])
            .arg(example("copy"))
            .args(["/dev/zero", "-"]);
        assert_eq!(
            status_with_stdout_closed_early(c),
            copy_native,
            "copy on {runtime}"
        );
        // The status this runtime gives a trap (the probe), which is the
        // native one except on WAMR.
        let mut p = runner(Some(rt));
        p.arg(&probe_path);
        let trap = run_with_timeout(&mut p, 60).status.code();
        let wamr = runtime.starts_with("iwasm");
        assert_eq!(
            trap,
            Some(if wamr { 1 } else { 134 }),
            "a trap on {runtime}"
        );
        let mut y = runner(Some(rt));
        y.arg(example("yes"));
        assert_eq!(
            Some(status_with_stdout_closed_early(y)),
            trap,
            "yes on {runtime}"
        );
    }
}

/// Arguments and environment reach the program byte for byte.
#[test]
fn arguments_and_environment_pass_through() {
    let args = [
        "plain",
        "",
        "two words",
        "tab\there",
        "new\nline",
        "quote \" ' `$HOME` $(true) ; | &",
        "ünïcödé ✓ 🦀",
        "--dir",
        "-",
        "--",
        "=",
        "back\\slash",
    ];
    let args: Vec<String> = args
        .iter()
        .map(|a| a.to_string())
        .chain(["x".repeat(100_000)])
        .collect();
    let env = "GREETING=a=b ✓\n\t end";
    let mut want = native();
    want.args(["--env", env]).arg(example("hello")).args(&args);
    let want = run_with_timeout(&mut want, 60);
    assert!(want.status.success());
    for rt in EVERY_RUNTIME {
        let runtime = rt.name();
        let mut got = runner(Some(rt));
        got.args(["--env", env]).arg(example("hello")).args(&args);
        let got = run_with_timeout(&mut got, 60);
        // Only the lines about arguments and environment: the rest (times,
        // random bytes) differs run to run.
        let about = |out: &[u8]| -> Vec<String> {
            String::from_utf8_lossy(out)
                .lines()
                .filter(|l| {
                    l.starts_with("args") || l.starts_with("  arg[") || l.starts_with("GREETING")
                })
                .map(String::from)
                .collect()
        };
        assert_eq!(
            about(&got.stdout),
            about(&want.stdout),
            "{runtime}: {}",
            String::from_utf8_lossy(&got.stderr)
        );
        assert!(about(&want.stdout).len() > args.len(), "hello printed them");
    }
}

#[test]
fn non_utf8_arguments_are_refused_as_natively() {
    use std::os::unix::ffi::OsStrExt;
    let arg = std::ffi::OsStr::from_bytes(b"\xff\xfe");
    let mut want = native();
    want.arg(example("hello")).arg(arg);
    let want = run_with_timeout(&mut want, 60);
    for rt in EVERY_RUNTIME {
        let runtime = rt.name();
        let mut cmd = runner(Some(rt));
        cmd.arg(example("hello")).arg(arg);
        let got = run_with_timeout(&mut cmd, 60);
        assert_eq!(got.status.code(), want.status.code(), "{runtime}");
        let err = String::from_utf8_lossy(&got.stderr);
        assert!(
            err.contains("UTF-8") && err.contains(r#""\xFF\xFE""#),
            "{runtime}: {err}"
        );
    }
}
