//! Stage 1, read: the program's core instantiation graph.
//!
//! A component is core modules plus the recipe that instantiates them: which
//! instance's exports, lowered WASI functions or resource destructors each
//! import of each module receives. `wasm-component-ld` writes a main module
//! with shim and fixup plumbing, and maybe an embedded forward (preview1 ->
//! 0.2) adapter whose exports the main module imports; preview1 programs made
//! components have `run` exported by that adapter; other toolchains link many
//! modules. This stage reads the recipe, whatever its shape, into a [`Graph`];
//! a bare core module is a graph of one instance whose imports bind by name.

use anyhow::{bail, Context, Result};
use wasmparser::{
    CanonicalFunction, CanonicalOption, ComponentAlias, ComponentExternalKind, ComponentInstance,
    ComponentOuterAliasKind, ComponentTypeRef, Encoding, ExternalKind, Instance, Parser, Payload,
    WasmFeatures,
};

/// The export a WASI 0.2 command's main module runs, without version.
pub const RUN_EXPORT: &str = "wasi:cli/run@";

/// Where an import of a core instance gets its value.
#[derive(Clone, Debug, PartialEq)]
pub enum Item<'a> {
    /// An export of an earlier instance of the graph.
    Export {
        instance: usize,
        name: &'a str,
        kind: ExternalKind,
    },
    /// An imported WASI function, lowered into a core function.
    Lower(Lowered<'a>),
    /// The destructor of a WASI resource type (`canon resource.drop`).
    ResourceDrop {
        interface: &'a str,
        resource: &'a str,
    },
    /// A preview1 function that stays an import of the host (a bare core
    /// module's `wasi_snapshot_preview1` imports).
    Host { module: &'a str, name: &'a str },
    /// Something no preview1 host can provide; the text says what.
    Unsupported(String),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Lowered<'a> {
    /// `wasi:io/streams@0.2.0`.
    pub interface: &'a str,
    /// `[method]output-stream.write`.
    pub func: &'a str,
    /// The allocator that lists and strings returned by it go to.
    pub realloc: Option<Box<Item<'a>>>,
    /// A string encoding other than UTF-8, if asked for.
    pub encoding: Option<&'static str>,
    pub is_async: bool,
}

/// One core instance: `module` instantiated with `args`.
pub struct Instantiation<'a> {
    pub module: usize,
    /// Import module name -> where its items come from.
    pub args: Vec<(&'a str, Args<'a>)>,
}

/// What one import module name of an instantiation is bound to.
#[derive(Clone)]
pub enum Args<'a> {
    /// Every item of that name comes from this earlier instance's exports.
    Instance(usize),
    /// A bag of items (`core instance (export ...)`).
    Bag(Vec<(&'a str, Item<'a>)>),
}

pub struct Graph<'a> {
    pub modules: Vec<&'a [u8]>,
    /// In instantiation order.
    pub instances: Vec<Instantiation<'a>>,
    /// The core function `_start` runs (`wasi:cli/run#run`), and the
    /// post-return function lifted with it.
    pub run: Item<'a>,
    pub post_return: Option<Item<'a>>,
    /// A bare core module: its imports bind by name.
    pub bare: bool,
}

impl<'a> Graph<'a> {
    /// Where import `module.name` of instance `inst` comes from.
    pub fn arg(&self, inst: usize, module: &'a str, name: &'a str, kind: ExternalKind) -> Item<'a> {
        if self.bare {
            return by_name(module, name);
        }
        match self.instances[inst].args.iter().find(|(m, _)| *m == module) {
            Some((_, Args::Instance(i))) => Item::Export {
                instance: *i,
                name,
                kind,
            },
            Some((_, Args::Bag(items))) => match items.iter().find(|(n, _)| *n == name) {
                Some((_, item)) => item.clone(),
                None => Item::Unsupported(format!("nothing is given for {module}.{name}")),
            },
            None => Item::Unsupported(format!("nothing is given for {module}.{name}")),
        }
    }
}

/// A bare module's import: `wasi:*` functions are lowered WASI functions,
/// with the module's `cabi_realloc` (as `wasm-component-ld` would lower
/// them), `wasi_snapshot_preview1` stays with the host.
fn by_name<'a>(module: &'a str, name: &'a str) -> Item<'a> {
    if module == crate::link::PREVIEW1 {
        return Item::Host { module, name };
    }
    if module.starts_with("wasi:") {
        return Item::Lower(Lowered {
            interface: module,
            func: name,
            realloc: Some(Box::new(Item::Export {
                instance: 0,
                name: "cabi_realloc",
                kind: ExternalKind::Func,
            })),
            encoding: None,
            is_async: false,
        });
    }
    Item::Unsupported("not a WASI 0.2 import".into())
}

