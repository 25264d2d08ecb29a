//! Thin helpers over the preview1 calls (the `wasi` 0.11 crate's bindings)
//! that several WASI 0.2 packages share.

use crate::table::Fd;
pub use wasi::Errno;

/// Reads into `buf[..len]` from the fd's current position; 0 means EOF.
pub fn read(fd: Fd, buf: *mut u8, len: usize) -> Result<usize, Errno> {
    unsafe { wasi::fd_read(fd, &[wasi::Iovec { buf, buf_len: len }]) }
}

/// Writes all of `buf[..len]`, looping over short writes so nothing is lost.
pub fn write_all(fd: Fd, mut buf: *const u8, mut len: usize) -> Result<(), Errno> {
    while len > 0 {
        let n = unsafe { wasi::fd_write(fd, &[wasi::Ciovec { buf, buf_len: len }])? };
        if n == 0 {
            return Err(wasi::ERRNO_IO);
        }
        buf = unsafe { buf.add(n) };
        len -= n;
    }
    Ok(())
}

/// Reads into `buf[..len]` at `offset`, leaving the fd's position alone.
pub fn pread(fd: Fd, buf: *mut u8, len: usize, offset: u64) -> Result<usize, Errno> {
    unsafe { wasi::fd_pread(fd, &[wasi::Iovec { buf, buf_len: len }], offset) }
}

/// Writes all of `buf[..len]` at `offset`, looping over short writes.
pub fn pwrite_all(
    fd: Fd,
    mut buf: *const u8,
    mut len: usize,
    mut offset: u64,
) -> Result<(), Errno> {
    while len > 0 {
        let n = unsafe { wasi::fd_pwrite(fd, &[wasi::Ciovec { buf, buf_len: len }], offset)? };
        if n == 0 {
            return Err(wasi::ERRNO_IO);
        }
        buf = unsafe { buf.add(n) };
        len -= n;
        offset += n as u64;
    }
    Ok(())
}

/// Sends all of `buf[..len]` on a socket, looping over short sends.
pub fn send_all(fd: Fd, mut buf: *const u8, mut len: usize) -> Result<(), Errno> {
    while len > 0 {
        let n = unsafe { wasi::sock_send(fd, &[wasi::Ciovec { buf, buf_len: len }], 0)? };
        if n == 0 {
            return Err(wasi::ERRNO_IO);
        }
        buf = unsafe { buf.add(n) };
        len -= n;
    }
    Ok(())
}

pub fn monotonic_now() -> u64 {
    unsafe { wasi::clock_time_get(wasi::CLOCKID_MONOTONIC, 1) }.unwrap_or(0)
}

pub fn exit(code: u32) -> ! {
    unsafe { wasi::proc_exit(code) };
    crate::trap()
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
