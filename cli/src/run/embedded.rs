//! The embedded engine: wasmi with wasi-common's preview1, put right where
//! it differs from what a preview1 host must do.
//!
//! wasi-common is a sound preview1 implementation, but it traps (or aborts
//! the process) on host conditions preview1 has an errno for. Rather than
//! write a WASI layer of our own, `Host` wraps its context and every
//! directory and file it opens, and fixes exactly those cases:
//!
//! - an OS error wasi-common has no errno for (`EROFS`, `ENOTTY`, ...) is a
//!   trap there ("Unknown OS error"); here it is that errno;
//! - a time before 1970 in a file's status aborts the process there (an
//!   `unwrap` in a conversion that cannot unwind); here it reads as 0, as
//!   the forward adapter reports a time 0.2 cannot represent;
//! - `fd_prestat_dir_name` on an fd that is not open is `badf`, as every
//!   other preview1 host says (wasi-common: `notdir`);
//! - `proc_exit` accepts any status, as a native host does (wasi-common
//!   traps on 126 and above).
//!
//! The alternative, a preview1 layer of our own, would be a second WASI
//! implementation to keep right; wasmtime's would bring its compiler (build
//! time, and a binary ten times the size). Fixing around wasi-common keeps
//! the engine small and its behaviour the reference preview1's.

use super::faults::{self, Faults};
use super::Options;
use anyhow::{Context, Result};
use std::any::Any;
use std::io::{IoSlice, IoSliceMut, SeekFrom};
use std::path::PathBuf;
use std::time::SystemTime;
use wasmi_wasi::wasi_common::dir::{OpenResult, ReaddirCursor, ReaddirEntity};
use wasmi_wasi::wasi_common::file::{
    Advice, FdFlags, FileType, Filestat, OFlags, RiFlags, RoFlags, SdFlags, SiFlags,
};
use wasmi_wasi::wasi_common::snapshots::preview_1::types::{self, Errno};
use wasmi_wasi::wasi_common::snapshots::preview_1::wasi_snapshot_preview1::WasiSnapshotPreview1;
use wasmi_wasi::wasi_common::{Error, I32Exit, SystemTimeSpec, WasiCtx, WasiDir, WasiFile};
use wiggle::{GuestMemory, GuestPtr};

pub fn run(wasm: &[u8], opts: &Options) -> Result<i32> {
    use wasmi::{Engine, Linker, Module, Store};
    use wasmi_wasi::{ambient_authority, Dir, WasiCtxBuilder};

    let engine = Engine::default();
    let module = Module::new(&engine, wasm).context("the embedded engine rejected the module")?;
    let mut builder = WasiCtxBuilder::new();
    builder.inherit_stdio();
    if stdin_is_device() {
        // wasi-common traps when polling a non-terminal device (/dev/null):
        // hand it over as a plain stream, which the adapter treats as ready.
        builder.stdin(Box::new(wasmi_wasi::wasi_common::pipe::ReadPipe::new(
            std::io::stdin(),
        )));
    }
    let mut argv = vec![opts.argv0.clone()];
    argv.extend(opts.args.iter().cloned());
    builder.args(&argv).context("bad argument")?;
    builder
        .envs(&opts.env_pairs())
        .context("bad environment variable")?;
    // Listeners take the fds after the preopened directories, in order.
    for (i, addr) in opts.tcplisten.iter().enumerate() {
        let listener = std::net::TcpListener::bind(addr)
            .with_context(|| format!("cannot listen on {addr}"))?;
        let fd = 3 + opts.dirs.len() as u32 + i as u32;
        let listener = wasmi_wasi::wasi_common::sync::TcpListener::from_std(listener);
        builder
            .preopened_socket(fd, listener)
            .with_context(|| format!("cannot preopen the listener on {addr}"))?;
    }
    let wasi = builder.build();
    // The directories take fds 3 on (the listeners were placed after them).
    for (host, guest) in &opts.dirs {
        let dir = Dir::open_ambient_dir(host, ambient_authority())
            .with_context(|| format!("cannot open directory {}", host.display()))?;
        let dir = wasmi_wasi::wasi_common::sync::dir::Dir::from_cap_std(dir);
        wasi.push_preopened_dir(Box::new(FixedDir(Box::new(dir))), guest)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
    }
    let faults = Faults::from_env()?;
    let calls = std::env::var_os("WASI_DOWNLEVEL_CALLS").map(|path| Calls {
        path: path.into(),
        counts: Default::default(),
    });
    let mut store = Store::new(
        &engine,
        Host {
            wasi,
            faults,
            calls,
        },
    );
    let mut linker = <Linker<Host>>::new(&engine);
    wasmi_wasi::add_to_linker(&mut linker, |host: &mut Host| host)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let instance = linker
        .instantiate_and_start(&mut store, &module)
        .context("instantiating the module on the embedded engine")?;
    let start = instance
        .get_typed_func::<(), ()>(&store, "_start")
        .context("the module has no `_start` export")?;
    let ended = start.call(&mut store, ());
    if let Some(calls) = &store.data().calls {
        calls.write()?;
    }
    match ended {
        Ok(()) => Ok(0),
        Err(e) => match e.i32_exit_status() {
            Some(status) => Ok(status),
            None => {
                eprintln!("error: the program trapped: {e}");
                Ok(134)
            }
        },
    }
}

