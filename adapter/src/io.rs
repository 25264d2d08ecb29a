//! `wasi:io`: errors, pollables and `poll`, and streams over preview1 fds.

use crate::abi::put_list;
use crate::table::Fd;
use crate::{p1, put, state, trap, Text};
use alloc::vec;
use alloc::vec::Vec;

/// An `error` resource: the preview1 errno behind a failed stream operation.
pub struct Error {
    pub errno: u16,
}

/// What a pollable waits for.
#[derive(Clone, Copy)]
pub enum Pollable {
    /// The monotonic clock reaching this instant (ns).
    Clock(u64),
    /// The fd being readable / writable.
    Read(Fd),
    Write(Fd),
    /// Always ready (regular files, which never block).
    Ready,
}

#[link(wasm_import_module = "__linker__")]
extern "C" {
    /// [`crate::sockets::tcp::stream_io`] when the program can create a TCP
    /// socket, else a stub: so a program without sockets imports no `sock_*`
    /// function (hosts such as wasm3 have none).
    fn tcp_io(send: i32, socket: i32, fd: i32, buf: i32, len: i32) -> i32;
    /// [`file_io`] when the program can open a file stream, else a stub:
    /// so a program whose streams are only stdio keeps no file paths.
    #[link_name = "file_io"]
    fn linked_file_io(op: i32, fd: i32, buf: i32, len: i32, at: i64) -> i64;
}

/// The operations of [`file_io`].
const PREAD: i32 = 0;
const PWRITE: i32 = 1;
const APPEND: i32 = 2;
const RELEASE: i32 = 3;

/// A file stream's operation, for the streams here (`__linker__.file_io`):
/// read `buf[..len]` at `at` (its count), write it all at `at` or
/// appending (`at`: the fd flags), or release the stream's fd; a negated
/// errno when that fails.
#[export_name = "wasi-downlevel:file-io"]
pub unsafe extern "C" fn file_io(op: i32, fd: i32, buf: i32, len: i32, at: i64) -> i64 {
    let (fd, buf, len) = (fd as Fd, buf as *mut u8, len as usize);
    let r = match op {
        PREAD => p1::pread(fd, buf, len, at as u64),
        PWRITE => p1::pwrite_all(fd, buf, len, at as u64).map(|()| 0),
        APPEND => p1::append_all(fd, buf, len, at as u16).map(|()| 0),
        _ => {
            crate::fds::release(fd);
            Ok(0)
        }
    };
    match r {
        Ok(n) => n as i64,
        Err(e) => -(e.raw() as i64),
    }
}

/// A file stream's operation through the linker's binding.
fn file_op(op: i32, fd: Fd, buf: *const u8, len: usize, at: u64) -> Result<usize, p1::Errno> {
    match unsafe { linked_file_io(op, fd as i32, buf as i32, len as i32, at as i64) } {
        n if n >= 0 => Ok(n as usize),
        e => Err(p1::errno(-e as i32)),
    }
}

/// Receives into, or sends all of, `buf[..len]` on socket `socket` (fd
/// `fd`); how much it received.
fn socket_io(
    send: bool,
    socket: i32,
    fd: Fd,
    buf: *mut u8,
    len: usize,
) -> Result<usize, p1::Errno> {
    match unsafe { tcp_io(send as i32, socket, fd as i32, buf as i32, len as i32) } {
        n if n >= 0 => Ok(n as usize),
        e => Err(p1::errno(-e)),
    }
}

/// Where a stream reads or writes.
#[derive(Clone, Copy, PartialEq)]
pub enum Pos {
    /// At the fd's own position (stdio, pipes).
    Fd,
    /// A file stream at its own offset, so several streams on one file
    /// never disturb each other.
    At(u64),
    /// At the end of the file (`append-via-stream`), whose fd has these
    /// fd flags of its own.
    Append(u16),
    /// A connected socket (its handle): `sock_recv`/`sock_send` (some hosts
    /// refuse `fd_read`/`fd_write` on sockets). Once the socket's direction
    /// has ended (the peer closed it, or the program shut it down), every
    /// operation is `closed`, as natively.
    Socket(i32),
    /// A file stream on a descriptor opened without the right to read (or
    /// write) it: every operation fails with `bad-descriptor`, as the OS
    /// reports on a native host.
    Denied,
}

