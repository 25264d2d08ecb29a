//! The functions lowered instructions call: `memory.copy` and
//! `memory.fill` as word-at-a-time loops, and the saturating conversions.

use super::Helper;
use wasm_encoder::{BlockType as EBlock, Function, Instruction, MemArg, ValType as EVal};

impl Helper {
    pub(super) fn signature(self) -> (Vec<EVal>, Vec<EVal>) {
        match self {
            Helper::Copy | Helper::Fill => (vec![EVal::I32; 3], vec![]),
            Helper::TruncSat(f64, i64, _) => (
                vec![if f64 { EVal::F64 } else { EVal::F32 }],
                vec![if i64 { EVal::I64 } else { EVal::I32 }],
            ),
        }
    }

    pub(super) fn body(self) -> Function {
        match self {
            Helper::Copy => copy_function(),
            Helper::Fill => fill_function(),
            Helper::TruncSat(f64, i64, signed) => trunc_sat_function(f64, i64, signed),
        }
    }
}

/// A saturating truncation (`iN.trunc_sat_fM_{s,u}`) from the trapping one:
/// NaN is 0, values beyond the range are its ends.
fn trunc_sat_function(f64: bool, i64: bool, signed: bool) -> Function {
    use Instruction as I;
    let bits = if i64 { 64 } else { 32 };
    // Powers of two: exact in both float types.
    let fconst = |v: f64| {
        if f64 {
            I::F64Const(v.into())
        } else {
            I::F32Const((v as f32).into())
        }
    };
    let (ge, le, gt, ne) = if f64 {
        (I::F64Ge, I::F64Le, I::F64Gt, I::F64Ne)
    } else {
        (I::F32Ge, I::F32Le, I::F32Gt, I::F32Ne)
    };
    let iconst = |v: i64| {
        if i64 {
            I::I64Const(v)
        } else {
            I::I32Const(v as i32)
        }
    };
    let result = EBlock::Result(if i64 { EVal::I64 } else { EVal::I32 });
    let trunc = match (f64, i64, signed) {
        (false, false, true) => I::I32TruncF32S,
        (false, false, false) => I::I32TruncF32U,
        (true, false, true) => I::I32TruncF64S,
        (true, false, false) => I::I32TruncF64U,
        (false, true, true) => I::I64TruncF32S,
        (false, true, false) => I::I64TruncF32U,
        (true, true, true) => I::I64TruncF64S,
        (true, true, false) => I::I64TruncF64U,
    };
    let mut f = Function::new([]);
    let half = 2f64.powi(bits - 1);
    let body: Vec<Instruction> = if signed {
        let (max, min) = if i64 {
            (i64::MAX, i64::MIN)
        } else {
            (i32::MAX as i64, i32::MIN as i64)
        };
        vec![
            I::LocalGet(0),
            I::LocalGet(0),
            ne,
            I::If(result),
            iconst(0),
            I::Else,
            I::LocalGet(0),
            fconst(half),
            ge,
            I::If(result),
            iconst(max),
            I::Else,
            I::LocalGet(0),
            fconst(-half),
            le,
            I::If(result),
            iconst(min),
            I::Else,
            I::LocalGet(0),
            trunc,
            I::End,
            I::End,
            I::End,
            I::End,
        ]
    } else {
        vec![
            // False for NaN too.
            I::LocalGet(0),
            fconst(-1.0),
            gt,
            I::If(result),
            I::LocalGet(0),
            fconst(half * 2.0),
            ge,
            I::If(result),
            iconst(-1),
            I::Else,
            I::LocalGet(0),
            trunc,
            I::End,
            I::Else,
            iconst(0),
            I::End,
            I::End,
        ]
    };
    for i in &body {
        f.instruction(i);
    }
    f
}

/// A memory-0 access at `offset`, aligned to `2^align`.
pub fn mem(offset: u64, align: u32) -> MemArg {
    MemArg {
        offset,
        align,
        target: wasm_encoder::MemArgTarget::Memory(0),
        ordering: None,
    }
}

