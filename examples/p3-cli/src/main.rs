//! A WASI 0.3 command (wit-bindgen's async bindings): arguments and
//! environment, stdin copied to stdout through streams, a line on stderr,
//! a timer, random bytes, and an exit code chosen by an argument.

use wasip3::cli::{environment, exit, stderr, stdin, stdout};
use wasip3::clocks::monotonic_clock;
use wasip3::wit_stream;

wasip3::cli::command::export!(Cli);

struct Cli;

/// Writes `bytes` to stdout or stderr through a stream the host reads.
async fn print(to_stderr: bool, bytes: Vec<u8>) {
    let (mut tx, rx) = wit_stream::new();
    let done = async {
        if to_stderr {
            stderr::write_via_stream(rx).await
        } else {
            stdout::write_via_stream(rx).await
        }
    };
    let write = async {
        let rest = tx.write_all(bytes).await;
        assert!(rest.is_empty());
        drop(tx);
    };
    let (r, ()) = futures::join!(done, write);
    r.expect("write to stdio");
}

impl wasip3::exports::cli::run::Guest for Cli {
    async fn run() -> Result<(), ()> {
        let args = environment::get_arguments();
        let mut out = format!("args: {}\n", args.len() - 1);
        for (i, a) in args.iter().enumerate().skip(1) {
            out += &format!("  arg[{i}] = {a:?}\n");
        }
        let mut env: Vec<_> = environment::get_environment()
            .into_iter()
            .filter(|(k, _)| k.starts_with("P3_"))
            .collect();
        env.sort();
        out += &format!("P3_* vars: {env:?}\n");
        print(false, out.into_bytes()).await;

        // stdin to stdout, counting.
        let (mut rx, result) = stdin::read_via_stream();
        let mut total = 0usize;
        let mut copied = Vec::new();
        loop {
            let (status, buf) = rx.read(Vec::with_capacity(4096)).await;
            total += buf.len();
            copied.extend_from_slice(&buf);
            if let wasip3::wit_bindgen::StreamResult::Dropped = status {
                break;
            }
        }
        drop(rx);
        let end = result.await;
        print(false, copied).await;
        print(
            false,
            format!("\nstdin: {total} bytes, end {end:?}\n").into_bytes(),
        )
        .await;

        let start = monotonic_clock::now();
        monotonic_clock::wait_for(10_000_000).await;
        let slept = monotonic_clock::now() - start;
        let random = wasip3::random::random::get_random_bytes(16);
        print(
            false,
            format!(
                "slept >= 10ms: {}\nrandom bytes not all zero: {}\n",
                slept >= 10_000_000,
                random.iter().any(|&b| b != 0)
            )
            .into_bytes(),
        )
        .await;
        print(true, b"p3 on stderr\n".to_vec()).await;
        match args.get(1).map(String::as_str) {
            Some("fail") => Err(()),
            Some(code) if code.parse::<u8>().is_ok() => {
                exit::exit_with_code(code.parse().unwrap());
                unreachable!()
            }
            _ => Ok(()),
        }
    }
}

fn main() {
    unreachable!("run through wasi:cli/run")
}
