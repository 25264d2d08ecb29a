//! WebAssembly features: their names (as LLVM and wasm-tools give them), the
//! set a module needs (and where it first needs each), the `--target-features`
//! a user asks for, and what the preview1 hosts we test accept.

use anyhow::{bail, Result};
use wasmparser::{Name, Parser, Payload, Validator, WasmFeatures};

/// A feature beyond WebAssembly 1.0's core (or, for `mutable-globals`, one
/// of 1.0 a host may still lack).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Feature {
    MutableGlobals,
    SignExt,
    NontrappingFptoint,
    BulkMemory,
    Multivalue,
    ReferenceTypes,
    Simd128,
    RelaxedSimd,
    TailCall,
    ExtendedConst,
    Multimemory,
    Memory64,
    ExceptionHandling,
    Atomics,
    Gc,
}

use Feature::*;

/// Every feature, those that depend on others first (the order in which
/// [`needed`] tries to do without them).
pub const ALL: &[Feature] = &[
    Gc,
    ExceptionHandling,
    RelaxedSimd,
    Simd128,
    TailCall,
    Atomics,
    Memory64,
    Multimemory,
    ExtendedConst,
    ReferenceTypes,
    BulkMemory,
    Multivalue,
    NontrappingFptoint,
    SignExt,
    MutableGlobals,
];

impl Feature {
    pub fn name(self) -> &'static str {
        match self {
            MutableGlobals => "mutable-globals",
            SignExt => "sign-ext",
            NontrappingFptoint => "nontrapping-fptoint",
            BulkMemory => "bulk-memory",
            Multivalue => "multivalue",
            ReferenceTypes => "reference-types",
            Simd128 => "simd128",
            RelaxedSimd => "relaxed-simd",
            TailCall => "tail-call",
            ExtendedConst => "extended-const",
            Multimemory => "multimemory",
            Memory64 => "memory64",
            ExceptionHandling => "exception-handling",
            Atomics => "atomics",
            Gc => "gc",
        }
    }

    pub fn by_name(name: &str) -> Option<Feature> {
        ALL.iter().copied().find(|f| f.name() == name)
    }

    /// wasmparser's flags for it.
    pub fn flags(self) -> WasmFeatures {
        match self {
            MutableGlobals => WasmFeatures::MUTABLE_GLOBAL,
            SignExt => WasmFeatures::SIGN_EXTENSION,
            NontrappingFptoint => WasmFeatures::SATURATING_FLOAT_TO_INT,
            BulkMemory => WasmFeatures::BULK_MEMORY,
            Multivalue => WasmFeatures::MULTI_VALUE,
            ReferenceTypes => WasmFeatures::REFERENCE_TYPES,
            Simd128 => WasmFeatures::SIMD,
            RelaxedSimd => WasmFeatures::RELAXED_SIMD,
            TailCall => WasmFeatures::TAIL_CALL,
            ExtendedConst => WasmFeatures::EXTENDED_CONST,
            Multimemory => WasmFeatures::MULTI_MEMORY,
            Memory64 => WasmFeatures::MEMORY64,
            ExceptionHandling => WasmFeatures::EXCEPTIONS | WasmFeatures::LEGACY_EXCEPTIONS,
            Atomics => WasmFeatures::THREADS,
            Gc => WasmFeatures::GC | WasmFeatures::FUNCTION_REFERENCES,
        }
    }

    /// Whether `adapt --target-features` can rewrite a module that uses it
    /// into one that does not.
    pub fn lowerable(self) -> bool {
        matches!(
            self,
            SignExt
                | NontrappingFptoint
                | BulkMemory
                | Multivalue
                | ReferenceTypes
                | TailCall
                | ExtendedConst
        )
    }
}

/// A set of features.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct Features(u32);

impl Features {
    pub const NONE: Features = Features(0);

    pub fn all() -> Features {
        ALL.iter().fold(Features::NONE, |s, &f| s.with(f))
    }

    pub fn of(list: &[Feature]) -> Features {
        list.iter().fold(Features::NONE, |s, &f| s.with(f))
    }

    pub fn has(self, f: Feature) -> bool {
        self.0 & 1 << f as u32 != 0
    }

    pub fn with(self, f: Feature) -> Features {
        Features(self.0 | 1 << f as u32)
    }