/// Whether stdin is a character device other than a terminal.
fn stdin_is_device() -> bool {
    use std::io::IsTerminal;
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let meta = std::fs::metadata("/dev/stdin");
        !std::io::stdin().is_terminal() && meta.is_ok_and(|m| m.file_type().is_char_device())
    }
    #[cfg(not(unix))]
    false
}

/// The preview1 host: wasi-common's, with the fixes in the module docs,
/// the faults a test asked for (`faults.rs`), and the calls counted if
/// asked (`WASI_DOWNLEVEL_CALLS=FILE`).
struct Host {
    wasi: WasiCtx,
    faults: Option<Faults>,
    calls: Option<Calls>,
}

/// How many times the program called each preview1 function, written to
/// `path` at the end as `NAME COUNT` lines: for tests that compare a
/// program's calls adapted and as a preview1 build.
struct Calls {
    path: PathBuf,
    counts: std::collections::BTreeMap<&'static str, u64>,
}

impl Calls {
    fn write(&self) -> Result<()> {
        let text: String = self
            .counts
            .iter()
            .map(|(name, n)| format!("{name} {n}\n"))
            .collect();
        std::fs::write(&self.path, text)
            .with_context(|| format!("cannot write the call counts to {}", self.path.display()))
    }
}

impl Host {
    fn count(&mut self, name: &'static str) {
        if let Some(c) = &mut self.calls {
            *c.counts.entry(name).or_default() += 1;
        }
    }
}

/// An error as a preview1 host must give it: wasi-common's errno, or for
/// what it calls a trap but is an OS error, that error's errno.
fn errno(e: Error) -> Error {
    match e.downcast() {
        Ok(errno) => errno.into(),
        Err(e) => match e.chain().find_map(|c| c.downcast_ref::<std::io::Error>()) {
            Some(io) => os_errno(io).into(),
            None => Error::trap(e),
        },
    }
}

/// The errno for an OS error wasi-common does not map (it maps the common
/// ones itself).
fn os_errno(e: &std::io::Error) -> Errno {
    #[cfg(unix)]
    if let Some(code) = e.raw_os_error() {
        use rustix::io::Errno as E;
        return match E::from_raw_os_error(code) {
            E::ROFS => Errno::Rofs,
            E::NOTTY => Errno::Notty,
            E::NXIO => Errno::Nxio,
            E::NODEV => Errno::Nodev,
            E::XDEV => Errno::Xdev,
            E::TXTBSY => Errno::Txtbsy,
            E::NOLCK => Errno::Nolck,
            E::NOSYS => Errno::Nosys,
            E::DEADLK => Errno::Deadlk,
            E::SRCH => Errno::Srch,
            E::CHILD => Errno::Child,
            E::NOEXEC => Errno::Noexec,
            E::DOM => Errno::Dom,
            E::RANGE => Errno::Range,
            E::NOMSG => Errno::Nomsg,
            E::IDRM => Errno::Idrm,
            E::NOLINK => Errno::Nolink,
            E::PROTO => Errno::Proto,
            E::MULTIHOP => Errno::Multihop,
            E::BADMSG => Errno::Badmsg,
            E::NOTRECOVERABLE => Errno::Notrecoverable,
            E::OWNERDEAD => Errno::Ownerdead,
            E::NOTCONN => Errno::Notconn,
            E::STALE => Errno::Stale,
            E::DQUOT => Errno::Dquot,
            _ => Errno::Io,
        };
    }
    match e.kind() {
        std::io::ErrorKind::Unsupported => Errno::Notsup,
        _ => Errno::Io,
    }
}