/// The graph of `bytes` (valid, or an error that says where not), and the
/// scans of its function bodies, made while validating them.
pub fn read(bytes: &[u8]) -> Result<(Graph<'_>, crate::scan::Known)> {
    if !bytes.starts_with(b"\0asm") {
        return Err(crate::error::tagged(
            crate::error::ErrorKind::Invalid { offset: Some(0) },
            "not a WebAssembly file (it does not start with the `\\0asm` magic)",
        ));
    }
    let scans = crate::validate::validate_and_scan(WasmFeatures::all(), bytes, true)
        .context("invalid WebAssembly")?;
    let is_component = Parser::new(0)
        .parse_all(bytes)
        .next()
        .transpose()?
        .is_some_and(|p| {
            matches!(
                p,
                Payload::Version {
                    encoding: Encoding::Component,
                    ..
                }
            )
        });
    let graph = match is_component {
        true => Reader::default().read(bytes)?,
        false => bare(bytes)?,
    };
    Ok((graph, scans))
}

fn bare(bytes: &[u8]) -> Result<Graph<'_>> {
    let run = Parser::new(0)
        .parse_all(bytes)
        .find_map(|p| match p {
            Ok(Payload::ExportSection(r)) => r
                .into_iter()
                .flatten()
                .find(|e| e.name.starts_with(RUN_EXPORT) && e.kind == ExternalKind::Func)
                .map(|e| e.name),
            _ => None,
        })
        .context("the program's main module does not export `wasi:cli/run@0.2.N#run`")?;
    Ok(Graph {
        modules: vec![bytes],
        instances: vec![Instantiation {
            module: 0,
            args: Vec::new(),
        }],
        run: Item::Export {
            instance: 0,
            name: run,
            kind: ExternalKind::Func,
        },
        post_return: None,
        bare: true,
    })
}

/// A component-level function.
#[derive(Clone)]
enum Func<'a> {
    /// A function of an imported instance.
    Imported {
        interface: &'a str,
        name: &'a str,
    },
    /// A core function lifted, with its post-return function.
    Lifted {
        core: Item<'a>,
        post_return: Option<Item<'a>>,
    },
    Other,
}

