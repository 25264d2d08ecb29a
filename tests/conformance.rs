//! Conformance: the reference host's own WASI test programs (wasmtime's
//! `crates/test-programs`, prebuilt, from `$CONFORMANCE_PROGRAMS`, by default
//! `../shared/conformance/wasmtime/programs`), each run with the setup
//! wasmtime's own harness gives it (arguments, preopens, env, stdin, the
//! expected trap or exit status), natively on the wasmtime CLI and through
//! `wasi-downlevel run` on every preview1 runtime.
//!
//! Every program that passes natively must pass on every runtime, unless
//! `tests/conformance/expected.txt` has an entry for that program and
//! runtime: an expected failure, whose preview1 probe (a small module in
//! `tests/conformance/probes/`) is run on that runtime here and must still
//! show the host itself behaves so; or "not applicable", for a policy no
//! preview1 host can be given. An entry whose program passes, or whose probe
//! no longer shows the host's behaviour, fails the test too.

mod common;

use common::{temp_dir, tool};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wasi_downlevel::run::{find, Runtime};

/// Seconds one run of a program may take.
const TIMEOUT: u64 = 120;

const TARGETS: [Target; 6] = [
    Target::Native,
    Target::Adapted(Runtime::Embedded),
    Target::Adapted(Runtime::Wasmtime),
    Target::Adapted(Runtime::Iwasm),
    Target::Adapted(Runtime::Node),
    // Lowered to WebAssembly 1.0 (`--target-features mvp`).
    Target::Adapted(Runtime::IwasmNobulk),
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    /// The wasmtime CLI as a WASI 0.2 host: the reference.
    Native,
    Adapted(Runtime),
}

impl Target {
    fn name(self) -> &'static str {
        match self {
            Target::Native => "native",
            Target::Adapted(rt) => rt.name(),
        }
    }
}

fn programs_dir() -> PathBuf {
    match std::env::var_os("CONFORMANCE_PROGRAMS") {
        Some(d) => PathBuf::from(d),
        None => {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/conformance/wasmtime/programs")
        }
    }
}

fn here(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/conformance")
        .join(p)
}

/// What stdin a run gets.
#[derive(Clone)]
enum Stdin {
    Null,
    Data(Vec<u8>),
    /// A directory opened as stdin.
    Dir(PathBuf),
}

/// One run of a program, in the runtime-neutral form of wasmtime's flags.
#[derive(Clone)]
struct Run {
    wasm: PathBuf,
    argv0: Option<String>,
    dirs: Vec<(PathBuf, String)>,
    env: Vec<String>,
    args: Vec<String>,
    stdin: Stdin,
    cwd: Option<String>,
    no_tcp: bool,
    no_udp: bool,
    no_ip_name_lookup: bool,
    max_resources: Option<u32>,
    timeout_ms: Option<u32>,
    inherit_env: Vec<(String, String)>,
}

impl Run {
    fn new(wasm: &Path) -> Run {
        Run {
            wasm: wasm.to_path_buf(),
            argv0: None,
            dirs: Vec::new(),
            env: Vec::new(),
            args: Vec::new(),
            stdin: Stdin::Null,
            cwd: None,
            no_tcp: false,
            no_udp: false,
            no_ip_name_lookup: false,
            max_resources: None,
            timeout_ms: None,
            inherit_env: Vec::new(),
        }
    }

