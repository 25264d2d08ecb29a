//! Snapshot tests of the linker, in the style of wasm-tools' tests: each
//! `tests/snapshots/NAME.wat` is a small hand-written main module as a
//! wasm32-wasip2 build would have it; it is adapted with
//! `wasi_downlevel::adapt`, and a rendering of the output is compared with
//! `tests/snapshots/NAME.wat.out`. Run with `BLESS=1` to rewrite those.
//!
//! The rendering shows the output's imports, exports, counts, function names
//! and warnings, and the code of the program's own functions and `_start`,
//! but not the adapter's code, which changes with every adapter change.
//! Function names are the adapter's symbol names (hashes left out); its
//! linker folds identical functions, so a call may show the name of another
//! export with the same code (e.g. all the filesystem stubs are one).

use std::collections::HashMap;
use std::fmt::Write;
use std::path::PathBuf;
use wasmparser::{ExternalKind, FuncType, Name, Operator, Parser, Payload, TypeRef, Validator};

const PREVIEW1: &str = "wasi_snapshot_preview1";

/// The parts of a core module the tests look at.
#[derive(Default)]
struct Parsed {
    types: Vec<FuncType>,
    /// Function imports: module, name, type index.
    imports: Vec<(String, String, u32)>,
    /// Imports other than functions: module, name.
    other_imports: Vec<(String, String)>,
    /// Type index of each defined function.
    funcs: Vec<u32>,
    exports: Vec<(String, ExternalKind, u32)>,
    globals: u32,
    /// Function names from the name section, in section order.
    names: Vec<(u32, String)>,
    /// The functions each defined function calls, by function index.
    calls: Vec<Vec<u32>>,
}

