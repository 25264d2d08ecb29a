//! The adapter's contract, derived from `wit/`: every function that the
//! `wasi:cli/command` world imports, with the core signature its *importer*
//! uses (canonical ABI, `GuestImport` flattening).
//!
//! Shared by the adapter's build script, which generates the export shims from
//! it, and the tool's build script, which verifies the built adapter against
//! it. Nothing else lists WASI functions or signatures.

use std::path::Path;
use wit_parser::abi::{AbiVariant, WasmType};
use wit_parser::{Int, Resolve, SizeAlign, Type, TypeDefKind, WorldItem};

/// Prefixes of the export names (`<interface>@<version>#<function>`) of the
/// functions the adapter does not implement yet: they are exported as
/// trapping stubs.
pub const UNIMPLEMENTED: &[&str] = &["wasi:clocks/timezone@0.3"];

/// Whether the adapter implements `f` (or exports a trapping stub).
pub fn implemented(f: &Func) -> bool {
    // An async function's `[async-lower]` form goes with it.
    let name = f.export_name().replace("#[async-lower]", "#");
    !UNIMPLEMENTED.iter().any(|p| name.starts_with(p))
}

/// A core wasm value type as it appears in a flattened signature.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Val {
    I32,
    I64,
    F32,
    F64,
}

/// One function the adapter exports.
#[allow(dead_code)] // each build script reads its own part
pub struct Func {
    /// The WASI package without namespace, e.g. `io`.
    pub package: String,
    /// The interface, e.g. `streams`.
    pub interface: String,
    /// The interface's full name with version, e.g. `wasi:io/streams@0.2.12`.
    pub interface_id: String,
    /// The WASI release's minor version: 2 or 3.
    pub minor: u64,
    /// The function's name inside the interface, e.g. `[method]input-stream.read`.
    pub field: String,
    pub params: Vec<Val>,
    pub results: Vec<Val>,
    /// For an async function lowered async (`[async-lower]<name>`): how its
    /// shim calls the function lowered sync (which finishes at once on
    /// preview1).
    pub sync: Option<SyncCall>,
}

/// A load of a value from memory, as its flat type.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Load {
    U8,
    S8,
    U16,
    S16,
    I32,
    I64,
    F32,
    F64,
}

impl Load {
    /// The flat type it loads as.
    pub fn flat(self) -> Val {
        match self {
            Load::I64 => Val::I64,
            Load::F32 => Val::F32,
            Load::F64 => Val::F64,
            _ => Val::I32,
        }
    }
}

/// Where an argument of the sync call comes from.
#[allow(dead_code)] // the adapter's build script reads it
#[derive(Clone, Debug)]
pub enum Arg {
    /// The async shim's parameter.
    Param(usize),
    /// Loaded from the parameters the async ABI passed in memory (its
    /// parameter 0 points at them): at this offset.
    Load(usize, Load),
    /// A flat value a variant's cases share: the discriminant (a `u8` at
    /// this offset) selects which case's load gives it (none: 0).
    Select(usize, Vec<Option<(usize, Load)>>),
}

#[allow(dead_code)] // the adapter's build script reads it
pub struct SyncCall {
    /// The sync function's name in its interface.
    pub field: String,
    pub args: Vec<Arg>,
    /// The sync function returns a value the async one stores at its
    /// return pointer (parameter index) as this.
    pub store: Option<(usize, Load)>,
}

impl Func {
    /// The name the adapter exports this function under.
    pub fn export_name(&self) -> String {
        format!("{}#{}", self.interface_id, self.field)
    }
}