/// Traps unless `[local a, local a + local n)` is inside the memory.
fn bounds_check(f: &mut Function, a: u32, n: u32) {
    f.instructions()
        .local_get(a)
        .i64_extend_i32_u()
        .local_get(n)
        .i64_extend_i32_u()
        .i64_add()
        .memory_size(0)
        .i64_extend_i32_u()
        .i64_const(16)
        .i64_shl()
        .i64_gt_u()
        .if_(EBlock::Empty)
        .unreachable()
        .end();
}

/// Adds `by` to each of `locals`.
fn advance(f: &mut Function, locals: &[u32], by: i32) {
    for &l in locals {
        f.instructions()
            .local_get(l)
            .i32_const(by)
            .i32_add()
            .local_set(l);
    }
}

/// Bytes per turn of the copy and fill main loops: enough that the loop's
/// own work is small beside the loads and stores on an interpreter.
const TURN: i32 = 128;

fn emit(f: &mut Function, code: &[Instruction]) {
    for i in code {
        f.instruction(i);
    }
}

/// While `n` is not zero (and, if `until_aligned`, the destination is not
/// aligned to 8): one byte forwards, from `src` or the value in local 1.
fn bytes_forwards(f: &mut Function, d: u32, n: u32, src: Option<u32>, until_aligned: bool) {
    use Instruction as I;
    emit(f, &[I::Block(EBlock::Empty), I::Loop(EBlock::Empty)]);
    emit(f, &[I::LocalGet(n), I::I32Eqz, I::BrIf(1)]);
    if until_aligned {
        emit(
            f,
            &[
                I::LocalGet(d),
                I::I32Const(7),
                I::I32And,
                I::I32Eqz,
                I::BrIf(1),
            ],
        );
    }
    f.instruction(&I::LocalGet(d));
    match src {
        Some(s) => emit(f, &[I::LocalGet(s), I::I32Load8U(mem(0, 0))]),
        None => emit(f, &[I::LocalGet(1)]),
    };
    f.instruction(&I::I32Store8(mem(0, 0)));
    advance(f, &[d], 1);
    if let Some(s) = src {
        advance(f, &[s], 1);
    }
    advance(f, &[n], -1);
    emit(f, &[I::Br(0), I::End, I::End]);
}

/// The main loop: `TURN` bytes a turn, eight at a time, from `src` or the
/// word in local `word`, until fewer than `TURN` are left (`n` keeps the
/// rest). The destination is aligned.
fn turns_forwards(f: &mut Function, d: u32, n: u32, end: u32, src: Option<u32>, word: u32) {
    use Instruction as I;
    emit(
        f,
        &[
            I::LocalGet(d),
            I::LocalGet(n),
            I::I32Const(-TURN),
            I::I32And,
            I::I32Add,
            I::LocalSet(end),
            I::LocalGet(n),
            I::I32Const(TURN - 1),
            I::I32And,
            I::LocalSet(n),
            I::Block(EBlock::Empty),
            I::Loop(EBlock::Empty),
            I::LocalGet(d),
            I::LocalGet(end),
            I::I32Eq,
            I::BrIf(1),
        ],
    );
    for k in 0..(TURN / 8) as u64 {
        f.instruction(&I::LocalGet(d));
        match src {
            Some(s) => emit(f, &[I::LocalGet(s), I::I64Load(mem(8 * k, 0))]),
            None => emit(f, &[I::LocalGet(word)]),
        };
        f.instruction(&I::I64Store(mem(8 * k, 3)));
    }
    advance(f, &[d], TURN);
    if let Some(s) = src {
        advance(f, &[s], TURN);
    }
    emit(f, &[I::Br(0), I::End, I::End]);
}

