//! Thin helpers over the preview1 calls (the `wasi` 0.11 crate's bindings)
//! that several WASI 0.2 packages share.
//!
//! Calls that report a count go through [`counted`]: hosts that get
//! preview1 wrong (browser shims that never write `nevents`, say) must cost
//! the program an error code at worst, never a trap or a wild write.

use crate::table::Fd;
use alloc::vec::Vec;
use wasi::wasi_snapshot_preview1 as raw;
pub use wasi::Errno;

pub fn errno(e: i32) -> Errno {
    // `Errno` is a `repr(transparent)` u16 the crate gives no constructor for.
    unsafe { core::mem::transmute::<u16, Errno>(e as u16) }
}

/// Runs a preview1 call that reports a count through the pointer it is
/// given. The count is zeroed before (a host that never writes it reports
/// nothing) and clamped to `max` after (a host cannot report more than it
/// was given room for).
pub fn counted(max: usize, call: impl FnOnce(i32) -> i32) -> Result<usize, Errno> {
    let mut n: usize = 0;
    match call(&mut n as *mut usize as i32) {
        0 => Ok(n.min(max)),
        e => Err(errno(e)),
    }
}

/// An I/O call on `fd` that reports a count (as [`counted`]), made again
/// when the host says it was interrupted (`intr`) or would block (`again`:
/// once `fd` is ready, for writing if `write`), as a blocking call must:
/// such an answer is no failure of the program's.
fn io(fd: Fd, write: bool, max: usize, mut call: impl FnMut(i32) -> i32) -> Result<usize, Errno> {
    let mut retries = 0u32;
    loop {
        match counted(max, &mut call) {
            // Bounded: a host that never stops saying so is failing.
            Err(e) if (e == wasi::ERRNO_INTR || e == wasi::ERRNO_AGAIN) && retries < 100_000 => {
                retries += 1;
                if e == wasi::ERRNO_AGAIN {
                    wait(fd, write);
                }
            }
            r => return r,
        }
    }
}

/// Waits until `fd` is ready (for writing if `write`); a host that cannot
/// poll it is given the processor instead.
fn wait(fd: Fd, write: bool) {
    if poll_oneoff(&[fd_subscription(0, fd, write)]).is_err() {
        let _ = unsafe { wasi::sched_yield() };
    }
}

/// A subscription to `fd`'s readiness (for writing if `write`).
pub fn fd_subscription(userdata: u64, fd: Fd, write: bool) -> wasi::Subscription {
    use wasi::{SubscriptionFdReadwrite, SubscriptionU, SubscriptionUU};
    let tag = if write {
        wasi::EVENTTYPE_FD_WRITE
    } else {
        wasi::EVENTTYPE_FD_READ
    };
    wasi::Subscription {
        userdata,
        u: SubscriptionU {
            tag: tag.raw(),
            u: SubscriptionUU {
                fd_read: SubscriptionFdReadwrite {
                    file_descriptor: fd,
                },
            },
        },
    }
}

/// A subscription to the monotonic clock, `ns` from now (at least 1 ns:
/// uvwasi, Node's, treats a zero timeout as none and waits).
pub fn timer_subscription(userdata: u64, ns: u64) -> wasi::Subscription {
    use wasi::{SubscriptionClock, SubscriptionU, SubscriptionUU};
    wasi::Subscription {
        userdata,
        u: SubscriptionU {
            tag: wasi::EVENTTYPE_CLOCK.raw(),
            u: SubscriptionUU {
                clock: SubscriptionClock {
                    id: wasi::CLOCKID_MONOTONIC,
                    timeout: ns.max(1),
                    precision: 0,
                    flags: 0,
                },
            },
        },
    }
}

/// Both sizes `environ_sizes_get` (when `env`) or `args_sizes_get`
/// reports, zeroed before.
pub fn sizes(env: bool) -> (usize, usize) {
    let (mut count, mut size) = (0usize, 0usize);
    let (c, s) = (
        &mut count as *mut usize as i32,
        &mut size as *mut usize as i32,
    );
    let e = unsafe {
        if env {
            raw::environ_sizes_get(c, s)
        } else {
            raw::args_sizes_get(c, s)
        }
    };
    if e == 0 {
        (count, size)
    } else {
        (0, 0)
    }
}

fn iov(buf: *const u8, len: usize) -> wasi::Iovec {
    wasi::Iovec {
        buf: buf as *mut u8,
        buf_len: len,
    }
}

/// Reads into `buf[..len]` from the fd's current position; 0 means EOF.
pub fn read(fd: Fd, buf: *mut u8, len: usize) -> Result<usize, Errno> {
    let v = iov(buf, len);
    io(fd, false, len, |n| unsafe {
        raw::fd_read(fd as i32, &v as *const _ as i32, 1, n)
    })
}

/// Hands `buf[..len]` to `write` (given the iovec, how much is done, and
/// where to report how much it took) until all of it is gone, so a short
/// preview1 write never loses data.
fn all(
    fd: Fd,
    mut buf: *const u8,
    mut len: usize,
    mut write: impl FnMut(i32, u64, i32) -> i32,
) -> Result<(), Errno> {
    let mut done = 0u64;
    while len > 0 {
        let v = iov(buf, len);
        let n = io(fd, true, len, |out| write(&v as *const _ as i32, done, out))?;
        if n == 0 {
            return Err(wasi::ERRNO_IO);
        }
        buf = unsafe { buf.add(n) };
        len -= n;
        done += n as u64;
    }
    Ok(())
}

