//! `wasi:sockets` on preview1, in two flavours the linker chooses
//! (`wasi-downlevel adapt --sockets`):
//!
//! - `wamr`: WAMR's socket extension (`sock_open`, `sock_bind`, ...), imported
//!   here from the module `wamr`, which the linker renames to
//!   `wasi_snapshot_preview1`;
//! - `standard`: only the four standard calls. A program's bind + listen is
//!   satisfied by a listener the host preopened; what preview1 cannot
//!   express fails with the error-code the spec gives for it. The linker
//!   replaces every `wamr` import with a stub returning `notsup`.
//!
//! Start/finish pairs complete in `start-*` (preview1 calls block), so
//! `finish-*` returns the stored outcome and socket pollables of pending
//! operations are ready at once. Connection streams are `wasi:io` streams
//! over the socket fd (`fd_read`/`fd_write`, readiness by `poll_oneoff`).

use crate::io::{InputStream, OutputStream, Pollable, Pos};
use crate::table::Fd;
use crate::{put, put_result, put_unit_result, state, OrTrap};
use alloc::vec;
use alloc::vec::Vec;

#[link(wasm_import_module = "__linker__")]
extern "C" {
    /// 1 when linked with `--sockets wamr` (becomes a constant).
    fn sockets_wamr() -> i32;
}

