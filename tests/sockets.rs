//! `wasi:sockets` end to end, loopback only, with native peers in this test
//! process: the `tcp-echo`, `udp-echo` and `net-check` examples adapted with
//! `--sockets wamr` on iwasm (IPv4 and IPv6, both roles) and with the
//! standard flavour on the embedded engine (a preopened listener). TCP tests
//! move 64 MiB and check every byte; `net-check` (state machine, options,
//! errors, name lookup) must print what it prints natively on wasmtime.

mod common;

use common::{example, run_with_timeout, Program, TIMEOUT};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::process::Command;
use wasi_downlevel::run::{find, Runtime};

const CONNS: usize = 4;
/// Per connection: 4 x 16 MiB = 64 MiB through each TCP test.
const BYTES: u64 = 16 << 20;

fn loopback(v6: bool, port: u16) -> SocketAddr {
    if v6 {
        SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], port))
    } else {
        SocketAddr::from(([127, 0, 0, 1], port))
    }
}

/// A port nobody listens on right now.
fn free_port(v6: bool) -> u16 {
    TcpListener::bind(loopback(v6, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tool(runtime: &str, sockets: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_wasi-downlevel"));
    c.args(["run", "--runtime", runtime, "--sockets", sockets]);
    c
}

fn tcp_server(runtime: &str, sockets: &str, v6: bool) {
    let addr = loopback(v6, free_port(v6));
    let mut cmd = tool(runtime, sockets);
    if sockets == "standard" {
        cmd.arg("--tcplisten").arg(addr.to_string());
    }
    cmd.arg(example("tcp-echo"))
        .args(["server", &addr.to_string(), &CONNS.to_string()]);
    let mut server = Program::start(cmd);
    server.expect("listening");
    common::tcp_echo_clients(addr, CONNS, BYTES);
    let done = server.expect("server done");
    assert_eq!(
        done,
        format!(
            "server done: {CONNS} clients, {} bytes echoed",
            CONNS as u64 * BYTES
        )
    );
    server.finish();
}

/// A native echo server on a free port, serving until the test ends.
fn native_echo(v6: bool) -> SocketAddr {
    let listener = TcpListener::bind(loopback(v6, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let mut s = s.unwrap();
            s.set_read_timeout(Some(TIMEOUT)).unwrap();
            std::thread::spawn(move || {
                let mut w = s.try_clone().unwrap();
                let _ = std::io::copy(&mut s, &mut w);
            });
        }
    });
    addr
}

fn tcp_client(v6: bool) {
    let addr = native_echo(v6);
    let mut cmd = tool("iwasm", "wamr");
    cmd.arg(example("tcp-echo")).args([
        "client",
        &addr.to_string(),
        &CONNS.to_string(),
        &BYTES.to_string(),
    ]);
    let out = run_with_timeout(&mut cmd, TIMEOUT.as_secs());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("client done: {CONNS} connections x {BYTES} bytes, every byte checked\n"),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success());
}

#[test]
fn tcp_server_wamr_ipv4() {
    tcp_server("iwasm", "wamr", false);
}

#[test]
fn tcp_server_wamr_ipv6() {
    tcp_server("iwasm", "wamr", true);
}

#[test]
fn tcp_client_wamr_ipv4() {
    tcp_client(false);
}

#[test]
fn tcp_client_wamr_ipv6() {
    tcp_client(true);
}

/// The standard flavour: the embedded engine preopens the listener
/// (`--tcplisten`), the program's bind + listen adopt it.
#[test]
fn tcp_server_standard_embedded() {
    tcp_server("embedded", "standard", false);
}

fn datagram(i: usize) -> Vec<u8> {
    let len = (i * 37) % 1400 + 1;
    (0..len).map(|k| ((k + i * 13) % 251) as u8).collect()
}

fn udp(v6: bool) {
    const COUNT: usize = 200;
    // The program as server, a native client.
    let addr = loopback(v6, free_port(v6));
    let mut cmd = tool("iwasm", "wamr");
    cmd.arg(example("udp-echo"))
        .args(["server", &addr.to_string(), &COUNT.to_string()]);
    let mut server = Program::start(cmd);
    server.expect("listening");
    let s = UdpSocket::bind(loopback(v6, 0)).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    let mut buf = vec![0u8; 65536];
    for i in 0..COUNT {
        let d = datagram(i);
        s.send_to(&d, addr).unwrap();
        let (n, from) = s.recv_from(&mut buf).unwrap();
        assert_eq!(from, addr);
        assert_eq!(&buf[..n], &d[..], "datagram {i}");
    }
    server.expect("server done");
    server.finish();

    // The program as client, a native echo.
    let echo = UdpSocket::bind(loopback(v6, 0)).unwrap();
    let echo_addr = echo.local_addr().unwrap();
    echo.set_read_timeout(Some(TIMEOUT)).unwrap();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 65536];
        while let Ok((n, from)) = echo.recv_from(&mut buf) {
            echo.send_to(&buf[..n], from).unwrap();
        }
    });
    let mut cmd = tool("iwasm", "wamr");
    cmd.arg(example("udp-echo"))
        .args(["client", &echo_addr.to_string(), &COUNT.to_string()]);
    let out = run_with_timeout(&mut cmd, TIMEOUT.as_secs());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!("client done: {COUNT} datagrams checked\n")
    );
}

