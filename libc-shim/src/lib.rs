//! libc-shim: zero-copy `read` for `wasm32-wasip2` programs.
//!
//! wasi-libc's `read` asks `input-stream.blocking-read` for a list, which
//! the canonical ABI allocates with the program's `cabi_realloc`; libc then
//! copies the list into the caller's buffer and frees it. Linked into a
//! program, this object replaces `read` and `cabi_realloc`: `read` lends the
//! caller's buffer, `cabi_realloc` hands it out to the first allocation of
//! that read that fits (size and alignment), and `read` skips the copy and
//! the free when the list is the lent buffer. Any other allocation goes to
//! the normal allocator (libc's), so nothing breaks when a host allocates
//! differently; `libc_shim_fallbacks` counts the reads that had to copy.
//!
//! Everything else follows wasi-libc's own `read` (the same libc helpers for
//! the stream lookup, the error mapping and the file offset).
//!
//! Use from Rust: depend on this crate, call `libc_shim::link()` in `main`,
//! and build it as one codegen unit (`[profile.release.package.libc-shim]
//! codegen-units = 1`). From C: put `libc_shim.o` (`make shim`) on the link
//! line before the libraries.

#![no_std]

use core::ptr::null_mut;

#[repr(C)]
struct List {
    ptr: *mut u8,
    len: usize,
}

/// `streams_stream_error_t`: the case (0 last-operation-failed, 1 closed)
/// and the error handle.
#[repr(C)]
struct StreamError {
    tag: u8,
    error: i32,
}

extern "C" {
    /// wasi-libc: the input stream and file offset behind `fd`.
    fn __wasilibc_read_stream(
        fd: i32,
        stream: *mut i32,
        off: *mut *mut i64,
        pollable: *mut i32,
    ) -> i32;
    /// wasi-libc's binding of `input-stream.blocking-read`.
    fn streams_method_input_stream_blocking_read(
        stream: i32,
        len: u64,
        ret: *mut List,
        err: *mut StreamError,
    ) -> bool;
    /// wasi-libc's binding of `wasi:filesystem/types.filesystem-error-code`.
    fn filesystem_filesystem_error_code(err: i32, code: *mut u8) -> bool;
    fn io_error_error_drop_own(err: i32);
    fn __errno_location() -> *mut i32;
    fn wasip2_list_u8_free(list: *mut List);
    fn malloc(size: usize) -> *mut u8;
    fn aligned_alloc(align: usize, size: usize) -> *mut u8;
    fn realloc(ptr: *mut u8, size: usize) -> *mut u8;
    fn memcpy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8;
}

/// The buffer the current `read` lends (null: none). wasm32-wasip2 programs
/// are single-threaded.
static mut LENT: *mut u8 = null_mut();
static mut LENT_LEN: usize = 0;
/// The lent buffer once handed out, until the read returns: a host may
/// still shrink it (then it stays where it is).
static mut GIVEN: *mut u8 = null_mut();
static mut FALLBACKS: u64 = 0;

/// Reads that could not use the lent buffer and copied (for tests).
#[no_mangle]
pub extern "C" fn libc_shim_fallbacks() -> u64 {
    unsafe { FALLBACKS }
}

/// Call once (e.g. first thing in `main`) when using this crate as a Rust
/// dependency: the reference makes the linker take this crate's object,
/// with its `read` and `cabi_realloc`, before libc's.
#[inline(never)]
pub fn link() -> u64 {
    libc_shim_fallbacks()
}

/// The canonical ABI's allocator, exported under its ABI name.
///
/// # Safety
/// As `realloc`: `old` is null or a live allocation of this allocator (or
/// the buffer the current `read` lent).
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
        // `read` sees a list that is not the buffer and copies, as libc).
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

/// POSIX `read`, as wasi-libc's, without the copy when the buffer is lent.
///
/// # Safety
/// `buf` must be valid for writes of `nbyte` bytes.
#[no_mangle]
pub unsafe extern "C" fn read(fd: i32, buf: *mut u8, nbyte: usize) -> isize {
    let mut stream = 0;
    let mut off: *mut i64 = null_mut();
    if __wasilibc_read_stream(fd, &mut stream, &mut off, null_mut()) < 0 {
        return -1;
    }
    let mut list = List {
        ptr: null_mut(),
        len: 0,
    };
    let mut err = StreamError { tag: 0, error: 0 };
    LENT = buf;
    LENT_LEN = nbyte;
    let ok = streams_method_input_stream_blocking_read(stream, nbyte as u64, &mut list, &mut err);
    LENT = null_mut();
    GIVEN = null_mut();
    LENT_LEN = 0;
    if !ok {
        return read_error(err);
    }
    if list.ptr != buf {
        // The host allocated elsewhere (or shrank the list away): libc's way.
        FALLBACKS += 1;
        memcpy(buf, list.ptr, list.len);
        wasip2_list_u8_free(&mut list);
    }
    if !off.is_null() {
        *off += list.len as i64;
    }
    list.len as isize
}

/// errno for each `wasi:filesystem` error-code (in WIT order), as wasi-libc
/// translates them.
const ERRNO: [u8; 37] = [
    2, 6, 7, 8, 10, 16, 19, 20, 22, 25, 26, 27, 28, 29, 31, 32, 34, 35, 37, 43, 44, 46, 48, 51, 54,
    55, 56, 58, 59, 60, 61, 63, 64, 69, 70, 74, 75,
];

/// As wasi-libc's `read` handles a stream error: `closed` is EOF (0);
/// otherwise errno from the error's filesystem error-code (EIO without
/// one), the error dropped, and -1.
unsafe fn read_error(err: StreamError) -> isize {
    if err.tag != 0 {
        return 0;
    }
    let mut code = 0u8;
    let errno = if filesystem_filesystem_error_code(err.error, &mut code) {
        ERRNO.get(code as usize).copied().unwrap_or(29)
    } else {
        29
    };
    *__errno_location() = errno as i32;
    io_error_error_drop_own(err.error);
    -1
}
