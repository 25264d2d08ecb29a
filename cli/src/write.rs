//! Stage 4, write: merge the program and the kept adapter code into one core
//! module that imports only `wasi_snapshot_preview1`, add the `_start` entry
//! point, and validate the result.
//!
//! Index spaces of the output: functions are [host imports] [program's]
//! [kept adapter's] [synthesized]; types and globals are the program's, then
//! the adapter's, then new ones. The adapter's `__linker__` state accessors
//! become `global.get`/`global.set` of a new global, its `cabi_realloc`
//! import becomes a call of the program's export, and its `memory.copy` /
//! `memory.fill` become calls of byte loops (so the adapter never needs bulk
//! memory). Its `wamr` imports (WAMR's socket extension) become preview1
//! imports with `--sockets wamr`, and otherwise functions returning `notsup`,
//! so the output imports exactly one flavour's names; `sockets_wamr` becomes
//! a constant.

use crate::link::{Bind, Bindings, PREVIEW1};
use crate::module::Module;
use crate::shrink::Kept;
use crate::Sockets;
use anyhow::{anyhow, bail, Context, Result};
use std::borrow::Cow;
use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, EntityType, ExportKind, ExportSection, Function,
    FunctionSection, GlobalSection, GlobalType, ImportSection, Instruction, MemArg, NameMap,
    NameSection, TypeSection, ValType,
};
use wasmparser::{ExternalKind, Operator};

/// The adapter's shadow stack, allocated by `_start` with `memory.grow`.
const STACK_PAGES: u32 = 1;

/// Pages the adapter grows at run time at the least: its stack, its state,
/// and a first page of heap.
const ADAPTER_PAGES: u64 = STACK_PAGES as u64 + 2;

const ABSENT: u32 = u32::MAX;

/// Maps one input module's indices into the output's.
struct Remap {
    funcs: Vec<u32>,
    types: u32,
    globals: u32,
    /// Only for the adapter: the rewrites described in the module docs.
    adapter: Option<AdapterRewrites>,
}

struct AdapterRewrites {
    sockets_wamr: u32,
    wamr: bool,
    state_get: u32,
    state_set: u32,
    state_global: u32,
    copy: u32,
    fill: u32,
}

impl Reencode for Remap {
    type Error = anyhow::Error;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error<anyhow::Error>> {
        match self.funcs.get(func as usize) {
            Some(&f) if f != ABSENT => Ok(f),
            _ => Err(reencode::Error::UserError(anyhow!(
                "reference to function {func}, which was not kept"
            ))),
        }
    }

    fn type_index(&mut self, ty: u32) -> Result<u32, reencode::Error<anyhow::Error>> {
        Ok(ty + self.types)
    }

    fn global_index(&mut self, global: u32) -> Result<u32, reencode::Error<anyhow::Error>> {
        Ok(global + self.globals)
    }

    fn parse_instruction<'a>(
        &mut self,
        reader: &mut wasmparser::OperatorsReader<'a>,
    ) -> Result<Instruction<'a>, reencode::Error<anyhow::Error>> {
        let op = reader.read()?;
        if let Some(a) = &self.adapter {
            match op {
                Operator::Call { function_index } if function_index == a.sockets_wamr => {
                    return Ok(Instruction::I32Const(a.wamr as i32))
                }
                Operator::Call { function_index } if function_index == a.state_get => {
                    return Ok(Instruction::GlobalGet(a.state_global))
                }
                Operator::Call { function_index } if function_index == a.state_set => {
                    return Ok(Instruction::GlobalSet(a.state_global))
                }
                Operator::MemoryCopy { .. } => return Ok(Instruction::Call(a.copy)),
                Operator::MemoryFill { .. } => return Ok(Instruction::Call(a.fill)),
                _ => {}
            }
        }
        reencode::utils::instruction(self, op)
    }
}

fn user(e: reencode::Error<anyhow::Error>) -> anyhow::Error {
    match e {
        reencode::Error::UserError(e) => e,
        other => anyhow!("{other}"),
    }
}