/// WAMR's `__wasi_addr_t`: kind (0 IPv4, 1 IPv6), then for IPv4 four octets
/// and the port, for IPv6 eight 16-bit groups and the port (host order).
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct WamrAddr {
    kind: u32,
    data: [u16; 10],
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct WamrAddrInfo {
    addr: WamrAddr,
    socktype: u32,
}

#[repr(C)]
struct WamrHints {
    socktype: u32,
    family: u32,
    enabled: u8,
}

#[link(wasm_import_module = "wamr")]
extern "C" {
    fn sock_open(poolfd: u32, af: u32, socktype: u32, fd: *mut u32) -> u16;
    fn sock_bind(fd: u32, addr: *const WamrAddr) -> u16;
    fn sock_connect(fd: u32, addr: *const WamrAddr) -> u16;
    fn sock_listen(fd: u32, backlog: u32) -> u16;
    fn sock_addr_local(fd: u32, addr: *mut WamrAddr) -> u16;
    fn sock_addr_remote(fd: u32, addr: *mut WamrAddr) -> u16;
    fn sock_recv_from(
        fd: u32,
        iovs: *const wasi::Iovec,
        n: u32,
        flags: u32,
        src: *mut WamrAddr,
        len: *mut u32,
    ) -> u16;
    fn sock_send_to(
        fd: u32,
        iovs: *const wasi::Ciovec,
        n: u32,
        flags: u32,
        dst: *const WamrAddr,
        len: *mut u32,
    ) -> u16;
    fn sock_addr_resolve(
        host: *const u8,
        service: *const u8,
        hints: *const WamrHints,
        info: *mut WamrAddrInfo,
        n: u32,
        max: *mut u32,
    ) -> u16;
    fn sock_get_recv_buf_size(fd: u32, v: *mut u32) -> u16;
    fn sock_set_recv_buf_size(fd: u32, v: u32) -> u16;
    fn sock_get_send_buf_size(fd: u32, v: *mut u32) -> u16;
    fn sock_set_send_buf_size(fd: u32, v: u32) -> u16;
    fn sock_get_keep_alive(fd: u32, v: *mut u8) -> u16;
    fn sock_set_keep_alive(fd: u32, v: u32) -> u16;
    fn sock_get_tcp_keep_idle(fd: u32, v: *mut u32) -> u16;
    fn sock_set_tcp_keep_idle(fd: u32, v: u32) -> u16;
    fn sock_get_tcp_keep_intvl(fd: u32, v: *mut u32) -> u16;
    fn sock_set_tcp_keep_intvl(fd: u32, v: u32) -> u16;
    fn sock_set_linger(fd: u32, enabled: u32, secs: i32) -> u16;
    fn sock_get_ip_ttl(fd: u32, v: *mut u8) -> u16;
    fn sock_set_ip_ttl(fd: u32, v: u32) -> u16;
}

fn wamr() -> bool {
    unsafe { sockets_wamr() != 0 }
}

/// `network.error-code` cases used here.
mod code {
    pub const UNKNOWN: u8 = 0;
    pub const ACCESS_DENIED: u8 = 1;
    pub const NOT_SUPPORTED: u8 = 2;
    pub const INVALID_ARGUMENT: u8 = 3;
    pub const OUT_OF_MEMORY: u8 = 4;
    pub const TIMEOUT: u8 = 5;
    pub const NOT_IN_PROGRESS: u8 = 7;
    pub const WOULD_BLOCK: u8 = 8;
    pub const INVALID_STATE: u8 = 9;
    pub const NEW_SOCKET_LIMIT: u8 = 10;
    pub const ADDRESS_NOT_BINDABLE: u8 = 11;
    pub const ADDRESS_IN_USE: u8 = 12;
    pub const REMOTE_UNREACHABLE: u8 = 13;
    pub const CONNECTION_REFUSED: u8 = 14;
    pub const CONNECTION_RESET: u8 = 15;
    pub const CONNECTION_ABORTED: u8 = 16;
    pub const DATAGRAM_TOO_LARGE: u8 = 17;
    pub const NAME_UNRESOLVABLE: u8 = 18;
    pub const PERMANENT_RESOLVER_FAILURE: u8 = 20;
}

/// Preview1 errno → `network.error-code`.
fn net_code(errno: u16) -> u8 {
    use code::*;
    match errno {
        2 | 63 | 76 => ACCESS_DENIED,       // acces, perm, notcapable
        5 | 52 | 58 | 66 => NOT_SUPPORTED,  // afnosupport, nosys, notsup, protonosupport
        28 => INVALID_ARGUMENT,             // inval
        42 | 48 => OUT_OF_MEMORY,           // nobufs, nomem
        73 => TIMEOUT,                      // timedout
        6 | 26 => WOULD_BLOCK,              // again, inprogress
        30 | 53 | 17 => INVALID_STATE,      // isconn, notconn, destaddrreq
        33 | 41 => NEW_SOCKET_LIMIT,        // mfile, nfile
        4 => ADDRESS_NOT_BINDABLE,          // addrnotavail
        3 => ADDRESS_IN_USE,                // addrinuse
        23 | 38 | 40 => REMOTE_UNREACHABLE, // hostunreach, netdown, netunreach
        14 => CONNECTION_REFUSED,           // connrefused
        15 | 39 | 64 => CONNECTION_RESET,   // connreset, netreset, pipe
        13 => CONNECTION_ABORTED,           // connaborted
        35 => DATAGRAM_TOO_LARGE,           // msgsize
        _ => UNKNOWN,
    }
}

type Result<T> = core::result::Result<T, u8>;

fn check(errno: u16) -> Result<()> {
    match errno {
        0 => Ok(()),
        e => Err(net_code(e)),
    }
}

/// An IP socket address, as the canonical ABI flattens it: the case (0 IPv4,
/// 1 IPv6) and up to 11 fields (port, then octets; or port, flow-info, eight
/// groups, scope-id).
#[derive(Clone, Copy, PartialEq, Default)]
pub struct Addr {
    v6: bool,
    port: u16,
    ip: [u16; 8],
    flow: u32,
    scope: u32,
}

impl Addr {
    fn from_flat(tag: i32, f: &[i32; 11]) -> Addr {
        let mut a = Addr {
            v6: tag != 0,
            port: f[0] as u16,
            ..Addr::default()
        };
        if a.v6 {
            a.flow = f[1] as u32;
            for (i, g) in a.ip.iter_mut().enumerate() {
                *g = f.get(2 + i).copied().or_trap() as u16;
            }
            a.scope = f[10] as u32;
        } else {
            for (i, g) in a.ip.iter_mut().take(4).enumerate() {
                *g = f.get(1 + i).copied().or_trap() as u8 as u16;
            }
        }
        a
    }

    fn unspecified(&self) -> bool {
        self.ip.iter().all(|&g| g == 0)
    }

    fn wamr(&self) -> WamrAddr {
        let mut w = WamrAddr {
            kind: self.v6 as u32,
            ..WamrAddr::default()
        };
        if self.v6 {
            w.data[..8].copy_from_slice(&self.ip);
            w.data[8] = self.port;
        } else {
            let o = [self.ip[0], self.ip[1], self.ip[2], self.ip[3]].map(|g| g as u8);
            w.data[0] = u16::from_le_bytes([o[0], o[1]]);
            w.data[1] = u16::from_le_bytes([o[2], o[3]]);
            w.data[2] = self.port;
        }
        w
    }

    fn from_wamr(w: &WamrAddr) -> Addr {
        let mut a = Addr {
            v6: w.kind != 0,
            ..Addr::default()
        };
        if a.v6 {
            a.ip.copy_from_slice(&w.data[..8]);
            a.port = w.data[8];
        } else {
            let [b0, b1] = w.data[0].to_le_bytes();
            let [b2, b3] = w.data[1].to_le_bytes();
            a.ip[..4].copy_from_slice(&[b0, b1, b2, b3].map(u16::from));
            a.port = w.data[2];
        }
        a
    }

    /// Writes an `ip-socket-address` at `at`.
    unsafe fn put(&self, at: i32) {
        put(at, 0, self.v6 as u8);
        put(at, 4, self.port);
        if self.v6 {
            put(at, 8, self.flow);
            for (i, g) in self.ip.iter().enumerate() {
                put(at, 12 + 2 * i, *g);
            }
            put(at, 28, self.scope);
        } else {
            for (i, g) in self.ip.iter().take(4).enumerate() {
                put(at, 6 + i, *g as u8);
            }
        }
    }

    /// Writes an `ip-address` (no port) at `at`.
    unsafe fn put_ip(&self, at: i32) {
        put(at, 0, self.v6 as u8);
        if self.v6 {
            for (i, g) in self.ip.iter().enumerate() {
                put(at, 2 + 2 * i, *g);
            }
        } else {
            for (i, g) in self.ip.iter().take(4).enumerate() {
                put(at, 2 + i, *g as u8);
            }
        }
    }
}

pub struct Network;

#[derive(Clone, Copy, PartialEq)]
enum Tcp {
    Unbound,
    /// `start-bind` succeeded (its errors come from `start-bind` itself).
    Binding,
    Bound,
    Listening,
    Listened,
    Connecting(Result<()>),
    Connected,
    /// A failed connect: the socket is unusable.
    Closed,
}

impl TcpSocket {
    /// A socket with the defaults a Linux host reports.
    fn new(fd: Option<Fd>, v6: bool, state: Tcp, local: Addr) -> TcpSocket {
        TcpSocket {
            fd,
            v6,
            state,
            local,
            backlog: 128,
            keep_alive: false,
            keep_idle: 7_200_000_000_000,
            keep_interval: 75_000_000_000,
            keep_count: 9,
            hop_limit: 64,
            recv_buf: 131_072,
            send_buf: 16_384,
        }
    }

    pub fn fd(&self) -> Option<Fd> {
        self.fd
    }
}

pub struct TcpSocket {
    /// The preview1 fd; in the standard flavour none until `listen` adopts
    /// a preopened listener.
    fd: Option<Fd>,
    v6: bool,
    state: Tcp,
    /// The address asked for in `start-bind` (standard flavour's answer to
    /// `local-address`).
    local: Addr,
    backlog: u32,
    /// Settings preview1 cannot read back (standard flavour), kept here.
    keep_alive: bool,
    keep_idle: u64,
    keep_interval: u64,
    keep_count: u32,
    hop_limit: u8,
    recv_buf: u64,
    send_buf: u64,
}

#[derive(Clone, Copy, PartialEq)]
enum Udp {
    Unbound,
    Binding,
    Bound,
}

pub struct UdpSocket {
    fd: Fd,
    v6: bool,
    state: Udp,
    remote: Option<Addr>,
    /// Bumped by every `stream` call: only the newest streams work.
    generation: u32,
    hop_limit: u8,
}

pub struct IncomingDatagramStream {
    socket: i32,
    generation: u32,
}

pub struct OutgoingDatagramStream {
    socket: i32,
    generation: u32,
    /// Datagrams the last `check-send` allowed and `send` has not used.
    permit: u64,
}

pub struct ResolveAddressStream {
    addrs: Vec<Addr>,
    next: usize,
    error: Option<u8>,
}

fn open(v6: bool, stream: bool) -> Result<Fd> {
    let mut fd = 0;
    check(unsafe { sock_open(0, v6 as u32, stream as u32, &mut fd) })?;
    Ok(fd)
}

fn tcp(handle: i32) -> &'static mut TcpSocket {
    state::table().get::<TcpSocket>(handle)
}

