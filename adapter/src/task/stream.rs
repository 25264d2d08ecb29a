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
use crate::io::StreamError;
use crate::table::{Entry, Fd};
use crate::{p1, state, trap, trap_at, OrTrap, Text};

#[link(wasm_import_module = "__linker__")]
extern "C" {
    /// `crate::p3::sockets::host_op` when the program can make a WASI 0.3
    /// socket, else a stub: so a program without them keeps none of their
    /// paths (no stream side is a socket then; the stub's answer to the
    /// no-op calls is ignored).
    fn p3_sockets(op: i32, a: i32, b: i32, c: i32) -> i32;
    /// `crate::p3::filesystem::listing_op` when the program can list a
    /// directory through WASI 0.3, else a stub (no side is a listing then).
    fn p3_listing(op: i32, h: i32, at: i32) -> i32;
}

/// A socket's operation, for the streams and the event loop here.
pub mod sockets {
    pub const ACCEPT: i32 = 0;
    pub const LISTENER_FD: i32 = 1;
    pub const FINISH_SEND: i32 = 2;
    pub const REAP: i32 = 3;
    pub const UDP_RECEIVE: i32 = 4;
    pub const ERROR_CODE: i32 = 5;

    pub fn op(op: i32, a: i32, b: i32, c: i32) -> i32 {
        unsafe { super::p3_sockets(op, a, b, c) }
    }
}

/// A listing's operation: the next entry (written at `at`: 1, the end: 0,
/// an error: 2 + its code), or dropping it.
pub mod listing {
    pub const NEXT: i32 = 0;
    pub const DROP: i32 = 1;

    pub fn op(op: i32, h: i32, at: i32) -> i32 {
        unsafe { super::p3_listing(op, h, at) }
    }
}

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
    /// The host, reading from or writing to this 0.2 stream of the
    /// adapter's (a file's, at its offset or appending).
    Input(u32),
    Output(u32),
    /// The host, listing this 0.2 directory-entry stream of the adapter's.
    Entries(u32),
    /// The host, accepting connections on this listening TCP socket.
    Accept(u32),
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
    /// A host future's value (its canonical-ABI bytes, `elem` of them),
    /// once known.
    pub value: Option<[u8; VALUE]>,
    /// For a host stream: the future (channel + 1) its outcome resolves,
    /// and whose `error-code` it is.
    pub outcome: u32,
    pub errors: Errors,
}

/// The largest host future value: `result<_, wasi:filesystem/types@0.3.
/// error-code>`.
const VALUE: usize = 20;

/// Whose `error-code` a host stream's outcome carries.
#[derive(Clone, Copy, PartialEq)]
pub enum Errors {
    /// `wasi:cli/types`: an enum.
    Cli,
    /// `wasi:filesystem/types@0.3`: a variant with `other(option<string>)`,
    /// so the code sits at offset 4.
    Filesystem,
    /// `wasi:sockets/types@0.3`: likewise.
    Sockets,
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
        errors: Errors::Cli,
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
    host_reader(Ok(Side::Source(fd)), 1, Errors::Cli)
}

/// Takes the readable end `h` of a byte stream from the program for the
/// host, which writes what it reads to `fd` (`wasi:cli/stdout`'s); the
/// handle of the future of its outcome.
pub fn host_sink(h: i32, fd: Fd) -> u32 {
    host_writer(h, Ok(Side::Sink(fd)), Errors::Cli)
}

/// A host stream (elements of `elem` bytes) from `writer` with its outcome
/// future, both read by the program: their handles. A writer that failed
/// to start (`Err(code)`): the stream ends at once, the outcome is the
/// error.
pub fn host_reader(writer: Result<Side, u8>, elem: u32, errors: Errors) -> (u32, u32) {
    let c = new_channel(false, elem, Side::Dropped, Side::Dropped);
    let (f, future) = outcome_future(errors);
    let ch = channel(c);
    ch.errors = errors;
    match writer {
        Ok(w) => {
            ch.writer = w;
            ch.outcome = f + 1;
        }
        Err(code) => set_value(f, errors, Err(code)),
    }
    (guest_end(c, true), future)
}

/// Takes the readable end `h` of a byte stream from the program for the
/// host's `reader` (or, where that failed to start, `Err(code)`: the
/// program's writes find the stream dropped); the handle of the future of
/// its outcome.
pub fn host_writer(h: i32, reader: Result<Side, u8>, errors: Errors) -> u32 {
    let e = state::table().get::<End>(h);
    if !e.readable || e.future {
        trap_at(Text::WrongType, h as u32)
    }
    if e.state != CopyState::Idle {
        trap(Text::EndBusy)
    }
    let c = state::table().delete::<End>(h).channel;
    let (f, future) = outcome_future(errors);
    let ch = channel(c);
    ch.errors = errors;
    match reader {
        Ok(r) => {
            ch.reader = r;
            ch.outcome = f + 1;
        }
        Err(code) => {
            ch.reader = Side::Dropped;
            set_value(f, errors, Err(code));
        }
    }
    // What the program wrote before it passed the stream on.
    if let Some(p) = ch.pending.take() {
        let payload = to_host(c, p.ptr, p.n);
        set_event(p.end, EVENT_STREAM_WRITE, payload);
    }
    free_if_done(c);
    future
}

