//! libc-shim: a program reading files and stdin through libc `read` gives
//! byte-identical output with and without the shim on every runtime, and
//! with the shim no read falls back to allocating and copying (the adapter's
//! reads land in the caller's buffer).

mod common;

use common::{example, example_in, run_with_input, RUNTIMES};
use std::path::Path;
use std::process::Command;

#[test]
fn same_output_and_no_fallback() {
    let dir = common::temp_dir("shim");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 13 % 251) as u8).collect();
    std::fs::write(dir.join("data.bin"), &data).unwrap();
    let stdin: Vec<u8> = (0..200_000u32).map(|i| (i % 97) as u8).collect();
    let run = |wasm: &Path, rt: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wasi-downlevel"));
        cmd.args(["run", "--runtime", rt, "--dir"])
            .arg(format!("{}::/data", dir.display()))
            .arg(wasm)
            .arg("/data/data.bin");
        let out = run_with_input(&mut cmd, Some(&stdin), 120);
        assert!(
            out.status.success(),
            "{rt}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    for rt in RUNTIMES {
        let rt = &format!("{rt:?}").to_lowercase();
        let plain = run(&example("shim-read"), rt);
        let shim = run(&example_in("target/shim", "shim-read"), rt);
        let (body, last) = shim.trim_end().rsplit_once('\n').unwrap();
        assert_eq!(
            format!("{body}\n"),
            plain,
            "{rt}: output with and without the shim"
        );
        assert_eq!(last, "fallback reads: 0", "{rt}");
        assert!(plain.contains("stdin: 200000 bytes"), "{rt}: {plain}");
    }
}