/// A time as preview1 nanoseconds: before 1970 (which a `u64` cannot say)
/// reads as 0.
fn clamp(t: Option<SystemTime>) -> Option<SystemTime> {
    t.filter(|t| *t >= SystemTime::UNIX_EPOCH)
}

fn clamped(mut s: Filestat) -> Filestat {
    s.atim = clamp(s.atim);
    s.mtim = clamp(s.mtim);
    s.ctim = clamp(s.ctim);
    s
}

/// One read or write (`read`/`write` ARRAY) with the faults asked for: an
/// error first, or only the first buffer, shortened; a write to a file
/// counted towards `nospc`; or the fd closed under it (`gone`).
macro_rules! faulty {
    (@gone $self:ident, $memory:ident, $fd:ident) => {
        if $self.faults.as_mut().is_some_and(|f| f.loses($fd)) {
            let _ = $self.wasi.fd_close($memory, $fd).await;
            return Err(Errno::Badf.into());
        }
    };
    ($self:ident, $memory:ident, $fd:ident, read $array:ident, |$a:ident| $call:expr) => {{
        faulty!(@gone $self, $memory, $fd);
        if let Some(e) = $self.faults.as_mut().and_then(|f| f.before($fd, None)) {
            return Err(e.into());
        }
        let short = faults::shorten_iovecs(&mut $self.faults, $memory, $array)?;
        let $a = short.array;
        let r = $call.await.map_err(errno);
        short.restore($memory);
        r
    }};
    ($self:ident, $memory:ident, $fd:ident, write $array:ident, |$a:ident| $call:expr) => {{
        faulty!(@gone $self, $memory, $fd);
        let short = faults::shorten_ciovecs(&mut $self.faults, $memory, $array)?;
        let mut len = 0u64;
        for c in short.array.iter() {
            len += $memory.read(c?)?.buf_len as u64;
        }
        if let Some(e) = $self.faults.as_mut().and_then(|f| f.before($fd, Some(len))) {
            short.restore($memory);
            return Err(e.into());
        }
        let $a = short.array;
        let r = $call.await.map_err(errno);
        short.restore($memory);
        if let (Ok(n), Some(f)) = (&r, $self.faults.as_mut()) {
            f.wrote($fd, *n);
        }
        r
    }};
}

/// Implements `WasiSnapshotPreview1` for `Host`: the functions listed
/// forward to wasi-common with `errno` applied; the block after them holds
/// the ones `Host` does itself.
macro_rules! host {
    ($(fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)* { $($own:tt)* }) => {
        #[wiggle::async_trait]
        impl WasiSnapshotPreview1 for Host {
            $(
                async fn $name(
                    &mut self,
                    memory: &mut GuestMemory<'_>,
                    $($arg: $ty),*
                ) -> Result<$ret, Error> {
                    self.count(stringify!($name));
                    self.wasi.$name(memory, $($arg),*).await.map_err(errno)
                }
            )*
            $($own)*
        }
    };
}

