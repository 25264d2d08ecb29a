//! The component model's async ABI, as WASI 0.3 programs use it: waitable
//! sets, subtasks, the task's return value and context, and the event loop
//! that drives a `run` lifted with a callback. Streams and futures are in
//! `stream`. Preview1 hosts have one thread and no events of their own, so
//! the loop waits in one `poll_oneoff` over everything pending (the timers
//! of subtasks, the fds of blocked host reads) and turns what the host
//! reports into the events the program waits for.
//!
//! Every waitable and waitable set is a handle in the adapter's one table,
//! beside WASI resources, as the spec's one table per component instance.
//! The built-ins take the flat parameters the canonical ABI gives them; the
//! linker binds each to the program's import, adding the canon's immediates
//! (an `async` flag, an element size, a context slot) as leading constants.

pub mod stream;

use crate::table::Entry;
use crate::{p1, put, state, trap, trap_at, Text};
use alloc::vec::Vec;
pub use stream::{Channel, End};

pub const EVENT_NONE: u32 = 0;
pub const EVENT_SUBTASK: u32 = 1;
pub const EVENT_STREAM_READ: u32 = 2;
pub const EVENT_STREAM_WRITE: u32 = 3;
pub const EVENT_FUTURE_READ: u32 = 4;
pub const EVENT_FUTURE_WRITE: u32 = 5;

/// Subtask states.
const STARTED: u32 = 1;
const RETURNED: u32 = 2;
const CANCELLED_BEFORE_RETURNED: u32 = 4;

/// What an async built-in returns when the operation waits.
pub const BLOCKED: u32 = 0xffff_ffff;

/// Callback codes.
const EXIT: i32 = 0;
const YIELD: i32 = 1;
const WAIT: i32 = 2;

/// What every waitable has: the set it is in (0: none) and the event it has
/// to deliver (code, payload; the index is its own handle).
#[derive(Default)]
pub struct Waitable {
    pub set: u32,
    pub event: Option<(u32, u32)>,
}

pub struct WaitableSet;

/// A call of an async-lowered import that did not finish at once.
pub struct Subtask {
    pub w: Waitable,
    pub state: u32,
    pub waits: Wait,
    /// Its resolution was delivered: it may be dropped.
    pub delivered: bool,
}

/// What a subtask waits for.
#[derive(Clone, Copy, PartialEq)]
pub enum Wait {
    /// The monotonic clock to reach this instant.
    Clock(u64),
    /// Fd `fd` to be readable, for a UDP `receive` of socket `socket` into
    /// return area `ret`.
    UdpReceive { fd: u32, socket: i32, ret: i32 },
}

/// An `error-context`: its debug message.
pub struct ErrorContext {
    pub message: Vec<u8>,
}

/// The one task the adapter runs (`run`) and what the async ABI keeps
/// beside the table.
pub struct Task {
    /// The value `task.return` gave (`result`: 0 ok, 1 error).
    pub result: Option<i32>,
    pub context: [i32; 2],
    pub backpressure: i32,
    /// Streams and futures, by number (an end names its channel).
    pub channels: Vec<Option<Channel>>,
    /// WASI 0.3 TCP connections: (socket, 0.2 input stream, output stream),
    /// until `receive`/`send` take them (0: taken).
    pub tcp: Vec<(u32, u32, u32)>,
    /// Sockets the program dropped whose streams are still in use.
    pub doomed: Vec<u32>,
    /// WASI 0.3 UDP sockets' 0.2 datagram streams: (socket, incoming,
    /// outgoing).
    pub udp: Vec<(u32, u32, u32)>,
}

impl Task {
    /// Written field by field: a constant `Task` would be copied from a
    /// data segment.
    pub fn init(t: *mut Task) {
        unsafe {
            core::ptr::addr_of_mut!((*t).result).write(None);
            core::ptr::addr_of_mut!((*t).context).write([0; 2]);
            core::ptr::addr_of_mut!((*t).backpressure).write(0);
            core::ptr::addr_of_mut!((*t).channels).write(Vec::new());
            core::ptr::addr_of_mut!((*t).tcp).write(Vec::new());
            core::ptr::addr_of_mut!((*t).doomed).write(Vec::new());
            core::ptr::addr_of_mut!((*t).udp).write(Vec::new());
        }
    }
}

