//! Stage 5, run: execute an adapted module on a preview1 runtime, with stdio
//! and the exit status passed through. `embedded` is wasmi + wasmi_wasi
//! inside the tool; the others are found on disk and given their own flags.

pub mod cache;
mod embedded;
mod external;
mod faults;
pub mod install;

pub use cache::Cache;
pub use external::exit_code;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Runtime {
    /// wasmi + wasmi_wasi, inside this tool.
    Embedded,
    /// The wasmtime CLI, running the core module in its preview1 mode.
    Wasmtime,
    /// WAMR's `iwasm`.
    Iwasm,
    /// `iwasm` built without bulk memory, reference types and SIMD, as
    /// small embedded builds are (`make runtimes` builds it): for output
    /// adapted with `--target-features mvp`.
    IwasmNobulk,
    /// `iwasm` running the module compiled ahead of time by `wamrc` (as most
    /// devices run WAMR), for the host's CPU.
    IwasmAot,
    /// `iwasm-nobulk` running the module compiled by `wamrc` without bulk
    /// memory, reference types and SIMD.
    IwasmNobulkAot,
    /// Node's `node:wasi` (preview1), through a small launcher.
    Node,
}

impl Runtime {
    /// Its name on the command line (`--runtime NAME`).
    pub fn name(self) -> &'static str {
        match self {
            Runtime::Embedded => "embedded",
            Runtime::Wasmtime => "wasmtime",
            Runtime::Iwasm => "iwasm",
            Runtime::IwasmNobulk => "iwasm-nobulk",
            Runtime::IwasmAot => "iwasm-aot",
            Runtime::IwasmNobulkAot => "iwasm-nobulk-aot",
            Runtime::Node => "node",
        }
    }

    /// The executable it runs.
    fn executable(self) -> &'static str {
        match self {
            Runtime::IwasmAot => "iwasm",
            Runtime::IwasmNobulkAot => "iwasm-nobulk",
            rt => rt.name(),
        }
    }

    /// For the AOT runtimes, `wamrc`'s flags for what that iwasm lacks.
    pub fn aot_flags(self) -> Option<&'static [&'static str]> {
        match self {
            Runtime::IwasmAot => Some(&[]),
            Runtime::IwasmNobulkAot => Some(&[
                "--disable-bulk-memory",
                "--disable-ref-types",
                "--disable-simd",
            ]),
            _ => None,
        }
    }

    /// Whether it is WAMR's iwasm (any build), with WAMR's flags and socket
    /// extension.
    pub fn is_wamr(self) -> bool {
        matches!(
            self,
            Runtime::Iwasm | Runtime::IwasmNobulk | Runtime::IwasmAot | Runtime::IwasmNobulkAot
        )
    }
}

/// What to run and how, in the runtime-neutral form of wasmtime's flags.
pub struct Options {
    pub runtime: Runtime,
    /// Preopened directories: (host path, guest path).
    pub dirs: Vec<(PathBuf, String)>,
    /// Environment: `K=V`, or `K` alone to pass the tool's own value of K.
    pub env: Vec<(String, Option<String>)>,
    /// The program's name, `args[0]`; by default the input's file name.
    pub argv0: String,
    pub args: Vec<String>,
    /// Where to find the runtime's executable, if not in the default places.
    pub runtime_path: Option<PathBuf>,
    /// The socket flavour the module was adapted with.
    pub sockets: crate::Sockets,
    /// Addresses to preopen TCP listeners on (embedded engine only).
    pub tcplisten: Vec<String>,
}

impl Options {
    pub(crate) fn env_pairs(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .filter_map(|(k, v)| match v {
                Some(v) => Some((k.clone(), v.clone())),
                None => std::env::var(k).ok().map(|v| (k.clone(), v)),
            })
            .collect()
    }
}

/// Runs `wasm` (whose cache key is `key`) and returns its exit status.
pub fn run(wasm: &[u8], key: &str, opts: &Options) -> Result<i32> {
    if opts.runtime != Runtime::Embedded && !opts.tcplisten.is_empty() {
        bail!("--tcplisten: only the embedded engine can preopen a listener");
    }
    if !opts.runtime.is_wamr() && imports(wasm, "sock_open") {
        bail!(
            "the program uses WAMR's socket extension (--sockets wamr), which only iwasm has; \
             use --runtime iwasm, or --sockets standard"
        );
    }
    match opts.runtime {
        Runtime::Embedded => embedded::run(wasm, opts),
        rt => external::run(rt, wasm, key, opts),
    }
}

/// Whether `wasm` imports the preview1 function `name` (the sections up to
/// the imports are read, not the code).
fn imports(wasm: &[u8], name: &str) -> bool {
    for p in wasmparser::Parser::new(0).parse_all(wasm) {
        match p {
            Ok(wasmparser::Payload::ImportSection(r)) => {
                return r.into_imports().any(|i| i.is_ok_and(|i| i.name == name))
            }
            Ok(wasmparser::Payload::CodeSectionStart { .. }) | Err(_) => return false,
            _ => {}
        }
    }
    false
}

/// Where runtimes are looked for before PATH: the install directory
/// (`runtimes install`), then, for a tool run from its source tree, that
/// tree's `.cache/runtimes` (`make runtimes`).
fn cache_bins() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = install::runtimes_dir()
        .map(|d| d.join("bin"))
        .into_iter()
        .collect();
    let tree = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/runtimes/bin");
    if tree.is_dir() {
        dirs.push(tree);
    }
    dirs
}

/// The runtime's executable: the given path, the cache, or PATH.
pub fn find(runtime: Runtime, explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    if runtime == Runtime::Embedded {
        bail!("the embedded engine is not an executable");
    }
    find_exe(runtime.executable())
}

/// Executable `name`: in the cache, or on PATH.
pub fn find_exe(name: &str) -> Result<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    cache_bins()
        .into_iter()
        .chain(std::env::split_paths(&path))
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .with_context(|| {
            let runtime = install::RUNTIMES
                .iter()
                .find(|(_, exes)| exes.contains(&name))
                .map_or(name, |(r, _)| r);
            format!(
                "cannot find `{name}`: install it with `wasi-downlevel runtimes install {runtime}`, \
                 put it on PATH, or pass --runtime-path"
            )
        })
}
