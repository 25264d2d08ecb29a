//! `wasi:sockets` called directly (the `wasip2` crate): name lookup, the TCP
//! and UDP state machines and their errors, options, and connection errors.
//!
//!   net-check FAMILY CLOSED_PORT BUSY_PORT
//!
//! FAMILY is 4 or 6; CLOSED_PORT has no listener (connect is refused);
//! BUSY_PORT has one (bind is address-in-use).

use wasip2::io::poll::poll;
use wasip2::sockets::instance_network::instance_network;
use wasip2::sockets::ip_name_lookup::resolve_addresses;
use wasip2::sockets::network::{
    ErrorCode, IpAddress, IpAddressFamily, IpSocketAddress, Ipv4SocketAddress, Ipv6SocketAddress,
};
use wasip2::sockets::tcp::TcpSocket;
use wasip2::sockets::tcp_create_socket::create_tcp_socket;
use wasip2::sockets::udp_create_socket::create_udp_socket;

fn addr(v6: bool, port: u16) -> IpSocketAddress {
    if v6 {
        IpSocketAddress::Ipv6(Ipv6SocketAddress {
            port,
            flow_info: 0,
            address: (0, 0, 0, 0, 0, 0, 0, 1),
            scope_id: 0,
        })
    } else {
        IpSocketAddress::Ipv4(Ipv4SocketAddress {
            port,
            address: (127, 0, 0, 1),
        })
    }
}

fn code<T>(r: Result<T, ErrorCode>) -> String {
    match r {
        Ok(_) => "ok".into(),
        Err(e) => format!("{e:?}"),
    }
}

/// Waits for the socket's pending operation, as a program would.
fn settle(s: &TcpSocket) {
    let p = s.subscribe();
    poll(&[&p]);
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let v6 = args.get(1).map(String::as_str) == Some("6");
    let closed: u16 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(1);
    let busy: u16 = args.get(3).and_then(|a| a.parse().ok()).unwrap_or(1);
    let family = if v6 {
        IpAddressFamily::Ipv6
    } else {
        IpAddressFamily::Ipv4
    };
    let net = instance_network();

    // Name lookup.
    let stream = resolve_addresses(&net, "localhost").unwrap();
    let mut found = Vec::new();
    loop {
        match stream.resolve_next_address() {
            Ok(Some(IpAddress::Ipv4(a))) => found.push(format!("{}.{}.{}.{}", a.0, a.1, a.2, a.3)),
            Ok(Some(IpAddress::Ipv6(a))) => found.push(format!("{a:x?}")),
            Ok(None) => break,
            Err(ErrorCode::WouldBlock) => {
                poll(&[&stream.subscribe()]);
            }
            Err(e) => {
                found.push(format!("{e:?}"));
                break;
            }
        }
    }
    println!(
        "localhost has 127.0.0.1: {}",
        found.iter().any(|a| a == "127.0.0.1")
    );
    println!(
        "literal: {:?}",
        resolve_addresses(&net, "10.1.2.3").map(|s| s.resolve_next_address())
    );
    println!("empty name: {}", code(resolve_addresses(&net, "")));

    // TCP state machine.
    let s = create_tcp_socket(family).unwrap();
    println!("family: {:?}", s.address_family());
    println!("local-address unbound: {}", code(s.local_address()));
    println!("finish-bind without start: {}", code(s.finish_bind()));
    println!("start-listen unbound: {}", code(s.start_listen()));
    println!("accept not listening: {}", code(s.accept()));
    println!(
        "shutdown unconnected: {}",
        code(s.shutdown(wasip2::sockets::tcp::ShutdownType::Both))
    );
    println!(
        "bind other family: {}",
        code(s.start_bind(&net, addr(!v6, 0)))
    );
    println!("backlog 0: {}", code(s.set_listen_backlog_size(0)));
    println!("backlog 16: {}", code(s.set_listen_backlog_size(16)));
    println!(
        "keep-alive on: {} -> {:?}",
        code(s.set_keep_alive_enabled(true)),
        s.keep_alive_enabled()
    );
    println!("hop-limit 0: {}", code(s.set_hop_limit(0)));
    println!("receive-buffer 0: {}", code(s.set_receive_buffer_size(0)));
    println!("start-bind: {}", code(s.start_bind(&net, addr(v6, 0))));
    settle(&s);
    println!("finish-bind: {}", code(s.finish_bind()));
    println!("bind again: {}", code(s.start_bind(&net, addr(v6, 0))));
    println!(
        "bound port is set: {:?}",
        s.local_address().map(|a| match a {
            IpSocketAddress::Ipv4(a) => a.port != 0,
            IpSocketAddress::Ipv6(a) => a.port != 0,
        })
    );
    println!("start-listen: {}", code(s.start_listen()));
    settle(&s);
    println!("finish-listen: {}", code(s.finish_listen()));
    println!("is-listening: {}", s.is_listening());
    println!("listen again: {}", code(s.start_listen()));
    println!("accept with nobody waiting: {}", code(s.accept()));
    println!(
        "connect while listening: {}",
        code(s.start_connect(&net, addr(v6, closed)))
    );
    drop(s);

    // Connection errors.
    let c = create_tcp_socket(family).unwrap();
    println!(
        "connect to port 0: {}",
        code(c.start_connect(&net, addr(v6, 0)))
    );
    println!("finish-connect without start: {}", code(c.finish_connect()));
    let r = c.start_connect(&net, addr(v6, closed));
    println!("start-connect (closed port): {}", code(r));
    settle(&c);
    println!("finish-connect (closed port): {}", code(c.finish_connect()));
    drop(c);
    let b = create_tcp_socket(family).unwrap();
    let r = b.start_bind(&net, addr(v6, busy)).and_then(|_| {
        settle(&b);
        b.finish_bind()
    });
    println!("bind busy port: {}", code(r));
    drop(b);

    // UDP.
    let u = match create_udp_socket(family) {
        Ok(u) => u,
        Err(e) => return println!("create-udp-socket: {e:?}"),
    };
    println!("udp stream unbound: {}", code(u.stream(None)));
    println!(
        "udp bind: {}",
        code(
            u.start_bind(&net, addr(v6, 0))
                .and_then(|_| u.finish_bind())
        )
    );
    match u.stream(None) {
        Ok((incoming, outgoing)) => {
            println!(
                "udp receive nothing: {:?}",
                incoming.receive(4).map(|d| d.len())
            );
            println!(
                "udp check-send > 0: {:?}",
                outgoing.check_send().map(|n| n > 0)
            );
            println!(
                "udp send without address: {}",
                code(outgoing.send(&[wasip2::sockets::udp::OutgoingDatagram {
                    data: vec![1, 2, 3],
                    remote_address: None,
                }]))
            );
        }
        Err(e) => println!("udp stream: {e:?}"),
    }
}