impl Pos {
    /// Whether the stream shares an fd opened by `open-at` (released when
    /// the stream goes) rather than one it does not own (stdio, a socket).
    fn shares_file(self) -> bool {
        !matches!(self, Pos::Fd | Pos::Socket(_))
    }
}

/// A stream over a preview1 fd.
pub struct InputStream {
    pub fd: Fd,
    /// Whether reading may block (not a regular file): then a non-blocking
    /// `read` asks `poll_oneoff` first.
    pub may_block: bool,
    pub pos: Pos,
    /// An operation failed or found the end: every later one is `closed`
    /// (as the spec says of `last-operation-failed`, and as the reference
    /// host does even if the file grows).
    ended: bool,
}

pub struct OutputStream {
    pub fd: Fd,
    pub may_block: bool,
    pub pos: Pos,
    ended: bool,
}

pub fn may_block(fd: Fd) -> bool {
    p1::filetype(fd) != Some(wasi::FILETYPE_REGULAR_FILE)
}

impl InputStream {
    /// Stdin-like: at the fd's own position.
    pub fn new(fd: Fd) -> InputStream {
        InputStream::at(fd, may_block(fd), Pos::Fd)
    }

    pub fn at(fd: Fd, may_block: bool, pos: Pos) -> InputStream {
        InputStream {
            fd,
            may_block,
            pos,
            ended: false,
        }
    }
}

impl OutputStream {
    /// Stdout-like: at the fd's own position.
    pub fn new(fd: Fd) -> OutputStream {
        OutputStream::at(fd, may_block(fd), Pos::Fd)
    }

    pub fn at(fd: Fd, may_block: bool, pos: Pos) -> OutputStream {
        OutputStream {
            fd,
            may_block,
            pos,
            ended: false,
        }
    }
}

/// How a stream operation failed.
pub enum StreamError {
    Failed(p1::Errno),
    Closed,
}

impl From<p1::Errno> for StreamError {
    fn from(e: p1::Errno) -> Self {
        StreamError::Failed(e)
    }
}

/// The most bytes one `read` or `skip` moves: bounds the buffer allocated
/// before preview1 says how much there is.
const MAX_READ: usize = 1 << 20;
/// The write budget `check-write` grants (preview1 writes block until done).
const WRITE_BUDGET: u64 = 1 << 20;
/// Scratch size for skip, splice and write-zeroes.
const CHUNK: usize = 64 << 10;

/// Writes the error case of a `result<_, stream-error>` whose payload sits at
/// `off` in the return area.
unsafe fn put_stream_error(ret: i32, off: usize, e: StreamError) {
    put(ret, 0, 1u8);
    match e {
        StreamError::Failed(errno) => {
            let h = state::table().push(Error { errno: errno.raw() }, 0);
            put(ret, off, 0u8);
            put(ret, off + 4, h);
        }
        StreamError::Closed => put(ret, off, 1u8),
    }
}

/// Writes `result<u64, stream-error>`.
unsafe fn put_u64_result(ret: i32, r: Result<u64, StreamError>) {
    match r {
        Ok(n) => {
            put(ret, 0, 0u8);
            put(ret, 8, n);
        }
        Err(e) => put_stream_error(ret, 8, e),
    }
}

/// Writes `result<_, stream-error>`.
unsafe fn put_unit_result(ret: i32, r: Result<(), StreamError>) {
    match r {
        Ok(()) => put(ret, 0, 0u8),
        Err(e) => put_stream_error(ret, 4, e),
    }
}

