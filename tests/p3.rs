//! WASI 0.3 programs (wit-bindgen's async bindings, `examples/p3-*`: cli,
//! concurrency, filesystem) adapted
//! and run on every preview1 runtime (and lowered to WebAssembly 1.0 on the
//! WAMR without bulk memory) give the stdout, stderr and exit
//! status the same component gives natively on the wasmtime CLI
//! (`-Wcomponent-model-async -Sp3`); misuse of the async built-ins traps,
//! natively and adapted, with the reason in the adapted program's stderr.

mod common;

use common::{assert_same_output, example, run_with_input, temp_dir, EVERY_RUNTIME};
use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::Duration;
use wasi_downlevel::run::{find, Runtime};

const TIMEOUT: u64 = 60;

fn native() -> Command {
    let mut cmd =
        Command::new(find(Runtime::Wasmtime, None).expect("wasmtime: run `make runtimes`"));
    cmd.args(["run", "-Wcomponent-model-async", "-Sp3"]);
    cmd
}

/// Adapted on `rt` (lowered to WebAssembly 1.0 for iwasm-nobulk).
fn adapted(rt: Runtime) -> Command {
    common::runner(Some(rt))
}

/// How stdin is given.
#[derive(Clone, Copy)]
enum Input<'a> {
    Pipe(&'a [u8]),
    /// A pipe that stays empty for a while before the second part: the
    /// program's read waits in the event loop.
    Late(&'a [u8], &'a [u8]),
    File(&'a [u8]),
}

fn run(mut cmd: Command, input: Input, dir: &std::path::Path) -> Output {
    cmd.env_remove("RUST_BACKTRACE");
    match input {
        Input::Pipe(bytes) => run_with_input(&mut cmd, Some(bytes), TIMEOUT),
        Input::File(bytes) => {
            let f = dir.join("stdin");
            std::fs::write(&f, bytes).unwrap();
            cmd.stdin(std::fs::File::open(&f).unwrap());
            cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
            let child = cmd.spawn().unwrap();
            wait(child)
        }
        Input::Late(first, second) => {
            cmd.stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            let mut child = cmd.spawn().unwrap();
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(first).unwrap();
            stdin.flush().unwrap();
            std::thread::sleep(Duration::from_millis(150));
            stdin.write_all(second).unwrap();
            drop(stdin);
            wait(child)
        }
    }
}

/// Waits for `child` (bounded: killed after `TIMEOUT` seconds).
fn wait(child: std::process::Child) -> Output {
    let id = child.id();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d = done.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(TIMEOUT));
        if !d.load(std::sync::atomic::Ordering::SeqCst) {
            let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
        }
    });
    let out = child.wait_with_output().unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    out
}

fn check(program: &str, args: &[&str], env: &[(&str, &str)], input: Input) {
    let wasm = example(program);
    let dir = temp_dir(&format!("p3-{program}-{}", args.join("-")));
    let with = |mut cmd: Command| {
        for (k, v) in env {
            cmd.arg("--env").arg(format!("{k}={v}"));
        }
        cmd.arg(&wasm).args(args);
        cmd
    };
    let want = run(with(native()), input, &dir);
    assert!(
        want.status.code().is_some(),
        "natively: {}",
        String::from_utf8_lossy(&want.stderr)
    );
    for rt in EVERY_RUNTIME {
        let got = run(with(adapted(rt)), input, &dir);
        let what = format!("{program} {args:?} on {}", rt.name());
        assert_same_output(&got, &want, &String::from_utf8_lossy(&want.stdout), &what);
    }
}

#[test]
fn cli() {
    let env = [("P3_NAME", "value with spaces"), ("P3_EMPTY", "")];
    check(
        "p3-cli",
        &["a", "b c", "ünï"],
        &env,
        Input::Pipe(b"piped input\n"),
    );
    // Exit through `exit-with-code`, and `run` returning an error.
    check("p3-cli", &["7"], &[], Input::Pipe(b""));
    check("p3-cli", &["fail"], &[], Input::Pipe(b"x"));
}

