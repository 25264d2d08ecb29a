//! Differential testing against the native host: programs that perform a
//! sequence of operations chosen by a seed (`examples/fsops`: filesystem and
//! stream operations in a scratch dir; `examples/pollmix`: `wasi:io/poll`
//! over mixes of clocks, files, stdin and stdout) run natively (wasmtime as
//! a WASI 0.2 host) and adapted on every runtime. What they print, and the
//! tree they leave, must be the same.
//!
//! `make test` runs a fixed set of seeds (among them the ones that found
//! bugs); `DIFF_SEEDS=A-B` runs others, e.g. `DIFF_SEEDS=1-2000` for a long
//! search. A failure names the seed, the runtime and the first line that
//! differs; re-run it with `fsops SEED` by hand. `examples/fspaths` (every
//! path-taking call × every odd name shape) runs once per runtime.
//!
//! A line may differ only where the host itself behaves so, shown by a
//! probe in `differential/` this test runs on that host (see [`HOSTS`]).

mod common;

use common::{
    example, fnv, run_with_open_stdin, run_with_timeout, runner, temp_dir, tool, EVERY_RUNTIME,
};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use wasi_downlevel::run::Runtime;

/// Seeds `make test` runs. Seeds 3, 6 and 18 found the bugs fixed with
/// this test (open modes, streams that end, reading after the end).
const SEEDS: std::ops::RangeInclusive<u64> = 1..=40;
/// Seeds a longer search found bugs with (Node: a removed directory's `.`,
/// which of two missing names link-at reports; a renamed directory).
const FOUND: [u64; 4] = [132, 237, 567, 646];
const FS_OPS: &str = "300";
const POLL_ROUNDS: &str = "60";

fn seeds() -> Vec<u64> {
    match std::env::var("DIFF_SEEDS") {
        Ok(s) => {
            let (a, b) = s.split_once('-').unwrap_or((&s, &s));
            (a.parse().expect("DIFF_SEEDS=A-B")..=b.parse().expect("DIFF_SEEDS=A-B")).collect()
        }
        Err(_) => SEEDS.chain(FOUND).collect(),
    }
}

/// What is under `dir`, not following links: each path with `dir`, a
/// file's bytes, or a link's target.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let name = p.strip_prefix(dir).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            let what = if meta.is_symlink() {
                format!("link to {}", std::fs::read_link(&p).unwrap().display())
            } else if meta.is_dir() {
                todo.push(p);
                "dir".to_string()
            } else {
                let bytes = std::fs::read(&p).unwrap();
                format!("file of {} bytes, fnv {:x}", bytes.len(), fnv(&bytes))
            };
            out.insert(name, what);
        }
    }
    out
}

/// One run's outcome: exit status, stdout, stderr, the tree left.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    tree: BTreeMap<String, String>,
}

/// Runs `program SEED COUNT` with a fresh scratch dir as `/d`, natively
/// (`rt` none) or adapted on `rt`.
fn run(program: &str, seed: u64, count: &str, rt: Option<Runtime>) -> Run {
    let name = rt.map_or("native", Runtime::name);
    let dir = temp_dir(&format!("differential/{program}-{seed}-{name}"));
    let mut cmd = runner(rt);
    cmd.arg("--dir")
        .arg(format!("{}::/d", dir.display()))
        .arg(example(program));
    if !count.is_empty() {
        cmd.args([&seed.to_string(), count]);
    }
    let out = if program == "pollmix" {
        run_with_open_stdin(&mut cmd, 120)
    } else {
        run_with_timeout(&mut cmd, 120)
    };
    let r = Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        tree: tree(&dir),
    };
    let _ = std::fs::remove_dir_all(&dir);
    r
}

