//! `p1-dep`: a WASI 0.2 program with a dependency that still uses preview1.
//!
//! `getrandom` 0.2 on `wasm32-wasip2` goes through the `wasi` 0.11 crate, so
//! the main core module imports `wasi_snapshot_preview1.random_get` next to
//! the `wasi:*@0.2.x` imports that std and wasi-libc bring, and the component
//! embeds a trimmed preview1-to-preview2 adapter. Also prints to stdout and
//! uses the monotonic clock through std.
//!
//! Everything printed is deterministic.

use std::time::Instant;

fn main() {
    println!("p1-dep: getrandom 0.2 via wasi_snapshot_preview1.random_get");

    let start = Instant::now();

    let mut a = [0u8; 32];
    let mut b = [0u8; 32];
    getrandom::getrandom(&mut a).expect("getrandom 0.2 (a)");
    getrandom::getrandom(&mut b).expect("getrandom 0.2 (b)");
    println!("getrandom 0.2 filled 32 bytes: ok");
    println!("random bytes not all zero: {}", a.iter().any(|&x| x != 0));
    println!("two draws differ: {}", a != b);

    // A larger buffer, to cross any internal chunking.
    let mut big = vec![0u8; 4096];
    getrandom::getrandom(&mut big).expect("getrandom 0.2 (big)");
    let distinct = {
        let mut seen = [false; 256];
        big.iter().for_each(|&x| seen[x as usize] = true);
        seen.iter().filter(|&&s| s).count()
    };
    println!(
        "4096 random bytes, more than 200 distinct values: {}",
        distinct > 200
    );

    let later = Instant::now();
    println!("monotonic clock did not go backwards: {}", later >= start);
}
