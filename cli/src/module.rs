//! A parsed core module: the parts the linker reads, each kept as the
//! wasmparser item it came from so the writer can re-encode it.

use anyhow::{bail, Result};
use std::collections::HashMap;
use wasmparser::{
    Data, Element, Export, ExternalKind, FuncType, FunctionBody, Global, MemoryType, Name, Parser,
    Payload, Table, TypeRef,
};

/// An imported table, memory or global (the first indices of its kind).
pub struct Import<'a> {
    pub module: &'a str,
    pub name: &'a str,
}

/// An imported function.
pub struct FuncImport<'a> {
    pub module: &'a str,
    pub name: &'a str,
    pub ty: u32,
}

#[derive(Default)]
pub struct Module<'a> {
    pub types: Vec<FuncType>,
    /// Function imports, in order (they are the first function indices).
    pub imports: Vec<FuncImport<'a>>,
    pub table_imports: Vec<Import<'a>>,
    pub memory_imports: Vec<Import<'a>>,
    pub global_imports: Vec<Import<'a>>,
    /// The type of each defined function.
    pub funcs: Vec<u32>,
    pub bodies: Vec<FunctionBody<'a>>,
    pub exports: Vec<Export<'a>>,
    pub globals: Vec<Global<'a>>,
    pub tables: Vec<Table<'a>>,
    pub memories: Vec<MemoryType>,
    pub elements: Vec<Element<'a>>,
    pub data: Vec<Data<'a>>,
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
                        let import = Import {
                            module: imp.module,
                            name: imp.name,
                        };
                        match imp.ty {
                            TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                                m.imports.push(FuncImport {
                                    module: imp.module,
                                    name: imp.name,
                                    ty,
                                })
                            }
                            TypeRef::Table(_) => m.table_imports.push(import),
                            TypeRef::Memory(_) => m.memory_imports.push(import),
                            TypeRef::Global(_) => m.global_imports.push(import),
                            TypeRef::Tag(_) => {
                                bail!("{what} uses exception-handling tags: not supported")
                            }
                        }
                    }
                }
                Payload::FunctionSection(r) => {
                    for f in r {
                        m.funcs.push(f?);
                    }
                }
                Payload::TableSection(r) => {
                    for t in r {
                        m.tables.push(t?);
                    }
                }
                Payload::MemorySection(r) => {
                    for mem in r {
                        m.memories.push(mem?);
                    }
                }
                Payload::GlobalSection(r) => {
                    for g in r {
                        m.globals.push(g?);
                    }
                }
                Payload::ExportSection(r) => {
                    for e in r {
                        m.exports.push(e?);
                    }
                }
                Payload::StartSection { func, .. } => m.start = Some(func),
                Payload::ElementSection(r) => {
                    for e in r {
                        m.elements.push(e?);
                    }
                }
                Payload::DataCountSection { count, .. } => m.data_count = Some(count),
                Payload::DataSection(r) => {
                    for d in r {
                        m.data.push(d?);
                    }
                }
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
        &self.types[self.func_type_index(index) as usize]
    }

    pub fn func_type_index(&self, index: u32) -> u32 {
        let i = index as usize;
        match self.imports.get(i) {
            Some(imp) => imp.ty,
            None => self.funcs[i - self.imports.len()],
        }
    }

    pub fn func_count(&self) -> u32 {
        (self.imports.len() + self.funcs.len()) as u32
    }

    /// The index of export `name` of `kind`.
    pub fn export(&self, name: &str, kind: ExternalKind) -> Option<u32> {
        self.exports
            .iter()
            .find(|e| e.name == name && same_kind(e.kind, kind))
            .map(|e| e.index)
    }

    /// The body of defined function `index` (`None` for an import).
    pub fn body(&self, index: u32) -> Option<&FunctionBody<'a>> {
        (index as usize)
            .checked_sub(self.imports.len())
            .map(|i| &self.bodies[i])
    }
}

fn same_kind(a: ExternalKind, b: ExternalKind) -> bool {
    use ExternalKind::{Func, FuncExact};
    a == b || matches!((a, b), (Func, FuncExact) | (FuncExact, Func))
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