fn udp(handle: i32) -> &'static mut UdpSocket {
    state::table().get::<UdpSocket>(handle)
}

/// Whether `fd` has something to read (or a connection to accept) now.
fn readable(fd: Fd) -> bool {
    !crate::io::poll(&[Pollable::Read(fd)], Some(0)).is_empty()
}

/// Whether `addr` may be a remote address for a socket of this family
/// (the spec's `invalid-argument` cases).
fn valid_remote(v6: bool, addr: &Addr) -> bool {
    addr.v6 == v6 && !addr.unspecified() && addr.port != 0
}

fn local_address(fd: Fd) -> Result<Addr> {
    let mut w = WamrAddr::default();
    check(unsafe { sock_addr_local(fd, &mut w) })?;
    Ok(Addr::from_wamr(&w))
}

fn remote_address(fd: Fd) -> Result<Addr> {
    let mut w = WamrAddr::default();
    check(unsafe { sock_addr_remote(fd, &mut w) })?;
    Ok(Addr::from_wamr(&w))
}

/// In the standard flavour: the next preopened stream socket no TCP socket
/// has adopted yet (fds from 3 up, past the preopened directories).
fn preopened_listener() -> Option<Fd> {
    let table = state::table();
    let mut fd = 3;
    loop {
        let stat = unsafe { wasi::fd_fdstat_get(fd) }.ok()?;
        if stat.fs_filetype == wasi::FILETYPE_SOCKET_STREAM && !table.tcp_fd_used(fd) {
            return Some(fd);
        }
        fd += 1;
    }
}

/// Reads the 11 flattened address fields that follow a case tag.
macro_rules! flat {
    ($($f:ident),*) => { [$($f),*] };
}

pub mod network {
    use super::*;
    pub unsafe fn drop_network(handle: i32) {
        state::table().delete::<Network>(handle);
    }
}

pub mod instance_network {
    use super::*;
    pub unsafe fn instance_network() -> i32 {
        state::table().push(Network, 0)
    }
}

pub mod tcp_create_socket {
    use super::*;

    pub unsafe fn create_tcp_socket(family: i32, ret: i32) {
        let v6 = family != 0;
        let r = if wamr() {
            open(v6, true).map(Some)
        } else {
            Ok(None)
        };
        let r = r.map(|fd| {
            state::table().push(TcpSocket::new(fd, v6, Tcp::Unbound, Addr::default()), 0)
        });
        put_result(ret, 4, r, |at, h| put(at, 0, h))
    }
}