/// A component-level instance.
#[derive(Clone)]
enum CompInstance<'a> {
    Imported(&'a str),
    /// Instantiated from a nested component with these function arguments.
    Instantiated(Vec<(&'a str, u32)>),
    /// Made of these functions.
    Exports(Vec<(&'a str, u32)>),
    Other,
}

/// A core instance of the component's core index space.
#[derive(Clone)]
enum CoreInstance<'a> {
    Instantiated(usize),
    Bag(Vec<(&'a str, Item<'a>)>),
}

/// The component's index spaces, as far as the graph needs them.
#[derive(Default)]
struct Reader<'a> {
    modules: Vec<Option<&'a [u8]>>,
    instances: Vec<Instantiation<'a>>,
    core_instances: Vec<CoreInstance<'a>>,
    core_funcs: Vec<Item<'a>>,
    core_memories: Vec<Item<'a>>,
    core_tables: Vec<Item<'a>>,
    core_globals: Vec<Item<'a>>,
    funcs: Vec<Func<'a>>,
    comp_instances: Vec<CompInstance<'a>>,
    /// Resource types aliased from imported instances: (interface, name).
    types: Vec<Option<(&'a str, &'a str)>>,
    components: u32,
    /// The `wasi:cli/run@...` export: its name and instance.
    run: Option<(&'a str, u32)>,
}

impl<'a> Reader<'a> {
    fn read(mut self, bytes: &'a [u8]) -> Result<Graph<'a>> {
        // `parse_all` walks nested modules and components too: `depth` is 1
        // at the top level.
        let mut depth = 0;
        for payload in Parser::new(0).parse_all(bytes) {
            let payload = payload?;
            match &payload {
                Payload::Version { .. } => {
                    depth += 1;
                    continue;
                }
                Payload::End(_) => {
                    depth -= 1;
                    continue;
                }
                _ => {}
            }
            if depth > 1 {
                // wasm-component-ld nests a small component that only
                // re-exports `wasi:cli/run`; one with code is a composition.
                if let Payload::ModuleSection {
                    unchecked_range: r, ..
                } = &payload
                {
                    if depth == 2 {
                        bail!(
                            "the component nests a component with code (a core module at offset {}): \
                             composed components are not supported; adapt the program before composing it",
                            r.start
                        );
                    }
                }
                continue;
            }
            self.payload(bytes, payload)?;
        }
        let (run_name, run_instance) = self.run.context(
            "the component does not export `wasi:cli/run@0.2.N`: only WASI 0.2 commands are supported",
        )?;
        let version = run_name.trim_start_matches(RUN_EXPORT);
        if !version.starts_with("0.2.") {
            bail!("the component exports `{run_name}`: WASI {version}: only 0.2.x is supported");
        }
        let (core, post_return) = self.lifted_run(run_instance).with_context(|| {
            format!("the component's `{run_name}` export is not a lifted core function")
        })?;
        let modules = self
            .modules
            .iter()
            .map(|m| m.context("the component instantiates a module it aliases from outside"))
            .collect::<Result<_>>()?;
        Ok(Graph {
            modules,
            instances: self.instances,
            run: core,
            post_return,
            bare: false,
        })
    }

    fn payload(&mut self, bytes: &'a [u8], payload: Payload<'a>) -> Result<()> {
        match payload {
            Payload::ModuleSection {
                unchecked_range: r, ..
            } => self
                .modules
                .push(Some(&bytes[r.start as usize..r.end as usize])),
            Payload::ComponentSection { .. } => self.components += 1,
            Payload::InstanceSection(r) => {
                for inst in r {
                    let inst = match inst? {
                        Instance::Instantiate { module_index, args } => {
                            let args = args
                                .iter()
                                .map(|a| {
                                    let i = self.core_instance(a.index)?;
                                    Ok((
                                        a.name,
                                        match i {
                                            CoreInstance::Instantiated(i) => Args::Instance(i),
                                            CoreInstance::Bag(items) => Args::Bag(items),
                                        },
                                    ))
                                })
                                .collect::<Result<_>>()?;
                            self.instances.push(Instantiation {
                                module: module_index as usize,
                                args,
                            });
                            CoreInstance::Instantiated(self.instances.len() - 1)
                        }
                        Instance::FromExports(exports) => CoreInstance::Bag(
                            exports
                                .iter()
                                .map(|e| Ok((e.name, self.core_item(e.kind, e.index)?)))
                                .collect::<Result<_>>()?,
                        ),
                    };
                    self.core_instances.push(inst);
                }
            }
            Payload::ComponentImportSection(r) => {
                for imp in r {
                    let imp = imp?;
                    match imp.ty {
                        ComponentTypeRef::Instance(_) => self
                            .comp_instances
                            .push(CompInstance::Imported(imp.name.name)),
                        ComponentTypeRef::Func(_) => self.funcs.push(Func::Other),
                        ComponentTypeRef::Type(_) => self.types.push(None),
                        ComponentTypeRef::Component(_) => self.components += 1,
                        ComponentTypeRef::Module(_) => self.modules.push(None),
                        ComponentTypeRef::Value(_) => {}
                    }
                }
            }
            Payload::ComponentAliasSection(r) => {
                for alias in r {
                    self.alias(alias?)?;
                }
            }
            Payload::ComponentTypeSection(r) => {
                for _ in 0..r.count() {
                    self.types.push(None);
                }
            }
            Payload::ComponentCanonicalSection(r) => {
                for canon in r {
                    self.canon(canon?)?;
                }
            }
            Payload::ComponentInstanceSection(r) => {
                for inst in r {
                    let funcs = |args: Vec<(&'a str, ComponentExternalKind, u32)>| {
                        args.into_iter()
                            .filter(|a| a.1 == ComponentExternalKind::Func)
                            .map(|a| (a.0, a.2))
                            .collect()
                    };
                    let inst = match inst? {
                        ComponentInstance::Instantiate { args, .. } => CompInstance::Instantiated(
                            funcs(args.iter().map(|a| (a.name, a.kind, a.index)).collect()),
                        ),
                        ComponentInstance::FromExports(e) => CompInstance::Exports(funcs(
                            e.iter().map(|e| (e.name.name, e.kind, e.index)).collect(),
                        )),
                    };
                    self.comp_instances.push(inst);
                }
            }
            Payload::ComponentExportSection(r) => {
                for e in r {
                    let e = e?;
                    // An export is a new index in its kind's space.
                    match e.kind {
                        ComponentExternalKind::Instance => {
                            let i = self.comp_instance(e.index)?;
                            self.comp_instances.push(i);
                            if e.name.name.starts_with(RUN_EXPORT) {
                                self.run = Some((e.name.name, e.index));
                            }
                        }
                        ComponentExternalKind::Func => {
                            let f = self.func(e.index)?;
                            self.funcs.push(f);
                        }
                        ComponentExternalKind::Type => {
                            let t = self.types.get(e.index as usize).copied().flatten();
                            self.types.push(t);
                        }
                        ComponentExternalKind::Component => self.components += 1,
                        ComponentExternalKind::Module => {
                            let m = self.modules.get(e.index as usize).copied().flatten();
                            self.modules.push(m);
                        }
                        ComponentExternalKind::Value => {}
                    }
                }
            }
            Payload::ComponentStartSection { .. } => {
                bail!("the component has a start function: not supported")
            }
            _ => {}
        }
        Ok(())
    }

    fn alias(&mut self, alias: ComponentAlias<'a>) -> Result<()> {
        match alias {
            ComponentAlias::CoreInstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let item = match self.core_instance(instance_index)? {
                    CoreInstance::Instantiated(i) => Item::Export {
                        instance: i,
                        name,
                        kind,
                    },
                    CoreInstance::Bag(items) => items
                        .into_iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, item)| item)
                        .with_context(|| format!("core instance {instance_index} has no {name}"))?,
                };
                self.push_core(kind, item)?;
            }
            ComponentAlias::InstanceExport {
                kind,
                instance_index,
                name,
            } => {
                let from = self.comp_instance(instance_index)?;
                let interface = match from {
                    CompInstance::Imported(i) => Some(i),
                    _ => None,
                };
                match kind {
                    ComponentExternalKind::Func => self.funcs.push(match interface {
                        Some(interface) => Func::Imported { interface, name },
                        None => match from {
                            CompInstance::Exports(fs) | CompInstance::Instantiated(fs) => fs
                                .iter()
                                .find(|(n, _)| *n == name)
                                .map(|(_, f)| self.func(*f))
                                .transpose()?
                                .unwrap_or(Func::Other),
                            _ => Func::Other,
                        },
                    }),
                    ComponentExternalKind::Type => self.types.push(interface.map(|i| (i, name))),
                    ComponentExternalKind::Instance => {
                        self.comp_instances.push(CompInstance::Other)
                    }
                    ComponentExternalKind::Component => self.components += 1,
                    ComponentExternalKind::Module => self.modules.push(None),
                    ComponentExternalKind::Value => {}
                }
            }
            ComponentAlias::Outer { kind, .. } => match kind {
                ComponentOuterAliasKind::CoreModule => self.modules.push(None),
                ComponentOuterAliasKind::Type => self.types.push(None),
                ComponentOuterAliasKind::Component => self.components += 1,
                ComponentOuterAliasKind::CoreType => {}
            },
        }
        Ok(())
    }

    fn canon(&mut self, canon: CanonicalFunction) -> Result<()> {
        let item = match canon {
            CanonicalFunction::Lift {
                core_func_index,
                options,
                ..
            } => {
                let core = self.core_func(core_func_index)?;
                let mut post_return = None;
                for o in options.iter() {
                    if let CanonicalOption::PostReturn(f) = o {
                        post_return = Some(self.core_func(*f)?);
                    }
                }
                self.funcs.push(Func::Lifted { core, post_return });
                return Ok(());
            }
            CanonicalFunction::Lower {
                func_index,
                options,
            } => match self.func(func_index)? {
                Func::Imported { interface, name } => {
                    let mut lowered = Lowered {
                        interface,
                        func: name,
                        realloc: None,
                        encoding: None,
                        is_async: false,
                    };
                    for o in options.iter() {
                        match o {
                            CanonicalOption::Realloc(f) => {
                                lowered.realloc = Some(Box::new(self.core_func(*f)?))
                            }
                            CanonicalOption::UTF16 => lowered.encoding = Some("UTF-16"),
                            CanonicalOption::CompactUTF16 => {
                                lowered.encoding = Some("latin1+UTF-16")
                            }
                            CanonicalOption::Async => lowered.is_async = true,
                            _ => {}
                        }
                    }
                    Item::Lower(lowered)
                }
                _ => Item::Unsupported(format!(
                    "component function {func_index}, which is not an imported one, lowered (a \
                     composition inside the component)"
                )),
            },
            CanonicalFunction::ResourceDrop { resource } => {
                match self.types.get(resource as usize).copied().flatten() {
                    Some((interface, resource)) => Item::ResourceDrop {
                        interface,
                        resource,
                    },
                    None => Item::Unsupported(format!(
                        "the destructor of resource type {resource}, which is not an imported WASI resource"
                    )),
                }
            }
            other => Item::Unsupported(format!("the canonical built-in `{}`", builtin(&other))),
        };
        self.core_funcs.push(item);
        Ok(())
    }

    fn push_core(&mut self, kind: ExternalKind, item: Item<'a>) -> Result<()> {
        match kind {
            ExternalKind::Func | ExternalKind::FuncExact => self.core_funcs.push(item),
            ExternalKind::Memory => self.core_memories.push(item),
            ExternalKind::Table => self.core_tables.push(item),
            ExternalKind::Global => self.core_globals.push(item),
            ExternalKind::Tag => {
                bail!("the component passes exception tags between modules: not supported")
            }
        }
        Ok(())
    }

    fn core_item(&self, kind: ExternalKind, index: u32) -> Result<Item<'a>> {
        let space = match kind {
            ExternalKind::Func | ExternalKind::FuncExact => &self.core_funcs,
            ExternalKind::Memory => &self.core_memories,
            ExternalKind::Table => &self.core_tables,
            ExternalKind::Global => &self.core_globals,
            ExternalKind::Tag => {
                bail!("the component passes exception tags between modules: not supported")
            }
        };
        space
            .get(index as usize)
            .cloned()
            .with_context(|| format!("core {kind:?} index {index} is out of range"))
    }

    fn core_func(&self, index: u32) -> Result<Item<'a>> {
        self.core_item(ExternalKind::Func, index)
    }

    fn core_instance(&self, index: u32) -> Result<CoreInstance<'a>> {
        self.core_instances
            .get(index as usize)
            .cloned()
            .with_context(|| format!("core instance {index} is out of range"))
    }

    fn comp_instance(&self, index: u32) -> Result<CompInstance<'a>> {
        self.comp_instances
            .get(index as usize)
            .cloned()
            .with_context(|| format!("instance {index} is out of range"))
    }

    fn func(&self, index: u32) -> Result<Func<'a>> {
        self.funcs
            .get(index as usize)
            .cloned()
            .with_context(|| format!("function {index} is out of range"))
    }

    /// The lifted core function behind the `run` export's instance.
    fn lifted_run(&self, instance: u32) -> Result<(Item<'a>, Option<Item<'a>>)> {
        let funcs = match self.comp_instance(instance)? {
            CompInstance::Instantiated(fs) => fs,
            CompInstance::Exports(fs) => fs.into_iter().filter(|(n, _)| *n == "run").collect(),
            _ => Vec::new(),
        };
        let lifted: Vec<_> = funcs
            .iter()
            .filter_map(|(_, f)| match self.func(*f).ok()? {
                Func::Lifted { core, post_return } => Some((core, post_return)),
                _ => None,
            })
            .collect();
        match <[_; 1]>::try_from(lifted) {
            Ok([run]) => Ok(run),
            Err(v) => bail!("found {} lifted functions for it", v.len()),
        }
    }
}

