//! The `standard` flavour: standard preview1 can only accept on, read,
//! write and shut down a socket the host preopened. So a TCP bind succeeds
//! only by adopting such a listener, and whatever else needs the network
//! fails as on the reference host when no address is granted
//! (`-Sinherit-network=n` with TCP and UDP allowed): binds and connects are
//! `access-denied`, name lookups other than IP literals and `localhost` a
//! `permanent-resolver-failure`.

use super::{code, Addr, Result};
use crate::state;
use crate::table::Fd;
use alloc::vec;
use alloc::vec::Vec;

/// The next preopened stream socket no TCP socket has adopted yet (fds from
/// 3 up, past the preopened directories). Found by `fd_fdstat_get`, never by
/// trying `sock_accept` on a non-socket (that crashes Node).
pub fn preopened_listener() -> Option<Fd> {
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

/// A lookup of the (valid, lowercase) domain `name`: there is no resolver,
/// but `localhost` is loopback by definition (RFC 6761).
pub fn resolve(name: &[u8]) -> Result<Vec<Addr>> {
    match is_localhost(name) {
        true => Ok(vec![
            Addr::v4([127, 0, 0, 1]),
            Addr::v6([0, 0, 0, 0, 0, 0, 0, 1]),
        ]),
        false => Err(code::PERMANENT_RESOLVER_FAILURE),
    }
}

/// `name` is "localhost" (compared as integers: a string constant would be
/// a data segment).
fn is_localhost(name: &[u8]) -> bool {
    match name.split_first_chunk::<8>() {
        Some((head, [b't'])) => u64::from_le_bytes(*head) == u64::from_le_bytes(*b"localhos"),
        _ => false,
    }
}
