//! Paths as the reference host resolves them: cap-std on Linux, which
//! either resolves the whole path as Linux does (beneath the directory:
//! leaving it is `not-permitted`) or opens the parent directory and uses the
//! last name in it.
//!
//! Preview1 hosts agree on plain paths only: names joined by single
//! slashes, no `.` or `..` names, no leading or trailing slash. Elsewhere
//! they differ (Node resolves `..` lexically, so `missing/../f` is `f`,
//! and so follows a symlink to `missing/../f`; WAMR drops or follows a
//! trailing slash where Linux does neither). So a path that is not plain is
//! made plain here: each name before a `..` is looked up as Linux does
//! (following symlinks), and the trailing `/`, `.` or `..` is left for each
//! call to apply as the reference host does; a plain path is passed on as
//! it is. Where a call follows a final symlink, it is followed here.

use crate::errno::{code, error_code};
use crate::table::Fd;
use crate::{p1, OrTrap};
use alloc::borrow::Cow;
use alloc::vec;
use alloc::vec::Vec;

type Result<T> = core::result::Result<T, u8>;

/// Linux's limit on the symlinks followed in one lookup.
const MAX_LINKS: u32 = 40;

/// A path made plain.
pub struct Walk<'a> {
    /// The plain path (`.` for the directory itself).
    text: Cow<'a, [u8]>,
    /// Where its last name starts; `None` when the path names a directory
    /// found to be one, and not a symlink to it (the path ended in `.` or
    /// `..`, or, for [`parent`], in `/`).
    last: Option<usize>,
    /// The path ended in a slash after its last name.
    pub slash: bool,
}

fn as_str(b: &[u8]) -> &str {
    // The program's path is UTF-8; a symlink target may not be, but hosts
    // only see bytes.
    unsafe { core::str::from_utf8_unchecked(b) }
}

/// `path_filestat_get`, but `.` is the directory itself, even once removed
/// or renamed (which Node looks up by the name it was opened with).
pub fn stat(
    fd: Fd,
    lookup: wasi::Lookupflags,
    path: &[u8],
) -> core::result::Result<wasi::Filestat, wasi::Errno> {
    match path {
        [b'.'] => unsafe { wasi::fd_filestat_get(fd) },
        _ => unsafe { wasi::path_filestat_get(fd, lookup, as_str(path)) },
    }
}

fn lstat(fd: Fd, path: &[u8]) -> Result<wasi::Filestat> {
    stat(fd, 0, path).map_err(|e| error_code(e.raw()))
}

/// Whether the host resolves `..` lexically, as Node does (`missing/..` is
/// the directory itself), so that following a symlink must be done here;
/// asked once, of a name no directory has. Where the name does exist, the
/// answer errs on the safe side (`true`).
pub fn lexical(fd: Fd) -> bool {
    *crate::state::lexical().get_or_insert_with(|| {
        // Built from immediates: a string literal would be a data segment.
        let probe = core::hint::black_box([
            u64::from_le_bytes(*b".wasi-do"),
            u64::from_le_bytes(*b"wnlevel-"),
            u64::from_le_bytes(*b"probe/.."),
        ]);
        let probe = unsafe { core::slice::from_raw_parts(probe.as_ptr() as *const u8, 24) };
        stat(fd, 0, probe).is_ok()
    })
}

/// The target of the symlink at `path`.
pub fn link_target(fd: Fd, path: &str) -> Result<Vec<u8>> {
    let mut buf: Vec<u8> = vec![0; 256];
    loop {
        let n = match p1::readlink(fd, path, &mut buf) {
            // uvwasi (Node) refuses a buffer the target does not fit in
            // (with a NUL after it) rather than filling it.
            Err(wasi::ERRNO_NOBUFS) if buf.len() < 1 << 20 => buf.len(),
            r => r.map_err(|e| error_code(e.raw()))?,
        };
        if n < buf.len() {
            buf.truncate(n);
            return Ok(buf);
        }
        buf.resize(buf.len() * 2, 0);
    }
}

/// The target of the symlink at `path`, followed as the `links`th in one
/// lookup (beneath the directory: an absolute target is `not-permitted`).
fn follow_link(fd: Fd, path: &[u8], links: &mut u32) -> Result<Vec<u8>> {
    *links += 1;
    if *links > MAX_LINKS {
        return Err(code::LOOP);
    }
    let target = link_target(fd, as_str(path))?;
    match target.first() {
        None => Err(code::NO_ENTRY),
        Some(b'/') => Err(code::NOT_PERMITTED),
        _ => Ok(target),
    }
}

fn names(b: &[u8]) -> impl DoubleEndedIterator<Item = &[u8]> {
    b.split(|&c| c == b'/')
}