impl Parsed {
    fn new(wasm: &[u8]) -> Parsed {
        let mut p = Parsed::default();
        for payload in Parser::new(0).parse_all(wasm) {
            match payload.unwrap() {
                Payload::TypeSection(r) => p
                    .types
                    .extend(r.into_iter_err_on_gc_types().map(Result::unwrap)),
                Payload::ImportSection(r) => {
                    for imp in r.into_imports() {
                        let imp = imp.unwrap();
                        match imp.ty {
                            TypeRef::Func(t) => {
                                p.imports.push((imp.module.into(), imp.name.into(), t))
                            }
                            _ => p.other_imports.push((imp.module.into(), imp.name.into())),
                        }
                    }
                }
                Payload::FunctionSection(r) => p.funcs.extend(r.into_iter().map(Result::unwrap)),
                Payload::GlobalSection(r) => p.globals = r.count(),
                Payload::ExportSection(r) => {
                    for e in r {
                        let e = e.unwrap();
                        p.exports.push((e.name.into(), e.kind, e.index));
                    }
                }
                Payload::CodeSectionEntry(body) => {
                    let mut calls = Vec::new();
                    for op in body.get_operators_reader().unwrap() {
                        if let Operator::Call { function_index } = op.unwrap() {
                            calls.push(function_index);
                        }
                    }
                    p.calls.push(calls);
                }
                Payload::CustomSection(c) => {
                    if let wasmparser::KnownCustom::Name(names) = c.as_known() {
                        for n in names {
                            if let Name::Function(map) = n.unwrap() {
                                for naming in map {
                                    let naming = naming.unwrap();
                                    p.names.push((naming.index, naming.name.into()));
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        p
    }

    fn func_count(&self) -> usize {
        self.imports.len() + self.funcs.len()
    }

    fn func_type(&self, index: u32) -> &FuncType {
        let i = index as usize;
        let ty = match self.imports.get(i) {
            Some(imp) => imp.2,
            None => self.funcs[i - self.imports.len()],
        };
        &self.types[ty as usize]
    }

    fn index_of(&self, name: &str) -> u32 {
        self.names
            .iter()
            .find(|(_, n)| n == name)
            .unwrap_or_else(|| panic!("no function named {name}"))
            .0
    }

    fn name_of(&self, index: u32) -> &str {
        self.names
            .iter()
            .find(|(i, _)| *i == index)
            .map_or("?", |(_, n)| n.as_str())
    }

    /// The calls in the function named `name`.
    fn calls_in(&self, name: &str) -> &[u32] {
        let i = self.index_of(name) as usize;
        let defined = i
            .checked_sub(self.imports.len())
            .expect("an imported function");
        &self.calls[defined]
    }

    fn import_names(&self) -> Vec<&str> {
        self.imports.iter().map(|(_, n, _)| n.as_str()).collect()
    }
}

/// `(func (param i32 i32) (result i32))`.
fn signature(ty: &FuncType) -> String {
    let mut s = String::from("(func");
    for (word, list) in [("param", ty.params()), ("result", ty.results())] {
        if !list.is_empty() {
            write!(s, " ({word}").unwrap();
            for v in list {
                write!(s, " {v}").unwrap();
            }
            s.push(')');
        }
    }
    s.push(')');
    s
}

fn kind(k: ExternalKind) -> &'static str {
    match k {
        ExternalKind::Func | ExternalKind::FuncExact => "func",
        ExternalKind::Table => "table",
        ExternalKind::Memory => "memory",
        ExternalKind::Global => "global",
        ExternalKind::Tag => "tag",
    }
}

/// The function blocks of `wasmprinter`'s text of a module, by function
/// index: each is its `  (func` line and the more indented lines after it,
/// up to its closing `  )` line if it has one.
fn printed_funcs(text: &str) -> HashMap<u32, Vec<&str>> {
    let mut funcs = HashMap::new();
    let mut current: Option<(u32, Vec<&str>)> = None;
    for line in text.lines() {
        if let Some((_, lines)) = current.as_mut() {
            if line.starts_with("   ") || line == "  )" {
                lines.push(line);
                continue;
            }
            let (index, lines) = current.take().unwrap();
            funcs.insert(index, lines);
        }
        if line.starts_with("  (func ") {
            let index = line
                .split("(;")
                .nth(1)
                .and_then(|s| s.split(";)").next())
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("no function index in {line:?}"));
            current = Some((index, vec![line]));
        }
    }
    funcs.extend(current);
    funcs
}

/// Leaves the hashes out of Rust symbol names, which change with the
/// compiler and crate metadata, not with the code: `17h<16 hex>E` in legacy
/// names, and the `Cs<base62>_` crate disambiguators in v0 (`_R`) names.
fn without_hashes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut in_v0 = false;
    let mut prev = ' ';
    while let Some(c) = rest.chars().next() {
        let hex16 =
            |s: &str| s.len() >= 20 && s.as_bytes()[3..19].iter().all(|b| b.is_ascii_hexdigit());
        if rest.starts_with("17h") && hex16(rest) && rest.as_bytes()[19] == b'E' {
            out.push_str("17h<hash>E");
            rest = &rest[20..];
            prev = 'E';
            continue;
        }
        if rest.starts_with("_R") && matches!(prev, ' ' | '$' | '"') {
            in_v0 = true;
        } else if c.is_whitespace() || c == '"' || c == ')' {
            in_v0 = false;
        }
        if in_v0 && rest.starts_with("Cs") {
            let digits = rest[2..]
                .find(|c: char| !c.is_ascii_alphanumeric())
                .unwrap_or(rest.len() - 2);
            if digits > 0 && rest[2 + digits..].starts_with('_') {
                out.push_str("Cs<hash>_");
                rest = &rest[2 + digits + 1..];
                prev = '_';
                continue;
            }
        }
        out.push(c);
        prev = c;
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The snapshot text for `program` (the input) and its adaptation.
fn render(program: &Parsed, out_wasm: &[u8], out: &Parsed, warnings: &[String]) -> String {
    let mut s = String::new();
    let w = &mut s;
    writeln!(w, ";; warnings ({})", warnings.len()).unwrap();
    for warning in warnings {
        writeln!(w, ";;   {warning}").unwrap();
    }
    writeln!(w, "\n;; imports ({})", out.imports.len()).unwrap();
    for (module, name, ty) in &out.imports {
        let sig = signature(&out.types[*ty as usize]);
        writeln!(w, "(import {module:?} {name:?} {sig})").unwrap();
    }
    writeln!(w, "\n;; exports ({})", out.exports.len()).unwrap();
    for (name, k, index) in &out.exports {
        writeln!(w, "(export {name:?} ({} {index}))", kind(*k)).unwrap();
    }
    let program_funcs = program.funcs.len();
    let synthesized = synthesized(out);
    let adapter_funcs = out.funcs.len() - program_funcs - synthesized;
    writeln!(
        w,
        "\n;; functions: {} = {} imported + {program_funcs} of the program + {adapter_funcs} of \
         the adapter + {synthesized} synthesized",
        out.func_count(),
        out.imports.len(),
    )
    .unwrap();
    writeln!(w, ";; globals: {}", out.globals).unwrap();
    writeln!(w, "\n;; function names ({})", out.names.len()).unwrap();
    for (index, name) in &out.names {
        writeln!(w, ";;   {index}: {name}").unwrap();
    }

    // The program's own code and `_start`, as wasmprinter prints them, so
    // calls show (by name) which function each import was bound to.
    writeln!(w, "\n;; the program's functions and `_start`").unwrap();
    let text = wasmprinter::print_bytes(out_wasm).unwrap();
    let printed = printed_funcs(&text);
    let first = out.imports.len() as u32;
    for index in first..first + program_funcs as u32 {
        for line in &printed[&index] {
            writeln!(w, "{line}").unwrap();
        }
    }
    let start = out.exports.iter().find(|e| e.0 == "_start").unwrap().2;
    // Its index and type index change with the adapter: leave them out.
    let lines = &printed[&start];
    writeln!(w, "  (func $_start").unwrap();
    for line in &lines[1..] {
        writeln!(w, "{line}").unwrap();
    }
    without_hashes(&s)
}

/// Adapts `tests/snapshots/NAME.wat`, checks what every output must be,
/// compares the rendering with `NAME.wat.out` (or writes it, with
/// `BLESS=1`), and returns the input and output for per-case checks.
fn snapshot(name: &str) -> (Parsed, Parsed, Vec<String>) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/snapshots");
    let wat_path = dir.join(format!("{name}.wat"));
    let wat = std::fs::read_to_string(&wat_path).unwrap();
    let input = wat::parse_str(&wat).unwrap_or_else(|e| panic!("{}: {e}", wat_path.display()));
    let adapted = wasi_downlevel::adapt(&input, &Default::default())
        .unwrap_or_else(|e| panic!("adapting {name}: {e:#}"));
    let wasm = &adapted.wasm;

    Validator::new()
        .validate_all(wasm)
        .unwrap_or_else(|e| panic!("{name}: the output does not validate: {e}"));
    let program = Parsed::new(&input);
    let out = Parsed::new(wasm);
    assert!(
        out.other_imports.is_empty(),
        "{name}: imports {:?}",
        out.other_imports
    );
    for (module, field, _) in &out.imports {
        assert_eq!(module, PREVIEW1, "{name}: imports {module}#{field}");
    }
    let exports: Vec<(&str, ExternalKind)> =
        out.exports.iter().map(|e| (e.0.as_str(), e.1)).collect();
    assert_eq!(
        exports,
        [
            ("memory", ExternalKind::Memory),
            ("_start", ExternalKind::Func)
        ],
        "{name}"
    );
    let start = out.exports[1].2;
    assert_eq!(
        *out.func_type(start),
        FuncType::new([], []),
        "{name}: type of _start"
    );
    assert_eq!(out.name_of(start), "_start");

    let rendered = render(&program, wasm, &out, &adapted.warnings);
    let expected_path = dir.join(format!("{name}.wat.out"));
    if std::env::var_os("BLESS").is_some_and(|v| v != "0" && !v.is_empty()) {
        std::fs::write(&expected_path, &rendered).unwrap();
    } else {
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with BLESS=1 to create it)",
                expected_path.display()
            )
        });
        if expected != rendered {
            let line = expected
                .lines()
                .zip(rendered.lines())
                .position(|(a, b)| a != b)
                .unwrap_or_else(|| expected.lines().count().min(rendered.lines().count()));
            panic!(
                "{} differs from the output, first at line {}; run with BLESS=1 to accept it.\n\
                 --- expected\n{expected}\n--- actual\n{rendered}",
                expected_path.display(),
                line + 1
            );
        }
    }
    (program, out, adapted.warnings)
}

/// The functions the linker synthesizes (`_start`, `wasi-downlevel:*`).
fn synthesized(out: &Parsed) -> usize {
    let first_defined = out.imports.len() as u32;
    out.names
        .iter()
        .filter(|(i, n)| *i >= first_defined && (n == "_start" || n.starts_with("wasi-downlevel:")))
        .count()
}

/// The adapter functions (neither program nor synthesized) in `out`; the
/// program's functions are known by their names (the linker keeps only
/// those `_start` reaches).
fn adapter_funcs(program: &Parsed, out: &Parsed) -> usize {
    let first_defined = out.imports.len() as u32;
    let programs = out
        .names
        .iter()
        .filter(|(i, n)| *i >= first_defined && program.names.iter().any(|(_, p)| p == n))
        .count();
    out.funcs.len() - programs - synthesized(out)
}

#[test]
fn hello() {
    let (_, out, warnings) = snapshot("hello");
    assert!(warnings.is_empty(), "{warnings:?}");
    let imports = out.import_names();
    for needed in ["clock_time_get", "fd_write", "proc_exit"] {
        assert!(imports.contains(&needed), "{needed} not in {imports:?}");
    }
}

#[test]
fn versions() {
    let (_, out, warnings) = snapshot("versions");
    assert!(warnings.is_empty(), "{warnings:?}");
    // `[resource-drop]output-stream` at 0.2.0 and at 0.2.12: one function.
    let old = out.calls_in("drop_old");
    let new = out.calls_in("drop_new");
    assert_eq!(old.len(), 1);
    assert_eq!(
        old, new,
        "the 0.2.0 and 0.2.12 imports bind to different functions"
    );
    let target = old[0];
    assert!(target as usize >= out.imports.len(), "bound to an import");
    assert!(
        out.name_of(target).contains("output-stream"),
        "bound to {}",
        out.name_of(target)
    );
    // The 0.2.4 import binds to an adapter function too.
    let run = out.calls_in("run");
    assert!(
        run[..2].iter().all(|&f| f as usize >= out.imports.len()),
        "{run:?}"
    );
    assert!(
        out.name_of(run[0]).contains("get-arguments"),
        "bound to {}",
        out.name_of(run[0])
    );
}

#[test]
fn preview1_passthrough() {
    let (_, out, warnings) = snapshot("preview1-passthrough");
    assert!(warnings.is_empty(), "{warnings:?}");
    let imports = out.import_names();
    assert_eq!(
        imports.iter().filter(|n| **n == "random_get").count(),
        1,
        "{imports:?}"
    );
    // The program's own call goes straight to the import.
    let random_get = imports.iter().position(|n| *n == "random_get").unwrap() as u32;
    assert_eq!(out.calls_in("run")[0], random_get);
    // The adapter's `get-random-u64` calls that same import (maybe through
    // a helper of its own).
    let adapter_call = out.calls_in("run")[1];
    assert!(adapter_call as usize >= out.imports.len());
    let mut seen = vec![adapter_call];
    let mut reached = false;
    while let Some(f) = seen.pop() {
        if f == random_get {
            reached = true;
            break;
        }
        if let Some(calls) = (f as usize)
            .checked_sub(out.imports.len())
            .map(|i| &out.calls[i])
        {
            seen.extend(calls.iter().filter(|&&c| c != f));
        }
    }
    assert!(
        reached,
        "the adapter's get-random-u64 does not reach the program's random_get import"
    );
}

#[test]
fn shrink() {
    let (program, out, warnings) = snapshot("shrink");
    assert!(warnings.is_empty(), "{warnings:?}");
    let mut imports = out.import_names();
    imports.sort();
    assert_eq!(imports, ["clock_time_get", "proc_exit"]);
    let kept = adapter_funcs(&program, &out);
    assert!(
        kept <= 3,
        "{kept} adapter functions kept for one clock import"
    );
}

#[test]
fn no_imports() {
    let (program, out, warnings) = snapshot("no-imports");
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(out.import_names(), ["proc_exit"]);
    assert_eq!(adapter_funcs(&program, &out), 0);
}
