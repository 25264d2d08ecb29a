//! `fspaths`: every path-taking `wasi:filesystem` call × every name shape
//! that hosts resolve differently ("", ".", "..", trailing slashes, `..`
//! after a missing or non-directory component or a symlink, absolute
//! names, names through symlinks), in the preopen `/d` (an empty scratch
//! directory) and in a subdirectory of it. Prints one line per call, and the
//! tree whenever a call changed it (then sets the tree up again), so the
//! output natively and adapted on every runtime must be the same, but for
//! what a host cannot do: `symlink-at -> newlink` with a target that leaves
//! the directory (Node refuses it) or names something outside the preopens
//! from WAMR's working directory (`.`, `..`: WAMR says `bad-descriptor`).
//!
//! The tree: `f` (a file), `dir/` (with `g` and `sub/`), `lf` → f,
//! `ld` → dir, `lsub` → dir/sub (its `..` is `dir`, lexically `.`),
//! `dangling` → nowhere, `loop` → loop, and links whose target has a `..`
//! a lexical lookup gets wrong: `lx` → lsub/../g (`dir/g`, lexically `g`),
//! `ly` → missing/../f (nothing, lexically `f`).

use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{
    Descriptor, DescriptorFlags, DescriptorType, ErrorCode, NewTimestamp, OpenFlags, PathFlags,
};

const LINKS: &[(&str, &str)] = &[
    ("lf", "f"),
    ("ld", "dir"),
    ("lsub", "dir/sub"),
    ("dangling", "nowhere"),
    ("loop", "loop"),
    ("lx", "lsub/../g"),
    ("ly", "missing/../f"),
];

/// Names tried from the preopen: each entry with every suffix, then the
/// shapes of `..` and `.` in the middle.
fn root_names() -> Vec<String> {
    let mut v: Vec<String> = [
        "", ".", "..", "./", "/", "//", "/abs", "/d/f", "../d/f", "../x", "new", "new/", "new//",
    ]
    .map(String::from)
    .to_vec();
    for x in [
        "f", "dir", "lf", "ld", "lsub", "dangling", "loop", "lx", "ly", "missing", "dir/sub",
        "dir/g",
    ] {
        for s in ["", "/", "//", "/.", "/.."] {
            v.push(format!("{x}{s}"));
        }
    }
    v.extend(
        [
            "missing/../f",
            "f/../f",
            "dir/../f",
            "ld/../f",
            "lf/../f",
            "lsub/../g",
            "lsub/../../f",
            "dangling/../f",
            "loop/../f",
            "dir/sub/../../f",
            "dir/../dir/g",
            "dir/../..",
            "dir/../../d/f",
            "dir/./g",
            "./f",
            ".//f",
            "dir//g",
            "ld/g",
            "ld/g/",
            "lf/g",
            "lsub/x",
            "dir/missing",
            "dir/new",
            "ld/new",
            "missing/new",
            "f/new",
            "dangling/new",
            "loop/new",
            "dir/../new",
            "missing/../new",
            "ld/../new/",
        ]
        .map(String::from),
    );
    v
}

/// Names tried from `dir`: leaving it, coming back, and the odd shapes.
fn sub_names() -> Vec<String> {
    [
        "",
        ".",
        "..",
        "../",
        "../f",
        "../dir/g",
        "../../d/f",
        "sub/..",
        "sub/../..",
        "sub/../../f",
        "g/..",
        "g/",
        "sub/",
        "sub/.",
        "/abs",
        "new",
        "../new",
    ]
    .map(String::from)
    .to_vec()
}

fn code(e: ErrorCode) -> String {
    e.name().to_string()
}

fn done(r: Result<(), ErrorCode>) -> String {
    r.map_or_else(code, |()| "ok".into())
}

fn rw(write: bool) -> DescriptorFlags {
    if write {
        DescriptorFlags::READ | DescriptorFlags::WRITE
    } else {
        DescriptorFlags::READ
    }
}

fn pflags(follow: bool) -> PathFlags {
    if follow {
        PathFlags::SYMLINK_FOLLOW
    } else {
        PathFlags::empty()
    }
}

fn fname(follow: bool) -> &'static str {
    if follow {
        "follow"
    } else {
        "nofollow"
    }
}

fn time(t: Option<wasip2::clocks::wall_clock::Datetime>) -> String {
    match t {
        Some(t) if t.seconds < 1_000_000_000 => format!(" t{}", t.seconds),
        _ => String::new(),
    }
}