fn task() -> &'static mut Task {
    state::task()
}

fn waitable(e: &mut Entry) -> Option<&mut Waitable> {
    match e {
        Entry::Subtask(s) => Some(&mut s.w),
        Entry::End(e) => Some(&mut e.w),
        _ => None,
    }
}

/// Sets the event waitable `h` delivers next (replacing one not yet
/// delivered, as a later progress report does).
pub fn set_event(h: u32, code: u32, payload: u32) {
    if let Some(w) = waitable(state::table().entry(h as i32)) {
        w.event = Some((code, payload));
    }
}

/// Takes waitable `h`'s event, making the state change its delivery
/// makes.
fn deliver(h: u32) -> Option<(u32, u32)> {
    match state::table().entry(h as i32) {
        Entry::Subtask(s) => {
            let e = s.w.event.take()?;
            s.delivered |= e.1 >= RETURNED;
            Some(e)
        }
        Entry::End(e) => {
            let ev = e.w.event.take()?;
            e.delivered(ev.1);
            Some(ev)
        }
        _ => None,
    }
}

/// A waitable of `set` with an event, delivered.
fn next_event(set: u32) -> Option<(u32, u32, u32)> {
    let h = state::table()
        .find(|_, e| waitable(e).is_some_and(|w| w.set == set && w.event.is_some()))?;
    let (code, payload) = deliver(h)?;
    Some((code, h, payload))
}

fn check_set(set: i32) {
    if !matches!(state::table().entry(set), Entry::WaitableSet(_)) {
        trap_at(Text::NotWaitableSet, set as u32)
    }
}

/// Waits for an event in `set`; traps when nothing could ever make one.
fn wait(set: u32) -> (u32, u32, u32) {
    loop {
        if let Some(e) = next_event(set) {
            return e;
        }
        if !host_round(true) {
            trap(Text::Deadlock)
        }
    }
}

/// Runs until `done` holds (a synchronous built-in that must not return
/// before its operation has).
pub fn block_until(mut done: impl FnMut() -> bool) {
    while !done() {
        if !host_round(true) {
            trap(Text::Deadlock)
        }
    }
}

/// One turn of the host: a `poll_oneoff` over the timers of pending
/// subtasks and the fds of blocked reads (waiting for the first of them, or
/// not at all unless `block`), then their completions as events. False if
/// nothing is pending.
pub fn host_round(block: bool) -> bool {
    const TIMER: u64 = u64::MAX;
    let mut deadline: Option<u64> = None;
    let mut subs: Vec<wasi::Subscription> = Vec::new();
    state::table().find(|h, e| {
        if let Entry::Subtask(s) = e {
            match s.waits {
                _ if s.state != STARTED => {}
                Wait::Clock(at) => deadline = Some(deadline.map_or(at, |d| d.min(at))),
                Wait::UdpReceive { fd, .. } => {
                    subs.push(p1::fd_subscription(SUBTASK_FD | h as u64, fd, false))
                }
            }
        }
        false
    });
    for (i, c) in task().channels.iter().enumerate() {
        if let Some(fd) = c.as_ref().and_then(Channel::blocked_source) {
            subs.push(p1::fd_subscription(i as u64, fd, false));
        }
    }
    if subs.is_empty() && deadline.is_none() {
        return false;
    }
    let now = p1::monotonic_now();
    let wait = match (block, deadline) {
        (false, _) => Some(0),
        (true, d) => d.map(|d| d.saturating_sub(now)),
    };
    if let Some(ns) = wait {
        subs.push(p1::timer_subscription(TIMER, ns));
    }
    let ready: Vec<u64> = match p1::poll_oneoff(&subs) {
        Ok(events) if !events.is_empty() || wait.is_some() => {
            events.iter().map(|e| e.userdata).collect()
        }
        // A host that cannot poll these fds: call them ready, and let the
        // read wait (as `io::poll` does).
        _ => subs.iter().map(|s| s.userdata).collect(),
    };
    for r in ready.into_iter().filter(|&r| r != TIMER) {
        match r & SUBTASK_FD {
            0 => stream::source_ready(r as u32),
            _ => subtask_ready(r as u32),
        }
    }
    let now = p1::monotonic_now();
    state::table().find(|_, e| {
        if let Entry::Subtask(s) = e {
            if matches!(s.waits, Wait::Clock(at) if at <= now) {
                s.returned();
            }
        }
        false
    });
    true
}

