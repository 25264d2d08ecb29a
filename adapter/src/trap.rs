//! Traps with a reason: before trapping, the adapter writes one line to
//! stderr naming the reason and the WASI function being called, as the
//! reference host's error does (`wasi-downlevel: trap: empty poll list (in
//! wasi:io/poll#poll)`). Every runtime then says why, not just
//! `unreachable`.

#[path = "../texts.rs"]
mod texts;
pub use texts::Text;

#[link(wasm_import_module = "__linker__")]
extern "C" {
    /// Records which WASI function the program called (its number in WIT
    /// order); every export shim calls it first. Becomes a `global.set`.
    fn enter(func: i32);
    /// The last `enter`, or -1. Becomes a `global.get`.
    fn current() -> i32;
    /// Writes text `id` (a `Text`, or `TEXTS.len()` + a function number) at
    /// `buf`, returning its length; it may write up to 7 bytes beyond. With
    /// a null `buf` it only returns the length.
    fn text(id: i32, buf: *mut u8) -> i32;
}

/// Text `t` as the linker gave it (empty if the output has none).
pub fn linker_text(t: Text) -> alloc::vec::Vec<u8> {
    let n = unsafe { text(t as i32, core::ptr::null_mut()) } as usize;
    let mut v = alloc::vec![0u8; n + 8];
    unsafe { text(t as i32, v.as_mut_ptr()) };
    v.truncate(n);
    v
}

/// Called by each generated export shim.
#[inline(always)]
pub fn entered(func: i32) {
    unsafe { enter(func) }
}

/// [`entered`], for a shim that keeps the number of the WASI function
/// called before it (`state::previous`): a call may then use what that one
/// found, knowing no other call came between.
#[inline(always)]
pub fn entered_after(func: i32) {
    *crate::state::previous() = unsafe { current() };
    unsafe { enter(func) }
}

/// Traps because of `why`.
#[cold]
#[inline(never)]
pub fn trap(why: Text) -> ! {
    report(why, None)
}

/// Traps because of `why`, about the number `n` (a handle, a length).
#[cold]
#[inline(never)]
pub fn trap_at(why: Text, n: u32) -> ! {
    report(why, Some(n))
}

/// Room for the line: the texts are short (a WASI function name is the
/// longest), plus the overshoot `text` may write.
const LINE: usize = 320;

fn report(why: Text, n: Option<u32>) -> ! {
    let mut line = core::mem::MaybeUninit::<[u8; LINE]>::uninit();
    let buf = line.as_mut_ptr() as *mut u8;
    let mut len = 0usize;
    let put = |id: i32, len: &mut usize| {
        *len += unsafe { text(id, buf.add(*len)) } as usize;
    };
    put(Text::Prefix as i32, &mut len);
    put(why as i32, &mut len);
    if let Some(n) = n {
        // " N", digits written from the last one back.
        let digits = {
            let (mut d, mut m) = (1, n / 10);
            while m != 0 {
                d += 1;
                m /= 10;
            }
            d
        };
        unsafe { buf.add(len).write(b' ') };
        let mut m = n;
        for i in (0..digits).rev() {
            unsafe { buf.add(len + 1 + i).write(b'0' + (m % 10) as u8) };
            m /= 10;
        }
        len += 1 + digits;
    }
    let func = unsafe { current() };
    if func >= 0 {
        put(Text::In as i32, &mut len);
        put(texts::TEXTS.len() as i32 + func, &mut len);
        put(Text::End as i32, &mut len);
    }
    put(Text::Newline as i32, &mut len);
    let iov = wasi::Ciovec {
        buf,
        buf_len: len.min(LINE),
    };
    let _ = unsafe { wasi::fd_write(2, &[iov]) };
    core::arch::wasm32::unreachable()
}
