//! Reads through libc `read` in several sizes, for comparing runs with and
//! without libc-shim: a file given as argument 1 (4 KiB, 64 KiB and 1 MiB
//! reads, a 1-byte and a 0-byte read, reads past EOF) and all of stdin.
//! Prints lengths and checksums; built with the `shim` feature it also
//! prints how many reads could not use the lent buffer.

use std::io::Read;

fn digest(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

fn main() {
    #[cfg(feature = "shim")]
    libc_shim::link();
    let path = std::env::args().nth(1).expect("FILE");
    for chunk in [1usize, 4096, 65536, 1 << 20] {
        let mut f = std::fs::File::open(&path).expect("open");
        let mut buf = vec![0u8; chunk];
        let mut all = Vec::new();
        let mut reads = 0;
        loop {
            let n = f.read(&mut buf).expect("read");
            if n == 0 {
                break;
            }
            reads += 1;
            all.extend_from_slice(&buf[..n]);
            if chunk == 1 && reads == 1000 {
                break;
            }
        }
        println!(
            "file, {chunk}-byte reads: {} bytes in {reads} reads, digest {:016x}",
            all.len(),
            digest(&all)
        );
        println!(
            "  read of 0 bytes: {:?}, past EOF: {:?}",
            f.read(&mut []),
            f.read(&mut buf)
        );
    }
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).expect("stdin");
    println!(
        "stdin: {} bytes, digest {:016x}",
        input.len(),
        digest(&input)
    );
    #[cfg(feature = "shim")]
    println!("fallback reads: {}", libc_shim::link());
}
