//! The preview1 errno → `error-code` table of the adapter
//! (`adapter/src/errno.rs`), one test per row: each preview1 errno (named
//! by the `wasi` crate's constants) must map to the `error-code` case named
//! here (looked up by name in `wit/`). Errnos no error-code stands for map
//! to `io`, as a native host does with an OS error it has no code for.

#[path = "../adapter/src/errno.rs"]
mod errno;

use std::path::Path;

/// The name of `error-code` case `index`, from the WIT.
fn code_name(index: u8) -> String {
    let mut resolve = wit_parser::Resolve::default();
    let wit = Path::new(env!("CARGO_MANIFEST_DIR")).join("../wit");
    resolve.push_dir(&wit).unwrap();
    let ty = resolve
        .types
        .iter()
        .find(|(_, t)| {
            t.name.as_deref() == Some("error-code")
                && matches!(t.owner, wit_parser::TypeOwner::Interface(i)
                    if resolve.id_of(i).is_some_and(|n| n.starts_with("wasi:filesystem/types")))
        })
        .expect("wasi:filesystem/types.error-code in wit/")
        .1;
    let wit_parser::TypeDefKind::Enum(e) = &ty.kind else {
        panic!("error-code is not an enum")
    };
    e.cases[index as usize].name.clone()
}

fn check(errno: wasi::Errno, want: &str) {
    assert_eq!(
        code_name(errno::error_code(errno.raw())),
        want,
        "preview1 errno {} ({})",
        errno.raw(),
        errno.name()
    );
}

macro_rules! table {
    ($($test:ident: $errno:ident => $code:literal,)*) => {
        $(
            #[test]
            fn $test() {
                check(wasi::$errno, $code)
            }
        )*

        /// Every preview1 errno but success has a row.
        #[test]
        fn every_errno_has_a_row() {
            let rows = [$(wasi::$errno.raw()),*];
            for e in 1..=76u16 {
                assert!(rows.contains(&e), "no row for preview1 errno {e}");
            }
        }
    };
}

table! {
    errno_2big: ERRNO_2BIG => "io",
    errno_acces: ERRNO_ACCES => "access",
    errno_addrinuse: ERRNO_ADDRINUSE => "io",
    errno_addrnotavail: ERRNO_ADDRNOTAVAIL => "io",
    errno_afnosupport: ERRNO_AFNOSUPPORT => "io",
    errno_again: ERRNO_AGAIN => "would-block",
    errno_already: ERRNO_ALREADY => "already",
    errno_badf: ERRNO_BADF => "bad-descriptor",
    errno_badmsg: ERRNO_BADMSG => "io",
    errno_busy: ERRNO_BUSY => "busy",
    errno_canceled: ERRNO_CANCELED => "io",
    errno_child: ERRNO_CHILD => "io",
    errno_connaborted: ERRNO_CONNABORTED => "io",
    errno_connrefused: ERRNO_CONNREFUSED => "io",
    errno_connreset: ERRNO_CONNRESET => "io",
    errno_deadlk: ERRNO_DEADLK => "deadlock",
    errno_destaddrreq: ERRNO_DESTADDRREQ => "io",
    errno_dom: ERRNO_DOM => "io",
    errno_dquot: ERRNO_DQUOT => "quota",
    errno_exist: ERRNO_EXIST => "exist",
    errno_fault: ERRNO_FAULT => "io",
    errno_fbig: ERRNO_FBIG => "file-too-large",
    errno_hostunreach: ERRNO_HOSTUNREACH => "io",
    errno_idrm: ERRNO_IDRM => "io",
    errno_ilseq: ERRNO_ILSEQ => "illegal-byte-sequence",
    errno_inprogress: ERRNO_INPROGRESS => "in-progress",
    errno_intr: ERRNO_INTR => "interrupted",
    errno_inval: ERRNO_INVAL => "invalid",
    errno_io: ERRNO_IO => "io",
    errno_isconn: ERRNO_ISCONN => "io",
    errno_isdir: ERRNO_ISDIR => "is-directory",
    errno_loop: ERRNO_LOOP => "loop",
    errno_mfile: ERRNO_MFILE => "io",
    errno_mlink: ERRNO_MLINK => "too-many-links",
    errno_msgsize: ERRNO_MSGSIZE => "message-size",
    errno_multihop: ERRNO_MULTIHOP => "io",
    errno_nametoolong: ERRNO_NAMETOOLONG => "name-too-long",
    errno_netdown: ERRNO_NETDOWN => "io",
    errno_netreset: ERRNO_NETRESET => "io",
    errno_netunreach: ERRNO_NETUNREACH => "io",
    errno_nfile: ERRNO_NFILE => "io",
    errno_nobufs: ERRNO_NOBUFS => "insufficient-memory",
    errno_nodev: ERRNO_NODEV => "no-device",
    errno_noent: ERRNO_NOENT => "no-entry",
    errno_noexec: ERRNO_NOEXEC => "io",
    errno_nolck: ERRNO_NOLCK => "no-lock",
    errno_nolink: ERRNO_NOLINK => "io",
    errno_nomem: ERRNO_NOMEM => "insufficient-memory",
    errno_nomsg: ERRNO_NOMSG => "io",
    errno_noprotoopt: ERRNO_NOPROTOOPT => "io",
    errno_nospc: ERRNO_NOSPC => "insufficient-space",
    errno_nosys: ERRNO_NOSYS => "unsupported",
    errno_notconn: ERRNO_NOTCONN => "io",
    errno_notdir: ERRNO_NOTDIR => "not-directory",
    errno_notempty: ERRNO_NOTEMPTY => "not-empty",
    errno_notrecoverable: ERRNO_NOTRECOVERABLE => "not-recoverable",
    errno_notsock: ERRNO_NOTSOCK => "io",
    errno_notsup: ERRNO_NOTSUP => "unsupported",
    errno_notty: ERRNO_NOTTY => "no-tty",
    errno_nxio: ERRNO_NXIO => "no-such-device",
    errno_overflow: ERRNO_OVERFLOW => "overflow",
    errno_ownerdead: ERRNO_OWNERDEAD => "io",
    errno_perm: ERRNO_PERM => "not-permitted",
    errno_pipe: ERRNO_PIPE => "pipe",
    errno_proto: ERRNO_PROTO => "io",
    errno_protonosupport: ERRNO_PROTONOSUPPORT => "io",
    errno_prototype: ERRNO_PROTOTYPE => "io",
    errno_range: ERRNO_RANGE => "io",
    errno_rofs: ERRNO_ROFS => "io",
    errno_spipe: ERRNO_SPIPE => "invalid-seek",
    errno_srch: ERRNO_SRCH => "io",
    errno_stale: ERRNO_STALE => "io",
    errno_timedout: ERRNO_TIMEDOUT => "io",
    errno_txtbsy: ERRNO_TXTBSY => "text-file-busy",
    errno_xdev: ERRNO_XDEV => "cross-device",
    errno_notcapable: ERRNO_NOTCAPABLE => "not-permitted",
}