/// A way a host differs from the native one that the adapter cannot make
/// up for, with the probe that shows it.
struct HostDifference {
    runtimes: &'static [Runtime],
    /// In `tests/differential/`: a preview1 command given an empty
    /// preopen; it exits with `shows` on these runtimes, 0 elsewhere.
    probe: &'static str,
    shows: i32,
    /// Whether a native and an adapted line differ this way.
    is: fn(&str, &str) -> bool,
    /// Whether later lines may differ because of it (the host left the
    /// tree otherwise), or only this one.
    ends_comparison: bool,
}

const WAMR: &[Runtime] = &[Runtime::Iwasm, Runtime::IwasmNobulk];

const HOSTS: &[HostDifference] = &[
    // Node refuses a symlink whose target leaves the directory read
    // lexically ("../x", even "sub/../../f" through a link to a deeper dir).
    HostDifference {
        runtimes: &[Runtime::Node],
        probe: "symlink-escaping.wat",
        shows: 76,
        is: |want, got| {
            want.contains("symlink-at")
                && got.ends_with("-> not-permitted")
                && target(got).contains("..")
        },
        ends_comparison: true,
    },
    // WAMR resolves a target "." or ".." against its working directory,
    // outside every preopen.
    HostDifference {
        runtimes: WAMR,
        probe: "symlink-dot.wat",
        shows: 8,
        is: |want, got| {
            want.contains("symlink-at")
                && got.ends_with("-> bad-descriptor")
                && matches!(target(got), "." | ".." | "./" | "../")
        },
        ends_comparison: true,
    },
    // uvwasi (Node) does everything through a directory descriptor by the
    // path it was opened with: once renamed or removed, by whatever that
    // path names now (fsops marks such a descriptor `moved`).
    HostDifference {
        runtimes: &[Runtime::Node],
        probe: "dir-renamed.wat",
        shows: 44,
        is: |want, got| want.contains(", moved)") && got.contains(", moved)"),
        ends_comparison: true,
    },
    // Node loses the fraction of a second of the times fsops sets.
    HostDifference {
        runtimes: &[Runtime::Node],
        probe: "time-fraction.wat",
        shows: 1,
        is: |want, got| whole_seconds(want) == whole_seconds(got),
        ends_comparison: false,
    },
];

/// The target of a printed `symlink-at`: its first quoted string.
fn target(line: &str) -> &str {
    line.split('"').nth(1).unwrap_or("")
}

