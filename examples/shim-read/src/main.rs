//! Reads through every libc reader that libc-shim replaces, for comparing
//! runs with and without the shim. Prints lengths, checksums and results;
//! built with the `shim` feature it also prints, after each part, a line
//! `shim: PART: landed N, fallbacks M`: how many of its reads the host wrote
//! straight into the caller's buffer, and how many had to copy. The
//! `shim-lib` feature prints the same for a build that links the shim's
//! archive instead (`-l static=libc_shim`; the streams parts then copy).
//!
//!   shim-read FILE         FILE by `read` (1 B to 1 MiB reads, 0-byte reads,
//!                          past EOF), `readv`, `pread` (and at/after EOF,
//!                          a negative offset), then all of stdin by `read`
//!   shim-read streams FILE the same file through `wasi:io/streams` and
//!                          `descriptor.read` (the `wasip2` crate), and
//!                          stdin through its stream: libc-shim's `streams`
//!   shim-read tcp ADDR     listen on ADDR, accept one connection; a
//!                          non-blocking `recv` and one with a timeout before
//!                          any data (EAGAIN), then
//!                          print "waiting" and receive to EOF by `recv` in
//!                          several sizes, a `MSG_PEEK` and a `readv` on the way

use std::io::{IoSliceMut, Read};

fn digest(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

fn main() {
    #[cfg(feature = "shim")]
    libc_shim::link();
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("tcp") => tcp(&args[2]),
        Some("streams") => streams::run(&args[2]),
        Some(path) => {
            file(path);
            pread_file(path);
            stdin();
        }
        None => panic!("usage: shim-read FILE | shim-read streams FILE | shim-read tcp ADDR"),
    }
}

#[cfg(any(feature = "shim", feature = "shim-lib"))]
extern "C" {
    fn libc_shim_landed() -> u64;
    fn libc_shim_fallbacks() -> u64;
}

/// With the shim, the reads of the part just done: landed and fell back.
fn counts(part: &str) {
    #[cfg(any(feature = "shim", feature = "shim-lib"))]
    {
        static LAST: std::sync::Mutex<(u64, u64)> = std::sync::Mutex::new((0, 0));
        let (landed, fallbacks) = unsafe { (libc_shim_landed(), libc_shim_fallbacks()) };
        let mut last = LAST.lock().unwrap();
        println!(
            "shim: {part}: landed {}, fallbacks {}",
            landed - last.0,
            fallbacks - last.1
        );
        *last = (landed, fallbacks);
    }
    let _ = part;
}

fn file(path: &str) {
    for chunk in [1usize, 4096, 65536, 1 << 20] {
        let mut f = std::fs::File::open(path).expect("open");
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
    // readv: libc reads into the first non-empty buffer.
    let mut f = std::fs::File::open(path).expect("open");
    let (mut a, mut b) = (vec![0u8; 3000], vec![0u8; 5000]);
    let mut all = Vec::new();
    loop {
        let n = f
            .read_vectored(&mut [IoSliceMut::new(&mut a), IoSliceMut::new(&mut b)])
            .expect("readv");
        if n == 0 {
            break;
        }
        all.extend_from_slice(&a[..n.min(3000)]);
        all.extend_from_slice(&b[..n.saturating_sub(3000)]);
    }
    println!(
        "file, readv: {} bytes, digest {:016x}",
        all.len(),
        digest(&all)
    );
    counts("read");
}

extern "C" {
    fn pread(fd: i32, buf: *mut u8, n: usize, offset: i64) -> isize;
}

/// libc `pread` (std's `FileExt::read_at` is unstable on WASI).
fn read_at(f: &std::fs::File, buf: &mut [u8], offset: i64) -> std::io::Result<usize> {
    let fd = std::os::fd::AsRawFd::as_raw_fd(f);
    match unsafe { pread(fd, buf.as_mut_ptr(), buf.len(), offset) } {
        -1 => Err(std::io::Error::last_os_error()),
        n => Ok(n as usize),
    }
}

/// `pread` at offsets that do not follow each other, and its edge cases.
fn pread_file(path: &str) {
    let f = std::fs::File::open(path).expect("open");
    let size = f.metadata().expect("metadata").len() as i64;
    let mut buf = vec![0u8; 65536];
    let mut sum = 0u64;
    let mut offset = size / 3;
    for _ in 0..40 {
        let n = read_at(&f, &mut buf, offset).expect("pread");
        sum = sum.wrapping_mul(31).wrapping_add(digest(&buf[..n]));
        offset = (offset * 7 + 12345) % (size + 1000);
    }
    println!("file, pread: digest {sum:016x}");
    println!(
        "  pread at EOF: {:?}, after EOF: {:?}, 0 bytes: {:?}, at -1: {:?}",
        read_at(&f, &mut buf, size),
        read_at(&f, &mut buf, size + 10),
        read_at(&f, &mut [], 5),
        read_at(&f, &mut buf, -1).map_err(|e| e.raw_os_error()),
    );
    let dir = std::fs::File::open(std::path::Path::new(path).parent().unwrap()).expect("open dir");
    println!(
        "  pread of a directory: {:?}",
        read_at(&dir, &mut buf, 0).map_err(|e| e.raw_os_error())
    );
    counts("pread");
}

fn stdin() {
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).expect("stdin");
    println!(
        "stdin: {} bytes, digest {:016x}",
        input.len(),
        digest(&input)
    );
    counts("stdin");
}

