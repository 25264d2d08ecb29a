//! Host faults the embedded engine can inject, for tests of the adapter's
//! (and a program's) handling of what real preview1 hosts do: reads and
//! writes that take less than asked, calls that are interrupted or would
//! block, a full disk. Chosen by `WASI_DOWNLEVEL_FAULTS`, a comma-separated
//! list:
//!
//! - `short`: each read, write, receive or send moves 1 to all of the bytes
//!   of its first buffer only (`short=1`: one byte at a time);
//! - `intr`, `again`: about one call in four says `intr` or `again` first;
//! - `nospc=N`: writes to files (fds from 3) fail with `nospc` once N bytes
//!   have gone to them;
//! - `gone=N`: after N reads and writes of files (fds from 3), the fd of the
//!   next one is closed under the program, as by a host that lost it;
//! - `seed=N`: the choices' seed (default 1).

use wasmi_wasi::wasi_common::snapshots::preview_1::types::{self, Errno};
use wiggle::{GuestMemory, GuestPtr};

pub struct Faults {
    short: Option<u32>,
    intr: bool,
    again: bool,
    nospc: Option<u64>,
    written: u64,
    gone: Option<u64>,
    calls: u64,
    rng: u64,
}

impl Faults {
    /// The faults `WASI_DOWNLEVEL_FAULTS` asks for, if any.
    pub fn from_env() -> anyhow::Result<Option<Faults>> {
        let Ok(spec) = std::env::var("WASI_DOWNLEVEL_FAULTS") else {
            return Ok(None);
        };
        let mut f = Faults {
            short: None,
            intr: false,
            again: false,
            nospc: None,
            written: 0,
            gone: None,
            calls: 0,
            rng: 1,
        };
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (name, value) = match item.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (item, None),
            };
            let num = |v: Option<&str>| -> anyhow::Result<u64> {
                v.and_then(|v| v.parse().ok()).ok_or_else(|| {
                    anyhow::anyhow!("WASI_DOWNLEVEL_FAULTS: `{item}` needs a number")
                })
            };
            match name {
                "short" => f.short = Some(value.map_or(Ok(0), |_| num(value))? as u32),
                "intr" => f.intr = true,
                "again" => f.again = true,
                "nospc" => f.nospc = Some(num(value)?),
                "gone" => f.gone = Some(num(value)?),
                "seed" => f.rng = num(value)?.max(1),
                _ => anyhow::bail!(
                    "WASI_DOWNLEVEL_FAULTS: unknown fault `{item}` (known: short[=N], intr, again, \
                     nospc=N, gone=N, seed=N)"
                ),
            }
        }
        Ok(Some(f))
    }

    fn next(&mut self) -> u64 {
        // xorshift64
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        self.rng
    }

    /// Whether the host loses `fd` now, before this read or write of it.
    pub fn loses(&mut self, fd: types::Fd) -> bool {
        if u32::from(fd) < 3 {
            return false;
        }
        self.calls += 1;
        self.gone.is_some_and(|n| self.calls > n)
    }

    /// The error a call on `fd` gives before it does anything, if any.
    pub fn before(&mut self, fd: types::Fd, file_write: Option<u64>) -> Option<Errno> {
        if let (Some(limit), Some(len)) = (self.nospc, file_write) {
            if u32::from(fd) >= 3 && self.written + len > limit {
                return Some(Errno::Nospc);
            }
        }
        let roll = self.next() % 8;
        match roll {
            0 if self.intr => Some(Errno::Intr),
            1 if self.again => Some(Errno::Again),
            _ => None,
        }
    }

    /// Counts `n` bytes written to `fd`.
    pub fn wrote(&mut self, fd: types::Fd, n: u32) {
        if u32::from(fd) >= 3 {
            self.written += n as u64;
        }
    }

    /// How long the first buffer of a short call may be, of `len`.
    fn shorter(&mut self, len: u32) -> u32 {
        match self.short {
            Some(0) if len > 0 => 1 + (self.next() % len as u64) as u32,
            Some(n) if n > 0 => len.min(n),
            _ => len,
        }
    }
}

/// The buffers of an I/O call as a short call passes them: only the first,
/// shortened in guest memory (`restore` puts it back after the call).
pub struct Shortened<T> {
    pub array: GuestPtr<[T]>,
    saved: Option<(GuestPtr<T>, T)>,
}

macro_rules! shorten {
    ($name:ident, $ty:ty) => {
        pub fn $name(
            faults: &mut Option<Faults>,
            memory: &mut GuestMemory<'_>,
            array: GuestPtr<[$ty]>,
        ) -> Result<Shortened<$ty>, wiggle::GuestError> {
            let Some(f) = faults
                .as_mut()
                .filter(|f| f.short.is_some() && array.len() > 0)
            else {
                return Ok(Shortened { array, saved: None });
            };
            let first = array.as_ptr();
            let was: $ty = memory.read(first)?;
            let len = f.shorter(was.buf_len);
            let mut short = was.clone();
            short.buf_len = len;
            memory.write(first, short)?;
            Ok(Shortened {
                array: array.get_range(0..1).expect("a first buffer"),
                saved: Some((first, was)),
            })
        }
    };
}

shorten!(shorten_iovecs, types::Iovec);
shorten!(shorten_ciovecs, types::Ciovec);

impl<T: wiggle::GuestType> Shortened<T> {
    pub fn restore(self, memory: &mut GuestMemory<'_>) {
        if let Some((at, was)) = self.saved {
            let _ = memory.write(at, was);
        }
    }
}
