// Inputs for the linker's fuzzing, shared by `tests/fuzz.rs` (a bounded
// property test in `make test`) and `fuzz/fuzz_targets/adapt.rs`
// (cargo-fuzz): from a byte string, one input of three kinds, and the
// property every input must have.

use arbitrary::{Result, Unstructured};

/// The WASI 0.2 functions the adapter provides, with its signatures.
pub struct Wasi {
    funcs: Vec<(String, String, wasm_encoder::FuncType)>,
}

impl Wasi {
    pub fn new() -> Wasi {
        let mut types = Vec::new();
        let mut func_types = Vec::new();
        let mut funcs = Vec::new();
        let mut imported = 0;
        for payload in wasmparser::Parser::new(0).parse_all(wasi_downlevel::ADAPTER) {
            match payload.unwrap() {
                wasmparser::Payload::TypeSection(r) => {
                    for t in r.into_iter_err_on_gc_types() {
                        let t = t.unwrap();
                        let v = |v: &[wasmparser::ValType]| -> Vec<wasm_encoder::ValType> {
                            v.iter()
                                .map(|t| match t {
                                    wasmparser::ValType::I64 => wasm_encoder::ValType::I64,
                                    wasmparser::ValType::F32 => wasm_encoder::ValType::F32,
                                    wasmparser::ValType::F64 => wasm_encoder::ValType::F64,
                                    _ => wasm_encoder::ValType::I32,
                                })
                                .collect()
                        };
                        types.push(wasm_encoder::FuncType::new(v(t.params()), v(t.results())));
                    }
                }
                wasmparser::Payload::ImportSection(r) => {
                    for i in r.into_imports() {
                        if let wasmparser::TypeRef::Func(t) = i.unwrap().ty {
                            func_types.push(t);
                            imported += 1;
                        }
                    }
                }
                wasmparser::Payload::FunctionSection(r) => {
                    for t in r {
                        func_types.push(t.unwrap());
                    }
                }
                wasmparser::Payload::ExportSection(r) => {
                    for e in r {
                        let e = e.unwrap();
                        let Some((iface, name)) = e.name.split_once('#') else {
                            continue;
                        };
                        let Some((iface, _)) = iface.split_once('@') else {
                            continue;
                        };
                        if e.kind == wasmparser::ExternalKind::Func && iface.starts_with("wasi:") {
                            let ty = types[func_types[e.index as usize] as usize].clone();
                            funcs.push((iface.to_string(), name.to_string(), ty));
                        }
                    }
                }
                _ => {}
            }
        }
        let _ = imported;
        assert!(funcs.len() > 100, "the adapter's WASI exports");
        Wasi { funcs }
    }
}

impl Default for Wasi {
    fn default() -> Wasi {
        Wasi::new()
    }
}

fn val(u: &mut Unstructured) -> Result<wasm_encoder::ValType> {
    Ok(*u.choose(&[
        wasm_encoder::ValType::I32,
        wasm_encoder::ValType::I64,
        wasm_encoder::ValType::F32,
        wasm_encoder::ValType::F64,
    ])?)
}

