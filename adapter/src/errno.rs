//! Preview1 errno → `wasi:filesystem/types.error-code`.
//!
//! Plain integers on both sides (no dependencies), so the tool's tests can
//! include this file and check every row against the WIT and the preview1
//! names (`tests/errno.rs`). Errnos no error-code stands for (network and
//! process errors) become `io`, as a native host reports an OS error it has
//! no code for. (`read-only` has no errno: see `rofs` below.)

/// `error-code` cases, in WIT order (all listed, some unused).
#[allow(dead_code)]
pub mod code {
    pub const ACCESS: u8 = 0;
    pub const WOULD_BLOCK: u8 = 1;
    pub const ALREADY: u8 = 2;
    pub const BAD_DESCRIPTOR: u8 = 3;
    pub const BUSY: u8 = 4;
    pub const DEADLOCK: u8 = 5;
    pub const QUOTA: u8 = 6;
    pub const EXIST: u8 = 7;
    pub const FILE_TOO_LARGE: u8 = 8;
    pub const ILLEGAL_BYTE_SEQUENCE: u8 = 9;
    pub const IN_PROGRESS: u8 = 10;
    pub const INTERRUPTED: u8 = 11;
    pub const INVALID: u8 = 12;
    pub const IO: u8 = 13;
    pub const IS_DIRECTORY: u8 = 14;
    pub const LOOP: u8 = 15;
    pub const TOO_MANY_LINKS: u8 = 16;
    pub const MESSAGE_SIZE: u8 = 17;
    pub const NAME_TOO_LONG: u8 = 18;
    pub const NO_DEVICE: u8 = 19;
    pub const NO_ENTRY: u8 = 20;
    pub const NO_LOCK: u8 = 21;
    pub const INSUFFICIENT_MEMORY: u8 = 22;
    pub const INSUFFICIENT_SPACE: u8 = 23;
    pub const NOT_DIRECTORY: u8 = 24;
    pub const NOT_EMPTY: u8 = 25;
    pub const NOT_RECOVERABLE: u8 = 26;
    pub const UNSUPPORTED: u8 = 27;
    pub const NO_TTY: u8 = 28;
    pub const NO_SUCH_DEVICE: u8 = 29;
    pub const OVERFLOW: u8 = 30;
    pub const NOT_PERMITTED: u8 = 31;
    pub const PIPE: u8 = 32;
    pub const READ_ONLY: u8 = 33;
    pub const INVALID_SEEK: u8 = 34;
    pub const TEXT_FILE_BUSY: u8 = 35;
    pub const CROSS_DEVICE: u8 = 36;
}

/// The `error-code` for preview1 errno `errno` (numbered as in
/// `wasi_snapshot_preview1`).
pub const fn error_code(errno: u16) -> u8 {
    use code::*;
    match errno {
        2 => ACCESS,                    // acces
        6 => WOULD_BLOCK,               // again
        7 => ALREADY,                   // already
        8 => BAD_DESCRIPTOR,            // badf
        10 => BUSY,                     // busy
        16 => DEADLOCK,                 // deadlk
        19 => QUOTA,                    // dquot
        20 => EXIST,                    // exist
        22 => FILE_TOO_LARGE,           // fbig
        25 => ILLEGAL_BYTE_SEQUENCE,    // ilseq
        26 => IN_PROGRESS,              // inprogress
        27 => INTERRUPTED,              // intr
        28 => INVALID,                  // inval
        31 => IS_DIRECTORY,             // isdir
        32 => LOOP,                     // loop
        34 => TOO_MANY_LINKS,           // mlink
        35 => MESSAGE_SIZE,             // msgsize
        37 => NAME_TOO_LONG,            // nametoolong
        43 => NO_DEVICE,                // nodev
        44 => NO_ENTRY,                 // noent
        46 => NO_LOCK,                  // nolck
        42 | 48 => INSUFFICIENT_MEMORY, // nobufs, nomem
        51 => INSUFFICIENT_SPACE,       // nospc
        54 => NOT_DIRECTORY,            // notdir
        55 => NOT_EMPTY,                // notempty
        56 => NOT_RECOVERABLE,          // notrecoverable
        52 | 58 => UNSUPPORTED,         // nosys, notsup
        59 => NO_TTY,                   // notty
        60 => NO_SUCH_DEVICE,           // nxio
        61 => OVERFLOW,                 // overflow
        // notcapable: a path that leaves the preopen, which a native host
        // reports as not-permitted.
        63 | 76 => NOT_PERMITTED, // perm, notcapable
        64 => PIPE,               // pipe
        // rofs: wasmtime, the reference host, reports a read-only
        // filesystem as `io`; so do we, so programs see the same errno.
        70 => INVALID_SEEK,   // spipe
        74 => TEXT_FILE_BUSY, // txtbsy
        75 => CROSS_DEVICE,   // xdev
        _ => IO,
    }
}
