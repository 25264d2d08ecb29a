//! `wasi:random`: all three interfaces on preview1's `random_get`, which is
//! cryptographically secure and so serves the insecure ones too.

use crate::{put, trap, Text};

/// Returns `list<u8>` of `len` random bytes, filled in place in the
/// program's own allocation.
unsafe fn bytes(len: i64, ret: i32) {
    let len = len as usize;
    let p = crate::program_alloc(1, len);
    fill(p, len);
    put(ret, 0, p as i32);
    put(ret, 4, len as i32);
}

unsafe fn fill(p: *mut u8, len: usize) {
    if wasi::random_get(p, len).is_err() {
        trap(Text::NoRandom)
    }
}

unsafe fn u64() -> i64 {
    let mut v = 0u64;
    fill(&mut v as *mut u64 as *mut u8, 8);
    v as i64
}

pub mod random {
    pub unsafe fn get_random_bytes(len: i64, ret: i32) {
        super::bytes(len, ret)
    }
    pub unsafe fn get_random_u64() -> i64 {
        super::u64()
    }
}

pub mod insecure {
    pub unsafe fn get_insecure_random_bytes(len: i64, ret: i32) {
        super::bytes(len, ret)
    }
    pub unsafe fn get_insecure_random_u64() -> i64 {
        super::u64()
    }
}

pub mod insecure_seed {
    /// `tuple<u64, u64>`: drawn once, then the same for the whole instance,
    /// as the WIT says ("returns the same value each time").
    pub unsafe fn insecure_seed(ret: i32) {
        let seed = crate::state::seed();
        let v = match *seed {
            Some(v) => v,
            None => {
                let v = [super::u64() as u64, super::u64() as u64];
                *seed = Some(v);
                v
            }
        };
        crate::put(ret, 0, v[0]);
        crate::put(ret, 8, v[1]);
    }
}
