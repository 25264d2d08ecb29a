//! `wasi:sockets` on preview1, in two flavours the linker chooses
//! (`wasi-downlevel adapt --sockets`):
//!
//! - `wamr` (`wamr.rs`): WAMR's socket extension (`sock_open`, `sock_bind`,
//!   ...), imported from the module `wamr`, which the linker renames to
//!   `wasi_snapshot_preview1`;
//! - `standard` (`standard.rs`): only the four standard calls. The program
//!   may only listen on a listener the host preopened; everything else that
//!   needs the network answers as the reference host does when no address
//!   is granted (`access-denied`). The linker replaces every `wamr` import
//!   with a stub returning `notsup`.
//!
//! Both check arguments as the reference host (wasmtime) does before any
//! host call, so every runtime gives the same `invalid-argument`s.
//! Start/finish pairs complete in `start-*` (preview1 calls block), so
//! `finish-*` returns the stored outcome and socket pollables of pending
//! operations are ready at once. Connection streams are `wasi:io` streams
//! over the socket fd.

pub mod ip_name_lookup;
mod standard;
pub mod tcp;
pub mod udp;
mod wamr;

use crate::put;
use crate::table::Fd;
use crate::{io::Pollable, state};

pub use ip_name_lookup::ResolveAddressStream;
pub use tcp::TcpSocket;
pub use udp::{IncomingDatagramStream, OutgoingDatagramStream, UdpSocket};

#[link(wasm_import_module = "__linker__")]
extern "C" {
    /// 1 when linked with `--sockets wamr` (becomes a constant).
    fn sockets_wamr() -> i32;
    /// What the program is denied (`deny` bits; becomes a constant).
    #[link_name = "denied"]
    fn denied_bits() -> i32;
}

fn wamr() -> bool {
    unsafe { sockets_wamr() != 0 }
}

/// What the user denied the program when adapting (`--no-tcp`, ...), as a
/// native host is told to.
mod deny {
    pub const TCP: i32 = 1;
    pub const UDP: i32 = 2;
    pub const IP_NAME_LOOKUP: i32 = 4;
}

fn denied(what: i32) -> bool {
    unsafe { denied_bits() & what != 0 }
}

