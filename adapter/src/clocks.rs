//! `wasi:clocks`: the monotonic and wall clocks, and clock pollables.

use crate::io::Pollable;
use crate::{p1, put, state};

pub mod monotonic_clock {
    use super::*;

    pub unsafe fn now() -> i64 {
        p1::monotonic_now() as i64
    }

    pub unsafe fn resolution() -> i64 {
        wasi::clock_res_get(wasi::CLOCKID_MONOTONIC).unwrap_or(1) as i64
    }

    pub unsafe fn subscribe_instant(when: i64) -> i32 {
        state::table().push(Pollable::Clock(when as u64), 0)
    }

    pub unsafe fn subscribe_duration(duration: i64) -> i32 {
        let when = p1::monotonic_now().saturating_add(duration as u64);
        state::table().push(Pollable::Clock(when), 0)
    }
}

pub mod wall_clock {
    use super::*;

    /// Writes a `datetime { seconds: u64, nanoseconds: u32 }`.
    unsafe fn datetime(ret: i32, ns: u64) {
        put(ret, 0, ns / 1_000_000_000);
        put(ret, 8, (ns % 1_000_000_000) as u32);
    }

    pub unsafe fn now(ret: i32) {
        datetime(
            ret,
            wasi::clock_time_get(wasi::CLOCKID_REALTIME, 1).unwrap_or(0),
        )
    }

    pub unsafe fn resolution(ret: i32) {
        datetime(
            ret,
            wasi::clock_res_get(wasi::CLOCKID_REALTIME).unwrap_or(1),
        )
    }
}
