//! `wasi:sockets/tcp` and `tcp-create-socket`, with the reference host's
//! state machine, checks and option clamping.

use super::{
    clamp_buffer_size, code, flat, option, readable, set_option, standard, valid_family,
    valid_remote, valid_unicast, wamr, Addr, Network, Result,
};
use crate::io::{InputStream, OutputStream, Pollable, Pos};
use crate::table::Fd;
use crate::{put, put_result, put_unit_result, state, OrTrap};

#[derive(Clone, Copy, PartialEq)]
enum Tcp {
    Unbound,
    /// `start-bind` succeeded, `finish-bind` pending (the socket is bound).
    Binding,
    Bound,
    /// `start-listen` succeeded, `finish-listen` pending.
    Listening,
    Listened,
    /// `start-connect` done with this outcome, `finish-connect` pending.
    Connecting(Result<()>),
    Connected,
    /// A failed connect: every later use gives its error, as natively.
    Closed(u8),
}

/// Options the adapter keeps itself: those WAMR has no call for (the probe
/// count, the IPv6 hop limit) and, in the standard flavour, all of them.
/// They start as a Linux host reports them, and an accepted connection
/// inherits its listener's, as on Linux.
#[derive(Clone, Copy)]
struct Kept {
    keep_alive: bool,
    /// Seconds.
    keep_idle: u64,
    keep_interval: u64,
    keep_count: u32,
    hop_limit: u8,
    recv_buf: u64,
    send_buf: u64,
}

impl Kept {
    fn new() -> Kept {
        Kept {
            keep_alive: false,
            keep_idle: 7200,
            keep_interval: 75,
            keep_count: 9,
            hop_limit: 64,
            recv_buf: 65536,
            send_buf: 8192,
        }
    }
}

pub struct TcpSocket {
    /// The preview1 fd; in the standard flavour none until `start-bind`
    /// adopts a preopened listener.
    fd: Option<Fd>,
    v6: bool,
    state: Tcp,
    /// The address given to `start-bind`: the standard flavour's answer to
    /// `local-address` (preview1 cannot ask).
    local: Addr,
    backlog: u32,
    kept: Kept,
    /// Receiving / sending has ended (shut down, or the peer closed).
    ended: [bool; 2],
}

/// Whether `socket`'s receiving (`write` false) or sending has ended; the
/// socket outlives its streams, which ask.
pub fn ended(socket: i32, write: bool) -> bool {
    let e = tcp(socket).ended;
    if write {
        e[1]
    } else {
        e[0]
    }
}

pub fn end(socket: i32, write: bool) {
    let e = &mut tcp(socket).ended;
    if write {
        e[1] = true
    } else {
        e[0] = true
    }
}

/// A connected socket's stream operation, for `io` (`__linker__.tcp_io`):
/// receives into `buf[..len]` (its count) or sends all of it (0); a
/// negated errno when that fails. Ends the direction as it finds it ended.
#[export_name = "wasi-downlevel:tcp-io"]
pub unsafe extern "C" fn stream_io(send: i32, socket: i32, fd: i32, buf: i32, len: i32) -> i32 {
    let (fd, buf, len) = (fd as Fd, buf as *mut u8, len as usize);
    let r = if send != 0 {
        crate::p1::send_all(fd, buf, len).map(|()| 0)
    } else {
        crate::p1::recv(fd, buf, len)
    };
    match r {
        Ok(0) if send == 0 => end(socket, false),
        Err(wasi::ERRNO_PIPE) if send != 0 => end(socket, true),
        _ => {}
    }
    match r {
        Ok(n) => n as i32,
        Err(e) => -(e.raw() as i32),
    }
}

impl TcpSocket {
    fn new(fd: Option<Fd>, v6: bool, state: Tcp, local: Addr, kept: Kept) -> TcpSocket {
        TcpSocket {
            fd,
            v6,
            state,
            local,
            backlog: 128,
            kept,
            ended: [false; 2],
        }
    }

    pub fn fd(&self) -> Option<Fd> {
        self.fd
    }

