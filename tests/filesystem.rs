//! `wasi:filesystem` end to end: programs that use files (the `fs` and
//! `fs-direct` examples, and ripgrep from crates.io) run adapted on every
//! preview1 runtime against a fresh copy of a fixture tree, and must give the
//! same stdout, stderr, exit status and resulting directory tree as the same
//! component run natively on the wasmtime CLI.
//!
//! Where a preview1 host forces a difference, the expected native line is
//! rewritten for that runtime in `KNOWN` (each listed in the README's
//! compatibility section).

mod common;

use common::{assert_same_output, example, run_with_timeout, temp_dir, RUNTIMES};
use std::fmt::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wasi_downlevel::run::{find, Runtime};

const TIMEOUT: u64 = 120;

/// (runtime, native text, what that runtime gives instead): differences a
/// preview1 host forces.
const KNOWN: &[(Runtime, &str, &str)] = &[
    // uvwasi sets file times through a double: sub-microsecond parts are lost.
    (Runtime::Node, "nanoseconds: 42 }", "nanoseconds: 0 }"),
    (Runtime::Node, "modified: ok true", "modified: ok false"),
    (
        Runtime::Node,
        "times: ok (5s, 9s)",
        "times: ok (4.876543211s, 8.876543211s)",
    ),
];

fn ripgrep() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/ripgrep/bin/rg.wasm");
    assert!(p.exists(), "{} is missing: run `make tools`", p.display());
    p
}

/// A text picture of a directory tree: every entry with its type, and for
/// files their size and a digest of their bytes, for symlinks the target.
fn tree(root: &Path) -> String {
    fn walk(dir: &Path, rel: &str, out: &mut String) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap())
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = format!("{rel}{}", e.file_name().to_string_lossy());
            let meta = std::fs::symlink_metadata(e.path()).unwrap();
            if meta.is_symlink() {
                let target = std::fs::read_link(e.path()).unwrap();
                writeln!(out, "{name} -> {}", target.display()).unwrap();
            } else if meta.is_dir() {
                writeln!(out, "{name}/").unwrap();
                walk(&e.path(), &format!("{name}/"), out);
            } else {
                let bytes = std::fs::read(e.path()).unwrap();
                // FNV-1a: enough to tell contents apart.
                let digest = bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
                    (h ^ b as u64).wrapping_mul(0x100000001b3)
                });
                writeln!(out, "{name} {} {digest:016x}", bytes.len()).unwrap();
            }
        }
    }
    let mut out = String::new();
    walk(root, "", &mut out);
    out
}

/// How a run is set up.
struct Case<'a> {
    /// A name for the test's scratch directory.
    name: &'a str,
    wasm: PathBuf,
    args: &'a [&'a str],
    /// Fills the preopened directory (`/data` in the guest) before each run.
    fixture: fn(&Path),
    /// Makes the preopen read-only (a read-only bind mount in a user and
    /// mount namespace of its own).
    read_only: bool,
    /// Runtimes this case cannot run on, and why (each in the README).
    skip: &'a [(Runtime, &'a str)],
}