    pub fn without(self, f: Feature) -> Features {
        Features(self.0 & !(1 << f as u32))
    }

    pub fn iter(self) -> impl Iterator<Item = Feature> {
        let mut list: Vec<Feature> = ALL.iter().copied().filter(|&f| self.has(f)).collect();
        list.sort();
        list.into_iter()
    }

    /// The validator's configuration for exactly these features.
    pub fn wasmparser(self) -> WasmFeatures {
        self.iter().fold(WasmFeatures::MVP, |w, f| w | f.flags())
    }

    /// `mvp` (WebAssembly 1.0 as published: mutable globals but nothing
    /// later), `all`, or a comma-separated list of `+name` / `-name` (a bare
    /// name adds), applied to `mvp` or `all` when the list starts with one
    /// and to `all` otherwise.
    pub fn parse(spec: &str) -> Result<Features> {
        let mut items = spec.split(',').map(str::trim).peekable();
        let mut set = match items.peek() {
            Some(&"mvp") => Features::of(&[MutableGlobals]),
            Some(&"all") => Features::all(),
            _ => Features::all(),
        };
        if matches!(items.peek(), Some(&"mvp" | &"all")) {
            items.next();
        }
        for item in items {
            let (add, name) = match item.strip_prefix('-') {
                Some(n) => (false, n),
                None => (true, item.strip_prefix('+').unwrap_or(item)),
            };
            let Some(f) = Feature::by_name(name) else {
                let known: Vec<&str> = ALL.iter().map(|f| f.name()).collect();
                bail!(
                    "unknown feature `{name}` in --target-features `{spec}` (known: mvp, all, {})",
                    known.join(", ")
                );
            };
            set = if add { set.with(f) } else { set.without(f) };
        }
        Ok(set)
    }

    pub fn names(self) -> String {
        let names: Vec<&str> = self.iter().map(Feature::name).collect();
        if names.is_empty() {
            "none beyond WebAssembly 1.0".into()
        } else {
            names.join(", ")
        }
    }
}

/// Where a module first needs a feature.
#[derive(Clone, Debug, PartialEq)]
pub struct Use {
    pub feature: Feature,
    /// What the validator says without it, with the function (index and
    /// name, when the name section has one) and byte offset.
    pub at: String,
}

/// The features `wasm` needs: the smallest set (trying without each in
/// turn, dependents first) it validates with, and where each is first used.
pub fn needed(wasm: &[u8]) -> Result<Vec<Use>> {
    let valid = |set: Features| {
        Validator::new_with_features(set.wasmparser())
            .validate_all(wasm)
            .map(|_| ())
    };
    let mut set = Features::all();
    if let Err(e) = valid(set) {
        bail!(
            "not a valid module: {} (at offset {:#x})",
            e.message(),
            e.offset()
        );
    }
    for &f in ALL {
        if valid(set.without(f)).is_ok() {
            set = set.without(f);
        }
    }
    let funcs = Functions::read(wasm);
    Ok(set
        .iter()
        .map(|f| Use {
            feature: f,
            at: match valid(set.without(f)) {
                Err(e) => funcs.describe(e.offset()),
                Ok(()) => "anywhere".into(),
            },
        })
        .collect())
}

/// Where valid module `wasm` first uses `feature` (and, for SIMD, relaxed
/// SIMD), if it does.
pub fn first_use(wasm: &[u8], feature: Feature) -> Option<String> {
    let mut without = Features::all().without(feature);
    if feature == Simd128 {
        without = without.without(RelaxedSimd);
    }
    match Validator::new_with_features(without.wasmparser()).validate_all(wasm) {
        Ok(_) => None,
        Err(e) => Some(describe_offset(wasm, e.offset())),
    }
}

/// Names the function (and its name, when the name section has one) that
/// byte `offset` of `wasm` is in.
pub fn describe_offset(wasm: &[u8], offset: u64) -> String {
    Functions::read(wasm).describe(offset)
}

