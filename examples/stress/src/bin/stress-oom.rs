//! `stress` built with a 64 MiB memory maximum (`build.rs`), so running out
//! of memory costs a runtime little.
fn main() {
    stress::run()
}
