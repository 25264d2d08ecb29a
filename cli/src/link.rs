//! Stage 2, link: resolve every import of every instance of the graph, and
//! of the adapter. An import is bound to what the component gives it: a
//! definition in another instance (followed through re-exports), a lowered
//! WASI function (any `@0.2.N`: the adapter's function of the same interface
//! and name), a WASI resource destructor, or a preview1 function the host
//! keeps. Anything else is an error that names the import.

use crate::error::{tagged, ErrorKind};
use crate::input::{Graph, Item, Lowered};
use crate::module::{show, Module};
use crate::verify::UNIMPLEMENTED_SECTION;
use crate::{Options, Sockets};
use anyhow::{bail, Context, Result};
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt::Write;
use wasmparser::{ExternalKind, FuncType};

pub const PREVIEW1: &str = "wasi_snapshot_preview1";

/// What a call of a function becomes in the output.
#[derive(Clone, Debug, PartialEq)]
pub enum Target<'a> {
    /// Defined function `index` (in its module's function index space) of
    /// part `part`.
    Def { part: usize, index: u32 },
    /// A preview1 import of the host, with the type the importer gave it.
    Host {
        module: &'a str,
        name: &'a str,
        ty: FuncType,
    },
    /// Adapter function `func`, whose lists go to allocator `realloc` (when
    /// the program has several).
    Wasi { func: u32, realloc: usize },
    /// The adapter's allocator, when the program has several: it calls the
    /// one of the current WASI call.
    Realloc,
    /// Whether the current allocator can shrink an allocation, when the
    /// program has several.
    CanShrink,
    /// A function of this type that returns `errno` (WAMR's socket calls in
    /// the standard flavour).
    Stub { errno: i32, ty: FuncType },
    /// Adapter function `func` given `consts` before the caller's arguments
    /// (an async built-in's immediates); `ty` is the caller's type.
    Curried {
        func: u32,
        consts: Vec<i32>,
        ty: FuncType,
    },
    /// Replaced by an instruction at each call site.
    Inline(Inline),
    /// `__linker__.text`: copies a trap message text into a buffer.
    Text,
    /// Nothing provides it; an error if the output needs it.
    Missing(String),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Inline {
    Const(i32),
    /// The adapter's state pointer (`__linker__.state_get`).
    StateGet,
    /// The WASI function being called (`__linker__.enter/current`).
    SetCurrent,
    GetCurrent,
}

/// A table, global or memory: defined item `index` of part `part`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Def {
    pub part: usize,
    pub index: u32,
}

/// One allocator lists are returned through.
pub struct Realloc {
    pub func: Def,
    /// Whether it is a general `cabi_realloc` (shrinks in place), rather
    /// than a special one such as the forward adapter's
    /// `cabi_import_realloc`, which only hands out one buffer.
    pub shrinks: bool,
}

pub struct Linked<'a> {
    /// The program's modules, then the adapter.
    pub modules: Vec<Module<'a>>,
    /// The module of each part: the graph's instances, then the adapter.
    pub parts: Vec<usize>,
    /// Per part, per function import.
    pub funcs: Vec<Vec<Target<'a>>>,
    /// Per part, per table / global import: the definition.
    pub tables: Vec<Vec<Def>>,
    pub globals: Vec<Vec<Def>>,
    /// The output's one memory.
    pub memory: Def,
    pub run: Target<'a>,
    /// The name of the core function `run` is lifted from.
    pub run_name: &'a str,
    pub post_return: Option<Target<'a>>,
    /// The allocators, when there are several (`Target::Wasi` numbers them).
    pub reallocs: Vec<Realloc>,
    /// Non-fatal findings, e.g. imports of functions the adapter only stubs.
    pub warnings: Vec<String>,
}

impl<'a> Linked<'a> {
    pub fn adapter(&self) -> usize {
        self.parts.len() - 1
    }

    /// The adapter's state initialiser, which the start function calls.
    pub fn init_state(&self) -> Option<Def> {
        let part = self.adapter();
        let index = self.module(part).export(INIT_STATE, ExternalKind::Func)?;
        Some(Def { part, index })
    }

