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

mod abi;
mod cli;
mod clocks;
mod errno;
mod fds;
mod filesystem;
mod io;
mod p1;
mod p3;
mod path;
mod random;
mod sockets;
mod state;
mod table;
mod task;
mod trap;

include!(concat!(env!("OUT_DIR"), "/exports.rs"));

pub use abi::{program_alloc, program_shrink, put, put_result, put_unit_result};
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
