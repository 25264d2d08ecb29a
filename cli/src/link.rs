//! Stage 2, link: bind every import of the program. `wasi:*@0.2.N` imports,
//! any N, go to the adapter's function of the same interface and name;
//! `wasi_snapshot_preview1` imports stay imports of the host. Anything else
//! is an error that names the import.

use crate::module::{show, Module};
use crate::verify::UNIMPLEMENTED_SECTION;
use anyhow::{bail, Result};
use std::collections::HashMap;
use std::fmt::Write;

pub const PREVIEW1: &str = "wasi_snapshot_preview1";

/// Where one program import goes.
#[derive(Clone, Copy)]
pub enum Bind {
    /// To the adapter function with this index.
    Adapter(u32),
    /// Stays an import of the preview1 host.
    Host,
}

pub struct Bindings {
    /// One per program function import, in order.
    pub imports: Vec<Bind>,
    /// Non-fatal findings, e.g. imports of functions the adapter only stubs.
    pub warnings: Vec<String>,
}

/// `wasi:io/streams@0.2.0` -> (`wasi:io/streams`, 0, 2, 0).
fn split_version(module: &str) -> Option<(&str, [u32; 3])> {
    let (iface, version) = module.split_once('@')?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let v = [parts.next()??, parts.next()??, parts.next()??];
    Some((iface, v))
}

pub fn bind(program: &Module, adapter: &Module) -> Result<Bindings> {
    // The adapter's exports by (interface without version, function).
    let mut provided: HashMap<(&str, &str), u32> = HashMap::new();
    let mut adapter_version = [0, 2, 0];
    for e in &adapter.exports {
        if let Some((module, field)) = e.name.split_once('#') {
            if let Some((iface, v)) = split_version(module) {
                provided.insert((iface, field), e.index);
                adapter_version = v;
            }
        }
    }
    let stubs: Vec<&str> = adapter
        .customs
        .get(UNIMPLEMENTED_SECTION)
        .map(|d| std::str::from_utf8(d).unwrap_or("").lines().collect())
        .unwrap_or_default();

    let mut imports = Vec::new();
    let mut warnings = Vec::new();
    let mut missing = Vec::new();
    for imp in &program.imports {
        let what = format!("{}#{}", imp.module, imp.name);
        if imp.module == PREVIEW1 {
            imports.push(Bind::Host);
            continue;
        }
        let Some((iface, v)) =
            split_version(imp.module).filter(|_| imp.module.starts_with("wasi:"))
        else {
            missing.push(format!("{what} (not a WASI 0.2 import)"));
            imports.push(Bind::Host);
            continue;
        };
        let version_problem = if v[..2] != adapter_version[..2] {
            Some(format!(
                "WASI {}.{}.{}: only 0.2.x is supported",
                v[0], v[1], v[2]
            ))
        } else if v[2] > adapter_version[2] {
            Some(format!(
                "WASI 0.2.{} is newer than the adapter's 0.2.{}",
                v[2], adapter_version[2]
            ))
        } else {
            None
        };
        if let Some(problem) = version_problem {
            missing.push(format!("{what} ({problem})"));
            imports.push(Bind::Host);
            continue;
        }
        let Some(&index) = provided.get(&(iface, imp.name)) else {
            missing.push(format!(
                "{what} (no such function in WASI 0.2.{})",
                adapter_version[2]
            ));
            imports.push(Bind::Host);
            continue;
        };
        let want = adapter.func_type(index);
        let have = &program.types[imp.ty as usize];
        if want != have {
            bail!(
                "import {what} has type {}, but WASI 0.2.{} defines it as {}",
                show(have),
                adapter_version[2],
                show(want)
            );
        }
        let export = format!("{iface}@0.2.{}#{}", adapter_version[2], imp.name);
        if stubs.contains(&export.as_str()) {
            warnings.push(format!("{what} is not implemented yet: calling it traps"));
        }
        imports.push(Bind::Adapter(index));
    }
    if !missing.is_empty() {
        let mut msg = format!(
            "the program imports {} function(s) that no preview1 host provides:",
            missing.len()
        );
        for m in &missing {
            write!(msg, "\n  {m}")?;
        }
        bail!(msg);
    }
    Ok(Bindings { imports, warnings })
}