    pub fn module(&self, part: usize) -> &Module<'a> {
        &self.modules[self.parts[part]]
    }

    /// What function `index` of `part` is: its own, or what its import is
    /// bound to.
    pub fn func(&self, part: usize, index: u32) -> Target<'a> {
        match self.funcs[part].get(index as usize) {
            Some(t) => t.clone(),
            None => Target::Def { part, index },
        }
    }

    pub fn table(&self, part: usize, index: u32) -> Def {
        match self.tables[part].get(index as usize) {
            Some(d) => *d,
            None => Def { part, index },
        }
    }

    pub fn global(&self, part: usize, index: u32) -> Def {
        match self.globals[part].get(index as usize) {
            Some(d) => *d,
            None => Def { part, index },
        }
    }

    /// The type of what `t` calls.
    pub fn target_type(&self, t: &Target) -> Option<FuncType> {
        match t {
            Target::Def { part, index } => Some(self.module(*part).func_type(*index).clone()),
            Target::Host { ty, .. } | Target::Stub { ty, .. } | Target::Curried { ty, .. } => {
                Some(ty.clone())
            }
            Target::Wasi { func, .. } => Some(self.module(self.adapter()).func_type(*func).clone()),
            _ => None,
        }
    }
}

/// The adapter's state initialiser (`state::init`).
const INIT_STATE: &str = "wasi-downlevel:init-state";

/// The prefix of the adapter's async ABI built-ins (`task`).
pub const ASYNC: &str = "wasi-downlevel:async#";

/// The adapter's stream operation on a file (`__linker__.file_io`).
const FILE_IO: &str = "wasi-downlevel:file-io";

/// The 0.3 streams' socket and listing operations (`__linker__.p3_sockets`,
/// `p3_listing`).
const P3_SOCKETS: &str = "wasi-downlevel:p3-sockets";
const P3_LISTING: &str = "wasi-downlevel:p3-listing";

/// The adapter's stream operation on a TCP socket (`__linker__.tcp_io`).
const TCP_IO: &str = "wasi-downlevel:tcp-io";

/// `wasi:io/streams@0.2.0` -> (`wasi:io/streams`, 0, 2, 0).
fn split_version(module: &str) -> Option<(&str, [u32; 3])> {
    let (iface, version) = module.split_once('@')?;
    let mut parts = version.split('.').map(|p| p.parse::<u32>().ok());
    let v = [parts.next()??, parts.next()??, parts.next()??];
    Some((iface, v))
}

/// The adapter's exports by (interface without version, minor version,
/// function).
struct Provided<'a> {
    funcs: HashMap<(&'a str, u32, &'a str), u32>,
    /// The WASI releases it implements (one per minor version).
    versions: Vec<[u32; 3]>,
    stubs: Vec<&'a str>,
}

impl Provided<'_> {
    /// The adapter's release of `v`'s minor version.
    fn release(&self, v: [u32; 3]) -> Option<[u32; 3]> {
        self.versions.iter().copied().find(|p| p[..2] == v[..2])
    }
}

struct Linker<'g, 'a> {
    graph: &'g Graph<'a>,
    modules: Vec<Module<'a>>,
    parts: Vec<usize>,
    provided: Provided<'a>,
    /// Problems binding WASI imports, all reported together.
    missing: Vec<String>,
    warnings: Vec<String>,
    /// The allocators named by lowered imports, in order of first use.
    reallocs: Vec<Realloc>,
    /// Whether the program can create a TCP socket (and so have streams on
    /// one).
    tcp: bool,
    /// Whether the program can open a stream on a file.
    files: bool,
    /// Whether it can make a WASI 0.3 socket, and list a directory
    /// through WASI 0.3.
    sockets3: bool,
    listing3: bool,
}