fn tcp(addr: &str) {
    let listener = std::net::TcpListener::bind(addr).expect("bind");
    println!("listening");
    let (mut s, _) = listener.accept().expect("accept");
    s.set_nonblocking(true).unwrap();
    let nonblocking = s.read(&mut [0u8; 16]).map_err(|e| e.kind());
    s.set_nonblocking(false).unwrap();
    // A receive timeout: libc's own wait, then EAGAIN.
    s.set_read_timeout(Some(std::time::Duration::from_millis(50)))
        .unwrap();
    let timeout = s.read(&mut [0u8; 16]).map_err(|e| e.kind());
    s.set_read_timeout(None).unwrap();
    println!("non-blocking, nothing sent: {nonblocking:?}; with a 50 ms timeout: {timeout:?}");
    println!("waiting");
    let mut all = Vec::new();
    let mut recvs = 0;
    for i in 0.. {
        if i == 3 {
            let mut b = [0u8; 8];
            println!("peek: {:?}", s.peek(&mut b).map_err(|e| e.kind()));
        }
        let n = if i % 50 == 7 {
            let mut b = vec![0u8; 9000];
            let n = s
                .read_vectored(&mut [IoSliceMut::new(&mut b)])
                .expect("readv");
            all.extend_from_slice(&b[..n]);
            n
        } else {
            let mut b = vec![0u8; [1, 100, 4096, 65536][i % 4]];
            let n = s.read(&mut b).expect("recv");
            all.extend_from_slice(&b[..n]);
            n
        };
        if n == 0 {
            break;
        }
        recvs += 1;
    }
    println!(
        "tcp: {} bytes in {} receives, digest {:016x}; after EOF: {:?}",
        all.len(),
        if recvs > 0 { "some" } else { "no" },
        digest(&all),
        s.read(&mut [0u8; 16]).map_err(|e| e.kind())
    );
    counts("tcp");
}

/// The same reads straight through WASI 0.2: with the shim by
/// `libc_shim::streams`, without it by the `wasip2` crate's own calls.
mod streams {
    use super::digest;
    use wasip2::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};
    use wasip2::io::streams::{InputStream, StreamError};

    #[cfg(feature = "shim")]
    use libc_shim::streams::{blocking_read, read, read_at};

    #[cfg(not(feature = "shim"))]
    fn land(buf: &mut [u8], list: Vec<u8>) -> usize {
        buf[..list.len()].copy_from_slice(&list);
        list.len()
    }
    #[cfg(not(feature = "shim"))]
    fn blocking_read(s: &InputStream, buf: &mut [u8]) -> Result<usize, StreamError> {
        Ok(land(buf, s.blocking_read(buf.len() as u64)?))
    }
    #[cfg(not(feature = "shim"))]
    fn read(s: &InputStream, buf: &mut [u8]) -> Result<usize, StreamError> {
        Ok(land(buf, s.read(buf.len() as u64)?))
    }
    #[cfg(not(feature = "shim"))]
    fn read_at(
        f: &wasip2::filesystem::types::Descriptor,
        buf: &mut [u8],
        offset: u64,
    ) -> Result<(usize, bool), wasip2::filesystem::types::ErrorCode> {
        let (list, eof) = f.read(buf.len() as u64, offset)?;
        Ok((land(buf, list), eof))
    }

    /// Reads `s` to its end in `chunk`-byte reads; the bytes and how the
    /// stream ended.
    fn drain(s: &InputStream, chunk: usize, blocking: bool) -> (Vec<u8>, String) {
        let mut buf = vec![0u8; chunk];
        let mut all = Vec::new();
        loop {
            let r = if blocking {
                blocking_read(s, &mut buf)
            } else {
                s.subscribe().block();
                read(s, &mut buf)
            };
            match r {
                Ok(n) => all.extend_from_slice(&buf[..n]),
                Err(StreamError::Closed) => return (all, "closed".into()),
                Err(e) => return (all, format!("{e:?}")),
            }
        }
    }

    pub fn run(path: &str) {
        let (dir, _) = wasip2::filesystem::preopens::get_directories()
            .into_iter()
            .next()
            .expect("a preopened directory");
        let name = path.rsplit('/').next().unwrap();
        let f = dir
            .open_at(
                PathFlags::empty(),
                name,
                OpenFlags::empty(),
                DescriptorFlags::READ,
            )
            .expect("open-at");
        for (chunk, blocking) in [(4096, true), (65536, false), (1 << 20, true)] {
            let s = f.read_via_stream(0).expect("read-via-stream");
            let (all, end) = drain(&s, chunk, blocking);
            println!(
                "streams, {chunk}-byte reads (blocking {blocking}): {} bytes, {end}, digest {:016x}",
                all.len(),
                digest(&all)
            );
        }
        super::counts("streams");
        let size = f.stat().expect("stat").size;
        let mut buf = vec![0u8; 65536];
        let mut sum = 0u64;
        let mut offset = size / 3;
        for _ in 0..40 {
            let (n, eof) = read_at(&f, &mut buf, offset).expect("descriptor.read");
            sum = sum.wrapping_mul(31).wrapping_add(digest(&buf[..n])) ^ eof as u64;
            offset = (offset * 7 + 12345) % (size + 1000);
        }
        println!("descriptor.read: digest {sum:016x}");
        println!(
            "  at EOF: {:?}, 0 bytes: {:?}, on a directory: {:?}",
            read_at(&f, &mut buf, size),
            read_at(&f, &mut [], 5),
            read_at(&dir, &mut buf, 0)
        );
        super::counts("descriptor.read");
        let (all, end) = drain(&wasip2::cli::stdin::get_stdin(), 4096, true);
        println!(
            "stdin stream: {} bytes, {end}, digest {:016x}",
            all.len(),
            digest(&all)
        );
        super::counts("stdin stream");
    }
}