/// Writes all of `buf[..len]` at the fd's position.
pub fn write_all(fd: Fd, buf: *const u8, len: usize) -> Result<(), Errno> {
    all(fd, buf, len, |v, _, n| unsafe {
        raw::fd_write(fd as i32, v, 1, n)
    })
}

/// Appends all of `buf[..len]` to a file whose own fd flags are `flags`.
/// With `FDFLAGS_APPEND` set for the write where the host allows it (and
/// from the end, for hosts that take the flag and ignore it), then `flags`
/// again (with it, Linux appends writes at an offset too; the host's own
/// report of the flags is not used: Node's are its raw open flags). Where
/// it does not, at the size the host reports: a seek to the end can use a
/// size the host never updated (JS shims), and overwrite.
pub fn append_all(fd: Fd, buf: *const u8, len: usize, flags: u16) -> Result<(), Errno> {
    if unsafe { wasi::fd_fdstat_set_flags(fd, flags | wasi::FDFLAGS_APPEND) }.is_ok() {
        let _ = unsafe { wasi::fd_seek(fd, 0, wasi::WHENCE_END) };
        let r = write_all(fd, buf, len);
        let _ = unsafe { wasi::fd_fdstat_set_flags(fd, flags) };
        return r;
    }
    match unsafe { wasi::fd_filestat_get(fd) } {
        Ok(stat) => pwrite_all(fd, buf, len, stat.size),
        Err(_) => {
            unsafe { wasi::fd_seek(fd, 0, wasi::WHENCE_END)? };
            write_all(fd, buf, len)
        }
    }
}

/// Reads into `buf[..len]` at `offset`, leaving the fd's position alone.
pub fn pread(fd: Fd, buf: *mut u8, len: usize, offset: u64) -> Result<usize, Errno> {
    let v = iov(buf, len);
    io(fd, false, len, |n| unsafe {
        raw::fd_pread(fd as i32, &v as *const _ as i32, 1, offset as i64, n)
    })
}

/// Writes all of `buf[..len]` at `offset`.
pub fn pwrite_all(fd: Fd, buf: *const u8, len: usize, offset: u64) -> Result<(), Errno> {
    all(fd, buf, len, |v, done, n| unsafe {
        raw::fd_pwrite(fd as i32, v, 1, (offset + done) as i64, n)
    })
}

/// Sends all of `buf[..len]` on a socket.
pub fn send_all(fd: Fd, buf: *const u8, len: usize) -> Result<(), Errno> {
    all(fd, buf, len, |v, _, n| unsafe {
        raw::sock_send(fd as i32, v, 1, 0, n)
    })
}

/// Receives into `buf[..len]` from a socket; 0 means the peer has ended.
pub fn recv(fd: Fd, buf: *mut u8, len: usize) -> Result<usize, Errno> {
    let v = iov(buf, len);
    let mut flags = 0u16;
    io(fd, false, len, |n| unsafe {
        raw::sock_recv(
            fd as i32,
            &v as *const _ as i32,
            1,
            0,
            n,
            &mut flags as *mut u16 as i32,
        )
    })
}

/// Fills `buf` with directory entries from `cookie` on; how much it used.
pub fn readdir(fd: Fd, buf: &mut [u8], cookie: u64) -> Result<usize, Errno> {
    counted(buf.len(), |n| unsafe {
        raw::fd_readdir(
            fd as i32,
            buf.as_mut_ptr() as i32,
            buf.len() as i32,
            cookie as i64,
            n,
        )
    })
}

/// Reads the target of the symlink at `path` into `buf`; its length.
pub fn readlink(fd: Fd, path: &str, buf: &mut [u8]) -> Result<usize, Errno> {
    counted(buf.len(), |n| unsafe {
        raw::path_readlink(
            fd as i32,
            path.as_ptr() as i32,
            path.len() as i32,
            buf.as_mut_ptr() as i32,
            buf.len() as i32,
            n,
        )
    })
}

/// Polls `subs`; the events that occurred (at most one per subscription,
/// and only ones the host wrote).
pub fn poll_oneoff(subs: &[wasi::Subscription]) -> Result<Vec<wasi::Event>, Errno> {
    let mut events: Vec<wasi::Event> = Vec::with_capacity(subs.len());
    let out = events.as_mut_ptr();
    let n = counted(subs.len(), |n| unsafe {
        core::ptr::write_bytes(out, 0, subs.len());
        raw::poll_oneoff(subs.as_ptr() as i32, out as i32, subs.len() as i32, n)
    })?;
    // Zeroed, so even a count the host did not back with events is defined.
    unsafe { events.set_len(n) };
    Ok(events)
}

pub fn monotonic_now() -> u64 {
    unsafe { wasi::clock_time_get(wasi::CLOCKID_MONOTONIC, 1) }.unwrap_or(0)
}

pub fn exit(code: u32) -> ! {
    unsafe { wasi::proc_exit(code) };
    crate::trap(crate::Text::ExitReturned)
}

/// The fd's file type, or `None` if it is not open.
pub fn filetype(fd: Fd) -> Option<wasi::Filetype> {
    unsafe { wasi::fd_fdstat_get(fd) }
        .ok()
        .map(|s| s.fs_filetype)
}

/// Whether `fd` is a terminal: a character device that cannot seek (as
/// wasi-libc's `isatty` decides).
pub fn is_terminal(fd: Fd) -> bool {
    match unsafe { wasi::fd_fdstat_get(fd) } {
        Ok(s) => {
            s.fs_filetype == wasi::FILETYPE_CHARACTER_DEVICE
                && s.fs_rights_base & (wasi::RIGHTS_FD_SEEK | wasi::RIGHTS_FD_TELL) == 0
        }
        Err(_) => false,
    }
}
