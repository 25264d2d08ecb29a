//! Resource exhaustion and memory growth (`examples/stress`): tens of
//! thousands of live handles, a host's fd limit, poll lists of tens of
//! thousands of pollables, the adapter's heap running out, the adapter's
//! state growing beside a program's full heap, and the heap growing by
//! hundreds of MB while reads are under way. Adapted and run on every
//! preview1 runtime, each must give what the same component gives run
//! natively on the wasmtime CLI (same stdout, stderr and exit status), and
//! the native run must itself pass the program's checks. Where the adapter
//! has no native counterpart (its heap lives in the program's memory, so
//! only an adapted program can exhaust it) the run must trap, saying it is
//! out of memory.

#![cfg(unix)]

mod common;

use common::{data, example, fnv, run_with_input, runner, temp_dir, tool, EVERY_RUNTIME};
use std::path::PathBuf;
use std::process::{Command, Output};
use wasi_downlevel::run::Runtime;

const TIMEOUT: u64 = 60;

/// The file the programs open many times: 65521 bytes.
fn sample_dir(name: &str) -> PathBuf {
    let dir = temp_dir(&format!("exhaustion/{name}"));
    std::fs::write(dir.join("sample"), data(65521, 3)).unwrap();
    dir
}

/// This process's fd limit (soft, hard).
#[allow(clippy::unnecessary_cast)] // `rlim_t` is `u64` here, not everywhere
fn fd_limit() -> (u64, u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
    (lim.rlim_cur as u64, lim.rlim_max as u64)
}

/// One program, run natively and adapted on every runtime.
struct Case<'a> {
    program: &'a str,
    args: &'a [&'a str],
    /// The directory preopened as `/d` for a run (named `native` or by its
    /// runtime): the same one, or a fresh one for programs that write.
    dir: &'a dyn Fn(&str) -> PathBuf,
    stdin: Option<&'a [u8]>,
    /// The fd limit of the runtime's process (the native one too), soft and
    /// hard: Node raises its soft limit to the hard one when it starts.
    fds: Option<u64>,
}

