//! Exercises `std::fs` broadly inside the preopened directory given as the
//! first argument, printing every result (or error kind and errno) so that a
//! run can be compared line by line with a native WASI 0.2 host. The second
//! argument, if any, names a scenario to run alone.

use std::ffi::CString;
use std::fmt::Debug;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::time::{Duration, SystemTime};

extern "C" {
    // wasi-libc's symlink (std's is unstable on WASI).
    fn symlink(target: *const u8, path: *const u8) -> i32;
}

fn show<T: Debug>(what: &str, r: io::Result<T>) {
    match r {
        Ok(v) => println!("{what}: ok {v:?}"),
        Err(e) => println!("{what}: err {:?} {:?}", e.kind(), e.raw_os_error()),
    }
}

fn make_symlink(target: &str, path: &str) -> io::Result<()> {
    let (t, p) = (CString::new(target)?, CString::new(path)?);
    match unsafe { symlink(t.as_ptr() as *const u8, p.as_ptr() as *const u8) } {
        0 => Ok(()),
        _ => Err(io::Error::last_os_error()),
    }
}

/// Sorted `name type` lines of a directory.
fn listing(dir: &str) -> io::Result<Vec<String>> {
    let mut v = Vec::new();
    for e in fs::read_dir(dir)? {
        let e = e?;
        let t = e.file_type()?;
        let kind = if t.is_dir() {
            "dir"
        } else if t.is_symlink() {
            "symlink"
        } else if t.is_file() {
            "file"
        } else {
            "other"
        };
        v.push(format!("{} {kind}", e.file_name().to_string_lossy()));
    }
    v.sort();
    Ok(v)
}

fn files(root: &str) {
    let a = format!("{root}/a.txt");
    show("write", fs::write(&a, b"hello, file\n"));
    show("read", fs::read_to_string(&a));
    show(
        "append",
        OpenOptions::new()
            .append(true)
            .open(&a)
            .and_then(|mut f| f.write_all(b"more\n").and_then(|_| f.write_all(b"again\n"))),
    );
    show("read after append", fs::read_to_string(&a));
    show(
        "seek and read",
        File::open(&a).and_then(|mut f| {
            f.seek(SeekFrom::Start(7))?;
            let mut s = String::new();
            Read::by_ref(&mut f).take(4).read_to_string(&mut s)?;
            let pos = f.stream_position()?;
            let end = f.seek(SeekFrom::End(-3))?;
            let mut rest = String::new();
            f.read_to_string(&mut rest)?;
            Ok((s, pos, end, rest))
        }),
    );
    show(
        "overwrite in place",
        OpenOptions::new().write(true).open(&a).and_then(|mut f| {
            f.seek(SeekFrom::Start(0))?;
            f.write_all(b"HELLO")?;
            f.seek(SeekFrom::Current(2))?;
            f.write_all(b"FILE")
        }),
    );
    show("read overwritten", fs::read_to_string(&a));
    show(
        "read and write",
        OpenOptions::new()
            .read(true)
            .write(true)
            .open(&a)
            .and_then(|mut f| {
                let mut b = [0u8; 5];
                f.read_exact(&mut b)?;
                f.write_all(b"-")?;
                f.seek(SeekFrom::Start(0))?;
                let mut s = String::new();
                f.read_to_string(&mut s)?;
                Ok((b, s))
            }),
    );
    show(
        "truncate",
        OpenOptions::new().write(true).open(&a).and_then(|f| {
            f.set_len(5)?;
            f.metadata().map(|m| m.len())
        }),
    );
    show("read truncated", fs::read_to_string(&a));
    show(
        "extend",
        OpenOptions::new().write(true).open(&a).and_then(|f| {
            f.set_len(8)?;
            Ok(())
        }),
    );
    show("read extended", fs::read(&a));
    show(
        "create truncates",
        File::create(&a).and_then(|mut f| f.write_all(b"new")),
    );
    show("read recreated", fs::read_to_string(&a));
    show(
        "create_new exists",
        OpenOptions::new().write(true).create_new(true).open(&a),
    );
    show(
        "create_new",
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(format!("{root}/b.txt"))
            .map(|_| ()),
    );
    show("copy", fs::copy(&a, format!("{root}/c.txt")));
    show("read copy", fs::read_to_string(format!("{root}/c.txt")));
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    show("write big", fs::write(format!("{root}/big.bin"), &big));
    show(
        "read big",
        fs::read(format!("{root}/big.bin")).map(|b| (b.len(), b == big)),
    );
    show(
        "write to read-only descriptor",
        File::open(&a).and_then(|mut f| f.write_all(b"x")),
    );
    show(
        "read from write-only descriptor",
        OpenOptions::new()
            .write(true)
            .open(&a)
            .and_then(|mut f| f.read(&mut [0u8; 4])),
    );
}