/// The defined functions' byte ranges and names (or export names), and
/// the other sections', to name an offset.
struct Functions {
    imported: u32,
    bodies: Vec<std::ops::Range<u64>>,
    names: std::collections::HashMap<u32, String>,
    sections: Vec<(&'static str, std::ops::Range<u64>)>,
}

impl Functions {
    fn read(wasm: &[u8]) -> Functions {
        let mut f = Functions {
            imported: 0,
            bodies: Vec::new(),
            names: Default::default(),
            sections: Vec::new(),
        };
        for payload in Parser::new(0).parse_all(wasm) {
            match payload {
                Ok(Payload::ImportSection(r)) => {
                    f.sections.push(("import section", r.range()));
                    for imp in r.into_imports().flatten() {
                        if matches!(imp.ty, wasmparser::TypeRef::Func(_)) {
                            f.imported += 1;
                        }
                    }
                }
                Ok(Payload::CodeSectionEntry(body)) => f.bodies.push(body.range()),
                Ok(Payload::ExportSection(r)) => {
                    f.sections.push(("export section", r.range()));
                    for e in r.into_iter().flatten() {
                        if e.kind == wasmparser::ExternalKind::Func {
                            f.names.entry(e.index).or_insert_with(|| e.name.to_string());
                        }
                    }
                }
                Ok(Payload::TypeSection(r)) => f.sections.push(("type section", r.range())),
                Ok(Payload::TableSection(r)) => f.sections.push(("table section", r.range())),
                Ok(Payload::MemorySection(r)) => f.sections.push(("memory section", r.range())),
                Ok(Payload::GlobalSection(r)) => f.sections.push(("global section", r.range())),
                Ok(Payload::ElementSection(r)) => f.sections.push(("element section", r.range())),
                Ok(Payload::DataSection(r)) => f.sections.push(("data section", r.range())),
                Ok(Payload::TagSection(r)) => f.sections.push(("tag section", r.range())),
                Ok(Payload::DataCountSection { range, .. }) => {
                    f.sections.push(("data count section", range))
                }
                Ok(Payload::CustomSection(c)) if c.name() == "name" => {
                    let reader = wasmparser::NameSectionReader::new(wasmparser::BinaryReader::new(
                        c.data(),
                        c.data_offset(),
                    ));
                    for name in reader.into_iter().flatten() {
                        if let Name::Function(map) = name {
                            for n in map.into_iter().flatten() {
                                f.names.insert(n.index, n.name.to_string());
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        f
    }

    fn describe(&self, offset: u64) -> String {
        match self.bodies.iter().position(|r| r.contains(&offset)) {
            Some(i) => {
                let index = self.imported + i as u32;
                match self.names.get(&index) {
                    Some(n) => format!("function {index} `{n}`, offset {offset:#x}"),
                    None => format!("function {index}, offset {offset:#x}"),
                }
            }
            None => match self.sections.iter().find(|(_, r)| r.contains(&offset)) {
                Some((name, _)) => format!("the {name}, offset {offset:#x}"),
                None => format!("offset {offset:#x}"),
            },
        }
    }
}

/// A preview1 host we test, and the features it accepts (checked against
/// the host itself by `tests/hosts.rs`).
pub struct Host {
    pub name: &'static str,
    pub features: fn() -> Features,
}

/// What WAMR always has (sign-ext, saturating conversions and multi-value
/// are not build options): our `iwasm-nobulk`.
fn wamr_base() -> Features {
    Features::of(&[MutableGlobals, SignExt, NontrappingFptoint, Multivalue])
}

/// Our `iwasm`: WAMR with bulk memory, reference types and SIMD.
fn wamr_full() -> Features {
    wamr_base()
        .with(BulkMemory)
        .with(ReferenceTypes)
        .with(Simd128)
}

pub const HOSTS: &[Host] = &[
    Host {
        name: "embedded",
        features: || {
            Features::all()
                .without(Gc)
                .without(ExceptionHandling)
                .without(Atomics)
        },
    },
    Host {
        name: "wasmtime",
        features: || Features::all().without(Atomics),
    },
    Host {
        name: "iwasm",
        features: wamr_full,
    },
    Host {
        name: "iwasm-nobulk",
        features: wamr_base,
    },
    // Compiled by wamrc for the build it runs on: what that build accepts.
    Host {
        name: "iwasm-aot",
        features: wamr_full,
    },
    Host {
        name: "iwasm-nobulk-aot",
        features: wamr_base,
    },
    Host {
        name: "node",
        features: || {
            Features::all()
                .without(Gc)
                .without(ExceptionHandling)
                .without(Memory64)
                .without(Multimemory)
                .without(RelaxedSimd)
                .without(ExtendedConst)
        },
    },
];
