//! A WASI 0.3 TCP (and UDP) echo server and client (wasi:sockets@0.3):
//!   p3-tcp-echo server PORT CONNECTIONS  echoes each connection until its peer
//!                                        closes, one after another;
//!   p3-tcp-echo client PORT BYTES        sends BYTES (a pattern), reads them
//!                                        back, checks them.
//!   p3-tcp-echo udp-server PORT DATAGRAMS, udp-client PORT DATAGRAMS: the
//!                                        same with datagrams.
//! Both on 127.0.0.1.

use wasip3::sockets::types::{
    IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, TcpSocket, UdpSocket,
};
use wasip3::wit_bindgen::StreamResult;
use wasip3::wit_stream;

wasip3::cli::command::export!(Echo);

struct Echo;

fn addr(port: u16) -> IpSocketAddress {
    IpSocketAddress::Ipv4(Ipv4SocketAddress {
        port,
        address: (127, 0, 0, 1),
    })
}

fn pattern(i: usize) -> u8 {
    (i * 31 % 251) as u8
}

async fn server(port: u16, conns: u32) -> Result<(), String> {
    let sock = TcpSocket::create(IpAddressFamily::Ipv4).map_err(|e| format!("create: {e:?}"))?;
    sock.bind(addr(port)).map_err(|e| format!("bind: {e:?}"))?;
    let mut incoming = sock.listen().map_err(|e| format!("listen: {e:?}"))?;
    println!("listening on {port}: {}", sock.get_is_listening());
    for n in 0..conns {
        let conn = match incoming.next().await {
            Some(c) => c,
            None => return Err("the listener ended".into()),
        };
        let (mut rx, received) = conn.receive();
        let (mut tx, out) = wit_stream::new();
        let sent = conn.send(out);
        let echo = async move {
            let mut total = 0;
            loop {
                let (status, buf) = rx.read(Vec::with_capacity(16 << 10)).await;
                total += buf.len();
                if !buf.is_empty() {
                    assert!(tx.write_all(buf).await.is_empty());
                }
                if let StreamResult::Dropped = status {
                    break;
                }
            }
            drop(tx);
            total
        };
        let (total, sent, received) =
            futures::join!(echo, async { sent.await }, async { received.await });
        println!("connection {n}: echoed {total} bytes, send {sent:?}, receive {received:?}");
    }
    Ok(())
}

async fn client(port: u16, bytes: usize) -> Result<(), String> {
    let sock = TcpSocket::create(IpAddressFamily::Ipv4).map_err(|e| format!("create: {e:?}"))?;
    sock.connect(addr(port))
        .await
        .map_err(|e| format!("connect: {e:?}"))?;
    let local = sock
        .get_local_address()
        .map(|a| matches!(a, IpSocketAddress::Ipv4(_)));
    let remote = sock.get_remote_address().map(|a| match a {
        IpSocketAddress::Ipv4(a) => (a.address, a.port == port),
        _ => ((0, 0, 0, 0), false),
    });
    println!("connected: local ipv4 {local:?}, remote {remote:?}");
    let data: Vec<u8> = (0..bytes).map(pattern).collect();
    let (mut tx, out) = wit_stream::new();
    let sent = sock.send(out);
    let (mut rx, _received) = sock.receive();
    let write = async move {
        assert!(tx.write_all(data).await.is_empty());
        tx
    };
    let read = async move {
        let mut got = Vec::new();
        while got.len() < bytes {
            let (status, buf) = rx.read(Vec::with_capacity(16 << 10)).await;
            got.extend_from_slice(&buf);
            if let StreamResult::Dropped = status {
                break;
            }
        }
        got
    };
    let (tx, got) = futures::join!(write, read);
    let same = got.len() == bytes && got.iter().enumerate().all(|(i, &b)| b == pattern(i));
    println!("received {} bytes back, intact: {same}", got.len());
    drop(tx);
    println!("send {:?}", sent.await);
    Ok(())
}

async fn udp_server(port: u16, n: u32) -> Result<(), String> {
    let sock = UdpSocket::create(IpAddressFamily::Ipv4).map_err(|e| format!("create: {e:?}"))?;
    sock.bind(addr(port)).map_err(|e| format!("bind: {e:?}"))?;
    println!("listening on {port}: udp");
    for i in 0..n {
        let (data, from) = sock
            .receive()
            .await
            .map_err(|e| format!("receive: {e:?}"))?;
        sock.send(data.clone(), Some(from))
            .await
            .map_err(|e| format!("send: {e:?}"))?;
        println!("connection {i}: echoed a datagram of {} bytes", data.len());
    }
    Ok(())
}

async fn udp_client(port: u16, n: usize) -> Result<(), String> {
    let sock = UdpSocket::create(IpAddressFamily::Ipv4).map_err(|e| format!("create: {e:?}"))?;
    sock.connect(addr(port))
        .map_err(|e| format!("connect: {e:?}"))?;
    for i in 0..n {
        let data: Vec<u8> = (0..100 + i).map(pattern).collect();
        sock.send(data.clone(), None)
            .await
            .map_err(|e| format!("send: {e:?}"))?;
        let (got, from) = sock
            .receive()
            .await
            .map_err(|e| format!("receive: {e:?}"))?;
        let from_server = matches!(from, IpSocketAddress::Ipv4(a) if a.port == port);
        println!(
            "datagram {i}: {} bytes back, intact: {}, from the server: {from_server}",
            got.len(),
            got == data
        );
    }
    Ok(())
}

impl wasip3::exports::cli::run::Guest for Echo {
    async fn run() -> Result<(), ()> {
        let args = wasip3::cli::environment::get_arguments();
        let port: u16 = args[2].parse().unwrap();
        let n: usize = args[3].parse().unwrap();
        let r = match args[1].as_str() {
            "server" => server(port, n as u32).await,
            "udp-server" => udp_server(port, n as u32).await,
            "udp-client" => udp_client(port, n).await,
            _ => client(port, n).await,
        };
        r.map_err(|e| eprintln!("{e}"))
    }
}

fn main() {
    unreachable!("run through wasi:cli/run")
}