/// While at least 8 bytes are left: one word forwards.
fn words_forwards(f: &mut Function, d: u32, n: u32, src: Option<u32>, word: u32) {
    use Instruction as I;
    emit(
        f,
        &[
            I::Block(EBlock::Empty),
            I::Loop(EBlock::Empty),
            I::LocalGet(n),
            I::I32Const(8),
            I::I32LtU,
            I::BrIf(1),
            I::LocalGet(d),
        ],
    );
    match src {
        Some(s) => emit(f, &[I::LocalGet(s), I::I64Load(mem(0, 0))]),
        None => emit(f, &[I::LocalGet(word)]),
    };
    f.instruction(&I::I64Store(mem(0, 3)));
    advance(f, &[d], 8);
    if let Some(s) = src {
        advance(f, &[s], 8);
    }
    advance(f, &[n], -8);
    emit(f, &[I::Br(0), I::End, I::End]);
}

/// `memory.copy` (dst, src, n), overlapping ranges allowed: bounds checked
/// first, as the instruction is; then forwards, with the destination
/// aligned, `TURN` bytes a turn, or backwards (the destination inside the
/// source, rare) a word at a time from the end.
pub fn copy_function() -> Function {
    use Instruction as I;
    let (d, s, n, end) = (0, 1, 2, 3);
    let mut f = Function::new([(1, EVal::I32)]);
    bounds_check(&mut f, d, n);
    bounds_check(&mut f, s, n);
    emit(
        &mut f,
        &[
            I::Block(EBlock::Empty),
            I::LocalGet(n),
            I::I32Eqz,
            I::BrIf(0),
            I::LocalGet(d),
            I::LocalGet(s),
            I::I32Sub,
            I::LocalGet(n),
            I::I32LtU,
            I::LocalGet(d),
            I::LocalGet(s),
            I::I32Ne,
            I::I32And,
            I::If(EBlock::Empty),
        ],
    );
    // Backwards: words, then bytes, from the end.
    for (size, load, store) in [
        (8, I::I64Load(mem(0, 0)), I::I64Store(mem(0, 0))),
        (1, I::I32Load8U(mem(0, 0)), I::I32Store8(mem(0, 0))),
    ] {
        emit(
            &mut f,
            &[
                I::Block(EBlock::Empty),
                I::Loop(EBlock::Empty),
                I::LocalGet(n),
                I::I32Const(size),
                I::I32LtU,
                I::BrIf(1),
            ],
        );
        advance(&mut f, &[n], -size);
        emit(
            &mut f,
            &[
                I::LocalGet(d),
                I::LocalGet(n),
                I::I32Add,
                I::LocalGet(s),
                I::LocalGet(n),
                I::I32Add,
                load,
                store,
                I::Br(0),
                I::End,
                I::End,
            ],
        );
    }
    f.instruction(&I::Else);
    bytes_forwards(&mut f, d, n, Some(s), true);
    turns_forwards(&mut f, d, n, end, Some(s), 0);
    words_forwards(&mut f, d, n, Some(s), 0);
    bytes_forwards(&mut f, d, n, Some(s), false);
    emit(&mut f, &[I::End, I::End, I::End]);
    f
}

/// `memory.fill` (dst, value, n): bounds checked first; bytes until the
/// destination is aligned, `TURN` bytes a turn, words, bytes.
pub fn fill_function() -> Function {
    use Instruction as I;
    let (d, v, n, word, end) = (0, 1, 2, 3, 4);
    let mut f = Function::new([(1, EVal::I64), (1, EVal::I32)]);
    bounds_check(&mut f, d, n);
    emit(
        &mut f,
        &[
            I::LocalGet(v),
            I::I32Const(255),
            I::I32And,
            I::LocalTee(v),
            I::I64ExtendI32U,
            I::I64Const(0x0101_0101_0101_0101),
            I::I64Mul,
            I::LocalSet(word),
        ],
    );
    bytes_forwards(&mut f, d, n, None, true);
    turns_forwards(&mut f, d, n, end, None, word);
    words_forwards(&mut f, d, n, None, word);
    bytes_forwards(&mut f, d, n, None, false);
    f.instruction(&I::End);
    f
}