    /// The command for `target`, or why that target cannot be given this
    /// setup (not applicable).
    fn command(&self, target: Target, socket_program: bool) -> Result<Command, String> {
        let mut cmd;
        match target {
            Target::Native => {
                cmd = Command::new(
                    find(Runtime::Wasmtime, None).expect("wasmtime: run `make runtimes`"),
                );
                cmd.arg("run").arg("-Scli-exit-with-code");
                let mut net = vec!["-Sinherit-network", "-Sallow-ip-name-lookup"];
                if self.no_tcp {
                    net = vec!["-Sinherit-network,tcp=n"];
                }
                if self.no_udp {
                    net = vec!["-Sinherit-network,udp=n"];
                }
                if self.no_ip_name_lookup {
                    net = vec!["-Sinherit-network", "-Sallow-ip-name-lookup=n"];
                }
                cmd.args(net);
                if let Some(c) = &self.cwd {
                    cmd.arg(format!("-Scwd={c}"));
                }
                if let Some(n) = self.max_resources {
                    cmd.arg(format!("-Smax-resources={n}"));
                }
                if let Some(ms) = self.timeout_ms {
                    cmd.arg(format!("-Wtimeout={ms}ms"));
                }
                if !self.inherit_env.is_empty() {
                    cmd.arg("-Sinherit-env");
                }
            }
            Target::Adapted(rt) => {
                if self.max_resources.is_some() {
                    return Err("a resource-table limit (--max-resources)".into());
                }
                if self.timeout_ms.is_some() {
                    return Err("an epoch timeout (--timeout-ms)".into());
                }
                cmd = Command::new(tool());
                cmd.arg("run").arg("--runtime").arg(target.name());
                if rt.is_wamr() && socket_program {
                    cmd.arg("--sockets").arg("wamr");
                }
                if rt == Runtime::IwasmNobulk {
                    cmd.args(["--target-features", "mvp"]);
                }
                for (flag, on) in [
                    ("--no-tcp", self.no_tcp),
                    ("--no-udp", self.no_udp),
                    ("--no-ip-name-lookup", self.no_ip_name_lookup),
                ] {
                    if on {
                        cmd.arg(flag);
                    }
                }
                if let Some(c) = &self.cwd {
                    cmd.arg("--cwd").arg(c);
                }
                for (k, _) in &self.inherit_env {
                    cmd.arg("--env").arg(k);
                }
            }
        }
        if let Some(a) = &self.argv0 {
            cmd.arg("--argv0").arg(a);
        }
        for (host, guest) in &self.dirs {
            cmd.arg("--dir").arg(format!("{}::{guest}", host.display()));
        }
        for e in &self.env {
            cmd.arg("--env").arg(e);
        }
        cmd.arg(&self.wasm).args(&self.args);
        cmd.envs(self.inherit_env.iter().cloned());
        cmd.env_remove("RUST_BACKTRACE")
            .env_remove("WASMTIME_BACKTRACE_DETAILS");
        Ok(cmd)
    }
}

/// Runs `cmd` with `stdin`, output captured, in its own process group, and
/// kills the group if it outlives `TIMEOUT`.
fn output(mut cmd: Command, stdin: &Stdin) -> Output {
    use std::os::unix::process::CommandExt;
    cmd.process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    match stdin {
        Stdin::Null => cmd.stdin(Stdio::null()),
        Stdin::Data(_) => cmd.stdin(Stdio::piped()),
        Stdin::Dir(d) => cmd.stdin(std::fs::File::open(d).unwrap()),
    };
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    if let Stdin::Data(data) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let data = data.clone();
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    wait(child, TIMEOUT)
}

fn wait(mut child: std::process::Child, secs: u64) -> Output {
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = child.stdout.take().map(|p| drain(Box::new(p)));
    let stderr = child.stderr.take().map(|p| drain(Box::new(p)));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let status = child.wait().unwrap();
            let mut err = stderr.map(|t| t.join().unwrap()).unwrap_or_default();
            err.extend_from_slice(b"\n[killed: timed out]");
            return Output {
                status,
                stdout: stdout.map(|t| t.join().unwrap()).unwrap_or_default(),
                stderr: err,
            };
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Output {
        status,
        stdout: stdout.map(|t| t.join().unwrap()).unwrap_or_default(),
        stderr: stderr.map(|t| t.join().unwrap()).unwrap_or_default(),
    }
}

/// How one program fared on one target.
#[derive(Clone, Debug)]
enum Outcome {
    Pass,
    Fail(String),
    NotApplicable(String),
}

/// Whether the run's stderr holds `text`.
fn says(out: &Output, text: &str) -> bool {
    String::from_utf8_lossy(&out.stderr).contains(text)
}

