//! Stage 4b, lower: rewrite the output for a host that lacks features the
//! program's compiler used (`adapt --target-features`), then validate it
//! against exactly the features asked for.
//!
//! - bulk memory: `memory.copy` / `memory.fill` become calls of word-at-a-
//!   time helpers (bounds checked first, as the instructions are); the data
//!   count section goes, segments get their 1.0 encodings.
//! - sign extension: shifts. Saturating float-to-int: helpers that clamp.
//! - multi-value: a function's or block's results past the first, and a
//!   block's parameters, pass through globals, set just before each branch,
//!   `end` or `return` and read just after where it lands, so nothing can
//!   run in between.
//! - reference types: the 1.0 encoding of `call_indirect` and of element
//!   segments, typed `select` untyped. Tail calls: a call and a return.
//!   Extended constants: folded.
//!
//! What cannot be lowered (SIMD, passive segments, tables of references,
//! ...) is refused, naming the function and offset.

mod helpers;

pub use helpers::{copy_function, fill_function, mem};

use crate::features::{describe_offset, Feature, Features};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::HashMap;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{
    BlockType as EBlock, CodeSection, ConstExpr, DataSection, ElementSection, Elements,
    FunctionSection, GlobalSection, GlobalType, Instruction, Module, RawSection, TypeSection,
    ValType as EVal,
};
use wasmparser::{
    BlockType, ElementItems, ElementKind, ExternalKind, FuncType, Operator, Parser, Payload,
    TypeRef, ValType, Validator,
};

/// Rewrites `wasm` to use only `target`'s features.
pub fn lower(wasm: &[u8], target: Features) -> Result<Vec<u8>> {
    // Every refusal here says `cannot lower FEATURE: ...`: its kind, for the
    // library's callers.
    lower_module(wasm, target).map_err(|e| {
        let message = format!("{e:#}");
        match message.strip_prefix("cannot lower ") {
            Some(rest) => {
                let feature = rest.split([':', ' ']).next().unwrap_or("").to_string();
                crate::error::tagged(crate::error::ErrorKind::CannotLower { feature }, message)
            }
            None => e,
        }
    })
}

fn lower_module(wasm: &[u8], target: Features) -> Result<Vec<u8>> {
    if let Err(e) = Validator::new_with_features(Features::all().wasmparser()).validate_all(wasm) {
        bail!(
            "not a valid module: {} (at {})",
            e.message(),
            describe_offset(wasm, e.offset())
        );
    }
    let m = Parsed::read(wasm)?;
    let mut l = Lowering {
        m: &m,
        wasm,
        target,
        helpers: Vec::new(),
        new_types: Vec::new(),
        spills: HashMap::new(),
        spill_list: Vec::new(),
    };
    l.check_interface()?;
    let mut bodies = Vec::new();
    for (i, body) in m.bodies.iter().enumerate() {
        let index = m.imported_funcs + i as u32;
        bodies.push(l.body(index, body)?);
    }
    let out = l.write(bodies)?;
    if let Err(e) = Validator::new_with_features(target.wasmparser()).validate_all(&out) {
        // Name the feature, and where the output still needs it.
        let still = crate::features::needed(&out)?;
        match still.iter().find(|u| !target.has(u.feature)) {
            Some(u) => bail!("cannot lower {}: needed at {}", u.feature.name(), u.at),
            None => bail!(
                "cannot lower to {}: {} at {}",
                target.names(),
                e.message(),
                describe_offset(&out, e.offset())
            ),
        }
    }
    Ok(out)
}

/// What lowering needs of the module, read once.
struct Parsed<'a> {
    sections: Vec<Section<'a>>,
    types: Vec<FuncType>,
    /// Per function (imports first), its type index.
    func_types: Vec<u32>,
    imported_funcs: u32,
    globals: u32,
    bodies: Vec<wasmparser::FunctionBody<'a>>,
    exports: Vec<(&'a str, ExternalKind, u32)>,
    imports: Vec<(&'a str, &'a str, TypeRef)>,
}