    /// The fd to ask for options, when the host has the call.
    fn host(&self) -> Option<Fd> {
        self.fd.filter(|_| wamr())
    }

    /// Whether options may be used now: natively not while connecting, and
    /// a failed connect's error after it.
    fn usable(&self) -> Result<()> {
        match self.state {
            Tcp::Connecting(_) => Err(code::INVALID_STATE),
            Tcp::Closed(e) => Err(e),
            _ => Ok(()),
        }
    }

    /// Natively an operation still in progress makes any other `start-*`
    /// a concurrency conflict.
    fn pending(&self) -> bool {
        matches!(
            self.state,
            Tcp::Binding | Tcp::Listening | Tcp::Connecting(_)
        )
    }
}

fn tcp(handle: i32) -> &'static mut TcpSocket {
    state::table().get::<TcpSocket>(handle)
}

const NS: u64 = 1_000_000_000;

/// A keep-alive time in whole seconds as the host sets it: at least 1 s (a
/// shorter one must not round to 0), at most Linux's limit, rounded up.
fn keep_alive_secs(ns: u64) -> u64 {
    ns.clamp(NS, i16::MAX as u64 * NS).div_ceil(NS)
}

/// A connection's streams, children of its socket.
fn streams(socket: i32, fd: Fd) -> (i32, i32) {
    let table = state::table();
    let i = table.push(
        InputStream::at(fd, true, Pos::Socket(socket)),
        socket as u32,
    );
    let o = table.push(
        OutputStream::at(fd, true, Pos::Socket(socket)),
        socket as u32,
    );
    (i, o)
}

pub unsafe fn create_tcp_socket(family: i32, ret: i32) {
    let v6 = family != 0;
    let r = match wamr() {
        _ if super::denied(super::deny::TCP) => Err(code::ACCESS_DENIED),
        true => super::wamr::open(v6, true).map(Some),
        false => Ok(None),
    };
    let r = r.map(|fd| {
        let s = TcpSocket::new(fd, v6, Tcp::Unbound, Addr::default(), Kept::new());
        state::table().push(s, 0)
    });
    put_result(ret, 4, r, |at, h| put(at, 0, h))
}

