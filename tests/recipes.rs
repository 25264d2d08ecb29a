//! The README's build-system recipes ("In build systems"), each run as it
//! stands there: installing the tool and a runtime away from the source
//! tree, cargo's runner, a post-build step, and a C project's Makefile.

mod common;

use common::{run_with_timeout, temp_dir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use wasi_downlevel::run::{find, Runtime};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The lines of the README's block that starts `# recipe: NAME`.
fn recipe(name: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let start = readme
        .find(&format!("# recipe: {name}\n"))
        .unwrap_or_else(|| panic!("the README has no recipe {name}"));
    let block = &readme[start..];
    let end = block.find("\n```").unwrap();
    block[..end].lines().skip(1).map(String::from).collect()
}

/// PATH with the built tool first.
fn path_with(dir: &Path) -> String {
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn tool_dir() -> PathBuf {
    common::tool().parent().unwrap().to_path_buf()
}

fn bash(lines: &[String], dir: &Path, envs: &[(&str, String)], secs: u64) -> Output {
    let mut cmd = Command::new("bash");
    cmd.arg("-euo")
        .arg("pipefail")
        .arg("-c")
        .arg(lines.join("\n"))
        .current_dir(dir)
        .env_remove("CARGO_TARGET_DIR")
        .env_remove("RUSTFLAGS");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    run_with_timeout(&mut cmd, secs)
}

fn ok(out: &Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed: {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn native(wasm: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(find(Runtime::Wasmtime, None).unwrap());
    cmd.arg("run").arg(wasm).args(args);
    run_with_timeout(&mut cmd, 60)
}

/// `cargo install --path cli` into a prefix, then, from a folder with no
/// source tree and a cache of its own, `runtimes install iwasm` and a run.
#[test]
fn install_anywhere() {
    let base = temp_dir("recipes/install");
    let (prefix, xdg, elsewhere) = (
        base.join("prefix"),
        base.join("xdg"),
        base.join("elsewhere"),
    );
    std::fs::create_dir_all(&elsewhere).unwrap();
    let lines = recipe("install");
    let envs = [
        ("PREFIX", prefix.display().to_string()),
        ("PATH", path_with(&prefix.join("bin"))),
        ("XDG_CACHE_HOME", xdg.display().to_string()),
        // Reuse this build's artifacts rather than build again.
        (
            "CARGO_TARGET_DIR",
            repo().join("target").display().to_string(),
        ),
    ];
    // `cargo install --path cli` from the checkout; the rest from elsewhere.
    let (install, rest) = lines.split_at(1);
    let mut cmd_env: Vec<(&str, String)> = envs.to_vec();
    ok(&bash(install, &repo(), &cmd_env, 1200), "cargo install");
    cmd_env.retain(|(k, _)| *k != "CARGO_TARGET_DIR");
    let mut rest = rest.to_vec();
    rest.insert(0, "unset WASI_DOWNLEVEL_RUNTIMES".into());
    let listed = ok(&bash(&rest, &elsewhere, &cmd_env, 1200), "runtimes install");
    let iwasm = listed
        .lines()
        .find(|l| l.starts_with("iwasm "))
        .unwrap_or_else(|| panic!("runtimes list shows no iwasm:\n{listed}"));
    assert!(
        iwasm.contains(&xdg.join("wasi-downlevel/runtimes").display().to_string()),
        "iwasm is not the one installed into the user's cache: {iwasm}"
    );
    let hello = common::example("hello");
    std::fs::copy(&hello, elsewhere.join("hello.wasm")).unwrap();
    let mut run = Command::new(prefix.join("bin/wasi-downlevel"));
    run.args(["run", "--runtime", "iwasm", "hello.wasm", "a"])
        .current_dir(&elsewhere)
        .env("XDG_CACHE_HOME", &xdg)
        .env_remove("WASI_DOWNLEVEL_RUNTIMES");
    let got = run_with_timeout(&mut run, 60);
    let want = native(&hello, &["a"]);
    assert_eq!(ok(&got, "run"), String::from_utf8_lossy(&want.stdout));
}

/// A copy of `tests/recipes/app` of its own, with the file its test reads.
fn app(name: &str) -> PathBuf {
    let dir = temp_dir(&format!("recipes/{name}"));
    let src = repo().join("tests/recipes/app");
    std::fs::create_dir_all(dir.join("src")).unwrap();
    for f in ["Cargo.toml", "src/main.rs"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    std::fs::write(dir.join("greeting.txt"), "hello from the host\n").unwrap();
    dir
}

#[test]
fn cargo_runner() {
    let dir = app("runner");
    let out = bash(
        &recipe("cargo-runner"),
        &dir,
        &[("PATH", path_with(&tool_dir()))],
        600,
    );
    let stdout = ok(&out, "the cargo-runner recipe");
    assert!(
        stdout.contains("test tests::reads_its_directory ... ok"),
        "{stdout}"
    );
    assert!(
        stdout.contains(r#"app: hello from the host ["one", "two"]"#),
        "{stdout}"
    );
}

#[test]
fn cargo_post_build() {
    let dir = app("post-build");
    ok(
        &bash(
            &recipe("cargo-post-build"),
            &dir,
            &[("PATH", path_with(&tool_dir()))],
            600,
        ),
        "the cargo-post-build recipe",
    );
    let release = dir.join("target/wasm32-wasip2/release");
    let mut run = Command::new(common::tool());
    run.args([
        "run",
        "--runtime",
        "iwasm",
        "--dir",
        ".",
        "target/wasm32-wasip2/release/app.p1.wasm",
        "x",
    ])
    .current_dir(&dir);
    let got = run_with_timeout(&mut run, 60);
    let mut native = Command::new(find(Runtime::Wasmtime, None).unwrap());
    native
        .args(["run", "--dir", "."])
        .arg(release.join("app.wasm"))
        .arg("x")
        .current_dir(&dir);
    let want = run_with_timeout(&mut native, 60);
    assert_eq!(
        ok(&got, "app.p1.wasm"),
        String::from_utf8_lossy(&want.stdout)
    );
}

#[test]
fn c_makefile() {
    let dir = temp_dir("recipes/c");
    std::fs::write(dir.join("Makefile"), recipe("c-makefile").join("\n") + "\n").unwrap();
    std::fs::write(
        dir.join("hello.c"),
        "#include <stdio.h>\nint main(int argc, char **argv) {\n  printf(\"hello from C, %d args\\n\", argc);\n  return 0;\n}\n",
    )
    .unwrap();
    let cc = repo().join(".cache/wasip2-cc/bin/wasip2-cc");
    assert!(cc.exists(), "run `make c-tools` (make test does)");
    let make = format!("make CC={} hello.wasm hello.p1.wasm", cc.display());
    let out = bash(&[make], &dir, &[("PATH", path_with(&tool_dir()))], 300);
    ok(&out, "make hello.p1.wasm");
    let mut run = Command::new(common::tool());
    run.args(["run", "--runtime", "iwasm", "hello.p1.wasm", "one"])
        .current_dir(&dir);
    let got = run_with_timeout(&mut run, 60);
    let want = native(&dir.join("hello.wasm"), &["one"]);
    assert_eq!(
        ok(&got, "hello.p1.wasm"),
        String::from_utf8_lossy(&want.stdout)
    );
}