host! {
    fn args_get(argv: GuestPtr<GuestPtr<u8>>, argv_buf: GuestPtr<u8>) -> ();
    fn args_sizes_get() -> (types::Size, types::Size);
    fn environ_get(environ: GuestPtr<GuestPtr<u8>>, environ_buf: GuestPtr<u8>) -> ();
    fn environ_sizes_get() -> (types::Size, types::Size);
    fn clock_res_get(id: types::Clockid) -> types::Timestamp;
    fn clock_time_get(id: types::Clockid, precision: types::Timestamp) -> types::Timestamp;
    fn fd_advise(fd: types::Fd, offset: types::Filesize, len: types::Filesize, advice: types::Advice) -> ();
    fn fd_allocate(fd: types::Fd, offset: types::Filesize, len: types::Filesize) -> ();
    fn fd_close(fd: types::Fd) -> ();
    fn fd_datasync(fd: types::Fd) -> ();
    fn fd_fdstat_get(fd: types::Fd) -> types::Fdstat;
    fn fd_fdstat_set_flags(fd: types::Fd, flags: types::Fdflags) -> ();
    fn fd_fdstat_set_rights(fd: types::Fd, base: types::Rights, inheriting: types::Rights) -> ();
    fn fd_filestat_get(fd: types::Fd) -> types::Filestat;
    fn fd_filestat_set_size(fd: types::Fd, size: types::Filesize) -> ();
    fn fd_filestat_set_times(fd: types::Fd, atim: types::Timestamp, mtim: types::Timestamp, fst_flags: types::Fstflags) -> ();
    fn fd_prestat_get(fd: types::Fd) -> types::Prestat;
    fn fd_renumber(from: types::Fd, to: types::Fd) -> ();
    fn fd_seek(fd: types::Fd, offset: types::Filedelta, whence: types::Whence) -> types::Filesize;
    fn fd_sync(fd: types::Fd) -> ();
    fn fd_tell(fd: types::Fd) -> types::Filesize;
    fn fd_readdir(fd: types::Fd, buf: GuestPtr<u8>, buf_len: types::Size, cookie: types::Dircookie) -> types::Size;
    fn path_create_directory(dirfd: types::Fd, path: GuestPtr<str>) -> ();
    fn path_filestat_get(dirfd: types::Fd, flags: types::Lookupflags, path: GuestPtr<str>) -> types::Filestat;
    fn path_filestat_set_times(dirfd: types::Fd, flags: types::Lookupflags, path: GuestPtr<str>, atim: types::Timestamp, mtim: types::Timestamp, fst_flags: types::Fstflags) -> ();
    fn path_link(src_fd: types::Fd, src_flags: types::Lookupflags, src_path: GuestPtr<str>, target_fd: types::Fd, target_path: GuestPtr<str>) -> ();
    fn path_open(dirfd: types::Fd, dirflags: types::Lookupflags, path: GuestPtr<str>, oflags: types::Oflags, base: types::Rights, inheriting: types::Rights, fdflags: types::Fdflags) -> types::Fd;
    fn path_readlink(dirfd: types::Fd, path: GuestPtr<str>, buf: GuestPtr<u8>, buf_len: types::Size) -> types::Size;
    fn path_remove_directory(dirfd: types::Fd, path: GuestPtr<str>) -> ();
    fn path_rename(src_fd: types::Fd, src_path: GuestPtr<str>, dest_fd: types::Fd, dest_path: GuestPtr<str>) -> ();
    fn path_symlink(src_path: GuestPtr<str>, dirfd: types::Fd, dest_path: GuestPtr<str>) -> ();
    fn path_unlink_file(dirfd: types::Fd, path: GuestPtr<str>) -> ();
    fn poll_oneoff(subs: GuestPtr<types::Subscription>, events: GuestPtr<types::Event>, nsubscriptions: types::Size) -> types::Size;
    fn proc_raise(sig: types::Signal) -> ();
    fn sched_yield() -> ();
    fn random_get(buf: GuestPtr<u8>, buf_len: types::Size) -> ();
    fn sock_accept(fd: types::Fd, flags: types::Fdflags) -> types::Fd;
    fn sock_shutdown(fd: types::Fd, how: types::Sdflags) -> ();
    {
        // Reads and writes, through the faults a test asked for.
        async fn fd_read(&mut self, memory: &mut GuestMemory<'_>, fd: types::Fd, iovs: types::IovecArray) -> Result<types::Size, Error> {
            self.count("fd_read");
            faulty!(self, memory, fd, read iovs, |a| self.wasi.fd_read(memory, fd, a))
        }
        async fn fd_pread(&mut self, memory: &mut GuestMemory<'_>, fd: types::Fd, iovs: types::IovecArray, offset: types::Filesize) -> Result<types::Size, Error> {
            self.count("fd_pread");
            faulty!(self, memory, fd, read iovs, |a| self.wasi.fd_pread(memory, fd, a, offset))
        }
        async fn sock_recv(&mut self, memory: &mut GuestMemory<'_>, fd: types::Fd, ri_data: types::IovecArray, ri_flags: types::Riflags) -> Result<(types::Size, types::Roflags), Error> {
            self.count("sock_recv");
            faulty!(self, memory, fd, read ri_data, |a| self.wasi.sock_recv(memory, fd, a, ri_flags))
        }
        async fn fd_write(&mut self, memory: &mut GuestMemory<'_>, fd: types::Fd, ciovs: types::CiovecArray) -> Result<types::Size, Error> {
            self.count("fd_write");
            faulty!(self, memory, fd, write ciovs, |a| self.wasi.fd_write(memory, fd, a))
        }
        async fn fd_pwrite(&mut self, memory: &mut GuestMemory<'_>, fd: types::Fd, ciovs: types::CiovecArray, offset: types::Filesize) -> Result<types::Size, Error> {
            self.count("fd_pwrite");
            faulty!(self, memory, fd, write ciovs, |a| self.wasi.fd_pwrite(memory, fd, a, offset))
        }
        async fn sock_send(&mut self, memory: &mut GuestMemory<'_>, fd: types::Fd, si_data: types::CiovecArray, si_flags: types::Siflags) -> Result<types::Size, Error> {
            self.count("sock_send");
            faulty!(self, memory, fd, write si_data, |a| self.wasi.sock_send(memory, fd, a, si_flags))
        }

        async fn fd_prestat_dir_name(
            &mut self,
            memory: &mut GuestMemory<'_>,
            fd: types::Fd,
            path: GuestPtr<u8>,
            path_max_len: types::Size,
        ) -> Result<(), Error> {
            self.count("fd_prestat_dir_name");
            if !self.wasi.table().contains_key(u32::from(fd)) {
                return Err(Errno::Badf.into());
            }
            self.wasi
                .fd_prestat_dir_name(memory, fd, path, path_max_len)
                .await
                .map_err(errno)
        }

        async fn proc_exit(
            &mut self,
            _memory: &mut GuestMemory<'_>,
            status: types::Exitcode,
        ) -> anyhow::Error {
            self.count("proc_exit");
            I32Exit(status as i32).into()
        }
    }
}

