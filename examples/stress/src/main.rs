//! See the library: `stress` with the default memory limit (4 GiB).
fn main() {
    stress::run()
}
