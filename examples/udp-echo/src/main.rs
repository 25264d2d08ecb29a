//! A UDP echo server and client on Rust `std::net`.
//!
//!   udp-echo server ADDR COUNT   echo COUNT datagrams back to their senders
//!   udp-echo client ADDR COUNT   send COUNT datagrams of varied sizes to
//!                                ADDR and check each reply byte by byte

use std::net::{SocketAddr, UdpSocket};

fn datagram(i: usize) -> Vec<u8> {
    let len = (i * 37) % 1400 + 1;
    (0..len).map(|k| ((k + i * 13) % 251) as u8).collect()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |i: usize| args.get(i).map(String::as_str).unwrap_or("");
    let addr: SocketAddr = arg(2).parse().expect("ADDR");
    let count: usize = arg(3).parse().unwrap_or(10);
    match arg(1) {
        "server" => {
            let s = UdpSocket::bind(addr).expect("bind");
            println!("listening");
            let mut buf = vec![0u8; 65536];
            for _ in 0..count {
                let (n, from) = s.recv_from(&mut buf).expect("recv_from");
                s.send_to(&buf[..n], from).expect("send_to");
            }
            println!("server done: {count} datagrams echoed");
        }
        "client" => {
            let local: SocketAddr = if addr.is_ipv6() {
                "[::1]:0"
            } else {
                "127.0.0.1:0"
            }
            .parse()
            .unwrap();
            let s = UdpSocket::bind(local).expect("bind");
            s.connect(addr).expect("connect");
            let mut buf = vec![0u8; 65536];
            for i in 0..count {
                let d = datagram(i);
                s.send(&d).expect("send");
                let n = s.recv(&mut buf).expect("recv");
                assert_eq!(&buf[..n], &d[..], "datagram {i}");
            }
            println!("client done: {count} datagrams checked");
        }
        _ => {
            eprintln!("usage: udp-echo server|client ADDR COUNT");
            std::process::exit(2);
        }
    }
}
