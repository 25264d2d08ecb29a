//! `stress`: resource exhaustion and memory growth, through the `wasip2`
//! crate, for comparison with a native WASI 0.2 host (`tests/exhaustion.rs`).
//!
//! - `handles FDS PER_FD CLOCKS ROUNDS`: tens of thousands of live handles
//!   (descriptors on `/d/sample`, `PER_FD` streams on each, a pollable per
//!   stream, clock pollables), all used (a byte read from every stream, all
//!   polled at once), a third of the streams and half of the descriptors
//!   dropped and replaced while the rest live, then all dropped, and again;
//!   then as many descriptors opened once more.
//! - `fdlimit TRIES`: opens `/d/sample` until the host's fd limit refuses
//!   (or `TRIES` times), prints the error, checks what was opened, and does
//!   it again.
//! - `poll N`: `poll` on lists of `N` and more pollables, duplicates and
//!   distinct ones, expired and far-future clocks, file streams and stdin.
//! - `oom handles|poll MAX_PAGES LEAVE_PAGES`: grows memory to `MAX_PAGES` -
//!   `LEAVE_PAGES` itself, then makes the adapter allocate (handles, checked
//!   as they come, or one poll of a million) until its heap runs out: an
//!   adapted run must trap (a native host keeps its state outside the
//!   program's memory and would go on).
//! - `overlap PHASES`: fills its own heap with a known pattern while the
//!   adapter's state grows (handles, poll lists, long symlink targets and
//!   file names in `/d`), and checks both.
//! - `growth`: reads `/d/big` (wasip2 stream and std::fs) and stdin in
//!   chunks while the heap grows by hundreds of MB around and during the
//!   reads, with pollables made before the growth; prints the hashes.
//!
//! Output never depends on the host: only counts, sums and hashes.

use std::io::Read as _;
use wasip2::cli::stdin::get_stdin;
use wasip2::clocks::monotonic_clock::{now, subscribe_duration, subscribe_instant};
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};
use wasip2::io::poll::{poll, Pollable};
use wasip2::io::streams::{InputStream, StreamError};

const MS: u64 = 1_000_000;
const HOUR: u64 = 3_600_000 * MS;
const PAGE: usize = 65536;

/// The program: both binaries run this.
pub fn run() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize| -> usize {
        args.get(i)
            .and_then(|a| a.parse().ok())
            .unwrap_or_else(|| usage())
    };
    match args.first().map(String::as_str) {
        Some("handles") => handles(arg(1), arg(2), arg(3), arg(4)),
        Some("fdlimit") => fdlimit(arg(1)),
        Some("poll") => deep_poll(arg(1)),
        Some("oom") => oom(args.get(1).map_or("", String::as_str), arg(2), arg(3)),
        Some("overlap") => overlap(arg(1)),
        Some("growth") => growth(),
        _ => usage(),
    }
}

fn usage() -> ! {
    eprintln!(
        "usage: stress handles FDS PER_FD CLOCKS ROUNDS | fdlimit TRIES | poll N \
         | oom handles|poll MAX_PAGES LEAVE_PAGES | overlap PHASES | growth"
    );
    std::process::exit(2)
}

/// FNV-1a, 64 bits.
fn fnv(h: u64, bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(h, |h, &b| (h ^ b as u64).wrapping_mul(0x100_0000_01b3))
}
const FNV0: u64 = 0xcbf2_9ce4_8422_2325;

fn preopen(name: &str) -> Descriptor {
    get_directories()
        .into_iter()
        .find(|(_, p)| p == name)
        .map(|(d, _)| d)
        .unwrap_or_else(|| panic!("no preopen {name}"))
}

fn open_read(dir: &Descriptor, path: &str) -> Result<Descriptor, ErrorCode> {
    dir.open_at(
        PathFlags::SYMLINK_FOLLOW,
        path,
        OpenFlags::empty(),
        DescriptorFlags::READ,
    )
}

fn stream_err(e: StreamError) -> String {
    match e {
        StreamError::Closed => "closed".into(),
        StreamError::LastOperationFailed(e) => format!("failed: {}", e.to_debug_string()),
    }
}