pub fn link<'a>(graph: &Graph<'a>, adapter: &'a [u8], options: &Options) -> Result<Linked<'a>> {
    let sockets = options.sockets;
    let mut modules = Vec::new();
    for (i, m) in graph.modules.iter().enumerate() {
        let what = if graph.bare {
            "the program".to_string()
        } else {
            format!("the component's core module {i}")
        };
        modules.push(Module::parse(m, &what)?);
    }
    let adapter_module = Module::parse(adapter, "the adapter")?;
    let provided = provided(&adapter_module);
    modules.push(adapter_module);
    let mut parts: Vec<usize> = graph.instances.iter().map(|i| i.module).collect();
    parts.push(modules.len() - 1);
    let mut l = Linker {
        graph,
        modules,
        parts,
        provided,
        missing: Vec::new(),
        warnings: Vec::new(),
        reallocs: Vec::new(),
        tcp: false,
        files: false,
        sockets3: false,
        listing3: false,
    };
    if graph.bare {
        l.bare_checks()?;
    }
    let program_parts = l.parts.len() - 1;
    let mut funcs = Vec::new();
    let mut tables = Vec::new();
    let mut globals = Vec::new();
    for part in 0..program_parts {
        let m = l.module(part);
        let n = (
            m.imports.len(),
            m.table_imports.len(),
            m.global_imports.len(),
        );
        let mut f = Vec::new();
        for i in 0..n.0 as u32 {
            f.push(l.import_func(part, i, 0)?);
        }
        funcs.push(f);
        tables.push(
            (0..n.1 as u32)
                .map(|i| l.import_def(part, ExternalKind::Table, i, 0))
                .collect::<Result<_>>()?,
        );
        globals.push(
            (0..n.2 as u32)
                .map(|i| l.import_def(part, ExternalKind::Global, i, 0))
                .collect::<Result<_>>()?,
        );
    }
    let mut run = l.item_func(&graph.run, "`wasi:cli/run#run`", 0)?;
    // A `run` lifted async: the adapter's event loop runs it.
    let mut lifted = None;
    if let Some(c) = &graph.callback {
        let callback = l.item_func(c, "the callback of `wasi:cli/run#run`", 0)?;
        let adapter = l.parts.len() - 1;
        let export = format!("{ASYNC}run");
        let Some(index) = l.module(adapter).export(&export, ExternalKind::Func) else {
            bail!("the adapter does not export {export}");
        };
        let i32s = |n: usize| {
            FuncType::new(
                vec![wasmparser::ValType::I32; n],
                [wasmparser::ValType::I32],
            )
        };
        for (t, what, want) in [
            (&run, "`run`", i32s(0)),
            (&callback, "its callback", i32s(3)),
        ] {
            if let Some(have) = l.target_type_of(t).filter(|have| *have != want) {
                bail!(
                    "`wasi:cli/run#run` is lifted async from a core function whose {what} has \
                     type {}, where the canonical ABI has {}",
                    show(&have),
                    show(&want)
                );
            }
        }
        lifted = Some((
            std::mem::replace(
                &mut run,
                Target::Def {
                    part: adapter,
                    index,
                },
            ),
            callback,
        ));
    }
    let post_return = match &graph.post_return {
        Some(p) => Some(l.item_func(p, "the post-return function of `run`", 0)?),
        None => None,
    };
    // A function several modules import is one problem.
    let mut seen = std::collections::HashSet::new();
    l.missing.retain(|m| seen.insert(m.clone()));
    if !l.missing.is_empty() {
        let mut msg = format!(
            "the program imports {} function(s) that no preview1 host provides:",
            l.missing.len()
        );
        for m in &l.missing {
            write!(msg, "\n  {m}")?;
        }
        let imports = l.missing.clone();
        return Err(tagged(ErrorKind::MissingImports { imports }, msg));
    }
    let memory = l.memory()?;

    // One allocator: bind the adapter to it. Several: each WASI call selects
    // its own (`Target::Wasi`).
    let adapter = l.parts.len() - 1;
    let several = l.reallocs.len() > 1;
    if !several {
        for t in funcs.iter_mut().flatten() {
            if let Target::Wasi { func, .. } = *t {
                *t = Target::Def {
                    part: adapter,
                    index: func,
                };
            }
        }
    }
    let adapter_funcs = l
        .module(adapter)
        .imports
        .iter()
        .map(|imp| match (imp.module, imp.name) {
            ("__main_module__", "cabi_realloc") => match l.reallocs.first() {
                _ if several => Target::Realloc,
                Some(r) => Target::Def {
                    part: r.func.part,
                    index: r.func.index,
                },
                // No lowered import names one (a program whose only
                // lists come through the async built-ins): the program's
                // own `cabi_realloc`.
                None => (0..adapter)
                    .find_map(|part| {
                        let index = l.module(part).export("cabi_realloc", ExternalKind::Func)?;
                        Some(Target::Def { part, index })
                    })
                    .unwrap_or_else(|| {
                        Target::Missing(
                            "the program does not export `cabi_realloc`, which the adapter \
                             needs to return lists and strings"
                                .into(),
                        )
                    }),
            },
            ("__linker__", "can_shrink") => match l.reallocs.first() {
                _ if several => Target::CanShrink,
                r => Target::Inline(Inline::Const(r.is_some_and(|r| r.shrinks) as i32)),
            },
            ("__linker__", "state_get") => Target::Inline(Inline::StateGet),
            ("__linker__", name @ ("async_lift" | "async_callback")) => match &lifted {
                Some((lift, _)) if name == "async_lift" => lift.clone(),
                Some((_, callback)) => callback.clone(),
                // Never called: `run` is not async.
                None => Target::Stub {
                    errno: 0,
                    ty: l.module(adapter).types[imp.ty as usize].clone(),
                },
            },
            ("__linker__", "enter") => Target::Inline(Inline::SetCurrent),
            ("__linker__", "current") => Target::Inline(Inline::GetCurrent),
            ("__linker__", "text") => Target::Text,
            // The stream paths of a kind, bound only where the program can
            // make a stream of that kind (so a program without sockets
            // imports no `sock_*` function); else stubs, never called (or,
            // for the socket's no-op calls, ignored).
            ("__linker__", name @ ("tcp_io" | "file_io" | "p3_sockets" | "p3_listing")) => {
                let (wanted, export) = match name {
                    "tcp_io" => (l.tcp, TCP_IO),
                    "file_io" => (l.files, FILE_IO),
                    "p3_sockets" => (l.sockets3, P3_SOCKETS),
                    _ => (l.listing3, P3_LISTING),
                };
                match l.module(adapter).export(export, ExternalKind::Func) {
                    Some(index) if wanted => Target::Def {
                        part: adapter,
                        index,
                    },
                    None if wanted => {
                        Target::Missing(format!("the adapter does not export {export}"))
                    }
                    _ => Target::Stub {
                        errno: -58, // `notsup`
                        ty: l.module(adapter).types[imp.ty as usize].clone(),
                    },
                }
            }
            ("__linker__", "sockets_wamr") => {
                Target::Inline(Inline::Const((sockets == Sockets::Wamr) as i32))
            }
            ("__linker__", "denied") => Target::Inline(Inline::Const(
                options.no_tcp as i32
                    | (options.no_udp as i32) << 1
                    | (options.no_ip_name_lookup as i32) << 2,
            )),
            (PREVIEW1, name) => Target::Host {
                module: PREVIEW1,
                name,
                ty: l.module(adapter).types[imp.ty as usize].clone(),
            },
            ("wamr", name) if sockets == Sockets::Wamr => Target::Host {
                module: PREVIEW1,
                name,
                ty: l.module(adapter).types[imp.ty as usize].clone(),
            },
            ("wamr", _) => Target::Stub {
                errno: 58, // `notsup`
                ty: l.module(adapter).types[imp.ty as usize].clone(),
            },
            (m, n) => Target::Missing(format!(
                "the adapter imports {m}.{n}, which nothing provides"
            )),
        })
        .collect();
    funcs.push(adapter_funcs);
    tables.push(Vec::new());
    globals.push(Vec::new());
    let reallocs = if several { l.reallocs } else { Vec::new() };
    Ok(Linked {
        modules: l.modules,
        parts: l.parts,
        funcs,
        tables,
        globals,
        memory,
        run,
        run_name: match graph.run {
            Item::Export { name, .. } => name,
            _ => "wasi:cli/run#run",
        },
        post_return,
        reallocs,
        warnings: l.warnings,
    })
}

