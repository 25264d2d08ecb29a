//! wasi-libc's readers, lending the caller's buffer: `read` (wasi-libc's
//! `readv` calls it), `recv`/`recvfrom` (one archive member in wasi-libc, so
//! both are replaced), and `pread` (`preadv` calls it).
//!
//! Each does what wasi-libc's does, with the same helpers: the stream or
//! file behind the fd, the error mapping, the file offset, EOF. `recvfrom`
//! and `pread` reach libc's per-descriptor vtable (`descriptor_table_get_ref`)
//! as libc does; the slots used are those of the wasi-libc that the
//! `wasm32-wasip2` Rust target ships (and C programs link), and every case
//! the shim does not read itself goes to libc's own `recvfrom` in that
//! vtable, so its behaviour is libc's by construction.

use crate::{fell_back, lending, memcpy};
use core::ffi::c_void;
use core::ptr::null_mut;

#[repr(C)]
struct List {
    ptr: *mut u8,
    len: usize,
}

/// `streams_stream_error_t`: the case (0 last-operation-failed, 1 closed)
/// and the error handle.
#[repr(C)]
struct StreamError {
    tag: u8,
    error: i32,
}

/// `wasip2_tuple2_list_u8_bool_t`: `descriptor.read`'s result.
#[repr(C)]
struct ListEof {
    list: List,
    eof: bool,
}

/// `descriptor_table_entry_t`.
#[repr(C)]
struct Entry {
    data: *mut c_void,
    vtable: *const VTable,
}

type GetReadStream =
    unsafe extern "C" fn(*mut c_void, *mut i32, *mut *mut i64, *mut *mut i32) -> i32;
type GetFile = unsafe extern "C" fn(*mut c_void, *mut i32) -> i32;
type RecvFrom =
    unsafe extern "C" fn(*mut c_void, *mut u8, usize, i32, *mut c_void, *mut u32) -> isize;

/// The slots of wasi-libc's `descriptor_vtable_t` that the shim uses.
#[repr(C)]
struct VTable {
    _free: usize,
    get_read_stream: Option<GetReadStream>,
    _other: [usize; 3],
    get_file: Option<GetFile>,
    _more: [usize; 11],
    recvfrom: Option<RecvFrom>,
}

extern "C" {
    /// wasi-libc: the input stream and file offset behind `fd`.
    fn __wasilibc_read_stream(
        fd: i32,
        stream: *mut i32,
        off: *mut *mut i64,
        pollable: *mut i32,
    ) -> i32;
    fn descriptor_table_get_ref(fd: i32) -> *mut Entry;
    /// wasi-libc's bindings of `wasi:io` and `wasi:filesystem`.
    fn streams_method_input_stream_blocking_read(
        stream: i32,
        len: u64,
        ret: *mut List,
        err: *mut StreamError,
    ) -> bool;
    fn streams_method_input_stream_read(
        stream: i32,
        len: u64,
        ret: *mut List,
        err: *mut StreamError,
    ) -> bool;
    fn streams_method_input_stream_subscribe(stream: i32) -> i32;
    fn poll_borrow_pollable(pollable: i32) -> i32;
    fn poll_method_pollable_block(pollable: i32);
    fn filesystem_method_descriptor_read(
        file: i32,
        len: u64,
        offset: u64,
        ret: *mut ListEof,
        err: *mut u8,
    ) -> bool;
    fn filesystem_filesystem_error_code(err: i32, code: *mut u8) -> bool;
    fn io_error_error_drop_own(err: i32);
    fn wasip2_list_u8_free(list: *mut List);
    fn __errno_location() -> *mut i32;
    fn fcntl(fd: i32, cmd: i32, ...) -> i32;
    fn getsockopt(fd: i32, level: i32, name: i32, value: *mut c_void, len: *mut u32) -> i32;
}

const EAGAIN: i32 = 6;
const EINVAL: i32 = 28;
const EIO: i32 = 29;
const ENOTSUP: i32 = 58;
const MSG_DONTWAIT: i32 = 0x40;
const F_GETFL: i32 = 3;
const O_NONBLOCK: i32 = 4;
const SOL_SOCKET: i32 = 0x7fff_ffff;
const SO_RCVTIMEO: i32 = 66;

unsafe fn fail(errno: i32) -> isize {
    *__errno_location() = errno;
    -1
}

/// The list's length, after moving it into `buf` the way libc does (copy
/// and free) unless it is `buf` already.
unsafe fn take(buf: *mut u8, list: &mut List) -> usize {
    if fell_back(list.ptr, list.len, buf) {
        memcpy(buf, list.ptr, list.len);
        wasip2_list_u8_free(list);
    }
    list.len
}

/// POSIX `read`, as wasi-libc's, without the copy when the buffer is lent.
///
/// # Safety
/// `buf` must be valid for writes of `nbyte` bytes.
#[no_mangle]
pub unsafe extern "C" fn read(fd: i32, buf: *mut u8, nbyte: usize) -> isize {
    let mut stream = 0;
    let mut off: *mut i64 = null_mut();
    if __wasilibc_read_stream(fd, &mut stream, &mut off, null_mut()) < 0 {
        return -1;
    }
    let mut list = List {
        ptr: null_mut(),
        len: 0,
    };
    let mut err = StreamError { tag: 0, error: 0 };
    let ok = lending(buf, nbyte, || {
        streams_method_input_stream_blocking_read(stream, nbyte as u64, &mut list, &mut err)
    });
    if !ok {
        return read_error(err);
    }
    let n = take(buf, &mut list);
    if !off.is_null() {
        *off += n as i64;
    }
    n as isize
}