fn metadata(root: &str) {
    let a = format!("{root}/a.txt");
    show(
        "metadata",
        fs::metadata(&a).map(|m| (m.len(), m.is_file(), m.is_dir(), m.file_type().is_symlink())),
    );
    show(
        "dir metadata",
        fs::metadata(root).map(|m| (m.is_file(), m.is_dir())),
    );
    let t = SystemTime::UNIX_EPOCH + Duration::new(1_000_000_000, 123_456_789);
    show(
        "set modified",
        OpenOptions::new()
            .write(true)
            .open(&a)
            .and_then(|f| f.set_modified(t)),
    );
    show(
        "modified",
        fs::metadata(&a).and_then(|m| m.modified()).map(|m| m == t),
    );
    show(
        "set times",
        OpenOptions::new().write(true).open(&a).and_then(|f| {
            f.set_times(
                fs::FileTimes::new()
                    .set_accessed(t + Duration::from_secs(5))
                    .set_modified(t + Duration::from_secs(9)),
            )
        }),
    );
    show(
        "times",
        fs::metadata(&a).and_then(|m| {
            Ok((
                m.accessed()?.duration_since(t).unwrap(),
                m.modified()?.duration_since(t).unwrap(),
            ))
        }),
    );
    show(
        "set modified read-only",
        File::open(&a).and_then(|f| f.set_modified(t)),
    );
    show(
        "now is recent",
        fs::metadata(root)
            .and_then(|m| m.modified())
            .map(|m| m.elapsed().map_or(true, |d| d < Duration::from_secs(3600))),
    );
    show("metadata missing", fs::metadata(format!("{root}/nope")));
    show(
        "permissions",
        fs::metadata(&a).map(|m| m.permissions().readonly()),
    );
}

fn dirs(root: &str) {
    show("create_dir", fs::create_dir(format!("{root}/d")));
    show("create_dir exists", fs::create_dir(format!("{root}/d")));
    show(
        "create_dir_all",
        fs::create_dir_all(format!("{root}/d/e/f")),
    );
    for i in 0..40 {
        let _ = fs::write(
            format!("{root}/d/file-with-a-long-name-{i:03}.txt"),
            [i as u8; 3],
        );
    }
    show("read_dir", listing(&format!("{root}/d")).map(|v| v.len()));
    show(
        "read_dir head",
        listing(&format!("{root}/d")).map(|v| v[..3].to_vec()),
    );
    show("read_dir root", listing(root));
    show(
        "read_dir file",
        fs::read_dir(format!("{root}/a.txt")).map(|_| ()),
    );
    show(
        "read_dir missing",
        fs::read_dir(format!("{root}/nope")).map(|_| ()),
    );
    show("remove_dir not empty", fs::remove_dir(format!("{root}/d")));
    show("remove_dir file", fs::remove_dir(format!("{root}/a.txt")));
    show("remove_file dir", fs::remove_file(format!("{root}/d")));
    show(
        "open dir and read",
        File::open(format!("{root}/d")).and_then(|mut f| f.read(&mut [0u8; 4])),
    );
    show("write dir", fs::write(format!("{root}/d"), b"x"));
    show("file as dir", fs::write(format!("{root}/a.txt/x"), b"x"));
    show("remove_dir_all", fs::remove_dir_all(format!("{root}/d/e")));
    show(
        "read_dir after",
        listing(&format!("{root}/d")).map(|v| v.len()),
    );
}

