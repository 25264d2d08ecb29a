//! `wasi:filesystem`: descriptors, preopens and directory streams over
//! preview1 fds.
//!
//! WASI 0.2 has no file position: every call takes an offset, and each
//! stream keeps its own (`io::Pos`). So a descriptor's preview1 fd position is
//! never relied on, and several streams on one file never disturb each other.
//! Checks that a native host makes itself (a read on a write-only descriptor,
//! a file operation on a directory) are made here, so every preview1 runtime
//! gives the same answer; so is the resolution of paths that preview1 hosts
//! resolve differently (`path`).

use crate::abi::put_string;
use crate::errno::{code, error_code};
use crate::fds::{release, retain};
use crate::io::{Error, InputStream, OutputStream, Pos};
use crate::path::{self as paths, Walk};
use crate::table::Fd;
use crate::{p1, put, put_result, put_unit_result, state, OrTrap};
use alloc::vec;
use alloc::vec::Vec;

/// An open file or directory.
pub struct Descriptor {
    pub fd: Fd,
    /// The `descriptor-flags` it was opened with.
    flags: u8,
    /// The preview1 file type (an open fd never changes type).
    filetype: u8,
    /// The rights the fd has, and may pass on to what `open-at` opens
    /// through it.
    base: u64,
    inheriting: u64,
    /// A preopen: the reference host opens those `O_PATH` (on Linux), so
    /// their times cannot be set through them.
    preopen: bool,
}

impl Descriptor {
    /// A descriptor for `fd`, with its type and rights from one
    /// `fd_fdstat_get`.
    fn new(fd: Fd, flags: u8) -> Result<Descriptor> {
        let stat = unsafe { wasi::fd_fdstat_get(fd) }.map_err(err)?;
        Ok(Descriptor {
            fd,
            flags,
            filetype: stat.fs_filetype.raw(),
            base: stat.fs_rights_base,
            inheriting: stat.fs_rights_inheriting,
            preopen: false,
        })
    }
}

/// An open directory's entries, read in batches with `fd_readdir` cookies.
pub struct DirectoryEntryStream {
    fd: Fd,
    /// The cookie to read on from once `buf` is used up.
    cookie: u64,
    buf: Vec<u8>,
    /// Parse position and bytes filled in `buf`.
    at: usize,
    len: usize,
    /// The last batch was short: nothing more after `buf`.
    last: bool,
}

/// The stat a `metadata-hash-at` made, for a `stat-at` of the same path
/// right after it (wasi-libc's `fstatat` asks both; a preview1 build asks
/// the host once): used only when no other WASI call came between, so it is
/// what the host would say at once.
pub struct Stated {
    /// `None`: nothing remembered (all zeros, so no data segment).
    fd: Option<Fd>,
    pflags: i32,
    len: usize,
    path: [u8; 255],
    stat: wasi::Filestat,
}

impl Stated {
    pub const NONE: Stated = Stated {
        fd: None,
        pflags: 0,
        len: 0,
        path: [0; 255],
        stat: wasi::Filestat {
            dev: 0,
            ino: 0,
            filetype: wasi::FILETYPE_UNKNOWN,
            nlink: 0,
            size: 0,
            atim: 0,
            mtim: 0,
            ctim: 0,
        },
    };

    fn keep(fd: Fd, pflags: i32, path: &str, stat: wasi::Filestat) {
        let s = state::stated();
        match s.path.get_mut(..path.len()) {
            Some(room) => room.copy_from_slice(path.as_bytes()),
            None => return s.fd = None,
        }
        (s.fd, s.pflags, s.len, s.stat) = (Some(fd), pflags, path.len(), stat);
    }

    /// The stat kept for `path`, if the call before this one made it.
    fn take(fd: Fd, pflags: i32, path: &str) -> Option<wasi::Filestat> {
        let s = state::stated();
        // A stat that did not follow serves one that does where the path is
        // plain and names no symlink (wasi-libc asks the hash without
        // following, whatever `fstatat` was asked).
        let same_flags = s.pflags == pflags
            || (lookup(s.pflags) == 0
                && s.stat.filetype != wasi::FILETYPE_SYMBOLIC_LINK
                && paths::plain(path.as_bytes()).is_some());
        let fresh = *state::previous() == crate::ids::TYPES_DESCRIPTOR_METADATA_HASH_AT
            && s.fd == Some(fd)
            && s.path.get(..s.len) == Some(path.as_bytes())
            && same_flags;
        s.fd = None;
        fresh.then_some(s.stat)
    }
}

/// `descriptor-flags`.
mod flags {
    pub const READ: u8 = 1 << 0;
    pub const WRITE: u8 = 1 << 1;
    pub const FILE_INTEGRITY_SYNC: u8 = 1 << 2;
    pub const DATA_INTEGRITY_SYNC: u8 = 1 << 3;
    pub const REQUESTED_WRITE_SYNC: u8 = 1 << 4;
    pub const MUTATE_DIRECTORY: u8 = 1 << 5;
}

type Result<T> = core::result::Result<T, u8>;

fn err(e: p1::Errno) -> u8 {
    error_code(e.raw())
}

