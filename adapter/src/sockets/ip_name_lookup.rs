//! `wasi:sockets/ip-name-lookup`. A name is checked and parsed as the
//! reference host does (`url::Host::parse`, the WHATWG host parser, then a
//! bare IPv6 address): IP literals resolve here without a host call, names
//! a URL host cannot be are `invalid-argument`, and only domains are looked
//! up.

use super::{code, standard, wamr, Addr, Network, Result};
use crate::io::Pollable;
use crate::{put, put_result, state};
use alloc::vec;
use alloc::vec::Vec;

pub struct ResolveAddressStream {
    addrs: Vec<Addr>,
    next: usize,
    /// A failed lookup: every `resolve-next-address` returns it, as natively.
    error: Option<u8>,
}

/// What a name is.
enum Host {
    Ip(Addr),
    /// A domain, lowercase, percent-decoded.
    Domain(Vec<u8>),
}

fn parse(name: &[u8]) -> Result<Host> {
    if let Some(rest) = name.strip_prefix(b"[") {
        let inner = rest.strip_suffix(b"]").ok_or(code::INVALID_ARGUMENT)?;
        return ipv6(inner).map(Host::Ip).ok_or(code::INVALID_ARGUMENT);
    }
    match domain(name) {
        Some(h) => Ok(h),
        // `url` takes no bare IPv6 address; the reference host tries one then.
        None => ipv6(name).map(Host::Ip).ok_or(code::INVALID_ARGUMENT),
    }
}

/// The WHATWG host parser for a name not in brackets: percent-decoded,
/// lowercase (the ASCII part of IDNA's mapping; other characters go to the
/// host's resolver as they are), no forbidden code point, and an IPv4
/// address if it ends in a number.
fn domain(name: &[u8]) -> Option<Host> {
    let mut d: Vec<u8> = Vec::with_capacity(name.len());
    let mut i = 0;
    while let Some(&b) = name.get(i) {
        let hex = |k: usize| name.get(k).and_then(|&c| (c as char).to_digit(16));
        match (b, hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                d.push((h * 16 + l) as u8);
                i += 3;
            }
            _ => {
                d.push(b.to_ascii_lowercase());
                i += 1;
            }
        }
    }
    let forbidden = |c: &u8| {
        matches!(
            c,
            0..=0x20
                | b'#'
                | b'%'
                | b'/'
                | b':'
                | b'<'
                | b'>'
                | b'?'
                | b'@'
                | b'['
                | b'\\'
                | b']'
                | b'^'
                | b'|'
                | 0x7f
        )
    };
    if d.is_empty() || d.iter().any(forbidden) {
        return None;
    }
    if ends_in_number(&d) {
        return ipv4(&d).map(Host::Ip);
    }
    Some(Host::Domain(d))
}

/// WHATWG "ends in a number": the last label (before a final dot) is a
/// number as the IPv4 parser reads one.
fn ends_in_number(d: &[u8]) -> bool {
    let d = d.strip_suffix(b".").unwrap_or(d);
    let last = d.rsplit(|&c| c == b'.').next().unwrap_or(d);
    if !last.is_empty() && last.iter().all(u8::is_ascii_digit) {
        return true;
    }
    ipv4_number(last).is_some()
}

/// A WHATWG IPv4 number: decimal, `0x` hex or `0`-prefixed octal; `None` if
/// not one, `Some(None)` if it overflows 32 bits.
fn ipv4_number(p: &[u8]) -> Option<Option<u32>> {
    if p.is_empty() {
        return None;
    }
    let (digits, radix) = match p {
        [b'0', b'x' | b'X', rest @ ..] => (rest, 16),
        [b'0', rest @ ..] if !rest.is_empty() => (rest, 8),
        _ => (p, 10),
    };
    let mut v: u64 = 0;
    for &c in digits {
        let d = (c as char).to_digit(radix)?;
        v = (v * radix as u64 + d as u64).min(u64::from(u32::MAX) + 1);
    }
    Some(u32::try_from(v).ok())
}

/// The WHATWG IPv4 parser: up to four numbers, the last filling the bytes
/// the others leave (`127.1` is 127.0.0.1).
fn ipv4(d: &[u8]) -> Option<Addr> {
    let d = d.strip_suffix(b".").unwrap_or(d);
    let mut numbers: Vec<u32> = Vec::new();
    for part in d.split(|&c| c == b'.') {
        numbers.push(ipv4_number(part)??);
    }
    let (&last, rest) = numbers.split_last()?;
    if rest.len() > 3 || rest.iter().any(|&n| n > 255) {
        return None;
    }
    if u64::from(last) >= 1u64 << (8 * (4 - rest.len())) {
        return None;
    }
    let mut v = last;
    for (k, &n) in rest.iter().enumerate() {
        v += n << (8 * (3 - k));
    }
    Some(Addr::v4(v.to_be_bytes()))
}

