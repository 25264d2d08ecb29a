//! A WASI 0.3 program that awaits several things at once: timers of
//! different lengths, a stream between two of its own tasks, a
//! race that cancels the slower timer, a read cancelled by a timer, and stdin
//! read while a timer runs.

use std::cell::RefCell;
use wasip3::cli::{stdin, stdout};
use wasip3::clocks::monotonic_clock;
use wasip3::wit_bindgen::StreamResult;
use wasip3::wit_stream;

wasip3::cli::command::export!(Concurrent);

struct Concurrent;

const MS: u64 = 1_000_000;

async fn print(out: &RefCell<String>, line: String) {
    out.borrow_mut().push_str(&line);
    out.borrow_mut().push('\n');
}

impl wasip3::exports::cli::run::Guest for Concurrent {
    async fn run() -> Result<(), ()> {
        let out = RefCell::new(String::new());

        // Timers awaited together end in the order of their lengths.
        let order = RefCell::new(Vec::new());
        let timer = |ms: u64, id: u32| {
            let order = &order;
            async move {
                monotonic_clock::wait_for(ms * MS).await;
                order.borrow_mut().push(id);
            }
        };
        let start = monotonic_clock::now();
        futures::join!(timer(60, 3), timer(20, 1), timer(40, 2), timer(0, 0));
        let took = monotonic_clock::now() - start;
        print(&out, format!("timers ended in order {:?}", order.borrow())).await;
        print(
            &out,
            format!("together, not one after another: {}", took < 110 * MS),
        )
        .await;

        // A stream between two of our own tasks, in chunks of different
        // sizes on each side.
        let (mut tx, mut rx) = wit_stream::new::<u8>();
        let sent: Vec<u8> = (0..100_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let expect = sent.clone();
        let writer = async move {
            for chunk in sent.chunks(7_000) {
                let rest = tx.write_all(chunk.to_vec()).await;
                assert!(rest.is_empty());
            }
        };
        let reader = async move {
            let mut got = Vec::new();
            loop {
                let (status, buf) = rx.read(Vec::with_capacity(1_000)).await;
                got.extend_from_slice(&buf);
                if let StreamResult::Dropped = status {
                    break;
                }
            }
            got
        };
        let ((), got) = futures::join!(writer, reader);
        print(
            &out,
            format!(
                "stream between tasks: {} bytes, intact: {}",
                got.len(),
                got == expect
            ),
        )
        .await;

        // A race: the short timer wins; the long one is cancelled.
        let start = monotonic_clock::now();
        let short = Box::pin(monotonic_clock::wait_for(10 * MS));
        let long = Box::pin(monotonic_clock::wait_for(5_000 * MS));
        let won = match futures::future::select(short, long).await {
            futures::future::Either::Left(_) => "short",
            futures::future::Either::Right(_) => "long",
        };
        let took = monotonic_clock::now() - start;
        print(
            &out,
            format!(
                "race won by the {won} timer, the other cancelled: {}",
                took < 1_000 * MS
            ),
        )
        .await;

        // stdin read while a timer runs; first a read raced against a short
        // timer, which (on a pipe that stays empty a while) cancels it.
        let (mut rx, result) = stdin::read_via_stream();
        let mut first = 0;
        {
            let read = Box::pin(rx.read(Vec::with_capacity(65_536)));
            let timer = Box::pin(monotonic_clock::wait_for(MS));
            if let futures::future::Either::Left(((_, buf), _)) =
                futures::future::select(read, timer).await
            {
                first = buf.len();
            }
        }
        let read_all = async move {
            let mut total = first;
            loop {
                let (status, buf) = rx.read(Vec::with_capacity(65_536)).await;
                total += buf.len();
                if let StreamResult::Dropped = status {
                    break;
                }
            }
            total
        };
        let (total, ()) = futures::join!(read_all, monotonic_clock::wait_for(20 * MS));
        print(
            &out,
            format!("stdin: {total} bytes, end {:?}", result.await),
        )
        .await;

        let (mut tx, rx) = wit_stream::new();
        let text = out.into_inner().into_bytes();
        let (r, ()) = futures::join!(async { stdout::write_via_stream(rx).await }, async move {
            assert!(tx.write_all(text).await.is_empty());
            drop(tx);
        });
        r.map_err(|_| ())
    }
}

fn main() {
    unreachable!("run through wasi:cli/run")
}
