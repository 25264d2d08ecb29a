//! Stage 3, shrink: keep only what `_start` can reach, across every module
//! of the graph and the adapter, so unused adapter code, the preview1
//! imports only it used, and the component's plumbing disappear.
//!
//! Plumbing first: `wasm-component-ld` routes imports through a shim module
//! whose functions only `call_indirect` a table that a fixup module fills
//! once, with constants. Such a call is a call of what the table holds, so
//! it is bound directly, and the shim, its table and the fixup drop out.

use crate::link::{Def, Linked, Target};
use crate::scan::{self, FuncScan, TableUse};
use anyhow::{bail, Result};
use std::collections::{HashMap, HashSet};
use wasmparser::{ConstExpr, ElementItems, ElementKind, Operator};

pub struct Kept<'a> {
    /// Per part, per function index: kept (defined functions only).
    pub funcs: Vec<Vec<bool>>,
    /// Per part, per table index: kept (defined tables only).
    pub tables: Vec<Vec<bool>>,
    /// Per part, per element segment: kept.
    pub elements: Vec<Vec<bool>>,
    /// Trampolines bound to what their table holds.
    pub forward: HashMap<(usize, u32), Target<'a>>,
    /// Reached targets other than defined functions (host imports, stubs,
    /// allocator selectors), in order of first use.
    pub others: Vec<Target<'a>>,
    /// Functions whose reference code takes (`ref.func`).
    pub referenced: Vec<Target<'a>>,
    /// Whether reached adapter code uses `memory.copy` / `memory.fill`
    /// where the program does not: then they are lowered to loops, so the
    /// output needs no feature the program does not (a program that uses
    /// bulk memory itself has the adapter's as they are, native).
    pub uses_copy: bool,
    pub uses_fill: bool,
    /// Whether reached program code uses bulk memory.
    pub program_bulk: bool,
    /// Per module, per defined function: what its body refers to.
    pub scans: Vec<Vec<FuncScan>>,
}

