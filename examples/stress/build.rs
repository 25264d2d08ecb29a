//! The `stress-oom` binary's memory maximum: 64 MiB (1024 pages), which
//! `tests/exhaustion.rs` passes to `stress oom` as MAX_PAGES.
fn main() {
    println!("cargo:rustc-link-arg-bin=stress-oom=--max-memory=67108864");
}