pub fn merge<'a>(
    program: &Module<'a>,
    adapter: &Module<'a>,
    bindings: &Bindings,
    kept: &Kept,
    sockets: Sockets,
) -> Result<Vec<u8>> {
    let wamr = sockets == Sockets::Wamr;
    // Entry point and memory of the program.
    let run = program
        .exports
        .iter()
        .find(|e| e.name.starts_with(crate::input::RUN_EXPORT) && e.kind == ExternalKind::Func)
        .context("the program's main module does not export `wasi:cli/run@0.2.N#run`")?;
    check_memory(program, kept)?;
    let run_ty = program.func_type(run.index);
    if !run_ty.params().is_empty() || run_ty.results() != [wasmparser::ValType::I32] {
        bail!(
            "the program's `{}` export has type {}, expected () -> (i32)",
            run.name,
            crate::module::show(run_ty)
        );
    }

    // Types: the program's, the adapter's, then the synthesized functions'.
    let mut types = TypeSection::new();
    for t in program.types.iter().chain(&adapter.types) {
        let params: Vec<ValType> = t.params().iter().map(|v| val(*v)).collect::<Result<_>>()?;
        let results: Vec<ValType> = t.results().iter().map(|v| val(*v)).collect::<Result<_>>()?;
        types.ty().function(params, results);
    }
    let synth_types = (program.types.len() + adapter.types.len()) as u32;
    types.ty().function([], []); // _start
    types.ty().function([ValType::I32; 3], []); // copy, fill
    types.ty().function([ValType::I32], []); // proc_exit

    // Imports: the program's preview1 imports, then the adapter's it needs.
    let mut all_types: Vec<wasmparser::FuncType> = program
        .types
        .iter()
        .chain(&adapter.types)
        .cloned()
        .collect();
    all_types.push(wasmparser::FuncType::new([], []));
    all_types.push(wasmparser::FuncType::new([wasmparser::ValType::I32; 3], []));
    all_types.push(wasmparser::FuncType::new([wasmparser::ValType::I32], []));
    let mut imports = ImportSection::new();
    let mut import_names: Vec<(&str, &str, u32)> = Vec::new();
    let import = |imports: &mut ImportSection,
                  names: &mut Vec<(&'a str, &'a str, u32)>,
                  module: &'a str,
                  name: &'a str,
                  ty: u32|
     -> Result<u32> {
        if let Some(i) = names
            .iter()
            .position(|(m, n, _)| *m == module && *n == name)
        {
            if all_types[names[i].2 as usize] != all_types[ty as usize] {
                bail!("{module}.{name} is imported with two different types");
            }
            return Ok(i as u32);
        }
        imports.import(module, name, EntityType::Function(ty));
        names.push((module, name, ty));
        Ok(names.len() as u32 - 1)
    };
    let mut program_funcs = vec![ABSENT; program.imports.len() + program.funcs.len()];
    for (i, (imp, bind)) in program.imports.iter().zip(&bindings.imports).enumerate() {
        if let Bind::Host = bind {
            program_funcs[i] = import(
                &mut imports,
                &mut import_names,
                imp.module,
                imp.name,
                imp.ty,
            )?;
        }
    }
    let mut adapter_funcs = vec![ABSENT; adapter.imports.len() + adapter.funcs.len()];
    // WAMR socket calls the standard flavour replaces with stubs.
    let mut stubs: Vec<(usize, u32)> = Vec::new();
    for (i, imp) in adapter.imports.iter().enumerate() {
        let ty = imp.ty + program.types.len() as u32;
        match imp.module {
            _ if !kept.reached[i] => {}
            PREVIEW1 => {
                adapter_funcs[i] = import(&mut imports, &mut import_names, PREVIEW1, imp.name, ty)?
            }
            "wamr" if wamr => {
                adapter_funcs[i] = import(&mut imports, &mut import_names, PREVIEW1, imp.name, ty)?
            }
            "wamr" => stubs.push((i, ty)),
            _ => {}
        }
    }
    let proc_exit = import(
        &mut imports,
        &mut import_names,
        PREVIEW1,
        "proc_exit",
        synth_types + 2,
    )?;
    let n_imports = import_names.len() as u32;

    // Functions: the program's, the kept adapter's, then the synthesized ones.
    let mut next = n_imports;
    for f in program_funcs.iter_mut().skip(program.imports.len()) {
        *f = next;
        next += 1;
    }
    let kept_defined: Vec<u32> = kept.defined(adapter).collect();
    for &a in &kept_defined {
        adapter_funcs[a as usize] = next;
        next += 1;
    }
    // Synthesized: `_start`; if adapter code is kept, a start function that
    // gives it its stack (before the program's own start function, which may
    // call WASI); the byte loops if kept code needs them.
    let start_fn = next;
    next += 1;
    let mut synth = |used: bool| {
        if used {
            next += 1;
            next - 1
        } else {
            ABSENT
        }
    };
    let init_fn = synth(kept.any());
    let copy_fn = synth(kept.uses_copy);
    let fill_fn = synth(kept.uses_fill);
    for &(i, _) in &stubs {
        adapter_funcs[i] = synth(true);
    }
    for (i, bind) in bindings.imports.iter().enumerate() {
        if let Bind::Adapter(a) = bind {
            program_funcs[i] = adapter_funcs[*a as usize];
        }
    }
    let mut state_get = ABSENT;
    let mut state_set = ABSENT;
    let mut sockets_wamr = ABSENT;
    for (i, imp) in adapter.imports.iter().enumerate() {
        match (imp.module, imp.name) {
            ("__main_module__", "cabi_realloc") if kept.reached[i] => {
                let realloc = program
                    .export("cabi_realloc", ExternalKind::Func)
                    .context("the program does not export `cabi_realloc`, which the adapter needs to return lists and strings")?;
                let ty = program.func_type(realloc);
                if ty.params() != [wasmparser::ValType::I32; 4]
                    || ty.results() != [wasmparser::ValType::I32]
                {
                    bail!(
                        "the program's `cabi_realloc` export has type {}, expected (i32, i32, i32, i32) -> (i32)",
                        crate::module::show(ty)
                    );
                }
                adapter_funcs[i] = program_funcs[realloc as usize];
            }
            ("__linker__", "state_get") => state_get = i as u32,
            ("__linker__", "state_set") => state_set = i as u32,
            ("__linker__", "sockets_wamr") => sockets_wamr = i as u32,
            _ => {}
        }
    }

    let mut funcs = FunctionSection::new();
    for &t in &program.funcs {
        funcs.function(t);
    }
    for &a in &kept_defined {
        funcs.function(
            adapter.funcs[a as usize - adapter.imports.len()] + program.types.len() as u32,
        );
    }
    funcs.function(synth_types);
    if kept.any() {
        funcs.function(synth_types);
    }
    for _ in 0..kept.uses_copy as u32 + kept.uses_fill as u32 {
        funcs.function(synth_types + 1);
    }
    for &(_, ty) in &stubs {
        funcs.function(ty);
    }

    // Globals: the program's, the adapter's, then the adapter's state pointer.
    let mut globals = GlobalSection::new();
    let mut prog = Remap {
        funcs: program_funcs.clone(),
        types: 0,
        globals: 0,
        adapter: None,
    };
    if let Some(g) = program.globals.clone() {
        prog.parse_global_section(&mut globals, g).map_err(user)?;
    }
    let adapter_globals = program.global_count();
    let state_global = adapter_globals + adapter.global_count();
    let mut adap = Remap {
        funcs: adapter_funcs,
        types: program.types.len() as u32,
        globals: adapter_globals,
        adapter: Some(AdapterRewrites {
            sockets_wamr,
            wamr,
            state_get,
            state_set,
            state_global,
            copy: copy_fn,
            fill: fill_fn,
        }),
    };
    if let Some(g) = adapter.globals.clone() {
        adap.parse_global_section(&mut globals, g).map_err(user)?;
    }
    globals.global(
        GlobalType {
            val_type: ValType::I32,
            mutable: true,
            shared: false,
        },
        &ConstExpr::i32_const(0),
    );

    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("_start", ExportKind::Func, start_fn);

    // Code.
    let mut code = CodeSection::new();
    for body in &program.bodies {
        prog.parse_function_body(&mut code, body.clone())
            .map_err(user)?;
    }
    for &a in &kept_defined {
        let body = adapter.bodies[a as usize - adapter.imports.len()].clone();
        adap.parse_function_body(&mut code, body).map_err(user)?;
    }
    code.function(&start_function(
        program_funcs[run.index as usize],
        proc_exit,
    ));
    let program_start = program.start.map(|s| program_funcs[s as usize]);
    if kept.any() {
        // The adapter's stack pointer is its global 0 (verify checks that).
        code.function(&init_function(adapter_globals, program_start));
    }
    if kept.uses_copy {
        code.function(&copy_function());
    }
    if kept.uses_fill {
        code.function(&fill_function());
    }
    for _ in &stubs {
        let mut f = Function::new([]);
        f.instruction(&Instruction::I32Const(58)); // errno `notsup`
        f.instruction(&Instruction::End);
        code.function(&f);
    }

    // Assemble.
    let mut out = wasm_encoder::Module::new();
    out.section(&types).section(&imports).section(&funcs);
    if let Some(t) = program.tables.clone() {
        let mut tables = wasm_encoder::TableSection::new();
        prog.parse_table_section(&mut tables, t).map_err(user)?;
        out.section(&tables);
    }
    if let Some(m) = program.memories.clone() {
        let mut mems = wasm_encoder::MemorySection::new();
        prog.parse_memory_section(&mut mems, m).map_err(user)?;
        out.section(&mems);
    }
    out.section(&globals).section(&exports);
    if let Some(function_index) = if kept.any() {
        Some(init_fn)
    } else {
        program_start
    } {
        out.section(&wasm_encoder::StartSection { function_index });
    }
    if let Some(e) = program.elements.clone() {
        let mut elems = wasm_encoder::ElementSection::new();
        prog.parse_element_section(&mut elems, e).map_err(user)?;
        out.section(&elems);
    }
    if let Some(n) = program.data_count {
        out.section(&wasm_encoder::DataCountSection { count: n });
    }
    out.section(&code);
    if let Some(d) = program.data.clone() {
        let mut data = wasm_encoder::DataSection::new();
        prog.parse_data_section(&mut data, d).map_err(user)?;
        out.section(&data);
    }

    // Function names, so traps in the output read well in backtraces.
    let mut names = NameMap::new();
    let mut named: Vec<(u32, Cow<str>)> = Vec::new();
    for (i, n) in import_names.iter().enumerate() {
        named.push((i as u32, Cow::Borrowed(n.1)));
    }
    for (&old, &name) in &program.names {
        if old as usize >= program.imports.len() {
            named.push((program_funcs[old as usize], Cow::Borrowed(name)));
        }
    }
    for &a in &kept_defined {
        if let Some(name) = adapter.names.get(&a) {
            named.push((adap.funcs[a as usize], Cow::Borrowed(*name)));
        }
    }
    named.push((start_fn, "_start".into()));
    if kept.any() {
        named.push((init_fn, "wasi-downlevel:init".into()));
    }
    if kept.uses_copy {
        named.push((copy_fn, "wasi-downlevel:memory-copy".into()));
    }
    if kept.uses_fill {
        named.push((fill_fn, "wasi-downlevel:memory-fill".into()));
    }
    for &(i, _) in &stubs {
        let name = adapter.imports[i].name;
        named.push((adap.funcs[i], format!("wasi-downlevel:no-{name}").into()));
    }
    named.sort_by_key(|(i, _)| *i);
    named.dedup_by_key(|(i, _)| *i);
    for (i, n) in &named {
        names.append(*i, n);
    }
    let mut name_section = NameSection::new();
    name_section.functions(&names);
    out.section(&name_section);

    let bytes = out.finish();
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(&bytes)
        .context("internal error: the merged module does not validate")?;
    Ok(bytes)
}

