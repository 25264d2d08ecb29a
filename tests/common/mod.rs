//! Helpers shared by the integration tests (each test file includes this
//! with `mod common;`, so not every helper is used by every file).
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use wasi_downlevel::run::Runtime;

/// Every runtime `run` drives (see [`runner`]: iwasm-nobulk runs the
/// output lowered to WebAssembly 1.0).
pub const EVERY_RUNTIME: [Runtime; 5] = [
    Runtime::Embedded,
    Runtime::Wasmtime,
    Runtime::Iwasm,
    Runtime::IwasmNobulk,
    Runtime::Node,
];

/// The preview1 runtimes every end-to-end case runs on.
pub const RUNTIMES: [Runtime; 4] = [
    Runtime::Embedded,
    Runtime::Wasmtime,
    Runtime::Iwasm,
    Runtime::Node,
];

/// The built `wasi-downlevel` binary.
pub fn tool() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_wasi-downlevel"))
}

/// Runs `cmd` (stdin closed, stdout and stderr captured) and returns its
/// output; if it runs longer than `secs` seconds, kills it and panics.
pub fn run_with_timeout(cmd: &mut Command, secs: u64) -> Output {
    run_with_input(cmd, None, secs)
}

/// Like [`run_with_timeout`], with `stdin` piped in when given.
pub fn run_with_input(cmd: &mut Command, stdin: Option<&[u8]>, secs: u64) -> Output {
    run_piped(cmd, stdin, false, secs)
}

/// Like [`run_with_timeout`], with stdin a pipe kept open and empty until
/// the program ends (never readable).
pub fn run_with_open_stdin(cmd: &mut Command, secs: u64) -> Output {
    run_piped(cmd, None, true, secs)
}

fn run_piped(cmd: &mut Command, stdin: Option<&[u8]>, keep_open: bool, secs: u64) -> Output {
    let mut child = cmd
        .stdin(if stdin.is_some() || keep_open {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
    if let Some(data) = stdin {
        let mut pipe = child.stdin.take().unwrap();
        let data = data.to_vec();
        std::thread::spawn(move || {
            let _ = std::io::Write::write_all(&mut pipe, &data);
        });
    }
    // Drain the pipes on threads so a chatty child cannot block on them.
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = pipe.read_to_end(&mut buf);
            buf
        })
    };
    let open_stdin = keep_open.then(|| child.stdin.take());
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + Duration::from_secs(secs);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{cmd:?} did not finish within {secs}s: killed");
            }
            Err(e) => panic!("waiting for {cmd:?}: {e}"),
        }
    };
    drop(open_stdin);
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// A fresh, empty directory for one test's files, under the target dir.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// An example program built by `make examples`.
pub fn example(name: &str) -> PathBuf {
    example_in("target", name)
}

/// An example program `make examples` built under `examples/<dir>` (`target`,
/// or `target/shim` for the builds linked with libc-shim).
pub fn example_in(dir: &str, name: &str) -> PathBuf {
    built(
        &format!("{dir}/wasm32-wasip2/release/{name}.wasm"),
        "make examples",
    )
}

/// `examples/<path>`, which `make_it` builds; fails the test if it is missing.
pub fn built(path: &str, make_it: &str) -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples")
        .join(path);
    assert!(p.exists(), "{} is missing: run `{make_it}`", p.display());
    p
}

/// Asserts that a run gave `stdout`, and the stderr and exit status of
/// `want`; `what` names the run in the failure message.
pub fn assert_same_output(got: &Output, want: &Output, stdout: &str, what: &str) {
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        stdout,
        "stdout of {what}"
    );
    assert_eq!(
        String::from_utf8_lossy(&got.stderr),
        String::from_utf8_lossy(&want.stderr),
        "stderr of {what}"
    );
    assert_eq!(
        got.status.code(),
        want.status.code(),
        "exit status of {what}"
    );
}

/// How long a test waits for a program line or exit.
pub const TIMEOUT: Duration = Duration::from_secs(120);

/// A running program whose stdout is read line by line.
pub struct Program {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Program {
    pub fn start(mut cmd: Command) -> Program {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines() {
                if tx.send(line.unwrap_or_default()).is_err() {
                    break;
                }
            }
        });
        Program { child, lines }
    }

    /// Waits for a line starting with `prefix`; kills the program if it
    /// does not come in time.
    pub fn expect(&mut self, prefix: &str) -> String {
        loop {
            match self.lines.recv_timeout(TIMEOUT) {
                Ok(l) if l.starts_with(prefix) => return l,
                Ok(_) => {}
                Err(_) => {
                    let _ = self.child.kill();
                    panic!("no line starting with {prefix:?} in time");
                }
            }
        }
    }

    pub fn finish(mut self) {
        for _ in 0..TIMEOUT.as_secs() * 10 {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(status.success(), "the program exited with {status}");
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        panic!("the program did not exit in time");
    }
}