/// Borrows a descriptor; traps on a bad handle.
fn desc(handle: i32) -> &'static Descriptor {
    state::table().get::<Descriptor>(handle)
}

fn is_dir(d: &Descriptor) -> bool {
    d.filetype == wasi::FILETYPE_DIRECTORY.raw()
}

/// A descriptor a file operation may use with `need` flags (as a native
/// host: a directory or a missing permission is `bad-descriptor`).
fn file(handle: i32, need: u8) -> Result<&'static Descriptor> {
    let d = desc(handle);
    if is_dir(d) || d.flags & need != need {
        return Err(code::BAD_DESCRIPTOR);
    }
    Ok(d)
}

/// A descriptor a path operation may use.
fn dir(handle: i32) -> Result<Fd> {
    let d = desc(handle);
    if !is_dir(d) {
        return Err(code::NOT_DIRECTORY);
    }
    Ok(d.fd)
}

/// A path argument (the canonical ABI guarantees it is UTF-8). A NUL in it
/// is `invalid`, as the OS makes it natively (some preview1 hosts would cut
/// the path there, or report `ilseq`).
unsafe fn path<'a>(ptr: i32, len: i32) -> Result<&'a str> {
    let bytes = core::slice::from_raw_parts(ptr as *const u8, len as usize);
    if bytes.contains(&0) {
        return Err(code::INVALID);
    }
    Ok(core::str::from_utf8_unchecked(bytes))
}

fn lookup(path_flags: i32) -> u32 {
    if path_flags & 1 != 0 {
        wasi::LOOKUPFLAGS_SYMLINK_FOLLOW
    } else {
        0
    }
}

/// Writes `result<own<T>, error-code>`.
unsafe fn put_handle(ret: i32, r: Result<i32>) {
    put_result(ret, 4, r, |at, h| put(at, 0, h))
}

/// Preview1 file type → `descriptor-type`.
fn descriptor_type(filetype: u8) -> u8 {
    match filetype {
        1 => 1,     // block-device
        2 => 2,     // character-device
        3 => 3,     // directory
        4 => 6,     // regular-file
        5 | 6 => 7, // socket (datagram, stream)
        7 => 5,     // symbolic-link
        _ => 0,     // unknown
    }
}

/// Writes a `descriptor-stat` at `at`.
unsafe fn put_stat(at: i32, s: wasi::Filestat) {
    put(at, 0, descriptor_type(s.filetype.raw()));
    put(at, 8, s.nlink);
    put(at, 16, s.size);
    for (i, ns) in [s.atim, s.mtim, s.ctim].into_iter().enumerate() {
        let o = 24 + i * 24;
        put(at, o, 1u8);
        put(at, o + 8, ns / 1_000_000_000);
        put(at, o + 16, (ns % 1_000_000_000) as u32);
    }
}

/// A `metadata-hash-value` from the object's device and inode: stable for
/// one object, different across objects.
unsafe fn put_hash(at: i32, s: wasi::Filestat) {
    fn mix(mut z: u64) -> u64 {
        // splitmix64's finalizer: spreads every input bit.
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
        z ^ (z >> 31)
    }
    put(at, 0, mix(s.ino ^ mix(s.dev)));
    put(at, 8, mix(s.dev ^ mix(s.ino.rotate_left(32))));
}

/// A `new-timestamp` (flattened tag, seconds, nanoseconds) as preview1
/// `(time, fstflags)`, given the flags for "set" and "now".
fn timestamp(tag: i32, secs: i64, nanos: i32, set: u16, now: u16) -> (u64, u16) {
    match tag {
        0 => (0, 0),
        1 => (0, now),
        _ => (
            (secs as u64)
                .saturating_mul(1_000_000_000)
                .saturating_add(nanos as u32 as u64),
            set,
        ),
    }
}

/// The preview1 `(atim, mtim, fstflags)` for two `new-timestamp`s. A time
/// left unchanged while the other is set is passed as it is (`stat` reads
/// it): Node changes a time its flags leave alone.
fn times(
    a: (i32, i64, i32),
    m: (i32, i64, i32),
    stat: impl FnOnce() -> core::result::Result<wasi::Filestat, p1::Errno>,
) -> Result<(u64, u64, u16)> {
    let (mut atim, mut af) = timestamp(a.0, a.1, a.2, wasi::FSTFLAGS_ATIM, wasi::FSTFLAGS_ATIM_NOW);
    let (mut mtim, mut mf) = timestamp(m.0, m.1, m.2, wasi::FSTFLAGS_MTIM, wasi::FSTFLAGS_MTIM_NOW);
    if (af == 0) != (mf == 0) {
        let s = stat().map_err(err)?;
        if af == 0 {
            (atim, af) = (s.atim, wasi::FSTFLAGS_ATIM);
        } else {
            (mtim, mf) = (s.mtim, wasi::FSTFLAGS_MTIM);
        }
    }
    Ok((atim, mtim, af | mf))
}

