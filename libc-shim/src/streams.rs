//! Reads into a caller's slice for programs that call WASI 0.2 directly
//! through the `wasip2` crate (feature `wasip2`): the same lending as the
//! libc readers, so `input-stream.read` and `descriptor.read` write straight
//! into `buf` instead of a new `Vec` that the caller would copy and drop.
//!
//! ```ignore
//! let n = libc_shim::streams::blocking_read(&stream, &mut buf)?;
//! ```

use crate::{fell_back, lending};
use core::mem::ManuallyDrop;
use wasip2::filesystem::types::{Descriptor, ErrorCode, Filesize};
use wasip2::io::streams::{InputStream, StreamError};

extern crate alloc;
use alloc::vec::Vec;

/// Moves a returned list into `buf`: nothing to do when it is the lent
/// buffer (it must then not be dropped: the memory is the caller's);
/// otherwise a copy, and the list is dropped as usual.
fn land(buf: &mut [u8], list: Vec<u8>) -> usize {
    let list = ManuallyDrop::new(list);
    let n = list.len();
    if fell_back(list.as_ptr(), n, buf.as_mut_ptr()) {
        buf[..n].copy_from_slice(&list);
        drop(ManuallyDrop::into_inner(list));
    }
    n
}

/// `input-stream.read` of up to `buf.len()` bytes into `buf`; the count read
/// (0 when nothing is ready yet).
pub fn read(stream: &InputStream, buf: &mut [u8]) -> Result<usize, StreamError> {
    let len = buf.len();
    let list = unsafe { lending(buf.as_mut_ptr(), len, || stream.read(len as u64)) }?;
    Ok(land(buf, list))
}

/// `input-stream.blocking-read` of up to `buf.len()` bytes into `buf`.
pub fn blocking_read(stream: &InputStream, buf: &mut [u8]) -> Result<usize, StreamError> {
    let len = buf.len();
    let list = unsafe { lending(buf.as_mut_ptr(), len, || stream.blocking_read(len as u64)) }?;
    Ok(land(buf, list))
}

/// `descriptor.read` of up to `buf.len()` bytes at `offset` into `buf`: the
/// count read and whether the end of the file was reached.
pub fn read_at(
    file: &Descriptor,
    buf: &mut [u8],
    offset: Filesize,
) -> Result<(usize, bool), ErrorCode> {
    let len = buf.len();
    let (list, eof) = unsafe { lending(buf.as_mut_ptr(), len, || file.read(len as u64, offset)) }?;
    Ok((land(buf, list), eof))
}
