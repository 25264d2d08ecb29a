//! `make bench`: side-by-side timings and sizes, printed as Markdown tables.
//! Every figure that compares is a ratio of medians measured in the same
//! run, with the variants alternating, so a noisy machine affects all alike.
//!
//! Variants of the `examples/bench` program:
//!   (a) built for wasm32-wasip1 and run directly: the preview1 limit;
//!   (b) built for wasm32-wasip2 and adapted by this tool;
//!   (c) as (b), linked with libc-shim (zero-copy reads);
//!   (d) the wasm32-wasip2 component run natively on the wasmtime CLI.
//! Environment: BENCH_MIB (file and pipe size, default 256), BENCH_REPS
//! (runs per figure, default 5), BENCH_CALLS (small calls, default 1000000),
//! BENCH_ONLY (the sections to run, see `on`).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use wasi_downlevel::run::{find, Runtime};

mod programs;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Whether section `name` is to run: all, or those `BENCH_ONLY` lists
/// (comma-separated: programs, jco, cache, bulk, p3, lowered, aot, small,
/// tcp, allocs, size, lang, adapt).
fn on(name: &str) -> bool {
    std::env::var("BENCH_ONLY").map_or(true, |only| only.split(',').any(|s| s.trim() == name))
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn tool() -> PathBuf {
    root().join("target/release/wasi-downlevel")
}

/// How to start one variant on one runtime, given the preopened directory.
#[derive(Clone)]
struct Variant {
    wasm: PathBuf,
    runtime: Option<Runtime>,
}

impl Variant {
    fn command(&self, data: &Path, args: &[String]) -> Command {
        let dir = format!("{}::/data", data.display());
        let mut c = match self.runtime {
            // The native component.
            None => {
                let mut c = Command::new(find(Runtime::Wasmtime, None).unwrap());
                c.args(["run", "--dir", &dir]);
                c
            }
            Some(Runtime::Wasmtime) => {
                let mut c = Command::new(find(Runtime::Wasmtime, None).unwrap());
                c.args(["run", "--dir", &dir]);
                c
            }
            Some(Runtime::Iwasm) => {
                let mut c = Command::new(find(Runtime::Iwasm, None).unwrap());
                c.arg(format!("--map-dir=/data::{}", data.display()));
                c.arg("--addr-pool=127.0.0.1/8");
                c
            }
            Some(rt) => {
                let mut c = Command::new(tool());
                c.args(["run", "--runtime", rt.name()]);
                c.args(["--dir", &dir]);
                c
            }
        };
        c.arg(&self.wasm).args(args);
        c
    }
}

/// Runs `cmd` (stdin from `input` if given), checks it succeeded, and
/// returns how long it took.
fn time(cmd: Command, input: Option<&Path>) -> Duration {
    time_io(cmd, input, false)
}

/// [`time`], with stdout a pipe that is read to the end when `pipe_out`
/// (else `/dev/null`).
fn time_io(mut cmd: Command, input: Option<&Path>, pipe_out: bool) -> Duration {
    let out = if pipe_out {
        Stdio::piped()
    } else {
        Stdio::null()
    };
    cmd.stdout(out).stderr(Stdio::piped());
    let mut cat = input.map(|f| {
        Command::new("cat")
            .arg(f)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap()
    });
    if let Some(c) = &mut cat {
        cmd.stdin(c.stdout.take().unwrap());
    } else {
        cmd.stdin(Stdio::null());
    }
    let what = format!("{cmd:?}");
    let start = Instant::now();
    let mut child = cmd.spawn().unwrap();
    // The Command holds the pipe from `cat`: without this, `cat` would not
    // see the program end.
    drop(cmd);
    let drain = child.stdout.take().map(|mut o| {
        std::thread::spawn(move || std::io::copy(&mut o, &mut std::io::sink()).unwrap())
    });
    // Waited for, not polled (polling would round every time up); a
    // watchdog kills a run that goes on too long.
    let (done, ended) = std::sync::mpsc::channel::<()>();
    let watchdog = {
        let pid = child.id() as libc::pid_t;
        std::thread::spawn(move || {
            let late = ended.recv_timeout(Duration::from_secs(600)).is_err();
            if late {
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            late
        })
    };
    let status = child.wait().unwrap();
    let took = start.elapsed();
    let _ = done.send(());
    assert!(!watchdog.join().unwrap(), "{what} took over 600 s");
    if let Some(d) = drain {
        d.join().unwrap();
    }
    if let Some(mut c) = cat {
        let _ = c.wait();
    }
    if !status.success() {
        let mut err = String::new();
        let _ = std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err);
        panic!("{what} failed: {status}\n{err}");
    }
    took
}

/// Runs `cmd` to the end (stdin empty, output dropped) and returns how long
/// it took and its peak resident memory in KiB, children included.
#[allow(clippy::zombie_processes)] // `wait4` reaps it, with its rusage.
fn time_and_memory(cmd: Command) -> (Duration, u64) {
    // Through a fresh copy of this program (`--rusage`): a child forked
    // from this one starts with this one's resident memory counted.
    let mut via = Command::new(std::env::current_exe().unwrap());
    via.arg("--rusage")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => via.env(k, v),
            None => via.env_remove(k),
        };
    }
    via.stdin(Stdio::null()).stderr(Stdio::null());
    let start = Instant::now();
    let out = via.output().unwrap();
    let took = start.elapsed();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{cmd:?} failed");
    (took, text.trim().parse().unwrap())
}