/// Every function of the `adapter` world in `wit_dir`, in WIT order; each
/// interface's resource destructors come first.
pub fn functions(wit_dir: &Path) -> anyhow::Result<Vec<Func>> {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(wit_dir)?;
    let world = resolve.select_world(&[pkg], Some("adapter"))?;
    let mut sizes = SizeAlign::default();
    sizes.fill(&resolve)?;
    let mut out = Vec::new();
    for item in resolve.worlds[world].imports.values() {
        let WorldItem::Interface { id, .. } = item else {
            continue;
        };
        let iface = &resolve.interfaces[*id];
        let interface_id = resolve.id_of(*id).expect("world imports named interfaces");
        let package = resolve.packages[iface.package.expect("interface has a package")]
            .name
            .name
            .clone();
        let interface = iface.name.clone().expect("interface has a name");
        let minor = resolve.packages[iface.package.expect("interface has a package")]
            .name
            .version
            .as_ref()
            .map_or(0, |v| v.minor);
        let func = |field: String, params: Vec<Val>, results: Vec<Val>, sync| Func {
            package: package.clone(),
            interface: interface.clone(),
            interface_id: interface_id.clone(),
            minor,
            field,
            params,
            results,
            sync,
        };
        for (name, ty) in &iface.types {
            if matches!(resolve.types[*ty].kind, TypeDefKind::Resource) {
                out.push(func(
                    format!("[resource-drop]{name}"),
                    vec![Val::I32],
                    vec![],
                    None,
                ));
            }
        }
        for (name, f) in &iface.functions {
            let sig = resolve.wasm_signature(AbiVariant::GuestImport, f);
            out.push(func(
                name.clone(),
                vals(&sig.params),
                vals(&sig.results),
                None,
            ));
            if f.kind.is_async() {
                let asig = resolve.wasm_signature(AbiVariant::GuestImportAsync, f);
                // (A stub needs no call.)
                let export = format!("{interface_id}#{name}");
                let call = match UNIMPLEMENTED.iter().any(|p| export.starts_with(p)) {
                    true => None,
                    false => Some(
                        sync_call(&resolve, &sizes, f, &sig, &asig)
                            .map_err(|e| anyhow::anyhow!("{interface_id}#{name}: {e}"))?,
                    ),
                };
                out.push(func(
                    format!("[async-lower]{name}"),
                    vals(&asig.params),
                    vals(&asig.results),
                    call,
                ));
            }
        }
    }
    Ok(out)
}

fn vals(types: &[WasmType]) -> Vec<Val> {
    types
        .iter()
        .map(|t| match t {
            WasmType::I32 | WasmType::Pointer | WasmType::Length => Val::I32,
            WasmType::I64 | WasmType::PointerOrI64 => Val::I64,
            WasmType::F32 => Val::F32,
            WasmType::F64 => Val::F64,
        })
        .collect()
}

/// How `[async-lower]f` calls `f` lowered sync: the same parameters (or
/// loaded from memory, where the async ABI passes more than 4 flat ones in
/// a record), its return pointer, and what it returns stored there.
fn sync_call(
    resolve: &Resolve,
    sizes: &SizeAlign,
    f: &wit_parser::Function,
    sync: &wit_parser::abi::WasmSignature,
    asig: &wit_parser::abi::WasmSignature,
) -> anyhow::Result<SyncCall> {
    let types: Vec<Type> = f.params.iter().map(|p| p.ty).collect();
    let mut args = Vec::new();
    if asig.indirect_params {
        for (off, ty) in sizes.field_offsets(&types) {
            loads(resolve, sizes, ty, off.size_wasm32(), &mut args)?;
        }
    } else {
        let n = sync.params.len() - sync.retptr as usize;
        args.extend((0..n).map(Arg::Param));
    }
    let after = if asig.indirect_params { 1 } else { args.len() };
    // The async ABI returns everything through its return pointer.
    let store = match (&sync.results[..], &f.result) {
        ([], _) => {
            if sync.retptr {
                args.push(Arg::Param(after));
            }
            None
        }
        ([_], Some(t)) => {
            let mut l = Vec::new();
            loads(resolve, sizes, t, 0, &mut l)?;
            match l[..] {
                [Arg::Load(0, load)] => Some((after, load)),
                _ => anyhow::bail!("a result of more than one value"),
            }
        }
        _ => anyhow::bail!("unexpected sync signature"),
    };
    Ok(SyncCall {
        field: f.name.clone(),
        args,
        store,
    })
}