/// An IPv6 address in text form: up to eight groups of 1-4 hex digits, at
/// most one `::`, optionally ending in a dotted IPv4 address.
fn ipv6(s: &[u8]) -> Option<Addr> {
    let mut ip = [0u16; 8];
    let mut n = 0;
    // Where `::` stands, in groups.
    let mut gap = None;
    let mut rest = s;
    if let Some(r) = rest.strip_prefix(b"::") {
        gap = Some(0);
        rest = r;
    }
    while !rest.is_empty() {
        let end = rest.iter().position(|&c| c == b':').unwrap_or(rest.len());
        let (piece, after) = rest.split_at(end);
        if piece.contains(&b'.') {
            // The IPv4 part comes last.
            let [a, b, c, d] = dotted_quad(piece).filter(|_| after.is_empty())?;
            *ip.get_mut(n)? = u16::from_be_bytes([a, b]);
            *ip.get_mut(n + 1)? = u16::from_be_bytes([c, d]);
            n += 2;
            break;
        }
        if piece.is_empty() || piece.len() > 4 {
            return None;
        }
        let mut g = 0u16;
        for &c in piece {
            g = g << 4 | (c as char).to_digit(16)? as u16;
        }
        *ip.get_mut(n)? = g;
        n += 1;
        rest = match after {
            [] => after,
            [b':', b':', r @ ..] if gap.is_none() => {
                gap = Some(n);
                r
            }
            [b':', r @ ..] if r.first().is_some_and(|&c| c != b':') => r,
            _ => return None,
        };
    }
    match gap {
        None if n == 8 => Some(Addr::v6(ip)),
        // The groups after `::` move to the end.
        Some(at) if n < 8 => {
            let mut out = [0u16; 8];
            for (k, g) in ip.iter().enumerate().take(n) {
                *out.get_mut(if k < at { k } else { k + 8 - n })? = *g;
            }
            Some(Addr::v6(out))
        }
        _ => None,
    }
}

/// `a.b.c.d`, decimal, no leading zeros (as inside an IPv6 address).
fn dotted_quad(s: &[u8]) -> Option<[u8; 4]> {
    let mut o = [0u8; 4];
    let mut parts = s.split(|&c| c == b'.');
    for b in o.iter_mut() {
        let p = parts.next()?;
        if p.is_empty() || p.len() > 3 || (p.len() > 1 && p.first() == Some(&b'0')) {
            return None;
        }
        let mut v = 0u32;
        for &c in p {
            v = v * 10 + (c as char).to_digit(10)?;
        }
        *b = u8::try_from(v).ok()?;
    }
    parts.next().is_none().then_some(o)
}

/// Looks up a domain: `Err` is the lookup's own failure, which the stream
/// reports.
fn lookup(d: &[u8]) -> Result<Vec<Addr>> {
    if !wamr() {
        return standard::resolve(d);
    }
    let mut host = d.to_vec();
    host.push(0);
    super::wamr::resolve(&host)
}

pub unsafe fn drop_resolve_address_stream(handle: i32) {
    state::table().delete::<ResolveAddressStream>(handle);
}

pub unsafe fn resolve_addresses(network: i32, ptr: i32, len: i32, ret: i32) {
    state::table().get::<Network>(network);
    let name = core::slice::from_raw_parts(ptr as *const u8, len as usize);
    // Lookups denied: refused before the name is even read, as natively.
    let stream = match super::denied(super::deny::IP_NAME_LOOKUP) {
        true => Err(code::PERMANENT_RESOLVER_FAILURE),
        false => parse(name),
    };
    let stream = stream.and_then(|host| match host {
        Host::Ip(a) => Ok(ResolveAddressStream {
            addrs: vec![a],
            next: 0,
            error: None,
        }),
        Host::Domain(d) => match lookup(&d) {
            Ok(addrs) => Ok(ResolveAddressStream {
                addrs,
                next: 0,
                error: None,
            }),
            // The standard flavour has no resolver: denied at once, as a
            // host that allows no lookups answers.
            Err(e) if !wamr() => Err(e),
            // Natively the lookup runs in the background; its failure comes
            // from resolve-next-address.
            Err(e) => Ok(ResolveAddressStream {
                addrs: Vec::new(),
                next: 0,
                error: Some(e),
            }),
        },
    });
    let r = stream.map(|s| state::table().push(s, 0));
    put_result(ret, 4, r, |at, h| put(at, 0, h))
}

/// `result<option<ip-address>, error-code>`.
pub unsafe fn resolve_address_stream_resolve_next_address(handle: i32, ret: i32) {
    let s = state::table().get::<ResolveAddressStream>(handle);
    let r = match s.error {
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