/// Rights that do not make a host open a file for reading or writing.
const OTHER_RIGHTS: u64 = !(wasi::RIGHTS_FD_READ
    | wasi::RIGHTS_FD_READDIR
    | wasi::RIGHTS_FD_WRITE
    | wasi::RIGHTS_FD_DATASYNC
    | wasi::RIGHTS_FD_ALLOCATE
    | wasi::RIGHTS_FD_FILESTAT_SET_SIZE);

/// The preview1 fd flags of a descriptor with these descriptor flags.
fn fdflags(dflags: u8) -> u16 {
    let mut f = 0;
    if dflags & flags::FILE_INTEGRITY_SYNC != 0 {
        f |= wasi::FDFLAGS_SYNC;
    }
    if dflags & flags::DATA_INTEGRITY_SYNC != 0 {
        f |= wasi::FDFLAGS_DSYNC;
    }
    if dflags & flags::REQUESTED_WRITE_SYNC != 0 {
        f |= wasi::FDFLAGS_RSYNC;
    }
    f
}

fn open_at(handle: i32, path_flags: i32, path: &str, oflags: i32, dflags: i32) -> Result<i32> {
    let dirfd = dir(handle)?;
    // open-flags (create, directory, exclusive, truncate) have preview1's
    // oflags bit order.
    let oflags = oflags as u16 & 0xf;
    let has = |f: u16| oflags & f == f;
    use wasi::{OFLAGS_CREAT as CREATE, OFLAGS_DIRECTORY, OFLAGS_EXCL, OFLAGS_TRUNC};
    // As the reference host, in its order: the sync flags are unsupported,
    // and a directory cannot be created, exclusive or truncated this way.
    if dflags as u8
        & (flags::FILE_INTEGRITY_SYNC | flags::DATA_INTEGRITY_SYNC | flags::REQUESTED_WRITE_SYNC)
        != 0
    {
        return Err(code::UNSUPPORTED);
    }
    if has(OFLAGS_DIRECTORY) && oflags & (CREATE | OFLAGS_EXCL | OFLAGS_TRUNC) != 0 {
        return Err(code::INVALID);
    }
    let inheriting = desc(handle).inheriting;
    // The access the file gets, as the reference host decides it: creating
    // or truncating opens for writing, and whatever is not opened for
    // writing is opened for reading. `mutate-directory` changes nothing
    // (what a directory allows comes from its preopen).
    let write = dflags as u8 & flags::WRITE != 0 || oflags & (CREATE | OFLAGS_TRUNC) != 0;
    let read = dflags as u8 & flags::READ != 0 || dflags as u8 & flags::WRITE == 0;
    let dflags = if read { flags::READ } else { 0 } | if write { flags::WRITE } else { 0 };
    // Preview1 hosts decide read/write access from the rights asked for, so
    // ask for exactly the access wanted. Hosts that check rights refuse any
    // the directory cannot pass on, so the others stay within those; but
    // `fd_read`/`fd_write` themselves are asked for as wanted: wasmtime never
    // lists `fd_write` among a subdirectory's inheriting rights, yet opens
    // files below it for writing, as a native host does.
    let mut wanted = 0;
    let mut base = OTHER_RIGHTS;
    if read {
        wanted |= wasi::RIGHTS_FD_READ;
        base |= wasi::RIGHTS_FD_READDIR;
    }
    if write {
        wanted |= wasi::RIGHTS_FD_WRITE;
        base |=
            wasi::RIGHTS_FD_DATASYNC | wasi::RIGHTS_FD_ALLOCATE | wasi::RIGHTS_FD_FILESTAT_SET_SIZE;
    }
    let base = (base & inheriting) | wanted;
    let fdflags = fdflags(dflags);
    let mut w = paths::walk(dirfd, path)?;
    let mut lookup = lookup(path_flags);
    if w.is_dir() || w.slash {
        // As Linux: a path ending in `.` or `..` is an existing directory;
        // a name with a trailing slash cannot be created (once its directory
        // is found), and is followed to a directory.
        if has(CREATE) {
            if w.is_dir() && has(CREATE | OFLAGS_EXCL) {
                return Err(code::EXIST);
            }
            w.parent_found(dirfd)?;
            return Err(code::IS_DIRECTORY);
        }
        if w.slash {
            w = paths::into_dir(dirfd, w)?;
        }
        lookup = wasi::LOOKUPFLAGS_SYMLINK_FOLLOW;
    } else if has(CREATE | OFLAGS_EXCL) {
        // Exclusive creation never follows a symlink (some hosts create its
        // target).
        lookup = 0;
    } else if lookup != 0 {
        // Node follows a symlink lexically (`d/../f` as `f`, even with no
        // `d`), so there it is followed here.
        if paths::lexical(dirfd) {
            w = paths::follow_missing(dirfd, w)?;
        }
    } else {
        // Some hosts (Node) follow a final symlink whatever the lookup flags
        // say; a native host refuses to open one without following it.
        if let Ok(s) = unsafe { wasi::path_filestat_get(dirfd, 0, w.path()) } {
            if s.filetype == wasi::FILETYPE_SYMBOLIC_LINK {
                return Err(code::LOOP);
            }
        }
    }
    let fd = unsafe { wasi::path_open(dirfd, lookup, w.path(), oflags, base, inheriting, fdflags) }
        .map_err(err)?;
    let mut d = match Descriptor::new(fd, dflags) {
        // A directory cannot be opened for writing (the OS says so natively;
        // some preview1 hosts allow it).
        Ok(d) if write && is_dir(&d) => Err(code::IS_DIRECTORY),
        d => d,
    }
    .inspect_err(|_| {
        let _ = unsafe { wasi::fd_close(fd) };
    })?;
    // Natively any directory descriptor can be listed; preview1 hosts that
    // check rights refuse `fd_readdir` on one opened without the right, so
    // such a directory is opened again, with it.
    if is_dir(&d) && d.base & wasi::RIGHTS_FD_READDIR == 0 {
        let rights = (OTHER_RIGHTS | wasi::RIGHTS_FD_READDIR) & inheriting;
        // "." built on the stack: a string literal would be a data segment.
        let dot = core::hint::black_box([b'.']);
        let dot = unsafe { core::str::from_utf8_unchecked(&dot) };
        let again =
            unsafe { wasi::path_open(fd, 0, dot, wasi::OFLAGS_DIRECTORY, rights, inheriting, 0) };
        if let Ok(again) = again.map_err(err).and_then(|f| Descriptor::new(f, dflags)) {
            let _ = unsafe { wasi::fd_close(fd) };
            d = again;
        }
    }
    let fd = d.fd;
    crate::fds::opened(fd);
    Ok(state::table().push(d, 0))
}

