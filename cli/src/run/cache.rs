//! Adapted modules kept in the user's cache directory, so a second `run` of
//! a program starts without adapting it again, and runtimes that take a
//! file get one that no run leaves behind.
//!
//! The directory is `$WASI_DOWNLEVEL_CACHE` (`off` turns caching off), else
//! `$XDG_CACHE_HOME/wasi-downlevel`, else `~/.cache/wasi-downlevel`. Entries
//! are named by a SHA-256 of what made them (the tool's build, the settings,
//! the input), written to a temporary name and renamed, so concurrent runs
//! never see half a file; the oldest go when there are more than
//! `MAX_ENTRIES`. When the cache cannot be written (no home, a full disk)
//! the run goes on with a private temporary folder, removed when it ends.
//!
//! So that a second run need not read and hash a big input again, the
//! cache also remembers, by the input file's identity (its path, device,
//! inode, size, and modification and change times to the nanosecond: a
//! write changes the change time, and nothing can set it back), the content
//! key it had.

use anyhow::{Context, Result};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// How many adapted modules the cache keeps, at least: entries used in the
/// last `IN_USE` are never removed (a run may be about to start them; once
/// started, a runtime holds its file open).
const MAX_ENTRIES: usize = 64;
const IN_USE: std::time::Duration = std::time::Duration::from_secs(300);

/// A content key: hex SHA-256 of the parts, each length-prefixed.
pub fn key(parts: &[&[u8]]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub struct Cache {
    dir: Option<PathBuf>,
}

impl Default for Cache {
    fn default() -> Cache {
        Cache::new()
    }
}

impl Cache {
    /// The user's cache, or none when it is turned off or has no place.
    pub fn new() -> Cache {
        let dir = match std::env::var_os("WASI_DOWNLEVEL_CACHE") {
            Some(d) if d == "off" => None,
            Some(d) => Some(PathBuf::from(d)),
            None => std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
                .map(|d| d.join("wasi-downlevel")),
        };
        Cache {
            dir: dir.map(|d| d.join("adapted")),
        }
    }

    fn entry(&self, key: &str) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.join(key))
    }

    fn identities(&self) -> Option<PathBuf> {
        self.dir.as_ref().map(|d| d.with_file_name("by-identity"))
    }

    /// The content key remembered for file `identity` (see [`identity`]).
    pub fn known(&self, identity: &str) -> Option<String> {
        let key = std::fs::read_to_string(self.identities()?.join(identity)).ok()?;
        let key = key.trim();
        (key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit())).then(|| key.to_string())
    }

    /// Remembers that file `identity` has content key `key`.
    pub fn remember(&self, identity: &str, key: &str) {
        if let Some(dir) = self.identities() {
            if write_atomically(&dir.join(identity), key.as_bytes()).is_ok() {
                evict(&dir, 16 * MAX_ENTRIES);
            }
        }
    }

    /// The module cached under `key`, if any (and marks it used).
    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let dir = self.entry(key)?;
        let bytes = std::fs::read(dir.join("module.wasm")).ok()?;
        used(&dir);
        Some(bytes)
    }

    /// The sections of the module cached under `key` up to its imports,
    /// when its file named `name` is there for a runtime to run (see
    /// [`Cache::file`]).
    pub fn head(&self, key: &str, name: &std::ffi::OsStr) -> Option<Vec<u8>> {
        use std::io::Read;
        let dir = self.entry(key)?;
        let file =
            std::fs::File::open(dir.join("named").join(Path::new(name).file_name()?)).ok()?;
        let mut r = std::io::BufReader::new(file);
        let mut head = vec![0u8; 8];
        r.read_exact(&mut head).ok()?;
        // Each section: its id, its size (LEB128), its bytes.
        loop {
            let mut id = [0u8];
            if r.read_exact(&mut id).is_err() {
                return Some(head);
            }
            let (mut size, mut shift, mut leb) = (0u64, 0, Vec::new());
            loop {
                let mut b = [0u8];
                r.read_exact(&mut b).ok()?;
                leb.push(b[0]);
                size |= ((b[0] & 0x7f) as u64) << shift;
                shift += 7;
                if b[0] & 0x80 == 0 || shift > 35 {
                    break;
                }
            }
            // Past the imports (id 2; only custom and type sections come
            // before them): enough.
            if id[0] > 2 {
                return Some(head);
            }
            head.extend_from_slice(&id);
            head.extend_from_slice(&leb);
            let start = head.len();
            head.resize(start + size as usize, 0);
            r.read_exact(&mut head[start..]).ok()?;
        }
    }

    /// Keeps `wasm` under `key`; failing that, nothing (the run goes on).
    pub fn put(&self, key: &str, wasm: &[u8]) {
        if let Some(dir) = self.entry(key) {
            if write_atomically(&dir.join("module.wasm"), wasm).is_ok() {
                self.evict();
            }
        }
    }

    /// A file holding `wasm` named `name` (iwasm passes the path it is given
    /// as the program's `args[0]`): in the cache, or in a temporary folder.
    pub fn file(&self, key: &str, name: &std::ffi::OsStr, wasm: &[u8]) -> Result<ModuleFile> {
        if let Some(dir) = self.entry(key) {
            let path = dir.join("named").join(name);
            // Only a new entry may push an old one out (looking costs a stat
            // of every entry, too much for each run).
            let exists = path.is_file();
            if exists || write_atomically(&path, wasm).is_ok() {
                used(&dir);
                if !exists {
                    self.evict();
                }
                return Ok(ModuleFile { path, temp: None });
            }
        }
        let temp = TempDir::new()?;
        let path = temp.0.join(name);
        std::fs::write(&path, wasm).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(ModuleFile {
            path,
            temp: Some(temp),
        })
    }

    fn evict(&self) {
        if let Some(dir) = &self.dir {
            evict(dir, MAX_ENTRIES)
        }
    }
}

