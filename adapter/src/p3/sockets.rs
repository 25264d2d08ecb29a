//! `wasi:sockets@0.3`: TCP and name lookup on 0.2's implementation (both
//! flavours, as 0.2's). 0.3 has no `network` (the adapter makes one for each
//! 0.2 call that wants it), binds, connects and listens in one call (0.2's
//! start and finish), and carries a connection's data in streams: 0.2's
//! input and output streams on the socket, kept from the connect or accept
//! until `receive` and `send` take them. A listener's connections are a
//! stream of sockets, accepted as the program reads it (waiting in the event
//! loop for the listener to be readable). UDP keeps 0.2's datagram streams
//! for the socket's `send` and `receive` (made when first needed, again on
//! `connect`/`disconnect`); a `receive` lowered async with nothing there is
//! a subtask the event loop ends when the socket is readable. Error codes
//! are variants with `other`, mapped by name.

use super::{same, unit, Area};
use crate::abi::get;
use crate::put;
use crate::sockets::{
    instance_network, ip_name_lookup as lookup2, network, tcp as tcp2, udp as udp2,
};
use crate::state;
use crate::task::stream::{self, Errors, Side};

/// An `ip-socket-address` flattened: the values after its tag (the
/// generated shims pass them as an array).
pub type Addr = [i32; 11];

/// Calls 0.2's `f(handle, x, tag, a0, ..., a10, ret)` with the flat address
/// `a`.
macro_rules! spread {
    ($f:path, $h:expr, $x:expr, $tag:expr, $a:expr, $r:expr) => {{
        let a: Addr = $a;
        $f(
            $h, $x, $tag, a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], $r,
        )
    }};
}

/// Declares `name(handle, tag, a0, ..., a10, ret)`, the flat signature the
/// shims call with an `ip-socket-address`, as `inner(handle, tag, [a0,
/// ..., a10], ret)`.
macro_rules! flat_addr {
    ($name:ident => $inner:ident) => {
        #[allow(clippy::too_many_arguments)]
        pub unsafe fn $name(
            h: i32,
            tag: i32,
            a0: i32,
            a1: i32,
            a2: i32,
            a3: i32,
            a4: i32,
            a5: i32,
            a6: i32,
            a7: i32,
            a8: i32,
            a9: i32,
            a10: i32,
            ret: i32,
        ) {
            $inner(h, tag, [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10], ret)
        }
    };
}

/// A getter whose 0.2 result only moves: its payload from `p2` to `p3`,
/// `size` bytes (a bool or `u8`: 1 to 4; `u32`, an address: 4 to 4; a
/// `u64`: 8 to 8).
macro_rules! getter {
    ($name:ident => $f:path, $p2:expr, $p3:expr, $size:expr) => {
        pub unsafe fn $name(h: i32, ret: i32) {
            same(ret, $p2, $p3, $size, from_v2, |r| $f(h, r))
        }
    };
}

/// A setter: 0.2's, its unit result moved.
macro_rules! setter {
    ($name:ident($t:ty) => $f:path) => {
        pub unsafe fn $name(h: i32, v: $t, ret: i32) {
            unit(ret, from_v2, |r| $f(h, v, r))
        }
    };
}

/// 0.2's `error-code` as 0.3's `wasi:sockets/types.error-code`.
fn from_v2(c: u8) -> u8 {
    match c {
        1..=5 => c - 1,   // access-denied ... timeout
        9 => 5,           // invalid-state
        11..=14 => c - 5, // address-not-bindable ... connection-refused
        15..=17 => c - 4, // connection-reset, -aborted, datagram-too-large
        _ => 14,          // other
    }
}

/// 0.2's `error-code` as 0.3's `ip-name-lookup.error-code`.
fn lookup_from_v2(c: u8) -> u8 {
    match c {
        1 => 0,            // access-denied
        3 => 1,            // invalid-argument
        18..=20 => c - 16, // name-unresolvable, temporary/permanent-resolver-failure
        _ => 5,            // other
    }
}

const INVALID_STATE: u8 = 5;
const WOULD_BLOCK_V2: u8 = 8;