/// Count, index sum and a hash of the sorted ready indices, and whether
/// they are exactly those `want` says.
fn summary(mut ready: Vec<u32>, want: impl Fn(usize) -> bool, len: usize) -> String {
    let count = ready.len();
    let sum: u64 = ready.iter().map(|&i| i as u64).sum();
    ready.sort_unstable();
    let dups = ready.windows(2).filter(|w| w[0] == w[1]).count();
    let hash = ready.iter().fold(FNV0, |h, i| fnv(h, &i.to_le_bytes()));
    let exact = dups == 0
        && ready
            .iter()
            .all(|&i| (i as usize) < len && want(i as usize))
        && count == (0..len).filter(|&i| want(i)).count();
    format!(
        "{count} ready, index sum {sum}, hash {hash:016x}, duplicates {dups}, as expected {exact}"
    )
}

// ---------------------------------------------------------------- handles

/// A stream with its pollable (declared first: dropped first, as a child
/// must be).
struct Reader {
    pollable: Option<Pollable>,
    stream: InputStream,
    /// The offset of the next byte it reads.
    at: u64,
}

fn reader(d: &Descriptor, at: u64) -> Reader {
    let stream = d.read_via_stream(at).expect("read-via-stream");
    let pollable = Some(stream.subscribe());
    Reader {
        stream,
        at,
        pollable,
    }
}

/// Waits until every reader's stream is ready. A native host then holds
/// data read ahead for it (a file stream's pollable starts a read and is
/// ready when that is done), so `poll` and `read` answer at once, as the
/// adapter always does for a file; a fresh stream's answers would depend on
/// how fast the host's background reads are.
fn prime(readers: &[Option<Reader>]) {
    for r in readers.iter().flatten() {
        r.pollable.as_ref().unwrap().block();
    }
}

/// Polls clocks that are due until each has been reported ready once. A
/// native host's timers fire when its timer wheel turns, which a first poll
/// may not wait for when something else in the list is ready already; a
/// timer that has fired is ready at once from then on. (`due` must all be
/// due: a poll waits for one.)
fn settle(due: &[&Pollable]) {
    let mut seen = vec![false; due.len()];
    while seen.iter().any(|s| !s) {
        for i in poll(due) {
            seen[i as usize] = true;
        }
    }
}

/// Reads the next byte (blocking, or `read` when `nb`: primed streams
/// only) of every reader and checks it against the sample: how many were
/// right, and their sum.
fn read_all(readers: &mut [Option<Reader>], sample: &[u8], nb: bool) -> (usize, u64, String) {
    let (mut ok, mut sum, mut first_bad) = (0, 0u64, String::new());
    for r in readers.iter_mut().flatten() {
        let want = sample[(r.at % sample.len() as u64) as usize];
        let got = if nb {
            r.stream.read(1)
        } else {
            r.stream.blocking_read(1)
        };
        match got {
            Ok(b) if b == [want] => {
                ok += 1;
                sum += want as u64;
            }
            other if first_bad.is_empty() => {
                first_bad = format!(
                    " (first wrong at offset {}: {:?}, want {want})",
                    r.at,
                    other.map_err(stream_err)
                )
            }
            _ => {}
        }
        r.at += 1;
    }
    (ok, sum, first_bad)
}