/// Every file under `dir`, by path, with its bytes.
pub fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                todo.push(p);
            } else {
                let name = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(name, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// A small source tree for ripgrep: nested directories, several file types,
/// a hidden file, a .gitignore, a binary file.
pub fn source_tree(dir: &Path) {
    let files: &[(&str, &str)] = &[
        (
            "README.md",
            "# Project\nA tool that adapts WASI programs.\nTODO: more docs\n",
        ),
        (".gitignore", "target/\n*.log\n"),
        ("build.log", "TODO: ignored by .gitignore\n"),
        ("target/out.txt", "TODO: ignored build output\n"),
        (".hidden/notes.txt", "todo hidden\n"),
        (
            "src/main.rs",
            "fn main() {\n    // TODO: parse arguments\n    println!(\"hello\");\n}\n",
        ),
        (
            "src/lib.rs",
            "pub fn adapt() -> u32 {\n    42 // the answer\n}\n// todo lower case\n",
        ),
        ("src/util/mod.rs", "pub mod strings;\n"),
        (
            "src/util/strings.rs",
            "pub fn upper(s: &str) -> String {\n    s.to_uppercase() // TODO\n}\n",
        ),
        (
            "docs/guide.txt",
            "Step 1: build\nStep 2: adapt\nStep 3: run everywhere\n",
        ),
        ("docs/empty.txt", ""),
    ];
    for (path, text) in files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let mut binary = vec![0u8; 4096];
    binary.extend_from_slice(b"TODO inside binary\n");
    std::fs::write(dir.join("docs/blob.bin"), binary).unwrap();
    let mut many = String::new();
    for i in 0..20_000 {
        writeln!(
            many,
            "line {i} {}",
            if i % 997 == 0 { "needle" } else { "hay" }
        )
        .unwrap();
    }
    std::fs::write(dir.join("docs/big.txt"), many).unwrap();
}

/// The same pattern as the `tcp-echo` example's client.
pub fn pattern(c: usize, i: u64) -> u8 {
    (i.wrapping_mul(31).wrapping_add(c as u64 * 7) % 251) as u8
}

/// `conns` native clients of a TCP echo server at once, each sending
/// `bytes` and checking every byte of the echo.
pub fn tcp_echo_clients(addr: std::net::SocketAddr, conns: usize, bytes: u64) {
    use std::io::Write as _;
    use std::net::{Shutdown, TcpStream};
    let threads: Vec<_> = (0..conns)
        .map(|c| {
            std::thread::spawn(move || {
                let s = TcpStream::connect(addr).unwrap();
                s.set_read_timeout(Some(TIMEOUT)).unwrap();
                s.set_write_timeout(Some(TIMEOUT)).unwrap();
                let mut w = s.try_clone().unwrap();
                let writer = std::thread::spawn(move || {
                    let mut buf = vec![0u8; 64 << 10];
                    let mut sent = 0u64;
                    while sent < bytes {
                        let n = (bytes - sent).min(buf.len() as u64) as usize;
                        for (k, b) in buf[..n].iter_mut().enumerate() {
                            *b = pattern(c, sent + k as u64);
                        }
                        w.write_all(&buf[..n]).unwrap();
                        sent += n as u64;
                    }
                    w.shutdown(Shutdown::Write).unwrap();
                });
                let mut r = s;
                let mut buf = vec![0u8; 64 << 10];
                let mut got = 0u64;
                loop {
                    let n = r.read(&mut buf).unwrap();
                    if n == 0 {
                        break;
                    }
                    for (k, &b) in buf[..n].iter().enumerate() {
                        assert_eq!(
                            b,
                            pattern(c, got + k as u64),
                            "connection {c}, byte {}",
                            got + k as u64
                        );
                    }
                    got += n as u64;
                }
                writer.join().unwrap();
                assert_eq!(got, bytes, "connection {c}: echoed bytes");
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Bytes nobody chose, the same every run.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

/// FNV-1a, 64 bits, as the example programs print it.
pub fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    })
}

/// `wasmtime run` as a WASI 0.2 host: the reference.
pub fn native() -> Command {
    let mut cmd = Command::new(
        wasi_downlevel::run::find(Runtime::Wasmtime, None).expect("wasmtime: run `make runtimes`"),
    );
    cmd.arg("run");
    cmd
}

/// `wasi-downlevel run` on `rt` (lowered to WebAssembly 1.0 for
/// iwasm-nobulk), or natively with none.
pub fn runner(rt: Option<Runtime>) -> Command {
    let Some(rt) = rt else { return native() };
    let mut cmd = Command::new(tool());
    cmd.args(["run", "--runtime", rt.name()]);
    if rt == Runtime::IwasmNobulk {
        cmd.args(["--target-features", "mvp"]);
    }
    cmd
}