/// A directory whose files and subdirectories are fixed too, and whose
/// status never holds a time before 1970.
struct FixedDir(Box<dyn WasiDir>);

/// A file whose status never holds a time before 1970.
struct FixedFile(Box<dyn WasiFile>);

impl FixedDir {
    /// The wasi-common directory behind `dir`, which wasi-common needs to
    /// see for renames and links between directories.
    fn inner(dir: &dyn WasiDir) -> &dyn WasiDir {
        match dir.as_any().downcast_ref::<FixedDir>() {
            Some(d) => &*d.0,
            None => dir,
        }
    }
}

#[wiggle::async_trait]
impl WasiDir for FixedDir {
    fn as_any(&self) -> &dyn Any {
        self
    }

    async fn open_file(
        &self,
        symlink_follow: bool,
        path: &str,
        oflags: OFlags,
        read: bool,
        write: bool,
        fdflags: FdFlags,
    ) -> Result<OpenResult, Error> {
        Ok(
            match self
                .0
                .open_file(symlink_follow, path, oflags, read, write, fdflags)
                .await?
            {
                OpenResult::File(f) => OpenResult::File(Box::new(FixedFile(f))),
                OpenResult::Dir(d) => OpenResult::Dir(Box::new(FixedDir(d))),
            },
        )
    }

    async fn create_dir(&self, path: &str) -> Result<(), Error> {
        self.0.create_dir(path).await
    }

    async fn readdir(
        &self,
        cursor: ReaddirCursor,
    ) -> Result<Box<dyn Iterator<Item = Result<ReaddirEntity, Error>> + Send>, Error> {
        self.0.readdir(cursor).await
    }

    async fn symlink(&self, old_path: &str, new_path: &str) -> Result<(), Error> {
        self.0.symlink(old_path, new_path).await
    }

    async fn remove_dir(&self, path: &str) -> Result<(), Error> {
        self.0.remove_dir(path).await
    }

    async fn unlink_file(&self, path: &str) -> Result<(), Error> {
        self.0.unlink_file(path).await
    }

    async fn read_link(&self, path: &str) -> Result<PathBuf, Error> {
        self.0.read_link(path).await
    }

    async fn get_filestat(&self) -> Result<Filestat, Error> {
        self.0.get_filestat().await.map(clamped)
    }

    async fn get_path_filestat(&self, path: &str, follow: bool) -> Result<Filestat, Error> {
        self.0.get_path_filestat(path, follow).await.map(clamped)
    }