impl<'a> Kept<'a> {
    /// What a reference to function `index` of `part` calls.
    pub fn func(&self, l: &Linked<'a>, part: usize, index: u32) -> Target<'a> {
        match l.func(part, index) {
            Target::Def { part, index } => match self.forward.get(&(part, index)) {
                Some(t) => t.clone(),
                None => Target::Def { part, index },
            },
            t => t,
        }
    }

    /// Whether any adapter code is kept.
    pub fn adapter(&self, l: &Linked) -> bool {
        self.funcs[l.adapter()].iter().any(|&k| k)
    }
}

/// The constant an `i32.const N` expression gives.
pub fn const_i32(e: &ConstExpr) -> Option<i32> {
    let mut ops = e.get_operators_reader();
    match (ops.read().ok()?, ops.read().ok()?) {
        (Operator::I32Const { value }, Operator::End) => Some(value),
        _ => None,
    }
}

/// What `_start` reaches; `known` holds the scans of the program's bodies
/// made while validating it (the others are made here).
pub fn reachable<'a>(l: &Linked<'a>, known: &mut scan::Known) -> Result<Kept<'a>> {
    let parts = l.parts.len();
    let mut kept = Kept {
        funcs: (0..parts)
            .map(|p| vec![false; l.module(p).func_count() as usize])
            .collect(),
        tables: (0..parts)
            .map(|p| {
                let m = l.module(p);
                vec![false; m.table_imports.len() + m.tables.len()]
            })
            .collect(),
        elements: (0..parts)
            .map(|p| vec![false; l.module(p).elements.len()])
            .collect(),
        forward: HashMap::new(),
        others: Vec::new(),
        referenced: Vec::new(),
        uses_copy: false,
        uses_fill: false,
        program_bulk: false,
        scans: l
            .modules
            .iter()
            .map(|m| scan::module(m, known))
            .collect::<Result<_>>()?,
    };
    // Active segments by the table they fill, in instantiation order.
    let mut segments: HashMap<Def, Vec<(usize, usize)>> = HashMap::new();
    for p in 0..parts {
        for (i, e) in l.module(p).elements.iter().enumerate() {
            if let ElementKind::Active { table_index, .. } = e.kind {
                segments
                    .entry(l.table(p, table_index.unwrap_or(0)))
                    .or_default()
                    .push((p, i));
            }
        }
    }
    trampolines(l, &segments, &mut kept)?;

    let mut work: Vec<Target<'a>> = vec![l.run.clone()];
    work.extend(l.post_return.clone());
    for p in 0..parts - 1 {
        if let Some(s) = l.module(p).start {
            work.push(kept.func(l, p, s));
        }
    }
    // Every global is kept: the functions their initializers take
    // (`ref.func`) are reached.
    for p in 0..parts {
        for g in &l.module(p).globals {
            for op in g.init_expr.get_operators_reader().into_iter().flatten() {
                if let Operator::RefFunc { function_index } = op {
                    let t = kept.func(l, p, function_index);
                    if !kept.referenced.contains(&t) {
                        kept.referenced.push(t.clone());
                    }
                    work.push(t);
                }
            }
        }
    }
    let mut seen_tables: HashSet<Def> = HashSet::new();
    let mut seen_others: HashSet<String> = HashSet::new();
    // Kept adapter code needs its state, which the start function
    // initialises: a second walk keeps what that reaches.
    let init = l.init_state();
    loop {
        let Some(t) = work.pop() else {
            match init {
                Some(init) if kept.adapter(l) && !kept.funcs[init.part][init.index as usize] => {
                    work.push(Target::Def {
                        part: init.part,
                        index: init.index,
                    });
                    continue;
                }
                _ => break,
            }
        };
        let (part, index) = match t {
            Target::Def { part, index } => (part, index),
            Target::Wasi { func, realloc } => {
                work.push(Target::Def {
                    part: l.adapter(),
                    index: func,
                });
                let r = l.reallocs[realloc].func;
                work.push(Target::Def {
                    part: r.part,
                    index: r.index,
                });
                if seen_others.insert(format!("{t:?}")) {
                    kept.others.push(t);
                }
                continue;
            }
            Target::Realloc => {
                for r in &l.reallocs {
                    work.push(Target::Def {
                        part: r.func.part,
                        index: r.func.index,
                    });
                }
                if seen_others.insert(format!("{t:?}")) {
                    kept.others.push(t);
                }
                continue;
            }
            Target::Curried { func, .. } => {
                work.push(Target::Def {
                    part: l.adapter(),
                    index: func,
                });
                if seen_others.insert(format!("{t:?}")) {
                    kept.others.push(t);
                }
                continue;
            }
            Target::Missing(why) => bail!("{why}"),
            Target::Inline(_) => continue,
            other => {
                if seen_others.insert(format!("{other:?}")) {
                    kept.others.push(other);
                }
                continue;
            }
        };
        if std::mem::replace(&mut kept.funcs[part][index as usize], true) {
            continue;
        }
        let m = l.module(part);
        let Some(i) = (index as usize).checked_sub(m.imports.len()) else {
            continue;
        };
        let module = l.parts[part];
        let mut tables: Vec<u32> = Vec::new();
        // Tables of active segments that code keeps (`elem.drop` of one).
        let mut segment_tables: Vec<Def> = Vec::new();
        for k in 0..kept.scans[module][i].funcs.len() {
            let f = kept.scans[module][i].funcs[k];
            let t = kept.func(l, part, f.index);
            if f.is_ref && !kept.referenced.contains(&t) {
                kept.referenced.push(t.clone());
            }
            work.push(t);
        }
        for k in 0..kept.scans[module][i].tables.len() {
            match kept.scans[module][i].tables[k] {
                TableUse::Use(t) | TableUse::Write(t) => tables.push(t),
                TableUse::Segment { elem, .. } => {
                    let at = keep_segment(l, &mut kept, &mut work, part, elem as usize);
                    segment_tables.extend(at)
                }
            }
        }
        let scan = &kept.scans[module][i];
        let (copy, fill, bulk) = (scan.copy, scan.fill, scan.bulk);
        if part == l.adapter() {
            kept.uses_copy |= copy;
            kept.uses_fill |= fill;
        } else {
            kept.program_bulk |= bulk;
        }
        let defs = tables.into_iter().map(|t| l.table(part, t));
        for def in defs.chain(segment_tables) {
            if seen_tables.insert(def) {
                kept.tables[def.part][def.index as usize] = true;
                for &(p, i) in segments.get(&def).into_iter().flatten() {
                    keep_segment(l, &mut kept, &mut work, p, i);
                }
            }
        }
    }
    if kept.program_bulk {
        (kept.uses_copy, kept.uses_fill) = (false, false);
    }
    Ok(kept)
}

/// Keeps element segment `i` of `part` and the functions it holds; an
/// active one also needs its table (returned).
fn keep_segment<'a>(
    l: &Linked<'a>,
    kept: &mut Kept<'a>,
    work: &mut Vec<Target<'a>>,
    part: usize,
    i: usize,
) -> Option<Def> {
    let e = &l.module(part).elements[i];
    let table = match &e.kind {
        ElementKind::Active { table_index, .. } => Some(l.table(part, table_index.unwrap_or(0))),
        _ => None,
    };
    if std::mem::replace(&mut kept.elements[part][i], true) {
        return table;
    }
    for f in segment_funcs(e) {
        work.push(kept.func(l, part, f));
    }
    table
}

