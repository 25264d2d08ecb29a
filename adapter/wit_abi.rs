//! The adapter's contract, derived from `wit/`: every function that the
//! `wasi:cli/command` world imports, with the core signature its *importer*
//! uses (canonical ABI, `GuestImport` flattening).
//!
//! Shared by the adapter's build script, which generates the export shims from
//! it, and the tool's build script, which verifies the built adapter against
//! it. Nothing else lists WASI functions or signatures.

use std::path::Path;
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{Resolve, TypeDefKind, WorldItem};

/// Interface-name prefixes whose functions the adapter does not implement
/// yet: they are exported as trapping stubs.
pub const UNIMPLEMENTED: &[&str] = &[
    "wasi:filesystem/types@0.3",
    "wasi:filesystem/preopens@0.3",
    "wasi:sockets/types@0.3",
    "wasi:sockets/ip-name-lookup@0.3",
    "wasi:clocks/timezone@0.3",
];

/// Whether the adapter implements `f` (or exports a trapping stub).
pub fn implemented(f: &Func) -> bool {
    !UNIMPLEMENTED.iter().any(|p| f.interface_id.starts_with(p))
}

/// A core wasm value type as it appears in a flattened signature.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Val {
    I32,
    I64,
    F32,
    F64,
}

/// One function the adapter exports.
#[allow(dead_code)] // each build script reads its own part
pub struct Func {
    /// The WASI package without namespace, e.g. `io`.
    pub package: String,
    /// The interface, e.g. `streams`.
    pub interface: String,
    /// The interface's full name with version, e.g. `wasi:io/streams@0.2.12`.
    pub interface_id: String,
    /// The WASI release's minor version: 2 or 3.
    pub minor: u64,
    /// The function's name inside the interface, e.g. `[method]input-stream.read`.
    pub field: String,
    pub params: Vec<Val>,
    pub results: Vec<Val>,
}

impl Func {
    /// The name the adapter exports this function under.
    pub fn export_name(&self) -> String {
        format!("{}#{}", self.interface_id, self.field)
    }
}

/// Every function of the `adapter` world in `wit_dir`, in WIT order; each
/// interface's resource destructors come first.
pub fn functions(wit_dir: &Path) -> anyhow::Result<Vec<Func>> {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(wit_dir)?;
    let world = resolve.select_world(&[pkg], Some("adapter"))?;
    let mut out = Vec::new();
    for item in resolve.worlds[world].imports.values() {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let iface = &resolve.interfaces[*id];
        let interface_id = resolve.id_of(*id).expect("world imports named interfaces");
        let package = resolve.packages[iface.package.expect("interface has a package")]
            .name
            .name
            .clone();
        let interface = iface.name.clone().expect("interface has a name");
        let minor = resolve.packages[iface.package.expect("interface has a package")]
            .name
            .version
            .as_ref()
            .map_or(0, |v| v.minor);
        let func = |field: String, params: Vec<Val>, results: Vec<Val>| Func {
            package: package.clone(),
            interface: interface.clone(),
            interface_id: interface_id.clone(),
            minor,
            field,
            params,
            results,
        };
        for (name, ty) in &iface.types {
            if matches!(resolve.types[*ty].kind, TypeDefKind::Resource) {
                out.push(func(
                    format!("[resource-drop]{name}"),
                    vec![Val::I32],
                    vec![],
                ));
            }
        }
        for (name, f) in &iface.functions {
            let sig = resolve.wasm_signature(AbiVariant::GuestImport, f);
            out.push(func(name.clone(), vals(&sig.params), vals(&sig.results)));
            if f.kind.is_async() {
                let sig = resolve.wasm_signature(AbiVariant::GuestImportAsync, f);
                out.push(func(
                    format!("[async-lower]{name}"),
                    vals(&sig.params),
                    vals(&sig.results),
                ));
            }
        }
    }
    Ok(out)
}

fn vals(types: &[WasmType]) -> Vec<Val> {
    types
        .iter()
        .map(|t| match t {
            WasmType::I32 | WasmType::Pointer | WasmType::Length => Val::I32,
            WasmType::I64 | WasmType::PointerOrI64 => Val::I64,
            WasmType::F32 => Val::F32,
            WasmType::F64 => Val::F64,
        })
        .collect()
}