/// A section as it came, or one to rebuild.
enum Section<'a> {
    Raw { id: u8, data: &'a [u8] },
    Types,
    Functions,
    Globals(wasmparser::GlobalSectionReader<'a>),
    Elements(wasmparser::ElementSectionReader<'a>),
    DataCount { data: &'a [u8] },
    Code,
    Data(wasmparser::DataSectionReader<'a>),
    Custom { name: &'a str, data: &'a [u8] },
}

impl<'a> Parsed<'a> {
    fn read(wasm: &'a [u8]) -> Result<Parsed<'a>> {
        let mut m = Parsed {
            sections: Vec::new(),
            types: Vec::new(),
            func_types: Vec::new(),
            imported_funcs: 0,
            globals: 0,
            bodies: Vec::new(),
            exports: Vec::new(),
            imports: Vec::new(),
        };
        let bytes = |r: std::ops::Range<u64>| &wasm[r.start as usize..r.end as usize];
        let raw = |id: u8, r: std::ops::Range<u64>| Section::Raw { id, data: bytes(r) };
        for payload in Parser::new(0).parse_all(wasm) {
            match payload? {
                Payload::TypeSection(r) => {
                    for t in r.into_iter_err_on_gc_types() {
                        m.types.push(t.context(
                            "cannot lower gc: the type section has a GC type (a struct, an \
                             array or a recursive group)",
                        )?);
                    }
                    m.sections.push(Section::Types);
                }
                Payload::ImportSection(r) => {
                    let range = r.range();
                    for imp in r.into_imports() {
                        let imp = imp?;
                        match imp.ty {
                            TypeRef::Func(t) => {
                                m.func_types.push(t);
                                m.imported_funcs += 1;
                            }
                            TypeRef::Global(_) => m.globals += 1,
                            _ => {}
                        }
                        m.imports.push((imp.module, imp.name, imp.ty));
                    }
                    m.sections.push(raw(2, range));
                }
                Payload::FunctionSection(r) => {
                    for t in r {
                        m.func_types.push(t?);
                    }
                    m.sections.push(Section::Functions);
                }
                Payload::GlobalSection(r) => {
                    m.globals += r.count();
                    m.sections.push(Section::Globals(r));
                }
                Payload::ExportSection(r) => {
                    let range = r.range();
                    for e in r {
                        let e = e?;
                        m.exports.push((e.name, e.kind, e.index));
                    }
                    m.sections.push(raw(7, range));
                }
                Payload::TableSection(r) => m.sections.push(raw(4, r.range())),
                Payload::MemorySection(r) => m.sections.push(raw(5, r.range())),
                Payload::TagSection(r) => m.sections.push(raw(13, r.range())),
                Payload::StartSection { range, .. } => m.sections.push(raw(8, range)),
                Payload::ElementSection(r) => m.sections.push(Section::Elements(r)),
                Payload::DataCountSection { range, .. } => {
                    m.sections.push(Section::DataCount { data: bytes(range) })
                }
                Payload::CodeSectionStart { .. } => m.sections.push(Section::Code),
                Payload::CodeSectionEntry(body) => m.bodies.push(body),
                Payload::DataSection(r) => m.sections.push(Section::Data(r)),
                Payload::CustomSection(c) => m.sections.push(Section::Custom {
                    name: c.name(),
                    data: c.data(),
                }),
                Payload::Version { encoding, .. } => {
                    if encoding != wasmparser::Encoding::Module {
                        bail!("lowering takes a core module, not a component");
                    }
                }
                Payload::End(_) => {}
                other => {
                    if let Some((id, range)) = other.as_section() {
                        m.sections.push(raw(id, range));
                    }
                }
            }
        }
        Ok(m)
    }

    fn func_type(&self, func: u32) -> &FuncType {
        &self.types[self.func_types[func as usize] as usize]
    }
}

/// A helper function the lowered code calls.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Helper {
    Copy,
    Fill,
    /// Saturating truncation: (from f64, to i64, signed).
    TruncSat(bool, bool, bool),
}

struct Lowering<'m, 'a> {
    m: &'m Parsed<'a>,
    wasm: &'a [u8],
    target: Features,
    /// Helpers in the order first used: function `funcs + i`.
    helpers: Vec<Helper>,
    /// Types added for the helpers: type `types + i`.
    new_types: Vec<(Vec<EVal>, Vec<EVal>)>,
    /// Globals carrying multi-value results and parameters, by (position,
    /// type): global `globals + i`.
    spills: HashMap<(usize, ValType), u32>,
    spill_list: Vec<ValType>,
}

/// A control frame of the function being rewritten.
struct Frame {
    kind: Kind,
    params: Vec<ValType>,
    results: Vec<ValType>,
    /// Whether its values pass through globals (a multi-value block, or the
    /// function when it has several results).
    spilled: bool,
    has_else: bool,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Func,
    Block,
    Loop,
    If,
}

impl Frame {
    /// What a branch to it carries, and how many of those stay on the stack
    /// (a lowered loop takes no parameters; a block keeps its first result).
    fn label(&self) -> (&[ValType], usize) {
        match self.kind {
            Kind::Loop => (&self.params, 0),
            _ => (&self.results, self.results.len().min(1)),
        }
    }
}

fn eval(t: ValType) -> EVal {
    RoundtripReencoder.val_type(t).expect("a value type")
}

impl<'a> Lowering<'_, 'a> {
    fn lowers(&self, f: Feature) -> bool {
        !self.target.has(f)
    }

    fn at(&self, offset: u64) -> String {
        describe_offset(self.wasm, offset)
    }

    /// Refuses what no rewrite inside a function can fix: the host would
    /// call or be called with several results.
    fn check_interface(&self) -> Result<()> {
        if !self.lowers(Feature::Multivalue) {
            return Ok(());
        }
        for (module, name, ty) in &self.m.imports {
            if let TypeRef::Func(t) = ty {
                if self.m.types[*t as usize].results().len() > 1 {
                    bail!("cannot lower multivalue: import {module}.{name} returns several values");
                }
            }
        }
        for (name, kind, index) in &self.m.exports {
            if *kind == ExternalKind::Func && self.m.func_type(*index).results().len() > 1 {
                bail!("cannot lower multivalue: export `{name}` returns several values");
            }
        }
        Ok(())
    }

    fn helper(&mut self, h: Helper) -> u32 {
        let funcs = self.m.func_types.len() as u32;
        if let Some(i) = self.helpers.iter().position(|&x| x == h) {
            return funcs + i as u32;
        }
        self.helpers.push(h);
        funcs + self.helpers.len() as u32 - 1
    }

    fn spill_global(&mut self, pos: usize, ty: ValType) -> u32 {
        let next = self.m.globals + self.spill_list.len() as u32;
        *self.spills.entry((pos, ty)).or_insert_with(|| {
            self.spill_list.push(ty);
            next
        })
    }

    /// Sets the spill globals from the top of the stack: `vals[from..]`,
    /// last first.
    fn spill(&mut self, out: &mut Vec<Instruction<'a>>, vals: &[ValType], from: usize) {
        for pos in (from..vals.len()).rev() {
            let g = self.spill_global(pos, vals[pos]);
            out.push(Instruction::GlobalSet(g));
        }
    }

    /// Pushes `vals[from..]` back from the spill globals.
    fn restore(&mut self, out: &mut Vec<Instruction<'a>>, vals: &[ValType], from: usize) {
        for (pos, &ty) in vals.iter().enumerate().skip(from) {
            let g = self.spill_global(pos, ty);
            out.push(Instruction::GlobalGet(g));
        }
    }

    fn block_types(&self, b: BlockType) -> (Vec<ValType>, Vec<ValType>) {
        match b {
            BlockType::Empty => (vec![], vec![]),
            BlockType::Type(t) => (vec![], vec![t]),
            BlockType::FuncType(i) => {
                let t = &self.m.types[i as usize];
                (t.params().to_vec(), t.results().to_vec())
            }
        }
    }

    /// The frame of a block passed on as it is.
    fn unlowered_frame(&self, blockty: BlockType) -> Frame {
        let (params, results) = self.block_types(blockty);
        Frame {
            kind: Kind::Block,
            params,
            results,
            spilled: false,
            has_else: false,
        }
    }

    /// Function `index`'s body, rewritten.
    fn body(
        &mut self,
        index: u32,
        body: &wasmparser::FunctionBody<'a>,
    ) -> Result<wasm_encoder::Function> {
        let ty = self.m.func_type(index).clone();
        let mut locals: Vec<(u32, EVal)> = Vec::new();
        let mut n_locals = ty.params().len() as u32;
        for l in body.get_locals_reader()? {
            let (n, t) = l?;
            locals.push((n, eval(t)));
            n_locals += n;
        }
        // One i32 for a condition or index held while values are spilled.
        let tmp = n_locals;
        let mut tmp_used = false;
        let mv = self.lowers(Feature::Multivalue);
        let mut frames = vec![Frame {
            kind: Kind::Func,
            params: vec![],
            results: ty.results().to_vec(),
            spilled: mv && ty.results().len() > 1,
            has_else: false,
        }];
        let mut out: Vec<Instruction<'a>> = Vec::new();
        let mut reader = body.get_operators_reader()?;
        while !reader.eof() {
            let (op, offset) = reader.read_with_offset()?;
            let refuse = |what: &str, feature: Feature| -> anyhow::Error {
                anyhow!(
                    "cannot lower {}: {what} at {}",
                    feature.name(),
                    self.at(offset)
                )
            };
            match op {
                Operator::Block { blockty }
                | Operator::Loop { blockty }
                | Operator::If { blockty } => {
                    let kind = match op {
                        Operator::Block { .. } => Kind::Block,
                        Operator::Loop { .. } => Kind::Loop,
                        _ => Kind::If,
                    };
                    let (params, results) = self.block_types(blockty);
                    let spilled = mv && matches!(blockty, BlockType::FuncType(_));
                    if spilled {
                        let lowered = match results.first() {
                            Some(&t) => EBlock::Result(eval(t)),
                            None => EBlock::Empty,
                        };
                        if kind == Kind::If {
                            out.push(Instruction::LocalSet(tmp));
                            tmp_used = true;
                        }
                        self.spill(&mut out, &params, 0);
                        if kind == Kind::If {
                            out.push(Instruction::LocalGet(tmp));
                        }
                        out.push(match kind {
                            Kind::Block => Instruction::Block(lowered),
                            Kind::Loop => Instruction::Loop(lowered),
                            _ => Instruction::If(lowered),
                        });
                        self.restore(&mut out, &params, 0);
                    } else {
                        out.push(RoundtripReencoder.instruction(op.clone())?);
                    }
                    frames.push(Frame {
                        kind,
                        params,
                        results,
                        spilled,
                        has_else: false,
                    });
                }
                // Exception handling is not lowered: its blocks pass as
                // they are (the final validation names the feature).
                Operator::TryTable { ref try_table } => {
                    let blockty = try_table.ty;
                    out.push(RoundtripReencoder.instruction(op.clone())?);
                    frames.push(self.unlowered_frame(blockty));
                }
                Operator::Try { blockty } => {
                    out.push(RoundtripReencoder.instruction(op.clone())?);
                    frames.push(self.unlowered_frame(blockty));
                }
                Operator::Delegate { .. } => {
                    frames.pop().context("delegate outside a try")?;
                    out.push(RoundtripReencoder.instruction(op.clone())?);
                }
                Operator::Else => {
                    let f = frames.last_mut().context("else outside a block")?;
                    f.has_else = true;
                    let (spilled, params, results) =
                        (f.spilled, f.params.clone(), f.results.clone());
                    if spilled {
                        self.spill(&mut out, &results, 1);
                        out.push(Instruction::Else);
                        self.restore(&mut out, &params, 0);
                    } else {
                        out.push(Instruction::Else);
                    }
                }
                Operator::End => {
                    let f = frames.pop().context("end outside a block")?;
                    if f.spilled {
                        self.spill(&mut out, &f.results, 1);
                        if f.kind == Kind::If && !f.has_else {
                            // The implicit else passes the parameters on as
                            // the results (they are the same types).
                            out.push(Instruction::Else);
                            self.restore(&mut out, &f.params, 0);
                            self.spill(&mut out, &f.results, 1);
                        }
                    }
                    out.push(Instruction::End);
                    if f.spilled && f.kind != Kind::Func {
                        self.restore(&mut out, &f.results, 1);
                    }
                }
                Operator::Br { relative_depth } => {
                    let f = frame(&frames, relative_depth)?;
                    if f.spilled {
                        let (vals, kept) = f.label();
                        let vals = vals.to_vec();
                        self.spill(&mut out, &vals, kept);
                    }
                    out.push(Instruction::Br(relative_depth));
                }
                Operator::BrIf { relative_depth } => {
                    let f = frame(&frames, relative_depth)?;
                    let (vals, kept) = f.label();
                    if f.spilled && vals.len() > kept {
                        let vals = vals.to_vec();
                        out.push(Instruction::LocalSet(tmp));
                        tmp_used = true;
                        self.spill(&mut out, &vals, kept);
                        out.push(Instruction::LocalGet(tmp));
                        out.push(Instruction::BrIf(relative_depth));
                        self.restore(&mut out, &vals, kept);
                    } else {
                        out.push(Instruction::BrIf(relative_depth));
                    }
                }
                Operator::BrTable { ref targets } => {
                    let mut depths: Vec<u32> = targets.targets().collect::<Result<_, _>>()?;
                    depths.push(targets.default());
                    let mut shape: Option<(Vec<ValType>, usize, bool)> = None;
                    for &d in &depths {
                        let f = frame(&frames, d)?;
                        let (vals, kept) = f.label();
                        let this = (
                            vals.to_vec(),
                            if f.spilled { kept } else { vals.len() },
                            f.spilled,
                        );
                        match &shape {
                            Some(s) if (s.0.len(), s.1) != (this.0.len(), this.1) => {
                                return Err(refuse(
                                    "a br_table to labels that keep different numbers of values",
                                    Feature::Multivalue,
                                ));
                            }
                            _ => shape = Some(this),
                        }
                    }
                    let (vals, kept, _) = shape.context("br_table without targets")?;
                    if vals.len() > kept {
                        out.push(Instruction::LocalSet(tmp));
                        tmp_used = true;
                        self.spill(&mut out, &vals, kept);
                        out.push(Instruction::LocalGet(tmp));
                    }
                    out.push(RoundtripReencoder.instruction(op.clone())?);
                }
                Operator::Return => {
                    let f = &frames[0];
                    if f.spilled {
                        let vals = f.results.clone();
                        self.spill(&mut out, &vals, 1);
                    }
                    out.push(Instruction::Return);
                }
                Operator::Call { function_index } => {
                    out.push(Instruction::Call(function_index));
                    let results = self.m.func_type(function_index).results().to_vec();
                    if mv && results.len() > 1 {
                        self.restore(&mut out, &results, 1);
                    }
                }
                Operator::CallIndirect {
                    type_index,
                    table_index,
                } => {
                    if table_index != 0 && self.lowers(Feature::ReferenceTypes) {
                        return Err(refuse(
                            "call_indirect through a table other than the first",
                            Feature::ReferenceTypes,
                        ));
                    }
                    out.push(Instruction::CallIndirect {
                        type_index,
                        table_index,
                    });
                    let results = self.m.types[type_index as usize].results().to_vec();
                    if mv && results.len() > 1 {
                        self.restore(&mut out, &results, 1);
                    }
                }
                // The callee leaves in the spill globals what this
                // function's return would put there.
                Operator::ReturnCall { function_index } if self.lowers(Feature::TailCall) => {
                    out.push(Instruction::Call(function_index));
                    out.push(Instruction::Return);
                }
                Operator::ReturnCallIndirect {
                    type_index,
                    table_index,
                } if self.lowers(Feature::TailCall) => {
                    out.push(Instruction::CallIndirect {
                        type_index,
                        table_index,
                    });
                    out.push(Instruction::Return);
                }
                Operator::MemoryCopy { .. } if self.lowers(Feature::BulkMemory) => {
                    out.push(Instruction::Call(self.helper(Helper::Copy)))
                }
                Operator::MemoryFill { .. } if self.lowers(Feature::BulkMemory) => {
                    out.push(Instruction::Call(self.helper(Helper::Fill)))
                }
                Operator::MemoryInit { .. } | Operator::DataDrop { .. }
                    if self.lowers(Feature::BulkMemory) =>
                {
                    return Err(refuse(
                        "memory.init / data.drop (passive data segments)",
                        Feature::BulkMemory,
                    ));
                }
                Operator::TableCopy { .. }
                | Operator::TableInit { .. }
                | Operator::ElemDrop { .. }
                    if self.lowers(Feature::BulkMemory) =>
                {
                    return Err(refuse(
                        "table.copy / table.init / elem.drop",
                        Feature::BulkMemory,
                    ));
                }
                Operator::I32Extend8S if self.lowers(Feature::SignExt) => {
                    shifts(&mut out, false, 24)
                }
                Operator::I32Extend16S if self.lowers(Feature::SignExt) => {
                    shifts(&mut out, false, 16)
                }
                Operator::I64Extend8S if self.lowers(Feature::SignExt) => {
                    shifts(&mut out, true, 56)
                }
                Operator::I64Extend16S if self.lowers(Feature::SignExt) => {
                    shifts(&mut out, true, 48)
                }
                Operator::I64Extend32S if self.lowers(Feature::SignExt) => {
                    out.push(Instruction::I32WrapI64);
                    out.push(Instruction::I64ExtendI32S);
                }
                Operator::I32TruncSatF32S
                | Operator::I32TruncSatF32U
                | Operator::I32TruncSatF64S
                | Operator::I32TruncSatF64U
                | Operator::I64TruncSatF32S
                | Operator::I64TruncSatF32U
                | Operator::I64TruncSatF64S
                | Operator::I64TruncSatF64U
                    if self.lowers(Feature::NontrappingFptoint) =>
                {
                    let (f64, i64, signed) = match op {
                        Operator::I32TruncSatF32S => (false, false, true),
                        Operator::I32TruncSatF32U => (false, false, false),
                        Operator::I32TruncSatF64S => (true, false, true),
                        Operator::I32TruncSatF64U => (true, false, false),
                        Operator::I64TruncSatF32S => (false, true, true),
                        Operator::I64TruncSatF32U => (false, true, false),
                        Operator::I64TruncSatF64S => (true, true, true),
                        _ => (true, true, false),
                    };
                    out.push(Instruction::Call(
                        self.helper(Helper::TruncSat(f64, i64, signed)),
                    ));
                }
                Operator::TypedSelect { ty }
                    if self.lowers(Feature::ReferenceTypes) && !ty.is_reference_type() =>
                {
                    out.push(Instruction::Select)
                }
                Operator::RefNull { .. }
                | Operator::RefIsNull
                | Operator::RefFunc { .. }
                | Operator::TableGet { .. }
                | Operator::TableSet { .. }
                | Operator::TableSize { .. }
                | Operator::TableGrow { .. }
                | Operator::TableFill { .. }
                | Operator::TypedSelect { .. }
                    if self.lowers(Feature::ReferenceTypes) =>
                {
                    return Err(refuse(
                        "a reference or table instruction",
                        Feature::ReferenceTypes,
                    ));
                }
                op => out.push(RoundtripReencoder.instruction(op)?),
            }
        }
        if tmp_used {
            locals.push((1, EVal::I32));
        }
        let mut f = wasm_encoder::Function::new(locals);
        for i in &out {
            f.instruction(i);
        }
        Ok(f)
    }

    /// A constant expression, folded to one constant if the target has no
    /// extended constants.
    fn const_expr(&self, e: &wasmparser::ConstExpr, what: &str) -> Result<ConstExpr> {
        if self.target.has(Feature::ExtendedConst) {
            return RoundtripReencoder
                .const_expr(e.clone())
                .map_err(|e| anyhow!("{e}"));
        }
        let mut nums: Vec<Option<i64>> = Vec::new();
        let mut is64 = false;
        for op in e.get_operators_reader() {
            let op = op?;
            match op {
                Operator::I32Const { value } => nums.push(Some(value as i64)),
                Operator::I64Const { value } => {
                    is64 = true;
                    nums.push(Some(value))
                }
                Operator::I32Add | Operator::I32Sub | Operator::I32Mul => {
                    let (b, a) = (nums.pop().flatten(), nums.pop().flatten());
                    let (Some(a), Some(b)) = (a, b) else {
                        bail!("cannot lower extended-const: {what} computes with a global");
                    };
                    let (a, b) = (a as i32, b as i32);
                    nums.push(Some(match op {
                        Operator::I32Add => a.wrapping_add(b),
                        Operator::I32Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    } as i64));
                }
                Operator::I64Add | Operator::I64Sub | Operator::I64Mul => {
                    let (b, a) = (nums.pop().flatten(), nums.pop().flatten());
                    let (Some(a), Some(b)) = (a, b) else {
                        bail!("cannot lower extended-const: {what} computes with a global");
                    };
                    nums.push(Some(match op {
                        Operator::I64Add => a.wrapping_add(b),
                        Operator::I64Sub => a.wrapping_sub(b),
                        _ => a.wrapping_mul(b),
                    }));
                }
                Operator::End => break,
                // Anything else is 1.0's one-instruction form.
                _ => {
                    return RoundtripReencoder
                        .const_expr(e.clone())
                        .map_err(|e| anyhow!("{e}"))
                }
            }
        }
        match nums.as_slice() {
            [Some(v)] if is64 => Ok(ConstExpr::i64_const(*v)),
            [Some(v)] => Ok(ConstExpr::i32_const(*v as i32)),
            _ => RoundtripReencoder
                .const_expr(e.clone())
                .map_err(|e| anyhow!("{e}")),
        }
    }

    fn write(&mut self, bodies: Vec<wasm_encoder::Function>) -> Result<Vec<u8>> {
        let helper_types: Vec<u32> = {
            let helpers = self.helpers.clone();
            helpers
                .iter()
                .map(|h| {
                    let sig = h.signature();
                    let base = self.m.types.len() as u32;
                    match self.new_types.iter().position(|t| *t == sig) {
                        Some(i) => base + i as u32,
                        None => {
                            self.new_types.push(sig);
                            base + self.new_types.len() as u32 - 1
                        }
                    }
                })
                .collect()
        };
        let mv = self.lowers(Feature::Multivalue);
        let bulk = self.lowers(Feature::BulkMemory);
        let refs = self.lowers(Feature::ReferenceTypes);
        let mut module = Module::new();
        // Sections that may be missing and must then be added, by their
        // place in the order.
        let order = |s: &Section| match s {
            Section::Types => 1,
            Section::Raw { id: 2, .. } => 2,
            Section::Functions => 3,
            Section::Raw { id: 4, .. } => 4,
            Section::Raw { id: 5, .. } => 5,
            Section::Raw { id: 13, .. } => 6,
            Section::Globals(_) => 7,
            Section::Raw { id: 7, .. } => 8,
            Section::Raw { id: 8, .. } => 9,
            Section::Elements(_) => 10,
            Section::DataCount { .. } => 11,
            Section::Code => 12,
            Section::Data(_) => 13,
            _ => 0,
        };
        let mut present = [false; 4]; // types, functions, globals, code
        for s in &self.m.sections {
            match s {
                Section::Types => present[0] = true,
                Section::Functions => present[1] = true,
                Section::Globals(_) => present[2] = true,
                Section::Code => present[3] = true,
                _ => {}
            }
        }
        let mut bodies = Some(bodies);
        let mut emitted = [false; 4];
        let needs = [
            !self.new_types.is_empty(),
            !self.helpers.is_empty(),
            !self.spill_list.is_empty(),
            !self.helpers.is_empty(),
        ];
        let places = [1, 3, 7, 12];
        for s in self
            .m
            .sections
            .iter()
            .chain(std::iter::once(&Section::Custom {
                name: "",
                data: &[],
            }))
        {
            let rank = order(s);
            let last = matches!(s, Section::Custom { name: "", .. });
            // Add the missing sections that come before this one.
            for k in 0..4 {
                if !present[k]
                    && needs[k]
                    && !emitted[k]
                    && (last || (rank != 0 && places[k] < rank))
                {
                    emitted[k] = true;
                    match k {
                        0 => module.section(&self.types(mv)?),
                        1 => module.section(&self.functions(&helper_types)),
                        2 => module.section(&self.globals(None)?),
                        _ => module.section(&self.code(bodies.take().unwrap_or_default())),
                    };
                }
            }
            if last {
                break;
            }
            match s {
                Section::Raw { id, data } => {
                    module.section(&RawSection { id: *id, data });
                }
                Section::Types => {
                    module.section(&self.types(mv)?);
                }
                Section::Functions => {
                    module.section(&self.functions(&helper_types));
                }
                Section::Globals(r) => {
                    module.section(&self.globals(Some(r.clone()))?);
                }
                Section::Elements(r) => {
                    module.section(&self.elements(r.clone(), bulk || refs)?);
                }
                Section::DataCount { data } => {
                    if !bulk {
                        module.section(&RawSection { id: 12, data });
                    }
                }
                Section::Code => {
                    module.section(&self.code(bodies.take().unwrap_or_default()));
                }
                Section::Data(r) => {
                    module.section(&self.data(r.clone(), bulk)?);
                }
                // The compiler's record of the features it used is no
                // longer true.
                Section::Custom {
                    name: "target_features",
                    ..
                } => {}
                Section::Custom { name, data } => {
                    module.section(&wasm_encoder::CustomSection {
                        name: (*name).into(),
                        data: (*data).into(),
                    });
                }
            }
        }
        Ok(module.finish())
    }

    fn types(&self, mv: bool) -> Result<TypeSection> {
        let mut s = TypeSection::new();
        for t in &self.m.types {
            let params: Vec<EVal> = t.params().iter().map(|&v| eval(v)).collect();
            let results: Vec<EVal> = t
                .results()
                .iter()
                .take(if mv { 1 } else { usize::MAX })
                .map(|&v| eval(v))
                .collect();
            s.ty().function(params, results);
        }
        for (p, r) in &self.new_types {
            s.ty().function(p.clone(), r.clone());
        }
        Ok(s)
    }

    fn functions(&self, helper_types: &[u32]) -> FunctionSection {
        let mut s = FunctionSection::new();
        for &t in &self.m.func_types[self.m.imported_funcs as usize..] {
            s.function(t);
        }
        for &t in helper_types {
            s.function(t);
        }
        s
    }

    fn globals(&self, r: Option<wasmparser::GlobalSectionReader<'a>>) -> Result<GlobalSection> {
        let mut s = GlobalSection::new();
        for (i, g) in r.into_iter().flatten().enumerate() {
            let g = g?;
            let ty = RoundtripReencoder
                .global_type(g.ty)
                .map_err(|e| anyhow!("{e}"))?;
            s.global(ty, &self.const_expr(&g.init_expr, &format!("global {i}"))?);
        }
        for &t in &self.spill_list {
            let zero = match t {
                ValType::I32 => ConstExpr::i32_const(0),
                ValType::I64 => ConstExpr::i64_const(0),
                ValType::F32 => ConstExpr::f32_const(0.0.into()),
                ValType::F64 => ConstExpr::f64_const(0.0.into()),
                ValType::V128 => ConstExpr::v128_const(0),
                ValType::Ref(_) => bail!("cannot lower multivalue: a reference among the values"),
            };
            s.global(
                GlobalType {
                    val_type: eval(t),
                    mutable: true,
                    shared: false,
                },
                &zero,
            );
        }
        Ok(s)
    }

    fn elements(
        &self,
        r: wasmparser::ElementSectionReader<'a>,
        lower: bool,
    ) -> Result<ElementSection> {
        let mut s = ElementSection::new();
        if !lower {
            RoundtripReencoder
                .parse_element_section(&mut s, r)
                .map_err(|e| anyhow!("{e}"))?;
            return Ok(s);
        }
        for (i, e) in r.into_iter().enumerate() {
            let e = e?;
            let funcs: Vec<u32> = match e.items {
                ElementItems::Functions(f) => f.into_iter().collect::<Result<_, _>>()?,
                ElementItems::Expressions(_, exprs) => {
                    let mut funcs = Vec::new();
                    for expr in exprs {
                        let mut ops = expr?.get_operators_reader();
                        match (ops.read()?, ops.read()?) {
                            (Operator::RefFunc { function_index }, Operator::End) => {
                                funcs.push(function_index)
                            }
                            _ => bail!(
                                "cannot lower reference-types: element segment {i} holds a \
                                 reference other than a function's"
                            ),
                        }
                    }
                    funcs
                }
            };
            match e.kind {
                ElementKind::Active {
                    table_index,
                    offset_expr,
                } => {
                    if table_index.unwrap_or(0) != 0 {
                        bail!(
                            "cannot lower reference-types: element segment {i} fills a table \
                             other than the first"
                        );
                    }
                    let offset = self.const_expr(&offset_expr, &format!("element segment {i}"))?;
                    s.active(None, &offset, Elements::Functions(funcs.into()));
                }
                // Only declares functions for `ref.func`, which 1.0 has not.
                ElementKind::Declared => {}
                ElementKind::Passive => bail!(
                    "cannot lower bulk-memory: element segment {i} is passive (for table.init)"
                ),
            }
        }
        Ok(s)
    }

    fn code(&self, bodies: Vec<wasm_encoder::Function>) -> CodeSection {
        let mut s = CodeSection::new();
        for b in &bodies {
            s.function(b);
        }
        for h in &self.helpers {
            s.function(&h.body());
        }
        s
    }

    fn data(&self, r: wasmparser::DataSectionReader<'a>, lower: bool) -> Result<DataSection> {
        let mut s = DataSection::new();
        for (i, d) in r.into_iter().enumerate() {
            let d = d?;
            match d.kind {
                wasmparser::DataKind::Active {
                    memory_index,
                    offset_expr,
                } => {
                    let offset = self.const_expr(&offset_expr, &format!("data segment {i}"))?;
                    s.active(memory_index, &offset, d.data.iter().copied());
                }
                wasmparser::DataKind::Passive if lower => {
                    bail!("cannot lower bulk-memory: data segment {i} is passive (for memory.init)")
                }
                wasmparser::DataKind::Passive => {
                    s.passive(d.data.iter().copied());
                }
            }
        }
        Ok(s)
    }
}

fn frame(frames: &[Frame], depth: u32) -> Result<&Frame> {
    frames
        .len()
        .checked_sub(1 + depth as usize)
        .map(|i| &frames[i])
        .context("a branch out of the function")
}

/// Sign extension by shifting left, then arithmetically right.
fn shifts(out: &mut Vec<Instruction>, i64: bool, bits: i64) {
    if i64 {
        out.extend([
            Instruction::I64Const(bits),
            Instruction::I64Shl,
            Instruction::I64Const(bits),
            Instruction::I64ShrS,
        ]);
    } else {
        out.extend([
            Instruction::I32Const(bits as i32),
            Instruction::I32Shl,
            Instruction::I32Const(bits as i32),
            Instruction::I32ShrS,
        ]);
    }
}