/// POSIX `recv`: `recvfrom` without an address, as in wasi-libc.
///
/// # Safety
/// `buf` must be valid for writes of `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn recv(fd: i32, buf: *mut u8, len: usize, flags: i32) -> isize {
    recvfrom(fd, buf, len, flags, null_mut(), null_mut())
}

/// POSIX `recvfrom`. A plain receive on a connected stream socket (TCP)
/// is done here with the buffer lent, following wasi-libc's TCP receive:
/// a non-blocking `input-stream.read`; data or EOF is returned at once; with
/// nothing to read, EAGAIN if the socket or call is non-blocking, else wait
/// on the stream's pollable and read again. Everything else (UDP, flags
/// other than `MSG_DONTWAIT` such as `MSG_PEEK`, an address to fill in, a
/// receive timeout, a 0-byte read) is libc's own `recvfrom`.
///
/// # Safety
/// As POSIX: `buf` valid for `len` bytes, `addr`/`addrlen` null or valid.
#[no_mangle]
pub unsafe extern "C" fn recvfrom(
    fd: i32,
    buf: *mut u8,
    len: usize,
    flags: i32,
    addr: *mut c_void,
    addrlen: *mut u32,
) -> isize {
    let entry = descriptor_table_get_ref(fd);
    if entry.is_null() {
        return -1;
    }
    if buf.is_null() {
        return fail(EINVAL);
    }
    let Entry { data, vtable } = *entry;
    let Some(libc_recvfrom) = (*vtable).recvfrom else {
        return fail(ENOTSUP);
    };
    let libc_way = || libc_recvfrom(data, buf, len, flags, addr, addrlen);
    let plain = flags & !MSG_DONTWAIT == 0 && addr.is_null() && addrlen.is_null() && len > 0;
    let (true, Some(get_read_stream)) = (plain, (*vtable).get_read_stream) else {
        return libc_way();
    };
    let (mut stream, mut off, mut pollable) = (0, null_mut(), null_mut());
    if get_read_stream(data, &mut stream, &mut off, &mut pollable) < 0 {
        return -1;
    }
    loop {
        let mut list = List {
            ptr: null_mut(),
            len: 0,
        };
        let mut err = StreamError { tag: 0, error: 0 };
        let ok = lending(buf, len, || {
            streams_method_input_stream_read(stream, len as u64, &mut list, &mut err)
        });
        if !ok {
            if err.tag != 0 {
                return 0;
            }
            io_error_error_drop_own(err.error);
            return fail(EIO);
        }
        if list.len > 0 {
            return take(buf, &mut list) as isize;
        }
        if flags & MSG_DONTWAIT != 0 {
            return fail(EAGAIN);
        }
        let fl = fcntl(fd, F_GETFL);
        if fl >= 0 && fl & O_NONBLOCK != 0 {
            return fail(EAGAIN);
        }
        if fl < 0 || pollable.is_null() || has_receive_timeout(fd) {
            return libc_way();
        }
        if *pollable == 0 {
            *pollable = streams_method_input_stream_subscribe(stream);
        }
        poll_method_pollable_block(poll_borrow_pollable(*pollable));
    }
}

/// Whether `SO_RCVTIMEO` is set (or cannot be read): libc then waits.
unsafe fn has_receive_timeout(fd: i32) -> bool {
    let mut tv = [0i64; 2];
    let mut size = core::mem::size_of_val(&tv) as u32;
    getsockopt(
        fd,
        SOL_SOCKET,
        SO_RCVTIMEO,
        tv.as_mut_ptr().cast(),
        &mut size,
    ) != 0
        || tv != [0, 0]
}

/// POSIX `pread`, as wasi-libc's (`descriptor.read` at the offset), without
/// the copy when the buffer is lent.
///
/// # Safety
/// `buf` must be valid for writes of `nbyte` bytes.
#[no_mangle]
pub unsafe extern "C" fn pread(fd: i32, buf: *mut u8, nbyte: usize, offset: i64) -> isize {
    if offset < 0 {
        return fail(EINVAL);
    }
    let entry = descriptor_table_get_ref(fd);
    if entry.is_null() {
        return -1;
    }
    let Entry { data, vtable } = *entry;
    let Some(get_file) = (*vtable).get_file else {
        return fail(EINVAL);
    };
    let mut file = 0;
    if get_file(data, &mut file) < 0 {
        return -1;
    }
    let mut ret = ListEof {
        list: List {
            ptr: null_mut(),
            len: 0,
        },
        eof: false,
    };
    let mut code = 0u8;
    let ok = lending(buf, nbyte, || {
        filesystem_method_descriptor_read(file, nbyte as u64, offset as u64, &mut ret, &mut code)
    });
    if !ok {
        return fail(errno_of(code));
    }
    take(buf, &mut ret.list) as isize
}

/// errno for each `wasi:filesystem` error-code (in WIT order), as wasi-libc
/// translates them.
const ERRNO: [u8; 37] = [
    2, 6, 7, 8, 10, 16, 19, 20, 22, 25, 26, 27, 28, 29, 31, 32, 34, 35, 37, 43, 44, 46, 48, 51, 54,
    55, 56, 58, 59, 60, 61, 63, 64, 69, 70, 74, 75,
];

fn errno_of(code: u8) -> i32 {
    ERRNO.get(code as usize).map_or(EIO, |&e| e as i32)
}

/// As wasi-libc's `read` handles a stream error: `closed` is EOF (0);
/// otherwise errno from the error's filesystem error-code (EIO without
/// one), the error dropped, and -1.
unsafe fn read_error(err: StreamError) -> isize {
    if err.tag != 0 {
        return 0;
    }
    let mut code = 0u8;
    let errno = if filesystem_filesystem_error_code(err.error, &mut code) {
        errno_of(code)
    } else {
        EIO
    };
    io_error_error_drop_own(err.error);
    fail(errno)
}
