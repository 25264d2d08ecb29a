//! `wasi:sockets/udp` and `udp-create-socket`, with the reference host's
//! checks, limits and option clamping.

use super::{
    clamp_buffer_size, code, consumed, flat, option, readable, set_option, valid_family,
    valid_remote, wamr, Addr, Network, Result,
};
use crate::io::Pollable;
use crate::table::Fd;
use crate::{put, put_result, put_unit_result, state, OrTrap};
use alloc::vec;
use alloc::vec::Vec;

#[derive(Clone, Copy, PartialEq)]
enum Udp {
    Unbound,
    /// `start-bind` succeeded, `finish-bind` pending (the socket is bound).
    Binding,
    Bound,
}

pub struct UdpSocket {
    /// None in the standard flavour, which has no datagram sockets.
    fd: Option<Fd>,
    v6: bool,
    state: Udp,
    remote: Option<Addr>,
    /// Bumped by every `stream` call: only the newest streams work.
    generation: u32,
    /// Kept here: the IPv6 hop limit (WAMR has no call for it), and every
    /// option in the standard flavour, from the values Linux reports.
    hop_limit: u8,
    recv_buf: u64,
    send_buf: u64,
}

pub struct IncomingDatagramStream {
    socket: i32,
    generation: u32,
}

pub struct OutgoingDatagramStream {
    socket: i32,
    generation: u32,
    /// Datagrams the last `check-send` allowed and no `send` has used.
    permit: u64,
}

fn udp(handle: i32) -> &'static mut UdpSocket {
    state::table().get::<UdpSocket>(handle)
}

impl UdpSocket {
    pub fn fd(&self) -> Option<Fd> {
        self.fd
    }

    /// The fd to ask for options, when the host has the call.
    fn host(&self) -> Option<Fd> {
        self.fd.filter(|_| wamr())
    }
}

/// The biggest datagram (the reference host's limit).
const MAX_DATAGRAM: usize = u16::MAX as usize;
/// How many datagrams one `receive` returns and `check-send` permits, at
/// most (the reference host's numbers).
const MAX_DATAGRAMS: u64 = 16;
/// `receive` stops once it holds this many bytes.
const MAX_RECEIVE: usize = 64 << 10;

pub unsafe fn create_udp_socket(family: i32, ret: i32) {
    let v6 = family != 0;
    let r = match wamr() {
        _ if super::denied(super::deny::UDP) => Err(code::ACCESS_DENIED),
        true => super::wamr::open(v6, false).map(Some),
        false => Ok(None),
    };
    let r = r.map(|fd| {
        let s = UdpSocket {
            fd,
            v6,
            state: Udp::Unbound,
            remote: None,
            generation: 0,
            hop_limit: 64,
            recv_buf: 106_496,
            send_buf: 106_496,
        };
        state::table().push(s, 0)
    });
    put_result(ret, 4, r, |at, h| put(at, 0, h))
}

pub unsafe fn drop_udp_socket(handle: i32) {
    if let Some(fd) = state::table().delete::<UdpSocket>(handle).fd {
        let _ = wasi::fd_close(fd);
    }
}

pub unsafe fn drop_incoming_datagram_stream(handle: i32) {
    state::table().delete::<IncomingDatagramStream>(handle);
}