fn check(ok: bool, what: impl Into<String>, out: &Output) -> Outcome {
    if ok {
        return Outcome::Pass;
    }
    let err = String::from_utf8_lossy(&out.stderr);
    let tail: Vec<&str> = err
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(6)
        .collect();
    Outcome::Fail(format!(
        "{} (exit {:?}): {}",
        what.into(),
        out.status.code(),
        tail.join(" | ")
    ))
}

/// The setups of wasmtime's own harness (`crates/wasi/tests/all/p2/sync.rs`,
/// `tests/all/cli_tests.rs`, `tests/all/piped_tests.rs`), by program.
fn run_program(name: &str, wasm: &Path, target: Target) -> Option<Outcome> {
    let sockets =
        name.starts_with("p2_tcp_") || name.starts_with("p2_udp_") || name == "p2_ip_name_lookup";
    let go = |run: &Run| -> Result<Output, Outcome> {
        let cmd = run
            .command(target, sockets)
            .map_err(Outcome::NotApplicable)?;
        Ok(output(cmd, &run.stdin))
    };
    macro_rules! go {
        ($run:expr) => {
            match go(&$run) {
                Ok(out) => out,
                Err(na) => return Some(na),
            }
        };
    }
    let simple = |out: &Output| check(out.status.success(), "exit status", out);
    let scratch = temp_dir(&format!("conformance/{name}-{}", target.name()));
    let mut run = Run::new(wasm);

    if name.starts_with("p2_http_")
        || name.starts_with("p2_tls_")
        || name.starts_with("p2_api_proxy")
    {
        return None;
    }
    if name.starts_with("piped_") {
        return Some(piped(&run, target));
    }
    if name.starts_with("p1_cli_") || name.starts_with("p2_cli_") {
        let w = |p: &str, data: &[u8]| std::fs::write(scratch.join(p), data).unwrap();
        return Some(match name {
            "p2_cli_hello_stdout"
            | "p2_cli_exit_success"
            | "p2_cli_exit_default"
            | "p2_cli_default_clocks"
            | "p2_cli_export_cabi_realloc"
            | "p2_cli_sleep" => simple(&go!(run)),
            "p2_cli_args" => {
                run.args = ["hello", "this", "", "is an argument", "with 🚩 emoji"]
                    .map(String::from)
                    .to_vec();
                simple(&go!(run))
            }
            "p2_cli_initial_cwd" => {
                run.cwd = Some("/sandbox".into());
                simple(&go!(run))
            }
            "p2_cli_stdin_empty" | "p2_cli_stdin" => {
                let data: &[u8] = if name.ends_with("empty") {
                    b"not to be read"
                } else {
                    b"So rested he by the Tumtum tree"
                };
                run.stdin = Stdin::Data(data.to_vec());
                simple(&go!(run))
            }
            "p2_cli_splice_stdin" => {
                let msg = b"So rested he by the Tumtum tree";
                run.stdin = Stdin::Data(msg.to_vec());
                let out = go!(run);
                let want = [
                    &b"before splice\n"[..],
                    msg,
                    format!("\ncompleted splicing {} bytes\n", msg.len()).as_bytes(),
                ]
                .concat();
                check(out.status.success() && out.stdout == want, "stdout", &out)
            }
            "p2_cli_stdout_epipe" => stdout_closed_early(&run, target, 64, |first, out| {
                check(
                    !first.is_empty()
                        && out.status.success()
                        && says(out, "got expected StreamError::Closed"),
                    "closed stdout",
                    out,
                )
            }),
            "p2_cli_stdio_write_flushes" => stdout_closed_early(&run, target, 10, |first, out| {
                check(
                    first == b"> " && out.status.success(),
                    format!("first bytes {first:?}"),
                    out,
                )
            }),
            "p2_cli_stdin_eisdir" => {
                run.stdin = Stdin::Dir(scratch.clone());
                let out = go!(run);
                check(
                    out.status.success() && says(&out, "got expected ErrorCode::IsDirectory"),
                    "is-directory",
                    &out,
                )
            }
            "p2_cli_env" => {
                run.env = vec!["frabjous=day".into(), "callooh=callay".into()];
                simple(&go!(run))
            }
            "p2_cli_file_read" | "p2_cli_file_append" | "p2_cli_file_dir_sync" => {
                w(
                    "bar.txt",
                    if name == "p2_cli_file_read" {
                        b"And stood awhile in thought"
                    } else {
                        b"'Twas brillig, and the slithy toves.\n"
                    },
                );
                run.dirs.push((scratch.clone(), "/".into()));
                let out = go!(run);
                if name == "p2_cli_file_append" {
                    let got = std::fs::read(scratch.join("bar.txt")).unwrap();
                    let want = b"'Twas brillig, and the slithy toves.\nDid gyre and gimble in the wabe;\nAll mimsy were the borogoves,\nAnd the mome raths outgrabe.\n";
                    check(out.status.success() && got == want, "appended file", &out)
                } else {
                    simple(&out)
                }
            }
            "p2_cli_exit_failure" => {
                let out = go!(run);
                check(out.status.code() == Some(1), "exit status 1", &out)
            }
            "p2_cli_exit_with_code" => {
                let out = go!(run);
                check(out.status.code() == Some(42), "exit status 42", &out)
            }
            "p2_cli_exit_panic" => {
                let out = go!(run);
                check(
                    !out.status.success() && says(&out, "Curiouser and curiouser!"),
                    "panic message",
                    &out,
                )
            }
            "p2_cli_directory_list" => {
                for f in ["foo.txt", "bar.txt", "baz.txt"] {
                    w(f, b"");
                }
                std::fs::create_dir(scratch.join("sub")).unwrap();
                w("sub/wow.txt", b"");
                w("sub/yay.txt", b"");
                run.dirs.push((scratch.clone(), "/".into()));
                simple(&go!(run))
            }
            "p2_cli_no_tcp" | "p2_cli_no_udp" | "p2_cli_no_ip_name_lookup" => {
                run.no_tcp = name == "p2_cli_no_tcp";
                run.no_udp = name == "p2_cli_no_udp";
                run.no_ip_name_lookup = name == "p2_cli_no_ip_name_lookup";
                simple(&go!(run))
            }
            "p2_cli_sleep_forever" => {
                run.timeout_ms = Some(250);
                let out = go!(run);
                check(
                    !out.status.success() && says(&out, "interrupt"),
                    "epoch interrupt trap",
                    &out,
                )
            }
            "p2_cli_large_env" => {
                run.inherit_env = (0..512)
                    .map(|i| (format!("KEY{i}"), "x".repeat(1024)))
                    .collect();
                simple(&go!(run))
            }
            "p2_cli_argv0" => {
                run.argv0 = Some("b".into());
                run.args = vec!["b".into()];
                simple(&go!(run))
            }
            "p2_cli_multiple_preopens" => {
                for g in ["/a", "/b", "/c"] {
                    run.dirs.push(("/".into(), g.into()));
                }
                simple(&go!(run))
            }
            "p2_cli_much_stdout" | "p1_cli_much_stdout" => {
                for i in 10..15 {
                    run.args = vec!["a".repeat(1 << i), ((1 << 18) >> i).to_string()];
                    let out = go!(run);
                    if !(out.status.success() && out.stdout == vec![b'a'; 1 << 18]) {
                        return Some(check(
                            false,
                            format!("i={i}: {} bytes", out.stdout.len()),
                            &out,
                        ));
                    }
                }
                Outcome::Pass
            }
            "p2_cli_max_resources" => {
                run.max_resources = Some(50);
                let out = go!(run);
                if out.status.success() || !says(&out, "resource table has no free keys") {
                    return Some(check(false, "limit 50 exceeded", &out));
                }
                run.max_resources = Some(200);
                simple(&go!(run))
            }
            "p2_cli_many_resources" => {
                run.max_resources = Some(100);
                let out = go!(run);
                check(
                    !out.status.success() && says(&out, "resource table has no free keys"),
                    "limit exceeded",
                    &out,
                )
            }
            // serve, http, hostcall fuel, async invoke: the wasmtime CLI's own features.
            _ => return None,
        });
    }
    if name.starts_with("p2_api_") || name == "p1_stdio_isatty" {
        // Reactor/proxy worlds, fake clocks, read-only preopens, a terminal:
        // what the wasmtime CLI cannot give either.
        return None;
    }
    if READONLY.contains(&name) || name == "p2_file_stream_not_permitted" {
        // Read-only preopens: the wasmtime CLI has none either.
        return None;
    }
    // crates/wasi/tests/all/p2/sync.rs
    if name == "p1_stat_extreme_host_mtime" {
        let f = scratch.join("extreme.dat");
        std::fs::write(&f, b"hello").unwrap();
        let file = std::fs::File::options().write(true).open(&f).unwrap();
        for secs in [-(i64::MAX / 1_000_000_000), -11_644_473_600, -1] {
            let t = if secs < 0 {
                std::time::SystemTime::UNIX_EPOCH
                    .checked_sub(Duration::from_secs(secs.unsigned_abs()))
            } else {
                None
            };
            if let Some(t) = t {
                if file
                    .set_times(std::fs::FileTimes::new().set_accessed(t).set_modified(t))
                    .is_ok()
                {
                    break;
                }
            }
        }
    }
    run.argv0 = Some(name.into());
    run.dirs.push((scratch.clone(), ".".into()));
    run.env.push("ERRNO_MODE_UNIX=1".into());
    run.args.push(".".into());
    let out = go!(run);
    Some(match EXPECT_TRAP.iter().find(|(n, _)| *n == name) {
        Some((_, reason)) => check(
            !out.status.success() && says(&out, reason),
            format!("trap '{reason}'"),
            &out,
        ),
        None => simple(&out),
    })
}

