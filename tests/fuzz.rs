//! The linker never panics, never hangs and never writes an invalid module:
//! a bounded property test over inputs nobody chose (a fixed seed, so a
//! failure repeats): modules shaped like WASI 0.2 programs, arbitrary
//! wasm-smith modules, and our real components mutated. Every case must
//! have `gen::check`'s property. `fuzz/` runs the same without bounds.
//!
//! `FUZZ_CASES=N` changes the number of cases (default 6000); a failing
//! input is written under the test's temp dir to replay.

mod common;
#[path = "fuzz/gen.rs"]
mod gen;

use std::sync::mpsc;
use std::time::Duration;

/// splitmix64: the bytes of case `i`.
fn case_bytes(i: u64, len: usize) -> Vec<u8> {
    let mut x = 0x5eed_f00d_u64 ^ i.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    (0..len)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            (z ^ (z >> 31)) as u8
        })
        .collect()
}

#[test]
fn linker_property() {
    let cases: u64 = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(6000);
    let wasi = std::sync::Arc::new(gen::Wasi::new());
    let reals: std::sync::Arc<Vec<Vec<u8>>> = std::sync::Arc::new(
        ["hello", "fs", "tcp-echo", "p1-dep"]
            .iter()
            .map(|p| std::fs::read(common::example(p)).unwrap())
            .collect(),
    );
    let dir = common::temp_dir("fuzz");
    let mut failures = Vec::new();
    let mut kinds = [0u32; 3];
    let mut adapted = [0u32; 3];
    for i in 0..cases {
        let (wasi, reals) = (wasi.clone(), reals.clone());
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let data = case_bytes(i, 2048 + (i as usize % 7) * 1024);
            let mut u = arbitrary::Unstructured::new(&data);
            let kind = (i % 3) as usize;
            let input = match kind {
                0 => gen::program(&wasi, &mut u),
                1 => gen::arbitrary_module(&mut u),
                _ => gen::mutated(&reals[(i / 3) as usize % reals.len()], &mut u),
            };
            let Ok(input) = input else {
                let _ = tx.send(None);
                return;
            };
            let r = std::panic::catch_unwind(|| gen::check(&input)).unwrap_or_else(|p| {
                Err(format!(
                    "panicked: {}",
                    p.downcast_ref::<String>()
                        .cloned()
                        .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default()
                ))
            });
            let _ = tx.send(Some((kind, input, r)));
        });
        match rx.recv_timeout(Duration::from_secs(30)) {
            Ok(None) => {}
            Ok(Some((kind, input, r))) => {
                kinds[kind] += 1;
                if r == Ok(true) {
                    adapted[kind] += 1;
                }
                if let Err(why) = r {
                    let path = dir.join(format!("case-{i}.wasm"));
                    std::fs::write(&path, &input).unwrap();
                    failures.push(format!("case {i}: {why} ({})", path.display()));
                }
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                failures.push(format!("case {i}: the generator panicked"));
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {
                failures.push(format!("case {i}: no answer in 30 s (a hang?)"));
                break;
            }
        }
    }
    println!(
        "{} program-shaped, {} arbitrary, {} mutated real components; adapted: {adapted:?}",
        kinds[0], kinds[1], kinds[2]
    );
    assert!(
        kinds.iter().all(|&k| k as u64 > cases / 6),
        "too few cases of a kind were made: {kinds:?}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// What the property test found, kept as regressions: each adapts, and
/// the output validates.
#[test]
fn found_by_fuzzing() {
    let cases = [
        // `elem.drop` of a declared segment: the segment must be kept.
        r#"(module
            (memory (export "memory") 1)
            (func $f)
            (elem declare func $f)
            (func (export "wasi:cli/run@0.2.0#run") (result i32) (elem.drop 0) (i32.const 0)))"#,
        // `elem.drop` of an active segment whose table no code uses: the
        // table must be kept with it.
        r#"(module
            (memory (export "memory") 1)
            (table 1 funcref)
            (func $f)
            (elem (i32.const 0) $f)
            (func (export "wasi:cli/run@0.2.0#run") (result i32) (elem.drop 0) (i32.const 0)))"#,
        // A global initialized with `ref.func`: the function is reached.
        r#"(module
            (memory (export "memory") 1)
            (func $f)
            (global (mut funcref) (ref.func $f))
            (func (export "wasi:cli/run@0.2.0#run") (result i32)
              (drop (ref.is_null (global.get 0))) (i32.const 0)))"#,
    ];
    for (i, text) in cases.iter().enumerate() {
        let wasm = wat::parse_str(text).unwrap();
        assert_eq!(gen::check(&wasm), Ok(true), "case {i}");
    }
}
