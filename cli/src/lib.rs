//! wasi-downlevel: turn a WASI 0.2 program (component or core module) into
//! one core module that imports only `wasi_snapshot_preview1`, and run it.
//!
//! The stages, one module each: [`input`] reads the component's core
//! instantiation graph, [`link`] resolves every import of every instance
//! (WASI functions to the adapter), [`shrink`] keeps what `_start` reaches,
//! [`write`] merges into one module and validates, [`run`] executes on a
//! preview1 runtime.

pub mod features;
pub mod input;
pub mod inspect;
pub mod link;
pub mod lower;
pub mod module;
pub mod run;
pub mod shrink;
pub mod verify;
pub mod write;

use anyhow::Result;

/// The adapter module, built from `adapter/` and verified by the build.
pub const ADAPTER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/adapter.wasm"));

/// This build of the tool (its linker's sources and the adapter), for keys
/// of what it produced.
pub const BUILD_ID: &str = include!(concat!(env!("OUT_DIR"), "/build_id.rs"));

/// The adapter's WASI functions (export names) in the order it numbers them.
pub const WASI_FUNCS: &[&str] = include!(concat!(env!("OUT_DIR"), "/wasi_funcs.rs"));

/// The texts the adapter prints or returns (`adapter/texts.rs`).
#[path = "../../adapter/texts.rs"]
mod texts;
pub use texts::{Text, TEXTS};

pub struct Adapted {
    pub wasm: Vec<u8>,
    /// Things the user should know, e.g. imports the adapter only stubs.
    pub warnings: Vec<String>,
}

/// Which preview1 socket calls the output uses for `wasi:sockets`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Sockets {
    /// Only the standard calls (`sock_accept`/`recv`/`send`/`shutdown`) on
    /// sockets the host preopened: runs on every preview1 host.
    #[default]
    Standard,
    /// WAMR's socket extension (`sock_open`, `sock_bind`, ...): full TCP,
    /// UDP and name lookup on `iwasm`.
    Wamr,
}

/// How to adapt: what a native host would be given as settings.
#[derive(Clone, Debug, Default)]
pub struct Options {
    pub sockets: Sockets,
    /// What `wasi:cli/environment.initial-cwd` returns (preview1 has no
    /// working directory); none by default.
    pub initial_cwd: Option<String>,
    /// Deny the program TCP, UDP or name lookups, as a native host does when
    /// told to (`wasmtime -S tcp=n`, ...).
    pub no_tcp: bool,
    pub no_udp: bool,
    pub no_ip_name_lookup: bool,
    /// The features the host accepts (`--target-features`): the output is
    /// lowered to them. `None`: as the program's compiler left it.
    pub target_features: Option<features::Features>,
}

/// Adapts a WASI 0.2 component or core module, with the default options.
pub fn adapt(input: &[u8]) -> Result<Adapted> {
    adapt_with(input, &Options::default())
}

/// Adapts a WASI 0.2 component or core module.
pub fn adapt_with(input: &[u8], options: &Options) -> Result<Adapted> {
    let graph = input::read(input)?;
    let linked = link::link(&graph, ADAPTER, options)?;
    let kept = shrink::reachable(&linked)?;
    let wasm = write::merge(&linked, &kept, options)?;
    let mut warnings = linked.warnings;
    let wasm = match options.target_features {
        Some(target) => lower::lower(&wasm, target)?,
        None => {
            // Told now, rather than by the first host that refuses it.
            if let Some(at) = features::first_use(&wasm, features::Feature::Simd128) {
                warnings.push(format!(
                    "the program uses SIMD (simd128), first in {at}: hosts without it (WAMR \
                     built without SIMD, wasm3, ...) refuse the output"
                ));
            }
            wasm
        }
    };
    Ok(Adapted { wasm, warnings })
}