/// The functions a segment holds (`None` for a null entry).
pub fn segment_items(e: &wasmparser::Element) -> Vec<Option<u32>> {
    match &e.items {
        ElementItems::Functions(r) => r.clone().into_iter().map(|f| f.ok()).collect(),
        ElementItems::Expressions(_, r) => r
            .clone()
            .into_iter()
            .map(|e| {
                let mut ops = e.ok()?.get_operators_reader();
                match ops.read().ok()? {
                    Operator::RefFunc { function_index } => Some(function_index),
                    _ => None,
                }
            })
            .collect(),
    }
}

fn segment_funcs(e: &wasmparser::Element) -> impl Iterator<Item = u32> {
    segment_items(e).into_iter().flatten()
}

/// Finds functions that only pass their parameters to `call_indirect` of a
/// constant slot of a table no code changes, and binds each to the function
/// the active segments put in that slot.
fn trampolines<'a>(
    l: &Linked<'a>,
    segments: &HashMap<Def, Vec<(usize, usize)>>,
    kept: &mut Kept<'a>,
) -> Result<()> {
    // (part, func) -> (table, slot)
    let mut candidates: Vec<(usize, u32, Def, u32, u32)> = Vec::new();
    for p in 0..l.parts.len() - 1 {
        let m = l.module(p);
        for (i, body) in m.bodies.iter().enumerate() {
            let index = (m.imports.len() + i) as u32;
            let params = m.func_type(index).params().len() as u32;
            if let Some((table, slot, ty)) = shim_call(body, params)? {
                candidates.push((p, index, l.table(p, table), slot, ty));
            }
        }
    }
    if candidates.is_empty() {
        return Ok(());
    }
    let wanted: HashSet<Def> = candidates.iter().map(|c| c.2).collect();
    let changed = changed_tables(l, &kept.scans, &wanted)?;
    for (p, index, table, slot, ty) in candidates {
        if changed.contains(&table) {
            continue;
        }
        // The last segment that writes the slot wins, as at instantiation.
        let mut held = None;
        for &(q, i) in segments.get(&table).into_iter().flatten() {
            let e = &l.module(q).elements[i];
            let ElementKind::Active { offset_expr, .. } = &e.kind else {
                continue;
            };
            let Some(offset) = const_i32(offset_expr) else {
                held = None;
                break;
            };
            let items = segment_items(e);
            if let Some(item) = slot
                .checked_sub(offset as u32)
                .and_then(|k| items.get(k as usize))
            {
                held = item.map(|f| (q, f));
            }
        }
        let Some((q, f)) = held else { continue };
        let target = l.func(q, f);
        let want = &l.module(p).types[ty as usize];
        if l.target_type(&target).as_ref() == Some(want) {
            kept.forward.insert((p, index), target);
        }
    }
    // A trampoline may lead to another.
    let keys: Vec<(usize, u32)> = kept.forward.keys().copied().collect();
    for k in keys {
        let mut t = kept.forward[&k].clone();
        for _ in 0..8 {
            match &t {
                Target::Def { part, index } if kept.forward.contains_key(&(*part, *index)) => {
                    t = kept.forward[&(*part, *index)].clone()
                }
                _ => break,
            }
        }
        kept.forward.insert(k, t);
    }
    Ok(())
}

/// `local.get 0..n; i32.const K; call_indirect T X; end`: (X, K, T).
fn shim_call(body: &wasmparser::FunctionBody, params: u32) -> Result<Option<(u32, u32, u32)>> {
    if body.get_locals_reader()?.get_count() != 0 {
        return Ok(None);
    }
    let mut ops = body.get_operators_reader()?;
    for i in 0..params {
        match ops.read()? {
            Operator::LocalGet { local_index } if local_index == i => {}
            _ => return Ok(None),
        }
    }
    let Operator::I32Const { value: slot } = ops.read()? else {
        return Ok(None);
    };
    let Operator::CallIndirect {
        type_index,
        table_index,
    } = ops.read()?
    else {
        return Ok(None);
    };
    if !matches!(ops.read()?, Operator::End) || !ops.eof() {
        return Ok(None);
    }
    Ok(Some((table_index, slot as u32, type_index)))
}

/// Which of `wanted` some code writes to (so its slots are not constants).
fn changed_tables(
    l: &Linked,
    scans: &[Vec<FuncScan>],
    wanted: &HashSet<Def>,
) -> Result<HashSet<Def>> {
    let mut changed = HashSet::new();
    for p in 0..l.parts.len() - 1 {
        let m = l.module(p);
        // Only a module that can name the table can change it.
        let names: Vec<u32> = (0..(m.table_imports.len() + m.tables.len()) as u32)
            .filter(|&t| wanted.contains(&l.table(p, t)))
            .collect();
        if names.is_empty() {
            continue;
        }
        for scan in &scans[l.parts[p]] {
            for u in &scan.tables {
                if let TableUse::Write(t) = *u {
                    if names.contains(&t) {
                        changed.insert(l.table(p, t));
                    }
                }
            }
        }
    }
    Ok(changed)
}