/// The 0.3 code for a failed stream call on a socket.
pub fn error_code(e: crate::p1::Errno) -> u8 {
    from_v2(crate::sockets::net_code(e.raw()))
}

/// Runs `f` with a 0.2 network, dropped after.
unsafe fn with_network<T>(f: impl FnOnce(i32) -> T) -> T {
    let n = instance_network::instance_network();
    let r = f(n);
    network::drop_network(n);
    r
}

/// Keeps a connected socket's 0.2 streams for `receive` and `send`.
fn keep(socket: u32, input: u32, output: u32) {
    state::task().tcp.push((socket, input, output));
}

/// The kept stream of `socket` (its input, else output), taken.
fn take(socket: i32, input: bool) -> Option<u32> {
    let kept = &mut state::task().tcp;
    let i = kept.iter().position(|k| k.0 == socket as u32)?;
    let k = kept.get_mut(i)?;
    let got = core::mem::replace(if input { &mut k.1 } else { &mut k.2 }, 0);
    if k.1 == 0 && k.2 == 0 {
        kept.swap_remove(i);
    }
    (got != 0).then_some(got)
}

/// The fd of a listening socket, for the event loop to wait on.
pub fn listener_fd(socket: i32) -> Option<crate::table::Fd> {
    state::table().get::<crate::table::TcpSocket>(socket).fd()
}

/// Accepts up to `n` connections of listener `socket`, each a new socket
/// handle written at `ptr`: how many (0: none waiting); `Err` if accepting
/// failed.
pub fn accept_into(socket: i32, ptr: u32, n: u32) -> Result<u32, ()> {
    let mut k = 0;
    while k < n {
        let mut area = Area::new();
        let r = area.0.as_mut_ptr() as i32;
        unsafe {
            tcp2::tcp_socket_accept(socket, r);
            match (get::<u8>(r, 0), get::<u8>(r, 4)) {
                (0, _) => {
                    let (h, i, o) = (get::<u32>(r, 4), get::<u32>(r, 8), get::<u32>(r, 12));
                    keep(h, i, o);
                    put(ptr as i32 + 4 * k as i32, 0, h);
                    k += 1;
                }
                (_, WOULD_BLOCK_V2) => break,
                _ if k > 0 => break,
                _ => return Err(()),
            }
        }
    }
    Ok(k)
}

/// Shuts down sending on the socket under 0.2 output stream `h`, if it is
/// on one (0.3 ends a connection's data with its send stream).
pub fn finish_send(h: i32) {
    if let crate::io::Pos::Socket(socket) = state::table().get::<crate::io::OutputStream>(h).pos {
        let mut area = Area::new();
        unsafe { tcp2::tcp_socket_shutdown(socket, 1, area.0.as_mut_ptr() as i32) };
    }
}

/// Receives the next datagram of UDP socket `h` into the return area
/// `ret` (a `result<tuple<list<u8>, ip-socket-address>, error-code>`), or
/// the error; `false` if none is there yet.
pub unsafe fn try_udp_receive(h: i32, ret: i32) -> bool {
    let fail = |e: u8| {
        put(ret, 0, 1u8);
        put(ret, 4, from_v2(e));
        put(ret, 8, 0u8);
        true
    };
    if udp_streams(h).is_none() {
        let mut area = Area::new();
        let r = area.0.as_mut_ptr() as i32;
        new_udp_streams(h, 0, 0, [0; 11], r);
        if get::<u8>(r, 0) != 0 {
            return fail(get(r, 1));
        }
    }
    let (input, _) = udp_streams(h).unwrap_or_default();
    match udp2::receive(input as i32, 1) {
        Ok(mut got) => match got.pop() {
            Some((data, from)) => {
                put(ret, 0, 0u8);
                crate::abi::put_string(ret + 4, &data);
                from.put(ret + 12);
                true
            }
            None => false,
        },
        Err(e) => fail(e),
    }
}