fn handles(fds: usize, per_fd: usize, clocks: usize, rounds: usize) {
    let root = preopen("/d");
    let sample = std::fs::read("/d/sample").expect("read /d/sample");
    // Offsets so each stream ends well before the end (it reads 2 bytes).
    let span = sample.len() as u64 - 4;
    println!("handles: {fds} descriptors x {per_fd} streams, {clocks} clocks, {rounds} rounds");
    for round in 0..rounds {
        let offset = |k: usize| (k as u64 * 7919 + round as u64 * 104_729) % span;
        let mut descs: Vec<Option<Descriptor>> = Vec::new();
        for i in 0..fds {
            match open_read(&root, "sample") {
                Ok(d) => descs.push(Some(d)),
                Err(e) => {
                    println!("round {round}: open-at #{i} failed: {e:?}");
                    std::process::exit(1)
                }
            }
        }
        let mut readers: Vec<Option<Reader>> = (0..fds * per_fd)
            .map(|k| Some(reader(descs[k / per_fd].as_ref().unwrap(), offset(k))))
            .collect();
        // Expired (a duration of 0, an instant in the past) and far future.
        let clock: Vec<(Pollable, bool)> = (0..clocks)
            .map(|k| match k % 3 {
                0 => (subscribe_duration(0), true),
                1 => (subscribe_duration(HOUR), false),
                _ => (subscribe_instant(0), true),
            })
            .collect();
        let live = fds + readers.len() * 2 + clock.len();

        let (ok, sum, bad) = read_all(&mut readers, &sample, false);
        println!(
            "round {round}: {live} live handles; read {ok}/{} streams right, byte sum {sum}{bad}",
            readers.len()
        );
        let poll_all = |readers: &[Option<Reader>]| {
            let list: Vec<&Pollable> = readers
                .iter()
                .map(|r| r.as_ref().unwrap().pollable.as_ref().unwrap())
                .chain(clock.iter().map(|(p, _)| p))
                .collect();
            let n = readers.len();
            let ready = poll(&list);
            summary(ready, |i| i < n || clock[i - n].1, list.len())
        };
        prime(&readers);
        settle(
            &clock
                .iter()
                .filter(|c| c.1)
                .map(|c| &c.0)
                .collect::<Vec<_>>(),
        );
        println!("round {round}: poll all: {}", poll_all(&readers));

        // Drop every third stream (its pollable first) and every odd
        // descriptor (its other streams live on), then put new ones in
        // their places.
        for r in readers.iter_mut().step_by(3) {
            r.as_mut().unwrap().pollable = None;
            *r = None;
        }
        for d in descs.iter_mut().skip(1).step_by(2) {
            *d = None;
        }
        for (i, d) in descs.iter_mut().enumerate().skip(1).step_by(2) {
            *d = Some(open_read(&root, "sample").unwrap_or_else(|e| {
                println!("round {round}: reopening #{i} failed: {e:?}");
                std::process::exit(1)
            }));
        }
        for k in (0..readers.len()).step_by(3) {
            let r = reader(descs[k / per_fd].as_ref().unwrap(), offset(k + 1));
            r.pollable.as_ref().unwrap().block();
            readers[k] = Some(r);
        }
        let (ok, sum, bad) = read_all(&mut readers, &sample, true);
        println!(
            "round {round}: after replacing a third: read {ok}/{} right, byte sum {sum}{bad}",
            readers.len()
        );
        println!("round {round}: poll all again: {}", poll_all(&readers));

        // Descriptors first (streams keep their files open), then the
        // pollables from the last, then the streams.
        drop(descs);
        for r in readers.iter_mut().rev() {
            r.as_mut().unwrap().pollable = None;
        }
        drop(readers);
        drop(clock);
    }
    // Everything was closed: the limit the test set leaves room for only a
    // round's worth of files, so nothing may have leaked.
    let last: Vec<Descriptor> = (0..fds)
        .map(|_| open_read(&root, "sample").expect("open-at after the rounds"))
        .collect();
    println!("reopened {} descriptors after the rounds", last.len());
}

// ---------------------------------------------------------------- fdlimit

