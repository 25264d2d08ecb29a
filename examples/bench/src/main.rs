//! The workload of `make bench`, built both for wasm32-wasip1 (run directly:
//! the preview1 limit) and for wasm32-wasip2 (adapted, or run natively).
//!
//!   bench read FILE CHUNK     read FILE to the end in CHUNK-byte reads
//!   bench stdin CHUNK         the same from stdin (a pipe)
//!   bench clock N             N monotonic clock reads
//!   bench read1 FILE N        N one-byte reads
//!   bench write N             N one-byte writes to stdout
//!   bench open FILE N         N opens and closes of FILE
//!   bench stat FILE N         N stats of FILE by its path
//!   bench readdir DIR N       N listings of DIR (each entry's name)
//!   bench tcp ADDR            receive from ADDR until EOF in 64 KiB reads
//!   bench count FILE CHUNK    like read; prints the reads, the heap
//!                             allocations made during them (and their
//!                             bytes), and with libc-shim its counts of reads
//!                             that landed in the buffer and that copied
//!
//! Each prints one line (bytes or a checksum) so that no work is optimized
//! away and a wrong run is visible.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::time::Instant;

/// The system allocator, counting allocations while `COUNTING` is set:
/// without libc-shim, every list the host returns is allocated through std's
/// `cabi_realloc`, which is this allocator.
struct Counting;
static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            ALLOC_BYTES.fetch_add(layout.size() as u64, Relaxed);
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn drain(mut r: impl Read, chunk: usize) -> (u64, u64) {
    let mut buf = vec![0u8; chunk];
    let (mut total, mut sum) = (0u64, 0u64);
    loop {
        match r.read(&mut buf) {
            Ok(0) => return (total, sum),
            Ok(n) => {
                total += n as u64;
                sum = sum.wrapping_add(buf[n - 1] as u64);
            }
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn main() {
    #[cfg(feature = "shim")]
    libc_shim::link();
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let num = |i: usize| arg(i).parse::<usize>().expect("a number");
    match arg(1) {
        "read" => {
            let f = std::fs::File::open(arg(2)).expect("open");
            println!("{:?}", drain(f, num(3)));
        }
        "stdin" => println!("{:?}", drain(std::io::stdin().lock(), num(2))),
        // How many reads, and with libc-shim how many fell back to copying.
        "count" => {
            let mut f = std::fs::File::open(arg(2)).expect("open");
            let mut buf = vec![0u8; num(3)];
            let (mut reads, mut bytes) = (0u64, 0u64);
            COUNTING.store(true, Relaxed);
            loop {
                let n = f.read(&mut buf).expect("read");
                if n == 0 {
                    break;
                }
                reads += 1;
                bytes += n as u64;
            }
            COUNTING.store(false, Relaxed);
            #[cfg(feature = "shim")]
            let shim = {
                let (landed, fallbacks) = libc_shim::counts();
                format!(" landed {landed} fallbacks {fallbacks}")
            };
            #[cfg(not(feature = "shim"))]
            let shim = "";
            println!(
                "reads {reads} bytes {bytes} allocations {} allocated {}{shim}",
                ALLOCS.load(Relaxed),
                ALLOC_BYTES.load(Relaxed)
            );
        }
        "clock" => {
            let start = Instant::now();
            let mut last = start;
            for _ in 0..num(2) {
                last = Instant::now();
            }
            println!("{}", last >= start);
        }
        "read1" => {
            let mut f = std::fs::File::open(arg(2)).expect("open");
            let mut b = [0u8; 1];
            let mut sum = 0u64;
            for _ in 0..num(3) {
                if f.read(&mut b).expect("read") == 0 {
                    break;
                }
                sum = sum.wrapping_add(b[0] as u64);
            }
            println!("{sum}");
        }
        "stdin1" => {
            // fd 0 as a file: `Stdin`'s buffer would batch the reads.
            use std::os::fd::FromRawFd;
            let mut input = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(0) });
            let mut b = [0u8; 1];
            let mut sum = 0u64;
            for _ in 0..num(2) {
                if input.read(&mut b).expect("read") == 0 {
                    break;
                }
                sum = sum.wrapping_add(b[0] as u64);
            }
            println!("{sum}");
        }
        "writef" => {
            let mut f = std::fs::File::create(arg(2)).expect("create");
            for _ in 0..num(3) {
                f.write_all(b"x").expect("write");
            }
        }
        "write" => {
            let mut out = std::io::stdout().lock();
            for _ in 0..num(2) {
                // One write call each (stdout's line buffer would batch them).
                out.write_all(b"x").expect("write");
                out.flush().expect("flush");
            }
        }
        "open" => {
            for _ in 0..num(3) {
                drop(std::fs::File::open(arg(2)).expect("open"));
            }
            println!("opened");
        }
        "stat" => {
            let mut len = 0;
            for _ in 0..num(3) {
                len += std::fs::metadata(arg(2)).expect("stat").len();
            }
            println!("{len}");
        }
        "readdir" => {
            let mut names = 0;
            for _ in 0..num(3) {
                for e in std::fs::read_dir(arg(2)).expect("read_dir") {
                    names += e.expect("entry").file_name().len();
                }
            }
            println!("{names}");
        }
        #[cfg(target_env = "p2")]
        "tcp" => {
            let s = std::net::TcpStream::connect(arg(2)).expect("connect");
            println!("{:?}", drain(s, 64 << 10));
            #[cfg(feature = "shim")]
            println!("{:?}", libc_shim::counts());
        }
        _ => {
            eprintln!("usage: see the source");
            std::process::exit(2);
        }
    }
}