/// The loads that give `ty`'s flat values from its place in memory at
/// `base`, in flat order.
fn loads(
    resolve: &Resolve,
    sizes: &SizeAlign,
    ty: &Type,
    base: usize,
    out: &mut Vec<Arg>,
) -> anyhow::Result<()> {
    let int = |i: Int| match i {
        Int::U8 => Load::U8,
        Int::U16 => Load::U16,
        Int::U32 => Load::I32,
        Int::U64 => Load::I64,
    };
    let one = |l: Load, out: &mut Vec<Arg>| out.push(Arg::Load(base, l));
    match ty {
        Type::Bool | Type::U8 => one(Load::U8, out),
        Type::S8 => one(Load::S8, out),
        Type::U16 => one(Load::U16, out),
        Type::S16 => one(Load::S16, out),
        Type::U32 | Type::S32 | Type::Char | Type::ErrorContext => one(Load::I32, out),
        Type::U64 | Type::S64 => one(Load::I64, out),
        Type::F32 => one(Load::F32, out),
        Type::F64 => one(Load::F64, out),
        Type::String => {
            out.push(Arg::Load(base, Load::I32));
            out.push(Arg::Load(base + 4, Load::I32));
        }
        Type::Id(id) => match &resolve.types[*id].kind {
            TypeDefKind::Type(t) => loads(resolve, sizes, t, base, out)?,
            TypeDefKind::Record(r) => {
                let fields: Vec<Type> = r.fields.iter().map(|f| f.ty).collect();
                for (off, t) in sizes.field_offsets(&fields) {
                    loads(resolve, sizes, t, base + off.size_wasm32(), out)?;
                }
            }
            TypeDefKind::Tuple(t) => {
                for (off, t) in sizes.field_offsets(&t.types) {
                    loads(resolve, sizes, t, base + off.size_wasm32(), out)?;
                }
            }
            TypeDefKind::Flags(f) => match f.repr() {
                wit_parser::FlagsRepr::U8 => one(Load::U8, out),
                wit_parser::FlagsRepr::U16 => one(Load::U16, out),
                wit_parser::FlagsRepr::U32(n) => {
                    out.extend((0..n).map(|i| Arg::Load(base + 4 * i, Load::I32)))
                }
            },
            TypeDefKind::Enum(e) => one(int(e.tag()), out),
            TypeDefKind::Handle(_) | TypeDefKind::Future(_) | TypeDefKind::Stream(_) => {
                one(Load::I32, out)
            }
            TypeDefKind::List(_) => {
                out.push(Arg::Load(base, Load::I32));
                out.push(Arg::Load(base + 4, Load::I32));
            }
            TypeDefKind::Variant(v) => {
                let cases: Vec<Option<&Type>> = v.cases.iter().map(|c| c.ty.as_ref()).collect();
                variant(resolve, sizes, v.tag(), &cases, base, out)?
            }
            TypeDefKind::Option(t) => {
                variant(resolve, sizes, Int::U8, &[None, Some(t)], base, out)?
            }
            TypeDefKind::Result(r) => variant(
                resolve,
                sizes,
                Int::U8,
                &[r.ok.as_ref(), r.err.as_ref()],
                base,
                out,
            )?,
            other => anyhow::bail!("a parameter of kind {other:?} passed in memory"),
        },
    }
    Ok(())
}

/// A variant's discriminant, then its payload's flat values: only where at
/// most one case has a payload (joining others' would need conversions).
fn variant(
    resolve: &Resolve,
    sizes: &SizeAlign,
    tag: Int,
    cases: &[Option<&Type>],
    base: usize,
    out: &mut Vec<Arg>,
) -> anyhow::Result<()> {
    let disc = match tag {
        Int::U8 => Load::U8,
        Int::U16 => Load::U16,
        _ => Load::I32,
    };
    out.push(Arg::Load(base, disc));
    let payloads: Vec<&Type> = cases.iter().flatten().copied().collect();
    let off = sizes
        .payload_offset(tag, cases.iter().copied())
        .size_wasm32();
    match payloads[..] {
        [] => Ok(()),
        [t] => loads(resolve, sizes, t, base + off, out),
        // Several: each flat position from the case the discriminant
        // names, where every case's value there has one flat type.
        _ => {
            if disc != Load::U8 {
                anyhow::bail!("a variant of more than 256 cases passed in memory");
            }
            let mut per_case = Vec::new();
            for c in cases {
                let mut l = Vec::new();
                if let Some(t) = c {
                    loads(resolve, sizes, t, base + off, &mut l)?;
                }
                let plain = l.iter().map(|a| match a {
                    Arg::Load(o, l) => Ok((*o, *l)),
                    _ => Err(anyhow::anyhow!("nested variants passed in memory")),
                });
                per_case.push(plain.collect::<anyhow::Result<Vec<_>>>()?);
            }
            let n = per_case.iter().map(Vec::len).max().unwrap_or(0);
            for i in 0..n {
                let at: Vec<Option<(usize, Load)>> =
                    per_case.iter().map(|c| c.get(i).copied()).collect();
                let mut kinds = at.iter().flatten().map(|(_, l)| l.flat());
                let first = kinds.next();
                if kinds.any(|k| Some(k) != first) {
                    anyhow::bail!(
                        "a variant whose cases join different flat types, passed in memory"
                    );
                }
                out.push(Arg::Select(base, at));
            }
            Ok(())
        }
    }
}
