//! `wasi:filesystem@0.3`: 0.2's functions, with 0.3's layouts. 0.3's
//! `error-code` and `descriptor-type` are variants with an
//! `other(option<string>)` case (and `error-code` lost `would-block`), so
//! results move: each function runs 0.2's into a scratch return area and
//! writes what it returned as 0.3 lays it out (`other` is never made: its
//! string stays `none`). Reads, writes and listings are streams whose host
//! side is 0.2's stream on the file (its offset, append and rights rules).

use crate::abi::get;
use crate::errno::code;
use crate::filesystem::types as v2;
use crate::put;
use crate::task::stream::{self, Errors, Side};

/// `error-code`'s `other` case.
const OTHER: u8 = 36;

/// 0.2's `error-code` as 0.3's (the same cases, less `would-block`).
fn from_v2(c: u8) -> u8 {
    match c {
        code::ACCESS => 0,
        code::WOULD_BLOCK => OTHER,
        c => c - 1,
    }
}

/// The 0.3 `error-code` for a preview1 errno.
pub fn error_code(e: crate::p1::Errno) -> u8 {
    from_v2(crate::errno::error_code(e.raw()))
}

/// Writes a `descriptor-type` (0.2's `t`, where 0 is `unknown`: `other`).
unsafe fn put_type(at: i32, t: u8) {
    put(at, 0, if t == 0 { 7 } else { t - 1 });
    put(at, 4, 0u8);
}

unsafe fn convert(
    ret: i32,
    p2: usize,
    p3: usize,
    call: impl FnOnce(i32),
    ok: impl FnOnce(i32, i32),
) {
    super::convert(ret, p2, p3, from_v2, call, ok)
}

/// `result<_, error-code>`.
unsafe fn unit(ret: i32, call: impl FnOnce(i32)) {
    super::unit(ret, from_v2, call)
}

unsafe fn same(ret: i32, p2: usize, p3: usize, size: usize, call: impl FnOnce(i32)) {
    super::same(ret, p2, p3, size, from_v2, call)
}

/// `result<descriptor-stat, error-code>`.
unsafe fn stat(ret: i32, call: impl FnOnce(i32)) {
    convert(ret, 8, 8, call, |from, to| {
        put_type(to, get(from, 0));
        put(to, 16, get::<u64>(from, 8));
        put(to, 24, get::<u64>(from, 16));
        // Three `option<instant>`s: 24 bytes each, in both.
        for i in 0..3 {
            let (f, t) = (24 + 24 * i, 32 + 24 * i);
            put(to, t, get::<u8>(from, f));
            put(to, t + 8, get::<u64>(from, f + 8));
            put(to, t + 16, get::<u32>(from, f + 16));
        }
    })
}

/// The next entry of 0.2 listing `h`, written as a 0.3 `directory-entry`
/// at `at`; `Ok(false)` at the end.
pub fn next_entry(h: i32, at: i32) -> Result<bool, u8> {
    let mut area = super::Area::new();
    let r = area.0.as_mut_ptr() as i32;
    unsafe {
        v2::directory_entry_stream_read_directory_entry(h, r);
        match (get::<u8>(r, 0), get::<u8>(r, 4)) {
            (0, 0) => Ok(false),
            (0, _) => {
                put_type(at, get(r, 8));
                put(at, 16, get::<i32>(r, 12));
                put(at, 20, get::<i32>(r, 16));
                Ok(true)
            }
            _ => Err(from_v2(get(r, 4))),
        }
    }
}

/// The listing operations of `task::stream` (`__linker__.p3_listing`).
#[export_name = "wasi-downlevel:p3-listing"]
pub unsafe extern "C" fn listing_op(what: i32, h: i32, at: i32) -> i32 {
    use crate::task::stream::listing::*;
    match what {
        NEXT => match next_entry(h, at) {
            Ok(more) => more as i32,
            Err(code) => 2 + code as i32,
        },
        _ => {
            v2::drop_directory_entry_stream(h);
            0
        }
    }
}

/// A 0.2 stream's handle from its `result<own<T>, error-code>`, or the 0.3
/// error.
unsafe fn handle(call: impl FnOnce(i32)) -> Result<u32, u8> {
    let mut area = super::Area::new();
    let r = area.0.as_mut_ptr() as i32;
    call(r);
    match get::<u8>(r, 0) {
        0 => Ok(get::<u32>(r, 4)),
        _ => Err(from_v2(get(r, 4))),
    }
}

pub mod types {
    use super::*;
    pub use crate::filesystem::types::{descriptor_is_same_object, drop_descriptor};

    pub unsafe fn descriptor_read_via_stream(h: i32, offset: i64, ret: i32) {
        let writer = handle(|r| v2::descriptor_read_via_stream(h, offset, r)).map(Side::Input);
        let (s, f) = stream::host_reader(writer, 1, Errors::Filesystem);
        put(ret, 0, s);
        put(ret, 4, f);
    }

    pub unsafe fn descriptor_write_via_stream(h: i32, data: i32, offset: i64) -> i32 {
        let reader = handle(|r| v2::descriptor_write_via_stream(h, offset, r)).map(Side::Output);
        stream::host_writer(data, reader, Errors::Filesystem) as i32
    }

    pub unsafe fn descriptor_append_via_stream(h: i32, data: i32) -> i32 {
        let reader = handle(|r| v2::descriptor_append_via_stream(h, r)).map(Side::Output);
        stream::host_writer(data, reader, Errors::Filesystem) as i32
    }