pub unsafe fn drop_tcp_socket(handle: i32) {
    if let Some(fd) = state::table().delete::<TcpSocket>(handle).fd {
        let _ = wasi::fd_close(fd);
    }
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn tcp_socket_start_bind(
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
    let s = tcp(handle);
    let r = (|| {
        if s.pending() {
            return Err(code::CONCURRENCY_CONFLICT);
        }
        if s.state != Tcp::Unbound {
            return Err(code::INVALID_STATE);
        }
        if !valid_unicast(&addr) || !valid_family(s.v6, &addr) {
            return Err(code::INVALID_ARGUMENT);
        }
        match s.fd {
            Some(fd) if wamr() => super::wamr::bind(fd, &addr, true)?,
            // The only address the program may have is the one the host
            // listens on for it.
            _ => s.fd = Some(standard::preopened_listener().ok_or(code::ACCESS_DENIED)?),
        }
        s.local = addr;
        s.state = Tcp::Binding;
        Ok(())
    })();
    put_unit_result(ret, r)
}

pub unsafe fn tcp_socket_finish_bind(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = match s.state {
        Tcp::Binding => {
            s.state = Tcp::Bound;
            Ok(())
        }
        _ => Err(code::NOT_IN_PROGRESS),
    };
    put_unit_result(ret, r)
}

#[allow(clippy::too_many_arguments)]
pub unsafe fn tcp_socket_start_connect(
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
    let s = tcp(handle);
    let r = (|| {
        if s.pending() {
            return Err(code::CONCURRENCY_CONFLICT);
        }
        if !matches!(s.state, Tcp::Unbound | Tcp::Bound) {
            return Err(code::INVALID_STATE);
        }
        if !valid_unicast(&addr) || !valid_remote(&addr) || !valid_family(s.v6, &addr) {
            return Err(code::INVALID_ARGUMENT);
        }
        // As natively, the outcome (a denial too) comes from finish-connect.
        let outcome = match s.fd {
            Some(fd) if wamr() => super::wamr::connect(fd, &addr),
            _ => Err(code::ACCESS_DENIED),
        };
        s.state = Tcp::Connecting(outcome);
        Ok(())
    })();
    put_unit_result(ret, r)
}

/// `result<tuple<input-stream, output-stream>, error-code>`.
pub unsafe fn tcp_socket_finish_connect(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = match s.state {
        Tcp::Connecting(Ok(())) => {
            s.state = Tcp::Connected;
            Ok(streams(handle, s.fd.or_trap()))
        }
        Tcp::Connecting(Err(e)) => {
            s.state = Tcp::Closed(e);
            Err(e)
        }
        _ => Err(code::NOT_IN_PROGRESS),
    };
    put_result(ret, 4, r, |at, (i, o)| {
        put(at, 0, i);
        put(at, 4, o);
    })
}

pub unsafe fn tcp_socket_start_listen(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = (|| {
        if s.pending() {
            return Err(code::CONCURRENCY_CONFLICT);
        }
        // WASI 0.2 wants an explicit bind first.
        if s.state != Tcp::Bound {
            return Err(code::INVALID_STATE);
        }
        // In the standard flavour bind adopted a listener the host opened.
        if wamr() {
            super::wamr::listen(s.fd.or_trap(), s.backlog)?;
        }
        s.state = Tcp::Listening;
        Ok(())
    })();
    put_unit_result(ret, r)
}

pub unsafe fn tcp_socket_finish_listen(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = match s.state {
        Tcp::Listening => {
            s.state = Tcp::Listened;
            Ok(())
        }
        _ => Err(code::NOT_IN_PROGRESS),
    };
    put_unit_result(ret, r)
}

/// `result<tuple<tcp-socket, input-stream, output-stream>, error-code>`;
/// `would-block` when no connection is waiting.
pub unsafe fn tcp_socket_accept(handle: i32, ret: i32) {
    let s = tcp(handle);
    let (v6, local, kept) = (s.v6, s.local, s.kept);
    let r = (|| {
        if !matches!(s.state, Tcp::Listening | Tcp::Listened) {
            return Err(code::INVALID_STATE);
        }
        let fd = s.fd.or_trap();
        if !readable(fd) {
            return Err(code::WOULD_BLOCK);
        }
        let accepted = wasi::sock_accept(fd, 0);
        super::consumed(fd);
        let conn = accepted.map_err(|e| match super::net_code(e.raw()) {
            // Linux hands errors pending on the new connection to accept;
            // the reference host reports them all as an aborted connection.
            code::CONNECTION_RESET | code::REMOTE_UNREACHABLE | code::NOT_SUPPORTED => {
                code::CONNECTION_ABORTED
            }
            c => c,
        })?;
        let socket = TcpSocket::new(Some(conn), v6, Tcp::Connected, local, kept);
        let h = state::table().push(socket, 0);
        let (i, o) = streams(h, conn);
        Ok((h, i, o))
    })();
    put_result(ret, 4, r, |at, (h, i, o)| {
        put(at, 0, h);
        put(at, 4, i);
        put(at, 8, o);
    })
}

pub unsafe fn tcp_socket_local_address(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = match s.state {
        Tcp::Unbound | Tcp::Connecting(_) => Err(code::INVALID_STATE),
        Tcp::Closed(e) => Err(e),
        _ => match s.host() {
            Some(fd) => super::wamr::local_address(fd),
            None => Ok(s.local),
        },
    };
    put_result(ret, 4, r, |at, a| a.put(at))
}

pub unsafe fn tcp_socket_remote_address(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = match (s.state, s.host()) {
        (Tcp::Connected, Some(fd)) => super::wamr::remote_address(fd),
        // Standard preview1 cannot tell the peer; wasi-libc's `accept`
        // aborts on an error here, so answer the unspecified address.
        (Tcp::Connected, None) => Ok(Addr {
            v6: s.v6,
            ..Addr::default()
        }),
        (Tcp::Closed(e), _) => Err(e),
        _ => Err(code::INVALID_STATE),
    };
    put_result(ret, 4, r, |at, a| a.put(at))
}

pub unsafe fn tcp_socket_is_listening(handle: i32) -> i32 {
    matches!(tcp(handle).state, Tcp::Listening | Tcp::Listened) as i32
}

pub unsafe fn tcp_socket_address_family(handle: i32) -> i32 {
    tcp(handle).v6 as i32
}

pub unsafe fn tcp_socket_set_listen_backlog_size(handle: i32, value: i64, ret: i32) {
    let s = tcp(handle);
    // Clamped silently, as operating systems do.
    let v = (value as u64).clamp(1, i32::MAX as u64) as u32;
    let r = match s.state {
        _ if value == 0 => Err(code::INVALID_ARGUMENT),
        Tcp::Unbound | Tcp::Binding | Tcp::Bound => Ok(()),
        // Linux takes a new backlog from a second listen; preview1 cannot.
        Tcp::Listening | Tcp::Listened => match s.host() {
            Some(fd) => super::wamr::listen(fd, v).map_err(|_| code::NOT_SUPPORTED),
            None => Err(code::NOT_SUPPORTED),
        },
        Tcp::Closed(e) => Err(e),
        _ => Err(code::INVALID_STATE),
    };
    if r.is_ok() {
        s.backlog = v;
    }
    put_unit_result(ret, r)
}

pub unsafe fn tcp_socket_keep_alive_enabled(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = s.usable().and_then(|_| match s.host() {
        Some(fd) => super::wamr::keep_alive(fd),
        None => Ok(s.kept.keep_alive),
    });
    put_result(ret, 1, r, |at, v| put(at, 0, v as u8))
}

pub unsafe fn tcp_socket_set_keep_alive_enabled(handle: i32, value: i32, ret: i32) {
    let s = tcp(handle);
    let on = value != 0;
    let r = s.usable().and_then(|_| match s.host() {
        Some(fd) => super::wamr::set_keep_alive(fd, on),
        None => Ok(()),
    });
    if r.is_ok() {
        s.kept.keep_alive = on;
    }
    put_unit_result(ret, r)
}

pub unsafe fn tcp_socket_keep_alive_idle_time(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = s
        .usable()
        .and_then(|_| option(s.host(), super::wamr::keep_idle, s.kept.keep_idle));
    put_result(ret, 8, r.map(|secs| secs * NS), |at, v| put(at, 0, v))
}

pub unsafe fn tcp_socket_set_keep_alive_idle_time(handle: i32, value: i64, ret: i32) {
    let s = tcp(handle);
    let secs = keep_alive_secs(value as u64);
    let r = s.usable().and_then(|_| {
        let set = |fd| super::wamr::set_keep_idle(fd, secs);
        set_option(s.host(), value != 0, set, &mut s.kept.keep_idle, secs)
    });
    put_unit_result(ret, r)
}

pub unsafe fn tcp_socket_keep_alive_interval(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = s
        .usable()
        .and_then(|_| option(s.host(), super::wamr::keep_interval, s.kept.keep_interval));
    put_result(ret, 8, r.map(|secs| secs * NS), |at, v| put(at, 0, v))
}

pub unsafe fn tcp_socket_set_keep_alive_interval(handle: i32, value: i64, ret: i32) {
    let s = tcp(handle);
    let secs = keep_alive_secs(value as u64);
    let r = s.usable().and_then(|_| {
        let set = |fd| super::wamr::set_keep_interval(fd, secs);
        set_option(s.host(), value != 0, set, &mut s.kept.keep_interval, secs)
    });
    put_unit_result(ret, r)
}

/// WAMR has no call for the probe count: kept here.
pub unsafe fn tcp_socket_keep_alive_count(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = s.usable().map(|_| s.kept.keep_count);
    put_result(ret, 4, r, |at, v| put(at, 0, v))
}

pub unsafe fn tcp_socket_set_keep_alive_count(handle: i32, value: i32, ret: i32) {
    let s = tcp(handle);
    let r = match value {
        0 => Err(code::INVALID_ARGUMENT),
        _ => s.usable(),
    };
    if r.is_ok() {
        // At most Linux's limit.
        s.kept.keep_count = (value as u32).min(i8::MAX as u32);
    }
    put_unit_result(ret, r)
}

pub unsafe fn tcp_socket_hop_limit(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = s.usable().and_then(|_| match s.host() {
        Some(fd) if !s.v6 => super::wamr::ttl(fd),
        _ => Ok(s.kept.hop_limit),
    });
    put_result(ret, 1, r, |at, v| put(at, 0, v))
}

pub unsafe fn tcp_socket_set_hop_limit(handle: i32, value: i32, ret: i32) {
    let s = tcp(handle);
    let v = value as u8;
    let r = s.usable().and_then(|_| match s.host() {
        _ if v == 0 => Err(code::INVALID_ARGUMENT),
        Some(fd) if !s.v6 => super::wamr::set_ttl(fd, v),
        _ => Ok(()),
    });
    if r.is_ok() {
        s.kept.hop_limit = v;
    }
    put_unit_result(ret, r)
}

pub unsafe fn tcp_socket_receive_buffer_size(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = s
        .usable()
        .and_then(|_| option(s.host(), super::wamr::receive_buffer_size, s.kept.recv_buf));
    put_result(ret, 8, r, |at, v| put(at, 0, v))
}

pub unsafe fn tcp_socket_set_receive_buffer_size(handle: i32, value: i64, ret: i32) {
    let s = tcp(handle);
    let v = clamp_buffer_size(value as u64);
    let r = s.usable().and_then(|_| {
        let set = |fd| super::wamr::set_receive_buffer_size(fd, v);
        set_option(s.host(), value != 0, set, &mut s.kept.recv_buf, v)
    });
    put_unit_result(ret, r)
}

pub unsafe fn tcp_socket_send_buffer_size(handle: i32, ret: i32) {
    let s = tcp(handle);
    let r = s
        .usable()
        .and_then(|_| option(s.host(), super::wamr::send_buffer_size, s.kept.send_buf));
    put_result(ret, 8, r, |at, v| put(at, 0, v))
}

pub unsafe fn tcp_socket_set_send_buffer_size(handle: i32, value: i64, ret: i32) {
    let s = tcp(handle);
    let v = clamp_buffer_size(value as u64);
    let r = s.usable().and_then(|_| {
        let set = |fd| super::wamr::set_send_buffer_size(fd, v);
        set_option(s.host(), value != 0, set, &mut s.kept.send_buf, v)
    });
    put_unit_result(ret, r)
}

/// Ready when `accept` would not block (listening), else at once (every
/// other operation completes in its `start-*`).
pub unsafe fn tcp_socket_subscribe(handle: i32) -> i32 {
    let s = tcp(handle);
    let p = match (s.state, s.fd) {
        (Tcp::Listened, Some(fd)) => Pollable::Read(fd),
        _ => Pollable::Ready,
    };
    state::table().push(p, handle as u32)
}

/// Never fails on a connection, as natively (the reference host shuts a
/// direction by dropping its stream and ignores what the OS says).
pub unsafe fn tcp_socket_shutdown(handle: i32, how: i32, ret: i32) {
    let s = tcp(handle);
    let r = match (s.state, s.fd) {
        (Tcp::Connected, Some(fd)) => {
            let how = match how {
                0 => wasi::SDFLAGS_RD,
                1 => wasi::SDFLAGS_WR,
                _ => wasi::SDFLAGS_RD | wasi::SDFLAGS_WR,
            };
            // WAMR's shutdown shuts both directions: asked to stop only
            // receiving (which Linux does not enforce anyway), it would
            // stop sending too, so it is not asked.
            if !(wamr() && how == wasi::SDFLAGS_RD) {
                let _ = wasi::sock_shutdown(fd, how);
            }
            if how & wasi::SDFLAGS_RD != 0 {
                s.ended[0] = true;
            }
            if how & wasi::SDFLAGS_WR != 0 {
                s.ended[1] = true;
            }
            Ok(())
        }
        _ => Err(code::INVALID_STATE),
    };
    put_unit_result(ret, r)
}
