//! `streams`: `wasi:io/streams` through the `wasip2` crate (`@0.2.12`), no std I/O.
//!
//! Exercises: `wasi:cli/{stdin,stdout,stderr}`, `output-stream.check-write` +
//! `write` + `flush` / `blocking-flush`, `blocking-write-and-flush`,
//! `input-stream.skip` (the first 5 bytes of stdin), the non-blocking
//! `input-stream.read` and `blocking-read`, `blocking-splice` (the rest of
//! stdin to stdout), `subscribe` + `pollable.block`, `stream-error::closed` at
//! EOF, `wasi:cli/environment.get-arguments`, and
//! `wasi:cli/exit.exit-with-code` (with `--exit-with-code N`).
//!
//! Output is deterministic for given args and stdin: every partial read is
//! looped until it has what it asked for or the stream is closed.

use wasip2::cli::{environment, exit, stderr, stdin, stdout};
use wasip2::io::streams::{InputStream, OutputStream, StreamError};

/// Writes all of `bytes` with `check-write` + `write`, waiting on the
/// stream's pollable while it has no room, then `flush`es.
fn write_all(out: &OutputStream, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let room = out.check_write().expect("check-write");
        if room == 0 {
            out.subscribe().block();
            continue;
        }
        let n = bytes.len().min(room as usize);
        out.write(&bytes[..n]).expect("write");
        bytes = &bytes[n..];
    }
    out.flush().expect("flush");
}

/// Skips up to `len` bytes with the non-blocking `skip`; returns how many
/// were skipped and whether the stream was closed.
fn skip_exact(input: &InputStream, len: u64) -> (u64, bool) {
    let mut done = 0;
    while done < len {
        match input.skip(len - done) {
            Ok(0) => input.subscribe().block(),
            Ok(n) => done += n,
            Err(StreamError::Closed) => return (done, true),
            Err(e) => panic!("skip: {e}"),
        }
    }
    (done, false)
}

/// Reads up to `len` bytes, with the non-blocking `read` (waiting on the
/// pollable when nothing is there) or with `blocking-read`.
fn read_exact(input: &InputStream, len: u64, blocking: bool) -> (Vec<u8>, bool) {
    let mut buf = Vec::new();
    while (buf.len() as u64) < len {
        let want = len - buf.len() as u64;
        let got = if blocking {
            input.blocking_read(want)
        } else {
            input.read(want)
        };
        match got {
            Ok(bytes) if bytes.is_empty() && !blocking => input.subscribe().block(),
            Ok(bytes) => buf.extend_from_slice(&bytes),
            Err(StreamError::Closed) => return (buf, true),
            Err(e) => panic!("read: {e}"),
        }
    }
    (buf, false)
}

fn main() {
    let out = stdout::get_stdout();
    let err = stderr::get_stderr();
    let input = stdin::get_stdin();

    write_all(&out, b"streams: wasi:io/streams via the wasip2 crate\n");

    let args = environment::get_arguments();
    let mut line = format!("args: {}\n", args.len().saturating_sub(1));
    for (i, a) in args.iter().enumerate().skip(1) {
        line += &format!("  arg[{i}] = {a:?}\n");
    }
    write_all(&out, line.as_bytes());
    out.blocking_flush().expect("blocking-flush");

    let (skipped, mut eof) = skip_exact(&input, 5);
    let (head, closed) = if eof {
        (Vec::new(), true)
    } else {
        read_exact(&input, 4, false)
    };
    eof |= closed;
    let (next, closed) = if eof {
        (Vec::new(), true)
    } else {
        read_exact(&input, 4, true)
    };
    eof |= closed;
    write_all(
        &out,
        format!(
            "skipped {skipped} bytes\nread (non-blocking): {:?}\nblocking-read: {:?}\n",
            String::from_utf8_lossy(&head),
            String::from_utf8_lossy(&next),
        )
        .as_bytes(),
    );

    // Copy the rest of stdin to stdout.
    write_all(&out, b"spliced: [");
    let mut spliced = 0u64;
    while !eof {
        match out.blocking_splice(&input, 1 << 16) {
            Ok(n) => spliced += n,
            Err(StreamError::Closed) => eof = true,
            Err(e) => panic!("splice: {e}"),
        }
    }
    out.blocking_write_and_flush(b"]\n")
        .expect("blocking-write-and-flush");

    let summary = format!(
        "summary: skipped {skipped}, read {}, blocking-read {}, spliced {spliced}, total {}, eof seen: {eof}\n",
        head.len(),
        next.len(),
        skipped + head.len() as u64 + next.len() as u64 + spliced,
    );
    out.blocking_write_and_flush(summary.as_bytes())
        .expect("blocking-write-and-flush");
    err.blocking_write_and_flush(b"streams: done (stderr)\n")
        .expect("stderr");

    if let Some(pos) = args.iter().position(|a| a == "--exit-with-code") {
        let code: u8 = args
            .get(pos + 1)
            .and_then(|s| s.parse().ok())
            .expect("--exit-with-code needs a number 0..=255");
        out.blocking_write_and_flush(format!("exit-with-code {code}\n").as_bytes())
            .expect("blocking-write-and-flush");
        exit::exit_with_code(code);
    }
}