/// The socket operations of `task::stream` (`__linker__.p3_sockets`).
#[export_name = "wasi-downlevel:p3-sockets"]
pub unsafe extern "C" fn host_op(what: i32, a: i32, b: i32, c: i32) -> i32 {
    use crate::task::stream::sockets::*;
    match what {
        ACCEPT => accept_into(a, b as u32, c as u32).map_or(-1, |k| k as i32),
        LISTENER_FD => listener_fd(a).map_or(-1, |fd| fd as i32),
        FINISH_SEND => {
            finish_send(a);
            0
        }
        REAP => {
            reap();
            0
        }
        UDP_RECEIVE => try_udp_receive(a, b) as i32,
        _ => error_code(crate::p1::errno(a)) as i32,
    }
}

/// Drops the sockets the program dropped whose streams have all gone.
pub fn reap() {
    let doomed = &mut state::task().doomed;
    let mut i = 0;
    while let Some(&h) = doomed.get(i) {
        if state::table().children(h) == 0 {
            doomed.swap_remove(i);
            unsafe { tcp2::drop_tcp_socket(h as i32) };
        } else {
            i += 1;
        }
    }
}

pub mod types {
    pub use super::udp::*;
    use super::*;

    /// The socket goes when its last stream does (a connection outlives the
    /// handle, as on a native host).
    pub unsafe fn drop_tcp_socket(h: i32) {
        state::table().get::<crate::table::TcpSocket>(h);
        for input in [true, false] {
            match take(h, input) {
                Some(s) if input => crate::io::streams::drop_input_stream(s as i32),
                Some(s) => crate::io::streams::drop_output_stream(s as i32),
                None => {}
            }
        }
        state::task().doomed.push(h as u32);
        reap();
    }

    pub unsafe fn tcp_socket_create(family: i32, ret: i32) {
        same(ret, 4, 4, 4, from_v2, |r| {
            tcp2::create_tcp_socket(family, r)
        })
    }

    flat_addr!(tcp_socket_bind => tcp_socket_bind_addr);
    flat_addr!(tcp_socket_connect => tcp_socket_connect_addr);

    /// Binds (0.2's start and finish).
    unsafe fn tcp_socket_bind_addr(h: i32, tag: i32, a: Addr, ret: i32) {
        unit(ret, from_v2, |r| {
            with_network(|n| spread!(tcp2::tcp_socket_start_bind, h, n, tag, a, r));
            if get::<u8>(r, 0) == 0 {
                tcp2::tcp_socket_finish_bind(h, r)
            }
        })
    }

    /// Connects (on preview1 the call finishes at once) and keeps the
    /// connection's streams.
    unsafe fn tcp_socket_connect_addr(h: i32, tag: i32, a: Addr, ret: i32) {
        super::super::convert(
            ret,
            4,
            4,
            from_v2,
            |r| {
                with_network(|n| spread!(tcp2::tcp_socket_start_connect, h, n, tag, a, r));
                match get::<u8>(r, 0) {
                    0 => tcp2::tcp_socket_finish_connect(h, r),
                    // Its error where finish-connect's would be.
                    _ => put(r, 4, get::<u8>(r, 1)),
                }
            },
            |from, _| keep(h as u32, get(from, 0), get(from, 4)),
        )
    }

    /// `result<stream<tcp-socket>, error-code>`.
    pub unsafe fn tcp_socket_listen(h: i32, ret: i32) {
        super::super::convert(
            ret,
            1,
            4,
            from_v2,
            |r| {
                tcp2::tcp_socket_start_listen(h, r);
                if get::<u8>(r, 0) == 0 {
                    tcp2::tcp_socket_finish_listen(h, r)
                }
            },
            |_, to| put(to, 0, stream::host_stream(Side::Accept(h as u32), 4)),
        )
    }

    pub unsafe fn tcp_socket_send(h: i32, data: i32) -> i32 {
        let out = take(h, false).map(Side::Output).ok_or(INVALID_STATE);
        stream::host_writer(data, out, Errors::Sockets) as i32
    }