/// Whether `fd` can be read (or written) without blocking right now.
fn fd_ready(fd: Fd, write: bool) -> bool {
    let p = if write {
        Pollable::Write(fd)
    } else {
        Pollable::Read(fd)
    };
    poll_one(p, false)
}

fn known_readable(fd: Fd) -> bool {
    state::readable().contains(&fd)
}

/// Reads up to `len` bytes from `s` into `buf`. Non-blocking unless
/// `blocking`: then `Ok(0)` means nothing is there yet.
pub fn read_into(
    s: &mut InputStream,
    buf: *mut u8,
    len: usize,
    blocking: bool,
) -> Result<usize, StreamError> {
    if s.ended {
        return Err(StreamError::Closed);
    }
    let r = read_from(s, buf, len, blocking);
    s.ended = r.is_err();
    r
}

fn read_from(
    s: &mut InputStream,
    buf: *mut u8,
    len: usize,
    blocking: bool,
) -> Result<usize, StreamError> {
    if let Pos::Socket(h) = s.pos {
        if crate::sockets::tcp::ended(h, false) {
            return Err(StreamError::Closed);
        }
    }
    if len == 0 || (!blocking && s.may_block && !known_readable(s.fd) && !fd_ready(s.fd, false)) {
        return Ok(0);
    }
    let n = match s.pos {
        Pos::At(offset) => {
            let n = file_op(PREAD, s.fd, buf, len, offset)?;
            s.pos = Pos::At(offset + n as u64);
            n
        }
        Pos::Denied => return Err(StreamError::Failed(wasi::ERRNO_BADF)),
        Pos::Socket(h) => {
            state::readable().retain(|&fd| fd != s.fd);
            socket_io(false, h, s.fd, buf, len)?
        }
        _ => {
            state::readable().retain(|&fd| fd != s.fd);
            p1::read(s.fd, buf, len).map_err(|e| {
                // A directory as stdin: natively `is-directory`, whatever
                // errno the host gives (Node: `notcapable`).
                if p1::filetype(s.fd) == Some(wasi::FILETYPE_DIRECTORY) {
                    wasi::ERRNO_ISDIR
                } else {
                    e
                }
            })?
        }
    };
    match n {
        0 => Err(StreamError::Closed),
        n => Ok(n),
    }
}

/// `read`/`blocking-read`: the bytes land directly in a buffer from the
/// program's `cabi_realloc`, which becomes the returned list.
unsafe fn read(handle: i32, len: i64, ret: i32, blocking: bool) {
    let s = state::table().get::<InputStream>(handle);
    let len = (len as u64).min(MAX_READ as u64) as usize;
    if s.ended {
        return put_stream_error(ret, 4, StreamError::Closed);
    }
    if let Pos::Socket(h) = s.pos {
        if crate::sockets::tcp::ended(h, false) {
            return put_stream_error(ret, 4, StreamError::Closed);
        }
    }
    if !blocking && len != 0 && s.may_block && !known_readable(s.fd) && !fd_ready(s.fd, false) {
        return put_list(ret, crate::program_alloc(1, 0), 0);
    }
    let buf = crate::program_alloc(1, len);
    match read_into(s, buf, len, true) {
        Ok(n) => put_list(ret, crate::program_shrink(buf, len, 1, n.max(1)), n),
        Err(e) => {
            // The program never sees this buffer; shrink what it costs (the
            // canonical ABI gives no way to free it).
            crate::program_shrink(buf, len, 1, 1);
            put_stream_error(ret, 4, e)
        }
    }
}

/// Reads and discards up to `len` bytes.
fn skip(handle: i32, len: i64, blocking: bool) -> Result<u64, StreamError> {
    let s = state::table().get::<InputStream>(handle);
    let len = (len as u64).min(CHUNK as u64) as usize;
    let mut buf: Vec<u8> = vec![0; len];
    Ok(read_into(s, buf.as_mut_ptr(), len, blocking)? as u64)
}

