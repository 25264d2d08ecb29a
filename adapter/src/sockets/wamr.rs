//! The `wamr` flavour's host calls: WAMR's socket extension, with the fixes
//! that make a WAMR socket behave as the reference host's does.

use super::{check, code, normalize_buffer_size, Addr, Result};
use crate::table::Fd;
use alloc::vec;
use alloc::vec::Vec;

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
    fn sock_set_reuse_addr(fd: u32, enabled: u32) -> u16;
    fn sock_set_ipv6_only(fd: u32, enabled: u32) -> u16;
    fn sock_get_ip_ttl(fd: u32, v: *mut u8) -> u16;
    fn sock_set_ip_ttl(fd: u32, v: u32) -> u16;
}

impl WamrAddr {
    fn new(a: &Addr) -> WamrAddr {
        let mut w = WamrAddr {
            kind: a.v6 as u32,
            ..WamrAddr::default()
        };
        if a.v6 {
            w.data[..8].copy_from_slice(&a.ip);
            w.data[8] = a.port;
        } else {
            let o = [a.ip[0], a.ip[1], a.ip[2], a.ip[3]].map(|g| g as u8);
            w.data[0] = u16::from_le_bytes([o[0], o[1]]);
            w.data[1] = u16::from_le_bytes([o[2], o[3]]);
            w.data[2] = a.port;
        }
        w
    }

    fn addr(&self) -> Addr {
        if self.kind != 0 {
            let mut ip = [0; 8];
            ip.copy_from_slice(&self.data[..8]);
            Addr {
                port: self.data[8],
                ..Addr::v6(ip)
            }
        } else {
            let [a, b] = self.data[0].to_le_bytes();
            let [c, d] = self.data[1].to_le_bytes();
            Addr {
                port: self.data[2],
                ..Addr::v4([a, b, c, d])
            }
        }
    }
}

/// A new socket; IPv6 ones are IPv6-only, as the spec says (Linux makes
/// them dual-stack by default).
pub fn open(v6: bool, stream: bool) -> Result<Fd> {
    let mut fd = 0;
    check(unsafe { sock_open(0, v6 as u32, stream as u32, &mut fd) })?;
    if v6 {
        if let Err(e) = check(unsafe { sock_set_ipv6_only(fd, 1) }) {
            let _ = unsafe { wasi::fd_close(fd) };
            return Err(e);
        }
    }
    Ok(fd)
}

/// Binds `fd`. A TCP socket gets `SO_REUSEADDR` first, as the reference
/// host sets it (a listener may rebind a port whose connections linger in
/// TIME_WAIT), and `SO_LINGER` off after: WAMR's bind turns it on with a
/// zero timeout, which makes closing (this socket or a connection it
/// accepts) reset the connection and drop unsent data.
pub fn bind(fd: Fd, a: &Addr, tcp: bool) -> Result<()> {
    if tcp {
        let _ = unsafe { sock_set_reuse_addr(fd, 1) };
    }
    not_family(unsafe { sock_bind(fd, &WamrAddr::new(a)) })?;
    if tcp {
        check(unsafe { sock_set_linger(fd, 0, 0) })?;
    }
    Ok(())
}

pub fn connect(fd: Fd, a: &Addr) -> Result<()> {
    not_family(unsafe { sock_connect(fd, &WamrAddr::new(a)) })
}

/// `afnosupport` from a bind or connect is `invalid-argument`, as the
/// reference host maps it (the family itself was checked already).
fn not_family(errno: u16) -> Result<()> {
    match errno {
        5 => Err(code::INVALID_ARGUMENT),
        e => check(e),
    }
}

pub fn listen(fd: Fd, backlog: u32) -> Result<()> {
    check(unsafe { sock_listen(fd, backlog) })
}

pub fn local_address(fd: Fd) -> Result<Addr> {
    let mut w = WamrAddr::default();
    check(unsafe { sock_addr_local(fd, &mut w) })?;
    Ok(w.addr())
}

pub fn remote_address(fd: Fd) -> Result<Addr> {
    let mut w = WamrAddr::default();
    check(unsafe { sock_addr_remote(fd, &mut w) })?;
    Ok(w.addr())
}

/// Receives one datagram into `buf`: its length and sender.
pub fn recv_from(fd: Fd, buf: &mut [u8]) -> Result<(usize, Addr)> {
    let mut from = WamrAddr::default();
    let mut n = 0;
    let iov = wasi::Iovec {
        buf: buf.as_mut_ptr(),
        buf_len: buf.len(),
    };
    check(unsafe { sock_recv_from(fd, &iov, 1, 0, &mut from, &mut n) })?;
    // Never more than the buffer, whatever the host says.
    Ok((buf.len().min(n as usize), from.addr()))
}