fn fdlimit(tries: usize) {
    let root = preopen("/d");
    let sample = std::fs::read("/d/sample").expect("read /d/sample");
    let open_many = || {
        let mut descs = Vec::new();
        for _ in 0..tries {
            match open_read(&root, "sample") {
                Ok(d) => descs.push(d),
                Err(e) => return (descs, Some(e)),
            }
        }
        (descs, None)
    };
    let (descs, err) = open_many();
    println!("first pass: {:?} after some", err);
    let right = descs
        .iter()
        .enumerate()
        .filter(|(i, d)| {
            let at = (i * 31) % (sample.len() - 1);
            d.read(1, at as u64).map(|r| r.0) == Ok(vec![sample[at]])
        })
        .count();
    println!(
        "every descriptor opened reads right: {}",
        right == descs.len()
    );
    // Streams need no fd of their own: many over the opened descriptors.
    let streams: Vec<(InputStream, usize)> = (0..4 * descs.len())
        .map(|k| {
            let at = (k * 97) % sample.len();
            (
                descs[k % descs.len()].read_via_stream(at as u64).unwrap(),
                at,
            )
        })
        .collect();
    let right = streams
        .iter()
        .filter(|(s, at)| s.blocking_read(1).ok() == Some(vec![sample[*at]]))
        .count();
    println!(
        "streams at the limit read right: {}",
        right == streams.len()
    );
    // Still at the limit: one more fails the same way (once the host has
    // taken back an fd or two it may have let go of meanwhile: the host's
    // own, as the second pass allows).
    let mut extra = Vec::new();
    let again = loop {
        match open_read(&root, "sample") {
            Ok(d) if extra.len() < 2 => extra.push(d),
            r => break r.err(),
        }
    };
    drop(extra);
    println!("one more at the limit: {again:?}");
    let first = descs.len();
    drop(streams);
    drop(descs);
    let (descs, err2) = open_many();
    // A leak would cost the second pass what the first opened; the host may
    // take an fd or two of its own meanwhile (seen once natively).
    println!(
        "second pass: {:?}, as many as the first (but for the host's own): {}",
        err2,
        descs.len() + 2 >= first && descs.len() <= first
    );
    drop(descs);
    let few: Vec<Descriptor> = (0..10)
        .map(|_| open_read(&root, "sample").expect("open-at after closing all"))
        .collect();
    let right = few
        .iter()
        .filter(|d| d.read(4, 0).map(|r| r.0) == Ok(sample[..4].to_vec()))
        .count();
    println!(
        "after closing all, 10 opened and read right: {}",
        right == 10
    );
}

// ---------------------------------------------------------------- poll

fn deep_poll(n: usize) {
    let root = preopen("/d");
    let file = open_read(&root, "sample").expect("open sample");
    let streams: Vec<InputStream> = (0..4)
        .map(|k| file.read_via_stream(k * 10).unwrap())
        .collect();
    let expired = subscribe_duration(0);
    let future = subscribe_duration(HOUR);
    let distinct = n / 6 + 1;
    let futures: Vec<Pollable> = (0..distinct).map(|_| subscribe_duration(HOUR)).collect();
    let start = now();
    let pasts: Vec<Pollable> = (0..distinct)
        .map(|k| subscribe_instant(start.saturating_sub(k as u64)))
        .collect();
    // Several pollables per stream.
    let spolls: Vec<Pollable> = (0..distinct)
        .map(|k| streams[k % streams.len()].subscribe())
        .collect();
    // Ready on a native host once a read ahead is done (see `prime`), and
    // once its timer has fired (see `settle`).
    for p in &spolls[..streams.len()] {
        p.block();
    }
    settle(&pasts.iter().chain([&expired]).collect::<Vec<_>>());
    let list: Vec<&Pollable> = (0..n)
        .map(|i| match i % 6 {
            0 => &expired,
            1 => &future,
            2 => &futures[i / 6],
            3 => &pasts[i / 6],
            4 => &spolls[i / 6],
            _ => &futures[(i * 7) % distinct],
        })
        .collect();
    let want = |i: usize| matches!(i % 6, 0 | 3 | 4);
    println!("poll: {n} pollables, {} distinct", 3 * distinct + 2);
    for round in 0..3 {
        println!("round {round}: {}", summary(poll(&list), want, n));
    }

    // Everything far in the future but one short timer, last.
    let short = subscribe_duration(10 * MS);
    let mut waiting: Vec<&Pollable> = (0..n)
        .map(|i| {
            if i.is_multiple_of(2) {
                &future
            } else {
                &futures[i % distinct]
            }
        })
        .collect();
    waiting.push(&short);
    let last = waiting.len() - 1;
    println!(
        "one short timer among {n} far ones: {}",
        summary(poll(&waiting), |i| i == last, waiting.len())
    );

    // Many duplicates of one timer that is not yet due.
    let soon = subscribe_duration(5 * MS);
    let dups: Vec<&Pollable> = vec![&soon; 5 * n / 3];
    println!(
        "{} duplicates of a 5 ms timer: {}",
        dups.len(),
        summary(poll(&dups), |_| true, dups.len())
    );

    // stdin (a pipe): duplicates of its pollable among far-future clocks,
    // before and after reading it to the end.
    let stdin = get_stdin();
    let sp = stdin.subscribe();
    let mixed: Vec<&Pollable> = (0..n)
        .map(|i| if i.is_multiple_of(3) { &future } else { &sp })
        .collect();
    let is_stdin = |i: usize| !i.is_multiple_of(3);
    println!("stdin among clocks: {}", summary(poll(&mixed), is_stdin, n));
    let mut total = 0;
    loop {
        match stdin.blocking_read(65536) {
            Ok(b) => total += b.len(),
            Err(StreamError::Closed) => break,
            Err(e) => {
                println!("stdin: {}", stream_err(e));
                break;
            }
        }
    }
    println!("stdin: {total} bytes");
    println!(
        "stdin at its end among clocks: {}",
        summary(poll(&mixed), is_stdin, n)
    );
    drop(sp);
}

