//! WASI 0.3, one module per package. Most functions have 0.2's canonical
//! ABI and behaviour and are 0.2's; what is new is stdio as streams (through
//! `crate::task::stream`) and waiting as async functions (subtasks of
//! `crate::task`).

pub mod cli;
pub mod clocks;
pub mod filesystem;
pub mod random;
pub mod sockets;

use crate::abi::get;
use crate::put;

/// Room for any 0.2 result (`descriptor-stat`'s is the largest).
#[repr(C, align(8))]
pub struct Area(pub [u8; 112]);

impl Area {
    pub fn new() -> Area {
        Area([0; 112])
    }
}

/// Runs 0.2's `call` into a scratch return area and writes its `result<T,
/// error-code>` at `ret` as 0.3 lays it out: the payload at `p3` (0.2 has
/// it at `p2`), `ok` moving an ok one. 0.3's error codes are variants with
/// an `other(option<string>)` case: the code (0.2's mapped by `code`) and
/// a `none` after it (`other` is never made).
pub unsafe fn convert(
    ret: i32,
    p2: usize,
    p3: usize,
    code: impl Fn(u8) -> u8,
    call: impl FnOnce(i32),
    ok: impl FnOnce(i32, i32),
) {
    let mut area = Area::new();
    let at = area.0.as_mut_ptr() as i32;
    call(at);
    let disc: u8 = get(at, 0);
    put(ret, 0, disc);
    if disc == 0 {
        ok(at + p2 as i32, ret + p3 as i32)
    } else {
        let to = ret + p3 as i32;
        put(to, 0, code(get(at, p2)));
        put(to, 4, 0u8);
    }
}

/// `result<_, error-code>`: 0.2's error at 1, 0.3's at 4.
pub unsafe fn unit(ret: i32, code: impl Fn(u8) -> u8, call: impl FnOnce(i32)) {
    convert(ret, 1, 4, code, call, |_, _| {})
}

/// `result<T, error-code>` where `T` (`size` bytes) is laid out alike.
pub unsafe fn same(
    ret: i32,
    p2: usize,
    p3: usize,
    size: usize,
    code: impl Fn(u8) -> u8,
    call: impl FnOnce(i32),
) {
    convert(ret, p2, p3, code, call, |from, to| {
        core::ptr::copy_nonoverlapping(from as *const u8, to as *mut u8, size)
    })
}
