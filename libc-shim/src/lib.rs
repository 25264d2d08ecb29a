//! libc-shim: zero-copy reads for `wasm32-wasip2` programs.
//!
//! wasi-libc reads through WASI 0.2 by asking for a list, which the
//! canonical ABI allocates with the program's `cabi_realloc`; libc then
//! copies the list into the caller's buffer and frees it. Linked into a
//! program, this crate replaces `cabi_realloc` and libc's readers (`read`,
//! and so `readv`; `recv`/`recvfrom`; `pread`, and so `preadv`): each lends
//! the caller's buffer for the duration of its one WASI call, `cabi_realloc`
//! hands the buffer out to the first allocation of that call that fits (size
//! and alignment), and the reader skips the copy and the free when the list
//! is the lent buffer. Any other allocation goes to the normal allocator
//! (libc's), so nothing breaks when a host allocates differently;
//! `libc_shim_fallbacks` counts the reads that had to copy
//! (`libc_shim_landed` those that did not).
//!
//! The readers follow wasi-libc's own (`posix.rs`), and [`streams`] does the
//! same for programs that call `wasi:io/streams` through the `wasip2` crate.
//!
//! Linking (see the README): Rust with `-l static=libc_shim` (`make shim`
//! writes the archive), or as a dependency calling `libc_shim::link()` in
//! `main`, built as one codegen unit; C with `libc_shim.o` and
//! `-Wl,--export=cabi_realloc`.

#![no_std]

mod posix;
#[cfg(feature = "wasip2")]
pub mod streams;

use core::ptr::null_mut;

extern "C" {
    pub(crate) fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
    fn malloc(size: usize) -> *mut u8;
    fn aligned_alloc(align: usize, size: usize) -> *mut u8;
    fn realloc(ptr: *mut u8, size: usize) -> *mut u8;
}

/// The buffer the current read lends (null: none). wasm32-wasip2 programs
/// are single-threaded.
static mut LENT: *mut u8 = null_mut();
static mut LENT_LEN: usize = 0;
/// The lent buffer once handed out, until the read returns: a host may
/// still shrink it (then it stays where it is).
static mut GIVEN: *mut u8 = null_mut();
static mut FALLBACKS: u64 = 0;
static mut LANDED: u64 = 0;

/// Reads that could not use the lent buffer and copied (for tests).
#[no_mangle]
pub extern "C" fn libc_shim_fallbacks() -> u64 {
    unsafe { FALLBACKS }
}

/// Reads whose bytes the host wrote straight into the lent buffer.
#[no_mangle]
pub extern "C" fn libc_shim_landed() -> u64 {
    unsafe { LANDED }
}

/// Reads so far that landed in the caller's buffer, and that fell back to
/// a copy.
pub fn counts() -> (u64, u64) {
    (libc_shim_landed(), libc_shim_fallbacks())
}

/// Call once (e.g. first thing in `main`) when using this crate as a Rust
/// dependency: the reference makes the linker take this crate's object,
/// with its readers and `cabi_realloc`, before libc's. Returns the count of
/// `libc_shim_fallbacks`.
#[inline(never)]
pub fn link() -> u64 {
    libc_shim_fallbacks()
}

/// Runs `call` (one WASI call that returns a list) with `buf` lent to
/// `cabi_realloc`.
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes while `call` runs.
unsafe fn lending<T>(buf: *mut u8, len: usize, call: impl FnOnce() -> T) -> T {
    LENT = buf;
    LENT_LEN = len;
    let out = call();
    LENT = null_mut();
    GIVEN = null_mut();
    LENT_LEN = 0;
    out
}

/// Whether a list returned by a lending call is not the lent `buf`, i.e.
/// the host allocated elsewhere (or grew the list away) and the caller must
/// copy and free it as libc does; counted as a fallback.
fn fell_back(list: *const u8, len: usize, buf: *mut u8) -> bool {
    if len == 0 {
        return false;
    }
    if core::ptr::eq(list, buf) {
        unsafe { LANDED += 1 };
        return false;
    }
    unsafe { FALLBACKS += 1 };
    true
}

/// The canonical ABI's allocator, exported under its ABI name.
///
/// # Safety
/// As `realloc`: `old` is null or a live allocation of this allocator (or
/// the buffer the current read lent).
#[export_name = "cabi_realloc"]
pub unsafe extern "C" fn cabi_realloc(
    old: *mut u8,
    old_size: usize,
    align: usize,
    new_size: usize,
) -> *mut u8 {
    let _ = old_size;
    if old.is_null() {
        let lent = LENT;
        if !lent.is_null() && new_size <= LENT_LEN && (lent as usize).is_multiple_of(align) {
            // Only the first request of the read gets it.
            LENT = null_mut();
            GIVEN = lent;
            return lent;
        }
        if new_size == 0 {
            return align as *mut u8;
        }
        return if align <= 8 {
            malloc(new_size)
        } else {
            aligned_alloc(align, new_size)
        };
    }
    if old == GIVEN {
        // The lent buffer is the caller's, not the allocator's: shrinking
        // keeps it in place; growing moves the list to the allocator (then
        // the reader sees a list that is not the buffer and copies, as libc).
        if new_size <= LENT_LEN {
            return old;
        }
        GIVEN = null_mut();
        let p = malloc(new_size);
        if !p.is_null() {
            memcpy(p, old, LENT_LEN);
        }
        return p;
    }
    realloc(old, new_size)
}