/// Removes everything in `d`.
fn clear(d: &Descriptor) {
    let Ok(entries) = d.read_directory() else {
        return;
    };
    let mut names = Vec::new();
    while let Ok(Some(e)) = entries.read_directory_entry() {
        names.push(e.name);
    }
    for n in names {
        let st = d.stat_at(PathFlags::empty(), &n);
        if matches!(st, Ok(ref s) if s.type_ == DescriptorType::Directory) {
            if let Ok(sub) = d.open_at(
                PathFlags::empty(),
                &n,
                OpenFlags::DIRECTORY,
                DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY,
            ) {
                clear(&sub);
            }
            let _ = d.remove_directory_at(&n);
        } else {
            let _ = d.unlink_file_at(&n);
        }
    }
}

/// What is in `d`, sorted, one entry a word: name, type, size of a file,
/// target of a link, times we set.
fn list(d: &Descriptor, prefix: &str, out: &mut Vec<String>) {
    let Ok(entries) = d.read_directory() else {
        out.push(format!("{prefix}?"));
        return;
    };
    let mut names = Vec::new();
    while let Ok(Some(e)) = entries.read_directory_entry() {
        names.push(e.name);
    }
    names.sort();
    for n in names {
        let path = format!("{prefix}{n}");
        match d.stat_at(PathFlags::empty(), &n) {
            Ok(s) => {
                let t = time(s.data_modification_timestamp);
                match s.type_ {
                    DescriptorType::Directory => {
                        out.push(format!("{path}/{t}"));
                        if let Ok(sub) =
                            d.open_at(PathFlags::empty(), &n, OpenFlags::DIRECTORY, rw(false))
                        {
                            list(&sub, &format!("{path}/"), out);
                        }
                    }
                    DescriptorType::SymbolicLink => {
                        let to = d.readlink_at(&n).unwrap_or_else(code);
                        out.push(format!("{path}->{to}{t}"));
                    }
                    DescriptorType::RegularFile => out.push(format!("{path}:{}{t}", s.size)),
                    ty => out.push(format!("{path}:{ty:?}")),
                }
            }
            Err(e) => out.push(format!("{path}:{}", code(e))),
        }
    }
}

fn tree(root: &Descriptor) -> String {
    let mut out = Vec::new();
    list(root, "", &mut out);
    out.join(" ")
}

fn write_file(d: &Descriptor, name: &str, bytes: &[u8]) {
    let f = d
        .open_at(
            PathFlags::empty(),
            name,
            OpenFlags::CREATE | OpenFlags::TRUNCATE,
            rw(true),
        )
        .expect("create a file");
    f.write(bytes, 0).expect("write a file");
}

fn setup(root: &Descriptor) {
    clear(root);
    write_file(root, "f", b"hello");
    root.create_directory_at("dir").expect("mkdir dir");
    root.create_directory_at("dir/sub").expect("mkdir dir/sub");
    write_file(root, "dir/g", b"gg");
    for (name, target) in LINKS {
        root.symlink_at(target, name).expect("symlink");
    }
}

/// One base directory the names are tried in, and the names of a file and
/// a directory in it for the other side of two-path calls.
struct Base {
    label: &'static str,
    file: &'static str,
    dir: &'static str,
    names: Vec<String>,
}

struct Probe {
    root: Descriptor,
    sub: Descriptor,
    initial: String,
    /// Metadata hashes (not following links) of the tree's objects.
    known: Vec<((u64, u64), &'static str)>,
}

impl Probe {
    fn new(root: Descriptor) -> Probe {
        setup(&root);
        let sub = open_sub(&root);
        let initial = tree(&root);
        let mut p = Probe {
            root,
            sub,
            initial,
            known: Vec::new(),
        };
        p.learn();
        p
    }

    fn learn(&mut self) {
        self.known.clear();
        for (path, name) in [
            (".", "root"),
            ("f", "f"),
            ("dir", "dir"),
            ("dir/g", "g"),
            ("dir/sub", "sub"),
            ("lf", "lf"),
            ("ld", "ld"),
            ("lsub", "lsub"),
            ("dangling", "dangling"),
            ("loop", "loop"),
            ("lx", "lx"),
            ("ly", "ly"),
        ] {
            let h = self
                .root
                .metadata_hash_at(PathFlags::empty(), path)
                .expect("hash a known object");
            self.known.push(((h.lower, h.upper), name));
        }
    }

    fn which(&self, h: Result<wasip2::filesystem::types::MetadataHashValue, ErrorCode>) -> String {
        match h {
            Ok(h) => self
                .known
                .iter()
                .find(|(k, _)| *k == (h.lower, h.upper))
                .map_or("other", |(_, n)| n)
                .to_string(),
            Err(e) => format!("hash {}", code(e)),
        }
    }

    fn base(&self, label: &str) -> &Descriptor {
        if label == "dir" {
            &self.sub
        } else {
            &self.root
        }
    }