/// Where the first byte `c` of `b` is: a word at a time (paths are scanned
/// on every open and stat, and are short: so no alignment prologue).
fn find(b: &[u8], c: u8) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let words = b.chunks_exact(8);
    let tail = b.len() - words.remainder().len();
    for (k, word) in words.enumerate() {
        // The zero-byte test on `w ^ cccccccc`: its lowest flag is exact.
        let x = u64::from_le_bytes(word.try_into().or_trap()) ^ (ONES * c as u64);
        let zero = x.wrapping_sub(ONES) & !x & (ONES << 7);
        if zero != 0 {
            return Some(k * 8 + zero.trailing_zeros() as usize / 8);
        }
    }
    let rest = b.get(tail..).or_trap();
    rest.iter().position(|&x| x == c).map(|i| tail + i)
}

/// Where the last name of `b` starts, if `b` is plain.
pub fn plain(b: &[u8]) -> Option<usize> {
    let mut start = 0;
    loop {
        let rest = b.get(start..).or_trap();
        let end = find(rest, b'/');
        // An empty name also catches the empty path and leading, trailing
        // or doubled slashes.
        if matches!(
            rest.get(..end.unwrap_or(rest.len())),
            None | Some([] | [b'.'] | [b'.', b'.'])
        ) {
            return None;
        }
        match end {
            None => return Some(start),
            Some(e) => start += e + 1,
        }
    }
}

/// Where the last slash of `b` is (0 if none).
fn last_slash(b: &[u8]) -> usize {
    b.iter().rposition(|&c| c == b'/').unwrap_or(0)
}

/// The one name a path names in its directory as Rust's `Path` sees it
/// (`f/`, `f//` and `f/.` all are `f`), which the reference host looks up
/// without following symlinks and without requiring a directory.
pub fn single_name(path: &str) -> Option<&str> {
    let mut name = None;
    for (i, n) in names(path.as_bytes()).enumerate() {
        match n {
            [] | [b'.'] if i > 0 => {}
            // Absolute, starting with `.`, or with a `..`.
            [] | [b'.'] | [b'.', b'.'] => return None,
            _ if name.is_some() => return None,
            _ => name = Some(as_str(n)),
        }
    }
    name
}

/// Drops the last name of `out`; none left means leaving the directory.
fn pop(out: &mut Vec<u8>) -> Result<()> {
    if out.is_empty() {
        return Err(code::NOT_PERMITTED);
    }
    out.truncate(last_slash(out));
    Ok(())
}

/// Appends a name to `out`; where it starts.
fn push(out: &mut Vec<u8>, name: &[u8]) -> usize {
    if !out.is_empty() {
        out.push(b'/');
    }
    out.extend_from_slice(name);
    out.len() - name.len()
}

/// Where the last `..` of `b` ends (0 if none): names before it must be
/// looked up here, as the host would not resolve them as Linux does.
fn dotdot_end(b: &[u8]) -> usize {
    let mut end = 0;
    let mut at = 0;
    for n in names(b) {
        at += n.len();
        if matches!(n, [b'.', b'.']) {
            end = at;
        }
        at += 1;
    }
    end
}

/// Makes `path` (relative to `fd`) plain, as Linux resolves it.
pub fn walk(fd: Fd, path: &str) -> Result<Walk<'_>> {
    walk_bytes(fd, Cow::Borrowed(path.as_bytes()), &mut 0)
}

/// [`walk`], with `links` symlinks followed so far in this lookup.
fn walk_bytes<'a>(fd: Fd, b: Cow<'a, [u8]>, links: &mut u32) -> Result<Walk<'a>> {
    if let Some(last) = plain(&b) {
        return Ok(Walk {
            text: b,
            last: Some(last),
            slash: false,
        });
    }
    match b.first() {
        None => return Err(code::NO_ENTRY),
        Some(b'/') => return Err(code::NOT_PERMITTED),
        _ => {}
    }
    let mut out = Vec::with_capacity(b.len());
    let mut rest: Cow<[u8]> = Cow::Borrowed(&b);
    let (mut at, mut upto) = (0, dotdot_end(&b));
    let mut last = None;
    while at < rest.len() {
        let end = rest
            .get(at..)
            .or_trap()
            .iter()
            .position(|&c| c == b'/')
            .map_or(rest.len(), |i| at + i);
        let name = rest.get(at..end).or_trap();
        at = end + 1;
        match name {
            [] | [b'.'] => {}
            [b'.', b'.'] => pop(&mut out)?,
            _ if end > upto => last = Some(push(&mut out, name)),
            _ => {
                let start = push(&mut out, name);
                let s = lstat(fd, &out)?;
                if s.filetype == wasi::FILETYPE_DIRECTORY {
                    continue;
                }
                if s.filetype != wasi::FILETYPE_SYMBOLIC_LINK {
                    return Err(code::NOT_DIRECTORY);
                }
                let mut target = follow_link(fd, &out, links)?;
                out.truncate(start.saturating_sub(1));
                // Go on with the target, then the rest of the path.
                target.push(b'/');
                target.extend_from_slice(rest.get(at..).unwrap_or_default());
                upto = dotdot_end(&target);
                (rest, at) = (Cow::Owned(target), 0);
            }
        }
    }
    // How the path ends: in a name (with a slash or not), `.` or `..`.
    let trimmed = b.iter().rposition(|&c| c != b'/').map_or(0, |i| i + 1);
    let slash = trimmed < b.len();
    let end = names(b.get(..trimmed).or_trap()).next_back();
    if out.is_empty() {
        out.push(b'.');
    }
    let w = Walk {
        text: Cow::Owned(out),
        slash: slash && last.is_some(),
        last,
    };
    match end {
        Some([b'.']) if last.is_some() => dir_in(fd, w, links),
        Some([b'.'] | [b'.', b'.']) => Ok(Walk { last: None, ..w }),
        _ => Ok(w),
    }
}

