//! A TCP echo server and client on Rust `std::net`, serving several
//! connections at once with non-blocking sockets driven by `poll` (wasi-libc's,
//! which waits on `wasi:io/poll`).
//!
//!   tcp-echo server ADDR CLIENTS      echo for CLIENTS connections, then exit
//!   tcp-echo client ADDR CONNS BYTES  send BYTES on each of CONNS connections
//!                                     and check every byte echoed back

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::AsRawFd;

#[repr(C)]
struct PollFd {
    fd: i32,
    events: i16,
    revents: i16,
}

const POLLIN: i16 = 0x1;
// wasi-libc's values (POLLRDNORM, POLLWRNORM).
const POLLOUT: i16 = 0x2;

extern "C" {
    fn poll(fds: *mut PollFd, n: usize, timeout: i32) -> i32;
}

fn wait(fds: &mut [PollFd]) {
    let n = unsafe { poll(fds.as_mut_ptr(), fds.len(), 60_000) };
    assert!(n > 0, "poll: {}", std::io::Error::last_os_error());
}

/// The byte at offset `i` of connection `c`'s stream.
fn pattern(c: usize, i: u64) -> u8 {
    (i.wrapping_mul(31).wrapping_add(c as u64 * 7) % 251) as u8
}

struct Conn {
    stream: TcpStream,
    pending: Vec<u8>,
    eof: bool,
    echoed: u64,
}

fn server(addr: &str, clients: usize) {
    let listener = TcpListener::bind(addr).expect("bind");
    listener.set_nonblocking(true).unwrap();
    println!("listening");
    let mut conns: Vec<Conn> = Vec::new();
    let (mut accepted, mut total) = (0, 0u64);
    let mut buf = vec![0u8; 64 << 10];
    while accepted < clients || !conns.is_empty() {
        let mut fds: Vec<PollFd> = conns
            .iter()
            .map(|c| PollFd {
                fd: c.stream.as_raw_fd(),
                events: if c.pending.is_empty() {
                    POLLIN
                } else {
                    POLLOUT
                },
                revents: 0,
            })
            .collect();
        if accepted < clients {
            fds.push(PollFd {
                fd: listener.as_raw_fd(),
                events: POLLIN,
                revents: 0,
            });
        }
        wait(&mut fds);
        for (c, fd) in conns.iter_mut().zip(&fds) {
            if fd.revents == 0 {
                continue;
            }
            if !c.pending.is_empty() {
                match c.stream.write(&c.pending) {
                    Ok(n) => {
                        c.pending.drain(..n);
                        c.echoed += n as u64;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("write: {e}"),
                }
            } else {
                match c.stream.read(&mut buf) {
                    Ok(0) => c.eof = true,
                    Ok(n) => c.pending.extend_from_slice(&buf[..n]),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("read: {e}"),
                }
            }
        }
        // A finished connection: FIN after the last byte, then close.
        conns.retain(|c| {
            let done = c.eof && c.pending.is_empty();
            if done {
                total += c.echoed;
                let _ = c.stream.shutdown(Shutdown::Write);
            }
            !done
        });
        if fds.last().is_some_and(|f| f.revents != 0) && accepted < clients {
            loop {
                match listener.accept() {
                    Ok((stream, _)) => {
                        stream.set_nonblocking(true).unwrap();
                        conns.push(Conn {
                            stream,
                            pending: Vec::new(),
                            eof: false,
                            echoed: 0,
                        });
                        accepted += 1;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => panic!("accept: {e}"),
                }
            }
        }
    }
    println!("server done: {accepted} clients, {total} bytes echoed");
}

fn client(addr: &str, conns: usize, bytes: u64) {
    struct Client {
        stream: TcpStream,
        sent: u64,
        received: u64,
    }
    let mut clients: Vec<Client> = (0..conns)
        .map(|_| {
            let s = TcpStream::connect(addr).expect("connect");
            s.set_nonblocking(true).unwrap();
            Client {
                stream: s,
                sent: 0,
                received: 0,
            }
        })
        .collect();
    let mut out = vec![0u8; 32 << 10];
    let mut buf = vec![0u8; 64 << 10];
    while clients.iter().any(|c| c.received < bytes) {
        let mut fds: Vec<PollFd> = clients
            .iter()
            .map(|c| PollFd {
                fd: c.stream.as_raw_fd(),
                events: POLLIN
                    | if c.sent < bytes && c.sent - c.received < (1 << 20) {
                        POLLOUT
                    } else {
                        0
                    },
                revents: 0,
            })
            .collect();
        wait(&mut fds);
        for (i, (c, fd)) in clients.iter_mut().zip(&fds).enumerate() {
            if fd.revents & POLLOUT != 0 && c.sent < bytes {
                let n = (bytes - c.sent).min(out.len() as u64) as usize;
                for (k, b) in out[..n].iter_mut().enumerate() {
                    *b = pattern(i, c.sent + k as u64);
                }
                match c.stream.write(&out[..n]) {
                    // No half-close when done: WAMR's `sock_shutdown` shuts
                    // both directions (the echo's length is known anyway).
                    Ok(w) => c.sent += w as u64,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("write: {e}"),
                }
            }
            if fd.revents & POLLIN != 0 {
                match c.stream.read(&mut buf) {
                    Ok(0) => assert_eq!(c.received, bytes, "early EOF on connection {i}"),
                    Ok(n) => {
                        for (k, &b) in buf[..n].iter().enumerate() {
                            let at = c.received + k as u64;
                            assert_eq!(b, pattern(i, at), "connection {i}, byte {at}");
                        }
                        c.received += n as u64;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("read: {e}"),
                }
            }
        }
    }
    println!("client done: {conns} connections x {bytes} bytes, every byte checked");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    match arg(1) {
        "server" => server(arg(2), arg(3).parse().unwrap_or(1)),
        "client" => client(
            arg(2),
            arg(3).parse().unwrap_or(1),
            arg(4).parse().unwrap_or(1 << 20),
        ),
        _ => {
            eprintln!("usage: tcp-echo server ADDR CLIENTS | client ADDR CONNS BYTES");
            std::process::exit(2);
        }
    }
}