impl Subtask {
    /// It returns (a wait still pending; one cancelled stays so).
    fn returned(&mut self) {
        if self.state == STARTED {
            self.state = RETURNED;
            self.w.event = Some((EVENT_SUBTASK, RETURNED));
        }
    }
}

/// Userdata of a subscription for a subtask's fd (the rest: its handle).
const SUBTASK_FD: u64 = 1 << 40;

/// Subtask `h`'s fd is readable: it does what it waited to do, and returns
/// if that is done.
fn subtask_ready(h: u32) {
    let Entry::Subtask(s) = state::table().entry(h as i32) else {
        return;
    };
    let done = match s.waits {
        Wait::UdpReceive { socket, ret, .. } if s.state == STARTED => {
            stream::sockets::op(stream::sockets::UDP_RECEIVE, socket, ret, 0) == 1
        }
        _ => false,
    };
    if done {
        state::table().get::<Subtask>(h as i32).returned();
    }
}

/// An async-lowered call that did not finish at once: a subtask waiting
/// for `waits`, which the loop completes; its handle and state packed.
pub fn subtask(waits: Wait) -> i32 {
    let h = state::table().insert(
        Entry::Subtask(Subtask {
            w: Waitable::default(),
            state: STARTED,
            waits,
            delivered: false,
        }),
        0,
    );
    (STARTED | (h as u32) << 4) as i32
}

/// An async-lowered wait for the monotonic clock to reach `deadline`:
/// `RETURNED` if it has, else a subtask.
pub fn wait_until(deadline: u64) -> i32 {
    if deadline <= p1::monotonic_now() {
        return RETURNED as i32;
    }
    subtask(Wait::Clock(deadline))
}

#[link(wasm_import_module = "__linker__")]
extern "C" {
    /// The program's `run`, lifted async with a callback: its first call.
    fn async_lift() -> i32;
    /// That callback: the next step, given an event.
    fn async_callback(event: i32, index: i32, payload: i32) -> i32;
}

/// `_start`'s `run` for a program whose `run` is async: calls it, then
/// delivers events to its callback until it exits; the task's result.
#[export_name = "wasi-downlevel:async#run"]
pub unsafe extern "C" fn run() -> i32 {
    let mut code = async_lift();
    loop {
        let (event, index, payload) = match code & 0xf {
            EXIT => break,
            YIELD => {
                host_round(false);
                (EVENT_NONE, 0, 0)
            }
            WAIT => wait(code as u32 >> 4),
            _ => trap_at(Text::BadCallbackCode, code as u32),
        };
        code = async_callback(event as i32, index as i32, payload as i32);
    }
    match task().result {
        Some(r) => r,
        None => trap(Text::NoTaskReturn),
    }
}

#[export_name = "wasi-downlevel:async#task.return"]
pub unsafe extern "C" fn task_return(result: i32) {
    if task().result.replace(result).is_some() {
        trap(Text::TaskReturnTwice)
    }
}

#[export_name = "wasi-downlevel:async#task.cancel"]
pub unsafe extern "C" fn task_cancel() {
    // `run` is never cancelled.
    trap(Text::NotCancelled)
}

#[export_name = "wasi-downlevel:async#context.get"]
pub unsafe extern "C" fn context_get(slot: i32) -> i32 {
    match task().context.get(slot as usize) {
        Some(&v) => v,
        None => trap_at(Text::BadContextSlot, slot as u32),
    }
}

#[export_name = "wasi-downlevel:async#context.set"]
pub unsafe extern "C" fn context_set(slot: i32, value: i32) {
    match task().context.get_mut(slot as usize) {
        Some(v) => *v = value,
        None => trap_at(Text::BadContextSlot, slot as u32),
    }
}

/// Backpressure only holds back new calls of the program's exports, and
/// the adapter makes one.
#[export_name = "wasi-downlevel:async#backpressure.set"]
pub unsafe extern "C" fn backpressure_set(on: i32) {
    task().backpressure = (on != 0) as i32;
}

