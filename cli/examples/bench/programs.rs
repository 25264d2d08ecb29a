//! Real programs of other authors, built from crates.io by `make
//! bench-programs` for both wasm32-wasip1 and wasm32-wasip2: the adapted p2
//! build against the p1 build of the same source, on every runtime; against
//! jco on Node; adapt time on small and big programs; and start-up through
//! `run`'s cache.

use super::*;

/// One real program: its two builds, and a workload.
struct Program {
    what: String,
    p1: PathBuf,
    p2: PathBuf,
    /// argv after the program name; `/data` is the directory below.
    args: Vec<String>,
    data: PathBuf,
    /// Fed to stdin, if any.
    stdin: Option<PathBuf>,
}

fn cache(p: &str) -> PathBuf {
    root().join(".cache").join(p)
}

fn ripgrep(p2: bool) -> PathBuf {
    cache(if p2 {
        "ripgrep/bin/rg.wasm"
    } else {
        "ripgrep-p1/bin/rg.wasm"
    })
}

fn pulldown(p2: bool) -> PathBuf {
    let t = if p2 { "wasip2" } else { "wasip1" };
    cache(&format!("pulldown-cmark-{t}/bin/pulldown-cmark.wasm"))
}

fn tract(p2: bool) -> PathBuf {
    let t = if p2 { "wasip2" } else { "wasip1" };
    cache(&format!("bench-build/wasm32-{t}/release/tract-run.wasm"))
}

/// The registry's source directory (where cargo unpacked the crates this
/// tool is built from).
fn registry() -> PathBuf {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".cargo"));
    let src = home.join("registry/src");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap_or_else(|e| panic!("{}: {e}", src.display()))
        .map(|e| e.unwrap().path())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .next()
        .expect("a crates.io source directory")
}

/// The entries of `dir`, by name.
fn sorted(dir: &Path) -> Vec<std::fs::DirEntry> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    entries
}

fn copy_tree(from: &Path, to: &Path, files: &mut usize) {
    std::fs::create_dir_all(to).unwrap();
    for e in sorted(from) {
        let t = e.file_type().unwrap();
        if t.is_dir() {
            copy_tree(&e.path(), &to.join(e.file_name()), files);
        } else if t.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            *files += 1;
        }
    }
}

/// A source tree of real code: the crates this tool is built from (in
/// `Cargo.lock` order) until it holds `want` files.
fn source_tree(at: &Path, want: usize) -> usize {
    let done = at.join(".complete");
    if let Ok(n) = std::fs::read_to_string(&done) {
        return n.trim().parse().unwrap();
    }
    let _ = std::fs::remove_dir_all(at);
    let src = registry();
    let lock = std::fs::read_to_string(root().join("Cargo.lock")).unwrap();
    let mut files = 0;
    let mut name = "";
    for line in lock.lines() {
        if let Some(n) = line.strip_prefix("name = ") {
            name = n.trim_matches('"');
        } else if let Some(v) = line.strip_prefix("version = ") {
            let dir = src.join(format!("{name}-{}", v.trim_matches('"')));
            if dir.is_dir() && files < want {
                copy_tree(&dir, &at.join(dir.file_name().unwrap()), &mut files);
            }
        }
    }
    assert!(
        files >= want,
        "only {files} source files in {}",
        src.display()
    );
    // A dot file: ripgrep skips it.
    std::fs::write(&done, files.to_string()).unwrap();
    files
}

/// The files below `dir` whose name ends in `ext`, sorted.
fn files_below(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for e in sorted(dir) {
        let p = e.path();
        if e.file_type().unwrap().is_dir() {
            files_below(&p, ext, out);
        } else if p.to_string_lossy().ends_with(ext) {
            out.push(p);
        }
    }
}

/// `at`: the files of `tree` ending in `ext`, joined and repeated to at
/// least `bytes`.
fn joined(tree: &Path, ext: &str, at: &Path, bytes: u64) {
    if std::fs::metadata(at).is_ok_and(|m| m.len() >= bytes) {
        return;
    }
    let mut files = Vec::new();
    files_below(tree, ext, &mut files);
    let mut all = Vec::new();
    while (all.len() as u64) < bytes {
        for f in &files {
            all.extend(std::fs::read(f).unwrap());
            all.push(b'\n');
        }
    }
    std::fs::create_dir_all(at.parent().unwrap()).unwrap();
    std::fs::write(at, all).unwrap();
}