/// A module shaped like a WASI 0.2 program: random WASI 0.2 imports at
/// random `@0.2.N` (now and then a newer one), mostly with the right
/// signature, some wrong, some not WASI at all; exports `memory`, `run` and
/// usually `cabi_realloc`; everything else (bodies, tables, globals, data,
/// a start function, a second memory) as wasm-smith makes it.
pub fn program(wasi: &Wasi, u: &mut Unstructured) -> Result<Vec<u8>> {
    use wasm_encoder::{EntityType, ExportKind, ExportSection, ImportSection, Module, TypeSection};
    let mut types = TypeSection::new();
    let mut imports = ImportSection::new();
    let n = u.int_in_range(0..=24)?;
    // Half the programs are right in every import; the others go wrong
    // now and then.
    let faulty = u.arbitrary::<bool>()?;
    for i in 0..n {
        let (iface, name, ty) = u.choose(&wasi.funcs)?;
        let version = if faulty && u.ratio(1, 20)? {
            13
        } else {
            u.int_in_range(0..=12)?
        };
        let ty = if faulty && u.ratio(1, 8)? {
            let params = (0..u.int_in_range(0..=4)?)
                .map(|_| val(u))
                .collect::<Result<Vec<_>>>()?;
            let results = (0..u.int_in_range(0..=1)?)
                .map(|_| val(u))
                .collect::<Result<Vec<_>>>()?;
            wasm_encoder::FuncType::new(params, results)
        } else {
            ty.clone()
        };
        types.ty().func_type(&ty);
        let module = if faulty && u.ratio(1, 16)? {
            "env".to_string()
        } else {
            format!("{iface}@0.2.{version}")
        };
        imports.import(&module, name, EntityType::Function(i as u32));
    }
    let mut available = Module::new();
    available.section(&types).section(&imports);

    let mut etypes = TypeSection::new();
    etypes.ty().function([], [wasm_encoder::ValType::I32]);
    etypes.ty().function(
        [wasm_encoder::ValType::I32; 4],
        [wasm_encoder::ValType::I32],
    );
    let mut funcs = wasm_encoder::FunctionSection::new();
    funcs.function(0);
    let realloc = u.ratio(7, 8)?;
    if realloc {
        funcs.function(1);
    }
    let mut mems = wasm_encoder::MemorySection::new();
    mems.memory(wasm_encoder::MemoryType {
        minimum: 1,
        maximum: None,
        memory64: false,
        shared: false,
        page_size_log2: None,
    });
    let mut exports = ExportSection::new();
    exports.export("wasi:cli/run@0.2.0#run", ExportKind::Func, 0);
    if realloc {
        exports.export("cabi_realloc", ExportKind::Func, 1);
    }
    exports.export("memory", ExportKind::Memory, 0);
    let mut code = wasm_encoder::CodeSection::new();
    for _ in 0..(1 + realloc as usize) {
        let mut f = wasm_encoder::Function::new([]);
        f.instructions().i32_const(0).end();
        code.function(&f);
    }
    let mut shape = Module::new();
    shape
        .section(&etypes)
        .section(&funcs)
        .section(&mems)
        .section(&exports)
        .section(&code);

    let mut config: wasm_smith::Config = u.arbitrary()?;
    config.available_imports = Some(available.finish());
    config.exports = Some(shape.finish());
    config.max_memories = if faulty && u.ratio(1, 4)? { 2 } else { 1 };
    config.min_memories = 0;
    config.max_imports = n;
    config.gc_enabled = false;
    config.exceptions_enabled = false;
    Ok(wasm_smith::Module::new(config, u)?.to_bytes())
}

/// Any module wasm-smith makes, with any features.
pub fn arbitrary_module(u: &mut Unstructured) -> Result<Vec<u8>> {
    Ok(wasm_smith::Module::new(u.arbitrary()?, u)?.to_bytes())
}

/// `real` (a component or module we built), truncated, bit-flipped, or
/// with a stretch of it moved elsewhere.
pub fn mutated(real: &[u8], u: &mut Unstructured) -> Result<Vec<u8>> {
    let mut w = real.to_vec();
    for _ in 0..u.int_in_range(1..=4)? {
        if w.is_empty() {
            break;
        }
        match u.int_in_range(0..=3)? {
            0 => w.truncate(u.int_in_range(0..=w.len() - 1)?),
            1 => {
                let i = u.int_in_range(0..=w.len() - 1)?;
                w[i] ^= 1 << u.int_in_range(0..=7)?;
            }
            2 => {
                let i = u.int_in_range(0..=w.len() - 1)?;
                w[i] = u.arbitrary()?;
            }
            _ => {
                let a = u.int_in_range(0..=w.len() - 1)?;
                let b = u.int_in_range(a..=w.len().min(a + 4096))?;
                let piece: Vec<u8> = w.drain(a..b).collect();
                let at = u.int_in_range(0..=w.len())?;
                w.splice(at..at, piece);
            }
        }
    }
    Ok(w)
}

/// The property (`Ok(true)` when the input was adapted): `adapt` gives a module that validates and imports only
/// preview1 (and, once more through `lower`, one for WebAssembly 1.0 or a
/// named refusal), or an error that names the problem and is no internal
/// error. A panic fails the caller.
pub fn check(input: &[u8]) -> std::result::Result<bool, String> {
    let options = wasi_downlevel::Options::default();
    match wasi_downlevel::adapt(input, &options) {
        Ok(out) => {
            wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                .validate_all(&out.wasm)
                .map_err(|e| format!("the output does not validate: {e}"))?;
            for p in wasmparser::Parser::new(0).parse_all(&out.wasm) {
                if let Ok(wasmparser::Payload::ImportSection(r)) = p {
                    for i in r.into_imports().flatten() {
                        if i.module != "wasi_snapshot_preview1" {
                            return Err(format!("the output imports {}.{}", i.module, i.name));
                        }
                    }
                }
            }
            let mvp = wasi_downlevel::features::Features::parse("mvp").unwrap();
            if let Err(e) = wasi_downlevel::lower::lower(&out.wasm, mvp) {
                let msg = format!("{e:#}");
                if !msg.starts_with("cannot lower ") {
                    return Err(format!("lowering failed without naming a feature: {msg}"));
                }
            }
            Ok(true)
        }
        Err(e) if e.kind() == &wasi_downlevel::ErrorKind::Internal => {
            Err(format!("an internal error: {e}"))
        }
        Err(e) if e.message().trim().is_empty() => Err("an error with no message".into()),
        Err(_) => Ok(false),
    }
}
