//! A parsed core module: the parts the linker reads, each kept as the
//! wasmparser reader it came from so the writer can re-encode it.

use anyhow::{bail, Result};
use std::collections::HashMap;
use wasmparser::{
    DataSectionReader, ElementSectionReader, Export, FuncType, FunctionBody, GlobalSectionReader,
    MemorySectionReader, Name, Parser, Payload, TableSectionReader, TypeRef,
};

/// An imported function.
pub struct FuncImport<'a> {
    pub module: &'a str,
    pub name: &'a str,
    pub ty: u32,
}

#[derive(Default)]
pub struct Module<'a> {
    pub types: Vec<FuncType>,
    pub imports: Vec<FuncImport<'a>>,
    /// The type of each defined function.
    pub funcs: Vec<u32>,
    pub bodies: Vec<FunctionBody<'a>>,
    pub exports: Vec<Export<'a>>,
    pub globals: Option<GlobalSectionReader<'a>>,
    pub tables: Option<TableSectionReader<'a>>,
    pub memories: Option<MemorySectionReader<'a>>,
    pub elements: Option<ElementSectionReader<'a>>,
    pub data: Option<DataSectionReader<'a>>,
    pub data_count: Option<u32>,
    pub start: Option<u32>,
    /// Function names from the name section, by function index.
    pub names: HashMap<u32, &'a str>,
    /// Custom sections other than `name`, by name.
    pub customs: HashMap<&'a str, &'a [u8]>,
}

impl<'a> Module<'a> {
    /// Parses `bytes`; `what` names the module in errors ("the program").
    pub fn parse(bytes: &'a [u8], what: &str) -> Result<Module<'a>> {
        let mut m = Module::default();
        for payload in Parser::new(0).parse_all(bytes) {
            match payload? {
                Payload::TypeSection(r) => {
                    for t in r.into_iter_err_on_gc_types() {
                        m.types.push(t?);
                    }
                }
                Payload::ImportSection(r) => {
                    for imp in r.into_imports() {
                        let imp = imp?;
                        match imp.ty {
                            TypeRef::Func(ty) => m.imports.push(FuncImport {
                                module: imp.module,
                                name: imp.name,
                                ty,
                            }),
                            TypeRef::Memory(_) if what == "the adapter" => {}
                            other => bail!(
                                "{what} imports {}.{} ({}): only function imports are supported",
                                imp.module,
                                imp.name,
                                kind(&other)
                            ),
                        }
                    }
                }
                Payload::FunctionSection(r) => {
                    for f in r {
                        m.funcs.push(f?);
                    }
                }
                Payload::TableSection(r) => m.tables = Some(r),
                Payload::MemorySection(r) => {
                    if r.count() > 1 {
                        bail!(
                            "{what} defines {} memories: only one memory is supported",
                            r.count()
                        );
                    }
                    m.memories = Some(r)
                }
                Payload::GlobalSection(r) => m.globals = Some(r),
                Payload::ExportSection(r) => {
                    for e in r {
                        m.exports.push(e?);
                    }
                }
                Payload::StartSection { func, .. } => m.start = Some(func),
                Payload::ElementSection(r) => m.elements = Some(r),
                Payload::DataCountSection { count, .. } => m.data_count = Some(count),
                Payload::DataSection(r) => m.data = Some(r),
                Payload::CodeSectionEntry(body) => m.bodies.push(body),
                Payload::TagSection(_) => {
                    bail!("{what} uses exception-handling tags: not supported")
                }
                Payload::CustomSection(c) => match c.as_known() {
                    wasmparser::KnownCustom::Name(names) => {
                        for n in names.into_iter().flatten() {
                            if let Name::Function(map) = n {
                                for naming in map.into_iter().flatten() {
                                    m.names.insert(naming.index, naming.name);
                                }
                            }
                        }
                    }
                    _ => {
                        m.customs.insert(c.name(), c.data());
                    }
                },
                _ => {}
            }
        }
        Ok(m)
    }

    /// The type of function `index` (imports first, then defined ones).
    pub fn func_type(&self, index: u32) -> &FuncType {
        let i = index as usize;
        let ty = match self.imports.get(i) {
            Some(imp) => imp.ty,
            None => self.funcs[i - self.imports.len()],
        };
        &self.types[ty as usize]
    }

    pub fn export(&self, name: &str, kind: wasmparser::ExternalKind) -> Option<u32> {
        self.exports
            .iter()
            .find(|e| e.name == name && e.kind == kind)
            .map(|e| e.index)
    }

    pub fn global_count(&self) -> u32 {
        self.globals.as_ref().map_or(0, |g| g.count())
    }

    pub fn memory_count(&self) -> u32 {
        self.memories.as_ref().map_or(0, |m| m.count())
    }
}

fn kind(t: &TypeRef) -> &'static str {
    match t {
        TypeRef::Func(_) | TypeRef::FuncExact(_) => "function",
        TypeRef::Table(_) => "table",
        TypeRef::Memory(_) => "memory",
        TypeRef::Global(_) => "global",
        TypeRef::Tag(_) => "tag",
    }
}

/// Formats a function type as `(i32, i64) -> (i32)`.
pub fn show(ty: &FuncType) -> String {
    let list = |v: &[wasmparser::ValType]| {
        v.iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("({}) -> ({})", list(ty.params()), list(ty.results()))
}