const EXPECT_TRAP: [(&str, &str); 3] = [
    ("p2_stream_pollable_traps", "resource has children"),
    ("p2_pollable_traps", "empty poll list"),
    (
        "p2_udp_send_too_much",
        "unpermitted: argument exceeds permitted size",
    ),
];

const READONLY: [&str; 6] = [
    "p1_file_truncation_readonly",
    "p2_file_truncation_readonly",
    "p1_file_hardlink_across_perms",
    "p2_file_hardlink_across_perms",
    "p1_file_rename_across_perms",
    "p2_file_rename_across_perms",
];

/// Runs with stdout a pipe the test reads `n` bytes from and then closes;
/// `judge` gets those bytes and the run's output.
fn stdout_closed_early(
    run: &Run,
    target: Target,
    n: usize,
    judge: impl Fn(&[u8], &Output) -> Outcome,
) -> Outcome {
    use std::os::unix::process::CommandExt;
    let mut cmd = match run.command(target, false) {
        Ok(c) => c,
        Err(na) => return Outcome::NotApplicable(na),
    };
    cmd.process_group(0)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    let stdin = child.stdin.take();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = vec![0u8; n];
    let got = stdout.read(&mut first).unwrap_or(0);
    first.truncate(got);
    drop(stdout);
    drop(stdin);
    let out = wait(child, TIMEOUT);
    judge(&first, &out)
}

