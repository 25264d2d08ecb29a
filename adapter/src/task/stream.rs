//! Streams and futures: a channel between a writable and a readable end.
//! An end the program holds is a handle; the host's end (the adapter's, once
//! the program passed it to a WASI function) is an fd it writes to or reads
//! from, or a future value it gives. A read or write that finds the other
//! side ready copies at once, straight between the program's buffer and the
//! other's (an fd's data lands in the buffer the program passed); one that
//! does not waits, as the channel's pending operation, for the other side,
//! or for the event loop to find the fd ready.

use super::{
    block_until, set_event, task, Waitable, BLOCKED, EVENT_FUTURE_READ, EVENT_FUTURE_WRITE,
    EVENT_STREAM_READ, EVENT_STREAM_WRITE,
};
use crate::table::{Entry, Fd};
use crate::{p1, state, trap, trap_at, OrTrap, Text};

/// Copy results.
const COMPLETED: u32 = 0;
const DROPPED: u32 = 1;
const CANCELLED: u32 = 2;

/// Who holds one end of a channel.
#[derive(Clone, Copy, PartialEq)]
pub enum Side {
    /// The program, as this handle.
    Guest(u32),
    /// The host, writing what it reads to this fd (stdout, stderr).
    Sink(Fd),
    /// The host, reading from this fd (stdin).
    Source(Fd),
    /// The host, as a future's writer (its `value` once it has one) or as
    /// a reader that takes what it is given.
    Host,
    Dropped,
}

/// A read or write of the program's that waits for the other side.
#[derive(Clone, Copy)]
pub struct Pending {
    /// The end it was made on.
    pub end: u32,
    pub write: bool,
    pub ptr: u32,
    /// Elements asked for, and moved so far.
    pub n: u32,
    pub done: u32,
}

pub struct Channel {
    pub future: bool,
    /// The size of one element (of the value, for a future).
    pub elem: u32,
    pub reader: Side,
    pub writer: Side,
    pub pending: Option<Pending>,
    /// A host future's value (its canonical-ABI bytes), once known.
    pub value: Option<[u8; 2]>,
    /// For a host stream: the future (channel + 1) its outcome resolves.
    pub outcome: u32,
}

#[derive(Clone, Copy, PartialEq)]
pub enum CopyState {
    Idle,
    Copying,
    /// The other end was dropped (or the future was read or written):
    /// only dropping this one is left.
    Done,
}

/// A stream or future end the program holds.
pub struct End {
    pub w: Waitable,
    pub channel: u32,
    pub readable: bool,
    pub future: bool,
    pub state: CopyState,
}

impl End {
    /// The state after an event with this payload reaches the program.
    pub fn delivered(&mut self, payload: u32) {
        let result = payload & 0xf;
        let done = result == DROPPED || (self.future && result == COMPLETED);
        self.state = if done {
            CopyState::Done
        } else {
            CopyState::Idle
        };
    }
}

fn channel(c: u32) -> &'static mut Channel {
    task()
        .channels
        .get_mut(c as usize)
        .and_then(Option::as_mut)
        .or_trap()
}

fn new_channel(future: bool, elem: u32, reader: Side, writer: Side) -> u32 {
    let c = Channel {
        future,
        elem,
        reader,
        writer,
        pending: None,
        value: None,
        outcome: 0,
    };
    let channels = &mut task().channels;
    match channels.iter().position(Option::is_none) {
        Some(i) => {
            channels[i] = Some(c);
            i as u32
        }
        None => {
            channels.push(Some(c));
            channels.len() as u32 - 1
        }
    }
}

/// A new end of channel `c` for the program.
fn guest_end(c: u32, readable: bool) -> u32 {
    let ch = channel(c);
    let h = state::table().insert(
        Entry::End(End {
            w: Waitable::default(),
            channel: c,
            readable,
            future: ch.future,
            state: CopyState::Idle,
        }),
        0,
    ) as u32;
    if readable {
        ch.reader = Side::Guest(h);
    } else {
        ch.writer = Side::Guest(h);
    }
    h
}

