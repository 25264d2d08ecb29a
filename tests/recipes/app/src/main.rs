//! Prints its arguments and a file of the directory it runs in; its test
//! reads that file too, so a runner must give it the directory.

fn greeting() -> String {
    std::fs::read_to_string("greeting.txt").unwrap_or_else(|e| format!("no greeting: {e}"))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    println!("app: {} {:?}", greeting().trim(), args);
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_its_directory() {
        assert_eq!(super::greeting().trim(), "hello from the host");
    }
}