#[test]
fn stdin_as_a_stream() {
    let big: Vec<u8> = (0..1_500_000u32).map(|i| (i % 253) as u8).collect();
    check("p3-cli", &[], &[], Input::File(&big));
    check("p3-cli", &[], &[], Input::Pipe(&big));
    // The read waits in the event loop until the second part comes.
    check("p3-cli", &[], &[], Input::Late(b"first ", b"second\n"));
}

#[test]
fn concurrent() {
    check("p3-concurrent", &[], &[], Input::Pipe(b"some stdin"));
    check("p3-concurrent", &[], &[], Input::Late(b"early ", b"late"));
}

/// A component whose async `run` (callback form) does `body`, a core
/// function of its main module that may use the built-ins imported below.
fn misuse_component(body: &str) -> String {
    format!(
        r#"(component
        (type $st (stream u8))
        (type $ft (future u8))
        (type $res (result))
        (core module $libc (memory (export "memory") 1))
        (core instance $libc (instantiate $libc))
        (alias core export $libc "memory" (core memory $mem))
        (core func $stream-new (canon stream.new $st))
        (core func $stream-read (canon stream.read $st async (memory $mem)))
        (core func $drop-readable (canon stream.drop-readable $st))
        (core func $future-new (canon future.new $ft))
        (core func $future-drop-writable (canon future.drop-writable $ft))
        (core func $set-new (canon waitable-set.new))
        (core func $set-drop (canon waitable-set.drop))
        (core func $join (canon waitable.join))
        (core func $task-return (canon task.return (result $res)))
        (core module $main
            (import "" "stream.new" (func $stream-new (result i64)))
            (import "" "stream.read" (func $stream-read (param i32 i32 i32) (result i32)))
            (import "" "drop-readable" (func $drop-readable (param i32)))
            (import "" "future.new" (func $future-new (result i64)))
            (import "" "future.drop-writable" (func $future-drop-writable (param i32)))
            (import "" "waitable-set.new" (func $set-new (result i32)))
            (import "" "waitable-set.drop" (func $set-drop (param i32)))
            (import "" "waitable.join" (func $join (param i32 i32)))
            (import "" "task.return" (func $task-return (param i32)))
            (func (export "run") (result i32) (local i64 i32) {body})
            (func (export "cb") (param i32 i32 i32) (result i32) i32.const 0)
            (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32) unreachable))
        (core instance $m (instantiate $main (with "" (instance
            (export "stream.new" (func $stream-new))
            (export "stream.read" (func $stream-read))
            (export "drop-readable" (func $drop-readable))
            (export "future.new" (func $future-new))
            (export "future.drop-writable" (func $future-drop-writable))
            (export "waitable-set.new" (func $set-new))
            (export "waitable-set.drop" (func $set-drop))
            (export "waitable.join" (func $join))
            (export "task.return" (func $task-return))))))
        (alias core export $m "cb" (core func $cb))
        (type $rt (func async (result $res)))
        (func $run (type $rt) (canon lift (core func $m "run") async (callback $cb)))
        (instance $r (export "run" (func $run)))
        (export "wasi:cli/run@0.3.0" (instance $r)))"#
    )
}