fn links(root: &str) {
    let a = format!("{root}/a.txt");
    show(
        "rename",
        fs::rename(format!("{root}/c.txt"), format!("{root}/c2.txt")),
    );
    show(
        "rename missing",
        fs::rename(format!("{root}/c.txt"), format!("{root}/c3.txt")),
    );
    show(
        "rename over",
        fs::rename(format!("{root}/c2.txt"), format!("{root}/b.txt")),
    );
    show("hard_link", fs::hard_link(&a, format!("{root}/a-link.txt")));
    show(
        "hard_link exists",
        fs::hard_link(&a, format!("{root}/b.txt")),
    );
    show(
        "read hard link",
        fs::read_to_string(format!("{root}/a-link.txt")),
    );
    show("symlink", make_symlink("a.txt", &format!("{root}/a-sym")));
    show(
        "symlink dangling",
        make_symlink("nowhere", &format!("{root}/dangling")),
    );
    show("read_link", fs::read_link(format!("{root}/a-sym")));
    show("read_link not link", fs::read_link(&a));
    show(
        "read via symlink",
        fs::read_to_string(format!("{root}/a-sym")),
    );
    show(
        "symlink_metadata",
        fs::symlink_metadata(format!("{root}/a-sym")).map(|m| m.file_type().is_symlink()),
    );
    show("read dangling", fs::read(format!("{root}/dangling")));
    show(
        "remove_file symlink",
        fs::remove_file(format!("{root}/dangling")),
    );
    show("remove_file", fs::remove_file(format!("{root}/b.txt")));
    show(
        "remove_file missing",
        fs::remove_file(format!("{root}/b.txt")),
    );
}

fn sandbox(root: &str) {
    show("escape with ..", fs::read(format!("{root}/../outside")));
    show(
        "escape via dir ..",
        fs::metadata(format!("{root}/sub/../../x")),
    );
    let _ = fs::create_dir(format!("{root}/sub"));
    show(
        "escape via existing dir ..",
        fs::metadata(format!("{root}/sub/../../x")),
    );
    show(
        "inside via ..",
        fs::metadata(format!("{root}/sub/../a.txt")).map(|m| m.len()),
    );
    show("absolute outside", fs::read("/etc/passwd"));
    show(
        "symlink out",
        make_symlink("/etc/passwd", &format!("{root}/out-link")),
    );
    show("read symlink out", fs::read(format!("{root}/out-link")));
    show(
        "create in missing dir",
        fs::write(format!("{root}/no/such/file"), b"x"),
    );
    show("empty path", fs::read(""));
}

/// Run in a read-only preopen holding `existing.txt`.
fn readonly(root: &str) {
    show("read", fs::read_to_string(format!("{root}/existing.txt")));
    show("write new", fs::write(format!("{root}/new.txt"), b"x"));
    show(
        "write existing",
        fs::write(format!("{root}/existing.txt"), b"x"),
    );
    show(
        "open for append",
        OpenOptions::new()
            .append(true)
            .open(format!("{root}/existing.txt"))
            .map(|_| ()),
    );
    show("create_dir", fs::create_dir(format!("{root}/d")));
    show(
        "remove_file",
        fs::remove_file(format!("{root}/existing.txt")),
    );
    show(
        "rename",
        fs::rename(format!("{root}/existing.txt"), format!("{root}/e.txt")),
    );
    show(
        "metadata",
        fs::metadata(format!("{root}/existing.txt")).map(|m| m.len()),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let root = args.get(1).map(String::as_str).unwrap_or("/data");
    let only = args.get(2).map(String::as_str);
    type Scenario = fn(&str);
    let scenarios: [(&str, Scenario); 6] = [
        ("files", files),
        ("metadata", metadata),
        ("dirs", dirs),
        ("links", links),
        ("sandbox", sandbox),
        ("readonly", readonly),
    ];
    for (name, f) in scenarios {
        // `readonly` needs its own preopen: run only when asked for.
        if only.map_or(name != "readonly", |o| o == name) {
            println!("== {name}");
            f(root);
        }
    }
    // Show the tree the program sees at the end.
    show("final root", listing(root));
}
