//! `p3-copy SRC DST`: copies file SRC to DST (both under the first preopen)
//! through WASI 0.3 streams, 64 KiB at a time, then says on stderr how many
//! bytes it copied and their FNV-1a hash (as `copy`, its 0.2 counterpart).

use wasip3::filesystem::preopens;
use wasip3::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};
use wasip3::wit_bindgen::StreamResult;
use wasip3::wit_stream;

wasip3::cli::command::export!(Copy);

struct Copy;

impl wasip3::exports::cli::run::Guest for Copy {
    async fn run() -> Result<(), ()> {
        let args = wasip3::cli::environment::get_arguments();
        let (src, dst) = (args[1].clone(), args[2].clone());
        let dirs = preopens::get_directories();
        let root = &dirs[0].0;
        let from = root
            .open_at(
                PathFlags::empty(),
                src,
                OpenFlags::empty(),
                DescriptorFlags::READ,
            )
            .await
            .map_err(|e| eprintln!("open: {e:?}"))?;
        let to = root
            .open_at(
                PathFlags::empty(),
                dst,
                OpenFlags::CREATE | OpenFlags::TRUNCATE,
                DescriptorFlags::WRITE,
            )
            .await
            .map_err(|e| eprintln!("create: {e:?}"))?;
        let (mut rx, read_done) = from.read_via_stream(0);
        let (mut tx, wrx) = wit_stream::new();
        let copy = async move {
            let (mut total, mut hash) = (0u64, 0xcbf2_9ce4_8422_2325u64);
            let mut buf = Vec::with_capacity(64 << 10);
            loop {
                let (status, got) = rx.read(buf).await;
                for &b in &got {
                    hash = (hash ^ b as u64).wrapping_mul(0x100_0000_01b3);
                }
                total += got.len() as u64;
                let rest = tx.write_all(got).await;
                assert!(rest.is_empty(), "the file stopped taking bytes");
                if let StreamResult::Dropped = status {
                    break;
                }
                buf = Vec::with_capacity(64 << 10);
            }
            (total, hash)
        };
        let (write_done, (total, hash)) =
            futures::join!(async { to.write_via_stream(wrx, 0).await }, copy);
        read_done.await.map_err(|e| eprintln!("read: {e:?}"))?;
        write_done.map_err(|e| eprintln!("write: {e:?}"))?;
        eprintln!("copied {total} bytes, fnv1a64 {hash:016x}");
        Ok(())
    }
}

fn main() {
    unreachable!("run through wasi:cli/run")
}