#[test]
fn udp_wamr_ipv4() {
    udp(false);
}

#[test]
fn udp_wamr_ipv6() {
    udp(true);
}

/// `net-check` on iwasm (wamr) prints exactly what it prints natively.
fn net_check(v6: bool) {
    let closed = free_port(v6);
    let busy = TcpListener::bind(loopback(v6, 0)).unwrap();
    let busy_port = busy.local_addr().unwrap().port().to_string();
    let args = [if v6 { "6" } else { "4" }, &closed.to_string(), &busy_port];
    let mut native = Command::new(find(Runtime::Wasmtime, None).unwrap());
    native
        .args(["run", "-S", "inherit-network", "-S", "allow-ip-name-lookup"])
        .arg(example("net-check"))
        .args(args);
    let want = run_with_timeout(&mut native, TIMEOUT.as_secs());
    assert!(
        want.status.success(),
        "{}",
        String::from_utf8_lossy(&want.stderr)
    );
    let mut cmd = tool("iwasm", "wamr");
    cmd.arg(example("net-check")).args(args);
    let got = run_with_timeout(&mut cmd, TIMEOUT.as_secs());
    assert_eq!(
        String::from_utf8_lossy(&got.stdout),
        String::from_utf8_lossy(&want.stdout)
    );
    assert!(got.status.success());
}

#[test]
fn net_check_wamr_ipv4() {
    net_check(false);
}

#[test]
fn net_check_wamr_ipv6() {
    net_check(true);
}

/// The standard flavour (no socket creation in preview1, no listener
/// preopened) answers exactly as the reference host does when it denies the
/// network (`-S inherit-network=n`, sockets still creatable), on every
/// runtime, and never traps or crashes the host.
#[test]
fn net_check_standard() {
    let mut native =
        Command::new(find(Runtime::Wasmtime, None).expect("wasmtime: run `make runtimes`"));
    native
        .args([
            "run",
            "-Sinherit-network=n",
            "-Stcp=y",
            "-Sudp=y",
            "-Sallow-ip-name-lookup",
        ])
        .arg(example("net-check"))
        .args(["4", "1", "2"]);
    let want = run_with_timeout(&mut native, TIMEOUT.as_secs());
    assert!(
        want.status.success(),
        "native: {}",
        String::from_utf8_lossy(&want.stderr)
    );
    let want = String::from_utf8_lossy(&want.stdout);
    assert!(
        want.contains("start-bind: ErrorCode { code: 1, name: \"access-denied\""),
        "{want}"
    );
    for runtime in ["embedded", "wasmtime", "iwasm", "node"] {
        let mut cmd = tool(runtime, "standard");
        cmd.arg(example("net-check")).args(["4", "1", "2"]);
        let out = run_with_timeout(&mut cmd, TIMEOUT.as_secs());
        assert!(
            out.status.success(),
            "{runtime}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            want,
            "net-check on {runtime}"
        );
    }
}

/// The wamr flavour's output names iwasm as the runtime it needs.
#[test]
fn wamr_flavour_needs_iwasm() {
    let mut cmd = tool("embedded", "wamr");
    cmd.arg(example("tcp-echo"))
        .args(["client", "127.0.0.1:1", "1", "1"]);
    let out = run_with_timeout(&mut cmd, TIMEOUT.as_secs());
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("only iwasm has"));
}

/// Each flavour imports only its own socket calls, with WAMR's signatures
/// for the wamr flavour.
#[test]
fn flavour_imports() {
    let input = std::fs::read(example("tcp-echo")).unwrap();
    let imports = |sockets| {
        let options = wasi_downlevel::Options {
            sockets,
            ..Default::default()
        };
        let out = wasi_downlevel::adapt(&input, &options).unwrap();
        let mut v = Vec::new();
        for payload in wasmparser::Parser::new(0).parse_all(&out.wasm) {
            if let wasmparser::Payload::ImportSection(r) = payload.unwrap() {
                for imp in r.into_imports() {
                    let imp = imp.unwrap();
                    assert_eq!(imp.module, "wasi_snapshot_preview1");
                    v.push(imp.name.to_string());
                }
            }
        }
        v
    };
    let standard = imports(wasi_downlevel::Sockets::Standard);
    let wamr = imports(wasi_downlevel::Sockets::Wamr);
    for name in ["sock_open", "sock_bind", "sock_connect", "sock_listen"] {
        assert!(
            !standard.contains(&name.to_string()),
            "standard imports {name}"
        );
        assert!(wamr.contains(&name.to_string()), "wamr lacks {name}");
    }
    assert!(standard.contains(&"sock_accept".to_string()));
}