/// The next entry of `s`, skipping `.` and `..` (a native host lists
/// neither); `None` at the end.
fn next_entry(s: &mut DirectoryEntryStream) -> Result<Option<(u8, &[u8])>> {
    const HEADER: usize = 24;
    loop {
        let rest = s.buf.get(s.at..s.len).or_trap();
        if rest.len() >= HEADER {
            let d_next = u64::from_le_bytes(rest.get(0..8).or_trap().try_into().or_trap());
            let namlen = u32::from_le_bytes(rest.get(16..20).or_trap().try_into().or_trap());
            let d_type = *rest.get(20).or_trap();
            let size = HEADER + namlen as usize;
            if rest.len() >= size {
                let start = s.at + HEADER;
                s.at += size;
                s.cookie = d_next;
                let name = s.buf.get(start..start + namlen as usize).or_trap();
                if name == b"." || name == b".." {
                    continue;
                }
                // Re-borrow for the caller (the loop above needed `s`).
                let name = s.buf.get(start..start + namlen as usize).or_trap();
                return Ok(Some((descriptor_type(d_type), name)));
            }
            if size > s.buf.len() {
                s.buf.resize(size.next_power_of_two(), 0);
            }
        } else if s.last {
            return Ok(None);
        }
        if s.last && s.at >= s.len {
            return Ok(None);
        }
        let n = p1::readdir(s.fd, &mut s.buf, s.cookie).map_err(err)?;
        s.at = 0;
        s.len = n;
        s.last = n < s.buf.len();
        if n == 0 {
            return Ok(None);
        }
    }
}

/// `sync`/`sync-data`. Preview1 ties `fd_datasync` to the write right, so
/// a read-only descriptor syncs in full instead; and some hosts (wasmtime's
/// preview1, the embedded engine) cannot sync a directory at all, which a
/// native host can: there the call succeeds without syncing (README).
fn sync(handle: i32, data: bool) -> Result<()> {
    let d = desc(handle);
    let fd = d.fd;
    if data && !is_dir(d) && d.flags & flags::WRITE != 0 {
        return unsafe { wasi::fd_datasync(fd) }.map_err(err);
    }
    match unsafe { wasi::fd_sync(fd) } {
        Err(wasi::ERRNO_BADF | wasi::ERRNO_NOTCAPABLE) if is_dir(d) => Ok(()),
        r => r.map_err(err),
    }
}

/// A call on the last name of `path`, in its directory, as the reference
/// host makes it; where the path names a directory itself (`.`, `d/..`,
/// `d/`), Linux's answer for `.` is `dot`.
fn at_name<T>(fd: Fd, path: &str, dot: u8, call: impl FnOnce(&str) -> Result<T>) -> Result<T> {
    let w = paths::parent(fd, path)?;
    if w.is_dir() {
        return Err(dot);
    }
    call(w.path())
}

/// `stat-at` (and `metadata-hash-at`), as the reference host: without
/// following, a path of one name (`f/` too) is that name; otherwise the
/// path as Linux resolves it (a trailing slash or `.` follows).
fn stat_at(fd: Fd, pflags: i32, path: &str) -> Result<wasi::Filestat> {
    let follow = lookup(pflags) != 0;
    if !follow && paths::plain(path.as_bytes()).is_some() {
        return unsafe { wasi::path_filestat_get(fd, 0, path) }.map_err(err);
    }
    let w = paths::walk(
        fd,
        match paths::single_name(path) {
            Some(name) if !follow => name,
            _ => path,
        },
    )?;
    if follow || w.slash || w.is_dir() {
        return paths::follow(fd, w).map(|(_, s)| s);
    }
    unsafe { wasi::path_filestat_get(fd, 0, w.path()) }.map_err(err)
}