/// `stream.new` / `future.new`: both ends for the program, packed.
fn new_pair(future: bool, elem: u32) -> i64 {
    let c = new_channel(future, elem, Side::Dropped, Side::Dropped);
    let r = guest_end(c, true);
    let w = guest_end(c, false);
    (r as i64) | ((w as i64) << 32)
}

/// A host stream of bytes with its outcome future, both read by the program
/// (`wasi:cli/stdin`'s): the stream's and the future's handles.
pub fn host_source(fd: Fd) -> (u32, u32) {
    let c = new_channel(false, 1, Side::Dropped, Side::Source(fd));
    let (f, future) = outcome_future();
    channel(c).outcome = f + 1;
    (guest_end(c, true), future)
}

/// Takes the readable end `h` of a byte stream from the program for the
/// host, which writes what it reads to `fd` (`wasi:cli/stdout`'s); the
/// handle of the future of its outcome.
pub fn host_sink(h: i32, fd: Fd) -> u32 {
    let e = state::table().get::<End>(h);
    if !e.readable || e.future {
        trap_at(Text::WrongType, h as u32)
    }
    if e.state != CopyState::Idle {
        trap(Text::EndBusy)
    }
    let c = state::table().delete::<End>(h).channel;
    let (f, future) = outcome_future();
    let ch = channel(c);
    ch.reader = Side::Sink(fd);
    ch.outcome = f + 1;
    // What the program wrote before it passed the stream on.
    if let Some(p) = ch.pending.take() {
        let payload = to_sink(c, fd, p.ptr, p.n);
        set_event(p.end, EVENT_STREAM_WRITE, payload);
    }
    future
}

/// A `future<result<_, error-code>>` the host writes and the program
/// reads: (channel, handle).
fn outcome_future() -> (u32, u32) {
    let f = new_channel(true, 2, Side::Dropped, Side::Host);
    (f, guest_end(f, true))
}

/// Resolves host stream `c`'s outcome: `Ok`, or `Err(code)` (a
/// `wasi:cli/types.error-code`).
fn resolve(c: u32, r: Result<(), u8>) {
    let f = channel(c).outcome;
    if f == 0 {
        return;
    }
    channel(c).outcome = 0;
    let fc = channel(f - 1);
    let value = match r {
        Ok(()) => [0, 0],
        Err(e) => [1, e],
    };
    fc.value = Some(value);
    if let Some(p) = fc.pending.take() {
        unsafe { core::ptr::copy_nonoverlapping(value.as_ptr(), p.ptr as *mut u8, 2) };
        set_event(p.end, EVENT_FUTURE_READ, COMPLETED);
    }
    free_if_done(f - 1);
}

/// `wasi:cli/types.error-code` for a failed stdio call.
fn cli_error(e: p1::Errno) -> u8 {
    if e == wasi::ERRNO_PIPE {
        2
    } else {
        0
    }
}

/// Writes `n` bytes at `ptr` to `fd`, the reader of `c`.
fn to_sink(c: u32, fd: Fd, ptr: u32, n: u32) -> u32 {
    match p1::write_all(fd, ptr as *const u8, n as usize) {
        Ok(()) => COMPLETED | n << 4,
        Err(e) => {
            channel(c).reader = Side::Dropped;
            resolve(c, Err(cli_error(e)));
            DROPPED
        }
    }
}

/// Reads into the pending read `p` from `fd`, the writer of `c`.
fn from_source(c: u32, fd: Fd, p: &Pending) -> u32 {
    match p1::read(fd, p.ptr as *mut u8, p.n as usize) {
        Ok(0) => {
            channel(c).writer = Side::Dropped;
            resolve(c, Ok(()));
            DROPPED
        }
        Ok(k) => COMPLETED | (k as u32) << 4,
        Err(e) => {
            channel(c).writer = Side::Dropped;
            resolve(c, Err(cli_error(e)));
            DROPPED
        }
    }
}

impl Channel {
    /// The fd of a host source a read of the program's waits on.
    pub fn blocked_source(&self) -> Option<Fd> {
        match (self.writer, self.pending) {
            (Side::Source(fd), Some(p)) if !p.write => Some(fd),
            _ => None,
        }
    }
}

