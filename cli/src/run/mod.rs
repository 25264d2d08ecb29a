//! Stage 5, run: execute an adapted module on a preview1 runtime, with stdio
//! and the exit status passed through. `embedded` is wasmi + wasmi_wasi
//! inside the tool; the others are found on disk and given their own flags.

mod embedded;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Runtime {
    /// wasmi + wasmi_wasi, inside this tool.
    Embedded,
    /// The wasmtime CLI, running the core module in its preview1 mode.
    Wasmtime,
    /// WAMR's `iwasm`.
    Iwasm,
    /// Node's `node:wasi` (preview1), through a small launcher.
    Node,
}

/// What to run and how, in the runtime-neutral form of wasmtime's flags.
pub struct Options {
    pub runtime: Runtime,
    /// Preopened directories: (host path, guest path).
    pub dirs: Vec<(PathBuf, String)>,
    /// Environment: `K=V`, or `K` alone to pass the tool's own value of K.
    pub env: Vec<(String, Option<String>)>,
    /// The program's name, `args[0]`; by default the input's file name.
    pub argv0: String,
    pub args: Vec<String>,
    /// Where to find the runtime's executable, if not in the default places.
    pub runtime_path: Option<PathBuf>,
    /// The socket flavour the module was adapted with.
    pub sockets: crate::Sockets,
    /// Addresses to preopen TCP listeners on (embedded engine only).
    pub tcplisten: Vec<String>,
}

impl Options {
    pub(crate) fn env_pairs(&self) -> Vec<(String, String)> {
        self.env
            .iter()
            .filter_map(|(k, v)| match v {
                Some(v) => Some((k.clone(), v.clone())),
                None => std::env::var(k).ok().map(|v| (k.clone(), v)),
            })
            .collect()
    }
}

/// Runs `wasm` and returns its exit status.
pub fn run(wasm: &[u8], opts: &Options) -> Result<i32> {
    if opts.runtime != Runtime::Embedded && !opts.tcplisten.is_empty() {
        bail!("--tcplisten: only the embedded engine can preopen a listener");
    }
    if opts.runtime != Runtime::Iwasm && imports(wasm, "sock_open") {
        bail!(
            "the program uses WAMR's socket extension (--sockets wamr), which only iwasm has; \
             use --runtime iwasm, or --sockets standard"
        );
    }
    match opts.runtime {
        Runtime::Embedded => embedded::run(wasm, opts),
        rt => external(rt, wasm, opts),
    }
}

/// Whether `wasm` imports the preview1 function `name`.
fn imports(wasm: &[u8], name: &str) -> bool {
    wasmparser::Parser::new(0).parse_all(wasm).any(|p| match p {
        Ok(wasmparser::Payload::ImportSection(r)) => {
            r.into_imports().any(|i| i.is_ok_and(|i| i.name == name))
        }
        _ => false,
    })
}

/// Where `make runtimes` installs the runtimes.
fn cache_bin() -> PathBuf {
    match std::env::var_os("WASI_DOWNLEVEL_RUNTIMES") {
        Some(dir) => PathBuf::from(dir).join("bin"),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.cache/runtimes/bin"),
    }
}

/// The runtime's executable: the given path, the cache, or PATH.
pub fn find(runtime: Runtime, explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let name = match runtime {
        Runtime::Embedded => bail!("the embedded engine is not an executable"),
        Runtime::Wasmtime => "wasmtime",
        Runtime::Iwasm => "iwasm",
        Runtime::Node => "node",
    };
    let cached = cache_bin().join(name);
    if cached.exists() {
        return Ok(cached);
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .with_context(|| {
            format!(
                "cannot find `{name}`: run `make runtimes`, put it on PATH, or pass --runtime-path"
            )
        })
}

/// The launcher the `node` runtime runs: `node:wasi` with wasmtime's flags.
const NODE_LAUNCHER: &str = include_str!("../../assets/node-wasi.mjs");

fn external(runtime: Runtime, wasm: &[u8], opts: &Options) -> Result<i32> {
    let exe = find(runtime, opts.runtime_path.as_deref())?;
    // A private folder holding the module under the program's name, so that
    // runtimes that pass the module's path as args[0] (iwasm) pass argv0.
    let dir = TempDir::new()?;
    let name = Path::new(&opts.argv0)
        .file_name()
        .map_or("program.wasm".into(), |n| n.to_os_string());
    let module = dir.0.join(&name);
    std::fs::write(&module, wasm)?;
    let abs = |p: &Path| {
        std::fs::canonicalize(p).with_context(|| format!("cannot open directory {}", p.display()))
    };
    let env = opts.env_pairs();
    let mut cmd;
    match runtime {
        Runtime::Wasmtime => {
            cmd = Command::new(exe);
            cmd.arg("run").arg("--argv0").arg(&opts.argv0);
            for (host, guest) in &opts.dirs {
                cmd.arg("--dir")
                    .arg(format!("{}::{guest}", abs(host)?.display()));
            }
            for (k, v) in &env {
                cmd.arg("--env").arg(format!("{k}={v}"));
            }
            cmd.arg(&module);
        }
        Runtime::Iwasm => {
            cmd = Command::new(exe);
            if opts.sockets == crate::Sockets::Wamr {
                // Loopback, the unspecified addresses (a socket bound there
                // listens on every interface, as tests and servers do) and
                // name lookups: what a user running tests would grant.
                cmd.arg("--addr-pool=127.0.0.1/8,::1/128,0.0.0.0/32,::/128")
                    .arg("--allow-resolve=*");
            }
            for (host, guest) in &opts.dirs {
                cmd.arg(format!("--map-dir={guest}::{}", abs(host)?.display()));
            }
            for (k, v) in &env {
                cmd.arg(format!("--env={k}={v}"));
            }
            // Relative to the private folder: iwasm's args[0] is the path as given.
            cmd.current_dir(&dir.0).arg(&name);
        }
        Runtime::Node => {
            let launcher = dir.0.join("node-wasi.mjs");
            std::fs::write(&launcher, NODE_LAUNCHER)?;
            cmd = Command::new(exe);
            cmd.arg("--no-warnings")
                .arg(&launcher)
                .arg("--argv0")
                .arg(&opts.argv0);
            for (host, guest) in &opts.dirs {
                cmd.arg("--dir")
                    .arg(format!("{}::{guest}", abs(host)?.display()));
            }
            for (k, v) in &env {
                cmd.arg("--env").arg(format!("{k}={v}"));
            }
            cmd.arg("--").arg(&module);
        }
        Runtime::Embedded => unreachable!(),
    }
    cmd.args(&opts.args);
    // As under a native host (a Rust program ignores SIGPIPE), writing to a
    // closed pipe must fail with EPIPE, not kill the runtime (iwasm).
    #[cfg(unix)]
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, || {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            Ok(())
        });
    }
    let status = cmd
        .status()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    Ok(exit_code(status))
}

/// The status a shell would report: the code, or 128 + the signal.
pub fn exit_code(status: std::process::ExitStatus) -> i32 {
    #[cfg(unix)]
    if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return 128 + sig;
    }
    status.code().unwrap_or(1)
}

/// A folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<TempDir> {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let p = std::env::temp_dir().join(format!(
            "wasi-downlevel-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::create_dir_all(&p)?;
        Ok(TempDir(p))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