// ---------------------------------------------------------------- oom

/// Grows memory to `max - leave` pages itself, as a program that uses
/// nearly all memory has.
fn take_memory(max: usize, leave: usize) {
    let have = core::arch::wasm32::memory_size(0);
    let want = max - leave;
    if want > have && core::arch::wasm32::memory_grow(0, want - have) == usize::MAX {
        println!("cannot grow memory to {want} pages");
        std::process::exit(1)
    }
    println!(
        "memory grown to {} pages, {leave} below {max}",
        core::arch::wasm32::memory_size(0)
    );
}

fn oom(what: &str, max: usize, leave: usize) {
    // What the program itself needs later, allocated now.
    let mut kept: Vec<Pollable> = Vec::with_capacity(1 << 20);
    let reserve: Vec<u8> = vec![1; 16 << 20];
    let n = 1 << 20;
    let p = subscribe_duration(0);
    let list: Vec<&Pollable> = vec![&p; n];
    println!("oom: {what}");
    take_memory(max, leave);
    drop(reserve);
    match what {
        "handles" => {
            // The adapter's table grows until its heap has no room.
            for k in 1..=kept.capacity() {
                kept.push(subscribe_duration(if k.is_multiple_of(2) {
                    0
                } else {
                    HOUR
                }));
                if k.is_multiple_of(4096) {
                    let recent: Vec<&Pollable> = kept[k - 4096..].iter().collect();
                    let ready = poll(&recent);
                    if ready.len() != 2048 || ready.iter().any(|i| i.is_multiple_of(2)) {
                        println!("wrong poll after {k} handles: {} ready", ready.len());
                        std::process::exit(1)
                    }
                    if k.is_power_of_two() {
                        println!("{k} handles, the last 4096 polled right");
                    }
                }
            }
            println!("made {} handles without running out", kept.len());
        }
        "poll" => {
            // One poll of a list so long the adapter's copy of it cannot fit.
            let ready = poll(&list);
            println!("polled {n}: {} ready", ready.len());
        }
        _ => usage(),
    }
}

// ---------------------------------------------------------------- overlap

fn pattern(block: usize, i: usize) -> u64 {
    (block as u64 + 1).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ^ (i as u64).wrapping_mul(0xff51_afd7_ed55_8ccd)
}

fn block(id: usize, words: usize) -> (usize, Vec<u64>) {
    (id, (0..words).map(|i| pattern(id, i)).collect())
}

fn intact(b: &(usize, Vec<u64>), step: usize) -> bool {
    b.1.iter()
        .enumerate()
        .step_by(step)
        .all(|(i, &w)| w == pattern(b.0, i))
}

