//! Stage 4, write: merge the kept code of every part (the graph's instances
//! and the adapter) into one core module that imports only
//! `wasi_snapshot_preview1`, add the `_start` entry point, and validate it.
//!
//! Index spaces of the output: functions are the host imports, then each
//! part's kept functions (in instantiation order), then the synthesized
//! ones; types are
//! deduplicated; tables, globals, element and data segments are each part's
//! in turn. Imports between parts become direct references. The adapter's
//! `__linker__` accessors become instructions (`global.get`/`global.set` of
//! the state global, constants), its `memory.copy` / `memory.fill` become
//! calls of byte loops (so the adapter never needs bulk memory). Constant
//! expressions that read another part's global are folded to constants, so
//! the output needs no extended-const or GC feature for them.

use crate::link::{Def, Inline, Linked, Target, PREVIEW1};
use crate::scan::FuncScan;
use crate::shrink::Kept;
use anyhow::{anyhow, bail, Context, Result};
use std::borrow::Cow;
use std::collections::HashMap;
use wasm_encoder::reencode::{self, Reencode};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, DataSection, ElementSection, Elements, EntityType,
    ExportKind, ExportSection, Function, FunctionSection, GlobalSection, GlobalType, ImportSection,
    Instruction, NameMap, NameSection, TableSection, TypeSection, ValType,
};
use wasmparser::{FuncType, Operator};

/// The adapter's shadow stack, allocated by the start function with
/// `memory.grow`.
const STACK_PAGES: u32 = 1;

/// Pages the adapter grows at run time at the least: its stack and state,
/// and a first page of heap.
const ADAPTER_PAGES: u64 = STACK_PAGES as u64 + 1;

const ABSENT: u32 = u32::MAX;

/// Where each part's items land in the output.
struct Layout {
    /// Per part, per function index: the output index of kept defined ones.
    funcs: Vec<Vec<u32>>,
    types: Vec<Vec<u32>>,
    tables: Vec<Vec<u32>>,
    globals: Vec<Vec<u32>>,
    elements: Vec<Vec<u32>>,
    data: Vec<u32>,
    /// Output indices of the other targets, by their debug form.
    others: HashMap<String, u32>,
    state_global: u32,
    current_global: u32,
    select_global: u32,
    copy: u32,
    fill: u32,
    /// Known values of immutable globals, for folding.
    values: HashMap<u32, Value>,
}

#[derive(Clone, Copy)]
enum Value {
    I32(i32),
    I64(i64),
}

fn key(t: &Target) -> String {
    format!("{t:?}")
}

impl Layout {
    fn target(&self, t: &Target) -> Result<u32> {
        let i = match t {
            Target::Def { part, index } => self.funcs[*part][*index as usize],
            Target::Inline(_) => bail!("internal error: a reference to an inlined accessor"),
            Target::Missing(why) => bail!("{why}"),
            other => *self.others.get(&key(other)).unwrap_or(&ABSENT),
        };
        if i == ABSENT {
            bail!("internal error: a reference to {t:?}, which was not kept");
        }
        Ok(i)
    }
}

/// Re-encodes one part with its indices mapped into the output.
struct Remap<'l, 'a> {
    part: usize,
    linked: &'l Linked<'a>,
    kept: &'l Kept<'a>,
    layout: &'l Layout,
    /// The adapter: lower `memory.copy`/`memory.fill` (where the layout has
    /// the loops for them).
    adapter: bool,
}

impl Remap<'_, '_> {
    fn func(&self, index: u32) -> Result<Target<'_>, reencode::Error<anyhow::Error>> {
        Ok(self.kept.func(self.linked, self.part, index))
    }
}

fn user<E: std::fmt::Display>(e: E) -> reencode::Error<anyhow::Error> {
    reencode::Error::UserError(anyhow!("{e}"))
}

impl Reencode for Remap<'_, '_> {
    type Error = anyhow::Error;

    fn function_index(&mut self, func: u32) -> Result<u32, reencode::Error<anyhow::Error>> {
        let t = self.func(func)?;
        self.layout.target(&t).map_err(user)
    }

    fn type_index(&mut self, ty: u32) -> Result<u32, reencode::Error<anyhow::Error>> {
        Ok(self.layout.types[self.part][ty as usize])
    }

    fn table_index(&mut self, table: u32) -> Result<u32, reencode::Error<anyhow::Error>> {
        let d = self.linked.table(self.part, table);
        match self.layout.tables[d.part][d.index as usize] {
            ABSENT => Err(user(
                "internal error: a reference to a table that was not kept",
            )),
            i => Ok(i),
        }
    }

    fn memory_index(&mut self, _: u32) -> Result<u32, reencode::Error<anyhow::Error>> {
        Ok(0)
    }

    fn global_index(&mut self, global: u32) -> Result<u32, reencode::Error<anyhow::Error>> {
        let d = self.linked.global(self.part, global);
        Ok(self.layout.globals[d.part][d.index as usize])
    }

    fn data_index(&mut self, data: u32) -> Result<u32, reencode::Error<anyhow::Error>> {
        Ok(self.layout.data[self.part] + data)
    }

    fn element_index(&mut self, element: u32) -> Result<u32, reencode::Error<anyhow::Error>> {
        match self.layout.elements[self.part][element as usize] {
            ABSENT => Err(user(
                "internal error: a reference to a segment that was not kept",
            )),
            i => Ok(i),
        }
    }