fn programs(work: &Path) -> Vec<Program> {
    let tree = work.join("tree");
    let files = source_tree(&tree, 1500);
    let size = |p: &Path| {
        let mut all = Vec::new();
        files_below(p, "", &mut all);
        all.iter()
            .map(|f| std::fs::metadata(f).unwrap().len())
            .sum::<u64>()
    };
    let one = work.join("one");
    joined(&tree, ".rs", &one.join("all.rs"), 32 << 20);
    let md = work.join("md");
    joined(&tree, ".md", &md.join("all.md"), 4 << 20);
    let model = work.join("model");
    std::fs::create_dir_all(&model).unwrap();
    let rg = |what: String, data: &Path, target: &str| Program {
        what,
        p1: ripgrep(false),
        p2: ripgrep(true),
        args: args(&["--color", "never", "-c", r"fn\s+\w+", target]),
        data: data.to_path_buf(),
        stdin: None,
    };
    let mb = |b: u64| b as f64 / 1e6;
    vec![
        rg(
            format!("ripgrep 15.2, `rg -c 'fn\\s+\\w+'` over a source tree ({files} files, {:.0} MB)", mb(size(&tree))),
            &tree,
            "/data",
        ),
        rg(
            format!("ripgrep, the same over one file ({:.0} MB)", mb(size(&one))),
            &one,
            "/data/all.rs",
        ),
        Program {
            what: format!("pulldown-cmark 0.13, Markdown to HTML ({:.1} MB, stdin to stdout)", mb(size(&md))),
            p1: pulldown(false),
            p2: pulldown(true),
            args: Vec::new(),
            data: md.clone(),
            stdin: Some(md.join("all.md")),
        },
        Program {
            what: "tract-onnx 0.23: load an ONNX model (4 dense 256² layers), optimise, run it 50 times"
                .into(),
            p1: tract(false),
            p2: tract(true),
            args: args(&["run", "/data/mlp.onnx", "50"]),
            data: model,
            stdin: None,
        },
    ]
}

/// Adapts `p2` into `work`, once per run of the bench.
pub fn adapted(work: &Path, p2: &Path) -> PathBuf {
    let name = p2.file_stem().unwrap().to_string_lossy();
    let out = work.join(format!("{name}.adapted.wasm"));
    let input = std::fs::read(p2).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: run `make bench-programs` (or `make examples`)",
            p2.display()
        )
    });
    std::fs::write(
        &out,
        wasi_downlevel::adapt(&input, &Default::default())
            .unwrap()
            .wasm,
    )
    .unwrap();
    out
}

pub fn real_programs(work: &Path, reps: u64) {
    let work = work.join("programs");
    let all = programs(&work);
    // The model tract-run loads, written by the p1 build itself.
    let tract_p1 = Variant {
        wasm: tract(false),
        runtime: Some(Runtime::Wasmtime),
    };
    time(
        tract_p1.command(&work.join("model"), &args(&["model", "/data/mlp.onnx"])),
        None,
    );

    println!("## Real programs: the adapted p2 build / the p1 build of the same source\n");
    println!(
        "Both built from crates.io by `make bench-programs` (`cargo install --target wasm32-wasip1` and \
         `--target wasm32-wasip2`), process start-up included; (d): the p2 component natively on wasmtime.\n"
    );
    println!("| workload | runtime | p1 build s | adapted s | adapted / p1 | (d) / p1 |");
    println!("|---|---|---|---|---|---|");
    for p in &all {
        let a = adapted(&work, &p.p2);
        for rt in [
            Runtime::Wasmtime,
            Runtime::Iwasm,
            Runtime::Embedded,
            Runtime::Node,
        ] {
            let mut variants = vec![
                Variant {
                    wasm: p.p1.clone(),
                    runtime: Some(rt),
                },
                Variant {
                    wasm: a.clone(),
                    runtime: Some(rt),
                },
            ];
            if rt == Runtime::Wasmtime {
                variants.push(Variant {
                    wasm: p.p2.clone(),
                    runtime: None,
                });
            }
            let t = measure(&variants, &p.data, &p.args, p.stdin.as_deref(), reps);
            let r = |x: Duration| x.as_secs_f64() / t[0].as_secs_f64();
            println!(
                "| {} | {rt:?} | {:.3} | {:.3} | {:.3} | {} |",
                p.what,
                t[0].as_secs_f64(),
                t[1].as_secs_f64(),
                r(t[1]),
                t.get(2).map_or("-".into(), |d| format!("{:.3}", r(*d)))
            );
        }
    }
    println!();
}