/// A `future<result<_, error-code>>` the host writes and the program
/// reads: (channel, handle).
fn outcome_future(errors: Errors) -> (u32, u32) {
    let elem = match errors {
        Errors::Cli => 2,
        Errors::Filesystem | Errors::Sockets => VALUE as u32,
    };
    let f = new_channel(true, elem, Side::Dropped, Side::Host);
    (f, guest_end(f, true))
}

/// Sets host future `f`'s value: `result<_, error-code>`, completing a
/// read that waits for it.
fn set_value(f: u32, errors: Errors, r: Result<(), u8>) {
    let mut value = [0u8; VALUE];
    if let Err(e) = r {
        value[0] = 1;
        match errors {
            Errors::Cli => value[1] = e,
            // `other`'s `option<string>` stays `none`.
            Errors::Filesystem | Errors::Sockets => value[4] = e,
        }
    }
    let fc = channel(f);
    fc.value = Some(value);
    let n = fc.elem as usize;
    if let Some(p) = fc.pending.take() {
        unsafe { core::ptr::copy_nonoverlapping(value.as_ptr(), p.ptr as *mut u8, n) };
        set_event(p.end, EVENT_FUTURE_READ, COMPLETED);
    }
    free_if_done(f);
}

/// Resolves host stream `c`'s outcome: `Ok`, or `Err(code)` (a
/// `wasi:cli/types.error-code`).
fn resolve(c: u32, r: Result<(), u8>) {
    let f = channel(c).outcome;
    if f == 0 {
        return;
    }
    let errors = channel(c).errors;
    channel(c).outcome = 0;
    set_value(f - 1, errors, r);
}

/// The `error-code` (of channel `c`'s kind) for a failed host call.
fn error(c: u32, e: p1::Errno) -> u8 {
    match channel(c).errors {
        Errors::Cli if e == wasi::ERRNO_PIPE => 2,
        Errors::Cli => 0,
        Errors::Filesystem => crate::p3::filesystem::error_code(e),
        Errors::Sockets => sockets::op(sockets::ERROR_CODE, e.raw() as i32, 0, 0) as u8,
    }
}

/// The host end `side` goes: what it held goes with it.
fn release(side: Side) {
    unsafe {
        match side {
            Side::Input(h) => crate::io::streams::drop_input_stream(h as i32),
            Side::Output(h) => {
                // The end of a connection's send stream is its FIN.
                sockets::op(sockets::FINISH_SEND, h as i32, 0, 0);
                crate::io::streams::drop_output_stream(h as i32)
            }
            Side::Entries(h) => {
                listing::op(listing::DROP, h as i32, 0);
            }
            _ => {}
        }
    }
    // A socket the program dropped may go with its last stream.
    if matches!(side, Side::Input(_) | Side::Output(_)) {
        sockets::op(sockets::REAP, 0, 0, 0);
    }
}

/// A host stream of `elem`-byte elements from `writer`, read by the
/// program, without an outcome future (`listen`'s): its handle.
pub fn host_stream(writer: Side, elem: u32) -> u32 {
    let c = new_channel(false, elem, Side::Dropped, writer);
    guest_end(c, true)
}

/// The host's end of `c` (its reader if `reader`) ends, with outcome `r`.
fn host_ended(c: u32, reader: bool, r: Result<(), u8>) {
    let ch = channel(c);
    let side = if reader {
        core::mem::replace(&mut ch.reader, Side::Dropped)
    } else {
        core::mem::replace(&mut ch.writer, Side::Dropped)
    };
    release(side);
    resolve(c, r);
}

/// The payload of a host read or write on `c` that moved `r` elements; one
/// that found the end or failed ends the host's side (its reader if
/// `reader`), with that outcome.
fn host_result(c: u32, reader: bool, r: Result<usize, StreamError>) -> u32 {
    let outcome = match r {
        Ok(n) => return COMPLETED | (n as u32) << 4,
        Err(StreamError::Closed) => Ok(()),
        Err(StreamError::Failed(e)) => Err(error(c, e)),
    };
    host_ended(c, reader, outcome);
    DROPPED
}

/// Moves `n` elements at `ptr` to the host reader of `c`.
fn to_host(c: u32, ptr: u32, n: u32) -> u32 {
    let (buf, len) = (ptr as *const u8, n as usize);
    let r = match channel(c).reader {
        Side::Sink(fd) => p1::write_all(fd, buf, len).map_err(StreamError::Failed),
        Side::Output(h) => crate::io::write(
            state::table().get::<crate::io::OutputStream>(h as i32),
            buf,
            len,
        ),
        _ => return DROPPED,
    };
    host_result(c, true, r.map(|()| len))
}

