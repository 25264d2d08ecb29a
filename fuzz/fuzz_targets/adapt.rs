//! The linker never panics, never hangs and never writes an invalid module
//! (`tests/fuzz/gen.rs`'s property), on inputs libFuzzer steers: modules
//! shaped like WASI 0.2 programs, arbitrary wasm-smith modules, and our
//! example components mutated.

#![no_main]

#[path = "../../tests/fuzz/gen.rs"]
mod gen;

use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

static WASI: OnceLock<gen::Wasi> = OnceLock::new();
static REALS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();

fn reals() -> &'static [Vec<u8>] {
    REALS.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/target/wasm32-wasip2/release");
        ["hello", "fs", "tcp-echo", "p1-dep"]
            .iter()
            .filter_map(|p| std::fs::read(format!("{dir}/{p}.wasm")).ok())
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let mut u = arbitrary::Unstructured::new(data);
    let Ok(kind) = u.arbitrary::<u8>() else { return };
    let input = match kind % 3 {
        0 => gen::program(WASI.get_or_init(gen::Wasi::new), &mut u),
        1 => gen::arbitrary_module(&mut u),
        _ => match reals() {
            [] => return,
            reals => gen::mutated(&reals[kind as usize / 3 % reals.len()], &mut u),
        },
    };
    let Ok(input) = input else { return };
    if let Err(why) = gen::check(&input) {
        panic!("{why}");
    }
});