/// `piped_*`: a producer's stdout piped into a consumer's stdin.
fn piped(run: &Run, target: Target) -> Outcome {
    use std::os::unix::process::CommandExt;
    let side = |s: &str| {
        let mut r = run.clone();
        r.env.push(format!("PIPED_SIDE={s}"));
        r.command(target, false)
    };
    let (mut prod, mut cons) = match (side("PRODUCER"), side("CONSUMER")) {
        (Ok(p), Ok(c)) => (p, c),
        (Err(na), _) | (_, Err(na)) => return Outcome::NotApplicable(na),
    };
    prod.process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut p = prod.spawn().unwrap();
    cons.process_group(0)
        .stdin(p.stdout.take().unwrap())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let c = cons.spawn().unwrap();
    let pout = wait(p, TIMEOUT);
    let cout = wait(c, TIMEOUT);
    if !pout.status.success() {
        return check(false, "producer", &pout);
    }
    check(cout.status.success(), "consumer", &cout)
}

/// One line of `expected.txt`.
struct Expected {
    runtimes: Vec<String>,
    not_applicable: bool,
    /// The probe and the exit status it must give on those runtimes.
    probe: Option<(String, i32, Vec<String>)>,
    reason: String,
}

/// `PROGRAM RUNTIME[,RUNTIME...] na|fail [probe=FILE exit=N [setup...]] -- REASON`
fn expected() -> BTreeMap<String, Vec<Expected>> {
    let text =
        std::fs::read_to_string(here("expected.txt")).expect("tests/conformance/expected.txt");
    let mut map: BTreeMap<String, Vec<Expected>> = BTreeMap::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (fields, reason) = line
            .split_once(" -- ")
            .unwrap_or_else(|| panic!("expected.txt:{}: no ` -- REASON`", i + 1));
        let f: Vec<&str> = fields.split_whitespace().collect();
        assert!(
            f.len() >= 3,
            "expected.txt:{}: want PROGRAM RUNTIMES KIND",
            i + 1
        );
        let not_applicable = match f[2] {
            "na" => true,
            "fail" => false,
            k => panic!("expected.txt:{}: kind {k:?} is not na or fail", i + 1),
        };
        let get = |key: &str| f.iter().find_map(|x| x.strip_prefix(key));
        let probe = get("probe=").map(|p| {
            let exit = get("exit=")
                .and_then(|e| e.parse().ok())
                .unwrap_or_else(|| panic!("expected.txt:{}: probe without exit=N", i + 1));
            let setup = f
                .iter()
                .filter(|x| x.starts_with("setup="))
                .map(|x| x[6..].to_string())
                .collect();
            (p.to_string(), exit, setup)
        });
        assert!(
            not_applicable || probe.is_some(),
            "expected.txt:{}: an expected failure needs its probe",
            i + 1
        );
        assert!(reason.trim().len() > 20, "expected.txt:{}: say why", i + 1);
        map.entry(f[0].to_string()).or_default().push(Expected {
            runtimes: f[1].split(',').map(String::from).collect(),
            not_applicable,
            probe,
            reason: reason.trim().to_string(),
        });
    }
    map
}

