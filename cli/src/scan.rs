//! What each function body refers to, read once: the functions it calls or
//! takes a reference to (and where in the body their indices are), the
//! tables and segments it uses, and whether it uses bulk memory or SIMD.
//! `shrink` walks these instead of the code, and `write` copies a body with
//! only its function indices rewritten. The input's bodies are scanned while
//! they are validated (on every core, `validate`): the one pass over a big
//! program's code.

use crate::module::Module;
use anyhow::Result;
use wasmparser::FunctionBody;

/// A function index in a body: `call`, `return_call` or `ref.func`.
#[derive(Clone, Copy, Debug)]
pub struct FuncRef {
    pub index: u32,
    /// `ref.func` (the function is referenced, not only called).
    pub is_ref: bool,
    /// The index's LEB128 bytes, relative to the body's start.
    pub at: u32,
    pub end: u32,
}

/// A use of a table or element segment.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TableUse {
    /// Reads or calls through the table.
    Use(u32),
    /// Changes the table (`table.set`, `grow`, `fill`, `init`, `copy` to it).
    Write(u32),
    /// Keeps segment `elem` (`table.init` or `elem.drop` of it); for
    /// `table.init`, into `table`.
    Segment { elem: u32, table: Option<u32> },
}

#[derive(Debug, Default)]
pub struct FuncScan {
    pub funcs: Vec<FuncRef>,
    pub tables: Vec<TableUse>,
    /// `memory.copy` / `memory.fill`.
    pub copy: bool,
    pub fill: bool,
    /// Any bulk-memory instruction (those two, `memory.init`, `data.drop`).
    pub bulk: bool,
    /// The first SIMD instruction's offset in the input, if any.
    pub simd: Option<u64>,
}

/// The scans of every body of `m`, in order: those `known` holds (found
/// while validating the input, see `validate`), else read here (the
/// adapter: small).
pub fn module(m: &Module, known: &mut Known) -> Result<Vec<FuncScan>> {
    m.bodies
        .iter()
        .map(|b| known.remove(&key(b)).map_or_else(|| body(b), Ok))
        .collect()
}

/// Scans found while validating, by the address of the body's bytes (the
/// input's bytes, which every later stage borrows).
pub type Known = std::collections::HashMap<usize, FuncScan>;

pub fn key(b: &FunctionBody) -> usize {
    b.as_bytes().as_ptr() as usize
}

/// The scan of one body.
pub fn body(b: &FunctionBody) -> Result<FuncScan> {
    let base = b.range().start;
    let mut s = FuncScan::default();
    let mut ops = b.get_operators_reader()?;
    while !ops.eof() {
        let (_, at) = ops.read_with_offset()?;
        s.op(b.as_bytes(), (at - base) as usize, at)?;
    }
    Ok(s)
}

impl FuncScan {
    /// Notes the instruction at `code[at..]` (offset `offset` in the input)
    /// if it is one this scan is about: the first bytes say which it is,
    /// and the few immediates needed are read again here.
    pub fn op(
        &mut self,
        code: &[u8],
        at: usize,
        offset: u64,
    ) -> Result<(), wasmparser::BinaryReaderError> {
        let mut r = wasmparser::BinaryReader::new(code.get(at + 1..).unwrap_or_default(), 0);
        let end = |r: &wasmparser::BinaryReader| (at + 1 + r.original_position() as usize) as u32;
        match code.get(at) {
            Some(&op @ (0x10 | 0x12 | 0xd2)) => {
                let index = r.read_var_u32()?;
                self.funcs.push(FuncRef {
                    index,
                    is_ref: op == 0xd2,
                    at: at as u32 + 1,
                    end: end(&r),
                });
            }
            // call_indirect, return_call_indirect: type, then table.
            Some(0x11 | 0x13) => {
                r.read_var_u32()?;
                self.tables.push(TableUse::Use(r.read_var_u32()?));
            }
            Some(0x25) => self.tables.push(TableUse::Use(r.read_var_u32()?)),
            Some(0x26) => self.tables.push(TableUse::Write(r.read_var_u32()?)),
            Some(0xfc) => match r.read_var_u32()? {
                8 | 9 => self.bulk = true,
                10 => (self.copy, self.bulk) = (true, true),
                11 => (self.fill, self.bulk) = (true, true),
                12 => {
                    let elem = r.read_var_u32()?;
                    let table = r.read_var_u32()?;
                    self.tables.extend([
                        TableUse::Write(table),
                        TableUse::Segment {
                            elem,
                            table: Some(table),
                        },
                    ]);
                }
                13 => self.tables.push(TableUse::Segment {
                    elem: r.read_var_u32()?,
                    table: None,
                }),
                14 => {
                    let dst = r.read_var_u32()?;
                    let src = r.read_var_u32()?;
                    self.tables
                        .extend([TableUse::Use(src), TableUse::Write(dst)]);
                }
                15 | 17 => self.tables.push(TableUse::Write(r.read_var_u32()?)),
                16 => self.tables.push(TableUse::Use(r.read_var_u32()?)),
                _ => {}
            },
            // SIMD instructions are the ones under the 0xfd prefix.
            Some(0xfd) if self.simd.is_none() => self.simd = Some(offset),
            _ => {}
        }
        Ok(())
    }
}