/// Value types the output may use: numbers, vectors, `funcref` and
/// `externref` (preview1 runtimes have no GC).
fn val(v: wasmparser::ValType) -> Result<ValType> {
    use wasmparser::RefType;
    match v {
        wasmparser::ValType::Ref(r) if r != RefType::FUNCREF && r != RefType::EXTERNREF => {
            bail!("a function type uses `{v}`: GC reference types are not supported")
        }
        _ => reencode::RoundtripReencoder
            .val_type(v)
            .map_err(|e| anyhow!("a function type uses `{v}`: {e}")),
    }
}

/// The program's one memory must be an ordinary 32-bit one with room for the
/// pages the adapter grows.
fn check_memory(program: &Module, kept: &Kept) -> Result<()> {
    if program.memory_count() != 1 {
        bail!(
            "the program's main module must define exactly one memory (it defines {})",
            program.memory_count()
        );
    }
    let memory = program
        .memories
        .clone()
        .into_iter()
        .flatten()
        .next()
        .context("no memory")??;
    if memory.memory64 {
        bail!("the program's memory is 64-bit (memory64): not supported");
    }
    if memory.shared {
        bail!("the program's memory is shared (threads): not supported");
    }
    if memory.page_size_log2.is_some() {
        bail!("the program's memory has a custom page size: not supported");
    }
    if let Some(max) = memory.maximum.filter(|_| kept.any()) {
        if max < memory.initial + ADAPTER_PAGES {
            bail!(
                "the program's memory maximum ({max} pages) leaves no room for the adapter, which \
                 needs {ADAPTER_PAGES} pages beyond the initial {}",
                memory.initial
            );
        }
    }
    Ok(())
}