pub fn write(s: &mut OutputStream, buf: *const u8, len: usize) -> Result<(), StreamError> {
    if s.ended {
        return Err(StreamError::Closed);
    }
    // The reader has gone: natively the stream is `closed`, not failed.
    // wasmtime's preview1 reports that as `io` (and a terminal that hung up
    // does too); on a pipe or device nothing else gives `io`.
    let r = write_at(s, buf, len).map_err(|e| match e {
        StreamError::Failed(wasi::ERRNO_PIPE) => StreamError::Closed,
        StreamError::Failed(wasi::ERRNO_IO) if s.may_block && s.pos == Pos::Fd => {
            StreamError::Closed
        }
        e => e,
    });
    s.ended = r.is_err();
    r
}

fn write_at(s: &mut OutputStream, buf: *const u8, len: usize) -> Result<(), StreamError> {
    match s.pos {
        Pos::Fd => p1::write_all(s.fd, buf, len)?,
        Pos::At(offset) => {
            file_op(PWRITE, s.fd, buf, len, offset)?;
            s.pos = Pos::At(offset + len as u64);
        }
        // No p2 call uses the fd's own position, so appending may move it.
        Pos::Append(flags) => {
            file_op(APPEND, s.fd, buf, len, flags as u64)?;
        }
        Pos::Denied => return Err(StreamError::Failed(wasi::ERRNO_BADF)),
        Pos::Socket(h) if crate::sockets::tcp::ended(h, true) => return Err(StreamError::Closed),
        Pos::Socket(h) => {
            socket_io(true, h, s.fd, buf as *mut u8, len)?;
        }
    }
    Ok(())
}

fn write_zeroes(handle: i32, len: i64) -> Result<(), StreamError> {
    let s = state::table().get::<OutputStream>(handle);
    if s.ended {
        return Err(StreamError::Closed);
    }
    let zeroes: Vec<u8> = vec![0; (len as u64).min(CHUNK as u64) as usize];
    let mut left = len as u64;
    while left > 0 {
        let n = left.min(CHUNK as u64) as usize;
        write(s, zeroes.as_ptr(), n)?;
        left -= n as u64;
    }
    Ok(())
}

/// Moves up to `len` bytes from `src` to `dst`.
fn splice(dst: i32, src: i32, len: i64, blocking: bool) -> Result<u64, StreamError> {
    let table = state::table();
    let d = table.get::<OutputStream>(dst) as *mut OutputStream;
    let s = table.get::<InputStream>(src);
    let len = (len as u64).min(CHUNK as u64) as usize;
    let mut buf: Vec<u8> = vec![0; len];
    let n = read_into(s, buf.as_mut_ptr(), len, blocking)?;
    write(unsafe { &mut *d }, buf.as_ptr(), n)?;
    Ok(n as u64)
}