    pub unsafe fn tcp_socket_receive(h: i32, ret: i32) {
        let input = take(h, true).map(Side::Input).ok_or(INVALID_STATE);
        let (s, f) = stream::host_reader(input, 1, Errors::Sockets);
        put(ret, 0, s);
        put(ret, 4, f);
    }

    getter!(tcp_socket_get_local_address => tcp2::tcp_socket_local_address, 4, 4, 32);

    getter!(tcp_socket_get_remote_address => tcp2::tcp_socket_remote_address, 4, 4, 32);

    pub unsafe fn tcp_socket_get_is_listening(h: i32) -> i32 {
        tcp2::tcp_socket_is_listening(h)
    }

    pub unsafe fn tcp_socket_get_address_family(h: i32) -> i32 {
        tcp2::tcp_socket_address_family(h)
    }

    setter!(tcp_socket_set_listen_backlog_size(i64) => tcp2::tcp_socket_set_listen_backlog_size);

    getter!(tcp_socket_get_keep_alive_enabled => tcp2::tcp_socket_keep_alive_enabled, 1, 4, 1);

    setter!(tcp_socket_set_keep_alive_enabled(i32) => tcp2::tcp_socket_set_keep_alive_enabled);

    getter!(tcp_socket_get_keep_alive_idle_time => tcp2::tcp_socket_keep_alive_idle_time, 8, 8, 8);

    setter!(tcp_socket_set_keep_alive_idle_time(i64) => tcp2::tcp_socket_set_keep_alive_idle_time);

    getter!(tcp_socket_get_keep_alive_interval => tcp2::tcp_socket_keep_alive_interval, 8, 8, 8);

    setter!(tcp_socket_set_keep_alive_interval(i64) => tcp2::tcp_socket_set_keep_alive_interval);

    getter!(tcp_socket_get_keep_alive_count => tcp2::tcp_socket_keep_alive_count, 4, 4, 4);

    setter!(tcp_socket_set_keep_alive_count(i32) => tcp2::tcp_socket_set_keep_alive_count);

    getter!(tcp_socket_get_hop_limit => tcp2::tcp_socket_hop_limit, 1, 4, 1);

    setter!(tcp_socket_set_hop_limit(i32) => tcp2::tcp_socket_set_hop_limit);

    getter!(tcp_socket_get_receive_buffer_size => tcp2::tcp_socket_receive_buffer_size, 8, 8, 8);

    setter!(tcp_socket_set_receive_buffer_size(i64) => tcp2::tcp_socket_set_receive_buffer_size);

    getter!(tcp_socket_get_send_buffer_size => tcp2::tcp_socket_send_buffer_size, 8, 8, 8);

    setter!(tcp_socket_set_send_buffer_size(i64) => tcp2::tcp_socket_set_send_buffer_size);
}

pub mod ip_name_lookup {
    use super::*;

    /// `result<list<ip-address>, error-code>`: every address 0.2's stream
    /// gives (an `ip-address` is 18 bytes at 2 in 0.2's option, 18 here too,
    /// aligned to 2).
    pub unsafe fn resolve_addresses(ptr: i32, len: i32, ret: i32) {
        let mut area = Area::new();
        let r = area.0.as_mut_ptr() as i32;
        with_network(|n| lookup2::resolve_addresses(n, ptr, len, r));
        let stream = match get::<u8>(r, 0) {
            0 => get::<i32>(r, 4),
            _ => {
                put(ret, 0, 1u8);
                put(ret, 4, lookup_from_v2(get(r, 4)));
                put(ret, 8, 0u8);
                return;
            }
        };
        let mut addrs: alloc::vec::Vec<[u8; 18]> = alloc::vec::Vec::new();
        let failed = loop {
            lookup2::resolve_address_stream_resolve_next_address(stream, r);
            match (get::<u8>(r, 0), get::<u8>(r, 2)) {
                (0, 0) => break None,
                (0, _) => addrs.push(get(r, 4)),
                _ => break Some(get::<u8>(r, 2)),
            }
        };
        lookup2::drop_resolve_address_stream(stream);
        if let Some(c) = failed {
            put(ret, 0, 1u8);
            put(ret, 4, lookup_from_v2(c));
            put(ret, 8, 0u8);
            return;
        }
        let list = crate::program_alloc(2, addrs.len() * 18);
        core::ptr::copy_nonoverlapping(addrs.as_ptr() as *const u8, list, addrs.len() * 18);
        put(ret, 0, 0u8);
        put(ret, 4, list as i32);
        put(ret, 8, addrs.len() as i32);
    }
}

