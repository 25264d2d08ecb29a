//! The adapter's state: one struct at the start of the page the linker's
//! start function grows for the adapter's stack (never the program's data),
//! initialised by that start function, reached through a wasm global that the linker
//! provides (`__linker__.state_get` becomes a `global.get` in the merged module).

use crate::table::Table;
use alloc::vec::Vec;
use core::arch::wasm32::memory_grow;
use core::ptr::addr_of_mut;

#[link(wasm_import_module = "__linker__")]
extern "C" {
    fn state_get() -> *mut u8;
}

#[repr(C)]
pub struct State {
    /// The adapter's private heap (growable tables, poll lists, scratch).
    pub heap: Blocks,
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
    /// The async ABI's task (WASI 0.3 programs).
    pub task: crate::task::Task,
}

const PAGE: usize = 65536;

/// Room the state may take at the start of the stack's page (the stack
/// grows down from its end, and never needs this much).
const IN_STACK_PAGE: usize = 8 << 10;

#[inline(always)]
fn get() -> *mut State {
    unsafe { state_get() as *mut State }
}

/// Writes the initial state at the place the linker's start function
/// reserved for it (the start of the stack's page), before any other code
/// of the program runs: every access after is a plain `global.get`.
#[export_name = "wasi-downlevel:init-state"]
pub extern "C" fn init() {
    const _: () = assert!(core::mem::size_of::<State>() <= IN_STACK_PAGE);
    // Field by field: a constant written whole can become a copy from a
    // data segment.
    let s = get();
    unsafe {
        addr_of_mut!((*s).heap).write(Blocks::NEW);
        addr_of_mut!((*s).table).write(Table::new());
        addr_of_mut!((*s).readable).write(Vec::new());
        addr_of_mut!((*s).fd_users).write(Vec::new());
        addr_of_mut!((*s).seed).write(None);
        addr_of_mut!((*s).lexical).write(None);
        addr_of_mut!((*s).stated).write(crate::filesystem::Stated::NONE);
        addr_of_mut!((*s).previous).write(0);
    }
    crate::task::Task::init(unsafe { addr_of_mut!((*s).task) });
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

/// See [`State::task`].
#[inline]
pub fn task() -> &'static mut crate::task::Task {
    unsafe { &mut (*get()).task }
}

/// See [`State::lexical`].
#[inline]
pub fn lexical() -> &'static mut Option<bool> {
    unsafe { &mut (*get()).lexical }
}

/// The adapter's heap; disjoint from the table, so safe to use while the
/// table is borrowed (the table's `Vec` allocates through it).
#[inline]
fn heap() -> &'static mut Blocks {
    unsafe { &mut (*get()).heap }
}

/// The adapter's heap: blocks of a power of two bytes (16 up), carved from
/// pages it grows (never the program's memory) and, once freed, kept on a
/// list per size for the next of that size. The adapter allocates little,
/// and mostly the same sizes again (the handle table, poll lists, directory
/// buffers): a general allocator (dlmalloc) was 9 KB of every program's code.
pub struct Blocks {
    /// Per size class, the first free block (0: none); each free block
    /// holds the address of the next.
    free: [usize; 32],
    /// The rest of the pages grown last (`end` may be 4 GiB itself).
    next: u64,
    end: u64,
}

impl Blocks {
    /// All zeros (no data segment).
    const NEW: Blocks = Blocks {
        free: [0; 32],
        next: 0,
        end: 0,
    };

    /// The size class of `layout`: blocks of `1 << class` bytes.
    fn class(layout: core::alloc::Layout) -> usize {
        let size = layout.size().max(layout.align()).max(16);
        (usize::BITS - (size - 1).leading_zeros()) as usize
    }

    fn alloc(&mut self, layout: core::alloc::Layout) -> *mut u8 {
        let class = Self::class(layout);
        let Some(head) = self.free.get_mut(class) else {
            return core::ptr::null_mut();
        };
        if *head != 0 {
            let block = *head;
            *head = unsafe { *(block as *const usize) };
            return block as *mut u8;
        }
        // A block is aligned to its size (up to a page). In 64 bits: the
        // memory's end is 2^32.
        let size = 1u64 << class;
        let align = size.min(PAGE as u64);
        let mut at = (self.next + align - 1) & !(align - 1);
        if self.next == 0 || at + size > self.end {
            let pages = size.div_ceil(PAGE as u64);
            match memory_grow(0, pages as usize) {
                usize::MAX => return core::ptr::null_mut(),
                page => {
                    at = page as u64 * PAGE as u64;
                    self.end = at + pages * PAGE as u64;
                }
            }
        }
        self.next = at + size;
        at as usize as *mut u8
    }

    fn free(&mut self, ptr: *mut u8, layout: core::alloc::Layout) {
        if let Some(head) = self.free.get_mut(Self::class(layout)) {
            unsafe { *(ptr as *mut usize) = *head };
            *head = ptr as usize;
        }
    }
}

struct Heap;

unsafe impl core::alloc::GlobalAlloc for Heap {
    // A heap with no room left (`memory.grow` refused: the memory is at its
    // maximum) traps here, saying so: `alloc`'s own answer to a null pointer
    // would be a panic, which traps as an internal error. (`alloc_zeroed`
    // comes here too.)
    unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
        let p = heap().alloc(layout);
        if p.is_null() {
            crate::trap(crate::Text::OutOfMemory)
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
        heap().free(ptr, layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: core::alloc::Layout, new: usize) -> *mut u8 {
        let grown = core::alloc::Layout::from_size_align_unchecked(new, layout.align());
        // Still within its block.
        if Blocks::class(grown) == Blocks::class(layout) {
            return ptr;
        }
        let p = self.alloc(grown);
        core::ptr::copy_nonoverlapping(ptr, p, layout.size().min(new));
        self.dealloc(ptr, layout);
        p
    }
}

#[global_allocator]
static HEAP: Heap = Heap;