/// What `w` names, following symlinks as Linux does (Node follows one
/// lexically: `d/../b` as `b`), and its stat: one lookup where nothing is
/// a symlink.
pub fn follow(fd: Fd, w: Walk<'_>) -> Result<(Walk<'_>, wasi::Filestat)> {
    match resolve(fd, w, &mut 0)? {
        (w, Some(s)) => Ok((w, s)),
        _ => Err(code::NO_ENTRY),
    }
}

/// [`follow`], for a name that may be missing (to be created).
pub fn follow_missing(fd: Fd, w: Walk<'_>) -> Result<Walk<'_>> {
    resolve(fd, w, &mut 0).map(|(w, _)| w)
}

/// [`follow`], with `None` for a missing name.
fn resolve<'a>(
    fd: Fd,
    mut w: Walk<'a>,
    links: &mut u32,
) -> Result<(Walk<'a>, Option<wasi::Filestat>)> {
    loop {
        let s = match lstat(fd, &w.text) {
            Err(code::NO_ENTRY) => return Ok((w, None)),
            s => s?,
        };
        if s.filetype != wasi::FILETYPE_SYMBOLIC_LINK {
            if w.slash && s.filetype != wasi::FILETYPE_DIRECTORY {
                return Err(code::NOT_DIRECTORY);
            }
            return Ok((w, Some(s)));
        }
        // The target, from the link's directory.
        let target = follow_link(fd, &w.text, links)?;
        let mut path = w.text.get(..last_slash(&w.text)).or_trap().to_vec();
        push(&mut path, &target);
        let slash = w.slash;
        w = walk_bytes(fd, Cow::Owned(path), links)?;
        w.slash |= slash && !w.is_dir();
    }
}

/// `w` must name a directory (following symlinks): the walk to it.
pub fn into_dir(fd: Fd, w: Walk<'_>) -> Result<Walk<'_>> {
    dir_in(fd, w, &mut 0)
}

fn dir_in<'a>(fd: Fd, w: Walk<'a>, links: &mut u32) -> Result<Walk<'a>> {
    match resolve(fd, w, links)? {
        (_, None) => Err(code::NO_ENTRY),
        (w, Some(s)) if s.filetype == wasi::FILETYPE_DIRECTORY => Ok(Walk {
            last: None,
            slash: false,
            ..w
        }),
        _ => Err(code::NOT_DIRECTORY),
    }
}

/// `path` as the reference host splits it into a parent directory and a
/// last name: a trailing slash makes the path itself the directory (so
/// `ld/` is the directory `ld` points to, and `f/` is `not-directory`).
pub fn parent(fd: Fd, path: &str) -> Result<Walk<'_>> {
    match walk(fd, path)? {
        w if w.slash => into_dir(fd, w),
        w => Ok(w),
    }
}

impl Walk<'_> {
    /// The plain path, for the host.
    pub fn path(&self) -> &str {
        as_str(&self.text)
    }

    /// The path names a directory (see `last`).
    pub fn is_dir(&self) -> bool {
        self.last.is_none()
    }

    /// Makes plain the second path of a call (link-at, rename-at): the
    /// reference host finds the directory of this, the first, before it
    /// looks at the second.
    pub fn then<'b>(&self, fd: Fd, second: impl FnOnce() -> Result<Walk<'b>>) -> Result<Walk<'b>> {
        second().or_else(|e| {
            self.parent_found(fd)?;
            Err(e)
        })
    }

    /// Checks that the directory the last name is in can be found, for a
    /// call answered here without the host looking the path up.
    pub fn parent_found(&self, fd: Fd) -> Result<()> {
        match self.last {
            Some(at) if at > 0 => {
                let dir = Cow::Borrowed(self.text.get(..at - 1).or_trap());
                into_dir(fd, walk_bytes(fd, dir, &mut 0)?).map(drop)
            }
            _ => Ok(()),
        }
    }
}
