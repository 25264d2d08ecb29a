//! `wasi:clocks@0.3`: 0.2's clocks, and waiting as async functions: a wait
//! lowered async is a subtask the event loop ends when the clock gets there;
//! lowered sync, it sleeps in `poll_oneoff`.

use crate::p1;

/// Sleeps until the monotonic clock reaches `deadline`.
fn sleep_until(deadline: u64) {
    loop {
        let now = p1::monotonic_now();
        if now >= deadline {
            return;
        }
        if p1::poll_oneoff(&[p1::timer_subscription(0, deadline - now)]).is_err() {
            return;
        }
    }
}

pub mod monotonic_clock {
    use super::*;
    pub use crate::clocks::monotonic_clock::now;
    pub use crate::clocks::monotonic_clock::resolution as get_resolution;

    pub unsafe fn wait_until(when: i64) {
        sleep_until(when as u64)
    }

    pub unsafe fn wait_for(how_long: i64) {
        sleep_until(p1::monotonic_now().saturating_add(how_long as u64))
    }

    pub unsafe fn async_wait_until(when: i64) -> i32 {
        crate::task::wait_until(when as u64)
    }

    pub unsafe fn async_wait_for(how_long: i64) -> i32 {
        crate::task::wait_until(p1::monotonic_now().saturating_add(how_long as u64))
    }
}

pub mod system_clock {
    /// An `instant { seconds: s64, nanoseconds: u32 }`: 0.2's `datetime`.
    pub use crate::clocks::wall_clock::now;

    pub unsafe fn get_resolution() -> i64 {
        wasi::clock_res_get(wasi::CLOCKID_REALTIME).unwrap_or(1) as i64
    }
}