/// A key for the file at `path` as it is now, or `None` where it has no
/// such identity; `salt` as in [`key`].
pub fn identity(path: &Path, salt: &[&[u8]]) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::ffi::OsStrExt;
        use std::os::unix::fs::MetadataExt;
        let path = std::fs::canonicalize(path).ok()?;
        let m = std::fs::metadata(&path).ok()?;
        let fields = [
            m.dev(),
            m.ino(),
            m.len(),
            m.mtime() as u64,
            m.mtime_nsec() as u64,
            m.ctime() as u64,
            m.ctime_nsec() as u64,
        ];
        let fields: Vec<u8> = fields.iter().flat_map(|f| f.to_le_bytes()).collect();
        let mut parts = vec![b"identity".as_slice(), path.as_os_str().as_bytes(), &fields];
        parts.extend_from_slice(salt);
        Some(key(&parts))
    }
    #[cfg(not(unix))]
    {
        let _ = (path, salt);
        None
    }
}

/// Removes the least recently used entries of `dir` beyond `max`, but none
/// used in the last `IN_USE`.
fn evict(dir: &Path, max: usize) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<(std::time::SystemTime, PathBuf)> = rd
        .flatten()
        .filter_map(|e| Some((e.metadata().and_then(|m| m.modified()).ok()?, e.path())))
        .collect();
    if entries.len() <= max {
        return;
    }
    entries.sort();
    let now = std::time::SystemTime::now();
    for (when, p) in &entries[..entries.len() - max] {
        if now.duration_since(*when).is_ok_and(|age| age > IN_USE) {
            let _ = std::fs::remove_dir_all(p).or_else(|_| std::fs::remove_file(p));
        }
    }
}

/// Marks an entry used now (its folder's time orders the eviction).
fn used(dir: &Path) {
    let _ = std::fs::File::open(dir).and_then(|f| f.set_modified(std::time::SystemTime::now()));
}

/// Writes `bytes` to `path` through a temporary name in the same folder.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let temp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    let r = std::fs::write(&temp, bytes).and_then(|_| std::fs::rename(&temp, path));
    if r.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    r
}

/// A module's file, in the cache or in a temporary folder removed with it.
pub struct ModuleFile {
    pub path: PathBuf,
    #[allow(dead_code)] // held for its Drop
    temp: Option<TempDir>,
}

/// A folder removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new() -> Result<TempDir> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        if N.load(Ordering::Relaxed) == 0 {
            sweep();
        }
        let p = std::env::temp_dir().join(format!(
            "wasi-downlevel-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }
}

/// Removes the folders of runs that were killed outright (nothing of
/// theirs could remove them): those named for a process that is gone.
fn sweep() {
    let Ok(rd) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in rd.flatten() {
        let name = e.file_name();
        let pid = name
            .to_str()
            .and_then(|n| n.strip_prefix("wasi-downlevel-"))
            .and_then(|n| n.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<u32>().ok());
        if pid.is_some_and(|pid| !alive(pid)) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

fn alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
        r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