fn provided<'a>(adapter: &Module<'a>) -> Provided<'a> {
    let mut p = Provided {
        funcs: HashMap::new(),
        versions: Vec::new(),
        stubs: adapter
            .customs
            .get(UNIMPLEMENTED_SECTION)
            .map(|d| std::str::from_utf8(d).unwrap_or("").lines().collect())
            .unwrap_or_default(),
    };
    for e in &adapter.exports {
        if let Some((module, field)) = e.name.split_once('#') {
            if let Some((iface, v)) = split_version(module) {
                p.funcs.insert((iface, v[1], field), e.index);
                if p.release(v).is_none() {
                    p.versions.push(v);
                }
            }
        }
    }
    p
}

/// How deep re-exports may chain before the graph is called cyclic.
const MAX_DEPTH: u32 = 64;

impl<'g, 'a> Linker<'g, 'a> {
    fn module(&self, part: usize) -> &Module<'a> {
        &self.modules[self.parts[part]]
    }

    /// A bare core module has nowhere to get anything but functions from.
    fn bare_checks(&self) -> Result<()> {
        let m = &self.modules[0];
        for (kind, imports) in [
            ("table", &m.table_imports),
            ("memory", &m.memory_imports),
            ("global", &m.global_imports),
        ] {
            if let Some(imp) = imports.first() {
                bail!(
                    "the program imports {}.{} ({kind}): only function imports are supported",
                    imp.module,
                    imp.name
                );
            }
        }
        Ok(())
    }

    /// Function import `i` of `part`.
    fn import_func(&mut self, part: usize, i: u32, depth: u32) -> Result<Target<'a>> {
        let m = self.module(part);
        let imp = &m.imports[i as usize];
        let (module, name) = (imp.module, imp.name);
        let ty = m.types[imp.ty as usize].clone();
        let what = format!("{module}#{name}");
        let item = self.graph.arg(part, module, name, ExternalKind::Func);
        let target = match &item {
            Item::Host { module, name } => Target::Host {
                module,
                name,
                ty: ty.clone(),
            },
            _ => self.item_func(&item, &what, depth)?,
        };
        if let Some(have) = self.target_type_of(&target) {
            if have != ty {
                let release = |interface: &str| {
                    let r = split_version(interface).and_then(|(_, v)| self.provided.release(v));
                    r.map_or("WASI".into(), |r| format!("WASI 0.{}.{}", r[1], r[2]))
                };
                let (named, sig) = match &item {
                    Item::Lower(l) => (
                        format!("{}#{}", l.interface, l.func),
                        format!("{} defines it as", release(l.interface)),
                    ),
                    Item::ResourceDrop { interface, .. } => (
                        what.clone(),
                        format!("{} defines it as", release(interface)),
                    ),
                    Item::Builtin { name, .. } => (
                        what.clone(),
                        format!("the canonical ABI defines `{name}` as"),
                    ),
                    _ => (what.clone(), "what it is bound to has type".into()),
                };
                bail!(
                    "import {named} has type {}, but {sig} {}",
                    show(&ty),
                    show(&have)
                );
            }
        }
        Ok(target)
    }

    fn target_type_of(&self, t: &Target) -> Option<FuncType> {
        match t {
            Target::Def { part, index } => Some(self.module(*part).func_type(*index).clone()),
            Target::Wasi { func, .. } => {
                Some(self.module(self.parts.len() - 1).func_type(*func).clone())
            }
            _ => None,
        }
    }

    /// The function `item` stands for; `what` names it in errors.
    fn item_func(&mut self, item: &Item<'a>, what: &str, depth: u32) -> Result<Target<'a>> {
        if depth > MAX_DEPTH {
            bail!("{what}: the component's exports form a cycle");
        }
        Ok(match item {
            Item::Export { instance, name, .. } => {
                let m = self.module(*instance);
                let index = m.export(name, ExternalKind::Func).with_context(|| {
                    format!("{what}: core instance {instance} exports no function {name}")
                })?;
                if (index as usize) < m.imports.len() {
                    self.import_func(*instance, index, depth + 1)?
                } else {
                    Target::Def {
                        part: *instance,
                        index,
                    }
                }
            }
            // Named as the WASI function, whatever the importer calls it
            // (wit-component's fixup imports them as "actual.N").
            Item::Lower(l) => self.wasi(l, &format!("{}#{}", l.interface, l.func), depth)?,
            Item::ResourceDrop {
                interface,
                resource,
            } => {
                let field = format!("[resource-drop]{resource}");
                let what = format!("{interface}#{field}");
                let part = self.parts.len() - 1;
                self.bind_wasi(interface, &field, &what).map_or_else(
                    || Target::Missing(what.clone()),
                    |index| Target::Def { part, index },
                )
            }
            Item::Builtin { name, consts } => {
                let part = self.parts.len() - 1;
                let export = format!("{ASYNC}{name}");
                let Some(func) = self.module(part).export(&export, ExternalKind::Func) else {
                    bail!("{what}: the adapter does not export {export}");
                };
                if consts.is_empty() {
                    Target::Def { part, index: func }
                } else {
                    let t = self.module(part).func_type(func);
                    let params = t.params().get(consts.len()..).unwrap_or_default();
                    Target::Curried {
                        func,
                        consts: consts.clone(),
                        ty: FuncType::new(params.iter().copied(), t.results().iter().copied()),
                    }
                }
            }
            Item::Host { module, name } => bail!("{what}: {module}.{name} cannot be called here"),
            Item::Unsupported(why) => {
                self.missing.push(format!("{what} ({why})"));
                Target::Missing(what.into())
            }
        })
    }

    fn wasi(&mut self, l: &Lowered<'a>, what: &str, depth: u32) -> Result<Target<'a>> {
        if let Some(enc) = l.encoding {
            self.missing.push(format!(
                "{what} (lowered with {enc} strings: only UTF-8 is supported)"
            ));
            return Ok(Target::Missing(what.into()));
        }
        let field = if l.is_async {
            Cow::Owned(format!("[async-lower]{}", l.func))
        } else {
            Cow::Borrowed(l.func)
        };
        let Some(func) = self.bind_wasi(l.interface, &field, what) else {
            return Ok(Target::Missing(what.into()));
        };
        let realloc = match &l.realloc {
            Some(r) => {
                let shrinks = matches!(
                    **r,
                    Item::Export {
                        name: "cabi_realloc",
                        ..
                    }
                );
                let t = self.item_func(r, &format!("the allocator of {what}"), depth + 1);
                match t {
                    Ok(Target::Def { part, index }) => {
                        let def = Def { part, index };
                        let ty = self.module(part).func_type(index);
                        let i32s = [wasmparser::ValType::I32; 4];
                        if ty.params() != i32s || ty.results() != [wasmparser::ValType::I32] {
                            bail!(
                                "the program's `cabi_realloc` export has type {}, expected (i32, i32, i32, i32) -> (i32)",
                                show(ty)
                            );
                        }
                        match self.reallocs.iter().position(|r| r.func == def) {
                            Some(i) => i,
                            None => {
                                self.reallocs.push(Realloc { func: def, shrinks });
                                self.reallocs.len() - 1
                            }
                        }
                    }
                    // A bare module without `cabi_realloc`: an error only
                    // if the adapter needs it (see `link`).
                    Err(_) if self.graph.bare => 0,
                    Err(e) => return Err(e),
                    Ok(_) => bail!("the allocator of {what} is not a function of the program"),
                }
            }
            None => {
                let part = self.parts.len() - 1;
                return Ok(Target::Def { part, index: func });
            }
        };
        Ok(Target::Wasi { func, realloc })
    }

    /// The adapter function for `field` of `interface` (any 0.2.N), or
    /// `None` with the problem recorded.
    fn bind_wasi(&mut self, interface: &str, field: &str, what: &str) -> Option<u32> {
        let p = &self.provided;
        let Some((iface, v)) = split_version(interface).filter(|_| interface.starts_with("wasi:"))
        else {
            self.missing.push(format!("{what} (not a WASI 0.2 import)"));
            return None;
        };
        let release = p.release(v);
        let problem = match release {
            None => Some(format!(
                "WASI {}.{}.{}: only 0.2.x and 0.3.x are supported",
                v[0], v[1], v[2]
            )),
            Some(r) if v[2] > r[2] => Some(format!(
                "WASI 0.{}.{} is newer than the adapter's 0.{}.{}",
                v[1], v[2], r[1], r[2]
            )),
            _ => None,
        };
        let (Some(r), None) = (release, problem.as_ref()) else {
            self.missing
                .push(format!("{what} ({})", problem.unwrap_or_default()));
            return None;
        };
        let Some(&index) = p.funcs.get(&(iface, v[1], field)) else {
            let msg = format!("{what} (no such function in WASI 0.{}.{})", r[1], r[2]);
            self.missing.push(msg);
            return None;
        };
        self.files |= iface == "wasi:filesystem/types"
            && matches!(
                field,
                "[method]descriptor.read-via-stream"
                    | "[method]descriptor.write-via-stream"
                    | "[method]descriptor.append-via-stream"
            );
        self.sockets3 |= iface == "wasi:sockets/types" && v[1] == 3;
        self.listing3 |= iface == "wasi:filesystem/types"
            && v[1] == 3
            && field == "[method]descriptor.read-directory";
        // 0.2 creates TCP sockets in their own interface, 0.3 in `types`.
        self.tcp |= iface == "wasi:sockets/tcp-create-socket"
            || (iface == "wasi:sockets/types" && field == "[static]tcp-socket.create");
        let export = format!("{iface}@0.{}.{}#{field}", r[1], r[2]);
        if p.stubs.contains(&export.as_str()) {
            self.warnings
                .push(format!("{what} is not implemented yet: calling it traps"));
        }
        Some(index)
    }

    /// Table or global import `i` of `part`: the definition it is bound to.
    fn import_def(&self, part: usize, kind: ExternalKind, i: u32, depth: u32) -> Result<Def> {
        let m = self.module(part);
        let imp = match kind {
            ExternalKind::Table => &m.table_imports[i as usize],
            ExternalKind::Memory => &m.memory_imports[i as usize],
            _ => &m.global_imports[i as usize],
        };
        let what = format!("import {}.{}", imp.module, imp.name);
        if depth > MAX_DEPTH {
            bail!("{what}: the component's exports form a cycle");
        }
        match self.graph.arg(part, imp.module, imp.name, kind) {
            Item::Export { instance, name, .. } => {
                let m = self.module(instance);
                let index = m.export(name, kind).with_context(|| {
                    format!("{what}: core instance {instance} exports no {kind:?} {name}")
                })?;
                let imported = match kind {
                    ExternalKind::Table => m.table_imports.len(),
                    ExternalKind::Memory => m.memory_imports.len(),
                    _ => m.global_imports.len(),
                };
                if (index as usize) < imported {
                    self.import_def(instance, kind, index, depth + 1)
                } else {
                    Ok(Def {
                        part: instance,
                        index,
                    })
                }
            }
            Item::Unsupported(why) => bail!("{what}: {why}"),
            _ => bail!("{what}: a {kind:?} cannot come from a WASI function"),
        }
    }

    /// The one memory all the program's modules share.
    fn memory(&self) -> Result<Def> {
        let mut defs: Vec<Def> = Vec::new();
        for part in 0..self.parts.len() - 1 {
            let m = self.module(part);
            for i in 0..m.memories.len() {
                defs.push(Def {
                    part,
                    index: (m.memory_imports.len() + i) as u32,
                });
            }
            for i in 0..m.memory_imports.len() as u32 {
                let d = self.import_def(part, ExternalKind::Memory, i, 0)?;
                if !defs.contains(&d) {
                    defs.push(d);
                }
            }
        }
        match defs.as_slice() {
            [one] => Ok(*one),
            [] => bail!("the program's main module must define exactly one memory (it defines 0)"),
            more if self.graph.bare => bail!(
                "the program defines {} memories: only one memory is supported",
                more.len()
            ),
            more => bail!(
                "the component's modules define {} memories: only one memory is supported",
                more.len()
            ),
        }
    }
}