impl Case<'_> {
    fn run(&self, runtime: Option<Runtime>) -> Output {
        let name = runtime.map_or("native", |r| r.name());
        let mut cmd = runner(runtime);
        cmd.arg("--dir")
            .arg(format!("{}::/d", (self.dir)(name).display()))
            .arg(example(self.program))
            .args(self.args)
            .env_remove("RUST_BACKTRACE");
        if let Some(n) = self.fds {
            let hard = fd_limit().1;
            assert!(n <= hard, "fd limit {n} above the hard limit {hard}");
            use std::os::unix::process::CommandExt;
            // SAFETY: only setrlimit between fork and exec.
            unsafe {
                cmd.pre_exec(move || {
                    let lim = libc::rlimit {
                        rlim_cur: n as libc::rlim_t,
                        rlim_max: n as libc::rlim_t,
                    };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        run_with_input(&mut cmd, self.stdin, TIMEOUT)
    }

    /// Runs natively, checks that run with `check`, then adapted on every
    /// runtime, which must give the same; reports every runtime that does
    /// not at once.
    fn check(&self, check: impl Fn(&str)) -> Output {
        let want = self.run(None);
        let stdout = String::from_utf8_lossy(&want.stdout).into_owned();
        assert!(
            want.status.success(),
            "native {} {:?}: {}\n{stdout}",
            self.program,
            self.args,
            String::from_utf8_lossy(&want.stderr)
        );
        check(&stdout);
        let failures: Vec<String> = EVERY_RUNTIME
            .iter()
            .filter_map(|&rt| {
                differs(&self.run(Some(rt)), &want).map(|d| format!("{}: {d}", rt.name()))
            })
            .collect();
        assert!(
            failures.is_empty(),
            "{} {:?} differs from native on {} runtime(s):\n{}",
            self.program,
            self.args,
            failures.len(),
            failures.join("\n")
        );
        want
    }
}

/// How `got` differs from `want`, if it does.
fn differs(got: &Output, want: &Output) -> Option<String> {
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    let mut out = Vec::new();
    if got.status.code() != want.status.code() {
        out.push(format!(
            "exit status {:?}, native {:?}",
            got.status,
            want.status.code()
        ));
    }
    for (what, g, w) in [
        ("stdout", text(&got.stdout), text(&want.stdout)),
        ("stderr", text(&got.stderr), text(&want.stderr)),
    ] {
        if g != w {
            let line = g
                .lines()
                .zip(w.lines())
                .position(|(a, b)| a != b)
                .unwrap_or(g.lines().count().min(w.lines().count()));
            out.push(format!(
                "{what} differs from line {}: {:?}, native {:?}",
                line + 1,
                g.lines().nth(line).unwrap_or("<end>"),
                w.lines().nth(line).unwrap_or("<end>")
            ));
        }
    }
    (!out.is_empty()).then(|| out.join("; "))
}

/// Every poll line of the program said its result was exactly the ready
/// set it expected, and no count fell short.
fn all_as_expected(out: &str) {
    for line in out.lines() {
        assert!(!line.contains("as expected false"), "{line}\n{out}");
        assert!(!line.contains("wrong"), "{line}\n{out}");
        assert!(!line.contains("false"), "{line}\n{out}");
        // "read A/B", "N/N": every count complete.
        for word in line.split([' ', ',']) {
            if let Some((a, b)) = word.split_once('/') {
                if let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) {
                    assert_eq!(a, b, "{line}");
                }
            }
        }
    }
}

/// Tens of thousands of live handles: descriptors, streams on them, their
/// pollables, clocks; all used, a third replaced while the rest live (so
/// handles are reused around live ones), all dropped, twice. The fd limit
/// leaves room for one round's files only, so an fd leaked by a round fails
/// the next one, and the last reopening.
#[test]
fn tens_of_thousands_of_handles() {
    let dir = sample_dir("handles");
    // Peak: every descriptor, plus half of them again (replaced while their
    // streams keep the old files open); the runtimes use ~20 of their own.
    let hard = fd_limit().1;
    let fds = 2000.min((hard.saturating_sub(128)) * 2 / 3);
    assert!(
        fds >= 200,
        "the hard fd limit ({hard}) is too low for this test"
    );
    let limit = fds * 3 / 2 + 128;
    let fds_arg = fds.to_string();
    let case = Case {
        program: "stress",
        args: &["handles", &fds_arg, "5", "10000", "2"],
        dir: &|_| dir.clone(),
        stdin: None,
        fds: Some(limit),
    };
    let want = case.check(all_as_expected);
    let out = String::from_utf8_lossy(&want.stdout);
    let live = fds + fds * 5 * 2 + 10000;
    assert!(
        out.contains(&format!("round 1: {live} live handles;")),
        "{out}"
    );
    assert!(
        out.contains(&format!("reopened {fds} descriptors")),
        "{out}"
    );
}

/// Opening a file until the host's fd limit refuses: the same error as
/// natively (`io`: no error-code stands for EMFILE), the files opened before
/// it intact, streams over them still possible, the same again after closing
/// them all (so nothing leaked), and files open again once they are closed.
#[test]
fn fd_limit_gives_the_native_error() {
    let dir = sample_dir("fdlimit");
    let case = Case {
        program: "stress",
        args: &["fdlimit", "1000"],
        dir: &|_| dir.clone(),
        stdin: None,
        fds: Some(256.min(fd_limit().0)),
    };
    let want = case.check(all_as_expected);
    let out = String::from_utf8_lossy(&want.stdout);
    assert!(out.starts_with("first pass: Some(ErrorCode"), "{out}");
    assert!(
        out.contains("as many as the first (but for the host's own): true"),
        "{out}"
    );
}

/// `poll` with 30000 and more pollables: duplicates of one and distinct
/// ones, clocks due and far in the future, file streams, a short timer
/// among far ones, 50000 duplicates of one pending timer, and stdin (a pipe)
/// among clocks, before and after its end.
#[test]
fn deep_poll_lists() {
    let dir = sample_dir("poll");
    let input = data(100_000, 5);
    let case = Case {
        program: "stress",
        args: &["poll", "30000"],
        dir: &|_| dir.clone(),
        stdin: Some(&input),
        fds: None,
    };
    let want = case.check(all_as_expected);
    let out = String::from_utf8_lossy(&want.stdout);
    assert_eq!(out.matches("as expected true").count(), 7, "{out}");
    assert!(out.contains("stdin: 100000 bytes"), "{out}");
}

/// The adapter's heap runs out (the program has taken all memory but 64
/// pages): making handles until its table cannot grow, or one poll of a list
/// so long its copy cannot fit, traps saying so, after every result it gave
/// was right. With a 64 MiB maximum on every runtime, and at the 4 GiB limit
/// itself where the adapter's last pages end the address space (not on the
/// embedded engine: wasmi commits the whole 4 GiB, 4.2 GB and 8 s a run).
#[test]
fn adapter_heap_exhaustion_traps() {
    let runs = EVERY_RUNTIME
        .iter()
        .map(|&rt| (rt, "stress-oom", "1024"))
        .chain(
            EVERY_RUNTIME
                .iter()
                .filter(|&&rt| rt != Runtime::Embedded)
                .map(|&rt| (rt, "stress", "65536")),
        );
    let mut failures = Vec::new();
    let mut stdouts: Vec<(String, String, String)> = Vec::new();
    for (rt, program, max) in runs {
        for (what, func) in [
            ("handles", "wasi:clocks/monotonic-clock#subscribe-duration"),
            ("poll", "wasi:io/poll#poll"),
        ] {
            let mut cmd = Command::new(tool());
            cmd.args(["run", "--runtime", rt.name()]);
            if rt == Runtime::IwasmNobulk {
                cmd.args(["--target-features", "mvp"]);
            }
            cmd.arg(example(program))
                .args(["oom", what, max, "64"])
                .env_remove("RUST_BACKTRACE");
            let got = run_with_input(&mut cmd, None, TIMEOUT);
            // The program's lines, without iwasm's own report of the trap.
            let stdout: String = String::from_utf8_lossy(&got.stdout)
                .lines()
                .filter(|l| !(rt.is_wamr() && l.starts_with("Exception: ")))
                .map(|l| format!("{l}\n"))
                .collect();
            let stderr = String::from_utf8_lossy(&got.stderr);
            let trap = format!("wasi-downlevel: trap: out of memory (in {func})\n");
            let grown = format!(
                "oom: {what}\nmemory grown to {} pages, 64 below {max}\n",
                max.parse::<u32>().unwrap() - 64
            );
            let mut bad = Vec::new();
            if got.status.success() || got.status.code().is_none() {
                bad.push(format!("exit status {:?}, not a trap's", got.status));
            }
            if !stderr.starts_with(&trap) {
                bad.push(format!("stderr {:?}", stderr.lines().next().unwrap_or("")));
            }
            if !stdout.starts_with(&grown) {
                bad.push(format!("stdout {stdout:?}"));
            }
            // Handles made (and checked) in the last pages before the trap.
            if what == "handles" && !stdout.contains("4096 handles, the last 4096 polled right") {
                bad.push(format!("no handles made: {stdout:?}"));
            }
            if !bad.is_empty() {
                failures.push(format!(
                    "{} {program} oom {what}: {}",
                    rt.name(),
                    bad.join("; ")
                ));
            }
            stdouts.push((format!("{program} {what}"), rt.name().into(), stdout));
        }
    }
    // The adapter allocates the same way everywhere: as many handles.
    for (run, rt, out) in &stdouts {
        let (_, first, want) = stdouts.iter().find(|(r, _, _)| r == run).unwrap();
        if out != want {
            failures.push(format!("{rt} {run}: stdout {out:?}, on {first} {want:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The program fills its own heap with a known pattern (8 MB blocks, some
/// freed and refilled) while the adapter's state grows between its
/// allocations (clocks, streams, 100000-long poll lists, readlink of long
/// targets, directory entries with long names): the pattern stays intact and
/// every WASI result is right.
#[test]
fn adapter_state_and_program_heap_never_overlap() {
    let dir = |name: &str| sample_dir(&format!("overlap-{name}"));
    let case = Case {
        program: "stress",
        args: &["overlap", "16"],
        dir: &dir,
        stdin: None,
        fds: None,
    };
    let want = case.check(all_as_expected);
    let out = String::from_utf8_lossy(&want.stdout);
    assert!(out.contains("blocks intact at the end: 24/24"), "{out}");
    assert!(
        out.contains("polls right: 16/16, symlink targets right: 16/16"),
        "{out}"
    );
}

/// An 8 MB file read in chunks (a wasip2 stream, `read` and `blocking-read`,
/// and std::fs) and 2 MB of stdin, while the heap grows by over 300 MB, a
/// fresh 50 MB block before each chunk (so a read's result often grows
/// memory during the call); pollables made before the growth are used after
/// it. Every byte must arrive: the hashes are the data's.
#[test]
fn memory_growth_during_reads() {
    let dir = sample_dir("growth");
    let big = data(8 << 20, 9);
    std::fs::write(dir.join("big"), &big).unwrap();
    let input = data(2 << 20, 11);
    let case = Case {
        program: "stress",
        args: &["growth"],
        dir: &|_| dir.clone(),
        stdin: Some(&input),
        fds: None,
    };
    let want = case.check(all_as_expected);
    let out = String::from_utf8_lossy(&want.stdout);
    let file = format!("{} bytes, fnv {:016x}", big.len(), fnv(&big));
    assert!(out.contains(&format!("stream: {file}")), "{out}");
    assert!(out.contains(&format!("std::fs: {file}")), "{out}");
    let stdin = format!("stdin: {} bytes, fnv {:016x}", input.len(), fnv(&input));
    assert!(out.contains(&stdin), "{out}");
    assert!(
        out.contains("memory grew by more than 300 MB: true"),
        "{out}"
    );
    assert!(out.contains("some reads grew memory: true"), "{out}");
}