    /// After a call that may change the tree: prints the tree if it did,
    /// and sets it up again.
    fn check(&mut self) {
        let now = tree(&self.root);
        if now != self.initial {
            println!("    tree: {now}");
            setup(&self.root);
            self.sub = open_sub(&self.root);
            self.learn();
        }
    }

    fn run(&mut self, b: &Base) {
        let timestamp = |s| {
            NewTimestamp::Timestamp(wasip2::clocks::wall_clock::Datetime {
                seconds: s,
                nanoseconds: 0,
            })
        };
        for n in &b.names {
            let at = format!("{} {n:?}", b.label);
            for follow in [false, true] {
                let d = self.base(b.label);
                let got = match d.stat_at(pflags(follow), n) {
                    Ok(s) => format!(
                        "{:?} {}",
                        s.type_,
                        self.which(d.metadata_hash_at(pflags(follow), n))
                    ),
                    Err(e) => code(e),
                };
                println!("stat-at {} {at} -> {got}", fname(follow));
            }
            for follow in [false, true] {
                for (o, write) in [
                    (OpenFlags::empty(), false),
                    (OpenFlags::empty(), true),
                    (OpenFlags::DIRECTORY, false),
                    (OpenFlags::CREATE, true),
                    (OpenFlags::CREATE | OpenFlags::EXCLUSIVE, true),
                    (OpenFlags::TRUNCATE, true),
                ] {
                    let d = self.base(b.label);
                    let got = match d.open_at(pflags(follow), n, o, rw(write)) {
                        Ok(f) => format!(
                            "{:?} {}",
                            f.get_type().map_err(code),
                            self.which(f.metadata_hash())
                        ),
                        Err(e) => code(e),
                    };
                    println!(
                        "open-at {} {at} {o:?} {:?} -> {got}",
                        fname(follow),
                        rw(write)
                    );
                    self.check();
                }
            }
            for follow in [false, true] {
                for (what, a, m) in [
                    ("no-change", NewTimestamp::NoChange, NewTimestamp::NoChange),
                    ("set", timestamp(800_000_000), timestamp(900_000_000)),
                    ("now/no-change", NewTimestamp::Now, NewTimestamp::NoChange),
                ] {
                    let got = done(self.base(b.label).set_times_at(pflags(follow), n, a, m));
                    println!("set-times-at {} {at} {what} -> {got}", fname(follow));
                    self.check();
                }
            }
            let d = self.base(b.label);
            let got = d.readlink_at(n).map_or_else(code, |t| format!("{t:?}"));
            println!("readlink-at {at} -> {got}");
            type Call = fn(&Descriptor, &str, &Base) -> Result<(), ErrorCode>;
            let calls: &[(&str, Call)] = &[
                ("create-directory-at", |d, n, _| d.create_directory_at(n)),
                ("remove-directory-at", |d, n, _| d.remove_directory_at(n)),
                ("unlink-file-at", |d, n, _| d.unlink_file_at(n)),
                ("symlink-at (file) ->", |d, n, b| d.symlink_at(b.file, n)),
                ("symlink-at -> newlink", |d, n, _| {
                    d.symlink_at(n, "newlink")
                }),
                ("link-at -> newlink", |d, n, _| {
                    d.link_at(PathFlags::empty(), n, d, "newlink")
                }),
                ("link-at (file) ->", |d, n, b| {
                    d.link_at(PathFlags::empty(), b.file, d, n)
                }),
                ("rename-at -> renamed", |d, n, _| {
                    d.rename_at(n, d, "renamed")
                }),
                ("rename-at (file) ->", |d, n, b| d.rename_at(b.file, d, n)),
                ("rename-at (dir) ->", |d, n, b| d.rename_at(b.dir, d, n)),
            ];
            for (what, call) in calls {
                let got = done(call(self.base(b.label), n, b));
                println!("{what} {at} -> {got}");
                self.check();
            }
        }
    }
}

fn open_sub(root: &Descriptor) -> Descriptor {
    root.open_at(
        PathFlags::empty(),
        "dir",
        OpenFlags::DIRECTORY,
        DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY,
    )
    .expect("open dir")
}

fn main() {
    let root = get_directories()
        .into_iter()
        .find(|(_, p)| p == "/d")
        .expect("a preopen /d")
        .0;
    let mut p = Probe::new(root);
    println!("tree: {}", p.initial);
    p.run(&Base {
        label: "/d",
        file: "f",
        dir: "dir/sub",
        names: root_names(),
    });
    p.run(&Base {
        label: "dir",
        file: "g",
        dir: "sub",
        names: sub_names(),
    });
    clear(&p.root);
}