fn set_times_at(
    fd: Fd,
    pflags: i32,
    path: &str,
    a: (i32, i64, i32),
    m: (i32, i64, i32),
) -> Result<()> {
    const NO_CHANGE: i32 = 0;
    let no_change = (a.0, m.0) == (NO_CHANGE, NO_CHANGE);
    // As the reference host: following, the file is opened (so it must
    // exist); not following, the time is set on the last name in its
    // directory, which Linux does not even look up to change nothing.
    let (w, lookup) = if lookup(pflags) != 0 {
        let (w, _) = paths::follow(fd, paths::walk(fd, path)?)?;
        (w, wasi::LOOKUPFLAGS_SYMLINK_FOLLOW)
    } else {
        let w = paths::parent(fd, path)?;
        if no_change {
            return w.parent_found(fd);
        }
        (w, 0)
    };
    if no_change {
        return Ok(());
    }
    let path = w.path();
    let (atim, mtim, fst) = times(a, m, || paths::stat(fd, lookup, path.as_bytes()))?;
    match unsafe { wasi::path_filestat_set_times(fd, lookup, path, atim, mtim, fst) } {
        // As `paths::stat`: `.` is the directory itself.
        Err(wasi::ERRNO_NOENT) if path.as_bytes() == [b'.'] => unsafe {
            wasi::fd_filestat_set_times(fd, atim, mtim, fst)
        },
        r => r,
    }
    .map_err(err)
}

/// A call refused whatever the new name `w`: as Linux, finding the name
/// taken (`exist`) comes first.
fn refused(fd: Fd, w: &Walk) -> Result<()> {
    w.parent_found(fd)?;
    match unsafe { wasi::path_filestat_get(fd, 0, w.path()) } {
        Ok(_) => Err(code::EXIST),
        Err(wasi::ERRNO_NOENT) => Err(code::NOT_PERMITTED),
        Err(e) => Err(err(e)),
    }
}

fn link_at(old_fd: Fd, old: &str, new_fd: Fd, new: &str) -> Result<()> {
    // As the reference host: each name in its directory; Linux looks the
    // old one up, then the new one (`exist`), then refuses a directory.
    let old = paths::parent(old_fd, old)?;
    let new = old.then(old_fd, || paths::parent(new_fd, new))?;
    match (old.is_dir(), new.is_dir()) {
        (false, false) => {
            match unsafe { wasi::path_link(old_fd, 0, old.path(), new_fd, new.path()) } {
                // Both directories are found first natively; Linux looks
                // the old name up before the new one's directory.
                Err(wasi::ERRNO_NOENT) => {
                    old.parent_found(old_fd)?;
                    new.parent_found(new_fd)?;
                    Err(code::NO_ENTRY)
                }
                r => r.map_err(err),
            }
        }
        // Linux refuses a hard link to a directory.
        (true, false) => refused(new_fd, &new),
        (false, true) => unsafe { wasi::path_filestat_get(old_fd, 0, old.path()) }
            .map_err(err)
            .and(Err(code::EXIST)),
        (true, true) => Err(code::EXIST),
    }
}

fn rename_at(old_fd: Fd, old: &str, new_fd: Fd, new: &str) -> Result<()> {
    // As Linux: `.` or `..` is busy (once both directories are found), and
    // a trailing slash on either name needs the old one to be a directory.
    let old = paths::walk(old_fd, old)?;
    let new = old.then(old_fd, || paths::walk(new_fd, new))?;
    if old.is_dir() || new.is_dir() {
        old.parent_found(old_fd)?;
        new.parent_found(new_fd)?;
        return Err(code::BUSY);
    }
    if old.slash || new.slash {
        let e = match unsafe { wasi::path_filestat_get(old_fd, 0, old.path()) } {
            Ok(s) if s.filetype == wasi::FILETYPE_DIRECTORY => None,
            Ok(_) => Some(code::NOT_DIRECTORY),
            Err(e @ wasi::ERRNO_NOENT) => Some(err(e)),
            Err(e) => return Err(err(e)),
        };
        if let Some(e) = e {
            new.parent_found(new_fd)?;
            return Err(e);
        }
    }
    unsafe { wasi::path_rename(old_fd, old.path(), new_fd, new.path()) }.map_err(err)
}

pub mod types {
    use super::*;

    pub unsafe fn drop_descriptor(handle: i32) {
        release(state::table().delete::<Descriptor>(handle).fd)
    }

    pub unsafe fn drop_directory_entry_stream(handle: i32) {
        release(state::table().delete::<DirectoryEntryStream>(handle).fd)
    }

    /// A stream on a file. Like a native host, refuse directories here but
    /// let a missing read or write right show on the stream's first use.
    unsafe fn stream(handle: i32, need: u8, pos: Pos, ret: i32) {
        let d = desc(handle);
        let (fd, allowed) = (d.fd, d.flags & need != 0);
        let r = if is_dir(d) {
            Err(if need == flags::READ {
                code::IS_DIRECTORY
            } else {
                code::BAD_DESCRIPTOR
            })
        } else {
            retain(fd);
            let pos = if allowed { pos } else { Pos::Denied };
            let table = state::table();
            Ok(if need == flags::READ {
                table.push(InputStream::at(fd, false, pos), 0)
            } else {
                table.push(OutputStream::at(fd, false, pos), 0)
            })
        };
        put_handle(ret, r)
    }