/// Waits until at least one of `pollables` is ready (or `timeout` ns have
/// passed) and returns the indexes of the ready ones, in order.
///
/// Each fd is subscribed once per direction, however many pollables wait on
/// it: some hosts (uvwasi, Node) report one event for several subscriptions
/// of one fd, and an event then stands for all of them.
pub fn poll(pollables: &[Pollable], timeout: Option<u64>) -> Vec<u32> {
    const TIMER: u64 = u64::MAX;
    // The distinct (fd, write) pairs pollables wait on, and (pollable,
    // pair) for each such pollable: one subscription per pair, whose
    // userdata is the pair's index. (Found by a linear search, not a sort:
    // lists hold few distinct fds, and a sort would cost every program its
    // code.)
    let mut groups: Vec<(Fd, bool)> = Vec::new();
    let mut waits: Vec<(u32, u32)> = Vec::new();
    for (i, p) in pollables.iter().enumerate() {
        let key = match *p {
            Pollable::Read(f) => (f, false),
            Pollable::Write(f) => (f, true),
            _ => continue,
        };
        let g = groups.iter().position(|&k| k == key).unwrap_or_else(|| {
            groups.push(key);
            groups.len() - 1
        });
        waits.push((i as u32, g as u32));
    }
    loop {
        let now = p1::monotonic_now();
        let mut ready = vec![false; pollables.len()];
        let mut any = false;
        let mut wait = timeout;
        for (r, p) in ready.iter_mut().zip(pollables) {
            let due = match *p {
                Pollable::Clock(at) if at > now => {
                    wait = Some(wait.map_or(at - now, |w| w.min(at - now)));
                    false
                }
                Pollable::Clock(_) | Pollable::Ready => true,
                // Found readable before and not read since.
                Pollable::Read(f) => known_readable(f),
                Pollable::Write(_) => false,
            };
            if due {
                *r = true;
                any = true;
            }
        }
        let mut subs: Vec<wasi::Subscription> = Vec::new();
        for (g, &(fd, write)) in groups.iter().enumerate() {
            if write || !known_readable(fd) {
                subs.push(p1::fd_subscription(g as u64, fd, write));
            }
        }
        let indexes = |ready: &[bool]| {
            ready
                .iter()
                .enumerate()
                .filter(|(_, &r)| r)
                .map(|(i, _)| i as u32)
                .collect::<Vec<u32>>()
        };
        // Nothing to ask the host about, and no need to wait.
        if subs.is_empty() && (any || timeout == Some(0)) {
            return indexes(&ready);
        }
        if any {
            wait = Some(0);
        }
        if let Some(ns) = wait {
            subs.push(p1::timer_subscription(TIMER, ns));
        }
        // Pair `g` is ready: every pollable waiting on it. (No indexing: a
        // bounds check's panic location would be a data segment.)
        let mark = |g: usize, ready: &mut [bool]| {
            let Some(&(fd, write)) = groups.get(g) else {
                return;
            };
            for &(i, _) in waits.iter().filter(|w| w.1 as usize == g) {
                if let Some(r) = ready.get_mut(i as usize) {
                    *r = true;
                }
            }
            if !write && !known_readable(fd) {
                state::readable().push(fd);
            }
        };
        let events = match p1::poll_oneoff(&subs) {
            // Nothing without a timer: the host did not wait (it cannot
            // poll fds, or never reports events); as when it refuses.
            Ok(events) if !events.is_empty() || wait.is_some() => events,
            // Some hosts (Node) cannot poll some fds (files, /dev/null):
            // call them ready, and let the read or write that follows wait.
            // They stay ready until read, as if a poll had found them so.
            _ => {
                for s in subs.iter().filter(|s| s.userdata != TIMER) {
                    mark(s.userdata as usize, &mut ready);
                }
                return indexes(&ready);
            }
        };
        // Only events for what was asked: a host's stray userdata is no
        // pair.
        for e in &events {
            let g = e.userdata as usize;
            if g < groups.len() {
                mark(g, &mut ready);
                any = true;
            }
        }
        if !any && timeout.is_none() {
            // Only the timer fired: a clock pollable is due now.
            let now = p1::monotonic_now();
            for (r, p) in ready.iter_mut().zip(pollables) {
                if matches!(p, Pollable::Clock(at) if *at <= now) {
                    *r = true;
                    any = true;
                }
            }
        }
        if any || timeout.is_some() {
            return indexes(&ready);
        }
    }
}

pub mod error {
    use super::*;

    pub unsafe fn drop_error(handle: i32) {
        state::table().delete::<Error>(handle);
    }