pub unsafe fn drop_outgoing_datagram_stream(handle: i32) {
    state::table().delete::<OutgoingDatagramStream>(handle);
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn udp_socket_start_bind(
    handle: i32,
    network: i32,
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
    state::table().get::<Network>(network);
    let addr = Addr::from_flat(tag, &flat!(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10));
    let s = udp(handle);
    let r = (|| {
        match s.state {
            Udp::Binding => return Err(code::CONCURRENCY_CONFLICT),
            Udp::Bound => return Err(code::INVALID_STATE),
            Udp::Unbound => {}
        }
        if !valid_family(s.v6, &addr) {
            return Err(code::INVALID_ARGUMENT);
        }
        match s.host() {
            Some(fd) => super::wamr::bind(fd, &addr, false)?,
            // No address is granted.
            None => return Err(code::ACCESS_DENIED),
        }
        s.state = Udp::Binding;
        Ok(())
    })();
    put_unit_result(ret, r)
}

pub unsafe fn udp_socket_finish_bind(handle: i32, ret: i32) {
    let s = udp(handle);
    let r = match s.state {
        Udp::Binding => {
            s.state = Udp::Bound;
            Ok(())
        }
        _ => Err(code::NOT_IN_PROGRESS),
    };
    put_unit_result(ret, r)
}

/// `stream(option<ip-socket-address>)`: flattened as the option's tag, the
/// address's tag and its 11 fields.
///
/// `none` after a remote only forgets it here: WAMR cannot dissolve the
/// association (`connect` to `AF_UNSPEC`), so the host keeps receiving
/// from that peer only, while sends to any address work.
#[allow(clippy::too_many_arguments)]
pub unsafe fn udp_socket_stream(
    handle: i32,
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
    let remote = (some != 0)
        .then(|| Addr::from_flat(tag, &flat!(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10)));
    let s = udp(handle);
    let r = (|| {
        // WASI 0.2 wants an explicit bind first.
        if s.state == Udp::Unbound {
            return Err(code::INVALID_STATE);
        }
        if let Some(a) = &remote {
            if !valid_family(s.v6, a) || !valid_remote(a) {
                return Err(code::INVALID_ARGUMENT);
            }
            super::wamr::connect(s.fd.or_trap(), a)?;
        }
        s.remote = remote;
        s.generation += 1;
        let generation = s.generation;
        let table = state::table();
        let i = table.push(
            IncomingDatagramStream {
                socket: handle,
                generation,
            },
            handle as u32,
        );
        let o = table.push(
            OutgoingDatagramStream {
                socket: handle,
                generation,
                permit: 0,
            },
            handle as u32,
        );
        Ok((i, o))
    })();
    put_result(ret, 4, r, |at, (i, o)| {
        put(at, 0, i);
        put(at, 4, o);
    })
}

pub unsafe fn udp_socket_local_address(handle: i32, ret: i32) {
    let s = udp(handle);
    let r = match (s.state, s.host()) {
        (Udp::Binding | Udp::Bound, Some(fd)) => super::wamr::local_address(fd),
        _ => Err(code::INVALID_STATE),
    };
    put_result(ret, 4, r, |at, a| a.put(at))
}

pub unsafe fn udp_socket_remote_address(handle: i32, ret: i32) {
    let r = udp(handle).remote.ok_or(code::INVALID_STATE);
    put_result(ret, 4, r, |at, a| a.put(at))
}

pub unsafe fn udp_socket_address_family(handle: i32) -> i32 {
    udp(handle).v6 as i32
}

pub unsafe fn udp_socket_unicast_hop_limit(handle: i32, ret: i32) {
    let s = udp(handle);
    let r = match s.host() {
        Some(fd) if !s.v6 => super::wamr::ttl(fd),
        _ => Ok(s.hop_limit),
    };
    put_result(ret, 1, r, |at, v| put(at, 0, v))
}

pub unsafe fn udp_socket_set_unicast_hop_limit(handle: i32, value: i32, ret: i32) {
    let s = udp(handle);
    let v = value as u8;
    let r = match s.host() {
        _ if v == 0 => Err(code::INVALID_ARGUMENT),
        Some(fd) if !s.v6 => super::wamr::set_ttl(fd, v),
        _ => Ok(()),
    };
    if r.is_ok() {
        s.hop_limit = v;
    }
    put_unit_result(ret, r)
}

pub unsafe fn udp_socket_receive_buffer_size(handle: i32, ret: i32) {
    let s = udp(handle);
    let r = option(s.host(), super::wamr::receive_buffer_size, s.recv_buf);
    put_result(ret, 8, r, |at, v| put(at, 0, v))
}

pub unsafe fn udp_socket_set_receive_buffer_size(handle: i32, value: i64, ret: i32) {
    let s = udp(handle);
    let v = clamp_buffer_size(value as u64);
    let set = |fd| super::wamr::set_receive_buffer_size(fd, v);
    let r = set_option(s.host(), value != 0, set, &mut s.recv_buf, v);
    put_unit_result(ret, r)
}

pub unsafe fn udp_socket_send_buffer_size(handle: i32, ret: i32) {
    let s = udp(handle);
    let r = option(s.host(), super::wamr::send_buffer_size, s.send_buf);
    put_result(ret, 8, r, |at, v| put(at, 0, v))
}

pub unsafe fn udp_socket_set_send_buffer_size(handle: i32, value: i64, ret: i32) {
    let s = udp(handle);
    let v = clamp_buffer_size(value as u64);
    let set = |fd| super::wamr::set_send_buffer_size(fd, v);
    let r = set_option(s.host(), value != 0, set, &mut s.send_buf, v);
    put_unit_result(ret, r)
}

pub unsafe fn udp_socket_subscribe(handle: i32) -> i32 {
    udp(handle);
    state::table().push(Pollable::Ready, handle as u32)
}

/// The socket behind a datagram stream, if the stream is still current.
fn current(socket: i32, generation: u32) -> Result<&'static mut UdpSocket> {
    let s = udp(socket);
    if s.generation != generation {
        return Err(code::INVALID_STATE);
    }
    Ok(s)
}

/// `receive(max-results) -> result<list<incoming-datagram>, error-code>`:
/// the datagrams waiting now, never blocking. With a remote, datagrams from
/// other peers are dropped, as the reference host does: Linux filters only
/// what arrives after `connect`, not what was queued before.
pub unsafe fn incoming_datagram_stream_receive(handle: i32, max: i64, ret: i32) {
    let r = receive(handle, max);
    put_result(ret, 4, r, |at, got| {
        // incoming-datagram: data (ptr, len) at 0, address at 8; 40 bytes.
        let list = crate::program_alloc(4, got.len() * 40) as i32;
        for (i, (data, from)) in got.iter().enumerate() {
            let e = list + 40 * i as i32;
            crate::abi::put_string(e, data);
            from.put(e + 8);
        }
        put(at, 0, list);
        put(at, 4, got.len() as i32);
    })
}

