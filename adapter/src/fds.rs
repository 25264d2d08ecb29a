//! Fds shared by several handles: a file opened by `open-at` is used by its
//! descriptor and the streams made from it, and closed when the last of
//! those goes (a native host lets a program drop the descriptor before its
//! streams). Preopens are not counted: they stay open, as `get-directories`
//! may hand them out again.

use crate::table::Fd;
use crate::{state, OrTrap};

/// A new fd, with its first user.
pub fn opened(fd: Fd) {
    state::fd_users().push((fd, 1));
}

/// One more user of `fd`.
pub fn retain(fd: Fd) {
    if let Some(u) = state::fd_users().iter_mut().find(|u| u.0 == fd) {
        u.1 += 1;
    }
}

/// One user fewer: the last one closes the fd.
pub fn release(fd: Fd) {
    let users = state::fd_users();
    if let Some(i) = users.iter().position(|u| u.0 == fd) {
        let u = users.get_mut(i).or_trap();
        u.1 -= 1;
        if u.1 == 0 {
            users.swap_remove(i);
            let _ = unsafe { wasi::fd_close(fd) };
        }
    }
}
