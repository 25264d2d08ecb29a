//! `yes [TEXT]`: prints TEXT (default `y`) forever with `println!`, which
//! panics once stdout is closed: for the runner's tests of how a program
//! that traps on a closed stdout ends.

fn main() {
    let text = std::env::args().nth(1).unwrap_or_else(|| "y".into());
    loop {
        println!("{text}");
    }
}