/// `network.error-code` cases used here.
mod code {
    pub const UNKNOWN: u8 = 0;
    pub const ACCESS_DENIED: u8 = 1;
    pub const NOT_SUPPORTED: u8 = 2;
    pub const INVALID_ARGUMENT: u8 = 3;
    pub const OUT_OF_MEMORY: u8 = 4;
    pub const TIMEOUT: u8 = 5;
    pub const CONCURRENCY_CONFLICT: u8 = 6;
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

/// Preview1 errno → `network.error-code`, as the reference host maps the
/// OS errno behind it.
pub(crate) fn net_code(errno: u16) -> u8 {
    use code::*;
    match errno {
        2 | 63 | 76 => ACCESS_DENIED,                // acces, perm, notcapable
        5 | 50 | 52 | 58 | 66 | 67 => NOT_SUPPORTED, // afnosupport, noprotoopt, nosys, notsup, protonosupport, prototype
        28 => INVALID_ARGUMENT,                      // inval
        42 | 48 => OUT_OF_MEMORY,                    // nobufs, nomem
        73 => TIMEOUT,                               // timedout
        7 => CONCURRENCY_CONFLICT,                   // already
        6 | 26 | 27 => WOULD_BLOCK,                  // again, inprogress, intr
        30 | 53 | 17 => INVALID_STATE,               // isconn, notconn, destaddrreq
        33 | 41 => NEW_SOCKET_LIMIT,                 // mfile, nfile
        4 => ADDRESS_NOT_BINDABLE,                   // addrnotavail
        3 => ADDRESS_IN_USE,                         // addrinuse
        23 | 38 | 40 => REMOTE_UNREACHABLE,          // hostunreach, netdown, netunreach
        14 => CONNECTION_REFUSED,                    // connrefused
        15 | 39 | 64 => CONNECTION_RESET,            // connreset, netreset, pipe
        13 => CONNECTION_ABORTED,                    // connaborted
        35 => DATAGRAM_TOO_LARGE,                    // msgsize
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

/// An IP socket address (an IPv4 one uses the first four groups as octets).
#[derive(Clone, Copy, PartialEq, Default)]
pub struct Addr {
    v6: bool,
    port: u16,
    ip: [u16; 8],
    flow: u32,
    scope: u32,
}

impl Addr {
    fn v4(o: [u8; 4]) -> Addr {
        Addr {
            ip: [o[0], o[1], o[2], o[3], 0, 0, 0, 0].map(u16::from),
            ..Addr::default()
        }
    }

    fn v6(ip: [u16; 8]) -> Addr {
        Addr {
            v6: true,
            ip,
            ..Addr::default()
        }
    }

    /// From the canonical ABI's flattening: the case (0 IPv4, 1 IPv6) and 11
    /// fields (port, then octets; or port, flow-info, eight groups, scope-id).
    fn from_flat(tag: i32, f: &[i32; 11]) -> Addr {
        let mut a = Addr {
            v6: tag != 0,
            port: f[0] as u16,
            ..Addr::default()
        };
        if a.v6 {
            a.flow = f[1] as u32;
            for (g, v) in a.ip.iter_mut().zip(f.iter().skip(2)) {
                *g = *v as u16;
            }
            a.scope = f[10] as u32;
        } else {
            for (g, v) in a.ip.iter_mut().zip(f.iter().skip(1)).take(4) {
                *g = *v as u8 as u16;
            }
        }
        a
    }

    /// Reads an `ip-socket-address` from memory.
    unsafe fn read(p: *const u8) -> Addr {
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

    /// Writes an `ip-socket-address` at `at`.
    pub(crate) unsafe fn put(&self, at: i32) {
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

    fn same_ip_port(&self, o: &Addr) -> bool {
        self.v6 == o.v6 && self.port == o.port && self.ip == o.ip
    }

    /// An IPv4-mapped IPv6 address as the IPv4 address it maps.
    fn canonical(&self) -> Addr {
        match self.ip {
            [0, 0, 0, 0, 0, 0xffff, hi, lo] if self.v6 => {
                let [a, b] = hi.to_be_bytes();
                let [c, d] = lo.to_be_bytes();
                Addr {
                    port: self.port,
                    ..Addr::v4([a, b, c, d])
                }
            }
            _ => *self,
        }
    }

    fn unspecified(&self) -> bool {
        self.ip.iter().all(|&g| g == 0)
    }
}

/// The reference host's address checks (`is_valid_address_family`,
/// `is_valid_unicast_address`, `is_valid_remote_address`), made before any
/// host call so every runtime answers `invalid-argument` alike.
///
/// The family must match; an IPv6 socket takes neither IPv4-mapped nor the
/// deprecated IPv4-compatible addresses (sockets are IPv6-only).
fn valid_family(v6: bool, a: &Addr) -> bool {
    if a.v6 != v6 {
        return false;
    }
    if !v6 {
        return true;
    }
    match a.ip {
        [0, 0, 0, 0, 0, 0xffff, _, _] => false,
        [0, 0, 0, 0, 0, 0, hi, lo] => hi == 0 && lo <= 1,
        _ => true,
    }
}

/// Neither multicast nor the IPv4 broadcast address.
fn valid_unicast(a: &Addr) -> bool {
    let c = a.canonical();
    if c.v6 {
        c.ip[0] >> 8 != 0xff
    } else {
        c.ip[0] & 0xf0 != 224 && c.ip[..4] != [255; 4]
    }
}

/// Not the unspecified address, not port 0.
fn valid_remote(a: &Addr) -> bool {
    !a.canonical().unspecified() && a.port != 0
}

/// Whether `fd` has something to read (or a connection to accept) now.
fn readable(fd: Fd) -> bool {
    crate::io::poll_one(Pollable::Read(fd), false)
}

/// After a receive or accept on `fd`: a poll must look again (`io::poll`
/// remembers fds it found readable until they are read).
fn consumed(fd: Fd) {
    state::readable().retain(|&f| f != fd);
}

/// Linux doubles the buffer size a program sets and reports the doubled
/// value; the reference host halves what it reads back.
fn normalize_buffer_size(raw: u64) -> u64 {
    raw / 2
}

/// Buffer sizes are hints: clamped, never refused (except 0).
fn clamp_buffer_size(v: u64) -> u64 {
    v.clamp(1, i32::MAX as u64)
}

/// Reads the 11 flattened address fields that follow a case tag.
macro_rules! flat {
    ($($f:ident),*) => { [$($f),*] };
}
use flat;

pub struct Network;

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
    pub use super::tcp::create_tcp_socket;
}

pub mod udp_create_socket {
    pub use super::udp::create_udp_socket;
}

/// An option's value: the host's when it has the socket (`host`, the wamr
/// flavour), else the one the adapter keeps.
fn option<T>(host: Option<Fd>, get: impl FnOnce(Fd) -> Result<T>, kept: T) -> Result<T> {
    match host {
        Some(fd) => get(fd),
        None => Ok(kept),
    }
}

/// Sets an option: refused as `invalid-argument` unless `valid`, set on the
/// host when it has the socket, and kept (so it reads back without one).
fn set_option<T>(
    host: Option<Fd>,
    valid: bool,
    set: impl FnOnce(Fd) -> Result<()>,
    kept: &mut T,
    value: T,
) -> Result<()> {
    let r = match host {
        _ if !valid => Err(code::INVALID_ARGUMENT),
        Some(fd) => set(fd),
        None => Ok(()),
    };
    if r.is_ok() {
        *kept = value;
    }
    r
}