/// Runs probe `file` on `runtime` (as a preview1 module, as it is) and
/// returns its exit status.
fn probe(file: &str, runtime: &str, setup: &[String]) -> i32 {
    let wasm =
        wat::parse_file(here("probes").join(file)).unwrap_or_else(|e| panic!("probe {file}: {e}"));
    let dir = temp_dir(&format!("conformance/probe-{file}-{runtime}"));
    let path = dir.join("probe.wasm");
    std::fs::write(&path, wasm).unwrap();
    let scratch = dir.join("scratch");
    std::fs::create_dir(&scratch).unwrap();
    let mut cmd = Command::new(tool());
    cmd.arg("run").arg("--runtime").arg(runtime);
    let mut stdin = Stdin::Null;
    for s in setup {
        match s.as_str() {
            "dir" => {
                cmd.arg("--dir").arg(format!("{}::.", scratch.display()));
            }
            "stdin-dir" => stdin = Stdin::Dir(scratch.clone()),
            "stdin-pipe" => stdin = Stdin::Data(b"data".to_vec()),
            "wamr" => {
                cmd.arg("--sockets").arg("wamr");
            }
            other => panic!("probe setup {other:?} unknown"),
        }
    }
    cmd.arg(&path);
    output(cmd, &stdin).status.code().unwrap_or(-1)
}

