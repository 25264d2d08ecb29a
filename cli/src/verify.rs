//! The adapter's rules, checked on the built module (by the build script,
//! which fails the build, and by the test suite on the embedded copy). The
//! adapter is merged into programs and shares their memory, so it must not
//! bring anything of its own into their address space.

use anyhow::{bail, ensure, Context, Result};
use wasmparser::{
    Export, ExternalKind, FuncType, Operator, Parser, Payload, TypeRef, ValType, Validator,
    WasmFeatures,
};

/// Custom section that lists, one per line, the adapter's exports that are
/// trapping stubs (interfaces not implemented yet).
pub const UNIMPLEMENTED_SECTION: &str = "wasi-downlevel:unimplemented";

/// The features the adapter's code may use: WebAssembly 1.0 plus
/// sign-extension, and bulk memory only for `memory.copy`/`memory.fill`,
/// which the linker lowers to loops. So it never raises a program's
/// feature bar.
pub fn adapter_features() -> WasmFeatures {
    WasmFeatures::WASM1 | WasmFeatures::SIGN_EXTENSION | WasmFeatures::BULK_MEMORY
}

/// One export the adapter must have: name, params, results.
pub type Expected = (String, Vec<ValType>, Vec<ValType>);

pub fn verify(wasm: &[u8], expected: &[Expected]) -> Result<()> {
    Validator::new_with_features(adapter_features())
        .validate_all(wasm)
        .context("invalid, or uses a wasm feature outside WebAssembly 1.0 + sign-ext")?;
    let mut types: Vec<FuncType> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new();
    let mut exports: Vec<(String, u32)> = Vec::new();
    let mut memory_imports = 0;
    for payload in Parser::new(0).parse_all(wasm) {
        match payload? {
            Payload::TypeSection(r) => {
                for t in r.into_iter_err_on_gc_types() {
                    types.push(t?);
                }
            }
            Payload::ImportSection(r) => {
                for imp in r.into_imports() {
                    let imp = imp?;
                    let what = format!("import {}.{}", imp.module, imp.name);
                    match imp.ty {
                        TypeRef::Func(t) => {
                            let ty = &types[t as usize];
                            let ok = match (imp.module, imp.name) {
                                ("wasi_snapshot_preview1", _) => true,
                                // WAMR's socket extension (renamed or stubbed by the linker).
                                ("wamr", _) => ty.results() == [ValType::I32],
                                ("__linker__", "sockets_wamr" | "can_shrink" | "denied") => {
                                    ty.params().is_empty() && ty.results() == [ValType::I32]
                                }
                                ("__main_module__", "cabi_realloc") => {
                                    ty.params() == [ValType::I32; 4]
                                        && ty.results() == [ValType::I32]
                                }
                                ("__linker__", "state_get") => {
                                    ty.params().is_empty() && ty.results() == [ValType::I32]
                                }
                                ("__linker__", "enter") => {
                                    ty.params() == [ValType::I32] && ty.results().is_empty()
                                }
                                ("__linker__", "current") => {
                                    ty.params().is_empty() && ty.results() == [ValType::I32]
                                }
                                ("__linker__", "tcp_io") => {
                                    ty.params() == [ValType::I32; 5]
                                        && ty.results() == [ValType::I32]
                                }
                                ("__linker__", "file_io") => {
                                    ty.params()
                                        == [
                                            ValType::I32,
                                            ValType::I32,
                                            ValType::I32,
                                            ValType::I32,
                                            ValType::I64,
                                        ]
                                        && ty.results() == [ValType::I64]
                                }
                                ("__linker__", "p3_sockets") => {
                                    ty.params() == [ValType::I32; 4]
                                        && ty.results() == [ValType::I32]
                                }
                                ("__linker__", "p3_listing") => {
                                    ty.params() == [ValType::I32; 3]
                                        && ty.results() == [ValType::I32]
                                }
                                ("__linker__", "async_lift") => {
                                    ty.params().is_empty() && ty.results() == [ValType::I32]
                                }
                                ("__linker__", "async_callback") => {
                                    ty.params() == [ValType::I32; 3]
                                        && ty.results() == [ValType::I32]
                                }
                                ("__linker__", "text") => {
                                    ty.params() == [ValType::I32; 2]
                                        && ty.results() == [ValType::I32]
                                }
                                _ => false,
                            };
                            ensure!(ok, "{what}: not allowed (or wrong type {ty:?})");
                            func_types.push(t);
                        }
                        TypeRef::Memory(_) if (imp.module, imp.name) == ("env", "memory") => {
                            memory_imports += 1
                        }
                        _ => bail!("{what}: only functions and env.memory may be imported"),
                    }
                }
            }
            Payload::FunctionSection(r) => {
                for t in r {
                    func_types.push(t?);
                }
            }
            Payload::MemorySection(r) => ensure!(r.count() == 0, "defines a memory"),
            Payload::DataSection(r) => ensure!(r.count() == 0, "has a data segment"),
            Payload::ElementSection(r) => ensure!(r.count() == 0, "has an element segment"),
            Payload::StartSection { .. } => bail!("has a start function"),
            Payload::GlobalSection(r) => {
                for (i, g) in r.into_iter().enumerate() {
                    let g = g?;
                    let sp = i == 0 && g.ty.content_type == ValType::I32;
                    ensure!(
                        sp || !g.ty.mutable,
                        "global {i} is mutable: only global 0 (the shadow stack pointer) may be"
                    );
                }
            }
            Payload::ExportSection(r) => {
                for e in r {
                    let Export { name, kind, index } = e?;
                    if kind == ExternalKind::Func {
                        exports.push((name.to_string(), index));
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                for op in body.get_operators_reader()? {
                    if let Operator::CallIndirect { .. } | Operator::ReturnCallIndirect { .. } = op?
                    {
                        bail!("uses call_indirect (the linker does not merge tables)");
                    }
                }
            }
            _ => {}
        }
    }
    ensure!(
        memory_imports == 1,
        "must import exactly one memory, env.memory"
    );
    for (name, params, results) in expected {
        let (_, index) = exports
            .iter()
            .find(|(n, _)| n == name)
            .with_context(|| format!("does not export {name}"))?;
        let ty = &types[func_types[*index as usize] as usize];
        ensure!(
            ty.params() == params.as_slice() && ty.results() == results.as_slice(),
            "{name} has type {ty:?}, but the WIT says {params:?} -> {results:?}"
        );
    }
    for (name, _) in &exports {
        if name.starts_with("wasi:") {
            ensure!(
                expected.iter().any(|(n, ..)| n == name),
                "exports {name}, which the WIT does not define"
            );
        }
    }
    Ok(())
}
