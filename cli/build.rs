//! Builds the adapter (`../adapter`, for wasm32-unknown-unknown), checks its
//! shape (`src/verify.rs`), records which of its exports are trapping stubs
//! in a custom section, and leaves it in `$OUT_DIR/adapter.wasm` for the tool
//! to embed. A build that breaks the adapter's rules fails here.

#[path = "src/verify.rs"]
mod verify;
#[path = "../adapter/wit_abi.rs"]
mod wit_abi;

use anyhow::{bail, Context, Result};
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::process::Command;

fn main() -> Result<()> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let root = manifest.parent().context("workspace root")?;
    let adapter_dir = root.join("adapter");
    for p in [
        "src",
        "texts.rs",
        "build.rs",
        "wit_abi.rs",
        "Cargo.toml",
        "Cargo.lock",
        ".cargo",
    ] {
        println!("cargo:rerun-if-changed={}", adapter_dir.join(p).display());
    }
    println!("cargo:rerun-if-changed={}", root.join("wit").display());
    println!("cargo:rerun-if-changed=src");

    ensure_wasm_target();
    // A separate target dir: the outer cargo holds a lock on its own.
    let target_dir = root.join("target").join("adapter");
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.current_dir(&adapter_dir)
        .args(["build", "--release", "--target", "wasm32-unknown-unknown"])
        .arg("--target-dir")
        .arg(&target_dir);
    // The outer build's flags and wrappers are for the host, not the adapter.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "CARGO_BUILD_TARGET",
        "CARGO_TARGET_DIR",
        "CARGO_MAKEFLAGS",
        "MAKEFLAGS",
        "MFLAGS",
    ] {
        cmd.env_remove(var);
    }
    let status = cmd.status().context("running cargo to build the adapter")?;
    if !status.success() {
        // Its errors are above; a missing target is the one a user meets.
        bail!(
            "building the adapter for wasm32-unknown-unknown failed (cargo's errors above): \
             this tool needs that Rust target (`rustup target add wasm32-unknown-unknown`; \
             without rustup, a Rust with the wasm32-unknown-unknown standard library)"
        );
    }
    let built = target_dir.join("wasm32-unknown-unknown/release/wasi_downlevel_adapter.wasm");
    let wasm = std::fs::read(&built).with_context(|| format!("reading {}", built.display()))?;

    let funcs = wit_abi::functions(&root.join("wit"))?;
    let expected: Vec<verify::Expected> = funcs
        .iter()
        .map(|f| (f.export_name(), vals(&f.params), vals(&f.results)))
        .collect();
    verify::verify(&wasm, &expected).context("the adapter breaks its rules")?;

    let stubs: Vec<String> = funcs
        .iter()
        .filter(|f| !wit_abi::implemented(f))
        .map(|f| f.export_name())
        .collect();
    let section = wasm_encoder::CustomSection {
        name: verify::UNIMPLEMENTED_SECTION.into(),
        data: stubs.join("\n").into_bytes().into(),
    };
    let mut out = wasm;
    out.push(wasm_encoder::Section::id(&section));
    wasm_encoder::Encode::encode(&section, &mut out);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out_dir.join("adapter.wasm"), &out)?;
    // This build's identity: the adapter and the linker's sources.
    let mut id = Sha256::new();
    id.update(&out);
    let mut sources: Vec<PathBuf> = Vec::new();
    let mut dirs = vec![manifest.join("src")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d)? {
            let p = e?.path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                sources.push(p);
            }
        }
    }
    sources.sort();
    for p in &sources {
        id.update(p.strip_prefix(&manifest)?.to_string_lossy().as_bytes());
        id.update(std::fs::read(p)?);
    }
    let id: String = id.finalize().iter().map(|b| format!("{b:02x}")).collect();
    std::fs::write(out_dir.join("build_id.rs"), format!("{id:?}"))?;
    // The adapter numbers its functions in this order (trap messages).
    let names: Vec<String> = funcs
        .iter()
        .map(|f| format!("{:?}", f.export_name()))
        .collect();
    std::fs::write(
        out_dir.join("wasi_funcs.rs"),
        format!("&[{}]", names.join(", ")),
    )?;
    Ok(())
}

/// The adapter is built for `wasm32-unknown-unknown`: with rustup, add that
/// target to this toolchain when it is missing (`cargo install` on a fresh
/// machine), and say so.
fn ensure_wasm_target() {
    const TARGET: &str = "wasm32-unknown-unknown";
    let Ok(out) = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .envs(std::env::var("RUSTUP_TOOLCHAIN").map(|t| ("RUSTUP_TOOLCHAIN", t)))
        .output()
    else {
        return; // no rustup: the build below says what is missing if it fails
    };
    if String::from_utf8_lossy(&out.stdout)
        .lines()
        .any(|l| l.trim() == TARGET)
    {
        return;
    }
    println!("cargo:warning=wasi-downlevel embeds an adapter built for {TARGET}: adding that target with rustup");
    let _ = Command::new("rustup")
        .args(["target", "add", TARGET])
        .envs(std::env::var("RUSTUP_TOOLCHAIN").map(|t| ("RUSTUP_TOOLCHAIN", t)))
        .status();
}

fn vals(v: &[wit_abi::Val]) -> Vec<wasmparser::ValType> {
    v.iter()
        .map(|t| match t {
            wit_abi::Val::I32 => wasmparser::ValType::I32,
            wit_abi::Val::I64 => wasmparser::ValType::I64,
            wit_abi::Val::F32 => wasmparser::ValType::F32,
            wit_abi::Val::F64 => wasmparser::ValType::F64,
        })
        .collect()
}