/// The canonical built-in's name as the component-model spec writes it.
fn builtin(c: &CanonicalFunction) -> String {
    let s = format!("{c:?}");
    let name = s.split([' ', '{', '(']).next().unwrap_or("?");
    let mut out = String::new();
    for (i, ch) in name.chars().enumerate() {
        if ch.is_uppercase() && i > 0 {
            out.push('.');
        }
        out.push(ch.to_ascii_lowercase());
    }
    out
}

/// The core module `run` comes from (for a component whose `run` is the
/// forward adapter's, that adapter).
pub fn main_module(bytes: &[u8]) -> Result<&[u8]> {
    let (g, _) = read(bytes)?;
    match g.run {
        Item::Export { instance, .. } => Ok(g.modules[g.instances[instance].module]),
        _ => bail!("`run` is not a core module's export"),
    }
}

/// Whether `bytes` is already a preview1 command: a core module exporting
/// `_start` and importing nothing but `wasi_snapshot_preview1` (`run` runs
/// such a module as it is, e.g. to compare with an adapted build).
pub fn is_preview1_command(bytes: &[u8]) -> bool {
    let mut start = false;
    for p in Parser::new(0).parse_all(bytes) {
        match p {
            Ok(Payload::Version {
                encoding: Encoding::Component,
                ..
            })
            | Err(_) => return false,
            Ok(Payload::ImportSection(r)) => {
                let p1_only = r
                    .into_imports()
                    .all(|i| i.is_ok_and(|i| i.module == crate::link::PREVIEW1));
                if !p1_only {
                    return false;
                }
            }
            Ok(Payload::ExportSection(r)) => {
                start |= r.into_iter().flatten().any(|e| e.name == "_start");
            }
            _ => {}
        }
    }
    start
}