#[test]
fn misuse_of_the_builtins_traps() {
    let cases = [
        (
            "task-return-twice",
            "i32.const 0 call $task-return i32.const 0 call $task-return i32.const 0",
            "task.return called more than once",
        ),
        (
            "no-task-return",
            "i32.const 0",
            "without calling task.return",
        ),
        (
            // A second read while the first waits (the writer never writes).
            "read-while-reading",
            "call $stream-new local.set 0
             local.get 0 i32.wrap_i64 i32.const 0 i32.const 4 call $stream-read drop
             local.get 0 i32.wrap_i64 i32.const 0 i32.const 4 call $stream-read drop
             i32.const 0",
            "already busy",
        ),
        (
            "drop-set-with-member",
            "call $set-new local.set 1
             call $stream-new i32.wrap_i64 local.get 1 call $join
             local.get 1 call $set-drop i32.const 0",
            "cannot drop waitable set",
        ),
        (
            "drop-unwritten-future",
            "call $future-new i64.const 32 i64.shr_u i32.wrap_i64 call $future-drop-writable
             i32.const 0",
            "before it was written",
        ),
        (
            "unknown-handle",
            "i32.const 77 call $drop-readable i32.const 0",
            "unknown handle index 77",
        ),
    ];
    let dir = temp_dir("p3-misuse");
    for (name, body, reason) in cases {
        let path = dir.join(format!("{name}.wasm"));
        let text = misuse_component(body);
        let bytes = wat::parse_str(&text).unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
        std::fs::write(&path, bytes).unwrap();
        let mut cmd = native();
        cmd.arg(&path);
        let want = run(cmd, Input::Pipe(b""), &dir);
        assert!(
            !want.status.success(),
            "{name}: natively it does not fail: {}",
            String::from_utf8_lossy(&want.stderr)
        );
        for rt in EVERY_RUNTIME {
            let mut cmd = adapted(rt);
            cmd.arg(&path);
            let got = run(cmd, Input::Pipe(b""), &dir);
            let err = String::from_utf8_lossy(&got.stderr);
            assert!(
                !got.status.success() && err.contains(reason),
                "{name} on {}: want a trap for {reason:?}, got {:?}: {err}",
                rt.name(),
                got.status
            );
        }
    }
}

#[test]
fn filesystem() {
    // Each run in a fresh directory, preopened as `.`; the program leaves
    // it empty.
    let wasm = example("p3-fs");
    let run_in = |mut cmd: Command, name: &str| {
        let dir = temp_dir(&format!("p3-fs-{name}"));
        cmd.arg("--dir").arg(format!("{}::.", dir.display()));
        cmd.arg(&wasm).arg("work");
        let out = run(cmd, Input::Pipe(b""), &dir);
        let left: Vec<_> = std::fs::read_dir(&dir).unwrap().collect();
        assert!(left.is_empty(), "{name}: left {left:?}");
        out
    };
    let want = run_in(native(), "native");
    assert!(
        want.status.success(),
        "{}",
        String::from_utf8_lossy(&want.stderr)
    );
    for rt in EVERY_RUNTIME {
        let got = run_in(adapted(rt), rt.name());
        let what = format!("p3-fs on {}", rt.name());
        assert_same_output(&got, &want, &String::from_utf8_lossy(&want.stdout), &what);
    }
}

/// A port free on 127.0.0.1 now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn tcp_echo() {
    echo("", &["300000", "1"], 4, true);
}

#[test]
fn udp_echo() {
    // Each client sends 3 datagrams. (The standard flavour has no UDP.)
    echo("udp-", &["3"], 6, false);
}

