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
    /// A built-in of the component model's async ABI: the adapter's
    /// `wasi-downlevel:async#<name>`, given these constants (the canon's
    /// immediates: an `async` flag, an element size, a slot) before the
    /// program's arguments.
    Builtin {
        name: &'static str,
        consts: Vec<i32>,
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
    /// For a `run` lifted async (WASI 0.3): its callback, which the
    /// adapter's event loop calls with each event.
    pub callback: Option<Item<'a>>,
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
        callback: None,
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
    /// A core function lifted, with its post-return function; lifted async,
    /// whether with a callback (and which).
    Lifted {
        core: Item<'a>,
        post_return: Option<Item<'a>>,
        is_async: bool,
        callback: Option<Item<'a>>,
    },
    Other,
}

/// The layouts (size, alignment) of the value types an instance exports,
/// by name.
type Layouts<'a> = Vec<(&'a str, (u32, u32))>;

/// A component-level type.
#[derive(Clone)]
enum Ty<'a> {
    /// A type aliased from an imported instance: (interface, name), and its
    /// layout if a value type's.
    Exported(&'a str, &'a str, Option<(u32, u32)>),
    /// A value type defined here.
    Defined(wasmparser::ComponentDefinedType<'a>),
    /// An instance type: the layouts of the value types it exports.
    Instance(Layouts<'a>),
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
    /// The component's types, as far as the graph needs them.
    types: Vec<Ty<'a>>,
    /// The layouts of the value types each imported instance exports.
    layouts: std::collections::HashMap<&'a str, Layouts<'a>>,
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
        if !version.starts_with("0.2.") && !version.starts_with("0.3.") {
            bail!(
                "the component exports `{run_name}`: WASI {version}: only 0.2.x and 0.3.x are supported"
            );
        }
        let (core, post_return, is_async, callback) =
            self.lifted_run(run_instance).with_context(|| {
                format!("the component's `{run_name}` export is not a lifted core function")
            })?;
        if is_async && callback.is_none() {
            bail!(
                "the component's `{run_name}` is lifted async without a callback (stackful): that \
                 needs stack switching, which preview1 hosts do not have; build it with a callback \
                 (wit-bindgen's async bindings use one)"
            );
        }
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
            callback,
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
                        ComponentTypeRef::Instance(t) => {
                            if let Some(Ty::Instance(layouts)) = self.types.get(t as usize) {
                                self.layouts.insert(imp.name.name, layouts.clone());
                            }
                            self.comp_instances
                                .push(CompInstance::Imported(imp.name.name))
                        }
                        ComponentTypeRef::Func(_) => self.funcs.push(Func::Other),
                        ComponentTypeRef::Type(_) => self.types.push(Ty::Other),
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
                for t in r {
                    let t = match t? {
                        wasmparser::ComponentType::Defined(d) => Ty::Defined(d),
                        wasmparser::ComponentType::Instance(decls) => {
                            Ty::Instance(self.instance_layouts(&decls))
                        }
                        _ => Ty::Other,
                    };
                    self.types.push(t);
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
                            // A program may export several (Rust std's 0.2
                            // `main` beside a 0.3 `run`): the newest runs,
                            // as wasmtime runs it given 0.3.
                            let newer = |old: &str| release(e.name.name) > release(old);
                            if e.name.name.starts_with(RUN_EXPORT)
                                && self.run.is_none_or(|(old, _)| newer(old))
                            {
                                self.run = Some((e.name.name, e.index));
                            }
                        }
                        ComponentExternalKind::Func => {
                            let f = self.func(e.index)?;
                            self.funcs.push(f);
                        }
                        ComponentExternalKind::Type => {
                            let t = self.types.get(e.index as usize).cloned();
                            self.types.push(t.unwrap_or(Ty::Other));
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
                    ComponentExternalKind::Type => self.types.push(match interface {
                        Some(i) => {
                            let layout = self.layouts.get(i).and_then(|ls| {
                                ls.iter().find(|(n, _)| *n == name).map(|(_, l)| *l)
                            });
                            Ty::Exported(i, name, layout)
                        }
                        None => Ty::Other,
                    }),
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
                ComponentOuterAliasKind::Type => self.types.push(Ty::Other),
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
                let (mut post_return, mut callback, mut is_async) = (None, None, false);
                for o in options.iter() {
                    match o {
                        CanonicalOption::PostReturn(f) => post_return = Some(self.core_func(*f)?),
                        CanonicalOption::Callback(f) => callback = Some(self.core_func(*f)?),
                        CanonicalOption::Async => is_async = true,
                        _ => {}
                    }
                }
                self.funcs.push(Func::Lifted {
                    core,
                    post_return,
                    is_async,
                    callback,
                });
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
                match self.types.get(resource as usize) {
                    Some(&Ty::Exported(interface, resource, _)) => Item::ResourceDrop {
                        interface,
                        resource,
                    },
                    _ => Item::Unsupported(format!(
                        "the destructor of resource type {resource}, which is not an imported WASI resource"
                    )),
                }
            }
            other => self.async_builtin(&other),
        };
        self.core_funcs.push(item);
        Ok(())
    }

    /// A canonical built-in of the async ABI, as the adapter provides it.
    fn async_builtin(&self, c: &CanonicalFunction) -> Item<'a> {
        use CanonicalFunction as C;
        let is_async = |o: &[CanonicalOption]| o.contains(&CanonicalOption::Async) as i32;
        let b = |name: &'static str, consts: Vec<i32>| Item::Builtin { name, consts };
        let elem = |ty: u32, name: &'static str| match self.payload_size(ty) {
            Some(size) => b(name, vec![size as i32]),
            None => Item::Unsupported(format!(
                "`{}` of a type whose layout is not known (type {ty})",
                builtin(c)
            )),
        };
        match c {
            C::WaitableSetNew => b("waitable-set.new", vec![]),
            C::WaitableSetWait { .. } => b("waitable-set.wait", vec![0]),
            C::WaitableSetPoll { .. } => b("waitable-set.poll", vec![0]),
            C::WaitableSetDrop => b("waitable-set.drop", vec![]),
            C::WaitableJoin => b("waitable.join", vec![]),
            C::SubtaskDrop => b("subtask.drop", vec![]),
            C::SubtaskCancel { async_ } => b("subtask.cancel", vec![*async_ as i32]),
            C::StreamNew { ty } => elem(*ty, "stream.new"),
            C::FutureNew { ty } => elem(*ty, "future.new"),
            C::StreamRead { options, .. } => b("stream.read", vec![is_async(options)]),
            C::StreamWrite { options, .. } => b("stream.write", vec![is_async(options)]),
            C::FutureRead { options, .. } => b("future.read", vec![is_async(options)]),
            C::FutureWrite { options, .. } => b("future.write", vec![is_async(options)]),
            C::StreamCancelRead { async_, .. } | C::FutureCancelRead { async_, .. } => {
                b("cancel-read", vec![*async_ as i32])
            }
            C::StreamCancelWrite { async_, .. } | C::FutureCancelWrite { async_, .. } => {
                b("cancel-write", vec![*async_ as i32])
            }
            C::StreamDropReadable { .. } | C::FutureDropReadable { .. } => {
                b("drop-readable", vec![])
            }
            C::StreamDropWritable { .. } | C::FutureDropWritable { .. } => {
                b("drop-writable", vec![])
            }
            // `run`'s `result`: one i32.
            C::TaskReturn { result, .. } if self.is_plain_result(result.as_ref()) => {
                b("task.return", vec![])
            }
            C::TaskCancel => b("task.cancel", vec![]),
            C::ContextGet { slot, .. } => b("context.get", vec![*slot as i32]),
            C::ContextSet { slot, .. } => b("context.set", vec![*slot as i32]),
            C::BackpressureInc => b("backpressure.inc", vec![]),
            C::BackpressureDec => b("backpressure.dec", vec![]),
            C::ThreadYield => b("yield", vec![0]),
            C::ErrorContextNew { options } | C::ErrorContextDebugMessage { options }
                if !options.iter().any(|o| {
                    matches!(o, CanonicalOption::UTF16 | CanonicalOption::CompactUTF16)
                }) =>
            {
                match c {
                    C::ErrorContextNew { .. } => b("error-context.new", vec![]),
                    _ => b("error-context.debug-message", vec![]),
                }
            }
            C::ErrorContextDrop => b("error-context.drop", vec![]),
            other => Item::Unsupported(format!("the canonical built-in `{}`", builtin(other))),
        }
    }

    /// Whether `t` is `result` without payloads (what `run` returns).
    fn is_plain_result(&self, t: Option<&wasmparser::ComponentValType>) -> bool {
        match t {
            Some(wasmparser::ComponentValType::Type(i)) => matches!(
                self.types.get(*i as usize),
                Some(Ty::Defined(wasmparser::ComponentDefinedType::Result {
                    ok: None,
                    err: None
                }))
            ),
            _ => false,
        }
    }

    /// The size of one element of stream or future type `ty` (0 without
    /// one).
    fn payload_size(&self, ty: u32) -> Option<u32> {
        use wasmparser::ComponentDefinedType as D;
        match self.types.get(ty as usize)? {
            Ty::Defined(D::Stream(t) | D::Future(t)) => match t {
                Some(t) => Some(layout(t, &|i| self.type_layout(i, 0))?.0),
                None => Some(0),
            },
            _ => None,
        }
    }

    /// The layout of component type `i`, if a value type's.
    fn type_layout(&self, i: u32, depth: u32) -> Option<(u32, u32)> {
        match self.types.get(i as usize)? {
            // Types refer only to earlier ones; the depth bounds a bad input.
            Ty::Defined(d) if depth < 64 => defined_layout(d, &|j| self.type_layout(j, depth + 1)),
            Ty::Exported(_, _, l) => *l,
            _ => None,
        }
    }

    /// The layouts of the value types an instance type exports, by name.
    fn instance_layouts(&self, decls: &[wasmparser::InstanceTypeDeclaration<'a>]) -> Layouts<'a> {
        use wasmparser::{ComponentAlias as A, InstanceTypeDeclaration as I, TypeBounds};
        let mut local: Vec<Option<(u32, u32)>> = Vec::new();
        let mut out = Vec::new();
        for d in decls {
            let l = match d {
                I::Type(wasmparser::ComponentType::Defined(t)) => {
                    defined_layout(t, &|j| local.get(j as usize).copied().flatten())
                }
                I::Type(_) => None,
                I::Alias(A::Outer {
                    kind: ComponentOuterAliasKind::Type,
                    count: 1,
                    index,
                }) => self.type_layout(*index, 0),
                I::Alias(A::Outer {
                    kind: ComponentOuterAliasKind::Type,
                    ..
                })
                | I::Alias(A::InstanceExport {
                    kind: ComponentExternalKind::Type,
                    ..
                }) => None,
                I::Export {
                    name,
                    ty: ComponentTypeRef::Type(b),
                } => {
                    let l = match b {
                        TypeBounds::Eq(j) => local.get(*j as usize).copied().flatten(),
                        TypeBounds::SubResource => None,
                    };
                    if let Some(l) = l {
                        out.push((name.name, l));
                    }
                    l
                }
                _ => continue,
            };
            local.push(l);
        }
        out
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
    #[allow(clippy::type_complexity)]
    fn lifted_run(
        &self,
        instance: u32,
    ) -> Result<(Item<'a>, Option<Item<'a>>, bool, Option<Item<'a>>)> {
        let funcs = match self.comp_instance(instance)? {
            CompInstance::Instantiated(fs) => fs,
            CompInstance::Exports(fs) => fs.into_iter().filter(|(n, _)| *n == "run").collect(),
            _ => Vec::new(),
        };
        let lifted: Vec<_> = funcs
            .iter()
            .filter_map(|(_, f)| match self.func(*f).ok()? {
                Func::Lifted {
                    core,
                    post_return,
                    is_async,
                    callback,
                } => Some((core, post_return, is_async, callback)),
                _ => None,
            })
            .collect();
        match <[_; 1]>::try_from(lifted) {
            Ok([run]) => Ok(run),
            Err(v) => bail!("found {} lifted functions for it", v.len()),
        }
    }
}

/// The canonical ABI's (size, alignment) of a value type; `r` gives those of
/// the types it refers to.
fn layout(
    t: &wasmparser::ComponentValType,
    r: &dyn Fn(u32) -> Option<(u32, u32)>,
) -> Option<(u32, u32)> {
    use wasmparser::{ComponentValType as V, PrimitiveValType as P};
    match t {
        V::Primitive(p) => Some(match p {
            P::Bool | P::S8 | P::U8 => (1, 1),
            P::S16 | P::U16 => (2, 2),
            P::S32 | P::U32 | P::F32 | P::Char | P::ErrorContext => (4, 4),
            P::S64 | P::U64 | P::F64 => (8, 8),
            P::String => (8, 4),
        }),
        V::Type(i) => r(*i),
    }
}

fn defined_layout(
    d: &wasmparser::ComponentDefinedType,
    r: &dyn Fn(u32) -> Option<(u32, u32)>,
) -> Option<(u32, u32)> {
    use wasmparser::{ComponentDefinedType as D, ComponentValType as V};
    let align_to = |n: u32, a: u32| n.div_ceil(a) * a;
    // Fields one after another, each at its alignment.
    let fields = |ts: &mut dyn Iterator<Item = &V>| {
        let (mut size, mut align) = (0, 1);
        for t in ts {
            let (s, a) = layout(t, r)?;
            size = align_to(size, a) + s;
            align = align.max(a);
        }
        Some((align_to(size, align), align))
    };
    // A discriminant for `n` cases, then the largest payload.
    let variant = |n: usize, payloads: &mut dyn Iterator<Item = Option<&V>>| {
        let disc = match n {
            0..=256 => 1,
            257..=65536 => 2,
            _ => 4,
        };
        let (mut size, mut align) = (0, disc);
        for p in payloads.flatten() {
            let (s, a) = layout(p, r)?;
            size = size.max(s);
            align = align.max(a);
        }
        Some((align_to(align_to(disc, align) + size, align), align))
    };
    match d {
        D::Primitive(p) => layout(&V::Primitive(*p), r),
        D::Record(fs) => fields(&mut fs.iter().map(|f| &f.1)),
        D::Tuple(ts) => fields(&mut ts.iter()),
        D::Variant(cases) => variant(cases.len(), &mut cases.iter().map(|c| c.ty.as_ref())),
        D::Enum(cases) => variant(cases.len(), &mut std::iter::empty()),
        D::Option(t) => variant(2, &mut [None, Some(t)].into_iter()),
        D::Result { ok, err } => variant(2, &mut [ok.as_ref(), err.as_ref()].into_iter()),
        D::Flags(names) => Some(match names.len() {
            0..=8 => (1, 1),
            9..=16 => (2, 2),
            n => (4 * (n as u32).div_ceil(32), 4),
        }),
        D::List(_) | D::Map(..) => Some((8, 4)),
        D::FixedLengthList(t, n) => {
            let (s, a) = layout(t, r)?;
            Some((s * n, a))
        }
        D::Own(_) | D::Borrow(_) | D::Future(_) | D::Stream(_) => Some((4, 4)),
    }
}

/// `wasi:cli/run@0.3.2` -> (0, 3, 2); unparsable parts are 0.
fn release(name: &str) -> (u32, u32, u32) {
    let v = name.split_once('@').map_or("", |(_, v)| v);
    let mut parts = v.split('.').map(|p| p.parse().unwrap_or(0));
    let mut next = || parts.next().unwrap_or(0);
    (next(), next(), next())
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