    /// "preview1 errno N": the errno is what a preview1 host reported.
    pub unsafe fn error_to_debug_string(handle: i32, ret: i32) {
        let errno = state::table().get::<Error>(handle).errno;
        // From integer constants: the adapter keeps no strings in memory.
        let mut s: Vec<u8> = Vec::with_capacity(24);
        s.extend_from_slice(&u64::from_le_bytes(*b"preview1").to_le_bytes());
        s.extend_from_slice(&u64::from_le_bytes(*b" errno  ").to_le_bytes());
        s.truncate(15);
        let start = s.len();
        let mut v = errno;
        loop {
            s.push(b'0' + (v % 10) as u8);
            v /= 10;
            if v == 0 {
                break;
            }
        }
        if let Some(digits) = s.get_mut(start..) {
            digits.reverse();
        }
        crate::abi::put_string(ret, &s);
    }
}

/// [`poll`] for one pollable, as `block` (`wait`) and `ready` ask: the same
/// answers without its lists, which every program that blocks on a stream
/// would otherwise keep.
pub fn poll_one(p: Pollable, wait: bool) -> bool {
    const TIMER: u64 = 1;
    loop {
        let (fd, write) = match p {
            Pollable::Ready => return true,
            Pollable::Clock(at) => {
                let now = p1::monotonic_now();
                if at <= now {
                    return true;
                }
                // A host that cannot wait: `poll` returns too.
                if !wait || p1::poll_oneoff(&[p1::timer_subscription(TIMER, at - now)]).is_err() {
                    return false;
                }
                continue;
            }
            // Found readable before and not read since.
            Pollable::Read(f) if known_readable(f) => return true,
            Pollable::Read(f) => (f, false),
            Pollable::Write(f) => (f, true),
        };
        let subs = [
            p1::fd_subscription(0, fd, write),
            p1::timer_subscription(TIMER, 0),
        ];
        let ready = match p1::poll_oneoff(if wait { &subs[..1] } else { &subs }) {
            Ok(events) if !events.is_empty() || !wait => events.iter().any(|e| e.userdata == 0),
            // As in `poll`: a host that cannot poll the fd has it ready.
            _ => true,
        };
        if ready && !write && !known_readable(fd) {
            state::readable().push(fd);
        }
        if ready || !wait {
            return ready;
        }
    }
}

pub mod poll {
    use super::*;

    pub unsafe fn poll(list: i32, len: i32, ret: i32) {
        if len == 0 {
            trap(Text::EmptyPollList)
        }
        let handles = core::slice::from_raw_parts(list as *const i32, len as usize);
        let table = state::table();
        // A list too long to copy is out of memory, not a capacity panic.
        let mut pollables: Vec<Pollable> = Vec::new();
        if pollables.try_reserve_exact(handles.len()).is_err() {
            trap(Text::OutOfMemory)
        }
        pollables.extend(handles.iter().map(|&h| *table.get::<Pollable>(h)));
        let ready = super::poll(&pollables, None);
        let out = crate::program_alloc(4, ready.len() * 4);
        core::ptr::copy_nonoverlapping(ready.as_ptr(), out as *mut u32, ready.len());
        put(ret, 0, out as i32);
        put(ret, 4, ready.len() as i32);
    }

    pub unsafe fn pollable_ready(handle: i32) -> i32 {
        poll_one(*state::table().get::<Pollable>(handle), false) as i32
    }

    pub unsafe fn pollable_block(handle: i32) {
        poll_one(*state::table().get::<Pollable>(handle), true);
    }

    pub unsafe fn drop_pollable(handle: i32) {
        state::table().delete::<Pollable>(handle);
    }
}

pub mod streams {
    use super::*;

    pub unsafe fn input_stream_read(handle: i32, len: i64, ret: i32) {
        read(handle, len, ret, false)
    }

    pub unsafe fn input_stream_blocking_read(handle: i32, len: i64, ret: i32) {
        read(handle, len, ret, true)
    }

    pub unsafe fn input_stream_skip(handle: i32, len: i64, ret: i32) {
        put_u64_result(ret, skip(handle, len, false))
    }