    pub unsafe fn descriptor_read_via_stream(handle: i32, offset: i64, ret: i32) {
        stream(handle, flags::READ, Pos::At(offset as u64), ret)
    }

    pub unsafe fn descriptor_write_via_stream(handle: i32, offset: i64, ret: i32) {
        stream(handle, flags::WRITE, Pos::At(offset as u64), ret)
    }

    pub unsafe fn descriptor_append_via_stream(handle: i32, ret: i32) {
        stream(
            handle,
            flags::WRITE,
            Pos::Append(fdflags(desc(handle).flags)),
            ret,
        )
    }

    pub unsafe fn descriptor_advise(handle: i32, offset: i64, len: i64, advice: i32, ret: i32) {
        let r = file(handle, 0).and_then(|d| {
            let advice = match advice {
                0 => wasi::ADVICE_NORMAL,
                1 => wasi::ADVICE_SEQUENTIAL,
                2 => wasi::ADVICE_RANDOM,
                3 => wasi::ADVICE_WILLNEED,
                4 => wasi::ADVICE_DONTNEED,
                _ => wasi::ADVICE_NOREUSE,
            };
            wasi::fd_advise(d.fd, offset as u64, len as u64, advice).map_err(err)
        });
        put_unit_result(ret, r)
    }

    pub unsafe fn descriptor_sync_data(handle: i32, ret: i32) {
        put_unit_result(ret, sync(handle, true))
    }

    pub unsafe fn descriptor_sync(handle: i32, ret: i32) {
        put_unit_result(ret, sync(handle, false))
    }

    pub unsafe fn descriptor_get_flags(handle: i32, ret: i32) {
        put_result(ret, 1, Ok(desc(handle).flags), |at, f| put(at, 0, f))
    }

    pub unsafe fn descriptor_get_type(handle: i32, ret: i32) {
        let t = descriptor_type(desc(handle).filetype);
        put_result(ret, 1, Ok(t), |at, t| put(at, 0, t))
    }