    /// The entries as a stream of `directory-entry` (24 bytes each).
    pub unsafe fn descriptor_read_directory(h: i32, ret: i32) {
        let writer = handle(|r| v2::descriptor_read_directory(h, r)).map(Side::Entries);
        let (s, f) = stream::host_reader(writer, 24, Errors::Filesystem);
        put(ret, 0, s);
        put(ret, 4, f);
    }

    pub unsafe fn descriptor_advise(h: i32, offset: i64, len: i64, advice: i32, ret: i32) {
        unit(ret, |r| v2::descriptor_advise(h, offset, len, advice, r))
    }

    pub unsafe fn descriptor_sync_data(h: i32, ret: i32) {
        unit(ret, |r| v2::descriptor_sync_data(h, r))
    }

    pub unsafe fn descriptor_sync(h: i32, ret: i32) {
        unit(ret, |r| v2::descriptor_sync(h, r))
    }

    /// `result<descriptor-flags, error-code>`.
    pub unsafe fn descriptor_get_flags(h: i32, ret: i32) {
        same(ret, 1, 4, 1, |r| v2::descriptor_get_flags(h, r))
    }

    pub unsafe fn descriptor_get_type(h: i32, ret: i32) {
        convert(
            ret,
            1,
            4,
            |r| v2::descriptor_get_type(h, r),
            |from, to| put_type(to, get(from, 0)),
        )
    }

    pub unsafe fn descriptor_set_size(h: i32, size: i64, ret: i32) {
        unit(ret, |r| v2::descriptor_set_size(h, size, r))
    }

    /// 0.3's `new-timestamp` flattens as 0.2's.
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn descriptor_set_times(
        h: i32,
        a: i32,
        a_s: i64,
        a_ns: i32,
        m: i32,
        m_s: i64,
        m_ns: i32,
        ret: i32,
    ) {
        unit(ret, |r| {
            v2::descriptor_set_times(h, a, a_s, a_ns, m, m_s, m_ns, r)
        })
    }

    pub unsafe fn descriptor_create_directory_at(h: i32, ptr: i32, len: i32, ret: i32) {
        unit(ret, |r| v2::descriptor_create_directory_at(h, ptr, len, r))
    }

    pub unsafe fn descriptor_stat(h: i32, ret: i32) {
        stat(ret, |r| v2::descriptor_stat(h, r))
    }

    pub unsafe fn descriptor_stat_at(h: i32, pflags: i32, ptr: i32, len: i32, ret: i32) {
        stat(ret, |r| v2::descriptor_stat_at(h, pflags, ptr, len, r))
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn descriptor_set_times_at(
        h: i32,
        pflags: i32,
        ptr: i32,
        len: i32,
        a: i32,
        a_s: i64,
        a_ns: i32,
        m: i32,
        m_s: i64,
        m_ns: i32,
        ret: i32,
    ) {
        unit(ret, |r| {
            v2::descriptor_set_times_at(h, pflags, ptr, len, a, a_s, a_ns, m, m_s, m_ns, r)
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn descriptor_link_at(
        h: i32,
        old_flags: i32,
        old_ptr: i32,
        old_len: i32,
        new: i32,
        new_ptr: i32,
        new_len: i32,
        ret: i32,
    ) {
        unit(ret, |r| {
            v2::descriptor_link_at(h, old_flags, old_ptr, old_len, new, new_ptr, new_len, r)
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn descriptor_open_at(
        h: i32,
        pflags: i32,
        ptr: i32,
        len: i32,
        oflags: i32,
        flags: i32,
        ret: i32,
    ) {
        same(ret, 4, 4, 4, |r| {
            v2::descriptor_open_at(h, pflags, ptr, len, oflags, flags, r)
        })
    }

    /// `result<string, error-code>`.
    pub unsafe fn descriptor_readlink_at(h: i32, ptr: i32, len: i32, ret: i32) {
        same(ret, 4, 4, 8, |r| v2::descriptor_readlink_at(h, ptr, len, r))
    }

    pub unsafe fn descriptor_remove_directory_at(h: i32, ptr: i32, len: i32, ret: i32) {
        unit(ret, |r| v2::descriptor_remove_directory_at(h, ptr, len, r))
    }

    pub unsafe fn descriptor_rename_at(
        h: i32,
        old_ptr: i32,
        old_len: i32,
        new: i32,
        new_ptr: i32,
        new_len: i32,
        ret: i32,
    ) {
        unit(ret, |r| {
            v2::descriptor_rename_at(h, old_ptr, old_len, new, new_ptr, new_len, r)
        })
    }

    pub unsafe fn descriptor_symlink_at(
        h: i32,
        old_ptr: i32,
        old_len: i32,
        new_ptr: i32,
        new_len: i32,
        ret: i32,
    ) {
        unit(ret, |r| {
            v2::descriptor_symlink_at(h, old_ptr, old_len, new_ptr, new_len, r)
        })
    }

    pub unsafe fn descriptor_unlink_file_at(h: i32, ptr: i32, len: i32, ret: i32) {
        unit(ret, |r| v2::descriptor_unlink_file_at(h, ptr, len, r))
    }

    /// `result<metadata-hash-value, error-code>`: 16 bytes at 8 in both.
    pub unsafe fn descriptor_metadata_hash(h: i32, ret: i32) {
        same(ret, 8, 8, 16, |r| v2::descriptor_metadata_hash(h, r))
    }

    pub unsafe fn descriptor_metadata_hash_at(h: i32, pflags: i32, ptr: i32, len: i32, ret: i32) {
        same(ret, 8, 8, 16, |r| {
            v2::descriptor_metadata_hash_at(h, pflags, ptr, len, r)
        })
    }
}

pub mod preopens {
    pub use crate::filesystem::preopens::get_directories;
}