/// jco transpile's output for `component`, under `.cache/jco/out` (where the
/// shim it imports resolves).
fn transpiled(component: &Path, name: &str) -> PathBuf {
    let jco = cache("jco");
    let out = jco.join("out").join(name);
    let status = Command::new(jco.join("node_modules/.bin/jco"))
        .arg("transpile")
        .arg(component)
        .arg("-o")
        .arg(&out)
        .args(["--name", name, "-q"])
        .status()
        .expect("jco: run `make bench-programs`");
    assert!(status.success(), "jco transpile {}", component.display());
    std::fs::copy(root().join("bench/jco-run.mjs"), jco.join("run.mjs")).unwrap();
    out.join(format!("{name}.js"))
}

/// Time and peak memory, medians of `reps` alternating runs of `cmds`.
fn time_memory(cmds: &[&dyn Fn() -> Command], reps: u64) -> Vec<(Duration, u64)> {
    let mut runs = vec![Vec::new(); cmds.len()];
    for _ in 0..reps {
        for (c, r) in cmds.iter().zip(&mut runs) {
            r.push(time_and_memory(c()));
        }
    }
    runs.into_iter()
        .map(|r| {
            let mut m: Vec<u64> = r.iter().map(|x| x.1).collect();
            m.sort();
            (median(r.iter().map(|x| x.0).collect()), m[m.len() / 2])
        })
        .collect()
}

pub fn jco(work: &Path, bench_p2: &Path, reps: u64) {
    let work = work.join("programs");
    let all = programs(&work);
    let node = find(Runtime::Node, None).unwrap();
    println!(
        "## On Node: adapted on `node:wasi` vs the peer, jco 1.35 transpile + preview2-shim 0.26\n"
    );
    println!("| workload | adapted: time, peak memory | jco: time, peak memory | jco / adapted: time, memory |");
    println!("|---|---|---|---|");
    let data = work.join("bench-data");
    std::fs::create_dir_all(&data).unwrap();
    let file = data.join("file.bin");
    std::fs::write(
        &file,
        (0..64u32 << 20)
            .map(|i| (i % 251) as u8)
            .collect::<Vec<u8>>(),
    )
    .unwrap();
    let bench = Program {
        what: "`bench read`: 64 MiB file, 64 KiB reads".into(),
        p1: PathBuf::new(),
        p2: bench_p2.to_path_buf(),
        args: args(&["read", "/data/file.bin", "65536"]),
        data,
        stdin: None,
    };
    for p in all.iter().take(1).chain([&bench]) {
        let a = adapted(&work, &p.p2);
        let name =
            p.p2.file_stem()
                .unwrap()
                .to_string_lossy()
                .replace('-', "_");
        let js = transpiled(&p.p2, &name);
        let adapted_cmd = || {
            Variant {
                wasm: a.clone(),
                runtime: Some(Runtime::Node),
            }
            .command(&p.data, &p.args)
        };
        let jco_cmd = || {
            let mut c = Command::new(&node);
            c.arg(cache("jco/run.mjs"))
                .arg(&js)
                .arg(format!("/data::{}", p.data.display()))
                .arg(&name)
                .args(&p.args);
            c
        };
        let r = time_memory(&[&adapted_cmd, &jco_cmd], reps);
        let cell = |(t, m): (Duration, u64)| {
            format!("{:.3} s, {:.0} MiB", t.as_secs_f64(), m as f64 / 1024.0)
        };
        println!(
            "| {} | {} | {} | {:.2}×, {:.2}× |",
            p.what,
            cell(r[0]),
            cell(r[1]),
            r[1].0.as_secs_f64() / r[0].0.as_secs_f64(),
            r[1].1 as f64 / r[0].1 as f64
        );
    }
    println!();
}

