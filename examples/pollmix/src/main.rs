//! `pollmix SEED [ROUNDS]`: `wasi:io/poll` over random mixes of pollables,
//! chosen by SEED: clocks (elapsed, in the past, short, far off), a file's
//! streams, stdout, and stdin (a pipe the caller keeps open and empty),
//! each possibly several times in one list. Prints, for each round, the
//! list and which indices `poll` called ready, then `ready` of each.
//!
//! Only what the spec defines is printed: a list holding anything ready at
//! once returns exactly those (far clocks and stdin never are); a list
//! without holds one short clock, which must be what wakes it, no sooner
//! than its duration.

use wasip2::cli::{stdin::get_stdin, stdout::get_stdout};
use wasip2::clocks::monotonic_clock::{now, subscribe_duration, subscribe_instant};
use wasip2::filesystem::preopens::get_directories;
use wasip2::filesystem::types::{DescriptorFlags, OpenFlags, PathFlags};
use wasip2::io::poll::{poll, Pollable};

const MS: u64 = 1_000_000;

struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// What a pollable waits for, and whether it is ready at once.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Elapsed,
    Past,
    Far,
    File,
    FileOut,
    Stdout,
    Stdin,
}

impl Kind {
    fn ready_at_once(self) -> bool {
        !matches!(self, Kind::Far | Kind::Stdin)
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let seed: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .expect("pollmix SEED [ROUNDS]");
    let rounds: u64 = args.get(2).map_or(40, |s| s.parse().expect("ROUNDS"));
    let mut r = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let root = get_directories()
        .into_iter()
        .find(|(_, p)| p == "/d")
        .expect("a preopen /d")
        .0;
    let rw = DescriptorFlags::READ | DescriptorFlags::WRITE;
    let file = root
        .open_at(PathFlags::empty(), "f", OpenFlags::CREATE, rw)
        .expect("open /d/f");
    file.write(b"some bytes", 0).expect("write /d/f");
    let (input, out) = (get_stdin(), get_stdout());
    let file_in = file.read_via_stream(0).expect("read-via-stream");
    let file_out = file.append_via_stream().expect("append-via-stream");
    for round in 0..rounds {
        let n = 1 + r.below(6) as usize;
        let mut kinds = Vec::new();
        let mut list: Vec<Pollable> = Vec::new();
        // The same pollable may appear several times in a list: `refs`
        // holds an index into `list` per entry.
        let mut refs: Vec<usize> = Vec::new();
        for _ in 0..n {
            if !list.is_empty() && r.below(5) == 0 {
                let again = r.below(refs.len() as u64) as usize;
                refs.push(refs[again]);
                kinds.push(kinds[again]);
                continue;
            }
            let kind = match r.below(10) {
                0 => Kind::Elapsed,
                1 => Kind::Past,
                2..=3 => Kind::Far,
                4 => Kind::File,
                5 => Kind::FileOut,
                6 => Kind::Stdout,
                _ => Kind::Stdin,
            };
            list.push(match kind {
                Kind::Elapsed => subscribe_duration(0),
                Kind::Past => subscribe_instant(now().saturating_sub(MS)),
                Kind::Far => subscribe_duration(3_600_000 * MS),
                Kind::File => file_in.subscribe(),
                Kind::FileOut => file_out.subscribe(),
                Kind::Stdout => out.subscribe(),
                Kind::Stdin => input.subscribe(),
            });
            refs.push(list.len() - 1);
            kinds.push(kind);
        }
        // Nothing ready at once: add one short clock, which must wake it.
        let (mut short, mut subscribed) = (None, 0);
        if !kinds.iter().any(|k| k.ready_at_once()) {
            let ms = 1 + r.below(15);
            subscribed = now();
            list.push(subscribe_duration(ms * MS));
            let at = r.below(refs.len() as u64 + 1) as usize;
            refs.insert(at, list.len() - 1);
            short = Some((at, ms));
        }
        let entries: Vec<&Pollable> = refs.iter().map(|&i| &list[i]).collect();
        let mut ready = poll(&entries);
        // The clock runs from its subscription.
        let waited = now() - subscribed;
        ready.sort_unstable();
        let mut names: Vec<String> = kinds.iter().map(|k| format!("{k:?}")).collect();
        // Which of the ready-at-once entries a poll returns is the host's
        // choice (wasmtime may leave out a clock that has just elapsed); that
        // it returns some, and only those, is not.
        let verdict = match short {
            Some((at, ms)) => {
                names.insert(at, format!("Short({ms}ms)"));
                match (ready == [at as u32], waited >= ms * MS) {
                    (true, true) => "the short clock, not before its time".to_string(),
                    (true, false) => format!("the short clock, {} ms early", ms - waited / MS),
                    (false, _) => format!("wrong: {ready:?}"),
                }
            }
            None if !ready.is_empty()
                && ready
                    .iter()
                    .all(|&i| kinds.get(i as usize).is_some_and(|k| k.ready_at_once())) =>
            {
                "ready ones only".to_string()
            }
            None => format!("wrong: {ready:?}"),
        };
        println!("{round}: poll [{}] -> {verdict}", names.join(", "));
        // Never-ready ones stay so; the others are ready once waited for.
        let readiness: Vec<bool> = entries
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let pending = short.is_none_or(|(at, _)| at != i)
                    && !kinds[if short.is_some_and(|(at, _)| i > at) {
                        i - 1
                    } else {
                        i
                    }]
                    .ready_at_once();
                if !pending {
                    p.block();
                }
                p.ready()
            })
            .collect();
        println!("{round}: ready {readiness:?}");
    }
    // A list of one pollable many times over, and a long mixed list.
    let far = subscribe_duration(3_600_000 * MS);
    let zero = subscribe_duration(0);
    let mut many: Vec<&Pollable> = Vec::new();
    for i in 0..3000 {
        many.push(if i % 1000 == 999 { &zero } else { &far });
    }
    println!("3000 entries -> {:?}", poll(&many));
    // `block` on a short clock, then it is ready.
    let p = subscribe_duration(2 * MS);
    p.block();
    println!("after block: ready {}", p.ready());
}
