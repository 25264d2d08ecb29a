//! wasi-downlevel: turn a WASI 0.2 program (component or core module) into
//! one core module that imports only `wasi_snapshot_preview1`, and run it.
//!
//! For build tools, the API is [`adapt`] with [`Options`] (the CLI's
//! settings), returning the module and warnings, or an [`Error`] whose
//! [`ErrorKind`] says what went wrong; [`inspect::report`] tells what a
//! module needs of a host, and [`run::run`] runs one.
//!
//! The stages, one module each: [`input`] reads the component's core
//! instantiation graph, [`link`] resolves every import of every instance
//! (WASI functions to the adapter), [`shrink`] keeps what `_start` reaches,
//! [`write`](mod@write) merges into one module and validates, [`lower`]
//! rewrites it for a host's features, [`run`] executes on a preview1
//! runtime.

mod error;
pub mod features;
pub mod input;
pub mod inspect;
pub mod link;
pub mod lower;
pub mod module;
pub mod run;
pub mod scan;
pub mod shrink;
pub mod validate;
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

/// The WASI versions the adapter implements, e.g. `0.2.0..=0.2.12`.
pub fn wasi_versions() -> String {
    let newest = WASI_FUNCS
        .iter()
        .filter_map(|f| f.split_once('@')?.1.split_once('#'))
        .filter_map(|(v, _)| v.strip_prefix("0.2.")?.parse::<u32>().ok())
        .max()
        .unwrap_or(0);
    format!("0.2.0..=0.2.{newest}")
}

/// The SHA-256 of the adapter this build embeds, in hex.
pub fn adapter_sha256() -> String {
    use sha2::Digest;
    sha2::Sha256::digest(ADAPTER)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What `--version` and the output's `producers` section say of this
/// build: its version, the adapter's hash and the WASI it implements.
pub fn producer_version() -> String {
    format!(
        "{} (adapter sha256:{}, WASI {})",
        env!("CARGO_PKG_VERSION"),
        &adapter_sha256()[..16],
        wasi_versions()
    )
}

pub struct Adapted {
    pub wasm: Vec<u8>,
    /// Things the user should know, e.g. imports the adapter only stubs.
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for Adapted {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.debug_struct("Adapted")
            .field("wasm", &format_args!("{} bytes", self.wasm.len()))
            .field("warnings", &self.warnings)
            .finish()
    }
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

pub use error::{Error, ErrorKind};

/// Adapts a WASI 0.2 component (or a bare core module importing WASI 0.2)
/// into one core module that imports only `wasi_snapshot_preview1`.
///
/// ```
/// // A bare core module whose `wasi:cli/run#run` prints with WASI 0.2.
/// let program = wat::parse_str(r#"
///   (module
///     (import "wasi:cli/stdout@0.2.0" "get-stdout" (func $stdout (result i32)))
///     (import "wasi:io/streams@0.2.0" "[method]output-stream.blocking-write-and-flush"
///       (func $write (param i32 i32 i32 i32)))
///     (memory (export "memory") 1)
///     (data (i32.const 16) "hi\n")
///     (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) (i32.const 4096))
///     (func (export "wasi:cli/run@0.2.0#run") (result i32)
///       (call $write (call $stdout) (i32.const 16) (i32.const 3) (i32.const 32))
///       (i32.const 0)))
/// "#)?;
/// let adapted = wasi_downlevel::adapt(&program, &wasi_downlevel::Options::default())?;
/// // Runs on any preview1 host: `iwasm out.wasm`, `wasmtime run out.wasm`, ...
/// assert!(wasmparser::Parser::is_core_wasm(&adapted.wasm));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Errors say what they are, for a build tool to act on:
///
/// ```
/// use wasi_downlevel::{adapt, ErrorKind, Options};
///
/// let http = wat::parse_str(r#"
///   (module
///     (import "wasi:http/types@0.2.0" "[constructor]fields" (func (result i32)))
///     (memory (export "memory") 1)
///     (func (export "wasi:cli/run@0.2.0#run") (result i32) (i32.const 0)))
/// "#)?;
/// let err = adapt(&http, &Options::default()).unwrap_err();
/// match err.kind() {
///     ErrorKind::MissingImports { imports } => {
///         assert!(imports[0].contains("wasi:http/types"), "{}", err)
///     }
///     other => panic!("{other:?}"),
/// }
/// assert!(matches!(
///     adapt(b"not wasm", &Options::default()).unwrap_err().kind(),
///     ErrorKind::Invalid { offset: Some(0) }
/// ));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn adapt(input: &[u8], options: &Options) -> std::result::Result<Adapted, Error> {
    adapt_inner(input, options).map_err(Error::from)
}

fn adapt_inner(input: &[u8], options: &Options) -> Result<Adapted> {
    let (graph, mut scans) = input::read(input)?;
    let linked = link::link(&graph, ADAPTER, options)?;
    let kept = shrink::reachable(&linked, &mut scans)?;
    let merged = write::merge(&linked, &kept, options)?;
    let wasm = merged.wasm;
    let mut warnings = linked.warnings;
    let wasm = match options.target_features {
        Some(target) => lower::lower(&wasm, target)?,
        None => {
            // Told now, rather than by the first host that refuses it.
            let simd = match merged.simd {
                Some(Some(at)) => Some(features::describe_offset(&wasm, at)),
                Some(None) => features::first_use(&wasm, features::Feature::Simd128),
                None => None,
            };
            if let Some(at) = simd {
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