/// WASI 0.3's sockets: natively with the network inherited; adapted on
/// iwasm, the runtime with sockets (wamr flavour), and with `standard`, a
/// server on the embedded engine given its listener (`--tcplisten`). Each
/// server serves a native and an adapted client, once per `sizes` (bytes,
/// or datagrams), `served` connections or datagrams in all.
fn echo(kind: &str, sizes: &[&str], served: u32, standard: bool) {
    let wasm = example("p3-tcp-echo");
    let native_net = || {
        let mut cmd = Command::new(find(Runtime::Wasmtime, None).unwrap());
        cmd.args(["run", "-Wcomponent-model-async", "-Sp3,inherit-network"]);
        cmd.arg(&wasm);
        cmd
    };
    let iwasm = || {
        let mut cmd = adapted(Runtime::Iwasm);
        cmd.args(["--sockets", "wamr"]).arg(&wasm);
        cmd
    };
    let dir = temp_dir(&format!("p3-{kind}echo"));
    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    let embedded = |port: &str| {
        let mut cmd = adapted(Runtime::Embedded);
        cmd.arg("--tcplisten")
            .arg(format!("127.0.0.1:{port}"))
            .arg(&wasm);
        cmd
    };
    let mut servers = vec!["native", "iwasm"];
    if standard {
        servers.push("embedded");
    }
    for server_name in servers {
        let port = free_port().to_string();
        let mut server = match server_name {
            "native" => native_net(),
            "iwasm" => iwasm(),
            _ => embedded(&port),
        };
        server
            .arg(format!("{kind}server"))
            .arg(&port)
            .arg(served.to_string());
        let mut s = common::Program::start(server);
        let listening = s.expect("listening on");
        let clients: [(&str, &dyn Fn() -> Command); 2] =
            [("native", &native_net), ("iwasm", &iwasm)];
        for (client_name, client) in clients {
            for size in sizes {
                let mut cmd = client();
                cmd.arg(format!("{kind}client")).arg(&port).arg(size);
                let out = run(cmd, Input::Pipe(b""), &dir);
                assert!(
                    out.status.success(),
                    "{client_name} client of the {server_name} server: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                outputs.push((
                    format!("{client_name} client ({size}) of {server_name}"),
                    out.stdout,
                ));
            }
        }
        let mut lines = vec![listening.replace(&port, "PORT")];
        for _ in 0..served {
            lines.push(s.expect("connection"));
        }
        s.finish();
        outputs.push((
            format!("{server_name} server"),
            lines.join("\n").into_bytes(),
        ));
    }
    // Every client's output as the native client's of the native server,
    // the adapted server's as the native one's.
    let by = |what: &str| outputs.iter().find(|o| o.0 == what).unwrap().1.clone();
    for size in sizes {
        let want = by(&format!("native client ({size}) of native"));
        for (what, got) in outputs
            .iter()
            .filter(|o| o.0.contains(&format!("({size})")))
        {
            assert_eq!(
                String::from_utf8_lossy(got),
                String::from_utf8_lossy(&want),
                "{what}"
            );
        }
    }
    for adapted_server in ["iwasm server", "embedded server"]
        .iter()
        .filter(|s| standard || s.starts_with("iwasm"))
    {
        assert_eq!(
            String::from_utf8_lossy(&by(adapted_server)),
            String::from_utf8_lossy(&by("native server")),
            "the adapted server: {adapted_server}"
        );
    }
}

#[test]
fn the_newest_run_runs() {
    // Rust std exports a 0.2 `run` (its `main`) beside the program's 0.3
    // one: whichever comes first, the 0.3 one runs (here: status 0, where
    // the 0.2 one would fail), as on wasmtime given 0.3.
    let dir = temp_dir("p3-newest-run");
    for (first, second) in [("0.2.0", "0.3.0"), ("0.3.0", "0.2.0")] {
        let export = |v: &str| {
            let f = if v == "0.3.0" { "$run3" } else { "$run2" };
            format!(
                r#"(instance $i{} (export "run" (func {f}))) (export "wasi:cli/run@{v}" (instance $i{}))"#,
                &v[2..3],
                &v[2..3]
            )
        };
        let text = format!(
            r#"(component
            (core module $m
                (memory (export "memory") 1)
                (func (export "r2") (result i32) i32.const 1)
                (func (export "r3") (result i32) i32.const 0))
            (core instance $m (instantiate $m))
            (func $run2 (result (result)) (canon lift (core func $m "r2")))
            (func $run3 (result (result)) (canon lift (core func $m "r3")))
            {} {})"#,
            export(first),
            export(second)
        );
        let path = dir.join(format!("{first}-first.wasm"));
        std::fs::write(&path, wat::parse_str(&text).unwrap()).unwrap();
        let mut cmd = adapted(Runtime::Embedded);
        cmd.arg(&path);
        let out = run(cmd, Input::Pipe(b""), &dir);
        assert!(
            out.status.success(),
            "{first} first: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