/// The start function: give the adapter its shadow stack (grown, so it
/// never overlaps the program's data), then run the program's own start.
fn init_function(stack_pointer: u32, program_start: Option<u32>) -> Function {
    let mut f = Function::new([(1, ValType::I32)]);
    f.instructions()
        .i32_const(STACK_PAGES as i32)
        .memory_grow(0)
        .local_tee(0)
        .i32_const(-1)
        .i32_eq()
        .if_(BlockType::Empty)
        .unreachable()
        .end()
        .local_get(0)
        .i32_const(16)
        .i32_shl()
        .i32_const((STACK_PAGES << 16) as i32)
        .i32_add()
        .global_set(stack_pointer);
    if let Some(start) = program_start {
        f.instructions().call(start);
    }
    f.instructions().end();
    f
}

/// `_start`: run the program and turn an error result into exit status 1.
fn start_function(run: u32, proc_exit: u32) -> Function {
    let mut f = Function::new([]);
    f.instructions()
        .call(run)
        .if_(BlockType::Empty)
        .i32_const(1)
        .call(proc_exit)
        .end()
        .end();
    f
}

fn byte() -> MemArg {
    MemArg {
        offset: 0,
        align: 0,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// `memory.copy` as a byte loop: (dst, src, n), overlapping ranges allowed.
fn copy_function() -> Function {
    let (d, s, n) = (0, 1, 2);
    let mut f = Function::new([]);
    f.instructions()
        .block(BlockType::Empty)
        .local_get(n)
        .i32_eqz()
        .br_if(0)
        .local_get(d)
        .local_get(s)
        .i32_le_u()
        .if_(BlockType::Empty)
        // forwards
        .loop_(BlockType::Empty)
        .local_get(d)
        .local_get(s)
        .i32_load8_u(byte())
        .i32_store8(byte())
        .local_get(d)
        .i32_const(1)
        .i32_add()
        .local_set(d)
        .local_get(s)
        .i32_const(1)
        .i32_add()
        .local_set(s)
        .local_get(n)
        .i32_const(1)
        .i32_sub()
        .local_tee(n)
        .br_if(0)
        .end()
        .else_()
        // backwards
        .loop_(BlockType::Empty)
        .local_get(n)
        .i32_const(1)
        .i32_sub()
        .local_set(n)
        .local_get(d)
        .local_get(n)
        .i32_add()
        .local_get(s)
        .local_get(n)
        .i32_add()
        .i32_load8_u(byte())
        .i32_store8(byte())
        .local_get(n)
        .br_if(0)
        .end()
        .end()
        .end()
        .end();
    f
}

/// `memory.fill` as a byte loop: (dst, value, n).
fn fill_function() -> Function {
    let (d, v, n) = (0, 1, 2);
    let mut f = Function::new([]);
    f.instructions()
        .block(BlockType::Empty)
        .local_get(n)
        .i32_eqz()
        .br_if(0)
        .loop_(BlockType::Empty)
        .local_get(d)
        .local_get(v)
        .i32_store8(byte())
        .local_get(d)
        .i32_const(1)
        .i32_add()
        .local_set(d)
        .local_get(n)
        .i32_const(1)
        .i32_sub()
        .local_tee(n)
        .br_if(0)
        .end()
        .end()
        .end();
    f
}
