//! Runtimes outside the tool (wasmtime, iwasm, node): the flags translated
//! to each one's own, and the runtime supervised as a faithful runner must:
//! it dies with the tool (a harness that kills the tool leaves nothing
//! running), gets the signals the tool gets, and the tool ends as it ended
//! (the same exit status, or killed by the same signal).

use super::{find, Cache, Options, Runtime};
use anyhow::{Context, Result};
use std::path::Path;
use std::process::Command;

/// The launcher the `node` runtime runs: `node:wasi` with wasmtime's flags.
const NODE_LAUNCHER: &str = include_str!("../../assets/node-wasi.mjs");

pub fn run(runtime: Runtime, wasm: &[u8], key: &str, opts: &Options) -> Result<i32> {
    let exe = find(runtime, opts.runtime_path.as_deref())?;
    let cache = Cache::new();
    // Named as the program, so runtimes that pass the module's path as
    // args[0] (iwasm) pass argv0.
    let name = Path::new(&opts.argv0)
        .file_name()
        .map_or("program.wasm".into(), |n| n.to_os_string());
    // Compiled ahead of time, and cached so, for the AOT runtimes.
    let aot;
    let (key, wasm) = match runtime.aot_flags() {
        Some(flags) => {
            let aot_key =
                super::cache::key(&[b"wamrc", key.as_bytes(), flags.join(" ").as_bytes()]);
            aot = match cache.get(&aot_key) {
                Some(bytes) => bytes,
                None => {
                    let bytes = compile_aot(wasm, flags)?;
                    cache.put(&aot_key, &bytes);
                    bytes
                }
            };
            (aot_key, aot.as_slice())
        }
        None => (key.to_string(), wasm),
    };
    let module = cache.file(&key, &name, wasm)?;
    let abs = |p: &Path| {
        std::fs::canonicalize(p).with_context(|| format!("cannot open directory {}", p.display()))
    };
    let env = opts.env_pairs();
    let mut cmd = Command::new(exe);
    let _launcher;
    match runtime {
        Runtime::Wasmtime => {
            cmd.arg("run").arg("--argv0").arg(&opts.argv0);
            for (host, guest) in &opts.dirs {
                cmd.arg("--dir")
                    .arg(format!("{}::{guest}", abs(host)?.display()));
            }
            for (k, v) in &env {
                cmd.arg("--env").arg(format!("{k}={v}"));
            }
            cmd.arg(&module.path);
        }
        Runtime::Iwasm | Runtime::IwasmNobulk | Runtime::IwasmAot | Runtime::IwasmNobulkAot => {
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
            // Relative to its folder: iwasm's args[0] is the path as given.
            let dir = module.path.parent().context("the module's folder")?;
            cmd.current_dir(dir).arg(&name);
        }
        Runtime::Node => {
            let launcher_key = super::cache::key(&[NODE_LAUNCHER.as_bytes()]);
            let launcher = cache.file(
                &launcher_key,
                "node-wasi.mjs".as_ref(),
                NODE_LAUNCHER.as_bytes(),
            )?;
            cmd.arg("--no-warnings")
                .arg(&launcher.path)
                .arg("--argv0")
                .arg(&opts.argv0);
            for (host, guest) in &opts.dirs {
                cmd.arg("--dir")
                    .arg(format!("{}::{guest}", abs(host)?.display()));
            }
            for (k, v) in &env {
                cmd.arg("--env").arg(format!("{k}={v}"));
            }
            cmd.arg("--").arg(&module.path);
            _launcher = launcher;
        }
        Runtime::Embedded => unreachable!(),
    }
    cmd.args(&opts.args);
    let status = supervise(cmd)?;
    // Nothing left behind (a temporary module file, if the cache had no
    // room), then end as the runtime ended.
    drop(module);
    end_as(status)
}

/// `wasm` compiled by `wamrc` (with `flags`) for this machine.
fn compile_aot(wasm: &[u8], flags: &[&str]) -> Result<Vec<u8>> {
    let wamrc = super::find_exe("wamrc")?;
    let dir = super::cache::TempDir::new()?;
    let (input, output) = (dir.0.join("module.wasm"), dir.0.join("module.aot"));
    std::fs::write(&input, wasm).with_context(|| format!("cannot write {}", input.display()))?;
    let out = Command::new(&wamrc)
        .args(flags)
        .arg("-o")
        .arg(&output)
        .arg(&input)
        .output()
        .with_context(|| format!("starting {}", wamrc.display()))?;
    if !out.status.success() {
        let path = input.display().to_string();
        let said: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .chain(String::from_utf8_lossy(&out.stderr).lines())
            .filter(|l| l.starts_with("wamrc") || l.contains("rror"))
            .map(|l| l.replace(&format!("wamrc: {path}: "), ""))
            .collect();
        let hint = if flags.is_empty() {
            ""
        } else {
            " (for a WAMR without bulk memory, adapt with --target-features mvp)"
        };
        anyhow::bail!("wamrc cannot compile the module{hint}: {}", said.join("; "));
    }
    std::fs::read(&output).with_context(|| format!("cannot read {}", output.display()))
}

/// Exits as `status` says: a runtime killed by a signal kills the tool with
/// it (as a native runner would have been killed), else its exit code.
fn end_as(status: std::process::ExitStatus) -> Result<i32> {
    #[cfg(unix)]
    if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
        if sig != libc::SIGPIPE {
            unsafe {
                libc::signal(sig, libc::SIG_DFL);
                libc::raise(sig);
            }
        }
    }
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

#[cfg(not(unix))]
fn supervise(mut cmd: Command) -> Result<std::process::ExitStatus> {
    cmd.status()
        .with_context(|| format!("starting {:?}", cmd.get_program()))
}

/// The runtime's pid while it runs, for the signal handler.
#[cfg(unix)]
static CHILD: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(0);

/// Signals a harness sends a runner to stop it: passed on to the runtime.
#[cfg(unix)]
const FORWARDED: [libc::c_int; 6] = [
    libc::SIGTERM,
    libc::SIGINT,
    libc::SIGHUP,
    libc::SIGQUIT,
    libc::SIGUSR1,
    libc::SIGUSR2,
];

#[cfg(unix)]
extern "C" fn forward(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // A signal the kernel sent the whole foreground group (Ctrl-C) reached
    // the runtime too; one sent to the tool alone is passed on.
    let from_kernel = unsafe { (*info).si_code } == libc::SI_KERNEL;
    let pid = CHILD.load(std::sync::atomic::Ordering::SeqCst);
    if pid > 0 && !from_kernel {
        unsafe { libc::kill(pid, sig) };
    }
}

/// Runs the runtime to its end, passing signals on, and returns how it
/// ended.
#[cfg(unix)]
fn supervise(mut cmd: Command) -> Result<std::process::ExitStatus> {
    use std::os::unix::process::CommandExt;
    use std::sync::atomic::Ordering;
    let parent = std::process::id() as libc::pid_t;
    unsafe {
        cmd.pre_exec(move || {
            // As under a native host (a Rust program ignores SIGPIPE),
            // writing to a closed pipe fails with EPIPE instead of killing
            // the runtime (iwasm).
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            // Die with the tool, even if it is killed outright.
            #[cfg(target_os = "linux")]
            {
                libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
                if libc::getppid() != parent {
                    libc::_exit(1);
                }
            }
            Ok(())
        });
    }
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {:?}", cmd.get_program()))?;
    CHILD.store(child.id() as i32, Ordering::SeqCst);
    for sig in FORWARDED {
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = forward as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
    let status = child.wait();
    CHILD.store(0, Ordering::SeqCst);
    status.context("waiting for the runtime")
}
