//! Stage 1, read: find the program's main core module. A component as
//! `wasm-component-ld` writes it holds the main module plus plumbing (the
//! shim and fixup modules, maybe an embedded forward adapter); the main
//! module is the one that exports `wasi:cli/run@0.2.N#run`.

use anyhow::{bail, Context, Result};
use wasmparser::{Encoding, Parser, Payload, Validator, WasmFeatures};

/// The export a WASI 0.2 command's main module runs, without version.
pub const RUN_EXPORT: &str = "wasi:cli/run@";

pub fn main_module(bytes: &[u8]) -> Result<&[u8]> {
    if !bytes.starts_with(b"\0asm") {
        bail!("not a WebAssembly file (it does not start with the `\\0asm` magic)");
    }
    Validator::new_with_features(WasmFeatures::all())
        .validate_all(bytes)
        .context("invalid WebAssembly")?;
    // `parse_all` walks nested modules too: `depth` is 1 at the top level.
    let mut depth = 0;
    let mut modules = Vec::new();
    let mut encoding = Encoding::Module;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::Version { encoding: e, .. } => {
                depth += 1;
                if depth == 1 {
                    encoding = e;
                }
            }
            Payload::End(_) => depth -= 1,
            Payload::ModuleSection {
                unchecked_range: r, ..
            } if depth == 1 => modules.push(&bytes[r.start as usize..r.end as usize]),
            // wasm-component-ld nests a small component that only re-exports
            // `wasi:cli/run`; a nested component with code is a composition.
            Payload::ModuleSection {
                unchecked_range: r, ..
            } => bail!(
                "the component nests a component with code (a core module at offset {}): composed \
                 components are not supported; adapt the program before composing it",
                r.start
            ),
            _ => {}
        }
    }
    if encoding == Encoding::Module {
        return Ok(bytes);
    }
    let mains: Vec<&[u8]> = modules.into_iter().filter(|m| exports_run(m)).collect();
    match mains.as_slice() {
        [main] => Ok(main),
        [] => bail!("no core module in the component exports `wasi:cli/run@0.2.N#run`: only WASI 0.2 commands are supported"),
        _ => bail!("{} core modules in the component export `wasi:cli/run#run`: this component shape is not supported", mains.len()),
    }
}

fn exports_run(module: &[u8]) -> bool {
    Parser::new(0).parse_all(module).any(|p| match p {
        Ok(Payload::ExportSection(r)) => r
            .into_iter()
            .flatten()
            .any(|e| e.name.starts_with(RUN_EXPORT)),
        _ => false,
    })
}

/// Whether `bytes` is already a preview1 command: a core module exporting
/// `_start` and importing nothing but `wasi_snapshot_preview1` (`run` runs
/// such a module as it is, e.g. to compare with an adapted build).
pub fn is_preview1_command(bytes: &[u8]) -> bool {
    let mut start = false;
    for p in Parser::new(0).parse_all(bytes) {
        match p {
            Ok(Payload::Version {
                encoding: Encoding::Component,
                ..
            })
            | Err(_) => return false,
            Ok(Payload::ImportSection(r)) => {
                let p1_only = r
                    .into_imports()
                    .all(|i| i.is_ok_and(|i| i.module == crate::link::PREVIEW1));
                if !p1_only {
                    return false;
                }
            }
            Ok(Payload::ExportSection(r)) => {
                start |= r.into_iter().flatten().any(|e| e.name == "_start");
            }
            _ => {}
        }
    }
    start
}
