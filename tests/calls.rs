//! Preview1 calls per operation, adapted vs the preview1 build of the same
//! source (`examples/bench`), counted by the embedded engine
//! (`WASI_DOWNLEVEL_CALLS`): each operation N times minus 0 times, per
//! operation. The adapted build may make only the extra calls stated here,
//! each with its reason; more is a regression (issue: performance).

mod common;

use common::{built, example, runner, temp_dir};
use std::collections::BTreeMap;
use std::path::Path;
use wasi_downlevel::run::Runtime;

const N: usize = 200;

/// Calls by function for `bench ARGS` (N replaced by `n`).
fn calls(wasm: &Path, dir: &Path, args: &[&str], n: usize) -> BTreeMap<String, i64> {
    let out = dir.join(format!("calls-{n}"));
    let mut cmd = runner(Some(Runtime::Embedded));
    cmd.env("WASI_DOWNLEVEL_CALLS", &out)
        .arg("--dir")
        .arg(format!("{}::/d", dir.join("d").display()))
        .arg(wasm)
        .args(args.iter().map(|a| a.replace('N', &n.to_string())));
    let got = common::run_with_timeout(&mut cmd, 60);
    assert!(
        got.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&got.stderr)
    );
    std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(|l| {
            let (name, count) = l.split_once(' ').unwrap();
            (name.to_string(), count.parse().unwrap())
        })
        .collect()
}

/// Calls per operation (a run of N minus a run of 0, over N, rounded: the
/// calls made once per run, such as finding the preopens on first use or
/// stdout's type, are not the operation's).
fn per_op(wasm: &Path, dir: &Path, args: &[&str]) -> BTreeMap<String, f64> {
    let (none, many) = (calls(wasm, dir, args, 0), calls(wasm, dir, args, N));
    many.iter()
        .map(|(name, &n)| {
            let extra = n - none.get(name).copied().unwrap_or(0);
            (name.clone(), (extra as f64 / N as f64).round())
        })
        .filter(|(_, n)| *n != 0.0)
        .collect()
}

#[test]
fn adapted_calls_per_operation() {
    let dir = temp_dir("calls");
    std::fs::create_dir_all(dir.join("d/dir")).unwrap();
    std::fs::write(dir.join("d/f"), vec![7u8; 4096]).unwrap();
    for i in 0..10 {
        std::fs::write(dir.join(format!("d/dir/e{i}")), b"").unwrap();
    }
    std::fs::create_dir(dir.join("d/dir/sub")).unwrap();
    std::os::unix::fs::symlink("e0", dir.join("d/dir/link")).unwrap();
    let p1 = built("target/wasm32-wasip1/release/bench.wasm", "make examples");
    let p2 = example("bench");
    // (workload, the calls the adapted build may add per operation, why)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, f64)], &'a str);
    let cases: &[Case] = &[
        (&["clock", "N"], &[], ""),
        (
            &["read1", "/d/f", "N"],
            &[("fd_read", -1.0), ("fd_pread", 1.0)],
            "a file stream reads at its own offset",
        ),
        (&["write", "N"], &[], ""),
        // A following open looks the name up first only where the host
        // resolves `..` lexically (Node; asked once per run).
        (&["open", "/d/f", "N"], &[], ""),
        // wasi-libc asks metadata-hash-at for st_ino, then stat-at: the
        // second is answered from the first's stat.
        (&["stat", "/d/f", "N"], &[], ""),
        (
            &["readdir", "/d/dir", "N"],
            &[("path_filestat_get", 12.0), ("fd_filestat_get", 1.0)],
            "wasi-libc asks metadata-hash-at for each entry's d_ino (a preview1 build takes the \
             listing's: a lookup gives the native answer where they differ, a mount point or a \
             bind-mounted file), and metadata-hash for the directory's own",
        ),
    ];
    let mut failures = Vec::new();
    for (args, extra, why) in cases {
        let (want, got) = (per_op(&p1, &dir, args), per_op(&p2, &dir, args));
        let mut allowed = want.clone();
        for (name, n) in *extra {
            *allowed.entry(name.to_string()).or_default() += n;
        }
        allowed.retain(|_, n| *n != 0.0);
        if got != allowed {
            failures.push(format!(
                "{args:?}: adapted {got:?}, preview1 build {want:?}, allowed {allowed:?} ({why})"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