/// Wraps `cmd` so that `dir` is mounted read-only for it.
fn read_only(dir: &Path, cmd: Command) -> Command {
    let mut wrapped = Command::new("unshare");
    wrapped
        .args(["-rm", "sh", "-c"])
        .arg(r#"mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@""#)
        .arg(dir)
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(cwd) = cmd.get_current_dir() {
        wrapped.current_dir(cwd);
    }
    wrapped
}

/// Runs `case` natively (`runtime` = None) or adapted, in a fresh copy of
/// the fixture; returns the output and the tree afterwards.
fn run(case: &Case, runtime: Option<Runtime>) -> (Output, String) {
    let label = runtime.map_or("native".into(), |r| format!("{r:?}").to_lowercase());
    let scratch = temp_dir(&format!("fs-{}-{label}", case.name));
    let data = scratch.join("data");
    std::fs::create_dir(&data).unwrap();
    (case.fixture)(&data);
    let mut cmd = match runtime {
        None => {
            let mut c =
                Command::new(find(Runtime::Wasmtime, None).expect("wasmtime: run `make runtimes`"));
            c.arg("run");
            c
        }
        Some(_) => {
            let mut c = Command::new(env!("CARGO_BIN_EXE_wasi-downlevel"));
            c.arg("run").arg("--runtime").arg(&label);
            c
        }
    };
    cmd.arg("--dir")
        .arg(format!("{}::/data", data.display()))
        .arg(&case.wasm)
        .args(case.args)
        .current_dir(&scratch)
        .env_remove("RUST_BACKTRACE");
    if case.read_only {
        cmd = read_only(&data, cmd);
    }
    let out = run_with_timeout(&mut cmd, TIMEOUT);
    let tree = tree(&data);
    (out, tree)
}

fn check(case: Case) {
    if case.read_only
        && !Command::new("unshare")
            .args(["-rm", "true"])
            .status()
            .is_ok_and(|s| s.success())
    {
        panic!("this test needs `unshare -rm` (user and mount namespaces) for a read-only mount");
    }
    let (want, want_tree) = run(&case, None);
    for rt in RUNTIMES {
        if let Some((_, why)) = case.skip.iter().find(|s| s.0 == rt) {
            eprintln!("{}: not run on {rt:?}: {why}", case.name);
            continue;
        }
        let (got, got_tree) = run(&case, Some(rt));
        let mut expect = String::from_utf8_lossy(&want.stdout).into_owned();
        for (_, native, instead) in KNOWN.iter().filter(|k| k.0 == rt) {
            expect = expect.replace(native, instead);
        }
        let what = format!("{} {:?} on {rt:?}", case.name, case.args);
        assert_same_output(&got, &want, &expect, &what);
        assert_eq!(got_tree, want_tree, "directory tree after {what}");
    }
}

fn empty(_: &Path) {}

fn one_file(dir: &Path) {
    std::fs::write(dir.join("existing.txt"), "already here\n").unwrap();
}

#[test]
fn std_fs_files() {
    check(Case {
        name: "files",
        wasm: example("fs"),
        args: &["/data", "files"],
        fixture: empty,
        read_only: false,
        skip: &[],
    });
}

#[test]
fn std_fs_all_scenarios() {
    check(Case {
        name: "all",
        wasm: example("fs"),
        args: &["/data"],
        fixture: empty,
        read_only: false,
        skip: &[],
    });
}

#[test]
fn std_fs_read_only_preopen() {
    check(Case {
        name: "readonly",
        wasm: example("fs"),
        args: &["/data", "readonly"],
        fixture: one_file,
        read_only: true,
        skip: &[(
            Runtime::Embedded,
            "wasi-common traps on errors it has no errno for, such as EROFS",
        )],
    });
}

#[test]
fn wasi_filesystem_direct() {
    check(Case {
        name: "direct",
        wasm: example("fs-direct"),
        args: &[],
        fixture: empty,
        read_only: false,
        skip: &[],
    });
}

/// ripgrep's own behaviour over a source tree: searches, globs, ignore
/// files, counts, file lists, context, binary detection, no match (exit 1)
/// and a bad path (exit 2).
#[test]
fn ripgrep_queries() {
    let queries: &[&[&str]] = &[
        &["--sort", "path", "-n", "TODO", "/data"],
        &["--sort", "path", "-i", "todo", "/data"],
        &["--sort", "path", "--files", "/data"],
        &["--sort", "path", "--no-require-git", "-n", "TODO", "/data"],
        &[
            "--sort",
            "path",
            "--hidden",
            "--no-ignore",
            "-l",
            "(?i)todo",
            "/data",
        ],
        &["--sort", "path", "-c", "needle|hay", "/data/docs"],
        &["--sort", "path", "-g", "*.rs", "-w", "fn", "/data"],
        &["-C", "1", "-n", "adapt", "/data/docs/guide.txt"],
        &["--sort", "path", "-a", "-c", "TODO", "/data/docs"],
        &["--sort", "path", "-o", "-b", "needle", "/data/docs/big.txt"],
        &["no such text anywhere", "/data"],
        &["x", "/data/missing"],
    ];
    let rg = ripgrep();
    for (i, q) in queries.iter().enumerate() {
        check(Case {
            name: &format!("rg{i}"),
            wasm: rg.clone(),
            args: q,
            fixture: common::source_tree,
            read_only: false,
            skip: &[],
        });
    }
}
