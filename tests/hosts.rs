//! What each preview1 host we test accepts, and lowering for the hosts that
//! lack features:
//! - every host loads the probe of a feature (`tests/hosts/FEATURE.wat`)
//!   exactly when `features::HOSTS` says it accepts it;
//! - `tests/lower/ops.wat` (every rewritten instruction at its edge cases),
//!   lowered to WebAssembly 1.0, prints on every host what the original
//!   prints on wasmtime, and the no-bulk WAMR refuses the original;
//! - what cannot be lowered is refused, naming the function.

mod common;

use common::{run_with_timeout, temp_dir, tool};
use std::path::{Path, PathBuf};
use std::process::Command;
use wasi_downlevel::features::{Feature, Features, ALL, HOSTS};

fn here(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests")
        .join(name)
}

/// `file` (WAT) assembled into a temporary `.wasm`.
fn assemble(file: &Path, dir: &Path) -> PathBuf {
    let wasm = wat::parse_file(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let out = dir.join(file.file_stem().unwrap()).with_extension("wasm");
    std::fs::write(&out, wasm).unwrap();
    out
}

fn run(host: &str, wasm: &Path, extra: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(tool());
    cmd.arg("run")
        .arg("--runtime")
        .arg(host)
        .args(extra)
        .arg(wasm);
    run_with_timeout(&mut cmd, 60)
}

#[test]
fn host_features_are_as_the_table_says() {
    let dir = temp_dir("hosts/probes");
    let mut wrong = Vec::new();
    for &f in ALL {
        let probe = assemble(&here(&format!("hosts/{}.wat", f.name())), &dir);
        for host in HOSTS {
            let out = run(host.name, &probe, &[]);
            let loads = out.status.success();
            let says = (host.features)().has(f);
            if loads != says {
                wrong.push(format!(
                    "{} {} {}, the table says it {}: {}",
                    host.name,
                    if loads { "runs" } else { "refuses" },
                    f.name(),
                    if says { "accepts it" } else { "does not" },
                    String::from_utf8_lossy(&out.stderr)
                        .lines()
                        .next()
                        .unwrap_or("")
                ));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn lowered_ops_print_what_the_original_prints() {
    let dir = temp_dir("hosts/lower");
    let ops = assemble(&here("lower/ops.wat"), &dir);
    let want = run("wasmtime", &ops, &[]);
    assert!(want.status.success(), "{want:?}");
    assert!(want.stdout.len() > 1000, "ops.wat prints its results");
    for host in HOSTS {
        let got = run(host.name, &ops, &["--target-features", "mvp"]);
        assert!(
            got.status.success() && got.stdout == want.stdout,
            "{}: lowered ops.wat differs from the original on wasmtime: {}",
            host.name,
            String::from_utf8_lossy(&got.stderr)
        );
    }
    let refused = run("iwasm-nobulk", &ops, &[]);
    assert!(
        !refused.status.success(),
        "the no-bulk WAMR ran the original: it is no test of lowering"
    );
}

/// Each feature's probe, lowered to everything but that feature, validates
/// without it (when it can be lowered) or is refused naming the function.
#[test]
fn lowering_each_feature() {
    for &f in ALL {
        let wasm = wat::parse_file(here(&format!("hosts/{}.wat", f.name()))).unwrap();
        let target = Features::all().without(f);
        match wasi_downlevel::lower::lower(&wasm, target) {
            Ok(out) => {
                assert!(
                    f.lowerable(),
                    "{} was lowered, but is not lowerable",
                    f.name()
                );
                let needs = wasi_downlevel::features::needed(&out).unwrap();
                assert!(
                    needs.iter().all(|u| u.feature != f),
                    "{} still needed after lowering",
                    f.name()
                );
            }
            Err(e) => {
                let msg = format!("{e:#}");
                assert!(
                    !f.lowerable() || f == Feature::ReferenceTypes,
                    "{}: {msg}",
                    f.name()
                );
                assert!(
                    msg.contains(f.name()) && (msg.contains("function") || msg.contains("section")),
                    "{}: the error names neither the feature nor where: {msg}",
                    f.name()
                );
            }
        }
    }
}

#[test]
fn simd_cannot_be_lowered() {
    let out = Command::new(tool())
        .args(["adapt", "--target-features", "mvp", "-o"])
        .arg(temp_dir("hosts/simd").join("out.wasm"))
        .arg(common::example("simd"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("simd128") && err.contains("function") && err.contains("u32x4"),
        "{err}"
    );
}

#[test]
fn adapt_warns_of_simd() {
    let out = Command::new(tool())
        .args(["adapt", "-o"])
        .arg(temp_dir("hosts/simd-warn").join("out.wasm"))
        .arg(common::example("simd"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("warning: the program uses SIMD") && err.contains("function"),
        "{err}"
    );
}

#[test]
fn unknown_feature_is_named() {
    let err = Features::parse("mvp,+bulk-memroy").unwrap_err().to_string();
    assert!(
        err.contains("bulk-memroy") && err.contains("known"),
        "{err}"
    );
    let set = Features::parse("-bulk-memory,-sign-ext").unwrap();
    assert!(!set.has(Feature::BulkMemory) && set.has(Feature::Simd128));
}

/// A JS preview1 host that gets appending wrong (@tybys/wasm-util: its seek
/// to the end uses the size at open, and it has no `FDFLAGS_APPEND`):
/// `std::fs`'s file scenario (appends included) and ripgrep over a tree
/// give exactly the native output and files. Its stdout is a character
/// device even into a pipe and its stdin cannot be read, as
/// `hosts/stdio-probe.wat` shows (so ripgrep, which would take it for a
/// terminal, is given `--no-heading` on both sides).
#[test]
fn wasm_util_host() {
    let drive = here("hosts/wasm-util.mjs");
    let dir = temp_dir("hosts/wasm-util-probe");
    let probe = assemble(&here("hosts/stdio-probe.wat"), &dir);
    let out = run_with_timeout(
        Command::new("node")
            .arg(&drive)
            .arg(&probe)
            .arg(&dir)
            .arg("/data")
            .arg("probe"),
        60,
    );
    assert_eq!(
        out.status.code(),
        Some(10 + 58),
        "@tybys/wasm-util no longer gives stdout as a character device and stdin `notsup`"
    );
    let rg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/ripgrep/bin/rg.wasm");
    type Case<'a> = (&'a str, PathBuf, &'a [&'a str], fn(&Path));
    let cases: [Case; 2] = [
        ("fs", common::example("fs"), &["/data", "files"], |_| {}),
        (
            "rg",
            rg,
            &["--sort", "path", "--no-heading", "-n", "TODO", "/data"],
            common::source_tree,
        ),
    ];
    for (name, wasm, args, fixture) in cases {
        let argv0 = wasm.file_name().unwrap().to_string_lossy().into_owned();
        let native_dir = temp_dir(&format!("hosts/wasm-util-{name}-native"));
        fixture(&native_dir);
        let want = run_with_timeout(
            Command::new(
                wasi_downlevel::run::find(wasi_downlevel::run::Runtime::Wasmtime, None).unwrap(),
            )
            .arg("run")
            .arg("--dir")
            .arg(format!("{}::/data", native_dir.display()))
            .arg(&wasm)
            .args(args),
            120,
        );
        let dir = temp_dir(&format!("hosts/wasm-util-{name}"));
        let adapted = dir.join("program.wasm");
        let out =
            wasi_downlevel::adapt(&std::fs::read(&wasm).unwrap(), &Default::default()).unwrap();
        std::fs::write(&adapted, out.wasm).unwrap();
        let data = dir.join("data");
        std::fs::create_dir(&data).unwrap();
        fixture(&data);
        let got = run_with_timeout(
            Command::new("node")
                .arg(&drive)
                .arg(&adapted)
                .arg(&data)
                .arg("/data")
                .arg(&argv0)
                .args(args),
            120,
        );
        assert_eq!(
            String::from_utf8_lossy(&got.stdout),
            String::from_utf8_lossy(&want.stdout),
            "{name} on @tybys/wasm-util (stderr: {})",
            String::from_utf8_lossy(&got.stderr)
        );
        assert_eq!(got.status.code(), want.status.code(), "{name}: exit status");
        assert!(
            common::tree(&data) == common::tree(&native_dir),
            "{name}: the files left differ from the native run's"
        );
    }
}