/// The datagrams (at most `max`) waiting now on stream `handle`, and whom
/// each came from.
pub fn receive(handle: i32, max: i64) -> Result<Vec<(Vec<u8>, Addr)>> {
    let st = state::table().get::<IncomingDatagramStream>(handle);
    let max = (max as u64).min(MAX_DATAGRAMS) as usize;
    current(st.socket, st.generation).and_then(|s| {
        let mut got: Vec<(Vec<u8>, Addr)> = Vec::new();
        if max == 0 {
            return Ok(got);
        }
        let fd = s.fd.or_trap();
        let mut buf: Vec<u8> = vec![0; MAX_DATAGRAM];
        let mut bytes = 0;
        while got.len() < max && bytes < MAX_RECEIVE && readable(fd) {
            let r = super::wamr::recv_from(fd, &mut buf);
            consumed(fd);
            match r {
                Ok((_, from)) if s.remote.is_some_and(|r| !r.same_ip_port(&from)) => {}
                Ok((n, from)) => {
                    bytes += 1 + n;
                    got.push((buf.get(..n).or_trap().to_vec(), from));
                }
                // An error after datagrams waits for the next call.
                Err(_) if !got.is_empty() => break,
                Err(e) => return Err(e),
            }
        }
        Ok(got)
    })
}

pub unsafe fn incoming_datagram_stream_subscribe(handle: i32) -> i32 {
    let st = state::table().get::<IncomingDatagramStream>(handle);
    let p = match udp(st.socket).fd {
        Some(fd) => Pollable::Read(fd),
        None => Pollable::Ready,
    };
    state::table().push(p, handle as u32)
}

pub unsafe fn outgoing_datagram_stream_check_send(handle: i32, ret: i32) {
    let st = state::table().get::<OutgoingDatagramStream>(handle);
    let r = current(st.socket, st.generation).map(|_| MAX_DATAGRAMS);
    if r.is_ok() {
        st.permit = MAX_DATAGRAMS;
    }
    put_result(ret, 8, r, |at, v| put(at, 0, v))
}

/// `send(list<outgoing-datagram>) -> result<u64, error-code>`; sending more
/// than `check-send` allowed traps, as the spec says, and every `send` uses
/// up the permit.
pub unsafe fn outgoing_datagram_stream_send(handle: i32, list: i32, len: i32, ret: i32) {
    let st = state::table().get::<OutgoingDatagramStream>(handle);
    if len == 0 {
        return put_result(ret, 8, Ok(0u64), |at, v| put(at, 0, v));
    }
    if len as u64 > st.permit {
        crate::trap(crate::Text::ExceedsPermit)
    }
    st.permit = 0;
    let r = current(st.socket, st.generation).and_then(|s| {
        let mut sent = 0u64;
        for i in 0..len {
            // outgoing-datagram: data at 0, option<address> at 8; 44 bytes.
            let e = (list + 44 * i) as *const u8;
            let data = *(e as *const u32) as *const u8;
            let n = *(e.add(4) as *const u32) as usize;
            let to = match *e.add(8) {
                0 => None,
                _ => Some(Addr::read(e.add(12))),
            };
            let result = destination(s, n, to).and_then(|to| {
                let data = core::slice::from_raw_parts(data, n);
                super::wamr::send_to(s.fd.or_trap(), data, &to)
            });
            match result {
                Ok(()) => sent += 1,
                // The first failure is the result; later ones are not tried.
                Err(e) if sent == 0 => return Err(e),
                Err(_) => break,
            }
        }
        Ok(sent)
    });
    put_result(ret, 8, r, |at, v| put(at, 0, v))
}

/// Where a datagram of `n` bytes addressed to `to` goes, checked as the
/// reference host checks it.
fn destination(s: &UdpSocket, n: usize, to: Option<Addr>) -> Result<Addr> {
    if n > MAX_DATAGRAM {
        return Err(code::DATAGRAM_TOO_LARGE);
    }
    match (to, s.remote) {
        (Some(a), _) if !valid_remote(&a) || !valid_family(s.v6, &a) => Err(code::INVALID_ARGUMENT),
        (Some(a), Some(r)) if a != r => Err(code::INVALID_ARGUMENT),
        (Some(a), _) | (None, Some(a)) => Ok(a),
        (None, None) => Err(code::INVALID_ARGUMENT),
    }
}

pub unsafe fn outgoing_datagram_stream_subscribe(handle: i32) -> i32 {
    state::table().get::<OutgoingDatagramStream>(handle);
    state::table().push(Pollable::Ready, handle as u32)
}