/// Adapt time per MB of code, small to big.
pub fn adapt_times(examples: &Path, reps: u64) {
    println!("## Adapt time (in process, median of {reps})\n");
    println!("| input | size | code | time | per MB of code |");
    println!("|---|---|---|---|---|");
    for (what, path) in [
        ("hello", examples.join("wasm32-wasip2/release/hello.wasm")),
        ("pulldown-cmark", pulldown(true)),
        ("ripgrep", ripgrep(true)),
        ("tract-onnx (tract-run)", tract(true)),
    ] {
        let Ok(bytes) = std::fs::read(&path) else {
            println!("| {what} | missing: run `make bench-programs` | | | |");
            continue;
        };
        let code = component_code(&bytes);
        let t = median(
            (0..reps)
                .map(|_| {
                    let start = Instant::now();
                    wasi_downlevel::adapt(&bytes, &Default::default()).unwrap();
                    start.elapsed()
                })
                .collect(),
        );
        let mb = code as f64 / 1e6;
        println!(
            "| {what} | {:.2} MB | {:.2} MB | {:.1} ms | {:.1} ms |",
            bytes.len() as f64 / 1e6,
            mb,
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() * 1e3 / mb
        );
    }
    println!();
}

/// The bytes of function bodies in a component's core modules.
fn component_code(wasm: &[u8]) -> usize {
    wasmparser::Parser::new(0)
        .parse_all(wasm)
        .filter_map(|p| match p {
            Ok(wasmparser::Payload::CodeSectionStart { size, .. }) => Some(size as usize),
            _ => None,
        })
        .sum()
}

/// `wasi-downlevel run` of a p2 component (adapted once, then from the
/// cache) against the p1 build run directly on the same runtime.
pub fn run_cache(work: &Path, reps: u64) {
    println!("## Start-up through `run`: the p2 component from `run`'s cache vs the p1 build run directly\n");
    println!(
        "| program | runtime | p1 build direct | `wasi-downlevel run` of the p2 build | ratio |"
    );
    println!("|---|---|---|---|---|");
    let model = work.join("programs/model");
    for (what, p1, p2, a, data) in [
        (
            "ripgrep --version",
            ripgrep(false),
            ripgrep(true),
            args(&["--version"]),
            work.join("programs"),
        ),
        (
            "tract-run run (1 inference)",
            tract(false),
            tract(true),
            args(&["run", "/data/mlp.onnx", "1"]),
            model,
        ),
    ] {
        for rt in [Runtime::Wasmtime, Runtime::Iwasm] {
            let direct = Variant {
                wasm: p1.clone(),
                runtime: Some(rt),
            };
            let through = |_: &Path, a: &[String]| {
                let mut c = Command::new(tool());
                c.args(["run", "--runtime", rt.name(), "--dir"])
                    .arg(format!("{}::/data", data.display()))
                    .arg(&p2)
                    .args(a);
                c
            };
            // The first run fills the cache.
            time(through(&data, &a), None);
            let mut t = [Vec::new(), Vec::new()];
            for _ in 0..reps {
                t[0].push(time(direct.command(&data, &a), None));
                t[1].push(time(through(&data, &a), None));
            }
            let (d, r) = (median(t[0].clone()), median(t[1].clone()));
            println!(
                "| {what} | {rt:?} | {:.0} ms | {:.0} ms | {:.3} |",
                d.as_secs_f64() * 1e3,
                r.as_secs_f64() * 1e3,
                r.as_secs_f64() / d.as_secs_f64()
            );
        }
    }
    println!();
}

/// The date, the machine and the runtimes' versions, for the header.
pub fn machine() -> String {
    let out = |c: &mut Command| {
        c.output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default()
    };
    let date = out(Command::new("date").arg("-u").arg("+%Y-%m-%d"));
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu = cpuinfo
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem_gb = meminfo
        .lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|m| m.trim().trim_end_matches(" kB").parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let version = |rt: Runtime, flag: &str| {
        find(rt, None).map_or("missing".into(), |p| out(Command::new(p).arg(flag)))
    };
    format!(
        "Measured {date} on {cpu}, {cores} cores, {mem_gb:.0} GiB; {}; {}; node {}",
        version(Runtime::Wasmtime, "--version"),
        version(Runtime::Iwasm, "--version"),
        version(Runtime::Node, "--version")
    )
}