/// The event loop found source `c`'s fd readable: the pending read reads.
pub fn source_ready(c: u32) {
    let ch = channel(c);
    let (Side::Source(fd), Some(p)) = (ch.writer, ch.pending.take()) else {
        return;
    };
    let payload = from_source(c, fd, &p);
    set_event(p.end, EVENT_STREAM_READ, payload);
}

/// The event a read or write of a stream or future ends with (computed, not
/// matched: a lookup table would be a data segment).
fn event(future: bool, write: bool) -> u32 {
    const _: () = assert!(EVENT_STREAM_WRITE == EVENT_STREAM_READ + 1);
    const _: () = assert!(EVENT_FUTURE_READ == EVENT_STREAM_READ + 2);
    const _: () = assert!(EVENT_FUTURE_WRITE == EVENT_STREAM_READ + 3);
    EVENT_STREAM_READ + write as u32 + 2 * future as u32
}

/// Starts the program's read or write `op` on channel `c`: its payload if
/// it finished at once, else `None` (it is pending).
fn start(c: u32, op: Pending) -> Option<u32> {
    let ch = channel(c);
    let other = if op.write { ch.reader } else { ch.writer };
    let bytes = |n: u32| n as usize * ch.elem as usize;
    match other {
        Side::Dropped => Some(DROPPED),
        _ if op.n == 0 => Some(COMPLETED),
        Side::Sink(fd) => Some(to_sink(c, fd, op.ptr, op.n)),
        Side::Source(fd) => {
            let ready = !crate::io::may_block(fd)
                || crate::io::poll_one(crate::io::Pollable::Read(fd), false);
            if ready {
                Some(from_source(c, fd, &op))
            } else {
                ch.pending = Some(op);
                None
            }
        }
        // The host reads (and drops) what it is given.
        Side::Host if op.write => Some(COMPLETED | op.n << 4),
        Side::Host => match ch.value {
            Some(v) => {
                unsafe { core::ptr::copy_nonoverlapping(v.as_ptr(), op.ptr as *mut u8, 2) };
                Some(COMPLETED)
            }
            None => {
                ch.pending = Some(op);
                None
            }
        },
        Side::Guest(_) => match ch.pending.take() {
            Some(mut p) if p.write != op.write => {
                let k = (p.n - p.done).min(op.n);
                // The waiting side continues where it stopped.
                let at = p.ptr + bytes(p.done) as u32;
                let (src, dst) = if op.write { (op.ptr, at) } else { (at, op.ptr) };
                unsafe {
                    core::ptr::copy_nonoverlapping(src as *const u8, dst as *mut u8, bytes(k))
                };
                p.done += k;
                let progress = |n: u32| if ch.future { 0 } else { n << 4 };
                set_event(
                    p.end,
                    event(ch.future, p.write),
                    COMPLETED | progress(p.done),
                );
                Some(COMPLETED | progress(k))
            }
            // Never one of the same direction: each side has one end,
            // which cannot start a second operation.
            Some(_) => trap(Text::Internal),
            None => {
                ch.pending = Some(op);
                None
            }
        },
    }
}

/// `{stream,future}.{read,write}` on end `h`.
fn copy(h: i32, write: bool, future: bool, ptr: i32, n: u32, async_: bool) -> i32 {
    let e = state::table().get::<End>(h);
    if e.readable == write || e.future != future {
        trap_at(Text::WrongType, h as u32)
    }
    match e.state {
        CopyState::Copying => trap(Text::EndBusy),
        CopyState::Done => trap(Text::EndDone),
        CopyState::Idle => {}
    }
    e.state = CopyState::Copying;
    let c = e.channel;
    let op = Pending {
        end: h as u32,
        write,
        ptr: ptr as u32,
        n,
        done: 0,
    };
    let payload = match start(c, op) {
        Some(p) => p,
        None if async_ => return BLOCKED as i32,
        None => {
            block_until(|| state::table().get::<End>(h).w.event.is_some());
            state::table().get::<End>(h).w.event.take().or_trap().1
        }
    };
    state::table().get::<End>(h).delivered(payload);
    payload as i32
}

