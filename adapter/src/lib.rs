//! The reverse adapter: every WASI 0.2 function a `wasi:cli/command` program
//! can import, implemented on `wasi_snapshot_preview1`.
//!
//! This module is merged into the program by `wasi-downlevel`, so it follows
//! strict rules (checked by the tool's `verify` step when it is built): it
//! imports the program's memory and shares its address space, so it has no
//! data or element segments and no static addresses. Its state lives in memory
//! it grows at run time, found through a wasm global that the linker provides
//! (`state::get`); its shadow stack is allocated by the linker's `_start`.
//! Every misuse traps.
//!
//! The export shims are generated from `wit/` (see `build.rs`); they forward
//! to the functions of the per-package modules below, which take the flat
//! canonical-ABI parameters as they come.

#![no_std]
#![allow(clippy::missing_safety_doc, clippy::module_inception)]

extern crate alloc;

mod cli;
mod clocks;
mod errno;
mod filesystem;
mod io;
mod p1;
mod random;
mod sockets;
mod state;
mod table;
mod trap;

include!(concat!(env!("OUT_DIR"), "/exports.rs"));

pub use trap::{trap, trap_at, Text};

/// Traps: the program called a WASI function the adapter does not implement.
#[cold]
#[inline(never)]
pub fn unsupported() -> ! {
    trap(Text::Unimplemented)
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    trap(Text::Internal)
}

/// Unwrapping that traps instead of panicking (no panic machinery, no
/// message strings in memory).
pub trait OrTrap<T> {
    fn or_trap(self) -> T;
}

impl<T> OrTrap<T> for Option<T> {
    #[inline]
    fn or_trap(self) -> T {
        match self {
            Some(v) => v,
            None => trap(Text::Internal),
        }
    }
}

impl<T, E> OrTrap<T> for Result<T, E> {
    #[inline]
    fn or_trap(self) -> T {
        match self {
            Ok(v) => v,
            Err(_) => trap(Text::Internal),
        }
    }
}

#[link(wasm_import_module = "__main_module__")]
extern "C" {
    /// The program's own allocator: every list or string handed to the
    /// program is allocated here, so the program owns it (and a libc that
    /// lends its caller's buffer here gets reads with no copy).
    #[link_name = "cabi_realloc"]
    fn program_realloc(old: *mut u8, old_size: usize, align: usize, new_size: usize) -> *mut u8;
}

/// Allocates `size` bytes aligned to `align` with the program's allocator.
pub fn program_alloc(align: usize, size: usize) -> *mut u8 {
    let p = unsafe { program_realloc(core::ptr::null_mut(), 0, align, size) };
    if p.is_null() && size != 0 {
        trap(Text::OutOfMemory)
    }
    p
}

#[link(wasm_import_module = "__linker__")]
extern "C" {
    /// Whether the allocator of the current call is a general `cabi_realloc`
    /// that can shrink an allocation. The canonical ABI itself only ever
    /// asks for new ones, and some allocators hand out nothing else (the
    /// forward adapter's `cabi_import_realloc` lends one buffer); a list
    /// shorter than its allocation is then left as it is.
    fn can_shrink() -> i32;
}

/// Shrinks an allocation made by `program_alloc` to `new_size` (> 0) if the
/// allocator can; never grows it (a buffer lent by libc-shim must not move).
pub unsafe fn program_shrink(
    ptr: *mut u8,
    old_size: usize,
    align: usize,
    new_size: usize,
) -> *mut u8 {
    if new_size >= old_size || unsafe { can_shrink() } == 0 {
        return ptr;
    }
    let p = unsafe { program_realloc(ptr, old_size, align, new_size) };
    if p.is_null() {
        trap(Text::OutOfMemory)
    }
    p
}

/// Writes `v` at byte offset `off` of the program's return area `ret`.
#[inline]
pub unsafe fn put<T>(ret: i32, off: usize, v: T) {
    ((ret as usize + off) as *mut T).write(v)
}

/// Writes `result<_, E>` for an enum `E` (one byte, at offset 1).
pub unsafe fn put_unit_result(ret: i32, r: Result<(), u8>) {
    match r {
        Ok(()) => put(ret, 0, 0u8),
        Err(e) => {
            put(ret, 0, 1u8);
            put(ret, 1, e)
        }
    }
}

/// Writes `result<T, E>` for an enum `E` whose payload sits at `off`; `ok`
/// writes a `T` at the address it is given.
pub unsafe fn put_result<T>(ret: i32, off: usize, r: Result<T, u8>, ok: impl FnOnce(i32, T)) {
    match r {
        Ok(v) => {
            put(ret, 0, 0u8);
            ok(ret + off as i32, v)
        }
        Err(e) => {
            put(ret, 0, 1u8);
            put(ret, off, e)
        }
    }
}
