//! wasi-downlevel: turn a WASI 0.2 program (component or core module) into
//! one core module that imports only `wasi_snapshot_preview1`, and run it.
//!
//! The stages, one module each: [`input`] finds the main module, [`link`]
//! binds its imports, [`shrink`] keeps the adapter code they reach, [`write`]
//! merges and validates, [`run`] executes on a preview1 runtime.

pub mod input;
pub mod link;
pub mod module;
pub mod run;
pub mod shrink;
pub mod verify;
pub mod write;

use anyhow::Result;

/// The adapter module, built from `adapter/` and verified by the build.
pub const ADAPTER: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/adapter.wasm"));

/// The adapter's WASI functions (export names) in the order it numbers them.
pub const WASI_FUNCS: &[&str] = include!(concat!(env!("OUT_DIR"), "/wasi_funcs.rs"));

/// The texts of the adapter's trap messages (`adapter/texts.rs`).
#[path = "../../adapter/texts.rs"]
mod texts;
pub use texts::TEXTS;

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

/// Adapts a WASI 0.2 component or core module, with standard sockets.
pub fn adapt(input: &[u8]) -> Result<Adapted> {
    adapt_with(input, Sockets::Standard)
}

/// Adapts a WASI 0.2 component or core module.
pub fn adapt_with(input: &[u8], sockets: Sockets) -> Result<Adapted> {
    let graph = input::read(input)?;
    let linked = link::link(&graph, ADAPTER, sockets)?;
    let kept = shrink::reachable(&linked)?;
    let wasm = write::merge(&linked, &kept)?;
    Ok(Adapted {
        wasm,
        warnings: linked.warnings,
    })
}
