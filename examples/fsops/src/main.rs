//! `fsops SEED [OPS]`: a random sequence of `wasi:filesystem` and stream
//! operations, chosen by SEED, in the preopen `/d`, printing each one and
//! its result. For differential tests: natively and adapted, on every
//! runtime, the lines (and the tree left in `/d`) must be the same.
//!
//! Everything printed is what the spec defines, not what a host may choose:
//! directory entries are sorted, directory sizes left out, and times the
//! host sets itself ("now") print as `now`.

use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{
    filesystem_error_code, Descriptor, DescriptorFlags, DescriptorStat, DescriptorType, ErrorCode,
    NewTimestamp, OpenFlags, PathFlags,
};
use wasip2::io::streams::{InputStream, OutputStream, StreamError};

/// Names the operations pick from: files, directories, links, names that
/// leave the preopen or are malformed.
const NAMES: &[&str] = &[
    "a",
    "b",
    "c",
    "d",
    "d/a",
    "d/e",
    "d/e/f",
    "l",
    "m",
    "a/",
    "d/",
    ".",
    "..",
    "../x",
    "/abs",
    "d/../a",
    "",
    "d/e/../../b",
];
/// Symlink targets: relative, dangling, escaping, absolute, loops.
const TARGETS: &[&str] = &[
    "a", "d", "d/a", "nowhere", "../x", "/etc", "l", "m", "d/../b",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a, T>(&mut self, from: &'a [T]) -> &'a T {
        &from[self.below(from.len() as u64) as usize]
    }
    fn chance(&mut self, one_in: u64) -> bool {
        self.below(one_in) == 0
    }
}

struct State {
    /// Open descriptors and how they were opened; 0 is the preopen.
    descs: Vec<(Descriptor, String)>,
    /// Each descriptor's path from the preopen (its own is `.`).
    paths: Vec<String>,
    ins: Vec<InputStream>,
    outs: Vec<OutputStream>,
    /// Bytes written so far, so contents differ from write to write.
    written: u64,
}

fn code(e: ErrorCode) -> String {
    e.name().to_string()
}

fn stream_err(e: StreamError) -> String {
    match e {
        StreamError::Closed => "closed".into(),
        StreamError::LastOperationFailed(e) => format!("failed {:?}", filesystem_error_code(&e)),
    }
}

/// FNV-1a, to print what was read without printing it.
fn hash(bytes: &[u8]) -> String {
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for &b in bytes {
        h = (h ^ b as u64).wrapping_mul(0x100_0000_01b3);
    }
    format!("{} bytes {:08x}", bytes.len(), h as u32)
}

fn time(t: Option<wasip2::clocks::wall_clock::Datetime>) -> String {
    match t {
        None => "-".into(),
        // Ours: set by `set-times`, to a time in the 1990s.
        Some(t) if t.seconds < 1_000_000_000 => format!("{}.{:09}", t.seconds, t.nanoseconds),
        Some(_) => "now".into(),
    }
}

fn stat(s: &DescriptorStat) -> String {
    let size = match s.type_ {
        DescriptorType::Directory => String::new(),
        _ => format!(" size {}", s.size),
    };
    format!(
        "{:?} links {}{size} atime {} mtime {}",
        s.type_,
        s.link_count,
        time(s.data_access_timestamp),
        time(s.data_modification_timestamp)
    )
}

fn result<T>(r: Result<T, ErrorCode>, ok: impl FnOnce(T) -> String) -> String {
    match r {
        Ok(v) => ok(v),
        Err(e) => code(e),
    }
}

/// Up to `max` bytes to write, numbered on from the last ones written.
fn bytes(r: &mut Rng, written: &mut u64, max: u64) -> Vec<u8> {
    let n = r.below(max + 1);
    let start = *written;
    *written += n;
    (start..start + n)
        .map(|i| (i * 7 + i / 251) as u8)
        .collect()
}

fn path_flags(r: &mut Rng) -> PathFlags {
    if r.chance(2) {
        PathFlags::SYMLINK_FOLLOW
    } else {
        PathFlags::empty()
    }
}

fn new_time(r: &mut Rng) -> (NewTimestamp, String) {
    match r.below(3) {
        0 => (NewTimestamp::NoChange, "no-change".into()),
        1 => (NewTimestamp::Now, "now".into()),
        _ => {
            let seconds = 800_000_000 + r.below(100_000_000);
            let nanoseconds = if r.chance(2) {
                0
            } else {
                r.below(1_000_000) as u32 * 1000
            };
            let t = wasip2::clocks::wall_clock::Datetime {
                seconds,
                nanoseconds,
            };
            (
                NewTimestamp::Timestamp(t),
                format!("{seconds}.{nanoseconds:09}"),
            )
        }
    }
}

impl State {
    /// Whether directory descriptor `d`'s path from the preopen no longer
    /// names it (renamed or removed since). Then Node differs (uvwasi does
    /// everything through a directory descriptor by that path), and the
    /// test knows it from this mark.
    fn moved(&self, d: usize) -> bool {
        let (desc, root) = (&self.descs[d].0, &self.descs[0].0);
        if d == 0 || desc.get_type() != Ok(DescriptorType::Directory) {
            return false;
        }
        let flags = DescriptorFlags::empty();
        match root.open_at(
            PathFlags::SYMLINK_FOLLOW,
            &self.paths[d],
            OpenFlags::empty(),
            flags,
        ) {
            Ok(again) => !again.is_same_object(desc),
            Err(_) => true,
        }
    }

    /// Performs one operation, returning what to print.
    fn step(&mut self, r: &mut Rng) -> String {
        let op = r.below(100);
        let name = *r.pick(NAMES);
        let n = self.descs.len() as u64;
        let d = r.below(n) as usize;
        let (dir, how) = (&self.descs[d].0, self.descs[d].1.clone());
        let on = match self.moved(d) {
            true => format!("#{d}({how}, moved)"),
            false => format!("#{d}({how})"),
        };
        match op {
            0..=13 => {
                let pf = path_flags(r);
                let mut o = OpenFlags::empty();
                for (bit, f) in [
                    (3, OpenFlags::CREATE),
                    (6, OpenFlags::DIRECTORY),
                    (5, OpenFlags::EXCLUSIVE),
                    (5, OpenFlags::TRUNCATE),
                ] {
                    if r.chance(bit) {
                        o |= f;
                    }
                }
                let mut f = DescriptorFlags::empty();
                for (bit, flag) in [
                    (2, DescriptorFlags::READ),
                    (2, DescriptorFlags::WRITE),
                    (4, DescriptorFlags::MUTATE_DIRECTORY),
                    (40, DescriptorFlags::FILE_INTEGRITY_SYNC),
                    (40, DescriptorFlags::REQUESTED_WRITE_SYNC),
                ] {
                    if r.chance(bit) {
                        f |= flag;
                    }
                }
                let what = format!("open-at {on} {pf:?} {name:?} {o:?} {f:?}");
                match dir.open_at(pf, name, o, f) {
                    Ok(new) => {
                        let ty = new.get_type();
                        let flags = new.get_flags();
                        let line = format!("{what} -> #{} {ty:?} {flags:?}", self.descs.len());
                        if self.descs.len() < 10 {
                            let path = match self.paths[d].as_str() {
                                "." => name.to_string(),
                                p => format!("{p}/{name}"),
                            };
                            self.descs.push((new, name.to_string()));
                            self.paths.push(path);
                        }
                        line
                    }
                    Err(e) => format!("{what} -> {}", code(e)),
                }
            }
            14..=21 => {
                let len = r.below(5000);
                let off = r.below(12_000);
                let got = result(dir.read(len, off), |(b, eof)| {
                    format!("{} eof {eof}", hash(&b))
                });
                format!("read {on} {len} @{off} -> {got}")
            }
            22..=29 => {
                let off = r.below(12_000);
                let bytes = bytes(r, &mut self.written, 3000);
                let got = result(dir.write(&bytes, off), |n| format!("wrote {n}"));
                format!("write {on} {} @{off} -> {got}", bytes.len())
            }
            30..=33 => {
                let off = r.below(8000);
                let got = match dir.read_via_stream(off) {
                    Ok(s) => {
                        self.ins.push(s);
                        format!("in{}", self.ins.len() - 1)
                    }
                    Err(e) => code(e),
                };
                format!("read-via-stream {on} @{off} -> {got}")
            }
            34..=38 => {
                let append = r.chance(3);
                let off = r.below(8000);
                let (what, s) = if append {
                    ("append-via-stream".to_string(), dir.append_via_stream())
                } else {
                    (
                        format!("write-via-stream @{off}"),
                        dir.write_via_stream(off),
                    )
                };
                let got = match s {
                    Ok(s) => {
                        self.outs.push(s);
                        format!("out{}", self.outs.len() - 1)
                    }
                    Err(e) => code(e),
                };
                format!("{what} {on} -> {got}")
            }
            39..=44 if !self.ins.is_empty() => {
                let i = r.below(self.ins.len() as u64) as usize;
                let len = r.below(6000);
                let s = &self.ins[i];
                // How much one call moves is the host's choice: loop until
                // `len` or the end, so what is printed is defined.
                // A non-blocking read or skip waits for the stream first and
                // moves 4 KiB a time: wasmtime reads that much ahead when
                // asked whether it is ready, and keeps what is left over.
                let kind = r.below(4);
                let what = ["read", "blocking-read", "skip", "blocking-skip"][kind as usize];
                let len = if kind % 2 == 0 {
                    len / 2048 * 4096
                } else {
                    len
                };
                let step = |moved: u64| match kind % 2 {
                    0 => 4096,
                    _ => len - moved,
                };
                let (mut all, mut moved, mut end) = (Vec::new(), 0, None);
                while moved < len {
                    if kind % 2 == 0 {
                        s.subscribe().block();
                    }
                    let done = match kind {
                        0 => s.read(step(moved)).map(|b| all.extend(b)),
                        1 => s.blocking_read(step(moved)).map(|b| all.extend(b)),
                        2 => s.skip(step(moved)).map(|n| moved += n),
                        _ => s.blocking_skip(step(moved)).map(|n| moved += n),
                    };
                    if kind < 2 {
                        moved = all.len() as u64;
                    }
                    if let Err(e) = done {
                        end = Some(stream_err(e));
                        break;
                    }
                }
                let got = match kind < 2 {
                    true => hash(&all),
                    false => format!("skipped {moved}"),
                };
                let got = match end {
                    Some(e) => format!("{got}, then {e}"),
                    None => got,
                };
                format!("{what} in{i} {len} -> {got}")
            }
            45..=50 if !self.outs.is_empty() => {
                let i = r.below(self.outs.len() as u64) as usize;
                let zeroes = r.chance(5);
                let bytes = bytes(r, &mut self.written, 4096);
                let s = &self.outs[i];
                let got = if zeroes {
                    s.blocking_write_zeroes_and_flush(bytes.len() as u64)
                } else if r.chance(2) {
                    s.blocking_write_and_flush(&bytes)
                } else {
                    // check-write's budget is the host's to choose: write
                    // within it, print only whether it held.
                    match s.check_write() {
                        Ok(n) => {
                            let n = (n as usize).min(bytes.len());
                            s.write(&bytes[..n]).and_then(|()| s.blocking_flush())
                        }
                        Err(e) => Err(e),
                    }
                };
                let kind = if zeroes { "write-zeroes" } else { "write" };
                let got = got.map(|()| "ok".to_string()).unwrap_or_else(stream_err);
                format!("{kind} out{i} {} -> {got}", bytes.len())
            }
            51..=53 => {
                let size = r.below(20_000);
                let got = result(dir.set_size(size), |()| "ok".into());
                format!("set-size {on} {size} -> {got}")
            }
            54..=58 => format!("stat {on} -> {}", result(dir.stat(), |s| stat(&s))),
            59..=64 => {
                let pf = path_flags(r);
                let got = result(dir.stat_at(pf, name), |s| stat(&s));
                format!("stat-at {on} {pf:?} {name:?} -> {got}")
            }
            65..=67 => {
                let (a, an) = new_time(r);
                let (m, mn) = new_time(r);
                let got = result(dir.set_times(a, m), |()| "ok".into());
                format!("set-times {on} {an} {mn} -> {got}")
            }
            68..=69 => {
                let pf = path_flags(r);
                let (a, an) = new_time(r);
                let (m, mn) = new_time(r);
                let got = result(dir.set_times_at(pf, name, a, m), |()| "ok".into());
                format!("set-times-at {on} {pf:?} {name:?} {an} {mn} -> {got}")
            }
            70..=72 => {
                let to = *r.pick(NAMES);
                let d2 = r.below(n) as usize;
                let got = result(dir.rename_at(name, &self.descs[d2].0, to), |()| "ok".into());
                format!("rename-at {on} {name:?} #{d2} {to:?} -> {got}")
            }
            73..=74 => {
                let pf = path_flags(r);
                let to = *r.pick(NAMES);
                let d2 = r.below(n) as usize;
                let got = result(dir.link_at(pf, name, &self.descs[d2].0, to), |()| {
                    "ok".into()
                });
                format!("link-at {on} {pf:?} {name:?} #{d2} {to:?} -> {got}")
            }
            75..=77 => {
                let target = *r.pick(TARGETS);
                let got = result(dir.symlink_at(target, name), |()| "ok".into());
                format!("symlink-at {on} {target:?} {name:?} -> {got}")
            }
            78..=79 => {
                let got = result(dir.readlink_at(name), |t| format!("{t:?}"));
                format!("readlink-at {on} {name:?} -> {got}")
            }
            80..=83 => {
                let got = result(dir.read_directory(), |entries| {
                    let mut all = Vec::new();
                    loop {
                        match entries.read_directory_entry() {
                            // As wasi-libc's `readdir`: the entry's hash
                            // at once (its `d_ino`), which must be the
                            // object's as the file opened says it.
                            Ok(Some(e)) => {
                                let listed = dir.metadata_hash_at(PathFlags::empty(), &e.name);
                                let opened = match e.type_ {
                                    DescriptorType::RegularFile | DescriptorType::Directory => dir
                                        .open_at(
                                            PathFlags::empty(),
                                            &e.name,
                                            OpenFlags::empty(),
                                            DescriptorFlags::READ,
                                        )
                                        .and_then(|f| f.metadata_hash()),
                                    _ => listed,
                                };
                                let same = match (listed, opened) {
                                    (Ok(a), Ok(b)) if (a.lower, a.upper) == (b.lower, b.upper) => "",
                                    (Ok(_), Ok(_)) => " (hash differs)",
                                    _ => " (no hash)",
                                };
                                all.push(format!("{}:{:?}{same}", e.name, e.type_))
                            }
                            Ok(None) => break,
                            Err(e) => {
                                all.push(code(e));
                                break;
                            }
                        }
                    }
                    all.sort();
                    all.join(" ")
                });
                format!("read-directory {on} -> {got}")
            }
            84..=86 => {
                let got = result(dir.create_directory_at(name), |()| "ok".into());
                format!("create-directory-at {on} {name:?} -> {got}")
            }
            87..=88 => {
                let got = result(dir.remove_directory_at(name), |()| "ok".into());
                format!("remove-directory-at {on} {name:?} -> {got}")
            }
            89..=91 => {
                let got = result(dir.unlink_file_at(name), |()| "ok".into());
                format!("unlink-file-at {on} {name:?} -> {got}")
            }
            92 => {
                let d2 = r.below(n) as usize;
                let same = dir.is_same_object(&self.descs[d2].0);
                format!("is-same-object {on} #{d2} -> {same}")
            }
            93 => {
                let got = result(dir.sync_data(), |()| "ok".into());
                let got2 = result(dir.sync(), |()| "ok".into());
                format!("sync-data, sync {on} -> {got}, {got2}")
            }
            94..=96 if d > 0 => {
                self.descs.remove(d);
                self.paths.remove(d);
                format!("drop {on}")
            }
            97 if !self.ins.is_empty() => {
                let i = r.below(self.ins.len() as u64) as usize;
                self.ins.remove(i);
                format!("drop in{i}")
            }
            98 if !self.outs.is_empty() => {
                let i = r.below(self.outs.len() as u64) as usize;
                self.outs.remove(i);
                format!("drop out{i}")
            }
            _ => format!(
                "get-flags {on} -> {}",
                result(dir.get_flags(), |f| format!("{f:?}"))
            ),
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .expect("fsops SEED [OPS]");
    let ops: usize = args.get(2).map_or(300, |s| s.parse().expect("OPS"));
    let root = get_directories()
        .into_iter()
        .find(|(_, p)| p == "/d")
        .expect("a preopen /d")
        .0;
    let mut s = State {
        descs: vec![(root, "/d".into())],
        paths: vec![".".into()],
        ins: Vec::new(),
        outs: Vec::new(),
        written: 0,
    };
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    for i in 0..ops {
        println!("{i}: {}", s.step(&mut r));
    }
}
