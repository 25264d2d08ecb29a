//! Generates the adapter's export shims from `wit/`: one `extern "C"` function
//! per WASI function, under its WIT export name and with the importer's core
//! signature, forwarding to the hand-written `crate::<package>::<interface>::
//! <function>`, after recording which function was called (its number in
//! WIT order, for trap messages). Interfaces listed in `UNIMPLEMENTED` get trapping stubs
//! instead (the tool's build script records their names in the adapter it
//! embeds, so the linker can warn about programs that import them).

#[path = "wit_abi.rs"]
mod wit_abi;

use std::fmt::Write;
use std::path::PathBuf;
use wit_abi::Val;

fn main() -> anyhow::Result<()> {
    let wit = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../wit");
    println!("cargo:rerun-if-changed={}", wit.display());
    println!("cargo:rerun-if-changed=wit_abi.rs");
    println!("cargo:rerun-if-changed=build.rs");
    let mut code = String::new();
    let mut ids = String::new();
    for (id, f) in wit_abi::functions(&wit)?.iter().enumerate() {
        let params: Vec<String> = f
            .params
            .iter()
            .enumerate()
            .map(|(i, t)| format!("p{i}: {}", rust(*t)))
            .collect();
        let args: Vec<String> = (0..f.params.len()).map(|i| format!("p{i}")).collect();
        let ret = match f.results.as_slice() {
            [] => String::new(),
            [t] => format!(" -> {}", rust(*t)),
            _ => anyhow::bail!("{}: more than one flat result", f.export_name()),
        };
        // 0.3's functions live in `crate::p3`, their shims are `p3_...`.
        let p3 = if f.minor == 3 { "p3_" } else { "" };
        let module = format!(
            "crate::{}{}::{}",
            if f.minor == 3 { "p3::" } else { "" },
            f.package,
            snake(&f.interface)
        );
        let body = if !wit_abi::implemented(f) {
            "crate::unsupported()".to_string()
        } else if let Some(call) = f
            .sync
            .as_ref()
            .filter(|_| !WAITS.contains(&(f.interface.as_str(), f.field.as_str())))
        {
            // Finishes at once on preview1: the sync function, then
            // `RETURNED` (2).
            let args: Vec<String> = call.args.iter().map(arg).collect();
            let call_sync = format!(
                "{module}::{}({})",
                rust_fn_name(&call.field),
                args.join(", ")
            );
            match call.store {
                Some((ret, load)) => {
                    format!(
                        "let r = {call_sync}; crate::put(p{ret}, 0, r as {}); 2",
                        rust_load(load)
                    )
                }
                None => format!("{call_sync}; 2"),
            }
        } else {
            format!("{module}::{}({})", rust_fn_name(&f.field), args.join(", "))
        };
        // A function that may use what the call before it left (see
        // `trap::entered_after`) keeps that call's number.
        let enter = if KEEP_PREVIOUS.contains(&(f.interface.as_str(), f.field.as_str())) {
            "entered_after"
        } else {
            "entered"
        };
        writeln!(
            code,
            "#[export_name = \"{}\"]\n#[allow(unused_variables)]\npub unsafe extern \"C\" fn {}{}_{}({}){ret} {{ crate::trap::{enter}({id}); {body} }}\n",
            f.export_name(),
            p3,
            snake(&f.interface),
            rust_fn_name(&f.field),
            params.join(", "),
        )?;
        // The number, for those functions to know their predecessor by.
        writeln!(
            ids,
            "pub const {}{}_{}: i32 = {id};",
            p3.to_uppercase(),
            snake(&f.interface).to_uppercase(),
            rust_fn_name(&f.field).to_uppercase(),
        )?;
    }
    code.push_str(
        "/// Each WASI function's number (`trap::entered`).\n#[allow(dead_code)]\npub mod ids {\n",
    );
    code.push_str(&ids);
    code.push_str("}\n");
    std::fs::write(
        PathBuf::from(std::env::var("OUT_DIR")?).join("exports.rs"),
        code,
    )?;
    Ok(())
}

/// The async functions that wait when lowered async (a subtask the event
/// loop ends); the others finish at once on preview1.
const WAITS: &[(&str, &str)] = &[
    ("monotonic-clock", "[async-lower]wait-for"),
    ("monotonic-clock", "[async-lower]wait-until"),
    ("types", "[async-lower][method]udp-socket.receive"),
];

/// A sync call's argument, from the async shim's parameters.
fn arg(a: &wit_abi::Arg) -> String {
    let load = |off: usize, l: wit_abi::Load| {
        let flat = flat_of(l);
        let load = format!("crate::abi::get::<{}>(p0, {off})", rust_load(l));
        if rust_load(l) == flat {
            load
        } else {
            format!("{load} as {flat}")
        }
    };
    match a {
        wit_abi::Arg::Param(i) => format!("p{i}"),
        wit_abi::Arg::Load(off, l) => load(*off, *l),
        wit_abi::Arg::Select(disc, cases) => {
            let flat = cases
                .iter()
                .flatten()
                .map(|c| flat_of(c.1))
                .next()
                .unwrap_or("i32");
            let arms: Vec<String> = cases
                .iter()
                .enumerate()
                .filter_map(|(i, c)| c.map(|(off, l)| format!("{i} => {}", load(off, l))))
                .collect();
            format!(
                "match crate::abi::get::<u8>(p0, {disc}) {{ {}, _ => 0_{flat} }}",
                arms.join(", ")
            )
        }
    }
}

fn flat_of(l: wit_abi::Load) -> &'static str {
    rust(l.flat())
}

fn rust_load(l: wit_abi::Load) -> &'static str {
    match l {
        wit_abi::Load::U8 => "u8",
        wit_abi::Load::S8 => "i8",
        wit_abi::Load::U16 => "u16",
        wit_abi::Load::S16 => "i16",
        wit_abi::Load::I32 => "i32",
        wit_abi::Load::I64 => "i64",
        wit_abi::Load::F32 => "f32",
        wit_abi::Load::F64 => "f64",
    }
}

/// (interface, function) of the functions whose shims keep the number of
/// the WASI function called before them.
const KEEP_PREVIOUS: &[(&str, &str)] = &[("types", "[method]descriptor.stat-at")];

fn rust(t: Val) -> &'static str {
    match t {
        Val::I32 => "i32",
        Val::I64 => "i64",
        Val::F32 => "f32",
        Val::F64 => "f64",
    }
}

fn snake(s: &str) -> String {
    s.replace(['-', '.'], "_")
}

/// `[method]input-stream.read` -> `input_stream_read`,
/// `[resource-drop]pollable` -> `drop_pollable`, `get-stdin` -> `get_stdin`.
fn rust_fn_name(field: &str) -> String {
    let (prefix, rest) = match field.split_once(']') {
        Some((p, rest)) => (p.trim_start_matches('['), rest),
        None => ("", field),
    };
    match prefix {
        "resource-drop" => format!("drop_{}", snake(rest)),
        "constructor" => format!("new_{}", snake(rest)),
        "async-lower" => format!("async_{}", rust_fn_name(rest)),
        _ => snake(rest),
    }
}