    fn const_expr(
        &mut self,
        e: wasmparser::ConstExpr,
    ) -> Result<ConstExpr, reencode::Error<anyhow::Error>> {
        if let Some(v) = self.fold(&e) {
            return Ok(match v {
                Value::I32(v) => ConstExpr::i32_const(v),
                Value::I64(v) => ConstExpr::i64_const(v),
            });
        }
        reencode::utils::const_expr(self, e)
    }

    fn parse_instruction<'a>(
        &mut self,
        reader: &mut wasmparser::OperatorsReader<'a>,
    ) -> Result<Instruction<'a>, reencode::Error<anyhow::Error>> {
        let op = reader.read()?;
        match op {
            Operator::Call { function_index } => {
                if let Target::Inline(i) = self.func(function_index)? {
                    return Ok(match i {
                        Inline::Const(v) => Instruction::I32Const(v),
                        Inline::StateGet => Instruction::GlobalGet(self.layout.state_global),
                        Inline::SetCurrent => Instruction::GlobalSet(self.layout.current_global),
                        Inline::GetCurrent => Instruction::GlobalGet(self.layout.current_global),
                    });
                }
            }
            Operator::MemoryCopy { .. } if self.adapter && self.layout.copy != ABSENT => {
                return Ok(Instruction::Call(self.layout.copy))
            }
            Operator::MemoryFill { .. } if self.adapter && self.layout.fill != ABSENT => {
                return Ok(Instruction::Call(self.layout.fill))
            }
            _ => {}
        }
        reencode::utils::instruction(self, op)
    }
}