#[export_name = "wasi-downlevel:async#backpressure.inc"]
pub unsafe extern "C" fn backpressure_inc() {
    task().backpressure += 1;
}

#[export_name = "wasi-downlevel:async#backpressure.dec"]
pub unsafe extern "C" fn backpressure_dec() {
    task().backpressure -= 1;
}

/// `yield`: lets the host make progress; never cancelled (0).
#[export_name = "wasi-downlevel:async#yield"]
pub unsafe extern "C" fn yield_(_cancellable: i32) -> i32 {
    host_round(false);
    0
}

#[export_name = "wasi-downlevel:async#waitable-set.new"]
pub unsafe extern "C" fn waitable_set_new() -> i32 {
    state::table().insert(Entry::WaitableSet(WaitableSet), 0)
}

#[export_name = "wasi-downlevel:async#waitable-set.wait"]
pub unsafe extern "C" fn waitable_set_wait(_cancellable: i32, set: i32, ptr: i32) -> i32 {
    check_set(set);
    let (code, index, payload) = wait(set as u32);
    put(ptr, 0, index);
    put(ptr, 4, payload);
    code as i32
}

#[export_name = "wasi-downlevel:async#waitable-set.poll"]
pub unsafe extern "C" fn waitable_set_poll(_cancellable: i32, set: i32, ptr: i32) -> i32 {
    check_set(set);
    let e = next_event(set as u32).or_else(|| {
        host_round(false);
        next_event(set as u32)
    });
    let (code, index, payload) = e.unwrap_or((EVENT_NONE, 0, 0));
    put(ptr, 0, index);
    put(ptr, 4, payload);
    code as i32
}

#[export_name = "wasi-downlevel:async#waitable-set.drop"]
pub unsafe extern "C" fn waitable_set_drop(set: i32) {
    check_set(set);
    let s = set as u32;
    if state::table()
        .find(|_, e| waitable(e).is_some_and(|w| w.set == s))
        .is_some()
    {
        trap(Text::SetNotEmpty)
    }
    state::table().delete::<WaitableSet>(set);
}

#[export_name = "wasi-downlevel:async#waitable.join"]
pub unsafe extern "C" fn waitable_join(w: i32, set: i32) {
    if set != 0 {
        check_set(set);
    }
    match waitable(state::table().entry(w)) {
        Some(w) => w.set = set as u32,
        None => trap_at(Text::NotWaitable, w as u32),
    }
}

#[export_name = "wasi-downlevel:async#subtask.drop"]
pub unsafe extern "C" fn subtask_drop(h: i32) {
    if !state::table().get::<Subtask>(h).delivered {
        trap(Text::SubtaskNotResolved)
    }
    state::table().delete::<Subtask>(h);
}

/// Cancels a subtask: a wait that has not ended ends now, cancelled; one
/// that has gives its final state (its event, delivered here).
#[export_name = "wasi-downlevel:async#subtask.cancel"]
pub unsafe extern "C" fn subtask_cancel(_async: i32, h: i32) -> i32 {
    let s = state::table().get::<Subtask>(h);
    if s.delivered {
        trap(Text::SubtaskCancelled)
    }
    if s.state == STARTED {
        s.state = CANCELLED_BEFORE_RETURNED;
    }
    // Its final state is delivered here, not as an event.
    s.delivered = true;
    s.w.event = None;
    s.state as i32
}

#[export_name = "wasi-downlevel:async#error-context.new"]
pub unsafe extern "C" fn error_context_new(ptr: i32, len: i32) -> i32 {
    let message = core::slice::from_raw_parts(ptr as *const u8, len as usize).to_vec();
    state::table().insert(Entry::ErrorContext(ErrorContext { message }), 0)
}

#[export_name = "wasi-downlevel:async#error-context.debug-message"]
pub unsafe extern "C" fn error_context_debug_message(h: i32, ret: i32) {
    let m = &state::table().get::<ErrorContext>(h).message;
    crate::abi::put_string(ret, m);
}

#[export_name = "wasi-downlevel:async#error-context.drop"]
pub unsafe extern "C" fn error_context_drop(h: i32) {
    state::table().delete::<ErrorContext>(h);
}