/// The kept 0.2 datagram streams of UDP socket `h`.
fn udp_streams(h: i32) -> Option<(u32, u32)> {
    let k = state::task().udp.iter().find(|k| k.0 == h as u32)?;
    Some((k.1, k.2))
}

/// Drops the kept datagram streams of `h`.
unsafe fn drop_udp_streams(h: i32) {
    let kept = &mut state::task().udp;
    if let Some(i) = kept.iter().position(|k| k.0 == h as u32) {
        let (_, i_, o) = kept.swap_remove(i);
        udp2::drop_incoming_datagram_stream(i_ as i32);
        udp2::drop_outgoing_datagram_stream(o as i32);
    }
}

/// Binds `h` to the unspecified address, port 0, if it is not bound (0.3
/// binds implicitly); a 0.2 unit result at `r`.
unsafe fn ensure_bound(h: i32, r: i32) {
    udp2::udp_socket_local_address(h, r);
    if get::<u8>(r, 0) == 0 {
        put(r, 0, 0u8);
        return;
    }
    let family = udp2::udp_socket_address_family(h);
    with_network(|n| spread!(udp2::udp_socket_start_bind, h, n, family, [0; 11], r));
    if get::<u8>(r, 0) == 0 {
        udp2::udp_socket_finish_bind(h, r)
    }
}

/// New datagram streams for `h`, with remote `remote` (a flat
/// `option<ip-socket-address>`), kept; a 0.2 result at `r` (its error at 1
/// whichever call failed).
#[allow(clippy::too_many_arguments)]
unsafe fn new_udp_streams(h: i32, some: i32, tag: i32, a: Addr, r: i32) {
    ensure_bound(h, r);
    if get::<u8>(r, 0) != 0 {
        return;
    }
    spread!(udp2::udp_socket_stream, h, some, tag, a, r);
    match get::<u8>(r, 0) {
        0 => {
            drop_udp_streams(h);
            state::task().udp.push((h as u32, get(r, 4), get(r, 8)));
        }
        _ => put(r, 1, get::<u8>(r, 4)),
    }
}

pub mod udp {
    use super::*;

    pub unsafe fn drop_udp_socket(h: i32) {
        drop_udp_streams(h);
        udp2::drop_udp_socket(h)
    }

    pub unsafe fn udp_socket_create(family: i32, ret: i32) {
        same(ret, 4, 4, 4, from_v2, |r| {
            udp2::create_udp_socket(family, r)
        })
    }

    flat_addr!(udp_socket_bind => udp_socket_bind_addr);
    flat_addr!(udp_socket_connect => udp_socket_connect_addr);

    unsafe fn udp_socket_bind_addr(h: i32, tag: i32, a: Addr, ret: i32) {
        unit(ret, from_v2, |r| {
            with_network(|n| spread!(udp2::udp_socket_start_bind, h, n, tag, a, r));
            if get::<u8>(r, 0) == 0 {
                udp2::udp_socket_finish_bind(h, r)
            }
        })
    }

    unsafe fn udp_socket_connect_addr(h: i32, tag: i32, a: Addr, ret: i32) {
        unit(ret, from_v2, |r| new_udp_streams(h, 1, tag, a, r))
    }

    pub unsafe fn udp_socket_disconnect(h: i32, ret: i32) {
        unit(ret, from_v2, |r| {
            udp2::udp_socket_remote_address(h, r);
            match get::<u8>(r, 0) {
                0 => new_udp_streams(h, 0, 0, [0; 11], r),
                _ => put(r, 1, get::<u8>(r, 4)),
            }
        })
    }

