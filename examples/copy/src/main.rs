//! `copy SRC DST [BUFFER]`: copies SRC to DST (`-`: stdin, stdout) through
//! a buffer of BUFFER bytes (default 64 KiB), then says on stderr how many
//! bytes it copied and their FNV-1a hash. For the fault-injection tests:
//! what arrives must be exactly what left, or the error must say why.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::process::exit;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [src, dst] = [&args[0], &args[1]];
    let size = args.get(2).map_or(64 << 10, |s| s.parse().unwrap());
    let mut input: Box<dyn Read> = if src == "-" {
        Box::new(std::io::stdin().lock())
    } else {
        Box::new(File::open(src).unwrap_or_else(|e| fail("open", &e)))
    };
    let mut output: Box<dyn Write> = if dst == "-" {
        Box::new(std::io::stdout().lock())
    } else {
        Box::new(File::create(dst).unwrap_or_else(|e| fail("create", &e)))
    };
    let mut buf = vec![0u8; size];
    let (mut total, mut hash) = (0u64, 0xcbf2_9ce4_8422_2325u64);
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => fail("read", &e),
        };
        if let Err(e) = output.write_all(&buf[..n]) {
            fail("write", &e);
        }
        for &b in &buf[..n] {
            hash = (hash ^ b as u64).wrapping_mul(0x100_0000_01b3);
        }
        total += n as u64;
    }
    if let Err(e) = output.flush() {
        fail("flush", &e);
    }
    eprintln!("copied {total} bytes, fnv1a64 {hash:016x}");
}

fn fail(what: &str, e: &std::io::Error) -> ! {
    eprintln!("{what}: {:?}: {e}", e.kind());
    exit(1)
}
