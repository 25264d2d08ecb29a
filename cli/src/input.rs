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