    /// Sends one datagram through the kept outgoing stream (made first if
    /// there is none).
    #[allow(clippy::too_many_arguments)]
    pub unsafe fn udp_socket_send(
        h: i32,
        ptr: i32,
        len: i32,
        some: i32,
        tag: i32,
        a0: i32,
        a1: i32,
        a2: i32,
        a3: i32,
        a4: i32,
        a5: i32,
        a6: i32,
        a7: i32,
        a8: i32,
        a9: i32,
        a10: i32,
        ret: i32,
    ) {
        unit(ret, from_v2, |r| {
            if udp_streams(h).is_none() {
                new_udp_streams(h, 0, 0, [0; 11], r);
                if get::<u8>(r, 0) != 0 {
                    return;
                }
            }
            let (_, out) = udp_streams(h).unwrap_or_default();
            // One `outgoing-datagram { data, remote-address }` (44 bytes):
            // the address as 0.2's `ip-socket-address` at 12.
            let mut dg = Area::new();
            let d = dg.0.as_mut_ptr() as i32;
            put(d, 0, ptr);
            put(d, 4, len);
            put(d, 8, some as u8);
            if some != 0 {
                let a = [a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10];
                put(d, 12, tag as u8);
                put(d, 16, a[0] as u16);
                if tag == 0 {
                    for (i, o) in a[1..5].iter().enumerate() {
                        put(d, 18 + i, *o as u8);
                    }
                } else {
                    put(d, 20, a[1]);
                    for (i, g) in a[2..10].iter().enumerate() {
                        put(d, 24 + 2 * i, *g as u16);
                    }
                    put(d, 40, a[10]);
                }
            }
            udp2::outgoing_datagram_stream_check_send(out as i32, r);
            if get::<u8>(r, 0) == 0 {
                udp2::outgoing_datagram_stream_send(out as i32, d, 1, r);
            }
            // Both report at 8.
            if get::<u8>(r, 0) != 0 {
                put(r, 1, get::<u8>(r, 8));
            }
        })
    }

    /// `result<tuple<list<u8>, ip-socket-address>, error-code>`: the next
    /// datagram (its data straight into a list of the program's), waited
    /// for in the call (lowered sync).
    pub unsafe fn udp_socket_receive(h: i32, ret: i32) {
        while !try_udp_receive(h, ret) {
            let (input, _) = udp_streams(h).unwrap_or_default();
            let p = udp2::incoming_datagram_stream_subscribe(input as i32);
            crate::io::poll::pollable_block(p);
            crate::io::poll::drop_pollable(p);
        }
    }

    /// Lowered async: at once if a datagram is there, else a subtask the
    /// event loop ends when the socket has one.
    pub unsafe fn async_udp_socket_receive(h: i32, ret: i32) -> i32 {
        if try_udp_receive(h, ret) {
            return 2;
        }
        let fd = state::table()
            .get::<crate::table::UdpSocket>(h)
            .fd()
            .unwrap_or(0);
        crate::task::subtask(crate::task::Wait::UdpReceive { fd, socket: h, ret })
    }

    getter!(udp_socket_get_local_address => udp2::udp_socket_local_address, 4, 4, 32);

    getter!(udp_socket_get_remote_address => udp2::udp_socket_remote_address, 4, 4, 32);

    pub unsafe fn udp_socket_get_address_family(h: i32) -> i32 {
        udp2::udp_socket_address_family(h)
    }

    getter!(udp_socket_get_unicast_hop_limit => udp2::udp_socket_unicast_hop_limit, 1, 4, 1);

    setter!(udp_socket_set_unicast_hop_limit(i32) => udp2::udp_socket_set_unicast_hop_limit);

    getter!(udp_socket_get_receive_buffer_size => udp2::udp_socket_receive_buffer_size, 8, 8, 8);

    setter!(udp_socket_set_receive_buffer_size(i64) => udp2::udp_socket_set_receive_buffer_size);

    getter!(udp_socket_get_send_buffer_size => udp2::udp_socket_send_buffer_size, 8, 8, 8);

    setter!(udp_socket_set_send_buffer_size(i64) => udp2::udp_socket_set_send_buffer_size);
}