/// `line` with the fractions of its times (`SECONDS.NANOSECONDS`) cut.
fn whole_seconds(line: &str) -> String {
    let digits = |p: &str| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit());
    line.split(' ')
        .map(|w| match w.split_once('.') {
            Some((s, ns)) if ns.len() == 9 && digits(s) && digits(ns) => s,
            _ => w,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The host differences that apply on `rt`, each checked with its probe
/// (in a directory of `test`'s own).
fn host_differences(test: &str, rt: Runtime) -> Vec<&'static HostDifference> {
    let probes = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/differential");
    HOSTS
        .iter()
        .filter(|h| {
            let dir = temp_dir(&format!("differential/{test}-{}-{}", h.probe, rt.name()));
            let path = dir.join("probe.wasm");
            std::fs::write(&path, wat::parse_file(probes.join(h.probe)).unwrap()).unwrap();
            let scratch = dir.join("d");
            std::fs::create_dir_all(&scratch).unwrap();
            let mut cmd = Command::new(tool());
            cmd.args(["run", "--runtime", rt.name(), "--dir"])
                .arg(format!("{}::/d", scratch.display()))
                .arg(&path);
            let code = run_with_timeout(&mut cmd, 60).status.code();
            let applies = h.runtimes.contains(&rt);
            assert_eq!(
                code,
                Some(if applies { h.shows } else { 0 }),
                "probe {} on {}: the host does not behave as the allowance says",
                h.probe,
                rt.name()
            );
            applies
        })
        .collect()
}

/// How `got` differs from `want`, if it does, but for what `hosts` explain.
/// `ended` counts runs compared only up to a host difference; with
/// `cases` (fspaths: each call starts from the same tree) only that case
/// is skipped.
fn difference(
    want: &Run,
    got: &Run,
    hosts: &[&HostDifference],
    cases: bool,
    ended: &mut usize,
) -> Option<String> {
    let (w, g): (Vec<&str>, Vec<&str>) =
        (want.stdout.lines().collect(), got.stdout.lines().collect());
    let tree_line = |l: Option<&&str>| l.is_some_and(|l| l.starts_with("    tree:"));
    let (mut i, mut j) = (0, 0);
    while i < w.len() || j < g.len() {
        let (a, b) = (w.get(i).copied(), g.get(j).copied());
        (i, j) = (i + 1, j + 1);
        if a == b {
            continue;
        }
        match a
            .zip(b)
            .and_then(|(a, b)| hosts.iter().find(|h| (h.is)(a, b)))
        {
            Some(h) if h.ends_comparison && !cases => {
                *ended += 1;
                return None;
            }
            Some(_) => {}
            None => {
                return Some(format!(
                    "line {i}: native {:?}, adapted {:?} (adapted stderr: {})",
                    a.unwrap_or("<end>"),
                    b.unwrap_or("<end>"),
                    got.stderr.trim()
                ))
            }
        }
        // fspaths prints the tree after a call that changed it, as the
        // call the host refused did natively.
        if tree_line(w.get(i)) && !tree_line(g.get(j)) {
            i += 1;
        }
    }
    if want.code != got.code {
        return Some(format!(
            "exit {:?}, native {:?}: {}",
            got.code,
            want.code,
            got.stderr.trim()
        ));
    }
    if want.tree != got.tree {
        let keys: std::collections::BTreeSet<&String> =
            want.tree.keys().chain(got.tree.keys()).collect();
        let k = keys
            .into_iter()
            .find(|k| want.tree.get(*k) != got.tree.get(*k))
            .unwrap();
        return Some(format!(
            "the tree left differs at {k}: native {:?}, adapted {:?}",
            want.tree.get(k),
            got.tree.get(k)
        ));
    }
    None
}

/// Runs `program` for every seed natively and on every runtime; panics
/// listing every seed and runtime whose run differs.
fn differential(program: &str, count: &str) {
    let seeds = if program == "fspaths" {
        vec![0]
    } else {
        seeds()
    };
    let hosts: Vec<Vec<&HostDifference>> = EVERY_RUNTIME
        .iter()
        .map(|&rt| host_differences(program, rt))
        .collect();
    let (mut failures, mut ended) = (Vec::new(), 0);
    for &seed in &seeds {
        // The runs mostly wait (for clocks, for a runtime to start): run a
        // seed's side by side.
        let (want, got) = std::thread::scope(|s| {
            let want = s.spawn(|| run(program, seed, count, None));
            let got: Vec<_> = EVERY_RUNTIME
                .map(|rt| s.spawn(move || (rt, run(program, seed, count, Some(rt)))))
                .into_iter()
                .map(|h| h.join().unwrap())
                .collect();
            (want.join().unwrap(), got)
        });
        assert_eq!(
            want.code,
            Some(0),
            "{program} {seed} natively: {}",
            want.stderr
        );
        for ((rt, got), hosts) in got.into_iter().zip(&hosts) {
            if let Some(why) = difference(&want, &got, hosts, program == "fspaths", &mut ended) {
                failures.push(format!("{program} {seed} on {}: {why}", rt.name()));
            }
        }
    }
    let runs = seeds.len() * EVERY_RUNTIME.len();
    println!("{program}: {runs} runs, {ended} compared up to a host difference");
    assert!(
        failures.is_empty(),
        "{} of {} runs differ from native:\n{}",
        failures.len(),
        seeds.len() * EVERY_RUNTIME.len(),
        failures.join("\n")
    );
}

#[test]
fn filesystem_ops_match_native() {
    differential("fsops", FS_OPS);
}

#[test]
fn path_shapes_match_native() {
    differential("fspaths", "");
}

#[test]
fn poll_mixes_match_native() {
    differential("pollmix", POLL_ROUNDS);
}