    pub unsafe fn descriptor_set_size(handle: i32, size: i64, ret: i32) {
        // Truncating a file not open for writing is `invalid` (as the OS says).
        let r = file(handle, 0).and_then(|d| match d.flags & flags::WRITE {
            0 => Err(code::INVALID),
            _ => wasi::fd_filestat_set_size(d.fd, size as u64).map_err(err),
        });
        put_unit_result(ret, r)
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn descriptor_set_times(
        handle: i32,
        a_tag: i32,
        a_secs: i64,
        a_nanos: i32,
        m_tag: i32,
        m_secs: i64,
        m_nanos: i32,
        ret: i32,
    ) {
        let d = desc(handle);
        const NO_CHANGE: i32 = 0;
        if d.preopen && (a_tag, m_tag) != (NO_CHANGE, NO_CHANGE) {
            return put_unit_result(ret, Err(code::BAD_DESCRIPTOR));
        }
        let fd = d.fd;
        let r = times((a_tag, a_secs, a_nanos), (m_tag, m_secs, m_nanos), || {
            wasi::fd_filestat_get(fd)
        })
        .and_then(|(atim, mtim, fst)| {
            wasi::fd_filestat_set_times(fd, atim, mtim, fst).map_err(err)
        });
        put_unit_result(ret, r)
    }

    /// `read(length, offset) -> result<tuple<list<u8>, bool>, error-code>`:
    /// the bytes land directly in a buffer from the program's allocator.
    pub unsafe fn descriptor_read(handle: i32, len: i64, offset: i64, ret: i32) {
        let d = match file(handle, flags::READ) {
            Ok(d) => d,
            Err(e) => return put_result(ret, 4, Err::<(), _>(e), |_, _| ()),
        };
        let len = (len as u64).min(1 << 20) as usize;
        let buf = crate::program_alloc(1, len);
        match p1::pread(d.fd, buf, len, offset as u64) {
            Ok(n) => {
                let buf = if n < len {
                    crate::program_shrink(buf, len, 1, n.max(1))
                } else {
                    buf
                };
                put(ret, 0, 0u8);
                put(ret, 4, buf as i32);
                put(ret, 8, n as i32);
                put(ret, 12, (n == 0) as u8);
            }
            Err(e) => {
                crate::program_shrink(buf, len, 1, 1);
                put_result(ret, 4, Err::<(), _>(err(e)), |_, _| ())
            }
        }
    }

    pub unsafe fn descriptor_write(handle: i32, ptr: i32, len: i32, offset: i64, ret: i32) {
        let r = file(handle, flags::WRITE).and_then(|d| {
            p1::pwrite_all(d.fd, ptr as *const u8, len as usize, offset as u64).map_err(err)?;
            Ok(len as u32 as u64)
        });
        put_result(ret, 8, r, |at, n| put(at, 0, n))
    }

    pub unsafe fn descriptor_read_directory(handle: i32, ret: i32) {
        let r = dir(handle).map(|fd| {
            retain(fd);
            state::table().push(
                DirectoryEntryStream {
                    fd,
                    cookie: 0,
                    buf: vec![0; 4096],
                    at: 0,
                    len: 0,
                    last: false,
                },
                0,
            )
        });
        put_handle(ret, r)
    }

    pub unsafe fn descriptor_create_directory_at(handle: i32, ptr: i32, len: i32, ret: i32) {
        let r = dir(handle).and_then(|fd| {
            // The reference host drops trailing slashes here (`d/` is `d`,
            // `/` stays).
            let p = path(ptr, len)?;
            let b = p.as_bytes();
            let n = b
                .iter()
                .rposition(|&c| c != b'/')
                .map_or(b.len().min(1), |i| i + 1);
            let p = p.get(..n).or_trap();
            at_name(fd, p, code::EXIST, |p| {
                wasi::path_create_directory(fd, p).map_err(err)
            })
        });
        put_unit_result(ret, r)
    }

    pub unsafe fn descriptor_stat(handle: i32, ret: i32) {
        let r = wasi::fd_filestat_get(desc(handle).fd).map_err(err);
        put_result(ret, 8, r, |at, s| put_stat(at, s))
    }

    pub unsafe fn descriptor_stat_at(handle: i32, pflags: i32, ptr: i32, len: i32, ret: i32) {
        let r = dir(handle).and_then(|fd| {
            let p = path(ptr, len)?;
            match Stated::take(fd, pflags, p) {
                Some(s) => Ok(s),
                None => stat_at(fd, pflags, p),
            }
        });
        put_result(ret, 8, r, |at, s| put_stat(at, s))
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn descriptor_set_times_at(
        handle: i32,
        pflags: i32,
        ptr: i32,
        len: i32,
        a_tag: i32,
        a_secs: i64,
        a_nanos: i32,
        m_tag: i32,
        m_secs: i64,
        m_nanos: i32,
        ret: i32,
    ) {
        let r = dir(handle).and_then(|fd| {
            let (a, m) = ((a_tag, a_secs, a_nanos), (m_tag, m_secs, m_nanos));
            super::set_times_at(fd, pflags, path(ptr, len)?, a, m)
        });
        put_unit_result(ret, r)
    }

    #[allow(clippy::too_many_arguments)]
    pub unsafe fn descriptor_link_at(
        handle: i32,
        old_flags: i32,
        old_ptr: i32,
        old_len: i32,
        new: i32,
        new_ptr: i32,
        new_len: i32,
        ret: i32,
    ) {
        let r = dir(handle).and_then(|old_fd| {
            let new_fd = dir(new)?;
            // Natively a hard link never follows a symlink: asking to is
            // `invalid` (some preview1 hosts follow it).
            if lookup(old_flags) != 0 {
                return Err(code::INVALID);
            }
            link_at(
                old_fd,
                path(old_ptr, old_len)?,
                new_fd,
                path(new_ptr, new_len)?,
            )
        });
        put_unit_result(ret, r)
    }

    pub unsafe fn descriptor_open_at(
        handle: i32,
        pflags: i32,
        ptr: i32,
        len: i32,
        oflags: i32,
        dflags: i32,
        ret: i32,
    ) {
        put_handle(
            ret,
            path(ptr, len).and_then(|p| super::open_at(handle, pflags, p, oflags, dflags)),
        )
    }

    pub unsafe fn descriptor_readlink_at(handle: i32, ptr: i32, len: i32, ret: i32) {
        let r = dir(handle).and_then(|fd| {
            at_name(fd, path(ptr, len)?, code::INVALID, |p| {
                paths::link_target(fd, p)
            })
        });
        match r {
            Ok(target) => {
                put(ret, 0, 0u8);
                put_string(ret + 4, &target)
            }
            Err(e) => {
                put(ret, 0, 1u8);
                put(ret, 4, e)
            }
        }
    }

    pub unsafe fn descriptor_remove_directory_at(handle: i32, ptr: i32, len: i32, ret: i32) {
        let r = dir(handle).and_then(|fd| {
            at_name(fd, path(ptr, len)?, code::INVALID, |p| {
                wasi::path_remove_directory(fd, p).map_err(err)
            })
        });
        put_unit_result(ret, r)
    }

    pub unsafe fn descriptor_rename_at(
        handle: i32,
        old_ptr: i32,
        old_len: i32,
        new: i32,
        new_ptr: i32,
        new_len: i32,
        ret: i32,
    ) {
        let r = dir(handle).and_then(|old_fd| {
            let new_fd = dir(new)?;
            rename_at(
                old_fd,
                path(old_ptr, old_len)?,
                new_fd,
                path(new_ptr, new_len)?,
            )
        });
        put_unit_result(ret, r)
    }

    pub unsafe fn descriptor_symlink_at(
        handle: i32,
        old_ptr: i32,
        old_len: i32,
        new_ptr: i32,
        new_len: i32,
        ret: i32,
    ) {
        let r = dir(handle).and_then(|fd| {
            let target = path(old_ptr, old_len)?;
            let new = path(new_ptr, new_len)?;
            // A native host refuses absolute targets; preview1 hosts differ.
            if target.starts_with('/') {
                return Err(code::NOT_PERMITTED);
            }
            let new = paths::parent(fd, new)?;
            // Linux refuses an empty target once the directory is found
            // (Node says `invalid`); `.` exists.
            if target.is_empty() {
                return Err(code::NO_ENTRY);
            }
            if new.is_dir() {
                return Err(code::EXIST);
            }
            match wasi::path_symlink(target, fd, new.path()).map_err(err) {
                // Node refuses a target that leaves the directory before it
                // looks at the name, which natively may be what fails.
                Err(code::NOT_PERMITTED) => refused(fd, &new),
                r => r,
            }
        });
        put_unit_result(ret, r)
    }

    pub unsafe fn descriptor_unlink_file_at(handle: i32, ptr: i32, len: i32, ret: i32) {
        let r = dir(handle).and_then(|fd| {
            at_name(fd, path(ptr, len)?, code::IS_DIRECTORY, |p| {
                wasi::path_unlink_file(fd, p).map_err(err)
            })
        });
        put_unit_result(ret, r)
    }

    pub unsafe fn descriptor_is_same_object(handle: i32, other: i32) -> i32 {
        let (a, b) = (desc(handle).fd, desc(other).fd);
        match (wasi::fd_filestat_get(a), wasi::fd_filestat_get(b)) {
            (Ok(a), Ok(b)) => (a.dev == b.dev && a.ino == b.ino) as i32,
            _ => 0,
        }
    }

    pub unsafe fn descriptor_metadata_hash(handle: i32, ret: i32) {
        let r = wasi::fd_filestat_get(desc(handle).fd).map_err(err);
        put_result(ret, 8, r, |at, s| put_hash(at, s))
    }

    pub unsafe fn descriptor_metadata_hash_at(
        handle: i32,
        pflags: i32,
        ptr: i32,
        len: i32,
        ret: i32,
    ) {
        // Only what this call finds may serve the next (see `Stated`).
        state::stated().fd = None;
        let r = dir(handle).and_then(|fd| {
            let p = path(ptr, len)?;
            let s = stat_at(fd, pflags, p)?;
            Stated::keep(fd, pflags, p, s);
            Ok(s)
        });
        put_result(ret, 8, r, |at, s| put_hash(at, s))
    }

    /// `result<option<directory-entry>, error-code>`.
    pub unsafe fn directory_entry_stream_read_directory_entry(handle: i32, ret: i32) {
        let s = state::table().get::<DirectoryEntryStream>(handle);
        match next_entry(s) {
            Ok(Some((t, name))) => {
                put(ret, 0, 0u8);
                put(ret, 4, 1u8);
                put(ret, 8, t);
                put_string(ret + 12, name);
            }
            Ok(None) => {
                put(ret, 0, 0u8);
                put(ret, 4, 0u8);
            }
            Err(e) => {
                put(ret, 0, 1u8);
                put(ret, 4, e);
            }
        }
    }

    /// `option<error-code>`: the error-code behind a stream error.
    pub unsafe fn filesystem_error_code(handle: i32, ret: i32) {
        let errno = state::table().get::<Error>(handle).errno;
        put(ret, 0, 1u8);
        put(ret, 1, error_code(errno));
    }
}

pub mod preopens {
    use super::*;

    /// `list<tuple<descriptor, string>>`: preview1's preopens, fd 3 upwards
    /// until the first fd that is not one.
    pub unsafe fn get_directories(ret: i32) {
        let mut found: Vec<(Fd, Vec<u8>)> = Vec::new();
        for fd in 3.. {
            let len = match wasi::fd_prestat_get(fd) {
                Ok(p) if p.tag == wasi::PREOPENTYPE_DIR.raw() => p.u.dir.pr_name_len,
                Ok(_) => continue,
                Err(_) => break,
            };
            let mut name: Vec<u8> = vec![0; len];
            if wasi::fd_prestat_dir_name(fd, name.as_mut_ptr(), len).is_err() {
                break;
            }
            // Some hosts count a trailing NUL.
            while name.last() == Some(&0) {
                name.pop();
            }
            found.push((fd, name));
        }
        let list = crate::program_alloc(4, found.len() * 12);
        for (i, (fd, name)) in found.iter().enumerate() {
            let at = list as i32 + 12 * i as i32;
            let flags = flags::READ | flags::MUTATE_DIRECTORY;
            let d = Descriptor::new(*fd, flags).unwrap_or(Descriptor {
                fd: *fd,
                flags,
                filetype: wasi::FILETYPE_DIRECTORY.raw(),
                base: !0,
                inheriting: !0,
                preopen: true,
            });
            let d = Descriptor { preopen: true, ..d };
            let h = state::table().push(d, 0);
            put(at, 0, h);
            put_string(at + 4, name);
        }
        put(ret, 0, list as i32);
        put(ret, 4, found.len() as i32);
    }
}