#[test]
fn conformance() {
    let dir = programs_dir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e}: the conformance programs are missing (set CONFORMANCE_PROGRAMS, or build them with \
                 shared/conformance/wasmtime/harness/build_programs.sh)",
                dir.display()
            )
        })
        .filter_map(|e| e.ok()?.file_name().to_str()?.strip_suffix(".wasm").map(String::from))
        .collect();
    names.sort();
    assert!(
        names.len() > 100,
        "only {} programs in {}",
        names.len(),
        dir.display()
    );
    let expected = expected();

    // Programs in parallel, each program's targets in turn.
    let results: Mutex<BTreeMap<String, Vec<(Target, Outcome)>>> = Mutex::new(BTreeMap::new());
    let next = Mutex::new(names.iter());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| loop {
                let Some(name) = next.lock().unwrap().next() else {
                    break;
                };
                let wasm = dir.join(format!("{name}.wasm"));
                let mut row = Vec::new();
                for t in TARGETS {
                    match run_program(name, &wasm, t) {
                        Some(o) => row.push((t, o)),
                        None => break,
                    }
                    // Only what passes natively is compared.
                    if !matches!(row[0].1, Outcome::Pass) {
                        break;
                    }
                }
                results.lock().unwrap().insert(name.clone(), row);
            });
        }
    });
    let results = results.into_inner().unwrap();

    let mut problems: Vec<String> = Vec::new();
    let mut probed: BTreeMap<(String, &str, Vec<String>), i32> = BTreeMap::new();
    let mut table: BTreeMap<&str, [usize; 4]> = BTreeMap::new();
    let mut skipped = 0;
    for (name, row) in &results {
        let Some((_, native)) = row.first() else {
            skipped += 1;
            continue;
        };
        if !matches!(native, Outcome::Pass) {
            problems.push(format!("{name} natively: {native:?}"));
            continue;
        }
        for (t, outcome) in &row[1..] {
            let rt = t.name();
            let entry = expected
                .get(name)
                .and_then(|es| es.iter().find(|e| e.runtimes.iter().any(|r| r == rt)));
            let counts = table.entry(rt).or_default();
            match (outcome, entry) {
                (Outcome::Pass, None) => counts[0] += 1,
                (Outcome::Pass, Some(e)) => problems.push(format!(
                    "{name} on {rt}: passes, but expected.txt says: {}",
                    e.reason
                )),
                (Outcome::NotApplicable(_), Some(e)) if e.not_applicable => counts[2] += 1,
                (Outcome::Fail(why), Some(e)) if !e.not_applicable => {
                    let (file, exit, setup) = e.probe.as_ref().unwrap();
                    let key = (file.clone(), rt, setup.clone());
                    let got = *probed.entry(key).or_insert_with(|| probe(file, rt, setup));
                    if got == *exit {
                        counts[1] += 1;
                    } else {
                        problems.push(format!(
                            "{name} on {rt}: fails ({why}), and probe {file} exits {got}, not {exit}: the host no longer shows it"
                        ));
                    }
                }
                (Outcome::NotApplicable(why), _) => {
                    counts[3] += 1;
                    problems.push(format!(
                        "{name} on {rt}: cannot be given {why}, and expected.txt has no `na` entry"
                    ));
                }
                (Outcome::Fail(why), _) => {
                    counts[3] += 1;
                    problems.push(format!("{name} on {rt}: {why}"));
                }
            }
        }
    }
    for (name, es) in &expected {
        if !results.contains_key(name) {
            problems.push(format!(
                "expected.txt names {name}, which is not among the programs"
            ));
        }
        for e in es {
            for rt in &e.runtimes {
                assert!(
                    TARGETS
                        .iter()
                        .any(|t| t.name() == rt && *t != Target::Native),
                    "expected.txt: runtime {rt}?"
                );
            }
        }
    }
    let natively = results
        .values()
        .filter(|r| matches!(r.first(), Some((_, Outcome::Pass))))
        .count();
    println!("\nwasmtime's WASI test programs: {natively} pass natively (wasmtime CLI), {skipped} not run (the CLI's own features or policies it cannot give either)\n");
    println!(
        "| runtime | pass | expected failure (host, with probe) | not applicable (policy) | fail |"
    );
    println!("|---|---|---|---|---|");
    for t in &TARGETS[1..] {
        let c = table.get(t.name()).copied().unwrap_or_default();
        println!(
            "| {} | {} | {} | {} | {} |",
            t.name(),
            c[0],
            c[1],
            c[2],
            c[3]
        );
    }
    println!();
    assert!(
        problems.is_empty(),
        "{} problem(s):\n{}",
        problems.len(),
        problems.join("\n")
    );
}
