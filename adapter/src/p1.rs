//! Thin helpers over the preview1 calls (the `wasi` 0.11 crate's bindings)
//! that several WASI 0.2 packages share.

use crate::table::Fd;
pub use wasi::Errno;

/// Reads into `buf[..len]` from the fd's current position; 0 means EOF.
pub fn read(fd: Fd, buf: *mut u8, len: usize) -> Result<usize, Errno> {
    unsafe { wasi::fd_read(fd, &[wasi::Iovec { buf, buf_len: len }]) }
}

/// Hands `buf[..len]` to `write` (which returns how much it took) until all
/// of it is gone, so a short preview1 write never loses data.
fn all(
    mut buf: *const u8,
    mut len: usize,
    mut write: impl FnMut(wasi::Ciovec, u64) -> Result<usize, Errno>,
) -> Result<(), Errno> {
    let mut done = 0u64;
    while len > 0 {
        let n = write(wasi::Ciovec { buf, buf_len: len }, done)?;
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
    all(buf, len, |iov, _| unsafe { wasi::fd_write(fd, &[iov]) })
}

/// Reads into `buf[..len]` at `offset`, leaving the fd's position alone.
pub fn pread(fd: Fd, buf: *mut u8, len: usize, offset: u64) -> Result<usize, Errno> {
    unsafe { wasi::fd_pread(fd, &[wasi::Iovec { buf, buf_len: len }], offset) }
}

/// Writes all of `buf[..len]` at `offset`.
pub fn pwrite_all(fd: Fd, buf: *const u8, len: usize, offset: u64) -> Result<(), Errno> {
    all(buf, len, |iov, done| unsafe {
        wasi::fd_pwrite(fd, &[iov], offset + done)
    })
}

/// Sends all of `buf[..len]` on a socket.
pub fn send_all(fd: Fd, buf: *const u8, len: usize) -> Result<(), Errno> {
    all(buf, len, |iov, _| unsafe { wasi::sock_send(fd, &[iov], 0) })
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