fn overlap(phases: usize) {
    let root = preopen("/d");
    let rw = DescriptorFlags::READ | DescriptorFlags::MUTATE_DIRECTORY;
    root.create_directory_at("long").expect("mkdir long");
    let dir = root
        .open_at(PathFlags::empty(), "long", OpenFlags::DIRECTORY, rw)
        .expect("open long");
    // Long file names (the adapter's directory buffer grows for them) and
    // long symlink targets (its readlink buffer doubles up to them).
    let name = |k: usize| format!("{k:04}-{}", "n".repeat(200 + k % 50));
    let target = |k: usize| format!("{k}/{}", "t".repeat(100 + k * 97 % 3900));
    let files = 120;
    for k in 0..files {
        let f = dir
            .open_at(
                PathFlags::empty(),
                &name(k),
                OpenFlags::CREATE,
                DescriptorFlags::WRITE,
            )
            .expect("create");
        f.write(format!("file {k}").as_bytes(), 0).expect("write");
        dir.symlink_at(&target(k), &format!("link{k}"))
            .expect("symlink");
    }
    let sample = open_read(&root, "sample").expect("open sample");
    let sample_bytes = std::fs::read("/d/sample").expect("read /d/sample");

    let mut blocks: Vec<(usize, Vec<u64>)> = Vec::new();
    let mut clocks: Vec<Pollable> = Vec::new();
    let mut readers: Vec<Option<Reader>> = Vec::new();
    let mut next_id = 0;
    let (mut polled, mut links_ok, mut names_ok, mut checks_ok) = (0, 0, 0, 0);
    for phase in 0..phases {
        // The program's heap: an 8 MB block, then the adapter's state.
        blocks.push(block(next_id, 1 << 20));
        next_id += 1;
        let fresh: Vec<Pollable> = (0..1000).map(|_| subscribe_duration(0)).collect();
        settle(&fresh.iter().collect::<Vec<_>>());
        for p in fresh {
            clocks.push(p);
            clocks.push(subscribe_duration(HOUR));
        }
        readers.extend((0..500).map(|k| {
            Some(reader(
                &sample,
                ((phase * 500 + k) * 13 % (sample_bytes.len() - 8)) as u64,
            ))
        }));
        // A big poll list: the adapter's copies of it in its heap.
        let list: Vec<&Pollable> = (0..100_000)
            .map(|i| &clocks[i * 7 % clocks.len()])
            .collect();
        let ready = poll(&list);
        polled += (ready.len()
            == (0..100_000)
                .filter(|i| (i * 7 % clocks.len()).is_multiple_of(2))
                .count()
            && ready
                .iter()
                .all(|&i| (i as usize * 7 % clocks.len()).is_multiple_of(2)))
            as usize;
        // Long names and targets.
        let k = phase * 7 % files;
        links_ok += (dir.readlink_at(&format!("link{k}")).ok() == Some(target(k))) as usize;
        let entries = dir.read_directory().expect("read-directory");
        let mut seen = 0;
        while let Ok(Some(e)) = entries.read_directory_entry() {
            if e.name.starts_with("link") || e.name.len() > 200 {
                seen += 1;
            }
        }
        names_ok += (seen == 2 * files) as usize;
        // Holes: drop some blocks and clocks, fill with smaller blocks.
        if phase % 4 == 3 {
            blocks.remove(blocks.len() / 2);
            clocks.truncate(clocks.len() / 2);
            for _ in 0..3 {
                blocks.push(block(next_id, 300_000));
                next_id += 1;
            }
        }
        let newest = blocks.last().unwrap();
        checks_ok += (intact(newest, 1) && blocks.iter().all(|b| intact(b, 4099))) as usize;
    }
    println!("overlap: {phases} phases, {} blocks of the program's, {} clocks and {} streams of the adapter's", blocks.len(), clocks.len(), readers.len());
    println!("polls right: {polled}/{phases}, symlink targets right: {links_ok}/{phases}, directory listings right: {names_ok}/{phases}, blocks intact at each phase: {checks_ok}/{phases}");
    let (ok, sum, bad) = read_all(&mut readers, &sample_bytes, false);
    println!(
        "streams read right: {ok}/{}, byte sum {sum}{bad}",
        readers.len()
    );
    let all_ok = blocks.iter().filter(|b| intact(b, 1)).count();
    println!("blocks intact at the end: {all_ok}/{}", blocks.len());
    let mut contents = 0;
    for k in 0..files {
        let f = open_read(&dir, &name(k)).expect("open long name");
        contents +=
            (f.read(64, 0).ok().map(|r| r.0) == Some(format!("file {k}").into_bytes())) as usize;
    }
    println!("long-named files read right: {contents}/{files}");
}

// ---------------------------------------------------------------- growth

