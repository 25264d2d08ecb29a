//! A WASI 0.3 filesystem program: files written, appended and read back
//! through streams, a directory listed through a stream, metadata, renames
//! and removals, and the errors a native host gives. It works in the
//! directory given as its first argument, under the first preopen.

use wasip3::cli::stdout;
use wasip3::filesystem::preopens;
use wasip3::filesystem::types::{Descriptor, DescriptorFlags, OpenFlags, PathFlags};
use wasip3::wit_bindgen::StreamResult;
use wasip3::wit_stream;

wasip3::cli::command::export!(Fs);

struct Fs;

async fn write(d: &Descriptor, bytes: Vec<u8>, append: bool) -> String {
    let (mut tx, rx) = wit_stream::new();
    let done = async {
        if append {
            d.append_via_stream(rx).await
        } else {
            d.write_via_stream(rx, 0).await
        }
    };
    let (r, rest) = futures::join!(done, async move { tx.write_all(bytes).await });
    format!("{r:?} (unwritten {})", rest.len())
}

async fn read(d: &Descriptor, offset: u64) -> (Vec<u8>, String) {
    let (mut rx, done) = d.read_via_stream(offset);
    let mut got = Vec::new();
    loop {
        let (status, buf) = rx.read(Vec::with_capacity(3000)).await;
        got.extend_from_slice(&buf);
        if let StreamResult::Dropped = status {
            break;
        }
    }
    drop(rx);
    (got, format!("{:?}", done.await))
}

async fn list(d: &Descriptor) -> String {
    let (mut rx, done) = d.read_directory();
    let mut names = Vec::new();
    loop {
        let (status, entries) = rx.read(Vec::with_capacity(2)).await;
        names.extend(
            entries
                .into_iter()
                .map(|e| format!("{}:{:?}", e.name, e.type_)),
        );
        if let StreamResult::Dropped = status {
            break;
        }
    }
    drop(rx);
    names.sort();
    format!("{names:?} {:?}", done.await)
}

impl wasip3::exports::cli::run::Guest for Fs {
    async fn run() -> Result<(), ()> {
        let mut out = String::new();
        let dirs = preopens::get_directories();
        out += &format!(
            "preopens: {:?}\n",
            dirs.iter().map(|d| &d.1).collect::<Vec<_>>()
        );
        let root = &dirs[0].0;
        let base = wasip3::cli::environment::get_arguments()
            .get(1)
            .cloned()
            .unwrap_or_else(|| "p3-fs-work".into());
        let rw = DescriptorFlags::READ | DescriptorFlags::WRITE;
        let create = |p: String| {
            root.open_at(
                PathFlags::empty(),
                p,
                OpenFlags::CREATE | OpenFlags::TRUNCATE,
                rw,
            )
        };
        out += &format!(
            "mkdir: {:?}\n",
            root.create_directory_at(base.clone()).await
        );
        out += &format!(
            "mkdir again: {:?}\n",
            root.create_directory_at(base.clone()).await
        );
        let dir = root
            .open_at(
                PathFlags::empty(),
                base.clone(),
                OpenFlags::DIRECTORY,
                DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY,
            )
            .await
            .expect("open the work directory");

        let file = create(format!("{base}/data.txt"))
            .await
            .expect("create a file");
        let text: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        out += &format!("write: {}\n", write(&file, text.clone(), false).await);
        out += &format!(
            "append: {}\n",
            write(&file, b"-appended".to_vec(), true).await
        );
        let (got, end) = read(&file, 0).await;
        let mut want = text.clone();
        want.extend_from_slice(b"-appended");
        out += &format!(
            "read back: {} bytes, same: {}, end {end}\n",
            got.len(),
            got == want
        );
        let (got, end) = read(&file, 9_995).await;
        out += &format!(
            "read from 9995: {:?}, end {end}\n",
            String::from_utf8_lossy(&got)
        );
        let st = file.stat().await.expect("stat");
        out += &format!(
            "stat: {:?} size {} links {}\n",
            st.type_, st.size, st.link_count
        );
        out += &format!(
            "type: {:?}, flags: {:?}\n",
            file.get_type().await,
            file.get_flags().await
        );
        out += &format!("set-size: {:?}\n", file.set_size(100).await);
        out += &format!("size now: {:?}\n", file.stat().await.map(|s| s.size));
        drop(file);

        for name in ["b.txt", "a.txt"] {
            let f = create(format!("{base}/{name}")).await.expect("create");
            write(&f, name.as_bytes().to_vec(), false).await;
        }
        out += &format!(
            "mkdir sub: {:?}\n",
            dir.create_directory_at("sub".into()).await
        );
        out += &format!("list: {}\n", list(&dir).await);
        out += &format!(
            "rename: {:?}\n",
            dir.rename_at("a.txt".into(), &dir, "sub/c.txt".into())
                .await
        );
        out += &format!(
            "symlink: {:?}\n",
            dir.symlink_at("sub/c.txt".into(), "link".into()).await
        );
        out += &format!("readlink: {:?}\n", dir.readlink_at("link".into()).await);
        out += &format!(
            "stat-at link (no follow): {:?}\n",
            dir.stat_at(PathFlags::empty(), "link".into())
                .await
                .map(|s| s.type_)
        );
        out += &format!("same object: {}\n", dir.is_same_object(&dir).await);
        out += &format!(
            "hashes equal: {}\n",
            dir.metadata_hash().await.ok().map(|h| (h.lower, h.upper))
                == dir
                    .metadata_hash_at(PathFlags::empty(), ".".into())
                    .await
                    .ok()
                    .map(|h| (h.lower, h.upper))
        );

        // Errors.
        out += &format!(
            "open missing: {:?}\n",
            dir.open_at(
                PathFlags::empty(),
                "missing".into(),
                OpenFlags::empty(),
                DescriptorFlags::READ
            )
            .await
            .err()
        );
        out += &format!(
            "remove non-empty: {:?}\n",
            dir.remove_directory_at("sub".into()).await
        );
        out += &format!(
            "unlink a directory: {:?}\n",
            dir.unlink_file_at("sub".into()).await
        );
        let (got, end) = read(&dir, 0).await;
        out += &format!("read a directory: {} bytes, end {end}\n", got.len());
        let ro = dir
            .open_at(
                PathFlags::empty(),
                "b.txt".into(),
                OpenFlags::empty(),
                DescriptorFlags::READ,
            )
            .await
            .expect("open read-only");
        out += &format!(
            "write read-only: {}\n",
            write(&ro, b"x".to_vec(), false).await
        );
        drop(ro);

        // Clean up.
        for p in ["link", "b.txt", "data.txt", "sub/c.txt"] {
            out += &format!("unlink {p}: {:?}\n", dir.unlink_file_at(p.into()).await);
        }
        out += &format!(
            "rmdir sub: {:?}\n",
            dir.remove_directory_at("sub".into()).await
        );
        drop(dir);
        out += &format!("rmdir base: {:?}\n", root.remove_directory_at(base).await);

        let (mut tx, rx) = wit_stream::new();
        let text = out.into_bytes();
        let (r, ()) = futures::join!(async { stdout::write_via_stream(rx).await }, async move {
            assert!(tx.write_all(text).await.is_empty());
            drop(tx);
        });
        r.map_err(|_| ())
    }
}

fn main() {
    unreachable!("run through wasi:cli/run")
}
