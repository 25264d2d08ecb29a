//! The handle table: one table for every resource type and every `@0.2.N`
//! version. Handles are small nonzero integers (slot index + 1); each slot
//! records what it holds and its parent, so using a dropped handle, a handle
//! of another type, or dropping a parent before its children traps, as the
//! reference host does.

use crate::{trap, trap_at, OrTrap, Text};
use alloc::vec::Vec;

pub use crate::filesystem::{Descriptor, DirectoryEntryStream};
pub use crate::io::{Error, InputStream, OutputStream, Pollable};
pub use crate::sockets::{
    IncomingDatagramStream, Network, OutgoingDatagramStream, ResolveAddressStream, TcpSocket,
    UdpSocket,
};
pub use crate::task::{End, ErrorContext, Subtask, WaitableSet};

/// A preview1 file descriptor.
pub type Fd = u32;

pub enum Entry {
    Free { next_free: u32 },
    InputStream(InputStream),
    OutputStream(OutputStream),
    Pollable(Pollable),
    Error(Error),
    TerminalInput(TerminalInput),
    TerminalOutput(TerminalOutput),
    Descriptor(Descriptor),
    DirectoryEntryStream(DirectoryEntryStream),
    Network(Network),
    TcpSocket(TcpSocket),
    UdpSocket(UdpSocket),
    IncomingDatagramStream(IncomingDatagramStream),
    OutgoingDatagramStream(OutgoingDatagramStream),
    ResolveAddressStream(ResolveAddressStream),
    WaitableSet(WaitableSet),
    Subtask(Subtask),
    End(End),
    ErrorContext(ErrorContext),
}

pub struct TerminalInput;
pub struct TerminalOutput;

struct Slot {
    entry: Entry,
    /// The handle this one depends on (0: none), e.g. a stream's pollable.
    parent: u32,
    /// How many live handles name this one as their parent.
    children: u32,
}

pub struct Table {
    slots: Vec<Slot>,
    /// Head of the free list (a handle), 0 when empty.
    free: u32,
}

/// A resource type stored in the table.
pub trait Resource: Sized {
    fn get(entry: &mut Entry) -> Option<&mut Self>;
    fn wrap(self) -> Entry;
    fn unwrap(entry: Entry) -> Option<Self>;
}

macro_rules! resources {
    ($($ty:ident),*) => {$(
        impl Resource for $ty {
            fn get(entry: &mut Entry) -> Option<&mut Self> {
                match entry {
                    Entry::$ty(v) => Some(v),
                    _ => None,
                }
            }
            fn wrap(self) -> Entry {
                Entry::$ty(self)
            }
            fn unwrap(entry: Entry) -> Option<Self> {
                match entry {
                    Entry::$ty(v) => Some(v),
                    _ => None,
                }
            }
        }
    )*};
}
resources!(
    InputStream,
    OutputStream,
    Pollable,
    Error,
    TerminalInput,
    TerminalOutput,
    Descriptor,
    DirectoryEntryStream,
    Network,
    TcpSocket,
    UdpSocket,
    IncomingDatagramStream,
    OutgoingDatagramStream,
    ResolveAddressStream,
    WaitableSet,
    Subtask,
    End,
    ErrorContext
);

impl Table {
    pub const fn new() -> Table {
        Table {
            slots: Vec::new(),
            free: 0,
        }
    }

    /// Stores `entry` and returns its new handle; `parent` (0: none) must
    /// outlive it.
    pub fn insert(&mut self, entry: Entry, parent: u32) -> i32 {
        if parent != 0 {
            self.slot(parent).children += 1;
        }
        let slot = Slot {
            entry,
            parent,
            children: 0,
        };
        let handle = if self.free != 0 {
            let h = self.free;
            let s = self.slots.get_mut(h as usize - 1).or_trap();
            let Entry::Free { next_free } = s.entry else {
                trap(Text::Internal)
            };
            self.free = next_free;
            *s = slot;
            h
        } else {
            self.slots.push(slot);
            self.slots.len() as u32
        };
        handle as i32
    }

    pub fn push<T: Resource>(&mut self, value: T, parent: u32) -> i32 {
        self.insert(value.wrap(), parent)
    }

    fn slot(&mut self, handle: u32) -> &mut Slot {
        match self.slots.get_mut((handle as usize).wrapping_sub(1)) {
            Some(s) if !matches!(s.entry, Entry::Free { .. }) => s,
            _ => trap_at(Text::UnknownHandle, handle),
        }
    }

    /// The live entry behind `handle`; traps on an unknown or dropped handle.
    pub fn entry(&mut self, handle: i32) -> &mut Entry {
        &mut self.slot(handle as u32).entry
    }

    /// The resource of type `T` behind `handle`; traps on anything else.
    pub fn get<T: Resource>(&mut self, handle: i32) -> &mut T {
        match T::get(self.entry(handle)) {
            Some(v) => v,
            None => trap_at(Text::WrongType, handle as u32),
        }
    }

    /// Removes `handle`, which must hold a `T` and have no live children.
    pub fn delete<T: Resource>(&mut self, handle: i32) -> T {
        self.get::<T>(handle);
        T::unwrap(self.remove(handle)).or_trap()
    }

    /// Whether a live TCP socket holds `fd` (a preopened listener already
    /// adopted).
    pub fn tcp_fd_used(&self, fd: Fd) -> bool {
        self.slots
            .iter()
            .any(|s| matches!(&s.entry, Entry::TcpSocket(t) if t.fd() == Some(fd)))
    }

    /// How many live handles name `handle` as their parent.
    pub fn children(&mut self, handle: u32) -> u32 {
        self.slot(handle).children
    }

    /// The first live entry, by handle, for which `f` says yes.
    pub fn find(&mut self, mut f: impl FnMut(u32, &mut Entry) -> bool) -> Option<u32> {
        (self.slots.iter_mut().enumerate())
            .position(|(i, s)| f(i as u32 + 1, &mut s.entry))
            .map(|i| i as u32 + 1)
    }

    fn remove(&mut self, handle: i32) -> Entry {
        let h = handle as u32;
        let free = self.free;
        let s = self.slot(h);
        if s.children != 0 {
            trap(Text::HasChildren)
        }
        let parent = s.parent;
        let entry = core::mem::replace(&mut s.entry, Entry::Free { next_free: free });
        self.free = h;
        if parent != 0 {
            self.slot(parent).children -= 1;
        }
        entry
    }
}