pub mod tcp {
    use super::*;

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
            if s.state != Tcp::Unbound {
                return Err(code::INVALID_STATE);
            }
            if addr.v6 != s.v6 {
                return Err(code::INVALID_ARGUMENT);
            }
            // WAMR's bind turns on SO_LINGER with a zero timeout, so that
            // closing (this socket or a connection it accepts) resets the
            // connection and drops unsent data: turn it back off.
            if let Some(fd) = s.fd {
                check(sock_bind(fd, &addr.wamr()))?;
                check(sock_set_linger(fd, 0, 0))?;
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
            match s.state {
                Tcp::Unbound | Tcp::Bound => {}
                _ => return Err(code::INVALID_STATE),
            }
            if !valid_remote(s.v6, &addr) {
                return Err(code::INVALID_ARGUMENT);
            }
            // Preview1 cannot open a connection: the host grants none.
            let fd = s.fd.ok_or(code::ACCESS_DENIED)?;
            s.state = Tcp::Connecting(check(sock_connect(fd, &addr.wamr())));
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
                s.state = Tcp::Closed;
                Err(e)
            }
            _ => Err(code::NOT_IN_PROGRESS),
        };
        put_result(ret, 4, r, |at, (i, o)| {
            put(at, 0, i);
            put(at, 4, o);
        })
    }

    /// A connection's streams, children of its socket.
    fn streams(socket: i32, fd: Fd) -> (i32, i32) {
        let table = state::table();
        let i = table.push(
            InputStream {
                fd,
                may_block: true,
                pos: Pos::Socket,
            },
            socket as u32,
        );
        let o = table.push(
            OutputStream {
                fd,
                may_block: true,
                pos: Pos::Socket,
            },
            socket as u32,
        );
        (i, o)
    }

    pub unsafe fn tcp_socket_start_listen(handle: i32, ret: i32) {
        let s = tcp(handle);
        let r = (|| {
            if s.state != Tcp::Bound {
                return Err(code::INVALID_STATE);
            }
            match s.fd {
                Some(fd) => check(sock_listen(fd, s.backlog))?,
                // The host preopened the listener, or the program may not
                // listen.
                None => s.fd = Some(preopened_listener().ok_or(code::ACCESS_DENIED)?),
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
        let (v6, local) = (s.v6, s.local);
        let r = (|| {
            if s.state != Tcp::Listened {
                return Err(code::INVALID_STATE);
            }
            let fd = s.fd.or_trap();
            if !readable(fd) {
                return Err(code::WOULD_BLOCK);
            }
            let conn = wasi::sock_accept(fd, 0).map_err(|e| net_code(e.raw()))?;
            let table = state::table();
            let h = table.push(TcpSocket::new(Some(conn), v6, Tcp::Connected, local), 0);
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
        let r = match (s.state, s.fd) {
            (Tcp::Unbound | Tcp::Binding | Tcp::Closed, _) => Err(code::INVALID_STATE),
            (_, Some(fd)) if wamr() => local_address(fd),
            _ => Ok(s.local),
        };
        put_result(ret, 4, r, |at, a| a.put(at))
    }

    pub unsafe fn tcp_socket_remote_address(handle: i32, ret: i32) {
        let s = tcp(handle);
        let r = match (s.state, s.fd) {
            (Tcp::Connected, Some(fd)) if wamr() => remote_address(fd),
            // Standard preview1 cannot tell the peer; wasi-libc's `accept`
            // aborts on an error here, so answer the unspecified address.
            (Tcp::Connected, _) => Ok(Addr {
                v6: s.v6,
                ..Addr::default()
            }),
            _ => Err(code::INVALID_STATE),
        };
        put_result(ret, 4, r, |at, a| a.put(at))
    }

    pub unsafe fn tcp_socket_is_listening(handle: i32) -> i32 {
        (tcp(handle).state == Tcp::Listened) as i32
    }

    pub unsafe fn tcp_socket_address_family(handle: i32) -> i32 {
        tcp(handle).v6 as i32
    }

    pub unsafe fn tcp_socket_set_listen_backlog_size(handle: i32, value: i64, ret: i32) {
        let s = tcp(handle);
        let r = match s.state {
            _ if value == 0 => Err(code::INVALID_ARGUMENT),
            Tcp::Connecting(_) | Tcp::Connected | Tcp::Closed => Err(code::INVALID_STATE),
            Tcp::Listened | Tcp::Listening => Err(code::NOT_SUPPORTED),
            _ => {
                s.backlog = (value as u64).min(u32::MAX as u64) as u32;
                Ok(())
            }
        };
        put_unit_result(ret, r)
    }

    /// A socket option: read from the host in the wamr flavour, else the
    /// value kept in the socket. (Macros, not helpers taking the import:
    /// a function pointer would need a table.)
    macro_rules! get_u32 {
        ($s:expr, $host:ident, $kept:expr) => {
            match $s.fd {
                Some(fd) if wamr() => {
                    let mut v = 0u32;
                    check($host(fd, &mut v)).map(|_| v as u64)
                }
                _ => Ok($kept),
            }
        };
    }

    macro_rules! set_u32 {
        ($s:expr, $host:ident, $v:expr) => {
            match $s.fd {
                Some(fd) if wamr() => check($host(fd, ($v as u64).min(u32::MAX as u64) as u32)),
                _ => Ok(()),
            }
        };
    }

    pub unsafe fn tcp_socket_keep_alive_enabled(handle: i32, ret: i32) {
        let s = tcp(handle);
        let r = match s.fd {
            Some(fd) if wamr() => {
                let mut v = 0u8;
                check(sock_get_keep_alive(fd, &mut v)).map(|_| v != 0)
            }
            _ => Ok(s.keep_alive),
        };
        put_result(ret, 1, r, |at, v| put(at, 0, v as u8))
    }

    pub unsafe fn tcp_socket_set_keep_alive_enabled(handle: i32, value: i32, ret: i32) {
        let s = tcp(handle);
        let r = set_u32!(s, sock_set_keep_alive, (value != 0) as u64);
        if r.is_ok() {
            s.keep_alive = value != 0;
        }
        put_unit_result(ret, r)
    }

    const NS: u64 = 1_000_000_000;

    pub unsafe fn tcp_socket_keep_alive_idle_time(handle: i32, ret: i32) {
        let s = tcp(handle);
        let r = get_u32!(s, sock_get_tcp_keep_idle, s.keep_idle / NS).map(|v| v * NS);
        put_result(ret, 8, r, |at, v| put(at, 0, v))
    }

    pub unsafe fn tcp_socket_set_keep_alive_idle_time(handle: i32, value: i64, ret: i32) {
        let s = tcp(handle);
        let r = if value <= 0 {
            Err(code::INVALID_ARGUMENT)
        } else {
            let secs = (value as u64).div_ceil(NS);
            set_u32!(s, sock_set_tcp_keep_idle, secs).map(|_| s.keep_idle = secs * NS)
        };
        put_unit_result(ret, r)
    }

    pub unsafe fn tcp_socket_keep_alive_interval(handle: i32, ret: i32) {
        let s = tcp(handle);
        let r = get_u32!(s, sock_get_tcp_keep_intvl, s.keep_interval / NS).map(|v| v * NS);
        put_result(ret, 8, r, |at, v| put(at, 0, v))
    }

    pub unsafe fn tcp_socket_set_keep_alive_interval(handle: i32, value: i64, ret: i32) {
        let s = tcp(handle);
        let r = if value <= 0 {
            Err(code::INVALID_ARGUMENT)
        } else {
            let secs = (value as u64).div_ceil(NS);
            set_u32!(s, sock_set_tcp_keep_intvl, secs).map(|_| s.keep_interval = secs * NS)
        };
        put_unit_result(ret, r)
    }

    /// WAMR has no call for the probe count: kept here.
    pub unsafe fn tcp_socket_keep_alive_count(handle: i32, ret: i32) {
        let n = tcp(handle).keep_count;
        put_result(ret, 4, Ok(n), |at, v| put(at, 0, v))
    }

    pub unsafe fn tcp_socket_set_keep_alive_count(handle: i32, value: i32, ret: i32) {
        let r = if value == 0 {
            Err(code::INVALID_ARGUMENT)
        } else {
            tcp(handle).keep_count = value as u32;
            Ok(())
        };
        put_unit_result(ret, r)
    }

    pub unsafe fn tcp_socket_hop_limit(handle: i32, ret: i32) {
        let s = tcp(handle);
        let r = match s.fd {
            Some(fd) if wamr() && !s.v6 => {
                let mut v = 0u8;
                check(sock_get_ip_ttl(fd, &mut v)).map(|_| v)
            }
            _ => Ok(s.hop_limit),
        };
        put_result(ret, 1, r, |at, v| put(at, 0, v))
    }

    pub unsafe fn tcp_socket_set_hop_limit(handle: i32, value: i32, ret: i32) {
        let s = tcp(handle);
        let r = match s.fd {
            _ if value as u8 == 0 => Err(code::INVALID_ARGUMENT),
            Some(fd) if wamr() && !s.v6 => check(sock_set_ip_ttl(fd, value as u8 as u32)),
            _ => Ok(()),
        };
        if r.is_ok() {
            s.hop_limit = value as u8;
        }
        put_unit_result(ret, r)
    }

    pub unsafe fn tcp_socket_receive_buffer_size(handle: i32, ret: i32) {
        let s = tcp(handle);
        let r = get_u32!(s, sock_get_recv_buf_size, s.recv_buf);
        put_result(ret, 8, r, |at, v| put(at, 0, v))
    }

    pub unsafe fn tcp_socket_set_receive_buffer_size(handle: i32, value: i64, ret: i32) {
        let s = tcp(handle);
        let r = match value {
            0 => Err(code::INVALID_ARGUMENT),
            v => set_u32!(s, sock_set_recv_buf_size, v as u64).map(|_| s.recv_buf = v as u64),
        };
        put_unit_result(ret, r)
    }

    pub unsafe fn tcp_socket_send_buffer_size(handle: i32, ret: i32) {
        let s = tcp(handle);
        let r = get_u32!(s, sock_get_send_buf_size, s.send_buf);
        put_result(ret, 8, r, |at, v| put(at, 0, v))
    }

    pub unsafe fn tcp_socket_set_send_buffer_size(handle: i32, value: i64, ret: i32) {
        let s = tcp(handle);
        let r = match value {
            0 => Err(code::INVALID_ARGUMENT),
            v => set_u32!(s, sock_set_send_buf_size, v as u64).map(|_| s.send_buf = v as u64),
        };
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

    pub unsafe fn tcp_socket_shutdown(handle: i32, how: i32, ret: i32) {
        let s = tcp(handle);
        let r = match (s.state, s.fd) {
            (Tcp::Connected, Some(fd)) => {
                let how = match how {
                    0 => wasi::SDFLAGS_RD,
                    1 => wasi::SDFLAGS_WR,
                    _ => wasi::SDFLAGS_RD | wasi::SDFLAGS_WR,
                };
                wasi::sock_shutdown(fd, how).map_err(|e| net_code(e.raw()))
            }
            _ => Err(code::INVALID_STATE),
        };
        put_unit_result(ret, r)
    }
}

pub mod udp_create_socket {
    use super::*;

    /// Preview1 has no datagram sockets without the wamr extension.
    pub unsafe fn create_udp_socket(family: i32, ret: i32) {
        let v6 = family != 0;
        let r = if wamr() {
            open(v6, false)
        } else {
            Err(code::NOT_SUPPORTED)
        };
        let r = r.map(|fd| {
            state::table().push(
                UdpSocket {
                    fd,
                    v6,
                    state: Udp::Unbound,
                    remote: None,
                    generation: 0,
                    hop_limit: 64,
                },
                0,
            )
        });
        put_result(ret, 4, r, |at, h| put(at, 0, h))
    }
}

pub mod udp {
    use super::*;

    /// The biggest datagram `receive` takes in.
    const MAX_DATAGRAM: usize = 65536;

    pub unsafe fn drop_udp_socket(handle: i32) {
        let _ = wasi::fd_close(state::table().delete::<UdpSocket>(handle).fd);
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
            if s.state != Udp::Unbound {
                return Err(code::INVALID_STATE);
            }
            if addr.v6 != s.v6 {
                return Err(code::INVALID_ARGUMENT);
            }
            check(sock_bind(s.fd, &addr.wamr()))?;
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

    /// `stream(option<ip-socket-address>)`: flattened as the option's tag,
    /// the address's tag and its 11 fields.
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
            if s.state != Udp::Bound {
                return Err(code::INVALID_STATE);
            }
            if let Some(a) = &remote {
                if !valid_remote(s.v6, a) {
                    return Err(code::INVALID_ARGUMENT);
                }
                check(sock_connect(s.fd, &a.wamr()))?;
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
        let r = match s.state {
            Udp::Bound => local_address(s.fd),
            _ => Err(code::INVALID_STATE),
        };
        put_result(ret, 4, r, |at, a| a.put(at))
    }

    pub unsafe fn udp_socket_remote_address(handle: i32, ret: i32) {
        let s = udp(handle);
        let r = s.remote.ok_or(code::INVALID_STATE);
        put_result(ret, 4, r, |at, a| a.put(at))
    }

    pub unsafe fn udp_socket_address_family(handle: i32) -> i32 {
        udp(handle).v6 as i32
    }

    pub unsafe fn udp_socket_unicast_hop_limit(handle: i32, ret: i32) {
        let s = udp(handle);
        let r = if s.v6 {
            Ok(s.hop_limit)
        } else {
            let mut v = 0u8;
            check(sock_get_ip_ttl(s.fd, &mut v)).map(|_| v)
        };
        put_result(ret, 1, r, |at, v| put(at, 0, v))
    }

    pub unsafe fn udp_socket_set_unicast_hop_limit(handle: i32, value: i32, ret: i32) {
        let s = udp(handle);
        let r = match value as u8 {
            0 => Err(code::INVALID_ARGUMENT),
            _ if s.v6 => Ok(()),
            v => check(sock_set_ip_ttl(s.fd, v as u32)),
        };
        if r.is_ok() {
            s.hop_limit = value as u8;
        }
        put_unit_result(ret, r)
    }

    macro_rules! get_size {
        ($fd:expr, $host:ident) => {{
            let mut v = 0u32;
            check($host($fd, &mut v)).map(|_| v as u64)
        }};
    }

    pub unsafe fn udp_socket_receive_buffer_size(handle: i32, ret: i32) {
        let r = get_size!(udp(handle).fd, sock_get_recv_buf_size);
        put_result(ret, 8, r, |at, v| put(at, 0, v))
    }

    pub unsafe fn udp_socket_set_receive_buffer_size(handle: i32, value: i64, ret: i32) {
        let r = match value {
            0 => Err(code::INVALID_ARGUMENT),
            v => check(sock_set_recv_buf_size(
                udp(handle).fd,
                v.min(u32::MAX as i64) as u32,
            )),
        };
        put_unit_result(ret, r)
    }

    pub unsafe fn udp_socket_send_buffer_size(handle: i32, ret: i32) {
        let r = get_size!(udp(handle).fd, sock_get_send_buf_size);
        put_result(ret, 8, r, |at, v| put(at, 0, v))
    }

    pub unsafe fn udp_socket_set_send_buffer_size(handle: i32, value: i64, ret: i32) {
        let r = match value {
            0 => Err(code::INVALID_ARGUMENT),
            v => check(sock_set_send_buf_size(
                udp(handle).fd,
                v.min(u32::MAX as i64) as u32,
            )),
        };
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
    /// the datagrams waiting now, never blocking.
    pub unsafe fn incoming_datagram_stream_receive(handle: i32, max: i64, ret: i32) {
        let st = state::table().get::<IncomingDatagramStream>(handle);
        let r = current(st.socket, st.generation).and_then(|s| {
            let fd = s.fd;
            let mut got: Vec<(Vec<u8>, Addr)> = Vec::new();
            let mut buf: Vec<u8> = vec![0; MAX_DATAGRAM];
            while (got.len() as u64) < max as u64 && readable(fd) {
                let mut from = WamrAddr::default();
                let mut n = 0;
                let iov = wasi::Iovec {
                    buf: buf.as_mut_ptr(),
                    buf_len: buf.len(),
                };
                check(sock_recv_from(fd, &iov, 1, 0, &mut from, &mut n))?;
                got.push((
                    buf.get(..n as usize).or_trap().to_vec(),
                    Addr::from_wamr(&from),
                ));
            }
            Ok(got)
        });
        put_result(ret, 4, r, |at, got| {
            // incoming-datagram: data (ptr, len) at 0, address at 8; 40 bytes.
            let list = crate::program_alloc(4, got.len() * 40) as i32;
            for (i, (data, from)) in got.iter().enumerate() {
                let e = list + 40 * i as i32;
                crate::cli::put_string(e, data);
                from.put(e + 8);
            }
            put(at, 0, list);
            put(at, 4, got.len() as i32);
        })
    }

    pub unsafe fn incoming_datagram_stream_subscribe(handle: i32) -> i32 {
        let st = state::table().get::<IncomingDatagramStream>(handle);
        let fd = udp(st.socket).fd;
        state::table().push(Pollable::Read(fd), handle as u32)
    }

    /// How many datagrams `send` may take next.
    const PERMIT: u64 = 64;

    pub unsafe fn outgoing_datagram_stream_check_send(handle: i32, ret: i32) {
        let st = state::table().get::<OutgoingDatagramStream>(handle);
        let r = current(st.socket, st.generation).map(|_| PERMIT);
        if r.is_ok() {
            st.permit = PERMIT;
        }
        put_result(ret, 8, r, |at, v| put(at, 0, v))
    }

    /// `send(list<outgoing-datagram>) -> result<u64, error-code>`; sending
    /// more than `check-send` allowed traps, as the spec says.
    pub unsafe fn outgoing_datagram_stream_send(handle: i32, list: i32, len: i32, ret: i32) {
        let st = state::table().get::<OutgoingDatagramStream>(handle);
        if len as u64 > st.permit {
            crate::trap(crate::Text::ExceedsPermit)
        }
        st.permit -= len as u64;
        let r = current(st.socket, st.generation).and_then(|s| {
            let mut sent = 0u64;
            for i in 0..len {
                // outgoing-datagram: data at 0, option<address> at 8; 44 bytes.
                let e = (list + 44 * i) as *const u8;
                let data = *(e as *const u32) as *const u8;
                let n = *(e.add(4) as *const u32) as usize;
                let to = match *e.add(8) {
                    0 => None,
                    _ => Some(read_addr(e.add(12))),
                };
                let to = match (to, s.remote) {
                    (Some(a), Some(r)) if a != r => Err(code::INVALID_ARGUMENT),
                    (Some(a), _) if !valid_remote(s.v6, &a) => Err(code::INVALID_ARGUMENT),
                    (Some(a), _) | (None, Some(a)) => Ok(a),
                    (None, None) => Err(code::INVALID_ARGUMENT),
                };
                let result = to.and_then(|to| {
                    let iov = wasi::Ciovec {
                        buf: data,
                        buf_len: n,
                    };
                    let mut done = 0;
                    check(sock_send_to(s.fd, &iov, 1, 0, &to.wamr(), &mut done))
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

    /// Reads an `ip-socket-address` from memory.
    unsafe fn read_addr(p: *const u8) -> Addr {
        let mut a = Addr {
            v6: *p != 0,
            port: *(p.add(4) as *const u16),
            ..Addr::default()
        };
        if a.v6 {
            a.flow = *(p.add(8) as *const u32);
            for (i, g) in a.ip.iter_mut().enumerate() {
                *g = *(p.add(12 + 2 * i) as *const u16);
            }
            a.scope = *(p.add(28) as *const u32);
        } else {
            for (i, g) in a.ip.iter_mut().take(4).enumerate() {
                *g = *p.add(6 + i) as u16;
            }
        }
        a
    }

    pub unsafe fn outgoing_datagram_stream_subscribe(handle: i32) -> i32 {
        state::table().get::<OutgoingDatagramStream>(handle);
        state::table().push(Pollable::Ready, handle as u32)
    }
}

pub mod ip_name_lookup {
    use super::*;

    pub unsafe fn drop_resolve_address_stream(handle: i32) {
        state::table().delete::<ResolveAddressStream>(handle);
    }

    /// An IPv4 literal (`a.b.c.d`), which needs no lookup.
    fn ipv4_literal(name: &[u8]) -> Option<Addr> {
        let mut a = Addr::default();
        let mut parts = name.split(|&b| b == b'.');
        for g in a.ip.iter_mut().take(4) {
            let p = parts.next()?;
            if p.is_empty() || p.len() > 3 || !p.iter().all(u8::is_ascii_digit) {
                return None;
            }
            let v = p.iter().fold(0u32, |v, d| v * 10 + (d - b'0') as u32);
            *g = u8::try_from(v).ok()? as u16;
        }
        parts.next().is_none().then_some(a)
    }

    /// `name` is "localhost" in any case (compared as integers: a string
    /// constant would be a data segment).
    fn is_localhost(name: &[u8]) -> bool {
        let lower: Vec<u8> = name.iter().map(u8::to_ascii_lowercase).collect();
        match lower.split_first_chunk::<8>() {
            Some((head, [b't'])) => u64::from_le_bytes(*head) == u64::from_le_bytes(*b"localhos"),
            _ => false,
        }
    }

    fn resolve(name: &[u8]) -> Result<Vec<Addr>> {
        if name.is_empty() || name.contains(&0) {
            return Err(code::INVALID_ARGUMENT);
        }
        if let Some(a) = ipv4_literal(name) {
            return Ok(vec![a]);
        }
        if !wamr() {
            // No resolver in standard preview1; `localhost` is loopback by
            // definition (RFC 6761).
            return match is_localhost(name) {
                true => Ok(vec![
                    Addr {
                        ip: [127, 0, 0, 1, 0, 0, 0, 0],
                        ..Addr::default()
                    },
                    Addr {
                        v6: true,
                        ip: [0, 0, 0, 0, 0, 0, 0, 1],
                        ..Addr::default()
                    },
                ]),
                false => Err(code::PERMANENT_RESOLVER_FAILURE),
            };
        }
        let mut host: Vec<u8> = name.to_vec();
        host.push(0);
        let hints = WamrHints {
            socktype: 1,
            family: 2,
            enabled: 0,
        };
        let mut cap = 16u32;
        loop {
            let mut info = vec![WamrAddrInfo::default(); cap as usize];
            let mut max = 0;
            let empty = 0u8;
            let e = unsafe {
                sock_addr_resolve(
                    host.as_ptr(),
                    &empty,
                    &hints,
                    info.as_mut_ptr(),
                    cap,
                    &mut max,
                )
            };
            match e {
                0 if max <= cap => {
                    let mut out: Vec<Addr> = Vec::new();
                    for i in info.iter().take(max as usize) {
                        let mut a = Addr::from_wamr(&i.addr);
                        a.port = 0;
                        if !out.contains(&a) {
                            out.push(a);
                        }
                    }
                    return match out.is_empty() {
                        true => Err(code::NAME_UNRESOLVABLE),
                        false => Ok(out),
                    };
                }
                0 => cap = max,
                2 | 63 | 76 => return Err(code::PERMANENT_RESOLVER_FAILURE),
                _ => return Err(code::NAME_UNRESOLVABLE),
            }
        }
    }

    pub unsafe fn resolve_addresses(network: i32, ptr: i32, len: i32, ret: i32) {
        state::table().get::<Network>(network);
        let name = core::slice::from_raw_parts(ptr as *const u8, len as usize);
        // Errors of the lookup itself come from resolve-next-address.
        let stream = match resolve(name) {
            Err(code::INVALID_ARGUMENT) => Err(code::INVALID_ARGUMENT),
            r => Ok(match r {
                Ok(addrs) => ResolveAddressStream {
                    addrs,
                    next: 0,
                    error: None,
                },
                Err(e) => ResolveAddressStream {
                    addrs: Vec::new(),
                    next: 0,
                    error: Some(e),
                },
            }),
        };
        let r = stream.map(|s| state::table().push(s, 0));
        put_result(ret, 4, r, |at, h| put(at, 0, h))
    }

    /// `result<option<ip-address>, error-code>`.
    pub unsafe fn resolve_address_stream_resolve_next_address(handle: i32, ret: i32) {
        let s = state::table().get::<ResolveAddressStream>(handle);
        let r = match s.error.take() {
            Some(e) => Err(e),
            None => {
                let a = s.addrs.get(s.next).copied();
                s.next += 1;
                Ok(a)
            }
        };
        put_result(ret, 2, r, |at, a| match a {
            Some(a) => {
                put(at, 0, 1u8);
                a.put_ip(at + 2);
            }
            None => put(at, 0, 0u8),
        })
    }

    pub unsafe fn resolve_address_stream_subscribe(handle: i32) -> i32 {
        state::table().get::<ResolveAddressStream>(handle);
        state::table().push(Pollable::Ready, handle as u32)
    }
}
