//! The texts the adapter prints (trap messages) or returns (settings made
//! when adapting, such as the initial working directory). The adapter keeps
//! no strings in memory (no data segments): it names a text by its number
//! and calls `__linker__.text(number, buffer)`, which the linker writes into
//! each output from this list, with only the texts that output needs.
//! Numbers from `TEXTS.len()` on name the adapter's WASI functions, in WIT
//! order. An empty text is one the output does not have.
//!
//! Included by the adapter (which uses only `Text`) and by the tool (which
//! writes `TEXTS` into the output). The wording is the reference host's
//! (wasmtime) where it has one.

macro_rules! texts {
    ($($name:ident = $text:literal,)*) => {
        #[allow(dead_code)]
        #[derive(Clone, Copy)]
        #[repr(u32)]
        pub enum Text {
            $($name,)*
        }
        #[allow(dead_code)]
        pub const TEXTS: &[&str] = &[$($text,)*];
    };
}

texts! {
    Prefix = "wasi-downlevel: trap: ",
    In = " (in ",
    End = ")",
    Newline = "\n",
    UnknownHandle = "unknown handle index",
    WrongType = "handle used with the wrong type: index",
    HasChildren = "resource has children",
    EmptyPollList = "empty poll list",
    ExceedsPermit = "unpermitted: argument exceeds permitted size",
    OutOfMemory = "out of memory",
    Unimplemented = "not implemented by wasi-downlevel",
    NoRandom = "the host's random_get failed",
    ExitReturned = "proc_exit returned",
    Internal = "internal error in the adapter",
    // Settings, given when adapting (`Options`).
    InitialCwd = "",
}
