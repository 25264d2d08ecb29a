//! `hello`: a plain-std WASI 0.2 program.
//!
//! Exercises what std (and wasi-libc underneath) does on `wasm32-wasip2`:
//! stdout and stderr writes, command-line arguments, environment variables,
//! reading all of stdin, the monotonic clock (`Instant` across a 10 ms sleep),
//! the wall clock (`SystemTime`), random bytes through `getrandom` 0.3 (which
//! uses the `wasip2` crate, `wasi:random/random@0.2.12`) and the exit status
//! (`--exit N` calls `std::process::exit(N)`; a native p2 host reports any
//! nonzero code as 1).
//!
//! Everything printed is deterministic for given args, env and stdin.

use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn main() {
    println!("hello from wasi-downlevel");

    // Arguments, skipping argv[0] (it differs between runtimes).
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("args: {}", args.len());
    for (i, a) in args.iter().enumerate() {
        println!("  arg[{}] = {:?}", i + 1, a);
    }

    // Environment.
    match std::env::var("GREETING") {
        Ok(v) => println!("GREETING = {v:?}"),
        Err(_) => println!("GREETING is not set"),
    }
    let mut names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with("HELLO_"))
        .collect();
    names.sort();
    println!("HELLO_* vars: {names:?}");

    // All of stdin: byte count and a 32-bit FNV-1a checksum.
    let mut input = Vec::new();
    std::io::stdin()
        .read_to_end(&mut input)
        .expect("reading stdin");
    let mut sum: u32 = 0x811c_9dc5;
    for b in &input {
        sum = (sum ^ u32::from(*b)).wrapping_mul(0x0100_0193);
    }
    println!("stdin: {} bytes, fnv1a32 {:08x}", input.len(), sum);

    // stderr.
    let mut err = std::io::stderr();
    writeln!(err, "hello on stderr").unwrap();
    err.flush().unwrap();

    // Clocks.
    let start = Instant::now();
    std::thread::sleep(Duration::from_millis(10));
    let elapsed = start.elapsed();
    println!(
        "monotonic elapsed over 10 ms sleep >= 10ms: {}",
        elapsed >= Duration::from_millis(10)
    );
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    println!("wall clock after 2020: {}", now.as_secs() > 1_577_836_800);

    // Random.
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("getrandom");
    println!(
        "random bytes not all zero: {}",
        bytes.iter().any(|&b| b != 0)
    );

    // Exit status.
    if let Some(pos) = args.iter().position(|a| a == "--exit") {
        let code: i32 = args
            .get(pos + 1)
            .and_then(|s| s.parse().ok())
            .expect("--exit needs a number");
        println!("exiting with {code}");
        std::io::stdout().flush().unwrap();
        std::process::exit(code);
    }
    println!("done");
}