/// Sends one datagram (WAMR cannot send an empty one: its `sock_send_to`
/// refuses with `inval`, and `fd_write` of nothing sends nothing).
pub fn send_to(fd: Fd, data: &[u8], to: &Addr) -> Result<()> {
    if data.is_empty() {
        return Err(code::NOT_SUPPORTED);
    }
    let iov = wasi::Ciovec {
        buf: data.as_ptr(),
        buf_len: data.len(),
    };
    let mut done = 0;
    check(unsafe { sock_send_to(fd, &iov, 1, 0, &WamrAddr::new(to), &mut done) })
}

/// The addresses `host` (NUL-terminated) has, as `getaddrinfo` gives them
/// for stream sockets (one entry per address, as the reference host asks).
pub fn resolve(host: &[u8]) -> Result<Vec<Addr>> {
    let hints = WamrHints {
        socktype: 1,
        family: 2,
        enabled: 1,
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
                return Ok(info
                    .iter()
                    .take(max as usize)
                    .map(|i| i.addr.addr().canonical())
                    .map(|a| Addr { port: 0, ..a })
                    .collect())
            }
            // More room, within reason: a host's garbage count is no size.
            0 if max <= 1 << 12 => cap = max,
            0 => return Err(code::PERMANENT_RESOLVER_FAILURE),
            // Lookups not granted (`--allow-resolve`): as the reference host
            // answers when they are denied.
            2 | 63 | 76 => return Err(code::PERMANENT_RESOLVER_FAILURE),
            // Whatever `getaddrinfo` said: the reference host reports every
            // failed lookup so.
            _ => return Err(code::NAME_UNRESOLVABLE),
        }
    }
}

pub fn keep_alive(fd: Fd) -> Result<bool> {
    let mut v = 0u8;
    check(unsafe { sock_get_keep_alive(fd, &mut v) }).map(|_| v != 0)
}

pub fn set_keep_alive(fd: Fd, on: bool) -> Result<()> {
    check(unsafe { sock_set_keep_alive(fd, on as u32) })
}

/// Keep-alive idle time and interval, in seconds.
pub fn keep_idle(fd: Fd) -> Result<u64> {
    let mut v = 0u32;
    check(unsafe { sock_get_tcp_keep_idle(fd, &mut v) }).map(|_| v as u64)
}

pub fn set_keep_idle(fd: Fd, secs: u64) -> Result<()> {
    check(unsafe { sock_set_tcp_keep_idle(fd, secs as u32) })
}

pub fn keep_interval(fd: Fd) -> Result<u64> {
    let mut v = 0u32;
    check(unsafe { sock_get_tcp_keep_intvl(fd, &mut v) }).map(|_| v as u64)
}

pub fn set_keep_interval(fd: Fd, secs: u64) -> Result<()> {
    check(unsafe { sock_set_tcp_keep_intvl(fd, secs as u32) })
}

/// IPv4 TTL (WAMR has no call for the IPv6 hop limit).
pub fn ttl(fd: Fd) -> Result<u8> {
    let mut v = 0u8;
    check(unsafe { sock_get_ip_ttl(fd, &mut v) }).map(|_| v)
}

pub fn set_ttl(fd: Fd, v: u8) -> Result<()> {
    check(unsafe { sock_set_ip_ttl(fd, v as u32) })
}

pub fn receive_buffer_size(fd: Fd) -> Result<u64> {
    let mut v = 0u32;
    check(unsafe { sock_get_recv_buf_size(fd, &mut v) }).map(|_| normalize_buffer_size(v as u64))
}

/// `v` is clamped already. `nobufs` is no error: the size is a hint (the
/// reference host ignores it too).
pub fn set_receive_buffer_size(fd: Fd, v: u64) -> Result<()> {
    match unsafe { sock_set_recv_buf_size(fd, v as u32) } {
        42 => Ok(()),
        e => check(e),
    }
}

pub fn send_buffer_size(fd: Fd) -> Result<u64> {
    let mut v = 0u32;
    check(unsafe { sock_get_send_buf_size(fd, &mut v) }).map(|_| normalize_buffer_size(v as u64))
}

pub fn set_send_buffer_size(fd: Fd, v: u64) -> Result<()> {
    match unsafe { sock_set_send_buf_size(fd, v as u32) } {
        42 => Ok(()),
        e => check(e),
    }
}