fn growth() {
    const BLOCK: usize = 50 << 20;
    let root = preopen("/d");
    let file = open_read(&root, "big").expect("open big");
    let stream = file.read_via_stream(0).unwrap();
    let mut std_file = std::fs::File::open("/d/big").expect("std open");
    let stdin = get_stdin();
    // Pollables made before the heap grows, used after.
    let stream_ready = stream.subscribe();
    let stdin_ready = stdin.subscribe();
    let timer = subscribe_duration(30 * MS);
    let start_pages = core::arch::wasm32::memory_size(0);

    let sizes = [1 << 20, 4093, 65536, 300_000, 1, 777_777, 2 << 20, 12345];
    let (mut h1, mut h2, mut h3) = (FNV0, FNV0, FNV0);
    let (mut n1, mut n2, mut n3) = (0usize, 0usize, 0usize);
    let (mut done1, mut done2, mut done3) = (false, false, false);
    let mut ring: std::collections::VecDeque<(u8, Vec<u8>)> = Default::default();
    let (mut grew_in_read, mut ring_ok, mut empty_reads) = (0, true, 0);
    let mut i = 0usize;
    while !(done1 && done2 && done3) {
        let len = sizes[i % sizes.len()];
        // Grow: a fresh 50 MB block (a ring of six stays alive), touched
        // in every page.
        let fill = (i % 251) as u8;
        ring.push_back((fill, vec![fill; BLOCK]));
        if ring.len() > 6 {
            let (f, old) = ring.pop_front().unwrap();
            ring_ok &= old.iter().step_by(PAGE / 4).all(|&b| b == f) && old[BLOCK - 1] == f;
        }
        if !done1 {
            // The result list is allocated during the call: the heap was
            // just filled, so it often grows memory there.
            let before = core::arch::wasm32::memory_size(0);
            let got = if i.is_multiple_of(2) {
                stream.blocking_read(len as u64)
            } else {
                // Ready since a file always is; polled after the growth.
                poll(&[&stream_ready]);
                stream.read(len as u64)
            };
            grew_in_read += (core::arch::wasm32::memory_size(0) > before) as usize;
            match got {
                Ok(b) => {
                    h1 = fnv(h1, &b);
                    n1 += b.len();
                }
                Err(StreamError::Closed) => done1 = true,
                Err(e) => {
                    println!("stream: {}", stream_err(e));
                    done1 = true
                }
            }
        }
        if !done2 {
            let mut buf = vec![0u8; len];
            match std_file.read(&mut buf) {
                Ok(0) => done2 = true,
                Ok(n) => {
                    h2 = fnv(h2, &buf[..n]);
                    n2 += n;
                }
                Err(e) => {
                    println!("std::fs: {e}");
                    done2 = true
                }
            }
        }
        if !done3 {
            // Non-blocking first; when nothing is there, wait on the
            // pollable made before the growth.
            let mut r = stdin.read(len as u64);
            if matches!(&r, Ok(b) if b.is_empty()) {
                empty_reads += 1;
                poll(&[&stdin_ready]);
                r = stdin.blocking_read(len as u64);
            }
            match r {
                Ok(b) => {
                    h3 = fnv(h3, &b);
                    n3 += b.len();
                }
                Err(StreamError::Closed) => done3 = true,
                Err(e) => {
                    println!("stdin: {}", stream_err(e));
                    done3 = true
                }
            }
        }
        i += 1;
    }
    let grown = (core::arch::wasm32::memory_size(0) - start_pages) * PAGE;
    for (f, b) in &ring {
        ring_ok &= b.iter().step_by(PAGE / 4).all(|x| x == f);
    }
    poll(&[&timer]);
    println!("stream: {n1} bytes, fnv {h1:016x}");
    println!("std::fs: {n2} bytes, fnv {h2:016x}");
    println!("stdin: {n3} bytes, fnv {h3:016x}");
    println!("memory grew by more than 300 MB: {}", grown > 300 << 20);
    println!("some reads grew memory: {}", grew_in_read > 0);
    println!("blocks intact: {ring_ok}");
    println!("timer made before the growth fired: {}", timer.ready());
    let _ = empty_reads;
}
