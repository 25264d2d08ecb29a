//! `wasi:cli@0.3`: 0.2's arguments, environment, exit and terminals; stdio
//! as byte streams, read from and written to fds 0-2 as the program reads
//! and writes them.

use crate::put;
use crate::task::stream;

pub mod environment {
    pub use crate::cli::environment::initial_cwd as get_initial_cwd;
    pub use crate::cli::environment::{get_arguments, get_environment};
}

pub mod exit {
    pub use crate::cli::exit::{exit, exit_with_code};
}

pub mod stdin {
    use super::*;

    /// The stream of stdin's bytes and the future of its outcome.
    pub unsafe fn read_via_stream(ret: i32) {
        let (s, f) = stream::host_source(0);
        put(ret, 0, s);
        put(ret, 4, f);
    }
}

pub mod stdout {
    use super::*;

    pub unsafe fn write_via_stream(data: i32) -> i32 {
        stream::host_sink(data, 1) as i32
    }
}

pub mod stderr {
    use super::*;

    pub unsafe fn write_via_stream(data: i32) -> i32 {
        stream::host_sink(data, 2) as i32
    }
}

pub mod terminal_input {
    pub use crate::cli::terminal_input::drop_terminal_input;
}

pub mod terminal_output {
    pub use crate::cli::terminal_output::drop_terminal_output;
}

pub mod terminal_stdin {
    pub use crate::cli::terminal_stdin::get_terminal_stdin;
}

pub mod terminal_stdout {
    pub use crate::cli::terminal_stdout::get_terminal_stdout;
}

pub mod terminal_stderr {
    pub use crate::cli::terminal_stderr::get_terminal_stderr;
}