/// `{stream,future}.cancel-{read,write}` on end `h`: the pending operation
/// ends, with what it moved.
fn cancel(h: i32, write: bool) -> i32 {
    let e = state::table().get::<End>(h);
    if e.readable == write {
        trap_at(Text::WrongType, h as u32)
    }
    if e.state != CopyState::Copying {
        trap(Text::NotCopying)
    }
    // It finished before the cancel: its event says how.
    let payload = match e.w.event.take() {
        Some((_, payload)) => payload,
        None => {
            let ch = channel(e.channel);
            let done = ch.pending.take().map_or(0, |p| p.done);
            let progress = if ch.future { 0 } else { done << 4 };
            CANCELLED | progress
        }
    };
    state::table().get::<End>(h).delivered(payload);
    payload as i32
}

/// `{stream,future}.drop-{readable,writable}`: the other side learns.
fn drop_end(h: i32, readable: bool) {
    let e = state::table().get::<End>(h);
    if e.readable != readable {
        trap_at(Text::WrongType, h as u32)
    }
    if e.state == CopyState::Copying {
        trap(Text::EndBusy)
    }
    if e.future && !readable && e.state != CopyState::Done {
        trap(Text::FutureNotWritten)
    }
    let c = state::table().delete::<End>(h).channel;
    let ch = channel(c);
    let other = if readable {
        ch.reader = Side::Dropped;
        ch.writer
    } else {
        ch.writer = Side::Dropped;
        ch.reader
    };
    match other {
        Side::Guest(_) => {
            if let Some(p) = ch.pending.take() {
                let progress = if ch.future { 0 } else { p.done << 4 };
                set_event(p.end, event(ch.future, p.write), DROPPED | progress);
            }
        }
        // The host's consumer or producer goes with the stream: its
        // outcome is `Ok`.
        Side::Sink(_) | Side::Source(_) => {
            if readable {
                ch.writer = Side::Dropped;
            } else {
                ch.reader = Side::Dropped;
            }
            resolve(c, Ok(()));
        }
        _ => {}
    }
    free_if_done(c);
}

fn free_if_done(c: u32) {
    let ch = channel(c);
    let gone = |s: Side| matches!(s, Side::Dropped | Side::Host);
    if gone(ch.reader) && gone(ch.writer) && ch.outcome == 0 {
        task().channels[c as usize] = None;
    }
}

#[export_name = "wasi-downlevel:async#stream.new"]
pub unsafe extern "C" fn stream_new(elem: i32) -> i64 {
    new_pair(false, elem as u32)
}

#[export_name = "wasi-downlevel:async#future.new"]
pub unsafe extern "C" fn future_new(elem: i32) -> i64 {
    new_pair(true, elem as u32)
}

#[export_name = "wasi-downlevel:async#stream.read"]
pub unsafe extern "C" fn stream_read(async_: i32, h: i32, ptr: i32, n: i32) -> i32 {
    copy(h, false, false, ptr, n as u32, async_ != 0)
}

#[export_name = "wasi-downlevel:async#stream.write"]
pub unsafe extern "C" fn stream_write(async_: i32, h: i32, ptr: i32, n: i32) -> i32 {
    copy(h, true, false, ptr, n as u32, async_ != 0)
}

#[export_name = "wasi-downlevel:async#future.read"]
pub unsafe extern "C" fn future_read(async_: i32, h: i32, ptr: i32) -> i32 {
    copy(h, false, true, ptr, 1, async_ != 0)
}

#[export_name = "wasi-downlevel:async#future.write"]
pub unsafe extern "C" fn future_write(async_: i32, h: i32, ptr: i32) -> i32 {
    copy(h, true, true, ptr, 1, async_ != 0)
}

#[export_name = "wasi-downlevel:async#cancel-read"]
pub unsafe extern "C" fn cancel_read(_async: i32, h: i32) -> i32 {
    cancel(h, false)
}

#[export_name = "wasi-downlevel:async#cancel-write"]
pub unsafe extern "C" fn cancel_write(_async: i32, h: i32) -> i32 {
    cancel(h, true)
}

#[export_name = "wasi-downlevel:async#drop-readable"]
pub unsafe extern "C" fn drop_readable(h: i32) {
    drop_end(h, true)
}

#[export_name = "wasi-downlevel:async#drop-writable"]
pub unsafe extern "C" fn drop_writable(h: i32) {
    drop_end(h, false)
}