/// Whether a read of `fd` would wait now.
fn would_block(fd: Fd) -> bool {
    crate::io::may_block(fd) && !crate::io::poll_one(crate::io::Pollable::Read(fd), false)
}

/// Reads into the program's read `p` from the host writer of `c`; `None`
/// if nothing is there yet (a pipe, a socket, a listener). `ready`: the
/// event loop found its fd ready (asked again, some hosts say no: Node's
/// zero timeout).
fn from_host(c: u32, p: &Pending, ready: bool) -> Option<u32> {
    Some(match channel(c).writer {
        Side::Source(fd) if !ready && would_block(fd) => return None,
        Side::Source(fd) => {
            let r = match p1::read(fd, p.ptr as *mut u8, p.n as usize) {
                Ok(0) => Err(StreamError::Closed),
                r => r.map_err(StreamError::Failed),
            };
            host_result(c, false, r)
        }
        Side::Accept(s) => match sockets::op(sockets::ACCEPT, s as i32, p.ptr as i32, p.n as i32) {
            0 => return None,
            k if k > 0 => COMPLETED | (k as u32) << 4,
            _ => {
                host_ended(c, false, Ok(()));
                DROPPED
            }
        },
        Side::Input(h) => {
            let s = state::table().get::<crate::io::InputStream>(h as i32);
            if !ready && s.may_block && would_block(s.fd) {
                return None;
            }
            let r = crate::io::read_into(s, p.ptr as *mut u8, p.n as usize, true);
            host_result(c, false, r)
        }
        Side::Entries(h) => {
            let mut k = 0;
            let mut end = None;
            while k < p.n {
                let at = p.ptr + k * channel(c).elem;
                match listing::op(listing::NEXT, h as i32, at as i32) {
                    1 => k += 1,
                    0 => {
                        end = Some(Ok(()));
                        break;
                    }
                    e => {
                        end = Some(Err((e - 2) as u8));
                        break;
                    }
                }
            }
            match end {
                // What was listed first; the end comes with the next read.
                Some(r) if k == 0 => {
                    host_ended(c, false, r);
                    DROPPED
                }
                Some(r) => {
                    host_ended(c, false, r);
                    COMPLETED | k << 4
                }
                None => COMPLETED | k << 4,
            }
        }
        _ => DROPPED,
    })
}

impl Channel {
    /// The fd of a host source a read of the program's waits on.
    pub fn blocked_source(&self) -> Option<Fd> {
        match (self.writer, self.pending) {
            (_, Some(p)) if p.write => None,
            (Side::Source(fd), Some(_)) => Some(fd),
            (Side::Input(h), Some(_)) => {
                Some(state::table().get::<crate::io::InputStream>(h as i32).fd)
            }
            (Side::Accept(s), Some(_)) => {
                let fd = sockets::op(sockets::LISTENER_FD, s as i32, 0, 0);
                (fd >= 0).then_some(fd as Fd)
            }
            _ => None,
        }
    }
}

/// The event loop found source `c`'s fd readable: the pending read reads.
pub fn source_ready(c: u32) {
    let Some(p) = channel(c).pending.take() else {
        return;
    };
    match from_host(c, &p, true) {
        Some(payload) => set_event(p.end, EVENT_STREAM_READ, payload),
        None => channel(c).pending = Some(p),
    }
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
        Side::Sink(_) | Side::Output(_) => Some(to_host(c, op.ptr, op.n)),
        Side::Source(_) | Side::Input(_) | Side::Entries(_) | Side::Accept(_) => {
            let r = from_host(c, &op, false);
            if r.is_none() {
                channel(c).pending = Some(op);
            }
            r
        }
        // The host reads (and drops) what it is given.
        Side::Host if op.write => Some(match ch.future {
            true => COMPLETED,
            false => COMPLETED | op.n << 4,
        }),
        Side::Host => match ch.value {
            Some(v) => {
                let n = ch.elem as usize;
                unsafe { core::ptr::copy_nonoverlapping(v.as_ptr(), op.ptr as *mut u8, n) };
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
        Side::Sink(_)
        | Side::Source(_)
        | Side::Input(_)
        | Side::Output(_)
        | Side::Entries(_)
        | Side::Accept(_) => host_ended(c, !readable, Ok(())),
        _ => {}
    }
    free_if_done(c);
}

fn free_if_done(c: u32) {
    let ch = channel(c);
    let gone = |s: Side| matches!(s, Side::Dropped | Side::Host);
    if gone(ch.reader) && gone(ch.writer) && ch.outcome == 0 {
        *task().channels.get_mut(c as usize).or_trap() = None;
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
