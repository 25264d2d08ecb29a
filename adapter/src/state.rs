//! The adapter's state: one struct at the start of the page the linker's
//! start function grows for the adapter's stack (never the program's data),
//! initialised on first use, reached through a wasm global that the linker
//! provides (`__linker__.state_get/state_set` become `global.get/global.set`
//! in the merged module).

use crate::table::Table;
use alloc::vec::Vec;
use core::arch::wasm32::memory_grow;
use dlmalloc::Dlmalloc;

#[link(wasm_import_module = "__linker__")]
extern "C" {
    fn state_get() -> *mut u8;
    fn state_set(state: *mut u8);
}

#[repr(C)]
pub struct State {
    /// The adapter's private heap (growable tables, poll lists, scratch).
    pub heap: Dlmalloc<Pages>,
    pub table: Table,
    /// Fds a poll found readable and nobody has read since: a non-blocking
    /// read goes ahead on them without asking `poll_oneoff` again (which on
    /// some hosts answers a zero timeout before it looks at the fds).
    pub readable: Vec<u32>,
    /// Fds opened by `open-at` and how many live handles use each (see
    /// `fds`).
    pub fd_users: Vec<(u32, u32)>,
    /// `insecure-seed`, drawn on first use: constant for the instance.
    pub seed: Option<[u64; 2]>,
    /// Whether the host resolves `..` lexically (see `path::lexical`),
    /// once asked.
    pub lexical: Option<bool>,
    /// The last stat a `metadata-hash-at` made (see `filesystem::Stated`).
    pub stated: crate::filesystem::Stated,
    /// For the functions that ask (`trap::entered_after`): the number of
    /// the WASI function called before.
    pub previous: i32,
}

const PAGE: usize = 65536;

/// Room the state may take at the start of the stack's page (the stack
/// grows down from its end, and never needs this much).
const IN_STACK_PAGE: usize = 8 << 10;

#[inline]
fn get() -> *mut State {
    let s = unsafe { state_get() } as *mut State;
    // Bit 0: the place the linker's start function reserved, not yet
    // initialised (null: no place reserved).
    if (s as usize) & 1 != 0 || s.is_null() {
        init(s as usize & !1)
    } else {
        s
    }
}

#[cold]
fn init(reserved: usize) -> *mut State {
    const PAGES: usize = core::mem::size_of::<State>().div_ceil(PAGE);
    const _: () = assert!(core::mem::size_of::<State>() <= IN_STACK_PAGE);
    let at = match reserved {
        0 => match memory_grow(0, PAGES) {
            usize::MAX => crate::trap(crate::Text::OutOfMemory),
            page => page * PAGE,
        },
        at => at,
    };
    let s = at as *mut State;
    unsafe {
        s.write(State {
            heap: Dlmalloc::new_with_allocator(Pages),
            table: Table::new(),
            readable: Vec::new(),
            fd_users: Vec::new(),
            seed: None,
            lexical: None,
            stated: crate::filesystem::Stated::NONE,
            previous: 0,
        });
        state_set(s as *mut u8);
    }
    s
}

/// The handle table. Never call while another `&mut` to it is alive.
#[inline]
pub fn table() -> &'static mut Table {
    unsafe { &mut (*get()).table }
}

/// See [`State::readable`].
#[inline]
pub fn readable() -> &'static mut Vec<u32> {
    unsafe { &mut (*get()).readable }
}

/// See [`State::fd_users`].
#[inline]
pub fn fd_users() -> &'static mut Vec<(u32, u32)> {
    unsafe { &mut (*get()).fd_users }
}

/// See [`State::seed`].
#[inline]
pub fn seed() -> &'static mut Option<[u64; 2]> {
    unsafe { &mut (*get()).seed }
}

/// See [`State::stated`].
#[inline]
pub fn stated() -> &'static mut crate::filesystem::Stated {
    unsafe { &mut (*get()).stated }
}

/// See [`State::previous`].
#[inline]
pub fn previous() -> &'static mut i32 {
    unsafe { &mut (*get()).previous }
}

/// See [`State::lexical`].
#[inline]
pub fn lexical() -> &'static mut Option<bool> {
    unsafe { &mut (*get()).lexical }
}

/// The adapter's heap; disjoint from the table, so safe to use while the
/// table is borrowed (the table's `Vec` allocates through it).
#[inline]
pub fn heap() -> &'static mut Dlmalloc<Pages> {
    unsafe { &mut (*get()).heap }
}

/// The adapter heap's source of memory: fresh pages from `memory.grow`, and
/// nothing else (dlmalloc's own wasm source would also hand out the region
/// between `__heap_base` and `__heap_end`, which belongs to the program).
pub struct Pages;

unsafe impl dlmalloc::Allocator for Pages {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        let pages = size.div_ceil(PAGE);
        match memory_grow(0, pages) {
            usize::MAX => (core::ptr::null_mut(), 0, 0),
            page => ((page * PAGE) as *mut u8, pages * PAGE, 0),
        }
    }
    fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 {
        core::ptr::null_mut()
    }
    fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool {
        false
    }
    fn free(&self, _: *mut u8, _: usize) -> bool {
        false
    }
    fn can_release_part(&self, _: u32) -> bool {
        false
    }
    fn allocates_zeros(&self) -> bool {
        true
    }
    fn page_size(&self) -> usize {
        PAGE
    }
}

struct Heap;

unsafe impl core::alloc::GlobalAlloc for Heap {
    // The C-shaped calls: the Rust-shaped ones assert on sizes, and an
    // assertion's message would be a data segment.
    //
    // A heap with no room left (`memory.grow` refused: the memory is at its
    // maximum) traps here, saying so: `alloc`'s own answer to a null pointer
    // would be a panic, which traps as an internal error. (`realloc` and
    // `alloc_zeroed` come here too.)
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        let p = heap().c_memalign(layout.align(), layout.size());
        if p.is_null() {
            crate::trap(crate::Text::OutOfMemory)
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, _: core::alloc::Layout) {
        heap().c_free(ptr)
    }
}

#[global_allocator]
static HEAP: Heap = Heap;
