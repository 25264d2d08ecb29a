//! Calls `wasi:filesystem` directly (through the `wasip2` crate): offsets,
//! several streams on one file, directory-entry-stream, is-same-object,
//! metadata-hash, stream errors. Prints every result for comparison with a
//! native WASI 0.2 host.

use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{
    filesystem_error_code, Advice, Descriptor, DescriptorFlags, DescriptorType, ErrorCode,
    NewTimestamp, OpenFlags, PathFlags,
};
use wasip2::io::streams::StreamError;

fn open(
    dir: &Descriptor,
    path: &str,
    o: OpenFlags,
    f: DescriptorFlags,
) -> Result<Descriptor, ErrorCode> {
    dir.open_at(PathFlags::SYMLINK_FOLLOW, path, o, f)
}

fn stream_err(e: StreamError) -> String {
    match e {
        StreamError::Closed => "closed".into(),
        StreamError::LastOperationFailed(e) => format!("failed {:?}", filesystem_error_code(&e)),
    }
}

fn main() {
    let dirs = get_directories();
    println!(
        "preopens: {:?}",
        dirs.iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>()
    );
    let (root, _) = dirs
        .iter()
        .find(|(_, p)| p == "/data")
        .expect("/data preopen");
    println!(
        "root type: {:?} flags: {:?}",
        root.get_type(),
        root.get_flags()
    );
    let rw = DescriptorFlags::READ | DescriptorFlags::WRITE;
    let f = open(
        root,
        "direct.txt",
        OpenFlags::CREATE | OpenFlags::TRUNCATE,
        rw,
    )
    .unwrap();
    println!("file type: {:?} flags: {:?}", f.get_type(), f.get_flags());

    // Writes and reads at offsets.
    println!("write at 0: {:?}", f.write(b"0123456789", 0));
    println!("write at 20: {:?}", f.write(b"tail", 20));
    println!("read 5 at 3: {:?}", f.read(5, 3));
    println!("read at 10: {:?}", f.read(12, 10));
    println!("read at end: {:?}", f.read(4, 24));
    println!("read past end: {:?}", f.read(4, 100));
    println!(
        "stat size: {:?}",
        f.stat().map(|s| (s.type_, s.size, s.link_count))
    );

    // Two streams on one descriptor keep separate offsets.
    let r1 = f.read_via_stream(0).unwrap();
    let r2 = f.read_via_stream(5).unwrap();
    println!("r1: {:?}", r1.blocking_read(3).map_err(stream_err));
    println!("r2: {:?}", r2.blocking_read(3).map_err(stream_err));
    println!("r1 again: {:?}", r1.blocking_read(3).map_err(stream_err));
    println!("r1 skip: {:?}", r1.blocking_skip(100).map_err(stream_err));
    println!("r1 at end: {:?}", r1.blocking_read(3).map_err(stream_err));
    println!("r1 ready: {}", r1.subscribe().ready());
    let w1 = f.write_via_stream(2).unwrap();
    let w2 = f.write_via_stream(12).unwrap();
    println!(
        "w1: {:?}",
        w1.blocking_write_and_flush(b"ab").map_err(stream_err)
    );
    println!(
        "w2: {:?}",
        w2.blocking_write_and_flush(b"XY").map_err(stream_err)
    );
    println!(
        "w1 again: {:?}",
        w1.blocking_write_and_flush(b"cd").map_err(stream_err)
    );
    println!(
        "w1 check-write > 0: {:?}",
        w1.check_write().map(|n| n > 0).map_err(stream_err)
    );
    println!(
        "w1 zeroes: {:?}",
        w1.blocking_write_zeroes_and_flush(2).map_err(stream_err)
    );
    println!("w2 ready: {}", w2.subscribe().ready());
    let a = f.append_via_stream().unwrap();
    println!(
        "append: {:?}",
        a.blocking_write_and_flush(b"+end").map_err(stream_err)
    );
    println!(
        "contents: {:?}",
        f.read(100, 0)
            .map(|(b, e)| (String::from_utf8_lossy(&b).into_owned(), e))
    );
    drop((r1, r2, w1, w2, a));

    // Streams outlive their descriptor, as on a native host.
    let s = f.read_via_stream(0).unwrap();
    drop(f);
    println!(
        "stream after descriptor drop: {:?}",
        s.blocking_read(4).map_err(stream_err)
    );
    drop(s);

    // Stream errors carry a filesystem error-code.
    let f = open(root, "direct.txt", OpenFlags::empty(), rw).unwrap();
    let w = f.write_via_stream(u64::MAX - 1).unwrap();
    println!(
        "write at huge offset: {:?}",
        w.blocking_write_and_flush(b"x").map_err(stream_err)
    );
    drop(w);

    // Permissions a native host checks.
    let ro = open(
        root,
        "direct.txt",
        OpenFlags::empty(),
        DescriptorFlags::READ,
    )
    .unwrap();
    println!("ro flags: {:?}", ro.get_flags());
    println!("ro write: {:?}", ro.write(b"x", 0));
    println!(
        "ro write-via-stream: {:?}",
        ro.write_via_stream(0).map(|_| ())
    );
    println!(
        "ro append-via-stream: {:?}",
        ro.append_via_stream().map(|_| ())
    );
    println!("ro set-size: {:?}", ro.set_size(1));
    let wo = open(
        root,
        "direct.txt",
        OpenFlags::empty(),
        DescriptorFlags::WRITE,
    )
    .unwrap();
    println!("wo read: {:?}", wo.read(1, 0));
    println!(
        "wo read-via-stream: {:?}",
        wo.read_via_stream(0).map(|_| ())
    );
    println!("wo set-size: {:?}", wo.set_size(4));
    println!("wo sync: {:?} {:?}", wo.sync(), wo.sync_data());
    println!("advise: {:?}", wo.advise(0, 4, Advice::Sequential));
    println!("size now: {:?}", ro.stat().map(|s| s.size));

    // Times.
    let t = wasip2::clocks::wall_clock::Datetime {
        seconds: 1_500_000_000,
        nanoseconds: 42,
    };
    println!(
        "set-times: {:?}",
        wo.set_times(NewTimestamp::Timestamp(t), NewTimestamp::NoChange)
    );
    println!("atime: {:?}", ro.stat().map(|s| s.data_access_timestamp));
    println!(
        "set-times-at: {:?}",
        root.set_times_at(
            PathFlags::empty(),
            "direct.txt",
            NewTimestamp::NoChange,
            NewTimestamp::Timestamp(t)
        )
    );
    println!(
        "mtime: {:?}",
        root.stat_at(PathFlags::empty(), "direct.txt")
            .map(|s| s.data_modification_timestamp)
    );

    // Identity.
    println!("same object (two opens): {}", ro.is_same_object(&wo));
    println!("same object (file vs dir): {}", ro.is_same_object(root));
    let hash = |h: wasip2::filesystem::types::MetadataHashValue| (h.lower, h.upper);
    let h1 = hash(ro.metadata_hash().unwrap());
    let h2 = hash(
        root.metadata_hash_at(PathFlags::empty(), "direct.txt")
            .unwrap(),
    );
    let h3 = hash(root.metadata_hash().unwrap());
    println!("hash stable: {} differs from dir: {}", h1 == h2, h1 != h3);
    println!(
        "hash missing: {:?}",
        root.metadata_hash_at(PathFlags::empty(), "nope")
    );

    // Directories.
    println!("mkdir: {:?}", root.create_directory_at("sub"));
    println!("mkdir again: {:?}", root.create_directory_at("sub"));
    let sub = open(
        root,
        "sub",
        OpenFlags::DIRECTORY,
        DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY,
    )
    .unwrap();
    println!("sub type: {:?}", sub.get_type());
    for i in 0..3 {
        let n = open(
            &sub,
            &format!("n{i}"),
            OpenFlags::CREATE,
            DescriptorFlags::WRITE,
        )
        .unwrap();
        n.write(&[b'x'; 3][..i], 0).unwrap();
    }
    println!("symlink-at: {:?}", sub.symlink_at("n0", "link"));
    println!("readlink-at: {:?}", sub.readlink_at("link"));
    println!("readlink-at file: {:?}", sub.readlink_at("n0"));
    println!(
        "stat-at nofollow: {:?}",
        sub.stat_at(PathFlags::empty(), "link").map(|s| s.type_)
    );
    println!(
        "stat-at follow: {:?}",
        sub.stat_at(PathFlags::SYMLINK_FOLLOW, "link")
            .map(|s| s.type_)
    );
    println!(
        "open nofollow symlink: {:?}",
        sub.open_at(
            PathFlags::empty(),
            "link",
            OpenFlags::empty(),
            DescriptorFlags::READ
        )
        .map(|_| ())
    );
    println!(
        "link-at: {:?}",
        sub.link_at(PathFlags::empty(), "n1", root, "n1-hard")
    );
    println!("rename-at: {:?}", sub.rename_at("n2", root, "n2-moved"));
    let mut entries = Vec::new();
    let stream = sub.read_directory().unwrap();
    while let Some(e) = stream.read_directory_entry().unwrap() {
        entries.push((e.name, e.type_));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    println!("entries: {entries:?}");
    println!("entries after end: {:?}", stream.read_directory_entry());
    drop(stream);
    println!(
        "read-directory on file: {:?}",
        ro.read_directory().map(|_| ())
    );
    println!(
        "open-at on file: {:?}",
        open(&ro, "x", OpenFlags::empty(), DescriptorFlags::READ).map(|_| ())
    );
    println!("read on dir: {:?}", sub.read(1, 0));
    println!(
        "read-via-stream on dir: {:?}",
        sub.read_via_stream(0).map(|_| ())
    );
    println!("write on dir: {:?}", sub.write(b"x", 0));
    println!(
        "write-via-stream on dir: {:?}",
        sub.write_via_stream(0).map(|_| ())
    );
    println!(
        "append-via-stream on dir: {:?}",
        sub.append_via_stream().map(|_| ())
    );
    println!("set-size on dir: {:?}", sub.set_size(0));
    println!("advise on dir: {:?}", sub.advise(0, 0, Advice::Normal));
    println!("sync on dir: {:?} {:?}", sub.sync(), sub.sync_data());
    println!(
        "set-times on dir: {:?}",
        sub.set_times(NewTimestamp::Now, NewTimestamp::NoChange)
    );
    println!("stat on dir: {:?}", sub.stat().map(|s| s.type_));
    let ro_stream = ro.write_via_stream(0).unwrap();
    println!(
        "write to read-only stream: {:?}",
        ro_stream.blocking_write_and_flush(b"x").map_err(stream_err)
    );
    drop(ro_stream);
    let wo_stream = wo.read_via_stream(0).unwrap();
    println!(
        "read from write-only stream: {:?}",
        wo_stream.blocking_read(1).map_err(stream_err)
    );
    drop(wo_stream);
    println!(
        "open dir for write: {:?}",
        open(root, "sub", OpenFlags::empty(), rw).map(|_| ())
    );
    println!(
        "open file as dir: {:?}",
        open(
            root,
            "direct.txt",
            OpenFlags::DIRECTORY,
            DescriptorFlags::READ
        )
        .map(|_| ())
    );
    println!(
        "exclusive: {:?}",
        open(
            root,
            "direct.txt",
            OpenFlags::CREATE | OpenFlags::EXCLUSIVE,
            rw
        )
        .map(|_| ())
    );
    println!(
        "missing: {:?}",
        open(root, "missing", OpenFlags::empty(), DescriptorFlags::READ).map(|_| ())
    );
    println!(
        "escape: {:?}",
        open(root, "../x", OpenFlags::empty(), DescriptorFlags::READ).map(|_| ())
    );
    println!(
        "absolute: {:?}",
        open(root, "/etc", OpenFlags::empty(), DescriptorFlags::READ).map(|_| ())
    );
    println!("unlink dir: {:?}", sub.unlink_file_at("."));
    println!("rmdir non-empty: {:?}", root.remove_directory_at("sub"));
    println!("unlink-file-at: {:?}", sub.unlink_file_at("link"));
    println!(
        "unlink n0, n1: {:?} {:?}",
        sub.unlink_file_at("n0"),
        sub.unlink_file_at("n1")
    );
    println!("rmdir: {:?}", root.remove_directory_at("sub"));
    println!("rmdir again: {:?}", root.remove_directory_at("sub"));
    println!("type of dir entry types: {:?}", DescriptorType::Directory);
    let _ = (ro, wo);
}