    async fn rename(&self, path: &str, dest_dir: &dyn WasiDir, dest: &str) -> Result<(), Error> {
        self.0.rename(path, FixedDir::inner(dest_dir), dest).await
    }

    async fn hard_link(&self, path: &str, dir: &dyn WasiDir, target: &str) -> Result<(), Error> {
        self.0.hard_link(path, FixedDir::inner(dir), target).await
    }

    async fn set_times(
        &self,
        path: &str,
        atime: Option<SystemTimeSpec>,
        mtime: Option<SystemTimeSpec>,
        follow: bool,
    ) -> Result<(), Error> {
        self.0.set_times(path, atime, mtime, follow).await
    }
}

#[wiggle::async_trait]
impl WasiFile for FixedFile {
    fn as_any(&self) -> &dyn Any {
        self
    }
    async fn get_filetype(&self) -> Result<FileType, Error> {
        self.0.get_filetype().await
    }
    #[cfg(unix)]
    fn pollable(&self) -> Option<rustix::fd::BorrowedFd<'_>> {
        self.0.pollable()
    }
    fn isatty(&self) -> bool {
        self.0.isatty()
    }
    async fn sock_accept(&self, fdflags: FdFlags) -> Result<Box<dyn WasiFile>, Error> {
        self.0.sock_accept(fdflags).await
    }
    async fn sock_recv<'a>(
        &self,
        data: &mut [IoSliceMut<'a>],
        flags: RiFlags,
    ) -> Result<(u64, RoFlags), Error> {
        self.0.sock_recv(data, flags).await
    }
    async fn sock_send<'a>(&self, data: &[IoSlice<'a>], flags: SiFlags) -> Result<u64, Error> {
        self.0.sock_send(data, flags).await
    }
    async fn sock_shutdown(&self, how: SdFlags) -> Result<(), Error> {
        self.0.sock_shutdown(how).await
    }
    async fn datasync(&self) -> Result<(), Error> {
        self.0.datasync().await
    }
    async fn sync(&self) -> Result<(), Error> {
        self.0.sync().await
    }
    async fn get_fdflags(&self) -> Result<FdFlags, Error> {
        self.0.get_fdflags().await
    }
    async fn set_fdflags(&mut self, flags: FdFlags) -> Result<(), Error> {
        self.0.set_fdflags(flags).await
    }
    async fn get_filestat(&self) -> Result<Filestat, Error> {
        self.0.get_filestat().await.map(clamped)
    }
    async fn set_filestat_size(&self, size: u64) -> Result<(), Error> {
        self.0.set_filestat_size(size).await
    }
    async fn advise(&self, offset: u64, len: u64, advice: Advice) -> Result<(), Error> {
        self.0.advise(offset, len, advice).await
    }
    async fn set_times(
        &self,
        atime: Option<SystemTimeSpec>,
        mtime: Option<SystemTimeSpec>,
    ) -> Result<(), Error> {
        self.0.set_times(atime, mtime).await
    }
    async fn read_vectored<'a>(&self, bufs: &mut [IoSliceMut<'a>]) -> Result<u64, Error> {
        self.0.read_vectored(bufs).await
    }
    async fn read_vectored_at<'a>(
        &self,
        bufs: &mut [IoSliceMut<'a>],
        offset: u64,
    ) -> Result<u64, Error> {
        self.0.read_vectored_at(bufs, offset).await
    }
    async fn write_vectored<'a>(&self, bufs: &[IoSlice<'a>]) -> Result<u64, Error> {
        self.0.write_vectored(bufs).await
    }
    async fn write_vectored_at<'a>(&self, bufs: &[IoSlice<'a>], offset: u64) -> Result<u64, Error> {
        self.0.write_vectored_at(bufs, offset).await
    }
    async fn seek(&self, pos: SeekFrom) -> Result<u64, Error> {
        self.0.seek(pos).await
    }
    async fn peek(&self, buf: &mut [u8]) -> Result<u64, Error> {
        self.0.peek(buf).await
    }
    fn num_ready_bytes(&self) -> Result<u64, Error> {
        self.0.num_ready_bytes()
    }
    async fn readable(&self) -> Result<(), Error> {
        self.0.readable().await
    }
    async fn writable(&self) -> Result<(), Error> {
        self.0.writable().await
    }
}
