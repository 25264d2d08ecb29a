//! `poll`: `wasi:io/poll` through the `wasip2` crate (`@0.2.12`).
//!
//! Exercises `poll` over several pollables and timeouts: three
//! `monotonic-clock.subscribe-duration` pollables of 30, 10 and 20 ms polled
//! in a loop (printing the order they become ready), a `subscribe-instant` in
//! the past (ready at once), `pollable.ready` on pending and finished
//! pollables, `pollable.block`, stdin's pollable raced against a timeout
//! (then reading stdin to EOF), and stdout's pollable.
//!
//! Output is deterministic for given stdin (from a pipe or /dev/null): only
//! orders and properties are printed, never times.

use wasip2::cli::{stdin, stdout};
use wasip2::clocks::monotonic_clock;
use wasip2::io::poll::{poll, Pollable};
use wasip2::io::streams::StreamError;

const MS: u64 = 1_000_000;

fn main() {
    println!("poll: wasi:io/poll via the wasip2 crate");

    // 1. Three timers polled together until all have fired.
    let start = monotonic_clock::now();
    let durations = [30u64, 10, 20];
    let mut pending: Vec<(u64, Pollable)> = durations
        .iter()
        .map(|&d| (d, monotonic_clock::subscribe_duration(d * MS)))
        .collect();
    let mut order = Vec::new();
    let mut polls = 0;
    while !pending.is_empty() {
        let list: Vec<&Pollable> = pending.iter().map(|(_, p)| p).collect();
        let mut ready = poll(&list);
        polls += 1;
        assert!(!ready.is_empty(), "poll returned no ready pollable");
        ready.sort_unstable();
        // Remove from the back so the indices stay valid; timers that fire
        // in the same round are reported shortest first.
        let mut batch: Vec<u64> = ready
            .iter()
            .rev()
            .map(|&i| pending.remove(i as usize).0)
            .collect();
        batch.sort_unstable();
        order.extend(batch);
    }
    let elapsed = monotonic_clock::now() - start;
    let names: Vec<String> = order.iter().map(|d| format!("{d}ms")).collect();
    println!("timers became ready in order: {}", names.join(", "));
    println!("needed at most 3 polls: {}", polls <= 3);
    println!("elapsed >= 30ms: {}", elapsed >= 30 * MS);

    // 2. An instant in the past, and a zero duration, are ready at once.
    // (`ready()` is asked only after a poll: wasmtime 49 answers false to
    // `ready()` on a timer that no poll or block has looked at yet.)
    let before = monotonic_clock::now();
    let past = monotonic_clock::subscribe_instant(before.saturating_sub(MS));
    let zero = monotonic_clock::subscribe_duration(0);
    println!("poll [past instant] returns [0]: {}", poll(&[&past]) == [0]);
    println!("poll [0 ns] returns [0]: {}", poll(&[&zero]) == [0]);
    println!("past instant ready after poll: {}", past.ready());
    println!(
        "returned within 1 s: {}",
        monotonic_clock::now() - before < 1_000 * MS
    );

    // 3. ready() before and after, block(), and a long timer that never fires.
    let long = monotonic_clock::subscribe_duration(60_000 * MS);
    let short = monotonic_clock::subscribe_duration(5 * MS);
    println!("60 s timer ready: {}", long.ready());
    println!(
        "poll [60 s, 5 ms] returns [1]: {}",
        poll(&[&long, &short]) == [1]
    );
    println!("5 ms timer ready after poll: {}", short.ready());
    let t = monotonic_clock::subscribe_duration(2 * MS);
    t.block();
    println!("2 ms timer ready after block: {}", t.ready());
    println!("60 s timer still not ready: {}", !long.ready());

    // 4. stdin's pollable against a 10 s timeout.
    let input = stdin::get_stdin();
    let sub = input.subscribe();
    let timeout = monotonic_clock::subscribe_duration(10_000 * MS);
    let ready = poll(&[&sub, &timeout]);
    let stdin_ready = ready.contains(&0);
    println!("stdin ready before the timeout: {stdin_ready}");
    if stdin_ready {
        let mut first: Option<bool> = None; // Some(true) = data, Some(false) = EOF
        let mut total = 0usize;
        loop {
            match input.read(4096) {
                Ok(b) if b.is_empty() => sub.block(),
                Ok(b) => {
                    first.get_or_insert(true);
                    total += b.len();
                }
                Err(StreamError::Closed) => {
                    first.get_or_insert(false);
                    break;
                }
                Err(e) => panic!("stdin read: {e}"),
            }
        }
        let what = if first == Some(true) { "data" } else { "EOF" };
        println!("stdin first read saw: {what}; {total} bytes until EOF");
    }
    drop(sub);

    // 5. stdout's pollable: ready for writing.
    let out = stdout::get_stdout();
    let out_sub = out.subscribe();
    let timeout = monotonic_clock::subscribe_duration(10_000 * MS);
    println!(
        "stdout pollable ready: {}",
        poll(&[&out_sub, &timeout]).contains(&0)
    );
    println!(
        "stdout check-write > 0: {}",
        out.check_write().map(|n| n > 0).unwrap_or(false)
    );
    println!("done");
}