/// `bench --rusage PROGRAM ARGS...`: runs it (no stdin, output dropped)
/// and prints its peak resident memory in KiB, children included.
#[allow(clippy::zombie_processes)] // `wait4` reaps it, with its rusage.
fn rusage(argv: &[String]) -> ! {
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let ok = pid > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
    println!("{}", usage.ru_maxrss);
    std::process::exit(if ok { 0 } else { 1 })
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Medians of each variant over `reps` alternating runs.
fn measure(
    variants: &[Variant],
    data: &Path,
    args: &[String],
    input: Option<&Path>,
    reps: u64,
) -> Vec<Duration> {
    measure_io(variants, data, args, input, false, reps)
}

/// [`measure`], with stdout a pipe when `pipe_out`.
fn measure_io(
    variants: &[Variant],
    data: &Path,
    args: &[String],
    input: Option<&Path>,
    pipe_out: bool,
    reps: u64,
) -> Vec<Duration> {
    let mut times = vec![Vec::new(); variants.len()];
    for _ in 0..reps {
        for (v, t) in variants.iter().zip(&mut times) {
            t.push(time_io(v.command(data, args), input, pipe_out));
        }
    }
    times.into_iter().map(median).collect()
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|s| s.to_string()).collect()
}

/// The code section's size and function count of a core module.
fn code_size(wasm: &[u8]) -> (usize, u32) {
    for p in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CodeSectionStart { count, size, .. }) = p {
            return (size as usize, count);
        }
    }
    (0, 0)
}

/// Bytes and count of the adapter's function bodies in an adapted module:
/// the functions named as the adapter names its own, and the synthesized
/// ones (the program's functions keep their own names).
fn adapter_code(wasm: &[u8]) -> (usize, u32) {
    let names = |wasm: &[u8]| -> std::collections::HashMap<u32, String> {
        let mut names = std::collections::HashMap::new();
        for p in wasmparser::Parser::new(0).parse_all(wasm) {
            if let Ok(wasmparser::Payload::CustomSection(c)) = p {
                if let wasmparser::KnownCustom::Name(r) = c.as_known() {
                    for n in r.into_iter().flatten() {
                        if let wasmparser::Name::Function(map) = n {
                            for naming in map.into_iter().flatten() {
                                names.insert(naming.index, naming.name.to_string());
                            }
                        }
                    }
                }
            }
        }
        names
    };
    let ours: std::collections::HashSet<String> =
        names(wasi_downlevel::ADAPTER).into_values().collect();
    let out_names = names(wasm);
    // The texts' data segment (a passive one, named), counted with the code.
    let mut text_segment = None;
    for p in wasmparser::Parser::new(0).parse_all(wasm) {
        if let Ok(wasmparser::Payload::CustomSection(c)) = p {
            if let wasmparser::KnownCustom::Name(r) = c.as_known() {
                for n in r.into_iter().flatten() {
                    if let wasmparser::Name::Data(map) = n {
                        for naming in map.into_iter().flatten() {
                            if naming.name == wasi_downlevel::write::TEXT_SEGMENT {
                                text_segment = Some(naming.index);
                            }
                        }
                    }
                }
            }
        }
    }
    let mut imports = 0;
    let (mut index, mut bytes, mut count) = (0, 0, 0);
    for p in wasmparser::Parser::new(0).parse_all(wasm) {
        match p {
            Ok(wasmparser::Payload::DataSection(r)) => {
                for (i, d) in r.into_iter().enumerate() {
                    if text_segment == Some(i as u32) {
                        bytes += d.map_or(0, |d| d.data.len());
                    }
                }
            }
            Ok(wasmparser::Payload::ImportSection(r)) => imports = r.count(),
            Ok(wasmparser::Payload::CodeSectionEntry(body)) => {
                let name = out_names.get(&(imports + index)).map_or("", |n| n.as_str());
                if ours.contains(name) || name.starts_with("wasi-downlevel:") || name == "_start" {
                    let r = body.range();
                    bytes += (r.end - r.start) as usize;
                    count += 1;
                }
                index += 1;
            }
            _ => {}
        }
    }
    (bytes, count)
}