    pub unsafe fn input_stream_blocking_skip(handle: i32, len: i64, ret: i32) {
        put_u64_result(ret, skip(handle, len, true))
    }

    pub unsafe fn input_stream_subscribe(handle: i32) -> i32 {
        let table = state::table();
        let s = table.get::<InputStream>(handle);
        let p = if s.may_block {
            Pollable::Read(s.fd)
        } else {
            Pollable::Ready
        };
        table.push(p, handle as u32)
    }

    pub unsafe fn drop_input_stream(handle: i32) {
        let s = state::table().delete::<InputStream>(handle);
        if s.pos.shares_file() {
            let _ = file_op(RELEASE, s.fd, core::ptr::null(), 0, 0);
        }
    }

    pub unsafe fn output_stream_check_write(handle: i32, ret: i32) {
        let s = state::table().get::<OutputStream>(handle);
        // A socket write blocks until the peer takes it in: grant what the
        // reference host grants (64 KiB), which the kernel's buffers hold.
        let budget = match s.pos {
            Pos::Socket(_) => 64 << 10,
            _ => WRITE_BUDGET,
        };
        put_u64_result(ret, socket_open(s).map(|_| budget))
    }

    pub unsafe fn output_stream_write(handle: i32, ptr: i32, len: i32, ret: i32) {
        let s = state::table().get::<OutputStream>(handle);
        put_unit_result(ret, write(s, ptr as *const u8, len as usize))
    }

    pub unsafe fn output_stream_blocking_write_and_flush(
        handle: i32,
        ptr: i32,
        len: i32,
        ret: i32,
    ) {
        output_stream_write(handle, ptr, len, ret)
    }

    /// Preview1 writes are complete when they return: nothing to flush.
    pub unsafe fn output_stream_flush(handle: i32, ret: i32) {
        let s = state::table().get::<OutputStream>(handle);
        put_unit_result(ret, socket_open(s))
    }

    /// A stream that failed, or a socket stream whose sending has ended, is
    /// `closed`.
    fn socket_open(s: &OutputStream) -> Result<(), StreamError> {
        match s.pos {
            _ if s.ended => Err(StreamError::Closed),
            Pos::Socket(h) if crate::sockets::tcp::ended(h, true) => Err(StreamError::Closed),
            _ => Ok(()),
        }
    }

    pub unsafe fn output_stream_blocking_flush(handle: i32, ret: i32) {
        output_stream_flush(handle, ret)
    }

    pub unsafe fn output_stream_subscribe(handle: i32) -> i32 {
        let table = state::table();
        let s = table.get::<OutputStream>(handle);
        // Writes block until done, so `check-write` always grants a budget
        // and the stream is always ready, as stdout is natively; a socket's
        // readiness is its own.
        let p = if matches!(s.pos, Pos::Socket(_)) {
            Pollable::Write(s.fd)
        } else {
            Pollable::Ready
        };
        table.push(p, handle as u32)
    }

    pub unsafe fn output_stream_write_zeroes(handle: i32, len: i64, ret: i32) {
        put_unit_result(ret, write_zeroes(handle, len))
    }

    pub unsafe fn output_stream_blocking_write_zeroes_and_flush(handle: i32, len: i64, ret: i32) {
        put_unit_result(ret, write_zeroes(handle, len))
    }

    pub unsafe fn output_stream_splice(handle: i32, src: i32, len: i64, ret: i32) {
        put_u64_result(ret, splice(handle, src, len, false))
    }

    pub unsafe fn output_stream_blocking_splice(handle: i32, src: i32, len: i64, ret: i32) {
        put_u64_result(ret, splice(handle, src, len, true))
    }

    pub unsafe fn drop_output_stream(handle: i32) {
        let s = state::table().delete::<OutputStream>(handle);
        if s.pos.shares_file() {
            let _ = file_op(RELEASE, s.fd, core::ptr::null(), 0, 0);
        }
    }
}