impl Remap<'_, '_> {
    /// The value of a constant expression, if it is a number computed from
    /// constants and immutable globals with known values.
    fn fold(&mut self, e: &wasmparser::ConstExpr) -> Option<Value> {
        let mut stack: Vec<Value> = Vec::new();
        for op in e.get_operators_reader() {
            let op = op.ok()?;
            let v = match op {
                Operator::I32Const { value } => Value::I32(value),
                Operator::I64Const { value } => Value::I64(value),
                Operator::GlobalGet { global_index } => {
                    let g = self.global_index(global_index).ok()?;
                    *self.layout.values.get(&g)?
                }
                Operator::I32Add | Operator::I32Sub | Operator::I32Mul => {
                    let (Value::I32(b), Value::I32(a)) = (stack.pop()?, stack.pop()?) else {
                        return None;
                    };
                    Value::I32(match op {
                        Operator::I32Add => a.wrapping_add(b),
                        Operator::I32Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
                Operator::I64Add | Operator::I64Sub | Operator::I64Mul => {
                    let (Value::I64(b), Value::I64(a)) = (stack.pop()?, stack.pop()?) else {
                        return None;
                    };
                    Value::I64(match op {
                        Operator::I64Add => a.wrapping_add(b),
                        Operator::I64Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    })
                }
                Operator::End => break,
                _ => return None,
            };
            stack.push(v);
        }
        match stack.as_slice() {
            [v] => Some(*v),
            _ => None,
        }
    }
}

fn err(e: reencode::Error<anyhow::Error>) -> anyhow::Error {
    match e {
        reencode::Error::UserError(e) => e,
        other => anyhow!("{other}"),
    }
}

/// The merged module, and where its code first uses SIMD (an offset in it;
/// `None` in `Some(None)` where a part was re-encoded and so not known).
pub struct Merged {
    pub wasm: Vec<u8>,
    pub simd: Option<Option<u64>>,
}

pub fn merge<'a>(l: &Linked<'a>, kept: &Kept<'a>, options: &crate::Options) -> Result<Merged> {
    let parts = l.parts.len();
    let adapter = l.adapter();
    let with_adapter = kept.adapter(l);
    check_memory(l, with_adapter)?;

    // Types, deduplicated.
    let mut types = TypeSection::new();
    let mut interned: HashMap<FuncType, u32> = HashMap::new();
    let mut intern = |t: &FuncType, types: &mut TypeSection| -> Result<u32> {
        if let Some(&i) = interned.get(t) {
            return Ok(i);
        }
        let params: Vec<ValType> = t.params().iter().map(|v| val(*v)).collect::<Result<_>>()?;
        let results: Vec<ValType> = t.results().iter().map(|v| val(*v)).collect::<Result<_>>()?;
        types.ty().function(params, results);
        let i = interned.len() as u32;
        interned.insert(t.clone(), i);
        Ok(i)
    };
    // The part with the most code first: its types keep their indices, so
    // its code can be copied (`only_funcs_move`).
    let code_size =
        |p: usize| -> usize { l.module(p).bodies.iter().map(|b| b.as_bytes().len()).sum() };
    let mut order: Vec<usize> = (0..parts).collect();
    order.sort_by_key(|&p| std::cmp::Reverse(code_size(p)));
    let mut type_map = vec![Vec::new(); parts];
    for (k, &p) in order.iter().enumerate() {
        // The others' types only where their kept code names them.
        let used = match k {
            0 => None,
            _ => Some(used_types(l.module(p), &kept.funcs[p])?),
        };
        type_map[p] = (l.module(p).types.iter().enumerate())
            .map(|(i, t)| match &used {
                Some(used) if !used[i] => Ok(ABSENT),
                _ => intern(t, &mut types),
            })
            .collect::<Result<Vec<_>>>()?;
    }
    use wasmparser::ValType::I32;
    let t_void = intern(&FuncType::new([], []), &mut types)?;
    let t_3i32 = intern(&FuncType::new([I32; 3], []), &mut types)?;
    let t_realloc = intern(&FuncType::new([I32; 4], [I32]), &mut types)?;
    let t_const = intern(&FuncType::new([], [I32]), &mut types)?;

    // Host imports, then `proc_exit` for `_start`.
    let mut imports = ImportSection::new();
    let mut host: Vec<(&'a str, &'a str, FuncType)> = Vec::new();
    let mut others: HashMap<String, u32> = HashMap::new();
    let mut host_import = |module: &'a str, name: &'a str, ty: &FuncType| -> Result<u32> {
        if let Some(i) = host.iter().position(|(m, n, _)| *m == module && *n == name) {
            if host[i].2 != *ty {
                bail!("{module}.{name} is imported with two different types");
            }
            return Ok(i as u32);
        }
        Ok(host.len() as u32).inspect(|_| host.push((module, name, ty.clone())))
    };
    for t in &kept.others {
        if let Target::Host { module, name, ty } = t {
            let i = host_import(module, name, ty)?;
            others.insert(key(t), i);
        }
    }
    let proc_exit = host_import(PREVIEW1, "proc_exit", &FuncType::new([I32], []))?;
    for (m, n, ty) in &host {
        imports.import(m, n, EntityType::Function(intern(ty, &mut types)?));
    }
    let n_imports = host.len() as u32;

    // Defined functions, part by part.
    let (func_map, mut next) = number(n_imports, parts, |p| {
        let m = l.module(p);
        (0..m.func_count() as usize)
            .map(|i| i >= m.imports.len() && kept.funcs[p][i])
            .collect()
    });
    let mut funcs = FunctionSection::new();
    for (p, types) in type_map.iter().enumerate() {
        let m = l.module(p);
        for (i, &ty) in m.funcs.iter().enumerate() {
            if kept.funcs[p][m.imports.len() + i] {
                funcs.function(types[ty as usize]);
            }
        }
    }
    // Synthesized functions.
    let mut synth = |ty: u32, funcs: &mut FunctionSection| {
        funcs.function(ty);
        next += 1;
        next - 1
    };
    let start_fn = synth(t_void, &mut funcs);
    let starts: Vec<Target> = (0..parts - 1)
        .filter_map(|p| l.module(p).start.map(|s| kept.func(l, p, s)))
        .collect();
    let init_fn = if with_adapter || !starts.is_empty() {
        synth(t_void, &mut funcs)
    } else {
        ABSENT
    };
    let copy_fn = if kept.uses_copy {
        synth(t_3i32, &mut funcs)
    } else {
        ABSENT
    };
    let fill_fn = if kept.uses_fill {
        synth(t_3i32, &mut funcs)
    } else {
        ABSENT
    };
    let mut synthesized: Vec<&Target> = Vec::new();
    for t in &kept.others {
        let ty = match t {
            Target::Host { .. } => continue,
            Target::Stub { ty, .. } | Target::Curried { ty, .. } => intern(ty, &mut types)?,
            Target::Wasi { func, .. } => {
                type_map[adapter][l.module(adapter).func_type_index(*func) as usize]
            }
            Target::Realloc => t_realloc,
            Target::CanShrink => t_const,
            Target::Text => intern(&FuncType::new([I32; 2], [I32]), &mut types)?,
            _ => continue,
        };
        others.insert(key(t), synth(ty, &mut funcs));
        synthesized.push(t);
    }

    // Tables, globals, segments.
    let mut tables = TableSection::new();
    let (table_map, n_tables) = number(0, parts, |p| {
        let m = l.module(p);
        (0..m.table_imports.len() + m.tables.len())
            .map(|i| i >= m.table_imports.len() && kept.tables[p][i])
            .collect()
    });
    let (mut global_map, n_globals) = number(0, parts, |p| {
        let m = l.module(p);
        (0..m.global_imports.len() + m.globals.len())
            .map(|i| i >= m.global_imports.len())
            .collect()
    });
    for p in 0..parts {
        for i in 0..l.module(p).global_imports.len() {
            let d = l.global(p, i as u32);
            global_map[p][i] = global_map[d.part][d.index as usize];
        }
    }
    let state_global = n_globals;
    let current_global = n_globals + 1;
    let select_global = n_globals + 2;
    let (elem_map, _) = number(0, parts, |p| {
        let m = l.module(p);
        (m.elements.iter().enumerate())
            // Declared segments only when code names one (`elem.drop`):
            // the functions `ref.func` takes get a declared segment below.
            .map(|(i, _)| kept.elements[p][i])
            .collect()
    });
    let mut data_map = Vec::new();
    let mut n_data = 0;
    for p in 0..parts {
        data_map.push(n_data);
        n_data += l.module(p).data.len() as u32;
    }
    let texts = texts(l, kept, options);
    // The texts as a passive segment, where the program has bulk memory
    // (and the output is to keep it).
    let bulk = options
        .target_features
        .is_none_or(|f| f.has(crate::features::Feature::BulkMemory));
    let text_segment =
        (bulk && kept.program_bulk && kept.others.contains(&Target::Text)).then(|| {
            n_data += 1;
            n_data - 1
        });
    let mut layout = Layout {
        funcs: func_map,
        types: type_map,
        tables: table_map,
        globals: global_map,
        elements: elem_map,
        data: data_map,
        others,
        state_global,
        current_global,
        select_global,
        copy: copy_fn,
        fill: fill_fn,
        values: HashMap::new(),
    };

    fn remap<'l, 'a>(
        l: &'l Linked<'a>,
        kept: &'l Kept<'a>,
        p: usize,
        layout: &'l Layout,
    ) -> Remap<'l, 'a> {
        Remap {
            part: p,
            linked: l,
            kept,
            layout,
            adapter: p == l.adapter(),
        }
    }
    // Globals, folding initialisers that read other parts' globals.
    let mut globals = GlobalSection::new();
    for p in 0..parts {
        for (i, g) in l.module(p).globals.iter().enumerate() {
            let out = layout.globals[p][l.module(p).global_imports.len() + i];
            let mut r = remap(l, kept, p, &layout);
            let value = r.fold(&g.init_expr);
            r.parse_global(&mut globals, g.clone()).map_err(err)?;
            if let (Some(v), false) = (value, g.ty.mutable) {
                layout.values.insert(out, v);
            }
        }
    }
    // The adapter's state pointer, the WASI function being called, the
    // allocator selected.
    for init in [0, -1, 0].iter().take(2 + !l.reallocs.is_empty() as usize) {
        globals.global(
            GlobalType {
                val_type: ValType::I32,
                mutable: true,
                shared: false,
            },
            &ConstExpr::i32_const(*init),
        );
    }
    for p in 0..parts {
        let m = l.module(p);
        for (i, t) in m.tables.iter().enumerate() {
            if kept.tables[p][m.table_imports.len() + i] {
                remap(l, kept, p, &layout)
                    .parse_table(&mut tables, t.clone())
                    .map_err(err)?;
            }
        }
    }
    let mut elements = ElementSection::new();
    for p in 0..parts {
        for (i, e) in l.module(p).elements.iter().enumerate() {
            if layout.elements[p][i] != ABSENT {
                remap(l, kept, p, &layout)
                    .parse_element(&mut elements, e.clone())
                    .map_err(err)?;
            }
        }
    }
    let referenced: Vec<u32> = kept
        .referenced
        .iter()
        .map(|t| layout.target(t))
        .collect::<Result<_>>()?;
    if !referenced.is_empty() {
        elements.declared(Elements::Functions(Cow::Borrowed(&referenced)));
    }

    // Code.
    let mut code = CodeSection::new();
    // The first function with SIMD, and where in its body.
    let mut simd_at: Option<Option<(u32, usize)>> = None;
    for p in 0..parts {
        let m = l.module(p);
        if let Some(funcs) = only_funcs_move(l, kept, &layout, p)? {
            // Most of a big program: copied, with its function indices
            // rewritten where the scan found them.
            let scans = &kept.scans[l.parts[p]];
            let mut body = Vec::new();
            for (i, b) in m.bodies.iter().enumerate() {
                if kept.funcs[p][m.imports.len() + i] {
                    body.clear();
                    let scan = &scans[i];
                    let simd = copy_body(b, scan, &funcs, &mut body).with_context(|| {
                        format!("copying function {} of part {p}", m.imports.len() + i)
                    })?;
                    if simd_at.is_none() {
                        let out = layout.funcs[p][m.imports.len() + i];
                        simd_at = simd.map(|at| Some((out, at)));
                    }
                    code.raw(&body);
                }
            }
            continue;
        }
        for (i, body) in m.bodies.iter().enumerate() {
            if kept.funcs[p][m.imports.len() + i] {
                if simd_at.is_none() && p != adapter && kept.scans[l.parts[p]][i].simd.is_some() {
                    simd_at = Some(None);
                }
                remap(l, kept, p, &layout)
                    .parse_function_body(&mut code, body.clone())
                    .map_err(err)
                    .with_context(|| {
                        format!("re-encoding function {} of part {p}", m.imports.len() + i)
                    })?;
            }
        }
    }
    let run = layout.target(&l.run)?;
    let post_return = l
        .post_return
        .as_ref()
        .map(|t| layout.target(t))
        .transpose()?;
    check_run(l, kept)?;
    code.function(&start_function(run, post_return, proc_exit));
    if init_fn != ABSENT {
        let starts: Vec<u32> = starts
            .iter()
            .map(|t| layout.target(t))
            .collect::<Result<_>>()?;
        // The adapter's stack pointer is its global 0 (verify checks that).
        let sp = match l.init_state().filter(|_| with_adapter) {
            Some(init) => Some((
                layout.globals[adapter][0],
                layout.state_global,
                layout.target(&Target::Def {
                    part: init.part,
                    index: init.index,
                })?,
            )),
            None => None,
        };
        code.function(&init_function(sp, &starts));
    }
    if kept.uses_copy {
        code.function(&crate::lower::copy_function());
    }
    if kept.uses_fill {
        code.function(&crate::lower::fill_function());
    }
    for t in &synthesized {
        code.function(&match t {
            Target::Stub { errno, ty } => {
                let mut f = Function::new([]);
                match ty.results() {
                    [wasmparser::ValType::I64] => f.instructions().i64_const(*errno as i64),
                    _ => f.instructions().i32_const(*errno),
                };
                f.instructions().end();
                f
            }
            Target::Curried { func, consts, ty } => {
                let mut f = Function::new([]);
                for &c in consts {
                    f.instructions().i32_const(c);
                }
                for i in 0..ty.params().len() as u32 {
                    f.instructions().local_get(i);
                }
                f.instructions()
                    .call(layout.funcs[adapter][*func as usize])
                    .end();
                f
            }
            Target::Wasi { func, realloc } => {
                let params = l.module(adapter).func_type(*func).params().len() as u32;
                let mut f = Function::new([]);
                f.instructions()
                    .i32_const(*realloc as i32)
                    .global_set(layout.select_global);
                for i in 0..params {
                    f.instructions().local_get(i);
                }
                f.instructions()
                    .call(layout.funcs[adapter][*func as usize])
                    .end();
                f
            }
            Target::Realloc => {
                let targets: Vec<u32> = l
                    .reallocs
                    .iter()
                    .map(|r| layout.funcs[r.func.part][r.func.index as usize])
                    .collect();
                realloc_function(&targets, layout.select_global)
            }
            Target::CanShrink => {
                let mask = l
                    .reallocs
                    .iter()
                    .enumerate()
                    .fold(0u32, |m, (i, r)| m | ((r.shrinks as u32) << (i % 32)));
                let mut f = Function::new([]);
                f.instructions()
                    .i32_const(mask as i32)
                    .global_get(layout.select_global)
                    .i32_shr_u()
                    .i32_const(1)
                    .i32_and()
                    .end();
                f
            }
            Target::Text => text_function(&texts, text_segment),
            _ => unreachable!(),
        });
    }

    let mut data = DataSection::new();
    for p in 0..parts {
        for d in &l.module(p).data {
            remap(l, kept, p, &layout)
                .parse_data(&mut data, d.clone())
                .map_err(err)?;
        }
    }
    if text_segment.is_some() {
        data.passive(text_data(&texts));
    }

    // Assemble.
    let memory = l.module(l.memory.part).memories
        [(l.memory.index as usize) - l.module(l.memory.part).memory_imports.len()];
    let mut mems = wasm_encoder::MemorySection::new();
    mems.memory(memory.into());
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("_start", ExportKind::Func, start_fn);

    let mut out = wasm_encoder::Module::new();
    out.section(&types).section(&imports).section(&funcs);
    if n_tables > 0 {
        out.section(&tables);
    }
    out.section(&mems).section(&globals).section(&exports);
    if init_fn != ABSENT {
        out.section(&wasm_encoder::StartSection {
            function_index: init_fn,
        });
    }
    if !elements.is_empty() {
        out.section(&elements);
    }
    if text_segment.is_some() || (0..parts).any(|p| l.module(p).data_count.is_some()) {
        out.section(&wasm_encoder::DataCountSection { count: n_data });
    }
    out.section(&code);
    if n_data > 0 {
        out.section(&data);
    }
    out.section(&names(
        l,
        &layout,
        &host,
        &synthesized,
        [
            (start_fn, "_start"),
            (init_fn, "wasi-downlevel:init"),
            (copy_fn, "wasi-downlevel:memory-copy"),
            (fill_fn, "wasi-downlevel:memory-fill"),
        ],
        text_segment,
    ));
    out.section(&producers(l, parts - 1));

    let bytes = out.finish();
    crate::validate::validate(wasmparser::WasmFeatures::all(), &bytes)
        .context("internal error: the merged module does not validate")?;
    let simd = simd_at.map(|at| {
        at.and_then(|(func, rel)| {
            // Bodies are numbered after the imported functions.
            let (mut imported, mut bodies) = (0, Vec::new());
            for p in wasmparser::Parser::new(0).parse_all(&bytes).flatten() {
                match p {
                    wasmparser::Payload::ImportSection(r) => {
                        imported += r
                            .into_imports()
                            .flatten()
                            .filter(|i| matches!(i.ty, wasmparser::TypeRef::Func(_)))
                            .count() as u32
                    }
                    wasmparser::Payload::CodeSectionEntry(b) => bodies.push(b.range().start),
                    _ => {}
                }
            }
            let start = bodies.get(func.checked_sub(imported)? as usize)?;
            Some(start + rel as u64)
        })
    });
    Ok(Merged { wasm: bytes, simd })
}

/// Which of `m`'s types its kept functions have or their code names (block
/// types, indirect calls).
fn used_types(m: &crate::module::Module, kept: &[bool]) -> Result<Vec<bool>> {
    use wasmparser::BlockType as B;
    let mut used = vec![false; m.types.len()];
    let mut mark = |t: u32| -> Result<()> {
        *used
            .get_mut(t as usize)
            .with_context(|| format!("type index {t} out of range"))? = true;
        Ok(())
    };
    for (i, (&ty, body)) in m.funcs.iter().zip(&m.bodies).enumerate() {
        if !kept[m.imports.len() + i] {
            continue;
        }
        mark(ty)?;
        for op in body.get_operators_reader()? {
            match op? {
                Operator::Block {
                    blockty: B::FuncType(t),
                }
                | Operator::Loop {
                    blockty: B::FuncType(t),
                }
                | Operator::If {
                    blockty: B::FuncType(t),
                }
                | Operator::Try {
                    blockty: B::FuncType(t),
                }
                | Operator::CallIndirect { type_index: t, .. }
                | Operator::ReturnCallIndirect { type_index: t, .. }
                | Operator::CallRef { type_index: t }
                | Operator::ReturnCallRef { type_index: t } => mark(t)?,
                Operator::TryTable { try_table } => {
                    if let B::FuncType(t) = try_table.ty {
                        mark(t)?
                    }
                }
                _ => {}
            }
        }
    }
    Ok(used)
}

/// For a program part whose tables, globals, types and segments keep their
/// indices in the output (a program's main module, placed first), the output
/// index of each of its function indices (`ABSENT` where not kept): its
/// code then changes only in those. `None` for any other part.
fn only_funcs_move(l: &Linked, kept: &Kept, layout: &Layout, p: usize) -> Result<Option<Vec<u32>>> {
    let m = l.module(p);
    let same = |map: &[u32]| map.iter().enumerate().all(|(i, &o)| o == i as u32);
    let tables = m.table_imports.len() + m.tables.len();
    let globals = m.global_imports.len() + m.globals.len();
    let identity = p != l.adapter()
        && same(&layout.types[p])
        && layout.data[p] == 0
        && (0..tables as u32).all(|t| {
            let d = l.table(p, t);
            layout.tables[d.part][d.index as usize] == t
        })
        && (0..globals as u32).all(|g| {
            let d = l.global(p, g);
            layout.globals[d.part][d.index as usize] == g
        })
        && layout.elements[p]
            .iter()
            .enumerate()
            .all(|(i, &o)| o == i as u32 || o == ABSENT);
    if !identity {
        return Ok(None);
    }
    let n = (m.imports.len() + m.bodies.len()) as u32;
    let funcs = (0..n)
        .map(|i| match kept.func(l, p, i) {
            Target::Def { part, index } => layout.funcs[part][index as usize],
            t => layout.target(&t).unwrap_or(ABSENT),
        })
        .collect();
    Ok(Some(funcs))
}

/// Body `b` with the function indices its scan found mapped by `funcs`;
/// where in it its first SIMD instruction is now.
fn copy_body(
    b: &wasmparser::FunctionBody,
    scan: &FuncScan,
    funcs: &[u32],
    out: &mut Vec<u8>,
) -> Result<Option<usize>> {
    let code = b.as_bytes();
    let simd = scan.simd.map(|at| (at - b.range().start) as usize);
    let mut simd_out = None;
    let mut last = 0;
    for f in &scan.funcs {
        if let (Some(at), None) = (simd, simd_out) {
            if at < f.at as usize {
                simd_out = Some(out.len() + at - last);
            }
        }
        let (at, end) = (f.at as usize, f.end as usize);
        out.extend_from_slice(
            code.get(last..at)
                .context("internal error: a scan out of order")?,
        );
        match funcs.get(f.index as usize) {
            Some(&i) if i != ABSENT => leb128_u32(i, out),
            _ => bail!(
                "internal error: a reference to function {}, which was not kept",
                f.index
            ),
        }
        last = end;
    }
    if let (Some(at), None) = (simd, simd_out) {
        simd_out = Some(out.len() + at - last);
    }
    out.extend_from_slice(
        code.get(last..)
            .context("internal error: a scan out of range")?,
    );
    Ok(simd_out)
}

fn leb128_u32(mut v: u32, out: &mut Vec<u8>) {
    loop {
        let byte = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// The program's modules' `producers` sections merged (what compiled them),
/// with this tool added to `processed-by` (its version, the adapter's hash
/// and the WASI versions it implements), as wasm-tools records itself: so a
/// module on a device says what made it.
fn producers(l: &Linked, program_parts: usize) -> wasm_encoder::ProducersSection {
    let mut fields: Vec<(String, Vec<(String, String)>)> = Vec::new();
    let mut add = |field: &str, name: &str, version: &str| {
        let i = match fields.iter().position(|(f, _)| f == field) {
            Some(i) => i,
            None => {
                fields.push((field.to_string(), Vec::new()));
                fields.len() - 1
            }
        };
        let values = &mut fields[i].1;
        if !values.iter().any(|(n, v)| n == name && v == version) {
            values.push((name.to_string(), version.to_string()));
        }
    };
    let mut seen = std::collections::HashSet::new();
    for p in 0..program_parts {
        let m = l.module(p);
        let Some(data) = m.customs.get("producers") else {
            continue;
        };
        if !seen.insert(data.as_ptr()) {
            continue;
        }
        let reader = wasmparser::BinaryReader::new(data, 0);
        let Ok(section) = wasmparser::ProducersSectionReader::new(reader) else {
            continue;
        };
        for field in section.into_iter().flatten() {
            for v in field.values.into_iter().flatten() {
                add(field.name, v.name, v.version);
            }
        }
    }
    add("processed-by", "wasi-downlevel", &crate::producer_version());
    let mut section = wasm_encoder::ProducersSection::new();
    for (field, values) in &fields {
        let mut f = wasm_encoder::ProducersField::new();
        for (name, version) in values {
            f.value(name, version);
        }
        section.field(field, &f);
    }
    section
}

/// Numbers the items `keep(part)` marks, part by part, from `first`: per
/// part and index, the item's index in the output (`ABSENT` if not kept);
/// and the next free index.
fn number(
    first: u32,
    parts: usize,
    mut keep: impl FnMut(usize) -> Vec<bool>,
) -> (Vec<Vec<u32>>, u32) {
    let mut next = first;
    let maps = (0..parts)
        .map(|p| {
            keep(p)
                .into_iter()
                .map(|k| {
                    if k {
                        next += 1;
                        next - 1
                    } else {
                        ABSENT
                    }
                })
                .collect()
        })
        .collect();
    (maps, next)
}

/// Function names, so traps in the output read well in backtraces.
fn names(
    l: &Linked,
    layout: &Layout,
    host: &[(&str, &str, FuncType)],
    synthesized: &[&Target],
    fixed: [(u32, &str); 4],
    text_segment: Option<u32>,
) -> NameSection {
    let mut named: Vec<(u32, Cow<str>)> = Vec::new();
    for (i, n) in host.iter().enumerate() {
        named.push((i as u32, Cow::Borrowed(n.1)));
    }
    for p in 0..l.parts.len() {
        let m = l.module(p);
        for (&i, &name) in &m.names {
            if let Some(&out) = layout.funcs[p].get(i as usize) {
                if out != ABSENT && i as usize >= m.imports.len() {
                    named.push((out, Cow::Borrowed(name)));
                }
            }
        }
    }
    for (i, n) in fixed {
        if i != ABSENT {
            named.push((i, n.into()));
        }
    }
    for t in synthesized {
        let name = match t {
            Target::Stub { .. } => "wasi-downlevel:unsupported".to_string(),
            Target::Curried { func, .. } => {
                let adapter = l.module(l.adapter());
                let name = adapter.names.get(func).copied().unwrap_or("async");
                format!("wasi-downlevel:curried:{name}")
            }
            Target::Wasi { func, realloc } => {
                let adapter = l.module(l.adapter());
                let name = adapter.names.get(func).copied().unwrap_or("wasi");
                format!("wasi-downlevel:realloc{realloc}:{name}")
            }
            Target::Realloc => "wasi-downlevel:realloc".into(),
            Target::Text => "wasi-downlevel:text".into(),
            _ => "wasi-downlevel:can-shrink".into(),
        };
        if let Ok(i) = layout.target(t) {
            named.push((i, name.into()));
        }
    }
    named.sort_by_key(|(i, _)| *i);
    named.dedup_by_key(|(i, _)| *i);
    let mut names = NameMap::new();
    for (i, n) in &named {
        names.append(*i, n);
    }
    let mut section = NameSection::new();
    section.functions(&names);
    if let Some(t) = text_segment {
        let mut data = NameMap::new();
        data.append(t, TEXT_SEGMENT);
        section.data(&data);
    }
    section
}

/// The name of the texts' data segment (in the name section).
pub const TEXT_SEGMENT: &str = "wasi-downlevel:texts";

/// `run` must be `() -> (i32)` (`result` flattened), and its post-return
/// function take that `i32`.
fn check_run(l: &Linked, _kept: &Kept) -> Result<()> {
    let ty = l.target_type(&l.run).context("`run` is not a function")?;
    if !ty.params().is_empty() || ty.results() != [wasmparser::ValType::I32] {
        bail!(
            "the program's `{}` export has type {}, expected () -> (i32)",
            l.run_name,
            crate::module::show(&ty)
        );
    }
    if let Some(p) = &l.post_return {
        let ty = l
            .target_type(p)
            .context("the post-return is not a function")?;
        if ty.params() != [wasmparser::ValType::I32] || !ty.results().is_empty() {
            bail!(
                "the post-return function of `run` has type {}, expected (i32) -> ()",
                crate::module::show(&ty)
            );
        }
    }
    Ok(())
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

/// The one memory must be an ordinary 32-bit one with room for the pages
/// the adapter grows.
fn check_memory(l: &Linked, with_adapter: bool) -> Result<()> {
    let Def { part, index } = l.memory;
    let m = l.module(part);
    let memory = m.memories[index as usize - m.memory_imports.len()];
    if memory.memory64 {
        bail!("the program's memory is 64-bit (memory64): not supported");
    }
    if memory.shared {
        bail!("the program's memory is shared (threads): not supported");
    }
    if memory.page_size_log2.is_some() {
        bail!("the program's memory has a custom page size: not supported");
    }
    if let Some(max) = memory.maximum.filter(|_| with_adapter) {
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

/// The start function: give the adapter one page (grown, so it never
/// overlaps the program's data) for its shadow stack, which grows down from
/// the page's end, and its state, at the page's start, which the adapter's
/// initialiser then writes (so no state access checks for it); then run the
/// parts' own start functions in instantiation order (they may call WASI).
fn init_function(adapter: Option<(u32, u32, u32)>, starts: &[u32]) -> Function {
    let mut f = Function::new([(1, ValType::I32)]);
    if let Some((sp, state, init)) = adapter {
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
            .local_tee(0)
            .i32_const((STACK_PAGES << 16) as i32)
            .i32_add()
            .global_set(sp)
            .local_get(0)
            .global_set(state)
            .call(init);
    }
    for &s in starts {
        f.instructions().call(s);
    }
    f.instructions().end();
    f
}

/// `_start`: run the program, call the post-return function with the result,
/// and turn an error result into exit status 1.
fn start_function(run: u32, post_return: Option<u32>, proc_exit: u32) -> Function {
    let mut f = Function::new([(1, ValType::I32)]);
    f.instructions().call(run).local_set(0);
    if let Some(p) = post_return {
        f.instructions().local_get(0).call(p);
    }
    f.instructions()
        .local_get(0)
        .if_(BlockType::Empty)
        .i32_const(1)
        .call(proc_exit)
        .end()
        .end();
    f
}

/// The texts the output may use, by number: the trap reasons, the settings
/// given, and the names of the WASI functions kept (without version).
fn texts(l: &Linked, kept: &Kept, options: &crate::Options) -> Vec<(u32, String)> {
    let adapter = l.adapter();
    // The async ABI's texts only where its built-ins are kept.
    let is_async = l.module(adapter).exports.iter().any(|e| {
        e.name.starts_with(crate::link::ASYNC)
            && kept.funcs[adapter].get(e.index as usize) == Some(&true)
    });
    let async_texts = crate::Text::Deadlock as usize..=crate::Text::BadContextSlot as usize;
    let mut out: Vec<(u32, String)> = crate::TEXTS
        .iter()
        .enumerate()
        .filter(|(i, t)| !t.is_empty() && (is_async || !async_texts.contains(i)))
        .map(|(i, t)| (i as u32, t.to_string()))
        .collect();
    if let Some(cwd) = options.initial_cwd.as_ref().filter(|c| !c.is_empty()) {
        out.push((crate::Text::InitialCwd as u32, cwd.clone()));
    }
    for e in &l.module(adapter).exports {
        let Some(k) = crate::WASI_FUNCS.iter().position(|n| *n == e.name) else {
            continue;
        };
        if kept.funcs[adapter].get(e.index as usize) == Some(&true) {
            let name = match e.name.split_once('#') {
                Some((iface, f)) => format!("{}#{f}", iface.split('@').next().unwrap_or(iface)),
                None => e.name.to_string(),
            };
            out.push(((crate::TEXTS.len() + k) as u32, name));
        }
    }
    out
}

/// `text(id, buf) -> len`: writes text `id` at `buf`, which may take up to
/// 7 bytes beyond; with a null `buf`, only returns the length. With
/// `passive`, a passive data segment of that index holding the texts one
/// after another (see [`text_data`]) is copied from by `memory.init` (for a
/// program that has bulk memory); without, each text is 8-byte stores of
/// constants, about twice its length in code, so no data segment.
fn text_function(texts: &[(u32, String)], passive: Option<u32>) -> Function {
    let max = texts.iter().map(|t| t.0).max().unwrap_or(0);
    let cases = texts.len() as u32;
    let (off, len) = (2, 3);
    let mut f = Function::new([(2, ValType::I32)]);
    // One block per case, innermost first; `br_table` jumps to the end of
    // the case's block, where its code follows. Passive: within a block
    // the cases leave (their offset and length set) for the copy after it.
    if passive.is_some() {
        f.instructions().block(BlockType::Empty);
    }
    f.instructions().block(BlockType::Empty);
    for _ in texts {
        f.instructions().block(BlockType::Empty);
    }
    let targets: Vec<u32> = (0..=max)
        .map(|id| {
            texts
                .iter()
                .position(|t| t.0 == id)
                .map_or(cases, |k| k as u32)
        })
        .collect();
    f.instructions().local_get(0).br_table(targets, cases).end();
    let mut at = 0;
    for (k, (_, text)) in texts.iter().enumerate() {
        if passive.is_some() {
            f.instructions()
                .i32_const(at as i32)
                .local_set(off)
                .i32_const(text.len() as i32)
                .local_set(len)
                .br(cases - k as u32)
                .end();
            at += text.len();
            continue;
        }
        f.instructions()
            .local_get(1)
            .i32_eqz()
            .if_(BlockType::Empty)
            .i32_const(text.len() as i32)
            .return_()
            .end();
        for (k, chunk) in text.as_bytes().chunks(8).enumerate() {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            f.instructions()
                .local_get(1)
                .i64_const(i64::from_le_bytes(word))
                .i64_store(crate::lower::mem(8 * k as u64, 0));
        }
        f.instructions()
            .i32_const(text.len() as i32)
            .return_()
            .end();
    }
    f.instructions().i32_const(0);
    if let Some(segment) = passive {
        f.instructions()
            .return_()
            .end()
            .local_get(1)
            .if_(BlockType::Empty)
            .local_get(1)
            .local_get(off)
            .local_get(len)
            .memory_init(0, segment)
            .end()
            .local_get(len);
    }
    f.instructions().end();
    f
}

/// The texts one after another, as [`text_function`] copies them.
fn text_data(texts: &[(u32, String)]) -> Vec<u8> {
    texts.iter().flat_map(|(_, t)| t.bytes()).collect()
}

/// The adapter's allocator when the program has several: the one the
/// current WASI call selected.
fn realloc_function(targets: &[u32], select: u32) -> Function {
    let mut f = Function::new([]);
    for (k, &t) in targets.iter().enumerate() {
        if k + 1 < targets.len() {
            f.instructions()
                .global_get(select)
                .i32_const(k as i32)
                .i32_eq()
                .if_(BlockType::Empty);
        }
        f.instructions()
            .local_get(0)
            .local_get(1)
            .local_get(2)
            .local_get(3)
            .call(t)
            .return_();
        if k + 1 < targets.len() {
            f.instructions().end();
        }
    }
    f.instructions().unreachable().end();
    f
}
