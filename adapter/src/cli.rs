//! `wasi:cli`: arguments and environment, exit, stdio and terminals.

use crate::abi::put_string;
use crate::io::{InputStream, OutputStream};
use crate::table::{TerminalInput, TerminalOutput};
use crate::{p1, put, state, OrTrap};
use alloc::vec;
use alloc::vec::Vec;

/// Returns a preview1 string list (`args_*`, or `environ_*` when `env`) to
/// the program as `list<string>`, or for the environment as
/// `list<tuple<string, string>>` split at the first `=`. Each string must be
/// its own allocation of the program's (the program frees them one by one),
/// so this is the one place that copies.
fn string_list(ret: i32, env: bool) {
    let (count, size) = p1::sizes(env);
    let mut buf: Vec<u8> = vec![0; size];
    let mut ptrs: Vec<*mut u8> = vec![core::ptr::null_mut(); count];
    let got = if env {
        unsafe { wasi::environ_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()) }
    } else {
        unsafe { wasi::args_get(ptrs.as_mut_ptr(), buf.as_mut_ptr()) }
    };
    let count = if got.is_ok() { count } else { 0 };
    let elem = if env { 16 } else { 8 };
    let list = crate::program_alloc(4, count * elem);
    let base = buf.as_ptr() as usize;
    for (i, &p) in ptrs.iter().take(count).enumerate() {
        // A host's pointer outside the buffer, or a string it left
        // unterminated, ends at the buffer: never a read beyond it.
        let s = buf.get((p as usize).wrapping_sub(base)..).unwrap_or(&[]);
        let s = s.split(|&b| b == 0).next().unwrap_or(&[]);
        let at = list as i32 + (i * elem) as i32;
        if env {
            let (k, v) = match s.iter().position(|&b| b == b'=') {
                Some(eq) => (s.get(..eq).or_trap(), s.get(eq + 1..).or_trap()),
                None => (s, &[][..]),
            };
            put_string(at, k);
            put_string(at + 8, v);
        } else {
            put_string(at, s);
        }
    }
    unsafe {
        put(ret, 0, list as i32);
        put(ret, 4, count as i32);
    }
}

pub mod environment {
    use super::*;

    pub unsafe fn get_environment(ret: i32) {
        string_list(ret, true)
    }

    pub unsafe fn get_arguments(ret: i32) {
        string_list(ret, false)
    }

    /// Preview1 has no working directory: it is what the user gave when
    /// adapting (`--cwd`), as a native host is given one, else none.
    pub unsafe fn initial_cwd(ret: i32) {
        let cwd = crate::trap::linker_text(crate::Text::InitialCwd);
        if cwd.is_empty() {
            put(ret, 0, 0u8)
        } else {
            put(ret, 0, 1u8);
            put_string(ret + 4, &cwd)
        }
    }
}

pub mod exit {
    use super::*;

    /// `exit(result)`: ok is status 0, err is status 1.
    pub unsafe fn exit(status: i32) {
        p1::exit(if status == 0 { 0 } else { 1 })
    }

    pub unsafe fn exit_with_code(code: i32) {
        p1::exit(code as u8 as u32)
    }
}

pub mod stdin {
    use super::*;
    pub unsafe fn get_stdin() -> i32 {
        state::table().push(InputStream::new(0), 0)
    }
}

pub mod stdout {
    use super::*;
    pub unsafe fn get_stdout() -> i32 {
        state::table().push(OutputStream::new(1), 0)
    }
}

pub mod stderr {
    use super::*;
    pub unsafe fn get_stderr() -> i32 {
        state::table().push(OutputStream::new(2), 0)
    }
}

pub mod terminal_input {
    use super::*;
    pub unsafe fn drop_terminal_input(handle: i32) {
        state::table().delete::<TerminalInput>(handle);
    }
}

pub mod terminal_output {
    use super::*;
    pub unsafe fn drop_terminal_output(handle: i32) {
        state::table().delete::<TerminalOutput>(handle);
    }
}

/// Writes `option<own<T>>`: `some(new handle)` if `fd` is a terminal.
fn terminal(ret: i32, fd: u32, make: impl FnOnce() -> crate::table::Entry) {
    if p1::is_terminal(fd) {
        let h = state::table().insert(make(), 0);
        unsafe {
            put(ret, 0, 1u8);
            put(ret, 4, h);
        }
    } else {
        unsafe { put(ret, 0, 0u8) }
    }
}

pub mod terminal_stdin {
    use super::*;
    pub unsafe fn get_terminal_stdin(ret: i32) {
        terminal(ret, 0, || crate::table::Entry::TerminalInput(TerminalInput))
    }
}

pub mod terminal_stdout {
    use super::*;
    pub unsafe fn get_terminal_stdout(ret: i32) {
        terminal(ret, 1, || {
            crate::table::Entry::TerminalOutput(TerminalOutput)
        })
    }
}

pub mod terminal_stderr {
    use super::*;
    pub unsafe fn get_terminal_stderr(ret: i32) {
        terminal(ret, 2, || {
            crate::table::Entry::TerminalOutput(TerminalOutput)
        })
    }
}
