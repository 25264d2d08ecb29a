//! The canonical ABI as the adapter writes it: results into the program's
//! return areas, and lists and strings in memory from the program's own
//! allocator (so the program owns them, and a libc that lends its caller's
//! buffer there gets reads with no copy). Depends on nothing but traps.

use crate::{trap, Text};

#[link(wasm_import_module = "__main_module__")]
extern "C" {
    /// The allocator named where the program imports the WASI function being
    /// called (the linker binds it).
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

/// Reads a `T` at byte offset `off` of the program's memory at `at` (the
/// parameters the async ABI passes in memory).
#[inline]
pub unsafe fn get<T: Copy>(at: i32, off: usize) -> T {
    ((at as usize + off) as *const T).read()
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

/// Copies `s` into a fresh program allocation and stores `(ptr, len)` at `at`.
pub fn put_string(at: i32, s: &[u8]) {
    let p = program_alloc(1, s.len());
    unsafe {
        core::ptr::copy_nonoverlapping(s.as_ptr(), p, s.len());
        put(at, 0, p as i32);
        put(at, 4, s.len() as i32);
    }
}

/// Writes `ok(list<u8>)` for the `len` bytes at `ptr`.
pub unsafe fn put_list(ret: i32, ptr: *mut u8, len: usize) {
    put(ret, 0, 0u8);
    put(ret, 4, ptr as i32);
    put(ret, 8, len as i32);
}
