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
    // The async canonical ABI (WASI 0.3), with the reference host's wording
    // where it has one; `Deadlock` to `BadContextSlot`, which an output has
    // only with the async built-ins (the tool relies on that range).
    Deadlock = "deadlock detected: event loop cannot make further progress",
    NotWaitableSet = "handle is not a waitable set: index",
    NotWaitable = "handle is not a waitable: index",
    SetNotEmpty = "cannot drop waitable set with waiters",
    SubtaskNotResolved = "cannot drop a subtask which has not yet resolved",
    SubtaskCancelled = "subtask cancelled twice or after it resolved",
    EndBusy = "stream or future end is already busy with a read or write",
    NotCopying = "no read or write in progress to cancel",
    EndDone = "stream or future end used after it was dropped by the other end",
    FutureNotWritten = "cannot drop a future writer before it was written",
    TaskReturnTwice = "task.return called more than once",
    NoTaskReturn = "task exited without calling task.return",
    BadCallbackCode = "unsupported callback code",
    NotCancelled = "task.cancel called by a task that was not cancelled",
    BadContextSlot = "context slot out of range",
    // Settings, given when adapting (`Options`).
    InitialCwd = "",
}
