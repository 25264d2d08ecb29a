//! `wasi-downlevel inspect`: what a module needs of a preview1 host (its
//! features and preview1 imports), and which of the hosts we test run it.

use crate::features::{self, Features, HOSTS};
use anyhow::Result;
use std::fmt::Write;
use wasmparser::{Parser, Payload};

/// The report on `bytes`: a preview1 module as it is, anything else as
/// `adapt` with `options` would make it.
pub fn report(bytes: &[u8], options: &crate::Options) -> Result<String> {
    let mut out = String::new();
    let adapted;
    let wasm = if crate::input::is_preview1_command(bytes) && options.target_features.is_none() {
        writeln!(out, "a preview1 module of {} bytes", bytes.len())?;
        bytes
    } else {
        adapted = crate::adapt(bytes, options)?;
        // A command exports the `run` of its release.
        let run3 = b"wasi:cli/run@0.3.";
        let release = match bytes.windows(run3.len()).any(|w| w == run3) {
            true => "0.3",
            false => "0.2",
        };
        writeln!(
            out,
            "a WASI {release} program of {} bytes; adapted, a preview1 module of {} bytes",
            bytes.len(),
            adapted.wasm.len()
        )?;
        &adapted.wasm
    };
    let needed = features::needed(wasm)?;
    let set = Features::of(&needed.iter().map(|u| u.feature).collect::<Vec<_>>());
    writeln!(out, "features: {}", set.names())?;
    for u in &needed {
        writeln!(out, "  {:<20} first in {}", u.feature.name(), u.at)?;
    }
    let imports = preview1_imports(wasm);
    writeln!(
        out,
        "preview1 imports ({}): {}",
        imports.len(),
        imports.join(", ")
    )?;
    let wamr_sockets = imports.iter().any(|i| i == "sock_open");
    writeln!(out, "hosts:")?;
    for host in HOSTS {
        let lacks: Vec<&str> = set
            .iter()
            .filter(|&f| !(host.features)().has(f))
            .map(|f| f.name())
            .collect();
        let verdict = if !lacks.is_empty() {
            let hint = if set
                .iter()
                .all(|f| f.lowerable() || (host.features)().has(f))
            {
                " (adapt with --target-features mvp)"
            } else {
                ""
            };
            format!("refuses it: lacks {}{hint}", lacks.join(", "))
        } else if wamr_sockets && !host.name.starts_with("iwasm") {
            "refuses it: no WAMR socket extension (adapt with --sockets standard)".into()
        } else {
            "runs it".into()
        };
        writeln!(out, "  {:<14} {verdict}", host.name)?;
    }
    Ok(out)
}

fn preview1_imports(wasm: &[u8]) -> Vec<String> {
    let mut names = Vec::new();
    for payload in Parser::new(0).parse_all(wasm).flatten() {
        if let Payload::ImportSection(r) = payload {
            for imp in r.into_imports().flatten() {
                names.push(imp.name.to_string());
            }
        }
    }
    names.sort();
    names.dedup();
    names
}
