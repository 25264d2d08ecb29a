//! The browser: `examples/web`, served on 127.0.0.1 and opened in headless
//! Chromium (`tests/web/drive.mjs`), runs adapted programs on
//! @bjorn3/browser_wasi_shim with in-memory stdio and files, and shows what
//! the same program run natively (wasmtime CLI) prints: hello, `std::fs` on
//! in-memory files, and ripgrep over an in-memory tree.

mod common;

use common::{example, run_with_input, run_with_timeout, temp_dir, tool};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use wasi_downlevel::run::{find, Runtime};

fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s = String::new();
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                s.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                s.push('=');
            }
        }
    }
    s
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

struct Case<'a> {
    name: &'a str,
    wasm: PathBuf,
    args: &'a [&'a str],
    env: &'a [&'a str],
    stdin: &'a [u8],
    /// Files the program finds in its preopened directory `/data`.
    fixture: fn(&Path),
}

struct Ran {
    status: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    files: BTreeMap<String, Vec<u8>>,
}

fn native(case: &Case) -> Ran {
    let dir = temp_dir(&format!("web/{}-native", case.name));
    (case.fixture)(&dir);
    let mut cmd =
        Command::new(find(Runtime::Wasmtime, None).expect("wasmtime: run `make runtimes`"));
    cmd.arg("run")
        .arg("--dir")
        .arg(format!("{}::/data", dir.display()));
    for e in case.env {
        cmd.arg("--env").arg(e);
    }
    cmd.arg(&case.wasm).args(case.args);
    let out = run_with_input(cmd.env_remove("RUST_BACKTRACE"), Some(case.stdin), 120);
    Ran {
        status: out.status.code().unwrap().to_string(),
        stdout: out.stdout,
        stderr: out.stderr,
        files: common::tree(&dir),
    }
}

fn in_browser(case: &Case) -> Ran {
    let job = temp_dir(&format!("web/{}-job", case.name));
    let adapted = job.join("program.wasm");
    let out = run_with_timeout(
        Command::new(tool())
            .arg("adapt")
            .arg(&case.wasm)
            .arg("-o")
            .arg(&adapted),
        120,
    );
    assert!(out.status.success(), "adapt: {out:?}");
    // The same files, as the page takes them.
    let fixture = temp_dir(&format!("web/{}-fixture", case.name));
    (case.fixture)(&fixture);
    let files: serde_json::Map<String, serde_json::Value> = common::tree(&fixture)
        .into_iter()
        .map(|(k, v)| (k, base64(&v).into()))
        .collect();
    let argv0 = case.wasm.file_name().unwrap().to_string_lossy();
    let spec = serde_json::json!({
        "wasm": "program.wasm",
        "argv0": argv0,
        "args": case.args,
        "env": case.env,
        "stdin": base64(case.stdin),
        "dir": "/data",
        "files": files,
    });
    std::fs::write(job.join("job.json"), spec.to_string()).unwrap();
    let drive = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/web/drive.mjs");
    let out = run_with_timeout(Command::new("node").arg(&drive).arg(&job), 300);
    assert!(
        out.status.success(),
        "the page did not run {} (run `make runtimes` for Chromium and the shim): {}",
        case.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        r["errors"].as_array().is_some_and(|e| e.is_empty()),
        "errors on the page: {}",
        r["errors"]
    );
    let stdout = unhex(r["stdout"].as_str().unwrap());
    assert_eq!(
        r["shown"].as_str().unwrap(),
        String::from_utf8_lossy(&stdout),
        "the page shows what the program printed"
    );
    let files = r["files"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), unhex(v))))
        .collect();
    Ran {
        status: match &r["status"] {
            serde_json::Value::Number(n) => n.to_string(),
            other => other.to_string(),
        },
        stdout,
        stderr: unhex(r["stderr"].as_str().unwrap()),
        files,
    }
}

fn check(case: Case) {
    let want = native(&case);
    let got = in_browser(&case);
    let what = format!("{} in the browser", case.name);
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout),
        "stdout of {what}"
    );
    assert_eq!(
        String::from_utf8_lossy(&got.stderr),
        String::from_utf8_lossy(&want.stderr),
        "stderr of {what}"
    );
    assert_eq!(got.status, want.status, "exit status of {what}");
    assert!(got.files == want.files, "files left by {what}");
}

fn no_files(_: &Path) {}

#[test]
fn hello() {
    check(Case {
        name: "hello",
        wasm: example("hello"),
        args: &["a", "b c"],
        env: &["GREETING=hi", "HELLO_B=1"],
        stdin: b"some input data",
        fixture: no_files,
    });
}

#[test]
fn hello_exit_code() {
    check(Case {
        name: "hello-exit",
        wasm: example("hello"),
        args: &["--exit", "3"],
        env: &[],
        stdin: b"",
        fixture: no_files,
    });
}

#[test]
fn std_fs_on_in_memory_files() {
    check(Case {
        name: "fs",
        wasm: example("fs"),
        args: &["/data", "files"],
        env: &[],
        stdin: b"",
        fixture: no_files,
    });
}

#[test]
fn ripgrep_over_an_in_memory_tree() {
    let rg = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/ripgrep/bin/rg.wasm");
    assert!(
        rg.exists(),
        "ripgrep is missing: run `make test`'s tools step"
    );
    for (i, args) in [
        &["--sort", "path", "-n", "TODO", "/data"][..],
        &["--sort", "path", "--files", "/data"],
        &["--sort", "path", "-c", "needle|hay", "/data/docs"],
        &["no such text anywhere", "/data"],
    ]
    .into_iter()
    .enumerate()
    {
        check(Case {
            name: &format!("rg{i}"),
            wasm: rg.clone(),
            args,
            env: &[],
            stdin: b"",
            fixture: common::source_tree,
        });
    }
}