/// Linear-memory pages after running `wasm` to the end on wasmi, with the
/// bench data preopened.
fn memory_pages(wasm: &[u8], argv: &[&str]) -> u64 {
    use wasmi::{Engine, Linker, Module, Store};
    use wasmi_wasi::{ambient_authority, Dir, WasiCtx, WasiCtxBuilder};
    let engine = Engine::default();
    let module = Module::new(&engine, wasm).unwrap();
    let mut b = WasiCtxBuilder::new();
    let argv: Vec<String> = argv.iter().map(|s| s.to_string()).collect();
    b.args(&argv).unwrap();
    let dir = Dir::open_ambient_dir(root().join("target/bench/data"), ambient_authority()).unwrap();
    b.preopened_dir(dir, "/data").unwrap();
    let mut store = Store::new(&engine, b.build());
    let mut linker = <Linker<WasiCtx>>::new(&engine);
    wasmi_wasi::add_to_linker(&mut linker, |c| c).unwrap();
    let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
    let start = instance.get_typed_func::<(), ()>(&store, "_start").unwrap();
    let _ = start.call(&mut store, ());
    let memory = instance.get_memory(&store, "memory").unwrap();
    memory.size(&store)
}

/// A WASI 0.3 stream copy of the big file (`p3-copy`: `read-via-stream`
/// into `write-via-stream`) vs the 0.2 program doing the same (`copy`:
/// std's reads and writes), both adapted, on each runtime; and natively.
fn p3_copy(examples: &Path, work: &Path, data: &Path, file: &Path, mib: u64, reps: u64) {
    println!(
        "## WASI 0.3: a stream copy of a {mib} MiB file vs the 0.2 program's copy (both adapted)\n"
    );
    println!("| runtime | 0.2 `copy` s | 0.3 `p3-copy` s | 0.3 / 0.2 |");
    println!("|---|---|---|---|");
    let adapt = |name: &str| {
        programs::adapted(
            work,
            &examples.join(format!("wasm32-wasip2/release/{name}.wasm")),
        )
    };
    let (v2, v3) = (adapt("copy"), adapt("p3-copy"));
    let a2 = args(&["/data/big.bin", "/data/copy2.bin"]);
    let a3 = args(&["big.bin", "copy3.bin"]);
    let check = |name: &str| {
        let copied = std::fs::read(data.join(name)).unwrap();
        assert!(copied == std::fs::read(file).unwrap(), "{name}: not a copy");
    };
    for rt in [
        Runtime::Wasmtime,
        Runtime::Iwasm,
        Runtime::Embedded,
        Runtime::Node,
    ] {
        let (mut t2, mut t3) = (Vec::new(), Vec::new());
        for _ in 0..reps {
            let v = |w: &Path| Variant {
                wasm: w.to_path_buf(),
                runtime: Some(rt),
            };
            t2.push(time(v(&v2).command(data, &a2), None));
            t3.push(time(v(&v3).command(data, &a3), None));
        }
        check("copy2.bin");
        check("copy3.bin");
        let (t2, t3) = (median(t2), median(t3));
        println!(
            "| {rt:?} | {:.3} | {:.3} | {:.2} |",
            t2.as_secs_f64(),
            t3.as_secs_f64(),
            t3.as_secs_f64() / t2.as_secs_f64()
        );
    }
    // The same components natively (wasmtime, `-Sp3` for 0.3).
    let (mut t2, mut t3) = (Vec::new(), Vec::new());
    let dir = format!("{}::/data", data.display());
    for _ in 0..reps {
        let mut c = Command::new(find(Runtime::Wasmtime, None).unwrap());
        c.args(["run", "--dir", &dir])
            .arg(examples.join("wasm32-wasip2/release/copy.wasm"))
            .args(&a2);
        t2.push(time(c, None));
        let mut c = Command::new(find(Runtime::Wasmtime, None).unwrap());
        c.args(["run", "-Wcomponent-model-async", "-Sp3", "--dir"])
            .arg(format!("{}::.", data.display()))
            .arg(examples.join("wasm32-wasip2/release/p3-copy.wasm"))
            .args(&a3);
        t3.push(time(c, None));
    }
    let (t2, t3) = (median(t2), median(t3));
    println!(
        "| native (wasmtime) | {:.3} | {:.3} | {:.2} |\n",
        t2.as_secs_f64(),
        t3.as_secs_f64(),
        t3.as_secs_f64() / t2.as_secs_f64()
    );
    for f in ["copy2.bin", "copy3.bin"] {
        let _ = std::fs::remove_file(data.join(f));
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--rusage") {
        rusage(&argv[2..]);
    }
    let mib = env("BENCH_MIB", 256);
    let reps = env("BENCH_REPS", 5);
    let calls = env("BENCH_CALLS", 1_000_000);
    let examples = root().join("examples/target");
    let p1 = examples.join("wasm32-wasip1/release/bench.wasm");
    let p2 = examples.join("wasm32-wasip2/release/bench.wasm");
    let work = root().join("target/bench");
    let data = work.join("data");
    std::fs::create_dir_all(&data).unwrap();
    let adapted = work.join("bench.p1.wasm");
    let input = std::fs::read(&p2).expect("examples/bench: run `make examples`");
    std::fs::write(
        &adapted,
        wasi_downlevel::adapt(&input, &Default::default())
            .unwrap()
            .wasm,
    )
    .unwrap();
    let shim = examples.join("shim/wasm32-wasip2/release/bench.wasm");
    let adapted_shim = work.join("bench.shim.p1.wasm");
    let shim_core =
        std::fs::read(&shim).expect("examples/bench with libc-shim: run `make examples`");
    std::fs::write(
        &adapted_shim,
        wasi_downlevel::adapt(&shim_core, &Default::default())
            .unwrap()
            .wasm,
    )
    .unwrap();
    let adapted_wamr = work.join("bench.wamr.wasm");
    let out = wasi_downlevel::adapt(&input, &wamr()).unwrap();
    std::fs::write(&adapted_wamr, out.wasm).unwrap();
    let adapted_wamr_shim = work.join("bench.shim.wamr.wasm");
    let out = wasi_downlevel::adapt(&shim_core, &wamr()).unwrap();
    std::fs::write(&adapted_wamr_shim, out.wasm).unwrap();

    // A file of `mib` MiB of varied bytes.
    let file = data.join("big.bin");
    if std::fs::metadata(&file).map(|m| m.len()).ok() != Some(mib << 20) {
        let block: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 % 251) as u8).collect();
        let mut f = std::fs::File::create(&file).unwrap();
        for _ in 0..mib {
            std::io::Write::write_all(&mut f, &block).unwrap();
        }
    }

    println!(
        "# wasi-downlevel benchmark: {mib} MiB bulk reads, {calls} small calls, median of {reps}\n"
    );
    println!("{}\n", programs::machine());
    if on("programs") {
        programs::real_programs(&work, reps);
    }
    if on("jco") {
        programs::jco(&work, &p2, reps);
    }
    if on("cache") {
        programs::run_cache(&work, reps);
    }
    let runtimes = [Runtime::Wasmtime, Runtime::Iwasm, Runtime::Embedded];
    // Variants (a), (b) and (c) on one runtime.
    let abc = |rt: Runtime| -> Vec<Variant> {
        [&p1, &adapted, &adapted_shim]
            .into_iter()
            .map(|w| Variant {
                wasm: w.clone(),
                runtime: Some(rt),
            })
            .collect()
    };

    if on("bulk") {
        println!("## Bulk reads: (a) p1 build direct, (b) p2 build adapted, (c) adapted with libc-shim, (d) native component on wasmtime\n");
        println!("| workload | runtime | (a) s | (b)/(a) | (c)/(a) | (d)/(a) | (c)/(d) |");
        println!("|---|---|---|---|---|---|---|");
        for (what, input_file, chunk) in [
            ("file, 4 KiB reads", false, 4096),
            ("file, 64 KiB reads", false, 65536),
            ("pipe, 4 KiB reads", true, 4096),
            ("pipe, 64 KiB reads", true, 65536),
        ] {
            let a = if input_file {
                args(&["stdin", &chunk.to_string()])
            } else {
                args(&["read", "/data/big.bin", &chunk.to_string()])
            };
            for rt in runtimes {
                let mut variants = abc(rt);
                if rt == Runtime::Wasmtime {
                    variants.push(Variant {
                        wasm: p2.clone(),
                        runtime: None,
                    });
                }
                let stdin = input_file.then_some(file.as_path());
                let t = measure(&variants, &data, &a, stdin, reps);
                let ratio =
                    |x: Duration, y: Duration| format!("{:.3}", x.as_secs_f64() / y.as_secs_f64());
                println!(
                    "| {what} | {rt:?} | {:.3} | {} | {} | {} | {} |",
                    t[0].as_secs_f64(),
                    ratio(t[1], t[0]),
                    ratio(t[2], t[0]),
                    t.get(3).map_or("-".into(), |d| ratio(*d, t[0])),
                    t.get(3).map_or("-".into(), |d| ratio(t[2], *d)),
                );
            }
        }
    }
    if on("p3") {
        p3_copy(&examples, &work, &data, &file, mib, reps);
    }
    if on("lowered") {
        println!("\n## Lowered to WebAssembly 1.0 (`--target-features mvp`): 64 KiB file reads\n");
        {
            let lowered = work.join("bench.mvp.wasm");
            let mvp = wasi_downlevel::Options {
                target_features: Some(wasi_downlevel::features::Features::parse("mvp").unwrap()),
                ..Default::default()
            };
            std::fs::write(&lowered, wasi_downlevel::adapt(&input, &mvp).unwrap().wasm).unwrap();
            let on = |w: &Path, rt| Variant {
                wasm: w.to_path_buf(),
                runtime: Some(rt),
            };
            let lowered_shim = work.join("bench.shim.mvp.wasm");
            std::fs::write(
                &lowered_shim,
                wasi_downlevel::adapt(&shim_core, &mvp).unwrap().wasm,
            )
            .unwrap();
            let variants = [
                on(&adapted, Runtime::Iwasm),
                on(&lowered, Runtime::Iwasm),
                on(&lowered, Runtime::IwasmNobulk),
                on(&adapted_shim, Runtime::Iwasm),
                on(&lowered_shim, Runtime::Iwasm),
                on(&lowered_shim, Runtime::IwasmNobulk),
                on(&adapted, Runtime::IwasmAot),
                on(&lowered, Runtime::IwasmAot),
                on(&lowered, Runtime::IwasmNobulkAot),
            ];
            // The AOT variants compile once, before timing.
            measure(&variants[6..], &data, &args(&["clock", "0"]), None, 1);
            let a = args(&["read", "/data/big.bin", "65536"]);
            let t = measure(&variants, &data, &a, None, reps);
            println!("| variant | runtime | s | vs (b) on iwasm |\n|---|---|---|---|");
            let base = t[0].as_secs_f64();
            for ((what, rt), t) in [
                ("(b) adapted", "iwasm"),
                ("(b) adapted, lowered", "iwasm"),
                ("(b) adapted, lowered", "iwasm-nobulk"),
                ("(c) with libc-shim", "iwasm"),
                ("(c) with libc-shim, lowered", "iwasm"),
                ("(c) with libc-shim, lowered", "iwasm-nobulk"),
                ("(b) adapted", "iwasm-aot"),
                ("(b) adapted, lowered", "iwasm-aot"),
                ("(b) adapted, lowered", "iwasm-nobulk-aot"),
            ]
            .iter()
            .zip(&t)
            {
                println!(
                    "| {what} | {rt} | {:.3} | {:.3} |",
                    t.as_secs_f64(),
                    t.as_secs_f64() / base
                );
            }
            println!(
                "\n{mib} MiB per run. Target: lowered ≤ 1.5× unlowered on the same WAMR. The \
             program's copy from the list it is returned into its buffer is its memcpy, \
             which lowered is a loop the interpreter runs; libc-shim has no copy.\n"
            );
        }
    }
    if on("aot") {
        println!("## Ahead of time on iwasm (wamrc for this CPU): (a) p1 build, (b) adapted, (c) with libc-shim\n");
        {
            let variants = abc(Runtime::IwasmAot);
            println!("| workload | (a) s | (b)/(a) | (c)/(a) |\n|---|---|---|---|");
            for (what, a) in [
                (
                    "file, 64 KiB reads",
                    args(&["read", "/data/big.bin", "65536"]),
                ),
                (
                    "file, 4 KiB reads",
                    args(&["read", "/data/big.bin", "4096"]),
                ),
                ("1M clock reads", args(&["clock", &calls.to_string()])),
            ] {
                // Compiled once, before timing.
                measure(&variants, &data, &a, None, 1);
                let t = measure(&variants, &data, &a, None, reps);
                println!(
                    "| {what} | {:.3} | {:.3} | {:.3} |",
                    t[0].as_secs_f64(),
                    t[1].as_secs_f64() / t[0].as_secs_f64(),
                    t[2].as_secs_f64() / t[0].as_secs_f64()
                );
            }
            println!("\nProcess start-up included; the compiled modules come from the cache.\n");
        }
    }
    if on("small") {
        println!("\n## Small calls: time per call (a run of N calls minus a run of 0), and the run of 0 (process start-up)\n");
        println!(
            "| call | runtime | N | (a) ns | (b) ns | (b)/(a) | (c)/(a) | start-up (a) / (b) / (c) ms |"
        );
        println!("|---|---|---|---|---|---|---|---|");
        let dir = data.join("dir");
        const ENTRIES: u64 = 1000;
        if std::fs::read_dir(&dir).map_or(true, |d| d.count() as u64 != ENTRIES) {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..ENTRIES {
                std::fs::write(dir.join(format!("entry-{i:04}")), b"").unwrap();
            }
        }
        // (what, argv with N, how many calls N makes, stdin from the file,
        // stdout a pipe): opens, stats and listings are slower, so fewer.
        let (n, tenth) = (calls, calls / 10);
        let rows: Vec<(&str, Vec<String>, u64, bool, bool)> = vec![
            ("clock read", args(&["clock", "N"]), n, false, false),
            (
                "1-byte read, file",
                args(&["read1", "/data/big.bin", "N"]),
                n,
                false,
                false,
            ),
            ("1-byte read, pipe", args(&["stdin1", "N"]), n, true, false),
            (
                "1-byte write, file",
                args(&["writef", "/data/out.bin", "N"]),
                n,
                false,
                false,
            ),
            ("1-byte write, pipe", args(&["write", "N"]), n, false, true),
            (
                "open + close",
                args(&["open", "/data/big.bin", "N"]),
                tenth,
                false,
                false,
            ),
            (
                "stat",
                args(&["stat", "/data/big.bin", "N"]),
                tenth,
                false,
                false,
            ),
            (
                "directory entry",
                args(&["readdir", "/data/dir", "N"]),
                tenth,
                false,
                false,
            ),
        ];
        for (what, argv, count, stdin, pipe_out) in rows {
            // A listing is ENTRIES calls.
            let runs = if what == "directory entry" {
                count / ENTRIES
            } else {
                count
            };
            let with_n = |k: u64| -> Vec<String> {
                argv.iter()
                    .map(|a| a.replace('N', &k.to_string()))
                    .collect()
            };
            let input = stdin.then_some(file.as_path());
            for rt in runtimes {
                let variants = abc(rt);
                let full = measure_io(&variants, &data, &with_n(runs), input, pipe_out, reps);
                let empty = measure_io(&variants, &data, &with_n(0), input, pipe_out, reps);
                let per =
                    |i: usize| full[i].saturating_sub(empty[i]).as_secs_f64() * 1e9 / count as f64;
                let ms = |i: usize| empty[i].as_secs_f64() * 1e3;
                println!(
                    "| {what} | {rt:?} | {count} | {:.1} | {:.1} | {:.3} | {:.3} | {:.1} / {:.1} / {:.1} |",
                    per(0),
                    per(1),
                    per(1) / per(0),
                    per(2) / per(0),
                    ms(0),
                    ms(1),
                    ms(2)
                );
            }
        }
        println!("\n### Start-up: `hello` (std: args, env, clocks, random, stdout), the whole process, median of {reps}\n");
        println!("| runtime | p1 build ms | adapted ms | adapted / p1 |\n|---|---|---|---|");
        let hello_p1 = examples.join("wasm32-wasip1/release/hello.wasm");
        let hello = work.join("hello.adapted.wasm");
        let component = std::fs::read(examples.join("wasm32-wasip2/release/hello.wasm")).unwrap();
        std::fs::write(
            &hello,
            wasi_downlevel::adapt(&component, &Default::default())
                .unwrap()
                .wasm,
        )
        .unwrap();
        for rt in [
            Runtime::Wasmtime,
            Runtime::Iwasm,
            Runtime::Embedded,
            Runtime::Node,
        ] {
            let variants = [&hello_p1, &hello].map(|w| Variant {
                wasm: w.clone(),
                runtime: Some(rt),
            });
            let t = measure(&variants, &data, &[], None, reps.max(9));
            println!(
                "| {rt:?} | {:.1} | {:.1} | {:.3} |",
                t[0].as_secs_f64() * 1e3,
                t[1].as_secs_f64() * 1e3,
                t[1].as_secs_f64() / t[0].as_secs_f64()
            );
        }
        println!();
    }
    if on("tcp") {
        println!(
        "\n## TCP receive on iwasm (wamr flavour; std has no TCP connect on wasip1, so no (a))\n"
    );
        {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            let addr = listener.local_addr().unwrap();
            let bytes = mib << 20;
            let conns = 2 * reps as usize;
            let sender = std::thread::spawn(move || {
                let block = vec![7u8; 1 << 20];
                for s in listener.incoming().take(conns) {
                    let mut s = s.unwrap();
                    for _ in 0..bytes >> 20 {
                        std::io::Write::write_all(&mut s, &block).unwrap();
                    }
                }
            });
            let variants: Vec<Variant> = [&adapted_wamr, &adapted_wamr_shim]
                .into_iter()
                .map(|w| Variant {
                    wasm: w.clone(),
                    runtime: Some(Runtime::Iwasm),
                })
                .collect();
            let t = measure(
                &variants,
                &data,
                &args(&["tcp", &addr.to_string()]),
                None,
                reps,
            );
            sender.join().unwrap();
            println!("| variant | time | throughput | vs (b) |\n|---|---|---|---|");
            let base = t[0];
            for (what, t) in ["(b) adapted", "(c) with libc-shim"].iter().zip(&t) {
                println!(
                    "| {what} | {:.3} s | {:.0} MiB/s | {:.3} |",
                    t.as_secs_f64(),
                    mib as f64 / t.as_secs_f64(),
                    t.as_secs_f64() / base.as_secs_f64(),
                );
            }
            println!("\n{mib} MiB per run, 64 KiB receives, process start-up included.\n");
        }
    }
    if on("allocs") {
        println!("## Allocations and copies per read (64 KiB reads of the file, on iwasm)\n");
        println!("| variant | reads | heap allocations per read | bytes copied per read | reads landed in the caller's buffer |");
        println!("|---|---|---|---|---|");
        for (what, wasm) in [
            ("(b) adapted", &adapted),
            ("(c) with libc-shim", &adapted_shim),
        ] {
            let v = Variant {
                wasm: wasm.clone(),
                runtime: Some(Runtime::Iwasm),
            };
            let out = v
                .command(&data, &args(&["count", "/data/big.bin", "65536"]))
                .output()
                .unwrap();
            // "reads R bytes B allocations A allocated N [landed L fallbacks F]"
            let text = String::from_utf8_lossy(&out.stdout);
            let words: Vec<&str> = text.split_whitespace().collect();
            let field = |name: &str| -> Option<f64> {
                let i = words.iter().position(|w| *w == name)?;
                words.get(i + 1)?.parse().ok()
            };
            let reads = field("reads").expect("bench count output");
            let allocs = field("allocations").unwrap();
            let bytes = field("bytes").unwrap();
            // Without the shim libc copies every list it gets (all of them);
            // with it, only the reads that fell back.
            let copied = match field("fallbacks") {
                Some(f) => f * (bytes / reads) / reads,
                None => bytes / reads,
            };
            let landed = field("landed").map_or("-".into(), |l| format!("{l:.0}"));
            println!(
                "| {what} | {reads:.0} | {:.2} | {copied:.0} | {landed} |",
                allocs / reads
            );
        }
        println!(
        "\nAllocations are counted by the program's global allocator (std's `cabi_realloc` uses it); \
         with the shim, the reads that fell back are counted by the shim itself.\n"
    );
    }
    if on("size") {
        println!("## Size\n");
        let full = wasi_downlevel::ADAPTER;
        let (full_code, full_funcs) = code_size(full);
        println!(
        "The whole adapter: {} bytes ({} bytes of code in {} functions); the forward adapter is 51,854 bytes.\n",
        full.len(),
        full_code,
        full_funcs
    );
        println!("| program | code added by the adapter | functions added |");
        println!("|---|---|---|");
        for (name, what) in [
            ("hello", "`hello` (std: stdio, args, env, clocks, random)"),
            ("fs", "`fs` (std::fs)"),
            ("tcp-echo", "`tcp-echo` (std::net)"),
            (
                "p3-cli",
                "`p3-cli` (WASI 0.3: stdio streams, clocks, random)",
            ),
        ] {
            let component =
                std::fs::read(examples.join(format!("wasm32-wasip2/release/{name}.wasm")))
                    .expect("run `make examples`");
            let out = wasi_downlevel::adapt(&component, &Default::default())
                .unwrap()
                .wasm;
            let (bytes, funcs) = adapter_code(&out);
            println!("| {what} | {bytes} bytes | {funcs} |");
        }
        let pages = |wasm: &[u8], a: &[&str]| memory_pages(wasm, a);
        let (pa, pb) = (
            pages(
                &std::fs::read(&p1).unwrap(),
                &["bench", "read1", "/data/big.bin", "1000"],
            ),
            pages(
                &std::fs::read(&adapted).unwrap(),
                &["bench", "read1", "/data/big.bin", "1000"],
            ),
        );
        println!(
        "\nMemory at the end of `bench read1 FILE 1000` on the embedded engine: {pa} pages as a p1 build, \
         {pb} adapted: the adapter's stack, state and heap take {} pages ({} KiB).\n",
        pb - pa,
        (pb - pa) * 64
    );
    }
    if on("lang") {
        println!("## Other languages: hello, start-up and peak memory (median of {reps})\n");
        println!(
            "The `hello` programs of componentize-js and componentize-py (`make lang-examples`), \
         adapted, on each runtime, vs the component natively on wasmtime.\n"
        );
        println!("| program | component | adapted | native | Wasmtime | Iwasm | Embedded | Node |");
        println!("|---|---|---|---|---|---|---|---|");
        for (what, path) in [
            ("JavaScript hello", examples.join("js/hello.wasm")),
            ("Python hello", examples.join("python/hello.wasm")),
        ] {
            let Ok(component) = std::fs::read(&path) else {
                println!("| {what} | missing: run `make lang-examples` | | | | | | |");
                continue;
            };
            let out = work.join(format!("{}.p1.wasm", what.replace(' ', "-")));
            let adapted_bytes = wasi_downlevel::adapt(&component, &Default::default())
                .unwrap()
                .wasm;
            std::fs::write(&out, &adapted_bytes).unwrap();
            let mut variants = vec![Variant {
                wasm: path.clone(),
                runtime: None,
            }];
            for rt in [
                Runtime::Wasmtime,
                Runtime::Iwasm,
                Runtime::Embedded,
                Runtime::Node,
            ] {
                variants.push(Variant {
                    wasm: out.clone(),
                    runtime: Some(rt),
                });
            }
            let mut runs = vec![Vec::new(); variants.len()];
            for _ in 0..reps {
                for (v, r) in variants.iter().zip(&mut runs) {
                    r.push(time_and_memory(v.command(&data, &[])));
                }
            }
            let cells: Vec<String> = runs
                .into_iter()
                .map(|r| {
                    let t = median(r.iter().map(|x| x.0).collect());
                    let mut m: Vec<u64> = r.iter().map(|x| x.1).collect();
                    m.sort();
                    format!(
                        "{:.0} ms, {:.0} MiB",
                        t.as_secs_f64() * 1e3,
                        m[m.len() / 2] as f64 / 1024.0
                    )
                })
                .collect();
            println!(
                "| {what} | {:.1} MB | {:.1} MB | {} |",
                component.len() as f64 / 1e6,
                adapted_bytes.len() as f64 / 1e6,
                cells.join(" | ")
            );
        }
        println!("\nEach cell: wall time of the whole process, and its peak resident memory (with its children's).\n");
    }
    if on("adapt") {
        programs::adapt_times(&examples, reps);
    }
}

/// Adapting for WAMR's socket extension.
fn wamr() -> wasi_downlevel::Options {
    wasi_downlevel::Options {
        sockets: wasi_downlevel::Sockets::Wamr,
        ..Default::default()
    }
}
